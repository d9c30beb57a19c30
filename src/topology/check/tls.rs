//! HTTPS at the load balancer: the certificate file reads as a PEM chain, is valid now and for
//! a while yet, covers every name the site answers to, and its key (when it can be read here)
//! belongs to it.

use super::context::Context;
use super::database::secret;
use crate::certificate::{Chain, Summary};
use crate::diagnostic::Problem;
use crate::topology::Sp;
use crate::topology::model::*;

/// A certificate that expires within this many days is warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The largest certificate file read: a chain is a few kilobytes.
const MAX_CHAIN_BYTES: u64 = 1024 * 1024;

/// The largest key read: a PEM key is a few kilobytes.
const MAX_KEY_BYTES: usize = 64 * 1024;

pub(super) fn tls(t: &Topology, ctx: &Context, out: &mut Vec<Problem>) {
    let Some(tls) = t.load_balancer.as_ref().and_then(|lb| lb.tls.as_ref()) else {
        return;
    };
    secret(ctx, &tls.key, "the TLS key", out);
    let cert = &tls.certificate;
    let path = crate::topology::local_path(ctx.base_dir, &cert.value);
    let text = match crate::input_file::read_text(&path, MAX_CHAIN_BYTES) {
        Ok(text) => text,
        Err(e) => {
            out.push(
                Problem::error(
                    "topology::tls-certificate",
                    cert.span,
                    format!("cannot read the certificate {}: {e}", path.display()),
                )
                .label("unreadable")
                .help("load_balancer.tls.certificate is a PEM file (the site's certificate first, then its chain), relative to the topology's folder; for the lab, `foobar-infra lab up` issues one from the lab CA (tls/site.pem in its state folder)"),
            );
            return;
        }
    };
    let chain = match Chain::parse(text.as_bytes()) {
        Ok(chain) => chain,
        Err(e) => {
            out.push(
                Problem::error(
                    "topology::tls-certificate",
                    cert.span,
                    format!("{} is not a certificate chain: {e}", path.display()),
                )
                .label("not a PEM certificate chain")
                .help("give the PEM file of the certificate and its intermediates (`fullchain.pem`), the site's certificate first; the key goes in `key`"),
            );
            return;
        }
    };
    let leaf = &chain.leaf;
    validity(leaf, ctx.now, cert, out);
    // The chain's other certificates run out too: a client refuses the chain at the first.
    for c in chain.certificates.iter().skip(1) {
        if c.not_after <= ctx.now {
            out.push(
                Problem::error(
                    "topology::tls-expired",
                    cert.span,
                    format!(
                        "the chain's certificate {} expired on {}",
                        c.subject,
                        c.expires()
                    ),
                )
                .label("expired in the chain")
                .help("get the current intermediate certificate from the CA and put it after the site's"),
            );
        } else if c.days_left(ctx.now) < EXPIRY_WARNING_DAYS {
            out.push(
                Problem::warning(
                    "topology::tls-expiring",
                    cert.span,
                    format!(
                        "the chain's certificate {} expires in {} days, on {}",
                        c.subject,
                        c.days_left(ctx.now),
                        c.expires()
                    ),
                )
                .label("expires soon")
                .help("get the CA's current intermediate certificate"),
            );
        }
    }
    if let Some(i) = chain.out_of_order() {
        out.push(
            Problem::warning(
                "topology::tls-chain-order",
                cert.span,
                format!(
                    "certificate {i} of {} is not issued by certificate {} (`{}` is issued by `{}`)",
                    path.display(),
                    i + 1,
                    chain.certificates[i - 1].subject,
                    chain.certificates[i - 1].issuer,
                ),
            )
            .label("chain out of order")
            .help("put the site's certificate first, then each certificate that issued the one before it"),
        );
    }
    if let Some(web) = &t.web {
        let missing: Vec<&str> = web
            .server_names
            .iter()
            .map(|n| n.value.as_str())
            .filter(|n| !leaf.covers(n))
            .collect();
        if !missing.is_empty() {
            out.push(
                Problem::error(
                    "topology::tls-name",
                    cert.span,
                    format!(
                        "the certificate does not cover {} (it names {})",
                        quoted(&missing),
                        if leaf.names.is_empty() {
                            "no DNS name".to_string()
                        } else {
                            quoted(&leaf.names)
                        }
                    ),
                )
                .label("wrong names")
                .help("get a certificate whose subjectAltName lists every web.server_names entry (a `*.` name covers one label), or drop the names it does not cover"),
            );
        }
    }
    key(tls, ctx, &chain, out);
}

fn validity(leaf: &Summary, now: i64, cert: &Sp<String>, out: &mut Vec<Problem>) {
    let days = leaf.days_left(now);
    if leaf.not_after <= now {
        out.push(
            Problem::error(
                "topology::tls-expired",
                cert.span,
                format!("the certificate expired on {}", leaf.expires()),
            )
            .label("expired")
            .help("renew it and point load_balancer.tls.certificate at the new one"),
        );
    } else if leaf.not_before > now {
        out.push(
            Problem::error(
                "topology::tls-not-yet-valid",
                cert.span,
                format!(
                    "the certificate is valid only from {}",
                    crate::certificate::utc(leaf.not_before)
                ),
            )
            .label("not valid yet")
            .help("check this machine's clock, or wait until then"),
        );
    } else if days < EXPIRY_WARNING_DAYS {
        out.push(
            Problem::warning(
                "topology::tls-expiring",
                cert.span,
                format!(
                    "the certificate expires in {days} days, on {}",
                    leaf.expires()
                ),
            )
            .label("expires soon")
            .help("renew it now; apply swaps the new one in without dropping a connection"),
        );
    }
}

/// The key, when it can be read here, must be the certificate's.
fn key(tls: &Tls, ctx: &Context, chain: &Chain, out: &mut Vec<Problem>) {
    let available = match &tls.key.value {
        SecretSource::Env(var) => (ctx.env)(&var.value).is_some_and(|v| !v.is_empty()),
        SecretSource::File(p) => crate::topology::local_path(ctx.base_dir, &p.value).is_file(),
        SecretSource::Inline(_) => true,
    };
    if !available {
        return;
    }
    let Ok(key) = crate::secret::resolve(
        &tls.key.value,
        ctx.base_dir,
        ctx.env,
        "the TLS key",
        "load_balancer.tls.key",
    ) else {
        return;
    };
    if key.expose().len() > MAX_KEY_BYTES {
        return;
    }
    match chain.key_matches(key.expose()) {
        Ok(true) => {}
        Ok(false) => out.push(
            Problem::error(
                "topology::tls-key-mismatch",
                tls.key.span,
                "the TLS key does not belong to the certificate",
            )
            .label("another certificate's key")
            .help("give the key the certificate was issued for (its public key must be the certificate's)"),
        ),
        // Never quote the key: only say what it is not.
        Err(e) => out.push(
            Problem::warning("topology::tls-key", tls.key.span, format!("cannot check the TLS key against the certificate: {e}"))
                .label("not read")
                .help("HAProxy reads other forms too; to have it checked here, convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8`"),
        ),
    }
}

fn quoted(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
