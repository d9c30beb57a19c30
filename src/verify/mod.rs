//! `verify`: proves the chain DNS -> load balancer -> web -> app -> database on the live hosts,
//! with checks generated from the same desired state as `plan` (no test files to keep in step).
//! Each check names what it depends on; when one fails, the checks that depend on it are
//! reported as blocked, so the report names the cause once.

mod access;
mod checks;
mod listen;
mod reach;
mod replica;
mod run;
mod stat;
mod tls;
mod vip;

pub use checks::checks;
pub use reach::Expect;
pub use run::{Context, run};

use crate::net::Network;
use serde::Serialize;

/// An address as it goes in a URL or `host:port`: IPv6 in brackets.
fn url_host(address: &str) -> String {
    if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_string()
    }
}

/// The id of a host's SSH check, which most of its checks need.
fn ssh(host: &str) -> String {
    format!("ssh:{host}")
}

/// Where in the chain a check sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hop {
    Dns,
    Ssh,
    Services,
    Files,
    Firewall,
    Listening,
    Database,
    DatabaseAccess,
    Web,
    WebAccess,
    LoadBalancer,
    Site,
    Tls,
}

impl Hop {
    pub fn describe(self) -> &'static str {
        match self {
            Hop::Dns => "DNS",
            Hop::Ssh => "SSH",
            Hop::Services => "services",
            Hop::Files => "files",
            Hop::Firewall => "firewall",
            Hop::Listening => "listening",
            Hop::Database => "database",
            Hop::DatabaseAccess => "database access",
            Hop::Web => "web -> app -> database",
            Hop::WebAccess => "web access",
            Hop::LoadBalancer => "load balancer",
            Hop::Site => "site",
            Hop::Tls => "TLS",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// Not run, or not believed: something it depends on failed.
    Blocked,
    /// Not checked by this version (never counted as passed).
    NotChecked,
}

/// What a check does, on which host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The host answers over SSH (the connection itself).
    Connect,
    /// Every managed service is enabled and active (the plan's probe).
    Services,
    /// Every managed file matches: content, owner, mode (the plan's probe).
    Files,
    /// The host's firewall is loaded: its nftables table exists and the unit that loads it is
    /// active (read by the plan's probe).
    FirewallLoaded,
    /// Nothing listens beyond loopback on a port the host's firewall does not admit (`ss`, read
    /// by the plan's probe).
    Listening,
    /// `SELECT 1` over the database host's local socket.
    DatabaseAnswers,
    /// A replica follows the primary with both threads running (the plan's probe, with the
    /// primary's GTID position when the primary was probed too).
    Replication,
    /// From the check's host: a TCP connection to `address:port` meets `expect`. When the
    /// server `speaks_first` (a database greets or refuses a client before it says anything),
    /// what it says tells the server's refusal from the firewall's.
    Reach {
        address: String,
        port: u16,
        expect: Expect,
        speaks_first: bool,
    },
    /// From this machine: a TCP connection to `address:port` is refused by the host's firewall,
    /// which admits it only from `admitted` (when this machine's address is among them, there
    /// is no refusal to see from here: not checked).
    ReachFromHere {
        address: String,
        port: u16,
        admitted: Vec<Network>,
    },
    /// From the host: GET `url` with `Host: host_header` answers 200; with `resolve`
    /// (`NAME:PORT:ADDRESS`), the URL's name is reached at that address (the handshake names it).
    Http {
        url: String,
        host_header: String,
        resolve: Option<String>,
    },
    /// On the load-balancer host: the server is UP with a passing layer-7 check.
    Backend {
        socket: String,
        backend: String,
        server: String,
    },
    /// On the load-balancer host: `requests` requests to `url` all succeed, served by every
    /// server of `servers` that HAProxy has UP.
    Spread {
        url: String,
        host_header: String,
        socket: String,
        servers: Vec<(String, String)>,
        requests: usize,
    },
    /// From this machine: the zone's authoritative server answers `name` with exactly
    /// `address` (an A record).
    Record { name: String, address: String },
    /// From this machine: an HTTPS handshake with the load balancer at `address:port` as `name`
    /// succeeds, its chain trusted (by `trust`, or this machine's CAs) and its names covering
    /// `name`; the evidence says the certificate's names and days left.
    Tls {
        name: String,
        address: String,
        port: u16,
        trust: Option<String>,
    },
    /// Not checked: the topology gives no way to (records managed by hand).
    Unsupported { why: String },
    /// On a load balancer of a VIP: keepalived's state agrees with whether it holds the VIP
    /// (read by the plan's probe).
    VipState,
    /// Exactly one of these load balancers holds the VIP (their probes).
    VipHolders { hosts: Vec<String> },
}

/// One check: its id (stable, for JUnit and for dependencies), where it runs, what it proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub id: String,
    pub hop: Hop,
    /// The host the check runs on (or about, for `Connect`).
    pub host: String,
    pub title: String,
    pub probe: Probe,
    /// Ids of the checks this one needs to be believed.
    pub needs: Vec<String>,
    /// Ids of which at least one must hold (the site needs one serving backend, not all).
    pub needs_one_of: Vec<String>,
}

