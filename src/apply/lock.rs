//! The host lock a run holds from before it observes until it is done, so that two runs never
//! plan from what the other is changing. The lock records who holds it, for what and since when;
//! its holder renews it every few seconds, so a lock whose holder is gone (killed, cut off) is
//! told apart from a live one and reported with the command that breaks it.

use super::protocol::{Exit, Line};
use super::scripts;
use crate::desired::HostState;
use crate::remote::{Remote, RemoteError};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// How often a live run renews its locks.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);
/// A lock not renewed for this long has lost its holder.
pub const STALE_AFTER_SECONDS: u64 = 30;

/// This run's lock.
#[derive(Clone, Debug)]
pub struct Lock {
    /// What `force-unlock` names.
    pub id: String,
    /// `user@machine (foobar-infra pid N)`.
    pub who: String,
    /// What the run does (`apply of inventories/production.yaml`).
    pub what: String,
    /// Unix time.
    pub since: u64,
}

impl Lock {
    pub fn new(what: impl Into<String>) -> Lock {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let machine = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let who = format!("{user}@{machine} (foobar-infra pid {})", std::process::id());
        let id = hex::encode(&Sha256::digest(format!("{who} {}", now.as_nanos()))[..8]);
        Lock {
            id,
            who,
            what: what.into(),
            since: now.as_secs(),
        }
    }

    /// The record written on the host (one `key=value` a line; no value holds a newline).
    fn record(&self) -> String {
        let clean = |s: &str| s.replace(['\n', '\r'], " ");
        format!(
            "id={}\nwho={}\nwhat={}\nsince={}\n",
            self.id,
            clean(&self.who),
            clean(&self.what),
            self.since
        )
    }
}

/// Who holds a host's lock, as its record says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holder {
    pub id: String,
    pub who: String,
    pub what: String,
    pub since: Option<u64>,
    /// Seconds since the holder last renewed it.
    pub idle: u64,
}

impl Holder {
    /// Its holder stopped renewing it: the run is gone.
    pub fn stale(&self) -> bool {
        self.idle > STALE_AFTER_SECONDS
    }

    /// Reads what the lock script prints for a held lock. A record without keys (written by an
    /// earlier version, or by hand) is all `who`.
    fn parse(out: &str) -> Holder {
        let mut h = Holder::default();
        let mut lines = out.lines();
        for line in lines.by_ref() {
            if let Some(Line::Held { idle }) = Line::parse(line) {
                h.idle = idle.trim().parse().unwrap_or(0);
                break;
            }
        }
        let mut free = Vec::new();
        for line in lines {
            match line.split_once('=') {
                Some(("id", v)) => h.id = v.to_string(),
                Some(("who", v)) => h.who = v.to_string(),
                Some(("what", v)) => h.what = v.to_string(),
                Some(("since", v)) => h.since = v.parse().ok(),
                _ if !line.trim().is_empty() => free.push(line.trim()),
                _ => {}
            }
        }
        if h.who.is_empty() {
            h.who = if free.is_empty() {
                "unknown".into()
            } else {
                free.join(" ")
            };
        }
        h
    }
}

/// What taking a host's lock came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    Locked,
    Held(Holder),
    /// The lock could not be taken (the script failed): its output.
    Failed(String),
}

/// Takes `lock` on one host and clears what cut-off runs left there.
pub async fn take(
    remote: &dyn Remote,
    lock: &Lock,
    desired: &HostState,
) -> Result<Taken, RemoteError> {
    let root = desired.release.as_ref().map_or("", |r| r.root.as_str());
    let paths: Vec<&str> = desired.files.iter().map(|f| f.path.as_str()).collect();
    let out = remote
        .run(&scripts::lock(root, &paths), lock.record().as_bytes())
        .await?;
    Ok(if out.ok() {
        Taken::Locked
    } else if out.code == Some(Exit::LockHeld.code()) {
        Taken::Held(Holder::parse(&out.stdout))
    } else {
        Taken::Failed(out.text())
    })
}

