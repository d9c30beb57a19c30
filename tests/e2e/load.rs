//! A bounded HTTP load through the lab's load balancer: a few clients, a fresh connection per
//! request, every answer counted. It stops by itself after `max_requests` or `max_time`,
//! whichever comes first, and only ever talks to the load balancer's address.

use crate::support::LB;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
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

fn one(addr: &SocketAddr, path: &str) -> Result<u16, String> {
    let mut s =
        TcpStream::connect_timeout(addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: www.foobar.com\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))
}

/// Starts `clients` clients requesting `path` until stopped, `max_requests` in all, or
/// `max_time`.
pub fn start(clients: usize, path: &'static str, max_requests: u64, max_time: Duration) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let budget = Arc::new(AtomicU64::new(max_requests));
    let started = Instant::now();
    let addr: SocketAddr = format!("{LB}:80").parse().unwrap();
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
                    match one(&addr, path) {
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
