//! A zone's server over TCP: messages built and TSIG-signed with hickory-proto, every answer's
//! signature checked, and each refusal turned into an error that says what to fix.

use super::{Authority, DnsError, Pending, Rrset, Settings, Update, ZoneFacts};
use crate::topology::TsigAlgorithm as Algorithm;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_proto::rr::rdata::tsig::{TsigAlgorithm, TsigError};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, TSigner};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Seconds of clock difference a signature is accepted within (BIND's and RFC 8945's 300).
const FUDGE: u16 = 300;
const TIMEOUT: Duration = Duration::from_secs(5);

/// A zone's primary server, reached over TCP and signed for with the zone's key.
pub struct Server {
    settings: Settings,
    signer: TSigner,
    ids: AtomicU16,
}

fn algorithm(a: Algorithm) -> TsigAlgorithm {
    match a {
        Algorithm::HmacSha256 => TsigAlgorithm::HmacSha256,
        Algorithm::HmacSha384 => TsigAlgorithm::HmacSha384,
        Algorithm::HmacSha512 => TsigAlgorithm::HmacSha512,
    }
}

fn fqdn(name: &str) -> Result<Name, String> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|e| format!("`{name}` is not a DNS name: {e}"))
}

/// What went wrong, in the words an operator acts on.
enum Failure {
    Io(String),
    Refused { code: String, help: String },
    Changed(String),
    Answer(String),
}

