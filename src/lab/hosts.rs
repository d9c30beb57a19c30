//! One container per topology host: created from the base image, given its own sshd host key and
//! the lab's login key before its first boot, started, and waited for until it answers SSH.

use super::LabError;
use super::engine::{Engine, EngineKind};
use super::image::{USER, USER_ID};
use super::network::{LABEL, NETWORK};
use super::state::State;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A lab host as the topology describes it.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub address: IpAddr,
    pub roles: Vec<String>,
}

/// A lab container as the engine reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Seen {
    pub host: String,
    pub container: String,
    pub address: String,
    pub roles: String,
    /// The engine's word: running, exited, created...
    pub state: String,
}

pub fn container_name(host: &str) -> String {
    format!("foobar-lab-{host}")
}

/// Every container the lab made, whatever topology made it.
pub fn list(engine: &Engine) -> Result<Vec<Seen>, LabError> {
    let mut args: Vec<String> = ["ps", "-a", "--filter"].map(String::from).to_vec();
    args.push(format!("label={LABEL}=1"));
    args.extend(["--format".to_string(), "json".to_string()]);
    if engine.kind == EngineKind::Docker {
        args.pop();
        args.push("{{json .}}".into());
    }
    let out = engine.check(&args, None)?;
    let values: Vec<serde_json::Value> = match serde_json::from_str::<Vec<serde_json::Value>>(&out)
    {
        Ok(v) => v,
        // docker: one object per line
        Err(_) => out
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
    };
    let mut seen: Vec<Seen> = values.iter().map(parse_seen).collect();
    seen.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(seen)
}

fn parse_seen(v: &serde_json::Value) -> Seen {
    let label = |key: &str| -> String {
        match &v["Labels"] {
            serde_json::Value::Object(m) => m
                .get(key)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string(),
            // docker: "a=b,c=d"
            serde_json::Value::String(s) => s
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        }
    };
    let container = match &v["Names"] {
        serde_json::Value::Array(a) => a.first().and_then(|x| x.as_str()).unwrap_or("").to_string(),
        serde_json::Value::String(s) => s.clone(),
        _ => String::new(),
    };
    Seen {
        host: label("foobar.lab.host"),
        container,
        address: label("foobar.lab.address"),
        roles: label("foobar.lab.roles").replace(';', ","),
        state: v["State"].as_str().unwrap_or("unknown").to_lowercase(),
    }
}

/// The hard limit of open files this process may hand on (an engine may not raise it).
fn nofile_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(4).map(str::to_string))
        })
        .and_then(|hard| hard.parse::<u64>().ok())
        .unwrap_or(65536)
        .min(65536)
}

fn create_args(engine: &Engine, spec: &Spec, all: &[Spec], image: &str) -> Vec<String> {
    let nofile = nofile_limit();
    let mut a: Vec<String> = vec!["create".into(), "--name".into(), container_name(&spec.name)];
    a.extend(["--hostname".into(), spec.name.clone()]);
    a.push("--privileged".into());
    match engine.kind {
        EngineKind::Podman => {
            // runc: crun is not always installed, and fails on hybrid cgroups where it is.
            a.extend(["--pull=never", "--runtime", "runc", "--systemd=always"].map(String::from));
            a.extend(["--ulimit".into(), format!("nofile={nofile}:{nofile}")]);
            a.extend(["--ulimit".into(), "nproc=8192:8192".into()]);
        }
        EngineKind::Docker => {
            a.extend(
                ["--cgroupns=host", "--tmpfs", "/run", "--tmpfs", "/run/lock"].map(String::from),
            );
            a.extend(["-v".into(), "/sys/fs/cgroup:/sys/fs/cgroup:rw".into()]);
        }
    }
    a.extend([
        "--network".into(),
        NETWORK.into(),
        "--ip".into(),
        spec.address.to_string(),
    ]);
    // A fixed MAC: a restarted host keeps it, so this machine's ARP entry stays valid (a new MAC
    // per start left the old entry in place for ~30 s of timeouts).
    a.extend(["--mac-address".into(), mac_address(spec.address)]);
    for other in all {
        a.extend([
            "--add-host".into(),
            format!("{}:{}", other.name, other.address),
        ]);
    }
    for (k, v) in [
        (LABEL, "1".to_string()),
        ("foobar.lab.host", spec.name.clone()),
        ("foobar.lab.address", spec.address.to_string()),
        ("foobar.lab.roles", spec.roles.join(";")),
    ] {
        a.extend(["--label".into(), format!("{k}={v}")]);
    }
    a.push(image.to_string());
    a
}

