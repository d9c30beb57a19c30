//! Runs the real parsers on rendered files: `haproxy -c -f`, `nginx -t` on the full rendered Nginx
//! configuration, `mariadbd --defaults-file=F --help --verbose` (MySQL: `mysqld --validate-config`),
//! `nft -c -f` on firewall rulesets (as root: it asks the kernel), `systemd-analyze verify` on unit files (in the host's folder as its root, with a stand-in for
//! each program the unit runs, which comes with the release), and `named-checkzone` where
//! installed. HAProxy is checked on a copy of its configuration whose `crt-base` points at the
//! rendered certificates; when the key is redacted (`validate`, `render`), a throwaway
//! certificate and key stand in for the pair (whose match `validate` checks itself). Files are
//! written to a private temporary folder laid out
//! like the host's file system (by `safe_write::Tree`: the paths come from the topology, and
//! none may leave that folder); checker output names the host's paths, not the temporary ones.

use crate::desired::{Desired, HAPROXY_MAIN, HostState, Validator};
use crate::safe_write::Tree;
use serde::Serialize;
use std::path::PathBuf;
use std::process::Command;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "detail")]
pub enum Status {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub host: String,
    pub file: String,
    pub checker: String,
    #[serde(flatten)]
    pub status: Status,
}

/// Where a checker program is, looking in PATH and the sbin folders.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The Debian packages that provide each checker, for install hints.
pub fn install_hint(program: &str) -> String {
    let package = match program {
        "haproxy" => "haproxy",
        "nginx" => "nginx",
        "mariadbd" | "mysqld" => "mariadb-server",
        "named-checkzone" | "named-checkconf" => "bind9-utils",
        "systemd-analyze" => "systemd",
        "nft" => "nftables",
        other => other,
    };
    format!("{program} is not installed: apt-get install {package}")
}

/// Checks every validatable file of every host. `zone` is the rendered zone data, if any.
pub fn run(
    desired: &Desired,
    zone: Option<&(String, String)>,
) -> Result<Vec<Outcome>, crate::Error> {
    let tmp = tempfile::Builder::new()
        .prefix("foobar-infra-check-")
        .tempdir()
        .map_err(|source| crate::Error::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let tree = Tree::open(tmp.path())?;
    let mut jobs: Vec<Job> = Vec::new();
    for h in &desired.hosts {
        for f in &h.files {
            tree.write(&[&h.name, &f.path], f.content.as_bytes(), 0o644)?;
        }
        stand_in_certificates(h, &tree)?;
        jobs.extend(jobs_for(h, &tree)?);
    }
    if let Some((name, text)) = zone
        && let Some(z) = &desired.dns
    {
        let p = tree.write(&["_dns", name], text.as_bytes(), 0o644)?;
        let args = vec![z.zone.clone(), p.display().to_string()];
        jobs.push(Job {
            host: "(zone)".into(),
            file: name.clone(),
            program: "named-checkzone",
            args,
            strip: tmp.path().join("_dns").display().to_string(),
        });
    }
    let outcomes = std::thread::scope(|s| {
        let handles: Vec<_> = jobs.iter().map(|j| s.spawn(move || j.run())).collect();
        handles
            .into_iter()
            .zip(&jobs)
            .map(|(h, j)| {
                h.join()
                    .unwrap_or_else(|_| j.outcome(Status::Failed("checker thread panicked".into())))
            })
            .collect()
    });
    Ok(outcomes)
}

struct Job {
    host: String,
    file: String,
    program: &'static str,
    args: Vec<String>,
    /// The temporary prefix to remove from the checker's output.
    strip: String,
}

impl Job {
    fn outcome(&self, status: Status) -> Outcome {
        Outcome {
            host: self.host.clone(),
            file: self.file.clone(),
            checker: self.program.to_string(),
            status,
        }
    }

    fn run(&self) -> Outcome {
        let Some(program) = which(self.program) else {
            return self.outcome(Status::Skipped(install_hint(self.program)));
        };
        let mut command = Command::new(program);
        command.args(&self.args);
        if self.program == "keepalived" {
            // keepalived 2.2.7's config test ends its process group with SIGTERM when a script
            // user is set (acassen/keepalived#2617): a group of its own, and its output decides.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
        }
        match command.output() {
            Ok(out) => {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
                .replace(&self.strip, "");
                // keepalived's verdict is its output, as on the host (files.sh): a good file
                // prints nothing, and a warning refuses it here as it does there.
                let keepalived = self.program == "keepalived";
                let keepalived_passed = keepalived
                    && text.trim().is_empty()
                    && (out.status.success()
                        || std::os::unix::process::ExitStatusExt::signal(&out.status) == Some(15));
                if (out.status.success() && !keepalived) || keepalived_passed {
                    self.outcome(Status::Passed)
                } else if self.program == "nft" && text.contains("Operation not permitted") {
                    // `nft -c` asks the kernel to check the ruleset: that takes CAP_NET_ADMIN.
                    self.outcome(Status::Skipped(
                        "nft -c asks the kernel and needs root here; apply checks the ruleset on the host before loading it".into(),
                    ))
                } else {
                    self.outcome(Status::Failed(relevant_lines(&text)))
                }
            }
            Err(e) => self.outcome(Status::Failed(format!(
                "could not run {}: {e}",
                self.program
            ))),
        }
    }
}

/// Checker output without the noise (mariadbd's help text, rlimit warnings).
fn relevant_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            (l.contains("error")
                || l.contains("emerg")
                || l.contains("alert")
                || l.contains("fatal")
                || l.contains("unknown"))
                && !l.contains("max_open_files")
        })
        .collect();
    if lines.is_empty() {
        text.lines()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        lines.join("\n")
    }
}

