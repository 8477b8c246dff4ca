//! Estimators. Each model family defines its objective (and, for likelihood
//! models, gradient and Hessian); iterative fits are solved by argmin; a [`Fit`]
//! owns the estimates, their covariance and the diagnostics of the fit.

pub mod clogit;
pub mod cox;
pub mod demean;
pub mod firth;
pub mod glm;
pub mod km;
pub mod negbin;
pub mod ols;
pub mod saved;
pub mod separation;
pub mod solver;

use nalgebra::{DMatrix, DVector};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::formula::design::{build_design_in, Design, DesignError, Dropped, PanelSpec, Rebuild};
use crate::formula::{Formula, FormulaError};
use crate::inference::hypothesis::{likelihood_ratio, one_sided_p, parse_restrictions, wald, Direction, TestResult};
use crate::inference::margins::{Margins, MeanFunction};
use crate::inference::{table, Coefficient, Dist, InferenceError, VcovSpec};

/// Errors of estimation.
#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error(transparent)]
    Formula(#[from] FormulaError),
    #[error(transparent)]
    Design(#[from] DesignError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
    #[error("unknown family `{0}`: use gaussian, logit, probit, poisson, negbin, firth, cox or clogit")]
    UnknownFamily(String),
    #[error("weights: {0}")]
    BadWeights(String),
    #[error("the outcome `{column}` must be {expected} for {family}; row {row} has {value}")]
    BadOutcome { family: Family, column: String, expected: &'static str, row: usize, value: f64 },
    #[error("the design is singular: no regressor is left after removing collinear terms ({0})")]
    NoRegressors(String),
    #[error("{family} did not converge in {iterations} iterations (gradient norm {gradient_norm:.3e}); no estimates are reported (raise --max-iter, or pass --allow-nonconverged to inspect the last iterate)")]
    NotConverged { family: Family, iterations: u64, gradient_norm: f64 },
    #[error("{kind} separation in {family}: {detail}; the maximum-likelihood estimate does not exist (drop or recode the variable(s), or use a Firth-penalised logit)")]
    Separation { family: Family, kind: &'static str, detail: String },
    #[error("no observation of {family} is left: all {rows} rows are separated: {detail}; the model cannot be estimated on these data")]
    AllSeparated { family: Family, rows: usize, detail: String },
    #[error("fixed-effect demeaning did not converge in {0} iterations")]
    DemeanNotConverged(usize),
    #[error("{0} is not available yet")]
    NotYet(String),
    /// A file of fits (a saved fit) that cannot serve the request.
    #[error("{}: {message}", path.display())]
    File { path: std::path::PathBuf, message: String },
    #[error("solver failed: {0}")]
    Solver(String),
    /// A row the model cannot use (a risk interval that ends before it starts).
    #[error("row {row}: {detail}")]
    BadRow { row: usize, detail: String },
    #[error("the estimates are not identified in practice: the covariance matrix is near-singular (condition number {condition:.1e} after scaling, so its inverse keeps fewer than 4 digits); nearly collinear: {terms}. Drop or combine one of them, or rescale the model")]
    NearSingular { condition: f64, terms: String },
}

/// Model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Gaussian,
    Logit,
    Probit,
    Poisson,
    /// Negative binomial NB2 (`alpha` estimated).
    Negbin,
    /// Firth-penalised logit.
    Firth,
    /// Cox proportional hazards (`Surv(start, stop, event) ~ x + strata(s)`).
    Cox,
    /// Conditional (fixed-effects) logit, Chamberlain's: `y ~ x | group`.
    Clogit,
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Family::Gaussian => "gaussian",
            Family::Logit => "logit",
            Family::Probit => "probit",
            Family::Negbin => "negbin",
            Family::Firth => "firth",
            Family::Poisson => "poisson",
            Family::Cox => "cox",
            Family::Clogit => "clogit",
        })
    }
}

impl std::str::FromStr for Family {
    type Err = EstimateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "gaussian" | "ols" => Ok(Family::Gaussian),
            "logit" => Ok(Family::Logit),
            "probit" => Ok(Family::Probit),
            "negbin" | "nb2" => Ok(Family::Negbin),
            "firth" => Ok(Family::Firth),
            "poisson" => Ok(Family::Poisson),
            "cox" | "coxph" => Ok(Family::Cox),
            "clogit" | "conditional-logit" => Ok(Family::Clogit),
            _ => Err(EstimateError::UnknownFamily(s.into())),
        }
    }
}

/// Options of a fit.
#[derive(Debug, Clone)]
pub struct FitOptions {
    pub vcov: VcovSpec,
    /// Confidence level of the intervals.
    pub level: f64,
    pub panel: Option<PanelSpec>,
    pub max_iter: u64,
    /// Gradient tolerance (sup norm) of iterative fits.
    pub tol: f64,
    /// Report the last iterate of a fit that did not converge (flagged).
    pub allow_nonconverged: bool,
    /// Rows of the data to estimate on (all when `None`); lags still read the others.
    pub sample: Option<Vec<bool>>,
    /// Tied event times in Cox models (Efron, as R's `coxph`, unless Breslow).
    pub ties: cox::Ties,
    /// A column of observation weights (fixest's `weights = ~w`): each row's
    /// squared residual (least squares) or log-likelihood counts `w` times.
    /// Rows with a missing or zero weight are left out; a negative weight is an error.
    pub weights: Option<String>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            vcov: VcovSpec::Iid,
            level: 0.95,
            panel: None,
            max_iter: 100,
            tol: 1e-8,
            allow_nonconverged: false,
            sample: None,
            ties: cox::Ties::Efron,
            weights: None,
        }
    }
}

