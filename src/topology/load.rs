//! YAML tree -> `Topology`, with documented defaults. Schema problems (unknown keys, wrong types,
//! invalid values) are collected; a field that fails keeps its default so that the semantic
//! checks can still run without cascading errors.

use super::decode::{Decoder, Fields, Sp};
use super::model::*;
use super::node::{Node, Span, Value};
use crate::diagnostic::Problem;
use std::net::{IpAddr, Ipv4Addr};

const TOP: &[&str] = &[
    "domain",
    "ssh",
    "hosts",
    "load_balancer",
    "web",
    "app",
    "database",
    "dns",
];

/// Decodes the root node. `None` when the file is too broken to say anything more about it.
pub fn decode(root: &Node, d: &mut Decoder) -> Option<Topology> {
    if matches!(root.value, Value::Null) {
        d.push(
            Problem::error("topology::empty", root.span, "the topology file is empty")
                .label("nothing here")
                .help("start from examples/minimal.yaml: it needs at least `domain` and `hosts`"),
        );
        return None;
    }
    let top = d.map(root, "the topology", TOP)?;
    let domain = match top.get("domain") {
        Some(n) => d.name(n, "domain")?,
        None => {
            d.push(missing(
                root.span,
                "domain",
                "the site's domain, e.g. `domain: foobar.com`",
            ));
            return None;
        }
    };
    let hosts = match top.get("hosts") {
        Some(n) => hosts(n, d),
        None => {
            d.push(missing(
                root.span,
                "hosts",
                "a mapping of host name to address and roles",
            ));
            return None;
        }
    };
    let has = |role| hosts.iter().any(|h: &Host| h.has(role));
    let ssh = ssh(top.get("ssh"), root.span, d);
    let app = section(&top, "app", has(Role::App) || has(Role::Web), d, |n, d| {
        app(n, &domain, d)
    });
    let app_name = app
        .as_ref()
        .map_or_else(|| default_app_name(&domain.value), |a| a.name.value.clone());
    let web_cfg = section(&top, "web", has(Role::Web), d, |n, d| {
        web(n, &domain, &app_name, d)
    });
    let health_default = web_cfg.as_ref().map_or_else(
        || Sp::new("/healthz".to_string(), domain.span),
        |w| w.health_path.clone(),
    );
    let load_balancer = section(&top, "load_balancer", has(Role::Lb), d, |n, d| {
        load_balancer(n, &health_default, d)
    });
    let database = match top.get("database") {
        Some(n) => database(n, app.as_ref(), &domain, d),
        None => {
            if let Some(h) = hosts.iter().find(|h| h.has(Role::Db)) {
                d.push(
                    Problem::error(
                        "topology::missing-key",
                        h.name.span,
                        format!(
                            "host `{}` has the db role but the topology has no `database` section",
                            h.name.value
                        ),
                    )
                    .label("db host")
                    .help("add `database:` with at least `password: { env: VARIABLE }`"),
                );
            }
            None
        }
    };
    let dns = top.get("dns").and_then(|n| dns(n, &domain, d));
    Some(Topology {
        domain,
        ssh,
        hosts,
        load_balancer,
        web: web_cfg,
        app,
        database,
        dns,
    })
}

fn missing(span: Span, key: &str, what: &str) -> Problem {
    Problem::error(
        "topology::missing-key",
        span,
        format!("the topology has no `{key}`"),
    )
    .label(format!("`{key}` is required"))
    .help(format!("add `{key}:` — {what}"))
}

/// A section that falls back to its defaults when absent but needed by a role.
fn section<T>(
    top: &Fields,
    key: &str,
    needed: bool,
    d: &mut Decoder,
    decode: impl FnOnce(&Node, &mut Decoder) -> Option<T>,
) -> Option<T> {
    match top.get(key) {
        Some(n) => decode(n, d),
        None if needed => decode(&empty_map(top.node.span), d),
        None => None,
    }
}

fn empty_map(span: Span) -> Node {
    Node {
        span,
        value: Value::Map(Vec::new()),
    }
}

