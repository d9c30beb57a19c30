//! The rule behind tests/hostile, on generated topologies: what `validate` accepts, `render`
//! renders, and every rendered file passes its real checker (`haproxy -c`, `nginx -t`, `mariadbd`;
//! a missing one fails the test); what it refuses, it refuses at a location.
//!
//! Topologies follow the reference design (examples/foobar.yaml, examples/minimal.yaml): a load
//! balancer or not, one or two web + app hosts, a database host or not, gunicorn, php-fpm or a
//! command. Their free-text values are drawn at the edges of each grammar (long names, dots,
//! dashes, `%XX`, unusual but legal characters, unicode where allowed), and some get hostile
//! characters (line breaks, NUL, quotes, `;`, `#`, braces, `$`, `\`, `..`, spaces, control
//! characters) inserted at random positions. For an accepted topology the test also checks what
//! the checkers cannot see: no value added a line to any file (each file, the zone data and the
//! bootstrap SQL have as many lines as with plain values), no file holds a control character, the
//! unit's `ExecStart=` is the command on one line, app.env and the php-fpm pool read each
//! environment value back as written, and an inline password reads back from app.env, the pool
//! and the SQL. It also validates against the topology's JSON Schema: the schema never refuses
//! what `validate` accepts.
//!
//! A failure prints the generated topology as YAML; `PROPTEST_CASES=2000` runs a longer search.

use foobar_infra::check_configs::{self, Status};
use foobar_infra::desired::Desired;
use foobar_infra::render::{self, Secrets};
use foobar_infra::secret::Secret;
use foobar_infra::topology::{self, AppKind, Loaded, Role, SecretSource, Source, Topology};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Generated topologies per run. Each accepted one spawns a checker per host (~50–150 ms each),
/// and is rendered twice.
const CASES: u32 = 128;

/// What is inserted into a value to break out of it somewhere.
const HOSTILE: &[&str] = &[
    "\n",
    "\r",
    "\0",
    "\t",
    "\u{7f}",
    "\u{85}",
    "\u{1b}",
    "\u{8}",
    "\"",
    "'",
    "`",
    ";",
    "#",
    "{",
    "}",
    "$",
    "\\",
    "..",
    "/../",
    "//",
    " ",
    "\u{a0}",
    "?",
    "%",
    "%zz",
    "*",
    "=",
    ":",
    "@",
    "é",
    "$HOME",
    "${DB_PASSWORD}",
    "\nUser=root",
    "\r\nX=1",
    " ; /bin/sh -c id",
    "\\\n",
    "; }\nserver { ",
    " { return 200; } ",
];

/// A free-text value before the case decides about it: a value at the edge of its grammar,
/// hostile pieces to insert, and the roll that (against the case's level) decides whether they
/// are.
#[derive(Clone, Debug)]
struct Raw {
    edge: String,
    inserts: Vec<(Index, &'static str)>,
    roll: u8,
}

impl Raw {
    fn value(&self, level: u8) -> String {
        let mut s = self.edge.clone();
        if self.roll < level {
            for (at, piece) in &self.inserts {
                let mut i = at.index(s.len() + 1);
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                s.insert_str(i, piece);
            }
        }
        s
    }
}

fn raw(edge: BoxedStrategy<String>) -> BoxedStrategy<Raw> {
    let inserts = prop::collection::vec((any::<Index>(), prop::sample::select(HOSTILE)), 1..=3);
    (edge, inserts, any::<u8>())
        .prop_map(|(edge, inserts, roll)| Raw {
            edge,
            inserts,
            roll,
        })
        .boxed()
}

fn opt(edge: BoxedStrategy<String>) -> BoxedStrategy<Option<Raw>> {
    prop::option::of(raw(edge)).boxed()
}

fn text(regex: &'static str) -> BoxedStrategy<String> {
    regex.boxed()
}

/// A long value: `prefix`, then `unit`s, then `suffix`, `lens` characters in all (ASCII units).
fn long(
    prefix: &'static str,
    unit: &'static str,
    suffix: &'static str,
    lens: Range<usize>,
) -> BoxedStrategy<String> {
    (lens, prop::collection::vec(unit, 1..6))
        .prop_map(move |(n, units)| {
            let body = n.saturating_sub(prefix.len() + suffix.len());
            let mut s = String::new();
            for u in units.iter().cycle() {
                if s.len() >= body || u.is_empty() {
                    break;
                }
                s.push_str(u);
            }
            s.truncate(body);
            format!("{prefix}{s}{suffix}")
        })
        .boxed()
}

// The edges of each grammar (src/topology/load/grammar/).

/// `root`: the weight of `/` itself (out of 10), which a static location may not be.
fn url_path(root: u32) -> BoxedStrategy<String> {
    prop_oneof![
        root => Just("/".to_string()),
        6 => text("(/([A-Za-z0-9._~!&()*+,=:@-]|%[0-9A-Fa-f]{2}){1,10}){1,4}/?"),
        2 => text("/[a-z0-9]{1,8}/"),
        // Few values, so that lists hold near-duplicates (`/a`, `/a/`, `/%61`).
        2 => text("/(a|b|%61|%2F|\\.){0,2}/?"),
        1 => long("/", "[A-Za-z0-9._~!&()*+,=:@/-]{1,12}", "", 3990..4110),
    ]
    .boxed()
}

fn abs_path() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just("/".to_string()),
        6 => text("(/[A-Za-z0-9._+-]{1,16}){1,5}/?"),
        2 => text("(/(\\.well-known|\\.\\.\\.|\\+|-|_|\\.[a-z]{1,4}|[a-z]{1,4}\\.)){1,3}"),
        1 => long("/srv/", "[a-z0-9_+-][a-z0-9._+-]{0,10}/", "", 3990..4110),
    ]
    .boxed()
}

