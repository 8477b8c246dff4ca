//! Cox proportional hazards in counting-process form (Andersen and Gill 1982):
//! each row is a risk interval `(start, stop]` of one unit with covariates that
//! hold over it, so covariates may vary over time; `strata(s)` gives each
//! stratum its own baseline hazard. Ties are handled by Efron's approximation
//! (R's `coxph` default) or Breslow's. The partial likelihood is maximised by
//! damped Newton (argmin); the covariance is the inverse information, or the
//! Lin-Wei (1989) robust sandwich of score residuals summed by cluster (R's
//! `coxph(..., cluster = id)`: no small-sample factor).
//!
//! Risk sets are swept, not searched: within a stratum rows are sorted once by
//! exit time and by entry time (descending), and one pass over the distinct
//! exit times adds the rows that become at risk and removes those whose
//! interval starts at or after the time, keeping the running sums of `w`,
//! `w x` and `w x x'`. A likelihood evaluation is `O(n k^2)` after an
//! `O(n log n)` sort, so millions of spell-years are cheap.

use std::sync::Mutex;

use nalgebra::{DMatrix, DVector};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::solver::newton::{inf_norm, maximise, Maximum};
use super::{collinear_columns, finish_fit, gram, Design, EstimateError, Estimates, Family, Fit, FitOptions};
use crate::formula::design::{build_design_in, numeric, Groups};
use crate::formula::surv::SurvFormula;
use crate::inference::{intersect, Dist, InferenceError, VcovSpec};

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    /// Efron (1977): the tied events leave the risk set a fraction at a time.
    #[default]
    Efron,
    /// Breslow (1974): every tied event sees the whole risk set.
    Breslow,
}

impl std::str::FromStr for Ties {
    type Err = EstimateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "efron" => Ok(Ties::Efron),
            "breslow" => Ok(Ties::Breslow),
            _ => Err(EstimateError::NotYet(format!("ties `{s}` (use efron or breslow)"))),
        }
    }
}

impl std::fmt::Display for Ties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ties::Efron => "efron",
            Ties::Breslow => "breslow",
        })
    }
}

/// The rows of one stratum in the two sweep orders.
struct Stratum {
    /// Rows by exit time, latest first.
    by_stop: Vec<usize>,
    /// Rows by entry time, latest first.
    by_start: Vec<usize>,
}

/// Log partial likelihood, score and information at a point.
pub type CoxEval = super::solver::newton::Evaluation;

/// Survival data in counting-process form, sorted for the risk-set sweep:
/// the problem argmin's Newton solver maximises.
pub struct CoxProblem {
    k: usize,
    /// The rows are stored stratum by stratum in decreasing order of `stop`,
    /// the order the sweep reads them in (sequential reads instead of random
    /// ones: twice as fast on a million rows); `perm[p]` is the caller's row
    /// at position `p`.
    perm: Vec<usize>,
    /// Covariates centred at their means, row-major (one row's `k` values together).
    xr: Vec<f64>,
    start: Vec<f64>,
    stop: Vec<f64>,
    event: Vec<bool>,
    stratum_of: Vec<u32>,
    strata: Vec<Stratum>,
    ties: Ties,
    cache: Mutex<Option<(DVector<f64>, CoxEval)>>,
}

