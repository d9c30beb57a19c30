//! `lab up --web N`: the same topology with N web/app hosts, for trying larger sites. The scaled
//! topology is written into the lab's state folder, with its relative paths made absolute.

use crate::topology::Source;
use serde_json::{Map, Value, json};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Keys holding paths relative to the topology file.
const PATH_KEYS: &[&[&str]] = &[
    &["app", "source"],
    &["database", "schema"],
    &["database", "password", "file"],
    &["ssh", "identity_file"],
    &["ssh", "known_hosts"],
    &["load_balancer", "tls", "certificate"],
    &["load_balancer", "tls", "key", "file"],
    &["load_balancer", "tls", "trust"],
];

/// Returns the scaled topology's text: every web host replaced by `web-01`..`web-NN`.
pub fn scale(source: &Source, web: usize) -> Result<String, String> {
    let mut doc: Value =
        serde_saphyr::from_str(&source.text).map_err(|e| format!("{}: {e}", source.name))?;
    let hosts = doc
        .get_mut("hosts")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("{}: no hosts to scale", source.name))?;
    let is_web = |h: &Value| {
        h.get("roles")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|x| x == "web"))
    };
    let addr = |h: &Value| {
        h.get("address")
            .and_then(Value::as_str)
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
    };
    let first_web = hosts
        .values()
        .filter(|h| is_web(h))
        .filter_map(addr)
        .min()
        .ok_or_else(|| {
            format!(
                "{}: no web host with an IPv4 address to scale from",
                source.name
            )
        })?;
    let kept: Map<String, Value> = hosts
        .iter()
        .filter(|(_, h)| !is_web(h))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let taken: Vec<Ipv4Addr> = kept.values().filter_map(addr).collect();
    let mut next = u32::from(first_web);
    let mut scaled = kept;
    for i in 1..=web {
        while taken.contains(&Ipv4Addr::from(next)) {
            next += 1;
        }
        let a = Ipv4Addr::from(next);
        if a.octets()[3] == 255 || a.octets()[..3] != first_web.octets()[..3] {
            return Err(format!(
                "{web} web hosts do not fit in the /24 of {first_web}"
            ));
        }
        scaled.insert(
            format!("web-{i:02}"),
            json!({ "address": a.to_string(), "roles": ["web", "app"] }),
        );
        next += 1;
    }
    *hosts = scaled;
    // References to the old web hosts by name would now dangle: select by role instead.
    if let Some(lb) = doc.get_mut("load_balancer").and_then(Value::as_object_mut) {
        lb.insert("backends".into(), json!([{ "role": "web" }]));
        lb.remove("groups");
        lb.remove("routes");
    }
    if let Some(db) = doc.get_mut("database").and_then(Value::as_object_mut) {
        db.remove("allowed_hosts");
    }
    for keys in PATH_KEYS {
        absolutize(&mut doc, keys, &source.base_dir);
    }
    serde_saphyr::to_string(&doc).map_err(|e| e.to_string())
}

fn absolutize(doc: &mut Value, keys: &[&str], base: &Path) {
    let mut cur = doc;
    for k in keys {
        match cur.get_mut(*k) {
            Some(v) => cur = v,
            None => return,
        }
    }
    if let Some(s) = cur.as_str()
        && !s.starts_with('/')
        && !s.starts_with('~')
    {
        let p: PathBuf = base.join(s);
        let abs = p.canonicalize().unwrap_or(p);
        *cur = Value::String(abs.display().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn scales_web_hosts_and_keeps_the_rest() {
        let text = "domain: foobar.com\nhosts:\n  lb-01: { address: 10.89.7.10, roles: [lb] }\n  web-01: { address: 10.89.7.21, roles: [web, app] }\n  db-01: { address: 10.89.7.22, roles: [db] }\nload_balancer:\n  backends: [web-01]\n  tls: { certificate: certs/site.pem, key: { file: ~/site.key }, trust: /srv/ca.pem }\napp:\n  source: app\n";
        let source = Source {
            name: "t.yaml".into(),
            text: Arc::new(text.into()),
            base_dir: PathBuf::from("/srv/topo"),
        };
        let out = scale(&source, 3).unwrap();
        let v: Value = serde_saphyr::from_str(&out).unwrap();
        let hosts = v["hosts"].as_object().unwrap();
        assert_eq!(hosts.len(), 5);
        assert_eq!(hosts["web-01"]["address"], "10.89.7.21");
        // .22 belongs to db-01: skipped.
        assert_eq!(hosts["web-02"]["address"], "10.89.7.23");
        assert_eq!(hosts["web-03"]["address"], "10.89.7.24");
        assert_eq!(v["load_balancer"]["backends"][0]["role"], "web");
        assert_eq!(v["app"]["source"], "/srv/topo/app");
        let tls = &v["load_balancer"]["tls"];
        assert_eq!(tls["certificate"], "/srv/topo/certs/site.pem");
        assert_eq!(tls["key"]["file"], "~/site.key");
        assert_eq!(tls["trust"], "/srv/ca.pem");
    }
}
