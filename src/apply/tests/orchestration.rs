//! Phases, batches, stopping rules and Ctrl-C.

use super::*;
use crate::apply::protocol;
use crate::plan::{Change, ResourcePlan};
use std::sync::atomic::Ordering;

#[test]
fn phases_run_database_then_servers_then_load_balancer() {
    let lab = lab(&[], None);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    let db_done = lab.last_call("db-01");
    for web in ["web-01", "web-02", "web-03"] {
        assert!(lab.first_call(web) > db_done, "{:?}", lab.calls());
        assert!(
            lab.last_call(web) < lab.first_change("lb-01"),
            "{:?}",
            lab.calls()
        );
    }
    assert_eq!(
        lab.calls_on("web-02"),
        ["arm", "files", "services", "http-health", "disarm"],
        "the watchdog is armed before the change and stood down after"
    );
    assert_eq!(
        lab.calls_on("db-01"),
        ["arm", "files", "services", "db-health", "disarm"]
    );
}

#[test]
fn a_canary_goes_alone_before_the_other_servers() {
    let lab = lab(&[], None);
    lab.apply(&lab.plans(), &[]);
    let canary_done = lab.last_call("web-01");
    assert!(lab.first_call("web-02") > canary_done, "{:?}", lab.calls());
    assert!(lab.first_call("web-03") > canary_done, "{:?}", lab.calls());
}

#[test]
fn batches_put_one_serving_host_first_and_new_hosts_with_the_rest() {
    let lab = lab(&[], None);
    let plans = lab.plans();
    let webs: Vec<&ResourcePlan> = plans[1..4].iter().collect();
    let names = |b: &Vec<&ResourcePlan>| b.iter().map(|r| r.name().to_string()).collect::<Vec<_>>();
    assert_eq!(
        batches(&webs, 1).iter().map(names).collect::<Vec<_>>(),
        [vec!["web-01"], vec!["web-02"], vec!["web-03"]],
        "a canary, then one at a time"
    );
    assert_eq!(
        batches(&webs, 2).iter().map(names).collect::<Vec<_>>(),
        [vec!["web-01"], vec!["web-02", "web-03"]]
    );
    // One serving host with changes: no canary.
    let mut fresh = plans.clone();
    for p in &mut fresh[1..3] {
        p.changes.push(Change::Package {
            name: "nginx".into(),
        });
    }
    let webs: Vec<&ResourcePlan> = fresh[1..4].iter().collect();
    assert_eq!(batches(&webs, 1).len(), 1);
    // Only new hosts (packages to install): all at once.
    fresh[3].changes.push(Change::Package {
        name: "nginx".into(),
    });
    let webs: Vec<&ResourcePlan> = fresh[1..4].iter().collect();
    assert_eq!(
        batches(&webs, 1).iter().map(names).collect::<Vec<_>>(),
        [vec!["web-01", "web-02", "web-03"]]
    );
}

