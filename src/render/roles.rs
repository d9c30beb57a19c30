//! What each role puts on a host: its packages, files (rendered from their templates, with mode,
//! owner, checker and what they reload) and services.

use super::*;

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

    /// The firewall's ruleset and the unit that loads it. A new ruleset is a reload: one `nft -f`
    /// replaces the table in one transaction.
    pub(super) fn firewall(&mut self) -> Result<(), RenderError> {
        use crate::firewall::{RULES_FILE, UNIT};
        self.packages(["nftables".to_string()]);
        self.file(FileSpec {
            path: RULES_FILE.into(),
            template: "firewall/rules.nft.tera",
            mode: 0o644,
            owner: "root",
            group: "root",
            sensitive: false,
            validate: Some(Validator::Nft),
            notify: notify(UNIT, Action::Reload),
            create_only: false,
            certificate: false,
        })?;
        self.file(FileSpec {
            path: format!("/etc/systemd/system/{UNIT}"),
            template: "firewall/firewall.service.tera",
            mode: 0o644,
            owner: "root",
            group: "root",
            sensitive: false,
            validate: Some(Validator::Systemd),
            notify: notify(UNIT, Action::Reload),
            create_only: false,
            certificate: false,
        })?;
        self.service(UNIT);
        Ok(())
    }

    pub(super) fn lb(&mut self, t: &Topology) -> Result<(), RenderError> {
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
        if t.load_balancer.as_ref().is_some_and(|lb| lb.vip.is_some()) {
            // curl is the check keepalived runs against this host's HAProxy. A new file is a
            // reload (SIGHUP): keepalived re-reads it without giving up the VIP it holds.
            self.packages(["keepalived".to_string(), "curl".to_string()]);
            // The notify script keepalived runs as root: root's, and no one else may write it.
            self.file(FileSpec {
                path: crate::desired::KEEPALIVED_NOTIFY.into(),
                template: "keepalived/vrrp-state.sh.tera",
                mode: 0o755,
                owner: "root",
                group: "root",
                sensitive: false,
                validate: None,
                notify: Vec::new(),
                create_only: false,
                certificate: false,
            })?;
            self.file(FileSpec {
                path: KEEPALIVED_MAIN.into(),
                template: "keepalived/keepalived.conf.tera",
                mode: 0o644,
                owner: "root",
                group: "root",
                sensitive: false,
                validate: Some(Validator::Keepalived),
                notify: notify("keepalived.service", Action::Reload),
                create_only: false,
                certificate: false,
            })?;
            self.service("keepalived.service");
        }
        Ok(())
    }

    pub(super) fn web(&mut self, t: &Topology) -> Result<(), RenderError> {
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

    pub(super) fn app(
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

    pub(super) fn db(
        &mut self,
        t: &Topology,
        db: &crate::topology::Database,
        schema_sql: Option<SchemaSql>,
        replication_password: &str,
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
        let replication = db
            .replication
            .as_ref()
            .zip(t.db_primary())
            .map(|(r, primary)| {
                let host = t.host(self.host);
                crate::replication::Part {
                    user: r.user.value.clone(),
                    peers: host.map(|h| view::db_peers(t, h)).unwrap_or_default(),
                    primary: primary.name.value.clone(),
                    primary_address: primary.address.value.to_string(),
                    port: db.port.value,
                    replica: primary.name.value != self.host,
                    password: Secret::new(replication_password),
                }
            });
        // Replicas get the tables through replication, not from the schema file.
        let replica = replication.as_ref().is_some_and(|r| r.replica);
        let schema_sql = if replica { None } else { schema_sql };
        self.state.database = Some(DatabaseState {
            engine: db.engine.value,
            name: db.name.value.clone(),
            user: db.user.value.clone(),
            port: db.port.value,
            clients: view::db_clients(t),
            privileges: view::DB_PRIVILEGES.to_vec(),
            password_from: crate::secret::describe(&db.password.value),
            bootstrap_template: "mysql/bootstrap.sql.tera".into(),
            schema: db
                .schema
                .as_ref()
                .filter(|_| !replica)
                .map(|s| s.value.clone()),
            bootstrap: Secret::new(bootstrap),
            schema_sql,
            replication,
        });
        Ok(())
    }

    /// The zone's own server: BIND with the zone open to RFC 2136 updates signed with the key.
    /// The zone file is created once (SOA and NS only); the records arrive as updates.
    pub(super) fn dns(&mut self, dns: &crate::topology::Dns) -> Result<(), RenderError> {
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

#[cfg(test)]
mod tests {
    use crate::render::{self, Secrets};

    /// keepalived.conf of each load balancer of inventories/lab-ha.yaml.
    fn keepalived(edit: impl Fn(String) -> String) -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("inventories/lab-ha.yaml")).unwrap();
        // Without HTTPS: the lab's certificate exists only once `lab up` made it.
        let (head, rest) = text.split_once("  # HTTPS on 443").unwrap();
        let text = format!("{head}{}", &rest[rest.find("\napp:").unwrap()..]);
        let source = crate::topology::Source {
            name: "lab-ha.yaml".into(),
            text: std::sync::Arc::new(edit(text)),
            base_dir: root.join("inventories"),
        };
        let loaded = crate::topology::load(source, &|_| None);
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
        let t = loaded.topology.as_ref().unwrap();
        let tera = render::templates::load(None).unwrap();
        let desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
        desired
            .hosts
            .iter()
            .filter_map(|h| {
                let f = h.file(crate::desired::KEEPALIVED_MAIN)?;
                assert!(h.packages.contains(&"keepalived".to_string()));
                assert!(h.services.iter().any(|s| s.name == "keepalived.service"));
                Some((h.name.clone(), f.content.clone()))
            })
            .collect()
    }

    #[test]
    fn each_load_balancer_speaks_to_the_other_with_its_own_priority() {
        let all = keepalived(|t| t);
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["lb-01", "lb-02"]);
        let lb2 = &all[1].1;
        for line in [
            "vrrp_version 3",
            "enable_script_security",
            "state BACKUP",
            "priority 140",
            "advert_int 0.50",
            "nopreempt",
            "unicast_src_ip 10.89.7.11",
            "10.89.7.100/32 dev eth0",
            "--max-time 0.5 http://127.0.0.1:80/",
        ] {
            assert!(lb2.contains(line), "{line}: {lb2}");
        }
        let peers = lb2.split("unicast_peer {").nth(1).unwrap();
        let peers = peers.split('}').next().unwrap();
        assert_eq!(peers.split_whitespace().collect::<Vec<_>>(), ["10.89.7.10"]);
        assert!(all[0].1.contains("priority 150"));
        // preempt drops nopreempt; no VIP, no keepalived.
        let preempt = keepalived(|t| t.replace("preempt: false", "preempt: true"));
        assert!(!preempt[0].1.contains("nopreempt"));
        let none = keepalived(|t| {
            t.replace("  vip: 10.89.7.100\n", "")
                .replace("target: 10.89.7.100", "target: lb-01")
        });
        assert!(none.is_empty());
    }
}
