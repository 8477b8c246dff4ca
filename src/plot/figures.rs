//! The figure types: coefficient plot, band plots
//! (predicted probability, marginal effect), mediation path diagram, binned
//! scatter. Each holds its numbers; callers compute them.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette as pal;
use super::type_size::{AXIS, TEXT, TITLE};
use super::{drawn, font, padded, pt, Figure, PlotError};

pub(crate) fn stroke(c: RGBColor, points: f64) -> ShapeStyle {
    c.stroke_width(pt(points).round().max(1.0) as u32)
}

/// Tick label without trailing zeros (`40`, `0.5`, `0.015`) and with a true
/// minus sign (`−0.5`, U+2212), as journals set it.
///
/// ```
/// use concord::plot::figures::tidy;
/// assert_eq!((tidy(40.0), tidy(-0.5), tidy(-0.00001)), ("40".into(), "−0.5".into(), "0".into()));
/// ```
pub fn tidy(v: f64) -> String {
    tidy_to(v, 4)
}

/// A tick label for an axis over `lo..hi` with the ticks of [`nice_ticks`]:
/// [`tidy`], with the decimals the ticks' step needs when it is finer than
/// 1e-4 (0.00025, not 0.0003).
///
/// ```
/// use concord::plot::figures::{nice_ticks, tick_label};
/// let labels: Vec<String> = nice_ticks(-0.0006, 0.0008).iter().map(|t| tick_label(*t, -0.0006, 0.0008)).collect();
/// assert_eq!(labels, ["−0.0005", "−0.00025", "0", "0.00025", "0.0005", "0.00075"]);
/// assert_eq!(tick_label(0.25, -1.0, 1.0), "0.25");
/// ```
pub fn tick_label(v: f64, lo: f64, hi: f64) -> String {
    tidy_to(v, nice_step(lo, hi).map_or(4, |(_, digits)| digits.clamp(4, 15)))
}

/// The step of [`nice_ticks`] over `lo..hi` (1, 2, 2.5 or 5 times a power
/// of ten, the smallest at least a sixth of the range) and the decimals
/// that print its multiples exactly; none for an empty or infinite range.
fn nice_step(lo: f64, hi: f64) -> Option<(f64, usize)> {
    let width = hi - lo;
    if !(width > 0.0 && width.is_finite()) {
        return None;
    }
    let raw = width / 6.0;
    let k = raw.log10().floor();
    let mag = 10f64.powf(k);
    if !(mag > 0.0 && mag.is_finite()) {
        return None;
    }
    let (m, step) = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| (*m, m * mag)).find(|(_, s)| *s >= raw * (1.0 - 1e-9))?;
    let digits = -(k as i64) + i64::from(m == 2.5) - i64::from(m == 10.0);
    Some((step, digits.max(0) as usize))
}

/// Tick positions over `lo..hi`: the multiples of [`nice_step`]'s step in
/// the range, 3 to 7 of them (plotters' own choice of 1 or 5 times a power
/// of ten can leave two).
///
/// ```
/// use concord::plot::figures::nice_ticks;
/// assert_eq!(nice_ticks(-0.045, 0.081), vec![-0.025, 0.0, 0.025, 0.05, 0.075]);
/// assert_eq!(nice_ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
/// assert!(nice_ticks(1.0, 1.0).is_empty() && nice_ticks(0.0, f64::NAN).is_empty());
/// ```
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let Some((step, digits)) = nice_step(lo, hi) else { return Vec::new() };
    let (first, last) = ((lo / step).ceil(), (hi / step).floor());
    if !(first.is_finite() && last.is_finite() && last >= first && last - first <= 100.0) {
        return Vec::new();
    }
    // Whole multiples of the step, rounded to its decimals (no 0.30000000000000004).
    let scale = 10f64.powi(digits as i32 + 1);
    (0..=(last - first) as usize)
        .map(|i| (((first + i as f64) * step) * scale).round() / scale)
        .map(|v| if v == 0.0 { 0.0 } else { v })
        .collect()
}

