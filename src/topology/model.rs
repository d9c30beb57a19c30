//! The typed topology: what the YAML file says, with defaults filled in. Values that later checks
//! point at keep the span of their text.

use super::decode::Sp;
use serde::Serialize;
use std::net::IpAddr;

pub use super::failover::{Failover, Vip};
pub use super::tsig::TsigAlgorithm;

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
    pub firewall: Firewall,
}

/// `firewall`: an nftables table on every host, admitting what its roles serve.
#[derive(Clone, Debug)]
pub struct Firewall {
    pub enabled: bool,
    /// Where SSH is admitted from; `None`: from everywhere.
    pub admin: Option<Vec<Sp<AdminSource>>>,
    /// The section (the topology's first line when it is not written), for findings about it.
    pub span: super::Span,
}

/// One entry of `firewall.admin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminSource {
    Network(crate::net::Network),
    /// A host of the topology: its address.
    Host(String),
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
    /// A jump host (`[user@]host[:port]`) every connection goes through.
    pub jump: Option<Sp<JumpHost>>,
}

/// `[user@]host[:port]`, each part checked: no value of it is ever read by a shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    /// A DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: Option<u16>,
}

impl std::fmt::Display for JumpHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

impl JumpHost {
    /// Parses `[user@]host[:port]` (`[v6]:port` for IPv6 with a port). The user is a POSIX
    /// user name, the host a DNS name or an IP address, the port 1-65535.
    pub fn parse(text: &str) -> Result<JumpHost, &'static str> {
        let (user, rest) = match text.split_once('@') {
            Some((u, rest)) => (Some(u), rest),
            None => (None, text),
        };
        if let Some(u) = user {
            let mut chars = u.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
            let rest_ok = chars.all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            });
            if !first_ok || !rest_ok || u.len() > 32 {
                return Err(
                    "the user must be a user name (a-z, 0-9, _ . -, starting with a letter or _)",
                );
            }
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or("an IPv6 address needs its closing ]")?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err("only :PORT may follow [ADDRESS]"),
            };
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err("[...] must hold an IPv6 address");
            }
            (addr, port)
        } else if rest.parse::<std::net::Ipv6Addr>().is_ok() {
            (rest, None)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or("the port must be a number from 1 to 65535")?,
            ),
            None => None,
        };
        let is_ip = host.parse::<std::net::IpAddr>().is_ok();
        let is_name = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !is_ip && !is_name {
            return Err("the host must be a DNS name (letters, digits, - and .) or an IP address");
        }
        Ok(JumpHost {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        })
    }
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

    pub fn name(self) -> &'static str {
        Algorithm::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }
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

/// One HAProxy backend: the default one (`web`, from `backends`) or a group's (`group_NAME`).
#[derive(Clone, Copy, Debug)]
pub struct Backend<'a> {
    /// The group it comes from; `None` for the default backend.
    pub group: Option<&'a Group>,
    pub servers: &'a [ServerRef],
}

impl Backend<'_> {
    /// The name HAProxy knows it by.
    pub fn name(&self) -> String {
        match self.group {
            None => "web".to_string(),
            Some(g) => LoadBalancer::group_backend(&g.name.value),
        }
    }
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
    /// HTTPS at the load balancer.
    pub tls: Option<Tls>,
    /// The floating address keepalived moves between the `lb` hosts.
    pub vip: Option<Vip>,
    pub failover: Failover,
}

/// HTTPS at the load balancer: HAProxy terminates TLS with this certificate and key.
#[derive(Clone, Debug)]
pub struct Tls {
    /// PEM chain, leaf first, relative to the topology's folder.
    pub certificate: Sp<String>,
    pub key: Sp<SecretSource>,
    pub port: Sp<u16>,
    /// The CAs clients trust (PEM), for verify; none: the system's.
    pub trust: Option<Sp<String>>,
    pub redirect_http: bool,
    /// HSTS `max-age` in seconds; 0 sends no header.
    pub hsts_seconds: u32,
}

impl LoadBalancer {
    /// Every backend, in the order HAProxy's configuration has them: the default one, then one
    /// per group in file order.
    pub fn backends(&self) -> Vec<Backend<'_>> {
        std::iter::once(Backend {
            group: None,
            servers: &self.backends,
        })
        .chain(self.groups.iter().map(|g| Backend {
            group: Some(g),
            servers: &g.servers,
        }))
        .collect()
    }

    /// The backend a group is rendered as.
    pub fn group_backend(group: &str) -> String {
        format!("group_{group}")
    }
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

impl Engine {
    pub const ALL: [(&'static str, Engine); 2] =
        [("mariadb", Engine::Mariadb), ("mysql", Engine::Mysql)];
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
    /// `database.primary`: the host the replicas follow (default: the first `db` host).
    pub primary: Option<Sp<String>>,
    pub replication: Option<Replication>,
    /// SQL file (relative to the topology) run once by the administrator to create the tables.
    pub schema: Option<Sp<String>>,
}

/// `database.replication`: the account replicas connect to the primary with.
#[derive(Clone, Debug)]
pub struct Replication {
    pub user: Sp<String>,
    pub password: Sp<SecretSource>,
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
    /// How the records reach the world: RFC 2136 updates to a server, or only the rendered
    /// zone file.
    pub provider: Sp<DnsProvider>,
    /// The authoritative server updates go to: a host's name or `ADDRESS[:PORT]`. Defaults to
    /// the host with the `dns` role.
    pub server: Option<Sp<String>>,
    pub key: Option<TsigKey>,
    /// Delete records this tool wrote whose names the topology no longer lists.
    pub prune: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsProvider {
    Rfc2136,
    ZoneFile,
}

/// A TSIG key: its name as the server knows it, its algorithm, and where its secret (base64, as
/// `tsig-keygen` prints it) comes from.
#[derive(Clone, Debug)]
pub struct TsigKey {
    pub name: Sp<String>,
    pub algorithm: Sp<TsigAlgorithm>,
    pub secret: Sp<SecretSource>,
}

impl Topology {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name.value == name)
    }

    pub fn hosts_with(&self, role: Role) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(move |h| h.has(role))
    }

    /// The hosts the database user may connect from: `allowed_hosts`, or every app host.
    pub fn db_client_hosts(&self) -> Vec<&Host> {
        let Some(db) = &self.database else {
            return Vec::new();
        };
        if db.allowed_hosts.is_empty() {
            self.hosts_with(Role::App).collect()
        } else {
            db.allowed_hosts
                .iter()
                .filter_map(|n| self.host(n))
                .collect()
        }
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
