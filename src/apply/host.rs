//! The steps of one host's change, in order: lock, packages, users, release, files, services,
//! database objects, health checks; on a failure, what was swapped goes back (`rollback.rs`).

use super::protocol::{Exit, Line};
use super::{Event, Outcome, Run, bundle, scripts};
use crate::desired::{Action, HealthCheck, HostState, Validator};
use crate::plan::{Change, FileAction, ResourcePlan, ServiceAction};
use crate::remote::layout::{NGINX_CHECK, STAGED};
use crate::remote::{Remote, Script};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// A step that failed, and why.
pub(super) struct StepError {
    pub step: &'static str,
    pub message: String,
}

pub(super) fn step_err(step: &'static str, message: impl Into<String>) -> StepError {
    StepError {
        step,
        message: message.into(),
    }
}

pub(super) struct HostRun<'a> {
    pub remote: &'a dyn Remote,
    pub desired: &'a HostState,
    pub plan: &'a ResourcePlan,
    pub run: &'a Run<'a>,
    pub done: Vec<String>,
    /// Files renamed into place this run, and whether each had a live version backed up.
    pub swapped: Vec<(String, bool)>,
    /// The release `current` pointed at before this run switched it.
    pub switched_from: Option<String>,
    /// The host-side watchdog is armed: it must be disarmed once the change is settled.
    pub armed: bool,
}

/// The transient systemd unit of the host-side watchdog.
pub(super) const WATCHDOG_UNIT: &str = "foobar-infra-watchdog";

impl<'a> HostRun<'a> {
    pub fn new(
        remote: &'a dyn Remote,
        desired: &'a HostState,
        plan: &'a ResourcePlan,
        run: &'a Run<'a>,
    ) -> Self {
        HostRun {
            remote,
            desired,
            plan,
            run,
            done: Vec::new(),
            swapped: Vec::new(),
            switched_from: None,
            armed: false,
        }
    }

    pub(super) fn say(&self, message: &str) {
        (self.run.on_event)(Event::Step {
            host: &self.desired.name,
            message,
        });
    }

    /// Step output with the database password (if any) blanked: mysql may quote a statement.
    pub fn redact(&self, text: String) -> String {
        let key_lines = self
            .run
            .tls_key
            .into_iter()
            .flat_map(|k| k.expose().lines())
            .map(str::trim)
            .filter(|l| l.len() >= 16 && !l.starts_with("-----"));
        let whole = [
            self.run.db_password,
            self.run.tsig,
            self.run.replication_password,
        ]
        .into_iter()
        .flatten()
        .map(|s| s.expose())
        .filter(|s| !s.is_empty());
        let text = whole.fold(text, crate::secret::blank);
        key_lines.fold(text, |t, s| t.replace(s, crate::secret::REDACTED))
    }

    /// Runs a script; its standard output when it succeeds.
    pub async fn exec(
        &self,
        step: &'static str,
        script: &Script,
        stdin: &[u8],
    ) -> Result<String, StepError> {
        let out = self
            .remote
            .run(script, stdin)
            .await
            .map_err(|e| step_err(step, e.to_string()))?;
        if out.ok() {
            Ok(out.stdout)
        } else {
            Err(step_err(step, self.redact(out.text())))
        }
    }

    /// The reloads and restarts this host's changes owe, recorded on the host before the first
    /// change so that an interrupted or failed run leaves them for the next plan.
    pub fn owed(&self) -> Vec<(String, Action)> {
        self.changes()
            .filter_map(|c| match c {
                Change::Service {
                    name,
                    action: ServiceAction::Reload,
                    ..
                } => Some((name.clone(), Action::Reload)),
                Change::Service {
                    name,
                    action: ServiceAction::Restart,
                    ..
                } => Some((name.clone(), Action::Restart)),
                _ => None,
            })
            .collect()
    }

    fn interrupted(&self) -> bool {
        self.run.interrupt.load(Ordering::SeqCst)
    }

