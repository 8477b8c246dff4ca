//! Conditional (fixed-effects) logit, Chamberlain (1980): `y ~ x | g`. Within
//! each group the likelihood conditions on the number of events, so the
//! group's intercept cancels and short panels (few years per unit) give
//! consistent estimates, where the logit with unit dummies does not.
//!
//! The likelihood is exact (R's `survival::clogit(method = "exact")`,
//! statsmodels' `ConditionalLogit`): for a group with `n` rows and `m` events
//! it is `exp(sum_events eta) / B(n, m)`, where `B(n, m)` sums `exp(sum_S eta)`
//! over all `m`-subsets `S`, computed by the recursion
//! `B(j, r) = B(j - 1, r) + w_j B(j - 1, r - 1)` with its first and second
//! derivatives (Gail, Lubin and Rubinstein 1981), in `O(n m k^2)`; groups with
//! more events than non-events are flipped (the non-events with `-x`), so
//! `m <= n / 2`. Groups without outcome variation carry no information and
//! are dropped and counted.

use std::sync::Mutex;

use nalgebra::{DMatrix, DVector};

use super::demean::demean;
use super::solver::newton::{inf_norm, maximise, Maximum};
use super::{collinear_columns, gram, EstimateError, Estimates, FitOptions};
use crate::formula::design::Design;
use crate::inference::{Dist, InferenceError, VcovSpec};

/// One group of the conditional likelihood.
struct Group {
    rows: Vec<usize>,
    /// Events (after flipping), at most half the rows.
    m: usize,
    /// Flipped: the non-events are counted, with the regressors negated.
    flip: bool,
}

/// Conditional log-likelihood, score and information at a point.
pub type ClogitEval = super::solver::newton::Evaluation;

/// The conditional logit problem argmin's Newton solver maximises.
pub struct ClogitProblem {
    k: usize,
    /// Regressors row-major.
    xr: Vec<f64>,
    y: Vec<bool>,
    groups: Vec<Group>,
    cache: Mutex<Option<(DVector<f64>, ClogitEval)>>,
}