impl Family {
    /// The mean function (inverse link) margins and predictions differentiate.
    pub fn mean_function(self) -> Result<MeanFunction, EstimateError> {
        Ok(match self {
            Family::Gaussian => MeanFunction::Identity,
            Family::Logit | Family::Firth => MeanFunction::Logistic,
            Family::Probit => MeanFunction::NormalCdf,
            Family::Poisson | Family::Negbin => MeanFunction::Exp,
            Family::Cox | Family::Clogit => {
                return Err(EstimateError::NotYet(format!("margins and predictions for {}", self)))
            }
        })
    }
}

/// A fixed effect of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedEffectInfo {
    pub name: String,
    pub levels: usize,
}

/// A fitted model: estimates, covariance, fit statistics and diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub family: Family,
    pub formula: String,
    pub nobs: usize,
    pub n_input: usize,
    pub dropped: Dropped,
    pub loglik: Option<f64>,
    pub aic: Option<f64>,
    pub bic: Option<f64>,
    pub r2: Option<f64>,
    pub adj_r2: Option<f64>,
    pub within_r2: Option<f64>,
    pub pseudo_r2: Option<f64>,
    pub converged: bool,
    pub iterations: u64,
    pub gradient_norm: f64,
    /// Condition number of the model-based covariance scaled to unit diagonal
    /// (above 1e8 a note says the estimates are nearly collinear).
    pub condition_number: f64,
    pub vcov: String,
    pub distribution: Dist,
    pub df_resid: f64,
    /// Residual degrees of freedom of the model, `n - K` with `K` the
    /// regressors plus the fixed-effect levels (less the redundant ones) and
    /// the absorbed slopes, as fixest counts them for the iid t statistic
    /// (`df_resid` is that of the reference distribution, `G - 1` with clusters).
    pub residual_dof: f64,
    pub level: f64,
    pub fixed_effects: Vec<FixedEffectInfo>,
    /// Clusters of a clustered vcov: the cluster column and its number of
    /// clusters in the estimation sample (empty for other vcovs).
    pub clusters: Vec<FixedEffectInfo>,
    pub coefficients: Vec<Coefficient>,
    /// The covariance matrix of the estimates, in the order of `coefficients`.
    pub vcov_matrix: Vec<Vec<f64>>,
    pub notes: Vec<String>,
    #[serde(skip)]
    pub beta: DVector<f64>,
    #[serde(skip)]
    pub cov: DMatrix<f64>,
}

