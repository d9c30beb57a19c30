//! Saved plans and unreachable hosts.

use crate::support::*;

#[test]
fn a_stale_saved_plan_is_refused() {
    let (_lab, _) = lab();
    let web03 = WEB[2].1;
    ssh(
        web03,
        "echo '# first edit' | sudo tee -a /etc/nginx/nginx.conf >/dev/null",
    );
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode", "--out"])
        .arg(&saved)
        .assert()
        .code(2);
    ssh(
        web03,
        "echo '# second edit' | sudo tee -a /etc/nginx/nginx.conf >/dev/null",
    );
    let out = cli().arg("apply").arg(&saved).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("host web-03: /etc/nginx/nginx.conf changed since the plan was made"),
        "{stderr}"
    );
    assert!(
        ssh(web03, "cat /etc/nginx/nginx.conf").contains("# second edit"),
        "nothing was applied"
    );
    // A fresh saved plan applies exactly, without asking.
    cli()
        .args(["plan", "-i", INVENTORY, "--out"])
        .arg(&saved)
        .assert()
        .success();
    cli().arg("apply").arg(&saved).assert().success();
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn an_unreachable_host_is_named_and_the_others_are_planned() {
    let (_lab, _) = lab();
    cli().args(["lab", "stop", "web-03"]).assert().success();
    let out = cli()
        .args(["plan", "-i", INVENTORY, "--format", "json"])
        .output()
        .unwrap();
    cli().args(["lab", "start", "web-03"]).assert().success();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("host web-03 (10.89.7.23) is unreachable"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let planned: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["host"].as_str())
        .collect();
    assert_eq!(
        planned,
        ["lb-01", "web-01", "web-02", "db-01", "ns1"],
        "the reachable hosts are planned"
    );
    assert!(
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["zone"] == "foobar.com"),
        "and the zone: {stdout}"
    );
    assert_eq!(v["unreachable"].as_array().unwrap().len(), 1);
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let (_lab, _) = lab();
    let web01 = WEB[0].1;
    ssh(
        web01,
        "echo '# drift' | sudo tee -a /etc/nginx/nginx.conf >/dev/null",
    );
    let out = cli().args(["apply", "-i", INVENTORY]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("--auto-approve"));
    assert!(
        ssh(web01, "cat /etc/nginx/nginx.conf").contains("# drift"),
        "nothing applied"
    );
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
}

#[test]
fn an_unknown_host_key_is_refused_never_accepted() {
    let (_lab, _) = lab();
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let empty = dir.join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let text_ = std::fs::read_to_string(format!("{root}/{INVENTORY}"))
        .unwrap()
        .replace(
            "known_hosts: ~/.local/state/foobar-infra/lab/known_hosts",
            &format!("known_hosts: {}", empty.display()),
        )
        .replace("../examples/", &format!("{root}/examples/"));
    let topo = dir.join("unknown-host-key.yaml");
    std::fs::write(&topo, text_).unwrap();
    let out = cli().args(["plan", "-i"]).arg(&topo).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    for host in ["lb-01", "web-01", "web-02", "web-03", "db-01"] {
        assert!(
            stderr.contains(&format!("host {host} ("))
                && stderr.contains("SSH host key is unknown or has changed"),
            "{stderr}"
        );
    }
    assert!(
        std::fs::read_to_string(&empty).unwrap().is_empty(),
        "no key was added"
    );
}
