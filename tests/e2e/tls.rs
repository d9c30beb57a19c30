//! HTTPS at the load balancer with the lab's CA: served and trusted by a client that trusts only
//! that CA, HTTP redirected, HSTS sent, and a new certificate swapped in under load without a
//! failed request, over HTTP and HTTPS alike.

use crate::support::*;
use foobar_infra::lab::ca::{self, LabTls};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn lab_tls() -> LabTls {
    LabTls::in_dir(&crate::lab_ssh::state_dir())
}

/// The lab inventory with `load_balancer.tls` from these files.
fn with_tls(
    certificate: &std::path::Path,
    key: &std::path::Path,
    redirect: bool,
) -> impl Fn(&str) -> String {
    let (c, k) = (certificate.display().to_string(), key.display().to_string());
    move |t: &str| {
        t.replace(
            "load_balancer:\n  listen: [80]\n",
            &format!(
                "load_balancer:\n  listen: [80]\n  tls:\n    certificate: {c}\n    key: {{ file: {k} }}\n    redirect_http: {redirect}\n"
            ),
        )
    }
}

/// `curl` over HTTPS to the load balancer as www.foobar.com, trusting only the lab CA:
/// (exit code, response headers).
fn https(path: &str) -> (i32, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-m", "5", "-D", "-", "-o", "/dev/null", "--cacert"])
        .arg(&lab_tls().ca)
        .args(["--resolve", &format!("www.foobar.com:443:{LB}")])
        .arg(format!("https://www.foobar.com{path}"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_lowercase(),
    )
}

/// The SHA-256 fingerprint of the certificate the load balancer serves.
fn served_fingerprint() -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect {LB}:443 -servername www.foobar.com </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
        ))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Puts the lab back as the inventory has it, however the test ends.
struct BackToTheLab;

impl Drop for BackToTheLab {
    fn drop(&mut self) {
        let _ = cli()
            .args(["apply", "-i", INVENTORY, "--auto-approve"])
            .output();
    }
}

#[test]
fn https_is_trusted_through_the_lab_ca_redirects_http_and_rotates_without_a_failed_request() {
    let (_lab, _) = lab();
    let _back = BackToTheLab;
    let files = lab_tls();
    assert!(
        files.ca.is_file() && files.certificate.is_file(),
        "lab up made the lab CA"
    );
    let (_d1, tls) = variant(with_tls(&files.certificate, &files.key, true));
    let out = cli().args(["plan", "-i", &tls]).output().unwrap();
    let (plan, err) = text(&out);
    assert!(out.status.success(), "{plan}{err}");
    assert!(plan.contains("/etc/haproxy/certs/"), "{plan}");
    assert!(
        plan.contains("+ sha256 ") && plan.contains("CN=www.foobar.com"),
        "the certificate is shown by its fingerprint and subject: {plan}"
    );

    assert!(!plan.contains("PRIVATE KEY"), "never the key");
    cli()
        .args(["apply", "-i", &tls, "--auto-approve"])
        .assert()
        .success();

    let (code, head) = https("/");
    assert_eq!(
        code, 0,
        "the client trusts the lab CA and the name matches: {head}"
    );
    assert!(head.starts_with("http/"), "{head}");
    assert!(head.contains(" 200"), "{head}");
    assert!(
        head.contains("strict-transport-security: max-age="),
        "{head}"
    );
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-m",
            "5",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-H",
            "Host: www.foobar.com",
        ])
        .arg(format!("http://{LB}/db?x=1"))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(head.contains(" 301"), "{head}");
    assert!(
        head.contains("location: https://www.foobar.com/db?x=1"),
        "{head}"
    );

    // A new certificate from the same CA, swapped in under load (HTTP kept open for the load).
    let dir = tempfile::tempdir().unwrap();
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(&files.ca_key).unwrap()).unwrap();
    let (pem, key) = ca::issue(
        &std::fs::read_to_string(&files.ca).unwrap(),
        ca_key,
        &["www.foobar.com".to_string(), "foobar.com".to_string()],
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let (cert_path, key_path) = (dir.path().join("new.pem"), dir.path().join("new.key"));
    std::fs::write(&cert_path, pem).unwrap();
    std::fs::write(&key_path, key).unwrap();
    // HTTP answers again (no redirect) for the HTTP load, before the rotation is measured.
    let (_d1b, plain_too) = variant(with_tls(&files.certificate, &files.key, false));
    cli()
        .args(["apply", "-i", &plain_too, "--auto-approve"])
        .assert()
        .success();
    let (_d2, rotated) = variant(with_tls(&cert_path, &key_path, false));
    let before = served_fingerprint();
    let http_load = crate::load::start(4, "/", 60_000, Duration::from_secs(60));
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let https_load = {
        let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::SeqCst)
                && started.elapsed() < Duration::from_secs(40)
                && sent.load(Ordering::SeqCst) < 2000
            {
                sent.fetch_add(1, Ordering::SeqCst);
                let (code, head) = https("/");
                if code != 0 || !head.contains(" 200") {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let applying = Instant::now();
    let out = cli()
        .args(["apply", "-i", &rotated, "--auto-approve"])
        .output()
        .unwrap();
    let apply_seconds = applying.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    https_load.join().unwrap();
    let tally = http_load.stop();
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    let after = served_fingerprint();
    assert_ne!(before, after, "the new certificate is served");
    eprintln!(
        "certificate rotation: HTTP {} requests in {:.1}s, {} failed; HTTPS {} requests, {} failed",
        tally.sent,
        tally.seconds,
        tally.failed,
        sent.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst)
    );
    assert!(
        tally.sent > 100 && sent.load(Ordering::SeqCst) > 10,
        "the loads ran"
    );
    assert!(
        tally.seconds > apply_seconds,
        "the HTTP load outlived the apply ({:.1}s < {apply_seconds:.1}s)",
        tally.seconds
    );
    assert_eq!(tally.failed, 0, "{tally:?}");
    assert_eq!(failed.load(Ordering::SeqCst), 0);

    // Back to the lab as it was.
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    let (code, out, err) = {
        let o = cli()
            .args(["plan", "-i", INVENTORY, "--detailed-exitcode"])
            .output()
            .unwrap();
        let (a, b) = text(&o);
        (o.status.code(), a, b)
    };
    assert_eq!(code, Some(0), "{out}{err}");
}
