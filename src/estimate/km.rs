//! Kaplan-Meier survival curves with Greenwood standard errors and pointwise
//! confidence bands, by group, as R's `survfit(Surv(...) ~ group)`: the
//! estimate steps at each event time by `1 - d / n`; `std_err` is the
//! standard error of the cumulative hazard `-log S` (Greenwood:
//! `sqrt(sum d / (n (n - d)))`, what `survfit` reports); the bands are `log`
//! (R's default: `S exp(+-z se)`, the upper end capped at 1), `log-log`
//! (`exp(-exp(log(-log S) -+ z se / log S))`) or `plain` (`S +- z se S`).
//! Counting-process data `(start, stop]` are supported: a row is at risk at
//! `t` when `start < t <= stop`.

use polars::prelude::*;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::EstimateError;
use crate::formula::design::{numeric, DesignError};

/// The kind of pointwise confidence band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfType {
    Log,
    LogLog,
    Plain,
}

impl std::str::FromStr for ConfType {
    type Err = EstimateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "log" => Ok(ConfType::Log),
            "log-log" | "loglog" => Ok(ConfType::LogLog),
            "plain" => Ok(ConfType::Plain),
            _ => Err(EstimateError::NotYet(format!("confidence band `{s}` (use log, log-log or plain)"))),
        }
    }
}

/// One time point of a curve (every distinct exit time of the group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmRow {
    pub time: f64,
    pub n_risk: usize,
    pub n_event: usize,
    pub n_censor: usize,
    pub surv: f64,
    /// Standard error of the cumulative hazard `-log S` (NaN once `S = 0`).
    pub std_err: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The curve of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmCurve {
    /// `col=value` (joined by `, ` for several columns), empty without groups.
    pub group: String,
    pub n: usize,
    pub events: usize,
    /// The first time at which `S <= 0.5` (the midpoint to the next time when
    /// `S` is exactly 0.5 there, as R), `None` when the curve stays above.
    pub median: Option<f64>,
    pub rows: Vec<KmRow>,
}

/// The Kaplan-Meier curve of rows at risk over `(start, stop]` (`start` 0
/// when `None`), with `level` pointwise bands of type `conf`.
///
/// ```
/// use concord::estimate::km::{kaplan_meier, ConfType};
/// // Times 1, 2+, 2+, 3: S = 3/4 after t = 1; at t = 3 the one left at risk
/// // has the event, so S = 0.
/// let c = kaplan_meier(None, &[1.0, 2.0, 2.0, 3.0], &[true, false, false, true], 0.95, ConfType::Log);
/// assert_eq!(c.rows.len(), 3);
/// assert!((c.rows[0].surv - 0.75).abs() < 1e-15);
/// assert_eq!(c.rows[2].surv, 0.0);
/// assert_eq!((c.rows[1].n_risk, c.rows[1].n_censor), (3, 2));
/// ```
pub fn kaplan_meier(start: Option<&[f64]>, stop: &[f64], event: &[bool], level: f64, conf: ConfType) -> KmCurve {
    let n = stop.len();
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - level) / 2.0);
    let mut by_stop: Vec<usize> = (0..n).collect();
    by_stop.sort_by(|&a, &b| stop[a].total_cmp(&stop[b]));
    // Entries (start) in increasing order, for counting-process data.
    let mut by_start: Vec<usize> = (0..n).collect();
    if let Some(s) = start {
        by_start.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    }
    let (mut entered, mut left) = (0usize, 0usize);
    let (mut q, mut p) = (0usize, 0usize);
    let (mut surv, mut var) = (1.0f64, 0.0f64);
    let mut rows = Vec::new();
    while p < n {
        let t = stop[by_stop[p]];
        // At risk at t: entered before t (start < t), not yet left (stop >= t).
        match start {
            Some(s) => {
                while q < n && s[by_start[q]] < t {
                    entered += 1;
                    q += 1;
                }
            }
            None => entered = n,
        }
        let n_risk = entered - left;
        let (mut d, mut c) = (0usize, 0usize);
        while p < n && stop[by_stop[p]] == t {
            if event[by_stop[p]] {
                d += 1;
            } else {
                c += 1;
            }
            p += 1;
        }
        left += d + c;
        if d > 0 {
            let (nr, df) = (n_risk as f64, d as f64);
            surv *= 1.0 - df / nr;
            var += if n_risk > d { df / (nr * (nr - df)) } else { f64::NAN };
        }
        let se = var.sqrt();
        let (lower, upper) = band(surv, se, z, conf);
        rows.push(KmRow { time: t, n_risk, n_event: d, n_censor: c, surv, std_err: se, lower, upper });
    }
    let events = event.iter().filter(|e| **e).count();
    let median = median(&rows);
    KmCurve { group: String::new(), n, events, median, rows }
}

