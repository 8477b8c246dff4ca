//! Pre-specified event studies (`[[event_study]]`): the outcome in the years
//! around the first year a 0/1 treatment switches on (joining the ICC), as
//! leads and lags relative to the year before, fixest's
//! `y ~ i(rel_year, ref = -1) | unit + year`.
//!
//! A hypothesis reports one coefficient; an event study reports its whole
//! path, because the years *before* treatment are the design's check: if the
//! treated units' outcome already moves apart from the comparison units'
//! before they are treated (a failed pre-trend test), the years after cannot
//! be read as what treatment brings. Nothing here is tuned to a result: the
//! window, the bins, the reference and the tests are fixed by the study file.
//!
//! The rule, per unit, over the years where the treatment is recorded
//! (`years`, else the study's):
//! - **joiners** (0 first, 1 later): `rel_year` = year - the first year with
//!   1, binned at `-window` (that many years or more before) and `window`;
//! - **never treated** (0 throughout): `rel_year` = -1, the reference, in
//!   every year: they identify the year effects, a never-treated comparison
//!   group;
//! - **treated in their first recorded year** (always treated): left out, and
//!   listed: they have no year before treatment, so their event time is
//!   unknown (a state that enters the panel already a member);
//! - **switching off** (1, then 0 later: a withdrawal): the design assumes a
//!   treatment that stays on, so by default (`switching_off = "error"`) the
//!   study stops and names the units; with `switching_off = "drop"` they are
//!   left out and listed;
//! - rows without a recorded treatment are left out (their unit's event time
//!   comes from the recorded years).

use super::output::{num, pval};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nalgebra::{DMatrix, DVector};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::run::{placeholder, vcov_for};
use super::spec::{Level, Study};
use super::StudyError;
use crate::estimate::{fit_with_design, Family, Fit, FitOptions};
use crate::formula::design::PanelSpec;
use crate::panel::int_column;
use crate::plot::{EventStudyPlot, PlotError};
use crate::report::labels::Labels;
use crate::report::tables::{md_row, FitSummary};

/// The column the event time is written to (the factor of `i(rel_year, ref = -1)`).
pub const REL_YEAR: &str = "rel_year";

fn default_family() -> Family {
    Family::Gaussian
}
fn default_fixed_effects() -> Vec<String> {
    vec!["unit".into(), "time".into()]
}
fn default_vcov() -> String {
    "cluster:unit".into()
}

/// What to do with units whose treatment switches off (1, then 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwitchingOff {
    /// Stop with the units named: the design needs a treatment that stays on.
    #[default]
    Error,
    /// Leave the units out, listed in the output.
    Drop,
}

/// One `[[event_study]]` of the study file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventStudySpec {
    /// Names the output (`figures/event_<name>.svg`): letters, digits, `_`, `-`.
    pub name: String,
    pub level: Level,
    /// A 0/1 column that switches on once and stays on (`icc_member`).
    pub treatment: String,
    pub outcome: String,
    /// Leads and lags: `rel_year` is binned at `-window` and `window` (end
    /// bins); at least 2, so that one lead besides the reference is tested.
    pub window: i64,
    /// The model; `gaussian` (OLS, a linear probability model for a 0/1
    /// outcome) by default.
    #[serde(default = "default_family")]
    pub family: Family,
    /// Fixed effects; `unit` and `time` stand for the level's unit column and
    /// `year` (both by default).
    #[serde(default = "default_fixed_effects")]
    pub fixed_effects: Vec<String>,
    /// Covariance; clustered by unit by default.
    #[serde(default = "default_vcov")]
    pub vcov: String,
    /// Years `[from, to]` of the event study (the study's when absent).
    pub years: Option<[i64; 2]>,
    /// Units whose treatment switches off: `"error"` (default) or `"drop"`.
    #[serde(default)]
    pub switching_off: SwitchingOff,
}

