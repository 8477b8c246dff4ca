//! How strong an omitted confounder would have to be to overturn each main
//! link (Cinelli & Hazlett 2020, "Making sense of sensitivity"): for every
//! effect, total-effect and moderation hypothesis whose main model is linear,
//! or a logit or probit re-fitted as a linear probability model on the same
//! rows with the same regressors and fixed effects, the key term's partial
//! R² with the outcome and its robustness values RV_1 (the confounding that
//! would bring the estimate to zero) and RV_{1,0.05} (that would make it not
//! significant at 5%, two-sided), and, for the controls the study names as
//! benchmarks (`[sensitivity] benchmarks`), the estimate a confounder 1, 2
//! or 3 times as strong as the benchmark would leave.
//!
//! The statistics rest on the classical (iid) t statistic of the least-squares
//! fit and its residual degrees of freedom `n - K` (fixed-effect levels
//! counted), as sensemakr's; the main model's clustered or dyadic standard
//! errors do not enter. They change no model and no verdict.

use super::output::num;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::run::{control_term, HypothesisResult, Spec};
use super::spec::{Hypothesis, Kind, Level, Study};
use super::StudyError;
use crate::estimate::{design_for, fit_design, Family, FitOptions};
use crate::formula::Formula;
use crate::inference::sensitivity::{ovb_bounds, partial_r2, Benchmark, Bound, Sensitivity};
use crate::inference::VcovSpec;
use crate::report::tables::{plain_table, Format};

/// The share of the estimate a confounder would remove (1: all of it).
pub const Q: f64 = 1.0;
/// The significance level of `RV_{q,alpha}` (two-sided, as sensemakr).
pub const ALPHA: f64 = 0.05;

fn default_multiples() -> Vec<f64> {
    vec![1.0, 2.0, 3.0]
}

/// The `[sensitivity]` section of a study file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivitySpec {
    /// Controls to benchmark an omitted confounder against (as written in
    /// the hypotheses' `controls`, e.g. `"cinc"`): each hypothesis that has
    /// one among its controls reports the bounds of confounders as strong
    /// as it, and as `multiples` times as strong.
    #[serde(default)]
    pub benchmarks: Vec<String>,
    /// Multiples of each benchmark's strength, with the treatment and with
    /// the outcome alike (1, 2 and 3 when absent).
    #[serde(default = "default_multiples")]
    pub multiples: Vec<f64>,
}

impl Default for SensitivitySpec {
    fn default() -> Self {
        SensitivitySpec { benchmarks: Vec::new(), multiples: default_multiples() }
    }
}

impl SensitivitySpec {
    /// Checks of the section against the hypotheses, as a message for the
    /// study's error: positive multiples, and benchmarks that are controls.
    pub fn check(&self, hypotheses: &[Hypothesis]) -> Result<(), String> {
        if let Some(m) = self.multiples.iter().find(|m| !(m.is_finite() && **m > 0.0)) {
            return Err(format!("sensitivity.multiples: {m} is not a positive number"));
        }
        for b in &self.benchmarks {
            if !hypotheses.iter().any(|h| h.controls.iter().any(|c| c.trim() == b.trim())) {
                return Err(format!(
                    "sensitivity.benchmarks: `{b}` is not among the controls of any hypothesis (a benchmark is an observed control, as written in `controls`)"
                ));
            }
        }
        Ok(())
    }
}

/// The sensitivity of one main link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkSensitivity {
    pub hypothesis: String,
    pub level: Level,
    /// The key term (the cause, or the interaction of a moderation).
    pub term: String,
    /// The family of the main model.
    pub main_family: Family,
    /// `least squares` (the main model itself, with iid errors) or
    /// `linear probability` (a logit or probit re-fitted by least squares).
    pub model: String,
    /// The least-squares formula fitted.
    pub formula: String,
    pub nobs: usize,
    /// Observations of the main model (equal to `nobs` unless a note says why not).
    pub main_nobs: Option<usize>,
    #[serde(flatten)]
    pub stats: Sensitivity,
    pub benchmarks: Vec<Benchmark>,
    pub bounds: Vec<Bound>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A hypothesis without a sensitivity analysis, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub hypothesis: String,
    pub reason: String,
}

