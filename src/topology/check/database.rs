//! The database: its host, its clients, its bind address and its password source.

use super::context::Context;
use super::network::unknown_host;
use crate::diagnostic::Problem;
use crate::topology::model::*;

pub(super) fn database(t: &Topology, ctx: &Context, out: &mut Vec<Problem>) {
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
    secret(ctx, &db.password, "the database password", out);
}

/// Warns about a secret that is not where the topology says, or is written in it.
pub(super) fn secret(
    ctx: &Context,
    source: &crate::topology::Sp<SecretSource>,
    what: &str,
    out: &mut Vec<Problem>,
) {
    match &source.value {
        SecretSource::Env(var) => {
            if (ctx.env)(&var.value).is_none_or(|v| v.is_empty()) {
                out.push(
                    Problem::warning("topology::secret-unset", var.span, format!("environment variable `{}` ({what}) is not set", var.value))
                        .label("unset here")
                        .help(format!("export {} before `plan` or `apply`; `validate` and `render` do not need it", var.value)),
                );
            }
        }
        SecretSource::File(path) => {
            let p = crate::topology::local_path(ctx.base_dir, &path.value);
            if !p.is_file() {
                out.push(
                    Problem::warning("topology::secret-unset", path.span, format!("the file `{}` ({what}) does not exist", p.display()))
                        .label("no such file")
                        .help("create it (mode 0600) before `plan` or `apply`; `validate` and `render` do not need it"),
                );
            }
        }
        SecretSource::Inline(_) => out.push(
            Problem::warning(
                "topology::insecure-secret",
                source.span,
                format!("{what} is written in the topology (insecure: true)"),
            )
            .label("plain-text secret")
            .help("fine for a lab; use `env:` or `file:` for real hosts"),
        ),
    }
}