impl EventStudySpec {
    /// Checks that need no data (the study's years are `from`-`to`).
    pub(crate) fn check(&self, from: i64, to: i64) -> Result<(), String> {
        let place = format!("event_study `{}`", self.name);
        if self.name.is_empty() || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(format!("{place}: the name must be letters, digits, `_` or `-` (it names the output files)"));
        }
        if self.level == Level::SystemYear {
            return Err(format!(
                "{place}: level = \"system-year\" has one unit; an event study compares units treated at different times with untreated ones (state-year or dyad-year)"
            ));
        }
        if self.window < 2 {
            return Err(format!(
                "{place}: window = {} must be at least 2 (leads -2 .. -window are tested against the reference -1)",
                self.window
            ));
        }
        if self.window > 30 {
            return Err(format!("{place}: window = {} is more than 30 years", self.window));
        }
        if self.treatment.trim().is_empty() || self.outcome.trim().is_empty() {
            return Err(format!("{place}: `treatment` and `outcome` must name columns"));
        }
        if self.treatment == self.outcome {
            return Err(format!("{place}: the treatment and the outcome are the same column `{}`", self.outcome));
        }
        if [&self.treatment, &self.outcome].iter().any(|c| c.as_str() == REL_YEAR) {
            return Err(format!("{place}: `{REL_YEAR}` is the event time the study builds; rename the column"));
        }
        if !matches!(self.family, Family::Gaussian | Family::Logit | Family::Probit | Family::Poisson) {
            return Err(format!("{place}: family = \"{}\": use gaussian, logit, probit or poisson", self.family));
        }
        if let Some([a, b]) = self.years {
            if b < a {
                return Err(format!("{place}: years = [{a}, {b}] runs backwards"));
            }
            if a < from || b > to {
                return Err(format!("{place}: years = [{a}, {b}] are outside the study's {from}-{to}"));
            }
        }
        Ok(())
    }

    /// The years of the event study.
    pub fn span(&self, from: i64, to: i64) -> (i64, i64) {
        self.years.map_or((from, to), |[a, b]| (a, b))
    }

    /// The model formula, fixed effects placed for `level`.
    ///
    /// ```
    /// use concord::study::event_study::EventStudySpec;
    /// let s: EventStudySpec = toml::from_str(
    ///     "name = \"icc\"\nlevel = \"state-year\"\ntreatment = \"icc_member\"\noutcome = \"mid_onset\"\nwindow = 4",
    /// )
    /// .unwrap();
    /// assert_eq!(s.formula(), "mid_onset ~ i(rel_year, ref = -1) | ccode + year");
    /// assert_eq!(s.vcov_spec(), "cluster:ccode");
    /// ```
    pub fn formula(&self) -> String {
        let fe: Vec<String> = self.fixed_effects.iter().map(|f| placeholder(f, self.level)).collect();
        let mut f = format!("{} ~ i({REL_YEAR}, ref = -1)", self.outcome);
        if !fe.is_empty() {
            f.push_str(&format!(" | {}", fe.join(" + ")));
        }
        f
    }

    /// The covariance with `unit` and `time` replaced.
    pub fn vcov_spec(&self) -> String {
        vcov_for(&self.vcov, self.level)
    }
}

/// How a unit enters the event study.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 0 in every recorded year.
    Never,
    /// 0 first, 1 from this year on.
    Joins(i64),
    /// 1 in its first recorded year: left out.
    Always,
    /// 1 in `on`, 0 again in `off` (a later year): the treatment does not stay on.
    SwitchesOff { on: i64, off: i64 },
}

/// The role of every unit from its recorded treatment on the rows of `keep`
/// (rows without a record are skipped); an error names a value that is not 0/1.
///
/// ```
/// use concord::study::event_study::{roles, Role};
/// let unit = [1, 1, 1, 2, 2, 3, 3, 4, 4, 4];
/// let year = [2000, 2001, 2002, 2000, 2001, 2000, 2001, 2000, 2001, 2002];
/// let t = [Some(0.0), None, Some(1.0), Some(0.0), Some(0.0), Some(1.0), Some(1.0), Some(0.0), Some(1.0), Some(0.0)];
/// let r = roles(&unit, &year, &t, &[true; 10], "icc_member").unwrap();
/// assert_eq!(r[&1], Role::Joins(2002));
/// assert_eq!(r[&2], Role::Never);
/// assert_eq!(r[&3], Role::Always);
/// assert_eq!(r[&4], Role::SwitchesOff { on: 2001, off: 2002 });
/// ```
pub fn roles(
    unit: &[i64],
    year: &[i64],
    treatment: &[Option<f64>],
    keep: &[bool],
    name: &str,
) -> Result<BTreeMap<i64, Role>, String> {
    let mut by_unit: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
    for i in 0..unit.len() {
        let Some(v) = treatment[i].filter(|_| keep[i]) else { continue };
        if v != 0.0 && v != 1.0 {
            return Err(format!(
                "the treatment `{name}` is {v} for unit {} in {}: it must be 0 or 1",
                unit[i], year[i]
            ));
        }
        by_unit.entry(unit[i]).or_default().push((year[i], v));
    }
    Ok(by_unit
        .into_iter()
        .map(|(u, mut ys)| {
            ys.sort_by_key(|(y, _)| *y);
            let on = ys.iter().find(|(_, v)| *v == 1.0).map(|(y, _)| *y);
            let role = match on {
                None => Role::Never,
                Some(on) => match ys.iter().find(|(y, v)| *y > on && *v == 0.0) {
                    Some(&(off, _)) => Role::SwitchesOff { on, off },
                    None if ys[0].1 == 1.0 => Role::Always,
                    None => Role::Joins(on),
                },
            };
            (u, role)
        })
        .collect())
}

