//! verify on the lab: a healthy chain passes; a stopped database, a backend in MAINT and a
//! stopped server each fail at their own hop, and what depends on them is blocked, not failed.
//! The firewall is proved from outside: a hole in it fails the path it opens, an unloaded one
//! fails once and blocks the refusals that relied on it, and a stray listener is named.

use crate::support::*;

/// One check of the report: id, status, blocked_by, evidence.
type Row = (String, String, String, String);

/// `verify --format json`: exit code and one row per check.
fn verify(extra: &[&str]) -> (Option<i32>, Vec<Row>) {
    let out = cli()
        .args(["verify", "-i", INVENTORY, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let checks = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("id"), s("status"), s("blocked_by"), s("evidence"))
        })
        .collect();
    (out.status.code(), checks)
}

fn with_status<'a>(checks: &'a [Row], status: &str) -> Vec<&'a str> {
    checks
        .iter()
        .filter(|c| c.1 == status)
        .map(|c| c.0.as_str())
        .collect()
}

fn admin(command: &str) {
    ssh(
        LB,
        &format!(
            "echo '{command}' | sudo socat stdio UNIX-CONNECT:$(sudo awk '/stats socket/ {{print $3}}' /etc/haproxy/haproxy.cfg)"
        ),
    );
}

#[test]
fn a_healthy_lab_passes_every_check_and_junit_lists_them() {
    let (_lab, _) = lab();
    let (code, checks) = verify(&["--wait", "30s"]);
    assert_eq!(code, Some(0), "{checks:#?}");
    assert!(with_status(&checks, "fail").is_empty());
    for id in [
        "ssh:db-01",
        "firewall:db-01",
        "listening:ns1",
        "database:db-01",
        "database-access:web-01",
        "database-access:lb-01",
        "database-access:ns1",
        "database-access:(here)",
        "web:web-02",
        "web-access:web-02/lb-01",
        "web-access:web-02/db-01",
        "web-access:web-02/web-03",
        "web-access:web-02/(here)",
        "load-balancer:lb-01/web/web-03",
        "site:lb-01",
        "tls:lb-01",
    ] {
        assert!(
            checks.iter().any(|c| c.0 == id && c.1 == "pass"),
            "{id}: {checks:#?}"
        );
    }
    // What answered, in the evidence: MariaDB's greeting, the firewall's refusal, the web server.
    for (id, said) in [
        ("database-access:web-01", "10.89.7.30:3306 greets web-01"),
        (
            "database-access:lb-01",
            "10.89.7.30:3306 is refused to lb-01 at the network: No route to host",
        ),
        (
            "database-access:(here)",
            "10.89.7.30:3306 is refused to this machine (10.89.7.1) at the network: No route to host",
        ),
        (
            "web-access:web-01/lb-01",
            "10.89.7.21:80 accepts a connection from lb-01",
        ),
        (
            "web-access:web-01/web-03",
            "10.89.7.21:80 is refused to web-03 at the network",
        ),
    ] {
        let c = checks.iter().find(|c| c.0 == id).unwrap();
        assert!(c.3.starts_with(said), "{id}: {c:?}");
    }
    assert!(
        checks.iter().any(|c| c.0 == "dns:www.foobar.com"
            && c.1 == "pass"
            && c.3.contains("IN A 10.89.7.10")),
        "the record is asked of ns1: {checks:#?}"
    );
    assert!(with_status(&checks, "not-checked").is_empty());
    let out = cli()
        .args(["verify", "-i", INVENTORY, "--format", "junit"])
        .output()
        .unwrap();
    let xml = text(&out).0;
    assert!(xml.starts_with("<?xml") && xml.contains("<testsuites name=\"foobar-infra verify\""));
    assert!(
        xml.contains("failures=\"0\"") && !xml.contains("<failure"),
        "{xml}"
    );
}

