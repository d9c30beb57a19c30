//! What the drift tests (`tests.rs`) probe with: `BASE`, a topology with one of everything;
//! the places the schema describes, found by walking it; and a probe that runs the loader's
//! decoding on a changed document and says where it reported what.

use crate::diagnostic::Problem;
use crate::topology::decode::Decoder;
use crate::topology::node::{self, Node, Value as Yaml};
use crate::topology::{Span, load};
use serde_json::{Value, json};

/// A topology the schema and the loader both take, with one of every mapping to probe. JSON is
/// YAML, so each probe is this document changed and written out as JSON.
pub(super) const BASE: &str = r#"{
  "domain": "foobar.com",
  "ssh": {},
  "hosts": {
    "lb-01": { "address": "192.0.2.10", "roles": ["lb"] },
    "web-01": { "address": "192.0.2.21", "roles": ["web", "app"] },
    "db-01": { "address": "192.0.2.30", "roles": ["db"] }
  },
  "load_balancer": {
    "health_check": {},
    "timeouts": {},
    "backends": [{ "role": "web" }],
    "groups": { "api": [{ "host": "web-01" }] },
    "routes": [{ "path_prefix": "/api/", "group": "api" }],
    "tls": { "certificate": "certs/foobar.pem", "key": { "env": "FOOBAR_TLS_KEY" } },
    "vip": "192.0.2.100",
    "failover": { "priorities": { "lb-01": 150 } }
  },
  "web": {},
  "app": { "environment": { "MODE": "production" } },
  "database": {
    "password": { "env": "FOOBAR_DB_PASSWORD" },
    "replication": { "password": { "env": "FOOBAR_REPLICATION_PASSWORD" } }
  },
  "dns": {
    "server": "192.0.2.53",
    "key": { "name": "foobar-infra", "secret": { "env": "FOOBAR_TSIG_SECRET" } },
    "records": [{ "name": "www", "target": "lb-01" }, { "name": "ns1", "target": "192.0.2.53" }]
  }
}"#;

/// A key no mapping takes, and far from every key (so the loader lists the keys it takes
/// instead of suggesting one).
pub(super) const PROBE_KEY: &str = "zz_probe";

/// A value no key takes: a list holding a list.
pub(super) fn wrong_type() -> Value {
    json!([[]])
}

/// One step from a mapping or list to a value inside it.
#[derive(Clone, Debug)]
pub(super) enum Step {
    Key(String),
    /// Any entry of a mapping of free names: the first one in `BASE`.
    AnyName,
    /// An item of a list: the first one in `BASE`.
    Item,
}

/// Where the schema describes something, and its schema there.
#[derive(Clone, Debug)]
pub(super) struct Place {
    pub(super) path: Vec<Step>,
    pub(super) schema: Value,
}

#[derive(Default)]
pub(super) struct Places {
    /// Mappings of fixed keys.
    pub(super) mappings: Vec<Place>,
    /// Their keys.
    pub(super) keys: Vec<Place>,
    /// Mappings of free names.
    pub(super) names: Vec<Place>,
}

pub(super) fn resolve<'s>(root: &'s Value, s: &'s Value) -> &'s Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("a local reference");
            resolve(root, root.pointer(pointer).expect("the reference exists"))
        }
        None => s,
    }
}

/// Every place of the schema, depth first.
pub(super) fn walk(root: &Value, s: &Value, path: &mut Vec<Step>, out: &mut Places) {
    assert!(path.len() < 16, "the schema nests too deep at {path:?}");
    let s = resolve(root, s);
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        out.mappings.push(Place {
            path: path.clone(),
            schema: s.clone(),
        });
        for (k, v) in props {
            path.push(Step::Key(k.clone()));
            out.keys.push(Place {
                path: path.clone(),
                schema: resolve(root, v).clone(),
            });
            walk(root, v, path, out);
            path.pop();
        }
    }
    if s.get("propertyNames").is_some() {
        out.names.push(Place {
            path: path.clone(),
            schema: s.clone(),
        });
        path.push(Step::AnyName);
        walk(root, &s["additionalProperties"], path, out);
        path.pop();
    }
    if let Some(items) = s.get("items") {
        path.push(Step::Item);
        walk(root, items, path, out);
        path.pop();
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        // A list's single-value form is its item again: walked once, as the item.
        let items: Vec<&Value> = any.iter().filter_map(|a| a.get("items")).collect();
        for a in any.iter().filter(|a| !items.contains(a)) {
            walk(root, a, path, out);
        }
    }
}

