//! Likelihood models with a canonical link: logit (binary outcomes) and Poisson
//! (counts). Each model defines its negative log-likelihood, gradient and
//! Hessian; argmin's executor runs the damped Newton solver on it.

use argmin::core::{CostFunction, Error, Executor, Gradient, Hessian, State, TerminationReason};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use statrs::function::gamma::ln_gamma;

use super::demean::{cluster_k, demean};
use super::solver::irls::{IrlsHdfe, WorkingModel};
use super::solver::irls_one_fe::{group_means, IrlsOneFe};
use super::solver::newton::{inf_norm, DampedNewton};
use super::{
    collinear_columns, dot, gram, scale_rows, scale_rows_in_place, EstimateError, Estimates, Family, FitOptions,
};
use crate::formula::design::{Design, Groups};
use crate::inference::dyadic::{dyadic, members_of};
use crate::inference::{cr1, cr1_from_factors, driscoll_kraay_mle, hc_leverage, sandwich, Dist, VcovSpec};

/// `log(1 + e^x)` without overflow.
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The logistic function, stable in both tails.
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln Phi(x)` and the inverse Mills ratio `phi(x) / Phi(x)`, accurate in the
/// lower tail (asymptotic series below -30, where `Phi` underflows).
pub fn ln_cdf_and_mills(x: f64) -> (f64, f64) {
    let ln_phi = -0.5 * x * x - 0.5 * (2.0 * std::f64::consts::PI).ln();
    if x > -30.0 {
        let cdf = 0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2);
        (cdf.ln(), (ln_phi - cdf.ln()).exp())
    } else {
        let x2 = x * x;
        let series = 1.0 - 1.0 / x2 + 3.0 / (x2 * x2) - 15.0 / (x2 * x2 * x2);
        (ln_phi - (-x).ln() + series.ln(), -x / series)
    }
}

/// Per-observation log-likelihood, its derivative in the linear predictor, and
/// minus its second derivative (the weight of the information matrix).
pub fn obs(family: Family, y: f64, eta: f64) -> (f64, f64, f64) {
    match family {
        Family::Logit => obs_logit(y, eta),
        Family::Probit => obs_probit(y, eta),
        _ => obs_poisson(y, eta),
    }
}

#[inline(always)]
fn obs_logit(y: f64, eta: f64) -> (f64, f64, f64) {
    // One exponential serves the log-likelihood and the mean.
    let e = (-eta.abs()).exp();
    let mu = if eta >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
    (y * eta - (eta.max(0.0) + e.ln_1p()), y - mu, mu * (1.0 - mu))
}

#[inline(always)]
fn obs_probit(y: f64, eta: f64) -> (f64, f64, f64) {
    let q = 2.0 * y - 1.0;
    let (ln_cdf, mills) = ln_cdf_and_mills(q * eta);
    let lambda = q * mills;
    (ln_cdf, lambda, lambda * (lambda + eta))
}

#[inline(always)]
fn obs_poisson(y: f64, eta: f64) -> (f64, f64, f64) {
    let mu = eta.exp();
    (y * eta - mu, y - mu, mu)
}

/// Log-likelihood of the rows of a chunk; their score factors into `r` and
/// weights into `w`.
#[inline(always)]
fn per_row(f: impl Fn(f64, f64) -> (f64, f64, f64), y: &[f64], eta: &[f64], r: &mut [f64], w: &mut [f64]) -> f64 {
    let mut ll = 0.0;
    for (((y, e), r), w) in y.iter().zip(eta).zip(r.iter_mut()).zip(w.iter_mut()) {
        let (l, rr, ww) = f(*y, *e);
        ll += l;
        *r = rr;
        *w = ww;
    }
    ll
}

/// [`per_row`] with prior weights `p`: each row's log-likelihood, score factor
/// and weight count `p` times.
#[inline(always)]
fn per_row_weighted(
    f: impl Fn(f64, f64) -> (f64, f64, f64),
    y: &[f64],
    eta: &[f64],
    p: &[f64],
    r: &mut [f64],
    w: &mut [f64],
) -> f64 {
    let mut ll = 0.0;
    for ((((y, e), a), r), w) in y.iter().zip(eta).zip(p).zip(r.iter_mut()).zip(w.iter_mut()) {
        let (l, rr, ww) = f(*y, *e);
        ll += a * l;
        *r = a * rr;
        *w = a * ww;
    }
    ll
}

/// A generalized linear model with canonical link: the problem argmin solves.
pub struct Glm<'a> {
    pub family: Family,
    pub x: &'a DMatrix<f64>,
    pub y: &'a DVector<f64>,
    /// Sum of `ln(y!)` (Poisson), constant in the parameters.
    pub log_fact: f64,
    /// Observation weights (`--weights`): each row's log-likelihood counts
    /// this many times.
    pub prior: Option<&'a [f64]>,
    /// The last evaluation: Newton asks for cost, gradient and Hessian at the
    /// same point, and one pass over the data gives all three.
    cache: std::sync::Mutex<Option<(DVector<f64>, Eval)>>,
}

/// Log-likelihood, score and information at a point.
#[derive(Clone)]
pub struct Eval {
    pub loglik: f64,
    pub score: DVector<f64>,
    pub information: DMatrix<f64>,
}

impl<'a> Glm<'a> {
    pub fn new(family: Family, x: &'a DMatrix<f64>, y: &'a DVector<f64>, log_fact: f64) -> Self {
        Glm { family, x, y, log_fact, prior: None, cache: std::sync::Mutex::new(None) }
    }

    /// The model with observation weights.
    pub fn weighted(self, prior: Option<&'a [f64]>) -> Self {
        Glm { prior, ..self }
    }

    /// One parallel pass over the rows: log-likelihood, score `X'(y - mu)` and
    /// information `X'WX` (upper triangle accumulated, then mirrored).
    pub fn evaluate(&self, b: &DVector<f64>) -> Eval {
        if let Ok(guard) = self.cache.lock() {
            if let Some((at, e)) = guard.as_ref() {
                if at == b {
                    return e.clone();
                }
            }
        }
        use rayon::prelude::*;
        let (n, k) = self.x.shape();
        let cols: Vec<&[f64]> = (0..k).map(|j| &self.x.as_slice()[j * n..(j + 1) * n]).collect();
        let chunk = 16_384;
        let family = self.family;
        let y = self.y.as_slice();
        let prior = self.prior;
        let (ll, g, h) = (0..n.div_ceil(chunk))
            .into_par_iter()
            .map(|c| {
                let (lo, hi) = (c * chunk, ((c + 1) * chunk).min(n));
                // Column-wise over the chunk, so the products vectorise.
                let len = hi - lo;
                let bs = b.as_slice();
                let mut eta = vec![0.0; len];
                for (c, &bj) in cols.iter().zip(bs) {
                    for (e, x) in eta.iter_mut().zip(&c[lo..hi]) {
                        *e += bj * x;
                    }
                }
                let mut r = vec![0.0; len];
                let mut w = vec![0.0; len];
                // One loop per family, so the per-row function is inlined.
                let ll = match (family, prior) {
                    (Family::Logit, None) => per_row(obs_logit, &y[lo..hi], &eta, &mut r, &mut w),
                    (Family::Probit, None) => per_row(obs_probit, &y[lo..hi], &eta, &mut r, &mut w),
                    (_, None) => per_row(obs_poisson, &y[lo..hi], &eta, &mut r, &mut w),
                    (Family::Logit, Some(p)) => {
                        per_row_weighted(obs_logit, &y[lo..hi], &eta, &p[lo..hi], &mut r, &mut w)
                    }
                    (Family::Probit, Some(p)) => {
                        per_row_weighted(obs_probit, &y[lo..hi], &eta, &p[lo..hi], &mut r, &mut w)
                    }
                    (_, Some(p)) => per_row_weighted(obs_poisson, &y[lo..hi], &eta, &p[lo..hi], &mut r, &mut w),
                };
                let mut g = vec![0.0; k];
                let mut h = vec![0.0; k * k];
                let mut wa = vec![0.0; len];
                for a in 0..k {
                    let ca = &cols[a][lo..hi];
                    g[a] = dot(ca, &r);
                    for ((v, x), ww) in wa.iter_mut().zip(ca).zip(&w) {
                        *v = x * ww;
                    }
                    for bb in a..k {
                        h[a * k + bb] = dot(&wa, &cols[bb][lo..hi]);
                    }
                }
                (ll, g, h)
            })
            .collect::<Vec<_>>()
            .into_iter()
            // Summed in chunk order, not in rayon's work-stealing order: the
            // same bits whatever the number of threads.
            .fold((0.0, vec![0.0; k], vec![0.0; k * k]), |mut a, b| {
                a.0 += b.0;
                a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
                a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
                a
            });
        let information = DMatrix::from_fn(k, k, |a, bb| if a <= bb { h[a * k + bb] } else { h[bb * k + a] });
        let e = Eval { loglik: ll - self.log_fact, score: DVector::from_vec(g), information };
        if let Ok(mut guard) = self.cache.lock() {
            *guard = Some((b.clone(), e.clone()));
        }
        e
    }

    /// Per-observation scores `x_i dl_i / deta`.
    pub fn scores(&self, b: &DVector<f64>) -> DMatrix<f64> {
        scale_rows(self.x, &self.score_factors(b))
    }

    /// `dl_i / deta` per observation (the scores are `x_i` times these).
    pub fn score_factors(&self, b: &DVector<f64>) -> Vec<f64> {
        self.factors_at(&(self.x * b))
    }

    /// [`Glm::score_factors`] at the linear predictor `eta`.
    pub fn factors_at(&self, eta: &DVector<f64>) -> Vec<f64> {
        fn each(f: impl Fn(f64, f64) -> (f64, f64, f64), y: &[f64], eta: &[f64]) -> Vec<f64> {
            y.iter().zip(eta).map(|(y, e)| f(*y, *e).1).collect()
        }
        let (y, eta) = (self.y.as_slice(), eta.as_slice());
        let mut f = match self.family {
            Family::Logit => each(obs_logit, y, eta),
            Family::Probit => each(obs_probit, y, eta),
            _ => each(obs_poisson, y, eta),
        };
        if let Some(p) = self.prior {
            f.iter_mut().zip(p).for_each(|(f, a)| *f *= a);
        }
        f
    }
}

