//! Negative binomial (NB2: variance `mu + alpha mu^2`) by maximum likelihood,
//! with `alpha` estimated jointly. The model is solved in `(beta, ln alpha)`
//! (unconstrained) by argmin with the damped Newton solver; `alpha` and its
//! standard error are reported on the natural scale (as statsmodels does; the
//! delta method is exact here because the reparametrisation is one-to-one and
//! the gradient is zero at the estimate).

use argmin::core::{CostFunction, Error, Executor, Gradient, Hessian, State, TerminationReason};
use nalgebra::{DMatrix, DVector};
use statrs::function::gamma::{digamma, ln_gamma};

use super::demean::demean;
use super::solver::irls::{IrlsHdfe, WorkingModel};
use super::solver::newton::{inf_norm, DampedNewton};
use super::{collinear_columns, scale_rows, EstimateError, Estimates, Family, FitOptions};
use crate::formula::design::{Design, Groups};
use crate::inference::dyadic::{dyadic, members_of};
use crate::inference::{cr1, driscoll_kraay_mle, sandwich, Dist, VcovSpec};

/// The trigamma function (derivative of digamma): recurrence to `x >= 12`, then
/// the asymptotic series.
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 12.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    acc + 1.0 / x + x2 / 2.0 + (1.0 / x) * x2 * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 * (1.0 / 42.0 - x2 / 30.0)))
}

/// NB2 log-likelihood problem over `theta = (beta, ln alpha)`.
pub struct NegBin<'a> {
    pub x: &'a DMatrix<f64>,
    pub y: &'a DVector<f64>,
}

/// Per-observation pieces: log-likelihood, first derivatives in (eta, a) and
/// second derivatives (eta-eta, eta-a, a-a), with `a = ln alpha`.
fn pieces(y: f64, eta: f64, a: f64) -> (f64, [f64; 2], [f64; 3]) {
    let mu = eta.exp();
    let r = (-a).exp();
    let rm = r + mu;
    let ll = ln_gamma(y + r) - ln_gamma(r) - ln_gamma(y + 1.0) + r * (r / rm).ln() + y * (mu / rm).ln();
    let d_eta = r * (y - mu) / rm;
    let d_r = digamma(y + r) - digamma(r) + (r / rm).ln() + 1.0 - (r + y) / rm;
    let d_a = -r * d_r;
    let h_ee = -mu * r * (r + y) / (rm * rm);
    let h_ea = -r * (y - mu) * mu / (rm * rm);
    let d_rr = trigamma(y + r) - trigamma(r) + 1.0 / r - 1.0 / rm - (mu - y) / (rm * rm);
    let h_aa = r * r * d_rr + r * d_r;
    (ll, [d_eta, d_a], [h_ee, h_ea, h_aa])
}

impl NegBin<'_> {
    fn split(&self, t: &DVector<f64>) -> (DVector<f64>, f64) {
        let k = self.x.ncols();
        (t.rows(0, k).into_owned(), t[k])
    }

    /// Log-likelihood, score and Hessian (of the log-likelihood) at `theta`.
    pub fn evaluate(&self, t: &DVector<f64>) -> (f64, DVector<f64>, DMatrix<f64>, DMatrix<f64>) {
        let (b, a) = self.split(t);
        let (n, k) = self.x.shape();
        let eta = self.x * &b;
        let mut ll = 0.0;
        let mut g = DVector::zeros(k + 1);
        let mut h = DMatrix::zeros(k + 1, k + 1);
        let mut scores = DMatrix::zeros(n, k + 1);
        for i in 0..n {
            let (l, d, hh) = pieces(self.y[i], eta[i], a);
            ll += l;
            for p in 0..k {
                let xp = self.x[(i, p)];
                g[p] += xp * d[0];
                scores[(i, p)] = xp * d[0];
                for q in p..k {
                    h[(p, q)] += hh[0] * xp * self.x[(i, q)];
                }
                h[(p, k)] += hh[1] * xp;
            }
            g[k] += d[1];
            scores[(i, k)] = d[1];
            h[(k, k)] += hh[2];
        }
        for p in 0..=k {
            for q in 0..p {
                h[(p, q)] = h[(q, p)];
            }
        }
        (ll, g, h, scores)
    }
}

