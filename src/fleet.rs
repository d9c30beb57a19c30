//! The hosts of one run: the topology rendered with its real secrets, a connection per host, and
//! what each host has now. Shared by `plan` and `apply`; returns values, prints nothing.

use crate::Error;
use crate::desired::{Desired, HostState};
use crate::observe::{self, Observed};
use crate::plan::{self, Plan, ResourcePlan};
use crate::remote::RemoteError;
use crate::render::{self, Secrets};
use crate::secret::Secret;
use crate::topology::{Source, Topology, expand_home};
use crate::transport::{self, Connection, Target};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything known before touching a host.
pub struct Prepared {
    pub source: Source,
    pub topology: Topology,
    pub desired: Desired,
    pub db_password: Option<Secret>,
    pub templates: Option<PathBuf>,
}

/// Resolves secrets and renders a topology that passed its checks.
pub fn prepare(
    source: Source,
    topology: Topology,
    templates: Option<&Path>,
) -> Result<Prepared, Error> {
    let env = |k: &str| std::env::var(k).ok();
    let db_password = match &topology.database {
        Some(db) => Some(crate::secret::resolve(
            &db.password.value,
            &source.base_dir,
            &env,
        )?),
        None => None,
    };
    let tera = render::templates::load(templates).map_err(render::RenderError::from)?;
    let secrets = match &db_password {
        Some(p) => Secrets::Resolved {
            db_password: p.clone(),
        },
        None => Secrets::Redacted,
    };
    let desired = render::render(&topology, &source, &tera, &secrets)?;
    Ok(Prepared {
        source,
        topology,
        desired,
        db_password,
        templates: templates.map(Path::to_path_buf),
    })
}

impl Prepared {
    /// The hosts named by `--limit` (all when empty); unknown names are an error.
    pub fn select(&self, limit: &[String]) -> Result<Vec<&HostState>, Error> {
        for name in limit {
            if self.desired.host(name).is_none() {
                return Err(Error::Usage(format!(
                    "--limit names `{name}`, which is not a host of {} (hosts: {})",
                    self.source.name,
                    self.desired
                        .hosts
                        .iter()
                        .map(|h| h.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(self
            .desired
            .hosts
            .iter()
            .filter(|h| limit.is_empty() || limit.contains(&h.name))
            .collect())
    }

    /// How to reach each of `hosts`: per-host SSH settings over the topology's.
    pub fn targets(&self, hosts: &[&HostState]) -> Vec<Target> {
        let t = &self.topology;
        let path = |p: &str| {
            let e = expand_home(p);
            if e.is_relative() {
                self.source.base_dir.join(e)
            } else {
                e
            }
        };
        t.hosts
            .iter()
            .filter(|h| hosts.iter().any(|d| d.name == h.name.value))
            .map(|h| Target {
                host: h.name.value.clone(),
                address: h.address.value.to_string(),
                user: h.ssh_user.as_ref().map_or(&t.ssh.user, |u| u).value.clone(),
                port: h.ssh_port.as_ref().map_or(t.ssh.port, |p| p.value),
                identity_file: t.ssh.identity_file.as_ref().map(|p| path(&p.value)),
                known_hosts: t.ssh.known_hosts.as_ref().map(|p| path(&p.value)),
                jump: t.ssh.jump.as_ref().map(|j| j.value.clone()),
                become_: t.ssh.become_,
            })
            .collect()
    }

    /// Hash of the desired state without anything derived from secrets.
    pub fn desired_sha256(&self) -> String {
        let mut v = serde_json::to_value(&self.desired).unwrap_or_default();
        if let Some(hosts) = v["hosts"].as_array_mut() {
            for h in hosts {
                // Where the release comes from locally is not part of the state: its hash is.
                if let Some(r) = h["release"].as_object_mut() {
                    r.remove("source");
                }
                if let Some(files) = h["files"].as_array_mut() {
                    for f in files.iter_mut().filter(|f| f["sensitive"] == true) {
                        f["sha256"] = serde_json::Value::Null;
                    }
                }
            }
        }
        // The schema is part of what apply would do, so a saved plan must cover its content.
        if let Some(hash) = self.schema_hash() {
            v["schema_sha256"] = serde_json::Value::String(hash);
        }
        plan::sha256_hex(v.to_string().as_bytes())
    }

    pub fn schema_hash(&self) -> Option<String> {
        self.desired
            .hosts
            .iter()
            .filter_map(|h| h.database.as_ref()?.schema_sql.as_ref())
            .map(|s| s.sha256.clone())
            .next()
    }
}

/// A host that could be reached and observed.
pub struct Live {
    pub conn: Arc<Connection>,
    pub observed: Observed,
}

/// Connects to every selected host; each host gets its own result.
pub async fn connect(
    p: &Prepared,
    hosts: &[&HostState],
    forks: usize,
) -> Vec<Result<Arc<Connection>, RemoteError>> {
    transport::connect_all(&p.targets(hosts), forks).await
}

/// Observes every host that could be reached; each host gets its own result.
pub async fn observe_all(
    hosts: &[&HostState],
    conns: Vec<Result<Arc<Connection>, RemoteError>>,
) -> Vec<Result<Live, RemoteError>> {
    let tasks: Vec<_> = conns
        .into_iter()
        .zip(hosts)
        .map(|(conn, h)| {
            let desired = (*h).clone();
            tokio::spawn(async move {
                let conn = conn?;
                let mut observed = observe::observe(conn.as_ref(), &desired).await?;
                // Second round trip only for the contents of differing, non-sensitive files.
                let differing: Vec<String> = desired
                    .files
                    .iter()
                    .filter(|f| !f.sensitive)
                    .filter(|f| matches!(observed.files.get(&f.path), Some(Some(l)) if l.sha256 != f.sha256 && l.not_regular.is_none()))
                    .map(|f| f.path.clone())
                    .collect();
                observed.contents = observe::fetch_contents(conn.as_ref(), &differing).await?;
                Ok(Live { conn, observed })
            })
        })
        .collect();
    transport::join_per_host(tasks, hosts.iter().map(|h| h.name.as_str())).await
}

/// Closes the connections of a run (those still shared elsewhere close when dropped).
pub async fn close(live: Vec<Result<Live, RemoteError>>) {
    transport::close_all(live.into_iter().flatten().map(|l| l.conn)).await;
}

/// The plan for the hosts that answered; those that did not come back as errors.
pub fn make_plan(p: &Prepared, hosts: &[&HostState], live: &[Result<Live, RemoteError>]) -> Plan {
    let schema = p.schema_hash();
    let resources: Vec<ResourcePlan> = hosts
        .iter()
        .zip(live)
        .filter_map(|(h, l)| {
            let l = l.as_ref().ok()?;
            Some(plan::host_plan(
                h,
                &l.observed,
                p.db_password.as_ref(),
                &schema,
            ))
        })
        .collect();
    Plan {
        format: plan::FORMAT_VERSION,
        topology: std::fs::canonicalize(&p.source.name)
            .unwrap_or_else(|_| PathBuf::from(&p.source.name))
            .display()
            .to_string(),
        topology_sha256: plan::sha256_hex(p.source.text.as_bytes()),
        templates: p.templates.as_ref().map(|t| {
            std::fs::canonicalize(t)
                .unwrap_or_else(|_| t.clone())
                .display()
                .to_string()
        }),
        desired_sha256: p.desired_sha256(),
        resources,
    }
}
