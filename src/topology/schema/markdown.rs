//! The README's key tables: one per section that has a table of its own, with a row per key
//! (Key, Type, Default, Meaning). The keys of a section without a table of its own are rows of
//! its parent's, as `health_check.path` or `records[].name`.

use super::default_text;
use crate::topology::load::keys::{Key, Section, Shape, TOPOLOGY};

/// Every section with a table of its own, with its table, in the order the topology names them.
pub fn tables() -> Vec<(&'static str, String)> {
    let mut found: Vec<&'static Section> = Vec::new();
    collect(&TOPOLOGY, &mut found);
    found.into_iter().map(|s| (s.name, table(s))).collect()
}

fn collect(s: &'static Section, found: &mut Vec<&'static Section>) {
    if s.table {
        if found.iter().any(|f| f.name == s.name) {
            return;
        }
        found.push(s);
    }
    for k in s.keys {
        sections_in(&k.shape, found);
    }
}

fn sections_in(shape: &'static Shape, found: &mut Vec<&'static Section>) {
    match shape {
        Shape::Map(s) => collect(s, found),
        Shape::List { item, .. } => sections_in(item, found),
        Shape::Named { value, .. } => sections_in(value, found),
        Shape::AnyOf(shapes) => shapes.iter().for_each(|s| sections_in(s, found)),
        _ => {}
    }
}

/// The Markdown table of a section's keys.
pub fn table(s: &Section) -> String {
    let mut out = String::from("| Key | Type | Default | Meaning |\n|---|---|---|---|\n");
    rows(s, "", &mut out);
    out
}

fn rows(s: &Section, prefix: &str, out: &mut String) {
    for k in s.keys {
        row(k, prefix, out);
        match &k.shape {
            Shape::Map(sub) if !sub.table => rows(sub, &format!("{prefix}{}.", k.name), out),
            Shape::List {
                item: Shape::Map(sub),
                ..
            } if !sub.table => rows(sub, &format!("{prefix}{}[].", k.name), out),
            _ => {}
        }
    }
}

fn row(k: &Key, prefix: &str, out: &mut String) {
    let cell = |text: &str| text.replace('|', "\\|");
    out.push_str(&format!(
        "| `{prefix}{}` | {} | {} | {} |\n",
        k.name,
        cell(k.ty),
        cell(&default_text(&k.default)),
        cell(k.meaning)
    ));
}
