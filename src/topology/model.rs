//! The typed topology: what the YAML file says, with defaults filled in. Values that later checks
//! point at keep the span of their text.

use super::decode::Sp;
use serde::Serialize;
use std::net::IpAddr;

#[derive(Clone, Debug)]
pub struct Topology {
    pub domain: Sp<String>,
    pub ssh: SshSettings,
    /// Hosts in file order.
    pub hosts: Vec<Host>,
    pub load_balancer: Option<LoadBalancer>,
    pub web: Option<Web>,
    pub app: Option<App>,
    pub database: Option<Database>,
    pub dns: Option<Dns>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Lb,
    Web,
    App,
    Db,
    Dns,
}

impl Role {
    pub const ALL: [(&'static str, Role); 5] = [
        ("lb", Role::Lb),
        ("web", Role::Web),
        ("app", Role::App),
        ("db", Role::Db),
        ("dns", Role::Dns),
    ];

    pub fn name(self) -> &'static str {
        Role::ALL
            .iter()
            .find(|(_, r)| *r == self)
            .map_or("?", |(n, _)| n)
    }
}

#[derive(Clone, Debug)]
pub struct Host {
    pub name: Sp<String>,
    pub address: Sp<IpAddr>,
    pub roles: Vec<Sp<Role>>,
    /// Per-host overrides of the topology's `ssh` settings.
    pub ssh_user: Option<Sp<String>>,
    pub ssh_port: Option<Sp<u16>>,
}

impl Host {
    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.value == role)
    }

    /// Where `role` is written in the host's roles (the host's name if it is not there).
    pub fn role_span(&self, role: Role) -> super::Span {
        self.roles
            .iter()
            .find(|r| r.value == role)
            .map_or(self.name.span, |r| r.span)
    }
}

/// How to reach the hosts. Defaults: user `root`, port 22, no `become`.
#[derive(Clone, Debug)]
pub struct SshSettings {
    pub user: Sp<String>,
    pub port: u16,
    pub identity_file: Option<Sp<String>>,
    pub known_hosts: Option<Sp<String>>,
    /// Run remote commands through `sudo -n`.
    pub become_: bool,
    /// A jump host (`user@host:port`), as for `ssh -J`.
    pub jump: Option<Sp<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Roundrobin,
    Leastconn,
    Source,
}

impl Algorithm {
    pub const ALL: [(&'static str, Algorithm); 3] = [
        ("roundrobin", Algorithm::Roundrobin),
        ("leastconn", Algorithm::Leastconn),
        ("source", Algorithm::Source),
    ];
}

#[derive(Clone, Debug)]
pub enum ServerSelector {
    Host(Sp<String>),
    Role(Sp<Role>),
}

/// A backend entry: one host, or every host of a role, with an optional weight.
#[derive(Clone, Debug)]
pub struct ServerRef {
    pub selector: ServerSelector,
    pub weight: Option<Sp<u32>>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: Sp<String>,
    pub servers: Vec<ServerRef>,
}

/// Requests whose path starts with `path_prefix` go to `group` instead of the default backends.
#[derive(Clone, Debug)]
pub struct Route {
    pub path_prefix: Sp<String>,
    pub group: Sp<String>,
}

#[derive(Clone, Debug)]
pub struct HealthCheck {
    pub path: Sp<String>,
    pub interval_ms: u64,
    pub rise: u32,
    pub fall: u32,
}

#[derive(Clone, Debug)]
pub struct LoadBalancer {
    pub listen: Vec<Sp<u16>>,
    pub algorithm: Algorithm,
    pub health_check: HealthCheck,
    pub backends: Vec<ServerRef>,
    pub groups: Vec<Group>,
    pub routes: Vec<Route>,
    pub timeout_connect_ms: u64,
    pub timeout_client_ms: u64,
    pub timeout_server_ms: u64,
    pub retries: u32,
    /// The admin socket used to drain and ready servers.
    pub stats_socket: String,
}

#[derive(Clone, Debug)]
pub struct Web {
    pub server_names: Vec<Sp<String>>,
    pub listen: Sp<u16>,
    pub document_root: Sp<String>,
    pub static_locations: Vec<Sp<String>>,
    pub health_path: Sp<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppKind {
    Gunicorn,
    PhpFpm,
    Command,
}

impl AppKind {
    pub const ALL: [(&'static str, AppKind); 3] = [
        ("gunicorn", AppKind::Gunicorn),
        ("php-fpm", AppKind::PhpFpm),
        ("command", AppKind::Command),
    ];
}

/// Where the application server listens on its host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    Tcp { address: IpAddr, port: u16 },
    Unix(String),
}

impl Listen {
    /// As Nginx and gunicorn write it: `127.0.0.1:8000` or `unix:/run/x.sock`.
    pub fn to_endpoint(&self) -> String {
        match self {
            Listen::Tcp {
                address: IpAddr::V6(a),
                port,
            } => format!("[{a}]:{port}"),
            Listen::Tcp { address, port } => format!("{address}:{port}"),
            Listen::Unix(path) => format!("unix:{path}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct App {
    pub name: Sp<String>,
    pub kind: Sp<AppKind>,
    pub listen: Sp<Listen>,
    pub workers: u32,
    /// gunicorn's WSGI entry point, `module:callable`.
    pub module: Sp<String>,
    /// The program a `command` app runs (from the release directory).
    pub command: Option<Sp<String>>,
    /// php-fpm's front controller, relative to the release directory.
    pub script: String,
    pub php_version: String,
    pub environment: Vec<(Sp<String>, Sp<String>)>,
    /// Directory of application files, relative to the topology file.
    pub source: Option<Sp<String>>,
    /// The system user the app runs as.
    pub user: Sp<String>,
    /// Extra Debian packages the app needs (e.g. python3-pymysql).
    pub packages: Vec<Sp<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Mysql,
    Mariadb,
}

/// Where a secret comes from. Secret values never live in the model.
#[derive(Clone, Debug)]
pub enum SecretSource {
    Env(Sp<String>),
    File(Sp<String>),
    /// Written in the topology itself; only accepted with `insecure: true`.
    Inline(Sp<String>),
}

#[derive(Clone, Debug)]
pub struct Database {
    pub engine: Sp<Engine>,
    pub name: Sp<String>,
    pub user: Sp<String>,
    pub password: Sp<SecretSource>,
    /// Hosts allowed to connect; defaults to every `app` host.
    pub allowed_hosts: Vec<Sp<String>>,
    /// Defaults to the database host's own address.
    pub bind_address: Option<Sp<IpAddr>>,
    pub port: Sp<u16>,
    pub server_id: u32,
    /// SQL file (relative to the topology) run once by the administrator to create the tables.
    pub schema: Option<Sp<String>>,
}

#[derive(Clone, Debug)]
pub enum Target {
    Host(String),
    Address(IpAddr),
}

#[derive(Clone, Debug)]
pub struct Record {
    /// Relative to the zone (`www`), or `@` for the apex.
    pub name: Sp<String>,
    pub target: Sp<Target>,
    pub ttl: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Dns {
    pub zone: Sp<String>,
    pub ttl: u32,
    pub records: Vec<Record>,
}

impl Topology {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name.value == name)
    }

    pub fn hosts_with(&self, role: Role) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(move |h| h.has(role))
    }

    /// Fully qualified name of a record in `zone`.
    pub fn record_fqdn(zone: &str, name: &str) -> String {
        let zone = zone.trim_end_matches('.');
        match name.trim_end_matches('.') {
            "@" | "" => zone.to_string(),
            n if name.ends_with('.') => n.to_string(),
            n => format!("{n}.{zone}"),
        }
    }
}
