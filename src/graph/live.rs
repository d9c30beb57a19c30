//! A graph coloured by a `verify` report: each check lands on the node or edge it is about.
//!
//! - `ssh`, `services`, `files`, `firewall`, `listening` of a host: every node of that host;
//! - `database`: the database node; `database-access` of an app host: its edge to the
//!   database (of a host that must be refused: the database node, whose grants or firewall it
//!   judges);
//! - `web` of a server: the server's node; `web-access` (SERVER/FROM): the server's node, whose
//!   firewall it judges;
//! - `load-balancer` (LB/backend/server): the backend -> server edge, and the server's node;
//!   HAProxy's status decides between down and drained (DRAIN, MAINT, NOLB);
//! - `site` of a load balancer: its node;
//! - `dns` of a record: the record and its edge;
//! - `vip:holders`, `vip:site` and `tls:vip`: the floating address's node; `vip` of a load
//!   balancer (holds it, or is ready to take it): the edge from the floating address to it;
//! - `replication` of a replica: its node.
//!
//! A node or edge is down when a check about it failed, else drained, else up when one passed;
//! blocked and unchecked checks only leave it unknown when nothing else was learnt about it.
//! A backend (and the load balancer's edge to it) serves while one of its servers is up.

use super::build::{backend_id, db_id, lb_id, record_id, server_id};
use super::{EdgeKind, Graph, State};
use crate::verify::{Hop, Outcome, Status};

/// One thing learnt about a node or an edge.
#[derive(Clone, Debug)]
struct Mark {
    state: State,
    /// The check and its evidence, when it did not pass.
    note: Option<String>,
    /// What to write beside the state: HAProxy's status and where, or the evidence.
    short: String,
}

/// HAProxy statuses of a server taken out on purpose (by an operator or a rolling apply).
fn drained(lb_status: &str) -> bool {
    ["DRAIN", "MAINT", "NOLB"]
        .iter()
        .any(|s| lb_status.starts_with(s))
}

fn mark(o: &Outcome) -> Mark {
    let state = match o.status {
        Status::Pass => State::Up,
        Status::Fail if o.lb_status.as_deref().is_some_and(drained) => State::Drained,
        Status::Fail => State::Down,
        Status::Blocked | Status::NotChecked => State::Unknown,
    };
    let short = match (&o.lb_status, o.hop) {
        (Some(status), Hop::LoadBalancer) if state != State::Up => {
            let lb = o.subject().split('/').next().unwrap_or_default();
            format!("{status} on {lb}")
        }
        _ => o.evidence.clone(),
    };
    Mark {
        state,
        note: (state != State::Up).then(|| format!("{}: {}", o.id, o.evidence)),
        short,
    }
}

/// A node's or edge's state, why (every check that says so) and the short reason.
type Verdict = (State, Vec<String>, Option<String>);

/// Down over drained over up; unknown only when nothing else is known.
fn combine(marks: &[Mark]) -> Verdict {
    let state = [State::Down, State::Drained, State::Up]
        .into_iter()
        .find(|s| marks.iter().any(|m| m.state == *s))
        .unwrap_or(State::Unknown);
    let why: Vec<&Mark> = marks.iter().filter(|m| m.state == state).collect();
    let notes = why.iter().filter_map(|m| m.note.clone()).collect();
    let reason = why
        .first()
        .filter(|_| state != State::Up)
        .map(|m| m.short.clone());
    (state, notes, reason)
}

/// Serves while one member serves: up if any is up, unknown if nothing is known, else down.
fn serving(marks: &[Mark]) -> Verdict {
    if marks.iter().any(|m| m.state == State::Up) {
        (State::Up, Vec::new(), None)
    } else if marks.iter().all(|m| m.state == State::Unknown) {
        (State::Unknown, Vec::new(), None)
    } else {
        let why = "no server of it is up".to_string();
        (State::Down, vec![why.clone()], Some(why))
    }
}

