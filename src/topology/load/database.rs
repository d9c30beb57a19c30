//! The `database` section and its password source.

use super::app::default_app_name;
use super::grammar::{INVALID_VALUE, LOCAL_PATH, reserved_schema, reserved_user, shown, sql_name};
use super::keys::{DATABASE, PASSWORD, REPLICATION, REPLICATION_PASSWORD};
use super::secret::secret;
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::Node;

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
        Some(n) => secret(n, &PASSWORD, "FOOBAR_DB_PASSWORD", d)?,
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
        primary: f.get("primary").and_then(|n| d.name(n, "database.primary")),
        replication: f.get("replication").and_then(|n| replication(n, d)),
    })
}

/// `database.replication`: the replication user (held to `database.user`'s rules) and its
/// password source.
fn replication(node: &Node, d: &mut Decoder) -> Option<Replication> {
    let f = d.map(node, "database.replication", &REPLICATION.names())?;
    let user = sql_ident(
        f.get("user"),
        "replication.user",
        32,
        "replication",
        f.node.span,
        d,
    );
    let password = match f.get("password") {
        Some(n) => secret(n, &REPLICATION_PASSWORD, "FOOBAR_REPLICATION_PASSWORD", d)?,
        None => {
            d.push(
                Problem::error(
                    "topology::missing-key",
                    f.node.span,
                    "database.replication has no `password`",
                )
                .label("password source required")
                .help("add `password: { env: FOOBAR_REPLICATION_PASSWORD }` (or `file: PATH`)"),
            );
            return None;
        }
    };
    Some(Replication { user, password })
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
