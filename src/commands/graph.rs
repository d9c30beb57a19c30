//! `graph`: the topology drawn, optionally coloured by the live hosts' state.

use crate::cli::{GraphArgs, GraphFormat};
use crate::graph;
use crate::verify::Status;
use crate::{Error, ExitStatus};

pub fn run(args: &GraphArgs) -> Result<ExitStatus, Error> {
    let picture = if args.live {
        let p =
            crate::commands::prepare(&args.topology.inventory, args.topology.templates.as_deref())?;
        let started = std::time::Instant::now();
        let outcomes = crate::commands::verify::once(&p, args.forks)?;
        let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
        eprintln!(
            "Asked {} host(s): {} check(s) passed, {} failed, {} blocked, {} not checked ({:.1}s).",
            p.desired.hosts.len(),
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Blocked),
            count(Status::NotChecked),
            started.elapsed().as_secs_f64()
        );
        let mut g = graph::build(&p.topology);
        graph::live::apply(&mut g, &outcomes);
        g
    } else {
        let (_, topology) = crate::commands::require_valid(crate::commands::load(&args.topology)?)?;
        graph::build(&topology)
    };
    let text = match args.format {
        GraphFormat::Svg => graph::svg(&picture),
        GraphFormat::Dot => graph::dot(&picture),
        GraphFormat::Mermaid => graph::mermaid(&picture),
        GraphFormat::Json => serde_json::to_string_pretty(&picture).unwrap_or_default() + "\n",
    };
    print!("{text}");
    Ok(ExitStatus::Success)
}
