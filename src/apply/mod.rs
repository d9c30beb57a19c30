//! `apply`: makes each host match the plan, in phases (database, then app/web servers, then the
//! load balancer), so the site never points at servers that are not ready. Per host: lock,
//! packages, users, release, files (staged, validated by the service's own checker, backed up,
//! renamed into place), services (reloaded or restarted only for what changed, once), database
//! objects, health check — and on a failed health check the swapped files are rolled back.

pub mod bundle;
pub mod scripts;

use crate::desired::{Action, HostState, Validator};
use crate::fleet::{Live, Prepared};
use crate::plan::{Change, DbAction, FileAction, HostPlan, ServiceAction};
use crate::render::{self, Secrets};
use crate::topology::Role;
use crate::transport::Connection;
use crate::ui::progress::Progress;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Outcome {
    Unchanged,
    Changed,
    /// A step failed; `rolled_back` says whether swapped files were put back.
    Failed {
        step: String,
        error: String,
        rolled_back: bool,
    },
    /// Not attempted: an earlier phase failed, or the host was unreachable.
    Skipped {
        reason: String,
    },
    Interrupted,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostReport {
    pub host: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// What was done, in order.
    pub done: Vec<String>,
    pub seconds: f64,
}

/// Set by Ctrl-C: no new step starts; the step under way (a file swap) completes.
pub type Interrupt = Arc<AtomicBool>;

struct StepError {
    step: &'static str,
    message: String,
}

fn step_err(step: &'static str, message: impl Into<String>) -> StepError {
    StepError {
        step,
        message: message.into(),
    }
}

/// Who holds a lock, as written into it.
fn holder() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let machine = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{user}@{machine} (foobar-infra pid {}, since unix time {since})",
        std::process::id()
    )
}

struct HostRun<'a> {
    conn: &'a Connection,
    desired: &'a HostState,
    plan: &'a HostPlan,
    prepared: &'a Prepared,
    interrupt: &'a Interrupt,
    say: &'a (dyn Fn(&str) + Sync),
    done: Vec<String>,
    /// Files renamed into place this run, and whether each had a live version backed up.
    swapped: Vec<(String, bool)>,
    /// The release tar, packed once for every host.
    release_tar: Option<&'a [u8]>,
    /// The release `current` pointed at before this run switched it.
    switched_from: Option<String>,
}