impl Fit {
    /// The coefficient of a term.
    pub fn coef(&self, term: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.term == term)
    }

    /// Wald test of linear restrictions on the coefficients, e.g. `"x1 = 0, x2 = 0"`.
    pub fn wald(&self, restrictions: &str) -> Result<TestResult, InferenceError> {
        let names: Vec<String> = self.coefficients.iter().map(|c| c.term.clone()).collect();
        let (r, q) = parse_restrictions(restrictions, &names)?;
        wald(&self.beta, &self.cov, &r, &q, self.distribution)
    }

    /// A linear combination `sum w_j b_j` of the coefficients, named `label`,
    /// with its standard error, test and interval on the fit's distribution
    /// and level: the effect of `x` at `z` in a model with `x` and `x:z` is
    /// `[("x", 1.0), ("x:z", z)]`.
    ///
    /// ```
    /// use concord::estimate::{fit, Family, FitOptions};
    /// let df = polars::df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0, 6.5], "x" => [0.0, 2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
    /// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
    /// let at2 = f.linear_combination("y at x = 2", &[("(Intercept)", 1.0), ("x", 2.0)]).unwrap();
    /// let (a, b) = (f.coef("(Intercept)").unwrap().estimate, f.coef("x").unwrap().estimate);
    /// assert!((at2.estimate - (a + 2.0 * b)).abs() < 1e-12);
    /// ```
    pub fn linear_combination(&self, label: &str, weights: &[(&str, f64)]) -> Result<Coefficient, InferenceError> {
        let at: Vec<(usize, f64)> = weights
            .iter()
            .map(|(t, w)| {
                self.coefficients.iter().position(|c| c.term == *t).map(|i| (i, *w)).ok_or_else(|| {
                    InferenceError::Unsupported(format!("no term `{t}` in the fit of `{}`", self.formula))
                })
            })
            .collect::<Result<_, _>>()?;
        let estimate: f64 = at.iter().map(|(i, w)| w * self.beta[*i]).sum();
        let var: f64 = at.iter().flat_map(|(i, wi)| at.iter().map(move |(j, wj)| wi * wj * self.cov[(*i, *j)])).sum();
        let one = table(
            &[label.to_string()],
            &DVector::from_element(1, estimate),
            &DMatrix::from_element(1, 1, var),
            self.distribution,
            self.level,
        )?;
        one.into_iter().next().ok_or_else(|| InferenceError::Unsupported("empty combination".into()))
    }

    /// Likelihood-ratio test of `restricted` (nested in this fit, same sample).
    pub fn lr_test(&self, restricted: &Fit) -> Result<TestResult, InferenceError> {
        if restricted.nobs != self.nobs {
            return Err(InferenceError::Unsupported(format!(
                "the fits use different samples ({} and {} observations): refit the restricted model on the full model's rows",
                restricted.nobs, self.nobs
            )));
        }
        let (Some(lr), Some(lf)) = (restricted.loglik, self.loglik) else {
            return Err(InferenceError::Unsupported("a log-likelihood is missing".into()));
        };
        let q = self.coefficients.len().saturating_sub(restricted.coefficients.len());
        likelihood_ratio(lr, lf, q)
    }

    /// The sensitivity of a term's estimate to an omitted confounder
    /// (Cinelli & Hazlett 2020): its partial R² with the outcome and the
    /// robustness values `RV_q` and `RV_{q,alpha}` (see
    /// [`crate::inference::sensitivity`]). Only a least-squares fit with the
    /// iid vcov has the classical t statistic these rest on; refit with
    /// `vcov = iid` for a model reported with clustered or robust errors.
    ///
    /// ```
    /// use concord::estimate::{fit, Family, FitOptions};
    /// let df = polars::df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0, 6.5], "x" => [0.0, 2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
    /// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
    /// assert_eq!(f.residual_dof, 4.0);
    /// let s = f.sensitivity("x", 1.0, 0.05).unwrap();
    /// let t = f.coef("x").unwrap().statistic;
    /// assert!((s.partial_r2 - t * t / (t * t + 4.0)).abs() < 1e-12);
    /// assert!(s.rv_qa < s.rv_q && s.rv_q < 1.0);
    /// ```
    pub fn sensitivity(
        &self,
        term: &str,
        q: f64,
        alpha: f64,
    ) -> Result<crate::inference::sensitivity::Sensitivity, InferenceError> {
        if self.family != Family::Gaussian || self.vcov != VcovSpec::Iid.to_string() {
            return Err(InferenceError::Unsupported(format!(
                "sensitivity to omitted confounding needs a least-squares fit with the iid vcov (this is {} with {}): refit with vcov = iid",
                self.family, self.vcov
            )));
        }
        let c = self
            .coef(term)
            .ok_or_else(|| InferenceError::Unsupported(format!("no term `{term}` in the fit of `{}`", self.formula)))?;
        Ok(crate::inference::sensitivity::sensitivity_stats(c.estimate, c.std_error, self.residual_dof, q, alpha)?)
    }

    /// One-sided p-value of a term for a directional hypothesis.
    pub fn one_sided_p(&self, term: &str, direction: Direction) -> Option<f64> {
        self.coef(term).map(|c| one_sided_p(c.statistic, direction, self.distribution))
    }

    /// Marginal effects and counterfactual predictions of this fit, per
    /// variable and through its formula (see [`Margins`]); `df` and `panel`
    /// are the data and panel it was fitted on, `design` the design
    /// [`fit_with_design`] returned. With fixed effects, the ones estimated
    /// (OLS, Poisson, logit) are held at their fitted values.
    ///
    /// ```
    /// use concord::estimate::{fit_with_design, Family, FitOptions};
    /// let df = polars::df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0, 6.5], "x" => [0.0, 2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
    /// let (f, d) = fit_with_design(&df, "y ~ poly(x, 2)", Family::Gaussian, &FitOptions::default()).unwrap();
    /// let m = f.margins(&df, &d, None).unwrap();
    /// let ame = m.slopes().unwrap();
    /// assert_eq!(ame[0].term, "x");
    /// // The average prediction at the observed values is the mean outcome (OLS with an intercept).
    /// let at = m.predict(&[]).unwrap();
    /// assert!((at.estimate - 21.5 / 6.0).abs() < 1e-9);
    /// ```
    pub fn margins(
        &self,
        df: &DataFrame,
        design: &Design,
        panel: Option<&PanelSpec>,
    ) -> Result<Margins, EstimateError> {
        let absorbed = !design.fixed_effects.is_empty() || !design.slopes.is_empty();
        let offset = match (!absorbed, &design.fe_eta) {
            (true, _) => None,
            (false, Some(e)) => Some(e.clone()),
            (false, None) => {
                return Err(EstimateError::NotYet(format!(
                    "marginal effects and predictions for {} with fixed effects (its fixed effects are not estimated)",
                    self.family
                )))
            }
        };
        let rebuild = Rebuild::new(df, design, panel)?;
        // An absorbed slope of a variable that margins move would stay put in
        // the offset: refuse rather than report half an effect.
        if let Some(s) = design.slopes.iter().find(|s| rebuild.variables().iter().any(|(v, _)| *v == s.variable)) {
            return Err(EstimateError::NotYet(format!(
                "marginal effects of `{}`, whose slope is absorbed by `{}[{}]`: write i({}, {}) among the regressors",
                s.variable, s.groups.name, s.variable, s.groups.name, s.variable
            )));
        }
        // The rebuild at the observed values must be the design itself.
        let x0 = rebuild.x_with(&[])?;
        let scale = design.x.amax().max(1.0);
        if x0.shape() != design.x.shape() || (&x0 - &design.x).amax() > 1e-9 * scale {
            return Err(EstimateError::NotYet(
                "margins for this design (its columns cannot be rebuilt from the formula)".into(),
            ));
        }
        let k = design.x.ncols();
        let beta = self.beta.rows(0, k).into_owned();
        let cov = self.cov.view((0, 0), (k, k)).into_owned();
        Ok(Margins::new(self.mean_function()?, rebuild, beta, cov, offset, self.distribution, self.level))
    }

    /// The mean function of the family (for margins and predictions).
    pub fn mean_function(&self) -> Result<MeanFunction, EstimateError> {
        self.family.mean_function()
    }

    /// Tidy JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// What an estimator returns before inference is attached.
