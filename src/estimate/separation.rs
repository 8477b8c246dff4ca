//! Separation in Poisson and binary models: observations whose conditional
//! mean is 0 (or 1) at the supremum of the likelihood, so that no maximum
//! exists until they are dropped (Correia, Guimarães and Zylkin 2019,
//! "Verifying the existence of maximum likelihood estimates for generalized
//! linear models"; the rules of Stata's `ppmlhdfe`).
//!
//! Three rules, run in this order, each on what the previous left:
//! 1. the fixed-effects rule: a fixed-effect group whose outcome is all zero
//!    (Poisson, negbin) or all 0 or all 1 (binary models);
//! 2. the simplex rule (Poisson): the regressors, partialled on the fixed
//!    effects among `y > 0` rows, have a combination `z` that is zero on every
//!    `y > 0` row and `>= 0` on every `y = 0` row; a linear program finds the
//!    `y = 0` rows where some such `z` is positive;
//! 3. the iterative rectifier (Poisson): least squares of `u` on regressors and
//!    fixed effects, weighted heavily on `y > 0` rows, with `u` replaced by
//!    `max(fit, 0)` on `y = 0` rows until the fit is a certificate
//!    (`>= 0` on `y = 0`, `0` on `y > 0`): its positive rows are separated.
//!    This rule also finds separation by regressors and fixed effects together.

use nalgebra::{DMatrix, DVector};

use super::demean::demean;
use super::{collinear_columns, gram, scale_rows, EstimateError, Family};
use crate::formula::design::{Design, Groups};

/// Tolerance of the iterative rectifier: fitted values within
/// `(-0.1 tol, tol)` count as zero (ppmlhdfe's `relu_tol`).
pub const RELU_TOL: f64 = 1e-4;
/// Iterations of the iterative rectifier before it gives up (ppmlhdfe's `relu_maxiter`).
pub const RELU_MAX_ITER: usize = 100;
/// Above this many candidate rows the simplex rule leaves them to the rectifier
/// (its dense tableau grows with their square).
pub const SIMPLEX_MAX_ROWS: usize = 1_000;
/// The rectifier's least squares with several fixed effects writes their
/// dummies out (exact) up to this many parameters and cells.
const DENSE_MAX_PARAMS: usize = 1_500;
const DENSE_MAX_CELLS: usize = 20_000_000;

/// Rows in fixed-effect groups whose outcome never varies: all zero for
/// Poisson and negbin, all 0 or all 1 for binary models. Their fixed effect
/// runs to minus (or plus) infinity and they carry no information on the
/// coefficients. `false` marks a separated row; the names of the fixed
/// effects that flagged any row come second.
///
/// ```
/// use nalgebra::DVector;
/// use concord::estimate::Family;
/// use concord::estimate::separation::fixed_effects_rule;
/// use concord::formula::design::Groups;
/// let g = Groups { name: "id".into(), ids: vec![0, 0, 1, 1], levels: 2 };
/// let y = DVector::from_vec(vec![0.0, 0.0, 0.0, 3.0]);
/// assert_eq!(fixed_effects_rule(&y, &[g], Family::Poisson).0, [false, false, true, true]);
/// ```
pub fn fixed_effects_rule(y: &DVector<f64>, fes: &[Groups], family: Family) -> (Vec<bool>, Vec<String>) {
    let n = y.len();
    let mut keep = vec![true; n];
    let mut names = Vec::new();
    for g in fes {
        let mut lo = vec![f64::INFINITY; g.levels];
        let mut hi = vec![f64::NEG_INFINITY; g.levels];
        for (i, &id) in g.ids.iter().enumerate() {
            lo[id as usize] = lo[id as usize].min(y[i]);
            hi[id as usize] = hi[id as usize].max(y[i]);
        }
        let mut any = false;
        for (i, &id) in g.ids.iter().enumerate() {
            let (l, h) = (lo[id as usize], hi[id as usize]);
            let degenerate = match family {
                Family::Poisson | Family::Negbin => h == 0.0,
                _ => l == h,
            };
            if degenerate {
                keep[i] = false;
                any = true;
            }
        }
        if any {
            names.push(g.name.clone());
        }
    }
    (keep, names)
}

