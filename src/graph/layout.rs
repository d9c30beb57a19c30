//! Where everything goes in the SVG: one column per layer, left to right (DNS -> load
//! balancers -> backends -> servers -> database), nodes stacked in each column and the columns
//! centred on each other, edges as curves between the facing sides. Deterministic: integer
//! positions, and every order follows the graph's.

use super::Graph;

/// A box, in pixels from the top left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// An edge's line: a cubic Bézier from `from` to `stub` with control points `c1`, `c2`, then
/// straight on to `to`, so that it arrives level and its label sits on the straight part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Curve {
    pub from: (i32, i32),
    pub c1: (i32, i32),
    pub c2: (i32, i32),
    pub stub: (i32, i32),
    pub to: (i32, i32),
    /// The label's box, on the straight part, clear of the other labels.
    pub label: Option<Rect>,
}

/// What the SVG writer needs to know about sizes.
pub struct Sizes {
    /// Width and height of each node, by index.
    pub nodes: Vec<(i32, i32)>,
    /// Width and height of each edge's label, by index.
    pub labels: Vec<Option<(i32, i32)>>,
    /// Height of the heading above the drawing.
    pub top: i32,
    /// The heading's width: the drawing is at least this wide.
    pub min_width: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub width: i32,
    pub height: i32,
    pub nodes: Vec<Rect>,
    /// Each cluster's frame; its label sits inside the top.
    pub clusters: Vec<Rect>,
    pub edges: Vec<Curve>,
}

pub const MARGIN: i32 = 24;
/// Between two nodes of a column.
const ROW_GAP: i32 = 18;
/// The least room between two columns.
const MIN_COLUMN_GAP: i32 = 90;
/// Room between a label and the node its edge points at.
const LABEL_OFFSET: i32 = 14;
/// Inside a cluster's frame, around its nodes.
const CLUSTER_PAD: i32 = 12;
/// Above a cluster's first node, for its label.
pub const CLUSTER_LABEL: i32 = 22;

