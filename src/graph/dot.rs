//! The graph as Graphviz DOT (`dot -Tsvg`, `-Tpng`...). Node ids are generated (`n0`, `n1`...);
//! labels are HTML-like labels with every text XML-escaped, other attributes quoted strings with
//! `\` and `"` escaped, so no value can leave its label.

use super::svg::escape;
use super::{Graph, Kind, State, edge_colour, node_colours, node_lines, shorten};
use std::fmt::Write;

const FONT: &str = "DejaVu Sans,Verdana,sans-serif";

/// A DOT quoted string: `"` and `\` escaped, line breaks as `\n`, other controls as spaces.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The graph in DOT.
pub fn write(graph: &Graph) -> String {
    let id = |node: &str| {
        graph
            .index(node)
            .map_or_else(String::new, |i| format!("n{i}"))
    };
    let mut out = String::new();
    let _ = writeln!(out, "digraph topology {{");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, nodesep=0.25, ranksep=0.9, bgcolor=\"white\", fontname={}, labelloc=t, labeljust=l, label=<<B>{}</B><BR/><FONT POINT-SIZE=\"10\">{}</FONT>>];",
        quote(FONT),
        escape(&shorten(&graph.title)),
        escape(&graph.subtitle)
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname={}, fontsize=10, margin=\"0.15,0.08\"];",
        quote(FONT)
    );
    let _ = writeln!(
        out,
        "  edge [fontname={}, fontsize=9, color=\"#546e7a\", fontcolor=\"#455a64\", arrowsize=0.7];",
        quote(FONT)
    );
    for (i, node) in graph.nodes.iter().enumerate() {
        let c = node_colours(node);
        let mut label = format!("<B>{}</B>", escape(&shorten(&node.title)));
        for line in node_lines(node) {
            let _ = write!(label, "<BR/>{}", escape(&shorten(&line)));
        }
        let mut tooltip = node.title.clone();
        for line in node.lines.iter().chain(&node.notes) {
            let _ = write!(tooltip, "\n{line}");
        }
        let style = if node.kind == Kind::Idle {
            ", style=\"rounded,filled,dashed\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  n{i} [label=<{label}>, fillcolor=\"{}\", color=\"{}\", tooltip={}{style}];",
            c.fill,
            c.stroke,
            quote(&tooltip)
        );
    }
    for (k, cluster) in graph.clusters.iter().enumerate() {
        let members: Vec<String> = cluster.nodes.iter().map(|n| id(n)).collect();
        let _ = writeln!(
            out,
            "  subgraph cluster_{k} {{ label={}; style=\"dashed,rounded\"; color=\"#9575cd\"; fontcolor=\"#5e35b1\"; fontsize=10; {}; }}",
            quote(&shorten(&cluster.label)),
            members.join("; ")
        );
    }
    // Each layer in one column (the cluster's layer is held together by the cluster).
    let mut layers: Vec<usize> = graph.nodes.iter().map(|n| n.kind.layer()).collect();
    layers.sort_unstable();
    layers.dedup();
    for layer in layers {
        let members: Vec<String> = graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind.layer() == layer)
            .filter(|(_, n)| !graph.clusters.iter().any(|c| c.nodes.contains(&n.id)))
            .map(|(i, _)| format!("n{i}"))
            .collect();
        if members.len() > 1 {
            let _ = writeln!(out, "  {{ rank=same; {}; }}", members.join("; "));
        }
    }
    for edge in &graph.edges {
        let mut attrs = Vec::new();
        if let Some(label) = &edge.label {
            attrs.push(format!("label={}", quote(&shorten(label))));
        }
        if edge.state.is_some() {
            attrs.push(format!("color=\"{}\"", edge_colour(edge)));
        }
        if matches!(edge.state, Some(State::Down | State::Drained)) {
            attrs.push("penwidth=2".into());
        }
        if edge.idle || edge.state == Some(State::Unknown) {
            attrs.push("style=dashed".into());
        }
        if !edge.notes.is_empty() {
            attrs.push(format!("tooltip={}", quote(&edge.notes.join("\n"))));
        }
        let _ = writeln!(
            out,
            "  {} -> {}{};",
            id(&edge.from),
            id(&edge.to),
            if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            }
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_cannot_be_closed_early() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("x\ny\u{0}"), r#""x\ny ""#);
        assert_eq!(quote(r#"\"; evil [a=b"#), r#""\\\"; evil [a=b""#);
    }
}