/// Rows in a fixed-effect group of size one (`false`).
fn singleton_rows(fes: &[Groups], n: usize) -> Vec<bool> {
    let mut keep = vec![true; n];
    for g in fes {
        let c = g.counts();
        for (i, &id) in g.ids.iter().enumerate() {
            if c[id as usize] == 1 {
                keep[i] = false;
            }
        }
    }
    keep
}

/// Drop rows by the fixed-effects rule and the singletons that leaves, until
/// neither remains; counts go to `design.dropped`. Refuses a design that loses
/// every row, naming the fixed effects whose groups lack outcome variation.
pub(crate) fn fixed_effects_and_singletons(design: &mut Design, family: Family) -> Result<(), EstimateError> {
    if design.fixed_effects.is_empty() {
        return Ok(());
    }
    let n_before = design.y.len();
    let mut flagged_by: Vec<String> = Vec::new();
    loop {
        let (keep, names) = fixed_effects_rule(&design.y, &design.fixed_effects, family);
        let removed = keep.iter().filter(|k| !**k).count();
        for nm in names {
            if !flagged_by.contains(&nm) {
                flagged_by.push(nm);
            }
        }
        design.dropped.no_variation += removed;
        design.subset(&keep);
        let single = singleton_rows(&design.fixed_effects, design.y.len());
        let s = single.iter().filter(|k| !**k).count();
        design.dropped.singletons += s;
        design.subset(&single);
        if design.y.is_empty() {
            let outcome = match family {
                Family::Poisson | Family::Negbin => "is zero throughout",
                _ => "never varies",
            };
            return Err(EstimateError::AllSeparated {
                family,
                rows: n_before,
                detail: format!(
                    "every group of the fixed effect(s) {} in which `{}` {outcome} (the fixed-effects rule), or a singleton",
                    flagged_by.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
                    design.outcome
                ),
            });
        }
        if removed + s == 0 {
            return Ok(());
        }
    }
}

/// Run the simplex rule and the iterative rectifier on a Poisson (or negbin)
/// design and drop the rows they flag (counts and iterations go to
/// `design.dropped`). Returns whether any row was dropped; the caller then
/// re-runs the fixed-effects rule, the singletons and the collinearity check.
pub(crate) fn drop_separated_by_regressors(design: &mut Design) -> Result<bool, EstimateError> {
    if design.y.iter().all(|v| *v > 0.0) {
        return Ok(false);
    }
    let mut any = false;
    let keep = simplex_rule(&design.y, &design.x, &design.fixed_effects)?;
    let s = keep.iter().filter(|k| !**k).count();
    if s > 0 {
        design.dropped.separated_simplex += s;
        design.subset(&keep);
        any = true;
    }
    let relu = relu_rule(&design.y, &design.x, &design.fixed_effects)?;
    design.dropped.relu_iterations += relu.iterations;
    let r = relu.keep.iter().filter(|k| !**k).count();
    if r > 0 {
        design.dropped.separated_relu += r;
        design.subset(&relu.keep);
        any = true;
    }
    if design.y.is_empty() {
        return Err(EstimateError::AllSeparated {
            family: Family::Poisson,
            rows: s + r,
            detail: "every row is separated by the regressors (simplex rule and iterative rectifier)".into(),
        });
    }
    Ok(any)
}

