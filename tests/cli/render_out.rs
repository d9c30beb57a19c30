//! `render --out`: never written through a symbolic link, never outside the folder, never into
//! `/`, a file, or a folder of something else.

use crate::support::cli;
use predicates::prelude::*;
use std::os::unix::fs::symlink;
use std::path::Path;

fn render(out: &Path) -> assert_cmd::assert::Assert {
    cli()
        .args(["render", "-i", "examples/foobar.yaml", "--out"])
        .arg(out)
        .assert()
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

/// An earlier render whose `web-01/etc/nginx` became a link to a folder outside: render stops
/// at the link, names it, leaves it in place, and writes nothing where it points.
#[test]
fn a_link_in_the_output_tree_is_refused_and_nothing_lands_outside() {
    let out = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    render(out.path()).success();
    let nginx = out.path().join("web-01/etc/nginx");
    std::fs::remove_dir_all(&nginx).unwrap();
    symlink(outside.path(), &nginx).unwrap();
    render(out.path())
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{} is a symbolic link: nothing is written through one",
            nginx.display()
        )));
    assert!(is_empty(outside.path()), "nothing written outside --out");
    assert!(std::fs::symlink_metadata(&nginx).unwrap().is_symlink());
}

/// A link at a file's own place (here to a file outside) is not followed, replaced or chmodded.
#[cfg(unix)]
#[test]
fn a_linked_file_keeps_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    render(out.path()).success();
    let victim = outside.path().join("authorized_keys");
    std::fs::write(&victim, "ssh-ed25519 AAAA mine\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = out.path().join("lb-01/etc/haproxy/haproxy.cfg");
    std::fs::remove_file(&cfg).unwrap();
    symlink(&victim, &cfg).unwrap();
    render(out.path())
        .code(1)
        .stderr(predicate::str::contains("haproxy.cfg is a symbolic link"));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "ssh-ed25519 AAAA mine\n"
    );
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn the_root_and_system_folders_are_refused() {
    for out in ["/", "/.", "/tmp/..", "/etc", "/usr"] {
        render(Path::new(out))
            .code(1)
            .stderr(predicate::str::contains("refusing to render into"))
            .stderr(predicate::str::contains("a system folder"));
    }
}

#[test]
fn a_file_as_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    std::fs::write(&file, "keep\n").unwrap();
    render(&file)
        .code(1)
        .stderr(predicate::str::contains("it is not a folder"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep\n");
}

/// A folder of something else (files, no manifest.json of an earlier render) is left alone,
/// with the way out in the message; an empty folder and an earlier render are fine.
#[test]
fn only_an_empty_folder_or_an_earlier_render_is_written_into() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("notes.txt"), "mine\n").unwrap();
    render(out.path())
        .code(1)
        .stderr(predicate::str::contains(
            "it holds files, and no manifest.json of an earlier render",
        ))
        .stderr(predicate::str::contains("give a new or empty folder"));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    let fresh = tempfile::tempdir().unwrap();
    render(fresh.path()).success();
    render(fresh.path()).success();
    // A manifest.json that is a link does not make the folder an earlier render.
    let planted = tempfile::tempdir().unwrap();
    symlink(
        fresh.path().join("manifest.json"),
        planted.path().join("manifest.json"),
    )
    .unwrap();
    render(planted.path())
        .code(1)
        .stderr(predicate::str::contains(
            "no manifest.json of an earlier render",
        ));
}

#[test]
fn a_link_as_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = dir.path().join("out");
    symlink(&real, &link).unwrap();
    for out in [link.clone(), dir.path().join("out/")] {
        render(&out)
            .code(1)
            .stderr(predicate::str::contains("it is a symbolic link"));
    }
    assert!(is_empty(&real));
}

/// A missing --out is created with its parents, as before.
#[test]
fn a_missing_out_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a/b/out");
    render(&out).success();
    assert!(out.join("manifest.json").is_file());
}