/// A locally administered MAC address derived from the host's IPv4 address.
pub fn mac_address(address: IpAddr) -> String {
    let o = match address {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(v6) => {
            let x = v6.octets();
            [x[12], x[13], x[14], x[15]]
        }
    };
    format!("02:fb:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

/// A tar of the host's sshd key and the login user's authorized_keys, owners and modes set.
fn injection(state: &State, host: &str) -> Result<Vec<u8>, LabError> {
    let key = state.host_key(host)?;
    let public = state.public_key()?;
    let mut b = tar::Builder::new(Vec::new());
    let mut add =
        |path: &str, data: &[u8], mode: u32, uid: u32, dir: bool| -> std::io::Result<()> {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(if dir {
                tar::EntryType::Directory
            } else {
                tar::EntryType::Regular
            });
            h.set_size(data.len() as u64);
            h.set_mode(mode);
            h.set_uid(uid.into());
            h.set_gid(uid.into());
            h.set_mtime(0);
            b.append_data(&mut h, path, data)
        };
    let home = format!("home/{USER}/.ssh");
    let io = |e: std::io::Error| LabError::State(format!("cannot build the key bundle: {e}"));
    add(
        "etc/ssh/ssh_host_ed25519_key",
        &key.private,
        0o600,
        0,
        false,
    )
    .map_err(io)?;
    add(
        "etc/ssh/ssh_host_ed25519_key.pub",
        key.public.as_bytes(),
        0o644,
        0,
        false,
    )
    .map_err(io)?;
    add(&home, &[], 0o700, USER_ID, true).map_err(io)?;
    add(
        &format!("{home}/authorized_keys"),
        public.as_bytes(),
        0o600,
        USER_ID,
        false,
    )
    .map_err(io)?;
    b.into_inner().map_err(io)
}

/// What `up` did to one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    AlreadyUp,
    Started,
    Unpaused,
    Created,
}

/// What `up` does with a host's container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// No container yet: create it.
    Create,
    /// Running: only wait for SSH.
    Wait,
    /// Stopped: start it again, keeping what `apply` installed.
    Start,
    /// Paused: unpause it, keeping what `apply` installed.
    Unpause,
    /// Made but never started (a failed start): nothing in it to keep, so make it again.
    Recreate,
    /// Any other state (stopping, restarting, removing, dead...): touch nothing, say the fix.
    Refuse,
}

/// The step for an existing container in the engine's `state` (podman's or docker's word).
pub fn next_step(state: &str) -> Step {
    match state {
        "running" => Step::Wait,
        "exited" | "stopped" => Step::Start,
        "paused" => Step::Unpause,
        "created" | "configured" | "initialized" => Step::Recreate,
        _ => Step::Refuse,
    }
}

/// Brings one host up: create (or start, or unpause), inject keys, start, wait for SSH. `all` is
/// every lab host, for the new container's `/etc/hosts`.
pub fn up(
    engine: &Engine,
    state: &State,
    spec: &Spec,
    all: &[Spec],
    seen: Option<&Seen>,
    say: &dyn Fn(&str),
) -> Result<Outcome, LabError> {
    let name = container_name(&spec.name);
    let step = match seen {
        Some(s) if s.address != spec.address.to_string() => {
            return Err(LabError::Address {
                host: spec.name.clone(),
                message: format!(
                    "the lab already has {} at {}, the topology says {}; run `foobar-infra lab down` first",
                    spec.name, s.address, spec.address
                ),
            });
        }
        Some(s) => next_step(&s.state),
        None => Step::Create,
    };
    let outcome = match step {
        Step::Wait => {
            say("already running; checking SSH");
            Outcome::AlreadyUp
        }
        Step::Start => {
            say("starting");
            engine.check(&["start".into(), name.clone()], None)?;
            Outcome::Started
        }
        Step::Unpause => {
            say("unpausing");
            engine.check(&["unpause".into(), name.clone()], None)?;
            Outcome::Unpaused
        }
        Step::Refuse => {
            return Err(LabError::HostState {
                host: spec.name.clone(),
                state: seen.map(|s| s.state.clone()).unwrap_or_default(),
            });
        }
        Step::Create | Step::Recreate => {
            if step == Step::Recreate {
                // A container left half-made by a failed start: make it again.
                engine.check(&["rm".into(), "-f".into(), name.clone()], None)?;
            }
            say("creating");
            engine.check(
                &create_args(engine, spec, all, &super::image::reference()),
                None,
            )?;
            let bundle = injection(state, &spec.name)?;
            let mut cp: Vec<String> = vec!["cp".into()];
            cp.push(match engine.kind {
                EngineKind::Podman => "--archive=false".into(),
                EngineKind::Docker => "-a".into(),
            });
            cp.extend(["-".into(), format!("{name}:/")]);
            engine.check(&cp, Some(&bundle))?;
            say("booting");
            let start = engine.run(&["start".into(), name.clone()], None)?;
            if !start.ok {
                // Leave nothing half-made behind.
                let _ = engine.run(&["rm".into(), "-f".into(), name.clone()], None);
                return Err(engine.classify(&["start".into(), name], &start.stderr));
            }
            Outcome::Created
        }
    };
    say("waiting for SSH");
    wait_ssh(state, spec, Duration::from_secs(120))?;
    Ok(outcome)
}

