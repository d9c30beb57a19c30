//! Remote hosts over SSH: one multiplexed master connection per host (the `openssh` crate drives
//! the real `ssh`, so ~/.ssh/config, the agent and jump hosts work), reused for every command of
//! a run. A [`Connection`] is a [`Remote`]: the script and its data travel on stdin, never in
//! argv.

pub mod jump;

use crate::remote::script::BOOT;
use crate::remote::{Output, Remote, RemoteError, Running, Script};
use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

/// Commands at once on one connection: below sshd's default MaxSessions (10).
const SESSIONS_PER_HOST: usize = 8;
/// Delays between connection attempts: simultaneous connects to dozens of hosts fail now and then.
const BACKOFF_MS: [u64; 4] = [200, 500, 1000, 2000];

/// How to reach one host.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub address: String,
    pub user: String,
    pub port: u16,
    pub identity_file: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub jump: Option<crate::topology::JumpHost>,
    /// Run scripts through `sudo -n`.
    pub become_: bool,
}

/// An open master connection to one host.
pub struct Connection {
    pub target: Target,
    session: Session,
    slots: Semaphore,
}

fn builder(
    t: &Target,
    control_dir: &std::path::Path,
    config: Option<&std::path::Path>,
) -> SessionBuilder {
    let mut b = SessionBuilder::default();
    b.user(t.user.clone())
        .port(t.port)
        .known_hosts_check(KnownHosts::Strict)
        .connect_timeout(Duration::from_secs(10))
        .server_alive_interval(Duration::from_secs(15))
        .control_directory(control_dir);
    if let Some(k) = &t.identity_file {
        b.keyfile(k);
    }
    if let Some(k) = &t.known_hosts {
        b.user_known_hosts_file(k);
    }
    if let Some(c) = config {
        b.config_file(c);
    }
    b
}

fn error_text(e: &openssh::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts
        .join(": ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Connects to `target`, retrying transient failures with backoff. Host key and login problems
/// fail at once: retrying cannot fix them.
pub async fn connect(target: &Target) -> Result<Connection, RemoteError> {
    connect_with(target, &BACKOFF_MS).await
}

/// Connects to `target` once, without retrying: for a host that may well be down and whose
/// answer is waited for (the old primary `promote` fences).
pub async fn connect_once(target: &Target) -> Result<Connection, RemoteError> {
    connect_with(target, &[]).await
}

/// Connects to `target`, retrying transient failures after each of `backoff_ms`.
async fn connect_with(target: &Target, backoff_ms: &[u64]) -> Result<Connection, RemoteError> {
    let control_dir = std::env::temp_dir();
    // Read by ssh when the master starts; removed when this returns.
    let config = jump::config_file(target).map_err(|e| RemoteError::Remote {
        host: target.host.clone(),
        detail: format!("cannot write the ssh configuration for the jump host: {e}"),
    })?;
    let config_path = config.as_ref().map(|c| c.config());
    let mut detail = String::new();
    for attempt in 0..=backoff_ms.len() {
        match builder(target, &control_dir, config_path.as_deref())
            .connect_mux(&target.address)
            .await
        {
            Ok(session) => {
                return Ok(Connection {
                    target: target.clone(),
                    session,
                    slots: Semaphore::new(SESSIONS_PER_HOST),
                });
            }
            Err(e) => {
                detail = error_text(&e);
                if let Some(hop) = config.as_ref().map(|c| c.hop_log())
                    && !hop.trim().is_empty()
                {
                    detail = format!(
                        "{detail} (jump host: {})",
                        hop.split_whitespace().collect::<Vec<_>>().join(" ")
                    );
                }
                if detail.contains("Host key verification failed")
                    || detail.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
                    || detail.contains("No ED25519 host key is known")
                    || detail.contains("host key is known")
                {
                    if let Some(j) = &target.jump {
                        detail.push_str(&format!(
                            " (the connection goes through the jump host {j}, whose key is checked against the same known_hosts)"
                        ));
                    }
                    return Err(RemoteError::HostKey {
                        host: target.host.clone(),
                        address: target.address.clone(),
                        known_hosts: target.known_hosts.as_ref().map_or_else(
                            || "~/.ssh/known_hosts".into(),
                            |p| p.display().to_string(),
                        ),
                        detail,
                    });
                }
                if detail.contains("Permission denied") {
                    return Err(RemoteError::Auth {
                        host: target.host.clone(),
                        address: target.address.clone(),
                        user: target.user.clone(),
                        detail,
                    });
                }
                if let Some(ms) = backoff_ms.get(attempt) {
                    tokio::time::sleep(Duration::from_millis(*ms)).await;
                }
            }
        }
    }
    Err(RemoteError::Unreachable {
        host: target.host.clone(),
        address: target.address.clone(),
        port: target.port,
        attempts: backoff_ms.len() + 1,
        detail,
    })
}

impl Connection {
    async fn exec(&self, script: &Script, stdin: &[u8]) -> Result<Output, RemoteError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| RemoteError::Remote {
                host: self.target.host.clone(),
                detail: e.to_string(),
            })?;
        let mut cmd = if self.target.become_ {
            let mut c = self.session.command("sudo");
            c.args(["-n", "--", "sh", "-c", BOOT]);
            c
        } else {
            let mut c = self.session.command("sh");
            c.args(["-c", BOOT]);
            c
        };
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let remote = |e: openssh::Error| RemoteError::Remote {
            host: self.target.host.clone(),
            detail: error_text(&e),
        };
        let mut child = cmd.spawn().await.map_err(remote)?;
        let pipe = child.stdin().take();
        let head = script.wire();
        let feed = async move {
            if let Some(mut p) = pipe {
                // The script may exit before reading everything; its exit code says why.
                if p.write_all(&head).await.is_ok() {
                    let _ = p.write_all(stdin).await;
                }
                let _ = p.shutdown().await;
            }
        };
        let (_, out) = tokio::join!(feed, child.wait_with_output());
        let out = out.map_err(remote)?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if self.target.become_
            && out.status.code() == Some(1)
            && stderr.contains("sudo: a password is required")
        {
            return Err(RemoteError::Become {
                host: self.target.host.clone(),
                user: self.target.user.clone(),
            });
        }
        Ok(Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        })
    }

    pub async fn close(self) {
        let _ = self.session.close().await;
    }

    /// A new master connection, `true` run on it, and closed. One attempt: a firewall that
    /// refuses it answers at once, one that drops it costs the connect timeout (10 s), well
    /// within the host's watchdog (which a retry could outlast, and then see its work).
    async fn anew(&self) -> Result<Output, RemoteError> {
        let fresh = connect_with(&self.target, &[]).await?;
        let out = fresh.exec(&Script::new("reconnect", "true"), b"").await;
        fresh.close().await;
        out
    }
}

