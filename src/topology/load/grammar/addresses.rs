//! IP addresses and listen addresses as patterns: what Rust's `IpAddr` and `SocketAddr` parsers
//! (which the loader uses) take, for the topology's schema.

use super::TextSchema;

/// A pattern: an IPv4 address, four decimal numbers up to 255 without leading zeros.
macro_rules! ipv4 {
    () => {
        r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"
    };
}

/// A pattern: one group of an IPv6 address.
macro_rules! h {
    () => {
        "[0-9A-Fa-f]{1,4}"
    };
}

/// A pattern: an IPv6 address. Eight groups (the last two may be an IPv4 address), or `::` for
/// one or more zero groups with K groups before it and up to 7 - K after (of which the last two
/// may again be an IPv4 address).
macro_rules! ipv6 {
    () => {
        concat!(
            "((",
            h!(),
            ":){7}",
            h!(),
            "|(",
            h!(),
            ":){6}",
            ipv4!(),
            // K = 0
            "|::((",
            h!(),
            ":){0,6}",
            h!(),
            ")?|::(",
            h!(),
            ":){0,5}",
            ipv4!(),
            // K = 1
            "|",
            h!(),
            "::((",
            h!(),
            ":){0,5}",
            h!(),
            ")?|",
            h!(),
            "::(",
            h!(),
            ":){0,4}",
            ipv4!(),
            // K = 2..5
            "|(",
            h!(),
            ":){1}",
            h!(),
            "::((",
            h!(),
            ":){0,4}",
            h!(),
            ")?|(",
            h!(),
            ":){1}",
            h!(),
            "::(",
            h!(),
            ":){0,3}",
            ipv4!(),
            "|(",
            h!(),
            ":){2}",
            h!(),
            "::((",
            h!(),
            ":){0,3}",
            h!(),
            ")?|(",
            h!(),
            ":){2}",
            h!(),
            "::(",
            h!(),
            ":){0,2}",
            ipv4!(),
            "|(",
            h!(),
            ":){3}",
            h!(),
            "::((",
            h!(),
            ":){0,2}",
            h!(),
            ")?|(",
            h!(),
            ":){3}",
            h!(),
            "::(",
            h!(),
            ":){0,1}",
            ipv4!(),
            "|(",
            h!(),
            ":){4}",
            h!(),
            "::((",
            h!(),
            ":){0,1}",
            h!(),
            ")?|(",
            h!(),
            ":){4}",
            h!(),
            "::",
            ipv4!(),
            // K = 6, 7
            "|(",
            h!(),
            ":){5}",
            h!(),
            "::(",
            h!(),
            ")?|(",
            h!(),
            ":){6}",
            h!(),
            "::)"
        )
    };
}

/// A pattern: a port, 1 to 65535, after any leading zeros (`SocketAddr` reads `0080` as 80).
macro_rules! port {
    () => {
        "0*(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
    };
}

const fn address(pattern: &'static str, not_pattern: Option<&'static str>) -> TextSchema {
    TextSchema {
        pattern: Some(pattern),
        not_pattern,
        min_length: 1,
        max_length: None,
        scalars: false,
    }
}

/// An IPv4 or IPv6 address.
pub const IP_ADDRESS: TextSchema = address(concat!("^(", ipv4!(), "|", ipv6!(), ")$"), None);

/// An IP network for the firewall: an address, or `ADDRESS/PREFIX` with a prefix length up to
/// 32 (IPv4) or 128 (IPv6), without leading zeros. (That no bits are set beyond the prefix is the
/// loader's to check: `net::Network`.)
pub const NETWORK: TextSchema = address(
    concat!(
        "^(",
        ipv4!(),
        "(/(3[0-2]|[12]?[0-9]))?|(",
        ipv6!(),
        ")(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$"
    ),
    None,
);

/// A host's address: an IP address the tool can connect to, so not the unspecified address
/// (only zeros) and not multicast (224.0.0.0/4, ff00::/8).
pub const HOST_ADDRESS: TextSchema = address(
    concat!("^(", ipv4!(), "|", ipv6!(), ")$"),
    Some(r"^([0:.]+|(22[4-9]|23[0-9])\..*|[Ff]{2}[0-9A-Fa-f]{2}:.*)$"),
);

/// `app.listen` written as text: `ADDRESS:PORT` (`[V6]:PORT`, with an optional numeric scope)
/// or `unix:` and a socket path.
pub const APP_LISTEN: TextSchema = address(
    concat!(
        "^(",
        ipv4!(),
        ":",
        port!(),
        r"|\[",
        ipv6!(),
        r"(%[0-9]+)?\]:",
        port!(),
        "|unix:(/",
        host_path_name!(),
        ")+)$"
    ),
    None,
);

