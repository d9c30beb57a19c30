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
    /// The addresses the engine may hand out (`--ip-range`) when there are floating addresses:
    /// the largest block of the /24 that holds none of them, no host and not the gateway, so no
    /// container started without `--ip` takes a VIP. Lab hosts get their address with `--ip`,
    /// which need not be in it.
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

/// The largest aligned block of the /24 (podman 4.3 takes a range only as a block) that holds
/// no VIP, no host and not the gateway; the lowest of equal size.
fn range(
    subnet: Ipv4Addr,
    hosts: &[(String, IpAddr)],
    vips: &[IpAddr],
) -> Result<(Ipv4Addr, u8), LabError> {
    let o = subnet.octets();
    let taken: Vec<u8> = hosts
        .iter()
        .map(|(_, a)| a)
        .chain(vips)
        .filter_map(|a| match a {
            IpAddr::V4(v) if v.octets()[..3] == o[..3] => Some(v.octets()[3]),
            _ => None,
        })
        .chain([1])
        .collect();
    for prefix in 25..=32u8 {
        let size = 1u16 << (32 - prefix);
        // Free of what is taken, and not just the network's or the broadcast address.
        let free = (0..256u16).step_by(size as usize).find(|start| {
            let holds_taken = taken
                .iter()
                .any(|t| (*start..start + size).contains(&u16::from(*t)));
            !holds_taken && (size > 1 || !matches!(start, 0 | 255))
        });
        if let Some(start) = free {
            return Ok((Ipv4Addr::new(o[0], o[1], o[2], start as u8), prefix));
        }
    }
    Err(LabError::Address {
        host: "(vip)".into(),
        message: format!(
            "every address of {subnet}/24 is a host's, a VIP or reserved: the lab has none left to hand out"
        ),
    })
}

/// An address as a number, for ranges.
fn number(text: &str) -> Option<u32> {
    text.parse::<Ipv4Addr>().ok().map(u32::from)
}

/// The first and last address of a `ADDRESS/PREFIX` block.
fn block(text: &str) -> Option<(u32, u32)> {
    let (address, prefix) = text.split_once('/')?;
    let (start, prefix) = (number(address)?, prefix.parse::<u32>().ok()?);
    let size = 1u64 << (32 - prefix.min(32));
    Some((start, (u64::from(start) + size - 1) as u32))
}

/// What an existing network says of itself (`network inspect`, podman's or docker's JSON): its
/// subnets, and the ranges it hands addresses out of (`None`: the whole subnet).
fn existing(info: &str) -> (Vec<String>, Option<Vec<(u32, u32)>>) {
    let value: serde_json::Value = serde_json::from_str(info).unwrap_or_default();
    let net = value.get(0).unwrap_or(&value);
    let text = |v: &serde_json::Value, key: &str| v.get(key)?.as_str().map(str::to_string);
    let mut subnets = Vec::new();
    let mut ranges = Vec::new();
    // podman: subnets[] with a lease_range {start_ip, end_ip}.
    for s in net["subnets"].as_array().into_iter().flatten() {
        subnets.extend(text(s, "subnet"));
        if let Some(r) = s.get("lease_range")
            && let (Some(a), Some(b)) = (
                text(r, "start_ip").as_deref().and_then(number),
                text(r, "end_ip").as_deref().and_then(number),
            )
        {
            ranges.push((a, b));
        }
    }
    // docker: IPAM.Config[] with an IPRange block.
    for c in net["IPAM"]["Config"].as_array().into_iter().flatten() {
        subnets.extend(text(c, "Subnet"));
        ranges.extend(text(c, "IPRange").as_deref().and_then(block));
    }
    (subnets, (!ranges.is_empty()).then_some(ranges))
}

