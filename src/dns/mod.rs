//! A zone's A records on its authoritative server: what the server holds (signed queries over
//! TCP, as a resolver would not ask), and one signed RFC 2136 update per zone that changes them,
//! with prerequisites, so a record someone else changed since it was read is refused, never
//! overwritten. `Authority` is the seam: `wire::Server` talks to a real server; tests hold a zone
//! in memory.

pub mod wire;

use crate::desired::{Zone, ZoneServer};
use crate::secret::Secret;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// The A records at one name: their TTL and addresses (sorted).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rrset {
    pub ttl: u32,
    pub addresses: Vec<String>,
}

impl Rrset {
    pub fn new(ttl: u32, mut addresses: Vec<String>) -> Rrset {
        addresses.sort();
        addresses.dedup();
        Rrset { ttl, addresses }
    }

    /// `60 IN A 10.89.7.10`, as a zone file writes it.
    pub fn show(&self) -> String {
        format!("{} IN A {}", self.ttl, self.addresses.join(", "))
    }
}

/// What a zone's server holds of the names this tool manages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ZoneFacts {
    /// The SOA serial.
    pub serial: u32,
    /// Each name asked for (fully qualified, no trailing dot) and its A records, if any.
    pub records: BTreeMap<String, Option<Rrset>>,
    /// The names listed in the registry TXT record (none: there is no such record).
    pub registry: Option<Vec<String>>,
}

/// One atomic update of a zone: prerequisites (what each name holds now), then the new records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Each name and what it must hold for the update to apply (none: no A records).
    pub expect: Vec<(String, Option<Rrset>)>,
    /// Each name and what it holds afterwards (none: its A records are deleted).
    pub set: Vec<(String, Option<Rrset>)>,
    /// The registry's new list of names, with what it must list now (`Some(None)`: no
    /// registry yet); `None` leaves it alone.
    pub registry: Option<(Option<Vec<String>>, Vec<String>)>,
}

impl Update {
    /// The update for record changes (`name`, from, to), keeping the registry of names this tool
    /// wrote: names set are added, names deleted are dropped.
    pub fn new(
        changes: &[(String, Option<Rrset>, Option<Rrset>)],
        registry: &Option<Vec<String>>,
    ) -> Update {
        let mut names: Vec<String> = registry.clone().unwrap_or_default();
        for (name, _, to) in changes {
            match to {
                Some(_) if !names.contains(name) => names.push(name.clone()),
                None => names.retain(|n| n != name),
                _ => {}
            }
        }
        names.sort();
        let registry = (registry.as_ref() != Some(&names)).then(|| (registry.clone(), names));
        Update {
            expect: changes
                .iter()
                .map(|(n, from, _)| (n.clone(), from.clone()))
                .collect(),
            set: changes
                .iter()
                .map(|(n, _, to)| (n.clone(), to.clone()))
                .collect(),
            registry,
        }
    }
}

/// The names to ask the server about: the topology's records and the registry's.
pub fn names(zone: &Zone) -> Vec<String> {
    zone.records.iter().map(|r| r.fqdn.clone()).collect()
}

pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, DnsError>> + Send + 'a>>;

/// A zone's primary server, as plan and apply use it.
pub trait Authority: Send + Sync {
    /// The SOA serial, the A records at `names` (and at the registry's names), and the registry.
    fn observe<'a>(&'a self, names: &'a [String]) -> Pending<'a, ZoneFacts>;
    /// Sends `update` as one signed message; refused as a whole if a prerequisite fails.
    fn update<'a>(&'a self, update: &'a Update) -> Pending<'a, ()>;
}

