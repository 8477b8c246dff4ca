//! Simulated quantities of interest for named scenarios (King, Tomz and
//! Wittenberg 2000, "Making the most of statistical analyses"): the
//! coefficients are drawn from their estimated sampling distribution
//! `N(b, V)` with an explicit seed, and for each draw the average prediction
//! of each scenario is computed by the observed-value approach (Hanmer and
//! Kalkan 2013): the scenario's variables are set in every row of the
//! estimation sample, every term built from them rebuilt (interactions,
//! `poly()`, `ns()`, and lags and leads of a variable held at the value),
//! the other variables as observed, the predicted mean averaged over rows.
//! Each scenario is summarised by the mean of its draws and their
//! percentile interval; first differences against the first scenario are
//! taken draw by draw, so their intervals carry the scenarios' covariance.
//!
//! With fixed effects their fitted sum on each row is held at its estimate
//! (as [`Margins`] does in the delta method): only the slopes are drawn.

use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::margins::Margins;
use super::InferenceError;
use crate::formula::design::{quantile_sorted, Recipe};
use crate::formula::Factor;

/// A named scenario: variables and the values they take in every row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scenario {
    pub name: String,
    pub set: Vec<(String, f64)>,
}

const FORM: &str =
    "write a scenario as \"NAME: VARIABLE=VALUE[, VARIABLE=VALUE]\", e.g. \"High IGO: igo_full=60, peace_years=5\"";

impl std::str::FromStr for Scenario {
    type Err = InferenceError;
    /// `"High IGO: igo_full=60, peace_years=5"`.
    ///
    /// ```
    /// use concord::inference::simulate::Scenario;
    /// let s: Scenario = "High IGO: igo_full=60, l(x,1)=5".parse().unwrap();
    /// assert_eq!(s.name, "High IGO");
    /// assert_eq!(s.set, vec![("igo_full".to_string(), 60.0), ("l(x,1)".to_string(), 5.0)]);
    /// assert!("igo_full=60".parse::<Scenario>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| InferenceError::Unsupported(format!("scenario `{s}`: {why}; {FORM}"));
        let (name, rest) = s.split_once(':').ok_or_else(|| bad("no `:` after the scenario's name"))?;
        let name = name.trim();
        if name.is_empty() || name.contains('=') {
            return Err(bad("no name before the `:`"));
        }
        let mut set = Vec::new();
        for part in super::hypothesis::split_top_level(rest) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (var, value) = part.split_once('=').ok_or_else(|| bad(&format!("`{part}` is not VARIABLE=VALUE")))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| bad(&format!("`{}` is not a number", value.trim())))?;
            let var = var.trim();
            if var.is_empty() {
                return Err(bad(&format!("no variable before `={}`", value)));
            }
            if set.iter().any(|(v, _)| v == var) {
                return Err(bad(&format!("`{var}` is set twice")));
            }
            set.push((var.to_string(), value));
        }
        if set.is_empty() {
            return Err(bad("it sets no variable"));
        }
        Ok(Scenario { name: name.to_string(), set })
    }
}

/// A simulated quantity: its value at the estimated coefficients, and the
/// mean, standard deviation and percentile interval of its draws.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Simulated {
    pub label: String,
    pub at_estimate: f64,
    pub mean: f64,
    pub std_dev: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// The scenarios' simulated average predictions and their first
/// differences against the first scenario.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScenarioSimulation {
    pub scenarios: Vec<Simulated>,
    /// The model variables each scenario sets (a variable's lags included).
    pub settings: Vec<Vec<(String, f64)>>,
    /// Scenario `i + 1` minus the first, for every later scenario.
    pub differences: Vec<Simulated>,
    pub draws: usize,
    pub seed: u64,
    pub level: f64,
    /// Rows averaged over.
    pub rows: usize,
    /// Extrapolations and what is held fixed.
    pub notes: Vec<String>,
}

/// How many draws, from which seed, which interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    pub draws: usize,
    pub seed: u64,
    pub level: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions { draws: 1000, seed: 20261201, level: 0.95 }
    }
}

