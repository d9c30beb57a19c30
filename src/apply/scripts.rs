//! The remote side of each apply step: static scripts (`sh/*.sh`, compiled in) with the values
//! they work on as parameters. Data (files, releases, SQL) goes on stdin.

use super::protocol::{self, Checker};
use crate::desired::{Action, File, HttpCheck};
use crate::plan::ServiceAction;
use crate::remote::Script;

fn apply_script(name: &'static str, body: &'static str) -> Script {
    Script::new(name, body).library(protocol::library())
}

/// `UNIT ACTION` lines, as the pending record holds them.
fn owed_lines(owed: &[(String, Action)]) -> String {
    owed.iter()
        .map(|(unit, action)| format!("{unit} {}", action.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Takes the run's lock (the holder record on stdin) and clears leftovers of cut-off runs: the
/// release root's partial unpacks and the staged copies of `paths`.
pub fn lock(release_root: &str, paths: &[&str]) -> Script {
    apply_script("lock", include_str!("sh/lock.sh"))
        .arg(release_root)
        .args(paths.iter().map(|p| p.to_string()))
}

pub fn unlock(id: &str) -> Script {
    apply_script("unlock", include_str!("sh/unlock.sh")).arg(id)
}

pub fn heartbeat(id: &str) -> Script {
    apply_script("heartbeat", include_str!("sh/heartbeat.sh")).arg(id)
}

pub fn packages(names: &[String]) -> Script {
    apply_script("packages", include_str!("sh/packages.sh")).args(names.iter().cloned())
}

pub fn users(names: &[String]) -> Script {
    apply_script("users", include_str!("sh/users.sh")).args(names.iter().cloned())
}

/// Unpacks the release tar from stdin and points `current` at it.
pub fn release(root: &str, hash: &str, owed: &[(String, Action)]) -> Script {
    apply_script("release", include_str!("sh/release.sh"))
        .arg(root)
        .arg(hash)
        .arg(owed_lines(owed))
}

/// Stages, checks and swaps `content` (from the tar on stdin); sets owner and mode of
/// `attrs_only`.
pub fn files(
    content: &[&File],
    attrs_only: &[&File],
    nginx_check: bool,
    owed: &[(String, Action)],
) -> Script {
    let mut s = apply_script("files", include_str!("sh/files.sh"))
        .arg(if nginx_check { "1" } else { "0" })
        .arg(owed_lines(owed));
    let kinds = content
        .iter()
        .map(|f| (if f.create_only { "create" } else { "content" }, *f))
        .chain(attrs_only.iter().map(|f| ("attrs", *f)));
    for (kind, f) in kinds {
        s = s.args([
            kind.to_string(),
            f.path.clone(),
            f.owner.clone(),
            f.group.clone(),
            format!("{:o}", f.mode),
            Checker::of(f).as_str().to_string(),
        ]);
    }
    s
}

/// The planned service actions, in order; then what the pending record still owes.
pub fn services(
    daemon_reload: bool,
    planned: &[String],
    actions: &[(String, ServiceAction)],
) -> Script {
    let mut s = apply_script("services", include_str!("sh/services.sh"))
        .arg(if daemon_reload { "1" } else { "0" })
        .list(planned);
    for (unit, action) in actions {
        s = s.arg(unit.clone()).arg(action.as_str());
    }
    s
}

/// What a rollback puts back.
pub struct Restore<'a> {
    /// The app root and the release `current` pointed at before this run.
    pub release: Option<(&'a str, &'a str)>,
    /// Files renamed into place, and whether each had a live version backed up.
    pub swapped: &'a [(String, bool)],
    pub daemon_reload: bool,
    /// The services to bring back, with the action each needs.
    pub services: Vec<(String, Action)>,
}

pub fn rollback(r: &Restore) -> Script {
    let (root, from) = r.release.unwrap_or(("", ""));
    let mut s = apply_script("rollback", include_str!("sh/rollback.sh"))
        .arg(root)
        .arg(from)
        .arg(if r.daemon_reload { "1" } else { "0" })
        .arg(r.swapped.len().to_string());
    for (path, backup) in r.swapped {
        s = s
            .arg(if *backup { "backup" } else { "new" })
            .arg(path.clone());
    }
    for (unit, action) in &r.services {
        s = s.arg(unit.clone()).arg(action.as_str());
    }
    s
}

/// Runs SQL from stdin as the database administrator, in `database` when given.
pub fn sql(database: Option<&str>) -> Script {
    apply_script("sql", include_str!("sh/sql.sh")).args(database.map(str::to_string))
}

pub fn schema_marker(db: &str, hash: &str) -> Script {
    apply_script("schema-marker", include_str!("sh/schema_marker.sh"))
        .arg(db)
        .arg(hash)
}

pub fn http_health(check: &HttpCheck) -> Script {
    http_health_at("http-health", check, "127.0.0.1")
}

/// A backup load balancer's own check, on its own address (the one the VIP will be added to).
pub fn backup_health(check: &HttpCheck, address: &str) -> Script {
    http_health_at("backup-health", check, address)
}

fn http_health_at(name: &'static str, check: &HttpCheck, address: &str) -> Script {
    apply_script(name, include_str!("sh/http_health.sh"))
        .arg(check.port.to_string())
        .arg(check.path.clone())
        .arg(check.host_header.clone())
        .arg(if check.tls { "https" } else { "http" })
        .arg(address)
}

/// Arms timer `unit` (the script on stdin puts the server back unless the run does within
/// `after` seconds of its last renewal), drains `server` of `backend` on the admin socket, at
/// most `seconds` long, then MAINT.
pub fn drain(
    socket: &str,
    backend: &str,
    server: &str,
    seconds: u64,
    unit: &str,
    after: u64,
) -> Script {
    apply_script("drain", include_str!("sh/drain.sh"))
        .args([socket, backend, server])
        .arg(seconds.to_string())
        .arg(unit)
        .arg(format!("{after}s"))
}

/// Readies `server` of `backend` and waits at most `seconds` until HAProxy has it UP.
pub fn ready(socket: &str, backend: &str, server: &str, seconds: u64) -> Script {
    apply_script("ready", include_str!("sh/ready.sh"))
        .args([socket, backend, server])
        .arg(seconds.to_string())
}

/// The drill that cuts SSH: a second after it returns, the firewall's table `$1` drops every
/// packet to the SSH ports (established sessions too).
pub fn drill_cut_ssh(table: &str, ports: &[String]) -> Script {
    apply_script("drill", include_str!("sh/drill.sh"))
        .arg(table)
        .list(ports)
}

/// The host-side watchdog's restore (run by systemd if the run never confirms the host).
pub fn watchdog() -> Script {
    apply_script("watchdog", include_str!("sh/watchdog.sh"))
}

/// Arms timer `unit`: unless disarmed within `seconds`, systemd runs `action` (sent as text).
/// `journal`: the watchdog's change journal starts empty.
pub fn arm(unit: &str, seconds: u64, journal: bool) -> Script {
    apply_script("arm", include_str!("sh/arm.sh"))
        .arg(unit)
        .arg(format!("{seconds}s"))
        .arg(if journal { "journal" } else { "" })
}

/// Disarms timer `unit` (and ends the change journal with `journal`).
pub fn disarm(unit: &str, journal: bool) -> Script {
    apply_script("disarm", include_str!("sh/disarm.sh"))
        .arg(unit)
        .arg(if journal { "journal" } else { "" })
}

pub fn db_health() -> Script {
    apply_script("db-health", include_str!("sh/db_health.sh"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Validator;
    use crate::remote::script::tests::run_locally;

    fn file(path: &str, validate: Option<Validator>) -> File {
        File {
            path: path.into(),
            template: String::new(),
            content: String::new(),
            sha256: String::new(),
            mode: 0o640,
            owner: "root".into(),
            group: "www-data".into(),
            sensitive: false,
            validate,
            notify: Vec::new(),
            create_only: false,
            certificate: false,
        }
    }

    /// One of every script, with values that need quoting.
    fn every_script() -> Vec<Script> {
        let nginx = file("/etc/nginx/conf.d/x y.conf", Some(Validator::Nginx));
        let zone = file("/var/lib/bind/db.example.com", Some(Validator::NamedZone));
        let unit = file("/etc/systemd/system/app.service", Some(Validator::Systemd));
        let owed = vec![("nginx".to_string(), Action::Reload)];
        let swapped = vec![
            ("/etc/a".to_string(), true),
            ("/etc/b c".to_string(), false),
        ];
        vec![
            lock("/srv/foobar", &["/etc/a b", "/etc/c"]),
            unlock("0123abcd"),
            heartbeat("0123abcd"),
            packages(&["nginx".into()]),
            users(&["foobar".into()]),
            release("/srv/foobar", "abc", &owed),
            files(&[&nginx, &zone, &unit], &[&nginx], true, &owed),
            services(
                true,
                &["nginx".into()],
                &[("nginx".into(), ServiceAction::Reload)],
            ),
            rollback(&Restore {
                release: Some(("/srv/foobar", "abc")),
                swapped: &swapped,
                daemon_reload: true,
                services: owed.clone(),
            }),
            sql(Some("foobar")),
            schema_marker("foobar", "abc"),
            http_health(&HttpCheck {
                port: 80,
                path: "/healthz".into(),
                host_header: "www.foobar.com".into(),
                tls: false,
            }),
            db_health(),
            drain(
                "/run/haproxy/admin.sock",
                "web",
                "web-01",
                30,
                "foobar-infra-ready-x",
                90,
            ),
            watchdog(),
            drill_cut_ssh("foobar_infra", &["22".into(), "2222".into()]),
            arm("foobar-infra-watchdog", 120, true),
            disarm("foobar-infra-watchdog", true),
            ready("/run/haproxy/admin.sock", "web", "web-01", 10),
            crate::observe::fetch_script(&["/etc/a b".into(), "/etc/c".into()]),
            crate::observe::probe_script(&crate::desired::HostState {
                name: "h".into(),
                address: "10.0.0.1".into(),
                roles: Vec::new(),
                packages: vec!["nginx".into()],
                users: vec!["app".into()],
                files: vec![nginx.clone()],
                services: Vec::new(),
                release: None,
                database: None,
                health: Vec::new(),
                memberships: Vec::new(),
                firewall: None,
                vip: None,
            }),
        ]
    }

    /// Every script is valid shell (`sh -n`), and passes shellcheck (required in CI).
    #[test]
    fn every_script_is_valid_shell_and_passes_shellcheck() {
        for script in every_script() {
            crate::remote::script::tests::assert_valid_shell(&script);
        }
    }

    /// The release `current` pointed at before a switch survives pruning (a rollback needs it),
    /// and the rollback returns to it.
    #[test]
    fn pruning_keeps_the_release_a_rollback_returns_to() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let rel = |n: &str| dir.path().join("releases").join(n);
        for (i, n) in ["r1", "r2", "r3", "r4", "r5"].iter().enumerate() {
            std::fs::create_dir_all(rel(n)).unwrap();
            // r1 is the oldest by mtime, r5 the newest.
            let t = std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1_000_000 + i as u64 * 100);
            std::fs::File::open(rel(n))
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        std::os::unix::fs::symlink("releases/r1", dir.path().join("current")).unwrap();
        let run = |script: Script| {
            let out = run_locally(&script, b"");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(release(&root, "r5", &[]));
        assert!(
            rel("r1").is_dir(),
            "the previous release (a rollback target) is kept"
        );
        assert!(rel("r5").is_dir() && rel("r4").is_dir() && rel("r3").is_dir());
        assert!(!rel("r2").exists(), "older ones are pruned");
        run(rollback(&Restore {
            release: Some((&root, "r1")),
            swapped: &[],
            daemon_reload: false,
            services: Vec::new(),
        }));
        assert_eq!(
            std::fs::read_link(dir.path().join("current")).unwrap(),
            std::path::Path::new("releases/r1")
        );
    }
}
