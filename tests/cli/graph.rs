//! `graph`: every format of the reference design and of the routed example as snapshots; the
//! real parsers take what it writes (Graphviz's `dot`, the Mermaid CLI in Chromium); the SVG is
//! well-formed XML naming every host; no label breaks out; the README's pictures are current.
//! The tools are installed by scripts/setup: under CI a missing one fails the test, elsewhere the
//! test says so and skips.

use crate::support::{cli, load, root};
use foobar_infra::check_configs::which;
use foobar_infra::graph::{self, Cluster, Edge, EdgeKind, Graph, Kind, Node, State};
use foobar_infra::topology;
use foobar_infra::verify::{Hop, Outcome, Status};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const EXAMPLES: [&str; 2] = ["foobar", "ha"];
const FORMATS: [&str; 4] = ["svg", "dot", "mermaid", "json"];
const REFERENCE_SVG: &str = "docs/reference-design.svg";
const LIVE_SVG: &str = "docs/reference-design-live.svg";

/// `graph -i FILE --format FORMAT` through the CLI: its stdout.
fn graph_cli(file: &str, format: &str) -> String {
    let out = cli()
        .args(["graph", "-i", file, "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A program the test needs: under CI (`CI` set) its absence fails the test; elsewhere the test
/// prints a note and skips.
fn tool(program: &str) -> Option<PathBuf> {
    let found = which(program);
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is not installed: scripts/setup installs it (CI needs it)"
        );
        eprintln!("note: {program} is not installed; skipped (scripts/setup installs it)");
    }
    found
}

fn in_process(rel: &str) -> Graph {
    let loaded = load(rel);
    assert!(!loaded.has_errors(), "{rel} is valid");
    graph::build(loaded.topology.as_ref().unwrap())
}

/// A topology of `n` web/app servers behind one load balancer.
fn many_servers(n: usize) -> Graph {
    let mut yaml =
        String::from("domain: big.example\nhosts:\n  lb-01: { address: 10.1.0.1, roles: [lb] }\n");
    for i in 1..=n {
        yaml.push_str(&format!(
            "  web-{i:02}: {{ address: 10.1.1.{i}, roles: [web, app] }}\n"
        ));
    }
    yaml.push_str(
        "  db-01: { address: 10.1.0.9, roles: [db] }\ndatabase:\n  password: { env: P }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, yaml).unwrap();
    let loaded = topology::load(topology::read(&path).unwrap(), &|_| Some("x".into()));
    assert!(!loaded.has_errors());
    graph::build(loaded.topology.as_ref().unwrap())
}

fn outcome(id: &str, hop: Hop, status: Status, evidence: &str, lb: Option<&str>) -> Outcome {
    Outcome {
        id: id.into(),
        hop,
        host: String::new(),
        title: String::new(),
        status,
        evidence: evidence.into(),
        blocked_by: None,
        lb_status: lb.map(str::to_string),
    }
}

/// The reference design as `verify` could find it: web-02 drained by an operator, web-03
/// unreachable, the rest healthy, the DNS record not checked.
fn live_reference() -> Graph {
    let mut g = in_process("examples/foobar.yaml");
    let mut report = Vec::new();
    for h in ["lb-01", "web-01", "web-02", "db-01"] {
        report.push(outcome(
            &format!("ssh:{h}"),
            Hop::Ssh,
            Status::Pass,
            "connected",
            None,
        ));
        report.push(outcome(
            &format!("services:{h}"),
            Hop::Services,
            Status::Pass,
            "active",
            None,
        ));
    }
    report.push(outcome(
        "ssh:web-03",
        Hop::Ssh,
        Status::Fail,
        "cannot connect to web-03 (192.0.2.23): Connection refused",
        None,
    ));
    report.push(outcome(
        "services:web-03",
        Hop::Services,
        Status::Blocked,
        "blocked by ssh:web-03",
        None,
    ));
    report.push(outcome(
        "database:db-01",
        Hop::Database,
        Status::Pass,
        "SELECT 1 answered",
        None,
    ));
    for h in ["web-01", "web-02"] {
        report.push(outcome(
            &format!("database-access:{h}"),
            Hop::DatabaseAccess,
            Status::Pass,
            "greets",
            None,
        ));
        report.push(outcome(
            &format!("web:{h}"),
            Hop::Web,
            Status::Pass,
            "200",
            None,
        ));
    }
    report.push(outcome(
        "database-access:web-03",
        Hop::DatabaseAccess,
        Status::Blocked,
        "blocked by ssh:web-03",
        None,
    ));
    report.push(outcome(
        "web:web-03",
        Hop::Web,
        Status::Blocked,
        "blocked by ssh:web-03",
        None,
    ));
    report.push(outcome(
        "load-balancer:lb-01/web/web-01",
        Hop::LoadBalancer,
        Status::Pass,
        "web-01 is UP, last check L7OK",
        Some("UP"),
    ));
    report.push(outcome(
        "load-balancer:lb-01/web/web-02",
        Hop::LoadBalancer,
        Status::Fail,
        "web-02 is DRAIN in backend web (last check L7OK)",
        Some("DRAIN"),
    ));
    report.push(outcome(
        "load-balancer:lb-01/web/web-03",
        Hop::LoadBalancer,
        Status::Blocked,
        "blocked by web:web-03",
        None,
    ));
    report.push(outcome(
        "site:lb-01",
        Hop::Site,
        Status::Pass,
        "6 requests answered 2xx, served by web-01 6",
        None,
    ));
    report.push(outcome(
        "dns:www.foobar.com",
        Hop::Dns,
        Status::NotChecked,
        "records are not managed on a DNS server yet",
        None,
    ));
    graph::live::apply(&mut g, &report);
    g
}

/// Texts no format may let out of their label.
const HOSTILE_A: &str = r#""]; x["y"] --> n0 %% <b>b</b> & 'q'"#;
const HOSTILE_B: &str = r"#35; \ {a} |p| end; digraph } -- ]]>";

fn hostile() -> Graph {
    let node = |id: &str, kind, title: &str, lines: &[&str]| Node {
        id: id.into(),
        kind,
        host: Some(title.into()),
        title: title.into(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
        state: None,
        notes: Vec::new(),
        reason: None,
    };
    Graph {
        title: HOSTILE_A.into(),
        subtitle: HOSTILE_B.into(),
        nodes: vec![
            node("dns:a", Kind::Record, HOSTILE_B, &[HOSTILE_A]),
            node("server:a", Kind::Server, HOSTILE_A, &[HOSTILE_B]),
            node("db:a", Kind::Database, "db", &[]),
        ],
        edges: vec![
            Edge {
                from: "dns:a".into(),
                to: "server:a".into(),
                kind: EdgeKind::Resolves,
                label: Some(HOSTILE_B.into()),
                idle: false,
                state: None,
                notes: Vec::new(),
            },
            Edge {
                from: "server:a".into(),
                to: "db:a".into(),
                kind: EdgeKind::Database,
                label: Some(HOSTILE_A.into()),
                idle: true,
                state: Some(State::Drained),
                notes: vec![HOSTILE_A.into()],
            },
        ],
        clusters: vec![Cluster {
            id: "zone:a".into(),
            label: HOSTILE_A.into(),
            nodes: vec!["dns:a".into()],
        }],
        live: false,
    }
}

/// Every graph the parsers are given: the examples, quirky accepted values, 30 servers, a live
/// picture and hostile labels.
fn corpus() -> Vec<(String, Graph)> {
    let mut all: Vec<(String, Graph)> = EXAMPLES
        .iter()
        .map(|e| (e.to_string(), in_process(&format!("examples/{e}.yaml"))))
        .collect();
    all.push((
        "accepted-gunicorn".into(),
        in_process("tests/hostile/accepted/gunicorn.yaml"),
    ));
    all.push(("thirty-servers".into(), many_servers(30)));
    all.push(("live".into(), live_reference()));
    all.push(("hostile".into(), hostile()));
    all
}

/// Every text node of an XML document.
fn texts(xml: &str) -> Vec<String> {
    // Graphviz's SVG names its DTD.
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(xml, options)
        .unwrap_or_else(|e| panic!("{e}\n{xml}"));
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

#[test]
fn every_format_matches_its_snapshot() {
    for example in EXAMPLES {
        let file = format!("examples/{example}.yaml");
        for format in FORMATS {
            insta::assert_snapshot!(format!("{example}__{format}"), graph_cli(&file, format));
        }
    }
}

#[test]
fn live_colours_match_their_snapshot() {
    let g = live_reference();
    insta::assert_snapshot!("live__svg", graph::svg(&g));
    insta::assert_snapshot!("live__mermaid", graph::mermaid(&g));
    let web02 = g.node("server:web-02").unwrap();
    assert_eq!(web02.state, Some(State::Drained));
    assert_eq!(g.node("server:web-03").unwrap().state, Some(State::Down));
    assert_eq!(g.node("server:web-01").unwrap().state, Some(State::Up));
}

#[test]
fn the_svg_is_well_formed_and_names_every_host() {
    for rel in [
        "examples/foobar.yaml",
        "examples/ha.yaml",
        "tests/hostile/accepted/gunicorn.yaml",
        "inventories/production.yaml",
    ] {
        let svg = graph_cli(rel, "svg");
        let texts = texts(&svg);
        let loaded = load(rel);
        for host in &loaded.topology.as_ref().unwrap().hosts {
            assert!(
                texts.iter().any(|t| t == &host.name.value),
                "{rel}: no text names {}",
                host.name.value
            );
        }
        assert!(!svg.contains("href"), "{rel}: nothing external");
    }
    let big = graph::svg(&many_servers(30));
    let texts = texts(&big);
    for i in 1..=30 {
        assert!(texts.contains(&format!("web-{i:02}")));
    }
}

#[test]
fn hostile_labels_come_back_as_text_in_the_svg() {
    let texts = texts(&graph::svg(&hostile()));
    for s in [HOSTILE_A, HOSTILE_B] {
        assert!(texts.iter().any(|t| t == s), "{s} in {texts:?}");
    }
}

/// The README's pictures: the reference design, and the same coloured by the made-up report of
/// `live_reference`. `FOOBAR_INFRA_WRITE_DOCS=1` writes them instead of comparing.
#[test]
fn the_readme_pictures_are_what_graph_draws() {
    let pictures = [
        (REFERENCE_SVG, graph_cli("examples/foobar.yaml", "svg")),
        (LIVE_SVG, graph::svg(&live_reference())),
    ];
    for (path, drawn) in pictures {
        let file = root().join(path);
        if std::env::var_os("FOOBAR_INFRA_WRITE_DOCS").is_some() {
            std::fs::write(&file, &drawn).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            drawn == checked_in,
            "{path} (shown in the README) is not what `graph` draws now; regenerate the pictures with:\n  FOOBAR_INFRA_WRITE_DOCS=1 cargo test --test cli graph::the_readme_pictures"
        );
    }
}

#[test]
fn graphviz_accepts_every_dot_and_keeps_labels_whole() {
    let Some(dot) = tool("dot") else { return };
    for (name, g) in corpus() {
        let mut child = Command::new(&dot)
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(graph::dot(&g).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "dot rejects or warns about {name}:\n{stderr}\n{}",
            graph::dot(&g)
        );
        let svg = String::from_utf8(out.stdout).unwrap();
        let texts = texts(&svg);
        for n in &g.nodes {
            if n.title.chars().count() <= graph::MAX_LINE {
                assert!(texts.contains(&n.title), "{name}: {} drawn whole", n.title);
            }
        }
        if name == "hostile" {
            for s in [HOSTILE_A, HOSTILE_B] {
                assert!(texts.iter().any(|t| t == s), "{s} in {texts:?}");
            }
        }
    }
}

#[test]
fn mermaid_cli_parses_and_draws_every_chart() {
    let Some(mmdc) = tool("mmdc") else { return };
    let Some(chromium) = tool("chromium") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("puppeteer.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "executablePath": chromium,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        })
        .to_string(),
    )
    .unwrap();
    // One Markdown file with every chart: one browser start for all of them.
    let corpus = corpus();
    let mut markdown = String::from("# charts\n");
    for (name, g) in &corpus {
        markdown.push_str(&format!(
            "\n{name}:\n\n```mermaid\n{}```\n",
            graph::mermaid(g)
        ));
    }
    let input = dir.path().join("charts.md");
    std::fs::write(&input, &markdown).unwrap();
    let output = dir.path().join("out.md");
    let out = Command::new(&mmdc)
        .arg("-p")
        .arg(&config)
        .arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .arg("-q")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mmdc rejects a chart:\n{}\n{}\n{markdown}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (k, (name, g)) in corpus.iter().enumerate() {
        let svg = std::fs::read_to_string(dir.path().join(format!("out-{}.svg", k + 1)))
            .unwrap_or_else(|e| panic!("{name}: no drawing: {e}"));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(
            !doc.descendants().any(|n| n.has_tag_name("script")),
            "{name}: no script"
        );
        let text: String = doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n");
        for n in &g.nodes {
            if n.title.chars().count() <= graph::MAX_LINE {
                assert!(text.contains(&n.title), "{name}: {} drawn", n.title);
            }
        }
        if name == "hostile" {
            for s in [HOSTILE_A, HOSTILE_B] {
                assert!(text.contains(s), "{name}: `{s}` drawn as text in\n{text}");
            }
            // The only bold elements are the titles the writer made.
            let bold = doc.descendants().filter(|n| n.has_tag_name("b")).count();
            assert_eq!(bold, g.nodes.len(), "no markup from a label");
        }
    }
}

#[test]
fn an_invalid_topology_draws_nothing() {
    cli()
        .args(["graph", "-i", "examples/invalid/unknown-host.yaml"])
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn live_needs_the_password_before_it_connects() {
    cli()
        .env_remove("FOOBAR_DB_PASSWORD")
        .args(["graph", "--live", "-i", "examples/foobar.yaml"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("secret unavailable"));
}
