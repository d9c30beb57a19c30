//! Two load balancers sharing a VIP: the backup changes first, then it is checked ready to take
//! the VIP over, then the holder changes; a backup that is not ready leaves the holder alone.

use super::*;

/// The usual lab plus lb-02; both load balancers share a VIP, which lb-01 holds.
fn pair(fail: &[(&str, &'static str, i32)]) -> (Lab, Vec<ResourcePlan>) {
    let mut lab = lab(fail, None);
    let mut lb2 = host("lb-02", Role::Lb);
    lb2.address = "10.0.0.2".into();
    lab.desired.hosts.insert(1, lb2);
    for h in lab
        .desired
        .hosts
        .iter_mut()
        .filter(|h| h.roles == [Role::Lb])
    {
        h.vip = Some("10.0.0.100".into());
    }
    let remote: Arc<dyn Remote> = Arc::new(FakeHost {
        name: "lb-02".into(),
        log: lab.log.clone(),
        fail: fail
            .iter()
            .filter(|(h, _, _)| *h == "lb-02")
            .map(|(_, s, c)| (*s, *c))
            .collect(),
        interrupt_on: None,
    });
    lab.remotes.insert("lb-02".into(), remote);
    let mut plans = lab.plans();
    plans[0].holds_vip = true;
    (lab, plans)
}

#[test]
fn the_backup_changes_first_and_the_holder_last_once_the_backup_is_ready() {
    let (lab, plans) = pair(&[]);
    let lbs: Vec<&ResourcePlan> = plans
        .iter()
        .filter(|p| p.phase == Phase::LoadBalancer)
        .collect();
    let names = |b: &Vec<&ResourcePlan>| b.iter().map(|r| r.name().to_string()).collect::<Vec<_>>();
    assert_eq!(
        batches(&lbs, 4).iter().map(names).collect::<Vec<_>>(),
        [vec!["lb-02"], vec!["lb-01"]]
    );
    let reports = lab.apply(&plans, &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    let calls = lab.calls();
    let check = calls
        .iter()
        .position(|c| c == "lb-02:backup-health")
        .unwrap();
    // After lb-02's change is done (and its watchdog stood down): its VRRP state, then its
    // HAProxy on its own address, then lb-01's change.
    assert_eq!(check, lab.last_call("lb-02"), "{calls:?}");
    assert_eq!(calls[check - 1], "lb-02:probe", "{calls:?}");
    assert_eq!(calls[check - 2], "lb-02:disarm", "{calls:?}");
    assert_eq!(lab.first_change("lb-01"), check + 1, "{calls:?}");
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.ends_with(":backup-health"))
            .count(),
        1,
        "{calls:?}"
    );
    // plan shows the order, and why the holder is last.
    let text = crate::ui::plan_view::rollout(&super::rollout(&plans, &lab.desired, 1));
    assert!(
        text.contains("5. load balancer: lb-02, a backup of the VIP first\n")
            && text.contains(
                "load balancer: lb-01 (holds the VIP 10.0.0.100: last, once the others are ready to take it)"
            ),
        "{text}"
    );
}

#[test]
fn a_backup_whose_haproxy_does_not_answer_leaves_the_holder_alone() {
    let (lab, plans) = pair(&[("lb-02", "backup-health", protocol::Exit::Health.code())]);
    let reports = lab.apply(&plans, &[]);
    assert_eq!(outcome(&reports, "lb-02"), &Outcome::Changed);
    match outcome(&reports, "lb-01") {
        Outcome::Skipped { reason } => assert!(
            reason.contains("lb-02 is not ready to take the VIP 10.0.0.100")
                && reason.contains("does not answer on 10.0.0.2")
                && reason.contains("kept the VIP"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(lab.changed_nothing_on("lb-01"), "{:?}", lab.calls());
}

#[test]
fn a_holder_changing_alone_still_waits_for_its_backup_to_be_ready() {
    let (lab, mut plans) = pair(&[("lb-02", "probe", 1)]);
    plans.retain(|p| p.name() == "lb-01");
    let reports = lab.apply(&plans, &[]);
    match outcome(&reports, "lb-01") {
        Outcome::Skipped { reason } => {
            assert!(reason.contains("lb-02 is not ready"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(lab.changed_nothing_on("lb-01"), "{:?}", lab.calls());
}

#[test]
fn a_backup_not_in_the_run_is_said_in_the_holders_report() {
    let (lab, mut plans) = pair(&[]);
    plans.retain(|p| p.name() == "lb-01");
    let mut lab = lab;
    lab.remotes.remove("lb-02");
    let reports = lab.apply(&plans, &[]);
    let lb1 = reports.iter().find(|r| r.host == "lb-01").unwrap();
    assert_eq!(lb1.outcome, Outcome::Changed);
    assert!(
        lb1.done
            .iter()
            .any(|d| d.contains("lb-02 was not checked ready") && d.contains("not in this run")),
        "{:?}",
        lb1.done
    );
}

#[test]
fn an_unreachable_backup_leaves_the_holder_alone() {
    let (lab, mut plans) = pair(&[]);
    plans.retain(|p| p.name() == "lb-01");
    let mut lab = lab;
    lab.remotes.remove("lb-02");
    let lost = [(
        "lb-02".to_string(),
        Phase::LoadBalancer,
        "connection refused".to_string(),
    )];
    let reports = lab.apply(&plans, &lost);
    match outcome(&reports, "lb-01") {
        Outcome::Skipped { reason } => assert!(
            reason.contains("lb-02 is not ready") && reason.contains("unreachable"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(lab.changed_nothing_on("lb-01"), "{:?}", lab.calls());
}

#[test]
fn the_ready_judgement() {
    use crate::observe::VipFacts;
    let seen = |held, state: &str| VipFacts {
        held,
        state: Some(state.into()),
    };
    assert_eq!(super::vip::ready(Some(&seen(false, "BACKUP"))), Ok(()));
    // Two holders (VRRP cut): the other one serves the VIP already.
    assert_eq!(super::vip::ready(Some(&seen(true, "MASTER"))), Ok(()));
    for (facts, why) in [
        (
            seen(true, "STOPPED"),
            "holds the VIP with keepalived in state STOPPED",
        ),
        (seen(false, "STOPPED"), "not running"),
        (seen(false, "FAULT"), "state FAULT"),
        (seen(false, "UNKNOWN"), "restart keepalived there"),
    ] {
        let e = super::vip::ready(Some(&facts)).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
    assert!(super::vip::ready(None).is_err());
}

#[test]
fn without_a_holder_the_load_balancers_of_a_vip_still_go_one_at_a_time() {
    let (lab, mut plans) = pair(&[]);
    plans[0].holds_vip = false;
    // A first install of keepalived: neither serves yet, and no check runs before either.
    for p in plans.iter_mut().filter(|p| p.phase == Phase::LoadBalancer) {
        p.changes.push(Change::Package {
            name: "keepalived".into(),
        });
    }
    let lbs: Vec<&ResourcePlan> = plans
        .iter()
        .filter(|p| p.phase == Phase::LoadBalancer)
        .collect();
    let names = |b: &Vec<&ResourcePlan>| b.iter().map(|r| r.name().to_string()).collect::<Vec<_>>();
    assert_eq!(
        batches(&lbs, 4).iter().map(names).collect::<Vec<_>>(),
        [vec!["lb-01"], vec!["lb-02"]]
    );
    let reports = lab.apply(&plans, &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    assert!(!lab.calls().iter().any(|c| c.ends_with(":backup-health")));
}

#[test]
fn a_holder_with_a_package_to_install_still_goes_alone_and_last() {
    let (_lab, mut plans) = pair(&[]);
    for p in plans.iter_mut().filter(|p| p.phase == Phase::LoadBalancer) {
        p.changes.push(Change::Package {
            name: "keepalived".into(),
        });
    }
    let lbs: Vec<&ResourcePlan> = plans
        .iter()
        .filter(|p| p.phase == Phase::LoadBalancer)
        .collect();
    let names = |b: &Vec<&ResourcePlan>| b.iter().map(|r| r.name().to_string()).collect::<Vec<_>>();
    assert_eq!(
        batches(&lbs, 4).iter().map(names).collect::<Vec<_>>(),
        [vec!["lb-02"], vec!["lb-01"]]
    );
}