fn socket_path() -> BoxedStrategy<String> {
    prop_oneof![
        4 => text("(/[A-Za-z0-9._+-]{1,16}){1,4}"),
        2 => (92usize..=100).prop_map(|n| format!("/run/haproxy/{}", "s".repeat(n - 13))),
    ]
    .boxed()
}

fn app_listen() -> BoxedStrategy<String> {
    prop_oneof![
        3 => text("unix:(/[A-Za-z0-9._+-]{1,16}){1,4}"),
        2 => (100usize..=110).prop_map(|n| format!("unix:/run/app/{}", "s".repeat(n - 9))),
        2 => text("127\\.0\\.0\\.[1-9]:80[0-9]{2}|\\[::1\\]:8000|8001"),
    ]
    .boxed()
}

fn release_path() -> BoxedStrategy<String> {
    prop_oneof![
        6 => text("[A-Za-z0-9._-]{1,16}(/[A-Za-z0-9._-]{1,16}){0,3}"),
        1 => long("p/", "[a-z0-9_-][a-z0-9._-]{0,10}/", "x.php", 3900..4110),
    ]
    .boxed()
}

fn command() -> BoxedStrategy<String> {
    let program = prop_oneof![
        text("\\./[A-Za-z0-9_-][A-Za-z0-9._-]{0,12}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,12}){0,2}"),
        text("(/[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,12}){1,3}"),
        text("[A-Za-z0-9_][A-Za-z0-9._+-]{0,12}"),
    ];
    let word = prop_oneof![
        text("[A-Za-z0-9%;=,.:@/_+#*!?&()<>|~^-]{1,12}"),
        text("'[^'\\\\$\\p{Cc}]{0,12}'"),
        text("\"[^\"\\\\$\\p{Cc}]{0,12}\""),
        text("[\\PC&&[^'\"\\\\$ ]]{1,8}"),
        Just("\";\"".to_string()),
    ];
    prop_oneof![
        8 => (" {0,2}", program, prop::collection::vec(word, 0..5), " {0,2}")
            .prop_map(|(a, p, w, b)| format!("{a}{p} {}{b}", w.join(" "))),
        1 => long("./server --x=", "[a-z0-9%=,.:-]{1,8}", "", 4080..4110),
    ]
    .boxed()
}

fn python_entry() -> BoxedStrategy<String> {
    prop_oneof![
        6 => text("[A-Za-z_][A-Za-z0-9_]{0,15}(\\.[A-Za-z_][A-Za-z0-9_]{0,15}){0,3}(:[A-Za-z_][A-Za-z0-9_]{0,15})?"),
        1 => long("a.", "[a-z_][a-z0-9_]{0,9}\\.", "b:app", 200..600),
    ]
    .boxed()
}

fn app_user() -> BoxedStrategy<String> {
    prop_oneof![
        12 => text("[a-z_][a-z0-9_-]{0,30}"),
        2 => Just("www-data".to_string()),
        1 => Just("root".to_string()),
        1 => text("[a-z_][a-z0-9_-]{31}"),
    ]
    .boxed()
}

fn env_value() -> BoxedStrategy<String> {
    prop_oneof![
        4 => text("[ -~]{0,40}"),
        2 => text("[\"'`$\\\\ #;=a]{1,8}"),
        3 => text("[\\PC\u{a0}\u{200b}\u{2028}\u{2029}\u{feff}\"'`$\\\\#;= ]{0,30}"),
        1 => long(" ", "[ -~]{1,16}", " ", 500..3000),
    ]
    .boxed()
}

