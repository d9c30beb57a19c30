//! The lab's certificate authority and the site certificate it issues, so that the lab serves
//! HTTPS that its clients can trust (by trusting `ca.pem`) without any public CA. Kept in the
//! lab's state folder: `tls/ca.pem`, `tls/ca.key` (0600, made once and never shown),
//! `tls/site.pem` and `tls/site.key` (0600), which a lab inventory's `load_balancer.tls` names.
//! The site certificate is issued again when it is missing, does not cover the site's names, or
//! has fewer than 30 days left.

use super::LabError;
use crate::certificate::Chain;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// How long the lab CA is valid.
const CA_DAYS: i64 = 3650;
/// How long a site certificate is valid: short, as public CAs' are; `lab up` renews it.
const SITE_DAYS: i64 = 90;
/// A site certificate with fewer days left than this is issued again.
const RENEW_DAYS: i64 = 30;

/// The lab's TLS files.
#[derive(Clone, Debug)]
pub struct LabTls {
    /// The CA's certificate: what clients trust.
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    /// The site's certificate (PEM) and its key.
    pub certificate: PathBuf,
    pub key: PathBuf,
}

impl LabTls {
    pub fn in_dir(state_dir: &Path) -> LabTls {
        let dir = state_dir.join("tls");
        LabTls {
            ca: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            certificate: dir.join("site.pem"),
            key: dir.join("site.key"),
        }
    }
}

/// What `ensure` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issued {
    /// The site certificate covers the names and has time left.
    Kept,
    /// A new site certificate (and, the first time, the CA).
    New,
}

fn error(e: impl std::fmt::Display) -> LabError {
    LabError::State(format!("the lab CA: {e}"))
}

/// A new CA: its certificate (PEM) and key.
pub fn new_ca(now: OffsetDateTime) -> Result<(String, KeyPair), LabError> {
    let key = KeyPair::generate().map_err(error)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "foobar-infra lab CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_DAYS);
    let cert = params.self_signed(&key).map_err(error)?;
    Ok((cert.pem(), key))
}

/// A site certificate for `names` signed by the CA: its PEM and its key's PEM.
pub fn issue(
    ca_pem: &str,
    ca_key: KeyPair,
    names: &[String],
    now: OffsetDateTime,
) -> Result<(String, String), LabError> {
    let issuer = Issuer::from_ca_cert_pem(ca_pem, ca_key).map_err(error)?;
    let key = KeyPair::generate().map_err(error)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(error)?;
    if let Some(first) = names.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(SITE_DAYS);
    let cert = params.signed_by(&key, &issuer).map_err(error)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Whether the site certificate (PEM, if any) must be issued again for `names` at `now`.
pub fn needs_new(site_pem: Option<&str>, names: &[String], now: i64) -> bool {
    let Some(chain) = site_pem.and_then(|p| Chain::parse(p.as_bytes()).ok()) else {
        return true;
    };
    chain.leaf.days_left(now) < RENEW_DAYS || !names.iter().all(|n| chain.leaf.covers(n))
}

/// Makes the CA once and the site certificate when `needs_new` says so.
pub fn ensure(files: &LabTls, names: &[String]) -> Result<Issued, LabError> {
    let now = OffsetDateTime::now_utc();
    let site = std::fs::read_to_string(&files.certificate).ok();
    // Kept only whole: a site certificate that covers the names, has time left, and matches
    // the key beside it (a run cut between the two writes left them apart).
    let pair_matches = site
        .as_deref()
        .and_then(|p| crate::certificate::Chain::parse(p.as_bytes()).ok())
        .zip(std::fs::read_to_string(&files.key).ok())
        .is_some_and(|(chain, key)| chain.key_matches(&key).unwrap_or(false));
    if !needs_new(site.as_deref(), names, now.unix_timestamp()) && pair_matches {
        return Ok(Issued::Kept);
    }
    if let Some(dir) = files.ca.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    }
    let (ca_pem, ca_key) = match (
        std::fs::read_to_string(&files.ca),
        std::fs::read_to_string(&files.ca_key),
    ) {
        (Ok(pem), Ok(key)) => (
            pem,
            KeyPair::from_pem(&key)
                .map_err(|_| error("its key file is not a PEM private key it can read"))?,
        ),
        _ => {
            let (pem, key) = new_ca(now)?;
            write(&files.ca_key, &key.serialize_pem(), 0o600)?;
            write(&files.ca, &pem, 0o644)?;
            (pem, key)
        }
    };
    let (cert, key) = issue(&ca_pem, ca_key, names, now)?;
    // The key first: a certificate is never there without its key.
    write(&files.key, &key, 0o600)?;
    write(&files.certificate, &cert, 0o644)?;
    Ok(Issued::New)
}

