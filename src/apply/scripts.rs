//! The remote side of each apply step: POSIX shell scripts, every value quoted, data on stdin.
//! Scripts run under `set -eu`; a command whose failure must stop the step stands on its own
//! line (in an `a && b` list a failing `a` does not stop the script).

use crate::desired::{File, Validator};
use crate::observe::STATE_DIR;
use crate::transport::quote::{sh, words};

/// Suffix of a staged file, next to its target so that the swap is one rename.
pub const STAGED: &str = ".foobar-new";
/// The copy of nginx.conf that includes the staged files, for `nginx -t`.
pub const NGINX_CHECK: &str = "/etc/nginx/.foobar-check.conf";
pub const BACKUP_DIR: &str = "/var/lib/foobar-infra/backup";
/// Service actions owed by changes already made, kept until the services step has done them, so
/// that an interrupted or failed run does not lose a reload: the next probe reads them back.
pub const PENDING: &str = "/var/lib/foobar-infra/pending";
/// Exit code of the lock script when another run holds the lock.
pub const LOCK_HELD: i32 = 3;

pub fn lock() -> String {
    format!(
        "mkdir -p {STATE_DIR}\n\
         chmod 700 {STATE_DIR}\n\
         if mkdir {STATE_DIR}/lock 2>/dev/null; then\n\
           cat > {STATE_DIR}/lock/holder\n\
           printf 'locked\\n'\n\
         elif [ -d {STATE_DIR}/lock ]; then\n\
           printf 'held\\t'; cat {STATE_DIR}/lock/holder 2>/dev/null || printf 'unknown'; echo; exit {LOCK_HELD}\n\
         else\n\
           echo 'cannot create {STATE_DIR}/lock'; exit 1\n\
         fi\n"
    )
}

pub fn unlock() -> String {
    format!("rm -rf {STATE_DIR}/lock\n")
}

pub fn packages(names: &[String]) -> String {
    let pkgs = words(names.iter().map(String::as_str));
    // Wait on the package locks (another apt run, apt-daily at boot) rather than fail:
    // DPkg::Lock::Timeout covers dpkg's lock; `update` is retried while its lists lock is held.
    format!(
        "export DEBIAN_FRONTEND=noninteractive\n\
         o='-q -o DPkg::Lock::Timeout=600'\n\
         log=$(mktemp)\n\
         i=0\n\
         until apt-get $o update >\"$log\" 2>&1; do\n\
           i=$((i+1))\n\
           if grep -q 'Could not get lock' \"$log\" && [ $i -lt 120 ]; then sleep 5; continue; fi\n\
           echo 'apt-get update failed:'; tail -n 15 \"$log\"; rm -f \"$log\"; exit 5\n\
         done\n\
         if ! apt-get $o install -y --no-install-recommends {pkgs} >\"$log\" 2>&1; then\n\
           echo 'apt-get install failed:'; tail -n 20 \"$log\"; rm -f \"$log\"; exit 5\n\
         fi\n\
         rm -f \"$log\"\n"
    )
}

pub fn users(names: &[String]) -> String {
    names
        .iter()
        .map(|u| {
            let u = sh(u);
            format!(
                "if ! id -u {u} >/dev/null 2>&1; then\n  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin {u}\nfi\n"
            )
        })
        .collect()
}

