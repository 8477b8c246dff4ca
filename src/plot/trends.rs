//! Time series over years as small multiples with a shared year axis:
//! socialization in the left column, conflict in the right. Means carry their
//! interquartile band across units, counts are bars (a 0-2 count drawn as a
//! line zig-zags through values that cannot occur), a series that starts or
//! ends inside the axis says so in its title, and the events that matter are
//! marked.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{stroke, tidy};
use super::palette as pal;
use super::type_size::{AXIS, TEXT};
use super::{drawn, font, padded, pt, Figure, PlotError};

/// One small multiple of [`Trends`].
#[derive(Debug, Clone, Default)]
pub struct TrendsPanel {
    pub title: String,
    /// Axis title with units.
    pub y_label: String,
    pub values: Vec<Option<f64>>,
    /// A band per year (the interquartile range across units), shaded
    /// behind the line.
    pub band: Option<Vec<Option<(f64, f64)>>>,
    /// Whole-number counts: drawn as bars with whole-number ticks.
    pub counts: bool,
}

impl TrendsPanel {
    /// A panel of `values`, drawn as bars when every value is a whole number
    /// from 0 to 100 (yearly event counts), else as a line (shares, means,
    /// stocks such as the number of states).
    pub fn new(title: &str, y_label: &str, values: Vec<Option<f64>>) -> TrendsPanel {
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let counts = !present.is_empty() && present.iter().all(|v| v.fract() == 0.0 && (0.0..=100.0).contains(v));
        TrendsPanel { title: title.into(), y_label: y_label.into(), values, band: None, counts }
    }
}

/// An event marked on every panel: a shaded span (`from < to`) or a dotted
/// line (`from == to`), labelled in the top row.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

impl Event {
    /// The events this literature marks: the end of the Cold War (1989-91),
    /// the Chemical Weapons Convention (1993) and 11 September 2001.
    pub fn defaults() -> Vec<Event> {
        vec![
            Event { from: 1989.0, to: 1991.0, label: "End of Cold War".into() },
            Event { from: 1993.0, to: 1993.0, label: "CWC".into() },
            Event { from: 2001.0, to: 2001.0, label: "9/11".into() },
        ]
    }

    /// Parse `1989-1991=End of Cold War,1993=CWC` (a year or a span, then
    /// `=` and a label; `none` for no events).
    ///
    /// ```
    /// use concord::plot::Event;
    /// let e = Event::parse_list("1989-1991=End of Cold War, 2001=9/11").unwrap();
    /// assert_eq!((e[0].from, e[0].to, e[1].label.as_str()), (1989.0, 1991.0, "9/11"));
    /// assert!(Event::parse_list("none").unwrap().is_empty());
    /// assert!(Event::parse_list("CWC").is_err());
    /// ```
    pub fn parse_list(s: &str) -> Result<Vec<Event>, String> {
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        s.split(',')
            .map(|item| {
                let bad = || {
                    format!(
                        "event `{}`: write YEAR=label or FROM-TO=label (e.g. 1989-1991=End of Cold War)",
                        item.trim()
                    )
                };
                let (when, label) = item.split_once('=').ok_or_else(bad)?;
                let year = |t: &str| t.trim().parse::<f64>().ok().filter(|y| y.is_finite());
                let (from, to) = match when.trim().split_once('-') {
                    Some((a, b)) if !a.trim().is_empty() => (year(a).ok_or_else(bad)?, year(b).ok_or_else(bad)?),
                    _ => {
                        let y = year(when).ok_or_else(bad)?;
                        (y, y)
                    }
                };
                if to < from || label.trim().is_empty() {
                    return Err(bad());
                }
                Ok(Event { from, to, label: label.trim().to_string() })
            })
            .collect()
    }
}

/// Small multiples over years with a shared year axis: socialization in the
/// left column, conflict in the right, a dashed line at a break year and the
/// [`Event`]s marked.
#[derive(Debug, Clone, Default)]
pub struct Trends {
    pub years: Vec<f64>,
    pub left: Vec<TrendsPanel>,
    pub right: Vec<TrendsPanel>,
    /// (year, label) of the dashed break line (the end of the Cold War); the
    /// label is drawn only when there are no events (the caption says it).
    pub mark: Option<(f64, String)>,
    pub events: Vec<Event>,
    /// Every panel in one colour (blue), when the columns are not the
    /// socialization / conflict pair.
    pub one_colour: bool,
}