/// A continuous axis with the ticks of [`nice_ticks`] (plotters'
/// `WithKeyPoints` takes no label formatter).
struct NiceAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl NiceAxis {
    fn new(lo: f64, hi: f64) -> NiceAxis {
        NiceAxis { inner: (lo..hi).into(), ticks: nice_ticks(lo, hi) }
    }
}

impl Ranged for NiceAxis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.ticks.clone()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

fn tidy_to(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.replace('-', "−")
    }
}

/// A single panel over `x` by `y`: the house caption, label areas and light
/// grid, 6 ticks a side with `tidy` x labels and `y_fmt` y labels, drawn.
#[allow(clippy::too_many_arguments)]
pub(super) fn panel<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    name: &str,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    y_area: f64,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, PlotError> {
    panel_with(root, name, title, (x_desc, y_desc), y_area, x, y, &|v| tidy(*v), y_fmt)
}

/// [`panel`] with its own x tick labels (a discrete axis labels its levels only).
#[allow(clippy::too_many_arguments)]
pub(super) fn panel_with<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    name: &str,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    y_area: f64,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    x_fmt: &dyn Fn(&f64) -> String,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, PlotError> {
    let mut chart = ChartBuilder::on(root)
        .margin(pt(6.0) as u32)
        .caption(title, title_font(title, root.dim_in_pixel().0))
        .x_label_area_size(pt(24.0) as u32)
        .y_label_area_size(pt(y_area) as u32)
        .build_cartesian_2d(x, y)
        .map_err(drawn::<(), _>(name))?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(pal::LIGHT)
        .label_style(font(TEXT))
        .axis_desc_style(font(AXIS))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .draw()
        .map_err(drawn::<(), _>(name))?;
    Ok(chart)
}

/// The distinct items, in the order they first appear (the estimands of a
/// plot's rows, which must be one unless each row is labelled).
pub(crate) fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Approximate width (pixels) of `s` at `size` points (DejaVu Sans averages
/// about 0.56 em a character).
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * pt(size) * 0.56
}

/// The title style for a drawing area `width_px` wide: [`TITLE`] points, or
/// smaller (not below 6 pt) when a long title would run off the figure.
pub(crate) fn title_font(title: &str, width_px: u32) -> TextStyle<'static> {
    let room = f64::from(width_px) - 2.0 * pt(6.0);
    let need = text_width(title, TITLE);
    font(if need > room { (TITLE * room / need).max(6.0) } else { TITLE })
}

// ---------------------------------------------------------------------------

/// One row of a coefficient plot.
#[derive(Debug, Clone)]
pub struct CoefRow {
    pub label: String,
    pub estimate: f64,
    pub lo90: f64,
    pub hi90: f64,
    pub lo95: f64,
    pub hi95: f64,
    /// Drawn in black (the main specification); others in blue.
    pub highlight: bool,
    /// What the row estimates (a term in words, e.g. "UN treaties ratified
    /// (t-1)"): rows of one plot must estimate the same quantity unless the
    /// plot labels every row with its estimand.
    pub estimand: String,
    /// The row's number of observations as printed ("27,870"), in a column
    /// at the right: rows of one plot can rest on very different samples.
    pub n: Option<String>,
}

/// Estimates with 90% (thick) and 95% (thin) intervals, one row each. All
/// rows estimate the same quantity on the same scale; a plot of different
/// estimands is refused unless `label_estimands` is set, which prints each
/// row's estimand beside its label.
#[derive(Debug, Clone)]
pub struct CoefPlot {
    pub title: String,
    pub x_label: String,
    pub rows: Vec<CoefRow>,
    pub width: f64,
    pub label_estimands: bool,
    /// A grey line under the axis (the verdict of the main row, say); the
    /// intervals' legend is always drawn beside it.
    pub note: Option<String>,
}

impl CoefPlot {
    /// The distinct estimands of the rows, in order.
    pub fn estimands(&self) -> Vec<&str> {
        distinct(self.rows.iter().map(|r| r.estimand.as_str()))
    }

