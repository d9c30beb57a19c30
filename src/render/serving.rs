//! How a host proves that it serves after a change, and where it sits behind the load
//! balancers: computed from the topology once, so that apply, rolling changes and verify work
//! from `Desired` alone.

use crate::desired::{HealthCheck, HttpCheck, LbMembership};
use crate::topology::check::resolve_servers;
use crate::topology::{Host, Role, Topology};

/// The Host header health checks send: the first server name, else the domain.
pub fn host_header(t: &Topology) -> String {
    t.web
        .as_ref()
        .and_then(|w| w.server_names.first())
        .map_or_else(|| t.domain.value.clone(), |n| n.value.clone())
}

/// The checks that prove `h` serves, in the order they run: Nginx, the database, the load
/// balancer.
pub fn health(t: &Topology, h: &Host) -> Vec<HealthCheck> {
    let mut checks = Vec::new();
    if h.has(Role::Web)
        && let Some(w) = &t.web
    {
        checks.push(HealthCheck::Web(HttpCheck {
            port: w.listen.value,
            path: w.health_path.value.clone(),
            host_header: host_header(t),
            tls: false,
        }));
    }
    if h.has(Role::Db) && t.database.is_some() {
        checks.push(HealthCheck::Database);
    }
    if h.has(Role::Lb)
        && t.web.is_some()
        && let Some(lb) = &t.load_balancer
        && let Some(port) = lb.listen.first()
    {
        // With HTTPS, plain HTTP may only redirect: the site is checked where it is served.
        checks.push(HealthCheck::LoadBalancer(HttpCheck {
            port: lb.tls.as_ref().map_or(port.value, |tls| tls.port.value),
            path: lb.health_check.path.value.clone(),
            host_header: host_header(t),
            tls: lb.tls.is_some(),
        }));
    }
    checks
}

/// Every server line, on every load-balancer host, that sends traffic to `h`.
pub fn memberships(t: &Topology, h: &Host) -> Vec<LbMembership> {
    let Some(lb) = &t.load_balancer else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for b in lb.backends() {
        let backend = b.name();
        if !resolve_servers(t, b.servers)
            .iter()
            .any(|(s, _)| s.name.value == h.name.value)
        {
            continue;
        }
        for lb_host in t.hosts_with(Role::Lb) {
            out.push(LbMembership {
                lb_host: lb_host.name.value.clone(),
                backend: backend.clone(),
                server: h.name.value.clone(),
                admin_socket: lb.stats_socket.clone(),
                rise_ms: lb.health_check.interval_ms * (u64::from(lb.health_check.rise) + 1),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::HttpCheck;

    fn reference() -> Topology {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/foobar.yaml");
        let loaded =
            crate::topology::load(crate::topology::read(&path).unwrap(), &|_| Some("x".into()));
        loaded.topology.unwrap()
    }

    #[test]
    fn each_web_host_knows_its_server_line_on_the_load_balancer() {
        let t = reference();
        let web = t.host("web-02").unwrap();
        let m = memberships(&t, web);
        assert_eq!(
            m,
            [LbMembership {
                lb_host: "lb-01".into(),
                backend: "web".into(),
                server: "web-02".into(),
                admin_socket: t.load_balancer.as_ref().unwrap().stats_socket.clone(),
                rise_ms: 2000 * 3,
            }]
        );
        assert!(memberships(&t, t.host("db-01").unwrap()).is_empty());
    }

    #[test]
    fn health_checks_follow_the_roles() {
        let t = reference();
        let web = health(&t, t.host("web-01").unwrap());
        assert_eq!(
            web,
            [HealthCheck::Web(HttpCheck {
                port: 80,
                path: t.web.as_ref().unwrap().health_path.value.clone(),
                host_header: "www.foobar.com".into(),
                tls: false,
            })]
        );
        assert_eq!(
            health(&t, t.host("db-01").unwrap()),
            [HealthCheck::Database]
        );
        assert!(matches!(
            health(&t, t.host("lb-01").unwrap()).as_slice(),
            [HealthCheck::LoadBalancer(HttpCheck { port: 80, .. })]
        ));
    }

    #[test]
    fn with_a_vip_a_server_is_drained_on_every_load_balancer() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("inventories/lab-ha.yaml");
        let loaded =
            crate::topology::load(crate::topology::read(&path).unwrap(), &|_| Some("x".into()));
        let t = loaded.topology.unwrap();
        let lbs: Vec<String> = memberships(&t, t.host("web-02").unwrap())
            .into_iter()
            .map(|m| m.lb_host)
            .collect();
        assert_eq!(lbs, ["lb-01", "lb-02"]);
    }
}
