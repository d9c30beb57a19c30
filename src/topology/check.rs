//! Semantic rules over a decoded topology: references, roles, addresses, ports, DNS, secrets.
//! Every rule runs; each finding points at the exact value it is about.

use super::decode::Sp;
use super::model::*;
use super::node::Span;
use crate::diagnostic::{Problem, did_you_mean};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

/// What the checks may look at outside the file: its folder and the environment.
pub struct Context<'a> {
    /// The folder relative paths in the topology are resolved against.
    pub base_dir: &'a Path,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

pub fn check(t: &Topology, ctx: &Context) -> Vec<Problem> {
    let mut out = Vec::new();
    hosts(t, &mut out);
    load_balancer(t, &mut out);
    ports(t, &mut out);
    database(t, ctx, &mut out);
    dns(t, &mut out);
    app(t, ctx, &mut out);
    names(t, &mut out);
    out
}

fn unknown_host(t: &Topology, name: &Sp<String>, code: &'static str, what: &str) -> Problem {
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

fn hosts(t: &Topology, out: &mut Vec<Problem>) {
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

fn load_balancer(t: &Topology, out: &mut Vec<Problem>) {
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

fn ports(t: &Topology, out: &mut Vec<Problem>) {
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

fn database(t: &Topology, ctx: &Context, out: &mut Vec<Problem>) {
    let Some(db) = &t.database else { return };
    let db_hosts: Vec<&Host> = t.hosts_with(Role::Db).collect();
    match db_hosts.as_slice() {
        [] => out.push(
            Problem::error(
                "topology::missing-role",
                db.name.span,
                "database is configured but no host has the db role",
            )
            .label("no database host")
            .help("add `db` to the roles of the database host"),
        ),
        [_] => {}
        [_, second, ..] => out.push(
            Problem::error(
                "topology::too-many-db",
                second.name.span,
                "more than one host has the db role",
            )
            .label("second database host")
            .help("one primary database host is supported; replicas are not managed yet"),
        ),
    }
    for name in &db.allowed_hosts {
        if t.host(name).is_none() {
            out.push(unknown_host(
                t,
                name,
                "topology::unknown-db-client",
                "database client",
            ));
        }
    }
    if let (Some(bind), [host]) = (&db.bind_address, db_hosts.as_slice()) {
        let b = bind.value;
        if b.is_loopback()
            && t.hosts_with(Role::App)
                .any(|a| a.name.value != host.name.value)
        {
            out.push(
                Problem::error(
                    "topology::db-unreachable",
                    bind.span,
                    format!(
                        "database binds to {b}, so the app servers on other hosts cannot reach it"
                    ),
                )
                .label("loopback only")
                .help(format!(
                    "bind to the database host's address {} (the default)",
                    host.address.value
                )),
            );
        } else if !b.is_unspecified() && !b.is_loopback() && b != host.address.value {
            out.push(
                Problem::error(
                    "topology::invalid-address",
                    bind.span,
                    format!(
                        "bind_address {b} is not an address of the database host `{}` ({})",
                        host.name.value, host.address.value
                    ),
                )
                .label("not this host's address")
                .help("leave bind_address out to use the host's address, or write 0.0.0.0"),
            );
        }
    }
    match &db.password.value {
        SecretSource::Env(var) => {
            if (ctx.env)(&var.value).is_none_or(|v| v.is_empty()) {
                out.push(
                    Problem::warning("topology::secret-unset", var.span, format!("environment variable `{}` (database password) is not set", var.value))
                        .label("unset here")
                        .help(format!("export {} before `plan` or `apply`; `validate` and `render` do not need it", var.value)),
                );
            }
        }
        SecretSource::File(path) => {
            let p = ctx.base_dir.join(&path.value);
            if !p.is_file() {
                out.push(
                    Problem::warning("topology::secret-unset", path.span, format!("password file `{}` does not exist", p.display()))
                        .label("no such file")
                        .help("create it (mode 0600) before `plan` or `apply`; `validate` and `render` do not need it"),
                );
            }
        }
        SecretSource::Inline(_) => out.push(
            Problem::warning(
                "topology::insecure-secret",
                db.password.span,
                "the database password is written in the topology (insecure: true)",
            )
            .label("plain-text secret")
            .help("fine for a lab; use `env:` or `file:` for real hosts"),
        ),
    }
}

fn looks_like_address(s: &str) -> bool {
    s.contains(':') || s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn dns(t: &Topology, out: &mut Vec<Problem>) {
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

/// Local files the topology names: the application directory and the database schema.
fn app(t: &Topology, ctx: &Context, out: &mut Vec<Problem>) {
    let dir = t
        .app
        .as_ref()
        .and_then(|a| a.source.as_ref())
        .map(|s| (s, "app.source", true));
    let schema = t
        .database
        .as_ref()
        .and_then(|d| d.schema.as_ref())
        .map(|s| (s, "database.schema", false));
    for (path, key, is_dir) in dir.into_iter().chain(schema) {
        let p = ctx.base_dir.join(&path.value);
        let ok = if is_dir { p.is_dir() } else { p.is_file() };
        if !ok {
            let kind = if is_dir { "directory" } else { "file" };
            out.push(
                Problem::error(
                    "topology::missing-source",
                    path.span,
                    format!("{key}: {kind} `{}` does not exist", p.display()),
                )
                .label(format!("no such {kind}"))
                .help(format!("{key} is relative to the topology file's folder")),
            );
        }
    }
}

/// Domain-style names: the domain, the server names, the zone and record names.
fn names(t: &Topology, out: &mut Vec<Problem>) {
    let mut check = |name: &Sp<String>, what: &str, allow_at: bool| {
        let n = name.value.trim_end_matches('.');
        let ok = (allow_at && n == "@")
            || (!n.is_empty()
                && n.len() <= 253
                && n.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'-' || b == b'*' || b == b'_'
                        })
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                }));
        if !ok {
            out.push(
                Problem::error(
                    "topology::invalid-name",
                    name.span,
                    format!("{what} `{}` is not a valid DNS name", name.value),
                )
                .label("invalid DNS name")
                .help("labels of letters, digits and '-', separated by dots"),
            );
        }
    };
    check(&t.domain, "domain", false);
    if let Some(w) = &t.web {
        for n in &w.server_names {
            check(n, "server name", false);
        }
    }
    if let Some(d) = &t.dns {
        check(&d.zone, "zone", false);
        for r in &d.records {
            check(&r.name, "record name", true);
        }
    }
}
