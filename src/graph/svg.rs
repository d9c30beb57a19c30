//! The graph as a self-contained SVG: laid out here, no script, no external font or image,
//! every text XML-escaped. Presentation attributes only (no `<style>`), so that it draws the
//! same wherever it is embedded.

use super::layout::{self, CLUSTER_LABEL, Curve, MARGIN, Rect, Sizes};
use super::metrics::width;
use super::{
    Graph, Kind, Node, State, edge_colour, node_colours, node_lines, printable, shorten,
    state_colours,
};
use std::fmt::Write;

const FONT: &str = "DejaVu Sans, Verdana, Geneva, sans-serif";
const TITLE_SIZE: u32 = 14;
const LINE_SIZE: u32 = 12;
const LABEL_SIZE: u32 = 11;
const LINE_HEIGHT: i32 = 16;
const PAD_X: i32 = 12;
const PAD_Y: i32 = 9;
const MIN_NODE_WIDTH: i32 = 128;
const TEXT: &str = "#1b1b1b";
const MUTED: &str = "#455a64";

/// Text for XML character data and attribute values: `& < > " '` as entities, control
/// characters as spaces (XML 1.0 cannot hold most of them at all).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not characters XML allows.
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn w(text: &str, size: u32, bold: bool) -> i32 {
    width(text, size, bold) as i32
}

fn node_size(node: &Node) -> (i32, i32) {
    let lines = node_lines(node);
    let widest = lines
        .iter()
        .map(|l| w(&shorten(l), LINE_SIZE, false))
        .chain([w(&shorten(&node.title), TITLE_SIZE, true)])
        .max()
        .unwrap_or(0);
    (
        (widest + 2 * PAD_X).max(MIN_NODE_WIDTH),
        2 * PAD_Y + LINE_HEIGHT + 2 + LINE_HEIGHT * lines.len() as i32,
    )
}

fn label_size(text: &str) -> (i32, i32) {
    (w(&shorten(text), LABEL_SIZE, false) + 8, 15)
}

/// The heading: the title, the counts, and in live mode the legend of colours.
struct Heading {
    height: i32,
    width: i32,
}

fn heading(graph: &Graph) -> Heading {
    let mut width = w(&shorten(&graph.title), 18, true).max(w(&graph.subtitle, 12, false));
    if graph.live {
        width = width.max(legend_width());
    }
    Heading {
        height: if graph.live { 84 } else { 62 } + MARGIN,
        width,
    }
}

fn legend_width() -> i32 {
    State::ALL
        .iter()
        .map(|s| 14 + 6 + w(s.word(), 12, false) + 18)
        .sum()
}

/// The SVG document for `graph`.
pub fn write(graph: &Graph) -> String {
    let head = heading(graph);
    let sizes = Sizes {
        nodes: graph.nodes.iter().map(node_size).collect(),
        labels: graph
            .edges
            .iter()
            .map(|e| e.label.as_deref().map(label_size))
            .collect(),
        top: head.height,
        min_width: head.width,
    };
    let l = layout::place(graph, &sizes);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" role="img" aria-labelledby="graph-title">"#,
        w = l.width,
        h = l.height
    );
    let _ = writeln!(
        out,
        r#"<title id="graph-title">{}: {}</title>"#,
        escape(&graph.title),
        escape(&graph.subtitle)
    );
    let _ = writeln!(
        out,
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker>{}</defs>"##,
        State::ALL
            .iter()
            .map(|s| format!(
                r#"<marker id="arrow-{}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"#,
                s.word(),
                state_colours(*s).stroke
            ))
            .collect::<String>()
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{MARGIN}" y="{}" font-size="18" font-weight="bold" fill="{TEXT}">{}</text>"#,
        MARGIN + 16,
        escape(&shorten(&graph.title))
    );
    let _ = writeln!(
        out,
        r#"<text x="{MARGIN}" y="{}" font-size="12" fill="{MUTED}">{}</text>"#,
        MARGIN + 36,
        escape(&graph.subtitle)
    );
    if graph.live {
        legend(&mut out, MARGIN, MARGIN + 52);
    }
    for (cluster, r) in graph.clusters.iter().zip(&l.clusters) {
        let _ = writeln!(
            out,
            r##"<g><rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="#faf8fd" stroke="#9575cd" stroke-dasharray="5 3"/><text x="{}" y="{}" font-size="11" font-weight="bold" fill="#5e35b1">{}</text></g>"##,
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 10,
            r.y + CLUSTER_LABEL - 7,
            escape(&shorten(&cluster.label))
        );
    }
    for (edge, curve) in graph.edges.iter().zip(&l.edges) {
        edge_svg(&mut out, edge, curve);
    }
    for (node, r) in graph.nodes.iter().zip(&l.nodes) {
        node_svg(&mut out, node, r);
    }
    out.push_str("</svg>\n");
    out
}

fn legend(out: &mut String, x: i32, y: i32) {
    let mut x = x;
    for s in State::ALL {
        let c = state_colours(s);
        let _ = writeln!(
            out,
            r#"<g><rect x="{x}" y="{}" width="14" height="14" rx="3" fill="{}" stroke="{}" stroke-width="1.5"/><text x="{}" y="{y}" font-size="12" fill="{TEXT}">{}</text></g>"#,
            y - 11,
            c.fill,
            c.stroke,
            x + 20,
            s.word()
        );
        x += 14 + 6 + w(s.word(), 12, false) + 18;
    }
}

