//! Predicted values over one variable of a fitted model, optionally for
//! several values of a second (`--by`): the report's predicted-probability
//! figures and `concord plot predict`, from a fit made here or a saved one.

use super::labels::Labels;
use crate::data::describe::quantile_sorted;
use crate::inference::margins::{Margins, MeanFunction, Prediction};
use crate::plot::{PredictPlot, PredictSeries, ONE_COLUMN};

/// Distinct values of `x` (sorted) when there are at most `max`.
fn levels(x: &[f64], max: usize) -> Option<Vec<f64>> {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    (v.len() <= max).then_some(v)
}

/// The interval of an average prediction on the logit scale (a probability,
/// whatever the link) or the log scale (a mean count), mapped back: it stays
/// inside (0, 1), or above 0, where the delta method on the response scale
/// can cross both.
pub fn interval_in_range(p: &Prediction, mean: MeanFunction) -> (f64, f64) {
    let q = if p.std_error > 0.0 { (p.conf_high - p.estimate) / p.std_error } else { 0.0 };
    let e = p.estimate;
    match mean {
        MeanFunction::Logistic | MeanFunction::NormalCdf if e > 0.0 && e < 1.0 => {
            let (l, s) = ((e / (1.0 - e)).ln(), p.std_error / (e * (1.0 - e)));
            let back = |v: f64| 1.0 / (1.0 + (-v).exp());
            (back(l - q * s), back(l + q * s))
        }
        MeanFunction::Exp if e > 0.0 => {
            let s = p.std_error / e;
            (e * (-q * s).exp(), e * (q * s).exp())
        }
        _ => (p.conf_low, p.conf_high),
    }
}

/// What to draw: the variable set in every row, an optional second variable
/// (one series per value), the outcome's name and a title prefix.
#[derive(Debug, Clone, Default)]
pub struct PredictRequest<'a> {
    pub vary: &'a str,
    pub by: Option<&'a str>,
    pub outcome: &'a str,
    pub title: &'a str,
}

/// Average predictions with `vary` set to each value in every row (every
/// term built from it rebuilt, the others as observed: marginaleffects'
/// counterfactual `avg_predictions`), over its 1st-99th percentile, or at
/// each value when it has at most 5 (a 0/1 variable: two points with
/// intervals). With `by`: one series per value of `by` (its values when it
/// has at most 4, else its 10th, 50th and 90th percentiles). Intervals are
/// the fit's level (95%), by the delta method on the logit (probabilities)
/// or log (means of counts) scale.
pub fn prediction_plot(m: &Margins, req: &PredictRequest, labels: &Labels) -> Result<PredictPlot, String> {
    let vars = m.variables();
    let find = |name: &str| -> Result<Vec<f64>, String> {
        vars.iter().find(|(v, _)| v == name).map(|(_, x)| x.to_vec()).ok_or_else(|| {
            let names: Vec<&str> = vars.iter().map(|(v, _)| v.as_str()).collect();
            format!("no variable `{name}` in the model (variables: {})", names.join(", "))
        })
    };
    let mut observed = find(req.vary)?;
    observed.sort_by(f64::total_cmp);
    let discrete = levels(&observed, 5);
    let xs: Vec<f64> = match &discrete {
        Some(v) => v.clone(),
        None => {
            let (mut lo, mut hi) = (quantile_sorted(&observed, 0.01), quantile_sorted(&observed, 0.99));
            // A skewed variable (99% zeros) has one value at both percentiles.
            if hi <= lo {
                (lo, hi) = (observed[0], observed[observed.len() - 1]);
            }
            (0..=40).map(|k| lo + (hi - lo) * f64::from(k) / 40.0).collect()
        }
    };
    let groups: Vec<(Option<f64>, String)> = match req.by {
        None => vec![(None, String::new())],
        Some(b) if b == req.vary => return Err(format!("--by `{b}` is the variable varied")),
        Some(b) => {
            let mut z = find(b)?;
            z.sort_by(f64::total_cmp);
            let name = labels.term(b);
            match levels(&z, 4) {
                Some(v) => {
                    v.into_iter().map(|v| (Some(v), format!("{name} = {}", crate::plot::figures::tidy(v)))).collect()
                }
                None => [(0.1, "10th"), (0.5, "50th"), (0.9, "90th")]
                    .iter()
                    .map(|(p, w)| {
                        let v = quantile_sorted(&z, *p);
                        (Some(v), format!("{name} = {} ({w} pct.)", crate::plot::figures::tidy(v)))
                    })
                    .collect(),
            }
        }
    };
    let mut series = Vec::new();
    for (z, label) in groups {
        let mut points = Vec::with_capacity(xs.len());
        for x in &xs {
            let mut set = vec![(req.vary, *x)];
            if let (Some(b), Some(z)) = (req.by, z) {
                set.push((b, z));
            }
            let p = m.predict(&set).map_err(|e| e.to_string())?;
            let (lo, hi) = interval_in_range(&p, m.mean);
            points.push((*x, p.estimate, lo, hi));
        }
        series.push(PredictSeries { label, points });
    }
    let probability = matches!(m.mean, MeanFunction::Logistic | MeanFunction::NormalCdf);
    let outcome = labels.var(req.outcome).label;
    Ok(PredictPlot {
        title: format!(
            "{}{} over {}",
            if req.title.is_empty() { String::new() } else { format!("{}: ", req.title) },
            if probability { "Probability" } else { "Prediction" },
            labels.term(req.vary)
        ),
        x_label: labels.term(req.vary),
        y_label: if probability { format!("Pr({outcome})") } else { format!("E[{outcome}]") },
        series,
        observed,
        discrete: discrete.is_some(),
        width: ONE_COLUMN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_intervals_stay_inside_zero_and_one() {
        // A small probability with a large standard error: the response-scale
        // interval crosses 0, the logit-scale one does not.
        let p = Prediction {
            estimate: 0.01,
            std_error: 0.008,
            conf_low: 0.01 - 1.96 * 0.008,
            conf_high: 0.01 + 1.96 * 0.008,
        };
        let (lo, hi) = interval_in_range(&p, MeanFunction::Logistic);
        assert!(p.conf_low < 0.0 && lo > 0.0 && hi < 1.0 && lo < 0.01 && hi > 0.01);
        // logit(0.01) -+ 1.96 * 0.008 / (0.01 * 0.99), mapped back.
        let l = (0.01f64 / 0.99).ln();
        let s = 0.008 / (0.01 * 0.99);
        assert!((lo - 1.0 / (1.0 + (-(l - 1.96 * s)).exp())).abs() < 1e-15);
        let (lo, hi) = interval_in_range(&p, MeanFunction::Exp);
        assert!((lo * hi - 0.01 * 0.01).abs() < 1e-15, "symmetric on the log scale");
        assert_eq!(interval_in_range(&p, MeanFunction::Identity), (p.conf_low, p.conf_high));
    }
}
