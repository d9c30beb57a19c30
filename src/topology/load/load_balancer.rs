//! The `load_balancer` section and the backend entries it names.

use super::grammar::{GROUP_NAME, INTERFACE, LOCAL_PATH, STATS_SOCKET, URL_PATH, host_name, shown};
use super::keys::{
    BACKEND, FAILOVER, HEALTH_CHECK, HSTS_DEFAULT, HSTS_MAX, LOAD_BALANCER, ROUTE, TIMEOUTS, TLS,
    TLS_KEY,
};
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::{Node, Value};

fn server_ref(node: &Node, what: &str, d: &mut Decoder) -> Option<ServerRef> {
    // A bare name is shorthand for `{ host: NAME }`.
    if let Value::Str(_) = node.value {
        let host = d.name(node, what)?;
        return Some(ServerRef {
            selector: ServerSelector::Host(host),
            weight: None,
        });
    }
    let f = d.map(node, what, &BACKEND.names())?;
    let weight = f.get("weight").and_then(|n| d.u32(n, "weight", 0, 256));
    let selector = match (f.get("host"), f.get("role")) {
        (Some(h), None) => ServerSelector::Host(d.name(h, "backend host")?),
        (None, Some(r)) => ServerSelector::Role(d.choice(r, "backend role", &Role::ALL)?),
        _ => {
            d.push(
                Problem::error(
                    "topology::invalid-value",
                    node.span,
                    format!("{what}: give exactly one of `host` or `role`"),
                )
                .label("needs `host: NAME` or `role: ROLE`"),
            );
            return None;
        }
    };
    Some(ServerRef { selector, weight })
}

