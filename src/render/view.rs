//! What the templates see: plain values computed once from the topology (`site`, `lb`, `web`,
//! `app`, `db`, `dns`), plus `host` for the host being rendered. The README lists every variable.

use crate::desired::{DnsRecord, Zone, ZoneKey, ZoneServer};
use crate::topology::check::resolve_servers;
use crate::topology::*;
use serde_json::{Value, json};
use std::net::IpAddr;

pub const DB_PRIVILEGES: [&str; 4] = ["SELECT", "INSERT", "UPDATE", "DELETE"];

pub fn site_config_path(t: &Topology) -> String {
    format!("/etc/nginx/conf.d/{}.conf", app_name(t))
}

pub fn zone_file_path(zone: &str) -> String {
    format!("/var/lib/bind/db.{}", zone.trim_end_matches('.'))
}

pub use crate::desired::TSIG_KEY_FILE;

/// The TXT record listing the names this tool wrote in a zone (what `prune` may delete).
pub fn registry_name(zone: &str) -> String {
    format!("_foobar-infra.{}", zone.trim_end_matches('.'))
}

/// Where RFC 2136 updates go: `dns.server` (a host or `ADDRESS[:PORT]`), or the `dns` host.
pub fn dns_server(t: &Topology) -> Option<ZoneServer> {
    let dns = t.dns.as_ref()?;
    if dns.provider.value != DnsProvider::Rfc2136 {
        return None;
    }
    let host = match &dns.server {
        Some(s) => {
            if let Ok(a) = s.value.parse::<std::net::SocketAddr>() {
                return Some(ZoneServer {
                    host: None,
                    address: a,
                });
            }
            if let Ok(ip) = s.value.parse::<IpAddr>() {
                return Some(ZoneServer {
                    host: None,
                    address: std::net::SocketAddr::new(ip, 53),
                });
            }
            t.host(&s.value)?
        }
        None => t.hosts_with(Role::Dns).next()?,
    };
    Some(ZoneServer {
        host: Some(host.name.value.clone()),
        address: std::net::SocketAddr::new(host.address.value, 53),
    })
}

fn app_name(t: &Topology) -> String {
    t.app
        .as_ref()
        .map_or_else(|| "site".into(), |a| a.name.value.clone())
}

fn endpoint(address: IpAddr, port: u16) -> String {
    match address {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("ipv6@{a}:{port}"),
    }
}

/// Addresses the database user may connect from: `allowed_hosts`, or every app host.
pub fn db_clients(t: &Topology) -> Vec<String> {
    let mut out: Vec<String> = t
        .db_client_hosts()
        .iter()
        .map(|h| h.address.value.to_string())
        .collect();
    out.dedup();
    out
}

/// The addresses of the other `db` hosts: where the replication account connects from.
pub fn db_peers(t: &Topology, h: &Host) -> Vec<String> {
    t.hosts_with(Role::Db)
        .filter(|o| o.name.value != h.name.value)
        .map(|o| o.address.value.to_string())
        .collect()
}

fn servers(t: &Topology, refs: &[ServerRef], port: u16) -> Value {
    resolve_servers(t, refs)
        .into_iter()
        .map(|(h, weight)| {
            json!({
                "name": h.name.value,
                "address": h.address.value.to_string(),
                "endpoint": endpoint(h.address.value, port),
                "weight": weight.unwrap_or(100),
            })
        })
        .collect()
}

/// The records with host names resolved to addresses.
pub fn zone(t: &Topology) -> Option<Zone> {
    let dns = t.dns.as_ref()?;
    let records = dns
        .records
        .iter()
        .filter_map(|r| {
            let address = match &r.target.value {
                Target::Address(ip) => *ip,
                Target::Host(name) => t.host(name)?.address.value,
            };
            Some(DnsRecord {
                name: r.name.value.clone(),
                fqdn: Topology::record_fqdn(&dns.zone, &r.name),
                address: address.to_string(),
                ttl: r.ttl.unwrap_or(dns.ttl),
            })
        })
        .collect();
    let zone = dns.zone.value.trim_end_matches('.').to_string();
    Some(Zone {
        registry: registry_name(&zone),
        zone,
        ttl: dns.ttl,
        records,
        provider: dns.provider.value,
        server: dns_server(t),
        key: dns.key.as_ref().map(|k| ZoneKey {
            name: k.name.value.trim_end_matches('.').to_string(),
            algorithm: k.algorithm.value,
            secret_from: crate::secret::describe(&k.secret.value),
        }),
        prune: dns.prune,
    })
}

/// Where HAProxy's certificates live (`crt-base`).
pub const CERT_DIR: &str = "/etc/haproxy/certs";

/// The site's certificate file in `CERT_DIR`: `DOMAIN.pem`.
fn certificate_name(t: &Topology) -> String {
    format!("{}.pem", t.domain.value.trim_end_matches('.'))
}

