//! Taking and releasing the run's lock on every host, and saying why a host could not be locked.

use crate::apply::lock::{self, Holder, Lock, Taken};
use crate::desired::HostState;
use crate::remote::{Remote, RemoteError};
use crate::transport::Connection;
use std::path::Path;
use std::sync::Arc;

/// The hosts a run locked, and why the others could not be.
pub struct Locked {
    pub remotes: Vec<Arc<dyn Remote>>,
    pub refused: Vec<String>,
}

fn ago(since: Option<u64>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match since {
        Some(s) if s <= now => format!(", taken {}s ago", now - s),
        _ => String::new(),
    }
}

/// Why `host`'s lock is not ours, with what to do.
pub fn refusal(host: &str, h: &Holder, inventory: &Path) -> String {
    let what = if h.what.is_empty() {
        String::new()
    } else {
        format!(" for {}", h.what)
    };
    if h.stale() {
        format!(
            "the lock on {host} was taken by {}{what}{} and has not been renewed for {}s: that run is gone (killed or cut off). If no apply is running, break the lock with `foobar-infra force-unlock -i {} {}`",
            h.who,
            ago(h.since),
            h.idle,
            inventory.display(),
            if h.id.is_empty() { "ID" } else { &h.id }
        )
    } else {
        format!(
            "another apply holds the lock on {host}: {}{what}{} (if that run is gone, it stops being renewed and the next run says how to break it)",
            h.who,
            ago(h.since)
        )
    }
}

/// Takes `lock` on every reachable host at once.
pub async fn take_all(
    hosts: &[&HostState],
    conns: &[Result<Arc<Connection>, RemoteError>],
    lock: &Lock,
    inventory: &Path,
) -> Locked {
    let attempts = hosts.iter().zip(conns).filter_map(|(h, c)| {
        let conn = c.as_ref().ok()?.clone();
        Some(async move {
            let taken = lock::take(conn.as_ref(), lock, h).await;
            (h.name.as_str(), conn, taken)
        })
    });
    let mut locked = Locked {
        remotes: Vec::new(),
        refused: Vec::new(),
    };
    for (host, conn, taken) in futures_util::future::join_all(attempts).await {
        match taken {
            Ok(Taken::Locked) => locked.remotes.push(conn),
            Ok(Taken::Held(h)) => locked.refused.push(refusal(host, &h, inventory)),
            Ok(Taken::Failed(why)) => locked
                .refused
                .push(format!("cannot take the lock on {host}: {why}")),
            Err(e) => locked
                .refused
                .push(format!("cannot take the lock on {host}: {e}")),
        }
    }
    locked
}

/// Releases this run's lock wherever it holds it.
pub async fn release_all(remotes: &[Arc<dyn Remote>], id: &str) {
    futures_util::future::join_all(remotes.iter().map(|r| lock::release(r.as_ref(), id))).await;
}

/// Runs `work` with `lock` held on every host of `conns`: takes it everywhere first (none of
/// `work` runs when a host refuses it, and the error names each refusal), renews it while `work`
/// runs, then releases it and closes the connections `work` hands back with its result.
pub fn run_locked<T>(
    rt: &tokio::runtime::Runtime,
    hosts: &[&HostState],
    conns: Vec<Result<Arc<Connection>, RemoteError>>,
    lock: Lock,
    inventory: &Path,
    work: impl FnOnce(
        Vec<Result<Arc<Connection>, RemoteError>>,
    ) -> (
        Result<T, crate::Error>,
        Vec<Result<crate::fleet::Live, RemoteError>>,
    ),
) -> Result<T, crate::Error> {
    let locked = rt.block_on(take_all(hosts, &conns, &lock, inventory));
    let keeper = rt.spawn(lock::keep_alive(locked.remotes.clone(), lock.id.clone()));
    let (result, live) = if locked.refused.is_empty() {
        work(conns)
    } else {
        // Nothing observed, nothing changed: the locks this run did take are released.
        (
            Err(crate::Error::Locked(locked.refused.join("\n"))),
            Vec::new(),
        )
    };
    rt.block_on(async {
        keeper.abort();
        release_all(&locked.remotes, &lock.id).await;
        drop(locked);
        crate::fleet::close(live).await;
    });
    result
}
