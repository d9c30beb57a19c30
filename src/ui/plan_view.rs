//! A plan as people read it: per host, in order, each change with its diff, then the summary.

use crate::plan::{Change, DbAction, Difference, FileAction, Owner, Plan};

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
        let first_of_phase = i == 0 || steps[i - 1].phase != s.phase;
        let more = steps.iter().filter(|x| x.phase == s.phase).count() > 1;
        if first_of_phase && more && s.hosts.len() == 1 {
            line.push_str(", the canary");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
