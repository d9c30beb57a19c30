//! A database replica: its replication account on each peer, its seed, and its state reported.

use super::*;
use crate::observe::{ReplicationFacts, SlaveStatus};
use crate::replication::Part;

const REPL_PASSWORD: &str = "replication-secret";

/// The database host as a replica of db-01 (10.0.0.30), its account for that peer.
fn replica() -> HostState {
    let mut h = host(&[Role::Db]);
    let db = h.database.as_mut().unwrap();
    db.schema = None;
    db.replication = Some(Part {
        user: "replication".into(),
        peers: vec!["10.0.0.30".into()],
        primary: "db-01".into(),
        primary_address: "10.0.0.30".into(),
        port: 3306,
        replica: true,
        password: Secret::new(REPL_PASSWORD),
    });
    h
}

/// What the replica reports when it has its account and follows `from`.
fn following(h: &HostState, from: Option<&str>) -> Observed {
    let mut o = matching(h);
    let db = o.database.as_mut().unwrap();
    db.replication_users = vec![DbUser {
        host: "10.0.0.30".into(),
        auth: native_password_hash(&Secret::new(REPL_PASSWORD)),
        privileges: Vec::new(),
    }];
    db.replication = Some(ReplicationFacts {
        read_only: true,
        gtid_slave_pos: "0-1-9".into(),
        source: from.map(|f| SlaveStatus {
            master_host: f.into(),
            io_running: "Yes".into(),
            sql_running: "Yes".into(),
            seconds_behind: Some(0),
            ..SlaveStatus::default()
        }),
        ..ReplicationFacts::default()
    });
    o
}

#[test]
fn a_replica_following_its_primary_has_nothing_to_do_and_reports_its_state() {
    let h = replica();
    assert_eq!(Phase::of(&h), Phase::Replicas);
    let p = plan(&h, &following(&h, Some("10.0.0.30")));
    assert_eq!(p.changes, Vec::new());
    let status = p.replication.unwrap();
    assert_eq!(
        status.summary(),
        "from 10.0.0.30, IO yes, SQL yes, lag 0 s, gtid 0-1-9"
    );
}

#[test]
fn a_replica_of_nothing_or_another_host_is_seeded_and_its_account_kept() {
    let h = replica();
    let seed = db_change(DbAction::SeedReplica, "replica of db-01 (10.0.0.30)", &[]);
    assert_eq!(
        changes(&h, &following(&h, None)),
        std::slice::from_ref(&seed)
    );
    assert_eq!(
        changes(&h, &following(&h, Some("10.0.0.99"))),
        std::slice::from_ref(&seed)
    );
    // Its account for a peer: created when missing, its password set when it differs.
    let mut o = following(&h, Some("10.0.0.30"));
    o.database.as_mut().unwrap().replication_users.clear();
    assert_eq!(
        changes(&h, &o),
        [db_change(
            DbAction::CreateUser,
            "replication@10.0.0.30",
            &[]
        )]
    );
    let mut o = following(&h, Some("10.0.0.30"));
    o.database.as_mut().unwrap().replication_users[0].auth =
        native_password_hash(&Secret::new("old"));
    assert_eq!(
        changes(&h, &o),
        [db_change(
            DbAction::SetPassword,
            "replication@10.0.0.30",
            &[]
        )]
    );
    // A new host (nothing installed): created, then seeded once its server answers.
    let fresh = changes(&h, &observed(&h, false, unit("", "inactive")));
    assert_eq!(fresh.iter().filter(|c| **c == seed).count(), 1, "{fresh:?}");
    // The schema is the primary's: a replica gets its tables through replication.
    assert!(!fresh.contains(&db_change(DbAction::LoadSchema, DB, &[])));
}

#[test]
fn a_configuration_changing_in_read_only_alone_reloads_the_database_not_restarts_it() {
    // db-02 promoted: its configuration loses read_only (and its comment), nothing else.
    let mut h = replica();
    let f = h
        .files
        .iter_mut()
        .find(|f| f.path == "/etc/mysql/my.cnf")
        .unwrap();
    f.template = "mysql/server.cnf.tera".into();
    let live = format!("{}# A replica.\nread_only = ON\n", f.content);
    let action = |live: &str| {
        let mut o = following(&h, Some("10.0.0.30"));
        drift(&mut o, "/etc/mysql/my.cnf");
        o.contents.insert("/etc/mysql/my.cnf".into(), live.into());
        changes(&h, &o)
            .into_iter()
            .find_map(|c| match c {
                Change::Service { name, action, .. } if name == DB_SVC => Some(action),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(action(&live), ServiceAction::Reload);
    // Anything else changing with it: a restart.
    assert_eq!(
        action(&live.replace("key = 1", "key = 2")),
        ServiceAction::Restart
    );
}
