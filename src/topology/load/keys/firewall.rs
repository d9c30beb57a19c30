//! The keys of `firewall`.

use super::{Absent, Key, Section, Shape};
use crate::topology::load::grammar::{HOST_NAME, NETWORK};

pub const FIREWALL: Section = Section {
    name: "firewall",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "enabled",
            shape: Shape::Bool,
            default: Absent::Value("true"),
            ty: "bool",
            meaning: "Every host gets an nftables table (`inet foobar_infra`) that admits what its \
                      roles serve, each from whom the topology says, and refuses everything \
                      else. `false` leaves the hosts' firewalls alone (a table this tool loaded \
                      stays until removed by hand).",
        },
        Key {
            name: "admin",
            shape: Shape::List {
                item: &Shape::AnyOf(&[Shape::Text(NETWORK), Shape::Text(HOST_NAME)]),
                unique: true,
            },
            default: Absent::Derived("everywhere (`validate` warns)"),
            ty: "list of IP addresses, networks (`10.0.0.0/8`) or host names",
            meaning: "Where SSH is admitted from: the operator's machines, CI runners, a jump \
                      host. `apply` refuses a firewall that would refuse its own SSH connection \
                      to a host.",
        },
    ],
};