/// Whether a network that exists can be kept for `plan`: the same subnet, and no VIP among the
/// addresses it hands out.
fn fits(info: &str, plan: &NetPlan, vips: &[IpAddr]) -> bool {
    let (subnets, ranges) = existing(info);
    if !subnets.contains(&plan.cidr()) {
        return false;
    }
    let Some(ranges) = ranges else {
        return vips.is_empty();
    };
    vips.iter().all(|vip| match vip {
        IpAddr::V4(v) => !ranges
            .iter()
            .any(|(a, b)| (*a..=*b).contains(&u32::from(*v))),
        IpAddr::V6(_) => true,
    })
}

/// Creates the network unless one that fits exists (the same subnet, handing out no VIP).
pub fn ensure(engine: &Engine, plan: &NetPlan, vips: &[IpAddr]) -> Result<bool, LabError> {
    if engine.exists("network", NETWORK)? {
        let args: Vec<String> = ["network", "inspect", NETWORK].map(String::from).to_vec();
        let info = engine.check(&args, None)?;
        if !fits(&info, plan, vips) {
            return Err(LabError::Address {
                host: "(network)".into(),
                message: format!(
                    "network {NETWORK} exists with another subnet than {}, or hands out addresses that include a VIP; run `foobar-infra lab down` first",
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
    fn the_address_range_leaves_out_the_vips_the_hosts_and_the_gateway() {
        let lab = hosts(&[
            ("lb-01", "10.89.7.10"),
            ("lb-02", "10.89.7.11"),
            ("web-01", "10.89.7.21"),
            ("db-01", "10.89.7.30"),
            ("ns1", "10.89.7.40"),
        ]);
        assert_eq!(plan(&lab, &[]).unwrap().range, None);
        let vip = |a: &str| -> IpAddr { a.parse().unwrap() };
        let range = |vips: &[IpAddr]| plan(&lab, vips).unwrap().range.unwrap();
        assert_eq!(
            range(&[vip("10.89.7.100")]),
            (Ipv4Addr::new(10, 89, 7, 128), 25)
        );
        // Any VIP that is no host's works, among the hosts' addresses too.
        assert_eq!(
            range(&[vip("10.89.7.33")]),
            (Ipv4Addr::new(10, 89, 7, 128), 25)
        );
        assert_eq!(
            range(&[vip("10.89.7.100"), vip("10.89.7.200")]),
            (Ipv4Addr::new(10, 89, 7, 128), 26)
        );
        let all: Vec<(String, IpAddr)> = (2..255)
            .map(|i| (format!("h{i}"), format!("10.89.7.{i}").parse().unwrap()))
            .collect();
        assert!(plan(&all, &[vip("10.89.7.100")]).is_err());
    }

    #[test]
    fn an_existing_network_is_kept_when_it_hands_out_no_vip() {
        let lab = hosts(&[("lb-01", "10.89.7.10"), ("lb-02", "10.89.7.11")]);
        let vip: IpAddr = "10.89.7.100".parse().unwrap();
        let p = plan(&lab, &[vip]).unwrap();
        let podman = |start: &str, end: &str| {
            format!(
                r#"[{{"name":"foobar-lab","subnets":[{{"subnet":"10.89.7.0/24","gateway":"10.89.7.1","lease_range":{{"start_ip":"{start}","end_ip":"{end}"}}}}]}}]"#
            )
        };
        // As podman 4.3 stores the block 10.89.7.128/25.
        assert!(fits(&podman("10.89.7.129", "10.89.7.255"), &p, &[vip]));
        assert!(!fits(&podman("10.89.7.64", "10.89.7.127"), &p, &[vip]));
        let whole = r#"[{"name":"foobar-lab","subnets":[{"subnet":"10.89.7.0/24","gateway":"10.89.7.1"}]}]"#;
        assert!(!fits(whole, &p, &[vip]));
        assert!(fits(whole, &plan(&lab, &[]).unwrap(), &[]));
        let other = r#"[{"subnets":[{"subnet":"10.89.8.0/24"}]}]"#;
        assert!(!fits(other, &p, &[vip]));
        let docker = r#"[{"Name":"foobar-lab","IPAM":{"Config":[{"Subnet":"10.89.7.0/24","IPRange":"10.89.7.128/25"}]}}]"#;
        assert!(fits(docker, &p, &[vip]));
    }
}
