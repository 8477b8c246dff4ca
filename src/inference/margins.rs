//! Average marginal effects and average counterfactual predictions per
//! *variable*, computed through the formula, as R's `marginaleffects`
//! (`avg_slopes`, `avg_predictions` on a counterfactual grid) and Stata's
//! `margins` define them: every term built from a variable (interactions,
//! `poly()`, `ns()` with the fitted knots) moves with it, and the
//! derivative (a centred difference through the rebuilt design) or, for a
//! 0/1 variable, the difference between 1 and 0 is averaged over the
//! estimation rows. Standard errors by the delta method; with fixed effects
//! their estimated sum on each row is held as it was fitted (as
//! `marginaleffects` does with fixest).

use nalgebra::{DMatrix, DVector};

use super::{table, Coefficient, Dist, InferenceError};
use crate::formula::design::Rebuild;

/// The link's inverse: which mean function the marginal effects differentiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeanFunction {
    Identity,
    Logistic,
    NormalCdf,
    Exp,
}

impl MeanFunction {
    /// The mean at the linear predictor `eta`, and its derivative.
    pub fn mean_and_slope(self, eta: f64) -> (f64, f64) {
        use statrs::distribution::{Continuous, ContinuousCDF, Normal};
        match self {
            MeanFunction::Identity => (eta, 1.0),
            MeanFunction::Logistic => {
                let p = crate::estimate::glm::logistic(eta);
                (p, p * (1.0 - p))
            }
            MeanFunction::NormalCdf => {
                let n = Normal::standard();
                (n.cdf(eta), n.pdf(eta))
            }
            MeanFunction::Exp => {
                let m = eta.exp();
                (m, m)
            }
        }
    }
}

impl MeanFunction {
    /// The second derivative of the mean at `eta` (for the delta method of
    /// an average slope).
    pub fn curvature(self, eta: f64) -> f64 {
        use statrs::distribution::{Continuous, Normal};
        match self {
            MeanFunction::Identity => 0.0,
            MeanFunction::Logistic => {
                let p = crate::estimate::glm::logistic(eta);
                p * (1.0 - p) * (1.0 - 2.0 * p)
            }
            // 0 in the limit (an infinite linear predictor: a group that
            // never varies), where the product would be NaN.
            MeanFunction::NormalCdf if !eta.is_finite() => 0.0,
            MeanFunction::NormalCdf => -eta * Normal::standard().pdf(eta),
            MeanFunction::Exp => eta.exp(),
        }
    }
}

/// A cause's average marginal effect in two groups of rows (two periods)
/// and their difference, from one model with the cause and its interaction
/// with the second group's indicator: the "second difference" on the scale
/// of the mean (Ai & Norton 2003), which in a logit is not the sign, let
/// alone the size, of the log-odds interaction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SecondDifference {
    /// Average marginal effect of the cause in the first group.
    pub first: Coefficient,
    /// Average marginal effect of the cause in the second group.
    pub second: Coefficient,
    /// `second - first`.
    pub difference: Coefficient,
    /// Rows in each group.
    pub n_first: usize,
    pub n_second: usize,
}

