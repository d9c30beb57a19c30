//! The `app` section, its listen address, its packages and its default name.

use super::grammar;
use super::grammar::{
    APP_SOCKET, APP_USER, COMMAND, INVALID_VALUE, LOCAL_PATH, PHP_VERSION, PYTHON_ENTRY,
    RELEASE_PATH, env_name, host_name, printable_line, shown,
};
use super::keys::APP;
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::{Node, Value};
use std::net::{IpAddr, Ipv4Addr};

/// The app's short name: the domain's first label (`foobar` for foobar.com).
pub(super) fn default_app_name(domain: &str) -> String {
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
        let p = APP_SOCKET.read(&n, "app.listen socket", d)?;
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
                    format!(
                        "app.listen: `{}` is not ADDRESS:PORT or unix:PATH",
                        shown(&s.value)
                    ),
                )
                .label("not a listen address")
                .help("write 127.0.0.1:8000, a bare port, or unix:/run/foobar/app.sock"),
            );
            None
        }
    }
}

pub(super) fn app(node: &Node, domain: &Sp<String>, d: &mut Decoder) -> Option<App> {
    let f = d.map(node, "app", &APP.names())?;
    let name = f
        .get("name")
        .and_then(|n| d.name(n, "app.name"))
        .unwrap_or_else(|| Sp::new(default_app_name(&domain.value), domain.span));
    if !host_name(&name.value) {
        d.push(
            Problem::error(
                "topology::invalid-name",
                name.span,
                format!("app.name `{}` is not a valid name", shown(&name.value)),
            )
            .label("letters, digits and '-' only")
            .help("it names the systemd unit and the directory under /srv"),
        );
    }
    let kind = f
        .get("kind")
        .and_then(|n| d.choice(n, "app.kind", &AppKind::ALL))
        .unwrap_or(Sp::new(AppKind::Gunicorn, f.node.span));
    let command = f
        .get("command")
        .and_then(|n| COMMAND.read(n, "app.command", d));
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
        .map(|n| environment(n, d))
        .unwrap_or_default();
    let user = f.get("user").and_then(|n| APP_USER.read(n, "app.user", d));
    if f.get("user").is_none() {
        check_default_user(&name, d);
    }
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
            .and_then(|n| PYTHON_ENTRY.read(n, "app.module", d))
            .unwrap_or_else(|| Sp::new("app:application".into(), f.node.span)),
        command,
        script: f
            .get("script")
            .and_then(|n| RELEASE_PATH.read(n, "app.script", d))
            .map_or_else(|| "index.php".into(), |s| s.value),
        php_version: f
            .get("php_version")
            .and_then(|n| PHP_VERSION.read(n, "app.php_version", d))
            .map_or_else(|| "8.2".into(), |s| s.value),
        environment,
        source: f
            .get("source")
            .and_then(|n| LOCAL_PATH.read(n, "app.source", d)),
        packages: f
            .get("packages")
            .map(|n| d.list(n, |d, n| package(n, d)))
            .unwrap_or_default(),
        user: user.unwrap_or_else(|| name.clone()),
        name,
    })
}

/// `app.environment`: names as for a shell, values one line of printable text.
fn environment(node: &Node, d: &mut Decoder) -> Vec<(Sp<String>, Sp<String>)> {
    let Some(env) = d.any_map(node, "app.environment") else {
        return Vec::new();
    };
    env.entries()
        .filter_map(|(k, kn, v)| {
            if env_name(k).is_err() {
                d.push(
                    Problem::error(
                        "topology::invalid-name",
                        kn.span,
                        format!("`{}` is not a valid environment variable name", shown(k)),
                    )
                    .label("letters, digits and '_' only"),
                );
                return None;
            }
            let value = d.string(v, &format!("app.environment.{k}"))?;
            if value.contains('\n') {
                d.push(
                    Problem::error(
                        INVALID_VALUE,
                        value.span,
                        format!("app.environment.{k} spans several lines"),
                    )
                    .label("one line only"),
                );
                return None;
            }
            if let Err(reason) = printable_line(&value) {
                d.push(
                    Problem::error(
                        INVALID_VALUE,
                        value.span,
                        format!("app.environment.{k} contains a control character"),
                    )
                    .label(reason)
                    .help(
                        "environment values are one line of printable text (no tab, carriage \
                         return or NUL); quotes, '\\' and '$' are fine: they are escaped",
                    ),
                );
                return None;
            }
            Some((Sp::new(k.to_string(), kn.span), value))
        })
        .collect()
}

/// Without `app.user` the application runs as `app.name`, which must then be a user name too.
fn check_default_user(name: &Sp<String>, d: &mut Decoder) {
    // An invalid app.name is reported on its own.
    if !host_name(&name.value) {
        return;
    }
    let Err(reason) = (APP_USER.check)(&name.value) else {
        return;
    };
    d.push(
        Problem::error(
            INVALID_VALUE,
            name.span,
            format!(
                "app.user is not set, and app.name `{}` is not a system user name",
                name.value
            ),
        )
        .label(reason)
        .help(
            "set app.user to an unprivileged user: a lower-case name of at most 31 characters \
             (letters, digits, '_' and '-', starting with a letter or '_'), e.g. `foobar`",
        ),
    );
}

/// A Debian package name.
fn package(node: &Node, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.name(node, "package")?;
    if !grammar::package_name(&s) {
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
