//! The seam between what to run on a host and how it gets there. A [`Remote`] runs one
//! [`Script`] with data on stdin and returns what it printed: the SSH connection implements it
//! for real hosts, and tests implement it in memory to drive the orchestration without a lab.
//! Everything that talks to hosts (observe, apply, later verify and rolling changes) goes
//! through this trait only.

pub mod layout;
pub mod quote;
pub mod script;

pub use script::Script;

use std::future::Future;
use std::pin::Pin;

/// What a remote script printed and how it ended.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output and error together, trimmed: what a failed step reports.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr).trim().to_string()
    }
}

/// A future a [`Remote`] returns: boxed, so that `dyn Remote` works.
pub type Running<'a> = Pin<Box<dyn Future<Output = Result<Output, RemoteError>> + Send + 'a>>;

/// One host that runs scripts.
pub trait Remote: Send + Sync {
    /// The host's name, for messages.
    fn host(&self) -> &str;

    /// Runs `script` (code only, with its arguments) feeding `stdin` (data and secrets). A
    /// script that ran and failed is `Ok` with its exit code; `Err` means it could not run.
    fn run<'a>(&'a self, script: &'a Script, stdin: &'a [u8]) -> Running<'a>;

    /// Opens a connection of its own to the host (not the one `run` uses, which a firewall keeps
    /// admitting as an established session), runs nothing but `true` on it, and closes it: what
    /// proves the host still admits a new SSH connection from here.
    fn reach_anew(&self) -> Running<'_>;
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RemoteError {
    #[error("host {host} ({address}): its SSH host key is unknown or has changed")]
    #[diagnostic(
        code(ssh::host_key),
        help(
            "check the key out of band and add it to the known_hosts file the topology names ({known_hosts}); keys are never accepted blindly.\nssh said: {detail}"
        )
    )]
    HostKey {
        host: String,
        address: String,
        known_hosts: String,
        detail: String,
    },
    #[error("host {host} ({address}): SSH login as {user} was refused")]
    #[diagnostic(
        code(ssh::auth),
        help("check ssh.user and ssh.identity_file (or the agent).\nssh said: {detail}")
    )]
    Auth {
        host: String,
        address: String,
        user: String,
        detail: String,
    },
    #[error("host {host} ({address}) is unreachable after {attempts} attempts")]
    #[diagnostic(
        code(ssh::unreachable),
        help("is the host up and sshd listening on port {port}? ssh said: {detail}")
    )]
    Unreachable {
        host: String,
        address: String,
        port: u16,
        attempts: usize,
        detail: String,
    },
    #[error("host {host}: sudo needs a password")]
    #[diagnostic(
        code(ssh::sudo),
        help(
            "`become: true` runs `sudo -n`: give {user} passwordless sudo, or connect as root with become: false"
        )
    )]
    Become { host: String, user: String },
    #[error("host {host}: {what} failed: {detail}")]
    #[diagnostic(
        code(ssh::script),
        help("the host answered but the command failed; its output is above")
    )]
    Script {
        host: String,
        what: String,
        detail: String,
    },
    #[error("host {host}: the connection failed while running a command: {detail}")]
    #[diagnostic(code(ssh::remote))]
    Remote { host: String, detail: String },
}
