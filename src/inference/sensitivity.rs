//! Sensitivity of a linear regression coefficient to an omitted confounder,
//! after Cinelli & Hazlett (2020), "Making sense of sensitivity: extending
//! omitted variable bias", JRSS-B 82(1): the partial R² of the treatment with
//! the outcome, the robustness values `RV_q` and `RV_{q,alpha}`, and bounds
//! on confounders as strong as (multiples of) an observed covariate, with the
//! bias-adjusted estimate, standard error and t statistic. The formulas are
//! those of sensemakr (R and PySensemakr), checked against PySensemakr in
//! `tests/sensitivity.rs`.
//!
//! Everything is a function of the *classical* (iid) t statistic and the
//! residual degrees of freedom `n - K` of a least-squares fit (`K` counting
//! the regressors and the absorbed fixed-effect levels): the partial R²
//! identity `R² = t² / (t² + dof)` holds for that t only, not for a
//! clustered or robust one.
//!
//! ```
//! use concord::inference::sensitivity::{partial_r2, robustness_value};
//! // Cinelli & Hazlett's Darfur example: t = 4.18445 with 783 degrees of freedom.
//! let r2 = partial_r2(4.18445, 783.0).unwrap();
//! assert!((r2 - 0.021873).abs() < 1e-6);
//! // A confounder explaining 13.9% of the residual variance of both the
//! // treatment and the outcome would bring the estimate to zero ...
//! assert!((robustness_value(4.18445, 783.0, 1.0, 1.0).unwrap() - 0.1388).abs() < 1e-4);
//! // ... and one explaining 7.6% (0.0763) would make it not significant at 5%.
//! assert!((robustness_value(4.18445, 783.0, 1.0, 0.05).unwrap() - 0.0763).abs() < 1e-4);
//! ```

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Errors of the sensitivity statistics.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SensitivityError {
    #[error(
        "sensitivity statistics need more than one residual degree of freedom (got {0}): the model needs more observations than parameters"
    )]
    Dof(f64),
    #[error("the {what} must be a finite number (got {value})")]
    NotFinite { what: &'static str, value: f64 },
    #[error("the standard error must be positive (got {0})")]
    StdError(f64),
    #[error("q, the share of the estimate a confounder would remove, must be positive (got {0})")]
    Q(f64),
    #[error("alpha must be in (0, 1] (got {0})")]
    Alpha(f64),
    #[error("a partial R² must be in [0, 1) (got {what} = {value})")]
    R2 { what: &'static str, value: f64 },
    #[error("the multiples of a benchmark must be positive (got kd = {kd}, ky = {ky})")]
    Multiple { kd: f64, ky: f64 },
    #[error(
        "a confounder {kd} times as strong as `{covariate}` with the treatment is impossible (its partial R² with the treatment would be {value:.4}, not below 1): try a smaller multiple"
    )]
    ImpossibleBound { covariate: String, kd: f64, value: f64 },
}

fn finite(what: &'static str, value: f64) -> Result<f64, SensitivityError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SensitivityError::NotFinite { what, value })
    }
}

fn check_dof(dof: f64) -> Result<f64, SensitivityError> {
    if dof.is_finite() && dof > 1.0 {
        Ok(dof)
    } else {
        Err(SensitivityError::Dof(dof))
    }
}

fn check_r2(what: &'static str, value: f64) -> Result<f64, SensitivityError> {
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(SensitivityError::R2 { what, value })
    }
}

/// The partial R² of a regressor with the outcome, given the other
/// regressors, from its (classical) t statistic: `t² / (t² + dof)`.
///
/// ```
/// use concord::inference::sensitivity::partial_r2;
/// assert_eq!(partial_r2(0.0, 10.0).unwrap(), 0.0);
/// assert!((partial_r2(3.0, 91.0).unwrap() - 0.09).abs() < 1e-15);
/// assert!(partial_r2(2.0, 1.0).is_err());
/// ```
pub fn partial_r2(t: f64, dof: f64) -> Result<f64, SensitivityError> {
    let t = finite("t statistic", t)?;
    let dof = check_dof(dof)?;
    Ok(t * t / (t * t + dof))
}

/// The partial Cohen's f² of a regressor with the outcome: `t² / dof`.
pub fn partial_f2(t: f64, dof: f64) -> Result<f64, SensitivityError> {
    let t = finite("t statistic", t)?;
    let dof = check_dof(dof)?;
    Ok(t * t / dof)
}

