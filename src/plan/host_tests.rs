//! Table tests of `host_plan`: desired x observed -> changes, without a host.

use super::*;
use crate::desired::Action::{Reload, Restart};
use crate::desired::{DatabaseState, File, Notify, Release, Service};
use crate::observe::{DbUser, FileFacts};
use crate::plan::DbAction::*;
use crate::plan::FileAction::{Attributes, Create, Update};
use crate::plan::ServiceAction as Svc;
use crate::plan::{Difference, first_difference, sha256_hex, stale_reason};
use crate::topology::{Engine, Role};

const APP: &str = "foobar-app.service";
const UNIT: &str = "/etc/systemd/system/foobar-app.service";
const ENV: &str = "/etc/foobar/app.env";
const GUNICORN: &str = "/etc/foobar/gunicorn.conf.py";
const NGINX: &str = "/etc/nginx/nginx.conf";
const DB_SVC: &str = "mariadb.service";
const RELEASE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const PASSWORD: &str = "s3cret";
const SCHEMA: &str = "5c4e3a";
const PRIVILEGES: [&str; 4] = ["SELECT", "INSERT", "UPDATE", "DELETE"];
const CLIENTS: [&str; 2] = ["10.0.0.21", "10.0.0.22"];
const DB: &str = "foobar";
const A: &str = "foobar@10.0.0.21";
const B: &str = "foobar@10.0.0.22";
const OWED: &str = "owed by an earlier apply that did not finish";
const ENV_CHANGES: &str = "/etc/foobar/app.env changes";

#[path = "host_tests_certificate.rs"]
mod certificate;
#[path = "host_tests_firewall.rs"]
mod firewall_tests;
#[path = "host_tests_replication.rs"]
mod replication_tests;
#[path = "host_tests_seen.rs"]
mod seen_tests;

/// A managed file: two lines naming it.
fn file(path: &str, service: &str, action: Action) -> File {
    let content = format!("# {path}\nkey = 1\n");
    File {
        path: path.into(),
        template: String::new(),
        sha256: sha256_hex(content.as_bytes()),
        content,
        mode: 0o644,
        owner: "root".into(),
        group: "root".into(),
        sensitive: false,
        validate: None,
        notify: vec![Notify {
            service: service.into(),
            action,
        }],
        create_only: false,
        certificate: false,
    }
}

/// A host with (a trimmed version of) what `render` gives each of `roles`.
fn host(roles: &[Role]) -> HostState {
    let mut h = HostState {
        name: "h1".into(),
        address: "10.0.0.11".into(),
        roles: roles.to_vec(),
        packages: vec![],
        users: vec![],
        files: vec![],
        services: vec![],
        release: None,
        database: None,
        health: vec![],
        memberships: vec![],
        firewall: None,
        vip: None,
    };
    for role in roles {
        let (package, path, service, action) = match role {
            Role::Lb => ("haproxy", "/etc/haproxy/haproxy.cfg", "haproxy", Reload),
            Role::Web => ("nginx", NGINX, "nginx", Reload),
            Role::Dns => ("bind9", "/etc/bind/zone.db", "named.service", Reload),
            Role::Db => ("mariadb-server", "/etc/mysql/my.cnf", DB_SVC, Restart),
            Role::App => ("gunicorn", ENV, APP, Restart),
        };
        h.packages.push(package.into());
        h.files.push(file(path, service, action));
        h.services.push(Service {
            name: service.into(),
            enabled: true,
            running: true,
        });
        if *role == Role::App {
            let env = h.files.last_mut().unwrap();
            (env.sensitive, env.mode, env.group) = (true, 0o640, "foobar".into());
            h.users.push("foobar".into());
            h.files.push(file(GUNICORN, APP, Reload));
            h.files.push(file(UNIT, APP, Restart));
            h.release = Some(Release {
                app: "foobar".into(),
                source: "app".into(),
                sha256: RELEASE.into(),
                files: 3,
                bytes: 100,
                root: "/srv/foobar".into(),
                owner: "foobar".into(),
                notify: vec![Notify {
                    service: APP.into(),
                    action: Reload,
                }],
            });
        }
        if *role == Role::Db {
            h.database = Some(DatabaseState {
                engine: Engine::Mariadb,
                name: DB.into(),
                port: 3306,
                user: "foobar".into(),
                clients: CLIENTS.map(String::from).to_vec(),
                privileges: PRIVILEGES.to_vec(),
                password_from: "inline".into(),
                bootstrap_template: String::new(),
                schema: Some("schema.sql".into()),
                bootstrap: Secret::new(""),
                schema_sql: None,
                replication: None,
            });
        }
    }
    h
}