/// The simplex rule: `false` for the `y = 0` rows where a combination of the
/// regressors (partialled on the fixed effects over the `y > 0` rows) that is
/// zero on every `y > 0` row can be positive while staying `>= 0` on every
/// `y = 0` row. Without such a combination (the usual case: the regressors
/// have full rank among `y > 0` rows) nothing is flagged and no program is
/// solved.
pub fn simplex_rule(y: &DVector<f64>, x: &DMatrix<f64>, fes: &[Groups]) -> Result<Vec<bool>, EstimateError> {
    let n = y.len();
    let k = x.ncols();
    let mut keep = vec![true; n];
    if k == 0 || y.iter().all(|v| *v > 0.0) {
        return Ok(keep);
    }
    let w: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v > 0.0))).collect();
    let mut xt = x.clone();
    let mut dummy = DVector::zeros(n);
    let info = demean(&mut dummy, &mut xt, fes, Some(&w), 1e-13, 100_000);
    if !info.converged {
        return Err(EstimateError::DemeanNotConverged(info.iterations));
    }
    let pos: Vec<usize> = (0..n).filter(|&i| y[i] > 0.0).collect();
    let zero: Vec<usize> = (0..n).filter(|&i| y[i] == 0.0).collect();
    let xp = xt.select_rows(pos.iter());
    let flagged = collinear_columns(&gram(&xp), 1e-9);
    if flagged.is_empty() {
        return Ok(keep);
    }
    let ok: Vec<usize> = (0..k).filter(|j| !flagged.contains(j)).collect();
    // Residuals of the flagged regressors on the others over y > 0 rows,
    // evaluated on the y = 0 rows: the directions zero on every y > 0 row.
    let xf = xt.select_columns(flagged.iter());
    let mut r = xf.select_rows(zero.iter());
    if !ok.is_empty() {
        let xk = xt.select_columns(ok.iter());
        let xkp = xk.select_rows(pos.iter());
        let ch = xkp.tr_mul(&xkp).cholesky().ok_or_else(|| {
            EstimateError::Solver("simplex rule: the kept regressors are singular among y > 0".into())
        })?;
        let b = ch.solve(&xkp.tr_mul(&xf.select_rows(pos.iter())));
        r -= xk.select_rows(zero.iter()) * b;
    }
    // Round what demeaning and least squares leave near zero, column by
    // column, relative to the regressor's scale.
    for (j, mut c) in r.column_iter_mut().enumerate() {
        let scale = xf.column(j).amax().max(1e-300);
        for v in c.iter_mut() {
            if v.abs() <= 1e-9 * scale {
                *v = 0.0;
            } else {
                *v /= scale;
            }
        }
    }
    let candidates: Vec<usize> = (0..zero.len()).filter(|&i| r.row(i).iter().any(|v| *v != 0.0)).collect();
    if candidates.is_empty() || candidates.len() > SIMPLEX_MAX_ROWS {
        return Ok(keep);
    }
    let rc = r.select_rows(candidates.iter());
    for (c, sep) in candidates.iter().zip(separable_rows(&rc)?) {
        if sep {
            keep[zero[*c]] = false;
        }
    }
    Ok(keep)
}

/// The rows `i` of `r` for which some `g` has `r g >= 0` and `(r g)_i > 0`:
/// the linear program `max sum t` subject to `0 <= t <= 1`, `t <= r g`
/// (`g` free), whose optimum has `t_i = 1` exactly on those rows (the sum of
/// certificates is a certificate, and a certificate scales up). Solved by the
/// tableau simplex method with Bland's rule (the program is degenerate).
fn separable_rows(r: &DMatrix<f64>) -> Result<Vec<bool>, EstimateError> {
    let (m, p) = r.shape();
    // Columns: g+ (p), g- (p), t (m), s1 (m), s2 (m), then the right-hand side.
    let nv = 2 * p + 3 * m;
    let rows = 2 * m;
    let mut tab = DMatrix::<f64>::zeros(rows, nv + 1);
    for i in 0..m {
        for j in 0..p {
            tab[(i, j)] = -r[(i, j)];
            tab[(i, p + j)] = r[(i, j)];
        }
        tab[(i, 2 * p + i)] = 1.0;
        tab[(i, 2 * p + m + i)] = 1.0;
        tab[(m + i, 2 * p + i)] = 1.0;
        tab[(m + i, 2 * p + 2 * m + i)] = 1.0;
        tab[(m + i, nv)] = 1.0;
    }
    let mut basis: Vec<usize> = (0..m).map(|i| 2 * p + m + i).chain((0..m).map(|i| 2 * p + 2 * m + i)).collect();
    // Reduced costs of the maximisation: c_j - c_B B^-1 A_j (the slacks cost 0).
    let mut cost = vec![0.0; nv];
    for c in cost.iter_mut().skip(2 * p).take(m) {
        *c = 1.0;
    }
    let eps = 1e-10;
    for _ in 0..100_000 {
        let Some(enter) = (0..nv).find(|&j| cost[j] > eps) else {
            let mut t = vec![0.0; m];
            for (row, &b) in basis.iter().enumerate() {
                if (2 * p..2 * p + m).contains(&b) {
                    t[b - 2 * p] = tab[(row, nv)];
                }
            }
            return Ok(t.iter().map(|v| *v > 0.5).collect());
        };
        let mut leave: Option<(usize, f64)> = None;
        for i in 0..rows {
            let a = tab[(i, enter)];
            if a > eps {
                let ratio = tab[(i, nv)] / a;
                leave = match leave {
                    Some((l, best)) if ratio > best + eps || (ratio >= best - eps && basis[i] > basis[l]) => {
                        Some((l, best))
                    }
                    _ => Some((i, ratio)),
                };
            }
        }
        let Some((l, _)) = leave else {
            return Err(EstimateError::Solver("simplex rule: the linear program is unbounded".into()));
        };
        let piv = tab[(l, enter)];
        for j in 0..=nv {
            tab[(l, j)] /= piv;
        }
        for i in 0..rows {
            if i != l {
                let f = tab[(i, enter)];
                if f != 0.0 {
                    for j in 0..=nv {
                        let v = tab[(l, j)];
                        tab[(i, j)] -= f * v;
                    }
                }
            }
        }
        let f = cost[enter];
        for (j, c) in cost.iter_mut().enumerate() {
            *c -= f * tab[(l, j)];
        }
        basis[l] = enter;
    }
    Err(EstimateError::Solver("simplex rule: no optimum in 100000 pivots".into()))
}

