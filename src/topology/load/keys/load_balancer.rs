//! The keys of `load_balancer`, its routes and its backend entries.

use super::database::{SECRET_KEYS, SECRET_RULES};
use super::{Absent, Key, Rule, Section, Shape, names};
use crate::topology::load::grammar::{
    GROUP_NAME, HOST_NAME, INTERFACE, LOCAL_PATH, NETWORK, STATS_SOCKET, TextSchema, URL_PATH,
};
use crate::topology::model::Algorithm;

const ALGORITHMS: [&str; 3] = names(&Algorithm::ALL);

/// A backend or group entry: a host's name, or a mapping.
const ENTRY: Shape = Shape::AnyOf(&[
    // Only a string is a name: `backends: [1234]` is refused.
    Shape::Text(TextSchema {
        scalars: false,
        ..HOST_NAME
    }),
    Shape::Map(&BACKEND),
]);

pub const LOAD_BALANCER: Section = Section {
    name: "load_balancer",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "listen",
            shape: Shape::List {
                item: &Shape::PORT,
                unique: false,
            },
            default: Absent::Value("[80]"),
            ty: "port or list of ports",
            meaning: "HAProxy frontend ports.",
        },
        Key {
            name: "algorithm",
            shape: Shape::Choice(&ALGORITHMS),
            default: Absent::Value(r#""roundrobin""#),
            ty: "`roundrobin`, `leastconn`, `source`",
            meaning: "HAProxy `balance`.",
        },
        Key {
            name: "health_check",
            shape: Shape::Map(&HEALTH_CHECK),
            default: Absent::Derived("every key at its default"),
            ty: "mapping",
            meaning: "The HTTP health check HAProxy runs on each server.",
        },
        Key {
            name: "backends",
            shape: Shape::List {
                item: &ENTRY,
                unique: false,
            },
            default: Absent::Value(r#"[{"role": "web"}]"#),
            ty: "list of entries",
            meaning: "The default backend (`web`).",
        },
        Key {
            name: "groups",
            shape: Shape::Named {
                name: GROUP_NAME.schema,
                value: &Shape::List {
                    item: &ENTRY,
                    unique: false,
                },
            },
            default: Absent::None,
            ty: "mapping of name (letters, digits, `.`, `_`, `-`) to list of entries",
            meaning: "Extra backends, rendered as `group_NAME`.",
        },
        Key {
            name: "routes",
            shape: Shape::List {
                item: &Shape::Map(&ROUTE),
                unique: false,
            },
            default: Absent::None,
            ty: "list of `{ path_prefix, group }`",
            meaning: "Requests whose path starts with `path_prefix` go to `group` (HAProxy \
                      `path_beg`). Each prefix once.",
        },
        Key {
            name: "timeouts",
            shape: Shape::Map(&TIMEOUTS),
            default: Absent::Derived("every key at its default"),
            ty: "mapping",
            meaning: "HAProxy's timeouts.",
        },
        Key {
            name: "retries",
            shape: Shape::Int { min: 0, max: 10 },
            default: Absent::Value("3"),
            ty: "0..10",
            meaning: "HAProxy `retries`. A request is retried, on another server (`option \
                      redispatch 1`), when the connection fails, when the server closes it \
                      without answering, times out, or answers 502/503 — for idempotent requests \
                      only (`GET`, `HEAD`, `OPTIONS`): others are never replayed.",
        },
        Key {
            name: "stats_socket",
            shape: Shape::Text(STATS_SOCKET.schema),
            default: Absent::Value(r#""/run/haproxy/admin.sock""#),
            ty: "absolute path, at most 97 characters (HAProxy's limit), not ending in `/`",
            meaning: "Admin socket (level admin), used to drain and ready servers.",
        },
        Key {
            name: "tls",
            shape: Shape::Map(&TLS),
            default: Absent::None,
            ty: "mapping",
            meaning: "HTTPS: HAProxy terminates TLS (1.2 and 1.3 only, forward-secret ciphers) \
                      with this certificate and key.",
        },
        Key {
            name: "vip",
            shape: Shape::Text(NETWORK),
            default: Absent::None,
            ty: "IP address, optionally `ADDRESS/PREFIX`",
            meaning: "A floating address the `lb` hosts share: keepalived (VRRPv3, unicast between \
                      them) holds it on one at a time and moves it when that host or its HAProxy \
                      stops answering. Not a host's address, of the hosts' family, and within \
                      `PREFIX` of every `lb` host when one is given (else added as /32). Needs two \
                      or more `lb` hosts to fail over.",
        },
        Key {
            name: "failover",
            shape: Shape::Map(&FAILOVER),
            default: Absent::Derived("every key at its default"),
            ty: "mapping",
            meaning: "How keepalived elects the host that holds `vip` (only with `vip`).",
        },
    ],
};

/// The shortest and longest VRRPv3 advertisement interval (centiseconds, 12 bits).
pub const ADVERT_MIN_MS: u64 = 10;
pub const ADVERT_MAX_MS: u64 = 40_950;

pub const FAILOVER: Section = Section {
    name: "load_balancer.failover",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "priorities",
            shape: Shape::Named {
                name: HOST_NAME,
                value: &Shape::Int { min: 1, max: 254 },
            },
            default: Absent::Derived("`lb` hosts in file order: 150, 140, 130..."),
            ty: "mapping of `lb` host name to 1..254",
            meaning: "VRRP priorities, each once: the highest running host holds the VIP.",
        },
        Key {
            name: "router_id",
            shape: Shape::Int { min: 1, max: 255 },
            default: Absent::Value("51"),
            ty: "1..255",
            meaning: "The VRRP virtual router id, unique on the network.",
        },
        Key {
            name: "interface",
            shape: Shape::Text(INTERFACE.schema),
            default: Absent::Value(r#""eth0""#),
            ty: "interface name",
            meaning: "The interface the VIP is added to and VRRP speaks on.",
        },
        Key {
            name: "advert",
            shape: Shape::Duration { min_ms: 10 },
            default: Absent::Value(r#""500ms""#),
            ty: "duration",
            meaning: "VRRPv3 advertisement interval, 10ms to 40.95s, in hundredths of a second: \
                      a silent holder is replaced after about 3.4 intervals (1.7 s at 500ms).",
        },
        Key {
            name: "preempt",
            shape: Shape::Bool,
            default: Absent::Value("false"),
            ty: "bool",
            meaning: "A returning host of higher priority takes the VIP back (`false`: it stays a \
                      backup, no second move).",
        },
    ],
};

/// The longest HSTS `max-age` taken: two years, what the preload list asks for.
pub const HSTS_MAX: i64 = 63_072_000;

/// HSTS `max-age` when `hsts` is left out: 180 days.
pub const HSTS_DEFAULT: u32 = 15_552_000;

pub const TLS: Section = Section {
    name: "load_balancer.tls",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "certificate",
            shape: Shape::Text(LOCAL_PATH.schema),
            default: Absent::Required,
            ty: "path, one line",
            meaning: "PEM file with the certificate chain, the site's certificate first, relative \
                      to the topology's folder (`~/` is the home folder). Its names must cover \
                      every `web.server_names`.",
        },
        Key {
            name: "key",
            shape: Shape::Map(&TLS_KEY),
            default: Absent::Required,
            ty: "mapping: `{ env: VAR }`, `{ file: PATH }` or `{ value: TEXT, insecure: true }`",
            meaning: "The certificate's private key, PEM: a `file` or a variable holding all of it \
                      (`value` takes one line, so no PEM). Compared with the certificate when it \
                      is PKCS #8; never in output, plans, argv or logs, and 0600 on the host.",
        },
        Key {
            name: "port",
            shape: Shape::PORT,
            default: Absent::Value("443"),
            ty: "port",
            meaning: "The HTTPS port; `listen` stays plain HTTP.",
        },
        Key {
            name: "trust",
            shape: Shape::Text(LOCAL_PATH.schema),
            default: Absent::Derived("this machine's trusted CAs"),
            ty: "path, one line",
            meaning: "PEM file of the CAs a client trusts, for `verify`'s handshake (the lab's \
                      CA for the lab), relative to the topology's folder.",
        },
        Key {
            name: "redirect_http",
            shape: Shape::Bool,
            default: Absent::Value("true"),
            ty: "bool",
            meaning: "Answer plain HTTP requests with a 301 to the same URL over HTTPS.",
        },
        Key {
            name: "hsts",
            shape: Shape::AnyOf(&[
                Shape::Int {
                    min: 0,
                    max: HSTS_MAX,
                },
                Shape::Bool,
            ]),
            default: Absent::Value("15552000"),
            ty: "seconds (0..63072000) or `false`",
            meaning: "`Strict-Transport-Security: max-age=N` on HTTPS answers (180 days by \
                      default): browsers then refuse plain HTTP to the site for that long. `0` or \
                      `false` sends none; `true` is the default.",
        },
    ],
};

