//! The floating address: exactly one load balancer holds it (keepalived MASTER), each other one
//! is ready to take it (keepalived BACKUP, its HAProxy answering), and the site answers through
//! it.

use super::{Check, Hop, Probe, Status};
use super::{ssh, url_host};
use crate::desired::{HealthCheck, HostState};
use crate::observe::Observed;

/// The VIP checks for the load balancers among `hosts` (none without a VIP).
pub fn checks(hosts: &[&HostState]) -> Vec<Check> {
    let lbs: Vec<&HostState> = hosts.iter().copied().filter(|h| h.vip.is_some()).collect();
    let Some(first) = lbs.first() else {
        return Vec::new();
    };
    let vip = first.vip.clone().unwrap_or_default();
    let mut out = Vec::new();
    for lb in &lbs {
        out.push(Check {
            id: format!("vip:{}", lb.name),
            hop: Hop::LoadBalancer,
            host: lb.name.clone(),
            title: format!(
                "{} holds the VIP {vip} as keepalived's MASTER, or is its BACKUP with HAProxy answering",
                lb.name
            ),
            probe: Probe::VipState,
            needs: vec![ssh(&lb.name), format!("site:{}", lb.name)],
            needs_one_of: Vec::new(),
        });
    }
    out.push(Check {
        id: "vip:holders".into(),
        hop: Hop::LoadBalancer,
        host: first.name.clone(),
        title: format!("exactly one load balancer holds the VIP {vip}"),
        probe: Probe::VipHolders {
            hosts: lbs.iter().map(|h| h.name.clone()).collect(),
        },
        needs: lbs.iter().map(|h| ssh(&h.name)).collect(),
        needs_one_of: Vec::new(),
    });
    if let Some(http) = first.health.iter().find_map(|c| match c {
        HealthCheck::LoadBalancer(http) => Some(http),
        _ => None,
    }) {
        let scheme = if http.tls { "https" } else { "http" };
        out.push(Check {
            id: "vip:site".into(),
            hop: Hop::Site,
            host: first.name.clone(),
            title: format!(
                "{} answers 200 on {} through the VIP {vip}",
                http.host_header, http.path
            ),
            probe: Probe::Http {
                url: format!("{scheme}://{}:{}{}", url_host(&vip), http.port, http.path),
                host_header: http.host_header.clone(),
            },
            needs: vec![ssh(&first.name), "vip:holders".into()],
            needs_one_of: Vec::new(),
        });
    }
    out
}

/// One load balancer's part: MASTER holding the VIP, or BACKUP without it.
pub fn state(o: &Observed) -> (Status, String) {
    let Some(v) = &o.vip else {
        return (Status::Fail, "the probe did not read the VIP".into());
    };
    let state = v
        .state
        .as_deref()
        .unwrap_or("no state (keepalived never ran)");
    match (v.held, state) {
        (true, "MASTER") => (Status::Pass, "MASTER, holds the VIP".into()),
        (false, "BACKUP") => (Status::Pass, "BACKUP, ready to take the VIP".into()),
        (true, s) => (Status::Fail, format!("holds the VIP but keepalived is {s}")),
        (false, s) => (
            Status::Fail,
            format!("keepalived is {s}: it would not take the VIP"),
        ),
    }
}

/// How many of the load balancers hold the VIP (`observed` by host; a missing one is named).
pub fn holders<'o>(
    hosts: &[String],
    observed: impl Fn(&str) -> Option<&'o Observed>,
) -> (Status, String) {
    let mut held = Vec::new();
    for h in hosts {
        match observed(h).and_then(|o| o.vip.as_ref()) {
            Some(v) if v.held => held.push(h.as_str()),
            Some(_) => {}
            None => return (Status::Fail, format!("{h} was not probed")),
        }
    }
    match held.as_slice() {
        [one] => (Status::Pass, format!("{one} holds it")),
        [] => (
            Status::Fail,
            "no load balancer holds it: the site is down".into(),
        ),
        many => (
            Status::Fail,
            format!("{} hold it at once (split brain)", many.join(" and ")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::VipFacts;

    fn seen(held: bool, state: &str) -> Observed {
        Observed {
            vip: Some(VipFacts {
                held,
                state: Some(state.into()),
            }),
            ..Observed::default()
        }
    }

    #[test]
    fn a_holder_is_master_and_a_backup_does_not_hold() {
        assert_eq!(state(&seen(true, "MASTER")).0, Status::Pass);
        assert_eq!(state(&seen(false, "BACKUP")).0, Status::Pass);
        assert_eq!(state(&seen(false, "FAULT")).0, Status::Fail);
        assert_eq!(state(&seen(true, "BACKUP")).0, Status::Fail);
        assert_eq!(state(&Observed::default()).0, Status::Fail);
    }

    #[test]
    fn exactly_one_holder() {
        let (a, b) = (seen(true, "MASTER"), seen(false, "BACKUP"));
        let hosts = ["lb-01".to_string(), "lb-02".to_string()];
        assert_eq!(
            holders(&hosts, |h| Some(if h == "lb-01" { &a } else { &b })),
            (Status::Pass, "lb-01 holds it".into())
        );
        let both = holders(&hosts, |_| Some(&a));
        assert!(both.1.contains("split brain"), "{both:?}");
        assert_eq!(holders(&hosts, |_| Some(&b)).0, Status::Fail);
        assert!(holders(&hosts, |_| None).1.contains("not probed"));
    }
}