/// Appends `service action` lines to the pending record, before the changes that owe them.
pub fn owe(actions: &[(String, &'static str)]) -> String {
    let mut s = format!("mkdir -p {STATE_DIR}\n");
    for (service, action) in actions {
        s.push_str(&format!(
            "printf '%s %s\\n' {} {} >> {PENDING}\n",
            sh(service),
            action
        ));
    }
    s
}

/// Clears the pending record once the services step has done its work.
pub fn settled() -> String {
    format!("rm -f {PENDING}\n")
}

/// Does what the pending record owes for services not in `done` (another run may have added
/// entries after this run's plan was made), then clears it: nothing owed is dropped unseen.
pub fn settle_pending(done: &[String]) -> String {
    let done = words(done.iter().map(String::as_str));
    format!(
        "if [ -f {PENDING} ]; then\n\
           while read -r svc action; do\n\
             case \" {done} \" in *\" $svc \"*) continue ;; esac\n\
             case \"$action\" in restart) systemctl restart \"$svc\" ;; *) systemctl reload \"$svc\" || systemctl restart \"$svc\" ;; esac\n\
           done < {PENDING}\n\
         fi\n\
         rm -f {PENDING}\n"
    )
}

/// Unpacks the release tar from stdin (once per content hash), then points `current` at it,
/// keeping the two releases before it.
pub fn release(root: &str, hash: &str, owed: &[(String, &'static str)]) -> String {
    let (root, rel) = (sh(root), sh(hash));
    format!(
        "mkdir -p {root}/releases\n\
         if [ ! -d {root}/releases/{rel} ]; then\n\
           tmp=$(mktemp -d {root}/releases/.incoming.XXXXXX)\n\
           tar -x -C \"$tmp\" --no-same-owner\n\
           chmod 755 \"$tmp\"\n\
           mv -T \"$tmp\" {root}/releases/{rel}\n\
         else\n\
           cat >/dev/null\n\
         fi\n\
         {owe}\
         prev=$(readlink {root}/current 2>/dev/null || true); prev=${{prev##*/}}\n\
         ln -sfn releases/{rel} {root}/.current.new\n\
         mv -T {root}/.current.new {root}/current\n\
         touch {root}/releases/{rel}\n\
         ls -1t {root}/releases | grep -v -x -e {rel} -e \"${{prev:-{rel}}}\" | tail -n +3 | while read -r old; do rm -rf {root}/releases/\"$old\"; done\n",
        owe = owe(owed)
    )
}

/// Points `current` back at an earlier release (a rollback).
pub fn release_back(root: &str, hash: &str) -> String {
    let (root, rel) = (sh(root), sh(hash));
    format!(
        "test -d {root}/releases/{rel}\nln -sfn releases/{rel} {root}/.current.new\nmv -T {root}/.current.new {root}/current\ntouch {root}/releases/{rel}\n"
    )
}

fn validate(f: &File) -> Option<String> {
    let staged = format!("{}{STAGED}", f.path);
    let s = sh(&staged);
    match f.validate? {
        Validator::Haproxy => Some(format!("haproxy -c -q -f {s}")),
        Validator::Mysql => Some(format!(
            "if command -v mariadbd >/dev/null 2>&1; then mariadbd --defaults-file={s} --help --verbose >/dev/null; else mysqld --defaults-file={s} --validate-config; fi"
        )),
        Validator::Bind if f.path.ends_with(".conf.local") || f.path.ends_with(".conf") => {
            Some(format!("named-checkconf {s}"))
        }
        Validator::Bind => {
            let zone = f
                .path
                .rsplit('/')
                .next()?
                .trim_start_matches("db.")
                .to_string();
            Some(format!("named-checkzone -q {} {s}", sh(&zone)))
        }
        Validator::PhpFpm | Validator::Systemd => None,
        // Checked once for all Nginx files, through the check copy of nginx.conf.
        Validator::Nginx => None,
    }
}

fn checker_name(f: &File) -> String {
    match f.validate {
        Some(Validator::Haproxy) => "haproxy -c".into(),
        Some(Validator::Mysql) => "mariadbd".into(),
        Some(Validator::Bind) => "named-checkconf".into(),
        _ => "check".into(),
    }
}

/// Stages the files of the tar on stdin next to their targets, sets owner and mode, checks each
/// with its service's own checker, and only if all pass, records the service actions they owe,
/// backs up and renames them into place. Prints `invalid\tPATH\tCHECKER` and the checker's
/// output when one fails (nothing swapped), `swapped\tPATH\tbackup|new` after each rename.
pub fn files(
    content: &[&File],
    attrs_only: &[&File],
    nginx_check: bool,
    owed: &[(String, &'static str)],
) -> String {
    let mut s = String::new();
    let staged: Vec<String> = content
        .iter()
        .map(|f| format!("{}{STAGED}", f.path))
        .collect();
    let mut cleanup = words(staged.iter().map(String::as_str));
    if nginx_check {
        cleanup.push(' ');
        cleanup.push_str(NGINX_CHECK);
    }
    s.push_str(&format!(
        "cleanup() {{ rm -f {cleanup}; }}\ntrap cleanup EXIT\n"
    ));
    if !content.is_empty() {
        for f in content {
            if let Some((dir, _)) = f.path.rsplit_once('/') {
                s.push_str(&format!(
                    "mkdir -p {}\n",
                    sh(if dir.is_empty() { "/" } else { dir })
                ));
            }
        }
        s.push_str("tar -x -C / --no-same-owner --no-overwrite-dir\n");
    }
    for (f, st) in content.iter().zip(&staged) {
        s.push_str(&format!(
            "chown {}:{} {}\nchmod {:o} {}\n",
            sh(&f.owner),
            sh(&f.group),
            sh(st),
            f.mode,
            sh(st)
        ));
    }
    let mut checks: Vec<(String, String, String)> = content
        .iter()
        .filter_map(|f| validate(f).map(|cmd| (f.path.clone(), checker_name(f), cmd)))
        .collect();
    if nginx_check {
        checks.push((
            "/etc/nginx/nginx.conf".into(),
            "nginx".into(),
            format!("nginx -t -q -c {NGINX_CHECK}"),
        ));
    }
    for (path, checker, cmd) in &checks {
        s.push_str(&format!(
            "if ! out=$({cmd} 2>&1); then printf 'invalid\\t%s\\t%s\\n' {} {}; printf '%s\\n' \"$out\"; exit 4; fi\n",
            sh(path),
            sh(checker)
        ));
    }
    s.push_str(&owe(owed));
    for (f, st) in content.iter().zip(&staged) {
        let t = sh(&f.path);
        // Backed up before, reported after: a `swapped` line means the rename happened.
        s.push_str(&format!(
            "if [ -e {t} ]; then\n  mkdir -p {BACKUP_DIR}$(dirname {t})\n  cp -p {t} {BACKUP_DIR}{t}\n  b=backup\nelse\n  b=new\nfi\n\
             mv -f {} {t}\n\
             printf 'swapped\\t%s\\t%s\\n' {t} \"$b\"\n",
            sh(st)
        ));
    }
    for f in attrs_only {
        let t = sh(&f.path);
        s.push_str(&format!(
            "chown {}:{} {t}\nchmod {:o} {t}\nprintf 'attrs\\t%s\\n' {t}\n",
            sh(&f.owner),
            sh(&f.group),
            f.mode
        ));
    }
    s
}

/// Puts back what `files` swapped: the backups, or removes files that were new. Every command
/// is its own line, so the first that fails stops the script and the rollback is not claimed.
pub fn rollback(swapped: &[(String, bool)]) -> String {
    let mut s = String::new();
    for (path, had_backup) in swapped {
        let t = sh(path);
        if *had_backup {
            s.push_str(&format!(
                "cp -p {BACKUP_DIR}{t} {t}{STAGED}\nmv -f {t}{STAGED} {t}\n"
            ));
        } else {
            s.push_str(&format!("rm -f {t}\n"));
        }
    }
    s
}

/// One service step: `enable`, `start` (restart when the package already started it),
/// `reload` (start when not running) or `restart`. Prints the unit's status on failure.
pub fn service(unit: &str, action: &str) -> String {
    let u = sh(unit);
    let cmd = match action {
        "enable" => format!("systemctl enable -q {u}"),
        "start" => format!(
            "if systemctl is-active -q {u}; then systemctl restart {u}; else systemctl start {u}; fi"
        ),
        // Nginx's reload returns before the new workers serve: wait until the old ones are gone
        // (at most 10 s), so that what follows (the health check) sees the new configuration.
        "reload" if unit == "nginx" || unit == "nginx.service" => format!(
            "if systemctl is-active -q {u}; then old=$(pgrep -P \"$(cat /run/nginx.pid 2>/dev/null || echo 0)\" || true); if systemctl reload {u}; then i=0; while [ $i -lt 100 ]; do alive=0; for p in $old; do if kill -0 \"$p\" 2>/dev/null; then alive=1; fi; done; [ $alive = 0 ] && break; i=$((i+1)); sleep 0.1; done; else false; fi; else systemctl start {u}; fi"
        ),
        "reload" => format!(
            "if systemctl is-active -q {u}; then systemctl reload {u}; else systemctl start {u}; fi"
        ),
        _ => format!("systemctl restart {u}"),
    };
    format!(
        "if ! {cmd}; then printf 'failed\\t%s\\n' {u}; systemctl status --no-pager -n 15 {u} 2>&1 | tail -n 20; exit 6; fi\n"
    )
}

/// Runs SQL from stdin as the database administrator (root over the local socket).
pub fn sql(database: Option<&str>) -> String {
    format!("mysql --batch {}\n", database.map(sh).unwrap_or_default())
}

pub fn schema_marker(db: &str, hash: &str) -> String {
    format!(
        "mkdir -p {STATE_DIR}\nprintf '%s' {} > {STATE_DIR}/schema-{}.sha256\n",
        sh(hash),
        sh(db)
    )
}

/// Polls an HTTP health endpoint on the host itself for at most 20 s. Healthy means three
/// answers of 200 in a row, half a second apart: a reload that has not taken effect yet (old
/// processes still answering) does not pass for the new configuration.
pub fn http_health(port: u16, path: &str, host_header: &str) -> String {
    let (header, path) = (sh(&format!("Host: {host_header}")), sh(path));
    format!(
        "end=$(($(date +%s) + 20))\n\
         ok=0\n\
         while [ $(date +%s) -lt $end ]; do\n\
           if curl -fsS -m 2 -o /dev/null -H {header} http://127.0.0.1:{port}{path} 2>/dev/null; then ok=$((ok+1)); else ok=0; fi\n\
           if [ $ok -ge 3 ]; then exit 0; fi\n\
           sleep 0.5\n\
         done\n\
         curl -sS -m 2 -o /dev/null -w 'last answer: HTTP %{{http_code}}\\n' -H {header} http://127.0.0.1:{port}{path} 2>&1 || true\n\
         exit 7\n"
    )
}

pub fn db_health() -> String {
    "end=$(($(date +%s) + 20))\n\
     while [ $(date +%s) -lt $end ]; do\n\
       if mysql -N -B -e 'SELECT 1' >/dev/null 2>&1; then exit 0; fi\n\
       sleep 0.25\n\
     done\n\
     mysql -N -B -e 'SELECT 1' 2>&1\n\
     exit 7\n"
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every script is valid shell (`sh -n`).
    #[test]
    fn scripts_parse() {
        let f = File {
            path: "/etc/nginx/conf.d/x y.conf".into(),
            template: String::new(),
            content: String::new(),
            sha256: String::new(),
            mode: 0o640,
            owner: "root".into(),
            group: "www-data".into(),
            sensitive: false,
            validate: Some(Validator::Nginx),
            notify: Vec::new(),
        };
        let owed = vec![("nginx".to_string(), "reload")];
        for script in [
            lock(),
            unlock(),
            packages(&["nginx".into()]),
            users(&["foobar".into()]),
            release("/srv/foobar", "abc", &owed),
            release_back("/srv/foobar", "abc"),
            files(&[&f], &[&f], true, &owed),
            rollback(&[("/etc/a".into(), true), ("/etc/b".into(), false)]),
            service("nginx", "reload"),
            sql(Some("foobar")),
            schema_marker("foobar", "abc"),
            http_health(80, "/healthz", "www.foobar.com"),
            db_health(),
            settled(),
            settle_pending(&["nginx".into()]),
        ] {
            let out = std::process::Command::new("sh")
                .args(["-n", "-c", &script])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{script}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[cfg(test)]
mod release_tests {
    use super::*;

    /// The release `current` pointed at before a switch survives pruning (a rollback needs it),
    /// and `release_back` returns to it.
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
        let run = |script: String| {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("set -eu\n{script}"))
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
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
        run(release_back(&root, "r1"));
        assert_eq!(
            std::fs::read_link(dir.path().join("current")).unwrap(),
            std::path::Path::new("releases/r1")
        );
    }
}
