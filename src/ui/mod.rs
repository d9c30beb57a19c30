//! What the user sees: diagnostics and reports, errors.

pub mod indexed_source;
pub mod output;
pub mod plan_view;
pub mod progress;
pub mod report;
pub mod table;

pub use output::{info, warn};

/// Prints an error that ended a command, with its help, on stderr.
pub fn print_error(err: &crate::Error) {
    print_diagnostic(err);
}

/// Prints any diagnostic (an error of one host, say) on stderr.
pub fn print_diagnostic(err: &dyn miette::Diagnostic) {
    let mut out = String::new();
    let rendered = if report::fancy(&std::io::stderr()) {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
            .render_report(&mut out, err)
    } else {
        miette::NarratableReportHandler::new().render_report(&mut out, err)
    };
    if rendered.is_err() {
        out = format!("error: {err}\n");
    }
    eprint!("{out}");
}
