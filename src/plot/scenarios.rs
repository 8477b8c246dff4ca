//! Named scenarios (King, Tomz and Wittenberg 2000): one row per scenario
//! with its simulated prediction and interval, and beneath, the first
//! differences against the first scenario with a zero line; and the
//! conditional marginal effect of an interaction (Brambor, Clark and Golder
//! 2006) drawn with [`BandPlot`] or [`CoefPlot`]. The figures hold their
//! numbers; `concord::inference::{simulate, conditional}` compute them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{stroke, text_width, tidy, title_font, BandPlot, CoefPlot, CoefRow};
use super::palette as pal;
use super::type_size::{AXIS, TEXT};
use super::{drawn, font, padded, pt, Figure, PlotError, DPI};
use crate::estimate::Family;
use crate::inference::conditional::{effect_label, effect_scale, ConditionalEffect};
use crate::inference::simulate::{ScenarioSimulation, Simulated};

/// One row: a label, the point and its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRow {
    pub label: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// Scenario predictions above, first differences beneath.
///
/// ```
/// use concord::plot::{svg, ScenarioPlot, ScenarioRow};
/// let row = |l: &str, e: f64| ScenarioRow { label: l.into(), estimate: e, low: e - 0.01, high: e + 0.01 };
/// let fig = ScenarioPlot {
///     title: "MID onset by IGO memberships".into(),
///     x_label: "Pr(MID onset)".into(),
///     diff_label: "Difference from Low IGO".into(),
///     probability: true,
///     scenarios: vec![row("Low IGO", 0.04), row("High IGO", 0.02)],
///     differences: vec![row("High IGO - Low IGO", -0.02)],
///     note: "Means of 1000 simulations, 95% percentile intervals".into(),
///     width: concord::plot::ONE_COLUMN,
/// };
/// assert!(svg(&fig).unwrap().contains("High IGO - Low IGO"));
/// ```
#[derive(Debug, Clone)]
pub struct ScenarioPlot {
    pub title: String,
    /// Axis title of the predictions (with units): "Pr(MID onset)".
    pub x_label: String,
    /// Axis title of the differences: "Difference in Pr(MID onset) from Low IGO".
    pub diff_label: String,
    /// Predictions are probabilities: their axis stays within [0, 1].
    pub probability: bool,
    pub scenarios: Vec<ScenarioRow>,
    /// Empty with a single scenario (no differences panel).
    pub differences: Vec<ScenarioRow>,
    /// A line beneath the panels (how the intervals were made).
    pub note: String,
    pub width: f64,
}

/// Height (inches) of a panel of `rows` rows, its axis included.
fn panel_height(rows: usize) -> f64 {
    0.55 + 0.24 * rows as f64
}
/// Height (inches) of the title line.
const TITLE_H: f64 = 0.22;
/// Height (inches) of the note line.
const NOTE_H: f64 = 0.2;

impl ScenarioPlot {
    /// Width (pixels) of the row labels' column, the same in both panels.
    fn label_width(&self) -> f64 {
        self.scenarios
            .iter()
            .chain(&self.differences)
            .map(|r| text_width(&r.label, TEXT))
            .fold(0.0, f64::max)
            .min(self.width * DPI * 0.5)
            + pt(6.0)
    }

