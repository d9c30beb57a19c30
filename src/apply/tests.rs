//! The orchestration and the steps of a host, driven through an in-memory [`Remote`]: fast, no
//! lab. The fake hosts answer each script as a healthy Debian host would, unless told to fail
//! one; what they were asked to run is recorded in order.

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
const ON_LB_FOR_SERVERS: [&str; 3] = ["drain", "ready", "disarm"];

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

    fn run<'a>(&'a self, script: &'a Script, _stdin: &'a [u8]) -> Running<'a> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{}", self.name, script.name()));
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
}

fn host(name: &str, role: Role) -> HostState {
    let (path, service, health) = match role {
        Role::Lb => (
            "/etc/haproxy/haproxy.cfg",
            "haproxy",
            HealthCheck::LoadBalancer(HttpCheck {
                port: 80,
                path: "/healthz".into(),
                host_header: "www.example.com".into(),
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
    }
}

/// A serving host whose one file changes, which its service reloads.
fn file_change(h: &HostState) -> ResourcePlan {
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
            },
            Change::Service {
                name: h.services[0].name.clone(),
                action: ServiceAction::Reload,
                reason: "its file changes".into(),
            },
        ],
        seen: Seen::default(),
    }
}

struct Lab {
    desired: Desired,
    remotes: BTreeMap<String, Arc<dyn Remote>>,
    log: Log,
    interrupt: Interrupt,
}

/// lb-01, web-01..03 and db-01, each with one file to change; `fail` says which host fails
/// which script.
fn lab(fail: &[(&str, &'static str, i32)], interrupt_on: Option<(&str, &'static str)>) -> Lab {
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
        },
        remotes,
        log,
        interrupt,
    }
}

impl Lab {
    fn plans(&self) -> Vec<ResourcePlan> {
        self.desired.hosts.iter().map(file_change).collect()
    }

    fn apply(
        &self,
        plans: &[ResourcePlan],
        unreachable: &[(String, Phase, String)],
    ) -> Vec<HostReport> {
        let on_event = |_: Event| {};
        let run = Run {
            desired: &self.desired,
            remotes: &self.remotes,
            db_password: None,
            forks: 32,
            batch: 1,
            drain_timeout: std::time::Duration::from_secs(30),
            confirm_timeout: std::time::Duration::from_secs(120),
            interrupt: &self.interrupt,
            on_event: &on_event,
            release_tar: None,
            unreachable,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(super::apply(&run, plans))
    }

    fn calls(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The scripts one host was asked to run, in order.
    fn calls_on(&self, host: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| c.strip_prefix(&format!("{host}:")).map(str::to_string))
            .collect()
    }

    /// Where a host's first script that changes it (not a drain or ready of its servers) stands.
    fn first_change(&self, host: &str) -> usize {
        self.calls()
            .iter()
            .position(|c| {
                c.strip_prefix(&format!("{host}:"))
                    .is_some_and(|s| !ON_LB_FOR_SERVERS.contains(&s))
            })
            .unwrap_or(usize::MAX)
    }

    /// A host was at most asked to drain and ready its servers.
    fn changed_nothing_on(&self, host: &str) -> bool {
        self.calls_on(host)
            .iter()
            .all(|s| ON_LB_FOR_SERVERS.contains(&s.as_str()))
    }

    /// Where a host's first script stands in the whole log.
    fn first_call(&self, host: &str) -> usize {
        self.calls()
            .iter()
            .position(|c| c.starts_with(&format!("{host}:")))
            .unwrap_or(usize::MAX)
    }

    fn last_call(&self, host: &str) -> usize {
        self.calls()
            .iter()
            .rposition(|c| c.starts_with(&format!("{host}:")))
            .unwrap()
    }
}

fn outcome<'r>(reports: &'r [HostReport], host: &str) -> &'r Outcome {
    &reports.iter().find(|r| r.host == host).unwrap().outcome
}

#[test]
fn phases_run_database_then_servers_then_load_balancer() {
    let lab = lab(&[], None);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    let db_done = lab.last_call("db-01");
    for web in ["web-01", "web-02", "web-03"] {
        assert!(lab.first_call(web) > db_done, "{:?}", lab.calls());
        assert!(
            lab.last_call(web) < lab.first_change("lb-01"),
            "{:?}",
            lab.calls()
        );
    }
    assert_eq!(
        lab.calls_on("web-02"),
        ["arm", "files", "services", "http-health", "disarm"],
        "the watchdog is armed before the change and stood down after"
    );
    assert_eq!(
        lab.calls_on("db-01"),
        ["arm", "files", "services", "db-health", "disarm"]
    );
}

