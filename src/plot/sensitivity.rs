//! Sensitivity of a mediation effect to an unobserved confounder of the
//! mediator and the outcome (Imai, Keele & Yamamoto 2010): the ACME as a
//! function of rho, the correlation of the two models' errors, with the
//! zero line, the rho at which the ACME vanishes and the estimate at rho = 0
//! marked. A reader sees how strong a confounder must be to erase the effect.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{stroke, tidy};
use super::palette as pal;
use super::type_size::{AXIS, TEXT, TITLE};
use super::{drawn, font, padded, pt, Figure, PlotError};

/// The ACME over rho.
///
/// ```
/// use concord::plot::{svg, SensitivityPlot, ONE_COLUMN};
/// // A curve that crosses zero at rho = 0.25.
/// let curve: Vec<(f64, f64)> = (-9..=9).map(|k| (f64::from(k) / 10.0, 0.01 * (0.25 - f64::from(k) / 10.0))).collect();
/// let plot = SensitivityPlot {
///     title: "H3: sensitivity".into(),
///     x_label: "rho".into(),
///     y_label: "ACME".into(),
///     curve,
///     band: vec![],
///     rho_at_zero: 0.25,
///     width: ONE_COLUMN,
/// };
/// assert!((plot.crossings()[0] - 0.25).abs() < 1e-12);
/// assert!(svg(&plot).unwrap().contains("ACME = 0 at ρ = 0.25"));
/// ```
#[derive(Debug, Clone)]
pub struct SensitivityPlot {
    pub title: String,
    pub x_label: String,
    /// Axis title of the ACME, with its scale.
    pub y_label: String,
    /// (rho, ACME), rho increasing.
    pub curve: Vec<(f64, f64)>,
    /// (rho, low, high) of a band around the curve; empty when it has none.
    pub band: Vec<(f64, f64, f64)>,
    /// The rho at which the ACME is zero (closed form).
    pub rho_at_zero: f64,
    pub width: f64,
}

/// A number with two significant digits at least and no e-notation.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let d = if a == 0.0 || a >= 0.1 { 2 } else { ((1.0 - a.log10().floor()) as usize).clamp(2, 8) };
    let s = format!("{v:.d$}");
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s.replace('-', "−")
    }
}

impl SensitivityPlot {
    /// Where the curve crosses zero, by linear interpolation between its
    /// points (a point exactly at zero counts once).
    pub fn crossings(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for w in self.curve.windows(2) {
            let ((r0, v0), (r1, v1)) = (w[0], w[1]);
            if v0 == 0.0 {
                out.push(r0);
            } else if v0.signum() != v1.signum() && v1 != 0.0 {
                out.push(r0 + (r1 - r0) * v0 / (v0 - v1));
            }
        }
        if let Some(&(r, v)) = self.curve.last() {
            if v == 0.0 {
                out.push(r);
            }
        }
        out
    }

    /// The ACME at rho = 0 (interpolated when 0 is not a point of the curve).
    pub fn at_zero(&self) -> Option<f64> {
        if let Some(&(_, v)) = self.curve.iter().find(|(r, _)| *r == 0.0) {
            return Some(v);
        }
        self.curve.windows(2).find(|w| w[0].0 <= 0.0 && 0.0 <= w[1].0).map(|w| {
            let ((r0, v0), (r1, v1)) = (w[0], w[1]);
            if r1 == r0 {
                v0
            } else {
                v0 + (v1 - v0) * (0.0 - r0) / (r1 - r0)
            }
        })
    }

    fn inside(&self, rho: f64) -> bool {
        match (self.curve.first(), self.curve.last()) {
            (Some(a), Some(b)) => (a.0..=b.0).contains(&rho),
            _ => false,
        }
    }

    /// Refuse a curve that cannot be drawn, and a `rho_at_zero` that the
    /// curve contradicts: within the curve's range the curve must cross zero
    /// within one grid step of it, and outside the range it must not cross.
    pub fn check(&self) -> Result<(), PlotError> {
        let err = |message: String| Err(PlotError::Data { figure: self.name(), message });
        if self.curve.len() < 2 {
            return err("fewer than two points".into());
        }
        if self.curve.iter().any(|(r, v)| !r.is_finite() || !v.is_finite()) || !self.rho_at_zero.is_finite() {
            return err("a non-finite rho or ACME".into());
        }
        if self.curve.windows(2).any(|w| w[1].0 <= w[0].0) {
            return err("rho must increase along the curve".into());
        }
        if self.band.iter().any(|(r, l, h)| !(r.is_finite() && l.is_finite() && h.is_finite())) {
            return err("a non-finite band".into());
        }
        let step = self.curve.windows(2).map(|w| w[1].0 - w[0].0).fold(0.0, f64::max);
        let crossings = self.crossings();
        if self.inside(self.rho_at_zero) {
            if !crossings.iter().any(|c| (c - self.rho_at_zero).abs() <= step) {
                return err(format!(
                    "the ACME is zero at rho = {:.2} by the closed form, but the curve crosses zero at {}",
                    self.rho_at_zero,
                    if crossings.is_empty() {
                        "no rho".to_string()
                    } else {
                        crossings.iter().map(|c| format!("{c:.2}")).collect::<Vec<_>>().join(", ")
                    }
                ));
            }
        } else if !crossings.is_empty() {
            return err(format!(
                "rho_at_zero = {:.2} lies outside the curve, which crosses zero at {:.2}",
                self.rho_at_zero, crossings[0]
            ));
        }
        Ok(())
    }

