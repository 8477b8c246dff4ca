//! Running a study: panels, specifications, fits, bootstrap, verdicts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use polars::prelude::*;
use serde::Serialize;

use super::mediation::{gcomp_bootstrap, Bootstrap, GcompResult, MediationData};
use super::spec::{Check, Correction, Hypothesis, Kind, Level, Study};
use super::StudyError;
use crate::data::simulate;
use crate::estimate::{design_for, fit_design, Family, Fit, FitOptions};
use crate::formula::design::PanelSpec;
use crate::formula::{Factor, Formula, Term};
use crate::inference::hypothesis::Direction;
use crate::panel::int_column;

/// How to run a study (what the command line can override).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Data dir of the real datasets (used unless the study simulates).
    pub data_dir: PathBuf,
    /// Override the study's seed.
    pub seed: Option<u64>,
    /// Override the number of bootstrap replicates.
    pub replicates: Option<usize>,
    /// Run on the simulator with these parameters (overrides the study's data).
    pub simulate: Option<simulate::SimParams>,
    /// Draw a progress bar over the hypotheses as they are fitted (a
    /// mediation's bootstrap runs beside the other fits, without its own).
    pub progress: bool,
    /// Print a line per hypothesis.
    pub verbose: bool,
}

/// The verdict on a hypothesis (or on one specification of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The (adjusted) one-sided p-value in the stated direction is below alpha.
    Supported,
    /// Neither direction is significant at alpha.
    NotSupported,
    /// The (adjusted) one-sided p-value in the opposite direction is below alpha.
    Contradicted,
    /// The specification could not be estimated (the error says why).
    NotEstimable,
}

impl Verdict {
    /// The verdict from one-sided p-values in the stated and the opposite direction.
    ///
    /// ```
    /// use concord::study::Verdict;
    /// assert_eq!(Verdict::from_p(Some(0.01), Some(0.99), 0.05), Verdict::Supported);
    /// assert_eq!(Verdict::from_p(Some(0.99), Some(0.01), 0.05), Verdict::Contradicted);
    /// assert_eq!(Verdict::from_p(Some(0.20), Some(0.80), 0.05), Verdict::NotSupported);
    /// ```
    pub fn from_p(p_dir: Option<f64>, p_opp: Option<f64>, alpha: f64) -> Verdict {
        match (p_dir, p_opp) {
            (Some(p), _) if p < alpha => Verdict::Supported,
            (_, Some(p)) if p < alpha => Verdict::Contradicted,
            (Some(_), Some(_)) => Verdict::NotSupported,
            _ => Verdict::NotEstimable,
        }
    }

    /// The verdicts on a family of tests, with their adjusted p-values: `p`
    /// holds the one-sided p-values in the stated directions, `q` those in the
    /// opposite ones; each is adjusted over the family on its own.
    ///
    /// ```
    /// use concord::study::{spec::Correction, Verdict};
    /// let v = Verdict::over_family(Correction::Holm, 0.05, &[0.01, 0.04], &[0.99, 0.96]);
    /// assert_eq!(v, vec![(0.02, Verdict::Supported), (0.04, Verdict::Supported)]);
    /// ```
    pub fn over_family(correction: Correction, alpha: f64, p: &[f64], q: &[f64]) -> Vec<(f64, Verdict)> {
        let (pa, qa) = (correction.adjust(p), correction.adjust(q));
        pa.into_iter().zip(qa).map(|(a, b)| (a, Verdict::from_p(Some(a), Some(b), alpha))).collect()
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::NotSupported => "not supported",
            Verdict::Contradicted => "contradicted",
            Verdict::NotEstimable => "not estimable",
        }
    }
}

/// A specification: one model of one hypothesis.
#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub label: String,
    pub level: Level,
    pub formula: String,
    pub family: Family,
    pub vcov: String,
    /// The coefficient the hypothesis is about.
    pub term: String,
    /// Periods the sample is restricted to (all years when empty).
    pub periods: Vec<String>,
    /// The direction this specification is judged against when it is not
    /// the hypothesis's own (a moderation's period-only fit with
    /// `period_direction`); absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Rows kept (a robustness check's `subset`); absent from the JSON when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
}

/// Outcome events (rows with a 0/1 outcome equal to 1) kept and in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Events {
    pub outcome: String,
    pub in_sample: usize,
    pub in_panel: usize,
}

impl Events {
    /// The events the estimation sample loses.
    pub fn lost(&self) -> usize {
        self.in_panel.saturating_sub(self.in_sample)
    }
}

/// The events of a 0/1 outcome: in the design's rows, and in the rows of
/// `sample` (all rows when none) with the outcome observed; `None` when the
/// outcome is not 0/1.
fn events(df: &DataFrame, design: &crate::formula::design::Design, sample: Option<&[bool]>) -> Option<Events> {
    let binary = |v: f64| v == 0.0 || v == 1.0;
    if !design.y.iter().all(|v| binary(*v)) {
        return None;
    }
    let y = crate::formula::design::numeric(df, &design.outcome).ok()?;
    let in_panel =
        y.iter().enumerate().filter(|(i, v)| sample.is_none_or(|s| s[*i]) && v.is_some_and(|v| v == 1.0)).count();
    if y.iter().flatten().any(|v| !binary(*v)) {
        return None;
    }
    Some(Events {
        outcome: design.outcome.clone(),
        in_sample: design.y.iter().filter(|v| **v == 1.0).count(),
        in_panel,
    })
}

/// The result of one specification.
#[derive(Debug, Clone, Serialize)]
pub struct SpecResult {
    #[serde(flatten)]
    pub spec: Spec,
    pub nobs: Option<usize>,
    pub estimate: Option<f64>,
    pub std_error: Option<f64>,
    pub conf_low: Option<f64>,
    pub conf_high: Option<f64>,
    /// One-sided p-value in the stated direction.
    pub p_one_sided: Option<f64>,
    /// One-sided p-value in the opposite direction.
    pub p_opposite: Option<f64>,
    /// Two-sided p-value (for a Wald test, twice the smaller one-sided p).
    pub p_two_sided: Option<f64>,
    /// Verdict at alpha without multiple-testing adjustment.
    pub verdict: Verdict,
    pub error: Option<String>,
    /// The fitted model's tidy JSON, relative to the output dir.
    pub fit_file: Option<String>,
    #[serde(skip)]
    pub fit: Option<Fit>,
    /// For a 0/1 outcome: its events in the estimation sample and in the
    /// panel's rows of the model's years and subset (the difference is lost
    /// to missing values of the regressors, lags included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Events>,
}

/// Mediation estimates: the paths, the total effect, and the natural
/// indirect and direct effects on the probability scale with their bootstrap.
#[derive(Debug, Clone, Serialize)]
pub struct MediationResult {
    /// Path a: the mediator (t-1) on the cause (t-2), in the specification
    /// of the hypothesis named by `path_a`.
    pub path_a: SpecResult,
    /// Path b: the outcome (t) on the mediator (t-1) and the cause (t-2), in
    /// the specification of the hypothesis named by `path_b`.
    pub path_b: SpecResult,
    /// The total effect c: path b without the mediator, on the same rows.
    pub total_effect: SpecResult,
    /// Coefficients: a (path a), b (mediator in path b), c' (cause in path
    /// b, log-odds), c (cause in the total-effect model, log-odds).
    pub a: f64,
    pub b: f64,
    pub direct_coefficient: f64,
    pub total_coefficient: f64,
    /// Average natural indirect effect (ACME) of x -> x + shift on the
    /// probability of the outcome.
    pub indirect: f64,
    /// Average natural direct effect (ADE), probability scale.
    pub direct: f64,
    /// Total effect implied by the two paths (NIE(1) + NDE(0)), probability scale.
    pub total: f64,
    /// Total effect from the reduced form c (no mediator): the average
    /// change in the probability for the same shift of the cause.
    pub total_reduced_form: f64,
    /// ACME / total, shown only when ACME, ADE and total have the same sign
    /// (otherwise the share is not a proportion).
    pub proportion_mediated: Option<f64>,
    /// The ACME's bootstrap (percentile interval).
    pub bootstrap: Bootstrap,
    /// All natural effects with their intervals, and the rho sensitivity.
    pub gcomp: GcompResult,
    /// The identifying assumptions, in words.
    pub assumptions: String,
}