fn edge_svg(out: &mut String, edge: &super::Edge, c: &Curve) {
    let colour = edge_colour(edge);
    let marker = edge
        .state
        .map_or_else(|| "arrow".to_string(), |s| format!("arrow-{}", s.word()));
    let width = match edge.state {
        Some(State::Down | State::Drained) => "2.5",
        _ => "1.5",
    };
    let dash = if edge.idle || edge.state == Some(State::Unknown) {
        r#" stroke-dasharray="6 4""#
    } else {
        ""
    };
    let mut tooltip = format!("{} → {}", edge.from, edge.to);
    if let Some(label) = &edge.label {
        let _ = write!(tooltip, ": {label}");
    }
    if let Some(s) = edge.state {
        let _ = write!(tooltip, " ({})", s.word());
    }
    for n in &edge.notes {
        let _ = write!(tooltip, "\n{n}");
    }
    let _ = write!(
        out,
        r#"<g><title>{}</title><path d="M{},{} C{},{} {},{} {},{} L{},{}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#{marker})"/>"#,
        escape(&tooltip),
        c.from.0,
        c.from.1,
        c.c1.0,
        c.c1.1,
        c.c2.0,
        c.c2.1,
        c.stub.0,
        c.stub.1,
        c.to.0,
        c.to.1,
    );
    if let (Some(label), Some(r)) = (&edge.label, c.label) {
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="#ffffff" fill-opacity="0.9"/><text x="{}" y="{}" font-size="{LABEL_SIZE}" fill="{MUTED}" text-anchor="middle">{}</text>"##,
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + r.w / 2,
            r.y + 11,
            escape(&shorten(label))
        );
    }
    out.push_str("</g>\n");
}

fn node_svg(out: &mut String, node: &Node, r: &Rect) {
    let c = node_colours(node);
    let mut tooltip = node.title.clone();
    for line in node.lines.iter().chain(&node.notes) {
        let _ = write!(tooltip, "\n{line}");
    }
    let dash = if node.kind == Kind::Idle {
        r#" stroke-dasharray="4 3""#
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"<g><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{}" stroke="{}" stroke-width="1.5"{dash}/>"#,
        escape(&tooltip),
        r.x,
        r.y,
        r.w,
        r.h,
        c.fill,
        c.stroke
    );
    let x = r.x + PAD_X;
    let mut y = r.y + PAD_Y + 13;
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" font-size="{TITLE_SIZE}" font-weight="bold" fill="{TEXT}">{}</text>"#,
        escape(&shorten(&node.title))
    );
    y += 2;
    let lines = node_lines(node);
    let state_line = node.state.map(|_| lines.len() - 1);
    for (k, line) in lines.iter().enumerate() {
        y += LINE_HEIGHT;
        let (fill, weight) = if Some(k) == state_line {
            (c.stroke, r#" font-weight="bold""#)
        } else {
            (MUTED, "")
        };
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}" font-size="{LINE_SIZE}" fill="{fill}"{weight}>{}</text>"#,
            escape(&shorten(line))
        );
    }
    out.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, EdgeKind};

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{7}c\nd"), "a b c d");
        assert_eq!(escape("]]>"), "]]&gt;");
    }

    fn hostile() -> Graph {
        let evil = "</text><script>alert(1)</script><!-- \"'&";
        Graph {
            title: evil.into(),
            subtitle: evil.into(),
            nodes: vec![
                Node {
                    id: format!("server:{evil}"),
                    kind: Kind::Server,
                    host: Some(evil.into()),
                    title: evil.into(),
                    lines: vec![evil.into(), "\u{1b}[31m\r\nline".into()],
                    state: Some(State::Down),
                    notes: vec![evil.into()],
                    reason: Some(evil.into()),
                },
                Node {
                    id: "db:x".into(),
                    kind: Kind::Database,
                    host: None,
                    title: "x".into(),
                    lines: vec![],
                    state: None,
                    notes: vec![],
                    reason: Some(evil.into()),
                },
            ],
            edges: vec![Edge {
                from: format!("server:{evil}"),
                to: "db:x".into(),
                kind: EdgeKind::Database,
                label: Some(evil.into()),
                idle: false,
                state: Some(State::Drained),
                notes: vec![evil.into()],
            }],
            clusters: vec![],
            live: true,
        }
    }

    #[test]
    fn no_value_breaks_out_of_its_text() {
        let svg = write(&hostile());
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<!--"));
        assert!(!svg.contains('\u{1b}'));
        // Every element is one the writer makes.
        let tags: std::collections::BTreeSet<&str> = svg
            .split('<')
            .skip(1)
            .map(|t| t.split([' ', '>', '/']).next().unwrap_or(""))
            .collect();
        let allowed = [
            "", "svg", "title", "defs", "marker", "path", "rect", "text", "g",
        ];
        for t in tags {
            assert!(allowed.contains(&t), "unexpected <{t}> in\n{svg}");
        }
    }

    #[test]
    fn a_live_graph_has_a_legend_and_state_words() {
        let svg = write(&hostile());
        for word in ["up", "drained", "down", "unknown"] {
            assert!(svg.contains(&format!(">{word}</text>")), "{word}");
        }
        assert!(svg.contains("url(#arrow-drained)"));
        assert!(
            svg.contains(r##"stroke="#c62828""##),
            "the down node is red"
        );
    }
}