/// R's `survfit_confint` for a survival `p` whose `-log` has standard error `se`.
fn band(p: f64, se: f64, z: f64, conf: ConfType) -> (f64, f64) {
    if p == 0.0 || se.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    match conf {
        ConfType::Plain => ((p - z * se * p).max(0.0), (p + z * se * p).min(1.0)),
        ConfType::Log => ((p.ln() - z * se).exp(), (p.ln() + z * se).exp().min(1.0)),
        ConfType::LogLog => {
            if p == 1.0 {
                return (f64::NAN, f64::NAN);
            }
            let s2 = z * se / p.ln();
            ((-((-p.ln()).ln() - s2).exp()).exp(), (-((-p.ln()).ln() + s2).exp()).exp())
        }
    }
}

fn median(rows: &[KmRow]) -> Option<f64> {
    let j = rows.iter().position(|r| r.surv <= 0.5)?;
    if (rows[j].surv - 0.5).abs() < 1e-12 {
        // Flat at exactly one half: the midpoint to the next event time.
        if let Some(next) = rows[j + 1..].iter().find(|r| r.n_event > 0) {
            return Some((rows[j].time + next.time) / 2.0);
        }
    }
    Some(rows[j].time)
}

/// Kaplan-Meier curves of a data frame, one per combination of the `by`
/// columns (in order of first appearance). Rows missing a used value are left
/// out; events must be 0 or 1 and `stop > start` (errors name the row).
pub fn km_frame(
    df: &DataFrame,
    start: Option<&str>,
    stop: &str,
    event: &str,
    by: &[String],
    level: f64,
    conf: ConfType,
) -> Result<Vec<KmCurve>, EstimateError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(EstimateError::Inference(crate::inference::InferenceError::Level(level)));
    }
    let t1 = numeric(df, stop)?;
    let t0 = match start {
        Some(s) => numeric(df, s)?,
        None => vec![Some(0.0); df.height()],
    };
    let ev = numeric(df, event)?;
    let keys: Vec<Column> = by
        .iter()
        .map(|c| {
            df.column(c).cloned().map_err(|_| {
                DesignError::NoColumn {
                    column: c.clone(),
                    suggestion: crate::data::read::nearest_name(c, df.get_column_names().iter().map(|s| s.as_str())),
                }
                .into()
            })
        })
        .collect::<Result<_, EstimateError>>()?;
    let mut labels: Vec<String> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(e)) = (t0[i], t1[i], ev[i]) else { continue };
        let mut parts = Vec::with_capacity(keys.len());
        let mut missing = false;
        for (name, c) in by.iter().zip(&keys) {
            match c.get(i) {
                Ok(AnyValue::Null) | Err(_) => missing = true,
                Ok(v) => parts.push(format!("{name}={}", v.to_string().trim_matches('"'))),
            }
        }
        if missing {
            continue;
        }
        if e != 0.0 && e != 1.0 {
            return Err(EstimateError::BadRow {
                row: i + 1,
                detail: format!("the event `{event}` must be 0 or 1, not {e}"),
            });
        }
        if b <= a {
            return Err(EstimateError::BadRow {
                row: i + 1,
                detail: format!(
                    "the risk interval ends before it starts: `{stop}` = {b} is not after `{}` = {a}",
                    start.unwrap_or("0")
                ),
            });
        }
        let label = parts.join(", ");
        let g = *index.entry(label.clone()).or_insert_with(|| {
            labels.push(label);
            members.push(Vec::new());
            labels.len() - 1
        });
        members[g].push(i);
    }
    if members.is_empty() {
        return Err(EstimateError::Design(DesignError::NoRows(format!(
            "every row has a missing value in `{stop}`, `{event}`{}",
            if by.is_empty() { String::new() } else { format!(" or {}", by.join(", ")) }
        ))));
    }
    Ok(labels
        .into_iter()
        .zip(members)
        .map(|(label, rows)| {
            let s: Vec<f64> = rows.iter().map(|&i| t0[i].unwrap_or(0.0)).collect();
            let t: Vec<f64> = rows.iter().map(|&i| t1[i].unwrap_or(0.0)).collect();
            let e: Vec<bool> = rows.iter().map(|&i| ev[i] == Some(1.0)).collect();
            let mut c = kaplan_meier(start.map(|_| s.as_slice()), &t, &e, level, conf);
            c.group = label;
            c
        })
        .collect())
}

