//! Average marginal effects with delta-method standard errors (statsmodels'
//! `get_margeff(at="overall", method="dydx")`): every regressor is treated as
//! continuous, the derivative of the mean averaged over the sample.

use nalgebra::{DMatrix, DVector};

use super::{table, Coefficient, Dist, InferenceError};

/// The link's inverse: which mean function the marginal effects differentiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeanFunction {
    Identity,
    Logistic,
    NormalCdf,
    Exp,
}

/// First and second derivatives of the mean with respect to the linear predictor.
fn derivs(f: MeanFunction, eta: f64) -> (f64, f64) {
    match f {
        MeanFunction::Identity => (1.0, 0.0),
        MeanFunction::Logistic => {
            let p = crate::estimate::glm::logistic(eta);
            (p * (1.0 - p), p * (1.0 - p) * (1.0 - 2.0 * p))
        }
        MeanFunction::NormalCdf => {
            let d = (-0.5 * eta * eta).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (d, -eta * d)
        }
        MeanFunction::Exp => {
            let m = eta.exp();
            (m, m)
        }
    }
}

/// Average marginal effects of every regressor but the intercept.
pub fn average_marginal_effects(
    mean: MeanFunction,
    x: &DMatrix<f64>,
    names: &[String],
    beta: &DVector<f64>,
    cov: &DMatrix<f64>,
    dist: Dist,
    level: f64,
) -> Result<Vec<Coefficient>, InferenceError> {
    let (n, k) = x.shape();
    let eta = x * beta;
    let mut avg_f = 0.0;
    // mean over i of f'(eta_i) x_i.
    let mut avg_fx = DVector::zeros(k);
    for i in 0..n {
        let (f1, f2) = derivs(mean, eta[i]);
        avg_f += f1;
        for l in 0..k {
            avg_fx[l] += f2 * x[(i, l)];
        }
    }
    avg_f /= n as f64;
    avg_fx /= n as f64;
    let keep: Vec<usize> = (0..k).filter(|&j| names[j] != "(Intercept)").collect();
    let me = DVector::from_iterator(keep.len(), keep.iter().map(|&j| avg_f * beta[j]));
    let jac = DMatrix::from_fn(keep.len(), k, |a, l| {
        let j = keep[a];
        f64::from(u8::from(j == l)) * avg_f + beta[j] * avg_fx[l]
    });
    let v = &jac * cov * jac.transpose();
    let kept_names: Vec<String> = keep.iter().map(|&j| names[j].clone()).collect();
    table(&kept_names, &me, &v, dist, level)
}

/// Prediction of the mean at one covariate profile `x0` (for example the sample
/// means with some terms set to chosen values), with its delta-method standard
/// error on the response scale; the interval is formed on the link scale and
/// transformed, so it stays inside the range of the mean (e.g. 0-1).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    pub estimate: f64,
    pub std_error: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// Predict the mean at `x0`.
pub fn predict_at(
    mean: MeanFunction,
    x0: &DVector<f64>,
    beta: &DVector<f64>,
    cov: &DMatrix<f64>,
    level: f64,
) -> Result<Prediction, InferenceError> {
    use statrs::distribution::{ContinuousCDF, Normal};
    if !(level > 0.0 && level < 1.0) {
        return Err(InferenceError::Level(level));
    }
    let eta = x0.dot(beta);
    let se_eta = x0.dot(&(cov * x0)).max(0.0).sqrt();
    let inv = |e: f64| match mean {
        MeanFunction::Identity => e,
        MeanFunction::Logistic => crate::estimate::glm::logistic(e),
        MeanFunction::NormalCdf => Normal::standard().cdf(e),
        MeanFunction::Exp => e.exp(),
    };
    let (d1, _) = derivs(mean, eta);
    let z = Normal::standard().inverse_cdf(0.5 + level / 2.0);
    Ok(Prediction {
        estimate: inv(eta),
        std_error: d1 * se_eta,
        conf_low: inv(eta - z * se_eta),
        conf_high: inv(eta + z * se_eta),
    })
}
