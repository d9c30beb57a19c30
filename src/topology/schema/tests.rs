//! Drift between the schema and the loader, both ways, found through the loader itself (not
//! through the key table both come from):
//!
//! - at every mapping the schema describes, the loader takes exactly the schema's keys: a key it
//!   does not know is refused with the list of those it takes, which must be the schema's;
//! - the loader reads every key the schema has: a value of the wrong type there is reported at
//!   that value (a key it took but never read would pass silently);
//! - on values at the edges of each key's schema (its default, each allowed word, the ends of its
//!   range and one past them) the schema and the loader say the same; names of free keys (hosts,
//!   groups, variables) are held to theirs.
//!
//! Each probe starts from `BASE`, a topology with one of everything, changed in one place.

use super::probing::*;
use serde_json::{Value, json};

#[test]
fn the_base_topology_is_taken_by_both() {
    let (schema, _) = places();
    let doc = base();
    let errors: Vec<String> = validator(&schema)
        .iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "the schema refuses BASE: {errors:#?}");
    let p = probe(&doc);
    assert!(
        p.problems.is_empty(),
        "the loader refuses BASE: {}",
        p.show()
    );
}

#[test]
fn every_mapping_takes_exactly_the_schema_keys() {
    let (_, places) = places();
    assert!(
        places.mappings.len() >= 15,
        "{} mappings",
        places.mappings.len()
    );
    for place in &places.mappings {
        let mut doc = base();
        let segments = concrete(&doc, &place.path);
        mapping_at(&mut doc, &segments).insert(PROBE_KEY.into(), json!(1));
        let p = probe(&doc);
        let at = key_at(&p.root, &segments, PROBE_KEY);
        let refusal = p
            .problems
            .iter()
            .find(|x| x.code == "topology::unknown-key" && x.span == Some(at))
            .unwrap_or_else(|| {
                panic!(
                    "the loader takes `{PROBE_KEY}` at {}: {}",
                    pointer(&segments),
                    p.show()
                )
            });
        let help = refusal.help.clone().unwrap_or_default();
        let (_, list) = help.split_once(" takes: ").unwrap_or_else(|| {
            panic!("`{PROBE_KEY}` got a suggestion instead of the list of keys: {help}")
        });
        let mut loader: Vec<&str> = list.split(", ").collect();
        let mut schema: Vec<&str> = place.schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        loader.sort_unstable();
        schema.sort_unstable();
        assert_eq!(
            loader,
            schema,
            "at {} the loader takes the keys on the left, the schema has those on the right: add \
             the missing ones to the key table (src/topology/load/keys/) or the loader",
            pointer(&segments)
        );
    }
}

/// The mapping a key sits in, set up so that the key may be written alone: the other keys of an
/// exactly-one rule are taken out, and a key another requires with a value is given it.
fn with_rules(mapping: &mut serde_json::Map<String, Value>, parent: &Value, key: &str) {
    for rule in parent["allOf"].as_array().into_iter().flatten() {
        if let Some(one_of) = rule["then"]["oneOf"].as_array() {
            let keys: Vec<&str> = one_of
                .iter()
                .filter_map(|a| a["required"][0].as_str())
                .collect();
            if keys.contains(&key) {
                mapping.retain(|k, _| k == key || !keys.contains(&k.as_str()));
            }
        }
        let when = &rule["if"];
        if when["required"][0] == key && when["properties"][key].get("not").is_some() {
            let then = rule["then"]["required"][0]
                .as_str()
                .expect("a required key");
            if let Some(value) = rule["then"]["properties"][then].get("const") {
                mapping.insert(then.into(), value.clone());
            }
        }
    }
}

/// `BASE` with `value` at a key's place; the pointer to it.
fn set(place: &Place, parent: &Value, value: Value) -> (Value, Vec<String>) {
    let mut doc = base();
    let segments = concrete(&doc, &place.path);
    let (key, at) = segments.split_last().expect("a key");
    let mapping = mapping_at(&mut doc, at);
    with_rules(mapping, parent, key);
    mapping.insert(key.clone(), value);
    (doc, segments)
}

fn parent_of<'p>(places: &'p Places, place: &Place) -> &'p Value {
    let parent = &place.path[..place.path.len() - 1];
    &places
        .mappings
        .iter()
        .find(|m| format!("{:?}", m.path) == format!("{parent:?}"))
        .expect("a key's mapping")
        .schema
}