impl Server {
    pub fn new(settings: Settings) -> Result<Server, String> {
        let signer = TSigner::new(
            settings.key.clone(),
            algorithm(settings.algorithm),
            fqdn(&settings.key_name)?,
            FUDGE,
        )
        .map_err(|e| format!("the TSIG key cannot sign: {e}"))?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() as u16);
        Ok(Server {
            settings,
            signer,
            ids: AtomicU16::new(seed),
        })
    }

    fn error(&self, what: &str, f: Failure) -> DnsError {
        let s = &self.settings;
        match f {
            Failure::Io(detail) => DnsError::Unreachable {
                server: s.server.to_string(),
                zone: s.zone.clone(),
                port: s.server.address.port(),
                detail,
            },
            Failure::Refused { code, help } => DnsError::Refused {
                server: s.server.to_string(),
                zone: s.zone.clone(),
                key: s.key_name.clone(),
                what: what.to_string(),
                code,
                help,
            },
            Failure::Changed(detail) => DnsError::Changed {
                server: s.server.to_string(),
                zone: s.zone.clone(),
                detail,
            },
            Failure::Answer(detail) => DnsError::Answer {
                server: s.server.to_string(),
                zone: s.zone.clone(),
                key: s.key_name.clone(),
                detail,
            },
        }
    }

    /// Signs `msg`, sends it on `stream` and returns the verified answer.
    async fn exchange(&self, stream: &mut TcpStream, mut msg: Message) -> Result<Message, Failure> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        msg.metadata.id = id;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut verifier = msg
            .finalize(&self.signer, now)
            .map_err(|e| Failure::Answer(format!("cannot sign the request: {e}")))?
            .ok_or_else(|| Failure::Answer("the request was not signed".into()))?;
        let bytes = msg
            .to_vec()
            .map_err(|e| Failure::Answer(format!("cannot encode the request: {e}")))?;
        let io = |e: std::io::Error| Failure::Io(e.to_string());
        let body = tokio::time::timeout(TIMEOUT, async {
            let len = u16::try_from(bytes.len()).map_err(|_| {
                std::io::Error::other("the request is larger than a DNS message may be")
            })?;
            stream.write_all(&len.to_be_bytes()).await?;
            stream.write_all(&bytes).await?;
            let mut len = [0u8; 2];
            stream.read_exact(&mut len).await?;
            let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
            stream.read_exact(&mut body).await?;
            Ok::<_, std::io::Error>(body)
        })
        .await
        .map_err(|_| Failure::Io(format!("no answer within {}s", TIMEOUT.as_secs())))?
        .map_err(io)?;
        let answer = Message::from_vec(&body)
            .map_err(|e| Failure::Answer(format!("the answer does not parse: {e}")))?;
        if answer.metadata.id != id {
            return Err(Failure::Answer("the answer is for another request".into()));
        }
        let code = answer.metadata.response_code;
        let tsig_error = answer.signature.as_ref().and_then(|s| s.data.error);
        if let Some(e) = tsig_error {
            return Err(self.tsig_refusal(code, e));
        }
        match code {
            ResponseCode::NotAuth => {
                return Err(Failure::Refused {
                    code: "NOTAUTH: the server is not authoritative for the zone".into(),
                    help: format!(
                        "send the updates to the zone's primary server (dns.server), which must serve zone {}",
                        self.settings.zone
                    ),
                });
            }
            ResponseCode::Refused => {
                return Err(Failure::Refused {
                    code: "REFUSED: its policy does not let this key change these names".into(),
                    help: format!(
                        "grant the key the names in the zone's update-policy (`grant \"{}\" name www.{}. A;`); on a host with the dns role, apply writes that policy",
                        self.settings.key_name, self.settings.zone
                    ),
                });
            }
            _ => {}
        }
        if answer.signature.is_none() {
            return Err(Failure::Answer(format!(
                "it is not signed ({})",
                code.to_str()
            )));
        }
        verifier
            .verify(&body)
            .map_err(|e| Failure::Answer(format!("its signature does not verify: {e}")))?;
        Ok(answer)
    }

    fn tsig_refusal(&self, code: ResponseCode, e: TsigError) -> Failure {
        let key = &self.settings.key_name;
        let (what, help) = match e {
            TsigError::BadKey => (
                "BADKEY: the server knows no key of that name and algorithm".to_string(),
                format!(
                    "dns.key.name (`{key}`) and dns.key.algorithm ({}) must match a `key` statement on the server; on a host with the dns role, apply writes it",
                    self.settings.algorithm.name()
                ),
            ),
            TsigError::BadSig => (
                "BADSIG: the key's secret is not the server's".to_string(),
                format!("dns.key.secret must hold the same secret as the server's key `{key}`"),
            ),
            TsigError::BadTime => (
                "BADTIME: the clocks differ too much".to_string(),
                format!(
                    "this machine's clock and the server's differ by more than {FUDGE} s: set both right (NTP)"
                ),
            ),
            other => (
                format!("TSIG error {other:?}"),
                "check the key on both sides".to_string(),
            ),
        };
        Failure::Refused {
            code: format!("{} (TSIG {what})", code.to_str()),
            help,
        }
    }

    async fn connect(&self) -> Result<TcpStream, Failure> {
        tokio::time::timeout(TIMEOUT, TcpStream::connect(self.settings.server.address))
            .await
            .map_err(|_| Failure::Io(format!("no connection within {}s", TIMEOUT.as_secs())))?
            .map_err(|e| Failure::Io(e.to_string()))
    }

    fn query(name: Name, rtype: RecordType) -> Message {
        let mut m = Message::new(0, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = false;
        m.add_query(Query::query(name, rtype));
        m
    }

    /// The answer's records of `rtype` at `name`; an error when the server is not the zone's
    /// authority.
    async fn ask(
        &self,
        stream: &mut TcpStream,
        name: &str,
        rtype: RecordType,
    ) -> Result<Vec<Record>, Failure> {
        let n = fqdn(name).map_err(Failure::Answer)?;
        let answer = self.exchange(stream, Self::query(n.clone(), rtype)).await?;
        let code = answer.metadata.response_code;
        if code != ResponseCode::NoError && code != ResponseCode::NXDomain {
            return Err(Failure::Refused {
                code: code.to_str().to_string(),
                help: "see the server's log (journalctl -u named)".into(),
            });
        }
        if !answer.metadata.authoritative {
            return Err(Failure::Refused {
                code: format!("its answer for {name} is not authoritative"),
                help: format!(
                    "the server must be a primary for zone {}: check its zone statement",
                    self.settings.zone
                ),
            });
        }
        Ok(answer
            .answers
            .into_iter()
            .filter(|r| r.record_type() == rtype && r.name == n)
            .collect())
    }

    async fn a_records(
        &self,
        stream: &mut TcpStream,
        name: &str,
    ) -> Result<Option<Rrset>, Failure> {
        let records = self.ask(stream, name, RecordType::A).await?;
        let ttl = records.iter().map(|r| r.ttl).min();
        let addresses: Vec<String> = records
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0.to_string()),
                _ => None,
            })
            .collect();
        Ok(ttl.map(|ttl| Rrset::new(ttl, addresses)))
    }

    async fn observe_inner(&self, names: &[String]) -> Result<ZoneFacts, Failure> {
        let mut stream = self.connect().await?;
        let zone = self.settings.zone.clone();
        let soa = self.ask(&mut stream, &zone, RecordType::SOA).await?;
        let serial = soa
            .iter()
            .find_map(|r| match &r.data {
                RData::SOA(s) => Some(s.serial),
                _ => None,
            })
            .ok_or_else(|| Failure::Refused {
                code: format!("it has no SOA record for {zone}"),
                help: format!("the server must serve zone {zone} as its primary"),
            })?;
        let registry_name = self.settings.registry.clone();
        // The registry as the server holds it, strings in its order (a prerequisite compares the
        // record exactly); one record, or it was changed by hand.
        let texts: Vec<Vec<String>> = self
            .ask(&mut stream, &registry_name, RecordType::TXT)
            .await?
            .into_iter()
            .filter_map(|r| match r.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .collect();
        if texts.len() > 1 {
            return Err(Failure::Refused {
                code: format!(
                    "{registry_name} holds {} TXT records, where this tool writes one",
                    texts.len()
                ),
                help: format!(
                    "it was changed by hand: delete it (`nsupdate`: update delete {registry_name} TXT) and apply again; only the names it listed lose the right to be pruned"
                ),
            });
        }
        let registry = texts.into_iter().next();
        // Names of this zone only: a name elsewhere is not this server's to answer.
        let suffix = format!(".{zone}");
        let mut all: Vec<String> = names.to_vec();
        all.extend(
            registry
                .iter()
                .flatten()
                .filter(|n| n.ends_with(&suffix) || **n == zone)
                .cloned(),
        );
        all.sort();
        all.dedup();
        let mut records = std::collections::BTreeMap::new();
        for name in all {
            let set = self.a_records(&mut stream, &name).await?;
            records.insert(name, set);
        }
        Ok(ZoneFacts {
            serial,
            records,
            registry,
        })
    }

    async fn update_inner(&self, update: &Update) -> Result<(), Failure> {
        let msg = message(&self.settings.zone, &self.settings.registry, update)
            .map_err(Failure::Answer)?;
        let mut stream = self.connect().await?;
        let answer = self.exchange(&mut stream, msg).await?;
        match answer.metadata.response_code {
            ResponseCode::NoError => Ok(()),
            c @ (ResponseCode::YXRRSet
            | ResponseCode::NXRRSet
            | ResponseCode::YXDomain
            | ResponseCode::NXDomain) => Err(Failure::Changed(format!(
                "a record no longer holds what the plan saw ({})",
                c.to_str()
            ))),
            c => Err(Failure::Refused {
                code: c.to_str().to_string(),
                help: "see the server's log (journalctl -u named)".into(),
            }),
        }
    }
}