/// The load balancer's certificate chain and, beside it, its key: HAProxy 2.6 loads
/// `CRT.key` next to each `crt` it is given (`ssl-load-extra-files` defaults to `all`).
pub struct TlsFiles {
    pub certificate: String,
    pub key: String,
}

/// The TLS files of the load balancer, when it serves HTTPS.
pub fn tls_files(t: &Topology) -> Option<TlsFiles> {
    t.load_balancer.as_ref()?.tls.as_ref()?;
    let certificate = format!("{CERT_DIR}/{}", certificate_name(t));
    Some(TlsFiles {
        key: format!("{certificate}.key"),
        certificate,
    })
}

/// Everything but the host: built once per render.
/// keepalived's view of the VIP: the address, the election's settings, and every `lb` host with
/// its priority (each host's file speaks to the others).
fn vip(t: &Topology, lb: &crate::topology::LoadBalancer) -> Option<Value> {
    let vip = lb.vip.as_ref()?;
    let f = &lb.failover;
    let hosts: Vec<Value> = t
        .hosts_with(Role::Lb)
        .enumerate()
        .map(|(i, h)| {
            json!({
                "name": h.name.value,
                "address": h.address.value.to_string(),
                "priority": f.priority(&h.name.value, i),
            })
        })
        .collect();
    // HAProxy's first plain port: the check asks it for any answer.
    let port = lb.listen.first().map_or(80, |p| p.value);
    Some(json!({
        "address": vip.address.value.to_string(),
        "cidr": vip.cidr(),
        "router_id": f.router_id,
        "interface": f.interface,
        "advert": format!("{}.{:02}", f.advert_ms / 1000, (f.advert_ms % 1000) / 10),
        "preempt": f.preempt,
        "hosts": hosts,
        "check_url": format!("http://127.0.0.1:{port}/"),
        "notify": crate::desired::KEEPALIVED_NOTIFY,
        "state_file": crate::desired::VRRP_STATE,
    }))
}

