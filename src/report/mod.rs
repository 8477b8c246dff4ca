//! Reports: readable text of fitted models, tables for papers (`tables`) and
//! the report of a study (`study`: figures, tables, index.html).

pub mod event_study;
pub mod labels;
pub mod predict;
pub mod replication;
pub mod study;
pub mod tables;
pub mod trends;

use crate::estimate::Fit;

fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}")
    }
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        "<1e-04".into()
    } else {
        format!("{p:.4}")
    }
}

/// A readable summary of a fit: sample, coefficient table, fit statistics and
/// convergence.
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit, Family, FitOptions};
/// let df = df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0], "x" => [0.0, 2.0, 1.0, 4.0, 3.0]).unwrap();
/// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
/// assert!(concord::report::summary(&f).contains("(Intercept)"));
/// ```
pub fn summary(f: &Fit) -> String {
    let mut s = format!("{}: {}\n", f.family, f.formula);
    let d = &f.dropped;
    s.push_str(&format!(
        "observations: {} of {} (dropped: {} with missing values, {} fixed-effect singletons, {} in groups without outcome variation{})\n",
        f.nobs,
        f.n_input,
        d.missing,
        d.singletons,
        d.no_variation,
        if d.zero_weight > 0 { format!(", {} with zero weight", d.zero_weight) } else { String::new() }
    ));
    if d.undefined > 0 {
        s.push_str(&format!(
            "note: {} of the rows with missing values have every column present, but an expression of them is not a finite number there (log or sqrt of zero or a negative number, division by zero)\n",
            d.undefined
        ));
    }
    if d.separated_simplex + d.separated_relu > 0 || d.relu_iterations > 0 {
        s.push_str(&format!(
            "separation: {} rows by the fixed-effects rule, {} by the simplex rule, {} by the iterative rectifier ({} iterations)\n",
            d.no_variation, d.separated_simplex, d.separated_relu, d.relu_iterations
        ));
    }
    if !f.fixed_effects.is_empty() {
        let fe: Vec<String> = f.fixed_effects.iter().map(|g| format!("{} ({} levels)", g.name, g.levels)).collect();
        s.push_str(&format!("fixed effects: {}\n", fe.join(", ")));
    }
    let dist = match f.distribution {
        crate::inference::Dist::T(df) => format!("t({df})"),
        crate::inference::Dist::Normal => "normal".into(),
    };
    s.push_str(&format!("vcov: {} (inference on {dist})\n\n", f.vcov));
    let w = f.coefficients.iter().map(|c| c.term.len()).max().unwrap_or(4).max(4);
    let lvl = (f.level * 100.0).round();
    s.push_str(&format!(
        "{:<w$} {:>14} {:>14} {:>10} {:>8} {:>14} {:>14}\n",
        "term",
        "estimate",
        "std. error",
        "statistic",
        "p-value",
        format!("{lvl}% low"),
        format!("{lvl}% high")
    ));
    for c in &f.coefficients {
        s.push_str(&format!(
            "{:<w$} {:>14} {:>14} {:>10.3} {:>8} {:>14} {:>14}\n",
            c.term,
            fmt_num(c.estimate),
            fmt_num(c.std_error),
            c.statistic,
            fmt_p(c.p_value),
            fmt_num(c.conf_low),
            fmt_num(c.conf_high)
        ));
    }
    s.push('\n');
    let mut stats = Vec::new();
    for (name, v) in [
        ("R2", f.r2),
        ("adj. R2", f.adj_r2),
        ("within R2", f.within_r2),
        ("pseudo R2", f.pseudo_r2),
        ("log-likelihood", f.loglik),
        ("AIC", f.aic),
        ("BIC", f.bic),
    ] {
        if let Some(v) = v {
            stats.push(format!("{name} {v:.4}"));
        }
    }
    s.push_str(&stats.join("   "));
    s.push('\n');
    // Least squares is solved in closed form; with fixed effects, the
    // iterations are the demeaning's sweeps.
    let how = match (f.family, f.fixed_effects.is_empty()) {
        (crate::estimate::Family::Gaussian, true) => "solved in closed form".to_string(),
        (crate::estimate::Family::Gaussian, false) => format!("demeaning converged in {} sweep(s)", f.iterations),
        _ if f.converged => format!("converged in {} iteration(s)", f.iterations),
        _ => format!("NOT CONVERGED in {} iteration(s)", f.iterations),
    };
    s.push_str(&format!("{how}, gradient norm {:.2e}; condition number {:.1e}\n", f.gradient_norm, f.condition_number));
    for n in &f.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}