/// The curves as one tidy table: group, time, n_risk, n_event, n_censor,
/// surv, std_err, lower, upper (NaN written as missing).
pub fn km_table(curves: &[KmCurve]) -> PolarsResult<DataFrame> {
    let rows = || curves.iter().flat_map(|c| c.rows.iter().map(move |r| (c, r)));
    let opt = |v: f64| (!v.is_nan()).then_some(v);
    let f = |name: &str, g: &dyn Fn(&KmRow) -> f64| {
        Column::new(name.into(), rows().map(|(_, r)| opt(g(r))).collect::<Vec<Option<f64>>>())
    };
    let u = |name: &str, g: &dyn Fn(&KmRow) -> usize| {
        Column::new(name.into(), rows().map(|(_, r)| g(r) as i64).collect::<Vec<i64>>())
    };
    let cols = vec![
        Column::new("group".into(), rows().map(|(c, _)| c.group.clone()).collect::<Vec<String>>()),
        f("time", &|r| r.time),
        u("n_risk", &|r| r.n_risk),
        u("n_event", &|r| r.n_event),
        u("n_censor", &|r| r.n_censor),
        f("surv", &|r| r.surv),
        f("std_err", &|r| r.std_err),
        f("lower", &|r| r.lower),
        f("upper", &|r| r.upper),
    ];
    let height = cols[0].len();
    DataFrame::new(height, cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greenwood_and_bands_by_hand() {
        // n = 5: deaths at 1 and 3, censored at 2, 4, 5.
        let c = kaplan_meier(None, &[1.0, 2.0, 3.0, 4.0, 5.0], &[true, false, true, false, false], 0.95, ConfType::Log);
        let r = &c.rows[2];
        assert_eq!((r.time, r.n_risk, r.n_event), (3.0, 3, 1));
        let s = 0.8 * (2.0 / 3.0);
        let se = (1.0f64 / (5.0 * 4.0) + 1.0 / (3.0 * 2.0)).sqrt();
        assert!((r.surv - s).abs() < 1e-15 && (r.std_err - se).abs() < 1e-15);
        let z = 1.959963984540054f64;
        assert!((r.lower - s * (-z * se).exp()).abs() < 1e-12);
        assert!((r.upper - (s * (z * se).exp()).min(1.0)).abs() < 1e-12);
        assert_eq!(c.median, None);
        let ll =
            kaplan_meier(None, &[1.0, 2.0, 3.0, 4.0, 5.0], &[true, false, true, false, false], 0.95, ConfType::LogLog);
        let (lo, hi) = (ll.rows[2].lower, ll.rows[2].upper);
        assert!(lo < s && s < hi && hi < 1.0, "{lo} {s} {hi}");
    }

    #[test]
    fn counting_process_rows_give_the_same_curve_as_durations() {
        // Two units followed 0-3 and 0-2 split into yearly rows.
        let whole = kaplan_meier(None, &[3.0, 2.0, 4.0], &[true, false, true], 0.95, ConfType::Log);
        let split = kaplan_meier(
            Some(&[0.0, 1.0, 2.0, 0.0, 1.0, 0.0, 2.0]),
            &[1.0, 2.0, 3.0, 1.0, 2.0, 2.0, 4.0],
            &[false, false, true, false, false, false, true],
            0.95,
            ConfType::Log,
        );
        let at = |c: &KmCurve, t: f64| c.rows.iter().find(|r| r.time == t).map(|r| (r.surv, r.n_risk)).unwrap();
        assert_eq!(at(&whole, 3.0), at(&split, 3.0));
        assert_eq!(at(&whole, 4.0), at(&split, 4.0));
    }
}