/// The A records of an RRset at `name`, with `class` and `ttl` (RFC 2136 uses both as markers).
fn a_records(name: &Name, set: &Rrset, class: DNSClass, ttl: u32) -> Result<Vec<Record>, String> {
    set.addresses
        .iter()
        .map(|a| {
            let ip: Ipv4Addr = a
                .parse()
                .map_err(|_| format!("{a} is not an IPv4 address: only A records are managed"))?;
            let mut r = Record::from_rdata(name.clone(), ttl, RData::A(A(ip)));
            r.dns_class = class;
            Ok(r)
        })
        .collect()
}

fn txt(name: &Name, names: &[String], class: DNSClass, ttl: u32) -> Record {
    let mut r = Record::from_rdata(name.clone(), ttl, RData::TXT(TXT::new(names.to_vec())));
    r.dns_class = class;
    r
}

/// "The RRset does not exist" (RFC 2136 2.4.3): class NONE, no data.
fn absent(name: &Name, rtype: RecordType) -> Record {
    let mut r = Record::update0(name.clone(), 0, rtype);
    r.dns_class = DNSClass::NONE;
    r
}

/// "Delete an RRset" (RFC 2136 2.5.2): class ANY, no data.
fn delete(name: &Name, rtype: RecordType) -> Record {
    let mut r = Record::update0(name.clone(), 0, rtype);
    r.dns_class = DNSClass::ANY;
    r
}