impl HostRun<'_> {
    /// Step output with the database password (if any) blanked: mysql may quote a statement.
    fn redact(&self, text: String) -> String {
        match &self.prepared.db_password {
            Some(p) if !p.expose().is_empty() => text.replace(p.expose(), crate::secret::REDACTED),
            _ => text,
        }
    }

    async fn exec(
        &self,
        step: &'static str,
        script: &str,
        stdin: &[u8],
    ) -> Result<String, StepError> {
        let out = self
            .conn
            .exec(script, stdin)
            .await
            .map_err(|e| step_err(step, e.to_string()))?;
        if out.ok() {
            Ok(out.stdout)
        } else {
            let detail = format!("{}{}", out.stdout, out.stderr);
            Err(step_err(step, self.redact(detail.trim().to_string())))
        }
    }

    /// The reloads and restarts this host's changes owe, recorded on the host before the first
    /// change so that an interrupted or failed run leaves them for the next plan.
    fn owed(&self) -> Vec<(String, &'static str)> {
        self.changes()
            .filter_map(|c| match c {
                Change::Service {
                    name,
                    action: ServiceAction::Reload,
                    ..
                } => Some((name.clone(), "reload")),
                Change::Service {
                    name,
                    action: ServiceAction::Restart,
                    ..
                } => Some((name.clone(), "restart")),
                _ => None,
            })
            .collect()
    }

    fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }

    fn changes(&self) -> impl Iterator<Item = &Change> {
        self.plan.changes.iter()
    }

    /// The names a kind of change carries (packages, users), in plan order.
    fn names(&self, pick: fn(&Change) -> Option<&String>) -> Vec<String> {
        self.changes().filter_map(pick).cloned().collect()
    }

    async fn packages(&mut self) -> Result<(), StepError> {
        let names = self.names(|c| match c {
            Change::Package { name } => Some(name),
            _ => None,
        });
        if names.is_empty() {
            return Ok(());
        }
        (self.say)(&format!("installing {}", names.join(" ")));
        self.exec("packages", &scripts::packages(&names), b"")
            .await?;
        self.done.push(format!("installed {}", names.join(", ")));
        Ok(())
    }

    async fn users(&mut self) -> Result<(), StepError> {
        let names = self.names(|c| match c {
            Change::User { name } => Some(name),
            _ => None,
        });
        if names.is_empty() {
            return Ok(());
        }
        self.exec("users", &scripts::users(&names), b"").await?;
        self.done
            .push(format!("created system user {}", names.join(", ")));
        Ok(())
    }

    async fn release(&mut self) -> Result<(), StepError> {
        let Some(Change::Release { to, from, .. }) = self
            .changes()
            .find(|c| matches!(c, Change::Release { .. }))
            .cloned()
        else {
            return Ok(());
        };
        let (Some(r), Some(tar)) = (&self.desired.release, self.release_tar) else {
            return Err(step_err("release", "the release was not packed"));
        };
        (self.say)(&format!("shipping release {}", &to[..12]));
        // Known before the switch: a failure after it (pruning, say) can still go back.
        self.switched_from = from;
        self.exec(
            "release",
            &scripts::release(&r.root, &to, &self.owed()),
            tar,
        )
        .await?;
        self.done.push(format!(
            "switched {}/current to release {}",
            r.root,
            &to[..12]
        ));
        Ok(())
    }

    async fn files(&mut self) -> Result<(), StepError> {
        let mut content = Vec::new();
        let mut attrs = Vec::new();
        for c in self.changes() {
            if let Change::File { path, action, .. } = c
                && let Some(f) = self.desired.file(path)
            {
                match action {
                    FileAction::Attributes => attrs.push(f),
                    _ => content.push(f),
                }
            }
        }
        if content.is_empty() && attrs.is_empty() {
            return Ok(());
        }
        (self.say)(&format!(
            "validating and swapping {} file(s)",
            content.len() + attrs.len()
        ));
        let nginx_check = content.iter().any(|f| f.validate == Some(Validator::Nginx));
        let check_conf = nginx_check.then(|| bundle::nginx_check_config(self.desired, &content));
        let tar =
            bundle::files(&content, check_conf.as_deref()).map_err(|e| step_err("files", e))?;
        let out = self
            .conn
            .exec(
                &scripts::files(&content, &attrs, nginx_check, &self.owed()),
                &tar,
            )
            .await
            .map_err(|e| step_err("files", e.to_string()))?;
        // What was renamed into place, even if the script failed part-way.
        for line in out.stdout.lines() {
            let parts: Vec<&str> = line.split('\t').collect();
            match parts.as_slice() {
                ["swapped", path, kind] => {
                    self.swapped.push((path.to_string(), *kind == "backup"));
                    self.done.push(format!(
                        "{} {path}",
                        if *kind == "backup" {
                            "updated"
                        } else {
                            "created"
                        }
                    ));
                }
                ["attrs", path] => self.done.push(format!("fixed owner/mode of {path}")),
                _ => {}
            }
        }
        if !out.ok() {
            let text = self.redact(format!("{}{}", out.stdout, out.stderr));
            let mut lines = text.lines();
            let message = match lines.find(|l| l.starts_with("invalid\t")) {
                Some(head) => {
                    let parts: Vec<&str> = head.split('\t').collect();
                    let output: Vec<String> = lines
                        .map(|l| {
                            l.replace(scripts::STAGED, "")
                                .replace(scripts::NGINX_CHECK, "/etc/nginx/nginx.conf")
                        })
                        .collect();
                    format!(
                        "{} rejects {} on {}; no file was swapped in:\n{}",
                        parts.get(2).unwrap_or(&"the checker"),
                        parts.get(1).unwrap_or(&"a file"),
                        self.desired.name,
                        output.join("\n")
                    )
                }
                None => text.trim().to_string(),
            };
            return Err(step_err("files", message));
        }
        Ok(())
    }

    /// Runs the planned service actions: daemon-reload first when a unit file changed, then at
    /// most one action per service.
    async fn services(&mut self) -> Result<(), StepError> {
        let mut script = String::new();
        let mut actions: BTreeMap<String, Vec<ServiceAction>> = BTreeMap::new();
        for c in self.changes() {
            if let Change::Service { name, action, .. } = c {
                actions.entry(name.clone()).or_default().push(*action);
            }
        }
        // Keep the desired order of services (the app before Nginx).
        for s in &self.desired.services {
            let Some(list) = actions.get(&s.name) else {
                continue;
            };
            for a in list {
                let word = match a {
                    ServiceAction::Enable => "enable",
                    ServiceAction::Start => "start",
                    ServiceAction::Reload => "reload",
                    ServiceAction::Restart => "restart",
                };
                script.push_str(&scripts::service(&s.name, word));
                self.done.push(format!("{word} {}", s.name));
            }
        }
        if !script.is_empty() {
            (self.say)("services");
            // Units changed in this run, or in an earlier one that stopped before this step.
            let units = self
                .desired
                .files
                .iter()
                .any(|f| f.path.starts_with("/etc/systemd/system/"));
            let reload = if units {
                "systemctl daemon-reload\n"
            } else {
                ""
            };
            let planned: Vec<String> = actions.keys().cloned().collect();
            let script = format!("{reload}{script}{}", scripts::settle_pending(&planned));
            self.exec("services", &script, b"").await?;
        }
        Ok(())
    }

    async fn database(&mut self) -> Result<(), StepError> {
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
        (self.say)("database");
        if db_changes.iter().any(|a| *a != DbAction::LoadSchema) {
            let secrets = match &self.prepared.db_password {
                Some(p) => Secrets::Resolved {
                    db_password: p.clone(),
                },
                None => return Err(step_err("database", "no database password was resolved")),
            };
            let bootstrap =
                render::bootstrap_sql(&self.prepared.topology, &self.prepared.tera, &secrets)
                    .map_err(|e| step_err("database", self.redact(e.to_string())))?
                    .unwrap_or_default();
            // Privileges beyond least privilege go first, then the bootstrap grants what is due.
            let mut sql = String::new();
            for c in self.changes() {
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
                            "REVOKE {} ON `{}`.* FROM '{user}'@'{client}';\n",
                            privs.join(", "),
                            db.name
                        ));
                    }
                }
            }
            sql.push_str(&bootstrap);
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
            && let Some((text, hash)) = &self.prepared.schema
        {
            self.exec("database", &scripts::sql(Some(&db.name)), text.as_bytes())
                .await?;
            self.exec("database", &scripts::schema_marker(&db.name, hash), b"")
                .await?;
            self.done
                .push(format!("loaded the schema into {}", db.name));
        }
        Ok(())
    }

    /// Proves the host serves after its changes.
    async fn health(&mut self) -> Result<(), StepError> {
        let t = &self.prepared.topology;
        let roles = &self.desired.roles;
        if roles.contains(&Role::Web)
            && let Some(w) = &t.web
        {
            let name = w
                .server_names
                .first()
                .map_or(t.domain.value.as_str(), |n| n.value.as_str());
            (self.say)("health check");
            self.exec(
                "health",
                &scripts::http_health(w.listen.value, &w.health_path.value, name),
                b"",
            )
            .await
            .map_err(|e| {
                step_err(
                    "health",
                    format!(
                        "{} does not answer 200 through Nginx: {}",
                        w.health_path.value, e.message
                    ),
                )
            })?;
            self.done
                .push(format!("healthy: {} answers 200", w.health_path.value));
        }
        if roles.contains(&Role::Db) && self.desired.database.is_some() {
            self.exec("health", &scripts::db_health(), b"").await?;
        }
        if roles.contains(&Role::Lb)
            && let (Some(lb), Some(w)) = (&t.load_balancer, &t.web)
            && let Some(port) = lb.listen.first()
        {
            let name = w
                .server_names
                .first()
                .map_or(t.domain.value.as_str(), |n| n.value.as_str());
            (self.say)("health check");
            self.exec(
                "health",
                &scripts::http_health(port.value, &lb.health_check.path.value, name),
                b"",
            )
            .await
            .map_err(|e| {
                step_err(
                    "health",
                    format!(
                        "the load balancer does not answer 200 on {}: {}",
                        lb.health_check.path.value, e.message
                    ),
                )
            })?;
            self.done.push(format!(
                "healthy: the load balancer answers 200 on port {}",
                port.value
            ));
        }
        Ok(())
    }

    /// Puts back what this run swapped (files, the release) and re-applies their services'
    /// actions. `Ok` only when everything was put back and every service came back; otherwise
    /// what did not (and the pending record stays, for the next plan).
    async fn rollback(&mut self) -> Result<(), String> {
        let release_back = match (&self.switched_from, &self.desired.release) {
            (Some(from), Some(r)) => scripts::release_back(&r.root, from),
            _ => String::new(),
        };
        if self.swapped.is_empty() && release_back.is_empty() {
            return Err("nothing had been swapped in".into());
        }
        let mut script = scripts::rollback(&self.swapped);
        script.push_str(&release_back);
        if self
            .swapped
            .iter()
            .any(|(p, _)| p.starts_with("/etc/systemd/system/"))
        {
            script.push_str("systemctl daemon-reload\n");
        }
        let mut services: BTreeMap<String, Action> = BTreeMap::new();
        for (path, _) in &self.swapped {
            if let Some(f) = self.desired.file(path) {
                for n in &f.notify {
                    let e = services.entry(n.service.clone()).or_insert(n.action);
                    *e = (*e).max(n.action);
                }
            }
        }
        for (name, action) in self.owed() {
            let a = if action == "restart" {
                Action::Restart
            } else {
                Action::Reload
            };
            let e = services.entry(name).or_insert(a);
            *e = (*e).max(a);
        }
        // The same service step as a normal run (Nginx: wait for the old workers), each in a
        // subshell so that one failing does not stop the others from coming back.
        script.push_str("failed=''\n");
        for (svc, action) in &services {
            let word = if *action == Action::Restart {
                "restart"
            } else {
                "reload"
            };
            let q = crate::transport::quote::sh(svc);
            script.push_str(&format!(
                "( {} ) >/dev/null 2>&1 || failed=\"$failed {q}\"\n",
                scripts::service(svc, word).trim_end()
            ));
        }
        script.push_str(&format!(
            "if [ -n \"$failed\" ]; then echo \"the files are back, but these services did not come back:$failed\"; exit 8; fi\n{}",
            scripts::settled()
        ));
        let what = match (self.swapped.len(), self.switched_from.is_some()) {
            (n, true) => format!("rolled back {n} file(s) and the release"),
            (n, false) => format!("rolled back {n} file(s)"),
        };
        match self.conn.exec(&script, b"").await {
            Ok(o) if o.ok() => {
                self.done.push(what);
                Ok(())
            }
            Ok(o) => Err(format!("{}{}", o.stdout, o.stderr).trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn run(&mut self) -> Outcome {
        let fail = |error: String| Outcome::Failed {
            step: "lock".into(),
            error,
            rolled_back: false,
        };
        match self.conn.exec(&scripts::lock(), holder().as_bytes()).await {
            Ok(o) if o.ok() => {}
            Ok(o) if o.code == Some(scripts::LOCK_HELD) => {
                let who = o
                    .stdout
                    .trim()
                    .strip_prefix("held\t")
                    .unwrap_or(o.stdout.trim())
                    .to_string();
                return fail(format!(
                    "another apply holds the lock on {}: {who} (if that run is gone, remove {}/lock on the host)",
                    self.desired.name,
                    crate::observe::STATE_DIR
                ));
            }
            Ok(o) => {
                return fail(format!(
                    "cannot take the lock on {}: {}",
                    self.desired.name,
                    format!("{}{}", o.stdout, o.stderr).trim()
                ));
            }
            Err(e) => return fail(e.to_string()),
        }
        let outcome = match self.steps().await {
            Ok(true) => Outcome::Changed,
            Ok(false) => Outcome::Interrupted,
            Err(e) => {
                // Whatever this run already swapped in goes back, whichever step failed.
                let mut error = e.message;
                let rolled_back = if matches!(e.step, "release" | "files" | "services" | "health") {
                    match self.rollback().await {
                        Ok(()) => true,
                        // Nothing had been swapped in: nothing to put back or to say.
                        Err(_) if self.swapped.is_empty() && self.switched_from.is_none() => false,
                        Err(why) => {
                            error.push_str(&format!("\nthe rollback did not complete: {why}"));
                            false
                        }
                    }
                } else {
                    false
                };
                Outcome::Failed {
                    step: e.step.into(),
                    error,
                    rolled_back,
                }
            }
        };
        let _ = self.conn.exec(&scripts::unlock(), b"").await;
        outcome
    }

    /// The steps in order; `Ok(false)` when interrupted. Ctrl-C is honoured before packages,
    /// users and the release, and before database work; never between a release or file swap
    /// and the services that must reload it, and the health check of what changed always runs.
    async fn steps(&mut self) -> Result<bool, StepError> {
        macro_rules! step {
            ($e:expr) => {
                if self.interrupted() {
                    return Ok(false);
                }
                $e.await?;
            };
        }
        step!(self.packages());
        step!(self.users());
        step!(self.release());
        self.files().await?;
        self.services().await?;
        let db_work = self.changes().any(|c| matches!(c, Change::Database { .. }));
        let stopped = db_work && self.interrupted();
        if !stopped {
            self.database().await?;
        }
        self.health().await?;
        Ok(!stopped)
    }
}

/// What one apply run works with, besides the plan.
pub struct Run<'a> {
    pub prepared: &'a Prepared,
    /// Connections by host name.
    pub live: &'a BTreeMap<String, Arc<Connection>>,
    pub forks: usize,
    pub interrupt: &'a Interrupt,
    pub progress: &'a Progress,
    /// The release tar, packed once.
    pub release_tar: Option<&'a Vec<u8>>,
    /// Hosts that could not be reached: name, phase, error.
    pub unreachable: &'a [(String, u8, String)],
}

/// Applies `plans` to the live hosts, phase by phase.
pub async fn apply<'a>(run: &Run<'_>, plans: &'a [HostPlan]) -> Vec<HostReport> {
    let Run {
        prepared,
        live,
        forks,
        interrupt,
        progress,
        release_tar,
        unreachable,
    } = *run;
    let mut reports: Vec<HostReport> = Vec::new();
    let mut failed_phase: Option<u8> = None;
    for phase in 0..=2u8 {
        let in_phase: Vec<&HostPlan> = plans.iter().filter(|p| p.phase == phase).collect();
        // An unreachable host fails its phase like a host whose steps failed.
        let lost: Vec<&(String, u8, String)> =
            unreachable.iter().filter(|u| u.1 == phase).collect();
        for (host, _, error) in &lost {
            reports.push(HostReport {
                host: host.clone(),
                outcome: Outcome::Failed {
                    step: "connect".into(),
                    error: error.clone(),
                    rolled_back: false,
                },
                done: Vec::new(),
                seconds: 0.0,
            });
        }
        if let Some(f) = failed_phase {
            for hp in in_phase {
                reports.push(HostReport {
                    host: hp.host.clone(),
                    outcome: Outcome::Skipped {
                        reason: format!("a host of an earlier phase ({}) failed", phase_name(f)),
                    },
                    done: Vec::new(),
                    seconds: 0.0,
                });
            }
            continue;
        }
        let gate = tokio::sync::Semaphore::new(forks.max(1));
        let one = |hp: &'a HostPlan| {
            let gate = &gate;
            async move {
                let started = Instant::now();
                if hp.changes.is_empty() {
                    progress.finish(&hp.host, "unchanged");
                    return HostReport {
                        host: hp.host.clone(),
                        outcome: Outcome::Unchanged,
                        done: Vec::new(),
                        seconds: 0.0,
                    };
                }
                let _permit = gate.acquire().await;
                let (Some(conn), Some(desired)) =
                    (live.get(&hp.host), prepared.desired.host(&hp.host))
                else {
                    return HostReport {
                        host: hp.host.clone(),
                        outcome: Outcome::Skipped {
                            reason: "not connected".into(),
                        },
                        done: Vec::new(),
                        seconds: 0.0,
                    };
                };
                let say = |m: &str| progress.update(&hp.host, m);
                let mut run = HostRun {
                    conn,
                    desired,
                    plan: hp,
                    prepared,
                    interrupt,
                    say: &say,
                    done: Vec::new(),
                    swapped: Vec::new(),
                    release_tar: release_tar.map(|t| t.as_slice()),
                    switched_from: None,
                };
                let outcome = run.run().await;
                progress.finish(
                    &hp.host,
                    &match &outcome {
                        Outcome::Changed => format!("changed ({} steps)", run.done.len()),
                        Outcome::Failed { step, .. } => format!("failed at {step}"),
                        Outcome::Interrupted => "interrupted".into(),
                        _ => "unchanged".into(),
                    },
                );
                HostReport {
                    host: hp.host.clone(),
                    outcome,
                    done: run.done,
                    seconds: started.elapsed().as_secs_f64(),
                }
            }
        };
        // Servers that already serve get a change one first (the canary): a change that passes
        // its checker but breaks the service then costs one backend, not the site.
        let changing: Vec<&HostPlan> = in_phase
            .iter()
            .copied()
            .filter(|h| !h.changes.is_empty())
            .collect();
        let serving_hosts: Vec<&HostPlan> =
            changing.iter().copied().filter(|h| serving(h)).collect();
        let canary = (serving_hosts.len() > 1).then(|| serving_hosts[0]);
        let mut results = Vec::new();
        if let Some(c) = canary {
            results.push(one(c).await);
        }
        let canary_failed = results
            .iter()
            .any(|r| !matches!(r.outcome, Outcome::Changed));
        let rest = in_phase
            .iter()
            .copied()
            .filter(|h| canary.is_none_or(|c| c.host != h.host));
        if canary_failed {
            for hp in rest {
                let outcome = if hp.changes.is_empty() {
                    Outcome::Unchanged
                } else {
                    progress.finish(&hp.host, "skipped");
                    let first = canary.map_or("", |c| c.host.as_str());
                    let interrupted = results.iter().any(|r| r.outcome == Outcome::Interrupted);
                    Outcome::Skipped {
                        reason: if interrupted {
                            format!("interrupted while {first} went first; left as it was")
                        } else {
                            format!("{first} went first and failed; left as it was")
                        },
                    }
                };
                results.push(HostReport {
                    host: hp.host.clone(),
                    outcome,
                    done: Vec::new(),
                    seconds: 0.0,
                });
            }
        } else {
            results.extend(futures_join_all(rest.map(one)).await);
        }
        if !lost.is_empty()
            || results.iter().any(|r| {
                matches!(
                    r.outcome,
                    Outcome::Failed { .. } | Outcome::Interrupted | Outcome::Skipped { .. }
                )
            })
        {
            failed_phase = Some(phase);
        }
        reports.extend(results);
    }
    reports
}

/// Whether a host already runs all its services (a change to it would touch live traffic).
fn serving(hp: &HostPlan) -> bool {
    !hp.changes.iter().any(|c| {
        matches!(
            c,
            Change::Package { .. }
                | Change::Service {
                    action: ServiceAction::Start,
                    ..
                }
        )
    })
}

fn phase_name(p: u8) -> &'static str {
    match p {
        0 => "database",
        1 => "app/web servers",
        _ => "load balancer",
    }
}

/// Runs futures concurrently on this task and collects their results in order.
async fn futures_join_all<F: std::future::Future>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    let mut pending: Vec<(usize, std::pin::Pin<Box<F>>)> = futs.into_iter().enumerate().collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(i, f)| match f.as_mut().poll(cx) {
            std::task::Poll::Ready(v) => {
                outputs[*i] = Some(v);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Maps the live hosts by name.
pub fn connections(
    live: &[Result<Live, crate::transport::TransportError>],
) -> BTreeMap<String, Arc<Connection>> {
    live.iter()
        .filter_map(|l| l.as_ref().ok())
        .map(|l| (l.conn.target.host.clone(), l.conn.clone()))
        .collect()
}
