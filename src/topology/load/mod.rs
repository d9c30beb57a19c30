//! YAML tree -> `Topology`, with documented defaults. Schema problems (unknown keys, wrong types,
//! invalid values) are collected; a field that fails keeps its default so that the semantic
//! checks can still run without cascading errors.
//!
//! `decode` reads the top level; each section is decoded in the file named after it, and the
//! grammars of free-text values (what each value's consumer takes safely) sit in `grammar/`.

mod app;
mod database;
mod dns;
mod firewall;
pub mod grammar;
mod hosts;
pub mod keys;
mod load_balancer;
mod secret;
mod web;

use super::decode::{Decoder, Fields, Sp};
use super::model::*;
use super::node::{Node, Value};
use crate::diagnostic::{Problem, Span};
use app::{app, default_app_name};
use database::database;
use dns::dns;
use firewall::firewall;
use hosts::{hosts, ssh};
use load_balancer::load_balancer;
use web::web;

/// Decodes the root node. `None` when the file is too broken to say anything more about it.
pub fn decode(root: &Node, d: &mut Decoder) -> Option<Topology> {
    if matches!(root.value, Value::Null) {
        d.push(
            Problem::error("topology::empty", root.span, "the topology file is empty")
                .label("nothing here")
                .help("start from examples/minimal.yaml: it needs at least `domain` and `hosts`"),
        );
        return None;
    }
    let top = d.map(root, "the topology", &keys::TOPOLOGY.names())?;
    let domain = match top.get("domain") {
        Some(n) => d.name(n, "domain")?,
        None => {
            d.push(missing(
                root.span,
                "domain",
                "the site's domain, e.g. `domain: foobar.com`",
            ));
            return None;
        }
    };
    let hosts = match top.get("hosts") {
        Some(n) => hosts(n, d),
        None => {
            d.push(missing(
                root.span,
                "hosts",
                "a mapping of host name to address and roles",
            ));
            return None;
        }
    };
    let has = |role| hosts.iter().any(|h: &Host| h.has(role));
    let ssh = ssh(top.get("ssh"), root.span, d);
    let app = section(&top, "app", has(Role::App) || has(Role::Web), d, |n, d| {
        app(n, &domain, d)
    });
    let app_name = app
        .as_ref()
        .map_or_else(|| default_app_name(&domain.value), |a| a.name.value.clone());
    let web_cfg = section(&top, "web", has(Role::Web), d, |n, d| {
        web(n, &domain, &app_name, d)
    });
    let health_default = web_cfg.as_ref().map_or_else(
        || Sp::new("/healthz".to_string(), domain.span),
        |w| w.health_path.clone(),
    );
    let load_balancer = section(&top, "load_balancer", has(Role::Lb), d, |n, d| {
        load_balancer(n, &health_default, d)
    });
    let database = match top.get("database") {
        Some(n) => database(n, app.as_ref(), &domain, d),
        None => {
            if let Some(h) = hosts.iter().find(|h| h.has(Role::Db)) {
                d.push(
                    Problem::error(
                        "topology::missing-key",
                        h.name.span,
                        format!(
                            "host `{}` has the db role but the topology has no `database` section",
                            h.name.value
                        ),
                    )
                    .label("db host")
                    .help("add `database:` with at least `password: { env: VARIABLE }`"),
                );
            }
            None
        }
    };
    let dns = top.get("dns").and_then(|n| dns(n, &domain, d));
    let firewall = firewall(top.get("firewall"), Span::new(0, 0), d);
    Some(Topology {
        domain,
        ssh,
        hosts,
        load_balancer,
        web: web_cfg,
        app,
        database,
        dns,
        firewall,
    })
}

fn missing(span: Span, key: &str, what: &str) -> Problem {
    Problem::error(
        "topology::missing-key",
        span,
        format!("the topology has no `{key}`"),
    )
    .label(format!("`{key}` is required"))
    .help(format!("add `{key}:` — {what}"))
}

/// A section that falls back to its defaults when absent but needed by a role.
fn section<T>(
    top: &Fields,
    key: &str,
    needed: bool,
    d: &mut Decoder,
    decode: impl FnOnce(&Node, &mut Decoder) -> Option<T>,
) -> Option<T> {
    match top.get(key) {
        Some(n) => decode(n, d),
        None if needed => decode(&empty_map(top.node.span), d),
        None => None,
    }
}

