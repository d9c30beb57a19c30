//! `apply [PLAN]`: without a saved plan, plans, shows the plan and asks (or `--auto-approve`);
//! with one, applies exactly it after checking that no host changed since it was made.

use crate::apply::lock::Lock;
use crate::apply::{self, Event, HostReport, Outcome};
use crate::cli::ApplyArgs;
use crate::commands::locks;
use crate::commands::plan::report_unreachable;
use crate::desired::HostState;
use crate::fleet;
use crate::plan::{Phase, Plan, Stale};
use crate::remote::Remote;
use crate::remote::RemoteError;
use crate::ui::progress::Progress;
use crate::ui::report::Format;
use crate::ui::{self, plan_view, table};
use crate::{Error, ExitStatus};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn confirm(plan: &Plan) -> Result<bool, Error> {
    let changing = |zone: bool| {
        plan.resources
            .iter()
            .filter(|r| !r.changes.is_empty())
            .filter(|r| matches!(r.owner, crate::plan::Owner::Zone { .. }) == zone)
            .count()
    };
    let zones = match changing(true) {
        0 => String::new(),
        1 => " and 1 zone".into(),
        n => format!(" and {n} zones"),
    };
    eprint!(
        "Apply these changes to {} host(s){zones}? Only 'yes' is accepted: ",
        changing(false)
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}

/// The shortest --confirm-timeout: a living run renews its timers every 5 s, and a renewal may
/// take a few seconds on a busy host.
const MIN_CONFIRM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `FOOBAR_INFRA_DRILL`: a drill asked of this run (`cut-ssh`), for a lab.
fn drill() -> Result<bool, Error> {
    match std::env::var("FOOBAR_INFRA_DRILL") {
        Err(_) => Ok(false),
        Ok(v) if v == "cut-ssh" => Ok(true),
        Ok(v) => Err(Error::Usage(format!(
            "FOOBAR_INFRA_DRILL={v:?} is not a drill: the one drill is `cut-ssh`"
        ))),
    }
}

pub fn run(args: &ApplyArgs) -> Result<ExitStatus, Error> {
    // Before anything is read or locked: a drill is never a surprise.
    if drill()? {
        ui::warn(
            "drill (FOOBAR_INFRA_DRILL=cut-ssh): each new firewall this run loads also cuts SSH, and is put back by this run or the host's watchdog",
        );
    }
    if args.confirm_timeout < MIN_CONFIRM_TIMEOUT {
        return Err(Error::Usage(format!(
            "--confirm-timeout must be at least {}s: a living run renews its hosts' timers every 5 s",
            MIN_CONFIRM_TIMEOUT.as_secs()
        )));
    }
    let saved: Option<Plan> = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let not_a_plan = |e: serde_json::Error| {
                Error::Usage(format!("{} is not a saved plan: {e}", path.display()))
            };
            // The format first: a plan of another version does not parse as this one's.
            #[derive(serde::Deserialize)]
            struct Head {
                format: u32,
            }
            let head: Head = serde_json::from_str(&text).map_err(not_a_plan)?;
            if head.format != crate::plan::FORMAT_VERSION {
                return Err(Error::Usage(format!(
                    "{} was saved by another version of foobar-infra (plan format {}; this one reads {}): make a new plan",
                    path.display(),
                    head.format,
                    crate::plan::FORMAT_VERSION
                )));
            }
            Some(serde_json::from_str::<Plan>(&text).map_err(not_a_plan)?)
        }
        None => None,
    };
    let (inventory, templates) = match (&saved, &args.topology.inventory) {
        (Some(p), _) => (
            std::path::PathBuf::from(&p.topology),
            p.templates.as_ref().map(std::path::PathBuf::from),
        ),
        (None, Some(i)) => (i.clone(), args.topology.templates.clone()),
        (None, None) => {
            return Err(Error::Usage(
                "apply needs a topology (-i FILE) or a saved plan (apply PLAN_FILE)".into(),
            ));
        }
    };
    let p = crate::commands::prepare(&inventory, templates.as_deref())?;
    if let Some(s) = &saved {
        if crate::plan::sha256_hex(p.source.text.as_bytes()) != s.topology_sha256 {
            return Err(Error::Stale(format!(
                "the topology {} changed since the plan was made",
                inventory.display()
            )));
        }
        if p.desired_sha256() != s.desired_sha256 {
            return Err(Error::Stale("the rendered configuration (templates or application files) changed since the plan was made".into()));
        }
    }
    let limit: Vec<String> = match &saved {
        Some(s) => s
            .resources
            .iter()
            .filter_map(|r| r.owner.host().map(str::to_string))
            .collect(),
        None => args.limit.clone(),
    };
    let rt = crate::commands::runtime()?;
    // Ctrl-C from here on: no new step starts; the step under way on each host completes.
    let interrupt: apply::Interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ui::info(
                "\nInterrupted: finishing the step under way on each host, starting no new one.",
            );
            flag.store(true, Ordering::SeqCst);
        }
    });
    let selected = p.select(&limit)?;
    let conns = rt.block_on(fleet::connect(&p, &selected, args.forks));
    // The lock comes before observing: no other run can change what this plan sees.
    let what = match &args.plan {
        Some(file) => format!("apply of the saved plan {}", file.display()),
        None => format!("apply of {}", inventory.display()),
    };
    // The zone goes with a run over every host (or a saved plan that has it). Its server is
    // resolved before the lock: an error there leaves no lock behind.
    let with_zone = match &saved {
        Some(s) => s
            .resources
            .iter()
            .any(|r| matches!(r.owner, crate::plan::Owner::Zone { .. })),
        None => args.limit.is_empty(),
    };
    let server = if with_zone {
        fleet::zone_server(&p)?
    } else {
        None
    };
    if !with_zone && p.desired.dns.as_ref().is_some_and(|z| z.server.is_some()) {
        crate::ui::info(
            "The zone's records are left alone: they go with a run over every host (no --limit).",
        );
    }
    locks::run_locked(
        &rt,
        &selected,
        conns,
        Lock::new(what),
        &inventory,
        |conns| {
            let (live, zone) = rt.block_on(async {
                let zone = async {
                    match &server {
                        Some(s) => Some(fleet::observe_zone(&p, s).await),
                        None => None,
                    }
                };
                tokio::join!(fleet::observe_all(&selected, conns), zone)
            });
            let zone = Zone {
                server: server.as_ref(),
                facts: zone.as_ref(),
            };
            let outside = rt.block_on(fleet::primary_outside(&p, &selected, args.forks));
            let result = outside.and_then(|()| {
                locked_run(
                    args,
                    &p,
                    &rt,
                    saved.as_ref(),
                    &selected,
                    &live,
                    &zone,
                    &interrupt,
                )
            });
            (result, live)
        },
    )
}

