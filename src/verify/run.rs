//! Running the checks on the hosts, through `Remote` only.

use super::stat::{self, ServerStat};
use super::{Check, Outcome, Probe, Status, reach, resolve};
use crate::desired::{Desired, HostState};
use crate::firewall::{TABLE, UNIT};
use crate::observe::{self, Observed};
use crate::plan::{Change, FileAction, ServiceAction};
use crate::remote::{Remote, RemoteError, Script};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the checks work with besides the hosts.
pub struct Context<'a> {
    pub desired: &'a Desired,
    pub db_password: Option<&'a Secret>,
    pub schema: Option<String>,
    /// The zone's authoritative server, asked from this machine.
    pub authority: Option<&'a dyn crate::dns::Authority>,
}

fn script(name: &'static str, body: &'static str) -> Script {
    Script::new(name, body)
}

/// What running a check found.
struct Found {
    status: Status,
    evidence: String,
    /// A load-balancer check's reading of the server's status.
    lb_status: Option<String>,
}

type Result = std::result::Result<Found, String>;

fn found(status: Status, evidence: impl Into<String>) -> Result {
    Ok(Found {
        status,
        evidence: evidence.into(),
        lb_status: None,
    })
}

fn pass(evidence: impl Into<String>) -> Result {
    found(Status::Pass, evidence)
}

fn fail(evidence: impl Into<String>) -> Result {
    found(Status::Fail, evidence)
}

/// Runs every check (those whose host is unreachable fail at once with the connection's error),
/// then marks what depends on a failure as blocked.
pub async fn run(
    ctx: &Context<'_>,
    checks: &[Check],
    remotes: &BTreeMap<String, std::result::Result<Arc<dyn Remote>, String>>,
) -> Vec<Outcome> {
    // One probe per host that has service or file checks, shared by both.
    let mut observed: BTreeMap<String, std::result::Result<Observed, String>> = BTreeMap::new();
    let wanted: Vec<&str> = checks
        .iter()
        .filter(|c| {
            matches!(
                c.probe,
                Probe::Services
                    | Probe::Files
                    | Probe::FirewallLoaded
                    | Probe::Listening
                    | Probe::Replication
            )
        })
        .map(|c| c.host.as_str())
        .chain(checks.iter().flat_map(|c| match &c.probe {
            Probe::VipState => vec![c.host.as_str()],
            Probe::VipHolders { hosts } => hosts.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }))
        .collect();
    let probes = remotes
        .iter()
        .filter(|(h, _)| wanted.contains(&h.as_str()))
        .map(|(host, remote)| async move {
            let desired = ctx.desired.host(host);
            let result = match (remote, desired) {
                (Ok(r), Some(d)) => observe::observe(r.as_ref(), d)
                    .await
                    .map_err(|e: RemoteError| e.to_string()),
                (Err(e), _) => Err(e.clone()),
                (_, None) => Err("not in the topology".into()),
            };
            (host.clone(), result)
        });
    for (host, result) in futures_util::future::join_all(probes).await {
        observed.insert(host, result);
    }
    let runs = checks.iter().map(|c| {
        let observed = &observed;
        async move {
            let result = match remotes.get(&c.host) {
                _ if c.from_here() => one(ctx, c, None, observed).await,
                Some(Ok(r)) => one(ctx, c, Some(r.as_ref()), observed).await,
                Some(Err(e)) => fail(e.clone()),
                None => fail(format!("{} was not connected", c.host)),
            };
            let found = result.unwrap_or_else(|e| Found {
                status: Status::Fail,
                evidence: e,
                lb_status: None,
            });
            Outcome {
                id: c.id.clone(),
                hop: c.hop,
                host: c.host.clone(),
                title: c.title.clone(),
                status: found.status,
                evidence: found.evidence,
                blocked_by: None,
                lb_status: found.lb_status,
            }
        }
    });
    let mut outcomes = futures_util::future::join_all(runs).await;
    resolve(checks, &mut outcomes);
    outcomes
}

