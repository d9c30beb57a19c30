//! X.509 certificates as the tool sees them: a PEM chain read into what a person checks
//! (fingerprint, subject, names, expiry), whether a private key belongs to it, and whether its
//! names cover a host name (RFC 6125). Pure: callers read the files and give the time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

/// Seconds in a day, for days left.
const DAY: i64 = 86_400;

/// What can be wrong with a certificate chain or its key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)")]
    Empty,
    #[error("PEM block {index} is not valid PEM: {reason}")]
    Pem { index: usize, reason: String },
    #[error("PEM block {index} is a `{label}`, not a certificate")]
    NotCertificate { index: usize, label: String },
    #[error("certificate {index} does not parse as X.509: {reason}")]
    X509 { index: usize, reason: String },
    #[error("the key is not a PKCS #8 PEM private key (`-----BEGIN PRIVATE KEY-----`): {reason}")]
    Key { reason: String },
}

/// What a person checks of a certificate, safe to show: never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// SHA-256 of the DER, as `openssl x509 -fingerprint -sha256` prints it.
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    /// The DNS names and IP addresses of its subjectAltName.
    pub names: Vec<String>,
    /// Validity, in seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
}

impl Summary {
    /// Whole days from `now` until it expires; negative once it has.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(DAY)
    }

    /// `2027-02-20 12:00 UTC`.
    pub fn expires(&self) -> String {
        utc(self.not_after)
    }

    /// Whether one of its names covers `host` (RFC 6125 §6.4: a `*` stands for exactly the
    /// left-most label, and only as a whole label).
    pub fn covers(&self, host: &str) -> bool {
        self.names.iter().any(|n| name_covers(n, host))
    }
}

/// A PEM chain: the site's certificate first, then the ones that issued it.
#[derive(Clone, Debug)]
pub struct Chain {
    pub leaf: Summary,
    /// Every certificate, leaf first.
    pub certificates: Vec<Summary>,
    /// The leaf's public key (the subjectPublicKey bits), to match a private key against.
    leaf_public_key: Vec<u8>,
}

impl Chain {
    /// Reads a PEM chain. Every block must be a certificate that parses.
    pub fn parse(pem: &[u8]) -> Result<Chain, CertificateError> {
        let mut certificates = Vec::new();
        let mut leaf_public_key = None;
        for (i, block) in Pem::iter_from_buffer(pem).enumerate() {
            let index = i + 1;
            let block = block.map_err(|e| CertificateError::Pem {
                index,
                reason: e.to_string(),
            })?;
            if block.label != "CERTIFICATE" {
                return Err(CertificateError::NotCertificate {
                    index,
                    label: block.label,
                });
            }
            let cert = block.parse_x509().map_err(|e| CertificateError::X509 {
                index,
                reason: e.to_string(),
            })?;
            if leaf_public_key.is_none() {
                leaf_public_key = Some(cert.public_key().subject_public_key.data.to_vec());
            }
            certificates.push(summary(&block.contents, &cert));
        }
        match (certificates.first(), leaf_public_key) {
            (Some(leaf), Some(key)) => Ok(Chain {
                leaf: leaf.clone(),
                certificates,
                leaf_public_key: key,
            }),
            _ => Err(CertificateError::Empty),
        }
    }

    /// Whether the PEM private key is the leaf's. Only PKCS #8 keys are read (what
    /// `openssl genpkey`, certbot and rcgen write).
    pub fn key_matches(&self, key_pem: &str) -> Result<bool, CertificateError> {
        // A parser's message about a key may quote a line of it: only a fixed reason is kept.
        let key = rcgen::KeyPair::from_pem(key_pem).map_err(|_| CertificateError::Key {
            reason: "it is not a PEM PKCS #8 private key of a supported type".into(),
        })?;
        Ok(key.public_key_raw() == self.leaf_public_key.as_slice())
    }

    /// Certificates that are not issued by the one after them (by name): a chain out of order.
    pub fn out_of_order(&self) -> Option<usize> {
        self.certificates
            .windows(2)
            .position(|w| w[0].issuer != w[1].subject)
            .map(|i| i + 1)
    }
}

