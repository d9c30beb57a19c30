//! The keys of `dns` and of its records.

use super::database::{SECRET_KEYS, SECRET_RULES};
use super::{Absent, Key, Section, Shape, names};
use crate::topology::load::grammar::{DNS_NAME, RECORD_NAME, TextSchema, ZONE};
use crate::topology::model::TsigAlgorithm;

const ALGORITHMS: [&str; 3] = names(&TsigAlgorithm::ALL);

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
            name: "provider",
            shape: Shape::Choice(&["rfc2136", "zone-file"]),
            default: Absent::Derived("`rfc2136` with a `key`, else `zone-file`"),
            ty: "`rfc2136` or `zone-file`",
            meaning: "How the records reach the world: signed RFC 2136 updates to the zone's \
                      primary server, or only the zone file `render` writes.",
        },
        Key {
            name: "server",
            shape: Shape::Text(TextSchema::TEXT),
            default: Absent::Derived("the host with the `dns` role"),
            ty: "host name or `ADDRESS[:PORT]`",
            meaning: "The zone's primary server that takes the updates (BIND, Knot, \
                      PowerDNS...); port 53 by default.",
        },
        Key {
            name: "key",
            shape: Shape::Map(&KEY),
            default: Absent::None,
            ty: "mapping",
            meaning: "The TSIG key that signs the updates (and the queries of plan and verify).",
        },
        Key {
            name: "prune",
            shape: Shape::Bool,
            default: Absent::Value("false"),
            ty: "bool",
            meaning: "The zone is fully managed: a record this tool wrote whose name the \
                      topology no longer lists is deleted.",
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

pub const KEY: Section = Section {
    name: "dns.key",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "name",
            shape: Shape::Text(DNS_NAME),
            default: Absent::Required,
            ty: "DNS name",
            meaning: "The key's name, as the server knows it.",
        },
        Key {
            name: "algorithm",
            shape: Shape::Choice(&ALGORITHMS),
            default: Absent::Value(r#""hmac-sha256""#),
            ty: "`hmac-sha256`, `hmac-sha384`, `hmac-sha512`",
            meaning: "The key's algorithm.",
        },
        Key {
            name: "secret",
            shape: Shape::Map(&TSIG_SECRET),
            default: Absent::Required,
            ty: "mapping: `{ env: VAR }`, `{ file: PATH }` or `{ value: TEXT, insecure: true }`",
            meaning: "The key's secret, base64 as `tsig-keygen` prints it; never in output, \
                      plans, argv or logs.",
        },
    ],
};

pub const TSIG_SECRET: Section = Section {
    name: "dns.key.secret",
    table: false,
    rules: SECRET_RULES,
    keys: SECRET_KEYS,
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