fn label() -> BoxedStrategy<String> {
    prop_oneof![
        8 => text("[A-Za-z0-9_]([A-Za-z0-9_-]{0,14}[A-Za-z0-9_])?"),
        1 => text("[a-z0-9]([a-z0-9_-]{61}[a-z0-9])"),
    ]
    .boxed()
}

fn dns_name() -> BoxedStrategy<String> {
    prop_oneof![
        8 => (prop::collection::vec(label(), 1..4), any::<bool>())
            .prop_map(|(labels, dot)| format!("{}{}", labels.join("."), if dot { "." } else { "" })),
        1 => long("", "[a-z0-9]{63}\\.", "com", 240..256),
    ]
    .boxed()
}

fn server_name() -> BoxedStrategy<String> {
    prop_oneof![3 => dns_name(), 1 => dns_name().prop_map(|n| format!("*.{n}"))].boxed()
}

fn record_name() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just("@".to_string()),
        1 => Just("*".to_string()),
        4 => dns_name(),
        1 => dns_name().prop_map(|n| format!("*.{n}")),
    ]
    .boxed()
}

fn sql_name(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        14 => prop::collection::vec(text("[A-Za-z0-9_]"), 1..=max).prop_map(|c| c.concat()),
        1 => Just("a".repeat(max + 1)),
        1 => prop::sample::select(&["mysql", "Information_Schema", "sys", "ROOT", "Mysql"][..])
            .prop_map(str::to_string),
    ]
    .boxed()
}

/// The values of one topology, before the case's level decides which are hostile.
#[derive(Clone, Debug)]
struct Raws {
    domain: Raw,
    app_name: Option<Raw>,
    user: Option<Raw>,
    module: Option<Raw>,
    command: Raw,
    script: Option<Raw>,
    php_version: Option<Raw>,
    environment: Vec<(Raw, Raw)>,
    listen: Option<Raw>,
    password: Option<Raw>,
    server_names: Option<Vec<Raw>>,
    document_root: Option<Raw>,
    static_locations: Option<Vec<Raw>>,
    health_path: Option<Raw>,
    check_path: Option<Raw>,
    groups: Vec<Raw>,
    routes: Vec<(Raw, Index)>,
    stats_socket: Option<Raw>,
    db_name: Option<Raw>,
    db_user: Option<Raw>,
    records: Vec<Raw>,
}

fn raws() -> impl Strategy<Value = Raws> {
    let app = (
        raw(prop_oneof![3 => text("[a-z][a-z0-9-]{0,15}[a-z0-9]\\.(com|org|example)"), 1 => dns_name()].boxed()),
        opt(text("[a-z][a-z0-9-]{0,20}[a-z0-9]")),
        opt(app_user()),
        opt(python_entry()),
        raw(command()),
        opt(release_path()),
        opt(prop_oneof![8 => text("[0-9]{1,2}\\.[0-9]{1,2}"), 1 => text("[0-9]{3}\\.[0-9]")].boxed()),
        prop::collection::vec(
            (raw(text("[A-Za-z_][A-Za-z0-9_]{0,20}")), raw(env_value())),
            0..4,
        ),
    );
    let web = (
        opt(app_listen()),
        opt(env_value()),
        prop::option::of(prop::collection::vec(raw(server_name()), 0..4)),
        opt(abs_path()),
        prop::option::of(prop::collection::vec(raw(url_path(0)), 0..4)),
        opt(url_path(1)),
    );
    let lb = (
        opt(url_path(1)),
        prop::collection::vec(raw(text("[A-Za-z0-9._-]{1,20}|[a-z]{100,300}")), 0..3),
        prop::collection::vec((raw(url_path(1)), any::<Index>()), 0..3),
        opt(socket_path()),
    );
    let db = (
        opt(sql_name(64)),
        opt(sql_name(32)),
        prop::collection::vec(raw(record_name()), 0..4),
    );
    (app, web, lb, db).prop_map(|(app, web, lb, db)| Raws {
        domain: app.0,
        app_name: app.1,
        user: app.2,
        module: app.3,
        command: app.4,
        script: app.5,
        php_version: app.6,
        environment: app.7,
        listen: web.0,
        password: web.1,
        server_names: web.2,
        document_root: web.3,
        static_locations: web.4,
        health_path: web.5,
        check_path: lb.0,
        groups: lb.1,
        routes: lb.2,
        stats_socket: lb.3,
        db_name: db.0,
        db_user: db.1,
        records: db.2,
    })
}

