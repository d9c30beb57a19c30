//! Values that become part of a line: the `ExecStart=` command line of a systemd unit, and
//! environment values (`app.env`, php-fpm's `env[...]`).

use super::paths::{abs_path, host_path_char, release_path};
use super::{Grammar, INVALID_VALUE, TextSchema, named, only};

/// `app.command`, rendered as `ExecStart=` (with `./` resolved against the release directory
/// and `%` written `%%`).
pub const COMMAND: Grammar = Grammar {
    code: INVALID_VALUE,
    kind: "a command line systemd runs as written",
    help: "write the program (./PATH in the release, an absolute path, or a name on systemd's \
           PATH) and its arguments on one line of at most 4096 characters, with quotes that pair \
           up; no control characters, no '\\' and no '$': systemd would expand $VAR from the \
           unit's environment (which holds the database password) into the command line, so \
           the program reads LISTEN and the other variables from its environment itself",
    check: command_line,
    // What a pattern can say: no control character, `\` or `$`, no systemd prefix first.
    schema: TextSchema {
        pattern: Some(r"^[^\u0000-\u001F\u007F-\u009F\\$@:+!-][^\u0000-\u001F\u007F-\u009F\\$]*$"),
        ..TextSchema::TEXT
    },
};

/// An environment value or an inline password: one line of printable text, possibly empty.
pub const ENV_VALUE: TextSchema = TextSchema {
    pattern: Some(r"^[^\u0000-\u001F\u007F-\u009F]*$"),
    min_length: 0,
    ..TextSchema::TEXT
};

fn command_line(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!("{} would break the ExecStart= line", named(c)));
    }
    let s = s.trim();
    if s.len() > 4096 {
        return Err(format!("is {} characters long; at most 4096", s.len()));
    }
    if s.contains('\\') {
        return Err("'\\' escapes or continues lines in a unit file".into());
    }
    if s.contains('$') {
        return Err("systemd expands '$' into the unit's environment variables".into());
    }
    if let Some(c) = s.chars().next().filter(|c| "@-:+!".contains(*c)) {
        return Err(format!(
            "a leading `{c}` is a systemd prefix, not part of a command"
        ));
    }
    let words = words(s)?;
    if words.contains(&";") {
        return Err("a lone ';' would start a second command".into());
    }
    program(words.first().copied().unwrap_or_default())
}

/// The words of a command line: split on spaces outside quotes; an open quote is refused.
fn words(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == ' ' => out.extend(start.take().map(|b| &s[b..i])),
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                start.get_or_insert(i);
            }
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    out.extend(start.map(|b| &s[b..]));
    Ok(out)
}

/// The program: `./PATH` in the release, an absolute path, or a bare name; systemd refuses any
/// other relative path.
fn program(w: &str) -> Result<(), String> {
    let checked = if w.contains(['"', '\'']) {
        Err("is quoted: write it without quotes".into())
    } else if let Some(rest) = w.strip_prefix("./") {
        release_path(rest)
    } else if w.starts_with('/') {
        abs_path(w).and_then(|()| match w.ends_with('/') {
            true => Err("names a folder".into()),
            false => Ok(()),
        })
    } else if w.contains('/') {
        Err("is a relative path: write ./PATH (systemd runs absolute paths or names)".into())
    } else if w == "." || w == ".." {
        Err("is not a program".into())
    } else {
        only(w, host_path_char, "a program name")
    };
    checked.map_err(|e| format!("program: {e}"))
}

/// One line of printable text: no control character (line breaks, `\r`, tabs, NUL...).
/// Quotes, `\` and `$` are fine: `env_value` escapes them for both of its consumers.
pub fn printable_line(s: &str) -> Result<(), String> {
    only(s, |c| !c.is_control(), "a value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_systemd_takes() {
        for ok in [
            "./server --port 8000",
            "  ./bin/server  ",
            "/usr/bin/python3 -m http.server 8000",
            "gunicorn app:application",
            "./server --name 'a b' --greeting \"hi there\" 50%",
            "./server a;b --x=1",
            &format!("./s {}", "x".repeat(4092)),
        ] {
            assert_eq!((COMMAND.check)(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn command_lines_that_would_change_the_unit_are_refused() {
        for bad in [
            "./server\nUser=root",
            "./server\rUser=root",
            "./server\0",
            "./server\t--x",
            "./server \\\n--x",
            "./server --password $DB_PASSWORD",
            "./server ${DB_PASSWORD}",
            "@/bin/sh sh",
            "-/bin/true",
            ":/bin/true",
            "+/bin/sh -c id",
            "!/bin/sh",
            "./server ; /bin/sh -c id",
            "./server 'open",
            "\"./server\" --x",
            "bin/server",
            "../server",
            "./../../bin/sh",
            "/srv/../bin/sh",
            &format!("./s {}", "x".repeat(4093)),
        ] {
            assert!((COMMAND.check)(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            (COMMAND.check)("+/bin/sh"),
            Err("a leading `+` is a systemd prefix, not part of a command".into())
        );
        assert_eq!(
            (COMMAND.check)("./../x"),
            Err("program: has a `..` component".into())
        );
    }

    #[test]
    fn words_split_outside_quotes() {
        assert_eq!(
            words("a  'b c' d\"e f\"g").unwrap(),
            ["a", "'b c'", "d\"e f\"g"]
        );
        assert!(words("a \"b").is_err());
    }

    #[test]
    fn printable_lines() {
        assert_eq!(printable_line("a \"quoted\" \\ $HOME `x` é"), Ok(()));
        for bad in ["a\nb", "a\rb", "a\0b", "a\tb", "a\u{7f}", "a\u{85}"] {
            assert!(printable_line(bad).is_err(), "{bad:?}");
        }
    }
}
