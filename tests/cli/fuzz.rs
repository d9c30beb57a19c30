//! Robustness: arbitrary bytes and mutations of valid topologies never panic the loader, and
//! every rejection carries a location.

use foobar_infra::topology::{self, Source};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

fn check_text(text: String) {
    let source = Source {
        name: "fuzz.yaml".into(),
        text: Arc::new(text),
        base_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"),
    };
    let len = source.text.len();
    let loaded = topology::load(source, &|_| None);
    for p in loaded.problems.iter().filter(|p| p.is_error()) {
        let span = p.span.expect("every error has a location");
        assert!(span.offset + span.len <= len, "span inside the text: {p:?}");
    }
    if loaded.topology.is_none() {
        assert!(loaded.has_errors(), "a rejected file says why");
    }
}

fn reference() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/foobar.yaml")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_text(String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn mutated_reference_never_panics(
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..12, "[ -~\n\t]{0,8}"), 1..6)
    ) {
        let mut text = reference();
        for (at, del, insert) in cuts {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) { i -= 1; }
            let mut j = (i + del).min(text.len());
            while !text.is_char_boundary(j) { j -= 1; }
            text.replace_range(i..j, &insert);
        }
        check_text(text);
    }

    #[test]
    fn line_shuffles_never_panic(seed in any::<u64>()) {
        let mut lines: Vec<String> = reference().lines().map(str::to_string).collect();
        let n = lines.len();
        let (a, b) = ((seed % n as u64) as usize, ((seed >> 17) % n as u64) as usize);
        lines.swap(a, b);
        if seed % 3 == 0 { lines[a] = format!("  {}", lines[a]); }
        check_text(lines.join("\n"));
    }
}
