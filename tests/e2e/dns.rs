//! The `www` record on ns1, the lab's BIND: served after the first apply, changed and repaired
//! through signed RFC 2136 updates, never overwritten behind someone's back, and refused clearly
//! when the key is wrong. Answers are read with `dig` as well as with foobar-infra itself.

use crate::support::*;
use std::io::Write;

const NS1: &str = "10.89.7.40";

/// `dig +short` at ns1, without recursion: the authoritative answer.
fn dig(name: &str, rtype: &str) -> String {
    let out = std::process::Command::new("dig")
        .args(["+short", "+norec", "+tcp", &format!("@{NS1}"), name, rtype])
        .output()
        .expect("dig (bind9-dnsutils) is installed by scripts/setup");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn serial() -> u64 {
    dig("foobar.com", "SOA")
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no SOA: {}", dig("foobar.com", "SOA")))
}

/// The lab's TSIG secret, as the inventory holds it.
fn lab_secret() -> String {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(INVENTORY))
            .unwrap();
    // The dns section's key (load_balancer.tls has a `key:` of its own).
    let dns = text.find("\ndns:").unwrap();
    let at = dns + text[dns..].find("\n  key:\n").unwrap();
    text[at..]
        .lines()
        .find_map(|l| l.trim().strip_prefix("value: "))
        .unwrap()
        .to_string()
}