#[test]
fn a_stopped_database_fails_once_and_blocks_the_chain_above_it() {
    let (_lab, _) = lab();
    ssh(DB, "sudo systemctl stop mariadb");
    let (code, checks) = verify(&[]);
    ssh(DB, "sudo systemctl start mariadb");
    assert_eq!(code, Some(1));
    assert_eq!(
        with_status(&checks, "fail"),
        ["services:db-01"],
        "{checks:#?}"
    );
    for id in [
        "database:db-01",
        "web:web-01",
        "load-balancer:lb-01/web/web-02",
        "site:lb-01",
    ] {
        let c = checks.iter().find(|c| c.0 == id).unwrap();
        assert_eq!(
            (c.1.as_str(), c.2.as_str()),
            ("blocked", "services:db-01"),
            "{id}"
        );
    }
    let (code, checks) = verify(&["--wait", "60s"]);
    assert_eq!(code, Some(0), "{checks:#?}");
}

#[test]
fn a_backend_in_maint_fails_naming_that_server() {
    let (_lab, _) = lab();
    admin("set server web/web-02 state maint");
    let (code, checks) = verify(&[]);
    admin("set server web/web-02 state ready");
    assert_eq!(code, Some(1));
    assert_eq!(
        with_status(&checks, "fail"),
        ["load-balancer:lb-01/web/web-02"],
        "{checks:#?}"
    );
    let evidence = &checks
        .iter()
        .find(|c| c.0 == "load-balancer:lb-01/web/web-02")
        .unwrap()
        .3;
    assert!(evidence.contains("MAINT"), "{evidence}");
    let site = checks.iter().find(|c| c.0 == "site:lb-01").unwrap();
    assert_eq!(site.1, "pass", "the others still serve: {site:?}");
    assert_eq!(verify(&["--wait", "30s"]).0, Some(0));
}

#[test]
fn a_stopped_server_is_named_and_rejoins() {
    let (_lab, _) = lab();
    cli().args(["lab", "stop", "web-02"]).assert().success();
    let (code, checks) = verify(&[]);
    cli().args(["lab", "start", "web-02"]).assert().success();
    assert_eq!(code, Some(1));
    assert_eq!(with_status(&checks, "fail"), ["ssh:web-02"], "{checks:#?}");
    let blocked = with_status(&checks, "blocked");
    assert!(
        blocked.contains(&"web:web-02") && blocked.contains(&"load-balancer:lb-01/web/web-02"),
        "{blocked:?}"
    );
    for up in [
        "load-balancer:lb-01/web/web-01",
        "load-balancer:lb-01/web/web-03",
        "site:lb-01",
    ] {
        assert!(
            checks.iter().any(|c| c.0 == up && c.1 == "pass"),
            "{up}: {checks:#?}"
        );
    }
    let (code, checks) = verify(&["--wait", "90s"]);
    assert_eq!(code, Some(0), "web-02 rejoins: {checks:#?}");
}

/// Checks whose evidence is not what it was before, by id.
fn evidence<'a>(checks: &'a [Row], id: &str) -> &'a str {
    &checks
        .iter()
        .find(|c| c.0 == id)
        .unwrap_or_else(|| panic!("no {id}: {checks:#?}"))
        .3
}

/// The lab's firewall as the last apply loaded it, on every host (what the tests below change
/// by hand).
fn reload_firewalls() {
    for address in [LB, DB, WEB[0].1, WEB[1].1, WEB[2].1] {
        ssh(
            address,
            "sudo systemctl reload foobar-infra-firewall.service",
        );
    }
}

#[test]
fn a_hole_in_a_firewall_fails_the_path_it_opens_and_says_who_answered() {
    let (_lab, _) = lab();
    // The database admits the load balancer (whose user MariaDB does not know), web-01 admits
    // the database host, web-03 admits this machine: rules inserted ahead of the refusal.
    let hole = |address: &str, from: &str, port: u16| {
        ssh(
            address,
            &format!(
                "sudo nft insert rule inet foobar_infra input ip saddr {from} tcp dport {port} accept"
            ),
        )
    };
    hole(DB, LB, 3306);
    hole(WEB[0].1, DB, 80);
    hole(WEB[2].1, "10.89.7.1", 80);
    let (code, checks) = verify(&[]);
    reload_firewalls();
    assert_eq!(code, Some(1));
    assert_eq!(
        with_status(&checks, "fail"),
        [
            "database-access:lb-01",
            "web-access:web-01/db-01",
            "web-access:web-03/(here)",
        ],
        "{checks:#?}"
    );
    assert_eq!(
        evidence(&checks, "database-access:lb-01"),
        "10.89.7.30:3306 answers lb-01, then refuses it: not in the application user's host list; expected the firewall to refuse it"
    );
    assert_eq!(
        evidence(&checks, "web-access:web-01/db-01"),
        "10.89.7.21:80 accepts a connection from db-01; expected the firewall to refuse it"
    );
    assert_eq!(
        evidence(&checks, "web-access:web-03/(here)"),
        "10.89.7.23:80 accepts a connection from this machine (10.89.7.1); expected the firewall to refuse it"
    );
    let (code, checks) = verify(&[]);
    assert_eq!(code, Some(0), "the firewalls as applied again: {checks:#?}");
}

