//! The conditional marginal effect of `x` across a moderator `z` in a model
//! with the interaction `x:z` (Brambor, Clark and Golder 2006, "Understanding
//! interaction models"): on the model's linear scale, `dy/dx = b_x + b_xz z`,
//! with delta-method standard errors `sqrt(V_x + z^2 V_xz + 2 z C_x,xz)`
//! (the coefficients' covariance, whatever the vcov).

use polars::prelude::DataFrame;

use super::{table, Coefficient, Dist, InferenceError};
use crate::estimate::{Family, Fit};
use crate::formula::design::{variables_of, Design, PanelSpec, Rebuild};

/// The effect of `x` at values of `z`, and for a 0/1 moderator the
/// difference between the effects at 1 and at 0 (the interaction itself).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConditionalEffect {
    pub x: String,
    pub z: String,
    /// The coefficient of the interaction as the fit names it (`x:z` or `z:x`).
    pub interaction: String,
    /// Whether `z` takes only the values 0 and 1 in the estimation sample.
    pub binary: bool,
    /// (z, effect at z) with the fit's interval level.
    pub effects: Vec<(f64, Coefficient)>,
    /// Effect at z = 1 minus at z = 0 (`b_xz`), for a 0/1 moderator.
    pub difference: Option<Coefficient>,
    /// The moderator's values on the estimation rows.
    pub observed: Vec<f64>,
    /// The fit's reference distribution (for intervals at other levels).
    pub distribution: Dist,
}

fn unsupported(s: String) -> InferenceError {
    InferenceError::Unsupported(s)
}

/// The effect of `x` over `z` for `fit` (estimated on `design` from `df`):
/// at `at` when given, else at 0 and 1 for a 0/1 moderator, else at 41
/// values from the moderator's smallest to its largest observed value.
/// Refuses a formula without an `x:z` term or without `x` itself, and one
/// where `x` enters another term too (`poly(x, 2)`, `x:w`), where the
/// effect is not `b_x + b_xz z`.
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit_with_design, Family, FitOptions};
/// use concord::inference::conditional::conditional_effect;
/// let x: Vec<f64> = (0..30).map(|i| (i % 7) as f64).collect();
/// let z: Vec<f64> = (0..30).map(|i| (i % 5) as f64).collect();
/// let y: Vec<f64> = (0..30).map(|i| x[i] * (1.0 + z[i]) + ((i * 13) % 11) as f64 / 10.0).collect();
/// let df = df!("y" => y, "x" => x, "z" => z).unwrap();
/// let (fit, design) = fit_with_design(&df, "y ~ x*z", Family::Gaussian, &FitOptions::default()).unwrap();
/// let ce = conditional_effect(&fit, &design, &df, None, "x", "z", Some(&[2.0])).unwrap();
/// let b = |t: &str| fit.coef(t).unwrap().estimate;
/// assert!((ce.effects[0].1.estimate - (b("x") + 2.0 * b("x:z"))).abs() < 1e-12);
/// ```
pub fn conditional_effect(
    fit: &Fit,
    design: &Design,
    df: &DataFrame,
    panel: Option<&PanelSpec>,
    x: &str,
    z: &str,
    at: Option<&[f64]>,
) -> Result<ConditionalEffect, InferenceError> {
    let terms = &design.recipe.terms;
    let names: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
    let listed = || names.join(", ");
    let is = |f: &crate::formula::Factor, v: &str| f.to_string() == v;
    let inter = terms
        .iter()
        .find(|t| t.0.len() == 2 && ((is(&t.0[0], x) && is(&t.0[1], z)) || (is(&t.0[0], z) && is(&t.0[1], x))))
        .ok_or_else(|| {
            unsupported(format!(
                "the formula has no `{x}:{z}` term (its terms: {}): write `{x}*{z}` for the effect of {x} across {z}",
                listed()
            ))
        })?;
    let main = terms.iter().find(|t| t.0.len() == 1 && is(&t.0[0], x)).ok_or_else(|| {
        unsupported(format!(
            "the formula has `{inter}` but not `{x}` itself (its terms: {}): include the constitutive term, `{x}*{z}` \
             (Brambor, Clark and Golder 2006)",
            listed()
        ))
    })?;
    if let Some(other) = terms
        .iter()
        .filter(|t| *t != inter && *t != main)
        .find(|t| t.0.iter().any(|f| is(f, x) || variables_of(f).iter().any(|v| v == x)))
    {
        return Err(unsupported(format!(
            "`{x}` also enters `{other}`, so its effect is not b_{x} + b_{inter} {z}: drop that term, or use \
             `concord fit --margins` for average marginal effects"
        )));
    }
    let rebuild = Rebuild::new(df, design, panel).map_err(|e| unsupported(e.to_string()))?;
    let observed: Vec<f64> =
        rebuild.variables().into_iter().find(|(v, _)| v == z).map(|(_, vals)| vals.to_vec()).ok_or_else(|| {
            unsupported(format!("the moderator `{z}` is not a variable of the model (its terms: {})", listed()))
        })?;
    let binary = observed.iter().all(|v| *v == 0.0 || *v == 1.0) && observed.contains(&0.0) && observed.contains(&1.0);
    let grid: Vec<f64> = match at {
        Some(a) => a.to_vec(),
        None if binary => vec![0.0, 1.0],
        None => {
            let lo = observed.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = observed.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (0..=40).map(|k| lo + (hi - lo) * f64::from(k) / 40.0).collect()
        }
    };
    let (main, inter) = (main.to_string(), inter.to_string());
    let effects = grid
        .iter()
        .map(|&v| {
            Ok((v, fit.linear_combination(&format!("{x} at {z} = {v}"), &[(main.as_str(), 1.0), (inter.as_str(), v)])?))
        })
        .collect::<Result<Vec<_>, InferenceError>>()?;
    let difference = if binary { Some(fit.linear_combination(&inter, &[(inter.as_str(), 1.0)])?) } else { None };
    Ok(ConditionalEffect {
        x: x.into(),
        z: z.into(),
        interaction: inter,
        binary,
        effects,
        difference,
        observed,
        distribution: fit.distribution,
    })
}

