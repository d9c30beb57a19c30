//! The `firewall` section.

use super::grammar::{INVALID_VALUE, host_name};
use super::keys::FIREWALL;
use crate::diagnostic::{Problem, Span};
use crate::net::{Network, NetworkError};
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::{AdminSource, Firewall};
use crate::topology::node::Node;

/// The section as written, or its defaults (on, SSH from everywhere) at `top`.
pub(super) fn firewall(node: Option<&Node>, top: Span, d: &mut Decoder) -> Firewall {
    let default = Firewall {
        enabled: true,
        admin: None,
        span: top,
    };
    let Some(node) = node else { return default };
    let Some(f) = d.map(node, "firewall", &FIREWALL.names()) else {
        return default;
    };
    Firewall {
        enabled: f
            .get("enabled")
            .and_then(|n| d.bool(n, "firewall.enabled"))
            .unwrap_or(true),
        admin: f.get("admin").map(|n| d.list(n, |d, n| admin_source(n, d))),
        span: f.node.span,
    }
}

fn admin_source(node: &Node, d: &mut Decoder) -> Option<Sp<AdminSource>> {
    let what = "firewall.admin entry";
    let s = d.name(node, what)?;
    let looks_like_network = s.value.contains(['/', ':', '.']);
    if !looks_like_network && host_name(&s.value) {
        return Some(Sp::new(AdminSource::Host(s.value.clone()), s.span));
    }
    match Network::parse(&s.value) {
        Ok(n) => Some(Sp::new(AdminSource::Network(n), s.span)),
        Err(e) => {
            let help = match &e {
                NetworkError::HostBits { network } => format!("write `{network}`"),
                _ => "an IP address (`192.0.2.7`), a network (`192.0.2.0/24`, `2001:db8::/32`) \
                      or the name of a host of the topology"
                    .to_string(),
            };
            d.push(
                Problem::error(
                    INVALID_VALUE,
                    s.span,
                    format!(
                        "{what} `{}` is not an address, a network or a host name",
                        s.value
                    ),
                )
                .label(e.to_string())
                .help(help),
            );
            None
        }
    }
}
