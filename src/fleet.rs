//! The hosts of one run: the topology rendered with its real secrets, a connection per host, and
//! what each host has now. Shared by `plan` and `apply`; returns values, prints nothing.

use crate::Error;
use crate::desired::{Desired, HostState};
use crate::dns::{self, ZoneFacts};
use crate::observe::{self, Observed};
use crate::plan::{self, Plan, ResourcePlan};
use crate::remote::RemoteError;
use crate::render::{self, Secrets};
use crate::secret::Secret;
use crate::topology::{DnsProvider, Source, Topology, expand_home};
use crate::transport::{self, Connection, Target};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything known before touching a host.
pub struct Prepared {
    pub source: Source,
    pub topology: Topology,
    pub desired: Desired,
    pub db_password: Option<Secret>,
    /// The TSIG key's secret (base64), checked.
    pub tsig: Option<Secret>,
    /// The TLS private key (PEM): blanked out of what steps report.
    pub tls_key: Option<Secret>,
    /// The replication user's password: blanked out of what steps report.
    pub replication_password: Option<Secret>,
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
            "the database password",
            "database.password",
        )?),
        None => None,
    };
    let tsig = match topology.dns.as_ref().and_then(|d| d.key.as_ref()) {
        Some(k)
            if topology
                .dns
                .as_ref()
                .is_some_and(|d| d.provider.value == DnsProvider::Rfc2136) =>
        {
            let secret = crate::secret::resolve(
                &k.secret.value,
                &source.base_dir,
                &env,
                "the TSIG key's secret",
                "dns.key.secret",
            )?;
            let secret = Secret::new(secret.expose().trim());
            // Checked before anything is rendered with it: the key file quotes it.
            crate::dns::key_bytes(&secret).map_err(|why| Error::SecretUnset {
                what: format!(
                    "the TSIG key's secret ({}) is not usable: {why}",
                    crate::secret::describe(&k.secret.value)
                ),
                help:
                    "use the `secret` line that `tsig-keygen -a hmac-sha256 NAME` prints (base64)"
                        .into(),
            })?;
            Some(secret)
        }
        _ => None,
    };
    // Resolved for the key file only: the topology's checks compared it with the certificate.
    let tls_key = match topology
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.tls.as_ref())
    {
        Some(tls) => Some(crate::secret::resolve(
            &tls.key.value,
            &source.base_dir,
            &env,
            "the TLS key",
            "load_balancer.tls.key",
        )?),
        None => None,
    };
    let replication_password = match topology
        .database
        .as_ref()
        .and_then(|d| d.replication.as_ref())
    {
        Some(r) => Some(crate::secret::resolve(
            &r.password.value,
            &source.base_dir,
            &env,
            "the replication password",
            "database.replication.password",
        )?),
        None => None,
    };
    let tera = render::templates::load(templates).map_err(render::RenderError::from)?;
    let secrets = Secrets {
        db_password: db_password.clone(),
        tsig: tsig.clone(),
        tls_key: tls_key.clone(),
        replication_password: replication_password.clone(),
    };
    let desired = render::render(&topology, &source, &tera, &secrets)?;
    Ok(Prepared {
        source,
        topology,
        desired,
        db_password,
        tsig,
        tls_key,
        replication_password,
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

/// The zone's primary server, when the topology manages its records with RFC 2136.
pub fn zone_server(p: &Prepared) -> Result<Option<dns::wire::Server>, Error> {
    let Some(zone) = &p.desired.dns else {
        return Ok(None);
    };
    let Some(settings) = dns::Settings::of(zone, p.tsig.as_ref()) else {
        return Ok(None);
    };
    dns::wire::Server::new(settings)
        .map(Some)
        .map_err(Error::Usage)
}

/// What the zone's server holds of the topology's names (and the names this tool wrote).
pub async fn observe_zone(
    p: &Prepared,
    server: &dns::wire::Server,
) -> Result<ZoneFacts, dns::DnsError> {
    let names = p.desired.dns.as_ref().map(dns::names).unwrap_or_default();
    dns::Authority::observe(server, &names).await
}

/// The zone's plan from what its server answered. A server that is a host of this run and
/// does not answer (not installed yet), or whose DNS configuration this run changes (a new key),
/// is planned blind: the zone's changes are computed again when the update is made.
fn zone_resource(
    p: &Prepared,
    hosts: &[ResourcePlan],
    zone: &Result<ZoneFacts, dns::DnsError>,
) -> Result<Option<ResourcePlan>, Error> {
    let Some(z) = &p.desired.dns else {
        return Ok(None);
    };
    let Some(server) = &z.server else {
        return Ok(None);
    };
    let label = server.to_string();
    match zone {
        Ok(facts) => Ok(Some(plan::zone_plan(z, Some(facts), &label))),
        Err(e) => {
            let server_plan = server
                .host
                .as_ref()
                .and_then(|h| hosts.iter().find(|r| r.owner.host() == Some(h.as_str())));
            let has = |f: &dyn Fn(&plan::Change) -> bool| {
                server_plan.is_some_and(|r| r.changes.iter().any(f))
            };
            // This run installs or starts named there, or gives it the topology's key.
            let starts = has(&|c| match c {
                plan::Change::Package { name } => name == "bind9",
                plan::Change::Service { name, action, .. } => {
                    name == "named.service" && *action == plan::ServiceAction::Start
                }
                _ => false,
            });
            let rekeys = has(
                &|c| matches!(c, plan::Change::File { path, .. } if path == crate::desired::TSIG_KEY_FILE),
            );
            if (e.is_unreachable() && starts) || (e.is_key_mismatch() && rekeys) {
                let mut r = plan::zone_plan(z, None, &label);
                r.note = Some(format!(
                    "{label} cannot be read before this apply sets it up ({e}): the records are planned as if the zone were empty; at the update they are read again, and the update is refused if they hold anything this plan does not show"
                ));
                Ok(Some(r))
            } else {
                Err(e.clone().into())
            }
        }
    }
}

/// Hosts that keep a firewall the topology no longer wants (`firewall.enabled: false`), with how
/// to remove it: this tool leaves it loaded.
pub fn stray_firewalls(live: &[Result<Live, RemoteError>]) -> Vec<String> {
    live.iter()
        .flatten()
        .filter(|l| l.observed.stray_firewall)
        .map(|l| {
            format!(
                "{}: the firewall (table inet {}) is still loaded though firewall.enabled is false; this tool leaves it: remove it on the host with `systemctl disable --now {}`",
                l.conn.target.host,
                crate::firewall::TABLE,
                crate::firewall::UNIT
            )
        })
        .collect()
}

/// What the plan warns of about the load balancers of a VIP (see `plan::vip`).
pub fn vip_warnings(
    p: &Prepared,
    hosts: &[&HostState],
    live: &[Result<Live, RemoteError>],
) -> Vec<String> {
    let seen: Vec<(&HostState, &crate::observe::Observed)> = hosts
        .iter()
        .zip(live)
        .filter_map(|(h, l)| Some((*h, &l.as_ref().ok()?.observed)))
        .collect();
    plan::vip::warnings(&p.desired, &seen)
}

/// Refuses a plan that would load, on any host, a firewall that refuses the SSH connection the
/// run holds to it: checked for every host before any host is changed.
fn lockout(
    hosts: &[&HostState],
    live: &[Result<Live, RemoteError>],
    resources: &[ResourcePlan],
) -> Result<(), Error> {
    let mut refusals = Vec::new();
    for (h, l) in hosts.iter().zip(live) {
        let (Ok(l), Some(fw)) = (l, &h.firewall) else {
            continue;
        };
        let loads = resources
            .iter()
            .find(|r| r.owner.host() == Some(h.name.as_str()))
            .is_some_and(|r| {
                r.changes.iter().any(|c| match c {
                    plan::Change::File { path, .. } => path == crate::firewall::RULES_FILE,
                    plan::Change::Service { name, .. } => name == crate::firewall::UNIT,
                    _ => false,
                })
            });
        if !loads {
            continue;
        }
        match &l.observed.ssh_connection {
            Some(conn) => refusals.extend(fw.lockout(&h.name, conn)),
            None => refusals.push(format!(
                "{}: cannot tell which address this run's SSH connection comes from (sshd set no SSH_CONNECTION), so its new firewall could lock the operator out; nothing was loaded",
                h.name
            )),
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(Error::Lockout(refusals.join("\n")))
    }
}

/// Refuses to plan when the live database hosts contradict the topology's primary (a replica
/// that `promote` made the primary, a fenced primary): acting on it would demote the live one.
fn primary_agrees(hosts: &[&HostState], live: &[Result<Live, RemoteError>]) -> Result<(), Error> {
    let seen: Vec<(
        &str,
        &crate::replication::Part,
        &crate::observe::ReplicationFacts,
    )> = hosts
        .iter()
        .zip(live)
        .filter_map(|(h, l)| {
            let part = h.database.as_ref()?.replication.as_ref()?;
            let facts = l
                .as_ref()
                .ok()?
                .observed
                .database
                .as_ref()?
                .replication
                .as_ref()?;
            Some((h.name.as_str(), part, facts))
        })
        .collect();
    let problems = crate::replication::contradictions(&seen);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Primary(problems.join("\n")))
    }
}

/// Under `--limit`, the replicated `db` hosts left out are observed all the same: a promote's
/// mark on one of them (a promoted replica, a fenced primary) must stop a run that would point
/// the app servers back at the old primary. One that cannot be reached is not judged.
pub async fn primary_outside(
    p: &Prepared,
    selected: &[&HostState],
    forks: usize,
) -> Result<(), Error> {
    let others: Vec<&HostState> = p
        .desired
        .hosts
        .iter()
        .filter(|h| h.database.as_ref().is_some_and(|d| d.replication.is_some()))
        .filter(|h| !selected.iter().any(|s| s.name == h.name))
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    let conns = connect(p, &others, forks).await;
    let live = observe_all(&others, conns).await;
    let agrees = primary_agrees(&others, &live);
    close(live).await;
    agrees
}

/// Each replica's status gets its primary's binary log position, when the primary was observed.
fn primary_positions(
    hosts: &[&HostState],
    live: &[Result<Live, RemoteError>],
    resources: &mut [ResourcePlan],
) {
    let position = |name: &str| {
        let (_, l) = hosts.iter().zip(live).find(|(h, _)| h.name == name)?;
        let r = l
            .as_ref()
            .ok()?
            .observed
            .database
            .as_ref()?
            .replication
            .as_ref()?;
        Some(r.gtid_binlog_pos.clone())
    };
    for r in resources.iter_mut() {
        let primary = r
            .owner
            .host()
            .and_then(|h| hosts.iter().find(|d| d.name == h))
            .and_then(|d| d.database.as_ref()?.replication.as_ref())
            .map(|p| p.primary.clone());
        if let (Some(status), Some(primary)) = (r.replication.as_mut(), primary) {
            status.primary_gtid_binlog_pos = position(&primary);
        }
    }
}

/// The plan for the hosts that answered (those that did not come back as errors), and the
/// zone's when `zone` was read; an error when the zone's server refused or cannot be read.
pub fn make_plan(
    p: &Prepared,
    hosts: &[&HostState],
    live: &[Result<Live, RemoteError>],
    zone: Option<&Result<ZoneFacts, dns::DnsError>>,
) -> Result<Plan, Error> {
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
    lockout(hosts, live, &resources)?;
    primary_agrees(hosts, live)?;
    let mut resources = resources;
    primary_positions(hosts, live, &mut resources);
    if let Some(zone) = zone
        && let Some(r) = zone_resource(p, &resources, zone)?
    {
        resources.push(r);
    }
    Ok(Plan {
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
    })
}
