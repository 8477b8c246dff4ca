//! Publication figures with plotters: each figure is a value that draws itself
//! on any plotters backend, saved as SVG and as PNG at 300 dpi, sized for a
//! journal column (3.5 in) or two (7.2 in).
//!
//! Text is set in DejaVu Sans, compiled into the binary (`assets/fonts`), so a
//! PNG renders the same on a machine without fonts; the SVG names DejaVu Sans
//! first, then common sans-serif fallbacks. Colours are the Okabe-Ito
//! palette (safe for colour-blind readers) and every series also differs in
//! line style or marker, so figures read in greyscale.

pub mod event;
pub mod figures;
pub mod predict;
pub mod scenarios;
pub mod sensitivity;
pub mod spec_curve;
pub mod survival;
pub mod trends;

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

pub use event::{EventPoint, EventStudyPlot};
pub use figures::{BandPlot, BinnedScatter, CoefPlot, CoefRow, MediationDiagram, MediatorPath};
pub use predict::{PredictPlot, PredictSeries};
pub use scenarios::{CmeFigure, ScenarioPlot, ScenarioRow};
pub use sensitivity::SensitivityPlot;
pub use spec_curve::{Choice, Significance, SpecCurve, SpecPoint};
pub use survival::SurvivalPlot;
pub use trends::{Event, Trends, TrendsPanel};

/// Errors of the plot layer.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("drawing {figure}: {message}")]
    Draw { figure: String, message: String },
    #[error("{figure}: {message}")]
    Data { figure: String, message: String },
    #[error(transparent)]
    Write(#[from] crate::data::DataError),
}

/// One journal column, inches.
pub const ONE_COLUMN: f64 = 3.5;
/// Two journal columns, inches.
pub const TWO_COLUMN: f64 = 7.2;
/// Resolution of the PNGs.
pub const DPI: f64 = 300.0;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// plotters-svg writes `font-size = size / 1.24`: an SVG text asked at
/// `1.24 x` the em size in pixels renders at the em size.
const SVG_TEXT_SCALE: f64 = 1.24;
/// The bitmap backend (ab_glyph) scales the font so that ascent - descent
/// (hhea 1901 + 483 of 2048 units in DejaVu Sans) spans the size.
const PNG_TEXT_SCALE: f64 = (1901.0 + 483.0) / 2048.0;

thread_local! {
    /// The backend's factor from em size to plotters' font size, set while a
    /// figure draws (so `font(7.0)` is 7 pt in both the SVG and the PNG).
    static TEXT_SCALE: std::cell::Cell<f64> = const { std::cell::Cell::new(SVG_TEXT_SCALE) };
}

/// Sets [`TEXT_SCALE`] for one drawing and restores it after.
struct TextScale(f64);

impl TextScale {
    fn set(scale: f64) -> TextScale {
        TextScale(TEXT_SCALE.with(|s| s.replace(scale)))
    }
}

impl Drop for TextScale {
    fn drop(&mut self) {
        TEXT_SCALE.with(|s| s.set(self.0));
    }
}