pub(super) fn load_balancer(
    node: &Node,
    health_default: &Sp<String>,
    d: &mut Decoder,
) -> Option<LoadBalancer> {
    let f = d.map(node, "load_balancer", &LOAD_BALANCER.names())?;
    let mut listen = f
        .get("listen")
        .map(|n| d.list(n, |d, n| d.port(n, "load_balancer.listen")))
        .unwrap_or_default();
    if listen.is_empty() {
        listen.push(Sp::new(80, f.node.span));
    }
    let algorithm = f
        .get("algorithm")
        .and_then(|n| d.choice(n, "load_balancer.algorithm", &Algorithm::ALL))
        .map_or(Algorithm::Roundrobin, |a| a.value);
    let mut health_check = HealthCheck {
        path: health_default.clone(),
        interval_ms: 2000,
        rise: 2,
        fall: 3,
    };
    if let Some(h) = f
        .get("health_check")
        .and_then(|n| d.map(n, "load_balancer.health_check", &HEALTH_CHECK.names()))
    {
        if let Some(p) = h
            .get("path")
            .and_then(|n| URL_PATH.read(n, "health_check.path", d))
        {
            health_check.path = p;
        }
        if let Some(i) = h
            .get("interval")
            .and_then(|n| d.duration(n, "health_check.interval"))
            .and_then(|i| at_least(d, i, 100, "health_check.interval", "100ms to 1 day"))
        {
            health_check.interval_ms = i.value;
        }
        if let Some(r) = h
            .get("rise")
            .and_then(|n| d.u32(n, "health_check.rise", 1, 100))
        {
            health_check.rise = r.value;
        }
        if let Some(r) = h
            .get("fall")
            .and_then(|n| d.u32(n, "health_check.fall", 1, 100))
        {
            health_check.fall = r.value;
        }
    }
    let mut backends = f
        .get("backends")
        .map(|n| d.list(n, |d, n| server_ref(n, "load_balancer.backends entry", d)))
        .unwrap_or_default();
    if f.get("backends").is_none() {
        backends.push(ServerRef {
            selector: ServerSelector::Role(Sp::new(Role::Web, f.node.span)),
            weight: None,
        });
    }
    let mut groups = Vec::new();
    if let Some(g) = f
        .get("groups")
        .and_then(|n| d.any_map(n, "load_balancer.groups"))
    {
        for (name, key, value) in g.entries() {
            // A group with a bad name stays, so that routes to it are not reported as well.
            let name_sp = Sp::new(name.to_string(), key.span);
            if let Some(p) = GROUP_NAME.problem(&name_sp, "load_balancer.groups") {
                d.push(p);
            }
            let what = format!("group `{}` entry", shown(name));
            let servers = d.list(value, |d, n| server_ref(n, &what, d));
            groups.push(Group {
                name: name_sp,
                servers,
            });
        }
    }
    let routes = f
        .get("routes")
        .map(|n| {
            d.list(n, |d, n| {
                let r = d.map(n, "load_balancer.routes entry", &ROUTE.names())?;
                let Some((p, g)) = r.get("path_prefix").zip(r.get("group")) else {
                    d.push(
                        Problem::error(
                            "topology::missing-key",
                            n.span,
                            "a route needs `path_prefix` and `group`",
                        )
                        .label("incomplete route"),
                    );
                    return None;
                };
                Some(Route {
                    path_prefix: URL_PATH.read(p, "path_prefix", d)?,
                    group: d.name(g, "route group")?,
                })
            })
        })
        .unwrap_or_default();
    // A LAN connect answers in milliseconds: a server that does not within 1 s is dead, and the
    // request goes to another (redispatch) instead of hanging.
    let (mut connect, mut client, mut server) = (1_000, 30_000, 30_000);
    if let Some(t) = f
        .get("timeouts")
        .and_then(|n| d.map(n, "load_balancer.timeouts", &TIMEOUTS.names()))
    {
        for (key, slot) in [
            ("connect", &mut connect),
            ("client", &mut client),
            ("server", &mut server),
        ] {
            let what = format!("timeouts.{key}");
            if let Some(v) = t
                .get(key)
                .and_then(|n| d.duration(n, &what))
                .and_then(|v| at_least(d, v, 1, &what, "1ms to 1 day"))
            {
                *slot = v.value;
            }
        }
    }
    Some(LoadBalancer {
        listen,
        algorithm,
        health_check,
        backends,
        groups,
        routes,
        timeout_connect_ms: connect,
        timeout_client_ms: client,
        timeout_server_ms: server,
        retries: f
            .get("retries")
            .and_then(|n| d.u32(n, "retries", 0, 10))
            .map_or(3, |r| r.value),
        stats_socket: f
            .get("stats_socket")
            .and_then(|n| STATS_SOCKET.read(n, "stats_socket", d))
            .map_or_else(|| "/run/haproxy/admin.sock".into(), |s| s.value),
        tls: f.get("tls").and_then(|n| tls(n, d)),
        vip: f.get("vip").and_then(|n| vip(n, d)),
        failover: failover(f.get("failover"), f.node.span, d),
    })
}

/// `load_balancer.vip`: an address, or `ADDRESS/PREFIX` (the address keeps its host bits).
fn vip(node: &Node, d: &mut Decoder) -> Option<Vip> {
    let text = d.string(node, "load_balancer.vip")?;
    let (address, prefix) = match text.value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text.value.as_str(), None),
    };
    let bad = |d: &mut Decoder, label: &str| {
        d.push(
            Problem::error(
                "topology::invalid-address",
                node.span,
                format!(
                    "load_balancer.vip: `{}` is not an IP address",
                    shown(&text.value)
                ),
            )
            .label(label.to_string())
            .help("write an address in the hosts' network, e.g. 10.0.0.100 or 10.0.0.100/24"),
        );
        None
    };
    let Ok(ip) = address.parse::<std::net::IpAddr>() else {
        return bad(d, "not an address");
    };
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => None,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= width && !p.starts_with('+') && !(p.len() > 1 && p.starts_with('0')) => {
                Some(n)
            }
            _ => return bad(d, &format!("the prefix is 0..{width}")),
        },
    };
    Some(Vip {
        address: Sp::new(ip, node.span),
        prefix,
    })
}