pub(crate) struct Estimates {
    pub beta: DVector<f64>,
    pub cov: DMatrix<f64>,
    pub dist: Dist,
    pub df_resid: f64,
    pub loglik: Option<f64>,
    pub r2: Option<f64>,
    pub adj_r2: Option<f64>,
    pub within_r2: Option<f64>,
    pub pseudo_r2: Option<f64>,
    pub converged: bool,
    pub iterations: u64,
    pub gradient_norm: f64,
    /// [`crate::inference::least_identified`] of the model-based covariance:
    /// its scaled condition number and worst-identified direction.
    pub identification: (f64, Vec<f64>),
    pub notes: Vec<String>,
}

/// `x` with row `i` multiplied by `v[i]` (weighted regressors, scores).
pub fn scale_rows(x: &DMatrix<f64>, v: &[f64]) -> DMatrix<f64> {
    scale_rows_in_place(x.clone(), v)
}

/// [`scale_rows`] on a matrix the caller no longer needs.
pub fn scale_rows_in_place(mut x: DMatrix<f64>, v: &[f64]) -> DMatrix<f64> {
    for mut c in x.column_iter_mut() {
        for (a, b) in c.iter_mut().zip(v) {
            *a *= b;
        }
    }
    x
}

/// `out[i] -= sum_j b[j] * x[i, j]` for a column-major `x`, in blocks of
/// rows that stay in cache while each column's stretch is read once
/// (residuals, fixed-effect parts: one pass over the data instead of one per
/// column).
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 0.0, 1.0, -1.0]);
/// let mut y = vec![4.0, 1.0, -2.0];
/// concord::estimate::sub_xb(&mut y, &x, &[1.0, 0.5]);
/// assert_eq!(DVector::from_vec(y), DVector::from_vec(vec![4.0, 1.0, -2.0]) - &x * DVector::from_vec(vec![1.0, 0.5]));
/// ```
pub fn sub_xb(out: &mut [f64], x: &DMatrix<f64>, b: &[f64]) {
    const BLOCK: usize = 2048;
    let n = x.nrows();
    for (blk, o) in out.chunks_mut(BLOCK).enumerate() {
        let start = blk * BLOCK;
        for (j, bj) in b.iter().enumerate() {
            let xj = &x.as_slice()[j * n + start..j * n + start + o.len()];
            o.iter_mut().zip(xj).for_each(|(v, xi)| *v -= bj * xi);
        }
    }
}

/// Dot product with four running sums (a fixed order, so results do not vary
/// from run to run, and one the compiler can vectorise).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `X'X`, one column pair per task (in parallel; each sum in a fixed order,
/// so the bits do not depend on the number of threads).
///
/// ```
/// use nalgebra::DMatrix;
/// let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 0.0, 1.0, -1.0]);
/// assert_eq!(concord::estimate::gram(&x), x.tr_mul(&x));
/// ```
pub fn gram(x: &DMatrix<f64>) -> DMatrix<f64> {
    pairwise(x, dot)
}

/// `X' diag(w) X`, as [`gram`].
///
/// ```
/// use nalgebra::DMatrix;
/// let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 0.0, 1.0, -1.0]);
/// let w = [2.0, 1.0, 0.5];
/// let xw = DMatrix::from_fn(3, 2, |i, j| x[(i, j)] * w[i]);
/// assert_eq!(concord::estimate::weighted_gram(&x, &w), xw.tr_mul(&x));
/// ```
pub fn weighted_gram(x: &DMatrix<f64>, w: &[f64]) -> DMatrix<f64> {
    pairwise(x, |a, b| wdot(a, w, b))
}

