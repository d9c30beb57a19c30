//! A zone's changes: a pure function of the records the topology names and what the zone's
//! server holds.

use super::{Change, Owner, Phase, ResourcePlan, Seen, sha256_hex};
use crate::desired::Zone;
use crate::dns::{Rrset, ZoneFacts};

/// Each topology record whose A records differ, then (with `prune`) each name this tool wrote
/// that the topology no longer lists. Records the tool never wrote are not touched.
pub fn record_changes(zone: &Zone, facts: &ZoneFacts) -> Vec<Change> {
    let mut changes = Vec::new();
    for r in &zone.records {
        let want = Rrset::new(r.ttl, vec![r.address.clone()]);
        let have = facts.records.get(&r.fqdn).cloned().flatten();
        if have.as_ref() != Some(&want) {
            changes.push(Change::Record {
                name: r.fqdn.clone(),
                from: have,
                to: Some(want),
            });
        }
    }
    if zone.prune {
        for name in facts.registry.iter().flatten() {
            if zone.records.iter().any(|r| &r.fqdn == name) {
                continue;
            }
            if let Some(have) = facts.records.get(name).cloned().flatten() {
                changes.push(Change::Record {
                    name: name.clone(),
                    from: Some(have),
                    to: None,
                });
            }
        }
    }
    changes
}

/// The zone's plan. `facts` is none when its server (a host this run sets up) does not answer
/// yet: the zone it creates is empty, and `note` says so.
pub fn zone_plan(zone: &Zone, facts: Option<&ZoneFacts>, server: &str) -> ResourcePlan {
    let empty = ZoneFacts::default();
    let seen_facts = facts.unwrap_or(&empty);
    let rest = serde_json::json!({
        "answered": facts.is_some(),
        "records": seen_facts.records,
        "registry": seen_facts.registry,
    });
    ResourcePlan {
        owner: Owner::Zone {
            zone: zone.zone.clone(),
            server: server.to_string(),
        },
        phase: Phase::Dns,
        changes: record_changes(zone, seen_facts),
        seen: Seen {
            rest: sha256_hex(rest.to_string().as_bytes()),
            ..Seen::default()
        },
        replication: None,
        note: facts.is_none().then(|| {
            format!("{server} does not answer yet: its zone is created by this apply, empty, before these records are added")
        }),
        holds_vip: false,
        shares_vip: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{DnsRecord, ZoneServer};
    use crate::topology::DnsProvider;

    fn zone(prune: bool) -> Zone {
        Zone {
            zone: "foobar.com".into(),
            ttl: 60,
            records: vec![DnsRecord {
                name: "www".into(),
                fqdn: "www.foobar.com".into(),
                address: "10.0.0.1".into(),
                ttl: 60,
            }],
            provider: DnsProvider::Rfc2136,
            server: Some(ZoneServer {
                host: Some("ns1".into()),
                address: "10.0.0.53:53".parse().unwrap(),
            }),
            key: None,
            prune,
            registry: "_foobar-infra.foobar.com".into(),
        }
    }

    fn facts(records: &[(&str, Option<&str>)], registry: &[&str]) -> ZoneFacts {
        ZoneFacts {
            serial: 7,
            records: records
                .iter()
                .map(|(n, a)| (n.to_string(), a.map(|a| Rrset::new(60, vec![a.into()]))))
                .collect(),
            registry: Some(registry.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn a_missing_record_is_created_and_a_matching_one_left() {
        let c = record_changes(&zone(false), &facts(&[("www.foobar.com", None)], &[]));
        assert_eq!(
            c,
            vec![Change::Record {
                name: "www.foobar.com".into(),
                from: None,
                to: Some(Rrset::new(60, vec!["10.0.0.1".into()]))
            }]
        );
        let same = facts(&[("www.foobar.com", Some("10.0.0.1"))], &["www.foobar.com"]);
        assert!(record_changes(&zone(false), &same).is_empty());
    }

    #[test]
    fn a_changed_ttl_or_address_is_a_change_from_what_the_server_holds() {
        let mut f = facts(&[("www.foobar.com", Some("10.0.0.9"))], &[]);
        let c = record_changes(&zone(false), &f);
        assert!(
            matches!(&c[0], Change::Record { from: Some(r), .. } if r.addresses == ["10.0.0.9"])
        );
        f.records.insert(
            "www.foobar.com".into(),
            Some(Rrset::new(300, vec!["10.0.0.1".into()])),
        );
        assert_eq!(record_changes(&zone(false), &f).len(), 1);
    }

    #[test]
    fn names_the_topology_dropped_are_deleted_only_when_pruning_and_only_if_written_by_us() {
        let f = facts(
            &[
                ("www.foobar.com", Some("10.0.0.1")),
                ("old.foobar.com", Some("10.0.0.2")),
                ("theirs.foobar.com", Some("10.0.0.3")),
            ],
            &["old.foobar.com", "www.foobar.com"],
        );
        assert!(record_changes(&zone(false), &f).is_empty());
        assert_eq!(
            record_changes(&zone(true), &f),
            vec![Change::Record {
                name: "old.foobar.com".into(),
                from: Some(Rrset::new(60, vec!["10.0.0.2".into()])),
                to: None
            }]
        );
    }

    #[test]
    fn an_unanswering_server_is_planned_as_an_empty_zone_with_a_note() {
        let p = zone_plan(&zone(false), None, "ns1 (10.0.0.53:53)");
        assert_eq!(p.changes.len(), 1);
        assert!(p.note.unwrap().contains("does not answer yet"));
        let answered = zone_plan(&zone(false), Some(&facts(&[], &[])), "ns1");
        assert_ne!(answered.seen, p.seen);
    }
}