    /// The label of the zero crossing.
    pub fn zero_label(&self) -> String {
        if self.inside(self.rho_at_zero) {
            format!("ACME = 0 at ρ = {}", format!("{:.2}", self.rho_at_zero).replace('-', "−"))
        } else {
            format!("ACME ≠ 0 over the range (0 at ρ = {})", format!("{:.2}", self.rho_at_zero).replace('-', "−"))
        }
    }
}

impl Figure for SensitivityPlot {
    fn name(&self) -> String {
        format!("sensitivity plot `{}`", self.title)
    }
    fn size(&self) -> (f64, f64) {
        (self.width, self.width * 0.8)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        self.check()?;
        let ok = drawn::<(), _>(&name);
        let (r0, r1) = (self.curve[0].0, self.curve[self.curve.len() - 1].0);
        let (x0, x1) = padded(r0, r1, 0.03);
        let vals = self.curve.iter().map(|p| p.1).chain(self.band.iter().flat_map(|b| [b.1, b.2]));
        let (lo, hi) = vals.fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
        let (lo, hi) = padded(lo, hi, 0.08);
        let mut chart = ChartBuilder::on(root)
            .margin(pt(6.0) as u32)
            .margin_right(pt(9.0) as u32)
            .caption(&self.title, font(TITLE))
            .x_label_area_size(pt(24.0) as u32)
            .y_label_area_size(pt(44.0) as u32)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(&ok)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(pal::LIGHT)
            .label_style(font(TEXT))
            .axis_desc_style(font(AXIS))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(10)
            .y_labels(8)
            .x_label_formatter(&|v| tidy(*v))
            .y_label_formatter(&|v| tidy(*v))
            .draw()
            .map_err(&ok)?;
        if self.band.len() > 1 {
            let mut poly: Vec<(f64, f64)> = self.band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(self.band.iter().rev().map(|b| (b.0, b.1)));
            chart.draw_series(std::iter::once(Polygon::new(poly, pal::SKY.mix(0.35).filled()))).map_err(&ok)?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, 0.0), (x1, 0.0)],
                pt(3.0) as u32,
                pt(2.0) as u32,
                stroke(pal::GREY, 0.7),
            ))
            .map_err(&ok)?;
        chart.draw_series(LineSeries::new(self.curve.iter().copied(), stroke(pal::BLACK, 1.2))).map_err(&ok)?;
        chart
            .draw_series(self.curve.iter().map(|&p| Circle::new(p, pt(1.1) as u32, pal::BLACK.filled())))
            .map_err(&ok)?;
        // Labels go where the curve is not: a falling curve leaves the
        // upper right and the lower left empty, a rising one the others.
        let falling = self.curve[0].1 > self.curve[self.curve.len() - 1].1;
        let gap = pt(4.0) as i32;
        // The estimate at rho = 0 first, so the zero crossing's ring stays
        // visible over it when the two are close.
        if let Some(v) = self.at_zero() {
            chart
                .draw_series(std::iter::once(Circle::new((0.0, v), pt(2.4) as u32, pal::BLACK.filled())))
                .map_err(&ok)?;
            let (px, py) = chart.backend_coord(&(0.0, v));
            let (dx, h) = if falling { (-gap, HPos::Right) } else { (gap, HPos::Left) };
            root.draw(&Text::new(
                format!("ρ = 0: ACME = {}", short(v)),
                (px + dx, py + pt(6.0) as i32),
                font(TEXT).pos(Pos::new(h, VPos::Top)),
            ))
            .map_err(&ok)?;
        }
        if self.inside(self.rho_at_zero) {
            let rz = self.rho_at_zero;
            let top = hi - (hi - lo) * 0.1;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(rz, 0.0), (rz, top)],
                    pt(2.0) as u32,
                    pt(1.5) as u32,
                    stroke(pal::VERMILLION, 0.8),
                ))
                .map_err(&ok)?;
            chart
                .draw_series(std::iter::once(Circle::new((rz, 0.0), pt(2.4) as u32, stroke(pal::VERMILLION, 1.0))))
                .map_err(&ok)?;
            let (px, py) = chart.backend_coord(&(rz, top));
            let (dx, h) = if falling { (gap, HPos::Left) } else { (-gap, HPos::Right) };
            root.draw(&Text::new(
                self.zero_label(),
                (px + dx, py),
                font(TEXT).color(&pal::VERMILLION).pos(Pos::new(h, VPos::Center)),
            ))
            .map_err(&ok)?;
        } else {
            let (px, py) = chart.backend_coord(&(x0, hi));
            root.draw(&Text::new(
                self.zero_label(),
                (px + gap, py + gap),
                font(TEXT).color(&pal::VERMILLION).pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(&ok)?;
        }
        Ok(())
    }
}