impl CoxProblem {
    /// The problem for covariates `x` (n x k), risk intervals `(start, stop]`,
    /// events (0/1) and stratum ids `0..levels` (all zero for one stratum).
    /// The intervals must satisfy `start < stop` (see [`check_intervals`]).
    ///
    /// ```
    /// use nalgebra::{DMatrix, DVector};
    /// use concord::estimate::cox::{CoxProblem, Ties};
    /// // Three units, one covariate, events at t = 1 and t = 2.
    /// let x = DMatrix::from_column_slice(3, 1, &[1.0, 0.0, 2.0]);
    /// let p = CoxProblem::new(&x, &[0.0; 3], &[1.0, 2.0, 3.0], &[true, true, false], &[0; 3], Ties::Efron);
    /// let e = p.evaluate(&DVector::zeros(1));
    /// // At b = 0 the partial likelihood is 1/3 * 1/2.
    /// assert!((e.loglik - (1.0f64 / 6.0).ln()).abs() < 1e-12);
    /// ```
    pub fn new(x: &DMatrix<f64>, start: &[f64], stop: &[f64], event: &[bool], strata: &[u32], ties: Ties) -> Self {
        let (n, k) = x.shape();
        let means: Vec<f64> = x.column_iter().map(|c| c.mean()).collect();
        let levels = strata.iter().map(|s| *s as usize + 1).max().unwrap_or(0);
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); levels];
        for (i, s) in strata.iter().enumerate() {
            rows[*s as usize].push(i);
        }
        // Positions: each stratum's rows by decreasing stop (a stable sort, so
        // ties keep the caller's order), strata one after the other.
        let mut perm = Vec::with_capacity(n);
        let mut ranges = Vec::new();
        for mut r in rows.into_iter().filter(|r| !r.is_empty()) {
            r.sort_by(|&a, &b| stop[b].total_cmp(&stop[a]));
            ranges.push(perm.len()..perm.len() + r.len());
            perm.extend(r);
        }
        let mut xr = vec![0.0; n * k];
        for (p, &i) in perm.iter().enumerate() {
            for j in 0..k {
                xr[p * k + j] = x[(i, j)] - means[j];
            }
        }
        let start: Vec<f64> = perm.iter().map(|&i| start[i]).collect();
        let stop: Vec<f64> = perm.iter().map(|&i| stop[i]).collect();
        let strata_rows = ranges
            .into_iter()
            .map(|r| {
                let by_stop: Vec<usize> = r.collect();
                let mut by_start = by_stop.clone();
                by_start.sort_by(|&a, &b| start[b].total_cmp(&start[a]));
                Stratum { by_stop, by_start }
            })
            .collect();
        CoxProblem {
            k,
            xr,
            event: perm.iter().map(|&i| event[i]).collect(),
            stratum_of: perm.iter().map(|&i| strata[i]).collect(),
            start,
            stop,
            perm,
            strata: strata_rows,
            ties,
            cache: Mutex::new(None),
        }
    }

    /// Log partial likelihood, score and information at `b` (cached: Newton
    /// asks for all three at the same point).
    pub fn evaluate(&self, b: &DVector<f64>) -> CoxEval {
        if let Ok(guard) = self.cache.lock() {
            if let Some((at, e)) = guard.as_ref() {
                if at == b {
                    return e.clone();
                }
            }
        }
        let e = self.sweep(b, None);
        if let Ok(mut guard) = self.cache.lock() {
            *guard = Some((b.clone(), e.clone()));
        }
        e
    }

    /// Score residuals (n x k): each row's share of the score, the martingale
    /// increments weighted by `x_i - xbar(t)` (R's `residuals(fit, "score")`).
    pub fn score_residuals(&self, b: &DVector<f64>) -> DMatrix<f64> {
        let (n, k) = (self.stop.len(), self.k);
        let mut r = vec![0.0; n * k];
        self.sweep(b, Some(&mut r));
        // Back to the caller's row order.
        let mut out = DMatrix::zeros(n, k);
        for (p, &i) in self.perm.iter().enumerate() {
            for j in 0..k {
                out[(i, j)] = r[p * k + j];
            }
        }
        out
    }

    /// Number of events.
    pub fn events(&self) -> usize {
        self.event.iter().filter(|e| **e).count()
    }

    /// One pass over every stratum's risk sets (see the module doc); with
    /// `resid`, also the score residuals (row-major).
    fn sweep(&self, b: &DVector<f64>, mut resid: Option<&mut [f64]>) -> CoxEval {
        let k = self.k;
        let n = self.stop.len();
        let bs = b.as_slice();
        let eta: Vec<f64> = (0..n).map(|i| super::dot(&self.xr[i * k..(i + 1) * k], bs)).collect();
        // A shift per stratum cancels from its partial likelihood and keeps
        // exp() finite.
        let mut shift = vec![f64::NEG_INFINITY; self.stratum_of.iter().map(|s| *s as usize + 1).max().unwrap_or(0)];
        for (e, s) in eta.iter().zip(&self.stratum_of) {
            shift[*s as usize] = shift[*s as usize].max(*e);
        }
        let w: Vec<f64> = eta.iter().zip(&self.stratum_of).map(|(e, s)| (e - shift[*s as usize]).exp()).collect();
        let mut ll = 0.0;
        let mut g = vec![0.0; k];
        let mut h = vec![0.0; k * k];
        let x = |i: usize| &self.xr[i * k..(i + 1) * k];
        // Running sums of the risk set (upper triangle of s2) and of the tied events.
        let (mut s1, mut s2) = (vec![0.0; k], vec![0.0; k * k]);
        let (mut e1, mut e2, mut xd) = (vec![0.0; k], vec![0.0; k * k], vec![0.0; k]);
        let (mut mean, mut mbar, mut xh, mut xa) = (vec![0.0; k], vec![0.0; k], vec![0.0; k], vec![0.0; k]);
        // Cumulative hazard increments (and times the mean) of the later event times.
        let mut cxh = vec![0.0; k];
        let add = |s0: &mut f64, s1: &mut [f64], s2: &mut [f64], xi: &[f64], wi: f64, sign: f64| {
            let ws = wi * sign;
            *s0 += ws;
            for a in 0..k {
                let v = ws * xi[a];
                s1[a] += v;
                for bb in a..k {
                    s2[a * k + bb] += v * xi[bb];
                }
            }
        };
        for st in &self.strata {
            let (by_stop, by_start) = (&st.by_stop, &st.by_start);
            let mut s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
            s2.iter_mut().for_each(|v| *v = 0.0);
            let mut ch = 0.0;
            cxh.iter_mut().for_each(|v| *v = 0.0);
            let mut at_risk = 0usize;
            let (mut p, mut q) = (0, 0);
            while p < by_stop.len() {
                let t = self.stop[by_stop[p]];
                // Rows whose interval starts at or after t are not at risk at t
                // (they entered the sums at a later exit time).
                while q < by_start.len() && self.start[by_start[q]] >= t {
                    let i = by_start[q];
                    q += 1;
                    add(&mut s0, &mut s1, &mut s2, x(i), w[i], -1.0);
                    at_risk -= 1;
                    if at_risk == 0 {
                        // An empty risk set: clear the rounding left by the subtractions.
                        s0 = 0.0;
                        s1.iter_mut().for_each(|v| *v = 0.0);
                        s2.iter_mut().for_each(|v| *v = 0.0);
                    }
                    if let Some(r) = resid.as_deref_mut() {
                        for a in 0..k {
                            r[i * k + a] -= w[i] * (x(i)[a] * ch - cxh[a]);
                        }
                    }
                }
                let mut e0 = 0.0;
                e1.iter_mut().for_each(|v| *v = 0.0);
                e2.iter_mut().for_each(|v| *v = 0.0);
                xd.iter_mut().for_each(|v| *v = 0.0);
                let mut m = 0usize;
                let p0 = p;
                while p < by_stop.len() && self.stop[by_stop[p]] == t {
                    let i = by_stop[p];
                    p += 1;
                    add(&mut s0, &mut s1, &mut s2, x(i), w[i], 1.0);
                    at_risk += 1;
                    if let Some(r) = resid.as_deref_mut() {
                        for a in 0..k {
                            r[i * k + a] += w[i] * (x(i)[a] * ch - cxh[a]);
                        }
                    }
                    if self.event[i] {
                        m += 1;
                        add(&mut e0, &mut e1, &mut e2, x(i), w[i], 1.0);
                        ll += eta[i] - shift[self.stratum_of[i] as usize];
                        for (d, v) in xd.iter_mut().zip(x(i)) {
                            *d += v;
                        }
                    }
                }
                if m == 0 {
                    continue;
                }
                for a in 0..k {
                    g[a] += xd[a];
                }
                // Efron: the l-th of m tied events sees the risk set less l/m of
                // the tied events; Breslow: all m see the whole risk set.
                let (reps, mult) = match self.ties {
                    Ties::Efron => (m, 1.0),
                    Ties::Breslow => (1, m as f64),
                };
                let (mut hsum, mut asum) = (0.0, 0.0);
                xh.iter_mut().for_each(|v| *v = 0.0);
                xa.iter_mut().for_each(|v| *v = 0.0);
                mbar.iter_mut().for_each(|v| *v = 0.0);
                for l in 0..reps {
                    let f = l as f64 / m as f64;
                    let d = s0 - f * e0;
                    ll -= mult * d.ln();
                    for a in 0..k {
                        mean[a] = (s1[a] - f * e1[a]) / d;
                        g[a] -= mult * mean[a];
                    }
                    for a in 0..k {
                        for bb in a..k {
                            h[a * k + bb] += mult * ((s2[a * k + bb] - f * e2[a * k + bb]) / d - mean[a] * mean[bb]);
                        }
                    }
                    let hl = mult / d;
                    hsum += hl;
                    asum += f * hl;
                    for a in 0..k {
                        xh[a] += hl * mean[a];
                        xa[a] += f * hl * mean[a];
                        mbar[a] += mult * mean[a] / m as f64;
                    }
                }
                if let Some(r) = resid.as_deref_mut() {
                    ch += hsum;
                    for a in 0..k {
                        cxh[a] += xh[a];
                    }
                    for &i in &by_stop[p0..p] {
                        if self.event[i] {
                            for a in 0..k {
                                let xi = x(i)[a];
                                r[i * k + a] += (xi - mbar[a]) + w[i] * (xi * asum - xa[a]);
                            }
                        }
                    }
                }
            }
            // Rows at risk from before the first exit time leave at the end.
            if let Some(r) = resid.as_deref_mut() {
                for &i in &by_start[q..] {
                    for a in 0..k {
                        r[i * k + a] -= w[i] * (x(i)[a] * ch - cxh[a]);
                    }
                }
            }
        }
        let information = DMatrix::from_fn(k, k, |a, bb| if a <= bb { h[a * k + bb] } else { h[bb * k + a] });
        CoxEval { loglik: ll, score: DVector::from_vec(g), information }
    }
}