fn hosts(node: &Node, d: &mut Decoder) -> Vec<Host> {
    let Some(map) = d.any_map(node, "hosts") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, key, value) in map.entries() {
        let what = format!("host `{name}`");
        if !valid_hostname(name) {
            d.push(
                Problem::error(
                    "topology::invalid-name",
                    key.span,
                    format!("`{name}` is not a valid host name"),
                )
                .label("invalid host name")
                .help(
                    "use letters, digits and '-' (e.g. web-01); it becomes the machine's hostname",
                ),
            );
        }
        let Some(f) = d.map(value, &what, &["address", "roles", "ssh"]) else {
            continue;
        };
        // A host whose address is wrong stays in the list (with an unspecified address that no
        // rule compares) so that references to it do not turn into errors of their own.
        let placeholder = |span| Sp::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), span);
        let address = match f.get("address") {
            Some(n) => match d.ip(n, &format!("{what} address")) {
                Some(ip) if ip.value.is_unspecified() || ip.value.is_multicast() => {
                    d.push(
                        Problem::error(
                            "topology::invalid-address",
                            ip.span,
                            format!("{what} address {} cannot be connected to", ip.value),
                        )
                        .label("not a host address")
                        .help("write the address the tool reaches the host on, e.g. 192.0.2.10"),
                    );
                    placeholder(ip.span)
                }
                Some(ip) => ip,
                None => placeholder(n.span),
            },
            None => {
                d.push(
                    Problem::error(
                        "topology::missing-key",
                        key.span,
                        format!("{what} has no `address`"),
                    )
                    .label("address missing")
                    .help("add `address: 192.0.2.10` (the address the tool connects to)"),
                );
                placeholder(key.span)
            }
        };
        let roles = f
            .get("roles")
            .map(|n| d.list(n, |d, n| d.choice(n, &format!("{what} role"), &Role::ALL)))
            .unwrap_or_default();
        let (mut ssh_user, mut ssh_port) = (None, None);
        if let Some(s) = f
            .get("ssh")
            .and_then(|n| d.map(n, &format!("{what} ssh"), &["user", "port"]))
        {
            ssh_user = s.get("user").and_then(|n| d.name(n, "ssh user"));
            ssh_port = s.get("port").and_then(|n| d.port(n, "ssh port"));
        }
        out.push(Host {
            name: Sp::new(name.to_string(), key.span),
            address,
            roles,
            ssh_user,
            ssh_port,
        });
    }
    out
}

fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn ssh(node: Option<&Node>, root: Span, d: &mut Decoder) -> SshSettings {
    let mut s = SshSettings {
        user: Sp::new("root".into(), root),
        port: 22,
        identity_file: None,
        known_hosts: None,
        become_: false,
        jump: None,
    };
    let Some(f) = node.and_then(|n| {
        d.map(
            n,
            "ssh",
            &[
                "user",
                "port",
                "identity_file",
                "known_hosts",
                "become",
                "jump",
            ],
        )
    }) else {
        return s;
    };
    if let Some(u) = f.get("user").and_then(|n| d.name(n, "ssh.user")) {
        s.user = u;
    }
    if let Some(p) = f.get("port").and_then(|n| d.port(n, "ssh.port")) {
        s.port = p.value;
    }
    s.identity_file = f
        .get("identity_file")
        .and_then(|n| d.name(n, "ssh.identity_file"));
    s.known_hosts = f
        .get("known_hosts")
        .and_then(|n| d.name(n, "ssh.known_hosts"));
    s.become_ = f
        .get("become")
        .and_then(|n| d.bool(n, "ssh.become"))
        .unwrap_or(false);
    s.jump = f.get("jump").and_then(|n| d.name(n, "ssh.jump"));
    s
}

