//! Names: host names, system and login users, the gunicorn entry point, the PHP version,
//! backend groups, environment variables, Debian packages, SQL names, DNS names and the jump host.

use super::{Grammar, INVALID_NAME, INVALID_VALUE, TextSchema, only};

/// A name JSON Schema holds to `pattern`, of at most `max` characters.
const fn name(pattern: &'static str, max: Option<u32>) -> TextSchema {
    TextSchema {
        pattern: Some(pattern),
        max_length: max,
        ..TextSchema::TEXT
    }
}

/// A pattern: one DNS label (letters, digits, `-`, `_`; at most 63; no `-` first or last).
macro_rules! dns_label {
    () => {
        r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    };
}

/// A pattern: a DNS name's labels after the first, and its optional trailing dot.
macro_rules! dns_rest {
    () => {
        concat!(r"(\.", dns_label!(), r")*\.?")
    };
}

/// A host name (it becomes the machine's hostname), also the grammar of `app.name`.
pub const HOST_NAME: TextSchema = name(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$", Some(63));

/// Letters, digits and `-`, at most 63 characters, no `-` first or last.
pub fn host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A Debian package name.
pub const PACKAGE: TextSchema = name(r"^[a-z0-9][a-z0-9+.-]+$", None);

/// Lower-case letters, digits and `+ - .`, at least two, starting with a letter or digit.
pub fn package_name(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

/// `database.name`: a plain SQL name of at most 64, none of the server's own schemas.
pub const SQL_DATABASE: TextSchema = TextSchema {
    not_pattern: Some(
        "^([Mm][Yy][Ss][Qq][Ll]|[Ii][Nn][Ff][Oo][Rr][Mm][Aa][Tt][Ii][Oo][Nn]_[Ss][Cc][Hh][Ee][Mm][Aa]\
         |[Pp][Ee][Rr][Ff][Oo][Rr][Mm][Aa][Nn][Cc][Ee]_[Ss][Cc][Hh][Ee][Mm][Aa]|[Ss][Yy][Ss])$",
    ),
    ..name("^[A-Za-z0-9_]+$", Some(64))
};

/// `database.user`: a plain SQL name of at most 32, none of the server's own accounts.
pub const SQL_USER: TextSchema = TextSchema {
    not_pattern: Some("^([Rr][Oo][Oo][Tt]|[Mm][Yy][Ss][Qq][Ll])$"),
    ..name("^[A-Za-z0-9_]+$", Some(32))
};

/// `domain`: a DNS name without wildcard (253 characters and a trailing dot).
pub const DNS_NAME: TextSchema = name(concat!("^", dns_label!(), dns_rest!(), "$"), Some(254));

/// `web.server_names`: a DNS name whose first label may be `*`.
pub const SERVER_NAME: TextSchema = name(
    concat!(r"^(\*\.)?", dns_label!(), dns_rest!(), "$"),
    Some(254),
);

/// `dns.records[].name`: `@`, `*`, or a DNS name whose first label may be `*`.
pub const RECORD_NAME: TextSchema = name(
    concat!(r"^(@|\*|(\*\.)?", dns_label!(), dns_rest!(), ")$"),
    Some(254),
);

/// `dns.zone`: a DNS name without wildcard of at most 242 characters (and a trailing dot).
pub const ZONE: TextSchema = name(concat!("^", dns_label!(), dns_rest!(), "$"), Some(243));

/// `ssh.jump`, `[user@]host[:port]`: only the characters `JumpHost::parse` can take.
pub const JUMP: TextSchema = name(r"^[A-Za-z0-9_.@:\[\]-]+$", None);

/// The user the application runs as (`User=`, `Group=`, php-fpm's `user`, `useradd`). systemd's
/// strict rule takes at most 31 characters.
pub const APP_USER: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "an unprivileged system user name",
    help: "a lower-case name of at most 31 characters: letters, digits, '_' and '-', starting \
           with a letter or '_' (e.g. foobar); an unprivileged user, never root (leave app.user \
           out to run as app.name)",
    check: app_user,
    schema: TextSchema {
        not_pattern: Some("^root$"),
        ..name("^[a-z_][a-z0-9_-]*$", Some(31))
    },
};

/// The remote login (`ssh -l`): no shell or ssh token syntax, no leading `-`.
pub const SSH_USER: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a login name",
    help: "letters, digits and . _ - @, at most 64 characters, starting with a letter, a digit \
           or '_' (e.g. deploy)",
    check: ssh_user,
    schema: name("^[A-Za-z0-9_][A-Za-z0-9._@-]*$", Some(64)),
};

