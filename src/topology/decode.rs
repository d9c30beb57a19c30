//! Typed reading of the span-carrying YAML tree. Every mismatch becomes a `Problem` and decoding
//! goes on, so one run reports all schema errors; a field that failed simply stays absent.

use super::node::{Node, Value};
use crate::diagnostic::{Problem, Span, did_you_mean};
use std::borrow::Cow;
use std::net::IpAddr;

/// A decoded value and the span of the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

pub struct Decoder<'t> {
    text: &'t str,
    pub problems: Vec<Problem>,
}

/// The keys of one mapping, checked against the keys it may have.
pub struct Fields<'n> {
    pub node: &'n Node,
    pairs: Vec<(Cow<'n, str>, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value of `key`; an explicit `null` counts as absent.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, v)| *v)
            .filter(|v| !matches!(v.value, Value::Null))
    }

    /// Entries in file order: key text, key node, value node.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &'n Node, &'n Node)> + '_ {
        self.pairs.iter().map(|(k, kn, v)| (k.as_ref(), *kn, *v))
    }
}

impl<'t> Decoder<'t> {
    pub fn new(text: &'t str) -> Self {
        Decoder {
            text,
            problems: Vec::new(),
        }
    }

    pub fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    fn type_error(&mut self, node: &Node, what: &str, expected: &str) {
        self.push(
            Problem::error(
                "topology::wrong-type",
                node.span,
                format!("{what}: expected {expected}, found {}", node.value.kind()),
            )
            .label(format!("expected {expected}")),
        );
    }

    /// Opens a mapping whose keys must be among `known`; reports every other key.
    pub fn map<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Option<Fields<'n>> {
        let fields = self.any_map(node, what)?;
        for (key, key_node, _) in fields.entries() {
            if !known.contains(&key) {
                let mut p = Problem::error(
                    "topology::unknown-key",
                    key_node.span,
                    format!("unknown key `{key}` in {what}"),
                )
                .label("not a known key");
                p = match did_you_mean(key, known.iter().copied()) {
                    Some(s) => p.help(format!("did you mean `{s}`?")),
                    None => p.help(format!("{what} takes: {}", known.join(", "))),
                };
                self.push(p);
            }
        }
        Some(fields)
    }

    /// Opens a mapping with free-form string keys (host names, environment variables). Plain
    /// keys YAML would read as booleans or numbers (`yes`, `N`, `1234`) keep their spelling.
    pub fn any_map<'n>(&mut self, node: &'n Node, what: &str) -> Option<Fields<'n>> {
        let Value::Map(pairs) = &node.value else {
            self.type_error(node, what, "a mapping");
            return None;
        };
        let mut out = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let key = match &k.value {
                Value::Str(s) => Some(Cow::Borrowed(s.as_str())),
                Value::Bool(_) | Value::Int(_) | Value::Float(_) => self
                    .raw(k)
                    .filter(|raw| !raw.is_empty())
                    .map(|raw| Cow::Owned(raw.to_string())),
                _ => None,
            };
            match key {
                Some(key) => out.push((key, k, v)),
                None => self.push(
                    Problem::error(
                        "topology::wrong-type",
                        k.span,
                        format!("{what}: keys must be strings, found {}", k.value.kind()),
                    )
                    .label("not a string key"),
                ),
            }
        }
        Some(Fields { node, pairs: out })
    }

    /// The source text of a node, as written.
    fn raw(&self, node: &Node) -> Option<&'t str> {
        self.text
            .get(node.span.offset..node.span.offset + node.span.len)
    }

    /// Reads a list; a single value stands for a list of one.
    pub fn list<T>(
        &mut self,
        node: &Node,
        mut item: impl FnMut(&mut Self, &Node) -> Option<T>,
    ) -> Vec<T> {
        match &node.value {
            Value::Seq(items) => items.iter().filter_map(|n| item(self, n)).collect(),
            Value::Null => Vec::new(),
            _ => item(self, node).into_iter().collect(),
        }
    }

    /// Reads text. Plain scalars YAML would read as numbers or booleans keep their spelling.
    pub fn string(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        match &node.value {
            Value::Str(s) => Some(Sp::new(s.clone(), node.span)),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                let raw = self.raw(node)?;
                Some(Sp::new(raw.to_string(), node.span))
            }
            _ => {
                self.type_error(node, what, "a string");
                None
            }
        }
    }

    /// Reads a non-empty string.
    pub fn name(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        let s = self.string(node, what)?;
        if s.value.trim().is_empty() {
            self.push(
                Problem::error(
                    "topology::invalid-value",
                    node.span,
                    format!("{what} is empty"),
                )
                .label("empty"),
            );
            return None;
        }
        Some(s)
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.type_error(node, what, "true or false");
                None
            }
        }
    }

    /// Reads an integer in `min..=max`.
    pub fn int(&mut self, node: &Node, what: &str, min: i128, max: i128) -> Option<Sp<i128>> {
        match node.value {
            Value::Int(i) if (min..=max).contains(&i) => Some(Sp::new(i, node.span)),
            Value::Int(i) => {
                self.push(
                    Problem::error(
                        "topology::invalid-value",
                        node.span,
                        format!("{what} must be between {min} and {max}, found {i}"),
                    )
                    .label("out of range"),
                );
                None
            }
            _ => {
                self.type_error(node, what, &format!("an integer from {min} to {max}"));
                None
            }
        }
    }

    pub fn port(&mut self, node: &Node, what: &str) -> Option<Sp<u16>> {
        self.int(node, what, 1, 65535)
            .map(|p| Sp::new(p.value as u16, p.span))
    }

    pub fn u32(&mut self, node: &Node, what: &str, min: u32, max: u32) -> Option<Sp<u32>> {
        self.int(node, what, min.into(), max.into())
            .map(|p| Sp::new(p.value as u32, p.span))
    }

    pub fn ip(&mut self, node: &Node, what: &str) -> Option<Sp<IpAddr>> {
        let s = self.string(node, what)?;
        match s.value.parse::<IpAddr>() {
            Ok(ip) => Some(Sp::new(ip, s.span)),
            Err(_) => {
                self.push(
                    Problem::error(
                        "topology::invalid-address",
                        s.span,
                        format!("{what}: `{}` is not a valid IP address", s.value),
                    )
                    .label("not an IPv4 or IPv6 address")
                    .help("write a literal address such as 192.0.2.10 or 2001:db8::10"),
                );
                None
            }
        }
    }

    /// Reads one of a fixed set of words.
    pub fn choice<T: Copy>(
        &mut self,
        node: &Node,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<Sp<T>> {
        let s = self.string(node, what)?;
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == s.value) {
            return Some(Sp::new(*v, s.span));
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let mut p = Problem::error(
            "topology::invalid-value",
            s.span,
            format!("{what}: `{}` is not one of {}", s.value, names.join(", ")),
        )
        .label("unknown value");
        if let Some(guess) = did_you_mean(&s.value, names.iter().copied()) {
            p = p.help(format!("did you mean `{guess}`?"));
        }
        self.push(p);
        None
    }

    /// Reads a duration such as `500ms`, `2s` or `1m` (a bare integer means seconds) as milliseconds.
    pub fn duration(&mut self, node: &Node, what: &str) -> Option<Sp<u64>> {
        if let Value::Int(i) = node.value
            && (0..=86_400).contains(&i)
        {
            return Some(Sp::new(i as u64 * 1000, node.span));
        }
        let s = self.string(node, what)?;
        let parsed = parse_duration_ms(&s.value);
        if parsed.is_none() {
            self.push(
                Problem::error(
                    "topology::invalid-value",
                    s.span,
                    format!("{what}: `{}` is not a duration", s.value),
                )
                .label("not a duration")
                .help("write a number with a unit: 500ms, 2s, 1m (at most one day)"),
            );
        }
        parsed.map(|ms| Sp::new(ms, s.span))
    }
}