/// The update message: the zone, a prerequisite for each name (exactly the records the plan saw,
/// or none), then for each name its old records deleted and the new ones added.
pub fn message(zone: &str, registry: &str, u: &Update) -> Result<Message, String> {
    let origin = fqdn(zone)?;
    let mut m = Message::new(0, MessageType::Query, OpCode::Update);
    let mut z = Query::new();
    z.set_name(origin.clone())
        .set_query_class(DNSClass::IN)
        .set_query_type(RecordType::SOA);
    m.add_zone(z);
    for (name, from) in &u.expect {
        let n = fqdn(name)?;
        match from {
            // Value-dependent: the RRset holds exactly these records (RFC 2136 2.4.2).
            Some(set) => m.add_pre_requisites(a_records(&n, set, DNSClass::IN, 0)?),
            None => m.add_pre_requisite(absent(&n, RecordType::A)),
        }
    }
    let registry = fqdn(registry)?;
    if let Some((from, _)) = &u.registry {
        match from {
            Some(names) => m.add_pre_requisite(txt(&registry, names, DNSClass::IN, 0)),
            None => m.add_pre_requisite(absent(&registry, RecordType::TXT)),
        }
    }
    for (name, to) in &u.set {
        let n = fqdn(name)?;
        m.add_update(delete(&n, RecordType::A));
        if let Some(set) = to {
            m.add_updates(a_records(&n, set, DNSClass::IN, set.ttl)?);
        }
    }
    if let Some((_, names)) = &u.registry {
        m.add_update(delete(&registry, RecordType::TXT));
        if !names.is_empty() {
            m.add_update(txt(&registry, names, DNSClass::IN, 0));
        }
    }
    Ok(m)
}

impl Authority for Server {
    fn observe<'a>(&'a self, names: &'a [String]) -> Pending<'a, ZoneFacts> {
        Box::pin(async move {
            self.observe_inner(names)
                .await
                .map_err(|f| self.error("a query", f))
        })
    }

    fn update<'a>(&'a self, update: &'a Update) -> Pending<'a, ()> {
        Box::pin(async move {
            self.update_inner(update)
                .await
                .map_err(|f| self.error("the update", f))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_carries_a_prerequisite_per_name_and_replaces_each_rrset() {
        let u = Update::new(
            &[
                (
                    "www.foobar.com".into(),
                    None,
                    Some(Rrset::new(60, vec!["10.0.0.1".into()])),
                ),
                (
                    "api.foobar.com".into(),
                    Some(Rrset::new(60, vec!["10.0.0.2".into()])),
                    Some(Rrset::new(60, vec!["10.0.0.3".into()])),
                ),
            ],
            &Some(vec!["api.foobar.com".into()]),
        );
        let m = message("foobar.com", "_foobar-infra.foobar.com", &u).unwrap();
        let prereqs = &m.answers;
        // www: none exists; api: exactly 10.0.0.2; the registry: exactly [api].
        assert_eq!(prereqs.len(), 3);
        assert_eq!(prereqs[0].dns_class, DNSClass::NONE);
        assert_eq!(prereqs[1].data, RData::A(A("10.0.0.2".parse().unwrap())));
        assert_eq!(prereqs[1].ttl, 0);
        assert_eq!(prereqs[2].record_type(), RecordType::TXT);
        let updates = &m.authorities;
        // Each name: delete the RRset, add the new record; then the registry.
        let kinds: Vec<(String, DNSClass)> = updates
            .iter()
            .map(|r| (r.name.to_string(), r.dns_class))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("www.foobar.com.".into(), DNSClass::ANY),
                ("www.foobar.com.".into(), DNSClass::IN),
                ("api.foobar.com.".into(), DNSClass::ANY),
                ("api.foobar.com.".into(), DNSClass::IN),
                ("_foobar-infra.foobar.com.".into(), DNSClass::ANY),
                ("_foobar-infra.foobar.com.".into(), DNSClass::IN),
            ]
        );
        assert_eq!(m.metadata.op_code, OpCode::Update);
    }

    #[test]
    fn only_ipv4_addresses_make_a_records() {
        let u = Update::new(
            &[(
                "www.foobar.com".into(),
                None,
                Some(Rrset::new(60, vec!["2001:db8::1".into()])),
            )],
            &None,
        );
        assert!(
            message("foobar.com", "_foobar-infra.foobar.com", &u)
                .unwrap_err()
                .contains("only A records")
        );
    }
}
