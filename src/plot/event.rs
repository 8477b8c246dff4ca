//! Event-study plots from a saved fit whose formula has a fixest-style
//! `i(rel_year, ref = -1)` term: the coefficients `rel_year::-3`, ...,
//! `rel_year::4` against relative time, with 95% (thin) and 90% (thick)
//! intervals, the reference period as a hollow point at 0, a zero line and a
//! dashed line between the last pre-period and the first period from 0.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::figures::{stroke, tidy};
use super::palette as pal;
use super::type_size::{AXIS, TEXT, TITLE};
use super::{drawn, font, padded, pt, Figure, PlotError};
use crate::formula::{Factor, Formula};
use crate::report::tables::FitSummary;

/// One period of an event study: the estimate with its 90% and 95%
/// intervals; the reference period has estimate 0 and no interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventPoint {
    pub period: f64,
    pub estimate: f64,
    pub lo90: f64,
    pub hi90: f64,
    pub lo95: f64,
    pub hi95: f64,
    pub reference: bool,
}

/// Coefficients of one `i()` factor against relative time.
#[derive(Debug, Clone)]
pub struct EventStudyPlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// In time order, the reference period among them.
    pub points: Vec<EventPoint>,
    pub width: f64,
    /// The end bins `(low, high)`, when the periods beyond them are binned
    /// into them: their ticks read "≤−4" and "≥4", so a reader does not
    /// take a bin for one year.
    pub end_bins: Option<(f64, f64)>,
}