/// `500ms`, `2s`, `1m`, `1h` -> milliseconds, up to one day.
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let unit = match &s[digits..] {
        "ms" => 1,
        "s" | "" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    let ms = n.checked_mul(unit)?;
    (ms <= 86_400_000).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("2s"), Some(2000));
        assert_eq!(parse_duration_ms("1m"), Some(60_000));
        assert_eq!(parse_duration_ms("2 s"), None);
        assert_eq!(parse_duration_ms("fast"), None);
        assert_eq!(parse_duration_ms("99999h"), None);
    }

    #[test]
    fn keys_read_as_booleans_or_numbers_keep_their_spelling() {
        let text = "yes: a\nN: b\n1234: c\n1.50: d\ntrue: e\nname: f\n";
        let root = super::super::node::parse(text).unwrap();
        let mut d = Decoder::new(text);
        let f = d.any_map(&root, "test").unwrap();
        let keys: Vec<&str> = f.entries().map(|(k, _, _)| k).collect();
        assert_eq!(keys, ["yes", "N", "1234", "1.50", "true", "name"]);
        assert!(f.get("1234").is_some());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
    }

    #[test]
    fn a_null_key_is_still_a_type_error() {
        let text = "~: a\nname: b\n";
        let root = super::super::node::parse(text).unwrap();
        let mut d = Decoder::new(text);
        let f = d.any_map(&root, "test").unwrap();
        assert_eq!(f.entries().count(), 1);
        assert_eq!(d.problems.len(), 1);
        assert_eq!(d.problems[0].code, "topology::wrong-type");
    }
}
