//! Two load balancers sharing a VIP: the backup changes first, the site is checked through the
//! VIP, then the holder; a site that does not answer through the VIP leaves the holder alone.

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
fn the_backup_changes_first_and_the_holder_last_after_the_site_answers_through_the_vip() {
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
    let check = calls.iter().position(|c| c == "lb-02:vip-health").unwrap();
    // After lb-02's change is done (and its watchdog stood down), from lb-02, before lb-01's.
    assert_eq!(check, lab.last_call("lb-02"), "{calls:?}");
    assert_eq!(calls[check - 1], "lb-02:disarm", "{calls:?}");
    assert_eq!(lab.first_change("lb-01"), check + 1, "{calls:?}");
    assert_eq!(
        calls.iter().filter(|c| c.ends_with(":vip-health")).count(),
        1,
        "{calls:?}"
    );
    // plan shows the order, and why the holder is last.
    let text = crate::ui::plan_view::rollout(&super::rollout(&plans, &lab.desired, 1));
    assert!(
        text.contains("5. load balancer: lb-02, a backup of the VIP first\n")
            && text.contains(
                "load balancer: lb-01 (holds the VIP 10.0.0.100: last, once the site answers through it)"
            ),
        "{text}"
    );
}

#[test]
fn a_site_that_does_not_answer_through_the_vip_leaves_the_holder_alone() {
    let (lab, plans) = pair(&[("lb-02", "vip-health", protocol::Exit::Health.code())]);
    let reports = lab.apply(&plans, &[]);
    assert_eq!(outcome(&reports, "lb-02"), &Outcome::Changed);
    match outcome(&reports, "lb-01") {
        Outcome::Skipped { reason } => assert!(
            reason.contains("through the VIP 10.0.0.100") && reason.contains("kept the VIP"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(lab.changed_nothing_on("lb-01"), "{:?}", lab.calls());
}

#[test]
fn without_a_holder_in_the_plan_the_load_balancers_go_as_before() {
    let (_, mut plans) = pair(&[]);
    plans[0].holds_vip = false;
    let lbs: Vec<&ResourcePlan> = plans
        .iter()
        .filter(|p| p.phase == Phase::LoadBalancer)
        .collect();
    let names = |b: &Vec<&ResourcePlan>| b.iter().map(|r| r.name().to_string()).collect::<Vec<_>>();
    assert_eq!(
        batches(&lbs, 1).iter().map(names).collect::<Vec<_>>(),
        [vec!["lb-01"], vec!["lb-02"]]
    );
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