/// gunicorn's WSGI entry point: a dotted module path and an optional `:callable`.
pub const PYTHON_ENTRY: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a Python module path",
    help: "write it like app:application or mysite.wsgi:application: Python names separated by \
           '.', optionally ':' and the name of the callable",
    check: python_entry,
    schema: name(
        r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$",
        None,
    ),
};

/// `phpX.Y-fpm`, `/etc/php/X.Y/`: two numbers.
pub const PHP_VERSION: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a PHP version",
    help: "write MAJOR.MINOR, e.g. 8.2",
    check: php_version,
    schema: name(r"^[0-9]{1,2}\.[0-9]{1,2}$", None),
};

/// A backend group, rendered as the HAProxy backend `group_NAME`.
pub const GROUP_NAME: Grammar = Grammar {
    code: INVALID_NAME,
    kind: "a backend group name",
    help: "letters, digits and . _ - (it becomes the HAProxy backend group_NAME)",
    check: |s| match s.is_empty() {
        true => Err("is empty".into()),
        false => only(
            s,
            |c| c.is_ascii_alphanumeric() || "._-".contains(c),
            "a group name",
        ),
    },
    schema: name("^[A-Za-z0-9._-]+$", None),
};

/// A network interface (`ip link`): at most 15 characters (IFNAMSIZ), no `/`, space or `:`.
pub const INTERFACE: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "an interface name",
    help: "letters, digits and . _ -, at most 15 characters (e.g. eth0)",
    check: |s| match s {
        "" => Err("is empty".into()),
        "." | ".." => Err("is not a name".into()),
        _ if s.len() > 15 => Err("longer than 15 characters".into()),
        _ => only(
            s,
            |c| c.is_ascii_alphanumeric() || "._-".contains(c),
            "an interface name",
        ),
    },
    schema: TextSchema {
        not_pattern: Some(r"^\.{1,2}$"),
        ..name("^[A-Za-z0-9._-]{1,15}$", Some(15))
    },
};

/// An environment variable's name.
pub const ENV_NAME: Grammar = Grammar {
    code: INVALID_NAME,
    kind: "an environment variable name",
    help: "letters, digits and '_', not starting with a digit (e.g. FOOBAR_DB_PASSWORD)",
    check: env_name,
    schema: name("^[A-Za-z_][A-Za-z0-9_]*$", None),
};

fn app_user(s: &str) -> Result<(), String> {
    only(
        s,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-',
        "a user name",
    )?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return Err("must start with a lower-case letter or '_'".into());
    }
    if s.len() > 31 {
        return Err(format!("is {} characters long; at most 31", s.len()));
    }
    if s == "root" {
        return Err("root would give the application every privilege".into());
    }
    Ok(())
}

fn ssh_user(s: &str) -> Result<(), String> {
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err("must start with a letter, a digit or '_'".into());
    }
    only(
        s,
        |c| c.is_ascii_alphanumeric() || "._-@".contains(c),
        "a login name",
    )?;
    if s.len() > 64 {
        return Err(format!("is {} characters long; at most 64", s.len()));
    }
    Ok(())
}

fn python_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("has an empty name (a stray '.' or ':')".into());
    }
    only(
        s,
        |c| c.is_ascii_alphanumeric() || c == '_',
        "a Python name",
    )?;
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`{s}`: a Python name does not start with a digit"));
    }
    Ok(())
}

fn python_entry(s: &str) -> Result<(), String> {
    let (module, callable) = match s.split_once(':') {
        Some((m, c)) => (m, Some(c)),
        None => (s, None),
    };
    for name in module.split('.') {
        python_name(name)?;
    }
    callable.map_or(Ok(()), python_name)
}

fn php_version(s: &str) -> Result<(), String> {
    let number = |n: &str| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        Some((major, minor)) if number(major) && number(minor) => Ok(()),
        _ => Err("must be two numbers joined by '.', like 8.2".into()),
    }
}

