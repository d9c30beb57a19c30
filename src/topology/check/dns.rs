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
    provider(t, dns, out);
    nameserver(t, dns, out);
    if dns.provider.value == DnsProvider::Rfc2136 {
        dynamic(t, dns, out);
    }
    let lb_hosts: Vec<&Host> = t.hosts_with(Role::Lb).collect();
    let vip = t
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.vip.as_ref())
        .map(|v| v.address.value);
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
        // 255 octets on the wire: 253 characters written out, without the final dot.
        if fqdn.len() > 253 && dns.zone.value.trim_end_matches('.').len() <= 242 {
            out.push(
                Problem::error(
                    "topology::invalid-name",
                    r.name.span,
                    format!(
                        "the record's full name is {} characters long (the zone's name included)",
                        fqdn.len()
                    ),
                )
                .label("too long")
                .help(
                    "a DNS name is at most 253 characters: shorten the record's name or the zone's",
                ),
            );
        }
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
        if let (Some(addr), Some(vip)) = (target_addr, vip)
            && let Some(h) = lb_hosts.iter().find(|h| h.address.value == addr)
        {
            out.push(
                Problem::warning(
                    "topology::dns-bypasses-vip",
                    r.target.span,
                    format!(
                        "{fqdn} points at lb host `{}`, not at the VIP {vip}: it does not fail over",
                        h.name.value
                    ),
                )
                .label("one load balancer")
                .help(format!("point it at the VIP: target: {vip}")),
            );
        }
        if let Some(addr) = target_addr
            && is_site
            && vip != Some(addr)
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
                .help(match (vip, lb) {
                    (Some(vip), _) => format!("point it at the load balancers' VIP: target: {vip}"),
                    (None, Some(lb)) => format!("point it at the load balancer: target: {lb}"),
                    (None, None) => "give a host the lb role and point the record at it".into(),
                }),
            );
        }
    }
}

/// RFC 2136 needs a key and one server; a `dns` host only serves a zone it can be updated in.
fn provider(t: &Topology, dns: &Dns, out: &mut Vec<Problem>) {
    let dns_hosts: Vec<&Host> = t.hosts_with(Role::Dns).collect();
    if dns.provider.value == DnsProvider::ZoneFile {
        if let Some(h) = dns_hosts.first() {
            out.push(
                Problem::error(
                    "topology::dns-needs-key",
                    h.role_span(Role::Dns),
                    format!(
                        "host `{}` serves the zone, but dns.provider is zone-file",
                        h.name.value
                    ),
                )
                .label("served zone")
                .help("a dns host's records are managed with RFC 2136 updates: add `dns.key: { name: foobar-infra, secret: { env: FOOBAR_TSIG_SECRET } }` (generate the secret with `tsig-keygen`), or remove the dns role and serve the rendered zone file yourself"),
            );
        }
        return;
    }
    if dns.key.is_none() {
        out.push(
            Problem::error(
                "topology::dns-needs-key",
                dns.provider.span,
                "dns.provider rfc2136 needs a TSIG key to sign its updates",
            )
            .label("unsigned updates are refused")
            .help("add `key: { name: foobar-infra, secret: { env: FOOBAR_TSIG_SECRET } }` under dns (generate the secret with `tsig-keygen -a hmac-sha256`)"),
        );
    }
    match &dns.server {
        Some(s) if s.value.parse::<std::net::IpAddr>().is_err()
            && s.value.parse::<std::net::SocketAddr>().is_err()
            && t.host(&s.value).is_none() =>
        {
            out.push(unknown_host(t, s, "topology::unknown-host", "dns.server"));
        }
        Some(_) => {}
        None if dns_hosts.len() > 1 => out.push(
            Problem::error(
                "topology::dns-server",
                dns.provider.span,
                format!(
                    "{} hosts have the dns role: which one takes the updates?",
                    dns_hosts.len()
                ),
            )
            .label("ambiguous server")
            .help(format!("add `server: {}` under dns", dns_hosts[0].name.value)),
        ),
        None if dns_hosts.is_empty() => out.push(
            Problem::error(
                "topology::dns-server",
                dns.provider.span,
                "dns.provider rfc2136 has no server to send its updates to",
            )
            .label("no server")
            .help("give a host the `dns` role, or name the zone's primary server: `server: 192.0.2.53` (ADDRESS[:PORT])"),
        ),
        None => {}
    }
}

/// Without a `dns` host, the zone file names `ns1.ZONE.` as its name server: something must give
/// that name an address, or no server loads the file.
fn nameserver(t: &Topology, dns: &Dns, out: &mut Vec<Problem>) {
    if t.hosts_with(Role::Dns).next().is_some() {
        return;
    }
    let ns = Topology::record_fqdn(&dns.zone, "ns1");
    if dns
        .records
        .iter()
        .any(|r| Topology::record_fqdn(&dns.zone, &r.name) == ns)
    {
        return;
    }
    out.push(
        Problem::warning(
            "topology::dns-nameserver",
            dns.zone.span,
            format!("the rendered zone file names {ns}. as its name server, and nothing gives it an address"),
        )
        .label("no name server address")
        .help("give a host the `dns` role, or add a record `{ name: ns1, target: ADDRESS }` for the server that loads the zone file"),
    );
}

/// What RFC 2136 updates can manage exactly: IPv4 A records at names of their own. A wildcard
/// answers for names it does not own (a query sees it where an update's prerequisite does not),
/// and an IPv6 address is an AAAA record.
fn dynamic(t: &Topology, dns: &Dns, out: &mut Vec<Problem>) {
    for r in &dns.records {
        if r.name.value == "*" || r.name.value.starts_with("*.") {
            out.push(
                Problem::error(
                    "topology::dns-wildcard",
                    r.name.span,
                    "a wildcard record cannot be managed with RFC 2136 updates",
                )
                .label("wildcard")
                .help("name each record (`www`, `api`), or use `provider: zone-file` and serve the rendered zone yourself"),
            );
        }
        let address = match &r.target.value {
            Target::Address(ip) => Some(*ip),
            Target::Host(name) => t.host(name).map(|h| h.address.value),
        };
        if let Some(ip @ std::net::IpAddr::V6(_)) = address {
            out.push(
                Problem::error(
                    "topology::dns-ipv6",
                    r.target.span,
                    format!("the record's target is the IPv6 address {ip}: only A (IPv4) records are managed"),
                )
                .label("IPv6")
                .help("point the record at an IPv4 address or at a host that has one"),
            );
        }
    }
    for h in t.hosts_with(Role::Dns) {
        if h.address.value.is_ipv6() {
            out.push(
                Problem::error(
                    "topology::dns-ipv6",
                    h.address.span,
                    format!(
                        "name server `{}` has an IPv6 address: its glue is an A record",
                        h.name.value
                    ),
                )
                .label("IPv6")
                .help("give the dns host an IPv4 address"),
            );
        }
    }
}