/// `draws` coefficient vectors from `N(beta, cov)` (the columns of a k x
/// draws matrix): `beta + L z` with `L` the Cholesky factor of `cov` and `z`
/// standard normal from a generator seeded with `seed`. A covariance that is
/// positive semi-definite but singular (more parameters than clusters, say)
/// is factored through its eigendecomposition instead.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use concord::inference::simulate::draw_coefficients;
/// let b = DVector::from_vec(vec![1.0, -2.0]);
/// let v = DMatrix::from_row_slice(2, 2, &[0.04, 0.01, 0.01, 0.09]);
/// let d = draw_coefficients(&b, &v, 20000, 7).unwrap();
/// let mean = d.row(0).mean();
/// assert!((mean - 1.0).abs() < 0.01);
/// assert_eq!(d, draw_coefficients(&b, &v, 20000, 7).unwrap());
/// ```
pub fn draw_coefficients(
    beta: &DVector<f64>,
    cov: &DMatrix<f64>,
    draws: usize,
    seed: u64,
) -> Result<DMatrix<f64>, InferenceError> {
    let k = beta.len();
    let root = match cov.clone().cholesky() {
        Some(c) => c.l(),
        None => {
            let eig = cov.clone().symmetric_eigen();
            let top = eig.eigenvalues.iter().copied().fold(0.0, f64::max);
            let low = eig.eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
            if !(top.is_finite() && low >= -1e-10 * top.max(f64::MIN_POSITIVE)) {
                return Err(InferenceError::Unsupported(format!(
                    "the coefficients' covariance is not positive semi-definite (smallest eigenvalue {low:.3e}, \
                     largest {top:.3e}): coefficients cannot be drawn from it; use a one-way cluster or iid vcov"
                )));
            }
            let sqrt = eig.eigenvalues.map(|v| v.max(0.0).sqrt());
            &eig.eigenvectors * DMatrix::from_diagonal(&sqrt)
        }
    };
    let mut rng = StdRng::seed_from_u64(seed);
    // Draw by draw, coefficient by coefficient: the order is part of the seed's meaning.
    let mut z = DMatrix::zeros(k, draws);
    for d in 0..draws {
        for j in 0..k {
            z[(j, d)] = StandardNormal.sample(&mut rng);
        }
    }
    let mut out = root * z;
    for mut col in out.column_iter_mut() {
        col += beta;
    }
    Ok(out)
}

