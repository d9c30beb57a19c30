//! Which checks the reference design's desired state implies, with and without its firewall.

use super::super::{Check, Expect, Probe, checks};
use crate::desired::Desired;
use crate::net::Network;
use crate::render;

fn reference() -> Desired {
    render::example("foobar.yaml")
}

fn find<'a>(all: &'a [Check], id: &str) -> &'a Check {
    all.iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn ids(all: &[Check], prefix: &str) -> Vec<String> {
    all.iter()
        .filter(|c| c.id.starts_with(prefix))
        .map(|c| c.id.clone())
        .collect()
}

/// What a reach check expects, from where.
fn expects(c: &Check) -> (&str, Expect) {
    match &c.probe {
        Probe::Reach {
            expect,
            speaks_first,
            ..
        } => {
            // The database speaks first: its words tell its refusal from the firewall's.
            assert_eq!(
                *speaks_first,
                c.id.starts_with("database-access:"),
                "{}",
                c.id
            );
            (c.host.as_str(), *expect)
        }
        other => panic!("{}: {other:?}", c.id),
    }
}

fn net(s: &str) -> Network {
    Network::parse(s).unwrap()
}

/// Every need names a check made before it: the runner and the blocking rely on that order.
fn in_dependency_order(all: &[Check]) {
    for (i, c) in all.iter().enumerate() {
        for need in c.needs.iter().chain(&c.needs_one_of) {
            assert!(
                all[..i].iter().any(|b| &b.id == need),
                "{} needs {need}, not made before it",
                c.id
            );
        }
    }
}

#[test]
fn with_a_firewall_the_database_is_refused_at_the_network_to_all_but_its_clients() {
    let all = checks(&reference(), &[]);
    in_dependency_order(&all);
    assert_eq!(
        ids(&all, "database-access:"),
        [
            "database-access:lb-01",
            "database-access:web-01",
            "database-access:web-02",
            "database-access:web-03",
            "database-access:ns1",
            "database-access:(here)",
        ]
    );
    for web in ["web-01", "web-02", "web-03"] {
        let c = find(&all, &format!("database-access:{web}"));
        assert_eq!(expects(c), (web, Expect::Greets));
        assert_eq!(c.needs, [format!("ssh:{web}"), "database:db-01".into()]);
    }
    for other in ["lb-01", "ns1"] {
        let c = find(&all, &format!("database-access:{other}"));
        assert_eq!(expects(c), (other, Expect::RefusedByFirewall));
        assert_eq!(c.needs, [format!("ssh:{other}"), "firewall:db-01".into()]);
        assert!(c.title.contains("refuses"), "{}", c.title);
    }
    let here = find(&all, "database-access:(here)");
    assert_eq!(
        here.probe,
        Probe::ReachFromHere {
            address: "192.0.2.30".into(),
            port: 3306,
            admitted: vec![net("192.0.2.21"), net("192.0.2.22"), net("192.0.2.23")],
        }
    );
    assert_eq!(here.needs, ["firewall:db-01"]);
    assert!(here.from_here());
}

#[test]
fn with_a_firewall_the_web_port_is_tried_from_every_peer_and_from_here() {
    let all = checks(&reference(), &[]);
    assert_eq!(
        ids(&all, "web-access:web-02/"),
        [
            "web-access:web-02/lb-01",
            "web-access:web-02/web-01",
            "web-access:web-02/web-03",
            "web-access:web-02/db-01",
            "web-access:web-02/ns1",
            "web-access:web-02/(here)",
        ]
    );
    assert_eq!(ids(&all, "web-access:").len(), 18);
    let lb = find(&all, "web-access:web-02/lb-01");
    assert_eq!(expects(lb), ("lb-01", Expect::Admitted));
    assert_eq!(lb.needs, ["ssh:lb-01", "services:web-02"]);
    for peer in ["web-01", "db-01", "ns1"] {
        let c = find(&all, &format!("web-access:web-02/{peer}"));
        assert_eq!(expects(c), (peer, Expect::RefusedByFirewall));
        assert_eq!(c.needs, [format!("ssh:{peer}"), "firewall:web-02".into()]);
        assert!(c.title.ends_with("(it admits 192.0.2.10)"), "{}", c.title);
    }
    let here = find(&all, "web-access:web-02/(here)");
    assert!(matches!(
        &here.probe,
        Probe::ReachFromHere { address, port: 80, admitted }
            if address == "192.0.2.22" && admitted == &[net("192.0.2.10")]
    ));
    for h in ["lb-01", "web-01", "db-01", "ns1"] {
        assert_eq!(
            find(&all, &format!("firewall:{h}")).probe,
            Probe::FirewallLoaded
        );
        let listening = find(&all, &format!("listening:{h}"));
        assert_eq!(listening.probe, Probe::Listening);
        assert_eq!(listening.needs, [format!("ssh:{h}")]);
    }
}

#[test]
fn what_is_expected_follows_the_firewall_not_the_roles() {
    let mut desired = reference();
    // The database's firewall admits the load balancer too (its user's host list does not).
    let db = desired
        .hosts
        .iter_mut()
        .find(|h| h.name == "db-01")
        .unwrap();
    let rule = db
        .firewall
        .as_mut()
        .unwrap()
        .rules
        .iter_mut()
        .find(|r| r.port == 3306)
        .unwrap();
    rule.from.as_mut().unwrap().push(net("192.0.2.10"));
    // web-01's port is open to everyone: there is no refusal to prove.
    let web = desired
        .hosts
        .iter_mut()
        .find(|h| h.name == "web-01")
        .unwrap();
    for r in &mut web.firewall.as_mut().unwrap().rules {
        if r.port == 80 {
            r.from = None;
        }
    }
    let all = checks(&desired, &[]);
    let lb = find(&all, "database-access:lb-01");
    assert_eq!(expects(lb), ("lb-01", Expect::RefusedByServer));
    assert_eq!(lb.needs, ["ssh:lb-01", "database:db-01"]);
    assert!(ids(&all, "web-access:web-01/").is_empty());
    assert_eq!(ids(&all, "web-access:web-02/").len(), 6);
}

#[test]
fn without_a_firewall_the_database_keeps_its_host_list_proof() {
    let mut desired = reference();
    for h in &mut desired.hosts {
        h.firewall = None;
    }
    let all = checks(&desired, &[]);
    in_dependency_order(&all);
    assert_eq!(
        ids(&all, "database-access:"),
        [
            "database-access:lb-01",
            "database-access:web-01",
            "database-access:web-02",
            "database-access:web-03",
        ]
    );
    assert_eq!(
        expects(find(&all, "database-access:lb-01")),
        ("lb-01", Expect::RefusedByServer)
    );
    assert_eq!(
        expects(find(&all, "database-access:web-03")),
        ("web-03", Expect::Greets)
    );
    assert!(ids(&all, "web-access:").is_empty() && ids(&all, "firewall:").is_empty());
    let listening = find(&all, "listening:db-01");
    assert!(
        matches!(&listening.probe, Probe::Unsupported { why } if why.contains("no firewall")),
        "{listening:?}"
    );
    assert!(listening.from_here() && listening.needs.is_empty());
}

#[test]
fn a_limit_keeps_only_the_paths_between_the_hosts_it_names() {
    let limit = ["db-01".to_string(), "web-01".to_string()];
    let all = checks(&reference(), &limit);
    in_dependency_order(&all);
    assert_eq!(
        ids(&all, "database-access:"),
        ["database-access:web-01", "database-access:(here)"]
    );
    assert_eq!(
        ids(&all, "web-access:"),
        ["web-access:web-01/db-01", "web-access:web-01/(here)"]
    );
}