/// `sum a_i w_i b_i`, as [`dot`] (no weighted copy of `a` is made).
pub(crate) fn wdot(a: &[f64], w: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cw, cb) = (a.chunks_exact(4), w.chunks_exact(4), b.chunks_exact(4));
    let (ra, rw, rb) = (ca.remainder(), cw.remainder(), cb.remainder());
    for ((x, v), y) in ca.zip(cw).zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * v[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rw).zip(rb).map(|((x, v), y)| x * v * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The symmetric `k x k` matrix of `f(column a, column b)`, one pair per task.
fn pairwise(x: &DMatrix<f64>, f: impl Fn(&[f64], &[f64]) -> f64 + Sync) -> DMatrix<f64> {
    use rayon::prelude::*;
    let (n, k) = x.shape();
    let col = |j: usize| &x.as_slice()[j * n..(j + 1) * n];
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|a| (a..k).map(move |b| (a, b))).collect();
    let vals: Vec<f64> = pairs.par_iter().map(|&(a, b)| f(col(a), col(b))).collect();
    let mut g = DMatrix::zeros(k, k);
    for (&(a, b), v) in pairs.iter().zip(vals) {
        g[(a, b)] = v;
        g[(b, a)] = v;
    }
    g
}

/// Drop regressors that are (numerically) linear combinations of earlier ones:
/// a sequential Cholesky of `X'X`, dropping column `j` when its residual
/// variance is below `tol` times its own (fixest's rule, tolerance 1e-10).
pub fn collinear_columns(xtx: &DMatrix<f64>, tol: f64) -> Vec<usize> {
    let k = xtx.nrows();
    let mut kept: Vec<usize> = Vec::new();
    let mut dropped = Vec::new();
    for j in 0..k {
        let d = xtx[(j, j)];
        let resid = if kept.is_empty() {
            d
        } else {
            let sub = DMatrix::from_fn(kept.len(), kept.len(), |a, b| xtx[(kept[a], kept[b])]);
            let v = DVector::from_fn(kept.len(), |a, _| xtx[(kept[a], j)]);
            match sub.cholesky() {
                Some(ch) => d - v.dot(&ch.solve(&v)),
                None => 0.0,
            }
        };
        if d <= 0.0 || resid <= tol * d {
            dropped.push(j);
        } else {
            kept.push(j);
        }
    }
    dropped
}

/// fixest's collinearity tolerance (`collin.tol`).
pub const COLLIN_TOL: f64 = 1e-10;

/// Regressors absorbed by the fixed effects: a column whose sum of squares
/// after demeaning is at most `tol` of its sum of squares before (what is left
/// is round-off of the demeaning, not variation), as fixest drops a variable
/// collinear with the fixed effects. `raw` and `demeaned` are the design
/// before and after demeaning, column for column.
///
/// ```
/// use nalgebra::DMatrix;
/// // A period dummy with year fixed effects demeans to round-off.
/// let raw = DMatrix::from_column_slice(4, 2, &[1.0, 1.0, 0.0, 0.0, 0.3, -1.2, 2.0, 0.7]);
/// let dm = DMatrix::from_column_slice(4, 2, &[1e-17, -1e-17, 0.0, 0.0, 0.75, -0.75, 0.65, -0.65]);
/// assert_eq!(concord::estimate::absorbed_columns(&raw, &dm, 1e-10), vec![0]);
/// ```
pub fn absorbed_columns(raw: &DMatrix<f64>, demeaned: &DMatrix<f64>, tol: f64) -> Vec<usize> {
    (0..raw.ncols())
        .filter(|&j| {
            let before = dot(raw.column(j).as_slice(), raw.column(j).as_slice());
            let after = dot(demeaned.column(j).as_slice(), demeaned.column(j).as_slice());
            is_absorbed(before, after, tol)
        })
        .collect()
}

/// A column with sum of squares `before` demeaning and `after` is absorbed.
fn is_absorbed(before: f64, after: f64, tol: f64) -> bool {
    before <= 0.0 || after <= tol * before
}

/// The regressors to drop in a model with fixed effects, in column order:
/// those the fixed effects absorb ([`absorbed_columns`]), then those
/// collinear with the remaining ones after demeaning ([`collinear_columns`]).
/// Every family that absorbs fixed effects calls this on its (first)
/// demeaned design.
pub fn fe_collinear_columns(raw: &DMatrix<f64>, demeaned: &DMatrix<f64>) -> Vec<usize> {
    let before: Vec<f64> = raw.column_iter().map(|c| dot(c.as_slice(), c.as_slice())).collect();
    fe_collinear_from_gram(&before, &gram(demeaned))
}

/// [`fe_collinear_columns`] from the columns' sums of squares before
/// demeaning and the Gram matrix after, for a fit that needs that matrix
/// anyway (least squares: it is `X'X`).
pub(crate) fn fe_collinear_from_gram(before: &[f64], demeaned_gram: &DMatrix<f64>) -> Vec<usize> {
    let absorbed: Vec<usize> =
        (0..before.len()).filter(|&j| is_absorbed(before[j], demeaned_gram[(j, j)], COLLIN_TOL)).collect();
    let rest: Vec<usize> = (0..before.len()).filter(|j| !absorbed.contains(j)).collect();
    let sub = DMatrix::from_fn(rest.len(), rest.len(), |a, b| demeaned_gram[(rest[a], rest[b])]);
    let mut drop: Vec<usize> =
        absorbed.into_iter().chain(collinear_columns(&sub, COLLIN_TOL).into_iter().map(|j| rest[j])).collect();
    drop.sort_unstable();
    drop
}

