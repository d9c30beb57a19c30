//! The `dns` section.

use super::keys::{DNS, RECORD};
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::Node;
use std::net::IpAddr;

pub(super) fn dns(node: &Node, domain: &Sp<String>, d: &mut Decoder) -> Option<Dns> {
    let f = d.map(node, "dns", &DNS.names())?;
    let zone = f
        .get("zone")
        .and_then(|n| d.name(n, "dns.zone"))
        .unwrap_or_else(|| domain.clone());
    let ttl = f
        .get("ttl")
        .and_then(|n| d.u32(n, "dns.ttl", 1, 2_147_483_647))
        .map_or(300, |t| t.value);
    let records = f
        .get("records")
        .map(|n| {
            d.list(n, |d, n| {
                let r = d.map(n, "dns record", &RECORD.names())?;
                if let Some(t) = r.get("type").and_then(|n| d.name(n, "record type"))
                    && !t.eq_ignore_ascii_case("A")
                {
                    d.push(
                        Problem::error(
                            "topology::invalid-value",
                            t.span,
                            format!("record type `{}` is not supported", t.value),
                        )
                        .label("only A records are managed")
                        .help("write `type: A` or leave it out"),
                    );
                    return None;
                }
                let Some((name, target)) = r.get("name").zip(r.get("target")) else {
                    d.push(
                        Problem::error(
                            "topology::missing-key",
                            n.span,
                            "a DNS record needs `name` and `target`",
                        )
                        .label("incomplete record")
                        .help("e.g. `{ name: www, target: lb-01 }`"),
                    );
                    return None;
                };
                let name = d.name(name, "record name")?;
                let t = d.name(target, "record target")?;
                let target = match t.value.parse::<IpAddr>() {
                    Ok(ip) => Sp::new(Target::Address(ip), t.span),
                    Err(_) => Sp::new(Target::Host(t.value.clone()), t.span),
                };
                Some(Record {
                    name,
                    target,
                    ttl: r
                        .get("ttl")
                        .and_then(|n| d.u32(n, "record ttl", 1, 2_147_483_647))
                        .map(|t| t.value),
                })
            })
        })
        .unwrap_or_default();
    Some(Dns { zone, ttl, records })
}
