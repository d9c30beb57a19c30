//! What each host should have: packages, files, services, the application release, database
//! objects and DNS records, and how to tell that it serves (health checks, its place behind the
//! load balancer). Plain data, produced by `render`; the whole contract with plan, apply and
//! verify, which never read the topology or the templates.

use crate::secret::Secret;
use serde::{Serialize, Serializer};

#[derive(Clone, Debug, Serialize)]
pub struct Desired {
    pub domain: String,
    pub hosts: Vec<HostState>,
    /// The managed DNS records, with host names resolved to addresses.
    pub dns: Option<Zone>,
    /// How clients reach the site over HTTPS, when the load balancers serve it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https: Option<SiteHttps>,
}

/// The site as an HTTPS client sees it: the name it asks for (SNI and certificate), the port, and
/// the CAs it trusts (a local PEM file; none: this machine's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteHttps {
    pub name: String,
    pub port: u16,
    pub trust: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostState {
    pub name: String,
    pub address: String,
    pub roles: Vec<crate::topology::Role>,
    pub packages: Vec<String>,
    /// System users the host's services run as (created without a login shell).
    pub users: Vec<String>,
    pub files: Vec<File>,
    pub services: Vec<Service>,
    pub release: Option<Release>,
    pub database: Option<DatabaseState>,
    /// What proves the host serves after a change, in order.
    #[serde(skip)]
    pub health: Vec<HealthCheck>,
    /// Where the host sits behind each load balancer (what a drain needs).
    #[serde(skip)]
    pub memberships: Vec<LbMembership>,
    /// What the host's firewall admits, when the topology has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firewall: Option<crate::firewall::HostFirewall>,
    /// On a load balancer that shares a floating address: that address (keepalived moves it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<String>,
}

/// A check run on the host itself after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthCheck {
    /// Nginx answers 200 at the path HAProxy checks.
    Web(HttpCheck),
    /// The load balancer answers 200 on its first listen port.
    LoadBalancer(HttpCheck),
    /// The database answers `SELECT 1` over the local socket.
    Database,
}

/// `GET http://127.0.0.1:PORT/PATH` with `Host: HOST_HEADER`: healthy is 200, three times in a
/// row (so old processes still answering after a reload do not pass for the new ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCheck {
    pub port: u16,
    pub path: String,
    pub host_header: String,
    /// Over HTTPS (the handshake must succeed; the certificate's trust is `validate`'s and
    /// `verify`'s to check, not this loopback probe's).
    pub tls: bool,
}

/// One server line of one load balancer that points at this host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbMembership {
    /// The load-balancer host.
    pub lb_host: String,
    pub backend: String,
    /// The server's name in the backend (the host's name).
    pub server: String,
    /// The HAProxy admin socket on the load-balancer host.
    pub admin_socket: String,
    /// How long HAProxy's checks take to see a ready server UP (interval x (rise + 1)).
    pub rise_ms: u64,
}

/// How a staged file is checked on the host before it replaces the live one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// `haproxy -c -f FILE`
    Haproxy,
    /// `nginx -t` on the main configuration that includes the file.
    Nginx,
    /// `mariadbd`/`mysqld` reading the option file.
    Mysql,
    /// `php-fpmX.Y -t`
    PhpFpm,
    /// `systemd-analyze verify`
    Systemd,
    /// `named-checkconf` on the whole configuration, with the staged files in place.
    NamedConf,
    /// `named-checkzone`
    NamedZone,
    /// `nft -c -f FILE`: the ruleset as the kernel would take it, without loading it.
    Nft,
    /// `keepalived --config-test -f FILE`: whatever it reports is a refusal.
    Keepalived,
}

/// What a change makes a service do; the stronger one wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Reload,
    Restart,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Reload => "reload",
            Action::Restart => "restart",
        }
    }
}

/// A file change makes `service` `action` (and systemd re-read units when `daemon_reload`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notify {
    pub service: String,
    pub action: Action,
}

#[derive(Clone, Debug, Serialize)]
pub struct File {
    /// Absolute path on the host.
    pub path: String,
    /// The template it was rendered from.
    pub template: String,
    #[serde(skip)]
    pub content: String,
    pub sha256: String,
    #[serde(serialize_with = "octal")]
    pub mode: u32,
    pub owner: String,
    pub group: String,
    /// Holds a secret: never shown in plans, diffs or logs.
    pub sensitive: bool,
    pub validate: Option<Validator>,
    pub notify: Vec<Notify>,
    /// Written only when missing, never rewritten: its service owns it afterwards (a dynamic
    /// zone's file, which named rewrites from its journal).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub create_only: bool,
    /// A PEM certificate chain: plans show it by fingerprint, subject, names and expiry rather
    /// than as a diff of base64.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub certificate: bool,
}

fn octal<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{mode:04o}"))
}

#[derive(Clone, Debug, Serialize)]
pub struct Service {
    /// systemd unit name.
    pub name: String,
    pub enabled: bool,
    pub running: bool,
}