pub fn env_name(s: &str) -> Result<(), String> {
    only(
        s,
        |c| c.is_ascii_alphanumeric() || c == '_',
        "a variable name",
    )?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("must start with a letter or '_'".into());
    }
    Ok(())
}

/// A database or user name as the bootstrap SQL, the state probe and `app.env` write it
/// unquoted or inside quotes: letters, digits and `_`, 1 to `max` characters.
pub fn sql_name(s: &str, max: usize) -> Result<(), String> {
    only(
        s,
        |c| c.is_ascii_alphanumeric() || c == '_',
        "a plain SQL name",
    )?;
    if s.is_empty() || s.len() > max {
        return Err(format!("letters, digits and '_' only (at most {max})"));
    }
    Ok(())
}

/// The server's own schemas: granting the application one of them hands it the server.
pub fn reserved_schema(s: &str) -> bool {
    ["mysql", "information_schema", "performance_schema", "sys"]
        .iter()
        .any(|r| s.eq_ignore_ascii_case(r))
}

/// The server's administrative accounts: the bootstrap would reset their password and grants.
pub fn reserved_user(s: &str) -> bool {
    ["root", "mysql"].iter().any(|r| s.eq_ignore_ascii_case(r))
}

/// The longest zone: `hostmaster.ZONE.` in its SOA record is a DNS name too (at most 253), and
/// its file, `db.ZONE`, a file name (at most 255 bytes).
const MAX_ZONE: usize = 253 - "hostmaster.".len();

/// A zone: a DNS name without wildcard, at most 242 characters (see `MAX_ZONE`).
pub fn zone_name(s: &str) -> Result<(), String> {
    dns_name(s, false)?;
    let n = s.strip_suffix('.').unwrap_or(s);
    if n.len() > MAX_ZONE {
        return Err(format!(
            "is {} characters long; a zone has at most {MAX_ZONE} (hostmaster.ZONE. is a name too)",
            n.len()
        ));
    }
    Ok(())
}