/// One generated topology, with its values decided.
#[derive(Clone)]
struct Case {
    kind: AppKind,
    webs: usize,
    lb: bool,
    db: bool,
    /// `app.source` and `database.schema` point at files that exist.
    files: bool,
    /// Values YAML can hold unquoted are written unquoted (`8.10` is then a YAML number).
    plain: bool,
    domain: String,
    app_name: Option<String>,
    user: Option<String>,
    module: Option<String>,
    command: String,
    script: Option<String>,
    php_version: Option<String>,
    environment: Vec<(String, String)>,
    listen: Option<String>,
    /// `database.password.value` (with `insecure: true`) instead of `env`.
    password: Option<String>,
    server_names: Option<Vec<String>>,
    document_root: Option<String>,
    static_locations: Option<Vec<String>>,
    health_path: Option<String>,
    check_path: Option<String>,
    groups: Vec<String>,
    routes: Vec<(String, Index)>,
    stats_socket: Option<String>,
    db_name: Option<String>,
    db_user: Option<String>,
    records: Vec<String>,
}

fn cases() -> impl Strategy<Value = Case> {
    let kind = prop::sample::select(&[AppKind::Gunicorn, AppKind::PhpFpm, AppKind::Command][..]);
    // Out of 256: how likely each value is to get hostile pieces. Most cases are all edge
    // values or have one hostile value among them (so that most are accepted), some are hostile
    // all over (so that refusals are exercised too).
    let level = prop_oneof![9 => Just(0u8), 7 => Just(6u8), 4 => Just(64u8)];
    let shape = (
        kind,
        1usize..=2,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    (shape, level, raws()).prop_map(|((kind, webs, lb, db, files, plain), level, r)| {
        let v = |r: &Raw| r.value(level);
        let o = |r: &Option<Raw>| r.as_ref().map(|r| r.value(level));
        let all = |rs: &[Raw]| rs.iter().map(|r| r.value(level)).collect::<Vec<_>>();
        Case {
            kind,
            webs,
            lb,
            db,
            files,
            plain,
            domain: v(&r.domain),
            app_name: o(&r.app_name),
            user: o(&r.user),
            module: o(&r.module),
            command: v(&r.command),
            script: o(&r.script),
            php_version: o(&r.php_version),
            environment: r.environment.iter().map(|(k, x)| (v(k), v(x))).collect(),
            listen: o(&r.listen),
            password: o(&r.password),
            server_names: r.server_names.as_deref().map(all),
            document_root: o(&r.document_root),
            static_locations: r.static_locations.as_deref().map(all),
            health_path: o(&r.health_path),
            check_path: o(&r.check_path),
            groups: all(&r.groups),
            routes: r.routes.iter().map(|(p, g)| (v(p), *g)).collect(),
            stats_socket: o(&r.stats_socket),
            db_name: o(&r.db_name),
            db_user: o(&r.db_user),
            records: all(&r.records),
        }
    })
}

/// A YAML double-quoted scalar: every character as written, control characters escaped.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                write!(out, "\\u{:04X}", c as u32).unwrap();
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Case {
    fn scalar(&self, s: &str) -> String {
        let bare = s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/' || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./+-".contains(c));
        if self.plain && bare {
            s.to_string()
        } else {
            quoted(s)
        }
    }

    fn list(&self, items: &[String]) -> String {
        let items: Vec<String> = items.iter().map(|s| self.scalar(s)).collect();
        format!("[{}]", items.join(", "))
    }

    fn yaml(&self) -> String {
        let q = |s: &str| self.scalar(s);
        let mut y = String::new();
        let mut line = |l: String| {
            y.push_str(&l);
            y.push('\n');
        };
        line(format!("domain: {}", q(&self.domain)));
        line("hosts:".into());
        if self.lb {
            line("  lb-01: { address: 192.0.2.10, roles: [lb] }".into());
        }
        for i in 1..=self.webs {
            line(format!(
                "  web-0{i}: {{ address: 192.0.2.2{i}, roles: [web, app] }}"
            ));
        }
        if self.db {
            line("  db-01: { address: 192.0.2.30, roles: [db] }".into());
        }
        if self.lb {
            line("load_balancer:".into());
            if let Some(p) = &self.check_path {
                line(format!(
                    "  health_check: {{ path: {}, interval: 2s }}",
                    q(p)
                ));
            }
            if !self.groups.is_empty() {
                line("  groups:".into());
                for g in &self.groups {
                    line(format!("    {}: [web-01]", q(g)));
                }
                if !self.routes.is_empty() {
                    line("  routes:".into());
                    for (p, g) in &self.routes {
                        let group = &self.groups[g.index(self.groups.len())];
                        line(format!(
                            "    - {{ path_prefix: {}, group: {} }}",
                            q(p),
                            q(group)
                        ));
                    }
                }
            }
            if let Some(s) = &self.stats_socket {
                line(format!("  stats_socket: {}", q(s)));
            }
        }
        line("web:".into());
        line("  listen: 80".into());
        if let Some(names) = &self.server_names {
            line(format!("  server_names: {}", self.list(names)));
        }
        if let Some(r) = &self.document_root {
            line(format!("  document_root: {}", q(r)));
        }
        if let Some(l) = &self.static_locations {
            line(format!("  static_locations: {}", self.list(l)));
        }
        if let Some(p) = &self.health_path {
            line(format!("  health_path: {}", q(p)));
        }
        line("app:".into());
        let kind = AppKind::ALL
            .iter()
            .find(|(_, k)| *k == self.kind)
            .map_or("", |(n, _)| n);
        line(format!("  kind: {kind}"));
        for (key, value) in [
            ("name", &self.app_name),
            ("user", &self.user),
            ("listen", &self.listen),
            ("module", &self.module),
            ("script", &self.script),
            ("php_version", &self.php_version),
        ] {
            if let Some(v) = value {
                line(format!("  {key}: {}", q(v)));
            }
        }
        if self.kind == AppKind::Command {
            line(format!("  command: {}", q(&self.command)));
        }
        if !self.environment.is_empty() {
            line("  environment:".into());
            for (k, v) in &self.environment {
                line(format!("    {}: {}", q(k), q(v)));
            }
        }
        if self.files {
            line("  source: app".into());
        }
        if self.db {
            line("database:".into());
            match &self.password {
                Some(p) => line(format!("  password: {{ value: {}, insecure: true }}", q(p))),
                None => line("  password: { env: FOOBAR_DB_PASSWORD }".into()),
            }
            if let Some(n) = &self.db_name {
                line(format!("  name: {}", q(n)));
            }
            if let Some(u) = &self.db_user {
                line(format!("  user: {}", q(u)));
            }
            if self.files {
                line("  schema: app/schema.sql".into());
            }
        }
        if self.lb && !self.records.is_empty() {
            line("dns:".into());
            line("  records:".into());
            // The zone file's name server needs an address to load.
            line("    - { name: ns1, target: 192.0.2.53 }".into());
            for r in &self.records {
                line(format!("    - {{ name: {}, target: lb-01 }}", q(r)));
            }
        }
        y
    }

    /// The same topology with plain values: the same lists of the same lengths, so its files have
    /// the lines the generated values must not add to.
    fn with_plain_values(&self) -> Case {
        let each = |items: &[String], f: &dyn Fn(usize) -> String| {
            (0..items.len()).map(f).collect::<Vec<_>>()
        };
        Case {
            plain: false,
            domain: "example.org".into(),
            app_name: self.app_name.as_ref().map(|_| "site".into()),
            user: self.user.as_ref().map(|_| "svc".into()),
            module: self.module.as_ref().map(|_| "app:application".into()),
            command: "./server --x".into(),
            script: self.script.as_ref().map(|_| "index.php".into()),
            php_version: self.php_version.as_ref().map(|_| "8.2".into()),
            listen: None,
            password: None,
            environment: (0..self.environment.len())
                .map(|i| (format!("V{i}"), "v".into()))
                .collect(),
            server_names: self
                .server_names
                .as_deref()
                .map(|n| each(n, &|i| format!("s{i}.example.org"))),
            document_root: self.document_root.as_ref().map(|_| "/srv/root".into()),
            static_locations: self
                .static_locations
                .as_deref()
                .map(|l| each(l, &|i| format!("/s{i}/"))),
            health_path: self.health_path.as_ref().map(|_| "/healthz".into()),
            check_path: self.check_path.as_ref().map(|_| "/healthz".into()),
            groups: each(&self.groups, &|i| format!("g{i}")),
            routes: (self.routes.iter().enumerate())
                .map(|(i, (_, g))| (format!("/r{i}/"), *g))
                .collect(),
            stats_socket: self
                .stats_socket
                .as_ref()
                .map(|_| "/run/haproxy/admin.sock".into()),
            db_name: self.db_name.as_ref().map(|_| "appdb".into()),
            db_user: self.db_user.as_ref().map(|_| "appuser".into()),
            records: each(&self.records, &|i| format!("r{i}")),
            ..self.clone()
        }
    }
}

/// A failing case prints the topology as YAML, ready to save and run `validate` on.
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "\n---- generated topology ----\n{}----------------------------",
            self.yaml()
        )
    }
}

