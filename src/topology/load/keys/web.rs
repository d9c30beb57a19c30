//! The keys of `web`.

use super::{Absent, Key, Section, Shape};
use crate::topology::load::grammar::{ABS_PATH, SERVER_NAME, TextSchema, URL_PATH};

/// A static location: a URL path, but not `/` (the application's).
const STATIC_LOCATION: TextSchema = TextSchema {
    not_pattern: Some("^/$"),
    ..URL_PATH.schema
};

pub const WEB: Section = Section {
    name: "web",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "server_names",
            shape: Shape::List {
                item: &Shape::Text(SERVER_NAME),
                unique: false,
            },
            default: Absent::Derived(
                "`[www.DOMAIN, DOMAIN]` (`[DOMAIN]` when it starts with `www.`)",
            ),
            ty: "list of DNS names; a wildcard only as a whole first label (`*.foobar.com`)",
            meaning: "Nginx `server_name`; the first is the `Host:` of the load balancer's health \
                      check.",
        },
        Key {
            name: "listen",
            shape: Shape::PORT,
            default: Absent::Value("80"),
            ty: "port",
            meaning: "Nginx port.",
        },
        Key {
            name: "document_root",
            shape: Shape::Text(ABS_PATH.schema),
            default: Absent::Derived("`/srv/APP/current`"),
            ty: "absolute path",
            meaning: "Nginx `root` (`APP` is `app.name`).",
        },
        Key {
            name: "static_locations",
            shape: Shape::List {
                item: &Shape::Text(STATIC_LOCATION),
                unique: true,
            },
            default: Absent::Value(r#"["/static/"]"#),
            ty: "list of URL paths, each once, not `/` (the application's location)",
            meaning: "Served by Nginx from the document root (`try_files`, `expires 1h`).",
        },
        Key {
            name: "health_path",
            shape: Shape::Text(URL_PATH.schema),
            default: Absent::Value(r#""/healthz""#),
            ty: "URL path",
            meaning: "Passed to the application server without access logging.",
        },
    ],
};
