//! What each host's firewall admits, from the topology: SSH from `firewall.admin`, the load
//! balancer's ports from everywhere, Nginx only from the load balancers, the database only from
//! the hosts its user may connect from, DNS from everywhere. The application server is only
//! reached over loopback (Nginx on the same host), which the firewall always admits.

use crate::firewall::{Admit, HostFirewall, Proto};
use crate::net::Network;
use crate::topology::{AdminSource, Host, Role, Topology};

/// The networks of these hosts' addresses, each once, in order.
fn addresses<'a>(hosts: impl IntoIterator<Item = &'a Host>) -> Vec<Network> {
    let mut out: Vec<Network> = hosts
        .into_iter()
        .map(|h| Network::host(h.address.value))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where SSH is admitted from: `firewall.admin` with host names resolved; `None` for everywhere.
fn admin(t: &Topology) -> Option<Vec<Network>> {
    let admin = t.firewall.admin.as_ref()?;
    let mut out: Vec<Network> = admin
        .iter()
        .filter_map(|a| match &a.value {
            AdminSource::Network(n) => Some(*n),
            AdminSource::Host(name) => t.host(name).map(|h| Network::host(h.address.value)),
        })
        .collect();
    if out.iter().any(Network::is_everything) {
        return None;
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The firewall of `h`, when the topology has one.
pub fn host_firewall(t: &Topology, h: &Host) -> Option<HostFirewall> {
    if !t.firewall.enabled {
        return None;
    }
    let mut rules: Vec<Admit> = Vec::new();
    let mut admit = |proto, port, from: Option<Vec<Network>>, purpose: String, ssh| {
        // One rule per port: the widest wins (a port from everywhere needs nothing more).
        if let Some(r) = rules
            .iter_mut()
            .find(|r| r.proto == proto && r.port == port)
        {
            match (&mut r.from, from) {
                (Some(have), Some(more)) => {
                    have.extend(more);
                    have.sort();
                    have.dedup();
                }
                (f, None) => *f = None,
                (None, Some(_)) => {}
            }
            r.purpose = format!("{}; {purpose}", r.purpose);
            r.ssh |= ssh;
            return;
        }
        rules.push(Admit {
            proto,
            port,
            from,
            purpose,
            ssh,
        });
    };
    let ssh_port = h.ssh_port.as_ref().map_or(t.ssh.port, |p| p.value);
    let from = admin(t);
    let whom = if from.is_some() {
        "firewall.admin"
    } else {
        "everywhere"
    };
    admit(Proto::Tcp, ssh_port, from, format!("SSH from {whom}"), true);
    if h.has(Role::Lb)
        && let Some(lb) = &t.load_balancer
    {
        let tls = lb.tls.as_ref().map(|t| t.port.value);
        for port in lb.listen.iter().map(|p| p.value).chain(tls) {
            admit(Proto::Tcp, port, None, "HAProxy: the site".into(), false);
        }
    }
    if h.has(Role::Web)
        && let Some(web) = &t.web
    {
        let lbs: Vec<&Host> = t.hosts_with(Role::Lb).collect();
        // Without a load balancer, Nginx is the site.
        let (from, purpose) = if lbs.is_empty() {
            (None, "Nginx: the site".to_string())
        } else {
            (
                Some(addresses(lbs)),
                "Nginx from the load balancers".to_string(),
            )
        };
        admit(Proto::Tcp, web.listen.value, from, purpose, false);
    }
    if h.has(Role::Db)
        && let Some(db) = &t.database
    {
        let clients: Vec<&Host> = t
            .db_client_hosts()
            .into_iter()
            .filter(|c| c.name.value != h.name.value)
            .collect();
        // Clients on this host itself come over loopback.
        if !clients.is_empty() {
            admit(
                Proto::Tcp,
                db.port.value,
                Some(addresses(clients)),
                "the database from its clients (database.allowed_hosts)".into(),
                false,
            );
        }
    }
    if h.has(Role::Dns) && t.dns.is_some() {
        for proto in [Proto::Udp, Proto::Tcp] {
            admit(proto, 53, None, "DNS: the zone".into(), false);
        }
    }
    Some(HostFirewall { rules })
}