/// Above this condition number (of the model-based covariance scaled to unit
/// diagonal) a fit carries a note naming the nearly collinear terms.
pub const ILL_CONDITIONED: f64 = 1e8;
/// Above this the fit is refused: the inverse keeps fewer than 4 digits.
pub const NEAR_SINGULAR: f64 = 1e12;

/// Fit `formula` of `family` on `df`.
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit, Family, FitOptions};
/// let df = df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0], "x" => [0.0, 2.0, 1.0, 4.0, 3.0]).unwrap();
/// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
/// assert!((f.coef("x").unwrap().estimate - 1.0).abs() < 1e-12);
/// ```
pub fn fit(df: &DataFrame, formula: &str, family: Family, opts: &FitOptions) -> Result<Fit, EstimateError> {
    fit_with_design(df, formula, family, opts).map(|(f, _)| f)
}

/// [`fit`], also returning the design it was estimated on (for margins).
pub fn fit_with_design(
    df: &DataFrame,
    formula: &str,
    family: Family,
    opts: &FitOptions,
) -> Result<(Fit, Design), EstimateError> {
    if family == Family::Cox {
        return cox::fit_cox(df, formula, opts);
    }
    let formula = Formula::parse(formula)?;
    let design = design_for(df, &formula, opts)?;
    let (mut fit, design) = fit_design(design, &formula.to_string(), family, opts)?;
    if let Some(w) = &opts.weights {
        fit.notes.push(format!("weighted by `{w}`"));
    }
    Ok((fit, design))
}

/// The design `fit` estimates on: the formula's columns, the clusters of the
/// vcov, the periods of Driscoll-Kraay, the rows of `opts.sample`.
pub fn design_for(df: &DataFrame, formula: &Formula, opts: &FitOptions) -> Result<Design, EstimateError> {
    let mut clusters = opts.vcov.cluster_columns();
    let dk_time = match &opts.vcov {
        VcovSpec::DriscollKraay { time, .. } => {
            Some(time.clone().or_else(|| opts.panel.as_ref().map(|p| p.time.clone())).ok_or_else(|| {
                EstimateError::Inference(InferenceError::Unsupported(
                    "Driscoll-Kraay needs the time column: dk:TIME, or --panel UNIT,TIME".into(),
                ))
            })?)
        }
        _ => None,
    };
    if let Some(t) = &dk_time {
        if !clusters.contains(t) {
            clusters.push(t.clone());
        }
    }
    let weights = match &opts.weights {
        Some(col) => Some(crate::formula::design::numeric(df, col)?),
        None => None,
    };
    if let Some(w) = &weights {
        if let Some((row, v)) = w.iter().enumerate().find_map(|(i, v)| v.filter(|v| *v < 0.0).map(|v| (i, v))) {
            return Err(EstimateError::BadWeights(format!(
                "`{}` has the negative weight {v} in row {}",
                opts.weights.as_deref().unwrap_or_default(),
                row + 1
            )));
        }
    }
    // Rows without a positive weight are not in the sample (a missing weight
    // counts as a missing value, a zero weight as a row left out).
    let sample: Option<Vec<bool>> = match (&weights, &opts.sample) {
        (None, s) => s.clone(),
        (Some(w), s) => Some(
            w.iter().enumerate().map(|(i, v)| v.is_some_and(|v| v > 0.0) && s.as_ref().is_none_or(|s| s[i])).collect(),
        ),
    };
    let mut design = build_design_in(df, formula, opts.panel.as_ref(), &clusters, sample.as_deref())?;
    if let Some(w) = &weights {
        let in_sample = |i: usize| opts.sample.as_ref().is_none_or(|s| s[i]);
        design.n_input = (0..w.len()).filter(|&i| in_sample(i)).count();
        design.dropped.zero_weight = (0..w.len()).filter(|&i| in_sample(i) && w[i] == Some(0.0)).count();
        design.dropped.missing =
            design.n_input - design.dropped.zero_weight - design.rows.len() - design.dropped.singletons;
        design.weights = Some(design.rows.iter().map(|&r| w[r].unwrap_or(f64::NAN)).collect());
    }
    if let Some(t) = &dk_time {
        design.set_periods(df, t)?;
    }
    if let VcovSpec::Dyadic(a, b) = &opts.vcov {
        design.set_members(df, a, b)?;
    }
    Ok(design)
}

