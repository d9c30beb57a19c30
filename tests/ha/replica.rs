//! The database replica on the lab: a fresh replica joins a primary that already holds rows
//! written through the site, rows written afterwards reach it within a second, plan and verify
//! report its replication; then the primary stops, `promote` makes the replica the primary, the
//! site writes again, and plan refuses until the topology names the new primary.

use crate::support::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HA: &str = "inventories/lab-ha.yaml";
const DB2: &str = "10.89.7.31";

/// POST /greetings through the site: the new row's id, or why not.
fn write(message: &str) -> Result<u64, String> {
    let out = curl_https("/greetings", 5)
        .args(["-X", "POST", "--data", message, "-w", "\n%{http_code}"])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.trim().rsplit_once('\n').unwrap_or(("", text.trim()));
    if code != "201" {
        return Err(format!(
            "HTTP {code} {}{}",
            body.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    v["id"].as_u64().ok_or_else(|| format!("no id in {body}"))
}

/// `COUNT(*)` and `MAX(id)` of the greetings on a database host, read there as root.
fn rows(address: &str) -> (u64, u64) {
    let out = ssh(
        address,
        "sudo mysql -N -B -e 'SELECT COUNT(*), COALESCE(MAX(id), 0) FROM foobar.greetings'",
    );
    let mut f = out.split_whitespace().map(|n| n.parse().unwrap_or(0));
    (f.next().unwrap_or(0), f.next().unwrap_or(0))
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Writes through the site every 100 ms until stopped (at most 1,500 writes or 180 s): when
/// each was sent, and whether it succeeded.
fn writer(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(f64, bool)>> {
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut log = Vec::new();
        while !stop.load(Ordering::SeqCst)
            && log.len() < 1500
            && started.elapsed() < Duration::from_secs(180)
        {
            let at = started.elapsed().as_secs_f64();
            log.push((at, write("during the promote").is_ok()));
            std::thread::sleep(Duration::from_millis(100));
        }
        log
    })
}

/// The longest time the writes failed: from the last success before a run of failures to the
/// first success after it, and how many failed in it.
fn longest_outage(log: &[(f64, bool)]) -> (f64, usize) {
    let mut worst = (0.0, 0);
    let mut last_ok: Option<f64> = None;
    let mut failed = 0;
    for &(at, ok) in log {
        if ok {
            if failed > 0 {
                let gap = at - last_ok.unwrap_or(0.0);
                if gap > worst.0 {
                    worst = (gap, failed);
                }
            }
            failed = 0;
            last_ok = Some(at);
        } else {
            failed += 1;
        }
    }
    worst
}

/// `verify --format json`: whether it passed, the checks that did not, and the evidence of
/// `replication:db-02`.
fn verify() -> (bool, Vec<String>, String) {
    let out = cli()
        .args(["verify", "-i", HA, "--format", "json"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let checks = v["checks"].as_array().unwrap();
    let failed = checks
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| format!("{} {}: {}", c["id"], c["status"], c["evidence"]))
        .collect();
    let evidence = checks
        .iter()
        .find(|c| c["id"] == "replication:db-02")
        .and_then(|c| c["evidence"].as_str())
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_string();
    (out.status.success(), failed, evidence)
}

pub fn a_replica_joins_a_primary_with_rows_follows_it_and_is_promoted_when_it_stops() {
    // The site first runs without the replica (its host up, bare), and takes writes.
    let (_guard, first) = crate::lab();
    println!("first apply (no replica) took {:.1}s", first.1);
    for i in 0..20 {
        write(&format!("before the replica {i}")).unwrap();
    }
    let (before, last_before) = rows(DB);
    assert!(before >= 20, "{before} rows on the primary");

    // The replica joins: seeded from a dump of the primary, then replicating.
    let started = Instant::now();
    let out = cli()
        .args(["apply", "-i", HA, "--auto-approve"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("seed from a consistent dump of the primary"),
        "{stdout}"
    );
    println!(
        "apply adding the replica took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        rows(DB2),
        (before, last_before),
        "the replica holds the primary's rows"
    );
    // The seed wrote no transaction of the replica's own (an errant GTID): every GTID in its
    // binary log is the primary's.
    let ids = ssh(
        DB2,
        "sudo mysql -N -B -e 'SELECT @@server_id, @@gtid_binlog_pos'",
    );
    let (own, binlog) = ids.trim().split_once('\t').unwrap_or((ids.trim(), ""));
    println!("db-02 (server id {own}) after its seed: gtid_binlog_pos {binlog}");
    assert!(
        binlog
            .split(',')
            .filter(|g| !g.is_empty())
            .all(|g| g.split('-').nth(1) != Some(own)),
        "an errant GTID of db-02's own: {binlog}"
    );

    // A row written now reaches the replica within a second (polled there every 10 ms).
    let watch = std::thread::spawn(move || {
        ssh(
            DB2,
            &format!(
                "end=$(($(date +%s) + 10)); while [ \"$(date +%s)\" -lt \"$end\" ]; do \
                 n=$(sudo mysql -N -B -e 'SELECT COUNT(*) FROM foobar.greetings WHERE id > {last_before}'); \
                 if [ \"$n\" -gt 0 ]; then date +%s%N; exit 0; fi; sleep 0.01; done; echo timeout"
            ),
        )
    });
    std::thread::sleep(Duration::from_millis(1500));
    let sent = now_ns();
    let id = write("after the replica").unwrap();
    let seen = watch.join().unwrap();
    let seen: u128 = seen
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("row {id} not seen on the replica: {seen}"));
    let delay = seen.saturating_sub(sent) as f64 / 1e9;
    println!(
        "row {id} written through the site was on the replica {delay:.3}s after the request was sent"
    );
    assert!(delay < 1.0, "{delay}s");

    // plan: nothing to do, and the replica's state; verify: its check passes with the lag.
    let out = cli().args(["plan", "-i", HA]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Replication on db-02: from 10.89.7.30, IO yes, SQL yes, lag "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("(primary 0-1-"), "{line}");
    println!("plan: {line}");
    let (ok, failed, evidence) = verify();
    assert!(failed.is_empty() && ok, "{failed:#?}");
    assert!(
        evidence.contains("lag 0 s") && evidence.contains("(primary 0-1-"),
        "{evidence}"
    );
    println!("verify: replication:db-02 passed: {evidence}");
    // A stopped SQL thread fails that check, and only it.
    ssh(DB2, "sudo mysql -e 'STOP SLAVE SQL_THREAD'");
    let (ok, failed, evidence) = verify();
    ssh(DB2, "sudo mysql -e 'START SLAVE SQL_THREAD'");
    assert!(
        !ok && failed.len() == 1 && failed[0].starts_with("\"replication:db-02\""),
        "{failed:#?}"
    );
    assert!(evidence.contains("SQL thread no"), "{evidence}");
    println!("verify with db-02's SQL thread stopped: {evidence}");

    // The primary stops under writes; promote makes the replica the primary.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = writer(stop.clone());
    std::thread::sleep(Duration::from_secs(2));
    cli().args(["lab", "stop", "db-01"]).assert().success();
    let stopped = Instant::now();
    let out = cli()
        .args([
            "promote",
            "db-02",
            "-i",
            HA,
            "--auto-approve",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    assert_eq!(report["fence"]["fence"], "unreachable", "{stdout}");
    assert_eq!(report["edit"], "database.primary: db-02");
    println!(
        "promote took {:.1}s after db-01 stopped; it measured {:.1}s without writes from its fence to the first app server re-pointed",
        stopped.elapsed().as_secs_f64(),
        report["unwritable_seconds"].as_f64().unwrap_or(-1.0)
    );
    // The site writes again, on db-02.
    let back = Instant::now();
    let id = loop {
        match write("after the promote") {
            Ok(id) => break id,
            Err(e) if back.elapsed() > Duration::from_secs(30) => panic!("no write since: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::SeqCst);
    let log = writes.join().unwrap();
    let (outage, failed) = longest_outage(&log);
    println!(
        "the site could not write for {outage:.1}s ({failed} of {} writes failed) around the primary's stop and the promote",
        log.len()
    );
    assert!(rows(DB2).1 >= id, "row {id} is on db-02");
    assert_eq!(
        ssh(DB2, "sudo mysql -N -B -e 'SELECT @@read_only'").trim(),
        "0"
    );

    // The topology still names db-01: plan refuses, naming the edit.
    let out = cli().args(["plan", "-i", HA]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("`database.primary: db-02`"),
        "{stdout}\n{stderr}"
    );
    // So does a plan limited to an app server, which would point it back at db-01: the db hosts
    // left out are read all the same.
    let out = cli()
        .args(["plan", "-i", HA, "--limit", "web-01"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("`database.primary: db-02`"),
        "{stdout}\n{stderr}"
    );
    // Once it says so, plan acts again: db-01, back (it was never fenced), is a replica to seed.
    let (_edited, promoted) = variant_of(HA, |t| t.replace("primary: db-01", "primary: db-02"));
    cli().args(["lab", "start", "db-01"]).assert().success();
    let out = cli().args(["plan", "-i", &promoted]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("replica of db-02"), "{stdout}");
    // db-02 got the schema marker with its seed: its schema is not loaded again over its data.
    assert!(!stdout.contains("load the schema"), "{stdout}");
    // Its configuration loses read_only alone: set live, MariaDB not restarted (no write outage).
    assert!(
        stdout.contains("service mariadb.service: reload"),
        "{stdout}"
    );
    let db2_events = lifecycle_events(DB2, "mariadb.service");
    // But db-01 holds rows of its own that no seed of this tool put there: the seed is refused,
    // its rows kept.
    let held = rows(DB);
    let out = cli()
        .args(["apply", "-i", &promoted, "--auto-approve"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(
        all.contains("refused to seed") && all.contains("greetings"),
        "{all}"
    );
    assert_eq!(rows(DB), held, "db-01's rows are kept");
    assert_eq!(
        lifecycle_events(DB2, "mariadb.service"),
        db2_events,
        "MariaDB on the new primary was not restarted"
    );
    println!(
        "the old primary back, holding {} rows: its seed refused",
        held.0
    );
}
