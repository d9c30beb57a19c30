//! Byte offsets to lines and columns in O(log n), after one pass over the text.
//!
//! A line ends at `\r\n`, `\n` or a lone `\r` (old Mac files), each one line break, as YAML 1.2
//! and the YAML parser count them. Columns count characters.

/// Characters are counted from checkpoints every `CHUNK` bytes (non-ASCII texts only), so a
/// column on a very long line costs at most `CHUNK` bytes of scanning.
const CHUNK: usize = 256;

/// Where each line of one text starts.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the start of each line; `starts[0] == 0`.
    starts: Vec<usize>,
    /// For a non-ASCII text: the number of characters before each multiple of `CHUNK`.
    chars_before: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        let chars_before = if text.is_ascii() {
            Vec::new()
        } else {
            // One entry per chunk, and the total: every offset up to the end has its checkpoint.
            let mut count = 0;
            let mut before: Vec<usize> = bytes
                .chunks(CHUNK)
                .map(|c| {
                    let at = count;
                    count += chars_in(c);
                    at
                })
                .collect();
            before.push(count);
            before
        };
        LineIndex {
            starts,
            chars_before,
            len: text.len(),
        }
    }

    /// The 0-based line that holds byte `offset` (the last line past the end).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// How many lines the text has (a text ending in a line break has an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte offset where 0-based `line` starts (the last line's start past the end).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.min(self.starts.len() - 1)]
    }

    /// The 1-based line and column (in characters) of a byte offset into `text`, the text this
    /// index was built from. An offset past the end is the end; inside a character, its start.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        debug_assert_eq!(text.len(), self.len, "the index of another text");
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.starts[line];
        (line + 1, self.chars(text, start, offset) + 1)
    }

    /// Characters in `text[from..to]`, both char boundaries.
    fn chars(&self, text: &str, from: usize, to: usize) -> usize {
        if self.chars_before.is_empty() {
            return to - from;
        }
        self.chars_up_to(text, to) - self.chars_up_to(text, from)
    }

    fn chars_up_to(&self, text: &str, at: usize) -> usize {
        let chunk = at / CHUNK;
        self.chars_before[chunk] + chars_in(&text.as_bytes()[chunk * CHUNK..at])
    }
}

/// Characters in a run of UTF-8 bytes that starts and ends on character boundaries.
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| !is_continuation(**b)).count()
}

fn is_continuation(b: u8) -> bool {
    b & 0b1100_0000 == 0b1000_0000
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(usize, usize)> {
        let index = LineIndex::new(text);
        (0..=text.len()).map(|o| index.line_col(text, o)).collect()
    }

    #[test]
    fn each_ending_is_one_line_break() {
        for (ending, text) in [
            ("LF", "a: 1\nbb: 2\n\nc: 3"),
            ("CRLF", "a: 1\r\nbb: 2\r\n\r\nc: 3"),
            ("CR", "a: 1\rbb: 2\r\rc: 3"),
        ] {
            let index = LineIndex::new(text);
            assert_eq!(index.line_count(), 4, "{ending}");
            let at = |needle: &str| index.line_col(text, text.find(needle).unwrap());
            assert_eq!(at("a"), (1, 1), "{ending}");
            assert_eq!(at("bb"), (2, 1), "{ending}");
            assert_eq!(at("2"), (2, 5), "{ending}");
            assert_eq!(at("c"), (4, 1), "{ending}");
            assert_eq!(index.line_col(text, text.len()), (4, 5), "{ending}");
        }
    }

    #[test]
    fn mixed_endings_and_a_cr_before_a_crlf() {
        // "\r\r\n" is a lone CR, then a CRLF: two breaks.
        let text = "a\r\r\nb\nc\rd";
        let index = LineIndex::new(text);
        let lines: Vec<usize> = "abcd"
            .chars()
            .map(|ch| index.line_col(text, text.find(ch).unwrap()).0)
            .collect();
        assert_eq!(lines, [1, 3, 4, 5]);
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        // Longer than a chunk, with multi-byte characters before the offset.
        let line = "é".repeat(300) + "x";
        let text = format!("a\n{line}\n");
        let x = text.find('x').unwrap();
        assert_eq!(LineIndex::new(&text).line_col(&text, x), (2, 301));
        // Inside a character counts as its start; past the end as the end.
        assert_eq!(
            line_col_slow(&text, 3),
            LineIndex::new(&text).line_col(&text, 3)
        );
        assert_eq!(LineIndex::new(&text).line_col(&text, 10_000), (3, 1));
    }

    /// The definition, one offset at a time.
    fn line_col_slow(text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let (mut line, mut col) = (1, 1);
        for (i, c) in before.char_indices() {
            // The CR of a CRLF is part of its line; the LF ends it.
            if c == '\n' || (c == '\r' && text.as_bytes().get(i + 1) != Some(&b'\n')) {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        (line, col)
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_definition(text in "[a\u{e9}\u{4e2d}\r\n ]{0,600}") {
            let slow: Vec<_> = (0..=text.len()).map(|o| line_col_slow(&text, o)).collect();
            proptest::prop_assert_eq!(all(&text), slow);
        }
    }
}