crate::estimate::solver::newton::maximise_evaluated!(CoxProblem);

/// Every `start < stop`, or an error naming the first row (1-based in the
/// input) that breaks it.
pub fn check_intervals(
    start: &[f64],
    stop: &[f64],
    rows: &[usize],
    start_col: &str,
    stop_col: &str,
) -> Result<(), EstimateError> {
    for (i, (s, t)) in start.iter().zip(stop).enumerate() {
        if t <= s {
            return Err(EstimateError::BadRow {
                row: rows[i] + 1,
                detail: format!(
                    "the risk interval ends before it starts: `{stop_col}` = {t} is not after `{start_col}` = {s}"
                ),
            });
        }
    }
    Ok(())
}

/// Fit `Surv(start, stop, event) ~ x + strata(s)` by maximum partial likelihood.
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit, Family, FitOptions};
/// let df = df!(
///     "t" => [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
///     "d" => [1.0, 1.0, 0.0, 1.0, 1.0, 0.0],
///     "x" => [2.0, 0.0, 1.0, 1.0, 0.0, 0.5]
/// ).unwrap();
/// let f = fit(&df, "Surv(t, d) ~ x", Family::Cox, &FitOptions::default()).unwrap();
/// assert!(f.converged && f.coef("x").unwrap().estimate > 0.0);
/// ```
pub fn fit_cox(df: &DataFrame, formula: &str, opts: &FitOptions) -> Result<(Fit, Design), EstimateError> {
    let sf = SurvFormula::parse(formula)?;
    if !sf.rhs.fixed_effects.is_empty() {
        return Err(EstimateError::NotYet(format!(
            "fixed effects in a Cox model (`| {}`): stratify instead, with strata({})",
            sf.rhs.fixed_effects.join(" + "),
            sf.rhs.fixed_effects.join(", ")
        )));
    }
    let clusters = match &opts.vcov {
        VcovSpec::Iid | VcovSpec::Hc(0) => Vec::new(),
        VcovSpec::Cluster(c) if c.len() == 1 => c.clone(),
        other => {
            return Err(EstimateError::Inference(InferenceError::Unsupported(format!(
                "vcov `{other}` for cox: use iid (model-based), hc0 (robust, each row its own cluster) or cluster:COL (Lin-Wei)"
            ))))
        }
    };
    // The event is the design's outcome; an intercept is asked for (so i()
    // drops a reference level) and removed: the baseline hazard absorbs it.
    let mut rhs = sf.rhs.clone();
    rhs.lhs = crate::formula::Factor::Var(sf.event.clone());
    rhs.intercept = true;
    let groups: Vec<String> = clusters.iter().chain(&sf.strata).cloned().collect();
    let mut design = build_design_in(df, &rhs, opts.panel.as_ref(), &groups, opts.sample.as_deref())?;
    if design.names.first().is_some_and(|n| n == "(Intercept)") {
        design.x = design.x.clone().remove_column(0);
        design.names.remove(0);
    }
    // Entry and exit times; rows missing either are dropped as missing.
    let stop_all = numeric(df, &sf.stop)?;
    let start_all = match &sf.start {
        Some(s) => numeric(df, s)?,
        None => vec![Some(0.0); df.height()],
    };
    let keep: Vec<bool> = design.rows.iter().map(|&r| stop_all[r].is_some() && start_all[r].is_some()).collect();
    let lost = keep.iter().filter(|k| !**k).count();
    if lost > 0 {
        design.dropped.missing += lost;
        design.subset(&keep);
    }
    if design.y.is_empty() {
        return Err(EstimateError::Design(crate::formula::design::DesignError::NoRows(
            "every row has a missing value in a used column".into(),
        )));
    }
    let start: Vec<f64> = design.rows.iter().map(|&r| start_all[r].unwrap_or(f64::NAN)).collect();
    let stop: Vec<f64> = design.rows.iter().map(|&r| stop_all[r].unwrap_or(f64::NAN)).collect();
    for (i, &v) in design.y.iter().enumerate() {
        if v != 0.0 && v != 1.0 {
            return Err(EstimateError::BadOutcome {
                family: Family::Cox,
                column: sf.event.clone(),
                expected: "0 or 1 (censored or event)",
                row: design.rows[i] + 1,
                value: v,
            });
        }
    }
    let start_col = sf.start.clone().unwrap_or_else(|| "0".into());
    check_intervals(&start, &stop, &design.rows, &start_col, &sf.stop)?;
    let event: Vec<bool> = design.y.iter().map(|v| *v == 1.0).collect();
    if !event.iter().any(|e| *e) {
        return Err(EstimateError::Design(crate::formula::design::DesignError::NoRows(format!(
            "no events: `{}` is 0 in every row",
            sf.event
        ))));
    }
    // One stratum per combination of the strata columns.
    let n = design.y.len();
    let strata_groups: Vec<Groups> = design.clusters.split_off(clusters.len());
    let strata: Groups = match strata_groups.split_first() {
        None => Groups { name: String::new(), ids: vec![0; n], levels: 1 },
        Some((first, rest)) => rest.iter().fold(first.clone(), |acc, g| intersect(&acc, g)),
    };
    // Collinear regressors (a constant one among them) are dropped, as R does.
    let centred = DMatrix::from_fn(n, design.x.ncols(), |i, j| design.x[(i, j)]);
    let means: Vec<f64> = centred.column_iter().map(|c| c.mean()).collect();
    let centred = DMatrix::from_fn(n, centred.ncols(), |i, j| centred[(i, j)] - means[j]);
    let drop = collinear_columns(&gram(&centred), 1e-10);
    design.drop_columns(&drop);
    if design.x.ncols() == 0 {
        return Err(EstimateError::NoRegressors(if design.dropped.collinear.is_empty() {
            "a Cox model needs at least one regressor".into()
        } else {
            design.dropped.collinear.join(", ")
        }));
    }
    let k = design.x.ncols();
    let problem = CoxProblem::new(&design.x, &start, &stop, &event, &strata.ids, opts.ties);
    let Maximum { problem, beta, converged, iterations, at, loglik0: ll0 } =
        maximise(problem, k, opts.tol, opts.max_iter, CoxProblem::evaluate)
            .map_err(|e| EstimateError::Solver(e.to_string()))?;
    let gradient_norm = inf_norm(&at.score);
    let bread = at.information.clone().cholesky().map(|c| c.inverse()).ok_or_else(|| {
        EstimateError::Solver(
            "the information matrix is singular at the estimate (a regressor without variation within the risk sets?)"
                .into(),
        )
    })?;
    let cov = match &opts.vcov {
        VcovSpec::Iid => bread.clone(),
        _ => {
            // dfbeta = score residuals times the inverse information, summed
            // by cluster (each row alone under hc0).
            let d = problem.score_residuals(&beta) * &bread;
            let summed = match design.clusters.first() {
                Some(g) => {
                    let mut s = DMatrix::zeros(g.levels, k);
                    for (i, id) in g.ids.iter().enumerate() {
                        let mut row = s.row_mut(*id as usize);
                        row += d.row(i);
                    }
                    s
                }
                None => d,
            };
            summed.tr_mul(&summed)
        }
    };
    let events = problem.events();
    let mut notes = vec![format!(
        "{events} events in {n} rows, {} strat{}; ties: {}; likelihood-ratio test against no regressors: chi2 = {:.4} on {k} df",
        strata.levels,
        if strata.levels == 1 { "um" } else { "a" },
        opts.ties,
        2.0 * (at.loglik - ll0)
    )];
    if let VcovSpec::Cluster(c) = &opts.vcov {
        notes.push(format!("Lin-Wei robust covariance, {} clusters of `{}`", design.clusters[0].levels, c[0]));
    }
    let est = Estimates {
        beta,
        cov,
        dist: Dist::Normal,
        df_resid: (n - k) as f64,
        loglik: Some(at.loglik),
        r2: None,
        adj_r2: None,
        within_r2: None,
        pseudo_r2: None,
        converged,
        iterations,
        gradient_norm,
        identification: crate::inference::least_identified(&bread),
        notes,
    };
    let (mut fit, design) = finish_fit(design, &sf.to_string(), Family::Cox, opts, est)?;
    // As R: BIC counts events, not rows.
    fit.bic = fit.loglik.map(|ll| -2.0 * ll + k as f64 * (events as f64).ln());
    Ok((fit, design))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A brute-force partial likelihood: every risk set searched directly.
    fn brute(x: &[f64], start: &[f64], stop: &[f64], ev: &[bool], st: &[u32], b: f64, ties: Ties) -> f64 {
        let mut times: Vec<(u32, f64)> = (0..x.len()).filter(|&i| ev[i]).map(|i| (st[i], stop[i])).collect();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        times.dedup();
        let mut ll = 0.0;
        for (s, t) in times {
            let risk: Vec<usize> = (0..x.len()).filter(|&i| st[i] == s && start[i] < t && t <= stop[i]).collect();
            let dead: Vec<usize> = risk.iter().copied().filter(|&i| ev[i] && stop[i] == t).collect();
            let s0: f64 = risk.iter().map(|&i| (b * x[i]).exp()).sum();
            let e0: f64 = dead.iter().map(|&i| (b * x[i]).exp()).sum();
            let m = dead.len() as f64;
            for (l, &i) in dead.iter().enumerate() {
                let f = if ties == Ties::Efron { l as f64 / m } else { 0.0 };
                ll += b * x[i] - (s0 - f * e0).ln();
            }
        }
        ll
    }

    #[test]
    fn the_sweep_matches_a_brute_force_partial_likelihood() {
        // Overlapping intervals, ties, late entries, two strata.
        let x = [0.5, -1.0, 2.0, 0.0, 1.5, -0.5, 1.0, 0.3, -2.0, 0.7];
        let start = [0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 1.0, 0.0, 2.0, 4.0];
        let stop = [2.0, 3.0, 3.0, 4.0, 3.0, 5.0, 2.0, 4.0, 4.0, 6.0];
        let ev = [true, false, true, true, true, true, true, false, true, false];
        let st = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1];
        let xm = DMatrix::from_column_slice(10, 1, &x);
        for ties in [Ties::Efron, Ties::Breslow] {
            let p = CoxProblem::new(&xm, &start, &stop, &ev, &st, ties);
            for b in [-0.7, 0.0, 0.4] {
                let e = p.evaluate(&DVector::from_element(1, b));
                let want = brute(&x, &start, &stop, &ev, &st, b, ties);
                assert!((e.loglik - want).abs() < 1e-12, "{ties} b={b}: {} vs {want}", e.loglik);
                // Score and information against central differences.
                let hstep = 1e-5;
                let up = brute(&x, &start, &stop, &ev, &st, b + hstep, ties);
                let dn = brute(&x, &start, &stop, &ev, &st, b - hstep, ties);
                let g = (up - dn) / (2.0 * hstep);
                let h = -(up - 2.0 * want + dn) / (hstep * hstep);
                assert!((e.score[0] - g).abs() < 1e-7, "{ties}: score {} vs {g}", e.score[0]);
                assert!((e.information[(0, 0)] - h).abs() < 1e-4, "{ties}: info {} vs {h}", e.information[(0, 0)]);
                // Score residuals add up to the score.
                let r = p.score_residuals(&DVector::from_element(1, b));
                assert!((r.sum() - e.score[0]).abs() < 1e-12, "{ties}: residuals {} vs {}", r.sum(), e.score[0]);
            }
        }
    }

    #[test]
    fn bad_rows_are_named() {
        let df = polars::df!(
            "t0" => [0.0, 1.0, 2.0], "t1" => [1.0, 1.0, 3.0], "d" => [1.0, 0.0, 1.0], "x" => [0.1, 0.2, 0.3]
        )
        .unwrap();
        let e =
            super::super::fit(&df, "Surv(t0, t1, d) ~ x", Family::Cox, &FitOptions::default()).unwrap_err().to_string();
        assert_eq!(e, "row 2: the risk interval ends before it starts: `t1` = 1 is not after `t0` = 1");
        let df = polars::df!("t1" => [1.0, 2.0, 3.0], "d" => [1.0, 2.0, 1.0], "x" => [0.1, 0.2, 0.3]).unwrap();
        let e = super::super::fit(&df, "Surv(t1, d) ~ x", Family::Cox, &FitOptions::default()).unwrap_err().to_string();
        assert_eq!(e, "the outcome `d` must be 0 or 1 (censored or event) for cox; row 2 has 2");
        let e = super::super::fit(&df, "Surv(t1, d) ~ x + strata(s)", Family::Cox, &FitOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no column `s` in the data"), "{e}");
        let e =
            super::super::fit(&df, "Surv(t0, t1, d) ~ x", Family::Cox, &FitOptions::default()).unwrap_err().to_string();
        assert!(e.starts_with("no column `t0` in the data"), "{e}");
    }
}