fn empty_map(span: Span) -> Node {
    Node {
        span,
        value: Value::Map(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::line_col;
    use crate::topology::{Loaded, load_text};

    fn server_names(loaded: &Loaded) -> Vec<String> {
        let web = loaded.topology.as_ref().unwrap().web.as_ref().unwrap();
        web.server_names.iter().map(|n| n.value.clone()).collect()
    }

    const LB_WEB: &str = "domain: foobar.com
hosts:
  lb-01: { address: 192.0.2.10, roles: [lb] }
  web-01: { address: 192.0.2.21, roles: [web, app] }
";

    #[test]
    fn a_www_domain_is_its_own_server_name() {
        let loaded = load_text(&LB_WEB.replace("foobar.com", "www.foobar.com"));
        assert_eq!(server_names(&loaded), ["www.foobar.com"]);
        let t = loaded.topology.as_ref().unwrap();
        assert_eq!(t.app.as_ref().unwrap().name.value, "foobar");
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
    }

    #[test]
    fn a_bare_domain_also_gets_its_www_name() {
        let loaded = load_text(LB_WEB);
        assert_eq!(server_names(&loaded), ["www.foobar.com", "foobar.com"]);
    }

    /// Durations below what HAProxy takes are errors at the value, not silently raised.
    #[test]
    fn too_short_interval_and_timeout_are_errors() {
        let text = format!(
            "{LB_WEB}load_balancer:
  health_check: {{ interval: 50ms }}
  timeouts: {{ connect: 0, client: 1ms }}
"
        );
        let loaded = load_text(&text);
        let found: Vec<(&str, usize, usize)> = loaded
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| {
                let (line, col) = line_col(&text, p.span.unwrap().offset);
                (p.code, line, col)
            })
            .collect();
        assert_eq!(
            found,
            [
                ("topology::invalid-value", 6, 29),
                ("topology::invalid-value", 7, 24),
            ]
        );
        let errors: Vec<_> = loaded.problems.iter().filter(|p| p.is_error()).collect();
        let help = |i: usize| errors[i].help.clone().unwrap_or_default();
        assert!(help(0).contains("100ms to 1 day"));
        assert!(help(1).contains("1ms to 1 day"));
    }

    fn errors(loaded: &Loaded) -> Vec<(&str, usize, usize)> {
        loaded
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| {
                let (line, col) = line_col(&loaded.source.text, p.span.unwrap().offset);
                (p.code, line, col)
            })
            .collect()
    }

    /// Defaults taken from app.name fit the same grammars as written values.
    #[test]
    fn defaults_from_the_app_name_are_held_to_the_grammars() {
        let db = "  db-01: { address: 192.0.2.30, roles: [db] }
database:
  password: { env: FOOBAR_DB_PASSWORD }
";
        // `mysql.com`: app.name `mysql`, so database `mysql` and user `mysql`, reported at the
        // database section.
        let loaded = load_text(&format!(
            "{}{db}",
            LB_WEB.replace("foobar.com", "mysql.com")
        ));
        assert_eq!(
            errors(&loaded),
            [
                ("topology::invalid-value", 7, 3),
                ("topology::invalid-value", 7, 3)
            ]
        );
        let messages: Vec<&str> = loaded
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| p.message.as_str())
            .collect();
        assert!(messages[0].contains("system schema"));
        assert!(messages[1].contains("administrative account"));
        // A 40-character app.name: too long for a system user (31) and a database user (32).
        let long = "a".repeat(40);
        let text = format!("{LB_WEB}{db}app:\n  name: {long}\n");
        let loaded = load_text(&text);
        assert_eq!(
            errors(&loaded),
            [
                ("topology::invalid-value", 7, 3),
                ("topology::invalid-value", 9, 9)
            ]
        );
        // Written values take their place.
        let text =
            format!("{LB_WEB}{db}  name: shop\n  user: shop\napp:\n  name: {long}\n  user: shop\n");
        assert_eq!(errors(&load_text(&text)), []);
    }
}
