//! Topology -> Desired: every file of every host rendered from the tera templates, with the
//! packages, services, release and database objects that go with them.

mod firewall;
mod roles;
mod serving;
pub mod templates;
mod view;

use crate::desired::*;
use crate::input_file::read_text;
use crate::secret::{REDACTED, Secret};
use crate::topology::{AppKind, Engine, Role, Source, Topology};
use sha2::{Digest, Sha256};

/// The largest certificate chain read (a chain is a few kilobytes).
pub const MAX_CHAIN_BYTES: u64 = 1024 * 1024;

/// The largest `database.schema` read (it may hold seed data; a schema is kilobytes).
pub const MAX_SCHEMA_BYTES: u64 = 64 * 1024 * 1024;

/// Secrets for rendering: real values (plan, apply) or placeholders (render, validate).
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    pub db_password: Option<Secret>,
    /// The TSIG key's secret (base64), for the key file of the zone's own server.
    pub tsig: Option<Secret>,
    /// The load balancer's TLS private key (PEM).
    pub tls_key: Option<Secret>,
    /// The replication user's password.
    pub replication_password: Option<Secret>,
}

impl Secrets {
    /// Every secret shown as `(redacted)`: for `render` and `validate`.
    pub fn redacted() -> Secrets {
        Secrets::default()
    }

    fn db_password(&self) -> &str {
        self.db_password.as_ref().map_or(REDACTED, Secret::expose)
    }

    fn tsig(&self) -> &str {
        self.tsig.as_ref().map_or(REDACTED, Secret::expose)
    }

    fn replication_password(&self) -> &str {
        self.replication_password
            .as_ref()
            .map_or(REDACTED, Secret::expose)
    }

    fn tls_key(&self) -> &str {
        self.tls_key.as_ref().map_or(REDACTED, Secret::expose)
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RenderError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Templates(#[from] templates::TemplateError),
    #[error("rendering {template} for host {host} failed: {message}")]
    #[diagnostic(
        code(render::template),
        help(
            "a template uses a variable or filter that does not exist; see the template reference in the README"
        )
    )]
    Template {
        template: String,
        host: String,
        message: String,
    },
    #[error("cannot read the database schema {path}: {message}")]
    #[diagnostic(
        code(render::schema),
        help("database.schema is relative to the topology file's folder")
    )]
    Schema { path: String, message: String },
    #[error("cannot read the TLS certificate {path}: {message}")]
    #[diagnostic(
        code(render::certificate),
        help("load_balancer.tls.certificate is a PEM file relative to the topology file's folder")
    )]
    Certificate { path: String, message: String },
    #[error("cannot read the application files in {path}: {message}")]
    #[diagnostic(
        code(render::release),
        help("app.source is relative to the topology file's folder")
    )]
    Release { path: String, message: String },
}

