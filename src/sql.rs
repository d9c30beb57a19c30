//! SQL text: a string as a MariaDB literal, for the bootstrap template, replication's statements
//! and the redaction of secrets in the form mysql echoes them.

/// `s` as a single-quoted SQL string literal (backslashes, quotes and NUL escaped).
pub fn string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('\'', "''")
        .replace('\0', "\\0");
    format!("'{escaped}'")
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_backslashes_and_nul_are_escaped() {
        assert_eq!(super::string(r"a'b\c"), r"'a''b\\c'");
        assert_eq!(super::string("x\0"), r"'x\0'");
    }
}