fn server_ref(node: &Node, what: &str, d: &mut Decoder) -> Option<ServerRef> {
    // A bare name is shorthand for `{ host: NAME }`.
    if let Value::Str(_) = node.value {
        let host = d.name(node, what)?;
        return Some(ServerRef {
            selector: ServerSelector::Host(host),
            weight: None,
        });
    }
    let f = d.map(node, what, &["host", "role", "weight"])?;
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

fn load_balancer(
    node: &Node,
    health_default: &Sp<String>,
    d: &mut Decoder,
) -> Option<LoadBalancer> {
    let f = d.map(
        node,
        "load_balancer",
        &[
            "listen",
            "algorithm",
            "health_check",
            "backends",
            "groups",
            "routes",
            "timeouts",
            "retries",
            "stats_socket",
        ],
    )?;
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
    if let Some(h) = f.get("health_check").and_then(|n| {
        d.map(
            n,
            "load_balancer.health_check",
            &["path", "interval", "rise", "fall"],
        )
    }) {
        if let Some(p) = h
            .get("path")
            .and_then(|n| url_path(n, "health_check.path", d))
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
            let what = format!("group `{name}` entry");
            let servers = d.list(value, |d, n| server_ref(n, &what, d));
            groups.push(Group {
                name: Sp::new(name.to_string(), key.span),
                servers,
            });
        }
    }
    let routes = f
        .get("routes")
        .map(|n| {
            d.list(n, |d, n| {
                let r = d.map(n, "load_balancer.routes entry", &["path_prefix", "group"])?;
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
                    path_prefix: url_path(p, "path_prefix", d)?,
                    group: d.name(g, "route group")?,
                })
            })
        })
        .unwrap_or_default();
    let (mut connect, mut client, mut server) = (5_000, 30_000, 30_000);
    if let Some(t) = f.get("timeouts").and_then(|n| {
        d.map(
            n,
            "load_balancer.timeouts",
            &["connect", "client", "server"],
        )
    }) {
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
            .and_then(|n| abs_path(n, "stats_socket", d))
            .map_or_else(|| "/run/haproxy/admin.sock".into(), |s| s.value),
    })
}

/// An absolute URL path such as `/static/`.
fn url_path(node: &Node, what: &str, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.name(node, what)?;
    let ok = s.starts_with('/')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == ';' || c == '"' || c == '{' || c == '}');
    if !ok {
        d.push(
            Problem::error(
                "topology::invalid-value",
                s.span,
                format!("{what}: `{}` is not a URL path", s.value),
            )
            .label("must start with '/' and contain no spaces, quotes, braces or ';'")
            .help("write it like /static/ or /healthz"),
        );
        return None;
    }
    Some(s)
}

/// An absolute filesystem path on the host.
fn abs_path(node: &Node, what: &str, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.name(node, what)?;
    let ok = s.starts_with('/')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "'\";{}$`\\".contains(c))
        && !s.split('/').any(|part| part == "..");
    if !ok {
        d.push(
            Problem::error(
                "topology::invalid-value",
                s.span,
                format!("{what}: `{}` is not a plain absolute path", s.value),
            )
            .label("must be absolute, without '..', spaces or quotes")
            .help("write it like /var/www/foobar"),
        );
        return None;
    }
    Some(s)
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

fn web(node: &Node, domain: &Sp<String>, app_name: &str, d: &mut Decoder) -> Option<Web> {
    let f = d.map(
        node,
        "web",
        &[
            "server_names",
            "listen",
            "document_root",
            "static_locations",
            "health_path",
        ],
    )?;
    let mut server_names = f
        .get("server_names")
        .map(|n| d.list(n, |d, n| d.name(n, "web.server_names entry")))
        .unwrap_or_default();
    if server_names.is_empty() {
        let has_www = domain
            .value
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("www."));
        server_names = if has_www {
            vec![domain.clone()]
        } else {
            vec![
                Sp::new(format!("www.{}", domain.value), domain.span),
                domain.clone(),
            ]
        };
    }
    Some(Web {
        server_names,
        listen: f
            .get("listen")
            .and_then(|n| d.port(n, "web.listen"))
            .unwrap_or(Sp::new(80, f.node.span)),
        document_root: f
            .get("document_root")
            .and_then(|n| abs_path(n, "web.document_root", d))
            .unwrap_or_else(|| Sp::new(format!("/srv/{app_name}/current"), f.node.span)),
        static_locations: f
            .get("static_locations")
            .map(|n| d.list(n, |d, n| url_path(n, "web.static_locations entry", d)))
            .unwrap_or_else(|| vec![Sp::new("/static/".into(), f.node.span)]),
        health_path: f
            .get("health_path")
            .and_then(|n| url_path(n, "web.health_path", d))
            .unwrap_or_else(|| Sp::new("/healthz".into(), f.node.span)),
    })
}

/// The app's short name: the domain's first label (`foobar` for foobar.com).
fn default_app_name(domain: &str) -> String {
    let label = domain
        .split('.')
        .find(|l| !l.is_empty() && *l != "www")
        .unwrap_or("app");
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() {
        "app".into()
    } else {
        clean
    }
}

