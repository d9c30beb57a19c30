//! The database step of a host's change: privileges beyond least privilege taken away, the
//! bootstrap SQL (database, users, grants), and the schema when it changed. The SQL holds the
//! password, so it travels on stdin only.

use super::host::{HostRun, StepError, step_err};
use super::scripts;
use crate::plan::{Change, DbAction};

impl HostRun<'_> {
    pub(super) async fn database(&mut self) -> Result<(), StepError> {
        let db_changes: Vec<DbAction> = self
            .changes()
            .filter_map(|c| match c {
                Change::Database { action, .. } => Some(*action),
                _ => None,
            })
            .collect();
        if db_changes.is_empty() {
            return Ok(());
        }
        let Some(db) = &self.desired.database else {
            return Ok(());
        };
        self.say("database");
        if db_changes
            .iter()
            .any(|a| !matches!(a, DbAction::LoadSchema | DbAction::SeedReplica))
        {
            if self.run.db_password.is_none() {
                return Err(step_err("database", "no database password was resolved"));
            }
            // Privileges beyond least privilege go first, then the bootstrap grants what is due.
            let mut sql = revoke_sql(&self.plan.changes, &db.name);
            sql.push_str(db.bootstrap.expose());
            // The SQL holds the password: it goes on stdin, never into argv or a file.
            self.exec("database", &scripts::sql(None), sql.as_bytes())
                .await?;
            self.done.push(format!(
                "database {}: user {} for {} client(s), privileges set",
                db.name,
                db.user,
                db.clients.len()
            ));
        }
        if db_changes.contains(&DbAction::LoadSchema)
            && let Some(schema) = &db.schema_sql
        {
            self.exec(
                "database",
                &scripts::sql(Some(&db.name)),
                schema.text.as_bytes(),
            )
            .await?;
            self.exec(
                "database",
                &scripts::schema_marker(&db.name, &schema.sha256),
                b"",
            )
            .await?;
            self.done
                .push(format!("loaded the schema into {}", db.name));
        }
        if db_changes.contains(&DbAction::SeedReplica)
            && let Some(part) = &db.replication
        {
            self.seed(&db.name, part).await?;
        }
        Ok(())
    }

    /// Seeds this replica from a consistent dump of the primary (a connection of this run),
    /// then starts replication; the seed script leaves a replicating replica alone, and one
    /// whose seed failed not replicating, for the next apply to seed again.
    async fn seed(
        &mut self,
        database: &str,
        part: &crate::replication::Part,
    ) -> Result<(), StepError> {
        const STEP: &str = "replica seed";
        self.say("replica seed: dumping the primary");
        let primary = self.run.remotes.get(&part.primary).ok_or_else(|| {
            step_err(
                STEP,
                format!(
                    "the primary {} is not among this run's hosts (a --limit without it?): the replica is left not seeded",
                    part.primary
                ),
            )
        })?;
        let dump = primary
            .run(&crate::replication::dump_script(database), b"")
            .await
            .map_err(|e| step_err(STEP, format!("dumping {database} on {}: {e}", part.primary)))?;
        if !dump.ok() {
            return Err(step_err(
                STEP,
                format!(
                    "dumping {database} on the primary {} failed: {}",
                    part.primary,
                    dump.stderr.trim()
                ),
            ));
        }
        let gtid = crate::replication::dump_gtid(&dump.stdout).ok_or_else(|| {
            step_err(
                STEP,
                format!(
                    "the dump of {database} on {} says no GTID position (is its binary log on?)",
                    part.primary
                ),
            )
        })?;
        self.say("replica seed: loading the dump");
        let input = crate::replication::seed_input(&dump.stdout, &gtid, part);
        let out = self
            .exec(
                STEP,
                &crate::replication::seed_script(
                    database,
                    &part.primary_address,
                    &self.desired.name,
                ),
                input.expose().as_bytes(),
            )
            .await?;
        // The dump holds the primary's tables: this host has the schema the primary has, so once
        // promoted it does not load the schema file again over its data.
        if let Some(schema) = self
            .run
            .desired
            .host(&part.primary)
            .and_then(|h| h.database.as_ref()?.schema_sql.as_ref())
        {
            self.exec(STEP, &scripts::schema_marker(database, &schema.sha256), b"")
                .await?;
        }
        self.done.push(format!(
            "{} ({} bytes of dump from {} at GTID {gtid})",
            out.trim(),
            dump.stdout.len(),
            part.primary
        ));
        Ok(())
    }
}

/// `REVOKE` statements for the privileges beyond least privilege the plan found. Only privilege
/// names (upper-case words) are kept: nothing else from the host reaches the SQL.
fn revoke_sql(changes: &[Change], database: &str) -> String {
    let mut sql = String::new();
    for c in changes {
        if let Change::Database { object, revoke, .. } = c
            && !revoke.is_empty()
            && let Some((user, client)) = object.split_once('@')
        {
            let privs: Vec<&str> = revoke
                .iter()
                .map(String::as_str)
                .filter(|p| {
                    p.bytes()
                        .all(|b| b.is_ascii_uppercase() || b == b' ' || b == b'_')
                })
                .collect();
            if !privs.is_empty() {
                sql.push_str(&format!(
                    "REVOKE {} ON `{database}`.* FROM '{user}'@'{client}';\n",
                    privs.join(", "),
                ));
            }
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revokes_only_privilege_names() {
        let changes = vec![
            Change::Database {
                action: DbAction::FixGrants,
                object: "app@10.0.0.5".into(),
                revoke: vec!["DROP".into(), "ALTER ROUTINE".into(), "x'; DROP".into()],
            },
            Change::Database {
                action: DbAction::CreateUser,
                object: "app@10.0.0.6".into(),
                revoke: Vec::new(),
            },
        ];
        assert_eq!(
            revoke_sql(&changes, "shop"),
            "REVOKE DROP, ALTER ROUTINE ON `shop`.* FROM 'app'@'10.0.0.5';\n"
        );
    }
}
