//! `load_balancer.tls`: `validate` refuses a certificate that is expired, for other names or
//! not matched by its key, and warns before it expires; `render` and `--check-configs` give
//! HAProxy the chain and a key it never shows. Certificates are made at test time (rcgen), so
//! none of these expire in the repository.

use crate::support::cli;
use rcgen::{CertificateParams, KeyPair};
use serde_json::Value;
use std::path::Path;
use time::{Duration, OffsetDateTime};

/// A certificate for `names`, valid from `from` to `until` days from now, and its key.
fn certificate(names: &[&str], from: i64, until: i64) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let now = OffsetDateTime::now_utc();
    params.not_before = now + Duration::days(from);
    params.not_after = now + Duration::days(until);
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

/// A topology with a load balancer serving `www.foobar.com` and `foobar.com` over HTTPS with the
/// given chain and key, in a folder of its own.
fn site(dir: &Path, chain: &str, key: &str, tls_extra: &str) -> String {
    std::fs::write(dir.join("site.pem"), chain).unwrap();
    std::fs::write(dir.join("site.key"), key).unwrap();
    let topology = dir.join("topology.yaml");
    std::fs::write(
        &topology,
        format!(
            "domain: foobar.com
hosts:
  lb-01: {{ address: 192.0.2.10, roles: [lb] }}
  web-01: {{ address: 192.0.2.21, roles: [web, app] }}
firewall:
  admin: [192.0.2.1]
web:
  server_names: [www.foobar.com, foobar.com]
load_balancer:
  tls:
    certificate: site.pem
    key: {{ file: site.key }}{tls_extra}
"
        ),
    )
    .unwrap();
    topology.display().to_string()
}

/// `validate --format json`: the exit code and the codes of the diagnostics.
fn validate(topology: &str) -> (i32, Vec<(String, String)>) {
    let out = cli()
        .args(["validate", "--format", "json", "-i", topology])
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes = value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (out.status.code().unwrap(), codes)
}

fn has(codes: &[(String, String)], code: &str, severity: &str) -> bool {
    codes.iter().any(|(c, s)| c == code && s == severity)
}

#[test]
fn a_valid_certificate_with_its_key_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "*.foobar.com"], -1, 90);
    let (code, codes) = validate(&site(dir.path(), &chain, &key, ""));
    assert_eq!((code, codes), (0, Vec::new()));
}

#[test]
fn an_expired_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "www.foobar.com"], -90, -1);
    let (code, codes) = validate(&site(dir.path(), &chain, &key, ""));
    assert_eq!(code, 1);
    assert!(has(&codes, "topology::tls-expired", "error"), "{codes:?}");
}

#[test]
fn a_certificate_for_other_names_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // `*.foobar.com` covers www but not the apex.
    let (chain, key) = certificate(&["*.foobar.com"], -1, 90);
    let topology = site(dir.path(), &chain, &key, "");
    let (code, codes) = validate(&topology);
    assert_eq!(code, 1);
    assert!(has(&codes, "topology::tls-name", "error"), "{codes:?}");
    let out = cli().args(["validate", "-i", &topology]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("does not cover `foobar.com` (it names `*.foobar.com`)"),
        "{text}"
    );
}

#[test]
fn a_certificate_expiring_within_30_days_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "www.foobar.com"], -60, 10);
    let (code, codes) = validate(&site(dir.path(), &chain, &key, ""));
    assert_eq!(code, 0);
    assert!(
        has(&codes, "topology::tls-expiring", "warning"),
        "{codes:?}"
    );
}

#[test]
fn a_key_of_another_certificate_is_refused_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, _) = certificate(&["foobar.com", "www.foobar.com"], -1, 90);
    let (_, other_key) = certificate(&["foobar.com"], -1, 90);
    let topology = site(dir.path(), &chain, &other_key, "");
    let (code, codes) = validate(&topology);
    assert_eq!(code, 1);
    assert!(
        has(&codes, "topology::tls-key-mismatch", "error"),
        "{codes:?}"
    );
    let out = cli().args(["validate", "-i", &topology]).output().unwrap();
    let body: String = other_key
        .lines()
        .filter(|l| !l.starts_with("---"))
        .collect();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(&body[..40]), "the key leaked: {all}");
}

