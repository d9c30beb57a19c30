//! `promote HOST`: makes a database replica the primary. Shows its plan and asks like apply
//! (`--auto-approve`; the same lock on every host), then fences the old primary if it answers,
//! promotes HOST, and re-points the app servers one at a time through an ordinary apply of the
//! topology with `database.primary: HOST` (app env, restart, health check). It times how long
//! the site could not write, and prints the topology edit that plan and apply require next.

use crate::apply::lock::Lock;
use crate::apply::{self, Event, HostReport, Outcome};
use crate::cli::PromoteArgs;
use crate::commands::locks;
use crate::desired::HostState;
use crate::fleet::{self, Live};
use crate::plan::{Phase, Plan, ResourcePlan};
use crate::remote::{Remote, RemoteError};
use crate::replication::promote::{self as steps, Fence};
use crate::topology::{Engine, Role, Sp};
use crate::ui::progress::Progress;
use crate::ui::report::Format;
use crate::ui::{self, plan_view};
use crate::{Error, ExitStatus};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub fn run(args: &PromoteArgs) -> Result<ExitStatus, Error> {
    let inventory = &args.topology.inventory;
    let p = crate::commands::prepare(inventory, args.topology.templates.as_deref())?;
    let t = &p.topology;
    let db = t
        .database
        .as_ref()
        .ok_or_else(|| Error::Usage("the topology has no database to promote".into()))?;
    let db_hosts: Vec<&str> = t
        .hosts_with(Role::Db)
        .map(|h| h.name.value.as_str())
        .collect();
    if !db_hosts.contains(&args.host.as_str()) {
        return Err(Error::Usage(format!(
            "`{}` is not a database host of {} (db hosts: {})",
            args.host,
            p.source.name,
            db_hosts.join(", ")
        )));
    }
    let old = t
        .db_primary()
        .map(|h| h.name.value.clone())
        .unwrap_or_default();
    if old == args.host {
        return Err(Error::Usage(format!(
            "{} is already database.primary in {}: promote names a replica",
            args.host, p.source.name
        )));
    }
    // The topology as it is once HOST is the primary: what the app servers are re-pointed to.
    let mut next = t.clone();
    if let Some(d) = next.database.as_mut() {
        d.primary = Some(Sp::new(args.host.clone(), db.name.span));
    }
    let q = fleet::prepare(p.source.clone(), next, p.templates.as_deref())?;
    let service = match db.engine.value {
        Engine::Mariadb => "mariadb.service",
        Engine::Mysql => "mysql.service",
    };
    let rt = crate::commands::runtime()?;
    let selected = q.select(&[])?;
    let conns = rt.block_on(connect(&q, &selected, &old, args.forks));
    let lock = Lock::new(format!(
        "promote of {} in {}",
        args.host,
        inventory.display()
    ));
    locks::run_locked(&rt, &selected, conns, lock, inventory, |conns| {
        let live = rt.block_on(fleet::observe_all(&selected, conns));
        let result = locked_run(args, &q, &rt, &selected, &live, &old, service);
        (result, live)
    })
}

/// Connects to every host; the old primary, likely down, gets one attempt (retries would only
/// add to the time the site cannot write).
async fn connect(
    q: &fleet::Prepared,
    selected: &[&HostState],
    old: &str,
    forks: usize,
) -> Vec<Result<Arc<crate::transport::Connection>, RemoteError>> {
    let targets = q.targets(selected);
    let (old_target, others): (Vec<_>, Vec<_>) = targets.into_iter().partition(|t| t.host == old);
    let once = async {
        match old_target.first() {
            Some(t) => Some(crate::transport::connect_once(t).await.map(Arc::new)),
            None => None,
        }
    };
    let (rest, old_conn) = tokio::join!(crate::transport::connect_all(&others, forks), once);
    let mut rest = others.iter().map(|t| t.host.clone()).zip(rest);
    let mut old_conn = old_conn;
    selected
        .iter()
        .map(|h| {
            if h.name == old
                && let Some(c) = old_conn.take()
            {
                return c;
            }
            match rest.next() {
                Some((name, c)) if name == h.name => c,
                _ => Err(RemoteError::Remote {
                    host: h.name.clone(),
                    detail: "not connected".into(),
                }),
            }
        })
        .collect()
}

/// What promote found and would do.
struct Found<'a> {
    host: &'a str,
    old: &'a str,
    /// Why the old primary cannot be reached, when it cannot.
    old_unreachable: Option<String>,
    replica: Option<crate::replication::Status>,
    app: Vec<ResourcePlan>,
}

