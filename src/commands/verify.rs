//! `verify`: runs the checks derived from the topology, with `--wait` retries, and reports them
//! as text, JSON or JUnit XML.

use crate::cli::{VerifyArgs, VerifyFormat};
use crate::remote::Remote;
use crate::verify::{self, Outcome, Status};
use crate::{Error, ExitStatus, fleet};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pause between two rounds of `--wait`.
const RETRY_EVERY: Duration = Duration::from_secs(2);

pub fn run(args: &VerifyArgs) -> Result<ExitStatus, Error> {
    let p = crate::commands::prepare(&args.topology.inventory, args.topology.templates.as_deref())?;
    p.select(&args.limit)?;
    let checks = verify::checks(&p.desired, &args.limit);
    let on = hosts_of(&p.desired, &checks);
    let server = fleet::zone_server(&p)?;
    let ctx = context(&p, server.as_ref());
    let rt = crate::commands::runtime()?;
    let until = Instant::now() + args.wait.unwrap_or_default();
    let started = Instant::now();
    let outcomes = loop {
        let outcomes = rt.block_on(round(&p, &ctx, &checks, &on, args.forks));
        if verify::passed(&outcomes) || Instant::now() + RETRY_EVERY > until {
            break outcomes;
        }
        let bad = outcomes.iter().filter(|o| o.status == Status::Fail).count();
        crate::ui::info(format_args!(
            "{bad} check(s) failing after {:.0}s; checking again (--wait).",
            started.elapsed().as_secs_f64()
        ));
        std::thread::sleep(RETRY_EVERY);
    };
    let seconds = started.elapsed().as_secs_f64();
    match args.format {
        VerifyFormat::Human => print!("{}", human(&outcomes, seconds)),
        VerifyFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "passed": verify::passed(&outcomes),
                "checks": outcomes,
                "seconds": seconds,
            }))
            .unwrap_or_default()
        ),
        VerifyFormat::Junit => print!("{}", junit(&outcomes, seconds)),
    }
    Ok(if verify::passed(&outcomes) {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

/// Every check run once, on every host: what `graph --live` draws.
pub(crate) fn once(p: &fleet::Prepared, forks: usize) -> Result<Vec<Outcome>, Error> {
    let checks = verify::checks(&p.desired, &[]);
    let on = hosts_of(&p.desired, &checks);
    let server = fleet::zone_server(p)?;
    let ctx = context(p, server.as_ref());
    let rt = crate::commands::runtime()?;
    Ok(rt.block_on(round(p, &ctx, &checks, &on, forks)))
}

/// The hosts the checks run on.
fn hosts_of<'a>(
    desired: &'a crate::desired::Desired,
    checks: &[verify::Check],
) -> Vec<&'a crate::desired::HostState> {
    desired
        .hosts
        .iter()
        .filter(|h| checks.iter().any(|c| c.host == h.name))
        .collect()
}

fn context<'a>(
    p: &'a fleet::Prepared,
    server: Option<&'a crate::dns::wire::Server>,
) -> verify::Context<'a> {
    verify::Context {
        desired: &p.desired,
        db_password: p.db_password.as_ref(),
        schema: p.schema_hash(),
        authority: server.map(|s| s as &dyn crate::dns::Authority),
    }
}

/// One round of checks: connects to the hosts the checks run on, runs them, disconnects.
async fn round(
    p: &fleet::Prepared,
    ctx: &verify::Context<'_>,
    checks: &[verify::Check],
    on: &[&crate::desired::HostState],
    forks: usize,
) -> Vec<Outcome> {
    let conns = fleet::connect(p, on, forks).await;
    let remotes: BTreeMap<String, Result<Arc<dyn Remote>, String>> = on
        .iter()
        .zip(&conns)
        .map(|(h, c)| {
            let r = match c {
                Ok(c) => {
                    let r: Arc<dyn Remote> = c.clone();
                    Ok(r)
                }
                Err(e) => Err(e.to_string()),
            };
            (h.name.clone(), r)
        })
        .collect();
    let outcomes = verify::run(ctx, checks, &remotes).await;
    drop(remotes);
    crate::transport::close_all(conns.into_iter().flatten()).await;
    outcomes
}

fn word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Blocked => "blocked",
        Status::NotChecked => "not checked",
    }
}

fn count(outcomes: &[Outcome], s: Status) -> usize {
    outcomes.iter().filter(|o| o.status == s).count()
}

fn human(outcomes: &[Outcome], seconds: f64) -> String {
    let mut out = String::new();
    for o in outcomes {
        out.push_str(&format!(
            "{:<11} {:<22} {}\n{:<11} {:<22} {}\n",
            word(o.status),
            o.hop.describe(),
            o.title,
            "",
            "",
            o.evidence
        ));
    }
    out.push_str(&format!(
        "Verify: {} passed, {} failed, {} blocked, {} not checked ({seconds:.1}s).\n",
        count(outcomes, Status::Pass),
        count(outcomes, Status::Fail),
        count(outcomes, Status::Blocked),
        count(outcomes, Status::NotChecked),
    ));
    out
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test suite per hop, one test case per check; a blocked or unchecked check is
/// `skipped` with its reason (the failure that blocks it is reported once, where it happened).
fn junit(outcomes: &[Outcome], seconds: f64) -> String {
    let mut hops: Vec<verify::Hop> = outcomes.iter().map(|o| o.hop).collect();
    hops.sort();
    hops.dedup();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"foobar-infra verify\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{seconds:.3}\">\n",
        outcomes.len(),
        count(outcomes, Status::Fail),
        count(outcomes, Status::Blocked) + count(outcomes, Status::NotChecked),
    );
    for hop in hops {
        let cases: Vec<&Outcome> = outcomes.iter().filter(|o| o.hop == hop).collect();
        let fails = cases.iter().filter(|o| o.status == Status::Fail).count();
        let skips = cases
            .iter()
            .filter(|o| matches!(o.status, Status::Blocked | Status::NotChecked))
            .count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skips}\">\n",
            xml(hop.describe()),
            cases.len()
        ));
        for o in cases {
            out.push_str(&format!(
                "    <testcase classname=\"verify.{}\" name=\"{}: {}\"",
                xml(hop.describe()),
                xml(&o.id),
                xml(&o.title)
            ));
            match o.status {
                Status::Pass => out.push_str(&format!(
                    "><system-out>{}</system-out></testcase>\n",
                    xml(&o.evidence)
                )),
                // The evidence in the body too: attributes lose their line breaks.
                Status::Fail => out.push_str(&format!(
                    "><failure message=\"{}\">{}</failure></testcase>\n",
                    xml(&o.evidence),
                    xml(&o.evidence)
                )),
                Status::Blocked | Status::NotChecked => out.push_str(&format!(
                    "><skipped message=\"{}\"/></testcase>\n",
                    xml(&o.evidence)
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