/// The binned event time of a joiner's row: year - first year, clamped to
/// `[-window, window]`.
pub fn rel_year(year: i64, first: i64, window: i64) -> i64 {
    (year - first).clamp(-window, window)
}

/// The label of a period: end bins read `≤-4` and `≥4`.
///
/// ```
/// use concord::study::event_study::period_label;
/// assert_eq!((period_label(-4, 4), period_label(-2, 4), period_label(4, 4)), ("≤-4".into(), "-2".into(), "≥4".into()));
/// ```
pub fn period_label(k: i64, window: i64) -> String {
    if k <= -window {
        format!("≤{k}")
    } else if k >= window {
        format!("≥{k}")
    } else {
        k.to_string()
    }
}

/// One period of the event study: its coefficient (none for the reference
/// and for a period without treated rows) and the treated rows in it.
#[derive(Debug, Clone, Serialize)]
pub struct EventPeriod {
    pub period: i64,
    pub label: String,
    pub term: String,
    pub reference: bool,
    pub estimate: Option<f64>,
    pub std_error: Option<f64>,
    pub conf_low: Option<f64>,
    pub conf_high: Option<f64>,
    /// Two-sided.
    pub p_value: Option<f64>,
    /// Rows of treated units (joiners) in this period in the estimation sample.
    pub treated_rows: usize,
}

/// The joint Wald test that every lead (`-window` .. `-2`) is zero.
#[derive(Debug, Clone, Serialize)]
pub struct PreTrend {
    pub leads: Vec<String>,
    /// F = W / q for t-based fits (OLS), W (chi-square) otherwise.
    pub statistic: f64,
    pub df1: f64,
    /// Denominator degrees of freedom of F (clusters - 1 when clustered).
    pub df2: Option<f64>,
    pub distribution: String,
    pub p_value: f64,
    /// p below the study's alpha: the treated units' outcome already moved
    /// apart from the comparison units' before treatment.
    pub failed: bool,
}

/// The mean of the coefficients from period 0 to the upper end bin, with
/// its standard error from the fit's covariance.
#[derive(Debug, Clone, Serialize)]
pub struct PostMean {
    pub periods: Vec<String>,
    pub estimate: f64,
    pub std_error: f64,
    pub conf_low: f64,
    pub conf_high: f64,
    /// Two-sided.
    pub p_value: f64,
}

/// The result of one event study (`event_study.json`).
#[derive(Debug, Clone, Serialize)]
pub struct EventStudyResult {
    pub name: String,
    pub level: Level,
    pub treatment: String,
    pub outcome: String,
    pub window: i64,
    pub years: (i64, i64),
    pub formula: String,
    pub family: Family,
    pub vcov: String,
    /// Confidence level of the intervals (the study's).
    pub conf_level: f64,
    /// The study's alpha, at which the pre-trend test is judged.
    pub alpha: f64,
    pub nobs: usize,
    /// Clusters of a clustered vcov.
    pub clusters: Option<usize>,
    /// Units whose treatment switches on during the years, in the sample.
    pub units_treated: usize,
    /// Units never treated, in the sample.
    pub units_never_treated: usize,
    /// Units treated in their first recorded year, left out.
    pub units_always_treated: Vec<i64>,
    /// Units whose treatment switches off, left out (`switching_off = "drop"`).
    pub units_switching_off: Vec<i64>,
    /// First year of treatment -> joiners in the sample.
    pub cohorts: BTreeMap<i64, usize>,
    pub periods: Vec<EventPeriod>,
    pub pre_trend: Option<PreTrend>,
    pub post_mean: Option<PostMean>,
    /// The fitted model's tidy JSON, relative to the output dir.
    pub fit_file: Option<String>,
    #[serde(skip)]
    pub fit: Option<Fit>,
}

fn fail(spec: &EventStudySpec, message: impl Into<String>) -> StudyError {
    StudyError::EventStudy { name: spec.name.clone(), message: message.into() }
}

