//! A new replica: seeded in its own phase, after the primary, from a dump the primary makes;
//! a failed dump leaves it not seeded, and says why.

use super::*;
use crate::desired::DatabaseState;
use crate::plan::DbAction;
use crate::replication::Part;
use crate::secret::Secret;

/// The lab with db-02 as a replica of db-01, and the plans: db-01's file change, db-02's seed.
fn with_replica(fail: &[(&str, &'static str, i32)]) -> (Lab, Vec<ResourcePlan>) {
    let mut lab = lab(fail, None);
    let mut db2 = host("db-02", Role::Db);
    db2.database = Some(DatabaseState {
        engine: crate::topology::Engine::Mariadb,
        name: "foobar".into(),
        user: "foobar".into(),
        port: 3306,
        clients: Vec::new(),
        privileges: Vec::new(),
        password_from: "inline".into(),
        bootstrap_template: String::new(),
        schema: None,
        bootstrap: Secret::new(""),
        schema_sql: None,
        replication: Some(Part {
            user: "replication".into(),
            peers: vec!["10.0.0.30".into()],
            primary: "db-01".into(),
            primary_address: "10.0.0.30".into(),
            port: 3306,
            replica: true,
            password: Secret::new(WATCHED_SECRET),
        }),
    });
    lab.remotes.insert(
        "db-02".into(),
        Arc::new(FakeHost {
            name: "db-02".into(),
            log: lab.log.clone(),
            fail: fail
                .iter()
                .filter(|(h, _, _)| *h == "db-02")
                .map(|(_, s, c)| (*s, *c))
                .collect(),
            interrupt_on: None,
        }),
    );
    lab.desired.hosts.push(db2);
    let db1 = lab.desired.host("db-01").unwrap().clone();
    let db2 = lab.desired.host("db-02").unwrap().clone();
    let mut seed = file_change(&db2);
    seed.changes = vec![Change::Database {
        action: DbAction::SeedReplica,
        object: "replica of db-01 (10.0.0.30)".into(),
        revoke: Vec::new(),
    }];
    (lab, vec![file_change(&db1), seed])
}

#[test]
fn a_new_replica_is_seeded_after_the_primary_from_its_dump() {
    let (lab, plans) = with_replica(&[]);
    assert_eq!(plans[1].phase, Phase::Replicas);
    let reports = lab.apply(&plans, &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    // The primary's own change is done before its dump; the seed comes after the dump.
    let calls = lab.calls();
    let at = |c: &str| calls.iter().position(|x| x == c).unwrap();
    assert!(at("db-01:disarm") < at("db-01:replica-dump"), "{calls:?}");
    assert!(
        at("db-01:replica-dump") < at("db-02:replica-seed"),
        "{calls:?}"
    );
    let db2 = reports.iter().find(|r| r.host == "db-02").unwrap();
    assert!(
        db2.done
            .iter()
            .any(|d| d.contains("from db-01 at GTID 0-1-5")),
        "{:?}",
        db2.done
    );
}

#[test]
fn a_failed_dump_leaves_the_replica_not_seeded_and_says_why() {
    let (lab, plans) = with_replica(&[("db-01", "replica-dump", 2)]);
    let reports = lab.apply(&plans, &[]);
    let db2 = reports.iter().find(|r| r.host == "db-02").unwrap();
    match &db2.outcome {
        Outcome::Failed { step, error, .. } => {
            assert_eq!(step, "replica seed");
            assert!(
                error.contains("dumping foobar on the primary db-01 failed"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!lab.calls_on("db-02").contains(&"replica-seed".to_string()));
}

#[test]
fn a_seeded_replica_is_marked_with_the_primarys_schema() {
    let (mut lab, plans) = with_replica(&[]);
    // db-01 has a schema file: the dump carries its tables, so db-02 is marked as having it
    // (promoted, it must not load the schema file over its data).
    let mut db = lab.desired.host("db-02").unwrap().database.clone().unwrap();
    db.schema_sql = Some(crate::desired::SchemaSql {
        text: "CREATE TABLE t (id INT);".into(),
        sha256: "abc1".into(),
    });
    lab.desired
        .hosts
        .iter_mut()
        .find(|h| h.name == "db-01")
        .unwrap()
        .database = Some(db);
    let reports = lab.apply(&plans, &[]);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Changed),
        "{reports:?}"
    );
    let calls = lab.calls_on("db-02");
    let at = |c: &str| calls.iter().position(|x| x == c);
    assert!(
        at("replica-seed").unwrap() < at("schema-marker").expect("no schema marker"),
        "{calls:?}"
    );
    // Without a schema file on the primary, nothing is marked.
    let (lab, plans) = with_replica(&[]);
    lab.apply(&plans, &[]);
    assert!(!lab.calls_on("db-02").contains(&"schema-marker".to_string()));
}

#[test]
fn a_failed_seed_writes_no_schema_marker() {
    let (mut lab, plans) = with_replica(&[("db-02", "replica-seed", 1)]);
    let mut db = lab.desired.host("db-02").unwrap().database.clone().unwrap();
    db.schema_sql = Some(crate::desired::SchemaSql {
        text: String::new(),
        sha256: "abc1".into(),
    });
    lab.desired
        .hosts
        .iter_mut()
        .find(|h| h.name == "db-01")
        .unwrap()
        .database = Some(db);
    lab.apply(&plans, &[]);
    assert!(!lab.calls_on("db-02").contains(&"schema-marker".to_string()));
}

#[test]
fn the_replication_password_reaches_the_replica_on_stdin_only() {
    let (lab, plans) = with_replica(&[]);
    lab.apply(&plans, &[]);
    let calls = lab.calls();
    // The seed's input holds it (CHANGE MASTER TO): seen there, so the watch works.
    assert!(
        calls.contains(&"db-02:secret-in-stdin:replica-seed".to_string()),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.contains("secret-in-script")),
        "{calls:?}"
    );
}