fn found<'a>(
    q: &fleet::Prepared,
    selected: &[&HostState],
    live: &[Result<Live, RemoteError>],
    host: &'a str,
    old: &'a str,
) -> Result<Found<'a>, Error> {
    let of = |name: &str| {
        selected
            .iter()
            .zip(live)
            .find(|(h, _)| h.name == name)
            .map(|(_, l)| l)
    };
    let replica_live = match of(host) {
        Some(Ok(l)) => l,
        Some(Err(e)) => {
            return Err(Error::Usage(format!(
                "{host} cannot be reached, so it cannot be promoted: {e}"
            )));
        }
        None => return Err(Error::Usage(format!("{host} is not a host of the run"))),
    };
    let facts = replica_live.observed.database.clone().unwrap_or_default();
    let repl = facts.replication.clone().unwrap_or_default();
    if !facts.running {
        return Err(Error::Usage(format!(
            "the database on {host} does not answer: it cannot be promoted"
        )));
    }
    if repl.source.is_none() {
        return Err(Error::Usage(match &repl.promoted {
            Some(mark) => format!(
                "{host} is already the live primary ({mark}): edit the topology to say `database.primary: {host}`"
            ),
            None => format!(
                "{host} is not replicating (no primary configured): there is nothing to promote; `apply` seeds it as a replica first"
            ),
        }));
    }
    // The replica's status against the old primary (the part `q` renders names HOST itself).
    let mut part = q
        .desired
        .host(host)
        .and_then(|h| h.database.as_ref()?.replication.clone())
        .ok_or_else(|| Error::Usage(format!("{host} has no replication in the topology")))?;
    part.replica = true;
    part.primary = old.to_string();
    if let Some(h) = q.topology.host(old) {
        part.primary_address = h.address.value.to_string();
    }
    let replica = crate::replication::Status::of(&part, &facts);
    let old_unreachable = match of(old) {
        Some(Err(e)) => Some(e.to_string()),
        None => Some("not connected".into()),
        Some(Ok(_)) => None,
    };
    let sql_error = repl
        .source
        .as_ref()
        .map_or("", |s| s.last_sql_error.as_str());
    if let Some(why) = steps::refusal(
        host,
        old,
        &part.primary_address,
        replica.as_ref(),
        sql_error,
        old_unreachable.as_deref(),
    ) {
        return Err(Error::Usage(why));
    }
    let schema = q.schema_hash();
    let app = selected
        .iter()
        .zip(live)
        .filter(|(h, _)| h.roles.contains(&Role::App))
        .filter_map(|(h, l)| {
            let l = l.as_ref().ok()?;
            Some(crate::plan::host_plan(
                h,
                &l.observed,
                q.db_password.as_ref(),
                &schema,
            ))
        })
        .collect();
    Ok(Found {
        host,
        old,
        old_unreachable,
        replica,
        app,
    })
}

fn show(f: &Found, service: &str, q: &fleet::Prepared) -> String {
    let mut out = format!(
        "Promote {} to the database primary in place of {}:\n",
        f.host, f.old
    );
    out.push_str(&match &f.old_unreachable {
        Some(why) => format!(
            "  1. fence {}: unreachable ({why}); nothing can be done there, and it must not come back as a primary\n",
            f.old
        ),
        None => format!(
            "  1. fence {}: read_only on, {} waited for until it applied all {} wrote (at most {} s, else read_only put back and nothing promoted), {service} stopped, marked fenced\n",
            f.old,
            f.host,
            f.old,
            steps::CATCH_UP_SECONDS
        ),
    });
    out.push_str(&format!(
        "  2. {}: apply what it received ({}), stop replication, forget it, read-write, marked promoted\n",
        f.host,
        f.replica
            .as_ref()
            .map_or_else(|| "replication state unknown".to_string(), |s| s.summary())
    ));
    let names: Vec<&str> = f.app.iter().map(|r| r.name()).collect();
    out.push_str(&format!(
        "  3. re-point the app servers one at a time ({}): app env naming {}, restart, health check\n\n",
        names.join(", "),
        f.host
    ));
    let plan = Plan {
        format: crate::plan::FORMAT_VERSION,
        topology: String::new(),
        topology_sha256: String::new(),
        templates: None,
        desired_sha256: q.desired_sha256(),
        resources: f.app.clone(),
    };
    out.push_str(&plan_view::render(
        &plan,
        ui::report::fancy(&std::io::stdout()),
    ));
    out
}