/// The level of `term` when it is `prefix::level` with a numeric level.
fn level_of(term: &str, prefix: &str) -> Option<f64> {
    term.strip_prefix(prefix)?.strip_prefix("::")?.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The factors of the fit's coefficients named `factor::number`, in order.
fn numeric_factors(fit: &FitSummary) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &fit.coefficients {
        if let Some((p, l)) = c.term.split_once("::") {
            if l.parse::<f64>().is_ok() && !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// The reference level the fit's formula names for `i(var, ref = ..)`.
fn formula_reference(fit: &FitSummary, var: &str) -> Option<f64> {
    let f = Formula::parse(&fit.formula).ok()?;
    f.terms.iter().flat_map(|t| &t.0).find_map(|x| match x {
        Factor::Dummies(v, Some(r)) if v == var => r.parse::<f64>().ok(),
        _ => None,
    })
}

impl EventStudyPlot {
    /// The event study of the factor `term` (inferred when the fit has
    /// exactly one `i()` factor with numeric levels) of `fit`, the reference
    /// period `reference` (else the formula's `ref =`, else -1) drawn at 0.
    /// Terms the fit dropped (collinear) or could not estimate are left out.
    ///
    /// ```
    /// use concord::plot::EventStudyPlot;
    /// use concord::report::tables::FitSummary;
    /// let json = r#"{"family": "gaussian", "formula": "y ~ i(t, ref = -1) | unit", "nobs": 100,
    ///   "loglik": null, "aic": null, "r2": null, "within_r2": null, "pseudo_r2": null, "vcov": "iid",
    ///   "distribution": null, "coefficients": [
    ///   {"term": "t::0", "estimate": 1.0, "std_error": 0.1, "statistic": 10.0, "p_value": 0.0, "conf_low": 0.8, "conf_high": 1.2},
    ///   {"term": "t::-2", "estimate": 0.1, "std_error": 0.1, "statistic": 1.0, "p_value": 0.3, "conf_low": -0.1, "conf_high": 0.3}]}"#;
    /// let fit: FitSummary = serde_json::from_str(json).unwrap();
    /// let plot = EventStudyPlot::from_fit(&fit, None, None).unwrap();
    /// let periods: Vec<f64> = plot.points.iter().map(|p| p.period).collect();
    /// assert_eq!(periods, [-2.0, -1.0, 0.0]);
    /// assert!(plot.points[1].reference && plot.points[1].estimate == 0.0);
    /// ```
    pub fn from_fit(fit: &FitSummary, term: Option<&str>, reference: Option<f64>) -> Result<Self, PlotError> {
        let fail = |message: String| PlotError::Data { figure: "event-study plot".into(), message };
        let terms = || fit.coefficients.iter().map(|c| c.term.as_str()).collect::<Vec<_>>().join(", ");
        let factors = numeric_factors(fit);
        let prefix = match term.map(|t| t.trim().trim_end_matches("::")) {
            Some(t) => {
                if !factors.iter().any(|f| f == t) {
                    return Err(fail(format!(
                        "the fit has no terms `{t}::<period>` (from `i({t}, ref = ..)`); its terms: {}",
                        terms()
                    )));
                }
                t.to_string()
            }
            None => match factors.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(fail(format!(
                        "the fit has no `i(rel_time, ref = ..)` terms with numeric periods (`rel_time::-2`, ...); its terms: {}",
                        terms()
                    )))
                }
                many => {
                    return Err(fail(format!(
                        "the fit has several i() factors ({}): choose one with --term",
                        many.join(", ")
                    )))
                }
            },
        };
        let reference = reference.or_else(|| formula_reference(fit, &prefix)).unwrap_or(-1.0);
        let mut points = Vec::new();
        for c in &fit.coefficients {
            let Some(period) = level_of(&c.term, &prefix) else { continue };
            if fit.dropped.collinear.contains(&c.term) || !c.estimate.is_finite() || !c.std_error.is_finite() {
                continue;
            }
            if period == reference {
                return Err(fail(format!(
                    "`{}` is estimated, so period {} is not the reference: give the fit's reference with --ref",
                    c.term,
                    tidy(reference)
                )));
            }
            let (estimate, lo95, hi95) =
                fit.interval(&c.term, 0.95).ok_or_else(|| fail(format!("no interval for `{}`", c.term)))?;
            let (_, lo90, hi90) =
                fit.interval(&c.term, 0.90).ok_or_else(|| fail(format!("no interval for `{}`", c.term)))?;
            points.push(EventPoint { period, estimate, lo90, hi90, lo95, hi95, reference: false });
        }
        points.push(EventPoint {
            period: reference,
            estimate: 0.0,
            lo90: 0.0,
            hi90: 0.0,
            lo95: 0.0,
            hi95: 0.0,
            reference: true,
        });
        points.sort_by(|a, b| a.period.total_cmp(&b.period));
        Ok(EventStudyPlot {
            title: String::new(),
            x_label: format!("Periods relative to treatment ({prefix})"),
            y_label: format!("Estimate relative to period {}", tidy(reference)),
            points,
            width: super::ONE_COLUMN,
            end_bins: None,
        })
    }

    /// Where the dashed line goes: midway between the last period before 0
    /// and the first from 0 (`None` without both).
    pub fn break_at(&self) -> Option<f64> {
        let pre = self.points.iter().map(|p| p.period).filter(|p| *p < 0.0).fold(f64::NAN, f64::max);
        let post = self.points.iter().map(|p| p.period).filter(|p| *p >= 0.0).fold(f64::NAN, f64::min);
        (pre.is_finite() && post.is_finite()).then_some((pre + post) / 2.0)
    }
}

impl Figure for EventStudyPlot {
    fn name(&self) -> String {
        if self.title.is_empty() {
            "event-study plot".into()
        } else {
            format!("event-study plot `{}`", self.title)
        }
    }
    fn size(&self) -> (f64, f64) {
        (self.width, (self.width * 72.0).round() / 100.0)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let err = drawn::<(), _>(&name);
        if self.points.len() < 2 {
            return Err(PlotError::Data { figure: name.clone(), message: "fewer than two periods".into() });
        }
        let (p0, p1) = (self.points[0].period, self.points[self.points.len() - 1].period);
        let (x0, x1) = (p0 - 0.6, p1 + 0.6);
        let lo = self.points.iter().map(|p| p.lo95).fold(0.0, f64::min);
        let hi = self.points.iter().map(|p| p.hi95).fold(0.0, f64::max);
        let (y0, y1) = padded(lo, hi, 0.08);
        let mut builder = ChartBuilder::on(root);
        builder.margin(pt(6.0) as u32).x_label_area_size(pt(24.0) as u32).y_label_area_size(pt(36.0) as u32);
        if !self.title.is_empty() {
            builder.caption(&self.title, font(TITLE));
        }
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(&err)?;
        let end_bins = self.end_bins;
        let whole = |v: &f64| {
            if (v - v.round()).abs() >= 1e-9 {
                return String::new();
            }
            let r = v.round();
            match end_bins {
                Some((lo, _)) if r == lo => format!("≤{}", tidy(r)),
                Some((_, hi)) if r == hi => format!("≥{}", tidy(r)),
                _ => tidy(r),
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(pal::LIGHT)
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(((p1 - p0) as usize + 2).min(12))
            .y_labels(6)
            .x_label_formatter(&whole)
            .y_label_formatter(&|v| tidy(*v))
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(x0, 0.0), (x1, 0.0)], stroke(pal::GREY, 0.5))))
            .map_err(&err)?;
        if let Some(b) = self.break_at() {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(b, y0), (b, y1)],
                    pt(3.0) as u32,
                    pt(2.0) as u32,
                    stroke(pal::GREY, 0.7),
                ))
                .map_err(&err)?;
        }
        let c = pal::BLUE;
        for p in self.points.iter().filter(|p| !p.reference) {
            chart
                .draw_series([
                    PathElement::new(vec![(p.period, p.lo95), (p.period, p.hi95)], stroke(c, 0.8)),
                    PathElement::new(vec![(p.period, p.lo90), (p.period, p.hi90)], stroke(c, 2.2)),
                ])
                .map_err(&err)?;
            chart
                .draw_series(std::iter::once(Circle::new((p.period, p.estimate), pt(2.2) as u32, c.filled())))
                .map_err(&err)?;
        }
        for p in self.points.iter().filter(|p| p.reference) {
            chart
                .draw_series([
                    Circle::new((p.period, 0.0), pt(2.2) as u32, WHITE.filled()),
                    Circle::new((p.period, 0.0), pt(2.2) as u32, stroke(c, 0.8)),
                ])
                .map_err(&err)?;
            // "reference" beside the hollow point: level beneath it when it
            // fits between the neighbouring periods, else upright along the
            // emptier side of the zero line (no interval is drawn there).
            let (px, py) = chart.backend_coord(&(p.period, 0.0));
            let (nx, _) = chart.backend_coord(&(p.period + 1.0, 0.0));
            let (_, top) = chart.backend_coord(&(p.period, y1));
            let (_, bottom) = chart.backend_coord(&(p.period, y0));
            let label = "reference";
            let width = label.len() as f64 * pt(TEXT) * 0.56;
            let gap = pt(4.0) as i32;
            let below = bottom - py >= py - top;
            let (at, style) = if width / 2.0 < f64::from(nx - px) / 2.0 - pt(2.0) {
                let pos = if below { Pos::new(HPos::Center, VPos::Top) } else { Pos::new(HPos::Center, VPos::Bottom) };
                ((px, if below { py + gap } else { py - gap }), font(TEXT).pos(pos))
            } else {
                // Rotated a quarter turn (reading upwards), the text's
                // horizontal anchor runs along the axis.
                let pos = if below { Pos::new(HPos::Right, VPos::Center) } else { Pos::new(HPos::Left, VPos::Center) };
                ((px, if below { py + gap } else { py - gap }), font(TEXT).transform(FontTransform::Rotate270).pos(pos))
            };
            root.draw(&Text::new(label.to_string(), at, style.color(&pal::GREY))).map_err(&err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(formula: &str, terms: &[(&str, f64)]) -> FitSummary {
        let coefs: Vec<String> = terms
            .iter()
            .map(|(t, e)| {
                format!(
                    r#"{{"term": "{t}", "estimate": {e}, "std_error": 0.1, "statistic": 0, "p_value": 1, "conf_low": 0, "conf_high": 0}}"#
                )
            })
            .collect();
        let json = format!(
            r#"{{"family": "gaussian", "formula": "{formula}", "nobs": 10, "loglik": null, "aic": null, "r2": null,
            "within_r2": null, "pseudo_r2": null, "vcov": "iid", "distribution": null, "coefficients": [{}]}}"#,
            coefs.join(",")
        );
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn periods_sort_numerically_and_the_reference_comes_from_the_formula() {
        let f = fit(
            "y ~ x + i(rel, ref = -2) | unit",
            &[("x", 3.0), ("rel::10", 1.0), ("rel::-3", 0.2), ("rel::2", 0.5), ("rel::-1", 0.1)],
        );
        let p = EventStudyPlot::from_fit(&f, None, None).unwrap();
        let got: Vec<(f64, f64, bool)> = p.points.iter().map(|p| (p.period, p.estimate, p.reference)).collect();
        assert_eq!(
            got,
            [(-3.0, 0.2, false), (-2.0, 0.0, true), (-1.0, 0.1, false), (2.0, 0.5, false), (10.0, 1.0, false)]
        );
        // 95% normal interval: 0.5 +- 1.959964 * 0.1; 90%: +- 1.644854 * 0.1.
        assert!((p.points[3].hi95 - (0.5 + 0.1959963984540054)).abs() < 1e-12);
        assert!((p.points[3].lo90 - (0.5 - 0.1644853626951472)).abs() < 1e-12);
        assert_eq!(p.break_at(), Some(0.5));
        assert_eq!(p.y_label, "Estimate relative to period −2");
    }

    #[test]
    fn errors_name_the_terms() {
        let none = fit("y ~ x + z", &[("x", 1.0), ("z", 2.0)]);
        let e = EventStudyPlot::from_fit(&none, None, None).unwrap_err().to_string();
        assert!(e.contains("no `i(rel_time, ref = ..)` terms") && e.ends_with("its terms: x, z"), "{e}");
        let two = fit("y ~ i(a, ref = -1) + i(b, ref = -1)", &[("a::0", 1.0), ("b::0", 2.0)]);
        let e = EventStudyPlot::from_fit(&two, None, None).unwrap_err().to_string();
        assert!(e.contains("several i() factors (a, b): choose one with --term"), "{e}");
        assert_eq!(EventStudyPlot::from_fit(&two, Some("b"), None).unwrap().points.len(), 2);
        let e = EventStudyPlot::from_fit(&two, Some("c"), None).unwrap_err().to_string();
        assert!(e.contains("no terms `c::<period>`") && e.ends_with("a::0, b::0"), "{e}");
        // A reference that has a coefficient is not the reference.
        let e = EventStudyPlot::from_fit(&two, Some("a"), Some(0.0)).unwrap_err().to_string();
        assert!(e.contains("`a::0` is estimated"), "{e}");
    }
}
