//! `plan`: what would change on the live hosts, with diffs; `--out` saves it for `apply FILE`.

use crate::cli::PlanArgs;
use crate::fleet::{self, Live};
use crate::plan::Plan;
use crate::remote::RemoteError;
use crate::ui::report::Format;
use crate::ui::{self, plan_view};
use crate::{Error, ExitStatus};

/// Plans on the live hosts: the plan of those that answered, and the errors of those that did not.
pub(crate) fn live_plan(
    p: &fleet::Prepared,
    limit: &[String],
    forks: usize,
    rt: &tokio::runtime::Runtime,
) -> Result<(Plan, Vec<Result<Live, RemoteError>>), Error> {
    let hosts = p.select(limit)?;
    // The zone's records are planned with every host, not for a --limit of some.
    let server = if limit.is_empty() {
        fleet::zone_server(p)?
    } else {
        if p.desired.dns.as_ref().is_some_and(|z| z.server.is_some()) {
            crate::ui::info(
                "The zone's records are not planned: they go with a run over every host (no --limit).",
            );
        }
        None
    };
    let (live, zone) = rt.block_on(async {
        let hosts_live = async {
            let conns = fleet::connect(p, &hosts, forks).await;
            let live = fleet::observe_all(&hosts, conns).await;
            (live, fleet::primary_outside(p, &hosts, forks).await)
        };
        let zone = async {
            match &server {
                Some(s) => Some(fleet::observe_zone(p, s).await),
                None => None,
            }
        };
        tokio::join!(hosts_live, zone)
    });
    let (live, outside) = live;
    if let Err(e) = outside {
        rt.block_on(fleet::close(live));
        return Err(e);
    }
    let plan = fleet::make_plan(p, &hosts, &live, zone.as_ref())?;
    for w in fleet::stray_firewalls(&live)
        .into_iter()
        .chain(fleet::vip_warnings(p, &hosts, &live))
    {
        crate::ui::warn(w);
    }
    Ok((plan, live))
}

/// Reports unreachable hosts, each on its own, and returns how many there were.
pub(crate) fn report_unreachable(live: &[Result<Live, RemoteError>]) -> usize {
    let mut n = 0;
    for l in live {
        if let Err(e) = l {
            n += 1;
            ui::print_diagnostic(e);
        }
    }
    n
}

pub fn run(args: &PlanArgs) -> Result<ExitStatus, Error> {
    let p = crate::commands::prepare(&args.topology.inventory, args.topology.templates.as_deref())?;
    let rt = crate::commands::runtime()?;
    let (plan, live) = live_plan(&p, &args.limit, args.forks, &rt)?;
    let unreachable = report_unreachable(&live);
    match args.format {
        Format::Json => {
            // What a saved plan remembers of each host is for `apply PLAN`, not for logs.
            let mut resources = serde_json::to_value(&plan.resources).unwrap_or_default();
            for h in resources.as_array_mut().into_iter().flatten() {
                if let Some(o) = h.as_object_mut() {
                    o.remove("seen");
                }
            }
            let v = serde_json::json!({
                "resources": resources,
                "summary": plan.summary(),
                "changes": !plan.is_empty(),
                "unreachable": live.iter().filter_map(|l| l.as_ref().err().map(|e| e.to_string())).collect::<Vec<_>>(),
                "order": crate::apply::rollout(&plan.resources, &p.desired, 1),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        _ => print!(
            "{}{}",
            plan_view::render(&plan, ui::report::fancy(&std::io::stdout())),
            plan_view::rollout(&crate::apply::rollout(&plan.resources, &p.desired, 1))
        ),
    }
    if let Some(out) = &args.out
        && unreachable > 0
    {
        return Err(Error::Usage(format!(
            "not saving the plan to {}: {unreachable} host(s) could not be observed (a saved plan must cover every host it names)",
            out.display()
        )));
    }
    if let Some(out) = &args.out {
        crate::commands::write_private(
            out,
            &serde_json::to_string_pretty(&plan).unwrap_or_default(),
        )?;
        ui::info(format_args!(
            "Saved the plan to {}: apply it with `foobar-infra apply {}`.",
            out.display(),
            out.display()
        ));
    }
    rt.block_on(fleet::close(live));
    Ok(if unreachable > 0 {
        ExitStatus::Error
    } else if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