fn listen(node: &Node, d: &mut Decoder) -> Option<Sp<Listen>> {
    if let Value::Int(_) = node.value {
        let port = d.port(node, "app.listen")?;
        return Some(Sp::new(
            Listen::Tcp {
                address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port: port.value,
            },
            port.span,
        ));
    }
    let s = d.name(node, "app.listen")?;
    if let Some(path) = s.strip_prefix("unix:") {
        let n = Node {
            span: s.span,
            value: Value::Str(path.to_string()),
        };
        let p = abs_path(&n, "app.listen socket", d)?;
        return Some(Sp::new(Listen::Unix(p.value), s.span));
    }
    let parsed = s
        .value
        .parse::<std::net::SocketAddr>()
        .ok()
        .filter(|a| a.port() != 0);
    match parsed {
        Some(a) => Some(Sp::new(
            Listen::Tcp {
                address: a.ip(),
                port: a.port(),
            },
            s.span,
        )),
        None => {
            d.push(
                Problem::error(
                    "topology::invalid-value",
                    s.span,
                    format!("app.listen: `{}` is not ADDRESS:PORT or unix:PATH", s.value),
                )
                .label("not a listen address")
                .help("write 127.0.0.1:8000, a bare port, or unix:/run/foobar/app.sock"),
            );
            None
        }
    }
}

fn app(node: &Node, domain: &Sp<String>, d: &mut Decoder) -> Option<App> {
    let f = d.map(
        node,
        "app",
        &[
            "name",
            "kind",
            "listen",
            "workers",
            "module",
            "command",
            "script",
            "php_version",
            "environment",
            "source",
            "user",
            "packages",
        ],
    )?;
    let name = f
        .get("name")
        .and_then(|n| d.name(n, "app.name"))
        .unwrap_or_else(|| Sp::new(default_app_name(&domain.value), domain.span));
    if !valid_hostname(&name.value) {
        d.push(
            Problem::error(
                "topology::invalid-name",
                name.span,
                format!("app.name `{}` is not a valid name", name.value),
            )
            .label("letters, digits and '-' only")
            .help("it names the systemd unit and the directory under /srv"),
        );
    }
    let kind = f
        .get("kind")
        .and_then(|n| d.choice(n, "app.kind", &AppKind::ALL))
        .unwrap_or(Sp::new(AppKind::Gunicorn, f.node.span));
    let command = f.get("command").and_then(|n| d.name(n, "app.command"));
    if kind.value == AppKind::Command && command.is_none() && f.get("command").is_none() {
        d.push(
            Problem::error(
                "topology::missing-key",
                kind.span,
                "app.kind is `command` but app.command is not set",
            )
            .label("needs `command`")
            .help("add `command: ./server --port 8000` (run from the release directory)"),
        );
    }
    let environment = f
        .get("environment")
        .and_then(|n| d.any_map(n, "app.environment"))
        .map(|env| {
            env.entries()
                .filter_map(|(k, kn, v)| {
                    let valid = !k.is_empty()
                        && !k.starts_with(|c: char| c.is_ascii_digit())
                        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if !valid {
                        d.push(
                            Problem::error(
                                "topology::invalid-name",
                                kn.span,
                                format!("`{k}` is not a valid environment variable name"),
                            )
                            .label("letters, digits and '_' only"),
                        );
                        return None;
                    }
                    let value = d.string(v, &format!("app.environment.{k}"))?;
                    if value.contains('\n') {
                        d.push(
                            Problem::error(
                                "topology::invalid-value",
                                value.span,
                                format!("app.environment.{k} spans several lines"),
                            )
                            .label("one line only"),
                        );
                        return None;
                    }
                    Some((Sp::new(k.to_string(), kn.span), value))
                })
                .collect()
        })
        .unwrap_or_default();
    let default_listen = match kind.value {
        AppKind::PhpFpm => Listen::Unix(format!("/run/php/{}.sock", name.value)),
        _ => Listen::Tcp {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
        },
    };
    Some(App {
        kind,
        listen: f
            .get("listen")
            .and_then(|n| listen(n, d))
            .unwrap_or_else(|| Sp::new(default_listen, f.node.span)),
        workers: f
            .get("workers")
            .and_then(|n| d.u32(n, "app.workers", 1, 256))
            .map_or(2, |w| w.value),
        module: f
            .get("module")
            .and_then(|n| d.name(n, "app.module"))
            .unwrap_or_else(|| Sp::new("app:application".into(), f.node.span)),
        command,
        script: f
            .get("script")
            .and_then(|n| d.name(n, "app.script"))
            .map_or_else(|| "index.php".into(), |s| s.value),
        php_version: f
            .get("php_version")
            .and_then(|n| d.name(n, "app.php_version"))
            .map_or_else(|| "8.2".into(), |s| s.value),
        environment,
        source: f.get("source").and_then(|n| d.name(n, "app.source")),
        packages: f
            .get("packages")
            .map(|n| d.list(n, |d, n| package_name(n, d)))
            .unwrap_or_default(),
        user: f
            .get("user")
            .and_then(|n| d.name(n, "app.user"))
            .unwrap_or_else(|| name.clone()),
        name,
    })
}