/// Runs a check's script: whether it succeeded, and what it printed on stdout (what a host's
/// shell or sudo says on stderr is not part of the answer); stderr is kept for a failure.
async fn exec(remote: &dyn Remote, s: &Script) -> std::result::Result<(bool, String), String> {
    let out = remote.run(s, b"").await.map_err(|e| e.to_string())?;
    let answer = if out.ok() || !out.stdout.trim().is_empty() {
        out.stdout.trim().to_string()
    } else {
        out.stderr.trim().to_string()
    };
    Ok((out.ok(), answer))
}

async fn one(
    ctx: &Context<'_>,
    c: &Check,
    remote: Option<&dyn Remote>,
    observed: &BTreeMap<String, std::result::Result<Observed, String>>,
) -> Result {
    match &c.probe {
        Probe::Unsupported { why } => return found(Status::NotChecked, why.clone()),
        Probe::Record { name, address } => return record(ctx, name, address).await,
        Probe::Tls {
            name,
            address,
            port,
            trust,
        } => {
            let (status, evidence) =
                super::tls::handshake(name, address, *port, trust.as_deref()).await?;
            return found(status, evidence);
        }
        Probe::ReachFromHere {
            address,
            port,
            admitted,
        } => {
            let (status, evidence) = reach::judge_from_here(address, *port, admitted).await;
            return found(status, evidence);
        }
        _ => {}
    }
    let remote = remote.ok_or("no connection")?;
    let facts = || -> std::result::Result<(&HostState, &Observed), String> {
        let o = observed
            .get(&c.host)
            .ok_or("not probed")?
            .as_ref()
            .map_err(|e| e.clone())?;
        Ok((ctx.desired.host(&c.host).ok_or("not in the topology")?, o))
    };
    match &c.probe {
        Probe::Connect => pass("connected"),
        Probe::Services | Probe::Files => {
            let (desired, o) = facts()?;
            let plan = crate::plan::host_plan(desired, o, ctx.db_password, &ctx.schema);
            if c.probe == Probe::Services {
                services(desired, &plan.changes)
            } else {
                files(desired, &plan.changes)
            }
        }
        Probe::FirewallLoaded => {
            let (_, o) = facts()?;
            firewall_loaded(o)
        }
        Probe::Listening => {
            let (desired, o) = facts()?;
            let (Some(firewall), Some(f)) = (&desired.firewall, &o.firewall) else {
                return fail("the probe did not read the listening sockets");
            };
            match &f.no_listening {
                Some(why) => fail(why.clone()),
                None => {
                    let (status, evidence) = super::listen::judge(&f.listening, firewall);
                    found(status, evidence)
                }
            }
        }
        Probe::Replication => {
            let (desired, o) = facts()?;
            let (status, evidence) = super::replica::judge(desired, o, |h| {
                observed.get(h).and_then(|o| o.as_ref().ok())
            });
            found(status, evidence)
        }
        Probe::VipState => {
            let (status, evidence) = super::vip::state(facts()?.1);
            found(status, evidence)
        }
        Probe::VipHolders { hosts } => {
            let (status, evidence) =
                super::vip::holders(hosts, |h| observed.get(h).and_then(|o| o.as_ref().ok()));
            found(status, evidence)
        }
        Probe::DatabaseAnswers => {
            let (ok, text) = exec(
                remote,
                &script("db-answers", include_str!("sh/db_answers.sh")),
            )
            .await?;
            if ok {
                pass("SELECT 1 answered over the local socket")
            } else {
                fail(format!("SELECT 1 failed: {text}"))
            }
        }
        Probe::Reach {
            address,
            port,
            expect,
            speaks_first,
        } => {
            let s = script("reach", include_str!("sh/reach.sh"))
                .arg(address.clone())
                .arg(port.to_string())
                .arg(if *speaks_first { "1" } else { "0" });
            let (_, text) = exec(remote, &s).await?;
            let at = format!("{}:{port}", super::url_host(address));
            let (status, evidence) = reach::judge(*expect, &reach::parse(&text), &c.host, &at);
            found(status, evidence)
        }
        Probe::Http {
            url,
            host_header,
            resolve,
        } => {
            let s = script("http", include_str!("sh/http.sh"))
                .arg(url.clone())
                .arg(host_header.clone())
                .arg(resolve.clone().unwrap_or_default());
            let (_, code) = exec(remote, &s).await?;
            if code == "200" {
                pass(format!("GET {url} answered 200"))
            } else {
                fail(format!(
                    "GET {url} answered {}",
                    if code == "000" {
                        "nothing".into()
                    } else {
                        format!("HTTP {code}")
                    }
                ))
            }
        }
        Probe::Backend {
            socket,
            backend,
            server,
        } => {
            let s = script("stat", include_str!("sh/stat.sh")).arg(socket.clone());
            let (ok, text) = exec(remote, &s).await?;
            if !ok {
                return fail(format!("cannot read {socket}: {text}"));
            }
            let stats = stat::parse(&text)?;
            let Some(s) = stats
                .iter()
                .find(|s| &s.backend == backend && &s.server == server)
            else {
                return fail(format!("no server {server} in backend {backend}"));
            };
            let mut result = if s.healthy() {
                pass(format!("{server} is UP, last check {}", s.check_status))
            } else {
                fail(format!(
                    "{server} is {} in backend {backend} (last check {})",
                    s.status,
                    if s.check_status.is_empty() {
                        "none"
                    } else {
                        &s.check_status
                    }
                ))
            };
            if let Ok(f) = &mut result {
                f.lb_status = Some(s.status.clone());
            }
            result
        }
        Probe::Spread {
            url,
            host_header,
            socket,
            servers,
            requests,
        } => {
            // Over HTTPS the name is asked for at the load balancer's own address (loopback:
            // the script runs there); the chain is the TLS check's, not this one's.
            let resolve = url
                .strip_prefix("https://")
                .and_then(|rest| rest.strip_suffix('/'))
                .map(|name_port| format!("{name_port}:127.0.0.1"))
                .unwrap_or_default();
            let s = script("spread", include_str!("sh/spread.sh"))
                .arg(url.clone())
                .arg(host_header.clone())
                .arg(requests.to_string())
                .arg(socket.clone())
                .arg(resolve);
            let (_, text) = exec(remote, &s).await?;
            spread(&text, servers, *requests)
        }
        Probe::Unsupported { .. }
        | Probe::Record { .. }
        | Probe::Tls { .. }
        | Probe::ReachFromHere { .. } => {
            unreachable!("handled above")
        }
    }
}

