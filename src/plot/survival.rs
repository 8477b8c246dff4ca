//! Kaplan-Meier survival curves by group (peace spells, say): step functions
//! with shaded pointwise confidence bands, optional censoring ticks, and a
//! legend naming each group with its number at risk at the start. The
//! numbers are those of [`crate::estimate::km`]; this file only draws them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::tidy;
use super::palette as pal;
use super::type_size::{AXIS, TEXT};
use super::{drawn, font, pt, Figure, PlotError};
use crate::estimate::km::KmCurve;

/// One horizontal piece of a Kaplan-Meier step function: the estimate is
/// `surv` (band `lower`..`upper`, NaN where undefined) from `from` up to,
/// not including, `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub from: f64,
    pub to: f64,
    pub surv: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The steps of a curve from `origin` (where `S = 1`) to its last time: one
/// piece before the first time at 1 (band 1..1), then one from each time to
/// the next at that time's estimate; the last time's estimate is a piece of
/// zero length. Times where only censoring happens start a piece at the same
/// height (they are where censoring ticks go).
///
/// ```
/// use concord::estimate::km::{kaplan_meier, ConfType};
/// use concord::plot::survival::steps;
/// let c = kaplan_meier(None, &[1.0, 2.0, 2.0, 3.0], &[true, false, false, true], 0.95, ConfType::Log);
/// let s = steps(&c, 0.0);
/// assert_eq!((s[0].from, s[0].to, s[0].surv), (0.0, 1.0, 1.0));
/// assert_eq!((s[1].from, s[1].to, s[1].surv), (1.0, 2.0, 0.75));
/// assert_eq!((s[3].from, s[3].to, s[3].surv), (3.0, 3.0, 0.0));
/// ```
pub fn steps(curve: &KmCurve, origin: f64) -> Vec<Step> {
    let mut out = Vec::with_capacity(curve.rows.len() + 1);
    let first = curve.rows.first().map_or(origin, |r| r.time);
    out.push(Step { from: origin.min(first), to: first, surv: 1.0, lower: 1.0, upper: 1.0 });
    for (k, r) in curve.rows.iter().enumerate() {
        let to = curve.rows.get(k + 1).map_or(r.time, |n| n.time);
        out.push(Step { from: r.time, to, surv: r.surv, lower: r.lower, upper: r.upper });
    }
    out
}

/// The vertices of the step line through `steps` (vertical drops included).
fn step_line(steps: &[Step]) -> Vec<(f64, f64)> {
    let mut v = Vec::with_capacity(2 * steps.len());
    for s in steps {
        v.push((s.from, s.surv));
        v.push((s.to, s.surv));
    }
    v
}

/// Closed step polygons of the band over runs of pieces with a finite band.
fn band_polygons(steps: &[Step]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run: Vec<&Step> = Vec::new();
    let close = |run: &mut Vec<&Step>, out: &mut Vec<Vec<(f64, f64)>>| {
        if run.iter().any(|s| s.to > s.from) {
            let mut poly: Vec<(f64, f64)> = run.iter().flat_map(|s| [(s.from, s.upper), (s.to, s.upper)]).collect();
            poly.extend(run.iter().rev().flat_map(|s| [(s.to, s.lower), (s.from, s.lower)]));
            out.push(poly);
        }
        run.clear();
    };
    for s in steps {
        if s.lower.is_finite() && s.upper.is_finite() {
            run.push(s);
        } else {
            close(&mut run, &mut out);
        }
    }
    close(&mut run, &mut out);
    out
}

/// Legend geometry (pixels): line spacing, line sample, padding.
const LEGEND_STEP: f64 = TEXT * 1.35 * super::DPI / 72.0;
const LEGEND_SAMPLE: f64 = 16.0 * super::DPI / 72.0;
const LEGEND_PAD: f64 = 3.0 * super::DPI / 72.0;

/// Approximate width (pixels) of `s` at the legend's 7 pt (DejaVu Sans
/// averages about 0.56 em a character).
fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * pt(TEXT) * 0.56
}

/// Colours and dash patterns (dash, gap in points; solid when the gap is 0)
/// of the groups in turn: every group differs in both.
const STYLES: [(RGBColor, f64, f64); 6] = [
    (pal::BLUE, 0.0, 0.0),
    (pal::VERMILLION, 4.0, 2.0),
    (pal::GREEN, 1.2, 1.6),
    (pal::PURPLE, 7.0, 2.5),
    (pal::ORANGE, 2.5, 1.2),
    (pal::BLACK, 5.0, 1.2),
];

