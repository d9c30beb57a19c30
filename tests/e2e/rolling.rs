//! Rolling changes under load: each server drained from the load balancer while it changes, so a
//! restart, an Nginx change or a new release costs no request; a release that fails its health
//! check is rolled back on the canary alone; a stopped server costs no request either.

use crate::load::{self, Tally};
use crate::support::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const MAX_REQUESTS: u64 = 60_000;
const MAX_TIME: Duration = Duration::from_secs(120);

/// The lab's topology with `edit` applied.
fn variant(name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/{INVENTORY}"))
        .unwrap()
        .replace("../examples/", &format!("{root}/examples/"));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// Applies `topology` (with `extra` arguments) while the load runs; the load goes on a second
/// after the apply so that late failures count too.
fn apply_under_load(topology: &Path, extra: &[&str]) -> (std::process::Output, Tally, f64) {
    let load = load::start(CLIENTS, "/", MAX_REQUESTS, MAX_TIME);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let out = cli()
        .args(["apply", "--auto-approve", "-i"])
        .arg(topology)
        .args(extra)
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    (out, load.stop(), seconds)
}

fn assert_no_failed_request(what: &str, t: &Tally) {
    eprintln!(
        "{what}: {} requests in {:.1}s, {} failed",
        t.sent, t.seconds, t.failed
    );
    assert!(t.sent > 200, "{what}: the load ran ({t:?})");
    assert_eq!(t.failed, 0, "{what}: {t:?}");
}

fn back_to_the_lab() {
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    cli()
        .args(["verify", "-i", INVENTORY, "--wait", "60s"])
        .assert()
        .success();
}

#[test]
fn an_app_restart_rolls_across_the_servers_without_a_failed_request() {
    let (_lab, _) = lab();
    let topo = variant("roll-env.yaml", |t| {
        t.replace(
            "  workers: 2\n",
            "  workers: 2\n  environment:\n    ROLL: \"1\"\n",
        )
    });
    let (out, tally, seconds) = apply_under_load(&topo, &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    eprintln!("rolling restart of 3 app servers: {seconds:.1}s");
    for web in ["web-01", "web-02", "web-03"] {
        assert!(has_row(&stdout, &format!("{web} | changed")), "{stdout}");
    }
    assert_no_failed_request("app restart", &tally);
    let (_, tally, _) = apply_under_load(Path::new(INVENTORY), &[]);
    assert_no_failed_request("app restart back", &tally);
    back_to_the_lab();
}

#[test]
fn an_nginx_change_rolls_without_a_failed_request() {
    let (_lab, _) = lab();
    let templates = site_template(|t| format!("# rolled\n{t}"));
    let topo = variant("roll-nginx.yaml", |t| t);
    let dir = templates.path().to_str().unwrap().to_string();
    let (out, tally, _) = apply_under_load(&topo, &["--templates", &dir]);
    assert!(out.status.success(), "{}{}", text(&out).0, text(&out).1);
    assert_no_failed_request("nginx change", &tally);
    back_to_the_lab();
}

/// A copy of the example app whose `/` says `marker` and whose `/healthz` answers `health`.
fn app_copy(marker: &str, health: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/app");
    for entry in std::fs::read_dir(&root).unwrap() {
        let e = entry.unwrap();
        let to = dir.path().join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(e.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    let app = dir.path().join("app.py");
    let text = std::fs::read_to_string(&app)
        .unwrap()
        .replace(
            "served by {SERVER}</p>",
            &format!("served by {{SERVER}} ({marker})</p>"),
        )
        .replace(
            "body, status, ctype = b\"ok\\n\", \"200 OK\", \"text/plain\"",
            &format!("body, status, ctype = b\"ok\\n\", \"{health}\", \"text/plain\""),
        );
    std::fs::write(&app, text).unwrap();
    dir
}

fn with_source(name: &str, app: &Path) -> PathBuf {
    variant(name, |t| {
        let root = env!("CARGO_MANIFEST_DIR");
        t.replace(
            &format!("source: {root}/examples/app"),
            &format!("source: {}", app.display()),
        )
    })
}

#[test]
fn a_new_release_rolls_without_a_failed_request_and_every_server_serves_it() {
    let (_lab, _) = lab();
    let app = app_copy("v2", "200 OK");
    let topo = with_source("roll-release.yaml", app.path());
    let (out, tally, _) = apply_under_load(&topo, &[]);
    assert!(out.status.success(), "{}{}", text(&out).0, text(&out).1);
    assert_no_failed_request("new release", &tally);
    let mut served = std::collections::BTreeSet::new();
    for _ in 0..9 {
        let (status, by, body) = get("/");
        assert_eq!(status, 200);
        assert!(body.contains("(v2)"), "{by} serves the new release: {body}");
        served.insert(by);
    }
    assert_eq!(served.len(), 3);
    back_to_the_lab();
}

#[test]
fn a_release_that_fails_its_health_check_is_rolled_back_on_the_canary_alone() {
    let (_lab, _) = lab();
    let releases = |a: &str| ssh(a, "readlink /srv/foobar/current");
    let before: Vec<String> = WEB.iter().map(|(_, a)| releases(a)).collect();
    let app = app_copy("broken", "500 Internal Server Error");
    let topo = with_source("roll-broken.yaml", app.path());
    let (out, tally, _) = apply_under_load(&topo, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        has_row(&stdout, "web-01 | failed | at health; files rolled back"),
        "{stdout}"
    );
    for web in ["web-02", "web-03"] {
        assert!(
            has_row(
                &stdout,
                &format!("{web} | skipped | web-01 went first and failed")
            ),
            "{stdout}"
        );
    }
    assert_no_failed_request("failing release", &tally);
    let after: Vec<String> = WEB.iter().map(|(_, a)| releases(a)).collect();
    assert_eq!(after, before, "every server is on its previous release");
    cli()
        .args(["verify", "-i", INVENTORY, "--wait", "60s"])
        .assert()
        .success();
}

#[test]
fn a_stopped_server_costs_no_request_and_rejoins() {
    let (_lab, _) = lab();
    let load = load::start(CLIENTS, "/", MAX_REQUESTS, MAX_TIME);
    std::thread::sleep(Duration::from_millis(500));
    let stopped = Instant::now();
    cli().args(["lab", "stop", "web-02"]).assert().success();
    // Until HAProxy marks it down.
    let stat = "echo 'show stat' | sudo socat stdio UNIX-CONNECT:/run/haproxy/admin.sock | awk -F, '$2==\"web-02\" {print $18}'";
    let mut down_after = None;
    while stopped.elapsed() < Duration::from_secs(30) {
        if ssh(LB, stat).trim().starts_with("DOWN") {
            down_after = Some(stopped.elapsed().as_secs_f64());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(5));
    let tally = load.stop();
    cli().args(["lab", "start", "web-02"]).assert().success();
    let down_after = down_after.expect("HAProxy marks web-02 down");
    eprintln!("web-02 stopped: HAProxy marked it down after {down_after:.1}s");
    assert_no_failed_request("stopped server", &tally);
    cli()
        .args(["verify", "-i", INVENTORY, "--wait", "90s"])
        .assert()
        .success();
}

/// The operator's machine dies in the middle of a host's change (SIGKILL): the host's watchdog
/// puts the change back by itself, the load balancer puts the server back into service by
/// itself, no request fails, and the next plan of the unchanged topology is clean.
#[test]
fn a_run_killed_mid_change_is_put_back_by_the_hosts_themselves() {
    let (_lab, _) = lab();
    let topo = variant("roll-killed.yaml", |t| {
        t.replace(
            "  workers: 2\n",
            "  workers: 2\n  environment:\n    KILLED: \"1\"\n",
        )
    });
    let load = load::start(CLIENTS, "/", MAX_REQUESTS, MAX_TIME);
    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("foobar-infra"))
        .args(["apply", "--auto-approve", "--confirm-timeout", "10s", "-i"])
        .arg(&topo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed as soon as the canary has swapped a file in.
    let web01 = WEB[0].1;
    let end = Instant::now() + Duration::from_secs(60);
    while !ssh(web01, "sudo cat /var/lib/foobar-infra/journal 2>/dev/null").contains("file ") {
        assert!(Instant::now() < end, "the canary never changed");
        std::thread::sleep(Duration::from_millis(50));
    }
    run.kill().unwrap();
    let _ = run.wait();
    let killed = Instant::now();
    // The host puts itself back (10 s), the load balancer readies it (30 s later).
    let out = cli()
        .args(["verify", "-i", INVENTORY, "--wait", "90s"])
        .output()
        .unwrap();
    let back_after = killed.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let tally = load.stop();
    assert!(out.status.success(), "{}{}", text(&out).0, text(&out).1);
    eprintln!("killed mid-change: back in service by itself after {back_after:.1}s");
    assert_no_failed_request("killed mid-change", &tally);
    assert!(
        ssh(web01, "sudo journalctl -q -u foobar-infra-watchdog -o cat")
            .contains("foobar-infra: restored"),
        "the host's watchdog put the change back"
    );
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
    // The dead run's locks are stale by now: broken by their id, as an operator would.
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .output()
        .unwrap();
    let stderr = text(&out).1;
    let id = stale_lock_id(&stderr);
    cli()
        .args(["force-unlock", "-i", INVENTORY, &id])
        .assert()
        .success();
    back_to_the_lab();
}