/// A change made behind foobar-infra's back, with nsupdate and the lab's key.
fn nsupdate(commands: &str) {
    let mut child = std::process::Command::new("nsupdate")
        .args([
            "-v",
            "-y",
            &format!("hmac-sha256:foobar-infra:{}", lab_secret()),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nsupdate (bind9-dnsutils) is installed by scripts/setup");
    write!(
        child.stdin.take().unwrap(),
        "server {NS1}\nzone foobar.com\n{commands}\nsend\n"
    )
    .unwrap();
    assert!(child.wait().unwrap().success(), "nsupdate {commands}");
}

fn with_api(target: &str) -> impl Fn(&str) -> String {
    let target = target.to_string();
    move |t: &str| {
        t.replace(
            "    - name: www\n      target: lb-01\n",
            &format!(
                "    - name: www\n      target: lb-01\n    - name: api\n      target: {target}\n"
            ),
        )
    }
}

fn plan(inventory: &str) -> (Option<i32>, String, String) {
    let out = cli()
        .args(["plan", "-i", inventory, "--detailed-exitcode"])
        .output()
        .unwrap();
    let (o, e) = text(&out);
    (out.status.code(), o, e)
}

fn apply(inventory: &str) -> (String, String) {
    let out = cli()
        .args(["apply", "-i", inventory, "--auto-approve"])
        .output()
        .unwrap();
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    (o, e)
}

fn verify_dns() -> (Option<i32>, String) {
    let out = cli()
        .args(["verify", "-i", INVENTORY, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "dns:www.foobar.com")
        .unwrap()
        .clone();
    (
        out.status.code(),
        format!("{} {}", check["status"], check["evidence"]),
    )
}

#[test]
fn the_first_apply_serves_www_and_a_second_apply_leaves_named_alone() {
    let (_lab, first) = lab();
    assert!(
        text(&first.0).0.contains("foobar.com  changed"),
        "{}",
        text(&first.0).0
    );
    assert_eq!(dig("www.foobar.com", "A"), LB);
    let (code, check) = verify_dns();
    assert_eq!(code, Some(0), "{check}");
    assert!(check.starts_with("\"pass\""), "{check}");
    let before = (serial(), lifecycle_events(NS1, "named"));
    let (code, out, err) = plan(INVENTORY);
    assert_eq!(code, Some(0), "{out}{err}");
    let (out, _) = apply(INVENTORY);
    assert!(out.contains("No changes."), "{out}");
    assert_eq!(
        (serial(), lifecycle_events(NS1, "named")),
        before,
        "no update was sent and named was not reloaded"
    );
}

#[test]
fn a_record_is_added_changed_repaired_after_drift_and_pruned() {
    let (_lab, _) = lab();
    // A new record: planned from nothing, the update-policy widened on ns1 in the same run.
    let (_d1, api_web01) = variant(with_api("web-01"));
    let (code, out, _) = plan(&api_web01);
    assert_eq!(code, Some(2));
    assert!(
        out.contains("+ record api.foobar.com. 60 IN A (none) -> 10.89.7.21"),
        "{out}"
    );
    assert!(out.contains("file /etc/bind/named.conf.local"), "{out}");
    let s0 = serial();
    apply(&api_web01);
    assert_eq!(dig("api.foobar.com", "A"), "10.89.7.21");
    assert!(serial() > s0, "the SOA serial moved");
    // Its target changes.
    let (_d2, api_web02) = variant(with_api("web-02"));
    let (_, out, _) = plan(&api_web02);
    assert!(
        out.contains("~ record api.foobar.com. 60 IN A 10.89.7.21 -> 10.89.7.22"),
        "{out}"
    );
    apply(&api_web02);
    assert_eq!(dig("api.foobar.com", "A"), "10.89.7.22");

    // Changed behind the tool's back: plan shows the drift, verify fails, apply repairs.
    nsupdate("update delete www.foobar.com A\nupdate add www.foobar.com 60 A 10.89.7.99");
    assert_eq!(dig("www.foobar.com", "A"), "10.89.7.99");
    let (code, check) = verify_dns();
    assert_ne!(code, Some(0));
    assert!(
        check.starts_with("\"fail\"") && check.contains("10.89.7.99"),
        "{check}"
    );
    let (_, out, _) = plan(&api_web02);
    assert!(
        out.contains("~ record www.foobar.com. 60 IN A 10.89.7.99 -> 10.89.7.10"),
        "{out}"
    );
    apply(&api_web02);
    assert_eq!(dig("www.foobar.com", "A"), LB);

    // Dropped from the topology: left alone, unless the zone is pruned.
    let (code, out, _) = plan(INVENTORY);
    assert!(!out.contains("record api.foobar.com"), "{out}");
    assert_eq!(code, Some(2), "only ns1's update-policy narrows: {out}");
    let (_d3, pruned) = variant(|t| t.replace("  ttl: 60\n", "  ttl: 60\n  prune: true\n"));
    let (_, out, _) = plan(&pruned);
    assert!(
        out.contains("- record api.foobar.com. 60 IN A 10.89.7.22 -> (none)"),
        "{out}"
    );
    apply(&pruned);
    assert_eq!(dig("api.foobar.com", "A"), "");
    assert_eq!(dig("www.foobar.com", "A"), LB, "the listed record stays");
    apply(INVENTORY);
    let (code, out, err) = plan(INVENTORY);
    assert_eq!(code, Some(0), "{out}{err}");
}

#[test]
fn a_record_changed_between_plan_and_apply_is_never_overwritten() {
    let (_lab, _) = lab();
    nsupdate("update delete www.foobar.com A\nupdate add www.foobar.com 60 A 10.89.7.99");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let out = cli()
        .args(["plan", "-i", INVENTORY, "--out"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(
        text(&out)
            .0
            .contains("~ record www.foobar.com. 60 IN A 10.89.7.99 -> 10.89.7.10"),
        "{}",
        text(&out).0
    );
    // Someone else changes the record meanwhile.
    nsupdate("update delete www.foobar.com A\nupdate add www.foobar.com 60 A 10.89.7.98");
    let out = cli().arg("apply").arg(&saved).output().unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{o}{e}");
    assert!(
        e.contains(
            "zone foobar.com on ns1 (10.89.7.40:53): a record it manages changed on the server"
        ),
        "{e}"
    );
    assert_eq!(dig("www.foobar.com", "A"), "10.89.7.98", "theirs is kept");
    // A new plan sees it, and applying repairs it.
    apply(INVENTORY);
    assert_eq!(dig("www.foobar.com", "A"), LB);
}

#[test]
fn a_wrong_key_is_refused_naming_server_zone_and_key() {
    let (_lab, _) = lab();
    // ns1 as any RFC 2136 server the topology does not manage, addressed by its address.
    let external = |secret: String, name: &'static str| {
        move |t: &str| {
            t.replace("  ns1:\n    address: 10.89.7.40\n    roles: [dns]\n", "")
                .replace(
                    "  provider: rfc2136\n",
                    "  provider: rfc2136\n  server: 10.89.7.40\n",
                )
                .replace("    name: foobar-infra\n", &format!("    name: {name}\n"))
                .replace(&lab_secret(), &secret)
        }
    };
    let other = "c29tZSBvdGhlciBzZWNyZXQgb2YgMzIgYnl0ZXMgISE=".to_string();
    let before = serial();
    let (_d1, bad_secret) = variant(external(other.clone(), "foobar-infra"));
    let (code, out, err) = plan(&bad_secret);
    assert_eq!(code, Some(1), "{out}{err}");
    for part in [
        "10.89.7.40:53",
        "zone foobar.com",
        "key `foobar-infra`",
        "BADSIG",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    let out = cli()
        .args(["apply", "-i", &bad_secret, "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("BADSIG"), "{}", text(&out).1);
    let (_d2, bad_name) = variant(external(other, "someone-else"));
    let (_, _, err) = plan(&bad_name);
    assert!(
        err.contains("BADKEY") && err.contains("someone-else"),
        "{err}"
    );
    assert_eq!(serial(), before, "nothing changed");
    // The right key, to the same server as one the topology does not manage: nothing to do.
    let (_d3, good) = variant(external(lab_secret(), "foobar-infra"));
    let (code, out, err) = plan(&good);
    assert_eq!(code, Some(0), "{out}{err}");
}

/// The prerequisites themselves, at the server: an update that expects what is no longer there
/// is refused as a whole, and what someone else wrote stays.
#[test]
fn the_server_refuses_an_update_whose_prerequisites_no_longer_hold() {
    use foobar_infra::dns::{Authority, DnsError, Rrset, Settings, Update, wire::Server};
    let (_lab, _) = lab();
    let server = Server::new(Settings {
        zone: "foobar.com".into(),
        registry: "_foobar-infra.foobar.com".into(),
        server: foobar_infra::desired::ZoneServer {
            host: Some("ns1".into()),
            address: format!("{NS1}:53").parse().unwrap(),
        },
        key_name: "foobar-infra".into(),
        algorithm: foobar_infra::topology::TsigAlgorithm::HmacSha256,
        key: foobar_infra::dns::key_bytes(&foobar_infra::secret::Secret::new(lab_secret()))
            .unwrap(),
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let www = |a: &str| Some(Rrset::new(60, vec![a.into()]));
    // Someone else moved www after it was read as the load balancer.
    nsupdate("update delete www.foobar.com A\nupdate add www.foobar.com 60 A 10.89.7.97");
    let stale = Update::new(
        &[("www.foobar.com".into(), www(LB), www("10.89.7.96"))],
        &Some(vec!["www.foobar.com".into()]),
    );
    let err = rt.block_on(server.update(&stale)).unwrap_err();
    assert!(matches!(err, DnsError::Changed { .. }), "{err}");
    assert_eq!(
        dig("www.foobar.com", "A"),
        "10.89.7.97",
        "nothing was overwritten"
    );
    // The same update, expecting what is there, goes through.
    let fresh = Update::new(
        &[("www.foobar.com".into(), www("10.89.7.97"), www(LB))],
        &Some(vec!["www.foobar.com".into()]),
    );
    rt.block_on(server.update(&fresh)).unwrap();
    assert_eq!(dig("www.foobar.com", "A"), LB);
    let (code, out, err) = plan(INVENTORY);
    assert_eq!(code, Some(0), "{out}{err}");
}