/// Colours `graph` by `outcomes`: every node and edge gets a state.
pub fn apply(graph: &mut Graph, outcomes: &[Outcome]) {
    let mut nodes: Vec<Vec<Mark>> = vec![Vec::new(); graph.nodes.len()];
    let mut edges: Vec<Vec<Mark>> = vec![Vec::new(); graph.edges.len()];
    // (load balancer, backend) -> what its server checks said: for the route edges.
    let mut per_lb: Vec<(String, String, Mark)> = Vec::new();
    let node_at = |id: &str| graph.index(id);
    let edges_where = |pred: &dyn Fn(&super::Edge) -> bool| -> Vec<usize> {
        graph
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| pred(e))
            .map(|(i, _)| i)
            .collect()
    };
    let vip = graph.nodes.iter().position(|n| n.kind == super::Kind::Vip);
    for o in outcomes {
        let m = mark(o);
        let subject = o.subject();
        // The floating address's checks: who holds it, its certificate and the site through it
        // on its node, each load balancer's readiness on its edge from it.
        let about = match o.id.as_str() {
            "tls:vip" => Some("site"),
            id => id.strip_prefix("vip:"),
        };
        if let (Some(v), Some(about)) = (vip, about) {
            match about {
                "holders" | "site" => nodes[v].push(m),
                lb => {
                    let (from, to) = (&graph.nodes[v].id, lb_id(lb));
                    for i in edges_where(&|e| &e.from == from && e.to == to) {
                        edges[i].push(m.clone());
                    }
                }
            }
            continue;
        }
        match o.hop {
            Hop::Ssh | Hop::Services | Hop::Files | Hop::Firewall | Hop::Listening => {
                for (i, n) in graph.nodes.iter().enumerate() {
                    if n.host.as_deref() == Some(subject) {
                        nodes[i].push(m.clone());
                    }
                }
            }
            Hop::Database => nodes_push(&mut nodes, node_at(&db_id(subject)), &m),
            Hop::DatabaseAccess => {
                let found = edges_where(&|e| {
                    e.kind == EdgeKind::Database
                        && graph
                            .node(&e.from)
                            .is_some_and(|n| n.host.as_deref() == Some(subject))
                });
                if found.is_empty() {
                    for (i, n) in graph.nodes.iter().enumerate() {
                        if n.kind == super::Kind::Database {
                            nodes[i].push(m.clone());
                        }
                    }
                }
                for i in found {
                    edges[i].push(m.clone());
                }
            }
            Hop::Web => nodes_push(&mut nodes, node_at(&server_id(subject)), &m),
            Hop::WebAccess => {
                let server = subject.split('/').next().unwrap_or_default();
                nodes_push(&mut nodes, node_at(&server_id(server)), &m);
            }
            Hop::LoadBalancer => {
                let mut parts = subject.splitn(3, '/');
                let (Some(lb), Some(backend), Some(server)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let (from, to) = (backend_id(backend), server_id(server));
                for i in edges_where(&|e| e.from == from && e.to == to) {
                    edges[i].push(m.clone());
                }
                // A server out of one load balancer is out for the people it serves.
                if m.state != State::Unknown {
                    nodes_push(&mut nodes, node_at(&to), &m);
                }
                per_lb.push((lb.to_string(), backend.to_string(), m));
            }
            Hop::Site | Hop::Tls => nodes_push(&mut nodes, node_at(&lb_id(subject)), &m),
            Hop::Dns => {
                let id = record_id(subject);
                nodes_push(&mut nodes, node_at(&id), &m);
                for i in edges_where(&|e| e.from == id) {
                    edges[i].push(m.clone());
                }
            }
        }
    }
    for (i, node) in graph.nodes.iter_mut().enumerate() {
        let (state, notes, reason) = if node.kind == super::Kind::Backend {
            let backend = node.id.trim_start_matches("backend:");
            let members: Vec<Mark> = per_lb
                .iter()
                .filter(|(_, b, _)| b == backend)
                .map(|(_, _, m)| m.clone())
                .collect();
            serving(&members)
        } else {
            combine(&nodes[i])
        };
        node.state = Some(state);
        node.notes = notes;
        node.reason = reason;
    }
    for (i, edge) in graph.edges.iter_mut().enumerate() {
        let (state, notes, _) = if edge.kind == EdgeKind::Route {
            let lb = edge.from.trim_start_matches("lb:");
            let backend = edge.to.trim_start_matches("backend:");
            let members: Vec<Mark> = per_lb
                .iter()
                .filter(|(l, b, _)| l == lb && b == backend)
                .map(|(_, _, m)| m.clone())
                .collect();
            serving(&members)
        } else {
            combine(&edges[i])
        };
        edge.state = Some(state);
        edge.notes = notes;
    }
    graph.live = true;
}