#[cfg(test)]
mod tests {
    use super::super::text_schema::testing::validator;
    use super::*;
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv6Addr, SocketAddr};

    /// An address Rust parses, and the schema's verdict on the same text, agree.
    fn agree(v: &jsonschema::Validator, text: &str) -> Result<(), TestCaseError> {
        let rust = text.parse::<IpAddr>().is_ok();
        let schema = v.is_valid(&serde_json::json!(text));
        prop_assert_eq!(
            rust,
            schema,
            "{:?}: Rust {} the schema {}",
            text,
            rust,
            schema
        );
        Ok(())
    }

    /// Every way of writing an IPv6 address: full, with `::` at each place it fits, with the
    /// last 32 bits as IPv4, in upper case, with leading zeros.
    fn spellings(a: Ipv6Addr) -> Vec<String> {
        let g = a.segments();
        let hex = |g: &[u16]| g.iter().map(|x| format!("{x:x}")).collect::<Vec<_>>();
        let mut out = vec![
            a.to_string(),
            a.to_string().to_uppercase(),
            g.iter()
                .map(|x| format!("{x:04x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ];
        let v4 = std::net::Ipv4Addr::from(((g[6] as u32) << 16) | g[7] as u32);
        out.push(format!("{}:{v4}", hex(&g[..6]).join(":")));
        for start in 0..8 {
            for end in start + 1..=8 {
                let (head, tail) = (hex(&g[..start]).join(":"), hex(&g[end..]).join(":"));
                out.push(format!("{head}::{tail}"));
                if end <= 6 {
                    out.push(format!("{head}::{}:{v4}", hex(&g[end..6]).join(":")));
                }
            }
        }
        out.into_iter().map(|s| s.replace(":::", "::")).collect()
    }

    proptest! {
        #[test]
        fn ipv6_spellings_are_taken_as_rust_parses_them(bits in any::<u128>(), zeros in 0u8..8) {
            // Runs of zero groups, where `::` goes.
            let g: Vec<u16> = Ipv6Addr::from(bits)
                .segments()
                .iter()
                .enumerate()
                .map(|(i, x)| if (i as u8) < zeros { 0 } else { *x })
                .collect();
            let a = Ipv6Addr::from(<[u16; 8]>::try_from(g).unwrap());
            let v = validator(&IP_ADDRESS);
            for s in spellings(a) {
                agree(&v, &s)?;
            }
        }

        #[test]
        fn mangled_addresses_get_the_same_verdict(
            bits in any::<u128>(),
            v4 in any::<u32>(),
            at in any::<prop::sample::Index>(),
            piece in "[0-9a-fA-F:.g]{0,3}",
            cut in 0usize..3,
        ) {
            let v = validator(&IP_ADDRESS);
            for s in [Ipv6Addr::from(bits).to_string(), std::net::Ipv4Addr::from(v4).to_string()] {
                let i = at.index(s.len() + 1);
                let j = (i + cut).min(s.len());
                agree(&v, &format!("{}{piece}{}", &s[..i], &s[j..]))?;
            }
        }

        /// The schema takes what the loader takes as a network; it also takes networks with
        /// bits beyond the prefix, which the loader refuses saying which network was meant.
        #[test]
        fn networks_are_taken_as_the_loader_parses_them(
            bits in any::<u128>(),
            v4 in any::<u32>(),
            prefix in "(/[0-9]{0,4})?",
        ) {
            use crate::net::{Network, NetworkError};
            let v = validator(&NETWORK);
            for a in [Ipv6Addr::from(bits).to_string(), std::net::Ipv4Addr::from(v4).to_string()] {
                let text = format!("{a}{prefix}");
                let schema = v.is_valid(&serde_json::json!(text));
                match Network::parse(&text) {
                    Ok(_) => prop_assert!(schema, "{:?}", text),
                    Err(NetworkError::HostBits { .. }) => prop_assert!(schema, "{:?}", text),
                    Err(_) => prop_assert!(!schema, "{:?}", text),
                }
            }
        }

        #[test]
        fn listen_addresses_are_taken_as_rust_parses_them(
            text in "(\\[[0-9a-f:.]{2,12}(%[0-9]{1,2})?\\]|[0-9.]{7,15}):[0-9]{1,6}",
        ) {
            let rust = text.parse::<SocketAddr>().is_ok_and(|a| a.port() != 0);
            let schema = validator(&APP_LISTEN).is_valid(&serde_json::json!(text));
            prop_assert_eq!(rust, schema, "{:?}", text);
        }
    }

    #[test]
    fn addresses_at_the_edges() {
        let v = validator(&IP_ADDRESS);
        for ok in [
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "1::",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:7::",
        ] {
            assert!(v.is_valid(&serde_json::json!(ok)), "{ok}");
        }
        for bad in [
            "192.0.2.300",
            "01.2.3.4",
            "1.2.3",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "::1.2.3",
            "[::1]",
            "12345::",
            "",
        ] {
            assert!(!v.is_valid(&serde_json::json!(bad)), "{bad}");
            assert!(bad.parse::<IpAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn host_addresses_are_neither_unspecified_nor_multicast() {
        let v = validator(&HOST_ADDRESS);
        for (text, ok) in [
            ("192.0.2.10", true),
            ("2001:db8::10", true),
            ("::ffff:224.0.0.1", true),
            ("ff0::1", true),
            ("0.0.0.0", false),
            ("::", false),
            ("0:0::0", false),
            ("::0.0.0.0", false),
            ("224.0.0.1", false),
            ("239.255.255.255", false),
            ("ff02::1", false),
            ("FF05::2", false),
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(!ip.is_unspecified() && !ip.is_multicast(), ok, "{text}");
            assert_eq!(v.is_valid(&serde_json::json!(text)), ok, "{text}");
        }
    }

    #[test]
    fn listen_addresses() {
        let v = validator(&APP_LISTEN);
        for ok in [
            "127.0.0.1:8000",
            "[::1]:8000",
            "[fe80::1%2]:80",
            "0.0.0.0:065535",
            "unix:/run/foobar/app.sock",
        ] {
            assert!(v.is_valid(&serde_json::json!(ok)), "{ok}");
        }
        for bad in [
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "::1:8000",
            "localhost:80",
            "unix:run/x",
            "unix:/run/x/",
            "8000",
        ] {
            assert!(!v.is_valid(&serde_json::json!(bad)), "{bad}");
        }
    }
}
