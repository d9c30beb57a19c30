//! The `web` section.

use super::paths::{abs_path, url_path};
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::Node;

pub(super) fn web(
    node: &Node,
    domain: &Sp<String>,
    app_name: &str,
    d: &mut Decoder,
) -> Option<Web> {
    let f = d.map(
        node,
        "web",
        &[
            "server_names",
            "listen",
            "document_root",
            "static_locations",
            "health_path",
        ],
    )?;
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
            .and_then(|n| abs_path(n, "web.document_root", d))
            .unwrap_or_else(|| Sp::new(format!("/srv/{app_name}/current"), f.node.span)),
        static_locations: f
            .get("static_locations")
            .map(|n| d.list(n, |d, n| url_path(n, "web.static_locations entry", d)))
            .unwrap_or_else(|| vec![Sp::new("/static/".into(), f.node.span)]),
        health_path: f
            .get("health_path")
            .and_then(|n| url_path(n, "web.health_path", d))
            .unwrap_or_else(|| Sp::new("/healthz".into(), f.node.span)),
    })
}
