//! `apply [PLAN]`: without a saved plan, plans, shows the plan and asks (or `--auto-approve`);
//! with one, applies exactly it after checking that no host changed since it was made.

use crate::apply::{self, HostReport, Outcome};
use crate::cli::ApplyArgs;
use crate::commands::plan::{live_plan, report_unreachable};
use crate::fleet;
use crate::plan::{Change, Plan, Seen};
use crate::ui::progress::Progress;
use crate::ui::report::Format;
use crate::ui::{self, plan_view, table};
use crate::{Error, ExitStatus};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The first change that differs between the saved plan and the one computed now (diff text
/// aside: a diff is only a view of the same change).
fn first_difference(saved: &[Change], now: &[Change]) -> Option<String> {
    let strip = |c: &Change| match c {
        Change::File {
            path,
            action,
            sensitive,
            mode,
            owner,
            ..
        } => Change::File {
            path: path.clone(),
            action: *action,
            sensitive: *sensitive,
            diff: None,
            mode: mode.clone(),
            owner: owner.clone(),
        },
        other => other.clone(),
    };
    let a: Vec<Change> = saved.iter().map(strip).collect();
    let b: Vec<Change> = now.iter().map(strip).collect();
    if a == b {
        return None;
    }
    let extra = b
        .iter()
        .find(|c| !a.contains(c))
        .map(|c| format!("would now also {}", crate::ui::plan_view::describe(c)));
    let missing = a.iter().find(|c| !b.contains(c)).map(|c| {
        format!(
            "the planned {} is no longer needed",
            crate::ui::plan_view::describe(c)
        )
    });
    Some(
        extra
            .or(missing)
            .unwrap_or_else(|| "the changes differ from the saved plan".into()),
    )
}

/// Why a saved plan no longer fits a host: the first thing that differs.
fn stale_reason(saved: &Seen, now: &Seen) -> Option<String> {
    for (path, before) in &saved.files {
        if now.files.get(path) != Some(before) {
            return Some(format!("{path} changed"));
        }
    }
    for (pkg, before) in &saved.packages {
        if now.packages.get(pkg) != Some(before) {
            return Some(format!("package {pkg} changed"));
        }
    }
    if saved.release != now.release {
        return Some("the deployed release changed".into());
    }
    (saved.rest != now.rest).then(|| "its services, users or database objects changed".into())
}

fn confirm(plan: &Plan) -> Result<bool, Error> {
    let hosts = plan.hosts.iter().filter(|h| !h.changes.is_empty()).count();
    eprint!("Apply these changes to {hosts} host(s)? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}

pub fn run(args: &ApplyArgs) -> Result<ExitStatus, Error> {
    let saved: Option<Plan> = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let plan: Plan = serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!("{} is not a saved plan: {e}", path.display()))
            })?;
            if plan.format != crate::plan::FORMAT_VERSION {
                return Err(Error::Usage(format!(
                    "{} was saved by another version (format {})",
                    path.display(),
                    plan.format
                )));
            }
            Some(plan)
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
    let p = fleet::prepare(&inventory, templates.as_deref())?;
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
        Some(s) => s.hosts.iter().map(|h| h.host.clone()).collect(),
        None => args.limit.clone(),
    };
    let rt = crate::commands::runtime()?;
    // Ctrl-C from here on: no new step starts; the step under way on each host completes.
    let interrupt: apply::Interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupted: finishing the step under way on each host, starting no new one."
            );
            flag.store(true, Ordering::SeqCst);
        }
    });
    let (plan, live) = live_plan(&p, &limit, args.forks, &rt)?;
    let selected = p.select(&limit)?;
    if interrupt.load(Ordering::SeqCst) {
        eprintln!("Interrupted before any change.");
        return Ok(ExitStatus::Interrupted);
    }
    let unreachable = report_unreachable(&live);
    if let Some(s) = &saved {
        for old in &s.hosts {
            match plan.hosts.iter().find(|h| h.host == old.host) {
                Some(now) => {
                    if let Some(why) = stale_reason(&old.seen, &now.seen) {
                        return Err(Error::Stale(format!(
                            "host {}: {why} since the plan was made",
                            old.host
                        )));
                    }
                    // The saved plan is what was approved: nothing else may be done.
                    if let Some(what) = first_difference(&old.changes, &now.changes) {
                        return Err(Error::Stale(format!("host {}: {what}", old.host)));
                    }
                }
                None => {
                    return Err(Error::Stale(format!(
                        "host {} cannot be observed now",
                        old.host
                    )));
                }
            }
        }
    }
    let json = args.format == Format::Json;
    if !json {
        print!(
            "{}",
            plan_view::render(&plan, ui::report::fancy(&std::io::stdout()))
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
            eprintln!("Interrupted before any change.");
            return Ok(ExitStatus::Interrupted);
        }
        if !yes {
            eprintln!("Apply cancelled.");
            return Ok(ExitStatus::Success);
        }
    }

    let progress = if json {
        Progress::quiet()
    } else {
        Progress::new()
    };
    let conns = apply::connections(&live);
    // The release is read and packed once, for every host that gets it.
    let release_tar = match p.desired.hosts.iter().find_map(|h| h.release.as_ref()) {
        Some(r)
            if plan
                .hosts
                .iter()
                .flat_map(|h| &h.changes)
                .any(|c| matches!(c, crate::plan::Change::Release { .. })) =>
        {
            Some(
                apply::bundle::release(std::path::Path::new(&r.source), &r.sha256)
                    .map_err(Error::Usage)?,
            )
        }
        _ => None,
    };
    let lost: Vec<(String, u8, String)> = selected
        .iter()
        .zip(&live)
        .filter_map(|(h, l)| {
            l.as_ref()
                .err()
                .map(|e| (h.name.clone(), crate::plan::phase(h), e.to_string()))
        })
        .collect();
    let run = apply::Run {
        prepared: &p,
        live: &conns,
        forks: args.forks,
        interrupt: &interrupt,
        progress: &progress,
        release_tar: release_tar.as_ref(),
        unreachable: &lost,
    };
    let reports: Vec<HostReport> = rt.block_on(apply::apply(&run, &plan.hosts));
    drop(conns);
    rt.block_on(async {
        for l in live.into_iter().flatten() {
            if let Ok(conn) = Arc::try_unwrap(l.conn) {
                conn.close().await;
            }
        }
    });
    print_report(&reports, json);
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

fn print_report(reports: &[HostReport], json: bool) {
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
                "\nerror: host {} failed at {step}:\n{}",
                r.host,
                indent(error)
            );
        }
    }
    let changed = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Changed)
        .count();
    let failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .count();
    println!("Apply finished: {changed} host(s) changed, {failed} failed.");
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
