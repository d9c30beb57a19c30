//! URL paths (Nginx `location`, HAProxy `path_beg` and `http-check ... uri`), absolute paths on a
//! host (Nginx `root`, sockets), paths inside the release, and local paths.

use super::{Grammar, INVALID_VALUE, TextSchema, named, only};

/// The longest URL path, absolute path or path inside the release a configuration holds. Nginx
/// reads a word of at most 4095 bytes (`too long parameter`), and a release path is written after
/// `/srv/APP/current/` (at most 77 characters).
const MAX_PATH: usize = 4000;

/// A pattern: a name inside the release (letters, digits, `.`, `_`, `-`), neither `.` nor `..`.
macro_rules! release_name {
    () => {
        r"(\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)"
    };
}

/// A socket's path, as a pattern: names after single `/`, no trailing `/`.
macro_rules! socket_path {
    () => {
        concat!("(/", host_path_name!(), ")+")
    };
}

/// A host path of at most `max` characters that JSON Schema holds to `pattern`.
const fn host_path(pattern: &'static str, max: u32) -> TextSchema {
    TextSchema {
        pattern: Some(pattern),
        not_pattern: None,
        min_length: 1,
        max_length: Some(max),
        scalars: false,
    }
}

/// A URL path: `/`, then RFC 3986 path characters without those our configs read as syntax.
pub const URL_PATH: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a URL path",
    help: "write it like /static/ or /healthz: '/' then letters, digits, - . _ ~ ! & ( ) * + , = : @ / \
           and %XX escapes (two hex digits), at most 4000 characters; no spaces, quotes, ';', '$', \
           '#', '?', braces or '\\'",
    check: url_path,
    schema: host_path(
        r"^/([A-Za-z0-9._~!&()*+,=:@/-]|%[0-9A-Fa-f]{2})*$",
        MAX_PATH as u32,
    ),
};

/// An absolute path on a host, such as a document root.
pub const ABS_PATH: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a plain absolute path",
    help: "write it like /var/www/foobar: '/' then names of letters, digits and . _ - +, \
           separated by single '/', without '.' or '..', at most 4000 characters",
    check: |s| abs_path(s).and_then(|()| at_most(s, MAX_PATH)),
    schema: host_path(
        concat!("^/(", host_path_name!(), "(/", host_path_name!(), ")*/?)?$"),
        MAX_PATH as u32,
    ),
};

/// The application server's socket (`app.listen: unix:PATH`): Nginx takes at most 107 bytes.
pub const APP_SOCKET: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a socket path",
    help: "write it like /run/foobar/app.sock: an absolute path of letters, digits and . _ - +, \
           at most 107 characters",
    check: |s| socket(s, 107),
    schema: host_path(concat!("^", socket_path!(), "$"), 107),
};

/// HAProxy's admin socket: HAProxy takes at most 97 bytes.
pub const STATS_SOCKET: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a socket path",
    help: "write it like /run/haproxy/admin.sock: an absolute path of letters, digits and . _ - +, \
           at most 97 characters (HAProxy's limit)",
    check: |s| socket(s, 97),
    schema: host_path(concat!("^", socket_path!(), "$"), 97),
};

/// A file inside the release directory, such as php-fpm's front controller.
pub const RELEASE_PATH: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a path inside the release",
    help: "write it like index.php or public/index.php: names of letters, digits and . _ -, \
           separated by single '/', relative to the release directory (no leading '/', no '.' \
           or '..'), at most 4000 characters",
    check: |s| release_path(s).and_then(|()| at_most(s, MAX_PATH)),
    schema: TextSchema {
        scalars: true,
        ..host_path(
            concat!("^", release_name!(), "(/", release_name!(), ")*$"),
            MAX_PATH as u32,
        )
    },
};

