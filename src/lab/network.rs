//! The lab network: one /24 holding every lab host at the address its topology gives it.

use super::LabError;
use super::engine::Engine;
use std::net::{IpAddr, Ipv4Addr};

pub const NETWORK: &str = "foobar-lab";
pub const LABEL: &str = "foobar.lab";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetPlan {
    pub subnet: Ipv4Addr,
    pub gateway: Ipv4Addr,
}

impl NetPlan {
    pub fn cidr(&self) -> String {
        format!("{}/24", self.subnet)
    }
}

/// Plans the network for `hosts`: all IPv4, private, in one /24, none on the network, gateway
/// or broadcast address.
pub fn plan(hosts: &[(String, IpAddr)]) -> Result<NetPlan, LabError> {
    let mut subnet: Option<(Ipv4Addr, &str)> = None;
    for (name, addr) in hosts {
        let IpAddr::V4(v4) = addr else {
            return Err(LabError::Address {
                host: name.clone(),
                message: format!("{addr} is IPv6; the lab network is IPv4"),
            });
        };
        if !v4.is_private() {
            return Err(LabError::Address {
                host: name.clone(),
                message: format!(
                    "{v4} is not a private address; lab hosts must use 10/8, 172.16/12 or 192.168/16 so that no real host is shadowed"
                ),
            });
        }
        let o = v4.octets();
        let net = Ipv4Addr::new(o[0], o[1], o[2], 0);
        match subnet {
            None => subnet = Some((net, name)),
            Some((s, first)) if s != net => {
                return Err(LabError::Address {
                    host: name.clone(),
                    message: format!(
                        "{v4} is not in {s}/24 with `{first}`; all lab hosts share one /24"
                    ),
                });
            }
            Some(_) => {}
        }
        if matches!(o[3], 0 | 1 | 255) {
            return Err(LabError::Address {
                host: name.clone(),
                message: format!(
                    "{v4} is reserved in the lab network (.0 network, .1 gateway, .255 broadcast)"
                ),
            });
        }
    }
    let (subnet, _) = subnet.ok_or(LabError::Empty)?;
    let o = subnet.octets();
    Ok(NetPlan {
        subnet,
        gateway: Ipv4Addr::new(o[0], o[1], o[2], 1),
    })
}

/// Creates the network unless it exists with the same subnet.
pub fn ensure(engine: &Engine, plan: &NetPlan) -> Result<bool, LabError> {
    if engine.exists("network", NETWORK)? {
        let args: Vec<String> = ["network", "inspect", NETWORK].map(String::from).to_vec();
        let info = engine.check(&args, None)?;
        if !info.contains(&plan.cidr()) {
            return Err(LabError::Address {
                host: "(network)".into(),
                message: format!(
                    "network {NETWORK} exists with another subnet than {}; run `foobar-infra lab down` first",
                    plan.cidr()
                ),
            });
        }
        return Ok(false);
    }
    let args: Vec<String> = vec![
        "network".into(),
        "create".into(),
        "--subnet".into(),
        plan.cidr(),
        "--gateway".into(),
        plan.gateway.to_string(),
        "--label".into(),
        format!("{LABEL}=1"),
        NETWORK.into(),
    ];
    engine.check(&args, None)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[(&str, &str)]) -> Vec<(String, IpAddr)> {
        list.iter()
            .map(|(n, a)| (n.to_string(), a.parse().unwrap()))
            .collect()
    }

    #[test]
    fn one_private_slash_24() {
        let p = plan(&hosts(&[("lb-01", "10.89.7.10"), ("web-01", "10.89.7.21")])).unwrap();
        assert_eq!(p.cidr(), "10.89.7.0/24");
        assert_eq!(p.gateway, Ipv4Addr::new(10, 89, 7, 1));
    }

    #[test]
    fn refuses_public_split_and_reserved_addresses() {
        assert!(matches!(
            plan(&hosts(&[("a", "192.0.2.10")])),
            Err(LabError::Address { .. })
        ));
        let split = plan(&hosts(&[("a", "10.89.7.10"), ("b", "10.89.8.10")])).unwrap_err();
        assert!(split.to_string().contains('b') || format!("{split:?}").contains("\"b\""));
        assert!(plan(&hosts(&[("gw", "10.89.7.1")])).is_err());
        assert!(plan(&hosts(&[("v6", "fd00::1")])).is_err());
        assert!(matches!(plan(&[]), Err(LabError::Empty)));
    }
}