/// Whether `family` with this vcov (and fixed effects or not) can be
/// estimated: one list, for the estimators and for a study's validation
/// before any fit.
///
/// ```
/// use concord::estimate::{supported, Family};
/// assert!(supported(Family::Logit, &"cluster:dyad".parse().unwrap(), true).is_ok());
/// let e = supported(Family::Firth, &"cluster:dyad".parse().unwrap(), false).unwrap_err();
/// assert_eq!(e.to_string(), "vcov cluster:dyad for firth (use iid) is not available yet");
/// ```
pub fn supported(family: Family, vcov: &VcovSpec, fixed_effects: bool) -> Result<(), EstimateError> {
    let no = |what: String| Err(EstimateError::NotYet(what));
    match (family, vcov, fixed_effects) {
        (Family::Firth, _, true) => no("firth with fixed effects".into()),
        (Family::Firth, v, _) if *v != VcovSpec::Iid => no(format!("vcov {v} for firth (use iid)")),
        (Family::Gaussian, VcovSpec::Hc(h), true) if *h >= 2 => no("hc2/hc3 with fixed effects".into()),
        (Family::Probit, VcovSpec::Hc(h), false) if *h >= 2 => no("hc2/hc3 for probit".into()),
        (Family::Negbin, VcovSpec::Hc(h), _) if *h >= 2 => no(format!("vcov {vcov} for negbin")),
        (Family::Logit | Family::Probit | Family::Poisson | Family::Negbin, VcovSpec::Hc(h), true) if *h >= 2 => {
            no("hc2/hc3 for likelihood models with fixed effects".into())
        }
        (Family::Logit | Family::Probit | Family::Poisson | Family::Negbin, VcovSpec::DriscollKraay { .. }, true) => {
            no("Driscoll-Kraay for likelihood models with fixed effects".into())
        }
        _ => Ok(()),
    }
}

/// Fit a model on a design that is already built (the bootstrap resamples
/// designs, not data frames); `formula` is the text reported with the fit.
pub fn fit_design(
    mut design: Design,
    formula: &str,
    family: Family,
    opts: &FitOptions,
) -> Result<(Fit, Design), EstimateError> {
    check_outcome(&design, family)?;
    if !matches!(family, Family::Cox | Family::Clogit) {
        supported(family, &opts.vcov, !design.fixed_effects.is_empty())?;
    }
    if !design.slopes.is_empty() && family != Family::Gaussian {
        return Err(EstimateError::NotYet(format!(
            "varying slopes with {family} (least squares absorbs them; for the same estimates write i(fe, x) among the regressors)"
        )));
    }
    if design.weights.is_some() && !matches!(family, Family::Gaussian | Family::Logit | Family::Poisson) {
        return Err(EstimateError::BadWeights(format!(
            "{family} does not take weights yet; gaussian, logit and poisson do"
        )));
    }
    let est = match family {
        Family::Gaussian => ols::fit_ols(&mut design, opts)?,
        Family::Logit | Family::Probit | Family::Poisson => glm::fit_glm(&mut design, family, opts)?,
        Family::Negbin => negbin::fit_negbin(&mut design, opts)?,
        Family::Firth => firth::fit_firth(&mut design, opts)?,
        Family::Clogit => clogit::fit_clogit(&mut design, opts)?,
        Family::Cox => return Err(EstimateError::NotYet("cox from a prebuilt design: fit it with `fit`".into())),
    };
    finish_fit(design, formula, family, opts, est)
}

/// The [`Fit`] of estimates on `design`: refuses estimates that did not
/// converge (unless allowed), names nearly collinear terms, attaches the table.
pub(crate) fn finish_fit(
    design: Design,
    formula: &str,
    family: Family,
    opts: &FitOptions,
    est: Estimates,
) -> Result<(Fit, Design), EstimateError> {
    if !est.converged && !opts.allow_nonconverged {
        return Err(EstimateError::NotConverged {
            family,
            iterations: est.iterations,
            gradient_norm: est.gradient_norm,
        });
    }
    let mut notes = est.notes;
    notes.extend(identification_note(&design.names, &est.identification)?);
    let coefficients = table(&design.names, &est.beta, &est.cov, est.dist, opts.level)?;
    let n = design.y.len() as f64;
    let n_slopes: usize = design.slopes.iter().map(|s| s.groups.levels).sum();
    let mut k = (design.names.len() + crate::estimate::demean::fe_dof(&design.fixed_effects) + n_slopes) as f64;
    if family == Family::Clogit {
        // The conditional likelihood has the groups conditioned out: no parameters.
        k = design.names.len() as f64;
    }
    if !design.dropped.collinear.is_empty() {
        notes.push(format!("dropped as collinear: {}", design.dropped.collinear.join(", ")));
    }
    if !est.converged {
        notes.push("NOT CONVERGED: the estimates are the last iterate".into());
    }
    let fit = Fit {
        family,
        formula: formula.to_string(),
        nobs: design.y.len(),
        n_input: design.n_input,
        dropped: design.dropped.clone(),
        loglik: est.loglik,
        aic: est.loglik.map(|ll| -2.0 * ll + 2.0 * k),
        bic: est.loglik.map(|ll| -2.0 * ll + k * n.ln()),
        r2: est.r2,
        adj_r2: est.adj_r2,
        within_r2: est.within_r2,
        pseudo_r2: est.pseudo_r2,
        converged: est.converged,
        iterations: est.iterations,
        gradient_norm: est.gradient_norm,
        condition_number: est.identification.0,
        vcov: opts.vcov.to_string(),
        distribution: est.dist,
        df_resid: est.df_resid,
        residual_dof: n - k,
        level: opts.level,
        fixed_effects: design
            .fixed_effects
            .iter()
            .map(|g| FixedEffectInfo { name: g.name.clone(), levels: g.levels })
            .collect(),
        clusters: design
            .clusters
            .iter()
            .filter(|g| opts.vcov.cluster_columns().contains(&g.name))
            .map(|g| FixedEffectInfo { name: g.name.clone(), levels: g.levels })
            .collect(),
        vcov_matrix: (0..est.cov.nrows()).map(|i| est.cov.row(i).iter().copied().collect()).collect(),
        coefficients,
        notes,
        beta: est.beta,
        cov: est.cov,
    };
    Ok((fit, design))
}

