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
    /// The addresses netavark may hand out (`--ip-range`): the smallest block that holds every
    /// host and not the floating addresses, so no container started without `--ip` takes a VIP.
    pub range: Option<(Ipv4Addr, u8)>,
}

impl NetPlan {
    pub fn cidr(&self) -> String {
        format!("{}/24", self.subnet)
    }
}

/// Plans the network for `hosts`: all IPv4, private, in one /24, none on the network, gateway
/// or broadcast address; with floating addresses (`vips`), the range netavark allocates from
/// leaves them out.
pub fn plan(hosts: &[(String, IpAddr)], vips: &[IpAddr]) -> Result<NetPlan, LabError> {
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
    let range = if vips.is_empty() {
        None
    } else {
        Some(range(subnet, hosts, vips)?)
    };
    Ok(NetPlan {
        subnet,
        gateway: Ipv4Addr::new(o[0], o[1], o[2], 1),
        range,
    })
}

/// The smallest CIDR block in the /24 holding every host's address (podman 4.3 takes a range
/// only as a block), refused when it holds a VIP too.
fn range(
    subnet: Ipv4Addr,
    hosts: &[(String, IpAddr)],
    vips: &[IpAddr],
) -> Result<(Ipv4Addr, u8), LabError> {
    let last = |a: &IpAddr| match a {
        IpAddr::V4(v) => v.octets()[3],
        IpAddr::V6(_) => 0,
    };
    let lows: Vec<u8> = hosts.iter().map(|(_, a)| last(a)).collect();
    let mut prefix = 32u8;
    // Widen until one block holds them all.
    while prefix > 24 {
        let mask = !0u8 << (32 - prefix);
        if lows.iter().all(|l| l & mask == lows[0] & mask) {
            break;
        }
        prefix -= 1;
    }
    let mask = if prefix == 24 {
        0
    } else {
        !0u8 << (32 - prefix)
    };
    let o = subnet.octets();
    let start = Ipv4Addr::new(o[0], o[1], o[2], lows[0] & mask);
    for vip in vips {
        let inside = match vip {
            IpAddr::V4(v) => {
                let vo = v.octets();
                vo[..3] == o[..3] && vo[3] & mask == lows[0] & mask
            }
            IpAddr::V6(_) => false,
        };
        if inside {
            return Err(LabError::Address {
                host: "(vip)".into(),
                message: format!(
                    "the VIP {vip} is inside {start}/{prefix}, the smallest block holding every lab host, \
                     from which the lab hands out addresses: pick a VIP outside it"
                ),
            });
        }
    }
    Ok((start, prefix))
}

/// Creates the network unless it exists with the same subnet.
pub fn ensure(engine: &Engine, plan: &NetPlan) -> Result<bool, LabError> {
    if engine.exists("network", NETWORK)? {
        let args: Vec<String> = ["network", "inspect", NETWORK].map(String::from).to_vec();
        let info = engine.check(&args, None)?;
        let range_differs = plan
            .range
            .is_some_and(|(start, prefix)| !info.contains(&format!("{start}/{prefix}")));
        if !info.contains(&plan.cidr()) || range_differs {
            return Err(LabError::Address {
                host: "(network)".into(),
                message: format!(
                    "network {NETWORK} exists with another subnet or address range than {}; run `foobar-infra lab down` first",
                    plan.cidr()
                ),
            });
        }
        return Ok(false);
    }
    let mut args: Vec<String> = vec![
        "network".into(),
        "create".into(),
        "--subnet".into(),
        plan.cidr(),
        "--gateway".into(),
        plan.gateway.to_string(),
    ];
    if let Some((start, prefix)) = plan.range {
        args.extend(["--ip-range".into(), format!("{start}/{prefix}")]);
    }
    args.extend(["--label".into(), format!("{LABEL}=1"), NETWORK.into()]);
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
        let p = plan(
            &hosts(&[("lb-01", "10.89.7.10"), ("web-01", "10.89.7.21")]),
            &[],
        )
        .unwrap();
        assert_eq!(p.cidr(), "10.89.7.0/24");
        assert_eq!(p.gateway, Ipv4Addr::new(10, 89, 7, 1));
    }

    #[test]
    fn refuses_public_split_and_reserved_addresses() {
        assert!(matches!(
            plan(&hosts(&[("a", "192.0.2.10")]), &[]),
            Err(LabError::Address { .. })
        ));
        let split = plan(&hosts(&[("a", "10.89.7.10"), ("b", "10.89.8.10")]), &[]).unwrap_err();
        assert!(split.to_string().contains('b') || format!("{split:?}").contains("\"b\""));
        assert!(plan(&hosts(&[("gw", "10.89.7.1")]), &[]).is_err());
        assert!(plan(&hosts(&[("v6", "fd00::1")]), &[]).is_err());
        assert!(matches!(plan(&[], &[]), Err(LabError::Empty)));
    }

    #[test]
    fn the_address_range_holds_every_host_and_leaves_the_vip_out() {
        let lab = hosts(&[
            ("lb-01", "10.89.7.10"),
            ("lb-02", "10.89.7.11"),
            ("web-01", "10.89.7.21"),
            ("db-01", "10.89.7.30"),
            ("ns1", "10.89.7.40"),
        ]);
        assert_eq!(plan(&lab, &[]).unwrap().range, None);
        let vip: IpAddr = "10.89.7.100".parse().unwrap();
        let p = plan(&lab, &[vip]).unwrap();
        assert_eq!(p.range, Some((Ipv4Addr::new(10, 89, 7, 0), 26)));
        // A VIP among the hosts' block is refused, saying where to put it.
        let inside: IpAddr = "10.89.7.33".parse().unwrap();
        let e = plan(&lab, &[inside]).unwrap_err().to_string()
            + &format!("{:?}", plan(&lab, &[inside]).unwrap_err());
        assert!(e.contains("10.89.7.0/26"), "{e}");
        let one = hosts(&[("a", "10.89.7.200")]);
        assert_eq!(
            plan(&one, &[vip]).unwrap().range,
            Some((Ipv4Addr::new(10, 89, 7, 200), 32))
        );
    }
}
