//! The study's figures, one type per figure, rendered to PNG or SVG and shown inline in the
//! evcxr Jupyter kernel.
//!
//! A figure is a value that owns what it shows (computed by [`crate::explore`] and the like)
//! and implements [`Figure`]: a file stem, a size and a `draw` onto any plotters backend. The
//! same value is then saved by the CLI ([`save`]) or displayed in a notebook ([`show`]), so a
//! notebook shows exactly what `fmnist figures` writes.
//!
//! Every figure is drawn once, as SVG, on [`svg::SvgCanvas`]; the PNG is that SVG rendered by
//! resvg, whose text shaping spaces letters as the font says (plotters' own bitmap text put
//! each glyph on a whole pixel: "San dal", raised decimal points). Text uses DejaVu Sans,
//! bundled in the binary (plotters measures it through its `ab_glyph` feature, resvg draws
//! it), so rendering needs no system fonts and no `-dev` packages. Pixel images are embedded
//! as PNG images, not drawn cell by cell, which keeps every SVG small. Files are written
//! atomically (a temporary file renamed into place): an interrupted run leaves no half-written
//! figure.

#[cfg(feature = "linalg")]
mod cnn;
mod effort;
mod errors;
mod exploration;
#[cfg(feature = "linalg")]
mod knn;
mod models;
mod paint;
#[cfg(feature = "linalg")]
mod pca;
pub mod svg;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Once, OnceLock};

use base64::Engine as _;
use plotters::coord::Shift;
use plotters::prelude::*;
use thiserror::Error;

use crate::fs::{write_atomically, WriteError};
use resvg::{tiny_skia, usvg};
use svg::SvgCanvas;

#[cfg(feature = "linalg")]
pub use cnn::CnnLearningCurve;
pub use effort::{Effort, EffortPoint};
pub use errors::Misclassified;
pub use exploration::{ClassHeatmaps, Exemplars, PixelMeanSd};
#[cfg(feature = "linalg")]
pub use knn::KnnTuning;
pub use models::{Cells, ClassAccuracy, ComparedModel, ConfusionHeatmaps, ModelComparison};
#[cfg(feature = "linalg")]
pub use pca::{PcaComponents, PcaProjection, PcaScree, ReconstructionLadder, Reconstructions};

/// What `draw` returns: plotters' error for the backend in use.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can be drawn onto any plotters backend.
pub trait Figure {
    /// File name without extension, e.g. `fig02_pixel_mean_sd`.
    fn stem(&self) -> String;
    /// Width and height in pixels (PNG) or user units (SVG).
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure onto `root`, which has [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Why a figure could not be rendered or written.
#[derive(Debug, Error)]
pub enum FigureError {
    /// plotters failed while drawing.
    #[error("drawing {stem} failed: {message}")]
    Draw {
        /// The figure.
        stem: String,
        /// plotters' message.
        message: String,
    },
    /// resvg could not read the figure's SVG back (a bug: the SVG is ours).
    #[error("rendering {stem} to PNG failed: {message}")]
    Render {
        /// The figure.
        stem: String,
        /// resvg's message.
        message: String,
    },
    /// PNG encoding failed.
    #[error("encoding {stem} as PNG failed")]
    Png {
        /// The figure.
        stem: String,
        /// The encoder's error.
        #[source]
        source: png::EncodingError,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// What a figure was asked to show does not fit together.
    #[error("{stem}: {reason}")]
    Input {
        /// The figure.
        stem: String,
        /// What is wrong.
        reason: String,
    },
    /// A format name other than `png` or `svg`.
    #[error("unknown figure format {0:?} (expected png or svg)")]
    UnknownFormat(String),
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Portable Network Graphics, 8-bit RGB.
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

impl Format {
    /// Both formats, PNG first.
    pub const ALL: [Format; 2] = [Format::Png, Format::Svg];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = FigureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            other => Err(FigureError::UnknownFormat(other.to_string())),
        }
    }
}

/// DejaVu Sans, regular and bold, bundled in the binary.
const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled fonts with plotters (which measures text for its layout), once per
/// process.
fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        for (style, bytes) in [(FontStyle::Normal, REGULAR), (FontStyle::Bold, BOLD)] {
            if plotters::style::register_font(paint::FONT, style, bytes).is_err() {
                unreachable!("the bundled DejaVu Sans is a valid TrueType font");
            }
        }
    });
}

/// The bundled fonts for resvg, loaded once per process; `sans-serif` means DejaVu Sans.
fn font_database() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    Arc::clone(FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    }))
}

fn draw_error<F: Figure + ?Sized>(fig: &F, err: impl fmt::Display) -> FigureError {
    FigureError::Draw {
        stem: fig.stem(),
        message: err.to_string(),
    }
}

/// Renders `fig` as an SVG document.
pub fn to_svg<F: Figure>(fig: &F) -> Result<String, FigureError> {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SvgCanvas::new(&mut svg, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_error(fig, e))?;
        fig.draw(&root).map_err(|e| draw_error(fig, e))?;
        root.present().map_err(|e| draw_error(fig, e))?;
    }
    Ok(svg)
}

/// Renders `fig` as a PNG file's bytes: its SVG ([`to_svg`]) drawn by resvg on white.
pub fn to_png<F: Figure>(fig: &F) -> Result<Vec<u8>, FigureError> {
    svg_to_png(&to_svg(fig)?, &fig.stem())
}

