//! The one backend every figure is drawn on: a plotters [`DrawingBackend`] that writes SVG.
//!
//! Written here rather than using plotters' `SVGBackend` for three things the figures need:
//!
//! - **Pixel images as images.** [`DrawingBackend::blit_bitmap`] becomes one `<image>` holding
//!   a PNG (nearest-neighbour scaling), where plotters' backend needs the `image` crate and
//!   writes a `data:png` address that is not a MIME type. A 28 × 28 grid is one element
//!   instead of up to 784 rectangles, which keeps every SVG small.
//! - **Text at the size plotters measured.** plotters lays text out with the font's own
//!   metrics (`size` is the height from descender to ascender); the `font-size` written here is
//!   the matching em size of the bundled DejaVu Sans, so labels take the room the layout gave
//!   them.
//! - **Small files.** Integer coordinates, colours as `#rrggbb`, opacity only when it is not 1.
//!
//! The PNG of a figure is this SVG rendered by resvg ([`super::to_png`]), so both formats show
//! the same drawing with real text shaping.

use std::fmt::Write as _;

use base64::Engine as _;
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
    FontTransform,
};

/// DejaVu Sans' em as a share of plotters' text size (ascender minus descender: 2,384 of 2,048
/// font units, the same in the bold face).
pub(crate) const EM_PER_SIZE: f64 = 2048.0 / 2384.0;

/// Where the baseline goes below the anchor point, in em, for each vertical anchor: the top of
/// the capitals (0.73 em above the baseline) at the point, the capitals centred on it, or the
/// descenders (0.24 em below the baseline) resting on it.
fn baseline_shift(v: VPos) -> f64 {
    match v {
        VPos::Top => 0.73,
        VPos::Center => 0.365,
        VPos::Bottom => -0.24,
    }
}

/// What went wrong while drawing an SVG: only a pixel image that could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("encoding an embedded image as PNG failed")]
pub struct SvgError(#[from] png::EncodingError);

/// A plotters backend that writes an SVG document into a `String`: the opening tag when it is
/// made, the closing tag at [`DrawingBackend::present`] (or when dropped).
#[derive(Debug)]
pub struct SvgCanvas<'a> {
    size: (u32, u32),
    body: &'a mut String,
    closed: bool,
}

impl<'a> SvgCanvas<'a> {
    /// A canvas of `size` user units (pixels of the PNG rendering) writing into `out`.
    pub fn new(out: &'a mut String, size: (u32, u32)) -> SvgCanvas<'a> {
        let (w, h) = size;
        // Every text element inherits the family: one declaration instead of one per label.
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, sans-serif">"#
        );
        SvgCanvas {
            size,
            body: out,
            closed: false,
        }
    }

    fn close(&mut self) {
        if !self.closed {
            self.body.push_str("</svg>\n");
            self.closed = true;
        }
    }