/// The sensitivity of every main link (`sensitivity.json`).
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityResult {
    pub method: String,
    pub q: f64,
    pub alpha: f64,
    pub benchmarks: Vec<String>,
    pub multiples: Vec<f64>,
    pub links: Vec<LinkSensitivity>,
    pub skipped: Vec<Skipped>,
}

/// What the section says before the table (verdicts.md and index.html).
pub const INTRO: &str = "How strong would an omitted confounder have to be to overturn each main link (Cinelli & Hazlett 2020)? RV_1 is the share of the residual variance of both the treatment and the outcome that a confounder would have to explain to bring the estimate to zero; RV_1,0.05 the share that would make it not significant at 5% (two-sided). The partial R² of the treatment with the outcome is the extreme case: a confounder explaining all of the outcome's residual variance would need at least this much of the treatment's to remove the estimate. Linear main models are used as they are; logit and probit main models are re-fitted as linear probability models on the same rows, with the same regressors and fixed effects, so the numbers describe that linear re-fit. The statistics rest on the classical (iid) standard error and the residual degrees of freedom; the main models' clustered standard errors do not enter. Benchmarks: the estimate (and t) left by a confounder as strong as an observed control, or 2 or 3 times as strong, with both the treatment and the outcome. Nothing here changes a model or a verdict.";

/// The sensitivity of every main link of `results` on the study's panels.
pub fn compute(
    study: &Study,
    frames: &std::collections::BTreeMap<Level, DataFrame>,
    results: &[HypothesisResult],
) -> SensitivityResult {
    let spec = study.sensitivity.clone().unwrap_or_default();
    let mut links = Vec::new();
    let mut skipped = Vec::new();
    for r in results {
        let skip = |reason: String| Skipped { hypothesis: r.id.clone(), reason };
        let main = &r.main;
        let model = match (r.kind, main.spec.family) {
            (Kind::Mediation, _) => {
                skipped.push(skip("mediation: its paths are the main links of the hypotheses it names".into()));
                continue;
            }
            (_, Family::Gaussian) => "least squares",
            (_, Family::Logit | Family::Probit | Family::Firth) => "linear probability",
            (_, f) => {
                skipped.push(skip(format!("the main model is {f}: the bounds are for linear models")));
                continue;
            }
        };
        if let Some(e) = &main.error {
            skipped.push(skip(format!("the main model is not estimable: {e}")));
            continue;
        }
        let Some(df) = frames.get(&r.level) else {
            skipped.push(skip(format!("no {} panel", r.level)));
            continue;
        };
        let Some(h) = study.hypothesis(&r.id) else {
            skipped.push(skip("not in the study file".into()));
            continue;
        };
        let bench: Vec<(String, String)> = spec
            .benchmarks
            .iter()
            .filter(|b| h.controls.iter().any(|c| c.trim() == b.trim()))
            .map(|b| (b.trim().to_string(), control_term(b, h.lag)))
            .collect();
        match link(study, df, &main.spec, &bench, &spec.multiples) {
            Ok(mut l) => {
                l.hypothesis = r.id.clone();
                l.main_nobs = main.nobs;
                if main.nobs.is_some_and(|n| n != l.nobs) {
                    l.notes.push(format!(
                        "the linear re-fit has {} observations, the main model {}",
                        l.nobs,
                        main.nobs.unwrap_or_default()
                    ));
                }
                if model == "linear probability"
                    && main.estimate.is_some_and(|b| b != 0.0 && b.signum() != l.stats.estimate.signum())
                {
                    l.notes.push(format!(
                        "the linear probability estimate ({}) has the opposite sign to the {}'s",
                        num(Some(l.stats.estimate)),
                        main.spec.family
                    ));
                }
                links.push(l);
            }
            Err(e) => skipped.push(skip(format!("the linear re-fit failed: {e}"))),
        }
    }
    SensitivityResult {
        method: "Cinelli & Hazlett (2020) robustness values and benchmark bounds on a least-squares fit with iid standard errors (linear probability re-fit for logit and probit main models)".into(),
        q: Q,
        alpha: ALPHA,
        benchmarks: spec.benchmarks.clone(),
        multiples: spec.multiples.clone(),
        links,
        skipped,
    }
}

