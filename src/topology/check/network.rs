//! Hosts, their addresses and roles, and the ports each host's services listen on.

use crate::diagnostic::{Problem, Span, did_you_mean};
use crate::topology::decode::Sp;
use crate::topology::model::*;
use std::collections::HashMap;
use std::net::IpAddr;

pub(super) fn unknown_host(
    t: &Topology,
    name: &Sp<String>,
    code: &'static str,
    what: &str,
) -> Problem {
    let mut p = Problem::error(
        code,
        name.span,
        format!("{what} `{}` is not a host of this topology", name.value),
    )
    .label("unknown host");
    p = match did_you_mean(&name.value, t.hosts.iter().map(|h| h.name.value.as_str())) {
        Some(guess) => p.help(format!("did you mean `{guess}`?")),
        None => p.help(format!(
            "known hosts: {}",
            t.hosts
                .iter()
                .map(|h| h.name.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    p
}

pub(super) fn hosts(t: &Topology, out: &mut Vec<Problem>) {
    if t.hosts.is_empty() {
        out.push(
            Problem::error(
                "topology::no-hosts",
                t.domain.span,
                "the topology has no hosts",
            )
            .label("nothing to deploy to")
            .help(
                "add hosts, e.g. `hosts: { web-01: { address: 192.0.2.21, roles: [web, app] } }`",
            ),
        );
    }
    let mut by_address: HashMap<IpAddr, &Host> = HashMap::new();
    for h in &t.hosts {
        if h.address.value.is_unspecified() {
            // Reported while decoding.
        } else if let Some(first) = by_address.get(&h.address.value) {
            out.push(
                Problem::error(
                    "topology::duplicate-address",
                    h.address.span,
                    format!(
                        "hosts `{}` and `{}` have the same address {}",
                        first.name.value, h.name.value, h.address.value
                    ),
                )
                .label("address already used")
                .related(
                    first.address.span,
                    format!("first used by `{}`", first.name.value),
                )
                .help("every host needs its own address"),
            );
        } else {
            by_address.insert(h.address.value, h);
        }
        let mut seen: Vec<Role> = Vec::new();
        for r in &h.roles {
            if seen.contains(&r.value) {
                out.push(
                    Problem::warning(
                        "topology::duplicate-role",
                        r.span,
                        format!("role `{}` is listed twice", r.value.name()),
                    )
                    .label("listed again"),
                );
            }
            seen.push(r.value);
        }
        if h.roles.is_empty() {
            out.push(
                Problem::warning(
                    "topology::no-roles",
                    h.name.span,
                    format!(
                        "host `{}` has no roles: nothing will be deployed to it",
                        h.name.value
                    ),
                )
                .label("no roles")
                .help("give it roles, e.g. `roles: [web, app]`"),
            );
        }
        if h.has(Role::Web) && !h.has(Role::App) {
            let span = h.role_span(Role::Web);
            out.push(
                Problem::error("topology::web-without-app", span, format!("host `{}` runs Nginx (web) but no application server (app)", h.name.value))
                    .label("web needs app on the same host")
                    .help("Nginx proxies to the application server on its own host: use `roles: [web, app]`"),
            );
        }
    }
}

/// Each service a host would run, with the port it listens on.
fn host_ports<'t>(t: &'t Topology, h: &'t Host) -> Vec<(u16, String, Span)> {
    let mut ports = vec![(
        h.ssh_port.as_ref().map_or(t.ssh.port, |p| p.value),
        "sshd".to_string(),
        h.ssh_port.as_ref().map_or(h.name.span, |p| p.span),
    )];
    if h.has(Role::Lb)
        && let Some(lb) = &t.load_balancer
    {
        ports.extend(
            lb.listen
                .iter()
                .map(|p| (p.value, "HAProxy".to_string(), p.span)),
        );
        // HTTP and HTTPS on one port is a clash, though both are HAProxy's.
        ports.extend(
            lb.tls
                .iter()
                .map(|tls| (tls.port.value, "HAProxy (HTTPS)".to_string(), tls.port.span)),
        );
    }
    if h.has(Role::Web)
        && let Some(w) = &t.web
    {
        ports.push((w.listen.value, "Nginx".into(), w.listen.span));
    }
    if h.has(Role::App)
        && let Some(a) = &t.app
        && let Listen::Tcp { port, .. } = a.listen.value
    {
        ports.push((port, "the application server".into(), a.listen.span));
    }
    if h.has(Role::Db)
        && let Some(db) = &t.database
    {
        ports.push((db.port.value, "the database".into(), db.port.span));
    }
    if h.has(Role::Dns) {
        ports.push((53, "the DNS server".into(), h.name.span));
    }
    ports
}

pub(super) fn ports(t: &Topology, out: &mut Vec<Problem>) {
    for h in &t.hosts {
        let ports = host_ports(t, h);
        for (i, (port, svc, span)) in ports.iter().enumerate() {
            if let Some((_, first_svc, first_span)) = ports[..i].iter().find(|(p, _, _)| p == port)
            {
                // One setting shared by two services (e.g. a single `listen`) is not a clash.
                if first_svc == svc {
                    continue;
                }
                out.push(
                    Problem::error(
                        "topology::port-clash",
                        *span,
                        format!(
                            "on host `{}`, {svc} and {first_svc} both listen on port {port}",
                            h.name.value
                        ),
                    )
                    .label(format!("{svc} on {port}"))
                    .related(*first_span, format!("{first_svc} on {port}"))
                    .related(h.name.span, format!("host `{}`", h.name.value))
                    .help("give one of them another port, or put the roles on different hosts"),
                );
            }
        }
    }
}