/// A Debian package name.
fn package_name(node: &Node, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.name(node, "package")?;
    let ok = s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
    if !ok {
        d.push(
            Problem::error(
                "topology::invalid-name",
                s.span,
                format!("`{}` is not a package name", s.value),
            )
            .label("not a Debian package name")
            .help("lower-case letters, digits and + - . (e.g. python3-pymysql)"),
        );
        return None;
    }
    Some(s)
}

fn secret(node: &Node, d: &mut Decoder) -> Option<Sp<SecretSource>> {
    if let Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) = node.value {
        d.push(
            Problem::error("topology::inline-secret", node.span, "database.password is written inline in the topology")
                .label("secret in plain text")
                .help("read it from the environment (`password: { env: FOOBAR_DB_PASSWORD }`) or a file (`password: { file: secrets/db-password }`); for a throwaway lab only, write `password: { value: ..., insecure: true }`"),
        );
        return None;
    }
    let f = d.map(
        node,
        "database.password",
        &["env", "file", "value", "insecure"],
    )?;
    let insecure = f
        .get("insecure")
        .and_then(|n| d.bool(n, "password.insecure"))
        .unwrap_or(false);
    match (f.get("env"), f.get("file"), f.get("value")) {
        (Some(e), None, None) => {
            let var = d.name(e, "password.env")?;
            Some(Sp::new(SecretSource::Env(var), e.span))
        }
        (None, Some(p), None) => {
            let path = d.name(p, "password.file")?;
            Some(Sp::new(SecretSource::File(path), p.span))
        }
        (None, None, Some(v)) if insecure => {
            let value = d.string(v, "password.value")?;
            Some(Sp::new(SecretSource::Inline(value), v.span))
        }
        (None, None, Some(v)) => {
            d.push(
                Problem::error("topology::inline-secret", v.span, "database.password.value is a secret written inline in the topology")
                    .label("secret in plain text")
                    .help("use `env:` or `file:` instead; for a throwaway lab only, add `insecure: true` beside it"),
            );
            None
        }
        _ => {
            d.push(
                Problem::error(
                    "topology::invalid-value",
                    node.span,
                    "database.password needs exactly one of `env`, `file` or `value`",
                )
                .label("one source")
                .help("e.g. `password: { env: FOOBAR_DB_PASSWORD }`"),
            );
            None
        }
    }
}

