//! The load balancer: its backends, groups and routes.

use super::network::unknown_host;
use crate::diagnostic::{Problem, Span, did_you_mean};
use crate::topology::model::*;
use std::collections::HashMap;

/// Every server a list of backend entries selects, with the entry's weight.
pub fn resolve_servers<'t>(t: &'t Topology, refs: &[ServerRef]) -> Vec<(&'t Host, Option<u32>)> {
    let mut out: Vec<(&Host, Option<u32>)> = Vec::new();
    for r in refs {
        let weight = r.weight.as_ref().map(|w| w.value);
        let hosts: Vec<&Host> = match &r.selector {
            ServerSelector::Host(name) => t.host(name).into_iter().collect(),
            ServerSelector::Role(role) => t.hosts_with(role.value).collect(),
        };
        for h in hosts {
            // A host named on its own overrides what a role entry gave it.
            match out
                .iter_mut()
                .find(|(seen, _)| seen.name.value == h.name.value)
            {
                Some(slot) if matches!(r.selector, ServerSelector::Host(_)) => slot.1 = weight,
                Some(_) => {}
                None => out.push((h, weight)),
            }
        }
    }
    out
}

fn server_refs(t: &Topology, refs: &[ServerRef], what: &str, out: &mut Vec<Problem>) {
    for r in refs {
        match &r.selector {
            ServerSelector::Host(name) => match t.host(name) {
                None => out.push(unknown_host(t, name, "topology::unknown-host", what)),
                Some(h) if !h.has(Role::Web) => out.push(
                    Problem::error(
                        "topology::backend-not-web",
                        name.span,
                        format!("{what} `{}` does not have the web role", name.value),
                    )
                    .label("not a web server")
                    .related(h.name.span, format!("`{}` is defined here", h.name.value))
                    .help(format!("add `web` (and `app`) to the roles of `{}`, or remove it from the backends", name.value)),
                ),
                Some(_) => {}
            },
            ServerSelector::Role(role) if role.value != Role::Web => out.push(
                Problem::error("topology::backend-not-web", role.span, format!("{what} selects role `{}`; backends must be web servers", role.value.name()))
                    .label("not the web role")
                    .help("write `role: web`"),
            ),
            ServerSelector::Role(role) => {
                if t.hosts_with(Role::Web).next().is_none() {
                    out.push(Problem::error("topology::no-backends", role.span, "no host has the web role").label("selects nothing").help("give the web servers `roles: [web, app]`"));
                }
            }
        }
    }
}

pub(super) fn load_balancer(t: &Topology, out: &mut Vec<Problem>) {
    let Some(lb) = &t.load_balancer else { return };
    if t.hosts_with(Role::Lb).next().is_none() {
        let span = lb.listen.first().map_or(t.domain.span, |p| p.span);
        out.push(
            Problem::warning(
                "topology::unused-section",
                span,
                "load_balancer is configured but no host has the lb role",
            )
            .label("not deployed anywhere")
            .help("add `lb` to the roles of the load balancer host"),
        );
    }
    server_refs(t, &lb.backends, "backend", out);
    let resolved = resolve_servers(t, &lb.backends);
    if !resolved.is_empty() && resolved.iter().all(|(_, w)| *w == Some(0)) {
        let span = lb.backends[0]
            .weight
            .as_ref()
            .map_or(t.domain.span, |w| w.span);
        out.push(
            Problem::error(
                "topology::no-backends",
                span,
                "every backend has weight 0: no request could be served",
            )
            .label("weight 0"),
        );
    }
    let mut group_names: HashMap<&str, Span> = HashMap::new();
    for g in &lb.groups {
        group_names.insert(&g.name.value, g.name.span);
        if g.servers.is_empty() {
            out.push(
                Problem::error(
                    "topology::empty-group",
                    g.name.span,
                    format!("group `{}` has no servers", g.name.value),
                )
                .label("empty group"),
            );
        }
        server_refs(
            t,
            &g.servers,
            &format!("group `{}` server", g.name.value),
            out,
        );
    }
    let mut prefixes: HashMap<&str, Span> = HashMap::new();
    for r in &lb.routes {
        if !group_names.contains_key(r.group.value.as_str()) {
            let mut p = Problem::error(
                "topology::unknown-group",
                r.group.span,
                format!("route to unknown group `{}`", r.group.value),
            )
            .label("no such group");
            p = match did_you_mean(&r.group.value, group_names.keys().copied()) {
                Some(g) => p.help(format!("did you mean `{g}`?")),
                None => p.help("define it under load_balancer.groups"),
            };
            out.push(p);
        }
        if let Some(first) = prefixes.insert(&r.path_prefix.value, r.path_prefix.span) {
            out.push(
                Problem::error(
                    "topology::duplicate-route",
                    r.path_prefix.span,
                    format!("path prefix `{}` is routed twice", r.path_prefix.value),
                )
                .label("second route")
                .related(first, "first route"),
            );
        }
    }
}
