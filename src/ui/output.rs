//! How this run's output looks, decided once from `--color`, `--quiet` and `NO_COLOR` before any
//! command runs: whether a stream gets colours and graphics, and whether status lines, progress
//! and warnings are shown. Data (reports, plans, tables, JSON) and errors never depend on it.

use std::ffi::OsStr;
use std::sync::OnceLock;

/// `--color`: when human output gets colours and graphics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set and not empty.
    #[default]
    Auto,
    /// Always, also into a pipe or a file (and despite `NO_COLOR`).
    Always,
    /// Never: plain, narrated text.
    Never,
}

/// The output settings of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    /// `Auto` here means: decided per stream, by whether it is a terminal.
    pub color: ColorChoice,
    /// `--quiet`: no status lines, progress or warnings.
    pub quiet: bool,
}

impl Output {
    /// The settings from the flags and the environment: an explicit `--color` wins over
    /// `NO_COLOR` (as in uv); without it, a non-empty `NO_COLOR` means `never`.
    pub fn resolve(color: Option<ColorChoice>, quiet: bool, no_color: Option<&OsStr>) -> Output {
        let color = match color {
            Some(choice) => choice,
            None if no_color.is_some_and(|v| !v.is_empty()) => ColorChoice::Never,
            None => ColorChoice::Auto,
        };
        Output { color, quiet }
    }

    /// The settings from `NO_COLOR` alone (before `init`, or in a library caller).
    fn from_env() -> Output {
        Output::resolve(None, false, std::env::var_os("NO_COLOR").as_deref())
    }

    /// Whether output to a stream gets colours and graphics.
    pub fn color_on(&self, is_terminal: bool) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal,
        }
    }
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

/// Sets this run's settings; the first call wins (the process runs one command).
pub fn init(output: Output) {
    let _ = OUTPUT.set(output);
}

/// This run's settings.
pub fn current() -> Output {
    *OUTPUT.get_or_init(Output::from_env)
}

/// Whether human output on `stream` gets colours and graphics (miette's graphical reports, the
/// plan's colours); otherwise it is narrated plain text.
pub fn fancy(stream: &impl std::io::IsTerminal) -> bool {
    current().color_on(stream.is_terminal())
}

/// Whether spinners may be drawn on stderr: a terminal, and colours and graphics not turned off.
/// Spinners are redrawn in place, so `--color always` does not draw them into a pipe.
pub fn spinners() -> bool {
    let stderr = std::io::stderr();
    std::io::IsTerminal::is_terminal(&stderr) && current().color_on(true)
}

/// A status line on stderr (what the command did or is doing), unless `--quiet`.
pub fn info(message: impl std::fmt::Display) {
    if !current().quiet {
        eprintln!("{message}");
    }
}

/// A warning on stderr (`warning: ...`), unless `--quiet`.
pub fn warn(message: impl std::fmt::Display) {
    if !current().quiet {
        eprintln!("{}: {message}", paint_stderr("33", "warning"));
    }
}

/// `text` in an ANSI style when stderr gets colours.
fn paint_stderr(code: &str, text: &str) -> String {
    if fancy(&std::io::stderr()) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_choice_wins_over_no_color() {
        let out = Output::resolve(Some(ColorChoice::Always), false, Some("1".as_ref()));
        assert!(out.color_on(false));
        let out = Output::resolve(Some(ColorChoice::Never), false, None);
        assert!(!out.color_on(true));
    }

    #[test]
    fn no_color_turns_auto_off_unless_empty() {
        assert!(!Output::resolve(None, false, Some("1".as_ref())).color_on(true));
        assert!(Output::resolve(None, false, Some("".as_ref())).color_on(true));
        assert!(Output::resolve(None, false, None).color_on(true));
        assert!(!Output::resolve(None, false, None).color_on(false));
    }

    #[test]
    fn quiet_is_kept() {
        assert!(Output::resolve(None, true, None).quiet);
        assert!(!Output::resolve(None, false, None).quiet);
    }
}
