//! Predicted values over one variable, one series per value of a second
//! (`--by`): a line with its band for a continuous variable, points with
//! intervals (dodged by series) for a discrete one, over the histogram of the
//! observed values.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figures::{histogram, panel_with, stroke, tidy};
use super::palette as pal;
use super::type_size::TEXT;
use super::{drawn, font, pt, Figure, PlotError};

/// One series of a [`PredictPlot`]: (x, estimate, low, high) points.
#[derive(Debug, Clone, Default)]
pub struct PredictSeries {
    /// Legend entry (`Contiguous = 1`); empty for a single series.
    pub label: String,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Predictions over `x`, one series per value of a second variable.
#[derive(Debug, Clone, Default)]
pub struct PredictPlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<PredictSeries>,
    /// Observed values of `x` (histogram beneath).
    pub observed: Vec<f64>,
    /// A discrete `x` (0/1, a few levels): points with intervals, not lines.
    pub discrete: bool,
    pub width: f64,
}

const COLOURS: [RGBColor; 4] = [pal::BLUE, pal::VERMILLION, pal::GREEN, pal::PURPLE];

impl Figure for PredictPlot {
    fn name(&self) -> String {
        format!("prediction plot `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        (self.width, self.width * 0.78)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let all: Vec<&(f64, f64, f64, f64)> = self.series.iter().flat_map(|s| &s.points).collect();
        let need = if self.discrete { 1 } else { 2 };
        if self.series.is_empty() || self.series.iter().any(|s| s.points.len() < need) {
            return Err(PlotError::Data { figure: name, message: format!("a series with fewer than {need} points") });
        }
        if self.series.len() > COLOURS.len() {
            return Err(PlotError::Data {
                figure: name,
                message: format!("{} series: at most {} are told apart", self.series.len(), COLOURS.len()),
            });
        }
        let fold = |f: fn(f64, f64) -> f64, init: f64, g: fn(&(f64, f64, f64, f64)) -> f64| {
            all.iter().map(|p| g(p)).filter(|v| v.is_finite()).fold(init, f)
        };
        let (mut x0, mut x1) = (fold(f64::min, f64::INFINITY, |p| p.0), fold(f64::max, f64::NEG_INFINITY, |p| p.0));
        if self.discrete {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        let lo = fold(f64::min, f64::INFINITY, |p| p.2).min(0.0);
        let hi = fold(f64::max, f64::NEG_INFINITY, |p| p.3);
        if !(hi.is_finite() && x1 > x0) {
            return Err(PlotError::Data { figure: name, message: "no finite predictions".into() });
        }
        // Headroom for the legend, in the upper corner where the series are lower.
        let legend = self.series.iter().any(|s| !s.label.is_empty());
        let span = (hi - lo).max(f64::EPSILON);
        let hi = if legend { hi + span * (0.1 + 0.15 * self.series.len() as f64) } else { hi + span * 0.05 };
        // A probability axis never passes 1.
        let hi = if self.y_label.starts_with("Pr(") { hi.min(1.0) } else { hi };
        let mid = (x0 + x1) / 2.0;
        let top =
            |left: bool| all.iter().filter(|p| (p.0 < mid) == left).map(|p| p.3).fold(f64::NEG_INFINITY, f64::max);
        let corner =
            if top(true) < top(false) { SeriesLabelPosition::UpperLeft } else { SeriesLabelPosition::UpperRight };
        // The histogram takes the lowest fifth of the panel.
        let span = hi - lo;
        let floor = lo - span * 0.25;
        let y_fmt = |v: &f64| if *v < lo - 1e-12 { String::new() } else { tidy(*v) };
        let labels = (self.x_label.as_str(), self.y_label.as_str());
        // A discrete axis labels its levels only.
        let levels: Vec<f64> = self.series[0].points.iter().map(|p| p.0).collect();
        let discrete = self.discrete;
        let x_fmt = move |v: &f64| {
            if !discrete || levels.iter().any(|l| (l - v).abs() < 1e-9) {
                tidy(*v)
            } else {
                String::new()
            }
        };
        let mut chart = panel_with(root, &name, &self.title, labels, 40.0, x0..x1, floor..hi, &x_fmt, &y_fmt)?;
        histogram(&mut chart, &name, &self.observed, (x0, x1), floor, span * 0.2)?;
        let n = self.series.len();
        for (k, s) in self.series.iter().enumerate() {
            let c = COLOURS[k];
            if self.discrete {
                // Dodge the series around each value; markers differ by series.
                let dx = if n > 1 { 0.3 * (k as f64 / (n - 1) as f64 - 0.5) } else { 0.0 };
                let pts: Vec<(f64, f64, f64, f64)> = s.points.iter().map(|p| (p.0 + dx, p.1, p.2, p.3)).collect();
                chart
                    .draw_series(pts.iter().map(|p| PathElement::new(vec![(p.0, p.2), (p.0, p.3)], stroke(c, 1.0))))
                    .map_err(drawn::<(), _>(&name))?;
                let r = pt(2.6) as i32;
                let series = chart
                    .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), r, marker_style(k, c))))
                    .map_err(drawn::<(), _>(&name))?;
                if !s.label.is_empty() {
                    series.label(s.label.clone()).legend(move |(x, y)| Circle::new((x + r, y), r, marker_style(k, c)));
                }
            } else {
                let mut band: Vec<(f64, f64)> = s.points.iter().map(|p| (p.0, p.3)).collect();
                band.extend(s.points.iter().rev().map(|p| (p.0, p.2)));
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(if n > 1 { 0.18 } else { 0.3 }).filled())))
                    .map_err(drawn::<(), _>(&name))?;
                let line = s.points.iter().map(|p| (p.0, p.1));
                let style = stroke(if n == 1 { pal::BLACK } else { c }, 1.2);
                let dash = pt(1.0 + 2.0 * k as f64) as u32;
                let series = if k == 0 {
                    chart.draw_series(LineSeries::new(line, style))
                } else {
                    chart.draw_series(DashedLineSeries::new(line, dash, pt(1.5) as u32, style))
                }
                .map_err(drawn::<(), _>(&name))?;
                if !s.label.is_empty() {
                    let w = pt(12.0) as i32;
                    series
                        .label(s.label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + w, y)], style));
                }
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(corner)
                .legend_area_size(pt(18.0) as u32)
                .label_font(font(TEXT))
                .background_style(WHITE.mix(0.85))
                .border_style(pal::LIGHT)
                .margin(pt(3.0) as u32)
                .draw()
                .map_err(drawn::<(), _>(&name))?;
        }
        Ok(())
    }
}

/// The marker style of series `k`: filled circles for the first and third
/// series, open circles for the second and fourth (colours differ too).
fn marker_style(k: usize, c: RGBColor) -> ShapeStyle {
    if k % 2 == 0 {
        c.filled()
    } else {
        c.stroke_width(pt(0.8).round().max(1.0) as u32)
    }
}