/// Register the embedded font as plotters' `sans-serif` (once per process).
pub fn register_font() {
    REGISTER.call_once(|| {
        // The font is valid (it is compiled in and tested); a failure would
        // show as missing text, which the figure tests catch.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Pixels for `points` at [`DPI`].
pub fn pt(points: f64) -> f64 {
    points * DPI / 72.0
}

/// Okabe-Ito colours.
pub mod palette {
    use plotters::style::RGBColor;
    pub const BLACK: RGBColor = RGBColor(0, 0, 0);
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    pub const SKY: RGBColor = RGBColor(86, 180, 233);
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    pub const GREY: RGBColor = RGBColor(120, 120, 120);
    pub const LIGHT: RGBColor = RGBColor(225, 225, 225);
}

/// A figure: its size and how to draw it.
pub trait Figure {
    /// A short name for messages.
    fn name(&self) -> String;
    /// Width and height, inches.
    fn size(&self) -> (f64, f64);
    /// Draw on `root` (pixels at [`DPI`]).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), PlotError>;
}

/// Map a plotters error into [`PlotError::Draw`].
pub fn drawn<T, E: std::fmt::Debug>(figure: &str) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::Draw { figure: figure.to_string(), message: format!("{e:?}") }
}

fn pixels(fig: &impl Figure) -> (u32, u32) {
    let (w, h) = fig.size();
    ((w * DPI).round() as u32, (h * DPI).round() as u32)
}

/// The figure as an SVG document (physical size in inches, pixel viewBox).
pub fn svg(fig: &impl Figure) -> Result<String, PlotError> {
    register_font();
    let (w, h) = pixels(fig);
    let name = fig.name();
    let mut buf = String::new();
    {
        let _scale = TextScale::set(SVG_TEXT_SCALE);
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(drawn::<(), _>(&name))?;
        fig.draw(&root)?;
        root.present().map_err(drawn::<(), _>(&name))?;
    }
    let (wi, hi) = fig.size();
    let buf = buf.replacen(&format!("width=\"{w}\" height=\"{h}\""), &format!("width=\"{wi}in\" height=\"{hi}in\""), 1);
    Ok(buf.replace(
        "font-family=\"sans-serif\"",
        "font-family=\"DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif\"",
    ))
}

/// The figure as PNG bytes at [`DPI`] (with a pHYs chunk saying so).
pub fn png(fig: &impl Figure) -> Result<Vec<u8>, PlotError> {
    register_font();
    let (w, h) = pixels(fig);
    let name = fig.name();
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let _scale = TextScale::set(PNG_TEXT_SCALE);
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(drawn::<(), _>(&name))?;
        fig.draw(&root)?;
        root.present().map_err(drawn::<(), _>(&name))?;
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&rgb, w, h, image::ColorType::Rgb8)
        .map_err(|e| PlotError::Draw { figure: name.clone(), message: e.to_string() })?;
    Ok(with_dpi(out, DPI))
}

use image::ImageEncoder as _;

/// Insert a pHYs chunk (pixels per metre) after the PNG's IHDR chunk.
fn with_dpi(png: Vec<u8>, dpi: f64) -> Vec<u8> {
    // Signature (8) + IHDR length (4) + type (4) + data (13) + CRC (4).
    const AFTER_IHDR: usize = 33;
    if png.len() < AFTER_IHDR {
        return png;
    }
    let ppm = (dpi / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = b"pHYs".to_vec();
    body.extend_from_slice(&ppm.to_be_bytes());
    body.extend_from_slice(&ppm.to_be_bytes());
    body.push(1);
    let mut crc = flate2::Crc::new();
    crc.update(&body);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc.sum().to_be_bytes());
    let mut out = png[..AFTER_IHDR].to_vec();
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

/// Save `fig` as `stem.svg` and `stem.png` (atomically); returns both paths.
pub fn save(fig: &impl Figure, stem: &Path) -> Result<[PathBuf; 2], PlotError> {
    let svg_path = stem.with_extension("svg");
    let png_path = stem.with_extension("png");
    crate::data::write::write_text(&svg_path, &svg(fig)?)?;
    crate::data::write::write_bytes(&png_path, &png(fig)?)?;
    Ok([svg_path, png_path])
}

/// Text style at `size` points (em size at the figure's physical size) in
/// the embedded font, on the backend that is drawing.
pub fn font(size: f64) -> TextStyle<'static> {
    ("sans-serif", pt(size) * TEXT_SCALE.with(|s| s.get())).into_font().color(&BLACK)
}

/// Type sizes (points) every figure uses, so figures side by side match.
pub mod type_size {
    /// Tick labels, row labels, notes.
    pub const TEXT: f64 = 7.0;
    /// Axis titles, box labels.
    pub const AXIS: f64 = 8.0;
    /// Panel and figure titles.
    pub const TITLE: f64 = 8.5;
}

/// "Nice" axis range with a little padding.
pub fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    let pad = (hi - lo) * frac;
    (lo - pad, hi + pad)
}