impl CostFunction for Glm<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, b: &DVector<f64>) -> Result<f64, Error> {
        let ll = self.evaluate(b).loglik;
        Ok(if ll.is_finite() { -ll } else { f64::INFINITY })
    }
}

impl Gradient for Glm<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, b: &DVector<f64>) -> Result<DVector<f64>, Error> {
        Ok(-self.evaluate(b).score)
    }
}

impl Hessian for Glm<'_> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    fn hessian(&self, b: &DVector<f64>) -> Result<DMatrix<f64>, Error> {
        Ok(self.evaluate(b).information)
    }
}

/// Log-likelihood of the intercept-only model (for McFadden's pseudo R2),
/// weighted by `prior` when given.
pub fn null_loglik(family: Family, y: &DVector<f64>, prior: Option<&[f64]>) -> f64 {
    let a = |i: usize| prior.map_or(1.0, |p| p[i]);
    let n: f64 = (0..y.len()).map(a).sum();
    let ybar = y.iter().enumerate().map(|(i, v)| a(i) * v).sum::<f64>() / n;
    match family {
        Family::Poisson => {
            y.iter()
                .enumerate()
                .map(|(i, y)| if *y > 0.0 { a(i) * (y * ybar.ln() - ln_gamma(y + 1.0)) } else { 0.0 })
                .sum::<f64>()
                - n * ybar
        }
        _ => n * (ybar * ybar.ln() + (1.0 - ybar) * (1.0 - ybar).ln()),
    }
}

/// Samples at least this large start from a fit on every `WARM_STRIDE`-th row.
const WARM_MIN_ROWS: usize = 50_000;
const WARM_STRIDE: usize = 8;

