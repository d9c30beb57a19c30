//! The keys of `database` and of its password.

use super::{Absent, Key, Rule, Section, Shape, names};
use crate::topology::load::grammar::{
    ENV_NAME, ENV_VALUE, IP_ADDRESS, LOCAL_PATH, SQL_DATABASE, SQL_USER, TextSchema,
};
use crate::topology::model::Engine;

const ENGINES: [&str; 2] = names(&Engine::ALL);

pub const DATABASE: Section = Section {
    name: "database",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "engine",
            shape: Shape::Choice(&ENGINES),
            default: Absent::Value(r#""mariadb""#),
            ty: "`mariadb`, `mysql`",
            meaning: "Selects the package, service and config folder.",
        },
        Key {
            name: "name",
            shape: Shape::Text(SQL_DATABASE),
            default: Absent::Derived("`app.name` with `-` as `_` (held to the same rules)"),
            ty: "SQL identifier (letters, digits, `_`, 1 to 64), not `mysql`, \
                 `information_schema`, `performance_schema` or `sys` in any letter case",
            meaning: "Database name.",
        },
        Key {
            name: "user",
            shape: Shape::Text(SQL_USER),
            default: Absent::Derived("`app.name` with `-` as `_` (held to the same rules)"),
            ty: "SQL identifier (letters, digits, `_`, 1 to 32), not `root` or `mysql` in any \
                 letter case",
            meaning: "Application user.",
        },
        Key {
            name: "password",
            shape: Shape::Map(&PASSWORD),
            default: Absent::Required,
            ty: "mapping: `{ env: VAR }`, `{ file: PATH }` or `{ value: TEXT, insecure: true }`",
            meaning: "Where the application user's password comes from; exactly one source. A \
                      plain `password: TEXT`, or `value` without `insecure: true`, is an error.",
        },
        Key {
            name: "allowed_hosts",
            shape: Shape::List {
                item: &Shape::Text(TextSchema::TEXT),
                unique: false,
            },
            default: Absent::Derived("every host with the `app` role"),
            ty: "list of host names",
            meaning: "Hosts the user may connect from (one `'user'@'address'` account each, with \
                      SELECT, INSERT, UPDATE, DELETE on the database).",
        },
        Key {
            name: "bind_address",
            shape: Shape::Text(IP_ADDRESS),
            default: Absent::Derived("the `db` host's address"),
            ty: "IP address",
            meaning: "MariaDB `bind-address`. Must be that address, `0.0.0.0`/`::`, or a loopback \
                      address when every app host is the database host.",
        },
        Key {
            name: "port",
            shape: Shape::PORT,
            default: Absent::Value("3306"),
            ty: "port",
            meaning: "Server port.",
        },
        Key {
            name: "server_id",
            shape: Shape::Int {
                min: 1,
                max: u32::MAX as i64,
            },
            default: Absent::Value("1"),
            ty: "1..4294967295",
            meaning: "`server-id` of the first `db` host; each further `db` host (file order) \
                      has the next one.",
        },
        Key {
            name: "primary",
            shape: Shape::Text(TextSchema::TEXT),
            default: Absent::Derived(
                "the one host with the `db` role; required when more than one has it",
            ),
            ty: "host name (a host with the `db` role)",
            meaning: "The primary database host; every other `db` host is a GTID replica of it \
                      (read-only, seeded from a dump of the primary by `apply`). After \
                      `foobar-infra promote HOST`, set it to HOST.",
        },
        Key {
            name: "replication",
            shape: Shape::Map(&REPLICATION),
            default: Absent::Derived("required when more than one host has the `db` role"),
            ty: "mapping: `user`, `password`",
            meaning: "The account replicas connect to the primary with (REPLICATION SLAVE only, \
                      from the other `db` hosts' addresses). MariaDB only. Only the application \
                      database is replicated (`replicate_wild_do_table`); a host whose database \
                      holds rows no seed of this tool put there is never seeded over.",
        },
        Key {
            name: "schema",
            shape: Shape::Text(LOCAL_PATH.schema),
            default: Absent::None,
            ty: "path, one line",
            meaning: "SQL file that creates the tables, run once by the administrator; must \
                      exist.",
        },
    ],
};

pub const REPLICATION: Section = Section {
    name: "database.replication",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "user",
            shape: Shape::Text(SQL_USER),
            default: Absent::Value(r#""replication""#),
            ty: "SQL identifier (letters, digits, `_`, 1 to 32), not `root` or `mysql` in any \
                 letter case",
            meaning: "Replication user.",
        },
        Key {
            name: "password",
            shape: Shape::Map(&REPLICATION_PASSWORD),
            default: Absent::Required,
            ty: "mapping: `{ env: VAR }`, `{ file: PATH }` or `{ value: TEXT, insecure: true }`",
            meaning: "Where the replication user's password comes from; exactly one source. \
                      Never in output, plans, argv or logs.",
        },
    ],
};

pub const REPLICATION_PASSWORD: Section = Section {
    name: "database.replication.password",
    table: false,
    rules: SECRET_RULES,
    keys: SECRET_KEYS,
};

pub const PASSWORD: Section = Section {
    name: "database.password",
    table: false,
    rules: SECRET_RULES,
    keys: SECRET_KEYS,
};

/// A secret's source: the database password's, the TSIG key's.
pub const SECRET_RULES: &[Rule] = &[
    Rule::ExactlyOne(&["env", "file", "value"]),
    Rule::When {
        key: "value",
        is: None,
        then: "insecure",
        then_is: Some("true"),
    },
];

pub const SECRET_KEYS: &[Key] = &[
    Key {
        name: "env",
        shape: Shape::Text(ENV_NAME.schema),
        default: Absent::Derived("one of `env`, `file`, `value`"),
        ty: "variable name: letters, digits, `_`, not starting with a digit",
        meaning: "The environment variable that holds the secret.",
    },
    Key {
        name: "file",
        shape: Shape::Text(LOCAL_PATH.schema),
        default: Absent::Derived("one of `env`, `file`, `value`"),
        ty: "path, one line",
        meaning: "The file that holds the secret on one line, relative to the topology's \
                  folder.",
    },
    Key {
        name: "value",
        shape: Shape::Text(ENV_VALUE),
        default: Absent::Derived("one of `env`, `file`, `value`"),
        ty: "one line of printable text",
        meaning: "The secret itself, written in the topology: for a throwaway lab only, with \
                  `insecure: true`.",
    },
    Key {
        name: "insecure",
        shape: Shape::Bool,
        default: Absent::Value("false"),
        ty: "bool",
        meaning: "`true` beside `value`: the secret is meant to be written here.",
    },
];