/// Polls SSH as the lab user (with `sudo -n`, as `apply` will) until it answers or time runs out.
pub fn wait_ssh(state: &State, spec: &Spec, limit: Duration) -> Result<(), LabError> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < limit {
        let out = Command::new("ssh")
            .args(state.ssh_options())
            .arg(format!("{USER}@{}", spec.address))
            .args(["sudo", "-n", "true"])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => return Ok(()),
            Ok(o) => last = String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => {
                return Err(LabError::MissingTool {
                    tool: "ssh".into(),
                    hint: format!("cannot run ssh ({e}): apt-get install openssh-client"),
                });
            }
        }
        if last.contains("Host key verification failed") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(LabError::SshTimeout {
        host: spec.name.clone(),
        address: spec.address.to_string(),
        last,
    })
}

pub fn stop(engine: &Engine, host: &str) -> Result<(), LabError> {
    engine.check(
        &["stop".into(), "-t".into(), "5".into(), container_name(host)],
        None,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_listings_parse() {
        let podman = serde_json::json!({"Names": ["foobar-lab-web-01"], "State": "running",
            "Labels": {"foobar.lab": "1", "foobar.lab.host": "web-01", "foobar.lab.address": "10.89.7.21", "foobar.lab.roles": "web;app"}});
        let s = parse_seen(&podman);
        assert_eq!(
            (
                s.host.as_str(),
                s.address.as_str(),
                s.roles.as_str(),
                s.state.as_str()
            ),
            ("web-01", "10.89.7.21", "web,app", "running")
        );
        let docker = serde_json::json!({"Names": "foobar-lab-db-01", "State": "exited",
            "Labels": "foobar.lab=1,foobar.lab.host=db-01,foobar.lab.address=10.89.7.30,foobar.lab.roles=db"});
        let s = parse_seen(&docker);
        assert_eq!(
            (s.host.as_str(), s.state.as_str(), s.container.as_str()),
            ("db-01", "exited", "foobar-lab-db-01")
        );
    }

    #[test]
    fn only_a_never_started_container_is_made_again() {
        // Running, stopped or paused hosts keep what `apply` installed.
        assert_eq!(next_step("running"), Step::Wait);
        for stopped in ["exited", "stopped"] {
            assert_eq!(next_step(stopped), Step::Start, "{stopped}");
        }
        assert_eq!(next_step("paused"), Step::Unpause);
        // Made but never started: nothing to lose.
        for never in ["created", "configured", "initialized"] {
            assert_eq!(next_step(never), Step::Recreate, "{never}");
        }
        // In passing or broken (podman's and docker's words): touched by no one but the user.
        for other in ["stopping", "restarting", "removing", "dead", "unknown", ""] {
            assert_eq!(next_step(other), Step::Refuse, "{other}");
        }
    }

    #[test]
    fn podman_create_pins_address_runtime_and_limits() {
        let engine = Engine {
            kind: EngineKind::Podman,
            containers_conf: None,
        };
        let spec = Spec {
            name: "web-01".into(),
            address: "10.89.7.21".parse().unwrap(),
            roles: vec!["web".into(), "app".into()],
        };
        let args = create_args(&engine, &spec, std::slice::from_ref(&spec), "img").join(" ");
        for part in [
            "--ip 10.89.7.21",
            "--runtime runc",
            "--systemd=always",
            "--pull=never",
            "--ulimit nproc=8192:8192",
            "--add-host web-01:10.89.7.21",
            "--label foobar.lab.roles=web;app",
            "--mac-address 02:fb:0a:59:07:15",
        ] {
            assert!(args.contains(part), "{part} in {args}");
        }
        assert!(args.ends_with(" img"));
    }
}
