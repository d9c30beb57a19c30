//! Integration tests, compiled into one binary: CLI behaviour, rendered files, real config
//! parsers, robustness of the loader, and output discipline.

mod support;

mod configs;
mod fuzz;
mod hostile;
mod input;
mod output;
mod property;
mod render;
mod render_out;
mod validate;