/// A start for Newton on a large sample: the estimate on a systematic
/// subsample (every `WARM_STRIDE`-th row, so the same rows every run), which
/// is a few standard errors from the full-sample optimum and costs about one
/// pass over the data; Newton then needs fewer full passes. Falls back to
/// `start` when the subsample fit does not converge (a rare outcome the
/// subsample separates, say): the full fit starts where it would have anyway.
fn warm_start(family: Family, x: &DMatrix<f64>, y: &DVector<f64>, start: DVector<f64>) -> DVector<f64> {
    let n = x.nrows();
    if n < WARM_MIN_ROWS {
        return start;
    }
    let rows: Vec<usize> = (0..n).step_by(WARM_STRIDE).collect();
    let xs = x.select_rows(rows.iter());
    let ys = DVector::from_iterator(rows.len(), rows.iter().map(|&i| y[i]));
    let start = warm_start(family, &xs, &ys, start);
    // Within 1e-3 subsample standard errors of the subsample optimum.
    let solver = DampedNewton { tol: 0.0, decrement_tol: 1e-6, ..Default::default() };
    let res = Executor::new(Glm::new(family, &xs, &ys, 0.0), solver)
        .configure(|s| s.param(start.clone()).max_iters(25))
        .run();
    match res {
        Ok(r) if r.state().get_termination_reason() == Some(&TerminationReason::SolverConverged) => {
            match r.state().get_param() {
                // A subsample that a category separates (a rare outcome never
                // seen in one year of every 8th row) puts its fitted
                // probabilities at 0 or 1: no start for the full sample,
                // where the information would vanish along that direction.
                Some(b) if b.iter().all(|v| v.is_finite()) && !saturated(family, &(&xs * b)) => b.clone(),
                _ => start,
            }
        }
        _ => start,
    }
}

/// Whether a binary model's linear predictor puts some fitted probability
/// within about 1e-13 of 0 or 1.
fn saturated(family: Family, eta: &DVector<f64>) -> bool {
    let limit = match family {
        Family::Logit => 30.0,
        Family::Probit => 7.5,
        _ => return false,
    };
    eta.iter().any(|e| e.abs() > limit)
}

/// Binary regressors for which the outcome is constant on one side: the
/// variable alone separates the data.
fn separating_dummies(d: &Design) -> Vec<String> {
    let mut out = Vec::new();
    for (j, name) in d.names.iter().enumerate() {
        if name == "(Intercept)" {
            continue;
        }
        let col = d.x.column(j);
        if !col.iter().all(|v| *v == 0.0 || *v == 1.0) {
            continue;
        }
        for side in [0.0, 1.0] {
            let ys: Vec<f64> = col.iter().zip(d.y.iter()).filter(|(x, _)| **x == side).map(|(_, y)| *y).collect();
            if !ys.is_empty() && ys.len() < col.len() && (ys.iter().all(|y| *y == 0.0) || ys.iter().all(|y| *y == 1.0))
            {
                out.push(format!("{name} = {side} predicts {} = {} perfectly ({} rows)", d.outcome, ys[0], ys.len()));
                break;
            }
        }
    }
    out
}

/// Fit a logit or Poisson model by maximum likelihood.
pub(crate) fn fit_glm(design: &mut Design, family: Family, opts: &FitOptions) -> Result<Estimates, EstimateError> {
    if !design.fixed_effects.is_empty() {
        return fit_fe_glm(design, family, opts);
    }
    let drop = collinear_columns(&gram(&design.x), 1e-10);
    design.drop_columns(&drop);
    if family == Family::Poisson && super::separation::drop_separated_by_regressors(design)? {
        // A regressor may be constant (or zero) on the rows left.
        let drop = collinear_columns(&gram(&design.x), 1e-10);
        design.drop_columns(&drop);
    }
    if design.x.ncols() == 0 {
        return Err(EstimateError::NoRegressors(design.dropped.collinear.join(", ")));
    }
    if family != Family::Poisson {
        let sep = separating_dummies(design);
        if !sep.is_empty() {
            return Err(EstimateError::Separation { family, kind: "quasi-complete", detail: sep.join("; ") });
        }
    }
    let n = design.y.len() as f64;
    let k = design.x.ncols();
    let prior = design.weights.clone();
    let prior = prior.as_deref();
    let a = |i: usize| prior.map_or(1.0, |p| p[i]);
    let ybar =
        design.y.iter().enumerate().map(|(i, y)| a(i) * y).sum::<f64>() / (0..design.y.len()).map(a).sum::<f64>();
    let log_fact = match family {
        Family::Poisson => design.y.iter().enumerate().map(|(i, y)| a(i) * ln_gamma(y + 1.0)).sum(),
        _ => 0.0,
    };
    let problem = Glm::new(family, &design.x, &design.y, log_fact).weighted(prior);
    // Start at the intercept-only fit when there is an intercept.
    let mut start = DVector::zeros(k);
    if design.names.first().is_some_and(|n| n == "(Intercept)") {
        start[0] = match family {
            Family::Logit => (ybar / (1.0 - ybar)).ln(),
            Family::Probit => {
                statrs::distribution::ContinuousCDF::inverse_cdf(&statrs::distribution::Normal::standard(), ybar)
            }
            _ => ybar.ln(),
        };
        if !start[0].is_finite() {
            start[0] = 0.0;
        }
    }
    // The subsample start is for unweighted fits (a start only: speed).
    let start = if prior.is_none() { warm_start(family, &design.x, &design.y, start) } else { start };
    // Exact Hessians: a full step from a decrement below 1e-12 (1e-6 standard
    // errors from the optimum) lands within about 1e-12 standard errors.
    let solver = DampedNewton { tol: opts.tol, finish_below: 1e-12, ..Default::default() };
    let mut res = Executor::new(problem, solver)
        .configure(|s| s.param(start).max_iters(opts.max_iter))
        .run()
        .map_err(|e| EstimateError::Solver(e.to_string()))?;
    let state = res.state();
    let converged = state.get_termination_reason() == Some(&TerminationReason::SolverConverged);
    let beta =
        state.get_param().cloned().or_else(|| state.get_best_param().cloned()).unwrap_or_else(|| DVector::zeros(k));
    let iterations = state.get_iter();
    // The solver's problem holds the evaluation at the last iterate.
    let problem =
        res.problem.take_problem().unwrap_or_else(|| Glm::new(family, &design.x, &design.y, log_fact).weighted(prior));
    let at = problem.evaluate(&beta);
    let gradient_norm = inf_norm(&at.score);

    let info = at.information;
    let bread = match info.clone().cholesky() {
        Some(ch) => ch.inverse(),
        None => return Err(EstimateError::Solver("the information matrix is singular at the estimate".into())),
    };
    let mut notes = Vec::new();
    let eta = &design.x * &beta;
    if family != Family::Poisson {
        // Fitted probabilities within about 1e-16 of 0 or 1 are separation
        // when some coefficient runs off along a flat direction of the
        // likelihood; otherwise (a steep polynomial in peace years, say)
        // they are only reported.
        let limit = if family == Family::Logit { 37.0 } else { 8.3 };
        let extreme = eta.iter().filter(|e| e.abs() > limit).count();
        if extreme > 0 {
            let sd: Vec<f64> = design
                .x
                .column_iter()
                .map(|c| {
                    let m = c.mean();
                    (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / c.len().max(1) as f64).sqrt()
                })
                .collect();
            let se = |j: usize| bread[(j, j)].sqrt();
            // One standard deviation of the regressor moves the log-odds by
            // an amount known only to within +-10: the likelihood is flat.
            let flat: Vec<String> = design
                .names
                .iter()
                .enumerate()
                .filter(|(j, _)| sd[*j] > 0.0 && se(*j) * sd[*j] > 10.0)
                .map(|(j, n)| format!("{n} ({:.1}, s.e. {:.1e})", beta[j], se(j)))
                .collect();
            let large = design
                .names
                .iter()
                .enumerate()
                .filter(|(j, _)| sd[*j] > 0.0 && se(*j) * sd[*j] <= 10.0 && (beta[*j] * sd[*j]).abs() > 10.0)
                .map(|(j, n)| format!("{n} ({:.1})", beta[j]));
            let named: Vec<String> = flat.iter().cloned().chain(large).collect();
            if !flat.is_empty() {
                return Err(EstimateError::Separation {
                    family,
                    kind: "quasi-complete",
                    detail: format!(
                        "{extreme} observation(s) fitted with probability 0 or 1; coefficients diverging: {}",
                        named.join(", ")
                    ),
                });
            }
            notes.push(format!(
                "{extreme} observation(s) fitted with probability within 1e-16 of 0 or 1 (no coefficient diverging)"
            ));
        }
    }
    let loglik = at.loglik;
    let llnull = null_loglik(family, &design.y, prior);
    let kf = k as f64;
    let scores = || problem.scores(&beta);
    let cov = match &opts.vcov {
        VcovSpec::Iid => bread.clone(),
        VcovSpec::Hc(0) => sandwich(&bread, &scores(), None),
        VcovSpec::Hc(1) => sandwich(&bread, &scores(), None) * (n / (n - kf)),
        VcovSpec::Hc(h) => {
            // Probit's leverage needs the expected information, and concord
            // reports probit with the observed Hessian (as statsmodels).
            if family == Family::Probit {
                return Err(EstimateError::NotYet("hc2/hc3 for probit".into()));
            }
            // Canonical links: the working weights are the information weights.
            let w: Vec<f64> =
                design.y.iter().zip(eta.iter()).enumerate().map(|(i, (y, e))| a(i) * obs(family, *y, *e).2).collect();
            hc_leverage(&bread, &design.x, &scores(), Some(&w), *h)
        }
        VcovSpec::DriscollKraay { lags, .. } => {
            driscoll_kraay_mle(&bread, &scores(), design.periods.as_deref().unwrap_or_default(), *lags, kf)
        }
        VcovSpec::Cluster(_) if design.clusters.len() == 1 => {
            let f = problem.factors_at(&eta);
            cr1_from_factors(&bread, &design.x, &f, &design.clusters[0], kf)
        }
        VcovSpec::Cluster(_) => cr1(&bread, &scores(), &design.clusters, kf).0,
        VcovSpec::Dyadic(..) => dyadic(&bread, &scores(), members_of(design.members.as_ref())?, kf)?.0,
    };
    Ok(Estimates {
        beta,
        cov,
        dist: Dist::Normal,
        df_resid: n - kf,
        loglik: Some(loglik),
        r2: None,
        adj_r2: None,
        within_r2: None,
        pseudo_r2: Some(1.0 - loglik / llnull),
        converged,
        iterations,
        gradient_norm,
        identification: crate::inference::least_identified(&bread),
        notes,
    })
}

