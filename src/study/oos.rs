//! Out-of-sample check: fit a logit of the outcome on one period (training)
//! and predict another (test), with and without the chain's variables, and
//! compare the predictions by AUC, PR-AUC (average precision) and the Brier
//! score (Ward, Greenhill & Bakke 2010). With hundreds of thousands of rows
//! p-values are cheap; better predictions of new years are not.

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::run::{control_term, sample_rows};
use super::spec::{Level, Study};
use super::StudyError;
use crate::estimate::{design_for, fit_design, Family, FitOptions};
use crate::formula::design::PanelSpec;
use crate::formula::Formula;

/// One out-of-sample comparison of the study file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OosSpec {
    pub name: String,
    pub level: Level,
    pub outcome: String,
    /// Training and test periods (names from `[[periods]]`).
    pub train: String,
    pub test: String,
    /// Regressors of the baseline model (column names are lagged `lag`
    /// years, other formula terms used as written, as controls are).
    #[serde(default)]
    pub base: Vec<String>,
    /// Regressors the chain adds (socialization and the pillars).
    pub chain: Vec<String>,
    #[serde(default)]
    pub peace_years: bool,
    #[serde(default = "one")]
    pub lag: i64,
}

fn one() -> i64 {
    1
}

/// Accuracy of the predicted probabilities on the test rows.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Scores {
    pub auc: f64,
    /// Average precision (area under the precision-recall curve).
    pub pr_auc: f64,
    pub brier: f64,
}

/// Both models' scores on the same test rows.
#[derive(Debug, Clone, Serialize)]
pub struct OosResult {
    pub name: String,
    pub level: Level,
    pub base_formula: String,
    pub chain_formula: String,
    pub n_train: usize,
    pub n_test: usize,
    pub events_test: usize,
    pub base: Scores,
    pub chain: Scores,
}

/// AUC (the Mann-Whitney probability that an event outranks a non-event,
/// ties counting one half), average precision and Brier score.
///
/// ```
/// let s = concord::study::oos::scores(&[0.1, 0.4, 0.35, 0.8], &[0.0, 0.0, 1.0, 1.0]);
/// assert!((s.auc - 0.75).abs() < 1e-12);
/// assert!((s.pr_auc - (0.5 * 1.0 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
/// ```
pub fn scores(p: &[f64], y: &[f64]) -> Scores {
    let n = p.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Mid-ranks of tied scores.
    let mut rank = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && p[order[j + 1]] == p[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            rank[order[k]] = r;
        }
        i = j + 1;
    }
    let pos = y.iter().filter(|v| **v > 0.5).count() as f64;
    let neg = n as f64 - pos;
    let rsum: f64 = (0..n).filter(|&i| y[i] > 0.5).map(|i| rank[i]).sum();
    let auc = (rsum - pos * (pos + 1.0) / 2.0) / (pos * neg);
    // Average precision over thresholds at each distinct score, descending.
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0.0, 0.0, 0.0, 0.0);
    let mut k = n;
    while k > 0 {
        let mut j = k - 1;
        while j > 0 && p[order[j - 1]] == p[order[k - 1]] {
            j -= 1;
        }
        for &i in &order[j..k] {
            if y[i] > 0.5 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
        }
        let recall = tp / pos;
        ap += (recall - prev_recall) * tp / (tp + fp);
        prev_recall = recall;
        k = j;
    }
    let brier = p.iter().zip(y).map(|(p, y)| (p - y).powi(2)).sum::<f64>() / n.max(1) as f64;
    Scores { auc, pr_auc: ap, brier }
}

/// The baseline and the chain model's formulas of a comparison.
pub fn formulas(study: &Study, o: &OosSpec) -> (String, String) {
    let mut base: Vec<String> = o.base.iter().map(|v| control_term(v, o.lag)).collect();
    if o.peace_years {
        if let Some(t) = study.btscs.terms() {
            base.push(t.into());
        }
    }
    let mut with: Vec<String> = o.chain.iter().map(|v| control_term(v, o.lag)).collect();
    with.extend(base.iter().cloned());
    let rhs = |t: &[String]| if t.is_empty() { "1".to_string() } else { t.join(" + ") };
    (format!("{} ~ {}", o.outcome, rhs(&base)), format!("{} ~ {}", o.outcome, rhs(&with)))
}

/// Run one comparison on the panel `df` of its level.
pub fn run_one(study: &Study, o: &OosSpec, df: &DataFrame) -> Result<OosResult, StudyError> {
    let err = |m: String| StudyError::Hypothesis { hypothesis: format!("out_of_sample {}", o.name), message: m };
    let (fb, fc) = formulas(study, o);
    let panel = PanelSpec { unit: vec![o.level.unit_column().into()], time: "year".into() };
    let train = sample_rows(study, df, &o.train)?;
    let test = sample_rows(study, df, &o.test)?;
    // The rows both models can use (the chain model's variables are a superset).
    let parse = |f: &str| Formula::parse(f).map_err(|e| err(e.to_string()));
    let (pb, pc) = (parse(&fb)?, parse(&fc)?);
    let opts = FitOptions { panel: Some(panel), ..Default::default() };
    let all = design_for(df, &pc, &opts).map_err(|e| err(e.to_string()))?;
    let mut common = vec![false; df.height()];
    for &r in &all.rows {
        common[r] = true;
    }
    let mask = |m: &[bool]| -> Vec<bool> { m.iter().zip(&common).map(|(a, b)| *a && *b).collect() };
    let (train, test) = (mask(&train), mask(&test));
    let mut out = Vec::new();
    let mut sizes = (0, 0, 0);
    for f in [&pb, &pc] {
        let o_train = FitOptions { sample: Some(train.clone()), ..opts.clone() };
        let d = design_for(df, f, &o_train).map_err(|e| err(e.to_string()))?;
        let (fit, _) = fit_design(d, &f.to_string(), Family::Logit, &o_train).map_err(|e| err(e.to_string()))?;
        let o_test = FitOptions { sample: Some(test.clone()), ..opts.clone() };
        let dt = design_for(df, f, &o_test).map_err(|e| err(e.to_string()))?;
        let beta: Vec<f64> = dt.names.iter().map(|n| fit.coef(n).map_or(0.0, |c| c.estimate)).collect();
        let p: Vec<f64> = (0..dt.y.len())
            .map(|i| {
                let e: f64 = dt.x.row(i).iter().zip(&beta).map(|(a, b)| a * b).sum();
                crate::estimate::glm::logistic(e)
            })
            .collect();
        let y: Vec<f64> = dt.y.iter().copied().collect();
        sizes = (fit.nobs, y.len(), y.iter().filter(|v| **v > 0.5).count());
        if sizes.2 == 0 || sizes.2 == sizes.1 {
            return Err(err("the test period has no events (or only events)".into()));
        }
        out.push(scores(&p, &y));
    }
    Ok(OosResult {
        name: o.name.clone(),
        level: o.level,
        base_formula: fb,
        chain_formula: fc,
        n_train: sizes.0,
        n_test: sizes.1,
        events_test: sizes.2,
        base: out[0],
        chain: out[1],
    })
}