fn nodes_push(nodes: &mut [Vec<Mark>], at: Option<usize>, m: &Mark) {
    if let Some(i) = at {
        nodes[i].push(m.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::build;

    fn reference() -> Graph {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/foobar.yaml");
        let t = crate::topology::load(crate::topology::read(&path).unwrap(), &|_| Some("x".into()))
            .topology
            .unwrap();
        build(&t)
    }

    fn outcome(id: &str, hop: Hop, status: Status, evidence: &str) -> Outcome {
        Outcome {
            id: id.into(),
            hop,
            host: String::new(),
            title: String::new(),
            status,
            evidence: evidence.into(),
            blocked_by: None,
            lb_status: None,
        }
    }

    fn backend(server: &str, status: Status, lb_status: &str) -> Outcome {
        let mut o = outcome(
            &format!("load-balancer:lb-01/web/{server}"),
            Hop::LoadBalancer,
            status,
            &format!("{server} is {lb_status}"),
        );
        o.lb_status = Some(lb_status.into());
        o
    }

    /// A verify report of the reference design where everything passes but the given ones
    /// (added when not among them).
    fn report(except: Vec<Outcome>) -> Vec<Outcome> {
        let pass = |id: &str, hop| outcome(id, hop, Status::Pass, "ok");
        let mut all = Vec::new();
        for h in ["lb-01", "web-01", "web-02", "web-03", "db-01", "ns1"] {
            all.push(pass(&format!("ssh:{h}"), Hop::Ssh));
            all.push(pass(&format!("services:{h}"), Hop::Services));
            all.push(pass(&format!("files:{h}"), Hop::Files));
        }
        all.push(pass("database:db-01", Hop::Database));
        for h in ["web-01", "web-02", "web-03"] {
            all.push(pass(&format!("database-access:{h}"), Hop::DatabaseAccess));
            all.push(pass(&format!("web:{h}"), Hop::Web));
            all.push(backend(h, Status::Pass, "UP"));
        }
        all.push(pass("database-access:lb-01", Hop::DatabaseAccess));
        all.push(pass("site:lb-01", Hop::Site));
        all.push(pass("dns:www.foobar.com", Hop::Dns));
        for e in except {
            match all.iter().position(|o| o.id == e.id) {
                Some(at) => all[at] = e,
                None => all.push(e),
            }
        }
        all
    }

    fn node_state(g: &Graph, id: &str) -> State {
        g.node(id).unwrap().state.unwrap()
    }

    fn edge_state(g: &Graph, from: &str, to: &str) -> State {
        g.edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .unwrap()
            .state
            .unwrap()
    }

    #[test]
    fn a_healthy_site_is_green_and_an_unchecked_record_grey() {
        let mut g = reference();
        apply(&mut g, &report(vec![]));
        assert!(g.live);
        for n in &g.nodes {
            assert_eq!(n.state, Some(State::Up), "{}", n.id);
        }
        assert_eq!(edge_state(&g, "dns:www.foobar.com", "lb:lb-01"), State::Up);
        let mut g = reference();
        apply(
            &mut g,
            &report(vec![outcome(
                "dns:www.foobar.com",
                Hop::Dns,
                Status::NotChecked,
                "dns.provider is zone-file",
            )]),
        );
        assert_eq!(node_state(&g, "dns:www.foobar.com"), State::Unknown);
        assert_eq!(
            edge_state(&g, "dns:www.foobar.com", "lb:lb-01"),
            State::Unknown
        );
        assert_eq!(edge_state(&g, "server:web-01", "db:db-01"), State::Up);
        assert_eq!(edge_state(&g, "lb:lb-01", "backend:web"), State::Up);
        assert!(
            g.nodes
                .iter()
                .all(|n| n.id.starts_with("dns:") || n.notes.is_empty())
        );
    }

    #[test]
    fn a_drained_server_is_amber_and_a_dead_one_red() {
        let mut g = reference();
        apply(
            &mut g,
            &report(vec![
                backend("web-01", Status::Fail, "DRAIN"),
                backend("web-02", Status::Fail, "MAINT"),
                backend("web-03", Status::Fail, "DOWN 1/3"),
            ]),
        );
        assert_eq!(node_state(&g, "server:web-01"), State::Drained);
        assert_eq!(node_state(&g, "server:web-02"), State::Drained);
        assert_eq!(node_state(&g, "server:web-03"), State::Down);
        assert_eq!(
            edge_state(&g, "backend:web", "server:web-01"),
            State::Drained
        );
        assert_eq!(edge_state(&g, "backend:web", "server:web-03"), State::Down);
        let web03 = g.node("server:web-03").unwrap();
        assert_eq!(
            web03.notes,
            ["load-balancer:lb-01/web/web-03: web-03 is DOWN 1/3"]
        );
        assert_eq!(web03.reason.as_deref(), Some("DOWN 1/3 on lb-01"));
        assert_eq!(
            g.node("server:web-01").unwrap().reason.as_deref(),
            Some("DRAIN on lb-01")
        );
        // No server is up: the backend and the route to it are down.
        assert_eq!(node_state(&g, "backend:web"), State::Down);
        assert_eq!(edge_state(&g, "lb:lb-01", "backend:web"), State::Down);
        // The load balancer itself is still fine.
        assert_eq!(node_state(&g, "lb:lb-01"), State::Up);
    }

    #[test]
    fn an_unreachable_host_is_red_and_what_it_blocks_does_not_hide_it() {
        let mut g = reference();
        let mut blocked = outcome(
            "web:web-02",
            Hop::Web,
            Status::Blocked,
            "blocked by ssh:web-02",
        );
        blocked.blocked_by = Some("ssh:web-02".into());
        apply(
            &mut g,
            &report(vec![
                outcome("ssh:web-02", Hop::Ssh, Status::Fail, "connection refused"),
                outcome("services:web-02", Hop::Services, Status::Blocked, "blocked"),
                outcome("files:web-02", Hop::Files, Status::Blocked, "blocked"),
                blocked,
                outcome(
                    "load-balancer:lb-01/web/web-02",
                    Hop::LoadBalancer,
                    Status::Blocked,
                    "blocked by ssh:web-02",
                ),
            ]),
        );
        assert_eq!(node_state(&g, "server:web-02"), State::Down);
        let web02 = g.node("server:web-02").unwrap();
        assert_eq!(web02.notes, ["ssh:web-02: connection refused"]);
        assert_eq!(web02.reason.as_deref(), Some("connection refused"));
        assert_eq!(
            edge_state(&g, "backend:web", "server:web-02"),
            State::Unknown
        );
        // Two servers still serve.
        assert_eq!(node_state(&g, "backend:web"), State::Up);
        assert_eq!(node_state(&g, "server:web-01"), State::Up);
    }

    #[test]
    fn a_stopped_database_is_red_and_its_clients_edges_grey() {
        let mut g = reference();
        let mut except = vec![
            outcome(
                "services:db-01",
                Hop::Services,
                Status::Fail,
                "mariadb.service is not running",
            ),
            outcome(
                "database:db-01",
                Hop::Database,
                Status::Blocked,
                "blocked by services:db-01",
            ),
        ];
        for h in ["web-01", "web-02", "web-03"] {
            except.push(outcome(
                &format!("database-access:{h}"),
                Hop::DatabaseAccess,
                Status::Blocked,
                "blocked by services:db-01",
            ));
        }
        apply(&mut g, &report(except));
        assert_eq!(node_state(&g, "db:db-01"), State::Down);
        assert_eq!(edge_state(&g, "server:web-02", "db:db-01"), State::Unknown);
        // A refusal that fails (the load balancer may reach the database) lands on the
        // database, which has no edge from it.
        let mut g = reference();
        apply(
            &mut g,
            &report(vec![outcome(
                "database-access:lb-01",
                Hop::DatabaseAccess,
                Status::Fail,
                "it greets it",
            )]),
        );
        assert_eq!(node_state(&g, "db:db-01"), State::Down);
        assert_eq!(node_state(&g, "lb:lb-01"), State::Up);
    }

    #[test]
    fn a_firewall_check_lands_on_the_host_it_guards() {
        let mut g = reference();
        let hole = "10.89.7.21:80 accepts a connection from db-01";
        apply(
            &mut g,
            &report(vec![
                outcome(
                    "web-access:web-01/db-01",
                    Hop::WebAccess,
                    Status::Fail,
                    hole,
                ),
                outcome(
                    "database-access:(here)",
                    Hop::DatabaseAccess,
                    Status::Fail,
                    "accepts this machine",
                ),
            ]),
        );
        assert_eq!(node_state(&g, "server:web-01"), State::Down);
        assert_eq!(node_state(&g, "db:db-01"), State::Down);
        assert_eq!(node_state(&g, "server:web-02"), State::Up);
        let mut g = reference();
        let stray = "tcp 0.0.0.0:8081 (python3, pid 7) listens beyond loopback";
        apply(
            &mut g,
            &report(vec![outcome(
                "listening:web-03",
                Hop::Listening,
                Status::Fail,
                stray,
            )]),
        );
        assert_eq!(node_state(&g, "server:web-03"), State::Down);
        assert_eq!(
            g.node("server:web-03").unwrap().reason.as_deref(),
            Some(stray)
        );
        assert_eq!(node_state(&g, "lb:lb-01"), State::Up);
    }

    #[test]
    fn without_a_report_every_node_is_unknown() {
        let mut g = reference();
        apply(&mut g, &[]);
        assert!(g.nodes.iter().all(|n| n.state == Some(State::Unknown)));
        assert!(g.edges.iter().all(|e| e.state == Some(State::Unknown)));
    }

    #[test]
    fn the_vip_checks_colour_the_floating_address_and_its_edges() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ha.yaml");
        let t = crate::topology::load(crate::topology::read(&path).unwrap(), &|_| Some("x".into()))
            .topology
            .unwrap();
        let mut g = build(&t);
        let vip = "vip:192.0.2.100";
        apply(
            &mut g,
            &[
                outcome("vip:lb-01", Hop::LoadBalancer, Status::Pass, "MASTER"),
                outcome(
                    "vip:lb-02",
                    Hop::LoadBalancer,
                    Status::Fail,
                    "keepalived FAULT",
                ),
                outcome("vip:holders", Hop::LoadBalancer, Status::Pass, "lb-01"),
                outcome("vip:site", Hop::Site, Status::Pass, "200"),
                outcome(
                    "replication:db-02",
                    Hop::Database,
                    Status::Fail,
                    "SQL thread no",
                ),
            ],
        );
        assert_eq!(node_state(&g, vip), State::Up);
        assert_eq!(edge_state(&g, vip, "lb:lb-01"), State::Up);
        assert_eq!(edge_state(&g, vip, "lb:lb-02"), State::Down);
        assert_eq!(node_state(&g, "db:db-02"), State::Down);
        assert_eq!(node_state(&g, "db:db-01"), State::Unknown);
    }
}