/// Lays `graph` out with the sizes the writer measured.
pub fn place(graph: &Graph, sizes: &Sizes) -> Layout {
    let n = graph.nodes.len();
    let index = |id: &str| graph.index(id);
    // Columns: the layers present, in order.
    let mut layers: Vec<usize> = graph.nodes.iter().map(|n| n.kind.layer()).collect();
    layers.sort_unstable();
    layers.dedup();
    let column_of: Vec<usize> = graph
        .nodes
        .iter()
        .map(|node| {
            layers
                .iter()
                .position(|l| *l == node.kind.layer())
                .unwrap_or(0)
        })
        .collect();
    let clustered: Vec<Option<usize>> = graph
        .nodes
        .iter()
        .map(|node| {
            graph
                .clusters
                .iter()
                .position(|c| c.nodes.contains(&node.id))
        })
        .collect();

    // Order within each column: by where the node's predecessors sit (fewer crossings), nodes
    // without one last, ties in the graph's order; a cluster's nodes stay together.
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers.len()];
    let mut rank = vec![0.0f64; n];
    for (c, column) in columns.iter_mut().enumerate() {
        let mut members: Vec<(f64, usize)> = (0..n)
            .filter(|i| column_of[*i] == c)
            .map(|i| {
                let preds: Vec<f64> = graph
                    .edges
                    .iter()
                    .filter(|e| index(&e.to) == Some(i))
                    .filter_map(|e| index(&e.from))
                    .filter(|p| column_of[*p] < c)
                    .map(|p| rank[p])
                    .collect();
                let key = if preds.is_empty() {
                    f64::INFINITY
                } else {
                    preds.iter().sum::<f64>() / preds.len() as f64
                };
                (key, i)
            })
            .collect();
        members.sort_by(|a, b| {
            let cluster = |i: usize| clustered[i].unwrap_or(usize::MAX);
            cluster(a.1)
                .cmp(&cluster(b.1))
                .then(a.0.total_cmp(&b.0))
                .then(a.1.cmp(&b.1))
        });
        let count = members.len() as f64;
        for (k, (_, i)) in members.iter().enumerate() {
            rank[*i] = (k as f64 + 0.5) / count;
        }
        *column = members.into_iter().map(|(_, i)| i).collect();
    }

    // Column widths.
    let has_cluster = |c: usize| columns[c].iter().any(|i| clustered[*i].is_some());
    let widths: Vec<i32> = (0..columns.len())
        .map(|c| {
            let w = columns[c]
                .iter()
                .map(|i| sizes.nodes[*i].0)
                .max()
                .unwrap_or(0);
            if has_cluster(c) {
                w + 2 * CLUSTER_PAD
            } else {
                w
            }
        })
        .collect();

    // Heights: each column stacked, then centred on the tallest.
    let stack = |c: usize| -> Vec<i32> {
        // The y of each node of the column, from 0.
        let mut ys = Vec::new();
        let mut y = 0;
        let mut open: Option<usize> = None;
        for i in &columns[c] {
            let cluster = clustered[*i];
            if cluster != open {
                if open.is_some() {
                    y += CLUSTER_PAD;
                }
                if cluster.is_some() {
                    y += CLUSTER_LABEL;
                }
                open = cluster;
            }
            ys.push(y);
            y += sizes.nodes[*i].1 + ROW_GAP;
        }
        ys
    };
    let column_height = |c: usize| -> i32 {
        let ys = stack(c);
        match (columns[c].last(), ys.last()) {
            (Some(i), Some(y)) => {
                y + sizes.nodes[*i].1
                    + if clustered[*i].is_some() {
                        CLUSTER_PAD
                    } else {
                        0
                    }
            }
            _ => 0,
        }
    };
    let tallest = (0..columns.len()).map(column_height).max().unwrap_or(0);
    let mut nodes = vec![Rect::default(); n];
    for c in 0..columns.len() {
        let offset = sizes.top + (tallest - column_height(c)) / 2;
        let inset = if has_cluster(c) { CLUSTER_PAD } else { 0 };
        for (i, y) in columns[c].iter().zip(stack(c)) {
            // As wide as the column's widest: the column reads as one.
            nodes[*i] = Rect {
                x: inset,
                y: offset + y,
                w: widths[c] - 2 * inset,
                h: sizes.nodes[*i].1,
            };
        }
    }

    // Gaps: room for the labels on the stubs, and more where edges fan out far (flatter
    // curves); then the columns' x.
    let gaps: Vec<i32> = (0..columns.len().saturating_sub(1))
        .map(|c| {
            let into: Vec<(usize, &super::Edge)> = graph
                .edges
                .iter()
                .enumerate()
                .filter(|(_, e)| index(&e.to).map(|t| column_of[t]) == Some(c + 1))
                .collect();
            let widest = into
                .iter()
                .filter_map(|(k, _)| sizes.labels[*k].map(|(w, _)| w))
                .max()
                .map_or(0, |w| w + 2 * LABEL_OFFSET);
            let spread = into
                .iter()
                .filter_map(|(_, e)| Some((index(&e.from)?, index(&e.to)?)))
                .map(|(f, t)| (nodes[f].y + nodes[f].h / 2 - nodes[t].y - nodes[t].h / 2).abs())
                .max()
                .unwrap_or(0);
            MIN_COLUMN_GAP.max(widest + 48) + (spread / 12).min(160)
        })
        .collect();
    let mut xs = vec![MARGIN; columns.len()];
    for c in 1..columns.len() {
        xs[c] = xs[c - 1] + widths[c - 1] + gaps[c - 1];
    }
    for (i, r) in nodes.iter_mut().enumerate() {
        r.x += xs[column_of[i]];
    }
    let drawing_width = xs.last().copied().unwrap_or(MARGIN) + widths.last().copied().unwrap_or(0);

    let clusters = graph
        .clusters
        .iter()
        .map(|cluster| {
            let members: Vec<&Rect> = cluster
                .nodes
                .iter()
                .filter_map(|id| index(id))
                .map(|i| &nodes[i])
                .collect();
            let left = members.iter().map(|r| r.x).min().unwrap_or(0);
            let top = members.iter().map(|r| r.y).min().unwrap_or(0);
            let right = members.iter().map(|r| r.x + r.w).max().unwrap_or(0);
            let bottom = members.iter().map(|r| r.y + r.h).max().unwrap_or(0);
            let c = members
                .first()
                .and_then(|r| xs.iter().rposition(|x| *x <= r.x))
                .unwrap_or(0);
            // As wide as the column, so that its label fits.
            let (left, right) = (left.min(xs[c]), right.max(xs[c] + widths[c]));
            Rect {
                x: left,
                y: top - CLUSTER_LABEL,
                w: right - left,
                h: bottom - top + CLUSTER_LABEL + CLUSTER_PAD,
            }
        })
        .collect();

    let edges = route(graph, &nodes, &column_of, &sizes.labels);
    let width = (drawing_width + MARGIN).max(sizes.min_width + 2 * MARGIN);
    let bottom = nodes
        .iter()
        .map(|r| r.y + r.h)
        .chain(edges.iter().filter_map(|e| e.label.map(|l| l.y + l.h)))
        .max()
        .unwrap_or(sizes.top);
    Layout {
        width,
        height: bottom.max(sizes.top + tallest) + MARGIN,
        nodes,
        clusters,
        edges,
    }
}

