//! Text in PNG figures is as good as in SVG: a title rendered to PNG matches a reference
//! rendering, so that unevenly spaced letters ("San dal", "Ankl e boot") and raised decimal
//! points ("85·1%"), which plotters' own bitmap text drew, cannot come back unnoticed.
//!
//! The reference, `tests/data/png_text_reference.png`, was rendered by this test with
//! `FMNIST_BLESS=1` and looked at glyph by glyph; rerun that way after a deliberate change
//! to the renderer or the fonts, look at the new file, and commit it.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use fmnist::figures::{to_png, DrawResult, Figure};

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/png_text_reference.png"
);

/// A figure's title and subtitle, in the words where the bitmap text went wrong.
struct Title;

impl Figure for Title {
    fn stem(&self) -> String {
        "png_text".into()
    }

    fn size(&self) -> (u32, u32) {
        (620, 76)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let centre = Pos::new(HPos::Center, VPos::Top);
        root.draw(&Text::new(
            "Sandal, Ankle boot: overall 85.1%",
            (310, 10),
            ("sans-serif", 22, FontStyle::Bold)
                .into_font()
                .color(&BLACK)
                .pos(centre),
        ))?;
        root.draw(&Text::new(
            "PC392: 0.009% of variance; T-shirt/top, Pullover, Sneaker",
            (310, 44),
            ("sans-serif", 15).into_font().color(&BLACK).pos(centre),
        ))
    }
}

/// Grey levels of a PNG's pixels (mean of R, G and B) and its size.
fn grey(png_bytes: &[u8]) -> (u32, u32, Vec<f64>) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("one frame");
    let channels = info.color_type.samples();
    let grey = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| {
            p[..3.min(channels)]
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>()
                / 3.0
        })
        .collect();
    (info.width, info.height, grey)
}

#[test]
fn a_title_in_png_matches_its_reference_rendering() {
    let rendered = to_png(&Title).unwrap();
    if std::env::var_os("FMNIST_BLESS").is_some() {
        std::fs::write(REFERENCE, &rendered).unwrap();
    }
    let reference = std::fs::read(REFERENCE).expect("the committed reference rendering");
    let (w, h, got) = grey(&rendered);
    let (rw, rh, want) = grey(&reference);
    assert_eq!((w, h), (rw, rh), "size");
    let ink = want.iter().filter(|&&g| g < 128.0).count();
    assert!(ink > 1500, "the reference has text: {ink} dark pixels");
    // Renderers on other CPUs may round an edge pixel differently (allowed: 1% of the ink);
    // the whole text moved by one pixel changes 1,949 of them, one letter hundreds.
    let differ = got
        .iter()
        .zip(&want)
        .filter(|(a, b)| (*a - *b).abs() > 24.0)
        .count();
    assert!(
        differ * 100 < ink,
        "{differ} pixels differ from the reference ({ink} dark pixels in it)"
    );
}

#[test]
fn png_text_is_the_svg_text_rendered() {
    // Both formats come from one drawing: the SVG holds the text as text, once.
    let svg = fmnist::figures::to_svg(&Title).unwrap();
    assert_eq!(svg.matches("<text").count(), 2);
    assert!(svg.contains(">Sandal, Ankle boot: overall 85.1%</text>"));
    let png = fmnist::figures::svg_to_png(&svg, "png_text").unwrap();
    assert_eq!(png, to_png(&Title).unwrap());
}
