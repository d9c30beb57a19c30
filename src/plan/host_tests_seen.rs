//! What a saved plan remembers of a host, and why it goes stale.

use super::*;

#[test]
fn seen_keeps_no_hash_of_sensitive_files() {
    let h = host(&[Role::Web, Role::App]);
    let s = seen(&h, &matching(&h), None);
    let hash = h.file(NGINX).map(|f| f.sha256.clone());
    let nginx = Some((0o644, "root".into(), "root".into(), hash));
    assert_eq!(s.files[NGINX], nginx);
    let env = Some((0o640, "root".into(), "foobar".into(), None));
    assert_eq!(s.files[ENV], env, "no hash of a sensitive file");
    assert_eq!(s.release.as_deref(), Some(RELEASE));
    let hash = native_password_hash(&Secret::new(PASSWORD));
    assert_eq!(
        plan(&h, &matching(&h)).seen,
        seen(&h, &matching(&h), Some(&hash))
    );
}

#[test]
fn stale_reason_names_what_moved() {
    #[rustfmt::skip]
    let cases: [(Edit, Option<&str>); 7] = [
        (|_| {}, None),
        (|o| { drift(o, NGINX); }, Some("/etc/nginx/nginx.conf changed")),
        (|o| drift(o, GUNICORN).mode = 0o600, Some("/etc/foobar/gunicorn.conf.py changed")),
        // A sensitive file's content is not remembered (so it cannot be seen to move).
        (|o| { drift(o, ENV); }, None),
        (|o| { o.packages.insert("nginx".into(), false); }, Some("package nginx changed")),
        (|o| o.release = None, Some("the deployed release changed")),
        (|o| *o.services.get_mut("nginx").unwrap() = unit("enabled", "failed"),
            Some("its services, users or database objects changed")),
    ];
    let h = host(&[Role::Web, Role::App]);
    let before = seen(&h, &matching(&h), None);
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        let mut o = matching(&h);
        edit(&mut o);
        let got = stale_reason(&before, &seen(&h, &o, None));
        assert_eq!(got.as_deref(), want, "case {i}");
    }
}

#[test]
fn first_difference_ignores_diff_text() {
    let update = |diff: &str| file_change(NGINX, Update, Some(diff.into()), None, None);
    let reload = svc("nginx", Svc::Reload, "/etc/nginx/nginx.conf changes");
    let extra = Change::User {
        name: "foobar".into(),
    };
    let saved = [update("-a\n+b\n"), reload.clone()];
    #[rustfmt::skip]
    let cases = [
        (vec![update("-x\n+b\n"), reload.clone()], None),
        (vec![update("-a\n+b\n"), reload.clone(), extra.clone()], Some(Difference::Extra(extra))),
        (vec![update("")], Some(Difference::Missing(reload.clone()))),
        (vec![reload, update("-a\n+b\n")], Some(Difference::Reordered)),
    ];
    for (now, want) in cases {
        assert_eq!(first_difference(&saved, &now), want, "now {now:?}");
    }
}
