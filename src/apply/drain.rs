//! Taking a server out of every load balancer that sends it traffic before its host changes,
//! and back in afterwards: drain (sessions finish), maint, change, ready, UP again. The run never
//! ends with a healthy server left out, whatever happened to the change.

use super::protocol::{Exit, Line};
use super::{Run, scripts};
use crate::desired::{HostState, LbMembership};
use crate::remote::Remote;
use std::sync::Arc;

/// Time beyond the checks' rise that a readied server may take to come UP.
const READY_MARGIN_SECONDS: u64 = 10;

/// A server this run took out of one load balancer.
pub(super) struct Out {
    lb: Arc<dyn Remote>,
    m: LbMembership,
    /// Its status before (`UP`, `DOWN 1/2`...): only a server that served is put back.
    was: String,
}

impl Out {
    /// Goes back into load balancing afterwards: everything but a server an operator had put in
    /// maintenance (a DOWN one too: its checks decide whether it takes traffic).
    fn served(&self) -> bool {
        !self.was.starts_with("MAINT")
    }
}

/// What a drain came to, for the host's report.
pub(super) struct Drained {
    pub out: Vec<Out>,
    pub done: Vec<String>,
}

/// Drains `desired`'s server on every load balancer of the run that has it, at most
/// `run.drain_timeout` each; each load balancer first arms a timer that puts the server back if
/// this run dies. A load balancer the run is not connected to cannot be drained: said in
/// `done`, not an error (its phase reports it). On an error, what was already taken out is in
/// the `Drained` returned with it, to be put back.
pub(super) async fn take_out(
    run: &Run<'_>,
    desired: &HostState,
) -> Result<Drained, (String, Drained)> {
    let mut drained = Drained {
        out: Vec::new(),
        done: Vec::new(),
    };
    let seconds = run.drain_timeout.as_secs().max(1);
    let after = run.confirm_timeout.as_secs() + LB_WATCHDOG_LAG_SECONDS;
    for m in &desired.memberships {
        let Some(lb) = run.remotes.get(&m.lb_host) else {
            drained.done.push(format!(
                "not drained on {}: not connected in this run",
                m.lb_host
            ));
            continue;
        };
        (run.on_event)(super::Event::Step {
            host: &desired.name,
            message: &format!("draining on {}", m.lb_host),
        });
        let script = scripts::drain(
            &m.admin_socket,
            &m.backend,
            &m.server,
            seconds,
            &ready_unit(m),
            after,
        );
        let back = ready_script(m).text();
        let result = lb.run(&script, back.as_bytes()).await;
        let (stdout, failure) = match result {
            Ok(o) if o.ok() => (o.stdout, None),
            Ok(o) => (o.stdout.clone(), Some(o.text())),
            Err(e) => (String::new(), Some(e.to_string())),
        };
        let mut was = None;
        let mut left = None;
        let mut left_by_a_run = false;
        let mut only = false;
        for line in stdout.lines() {
            match Line::parse(line) {
                Some(Line::Was { status }) => was = Some(status.to_string()),
                Some(Line::Left { sessions }) => left = Some(sessions.to_string()),
                Some(Line::LeftByARun) => left_by_a_run = true,
                Some(Line::Only) => only = true,
                _ => {}
            }
        }
        if only && failure.is_none() {
            drained.done.push(format!(
                "not drained on {}: {} is the only server of {} in service",
                m.lb_host, m.server, m.backend
            ));
            continue;
        }
        // Once its status was read, the server may have been taken out: it is put back.
        if let Some(was) = &was {
            drained.out.push(Out {
                lb: lb.clone(),
                m: m.clone(),
                was: was.clone(),
            });
        }
        if let Some(why) = failure {
            return Err((format!("draining on {}: {why}", m.lb_host), drained));
        }
        let Some(was) = was else {
            drained.done.push(format!(
                "{}: {} is not in service there yet, nothing to drain",
                m.lb_host, m.server
            ));
            continue;
        };
        if left_by_a_run {
            drained.done.push(format!(
                "{} had {} out since a run that did not finish: it goes back in after this change",
                m.lb_host, m.server
            ));
        }
        drained.done.push(match &left {
            Some(n) => format!(
                "drained on {} ({}/{}, was {was}; {n} session(s) still open after {seconds}s)",
                m.lb_host, m.backend, m.server
            ),
            None => format!(
                "drained on {} ({}/{}, was {was})",
                m.lb_host, m.backend, m.server
            ),
        });
    }
    Ok(drained)
}

/// How much later than a host's own watchdog its load balancer puts it back into service.
const LB_WATCHDOG_LAG_SECONDS: u64 = 30;

/// The transient unit on the load balancer that readies `m`'s server if the run never does.
fn ready_unit(m: &LbMembership) -> String {
    use sha2::{Digest, Sha256};
    let id = Sha256::digest(format!("{}/{}", m.backend, m.server));
    format!("foobar-infra-ready-{}", hex::encode(&id[..6]))
}

/// Readies `m`'s server and waits until HAProxy has it UP (its checks' rise time, with room).
fn ready_script(m: &LbMembership) -> crate::remote::Script {
    let seconds = m.rise_ms.div_ceil(1000) + READY_MARGIN_SECONDS;
    scripts::ready(&m.admin_socket, &m.backend, &m.server, seconds)
}

/// Puts back every server that served before it was drained and waits until HAProxy has it UP
/// (at most its health checks' time to rise, with room). Returns what was done and, if a server
/// did not come UP, why.
pub(super) async fn put_back(
    run: &Run<'_>,
    host: &str,
    out: &[Out],
) -> (Vec<String>, Option<String>) {
    let mut done = Vec::new();
    let mut failed = None;
    for o in out.iter().filter(|o| o.served()) {
        (run.on_event)(super::Event::Step {
            host,
            message: &format!("ready on {}", o.m.lb_host),
        });
        // Its checks' time to rise, and room for a slow first answer.
        let seconds = o.m.rise_ms.div_ceil(1000) + READY_MARGIN_SECONDS;
        let script = ready_script(&o.m);
        let result = o.lb.run(&script, b"").await;
        // Back in service (or the run reports why not): the load balancer's timer stands down.
        let _ =
            o.lb.run(&scripts::disarm(&ready_unit(&o.m), false), b"")
                .await;
        match result {
            Ok(r) if r.ok() => done.push(format!("ready on {}: UP", o.m.lb_host)),
            Ok(r) => {
                let now = r
                    .stdout
                    .lines()
                    .find_map(|l| match Line::parse(l) {
                        Some(Line::Now { status }) => Some(status.to_string()),
                        _ => None,
                    })
                    .unwrap_or_else(|| r.text());
                let why = if r.code == Some(Exit::Health.code()) {
                    format!(
                        "{} does not have {} UP again after {seconds}s: it is {now}",
                        o.m.lb_host, o.m.server
                    )
                } else {
                    format!("readying on {}: {now}", o.m.lb_host)
                };
                failed.get_or_insert(why);
            }
            Err(e) => {
                failed.get_or_insert(format!("readying on {}: {e}", o.m.lb_host));
            }
        }
    }
    for o in out.iter().filter(|o| !o.served()) {
        done.push(format!(
            "left out on {}: it was {} before this run",
            o.m.lb_host, o.was
        ));
    }
    (done, failed)
}