/// The model variables a scenario's `name = value` sets: the variable itself
/// when it is one, and its lags and leads `l(name,k)`, `f(name,k)` (a
/// variable held at a value in every period has that value k periods
/// earlier too) and its difference `d(name)` at 0.
pub fn resolve(scenario: &Scenario, margins: &Margins, recipe: &Recipe) -> Result<Vec<(String, f64)>, InferenceError> {
    let vars: Vec<String> = margins.variables().into_iter().map(|(v, _)| v).collect();
    let mut out: Vec<(String, f64)> = Vec::new();
    let push = |out: &mut Vec<(String, f64)>, v: String, x: f64| {
        if !out.iter().any(|(w, _)| *w == v) {
            out.push((v, x));
        }
    };
    // Named model variables first: they win over a lag implied by another name.
    for (name, value) in &scenario.set {
        if vars.contains(name) {
            push(&mut out, name.clone(), *value);
        }
    }
    for (name, value) in &scenario.set {
        let mut found = vars.contains(name);
        for f in recipe.terms.iter().flat_map(|t| &t.0) {
            let implied = match f {
                Factor::Lag(v, _) | Factor::Lead(v, _) if v == name => Some(*value),
                Factor::Diff(v) if v == name => Some(0.0),
                _ => None,
            };
            if let Some(x) = implied {
                let key = f.to_string();
                if vars.contains(&key) {
                    push(&mut out, key, x);
                    found = true;
                }
            }
        }
        if !found {
            let hint = crate::data::read::nearest_name(name, vars.iter().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(InferenceError::Unsupported(format!(
                "scenario `{}`: no variable `{name}` in the model{hint}; its variables: {}",
                scenario.name,
                vars.join(", ")
            )));
        }
    }
    Ok(out)
}

/// Mean, standard deviation and percentile interval of draws.
fn summarise(label: String, at_estimate: f64, draws: &[f64], level: f64) -> Simulated {
    let n = draws.len() as f64;
    let mean = draws.iter().sum::<f64>() / n;
    let var = draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let mut sorted = draws.to_vec();
    sorted.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Simulated {
        label,
        at_estimate,
        mean,
        std_dev: var.sqrt(),
        conf_low: quantile_sorted(&sorted, tail),
        conf_high: quantile_sorted(&sorted, 1.0 - tail),
    }
}

/// Simulate the scenarios' average predictions and their first differences
/// against the first scenario (see the module's documentation). `recipe` is
/// the design's (for the lags a scenario's variable implies).
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit_with_design, Family, FitOptions};
/// use concord::inference::simulate::{simulate_scenarios, Scenario, SimOptions};
/// let x: Vec<f64> = (0..40).map(|i| (i % 10) as f64).collect();
/// let y: Vec<f64> = (0..40).map(|i| if (i * 7) % 10 < (i % 10) { 1.0 } else { 0.0 }).collect();
/// let df = df!("y" => y, "x" => x).unwrap();
/// let (fit, design) = fit_with_design(&df, "y ~ x", Family::Logit, &FitOptions::default()).unwrap();
/// let m = fit.margins(&df, &design, None).unwrap();
/// let s: Vec<Scenario> = ["Low: x=2", "High: x=8"].iter().map(|s| s.parse().unwrap()).collect();
/// let sim = simulate_scenarios(&m, &design.recipe, &s, SimOptions { draws: 500, ..Default::default() }).unwrap();
/// assert!((sim.scenarios[0].at_estimate - m.predict(&[("x", 2.0)]).unwrap().estimate).abs() < 1e-12);
/// assert_eq!(sim.differences[0].label, "High - Low");
/// ```
pub fn simulate_scenarios(
    margins: &Margins,
    recipe: &Recipe,
    scenarios: &[Scenario],
    opts: SimOptions,
) -> Result<ScenarioSimulation, InferenceError> {
    if scenarios.is_empty() {
        return Err(InferenceError::Unsupported(format!("no scenario given; {FORM}")));
    }
    if opts.draws < 2 {
        return Err(InferenceError::Unsupported(format!("{} draws: simulate at least 2 (1000 is usual)", opts.draws)));
    }
    if !(opts.level > 0.0 && opts.level < 1.0) {
        return Err(InferenceError::Level(opts.level));
    }
    let (beta, cov) = margins.coefficients();
    let betas = draw_coefficients(beta, cov, opts.draws, opts.seed)?;
    let at_b = DMatrix::from_column_slice(beta.len(), 1, beta.as_slice());
    let vars = margins.variables();
    let mut notes = Vec::new();
    let (mut settings, mut sims, mut points) = (Vec::new(), Vec::new(), Vec::new());
    for s in scenarios {
        let set = resolve(s, margins, recipe)?;
        for (v, x) in &set {
            if let Some((_, obs)) = vars.iter().find(|(w, _)| w == v) {
                let (lo, hi) = obs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), o| (a.min(*o), b.max(*o)));
                if *x < lo || *x > hi {
                    notes.push(format!(
                        "scenario `{}`: {v} = {x} lies outside its observed range [{lo}, {hi}] (an extrapolation)",
                        s.name
                    ));
                }
            }
        }
        let pairs: Vec<(&str, f64)> = set.iter().map(|(v, x)| (v.as_str(), *x)).collect();
        let x = margins.design_at(&pairs)?;
        points.push(margins.average_at(&x, &at_b)[0]);
        sims.push(margins.average_at(&x, &betas));
        settings.push(set);
    }
    if margins.holds_fixed_effects() {
        notes.push("the fixed effects are held at their estimates: only the slopes are drawn".into());
    }
    let summaries = scenarios
        .iter()
        .zip(&sims)
        .zip(&points)
        .map(|((s, d), p)| summarise(s.name.clone(), *p, d, opts.level))
        .collect();
    let differences = (1..scenarios.len())
        .map(|i| {
            let d: Vec<f64> = sims[i].iter().zip(&sims[0]).map(|(a, b)| a - b).collect();
            let label = format!("{} - {}", scenarios[i].name, scenarios[0].name);
            summarise(label, points[i] - points[0], &d, opts.level)
        })
        .collect();
    Ok(ScenarioSimulation {
        scenarios: summaries,
        settings,
        differences,
        draws: opts.draws,
        seed: opts.seed,
        level: opts.level,
        rows: vars.first().map_or(0, |(_, x)| x.len()),
        notes,
    })
}