/// What the natural effects assume (Imai, Keele & Tingley 2010).
pub const MEDIATION_ASSUMPTIONS: &str = "Sequential ignorability: given the controls (and fixed effects) of each path, the cause (t-2) is as good as random for the mediator and the outcome, and the mediator (t-1) is as good as random for the outcome given the cause; no confounder of the mediator and the outcome is itself affected by the cause. The mediator model is linear with the cause's effect constant; each row keeps its own mediator residual. The rho-sensitivity shows how far a correlation of the two models' errors (an omitted mediator-outcome confounder) moves the indirect effect.";

/// Everything about one hypothesis.
#[derive(Debug, Clone, Serialize)]
pub struct HypothesisResult {
    pub id: String,
    pub claim: String,
    pub kind: Kind,
    pub level: Level,
    pub direction: Direction,
    pub main: SpecResult,
    pub mediation: Option<MediationResult>,
    pub p_holm: Option<f64>,
    pub p_bh: Option<f64>,
    /// Verdict from the main specification with the study's correction.
    pub verdict: Verdict,
    pub robustness: Vec<SpecResult>,
    /// Robustness specifications whose (unadjusted) verdict equals the
    /// reported (adjusted) verdict.
    pub robustness_agreeing: usize,
    /// The placebo: the main specification with the lead `f(cause, k)`
    /// added; `term` is the lead.
    pub placebo: Option<SpecResult>,
}

/// A study's results.
#[derive(Debug, Clone, Serialize)]
pub struct StudyResult {
    pub study: String,
    pub title: String,
    pub alpha: f64,
    pub level: f64,
    pub correction: Correction,
    pub seed: u64,
    pub data: String,
    pub years: (i64, i64),
    pub hypotheses: Vec<HypothesisResult>,
    /// Out-of-sample checks (train on one period, predict another).
    pub out_of_sample: Vec<super::oos::OosResult>,
    #[serde(skip)]
    pub inputs: Vec<(String, String)>,
    #[serde(skip)]
    pub timings: BTreeMap<String, f64>,
    #[serde(skip)]
    pub panel_rows: BTreeMap<String, usize>,
    /// The panels the study ran on (with its helper columns), for the report.
    #[serde(skip)]
    pub frames: BTreeMap<Level, DataFrame>,
    /// The measurement-validity table (`[validity]`), written as validity.json.
    #[serde(skip)]
    pub validity: Option<super::validity::Validity>,
    /// The event studies (`[[event_study]]`), written as event_study.json.
    #[serde(skip)]
    pub event_studies: Vec<super::event_study::EventStudyResult>,
    /// Sensitivity of the main links to omitted confounding, written as sensitivity.json.
    #[serde(skip)]
    pub sensitivity: super::sensitivity::SensitivityResult,
    /// The period contrast of every link (`[contrast]`), written as contrast.json.
    pub contrast: Option<super::contrast::ContrastResult>,
}

/// The panels a study runs on, with the helper columns it adds
/// (`system` for the system level, `in_<period>` indicators).
pub struct Panels {
    pub frames: BTreeMap<Level, DataFrame>,
    pub inputs: Vec<(String, String)>,
    pub source: String,
    pub origin: Origin,
}

/// Where a study's panels come from (validation tailors its advice to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built by concord from the datasets in the data dir.
    Built,
    /// Drawn by concord's simulator.
    Simulated,
    /// The user's own file (`[data] panel`), at one level.
    File { path: PathBuf, level: Level },
}

/// Build (or simulate, or read from `[data] panel`) the panels the study's
/// hypotheses use.
pub fn load_panels(study: &Study, opts: &RunOptions) -> Result<Panels, StudyError> {
    let (from, to) = (study.data.from, study.data.to);
    let sim = opts.simulate.clone().or_else(|| study.data.simulate.clone());
    let mut frames = BTreeMap::new();
    let mut inputs = Vec::new();
    let source;
    let origin;
    if let Some(mut p) = sim {
        origin = Origin::Simulated;
        p.from = from;
        p.to = to;
        source = format!("simulated (seed {})", p.seed);
        let states = simulate::state_year(&p)?;
        for level in study.levels() {
            let df = match level {
                Level::StateYear => states.clone(),
                Level::DyadYear => simulate::dyad_year(&p)?,
                Level::DirectedDyadYear => simulate::dyad_year(&simulate::SimParams { directed: true, ..p.clone() })?,
                Level::SystemYear => simulate::system_year(&p, &states)?,
            };
            frames.insert(level, df);
        }
        inputs.push(("simulator parameters".into(), toml::to_string(&p).unwrap_or_default()));
    } else if let Some(path) = &study.data.panel {
        let (level, df) = super::panel_file::read(path, study.data.panel_level, from, to)?;
        source = format!("panel file {}", path.display());
        frames.insert(level, df);
        inputs.push((path.display().to_string(), crate::data::registry::sha256_file(path)?));
        origin = Origin::File { path: path.clone(), level };
    } else {
        origin = Origin::Built;
        let dir = study.data.data_dir.clone().unwrap_or_else(|| opts.data_dir.clone());
        source = format!("real datasets in {}", dir.display());
        let mut files: Vec<&str> = Vec::new();
        let add = crate::data::measures::resolve(&study.data.add)?;
        for level in study.levels() {
            let here: Vec<&crate::data::measures::Measure> =
                add.iter().copied().filter(|m| m.at(level.unit()).next().is_some()).collect();
            // Directed dyad-years come from the non-directed panel (built
            // once when the study has both levels: levels sort dyads first).
            let df = match (level, frames.get(&Level::DyadYear)) {
                (Level::DirectedDyadYear, Some(nd)) => crate::data::panels::directed_from(nd.clone(), &dir, &here)?,
                (Level::DirectedDyadYear, None) => crate::data::panels::build_directed(&dir, from, to, &here)?.0,
                _ => crate::data::panels::build_with(level.unit(), &dir, from, to, &here)?.0,
            };
            frames.insert(level, df);
            files.extend(level.unit().needed_files());
            files.extend(crate::data::measures::files(&here));
        }
        files.sort_unstable();
        files.dedup();
        for f in files {
            inputs.push((f.to_string(), crate::data::registry::sha256_file(&dir.join(f))?));
        }
    }
    for (level, df) in frames.iter_mut() {
        let poly = |e: PolarsError| StudyError::Output(format!("{level} panel: {e}"));
        let years = int_column(df, "year").map_err(|e| StudyError::Output(format!("{level} panel: {e}")))?;
        if *level == Level::SystemYear {
            df.with_column(Column::new("system".into(), vec![1i64; df.height()])).map_err(poly)?;
        }
        for p in &study.periods {
            let v: Vec<f64> = years.iter().map(|y| f64::from(u8::from(p.from <= *y && *y <= p.to))).collect();
            df.with_column(Column::new(format!("in_{}", p.name).into(), v)).map_err(poly)?;
        }
        for c in &study.log1p {
            if df.column(c).is_err() {
                continue;
            }
            let v = crate::formula::design::numeric(df, c)
                .map_err(|e| StudyError::Output(format!("{level} panel: {e}")))?;
            if let Some((row, x)) = v.iter().enumerate().find_map(|(i, x)| x.filter(|x| *x <= -1.0).map(|x| (i, x))) {
                return Err(StudyError::Output(format!(
                    "{level} panel: log1p of `{c}` is undefined at row {row} (value {x} <= -1)"
                )));
            }
            let l: Vec<Option<f64>> = v.iter().map(|x| x.map(f64::ln_1p)).collect();
            df.with_column(Column::new(format!("log1p_{c}").into(), l)).map_err(poly)?;
        }
    }
    Ok(Panels { frames, inputs, source, origin })
}

