//! The specification curve of each hypothesis (Simonsohn, Simmons & Nelson
//! 2020): every specification the study fitted (main, robustness, placebo
//! excluded), with its estimate, interval, p-values and the features that
//! set it apart, sorted by estimate, as JSON and CSV for a figure. It
//! replaces counting verdicts with the whole distribution of estimates.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::run::{SpecResult, StudyResult};
use super::StudyError;
use crate::data::write::write_text;

/// One specification of one hypothesis (read back by `concord plot spec-curve`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurveRow {
    pub hypothesis: String,
    /// Position in the hypothesis's curve (0 = smallest estimate).
    pub rank: usize,
    pub spec: String,
    pub label: String,
    pub main: bool,
    pub estimate: f64,
    pub conf_low: f64,
    pub conf_high: f64,
    pub p_one_sided: Option<f64>,
    pub p_two_sided: Option<f64>,
    pub verdict: String,
    pub nobs: Option<usize>,
    // Features of the specification.
    pub outcome: String,
    pub term: String,
    pub family: String,
    pub vcov: String,
    /// Fixed effects (`+`-joined; empty when pooled).
    pub fixed_effects: String,
    /// Periods the sample is restricted to (empty: all years).
    pub period: String,
    /// Peace-years terms (`poly`, `ns` or empty).
    pub btscs: String,
    /// Number of regressors besides the term.
    pub n_controls: usize,
}

fn row(h: &str, s: &SpecResult, main: bool) -> Option<CurveRow> {
    let (e, lo, hi) = (s.estimate?, s.conf_low?, s.conf_high?);
    let (lhs, rhs) = s.spec.formula.split_once(" ~ ").unwrap_or(("", &s.spec.formula));
    let (terms, fe) = rhs.split_once(" | ").unwrap_or((rhs, ""));
    let terms: Vec<&str> = terms.split(" + ").map(str::trim).collect();
    let btscs = if terms.iter().any(|t| t.starts_with("poly(peace_years")) {
        "poly"
    } else if terms.iter().any(|t| t.starts_with("ns(peace_years")) {
        "ns"
    } else {
        ""
    };
    let n_controls = terms.iter().filter(|t| **t != s.spec.term && !t.contains("peace_years")).count();
    Some(CurveRow {
        hypothesis: h.into(),
        rank: 0,
        spec: s.spec.name.clone(),
        label: s.spec.label.clone(),
        main,
        estimate: e,
        conf_low: lo,
        conf_high: hi,
        p_one_sided: s.p_one_sided,
        p_two_sided: s.p_two_sided,
        verdict: s.verdict.label().into(),
        nobs: s.nobs,
        outcome: lhs.trim().into(),
        term: s.spec.term.clone(),
        family: s.spec.family.to_string(),
        vcov: s.spec.vcov.clone(),
        fixed_effects: fe.trim().into(),
        period: s.spec.periods.join("+"),
        btscs: btscs.into(),
        n_controls,
    })
}

/// The curve of every effect, total and moderation hypothesis (a mediation
/// hypothesis has one specification), each sorted by estimate.
///
/// Specifications that change the outcome or the scale (a linear
/// probability model next to logits) are on another scale: the `family` and
/// `outcome` columns say so, and a figure should facet by them.
pub fn rows(r: &StudyResult) -> Vec<CurveRow> {
    let mut out = Vec::new();
    for h in &r.hypotheses {
        let mut rows: Vec<CurveRow> = std::iter::once(row(&h.id, &h.main, true))
            .chain(h.robustness.iter().map(|s| row(&h.id, s, false)))
            .flatten()
            .collect();
        rows.sort_by(|a, b| a.estimate.total_cmp(&b.estimate).then_with(|| a.spec.cmp(&b.spec)));
        for (k, r) in rows.iter_mut().enumerate() {
            r.rank = k;
        }
        out.extend(rows);
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The curve as CSV (one row per specification).
pub fn csv(rows: &[CurveRow]) -> String {
    let mut s = String::from("hypothesis,rank,spec,label,main,estimate,conf_low,conf_high,p_one_sided,p_two_sided,verdict,nobs,outcome,term,family,vcov,fixed_effects,period,btscs,n_controls\n");
    let o = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:e}"));
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{:e},{:e},{:e},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&r.hypothesis),
            r.rank,
            csv_field(&r.spec),
            csv_field(&r.label),
            r.main,
            r.estimate,
            r.conf_low,
            r.conf_high,
            o(r.p_one_sided),
            o(r.p_two_sided),
            csv_field(&r.verdict),
            r.nobs.map_or(String::new(), |n| n.to_string()),
            csv_field(&r.outcome),
            csv_field(&r.term),
            r.family,
            csv_field(&r.vcov),
            csv_field(&r.fixed_effects),
            csv_field(&r.period),
            r.btscs,
            r.n_controls
        );
    }
    s
}

/// Write `spec_curve.json` and `spec_curve.csv` into `out`.
pub fn write(r: &StudyResult, out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    let rows = rows(r);
    let json = serde_json::to_string_pretty(&rows).map_err(|e| StudyError::Output(e.to_string()))?;
    let (pj, pc) = (out.join("spec_curve.json"), out.join("spec_curve.csv"));
    write_text(&pj, &json)?;
    write_text(&pc, &csv(&rows))?;
    Ok(vec![pj, pc])
}
