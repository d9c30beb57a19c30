//! The hosts of one run: the topology rendered with its real secrets, a connection per host, and
//! what each host has now. Shared by `plan` and `apply`.

use crate::desired::{Desired, HostState};
use crate::observe::{self, Observed};
use crate::plan::{self, HostPlan, Plan};
use crate::render::{self, Secrets};
use crate::secret::Secret;
use crate::topology::{self, SecretSource, Source, Topology};
use crate::transport::{self, Connection, Target, TransportError};
use crate::{Error, commands};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything known before touching a host.
pub struct Prepared {
    pub source: Source,
    pub topology: Topology,
    pub desired: Desired,
    pub tera: tera::Tera,
    pub db_password: Option<Secret>,
    /// The database schema file's text and hash.
    pub schema: Option<(String, String)>,
    pub templates: Option<PathBuf>,
}

/// Loads, checks, resolves secrets and renders.
pub fn prepare(inventory: &Path, templates: Option<&Path>) -> Result<Prepared, Error> {
    let (source, topology) =
        commands::require_valid(topology::load(topology::read(inventory)?, &|k| {
            std::env::var(k).ok()
        }))?;
    let env = |k: &str| std::env::var(k).ok();
    let db_password = match &topology.database {
        Some(db) => Some(crate::secret::resolve(
            &db.password.value,
            &source.base_dir,
            &env,
        )?),
        None => None,
    };
    let schema = match topology.database.as_ref().and_then(|d| d.schema.as_ref()) {
        Some(rel) => {
            let path = source.base_dir.join(&rel.value);
            let text =
                std::fs::read_to_string(&path).map_err(|e| Error::Read { path, source: e })?;
            let hash = plan::sha256_hex(text.as_bytes());
            Some((text, hash))
        }
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
        tera,
        db_password,
        schema,
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

    pub fn targets(&self, hosts: &[&HostState]) -> Vec<Target> {
        Target::all(&self.topology, &self.source.base_dir)
            .into_iter()
            .filter(|t| hosts.iter().any(|h| h.name == t.host))
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
        if let Some((_, hash)) = &self.schema {
            v["schema_sha256"] = serde_json::Value::String(hash.clone());
        }
        plan::sha256_hex(v.to_string().as_bytes())
    }

    pub fn schema_hash(&self) -> Option<String> {
        self.schema.as_ref().map(|(_, h)| h.clone())
    }

    pub fn secret_source(&self) -> Option<&SecretSource> {
        self.topology.database.as_ref().map(|d| &d.password.value)
    }
}

/// A host that could be reached and observed.
pub struct Live {
    pub conn: Arc<Connection>,
    pub observed: Observed,
}

/// Connects to and observes every selected host; each host gets its own result.
pub async fn observe_all(
    p: &Prepared,
    hosts: &[&HostState],
    forks: usize,
) -> Vec<Result<Live, TransportError>> {
    let targets = p.targets(hosts);
    let conns = transport::connect_all(&targets, forks).await;
    let tasks: Vec<_> = conns
        .into_iter()
        .zip(hosts)
        .map(|(conn, h)| {
            let desired = (*h).clone();
            tokio::spawn(async move {
                let conn = conn?;
                let mut observed = observe::observe(&conn, &desired).await?;
                // Second round trip only for the contents of differing, non-sensitive files.
                let differing: Vec<String> = desired
                    .files
                    .iter()
                    .filter(|f| !f.sensitive)
                    .filter(|f| matches!(observed.files.get(&f.path), Some(Some(l)) if l.sha256 != f.sha256))
                    .map(|f| f.path.clone())
                    .collect();
                observed.contents = observe::fetch_contents(&conn, &differing).await?;
                Ok(Live { conn, observed })
            })
        })
        .collect();
    transport::join_per_host(tasks, hosts.iter().map(|h| h.name.as_str())).await
}

/// The plan for the hosts that answered; those that did not come back as errors.
pub fn make_plan(
    p: &Prepared,
    hosts: &[&HostState],
    live: &[Result<Live, TransportError>],
) -> Plan {
    let host_plans: Vec<HostPlan> = hosts
        .iter()
        .zip(live)
        .filter_map(|(h, l)| {
            let l = l.as_ref().ok()?;
            Some(plan::host_plan(
                h,
                &l.observed,
                p.db_password.as_ref(),
                &p.schema_hash(),
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
        hosts: host_plans,
    }
}