fn lagged(v: &str, lag: i64) -> String {
    if lag == 0 {
        v.to_string()
    } else {
        format!("l({v},{lag})")
    }
}

/// Whether `v` is a plain column name (rather than a formula term such as
/// `log(mindist)` or `i(region)`); plain names are lagged, terms are not.
///
/// ```
/// use concord::study::run::is_column_name;
/// assert!(is_column_name("mindist"));
/// assert!(!is_column_name("poly(mindist, 2)"));
/// assert!(!is_column_name("l(cinc, 2)"));
/// ```
pub fn is_column_name(v: &str) -> bool {
    let v = v.trim();
    let Ok(f) = Formula::parse(&format!("y ~ {v}")) else {
        return false;
    };
    let plain = |t: &Term| matches!(t.0.as_slice(), [Factor::Var(name)] if name == v || format!("`{name}`") == v);
    f.intercept && f.fixed_effects.is_empty() && matches!(f.terms.as_slice(), [t] if plain(t))
}

/// A control (or out-of-sample regressor) as a formula term: a column name
/// lagged `lag` years, like the cause; any other term as written, since its
/// author chose its timing.
///
/// ```
/// use concord::study::run::control_term;
/// assert_eq!(control_term("cinc", 1), "l(cinc,1)");
/// assert_eq!(control_term("log(mindist)", 1), "log(mindist)");
/// assert_eq!(control_term("i(region)", 2), "i(region)");
/// ```
pub fn control_term(v: &str, lag: i64) -> String {
    if is_column_name(v) {
        lagged(v.trim(), lag)
    } else {
        v.trim().to_string()
    }
}

/// The rows of `df` in the period named `name`.
pub(crate) fn sample_rows(study: &Study, df: &DataFrame, name: &str) -> Result<Vec<bool>, StudyError> {
    Ok(sample_mask(study, df, &[name.to_string()])?.unwrap_or_else(|| vec![true; df.height()]))
}

pub(crate) fn placeholder(v: &str, level: Level) -> String {
    match v {
        "unit" => level.unit_column().to_string(),
        "time" => "year".to_string(),
        other => other.to_string(),
    }
}

/// Replace `unit` and `time` in a vcov spec (`cluster:unit`, `dk:time`).
pub(crate) fn vcov_for(v: &str, level: Level) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in v.chars().chain(std::iter::once('\0')) {
        if c == ':' || c == ',' || c == '\0' {
            out.push_str(&placeholder(&word, level));
            word.clear();
            if c != '\0' {
                out.push(c);
            }
        } else {
            word.push(c);
        }
    }
    out
}

/// The specification of hypothesis `h` under check `c` (the main one when
/// `c` is the default), or `None` when the check does not apply to it.
pub fn specify(study: &Study, h: &Hypothesis, c: &Check) -> Option<Spec> {
    let main = c.name.is_empty();
    if !main {
        if h.kind == Kind::Mediation {
            return None;
        }
        if !c.applies_to.is_empty() && !c.applies_to.contains(&h.id) {
            return None;
        }
        if c.only_family.is_some_and(|f| f != h.family) {
            return None;
        }
        if c.only_level.as_ref().is_some_and(|l| !l.contains(h.level)) {
            return None;
        }
        let used: Vec<&String> = [&h.outcome, &h.cause].into_iter().chain(&h.controls).collect();
        if !c.replace.is_empty() && !c.replace.keys().any(|k| used.contains(&k)) {
            return None;
        }
        if c.btscs.is_some() && !h.peace_years {
            return None;
        }
        if c.period.is_some() && h.kind == Kind::Moderation {
            return None;
        }
    }
    let r = |v: &String| c.replace.get(v).cloned().unwrap_or_else(|| v.clone());
    let fe: Vec<String> =
        c.fixed_effects.as_ref().unwrap_or(&h.fixed_effects).iter().map(|f| placeholder(f, h.level)).collect();
    if h.level == Level::SystemYear && fe.iter().any(|f| f == "system") {
        return None;
    }
    let family = c.family.unwrap_or(h.family);
    let vcov = vcov_for(c.vcov.as_ref().unwrap_or(&h.vcov), h.level);
    let cause = lagged(&r(&h.cause), h.cause_lag.unwrap_or(h.lag));
    let mut terms = vec![cause.clone()];
    let mut term = cause.clone();
    let mut periods: Vec<String> = c.period.iter().chain(&h.period).take(1).cloned().collect();
    if h.kind == Kind::Moderation {
        if let Some([a, b]) = &h.compare {
            let ind = format!("in_{b}");
            term = format!("{cause}:{ind}");
            terms.push(term.clone());
            // Year effects absorb the period indicator (collinear by construction).
            if !fe.iter().any(|f| f == "year") {
                terms.push(ind);
            }
            periods = vec![a.clone(), b.clone()];
        }
    }
    terms.extend(h.controls.iter().map(|v| control_term(&r(v), h.lag)));
    terms.extend(c.add_controls.iter().map(|v| control_term(v, h.lag)));
    if h.peace_years {
        if let Some(t) = c.btscs.unwrap_or(study.btscs).terms() {
            terms.push(t.to_string());
        }
    }
    let mut formula = format!("{} ~ {}", r(&h.outcome), terms.join(" + "));
    if !fe.is_empty() {
        formula.push_str(&format!(" | {}", fe.join(" + ")));
    }
    Some(Spec {
        name: if main { "main".into() } else { c.name.clone() },
        label: if main { "main specification".into() } else { c.label.clone() },
        level: h.level,
        formula,
        family,
        vcov,
        term,
        periods,
        direction: None,
        subset: c.subset.clone(),
    })
}

/// Whether a robustness verdict agrees with the hypothesis's: equal, and
/// estimated (a specification that failed supports nothing).
///
/// ```
/// use concord::study::run::agrees;
/// use concord::study::Verdict;
/// assert!(agrees(Verdict::Supported, Verdict::Supported));
/// assert!(!agrees(Verdict::NotEstimable, Verdict::NotEstimable));
/// ```
pub fn agrees(check: Verdict, reported: Verdict) -> bool {
    check == reported && check != Verdict::NotEstimable
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Positive => "positive",
        Direction::Negative => "negative",
    }
}

/// A moderation's fits in each compared period alone (no interaction). Each
/// is judged against the period's own expected sign (`period_direction`),
/// else the hypothesis's direction; only a stated one is recorded in the
/// specification, so studies without it keep their output.
pub fn period_specs(study: &Study, h: &Hypothesis) -> Vec<Spec> {
    let (Kind::Moderation, Some(compare)) = (h.kind, &h.compare) else {
        return Vec::new();
    };
    let base = Hypothesis { kind: Kind::Effect, compare: None, ..h.clone() };
    compare
        .iter()
        .filter_map(|p| {
            let direction = h.period_direction.get(p).copied();
            let label = match direction {
                Some(d) => format!("{p} only (no interaction; expected {})", direction_name(d)),
                None => format!("{p} only (no interaction)"),
            };
            let c = Check { name: format!("period_{p}"), label, period: Some(p.clone()), ..Default::default() };
            specify(study, &base, &c).map(|s| Spec { direction, ..s })
        })
        .collect()
}

/// The robustness battery of `h`: every check that applies to it and
/// changes its main specification `main`.
pub fn robustness_specs(study: &Study, h: &Hypothesis, main: &Spec) -> Vec<Spec> {
    let same_as_main = |s: &Spec| {
        s.formula == main.formula
            && s.family == main.family
            && s.vcov == main.vcov
            && s.periods == main.periods
            && s.subset == main.subset
    };
    study.robustness.iter().filter_map(|c| specify(study, h, c)).filter(|s| !same_as_main(s)).collect()
}