fn load(text: &str, dir: &Path) -> Loaded {
    let source = Source {
        name: "generated.yaml".into(),
        text: Arc::new(text.to_string()),
        base_dir: dir.to_path_buf(),
    };
    topology::load(source, &|k| {
        (k == "FOOBAR_DB_PASSWORD").then(|| "test-only-password".to_string())
    })
}

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

fn rendered(
    loaded: &Loaded,
    tera: &tera::Tera,
) -> Result<(Desired, Option<(String, String)>), TestCaseError> {
    let t = loaded
        .topology
        .as_ref()
        .ok_or_else(|| fail("accepted without a topology"))?;
    let desired = render::render(t, &loaded.source, tera, &Secrets::redacted())
        .map_err(|e| fail(format!("validate accepts it but render fails: {e}")))?;
    let zone = render::zone_file(t, tera).map_err(|e| {
        fail(format!(
            "validate accepts it but the zone does not render: {e}"
        ))
    })?;
    Ok((desired, zone))
}

/// One case: refused at locations, or rendered, checked and structurally sound.
fn property(
    case: Case,
    dir: &Path,
    tera: &tera::Tera,
    schema: &jsonschema::Validator,
    accepted: &AtomicUsize,
) -> Result<(), TestCaseError> {
    let text = case.yaml();
    let loaded = load(&text, dir);
    if loaded.has_errors() {
        for p in loaded.problems.iter().filter(|p| p.is_error()) {
            let span = p
                .span
                .ok_or_else(|| fail(format!("an error without a location: {p:?}")))?;
            prop_assert!(
                span.offset + span.len <= text.len(),
                "span inside the text: {p:?}"
            );
        }
        return Ok(());
    }
    accepted.fetch_add(1, Ordering::Relaxed);
    let doc: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| {
        fail(format!(
            "validate accepts it but it does not read as JSON: {e}"
        ))
    })?;
    let refusals: Vec<String> = schema
        .iter_errors(&doc)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    prop_assert!(
        refusals.is_empty(),
        "validate accepts it but the JSON Schema refuses it:\n{}",
        refusals.join("\n")
    );
    let (desired, zone) = rendered(&loaded, tera)?;
    let outcomes = check_configs::run(&desired, zone.as_ref())
        .map_err(|e| fail(format!("the checkers could not run: {e}")))?;
    for o in &outcomes {
        match &o.status {
            Status::Passed => {}
            Status::Failed(detail) => {
                return Err(fail(format!(
                    "validate accepts it but {} rejects {} of {}:\n{detail}",
                    o.checker, o.file, o.host
                )));
            }
            // named-checkzone is optional (scripts/setup does not install it): validate skips it.
            Status::Skipped(_) if o.checker == "named-checkzone" => {}
            Status::Skipped(why) => {
                return Err(fail(format!("a required checker is missing: {why}")));
            }
        }
    }
    let ran = |checker: &str| outcomes.iter().filter(|o| o.checker == checker).count();
    prop_assert_eq!(
        ran("haproxy"),
        usize::from(case.lb),
        "haproxy checked the lb host"
    );
    prop_assert_eq!(ran("nginx"), case.webs, "nginx checked every web host");
    prop_assert_eq!(
        ran("mariadbd"),
        usize::from(case.db),
        "mariadbd checked the db host"
    );
    let t = loaded.topology.as_ref().expect("rendered");
    same_lines_as_plain_values(&case, &loaded, &desired, zone.as_ref(), dir, tera)?;
    app_lines(t, &desired)?;
    password_lines(&loaded, tera, &desired)
}