    pub(super) fn changes(&self) -> impl Iterator<Item = &Change> {
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
        self.say(&format!("installing {}", names.join(" ")));
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
        let (Some(r), Some(tar)) = (&self.desired.release, self.run.release_tar) else {
            return Err(step_err("release", "the release was not packed"));
        };
        self.say(&format!("shipping release {}", &to[..12]));
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
        self.say(&format!(
            "validating and swapping {} file(s)",
            content.len() + attrs.len()
        ));
        let nginx_check = content.iter().any(|f| f.validate == Some(Validator::Nginx));
        let check_conf = nginx_check.then(|| bundle::nginx_check_config(self.desired, &content));
        let tar =
            bundle::files(&content, check_conf.as_deref()).map_err(|e| step_err("files", e))?;
        let out = self
            .remote
            .run(
                &scripts::files(&content, &attrs, nginx_check, &self.owed()),
                &tar,
            )
            .await
            .map_err(|e| step_err("files", e.to_string()))?;
        // What was renamed into place, even if the script failed part-way.
        for line in out.stdout.lines() {
            match Line::parse(line) {
                Some(Line::Swapped { path, backup }) => {
                    self.swapped.push((path.to_string(), backup));
                    self.done.push(format!(
                        "{} {path}",
                        if backup { "updated" } else { "created" }
                    ));
                }
                Some(Line::Attributes { path }) => {
                    self.done.push(format!("fixed owner/mode of {path}"))
                }
                _ => {}
            }
        }
        if !out.ok() {
            let text = self.redact(format!("{}{}", out.stdout, out.stderr));
            let mut lines = text.lines();
            let invalid = out.code == Some(Exit::Invalid.code());
            let rejected = lines.find_map(|l| match Line::parse(l) {
                Some(Line::Invalid { path, checker }) if invalid => Some((path, checker)),
                _ => None,
            });
            let message = match rejected {
                Some((path, checker)) => {
                    let output: Vec<String> = lines
                        .map(|l| {
                            l.replace(STAGED, "")
                                .replace(NGINX_CHECK, "/etc/nginx/nginx.conf")
                        })
                        .collect();
                    format!(
                        "{checker} rejects {path} on {}; no file was swapped in:\n{}",
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

    /// Arms the host-side watchdog before anything that serves changes: unless this run
    /// confirms the host within `confirm_timeout`, the host puts back what the run swapped in
    /// (from a journal the swaps write) and reloads what they made reload, by itself.
    async fn arm(&mut self) -> Result<(), StepError> {
        let serving_changes = self.changes().any(|c| {
            matches!(
                c,
                Change::Release { .. } | Change::File { .. } | Change::Service { .. }
            )
        });
        if !serving_changes {
            return Ok(());
        }
        let seconds = self.run.confirm_timeout.as_secs().max(1);
        let watchdog = scripts::watchdog().text();
        self.exec(
            "watchdog",
            &scripts::arm(WATCHDOG_UNIT, seconds, true),
            watchdog.as_bytes(),
        )
        .await?;
        self.armed = true;
        self.done.push(format!(
            "armed the watchdog: back as it was in {seconds}s unless confirmed"
        ));
        Ok(())
    }

    /// The change is settled (done, or put back by this run): the watchdog stands down.
    async fn confirm(&mut self) -> Result<(), String> {
        if !self.armed {
            return Ok(());
        }
        match self
            .remote
            .run(&scripts::disarm(WATCHDOG_UNIT, true), b"")
            .await
        {
            Ok(o) if o.ok() => {
                self.armed = false;
                self.done.push("confirmed: the watchdog stands down".into());
                Ok(())
            }
            Ok(o) => Err(o.text()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Runs the planned service actions: daemon-reload first when a unit file changed, then at
    /// most one action per service.
    async fn services(&mut self) -> Result<(), StepError> {
        let mut by_service: BTreeMap<String, Vec<ServiceAction>> = BTreeMap::new();
        for c in self.changes() {
            if let Change::Service { name, action, .. } = c {
                by_service.entry(name.clone()).or_default().push(*action);
            }
        }
        // Keep the desired order of services (the app before Nginx).
        let mut actions = Vec::new();
        for s in &self.desired.services {
            for a in by_service.get(&s.name).into_iter().flatten() {
                actions.push((s.name.clone(), *a));
                self.done.push(format!("{} {}", a.as_str(), s.name));
            }
        }
        if actions.is_empty() {
            return Ok(());
        }
        self.say("services");
        // Units changed in this run, or in an earlier one that stopped before this step.
        let units = self
            .desired
            .files
            .iter()
            .any(|f| f.path.starts_with("/etc/systemd/system/"));
        let planned: Vec<String> = by_service.keys().cloned().collect();
        self.exec(
            "services",
            &scripts::services(units, &planned, &actions),
            b"",
        )
        .await?;
        Ok(())
    }

    /// After a new firewall is loaded: a new SSH connection must be admitted (the run's own one
    /// is established, and a firewall keeps admitting it whatever its rules). When it is not,
    /// the step fails and the firewall goes back with the rest of the change: through this
    /// run's connection, or, if the firewall cut that one too, by the host's watchdog.
    async fn reconnect(&mut self) -> Result<(), StepError> {
        use crate::firewall::{RULES_FILE, TABLE, UNIT};
        let Some(fw) = &self.desired.firewall else {
            return Ok(());
        };
        let loads = self.changes().any(|c| match c {
            Change::File { path, .. } => path == RULES_FILE,
            Change::Service { name, .. } => name == UNIT,
            _ => false,
        });
        if !loads {
            return Ok(());
        }
        if self.run.drill_cut_ssh {
            let ports: Vec<String> = fw
                .rules
                .iter()
                .filter(|r| r.ssh)
                .map(|r| r.port.to_string())
                .collect();
            self.exec("drill", &scripts::drill_cut_ssh(TABLE, &ports), b"")
                .await?;
            self.done
                .push("drill: the new firewall cuts SSH, this run's connection too".into());
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        self.say("a new SSH connection through the new firewall");
        let seconds = self.run.confirm_timeout.as_secs();
        let failed = |why: String| {
            step_err(
                "reconnect",
                format!(
                    "after its new firewall was loaded, {} does not admit a new SSH connection from this machine ({why}); the previous firewall goes back: through this run's connection, or by the host's watchdog within {seconds}s if that one is cut too",
                    self.desired.name
                ),
            )
        };
        match self.remote.reach_anew().await {
            Ok(o) if o.ok() => {
                self.done
                    .push("a new SSH connection is admitted through the new firewall".into());
                Ok(())
            }
            Ok(o) => Err(failed(o.text())),
            Err(e) => Err(failed(e.to_string())),
        }
    }

    /// Proves the host serves after its changes.
    async fn health(&mut self) -> Result<(), StepError> {
        for check in &self.desired.health {
            let (http, failure, success) = match check {
                HealthCheck::Database => {
                    self.exec("health", &scripts::db_health(), b"").await?;
                    continue;
                }
                HealthCheck::Web(http) => (
                    http,
                    format!("{} does not answer 200 through Nginx", http.path),
                    format!("healthy: {} answers 200", http.path),
                ),
                HealthCheck::LoadBalancer(http) => (
                    http,
                    format!("the load balancer does not answer 200 on {}", http.path),
                    format!(
                        "healthy: the load balancer answers 200 on port {}",
                        http.port
                    ),
                ),
            };
            self.say("health check");
            self.exec("health", &scripts::http_health(http), b"")
                .await
                .map_err(|e| step_err("health", format!("{failure}: {}", e.message)))?;
            self.done.push(success);
        }
        Ok(())
    }

    /// Runs the steps, rolls back on failure, and confirms the host to its watchdog. The run
    /// holds the host's lock throughout.
    pub async fn run(&mut self) -> Outcome {
        let mut outcome = self.settle().await;
        if let Err(why) = self.confirm().await {
            let seconds = self.run.confirm_timeout.as_secs();
            let note = format!(
                "the host's watchdog could not be stood down ({why}): it puts back this run's changes within {seconds}s; run apply again after that"
            );
            match &mut outcome {
                Outcome::Failed { error, .. } => error.push_str(&format!("\n{note}")),
                _ => {
                    outcome = Outcome::Failed {
                        step: "confirm".into(),
                        error: note,
                        rolled_back: false,
                    }
                }
            }
        }
        outcome
    }

    /// The steps, and the rollback when one fails.
    async fn settle(&mut self) -> Outcome {
        match self.steps().await {
            Ok(true) => Outcome::Changed,
            Ok(false) => Outcome::Interrupted,
            Err(e) => {
                // Whatever this run already swapped in goes back, whichever step failed.
                let mut error = e.message;
                let rolled_back = if matches!(
                    e.step,
                    "release" | "files" | "services" | "drill" | "reconnect" | "health"
                ) {
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
        }
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
        step!(self.arm());
        step!(self.release());
        self.files().await?;
        self.services().await?;
        self.reconnect().await?;
        let db_work = self.changes().any(|c| matches!(c, Change::Database { .. }));
        let stopped = db_work && self.interrupted();
        if !stopped {
            self.database().await?;
        }
        self.health().await?;
        Ok(!stopped)
    }
}