impl ClogitProblem {
    /// The problem for regressors `x`, binary outcomes `y` and group ids
    /// `0..levels`; groups without variation contribute nothing.
    ///
    /// ```
    /// use nalgebra::{DMatrix, DVector};
    /// use concord::estimate::clogit::ClogitProblem;
    /// // One group of three rows, one event: P = e^{x_1 b} / sum_j e^{x_j b}.
    /// let x = DMatrix::from_column_slice(3, 1, &[1.0, 0.0, -1.0]);
    /// let p = ClogitProblem::new(&x, &[true, false, false], &[0, 0, 0]);
    /// let e = p.evaluate(&DVector::from_element(1, 0.5));
    /// let want = 0.5 - (0.5f64.exp() + 1.0 + (-0.5f64).exp()).ln();
    /// assert!((e.loglik - want).abs() < 1e-12);
    /// ```
    pub fn new(x: &DMatrix<f64>, y: &[bool], group: &[u32]) -> Self {
        let (n, k) = x.shape();
        let mut xr = vec![0.0; n * k];
        for (j, c) in x.column_iter().enumerate() {
            for (i, v) in c.iter().enumerate() {
                xr[i * k + j] = *v;
            }
        }
        let levels = group.iter().map(|g| *g as usize + 1).max().unwrap_or(0);
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); levels];
        for (i, g) in group.iter().enumerate() {
            rows[*g as usize].push(i);
        }
        let groups = rows
            .into_iter()
            .filter_map(|rows| {
                let events = rows.iter().filter(|&&i| y[i]).count();
                if events == 0 || events == rows.len() {
                    return None;
                }
                let flip = 2 * events > rows.len();
                let m = if flip { rows.len() - events } else { events };
                Some(Group { rows, m, flip })
            })
            .collect();
        ClogitProblem { k, xr, y: y.to_vec(), groups, cache: Mutex::new(None) }
    }

    /// Conditional log-likelihood, score and information at `b` (cached).
    pub fn evaluate(&self, b: &DVector<f64>) -> ClogitEval {
        if let Ok(guard) = self.cache.lock() {
            if let Some((at, e)) = guard.as_ref() {
                if at == b {
                    return e.clone();
                }
            }
        }
        use rayon::prelude::*;
        let k = self.k;
        let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = self.groups.par_iter().map(|g| self.group(g, b)).collect();
        // Summed in group order: the same bits whatever the number of threads.
        let (mut ll, mut s, mut h) = (0.0, vec![0.0; k], vec![0.0; k * k]);
        for (l, gs, hs) in parts {
            ll += l;
            s.iter_mut().zip(&gs).for_each(|(a, b)| *a += b);
            h.iter_mut().zip(&hs).for_each(|(a, b)| *a += b);
        }
        let e = ClogitEval { loglik: ll, score: DVector::from_vec(s), information: DMatrix::from_row_slice(k, k, &h) };
        if let Ok(mut guard) = self.cache.lock() {
            *guard = Some((b.clone(), e.clone()));
        }
        e
    }

    /// Per-group scores (groups with variation, in order), for clustering.
    pub fn group_scores(&self, b: &DVector<f64>) -> DMatrix<f64> {
        let k = self.k;
        let mut out = DMatrix::zeros(self.groups.len(), k);
        for (r, g) in self.groups.iter().enumerate() {
            let (_, s, _) = self.group(g, b);
            for a in 0..k {
                out[(r, a)] = s[a];
            }
        }
        out
    }

    /// Groups with outcome variation.
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// One group's log-likelihood, score and information (row-major).
    fn group(&self, g: &Group, b: &DVector<f64>) -> (f64, Vec<f64>, Vec<f64>) {
        let k = self.k;
        let m = g.m;
        let sign = if g.flip { -1.0 } else { 1.0 };
        let xs: Vec<f64> = g.rows.iter().flat_map(|&i| self.xr[i * k..(i + 1) * k].iter().map(|v| sign * v)).collect();
        let eta: Vec<f64> = xs.chunks_exact(k).map(|x| super::dot(x, b.as_slice())).collect();
        let c = eta.iter().fold(f64::NEG_INFINITY, |a, e| a.max(*e));
        // B(r), its gradient and Hessian for subsets of size r of the rows so far.
        let mut bb = vec![0.0; m + 1];
        let mut db = vec![0.0; (m + 1) * k];
        let mut d2 = vec![0.0; (m + 1) * k * k];
        bb[0] = 1.0;
        let mut log_scale = 0.0;
        let mut ll = 0.0;
        let mut score = vec![0.0; k];
        for (j, &i) in g.rows.iter().enumerate() {
            let x = &xs[j * k..(j + 1) * k];
            let w = (eta[j] - c).exp();
            let event = self.y[i] != g.flip;
            if event {
                ll += eta[j] - c;
                score.iter_mut().zip(x).for_each(|(s, v)| *s += v);
            }
            for r in (1..=m.min(j + 1)).rev() {
                let (lo, hi) = (r - 1, r);
                let b0 = bb[lo];
                for a in 0..k {
                    for q in 0..k {
                        d2[hi * k * k + a * k + q] += w
                            * (d2[lo * k * k + a * k + q]
                                + x[a] * db[lo * k + q]
                                + db[lo * k + a] * x[q]
                                + x[a] * x[q] * b0);
                    }
                }
                for a in 0..k {
                    db[hi * k + a] += w * (db[lo * k + a] + x[a] * b0);
                }
                bb[hi] += w * b0;
            }
            // Each row at most doubles B (w <= 1): rescale before overflow.
            if bb[m] > 1e250 {
                let s = 1e-250;
                bb.iter_mut().for_each(|v| *v *= s);
                db.iter_mut().for_each(|v| *v *= s);
                d2.iter_mut().for_each(|v| *v *= s);
                log_scale += 250.0 * std::f64::consts::LN_10;
            }
        }
        let bm = bb[m];
        ll -= bm.ln() + log_scale;
        let mean: Vec<f64> = (0..k).map(|a| db[m * k + a] / bm).collect();
        for a in 0..k {
            score[a] -= mean[a];
        }
        let mut h = vec![0.0; k * k];
        for a in 0..k {
            for q in 0..k {
                h[a * k + q] = d2[m * k * k + a * k + q] / bm - mean[a] * mean[q];
            }
        }
        (ll, score, h)
    }
}

crate::estimate::solver::newton::maximise_evaluated!(ClogitProblem);