/// The sensitivity of `spec`'s key term: the least-squares fit (iid) of its
/// formula on its rows, less those a logit or probit with fixed effects
/// drops (groups whose outcome does not vary); `benchmarks` are (name, term)
/// pairs of controls. `hypothesis` and `main_nobs` are left for the caller.
pub fn link(
    study: &Study,
    df: &DataFrame,
    spec: &Spec,
    benchmarks: &[(String, String)],
    multiples: &[f64],
) -> Result<LinkSensitivity, String> {
    let sample = super::run::spec_sample(study, df, spec)?;
    let opts = FitOptions {
        vcov: VcovSpec::Iid,
        level: study.level,
        panel: Some(super::run::panel_spec(spec.level)),
        sample,
        ..Default::default()
    };
    let formula = Formula::parse(&spec.formula).map_err(|e| e.to_string())?;
    let mut design = design_for(df, &formula, &opts).map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    if matches!(spec.family, Family::Logit | Family::Probit) && !design.fixed_effects.is_empty() {
        // The rows the likelihood model keeps.
        crate::estimate::separation::fixed_effects_and_singletons(&mut design, spec.family)
            .map_err(|e| e.to_string())?;
    }
    let text = formula.to_string();
    let (fit, design) = fit_design(design, &text, Family::Gaussian, &opts).map_err(|e| e.to_string())?;
    let stats = fit.sensitivity(&spec.term, Q, ALPHA).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    let mut bounds = Vec::new();
    if !benchmarks.is_empty() {
        // The treatment on the other regressors: same rows, same fixed effects.
        let j = design.names.iter().position(|n| *n == spec.term).ok_or("the key term was dropped")?;
        let mut td = design.clone();
        td.y = td.x.column(j).into_owned();
        td.outcome = spec.term.clone();
        td.drop_columns(&[j]);
        let treatment = if td.names.is_empty() {
            None
        } else {
            let f = format!("{} ~ {}", spec.term, td.names.join(" + "));
            Some(fit_design(td, &f, Family::Gaussian, &opts).map_err(|e| format!("the treatment model: {e}"))?.0)
        };
        for (name, term) in benchmarks {
            let (Some(y), Some(d)) = (fit.coef(term), treatment.as_ref().and_then(|t| t.coef(term))) else {
                notes.push(format!("benchmark `{name}`: `{term}` is not a single column of the model"));
                continue;
            };
            let dof_d = treatment.as_ref().map_or(f64::NAN, |t| t.residual_dof);
            let b = Benchmark {
                covariate: name.clone(),
                r2dxj_x: partial_r2(d.statistic, dof_d).map_err(|e| e.to_string())?,
                r2yxj_dx: partial_r2(y.statistic, fit.residual_dof).map_err(|e| e.to_string())?,
            };
            for &k in multiples {
                match ovb_bounds(&stats, &b, k, k, ALPHA) {
                    Ok(bound) => bounds.push(bound),
                    Err(e) => notes.push(format!("benchmark `{name}` x {k}: {e}")),
                }
            }
            found.push(b);
        }
    }
    Ok(LinkSensitivity {
        hypothesis: String::new(),
        level: spec.level,
        term: spec.term.clone(),
        main_family: spec.family,
        model: if spec.family == Family::Gaussian { "least squares" } else { "linear probability" }.into(),
        formula: text,
        nobs: fit.nobs,
        main_nobs: None,
        stats,
        benchmarks: found,
        bounds,
        notes,
    })
}