/// Every file has exactly the lines it has with plain values, and no control character but the
/// line breaks of the template: no value added, split or ended a line.
fn same_lines_as_plain_values(
    case: &Case,
    accepted: &Loaded,
    desired: &Desired,
    zone: Option<&(String, String)>,
    dir: &Path,
    tera: &tera::Tera,
) -> Result<(), TestCaseError> {
    let plain = case.with_plain_values();
    let loaded = load(&plain.yaml(), dir);
    if loaded.has_errors() {
        return Err(fail(format!(
            "the test's plain values are refused: {:?}\n{plain:?}",
            loaded.problems
        )));
    }
    let (expected, expected_zone) = rendered(&loaded, tera)?;
    let mut files: Vec<(String, &str)> = Vec::new();
    let mut plain_files: Vec<&str> = Vec::new();
    prop_assert_eq!(desired.hosts.len(), expected.hosts.len());
    for (h, e) in desired.hosts.iter().zip(&expected.hosts) {
        let paths: Vec<&str> = h.files.iter().map(|f| f.path.as_str()).collect();
        prop_assert_eq!(
            h.files.len(),
            e.files.len(),
            "files of {}: {:?}",
            h.name,
            paths
        );
        files.extend(
            h.files
                .iter()
                .map(|f| (format!("{} of {}", f.path, h.name), f.content.as_str())),
        );
        plain_files.extend(e.files.iter().map(|f| f.content.as_str()));
    }
    if let (Some((name, text)), Some((_, plain_text))) = (zone, &expected_zone) {
        files.push((format!("the zone data {name}"), text));
        plain_files.push(plain_text);
    }
    let sql = |loaded: &Loaded| {
        let t = loaded.topology.as_ref().expect("accepted");
        render::bootstrap_sql(t, tera, &Secrets::redacted())
            .map_err(|e| fail(format!("the bootstrap SQL does not render: {e}")))
            .map(Option::unwrap_or_default)
    };
    let (bootstrap, plain_bootstrap) = (sql(accepted)?, sql(&loaded)?);
    files.push(("the bootstrap SQL".into(), &bootstrap));
    plain_files.push(&plain_bootstrap);
    for ((what, content), plain_content) in files.iter().zip(plain_files) {
        if let Some(c) = content.chars().find(|c| c.is_control() && *c != '\n') {
            return Err(fail(format!(
                "{what} holds the control character {c:?}:\n{content}"
            )));
        }
        prop_assert_eq!(
            content.lines().count(),
            plain_content.lines().count(),
            "{} has lines of its own:\n{}\n---- with plain values ----\n{}",
            what,
            content,
            plain_content
        );
    }
    Ok(())
}

