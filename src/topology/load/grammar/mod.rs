//! Grammars of the topology's free-text values. A topology is untrusted input (it changes
//! through pull requests, and `validate`, `render` and `plan` run on machines that hold deploy
//! keys), so every value that reaches a rendered file, a file name or a command line fits a
//! grammar of what its consumer (Nginx, HAProxy, systemd, php-fpm, MariaDB, the shell, ssh) takes
//! safely. A value that does not fit is refused at its own location, with a help saying how to
//! write one. After that, only the template filters escape anything (`env_value`, `sql_string`,
//! `%` in `ExecStart=`).
//!
//! Each file holds the grammars of one kind of value: `paths.rs` (URL and file paths),
//! `names.rs` (user, module, version, group, variable, SQL and DNS names), `lines.rs` (a systemd
//! command line, environment values).

mod lines;
mod names;
mod paths;

pub use lines::{COMMAND, printable_line};
pub use names::{
    APP_USER, ENV_NAME, GROUP_NAME, PHP_VERSION, PYTHON_ENTRY, SSH_USER, dns_name, env_name,
    reserved_schema, reserved_user, sql_name, zone_name,
};
pub use paths::{ABS_PATH, APP_SOCKET, LOCAL_PATH, RELEASE_PATH, SSH_FILE, STATS_SOCKET, URL_PATH};

use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::node::Node;

pub const INVALID_VALUE: &str = "topology::invalid-value";
pub const INVALID_NAME: &str = "topology::invalid-name";

/// One grammar: how a refusal is reported, and the check itself.
pub struct Grammar {
    /// `topology::invalid-value`, or `topology::invalid-name` for names.
    pub code: &'static str,
    /// What a fitting value is, for the message: "a URL path".
    pub kind: &'static str,
    /// How to write one.
    pub help: &'static str,
    /// `Err` says what is wrong with the value (the label under it).
    pub check: fn(&str) -> Result<(), String>,
}

impl Grammar {
    /// Reads a non-empty string that fits; a value that does not is reported and dropped.
    pub fn read(&self, node: &Node, what: &str, d: &mut Decoder) -> Option<Sp<String>> {
        let s = d.name(node, what)?;
        match self.problem(&s, what) {
            None => Some(s),
            Some(p) => {
                d.push(p);
                None
            }
        }
    }

    /// The problem with a value already read, if it does not fit.
    pub fn problem(&self, s: &Sp<String>, what: &str) -> Option<Problem> {
        let reason = (self.check)(&s.value).err()?;
        Some(
            Problem::error(
                self.code,
                s.span,
                format!("{what}: `{}` is not {}", shown(&s.value), self.kind),
            )
            .label(reason)
            .help(self.help),
        )
    }
}

/// A value as a message quotes it: control characters escaped, at most 60 characters.
pub fn shown(s: &str) -> String {
    let escaped: String = s.chars().flat_map(char::escape_debug).collect();
    match escaped.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &escaped[..i]),
        None => escaped,
    }
}

/// How a refusal names a character: `;`, a space, a control character (U+000D).
pub fn named(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\n' => "a line break".into(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        c if c.is_whitespace() => format!("a space character (U+{:04X})", c as u32),
        c => format!("`{c}`"),
    }
}

/// The first character of `s` that `allowed` refuses, as a refusal "… is not allowed in {what}".
fn only(s: &str, allowed: impl Fn(char) -> bool, what: &str) -> Result<(), String> {
    match s.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!("{} is not allowed in {what}", named(c))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_values_escaped_and_short() {
        assert_eq!(shown("a\nb\0"), "a\\nb\\0");
        assert_eq!(shown(&"x".repeat(80)), format!("{}…", "x".repeat(60)));
        assert_eq!(named('\r'), "a control character (U+000D)");
        assert_eq!(named('\u{a0}'), "a space character (U+00A0)");
        assert_eq!(named(';'), "`;`");
    }

    #[test]
    fn a_refusal_is_located_with_its_reason_and_help() {
        let s = Sp::new("/a#b".to_string(), crate::diagnostic::Span::new(7, 4));
        let p = URL_PATH.problem(&s, "web.health_path").unwrap();
        assert_eq!(p.code, INVALID_VALUE);
        assert_eq!(p.span, Some(s.span));
        assert_eq!(p.message, "web.health_path: `/a#b` is not a URL path");
        assert_eq!(p.label, "`#` is not allowed in a URL path");
        assert!(p.help.unwrap().contains("/healthz"));
        let ok = Sp::new("/healthz".to_string(), s.span);
        assert!(URL_PATH.problem(&ok, "web.health_path").is_none());
    }
}
