//! `lab`: one real Linux host per topology host on this machine — a systemd container with its
//! own address, hostname and sshd, bare of the web stack — so that `apply` provisions it like a
//! fresh cloud server. Traffic goes only to the hosts the lab creates.

pub mod ca;
pub mod engine;
pub mod hosts;
pub mod image;
pub mod network;
pub mod scale;
pub mod state;

use crate::topology::Topology;
use crate::ui::progress::Progress;
use engine::{Engine, EngineKind};
use hosts::{Outcome, Seen, Spec};
use state::State;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LabError {
    #[error("no container engine")]
    #[diagnostic(code(lab::no_engine), help("{hint}"))]
    NoEngine { hint: String },
    #[error("the container engine refused: {message}")]
    #[diagnostic(
        code(lab::not_permitted),
        help(
            "the lab runs privileged systemd containers: run it as root (sudo foobar-infra lab ...)"
        )
    )]
    NotPermitted { message: String },
    #[error("the lab network clashes with an existing network: {message}")]
    #[diagnostic(
        code(lab::subnet_clash),
        help(
            "give the lab hosts addresses in a free private /24 (see `podman network ls` and `ip route`), or remove the other network"
        )
    )]
    SubnetClash { message: String },
    #[error("`{command}` failed: {message}")]
    #[diagnostic(code(lab::engine))]
    Engine { command: String, message: String },
    #[error("{tool} is missing")]
    #[diagnostic(code(lab::missing_tool), help("{hint}"))]
    MissingTool { tool: String, hint: String },
    #[error("building the lab image failed: {0}")]
    #[diagnostic(
        code(lab::image),
        help(
            "the image is built from Debian's packages: check that the package mirror is reachable"
        )
    )]
    Image(String),
    #[error("lab state: {0}")]
    #[diagnostic(
        code(lab::state),
        help("the lab keeps its keys in its state folder (FOOBAR_INFRA_LAB_DIR)")
    )]
    State(String),
    #[error("host {host}: {message}")]
    #[diagnostic(
        code(lab::address),
        help("lab hosts need IPv4 addresses in one private /24, none ending in .0, .1 or .255")
    )]
    Address { host: String, message: String },
    #[error("the topology has no hosts for the lab")]
    #[diagnostic(code(lab::empty))]
    Empty,
    #[error("host {host} ({address}) did not answer SSH in time{}", if last.is_empty() { String::new() } else { format!(": {last}") })]
    #[diagnostic(
        code(lab::ssh_timeout),
        help("see the host's boot log: podman logs foobar-lab-{host}")
    )]
    SshTimeout {
        host: String,
        address: String,
        last: String,
    },
    #[error("host {host}: its container is `{state}`, which the lab leaves alone")]
    #[diagnostic(
        code(lab::host_state),
        help("run `foobar-infra lab stop {host}` then `lab start {host}`, or `lab down`")
    )]
    HostState { host: String, state: String },
    #[error("the lab has no host `{host}`")]
    #[diagnostic(code(lab::unknown_host), help("lab hosts: {known}"))]
    UnknownHost { host: String, known: String },
    #[error("the lab's hosts log in as `{expected}`, the topology says ssh.user `{found}`")]
    #[diagnostic(
        code(lab::user),
        help(
            "set `ssh: {{ user: {expected}, become: true }}` in the topology, as inventories/lab.yaml does"
        )
    )]
    WrongUser { expected: String, found: String },
    #[error("{count} of the lab's hosts failed to come up: {hosts}")]
    #[diagnostic(code(lab::hosts_failed), help("each host's error:\n{details}"))]
    HostsFailed {
        count: usize,
        hosts: String,
        details: String,
    },
}

/// What every lab command needs: the engine and the state folder.
pub struct Lab {
    pub engine: Engine,
    pub state: State,
}

