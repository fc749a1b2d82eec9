//! The committed figures, as the README, REPORT.md and the notebooks show them: every figure
//! number in both formats, and no SVG too large to open comfortably in a browser.

use std::path::Path;

/// The largest SVG allowed in `figures/` (the figures issue's bound): image grids are embedded
/// pixel images, and Figure 7's SVG draws every twelfth point.
const MAX_SVG_BYTES: u64 = 400 * 1024;

fn committed() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn no_committed_svg_is_larger_than_400_kb() {
    let svgs: Vec<_> = committed()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    let numbers = usize::from(fmnist::study::LAST_FIGURE);
    assert!(svgs.len() >= numbers, "{} SVG files", svgs.len());
    for svg in svgs {
        let size = std::fs::metadata(&svg).unwrap().len();
        assert!(
            size <= MAX_SVG_BYTES,
            "{} is {size} bytes, over {MAX_SVG_BYTES}",
            svg.display()
        );
    }
}

#[test]
fn every_figure_number_is_committed_in_both_formats() {
    let names: Vec<String> = committed()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for n in 1..=fmnist::study::LAST_FIGURE {
        for ext in ["png", "svg"] {
            let prefix = format!("fig{n:02}_");
            assert!(
                names
                    .iter()
                    .any(|f| f.starts_with(&prefix) && f.ends_with(ext)),
                "figure {n} as {ext}"
            );
        }
    }
}