/// A logit, probit or Poisson model with fixed effects, for IRLS.
pub struct FeGlm<'a> {
    pub family: Family,
    pub x: &'a DMatrix<f64>,
    pub y: &'a DVector<f64>,
    pub fes: &'a [Groups],
    /// Observation weights (`--weights`).
    pub prior: Option<&'a [f64]>,
}

impl WorkingModel for FeGlm<'_> {
    fn x(&self) -> &DMatrix<f64> {
        self.x
    }
    fn prior(&self) -> Option<&[f64]> {
        self.prior
    }
    fn y(&self) -> &DVector<f64> {
        self.y
    }
    fn fixed_effects(&self) -> &[Groups] {
        self.fes
    }
    fn mean(&self, eta: f64) -> f64 {
        match self.family {
            Family::Logit => logistic(eta),
            Family::Probit => 0.5 * statrs::function::erf::erfc(-eta / std::f64::consts::SQRT_2),
            _ => eta.exp(),
        }
    }
    fn weight(&self, mu: f64) -> f64 {
        match self.family {
            Family::Logit => mu * (1.0 - mu),
            _ => mu,
        }
    }
    fn unit_deviance(&self, y: f64, m: f64) -> f64 {
        match self.family {
            Family::Logit | Family::Probit if y > 0.5 => -m.max(1e-300).ln(),
            Family::Logit | Family::Probit => -(1.0 - m).max(1e-300).ln(),
            _ if y > 0.0 => y * (y / m).ln() - (y - m),
            _ => m,
        }
    }
    /// Probit (a non-canonical link): Fisher scoring's weight
    /// `phi^2 / (Phi (1 - Phi))` and residual `(y - Phi) / phi`, both from
    /// inverse Mills ratios so that they stay finite in the tails.
    fn working(&self, y: f64, eta: f64) -> (f64, f64) {
        if self.family == Family::Probit {
            let m_lo = ln_cdf_and_mills(eta).1; // phi / Phi
            let m_hi = ln_cdf_and_mills(-eta).1; // phi / (1 - Phi)
            let r = if y > 0.5 { 1.0 / m_hi } else { -1.0 / m_lo };
            return (m_lo * m_hi, r);
        }
        let mu = self.mean(eta);
        let w = self.weight(mu);
        (w, (y - mu) / w.max(1e-300))
    }
    /// Logit and Poisson from one exponential (canonical links: the score
    /// factor is `y - mu`): with `e = exp(-|eta|)`, the logit's weight is
    /// `e / (1 + e)^2` and its deviance a softplus.
    #[inline]
    fn working_deviance(&self, y: f64, eta: f64) -> (f64, f64, f64) {
        match self.family {
            Family::Logit => {
                let e = (-eta.abs()).exp();
                let d = 1.0 / (1.0 + e);
                let mu = if eta >= 0.0 { d } else { e * d };
                let tail = if y > 0.5 { (-eta).max(0.0) } else { eta.max(0.0) };
                ((e * d * d).max(1e-300), y - mu, tail + e.ln_1p())
            }
            Family::Poisson => {
                let mu = eta.exp();
                let dev = if y > 0.0 { y * (y.ln() - eta) - (y - mu) } else { mu };
                (mu.max(1e-300), y - mu, dev)
            }
            _ => {
                let (w, r) = self.working(y, eta);
                (w, w * r, self.unit_deviance(y, self.mean(eta)))
            }
        }
    }
}