/// Build and fit one event study on the `spec.level` panel `df`; `from`-`to`
/// are the study's years, `conf` its confidence level, `alpha` its level of
/// the pre-trend test.
pub fn estimate(
    spec: &EventStudySpec,
    df: &DataFrame,
    (from, to): (i64, i64),
    conf: f64,
    alpha: f64,
) -> Result<EventStudyResult, StudyError> {
    let level = spec.level;
    let unit_col = level.unit_column();
    let column = |name: &str, what: &str| {
        if df.column(name).is_err() {
            let near = crate::data::read::nearest_name(name, df.get_column_names().iter().map(|s| s.as_str()))
                .map_or(String::new(), |n| format!("; did you mean `{n}`?"));
            return Err(fail(spec, format!("{what} `{name}` is not a column of the {level} panel{near}")));
        }
        Ok(())
    };
    column(&spec.treatment, "treatment")?;
    column(&spec.outcome, "outcome")?;
    column(unit_col, "the unit column")?;
    let units = int_column(df, unit_col).map_err(|e| fail(spec, e.to_string()))?;
    let years = int_column(df, "year").map_err(|e| fail(spec, e.to_string()))?;
    let treat = crate::formula::design::numeric(df, &spec.treatment).map_err(|e| fail(spec, e.to_string()))?;
    let (a, b) = spec.span(from, to);
    let in_years: Vec<bool> = years.iter().map(|y| a <= *y && *y <= b).collect();
    let roles = roles(&units, &years, &treat, &in_years, &spec.treatment).map_err(|m| fail(spec, m))?;
    let switching: Vec<(i64, i64, i64)> = roles
        .iter()
        .filter_map(|(u, r)| match r {
            Role::SwitchesOff { on, off } => Some((*u, *on, *off)),
            _ => None,
        })
        .collect();
    if !switching.is_empty() && spec.switching_off == SwitchingOff::Error {
        let shown: Vec<String> =
            switching.iter().take(10).map(|(u, on, off)| format!("{unit_col} {u} (1 in {on}, 0 in {off})")).collect();
        return Err(fail(
            spec,
            format!(
                "the treatment `{}` switches off in {} unit{}: {}{}. The design needs a treatment that stays on once on; set switching_off = \"drop\" to leave these units out (they are listed in the output)",
                spec.treatment,
                switching.len(),
                if switching.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if switching.len() > 10 { ", ..." } else { "" }
            ),
        ));
    }
    let rel: Vec<Option<i64>> = (0..df.height())
        .map(|i| {
            if !in_years[i] || treat[i].is_none() {
                return None;
            }
            match roles.get(&units[i]) {
                Some(Role::Never) => Some(-1),
                Some(Role::Joins(first)) => Some(rel_year(years[i], *first, spec.window)),
                _ => None,
            }
        })
        .collect();
    let keep: Vec<bool> = rel.iter().map(Option::is_some).collect();
    if !roles.values().any(|r| matches!(r, Role::Joins(_))) {
        return Err(fail(
            spec,
            format!(
                "no unit switches `{}` on during {a}-{b} (from 0 to 1): there is no event to study",
                spec.treatment
            ),
        ));
    }
    let mut panel = df.clone();
    panel.with_column(Column::new(REL_YEAR.into(), rel.clone())).map_err(|e| fail(spec, e.to_string()))?;
    let formula = spec.formula();
    let vcov = spec.vcov_spec();
    let opts = FitOptions {
        vcov: vcov.parse().map_err(|e: crate::inference::InferenceError| fail(spec, format!("vcov `{vcov}`: {e}")))?,
        level: conf,
        panel: Some(PanelSpec { unit: vec![unit_col.into()], time: "year".into() }),
        sample: Some(keep),
        ..Default::default()
    };
    let (fit, design) =
        fit_with_design(&panel, &formula, spec.family, &opts).map_err(|e| fail(spec, format!("`{formula}`: {e}")))?;

    // Who is in the estimation sample.
    let mut treated_rows: BTreeMap<i64, usize> = BTreeMap::new();
    let mut in_sample: BTreeMap<i64, Role> = BTreeMap::new();
    for &r in &design.rows {
        let role = roles.get(&units[r]).copied().unwrap_or(Role::Never);
        in_sample.insert(units[r], role);
        if let (Role::Joins(_), Some(k)) = (role, rel[r]) {
            *treated_rows.entry(k).or_default() += 1;
        }
    }
    let mut cohorts: BTreeMap<i64, usize> = BTreeMap::new();
    for r in in_sample.values() {
        if let Role::Joins(first) = r {
            *cohorts.entry(*first).or_default() += 1;
        }
    }
    let list = |f: &dyn Fn(&Role) -> bool| roles.iter().filter(|(_, r)| f(r)).map(|(u, _)| *u).collect::<Vec<i64>>();

    let w = spec.window;
    let term = |k: i64| format!("{REL_YEAR}::{k}");
    let periods: Vec<EventPeriod> = (-w..=w)
        .map(|k| {
            let c = fit.coef(&term(k)).filter(|c| c.estimate.is_finite() && c.std_error.is_finite());
            EventPeriod {
                period: k,
                label: period_label(k, w),
                term: term(k),
                reference: k == -1,
                estimate: c.map(|c| c.estimate),
                std_error: c.map(|c| c.std_error),
                conf_low: c.map(|c| c.conf_low),
                conf_high: c.map(|c| c.conf_high),
                p_value: c.map(|c| c.p_value),
                treated_rows: treated_rows.get(&k).copied().unwrap_or(0),
            }
        })
        .collect();
    let names: Vec<&str> = fit.coefficients.iter().map(|c| c.term.as_str()).collect();
    let estimated = |ks: &mut dyn Iterator<Item = i64>| -> Vec<(String, usize)> {
        ks.filter_map(|k| {
            let t = term(k);
            let j = names.iter().position(|n| *n == t)?;
            periods.iter().any(|p| p.period == k && p.estimate.is_some()).then_some((t, j))
        })
        .collect()
    };
    let leads = estimated(&mut (-w..=-2));
    let pre_trend = if leads.is_empty() {
        None
    } else {
        let k = fit.beta.len();
        let mut r = DMatrix::zeros(leads.len(), k);
        for (i, (_, j)) in leads.iter().enumerate() {
            r[(i, *j)] = 1.0;
        }
        let q = DVector::zeros(leads.len());
        let t = crate::inference::hypothesis::wald(&fit.beta, &fit.cov, &r, &q, fit.distribution)
            .map_err(|e| fail(spec, format!("the pre-trend test: {e}")))?;
        Some(PreTrend {
            leads: leads.iter().map(|(t, _)| t.clone()).collect(),
            statistic: t.statistic,
            df1: t.df.0,
            df2: t.df.1,
            distribution: t.distribution.to_string(),
            p_value: t.p_value,
            failed: t.p_value < alpha,
        })
    };
    let lags = estimated(&mut (0..=w));
    let post_mean = if lags.is_empty() {
        None
    } else {
        let share = 1.0 / lags.len() as f64;
        let weights: Vec<(&str, f64)> = lags.iter().map(|(t, _)| (t.as_str(), share)).collect();
        let c = fit
            .linear_combination("post-period mean", &weights)
            .map_err(|e| fail(spec, format!("the post-period mean: {e}")))?;
        Some(PostMean {
            periods: lags.iter().map(|(t, _)| t.clone()).collect(),
            estimate: c.estimate,
            std_error: c.std_error,
            conf_low: c.conf_low,
            conf_high: c.conf_high,
            p_value: c.p_value,
        })
    };
    Ok(EventStudyResult {
        name: spec.name.clone(),
        level,
        treatment: spec.treatment.clone(),
        outcome: spec.outcome.clone(),
        window: w,
        years: (a, b),
        formula,
        family: spec.family,
        vcov: fit.vcov.clone(),
        conf_level: conf,
        alpha,
        nobs: fit.nobs,
        clusters: fit.clusters.first().map(|c| c.levels),
        units_treated: in_sample.values().filter(|r| matches!(r, Role::Joins(_))).count(),
        units_never_treated: in_sample.values().filter(|r| **r == Role::Never).count(),
        units_always_treated: list(&|r| *r == Role::Always),
        units_switching_off: list(&|r| matches!(r, Role::SwitchesOff { .. })),
        cohorts,
        periods,
        pre_trend,
        post_mean,
        fit_file: None,
        fit: Some(fit),
    })
}

