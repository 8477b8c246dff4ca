//! Running a study: panels, specifications, fits, bootstrap, verdicts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use polars::prelude::*;
use serde::Serialize;

use super::mediation::{bootstrap_product, Bootstrap, Path as MedPath};
use super::spec::{Check, Correction, Hypothesis, Kind, Level, Study};
use super::StudyError;
use crate::data::simulate;
use crate::estimate::{design_for, fit_design, Family, Fit, FitOptions};
use crate::formula::design::PanelSpec;
use crate::formula::Formula;
use crate::inference::hypothesis::Direction;
use crate::inference::multiple::{benjamini_hochberg, holm};
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
    /// Draw a progress bar for the bootstrap.
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
    /// Verdict at alpha without multiple-testing adjustment.
    pub verdict: Verdict,
    pub error: Option<String>,
    /// The fitted model's tidy JSON, relative to the output dir.
    pub fit_file: Option<String>,
    #[serde(skip)]
    pub fit: Option<Fit>,
}

/// Mediation estimates: paths, indirect effect and its bootstrap.
#[derive(Debug, Clone, Serialize)]
pub struct MediationResult {
    pub path_a: SpecResult,
    pub path_b: SpecResult,
    pub a: f64,
    pub b: f64,
    pub indirect: f64,
    /// Coefficient of the cause in path b (the direct effect).
    pub direct: f64,
    /// indirect / (indirect + direct).
    pub proportion_mediated: f64,
    pub bootstrap: Bootstrap,
}

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
    #[serde(skip)]
    pub inputs: Vec<(String, String)>,
    #[serde(skip)]
    pub timings: BTreeMap<String, f64>,
    #[serde(skip)]
    pub panel_rows: BTreeMap<String, usize>,
    /// The panels the study ran on (with its helper columns), for the report.
    #[serde(skip)]
    pub frames: BTreeMap<Level, DataFrame>,
}

/// The panels a study runs on, with the helper columns it adds
/// (`system` for the system level, `in_<period>` indicators).
pub struct Panels {
    pub frames: BTreeMap<Level, DataFrame>,
    pub inputs: Vec<(String, String)>,
    pub source: String,
}

