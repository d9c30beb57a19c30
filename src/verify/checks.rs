//! The checks a desired state implies, in dependency order (a check after what it needs).

use super::{Check, Hop, Probe, access, ssh, url_host};
use crate::desired::{Desired, HealthCheck, HostState};

/// Every check for the hosts named in `limit` (all when empty); the site-wide checks need the
/// load balancer and the database among them.
pub fn checks(desired: &Desired, limit: &[String]) -> Vec<Check> {
    let hosts: Vec<&HostState> = desired
        .hosts
        .iter()
        .filter(|h| limit.is_empty() || limit.contains(&h.name))
        .collect();
    let mut out = Vec::new();
    for h in &hosts {
        out.push(Check {
            id: ssh(&h.name),
            hop: Hop::Ssh,
            host: h.name.clone(),
            title: format!("{} ({}) answers over SSH", h.name, h.address),
            probe: Probe::Connect,
            needs: Vec::new(),
            needs_one_of: Vec::new(),
        });
    }
    for h in &hosts {
        if !h.services.is_empty() {
            out.push(Check {
                id: format!("services:{}", h.name),
                hop: Hop::Services,
                host: h.name.clone(),
                title: format!("every managed service of {} is enabled and active", h.name),
                probe: Probe::Services,
                needs: vec![ssh(&h.name)],
                needs_one_of: Vec::new(),
            });
        }
        if !h.files.is_empty() {
            out.push(Check {
                id: format!("files:{}", h.name),
                hop: Hop::Files,
                host: h.name.clone(),
                title: format!("every managed file of {} matches", h.name),
                probe: Probe::Files,
                needs: vec![ssh(&h.name)],
                needs_one_of: Vec::new(),
            });
        }
        out.extend(access::host(h));
    }
    // The primary's database: the one the app servers use.
    let db_host = hosts.iter().find(|h| {
        h.database
            .as_ref()
            .is_some_and(|d| d.replication.as_ref().is_none_or(|r| !r.replica))
    });
    let mut db_id = None;
    if let Some(d) = db_host {
        let id = format!("database:{}", d.name);
        out.push(Check {
            id: id.clone(),
            hop: Hop::Database,
            host: d.name.clone(),
            title: format!("the database on {} answers", d.name),
            probe: Probe::DatabaseAnswers,
            needs: if d.services.is_empty() {
                vec![ssh(&d.name)]
            } else {
                vec![ssh(&d.name), format!("services:{}", d.name)]
            },
            needs_one_of: Vec::new(),
        });
        db_id = Some(id);
    }
    // Each replica follows the primary, both threads running.
    for r in &hosts {
        let Some(part) = r.database.as_ref().and_then(|d| d.replication.as_ref()) else {
            continue;
        };
        if !part.replica {
            continue;
        }
        out.push(Check {
            id: format!("replication:{}", r.name),
            hop: Hop::Database,
            host: r.name.clone(),
            title: format!(
                "{} replicates from the primary {}: IO and SQL threads running",
                r.name, part.primary
            ),
            probe: Probe::Replication,
            needs: vec![ssh(&r.name), format!("services:{}", r.name)],
            needs_one_of: Vec::new(),
        });
    }
    // The site as a client reaches it: over HTTPS when the load balancer serves it.
    let lbs: Vec<(&HostState, u16, String, &str)> = hosts
        .iter()
        .filter_map(|h| {
            h.health.iter().find_map(|c| match c {
                HealthCheck::LoadBalancer(http) => Some((
                    *h,
                    http.port,
                    http.host_header.clone(),
                    if http.tls { "https" } else { "http" },
                )),
                _ => None,
            })
        })
        .collect();
    if let (Some(d), Some(db_id)) = (db_host, &db_id)
        && let Some(db) = &d.database
    {
        let lb_names: Vec<&str> = lbs.iter().map(|(l, _, _, _)| l.name.as_str()).collect();
        out.extend(access::database(d, db, &hosts, db_id, &lb_names));
    }
    let from = lbs.first().map(|(l, _, _, _)| *l);
    for w in &hosts {
        let Some(http) = w.health.iter().find_map(|c| match c {
            HealthCheck::Web(http) => Some(http),
            _ => None,
        }) else {
            continue;
        };
        let runs_on = from.unwrap_or(w);
        let mut needs = vec![ssh(&runs_on.name), ssh(&w.name)];
        needs.dedup();
        needs.extend(db_id.clone());
        out.push(Check {
            id: format!("web:{}", w.name),
            hop: Hop::Web,
            host: runs_on.name.clone(),
            title: format!(
                "{} answers 200 on {} from {} (its app reaching the database)",
                w.name, http.path, runs_on.name
            ),
            probe: Probe::Http {
                url: format!(
                    "http://{}:{}{}",
                    if runs_on.name == w.name {
                        "127.0.0.1".to_string()
                    } else {
                        url_host(&w.address)
                    },
                    http.port,
                    http.path
                ),
                host_header: http.host_header.clone(),
                resolve: None,
            },
            needs,
            needs_one_of: Vec::new(),
        });
    }
    out.extend(access::web(&hosts));
    for (lb, port, host_header, scheme) in &lbs {
        let mut backend_checks = Vec::new();
        let mut servers = Vec::new();
        let mut socket = String::new();
        for w in &desired.hosts {
            for m in w.memberships.iter().filter(|m| m.lb_host == lb.name) {
                socket = m.admin_socket.clone();
                // Requests to the site go to the default backend; groups serve their routes.
                if m.backend == "web" {
                    servers.push((m.backend.clone(), m.server.clone()));
                }
                if !hosts.iter().any(|h| h.name == w.name) {
                    continue;
                }
                let id = format!("load-balancer:{}/{}/{}", lb.name, m.backend, m.server);
                backend_checks.push(id.clone());
                out.push(Check {
                    id,
                    hop: Hop::LoadBalancer,
                    host: lb.name.clone(),
                    title: format!(
                        "{} has {} UP in backend {} with a passing check",
                        lb.name, m.server, m.backend
                    ),
                    probe: Probe::Backend {
                        socket: m.admin_socket.clone(),
                        backend: m.backend.clone(),
                        server: m.server.clone(),
                    },
                    needs: vec![ssh(&lb.name), format!("web:{}", m.server)],
                    needs_one_of: Vec::new(),
                });
            }
        }
        let requests = (servers.len() * 3).max(3);
        // The handshake as a client makes it, from here; the site's requests below then only
        // need the connection (their chain is this check's).
        if let Some(https) = desired.https.as_ref().filter(|_| *scheme == "https") {
            out.push(Check {
                id: format!("tls:{}", lb.name),
                hop: Hop::Tls,
                host: lb.name.clone(),
                title: format!(
                    "{} presents a certificate for {} that the client trusts",
                    lb.name, https.name
                ),
                probe: Probe::Tls {
                    name: https.name.clone(),
                    address: lb.address.clone(),
                    port: https.port,
                    trust: https.trust.clone(),
                },
                needs: Vec::new(),
                needs_one_of: Vec::new(),
            });
        }
        out.push(Check {
            id: format!("site:{}", lb.name),
            hop: Hop::Site,
            host: lb.name.clone(),
            title: format!(
                "{} answers through {} and every healthy server takes requests",
                host_header, lb.name
            ),
            probe: Probe::Spread {
                url: if *scheme == "https" {
                    let name = desired.https.as_ref().map_or(host_header, |h| &h.name);
                    format!("https://{name}:{port}/")
                } else {
                    format!("http://{}:{port}/", url_host(&lb.address))
                },
                host_header: host_header.clone(),
                socket,
                servers,
                requests,
            },
            needs: vec![ssh(&lb.name)],
            // Served while one backend server holds; blocked, not failed, when none does.
            needs_one_of: backend_checks,
        });
    }
    out.extend(super::vip::checks(desired, &hosts));
    if let Some(zone) = &desired.dns {
        for r in &zone.records {
            out.push(Check {
                id: format!("dns:{}", r.fqdn),
                hop: Hop::Dns,
                host: String::new(),
                title: format!(
                    "{} resolves to {} at the authoritative server",
                    r.fqdn, r.address
                ),
                probe: if zone.server.is_some() {
                    Probe::Record {
                        name: r.fqdn.clone(),
                        address: r.address.clone(),
                    }
                } else {
                    Probe::Unsupported {
                        why: "dns.provider is zone-file: the records are served by whatever serves the rendered zone file".into(),
                    }
                },
                needs: Vec::new(),
                needs_one_of: Vec::new(),
            });
        }
    }
    // Backends reference web checks declared before them; the dns checks need nothing.
    out
}
