//! Domain-style names: the domain, the server names, the zone and record names.

use crate::diagnostic::Problem;
use crate::topology::decode::Sp;
use crate::topology::model::*;

/// Domain-style names: the domain, the server names, the zone and record names.
pub(super) fn names(t: &Topology, out: &mut Vec<Problem>) {
    let mut check = |name: &Sp<String>, what: &str, allow_at: bool| {
        let n = name.value.trim_end_matches('.');
        let ok = (allow_at && n == "@")
            || (!n.is_empty()
                && n.len() <= 253
                && n.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'-' || b == b'*' || b == b'_'
                        })
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                }));
        if !ok {
            out.push(
                Problem::error(
                    "topology::invalid-name",
                    name.span,
                    format!("{what} `{}` is not a valid DNS name", name.value),
                )
                .label("invalid DNS name")
                .help("labels of letters, digits and '-', separated by dots"),
            );
        }
    };
    check(&t.domain, "domain", false);
    if let Some(w) = &t.web {
        for n in &w.server_names {
            check(n, "server name", false);
        }
    }
    if let Some(d) = &t.dns {
        check(&d.zone, "zone", false);
        for r in &d.records {
            check(&r.name, "record name", true);
        }
    }
}
