//! The DNS zone: its records and where they point.

use super::network::unknown_host;
use crate::diagnostic::{Problem, Span};
use crate::topology::decode::Sp;
use crate::topology::model::*;
use std::collections::HashMap;

fn looks_like_address(s: &str) -> bool {
    s.contains(':') || s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

pub(super) fn dns(t: &Topology, out: &mut Vec<Problem>) {
    let Some(dns) = &t.dns else {
        for h in t.hosts_with(Role::Dns) {
            let span = h.role_span(Role::Dns);
            out.push(
                Problem::warning(
                    "topology::unused-role",
                    span,
                    format!(
                        "host `{}` has the dns role but serves no zone until a `dns:` section exists",
                        h.name.value
                    ),
                )
                .label("nothing to serve")
                .help("add a `dns:` section with the zone's records, or remove the `dns` role"),
            );
        }
        return;
    };
    let lb_hosts: Vec<&Host> = t.hosts_with(Role::Lb).collect();
    let site_names: Vec<String> = t.web.as_ref().map_or_else(
        || vec![format!("www.{}", t.domain.value)],
        |w| {
            w.server_names
                .iter()
                .map(|n| n.value.trim_end_matches('.').to_string())
                .collect()
        },
    );
    let mut seen: HashMap<String, Span> = HashMap::new();
    for r in &dns.records {
        let fqdn = Topology::record_fqdn(&dns.zone, &r.name);
        if let Some(first) = seen.insert(fqdn.clone(), r.name.span) {
            out.push(
                Problem::error(
                    "topology::duplicate-record",
                    r.name.span,
                    format!("two A records for {fqdn}"),
                )
                .label("second record")
                .related(first, "first record")
                .help("one record per name; round-robin DNS is not managed"),
            );
        }
        let target_addr = match &r.target.value {
            Target::Address(ip) => Some(*ip),
            Target::Host(name) => match t.host(name) {
                Some(h) => Some(h.address.value),
                None if looks_like_address(name) => {
                    out.push(
                        Problem::error(
                            "topology::invalid-address",
                            r.target.span,
                            format!("record target `{name}` is not a valid IP address"),
                        )
                        .label("invalid address")
                        .help("write a valid address, or the name of a host"),
                    );
                    None
                }
                None => {
                    out.push(unknown_host(
                        t,
                        &Sp::new(name.clone(), r.target.span),
                        "topology::unknown-host",
                        "record target",
                    ));
                    None
                }
            },
        };
        let is_site = site_names.contains(&fqdn);
        if let Some(addr) = target_addr
            && is_site
            && !lb_hosts.iter().any(|h| h.address.value == addr)
        {
            let lb = lb_hosts
                .first()
                .map(|h| format!("`{}` ({})", h.name.value, h.address.value));
            out.push(
                Problem::error(
                    "topology::dns-not-lb",
                    r.target.span,
                    format!("the site's record {fqdn} points at {addr}, not at the load balancer"),
                )
                .label("not the load balancer")
                .help(match lb {
                    Some(lb) => format!("point it at the load balancer: target: {lb}"),
                    None => "give a host the lb role and point the record at it".into(),
                }),
            );
        }
    }
}
