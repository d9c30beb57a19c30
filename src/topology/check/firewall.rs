//! The firewall: who may reach SSH.

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
