//! The load balancers' floating address (`load_balancer.vip`) and how keepalived moves it
//! (`load_balancer.failover`).

use super::decode::Sp;
use std::net::IpAddr;

/// The floating address the site is served on: held by one `lb` host at a time.
#[derive(Clone, Debug)]
pub struct Vip {
    pub address: Sp<IpAddr>,
    /// The prefix written after it (`ADDRESS/PREFIX`); none: keepalived adds it as a host
    /// address (/32, /128).
    pub prefix: Option<u8>,
}

impl Vip {
    /// The address as keepalived's `virtual_ipaddress` takes it.
    pub fn cidr(&self) -> String {
        let width = if self.address.value.is_ipv4() {
            32
        } else {
            128
        };
        format!("{}/{}", self.address.value, self.prefix.unwrap_or(width))
    }
}

/// How keepalived elects the host that holds the VIP.
#[derive(Clone, Debug)]
pub struct Failover {
    /// Host name -> VRRP priority (1..254), as written; hosts left out get the defaults.
    pub priorities: Vec<(Sp<String>, Sp<u32>)>,
    pub router_id: u8,
    pub interface: String,
    /// VRRPv3 advertisement interval.
    pub advert_ms: u64,
    /// Where `advert` was written (the section's span when it was not).
    pub advert_span: crate::diagnostic::Span,
    /// A returning host with a higher priority takes the VIP back.
    pub preempt: bool,
    /// Where the section was written (or `load_balancer`'s, when it was not).
    pub span: crate::diagnostic::Span,
    /// Whether the topology has the section.
    pub written: bool,
}

/// The priority of the first `lb` host when none is written; each next one is this minus 10.
pub const FIRST_PRIORITY: u32 = 150;

impl Failover {
    /// The section's defaults, located at `span`.
    pub fn defaults(span: crate::diagnostic::Span) -> Failover {
        Failover {
            priorities: Vec::new(),
            router_id: 51,
            interface: "eth0".into(),
            advert_ms: 500,
            advert_span: span,
            preempt: false,
            span,
            written: false,
        }
    }

    /// The priority of the `index`-th `lb` host (file order) named `host`: the written one, else
    /// 150, 140, 130... by position (at least 1).
    pub fn priority(&self, host: &str, index: usize) -> u32 {
        self.priorities
            .iter()
            .find(|(h, _)| h.value == host)
            .map_or_else(
                || FIRST_PRIORITY.saturating_sub(10 * index as u32).max(1),
                |(_, p)| p.value,
            )
    }
}