/// What a host reports that has everything `h` wants (`has`), or nothing yet (`!has`, its units
/// then in state `unit`).
fn observed(h: &HostState, has: bool, unit: ServiceFacts) -> Observed {
    let facts = |f: &File| FileFacts {
        sha256: f.sha256.clone(),
        mode: f.mode,
        owner: f.owner.clone(),
        group: f.group.clone(),
        not_regular: None,
    };
    let mut granted = PRIVILEGES.map(String::from).to_vec();
    granted.sort();
    let user = |c: &String| DbUser {
        host: c.clone(),
        auth: native_password_hash(&Secret::new(PASSWORD)),
        privileges: granted.clone(),
    };
    let db = |d: &DatabaseState| DbFacts {
        running: has,
        database_exists: has,
        users: d.clients.iter().filter(|_| has).map(user).collect(),
        schema_sha256: has.then(|| SCHEMA.into()),
        ..DbFacts::default()
    };
    Observed {
        packages: h.packages.iter().map(|p| (p.clone(), has)).collect(),
        files: (h.files.iter())
            .map(|f| (f.path.clone(), has.then(|| facts(f))))
            .collect(),
        services: (h.services.iter())
            .map(|s| (s.name.clone(), unit.clone()))
            .collect(),
        users: h.users.iter().map(|u| (u.clone(), has)).collect(),
        release: h.release.as_ref().filter(|_| has).map(|r| r.sha256.clone()),
        database: h.database.as_ref().map(db),
        ..Default::default()
    }
}

fn matching(h: &HostState) -> Observed {
    observed(h, true, unit("enabled", "active"))
}

fn unit(enabled: &str, active: &str) -> ServiceFacts {
    ServiceFacts {
        enabled: enabled.into(),
        active: active.into(),
        ..Default::default()
    }
}

fn plan(h: &HostState, o: &Observed) -> ResourcePlan {
    host_plan(h, o, Some(&Secret::new(PASSWORD)), &Some(SCHEMA.into()))
}

fn changes(h: &HostState, o: &Observed) -> Vec<Change> {
    plan(h, o).changes
}

/// Makes the live `path` differ from the rendered one; returns its facts for more edits.
fn drift<'a>(o: &'a mut Observed, path: &str) -> &'a mut FileFacts {
    let f = o.files.get_mut(path).and_then(|f| f.as_mut()).expect(path);
    f.sha256 = "0".repeat(64);
    f
}

fn svc(name: &str, action: ServiceAction, reason: &str) -> Change {
    Change::Service {
        name: name.into(),
        action,
        reason: reason.into(),
    }
}

fn services(mut c: Vec<Change>) -> Vec<Change> {
    c.retain(|c| matches!(c, Change::Service { .. }));
    c
}

/// A change made to what a host reports.
type Edit = fn(&mut Observed);

type Pair = Option<(String, String)>;

/// A file change (ENV is the one sensitive file).
fn file_change(path: &str, action: FileAction, diff: Option<String>, m: Pair, o: Pair) -> Change {
    let (path, sensitive) = (path.to_string(), path == ENV);
    Change::File {
        path,
        action,
        sensitive,
        diff,
        mode: m,
        owner: o,
        replaces: None,
        certificate: None,
    }
}

fn pair(from: &str, to: &str) -> Pair {
    Some((from.into(), to.into()))
}

fn release(from: Option<String>) -> Change {
    Change::Release {
        app: "foobar".into(),
        from,
        to: RELEASE.into(),
        files: 3,
    }
}

fn db_change(action: DbAction, object: &str, revoke: &[&str]) -> Change {
    let revoke = revoke.iter().map(|r| r.to_string()).collect();
    Change::Database {
        action,
        object: object.into(),
        revoke,
    }
}