/// A share as a percentage: two decimals, three below 0.01%.
fn pct(v: f64) -> String {
    let p = 100.0 * v;
    if !p.is_finite() {
        "–".into()
    } else if p == 0.0 {
        "0.00".into()
    } else if p < 0.001 {
        "< 0.001".into()
    } else if p < 0.01 {
        format!("{p:.3}")
    } else {
        format!("{p:.2}")
    }
}

/// One link in words: how much confounding would remove the estimate.
///
/// ```
/// use concord::inference::sensitivity::sensitivity_stats;
/// use concord::study::sensitivity::sentence;
/// let s = sensitivity_stats(0.09731582, 0.02325654, 783.0, 1.0, 0.05).unwrap();
/// let text = sentence("H1", "x", &s);
/// assert!(text.contains("13.88% of the residual variance of both") && text.contains("7.63%"), "{text}");
/// ```
pub fn sentence(id: &str, term: &str, s: &Sensitivity) -> String {
    let mut t = format!(
        "{id} (`{term}`): a confounder explaining {}% of the residual variance of both the treatment and the outcome would bring the estimate to zero",
        pct(s.rv_q)
    );
    if s.rv_qa > 0.0 {
        let _ = write!(t, "; one explaining {}% would make it not significant at {}%.", pct(s.rv_qa), 100.0 * s.alpha);
    } else {
        let _ = write!(
            t,
            "; its t ({:.2}, iid) is not significant at {}% (two-sided) to begin with.",
            s.t_statistic,
            100.0 * s.alpha
        );
    }
    t
}

/// The table in one format: a row per link, then a row per benchmark bound.
pub fn table(r: &SensitivityResult, format: Format) -> String {
    let rows: Vec<Vec<String>> = r
        .links
        .iter()
        .map(|l| {
            vec![
                l.hypothesis.clone(),
                l.term.clone(),
                l.model.clone(),
                crate::report::tables::thousands(&l.nobs.to_string()),
                num(Some(l.stats.estimate)),
                format!("{:.2}", l.stats.t_statistic),
                pct(l.stats.partial_r2),
                pct(l.stats.rv_q),
                pct(l.stats.rv_qa),
            ]
        })
        .collect();
    let mut out = plain_table(
        &["hypothesis", "term", "model", "N", "estimate", "t (iid)", "partial R² (%)", "RV_1 (%)", "RV_1,0.05 (%)"],
        &rows,
        &[false, false, false, true, true, true, true, true, true],
        &["Partial R²: of the treatment with the outcome, given the other regressors and fixed effects. RV_1: the partial R² with both the treatment and the outcome that a confounder would need to bring the estimate to zero; RV_1,0.05: to make it not significant at 5% (two-sided). Least squares with iid standard errors; logit and probit main models re-fitted as linear probability models on the same rows.".to_string()],
        format,
    );
    let bound_rows: Vec<Vec<String>> = r
        .links
        .iter()
        .flat_map(|l| {
            l.bounds.iter().map(|b| {
                vec![
                    l.hypothesis.clone(),
                    b.label.clone(),
                    pct(b.r2dz_x),
                    format!("{}{}", pct(b.r2yz_dx), if b.capped { " (capped)" } else { "" }),
                    num(Some(b.adjusted_estimate)),
                    num(Some(b.adjusted_se)),
                    if b.adjusted_t.is_finite() { format!("{:.2}", b.adjusted_t) } else { "–".into() },
                ]
            })
        })
        .collect();
    if !bound_rows.is_empty() {
        let t = plain_table(
            &["hypothesis", "confounder", "R² with treatment (%)", "R² with outcome (%)", "adjusted estimate", "adjusted s.e.", "adjusted t"],
            &bound_rows,
            &[false, false, true, true, true, true, true],
            &["A confounder k times as strong as the named control with both the treatment and the outcome (partial R², given the other regressors), and the estimate, standard error and t it would leave (the bias reducing the estimate toward zero).".to_string()],
            format,
        );
        let title = "Benchmarks: confounders as strong as observed controls";
        let _ = match format {
            Format::Markdown => write!(out, "\n**{title}**\n\n{t}"),
            Format::Html => write!(out, "<h3>{}</h3>\n{t}", crate::report::tables::esc_html(title)),
            Format::Latex => write!(
                out,
                "\\par\\medskip\\noindent\\textbf{{{}}}\\par\\smallskip\n{t}",
                crate::report::tables::esc_latex(title)
            ),
        };
    }
    out
}