/// Releases the lock `id` on one host; `true` when it was there (another lock is left alone).
pub async fn release(remote: &dyn Remote, id: &str) -> Result<bool, RemoteError> {
    let out = remote.run(&scripts::unlock(id), b"").await?;
    Ok(out.ok() && out.stdout.lines().any(|l| l == "unlocked"))
}

/// Renews the lock `id` on every host every [`RENEW_EVERY`], until dropped or aborted.
pub async fn keep_alive(remotes: Vec<Arc<dyn Remote>>, id: String) {
    let script = scripts::heartbeat(&id);
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        // Every host at once, each bounded: one host that hangs delays no other's renewal. A
        // missed renewal is made good by the next one; 30 s leave room for several.
        let renewals = remotes
            .iter()
            .map(|r| tokio::time::timeout(RENEW_EVERY, r.run(&script, b"")));
        futures_util::future::join_all(renewals).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_record_reads_back() {
        let lock = Lock::new("apply of lab.yaml");
        let out = format!("held\t42\n{}", lock.record());
        let h = Holder::parse(&out);
        assert_eq!(h.id, lock.id);
        assert_eq!(h.what, "apply of lab.yaml");
        assert_eq!(h.since, Some(lock.since));
        assert_eq!(h.idle, 42);
        assert!(h.stale());
        assert_eq!(lock.id.len(), 16);
    }

    #[test]
    fn a_record_without_keys_is_who_holds_it() {
        let h = Holder::parse("held\t3\nops@elsewhere (pid 42)\n");
        assert_eq!(h.who, "ops@elsewhere (pid 42)");
        assert!(!h.stale());
    }
}

#[cfg(test)]
mod take_tests {
    use super::*;
    use crate::remote::{Output, Running, Script};

    /// A host whose lock script answers `code` with `stdout`.
    struct Answer(i32, &'static str);

    impl Remote for Answer {
        fn host(&self) -> &str {
            "web-01"
        }
        fn run<'a>(&'a self, script: &'a Script, _stdin: &'a [u8]) -> Running<'a> {
            assert_eq!(script.name(), "lock");
            let out = Output {
                code: Some(self.0),
                stdout: self.1.into(),
                stderr: String::new(),
            };
            Box::pin(async move { Ok(out) })
        }
        fn reach_anew(&self) -> Running<'_> {
            unreachable!("taking a lock opens no connection")
        }
    }

    fn take_on(code: i32, stdout: &'static str) -> Taken {
        let desired = crate::desired::HostState {
            name: "web-01".into(),
            address: "10.0.0.1".into(),
            roles: Vec::new(),
            packages: Vec::new(),
            users: Vec::new(),
            files: Vec::new(),
            services: Vec::new(),
            release: None,
            database: None,
            health: Vec::new(),
            memberships: Vec::new(),
            firewall: None,
            vip: None,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(take(&Answer(code, stdout), &Lock::new("test"), &desired))
            .unwrap()
    }

    #[test]
    fn a_lock_is_taken_held_live_held_stale_or_failed() {
        assert_eq!(take_on(0, "locked\n"), Taken::Locked);
        let live = "held\t4\nid=00aa\nwho=ops@ci (foobar-infra pid 7)\nwhat=apply of x.yaml\n";
        match take_on(Exit::LockHeld.code(), live) {
            Taken::Held(h) => {
                assert_eq!(h.who, "ops@ci (foobar-infra pid 7)");
                assert!(!h.stale());
            }
            other => panic!("{other:?}"),
        }
        match take_on(Exit::LockHeld.code(), "held\t95\nid=00aa\nwho=ops@ci\n") {
            Taken::Held(h) => assert!(h.stale() && h.id == "00aa"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            take_on(1, "cannot create /var/lib/foobar-infra/lock"),
            Taken::Failed("cannot create /var/lib/foobar-infra/lock".into())
        );
    }
}