/// The placebo of an effect or total hypothesis: its main specification
/// with the lead `f(cause, k)` added (`placebo_lead = k`).
pub fn placebo_spec(study: &Study, h: &Hypothesis) -> Option<Spec> {
    let (Some(k), Kind::Effect | Kind::Total) = (study.placebo_lead, h.kind) else {
        return None;
    };
    specify(study, h, &Check::default()).map(|mut s| {
        let lead = format!("f({},{k})", h.cause);
        s.formula = match s.formula.split_once(" | ") {
            Some((l, r)) => format!("{l} + {lead} | {r}"),
            None => format!("{} + {lead}", s.formula),
        };
        s.name = "placebo_lead".into();
        s.label = format!("placebo: lead {lead} added (a cause cannot act before it happens)");
        s.term = lead;
        s
    })
}

fn sample_mask(study: &Study, df: &DataFrame, periods: &[String]) -> Result<Option<Vec<bool>>, StudyError> {
    if periods.is_empty() {
        return Ok(None);
    }
    let years = int_column(df, "year").map_err(|e| StudyError::Output(e.to_string()))?;
    let ps = periods.iter().map(|p| study.period(p)).collect::<Result<Vec<_>, _>>()?;
    Ok(Some(years.iter().map(|y| ps.iter().any(|p| p.from <= *y && *y <= p.to)).collect()))
}

/// The rows of `df` a specification is estimated on: those of its periods
/// and its subset (all rows when it has neither).
pub(crate) fn spec_sample(study: &Study, df: &DataFrame, spec: &Spec) -> Result<Option<Vec<bool>>, String> {
    let periods = sample_mask(study, df, &spec.periods).map_err(|e| e.to_string())?;
    let keep = match &spec.subset {
        Some(cond) => Some(
            crate::formula::subset::Cond::parse(cond)
                .map_err(|e| format!("subset `{cond}`: {e}"))?
                .rows(df)
                .map_err(|e| format!("subset `{cond}`: {e}"))?,
        ),
        None => None,
    };
    Ok(match (periods, keep) {
        (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| *x && *y).collect()),
        (a, b) => a.or(b),
    })
}

pub(crate) fn panel_spec(level: Level) -> PanelSpec {
    PanelSpec { unit: vec![level.unit_column().into()], time: "year".into() }
}

/// Fit one specification; errors become a `NotEstimable` result.
pub fn estimate(study: &Study, df: &DataFrame, spec: Spec, direction: Direction) -> SpecResult {
    estimate_on(study, df, spec, direction, None)
}

/// [`estimate`] on the rows of `rows` only (and of the spec's periods).
fn estimate_on(study: &Study, df: &DataFrame, spec: Spec, direction: Direction, rows: Option<&[bool]>) -> SpecResult {
    let mut res = SpecResult {
        spec,
        nobs: None,
        estimate: None,
        std_error: None,
        conf_low: None,
        conf_high: None,
        p_one_sided: None,
        p_opposite: None,
        p_two_sided: None,
        verdict: Verdict::NotEstimable,
        error: None,
        fit_file: None,
        fit: None,
        events: None,
    };
    let attempt = || -> Result<(Fit, Option<Events>), String> {
        let vcov = res.spec.vcov.parse().map_err(|e: crate::inference::InferenceError| e.to_string())?;
        // The rows of the model's periods and subset (lags still read the
        // others), then those of `rows`.
        let and = |a: Option<Vec<bool>>, b: Option<&[bool]>| match (a, b) {
            (Some(a), Some(b)) => Some(a.iter().zip(b).map(|(x, y)| *x && *y).collect()),
            (a, None) => a,
            (None, Some(b)) => Some(b.to_vec()),
        };
        let panel_rows = spec_sample(study, df, &res.spec)?;
        let sample = and(panel_rows.clone(), rows);
        let opts = FitOptions {
            vcov,
            level: study.level,
            panel: Some(panel_spec(res.spec.level)),
            sample,
            ..Default::default()
        };
        let formula = Formula::parse(&res.spec.formula).map_err(|e| e.to_string())?;
        let design = design_for(df, &formula, &opts).map_err(|e| e.to_string())?;
        let ev = events(df, &design, panel_rows.as_deref());
        let (fit, _) = fit_design(design, &formula.to_string(), res.spec.family, &opts).map_err(|e| e.to_string())?;
        Ok((fit, ev))
    };
    match attempt() {
        Ok((fit, ev)) => {
            res.events = ev;
            res.nobs = Some(fit.nobs);
            match fit.coef(&res.spec.term) {
                Some(c) => {
                    res.estimate = Some(c.estimate);
                    res.std_error = Some(c.std_error);
                    res.conf_low = Some(c.conf_low);
                    res.conf_high = Some(c.conf_high);
                    res.p_one_sided = fit.one_sided_p(&res.spec.term, direction);
                    res.p_opposite = fit.one_sided_p(&res.spec.term, opposite(direction));
                    res.p_two_sided = res.p_one_sided.zip(res.p_opposite).map(|(a, b)| (2.0 * a.min(b)).min(1.0));
                    res.verdict = Verdict::from_p(res.p_one_sided, res.p_opposite, study.alpha);
                }
                None => {
                    res.error =
                        Some(format!("the term `{}` is not in the fitted model (dropped as collinear?)", res.spec.term))
                }
            }
            res.fit = Some(fit);
        }
        Err(e) => res.error = Some(e),
    }
    res
}

fn opposite(d: Direction) -> Direction {
    match d {
        Direction::Positive => Direction::Negative,
        Direction::Negative => Direction::Positive,
    }
}

/// The specification a mediation path borrows (the hypothesis named by
/// `path_a` / `path_b`, or the mediation hypothesis itself).
fn borrowed<'a>(study: &'a Study, h: &'a Hypothesis, id: &Option<String>) -> &'a Hypothesis {
    id.as_ref().and_then(|id| study.hypothesis(id)).unwrap_or(h)
}

/// The three models of a mediation hypothesis, built from the study file
/// alone (so `validate` checks them before any data is touched).
#[derive(Debug, Clone)]
pub struct MediationSpecs {
    /// Path a: the mediator (t-lag) on the cause (t-lag-1).
    pub a: Spec,
    /// Path b: the outcome on the mediator and the cause.
    pub b: Spec,
    /// The total effect: path b without the mediator.
    pub c: Spec,
    /// The lagged cause, mediator and their product as formula terms.
    pub cause: String,
    pub mediator: String,
    pub interaction: String,
    /// Family of the outcome model (path b).
    pub family: Family,
}

