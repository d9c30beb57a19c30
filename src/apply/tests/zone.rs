//! The zone's phase, against a zone held in memory that keeps RFC 2136's rules: an update whose
//! prerequisites do not hold changes nothing.

use super::*;
use crate::desired::{DnsRecord, Zone, ZoneServer};
use crate::dns::{Authority, DnsError, Pending, Rrset, Update, ZoneFacts};
use crate::topology::DnsProvider;
use std::collections::BTreeMap;

#[derive(Default)]
struct FakeZone {
    records: Mutex<BTreeMap<String, Rrset>>,
    registry: Mutex<Option<Vec<String>>>,
    serial: Mutex<u32>,
    /// `observe` and `update`, in order, shared with the hosts' log.
    log: Option<Log>,
}

impl FakeZone {
    fn note(&self, what: &str) {
        if let Some(log) = &self.log {
            log.lock().unwrap().push(format!("zone:{what}"));
        }
    }
}

impl Authority for FakeZone {
    fn observe<'a>(&'a self, names: &'a [String]) -> Pending<'a, ZoneFacts> {
        self.note("observe");
        let records = self.records.lock().unwrap();
        let registry = self.registry.lock().unwrap().clone();
        let mut all = names.to_vec();
        all.extend(registry.iter().flatten().cloned());
        let facts = ZoneFacts {
            serial: *self.serial.lock().unwrap(),
            records: all
                .into_iter()
                .map(|n| {
                    let r = records.get(&n).cloned();
                    (n, r)
                })
                .collect(),
            registry,
        };
        Box::pin(async move { Ok(facts) })
    }

    fn update<'a>(&'a self, u: &'a Update) -> Pending<'a, ()> {
        self.note("update");
        let mut records = self.records.lock().unwrap();
        let mut registry = self.registry.lock().unwrap();
        let holds = u
            .expect
            .iter()
            .all(|(n, want)| records.get(n) == want.as_ref())
            && u.registry
                .as_ref()
                .is_none_or(|(want, _)| *registry == *want);
        if !holds {
            return Box::pin(async {
                Err(DnsError::Changed {
                    server: "ns1".into(),
                    zone: "example.com".into(),
                    detail: "NXRRSET".into(),
                })
            });
        }
        for (n, to) in &u.set {
            match to {
                Some(r) => records.insert(n.clone(), r.clone()),
                None => records.remove(n),
            };
        }
        if let Some((_, names)) = &u.registry {
            *registry = Some(names.clone());
        }
        *self.serial.lock().unwrap() += 1;
        Box::pin(async { Ok(()) })
    }
}

fn www(address: &str) -> Rrset {
    Rrset::new(60, vec![address.into()])
}

fn zone() -> Zone {
    Zone {
        zone: "example.com".into(),
        ttl: 60,
        records: vec![DnsRecord {
            name: "www".into(),
            fqdn: "www.example.com".into(),
            address: "10.0.0.10".into(),
            ttl: 60,
        }],
        provider: DnsProvider::Rfc2136,
        server: Some(ZoneServer {
            host: None,
            address: "10.0.0.53:53".parse().unwrap(),
        }),
        key: None,
        prune: false,
        registry: "_foobar-infra.example.com".into(),
    }
}