/// Kaplan-Meier curves of one or more groups on one panel: step functions
/// with shaded pointwise bands (`level`, as the curves were computed), `+`
/// ticks at censoring times when `censor_ticks`, a legend naming each group
/// (`by = value`) with its number at risk at the first time.
///
/// ```
/// use concord::estimate::km::{kaplan_meier, ConfType};
/// use concord::plot::{svg, SurvivalPlot};
/// let mut c = kaplan_meier(None, &[1.0, 2.0, 2.0, 3.0, 5.0], &[true, false, true, true, false], 0.95, ConfType::Log);
/// c.group = "contig=1".into();
/// let fig = SurvivalPlot::new(vec![c], "Years at peace", 0.95);
/// let s = svg(&fig).unwrap();
/// assert!(s.contains("contig = 1 (at risk: 5)") && s.contains("Survival probability"));
/// ```
#[derive(Debug, Clone)]
pub struct SurvivalPlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub curves: Vec<KmCurve>,
    /// Level of the bands, for the note under the legend.
    pub level: f64,
    /// `+` at times where rows leave without an event: censored spells when
    /// the curves are of one row per spell (with counting-process rows every
    /// row's end counts, so callers should not ask for ticks there).
    pub censor_ticks: bool,
    /// Where the curves start at 1 (0 for durations).
    pub origin: f64,
    pub width: f64,
}

impl SurvivalPlot {
    /// A one-column plot of `curves` with the house defaults: y axis
    /// "Survival probability", no title, no censoring ticks, origin 0.
    pub fn new(curves: Vec<KmCurve>, x_label: &str, level: f64) -> SurvivalPlot {
        SurvivalPlot {
            title: String::new(),
            x_label: x_label.to_string(),
            y_label: "Survival probability".into(),
            curves,
            level,
            censor_ticks: false,
            origin: 0.0,
            width: super::ONE_COLUMN,
        }
    }

    /// The legend's lines: one per curve (its index), then the bands' note.
    fn legend_lines(&self) -> Vec<(Option<usize>, String)> {
        let mut lines: Vec<(Option<usize>, String)> =
            self.curves.iter().enumerate().map(|(k, c)| (Some(k), SurvivalPlot::legend(c))).collect();
        lines.push((None, format!("shaded: {}% pointwise bands", tidy(self.level * 100.0))));
        lines
    }

    /// Width and height (pixels) of the legend box.
    fn legend_box(&self) -> (f64, f64) {
        let lines = self.legend_lines();
        let w = lines
            .iter()
            .map(|(k, t)| text_width(t) + if k.is_some() { LEGEND_SAMPLE + pt(3.0) } else { 0.0 })
            .fold(0.0, f64::max);
        (w + 2.0 * LEGEND_PAD, LEGEND_STEP * lines.len() as f64 + LEGEND_PAD)
    }

    /// The legend goes beneath the panel (the figure grows) when it would
    /// take more than 70% of the figure's width or there are over two groups;
    /// else inside the panel.
    fn legend_below(&self) -> bool {
        self.curves.len() > 2 || self.legend_box().0 > 0.7 * self.width * super::DPI
    }

    /// The legend entry of a curve: `by = value` per group column, and the
    /// number at risk at its first time.
    pub fn legend(curve: &KmCurve) -> String {
        let name = if curve.group.is_empty() {
            "all".to_string()
        } else {
            curve.group.split(", ").map(|p| p.replacen('=', " = ", 1)).collect::<Vec<_>>().join(", ")
        };
        let at_risk = curve.rows.first().map_or(0, |r| r.n_risk);
        format!("{name} (at risk: {at_risk})")
    }
}