/// Mediation: X at t-(lag+1) -> M at t-lag -> Y at t. Path a in the
/// specification of `path_a`, path b and the total effect in that of
/// `path_b`. An error says why the design cannot be built.
pub fn mediation_specs(study: &Study, h: &Hypothesis) -> Result<MediationSpecs, String> {
    let mediator = h.mediator.clone().ok_or("no mediator")?;
    let (pa, pb) = (borrowed(study, h, &h.path_a), borrowed(study, h, &h.path_b));
    if h.path_a.is_some() && (pa.outcome != mediator || pa.cause != h.cause) {
        return Err(format!("path_a = {} models {} on {}, not {mediator} on {}", pa.id, pa.outcome, pa.cause, h.cause));
    }
    if h.path_b.is_some() && (pb.cause != mediator || pb.outcome != h.outcome) {
        return Err(format!(
            "path_b = {} models {} on {}, not {} on {mediator}",
            pb.id, pb.outcome, pb.cause, h.outcome
        ));
    }
    if h.path_a.is_some() && pa.family != Family::Gaussian {
        return Err(format!("path a must be linear (gaussian), {} is {}", pa.id, pa.family));
    }
    if !matches!(pb.family, Family::Logit | Family::Probit) {
        return Err(format!("the outcome model must be a logit or probit, {} is {}", pb.id, pb.family));
    }
    if h.level == Level::SystemYear {
        return Err("mediation needs units to resample (state-year or dyad-year)".into());
    }
    let ml = h.lag.max(1);
    let xl = h.cause_lag.unwrap_or(ml + 1);
    if xl <= ml {
        return Err(format!("the cause (lag {xl}) must come before the mediator (lag {ml})"));
    }
    let fe = |hh: &Hypothesis| -> Vec<String> { hh.fixed_effects.iter().map(|f| placeholder(f, h.level)).collect() };
    let fe_part = |f: &[String]| if f.is_empty() { String::new() } else { format!(" | {}", f.join(" + ")) };
    let (fe_a, fe_b) = (fe(pa), fe(pb));
    if fe_b.len() > 1 || fe_b.iter().any(|f| f == h.level.unit_column()) {
        return Err(format!(
            "the outcome model ({}) may absorb the time effect only: with unit effects in a logit the probabilities of units without events are not defined",
            pb.id
        ));
    }
    let cause = lagged(&h.cause, xl);
    let med = lagged(&mediator, ml);
    let keep = |c: &&String| **c != h.cause && **c != mediator;
    let controls_a: Vec<String> = pa.controls.iter().filter(keep).map(|v| control_term(v, ml + pa.lag)).collect();
    let controls_b: Vec<String> = pb.controls.iter().filter(keep).map(|v| control_term(v, pb.lag)).collect();
    let mut a_terms = vec![cause.clone()];
    a_terms.extend(controls_a);
    let inter = format!("{cause}:{med}");
    let mut b_terms = vec![med.clone(), cause.clone()];
    if h.interaction {
        b_terms.push(inter.clone());
    }
    let mut c_terms = vec![cause.clone()];
    let mut tail = controls_b;
    if pb.peace_years {
        if let Some(t) = study.btscs.terms() {
            tail.push(t.into());
        }
    }
    b_terms.extend(tail.iter().cloned());
    c_terms.extend(tail.iter().cloned());
    let base = Spec {
        name: String::new(),
        label: String::new(),
        level: h.level,
        formula: String::new(),
        family: pb.family,
        vcov: vcov_for(&pb.vcov, h.level),
        term: String::new(),
        periods: h.period.iter().cloned().collect(),
        direction: None,
        subset: None,
    };
    let a = Spec {
        name: "path_a".into(),
        label: format!("path a: {med} on {cause} ({} specification)", pa.id),
        formula: format!("{med} ~ {}{}", a_terms.join(" + "), fe_part(&fe_a)),
        family: Family::Gaussian,
        vcov: vcov_for(&pa.vcov, h.level),
        term: cause.clone(),
        ..base.clone()
    };
    let b = Spec {
        name: "path_b".into(),
        label: format!("path b: {} on {med}, given {cause} ({} specification)", h.outcome, pb.id),
        formula: format!("{} ~ {}{}", h.outcome, b_terms.join(" + "), fe_part(&fe_b)),
        term: med.clone(),
        ..base.clone()
    };
    let c = Spec {
        name: "total".into(),
        label: format!("total effect c: {} on {cause} ({} specification, no mediator)", h.outcome, pb.id),
        formula: format!("{} ~ {}{}", h.outcome, c_terms.join(" + "), fe_part(&fe_b)),
        term: cause.clone(),
        ..base
    };
    Ok(MediationSpecs { a, b, c, cause, mediator: med, interaction: inter, family: pb.family })
}

/// Mediation on the common rows of its three models ([`mediation_specs`]):
/// natural effects on the probability scale with a unit (state-year) or
/// vertex (dyad-year) bootstrap.
fn mediate(
    study: &Study,
    h: &Hypothesis,
    df: &DataFrame,
    seed: u64,
    replicates: usize,
) -> Result<MediationResult, StudyError> {
    let err = |m: String| StudyError::Hypothesis { hypothesis: h.id.clone(), message: m };
    let MediationSpecs { a: spec_a, b: spec_b, c: spec_c, cause, mediator: med, interaction: inter, family } =
        mediation_specs(study, h).map_err(err)?;
    // The common rows of the three models.
    let design = |s: &Spec, rows: Option<&[bool]>| -> Result<crate::formula::design::Design, StudyError> {
        let mut sample = sample_mask(study, df, &s.periods)?;
        if let Some(r) = rows {
            sample = Some(match sample {
                Some(p) => p.iter().zip(r).map(|(a, b)| *a && *b).collect(),
                None => r.to_vec(),
            });
        }
        let o = FitOptions { panel: Some(panel_spec(h.level)), sample, ..Default::default() };
        let f = Formula::parse(&s.formula).map_err(|e| err(e.to_string()))?;
        design_for(df, &f, &o).map_err(|e| err(format!("{}: {e}", s.name)))
    };
    // Fixed-effect singletons dropped on the common rows can leave new ones:
    // repeat until the rows stop changing.
    let mut common = vec![true; df.height()];
    for round in 0.. {
        let before = common.iter().filter(|c| **c).count();
        for s in [&spec_a, &spec_b, &spec_c] {
            let d = design(s, Some(&common))?;
            let mut mine = vec![false; df.height()];
            for &r in &d.rows {
                mine[r] = true;
            }
            for (c, m) in common.iter_mut().zip(mine) {
                *c &= m;
            }
        }
        if common.iter().filter(|c| **c).count() == before {
            break;
        }
        if round == 20 {
            return Err(err("the common rows of the two paths did not settle in 20 rounds".into()));
        }
    }
    let path_a = estimate_on(study, df, spec_a, Direction::Positive, Some(&common));
    let path_b = estimate_on(study, df, spec_b, h.direction, Some(&common));
    let total_effect = estimate_on(study, df, spec_c, h.direction, Some(&common));
    for p in [&path_a, &path_b, &total_effect] {
        if let Some(e) = &p.error {
            return Err(err(format!("{} could not be estimated: {e}", p.spec.name)));
        }
    }
    let coef = |p: &SpecResult, t: &str| p.fit.as_ref().and_then(|f| f.coef(t)).map_or(f64::NAN, |c| c.estimate);
    let (a, b) = (coef(&path_a, &cause), coef(&path_b, &med));
    let (direct_coefficient, total_coefficient) = (coef(&path_b, &cause), coef(&total_effect, &cause));
    // Designs for the g-computation: the reported models' columns.
    let mut da = design(&path_a.spec, Some(&common))?;
    let mut db = design(&path_b.spec, Some(&common))?;
    for (d, p) in [(&mut da, &path_a), (&mut db, &path_b)] {
        let kept: Vec<&str> = p.fit.iter().flat_map(|f| f.coefficients.iter().map(|c| c.term.as_str())).collect();
        let drop: Vec<usize> = (0..d.names.len()).filter(|&j| !kept.contains(&d.names[j].as_str())).collect();
        d.drop_columns(&drop);
    }
    let col = |d: &crate::formula::design::Design, t: &str| {
        d.names.iter().position(|n| n == t).ok_or_else(|| err(format!("`{t}` was dropped from the model (collinear?)")))
    };
    let (ja, jm, jx) = (col(&da, &cause)?, col(&db, &med)?, col(&db, &cause)?);
    let jxm = if h.interaction { Some(col(&db, &inter)?) } else { None };
    let probit_design = if h.interaction {
        let spec = Spec { formula: path_b.spec.formula.replace(&format!(" + {inter}"), ""), ..path_b.spec.clone() };
        let mut d = design(&spec, Some(&common))?;
        let kept: Vec<&str> = db.names.iter().map(|s| s.as_str()).collect();
        let drop: Vec<usize> = (0..d.names.len()).filter(|&j| !kept.contains(&d.names[j].as_str())).collect();
        d.drop_columns(&drop);
        d
    } else {
        db.clone()
    };
    // Resampled units: states (their two states for dyads).
    let ids = |c: &str| int_column(df, c).map_err(|e| err(e.to_string()));
    let cols: Vec<Vec<i64>> = match h.level {
        l if l.is_dyadic() => vec![ids("ccode1")?, ids("ccode2")?],
        _ => vec![ids(h.level.unit_column())?],
    };
    let mut index: BTreeMap<i64, u32> = BTreeMap::new();
    for c in &cols {
        for &r in &db.rows {
            let k = index.len() as u32;
            index.entry(c[r]).or_insert(k);
        }
    }
    let vertices: Vec<Vec<u32>> = db.rows.iter().map(|&r| cols.iter().map(|c| index[&c[r]]).collect()).collect();
    let shift = match h.shift {
        Some(s) => s,
        None => {
            let x = db.x.column(jx);
            let m = x.mean();
            (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len().max(2) - 1) as f64).sqrt()
        }
    };
    let data = MediationData { a: &da, ja, b: &db, family, jm, jx, jxm, vertices, n_vertices: index.len(), shift };
    let g = gcomp_bootstrap(
        &data,
        Some(&probit_design),
        replicates,
        seed,
        study.level,
        study.bootstrap.method,
        study.bootstrap.extra_steps,
    )
    .map_err(err)?;
    // The reduced form's average change in the probability for the same shift.
    let mut dc = design(&total_effect.spec, Some(&common))?;
    let kept: Vec<&str> =
        total_effect.fit.iter().flat_map(|f| f.coefficients.iter().map(|c| c.term.as_str())).collect();
    let drop: Vec<usize> = (0..dc.names.len()).filter(|&j| !kept.contains(&dc.names[j].as_str())).collect();
    dc.drop_columns(&drop);
    let jc = col(&dc, &cause)?;
    let ones = vec![1.0; dc.y.len()];
    let rf = super::mediation::weighted_glm(&dc, family, &ones, None).map_err(|e| err(format!("total effect: {e}")))?;
    let total_reduced_form = super::mediation::average_shift_effect(&dc, family, &rf, jc, shift);
    let e = g.effects;
    let same = e.acme.signum() == e.ade.signum() && e.ade.signum() == e.total.signum() && e.total != 0.0;
    let acme = g.acme;
    let bootstrap = Bootstrap {
        replicates: g.replicates,
        failed: g.failed,
        first_failure: g.first_failure.clone(),
        conf_low: acme.conf_low,
        conf_high: acme.conf_high,
        std_error: acme.std_error,
        p_share: match h.direction {
            Direction::Positive => acme.p_not_positive,
            Direction::Negative => acme.p_not_negative,
        },
        p_share_opposite: match h.direction {
            Direction::Positive => acme.p_not_negative,
            Direction::Negative => acme.p_not_positive,
        },
        draws: Vec::new(),
    };
    Ok(MediationResult {
        path_a,
        path_b,
        total_effect,
        a,
        b,
        direct_coefficient,
        total_coefficient,
        indirect: e.acme,
        direct: e.ade,
        total: e.total,
        total_reduced_form,
        proportion_mediated: same.then(|| e.acme / e.total),
        bootstrap,
        gcomp: g,
        assumptions: MEDIATION_ASSUMPTIONS.into(),
    })
}