pub fn common(t: &Topology, secrets: &super::Secrets, chain: Option<&str>) -> Value {
    let (db_password, tsig_secret) = (secrets.db_password(), secrets.tsig());
    let domain = &t.domain.value;
    let web_port = t.web.as_ref().map_or(80, |w| w.listen.value);
    let server_name = t
        .web
        .as_ref()
        .and_then(|w| w.server_names.first())
        .map_or_else(|| format!("www.{domain}"), |n| n.value.clone());
    let lb = t.load_balancer.as_ref().map(|lb| {
        let backends: Vec<Value> = lb
            .backends()
            .iter()
            .map(|b| json!({ "name": b.name(), "servers": servers(t, b.servers, web_port) }))
            .collect();
        json!({
            "listen": lb.listen.iter().map(|p| p.value).collect::<Vec<_>>(),
            "algorithm": lb.algorithm,
            "health": {
                "path": lb.health_check.path.value,
                "interval_ms": lb.health_check.interval_ms,
                "rise": lb.health_check.rise,
                "fall": lb.health_check.fall,
            },
            "backends": backends,
            "routes": lb.routes.iter().map(|r| json!({ "path_prefix": r.path_prefix.value, "group": r.group.value })).collect::<Vec<_>>(),
            "timeout_connect_ms": lb.timeout_connect_ms,
            "timeout_client_ms": lb.timeout_client_ms,
            "timeout_server_ms": lb.timeout_server_ms,
            "retries": lb.retries,
            "stats_socket": lb.stats_socket,
            "tls": lb.tls.as_ref().map(|tls| json!({
                "port": tls.port.value,
                "redirect_http": tls.redirect_http,
                "hsts_seconds": tls.hsts_seconds,
                "crt_base": CERT_DIR,
                "crt": certificate_name(t),
                "chain": chain.unwrap_or_default(),
                "key": secrets.tls_key(),
            })),
            "vip": vip(t, lb),
        })
    });
    let web = t.web.as_ref().map(|w| {
        json!({
            "server_names": w.server_names.iter().map(|n| n.value.clone()).collect::<Vec<_>>(),
            "listen": w.listen.value,
            "document_root": w.document_root.value,
            "static_locations": w.static_locations.iter().map(|l| l.value.clone()).collect::<Vec<_>>(),
            "health_path": w.health_path.value,
            "site_config": site_config_path(t),
            "trusted_proxies": t.hosts_with(Role::Lb).map(|h| h.address.value.to_string()).collect::<Vec<_>>(),
        })
    });
    let app = t.app.as_ref().map(|a| {
        let name = &a.name.value;
        let current = format!("/srv/{name}/current");
        let exec_start = a.command.as_ref().map(|c| {
            let c = c.value.trim();
            let c = c.strip_prefix("./").map_or_else(|| c.to_string(), |rest| format!("{current}/{rest}"));
            c.replace('%', "%%")
        });
        json!({
            "name": name,
            "kind": a.kind.value,
            "endpoint": a.listen.value.to_endpoint(),
            "fpm_listen": match &a.listen.value {
                Listen::Unix(p) => p.clone(),
                Listen::Tcp { address, port } => endpoint(*address, *port),
            },
            "upstream": format!("{}_app", name.replace('-', "_")),
            "workers": a.workers,
            "module": a.module.value,
            "exec_start": exec_start,
            "script": a.script,
            "user": a.user.value,
            "root": format!("/srv/{name}"),
            "current": current,
            "env_file": format!("/etc/{name}/app.env"),
            "config_file": format!("/etc/{name}/gunicorn.conf.py"),
            "environment": a.environment.iter().map(|(k, v)| json!({ "key": k.value, "value": v.value })).collect::<Vec<_>>(),
        })
    });
    let db = t.database.as_ref().map(|db| {
        // The app servers and the replicas point at the primary.
        let host = t.db_primary();
        let address = host.map_or_else(|| "127.0.0.1".into(), |h| h.address.value.to_string());
        json!({
            "engine": db.engine.value,
            "name": db.name.value,
            "user": db.user.value,
            "password": db_password,
            "address": address,
            "bind_address": db.bind_address.as_ref().map_or(address.clone(), |b| b.value.to_string()),
            "port": db.port.value,
            "server_id": db.server_id,
            "clients": db_clients(t),
            "privileges": DB_PRIVILEGES,
            "replication": db.replication.as_ref().map(|r| json!({
                "user": r.user.value,
                "password": secrets.replication_password(),
            })),
        })
    });
    let dns = t.dns.as_ref().map(|d| {
        let zone_name = d.zone.value.trim_end_matches('.');
        let records = zone(t).map(|z| z.records).unwrap_or_default();
        let mut nameservers: Vec<Value> = t
            .hosts_with(Role::Dns)
            .map(|h| {
                let taken = records.iter().any(|r| r.name == h.name.value);
                json!({
                    "fqdn": format!("{}.{zone_name}.", h.name.value),
                    "host": h.name.value,
                    "glue": (!taken).then(|| h.name.value.clone()),
                    "address": h.address.value.to_string(),
                })
            })
            .collect();
        if nameservers.is_empty() {
            nameservers.push(
                json!({ "fqdn": format!("ns1.{zone_name}."), "host": "ns1", "glue": null, "address": null }),
            );
        }
        let registry = registry_name(zone_name);
        let mut grants: Vec<String> = if d.prune {
            vec!["zonesub A".into()]
        } else {
            records
                .iter()
                .map(|r| format!("name {}. A", r.fqdn))
                .collect()
        };
        grants.push(format!("name {registry}. TXT"));
        json!({
            "zone": zone_name,
            "ttl": d.ttl,
            "key": d.key.as_ref().map(|k| json!({
                "name": k.name.value.trim_end_matches('.'),
                "algorithm": k.algorithm.value.name(),
                "secret": tsig_secret,
                "file": TSIG_KEY_FILE,
            })),
            "grants": grants,
            "registry": registry,
            "serial": 1,
            "primary": nameservers[0]["fqdn"],
            "nameservers": nameservers,
            "records": records,
            "zone_file": zone_file_path(zone_name),
        })
    });
    json!({
        "site": { "domain": domain, "server_name": server_name, "app_name": app_name(t) },
        "lb": lb,
        "web": web,
        "app": app,
        "db": db,
        "dns": dns,
    })
}

/// The context for one host: the common values plus `host`, and on a `db` host what is its own
/// (server id, bind address, whether it is the primary, where its replication peers are).
pub fn for_host(
    t: &Topology,
    common: &Value,
    h: &Host,
    firewall: Option<&crate::firewall::HostFirewall>,
) -> tera::Context {
    let mut v = common.clone();
    if let (Some(db), true) = (t.database.as_ref(), h.has(Role::Db)) {
        let own = h.address.value.to_string();
        let d = &mut v["db"];
        d["server_id"] = json!(t.db_server_id(&h.name.value).unwrap_or(db.server_id));
        d["bind_address"] = json!(
            db.bind_address
                .as_ref()
                .map_or(own, |b| b.value.to_string())
        );
        let primary = t.db_primary().is_none_or(|p| p.name.value == h.name.value);
        d["role"] = json!(if primary { "primary" } else { "replica" });
        if d["replication"].is_object() {
            d["replication"]["peers"] = json!(db_peers(t, h));
        }
    }
    v["host"] = json!({
        "name": h.name.value,
        "address": h.address.value.to_string(),
        "roles": h.roles.iter().map(|r| r.value).collect::<Vec<_>>(),
    });
    if let Some(fw) = firewall {
        let mut f = fw.view();
        f["file"] = json!(crate::firewall::RULES_FILE);
        f["unit"] = json!(crate::firewall::UNIT);
        v["firewall"] = f;
    }
    tera::Context::from_value(v).unwrap_or_default()
}
