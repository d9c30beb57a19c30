//! apply: from bare hosts to a working site; idempotence; drift repair; refusal of invalid configs.

use crate::support::*;

#[test]
fn fresh_lab_serves_the_site_from_every_server() {
    let (_lab, (first, seconds)) = lab();
    let (out, _) = text(first);
    assert!(
        out.contains("Apply finished: 6 host(s) and 1 zone changed, 0 failed."),
        "{out}"
    );
    eprintln!("first apply on bare hosts: {seconds:.1}s");
    let mut served = std::collections::BTreeSet::new();
    for _ in 0..9 {
        let (status, by, _) = get("/");
        assert_eq!(status, 200);
        served.insert(by);
    }
    assert_eq!(
        served.into_iter().collect::<Vec<_>>(),
        ["web-01", "web-02", "web-03"],
        "round robin over all three"
    );
    let (status, _, body) = get("/db");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("hello from the database"),
        "the app reads from MariaDB: {body}"
    );
    assert_eq!(get("/static/style.css").0, 200, "Nginx serves static files");
}

#[test]
fn second_apply_changes_and_reloads_nothing() {
    let (_lab, _) = lab();
    let units = [
        (LB, "haproxy"),
        (WEB[0].1, "nginx"),
        (WEB[1].1, "foobar-app"),
        (DB, "mariadb"),
    ];
    let before: Vec<usize> = units.iter().map(|(a, u)| lifecycle_events(a, u)).collect();
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "No changes.", "{stdout}");
    let after: Vec<usize> = units.iter().map(|(a, u)| lifecycle_events(a, u)).collect();
    assert_eq!(
        before, after,
        "no service was started, reloaded or restarted"
    );
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn drift_on_one_host_is_planned_and_repaired_there_only() {
    let (_lab, _) = lab();
    let (web02, web02_addr) = WEB[1];
    ssh(
        web02_addr,
        "echo '# edited by hand' | sudo tee -a /etc/nginx/conf.d/foobar.conf >/dev/null",
    );
    let plan = cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, _) = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!("{web02} ({web02_addr})")),
        "{stdout}"
    );
    assert!(
        stdout.contains("-# edited by hand"),
        "the diff shows the edit: {stdout}"
    );
    for (other, _) in [WEB[0], WEB[2]] {
        assert!(
            !stdout.contains(&format!("{other} (")),
            "{other} has no changes: {stdout}"
        );
    }
    assert!(stdout.contains("service nginx: reload"), "{stdout}");
    let before: Vec<usize> = WEB
        .iter()
        .map(|(_, a)| lifecycle_events(a, "nginx"))
        .collect();
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    let after: Vec<usize> = WEB
        .iter()
        .map(|(_, a)| lifecycle_events(a, "nginx"))
        .collect();
    assert_eq!(after[0], before[0], "web-01's nginx untouched");
    assert!(after[1] > before[1], "web-02's nginx reloaded");
    assert_eq!(after[2], before[2], "web-03's nginx untouched");
    assert!(!ssh(web02_addr, "cat /etc/nginx/conf.d/foobar.conf").contains("edited by hand"));
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn an_invalid_nginx_template_is_never_swapped_in() {
    let (_lab, _) = lab();
    // A directive Nginx does not know, on a line of its own.
    let dir = site_template(|t| {
        t.replacen(
            "    root {{ web.document_root }};",
            "    root {{ web.document_root }};\n    frobnicate on;",
            1,
        )
    });
    let live_before = site_files();
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve", "--templates"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("unknown directive \"frobnicate\" in /etc/nginx/conf.d/foobar.conf:"),
        "names the file and line: {stderr}"
    );
    assert!(
        stderr.contains("host web-01 failed at files"),
        "names the host: {stderr}"
    );
    assert!(
        has_row(&stdout, "lb-01 | skipped"),
        "the load balancer is not touched: {stdout}"
    );
    let live_after = site_files();
    assert_eq!(live_before, live_after, "the live files are unchanged");
    for (_, a) in WEB {
        assert_eq!(
            ssh(
                a,
                "ls /etc/nginx/conf.d/ /etc/nginx/ | grep -c foobar-new || true"
            )
            .trim(),
            "0",
            "no staged leftovers"
        );
    }
    assert_eq!(get("/").0, 200, "Nginx still serves");
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_held_lock_stops_a_second_apply() {
    let (_lab, _) = lab();
    let web01 = WEB[0].1;
    ssh(
        web01,
        "echo '# drift' | sudo tee -a /etc/foobar/gunicorn.conf.py >/dev/null; sudo mkdir -p /var/lib/foobar-infra/lock; echo 'ops@elsewhere (pid 42)' | sudo tee /var/lib/foobar-infra/lock/holder >/dev/null",
    );
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("another apply holds the lock on web-01: ops@elsewhere (pid 42)"),
        "{stderr}"
    );
    ssh(web01, "sudo rm -rf /var/lib/foobar-infra/lock");
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn ctrl_c_stops_cleanly_with_exit_130() {
    let (_lab, _) = lab();
    for (_, a) in WEB {
        ssh(
            a,
            "echo '# drift' | sudo tee -a /etc/nginx/nginx.conf >/dev/null",
        );
    }
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("foobar-infra"))
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While it connects, plans or applies: any point must end cleanly.
    std::thread::sleep(std::time::Duration::from_millis(250));
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("Interrupted"), "{stderr}");
    for (host, a) in WEB {
        let left = ssh(
            a,
            "ls -a /etc/nginx /var/lib/foobar-infra | grep -c -E 'foobar-new|foobar-check|^lock$' || true",
        );
        assert_eq!(
            left.trim(),
            "0",
            "{host}: nothing half-written, lock released"
        );
        assert!(
            ssh(a, "sudo nginx -t -q && echo ok").contains("ok"),
            "{host}: the live config is whole"
        );
    }
    assert_eq!(get("/").0, 200);
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn privileges_beyond_least_privilege_are_revoked() {
    let (_lab, _) = lab();
    ssh(
        DB,
        "sudo mysql -e \"GRANT DROP, ALTER ON foobar.* TO 'foobar'@'10.89.7.22'\"",
    );
    let plan = cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, _) = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("database foobar@10.89.7.22: fix privileges, revoking ALTER, DROP"),
        "{stdout}"
    );
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    let grants = ssh(
        DB,
        "sudo mysql -N -e \"SHOW GRANTS FOR 'foobar'@'10.89.7.22'\"",
    );
    assert!(
        grants.contains("GRANT SELECT, INSERT, UPDATE, DELETE ON `foobar`.*"),
        "{grants}"
    );
    assert!(
        !grants.contains("DROP") && !grants.contains("ALTER"),
        "{grants}"
    );
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_stopped_database_is_planned_honestly_and_started() {
    let (_lab, _) = lab();
    ssh(DB, "sudo systemctl stop mariadb");
    let plan = cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, _) = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("service mariadb.service: start"),
        "{stdout}"
    );
    assert!(stdout.contains("the server is not answering"), "{stdout}");
    assert!(
        !stdout.contains("create user"),
        "nothing invented: {stdout}"
    );
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    // The servers' health checks query the database: HAProxy takes them back once it answers.
    cli()
        .args(["verify", "-i", INVENTORY, "--wait", "30s"])
        .assert()
        .success();
    assert_eq!(get("/db").0, 200);
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn reloads_owed_by_an_unfinished_run_are_planned_and_done() {
    let (_lab, _) = lab();
    let web01 = WEB[0].1;
    // What a run interrupted between a swap and its reload leaves behind.
    ssh(
        web01,
        "echo 'nginx reload' | sudo tee /var/lib/foobar-infra/pending >/dev/null",
    );
    let plan = cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, _) = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("service nginx: reload (owed by an earlier apply that did not finish)"),
        "{stdout}"
    );
    let before = lifecycle_events(web01, "nginx");
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    assert!(lifecycle_events(web01, "nginx") > before, "nginx reloaded");
    assert_eq!(
        ssh(
            web01,
            "test -e /var/lib/foobar-infra/pending && echo left || echo cleared"
        )
        .trim(),
        "cleared"
    );
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_change_that_fails_its_health_check_is_rolled_back() {
    let (_lab, _) = lab();
    // Valid for nginx -t, but the health endpoint now fails.
    let dir = site_template(|t| {
        t.replacen(
            "        access_log off;\n",
            "        access_log off;\n        return 503;\n",
            1,
        )
    });
    let live_before = site_files();
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve", "--templates"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        has_row(&stdout, "web-01 | failed | at health; files rolled back"),
        "{stdout}"
    );
    assert!(
        stderr.contains("/healthz does not answer 200 through Nginx"),
        "{stderr}"
    );
    assert!(
        has_row(&stdout, "web-02 | skipped | web-01 went first and failed"),
        "the canary stops the others: {stdout}"
    );
    assert!(has_row(&stdout, "web-03 | skipped"), "{stdout}");
    assert!(has_row(&stdout, "lb-01 | skipped"), "{stdout}");
    let live_after = site_files();
    assert_eq!(live_before, live_after, "the old files are back");
    for _ in 0..6 {
        assert_eq!(get("/healthz").0, 200, "the site kept serving");
    }
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}