fn jobs_for(h: &HostState, tree: &Tree) -> Result<Vec<Job>, crate::Error> {
    let root = tree.join(&[&h.name])?;
    let strip = root.display().to_string();
    let mut jobs = Vec::new();
    let mut nginx_done = false;
    let mut haproxy_done = false;
    for f in &h.files {
        let path = tree.join(&[&h.name, &f.path])?.display().to_string();
        let job = |program, args: Vec<String>| Job {
            host: h.name.clone(),
            file: f.path.clone(),
            program,
            args,
            strip: strip.clone(),
        };
        match f.validate {
            // The certificates are checked as haproxy.cfg loads them: one check for all.
            Some(Validator::Haproxy) if !haproxy_done => {
                haproxy_done = true;
                let text = h.haproxy_main_relocated(&strip);
                let main = tree.write(
                    &[&h.name, "/etc/haproxy/haproxy.check.cfg"],
                    text.as_bytes(),
                    0o644,
                )?;
                let mut j = job(
                    "haproxy",
                    vec!["-c".into(), "-f".into(), main.display().to_string()],
                );
                j.file = HAPROXY_MAIN.into();
                jobs.push(j);
            }
            Some(Validator::Nginx) if !nginx_done => {
                nginx_done = true;
                let main = nginx_main(h, tree)?;
                let error_log = root.join("nginx-check-error.log").display().to_string();
                let mut j = job(
                    "nginx",
                    vec![
                        "-t".into(),
                        "-q".into(),
                        "-e".into(),
                        error_log,
                        "-c".into(),
                        main,
                    ],
                );
                j.file = "/etc/nginx/nginx.conf".into();
                jobs.push(j);
            }
            Some(Validator::Mysql) => {
                if which("mariadbd").is_some() || which("mysqld").is_none() {
                    jobs.push(job(
                        "mariadbd",
                        vec![
                            format!("--defaults-file={path}"),
                            "--help".into(),
                            "--verbose".into(),
                        ],
                    ));
                } else {
                    jobs.push(job(
                        "mysqld",
                        vec![
                            format!("--defaults-file={path}"),
                            "--validate-config".into(),
                        ],
                    ));
                }
            }
            Some(Validator::Nft) => jobs.push(job("nft", vec!["-c".into(), "-f".into(), path])),
            Some(Validator::Keepalived) => jobs.push(job(
                "keepalived",
                vec!["--config-test".into(), format!("--use-file={path}")],
            )),
            Some(Validator::Systemd) => {
                // The programs a unit runs come with the release or packages, not with render:
                // an empty executable stands in for each, inside the host's folder only.
                for program in unit_programs(&f.content) {
                    if tree.join(&[&h.name, &program]).is_ok_and(|p| !p.exists()) {
                        tree.write(&[&h.name, &program], b"#!/bin/sh\n", 0o755)?;
                    }
                }
                jobs.push(job(
                    "systemd-analyze",
                    vec![
                        "verify".into(),
                        "--man=no".into(),
                        "--recursive-errors=no".into(),
                        format!("--root={strip}"),
                        f.path.clone(),
                    ],
                ));
            }
            _ => {}
        }
    }
    Ok(jobs)
}