impl ScenarioSimulation {
    /// The numbers as a small text table (predictions, then differences).
    pub fn table(&self) -> String {
        let pct = (self.level * 1000.0).round() / 10.0;
        let mut out = format!(
            "average predictions by scenario (observed values over {} rows; {} draws of the coefficients from \
             N(b, V), seed {}; {pct}% percentile intervals):\n",
            self.rows, self.draws, self.seed
        );
        let width = self.scenarios.iter().chain(&self.differences).map(|r| r.label.chars().count()).max().unwrap_or(0);
        let width = width.max(8);
        out.push_str(&format!(
            "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}\n",
            "", "at b", "mean", "sd", "low", "high"
        ));
        let row = |r: &Simulated| {
            format!(
                "  {:<width$}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}\n",
                r.label, r.at_estimate, r.mean, r.std_dev, r.conf_low, r.conf_high
            )
        };
        for r in &self.scenarios {
            out.push_str(&row(r));
        }
        if !self.differences.is_empty() {
            out.push_str("first differences against the first scenario (draw by draw):\n");
            for r in &self.differences {
                out.push_str(&row(r));
            }
        }
        for (s, set) in self.scenarios.iter().zip(&self.settings) {
            let sets: Vec<String> = set.iter().map(|(v, x)| format!("{v} = {x}")).collect();
            out.push_str(&format!("`{}` sets {} in every row\n", s.label, sets.join(", ")));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }

    /// The numbers as CSV: one line per scenario and per difference.
    pub fn csv(&self) -> String {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut out = String::from("kind,label,sets,at_estimate,mean,std_dev,conf_low,conf_high,level,draws,seed\n");
        let sets: Vec<String> = self
            .settings
            .iter()
            .map(|set| set.iter().map(|(v, x)| format!("{v}={x}")).collect::<Vec<_>>().join("; "))
            .collect();
        let rows = self
            .scenarios
            .iter()
            .zip(sets.iter().cloned())
            .map(|(r, s)| ("scenario", r, s))
            .chain(self.differences.iter().map(|r| ("difference", r, String::new())));
        for (kind, r, s) in rows {
            out.push_str(&format!(
                "{kind},{},{},{},{},{},{},{},{},{},{}\n",
                quote(&r.label),
                quote(&s),
                r.at_estimate,
                r.mean,
                r.std_dev,
                r.conf_low,
                r.conf_high,
                self.level,
                self.draws,
                self.seed
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_text_is_parsed_or_refused_with_the_form() {
        let s: Scenario = "Low IGO: igo_full=20".parse().unwrap();
        assert_eq!(s, Scenario { name: "Low IGO".into(), set: vec![("igo_full".into(), 20.0)] });
        for bad in ["igo_full=20", "Low: igo_full", "Low: igo_full=x", ": a=1", "Low:", "Low: a=1, a=2"] {
            let e = bad.parse::<Scenario>().unwrap_err().to_string();
            assert!(e.contains("NAME: VARIABLE=VALUE"), "{bad}: {e}");
        }
    }

    #[test]
    fn draws_have_the_covariance_asked_for() {
        let b = DVector::from_vec(vec![0.5, 1.0]);
        let v = DMatrix::from_row_slice(2, 2, &[1.0, 0.6, 0.6, 2.0]);
        let d = draw_coefficients(&b, &v, 40000, 1).unwrap();
        let m0 = d.row(0).mean();
        let m1 = d.row(1).mean();
        let c01 = d.row(0).iter().zip(d.row(1).iter()).map(|(a, c)| (a - m0) * (c - m1)).sum::<f64>() / 39999.0;
        // Monte Carlo error of a covariance near sqrt((1*2 + 0.36)/40000) = 0.008.
        assert!((c01 - 0.6).abs() < 0.04, "{c01}");
        // A singular covariance (perfectly correlated) still draws.
        let s = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        let d = draw_coefficients(&b, &s, 10, 1).unwrap();
        for c in d.column_iter() {
            assert!(((c[0] - 0.5) - (c[1] - 1.0)).abs() < 1e-7);
        }
        let neg = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
        assert!(draw_coefficients(&b, &neg, 10, 1).unwrap_err().to_string().contains("not positive semi-definite"));
    }
}
