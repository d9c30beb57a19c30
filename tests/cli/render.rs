//! `render`: snapshots of every rendered file and of the manifest.

use crate::support::{cli, load};
use foobar_infra::render::{self, Secrets};

fn render_example(name: &str) -> foobar_infra::desired::Desired {
    let loaded = load(&format!("examples/{name}.yaml"));
    assert!(!loaded.has_errors(), "{name} is valid");
    let t = loaded.topology.as_ref().unwrap();
    let tera = render::templates::load(None).unwrap();
    render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap()
}

#[test]
fn rendered_files_match_snapshots() {
    for example in ["foobar", "minimal"] {
        let desired = render_example(example);
        for h in &desired.hosts {
            for f in &h.files {
                let name = format!(
                    "{example}__{}__{}",
                    h.name,
                    f.path.trim_start_matches('/').replace('/', "_")
                );
                insta::assert_snapshot!(name, f.content);
            }
        }
        let mut settings = insta::Settings::clone_current();
        settings.add_redaction(".hosts[].release.source", "[source]");
        settings.bind(|| insta::assert_json_snapshot!(format!("{example}__manifest"), desired));
    }
}

#[test]
fn secrets_are_redacted_and_sensitive_files_marked() {
    let desired = render_example("foobar");
    let web = desired.host("web-01").unwrap();
    let env = web.file("/etc/foobar/app.env").unwrap();
    assert!(env.sensitive);
    assert_eq!(env.mode, 0o640);
    assert!(env.content.contains("DB_PASSWORD=\"(redacted)\""));
    assert!(!env.content.contains("test-only-password"));
}

/// A template override that writes the password into a file the templates do not mark: the
/// file is sensitive by its content (no diff, no hash in saved plans) and not world-readable.
#[test]
fn a_file_holding_the_secret_is_sensitive_whatever_its_template() {
    let loaded = load("examples/foobar.yaml");
    let t = loaded.topology.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    std::fs::write(
        dir.path().join("nginx/site.conf.tera"),
        "# leaked: {{ db.password }}\nserver { listen {{ web.listen }}; }\n",
    )
    .unwrap();
    let tera = render::templates::load(Some(dir.path())).unwrap();
    let secret = foobar_infra::secret::Secret::new("a-long-test-password");
    let desired = render::render(
        t,
        &loaded.source,
        &tera,
        &Secrets {
            db_password: Some(secret),
            ..Secrets::default()
        },
    )
    .unwrap();
    let site = desired
        .host("web-01")
        .unwrap()
        .file("/etc/nginx/conf.d/foobar.conf")
        .unwrap();
    assert!(site.sensitive);
    assert_eq!(site.mode & 0o007, 0, "not readable by others");
    let nginx = desired
        .host("web-01")
        .unwrap()
        .file("/etc/nginx/nginx.conf")
        .unwrap();
    assert!(!nginx.sensitive, "files without the secret are not hidden");
}

#[test]
fn render_writes_every_host_and_a_manifest() {
    let out = tempfile::tempdir().unwrap();
    cli()
        .args(["render", "-i", "examples/foobar.yaml", "--out"])
        .arg(out.path())
        .assert()
        .success();
    for path in [
        "lb-01/etc/haproxy/haproxy.cfg",
        "web-03/etc/nginx/conf.d/foobar.conf",
        "web-02/etc/systemd/system/foobar-app.service",
        "db-01/etc/mysql/mariadb.conf.d/60-foobar-infra.cnf",
        "db-01/bootstrap.sql",
        "_dns/db.foobar.com",
        "manifest.json",
    ] {
        assert!(out.path().join(path).is_file(), "{path} written");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let lb = &manifest["hosts"][0];
    let cfg = lb["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/etc/haproxy/haproxy.cfg")
        .unwrap();
    assert_eq!(cfg["notify"][0]["service"], "haproxy");
    assert_eq!(cfg["notify"][0]["action"], "reload");
    let sql = std::fs::read_to_string(out.path().join("db-01/bootstrap.sql")).unwrap();
    assert!(
        !sql.contains("test-only-password"),
        "render never writes the secret"
    );
}

#[test]
fn render_refuses_an_invalid_topology() {
    let out = tempfile::tempdir().unwrap();
    cli()
        .args([
            "render",
            "-i",
            "examples/invalid/unknown-host.yaml",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .code(1);
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn template_overrides_replace_one_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("haproxy")).unwrap();
    let original = render::templates::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "haproxy/haproxy.cfg.tera")
        .unwrap()
        .1;
    std::fs::write(
        dir.path().join("haproxy/haproxy.cfg.tera"),
        format!("# overridden\n{original}"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    cli()
        .args(["render", "-i", "examples/foobar.yaml", "--templates"])
        .arg(dir.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let cfg = std::fs::read_to_string(out.path().join("lb-01/etc/haproxy/haproxy.cfg")).unwrap();
    assert!(cfg.starts_with("# overridden\n"));
    let site = std::fs::read_to_string(out.path().join("web-01/etc/nginx/nginx.conf")).unwrap();
    assert!(!site.contains("# overridden"));
}

#[test]
fn undefined_template_variables_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    std::fs::write(
        dir.path().join("nginx/site.conf.tera"),
        "server { listen {{ web.no_such_thing }}; }\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    cli()
        .args(["render", "-i", "examples/foobar.yaml", "--templates"])
        .arg(dir.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("nginx/site.conf.tera"))
        .stderr(predicates::str::contains("web-01"));
}

/// Rendered files get the mode they have on the host, also over an earlier, wider render.
#[cfg(unix)]
#[test]
fn render_writes_each_file_with_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    // An earlier render (it left its manifest), whose app.env was made wider since.
    std::fs::write(out.path().join("manifest.json"), "{}\n").unwrap();
    let env = out.path().join("web-01/etc/foobar/app.env");
    std::fs::create_dir_all(env.parent().unwrap()).unwrap();
    std::fs::write(&env, "stale\n").unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o666)).unwrap();
    cli()
        .args(["render", "-i", "examples/foobar.yaml", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let mode = |rel: &str| {
        std::fs::metadata(out.path().join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("web-01/etc/foobar/app.env"), 0o640);
    assert_eq!(mode("web-01/etc/nginx/nginx.conf"), 0o644);
    assert_eq!(mode("db-01/bootstrap.sql"), 0o600);
}

/// The summary is a status line: on stderr, in words; stdout is for data.
#[test]
fn render_summary_counts_in_words() {
    let out = tempfile::tempdir().unwrap();
    cli()
        .args(["render", "-i", "examples/minimal.yaml", "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout("")
        .stderr(predicates::str::contains(" files for 1 host into "));
}