impl ConditionalEffect {
    /// The interval of `c` (one of these effects) at another level: (low, high).
    pub fn interval(&self, c: &Coefficient, level: f64) -> Result<(f64, f64), InferenceError> {
        let t = table(
            std::slice::from_ref(&c.term),
            &nalgebra::DVector::from_element(1, c.estimate),
            &nalgebra::DMatrix::from_element(1, 1, c.std_error * c.std_error),
            self.distribution,
            level,
        )?;
        Ok((t[0].conf_low, t[0].conf_high))
    }

    /// The effects as a text table (every fifth point of a curve).
    pub fn table(&self) -> String {
        let mut out = format!(
            "effect of {x} (b_{x} + b_{i} {z}) across {z}, delta-method standard errors:\n  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}\n",
            self.z,
            "effect",
            "se",
            "low",
            "high",
            x = self.x,
            z = self.z,
            i = self.interaction
        );
        let step = if self.effects.len() > 12 { 5 } else { 1 };
        for (z, c) in self.effects.iter().step_by(step) {
            out.push_str(&format!(
                "  {:>12.6}  {:>12.6}  {:>12.6}  {:>12.6}  {:>12.6}\n",
                z, c.estimate, c.std_error, c.conf_low, c.conf_high
            ));
        }
        if let Some(d) = &self.difference {
            out.push_str(&format!(
                "difference (at 1 minus at 0, b_{}): {:.6} (se {:.6}) [{:.6}, {:.6}], p = {:.4e}\n",
                self.interaction, d.estimate, d.std_error, d.conf_low, d.conf_high, d.p_value
            ));
        }
        out
    }
}

/// The axis title of an effect of `x` on `outcome` on the model's linear
/// scale: "Effect of x on the log-odds of y".
///
/// ```
/// use concord::estimate::Family;
/// use concord::inference::conditional::effect_label;
/// assert_eq!(effect_label(Family::Logit, "igo", "mid"), "Effect of igo on the log-odds of mid");
/// assert_eq!(effect_label(Family::Gaussian, "igo", "trade"), "Effect of igo on trade (its units)");
/// ```
pub fn effect_label(family: Family, x: &str, outcome: &str) -> String {
    format!("Effect of {x} on {}", effect_scale(family, outcome))
}

/// The model's linear scale for `outcome` in words: "the log-odds of y",
/// "y (its units)" for least squares.
pub fn effect_scale(family: Family, outcome: &str) -> String {
    let scale = match family {
        Family::Logit | Family::Firth | Family::Clogit => "the log-odds of",
        Family::Probit => "the probit index of",
        Family::Poisson | Family::Negbin => "the log expected count of",
        Family::Cox => "the log hazard of",
        Family::Gaussian => return format!("{outcome} (its units)"),
    };
    format!("{scale} {outcome}")
}