/// What went wrong talking to a zone's server: each names the server, the zone and the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum DnsError {
    #[error("the DNS server {server} for zone {zone} cannot be reached: {detail}")]
    #[diagnostic(
        code(dns::unreachable),
        help("is named running there, and does it answer on TCP port {port} from this machine?")
    )]
    Unreachable {
        server: String,
        zone: String,
        port: u16,
        detail: String,
    },
    #[error(
        "the DNS server {server} refused {what} for zone {zone} signed with key `{key}`: {code}"
    )]
    #[diagnostic(code(dns::refused), help("{help}"))]
    Refused {
        server: String,
        zone: String,
        key: String,
        what: String,
        code: String,
        help: String,
    },
    #[error(
        "zone {zone} on {server} changed since it was read: {detail} (someone else changed it; nothing was overwritten)"
    )]
    #[diagnostic(
        code(dns::changed),
        help("run plan again to see the zone as it is now, then apply")
    )]
    Changed {
        server: String,
        zone: String,
        detail: String,
    },
    #[error("the answer of {server} for zone {zone} cannot be trusted: {detail}")]
    #[diagnostic(
        code(dns::answer),
        help(
            "the answer must be signed with key `{key}`; check that the server's key of that name has the same secret"
        )
    )]
    Answer {
        server: String,
        zone: String,
        key: String,
        detail: String,
    },
}

impl DnsError {
    /// Whether the server did not answer at all (a zone server the run installs answers later).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DnsError::Unreachable { .. })
    }

    /// Whether the server does not know the key or holds another secret for it (a zone server
    /// the run gives its key knows it later).
    pub fn is_key_mismatch(&self) -> bool {
        matches!(self, DnsError::Refused { code, .. } if code.contains("BADKEY") || code.contains("BADSIG"))
    }
}

/// The raw key from its base64 secret (as `tsig-keygen` prints it).
pub fn key_bytes(secret: &Secret) -> Result<Vec<u8>, String> {
    let text = secret.expose().trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| "it is not base64".to_string())?;
    if bytes.len() < 16 {
        return Err(format!(
            "it holds {} bytes; a key of at least 16 random bytes is needed (tsig-keygen makes 32)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// How to reach a zone's server and sign for it.
pub struct Settings {
    pub zone: String,
    /// The TXT record listing the names this tool wrote.
    pub registry: String,
    pub server: ZoneServer,
    pub key_name: String,
    pub algorithm: crate::topology::TsigAlgorithm,
    pub key: Vec<u8>,
}

impl Settings {
    /// From the rendered zone and the resolved secret; none when the zone is not managed live.
    pub fn of(zone: &Zone, secret: Option<&Secret>) -> Option<Settings> {
        let key = zone.key.as_ref()?;
        Some(Settings {
            zone: zone.zone.clone(),
            registry: zone.registry.clone(),
            server: zone.server.clone()?,
            key_name: key.name.clone(),
            algorithm: key.algorithm,
            key: key_bytes(secret?).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(a: &str) -> Option<Rrset> {
        Some(Rrset::new(60, vec![a.into()]))
    }

    #[test]
    fn the_registry_follows_the_names_written_and_deleted() {
        let u = Update::new(
            &[
                ("www.foobar.com".into(), None, set("10.0.0.1")),
                ("old.foobar.com".into(), set("10.0.0.2"), None),
            ],
            &Some(vec!["old.foobar.com".into()]),
        );
        assert_eq!(
            u.registry,
            Some((
                Some(vec!["old.foobar.com".into()]),
                vec!["www.foobar.com".into()]
            ))
        );
        assert_eq!(u.expect[1], ("old.foobar.com".into(), set("10.0.0.2")));
        // A changed address of a name already listed leaves the registry alone.
        let u = Update::new(
            &[("www.foobar.com".into(), set("10.0.0.1"), set("10.0.0.3"))],
            &Some(vec!["www.foobar.com".into()]),
        );
        assert_eq!(u.registry, None);
        // No registry yet: it is created.
        let u = Update::new(&[("www.foobar.com".into(), None, set("10.0.0.1"))], &None);
        assert_eq!(u.registry, Some((None, vec!["www.foobar.com".into()])));
    }

    #[test]
    fn keys_must_be_base64_and_long_enough() {
        assert!(key_bytes(&Secret::new("not base64!")).is_err());
        assert!(
            key_bytes(&Secret::new("c2hvcnQ="))
                .unwrap_err()
                .contains("5 bytes")
        );
        let k = "mP5sMoFfkUq4pDQAmZ0sN7m6WmJbTqGQ6b0yG1mX3iU=";
        assert_eq!(key_bytes(&Secret::new(k)).unwrap().len(), 32);
    }
}
