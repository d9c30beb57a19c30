//! The `firewall` section.

use super::grammar::{INVALID_VALUE, host_name};
use super::keys::FIREWALL;
use crate::diagnostic::{Problem, Span};
use crate::net::{Network, NetworkError};
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::{AdminSource, Firewall};
use crate::topology::node::{Node, Value};

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
        admin: f.get("admin").map(|n| {
            if matches!(&n.value, Value::Seq(items) if items.is_empty()) {
                d.push(
                    Problem::error(
                        INVALID_VALUE,
                        n.span,
                        "firewall.admin is empty: no host would admit an SSH connection",
                    )
                    .label("no SSH from anywhere")
                    .help(
                        "name the machines that run foobar-infra, or leave `admin` out to admit SSH from everywhere",
                    ),
                );
            }
            d.list(n, |d, n| admin_source(n, d))
        }),
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

#[cfg(test)]
mod tests {
    use crate::topology::{AdminSource, load_text};

    fn problems(firewall: &str) -> Vec<(String, String)> {
        let text = format!(
            "domain: foobar.com\nhosts:\n  lb-01: {{ address: 192.0.2.10, roles: [lb] }}\n  web-01: {{ address: 192.0.2.21, roles: [web, app] }}\n{firewall}"
        );
        let loaded = load_text(&text);
        loaded
            .problems
            .iter()
            .map(|p| (p.code.to_string(), p.message.clone()))
            .collect()
    }

    #[test]
    fn admin_entries_are_networks_or_hosts_and_say_what_was_meant() {
        assert_eq!(
            problems("firewall:\n  admin: [192.0.2.0/28, lb-01, \"2001:db8::/32\"]\n"),
            []
        );
        let p = problems("firewall:\n  admin: [10.0.0.1/8]\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("`10.0.0.1/8` is not an address"), "{p:?}");
        let p = problems("firewall:\n  admin: [lb-02]\n");
        assert_eq!(p[0].0, "topology::unknown-host", "{p:?}");
        let p = problems("firewall:\n  admin: []\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("firewall.admin is empty"), "{p:?}");
    }

    #[test]
    fn peers_of_another_address_family_are_refused_by_validate() {
        let text = "domain: foobar.com\nhosts:\n  lb-01: { address: 192.0.2.10, roles: [lb] }\n  web-01: { address: \"2001:db8::21\", roles: [web, app] }\nfirewall:\n  admin: [192.0.2.1]\n";
        let loaded = load_text(text);
        let codes: Vec<&str> = loaded.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["topology::address-family"], "{:?}", loaded.problems);
        let off = text.replace(
            "firewall:\n  admin: [192.0.2.1]\n",
            "firewall:\n  enabled: false\n",
        );
        let loaded = load_text(&off);
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
    }

    #[test]
    fn ssh_from_everywhere_is_a_warning_of_a_valid_topology_only() {
        let warned = |p: &[(String, String)]| {
            p.iter()
                .any(|(c, _)| c == crate::topology::check::SSH_FROM_EVERYWHERE)
        };
        assert!(warned(&problems("")));
        assert!(warned(&problems("firewall:\n  admin: [0.0.0.0/0]\n")));
        assert!(!warned(&problems("firewall:\n  enabled: false\n")));
        assert!(!warned(&problems("bogus: 1\n")), "errors come first");
        // A host name stays a name; a mapped address is its IPv4 one.
        let text = "domain: foobar.com\nhosts:\n  lb-01: { address: 192.0.2.10, roles: [lb] }\n  web-01: { address: 192.0.2.21, roles: [web, app] }\nfirewall:\n  admin: [lb-01, \"::ffff:192.0.2.7\"]\n";
        let loaded = load_text(text);
        let admin: Vec<AdminSource> = loaded
            .topology
            .unwrap()
            .firewall
            .admin
            .unwrap()
            .into_iter()
            .map(|a| a.value)
            .collect();
        assert_eq!(admin[0], AdminSource::Host("lb-01".into()));
        assert_eq!(
            admin[1],
            AdminSource::Network(crate::net::Network::parse("192.0.2.7").unwrap())
        );
    }
}
