//! The topology's YAML as a generic tree in which every node keeps its byte span.
//!
//! The typed model is decoded from this tree by hand (see `load/`) rather than by serde derive,
//! so that one run can report every unknown key and wrong type, each under its exact value.

use crate::diagnostic::{LineIndex, Span};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A YAML value with the span of its text.
#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// The YAML kind of the value, as said in "expected X, found Y".
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error (or a document the parser refuses) with its position.
#[derive(Debug)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

/// Parses YAML text into a span-carrying tree. An empty document is `Null`.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 64,
            max_nodes: 200_000,
            max_total_scalar_bytes: 16 * 1024 * 1024,
            max_documents: 1,
        },
    };
    match serde_saphyr::from_str_with_options::<Option<Spanned<Raw>>>(text, options) {
        Ok(Some(root)) => Ok(convert(root, text)),
        Ok(None) => Ok(Node {
            span: Span::new(0, 0),
            value: Value::Null,
        }),
        Err(err) => {
            let inner = err.without_snippet();
            let span = inner
                .location()
                .map(|loc| span_of_location(text, &loc))
                .unwrap_or_default();
            // The plain message carries a "line L column C: " prefix that the diagnostic shows
            // anyway; drop it so each output format places the location in its own way.
            let message = strip_location_prefix(&inner.to_string());
            Err(ParseError { message, span })
        }
    }
}

fn strip_location_prefix(msg: &str) -> String {
    let msg = msg.trim();
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("line ")
        && let Some((_, after)) = rest.split_once(": ")
        && rest.split_once(": ").map(|(pos, _)| pos.contains("column")) == Some(true)
    {
        return after.lines().next().unwrap_or(after).to_string();
    }
    msg.lines().next().unwrap_or(msg).to_string()
}

fn span_of(text: &str, loc: &serde_saphyr::Location) -> Span {
    let s = loc.span();
    match (s.byte_offset(), s.byte_len()) {
        (Some(off), Some(len)) => {
            let off = (off as usize).min(text.len());
            let len = (len as usize).min(text.len() - off);
            Span::new(off, len)
        }
        _ => span_of_location(text, loc),
    }
}

/// Converts a 1-based line/column position (in characters) into a byte offset. Lines end as
/// the parser ends them: at `\r\n`, `\n` or a lone `\r`.
fn span_of_location(text: &str, loc: &serde_saphyr::Location) -> Span {
    let (line, col) = (loc.line() as usize, loc.column() as usize);
    let lines = LineIndex::new(text);
    if line == 0 || line > lines.line_count() {
        return Span::new(text.len(), 0);
    }
    let offset = lines.line_start(line - 1);
    let end = if line < lines.line_count() {
        lines.line_start(line)
    } else {
        text.len()
    };
    let l = &text[offset..end];
    let col_bytes: usize = l
        .chars()
        .take(col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    // Cover the word at the position (a key, a value), or the one character there.
    let rest = &l[col_bytes..];
    let word: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || "_-.".contains(*c))
        .map(char::len_utf8)
        .sum();
    let len = if word > 0 {
        word
    } else {
        rest.chars()
            .next()
            .filter(|c| !matches!(c, '\n' | '\r'))
            .map_or(0, char::len_utf8)
    };
    Span::new(offset + col_bytes, len)
}

fn convert(raw: Spanned<Raw>, text: &str) -> Node {
    let mut span = span_of(text, &raw.referenced);
    let value = match raw.value {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Int(i) => Value::Int(i),
        Raw::Float(f) => Value::Float(f),
        Raw::Str(s) => Value::Str(s),
        Raw::Seq(items) => Value::Seq(items.into_iter().map(|n| convert(n, text)).collect()),
        Raw::Map(pairs) => {
            let pairs: Vec<(Node, Node)> = pairs
                .into_iter()
                .map(|(k, v)| (convert(k, text), convert(v, text)))
                .collect();
            // A block mapping's own span is empty; cover its first key so labels have a width.
            if span.len == 0
                && let Some((k, _)) = pairs.first()
            {
                span = k.span;
            }
            Value::Map(pairs)
        }
    };
    Node { span, value }
}

/// What serde-saphyr hands us: any YAML value, children wrapped in `Spanned`.
enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
                Raw::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
                Ok(Raw::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
                Ok(Raw::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
                Ok(Raw::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Raw, E> {
                Ok(i128::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
                Ok(Raw::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Raw, E> {
                Ok(Raw::Str(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Raw, E> {
                Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Raw::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = a.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Raw::Map(pairs))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_exact_spans() {
        let text = "a: 1\nb:\n  - \"80\"\n";
        let root = parse(text).unwrap();
        let Value::Map(pairs) = root.value else {
            panic!("map expected")
        };
        let (k, v) = &pairs[1];
        assert_eq!(&text[k.span.offset..k.span.offset + k.span.len], "b");
        let Value::Seq(items) = &v.value else {
            panic!("seq expected")
        };
        assert_eq!(
            &text[items[0].span.offset..items[0].span.offset + items[0].span.len],
            "\"80\""
        );
    }

    #[test]
    fn syntax_error_has_a_location() {
        let err = parse("a: [1, 2\nb: 3").unwrap_err();
        assert!(err.span.offset > 0, "{err:?}");
        assert!(!err.message.starts_with("line"), "{}", err.message);
    }

    /// The parser ends lines at `\r\n`, `\n` and a lone `\r` alike: spans and the positions of
    /// syntax errors land on the same line and column whatever the file's line endings.
    #[test]
    fn every_line_ending_gives_the_same_positions() {
        let lf = "a: 1\nb:\n  - \"80\"\nc: [1, 2\nd: 3\n";
        let place = |text: &str| {
            let root = parse(&text[..text.find("c:").unwrap()]).unwrap();
            let Value::Map(pairs) = root.value else {
                panic!("map expected")
            };
            let Value::Seq(items) = &pairs[1].1.value else {
                panic!("seq expected")
            };
            let err = parse(text).unwrap_err();
            (
                crate::diagnostic::line_col(text, items[0].span.offset),
                items[0].span.len,
                crate::diagnostic::line_col(text, err.span.offset),
                err.span.len,
                err.message,
            )
        };
        let expected = place(lf);
        assert_eq!(expected.0, (3, 5));
        for ending in ["\r\n", "\r"] {
            assert_eq!(place(&lf.replace('\n', ending)), expected, "{ending:?}");
        }
    }

    #[test]
    fn empty_document_is_null() {
        assert!(matches!(parse("").unwrap().value, Value::Null));
        assert!(matches!(
            parse("# only a comment\n").unwrap().value,
            Value::Null
        ));
    }
}