/// The robustness value `RV_{q,alpha}`: the partial R² that a confounder
/// would need with both the treatment and the outcome to reduce the
/// estimate by `100 q`% (`q = 1`: to zero) or, with `alpha < 1`, to make
/// the reduced estimate no longer significant at `alpha` (two-sided; the
/// critical t has `dof - 1` degrees of freedom, as the adjusted regression
/// has one more regressor). `alpha = 1` ignores significance: `RV_q`.
///
/// With `f_q = q |t| / sqrt(dof)` and `f* = t_crit / sqrt(dof - 1)`:
/// `RV = 0` when `f_q <= f*`; `(f_q² - f*²) / (1 + f_q²)` when
/// `f_q > 1 / f*` (the bound on the confounder's partial R² with the
/// outcome does not bind); otherwise `((f⁴ + 4 f²)^½ - f²) / 2` with
/// `f = f_q - f*`.
///
/// ```
/// use concord::inference::sensitivity::robustness_value;
/// assert_eq!(robustness_value(0.0, 100.0, 1.0, 1.0).unwrap(), 0.0);
/// assert_eq!(robustness_value(1.5, 100.0, 1.0, 0.05).unwrap(), 0.0, "not significant to begin with");
/// assert!(robustness_value(2.0, 1.0, 1.0, 0.05).is_err());
/// ```
pub fn robustness_value(t: f64, dof: f64, q: f64, alpha: f64) -> Result<f64, SensitivityError> {
    let t = finite("t statistic", t)?;
    let dof = check_dof(dof)?;
    if !(q.is_finite() && q > 0.0) {
        return Err(SensitivityError::Q(q));
    }
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(SensitivityError::Alpha(alpha));
    }
    let fq = q * t.abs() / dof.sqrt();
    let f_crit = if alpha == 1.0 {
        0.0
    } else {
        let dist = StudentsT::new(0.0, 1.0, dof - 1.0).map_err(|_| SensitivityError::Dof(dof))?;
        dist.inverse_cdf(alpha / 2.0).abs() / (dof - 1.0).sqrt()
    };
    let fqa = fq - f_crit;
    if fqa <= 0.0 {
        return Ok(0.0);
    }
    if f_crit > 0.0 && fq > 1.0 / f_crit {
        return Ok((fq * fq - f_crit * f_crit) / (1.0 + fq * fq));
    }
    let f2 = fqa * fqa;
    Ok(0.5 * ((f2 * f2 + 4.0 * f2).sqrt() - f2))
}

/// The sensitivity statistics of one coefficient (sensemakr's
/// `sensitivity_stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    pub estimate: f64,
    /// The classical (iid) standard error.
    pub std_error: f64,
    pub t_statistic: f64,
    /// Residual degrees of freedom `n - K`.
    pub dof: f64,
    /// Partial R² of the treatment with the outcome.
    pub partial_r2: f64,
    /// Partial Cohen's f² of the treatment with the outcome.
    pub partial_f2: f64,
    pub q: f64,
    pub alpha: f64,
    /// `RV_q`: the confounding (as partial R² with both treatment and
    /// outcome) that would reduce the estimate by `100 q`%.
    pub rv_q: f64,
    /// `RV_{q,alpha}`: the confounding that would make the reduced estimate
    /// not significant at `alpha` (two-sided).
    pub rv_qa: f64,
}

/// [`Sensitivity`] of an estimate with its classical standard error and
/// residual degrees of freedom.
///
/// ```
/// use concord::inference::sensitivity::sensitivity_stats;
/// let s = sensitivity_stats(0.09731582, 0.02325654, 783.0, 1.0, 0.05).unwrap();
/// assert!((s.t_statistic - 4.18445).abs() < 1e-4);
/// assert!((s.rv_q - 0.1388).abs() < 1e-4 && (s.rv_qa - 0.0763).abs() < 1e-4);
/// ```
pub fn sensitivity_stats(
    estimate: f64,
    std_error: f64,
    dof: f64,
    q: f64,
    alpha: f64,
) -> Result<Sensitivity, SensitivityError> {
    let estimate = finite("estimate", estimate)?;
    if !(std_error.is_finite() && std_error > 0.0) {
        return Err(SensitivityError::StdError(std_error));
    }
    let t = estimate / std_error;
    Ok(Sensitivity {
        estimate,
        std_error,
        t_statistic: t,
        dof,
        partial_r2: partial_r2(t, dof)?,
        partial_f2: partial_f2(t, dof)?,
        q,
        alpha,
        rv_q: robustness_value(t, dof, q, 1.0)?,
        rv_qa: robustness_value(t, dof, q, alpha)?,
    })
}

