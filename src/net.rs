//! IP networks as the firewall takes them: an address and a prefix length (`10.89.7.0/24`,
//! `2001:db8::/32`; a bare address is the network of that one address).

use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

/// An IP network whose address has no bits set beyond its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

/// Why a text is not a network, in words for a label.
#[derive(Debug, PartialEq, Eq)]
pub enum NetworkError {
    /// Neither `ADDRESS` nor `ADDRESS/PREFIX`.
    Syntax,
    /// The prefix is longer than the address (32 for IPv4, 128 for IPv6).
    Prefix { max: u8 },
    /// Bits are set beyond the prefix: `network` is what was probably meant.
    HostBits { network: Network },
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::Syntax => write!(f, "not an IP address or network"),
            NetworkError::Prefix { max } => write!(f, "the prefix length is at most {max}"),
            NetworkError::HostBits { network } => {
                write!(
                    f,
                    "bits are set beyond the prefix (the network is {network})"
                )
            }
        }
    }
}

fn bits(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v) => (u32::from(v) as u128, 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

/// The mask of a `prefix`-bit network in a `width`-bit address, in the low `width` bits.
fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    if prefix == 0 {
        0
    } else {
        all & !((1u128 << (width - prefix)) - 1)
    }
}

impl Network {
    /// The network of one address.
    pub fn host(address: IpAddr) -> Network {
        Network {
            address,
            prefix: bits(address).1,
        }
    }

    pub fn parse(text: &str) -> Result<Network, NetworkError> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let address: IpAddr = addr.parse().map_err(|_| NetworkError::Syntax)?;
        let width = bits(address).1;
        let prefix = match prefix {
            None => width,
            Some(p) => {
                // Digits, without a leading zero (as the schema's pattern has it).
                if p.is_empty()
                    || p.len() > 3
                    || (p.len() > 1 && p.starts_with('0'))
                    || !p.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(NetworkError::Syntax);
                }
                let n: u8 = p.parse().map_err(|_| NetworkError::Prefix { max: width })?;
                if n > width {
                    return Err(NetworkError::Prefix { max: width });
                }
                n
            }
        };
        // An IPv4-mapped network is the IPv4 one: that is how clients and the kernel see it.
        let (address, prefix) = match address {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (address, prefix),
            },
            _ => (address, prefix),
        };
        let net = Network { address, prefix };
        let masked = net.masked();
        if masked != net {
            return Err(NetworkError::HostBits { network: masked });
        }
        Ok(net)
    }

    fn masked(self) -> Network {
        let (b, width) = bits(self.address);
        let m = b & mask(self.prefix, width);
        let address = match self.address {
            IpAddr::V4(_) => IpAddr::V4((m as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(m.into()),
        };
        Network {
            address,
            prefix: self.prefix,
        }
    }

    pub fn is_ipv4(&self) -> bool {
        self.address.is_ipv4()
    }

    /// Whether `a` is in this network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, a: IpAddr) -> bool {
        let a = match a {
            IpAddr::V6(v) => v.to_ipv4_mapped().map_or(a, IpAddr::V4),
            v4 => v4,
        };
        let (mine, width) = bits(self.address);
        let (theirs, their_width) = bits(a);
        width == their_width && (theirs & mask(self.prefix, width)) == mine
    }

    /// Every address (`0.0.0.0/0`, `::/0`).
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == bits(self.address).1 {
            write!(f, "{}", self.address)
        } else {
            write!(f, "{}/{}", self.address, self.prefix)
        }
    }
}

impl Serialize for Network {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Network {
        Network::parse(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_print_as_written() {
        for s in [
            "10.89.7.1",
            "10.89.7.0/24",
            "0.0.0.0/0",
            "2001:db8::/32",
            "::/0",
            "fe80::1",
            "10.0.0.0/8",
        ] {
            assert_eq!(n(s).to_string(), s);
        }
        assert_eq!(n("10.89.7.1/32").to_string(), "10.89.7.1");
        assert_eq!(n("::ffff:10.89.7.1").to_string(), "10.89.7.1");
        assert_eq!(n("::ffff:10.89.7.0/120").to_string(), "10.89.7.0/24");
        assert!(n("::ffff:10.89.7.0/120").is_ipv4());
    }

    #[test]
    fn bad_networks_say_why() {
        assert_eq!(
            Network::parse("10.89.7.1/24"),
            Err(NetworkError::HostBits {
                network: n("10.89.7.0/24")
            })
        );
        assert_eq!(
            Network::parse("10.89.7.0/33"),
            Err(NetworkError::Prefix { max: 32 })
        );
        assert_eq!(
            Network::parse("2001:db8::/129"),
            Err(NetworkError::Prefix { max: 128 })
        );
        for s in [
            "",
            "10.89.7",
            "10.89.7.0/",
            "10.89.7.0/+8",
            "lb-01",
            "10.0.0.0/08x",
            "/8",
        ] {
            assert_eq!(Network::parse(s), Err(NetworkError::Syntax), "{s:?}");
        }
        assert!(
            NetworkError::HostBits {
                network: n("10.89.7.0/24")
            }
            .to_string()
            .contains("10.89.7.0/24")
        );
    }

    #[test]
    fn containment_by_prefix_and_family() {
        assert!(n("10.89.7.0/24").contains(ip("10.89.7.200")));
        assert!(!n("10.89.7.0/24").contains(ip("10.89.8.1")));
        assert!(n("10.89.7.1").contains(ip("10.89.7.1")));
        assert!(!n("10.89.7.1").contains(ip("10.89.7.2")));
        assert!(n("0.0.0.0/0").contains(ip("192.0.2.1")));
        assert!(!n("0.0.0.0/0").contains(ip("2001:db8::1")));
        assert!(n("::/0").contains(ip("2001:db8::1")));
        assert!(n("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!n("2001:db8::/32").contains(ip("2001:db9::1")));
        // What sshd reports for an IPv4 client on a dual-stack socket.
        assert!(n("10.89.7.0/24").contains(ip("::ffff:10.89.7.1")));
        assert!(n("0.0.0.0/1").contains(ip("127.0.0.1")));
        assert!(!n("128.0.0.0/1").contains(ip("127.0.0.1")));
    }
}