impl Remote for Connection {
    fn host(&self) -> &str {
        &self.target.host
    }

    fn run<'a>(&'a self, script: &'a Script, stdin: &'a [u8]) -> Running<'a> {
        Box::pin(self.exec(script, stdin))
    }

    fn reach_anew(&self) -> Running<'_> {
        Box::pin(self.anew())
    }
}

/// Connects to every target at once (at most `forks` connecting at a time). Each host gets its
/// own result: one unreachable host does not hide the others.
pub async fn connect_all(
    targets: &[Target],
    forks: usize,
) -> Vec<Result<Arc<Connection>, RemoteError>> {
    let gate = Arc::new(Semaphore::new(forks.max(1)));
    let tasks: Vec<_> = targets
        .iter()
        .cloned()
        .map(|t| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                connect(&t).await.map(Arc::new)
            })
        })
        .collect();
    join_per_host(tasks, targets.iter().map(|t| t.host.as_str())).await
}

/// Closes connections no one else holds any more (the others close when dropped).
pub async fn close_all(conns: impl IntoIterator<Item = Arc<Connection>>) {
    for c in conns {
        if let Ok(conn) = Arc::try_unwrap(c) {
            conn.close().await;
        }
    }
}

/// Awaits one task per host, in order; a task that panicked becomes that host's error.
pub async fn join_per_host<'a, T>(
    tasks: Vec<tokio::task::JoinHandle<Result<T, RemoteError>>>,
    hosts: impl Iterator<Item = &'a str>,
) -> Vec<Result<T, RemoteError>> {
    let mut out = Vec::with_capacity(tasks.len());
    for (task, host) in tasks.into_iter().zip(hosts) {
        out.push(task.await.unwrap_or_else(|e| {
            Err(RemoteError::Remote {
                host: host.to_string(),
                detail: e.to_string(),
            })
        }));
    }
    out
}