pub const TLS_KEY: Section = Section {
    name: "load_balancer.tls.key",
    table: false,
    rules: SECRET_RULES,
    keys: SECRET_KEYS,
};

pub const HEALTH_CHECK: Section = Section {
    name: "load_balancer.health_check",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "path",
            shape: Shape::Text(URL_PATH.schema),
            default: Absent::Derived("`web.health_path` (`/healthz`)"),
            ty: "URL path",
            meaning: "Path of the HTTP health check (`GET`, expects 200, `Host:` the first server \
                      name).",
        },
        Key {
            name: "interval",
            shape: Shape::Duration { min_ms: 100 },
            default: Absent::Value(r#""2s""#),
            ty: "duration",
            meaning: "Check interval, 100ms to 1 day; a shorter one is an `invalid-value` error.",
        },
        Key {
            name: "rise",
            shape: Shape::Int { min: 1, max: 100 },
            default: Absent::Value("2"),
            ty: "1..100",
            meaning: "Successes before a server is up.",
        },
        Key {
            name: "fall",
            shape: Shape::Int { min: 1, max: 100 },
            default: Absent::Value("3"),
            ty: "1..100",
            meaning: "Failures before a server is down.",
        },
    ],
};

pub const ROUTE: Section = Section {
    name: "load_balancer.routes",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "path_prefix",
            shape: Shape::Text(URL_PATH.schema),
            default: Absent::Required,
            ty: "URL path",
            meaning: "The start of the paths this route takes.",
        },
        Key {
            name: "group",
            shape: Shape::Text(GROUP_NAME.schema),
            default: Absent::Required,
            ty: "group name",
            meaning: "The group (of `groups`) that serves them.",
        },
    ],
};