/// [`SecondDifference`] of a fitted model: `x` holds the rows of the design
/// (its columns in the order of `beta` and `cov`), `eta` the linear
/// predictor of each row (fixed effects included, held as fitted), `j` the
/// cause's column and `j_inter` that of the cause times the indicator
/// `in_second` of the second group; the cause enters no other column. Each
/// row's slope is `f'(eta) (b_j + b_inter in_second)`, averaged within each
/// group; standard errors by the delta method with the analytic gradient.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use concord::inference::margins::{second_difference, MeanFunction};
/// use concord::inference::Dist;
/// // Identity link: the difference is the interaction coefficient itself.
/// let x = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 2.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
/// let (b, v) = (DVector::from_vec(vec![0.5, 0.2]), DMatrix::from_diagonal_element(2, 2, 0.01));
/// let sd = second_difference(MeanFunction::Identity, &x, &[0.0; 4], &b, &v, 0, 1, &[false, false, true, true], Dist::Normal, 0.95).unwrap();
/// assert!((sd.difference.estimate - 0.2).abs() < 1e-12 && (sd.difference.std_error - 0.1).abs() < 1e-12);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn second_difference(
    mean: MeanFunction,
    x: &DMatrix<f64>,
    eta: &[f64],
    beta: &DVector<f64>,
    cov: &DMatrix<f64>,
    j: usize,
    j_inter: usize,
    in_second: &[bool],
    dist: Dist,
    level: f64,
) -> Result<SecondDifference, InferenceError> {
    let (n, k) = (x.nrows(), x.ncols());
    if eta.len() != n || in_second.len() != n || j >= k || j_inter >= k || beta.len() != k || cov.shape() != (k, k) {
        return Err(InferenceError::Unsupported(
            "second difference: the rows, the linear predictor, the group indicator, the coefficients and their covariance do not match".into(),
        ));
    }
    let n2 = in_second.iter().filter(|s| **s).count();
    let n1 = n - n2;
    if n1 == 0 || n2 == 0 {
        return Err(InferenceError::Unsupported(format!(
            "second difference: a group has no rows ({n1} in the first, {n2} in the second)"
        )));
    }
    // Sums of each group's slope and of its gradient in beta.
    let mut sum = [0.0; 2];
    let mut grad = [DVector::<f64>::zeros(k), DVector::<f64>::zeros(k)];
    for i in 0..n {
        let g = usize::from(in_second[i]);
        let c = beta[j] + if in_second[i] { beta[j_inter] } else { 0.0 };
        let (_, s) = mean.mean_and_slope(eta[i]);
        let d2 = mean.curvature(eta[i]) * c;
        sum[g] += s * c;
        let gr = &mut grad[g];
        for (a, v) in x.row(i).iter().enumerate() {
            gr[a] += d2 * v;
        }
        gr[j] += s;
        if in_second[i] {
            gr[j_inter] += s;
        }
    }
    let (m1, m2) = (n1 as f64, n2 as f64);
    let est = DVector::from_vec(vec![sum[0] / m1, sum[1] / m2, sum[1] / m2 - sum[0] / m1]);
    let mut jac = DMatrix::zeros(3, k);
    let (g1, g2) = (&grad[0] / m1, &grad[1] / m2);
    jac.row_mut(0).copy_from(&g1.transpose());
    jac.row_mut(1).copy_from(&g2.transpose());
    jac.row_mut(2).copy_from(&(&g2 - &g1).transpose());
    let v = &jac * cov * jac.transpose();
    let names = ["first".to_string(), "second".to_string(), "difference".to_string()];
    let mut t = table(&names, &est, &v, dist, level)?.into_iter();
    let mut next = || t.next().ok_or_else(|| InferenceError::Unsupported("second difference: no table".into()));
    Ok(SecondDifference { first: next()?, second: next()?, difference: next()?, n_first: n1, n_second: n2 })
}

/// An average prediction with its delta-method standard error and interval
/// (estimate +- quantile x se, on the fit's distribution).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    pub estimate: f64,
    pub std_error: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// A fitted model ready for margins: its coefficients, covariance and the
/// rebuild of its design.
pub struct Margins {
    pub mean: MeanFunction,
    rebuild: Rebuild,
    beta: DVector<f64>,
    cov: DMatrix<f64>,
    /// The fixed effects' sum on each row (none without fixed effects).
    offset: Option<DVector<f64>>,
    dist: Dist,
    level: f64,
}

/// Relative step of the centred differences (times the range of the variable):
/// truncation and rounding errors both near 1e-10 of the effect.
const STEP: f64 = 1e-5;

impl Margins {
    /// `beta` and `cov` are those of the design's columns (in its order).
    pub fn new(
        mean: MeanFunction,
        rebuild: Rebuild,
        beta: DVector<f64>,
        cov: DMatrix<f64>,
        offset: Option<DVector<f64>>,
        dist: Dist,
        level: f64,
    ) -> Margins {
        Margins { mean, rebuild, beta, cov, offset, dist, level }
    }

    /// The variables of the formula and their values on the estimation rows.
    pub fn variables(&self) -> Vec<(String, &[f64])> {
        self.rebuild.variables()
    }

    /// Whether a variable takes only the values 0 and 1 (both) on the estimation rows.
    pub fn is_binary(&self, var: &str) -> bool {
        self.variables()
            .iter()
            .find(|(v, _)| v == var)
            .is_some_and(|(_, x)| x.iter().all(|v| *v == 0.0 || *v == 1.0) && x.contains(&0.0) && x.contains(&1.0))
    }

    fn design(&self, set: &[(&str, &[f64])]) -> Result<DMatrix<f64>, InferenceError> {
        self.rebuild.x_with(set).map_err(|e| InferenceError::Unsupported(e.to_string()))
    }

    /// The mean over rows of the predicted mean on `x`, and its gradient in the coefficients.
    fn average(&self, x: &DMatrix<f64>) -> (f64, DVector<f64>) {
        let mut eta = x * &self.beta;
        if let Some(o) = &self.offset {
            eta += o;
        }
        let n = x.nrows() as f64;
        let (mut avg, mut w) = (0.0, DVector::zeros(x.nrows()));
        for (i, e) in eta.iter().enumerate() {
            let (m, d) = self.mean.mean_and_slope(*e);
            avg += m;
            w[i] = d / n;
        }
        (avg / n, x.tr_mul(&w))
    }

