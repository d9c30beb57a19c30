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
//! command line, environment values), `addresses.rs` (IP and listen addresses).
//!
//! Each grammar also says what JSON Schema can say of it (`TextSchema`: a pattern, lengths), for
//! the topology's schema; the tests hold every pattern to its check.

/// A pattern: one name of a path on a host (letters, digits, `.`, `_`, `-`, `+`), neither `.`
/// nor `..`, said without look-ahead: at most two dots then another character, or three dots
/// or more.
macro_rules! host_path_name {
    () => {
        r"(\.{0,2}[A-Za-z0-9_+-][A-Za-z0-9._+-]*|\.{3,}[A-Za-z0-9._+-]*)"
    };
}

mod addresses;
mod lines;
mod names;
mod paths;
mod text_schema;

pub use addresses::{APP_LISTEN, HOST_ADDRESS, IP_ADDRESS, NETWORK};
pub use lines::{COMMAND, ENV_VALUE, printable_line};
pub use names::{
    APP_USER, DNS_NAME, ENV_NAME, GROUP_NAME, HOST_NAME, INTERFACE, JUMP, PACKAGE, PHP_VERSION,
    PYTHON_ENTRY, RECORD_NAME, SERVER_NAME, SQL_DATABASE, SQL_USER, SSH_USER, ZONE, dns_name,
    env_name, host_name, package_name, reserved_schema, reserved_user, sql_name, zone_name,
};
pub use paths::{ABS_PATH, APP_SOCKET, LOCAL_PATH, RELEASE_PATH, SSH_FILE, STATS_SOCKET, URL_PATH};
pub use text_schema::TextSchema;

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
    /// What the topology's JSON Schema says of a fitting value.
    pub schema: TextSchema,
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
    use super::text_schema::testing::validator;
    use super::*;
    use proptest::test_runner::{Config, TestRunner};

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

    /// One grammar's pattern, the loader's verdict on the same text, and the characters to
    /// draw values from.
    struct Agreement {
        name: &'static str,
        schema: TextSchema,
        loader: Box<dyn Fn(&str) -> bool>,
        alphabet: &'static str,
        /// The pattern says the whole grammar (for values this short): it takes nothing the
        /// loader refuses either.
        exact: bool,
    }

    /// How the loader reads a grammar's value: not empty (`Decoder::name`), then the check.
    fn read(g: &'static Grammar) -> Box<dyn Fn(&str) -> bool> {
        Box::new(|s| !s.trim().is_empty() && (g.check)(s).is_ok())
    }

    fn read_with(check: fn(&str) -> bool) -> Box<dyn Fn(&str) -> bool> {
        Box::new(move |s| !s.trim().is_empty() && check(s))
    }

    /// The schema never refuses a value the loader takes; where it is exact, it takes no other.
    #[test]
    fn every_pattern_agrees_with_its_check() {
        use crate::topology::model::JumpHost;
        let cases = [
            Agreement {
                name: "URL_PATH",
                schema: URL_PATH.schema,
                loader: read(&URL_PATH),
                alphabet: "/?[a-zA-Z0-9._~!&()*+,=:@/%;#? F-]{0,10}",
                exact: true,
            },
            Agreement {
                name: "ABS_PATH",
                schema: ABS_PATH.schema,
                loader: read(&ABS_PATH),
                alphabet: "[/a.b+_# -]{0,12}",
                exact: true,
            },
            Agreement {
                name: "APP_SOCKET",
                schema: APP_SOCKET.schema,
                loader: read(&APP_SOCKET),
                alphabet: "[/a.b+_# -]{0,12}",
                exact: true,
            },
            Agreement {
                name: "STATS_SOCKET",
                schema: STATS_SOCKET.schema,
                loader: read(&STATS_SOCKET),
                alphabet: "[/a.b+_# -]{0,12}",
                exact: true,
            },
            Agreement {
                name: "RELEASE_PATH",
                schema: RELEASE_PATH.schema,
                loader: read(&RELEASE_PATH),
                alphabet: "[/a.b_+ -]{0,12}",
                exact: true,
            },
            Agreement {
                name: "LOCAL_PATH",
                schema: LOCAL_PATH.schema,
                loader: read(&LOCAL_PATH),
                alphabet: "[a/ .\n\t\r\x00\u{85}\u{a0}é-]{0,8}",
                exact: false,
            },
            Agreement {
                name: "SSH_FILE",
                schema: SSH_FILE.schema,
                loader: read(&SSH_FILE),
                alphabet: "[~/a. #%$\\\"'\u{a0}\u{2028}\u{feff}\u{3000}\t-]{0,8}",
                exact: true,
            },
            Agreement {
                name: "COMMAND",
                schema: COMMAND.schema,
                loader: read(&COMMAND),
                alphabet: "[ ./a@:+!$\\;'\"\n%-]{0,10}",
                exact: false,
            },
            Agreement {
                name: "SSH_USER",
                schema: SSH_USER.schema,
                loader: read(&SSH_USER),
                alphabet: "[a-zA-Z0-9._@ ;-]{0,8}",
                exact: true,
            },
            Agreement {
                name: "APP_USER",
                schema: APP_USER.schema,
                loader: read(&APP_USER),
                alphabet: "(root|[a-zA-Z0-9_. -]{0,6})",
                exact: true,
            },
            Agreement {
                name: "PYTHON_ENTRY",
                schema: PYTHON_ENTRY.schema,
                loader: read(&PYTHON_ENTRY),
                alphabet: "[a-zA-Z0-9_.: -]{0,10}",
                exact: true,
            },
            Agreement {
                name: "PHP_VERSION",
                schema: PHP_VERSION.schema,
                loader: read(&PHP_VERSION),
                alphabet: "[0-9.a]{0,6}",
                exact: true,
            },
            Agreement {
                name: "GROUP_NAME",
                schema: GROUP_NAME.schema,
                loader: read(&GROUP_NAME),
                alphabet: "[a-zA-Z0-9._ #-]{0,8}",
                exact: true,
            },
            Agreement {
                name: "INTERFACE",
                schema: INTERFACE.schema,
                loader: read(&INTERFACE),
                alphabet: "[a-zA-Z0-9._ :/-]{0,17}",
                exact: true,
            },
            Agreement {
                name: "ENV_NAME",
                schema: ENV_NAME.schema,
                loader: read(&ENV_NAME),
                alphabet: "[a-zA-Z0-9_ =-]{0,8}",
                exact: true,
            },
            Agreement {
                name: "HOST_NAME",
                schema: HOST_NAME,
                loader: read_with(host_name),
                alphabet: "[a-zA-Z0-9._ -]{0,8}",
                exact: true,
            },
            Agreement {
                name: "PACKAGE",
                schema: PACKAGE,
                loader: read_with(package_name),
                alphabet: "[a-zA-Z0-9+._ -]{0,8}",
                exact: true,
            },
            Agreement {
                name: "SQL_DATABASE",
                schema: SQL_DATABASE,
                loader: read_with(|s| sql_name(s, 64).is_ok() && !reserved_schema(s)),
                alphabet: "(mysql|MySQL|sys|SYS|information_schema|Performance_Schema|[a-zA-Z0-9_ '-]{0,8})",
                exact: true,
            },
            Agreement {
                name: "SQL_USER",
                schema: SQL_USER,
                loader: read_with(|s| sql_name(s, 32).is_ok() && !reserved_user(s)),
                alphabet: "(root|Root|mysql|mYsql|[a-zA-Z0-9_ '-]{0,8})",
                exact: true,
            },
            Agreement {
                name: "DNS_NAME",
                schema: DNS_NAME,
                loader: read_with(|s| dns_name(s, false).is_ok()),
                alphabet: "[a-z0-9_.*-]{0,10}",
                exact: true,
            },
            Agreement {
                name: "SERVER_NAME",
                schema: SERVER_NAME,
                loader: read_with(|s| dns_name(s, true).is_ok()),
                alphabet: "[a-z0-9_.*-]{0,10}",
                exact: true,
            },
            Agreement {
                name: "RECORD_NAME",
                schema: RECORD_NAME,
                loader: read_with(|s| matches!(s, "@" | "*") || dns_name(s, true).is_ok()),
                alphabet: "[a-z0-9_.*@-]{0,10}",
                exact: true,
            },
            Agreement {
                name: "ZONE",
                schema: ZONE,
                loader: read_with(|s| zone_name(s).is_ok()),
                alphabet: "[a-z0-9_.*-]{0,10}",
                exact: true,
            },
            Agreement {
                name: "JUMP",
                schema: JUMP,
                loader: read_with(|s| JumpHost::parse(s).is_ok()),
                alphabet: "[a-z0-9_.@:\\[\\]A-Z %-]{0,12}",
                exact: false,
            },
            Agreement {
                name: "ENV_VALUE",
                schema: ENV_VALUE,
                loader: Box::new(|s| printable_line(s).is_ok()),
                alphabet: "[a\n\t\x00\x7f\u{85} é$\"-]{0,6}",
                exact: true,
            },
        ];
        for case in cases {
            let v = validator(&case.schema);
            let strategy = proptest::string::string_regex(case.alphabet).expect("an alphabet");
            let mut runner = TestRunner::new(Config {
                cases: 2000,
                failure_persistence: None,
                ..Config::default()
            });
            let result = runner.run(&strategy, |s| {
                let loader = (case.loader)(&s);
                let schema = v.is_valid(&serde_json::json!(s));
                if loader {
                    proptest::prop_assert!(schema, "{}: the schema refuses {s:?}", case.name);
                }
                if case.exact {
                    proptest::prop_assert_eq!(loader, schema, "{}: {:?}", case.name, s);
                }
                Ok(())
            });
            if let Err(e) = result {
                panic!("{e}");
            }
        }
    }
}
