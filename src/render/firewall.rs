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
    // Everywhere only when both families are: `::/0` alone leaves IPv4 to the list.
    let everything = |v4| out.iter().any(|n| n.is_everything() && n.is_ipv4() == v4);
    if everything(true) && everything(false) {
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
        // Replication: the other database hosts (a replica connects to its primary, and any
        // of them may be promoted).
        let peers: Vec<&Host> = t
            .hosts_with(Role::Db)
            .filter(|o| o.name.value != h.name.value)
            .collect();
        if !peers.is_empty() {
            admit(
                Proto::Tcp,
                db.port.value,
                Some(addresses(peers)),
                "replication from the other database hosts".into(),
                false,
            );
        }
    }
    if h.has(Role::Dns) && t.dns.is_some() {
        for proto in [Proto::Udp, Proto::Tcp] {
            admit(proto, 53, None, "DNS: the zone".into(), false);
        }
    }
    // keepalived's adverts, from the other load balancers of the VIP only.
    let vrrp_from = match &t.load_balancer {
        Some(lb) if lb.vip.is_some() && h.has(Role::Lb) => addresses(
            t.hosts_with(Role::Lb)
                .filter(|other| other.name.value != h.name.value),
        ),
        _ => Vec::new(),
    };
    Some(HostFirewall { rules, vrrp_from })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::load_text;

    fn firewalls(extra: &str) -> Vec<(String, Option<HostFirewall>)> {
        let text = format!(
            "domain: foobar.com
hosts:
  lb-01: {{ address: 192.0.2.10, roles: [lb] }}
  lb-02: {{ address: 192.0.2.11, roles: [lb] }}
  web-01: {{ address: 192.0.2.21, roles: [web, app], ssh: {{ port: 2222 }} }}
  web-02: {{ address: 192.0.2.22, roles: [web, app] }}
  db-01: {{ address: 192.0.2.30, roles: [db] }}
  ns1: {{ address: 192.0.2.40, roles: [dns] }}
database:
  password: {{ env: X }}
dns:
  records: [{{ name: www, target: lb-01 }}]
  key: {{ name: k, secret: {{ env: Y }} }}
{extra}"
        );
        let loaded = load_text(&text);
        let t = loaded.topology.as_ref().expect("loads");
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
        t.hosts
            .iter()
            .map(|h| (h.name.value.clone(), host_firewall(t, h)))
            .collect()
    }

    /// `proto port from` for each rule of a host.
    fn rules(all: &[(String, Option<HostFirewall>)], host: &str) -> Vec<String> {
        let fw = all
            .iter()
            .find(|(n, _)| n == host)
            .unwrap()
            .1
            .as_ref()
            .unwrap();
        fw.rules
            .iter()
            .map(|r| format!("{} {} {}", r.proto.as_str(), r.port, r.sources()))
            .collect()
    }

    #[test]
    fn each_role_admits_whom_it_serves() {
        let all = firewalls("firewall:\n  admin: [198.51.100.0/24, lb-02]\n");
        let ssh = "tcp 22 192.0.2.11, 198.51.100.0/24";
        assert_eq!(rules(&all, "lb-01"), [ssh, "tcp 80 everywhere"]);
        assert_eq!(
            rules(&all, "web-01"),
            [
                "tcp 2222 192.0.2.11, 198.51.100.0/24",
                "tcp 80 192.0.2.10, 192.0.2.11"
            ]
        );
        assert_eq!(
            rules(&all, "db-01"),
            [ssh, "tcp 3306 192.0.2.21, 192.0.2.22"]
        );
        assert_eq!(
            rules(&all, "ns1"),
            [ssh, "udp 53 everywhere", "tcp 53 everywhere"]
        );
        let web = all[2].1.as_ref().unwrap();
        assert!(web.rules[0].ssh && !web.rules[1].ssh);
    }

    #[test]
    fn every_database_host_admits_the_app_hosts_and_the_other_database_hosts() {
        let two_db = |t: &str| {
            t.replace(
                "  db-01: { address: 192.0.2.30, roles: [db] }\n",
                "  db-01: { address: 192.0.2.30, roles: [db] }\n  db-02: { address: 192.0.2.31, roles: [db] }\n",
            )
        };
        let text = two_db(
            "domain: foobar.com
hosts:
  web-01: { address: 192.0.2.21, roles: [web, app] }
  db-01: { address: 192.0.2.30, roles: [db] }
database:
  password: { env: X }
  primary: db-01
  replication: { password: { env: Y } }
",
        );
        let loaded = load_text(&text);
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
        let t = loaded.topology.as_ref().unwrap();
        let all: Vec<(String, Option<HostFirewall>)> = t
            .hosts
            .iter()
            .map(|h| (h.name.value.clone(), host_firewall(t, h)))
            .collect();
        assert_eq!(rules(&all, "db-01")[1], "tcp 3306 192.0.2.21, 192.0.2.31");
        assert_eq!(rules(&all, "db-02")[1], "tcp 3306 192.0.2.21, 192.0.2.30");
    }

    #[test]
    fn ssh_from_everywhere_by_default_or_when_admin_covers_everything() {
        for extra in ["", "firewall:\n  admin: [0.0.0.0/0, 192.0.2.7, \"::/0\"]\n"] {
            let all = firewalls(extra);
            assert_eq!(rules(&all, "lb-01")[0], "tcp 22 everywhere", "{extra:?}");
        }
    }

    #[test]
    fn everything_of_one_family_leaves_the_other_to_the_list() {
        let all = firewalls("firewall:\n  admin: [\"::/0\", 198.51.100.7]\n");
        assert_eq!(rules(&all, "lb-01")[0], "tcp 22 198.51.100.7, ::/0");
    }

    #[test]
    fn the_database_admits_its_users_hosts_and_a_disabled_firewall_is_none() {
        let all = firewalls("firewall:\n  admin: [lb-01]\n");
        assert_eq!(rules(&all, "db-01")[1], "tcp 3306 192.0.2.21, 192.0.2.22");
        let all = firewalls("firewall:\n  enabled: false\n");
        assert!(all.iter().all(|(_, f)| f.is_none()));
    }

    #[test]
    fn vrrp_is_admitted_from_the_other_load_balancers_only_with_a_vip() {
        let vrrp = |all: &[(String, Option<HostFirewall>)], host: &str| {
            let fw = all.iter().find(|(n, _)| n == host).unwrap().1.clone();
            fw.unwrap()
                .vrrp_from
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let all = firewalls("load_balancer:\n  vip: 192.0.2.100\n");
        assert_eq!(vrrp(&all, "lb-01"), ["192.0.2.11"]);
        assert_eq!(vrrp(&all, "lb-02"), ["192.0.2.10"]);
        assert!(vrrp(&all, "web-01").is_empty());
        let none = firewalls("");
        assert!(vrrp(&none, "lb-01").is_empty());
    }
}