    #[allow(clippy::too_many_arguments)]
    fn rows_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        rows: &[ScenarioRow],
        x_label: &str,
        (lo, hi): (f64, f64),
        color: RGBColor,
        triangles: bool,
        zero_line: bool,
    ) -> Result<(), PlotError> {
        let name = self.name();
        let n = rows.len();
        let mut chart = ChartBuilder::on(area)
            .margin_left(pt(6.0) as u32)
            .margin_right(pt(10.0) as u32)
            .margin_top(pt(4.0) as u32)
            .margin_bottom(pt(2.0) as u32)
            .x_label_area_size(pt(24.0) as u32)
            .y_label_area_size(self.label_width() as u32)
            .build_cartesian_2d(lo..hi, -0.6..(n as f64 - 0.4))
            .map_err(drawn::<(), _>(&name))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(pal::LIGHT)
            .y_labels(0)
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_desc(x_label)
            .x_labels(6)
            .x_label_formatter(&|v| tidy(*v))
            .draw()
            .map_err(drawn::<(), _>(&name))?;
        if zero_line {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
                    pt(3.0) as u32,
                    pt(2.0) as u32,
                    stroke(pal::GREY, 0.7),
                ))
                .map_err(drawn::<(), _>(&name))?;
        }
        let base = area.get_base_pixel();
        for (i, r) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(r.low, y), (r.high, y)], stroke(color, 1.0))))
                .map_err(drawn::<(), _>(&name))?;
            let size = pt(2.4) as u32;
            if triangles {
                chart
                    .draw_series(std::iter::once(TriangleMarker::new((r.estimate, y), size, color.filled())))
                    .map_err(drawn::<(), _>(&name))?;
            } else {
                chart
                    .draw_series(std::iter::once(Circle::new((r.estimate, y), size, color.filled())))
                    .map_err(drawn::<(), _>(&name))?;
            }
            let (px, py) = chart.backend_coord(&(lo, y));
            area.draw(&Text::new(
                r.label.clone(),
                (px - base.0 - pt(5.0) as i32, py - base.1),
                font(TEXT).pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(drawn::<(), _>(&name))?;
        }
        Ok(())
    }
}

/// Axis range of rows' intervals, padded; with zero when asked.
fn range(rows: &[ScenarioRow], with_zero: bool) -> (f64, f64) {
    let mut lo = rows.iter().map(|r| r.low.min(r.estimate)).fold(f64::INFINITY, f64::min);
    let mut hi = rows.iter().map(|r| r.high.max(r.estimate)).fold(f64::NEG_INFINITY, f64::max);
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    padded(lo, hi, 0.08)
}

