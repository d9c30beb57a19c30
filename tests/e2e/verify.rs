//! verify on the lab: a healthy chain passes; a stopped database, a backend in MAINT and a
//! stopped server each fail at their own hop, and what depends on them is blocked, not failed.

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
        "database:db-01",
        "database-access:web-01",
        "database-access:lb-01",
        "web:web-02",
        "load-balancer:lb-01/web/web-03",
        "site:lb-01",
        "tls:lb-01",
    ] {
        assert!(
            checks.iter().any(|c| c.0 == id && c.1 == "pass"),
            "{id}: {checks:#?}"
        );
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
