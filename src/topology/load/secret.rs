//! Where a secret comes from: the environment, a file, or (for a throwaway lab) the topology.

use super::grammar::{ENV_NAME, INVALID_VALUE, LOCAL_PATH, printable_line};
use super::keys::Section;
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::{Node, Value};

/// Reads a secret's source at `section` (`database.password`, `dns.key.secret`); `var` is the
/// variable the help suggests.
pub(super) fn secret(
    node: &Node,
    section: &Section,
    var: &str,
    d: &mut Decoder,
) -> Option<Sp<SecretSource>> {
    let what = section.name;
    let key = what.rsplit('.').next().unwrap_or(what);
    let file = var
        .trim_start_matches("FOOBAR_")
        .to_lowercase()
        .replace('_', "-");
    if let Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) = node.value {
        d.push(
            Problem::error("topology::inline-secret", node.span, format!("{what} is written inline in the topology"))
                .label("secret in plain text")
                .help(format!("read it from the environment (`{key}: {{ env: {var} }}`) or a file (`{key}: {{ file: secrets/{file} }}`); for a throwaway lab only, write `{key}: {{ value: ..., insecure: true }}`")),
        );
        return None;
    }
    let f = d.map(node, what, &section.names())?;
    let insecure = f
        .get("insecure")
        .and_then(|n| d.bool(n, &format!("{what}.insecure")))
        .unwrap_or(false);
    match (f.get("env"), f.get("file"), f.get("value")) {
        (Some(e), None, None) => {
            let var = ENV_NAME.read(e, &format!("{what}.env"), d)?;
            Some(Sp::new(SecretSource::Env(var), e.span))
        }
        (None, Some(p), None) => {
            let path = LOCAL_PATH.read(p, &format!("{what}.file"), d)?;
            Some(Sp::new(SecretSource::File(path), p.span))
        }
        (None, None, Some(v)) if insecure => {
            let value = d.string(v, &format!("{what}.value"))?;
            // It is written into app.env and the SQL: one line. The message never quotes it.
            if let Err(reason) = printable_line(&value) {
                d.push(
                    Problem::error(
                        INVALID_VALUE,
                        value.span,
                        format!("{what}.value contains a control character"),
                    )
                    .label(reason)
                    .help("a secret is one line of printable text (no line break, tab or NUL)"),
                );
                return None;
            }
            Some(Sp::new(SecretSource::Inline(value), v.span))
        }
        (None, None, Some(v)) => {
            d.push(
                Problem::error("topology::inline-secret", v.span, format!("{what}.value is a secret written inline in the topology"))
                    .label("secret in plain text")
                    .help("use `env:` or `file:` instead; for a throwaway lab only, add `insecure: true` beside it"),
            );
            None
        }
        _ => {
            d.push(
                Problem::error(
                    "topology::invalid-value",
                    node.span,
                    format!("{what} needs exactly one of `env`, `file` or `value`"),
                )
                .label("one source")
                .help(format!("e.g. `{key}: {{ env: {var} }}`")),
            );
            None
        }
    }
}