/// The unit runs the command (or gunicorn with the module) on one `ExecStart=` line, and the
/// environment files read each value back as written (systemd's and php-fpm's double quotes:
/// `\"`, `\\` and `\$` stand for the character).
fn app_lines(t: &Topology, desired: &Desired) -> Result<(), TestCaseError> {
    let Some(app) = &t.app else {
        return Ok(());
    };
    let name = &app.name.value;
    for h in desired
        .hosts
        .iter()
        .filter(|h| h.roles.contains(&Role::App))
    {
        let file = |path: &str| {
            h.file(path)
                .map(|f| f.content.clone())
                .ok_or_else(|| fail(format!("{} has no {path}", h.name)))
        };
        if app.kind.value != AppKind::PhpFpm {
            let unit = file(&format!("/etc/systemd/system/{name}-app.service"))?;
            let exec: Vec<&str> = unit
                .lines()
                .filter(|l| l.starts_with("ExecStart="))
                .collect();
            let expected = match (&app.kind.value, &app.command) {
                (AppKind::Command, Some(c)) => {
                    let c = c.value.trim();
                    match c.strip_prefix("./") {
                        Some(rest) => format!("/srv/{name}/current/{rest}"),
                        None => c.to_string(),
                    }
                }
                _ => format!(
                    "/usr/bin/gunicorn --config /etc/{name}/gunicorn.conf.py {}",
                    app.module.value
                ),
            };
            prop_assert_eq!(exec.len(), 1, "one ExecStart= line:\n{}", unit);
            let written = exec[0]["ExecStart=".len()..].replace("%%", "%");
            prop_assert_eq!(written, expected, "ExecStart= runs the command as written");
            let env = file(&format!("/etc/{name}/app.env"))?;
            read_back(&env, &app.environment, |k| format!("{k}="))?;
        } else {
            let pool = h
                .files
                .iter()
                .find(|f| f.path.contains("/fpm/pool.d/"))
                .ok_or_else(|| fail(format!("{} has no php-fpm pool", h.name)))?;
            read_back(&pool.content, &app.environment, |k| format!("env[{k}] = "))?;
        }
    }
    Ok(())
}

/// The last lines of an environment file are the variables, one line each, quoted as written.
fn read_back(
    file: &str,
    environment: &[(topology::Sp<String>, topology::Sp<String>)],
    prefix: impl Fn(&str) -> String,
) -> Result<(), TestCaseError> {
    let lines: Vec<&str> = file.lines().collect();
    prop_assert!(lines.len() >= environment.len());
    let tail = &lines[lines.len() - environment.len()..];
    for ((k, v), line) in environment.iter().zip(tail) {
        let p = prefix(&k.value);
        let quoted = line
            .strip_prefix(p.as_str())
            .ok_or_else(|| fail(format!("`{p}` does not start the line {line:?}:\n{file}")))?;
        prop_assert_eq!(
            &env_unquoted(quoted)?,
            &v.value,
            "{} reads back as written",
            k.value
        );
    }
    Ok(())
}

/// A double-quoted environment value as systemd's EnvironmentFile reads it (and php-fpm, as the
/// README says): `\"`, `\\` and `\$` stand for the character; nothing may follow the quote, and
/// no `$` stands bare (php-fpm expands `${VAR}` in double quotes).
fn env_unquoted(quoted: &str) -> Result<String, TestCaseError> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .ok_or_else(|| fail(format!("{quoted:?} is not one double-quoted value")))?;
    let mut value = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\' | '$')) => value.push(e),
                e => return Err(fail(format!("a lone backslash before {e:?} in {quoted:?}"))),
            },
            '"' => return Err(fail(format!("an unescaped quote ends {quoted:?} early"))),
            '$' => {
                return Err(fail(format!(
                    "php-fpm would expand the bare `$` in {quoted:?}"
                )));
            }
            c => value.push(c),
        }
    }
    Ok(value)
}

