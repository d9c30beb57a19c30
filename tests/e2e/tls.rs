//! HTTPS at the load balancer as inventories/lab.yaml serves it, with the lab's CA: trusted by a
//! client that trusts only that CA, HTTP redirected, HSTS sent, and a new certificate swapped in
//! under load without a failed request, over HTTPS and on the HTTP redirect alike.

use crate::support::*;
use foobar_infra::lab::ca::{self, LabTls};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn lab_tls() -> LabTls {
    LabTls::in_dir(&crate::lab_ssh::state_dir())
}

/// The lab inventory with `load_balancer.tls` naming these files instead of the lab's own.
fn with_certificate(
    certificate: &std::path::Path,
    key: &std::path::Path,
) -> impl Fn(&str) -> String {
    let (c, k) = (certificate.display().to_string(), key.display().to_string());
    move |t: &str| {
        t.replace(
            "    certificate: ~/.local/state/foobar-infra/lab/tls/site.pem\n    key: { file: ~/.local/state/foobar-infra/lab/tls/site.key }\n",
            &format!("    certificate: {c}\n    key: {{ file: {k} }}\n"),
        )
    }
}

/// `curl` over HTTPS to the load balancer as www.foobar.com, trusting only the lab CA:
/// (exit code, response headers).
fn https(path: &str) -> (i32, String) {
    let out = curl_https(path, 5)
        .args(["-D", "-", "-o", "/dev/null"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_lowercase(),
    )
}

/// `curl` over plain HTTP to the load balancer as www.foobar.com: (exit code, response headers).
fn http(path: &str) -> (i32, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-m", "5", "-D", "-", "-o", "/dev/null"])
        .args(["--resolve", &format!("www.foobar.com:80:{LB}")])
        .arg(format!("http://www.foobar.com{path}"))
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

    // The lab as applied: HTTPS trusted through the lab CA, HSTS, and HTTP sent to HTTPS.
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
    let (code, head) = http("/db?x=1");
    assert_eq!(code, 0, "{head}");
    assert!(head.contains(" 301"), "{head}");
    assert!(
        head.contains("location: https://www.foobar.com/db?x=1"),
        "{head}"
    );
    assert!(
        !head.contains("strict-transport-security"),
        "HSTS over HTTPS only: {head}"
    );

    // A new certificate from the same CA.
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
    let (_d, rotated) = variant(with_certificate(&cert_path, &key_path));
    let out = cli().args(["plan", "-i", &rotated]).output().unwrap();
    let (plan, err) = text(&out);
    assert!(out.status.success(), "{plan}{err}");
    assert!(plan.contains("/etc/haproxy/certs/"), "{plan}");
    assert!(
        plan.contains("- sha256 ")
            && plan.contains("+ sha256 ")
            && plan.contains("CN=www.foobar.com"),
        "the certificates are shown by their fingerprints and subject: {plan}"
    );
    assert!(!plan.contains("PRIVATE KEY"), "never the key");

    // Swapped in under an HTTPS load (a fresh connection and handshake per request) while an
    // HTTP client checks that every plain request still gets its redirect.
    let before = served_fingerprint();
    assert!(before.contains("Fingerprint="), "{before:?}");
    let https_load = crate::load::start(4, "/", 60_000, Duration::from_secs(60));
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let http_client = {
        let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::SeqCst)
                && started.elapsed() < Duration::from_secs(40)
                && sent.load(Ordering::SeqCst) < 2000
            {
                sent.fetch_add(1, Ordering::SeqCst);
                let (code, head) = http("/");
                if code != 0 || !head.contains(" 301") {
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
    http_client.join().unwrap();
    let tally = https_load.stop();
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    let after = served_fingerprint();
    assert_ne!(before, after, "the new certificate is served");
    eprintln!(
        "certificate rotation: HTTPS {} requests in {:.1}s, {} failed; HTTP (redirect) {} requests, {} failed",
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
        "the HTTPS load outlived the apply ({:.1}s < {apply_seconds:.1}s)",
        tally.seconds
    );
    assert_eq!(tally.failed, 0, "{tally:?}");
    assert_eq!(failed.load(Ordering::SeqCst), 0);

    // Back to the lab's own certificate.
    cli()
        .args(["apply", "-i", INVENTORY, "--auto-approve"])
        .assert()
        .success();
    assert_eq!(served_fingerprint(), before, "the lab's certificate again");
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
