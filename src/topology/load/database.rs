//! The `database` section and its password source.

use super::app::default_app_name;
use super::grammar::{
    ENV_NAME, INVALID_VALUE, LOCAL_PATH, printable_line, reserved_schema, reserved_user, shown,
    sql_name,
};
use super::keys::{DATABASE, PASSWORD};
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::{Node, Value};

fn secret(node: &Node, d: &mut Decoder) -> Option<Sp<SecretSource>> {
    if let Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) = node.value {
        d.push(
            Problem::error("topology::inline-secret", node.span, "database.password is written inline in the topology")
                .label("secret in plain text")
                .help("read it from the environment (`password: { env: FOOBAR_DB_PASSWORD }`) or a file (`password: { file: secrets/db-password }`); for a throwaway lab only, write `password: { value: ..., insecure: true }`"),
        );
        return None;
    }
    let f = d.map(node, "database.password", &PASSWORD.names())?;
    let insecure = f
        .get("insecure")
        .and_then(|n| d.bool(n, "password.insecure"))
        .unwrap_or(false);
    match (f.get("env"), f.get("file"), f.get("value")) {
        (Some(e), None, None) => {
            let var = ENV_NAME.read(e, "password.env", d)?;
            Some(Sp::new(SecretSource::Env(var), e.span))
        }
        (None, Some(p), None) => {
            let path = LOCAL_PATH.read(p, "password.file", d)?;
            Some(Sp::new(SecretSource::File(path), p.span))
        }
        (None, None, Some(v)) if insecure => {
            let value = d.string(v, "password.value")?;
            // It is written into app.env and the SQL: one line. The message never quotes it.
            if let Err(reason) = printable_line(&value) {
                d.push(
                    Problem::error(
                        INVALID_VALUE,
                        value.span,
                        "database.password.value contains a control character",
                    )
                    .label(reason)
                    .help("a password is one line of printable text (no line break, tab or NUL)"),
                );
                return None;
            }
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

pub(super) fn database(
    node: &Node,
    app: Option<&App>,
    domain: &Sp<String>,
    d: &mut Decoder,
) -> Option<Database> {
    let f = d.map(node, "database", &DATABASE.names())?;
    let default_name =
        app.map_or_else(|| default_app_name(&domain.value), |a| a.name.value.clone());
    let default_name = default_name.replace('-', "_");
    let name = sql_ident(f.get("name"), "name", 64, &default_name, f.node.span, d);
    let user = sql_ident(f.get("user"), "user", 32, &default_name, f.node.span, d);
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
            .and_then(|n| d.choice(n, "database.engine", &Engine::ALL))
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
        schema: f
            .get("schema")
            .and_then(|n| LOCAL_PATH.read(n, "database.schema", d)),
        server_id: f
            .get("server_id")
            .and_then(|n| d.u32(n, "database.server_id", 1, u32::MAX))
            .map_or(1, |s| s.value),
    })
}

/// `database.name` (`key` "name") or `database.user`: a plain SQL name of at most `max`
/// characters, and none of the server's own schemas or accounts. The default (app.name with `-`
/// as `_`) is held to the same rules.
fn sql_ident(
    node: Option<&Node>,
    key: &str,
    max: usize,
    default: &str,
    section: crate::diagnostic::Span,
    d: &mut Decoder,
) -> Sp<String> {
    let fallback = Sp::new(default.to_string(), section);
    let value = match node {
        Some(n) => {
            let Some(s) = d.name(n, &format!("database.{key}")) else {
                return fallback;
            };
            if let Err(reason) = sql_name(&s, max) {
                d.push(
                    Problem::error(
                        "topology::invalid-name",
                        s.span,
                        format!(
                            "database.{key} `{}` is not a plain SQL identifier",
                            shown(&s.value)
                        ),
                    )
                    .label(reason)
                    .help(format!(
                        "letters, digits and '_', 1 to {max} characters, e.g. `foobar`"
                    )),
                );
                return fallback;
            }
            s
        }
        None => {
            // A default that is not even made of the right characters comes from an invalid
            // app.name, reported there; one that is too long is this key's to report.
            if sql_name(default, usize::MAX).is_ok() && default.len() > max {
                d.push(
                    Problem::error(
                        INVALID_VALUE,
                        section,
                        format!(
                            "database.{key} is not set, and its default `{default}` (app.name) \
                             is longer than {max} characters"
                        ),
                    )
                    .label(format!(
                        "database.{key} defaults to {} characters",
                        default.len()
                    ))
                    .help(format!(
                        "set database.{key}: letters, digits and '_', 1 to {max} characters"
                    )),
                );
            }
            fallback
        }
    };
    let (reserved, what, help) = match key {
        "name" => (
            reserved_schema(&value),
            "a system schema of the server",
            "name the application's own database, e.g. `foobar`: its user is granted \
             SELECT, INSERT, UPDATE and DELETE on it",
        ),
        _ => (
            reserved_user(&value),
            "an administrative account of the server",
            "name a user of the application's own, e.g. `foobar`: the bootstrap sets its \
             password and grants, and apply revokes what it has beyond them",
        ),
    };
    if reserved {
        let default = if node.is_none() {
            " (the default, from app.name)"
        } else {
            ""
        };
        d.push(
            Problem::error(
                INVALID_VALUE,
                value.span,
                format!("database.{key} `{}`{default} is {what}", value.value),
            )
            .label("reserved by MariaDB/MySQL")
            .help(help),
        );
    }
    value
}
