//! The floating address: exactly one load balancer holds it (keepalived MASTER), each other one
//! is ready to take it (keepalived BACKUP, its HAProxy answering), and the site answers through
//! it, from a host across the network as a client would reach it.

use super::{Check, Hop, Probe, Status};
use super::{ssh, url_host};
use crate::desired::{Desired, HostState};
use crate::observe::Observed;
use crate::topology::Role;

/// The VIP checks for the load balancers among `hosts` (none without a VIP). How many hold the
/// VIP is judged only when every load balancer of the VIP is among `hosts` (a `--limit` that
/// leaves one out cannot count them).
pub fn checks(desired: &Desired, hosts: &[&HostState]) -> Vec<Check> {
    let lbs: Vec<&HostState> = hosts.iter().copied().filter(|h| h.vip.is_some()).collect();
    let Some(first) = lbs.first() else {
        return Vec::new();
    };
    let vip = first.vip.clone().unwrap_or_default();
    let all_here = desired
        .hosts
        .iter()
        .filter(|h| h.vip.is_some())
        .all(|h| lbs.iter().any(|l| l.name == h.name));
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
    if all_here {
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
    }
    let Some(http) = first.lb_health() else {
        return out;
    };
    // A client's way in: from a web server (across the network to whichever load balancer
    // holds the VIP), else from a load balancer.
    let from = hosts
        .iter()
        .copied()
        .find(|h| h.roles.contains(&Role::Web) && h.vip.is_none())
        .unwrap_or(first);
    let https = desired.https.as_ref().filter(|_| http.tls);
    let (url, resolve) = match https {
        // The site's name, resolved to the VIP: the handshake names it as a client's does.
        Some(s) => (
            format!("https://{}:{}{}", s.name, s.port, http.path),
            Some(format!("{}:{}:{}", s.name, s.port, url_host(&vip))),
        ),
        None => (
            format!("http://{}:{}{}", url_host(&vip), http.port, http.path),
            None,
        ),
    };
    if let Some(s) = https {
        out.push(Check {
            id: "tls:vip".into(),
            hop: Hop::Tls,
            host: first.name.clone(),
            title: format!(
                "the VIP {vip} presents a certificate for {} that the client trusts",
                s.name
            ),
            probe: Probe::Tls {
                name: s.name.clone(),
                address: vip.clone(),
                port: s.port,
                trust: s.trust.clone(),
            },
            needs: Vec::new(),
            needs_one_of: Vec::new(),
        });
    }
    let mut needs = vec![ssh(&from.name)];
    if all_here {
        needs.push("vip:holders".into());
    }
    out.push(Check {
        id: "vip:site".into(),
        hop: Hop::Site,
        host: from.name.clone(),
        title: format!(
            "{} answers 200 on {} through the VIP {vip}, from {}",
            http.host_header, http.path, from.name
        ),
        probe: Probe::Http {
            url,
            host_header: http.host_header.clone(),
            resolve,
        },
        needs,
        needs_one_of: Vec::new(),
    });
    out
}

/// One load balancer's part: MASTER holding the VIP, or BACKUP without it.
pub fn state(o: &Observed) -> (Status, String) {
    let Some(v) = &o.vip else {
        return (Status::Fail, "the probe did not read the VIP".into());
    };
    let state = v.state.as_deref().unwrap_or("UNKNOWN");
    match (v.held, state) {
        (true, "MASTER") => (Status::Pass, "MASTER, holds the VIP".into()),
        (false, "BACKUP") => (Status::Pass, "BACKUP, ready to take the VIP".into()),
        (true, "STOPPED") => (
            Status::Fail,
            "holds the VIP with keepalived stopped: no one moves it if this host fails".into(),
        ),
        (true, s) => (Status::Fail, format!("holds the VIP but keepalived is {s}")),
        (false, "STOPPED") => (
            Status::Fail,
            "keepalived is not running: it would not take the VIP".into(),
        ),
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

    fn ids(desired: &Desired, limit: &[&str]) -> Vec<Check> {
        let hosts: Vec<&HostState> = desired
            .hosts
            .iter()
            .filter(|h| limit.is_empty() || limit.contains(&h.name.as_str()))
            .collect();
        checks(desired, &hosts)
    }

    #[test]
    fn the_holders_are_counted_only_with_every_load_balancer_and_the_site_asked_from_a_web_server()
    {
        let desired = crate::render::example("ha.yaml");
        let all = ids(&desired, &[]);
        let id = |c: &[Check]| c.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert!(
            id(&all).contains(&"vip:holders".to_string()),
            "{:?}",
            id(&all)
        );
        let site = all.iter().find(|c| c.id == "vip:site").unwrap();
        assert_eq!(site.host, "web-01");
        assert!(site.needs.contains(&"vip:holders".to_string()));
        // One load balancer left out: its peer's state is still judged, the count is not.
        let one = ids(&desired, &["lb-01", "web-01"]);
        assert_eq!(
            id(&one),
            ["vip:lb-01", "tls:vip", "vip:site"]
                .map(String::from)
                .iter()
                .filter(|i| *i != "tls:vip" || id(&all).contains(i))
                .cloned()
                .collect::<Vec<_>>()
        );
        // Without a web server in the run, the site is asked from the load balancer.
        let lb = ids(&desired, &["lb-02"]);
        assert_eq!(
            lb.iter().find(|c| c.id == "vip:site").unwrap().host,
            "lb-02"
        );
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