    /// Refuse rows of different estimands on one axis unless labelled.
    pub fn check(&self) -> Result<(), PlotError> {
        let e = self.estimands();
        if e.len() > 1 && !self.label_estimands {
            return Err(PlotError::Data {
                figure: self.name(),
                message: format!(
                    "the rows estimate different quantities ({}): split the plot, or label every row with its estimand",
                    e.join("; ")
                ),
            });
        }
        Ok(())
    }

    /// The widest the row labels may be (pixels): 60% of the figure.
    fn label_cap(&self) -> f64 {
        self.width * super::DPI * 0.6
    }

    /// The row's label lines: the label, and beneath it the estimand when
    /// the plot labels estimands, wrapped to the labels' width.
    fn row_lines(&self, r: &CoefRow) -> Vec<String> {
        let mut lines = vec![r.label.clone()];
        if self.label_estimands && !r.estimand.is_empty() {
            let chars = (self.label_cap() / text_width("x", TEXT)).floor().max(20.0) as usize;
            lines.extend(wrap_words(&format!("estimates: {}", r.estimand), chars));
        }
        lines
    }
}

impl Figure for CoefPlot {
    fn name(&self) -> String {
        format!("coefficient plot `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        // A row is as tall as its label lines need (0.34 in for two).
        let lines = self.rows.iter().map(|r| self.row_lines(r).len()).max().unwrap_or(1);
        let row = if self.label_estimands { 0.34 + 0.12 * lines.saturating_sub(2) as f64 } else { 0.22 };
        (self.width, 1.05 + row * self.rows.len() as f64)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let n = self.rows.len();
        if n == 0 {
            return Err(PlotError::Data { figure: name, message: "no estimates".into() });
        }
        self.check()?;
        let lo = self.rows.iter().map(|r| r.lo95).fold(0.0, f64::min);
        let hi = self.rows.iter().map(|r| r.hi95).fold(0.0, f64::max);
        let (lo, hi) = padded(lo, hi, 0.06);
        let label_w = self
            .rows
            .iter()
            .flat_map(|r| self.row_lines(r))
            .map(|l| text_width(&l, TEXT))
            .fold(0.0, f64::max)
            .min(self.label_cap())
            + pt(6.0);
        let n_w = self.rows.iter().filter_map(|r| r.n.as_ref()).map(|s| text_width(s, TEXT)).fold(0.0, f64::max);
        let n_w = if n_w > 0.0 { n_w.max(text_width("N", TEXT)) + pt(8.0) } else { 0.0 };
        // The legend line beneath the axis.
        let (plot, legend) = root.split_vertically(root.dim_in_pixel().1 - pt(11.0) as u32);
        let mut chart = ChartBuilder::on(&plot)
            .margin(pt(6.0) as u32)
            .caption(&self.title, title_font(&self.title, root.dim_in_pixel().0))
            .x_label_area_size(pt(24.0) as u32)
            .y_label_area_size(label_w as u32)
            .right_y_label_area_size(n_w as u32)
            .build_cartesian_2d(NiceAxis::new(lo, hi), -0.6..(n as f64 - 0.4))
            .map_err(drawn::<(), _>(&name))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(pal::LIGHT)
            .y_labels(0)
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_desc(&self.x_label)
            .x_labels(6)
            .x_label_formatter(&|v| tick_label(*v, lo, hi))
            .draw()
            .map_err(drawn::<(), _>(&name))?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
                pt(3.0) as u32,
                pt(2.0) as u32,
                stroke(pal::GREY, 0.7),
            ))
            .map_err(drawn::<(), _>(&name))?;
        for (i, r) in self.rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let c = if r.highlight { pal::BLACK } else { pal::BLUE };
            chart
                .draw_series([
                    PathElement::new(vec![(r.lo95, y), (r.hi95, y)], stroke(c, 0.8)),
                    PathElement::new(vec![(r.lo90, y), (r.hi90, y)], stroke(c, 2.2)),
                ])
                .map_err(drawn::<(), _>(&name))?;
            // The main row's marker is a square, the others' circles (not only colour).
            let m = pt(2.2) as i32;
            if r.highlight {
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((r.estimate, y)) + Rectangle::new([(-m, -m), (m, m)], c.filled()),
                    ))
                    .map_err(drawn::<(), _>(&name))?;
            } else {
                chart
                    .draw_series(std::iter::once(Circle::new((r.estimate, y), m as u32, c.filled())))
                    .map_err(drawn::<(), _>(&name))?;
            }
            let (px, py) = chart.backend_coord(&(lo, y));
            if let Some(nobs) = &r.n {
                let (qx, _) = chart.backend_coord(&(hi, y));
                root.draw(&Text::new(
                    nobs.clone(),
                    (qx + n_w as i32 - pt(2.0) as i32, py),
                    font(TEXT).color(&pal::GREY).pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(drawn::<(), _>(&name))?;
                if i == 0 {
                    let (_, top) = chart.backend_coord(&(hi, n as f64 - 0.4));
                    root.draw(&Text::new(
                        "N".to_string(),
                        (qx + n_w as i32 - pt(2.0) as i32, top - pt(5.0) as i32),
                        font(TEXT).color(&pal::GREY).pos(Pos::new(HPos::Right, VPos::Bottom)),
                    ))
                    .map_err(drawn::<(), _>(&name))?;
                }
            }
            let lines = self.row_lines(r);
            let step = pt(TEXT) * 1.2;
            let top = py as f64 - step * (lines.len() as f64 - 1.0) / 2.0;
            for (k, line) in lines.iter().enumerate() {
                let style = if k == 0 { font(TEXT) } else { font(TEXT).color(&pal::GREY) };
                root.draw(&Text::new(
                    line.clone(),
                    (px - pt(5.0) as i32, (top + step * k as f64) as i32),
                    style.pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(drawn::<(), _>(&name))?;
            }
        }
        // Legend of the two interval widths, then the note.
        let (x, y) = (pt(6.0) as i32, pt(4.0) as i32);
        let w = pt(12.0) as i32;
        legend
            .draw(&PathElement::new(vec![(x, y), (x + w, y)], stroke(pal::GREY, 2.2)))
            .map_err(drawn::<(), _>(&name))?;
        let text = |s: String, at: i32| {
            Text::new(s, (at, y), font(TEXT).color(&pal::GREY).pos(Pos::new(HPos::Left, VPos::Center)))
        };
        legend.draw(&text("90%".into(), x + w + pt(3.0) as i32)).map_err(drawn::<(), _>(&name))?;
        let x2 = x + w + pt(24.0) as i32;
        legend
            .draw(&PathElement::new(vec![(x2, y), (x2 + w, y)], stroke(pal::GREY, 0.8)))
            .map_err(drawn::<(), _>(&name))?;
        let mut tail = "95% intervals".to_string();
        if let Some(note) = &self.note {
            tail.push_str(&format!(". {note}"));
        }
        legend.draw(&text(tail, x2 + w + pt(3.0) as i32)).map_err(drawn::<(), _>(&name))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------

/// A curve with a confidence band over a variable, the observed distribution
/// of that variable as a histogram along the bottom, and optionally a zero line
/// (predicted probabilities; marginal effects over a moderator).
#[derive(Debug, Clone)]
pub struct BandPlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// (x, estimate, low, high).
    pub points: Vec<(f64, f64, f64, f64)>,
    pub observed: Vec<f64>,
    pub zero_line: bool,
    pub width: f64,
}

impl Figure for BandPlot {
    fn name(&self) -> String {
        format!("band plot `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        (self.width, self.width * 0.78)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        if self.points.len() < 2 {
            return Err(PlotError::Data { figure: name, message: "fewer than two points".into() });
        }
        let x0 = self.points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let x1 = self.points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let mut lo = self.points.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
        let hi = self.points.iter().map(|p| p.3).fold(f64::NEG_INFINITY, f64::max);
        if !self.zero_line {
            lo = lo.min(0.0);
        }
        let (lo, hi) = if self.zero_line { padded(lo.min(0.0), hi.max(0.0), 0.05) } else { (lo, hi * 1.05) };
        // The histogram takes the lowest fifth of the panel.
        let span = hi - lo;
        let floor = lo - span * 0.25;
        let y_fmt = |v: &f64| if *v < lo - 1e-12 { String::new() } else { tidy(*v) };
        let labels = (self.x_label.as_str(), self.y_label.as_str());
        let mut chart = panel(root, &name, &self.title, labels, 40.0, x0..x1, floor..hi, &y_fmt)?;
        histogram(&mut chart, &name, &self.observed, (x0, x1), floor, span * 0.2)?;
        let mut band: Vec<(f64, f64)> = self.points.iter().map(|p| (p.0, p.3)).collect();
        band.extend(self.points.iter().rev().map(|p| (p.0, p.2)));
        chart
            .draw_series(std::iter::once(Polygon::new(band, pal::SKY.mix(0.35).filled())))
            .map_err(drawn::<(), _>(&name))?;
        for edge in [2usize, 3] {
            let pts: Vec<(f64, f64)> = self.points.iter().map(|p| (p.0, if edge == 2 { p.2 } else { p.3 })).collect();
            chart.draw_series(LineSeries::new(pts, stroke(pal::BLUE, 0.5))).map_err(drawn::<(), _>(&name))?;
        }
        if self.zero_line {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, 0.0), (x1, 0.0)],
                    pt(3.0) as u32,
                    pt(2.0) as u32,
                    stroke(pal::GREY, 0.7),
                ))
                .map_err(drawn::<(), _>(&name))?;
        }
        chart
            .draw_series(LineSeries::new(self.points.iter().map(|p| (p.0, p.1)), stroke(pal::BLACK, 1.2)))
            .map_err(drawn::<(), _>(&name))?;
        Ok(())
    }
}