impl CostFunction for NegBin<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, t: &DVector<f64>) -> Result<f64, Error> {
        let (b, a) = self.split(t);
        let eta = self.x * &b;
        let ll: f64 = self.y.iter().zip(eta.iter()).map(|(y, e)| pieces(*y, *e, a).0).sum();
        Ok(if ll.is_finite() { -ll } else { f64::INFINITY })
    }
}

impl Gradient for NegBin<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, t: &DVector<f64>) -> Result<DVector<f64>, Error> {
        Ok(-self.evaluate(t).1)
    }
}

impl Hessian for NegBin<'_> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    fn hessian(&self, t: &DVector<f64>) -> Result<DMatrix<f64>, Error> {
        Ok(-self.evaluate(t).2)
    }
}

/// Fit NB2; `design.names` gains the term `alpha`.
pub(crate) fn fit_negbin(design: &mut Design, opts: &FitOptions) -> Result<Estimates, EstimateError> {
    if !design.fixed_effects.is_empty() {
        return fit_fe_negbin(design, opts);
    }
    let drop = collinear_columns(&super::gram(&design.x), 1e-10);
    design.drop_columns(&drop);
    let (n, k) = design.x.shape();
    if k == 0 {
        return Err(EstimateError::NoRegressors(design.dropped.collinear.join(", ")));
    }
    // Start: Poisson estimates and a moment estimate of alpha.
    let mut pois = design.clone();
    let opts_p = FitOptions { vcov: VcovSpec::Iid, ..opts.clone() };
    let p = super::glm::fit_glm(&mut pois, super::Family::Poisson, &opts_p)?;
    // The Poisson start may drop a column the negbin keeps (its own collinearity
    // and separation checks): then start from zero slopes instead.
    let beta0 = if p.beta.len() == k { p.beta } else { DVector::zeros(k) };
    let mu = &design.x * &beta0;
    let alpha0: f64 = design
        .y
        .iter()
        .zip(mu.iter())
        .map(|(y, e)| {
            let m = e.exp();
            ((y - m).powi(2) - y) / (m * m)
        })
        .sum::<f64>()
        / n as f64;
    let mut start = DVector::zeros(k + 1);
    start.rows_mut(0, k).copy_from(&beta0);
    start[k] = alpha0.max(1e-3).ln();
    let problem = NegBin { x: &design.x, y: &design.y };
    let res = Executor::new(problem, DampedNewton { tol: opts.tol, ..Default::default() })
        .configure(|s| s.param(start).max_iters(opts.max_iter))
        .run()
        .map_err(|e| EstimateError::Solver(e.to_string()))?;
    let converged = res.state().get_termination_reason() == Some(&TerminationReason::SolverConverged);
    let iterations = res.state().get_iter();
    let theta = res.state().get_param().cloned().unwrap_or_else(|| DVector::zeros(k + 1));
    let problem = NegBin { x: &design.x, y: &design.y };
    let (ll, g, h, scores) = problem.evaluate(&theta);
    let bread = (-h)
        .cholesky()
        .map(|c| c.inverse())
        .ok_or_else(|| EstimateError::Solver("the information matrix is singular at the estimate".into()))?;
    let kf = (k + 1) as f64;
    let nf = n as f64;
    let cov_log = match &opts.vcov {
        VcovSpec::Iid => bread.clone(),
        VcovSpec::Hc(0) => sandwich(&bread, &scores, None),
        VcovSpec::Hc(1) => sandwich(&bread, &scores, None) * (nf / (nf - kf)),
        VcovSpec::Cluster(_) => cr1(&bread, &scores, &design.clusters, kf).0,
        VcovSpec::Dyadic(..) => dyadic(&bread, &scores, members_of(design.members.as_ref())?, kf)?.0,
        VcovSpec::DriscollKraay { lags, .. } => {
            driscoll_kraay_mle(&bread, &scores, design.periods.as_deref().unwrap_or_default(), *lags, kf)
        }
        other => return Err(EstimateError::NotYet(format!("vcov {other} for negbin"))),
    };
    // Report alpha on its natural scale: J = diag(1, ..., 1, alpha).
    let alpha = theta[k].exp();
    let mut jac = DMatrix::identity(k + 1, k + 1);
    jac[(k, k)] = alpha;
    let cov = &jac * cov_log * &jac;
    let mut beta = theta.clone();
    beta[k] = alpha;
    design.names.push("alpha".into());
    Ok(Estimates {
        beta,
        cov,
        dist: Dist::Normal,
        df_resid: nf - kf,
        loglik: Some(ll),
        r2: None,
        adj_r2: None,
        within_r2: None,
        pseudo_r2: None,
        converged,
        iterations,
        gradient_norm: inf_norm(&g),
        identification: crate::inference::least_identified(&bread),
        notes: vec!["alpha is the NB2 dispersion (variance mu + alpha mu^2), estimated on the log scale".into()],
    })
}