/// Fit the conditional logit on a design with one fixed effect (the group).
pub(crate) fn fit_clogit(design: &mut Design, opts: &FitOptions) -> Result<Estimates, EstimateError> {
    if design.fixed_effects.len() != 1 {
        return Err(EstimateError::NotYet(format!(
            "clogit conditions on one grouping: give it as the only fixed effect, `y ~ x | group` (got {})",
            design.fixed_effects.len()
        )));
    }
    if !matches!(opts.vcov, VcovSpec::Iid) {
        return Err(EstimateError::Inference(InferenceError::Unsupported(format!(
            "vcov `{}` for clogit: only iid (the inverse information, as R's clogit) is available",
            opts.vcov
        ))));
    }
    // Groups whose outcome never varies: all their subsets are the same.
    let g = &design.fixed_effects[0];
    let mut lo = vec![f64::INFINITY; g.levels];
    let mut hi = vec![f64::NEG_INFINITY; g.levels];
    for (i, &id) in g.ids.iter().enumerate() {
        lo[id as usize] = lo[id as usize].min(design.y[i]);
        hi[id as usize] = hi[id as usize].max(design.y[i]);
    }
    let flat_groups = (0..g.levels).filter(|&l| lo[l] == hi[l]).count();
    let keep: Vec<bool> = g.ids.iter().map(|&id| lo[id as usize] != hi[id as usize]).collect();
    let removed = keep.iter().filter(|k| !**k).count();
    design.dropped.no_variation += removed;
    if removed == design.y.len() {
        return Err(EstimateError::Design(crate::formula::design::DesignError::NoRows(format!(
            "no group of `{}` has variation in `{}` ({} groups, all dropped)",
            g.name, design.outcome, g.levels
        ))));
    }
    design.subset(&keep);
    // Regressors constant within groups are conditioned out with them.
    let mut y0 = design.y.clone();
    let mut x0 = design.x.clone();
    demean(&mut y0, &mut x0, &design.fixed_effects, None, 1e-10, 100_000);
    let drop = collinear_columns(&gram(&x0), 1e-10);
    design.drop_columns(&drop);
    if design.x.ncols() == 0 {
        return Err(EstimateError::NoRegressors(design.dropped.collinear.join(", ")));
    }
    let k = design.x.ncols();
    let y: Vec<bool> = design.y.iter().map(|v| *v == 1.0).collect();
    let problem = ClogitProblem::new(&design.x, &y, &design.fixed_effects[0].ids);
    let groups = problem.n_groups();
    let Maximum { beta, converged, iterations, at, loglik0: ll0, .. } =
        maximise(problem, k, opts.tol, opts.max_iter, ClogitProblem::evaluate)
            .map_err(|e| EstimateError::Solver(e.to_string()))?;
    let gradient_norm = inf_norm(&at.score);
    let cov = at.information.clone().cholesky().map(|c| c.inverse()).ok_or_else(|| {
        EstimateError::Solver("the information matrix is singular at the estimate (separation?)".into())
    })?;
    let n = design.y.len();
    let notes = vec![format!(
        "conditional likelihood (exact) over {groups} groups of `{}`; {flat_groups} groups ({removed} rows) without variation in `{}` dropped; likelihood-ratio test against no regressors: chi2 = {:.4} on {k} df",
        design.fixed_effects[0].name,
        design.outcome,
        2.0 * (at.loglik - ll0)
    )];
    Ok(Estimates {
        beta,
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
        identification: crate::inference::least_identified(&cov),
        cov,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conditional likelihood by enumerating every subset.
    fn brute(x: &[f64], y: &[bool], b: f64) -> f64 {
        let n = x.len();
        let m = y.iter().filter(|v| **v).count();
        let num: f64 = (0..n).filter(|&i| y[i]).map(|i| b * x[i]).sum();
        let mut den = 0.0;
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize == m {
                den += (0..n).filter(|i| mask & (1 << i) != 0).map(|i| b * x[i]).sum::<f64>().exp();
            }
        }
        num - den.ln()
    }

    #[test]
    fn the_recursion_matches_enumeration_with_and_without_flipping() {
        let x = [0.3, -1.2, 2.0, 0.5, 1.1, -0.4, 0.9];
        for y in [vec![true, false, false, true, false, false, false], vec![true, true, false, true, true, false, true]]
        {
            let p = ClogitProblem::new(&DMatrix::from_column_slice(7, 1, &x), &y, &[0; 7]);
            for b in [-0.8, 0.0, 0.6] {
                let e = p.evaluate(&DVector::from_element(1, b));
                let want = brute(&x, &y, b);
                assert!((e.loglik - want).abs() < 1e-12, "{} vs {want}", e.loglik);
                let h = 1e-5;
                let (up, dn) = (brute(&x, &y, b + h), brute(&x, &y, b - h));
                assert!((e.score[0] - (up - dn) / (2.0 * h)).abs() < 1e-7);
                assert!((e.information[(0, 0)] + (up - 2.0 * want + dn) / (h * h)).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn groups_without_variation_are_dropped_and_counted() {
        let df = polars::df!(
            "y" => [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0],
            "x" => [1.0, 0.5, -0.2, 0.3, 2.0, 0.1, 0.4, 0.2, 0.0, -1.0, 0.7, 0.2],
            "g" => [1i64, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5]
        )
        .unwrap();
        let f = super::super::fit(&df, "y ~ x | g", super::super::Family::Clogit, &FitOptions::default()).unwrap();
        // Group 3 (all 0) and group 5 (all 1) are dropped.
        assert_eq!((f.nobs, f.dropped.no_variation), (8, 4));
        assert!(f.notes[0].contains("3 groups of `g`; 2 groups (4 rows) without variation"), "{}", f.notes[0]);
        let flat =
            polars::df!("y" => [1.0, 1.0, 0.0, 0.0], "x" => [1.0, 2.0, 3.0, 4.0], "g" => [1i64, 1, 2, 2]).unwrap();
        let e = super::super::fit(&flat, "y ~ x | g", super::super::Family::Clogit, &FitOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no group of `g` has variation in `y` (2 groups, all dropped)"), "{e}");
    }
}