/// The table is loaded and the unit that loads it is active.
fn firewall_loaded(o: &Observed) -> Result {
    let Some(f) = &o.firewall else {
        return fail("the probe did not read the firewall");
    };
    let unit = o
        .services
        .get(UNIT)
        .map_or("unknown", |s| s.active.as_str());
    match (f.loaded, unit == "active") {
        (true, true) => pass(format!("table inet {TABLE} is loaded; {UNIT} is active")),
        (false, _) => fail(format!(
            "table inet {TABLE} is not loaded ({}); {UNIT} is {unit}",
            if f.why_not.is_empty() {
                "nft does not list it"
            } else {
                &f.why_not
            }
        )),
        (true, false) => fail(format!(
            "table inet {TABLE} is loaded, but {UNIT}, which loads it, is {unit}"
        )),
    }
}

/// The authoritative answer for `name`: exactly one A record, `address`.
async fn record(ctx: &Context<'_>, name: &str, address: &str) -> Result {
    let authority = ctx.authority.ok_or("no DNS server to ask")?;
    let facts = authority
        .observe(&[name.to_string()])
        .await
        .map_err(|e| e.to_string())?;
    let answer = facts.records.get(name).cloned().flatten();
    match answer {
        Some(r) if r.addresses == [address] => pass(format!(
            "{name}. {} IN A {address} (SOA serial {})",
            r.ttl, facts.serial
        )),
        Some(r) => fail(format!(
            "the server answers {name} with {} instead of {address}",
            r.addresses.join(", ")
        )),
        None => fail(format!("the server has no A record for {name}")),
    }
}

