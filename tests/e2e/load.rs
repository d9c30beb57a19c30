//! A bounded HTTPS load through the lab's load balancer: a few clients, a fresh connection (and
//! TLS handshake, trusting only the lab's CA) per request, every answer counted. It stops by
//! itself after `max_requests` or `max_time`, whichever comes first, and only ever talks to the
//! address it is given (a load balancer of the lab, or the lab's VIP).

use crate::support::{LB, curl_https_at};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Load {
    stop: Arc<AtomicBool>,
    started: Instant,
    clients: Vec<std::thread::JoinHandle<Tally>>,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub sent: u64,
    pub failed: u64,
    /// The first few failures: when (ms since the start) and what.
    pub failures: Vec<String>,
    pub seconds: f64,
}

/// One request with `curl` (a process of its own: a new connection each time): its status.
fn one(address: &str, path: &str) -> Result<u16, String> {
    let out = curl_https_at(address, path, 10)
        .args(["-o", "/dev/null", "-w", "%{http_code}"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "curl exit {}: {}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let code = String::from_utf8_lossy(&out.stdout).into_owned();
    code.trim()
        .parse()
        .map_err(|_| format!("no status: {code:?}"))
}

/// Starts `clients` clients requesting `path` until stopped, `max_requests` in all, or
/// `max_time`.
pub fn start(clients: usize, path: &'static str, max_requests: u64, max_time: Duration) -> Load {
    start_at(LB, clients, path, max_requests, max_time)
}

/// `start` against the site at `address` (a load balancer of the lab, or its VIP).
pub fn start_at(
    address: &'static str,
    clients: usize,
    path: &'static str,
    max_requests: u64,
    max_time: Duration,
) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let budget = Arc::new(AtomicU64::new(max_requests));
    let started = Instant::now();
    let clients = (0..clients)
        .map(|_| {
            let (stop, budget) = (stop.clone(), budget.clone());
            std::thread::spawn(move || {
                let mut t = Tally::default();
                while !stop.load(Ordering::SeqCst)
                    && started.elapsed() < max_time
                    && budget
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                        .is_ok()
                {
                    t.sent += 1;
                    let at = started.elapsed().as_millis();
                    match one(address, path) {
                        Ok(200) => {}
                        Ok(code) => {
                            t.failed += 1;
                            if t.failures.len() < 5 {
                                t.failures.push(format!("{at} ms: HTTP {code}"));
                            }
                        }
                        Err(e) => {
                            t.failed += 1;
                            if t.failures.len() < 5 {
                                t.failures.push(format!("{at} ms: {e}"));
                            }
                        }
                    }
                }
                t
            })
        })
        .collect();
    Load {
        stop,
        started,
        clients,
    }
}

impl Load {
    /// Stops the clients and adds up what they saw.
    pub fn stop(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Tally::default();
        for c in self.clients {
            let t = c.join().unwrap();
            all.sent += t.sent;
            all.failed += t.failed;
            all.failures.extend(t.failures);
        }
        all.seconds = self.started.elapsed().as_secs_f64();
        all
    }
}
