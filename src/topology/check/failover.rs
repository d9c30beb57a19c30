//! The floating address and its failover: where the VIP may be, who holds it, with what
//! priorities.

use super::network::unknown_host;
use crate::diagnostic::{Problem, Span};
use crate::net::{Network, NetworkError};
use crate::topology::load::keys::{ADVERT_MAX_MS, ADVERT_MIN_MS};
use crate::topology::model::*;
use std::collections::HashMap;

pub(super) fn failover(t: &Topology, out: &mut Vec<Problem>) {
    let Some(lb) = &t.load_balancer else { return };
    let f = &lb.failover;
    let Some(vip) = &lb.vip else {
        if f.written {
            out.push(
                Problem::warning(
                    "topology::unused-section",
                    f.span,
                    "load_balancer.failover without load_balancer.vip does nothing",
                )
                .label("no VIP to move")
                .help("add `vip: ADDRESS` to load_balancer, or remove `failover`"),
            );
        }
        return;
    };
    let lbs: Vec<&Host> = t.hosts_with(Role::Lb).collect();
    let addr = vip.address.value;
    if let Some(h) = t.hosts.iter().find(|h| h.address.value == addr) {
        out.push(
            Problem::error(
                "topology::vip-is-host",
                vip.address.span,
                format!("the VIP {addr} is the address of host `{}`", h.name.value),
            )
            .label("a host's own address")
            .related(h.address.span, "this host has it")
            .help("pick a free address in the load balancers' network"),
        );
    }
    if lbs.len() == 1 {
        out.push(
            Problem::warning(
                "topology::vip-single-lb",
                vip.address.span,
                format!(
                    "the VIP has one load balancer (`{}`): it fails over nowhere",
                    lbs[0].name.value
                ),
            )
            .label("no second lb host")
            .help("give a second host the `lb` role"),
        );
    }
    let network = vip.prefix.map(|p| {
        match Network::parse(&format!("{addr}/{p}")) {
            Ok(n) => n,
            Err(NetworkError::HostBits { network }) => network,
            // The loader took the prefix for this family.
            Err(_) => Network::host(addr),
        }
    });
    for h in &lbs {
        if h.address.value.is_ipv4() != addr.is_ipv4() {
            out.push(
                Problem::error(
                    "topology::vip-family",
                    vip.address.span,
                    format!(
                        "the VIP {addr} and lb host `{}` ({}) are of different address families",
                        h.name.value, h.address.value
                    ),
                )
                .label("other family")
                .related(h.address.span, "this lb host")
                .help("VRRP moves an address among hosts of its own family"),
            );
        } else if let Some(n) = &network
            && !n.contains(h.address.value)
        {
            out.push(
                Problem::error(
                    "topology::vip-network",
                    vip.address.span,
                    format!(
                        "lb host `{}` ({}) is outside the VIP's network {n}",
                        h.name.value, h.address.value
                    ),
                )
                .label("not the lb hosts' network")
                .related(h.address.span, "this lb host")
                .help(
                    "the VIP must be on the lb hosts' own network: fix the prefix or the address",
                ),
            );
        }
    }
    let mut seen: HashMap<u32, Span> = HashMap::new();
    for (name, priority) in &f.priorities {
        match t.host(&name.value) {
            None => out.push(unknown_host(
                t,
                name,
                "topology::unknown-host",
                "failover priority of",
            )),
            Some(h) if !h.has(Role::Lb) => out.push(
                Problem::error(
                    "topology::priority-not-lb",
                    name.span,
                    format!("`{}` has a priority but not the lb role", name.value),
                )
                .label("not a load balancer")
                .related(h.name.span, "defined here")
                .help("priorities are for the hosts with the `lb` role"),
            ),
            Some(_) => {}
        }
        if let Some(first) = seen.insert(priority.value, priority.span) {
            out.push(
                Problem::error(
                    "topology::duplicate-priority",
                    priority.span,
                    format!("priority {} is given twice", priority.value),
                )
                .label("second host with it")
                .related(first, "first")
                .help("each lb host needs its own priority, or the election depends on addresses"),
            );
        }
    }
    // Defaults must not collide with written ones either.
    for (i, h) in lbs.iter().enumerate() {
        let written = f.priorities.iter().any(|(n, _)| n.value == h.name.value);
        let p = f.priority(&h.name.value, i);
        if !written && let Some(first) = seen.get(&p) {
            out.push(
                Problem::error(
                    "topology::duplicate-priority",
                    *first,
                    format!(
                        "priority {p} is also lb host `{}`'s default (150, 140... in file order)",
                        h.name.value
                    ),
                )
                .label("taken by a default")
                .related(h.name.span, "this lb host")
                .help(format!("give `{}` a priority of its own", h.name.value)),
            );
        }
    }
    if f.advert_ms > ADVERT_MAX_MS || f.advert_ms < ADVERT_MIN_MS || f.advert_ms % 10 != 0 {
        out.push(
            Problem::error(
                "topology::invalid-value",
                f.advert_span,
                format!(
                    "failover.advert is {}ms: VRRPv3 takes 10ms to 40.95s in hundredths of a second",
                    f.advert_ms
                ),
            )
            .label("not a VRRPv3 interval")
            .help("e.g. 500ms or 1s"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::load_text;

    const BASE: &str = "domain: foobar.com
hosts:
  lb-01: { address: 192.0.2.10, roles: [lb] }
  lb-02: { address: 192.0.2.11, roles: [lb] }
  web-01: { address: 192.0.2.21, roles: [web, app] }
firewall: { admin: [192.0.2.0/28] }
";

    /// (code, severity is error) of every problem of BASE with `load_balancer:` set to `lb`.
    fn problems(hosts: &str, lb: &str) -> Vec<(String, bool)> {
        let loaded = load_text(&format!("{BASE}{hosts}load_balancer:\n{lb}"));
        loaded
            .problems
            .iter()
            .map(|p| (p.code.to_string(), p.is_error()))
            .collect()
    }

    fn codes(hosts: &str, lb: &str) -> Vec<String> {
        problems(hosts, lb).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn a_vip_beside_two_load_balancers_is_taken() {
        assert_eq!(codes("", "  vip: 192.0.2.100\n"), Vec::<String>::new());
        assert_eq!(codes("", "  vip: 192.0.2.100/24\n"), Vec::<String>::new());
        assert_eq!(
            codes(
                "",
                "  vip: 192.0.2.100\n  failover: { priorities: { lb-02: 200 }, advert: 1s, preempt: true }\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn where_the_vip_may_not_be() {
        assert_eq!(codes("", "  vip: 192.0.2.21\n"), ["topology::vip-is-host"]);
        assert_eq!(
            codes("", "  vip: 198.51.100.7/24\n"),
            ["topology::vip-network", "topology::vip-network"]
        );
        assert_eq!(
            codes("", "  vip: 2001:db8::7\n"),
            ["topology::vip-family", "topology::vip-family"]
        );
        assert_eq!(
            codes("", "  vip: 192.0.2.300\n"),
            ["topology::invalid-address"]
        );
        assert_eq!(
            codes("", "  vip: 192.0.2.7/33\n"),
            ["topology::invalid-address"]
        );
    }

    #[test]
    fn one_load_balancer_is_a_warning_and_failover_without_a_vip_too() {
        let one = BASE.replace(
            "lb-02: { address: 192.0.2.11, roles: [lb] }",
            "web-02: { address: 192.0.2.11, roles: [web, app] }",
        );
        let loaded = load_text(&format!("{one}load_balancer:\n  vip: 192.0.2.100\n"));
        let found: Vec<(&str, bool)> = loaded
            .problems
            .iter()
            .map(|p| (p.code, p.is_error()))
            .collect();
        assert_eq!(found, [("topology::vip-single-lb", false)]);
        assert_eq!(
            problems("", "  failover: { preempt: true }\n"),
            [("topology::unused-section".to_string(), false)]
        );
    }

    #[test]
    fn priorities_name_load_balancers_once_each() {
        assert_eq!(
            codes(
                "",
                "  vip: 192.0.2.100\n  failover: { priorities: { web-01: 100 } }\n"
            ),
            ["topology::priority-not-lb"]
        );
        assert_eq!(
            codes(
                "",
                "  vip: 192.0.2.100\n  failover: { priorities: { lb-09: 100 } }\n"
            ),
            ["topology::unknown-host"]
        );
        assert_eq!(
            codes(
                "",
                "  vip: 192.0.2.100\n  failover: { priorities: { lb-01: 100, lb-02: 100 } }\n"
            ),
            ["topology::duplicate-priority"]
        );
        // lb-02's default is 140.
        assert_eq!(
            codes(
                "",
                "  vip: 192.0.2.100\n  failover: { priorities: { lb-01: 140 } }\n"
            ),
            ["topology::duplicate-priority"]
        );
        assert_eq!(
            codes(
                "",
                "  vip: 192.0.2.100\n  failover: { priorities: { lb-01: 255 } }\n"
            ),
            ["topology::invalid-value"]
        );
    }

    #[test]
    fn the_advert_is_a_vrrpv3_interval() {
        for bad in ["41s", "5ms", "15ms"] {
            assert_eq!(
                codes(
                    "",
                    &format!("  vip: 192.0.2.100\n  failover: {{ advert: {bad} }}\n")
                ),
                ["topology::invalid-value"],
                "{bad}"
            );
        }
        assert!(codes("", "  vip: 192.0.2.100\n  failover: { advert: 40950ms }\n").is_empty());
    }

    #[test]
    fn the_site_record_may_name_the_vip_and_naming_one_lb_bypasses_it() {
        let dns = |target: &str| {
            format!(
                "  vip: 192.0.2.100\ndns:\n  provider: zone-file\n  records: [{{ name: www, target: {target} }}, {{ name: ns1, target: 192.0.2.53 }}]\n"
            )
        };
        assert!(codes("", &dns("192.0.2.100")).is_empty());
        assert_eq!(
            problems("", &dns("lb-02")),
            [("topology::dns-bypasses-vip".to_string(), false)]
        );
        assert_eq!(codes("", &dns("web-01")), ["topology::dns-not-lb"]);
    }
}
