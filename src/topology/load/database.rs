//! The `database` section and its password source.

use super::app::default_app_name;
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

pub(super) fn database(
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