/// What the iterative rectifier found.
#[derive(Debug, Clone)]
pub struct Relu {
    /// `false` for separated rows.
    pub keep: Vec<bool>,
    pub iterations: usize,
}

/// Weighted least squares of `u` on `x` and the fixed effects: the fitted
/// values (fixed effects included) and the residuals.
fn weighted_fit(
    u: &DVector<f64>,
    x: &DMatrix<f64>,
    fes: &[Groups],
    w: &[f64],
) -> Result<(DVector<f64>, DVector<f64>), EstimateError> {
    let (n, k) = x.shape();
    let levels: usize = fes.iter().map(|g| g.levels).sum();
    if fes.len() > 1 && k + levels <= DENSE_MAX_PARAMS && n * (k + levels) <= DENSE_MAX_CELLS {
        // Alternating projections crawl with weights 2^26 apart and several
        // fixed effects: solve with the dummies written out instead.
        let p = k + levels;
        let sw: Vec<f64> = w.iter().map(|v| v.sqrt()).collect();
        let mut a = DMatrix::zeros(n, p);
        a.columns_mut(0, k).copy_from(x);
        let mut off = k;
        for g in fes {
            for (i, &id) in g.ids.iter().enumerate() {
                a[(i, off + id as usize)] = 1.0;
            }
            off += g.levels;
        }
        let design = a.clone();
        let a = scale_rows(&a, &sw);
        let b = DVector::from_iterator(n, u.iter().zip(&sw).map(|(u, s)| u * s));
        finite_or_error(&a, &b)?;
        let svd = a.svd(true, true);
        let cut = svd.singular_values.max() * 1e-12;
        let coef = svd.solve(&b, cut).map_err(|e| EstimateError::Solver(format!("iterative rectifier: {e}")))?;
        let fit = design * coef;
        return Ok((fit.clone(), u - fit));
    }
    let mut ut = u.clone();
    let mut xt = x.clone();
    let info = demean(&mut ut, &mut xt, fes, Some(w), 1e-13, 100_000);
    if !info.converged {
        return Err(EstimateError::DemeanNotConverged(info.iterations));
    }
    let resid = if xt.ncols() == 0 {
        ut
    } else {
        let sw: Vec<f64> = w.iter().map(|v| v.sqrt()).collect();
        let a = scale_rows(&xt, &sw);
        let b = DVector::from_iterator(ut.len(), ut.iter().zip(&sw).map(|(u, s)| u * s));
        finite_or_error(&a, &b)?;
        let svd = a.svd(true, true);
        let cut = svd.singular_values.max() * 1e-13;
        let beta = svd.solve(&b, cut).map_err(|e| EstimateError::Solver(format!("iterative rectifier: {e}")))?;
        &ut - &xt * beta
    };
    Ok((u - &resid, resid))
}

