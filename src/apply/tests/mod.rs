//! The orchestration and the steps of a host, driven through an in-memory [`Remote`]: fast, no
//! lab. The fake hosts answer each script as a healthy Debian host would, unless told to fail
//! one; what they were asked to run is recorded in order. `orchestration.rs` tests phases,
//! batches, stopping rules and Ctrl-C; `rolling.rs` drains, putting back, and the order shown.

mod orchestration;
mod pair;
mod replica;
mod rolling;
mod zone;

use super::*;
use crate::desired::{
    Action, File, HealthCheck, HostState, HttpCheck, LbMembership, Notify, Service, Validator,
};
use crate::plan::{Change, FileAction, Owner, ResourcePlan, Seen, ServiceAction};
use crate::remote::{Output, Running, Script};
use crate::topology::Role;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

/// What a load balancer is asked while its servers change: drain (arming its own timer that
/// puts them back), ready, disarm that timer.
pub(super) const ON_LB_FOR_SERVERS: [&str; 3] = ["drain", "ready", "disarm"];

/// The replication password of the replica tests, watched in every script and its stdin.
pub(super) const WATCHED_SECRET: &str = "replica-secret";

/// Every script run, in order, as `host:script`.
type Log = Arc<Mutex<Vec<String>>>;

struct FakeHost {
    name: String,
    log: Log,
    /// Scripts that fail here, with the exit code they fail with.
    fail: Vec<(&'static str, i32)>,
    /// Set when this host runs this script (Ctrl-C in the middle of a step).
    interrupt_on: Option<(&'static str, Interrupt)>,
}

impl FakeHost {
    fn answer(&self, script: &Script) -> Output {
        if let Some((code, _)) = self
            .fail
            .iter()
            .find(|(name, _)| *name == script.name())
            .map(|(n, c)| (*c, n))
        {
            return Output {
                code: Some(code),
                stdout: String::new(),
                stderr: format!("{} failed on {}", script.name(), self.name),
            };
        }
        let stdout = match script.name() {
            "drain" => "was\tUP\n".to_string(),
            "ready" => "now\tUP\n".to_string(),
            "replica-dump" => {
                "-- SET GLOBAL gtid_slave_pos='0-1-5';\nCREATE TABLE t (id INT);\n".into()
            }
            "replica-seed" => "seeded; replicating from 10.0.0.30 at 0-1-5\n".into(),
            // A load balancer of a VIP that does not hold it, ready to take it.
            "probe" => "vip\tnot-held\nvrrp\tBACKUP\n".into(),
            // Six parameters a file after the first two: report each content file swapped.
            "files" => script.parameters()[2..]
                .chunks(6)
                .filter(|f| f[0] == "content")
                .map(|f| format!("swapped\t{}\tbackup\n", f[1]))
                .collect(),
            _ => String::new(),
        };
        Output {
            code: Some(0),
            stdout,
            stderr: String::new(),
        }
    }
}

impl Remote for FakeHost {
    fn host(&self) -> &str {
        &self.name
    }

    fn run<'a>(&'a self, script: &'a Script, stdin: &'a [u8]) -> Running<'a> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{}", self.name, script.name()));
        // Where the replica tests' password travels: on stdin only, never in a script's text
        // (its parameters are in it).
        for (place, carries) in [
            ("script", script.text().contains(WATCHED_SECRET)),
            (
                "stdin",
                stdin
                    .windows(WATCHED_SECRET.len())
                    .any(|w| w == WATCHED_SECRET.as_bytes()),
            ),
        ] {
            if carries {
                self.log.lock().unwrap().push(format!(
                    "{}:secret-in-{place}:{}",
                    self.name,
                    script.name()
                ));
            }
        }
        if let Some((name, flag)) = &self.interrupt_on
            && *name == script.name()
        {
            flag.store(true, Ordering::SeqCst);
        }
        let out = self.answer(script);
        Box::pin(async move {
            // Let other hosts' tasks interleave, as real round trips do.
            tokio::task::yield_now().await;
            Ok(out)
        })
    }

    /// Recorded as `host:reconnect`; fails as a script of that name would.
    fn reach_anew(&self) -> Running<'_> {
        let reconnect = Script::new("reconnect", "true");
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:reconnect", self.name));
        let out = self.answer(&reconnect);
        Box::pin(async move {
            tokio::task::yield_now().await;
            if out.ok() {
                Ok(out)
            } else {
                Err(crate::remote::RemoteError::Unreachable {
                    host: self.name.clone(),
                    address: "192.0.2.1".into(),
                    port: 22,
                    attempts: 2,
                    detail: out.stderr,
                })
            }
        })
    }
}

pub(super) fn host(name: &str, role: Role) -> HostState {
    let (path, service, health) = match role {
        Role::Lb => (
            "/etc/haproxy/haproxy.cfg",
            "haproxy",
            HealthCheck::LoadBalancer(HttpCheck {
                port: 80,
                path: "/healthz".into(),
                host_header: "www.example.com".into(),
                tls: false,
            }),
        ),
        Role::Db => (
            "/etc/mysql/mariadb.conf.d/60-foobar-infra.cnf",
            "mariadb.service",
            HealthCheck::Database,
        ),
        _ => (
            "/etc/nginx/conf.d/site.conf",
            "nginx",
            HealthCheck::Web(HttpCheck {
                port: 80,
                path: "/healthz".into(),
                host_header: "www.example.com".into(),
                tls: false,
            }),
        ),
    };
    HostState {
        name: name.into(),
        address: "10.0.0.1".into(),
        roles: vec![role],
        packages: Vec::new(),
        users: Vec::new(),
        files: vec![File {
            path: path.into(),
            template: String::new(),
            content: "x\n".into(),
            sha256: String::new(),
            mode: 0o644,
            owner: "root".into(),
            group: "root".into(),
            sensitive: false,
            validate: Some(Validator::Haproxy).filter(|_| role == Role::Lb),
            notify: vec![Notify {
                service: service.into(),
                action: Action::Reload,
            }],
            create_only: false,
            certificate: false,
        }],
        services: vec![Service {
            name: service.into(),
            enabled: true,
            running: true,
        }],
        release: None,
        database: None,
        health: vec![health],
        memberships: if role == Role::Web {
            vec![LbMembership {
                lb_host: "lb-01".into(),
                backend: "web".into(),
                server: name.into(),
                admin_socket: "/run/haproxy/admin.sock".into(),
                rise_ms: 3000,
            }]
        } else {
            Vec::new()
        },
        firewall: None,
        vip: None,
    }
}