/// Renders the desired state of every host. The topology must have passed `check`.
pub fn render(
    t: &Topology,
    source: &Source,
    tera: &tera::Tera,
    secrets: &Secrets,
) -> Result<Desired, RenderError> {
    let release = match t
        .app
        .as_ref()
        .and_then(|a| a.source.as_ref().map(|s| (a, s)))
    {
        Some((app, src)) => {
            let dir = source.base_dir.join(&src.value);
            let m = crate::release::scan(&dir).map_err(|e| RenderError::Release {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            Some(Release {
                app: app.name.value.clone(),
                source: dir.display().to_string(),
                sha256: m.sha256,
                files: m.entries.len(),
                bytes: m.bytes,
                root: format!("/srv/{}", app.name.value),
                owner: app.user.value.clone(),
                notify: Vec::new(),
            })
        }
        None => None,
    };
    let schema = match t.database.as_ref().and_then(|d| d.schema.as_ref()) {
        Some(rel) => {
            let path = source.base_dir.join(&rel.value);
            // Named by the topology: a regular file only, and bounded.
            let text = read_text(&path, MAX_SCHEMA_BYTES).map_err(|e| RenderError::Schema {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            Some(SchemaSql {
                sha256: hex::encode(Sha256::digest(text.as_bytes())),
                text,
            })
        }
        None => None,
    };
    let chain = match t.load_balancer.as_ref().and_then(|lb| lb.tls.as_ref()) {
        Some(tls) => {
            let path = crate::topology::local_path(&source.base_dir, &tls.certificate.value);
            Some(
                read_text(&path, MAX_CHAIN_BYTES).map_err(|e| RenderError::Certificate {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?,
            )
        }
        None => None,
    };
    let common = view::common(t, secrets, chain.as_deref());
    let mut hosts = Vec::with_capacity(t.hosts.len());
    for h in &t.hosts {
        let firewall = firewall::host_firewall(t, h);
        let ctx = view::for_host(t, &common, h, firewall.as_ref());
        let mut state = HostState {
            name: h.name.value.clone(),
            address: h.address.value.to_string(),
            roles: h.roles.iter().map(|r| r.value).collect(),
            packages: Vec::new(),
            users: Vec::new(),
            files: Vec::new(),
            services: Vec::new(),
            release: None,
            database: None,
            health: serving::health(t, h),
            memberships: serving::memberships(t, h),
            firewall: firewall.clone(),
            vip: t
                .load_balancer
                .as_ref()
                .and_then(|lb| lb.vip.as_ref())
                .filter(|_| h.has(Role::Lb))
                .map(|v| v.address.value.to_string()),
        };
        let mut r = HostRenderer {
            tera,
            ctx: &ctx,
            host: &h.name.value,
            state: &mut state,
        };
        // First: a host's firewall is up before what it guards starts.
        if firewall.is_some() {
            r.firewall()?;
        }
        if h.has(Role::Db)
            && let Some(db) = &t.database
        {
            r.db(t, db, schema.clone(), secrets.replication_password())?;
        }
        if h.has(Role::App)
            && let Some(app) = &t.app
        {
            r.app(app, release.as_ref())?;
        }
        if h.has(Role::Web) && t.web.is_some() {
            r.web(t)?;
        }
        if h.has(Role::Lb) && t.load_balancer.is_some() {
            r.lb(t)?;
        }
        if h.has(Role::Dns)
            && let Some(dns) = &t.dns
        {
            r.dns(dns)?;
        }
        mark_secret_holders(&mut state, secrets.db_password());
        mark_secret_holders(&mut state, secrets.tsig());
        mark_secret_holders(&mut state, secrets.tls_key());
        mark_secret_holders(&mut state, secrets.replication_password());
        hosts.push(state);
    }
    let https = t
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.tls.as_ref())
        .map(|tls| crate::desired::SiteHttps {
            // A client asks for a name: a wildcard's is asked as www.
            name: match serving::host_header(t) {
                n if n.starts_with("*.") => format!("www{}", &n[1..]),
                n => n,
            },
            port: tls.port.value,
            trust: tls.trust.as_ref().map(|p| {
                crate::topology::local_path(&source.base_dir, &p.value)
                    .display()
                    .to_string()
            }),
        });
    Ok(Desired {
        domain: t.domain.value.clone(),
        hosts,
        dns: view::zone(t),
        https,
    })
}

/// Shortest secret looked for in rendered files: a shorter one would match ordinary text.
const SECRET_MIN_LEN: usize = 4;

/// Any file that holds the secret's value (or its placeholder), whatever its template or path,
/// is sensitive: never diffed, never hashed into a saved plan, and not readable by others on the
/// host (a template override that writes the password into a 0644 file gets 0640).
fn mark_secret_holders(state: &mut HostState, secret: &str) {
    if secret.len() < SECRET_MIN_LEN {
        return;
    }
    for f in state
        .files
        .iter_mut()
        .filter(|f| f.content.contains(secret))
    {
        f.sensitive = true;
        f.mode &= !0o007;
    }
}

/// Renders the zone data on its own (for `render`, whether or not a host serves it).
pub fn zone_file(t: &Topology, tera: &tera::Tera) -> Result<Option<(String, String)>, RenderError> {
    let Some(dns) = &t.dns else { return Ok(None) };
    let common = view::common(t, &Secrets::redacted(), None);
    let ctx = tera::Context::from_value(common).unwrap_or_default();
    let text = render_one(tera, "dns/zone.tera", &ctx, "(zone)")?;
    Ok(Some((
        format!("db.{}", dns.zone.value.trim_end_matches('.')),
        text,
    )))
}

fn render_one(
    tera: &tera::Tera,
    template: &str,
    ctx: &tera::Context,
    host: &str,
) -> Result<String, RenderError> {
    tera.render(template, ctx)
        .map_err(|e| RenderError::Template {
            template: template.to_string(),
            host: host.to_string(),
            message: templates::error_chain(&e),
        })
}

struct HostRenderer<'a> {
    tera: &'a tera::Tera,
    ctx: &'a tera::Context,
    host: &'a str,
    state: &'a mut HostState,
}

struct FileSpec<'s> {
    path: String,
    template: &'s str,
    mode: u32,
    owner: &'s str,
    group: &'s str,
    sensitive: bool,
    validate: Option<Validator>,
    notify: Vec<Notify>,
    create_only: bool,
    /// A PEM certificate chain (see `File::certificate`).
    certificate: bool,
}

/// The bootstrap SQL for the database host, with the password as `secrets` gives it.
pub fn bootstrap_sql(
    t: &Topology,
    tera: &tera::Tera,
    secrets: &Secrets,
) -> Result<Option<String>, RenderError> {
    if t.database.is_none() {
        return Ok(None);
    }
    let ctx = tera::Context::from_value(view::common(t, secrets, None)).unwrap_or_default();
    render_one(tera, "mysql/bootstrap.sql.tera", &ctx, "(database)").map(Some)
}

/// An example topology of `examples/` rendered with redacted secrets, for tests.
#[cfg(test)]
pub fn example(name: &str) -> crate::desired::Desired {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let loaded =
        crate::topology::load(crate::topology::read(&path).unwrap(), &|_| Some("x".into()));
    let t = loaded.topology.as_ref().unwrap();
    let tera = templates::load(None).unwrap();
    render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap()
}
