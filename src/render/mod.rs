//! Topology -> Desired: every file of every host rendered from the tera templates, with the
//! packages, services, release and database objects that go with them.

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
        let ctx = view::for_host(&common, h);
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
        };
        let mut r = HostRenderer {
            tera,
            ctx: &ctx,
            host: &h.name.value,
            state: &mut state,
        };
        if h.has(Role::Db)
            && let Some(db) = &t.database
        {
            r.db(t, db, schema.clone())?;
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

fn notify(service: &str, action: Action) -> Vec<Notify> {
    vec![Notify {
        service: service.to_string(),
        action,
    }]
}

impl HostRenderer<'_> {
    fn file(&mut self, spec: FileSpec) -> Result<(), RenderError> {
        let content = render_one(self.tera, spec.template, self.ctx, self.host)?;
        self.state.files.push(File {
            sha256: hex::encode(Sha256::digest(content.as_bytes())),
            path: spec.path,
            template: spec.template.to_string(),
            content,
            mode: spec.mode,
            owner: spec.owner.to_string(),
            group: spec.group.to_string(),
            sensitive: spec.sensitive,
            validate: spec.validate,
            notify: spec.notify,
            create_only: spec.create_only,
            certificate: spec.certificate,
        });
        Ok(())
    }

    fn service(&mut self, name: &str) {
        self.state.services.push(Service {
            name: name.to_string(),
            enabled: true,
            running: true,
        });
    }

    fn packages(&mut self, names: impl IntoIterator<Item = String>) {
        for n in names {
            if !self.state.packages.contains(&n) {
                self.state.packages.push(n);
            }
        }
    }

    fn lb(&mut self, t: &Topology) -> Result<(), RenderError> {
        // socat speaks to the admin socket: verify reads server states, rolling changes drain.
        self.packages(["haproxy".to_string(), "socat".to_string()]);
        if let Some(tls) = view::tls_files(t) {
            // The chain is public; the key is HAProxy's alone (it reads it as root, before it
            // drops to its user). Either changing is a reload: the master starts new workers
            // with the new certificate while the old ones finish their connections.
            // The key goes beside the chain, where HAProxy looks for it: it is sensitive, and
            // only the chain is shown in plans (as a certificate, not a diff).
            for (path, template, key) in [
                (tls.certificate, "haproxy/certificate.pem.tera", false),
                (tls.key, "haproxy/certificate.key.tera", true),
            ] {
                self.file(FileSpec {
                    path,
                    template,
                    mode: if key { 0o600 } else { 0o644 },
                    owner: "root",
                    group: "root",
                    sensitive: key,
                    validate: Some(Validator::Haproxy),
                    notify: notify("haproxy", Action::Reload),
                    create_only: false,
                    certificate: !key,
                })?;
            }
        }
        self.file(FileSpec {
            path: HAPROXY_MAIN.into(),
            template: "haproxy/haproxy.cfg.tera",
            mode: 0o644,
            owner: "root",
            group: "root",
            sensitive: false,
            validate: Some(Validator::Haproxy),
            notify: notify("haproxy", Action::Reload),
            create_only: false,
            certificate: false,
        })?;
        self.service("haproxy");
        Ok(())
    }

    fn web(&mut self, t: &Topology) -> Result<(), RenderError> {
        self.packages(["nginx".to_string()]);
        let site = view::site_config_path(t);
        for (path, template) in [
            ("/etc/nginx/nginx.conf".to_string(), "nginx/nginx.conf.tera"),
            (site, "nginx/site.conf.tera"),
        ] {
            self.file(FileSpec {
                path,
                template,
                mode: 0o644,
                owner: "root",
                group: "root",
                sensitive: false,
                validate: Some(Validator::Nginx),
                notify: notify("nginx", Action::Reload),
                create_only: false,
                certificate: false,
            })?;
        }
        self.service("nginx");
        Ok(())
    }

    fn app(
        &mut self,
        app: &crate::topology::App,
        release: Option<&Release>,
    ) -> Result<(), RenderError> {
        let name = &app.name.value;
        let unit = format!("{name}-app.service");
        let env_file = format!("/etc/{name}/app.env");
        self.packages(app.packages.iter().map(|p| p.value.clone()));
        if !self.state.users.contains(&app.user.value) {
            self.state.users.push(app.user.value.clone());
        }
        match app.kind.value {
            AppKind::Gunicorn | AppKind::Command => {
                if app.kind.value == AppKind::Gunicorn {
                    self.packages(["gunicorn".to_string()]);
                }
                self.file(FileSpec {
                    path: env_file,
                    template: "app/app.env.tera",
                    mode: 0o640,
                    owner: "root",
                    group: &app.user.value,
                    sensitive: true,
                    validate: None,
                    notify: notify(&unit, Action::Restart),
                    create_only: false,
                    certificate: false,
                })?;
                if app.kind.value == AppKind::Gunicorn {
                    self.file(FileSpec {
                        path: format!("/etc/{name}/gunicorn.conf.py"),
                        template: "app/gunicorn.conf.py.tera",
                        mode: 0o644,
                        owner: "root",
                        group: "root",
                        sensitive: false,
                        validate: None,
                        notify: notify(&unit, Action::Reload),
                        create_only: false,
                        certificate: false,
                    })?;
                }
                let template = match app.kind.value {
                    AppKind::Gunicorn => "app/gunicorn.service.tera",
                    _ => "app/command.service.tera",
                };
                self.file(FileSpec {
                    path: format!("/etc/systemd/system/{unit}"),
                    template,
                    mode: 0o644,
                    owner: "root",
                    group: "root",
                    sensitive: false,
                    validate: Some(Validator::Systemd),
                    notify: notify(&unit, Action::Restart),
                    create_only: false,
                    certificate: false,
                })?;
                self.service(&unit);
            }
            AppKind::PhpFpm => {
                let v = &app.php_version;
                let fpm = format!("php{v}-fpm");
                self.packages([fpm.clone(), format!("php{v}-mysql")]);
                self.file(FileSpec {
                    path: format!("/etc/php/{v}/fpm/pool.d/{name}.conf"),
                    template: "app/php-fpm-pool.conf.tera",
                    mode: 0o640,
                    owner: "root",
                    group: "root",
                    sensitive: true,
                    validate: Some(Validator::PhpFpm),
                    notify: notify(&format!("{fpm}.service"), Action::Reload),
                    create_only: false,
                    certificate: false,
                })?;
                self.service(&format!("{fpm}.service"));
            }
        }
        // gunicorn re-imports the code on a reload (HUP), php-fpm on a reload, a `command` app
        // only on a restart.
        let (service, action) = match app.kind.value {
            AppKind::Gunicorn => (unit, Action::Reload),
            AppKind::Command => (unit, Action::Restart),
            AppKind::PhpFpm => (
                format!("php{}-fpm.service", app.php_version),
                Action::Reload,
            ),
        };
        self.state.release = release.cloned().map(|mut r| {
            r.notify = notify(&service, action);
            r
        });
        Ok(())
    }

    fn db(
        &mut self,
        t: &Topology,
        db: &crate::topology::Database,
        schema_sql: Option<SchemaSql>,
    ) -> Result<(), RenderError> {
        let (package, service, dir) = match db.engine.value {
            Engine::Mariadb => (
                "mariadb-server",
                "mariadb.service",
                "/etc/mysql/mariadb.conf.d",
            ),
            Engine::Mysql => ("mysql-server", "mysql.service", "/etc/mysql/mysql.conf.d"),
        };
        self.packages([package.to_string()]);
        self.file(FileSpec {
            path: format!("{dir}/60-foobar-infra.cnf"),
            template: "mysql/server.cnf.tera",
            mode: 0o644,
            owner: "root",
            group: "root",
            sensitive: false,
            validate: Some(Validator::Mysql),
            notify: notify(service, Action::Restart),
            create_only: false,
            certificate: false,
        })?;
        self.service(service);
        let bootstrap = render_one(self.tera, "mysql/bootstrap.sql.tera", self.ctx, self.host)?;
        self.state.database = Some(DatabaseState {
            engine: db.engine.value,
            name: db.name.value.clone(),
            user: db.user.value.clone(),
            port: db.port.value,
            clients: view::db_clients(t),
            privileges: view::DB_PRIVILEGES.to_vec(),
            password_from: crate::secret::describe(&db.password.value),
            bootstrap_template: "mysql/bootstrap.sql.tera".into(),
            schema: db.schema.as_ref().map(|s| s.value.clone()),
            bootstrap: Secret::new(bootstrap),
            schema_sql,
        });
        Ok(())
    }

    /// The zone's own server: BIND with the zone open to RFC 2136 updates signed with the key.
    /// The zone file is created once (SOA and NS only); the records arrive as updates.
    fn dns(&mut self, dns: &crate::topology::Dns) -> Result<(), RenderError> {
        self.packages(["bind9".to_string()]);
        let conf = |path: &str, template, mode, sensitive| FileSpec {
            path: path.into(),
            template,
            mode,
            owner: "root",
            group: "bind",
            sensitive,
            validate: Some(Validator::NamedConf),
            notify: notify("named.service", Action::Reload),
            create_only: false,
            certificate: false,
        };
        self.file(conf(
            "/etc/bind/named.conf.options",
            "dns/named.conf.options.tera",
            0o644,
            false,
        ))?;
        self.file(conf(view::TSIG_KEY_FILE, "dns/tsig.key.tera", 0o640, true))?;
        self.file(conf(
            "/etc/bind/named.conf.local",
            "dns/named.conf.local.tera",
            0o644,
            false,
        ))?;
        self.file(FileSpec {
            path: view::zone_file_path(&dns.zone.value),
            template: "dns/zone.initial.tera",
            mode: 0o644,
            owner: "bind",
            group: "bind",
            sensitive: false,
            validate: Some(Validator::NamedZone),
            notify: notify("named.service", Action::Reload),
            create_only: true,
            certificate: false,
        })?;
        self.service("named.service");
        Ok(())
    }
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