/// Drop regressors collinear with the fixed effects (on the unweighted
/// demeaned design).
fn drop_fe_collinear(design: &mut Design) {
    let mut y0 = design.y.clone();
    let mut x0 = design.x.clone();
    demean(&mut y0, &mut x0, &design.fixed_effects, None, 1e-10, 100_000);
    let drop = super::fe_collinear_columns(&design.x, &x0);
    design.drop_columns(&drop);
}

/// Separation and collinearity before a fixed-effects fit: the fixed-effects
/// rule (with the singletons it leaves), then for counts the simplex rule and
/// the iterative rectifier, and the fixed-effects rule again on what they
/// leave; regressors collinear with the fixed effects are dropped after each.
pub(crate) fn prepare_fe_design(design: &mut Design, family: Family) -> Result<(), EstimateError> {
    super::separation::fixed_effects_and_singletons(design, family)?;
    drop_fe_collinear(design);
    if matches!(family, Family::Poisson | Family::Negbin) && super::separation::drop_separated_by_regressors(design)? {
        super::separation::fixed_effects_and_singletons(design, family)?;
        drop_fe_collinear(design);
    }
    Ok(())
}

/// The covariance of a likelihood model with fixed effects from its bread
/// (inverse information of the demeaned regressors, `k` of them) and
/// per-observation scores, for every vcov the fixed-effects families share.
/// `iid` and `cluster` follow fixest's small-sample corrections (`ssc()`
/// defaults): iid scales by `(n - 1) / (n - K)` with `K` the regressors and
/// every fixed-effect level less the redundant ones; cluster by
/// `G / (G - 1) (n - 1) / (n - K)` with fixed effects nested in a cluster
/// variable not counted in `K` (`fixef.K = "nested"`).
pub(crate) fn fe_vcov(
    bread: &DMatrix<f64>,
    scores: &DMatrix<f64>,
    design: &Design,
    k: usize,
    vcov: &VcovSpec,
) -> Result<DMatrix<f64>, EstimateError> {
    let n = design.y.len() as f64;
    let big_k = (k + super::demean::fe_dof(&design.fixed_effects)) as f64;
    // fixest's clustered K: the nested rule, but never below the number of
    // estimated parameters (an ancillary one such as negbin's theta included)
    // plus one; it binds when every fixed effect is nested in a cluster.
    let k_cl = || cluster_k(k, &design.fixed_effects, &design.clusters).max((bread.nrows() + 1) as f64);
    Ok(match vcov {
        VcovSpec::Iid => bread * ((n - 1.0) / (n - big_k)),
        VcovSpec::Hc(0) => sandwich(bread, scores, None),
        VcovSpec::Hc(1) => sandwich(bread, scores, None) * (n / (n - big_k)),
        VcovSpec::Hc(_) => {
            return Err(EstimateError::NotYet("hc2/hc3 for likelihood models with fixed effects".into()))
        }
        VcovSpec::DriscollKraay { .. } => {
            return Err(EstimateError::NotYet("Driscoll-Kraay for likelihood models with fixed effects".into()))
        }
        VcovSpec::Cluster(_) => cr1(bread, scores, &design.clusters, k_cl()).0,
        VcovSpec::Dyadic(..) => dyadic(bread, scores, members_of(design.members.as_ref())?, k_cl())?.0,
    })
}

/// IRLS with one fixed effect ([`IrlsOneFe`]): the linear predictor, the
/// coefficients, whether it converged and in how many iterations.
fn irls_one_fe(model: FeGlm, family: Family, tol: f64, max_iter: u64) -> Result<IrlsFit, EstimateError> {
    let centre = group_means(model.x, &model.fes[0]);
    let cold = IrlsOneFe::start(&model, |p| fe_link(family, p));
    // The warm start only where it is the better point (a subsample can
    // leave a coefficient ill-determined, far off for the full sample).
    let start = match one_fe_warm_start(&model, family, tol, &centre) {
        Some(warm) if deviance_at(&model, &centre, &warm) < deviance_at(&model, &centre, &cold) => warm,
        _ => cold,
    };
    irls_one_fe_from(model, family, max_iter, IrlsOneFe::with_centre(tol, centre), start)
}

/// The deviance of the one-fixed-effect model at `theta = [beta; alpha]`
/// (the regressors centred on `centre`, as [`IrlsOneFe`] takes them).
fn deviance_at(model: &FeGlm, centre: &[f64], theta: &DVector<f64>) -> f64 {
    let (n, k) = model.x.shape();
    let ids = &model.fes[0].ids;
    const CH: usize = 1 << 14;
    // Fixed chunks summed in order: the same bits whatever the threads.
    let parts: Vec<f64> = (0..n.div_ceil(CH))
        .into_par_iter()
        .map(|c| {
            (c * CH..((c + 1) * CH).min(n))
                .map(|i| {
                    let g = ids[i] as usize;
                    let xb: f64 = (0..k).map(|j| (model.x[(i, j)] - centre[g * k + j]) * theta[j]).sum();
                    let d = model.unit_deviance(model.y[i], model.mean(xb + theta[k + g]));
                    model.prior.map_or(d, |p| p[i] * d)
                })
                .sum::<f64>()
        })
        .collect();
    let dev: f64 = parts.iter().sum();
    if dev.is_finite() {
        dev
    } else {
        f64::INFINITY
    }
}

/// [`irls_one_fe`] from a given start.
fn irls_one_fe_from(
    model: FeGlm,
    family: Family,
    max_iter: u64,
    solver: IrlsOneFe,
    start: DVector<f64>,
) -> Result<IrlsFit, EstimateError> {
    let k = model.x.ncols();
    let again = FeGlm { family, x: model.x, y: model.y, fes: model.fes, prior: model.prior };
    let res = Executor::new(model, solver)
        .configure(|s| s.param(start).max_iters(max_iter))
        .run()
        .map_err(|e| EstimateError::Solver(e.to_string()))?;
    let converged = res.state().get_termination_reason() == Some(&TerminationReason::SolverConverged);
    let theta = res.state().get_param().ok_or_else(|| EstimateError::Solver("no IRLS step was taken".into()))?;
    let eta = res.solver().eta(&again, theta);
    Ok((eta, theta.rows(0, k).into_owned(), converged, res.state().get_iter()))
}

