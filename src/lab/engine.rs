//! The container engine (podman, or docker where it is installed instead): one place that runs
//! it and turns its failures into errors that say what to do.

use super::LabError;
use std::io::Write;
use std::process::{Command, Output, Stdio};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    Podman,
    Docker,
}

impl EngineKind {
    pub fn program(self) -> &'static str {
        match self {
            EngineKind::Podman => "podman",
            EngineKind::Docker => "docker",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Engine {
    pub kind: EngineKind,
    /// A lab-private podman configuration (no copy of the machine's /etc/hosts in the hosts).
    pub containers_conf: Option<std::path::PathBuf>,
}

/// What a finished engine command said.
pub struct Said {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Engine {
    /// The engine to use: the one asked for, else podman, else docker.
    pub fn detect(asked: Option<EngineKind>) -> Result<EngineKind, LabError> {
        let found = |k: EngineKind| crate::check_configs::which(k.program()).is_some();
        match asked {
            Some(k) if found(k) => Ok(k),
            Some(k) => Err(LabError::NoEngine {
                hint: format!(
                    "{} is not installed: apt-get install {}",
                    k.program(),
                    install_list(k)
                ),
            }),
            None if found(EngineKind::Podman) => Ok(EngineKind::Podman),
            None if found(EngineKind::Docker) => Ok(EngineKind::Docker),
            None => Err(LabError::NoEngine {
                hint: format!("apt-get install {}", install_list(EngineKind::Podman)),
            }),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(self.kind.program());
        if let Some(conf) = &self.containers_conf {
            c.env("CONTAINERS_CONF", conf);
        }
        c
    }

    /// Runs the engine with `args`, feeding `stdin` if given.
    pub fn run(&self, args: &[String], stdin: Option<&[u8]>) -> Result<Said, LabError> {
        let mut cmd = self.command();
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|e| LabError::NoEngine {
            hint: format!("cannot run {}: {e}", self.kind.program()),
        })?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A closed pipe shows up as the command's own failure below.
            let _ = pipe.write_all(data);
        }
        let out: Output = child.wait_with_output().map_err(|e| LabError::Engine {
            command: self.describe(args),
            message: e.to_string(),
        })?;
        Ok(Said {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            // conmon prints this on every start where the machine has no syslog; it means nothing.
            stderr: String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| !l.contains("failed to connect to syslog"))
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }

    /// Runs the engine and fails with its message (classified) when it fails.
    pub fn check(&self, args: &[String], stdin: Option<&[u8]>) -> Result<String, LabError> {
        let said = self.run(args, stdin)?;
        if said.ok {
            Ok(said.stdout)
        } else {
            Err(self.classify(args, &said.stderr))
        }
    }

    /// `engine <what> exists NAME` as a yes/no.
    pub fn exists(&self, what: &str, name: &str) -> Result<bool, LabError> {
        let args = match self.kind {
            EngineKind::Podman => vec![what.to_string(), "exists".into(), name.to_string()],
            EngineKind::Docker => vec![what.to_string(), "inspect".into(), name.to_string()],
        };
        let said = self.run(&args, None)?;
        if !said.ok && is_permission(&said.stderr) {
            return Err(self.classify(&args, &said.stderr));
        }
        if !said.ok && said.stderr.contains("Cannot connect to the Docker daemon") {
            return Err(self.classify(&args, &said.stderr));
        }
        Ok(said.ok)
    }

    pub fn describe(&self, args: &[String]) -> String {
        format!("{} {}", self.kind.program(), args.join(" "))
    }

    /// Turns an engine failure into an error with a fix.
    pub fn classify(&self, args: &[String], stderr: &str) -> LabError {
        let message = stderr.trim().to_string();
        if message.contains("is already used on the host or by another config") {
            return LabError::SubnetClash { message };
        }
        if message.contains("Cannot connect to the Docker daemon") {
            return LabError::NoEngine {
                hint: "docker is installed but its daemon is not running: start it, or install podman (apt-get install podman runc) and use --engine podman".into(),
            };
        }
        if is_permission(&message) {
            return LabError::NotPermitted { message };
        }
        LabError::Engine {
            command: self.describe(args),
            message,
        }
    }
}

fn is_permission(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    (s.contains("permission denied")
        || s.contains("operation not permitted")
        || s.contains("rootless"))
        && !s.contains("rlimit")
}

fn install_list(k: EngineKind) -> &'static str {
    match k {
        EngineKind::Podman => "podman runc mmdebstrap",
        EngineKind::Docker => "docker.io mmdebstrap",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn podman() -> Engine {
        Engine {
            kind: EngineKind::Podman,
            containers_conf: None,
        }
    }

    // The messages below are what podman 4.3 and the docker client printed on this machine kind.
    #[test]
    fn engine_failures_become_errors_with_a_fix() {
        let args = vec!["network".to_string(), "create".to_string()];
        let clash = podman().classify(
            &args,
            "Error: subnet 10.89.7.0/24 is already used on the host or by another config",
        );
        assert!(matches!(clash, LabError::SubnetClash { .. }), "{clash:?}");
        let no_daemon = Engine {
            kind: EngineKind::Docker,
            containers_conf: None,
        }
        .classify(&args, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
        assert!(
            matches!(no_daemon, LabError::NoEngine { .. }),
            "{no_daemon:?}"
        );
        let denied = podman().classify(&args, "Error: mkdir /run/containers: permission denied");
        assert!(
            matches!(denied, LabError::NotPermitted { .. }),
            "{denied:?}"
        );
        // An rlimit failure is not a permission problem of the user: it stays the engine's message.
        let rlimit = podman().classify(&args, "Error: runc: runc create failed: error setting rlimit type 7: operation not permitted: OCI permission denied");
        assert!(matches!(rlimit, LabError::Engine { .. }), "{rlimit:?}");
    }
}
