//! The starter topology `init` writes: one load balancer, N web/app servers and one database
//! host, with comments saying what each part is and which values are placeholders to change.
//! Pure text; `commands::init` checks it with the loader before writing it.

use crate::topology::{AppKind, Engine};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// Where the database password is read from, relative to the topology's folder.
pub const PASSWORD_FILE: &str = "secrets/db-password";

/// The `.gitignore` line that keeps the password file's folder out of git.
pub const GITIGNORE_LINE: &str = "/secrets/";

/// What the starter is made of.
#[derive(Clone, Debug)]
pub struct Starter {
    /// A DNS name (checked by the caller).
    pub domain: String,
    /// Web/app servers, 1 to 99.
    pub web: u8,
    pub engine: Engine,
    pub app: AppKind,
}

/// The placeholder addresses: RFC 5737's documentation block, where nothing answers.
fn address(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, last)
}

fn name<T: Copy + PartialEq>(all: &[(&'static str, T)], value: T) -> &'static str {
    all.iter().find(|(_, v)| *v == value).map_or("", |(n, _)| n)
}

/// The web server's names: `www.DOMAIN` and `DOMAIN`, or the domain alone if it is a `www.` name.
fn server_names(domain: &str) -> String {
    if domain.starts_with("www.") {
        format!("[{domain}]")
    } else {
        format!("[www.{domain}, {domain}]")
    }
}

/// The `app` section for each application server.
fn app_section(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Gunicorn => {
            "\
app:
  kind: gunicorn
  module: app:application      # CHANGE: your WSGI entry point, module:callable
  workers: 2                   # per server
  # source: app                # CHANGE: the folder of your application's files, relative to
  #                            # this file; apply ships it to every server
  # packages: [python3-pymysql]  # the Debian packages your application imports
"
        }
        AppKind::PhpFpm => {
            "\
app:
  kind: php-fpm
  script: index.php            # CHANGE: your front controller, inside the application's files
  php_version: \"8.2\"           # Debian 12's PHP
  workers: 2                   # pm.max_children, per server
  # source: app                # CHANGE: the folder of your application's files, relative to
  #                            # this file; apply ships it to every server
"
        }
        AppKind::Command => {
            "\
app:
  kind: command
  command: ./server            # CHANGE: your program, inside the application's files (./PATH),
  #                            # or an absolute path; it listens where $LISTEN says (127.0.0.1:8000)
  # source: app                # CHANGE: the folder of your application's files, relative to
  #                            # this file; apply ships it to every server
"
        }
    }
}

fn servers(n: u8) -> &'static str {
    if n == 1 { "server" } else { "servers" }
}

/// What the starter holds, in a few words: `a load balancer, 2 web/app servers (gunicorn) and a
/// mariadb database`.
pub fn summary(s: &Starter) -> String {
    format!(
        "a load balancer, {} web/app {} ({}) and a {} database",
        s.web,
        servers(s.web),
        name(&AppKind::ALL, s.app),
        name(&Engine::ALL, s.engine)
    )
}

/// The starter topology's text.
pub fn topology(s: &Starter) -> String {
    let app = name(&AppKind::ALL, s.app);
    let engine = name(&Engine::ALL, s.engine);
    let servers = servers(s.web);
    let mut out = String::new();
    let _ = write!(
        out,
        "\
# A starter topology from `foobar-infra init`: one HAProxy load balancer in front of {web} {servers},
# each running Nginx in front of a {app} application server, and one {engine} host they share.
# `foobar-infra validate -i topology.yaml` accepts it as it is; the values marked CHANGE are
# placeholders for yours. Every key, its default and its rules: the README's topology reference.
domain: {domain}  # CHANGE: the site's domain

ssh:
  user: deploy                 # the login on every host, with passwordless sudo for `become`
  become: true                 # run remote commands through `sudo -n`
  # identity_file: ~/.ssh/id_ed25519
  # known_hosts: ~/.ssh/known_hosts

# CHANGE: every address. These are in 192.0.2.0/24, a block reserved for documentation where
# nothing answers: plan and apply reach no host until each has its real address.
hosts:
  lb-01:
    address: {lb}
    roles: [lb]
",
        web = s.web,
        domain = s.domain,
        lb = address(10),
    );
    for i in 1..=s.web {
        let _ = write!(
            out,
            "  web-{i:02}:\n    address: {}\n    roles: [web, app]\n",
            address(100 + i)
        );
    }
    let _ = write!(
        out,
        "  db-01:
    address: {db}
    roles: [db]

# Every host admits what its roles serve, from whom they serve it, and refuses the rest.
firewall:
  admin: [{admin}]  # CHANGE: the machines that run foobar-infra: SSH is admitted only from them

load_balancer:
  listen: [80]
  algorithm: roundrobin
  backends:
    - role: web                # every host with the web role

web:
  server_names: {names}
  health_path: /healthz        # CHANGE: a path your application answers 200 on; the load
  #                            # balancer checks every server there

{app_section}
database:
  engine: {engine}
  password:
    # Read from this file (one line, relative to this file): init wrote a random password
    # there, and .gitignore keeps the folder out of git. To read it from the environment
    # instead, write `env: VARIABLE` in place of `file:`. Never the password itself.
    file: {password}
  # schema: schema.sql         # SQL that creates your tables, loaded once by apply

# The www record on the load balancer, once foobar-infra manages your zone:
# dns:
#   records:
#     - name: www
#       target: lb-01
",
        db = address(20),
        admin = address(1),
        names = server_names(&s.domain),
        app_section = app_section(s.app),
        password = PASSWORD_FILE,
    );
    out
}

/// The `.gitignore` block that keeps the password out of git.
pub fn gitignore() -> String {
    format!("# The database password `foobar-infra init` wrote: never in git.\n{GITIGNORE_LINE}\n")
}

/// Whether a `.gitignore`'s text already ignores the password's folder.
pub fn ignores_secrets(gitignore: &str) -> bool {
    let bare = GITIGNORE_LINE.trim_matches('/');
    gitignore.lines().map(str::trim).any(|l| {
        let l = l.trim_start_matches('/').trim_end_matches('/');
        l == bare || l == format!("{bare}/*") || l == PASSWORD_FILE
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{self, Role, SecretSource, Source};
    use std::sync::Arc;

    fn load(s: &Starter) -> topology::Loaded {
        let source = Source {
            name: "topology.yaml".into(),
            text: Arc::new(topology(s)),
            base_dir: ".".into(),
        };
        topology::load(source, &|_| None)
    }

    fn starter(web: u8, engine: Engine, app: AppKind) -> Starter {
        Starter {
            domain: "example.com".into(),
            web,
            engine,
            app,
        }
    }

    /// Every choice loads without an error, and holds what was asked for.
    #[test]
    fn every_choice_loads_as_asked() {
        for (_, engine) in Engine::ALL {
            for (_, app) in AppKind::ALL {
                for web in [1, 2, 99] {
                    let loaded = load(&starter(web, engine, app));
                    let errors: Vec<_> = loaded.problems.iter().filter(|p| p.is_error()).collect();
                    assert!(errors.is_empty(), "{web} {engine:?} {app:?}: {errors:?}");
                    let t = loaded.topology.expect("a topology");
                    assert_eq!(t.hosts_with(Role::Web).count(), usize::from(web));
                    assert_eq!(t.hosts_with(Role::Lb).count(), 1);
                    assert_eq!(t.hosts_with(Role::Db).count(), 1);
                    let db = t.database.expect("a database");
                    assert_eq!(db.engine.value, engine);
                    assert!(
                        matches!(&db.password.value, SecretSource::File(f) if f.value == PASSWORD_FILE)
                    );
                    assert_eq!(t.app.expect("an app").kind.value, app);
                }
            }
        }
    }

    #[test]
    fn a_www_domain_is_its_own_server_name() {
        assert_eq!(server_names("www.example.org"), "[www.example.org]");
        assert_eq!(
            server_names("example.org"),
            "[www.example.org, example.org]"
        );
    }

    #[test]
    fn recognises_an_existing_ignore_of_the_secrets() {
        for ignored in [
            "/secrets/",
            "secrets/",
            "secrets",
            "  secrets/* ",
            "secrets/db-password",
        ] {
            assert!(
                ignores_secrets(&format!("target\n{ignored}\n")),
                "{ignored}"
            );
        }
        for not in [
            "",
            "target\n",
            "# secrets/\n",
            "other/secrets/\n",
            "!secrets/\n",
        ] {
            assert!(!ignores_secrets(not), "{not}");
        }
        assert!(ignores_secrets(&gitignore()));
    }
}
