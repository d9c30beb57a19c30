//! The checks a host's firewall implies, from `Desired` alone: the firewall is loaded; nothing
//! listens beyond loopback on a port it does not admit; and the database and web ports are
//! tried from every other host (and from this machine): admitted where the firewall admits
//! them, refused at the network everywhere else. Without a firewall, the database keeps its
//! account-level proof: it greets its clients and refuses a load balancer by its host list.

use super::ssh;
use super::{Check, Expect, Hop, Probe};
use crate::desired::{DatabaseState, HealthCheck, HostState};
use crate::firewall::{HostFirewall, Proto, TABLE, UNIT};
use crate::net::Network;
use std::net::IpAddr;

/// How the ids of checks made from this machine name it (a host name has no parentheses).
pub const HERE: &str = "(here)";

pub fn firewall_id(host: &str) -> String {
    format!("firewall:{host}")
}

fn check(id: String, hop: Hop, host: &str, title: String, probe: Probe) -> Check {
    Check {
        id,
        hop,
        host: host.to_string(),
        title,
        probe,
        needs: Vec::new(),
        needs_one_of: Vec::new(),
    }
}

/// Whom `firewall` admits to TCP `port`: `None` when everyone (there is no refusal to prove).
fn admitted(firewall: &HostFirewall, port: u16) -> Option<Vec<Network>> {
    let mut from = Vec::new();
    for r in firewall
        .rules
        .iter()
        .filter(|r| r.proto == Proto::Tcp && r.port == port)
    {
        from.extend(r.from.as_ref()?.iter().copied());
    }
    Some(from)
}

fn words(networks: &[Network]) -> String {
    if networks.is_empty() {
        return "no one".into();
    }
    networks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The other hosts a connection to `to` can be tried from, with their addresses (of the same
/// family as `to`'s: the source address of another is not known).
fn peers<'a>(to: &HostState, hosts: &[&'a HostState]) -> Vec<(&'a HostState, IpAddr)> {
    let Ok(target) = to.address.parse::<IpAddr>() else {
        return Vec::new();
    };
    hosts
        .iter()
        .filter(|h| h.name != to.name)
        .filter_map(|h| Some((*h, h.address.parse::<IpAddr>().ok()?)))
        .filter(|(_, ip)| ip.is_ipv4() == target.is_ipv4())
        .collect()
}

/// The firewall of `h` is loaded, and nothing listens beyond what it admits; without a
/// firewall, the listeners are not checked (nothing declares what may listen).
pub fn host(h: &HostState) -> Vec<Check> {
    let Some(_) = &h.firewall else {
        return vec![check(
            format!("listening:{}", h.name),
            Hop::Listening,
            &h.name,
            format!("nothing listens on {} but what its firewall admits", h.name),
            Probe::Unsupported {
                why: format!(
                    "the topology gives {} no firewall (firewall.enabled: false): nothing declares what may listen on it",
                    h.name
                ),
            },
        )];
    };
    let mut loaded = check(
        firewall_id(&h.name),
        Hop::Firewall,
        &h.name,
        format!(
            "the firewall of {} is loaded (table inet {TABLE}, {UNIT} active)",
            h.name
        ),
        Probe::FirewallLoaded,
    );
    loaded.needs = vec![ssh(&h.name)];
    let mut listening = check(
        format!("listening:{}", h.name),
        Hop::Listening,
        &h.name,
        format!(
            "nothing listens on {} beyond loopback but on ports its firewall admits",
            h.name
        ),
        Probe::Listening,
    );
    listening.needs = vec![ssh(&h.name)];
    vec![loaded, listening]
}

