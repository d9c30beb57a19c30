//! Semantic rules over a decoded topology: references, roles, addresses, ports, DNS, secrets.
//! Every rule runs; each finding points at the exact value it is about.
//!
//! `check` runs the rules in order; each group of rules sits in the file named after what it
//! looks at.

mod app;
mod context;
mod database;
mod dns;
mod failover;
mod firewall;
mod load_balancer;
mod names;
mod network;
mod tls;

pub use context::Context;
pub use firewall::SSH_FROM_EVERYWHERE;
pub use load_balancer::resolve_servers;
pub use tls::EXPIRY_WARNING_DAYS;

use super::model::Topology;
use crate::diagnostic::Problem;
use app::app;
use database::database;
use dns::dns;
use failover::failover;
use firewall::firewall;
use load_balancer::load_balancer;
use names::names;
use network::{hosts, ports};
use tls::tls;

pub fn check(t: &Topology, ctx: &Context) -> Vec<Problem> {
    let mut out = Vec::new();
    hosts(t, &mut out);
    load_balancer(t, &mut out);
    failover(t, &mut out);
    ports(t, &mut out);
    database(t, ctx, &mut out);
    dns(t, &mut out);
    if let Some(k) = t.dns.as_ref().and_then(|d| d.key.as_ref()) {
        database::secret(ctx, &k.secret, "the TSIG key's secret", &mut out);
    }
    app(t, ctx, &mut out);
    tls(t, ctx, &mut out);
    firewall(t, &mut out);
    names(t, &mut out);
    out
}
