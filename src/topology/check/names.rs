//! Domain-style names: the domain, the server names, the zone and record names.

use crate::diagnostic::Problem;
use crate::topology::decode::Sp;
use crate::topology::load::grammar::{dns_name, shown};
use crate::topology::model::*;

/// Domain-style names: the domain, the server names, the zone and record names. Server and
/// record names may be wildcards (`*.example.com`); a record may also be `@` or `*`.
pub(super) fn names(t: &Topology, out: &mut Vec<Problem>) {
    let mut check = |name: &Sp<String>, what: &str, wildcard: bool, record: bool| {
        let checked = match name.value.as_str() {
            "@" | "*" if record => Ok(()),
            n => dns_name(n, wildcard),
        };
        if let Err(reason) = checked {
            out.push(
                Problem::error(
                    "topology::invalid-name",
                    name.span,
                    format!("{what} `{}` is not a valid DNS name", shown(&name.value)),
                )
                .label(reason)
                .help(
                    "labels of letters, digits, '-' and '_', separated by single dots (at most \
                     one trailing dot); a wildcard only as the whole first label (*.example.com)",
                ),
            );
        }
    };
    check(&t.domain, "domain", false, false);
    if let Some(w) = &t.web {
        for n in &w.server_names {
            check(n, "server name", true, false);
        }
    }
    if let Some(d) = &t.dns {
        check(&d.zone, "zone", false, false);
        for r in &d.records {
            check(&r.name, "record name", true, true);
        }
    }
}