impl Figure for ScenarioPlot {
    fn name(&self) -> String {
        format!("scenario plot `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        let diffs = if self.differences.is_empty() { 0.0 } else { panel_height(self.differences.len()) };
        (self.width, TITLE_H + panel_height(self.scenarios.len()) + diffs + NOTE_H)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let finite = |r: &ScenarioRow| [r.estimate, r.low, r.high].iter().all(|v| v.is_finite());
        if self.scenarios.is_empty() {
            return Err(PlotError::Data { figure: name, message: "no scenarios".into() });
        }
        if let Some(r) = self.scenarios.iter().chain(&self.differences).find(|r| !finite(r)) {
            return Err(PlotError::Data {
                figure: name,
                message: format!("`{}` has a value that is not finite", r.label),
            });
        }
        let px = |inches: f64| (inches * DPI).round() as u32;
        let (title, rest) = root.split_vertically(px(TITLE_H));
        title
            .draw(&Text::new(
                self.title.clone(),
                (pt(6.0) as i32, pt(4.0) as i32),
                title_font(&self.title, root.dim_in_pixel().0),
            ))
            .map_err(drawn::<(), _>(&name))?;
        let (top, rest) = rest.split_vertically(px(panel_height(self.scenarios.len())));
        let (mut lo, mut hi) = range(&self.scenarios, self.probability);
        if self.probability {
            (lo, hi) = (lo.max(0.0), hi.min(1.0));
        }
        self.rows_panel(&top, &self.scenarios, &self.x_label, (lo, hi), pal::BLUE, false, false)?;
        let note_area = if self.differences.is_empty() {
            rest
        } else {
            let (bottom, note) = rest.split_vertically(px(panel_height(self.differences.len())));
            let r = range(&self.differences, true);
            self.rows_panel(&bottom, &self.differences, &self.diff_label, r, pal::VERMILLION, true, true)?;
            note
        };
        note_area
            .draw(&Text::new(
                self.note.clone(),
                (pt(6.0) as i32, pt(2.0) as i32),
                font(TEXT).color(&pal::GREY).pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(drawn::<(), _>(&name))?;
        Ok(())
    }
}

impl ScenarioPlot {
    /// The figure of a simulation: `outcome` names the predicted quantity,
    /// a probability when `probability`.
    pub fn from_simulation(sim: &ScenarioSimulation, outcome: &str, probability: bool) -> ScenarioPlot {
        let row = |r: &Simulated| ScenarioRow {
            label: r.label.clone(),
            estimate: r.mean,
            low: r.conf_low,
            high: r.conf_high,
        };
        let quantity = if probability { format!("Pr({outcome} = 1)") } else { format!("Mean of {outcome}") };
        let first = sim.scenarios.first().map(|r| r.label.as_str()).unwrap_or_default();
        ScenarioPlot {
            title: format!("Predicted {} by scenario", if probability { "probability" } else { "mean" }),
            x_label: format!("Average {quantity}"),
            diff_label: format!("Difference from {first}"),
            probability,
            scenarios: sim.scenarios.iter().map(row).collect(),
            differences: sim.differences.iter().map(row).collect(),
            note: format!("Means of {} simulations; {}% percentile intervals", sim.draws, tidy(sim.level * 100.0)),
            width: super::ONE_COLUMN,
        }
    }
}

/// The figure of a conditional marginal effect (Brambor, Clark and Golder
/// 2006): over a continuous moderator a curve with its band above the
/// moderator's histogram, for a 0/1 moderator the effects at 0 and 1 and
/// their difference as points with 90% (thick) and 95% (thin) intervals.
pub enum CmeFigure {
    Curve(BandPlot),
    Points(CoefPlot),
}

impl CmeFigure {
    /// Build it for a model of `family` with outcome `outcome`: the effect's
    /// axis reads "Effect of X on the log-odds of Y", or "Effect on the
    /// log-odds of Y" when that would not fit (the title names X).
    pub fn new(ce: &ConditionalEffect, family: Family, outcome: &str) -> Result<CmeFigure, PlotError> {
        let title = format!("Effect of {} by {}", ce.x, ce.z);
        // Characters of an 8 pt axis title that fit along a one-column
        // band plot's y axis, and under a one-column point plot's x axis.
        let room = if ce.binary { 36 } else { 44 };
        let full = effect_label(family, &ce.x, outcome);
        let y_label =
            if full.chars().count() <= room { full } else { format!("Effect on {}", effect_scale(family, outcome)) };
        let y_label = y_label.as_str();
        let bad =
            |e: crate::inference::InferenceError| PlotError::Data { figure: title.clone(), message: e.to_string() };
        if let (true, Some(d)) = (ce.binary, &ce.difference) {
            let mut rows = Vec::new();
            let labelled = ce
                .effects
                .iter()
                .map(|(z, c)| (format!("At {} = {}", ce.z, tidy(*z)), c))
                .chain(std::iter::once(("Difference (1 minus 0)".to_string(), d)));
            for (label, c) in labelled {
                let (lo90, hi90) = ce.interval(c, 0.90).map_err(bad)?;
                let (lo95, hi95) = ce.interval(c, 0.95).map_err(bad)?;
                rows.push(CoefRow {
                    highlight: rows.len() == 2,
                    label,
                    estimate: c.estimate,
                    lo90,
                    hi90,
                    lo95,
                    hi95,
                    estimand: String::new(),
                    n: None,
                });
            }
            return Ok(CmeFigure::Points(CoefPlot {
                title,
                x_label: y_label.to_string(),
                rows,
                width: super::ONE_COLUMN,
                label_estimands: false,
                note: None,
            }));
        }
        let points = ce.effects.iter().map(|(z, c)| (*z, c.estimate, c.conf_low, c.conf_high)).collect();
        Ok(CmeFigure::Curve(BandPlot {
            title,
            x_label: ce.z.clone(),
            y_label: y_label.to_string(),
            points,
            observed: ce.observed.clone(),
            zero_line: true,
            width: super::ONE_COLUMN,
        }))
    }

    /// Save as `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &std::path::Path) -> Result<[std::path::PathBuf; 2], PlotError> {
        match self {
            CmeFigure::Curve(f) => super::save(f, stem),
            CmeFigure::Points(f) => super::save(f, stem),
        }
    }
}
