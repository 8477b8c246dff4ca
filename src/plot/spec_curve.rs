//! The specification curve (Simonsohn, Simmons & Nelson 2020): every
//! specification's estimate, sorted by size, with its interval (top panel),
//! above a grid that marks the analytic choices each specification makes
//! (bottom panel), one column per specification in both panels. It shows the
//! whole distribution of estimates instead of a count of verdicts.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::figures::{stroke, tidy};
use super::palette as pal;
use super::type_size::{AXIS, TEXT, TITLE};
use super::{drawn, font, padded, pt, Figure, PlotError};

/// Whether a specification's test is significant, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Significance {
    /// Significant in the hypothesised direction (filled marker).
    InDirection,
    /// Not significant in either direction (open marker).
    NotSignificant,
    /// Significant against the hypothesised direction (a cross).
    Opposite,
}

/// One analytic choice: a row of the grid ("Fixed effects" / "Dyad + year").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub group: String,
    pub option: String,
}

impl Choice {
    /// The row label of the grid: "Fixed effects: dyad + year".
    pub fn label(&self) -> String {
        format!("{}: {}", self.group, self.option)
    }
}

/// One specification of a [`SpecCurve`].
#[derive(Debug, Clone)]
pub struct SpecPoint {
    pub label: String,
    pub estimate: f64,
    pub conf_low: f64,
    pub conf_high: f64,
    /// The main specification (black; the others blue).
    pub main: bool,
    pub significance: Significance,
    /// What the estimate is ("UNGA vote affinity (t-1), log-odds"): the
    /// specifications of one curve estimate one quantity unless the curve
    /// labels estimands.
    pub estimand: String,
    /// Indices into [`SpecCurve::choices`] of the choices this specification makes.
    pub choices: Vec<usize>,
}

/// A specification curve with its choice grid.
///
/// ```
/// use concord::plot::{svg, Choice, Significance, SpecCurve, SpecPoint, TWO_COLUMN};
/// let point = |e: f64, main: bool, choice: usize| SpecPoint {
///     label: format!("spec {e}"),
///     estimate: e,
///     conf_low: e - 0.5,
///     conf_high: e + 0.5,
///     main,
///     significance: if e > 0.5 { Significance::InDirection } else { Significance::NotSignificant },
///     estimand: "x, log-odds".into(),
///     choices: vec![choice],
/// };
/// let curve = SpecCurve {
///     title: "H1: x".into(),
///     y_label: "Coefficient: log-odds".into(),
///     interval: "95% intervals".into(),
///     specs: vec![point(1.0, true, 0), point(0.2, false, 1), point(0.6, false, 1)],
///     choices: vec![
///         Choice { group: "Fixed effects".into(), option: "year".into() },
///         Choice { group: "Fixed effects".into(), option: "none".into() },
///     ],
///     label_estimands: false,
///     width: TWO_COLUMN,
/// };
/// assert_eq!(curve.columns().iter().map(|p| p.estimate).collect::<Vec<_>>(), [0.2, 0.6, 1.0]);
/// assert!(svg(&curve).unwrap().contains("Fixed effects: none"));
/// ```
#[derive(Debug, Clone)]
pub struct SpecCurve {
    pub title: String,
    /// Axis title of the estimates, with their scale.
    pub y_label: String,
    /// What the bars are ("95% intervals").
    pub interval: String,
    pub specs: Vec<SpecPoint>,
    /// The grid's rows, in order.
    pub choices: Vec<Choice>,
    /// Allow specifications of different estimands on one curve, with a grid
    /// row per estimand saying which column estimates what.
    pub label_estimands: bool,
    pub width: f64,
}

/// Approximate width (pixels) of `s` at `size` points.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * pt(size) * 0.56
}

