//! Problems as people and machines read them: miette's graphical or narrated reports, JSON, or
//! GitHub Actions annotations.

use crate::diagnostic::{Problem, Severity, Span};
use crate::topology::Source;
use crate::ui::indexed_source::IndexedSource;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Graphical on a terminal, narrated plain text otherwise (or with NO_COLOR).
    Human,
    /// One JSON document on stdout.
    Json,
    /// `::error file=FILE,line=LINE,col=COLUMN::message` lines for GitHub Actions annotations.
    Github,
}

/// Whether human output on `stream` should be graphical (see `ui::output`).
pub use crate::ui::output::fancy;

/// A snippet is quoted only when the lines it shows (context included) total at most this: a
/// problem on a line of megabytes would print megabytes, and thousands of them gigabytes.
const MAX_QUOTED_BYTES: usize = 8 * 1024;

/// A problem paired with the source it points into, as miette wants it.
struct Shown<'a> {
    problem: &'a Problem,
    source: NamedSource<IndexedSource>,
    /// Whether miette quotes the source; if not, `human` says where in one line.
    quoted: bool,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.problem.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.problem.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.problem
            .span
            .filter(|_| self.quoted)
            .map(|_| &self.source as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.problem.span.filter(|_| self.quoted)?;
        let primary = LabeledSpan::new_primary_with_span(
            Some(self.problem.label.clone()).filter(|l| !l.is_empty()),
            span,
        );
        let related = self
            .problem
            .related
            .iter()
            .map(|(s, l)| LabeledSpan::new_with_span(Some(l.clone()), *s));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// Renders problems for a human: graphical when `fancy`, narrated plain text otherwise.
/// The text is indexed once, so each problem costs the lines it shows, not the whole file; a
/// problem whose lines are too long to quote (over `MAX_QUOTED_BYTES`) gets its place instead.
pub fn human(source: &Source, problems: &[Problem], fancy: bool) -> String {
    let text = IndexedSource::new(&source.text);
    let context = if fancy { 2 } else { 1 };
    let graphical = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
        .with_context_lines(context);
    let narrated = miette::NarratableReportHandler::new().with_context_lines(context);
    let mut out = String::new();
    for p in problems {
        let spans = p.span.iter().chain(p.related.iter().map(|(s, _)| s));
        let shown = Shown {
            problem: p,
            source: NamedSource::new(&source.name, text.clone()),
            quoted: spans
                .map(|s| text.shown_len(s.offset, s.len, context))
                .all(|len| len <= MAX_QUOTED_BYTES),
        };
        let result = if fancy {
            graphical.render_report(&mut out, &shown)
        } else {
            narrated.render_report(&mut out, &shown)
        };
        if result.is_err() {
            out.push_str(&p.message);
        }
        if let Some(span) = p.span {
            if !shown.quoted {
                out.push_str(&unquoted_places(&source.name, &text, p, span));
            } else if !fancy {
                // Narrated output does not say where in one line; a grep-able location helps.
                let (line, col) = text.line_col(span.offset);
                out.push_str(&format!("    at {}:{line}:{col}\n", source.name));
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(source, problems));
    out.push('\n');
    out
}

/// Where a problem that is not quoted is, with its labels: `at FILE:LINE:COL`, as narrated.
fn unquoted_places(name: &str, text: &IndexedSource, p: &Problem, span: Span) -> String {
    let at = |s: Span| {
        let (line, col) = text.line_col(s.offset);
        format!("{name}:{line}:{col}")
    };
    let mut out = format!(
        "    at {} (not quoted: the lines there are too long)\n",
        at(span)
    );
    if !p.label.is_empty() {
        out.push_str(&format!("    label: {}\n", p.label));
    }
    for (s, label) in &p.related {
        out.push_str(&format!("    label at {}: {label}\n", at(*s)));
    }
    out
}

pub fn summary(source: &Source, problems: &[Problem]) -> String {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if errors == 0 {
        format!("{}: valid ({})", source.name, plural(warnings, "warning"))
    } else {
        format!(
            "{}: invalid ({}, {})",
            source.name,
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}

#[derive(Serialize)]
struct JsonPlace {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    offset: usize,
    length: usize,
}

#[derive(Serialize)]
struct JsonRelated {
    #[serde(flatten)]
    place: JsonPlace,
    label: String,
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    file: &'a str,
    #[serde(flatten)]
    place: Option<JsonPlace>,
    label: &'a str,
    help: Option<&'a str>,
    related: Vec<JsonRelated>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    file: &'a str,
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonProblem<'a>>,
}

fn place(text: &IndexedSource, span: Span) -> JsonPlace {
    let (line, column) = text.line_col(span.offset);
    let (end_line, end_column) = text.line_col(span.offset + span.len);
    JsonPlace {
        line,
        column,
        end_line,
        end_column,
        offset: span.offset,
        length: span.len,
    }
}

/// The JSON value of a report (one per topology file).
pub fn json_value(source: &Source, problems: &[Problem]) -> serde_json::Value {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let text = IndexedSource::new(&source.text);
    let report = JsonReport {
        file: &source.name,
        valid: errors == 0,
        errors,
        warnings: problems.len() - errors,
        diagnostics: problems
            .iter()
            .map(|p| JsonProblem {
                severity: p.severity,
                code: p.code,
                message: &p.message,
                file: &source.name,
                place: p.span.map(|s| place(&text, s)),
                label: &p.label,
                help: p.help.as_deref(),
                related: p
                    .related
                    .iter()
                    .map(|(s, l)| JsonRelated {
                        place: place(&text, *s),
                        label: l.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_value(report).unwrap_or_default()
}

/// GitHub Actions workflow commands, one line per problem.
pub fn github(source: &Source, problems: &[Problem]) -> String {
    let text = IndexedSource::new(&source.text);
    let mut out = String::new();
    for p in problems {
        let level = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = vec![format!("file={}", gh_property(&source.name))];
        if let Some(span) = p.span {
            let pl = place(&text, span);
            props.push(format!("line={}", pl.line));
            props.push(format!("col={}", pl.column));
            props.push(format!("endLine={}", pl.end_line));
            if pl.end_line == pl.line {
                props.push(format!("endColumn={}", pl.end_column));
            }
        }
        props.push(format!("title={}", gh_property(p.code)));
        let mut message = p.message.clone();
        if let Some(h) = &p.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            gh_data(&message)
        ));
    }
    out
}

/// Escapes a GitHub workflow command's message (the part after `::`).
pub(crate) fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a GitHub workflow command's property value (`file=`, `title=`, ...).
pub(crate) fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            name: "t.yaml".into(),
            text: std::sync::Arc::new(text.to_string()),
            base_dir: ".".into(),
        }
    }

    /// A problem on a line too long to quote gets its place and label, not megabytes of snippet.
    #[test]
    fn a_problem_on_a_huge_line_is_placed_not_quoted() {
        let long = format!("hosts: {{{}x: 1}}\n", "a: 1, ".repeat(2000));
        let text = format!("domain: d\n{long}a: 1\nb: 1\nc: 1\nshort: 1\n");
        let at = |needle: &str, len| Span::new(text.find(needle).unwrap(), len);
        let problems = [
            Problem::error("t::huge", at("x: 1", 1), "on the long line")
                .label("this one")
                .related(at("domain", 6), "and here"),
            Problem::error("t::short", at("short", 5), "on a short line").label("that one"),
        ];
        for fancy in [false, true] {
            let out = human(&source(&text), &problems, fancy);
            assert!(out.len() < 4000, "{}", out.len());
            assert!(out.contains(
                "    at t.yaml:2:12009 (not quoted: the lines there are too long)\n    label: this one\n    label at t.yaml:1:1: and here\n"
            ), "{out}");
            assert!(out.contains("short: 1"), "a short line is quoted: {out}");
            assert!(!out.contains("label: that one"), "{out}");
        }
    }

    #[test]
    fn github_escapes_separators() {
        assert_eq!(gh_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(gh_data("x\ny"), "x%0Ay");
    }
}