/// Every event study of `study` on its panels.
pub fn run_all(
    study: &Study,
    frames: &BTreeMap<Level, DataFrame>,
    verbose: bool,
) -> Result<Vec<EventStudyResult>, StudyError> {
    let mut out = Vec::new();
    for spec in &study.event_study {
        let df = frames.get(&spec.level).ok_or_else(|| fail(spec, format!("there is no {} panel", spec.level)))?;
        let r = estimate(spec, df, (study.data.from, study.data.to), study.level, study.alpha)?;
        if verbose {
            let pre = r.pre_trend.as_ref().map_or("no leads".into(), |t| {
                format!("pre-trend {} = {:.2}, p = {:.4}", stat_name(t), t.statistic, t.p_value)
            });
            let post = r
                .post_mean
                .as_ref()
                .map_or("no post periods".into(), |m| format!("post mean {:.4} (s.e. {:.4})", m.estimate, m.std_error));
            println!(
                "  event study {}: N = {}, {} joiners, {} never treated; {pre}; {post}",
                r.name, r.nobs, r.units_treated, r.units_never_treated
            );
        }
        out.push(r);
    }
    Ok(out)
}

/// `F(3, 195)` or `chi2(3)`.
fn stat_name(t: &PreTrend) -> String {
    match t.df2 {
        Some(d) => format!("F({}, {})", t.df1, d),
        None => format!("chi2({})", t.df1),
    }
}