fn summary(der: &[u8], cert: &x509_parser::certificate::X509Certificate<'_>) -> Summary {
    let digest = Sha256::digest(der);
    let sha256 = digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push(d.to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                        names.push(std::net::Ipv4Addr::from(a).to_string());
                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                        names.push(std::net::Ipv6Addr::from(a).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Summary {
        sha256,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    }
}

/// A throwaway self-signed certificate and its key (PEM), for checking a configuration whose
/// real key is not at hand.
pub fn stand_in() -> (String, String) {
    // Generating a P-256 key and signing one certificate cannot fail with rcgen's own defaults.
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    let cert = rcgen::CertificateParams::new(vec!["stand-in.invalid".to_string()])
        .and_then(|p| p.self_signed(&key))
        .expect("a self-signed certificate");
    (cert.pem(), key.serialize_pem())
}

/// `YYYY-MM-DD HH:MM UTC` for a Unix time.
pub fn utc(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => format!("{unix} (Unix time)"),
    }
}

/// RFC 6125 matching of one certificate name against a host name: case-insensitive, a trailing
/// dot ignored, a wildcard only as the whole left-most label and never matching an empty label
/// or more than one.
pub fn name_covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            // At least two labels after the wildcard: `*.com` covers nothing.
            rest.contains('.')
                && !rest.contains('*')
                && host
                    .split_once('.')
                    .is_some_and(|(first, tail)| !first.is_empty() && tail == rest)
        }
        None => !pattern.contains('*') && pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_wildcard_covers_one_left_most_label() {
        assert!(name_covers("*.foobar.com", "www.foobar.com"));
        assert!(name_covers("*.Foobar.com.", "WWW.foobar.com"));
        assert!(!name_covers("*.foobar.com", "foobar.com"));
        assert!(!name_covers("*.foobar.com", "a.b.foobar.com"));
        assert!(!name_covers("*.com", "foobar.com"));
        assert!(!name_covers("w*.foobar.com", "www.foobar.com"));
        assert!(!name_covers("www.*.com", "www.foobar.com"));
        assert!(name_covers("foobar.com", "foobar.com."));
        assert!(!name_covers("foobar.com", "www.foobar.com"));
    }

    #[test]
    fn a_chain_is_read_with_its_names_and_its_key() {
        let (cert, key) = self_signed(&["foobar.com", "*.foobar.com", "10.0.0.1"]);
        let chain = Chain::parse(cert.as_bytes()).unwrap();
        assert_eq!(chain.leaf.names, ["foobar.com", "*.foobar.com", "10.0.0.1"]);
        assert_eq!(chain.leaf.sha256.len(), 32 * 3 - 1);
        assert!(chain.leaf.covers("www.foobar.com"));
        assert!(!chain.leaf.covers("foobar.org"));
        assert!(chain.key_matches(&key).unwrap());
        let (_, other) = self_signed(&["foobar.com"]);
        assert!(!chain.key_matches(&other).unwrap());
        assert!(matches!(
            chain.key_matches("not a key"),
            Err(CertificateError::Key { .. })
        ));
    }

    #[test]
    fn what_is_not_a_chain_is_refused() {
        assert_eq!(Chain::parse(b"").unwrap_err(), CertificateError::Empty);
        let (_, key) = self_signed(&["foobar.com"]);
        assert!(matches!(
            Chain::parse(key.as_bytes()).unwrap_err(),
            CertificateError::NotCertificate { index: 1, .. }
        ));
        let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            Chain::parse(broken.as_bytes()).unwrap_err(),
            CertificateError::X509 { index: 1, .. }
        ));
    }

    #[test]
    fn days_left_count_whole_days_and_go_negative() {
        let s = Summary {
            sha256: String::new(),
            subject: String::new(),
            issuer: String::new(),
            names: Vec::new(),
            not_before: 0,
            not_after: 10 * DAY,
        };
        assert_eq!(s.days_left(0), 10);
        assert_eq!(s.days_left(DAY / 2), 9);
        assert_eq!(s.days_left(11 * DAY), -1);
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
    }
}
