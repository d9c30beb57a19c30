//! Domain-style names: the domain, the server names, the zone and record names.

use crate::diagnostic::Problem;
use crate::topology::decode::Sp;
use crate::topology::load::grammar::{dns_name, shown, zone_name};
use crate::topology::model::*;

/// Domain-style names: the domain, the server names, the zone and record names. Server and
/// record names may be wildcards (`*.example.com`); a record may also be `@` or `*`. A zone is
/// short enough for its SOA record and its file.
pub(super) fn names(t: &Topology, out: &mut Vec<Problem>) {
    let mut check = |name: &Sp<String>, what: &str, rule: &dyn Fn(&str) -> Result<(), String>| {
        if let Err(reason) = rule(&name.value) {
            out.push(
                Problem::error(
                    "topology::invalid-name",
                    name.span,
                    format!("{what} `{}` is not a valid DNS name", shown(&name.value)),
                )
                .label(reason)
                .help(
                    "labels of letters, digits, '-' and '_', separated by single dots (at most \
                     one trailing dot), at most 253 characters (a zone 242); a wildcard only as \
                     the whole first label (*.example.com)",
                ),
            );
        }
    };
    check(&t.domain, "domain", &|n| dns_name(n, false));
    if let Some(w) = &t.web {
        for n in &w.server_names {
            check(n, "server name", &|n| dns_name(n, true));
        }
    }
    if let Some(d) = &t.dns {
        check(&d.zone, "zone", &zone_name);
        if let Some(k) = &d.key {
            check(&k.name, "TSIG key name", &|n| dns_name(n, false));
        }
        for r in &d.records {
            check(&r.name, "record name", &|n| match n {
                "@" | "*" => Ok(()),
                n => dns_name(n, true),
            });
        }
    }
}
