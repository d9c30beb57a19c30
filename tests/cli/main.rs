//! Integration tests, compiled into one binary: CLI behaviour, rendered files, real config
//! parsers, and robustness of the loader.

mod support;

mod configs;
mod fuzz;
mod hostile;
mod input;
mod property;
mod render;
mod render_out;
mod schema;
mod validate;