/// Fit one hypothesis: its main specification (or mediation), the periods
/// of a moderation, its robustness battery and its placebo, in parallel.
fn fit_hypothesis(
    study: &Study,
    h: &Hypothesis,
    frames: &BTreeMap<Level, DataFrame>,
    seed: u64,
    replicates: usize,
) -> Result<HypothesisResult, StudyError> {
    let df = frames
        .get(&h.level)
        .ok_or_else(|| StudyError::Hypothesis { hypothesis: h.id.clone(), message: format!("no {} panel", h.level) })?;
    let mediation = if h.kind == Kind::Mediation { Some(mediate(study, h, df, seed, replicates)?) } else { None };
    let main_spec = match &mediation {
        Some(m) => Spec {
            name: "main".into(),
            label: format!(
                "average natural indirect effect (ACME) of {} -> +{:.4} on Pr({}), {} bootstrap",
                m.path_a.spec.term, m.gcomp.shift, h.outcome, m.gcomp.scheme
            ),
            formula: format!("{} | {}", m.path_a.spec.formula, m.path_b.spec.formula),
            term: format!("ACME({} -> {} -> {})", m.path_a.spec.term, m.path_b.spec.term, h.outcome),
            ..m.path_b.spec.clone()
        },
        None => specify(study, h, &Check::default()).ok_or_else(|| StudyError::Hypothesis {
            hypothesis: h.id.clone(),
            message: "the main specification is not defined".into(),
        })?,
    };
    // Every specification to fit: the main one (unless a mediation), the
    // periods, the battery, the placebo; each with its direction.
    let mut jobs: Vec<(Spec, Direction)> = Vec::new();
    if mediation.is_none() {
        jobs.push((main_spec.clone(), h.direction));
    }
    jobs.extend(period_specs(study, h).into_iter().map(|s| {
        let d = s.direction.unwrap_or(h.direction);
        (s, d)
    }));
    jobs.extend(robustness_specs(study, h, &main_spec).into_iter().map(|s| (s, h.direction)));
    let placebo_job = placebo_spec(study, h);
    let n_placebo = usize::from(placebo_job.is_some());
    jobs.extend(placebo_job.map(|s| (s, h.direction)));
    let mut fits: Vec<SpecResult> = jobs.into_par_iter().map(|(s, d)| estimate(study, df, s, d)).collect();
    let placebo = if n_placebo == 1 { fits.pop() } else { None };
    let main = match &mediation {
        Some(m) => {
            let b = &m.bootstrap;
            // Percentile p-values: the share of replicates on the wrong side
            // of zero (with B >= 2,000 its floor 1 / (B + 1) clears a
            // family-wise threshold).
            SpecResult {
                spec: main_spec,
                nobs: m.path_b.nobs,
                estimate: Some(m.indirect),
                std_error: Some(b.std_error),
                conf_low: Some(b.conf_low),
                conf_high: Some(b.conf_high),
                p_one_sided: Some(b.p_share),
                p_opposite: Some(b.p_share_opposite),
                p_two_sided: Some(m.gcomp.acme.p_two_sided()),
                verdict: Verdict::from_p(Some(b.p_share), Some(b.p_share_opposite), study.alpha),
                error: None,
                fit_file: None,
                fit: None,
                events: m.path_b.events.clone(),
            }
        }
        None => fits.remove(0),
    };
    Ok(HypothesisResult {
        id: h.id.clone(),
        claim: h.claim.clone(),
        kind: h.kind,
        level: h.level,
        direction: h.direction,
        main,
        mediation,
        p_holm: None,
        p_bh: None,
        verdict: Verdict::NotEstimable,
        robustness: fits,
        robustness_agreeing: 0,
        placebo,
    })
}

/// The line a verbose run prints for a fitted hypothesis (unadjusted), and
/// why any of its specifications could not be estimated.
fn print_hypothesis(r: &HypothesisResult, secs: f64) {
    let agree = r.robustness.iter().filter(|c| agrees(c.verdict, r.main.verdict)).count();
    let checks = match r.robustness.len() {
        0 => "no robustness checks".to_string(),
        n => format!("{agree}/{n} robustness checks agree with it"),
    };
    println!(
        "  {:<6} {:<18} estimate {:>10} p = {:<9} ({} unadjusted); {checks} ({secs:.1} s, beside the other fits)",
        r.id,
        r.level.to_string(),
        r.main.estimate.map_or("-".into(), |v| format!("{v:.4}")),
        r.main.p_one_sided.map_or("-".into(), |v| format!("{v:.2e}")),
        r.main.verdict.label(),
    );
    for c in std::iter::once(&r.main).chain(&r.robustness) {
        if let Some(e) = &c.error {
            println!("         {}: not estimable: {e}", c.spec.label);
        }
    }
}