/// Words of `s` in lines of at most about `width` characters.
fn wrap(s: &str, width: usize) -> Vec<String> {
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

/// Radius (pixels) of the estimate markers.
pub const MARKER_RADIUS: u32 = 9;
/// Radius (pixels) of the grid's dots.
pub const DOT_RADIUS: u32 = 7;

/// Height (inches) of the top panel.
const TOP_IN: f64 = 2.1;
/// Height (inches) of one grid row.
const ROW_IN: f64 = 0.14;

impl SpecCurve {
    /// The distinct estimands of the specifications, in order.
    pub fn estimands(&self) -> Vec<&str> {
        super::figures::distinct(self.specs.iter().map(|s| s.estimand.as_str()))
    }

    /// Refuse what the figure cannot show honestly: no specifications,
    /// non-finite numbers, choices that are not rows, and specifications of
    /// different estimands on one axis unless every column is labelled.
    pub fn check(&self) -> Result<(), PlotError> {
        let err = |message: String| Err(PlotError::Data { figure: self.name(), message });
        if self.specs.is_empty() {
            return err("no specifications".into());
        }
        for s in &self.specs {
            if ![s.estimate, s.conf_low, s.conf_high].iter().all(|v| v.is_finite()) {
                return err(format!("specification `{}` has a non-finite estimate or interval", s.label));
            }
            if let Some(c) = s.choices.iter().find(|c| **c >= self.choices.len()) {
                return err(format!(
                    "specification `{}` makes choice {c}, but the grid has {} rows",
                    s.label,
                    self.choices.len()
                ));
            }
        }
        if self.specs.iter().filter(|s| s.main).count() > 1 {
            return err("more than one main specification".into());
        }
        let e = self.estimands();
        if e.len() > 1 && !self.label_estimands {
            return err(format!(
                "the specifications estimate different quantities ({}): keep those of the main specification's scale and regressor, or label every column with its estimand",
                e.join("; ")
            ));
        }
        Ok(())
    }

    /// The specifications in the order drawn: by estimate, ties by label.
    pub fn columns(&self) -> Vec<&SpecPoint> {
        let mut cols: Vec<&SpecPoint> = self.specs.iter().collect();
        cols.sort_by(|a, b| a.estimate.total_cmp(&b.estimate).then_with(|| a.label.cmp(&b.label)));
        cols
    }

    /// The grid: its row labels (the choices, then one row per estimand
    /// when estimands are labelled) and, for each column in the order of
    /// [`SpecCurve::columns`], the rows it marks.
    pub fn grid(&self) -> (Vec<String>, Vec<Vec<usize>>) {
        let mut rows: Vec<String> = self.choices.iter().map(Choice::label).collect();
        let estimands = self.estimands();
        let labelled = self.label_estimands && estimands.len() > 1;
        if labelled {
            rows.extend(estimands.iter().map(|e| format!("Estimates: {e}")));
        }
        let marks = self
            .columns()
            .iter()
            .map(|s| {
                let mut m = s.choices.clone();
                if labelled {
                    if let Some(k) = estimands.iter().position(|e| *e == s.estimand) {
                        m.push(self.choices.len() + k);
                    }
                }
                m.sort_unstable();
                m.dedup();
                m
            })
            .collect();
        (rows, marks)
    }

    fn grid_rows(&self) -> usize {
        let e = self.estimands().len();
        self.choices.len() + if self.label_estimands && e > 1 { e } else { 0 }
    }
}

/// Draw a marker of `sig` in `c` at `at` on `chart`.
fn marker<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    at: (f64, f64),
    sig: Significance,
    c: RGBColor,
    name: &str,
) -> Result<(), PlotError> {
    let r = MARKER_RADIUS;
    match sig {
        Significance::InDirection => {
            chart.draw_series(std::iter::once(Circle::new(at, r, c.filled()))).map_err(drawn::<(), _>(name))?;
        }
        Significance::NotSignificant => {
            chart
                .draw_series([Circle::new(at, r, WHITE.filled()), Circle::new(at, r, stroke(c, 0.8))])
                .map_err(drawn::<(), _>(name))?;
        }
        Significance::Opposite => {
            chart.draw_series([Circle::new(at, r, WHITE.filled())]).map_err(drawn::<(), _>(name))?;
            chart
                .draw_series(std::iter::once(Cross::new(at, r as i32 - 2, stroke(c, 0.9))))
                .map_err(drawn::<(), _>(name))?;
        }
    }
    Ok(())
}