/// A path on this machine (the application files, the schema, the password file).
pub const LOCAL_PATH: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a local path",
    help: "write the path on one line, relative to the topology file's folder (or absolute)",
    check: |s| only(s, |c| !c.is_control(), "a path"),
    schema: TextSchema {
        pattern: Some(r"^[^\u0000-\u001F\u007F-\u009F]*$"),
        ..TextSchema::TEXT
    },
};

/// A key or known-hosts file for ssh, which splits such values on spaces and expands `%` and `$`.
pub const SSH_FILE: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a path ssh takes as it is",
    help: "write it like ~/.ssh/id_ed25519 or keys/deploy: no spaces, quotes, '#', '%', '$' or \
           '\\' (ssh reads them as separators or expands them); '~' only as a leading ~/",
    check: ssh_file,
    // Controls, spaces (Unicode's White_Space, as `char::is_whitespace`) and ssh's tokens.
    schema: TextSchema {
        pattern: Some(
            r#"^(~/)?[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"'#%$\\~]*$"#,
        ),
        ..TextSchema::TEXT
    },
};

fn url_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("must start with '/'".into());
    }
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => {}
            '-' | '.' | '_' | '~' | '!' | '&' | '(' | ')' | '*' | '+' | ',' | '=' | ':' | '@'
            | '/' => {}
            '%' => {
                let hex = rest
                    .get(..2)
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                if hex.is_none() {
                    return Err("'%' must start a %XX escape (two hex digits)".into());
                }
                rest = &rest[2..];
            }
            c => return Err(format!("{} is not allowed in a URL path", named(c))),
        }
    }
    at_most(s, MAX_PATH)
}

/// At most `max` characters (the values held to it are ASCII).
fn at_most(s: &str, max: usize) -> Result<(), String> {
    match s.len() > max {
        true => Err(format!("is {} characters long; at most {max}", s.len())),
        false => Ok(()),
    }
}

/// Names separated by single `/`: no empty name, no `.` or `..`, only `allowed` characters.
fn names(rest: &str, allowed: fn(char) -> bool) -> Result<(), String> {
    for name in rest.split('/') {
        if name.is_empty() {
            return Err("has an empty name ('//' or a stray '/')".into());
        }
        if name == "." || name == ".." {
            return Err(format!("has a `{name}` component"));
        }
        only(name, allowed, "a path")?;
    }
    Ok(())
}

pub(super) fn host_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-+".contains(c)
}

pub(super) fn abs_path(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix('/') else {
        return Err("must start with '/'".into());
    };
    if rest.is_empty() {
        return Ok(());
    }
    // A trailing '/' is fine (a folder), once.
    names(rest.strip_suffix('/').unwrap_or(rest), host_path_char)
}

fn socket(s: &str, max: usize) -> Result<(), String> {
    abs_path(s)?;
    if s.ends_with('/') {
        return Err("names a folder, not a socket".into());
    }
    if s.len() > max {
        return Err(format!(
            "is {} characters long; at most {max} fit in a socket address",
            s.len()
        ));
    }
    Ok(())
}

