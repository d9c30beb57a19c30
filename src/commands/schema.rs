//! `schema`: prints the topology's JSON Schema (draft 2020-12), the one the repository keeps in
//! `schema/topology.schema.json`, for editors and other validators.

use crate::{Error, ExitStatus, topology};
use std::io::Write;

pub fn run() -> Result<ExitStatus, Error> {
    let text = text();
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // A reader that stopped early (`| head`) took what it wanted.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "standard output".into(),
            source: e,
        }),
        _ => Ok(ExitStatus::Success),
    }
}

/// The schema as printed: pretty JSON and a final line break.
pub fn text() -> String {
    let mut text =
        serde_json::to_string_pretty(&topology::schema::json()).expect("a JSON value serializes");
    text.push('\n');
    text
}
