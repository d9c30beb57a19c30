//! A certificate file's change, shown by what it certifies.

use super::*;

/// A self-signed certificate for `name` (PEM) and what a plan shows of it.
fn certificate(name: &str) -> (String, crate::certificate::Summary) {
    let key = rcgen::KeyPair::generate().unwrap();
    let pem = rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem();
    let summary = crate::certificate::Chain::parse(pem.as_bytes())
        .unwrap()
        .leaf;
    (pem, summary)
}

#[test]
fn a_certificate_change_is_shown_by_what_it_certifies_not_by_a_diff() {
    const CERT: &str = "/etc/haproxy/certs/foobar.com.pem";
    let (old, old_summary) = certificate("old.foobar.com");
    let (new, new_summary) = certificate("foobar.com");
    let mut h = host(&[Role::Lb]);
    let mut f = file(CERT, "haproxy", Action::Reload);
    f.sha256 = sha256_hex(new.as_bytes());
    f.content = new;
    f.certificate = true;
    h.files.push(f);
    let mut o = matching(&h);
    drift(&mut o, CERT);
    o.contents.insert(CERT.into(), old);
    let c = changes(&h, &o);
    let Some(Change::File {
        diff, certificate, ..
    }) = c
        .iter()
        .find(|c| matches!(c, Change::File { path, .. } if path == CERT))
    else {
        panic!("no change to {CERT}: {c:?}");
    };
    assert_eq!(diff, &None);
    assert_eq!(
        certificate,
        &Some(Box::new(CertificateChange {
            from: Some(old_summary),
            to: Some(new_summary.clone()),
        }))
    );
    // A new certificate has nothing to replace; the JSON plan carries the same.
    o.files.insert(CERT.into(), None);
    let c = changes(&h, &o);
    let json = serde_json::to_value(&c).unwrap();
    let shown = json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == CERT)
        .unwrap();
    assert_eq!(shown["certificate"]["from"], serde_json::Value::Null);
    assert_eq!(
        shown["certificate"]["to"]["names"],
        serde_json::json!(["foobar.com"])
    );
    assert!(shown.get("diff").is_none(), "{shown}");
    assert_eq!(new_summary.names, ["foobar.com"]);
}