fn confirm(host: &str) -> Result<bool, Error> {
    eprint!("Promote {host} to the database primary? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}

#[allow(clippy::too_many_arguments)]
fn locked_run(
    args: &PromoteArgs,
    q: &fleet::Prepared,
    rt: &tokio::runtime::Runtime,
    selected: &[&HostState],
    live: &[Result<Live, RemoteError>],
    old: &str,
    service: &str,
) -> Result<ExitStatus, Error> {
    let f = found(q, selected, live, &args.host, old)?;
    let json = args.format == Format::Json;
    if !json {
        print!("{}", show(&f, service, q));
    }
    if !args.auto_approve {
        if json {
            return Err(Error::Usage(
                "promote --format json does not ask: add --auto-approve".into(),
            ));
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(
                "promote asks for confirmation and there is no terminal: review the plan, then run with --auto-approve".into(),
            ));
        }
        if !confirm(&args.host)? {
            ui::info("Promote cancelled.");
            return Ok(ExitStatus::Success);
        }
    }
    let remotes: BTreeMap<String, Arc<dyn Remote>> = live
        .iter()
        .filter_map(|l| l.as_ref().ok())
        .map(|l| {
            let remote: Arc<dyn Remote> = l.conn.clone();
            (l.conn.target.host.clone(), remote)
        })
        .collect();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mark = steps::mark(&args.host, old, at);
    let started = Instant::now();
    let replica = remotes
        .get(&args.host)
        .ok_or_else(|| Error::Usage(format!("{} is not connected", args.host)))?;
    let fence = rt.block_on(steps::fence(
        remotes.get(old).map(|r| r.as_ref()),
        replica.as_ref(),
        service,
        &mark,
        f.old_unreachable.as_deref().unwrap_or("not connected"),
    ));
    if !json {
        ui::info(fence.describe(old));
    }
    if let Fence::Failed { why } = &fence {
        return Err(Error::Usage(format!(
            "{old} answered but could not be fenced, so {} was not promoted (two primaries would take writes): {why}",
            args.host
        )));
    }
    let gtid = match rt.block_on(steps::promote(replica.as_ref(), &mark)) {
        Ok(gtid) => gtid,
        Err(why) => {
            // Fenced and not promoted: the site would have no primary. The fence is undone.
            let after = match (&fence, remotes.get(old)) {
                (Fence::Fenced { read_only_was, .. }, Some(r)) => format!(
                    "{}; undone on {old}: {}",
                    fence.describe(old),
                    rt.block_on(steps::unfence(
                        r.as_ref(),
                        service,
                        read_only_was.unwrap_or(false)
                    ))
                ),
                _ => format!(
                    "{}; {} still replicates from it: nothing changed on either host",
                    fence.describe(old),
                    args.host
                ),
            };
            return Err(Error::Usage(format!(
                "{} was not promoted: {why}\n{after}",
                args.host
            )));
        }
    };
    let writable_after = started.elapsed();
    if !json {
        ui::info(format_args!(
            "{} is the primary (read-write, at GTID {gtid}) after {:.1}s",
            args.host,
            writable_after.as_secs_f64()
        ));
    }
    // The app servers, one at a time: the first one back (re-pointed and healthy) ends the time
    // the site could not write.
    let first_back: Mutex<Option<Instant>> = Mutex::new(None);
    let progress = if json {
        Progress::quiet()
    } else {
        Progress::new()
    };
    let on_event = |e: Event| match e {
        Event::Step { host, message } => progress.update(host, message),
        Event::Finished { host, summary } => {
            if !["failed", "skipped", "interrupted", "unchanged"]
                .iter()
                .any(|w| summary.starts_with(w))
            {
                let mut first = first_back.lock().unwrap_or_else(|e| e.into_inner());
                first.get_or_insert_with(Instant::now);
            }
            progress.finish(host, summary)
        }
    };
    let lost: Vec<(String, Phase, String)> = selected
        .iter()
        .zip(live)
        .filter(|(h, _)| h.roles.contains(&Role::App))
        .filter_map(|(h, l)| {
            l.as_ref()
                .err()
                .map(|e| (h.name.clone(), Phase::of(h), e.to_string()))
        })
        .collect();
    let interrupt: apply::Interrupt = Arc::new(AtomicBool::new(false));
    let run = apply::Run {
        desired: &q.desired,
        remotes: &remotes,
        db_password: q.db_password.as_ref(),
        tsig: q.tsig.as_ref(),
        tls_key: q.tls_key.as_ref(),
        replication_password: q.replication_password.as_ref(),
        forks: args.forks,
        batch: 1,
        drain_timeout: args.drain_timeout,
        confirm_timeout: std::time::Duration::from_secs(60),
        interrupt: &interrupt,
        on_event: &on_event,
        release_tar: None,
        unreachable: &lost,
        drill_cut_ssh: false,
        authority: None,
    };
    let reports: Vec<HostReport> = rt.block_on(apply::apply(&run, &f.app));
    drop(progress);
    let first = *first_back.lock().unwrap_or_else(|e| e.into_inner());
    let unwritable = first.map(|t| t.duration_since(started).as_secs_f64());
    let failed = reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }));
    let edit = format!("database.primary: {}", args.host);
    if json {
        let v = serde_json::json!({
            "host": args.host,
            "old_primary": old,
            "fence": fence,
            "gtid": gtid,
            "writable_after_seconds": writable_after.as_secs_f64(),
            "unwritable_seconds": unwritable,
            "app_servers": reports,
            "edit": edit,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        crate::commands::apply::print_report(&reports, false, None);
        match unwritable {
            Some(s) => println!(
                "The site could not write for {s:.1}s: from fencing {old} to the first app server re-pointed at {} and healthy (and since {old} died, if it died before).",
                args.host
            ),
            None => println!("No app server was re-pointed: the site cannot write yet."),
        }
        println!(
            "Now edit {}: set `{edit}`. plan and apply refuse to act until the topology says so.",
            args.topology.inventory.display()
        );
    }
    Ok(if failed {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    })
}
