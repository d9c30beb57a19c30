//! Table tests of `host_plan`: desired x observed -> changes, without a host.

use super::*;