/// Run a study: every hypothesis's main specification, its robustness
/// battery, mediation bootstraps, adjusted p-values and verdicts.
pub fn run(study: &Study, opts: &RunOptions) -> Result<StudyResult, StudyError> {
    let t0 = Instant::now();
    let seed = opts.seed.unwrap_or(study.seed);
    let replicates = opts.replicates.unwrap_or(study.bootstrap.replicates);
    let panels = load_panels(study, opts)?;
    super::validate::validate(study, &panels)?;
    let validity = super::validity::compute(study, &panels.frames)?;
    let mut timings = BTreeMap::new();
    timings.insert("panels_s".to_string(), t0.elapsed().as_secs_f64());
    let t1 = Instant::now();
    // Hypotheses, and the specifications of each, are fitted in parallel
    // (results keep the study's order; each fit is deterministic, and the
    // bootstrap draws its replicates from seeds fixed by their index).
    let bar = if opts.progress { ProgressBar::new(study.hypotheses.len() as u64) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("  fits {bar:30} {pos}/{len} hypotheses ({elapsed})") {
        bar.set_style(style);
    }
    // The period contrasts are fitted beside them.
    let (fitted, contrast): (Vec<Result<(HypothesisResult, f64), StudyError>>, _) = rayon::join(
        || {
            study
                .hypotheses
                .par_iter()
                .enumerate()
                .map(|(k, h)| {
                    let th = Instant::now();
                    let r = fit_hypothesis(study, h, &panels.frames, seed.wrapping_add(k as u64), replicates);
                    bar.inc(1);
                    r.map(|r| (r, th.elapsed().as_secs_f64()))
                })
                .collect()
        },
        || super::contrast::compute(study, &panels.frames),
    );
    bar.finish_and_clear();
    let mut results = Vec::with_capacity(fitted.len());
    for r in fitted {
        let (r, secs) = r?;
        if opts.verbose {
            print_hypothesis(&r, secs);
        }
        results.push(r);
    }
    timings.insert("fits_s".to_string(), t1.elapsed().as_secs_f64());
    adjust(study, &mut results);
    let t2 = Instant::now();
    let mut out_of_sample = Vec::new();
    for o in &study.out_of_sample {
        let df = panels.frames.get(&o.level).ok_or_else(|| StudyError::Output(format!("no {} panel", o.level)))?;
        out_of_sample.push(super::oos::run_one(study, o, df)?);
    }
    timings.insert("out_of_sample_s".to_string(), t2.elapsed().as_secs_f64());
    let t3 = Instant::now();
    let event_studies = super::event_study::run_all(study, &panels.frames, opts.verbose)?;
    timings.insert("event_study_s".to_string(), t3.elapsed().as_secs_f64());
    let t4 = Instant::now();
    let sensitivity = super::sensitivity::compute(study, &panels.frames, &results);
    timings.insert("sensitivity_s".to_string(), t4.elapsed().as_secs_f64());
    let panel_rows = panels.frames.iter().map(|(l, df)| (l.to_string(), df.height())).collect();
    Ok(StudyResult {
        study: study.name.clone(),
        title: study.title.clone(),
        alpha: study.alpha,
        level: study.level,
        correction: study.correction,
        seed,
        data: panels.source,
        years: (study.data.from, study.data.to),
        hypotheses: results,
        out_of_sample,
        inputs: panels.inputs,
        timings,
        panel_rows,
        frames: panels.frames,
        validity,
        event_studies,
        sensitivity,
        contrast,
    })
}

/// Adjusted p-values across the hypothesis family and the verdicts they imply:
/// supported when the adjusted one-sided p in the stated direction is below
/// alpha, contradicted when the adjusted one-sided p in the opposite
/// direction is (adjusted across the family in the same way).
pub fn adjust(study: &Study, results: &mut [HypothesisResult]) {
    let est: Vec<usize> = (0..results.len()).filter(|&i| results[i].main.p_one_sided.is_some()).collect();
    let p: Vec<f64> = est.iter().map(|&i| results[i].main.p_one_sided.unwrap_or(1.0)).collect();
    let q: Vec<f64> = est.iter().map(|&i| results[i].main.p_opposite.unwrap_or(1.0)).collect();
    let (ph, pb) = (Correction::Holm.adjust(&p), Correction::Bh.adjust(&p));
    let verdicts = Verdict::over_family(study.correction, study.alpha, &p, &q);
    for (j, &i) in est.iter().enumerate() {
        let r = &mut results[i];
        r.p_holm = Some(ph[j]);
        r.p_bh = Some(pb[j]);
        r.verdict = verdicts[j].1;
    }
    for r in results.iter_mut() {
        r.robustness_agreeing = r.robustness.iter().filter(|s| agrees(s.verdict, r.verdict)).count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study() -> Study {
        Study::from_toml(
            r#"
name = "t"
title = "t"
[data]
from = 1950
to = 2000
[[periods]]
name = "early"
from = 1950
to = 1975
[[periods]]
name = "late"
from = 1976
to = 2000
[[hypotheses]]
id = "H"
claim = "c"
level = "dyad-year"
outcome = "mid_onset"
cause = "dyadigos"
controls = ["land_contiguity"]
direction = "negative"
family = "logit"
fixed_effects = ["unit", "time"]
vcov = "cluster:unit"
peace_years = true
[[hypotheses]]
id = "M"
kind = "moderation"
claim = "c"
level = "state-year"
outcome = "mid_onset"
cause = "igo_full"
direction = "negative"
family = "logit"
compare = ["early", "late"]
[[robustness]]
name = "gml"
label = "GML MIDs"
replace = { mid_onset = "gml_mid_onset" }
[[robustness]]
name = "lpm"
label = "linear probability"
family = "gaussian"
only_family = "gaussian"
"#,
        )
        .unwrap()
    }

    #[test]
    fn specifications_resolve_placeholders_lags_and_checks() {
        let s = study();
        let main = specify(&s, &s.hypotheses[0], &Check::default()).unwrap();
        assert_eq!(
            main.formula,
            "mid_onset ~ l(dyadigos,1) + l(land_contiguity,1) + poly(peace_years, 3) | dyad + year"
        );
        assert_eq!((main.vcov.as_str(), main.term.as_str()), ("cluster:dyad", "l(dyadigos,1)"));
        let gml = specify(&s, &s.hypotheses[0], &s.robustness[0]).unwrap();
        assert!(gml.formula.starts_with("gml_mid_onset ~"), "{}", gml.formula);
        assert!(specify(&s, &s.hypotheses[0], &s.robustness[1]).is_none(), "only_family filters");
        let m = specify(&s, &s.hypotheses[1], &Check::default()).unwrap();
        assert_eq!(m.formula, "mid_onset ~ l(igo_full,1) + l(igo_full,1):in_late + in_late");
        assert_eq!(m.term, "l(igo_full,1):in_late");
        assert_eq!(m.periods, ["early", "late"]);
        assert_eq!(vcov_for("dk:time", Level::StateYear), "dk:year");
    }

    #[test]
    fn controls_that_are_terms_are_used_as_written() {
        let mut s = study();
        s.hypotheses[0].controls = vec!["land_contiguity".into(), "poly(mindist, 2)".into(), "i(conttype)".into()];
        let main = specify(&s, &s.hypotheses[0], &Check::default()).unwrap();
        assert_eq!(
            main.formula,
            "mid_onset ~ l(dyadigos,1) + l(land_contiguity,1) + poly(mindist, 2) + i(conttype) + poly(peace_years, 3) | dyad + year"
        );
        // Mediation paths and out-of-sample models follow the same rule.
        let mut m = s.hypotheses[0].clone();
        m.id = "med".into();
        m.kind = Kind::Mediation;
        m.mediator = Some("unga_affinity".into());
        m.fixed_effects = vec!["time".into()];
        let specs = mediation_specs(&s, &m).unwrap();
        assert!(
            specs.a.formula.contains("l(land_contiguity,2) + poly(mindist, 2) + i(conttype)"),
            "{}",
            specs.a.formula
        );
        assert!(specs.b.formula.contains("l(land_contiguity,1) + poly(mindist, 2)"), "{}", specs.b.formula);
        let o: crate::study::oos::OosSpec = toml::from_str(
            "name = \"o\"\nlevel = \"dyad-year\"\noutcome = \"mid_onset\"\ntrain = \"early\"\ntest = \"late\"\nbase = [\"cinc_ratio\", \"log(mindist)\"]\nchain = [\"dyadigos\"]",
        )
        .unwrap();
        let (base, chain) = crate::study::oos::formulas(&s, &o);
        assert_eq!(base, "mid_onset ~ l(cinc_ratio,1) + log(mindist)");
        assert_eq!(chain, "mid_onset ~ l(dyadigos,1) + l(cinc_ratio,1) + log(mindist)");
        assert!(is_column_name("`odd name`") && !is_column_name("l(x, 0)") && !is_column_name("a:b"));
    }

    #[test]
    fn checks_add_controls_and_keep_a_subset_of_rows() {
        let s = study();
        let c = Check {
            name: "prd".into(),
            label: "PRD".into(),
            add_controls: vec!["trade_share_low".into()],
            subset: Some("relevant == 1".into()),
            ..Default::default()
        };
        let spec = specify(&s, &s.hypotheses[0], &c).unwrap();
        assert!(
            spec.formula.contains("l(land_contiguity,1) + l(trade_share_low,1) + poly(peace_years, 3)"),
            "{}",
            spec.formula
        );
        assert_eq!(spec.subset.as_deref(), Some("relevant == 1"));
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains("\"subset\":\"relevant == 1\""), "{json}");
        let main = specify(&s, &s.hypotheses[0], &Check::default()).unwrap();
        assert!(!serde_json::to_string(&main).unwrap().contains("subset"), "absent unless stated");
        // The subset's rows are the sample: 6 dyad-years, 4 relevant.
        let df = df!(
            "mid_onset" => [0.0, 1.0, 0.0, 1.0, 0.0, 0.0],
            "x" => [Some(1.0), Some(2.0), Some(3.0), None, Some(5.0), Some(6.0)],
            "relevant" => [1i64, 1, 1, 1, 0, 0],
            "year" => [1990i64, 1991, 1992, 1993, 1990, 1991],
            "dyad" => [1i64, 1, 1, 1, 2, 2]
        )
        .unwrap();
        let lin = Spec {
            formula: "mid_onset ~ x".into(),
            family: Family::Gaussian,
            vcov: "iid".into(),
            term: "x".into(),
            ..spec
        };
        let r = estimate(&s, &df, lin, Direction::Negative);
        assert_eq!(r.nobs, Some(3), "{:?}", r.error);
        // Two onsets in the relevant rows; the one with x missing is lost.
        let e = r.events.clone().unwrap();
        assert_eq!((e.in_sample, e.in_panel, e.lost(), e.outcome.as_str()), (1, 2, 1, "mid_onset"));
        let bad = Spec { subset: Some("relevnt == 1".into()), ..r.spec.clone() };
        let r = estimate(&s, &df, bad, Direction::Negative);
        assert!(r.error.as_deref().is_some_and(|e| e.contains("relevnt")), "{:?}", r.error);
    }

    #[test]
    fn period_fits_take_the_periods_own_direction_when_stated() {
        let mut s = study();
        let plain: Vec<Spec> = period_specs(&s, &s.hypotheses[1]);
        assert_eq!(plain.len(), 2);
        assert!(plain.iter().all(|p| p.direction.is_none()));
        let json = serde_json::to_string(&plain[0]).unwrap();
        assert!(!json.contains("direction"), "absent unless stated: {json}");
        assert_eq!(plain[0].label, "early only (no interaction)");
        s.hypotheses[1].period_direction.insert("early".into(), Direction::Positive);
        let stated = period_specs(&s, &s.hypotheses[1]);
        assert_eq!(stated[0].direction, Some(Direction::Positive));
        assert_eq!(stated[0].label, "early only (no interaction; expected positive)");
        assert_eq!((stated[1].direction, stated[1].label.as_str()), (None, "late only (no interaction)"));
        assert_eq!(stated[0].formula, plain[0].formula);
        assert!(serde_json::to_string(&stated[0]).unwrap().contains("\"direction\":\"positive\""));
    }

    #[test]
    fn a_specification_that_failed_agrees_with_nothing() {
        let s = study();
        let df = df!("mid_onset" => [0.0, 1.0, 0.0], "year" => [1990i64, 1991, 1992], "dyad" => [1i64, 1, 1]).unwrap();
        let spec = specify(&s, &s.hypotheses[0], &Check::default()).unwrap();
        let failed = estimate(&s, &df, spec, Direction::Negative);
        assert_eq!(failed.verdict, Verdict::NotEstimable);
        let mut r = vec![HypothesisResult {
            id: "H".into(),
            claim: "c".into(),
            kind: Kind::Effect,
            level: Level::DyadYear,
            direction: Direction::Negative,
            main: failed.clone(),
            mediation: None,
            p_holm: None,
            p_bh: None,
            verdict: Verdict::NotEstimable,
            robustness: vec![failed.clone(), failed],
            robustness_agreeing: 0,
            placebo: None,
        }];
        adjust(&s, &mut r);
        assert_eq!((r[0].verdict, r[0].robustness_agreeing), (Verdict::NotEstimable, 0));
    }

    #[test]
    fn directed_dyad_years_are_a_level_of_their_own() {
        let text = r#"
name = "t"
title = "t"
[data]
from = 1950
to = 1960
[[hypotheses]]
id = "D"
claim = "c"
level = "directed-dyad-year"
outcome = "mid_onset"
cause = "dyadigos"
direction = "negative"
family = "logit"
vcov = "cluster:unit"
[[hypotheses]]
id = "N"
claim = "c"
level = "dyad-year"
outcome = "mid_onset"
cause = "dyadigos"
direction = "negative"
family = "logit"
[[robustness]]
name = "both"
label = "dyads of either kind"
only_level = ["dyad-year", "directed-dyad-year"]
[[robustness]]
name = "nd"
label = "non-directed dyads only"
only_level = "dyad-year"
"#;
        let s = Study::from_toml(text).unwrap();
        assert_eq!(s.levels(), [Level::DyadYear, Level::DirectedDyadYear]);
        let (d, n) = (&s.hypotheses[0], &s.hypotheses[1]);
        assert_eq!(d.level.to_string(), "directed-dyad-year");
        let sim = simulate::SimParams { n_dyad_states: 8, ..Default::default() };
        let p = load_panels(&s, &RunOptions { simulate: Some(sim), ..Default::default() }).unwrap();
        let (nd, dd) = (&p.frames[&Level::DyadYear], &p.frames[&Level::DirectedDyadYear]);
        assert_eq!(dd.height(), 2 * nd.height());
        // Units are the directed dyads; the vertex bootstrap resamples states.
        assert_eq!(specify(&s, d, &Check::default()).unwrap().vcov, "cluster:dyad");
        assert!(d.level.is_dyadic() && !Level::StateYear.is_dyadic());
        // `only_level` takes one level or a list.
        assert!(specify(&s, d, &s.robustness[0]).is_some() && specify(&s, n, &s.robustness[0]).is_some());
        assert!(specify(&s, d, &s.robustness[1]).is_none() && specify(&s, n, &s.robustness[1]).is_some());
        let bad = text.replace(r#"only_level = "dyad-year""#, r#"only_level = ["dyad-year", "dyad"]"#);
        let e = Study::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("unknown variant `dyad`") && e.contains("directed-dyad-year"), "{e}");
    }
}
