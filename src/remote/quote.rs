//! POSIX shell quoting for every value put into a remote script.

/// `'value'` with embedded single quotes escaped; safe for any byte string without NUL.
pub fn sh(value: &str) -> String {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return value.to_string();
    }
    format!("'{}'", value.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_the_shell_would_interpret() {
        assert_eq!(sh("/etc/nginx/nginx.conf"), "/etc/nginx/nginx.conf");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(sh("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(sh(""), "''");
    }

    #[test]
    fn quoted_values_round_trip_through_sh() {
        for v in [
            "plain",
            "sp ace",
            "q'uote",
            "d\"q",
            "$HOME",
            "`x`",
            "back\\slash",
            "new\nline",
            "*",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", sh(v)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), v);
        }
    }
}