/// The application files, shipped as one content-addressed release.
#[derive(Clone, Debug, Serialize)]
pub struct Release {
    pub app: String,
    /// Local directory the files come from.
    pub source: String,
    /// Content hash of the directory (paths, modes and contents).
    pub sha256: String,
    pub files: usize,
    pub bytes: u64,
    /// `/srv/APP`: releases live in `releases/HASH`, the live one is the `current` link.
    pub root: String,
    pub owner: String,
    /// What deploying a new release makes the app's service do (as `File::notify`).
    pub notify: Vec<Notify>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DatabaseState {
    pub engine: crate::topology::Engine,
    pub name: String,
    pub user: String,
    /// The TCP port the server listens on for the app hosts.
    pub port: u16,
    /// Addresses the application user may connect from.
    pub clients: Vec<String>,
    pub privileges: Vec<&'static str>,
    /// Where the password comes from (`env:VAR`, `file:PATH`, `inline`), never the value.
    pub password_from: String,
    /// The bootstrap SQL (rendered with the password redacted in manifests).
    pub bootstrap_template: String,
    pub schema: Option<String>,
    /// The bootstrap SQL itself: database, users, grants. Holds the password.
    #[serde(skip)]
    pub bootstrap: Secret,
    /// The schema file's text and hash, loaded once when it changed (the primary's only:
    /// replicas get the tables through replication).
    #[serde(skip)]
    pub schema_sql: Option<SchemaSql>,
    /// With replication: this host's part in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<ReplicationPart>,
}

/// A `db` host's part in replication, as rendered.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicationPart {
    /// The replication account.
    pub user: String,
    /// Where it may connect from: the other `db` hosts' addresses.
    pub peers: Vec<String>,
    /// The primary this host follows (its own name when it is the primary).
    pub primary: String,
    pub primary_address: String,
    pub port: u16,
    /// This host is a replica.
    pub replica: bool,
    /// The replication password: for the replica's `CHANGE MASTER TO` and the account's check.
    #[serde(skip)]
    pub password: Secret,
}

#[derive(Clone, Debug)]
pub struct SchemaSql {
    pub text: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Zone {
    pub zone: String,
    pub ttl: u32,
    pub records: Vec<DnsRecord>,
    pub provider: crate::topology::DnsProvider,
    /// Where updates and queries go (RFC 2136 only).
    pub server: Option<ZoneServer>,
    pub key: Option<ZoneKey>,
    /// Delete records this tool wrote whose names the topology no longer lists.
    pub prune: bool,
    /// The TXT record that lists the names this tool wrote.
    pub registry: String,
}

/// The TSIG key file the zone's own server includes.
pub const TSIG_KEY_FILE: &str = "/etc/bind/foobar-infra.key";

/// The zone's primary server: a topology host, or an address the topology names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneServer {
    pub host: Option<String>,
    pub address: std::net::SocketAddr,
}

impl std::fmt::Display for ZoneServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Some(h) => write!(f, "{h} ({})", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

/// The TSIG key, safe to show: its name, algorithm and where the secret comes from.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneKey {
    pub name: String,
    pub algorithm: crate::topology::TsigAlgorithm,
    pub secret_from: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DnsRecord {
    pub name: String,
    pub fqdn: String,
    pub address: String,
    pub ttl: u32,
}

/// The main Nginx configuration file every web host gets.
pub const NGINX_MAIN: &str = "/etc/nginx/nginx.conf";

/// HAProxy's configuration file every load-balancer host gets.
pub const HAPROXY_MAIN: &str = "/etc/haproxy/haproxy.cfg";

/// keepalived's configuration, on every load-balancer host when the topology has a VIP.
pub const KEEPALIVED_MAIN: &str = "/etc/keepalived/keepalived.conf";

/// The script keepalived runs on each VRRP state change; it writes the state to `VRRP_STATE`.
pub const KEEPALIVED_NOTIFY: &str = "/etc/keepalived/vrrp-state.sh";

/// keepalived's VRRP state as its last change left it (under /run: a reboot clears it).
pub const VRRP_STATE: &str = "/run/keepalived-vrrp.state";

impl HostState {
    /// The load balancer's own health check (what its HAProxy must answer), if it is one.
    pub fn lb_health(&self) -> Option<&HttpCheck> {
        self.health.iter().find_map(|c| match c {
            HealthCheck::LoadBalancer(http) => Some(http),
            _ => None,
        })
    }

    pub fn file(&self, path: &str) -> Option<&File> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The rendered nginx.conf with each `include` of another managed Nginx file pointed where
    /// `relocate` says (files it returns `None` for stay): `nginx -t` on the result checks
    /// rendered or staged files instead of the live ones.
    pub fn nginx_main_relocated(&self, relocate: impl Fn(&str) -> Option<String>) -> String {
        let mut text = self
            .file(NGINX_MAIN)
            .map(|f| f.content.clone())
            .unwrap_or_default();
        for f in self
            .files
            .iter()
            .filter(|f| f.validate == Some(Validator::Nginx) && f.path != NGINX_MAIN)
        {
            if let Some(to) = relocate(&f.path) {
                text = text.replace(&format!("include {};", f.path), &format!("include {to};"));
            }
        }
        text
    }
}

impl HostState {
    /// The rendered haproxy.cfg with its `crt-base` (the folder of the certificates it loads)
    /// moved under `root`: `haproxy -c` on the result loads the rendered certificates instead of
    /// the live ones.
    pub fn haproxy_main_relocated(&self, root: &str) -> String {
        let text = self
            .file(HAPROXY_MAIN)
            .map(|f| f.content.as_str())
            .unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let body = line.trim_start();
            match body.strip_prefix("crt-base ") {
                Some(dir) if dir.trim_start().starts_with('/') => {
                    let indent = &line[..line.len() - body.len()];
                    out.push_str(&format!("{indent}crt-base {root}{}", dir.trim_start()));
                }
                _ => out.push_str(line),
            }
        }
        out
    }
}

impl Desired {
    pub fn host(&self, name: &str) -> Option<&HostState> {
        self.hosts.iter().find(|h| h.name == name)
    }
}
