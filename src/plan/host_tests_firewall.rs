//! The firewall's unit: reloaded, never restarted (a restart stops it, its table gone, before it
//! starts again), and loaded again when its table went missing.

use super::*;
use crate::firewall::{HostFirewall, RULES_FILE, TABLE, UNIT as FW};
use crate::observe::FirewallFacts;

fn with_firewall() -> HostState {
    let mut h = host(&[Role::Web]);
    let unit_file = format!("/etc/systemd/system/{FW}");
    h.files.push(file(RULES_FILE, FW, Reload));
    h.files.push(file(&unit_file, FW, Reload));
    h.services.insert(
        0,
        Service {
            name: FW.into(),
            enabled: true,
            running: true,
        },
    );
    h.firewall = Some(HostFirewall {
        rules: Vec::new(),
        vrrp_from: Vec::new(),
    });
    h
}

fn loaded(o: &mut Observed, loaded: bool) {
    o.firewall = Some(FirewallFacts {
        loaded,
        ..Default::default()
    });
}

#[test]
fn a_new_unit_file_for_the_firewall_is_a_reload() {
    let h = with_firewall();
    let mut o = matching(&h);
    loaded(&mut o, true);
    drift(&mut o, &format!("/etc/systemd/system/{FW}"));
    let actions: Vec<Change> = services(changes(&h, &o));
    assert_eq!(
        actions,
        [svc(
            FW,
            Svc::Reload,
            &format!("/etc/systemd/system/{FW} changes")
        )]
    );
}

#[test]
fn a_missing_table_is_loaded_again_once() {
    let h = with_firewall();
    let mut o = matching(&h);
    loaded(&mut o, true);
    assert_eq!(changes(&h, &o), []);
    loaded(&mut o, false);
    let reason = format!("its table inet {TABLE} is not loaded");
    assert_eq!(changes(&h, &o), [svc(FW, Svc::Reload, &reason)]);
    // A ruleset change reloads it anyway: one action.
    drift(&mut o, RULES_FILE);
    assert_eq!(
        services(changes(&h, &o)),
        [svc(FW, Svc::Reload, &format!("{RULES_FILE} changes"))]
    );
    // Its unit stopped: started, which loads it.
    let mut o = observed(&h, true, unit("enabled", "inactive"));
    loaded(&mut o, false);
    assert!(
        services(changes(&h, &o))
            .iter()
            .any(|c| matches!(c, Change::Service { name, action: Svc::Start, .. } if name == FW))
    );
}
