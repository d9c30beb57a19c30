use super::*;
use crate::observe::{DbUser, SlaveStatus};

fn part(replica: bool) -> Part {
    Part {
        user: "replication".into(),
        peers: vec!["10.0.0.30".into()],
        primary: "db-01".into(),
        primary_address: "10.0.0.30".into(),
        port: 3306,
        replica,
        password: Secret::new("it's-secret"),
    }
}

fn replicating(from: &str, io: &str, sql: &str) -> DbFacts {
    DbFacts {
        running: true,
        replication: Some(ReplicationFacts {
            read_only: true,
            gtid_slave_pos: "0-1-42".into(),
            source: Some(SlaveStatus {
                master_host: from.into(),
                io_running: io.into(),
                sql_running: sql.into(),
                seconds_behind: (io == "Yes" && sql == "Yes").then_some(0),
                last_io_error: if io == "Yes" {
                    String::new()
                } else {
                    "error reconnecting to master".into()
                },
                ..SlaveStatus::default()
            }),
            ..ReplicationFacts::default()
        }),
        ..DbFacts::default()
    }
}

#[test]
fn a_replica_following_the_primary_is_left_alone_and_reported() {
    let p = part(true);
    let facts = replicating("10.0.0.30", "Yes", "Yes");
    assert!(!needs_seed(&p, &facts));
    let s = Status::of(&p, &facts).unwrap();
    assert_eq!(s.problem(&p), None);
    assert_eq!(
        s.summary(),
        "from 10.0.0.30, IO yes, SQL yes, lag 0 s, gtid 0-1-42"
    );
    // read_only turned off by hand: the replica takes writes of its own.
    let mut writable = facts.clone();
    writable.replication.as_mut().unwrap().read_only = false;
    let why = Status::of(&p, &writable).unwrap().problem(&p).unwrap();
    assert!(why.contains("read_only is OFF"), "{why}");
    assert!(!needs_seed(&p, &writable));
    // A stopped thread is verify's failure, not a reason to seed again.
    let stopped = replicating("10.0.0.30", "Connecting", "Yes");
    assert!(!needs_seed(&p, &stopped));
    let why = Status::of(&p, &stopped).unwrap().problem(&p).unwrap();
    assert!(
        why.contains("IO thread no") && why.contains("reconnecting"),
        "{why}"
    );
}

#[test]
fn a_replica_of_nothing_or_of_another_host_is_seeded() {
    let p = part(true);
    let nothing = DbFacts {
        running: true,
        ..DbFacts::default()
    };
    assert!(needs_seed(&p, &nothing));
    let other = replicating("10.0.0.99", "Yes", "Yes");
    assert!(needs_seed(&p, &other));
    let why = Status::of(&p, &other).unwrap().problem(&p).unwrap();
    assert!(why.contains("not from the primary db-01"), "{why}");
    // Not answering: unknown, nothing said here (the plan's Ensure covers it). The primary is
    // never seeded.
    assert!(!needs_seed(&p, &DbFacts::default()));
    assert!(!needs_seed(&part(false), &nothing));
    let _ = DbUser::default();
}

#[test]
fn a_promoted_replica_or_a_fenced_primary_contradicts_the_topology() {
    let (replica, primary) = (part(true), part(false));
    let promoted = ReplicationFacts {
        promoted: Some("db-02 promoted in place of db-01 at 1".into()),
        ..ReplicationFacts::default()
    };
    let out = contradictions(&[("db-02", &replica, &promoted)]);
    assert_eq!(out.len(), 1);
    assert!(out[0].contains("`database.primary: db-02`"), "{}", out[0]);
    let fenced = ReplicationFacts {
        fenced: Some("db-02 promoted in place of db-01 at 1".into()),
        ..ReplicationFacts::default()
    };
    assert!(contradictions(&[("db-01", &primary, &fenced)])[0].contains("fenced"));
    let follows = replicating("10.0.0.31", "Yes", "Yes").replication.unwrap();
    assert!(
        contradictions(&[("db-01", &primary, &follows)])[0].contains("replicates from 10.0.0.31")
    );
    // Agreeing: the primary writes, the replica follows.
    let ok = ReplicationFacts::default();
    assert!(contradictions(&[("db-01", &primary, &ok), ("db-02", &replica, &follows)]).is_empty());
}