#[test]
fn the_loader_reads_every_key_of_the_schema() {
    let (schema, places) = places();
    let v = validator(&schema);
    assert!(places.keys.len() >= 60, "{} keys", places.keys.len());
    for place in &places.keys {
        let (doc, segments) = set(place, parent_of(&places, place), wrong_type());
        assert!(
            !v.is_valid(&doc),
            "the schema takes {} at {}",
            wrong_type(),
            pointer(&segments)
        );
        let p = probe(&doc);
        assert!(
            p.error_within(node_at(&p.root, &segments).span),
            "the loader does not read {}: a wrong value there is not reported at it: {}",
            pointer(&segments),
            p.show()
        );
    }
}

/// Values at the edges of a key's schema: (taken, refused).
fn edges(schema: &Value, root: &Value) -> (Vec<Value>, Vec<Value>) {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    if let Some(d) = schema.get("default") {
        good.push(d.clone());
    }
    let alternatives: Vec<&Value> = match schema.get("anyOf").and_then(Value::as_array) {
        Some(any) => any.iter().map(|a| resolve(root, a)).collect(),
        None => vec![schema],
    };
    for a in alternatives {
        let integer = match &a["type"] {
            Value::String(t) => t == "integer",
            Value::Array(types) => types.iter().any(|t| t == "integer"),
            _ => false,
        };
        if integer {
            let (min, max) = (a["minimum"].as_i64(), a["maximum"].as_i64());
            let (min, max) = (min.expect("a minimum"), max.expect("a maximum"));
            good.extend([json!(min), json!(max)]);
            bad.extend([json!(min - 1), json!(max + 1)]);
        }
        if let Some(words) = a["enum"].as_array() {
            good.extend(words.iter().filter(|w| !w.is_null()).cloned());
            bad.push(json!("zz-not-a-choice"));
        }
    }
    (good, bad)
}

#[test]
fn schema_and_loader_agree_at_the_edges_of_each_key() {
    let (schema, places) = places();
    let v = validator(&schema);
    let mut checked = 0;
    for place in &places.keys {
        let (good, bad) = edges(&place.schema, &schema);
        let parent = parent_of(&places, place);
        for value in good {
            let (doc, segments) = set(place, parent, value.clone());
            let p = probe(&doc);
            let schema_takes = v.is_valid(&doc);
            if place.schema.get("default") == Some(&value) {
                assert!(
                    schema_takes,
                    "the schema refuses the default at {}",
                    pointer(&segments)
                );
            }
            assert_eq!(
                schema_takes,
                p.problems.is_empty(),
                "{value} at {}: the schema {} it, the loader {}: {}",
                pointer(&segments),
                if schema_takes { "takes" } else { "refuses" },
                if p.problems.is_empty() {
                    "takes it"
                } else {
                    "refuses it"
                },
                p.show()
            );
            checked += 1;
        }
        for value in bad {
            let (doc, segments) = set(place, parent, value.clone());
            assert!(
                !v.is_valid(&doc),
                "the schema takes {value} at {}",
                pointer(&segments)
            );
            let p = probe(&doc);
            assert!(
                p.error_within(node_at(&p.root, &segments).span),
                "the loader takes {value} at {}, which the schema refuses: {}",
                pointer(&segments),
                p.show()
            );
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} values checked");
}

#[test]
fn names_of_free_keys_are_held_to_their_grammar() {
    let (schema, places) = places();
    let v = validator(&schema);
    assert_eq!(
        places.names.len(),
        4,
        "hosts, groups, environment, failover priorities"
    );
    for place in &places.names {
        let mut doc = base();
        let segments = concrete(&doc, &place.path);
        let map = mapping_at(&mut doc, &segments);
        let first = map.values().next().expect("an entry in BASE").clone();
        map.insert("a b#".into(), first);
        assert!(
            !v.is_valid(&doc),
            "the schema takes the name `a b#` at {}",
            pointer(&segments)
        );
        let p = probe(&doc);
        let at = key_at(&p.root, &segments, "a b#");
        assert!(
            p.error_within(at),
            "the loader takes the name `a b#` at {}: {}",
            pointer(&segments),
            p.show()
        );
        // And the value of an entry is read.
        let mut doc = base();
        let map = mapping_at(&mut doc, &segments);
        let name = map.keys().next().unwrap().clone();
        map.insert(name.clone(), wrong_type());
        assert!(!v.is_valid(&doc));
        let p = probe(&doc);
        let mut at = segments.clone();
        at.push(name);
        assert!(
            p.error_within(node_at(&p.root, &at).span),
            "the loader does not read the entries of {}: {}",
            pointer(&segments),
            p.show()
        );
    }
}

#[test]
fn the_schema_is_a_valid_2020_12_schema() {
    let schema = super::json();
    let errors: Vec<String> = jsonschema::draft202012::meta::validator()
        .iter_errors(&schema)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