/// NB2 with fixed effects and a known `theta = 1 / alpha`, for IRLS (Fisher
/// scoring with the log link, which is not NB2's canonical link).
pub struct FeNegBin<'a> {
    pub x: &'a DMatrix<f64>,
    pub y: &'a DVector<f64>,
    pub fes: &'a [Groups],
    pub theta: f64,
}

impl WorkingModel for FeNegBin<'_> {
    fn x(&self) -> &DMatrix<f64> {
        self.x
    }
    fn y(&self) -> &DVector<f64> {
        self.y
    }
    fn fixed_effects(&self) -> &[Groups] {
        self.fes
    }
    fn mean(&self, eta: f64) -> f64 {
        eta.exp()
    }
    /// `(dmu/deta)^2 / V(mu) = mu / (1 + mu / theta)`.
    fn weight(&self, mu: f64) -> f64 {
        mu / (1.0 + mu / self.theta)
    }
    fn unit_deviance(&self, y: f64, m: f64) -> f64 {
        let t = self.theta;
        let a = if y > 0.0 { y * (y / m).ln() } else { 0.0 };
        a - (y + t) * ((y + t) / (m + t)).ln()
    }
    fn working(&self, y: f64, eta: f64) -> (f64, f64) {
        let mu = eta.exp();
        (self.weight(mu), (y - mu) / mu)
    }
}

/// Most alternations of the IRLS for the coefficients and the Newton step
/// for `theta`.
const FE_NB_OUTER: usize = 200;

/// `ln alpha` maximising the NB2 log-likelihood at the linear predictor
/// `eta` (Newton on the concave profile, from `a`).
fn best_ln_alpha(y: &DVector<f64>, eta: &DVector<f64>, mut a: f64) -> f64 {
    for _ in 0..100 {
        let (mut g, mut h) = (0.0, 0.0);
        for (y, e) in y.iter().zip(eta.iter()) {
            let (_, d, hh) = pieces(*y, *e, a);
            g += d[1];
            h += hh[2];
        }
        let step = if h < 0.0 { -g / h } else { g.signum() * 0.5 };
        let step = step.clamp(-2.0, 2.0);
        a += step;
        if step.abs() < 1e-12 {
            break;
        }
    }
    a
}