#[test]
fn new_host_creates_everything_and_starts_new_services() {
    let h = host(&[Role::Web, Role::App]);
    let create = |path: &str| {
        let diff = format!(
            "--- {path} (live)\n+++ {path} (rendered)\n@@ -0,0 +1,2 @@\n+# {path}\n+key = 1\n"
        );
        file_change(path, Create, (path != ENV).then_some(diff), None, None)
    };
    let new = "new service";
    #[rustfmt::skip]
    let want = vec![
        Change::Package { name: "nginx".into() },
        Change::Package { name: "gunicorn".into() },
        Change::User { name: "foobar".into() },
        release(None),
        create(NGINX), create(ENV), create(GUNICORN), create(UNIT),
        svc("nginx", Svc::Enable, new), svc("nginx", Svc::Start, new),
        svc(APP, Svc::Enable, new), svc(APP, Svc::Start, new),
    ];
    // A unit that does not exist reads as empty (the probe's default) or as "not-found".
    for (enabled, active) in [("", ""), ("not-found", "inactive")] {
        let got = changes(&h, &observed(&h, false, unit(enabled, active)));
        assert_eq!(got, want, "units {enabled:?}/{active:?}");
    }
}

#[test]
fn nothing_to_do_and_phase_by_role() {
    let cases: [(&[Role], Phase); 7] = [
        (&[Role::Db], Phase::Database),
        (&[Role::Web], Phase::Servers),
        (&[Role::App], Phase::Servers),
        (&[Role::Web, Role::App], Phase::Servers),
        (&[Role::Lb], Phase::LoadBalancer),
        (&[Role::Dns], Phase::LoadBalancer),
        (&[Role::Web, Role::Lb], Phase::LoadBalancer),
    ];
    for (roles, phase) in cases {
        let h = host(roles);
        let p = plan(&h, &matching(&h));
        assert_eq!(p.changes, vec![], "{roles:?}: nothing to change");
        assert_eq!((p.phase, Phase::of(&h)), (phase, phase), "{roles:?}");
        assert_eq!(p.name(), "h1");
    }
}

#[test]
fn drifted_file_is_updated_with_a_diff_and_reloads_its_service() {
    let h = host(&[Role::Web]);
    let diff = "--- /etc/nginx/nginx.conf (live)\n+++ /etc/nginx/nginx.conf (rendered)\n\
                @@ -1,2 +1,2 @@\n # /etc/nginx/nginx.conf\n-key = 0\n+key = 1\n";
    let live = "# /etc/nginx/nginx.conf\nkey = 0\n";
    // Without the live text (too big, or not fetched) the change is the same, without a diff.
    for (live, diff) in [(Some(live), Some(diff)), (None, None)] {
        let mut o = matching(&h);
        drift(&mut o, NGINX);
        o.contents.extend(live.map(|l| (NGINX.into(), l.into())));
        let want = vec![
            file_change(NGINX, Update, diff.map(String::from), None, None),
            svc("nginx", Svc::Reload, "/etc/nginx/nginx.conf changes"),
        ];
        assert_eq!(changes(&h, &o), want, "live text {live:?}");
    }
}

#[test]
fn attributes_only_change_mode_and_owner_without_service_action() {
    let mode = pair("0600", "0644");
    #[rustfmt::skip]
    let cases = [
        (0o600, "root", "root", mode.clone(), None),
        (0o644, "www-data", "root", None, pair("www-data:root", "root:root")),
        (0o644, "root", "adm", None, pair("root:adm", "root:root")),
        (0o600, "nobody", "nogroup", mode, pair("nobody:nogroup", "root:root")),
    ];
    let h = host(&[Role::Web]);
    for (m, user, group, mode, owner) in cases {
        let mut o = matching(&h);
        let f = o.files.get_mut(NGINX).and_then(|f| f.as_mut()).unwrap();
        (f.mode, f.owner, f.group) = (m, user.into(), group.into());
        let want = vec![file_change(NGINX, Attributes, None, mode, owner)];
        assert_eq!(changes(&h, &o), want, "{m:o} {user}:{group}: no reload");
    }
}