    /// ` fill="#rrggbb"` (and its opacity when below 1) for `attr` (`fill` or `stroke`).
    fn paint(&mut self, attr: &str, color: BackendColor) {
        let (r, g, b) = color.rgb;
        let _ = write!(self.body, r##" {attr}="#{r:02x}{g:02x}{b:02x}""##);
        if color.alpha < 1.0 {
            let _ = write!(self.body, r#" {attr}-opacity="{}""#, number(color.alpha));
        }
    }

    /// A filled shape's fill, or an outline's stroke (its width when not 1) and no fill.
    fn fill_or_stroke(&mut self, fill: bool, color: BackendColor, width: u32) {
        if fill {
            self.paint("fill", color);
        } else {
            self.body.push_str(r#" fill="none""#);
            self.paint("stroke", color);
            if width != 1 {
                let _ = write!(self.body, r#" stroke-width="{width}""#);
            }
        }
    }

    fn points(&mut self, points: impl IntoIterator<Item = BackendCoord>) {
        self.body.push_str(r#" points=""#);
        for (i, (x, y)) in points.into_iter().enumerate() {
            if i > 0 {
                self.body.push(' ');
            }
            let _ = write!(self.body, "{x},{y}");
        }
        self.body.push('"');
    }
}

/// A number in the fewest characters that keep three decimals: `1`, `0.35`, `12.125`.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" | "" => "0".into(),
        _ => s
            .strip_prefix("0.")
            .map_or(s.into(), |frac| format!(".{frac}")),
    }
}

/// `text` with the five XML special characters escaped.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

impl Drop for SvgCanvas<'_> {
    fn drop(&mut self) {
        self.close();
    }
}

impl DrawingBackend for SvgCanvas<'_> {
    type ErrorType = SvgError;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<SvgError>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<SvgError>> {
        self.close();
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        (x, y): BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if color.alpha > 0.0 {
            let _ = write!(self.body, r#"<rect x="{x}" y="{y}" width="1" height="1""#);
            self.paint("fill", color);
            self.body.push_str("/>\n");
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        self.draw_path([from, to], style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        (x0, y0): BackendCoord,
        (x1, y1): BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (x, y) = (x0.min(x1), y0.min(y1));
        let (w, h) = ((x1 - x0).abs(), (y1 - y0).abs());
        let _ = write!(
            self.body,
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}""#
        );
        self.fill_or_stroke(fill, color, style.stroke_width());
        self.body.push_str("/>\n");
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.body.push_str("<polyline");
        self.fill_or_stroke(false, color, style.stroke_width());
        self.points(path);
        self.body.push_str("/>\n");
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        (x, y): BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let _ = write!(self.body, r#"<circle cx="{x}" cy="{y}" r="{radius}""#);
        self.fill_or_stroke(fill, color, style.stroke_width());
        self.body.push_str("/>\n");
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.body.push_str("<polygon");
        self.paint("fill", color);
        self.points(vertices);
        self.body.push_str("/>\n");
        Ok(())
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        (x, y): BackendCoord,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let anchor = style.anchor();
        let size = style.size() * EM_PER_SIZE;
        let _ = write!(
            self.body,
            r#"<text x="{x}" y="{y}" font-size="{}""#,
            number(size)
        );
        let shift = baseline_shift(anchor.v_pos);
        if shift != 0.0 {
            let _ = write!(self.body, r#" dy="{}em""#, number(shift));
        }
        match anchor.h_pos {
            HPos::Left => {}
            HPos::Center => self.body.push_str(r#" text-anchor="middle""#),
            HPos::Right => self.body.push_str(r#" text-anchor="end""#),
        }
        match style.style() {
            FontStyle::Normal => {}
            FontStyle::Bold => self.body.push_str(r#" font-weight="bold""#),
            FontStyle::Italic => self.body.push_str(r#" font-style="italic""#),
            FontStyle::Oblique => self.body.push_str(r#" font-style="oblique""#),
        }
        let degrees = match style.transform() {
            FontTransform::None => 0,
            FontTransform::Rotate90 => 90,
            FontTransform::Rotate180 => 180,
            FontTransform::Rotate270 => 270,
        };
        if degrees != 0 {
            let _ = write!(self.body, r#" transform="rotate({degrees} {x} {y})""#);
        }
        if color.rgb != (0, 0, 0) || color.alpha < 1.0 {
            self.paint("fill", color);
        }
        self.body.push('>');
        escape(text, self.body);
        self.body.push_str("</text>\n");
        Ok(())
    }

    /// Embeds `src` (8-bit RGB, `w × h`) as a PNG image drawn pixel for pixel.
    fn blit_bitmap(
        &mut self,
        (x, y): BackendCoord,
        (w, h): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let png = encode_rgb_png(src, w, h, png::Compression::Best)
            .map_err(|e| DrawingErrorKind::DrawingError(SvgError(e)))?;
        let _ = write!(
            self.body,
            r#"<image x="{x}" y="{y}" width="{w}" height="{h}" image-rendering="pixelated" style="image-rendering:pixelated" href="data:image/png;base64,"#
        );
        base64::engine::general_purpose::STANDARD.encode_string(&png, self.body);
        self.body.push_str("\"/>\n");
        Ok(())
    }
}

/// `rgb` (8-bit RGB rows, `w × h`) as a PNG file's bytes.
pub(crate) fn encode_rgb_png(
    rgb: &[u8],
    w: u32,
    h: u32,
    compression: png::Compression,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(compression);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.35), ".35");
        assert_eq!(number(12.125), "12.125");
        assert_eq!(number(-0.0001), "0");
        assert_eq!(number(-1.5), "-1.5");
    }

    #[test]
    fn text_is_escaped_and_sized_in_em() {
        let mut svg = String::new();
        let mut canvas = SvgCanvas::new(&mut svg, (100, 50));
        let style = TextStyle::from(("sans-serif", 20.0).into_font()).pos(
            plotters::style::text_anchor::Pos::new(HPos::Center, VPos::Top),
        );
        canvas.draw_text("a <b> & 'c'", &style, (50, 10)).unwrap();
        drop(canvas);
        assert!(svg.contains("a &lt;b&gt; &amp; &apos;c&apos;"), "{svg}");
        assert!(svg.contains(r#"font-size="17.181""#), "{svg}");
        assert!(svg.contains(r#"text-anchor="middle""#));
    }

    #[test]
    fn bitmaps_become_one_png_image() {
        let mut svg = String::new();
        let mut canvas = SvgCanvas::new(&mut svg, (10, 10));
        canvas
            .blit_bitmap((1, 2), (2, 1), &[0, 0, 0, 255, 255, 255])
            .unwrap();
        canvas.present().unwrap();
        drop(canvas);
        assert!(svg.ends_with("</svg>\n"), "closed once");
        assert_eq!(svg.matches("</svg>").count(), 1);
        assert_eq!(svg.matches("<image").count(), 1);
        assert!(svg.contains(r#"x="1" y="2" width="2" height="1""#));
        assert!(
            svg.contains("data:image/png;base64,iVBOR"),
            "a PNG signature"
        );
    }
}
