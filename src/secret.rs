//! Secret values: resolved only when a command really needs them (plan, apply), never stored in
//! the model, and redacted everywhere else.

use crate::topology::SecretSource;
use std::fmt;
use std::path::Path;

/// What rendered files show in place of a secret that was not resolved.
pub const REDACTED: &str = "(redacted)";

/// A secret value. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the few places that must hand it on (stdin of a remote process).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Reads a secret from where the topology says it is; `what` names it in errors (`the database
/// password`), `key` is where the topology sets it (`database.password`).
pub fn resolve(
    source: &SecretSource,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    what: &str,
    key: &str,
) -> Result<Secret, crate::Error> {
    match source {
        SecretSource::Env(var) => env(&var.value)
            .filter(|v| !v.is_empty())
            .map(Secret)
            .ok_or_else(|| crate::Error::SecretUnset {
                what: format!("environment variable {}", var.value),
                help: format!("export {}=... ({what}) and run again", var.value),
            }),
        SecretSource::File(path) => {
            let p = crate::topology::local_path(base_dir, &path.value);
            match std::fs::read_to_string(&p) {
                Ok(text) if !text.trim().is_empty() => {
                    Ok(Secret(text.trim_end_matches(['\n', '\r']).to_string()))
                }
                Ok(_) => Err(crate::Error::SecretUnset {
                    what: format!("{what}: file {} is empty", p.display()),
                    help: "write the secret into it (one line, mode 0600)".into(),
                }),
                Err(e) => Err(crate::Error::SecretUnset {
                    what: format!("{what}: file {} cannot be read ({e})", p.display()),
                    help: format!("create it (one line, mode 0600) or fix the path in {key}.file"),
                }),
            }
        }
        SecretSource::Inline(value) => Ok(Secret(value.value.clone())),
    }
}

/// `env:VAR`, `file:PATH` or `inline`: where a secret comes from, safe to show.
pub fn describe(source: &SecretSource) -> String {
    match source {
        SecretSource::Env(v) => format!("env:{}", v.value),
        SecretSource::File(p) => format!("file:{}", p.value),
        SecretSource::Inline(_) => "inline".into(),
    }
}

/// `text` with `secret` blanked out, as it is and as a SQL string literal holds it (quotes
/// doubled, backslashes escaped), the form mysql echoes in `near '...'` errors.
pub fn blank(text: String, secret: &str) -> String {
    if secret.is_empty() {
        return text;
    }
    // The longer, escaped form first: the raw one may be part of it.
    let escaped = crate::sql::string(secret);
    let escaped = &escaped[1..escaped.len() - 1];
    text.replace(escaped, REDACTED).replace(secret, REDACTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_blanked_as_it_is_and_as_sql_quotes_it() {
        let said = "ERROR 1064: near 'it''s\\\\x' at line 1; it's\\x".to_string();
        assert_eq!(
            blank(said, "it's\\x"),
            "ERROR 1064: near '(redacted)' at line 1; (redacted)"
        );
        assert_eq!(blank("plain".into(), ""), "plain");
        assert_eq!(blank("a hunter2 b".into(), "hunter2"), "a (redacted) b");
    }

    #[test]
    fn secrets_never_format() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "(redacted) (redacted)");
        assert_eq!(s.expose(), "hunter2");
    }
}