/// The zone's server and what it answered, when the run covers the zone.
struct Zone<'a> {
    server: Option<&'a crate::dns::wire::Server>,
    facts: Option<&'a Result<crate::dns::ZoneFacts, crate::dns::DnsError>>,
}

/// Plans and applies with every reachable host locked.
#[allow(clippy::too_many_arguments)]
fn locked_run(
    args: &ApplyArgs,
    p: &fleet::Prepared,
    rt: &tokio::runtime::Runtime,
    saved: Option<&Plan>,
    selected: &[&HostState],
    live: &[Result<fleet::Live, RemoteError>],
    zone: &Zone,
    interrupt: &apply::Interrupt,
) -> Result<ExitStatus, Error> {
    // A zone that cannot be read (a wrong key, a server that refuses) stops the run before
    // any change.
    let plan = fleet::make_plan(p, selected, live, zone.facts)?;
    for w in fleet::stray_firewalls(live)
        .into_iter()
        .chain(fleet::vip_warnings(p, selected, live))
    {
        crate::ui::warn(w);
    }
    if interrupt.load(Ordering::SeqCst) {
        ui::info("Interrupted before any change.");
        return Ok(ExitStatus::Interrupted);
    }
    let unreachable = report_unreachable(live);
    if let Some(s) = saved
        && let Some(stale) = crate::plan::staleness(s, &plan)
    {
        return Err(Error::Stale(match stale {
            Stale::Moved { owner, why } => {
                format!("{owner}: {why} since the plan was made")
            }
            Stale::Differs { owner, difference } => {
                format!("{owner}: {}", plan_view::difference(&difference))
            }
            Stale::Unobserved { owner } => {
                format!("{owner} cannot be observed now")
            }
        }));
    }
    let json = args.format == Format::Json;
    if !json {
        print!(
            "{}{}",
            plan_view::render(&plan, ui::report::fancy(&std::io::stdout())),
            plan_view::rollout(&apply::rollout(
                &plan.resources,
                &p.desired,
                args.batch as usize
            ))
        );
    }
    if plan.is_empty() {
        if json {
            println!(
                "{}",
                serde_json::json!({ "summary": "No changes.", "hosts": [] })
            );
        }
        return Ok(if unreachable > 0 {
            ExitStatus::Error
        } else {
            ExitStatus::Success
        });
    }
    if saved.is_none() && !args.auto_approve && json {
        return Err(Error::Usage(
            "apply --format json does not ask: add --auto-approve (or apply a saved plan)".into(),
        ));
    }
    if saved.is_none() && !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(
                "apply asks for confirmation and there is no terminal: review the plan, then run with --auto-approve (or apply a saved plan: plan --out FILE, apply FILE)".into(),
            ));
        }
        let yes = confirm(&plan)?;
        if interrupt.load(Ordering::SeqCst) {
            ui::info("Interrupted before any change.");
            return Ok(ExitStatus::Interrupted);
        }
        if !yes {
            ui::info("Apply cancelled.");
            return Ok(ExitStatus::Success);
        }
    }

    let progress = if json {
        Progress::quiet()
    } else {
        Progress::new()
    };
    let remotes: BTreeMap<String, Arc<dyn Remote>> = live
        .iter()
        .filter_map(|l| l.as_ref().ok())
        .map(|l| {
            let remote: Arc<dyn Remote> = l.conn.clone();
            (l.conn.target.host.clone(), remote)
        })
        .collect();
    // The release is read and packed once, for every host that gets it.
    let release_tar = match p.desired.hosts.iter().find_map(|h| h.release.as_ref()) {
        Some(r)
            if plan
                .resources
                .iter()
                .flat_map(|h| &h.changes)
                .any(|c| matches!(c, crate::plan::Change::Release { .. })) =>
        {
            Some(
                apply::bundle::release(std::path::Path::new(&r.source), &r.sha256, &r.owner)
                    .map_err(Error::Usage)?,
            )
        }
        _ => None,
    };
    let lost: Vec<(String, Phase, String)> = selected
        .iter()
        .zip(live)
        .filter_map(|(h, l)| {
            l.as_ref()
                .err()
                .map(|e| (h.name.clone(), Phase::of(h), e.to_string()))
        })
        .collect();
    let on_event = |e: Event| match e {
        Event::Step { host, message } => progress.update(host, message),
        Event::Finished { host, summary } => progress.finish(host, summary),
    };
    let run = apply::Run {
        desired: &p.desired,
        remotes: &remotes,
        db_password: p.db_password.as_ref(),
        tsig: p.tsig.as_ref(),
        tls_key: p.tls_key.as_ref(),
        replication_password: p.replication_password.as_ref(),
        forks: args.forks,
        batch: args.batch as usize,
        drain_timeout: args.drain_timeout,
        confirm_timeout: args.confirm_timeout,
        interrupt,
        on_event: &on_event,
        release_tar: release_tar.as_deref(),
        unreachable: &lost,
        drill_cut_ssh: drill()?,
        authority: zone.server.map(|s| s as &dyn crate::dns::Authority),
    };
    let reports: Vec<HostReport> = rt.block_on(apply::apply(&run, &plan.resources));
    print_report(
        &reports,
        json,
        p.desired.dns.as_ref().map(|z| z.zone.as_str()),
    );
    let failed = reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }));
    Ok(
        if interrupt.load(Ordering::SeqCst)
            || reports.iter().any(|r| r.outcome == Outcome::Interrupted)
        {
            ExitStatus::Interrupted
        } else if failed || unreachable > 0 {
            ExitStatus::Error
        } else {
            ExitStatus::Success
        },
    )
}