    fn se(&self, grad: &DVector<f64>) -> f64 {
        grad.dot(&(&self.cov * grad)).max(0.0).sqrt()
    }

    /// The coefficients of the design's columns and their covariance.
    pub fn coefficients(&self) -> (&DVector<f64>, &DMatrix<f64>) {
        (&self.beta, &self.cov)
    }

    /// Whether predictions add the fixed effects' fitted sum on each row
    /// (held at its estimate: neither the delta method nor a simulation
    /// varies it).
    pub fn holds_fixed_effects(&self) -> bool {
        self.offset.is_some()
    }

    /// The design with the `set` variables at the values given in every row
    /// (every term built from them rebuilt), the others as observed.
    pub fn design_at(&self, set: &[(&str, f64)]) -> Result<DMatrix<f64>, InferenceError> {
        let n = self.rebuild.nrows();
        let cols: Vec<Vec<f64>> = set.iter().map(|(_, v)| vec![*v; n]).collect();
        let with: Vec<(&str, &[f64])> = set.iter().zip(&cols).map(|((v, _), c)| (*v, c.as_slice())).collect();
        self.design(&with)
    }

    /// The mean over the rows of `x` of the predicted mean at each
    /// coefficient vector (the columns of `betas`, k x draws): simulated
    /// average predictions without an n x draws matrix (rows in blocks,
    /// summed in a fixed order, so the result does not depend on threads).
    pub fn average_at(&self, x: &DMatrix<f64>, betas: &DMatrix<f64>) -> Vec<f64> {
        use rayon::prelude::*;
        const BLOCK: usize = 2048;
        let (n, d) = (x.nrows(), betas.ncols());
        let sums: Vec<Vec<f64>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let (start, len) = (b * BLOCK, BLOCK.min(n - b * BLOCK));
                let eta = x.rows(start, len) * betas;
                let mut s = vec![0.0; d];
                for (j, col) in eta.column_iter().enumerate() {
                    for (i, e) in col.iter().enumerate() {
                        let e = e + self.offset.as_ref().map_or(0.0, |o| o[start + i]);
                        s[j] += self.mean.mean_and_slope(e).0;
                    }
                }
                s
            })
            .collect();
        let mut out = vec![0.0; d];
        for s in &sums {
            for (o, v) in out.iter_mut().zip(s) {
                *o += v;
            }
        }
        out.iter().map(|v| v / n.max(1) as f64).collect()
    }

    /// The average prediction with `set` variables at the values given in
    /// every row (others as observed): `avg_predictions(newdata =
    /// datagrid(..., grid_type = "counterfactual"))`.
    pub fn predict(&self, set: &[(&str, f64)]) -> Result<Prediction, InferenceError> {
        let (est, grad) = self.average(&self.design_at(set)?);
        let se = self.se(&grad);
        let c = table(
            &["prediction".to_string()],
            &DVector::from_element(1, est),
            &DMatrix::from_element(1, 1, se * se),
            self.dist,
            self.level,
        )?;
        let c = &c[0];
        Ok(Prediction { estimate: est, std_error: se, conf_low: c.conf_low, conf_high: c.conf_high })
    }

    /// The average marginal effect of every variable (`avg_slopes`): the
    /// mean derivative of the prediction, or for a 0/1 variable the mean
    /// difference between the predictions at 1 and at 0.
    pub fn slopes(&self) -> Result<Vec<Coefficient>, InferenceError> {
        let vars = self.variables();
        let k = self.beta.len();
        let mut est = DVector::zeros(vars.len());
        let mut jac = DMatrix::zeros(vars.len(), k);
        for (a, (v, x)) in vars.iter().enumerate() {
            let (hi, lo, width) = if self.is_binary(v) {
                (vec![1.0; x.len()], vec![0.0; x.len()], 1.0)
            } else {
                let (mn, mx) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
                let h = STEP * if mx > mn { mx - mn } else { 1.0 };
                (x.iter().map(|v| v + h).collect(), x.iter().map(|v| v - h).collect(), 2.0 * h)
            };
            let (p1, g1) = self.average(&self.design(&[(v.as_str(), hi.as_slice())])?);
            let (p0, g0) = self.average(&self.design(&[(v.as_str(), lo.as_slice())])?);
            est[a] = (p1 - p0) / width;
            jac.row_mut(a).copy_from(&((g1 - g0) / width).transpose());
        }
        let v = &jac * &self.cov * jac.transpose();
        let names: Vec<String> = vars.into_iter().map(|(v, _)| v).collect();
        table(&names, &est, &v, self.dist, self.level)
    }
}
