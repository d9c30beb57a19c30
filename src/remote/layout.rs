//! Where foobar-infra keeps its own things on a host. Every script gets these as shell
//! variables of the same names (see `script::prologue`), so the paths are written once.

/// The tool's records: lock, schema markers, pending actions, backups.
pub const STATE_DIR: &str = "/var/lib/foobar-infra";
/// Service actions owed by changes already made, kept until the services step has done them, so
/// that an interrupted or failed run does not lose a reload: the next probe reads them back.
pub const PENDING: &str = "/var/lib/foobar-infra/pending";
/// Live files as they were before this tool replaced them, for rollback.
pub const BACKUP_DIR: &str = "/var/lib/foobar-infra/backup";
/// Suffix of a staged file, next to its target so that the swap is one rename.
pub const STAGED: &str = ".foobar-new";
/// The copy of nginx.conf that includes the staged files, for `nginx -t`.
pub const NGINX_CHECK: &str = "/etc/nginx/.foobar-check.conf";
