//! A topology is untrusted and runs race: jump hosts checked as strictly as the hosts, the lock
//! taken before observing, a lock left by a killed run reported as stale and broken by id, and a
//! managed file replaced by a symbolic link planned as drift and replaced, never followed.

use crate::support::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The lab's topology with `edit` applied, written beside the test binaries.
fn topology_variant(name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/{INVENTORY}"))
        .unwrap()
        .replace("../examples/", &format!("{root}/examples/"));
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

fn known_hosts() -> PathBuf {
    crate::lab_ssh::state_dir().join("known_hosts")
}

/// The lab's topology going through lb-01 as its jump host, with `known` as known_hosts.
fn through_jump(name: &str, known: &std::path::Path) -> PathBuf {
    topology_variant(name, |t| {
        t.replace(
            "known_hosts: ~/.local/state/foobar-infra/lab/known_hosts",
            &format!("known_hosts: {}\n  jump: deploy@{LB}:22", known.display()),
        )
    })
}

#[test]
fn a_jump_host_is_used_and_its_key_is_checked_as_strictly_as_the_hosts() {
    let (_lab, _) = lab();
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("known_hosts");
    std::fs::copy(known_hosts(), &all).unwrap();
    let topo = through_jump("jump.yaml", &all);
    let out = cli()
        .args(["plan", "--detailed-exitcode", "-i"])
        .arg(&topo)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");

    // Without the jump host's key, no host can be reached: every connection goes through it,
    // and it is checked against the same known_hosts, never accepted.
    let without = dir.path().join("known_hosts_without_lb");
    let kept: String = std::fs::read_to_string(&all)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(LB))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&without, &kept).unwrap();
    let topo = through_jump("jump-unknown-key.yaml", &without);
    let out = cli().args(["plan", "-i"]).arg(&topo).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("host web-01 (10.89.7.21): its SSH host key is unknown or has changed")
            && stderr.contains(&format!("through the jump host deploy@{LB}:22")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&without).unwrap(),
        kept,
        "no key was added"
    );
}

#[test]
fn a_jump_host_value_never_reaches_a_shell() {
    let marker = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("jump-pwned");
    let _ = std::fs::remove_file(&marker);
    let topo = topology_variant("jump-injection.yaml", |t| {
        t.replace(
            "become: true",
            &format!("become: true\n  jump: \"x$(touch {})\"", marker.display()),
        )
    });
    for command in ["validate", "plan"] {
        let out = cli().arg(command).arg("-i").arg(&topo).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains("is not [user@]host[:port]"),
            "{stdout}{stderr}"
        );
    }
    assert!(!marker.exists(), "the jump value ran a command");
}

/// Drift on every web host, so that an apply takes a few seconds (reloads, health checks).
fn drift_every_web_host() {
    for (_, a) in WEB {
        ssh(
            a,
            "echo '# drift' | sudo tee -a /etc/nginx/nginx.conf >/dev/null",
        );
    }
}

fn spawn_apply() -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("foobar-infra"))
        .args([
            "apply",
            "-i",
            INVENTORY,
            "--auto-approve",
            "--confirm-timeout",
            "10s",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until some host's lock exists (the first run took it).
fn wait_for_lock(address: &str) {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if ssh(
            address,
            "sudo test -d /var/lib/foobar-infra/lock && echo yes",
        )
        .trim()
            == "yes"
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the first apply never took the lock on {address}");
}

#[test]
fn a_second_apply_is_refused_before_it_observes() {
    let (_lab, _) = lab();
    drift_every_web_host();
    let first = spawn_apply();
    wait_for_lock(WEB[2].1);
    let second = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let (stdout, stderr) = text(&second);
    assert_eq!(second.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("another apply holds the lock on"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("Plan:") && !stdout.contains("file "),
        "the second run planned nothing: {stdout}"
    );
    assert!(
        first.status.success(),
        "{}{}",
        text(&first).0,
        text(&first).1
    );
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_killed_apply_leaves_a_stale_lock_that_force_unlock_breaks() {
    let (_lab, _) = lab();
    drift_every_web_host();
    let mut run = spawn_apply();
    wait_for_lock(WEB[2].1);
    run.kill().unwrap();
    let _ = run.wait();
    let killed_at = Instant::now();

    // At once, the lock still counts as live: its holder may only be slow.
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("another apply holds the lock on"),
        "{}",
        text(&out).1
    );

    // Once nobody has renewed it for 30 s, it is reported as stale, with how to break it.
    let wait = Duration::from_secs(36).saturating_sub(killed_at.elapsed());
    std::thread::sleep(wait);
    let out = cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has not been renewed for"), "{stderr}");
    let id = stale_lock_id(&stderr);
    assert_eq!(id.len(), 16, "{stderr}");

    // Another id breaks nothing; the right one breaks the lock everywhere it stands.
    cli()
        .args(["force-unlock", "-i", INVENTORY, "00000000deadbeef"])
        .assert()
        .code(1);
    let out = cli()
        .args(["force-unlock", "-i", INVENTORY, &id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", text(&out).0, text(&out).1);
    assert!(text(&out).1.contains(&format!("Released lock {id} on")));
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
    // Whatever server the killed run had taken out is back in service.
    cli()
        .args(["verify", "-i", INVENTORY, "--wait", "60s"])
        .assert()
        .success();
}

#[test]
fn a_managed_file_replaced_by_a_link_is_replaced_never_followed() {
    let (_lab, _) = lab();
    let web01 = WEB[0].1;
    let shadow_before = ssh(
        web01,
        "sudo sha256sum /etc/shadow; sudo stat -c %a:%U /etc/shadow",
    );
    ssh(
        web01,
        "sudo ln -sfn /etc/shadow /etc/nginx/nginx.conf.link && sudo mv -fT /etc/nginx/nginx.conf.link /etc/nginx/nginx.conf",
    );
    let out = cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains("file /etc/nginx/nginx.conf (replaces a symbolic link"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("root:") && !stdout.contains("deploy:"),
        "nothing of /etc/shadow is shown: {stdout}"
    );
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    assert_eq!(
        ssh(web01, "sudo stat -c %F /etc/nginx/nginx.conf").trim(),
        "regular file"
    );
    assert_eq!(
        ssh(
            web01,
            "sudo sha256sum /etc/shadow; sudo stat -c %a:%U /etc/shadow"
        ),
        shadow_before,
        "the link's target was not written"
    );
    cli()
        .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
        .assert()
        .code(0);
}
