//! The topology's text as miette reads it for snippets: found through a line index in
//! O(log n) per read, where miette's own `SourceCode` for strings scans from the start of the
//! text every time (quadratic over thousands of diagnostics).

use crate::line_index::LineIndex;
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::collections::VecDeque;
use std::sync::Arc;

/// A text and its line index. Each lone `\r` is turned into `\n`: the same length, so every
/// offset stays, and miette (which splits snippet lines at `\n` and `\r\n` only) shows the
/// lines that `line_col` counts.
#[derive(Clone, Debug)]
pub struct IndexedSource {
    text: Arc<str>,
    index: Arc<LineIndex>,
}

impl IndexedSource {
    pub fn new(text: &str) -> Self {
        let text: Arc<str> = if text.contains('\r') {
            lone_cr_to_lf(text).into()
        } else {
            text.into()
        };
        let index = Arc::new(LineIndex::new(&text));
        IndexedSource { text, index }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.index.line_col(&self.text, offset)
    }

    /// How many bytes of text a snippet of the span shows with `context` lines around it.
    pub fn shown_len(&self, offset: usize, len: usize, context: usize) -> usize {
        let first = self.index.line_of(offset).saturating_sub(context);
        let last = self.index.line_of(offset + len) + context + 1;
        let end = if last < self.index.line_count() {
            self.index.line_start(last)
        } else {
            self.text.len()
        };
        end - self.index.line_start(first)
    }
}

fn lone_cr_to_lf(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only ASCII bytes changed, into ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

impl SourceCode for IndexedSource {
    /// Exactly what miette's `SourceCode for str` returns, computed from the start of the line
    /// of the span (in the state miette's scan is in there) instead of from the start of the text.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let input = self.text.as_bytes();
        let span_end = (span.offset() + span.len()).saturating_sub(1);
        // miette's scan treats every byte before `first` alike: a line break pushes a line start
        // and counts a line, anything else counts a column. Start at the line holding `first`.
        let first = span.offset().min(span_end).min(input.len());
        let first_line = self.index.line_of(first);
        let mut offset = self.index.line_start(first_line);
        let mut line_count = first_line;
        let mut start_line = first_line.saturating_sub(context_lines_before);
        let mut before_lines_starts: VecDeque<usize> = (start_line..first_line)
            .map(|l| self.index.line_start(l))
            .collect();
        let mut start_column = 0usize;
        let mut current_line_start = offset;
        let mut end_lines = 0usize;
        let mut post_span = false;
        let mut post_span_got_newline = false;
        // From here on, miette's loop as it is (miette 7.6, source_impls.rs, `context_info`).
        let mut iter = input[offset..].iter().copied().peekable();
        while let Some(char) = iter.next() {
            if matches!(char, b'\r' | b'\n') {
                line_count += 1;
                if char == b'\r' && iter.next_if_eq(&b'\n').is_some() {
                    offset += 1;
                }
                if offset < span.offset() {
                    start_column = 0;
                    before_lines_starts.push_back(current_line_start);
                    if before_lines_starts.len() > context_lines_before {
                        start_line += 1;
                        before_lines_starts.pop_front();
                    }
                } else if offset >= span.offset() + span.len().saturating_sub(1) && post_span {
                    start_column = 0;
                    if post_span_got_newline {
                        end_lines += 1;
                    } else {
                        post_span_got_newline = true;
                    }
                    if end_lines >= context_lines_after {
                        offset += 1;
                        break;
                    }
                }
                current_line_start = offset + 1;
            } else if offset < span.offset() {
                start_column += 1;
            }
            if offset >= span_end {
                post_span = true;
                if end_lines >= context_lines_after {
                    offset += 1;
                    break;
                }
            }
            offset += 1;
        }
        if offset < span_end {
            return Err(MietteError::OutOfBounds);
        }
        let starting_offset = before_lines_starts.front().copied().unwrap_or_else(|| {
            if context_lines_before == 0 {
                span.offset()
            } else {
                0
            }
        });
        if starting_offset > offset {
            // Past the end of the text (miette would panic on it).
            return Err(MietteError::OutOfBounds);
        }
        Ok(Box::new(MietteSpanContents::new(
            &input[starting_offset..offset],
            (starting_offset, offset - starting_offset).into(),
            start_line,
            if context_lines_before == 0 {
                start_column
            } else {
                0
            },
            line_count,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What miette's `SourceCode for str` would return, as comparable data.
    fn contents(
        source: &dyn SourceCode,
        span: SourceSpan,
        before: usize,
        after: usize,
    ) -> Option<(Vec<u8>, usize, usize, usize, usize, usize)> {
        let c = source.read_span(&span, before, after).ok()?;
        Some((
            c.data().to_vec(),
            c.span().offset(),
            c.span().len(),
            c.line(),
            c.column(),
            c.line_count(),
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Same answer as miette's own implementation, for every span and context size, on
        /// texts with LF and CRLF endings (lone CRs are what `new` changes on purpose).
        #[test]
        fn reads_what_miette_reads(
            text in "(a|bé|c\n|\r\n|\n|: )*",
            at in any::<prop::sample::Index>(),
            len in 0usize..12,
            before in 0usize..3,
            after in 0usize..3,
        ) {
            // Spans start inside the text or at its end (miette panics past it).
            let offset = at.index(text.len() + 1);
            let indexed = IndexedSource::new(&text);
            let span: SourceSpan = (offset, len).into();
            prop_assert_eq!(
                contents(&indexed, span, before, after),
                contents(&text, span, before, after)
            );
        }
    }

    #[test]
    fn a_lone_cr_is_a_line_break_for_miette_too() {
        let text = "a: 1\rb: x\rc: 3\r";
        let indexed = IndexedSource::new(text);
        let span: SourceSpan = (text.find('x').unwrap(), 1).into();
        let c = indexed.read_span(&span, 1, 1).unwrap();
        assert_eq!(c.data(), b"a: 1\nb: x\nc: 3\n");
        assert_eq!(c.line(), 0);
        let c = indexed.read_span(&span, 0, 0).unwrap();
        assert_eq!((c.line(), c.column()), (1, 3));
        assert_eq!(indexed.line_col(span.offset()), (2, 4));
    }
}