/// The event study in words, one paragraph each (design, sample, pre-trend
/// test, post-period mean, what it does not show); code in backticks.
/// "Is associated with": the design identifies no effect on its own, and a
/// failed pre-trend test is said to have failed.
pub fn sentences(r: &EventStudyResult) -> Vec<String> {
    let w = r.window;
    let lvl = (r.conf_level * 100.0).round();
    let (lo, hi) = (period_label(-w, w), period_label(w, w));
    let mut s = Vec::new();
    let unit = r.level.unit_column();
    let mut left_out = Vec::new();
    if !r.units_always_treated.is_empty() {
        left_out.push(format!(
            "{} unit{} treated in {} first recorded year ({unit} {}) {} left out, having no year before treatment",
            r.units_always_treated.len(),
            if r.units_always_treated.len() == 1 { "" } else { "s" },
            if r.units_always_treated.len() == 1 { "its" } else { "their" },
            short_list(&r.units_always_treated),
            if r.units_always_treated.len() == 1 { "is" } else { "are" },
        ));
    }
    if !r.units_switching_off.is_empty() {
        left_out.push(format!(
            "{} unit{} whose treatment switches off ({unit} {}) {} left out (switching_off = \"drop\")",
            r.units_switching_off.len(),
            if r.units_switching_off.len() == 1 { "" } else { "s" },
            short_list(&r.units_switching_off),
            if r.units_switching_off.len() == 1 { "is" } else { "are" },
        ));
    }
    s.push(format!(
        "Design: `{}` in the years around the first year with `{}` = 1 ({}, {}-{}); `{}` ({}, vcov {}). `{REL_YEAR}` is the year minus the unit's first treated year, binned at {lo} and {hi}; year -1 is the reference. Units never treated carry year -1 in every year and identify the year effects{}.",
        r.outcome,
        r.treatment,
        r.level,
        r.years.0,
        r.years.1,
        r.formula,
        r.family,
        r.vcov,
        if left_out.is_empty() { String::new() } else { format!("; {}", left_out.join("; ")) }
    ));
    s.push(format!(
        "Sample: N = {}{}; {} units switch `{}` on during the years, {} never do.",
        crate::report::tables::thousands(&r.nobs.to_string()),
        r.clusters.map_or(String::new(), |g| format!(" ({g} clusters)")),
        r.units_treated,
        r.treatment,
        r.units_never_treated
    ));
    match &r.pre_trend {
        Some(t) if t.failed => s.push(format!(
            "Pre-trend test (leads {} jointly zero): {} = {:.2}, p = {}. **The pre-trend test fails** at alpha = {}: before `{}` switches on, the treated units' `{}` already moves apart from the comparison units', so the coefficients after it cannot be read as what the treatment brings.",
            leads_text(t, w), stat_name(t), t.statistic, pval(Some(t.p_value)), r.alpha, r.treatment, r.outcome
        )),
        Some(t) => s.push(format!(
            "Pre-trend test (leads {} jointly zero): {} = {:.2}, p = {}. The test does not reject parallel pre-trends at alpha = {}; that is not evidence that the trends are parallel (a test of few leads can lack power).",
            leads_text(t, w), stat_name(t), t.statistic, pval(Some(t.p_value)), r.alpha
        )),
        None => s.push("Pre-trend test: not computed (no lead could be estimated).".into()),
    }
    if let Some(m) = &r.post_mean {
        let first = m.periods.first().and_then(|t| t.rsplit("::").next()).unwrap_or("0");
        let span = format!("years {first} to {hi}");
        let words = if m.p_value < r.alpha {
            format!(
                "switching `{}` on is associated with a {} `{}` over {span}, relative to year -1 and to the units not (yet) treated",
                r.treatment,
                if m.estimate < 0.0 { "lower" } else { "higher" },
                r.outcome
            )
        } else {
            format!(
                "switching `{}` on is not significantly associated with `{}` over {span} at alpha = {}",
                r.treatment, r.outcome, r.alpha
            )
        };
        let caveat = match &r.pre_trend {
            Some(t) if t.failed => " Given the failed pre-trend test, this association is no evidence of an effect.",
            _ => "",
        };
        s.push(format!(
            "Post-period mean (the average of the coefficients of {span}): {} (s.e. {}, {lvl}% CI [{}, {}], two-sided p = {}): {words}.{caveat}",
            num(Some(m.estimate)),
            num(Some(m.std_error)),
            num(Some(m.conf_low)),
            num(Some(m.conf_high)),
            pval(Some(m.p_value))
        ));
    } else {
        s.push("Post-period mean: not computed (no period from 0 on could be estimated).".into());
    }
    s.push("The design assumes that the treated units' outcome would have followed the comparison units' path without treatment, and that nothing else changed with treatment; with staggered adoption and effects that differ across cohorts or years, two-way fixed-effects leads and lags mix cohorts and periods (Sun & Abraham 2021). It shows associations, not effects.".into());
    s
}

