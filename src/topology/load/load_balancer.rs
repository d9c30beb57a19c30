//! The `load_balancer` section and the backend entries it names.

use super::grammar::{GROUP_NAME, LOCAL_PATH, STATS_SOCKET, URL_PATH, shown};
use super::keys::{
    BACKEND, HEALTH_CHECK, HSTS_DEFAULT, HSTS_MAX, LOAD_BALANCER, ROUTE, TIMEOUTS, TLS, TLS_KEY,
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
    })
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