impl Check {
    /// Made from this machine, on no host's connection.
    pub fn from_here(&self) -> bool {
        matches!(
            self.probe,
            Probe::Unsupported { .. }
                | Probe::Record { .. }
                | Probe::Tls { .. }
                | Probe::ReachFromHere { .. }
        )
    }
}

/// A check's result.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub id: String,
    pub hop: Hop,
    pub host: String,
    pub title: String,
    pub status: Status,
    pub evidence: String,
    /// For a blocked check: the failed check that blocks it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// For a load-balancer check that read it: the server's status as HAProxy's `show stat`
    /// gives it (`UP`, `DRAIN`, `MAINT`, `DOWN 1/3`...), so a drained server can be told from a
    /// dead one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lb_status: Option<String>,
}

impl Outcome {
    /// What the check is about: its id without the hop (`web-02` in `ssh:web-02`,
    /// `lb-01/web/web-02` in `load-balancer:lb-01/web/web-02`).
    pub fn subject(&self) -> &str {
        self.id.split_once(':').map_or(&self.id, |(_, rest)| rest)
    }
}

/// Turns each check that depends on a failed or blocked one into `Blocked`, naming the first
/// failure at the root of it. `outcomes` are in dependency order (a check after its needs).
pub fn resolve(checks: &[Check], outcomes: &mut [Outcome]) {
    for i in 0..outcomes.len() {
        let root_of = |need: &String| {
            let o = outcomes[..i].iter().find(|o| &o.id == need)?;
            match o.status {
                Status::Fail => Some(o.id.clone()),
                Status::Blocked => o.blocked_by.clone(),
                _ => None,
            }
        };
        let one_of = &checks[i].needs_one_of;
        let root = checks[i].needs.iter().find_map(root_of).or_else(|| {
            let roots: Vec<String> = one_of.iter().filter_map(root_of).collect();
            (!one_of.is_empty() && roots.len() == one_of.len()).then(|| roots[0].clone())
        });
        if let Some(root) = root {
            let o = &mut outcomes[i];
            o.status = Status::Blocked;
            o.evidence = format!("blocked by {root}");
            o.blocked_by = Some(root);
        }
    }
}

/// Every check passed (checks this version cannot run do not count against it).
pub fn passed(outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .all(|o| matches!(o.status, Status::Pass | Status::NotChecked))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, needs: &[&str]) -> Check {
        Check {
            id: id.into(),
            hop: Hop::Ssh,
            host: "h".into(),
            title: id.into(),
            probe: Probe::Connect,
            needs: needs.iter().map(|s| s.to_string()).collect(),
            needs_one_of: Vec::new(),
        }
    }

    fn outcome(id: &str, status: Status) -> Outcome {
        Outcome {
            id: id.into(),
            hop: Hop::Ssh,
            host: "h".into(),
            title: id.into(),
            status,
            evidence: String::new(),
            blocked_by: None,
            lb_status: None,
        }
    }

    #[test]
    fn a_failure_blocks_what_depends_on_it_and_is_named_once() {
        let checks = [
            check("ssh:db", &[]),
            check("db:db", &["ssh:db"]),
            check("web:w1", &["db:db"]),
            check("lb:w1", &["web:w1"]),
            check("ssh:w2", &[]),
        ];
        let mut outcomes = vec![
            outcome("ssh:db", Status::Pass),
            outcome("db:db", Status::Fail),
            outcome("web:w1", Status::Fail),
            outcome("lb:w1", Status::Fail),
            outcome("ssh:w2", Status::Pass),
        ];
        resolve(&checks, &mut outcomes);
        let status: Vec<Status> = outcomes.iter().map(|o| o.status).collect();
        assert_eq!(
            status,
            [
                Status::Pass,
                Status::Fail,
                Status::Blocked,
                Status::Blocked,
                Status::Pass
            ]
        );
        assert_eq!(outcomes[3].blocked_by.as_deref(), Some("db:db"));
        assert!(!passed(&outcomes));
    }

    #[test]
    fn the_site_is_blocked_only_when_no_backend_holds() {
        let mut site = check("site", &[]);
        site.needs_one_of = vec!["b1".into(), "b2".into()];
        let checks = [check("b1", &[]), check("b2", &[]), site];
        let mut one_down = vec![
            outcome("b1", Status::Fail),
            outcome("b2", Status::Pass),
            outcome("site", Status::Pass),
        ];
        resolve(&checks, &mut one_down);
        assert_eq!(one_down[2].status, Status::Pass);
        let mut all_down = vec![
            outcome("b1", Status::Fail),
            outcome("b2", Status::Fail),
            outcome("site", Status::Fail),
        ];
        resolve(&checks, &mut all_down);
        assert_eq!(all_down[2].status, Status::Blocked);
        assert_eq!(all_down[2].blocked_by.as_deref(), Some("b1"));
    }
}
