//! Every rendered config of every valid example passes the real parsers. A missing parser fails
//! the test with the install hint: these tests never skip.

use crate::support::{lab_home, load, load_at_home, root, yaml_files};
use foobar_infra::check_configs::{self, Status, install_hint, which};
use foobar_infra::render::{self, Secrets};

#[test]
fn the_real_parsers_are_installed() {
    for program in ["haproxy", "nginx", "mariadbd", "systemd-analyze"] {
        assert!(which(program).is_some(), "{}", install_hint(program));
    }
}

#[test]
fn every_example_passes_haproxy_nginx_and_mariadb() {
    let tera = render::templates::load(None).unwrap();
    let mut checked = std::collections::BTreeSet::new();
    // inventories/lab.yaml serves HTTPS with the certificate `lab up` issues.
    let home = lab_home();
    for dir in ["examples", "inventories"] {
        for path in yaml_files(dir) {
            let rel = path.strip_prefix(root()).unwrap().display().to_string();
            let loaded = load_at_home(&rel, home.path());
            let t = loaded.topology.as_ref().unwrap();
            let desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
            let zone = render::zone_file(t, &tera).unwrap();
            for outcome in check_configs::run(&desired, zone.as_ref()).unwrap() {
                match &outcome.status {
                    Status::Passed => {
                        checked.insert(outcome.checker.clone());
                    }
                    Status::Failed(detail) => panic!(
                        "{rel}: {} rejects {} of {}:\n{detail}",
                        outcome.checker, outcome.file, outcome.host
                    ),
                    Status::Skipped(why) if outcome.checker != "named-checkzone" => {
                        panic!("{rel}: {why}")
                    }
                    Status::Skipped(_) => {}
                }
            }
        }
    }
    for program in ["haproxy", "nginx", "mariadbd", "systemd-analyze"] {
        assert!(
            checked.contains(program),
            "{program} checked at least one file"
        );
    }
}

/// A broken template is caught by the checker, and its output names the host's path.
#[test]
fn a_broken_nginx_config_is_rejected_with_its_line() {
    let loaded = load("examples/foobar.yaml");
    let t = loaded.topology.as_ref().unwrap();
    let tera = render::templates::load(None).unwrap();
    let mut desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
    let site = desired.hosts[1]
        .files
        .iter_mut()
        .find(|f| f.path.ends_with("foobar.conf"))
        .unwrap();
    site.content = site.content.replace("keepalive 16;", "keepalive sixteen;");
    let outcomes = check_configs::run(&desired, None).unwrap();
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed(_)))
        .collect();
    assert_eq!(failed.len(), 1, "{outcomes:#?}");
    let Status::Failed(detail) = &failed[0].status else {
        unreachable!()
    };
    assert!(
        detail.contains("/etc/nginx/conf.d/foobar.conf:4"),
        "{detail}"
    );
    assert!(
        !detail.contains("foobar-infra-check-"),
        "temporary paths are hidden: {detail}"
    );
}

/// A unit file systemd would refuse fails `systemd-analyze verify`, named with its host path.
#[test]
fn a_broken_unit_file_is_refused_by_systemd() {
    let loaded = load("examples/foobar.yaml");
    let t = loaded.topology.as_ref().unwrap();
    let tera = render::templates::load(None).unwrap();
    let mut desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
    let unit = desired.hosts[1]
        .files
        .iter_mut()
        .find(|f| f.path.ends_with("-app.service"))
        .unwrap();
    unit.content = "[Unit]\nDescription=no command\n[Service]\nType=simple\n".into();
    let outcomes = check_configs::run(&desired, None).unwrap();
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed(_)))
        .collect();
    assert_eq!(failed.len(), 1, "{outcomes:#?}");
    assert_eq!(failed[0].checker, "systemd-analyze");
    assert_eq!(failed[0].file, "/etc/systemd/system/foobar-app.service");
}

#[test]
fn validate_check_configs_reports_each_checker() {
    crate::support::cli()
        .args(["validate", "--check-configs", "-i", "examples/foobar.yaml"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "ok: haproxy accepts /etc/haproxy/haproxy.cfg for lb-01",
        ))
        .stdout(predicates::str::contains(
            "ok: nginx accepts /etc/nginx/nginx.conf for web-03",
        ))
        .stdout(predicates::str::contains("ok: mariadbd accepts"));
}