/// One legend entry drawn in pixels: a marker and its text; returns the x
/// where the next entry starts.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: i32,
    y: i32,
    sig: Option<Significance>,
    c: RGBColor,
    text: &str,
    name: &str,
) -> Result<i32, PlotError> {
    let ok = drawn::<(), _>(name);
    let r = MARKER_RADIUS as i32;
    match sig {
        Some(Significance::InDirection) => area.draw(&Circle::new((x + r, y), r as u32, c.filled())).map_err(&ok)?,
        Some(Significance::NotSignificant) => {
            area.draw(&Circle::new((x + r, y), r as u32, stroke(c, 0.8))).map_err(&ok)?
        }
        Some(Significance::Opposite) => area.draw(&Cross::new((x + r, y), r - 2, stroke(c, 0.9))).map_err(&ok)?,
        None => {
            area.draw(&PathElement::new(vec![(x + r, y - r - 3), (x + r, y + r + 3)], stroke(c, 0.8))).map_err(&ok)?
        }
    }
    let tx = x + 2 * r + pt(3.0) as i32;
    area.draw(&Text::new(text.to_string(), (tx, y), font(TEXT).pos(Pos::new(HPos::Left, VPos::Center))))
        .map_err(&ok)?;
    Ok(tx + text_width(text, TEXT) as i32 + pt(10.0) as i32)
}