fn leads_text(t: &PreTrend, w: i64) -> String {
    let ks: Vec<String> =
        t.leads.iter().filter_map(|l| l.rsplit("::").next()?.parse::<i64>().ok()).map(|k| period_label(k, w)).collect();
    ks.join(", ")
}

fn short_list(units: &[i64]) -> String {
    let shown: Vec<String> = units.iter().take(12).map(|u| u.to_string()).collect();
    format!("{}{}", shown.join(", "), if units.len() > 12 { ", ..." } else { "" })
}

/// The event studies' section of `verdicts.md`.
pub fn markdown(results: &[EventStudyResult]) -> String {
    let mut md = String::new();
    if results.is_empty() {
        return md;
    }
    let _ = writeln!(md, "\n## Event studies\n");
    let _ = writeln!(
        md,
        "Pre-specified in the study file: leads and lags of the outcome around the first year the treatment switches on (fixest's `i(rel_year, ref = -1)`). Full results in `event_study.json`; figures in `figures/event_<name>.svg`.\n"
    );
    for r in results {
        let lvl = (r.conf_level * 100.0).round();
        let _ = writeln!(md, "### {}: `{}` around `{}` = 1\n", r.name, r.outcome, r.treatment);
        for p in sentences(r) {
            let _ = writeln!(md, "{p}\n");
        }
        let _ =
            writeln!(md, "| year relative to treatment | estimate | s.e. | {lvl}% CI | p (two-sided) | treated rows |");
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        for p in &r.periods {
            let cells = match (p.reference, p.estimate) {
                (true, _) => [
                    format!("{} (reference)", p.label),
                    "0".into(),
                    "–".into(),
                    "–".into(),
                    "–".into(),
                    p.treated_rows.to_string(),
                ],
                (false, Some(e)) => [
                    p.label.clone(),
                    num(Some(e)),
                    num(p.std_error),
                    format!("[{}, {}]", num(p.conf_low), num(p.conf_high)),
                    pval(p.p_value),
                    p.treated_rows.to_string(),
                ],
                (false, None) => [
                    p.label.clone(),
                    "not estimated".into(),
                    "–".into(),
                    "–".into(),
                    "–".into(),
                    p.treated_rows.to_string(),
                ],
            };
            let _ = writeln!(md, "{}", md_row(&cells));
        }
    }
    md
}

/// Write `event_study.json` and each fit (`fits/event__<name>.json`, which
/// `concord plot event` reads) into `out`; returns the files written.
pub fn write(results: &mut [EventStudyResult], out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    let mut written = Vec::new();
    if results.is_empty() {
        return Ok(written);
    }
    for r in results.iter_mut() {
        if let Some(fit) = &r.fit {
            let name = format!("fits/event__{}.json", r.name);
            let path = out.join(&name);
            crate::data::write::write_text(&path, &fit.to_json())?;
            r.fit_file = Some(name);
            written.push(path);
        }
    }
    #[derive(Serialize)]
    struct File<'a> {
        event_studies: &'a [EventStudyResult],
    }
    let json = serde_json::to_string_pretty(&File { event_studies: results })
        .map_err(|e| StudyError::Output(e.to_string()))?;
    let path = out.join("event_study.json");
    crate::data::write::write_text(&path, &json)?;
    written.push(path);
    Ok(written)
}

