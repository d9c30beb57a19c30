//! The `web` section.

use super::grammar::{ABS_PATH, INVALID_VALUE, URL_PATH};
use super::keys::WEB;
use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::Node;

pub(super) fn web(
    node: &Node,
    domain: &Sp<String>,
    app_name: &str,
    d: &mut Decoder,
) -> Option<Web> {
    let f = d.map(node, "web", &WEB.names())?;
    let mut server_names = f
        .get("server_names")
        .map(|n| d.list(n, |d, n| d.name(n, "web.server_names entry")))
        .unwrap_or_default();
    if server_names.is_empty() {
        let has_www = domain
            .value
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("www."));
        server_names = if has_www {
            vec![domain.clone()]
        } else {
            vec![
                Sp::new(format!("www.{}", domain.value), domain.span),
                domain.clone(),
            ]
        };
    }
    Some(Web {
        server_names,
        listen: f
            .get("listen")
            .and_then(|n| d.port(n, "web.listen"))
            .unwrap_or(Sp::new(80, f.node.span)),
        document_root: f
            .get("document_root")
            .and_then(|n| ABS_PATH.read(n, "web.document_root", d))
            .unwrap_or_else(|| Sp::new(format!("/srv/{app_name}/current"), f.node.span)),
        static_locations: f
            .get("static_locations")
            .map(|n| static_locations(n, d))
            .unwrap_or_else(|| vec![Sp::new("/static/".into(), f.node.span)]),
        health_path: f
            .get("health_path")
            .and_then(|n| URL_PATH.read(n, "web.health_path", d))
            .unwrap_or_else(|| Sp::new("/healthz".into(), f.node.span)),
    })
}

/// URL paths, each once and none `/`: Nginx refuses a second `location` of the same path, and
/// `location /` is the application's.
fn static_locations(node: &Node, d: &mut Decoder) -> Vec<Sp<String>> {
    let what = "web.static_locations entry";
    let mut seen: Vec<Sp<String>> = Vec::new();
    for l in d.list(node, |d, n| URL_PATH.read(n, what, d)) {
        let first = seen.iter().find(|s| s.value == l.value).map(|s| s.span);
        let (message, label, help) = match (l.value.as_str(), first) {
            ("/", _) => (
                "is the application's location",
                "Nginx's `location /` goes to the application",
                "static locations are folders below the site, e.g. /static/ or /assets/",
            ),
            (_, Some(_)) => ("is listed twice", "second time", "list each location once"),
            _ => {
                seen.push(l);
                continue;
            }
        };
        let mut p = Problem::error(
            INVALID_VALUE,
            l.span,
            format!("{what}: `{}` {message}", l.value),
        )
        .label(label)
        .help(help);
        if let Some(span) = first {
            p = p.related(span, "first here");
        }
        d.push(p);
    }
    seen
}