pub const TIMEOUTS: Section = Section {
    name: "load_balancer.timeouts",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "connect",
            shape: Shape::Duration { min_ms: 1 },
            default: Absent::Value(r#""1s""#),
            ty: "duration",
            meaning: "HAProxy `timeout connect` (1ms to 1 day; 0 is an error). On a LAN a live \
                      server answers in milliseconds: a dead one costs this long before the \
                      request is sent to another server.",
        },
        Key {
            name: "client",
            shape: Shape::Duration { min_ms: 1 },
            default: Absent::Value(r#""30s""#),
            ty: "duration",
            meaning: "HAProxy `timeout client` (1ms to 1 day).",
        },
        Key {
            name: "server",
            shape: Shape::Duration { min_ms: 1 },
            default: Absent::Value(r#""30s""#),
            ty: "duration",
            meaning: "HAProxy `timeout server` (1ms to 1 day).",
        },
    ],
};

/// A backend or group entry written as a mapping.
pub const BACKEND: Section = Section {
    name: "backend_entry",
    table: true,
    rules: &[Rule::ExactlyOne(&["host", "role"])],
    keys: &[
        Key {
            name: "host",
            shape: Shape::Text(HOST_NAME),
            default: Absent::Derived("one of `host` and `role`"),
            ty: "host name",
            meaning: "One host; it must have the `web` role.",
        },
        Key {
            name: "role",
            shape: Shape::Choice(&["web"]),
            default: Absent::Derived("one of `host` and `role`"),
            ty: "`web`",
            meaning: "Every host with the `web` role (only `web` is allowed).",
        },
        Key {
            name: "weight",
            shape: Shape::Int { min: 0, max: 256 },
            default: Absent::Value("100"),
            ty: "0..256",
            meaning: "HAProxy `weight` of the server (of each server, with `role`); 0 takes it \
                      out of the rotation. A host named on its own overrides the weight a `role` \
                      entry gave it.",
        },
    ],
};
