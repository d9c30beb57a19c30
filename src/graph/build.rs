//! Topology -> graph: DNS records and name servers, the load balancers' floating address (the
//! hosts that may hold it, with their priorities), load balancers (ports, algorithm, health
//! check), their backends and groups (reached by default or by route), every web/app server
//! with its weight in each backend, and the database with the hosts that may reach it.

use super::{Cluster, Edge, EdgeKind, Graph, Kind, Node};
use crate::topology::check::resolve_servers;
use crate::topology::{AppKind, Engine, Host, LoadBalancer, Role, Target, Topology, Vip};

/// The weight HAProxy gives a server the topology gives none.
const DEFAULT_WEIGHT: u32 = 100;

fn node(id: String, kind: Kind, host: Option<&Host>, title: String, lines: Vec<String>) -> Node {
    Node {
        id,
        kind,
        host: host.map(|h| h.name.value.clone()),
        title,
        lines,
        state: None,
        notes: Vec::new(),
        reason: None,
    }
}

fn edge(from: &str, to: &str, kind: EdgeKind, label: Option<String>) -> Edge {
    Edge {
        from: from.to_string(),
        to: to.to_string(),
        kind,
        label,
        idle: false,
        state: None,
        notes: Vec::new(),
    }
}

/// The node ids a host gets, one per part of the stack it runs.
pub fn lb_id(host: &str) -> String {
    format!("lb:{host}")
}
pub fn server_id(host: &str) -> String {
    format!("server:{host}")
}
pub fn backend_id(backend: &str) -> String {
    format!("backend:{backend}")
}
pub fn db_id(host: &str) -> String {
    format!("db:{host}")
}
pub fn record_id(fqdn: &str) -> String {
    format!("dns:{fqdn}")
}
pub fn vip_id(address: &str) -> String {
    format!("vip:{address}")
}
fn ns_id(host: &str) -> String {
    format!("ns:{host}")
}
fn idle_id(host: &str) -> String {
    format!("host:{host}")
}

fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// What runs on a web/app host: Nginx and the application server.
fn server_lines(t: &Topology, h: &Host) -> Vec<String> {
    let mut lines = vec![h.address.value.to_string()];
    if h.has(Role::Web)
        && let Some(w) = &t.web
    {
        lines.push(format!("Nginx :{}", w.listen.value));
    }
    if h.has(Role::App)
        && let Some(a) = &t.app
    {
        let kind = match a.kind.value {
            AppKind::Gunicorn => "gunicorn".to_string(),
            AppKind::PhpFpm => format!("php{}-fpm", a.php_version),
            AppKind::Command => "command".to_string(),
        };
        lines.push(format!("{kind} on {}", a.listen.value.to_endpoint()));
    }
    lines
}

