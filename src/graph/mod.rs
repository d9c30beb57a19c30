//! The topology drawn: one small graph model built from the topology (`build`), optionally
//! coloured by what `verify` found on the live hosts (`live`), and written as Graphviz DOT,
//! Mermaid or a self-contained SVG laid out here (`layout`). Everything in this module is pure.
//!
//! Every text in the model may come from the topology or from a host's answer: the writers
//! escape all of it for their format, and never build an identifier from it.

mod build;
mod dot;
mod layout;
pub mod live;
mod mermaid;
mod metrics;
mod svg;

pub use build::build;
pub use dot::write as dot;
pub use mermaid::write as mermaid;
pub use svg::write as svg;

use serde::Serialize;

/// What a picture of a topology holds.
#[derive(Clone, Debug, Serialize)]
pub struct Graph {
    /// The site's domain.
    pub title: String,
    /// One line of counts under the title.
    pub subtitle: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub clusters: Vec<Cluster>,
    /// Coloured by the hosts' state (`--live`).
    pub live: bool,
}

/// What a node stands for; it decides the column the node is drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A DNS A record.
    Record,
    /// A host with the `dns` role.
    NameServer,
    /// The load balancers' floating address (`load_balancer.vip`), held by one at a time.
    Vip,
    /// HAProxy on a host with the `lb` role.
    LoadBalancer,
    /// A HAProxy backend: the default one or a group.
    Backend,
    /// Nginx and/or the application server on a `web`/`app` host.
    Server,
    /// The database server (the primary, when there are replicas).
    Database,
    /// A database replica, following the primary.
    Replica,
    /// A host with no roles.
    Idle,
}

impl Kind {
    /// The column, left to right: DNS -> floating address -> load balancers -> backends ->
    /// servers -> database -> its replicas. Only the layers present take a column.
    pub fn layer(self) -> usize {
        match self {
            Kind::Record | Kind::NameServer => 0,
            Kind::Vip => 1,
            Kind::LoadBalancer => 2,
            Kind::Backend => 3,
            Kind::Server => 4,
            Kind::Database | Kind::Idle => 5,
            Kind::Replica => 6,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// Stable and unique: `KIND:NAME` (`lb:lb-01`, `backend:group_api`, `dns:www.foobar.com`).
    pub id: String,
    pub kind: Kind,
    /// The host it runs on (none for records and backends). A host with several roles has a
    /// node for each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub title: String,
    pub lines: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Why it has its state (the checks that did not pass, with their evidence).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The short reason drawn beside the state (`DRAIN on lb-01`, a check's evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A record resolves to a host.
    Resolves,
    /// A load balancer sends requests to a backend (by route, or by default).
    Route,
    /// A backend has a server, with its weight.
    Member,
    /// A host may connect to the database.
    Database,
    /// A floating address may be held by a load balancer, with its priority.
    Holds,
    /// A replica follows the primary (GTID replication).
    Replicates,
}

#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Carries no traffic (a server of weight 0): drawn dashed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub idle: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Nodes drawn inside one frame (a DNS zone).
#[derive(Clone, Debug, Serialize)]
pub struct Cluster {
    pub id: String,
    pub label: String,
    pub nodes: Vec<String>,
}

/// A node's or edge's state on the live hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Every check about it passed.
    Up,
    /// Taken out of load balancing on purpose (HAProxy DRAIN, MAINT or NOLB).
    Drained,
    /// A check about it failed.
    Down,
    /// Not checked, or blocked by a failure elsewhere.
    Unknown,
}

impl State {
    /// The word a person reads beside the colour.
    pub fn word(self) -> &'static str {
        match self {
            State::Up => "up",
            State::Drained => "drained",
            State::Down => "down",
            State::Unknown => "unknown",
        }
    }

    /// What the colours mean, in the legend's order.
    pub const ALL: [State; 4] = [State::Up, State::Drained, State::Down, State::Unknown];
}

impl Graph {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The position of the node with this id.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }
}

/// A palette entry: the fill and the outline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colours {
    pub fill: &'static str,
    pub stroke: &'static str,
}

/// A node's colours: by its state when live, else by its kind. Shared by the three writers.
pub fn node_colours(node: &Node) -> Colours {
    match node.state {
        Some(state) => state_colours(state),
        None => match node.kind {
            Kind::Record | Kind::NameServer => Colours {
                fill: "#ede7f6",
                stroke: "#5e35b1",
            },
            Kind::Vip | Kind::LoadBalancer => Colours {
                fill: "#e3f2fd",
                stroke: "#1565c0",
            },
            Kind::Backend => Colours {
                fill: "#e0f2f1",
                stroke: "#00796b",
            },
            Kind::Server => Colours {
                fill: "#f5f5f5",
                stroke: "#37474f",
            },
            Kind::Database | Kind::Replica => Colours {
                fill: "#fbe9e7",
                stroke: "#bf360c",
            },
            Kind::Idle => Colours {
                fill: "#ffffff",
                stroke: "#9e9e9e",
            },
        },
    }
}

/// The colours of a state: green, amber, red, grey.
pub fn state_colours(state: State) -> Colours {
    match state {
        State::Up => Colours {
            fill: "#e8f5e9",
            stroke: "#2e7d32",
        },
        State::Drained => Colours {
            fill: "#fff8e1",
            stroke: "#e69500",
        },
        State::Down => Colours {
            fill: "#ffebee",
            stroke: "#c62828",
        },
        State::Unknown => Colours {
            fill: "#eeeeee",
            stroke: "#8a8a8a",
        },
    }
}

/// An edge's stroke colour.
pub fn edge_colour(edge: &Edge) -> &'static str {
    edge.state.map_or("#546e7a", |s| state_colours(s).stroke)
}

/// A node's lines as drawn: its own, then its state when live.
pub fn node_lines(node: &Node) -> Vec<String> {
    let mut lines = node.lines.clone();
    if let Some(state) = node.state {
        lines.push(match &node.reason {
            Some(reason) if state != State::Up => {
                shorten_to(&format!("{}: {reason}", state.word()), STATE_LINE)
            }
            _ => state.word().to_string(),
        });
    }
    lines
}

/// The longest line the writers put in a node or label; the whole text stays in the tooltip.
pub const MAX_LINE: usize = 56;

/// The longest state line (bold, under a node's own lines).
const STATE_LINE: usize = 40;

/// `text` cut to `MAX_LINE` characters, with an ellipsis when cut.
pub fn shorten(text: &str) -> String {
    shorten_to(text, MAX_LINE)
}

fn shorten_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// Control characters (line breaks, tabs, escapes from a host's answer) as spaces: no format
/// gives them a meaning inside a label, and XML forbids most of them.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_with_an_ellipsis_and_controls_become_spaces() {
        let long = "x".repeat(MAX_LINE + 10);
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), MAX_LINE);
        assert!(cut.ends_with('…'));
        assert_eq!(shorten("short"), "short");
        assert_eq!(printable("a\nb\tc\u{1b}[0m"), "a b c [0m");
    }

    #[test]
    fn layers_run_from_dns_to_the_database() {
        let order = [
            Kind::Record,
            Kind::LoadBalancer,
            Kind::Backend,
            Kind::Server,
            Kind::Database,
        ];
        assert!(order.windows(2).all(|w| w[0].layer() < w[1].layer()));
        assert_eq!(Kind::NameServer.layer(), Kind::Record.layer());
    }
}