/// The event-study figure: coefficients with 90% and 95% intervals against
/// the year relative to treatment, the reference year as a hollow point, the
/// end bins labelled `≤-4` and `≥4`.
pub fn figure(r: &EventStudyResult, labels: &Labels) -> Result<EventStudyPlot, PlotError> {
    let fit = r
        .fit
        .as_ref()
        .ok_or_else(|| PlotError::Data { figure: format!("event study `{}`", r.name), message: "no fit".into() })?;
    let mut plot = EventStudyPlot::from_fit(&FitSummary::from(fit), Some(REL_YEAR), Some(-1.0))?;
    let w = r.window as f64;
    plot.end_bins = Some((-w, w));
    plot.x_label = format!("Years relative to the first year with {} = 1", labels.var(&r.treatment).label);
    plot.y_label = y_label(r.family, &labels.var(&r.outcome));
    Ok(plot)
}

/// The y axis in the outcome's units: a linear model of a 0/1 outcome moves
/// its probability; other outcomes keep their unit or the model's scale.
fn y_label(family: Family, outcome: &crate::report::labels::VarLabel) -> String {
    match (family, outcome.unit.as_str()) {
        (Family::Gaussian, "0/1") => format!("Change in Pr({}) from year −1", outcome.label),
        (Family::Gaussian, "") => format!("Change in {} from year −1", outcome.label),
        (Family::Gaussian, unit) => format!("Change in {} ({unit}) from year −1", outcome.label),
        (other, _) => format!("{} ({other} scale), change from year −1", outcome.label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_y_axis_says_what_the_coefficients_move() {
        let l = crate::report::labels::Labels::default();
        assert_eq!(y_label(Family::Gaussian, &l.var("mid_onset")), "Change in Pr(MID onset) from year −1");
        assert_eq!(
            y_label(Family::Gaussian, &l.var("igo_full")),
            "Change in Full IGO memberships (count) from year −1"
        );
        assert_eq!(y_label(Family::Gaussian, &l.var("zz")), "Change in zz from year −1");
        assert_eq!(y_label(Family::Logit, &l.var("mid_onset")), "MID onset (logit scale), change from year −1");
    }

    fn spec(extra: &str) -> Result<EventStudySpec, String> {
        let text = format!(
            "name = \"icc\"\nlevel = \"state-year\"\ntreatment = \"icc_member\"\noutcome = \"mid_onset\"\nwindow = 3\n{extra}"
        );
        let s: EventStudySpec = toml::from_str(&text).map_err(|e| e.to_string())?;
        s.check(1990, 2010)?;
        Ok(s)
    }

    #[test]
    fn the_spec_defaults_and_checks() {
        let s = spec("").unwrap();
        assert_eq!((s.family, s.switching_off), (Family::Gaussian, SwitchingOff::Error));
        assert_eq!(s.formula(), "mid_onset ~ i(rel_year, ref = -1) | ccode + year");
        assert_eq!(spec("fixed_effects = []").unwrap().formula(), "mid_onset ~ i(rel_year, ref = -1)");
        for (extra, want) in [
            ("years = [1980, 2000]", "outside the study's 1990-2010"),
            ("years = [2000, 1995]", "runs backwards"),
            ("family = \"cox\"", "use gaussian, logit, probit or poisson"),
            ("switching_off = \"keep\"", "unknown variant `keep`"),
            ("fe = [\"unit\"]", "unknown field `fe`"),
        ] {
            let e = spec(extra).unwrap_err();
            assert!(e.contains(want), "{extra}: {e}");
        }
        let one: EventStudySpec =
            toml::from_str("name = \"a b\"\nlevel = \"state-year\"\ntreatment = \"t\"\noutcome = \"y\"\nwindow = 1")
                .unwrap();
        assert!(one.check(1990, 2000).unwrap_err().contains("letters, digits"));
        let one = EventStudySpec { name: "a".into(), ..one };
        assert!(one.check(1990, 2000).unwrap_err().contains("window = 1 must be at least 2"));
        let sys = EventStudySpec { window: 3, level: Level::SystemYear, ..one };
        assert!(sys.check(1990, 2000).unwrap_err().contains("has one unit"));
    }

    #[test]
    fn event_time_is_binned_at_the_window() {
        assert_eq!((rel_year(1990, 2000, 4), rel_year(1997, 2000, 4), rel_year(2000, 2000, 4)), (-4, -3, 0));
        assert_eq!((rel_year(2003, 2000, 4), rel_year(2014, 2000, 4)), (3, 4));
        let r = roles(&[1, 1], &[2000, 2001], &[Some(0.0), Some(2.0)], &[true, true], "t").unwrap_err();
        assert!(r.contains("the treatment `t` is 2 for unit 1 in 2001"), "{r}");
        // Rows outside the years do not count: treated in 2001, first kept year 2001.
        let r = roles(&[1, 1], &[2000, 2001], &[Some(0.0), Some(1.0)], &[false, true], "t").unwrap();
        assert_eq!(r[&1], Role::Always);
    }
}
