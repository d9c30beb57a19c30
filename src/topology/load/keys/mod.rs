//! Every key the loader takes, in one table: for each mapping of the topology, its keys with the
//! shape of their values, their defaults and what they mean. The loader opens each mapping with
//! its section's key names (so it takes these keys and no other), and both the JSON Schema
//! (`foobar-infra schema`, `schema/topology.schema.json`) and the README's topology reference are
//! generated from here.
//!
//! To add a key: add it to its section below (one file per section of the topology, as in
//! `load/`), read it in the loader, then regenerate the schema and the README's tables with
//! `UPDATE_SCHEMA=1 cargo test --test cli schema`. The drift tests in `topology::schema` check
//! that the loader takes and reads every key the schema has, and no other.

mod app;
mod database;
mod dns;
mod firewall;
mod hosts;
mod load_balancer;
mod web;

pub use app::APP;
pub use database::{DATABASE, PASSWORD, REPLICATION, REPLICATION_PASSWORD};
pub use dns::{DNS, KEY, RECORD, TSIG_SECRET};
pub use firewall::FIREWALL;
pub use hosts::{HOST, HOST_SSH, SSH};
pub use load_balancer::{
    ADVERT_MAX_MS, ADVERT_MIN_MS, BACKEND, FAILOVER, HEALTH_CHECK, HSTS_DEFAULT, HSTS_MAX,
    LOAD_BALANCER, ROUTE, TIMEOUTS, TLS, TLS_KEY,
};
pub use web::WEB;

use super::grammar::{DNS_NAME, HOST_NAME, TextSchema};

/// A mapping with a fixed set of keys.
#[derive(Debug)]
pub struct Section {
    /// What it is called: for a section with a table of its own, its name in the schema's
    /// `$defs` and the README's marker of its table (`<!-- keys: ssh -->`).
    pub name: &'static str,
    /// Whether the README gives it a table of its own (else its keys are rows of its parent's:
    /// `health_check.path`, `records[].name`).
    pub table: bool,
    pub keys: &'static [Key],
    /// Rules over several keys.
    pub rules: &'static [Rule],
}

impl Section {
    /// The keys the loader takes in this mapping.
    pub fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.name).collect()
    }
}

/// One key of a mapping.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    /// What leaving it out means: the README's Default column.
    pub default: Absent,
    /// What a value is, in words: the README's Type column.
    pub ty: &'static str,
    /// What the key does: the README's Meaning column and the schema's description.
    pub meaning: &'static str,
}

/// What a value is, as far as JSON Schema can say it.
#[derive(Debug)]
pub enum Shape {
    Text(TextSchema),
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// An integer number of seconds or a string like `500ms`, `2s`, `1m`, `1h`; at least
    /// `min_ms` (0, or a power of ten up to 1000), at most a day.
    Duration {
        min_ms: u64,
    },
    /// A list; a single value stands for a list of one.
    List {
        item: &'static Shape,
        /// Each item at most once.
        unique: bool,
    },
    Map(&'static Section),
    /// A mapping of free names (host names, groups, variables) to values of one shape.
    Named {
        name: TextSchema,
        value: &'static Shape,
    },
    AnyOf(&'static [Shape]),
}

impl Shape {
    pub const PORT: Shape = Shape::Int { min: 1, max: 65535 };
}

/// What leaving a key out means.
#[derive(Debug)]
pub enum Absent {
    /// The key must be written.
    Required,
    /// Absent means unset.
    None,
    /// This value, as JSON.
    Value(&'static str),
    /// Computed from other values, or conditional: said in words.
    Derived(&'static str),
}

/// A rule over several keys of one mapping.
#[derive(Debug)]
pub enum Rule {
    /// Exactly one of these keys is written.
    ExactlyOne(&'static [&'static str]),
    /// When `key` is written (and, with `is`, has that JSON value), `then` must be written (and,
    /// with `then_is`, have that JSON value).
    When {
        key: &'static str,
        is: Option<&'static str>,
        then: &'static str,
        then_is: Option<&'static str>,
    },
}

/// The names of a model's `ALL` table (`Role::ALL`...), for a `Choice`.
pub const fn names<T: Copy, const N: usize>(all: &[(&'static str, T); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = all[i].0;
        i += 1;
    }
    out
}

/// The whole topology.
pub const TOPOLOGY: Section = Section {
    name: "topology",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "domain",
            shape: Shape::Text(DNS_NAME),
            default: Absent::Required,
            ty: "DNS name, no wildcard",
            meaning: "The site's domain, e.g. `foobar.com`.",
        },
        Key {
            name: "ssh",
            shape: Shape::Map(&SSH),
            default: Absent::Derived("every key at its default"),
            ty: "mapping",
            meaning: "How to reach the hosts.",
        },
        Key {
            name: "hosts",
            shape: Shape::Named {
                name: HOST_NAME,
                value: &Shape::Map(&HOST),
            },
            default: Absent::Required,
            ty: "mapping",
            meaning: "Host name to host.",
        },
        Key {
            name: "load_balancer",
            shape: Shape::Map(&LOAD_BALANCER),
            default: Absent::Derived("defaults if an `lb` host exists"),
            ty: "mapping",
            meaning: "HAProxy.",
        },
        Key {
            name: "web",
            shape: Shape::Map(&WEB),
            default: Absent::Derived("defaults if a `web` host exists"),
            ty: "mapping",
            meaning: "Nginx.",
        },
        Key {
            name: "app",
            shape: Shape::Map(&APP),
            default: Absent::Derived("defaults if an `app` or `web` host exists"),
            ty: "mapping",
            meaning: "The application server.",
        },
        Key {
            name: "database",
            shape: Shape::Map(&DATABASE),
            default: Absent::Derived("required if a `db` host exists"),
            ty: "mapping",
            meaning: "MariaDB/MySQL.",
        },
        Key {
            name: "dns",
            shape: Shape::Map(&DNS),
            default: Absent::None,
            ty: "mapping",
            meaning: "The A records of the zone.",
        },
        Key {
            name: "firewall",
            shape: Shape::Map(&FIREWALL),
            default: Absent::Derived("on, SSH from everywhere"),
            ty: "mapping",
            meaning: "nftables on every host.",
        },
    ],
};