#[test]
fn the_seed_reads_the_dumps_gtid_and_keeps_the_password_on_stdin() {
    let dump = "-- MariaDB dump\n--\n-- Preferably use GTID to start replication from GTID position:\n\n-- SET GLOBAL gtid_slave_pos='0-1-17';\nCREATE TABLE t (id INT);\n";
    assert_eq!(dump_gtid(dump).as_deref(), Some("0-1-17"));
    assert_eq!(
        dump_gtid("-- SET GLOBAL gtid_slave_pos='';").as_deref(),
        Some("")
    );
    assert_eq!(dump_gtid("no position"), None);
    assert_eq!(
        dump_gtid("gtid_slave_pos='0-1-1'; DROP'"),
        Some("0-1-1".into())
    );
    assert_eq!(dump_gtid("gtid_slave_pos='x'); DROP --'"), None);
    let p = part(true);
    let input = seed_input(dump, "0-1-17", &p);
    let text = input.expose();
    assert!(text.starts_with("SET SESSION sql_log_bin = 0;\n"));
    assert!(text.contains("SET GLOBAL gtid_slave_pos = '0-1-17';"));
    assert!(text.contains("MASTER_PASSWORD='it''s-secret'"));
    assert!(text.contains("MASTER_USE_GTID=slave_pos"));
    assert!(text.trim_end().ends_with("START SLAVE;"));
    // Where the password travels in a real seed: src/apply/tests/replica.rs.
}

#[test]
fn every_script_is_valid_shell_and_passes_shellcheck() {
    for s in [
        dump_script("foobar"),
        seed_script("foobar", "10.0.0.30", "db-02"),
        promote::read_only_script(),
        promote::gtid_wait_script("0-1-42", 30),
        promote::fence_script("mariadb.service", "m"),
        promote::unfence_script("mariadb.service", false),
        promote::read_only_undo_script(true),
        promote::promote_script(60, "m"),
    ] {
        crate::remote::script::tests::assert_valid_shell(&s);
    }
}

/// A host that answers each script by name (exit 0, no output, when not listed); logs the calls.
struct Scripted {
    answers: Vec<(&'static str, i32, &'static str)>,
    log: std::sync::Mutex<Vec<String>>,
}

impl Scripted {
    fn new(answers: Vec<(&'static str, i32, &'static str)>) -> Self {
        Scripted {
            answers,
            log: Default::default(),
        }
    }
    fn calls(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl crate::remote::Remote for Scripted {
    fn host(&self) -> &str {
        "scripted"
    }
    fn run<'a>(&'a self, script: &'a Script, _stdin: &'a [u8]) -> crate::remote::Running<'a> {
        let mut call = script.name().to_string();
        for p in script.parameters() {
            call.push(' ');
            call.push_str(p);
        }
        self.log.lock().unwrap().push(call);
        let (code, stdout) = self
            .answers
            .iter()
            .find(|(n, _, _)| *n == script.name())
            .map_or((0, ""), |(_, c, o)| (*c, *o));
        let out = crate::remote::Output {
            code: Some(code),
            stdout: stdout.into(),
            stderr: if code == 0 {
                String::new()
            } else {
                format!("{} failed", script.name())
            },
        };
        Box::pin(async move { Ok(out) })
    }
    fn reach_anew(&self) -> crate::remote::Running<'_> {
        Box::pin(async { Ok(crate::remote::Output::default()) })
    }
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn promote_refuses_a_replica_that_is_behind_elsewhere_or_stopped_and_a_live_unfenced_primary() {
    let p = part(true);
    let status =
        |from: &str, io: &str, sql: &str| Status::of(&p, &replicating(from, io, sql)).unwrap();
    let refuse = |s: &Status, sql_error: &str, unreachable: Option<&str>| {
        promote::refusal(
            "db-02",
            "db-01",
            "10.0.0.30",
            Some(s),
            sql_error,
            unreachable,
        )
    };
    // The old primary is dead: its IO thread reconnects, its SQL thread applied everything.
    let dead = status("10.0.0.30", "Connecting", "Yes");
    assert_eq!(refuse(&dead, "", Some("connection refused")), None);
    // Reachable and replicating: promote fences it.
    assert_eq!(refuse(&status("10.0.0.30", "Yes", "Yes"), "", None), None);
    // Another source, a stopped SQL thread, an SQL error: refused before anything changes.
    let why = refuse(&status("10.0.0.99", "Yes", "Yes"), "", None).unwrap();
    assert!(why.contains("replicates from 10.0.0.99"), "{why}");
    let why = refuse(&status("10.0.0.30", "Yes", "No"), "", None).unwrap();
    assert!(why.contains("SQL thread is stopped"), "{why}");
    let why = refuse(&dead, "Duplicate entry '7'", Some("down")).unwrap();
    assert!(why.contains("Duplicate entry"), "{why}");
    // SSH to the old primary failed, but the replica still receives from it: it is alive.
    let why = refuse(&status("10.0.0.30", "Yes", "Yes"), "", Some("timed out")).unwrap();
    assert!(
        why.contains("two primaries") && why.contains("timed out"),
        "{why}"
    );
    assert!(promote::refusal("db-02", "db-01", "10.0.0.30", None, "", None).is_some());
}