pub(super) fn release_path(s: &str) -> Result<(), String> {
    if s.starts_with('/') {
        return Err("starts with '/': it is relative to the release directory".into());
    }
    names(s, |c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn ssh_file(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("~/").unwrap_or(s);
    only(
        rest,
        |c| !(c.is_control() || c.is_whitespace() || "\"'#%$\\~".contains(c)),
        "a path ssh takes",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(g: &Grammar, values: &[&str]) {
        for v in values {
            assert_eq!((g.check)(v), Ok(()), "{v:?} fits {}", g.kind);
        }
    }

    fn refused(g: &Grammar, values: &[&str]) {
        for v in values {
            assert!((g.check)(v).is_err(), "{v:?} is refused as {}", g.kind);
        }
    }

    #[test]
    fn url_paths() {
        ok(
            &URL_PATH,
            &[
                "/",
                "/healthz",
                "/static/",
                "/a-b.c_d~e",
                "/!&()*+,=:@/x",
                "/caf%C3%A9",
            ],
        );
        refused(
            &URL_PATH,
            &[
                "healthz", "/a#b", "/a?b=1", "/a b", "/a;b", "/a'b", "/a\"b", "/$uri", "/{x}",
                "/a\\b", "/a\tb", "/a\nb", "/a%2", "/a%zz", "/é",
            ],
        );
        assert_eq!(
            (URL_PATH.check)("/healthz#x"),
            Err("`#` is not allowed in a URL path".into())
        );
        let long = |n: usize| format!("/{}", "a".repeat(n - 1));
        ok(&URL_PATH, &[&long(MAX_PATH)]);
        refused(&URL_PATH, &[&long(MAX_PATH + 1)]);
    }

    #[test]
    fn absolute_paths() {
        ok(
            &ABS_PATH,
            &["/", "/var/www/foobar", "/srv/a+b/c.d-e_f/", "/.well-known"],
        );
        refused(
            &ABS_PATH,
            &[
                "srv/x",
                "/srv/../etc",
                "/srv/./x",
                "/srv//x",
                "/srv/x//",
                "/srv/a b",
                "/srv/a;b",
                "/srv/a#b",
                "/srv/$x",
                "/srv/%41",
                "/srv/a\nb",
            ],
        );
        // Nginx reads a word of at most 4095 bytes: `root` with this one is "too long parameter".
        let too_long = format!("/srv/{}-", "-/".repeat(2045));
        assert_eq!(too_long.len(), 4096);
        assert_eq!(
            (ABS_PATH.check)(&too_long),
            Err("is 4096 characters long; at most 4000".into())
        );
        let longest = format!("/srv/{}", "a".repeat(MAX_PATH - 5));
        ok(
            &ABS_PATH,
            &[&longest, &format!("{}/", &longest[..MAX_PATH - 1])],
        );
        refused(&ABS_PATH, &[&format!("{longest}/")]);
    }

    #[test]
    fn sockets_fit_their_consumers() {
        let at = |n: usize| format!("/run/{}", "a".repeat(n - 5));
        ok(&APP_SOCKET, &["/run/foobar/app.sock", &at(107)]);
        refused(
            &APP_SOCKET,
            &[&at(108), "/run/x/", "run/x.sock", "/run/a#b"],
        );
        ok(&STATS_SOCKET, &["/run/haproxy/admin.sock", &at(97)]);
        refused(
            &STATS_SOCKET,
            &[&at(98), "/run/haproxy/a#b", "/run/haproxy/a b"],
        );
    }

    #[test]
    fn release_paths() {
        ok(
            &RELEASE_PATH,
            &["index.php", "public/index.php", "a-b_c.d/e"],
        );
        refused(
            &RELEASE_PATH,
            &[
                "/index.php",
                "../index.php",
                "a/../b",
                "./index.php",
                "a//b",
                "a/",
                "index.php; include /etc/shadow;",
                "index.php;",
                "a b",
                "a+b",
                "a\nb",
            ],
        );
        let long = |n: usize| format!("p/{}", "a".repeat(n - 2));
        ok(&RELEASE_PATH, &[&long(MAX_PATH)]);
        refused(&RELEASE_PATH, &[&long(MAX_PATH + 1)]);
    }

    #[test]
    fn local_and_ssh_paths() {
        ok(
            &LOCAL_PATH,
            &["app", "../examples/app", "/run/secrets/db password"],
        );
        refused(&LOCAL_PATH, &["a\nb", "a\0b", "a\rb"]);
        ok(
            &SSH_FILE,
            &["~/.ssh/id_ed25519", "keys/deploy", "/etc/ssh/k@host,1"],
        );
        refused(
            &SSH_FILE,
            &[
                "a b",
                "~/%d/key",
                "${HOME}/k",
                "k#1",
                "\"k\"",
                "a\\b",
                "a~b",
                "~user/k",
                "a\nb",
            ],
        );
    }
}