#[test]
fn sensitive_file_has_no_diff() {
    let h = host(&[Role::App]);
    let mut o = matching(&h);
    drift(&mut o, ENV).mode = 0o644;
    // Even if its text were fetched, it is never shown.
    o.contents.insert(ENV.into(), "DB_PASSWORD=old\n".into());
    let want = vec![
        file_change(ENV, Update, None, pair("0644", "0640"), None),
        svc(APP, Svc::Restart, ENV_CHANGES),
    ];
    assert_eq!(changes(&h, &o), want);
}

#[test]
fn pending_actions_are_owed_once_and_the_stronger_wins() {
    #[rustfmt::skip]
    let cases = [
        (vec![(APP, Reload)], None, Svc::Reload, OWED),
        (vec![(APP, Reload), (APP, Reload)], None, Svc::Reload, OWED),
        (vec![(APP, Reload), (APP, Restart)], None, Svc::Restart, OWED),
        // The file's restart is stronger than the owed reload: its reason comes with it.
        (vec![(APP, Reload)], Some(ENV), Svc::Restart, ENV_CHANGES),
        (vec![(APP, Restart)], Some(GUNICORN), Svc::Restart, OWED),
    ];
    let h = host(&[Role::App]);
    for (pending, drifted, action, reason) in cases {
        let mut o = matching(&h);
        o.pending = pending.iter().map(|(s, a)| (s.to_string(), *a)).collect();
        if let Some(path) = drifted {
            drift(&mut o, path);
        }
        let (got, want) = (services(changes(&h, &o)), vec![svc(APP, action, reason)]);
        assert_eq!(got, want, "pending {pending:?}, {drifted:?} drifted");
    }
}

#[test]
fn unit_file_change_restarts_its_service() {
    let h = host(&[Role::App]);
    let reason = format!("its unit file changes ({UNIT} changes)");
    let want = vec![
        file_change(UNIT, Update, None, None, None),
        svc(APP, Svc::Restart, &reason),
    ];
    for pending in [vec![], vec![(APP.to_string(), Reload)]] {
        let mut o = matching(&h);
        o.pending = pending.clone();
        drift(&mut o, UNIT);
        assert_eq!(changes(&h, &o), want, "pending {pending:?}");
    }
}

#[test]
fn only_its_own_unit_file_changing_in_content_restarts_a_service() {
    let h = host(&[Role::App]);
    // Mode only: the service keeps the reload it was owed.
    let mut o = matching(&h);
    o.pending = vec![(APP.to_string(), Reload)];
    if let Some(Some(f)) = o.files.get_mut(UNIT) {
        f.mode = 0o600;
    }
    let owed = "owed by an earlier apply that did not finish";
    assert_eq!(services(changes(&h, &o)), [svc(APP, Svc::Reload, owed)]);
    // Another unit whose name ends like this one's is not this one's unit file.
    let mut other = h.clone();
    other.services[0].name = format!("x{APP}");
    let mut o = matching(&other);
    o.pending = vec![(other.services[0].name.clone(), Reload)];
    drift(&mut o, UNIT);
    assert_eq!(
        services(changes(&other, &o)),
        [svc(&other.services[0].name, Svc::Reload, owed)]
    );
}

#[test]
fn a_link_at_a_managed_path_is_replaced_never_read() {
    let h = host(&[Role::Web]);
    let mut o = matching(&h);
    let link = drift(&mut o, NGINX);
    link.sha256 = String::new();
    link.mode = 0o777;
    link.not_regular = Some("symbolic link".into());
    // Contents fetched through the link would be a secret in the diff: none is used.
    o.contents.insert(NGINX.into(), "root:$6$hash:...".into());
    let mut c = changes(&h, &o);
    c.retain(|c| matches!(c, Change::File { .. }));
    let Some(Change::File {
        action,
        diff,
        mode,
        replaces,
        ..
    }) = c.first()
    else {
        panic!("{c:?}");
    };
    assert_eq!(*action, Update);
    assert_eq!(replaces.as_deref(), Some("symbolic link"));
    assert!(mode.is_none(), "a link's mode is not the file's");
    assert!(
        diff.as_deref().is_none_or(|d| !d.contains("$6$")),
        "nothing read through the link shows"
    );
}