/// The section's sentences: one per link, then what was skipped and why.
pub fn sentences(r: &SensitivityResult) -> Vec<String> {
    let mut out: Vec<String> = r
        .links
        .iter()
        .map(|l| {
            let mut s = sentence(&l.hypothesis, &l.term, &l.stats);
            for b in &l.benchmarks {
                let mine: Vec<&Bound> = l.bounds.iter().filter(|x| x.covariate == b.covariate).collect();
                if mine.is_empty() {
                    continue;
                }
                let ks: Vec<String> = mine.iter().map(|x| format!("{}x", x.kd)).collect();
                let ts: Vec<String> = mine
                    .iter()
                    .map(|x| if x.adjusted_t.is_finite() { format!("{:.2}", x.adjusted_t) } else { "–".into() })
                    .collect();
                let _ = write!(
                    s,
                    " Confounders {} as strong as `{}` would leave t = {}.",
                    ks.join(", "),
                    b.covariate,
                    ts.join(", ")
                );
            }
            for n in &l.notes {
                let _ = write!(s, " Note: {n}.");
            }
            s
        })
        .collect();
    if !r.skipped.is_empty() {
        let list: Vec<String> = r.skipped.iter().map(|s| format!("{} ({})", s.hypothesis, s.reason)).collect();
        out.push(format!("Not analysed: {}.", list.join("; ")));
    }
    out
}

/// `sensitivity.json` and `tables/sensitivity.{md,html,tex}` in `out`.
pub fn write(r: &SensitivityResult, out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    super::output::write_json_and_tables(out, "sensitivity", r, |f| table(r, f))
}

/// The section of verdicts.md.
pub fn markdown(r: &SensitivityResult) -> String {
    let mut md = format!("\n## Sensitivity to omitted confounding\n\n{INTRO}\n\n");
    if !r.links.is_empty() {
        let _ = writeln!(md, "{}", table(r, Format::Markdown));
    }
    for s in sentences(r) {
        let _ = writeln!(md, "- {s}");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_parses_with_defaults_and_checks() {
        let s: SensitivitySpec = toml::from_str("benchmarks = [\"cinc\"]").unwrap();
        assert_eq!(s.multiples, [1.0, 2.0, 3.0]);
        let h: Hypothesis = toml::from_str(
            "id = \"H\"\nclaim = \"c\"\nlevel = \"state-year\"\noutcome = \"y\"\ncause = \"x\"\ndirection = \"positive\"\nfamily = \"gaussian\"\ncontrols = [\"cinc\"]",
        )
        .unwrap();
        assert!(s.check(std::slice::from_ref(&h)).is_ok());
        let e = s.check(&[]).unwrap_err();
        assert!(e.contains("`cinc` is not among the controls"), "{e}");
        let bad: SensitivitySpec = toml::from_str("multiples = [1, -2]").unwrap();
        assert!(bad.check(&[h]).unwrap_err().contains("-2"));
        assert!(toml::from_str::<SensitivitySpec>("benchmark = [\"cinc\"]").is_err(), "unknown keys are errors");
    }
}
