//! The firewall of one host as data: what it admits, on which port, from whom. Everything it does
//! not admit is refused (loopback, replies to the host's own connections and the ICMP a network
//! needs always pass). `render` makes it from the topology and renders it into an nftables table
//! of its own (`inet foobar_infra`); `apply` asks it whether it admits the run's own SSH
//! connection before loading it; `verify` proves it from other hosts.

use crate::net::Network;
use serde::Serialize;
use std::net::IpAddr;

/// The nftables table the firewall lives in (the host's other tables are left alone).
pub const TABLE: &str = "foobar_infra";
/// Where the ruleset goes on the host, and the unit that loads it at boot and on reload.
pub const RULES_FILE: &str = "/etc/foobar-infra/firewall.nft";
pub const UNIT: &str = "foobar-infra-firewall.service";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// New connections to `port` admitted from `from` (`None`: from everywhere).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Admit {
    pub proto: Proto,
    pub port: u16,
    pub from: Option<Vec<Network>>,
    /// What listens there, and for whom, in a few words: `ssh from firewall.admin`.
    pub purpose: String,
    /// The SSH port (what the lockout check looks at).
    pub ssh: bool,
}

impl Admit {
    pub fn admits(&self, proto: Proto, port: u16, client: IpAddr) -> bool {
        self.proto == proto
            && self.port == port
            && self
                .from
                .as_ref()
                .is_none_or(|nets| nets.iter().any(|n| n.contains(client)))
    }