pub(super) fn places() -> (Value, Places) {
    let schema = super::json();
    let mut out = Places::default();
    walk(&schema, &schema, &mut Vec::new(), &mut out);
    (schema, out)
}

/// The path in `BASE`: JSON pointer segments.
pub(super) fn concrete(base: &Value, path: &[Step]) -> Vec<String> {
    let mut at = Some(base);
    let mut out = Vec::new();
    for step in path {
        let segment = match step {
            Step::Key(k) => k.clone(),
            Step::AnyName => at
                .and_then(Value::as_object)
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_else(|| panic!("BASE has no entry at {path:?}: give it one")),
            Step::Item => {
                assert!(
                    at.and_then(Value::as_array).is_some_and(|a| !a.is_empty()),
                    "BASE has no list item at {path:?}: give it one"
                );
                "0".into()
            }
        };
        at = at.and_then(|v| match v {
            Value::Array(items) => items.first(),
            _ => v.get(&segment),
        });
        out.push(segment);
    }
    out
}

pub(super) fn pointer(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The mapping at `segments`, made (empty) where `BASE` has none.
pub(super) fn mapping_at<'d>(
    doc: &'d mut Value,
    segments: &[String],
) -> &'d mut serde_json::Map<String, Value> {
    let mut at = doc;
    for s in segments {
        at = match at {
            Value::Array(items) => &mut items[s.parse::<usize>().expect("an index")],
            Value::Object(map) => map.entry(s.clone()).or_insert_with(|| json!({})),
            other => panic!("BASE has {other} where a mapping goes, at {s}"),
        };
    }
    at.as_object_mut()
        .unwrap_or_else(|| panic!("BASE has no mapping at {}", pointer(segments)))
}

/// The node at `segments` in the loader's tree of `text`.
pub(super) fn node_at<'n>(root: &'n Node, segments: &[String]) -> &'n Node {
    segments.iter().fold(root, |n, s| match &n.value {
        Yaml::Map(pairs) => {
            &pairs
                .iter()
                .find(|(k, _)| matches!(&k.value, Yaml::Str(key) if key == s))
                .unwrap_or_else(|| panic!("no key {s} in the probe"))
                .1
        }
        Yaml::Seq(items) => &items[s.parse::<usize>().expect("an index")],
        _ => panic!("no {s} in the probe"),
    })
}

/// The key node of `key` in the mapping at `segments`.
pub(super) fn key_at(root: &Node, segments: &[String], key: &str) -> Span {
    match &node_at(root, segments).value {
        Yaml::Map(pairs) => {
            pairs
                .iter()
                .find(|(k, _)| matches!(&k.value, Yaml::Str(s) if s == key))
                .expect("the key")
                .0
                .span
        }
        _ => panic!("not a mapping"),
    }
}

/// A probe: the document as text, its tree, and what the loader's decoding reports (the
/// schema's side of `validate`; the semantic rules come after).
pub(super) struct Probe {
    pub(super) text: String,
    pub(super) root: Node,
    pub(super) problems: Vec<Problem>,
}

pub(super) fn probe(doc: &Value) -> Probe {
    let text = serde_json::to_string_pretty(doc).unwrap();
    let root = node::parse(&text).expect("JSON is YAML");
    let mut d = Decoder::new(&text);
    load::decode(&root, &mut d);
    let problems = d.problems.into_iter().filter(Problem::is_error).collect();
    Probe {
        text,
        root,
        problems,
    }
}

impl Probe {
    /// An error inside the value that starts where `at` does.
    pub(super) fn error_within(&self, at: Span) -> bool {
        let end = at.offset + extent(&self.text[at.offset..]).max(at.len);
        self.problems.iter().any(|p| {
            p.span
                .is_some_and(|s| s.offset >= at.offset && s.offset + s.len <= end)
        })
    }

    pub(super) fn show(&self) -> String {
        let problems: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.code, p.message))
            .collect();
        format!("{}\nloader: {problems:#?}", self.text)
    }
}

/// The length of the JSON value `text` starts with (a collection node's span is its start only).
pub(super) fn extent(text: &str) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' if in_string => {
                in_string = false;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ if in_string => {}
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' if depth > 1 => depth -= 1,
            ']' | '}' if depth == 1 => return i + 1,
            ',' | '\n' | ']' | '}' if depth == 0 => return i,
            _ => {}
        }
    }
    text.len()
}

pub(super) fn base() -> Value {
    serde_json::from_str(BASE).unwrap()
}

pub(super) fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema).expect("the schema compiles")
}
