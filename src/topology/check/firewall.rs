//! The firewall: who may reach SSH, and peers it can tell by their address.

use super::network::unknown_host;
use crate::diagnostic::Problem;
use crate::topology::decode::Sp;
use crate::topology::model::*;

/// The warning that SSH is admitted from everywhere (shown only for an otherwise valid topology).
pub const SSH_FROM_EVERYWHERE: &str = "topology::ssh-from-everywhere";

pub(super) fn firewall(t: &Topology, out: &mut Vec<Problem>) {
    let fw = &t.firewall;
    if !fw.enabled {
        return;
    }
    families(t, out);
    let everywhere = |span, message: &str| {
        Problem::warning(SSH_FROM_EVERYWHERE, span, message.to_string())
            .label("SSH open to every address")
            .help(
                "list the machines that run foobar-infra (and any jump host) in `firewall.admin`, \
                 e.g. `admin: [192.0.2.7, 10.0.0.0/24]`",
            )
    };
    let Some(admin) = &fw.admin else {
        out.push(everywhere(
            fw.span,
            "the firewall admits SSH from everywhere: the topology names no `firewall.admin`",
        ));
        return;
    };
    for a in admin {
        match &a.value {
            AdminSource::Host(name) if t.host(name).is_none() => out.push(unknown_host(
                t,
                &Sp::new(name.clone(), a.span),
                "topology::unknown-host",
                "firewall.admin entry",
            )),
            AdminSource::Network(n) if n.is_everything() => out.push(everywhere(
                a.span,
                &format!("firewall.admin `{n}` admits SSH from everywhere"),
            )),
            _ => {}
        }
    }
}

/// A host's firewall admits its peers (the load balancers for Nginx, the clients for the
/// database) by their one address: a peer of the other address family would come from an
/// address the topology does not name, and be refused.
fn families(t: &Topology, out: &mut Vec<Problem>) {
    let pairs: Vec<(&Host, Vec<&Host>, &str)> = t
        .hosts_with(Role::Web)
        .map(|w| (w, t.hosts_with(Role::Lb).collect(), "load balancer"))
        .chain(
            t.hosts_with(Role::Db)
                .map(|d| (d, t.db_client_hosts(), "database client")),
        )
        .collect();
    for (host, peers, what) in pairs {
        let v4 = host.address.value.is_ipv4();
        for p in peers.iter().filter(|p| p.address.value.is_ipv4() != v4) {
            out.push(
                Problem::error(
                    "topology::address-family",
                    p.address.span,
                    format!(
                        "{what} `{}` ({}) and `{}` ({}) are of different address families: `{}`'s firewall admits it by its address and would refuse it",
                        p.name.value, p.address.value, host.name.value, host.address.value, host.name.value
                    ),
                )
                .label("another family")
                .help("give the hosts that talk to each other addresses of one family, or set `firewall.enabled: false`"),
            );
        }
    }
}