    /// Who it admits, in words.
    pub fn sources(&self) -> String {
        match &self.from {
            None => "everywhere".into(),
            Some(nets) => nets
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostFirewall {
    pub rules: Vec<Admit>,
    /// VRRP (IP protocol 112) admitted from these addresses: the other load balancers of a VIP.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vrrp_from: Vec<Network>,
}

/// The SSH connection a run holds to a host, as the host's sshd sees it (`SSH_CONNECTION`): the
/// address it comes from and the port it reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SshConnection {
    pub client: IpAddr,
    pub port: u16,
}

impl SshConnection {
    /// `SSH_CONNECTION`'s value: `CLIENT CLIENT_PORT SERVER SERVER_PORT`.
    pub fn parse(value: &str) -> Option<SshConnection> {
        let f: Vec<&str> = value.split_whitespace().collect();
        if f.len() != 4 {
            return None;
        }
        Some(SshConnection {
            client: f[0].split('%').next()?.parse().ok()?,
            port: f[3].parse().ok()?,
        })
    }
}

impl HostFirewall {
    pub fn admits(&self, proto: Proto, port: u16, client: IpAddr) -> bool {
        self.rules.iter().any(|r| r.admits(proto, port, client))
    }

    /// Why this firewall would refuse the run's own SSH connection to `host`, if it would.
    pub fn lockout(&self, host: &str, conn: &SshConnection) -> Option<String> {
        if self.admits(Proto::Tcp, conn.port, conn.client) {
            return None;
        }
        let ssh: Vec<&Admit> = self.rules.iter().filter(|r| r.ssh).collect();
        let admitted = if ssh.is_empty() {
            "no SSH port".to_string()
        } else {
            ssh.iter()
                .map(|r| format!("port {} from {}", r.port, r.sources()))
                .collect::<Vec<_>>()
                .join("; ")
        };
        // The address is admitted on another port: sshd was reached on a port the topology does
        // not name (a port forward, NAT), not from an unlisted address.
        let address_admitted = ssh
            .iter()
            .any(|r| r.admits(Proto::Tcp, r.port, conn.client));
        let fix = if address_admitted {
            format!(
                "sshd was reached on port {}, which the topology does not name for this host: set its ssh.port to the port sshd listens on, or connect to that port directly",
                conn.port
            )
        } else {
            format!(
                "Add {} (or its network) to firewall.admin, or connect from an address it lists",
                conn.client
            )
        };
        Some(format!(
            "the firewall for {host} would refuse this run's own SSH connection (from {} to port {}): it admits SSH on {admitted}; nothing was loaded. {fix}",
            conn.client, conn.port
        ))
    }

    /// For the template: each rule with its sources split by address family.
    pub fn view(&self) -> serde_json::Value {
        let rules: Vec<serde_json::Value> = self
            .rules
            .iter()
            .map(|r| {
                let (v4, v6): (Vec<&Network>, Vec<&Network>) =
                    r.from.iter().flatten().partition(|n| n.is_ipv4());
                serde_json::json!({
                    "proto": r.proto.as_str(),
                    "port": r.port,
                    "purpose": r.purpose,
                    "everywhere": r.from.is_none(),
                    "v4": v4.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "v6": v6.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        let (v4, v6): (Vec<&Network>, Vec<&Network>) =
            self.vrrp_from.iter().partition(|n| n.is_ipv4());
        let shown = |nets: Vec<&Network>| nets.iter().map(ToString::to_string).collect::<Vec<_>>();
        serde_json::json!({
            "table": TABLE,
            "rules": rules,
            "vrrp": { "v4": shown(v4), "v6": shown(v6) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Network {
        Network::parse(s).unwrap()
    }

    fn fw() -> HostFirewall {
        HostFirewall {
            rules: vec![
                Admit {
                    proto: Proto::Tcp,
                    port: 22,
                    from: Some(vec![net("10.89.7.1"), net("192.0.2.0/24")]),
                    purpose: "ssh from firewall.admin".into(),
                    ssh: true,
                },
                Admit {
                    proto: Proto::Tcp,
                    port: 80,
                    from: None,
                    purpose: "haproxy".into(),
                    ssh: false,
                },
            ],
            vrrp_from: Vec::new(),
        }
    }

    fn conn(s: &str) -> SshConnection {
        SshConnection::parse(s).unwrap()
    }

    #[test]
    fn ssh_connection_as_sshd_reports_it() {
        assert_eq!(
            conn("10.89.7.1 49206 10.89.7.21 22"),
            SshConnection {
                client: "10.89.7.1".parse().unwrap(),
                port: 22
            }
        );
        assert_eq!(conn("fe80::1%eth0 5 fe80::2%eth0 2222").port, 2222);
        assert_eq!(SshConnection::parse(""), None);
        assert_eq!(SshConnection::parse("10.89.7.1 1 10.89.7.21"), None);
        assert_eq!(SshConnection::parse("x 1 10.89.7.21 22"), None);
    }

    #[test]
    fn the_connection_in_use_is_admitted_or_the_refusal_says_how_to_fix_it() {
        let f = fw();
        assert_eq!(
            f.lockout("web-01", &conn("10.89.7.1 5 10.89.7.21 22")),
            None
        );
        assert_eq!(
            f.lockout("web-01", &conn("192.0.2.77 5 10.89.7.21 22")),
            None
        );
        // A client the admin list does not name.
        let why = f
            .lockout("web-01", &conn("10.89.7.10 5 10.89.7.21 22"))
            .unwrap();
        assert!(why.contains("from 10.89.7.10 to port 22"), "{why}");
        assert!(
            why.contains("port 22 from 10.89.7.1, 192.0.2.0/24"),
            "{why}"
        );
        assert!(why.contains("Add 10.89.7.10"), "{why}");
        // The right client on a port the firewall does not open for SSH (sshd moved, or NAT).
        let why = f
            .lockout("web-01", &conn("10.89.7.1 5 10.89.7.21 2222"))
            .unwrap();
        assert!(why.contains("sshd was reached on port 2222"), "{why}");
        // Another service's port from everywhere is not SSH's.
        assert!(
            f.lockout("web-01", &conn("10.89.7.9 5 10.89.7.21 80"))
                .is_none(),
            "port 80 is admitted from everywhere (whatever listens there)"
        );
    }

    #[test]
    fn the_template_gets_sources_by_family() {
        let mut f = fw();
        f.rules[0].from.as_mut().unwrap().push(net("2001:db8::/32"));
        let v = f.view();
        assert_eq!(v["table"], "foobar_infra");
        assert_eq!(
            v["rules"][0]["v4"],
            serde_json::json!(["10.89.7.1", "192.0.2.0/24"])
        );
        assert_eq!(v["rules"][0]["v6"], serde_json::json!(["2001:db8::/32"]));
        assert_eq!(v["rules"][1]["everywhere"], true);
    }
}
