//! Local files the application and the database name.

use super::context::Context;
use crate::diagnostic::Problem;
use crate::topology::model::*;

/// Local files the topology names: the application directory and the database schema.
pub(super) fn app(t: &Topology, ctx: &Context, out: &mut Vec<Problem>) {
    let dir = t
        .app
        .as_ref()
        .and_then(|a| a.source.as_ref())
        .map(|s| (s, "app.source", true));
    let schema = t
        .database
        .as_ref()
        .and_then(|d| d.schema.as_ref())
        .map(|s| (s, "database.schema", false));
    for (path, key, is_dir) in dir.into_iter().chain(schema) {
        let p = ctx.base_dir.join(&path.value);
        let ok = if is_dir { p.is_dir() } else { p.is_file() };
        if !ok {
            let kind = if is_dir { "directory" } else { "file" };
            out.push(
                Problem::error(
                    "topology::missing-source",
                    path.span,
                    format!("{key}: {kind} `{}` does not exist", p.display()),
                )
                .label(format!("no such {kind}"))
                .help(format!("{key} is relative to the topology file's folder")),
            );
        }
    }
}
