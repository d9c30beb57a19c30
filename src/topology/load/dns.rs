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
    let key = f.get("key").and_then(|n| key(n, d));
    let provider = f
        .get("provider")
        .and_then(|n| {
            d.choice(
                n,
                "dns.provider",
                &[
                    ("rfc2136", DnsProvider::Rfc2136),
                    ("zone-file", DnsProvider::ZoneFile),
                ],
            )
        })
        .unwrap_or_else(|| {
            let default = if key.is_some() {
                DnsProvider::Rfc2136
            } else {
                DnsProvider::ZoneFile
            };
            Sp::new(default, f.node.span)
        });
    let server = f.get("server").and_then(|n| server(n, d));
    let prune = f
        .get("prune")
        .and_then(|n| d.bool(n, "dns.prune"))
        .unwrap_or(false);
    Some(Dns {
        zone,
        ttl,
        records,
        provider,
        server,
        key,
        prune,
    })
}

/// `server`: a host's name, or an address with an optional port (`192.0.2.53`, `192.0.2.53:5353`,
/// `[2001:db8::53]:53`).
fn server(node: &Node, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.string(node, "dns.server")?;
    if s.value.parse::<IpAddr>().is_ok() || s.value.parse::<std::net::SocketAddr>().is_ok() {
        return Some(s);
    }
    d.name(node, "dns.server")
}

fn key(node: &Node, d: &mut Decoder) -> Option<TsigKey> {
    let f = d.map(node, "dns.key", &super::keys::KEY.names())?;
    let Some((name, secret)) = f.get("name").zip(f.get("secret")) else {
        d.push(
            Problem::error(
                "topology::missing-key",
                f.node.span,
                "dns.key needs `name` and `secret`",
            )
            .label("incomplete key")
            .help("e.g. `key: { name: foobar-infra, secret: { env: FOOBAR_TSIG_SECRET } }`"),
        );
        return None;
    };
    let name = d.name(name, "dns.key.name")?;
    let secret = super::secret::secret(secret, &super::keys::TSIG_SECRET, "FOOBAR_TSIG_SECRET", d)?;
    let algorithm = f
        .get("algorithm")
        .and_then(|n| d.choice(n, "dns.key.algorithm", &TsigAlgorithm::ALL))
        .unwrap_or(Sp::new(TsigAlgorithm::HmacSha256, f.node.span));
    Some(TsigKey {
        name,
        algorithm,
        secret,
    })
}