/// NB2 with absorbed fixed effects (R fixest's `fenegbin`): IRLS for the
/// coefficients and fixed effects at a given `theta`, alternating with
/// Newton for `theta` at the given means, until both settle (the joint
/// maximum). The covariance is the inverse of the observed information of
/// `(beta, ln alpha)` with the fixed effects concentrated out; `alpha` is
/// reported on its natural scale (fixest reports `theta = 1 / alpha`).
fn fit_fe_negbin(design: &mut Design, opts: &FitOptions) -> Result<Estimates, EstimateError> {
    super::glm::prepare_fe_design(design, Family::Negbin)?;
    let n = design.y.len();
    let k = design.x.ncols();
    // Start: Poisson's linear predictor, and alpha by moments.
    let ybar = design.y.mean();
    let mut eta = design.y.map(|y| ((y + ybar) / 2.0).ln());
    let mut a = {
        let m = ybar.max(1e-8);
        let var = design.y.iter().map(|y| (y - m).powi(2)).sum::<f64>() / n as f64;
        ((var - m) / (m * m)).max(1e-2).ln()
    };
    let mut iterations: u64 = 0;
    let mut converged = false;
    let mut beta = DVector::zeros(k);
    for _ in 0..FE_NB_OUTER {
        let model = FeNegBin { x: &design.x, y: &design.y, fes: &design.fixed_effects, theta: (-a).exp() };
        let res = Executor::new(model, IrlsHdfe::new(opts.tol * 1e-2))
            .configure(|s| s.param(eta.clone()).max_iters(opts.max_iter))
            .run()
            .map_err(|e| EstimateError::Solver(e.to_string()))?;
        iterations += res.state().get_iter();
        let irls_ok = res.state().get_termination_reason() == Some(&TerminationReason::SolverConverged);
        eta = res.state().get_param().cloned().unwrap_or(eta);
        beta = res.solver().beta.clone().ok_or_else(|| EstimateError::Solver("no IRLS step was taken".into()))?;
        let a_new = best_ln_alpha(&design.y, &eta, a);
        let moved = (a_new - a).abs();
        a = a_new;
        if irls_ok && moved < 1e-10 {
            converged = true;
            break;
        }
        if iterations >= opts.max_iter {
            break;
        }
    }
    // Observed information at the estimate, the fixed effects concentrated out.
    let parts: Vec<(f64, [f64; 2], [f64; 3])> = (0..n).map(|i| pieces(design.y[i], eta[i], a)).collect();
    let w: Vec<f64> = parts.iter().map(|p| -p.2[0]).collect();
    let v: Vec<f64> = parts.iter().map(|p| -p.2[1]).collect();
    // Columns: the regressors and v / w, demeaned together with weights w.
    let mut xr = DMatrix::zeros(n, k + 1);
    xr.columns_mut(0, k).copy_from(&design.x);
    for i in 0..n {
        xr[(i, k)] = v[i] / w[i];
    }
    let mut dummy = DVector::zeros(n);
    let mut xt = xr.clone();
    let info = demean(&mut dummy, &mut xt, &design.fixed_effects, Some(&w), 1e-12, 100_000);
    if !info.converged {
        return Err(EstimateError::DemeanNotConverged(info.iterations));
    }
    let xd = xt.columns(0, k).into_owned();
    // The part of v / w that the fixed effects absorb, per row.
    let absorbed: Vec<f64> = (0..n).map(|i| xr[(i, k)] - xt[(i, k)]).collect();
    let mut info_m = DMatrix::zeros(k + 1, k + 1);
    info_m.view_mut((0, 0), (k, k)).copy_from(&xd.tr_mul(&scale_rows(&xd, &w)));
    let xv = xd.tr_mul(&DVector::from_column_slice(&v));
    for j in 0..k {
        info_m[(j, k)] = xv[j];
        info_m[(k, j)] = xv[j];
    }
    info_m[(k, k)] =
        parts.iter().map(|p| -p.2[2]).sum::<f64>() - v.iter().zip(&absorbed).map(|(v, r)| v * r).sum::<f64>();
    let bread = info_m
        .cholesky()
        .map(|c| c.inverse())
        .ok_or_else(|| EstimateError::Solver("the information matrix is singular at the estimate".into()))?;
    // Per-row scores of the concentrated likelihood.
    let mut scores = DMatrix::zeros(n, k + 1);
    for i in 0..n {
        let (d_eta, d_a) = (parts[i].1[0], parts[i].1[1]);
        for j in 0..k {
            scores[(i, j)] = xd[(i, j)] * d_eta;
        }
        scores[(i, k)] = d_a - d_eta * absorbed[i];
    }
    let gradient = DVector::from_fn(k + 1, |j, _| scores.column(j).sum());
    let ll: f64 = parts.iter().map(|p| p.0).sum();
    // The small-sample K counts the coefficients, not theta, as fixest does
    // (theta enters only its floor for clustered errors, see fe_vcov).
    let cov_log = super::glm::fe_vcov(&bread, &scores, design, k, &opts.vcov)?;
    let alpha = a.exp();
    let mut jac = DMatrix::identity(k + 1, k + 1);
    jac[(k, k)] = alpha;
    let cov = &jac * cov_log * &jac;
    let mut est = DVector::zeros(k + 1);
    est.rows_mut(0, k).copy_from(&beta);
    est[k] = alpha;
    design.names.push("alpha".into());
    let nf = n as f64;
    let big_k = (k + 1 + super::demean::fe_dof(&design.fixed_effects)) as f64;
    Ok(Estimates {
        beta: est,
        cov,
        dist: Dist::Normal,
        df_resid: nf - big_k,
        loglik: Some(ll),
        r2: None,
        adj_r2: None,
        within_r2: None,
        pseudo_r2: None,
        converged,
        iterations,
        gradient_norm: inf_norm(&gradient),
        identification: crate::inference::least_identified(&bread),
        notes: vec![format!(
            "alpha is the NB2 dispersion (variance mu + alpha mu^2); theta = 1 / alpha = {:.6}",
            1.0 / alpha
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_known_values() {
        // trigamma(1) = pi^2 / 6; trigamma(0.5) = pi^2 / 2.
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-12);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-12);
        assert!((trigamma(100.0) - 0.010050166663333571).abs() < 1e-14);
    }
}