/// Largest table of group sums (levels x (regressors + 2)) for which a GLM
/// with one fixed effect takes [`IrlsOneFe`].
const ONE_FE_MAX_TABLE: usize = 1 << 14;

/// The link of a mean, kept off the bounds (a start's group intercepts).
fn fe_link(family: Family, p: f64) -> f64 {
    match family {
        Family::Logit => {
            let p = p.clamp(1e-10, 1.0 - 1e-10);
            (p / (1.0 - p)).ln()
        }
        // A count's mean is not bounded above.
        _ => p.max(1e-10).ln(),
    }
}

/// A start for IRLS with one fixed effect on a large sample, as
/// [`warm_start`]: the fit on every `WARM_STRIDE`-th row (in the groups whose
/// outcome varies there), its intercepts moved to the full sample's group
/// means of the regressors. From the model of the fixed effect alone, the
/// first steps on a rare outcome overshoot and are halved; from here the full
/// sample needs fewer (on the dyad panel's logit with year effects, 7 full
/// passes instead of 10). `None` (start cold) when the sample is
/// small or the subsample fit fails.
fn one_fe_warm_start(model: &FeGlm, family: Family, tol: f64, centre: &[f64]) -> Option<DVector<f64>> {
    let (n, k) = model.x.shape();
    if n < WARM_MIN_ROWS {
        return None;
    }
    let fe = &model.fes[0];
    let mut rows: Vec<usize> = (0..n).step_by(WARM_STRIDE).collect();
    let (mut sum, mut max) = (vec![0.0f64; fe.levels], vec![0.0f64; fe.levels]);
    let mut count = vec![0.0f64; fe.levels];
    for &i in &rows {
        let g = fe.ids[i] as usize;
        sum[g] += model.y[i];
        max[g] = max[g].max(model.y[i]);
        count[g] += 1.0;
    }
    let varies = |g: usize| match family {
        Family::Logit => sum[g] > 0.0 && sum[g] < count[g] * max[g].max(1.0),
        _ => sum[g] > 0.0,
    };
    rows.retain(|&i| varies(fe.ids[i] as usize));
    let xs = model.x.select_rows(rows.iter());
    let ys = DVector::from_iterator(rows.len(), rows.iter().map(|&i| model.y[i]));
    let gs = [Groups { name: fe.name.clone(), ids: rows.iter().map(|&i| fe.ids[i]).collect(), levels: fe.levels }];
    let ps: Option<Vec<f64>> = model.prior.map(|p| rows.iter().map(|&i| p[i]).collect());
    let sub = FeGlm { family, x: &xs, y: &ys, fes: &gs, prior: ps.as_deref() };
    // From the model of the fixed effect alone (no subsample of the subsample).
    let sub_centre = group_means(sub.x, &sub.fes[0]);
    let sub_start = IrlsOneFe::start(&sub, |p| fe_link(family, p));
    let solver = IrlsOneFe::with_centre(tol, sub_centre).strict();
    let (eta_s, beta_s, converged, _) = irls_one_fe_from(sub, family, 50, solver, sub_start).ok()?;
    if !converged || !beta_s.iter().all(|b| b.is_finite()) {
        return None;
    }
    // Intercepts: from a subsample row of the group where there is one,
    // `alpha_g = eta_i - (x_i - centre_g) beta`; else the group's link.
    let mut start = IrlsOneFe::start(model, |p| fe_link(family, p));
    start.rows_mut(0, k).copy_from(&beta_s);
    for (t, &i) in rows.iter().enumerate() {
        let g = fe.ids[i] as usize;
        let xb: f64 = (0..k).map(|j| (model.x[(i, j)] - centre[g * k + j]) * beta_s[j]).sum();
        start[k + g] = eta_s[t] - xb;
    }
    Some(start)
}

/// IRLS with any number of fixed effects ([`IrlsHdfe`]), from the smoothed
/// outcome.
fn irls_hdfe(model: FeGlm, family: Family, tol: f64, max_iter: u64) -> Result<IrlsFit, EstimateError> {
    let ybar = model.y.mean();
    let start = model.y.map(|y| match family {
        Family::Logit => {
            let p = (y + 0.5) / 2.0;
            (p / (1.0 - p)).ln()
        }
        // Phi^-1 of (y + 0.5) / 2: -0.674 or 0.674.
        Family::Probit => (y - 0.5) * 2.0 * 0.674_489_750_196_081_7,
        _ => ((y + ybar) / 2.0).ln(),
    });
    let res = Executor::new(model, IrlsHdfe::new(tol))
        .configure(|s| s.param(start).max_iters(max_iter))
        .run()
        .map_err(|e| EstimateError::Solver(e.to_string()))?;
    let converged = res.state().get_termination_reason() == Some(&TerminationReason::SolverConverged);
    let eta = res.state().get_param().cloned().ok_or_else(|| EstimateError::Solver("no IRLS step was taken".into()))?;
    let beta = res.solver().beta.clone().ok_or_else(|| EstimateError::Solver("no IRLS step was taken".into()))?;
    Ok((eta, beta, converged, res.state().get_iter()))
}

/// What an IRLS run gives: linear predictor, coefficients, converged, iterations.
type IrlsFit = (DVector<f64>, DVector<f64>, bool, u64);