impl Figure for SpecCurve {
    fn name(&self) -> String {
        format!("specification curve `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        (self.width, 0.62 + TOP_IN + ROW_IN * self.grid_rows().max(1) as f64 + 0.42)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        self.check()?;
        let ok = drawn::<(), _>(&name);
        let cols = self.columns();
        let n = cols.len();
        let (row_labels, marks) = self.grid();
        let nrows = row_labels.len();
        let px = |inches: f64| (inches * super::DPI).round() as u32;

        let (title_area, rest) = root.split_vertically(pt(16.0) as u32);
        let (legend_area, rest) = rest.split_vertically(pt(14.0) as u32);
        let (top_area, grid_area) = rest.split_vertically(px(TOP_IN));
        title_area.draw(&Text::new(self.title.clone(), (pt(6.0) as i32, pt(4.0) as i32), font(TITLE))).map_err(&ok)?;

        // The axis title, in as many lines as the panel's height needs.
        let title_room = px(TOP_IN) as f64 - pt(12.0);
        let per_line = (title_room / (pt(AXIS) * 0.56)).floor().max(10.0) as usize;
        let y_lines = wrap(&self.y_label, per_line);
        // Both panels start their plotting area at the same x: the grid's
        // row labels set the width of the left area.
        let y_area = pt(36.0) + pt(10.0) * y_lines.len() as f64;
        let left = row_labels.iter().map(|l| text_width(l, TEXT)).fold(0.0, f64::max).max(y_area) + pt(8.0);
        let (x0, x1) = (-0.5, n as f64 - 0.5);

        // Top panel: estimates and intervals.
        let lo = cols.iter().map(|s| s.conf_low).fold(0.0, f64::min);
        let hi = cols.iter().map(|s| s.conf_high).fold(0.0, f64::max);
        let (lo, hi) = padded(lo, hi, 0.06);
        let mut top = ChartBuilder::on(&top_area)
            .margin_left((pt(6.0) + left - y_area) as u32)
            .margin_right(pt(8.0) as u32)
            .margin_top(pt(2.0) as u32)
            .x_label_area_size(pt(4.0) as u32)
            .y_label_area_size(y_area as u32)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(&ok)?;
        top.configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(pal::LIGHT)
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| tidy(*v))
            .draw()
            .map_err(&ok)?;
        let (axis_x, _) = top.backend_coord(&(x0, lo));
        let (_, mid_y) = top.backend_coord(&(x0, (lo + hi) / 2.0));
        let n_lines = y_lines.len();
        for (i, line) in y_lines.iter().enumerate() {
            let x = axis_x as f64 - pt(34.0) - pt(10.0) * (n_lines - 1 - i) as f64;
            root.draw(&Text::new(
                line.clone(),
                (x as i32, mid_y),
                font(AXIS).transform(FontTransform::Rotate270).pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(&ok)?;
        }
        // The main specification's column is shaded in both panels.
        let main_col = cols.iter().position(|s| s.main);
        if let Some(k) = main_col {
            let k = k as f64;
            top.draw_series(std::iter::once(Rectangle::new(
                [(k - 0.45, lo), (k + 0.45, hi)],
                pal::LIGHT.mix(0.6).filled(),
            )))
            .map_err(&ok)?;
        }
        top.draw_series(DashedLineSeries::new(
            vec![(x0, 0.0), (x1, 0.0)],
            pt(3.0) as u32,
            pt(2.0) as u32,
            stroke(pal::GREY, 0.7),
        ))
        .map_err(&ok)?;
        for (k, s) in cols.iter().enumerate() {
            let x = k as f64;
            let c = if s.main { pal::BLACK } else { pal::BLUE };
            top.draw_series(std::iter::once(PathElement::new(vec![(x, s.conf_low), (x, s.conf_high)], stroke(c, 0.8))))
                .map_err(&ok)?;
            marker(&mut top, (x, s.estimate), s.significance, c, &name)?;
        }

        // Bottom panel: the grid of choices, row 0 at the top.
        let mut grid = ChartBuilder::on(&grid_area)
            .margin_left(pt(6.0) as u32)
            .margin_right(pt(8.0) as u32)
            .margin_top(pt(3.0) as u32)
            .margin_bottom(pt(2.0) as u32)
            .x_label_area_size(pt(24.0) as u32)
            .y_label_area_size(left as u32)
            .build_cartesian_2d(x0..x1, -0.5..(nrows.max(1) as f64 - 0.5))
            .map_err(&ok)?;
        grid.configure_mesh()
            .disable_mesh()
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_labels(0)
            .y_labels(0)
            .x_desc("Specifications, ordered by estimate")
            .draw()
            .map_err(&ok)?;
        let y_of = |r: usize| (nrows - 1 - r) as f64;
        if let Some(k) = main_col {
            let k = k as f64;
            grid.draw_series(std::iter::once(Rectangle::new(
                [(k - 0.45, -0.5), (k + 0.45, nrows as f64 - 0.5)],
                pal::LIGHT.mix(0.6).filled(),
            )))
            .map_err(&ok)?;
        }
        let group_of = |r: usize| self.choices.get(r).map_or("Estimates", |c| c.group.as_str());
        for (r, label) in row_labels.iter().enumerate() {
            let y = y_of(r);
            grid.draw_series(std::iter::once(PathElement::new(vec![(x0, y), (x1, y)], stroke(pal::LIGHT, 0.5))))
                .map_err(&ok)?;
            if r > 0 && group_of(r) != group_of(r - 1) {
                let yb = y + 0.5;
                grid.draw_series(std::iter::once(PathElement::new(vec![(x0, yb), (x1, yb)], stroke(pal::GREY, 0.4))))
                    .map_err(&ok)?;
            }
            let (ax, ay) = grid.backend_coord(&(x0, y));
            root.draw(&Text::new(
                label.clone(),
                (ax - pt(4.0) as i32, ay),
                font(TEXT).pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(&ok)?;
        }
        for (k, (s, rows)) in cols.iter().zip(&marks).enumerate() {
            let c = if s.main { pal::BLACK } else { pal::BLUE };
            grid.draw_series(rows.iter().map(|r| Circle::new((k as f64, y_of(*r)), DOT_RADIUS, c.filled())))
                .map_err(&ok)?;
        }
        // Ranks under the columns (every column up to 30, else every fifth).
        let every = if n <= 30 { 1 } else { 5 };
        for k in (0..n).filter(|k| (k + 1) % every == 0 || *k == 0) {
            let (cx, cy) = grid.backend_coord(&(k as f64, -0.5));
            root.draw(&Text::new(
                (k + 1).to_string(),
                (cx, cy + pt(3.0) as i32),
                font(TEXT).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(&ok)?;
        }

        // Legend: colour and marker fill.
        let y = (pt(14.0) / 2.0) as i32;
        let mut x = pt(6.0) as i32;
        x = legend_entry(&legend_area, x, y, Some(Significance::InDirection), pal::BLACK, "main specification", &name)?;
        x = legend_entry(
            &legend_area,
            x,
            y,
            Some(Significance::InDirection),
            pal::BLUE,
            "significant (stated direction)",
            &name,
        )?;
        x = legend_entry(&legend_area, x, y, Some(Significance::NotSignificant), pal::BLUE, "not significant", &name)?;
        if cols.iter().any(|s| s.significance == Significance::Opposite) {
            x = legend_entry(
                &legend_area,
                x,
                y,
                Some(Significance::Opposite),
                pal::BLUE,
                "significant (opposite)",
                &name,
            )?;
        }
        legend_entry(&legend_area, x, y, None, pal::BLUE, &format!("bars: {}", self.interval), &name)?;
        Ok(())
    }
}