impl Lab {
    pub fn open(asked: Option<EngineKind>, state_dir: Option<PathBuf>) -> Result<Lab, LabError> {
        let kind = Engine::detect(asked)?;
        let state = State::open(state_dir.unwrap_or_else(state::default_dir))?;
        let containers_conf = (kind == EngineKind::Podman).then(|| state.containers_conf());
        Ok(Lab {
            engine: Engine {
                kind,
                containers_conf,
            },
            state,
        })
    }

    fn find(&self, host: &str) -> Result<Seen, LabError> {
        find_in(&hosts::list(&self.engine)?, host)
    }

    fn spec_of(seen: &Seen) -> Result<Spec, LabError> {
        Ok(Spec {
            name: seen.host.clone(),
            address: seen.address.parse().map_err(|_| LabError::Address {
                host: seen.host.clone(),
                message: format!(
                    "the container's address label `{}` is not an address",
                    seen.address
                ),
            })?,
            roles: seen.roles.split(',').map(str::to_string).collect(),
        })
    }
}

/// The lab host `host` among `all`, or an error listing the hosts there are.
fn find_in(all: &[Seen], host: &str) -> Result<Seen, LabError> {
    let known = all
        .iter()
        .map(|s| s.host.clone())
        .collect::<Vec<_>>()
        .join(", ");
    all.iter()
        .find(|s| s.host == host)
        .cloned()
        .ok_or_else(|| LabError::UnknownHost {
            host: host.to_string(),
            known: if known.is_empty() {
                "none (run `foobar-infra lab up`)".into()
            } else {
                known
            },
        })
}

/// The specs of every lab host whose labels say where it is (for the hosts' `/etc/hosts`).
fn specs_of(all: &[Seen]) -> Vec<Spec> {
    all.iter()
        .filter(|s| !s.host.is_empty())
        .filter_map(|s| Lab::spec_of(s).ok())
        .collect()
}

/// One row of the lab's table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub host: String,
    pub address: String,
    pub roles: String,
    pub state: String,
}

fn specs(t: &Topology) -> Vec<Spec> {
    t.hosts
        .iter()
        .map(|h| Spec {
            name: h.name.value.clone(),
            address: h.address.value,
            roles: h.roles.iter().map(|r| r.value.name().to_string()).collect(),
        })
        .collect()
}

/// The names the site answers to: `web.server_names` and the domain.
pub fn site_names(t: &Topology) -> Vec<String> {
    let mut names: Vec<String> = t
        .web
        .iter()
        .flat_map(|w| w.server_names.iter().map(|n| n.value.clone()))
        .collect();
    let domain = t.domain.value.trim_end_matches('.').to_string();
    if !names.contains(&domain) {
        names.push(domain);
    }
    names
}

