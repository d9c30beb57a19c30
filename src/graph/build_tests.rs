//! The graph built from the reference design and from a topology with groups and routes.

use super::*;

pub(crate) fn load(yaml: &str) -> Topology {
    let source = crate::topology::Source {
        name: "test.yaml".into(),
        text: std::sync::Arc::new(yaml.to_string()),
        base_dir: std::env::temp_dir(),
    };
    let loaded = crate::topology::load(source, &|_| Some("x".into()));
    let errors: Vec<String> = loaded
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| p.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    loaded.topology.unwrap()
}

fn reference() -> Topology {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/foobar.yaml");
    crate::topology::load(crate::topology::read(&path).unwrap(), &|_| Some("x".into()))
        .topology
        .unwrap()
}

fn ids(g: &Graph) -> Vec<&str> {
    g.nodes.iter().map(|n| n.id.as_str()).collect()
}

fn edges(g: &Graph) -> Vec<(&str, &str, Option<&str>)> {
    g.edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_deref()))
        .collect()
}

#[test]
fn the_reference_design_is_the_chain_from_the_record_to_the_database() {
    let g = build(&reference());
    assert_eq!(
        ids(&g),
        [
            "dns:www.foobar.com",
            "ns:ns1",
            "lb:lb-01",
            "backend:web",
            "server:web-01",
            "server:web-02",
            "server:web-03",
            "db:db-01"
        ]
    );
    assert_eq!(
        edges(&g),
        [
            ("dns:www.foobar.com", "lb:lb-01", None),
            ("lb:lb-01", "backend:web", None),
            ("backend:web", "server:web-01", Some("weight 100")),
            ("backend:web", "server:web-02", Some("weight 100")),
            ("backend:web", "server:web-03", Some("weight 100")),
            ("server:web-01", "db:db-01", None),
            ("server:web-02", "db:db-01", None),
            ("server:web-03", "db:db-01", None),
        ]
    );
    let lb = g.node("lb:lb-01").unwrap();
    assert_eq!(
        lb.lines,
        [
            "HAProxy on 192.0.2.10",
            "listens :80, roundrobin",
            "checks GET /healthz every 2s"
        ]
    );
    assert_eq!(
        g.node("server:web-02").unwrap().lines,
        ["192.0.2.22", "Nginx :80", "gunicorn on 127.0.0.1:8000"]
    );
    assert_eq!(
        g.node("db:db-01").unwrap().lines,
        ["MariaDB on 192.0.2.30:3306", "database foobar, user foobar"]
    );
    assert_eq!(
        g.subtitle,
        "6 hosts: 1 load balancer, 3 web/app servers, 1 database, 1 name server"
    );
    assert_eq!(g.clusters[0].label, "DNS zone foobar.com");
    assert_eq!(g.clusters[0].nodes, ["dns:www.foobar.com", "ns:ns1"]);
}

const ROUTED: &str = "
domain: shop.example
hosts:
  lb-a: { address: 10.0.0.1, roles: [lb] }
  lb-b: { address: 10.0.0.2, roles: [lb] }
  w1: { address: 10.0.0.11, roles: [web, app] }
  w2: { address: 10.0.0.12, roles: [web, app] }
  api: { address: 10.0.0.13, roles: [web, app] }
  db: { address: 10.0.0.20, roles: [db] }
  spare: { address: 10.0.0.30 }
load_balancer:
  listen: [80, 8080]
  algorithm: leastconn
  backends: [{ role: web, weight: 50 }, { host: w2, weight: 0 }]
  groups:
    api: [{ host: api, weight: 10 }, w1]
    unused: [w2]
  routes:
    - { path_prefix: /api/, group: api }
    - { path_prefix: /v2/api/, group: api }
database:
  password: { env: P }
  allowed_hosts: [w1, lb-a]
";

#[test]
fn groups_routes_weights_and_database_clients_are_drawn() {
    let g = build(&load(ROUTED));
    let e = edges(&g);
    // Both load balancers route to the default backend and to the routed group; the group
    // without a route gets no edge and says so.
    for lb in ["lb:lb-a", "lb:lb-b"] {
        assert!(e.contains(&(lb, "backend:web", None)), "{e:?}");
        assert!(e.contains(&(lb, "backend:group_api", None)));
        assert!(!e.iter().any(|x| x.0 == lb && x.1 == "backend:group_unused"));
    }
    assert_eq!(
        g.node("backend:web").unwrap().lines,
        ["default backend", "takes the other requests", "3 servers"]
    );
    assert_eq!(
        g.node("backend:group_api").unwrap().lines,
        ["backend group_api", "takes /api/* /v2/api/*", "2 servers"]
    );
    assert_eq!(
        g.node("backend:group_unused").unwrap().lines,
        [
            "backend group_unused",
            "no route: takes no requests",
            "1 server"
        ]
    );
    // A host named on its own overrides the weight its role gave it.
    assert!(e.contains(&("backend:web", "server:w1", Some("weight 50"))));
    assert!(e.contains(&("backend:web", "server:w2", Some("weight 0: no traffic"))));
    assert!(e.contains(&("backend:group_api", "server:api", Some("weight 10"))));
    assert!(e.contains(&("backend:group_api", "server:w1", Some("weight 100"))));
    let idle: Vec<_> = g.edges.iter().filter(|e| e.idle).collect();
    assert_eq!(idle.len(), 1);
    assert_eq!(idle[0].to, "server:w2");
    // allowed_hosts, from the node of each host's stack.
    let db: Vec<_> = e.iter().filter(|x| x.1 == "db:db").collect();
    assert_eq!(
        db,
        [&("server:w1", "db:db", None), &("lb:lb-a", "db:db", None)]
    );
    let lb = g.node("lb:lb-a").unwrap();
    assert_eq!(lb.lines[1], "listens :80 :8080, leastconn");
    assert_eq!(
        g.node("host:spare").unwrap().lines,
        ["10.0.0.30", "no roles: nothing deployed"]
    );
}