#[test]
fn new_release_is_deployed_and_notifies_its_service() {
    let h = host(&[Role::App]);
    for from in [None, Some("f".repeat(64))] {
        let mut o = matching(&h);
        o.release = from.clone();
        let reload = svc(APP, Svc::Reload, "release 0123456789ab is deployed");
        let want = vec![release(from.clone()), reload];
        assert_eq!(changes(&h, &o), want, "from {from:?}");
    }
}

#[test]
fn database_objects() {
    fn db(o: &mut Observed) -> &mut DbFacts {
        o.database.as_mut().unwrap()
    }
    let c = |action, object| db_change(action, object, &[]);
    fn wrong() -> String {
        native_password_hash(&Secret::new("old"))
    }
    #[rustfmt::skip]
    let all = vec![c(CreateDatabase, DB), c(CreateUser, A), c(CreateUser, B), c(LoadSchema, DB)];
    #[rustfmt::skip]
    let cases: Vec<(&str, Edit, Vec<Change>)> = vec![
        ("all there", |_| {}, vec![]),
        ("installed, not running", |o| *db(o) = DbFacts::default(), vec![c(Ensure, DB)]),
        ("not installed yet", |o| {
            *db(o) = DbFacts::default();
            o.packages.insert("mariadb-server".into(), false);
        }, all.clone()),
        ("running, empty", |o| *db(o) = DbFacts { running: true, ..Default::default() }, all),
        ("one user missing", |o| { db(o).users.remove(1); }, vec![c(CreateUser, B)]),
        ("wrong native password", |o| db(o).users[0].auth = wrong(), vec![c(SetPassword, A)]),
        ("salted hash left alone", |o| db(o).users[1].auth = "$A$005$salt".into(), vec![]),
        ("missing privilege", |o| db(o).users[0].privileges.truncate(1), vec![c(FixGrants, A)]),
        ("extra privileges", |o| {
            let p = &mut db(o).users[1].privileges;
            p.extend(["DROP".into(), "ALTER".into()]);
            p.sort(); // as the probe reports them
        }, vec![db_change(FixGrants, B, &["ALTER", "DROP"])]),
        ("schema changed", |o| db(o).schema_sha256 = Some("old".into()), vec![c(LoadSchema, DB)]),
        ("schema never loaded", |o| db(o).schema_sha256 = None, vec![c(LoadSchema, DB)]),
    ];
    let h = host(&[Role::Db]);
    for (name, edit, want) in cases {
        let mut o = matching(&h);
        edit(&mut o);
        let mut got = changes(&h, &o);
        got.retain(|c| matches!(c, Change::Database { .. }));
        assert_eq!(got, want, "{name}");
    }
    // Without the secret no password is checked; without a schema file none is loaded.
    let mut o = matching(&h);
    (db(&mut o).users[0].auth, db(&mut o).schema_sha256) = (wrong(), None);
    let got = host_plan(&h, &o, None, &None).changes;
    assert_eq!(got, vec![], "no secret, no schema");
}

#[test]
fn stopped_service_is_started_instead_of_reloaded() {
    let (start, enable, inactive) = (Svc::Start, Svc::Enable, "it is inactive");
    #[rustfmt::skip]
    let cases = [
        ("enabled", "inactive", vec![svc(APP, start, inactive)]),
        ("enabled", "", vec![svc(APP, start, inactive)]),
        ("enabled", "failed", vec![svc(APP, start, "it is failed")]),
        ("disabled", "inactive", vec![svc(APP, enable, "not enabled"), svc(APP, start, inactive)]),
    ];
    let h = host(&[Role::App]);
    for (enabled, active, want) in cases {
        // Owed a reload, and maybe a file change asks for a restart: the start does both.
        for drifted in [None, Some(ENV)] {
            let mut o = matching(&h);
            o.pending = vec![(APP.into(), Reload)];
            o.services.insert(APP.into(), unit(enabled, active));
            if let Some(path) = drifted {
                drift(&mut o, path);
            }
            let got = services(changes(&h, &o));
            assert_eq!(got, want, "{enabled}/{active:?}, {drifted:?} drifted");
        }
    }
}