/// A serving host whose one file changes, which its service reloads.
pub(super) fn file_change(h: &HostState) -> ResourcePlan {
    ResourcePlan {
        owner: Owner::Host {
            host: h.name.clone(),
            address: h.address.clone(),
        },
        phase: crate::plan::Phase::of(h),
        changes: vec![
            Change::File {
                path: h.files[0].path.clone(),
                action: FileAction::Update,
                sensitive: false,
                diff: None,
                mode: None,
                owner: None,
                replaces: None,
                certificate: None,
            },
            Change::Service {
                name: h.services[0].name.clone(),
                action: ServiceAction::Reload,
                reason: "its file changes".into(),
            },
        ],
        seen: Seen::default(),
        note: None,
        replication: None,
        holds_vip: false,
        shares_vip: h.vip.is_some(),
    }
}

pub(super) struct Lab {
    pub(super) desired: Desired,
    remotes: BTreeMap<String, Arc<dyn Remote>>,
    log: Log,
    pub(super) interrupt: Interrupt,
    /// The zone's server, for plans with a zone.
    pub(super) authority: Option<Arc<dyn crate::dns::Authority>>,
}

/// lb-01, web-01..03 and db-01, each with one file to change; `fail` says which host fails
/// which script.
pub(super) fn lab(
    fail: &[(&str, &'static str, i32)],
    interrupt_on: Option<(&str, &'static str)>,
) -> Lab {
    let hosts = vec![
        host("lb-01", Role::Lb),
        host("web-01", Role::Web),
        host("web-02", Role::Web),
        host("web-03", Role::Web),
        host("db-01", Role::Db),
    ];
    let log = Log::default();
    let interrupt = Interrupt::default();
    let remotes = hosts
        .iter()
        .map(|h| {
            let remote: Arc<dyn Remote> = Arc::new(FakeHost {
                name: h.name.clone(),
                log: log.clone(),
                fail: fail
                    .iter()
                    .filter(|(host, _, _)| *host == h.name)
                    .map(|(_, script, code)| (*script, *code))
                    .collect(),
                interrupt_on: interrupt_on
                    .filter(|(host, _)| *host == h.name)
                    .map(|(_, script)| (script, interrupt.clone())),
            });
            (h.name.clone(), remote)
        })
        .collect();
    Lab {
        desired: Desired {
            domain: "example.com".into(),
            hosts,
            dns: None,
            https: None,
        },
        remotes,
        log,
        interrupt,
        authority: None,
    }
}

impl Lab {
    pub(super) fn plans(&self) -> Vec<ResourcePlan> {
        self.desired.hosts.iter().map(file_change).collect()
    }

    pub(super) fn apply(
        &self,
        plans: &[ResourcePlan],
        unreachable: &[(String, Phase, String)],
    ) -> Vec<HostReport> {
        let on_event = |_: Event| {};
        let run = Run {
            desired: &self.desired,
            remotes: &self.remotes,
            db_password: None,
            tsig: None,
            tls_key: None,
            replication_password: None,
            forks: 32,
            batch: 1,
            drain_timeout: std::time::Duration::from_secs(30),
            confirm_timeout: std::time::Duration::from_secs(120),
            drill_cut_ssh: false,
            interrupt: &self.interrupt,
            on_event: &on_event,
            release_tar: None,
            unreachable,
            authority: self.authority.as_deref(),
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(super::apply(&run, plans))
    }

    pub(super) fn calls(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The scripts one host was asked to run, in order.
    pub(super) fn calls_on(&self, host: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| c.strip_prefix(&format!("{host}:")).map(str::to_string))
            .collect()
    }

    /// Where a host's first script that changes it (not a drain or ready of its servers) stands.
    pub(super) fn first_change(&self, host: &str) -> usize {
        self.calls()
            .iter()
            .position(|c| {
                c.strip_prefix(&format!("{host}:"))
                    .is_some_and(|s| !ON_LB_FOR_SERVERS.contains(&s))
            })
            .unwrap_or(usize::MAX)
    }

    /// A host was at most asked to drain and ready its servers.
    pub(super) fn changed_nothing_on(&self, host: &str) -> bool {
        self.calls_on(host)
            .iter()
            .all(|s| ON_LB_FOR_SERVERS.contains(&s.as_str()))
    }

    /// Where a host's first script stands in the whole log.
    pub(super) fn first_call(&self, host: &str) -> usize {
        self.calls()
            .iter()
            .position(|c| c.starts_with(&format!("{host}:")))
            .unwrap_or(usize::MAX)
    }

    pub(super) fn last_call(&self, host: &str) -> usize {
        self.calls()
            .iter()
            .rposition(|c| c.starts_with(&format!("{host}:")))
            .unwrap()
    }
}

pub(super) fn outcome<'r>(reports: &'r [HostReport], host: &str) -> &'r Outcome {
    &reports.iter().find(|r| r.host == host).unwrap().outcome
}