/// The database port of `d` tried from the other hosts: with a firewall, refused at the
/// network from every host it does not admit, greeted from its clients (and refused by the
/// host list from a host the firewall admits but the user does not name); without one, greeted
/// from its clients and refused by the host list from the load balancers (`lbs`).
pub fn database(
    d: &HostState,
    db: &DatabaseState,
    hosts: &[&HostState],
    db_id: &str,
    lbs: &[&str],
) -> Vec<Check> {
    let mut out = Vec::new();
    // The other database hosts hold the replication account: the server greets them too.
    let peer = |h: &HostState| {
        db.replication
            .as_ref()
            .is_some_and(|r| r.peers.contains(&h.address))
    };
    let at = |h: &HostState, expect: Expect| {
        let title = match expect {
            Expect::Greets if peer(h) => format!(
                "the database accepts {} (a database host, for replication)",
                h.name
            ),
            Expect::Greets => format!("the database accepts {} (an app host)", h.name),
            Expect::RefusedByServer => {
                format!("the database refuses {} (not an app host)", h.name)
            }
            _ => format!(
                "the firewall of {} refuses {} on the database port {} (not a client of it)",
                d.name, h.name, db.port
            ),
        };
        let mut c = check(
            format!("database-access:{}", h.name),
            Hop::DatabaseAccess,
            &h.name,
            title,
            Probe::Reach {
                address: d.address.clone(),
                port: db.port,
                expect,
                speaks_first: true,
            },
        );
        c.needs = if expect == Expect::RefusedByFirewall {
            vec![ssh(&h.name), firewall_id(&d.name)]
        } else {
            vec![ssh(&h.name), db_id.to_string()]
        };
        c
    };
    let client = |h: &HostState| db.clients.contains(&h.address) || peer(h);
    let Some(firewall) = &d.firewall else {
        for h in hosts {
            if client(h) {
                out.push(at(h, Expect::Greets));
            } else if lbs.contains(&h.name.as_str()) {
                out.push(at(h, Expect::RefusedByServer));
            }
        }
        return out;
    };
    // On the database host itself a client comes over loopback, which is always admitted.
    if client(d) && hosts.iter().any(|h| h.name == d.name) {
        out.push(at(d, Expect::Greets));
    }
    for (h, ip) in peers(d, hosts) {
        out.push(at(
            h,
            match (firewall.admits(Proto::Tcp, db.port, ip), client(h)) {
                (false, _) => Expect::RefusedByFirewall,
                (true, true) => Expect::Greets,
                (true, false) => Expect::RefusedByServer,
            },
        ));
    }
    if let Some(from) = admitted(firewall, db.port) {
        let mut c = check(
            format!("database-access:{HERE}"),
            Hop::DatabaseAccess,
            &d.name,
            format!(
                "the firewall of {} refuses this machine on the database port {} (it admits {})",
                d.name,
                db.port,
                words(&from)
            ),
            Probe::ReachFromHere {
                address: d.address.clone(),
                port: db.port,
                admitted: from,
            },
        );
        c.needs = vec![firewall_id(&d.name)];
        out.push(c);
    }
    out
}

/// The web port of each web host with a firewall that admits it only from some (the load
/// balancers), tried from every other host and from this machine.
pub fn web(hosts: &[&HostState]) -> Vec<Check> {
    let mut out = Vec::new();
    for w in hosts {
        let (Some(firewall), Some(port)) = (
            &w.firewall,
            w.health.iter().find_map(|c| match c {
                HealthCheck::Web(http) => Some(http.port),
                _ => None,
            }),
        ) else {
            continue;
        };
        let Some(from) = admitted(firewall, port) else {
            continue;
        };
        let server = if w.services.is_empty() {
            ssh(&w.name)
        } else {
            format!("services:{}", w.name)
        };
        for (s, ip) in peers(w, hosts) {
            let admits = firewall.admits(Proto::Tcp, port, ip);
            let mut c = check(
                format!("web-access:{}/{}", w.name, s.name),
                Hop::WebAccess,
                &s.name,
                if admits {
                    format!(
                        "{} accepts {} on the web port {port} (its firewall admits it)",
                        w.name, s.name
                    )
                } else {
                    format!(
                        "the firewall of {} refuses {} on the web port {port} (it admits {})",
                        w.name,
                        s.name,
                        words(&from)
                    )
                },
                Probe::Reach {
                    address: w.address.clone(),
                    port,
                    expect: if admits {
                        Expect::Admitted
                    } else {
                        Expect::RefusedByFirewall
                    },
                    speaks_first: false,
                },
            );
            c.needs = if admits {
                vec![ssh(&s.name), server.clone()]
            } else {
                vec![ssh(&s.name), firewall_id(&w.name)]
            };
            out.push(c);
        }
        let mut c = check(
            format!("web-access:{}/{HERE}", w.name),
            Hop::WebAccess,
            &w.name,
            format!(
                "the firewall of {} refuses this machine on the web port {port} (it admits {})",
                w.name,
                words(&from)
            ),
            Probe::ReachFromHere {
                address: w.address.clone(),
                port,
                admitted: from,
            },
        );
        c.needs = vec![firewall_id(&w.name)];
        out.push(c);
    }
    out
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