#[test]
fn an_unloaded_firewall_fails_once_and_blocks_the_refusals_it_made() {
    let (_lab, _) = lab();
    ssh(WEB[1].1, "sudo nft delete table inet foobar_infra");
    let (code, checks) = verify(&[]);
    reload_firewalls();
    assert_eq!(code, Some(1));
    assert_eq!(
        with_status(&checks, "fail"),
        ["firewall:web-02"],
        "{checks:#?}"
    );
    assert!(
        evidence(&checks, "firewall:web-02").starts_with("table inet foobar_infra is not loaded"),
        "{checks:#?}"
    );
    let blocked: Vec<&str> = with_status(&checks, "blocked");
    assert_eq!(
        blocked,
        [
            "web-access:web-02/web-01",
            "web-access:web-02/web-03",
            "web-access:web-02/db-01",
            "web-access:web-02/ns1",
            "web-access:web-02/(here)",
        ],
        "what the load balancer may reach still passes: {checks:#?}"
    );
    assert!(
        checks
            .iter()
            .any(|c| c.0 == "web-access:web-02/lb-01" && c.1 == "pass")
    );
    assert_eq!(verify(&[]).0, Some(0));
}

#[test]
fn a_stray_listener_is_named_with_its_process_and_refused_all_the_same() {
    let (_lab, _) = lab();
    let (web, address) = WEB[0];
    // One on every address, one on loopback only (which is fine).
    for (unit, bind) in [("stray-8081", "0.0.0.0"), ("local-8082", "127.0.0.1")] {
        let port = &unit[unit.len() - 4..];
        ssh(
            address,
            &format!(
                "sudo systemd-run --collect --unit=foobar-test-{unit} python3 -m http.server --bind {bind} {port}"
            ),
        );
    }
    // Wait for both to listen.
    ssh(
        address,
        "for i in $(seq 50); do [ \"$(ss -H -tln '( sport = :8081 or sport = :8082 )' | wc -l)\" = 2 ] && break; sleep 0.1; done",
    );
    let (code, checks) = verify(&[]);
    // The firewall refuses it from here, though it listens.
    let refused = std::net::TcpStream::connect_timeout(
        &format!("{address}:8081").parse().unwrap(),
        std::time::Duration::from_secs(3),
    );
    ssh(
        address,
        "sudo systemctl stop foobar-test-stray-8081 foobar-test-local-8082",
    );
    assert_eq!(code, Some(1));
    let id = format!("listening:{web}");
    assert_eq!(with_status(&checks, "fail"), [id.as_str()], "{checks:#?}");
    let why = evidence(&checks, &id);
    assert!(
        why.starts_with("tcp 0.0.0.0:8081 (python3, pid ")
            && why.ends_with(") listens beyond loopback on a port the firewall does not admit")
            && !why.contains("8082"),
        "{why}"
    );
    let e = refused.expect_err("the firewall refuses 8081");
    assert_eq!(e.kind(), std::io::ErrorKind::HostUnreachable, "{e}");
    let (code, checks) = verify(&[]);
    assert_eq!(code, Some(0), "{checks:#?}");
    assert!(
        evidence(&checks, &id).starts_with(
            "beyond loopback only on ports the firewall admits: tcp 22 (sshd), tcp 80 (nginx"
        ),
        "{checks:#?}"
    );
}
