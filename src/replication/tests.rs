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
    // Neither script carries a secret in its parameters.
    for s in [
        seed_script("foobar", "10.0.0.30", "db-02"),
        dump_script("foobar"),
    ] {
        assert!(s.parameters().iter().all(|a| !a.contains("secret")));
    }
}

#[test]
fn every_script_is_valid_shell_and_passes_shellcheck() {
    for s in [
        dump_script("foobar"),
        seed_script("foobar", "10.0.0.30", "db-02"),
        promote::fence_script("mariadb.service", "m"),
        promote::promote_script(60, "m"),
    ] {
        crate::remote::script::tests::assert_valid_shell(&s);
    }
}