fn fit_fe_glm(design: &mut Design, family: Family, opts: &FitOptions) -> Result<Estimates, EstimateError> {
    prepare_fe_design(design, family)?;
    let prior = design.weights.clone();
    let prior = prior.as_deref();
    let model = FeGlm { family, x: &design.x, y: &design.y, fes: &design.fixed_effects, prior };
    // Probit's Fisher scoring converges linearly (its link is not
    // canonical): a tighter deviance criterion for the same accuracy.
    let tol = if family == Family::Probit { opts.tol * 1e-4 } else { opts.tol };
    // One fixed effect with a canonical link: the one-pass solver. Probit
    // keeps the general path: its Fisher scoring converges linearly, so where
    // the deviance criterion stops depends on the start, and from the general
    // path's start it stops where fixest does (the references pin that).
    // The one-pass solver keeps a table of group sums per chunk of rows: with
    // more levels than that pays for (dyad effects), the general path. Where
    // its within information is not positive definite (it is formed as a
    // difference), the general path too.
    let one_fe = design.fixed_effects.len() == 1
        && family != Family::Probit
        && design.fixed_effects[0].levels * (design.x.ncols() + 2) <= ONE_FE_MAX_TABLE;
    let (eta, beta, converged, iterations) = match one_fe {
        true => irls_one_fe(model, family, tol, opts.max_iter).or_else(|_| {
            irls_hdfe(
                FeGlm { family, x: &design.x, y: &design.y, fes: &design.fixed_effects, prior },
                family,
                tol,
                opts.max_iter,
            )
        })?,
        false => irls_hdfe(model, family, tol, opts.max_iter)?,
    };
    let model = FeGlm { family, x: &design.x, y: &design.y, fes: &design.fixed_effects, prior };
    // The fixed effects' sum on each row, for predictions and margins.
    design.fe_eta = Some(&eta - &design.x * &beta);
    // Working weights (the expected information, as fixest's feglm) and
    // score factors `w (z - eta)` (`y - mu` for canonical links) at the estimate.
    let rows = || design.y.as_slice().par_iter().zip(eta.as_slice().par_iter()).enumerate();
    let (w, factors): (Vec<f64>, Vec<f64>) = rows()
        .map(|(i, (y, e))| {
            let (w, r) = model.working(*y, *e);
            let a = prior.map_or(1.0, |p| p[i]);
            (a * w, a * w * r)
        })
        .unzip();
    let mut dummy = DVector::zeros(design.y.len());
    let mut xt = design.x.clone();
    demean(&mut dummy, &mut xt, &design.fixed_effects, Some(&w), 1e-12, 100_000);
    let bread = super::weighted_gram(&xt, &w)
        .cholesky()
        .map(|c| c.inverse())
        .ok_or_else(|| EstimateError::Solver("the information matrix is singular at the estimate".into()))?;
    let gradient_norm = inf_norm(&design.x.tr_mul(&DVector::from_column_slice(&factors)));
    // The scores overwrite the demeaned regressors (a second n x k matrix
    // costs more in page faults than the products).
    let scores = scale_rows_in_place(xt, &factors);
    let n = design.y.len() as f64;
    let k = design.x.ncols();
    let big_k = (k + super::demean::fe_dof(&design.fixed_effects)) as f64;
    let cov = fe_vcov(&bread, &scores, design, k, &opts.vcov)?;
    // Summed in fixed chunks, in order: the bits do not depend on the threads.
    let loglik: f64 = design
        .y
        .as_slice()
        .par_chunks(1 << 14)
        .zip(eta.as_slice().par_chunks(1 << 14))
        .enumerate()
        .map(|(c, (y, e))| {
            y.iter()
                .zip(e)
                .enumerate()
                .map(|(t, (y, e))| {
                    let a = prior.map_or(1.0, |p| p[(c << 14) + t]);
                    a * match family {
                        Family::Logit => y * e - softplus(*e),
                        Family::Probit => obs_probit(*y, *e).0,
                        _ => y * e - e.exp() - ln_gamma(y + 1.0),
                    }
                })
                .sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let llnull = null_loglik(family, &design.y, prior);
    Ok(Estimates {
        beta,
        cov,
        dist: Dist::Normal,
        df_resid: n - big_k,
        loglik: Some(loglik),
        r2: None,
        adj_r2: None,
        within_r2: None,
        pseudo_r2: Some(1.0 - loglik / llnull),
        converged,
        iterations,
        gradient_norm,
        // A model of fixed effects alone has no coefficient to identify.
        identification: if k == 0 { (1.0, Vec::new()) } else { crate::inference::least_identified(&bread) },
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_log_cdf_and_mills_ratio_in_the_tails() {
        // Reference values: scipy.stats.norm.logcdf and pdf/cdf.
        let cases = [
            (-40.0, -804.6084420137539, 40.024968847210886),
            (-29.0, -424.78741990973026, 29.034401237739754),
            (-5.0, -15.064998393988727, 5.1865039671258515),
            (0.0, -std::f64::consts::LN_2, 0.7978845608028654),
            (3.0, -0.0013508099647481925, 0.004437839042125666),
        ];
        for (x, ln_cdf, mills) in cases {
            let (a, b) = ln_cdf_and_mills(x);
            assert!((a - ln_cdf).abs() < 1e-9 * ln_cdf.abs().max(1e-3), "{x}: {a} vs {ln_cdf}");
            assert!((b - mills).abs() < 1e-9 * mills, "{x}: {b} vs {mills}");
        }
    }

    #[test]
    fn stable_link_functions() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert!(softplus(-1000.0) >= 0.0 && softplus(-1000.0) < 1e-300);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(logistic(-1000.0), 0.0);
        assert_eq!(logistic(1000.0), 1.0);
        assert!((logistic(0.0) - 0.5).abs() < 1e-15);
    }

    /// The warm start changes where Newton starts, not where it ends: on
    /// samples large enough to take it, the estimates equal those of Newton
    /// from zero to 1e-7 standard errors; with three events in 120,000 rows
    /// (none in the subsample, so its fit runs off) the full fit still converges.
    #[test]
    fn the_warm_start_lands_where_a_cold_start_does() {
        use rand::{RngExt, SeedableRng};
        let n = 120_000;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let x1: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
        let x2: Vec<f64> = (0..n).map(|_| f64::from(u8::from(rng.random::<f64>() < 0.3))).collect();
        let u: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        let eta = |i: usize, a: f64| a + 0.5 * x1[i] - 0.7 * x2[i];
        let cases: Vec<(Family, Vec<f64>)> = vec![
            (Family::Logit, (0..n).map(|i| f64::from(u8::from(u[i] < logistic(eta(i, -2.0))))).collect()),
            (Family::Probit, (0..n).map(|i| f64::from(u8::from(u[i] < logistic(eta(i, -1.0) * 1.7)))).collect()),
            (Family::Poisson, (0..n).map(|i| (eta(i, 0.2).exp() * u[i] * 2.0).floor()).collect()),
            (Family::Logit, (0..n).map(|i| f64::from(u8::from(i % 40_000 == 1))).collect()),
        ];
        for (family, y) in cases {
            let df = polars::df!("y" => &y, "x1" => &x1, "x2" => &x2).unwrap();
            let fit = crate::estimate::fit(&df, "y ~ x1 + x2", family, &FitOptions::default()).unwrap();
            assert!(fit.converged);
            let x = DMatrix::from_fn(n, 3, |i, j| [1.0, x1[i], x2[i]][j]);
            let yv = DVector::from_vec(y);
            let solver = DampedNewton { tol: 1e-8, finish_below: 1e-12, ..Default::default() };
            let cold = Executor::new(Glm::new(family, &x, &yv, 0.0), solver)
                .configure(|s| s.param(DVector::zeros(3)).max_iters(200))
                .run()
                .unwrap();
            let cold = cold.state().get_param().unwrap().clone();
            for (j, c) in fit.coefficients.iter().enumerate() {
                let gap = (c.estimate - cold[j]).abs() / c.std_error;
                assert!(gap < 1e-7, "{family:?} {}: {} vs {} ({gap:.1e} s.e.)", c.term, c.estimate, cold[j]);
            }
        }
    }

    /// The one-fixed-effect solver (and its warm start) lands where the
    /// general IRLS does: logit and Poisson, with group intercepts spread
    /// over four units and a regressor with little within-group variation,
    /// below and above the warm-start size; estimates within 1e-6 standard
    /// errors, deviances within 1e-10.
    #[test]
    fn the_one_fixed_effect_solver_lands_where_general_irls_does() {
        use rand::{RngExt, SeedableRng};
        for n in [3_000, 80_000] {
            let mut rng = rand::rngs::StdRng::seed_from_u64(11);
            let groups = 60;
            let ids: Vec<u32> = (0..n).map(|i| (i % groups) as u32).collect();
            let a: Vec<f64> = (0..groups).map(|g| -3.0 + 4.0 * g as f64 / groups as f64).collect();
            let x1: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
            // Mostly the group's level: little variation within groups.
            let x2: Vec<f64> = (0..n).map(|i| 50.0 * a[ids[i] as usize] + 0.1 * rng.random::<f64>()).collect();
            let eta: Vec<f64> = (0..n).map(|i| a[ids[i] as usize] + 0.8 * x1[i] + 2.0 * (x2[i] % 0.1)).collect();
            let fes = [Groups { name: "g".into(), ids: ids.clone(), levels: groups }];
            let x = DMatrix::from_fn(n, 2, |i, j| [x1[i], x2[i]][j]);
            // Poisson twice: small counts, and counts in the thousands (the
            // start is the log of each group's mean, not of a clamped one).
            for (family, shift) in [(Family::Logit, 0.0), (Family::Poisson, 0.0), (Family::Poisson, 7.0)] {
                let y = DVector::from_iterator(
                    n,
                    eta.iter().map(|e| {
                        let u = rng.random::<f64>();
                        match family {
                            Family::Logit => f64::from(u8::from(u < logistic(*e))),
                            _ => ((e + shift).exp() * u * 2.0).floor(),
                        }
                    }),
                );
                let model = || FeGlm { family, x: &x, y: &y, fes: &fes, prior: None };
                let (eta1, b1, c1, it1) = irls_one_fe(model(), family, 1e-10, 100).unwrap();
                let (eta0, b0, c0, _) = irls_hdfe(model(), family, 1e-10, 100).unwrap();
                assert!(c1 && c0, "{family:?} n = {n}");
                // 4-5 from the groups' own means (8 from means clamped below 1).
                assert!(it1 <= 6, "{family:?} n = {n}, shift {shift}: {it1} iterations");
                let m = model();
                let dev = |eta: &DVector<f64>| (0..n).map(|i| m.unit_deviance(y[i], m.mean(eta[i]))).sum::<f64>();
                assert!((dev(&eta1) - dev(&eta0)).abs() < 1e-10 * dev(&eta0), "{family:?} n = {n}");
                // Standard errors from the information at the estimate.
                let w: Vec<f64> = (0..n).map(|i| m.working(y[i], eta0[i]).0).collect();
                let (mut z, mut xt) = (DVector::zeros(n), x.clone());
                demean(&mut z, &mut xt, &fes, Some(&w), 1e-13, 1000);
                let se = super::super::weighted_gram(&xt, &w).try_inverse().unwrap().diagonal().map(f64::sqrt);
                for j in 0..2 {
                    let gap = (b1[j] - b0[j]).abs() / se[j];
                    assert!(gap < 1e-6, "{family:?} n = {n}, x{}: {} vs {} ({gap:.1e} s.e.)", j + 1, b1[j], b0[j]);
                }
            }
        }
    }
    /// A warm start whose subsample is separated: a rare indicator whose
    /// rows in the subsample (every 8th row) all have an event, while the
    /// full sample's do not. The subsample's fit stops with the indicator's
    /// coefficient near 23, a start whose full-sample deviance (about 40,200)
    /// is above the cold start's (about 28,700): the cold start is taken, and
    /// the fit lands where the general IRLS does, within 1e-6.
    #[test]
    fn a_separated_warm_start_subsample_falls_back_to_the_cold_start() {
        use rand::{RngExt, SeedableRng};
        let n = 80_000;
        let groups = 40;
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let ids: Vec<u32> = (0..n).map(|i| (i % groups) as u32).collect();
        let x1: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
        // The indicator is 1 on every 97th row; in the subsample those rows
        // have y = 1, elsewhere y is drawn.
        let r: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 97 == 0))).collect();
        let y = DVector::from_iterator(
            n,
            (0..n).map(|i| {
                let p = logistic(-2.5 + 0.6 * x1[i] + 0.3 * r[i] + 0.02 * f64::from(ids[i]));
                if r[i] > 0.0 && i % WARM_STRIDE == 0 {
                    1.0
                } else {
                    f64::from(u8::from(rng.random::<f64>() < p))
                }
            }),
        );
        let fes = [Groups { name: "g".into(), ids, levels: groups }];
        let x = DMatrix::from_fn(n, 2, |i, j| [x1[i], r[i]][j]);
        let model = || FeGlm { family: Family::Logit, x: &x, y: &y, fes: &fes, prior: None };
        let (_, b1, c1, _) = irls_one_fe(model(), Family::Logit, 1e-10, 100).unwrap();
        let (_, b0, c0, _) = irls_hdfe(model(), Family::Logit, 1e-10, 100).unwrap();
        assert!(c1 && c0);
        for j in 0..2 {
            assert!((b1[j] - b0[j]).abs() < 1e-6, "x{}: {} vs {}", j + 1, b1[j], b0[j]);
        }
    }
}