#[test]
fn every_host_has_a_node_and_every_edge_joins_two() {
    for yaml in [ROUTED] {
        let t = load(yaml);
        let g = build(&t);
        for h in &t.hosts {
            assert!(
                g.nodes
                    .iter()
                    .any(|n| n.host.as_deref() == Some(h.name.value.as_str())),
                "{} has a node",
                h.name.value
            );
        }
        for e in &g.edges {
            assert!(g.node(&e.from).is_some() && g.node(&e.to).is_some());
        }
        let mut seen = std::collections::BTreeSet::new();
        assert!(g.nodes.iter().all(|n| seen.insert(&n.id)), "ids are unique");
    }
}

#[test]
fn a_host_with_several_roles_has_a_node_for_each_part_and_no_loop() {
    let g = build(&load(
        "
domain: one.example
hosts:
  solo: { address: 10.0.0.5, roles: [lb, web, app, db] }
load_balancer:
  listen: 8080
database:
  password: { env: P }
",
    ));
    assert_eq!(
        ids(&g),
        ["lb:solo", "backend:web", "server:solo", "db:solo"]
    );
    assert!(g.edges.iter().all(|e| e.from != e.to));
    assert!(
        edges(&g).contains(&("server:solo", "db:solo", None)),
        "{:?}",
        edges(&g)
    );
}

const PAIR: &str = r#"
domain: foobar.com
hosts:
  lb-01: { address: 192.0.2.10, roles: [lb] }
  lb-02: { address: 192.0.2.11, roles: [lb] }
  web-01: { address: 192.0.2.21, roles: [web, app] }
firewall: { admin: [192.0.2.0/28] }
load_balancer:
  vip: 192.0.2.100
  failover: { priorities: { lb-02: 200 }, preempt: true }
  backends: [web-01]
app: { kind: gunicorn }
dns:
  provider: zone-file
  records:
    - { name: www, target: 192.0.2.100 }
    - { name: lb1, target: lb-01 }
"#;

#[test]
fn the_vip_stands_between_its_record_and_the_load_balancers_that_may_hold_it() {
    let g = build(&load(PAIR));
    let vip = g.node("vip:192.0.2.100").expect("the VIP has a node");
    assert_eq!(vip.kind, Kind::Vip);
    assert!(vip.lines.iter().any(|l| l.contains("preempts")), "{vip:?}");
    let e = edges(&g);
    assert!(e.contains(&("dns:www.foobar.com", "vip:192.0.2.100", None)));
    // A record naming one load balancer still points at it, not at the VIP.
    assert!(e.contains(&("dns:lb1.foobar.com", "lb:lb-01", None)));
    // The written priority beats the default; the highest is the preferred holder.
    assert!(e.contains(&("vip:192.0.2.100", "lb:lb-01", Some("priority 150"))));
    assert!(e.contains(&(
        "vip:192.0.2.100",
        "lb:lb-02",
        Some("priority 200, preferred")
    )));
    assert!(Kind::Record.layer() < Kind::Vip.layer());
    assert!(Kind::Vip.layer() < Kind::LoadBalancer.layer());
}

#[test]
fn a_replica_follows_the_primary_and_only_the_primary_takes_the_clients() {
    let yaml = r#"
domain: foobar.com
hosts:
  web-01: { address: 192.0.2.21, roles: [web, app] }
  db-01: { address: 192.0.2.30, roles: [db] }
  db-02: { address: 192.0.2.31, roles: [db] }
firewall: { admin: [192.0.2.0/28] }
app: { kind: gunicorn }
database:
  password: { env: FOOBAR_DB_PASSWORD }
  primary: db-02
  replication: { password: { env: FOOBAR_REPLICATION_PASSWORD } }
"#;
    let g = build(&load(yaml));
    assert_eq!(g.node("db:db-02").unwrap().kind, Kind::Database);
    let replica = g.node("db:db-01").unwrap();
    assert_eq!(replica.kind, Kind::Replica);
    assert!(
        replica
            .lines
            .iter()
            .any(|l| l == "read-only replica of db-02")
    );
    let e = edges(&g);
    assert!(e.contains(&("server:web-01", "db:db-02", None)));
    assert!(
        !e.iter()
            .any(|(f, t, _)| *f == "server:web-01" && *t == "db:db-01")
    );
    assert!(e.contains(&("db:db-02", "db:db-01", Some("GTID replication"))));
    assert!(Kind::Database.layer() < Kind::Replica.layer());
    assert!(
        g.subtitle.contains("1 database with 1 replica"),
        "{}",
        g.subtitle
    );
}