/// Build (or simulate) the panels the study's hypotheses use.
pub fn load_panels(study: &Study, opts: &RunOptions) -> Result<Panels, StudyError> {
    let (from, to) = (study.data.from, study.data.to);
    let sim = opts.simulate.clone().or_else(|| study.data.simulate.clone());
    let mut frames = BTreeMap::new();
    let mut inputs = Vec::new();
    let source;
    if let Some(mut p) = sim {
        p.from = from;
        p.to = to;
        source = format!("simulated (seed {})", p.seed);
        let states = simulate::state_year(&p)?;
        for level in study.levels() {
            let df = match level {
                Level::StateYear => states.clone(),
                Level::DyadYear => simulate::dyad_year(&p)?,
                Level::SystemYear => simulate::system_year(&p, &states)?,
            };
            frames.insert(level, df);
        }
        inputs.push(("simulator parameters".into(), toml::to_string(&p).unwrap_or_default()));
    } else {
        let dir = study.data.data_dir.clone().unwrap_or_else(|| opts.data_dir.clone());
        source = format!("real datasets in {}", dir.display());
        let mut files: Vec<&str> = Vec::new();
        for level in study.levels() {
            let (df, _) = crate::data::build(level.unit(), &dir, from, to)?;
            frames.insert(level, df);
            files.extend(level.unit().needed_files());
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
    }
    Ok(Panels { frames, inputs, source })
}

fn lagged(v: &str, lag: i64) -> String {
    if lag == 0 {
        v.to_string()
    } else {
        format!("l({v},{lag})")
    }
}

fn placeholder(v: &str, level: Level) -> String {
    match v {
        "unit" => level.unit_column().to_string(),
        "time" => "year".to_string(),
        other => other.to_string(),
    }
}

/// Replace `unit` and `time` in a vcov spec (`cluster:unit`, `dk:time`).
fn vcov_for(v: &str, level: Level) -> String {
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
    let cause = lagged(&r(&h.cause), h.lag);
    let mut terms = vec![cause.clone()];
    let mut term = cause.clone();
    let mut periods: Vec<String> = c.period.iter().chain(&h.period).take(1).cloned().collect();
    if h.kind == Kind::Moderation {
        if let Some([a, b]) = &h.compare {
            let ind = format!("in_{b}");
            term = format!("{cause}:{ind}");
            terms.push(term.clone());
            terms.push(ind);
            periods = vec![a.clone(), b.clone()];
        }
    }
    terms.extend(h.controls.iter().map(|v| lagged(&r(v), h.lag)));
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

fn panel_spec(level: Level) -> PanelSpec {
    PanelSpec { unit: vec![level.unit_column().into()], time: "year".into() }
}

/// Fit one specification; errors become a `NotEstimable` result.
pub fn estimate(study: &Study, df: &DataFrame, spec: Spec, direction: Direction) -> SpecResult {
    let mut res = SpecResult {
        spec,
        nobs: None,
        estimate: None,
        std_error: None,
        conf_low: None,
        conf_high: None,
        p_one_sided: None,
        p_opposite: None,
        verdict: Verdict::NotEstimable,
        error: None,
        fit_file: None,
        fit: None,
    };
    let attempt = || -> Result<Fit, String> {
        let vcov = res.spec.vcov.parse().map_err(|e: crate::inference::InferenceError| e.to_string())?;
        let sample = sample_mask(study, df, &res.spec.periods).map_err(|e| e.to_string())?;
        let opts = FitOptions {
            vcov,
            level: study.level,
            panel: Some(panel_spec(res.spec.level)),
            sample,
            ..Default::default()
        };
        let formula = Formula::parse(&res.spec.formula).map_err(|e| e.to_string())?;
        let design = design_for(df, &formula, &opts).map_err(|e| e.to_string())?;
        let (fit, _) = fit_design(design, &formula.to_string(), res.spec.family, &opts).map_err(|e| e.to_string())?;
        Ok(fit)
    };
    match attempt() {
        Ok(fit) => {
            res.nobs = Some(fit.nobs);
            match fit.coef(&res.spec.term) {
                Some(c) => {
                    res.estimate = Some(c.estimate);
                    res.std_error = Some(c.std_error);
                    res.conf_low = Some(c.conf_low);
                    res.conf_high = Some(c.conf_high);
                    res.p_one_sided = fit.one_sided_p(&res.spec.term, direction);
                    res.p_opposite = fit.one_sided_p(&res.spec.term, opposite(direction));
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

/// Mediation: path a, path b, cluster bootstrap of a x b.
fn mediate(
    study: &Study,
    h: &Hypothesis,
    df: &DataFrame,
    opts: &RunOptions,
    seed: u64,
    replicates: usize,
) -> Result<MediationResult, StudyError> {
    let err = |m: String| StudyError::Hypothesis { hypothesis: h.id.clone(), message: m };
    let mediator = h.mediator.clone().ok_or_else(|| err("no mediator".into()))?;
    let base = specify(study, h, &Check::default()).ok_or_else(|| err("no main specification".into()))?;
    let fe: Vec<String> = h.fixed_effects.iter().map(|f| placeholder(f, h.level)).collect();
    let fe_part = if fe.is_empty() { String::new() } else { format!(" | {}", fe.join(" + ")) };
    let cause = lagged(&h.cause, h.lag);
    let med = lagged(&mediator, h.lag);
    let controls: Vec<String> = h.controls.iter().map(|v| lagged(v, h.lag)).collect();
    let mut a_terms = vec![cause.clone()];
    a_terms.extend(controls.iter().cloned());
    let mut b_terms = vec![med.clone(), cause.clone()];
    b_terms.extend(controls.iter().cloned());
    if h.peace_years {
        if let Some(t) = study.btscs.terms() {
            b_terms.push(t.into());
        }
    }
    let spec_a = Spec {
        name: "path_a".into(),
        label: format!("path a: {mediator} on the cause"),
        formula: format!("{mediator} ~ {}{fe_part}", a_terms.join(" + ")),
        family: h.mediator_family.unwrap_or(Family::Gaussian),
        term: cause.clone(),
        ..base.clone()
    };
    let spec_b = Spec {
        name: "path_b".into(),
        label: format!("path b: {} on {mediator}, given the cause", h.outcome),
        formula: format!("{} ~ {}{fe_part}", h.outcome, b_terms.join(" + ")),
        term: med.clone(),
        ..base.clone()
    };
    let a_dir = Direction::Positive;
    let path_a = estimate(study, df, spec_a, a_dir);
    let path_b = estimate(study, df, spec_b, h.direction);
    let (Some(_), Some(fb)) = (&path_a.fit, &path_b.fit) else {
        return Err(err(format!(
            "a mediation path could not be estimated: {}",
            path_a.error.clone().or(path_b.error.clone()).unwrap_or_default()
        )));
    };
    let (Some(a), Some(b)) = (path_a.estimate, path_b.estimate) else {
        return Err(err("a mediation coefficient is missing".into()));
    };
    let direct = fb.coef(&cause).map(|c| c.estimate).unwrap_or(f64::NAN);
    // Designs for the bootstrap (iid: only the estimates are needed).
    let design = |s: &Spec| -> Result<crate::formula::design::Design, StudyError> {
        let sample = sample_mask(study, df, &s.periods)?;
        let o = FitOptions { panel: Some(panel_spec(h.level)), sample, ..Default::default() };
        let f = Formula::parse(&s.formula).map_err(|e| err(e.to_string()))?;
        design_for(df, &f, &o).map_err(|e| err(e.to_string()))
    };
    let (da, db) = (design(&path_a.spec)?, design(&path_b.spec)?);
    let unit_col = int_column(df, h.level.unit_column()).map_err(|e| err(e.to_string()))?;
    let units_of =
        |d: &crate::formula::design::Design| -> Vec<u64> { d.rows.iter().map(|&r| unit_col[r] as u64).collect() };
    let paths = [
        MedPath {
            design: &da,
            family: path_a.spec.family,
            term: &cause,
            unit_of_row: units_of(&da),
            unit_column: h.level.unit_column(),
        },
        MedPath {
            design: &db,
            family: path_b.spec.family,
            term: &med,
            unit_of_row: units_of(&db),
            unit_column: h.level.unit_column(),
        },
    ];
    let boot = bootstrap_product(&paths, replicates, seed, study.level, h.direction, opts.progress);
    if boot.failed * 2 > replicates {
        return Err(err(format!(
            "{} of {replicates} bootstrap replicates failed to fit; the first: {}",
            boot.failed,
            boot.first_failure.unwrap_or_default()
        )));
    }
    Ok(MediationResult {
        a,
        b,
        indirect: a * b,
        direct,
        proportion_mediated: a * b / (a * b + direct),
        bootstrap: boot,
        path_a,
        path_b,
    })
}

/// Run a study: every hypothesis's main specification, its robustness
/// battery, mediation bootstraps, adjusted p-values and verdicts.
pub fn run(study: &Study, opts: &RunOptions) -> Result<StudyResult, StudyError> {
    let t0 = Instant::now();
    let seed = opts.seed.unwrap_or(study.seed);
    let replicates = opts.replicates.unwrap_or(study.bootstrap.replicates);
    let panels = load_panels(study, opts)?;
    let mut timings = BTreeMap::new();
    timings.insert("panels_s".to_string(), t0.elapsed().as_secs_f64());
    let t1 = Instant::now();
    let mut results = Vec::new();
    for (k, h) in study.hypotheses.iter().enumerate() {
        let th = Instant::now();
        let df = panels.frames.get(&h.level).ok_or_else(|| StudyError::Hypothesis {
            hypothesis: h.id.clone(),
            message: format!("no {} panel", h.level),
        })?;
        let (main, mediation) = if h.kind == Kind::Mediation {
            let m = mediate(study, h, df, opts, seed.wrapping_add(k as u64), replicates)?;
            let spec = Spec {
                name: "main".into(),
                label: "indirect effect a x b (cluster bootstrap)".into(),
                formula: format!("{} | {}", m.path_a.spec.formula, m.path_b.spec.formula),
                term: format!("{} x {}", m.path_a.spec.term, m.path_b.spec.term),
                ..m.path_b.spec.clone()
            };
            let b = &m.bootstrap;
            // Normal p from the bootstrap standard error: the share of
            // replicates cannot go below 1 / (B + 1), which a family-wise
            // correction would make unreachable; the percentile CI and the
            // share are reported beside it.
            let z = m.indirect / b.std_error;
            let dir = crate::inference::hypothesis::one_sided_p(z, h.direction, crate::inference::Dist::Normal);
            let opp =
                crate::inference::hypothesis::one_sided_p(z, opposite(h.direction), crate::inference::Dist::Normal);
            let main = SpecResult {
                spec,
                nobs: m.path_b.nobs,
                estimate: Some(m.indirect),
                std_error: Some(b.std_error),
                conf_low: Some(b.conf_low),
                conf_high: Some(b.conf_high),
                p_one_sided: Some(dir),
                p_opposite: Some(opp),
                verdict: Verdict::from_p(Some(dir), Some(opp), study.alpha),
                error: None,
                fit_file: None,
                fit: None,
            };
            (main, Some(m))
        } else {
            let spec = specify(study, h, &Check::default()).ok_or_else(|| StudyError::Hypothesis {
                hypothesis: h.id.clone(),
                message: "the main specification is not defined".into(),
            })?;
            (estimate(study, df, spec, h.direction), None)
        };
        let mut robustness = Vec::new();
        if h.kind == Kind::Moderation {
            if let Some([a, b]) = &h.compare {
                for p in [a, b] {
                    let c = Check {
                        name: format!("period_{p}"),
                        label: format!("{p} only (no interaction)"),
                        period: Some(p.clone()),
                        ..Default::default()
                    };
                    let base = Hypothesis { kind: Kind::Effect, compare: None, ..h.clone() };
                    if let Some(s) = specify(study, &base, &c) {
                        robustness.push(estimate(study, df, s, h.direction));
                    }
                }
            }
        }
        let same_as_main = |s: &Spec| {
            s.formula == main.spec.formula
                && s.family == main.spec.family
                && s.vcov == main.spec.vcov
                && s.periods == main.spec.periods
        };
        for c in &study.robustness {
            if let Some(s) = specify(study, h, c).filter(|s| !same_as_main(s)) {
                robustness.push(estimate(study, df, s, h.direction));
            }
        }
        if opts.verbose {
            let agree = robustness.iter().filter(|r| r.verdict == main.verdict).count();
            println!(
                "  {:<6} {:<11} estimate {:>10} p = {:<9} ({} unadjusted); {agree}/{} robustness checks agree ({:.1} s)",
                h.id,
                h.level.to_string(),
                main.estimate.map_or("-".into(), |v| format!("{v:.4}")),
                main.p_one_sided.map_or("-".into(), |v| format!("{v:.2e}")),
                main.verdict.label(),
                robustness.len(),
                th.elapsed().as_secs_f64()
            );
        }
        results.push(HypothesisResult {
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
            robustness,
        });
    }
    timings.insert("fits_s".to_string(), t1.elapsed().as_secs_f64());
    adjust(study, &mut results);
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
        inputs: panels.inputs,
        timings,
        panel_rows,
        frames: panels.frames,
    })
}

/// Adjusted p-values across the hypothesis family and the verdicts they imply:
/// supported when the adjusted one-sided p in the stated direction is below
/// alpha, contradicted when the adjusted one-sided p in the opposite
/// direction is (adjusted across the family in the same way).
fn adjust(study: &Study, results: &mut [HypothesisResult]) {
    let est: Vec<usize> = (0..results.len()).filter(|&i| results[i].main.p_one_sided.is_some()).collect();
    let p: Vec<f64> = est.iter().map(|&i| results[i].main.p_one_sided.unwrap_or(1.0)).collect();
    let q: Vec<f64> = est.iter().map(|&i| results[i].main.p_opposite.unwrap_or(1.0)).collect();
    let (ph, pb) = (holm(&p), benjamini_hochberg(&p));
    let (qh, qb) = (holm(&q), benjamini_hochberg(&q));
    for (j, &i) in est.iter().enumerate() {
        let r = &mut results[i];
        r.p_holm = Some(ph[j]);
        r.p_bh = Some(pb[j]);
        let (pd, po) = match study.correction {
            Correction::Holm => (ph[j], qh[j]),
            Correction::Bh => (pb[j], qb[j]),
            Correction::None => (p[j], q[j]),
        };
        r.verdict = Verdict::from_p(Some(pd), Some(po), study.alpha);
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
}