/// A DNS name (letters, digits, `-` and `_` in labels of at most 63, at most 253 in all, one
/// optional trailing dot). With `wildcard`, the first of several labels may be `*` (Nginx refuses
/// a lone `*`; a record named `*` is the caller's to allow).
pub fn dns_name(s: &str, wildcard: bool) -> Result<(), String> {
    let n = s.strip_suffix('.').unwrap_or(s);
    if n.is_empty() {
        return Err("is empty".into());
    }
    if n.len() > 253 {
        return Err(format!("is {} characters long; at most 253", n.len()));
    }
    for (i, label) in n.split('.').enumerate() {
        if label.is_empty() {
            return Err("has an empty label ('..' or a stray '.')".into());
        }
        if label == "*" && wildcard && i == 0 && n.len() > 1 {
            continue;
        }
        if label.contains('*') {
            return Err(if wildcard {
                "'*' only stands as the whole first label (*.example.com)".into()
            } else {
                "`*` is not allowed here".into()
            });
        }
        only(
            label,
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            "a DNS name",
        )?;
        if label.len() > 63 {
            return Err(format!("the label `{label}` is longer than 63 characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label `{label}` starts or ends with '-'"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(g: &Grammar, good: &[&str], bad: &[&str]) {
        for v in good {
            assert_eq!((g.check)(v), Ok(()), "{v:?} fits {}", g.kind);
        }
        for v in bad {
            assert!((g.check)(v).is_err(), "{v:?} is refused as {}", g.kind);
        }
    }

    #[test]
    fn app_users() {
        let longest = format!("a{}", "b".repeat(30));
        check(
            &APP_USER,
            &["foobar", "_svc", "app-2", "www-data", &longest],
            &[
                "root",
                "Foobar",
                "1app",
                "-app",
                "app.user",
                "app\nUser=root",
                "foobar ExecStartPre=/bin/sh",
                &format!("{longest}c"),
            ],
        );
        assert!(
            (APP_USER.check)("root")
                .unwrap_err()
                .contains("every privilege")
        );
    }

    #[test]
    fn ssh_users() {
        check(
            &SSH_USER,
            &["deploy", "root", "John.Doe", "u@corp", "_x"],
            &[
                "-oProxyCommand=id",
                ".x",
                "a b",
                "a%r",
                "a;b",
                "a\nb",
                &"x".repeat(65),
            ],
        );
    }

    #[test]
    fn python_entries() {
        check(
            &PYTHON_ENTRY,
            &[
                "app",
                "app:application",
                "mysite.wsgi:application",
                "_a.b_2:c",
            ],
            &[
                "app:application\nUser=root",
                "app:application --bind 0.0.0.0:80",
                "app:create_app()",
                "app.:x",
                ".app",
                "app:",
                "app:a:b",
                "2app:x",
                "app-x:y",
            ],
        );
    }

    #[test]
    fn php_versions() {
        check(
            &PHP_VERSION,
            &["8.2", "7.4", "10.12"],
            &["8", "8.2.1", "../../x", "8.x", ".2", "8.", "8.2\n", "123.1"],
        );
    }

    #[test]
    fn group_and_variable_names() {
        check(
            &GROUP_NAME,
            &["api", "api-v2", "a.b_c"],
            &["", "a b", "a\n  server x 1.2.3.4:80", "a#"],
        );
        check(
            &ENV_NAME,
            &["FOOBAR_DB_PASSWORD", "_X", "a1"],
            &["1X", "A-B", "A B", "A=B", "A\nB"],
        );
    }

    #[test]
    fn sql_names_and_reserved_ones() {
        assert_eq!(sql_name("foobar_1", 64), Ok(()));
        assert_eq!(sql_name(&"a".repeat(64), 64), Ok(()));
        assert!(sql_name(&"a".repeat(33), 32).is_err());
        for bad in ["", "a-b", "a'b", "a`b", "a b", "x';DROP", "é"] {
            assert!(sql_name(bad, 64).is_err(), "{bad:?}");
        }
        for r in [
            "mysql",
            "MySQL",
            "information_schema",
            "PERFORMANCE_SCHEMA",
            "sys",
        ] {
            assert!(reserved_schema(r), "{r}");
        }
        assert!(!reserved_schema("foobar") && !reserved_schema("mysql_app"));
        assert!(reserved_user("root") && reserved_user("ROOT") && reserved_user("mysql"));
        assert!(!reserved_user("foobar"));
    }

    #[test]
    fn dns_names() {
        for ok in ["foobar.com", "www.foobar.com.", "_acme.x-y.org", "a"] {
            assert_eq!(dns_name(ok, false), Ok(()), "{ok}");
        }
        assert_eq!(dns_name("*.foobar.com", true), Ok(()));
        for bad in [
            "*.foobar.com",
            "a..b",
            "www..",
            ".a",
            "-a.com",
            "a-.com",
            "a b.com",
            "a;b",
            "a\nb",
            "a/b",
        ] {
            assert!(dns_name(bad, false).is_err(), "{bad:?}");
        }
        for bad in ["a*.foobar.com", "www.*.com", "*", "*.", "**.x", "x.*"] {
            assert!(dns_name(bad, true).is_err(), "{bad:?}");
        }
        assert!(dns_name(&format!("{}.com", "a".repeat(64)), false).is_err());
        assert!(dns_name(&vec!["a".repeat(60); 5].join("."), false).is_err());
    }

    #[test]
    fn zone_names() {
        // Three labels of 63 and a shorter one: n characters in all.
        let zone = |n: usize| {
            let labels = vec!["a".repeat(63); 3].join(".");
            format!("{labels}.{}", "b".repeat(n - labels.len() - 1))
        };
        for ok in [
            "foobar.com",
            "foobar.com.",
            &zone(242),
            &format!("{}.", zone(242)),
        ] {
            assert_eq!(zone_name(ok), Ok(()), "{ok}");
        }
        // A DNS name of 253 characters: its file, db.ZONE, cannot be written (256 bytes).
        let too_long = vec!["a".repeat(63); 4].join(".").replacen('a', "", 2);
        assert_eq!(too_long.len(), 253);
        assert!(dns_name(&too_long, false).is_ok());
        assert_eq!(
            zone_name(&too_long),
            Err(
                "is 253 characters long; a zone has at most 242 (hostmaster.ZONE. is a name too)"
                    .into()
            )
        );
        for bad in [&zone(243), "*.foobar.com", "a..b"] {
            assert!(zone_name(bad).is_err(), "{bad}");
        }
    }
}