/// Histogram of the observed values within `x0..x1`, standing on `floor`
/// and at most `height` tall: one bar per value for whole-number variables
/// (counts, years, 0/1), else 30 bins.
pub(super) fn histogram<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    name: &str,
    observed: &[f64],
    (x0, x1): (f64, f64),
    floor: f64,
    height: f64,
) -> Result<(), PlotError> {
    let inside: Vec<f64> = observed.iter().copied().filter(|v| (x0..=x1).contains(v)).collect();
    let (bins, start, w) = match integer_bins(&inside, x0, x1) {
        Some((first, n)) => (n, first - 0.5, 1.0),
        None => (30, x0, (x1 - x0) / 30.0),
    };
    let mut counts = vec![0usize; bins];
    for v in &inside {
        let b = ((v - start) / w).floor().max(0.0) as usize;
        counts[b.min(bins - 1)] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    chart
        .draw_series(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(b, c)| {
            let xa = (start + b as f64 * w).max(x0);
            let xb = (start + b as f64 * w + w * 0.9).min(x1);
            let top = floor + (*c as f64 / max) * height;
            Rectangle::new([(xa, floor), (xb, top)], pal::GREY.mix(0.5).filled())
        }))
        .map_err(drawn::<(), _>(name))?;
    Ok(())
}