/// The iterative rectifier (ppmlhdfe's ReLU method): `u = 1` on `y = 0` rows
/// and `0` elsewhere; least squares of `u` on regressors and fixed effects,
/// weighted `2^26` times more on `y > 0` rows (so the fit is zero there);
/// fitted values within `(-0.1 tol, tol)` of zero are zero; it stops when the
/// fit is `>= 0` on every `y = 0` row (a certificate of separation: its
/// positive rows are separated) or when no `y = 0` residual is negative (the
/// normal equations then leave nothing more to uncover); otherwise `u` becomes
/// `max(fit, 0)` on the `y = 0` rows and it iterates.
pub fn relu_rule(y: &DVector<f64>, x: &DMatrix<f64>, fes: &[Groups]) -> Result<Relu, EstimateError> {
    let n = y.len();
    let zero: Vec<usize> = (0..n).filter(|&i| y[i] == 0.0).collect();
    if zero.is_empty() {
        return Ok(Relu { keep: vec![true; n], iterations: 0 });
    }
    let big = (1u64 << 26) as f64;
    let w: Vec<f64> = y.iter().map(|v| if *v > 0.0 { 1.0 } else { 1.0 / big }).collect();
    let mut u = DVector::from_iterator(n, y.iter().map(|v| f64::from(u8::from(*v == 0.0))));
    let tol = RELU_TOL;
    for iter in 1..=RELU_MAX_ITER {
        let (mut fit, mut resid) = weighted_fit(&u, x, fes, &w)?;
        for i in 0..n {
            if y[i] > 0.0 || (fit[i] > -0.1 * tol && fit[i] < tol) {
                fit[i] = 0.0;
            }
        }
        let done = |fit: &DVector<f64>| {
            let keep: Vec<bool> = (0..n).map(|i| fit[i] <= 0.0).collect();
            Ok(Relu { keep, iterations: iter })
        };
        if zero.iter().all(|&i| fit[i] >= 0.0) {
            return done(&fit);
        }
        for r in resid.iter_mut() {
            if r.abs() < 1e-8 {
                *r = 0.0;
            }
        }
        if zero.iter().all(|&i| resid[i] >= 0.0) {
            for &i in &zero {
                if resid[i] > tol {
                    fit[i] = 0.0;
                }
            }
            // Rows still negative are not separated.
            for &i in &zero {
                fit[i] = fit[i].max(0.0);
            }
            return done(&fit);
        }
        for &i in &zero {
            u[i] = fit[i].max(0.0);
        }
    }
    Err(EstimateError::Solver(format!(
        "the iterative rectifier found no certificate of separation in {RELU_MAX_ITER} iterations"
    )))
}

/// The rectifier's weights reach 2^26: with extreme regressors the weighted
/// system can overflow, and an SVD of non-finite numbers panics; say so instead.
fn finite_or_error(a: &DMatrix<f64>, b: &DVector<f64>) -> Result<(), EstimateError> {
    if a.iter().chain(b.iter()).all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(EstimateError::Solver(
            "iterative rectifier: the weighted regressors overflow (values too large); rescale the regressors".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linear_program_finds_every_separable_row() {
        // Rows 0 and 1 are separable together along g = (1, 1); row 2 is
        // not (it is -row 3 in the first column, and row 3 is +).
        let r = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 1.0, 0.0]);
        assert_eq!(separable_rows(&r).unwrap(), [false, true, false, false]);
        let r = DMatrix::from_row_slice(3, 1, &[1.0, 2.0, 0.5]);
        assert_eq!(separable_rows(&r).unwrap(), [true, true, true]);
        let r = DMatrix::from_row_slice(2, 1, &[1.0, -2.0]);
        assert_eq!(separable_rows(&r).unwrap(), [false, false]);
    }
}