fn database(
    node: &Node,
    app: Option<&App>,
    domain: &Sp<String>,
    d: &mut Decoder,
) -> Option<Database> {
    let f = d.map(
        node,
        "database",
        &[
            "engine",
            "name",
            "user",
            "password",
            "allowed_hosts",
            "bind_address",
            "port",
            "server_id",
            "schema",
        ],
    )?;
    let default_name =
        app.map_or_else(|| default_app_name(&domain.value), |a| a.name.value.clone());
    let ident = |d: &mut Decoder, key: &str| -> Option<Sp<String>> {
        let s = d.name(f.get(key)?, &format!("database.{key}"))?;
        let ok = s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            d.push(
                Problem::error(
                    "topology::invalid-name",
                    s.span,
                    format!("database.{key} `{}` is not a plain SQL identifier", s.value),
                )
                .label("letters, digits and '_' only (at most 64)"),
            );
            return None;
        }
        Some(s)
    };
    let name =
        ident(d, "name").unwrap_or_else(|| Sp::new(default_name.replace('-', "_"), f.node.span));
    let user =
        ident(d, "user").unwrap_or_else(|| Sp::new(default_name.replace('-', "_"), f.node.span));
    let password = match f.get("password") {
        Some(n) => secret(n, d)?,
        None => {
            d.push(
                Problem::error(
                    "topology::missing-key",
                    f.node.span,
                    "database has no `password`",
                )
                .label("password source required")
                .help("add `password: { env: FOOBAR_DB_PASSWORD }` (or `file: PATH`)"),
            );
            return None;
        }
    };
    Some(Database {
        engine: f
            .get("engine")
            .and_then(|n| {
                d.choice(
                    n,
                    "database.engine",
                    &[("mysql", Engine::Mysql), ("mariadb", Engine::Mariadb)],
                )
            })
            .unwrap_or(Sp::new(Engine::Mariadb, f.node.span)),
        name,
        user,
        password,
        allowed_hosts: f
            .get("allowed_hosts")
            .map(|n| d.list(n, |d, n| d.name(n, "database.allowed_hosts entry")))
            .unwrap_or_default(),
        bind_address: f
            .get("bind_address")
            .and_then(|n| d.ip(n, "database.bind_address")),
        port: f
            .get("port")
            .and_then(|n| d.port(n, "database.port"))
            .unwrap_or(Sp::new(3306, f.node.span)),
        schema: f.get("schema").and_then(|n| d.name(n, "database.schema")),
        server_id: f
            .get("server_id")
            .and_then(|n| d.u32(n, "database.server_id", 1, u32::MAX))
            .map_or(1, |s| s.value),
    })
}

fn dns(node: &Node, domain: &Sp<String>, d: &mut Decoder) -> Option<Dns> {
    let f = d.map(node, "dns", &["zone", "ttl", "records"])?;
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
                let r = d.map(n, "dns record", &["name", "type", "target", "ttl"])?;
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
    Some(Dns { zone, ttl, records })
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::line_col;
    use crate::topology::{Loaded, Source, load};
    use std::sync::Arc;

    fn load_text(text: &str) -> Loaded {
        let source = Source {
            name: "test.yaml".into(),
            text: Arc::new(text.to_string()),
            base_dir: ".".into(),
        };
        load(source, &|_| None)
    }

    fn server_names(loaded: &Loaded) -> Vec<String> {
        let web = loaded.topology.as_ref().unwrap().web.as_ref().unwrap();
        web.server_names.iter().map(|n| n.value.clone()).collect()
    }

    const LB_WEB: &str = "domain: foobar.com
hosts:
  lb-01: { address: 192.0.2.10, roles: [lb] }
  web-01: { address: 192.0.2.21, roles: [web, app] }
";

    #[test]
    fn a_www_domain_is_its_own_server_name() {
        let loaded = load_text(&LB_WEB.replace("foobar.com", "www.foobar.com"));
        assert_eq!(server_names(&loaded), ["www.foobar.com"]);
        let t = loaded.topology.as_ref().unwrap();
        assert_eq!(t.app.as_ref().unwrap().name.value, "foobar");
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
    }

    #[test]
    fn a_bare_domain_also_gets_its_www_name() {
        let loaded = load_text(LB_WEB);
        assert_eq!(server_names(&loaded), ["www.foobar.com", "foobar.com"]);
    }

    /// Durations below what HAProxy takes are errors at the value, not silently raised.
    #[test]
    fn too_short_interval_and_timeout_are_errors() {
        let text = format!(
            "{LB_WEB}load_balancer:
  health_check: {{ interval: 50ms }}
  timeouts: {{ connect: 0, client: 1ms }}
"
        );
        let loaded = load_text(&text);
        let found: Vec<(&str, usize, usize)> = loaded
            .problems
            .iter()
            .map(|p| {
                let (line, col) = line_col(&text, p.span.unwrap().offset);
                (p.code, line, col)
            })
            .collect();
        assert_eq!(
            found,
            [
                ("topology::invalid-value", 6, 29),
                ("topology::invalid-value", 7, 24),
            ]
        );
        let help = |i: usize| loaded.problems[i].help.clone().unwrap_or_default();
        assert!(help(0).contains("100ms to 1 day"));
        assert!(help(1).contains("1ms to 1 day"));
    }
}