#[test]
fn the_fence_waits_for_the_replica_before_stopping_the_old_primary() {
    let old = Scripted::new(vec![("fence-read-only", 0, "was\t0\ngtid\t0-1-42\n")]);
    let replica = Scripted::new(Vec::new());
    let fence = block(promote::fence(
        Some(&old),
        &replica,
        "mariadb.service",
        "m",
        "",
    ));
    assert!(
        matches!(
            &fence,
            promote::Fence::Fenced {
                read_only_was: Some(false),
                ..
            }
        ),
        "{fence:?}"
    );
    assert_eq!(replica.calls(), ["gtid-wait 0-1-42 30"]);
    assert_eq!(old.calls(), ["fence-read-only", "fence mariadb.service m"]);
    assert!(fence.describe("db-01").contains("up to 0-1-42"));
}

#[test]
fn a_replica_that_does_not_catch_up_undoes_the_fence_and_stops_nothing() {
    let old = Scripted::new(vec![("fence-read-only", 0, "was\t0\ngtid\t0-1-42\n")]);
    let replica = Scripted::new(vec![("gtid-wait", 4, "")]);
    let fence = block(promote::fence(
        Some(&old),
        &replica,
        "mariadb.service",
        "m",
        "",
    ));
    match &fence {
        promote::Fence::Failed { why } => assert!(why.contains("read_only put back"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(old.calls(), ["fence-read-only", "fence-undo 0"]);
    // A position that is not one is never waited for.
    let odd = Scripted::new(vec![("fence-read-only", 0, "was\t0\ngtid\t0-1-1'; DROP\n")]);
    let replica = Scripted::new(Vec::new());
    let fence = block(promote::fence(
        Some(&odd),
        &replica,
        "mariadb.service",
        "m",
        "",
    ));
    assert!(matches!(fence, promote::Fence::Failed { .. }), "{fence:?}");
    assert!(replica.calls().is_empty());
    // Its server down (SSH answers): nothing to wait for, the service is stopped.
    let down = Scripted::new(vec![("fence-read-only", 3, "its server did not answer\n")]);
    let fence = block(promote::fence(
        Some(&down),
        &replica,
        "mariadb.service",
        "m",
        "",
    ));
    assert!(
        matches!(
            &fence,
            promote::Fence::Fenced {
                read_only_was: None,
                ..
            }
        ),
        "{fence:?}"
    );
    assert_eq!(down.calls(), ["fence-read-only", "fence mariadb.service m"]);
    // Unreachable: nothing run anywhere.
    let fence = block(promote::fence(
        None,
        &replica,
        "mariadb.service",
        "m",
        "down",
    ));
    assert_eq!(fence, promote::Fence::Unreachable { why: "down".into() });
}

#[test]
fn a_change_of_read_only_alone_is_told_apart() {
    let primary = "[mysqld]\nserver-id = 2\nlog_bin = mysql-bin\n";
    let replica = "[mysqld]\nserver-id = 2\nlog_bin = mysql-bin\n# A replica.\nread_only = ON\n";
    assert!(read_only_alone(replica, primary));
    assert!(read_only_alone(primary, replica));
    assert!(!read_only_alone(primary, primary));
    let other = replica.replace("server-id = 2", "server-id = 3");
    assert!(!read_only_alone(primary, &other));
}
