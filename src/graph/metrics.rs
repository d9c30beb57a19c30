//! How wide a text is drawn, so that boxes fit their text without a browser to measure it.
//! Advance widths of DejaVu Sans (what Linux draws for the SVG's font list; Verdana, which
//! Windows and macOS use, is within a few percent), in thousandths of the font size.

/// DejaVu Sans, U+0020..U+007E.
const REGULAR: [u16; 95] = [
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
    575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
    611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
    278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/// DejaVu Sans Bold, U+0020..U+007E.
const BOLD: [u16; 95] = [
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696,
    696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683,
    683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771,
    724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665,
    343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
];

/// Outside ASCII: as wide as the widest letters (wide scripts are about one em).
const OTHER: u16 = 1000;

/// The width of `text` at `size` pixels, rounded up, with a margin for the fonts that stand in
/// for DejaVu Sans.
pub fn width(text: &str, size: u32, bold: bool) -> u32 {
    let table = if bold { &BOLD } else { &REGULAR };
    let thousandths: u64 = text
        .chars()
        .map(|c| {
            let i = c as usize;
            u64::from(if (0x20..0x7f).contains(&i) {
                table[i - 0x20]
            } else {
                OTHER
            })
        })
        .sum();
    // 5% for Verdana and friends.
    (thousandths * u64::from(size) * 105).div_ceil(100_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_glyphs() {
        assert_eq!(width("", 12, false), 0);
        assert!(width("iiii", 12, false) < width("MMMM", 12, false));
        assert!(width("web-01", 14, true) > width("web-01", 14, false));
        // 10 digits at 10 px: 10 x 0.636 x 10 = 63.6, plus 5%.
        assert_eq!(width("0123456789", 10, false), 67);
        assert_eq!(width("é", 10, false), 11);
    }
}