/// The bias factor `sqrt(r2yz_dx r2dz_x / (1 - r2dz_x))`.
fn bias_factor(r2dz_x: f64, r2yz_dx: f64) -> f64 {
    (r2yz_dx * r2dz_x / (1.0 - r2dz_x)).sqrt()
}

/// The omitted-variable bias of a confounder with partial R² `r2dz_x` with
/// the treatment and `r2yz_dx` with the outcome: `bf * se * sqrt(dof)`.
pub fn bias(s: &Sensitivity, r2dz_x: f64, r2yz_dx: f64) -> Result<f64, SensitivityError> {
    let r2dz_x = check_r2("r2dz_x", r2dz_x)?;
    let r2yz_dx = check_r2_closed("r2yz_dx", r2yz_dx)?;
    Ok(bias_factor(r2dz_x, r2yz_dx) * s.std_error * check_dof(s.dof)?.sqrt())
}

/// A partial R² with the outcome may reach 1 (a capped bound).
fn check_r2_closed(what: &'static str, value: f64) -> Result<f64, SensitivityError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(SensitivityError::R2 { what, value })
    }
}

/// The estimate with the bias of such a confounder removed, toward zero
/// (sensemakr's `reduce = TRUE`): `sign(b) (|b| - bias)`.
pub fn adjusted_estimate(s: &Sensitivity, r2dz_x: f64, r2yz_dx: f64) -> Result<f64, SensitivityError> {
    Ok(s.estimate.signum() * (s.estimate.abs() - bias(s, r2dz_x, r2yz_dx)?))
}

/// The standard error of the adjusted estimate:
/// `sqrt((1 - r2yz_dx) / (1 - r2dz_x)) se sqrt(dof / (dof - 1))`.
pub fn adjusted_se(s: &Sensitivity, r2dz_x: f64, r2yz_dx: f64) -> Result<f64, SensitivityError> {
    let r2dz_x = check_r2("r2dz_x", r2dz_x)?;
    let r2yz_dx = check_r2_closed("r2yz_dx", r2yz_dx)?;
    let dof = check_dof(s.dof)?;
    Ok(((1.0 - r2yz_dx) / (1.0 - r2dz_x)).sqrt() * s.std_error * (dof / (dof - 1.0)).sqrt())
}

/// An observed covariate used as a benchmark: its partial R² with the
/// treatment (given the other covariates) and with the outcome (given the
/// treatment and the other covariates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benchmark {
    pub covariate: String,
    /// `R²_{D~Xj|X-j}`: from the regression of the treatment on the covariates.
    pub r2dxj_x: f64,
    /// `R²_{Y~Xj|D,X-j}`: from the outcome regression.
    pub r2yxj_dx: f64,
}

/// The bound implied by a confounder `kd` times as strong as a benchmark
/// with the treatment and `ky` times with the outcome (sensemakr's
/// `ovb_bounds` with `bound = "partial r2"`, `reduce = TRUE`, `h0 = 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    /// As sensemakr labels it: `"2x cinc"`, or `"1/2x cinc"` when kd and ky differ.
    pub label: String,
    pub covariate: String,
    pub kd: f64,
    pub ky: f64,
    /// The confounder's partial R² with the treatment.
    pub r2dz_x: f64,
    /// The confounder's partial R² with the outcome (capped at 1).
    pub r2yz_dx: f64,
    /// Whether `r2yz_dx` was capped at 1 (the multiple is too large to say much).
    pub capped: bool,
    pub adjusted_estimate: f64,
    pub adjusted_se: f64,
    pub adjusted_t: f64,
    /// The adjusted estimate's interval at `1 - alpha` (t with `dof` degrees of freedom).
    pub adjusted_lower: f64,
    pub adjusted_upper: f64,
}

