//! `validate`: every problem of a topology in one run; with `--check-configs`, the rendered files
//! checked by the real parsers.

use crate::check_configs::{self, Outcome, Status};
use crate::cli::ValidateArgs;
use crate::render::{self, Secrets};
use crate::ui::report::{self, Format};
use crate::{ExitStatus, commands};

pub fn run(args: &ValidateArgs) -> Result<ExitStatus, crate::Error> {
    let loaded = commands::load(&args.topology)?;
    let mut checks: Vec<Outcome> = Vec::new();
    if args.check_configs
        && !loaded.has_errors()
        && let Some(t) = &loaded.topology
    {
        let tera = render::templates::load(args.topology.templates.as_deref())
            .map_err(render::RenderError::from)?;
        let desired = render::render(t, &loaded.source, &tera, &Secrets::redacted())?;
        let zone = render::zone_file(t, &tera)?;
        checks = check_configs::run(&desired, zone.as_ref())?;
    }
    let checks_failed = checks.iter().any(|c| matches!(c.status, Status::Failed(_)));
    let (source, problems) = (&loaded.source, &loaded.problems);
    match args.format {
        Format::Human => {
            let mut out = report::human(source, problems, report::fancy(&std::io::stdout()));
            for c in &checks {
                out.push_str(&check_line(c));
            }
            print!("{out}");
        }
        Format::Json => {
            let mut v = report::json_value(source, problems);
            v["valid"] = serde_json::Value::Bool(!loaded.has_errors() && !checks_failed);
            if args.check_configs {
                v["config_checks"] = serde_json::to_value(&checks).unwrap_or_default();
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Format::Github => {
            let mut out = report::github(source, problems);
            for c in &checks {
                let (level, message) = match &c.status {
                    Status::Failed(detail) => (
                        "error",
                        format!(
                            "{} rejects {} for host {}:\n{detail}",
                            c.checker, c.file, c.host
                        ),
                    ),
                    Status::Skipped(why) => (
                        "warning",
                        format!(
                            "{} skipped for {} on host {}: {why}",
                            c.checker, c.file, c.host
                        ),
                    ),
                    Status::Passed => continue,
                };
                out.push_str(&format!(
                    "::{level} file={},title=config-check::{}\n",
                    report::gh_property(&source.name),
                    report::gh_data(&message)
                ));
            }
            print!("{out}");
        }
    }
    Ok(if loaded.has_errors() || checks_failed {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    })
}

fn check_line(c: &Outcome) -> String {
    match &c.status {
        Status::Passed => format!("ok: {} accepts {} for {}\n", c.checker, c.file, c.host),
        Status::Skipped(why) => format!("skipped: {} for {}: {why}\n", c.file, c.host),
        Status::Failed(detail) => {
            let detail: String = detail.lines().map(|l| format!("    {l}\n")).collect();
            format!(
                "error: {} rejects {} for {}:\n{detail}",
                c.checker, c.file, c.host
            )
        }
    }
}