impl Figure for SurvivalPlot {
    fn name(&self) -> String {
        if self.title.is_empty() {
            "survival plot".into()
        } else {
            format!("survival plot `{}`", self.title)
        }
    }
    fn size(&self) -> (f64, f64) {
        let below = if self.legend_below() { (self.legend_box().1 + pt(4.0)) / super::DPI } else { 0.0 };
        (self.width, ((self.width * 0.8 + below) * 100.0).round() / 100.0)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let err = drawn::<(), _>(&name);
        if self.curves.is_empty() || self.curves.iter().all(|c| c.rows.is_empty()) {
            return Err(PlotError::Data { figure: name.clone(), message: "no curves to draw".into() });
        }
        if self.curves.len() > STYLES.len() {
            return Err(PlotError::Data {
                figure: name.clone(),
                message: format!(
                    "{} groups: at most {} curves are told apart (colour and dash); group more coarsely",
                    self.curves.len(),
                    STYLES.len()
                ),
            });
        }
        let all: Vec<Vec<Step>> = self.curves.iter().map(|c| steps(c, self.origin)).collect();
        let x0 = all.iter().flatten().map(|s| s.from).fold(f64::INFINITY, f64::min);
        let x1 = all.iter().flatten().map(|s| s.to).fold(f64::NEG_INFINITY, f64::max);
        let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
        // The y axis runs from a round number below the lowest band (or
        // estimate) to 1: curves of rare events (peace spells) stay high.
        let low = all.iter().flatten().flat_map(|s| [s.surv, s.lower]).filter(|v| v.is_finite()).fold(1.0f64, f64::min);
        let y0 = if low <= 0.2 { 0.0 } else { ((low - 0.05 * (1.0 - low)) * 20.0).floor() / 20.0 };
        let y1 = 1.0 + (1.0 - y0) * 0.02;
        let (box_w, box_h) = self.legend_box();
        let below = self.legend_below();
        let (_, h) = root.dim_in_pixel();
        let (panel, under) = root.split_vertically(if below { h - (box_h + pt(4.0)) as u32 } else { h });
        let mut builder = ChartBuilder::on(&panel);
        builder.margin(pt(6.0) as u32).x_label_area_size(pt(24.0) as u32).y_label_area_size(pt(36.0) as u32);
        if !self.title.is_empty() {
            // A long title is set smaller (not below 6 pt) rather than clipped.
            builder.caption(&self.title, super::figures::title_font(&self.title, root.dim_in_pixel().0));
        }
        let mut chart = builder.build_cartesian_2d(x0..x1 + (x1 - x0) * 0.02, y0..y1).map_err(&err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(pal::LIGHT)
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|v| tidy(*v))
            .y_label_formatter(&|v| if *v > 1.0 + 1e-9 { String::new() } else { tidy(*v) })
            .draw()
            .map_err(&err)?;
        for (k, st) in all.iter().enumerate() {
            let (c, _, _) = STYLES[k % STYLES.len()];
            chart
                .draw_series(band_polygons(st).into_iter().map(|p| Polygon::new(p, c.mix(0.18).filled())))
                .map_err(&err)?;
        }
        for (k, st) in all.iter().enumerate() {
            let (c, dash, gap) = STYLES[k % STYLES.len()];
            let style = c.stroke_width(pt(1.0).round() as u32);
            let line = step_line(st);
            if gap == 0.0 {
                chart.draw_series(LineSeries::new(line, style)).map_err(&err)?;
            } else {
                chart.draw_series(DashedLineSeries::new(line, pt(dash) as u32, pt(gap) as u32, style)).map_err(&err)?;
            }
            if self.censor_ticks {
                let arm = pt(1.8) as i32;
                let thin = c.stroke_width(pt(0.6).round().max(1.0) as u32);
                for r in self.curves[k].rows.iter().filter(|r| r.n_censor > 0) {
                    let (px, py) = chart.backend_coord(&(r.time, r.surv));
                    for (a, b) in [((px - arm, py), (px + arm, py)), ((px, py - arm), (px, py + arm))] {
                        root.draw(&PathElement::new(vec![a, b], thin)).map_err(&err)?;
                    }
                }
            }
        }
        // The legend: beneath the panel, or inside it where it covers
        // fewest points of the curves and bands (tried in turn: lower left,
        // lower right, upper right, middle right, middle left, upper left),
        // on a white box.
        let (step, sample, pad) = (LEGEND_STEP, LEGEND_SAMPLE, LEGEND_PAD);
        let lines = self.legend_lines();
        let (left, bottom) = chart.backend_coord(&(x0, y0));
        let (right, top) = chart.backend_coord(&(x1, y1));
        let (left, right, top, bottom) =
            (left as f64 + pt(4.0), right as f64 - pt(4.0), top as f64 + pt(4.0), bottom as f64 - pt(4.0));
        let mid = (top + bottom - box_h) / 2.0;
        let corners = [
            (left, bottom - box_h),
            (right - box_w, bottom - box_h),
            (right - box_w, top),
            (right - box_w, mid),
            (left, mid),
            (left, top),
        ];
        let mut drawn_points: Vec<(i32, i32)> = Vec::new();
        for st in &all {
            for k in 0..=200 {
                let x = x0 + (x1 - x0) * f64::from(k) / 200.0;
                if let Some(s) = st.iter().rev().find(|s| s.from <= x) {
                    for y in [s.surv, s.lower, s.upper].into_iter().filter(|v| v.is_finite()) {
                        drawn_points.push(chart.backend_coord(&(x, y)));
                    }
                }
            }
        }
        let covered = |(bx, by): (f64, f64)| {
            drawn_points
                .iter()
                .filter(|(px, py)| {
                    let (px, py) = (f64::from(*px), f64::from(*py));
                    px >= bx && px <= bx + box_w && py >= by && py <= by + box_h
                })
                .count()
        };
        let (bx, by) = if below {
            (pt(6.0), f64::from(under.get_base_pixel().1) + pt(2.0))
        } else {
            corners.iter().copied().min_by_key(|c| covered(*c)).unwrap_or(corners[0])
        };
        root.draw(&Rectangle::new(
            [(bx as i32, by as i32), ((bx + box_w) as i32, (by + box_h) as i32)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(&err)?;
        let mut y = by + pad / 2.0 + step / 2.0;
        for (k, text) in &lines {
            let x = (bx + pad) as i32;
            let tx = match k {
                Some(k) => {
                    let (c, dash, gap) = STYLES[k % STYLES.len()];
                    let style = c.stroke_width(pt(1.0).round() as u32);
                    let pts = vec![(x, y as i32), (x + sample as i32, y as i32)];
                    if gap == 0.0 {
                        root.draw(&PathElement::new(pts, style)).map_err(&err)?;
                    } else {
                        root.draw(&plotters::element::DashedPathElement::new(
                            pts,
                            pt(dash) as u32,
                            pt(gap) as u32,
                            style,
                        ))
                        .map_err(&err)?;
                    }
                    x + (sample + pt(3.0)) as i32
                }
                None => x,
            };
            let style = if k.is_some() { font(TEXT) } else { font(TEXT).color(&pal::GREY) };
            root.draw(&Text::new(text.clone(), (tx, y as i32), style.pos(Pos::new(HPos::Left, VPos::Center))))
                .map_err(&err)?;
            y += step;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::km::{kaplan_meier, ConfType};

    #[test]
    fn steps_are_the_kaplan_meier_estimates_by_hand() {
        // Ten spells: events at 2, 3, 3, 6; censored at 3, 4, 7, 8, 9, 10.
        let t = [2.0, 3.0, 3.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let e = [true, true, true, false, false, true, false, false, false, false];
        let c = kaplan_meier(None, &t, &e, 0.95, ConfType::Log);
        let s = steps(&c, 0.0);
        // S(2) = 9/10; S(3) = 9/10 * 7/9 = 0.7; S(4) = 0.7 (censoring only);
        // S(6) = 0.7 * 4/5 = 0.56; flat after.
        let want = [
            (0.0, 2.0, 1.0),
            (2.0, 3.0, 0.9),
            (3.0, 4.0, 0.7),
            (4.0, 6.0, 0.7),
            (6.0, 7.0, 0.56),
            (7.0, 8.0, 0.56),
            (8.0, 9.0, 0.56),
            (9.0, 10.0, 0.56),
            (10.0, 10.0, 0.56),
        ];
        assert_eq!(s.len(), want.len());
        for (got, (from, to, surv)) in s.iter().zip(want) {
            assert_eq!((got.from, got.to), (from, to));
            assert!((got.surv - surv).abs() < 1e-15, "{got:?} vs {surv}");
        }
        // Greenwood at 6: 1/(10*9) + 2/(9*7) + 1/(5*4); log band S exp(+-z se).
        let se = (1.0 / 90.0 + 2.0 / 63.0 + 1.0 / 20.0f64).sqrt();
        let z = 1.959963984540054;
        assert!((s[4].lower - 0.56 * (-z * se).exp()).abs() < 1e-12);
        // The upper end, 0.56 exp(z se) = 1.017, is capped at 1 (as R).
        assert!(0.56 * (z * se).exp() > 1.0 && s[4].upper == 1.0);
        assert_eq!((s[0].lower, s[0].upper), (1.0, 1.0));
        // The line: flat, drop, flat ... through every estimate.
        let line = step_line(&s);
        assert_eq!(&line[..4], &[(0.0, 1.0), (2.0, 1.0), (2.0, 0.9), (3.0, 0.9)]);
        // One band polygon over all pieces (all finite), upper then lower.
        let polys = band_polygons(&s);
        assert_eq!(polys.len(), 1);
        assert_eq!(polys[0].len(), 4 * s.len());
    }

    #[test]
    fn bands_break_where_undefined_and_legends_name_groups() {
        // Everyone fails: S = 0 at the end, where the band is undefined.
        let mut c = kaplan_meier(None, &[1.0, 2.0], &[true, true], 0.95, ConfType::Log);
        let s = steps(&c, 0.0);
        assert_eq!(s.last().map(|s| s.surv), Some(0.0));
        assert!(s.last().is_some_and(|s| s.lower.is_nan()));
        // Piece 2 (from 1 to 2 at S = 1/2) has a band; the last does not.
        assert_eq!(band_polygons(&s).len(), 1);
        c.group = "contig=1, region=Europe".into();
        assert_eq!(SurvivalPlot::legend(&c), "contig = 1, region = Europe (at risk: 2)");
        let empty = SurvivalPlot::new(vec![], "t", 0.95);
        assert_eq!(super::super::svg(&empty).unwrap_err().to_string(), "survival plot: no curves to draw");
    }
}