/// The lab with a zone whose server holds `www` at `held`, and the plan of every host plus the
/// zone as planned when `www` was `planned_from`.
fn lab_with_zone(
    fail: &[(&str, &'static str, i32)],
    held: Option<&str>,
    planned_from: Option<&str>,
) -> (Lab, Arc<FakeZone>, Vec<ResourcePlan>) {
    let mut lab = lab(fail, None);
    lab.desired.dns = Some(zone());
    let fake = Arc::new(FakeZone {
        log: Some(lab.log.clone()),
        ..FakeZone::default()
    });
    if let Some(a) = held {
        fake.records
            .lock()
            .unwrap()
            .insert("www.example.com".into(), www(a));
    }
    lab.authority = Some(fake.clone());
    let facts = ZoneFacts {
        serial: 1,
        records: [("www.example.com".to_string(), planned_from.map(www))].into(),
        registry: None,
    };
    let mut plans = lab.plans();
    plans.push(crate::plan::zone_plan(&zone(), Some(&facts), "ns1"));
    (lab, fake, plans)
}

#[test]
fn the_zone_changes_last_in_one_update_read_back() {
    let (lab, fake, plans) = lab_with_zone(&[], None, None);
    let reports = lab.apply(&plans, &[]);
    let zone = reports.iter().find(|r| r.host == "example.com").unwrap();
    assert_eq!(zone.outcome, Outcome::Changed, "{reports:?}");
    assert_eq!(
        zone.done,
        [
            "www.example.com. (none) -> 60 IN A 10.0.0.10",
            "SOA serial 0 -> 1"
        ]
    );
    assert_eq!(
        lab.calls_on("zone"),
        ["observe", "update", "observe"],
        "read, one update, read back"
    );
    let calls = lab.calls();
    let update = calls.iter().position(|c| c == "zone:update").unwrap();
    assert!(lab.last_call("lb-01") < update, "{calls:?}");
    assert_eq!(
        fake.registry.lock().unwrap().clone(),
        Some(vec!["www.example.com".to_string()])
    );
}

#[test]
fn a_record_someone_changed_since_the_plan_is_not_overwritten() {
    let (lab, fake, plans) = lab_with_zone(&[], Some("10.0.0.99"), None);
    let reports = lab.apply(&plans, &[]);
    let zone = reports.iter().find(|r| r.host == "example.com").unwrap();
    assert!(
        matches!(&zone.outcome, Outcome::Failed { step, error, .. }
            if step == "update" && error.contains("changed since it was read")),
        "{zone:?}"
    );
    assert_eq!(
        fake.records.lock().unwrap().get("www.example.com"),
        Some(&www("10.0.0.99")),
        "theirs is kept"
    );
}

#[test]
fn a_zone_planned_blind_is_computed_when_the_update_is_made() {
    let (lab, fake, mut plans) = lab_with_zone(&[], Some("10.0.0.10"), None);
    let blind = crate::plan::zone_plan(&zone(), None, "ns1");
    assert!(blind.note.is_some());
    *plans.last_mut().unwrap() = blind;
    let reports = lab.apply(&plans, &[]);
    let zone = reports.iter().find(|r| r.host == "example.com").unwrap();
    assert_eq!(
        zone.outcome,
        Outcome::Unchanged,
        "it already holds the record"
    );
    assert_eq!(lab.calls_on("zone"), ["observe"]);
    assert_eq!(*fake.serial.lock().unwrap(), 0);
}

#[test]
fn a_failed_load_balancer_leaves_the_zone_alone() {
    let (lab, _fake, plans) = lab_with_zone(&[("lb-01", "files", 1)], None, None);
    let reports = lab.apply(&plans, &[]);
    let zone = reports.iter().find(|r| r.host == "example.com").unwrap();
    assert!(matches!(zone.outcome, Outcome::Skipped { .. }), "{zone:?}");
    assert!(lab.calls_on("zone").is_empty());
}

#[test]
fn a_blind_plan_refuses_what_it_did_not_show() {
    let (lab, fake, mut plans) = lab_with_zone(&[], Some("10.0.0.99"), None);
    *plans.last_mut().unwrap() = crate::plan::zone_plan(&zone(), None, "ns1");
    let reports = lab.apply(&plans, &[]);
    let zone = reports.iter().find(|r| r.host == "example.com").unwrap();
    assert!(
        matches!(&zone.outcome, Outcome::Failed { error, .. } if error.contains("which the plan did not show")),
        "{zone:?}"
    );
    assert_eq!(
        fake.records.lock().unwrap().get("www.example.com"),
        Some(&www("10.0.0.99"))
    );
}
