//! `lab up | down | status | stop HOST | start HOST`.

use crate::cli::{LabArgs, LabCommand};
use crate::lab::{self, Lab, Row};
use crate::ui::progress::Progress;
use crate::ui::report::Format;
use crate::ui::{self, table};
use crate::{Error, ExitStatus, commands, topology};

pub fn run(args: &LabArgs) -> Result<ExitStatus, Error> {
    let lab = Lab::open(args.engine, args.state_dir.clone())?;
    let progress = if args.format == Format::Json {
        Progress::quiet()
    } else {
        Progress::new()
    };
    let started = std::time::Instant::now();
    let rows: Vec<Row> = match &args.command {
        LabCommand::Up(up) => {
            let path = match up.web {
                Some(n) => scaled(&up.topology_inventory, n.into(), &lab)?,
                None => up.topology_inventory.clone(),
            };
            let source = topology::read(&path)?;
            let env = |k: &str| std::env::var(k).ok();
            let mut loaded = topology::load(source.clone(), &env);
            // The lab's certificate first: a lab topology points its `tls` at it, and the checks
            // read it (a fresh lab has none yet; an old one may have run out). A new one is
            // checked again, as the topology will find it.
            let issued = match loaded
                .topology
                .as_ref()
                .filter(|t| t.load_balancer.is_some())
            {
                Some(t) => {
                    let files = lab::ca::LabTls::in_dir(&lab.state.dir);
                    let names = lab::site_names(t);
                    let issued = lab::ca::ensure(&files, &names)?;
                    if issued == lab::ca::Issued::New {
                        ui::info(format_args!(
                            "Issued {} for {} (trust {}).",
                            files.certificate.display(),
                            names.join(", "),
                            files.ca.display()
                        ));
                    }
                    issued
                }
                None => lab::ca::Issued::Kept,
            };
            if issued == lab::ca::Issued::New {
                loaded = topology::load(source, &env);
            }
            let (_, t) = commands::require_valid(loaded)?;
            warn_if_not_lab_ssh(&t, &lab);
            let rows = lab::up(&lab, &t, &progress, up.parallel)?;
            ui::info(format_args!(
                "Lab up: {} hosts in {:.1}s (topology: {}).",
                rows.len(),
                started.elapsed().as_secs_f64(),
                path.display()
            ));
            rows
        }
        LabCommand::Status => lab::status(&lab)?,
        LabCommand::Stop { host } => vec![lab::stop(&lab, host)?],
        LabCommand::Start { host } => vec![lab::start(&lab, host)?],
        LabCommand::Down => {
            let (removed, network) = lab::down(&lab)?;
            match args.format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({ "removed_containers": removed, "removed_network": network })
                ),
                _ => ui::info(format_args!(
                    "Removed {} lab host(s){}.",
                    removed.len(),
                    if network { " and the lab network" } else { "" }
                )),
            }
            return Ok(ExitStatus::Success);
        }
    };
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        _ => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.host.clone(),
                        r.address.clone(),
                        r.roles.clone(),
                        r.state.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(&["HOST", "ADDRESS", "ROLES", "STATE"], &cells)
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// Writes the topology scaled to `web` web hosts into the lab's folder and returns its path.
fn scaled(base: &std::path::Path, web: usize, lab: &Lab) -> Result<std::path::PathBuf, Error> {
    let source = topology::read(base)?;
    let text = lab::scale::scale(&source, web).map_err(Error::Usage)?;
    let path = lab.state.dir.join(format!("topology-web{web}.yaml"));
    std::fs::write(&path, text).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// plan/apply will use the topology's SSH settings: say so when they do not point at the lab.
fn warn_if_not_lab_ssh(t: &topology::Topology, lab: &Lab) {
    let expand = |p: &str| crate::topology::expand_home(p);
    let key = t.ssh.identity_file.as_ref().map(|p| expand(&p.value));
    let known = t.ssh.known_hosts.as_ref().map(|p| expand(&p.value));
    if key.as_deref() != Some(lab.state.key_path().as_path())
        || known.as_deref() != Some(lab.state.known_hosts_path().as_path())
    {
        ui::warn(format_args!(
            "the topology's ssh.identity_file/known_hosts are not the lab's ({} and {}); plan and apply will not reach the lab with them",
            lab.state.key_path().display(),
            lab.state.known_hosts_path().display()
        ));
    }
}
