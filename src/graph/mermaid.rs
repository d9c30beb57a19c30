//! The graph as a Mermaid flowchart, to paste into a README or a pull request (GitHub and
//! GitLab draw it). Node ids are generated (`n0`, `n1`...); every character of a label outside
//! letters, digits, space and `. , : / _ - + = @ ( )` is written as a Mermaid entity code
//! (`#34;` for `"`), so no value can end its label, start a comment or add markup.

use super::{Graph, Kind, State, edge_colour, node_colours, node_lines, printable, shorten};
use std::fmt::Write;

/// Text for inside a quoted Mermaid label.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        if c.is_ascii_alphanumeric() || " .,:/_-+=@()".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

fn class_of(node: &super::Node) -> &'static str {
    match node.state {
        Some(s) => s.word(),
        None => match node.kind {
            Kind::Record | Kind::NameServer => "dns",
            Kind::Vip | Kind::LoadBalancer => "lb",
            Kind::Backend => "backend",
            Kind::Server => "server",
            Kind::Database | Kind::Replica => "database",
            Kind::Idle => "idle",
        },
    }
}

/// The graph in Mermaid.
pub fn write(graph: &Graph) -> String {
    let id = |node: &str| {
        graph
            .index(node)
            .map_or_else(String::new, |i| format!("n{i}"))
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "%% {}: {}",
        printable(&graph.title),
        printable(&graph.subtitle)
    );
    out.push_str("flowchart LR\n");
    let label = |node: &super::Node| {
        let mut text = format!("<b>{}</b>", escape(&shorten(&node.title)));
        for line in node_lines(node) {
            let _ = write!(text, "<br/>{}", escape(&shorten(&line)));
        }
        text
    };
    let in_cluster = |n: &super::Node| graph.clusters.iter().any(|c| c.nodes.contains(&n.id));
    for (k, cluster) in graph.clusters.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph c{k}[\"{}\"]",
            escape(&shorten(&cluster.label))
        );
        for member in &cluster.nodes {
            if let Some(i) = graph.index(member) {
                let _ = writeln!(out, "    n{i}[\"{}\"]", label(&graph.nodes[i]));
            }
        }
        out.push_str("  end\n");
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        if !in_cluster(node) {
            let _ = writeln!(out, "  n{i}[\"{}\"]", label(node));
        }
    }
    for edge in &graph.edges {
        let arrow = if edge.idle || edge.state == Some(State::Unknown) {
            "-.->"
        } else {
            "-->"
        };
        match &edge.label {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "  {} {arrow}|\"{}\"| {}",
                    id(&edge.from),
                    escape(&shorten(l)),
                    id(&edge.to)
                );
            }
            None => {
                let _ = writeln!(out, "  {} {arrow} {}", id(&edge.from), id(&edge.to));
            }
        }
    }
    // Colours: the frames, one class per kind (or state), then the edges by state.
    for k in 0..graph.clusters.len() {
        let _ = writeln!(
            out,
            "  style c{k} fill:#faf8fd,stroke:#9575cd,stroke-dasharray:5 3,color:#5e35b1"
        );
    }
    let mut classes: Vec<(&str, &super::Node)> = Vec::new();
    for node in &graph.nodes {
        let class = class_of(node);
        if !classes.iter().any(|(c, _)| *c == class) {
            classes.push((class, node));
        }
    }
    for (class, node) in &classes {
        let c = node_colours(node);
        let _ = writeln!(
            out,
            "  classDef {class} fill:{},stroke:{},color:#1b1b1b",
            c.fill, c.stroke
        );
        let members: Vec<String> = graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| class_of(n) == *class)
            .map(|(i, _)| format!("n{i}"))
            .collect();
        let _ = writeln!(out, "  class {} {class}", members.join(","));
    }
    for state in State::ALL {
        let edges: Vec<String> = graph
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.state == Some(state))
            .map(|(k, _)| k.to_string())
            .collect();
        if let Some(first) = graph.edges.iter().find(|e| e.state == Some(state))
            && !edges.is_empty()
        {
            let width = if matches!(state, State::Down | State::Drained) {
                "3px"
            } else {
                "1.5px"
            };
            let _ = writeln!(
                out,
                "  linkStyle {} stroke:{},stroke-width:{width}",
                edges.join(","),
                edge_colour(first)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_text_keeps_only_plain_characters() {
        assert_eq!(escape("web-01 (10.0.0.1:80)"), "web-01 (10.0.0.1:80)");
        assert_eq!(escape(r#"a"]; click"#), "a#34;#93;#59; click");
        assert_eq!(
            escape("<b>#x;%%`*é"),
            "#60;b#62;#35;x#59;#37;#37;#96;#42;#233;"
        );
        assert_eq!(escape("line\nbreak|pipe"), "line break#124;pipe");
    }
}