/// Renders the SVG document `svg` (one of ours, named `stem` in errors) as 8-bit RGB PNG bytes,
/// at one pixel per user unit, with the bundled fonts.
pub fn svg_to_png(svg: &str, stem: &str) -> Result<Vec<u8>, FigureError> {
    let render_error = |message: String| FigureError::Render {
        stem: stem.to_string(),
        message,
    };
    let options = usvg::Options {
        fontdb: font_database(),
        font_family: "DejaVu Sans".into(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| render_error(e.to_string()))?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width(), size.height());
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| render_error(format!("no canvas of {w} × {h} pixels")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    // Opaque white below everything: the premultiplied RGBA is plain RGB plus 255.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    svg::encode_rgb_png(&rgb, w, h, png::Compression::Best).map_err(|source| FigureError::Png {
        stem: stem.to_string(),
        source,
    })
}

/// Renders `fig` in each of `formats` and writes `dir/STEM.EXT`, creating `dir` if needed.
/// Returns the paths written. Each file appears whole or not at all.
pub fn save<F: Figure>(
    fig: &F,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, FigureError> {
    formats
        .iter()
        .map(|&format| {
            let bytes = match format {
                Format::Png => to_png(fig)?,
                Format::Svg => to_svg(fig)?.into_bytes(),
            };
            let path = dir.join(format!("{}.{}", fig.stem(), format.extension()));
            write_atomically(&path, &bytes)?;
            Ok(path)
        })
        .collect()
}

/// A rendered figure that the evcxr Jupyter kernel displays inline (as PNG).
#[derive(Debug, Clone)]
pub struct Inline {
    png: Vec<u8>,
}

impl Inline {
    /// The PNG bytes.
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    /// Called by evcxr when a cell's value is an `Inline`: prints the image in evcxr's
    /// content protocol.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/png\n{}\nEVCXR_END_CONTENT",
            base64::engine::general_purpose::STANDARD.encode(&self.png)
        );
    }
}

/// Saves `fig` into `dir` as PNG and SVG (as the command line does) and returns it for inline
/// display. Without a [`crate::Study`]; the notebooks' figure cells end with
/// [`crate::Study::save_and_show`], which saves into the study's figures folder.
pub fn save_and_show<F: Figure>(fig: &F, dir: &Path) -> Result<Inline, FigureError> {
    save(fig, dir, &Format::ALL)?;
    show(fig)
}

/// Renders `fig` for inline display: end a notebook cell with `figures::show(&fig)?`.
pub fn show<F: Figure>(fig: &F) -> Result<Inline, FigureError> {
    Ok(Inline { png: to_png(fig)? })
}

/// A figure of any type, as a value: what a section of the study lists, and what
/// [`crate::Study::save_and_show`] saves and shows. Every [`Figure`] is one.
pub trait AnyFigure {
    /// The file name without extension (the figure's [`Figure::stem`]).
    fn name(&self) -> String;
    /// Saves the figure into `dir` in each of `formats`, as [`save`] does.
    fn save_in(&self, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, FigureError>;
    /// The figure for inline display in a notebook, as [`show`] renders it.
    fn inline(&self) -> Result<Inline, FigureError>;
}

impl<F: Figure> AnyFigure for F {
    fn name(&self) -> String {
        self.stem()
    }

    fn save_in(&self, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, FigureError> {
        save(self, dir, formats)
    }

    fn inline(&self) -> Result<Inline, FigureError> {
        show(self)
    }
}

/// One figure drawn from a different value per format: Figure 7 puts every point in the
/// bitmap and every tenth in the vector file, which would otherwise be tens of megabytes.
#[derive(Debug, Clone)]
pub struct ByFormat<F> {
    /// What the PNG (and the inline display) shows.
    pub png: F,
    /// What the SVG shows.
    pub svg: F,
}

impl<F: Figure> AnyFigure for ByFormat<F> {
    fn name(&self) -> String {
        self.png.stem()
    }

    fn save_in(&self, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, FigureError> {
        let mut written = Vec::new();
        for &format in formats {
            let fig = match format {
                Format::Png => &self.png,
                Format::Svg => &self.svg,
            };
            written.extend(save(fig, dir, &[format])?);
        }
        Ok(written)
    }

    fn inline(&self) -> Result<Inline, FigureError> {
        show(&self.png)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Square;

    impl Figure for Square {
        fn stem(&self) -> String {
            "square".into()
        }
        fn size(&self) -> (u32, u32) {
            (40, 30)
        }
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            root.draw(&Rectangle::new([(0, 0), (10, 10)], BLACK.filled()))?;
            root.draw(&Text::new("Å", (20, 5), ("sans-serif", 12)))
        }
    }

    #[test]
    fn png_and_svg_render_with_the_bundled_font() {
        let png = to_png(&Square).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = to_svg(&Square).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Å"));
    }

    #[test]
    fn save_writes_each_format_whole() {
        let dir = tempfile::tempdir().unwrap();
        let paths = save(&Square, &dir.path().join("out"), &Format::ALL).unwrap();
        assert_eq!(paths.len(), 2);
        assert!(paths[0].ends_with("square.png") && paths[1].ends_with("square.svg"));
        let leftovers = std::fs::read_dir(dir.path().join("out")).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary files remain");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("PNG".parse::<Format>().unwrap(), Format::Png);
        assert_eq!(" svg".parse::<Format>().unwrap(), Format::Svg);
        assert!(matches!(
            "pdf".parse::<Format>(),
            Err(FigureError::UnknownFormat(_))
        ));
    }

    #[test]
    fn inline_display_uses_the_evcxr_protocol() {
        let inline = show(&Square).unwrap();
        assert_eq!(&inline.png()[1..4], b"PNG");
    }

    #[test]
    fn save_and_show_writes_both_files_and_returns_the_same_png() {
        let dir = tempfile::tempdir().unwrap();
        let inline = save_and_show(&Square, dir.path()).unwrap();
        let saved = std::fs::read(dir.path().join("square.png")).unwrap();
        assert_eq!(inline.png(), saved.as_slice());
        assert!(dir.path().join("square.svg").is_file());
    }
}