#[test]
fn a_canary_goes_alone_before_the_other_servers() {
    let lab = lab(&[], None);
    lab.apply(&lab.plans(), &[]);
    let canary_done = lab.last_call("web-01");
    assert!(lab.first_call("web-02") > canary_done, "{:?}", lab.calls());
    assert!(lab.first_call("web-03") > canary_done, "{:?}", lab.calls());
}

#[test]
fn batches_put_one_serving_host_first_and_new_hosts_with_the_rest() {
    let lab = lab(&[], None);
    let plans = lab.plans();
    let webs: Vec<&ResourcePlan> = plans[1..4].iter().collect();
    let names = |b: &Vec<&ResourcePlan>| b.iter().map(|r| r.name().to_string()).collect::<Vec<_>>();
    assert_eq!(
        batches(&webs, 1).iter().map(names).collect::<Vec<_>>(),
        [vec!["web-01"], vec!["web-02"], vec!["web-03"]],
        "a canary, then one at a time"
    );
    assert_eq!(
        batches(&webs, 2).iter().map(names).collect::<Vec<_>>(),
        [vec!["web-01"], vec!["web-02", "web-03"]]
    );
    // One serving host with changes: no canary.
    let mut fresh = plans.clone();
    for p in &mut fresh[1..3] {
        p.changes.push(Change::Package {
            name: "nginx".into(),
        });
    }
    let webs: Vec<&ResourcePlan> = fresh[1..4].iter().collect();
    assert_eq!(batches(&webs, 1).len(), 1);
    // Only new hosts (packages to install): all at once.
    fresh[3].changes.push(Change::Package {
        name: "nginx".into(),
    });
    let webs: Vec<&ResourcePlan> = fresh[1..4].iter().collect();
    assert_eq!(
        batches(&webs, 1).iter().map(names).collect::<Vec<_>>(),
        [vec!["web-01", "web-02", "web-03"]]
    );
}

