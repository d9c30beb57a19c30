//! What `plan` warns of about the load balancers of a VIP: how many hold it now (none or several
//! is an outage or a split), and a change of what makes them one VRRP group (while they roll,
//! the changed ones and the others no longer hear each other, and both sides hold the VIP).

use crate::desired::{Desired, HostState, KEEPALIVED_MAIN};
use crate::observe::Observed;

/// The warnings for the load balancers of `desired`'s VIP among `seen` (the hosts observed).
pub fn warnings(desired: &Desired, seen: &[(&HostState, &Observed)]) -> Vec<String> {
    let lbs: Vec<&HostState> = desired.hosts.iter().filter(|h| h.vip.is_some()).collect();
    let Some(vip) = lbs.first().and_then(|h| h.vip.clone()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let facts: Vec<(&str, &crate::observe::VipFacts)> = seen
        .iter()
        .filter(|(h, _)| h.vip.is_some())
        .filter_map(|(h, o)| Some((h.name.as_str(), o.vip.as_ref()?)))
        .collect();
    // Counted only with every load balancer seen, and keepalived installed on one at least (not
    // before its first install, when no one can hold it yet).
    let installed = seen
        .iter()
        .any(|(h, o)| h.vip.is_some() && o.packages.get("keepalived") == Some(&true));
    if facts.len() == lbs.len() && installed {
        let held: Vec<&str> = facts
            .iter()
            .filter(|(_, f)| f.held)
            .map(|(h, _)| *h)
            .collect();
        match held.as_slice() {
            [] => out.push(format!(
                "no load balancer holds the VIP {vip}: the site does not answer through it; \
                 each load balancer changes alone, none waits for another to be ready \
                 (`foobar-infra verify` says what each one's keepalived is doing)"
            )),
            [_] => {}
            many => out.push(format!(
                "{} hold the VIP {vip} at once: VRRP between them is cut (a firewall, or a \
                 different failover.router_id or interface); each changes alone, those holding it last",
                many.join(" and ")
            )),
        }
    }
    let mut moved: Vec<String> = Vec::new();
    for (h, o) in seen.iter().filter(|(h, _)| h.vip.is_some()) {
        let (Some(now), Some(wanted)) = (o.contents.get(KEEPALIVED_MAIN), h.file(KEEPALIVED_MAIN))
        else {
            continue;
        };
        for (what, from, to) in group_changes(now, &wanted.content) {
            let line = format!("{what} {from} -> {to}");
            if !moved.contains(&line) {
                moved.push(line);
            }
        }
    }
    if !moved.is_empty() {
        out.push(format!(
            "keepalived's {} changes: while the load balancers change one at a time, the changed \
             ones and the others are two VRRP groups and each side holds the VIP {vip} until the \
             last one changes (moments of a split); make this change when the site is quiet",
            moved.join(", ")
        ));
    }
    out
}

/// What makes the load balancers one VRRP group, in a keepalived.conf: `(setting, value)`.
fn group(conf: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut in_addresses = false;
    for line in conf.lines().map(str::trim) {
        if in_addresses {
            if !line.is_empty() && !line.starts_with('#') {
                let address = line.split_whitespace().next().unwrap_or_default();
                out.push(("virtual_ipaddress", address.to_string()));
                in_addresses = false;
            }
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("virtual_router_id"), Some(value)) => {
                out.push(("virtual_router_id", value.to_string()))
            }
            (Some("interface"), Some(value)) => out.push(("interface", value.to_string())),
            (Some("virtual_ipaddress"), Some("{")) => in_addresses = true,
            _ => {}
        }
    }
    out
}

/// The group settings that differ between the file on the host and the one wanted.
fn group_changes(now: &str, wanted: &str) -> Vec<(&'static str, String, String)> {
    let (now, wanted) = (group(now), group(wanted));
    wanted
        .iter()
        .filter_map(|(key, to)| {
            let from = now.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())?;
            (from != *to).then(|| (*key, from, to.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::VipFacts;

    const CONF: &str = "vrrp_instance site {\n    state BACKUP\n    interface eth0\n    \
        virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.100/24 dev eth0\n    }\n}\n";

    fn lb(name: &str) -> HostState {
        crate::render::example("ha.yaml")
            .host(name)
            .unwrap()
            .clone()
    }

    /// A load balancer with keepalived installed.
    fn seen(held: bool, state: &str) -> Observed {
        Observed {
            vip: Some(VipFacts {
                held,
                state: Some(state.into()),
            }),
            packages: [("keepalived".to_string(), true)].into(),
            ..Observed::default()
        }
    }

    fn desired(hosts: Vec<HostState>) -> Desired {
        Desired {
            domain: "example.com".into(),
            hosts,
            dns: None,
            https: None,
        }
    }

    #[test]
    fn none_or_two_holders_are_warned_of_once_keepalived_runs() {
        let (a, b) = (lb("lb-01"), lb("lb-02"));
        let d = desired(vec![a.clone(), b.clone()]);
        let warn = |x: &Observed, y: &Observed| warnings(&d, &[(&a, x), (&b, y)]);
        assert!(warn(&seen(true, "MASTER"), &seen(false, "BACKUP")).is_empty());
        let none = warn(&seen(false, "BACKUP"), &seen(false, "FAULT"));
        assert!(
            none[0].starts_with("no load balancer holds the VIP"),
            "{none:?}"
        );
        let two = warn(&seen(true, "MASTER"), &seen(true, "MASTER"));
        assert!(
            two[0].starts_with("lb-01 and lb-02 hold the VIP"),
            "{two:?}"
        );
        // Stopped everywhere: no holder either.
        let stopped = warn(&seen(false, "STOPPED"), &seen(false, "STOPPED"));
        assert!(
            stopped[0].starts_with("no load balancer holds"),
            "{stopped:?}"
        );
        // Before keepalived's first install, and with one load balancer unseen: nothing to say.
        let bare = |o: Observed| Observed {
            packages: Default::default(),
            ..o
        };
        let (x, y) = (bare(seen(false, "STOPPED")), bare(seen(false, "STOPPED")));
        assert!(warn(&x, &y).is_empty());
        assert!(warnings(&d, &[(&a, &seen(false, "BACKUP"))]).is_empty());
    }

    #[test]
    fn a_change_of_the_vrrp_group_is_warned_of() {
        assert_eq!(
            group(CONF),
            [
                ("interface", "eth0".to_string()),
                ("virtual_router_id", "51".to_string()),
                ("virtual_ipaddress", "10.0.0.100/24".to_string()),
            ]
        );
        let other = CONF.replace("id 51", "id 52").replace("eth0\n", "eth1\n");
        assert_eq!(
            group_changes(CONF, &other),
            [
                ("interface", "eth0".to_string(), "eth1".to_string()),
                ("virtual_router_id", "51".to_string(), "52".to_string()),
            ]
        );
        assert!(group_changes(CONF, &CONF.replace("BACKUP", "MASTER")).is_empty());
        let a = lb("lb-01");
        let d = desired(vec![a.clone()]);
        let wanted = &a.file(KEEPALIVED_MAIN).unwrap().content;
        let mut o = seen(true, "MASTER");
        o.contents.insert(
            KEEPALIVED_MAIN.into(),
            wanted.replace("virtual_router_id 51", "virtual_router_id 7"),
        );
        let w = warnings(&d, &[(&a, &o)]);
        assert!(
            w.iter().any(|w| w.contains("virtual_router_id 7 -> 51")),
            "{w:?}"
        );
    }
}
