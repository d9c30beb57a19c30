//! The database: its host, its clients, its bind address and its password source.

use super::context::Context;
use super::network::unknown_host;
use crate::diagnostic::Problem;
use crate::topology::model::*;

pub(super) fn database(t: &Topology, ctx: &Context, out: &mut Vec<Problem>) {
    let Some(db) = &t.database else { return };
    let db_hosts: Vec<&Host> = t.hosts_with(Role::Db).collect();
    if db_hosts.is_empty() {
        out.push(
            Problem::error(
                "topology::missing-role",
                db.name.span,
                "database is configured but no host has the db role",
            )
            .label("no database host")
            .help("add `db` to the roles of the database host"),
        );
    }
    replication(t, ctx, db, &db_hosts, out);
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
    if let Some(bind) = &db.bind_address {
        let b = bind.value;
        for host in &db_hosts {
            let others_connect = db_hosts.len() > 1
                || t.hosts_with(Role::App)
                    .any(|a| a.name.value != host.name.value);
            if b.is_loopback() && others_connect {
                out.push(
                    Problem::error(
                        "topology::db-unreachable",
                        bind.span,
                        format!(
                            "database binds to {b}, so the app servers and replicas on other hosts cannot reach it"
                        ),
                    )
                    .label("loopback only")
                    .help(format!(
                        "bind to the database host's address {} (the default)",
                        host.address.value
                    )),
                );
                break;
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
                    .help("leave bind_address out to use each host's address, or write 0.0.0.0"),
                );
            }
        }
    }
    secret(ctx, &db.password, "the database password", out);
}

/// The primary names a `db` host; more than one `db` host needs `database.replication`, whose
/// user is not the application's, and server ids that fit.
fn replication(
    t: &Topology,
    ctx: &Context,
    db: &Database,
    db_hosts: &[&Host],
    out: &mut Vec<Problem>,
) {
    if let Some(primary) = &db.primary {
        match t.host(&primary.value) {
            None => out.push(unknown_host(
                t,
                primary,
                "topology::unknown-db-primary",
                "database primary",
            )),
            Some(h) if !h.has(Role::Db) => out.push(
                Problem::error(
                    "topology::invalid-db-primary",
                    primary.span,
                    format!(
                        "database.primary `{}` does not have the db role",
                        primary.value
                    ),
                )
                .label("not a database host")
                .help(format!(
                    "name one of the db hosts: {}",
                    db_hosts
                        .iter()
                        .map(|h| h.name.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ),
            Some(_) => {}
        }
    }
    if let [_, second, ..] = db_hosts
        && db.replication.is_none()
    {
        out.push(
            Problem::error(
                "topology::missing-replication",
                second.name.span,
                "more than one host has the db role, and database.replication is not set",
            )
            .label("a replica needs a replication account")
            .help(
                "add `replication: { password: { env: FOOBAR_REPLICATION_PASSWORD } }` to database",
            ),
        );
    }
    // Which host holds the data must be said, not inferred from the file order: a db host added
    // above the primary would otherwise become the primary, and the primary a replica seeded over.
    if let [_, second, ..] = db_hosts
        && db.replication.is_some()
        && db.primary.is_none()
    {
        out.push(
            Problem::error(
                "topology::missing-db-primary",
                second.name.span,
                "more than one host has the db role, and database.primary is not set",
            )
            .label("which db host is the primary?")
            .help(format!(
                "name the host that holds the data now: `primary: {}` under database",
                db_hosts[0].name.value
            )),
        );
    }
    if db.replication.is_some() && db.engine.value == Engine::Mysql {
        out.push(
            Problem::error(
                "topology::unsupported-replication",
                db.engine.span,
                "replication is supported with MariaDB only (GTID positions, mariadb-dump --gtid)",
            )
            .label("MySQL")
            .help("use `engine: mariadb`, or remove database.replication"),
        );
    }
    if db_hosts.len() > 1
        && u64::from(db.server_id) + db_hosts.len() as u64 - 1 > u64::from(u32::MAX)
    {
        out.push(
            Problem::error(
                crate::topology::load::grammar::INVALID_VALUE,
                db.name.span,
                format!(
                    "database.server_id {} leaves no room for the ids of {} db hosts",
                    db.server_id,
                    db_hosts.len()
                ),
            )
            .label("server ids overflow")
            .help("each further db host takes the next server id: choose a smaller server_id"),
        );
    }
    if let Some(r) = &db.replication {
        if r.user.value.eq_ignore_ascii_case(&db.user.value) {
            out.push(
                Problem::error(
                    crate::topology::load::grammar::INVALID_VALUE,
                    r.user.span,
                    format!(
                        "database.replication.user `{}` is the application's user",
                        r.user.value
                    ),
                )
                .label("same account")
                .help("the replication account holds REPLICATION SLAVE only: give it its own name, e.g. `replication`"),
            );
        }
        secret(ctx, &r.password, "the replication password", out);
    }
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