/// Contiguous runs of present values (a missing year breaks the run).
fn runs<T: Copy>(years: &[f64], values: &[Option<T>]) -> Vec<Vec<(f64, T)>> {
    let mut out: Vec<Vec<(f64, T)>> = vec![Vec::new()];
    for (x, v) in years.iter().zip(values) {
        let gap = out.last().and_then(|r| r.last()).is_some_and(|(px, _)| x - px > 1.0);
        if gap || v.is_none() {
            out.push(Vec::new());
        }
        if let (Some(v), Some(run)) = (v, out.last_mut()) {
            run.push((*x, *v));
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

impl Figure for Trends {
    fn name(&self) -> String {
        "trends".into()
    }
    fn size(&self) -> (f64, f64) {
        let rows = self.left.len().max(self.right.len()).max(1);
        (super::TWO_COLUMN, 0.6 + 1.9 * rows as f64)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let rows = self.left.len().max(self.right.len()).max(1);
        let (Some(first), Some(last)) = (self.years.first(), self.years.last()) else {
            return Err(PlotError::Data { figure: name, message: "no years".into() });
        };
        let (x0, x1) = (first - 0.5, last + 0.5);
        let cells = root.split_evenly((rows, 2));
        for (i, cell) in cells.iter().enumerate() {
            let (r, c) = (i / 2, i % 2);
            let Some(p) = (if c == 0 { self.left.get(r) } else { self.right.get(r) }) else { continue };
            let color = if c == 0 || self.one_colour { pal::BLUE } else { pal::VERMILLION };
            let band = p.band.as_deref().unwrap_or(&[]);
            let vals: Vec<f64> = p
                .values
                .iter()
                .flatten()
                .copied()
                .chain(band.iter().flatten().flat_map(|(a, b)| [*a, *b]))
                .filter(|v| v.is_finite())
                .collect();
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
            let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if !hi.is_finite() {
                return Err(PlotError::Data { figure: name, message: format!("`{}` has no values", p.title) });
            }
            // The top row keeps headroom for the event labels.
            let (_, hi) = padded(lo, hi, if r == 0 && !self.events.is_empty() { 0.2 } else { 0.08 });
            let hi = if p.counts { hi.max(1.0) } else { hi };
            let col_len = if c == 0 { self.left.len() } else { self.right.len() };
            let bottom = r + 1 == col_len;
            // A series that starts or ends inside the axis says so in its title.
            let present: Vec<f64> =
                self.years.iter().zip(&p.values).filter(|(_, v)| v.is_some()).map(|(x, _)| *x).collect();
            let title = match (present.first(), present.last()) {
                (Some(a), Some(b)) if a > first || b < last => format!("{}, data {a:.0}-{b:.0}", p.title),
                _ => p.title.clone(),
            };
            let mut chart = ChartBuilder::on(cell)
                .margin(pt(5.0) as u32)
                .caption(&title, font(AXIS))
                .x_label_area_size(if bottom { pt(22.0) } else { pt(10.0) } as u32)
                .y_label_area_size(pt(36.0) as u32)
                .build_cartesian_2d(x0..x1, lo..hi)
                .map_err(drawn::<(), _>(&name))?;
            let counts = p.counts;
            let y_fmt = move |v: &f64| if counts && v.fract().abs() > 1e-9 { String::new() } else { tidy(*v) };
            let mut mesh = chart.configure_mesh();
            mesh.disable_x_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(pal::LIGHT)
                .label_style(font(TEXT))
                .axis_desc_style(font(AXIS))
                .y_desc(&p.y_label)
                .y_labels(if counts && hi <= 5.0 { hi.floor() as usize + 1 } else { 5 })
                .y_label_formatter(&y_fmt)
                .x_labels(8)
                .x_label_formatter(&|x| format!("{:.0}", x));
            if bottom {
                mesh.x_desc("Year");
            } else {
                mesh.x_label_formatter(&|_| String::new());
            }
            mesh.draw().map_err(drawn::<(), _>(&name))?;
            for e in &self.events {
                if e.to > e.from {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(e.from - 0.5, lo), (e.to + 0.5, hi)],
                            pal::LIGHT.mix(0.6).filled(),
                        )))
                        .map_err(drawn::<(), _>(&name))?;
                } else {
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![(e.from, lo), (e.from, hi)],
                            pt(1.0) as u32,
                            pt(1.5) as u32,
                            stroke(pal::GREY, 0.5),
                        ))
                        .map_err(drawn::<(), _>(&name))?;
                }
                if r == 0 {
                    // A span is labelled to its left, a line to its right.
                    let (x, h) = if e.to > e.from { (e.from - 0.9, HPos::Right) } else { (e.from + 0.6, HPos::Left) };
                    chart
                        .draw_series(std::iter::once(Text::new(
                            e.label.clone(),
                            (x, hi - (hi - lo) * 0.02),
                            font(TEXT).color(&pal::GREY).pos(Pos::new(h, VPos::Top)),
                        )))
                        .map_err(drawn::<(), _>(&name))?;
                }
            }
            if let Some((year, label)) = &self.mark {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(*year, lo), (*year, hi)],
                        pt(3.0) as u32,
                        pt(2.0) as u32,
                        stroke(pal::GREY, 0.7),
                    ))
                    .map_err(drawn::<(), _>(&name))?;
                if i == 0 && self.events.is_empty() && !label.is_empty() {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            label.clone(),
                            (*year - 1.0, hi - (hi - lo) * 0.04),
                            font(TEXT).color(&pal::GREY).pos(Pos::new(HPos::Right, VPos::Top)),
                        )))
                        .map_err(drawn::<(), _>(&name))?;
                }
            }
            for run in runs(&self.years, band) {
                let mut poly: Vec<(f64, f64)> = run.iter().map(|(x, (_, b))| (*x, *b)).collect();
                poly.extend(run.iter().rev().map(|(x, (a, _))| (*x, *a)));
                chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.22).filled()))).map_err(drawn::<
                    (),
                    _,
                >(
                    &name
                ))?;
            }
            if p.counts {
                chart
                    .draw_series(
                        self.years
                            .iter()
                            .zip(&p.values)
                            .filter_map(|(x, v)| v.filter(|v| *v > 0.0).map(|v| (*x, v)))
                            .map(|(x, v)| Rectangle::new([(x - 0.35, 0.0), (x + 0.35, v)], color.filled())),
                    )
                    .map_err(drawn::<(), _>(&name))?;
            } else {
                for run in runs(&self.years, &p.values) {
                    chart.draw_series(LineSeries::new(run, stroke(color, 1.0))).map_err(drawn::<(), _>(&name))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_break_at_missing_values_and_missing_years() {
        let years = [1.0, 2.0, 3.0, 5.0, 6.0];
        let v = [Some(1.0), None, Some(3.0), Some(5.0), Some(6.0)];
        let r = runs(&years, &v);
        assert_eq!(r, vec![vec![(1.0, 1.0)], vec![(3.0, 3.0)], vec![(5.0, 5.0), (6.0, 6.0)]]);
    }

    #[test]
    fn counts_are_bars_and_shares_are_lines() {
        assert!(TrendsPanel::new("wars", "wars per year", vec![Some(0.0), Some(2.0), None]).counts);
        assert!(!TrendsPanel::new("share", "share", vec![Some(0.5), Some(0.7)]).counts);
        assert!(!TrendsPanel::new("none", "none", vec![None]).counts);
    }

    #[test]
    fn malformed_events_are_refused_with_the_expected_form() {
        let e = Event::parse_list("1993=CWC, 2001").unwrap_err();
        assert!(e.contains("`2001`") && e.contains("YEAR=label"), "{e}");
        assert!(Event::parse_list("1991-1989=backwards").is_err());
        assert_eq!(
            Event::parse_list("1993 = CWC").unwrap(),
            vec![Event { from: 1993.0, to: 1993.0, label: "CWC".into() }]
        );
    }
}