/// A single-quoted SQL string at the start of `s`, as MariaDB reads it (`''` is a quote, `\\` a
/// backslash, `\0` NUL), and what follows it.
fn sql_unquoted(s: &str) -> Result<(String, &str), TestCaseError> {
    let inner = s
        .strip_prefix('\'')
        .ok_or_else(|| fail(format!("{s:?} does not start with a SQL string")))?;
    let mut value = String::new();
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if chars.peek().map(|p| p.1) == Some('\'') => {
                chars.next();
                value.push('\'');
            }
            '\'' => return Ok((value, &inner[i + 1..])),
            '\\' => match chars.next().map(|p| p.1) {
                Some('\\') => value.push('\\'),
                Some('0') => value.push('\0'),
                e => return Err(fail(format!("a backslash before {e:?} in {s:?}"))),
            },
            c => value.push(c),
        }
    }
    Err(fail(format!("the SQL string {s:?} is not closed")))
}

/// An inline password is written into app.env, the php-fpm pool and the bootstrap SQL when
/// rendered for `apply`: each reads it back as written, and the files keep the lines they have
/// with the placeholder.
fn password_lines(
    loaded: &Loaded,
    tera: &tera::Tera,
    redacted: &Desired,
) -> Result<(), TestCaseError> {
    let t = loaded.topology.as_ref().expect("accepted");
    let Some(SecretSource::Inline(password)) = t.database.as_ref().map(|d| &d.password.value)
    else {
        return Ok(());
    };
    let password = &password.value;
    let secrets = Secrets {
        db_password: Some(Secret::new(password.clone())),
        ..Secrets::default()
    };
    let desired = render::render(t, &loaded.source, tera, &secrets)
        .map_err(|e| fail(format!("render with the password fails: {e}")))?;
    let sql = |secrets: &Secrets| {
        render::bootstrap_sql(t, tera, secrets)
            .map_err(|e| fail(format!("the bootstrap SQL does not render: {e}")))
            .map(Option::unwrap_or_default)
    };
    let (bootstrap, placeholder) = (sql(&secrets)?, sql(&Secrets::redacted())?);
    let mut files = vec![("the bootstrap SQL".to_string(), &bootstrap, &placeholder)];
    for (h, r) in desired.hosts.iter().zip(&redacted.hosts) {
        for (f, rf) in h.files.iter().zip(&r.files) {
            files.push((format!("{} of {}", f.path, h.name), &f.content, &rf.content));
        }
    }
    let mut read = 0;
    for (what, content, placeholder) in files {
        if let Some(c) = content.chars().find(|c| c.is_control() && *c != '\n') {
            return Err(fail(format!("{what} holds {c:?} with the password")));
        }
        prop_assert_eq!(
            content.lines().count(),
            placeholder.lines().count(),
            "the password adds lines to {}:\n{}",
            what,
            content
        );
        for line in content.lines() {
            let env = (line.strip_prefix("DB_PASSWORD="))
                .or_else(|| line.strip_prefix("env[DB_PASSWORD] = "));
            if let Some(quoted) = env {
                prop_assert_eq!(&env_unquoted(quoted)?, password, "in {}", what);
                read += 1;
            }
            if let Some((_, sql)) = line.split_once(" IDENTIFIED BY ") {
                let (value, rest) = sql_unquoted(sql)?;
                prop_assert_eq!(&value, password, "in {}", what);
                prop_assert_eq!(rest, ";", "in {}", what);
                read += 1;
            }
        }
    }
    prop_assert!(read > 0, "the password was read back from some file");
    Ok(())
}

#[test]
fn accepted_topologies_render_and_pass_their_checkers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/app.py"),
        "def application(env, start): pass\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app/schema.sql"),
        "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY);\n",
    )
    .unwrap();
    let tera = render::templates::load(None).unwrap();
    let schema = jsonschema::draft202012::new(&topology::schema::json()).unwrap();
    let accepted = AtomicUsize::new(0);
    let config = ProptestConfig {
        // PROPTEST_CASES runs more (or fewer).
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(CASES),
        source_file: Some(file!()),
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&cases(), |case| {
        property(case, dir.path(), &tera, &schema, &accepted)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => panic!("{reason}\nminimal failing input:{case:?}"),
        Err(e) => panic!("{e}"),
    }
    // Not vacuous: a good share of the topologies got through to render and the checkers.
    let accepted = accepted.into_inner();
    eprintln!(
        "{accepted} of {} generated topologies accepted",
        runner.config().cases
    );
    assert!(
        accepted >= runner.config().cases as usize / 4,
        "only {accepted} of {} generated topologies were accepted",
        runner.config().cases
    );
}