#[test]
fn a_failed_canary_is_rolled_back_and_the_rest_is_left_alone() {
    let lab = lab(
        &[("web-01", "http-health", protocol::Exit::Health.code())],
        None,
    );
    let reports = lab.apply(&lab.plans(), &[]);
    assert_eq!(outcome(&reports, "db-01"), &Outcome::Changed);
    match outcome(&reports, "web-01") {
        Outcome::Failed {
            step,
            error,
            rolled_back,
        } => {
            assert_eq!(step, "health");
            assert!(
                error.contains("/healthz does not answer 200 through Nginx"),
                "{error}"
            );
            assert!(rolled_back);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        lab.calls_on("web-01"),
        [
            "arm",
            "files",
            "services",
            "http-health",
            "rollback",
            "disarm"
        ]
    );
    for web in ["web-02", "web-03"] {
        assert_eq!(
            outcome(&reports, web),
            &Outcome::Skipped {
                reason: "web-01 went first and failed; left as it was".into()
            }
        );
        assert!(lab.calls_on(web).is_empty(), "{web} was touched");
    }
    assert_eq!(
        outcome(&reports, "lb-01"),
        &Outcome::Skipped {
            reason: "a host of an earlier phase (app/web servers) failed".into()
        }
    );
    assert!(
        lab.changed_nothing_on("lb-01"),
        "{:?}",
        lab.calls_on("lb-01")
    );
}

#[test]
fn a_file_rejected_by_its_checker_is_not_rolled_back_and_names_nothing_swapped() {
    let lab = lab(&[("db-01", "files", protocol::Exit::Invalid.code())], None);
    let reports = lab.apply(&lab.plans(), &[]);
    match outcome(&reports, "db-01") {
        Outcome::Failed {
            step, rolled_back, ..
        } => {
            assert_eq!(step, "files");
            assert!(
                !rolled_back,
                "nothing was swapped, so nothing is rolled back"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(lab.calls_on("db-01"), ["arm", "files", "disarm"]);
    for later in ["web-01", "web-02", "web-03", "lb-01"] {
        assert!(matches!(outcome(&reports, later), Outcome::Skipped { .. }));
        assert!(lab.calls_on(later).is_empty());
    }
}

#[test]
fn an_unreachable_host_fails_its_phase_and_stops_later_phases() {
    let lab = lab(&[], None);
    let plans: Vec<ResourcePlan> = lab
        .plans()
        .into_iter()
        .filter(|p| p.name() != "web-02")
        .collect();
    let lost = vec![(
        "web-02".to_string(),
        Phase::Servers,
        "host web-02 is unreachable".to_string(),
    )];
    let reports = lab.apply(&plans, &lost);
    assert!(
        matches!(outcome(&reports, "web-02"), Outcome::Failed { step, .. } if step == "connect")
    );
    assert_eq!(outcome(&reports, "web-01"), &Outcome::Changed);
    assert_eq!(outcome(&reports, "web-03"), &Outcome::Changed);
    assert!(matches!(
        outcome(&reports, "lb-01"),
        Outcome::Skipped { .. }
    ));
    assert!(
        lab.changed_nothing_on("lb-01"),
        "{:?}",
        lab.calls_on("lb-01")
    );
}

#[test]
fn ctrl_c_before_the_run_touches_no_host() {
    let lab = lab(&[], None);
    lab.interrupt.store(true, Ordering::SeqCst);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(lab.calls().is_empty(), "{:?}", lab.calls());
    assert_eq!(outcome(&reports, "db-01"), &Outcome::Interrupted);
    assert!(matches!(
        outcome(&reports, "web-01"),
        Outcome::Skipped { .. }
    ));
}

#[test]
fn ctrl_c_during_a_swap_finishes_that_host_and_starts_no_other() {
    // Ctrl-C arrives while the canary swaps its files: its reload and health check still run
    // (a swapped file is never left without its reload), then nothing new starts.
    let lab = lab(&[], Some(("web-01", "files")));
    let reports = lab.apply(&lab.plans(), &[]);
    assert_eq!(outcome(&reports, "web-01"), &Outcome::Changed);
    assert_eq!(
        lab.calls_on("web-01"),
        ["arm", "files", "services", "http-health", "disarm"]
    );
    assert_eq!(
        lab.calls_on("lb-01"),
        ["drain", "ready", "disarm"],
        "the canary is back in service"
    );
    assert_eq!(outcome(&reports, "web-02"), &Outcome::Interrupted);
    assert_eq!(
        outcome(&reports, "web-03"),
        &Outcome::Skipped {
            reason: "interrupted while web-02 was next; left as it was".into()
        }
    );
    for web in ["web-02", "web-03"] {
        assert!(lab.calls_on(web).is_empty());
    }
}

/// db-01's one file is its firewall's ruleset (reloaded by the firewall's unit).
fn with_firewall(lab: &mut Lab) {
    let db = lab
        .desired
        .hosts
        .iter_mut()
        .find(|h| h.name == "db-01")
        .unwrap();
    db.files[0].path = crate::firewall::RULES_FILE.into();
    db.files[0].notify[0].service = crate::firewall::UNIT.into();
    db.services[0].name = crate::firewall::UNIT.into();
    db.firewall = Some(crate::firewall::HostFirewall {
        rules: Vec::new(),
        vrrp_from: Vec::new(),
    });
    // web-01 has a firewall too, which its change does not touch.
    let web = lab
        .desired
        .hosts
        .iter_mut()
        .find(|h| h.name == "web-01")
        .unwrap();
    web.firewall = Some(crate::firewall::HostFirewall {
        rules: Vec::new(),
        vrrp_from: Vec::new(),
    });
}

#[test]
fn a_new_firewall_is_proved_by_a_new_connection_before_the_host_is_confirmed() {
    let mut lab = lab(&[], None);
    with_firewall(&mut lab);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(reports.iter().all(|r| r.outcome == Outcome::Changed));
    assert_eq!(
        lab.calls_on("db-01"),
        [
            "arm",
            "files",
            "services",
            "reconnect",
            "db-health",
            "disarm"
        ]
    );
    // A host whose firewall does not change opens no new connection.
    assert!(!lab.calls_on("web-01").contains(&"reconnect".to_string()));
}

#[test]
fn a_firewall_that_refuses_a_new_connection_is_rolled_back_and_the_run_stops() {
    let mut lab = lab(&[("db-01", "reconnect", 255)], None);
    with_firewall(&mut lab);
    let reports = lab.apply(&lab.plans(), &[]);
    let db = reports.iter().find(|r| r.host == "db-01").unwrap();
    match &db.outcome {
        Outcome::Failed {
            step,
            error,
            rolled_back,
        } => {
            assert_eq!(step, "reconnect");
            assert!(*rolled_back, "{error}");
            assert!(
                error.contains(
                    "after its new firewall was loaded, db-01 does not admit a new SSH connection"
                ),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        lab.calls_on("db-01"),
        [
            "arm",
            "files",
            "services",
            "reconnect",
            "rollback",
            "disarm"
        ]
    );
    // The database phase failed: no server or load balancer was touched.
    assert!(lab.calls_on("web-01").is_empty() && lab.calls_on("lb-01").is_empty());
}