/// `load_balancer.failover`, or its defaults.
fn failover(node: Option<&Node>, top: crate::diagnostic::Span, d: &mut Decoder) -> Failover {
    let Some(f) = node.and_then(|n| d.map(n, "load_balancer.failover", &FAILOVER.names())) else {
        return Failover::defaults(node.map_or(top, |n| n.span));
    };
    let mut out = Failover::defaults(f.node.span);
    out.written = true;
    if let Some(p) = f
        .get("priorities")
        .and_then(|n| d.any_map(n, "failover.priorities"))
    {
        for (name, key, value) in p.entries() {
            if !host_name(name) {
                d.push(
                    Problem::error(
                        "topology::invalid-name",
                        key.span,
                        format!("`{}` is not a valid host name", shown(name)),
                    )
                    .label("invalid host name")
                    .help("name an `lb` host"),
                );
                continue;
            }
            if let Some(v) = d.u32(value, "failover.priorities", 1, 254) {
                out.priorities
                    .push((Sp::new(name.to_string(), key.span), v));
            }
        }
    }
    if let Some(r) = f
        .get("router_id")
        .and_then(|n| d.u32(n, "failover.router_id", 1, 255))
    {
        out.router_id = r.value as u8;
    }
    if let Some(i) = f
        .get("interface")
        .and_then(|n| INTERFACE.read(n, "failover.interface", d))
    {
        out.interface = i.value;
    }
    if let Some(a) = f
        .get("advert")
        .and_then(|n| d.duration(n, "failover.advert"))
        .and_then(|a| at_least(d, a, 10, "failover.advert", "10ms to 40.95s"))
    {
        out.advert_ms = a.value;
        out.advert_span = a.span;
    }
    if let Some(p) = f.get("preempt").and_then(|n| d.bool(n, "failover.preempt")) {
        out.preempt = p;
    }
    out
}

/// `load_balancer.tls`: the certificate's path, where its key comes from, the port, the redirect
/// and HSTS.
fn tls(node: &Node, d: &mut Decoder) -> Option<Tls> {
    let f = d.map(node, "load_balancer.tls", &TLS.names())?;
    let Some((certificate, key)) = f.get("certificate").zip(f.get("key")) else {
        d.push(
            Problem::error(
                "topology::missing-key",
                node.span,
                "load_balancer.tls needs `certificate` and `key`",
            )
            .label("incomplete tls")
            .help("e.g. `tls: { certificate: certs/site.pem, key: { file: secrets/site.key } }`"),
        );
        return None;
    };
    let certificate = LOCAL_PATH.read(certificate, "load_balancer.tls.certificate", d);
    let key = super::secret::secret(key, &TLS_KEY, "FOOBAR_TLS_KEY", d);
    let port = f
        .get("port")
        .and_then(|n| d.port(n, "load_balancer.tls.port"))
        .unwrap_or(Sp::new(443, f.node.span));
    let trust = f
        .get("trust")
        .and_then(|n| LOCAL_PATH.read(n, "load_balancer.tls.trust", d));
    let redirect_http = f
        .get("redirect_http")
        .and_then(|n| d.bool(n, "load_balancer.tls.redirect_http"))
        .unwrap_or(true);
    let hsts_seconds = match f.get("hsts") {
        None => HSTS_DEFAULT,
        Some(n) => match n.value {
            Value::Bool(true) => HSTS_DEFAULT,
            Value::Bool(false) => 0,
            _ => d
                .u32(n, "load_balancer.tls.hsts", 0, HSTS_MAX as u32)
                .map_or(HSTS_DEFAULT, |s| s.value),
        },
    };
    Some(Tls {
        certificate: certificate?,
        key: key?,
        port,
        trust,
        redirect_http,
        hsts_seconds,
    })
}

/// A duration of at least `min_ms`; a shorter one is reported at its value, not raised silently.
fn at_least(d: &mut Decoder, v: Sp<u64>, min_ms: u64, what: &str, range: &str) -> Option<Sp<u64>> {
    if v.value >= min_ms {
        return Some(v);
    }
    d.push(
        Problem::error(
            "topology::invalid-value",
            v.span,
            format!("{what} is too short: {}ms, at least {min_ms}ms", v.value),
        )
        .label("too short")
        .help(format!("{what} takes {range}, e.g. 500ms or 2s")),
    );
    None
}