fn multiple_label(k: f64) -> String {
    // sensemakr rounds to 2 digits and prints integers without a fraction.
    let r = (k * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// The bound of a confounder `kd` (with the treatment) and `ky` (with the
/// outcome) times as strong as `benchmark`, and the estimate, standard error,
/// t and interval (at `1 - alpha`) it would leave.
///
/// ```
/// use concord::inference::sensitivity::{ovb_bounds, sensitivity_stats, Benchmark};
/// let s = sensitivity_stats(0.5, 0.1, 200.0, 1.0, 0.05).unwrap();
/// let b = Benchmark { covariate: "x".into(), r2dxj_x: 0.1, r2yxj_dx: 0.05 };
/// let one = ovb_bounds(&s, &b, 1.0, 1.0, 0.05).unwrap();
/// assert_eq!(one.label, "1x x");
/// assert!((one.r2dz_x - 0.1 / 0.9).abs() < 1e-15);
/// assert!(one.adjusted_estimate < 0.5);
/// assert!(ovb_bounds(&s, &b, 9.0, 9.0, 0.05).is_err(), "9 x 0.1 / 0.9 >= 1");
/// ```
pub fn ovb_bounds(
    s: &Sensitivity,
    benchmark: &Benchmark,
    kd: f64,
    ky: f64,
    alpha: f64,
) -> Result<Bound, SensitivityError> {
    if !(kd.is_finite() && kd > 0.0 && ky.is_finite() && ky > 0.0) {
        return Err(SensitivityError::Multiple { kd, ky });
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(SensitivityError::Alpha(alpha));
    }
    let r2dxj = check_r2("r2dxj_x", benchmark.r2dxj_x)?;
    let r2yxj = check_r2("r2yxj_dx", benchmark.r2yxj_dx)?;
    let impossible =
        |value: f64| SensitivityError::ImpossibleBound { covariate: benchmark.covariate.clone(), kd, value };
    let r2dz_x = kd * (r2dxj / (1.0 - r2dxj));
    if r2dz_x >= 1.0 {
        return Err(impossible(r2dz_x));
    }
    // The benchmark's partial R² with the confounder, given the treatment.
    let r2zxj_xd = kd * r2dxj * r2dxj / ((1.0 - kd * r2dxj) * (1.0 - r2dxj));
    if !(0.0..1.0).contains(&r2zxj_xd) {
        return Err(impossible(r2zxj_xd));
    }
    let raw = ((ky.sqrt() + r2zxj_xd.sqrt()) / (1.0 - r2zxj_xd).sqrt()).powi(2) * (r2yxj / (1.0 - r2yxj));
    let capped = raw > 1.0;
    let r2yz_dx = raw.min(1.0);
    let adjusted_estimate = adjusted_estimate(s, r2dz_x, r2yz_dx)?;
    let adjusted_se = adjusted_se(s, r2dz_x, r2yz_dx)?;
    let dist = StudentsT::new(0.0, 1.0, check_dof(s.dof)?).map_err(|_| SensitivityError::Dof(s.dof))?;
    let crit = dist.inverse_cdf(alpha / 2.0).abs();
    let label = if kd == ky {
        format!("{}x {}", multiple_label(kd), benchmark.covariate)
    } else {
        format!("{}/{}x {}", multiple_label(kd), multiple_label(ky), benchmark.covariate)
    };
    Ok(Bound {
        label,
        covariate: benchmark.covariate.clone(),
        kd,
        ky,
        r2dz_x,
        r2yz_dx,
        capped,
        adjusted_estimate,
        adjusted_se,
        adjusted_t: adjusted_estimate / adjusted_se,
        adjusted_lower: adjusted_estimate - crit * adjusted_se,
        adjusted_upper: adjusted_estimate + crit * adjusted_se,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_t_is_robust_to_nothing() {
        let s = sensitivity_stats(0.0, 1.0, 50.0, 1.0, 0.05).unwrap();
        assert_eq!((s.partial_r2, s.rv_q, s.rv_qa), (0.0, 0.0, 0.0));
        assert_eq!(robustness_value(0.0, 50.0, 0.5, 1.0).unwrap(), 0.0);
    }

    #[test]
    fn too_few_degrees_of_freedom_are_an_error() {
        for dof in [1.0, 0.0, -3.0, f64::NAN] {
            let e = robustness_value(2.0, dof, 1.0, 0.05).unwrap_err();
            assert!(matches!(e, SensitivityError::Dof(_)), "{e}");
            assert!(partial_r2(2.0, dof).is_err());
            assert!(sensitivity_stats(1.0, 0.5, dof, 1.0, 0.05).is_err());
        }
        let e = partial_r2(2.0, 1.0).unwrap_err().to_string();
        assert!(e.contains("more than one residual degree of freedom (got 1)"), "{e}");
        assert!(robustness_value(2.0, 1.5, 1.0, 0.05).is_ok(), "t(0.5) exists");
    }

    #[test]
    fn bad_arguments_are_named() {
        assert_eq!(robustness_value(2.0, 10.0, 0.0, 0.05), Err(SensitivityError::Q(0.0)));
        assert_eq!(robustness_value(2.0, 10.0, 1.0, 0.0), Err(SensitivityError::Alpha(0.0)));
        assert!(robustness_value(f64::NAN, 10.0, 1.0, 0.05).is_err());
        assert_eq!(sensitivity_stats(1.0, 0.0, 10.0, 1.0, 0.05), Err(SensitivityError::StdError(0.0)));
        let s = sensitivity_stats(1.0, 0.5, 10.0, 1.0, 0.05).unwrap();
        let b = Benchmark { covariate: "z".into(), r2dxj_x: 1.0, r2yxj_dx: 0.1 };
        assert!(matches!(ovb_bounds(&s, &b, 1.0, 1.0, 0.05), Err(SensitivityError::R2 { .. })));
        let b = Benchmark { r2dxj_x: 0.6, ..b };
        let e = ovb_bounds(&s, &b, 1.0, 1.0, 0.05).unwrap_err().to_string();
        assert!(e.contains("1 times as strong as `z`") && e.contains("1.5000"), "{e}");
    }

    #[test]
    fn the_robustness_value_is_the_confounding_that_removes_the_estimate() {
        // A confounder with partial R² RV_1 with both the treatment and the
        // outcome has a bias equal to the estimate.
        let s = sensitivity_stats(0.3, 0.1, 120.0, 1.0, 0.05).unwrap();
        let adj = adjusted_estimate(&s, s.rv_q, s.rv_q).unwrap();
        assert!(adj.abs() < 1e-12, "{adj}");
        // RV_{1,0.05}: the adjusted t is the critical value of t(dof - 1).
        let t = adjusted_estimate(&s, s.rv_qa, s.rv_qa).unwrap() / adjusted_se(&s, s.rv_qa, s.rv_qa).unwrap();
        let crit = StudentsT::new(0.0, 1.0, 119.0).unwrap().inverse_cdf(0.975);
        assert!((t - crit).abs() < 1e-9, "{t} vs {crit}");
        // Half the estimate needs less confounding than all of it.
        assert!(robustness_value(3.0, 120.0, 0.5, 1.0).unwrap() < s.rv_q);
        // Negative estimates are symmetric.
        let n = sensitivity_stats(-0.3, 0.1, 120.0, 1.0, 0.05).unwrap();
        assert_eq!((n.rv_q, n.rv_qa), (s.rv_q, s.rv_qa));
    }

    #[test]
    fn a_very_large_t_takes_the_unconstrained_branch() {
        // f_q > 1 / f*: RV = (f_q² - f*²) / (1 + f_q²).
        let (t, dof) = (40.0, 30.0);
        let fq = t / f64::sqrt(dof);
        let fc = StudentsT::new(0.0, 1.0, dof - 1.0).unwrap().inverse_cdf(0.975) / f64::sqrt(dof - 1.0);
        assert!(fq > 1.0 / fc);
        let rv = robustness_value(t, dof, 1.0, 0.05).unwrap();
        assert!((rv - (fq * fq - fc * fc) / (1.0 + fq * fq)).abs() < 1e-15);
    }

    #[test]
    fn labels_follow_sensemakr() {
        let s = sensitivity_stats(0.5, 0.1, 200.0, 1.0, 0.05).unwrap();
        let b = Benchmark { covariate: "cinc".into(), r2dxj_x: 0.01, r2yxj_dx: 0.02 };
        assert_eq!(ovb_bounds(&s, &b, 2.0, 2.0, 0.05).unwrap().label, "2x cinc");
        assert_eq!(ovb_bounds(&s, &b, 1.0, 0.5, 0.05).unwrap().label, "1/0.5x cinc");
        // A strong benchmark with the outcome caps r2yz_dx at 1.
        let strong = Benchmark { covariate: "y_lag".into(), r2dxj_x: 0.01, r2yxj_dx: 0.6 };
        let b = ovb_bounds(&s, &strong, 3.0, 3.0, 0.05).unwrap();
        assert!(b.capped && b.r2yz_dx == 1.0 && b.adjusted_se == 0.0);
    }
}
