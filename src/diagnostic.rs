//! Problems found in a topology, each tied to the exact text it is about.
//!
//! A `Problem` is plain data; `ui::report` turns a list of them into miette's graphical or
//! narrated output, JSON, or GitHub annotations.

pub use crate::line_index::LineIndex;
use serde::Serialize;

/// A byte range in the topology source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(offset: usize, len: usize) -> Self {
        Span { offset, len }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.offset, s.len).into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding: what is wrong, where, and what to do about it.
#[derive(Clone, Debug)]
pub struct Problem {
    pub severity: Severity,
    /// Stable identifier, e.g. `topology::unknown-host`.
    pub code: &'static str,
    pub message: String,
    /// The offending text; `None` when the problem is about the file as a whole.
    pub span: Option<Span>,
    /// Short text shown under the offending value.
    pub label: String,
    pub help: Option<String>,
    /// Secondary places worth showing (e.g. where a clashing name was first defined).
    pub related: Vec<(Span, String)>,
}

impl Problem {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: Some(span),
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The 1-based line and column (in characters) of a byte offset. `\r\n`, `\n` and a lone `\r`
/// each end a line. One lookup scans the text: for many, build a `LineIndex` once.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(text, offset)
}

/// Suggests the closest of `candidates` to a mistyped `word`, if one is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a: 1\nbé: x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 5), (2, 1));
        // 'x' sits after "bé: " (4 characters, 5 bytes).
        assert_eq!(line_col(text, 10), (2, 5));
    }

    #[test]
    fn suggestions_only_when_close() {
        assert_eq!(
            did_you_mean("algoritm", ["listen", "algorithm"]),
            Some("algorithm")
        );
        assert_eq!(did_you_mean("zzz", ["listen", "algorithm"]), None);
    }
}