/// Words of `s` in lines of at most about `width` characters.
fn wrap_words(s: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in s.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// For whole-number values spanning at most 80 values in `[x0, x1]`: the
/// first value and the number of one-wide bins (one bar per value).
pub fn integer_bins(values: &[f64], x0: f64, x1: f64) -> Option<(f64, usize)> {
    if values.is_empty() || values.iter().any(|v| v.fract() != 0.0) {
        return None;
    }
    let (first, last) = (x0.ceil(), x1.floor());
    let n = (last - first) as usize + 1;
    (last >= first && n <= 80).then_some((first, n))
}

// ---------------------------------------------------------------------------

/// One mediator in a [`MediationDiagram`]: (estimate, low, high) for each path.
#[derive(Debug, Clone)]
pub struct MediatorPath {
    pub label: String,
    pub a: (f64, f64, f64),
    pub b: (f64, f64, f64),
    pub indirect: (f64, f64, f64),
}

/// Cause -> mediators -> outcome, arrows labelled with estimates and CIs,
/// indirect effects listed beneath.
#[derive(Debug, Clone)]
pub struct MediationDiagram {
    pub title: String,
    pub cause: String,
    pub outcome: String,
    pub mediators: Vec<MediatorPath>,
    pub note: String,
    /// What the indirect effects beneath are (`a x b`, or `ACME on Pr(y)`
    /// when they are natural effects on the probability scale).
    pub indirect_name: String,
}

fn est(v: (f64, f64, f64)) -> String {
    let f = |x: f64| if x != 0.0 && x.abs() < 0.01 { format!("{x:.1e}") } else { format!("{x:.3}") };
    format!("{} [{}, {}]", f(v.0), f(v.1), f(v.2))
}

impl Figure for MediationDiagram {
    fn name(&self) -> String {
        "mediation diagram".into()
    }
    fn size(&self) -> (f64, f64) {
        (super::TWO_COLUMN, 1.3 + 0.9 * self.mediators.len() as f64)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as f64, h as f64);
        let m = self.mediators.len().max(1);
        let title_h = pt(16.0);
        let list_h = pt(11.0) * (m as f64 + 1.5);
        let body = h - title_h - list_h;
        let bw = w * 0.2;
        let bh = pt(30.0);
        let mid = title_h + body / 2.0;
        let ok = drawn::<(), _>(&name);
        root.draw(&Text::new(self.title.clone(), (pt(6.0) as i32, pt(4.0) as i32), font(TITLE))).map_err(&ok)?;
        let boxed = |x: f64, y: f64, label: &str, color: RGBColor| -> Result<(), PlotError> {
            let (x0, y0, x1, y1) = (x - bw / 2.0, y - bh / 2.0, x + bw / 2.0, y + bh / 2.0);
            root.draw(&Rectangle::new([(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)], WHITE.filled()))
                .map_err(&ok)?;
            root.draw(&Rectangle::new([(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)], stroke(color, 1.0)))
                .map_err(&ok)?;
            // Labels wider than the box wrap onto lines.
            let per_line = ((bw - pt(6.0)) / (pt(AXIS) * 0.56)).max(8.0) as usize;
            let lines = wrap_words(label, per_line);
            let step = pt(AXIS) * 1.15;
            let top = y - step * (lines.len() as f64 - 1.0) / 2.0;
            for (i, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (x as i32, (top + step * i as f64) as i32),
                    font(AXIS).pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(&ok)?;
            }
            Ok(())
        };
        let arrow = |from: (f64, f64), to: (f64, f64), label: &str, above: bool| -> Result<(), PlotError> {
            let (dx, dy) = (to.0 - from.0, to.1 - from.1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let head = pt(5.0);
            let base = (to.0 - ux * head, to.1 - uy * head);
            root.draw(&PathElement::new(
                vec![(from.0 as i32, from.1 as i32), (base.0 as i32, base.1 as i32)],
                stroke(pal::GREY, 0.9),
            ))
            .map_err(&ok)?;
            let side = (-uy * head * 0.45, ux * head * 0.45);
            let tri = vec![
                (to.0 as i32, to.1 as i32),
                ((base.0 + side.0) as i32, (base.1 + side.1) as i32),
                ((base.0 - side.0) as i32, (base.1 - side.1) as i32),
            ];
            root.draw(&Polygon::new(tri, pal::GREY.filled())).map_err(&ok)?;
            // The label sits beside the arrow's middle, far enough along the
            // normal that its box clears the line: half-width times |n_x|
            // plus half-height times |n_y|, plus a gap.
            let (mut nx, mut ny) = (-uy, ux);
            if (ny < 0.0) != above {
                nx = -nx;
                ny = -ny;
            }
            let (half_w, half_h) = (text_width(label, TEXT) / 2.0, pt(TEXT) * 0.7);
            let d = half_w * nx.abs() + half_h * ny.abs() + pt(3.0);
            let (lx, ly) = ((from.0 + to.0) / 2.0 + nx * d, (from.1 + to.1) / 2.0 + ny * d);
            root.draw(&Text::new(
                label.to_string(),
                (lx as i32, ly as i32),
                font(TEXT).pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(&ok)?;
            Ok(())
        };
        let cx = pt(6.0) + bw / 2.0;
        let ox = w - pt(6.0) - bw / 2.0;
        let mx = w / 2.0;
        let ys: Vec<f64> = (0..m).map(|i| title_h + body * (i as f64 + 0.5) / m as f64).collect();
        for (p, &y) in self.mediators.iter().zip(&ys) {
            let above = y <= mid + 1.0;
            arrow((cx + bw / 2.0, mid), (mx - bw / 2.0, y), &format!("a = {}", est(p.a)), above)?;
            arrow((mx + bw / 2.0, y), (ox - bw / 2.0, mid), &format!("b = {}", est(p.b)), above)?;
        }
        boxed(cx, mid, &self.cause, pal::BLUE)?;
        boxed(ox, mid, &self.outcome, pal::VERMILLION)?;
        for (p, &y) in self.mediators.iter().zip(&ys) {
            boxed(mx, y, &p.label, pal::GREEN)?;
        }
        let mut y = title_h + body + pt(6.0);
        for p in &self.mediators {
            root.draw(&Text::new(
                format!("indirect effect through {}: {} = {}", p.label, self.indirect_name, est(p.indirect)),
                (pt(8.0) as i32, y as i32),
                font(TEXT),
            ))
            .map_err(&ok)?;
            y += pt(11.0);
        }
        root.draw(&Text::new(self.note.clone(), (pt(8.0) as i32, y as i32), font(TEXT).color(&pal::GREY)))
            .map_err(&ok)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------

/// Means of y within quantile bins of x (both within-unit residualised, say),
/// with the least-squares line through the bins.
#[derive(Debug, Clone)]
pub struct BinnedScatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub bins: Vec<(f64, f64)>,
    /// (intercept, slope) of the line drawn, if any.
    pub line: Option<(f64, f64)>,
    pub width: f64,
}

impl Figure for BinnedScatter {
    fn name(&self) -> String {
        format!("binned scatter `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        (self.width, self.width * 0.78)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        if self.bins.len() < 2 {
            return Err(PlotError::Data { figure: name, message: "fewer than two bins".into() });
        }
        let (x0, x1) = padded(
            self.bins.iter().map(|b| b.0).fold(f64::INFINITY, f64::min),
            self.bins.iter().map(|b| b.0).fold(f64::NEG_INFINITY, f64::max),
            0.05,
        );
        let (y0, y1) = padded(
            self.bins.iter().map(|b| b.1).fold(f64::INFINITY, f64::min),
            self.bins.iter().map(|b| b.1).fold(f64::NEG_INFINITY, f64::max),
            0.1,
        );
        let labels = (self.x_label.as_str(), self.y_label.as_str());
        let mut chart = panel(root, &name, &self.title, labels, 42.0, x0..x1, y0..y1, &|v| tidy(*v))?;
        if let Some((a, b)) = self.line {
            chart
                .draw_series(LineSeries::new(vec![(x0, a + b * x0), (x1, a + b * x1)], stroke(pal::VERMILLION, 1.0)))
                .map_err(drawn::<(), _>(&name))?;
        }
        chart
            .draw_series(self.bins.iter().map(|&(x, y)| Circle::new((x, y), pt(2.4) as u32, pal::BLUE.filled())))
            .map_err(drawn::<(), _>(&name))?;
        Ok(())
    }
}
