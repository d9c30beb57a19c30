//! A plan as people read it: per host, in order, each change with its diff, then the summary.

use crate::certificate::Summary;
use crate::plan::{CertificateChange, Change, DbAction, Difference, FileAction, Owner, Plan};

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn add(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn change(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn service(&self, s: &str) -> String {
        self.wrap("36", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn diff_line(&self, l: &str) -> String {
        if l.starts_with("+++") || l.starts_with("---") {
            self.bold(l)
        } else if l.starts_with('+') {
            self.wrap("32", l)
        } else if l.starts_with('-') {
            self.wrap("31", l)
        } else if l.starts_with("@@") {
            self.wrap("36", l)
        } else {
            l.to_string()
        }
    }
}

fn db_action(a: DbAction) -> &'static str {
    match a {
        DbAction::CreateDatabase => "create database",
        DbAction::CreateUser => "create user (least privilege)",
        DbAction::SetPassword => "set the password (from the secret)",
        DbAction::FixGrants => "fix privileges",
        DbAction::LoadSchema => "load the schema",
        DbAction::Ensure => {
            "ensure the database and users (the server is not answering: what it holds is unknown)"
        }
        DbAction::SeedReplica => {
            "seed from a consistent dump of the primary, then replicate from it (GTID)"
        }
    }
}

/// One line for a change, and its diff under it.
fn change_lines(c: &Change, p: &Paint) -> Vec<String> {
    let mark = |add: bool| if add { p.add("+") } else { p.change("~") };
    match c {
        Change::Package { name } => vec![format!("{} package {name}", mark(true))],
        Change::User { name } => vec![format!("{} system user {name}", mark(true))],
        Change::Release {
            app,
            from,
            to,
            files,
        } => vec![format!(
            "{} release {app} {} ({files} files){}",
            mark(from.is_none()),
            &to[..12.min(to.len())],
            from.as_ref().map_or(String::new(), |f| format!(
                ", replacing {}",
                &f[..12.min(f.len())]
            ))
        )],
        Change::File {
            path,
            action,
            sensitive,
            diff,
            mode,
            owner,
            replaces,
            certificate,
        } => {
            let mut head = format!("{} file {path}", mark(*action == FileAction::Create));
            if let Some(what) = replaces {
                head.push_str(&format!(" (replaces a {what}: never followed or read)"));
            }
            if *action == FileAction::Attributes {
                head.push_str(" (attributes only)");
            }
            if let Some((a, b)) = mode {
                head.push_str(&format!(", mode {a} -> {b}"));
            }
            if let Some((a, b)) = owner {
                head.push_str(&format!(", owner {a} -> {b}"));
            }
            if *sensitive && *action != FileAction::Attributes {
                head.push_str(" (sensitive: contents hidden)");
            }
            let mut lines = vec![head];
            if let Some(c) = certificate {
                lines.extend(certificate_lines(c, p));
            }
            if let Some(d) = diff {
                lines.extend(d.lines().map(|l| format!("      {}", p.diff_line(l))));
            }
            lines
        }
        Change::Database {
            action,
            object,
            revoke,
        } => {
            let mut line = format!(
                "{} database {object}: {}",
                mark(matches!(
                    action,
                    DbAction::CreateDatabase | DbAction::CreateUser
                )),
                db_action(*action)
            );
            if !revoke.is_empty() {
                line.push_str(&format!(", revoking {}", revoke.join(", ")));
            }
            vec![line]
        }
        Change::Service {
            name,
            action,
            reason,
        } => {
            let verb = action.as_str();
            vec![format!(
                "{} service {name}: {verb} ({reason})",
                p.service("*")
            )]
        }
        Change::Record { name, from, to } => {
            let show = |r: &Option<crate::dns::Rrset>| {
                r.as_ref()
                    .map_or("(none)".into(), |r| r.addresses.join(", "))
            };
            let ttl = to.as_ref().or(from.as_ref()).map_or(0, |r| r.ttl);
            let mut line = format!(
                "{} record {name}. {ttl} IN A {} -> {}",
                match to {
                    None => p.wrap("31", "-"),
                    Some(_) => mark(from.is_none()),
                },
                show(from),
                show(to)
            );
            if let (Some(f), Some(t)) = (from, to)
                && f.ttl != t.ttl
            {
                line.push_str(&format!(" (ttl {} -> {})", f.ttl, t.ttl));
            }
            vec![line]
        }
    }
}

/// A certificate's change as a person checks it: fingerprint, subject, names, expiry; the old
/// one struck out as a diff would, the new one added.
fn certificate_lines(c: &CertificateChange, p: &Paint) -> Vec<String> {
    let describe = |s: &Option<Summary>| match s {
        Some(s) => vec![
            format!("sha256 {}", s.sha256),
            format!("subject {}", s.subject),
            format!(
                "names {}",
                if s.names.is_empty() {
                    "(none)".to_string()
                } else {
                    s.names.join(", ")
                }
            ),
            format!("expires {}", s.expires()),
        ],
        None => vec!["(not a readable certificate)".to_string()],
    };
    let mut lines = Vec::new();
    if c.from.is_some() {
        lines.extend(
            describe(&c.from)
                .into_iter()
                .map(|l| format!("      {}", p.diff_line(&format!("- {l}")))),
        );
    }
    lines.extend(
        describe(&c.to)
            .into_iter()
            .map(|l| format!("      {}", p.diff_line(&format!("+ {l}")))),
    );
    lines
}

/// One change in a line, without colour or diff (for messages).
pub fn describe(c: &Change) -> String {
    let p = Paint { on: false };
    change_lines(c, &p)
        .into_iter()
        .next()
        .unwrap_or_default()
        .trim_start_matches(['+', '~', '*', '-', ' '])
        .to_string()
}

/// Who a block of changes belongs to, as its heading.
pub fn heading(owner: &Owner) -> String {
    match owner {
        Owner::Host { host, address } => format!("{host} ({address})"),
        Owner::Zone { zone, server } => format!("zone {zone} on {server} (RFC 2136)"),
    }
}

/// Why a saved plan no longer matches what would be done now.
pub fn difference(d: &Difference) -> String {
    match d {
        Difference::Extra(c) => format!("would now also {}", describe(c)),
        Difference::Missing(c) => format!("the planned {} is no longer needed", describe(c)),
        Difference::Reordered => "the changes differ from the saved plan".into(),
    }
}

/// The whole plan as text; `color` adds ANSI colours.
pub fn render(plan: &Plan, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    for h in plan.resources.iter().filter(|h| !h.changes.is_empty()) {
        out.push_str(&p.bold(&heading(&h.owner)));
        out.push('\n');
        if let Some(note) = &h.note {
            out.push_str(&format!("  ({note})\n"));
        }
        for c in &h.changes {
            for l in change_lines(c, &p) {
                out.push_str("  ");
                out.push_str(&l);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    for h in &plan.resources {
        if let Some(r) = &h.replication {
            out.push_str(&format!(
                "Replication on {}: {}; the primary is {}\n",
                h.name(),
                r.summary(),
                r.primary
            ));
        }
    }
    out.push_str(&summary_line(plan));
    out.push('\n');
    out
}

pub fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes.".into();
    }
    let s = plan.summary();
    let services = plan
        .resources
        .iter()
        .flat_map(|h| &h.changes)
        .filter(|c| !c.is_resource())
        .count();
    let mut line = format!(
        "Plan: {} to add, {} to change, {} to remove.",
        s.add, s.change, s.remove
    );
    if services > 0 {
        line.push_str(&format!(" {services} service action(s)."));
    }
    line
}

/// The order apply takes, when it is more than one batch or drains anything: one line a batch.
pub fn rollout(steps: &[crate::apply::Step]) -> String {
    if steps.len() <= 1 && steps.iter().all(|s| s.drained.is_empty()) {
        return String::new();
    }
    let mut out = String::from("Order:\n");
    for (i, s) in steps.iter().enumerate() {
        let mut line = format!(
            "  {}. {}: {}",
            i + 1,
            s.phase.describe(),
            s.hosts.join(", ")
        );
        if !s.drained.is_empty() {
            let mut lbs: Vec<&str> = s.drained.iter().map(|(_, lb)| lb.as_str()).collect();
            lbs.sort();
            lbs.dedup();
            line.push_str(&format!(" (drained on {} while changing)", lbs.join(", ")));
        }
        if let Some(vip) = &s.vip_checked {
            line.push_str(&format!(
                " (holds the VIP {vip}: last, once the others are ready to take it)"
            ));
        }
        let first_of_phase = i == 0 || steps[i - 1].phase != s.phase;
        let more = steps.iter().filter(|x| x.phase == s.phase).count() > 1;
        let holder_later = steps
            .iter()
            .any(|x| x.phase == s.phase && x.vip_checked.is_some());
        if first_of_phase && more && s.hosts.len() == 1 && s.vip_checked.is_none() {
            line.push_str(if holder_later {
                ", a backup of the VIP first"
            } else {
                ", the canary"
            });
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str, sha: &str) -> Summary {
        Summary {
            sha256: sha.into(),
            subject: format!("CN={name}"),
            issuer: "CN=Lab CA".into(),
            names: vec![name.into(), format!("www.{name}")],
            not_before: 0,
            not_after: 86_400 * 366,
        }
    }

    #[test]
    fn a_certificate_change_shows_old_and_new_by_fingerprint_subject_names_and_expiry() {
        let change = CertificateChange {
            from: Some(summary("old.example", "AA:01")),
            to: Some(summary("foobar.com", "BB:02")),
        };
        let lines = certificate_lines(&change, &Paint { on: false });
        assert_eq!(
            lines,
            [
                "      - sha256 AA:01",
                "      - subject CN=old.example",
                "      - names old.example, www.old.example",
                "      - expires 1971-01-02 00:00 UTC",
                "      + sha256 BB:02",
                "      + subject CN=foobar.com",
                "      + names foobar.com, www.foobar.com",
                "      + expires 1971-01-02 00:00 UTC",
            ]
        );
        let new = CertificateChange {
            from: None,
            to: None,
        };
        assert_eq!(
            certificate_lines(&new, &Paint { on: false }),
            ["      + (not a readable certificate)"]
        );
    }
}