/// The programs of a unit's `Exec*=` lines (after systemd's `@-:+!` prefixes), as absolute
/// paths: a bare name as it would be found in /usr/bin.
fn unit_programs(unit: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            key.trim().starts_with("Exec").then_some(value)
        })
        .filter_map(|v| {
            let word = v.split_whitespace().next()?;
            let program = word.trim_start_matches(['@', '-', ':', '+', '!']);
            // A bare name is looked up in systemd's executable path; /usr/bin is one of it.
            if program.starts_with('/') {
                Some(program.to_string())
            } else {
                (!program.is_empty() && !program.contains('/'))
                    .then(|| format!("/usr/bin/{program}"))
            }
        })
        .collect()
}

/// A key file that holds the redacted placeholder cannot be loaded: a throwaway certificate and
/// key take the place of the pair, so that the rest of the configuration is still checked.
fn stand_in_certificates(h: &HostState, tree: &Tree) -> Result<(), crate::Error> {
    for f in h.files.iter().filter(|f| {
        f.validate == Some(Validator::Haproxy)
            && f.sensitive
            && f.content.trim() == crate::secret::REDACTED
    }) {
        let Some(chain) = f.path.strip_suffix(".key") else {
            continue;
        };
        let (certificate, key) = crate::certificate::stand_in();
        tree.write(&[&h.name, chain], certificate.as_bytes(), 0o644)?;
        tree.write(&[&h.name, &f.path], key.as_bytes(), 0o600)?;
    }
    Ok(())
}

/// Writes a copy of the host's nginx.conf whose includes of managed files point into the host's
/// folder, so `nginx -t` reads the rendered files rather than the machine's own.
fn nginx_main(h: &HostState, tree: &Tree) -> Result<String, crate::Error> {
    let text = h.nginx_main_relocated(|path| {
        tree.join(&[&h.name, path])
            .ok()
            .map(|p| p.display().to_string())
    });
    let p = tree.write(
        &[&h.name, "/etc/nginx/nginx.check.conf"],
        text.as_bytes(),
        0o644,
    )?;
    Ok(p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_programs_are_found_as_systemd_would() {
        let unit = "[Service]\nExecStartPre=-/usr/bin/true --x\nExecStart=/srv/app/current/server --port 8000\nExecReload=kill -HUP $MAINPID\n";
        assert_eq!(
            unit_programs(unit),
            ["/usr/bin/true", "/srv/app/current/server", "/usr/bin/kill"]
        );
    }
    use crate::render::{self, Secrets};
    use crate::topology;

    fn minimal() -> Desired {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal.yaml");
        let loaded = topology::load(topology::read(&path).unwrap(), &|_| None);
        let t = loaded.topology.as_ref().unwrap();
        let tera = render::templates::load(None).unwrap();
        render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap()
    }

    /// A host path that climbs out of the temporary folder is refused, not written.
    #[test]
    fn a_path_leaving_the_temporary_folder_is_refused() {
        let mut desired = minimal();
        let escape = format!(
            "/../../../../../../../../{}/escaped.conf",
            env!("CARGO_MANIFEST_DIR")
        );
        desired.hosts[0].files[0].path = escape.clone();
        let e = run(&desired, None).unwrap_err();
        assert!(matches!(e, crate::Error::OutputEscape { .. }), "{e:?}");
        let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("escaped.conf");
        assert!(!target.exists());
    }
}