fn services(desired: &crate::desired::HostState, changes: &[Change]) -> Result {
    let down: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Service {
                name,
                action: action @ (ServiceAction::Enable | ServiceAction::Start),
                reason,
            } => Some(format!(
                "{name} {} ({reason})",
                if *action == ServiceAction::Start {
                    "is not running"
                } else {
                    "is not enabled"
                }
            )),
            _ => None,
        })
        .collect();
    if down.is_empty() {
        pass(format!(
            "{} enabled and active",
            desired
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        fail(down.join("; "))
    }
}

fn files(desired: &crate::desired::HostState, changes: &[Change]) -> Result {
    let differ: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::File {
                path,
                action,
                replaces,
                ..
            } => Some(match (action, replaces) {
                (_, Some(what)) => format!("{path} is a {what}"),
                (FileAction::Create, _) => format!("{path} is missing"),
                (FileAction::Update, _) => format!("{path} differs"),
                (FileAction::Attributes, _) => format!("{path} has another owner or mode"),
            }),
            _ => None,
        })
        .collect();
    if differ.is_empty() {
        pass(format!("{} file(s) match", desired.files.len()))
    } else {
        fail(differ.join("; "))
    }
}

/// Every request answered 2xx, and every server HAProxy has healthy took at least one.
fn spread(text: &str, servers: &[(String, String)], requests: usize) -> Result {
    let mut codes = Vec::new();
    let mut served: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("req\t") {
            let (code, by) = rest.split_once('\t').unwrap_or((rest, ""));
            codes.push(code.to_string());
            if !by.is_empty() {
                *served.entry(by.to_string()).or_default() += 1;
            }
        }
    }
    let stats: Vec<ServerStat> = stat::parse(text).unwrap_or_default();
    let healthy: Vec<&str> = servers
        .iter()
        .filter(|(b, s)| {
            stats
                .iter()
                .any(|x| &x.backend == b && &x.server == s && x.healthy())
        })
        .map(|(_, s)| s.as_str())
        .collect();
    let failed = codes.iter().filter(|c| !c.starts_with('2')).count();
    let missing: Vec<&str> = healthy
        .iter()
        .copied()
        .filter(|s| !served.contains_key(*s))
        .collect();
    let summary = served
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if codes.len() != requests || failed > 0 {
        fail(format!(
            "{failed} of {requests} requests failed (served: {summary})"
        ))
    } else if healthy.is_empty() {
        fail("no server is UP".to_string())
    } else if !missing.is_empty() {
        fail(format!(
            "{} UP but took none of {requests} requests (served: {summary})",
            missing.join(", ")
        ))
    } else {
        pass(format!(
            "{requests} requests answered 2xx, served by {summary}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_is_valid_shell_and_passes_shellcheck() {
        for s in [
            script("db-answers", include_str!("sh/db_answers.sh")),
            script("reach", include_str!("sh/reach.sh")).args(["10.0.0.3", "3306", "1"]),
            script("http", include_str!("sh/http.sh")).args(["http://10.0.0.2/healthz", "x"]),
            script("stat", include_str!("sh/stat.sh")).arg("/run/haproxy/admin.sock"),
            script("spread", include_str!("sh/spread.sh")).args([
                "http://10.0.0.1/",
                "x",
                "9",
                "/s",
            ]),
        ] {
            crate::remote::script::tests::assert_valid_shell(&s);
        }
    }

    #[test]
    fn the_site_spread_counts_requests_and_healthy_servers() {
        let stat =
            "# pxname,svname,scur,status,check_status\nweb,w1,0,UP,L7OK\nweb,w2,0,MAINT,L7OK\n";
        let servers = vec![
            ("web".to_string(), "w1".to_string()),
            ("web".to_string(), "w2".to_string()),
        ];
        let ok = format!("req\t200\tw1\nreq\t200\tw1\n{stat}");
        assert_eq!(
            spread(&ok, &servers, 2).unwrap().status,
            Status::Pass,
            "w2 is in MAINT: not expected"
        );
        let bad = format!("req\t200\tw1\nreq\t503\t\n{stat}");
        let found = spread(&bad, &servers, 2).unwrap();
        assert_eq!(found.status, Status::Fail);
        assert!(
            found.evidence.starts_with("1 of 2 requests failed"),
            "{}",
            found.evidence
        );
    }
}