#[test]
fn a_failed_canary_is_rolled_back_and_the_rest_is_left_alone() {
    let lab = lab(
        &[("web-01", "http-health", protocol::Exit::Health.code())],
        None,
    );
    let reports = lab.apply(&lab.plans(), &[]);
    assert_eq!(outcome(&reports, "db-01"), &Outcome::Changed);
    match outcome(&reports, "web-01") {
        Outcome::Failed {
            step,
            error,
            rolled_back,
        } => {
            assert_eq!(step, "health");
            assert!(
                error.contains("/healthz does not answer 200 through Nginx"),
                "{error}"
            );
            assert!(rolled_back);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        lab.calls_on("web-01"),
        [
            "arm",
            "files",
            "services",
            "http-health",
            "rollback",
            "disarm"
        ]
    );
    for web in ["web-02", "web-03"] {
        assert_eq!(
            outcome(&reports, web),
            &Outcome::Skipped {
                reason: "web-01 went first and failed; left as it was".into()
            }
        );
        assert!(lab.calls_on(web).is_empty(), "{web} was touched");
    }
    assert_eq!(
        outcome(&reports, "lb-01"),
        &Outcome::Skipped {
            reason: "a host of an earlier phase (app/web servers) failed".into()
        }
    );
    assert!(
        lab.changed_nothing_on("lb-01"),
        "{:?}",
        lab.calls_on("lb-01")
    );
}

#[test]
fn a_file_rejected_by_its_checker_is_not_rolled_back_and_names_nothing_swapped() {
    let lab = lab(&[("db-01", "files", protocol::Exit::Invalid.code())], None);
    let reports = lab.apply(&lab.plans(), &[]);
    match outcome(&reports, "db-01") {
        Outcome::Failed {
            step, rolled_back, ..
        } => {
            assert_eq!(step, "files");
            assert!(
                !rolled_back,
                "nothing was swapped, so nothing is rolled back"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(lab.calls_on("db-01"), ["arm", "files", "disarm"]);
    for later in ["web-01", "web-02", "web-03", "lb-01"] {
        assert!(matches!(outcome(&reports, later), Outcome::Skipped { .. }));
        assert!(lab.calls_on(later).is_empty());
    }
}

#[test]
fn an_unreachable_host_fails_its_phase_and_stops_later_phases() {
    let lab = lab(&[], None);
    let plans: Vec<ResourcePlan> = lab
        .plans()
        .into_iter()
        .filter(|p| p.name() != "web-02")
        .collect();
    let lost = vec![(
        "web-02".to_string(),
        Phase::Servers,
        "host web-02 is unreachable".to_string(),
    )];
    let reports = lab.apply(&plans, &lost);
    assert!(
        matches!(outcome(&reports, "web-02"), Outcome::Failed { step, .. } if step == "connect")
    );
    assert_eq!(outcome(&reports, "web-01"), &Outcome::Changed);
    assert_eq!(outcome(&reports, "web-03"), &Outcome::Changed);
    assert!(matches!(
        outcome(&reports, "lb-01"),
        Outcome::Skipped { .. }
    ));
    assert!(
        lab.changed_nothing_on("lb-01"),
        "{:?}",
        lab.calls_on("lb-01")
    );
}

#[test]
fn ctrl_c_before_the_run_touches_no_host() {
    let lab = lab(&[], None);
    lab.interrupt.store(true, Ordering::SeqCst);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(lab.calls().is_empty(), "{:?}", lab.calls());
    assert_eq!(outcome(&reports, "db-01"), &Outcome::Interrupted);
    assert!(matches!(
        outcome(&reports, "web-01"),
        Outcome::Skipped { .. }
    ));
}

#[test]
fn ctrl_c_during_a_swap_finishes_that_host_and_starts_no_other() {
    // Ctrl-C arrives while the canary swaps its files: its reload and health check still run
    // (a swapped file is never left without its reload), then nothing new starts.
    let lab = lab(&[], Some(("web-01", "files")));
    let reports = lab.apply(&lab.plans(), &[]);
    assert_eq!(outcome(&reports, "web-01"), &Outcome::Changed);
    assert_eq!(
        lab.calls_on("web-01"),
        ["arm", "files", "services", "http-health", "disarm"]
    );
    assert_eq!(
        lab.calls_on("lb-01"),
        ["drain", "ready", "disarm"],
        "the canary is back in service"
    );
    assert_eq!(outcome(&reports, "web-02"), &Outcome::Interrupted);
    assert_eq!(
        outcome(&reports, "web-03"),
        &Outcome::Skipped {
            reason: "interrupted while web-02 was next; left as it was".into()
        }
    );
    for web in ["web-02", "web-03"] {
        assert!(lab.calls_on(web).is_empty());
    }
}

#[test]
fn each_server_is_drained_on_its_load_balancer_around_its_change() {
    let lab = lab(&[], None);
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    let calls = lab.calls();
    for web in ["web-01", "web-02", "web-03"] {
        let first = lab.first_call(web);
        let last = lab.last_call(web);
        // Drained (the load balancer arming its own timer as it does) just before its first
        // step, ready (and the timer stood down) just after its last.
        assert_eq!(calls[first - 1], "lb-01:drain", "{calls:?}");
        assert_eq!(
            calls[last + 1..last + 3],
            ["lb-01:ready", "lb-01:disarm"],
            "{calls:?}"
        );
        let report = reports.iter().find(|r| r.host == web).unwrap();
        assert!(
            report.done.first().unwrap().starts_with("drained on lb-01"),
            "{report:?}"
        );
        assert_eq!(report.done.last().unwrap(), "ready on lb-01: UP");
    }
    // One at a time: web-02 starts after web-01 is back in service.
    assert!(lab.first_call("web-02") > lab.last_call("web-01") + 2);
}

#[test]
fn a_failed_canary_goes_back_into_service_after_its_rollback() {
    let lab = lab(
        &[("web-01", "http-health", protocol::Exit::Health.code())],
        None,
    );
    let reports = lab.apply(&lab.plans(), &[]);
    assert!(matches!(
        outcome(&reports, "web-01"),
        Outcome::Failed {
            rolled_back: true,
            ..
        }
    ));
    let calls = lab.calls();
    let rollback = calls.iter().position(|c| c == "web-01:rollback").unwrap();
    assert_eq!(
        calls[rollback + 1..rollback + 3],
        ["web-01:disarm", "lb-01:ready"],
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| *c == "lb-01:drain").count(),
        1,
        "the others are never drained: {calls:?}"
    );
}

#[test]
fn the_order_apply_takes_is_what_plan_shows() {
    let lab = lab(&[], None);
    let steps = super::rollout(&lab.plans(), &lab.desired, 1);
    let hosts: Vec<Vec<String>> = steps.iter().map(|s| s.hosts.clone()).collect();
    assert_eq!(
        hosts,
        [
            vec!["db-01"],
            vec!["web-01"],
            vec!["web-02"],
            vec!["web-03"],
            vec!["lb-01"]
        ]
    );
    assert_eq!(steps[2].drained, [("web-02".into(), "lb-01".into())]);
    let text = crate::ui::plan_view::rollout(&steps);
    assert!(
        text.contains("2. app/web servers: web-01 (drained on lb-01 while changing), the canary"),
        "{text}"
    );
}