/// Starts every host of the topology (in parallel) and waits until each answers SSH.
pub fn up(
    lab: &Lab,
    t: &Topology,
    progress: &Progress,
    parallel: usize,
) -> Result<Vec<Row>, LabError> {
    if t.ssh.user.value != image::USER {
        return Err(LabError::WrongUser {
            expected: image::USER.into(),
            found: t.ssh.user.value.clone(),
        });
    }
    let specs = specs(t);
    let pairs: Vec<(String, std::net::IpAddr)> =
        specs.iter().map(|s| (s.name.clone(), s.address)).collect();
    let vips: Vec<std::net::IpAddr> = t
        .load_balancer
        .iter()
        .filter_map(|lb| lb.vip.as_ref().map(|v| v.address.value))
        .collect();
    let net = network::plan(&pairs, &vips)?;
    if image::ensure(&lab.engine, &|line| progress.update("image", line))? {
        progress.finish("image", &format!("built {}", image::reference()));
    }
    network::ensure(&lab.engine, &net, &vips)?;
    let existing = hosts::list(&lab.engine)?;
    let total = existing.len()
        + specs
            .iter()
            .filter(|s| !existing.iter().any(|e| e.host == s.name))
            .count();
    lab.state.ensure_inotify(total)?;
    // known_hosts covers this topology's hosts and any other lab host still there.
    let mut known: Vec<(String, String)> = specs
        .iter()
        .map(|s| (s.name.clone(), s.address.to_string()))
        .collect();
    for s in &existing {
        if !known.iter().any(|(n, _)| *n == s.host) && !s.host.is_empty() {
            known.push((s.host.clone(), s.address.clone()));
        }
    }
    lab.state.write_known_hosts(&known)?;
    // HTTPS the lab's clients can trust: the lab CA (made once) and a certificate for the site.
    if t.load_balancer.is_some() {
        let files = ca::LabTls::in_dir(&lab.state.dir);
        let names = site_names(t);
        if ca::ensure(&files, &names)? == ca::Issued::New {
            progress.finish(
                "tls",
                &format!(
                    "issued {} for {} (trust {})",
                    files.certificate.display(),
                    names.join(", "),
                    files.ca.display()
                ),
            );
        }
    }

    let queue: Mutex<VecDeque<&Spec>> = Mutex::new(specs.iter().collect());
    let results: Mutex<Vec<(String, Result<Outcome, LabError>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..parallel.clamp(1, specs.len().max(1)) {
            s.spawn(|| {
                loop {
                    // Take the next host and release the queue before working on it.
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some(spec) = next else { break };
                    let seen = existing.iter().find(|e| e.host == spec.name);
                    let say = |m: &str| progress.update(&spec.name, m);
                    let r = hosts::up(&lab.engine, &lab.state, spec, &specs, seen, &say);
                    match &r {
                        Ok(Outcome::AlreadyUp) => progress.finish(&spec.name, "up (unchanged)"),
                        Ok(Outcome::Started) => progress.finish(&spec.name, "up (started)"),
                        Ok(Outcome::Unpaused) => progress.finish(&spec.name, "up (unpaused)"),
                        Ok(Outcome::Created) => progress.finish(&spec.name, "up (created)"),
                        Err(e) => progress.finish(&spec.name, &format!("failed: {e}")),
                    }
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((spec.name.clone(), r));
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let failed: Vec<(String, LabError)> = results
        .into_iter()
        .filter_map(|(h, r)| r.err().map(|e| (h, e)))
        .collect();
    match failed.len() {
        0 => {}
        1 => {
            return Err(failed
                .into_iter()
                .next()
                .map(|(_, e)| e)
                .unwrap_or(LabError::Empty));
        }
        n => {
            return Err(LabError::HostsFailed {
                count: n,
                hosts: failed
                    .iter()
                    .map(|(h, _)| h.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                details: failed
                    .iter()
                    .map(|(h, e)| format!("{h}: {e}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
    }
    Ok(specs
        .iter()
        .map(|s| Row {
            host: s.name.clone(),
            address: s.address.to_string(),
            roles: s.roles.join(","),
            state: "up".into(),
        })
        .collect())
}

/// Every lab host with its state: `up` (running and answering SSH), `booting` (running, no SSH
/// yet), or the engine's word (`exited`, ...).
pub fn status(lab: &Lab) -> Result<Vec<Row>, LabError> {
    let seen = hosts::list(&lab.engine)?;
    let rows = std::thread::scope(|s| {
        let handles: Vec<_> = seen
            .iter()
            .map(|h| {
                s.spawn(move || {
                    let state = if h.state == "running" {
                        let spec = Lab::spec_of(h);
                        match spec.map(|sp| {
                            hosts::wait_ssh(&lab.state, &sp, std::time::Duration::from_secs(3))
                        }) {
                            Ok(Ok(())) => "up".to_string(),
                            _ => "booting".to_string(),
                        }
                    } else {
                        h.state.clone()
                    };
                    Row {
                        host: h.host.clone(),
                        address: h.address.clone(),
                        roles: h.roles.clone(),
                        state,
                    }
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    Ok(rows)
}

/// Hard-stops one host (a failure drill).
pub fn stop(lab: &Lab, host: &str) -> Result<Row, LabError> {
    let seen = lab.find(host)?;
    hosts::stop(&lab.engine, host)?;
    Ok(Row {
        host: seen.host,
        address: seen.address,
        roles: seen.roles,
        state: "exited".into(),
    })
}

/// Starts a stopped (or unpauses a paused) host again and waits until it answers SSH.
pub fn start(lab: &Lab, host: &str) -> Result<Row, LabError> {
    let listed = hosts::list(&lab.engine)?;
    let seen = find_in(&listed, host)?;
    let spec = Lab::spec_of(&seen)?;
    // Should the host have to be made again, it still knows every other lab host by name.
    let all = specs_of(&listed);
    hosts::up(&lab.engine, &lab.state, &spec, &all, Some(&seen), &|_| {})?;
    Ok(Row {
        host: seen.host,
        address: seen.address,
        roles: seen.roles,
        state: "up".into(),
    })
}

/// Removes every lab container and the lab network, and nothing else. Returns what it removed.
pub fn down(lab: &Lab) -> Result<(Vec<String>, bool), LabError> {
    let seen = hosts::list(&lab.engine)?;
    let names: Vec<String> = seen.iter().map(|s| s.container.clone()).collect();
    if !names.is_empty() {
        let mut args: Vec<String> = vec!["rm".into(), "-f".into()];
        if lab.engine.kind == EngineKind::Podman {
            args.extend(["-t".into(), "0".into()]);
        }
        args.extend(names.iter().cloned());
        lab.engine.check(&args, None)?;
    }
    let mut removed_network = false;
    if lab.engine.exists("network", network::NETWORK)? {
        let info = lab.engine.check(
            &["network".into(), "inspect".into(), network::NETWORK.into()],
            None,
        )?;
        // Only a network the lab made (it carries the lab's label) is removed.
        if info.contains(network::LABEL) {
            lab.engine.check(
                &["network".into(), "rm".into(), network::NETWORK.into()],
                None,
            )?;
            removed_network = true;
        }
    }
    // IP forwarding, which the engine's network turns on, is left as it is: other tools
    // (docker, libvirt) may need it.
    let others = lab.engine.run(&["ps".into(), "-q".into()], None)?;
    if others.ok && others.stdout.trim().is_empty() {
        lab.state.restore_sysctls();
    }
    Ok((names, removed_network))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(host: &str, address: &str, state: &str) -> Seen {
        Seen {
            host: host.into(),
            container: hosts::container_name(host),
            address: address.into(),
            roles: "web,app".into(),
            state: state.into(),
        }
    }

    #[test]
    fn a_started_host_knows_every_lab_host() {
        let listed = vec![
            seen("db-01", "10.89.7.30", "running"),
            seen("web-01", "10.89.7.21", "running"),
            seen("web-02", "10.89.7.22", "created"),
            // Not the lab's labels: left out rather than failing the start.
            seen("", "", "running"),
            seen("web-09", "nowhere", "running"),
        ];
        let web02 = find_in(&listed, "web-02").unwrap();
        assert_eq!(web02.state, "created");
        let all: Vec<(String, String)> = specs_of(&listed)
            .iter()
            .map(|s| (s.name.clone(), s.address.to_string()))
            .collect();
        assert_eq!(
            all,
            [
                ("db-01", "10.89.7.30"),
                ("web-01", "10.89.7.21"),
                ("web-02", "10.89.7.22")
            ]
            .map(|(n, a)| (n.to_string(), a.to_string()))
        );
        assert_eq!(specs_of(&listed)[0].roles, ["web", "app"]);
        let missing = find_in(&listed, "lb-01").unwrap_err();
        assert!(
            matches!(&missing, LabError::UnknownHost { known, .. } if known.contains("web-02")),
            "{missing:?}"
        );
    }
}