fn io(what: &str, path: &Path, e: std::io::Error) -> LabError {
    LabError::State(format!("cannot {what} {}: {e}", path.display()))
}

/// Writes `text` to a new file of mode `mode` beside `path`, then renames it over `path`: a key
/// is never readable by others, not even for a moment.
fn write(path: &Path, text: &str, mode: u32) -> Result<(), LabError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| io("create", &tmp, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_site_certificate_is_issued_by_the_ca_for_the_names() {
        let now = OffsetDateTime::now_utc();
        let (ca_pem, ca_key) = new_ca(now).unwrap();
        let ca = Chain::parse(ca_pem.as_bytes()).unwrap().leaf;
        let (site, key) = issue(
            &ca_pem,
            ca_key,
            &names(&["www.foobar.test", "foobar.test"]),
            now,
        )
        .unwrap();
        let chain = Chain::parse(site.as_bytes()).unwrap();
        assert_eq!(chain.leaf.issuer, ca.subject);
        assert_eq!(chain.leaf.names, ["www.foobar.test", "foobar.test"]);
        assert!(chain.key_matches(&key).unwrap());
        assert_eq!(chain.leaf.days_left(now.unix_timestamp()), SITE_DAYS);
    }

    #[test]
    fn a_site_certificate_is_renewed_when_missing_short_of_time_or_names() {
        let now = OffsetDateTime::now_utc();
        let (ca_pem, ca_key) = new_ca(now).unwrap();
        let want = names(&["www.foobar.test"]);
        let (site, _) = issue(&ca_pem, ca_key, &want, now).unwrap();
        let t = now.unix_timestamp();
        assert!(needs_new(None, &want, t));
        assert!(needs_new(Some("garbage"), &want, t));
        assert!(!needs_new(Some(&site), &want, t));
        assert!(needs_new(Some(&site), &names(&["api.foobar.test"]), t));
        let late = t + (SITE_DAYS - RENEW_DAYS + 1) * 86_400;
        assert!(needs_new(Some(&site), &want, late));
    }

    #[test]
    fn ensure_makes_the_ca_once_and_keeps_keys_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let files = LabTls::in_dir(dir.path());
        let want = names(&["www.foobar.test", "foobar.test"]);
        assert_eq!(ensure(&files, &want).unwrap(), Issued::New);
        let ca = std::fs::read_to_string(&files.ca).unwrap();
        assert_eq!(ensure(&files, &want).unwrap(), Issued::Kept);
        for key in [&files.ca_key, &files.key] {
            let mode = std::fs::metadata(key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
        // New names: a new site certificate from the same CA.
        assert_eq!(
            ensure(&files, &names(&["api.foobar.test"])).unwrap(),
            Issued::New
        );
        assert_eq!(std::fs::read_to_string(&files.ca).unwrap(), ca);
        let site = std::fs::read_to_string(&files.certificate).unwrap();
        let key = std::fs::read_to_string(&files.key).unwrap();
        assert!(
            Chain::parse(site.as_bytes())
                .unwrap()
                .key_matches(&key)
                .unwrap()
        );
    }
}