/// The report of a run; `zone` is the name of the zone among the reports' names, if any.
pub(crate) fn print_report(reports: &[HostReport], json: bool, zone: Option<&str>) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "hosts": reports }))
                .unwrap_or_default()
        );
        return;
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let (result, detail) = match &r.outcome {
                Outcome::Unchanged => ("unchanged", String::new()),
                Outcome::Changed => (
                    "changed",
                    format!("{} step(s) in {:.1}s", r.done.len(), r.seconds),
                ),
                Outcome::Failed {
                    step, rolled_back, ..
                } => (
                    "failed",
                    format!(
                        "at {step}{}",
                        if *rolled_back {
                            "; files rolled back"
                        } else {
                            ""
                        }
                    ),
                ),
                Outcome::Skipped { reason } => ("skipped", reason.clone()),
                Outcome::Interrupted => ("interrupted", format!("after {} step(s)", r.done.len())),
            };
            vec![r.host.clone(), result.to_string(), detail]
        })
        .collect();
    println!(
        "{}",
        table::render(&["HOST", "RESULT", "DETAIL"], &rows).trim_end()
    );
    for r in reports {
        if let Outcome::Failed { step, error, .. } = &r.outcome {
            eprintln!(
                "\nerror: {} {} failed at {step}:\n{}",
                if Some(r.host.as_str()) == zone {
                    "zone"
                } else {
                    "host"
                },
                r.host,
                indent(error)
            );
        }
    }
    let is_zone = |r: &&HostReport| Some(r.host.as_str()) == zone;
    let changed = reports
        .iter()
        .filter(|r| !is_zone(r) && r.outcome == Outcome::Changed)
        .count();
    let failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .count();
    let zone_changed = reports
        .iter()
        .filter(is_zone)
        .any(|r| r.outcome == Outcome::Changed);
    println!(
        "Apply finished: {changed} host(s){} changed, {failed} failed.",
        if zone_changed { " and 1 zone" } else { "" }
    );
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
