//! The keys of `dns` and of its records.

use super::{Absent, Key, Section, Shape};
use crate::topology::load::grammar::{RECORD_NAME, TextSchema, ZONE};

/// A TTL, as BIND takes it (a 31-bit number of seconds).
const TTL: Shape = Shape::Int {
    min: 1,
    max: 2_147_483_647,
};

pub const DNS: Section = Section {
    name: "dns",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "zone",
            shape: Shape::Text(ZONE),
            default: Absent::Derived("`domain`"),
            ty: "DNS name, no wildcard, at most 242 characters",
            meaning: "The zone.",
        },
        Key {
            name: "ttl",
            shape: TTL,
            default: Absent::Value("300"),
            ty: "1..2147483647",
            meaning: "Default TTL and negative-caching TTL.",
        },
        Key {
            name: "records",
            shape: Shape::List {
                item: &Shape::Map(&RECORD),
                unique: false,
            },
            default: Absent::None,
            ty: "list",
            meaning: "A records.",
        },
    ],
};

pub const RECORD: Section = Section {
    name: "dns.records",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "name",
            shape: Shape::Text(RECORD_NAME),
            default: Absent::Required,
            ty: "DNS name, `@` or `*`",
            meaning: "Relative to the zone (`www`), `@` for the apex, `*` or `*.NAME` for a \
                      wildcard, or absolute with a trailing dot.",
        },
        Key {
            name: "type",
            // Read without regard to case.
            shape: Shape::Choice(&["A", "a"]),
            default: Absent::Value(r#""A""#),
            ty: "`A`",
            meaning: "Only A records are managed.",
        },
        Key {
            name: "target",
            shape: Shape::Text(TextSchema::TEXT),
            default: Absent::Required,
            ty: "host name or IP address",
            meaning: "A host's name resolves to its address.",
        },
        Key {
            name: "ttl",
            shape: TTL,
            default: Absent::Derived("`dns.ttl`"),
            ty: "1..2147483647",
            meaning: "Record TTL.",
        },
    ],
};