#[test]
fn what_is_not_a_certificate_is_refused_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = certificate(&["foobar.com"], -1, 90);
    // The key where the chain should be.
    let (code, codes) = validate(&site(dir.path(), &key, &key, ""));
    assert_eq!(code, 1);
    assert!(
        has(&codes, "topology::tls-certificate", "error"),
        "{codes:?}"
    );
}

#[test]
fn https_is_rendered_with_redirect_hsts_and_a_hidden_key() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "www.foobar.com"], -1, 90);
    let topology = site(dir.path(), &chain, &key, "\n    hsts: 3600");
    let out_dir = dir.path().join("out");
    cli()
        .args(["render", "-i", &topology, "-o"])
        .arg(&out_dir)
        .assert()
        .success();
    let lb = out_dir.join("lb-01/etc/haproxy");
    let cfg = std::fs::read_to_string(lb.join("haproxy.cfg")).unwrap();
    for line in [
        "crt-base /etc/haproxy/certs",
        "ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
        "bind :443 ssl crt foobar.com.pem alpn h2,http/1.1",
        "http-request redirect location https://%[req.hdr(host),field(1,:)]%[pathq] code 301 unless { ssl_fc }",
        "http-request set-header X-Forwarded-Proto https if { ssl_fc }",
        "http-response set-header Strict-Transport-Security \"max-age=3600\" if { ssl_fc }",
    ] {
        assert!(cfg.contains(line), "missing `{line}` in:\n{cfg}");
    }
    assert_eq!(
        std::fs::read_to_string(lb.join("certs/foobar.com.pem")).unwrap(),
        chain
    );
    assert_eq!(
        std::fs::read_to_string(lb.join("certs/foobar.com.pem.key"))
            .unwrap()
            .trim(),
        "(redacted)"
    );
    let manifest = std::fs::read_to_string(out_dir.join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let key_file = manifest["hosts"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/etc/haproxy/certs/foobar.com.pem.key")
        .expect("the key file is in the manifest");
    assert_eq!(key_file["mode"], "0600");
    assert_eq!(key_file["sensitive"], true);
}

#[test]
fn without_redirect_or_hsts_plain_http_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "www.foobar.com"], -1, 90);
    let topology = site(
        dir.path(),
        &chain,
        &key,
        "\n    redirect_http: false\n    hsts: false\n    port: 8443",
    );
    let out_dir = dir.path().join("out");
    cli()
        .args(["render", "-i", &topology, "-o"])
        .arg(&out_dir)
        .assert()
        .success();
    let cfg = std::fs::read_to_string(out_dir.join("lb-01/etc/haproxy/haproxy.cfg")).unwrap();
    assert!(cfg.contains("bind :8443 ssl crt foobar.com.pem"), "{cfg}");
    assert!(!cfg.contains("redirect"), "{cfg}");
    assert!(!cfg.contains("Strict-Transport-Security"), "{cfg}");
}

#[test]
fn haproxy_checks_the_https_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "www.foobar.com"], -1, 90);
    let topology = site(dir.path(), &chain, &key, "");
    let out = cli()
        .args(["validate", "--check-configs", "-i", &topology])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("haproxy accepts /etc/haproxy/haproxy.cfg for lb-01"),
        "{text}"
    );
}

#[test]
fn a_redirect_to_another_https_port_keeps_the_host_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = certificate(&["foobar.com", "www.foobar.com"], -1, 90);
    let topology = site(dir.path(), &chain, &key, "\n    port: 8443\n    hsts: true");
    let out_dir = dir.path().join("out");
    cli()
        .args(["render", "-i", &topology, "-o"])
        .arg(&out_dir)
        .assert()
        .success();
    let cfg = std::fs::read_to_string(out_dir.join("lb-01/etc/haproxy/haproxy.cfg")).unwrap();
    assert!(
        cfg.contains(
            "http-request redirect location https://%[req.hdr(host),field(1,:)]:8443%[pathq] code 301 unless { ssl_fc }"
        ),
        "{cfg}"
    );
    assert!(cfg.contains("\"max-age=15552000\""), "{cfg}");
    let out = cli()
        .args(["validate", "--check-configs", "-i", &topology])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