/// The graph of a topology that passed its checks.
pub fn build(t: &Topology) -> Graph {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut clusters = Vec::new();

    // DNS: the records, and the hosts that serve the zone, framed as the zone.
    let name_servers: Vec<&Host> = t.hosts_with(Role::Dns).collect();
    if let Some(dns) = &t.dns {
        let zone = dns.zone.value.trim_end_matches('.');
        let mut members = Vec::new();
        for r in &dns.records {
            let fqdn = Topology::record_fqdn(&dns.zone.value, &r.name.value);
            let (address, target) = match &r.target.value {
                Target::Address(ip) => (ip.to_string(), None),
                Target::Host(name) => match t.host(name) {
                    Some(h) => (h.address.value.to_string(), Some(h)),
                    None => (name.clone(), None),
                },
            };
            let vip = vip_of(t).filter(|v| *v == address);
            let id = record_id(&fqdn);
            nodes.push(node(
                id.clone(),
                Kind::Record,
                None,
                fqdn,
                vec![format!("A {address}, TTL {}", r.ttl.unwrap_or(dns.ttl))],
            ));
            if let Some(h) = target {
                let to = host_node(t, h, &[Role::Lb, Role::Web, Role::App, Role::Db, Role::Dns]);
                edges.push(edge(&id, &to, EdgeKind::Resolves, None));
            } else if let Some(vip) = vip {
                edges.push(edge(&id, &vip_id(&vip), EdgeKind::Resolves, None));
            }
            members.push(id);
        }
        for h in &name_servers {
            members.push(ns_id(&h.name.value));
        }
        clusters.push(Cluster {
            id: format!("zone:{zone}"),
            label: format!("DNS zone {zone}"),
            nodes: members,
        });
    }
    for h in &name_servers {
        let zone = t.dns.as_ref().map_or_else(
            || "no dns section: serves no zone".to_string(),
            |d| format!("BIND, serves {}", d.zone.value.trim_end_matches('.')),
        );
        nodes.push(node(
            ns_id(&h.name.value),
            Kind::NameServer,
            Some(h),
            h.name.value.clone(),
            vec![h.address.value.to_string(), zone],
        ));
    }

    // Load balancers and their backends.
    let lbs: Vec<&Host> = t.hosts_with(Role::Lb).collect();
    if let Some(lb) = t.load_balancer.as_ref().filter(|_| !lbs.is_empty()) {
        let ports: Vec<String> = lb.listen.iter().map(|p| format!(":{}", p.value)).collect();
        let hc = &lb.health_check;
        if let Some(vip) = &lb.vip {
            floating_address(lb, vip, &lbs, &mut nodes, &mut edges);
        }
        for h in &lbs {
            nodes.push(node(
                lb_id(&h.name.value),
                Kind::LoadBalancer,
                Some(h),
                h.name.value.clone(),
                vec![
                    format!("HAProxy on {}", h.address.value),
                    format!("listens {}, {}", ports.join(" "), lb.algorithm.name()),
                    format!(
                        "checks GET {} every {}",
                        hc.path.value,
                        seconds(hc.interval_ms)
                    ),
                ],
            ));
        }
        for b in lb.backends() {
            let name = b.name();
            let id = backend_id(&name);
            let servers = resolve_servers(t, b.servers);
            let routes: Vec<&str> = match b.group {
                None => Vec::new(),
                Some(g) => lb
                    .routes
                    .iter()
                    .filter(|r| r.group.value == g.name.value)
                    .map(|r| r.path_prefix.value.as_str())
                    .collect(),
            };
            // Which requests reach it: a group by its routes, the default backend the rest.
            let (title, first, takes) = match b.group {
                None => (
                    "backend web".to_string(),
                    "default backend".to_string(),
                    if lb.routes.is_empty() {
                        "takes every request".to_string()
                    } else {
                        "takes the other requests".to_string()
                    },
                ),
                Some(g) => (
                    format!("group {}", g.name.value),
                    format!("backend {name}"),
                    if routes.is_empty() {
                        "no route: takes no requests".to_string()
                    } else {
                        format!(
                            "takes {}",
                            routes
                                .iter()
                                .map(|p| format!("{p}*"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        )
                    },
                ),
            };
            nodes.push(node(
                id.clone(),
                Kind::Backend,
                None,
                title,
                vec![first, takes, plural(servers.len(), "server")],
            ));
            if b.group.is_none() || !routes.is_empty() {
                for h in &lbs {
                    edges.push(edge(&lb_id(&h.name.value), &id, EdgeKind::Route, None));
                }
            }
            for (server, weight) in servers {
                let weight = weight.unwrap_or(DEFAULT_WEIGHT);
                let mut e = edge(
                    &id,
                    &server_id(&server.name.value),
                    EdgeKind::Member,
                    Some(if weight == 0 {
                        "weight 0: no traffic".to_string()
                    } else {
                        format!("weight {weight}")
                    }),
                );
                e.idle = weight == 0;
                edges.push(e);
            }
        }
    }

    // Web/app servers.
    for h in t
        .hosts
        .iter()
        .filter(|h| h.has(Role::Web) || h.has(Role::App))
    {
        nodes.push(node(
            server_id(&h.name.value),
            Kind::Server,
            Some(h),
            h.name.value.clone(),
            server_lines(t, h),
        ));
    }

    // The database, the hosts that may reach it (its primary), and its replicas.
    if let Some(db) = &t.database {
        let primary = t.db_primary().map(|h| h.name.value.clone());
        let engine = match db.engine.value {
            Engine::Mariadb => "MariaDB",
            Engine::Mysql => "MySQL",
        };
        for h in t.hosts_with(Role::Db) {
            let id = db_id(&h.name.value);
            let mut lines = vec![
                format!("{engine} on {}:{}", h.address.value, db.port.value),
                format!("database {}, user {}", db.name.value, db.user.value),
            ];
            let replica_of = primary.as_ref().filter(|p| **p != h.name.value);
            if let Some(p) = replica_of {
                lines.push(format!("read-only replica of {p}"));
                nodes.push(node(
                    id.clone(),
                    Kind::Replica,
                    Some(h),
                    h.name.value.clone(),
                    lines,
                ));
                edges.push(edge(
                    &db_id(p),
                    &id,
                    EdgeKind::Replicates,
                    Some("GTID replication".into()),
                ));
                continue;
            }
            if !t.db_replicas().is_empty() {
                lines.push("primary: takes the writes".into());
            }
            nodes.push(node(
                id.clone(),
                Kind::Database,
                Some(h),
                h.name.value.clone(),
                lines,
            ));
            for client in t.db_client_hosts() {
                if !client.roles.iter().any(|r| r.value != Role::Db) {
                    // The database host itself: no edge to draw.
                    continue;
                }
                let from = host_node(t, client, &[Role::App, Role::Web, Role::Lb, Role::Dns]);
                if !edges.iter().any(|e: &Edge| e.from == from && e.to == id) {
                    edges.push(edge(&from, &id, EdgeKind::Database, None));
                }
            }
        }
    }

    // Hosts with nothing on them still belong in the picture.
    for h in t.hosts.iter().filter(|h| h.roles.is_empty()) {
        nodes.push(node(
            idle_id(&h.name.value),
            Kind::Idle,
            Some(h),
            h.name.value.clone(),
            vec![
                h.address.value.to_string(),
                "no roles: nothing deployed".into(),
            ],
        ));
    }

    // Edges only between nodes that exist (a record may name a host whose section is absent).
    edges.retain(|e| nodes.iter().any(|n| n.id == e.from) && nodes.iter().any(|n| n.id == e.to));

    Graph {
        title: t.domain.value.clone(),
        subtitle: subtitle(t),
        nodes,
        edges,
        clusters,
        live: false,
    }
}

/// The VIP's address, when the load balancers have one.
fn vip_of(t: &Topology) -> Option<String> {
    let lb = t.load_balancer.as_ref()?;
    t.hosts_with(Role::Lb).next()?;
    Some(lb.vip.as_ref()?.address.value.to_string())
}

/// The floating address: a node, and an edge to each load balancer that may hold it, labelled
/// with its VRRP priority (the highest is the one keepalived prefers).
fn floating_address(
    lb: &LoadBalancer,
    vip: &Vip,
    lbs: &[&Host],
    nodes: &mut Vec<Node>,
    edges: &mut Vec<Edge>,
) {
    let f = &lb.failover;
    let id = vip_id(&vip.address.value.to_string());
    nodes.push(node(
        id.clone(),
        Kind::Vip,
        None,
        format!("VIP {}", vip.address.value),
        vec![
            format!("keepalived, VRRP router {}", f.router_id),
            format!(
                "adverts every {}, {}",
                seconds(f.advert_ms),
                if f.preempt { "preempts" } else { "no preempt" }
            ),
            format!("on {} of {}", f.interface, plural(lbs.len(), "host")),
        ],
    ));
    let priorities: Vec<u32> = lbs
        .iter()
        .enumerate()
        .map(|(i, h)| f.priority(&h.name.value, i))
        .collect();
    let top = priorities.iter().copied().max().unwrap_or_default();
    for (h, p) in lbs.iter().zip(priorities) {
        let label = if p == top {
            format!("priority {p}, preferred")
        } else {
            format!("priority {p}")
        };
        edges.push(edge(
            &id,
            &lb_id(&h.name.value),
            EdgeKind::Holds,
            Some(label),
        ));
    }
}

/// The node that stands for host `h`: the part of its stack first in `prefer` that is drawn.
fn host_node(t: &Topology, h: &Host, prefer: &[Role]) -> String {
    let name = &h.name.value;
    for role in prefer.iter().filter(|r| h.has(**r)) {
        match role {
            Role::Lb if t.load_balancer.is_some() => return lb_id(name),
            Role::Web | Role::App => return server_id(name),
            Role::Db if t.database.is_some() => return db_id(name),
            Role::Dns => return ns_id(name),
            _ => {}
        }
    }
    idle_id(name)
}

/// `5 hosts: 1 load balancer, 3 web/app servers, 1 database`.
fn subtitle(t: &Topology) -> String {
    let mut parts = Vec::new();
    let count = |role: Role| t.hosts_with(role).count();
    let lbs = count(Role::Lb);
    if lbs > 0 {
        match vip_of(t) {
            Some(vip) => parts.push(format!("{} on VIP {vip}", plural(lbs, "load balancer"))),
            None => parts.push(plural(lbs, "load balancer")),
        }
    }
    let servers = t
        .hosts
        .iter()
        .filter(|h| h.has(Role::Web) || h.has(Role::App))
        .count();
    if servers > 0 {
        parts.push(plural(servers, "web/app server"));
    }
    let dbs = count(Role::Db);
    match t.db_replicas().len() {
        0 if dbs > 0 => parts.push(plural(dbs, "database")),
        0 => {}
        replicas => parts.push(format!("1 database with {}", plural(replicas, "replica"))),
    }
    let ns = count(Role::Dns);
    if ns > 0 {
        parts.push(plural(ns, "name server"));
    }
    format!("{}: {}", plural(t.hosts.len(), "host"), parts.join(", "))
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
