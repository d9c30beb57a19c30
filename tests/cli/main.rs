//! Integration tests, compiled into one binary: CLI behaviour, rendered files, real config
//! parsers, robustness of the loader, the starter topology, generated completions and man pages,
//! and output discipline.

mod support;

mod completions_man;
mod configs;
mod fuzz;
mod graph;
mod hostile;
mod init;
mod input;
mod output;
mod property;
mod render;
mod render_out;
mod schema;
mod tls;
mod validate;
