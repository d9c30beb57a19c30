//! Drains around each server, putting back, and the order plan shows.

use super::*;
use crate::apply::protocol;

#[test]
fn each_server_is_drained_on_its_load_balancer_around_its_change() {
    let lab = lab(&[], None);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    let calls = lab.calls();
    for web in ["web-01", "web-02", "web-03"] {
        let first = lab.first_call(web);
        let last = lab.last_call(web);
        // Drained (the load balancer arming its own timer as it does) just before its first
        // step, ready (and the timer stood down) just after its last.
        assert_eq!(calls[first - 1], "lb-01:drain", "{calls:?}");
        assert_eq!(
            calls[last + 1..last + 3],
            ["lb-01:ready", "lb-01:disarm"],
            "{calls:?}"
        );
        let report = reports.iter().find(|r| r.host == web).unwrap();
        assert!(
            report.done.first().unwrap().starts_with("drained on lb-01"),
            "{report:?}"
        );
        assert_eq!(report.done.last().unwrap(), "ready on lb-01: UP");
    }
    // One at a time: web-02 starts after web-01 is back in service.
    assert!(lab.first_call("web-02") > lab.last_call("web-01") + 2);
}

#[test]
fn a_failed_canary_goes_back_into_service_after_its_rollback() {
    let lab = lab(
        &[("web-01", "http-health", protocol::Exit::Health.code())],
        None,
    );
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(matches!(
        outcome(&reports, "web-01"),
        Outcome::Failed {
            rolled_back: true,
            ..
        }
    ));
    let calls = lab.calls();
    let rollback = calls.iter().position(|c| c == "web-01:rollback").unwrap();
    assert_eq!(
        calls[rollback + 1..rollback + 3],
        ["web-01:disarm", "lb-01:ready"],
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| *c == "lb-01:drain").count(),
        1,
        "the others are never drained: {calls:?}"
    );
}

#[test]
fn the_order_apply_takes_is_what_plan_shows() {
    let lab = lab(&[], None);
    let steps = super::rollout(&lab.plans(), &lab.desired, 1);
    let hosts: Vec<Vec<String>> = steps.iter().map(|s| s.hosts.clone()).collect();
    assert_eq!(
        hosts,
        [
            vec!["db-01"],
            vec!["web-01"],
            vec!["web-02"],
            vec!["web-03"],
            vec!["lb-01"]
        ]
    );
    assert_eq!(steps[2].drained, [("web-02".into(), "lb-01".into())]);
    let text = crate::ui::plan_view::rollout(&steps);
    assert!(
        text.contains("2. app/web servers: web-01 (drained on lb-01 while changing), the canary"),
        "{text}"
    );
}