/// A note naming the nearly collinear terms above [`ILL_CONDITIONED`]; an
/// error above [`NEAR_SINGULAR`] (`identification` from
/// [`crate::inference::least_identified`]).
fn identification_note(names: &[String], identification: &(f64, Vec<f64>)) -> Result<Option<String>, EstimateError> {
    let (condition, dir) = identification;
    if *condition <= ILL_CONDITIONED {
        return Ok(None);
    }
    let terms: Vec<&str> = names.iter().zip(dir).filter(|(_, v)| v.abs() >= 0.3).map(|(n, _)| n.as_str()).collect();
    let terms = terms.join(", ");
    if *condition > NEAR_SINGULAR {
        return Err(EstimateError::NearSingular { condition: *condition, terms });
    }
    Ok(Some(format!(
        "nearly collinear: {terms} (condition number {condition:.1e}); their standard errors are large and accurate to about {:.0e}",
        condition * 1e-16
    )))
}

fn check_outcome(d: &Design, family: Family) -> Result<(), EstimateError> {
    let bad = |expected, i: usize, v: f64| EstimateError::BadOutcome {
        family,
        column: d.outcome.clone(),
        expected,
        row: d.rows[i] + 1,
        value: v,
    };
    for (i, &v) in d.y.iter().enumerate() {
        match family {
            Family::Logit | Family::Probit | Family::Firth | Family::Clogit if v != 0.0 && v != 1.0 => {
                return Err(bad("0 or 1", i, v))
            }
            Family::Poisson | Family::Negbin if v < 0.0 => return Err(bad("a count (>= 0)", i, v)),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collinear_columns_are_found_in_order() {
        // x3 = x1 + x2 is dropped, x4 is kept.
        let x = DMatrix::from_row_slice(
            5,
            4,
            &[
                1.0, 0.0, 1.0, 2.0, //
                0.0, 1.0, 1.0, 0.0, //
                1.0, 1.0, 2.0, 5.0, //
                2.0, 0.0, 2.0, 1.0, //
                0.0, 3.0, 3.0, 1.0,
            ],
        );
        assert_eq!(collinear_columns(&(x.transpose() * &x), 1e-10), vec![2]);
    }

    #[test]
    fn near_singular_covariances_are_named_or_refused() {
        let names: Vec<String> = ["(Intercept)", "x1", "x2"].map(String::from).to_vec();
        // Correlation 1 - eps between the estimates of x1 and x2.
        let cov = |eps: f64| {
            DMatrix::from_row_slice(3, 3, &[1.0, 0.0, 0.0, 0.0, 4.0, 2.0 * (1.0 - eps), 0.0, 2.0 * (1.0 - eps), 1.0])
        };
        let id = crate::inference::least_identified(&cov(0.01));
        assert!(id.0 < 1e3 && identification_note(&names, &id).unwrap().is_none());
        let id = crate::inference::least_identified(&cov(1e-10));
        assert!((id.0 - 2e10).abs() < 1e5, "{}", id.0);
        let note = identification_note(&names, &id).unwrap().unwrap();
        assert!(note.starts_with("nearly collinear: x1, x2 (condition number 2.0e10)"), "{note}");
        let id = crate::inference::least_identified(&cov(1e-14));
        let e = identification_note(&names, &id).unwrap_err().to_string();
        assert!(e.contains("near-singular (condition number 2.0e14") && e.contains("nearly collinear: x1, x2."), "{e}");
    }

    #[test]
    fn outcome_checks_name_the_row() {
        let df = polars::df!("y" => [0.0, 1.0, 2.0], "x" => [1.0, 2.0, 3.0]).unwrap();
        let e = fit(&df, "y ~ x", Family::Logit, &FitOptions::default()).unwrap_err().to_string();
        assert_eq!(e, "the outcome `y` must be 0 or 1 for logit; row 3 has 2");
        let df = polars::df!("y" => [0.0, -1.0, 2.0], "x" => [1.0, 2.0, 3.0]).unwrap();
        let e = fit(&df, "y ~ x", Family::Poisson, &FitOptions::default()).unwrap_err().to_string();
        assert_eq!(e, "the outcome `y` must be a count (>= 0) for poisson; row 2 has -1");
        assert!("tobit".parse::<Family>().unwrap_err().to_string().starts_with("unknown family `tobit`"));
    }
}