/// Curves between facing sides; a node's edges leave (and arrive) spread along its side, in
/// the order of their other ends, so that they do not cross at the node.
fn route(
    graph: &Graph,
    nodes: &[Rect],
    column_of: &[usize],
    labels: &[Option<(i32, i32)>],
) -> Vec<Curve> {
    let ends: Vec<(usize, usize)> = graph
        .edges
        .iter()
        .map(|e| {
            (
                graph.index(&e.from).unwrap_or(0),
                graph.index(&e.to).unwrap_or(0),
            )
        })
        .collect();
    // Edges into the same column (or back) leave and arrive on the right side.
    let forward: Vec<bool> = ends
        .iter()
        .map(|(f, t)| column_of[*t] > column_of[*f])
        .collect();
    let port = |node: usize, edge: usize, outgoing: bool| -> i32 {
        let mut sharing: Vec<(i32, usize)> = ends
            .iter()
            .enumerate()
            .filter(|(k, (f, t))| {
                if outgoing {
                    *f == node
                } else {
                    *t == node && forward[*k]
                }
            })
            .map(|(k, (f, t))| {
                let other = if outgoing { *t } else { *f };
                (nodes[other].y + nodes[other].h / 2, k)
            })
            .collect();
        sharing.sort();
        let at = sharing.iter().position(|(_, k)| *k == edge).unwrap_or(0) as i32;
        let count = sharing.len() as i32;
        let r = nodes[node];
        // Spread over the middle 60% of the side.
        r.y + r.h / 5 + (r.h * 3 / 5) * (2 * at + 1) / (2 * count)
    };
    let mut placed: Vec<Rect> = Vec::new();
    let mut curves = Vec::new();
    for (k, (f, t)) in ends.iter().enumerate() {
        let (a, b) = (nodes[*f], nodes[*t]);
        let from = (a.x + a.w, port(*f, k, true));
        let label = labels[k];
        let curve = if forward[k] {
            let to = (b.x, port(*t, k, false));
            // The straight part: the label's width and room either side, or a short lead.
            let lead = label.map_or(12, |(w, _)| w + 2 * LABEL_OFFSET);
            let stub = ((to.0 - lead).max(from.0 + 20), to.1);
            let bend = (stub.0 - from.0) / 2;
            Curve {
                from,
                c1: (from.0 + bend, from.1),
                c2: (stub.0 - bend, stub.1),
                stub,
                to,
                label: None,
            }
        } else {
            let to = (b.x + b.w, b.y + b.h / 2);
            let out = a.x.max(b.x) + a.w.max(b.w) + 40;
            Curve {
                from,
                c1: (out, from.1),
                c2: (out, to.1),
                stub: to,
                to,
                label: None,
            }
        };
        let label = label.map(|(w, h)| {
            let mut r = Rect {
                x: curve.to.0 - LABEL_OFFSET - w,
                y: curve.to.1 - h / 2,
                w,
                h,
            };
            while let Some(o) = placed.iter().find(|o| o.overlaps(&r)) {
                r.y = o.y + o.h + 1;
            }
            placed.push(r);
            r
        });
        curves.push(Curve { label, ..curve });
    }
    curves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, EdgeKind, Kind, Node};

    fn node(id: &str, kind: Kind) -> Node {
        Node {
            id: id.into(),
            kind,
            host: None,
            title: id.into(),
            lines: Vec::new(),
            state: None,
            notes: Vec::new(),
            reason: None,
        }
    }

    fn edge(from: &str, to: &str, label: bool) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind: EdgeKind::Member,
            label: label.then(|| "weight 100".into()),
            idle: false,
            state: None,
            notes: Vec::new(),
        }
    }

    /// One backend in front of `servers` servers, all sending to one database.
    fn fan(servers: usize) -> (Graph, Sizes) {
        let mut nodes = vec![node("b", Kind::Backend)];
        let mut edges = Vec::new();
        for s in 0..servers {
            let id = format!("s{s}");
            nodes.push(node(&id, Kind::Server));
            edges.push(edge("b", &id, true));
            edges.push(edge(&id, "db", false));
        }
        nodes.push(node("db", Kind::Database));
        let sizes = Sizes {
            nodes: vec![(120, 60); nodes.len()],
            labels: edges
                .iter()
                .map(|e| e.label.as_ref().map(|_| (70, 16)))
                .collect(),
            top: 60,
            min_width: 100,
        };
        let g = Graph {
            title: "t".into(),
            subtitle: String::new(),
            nodes,
            edges,
            clusters: Vec::new(),
            live: false,
        };
        (g, sizes)
    }

    #[test]
    fn columns_run_left_to_right_and_single_nodes_are_centred() {
        let (g, sizes) = fan(3);
        let l = place(&g, &sizes);
        let (b, s0, s1, s2, db) = (l.nodes[0], l.nodes[1], l.nodes[2], l.nodes[3], l.nodes[4]);
        assert!(b.x + b.w < s0.x && s0.x + s0.w < db.x);
        assert_eq!(s0.x, s1.x);
        assert!(s0.y < s1.y && s1.y < s2.y);
        assert_eq!(
            b.y + b.h / 2,
            s1.y + s1.h / 2,
            "centred on the middle server"
        );
        assert_eq!(db.y, b.y);
        assert!(l.width >= db.x + db.w + MARGIN);
        assert!(l.height >= s2.y + s2.h + MARGIN);
    }

    #[test]
    fn thirty_servers_neither_overlap_nor_share_a_label_spot() {
        let (g, sizes) = fan(30);
        let l = place(&g, &sizes);
        for (i, a) in l.nodes.iter().enumerate() {
            for b in &l.nodes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} {b:?}");
            }
        }
        let labels: Vec<Rect> = l.edges.iter().filter_map(|e| e.label).collect();
        assert_eq!(labels.len(), 30);
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} {b:?}");
            }
            for n in &l.nodes {
                assert!(!a.overlaps(n), "label {a:?} over node {n:?}");
            }
        }
        // Edges into the database arrive in the order of their servers, spread on its side.
        let into_db: Vec<i32> = l.edges.iter().skip(1).step_by(2).map(|e| e.to.1).collect();
        assert!(into_db.windows(2).all(|w| w[0] <= w[1]), "{into_db:?}");
        let db = l.nodes[31];
        assert!(into_db.iter().all(|y| *y > db.y && *y < db.y + db.h));
    }

    #[test]
    fn the_same_graph_lays_out_the_same() {
        let (g, sizes) = fan(7);
        assert_eq!(place(&g, &sizes), place(&g, &sizes));
    }

    #[test]
    fn a_predecessor_order_is_kept_to_avoid_crossings() {
        // Two backends; the second's server is listed first: it goes below.
        let mut g = fan(0).0;
        g.nodes = vec![
            node("b1", Kind::Backend),
            node("b2", Kind::Backend),
            node("s-of-b2", Kind::Server),
            node("s-of-b1", Kind::Server),
        ];
        g.edges = vec![edge("b1", "s-of-b1", false), edge("b2", "s-of-b2", false)];
        let sizes = Sizes {
            nodes: vec![(100, 40); 4],
            labels: vec![None, None],
            top: 0,
            min_width: 0,
        };
        let l = place(&g, &sizes);
        assert!(l.nodes[3].y < l.nodes[2].y);
    }
}
