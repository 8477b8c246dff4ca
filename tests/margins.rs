//! Marginal effects and counterfactual predictions per variable, through the
//! formula (marginaleffects' avg_slopes / avg_predictions, Stata's margins),
//! against tests/reference/margins.py (statsmodels fits, finite differences
//! through patsy's design on modified data frames, R's poly / splines::ns
//! bases; statsmodels' get_margeff as a second check). Tolerances: AMEs,
//! predictions and coefficients 1e-6 relative, their standard errors and
//! intervals 1e-4.

mod common;

use concord::data::read::read_table;
use concord::estimate::{fit, fit_with_design, Family, FitOptions};
use polars::prelude::DataFrame;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-9 / rel)
}

fn sim() -> DataFrame {
    read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref()).unwrap()
}

/// The newcomer report's panel: dyad-years 1970-2000.
fn dyad_year_1970_2000() -> DataFrame {
    concord::data::build(concord::data::Unit::DyadYear, &common::data_dir(), 1970, 2000).unwrap().0
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/margins.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check_case(df: &DataFrame, case: &serde_json::Value) -> Vec<String> {
    let id = case["id"].as_str().unwrap();
    let family: Family = case["family"].as_str().unwrap().parse().unwrap();
    let (f, design) = fit_with_design(df, case["formula"].as_str().unwrap(), family, &FitOptions::default()).unwrap();
    let mut bad = Vec::new();
    assert_eq!(f.nobs as u64, case["nobs"].as_u64().unwrap(), "{id}: rows");
    for (term, want) in case["coefficients"].as_object().unwrap() {
        let got = f.coef(term).unwrap_or_else(|| panic!("{id}: no coefficient {term}")).estimate;
        if !close(got, want.as_f64().unwrap(), 1e-6) {
            bad.push(format!("{id}: coefficient {term} {got} vs {want}"));
        }
    }
    let m = f.margins(df, &design, None).unwrap();
    let ames = m.slopes().unwrap();
    let want = case["ames"].as_object().unwrap();
    assert_eq!(ames.len(), want.len(), "{id}: one AME per variable");
    for c in &ames {
        let r = &want[&c.term];
        let (e, s) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        if !close(c.estimate, e, 1e-6) || !close(c.std_error, s, 1e-4) {
            bad.push(format!("{id}: AME {} {} ({}) vs {e} ({s})", c.term, c.estimate, c.std_error));
        }
    }
    for p in case["predictions"].as_array().unwrap() {
        let set: Vec<(&str, f64)> =
            p["set"].as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_f64().unwrap())).collect();
        let got = m.predict(&set).unwrap();
        let r: Vec<f64> = p["prediction"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        if !close(got.estimate, r[0], 1e-6)
            || !close(got.std_error, r[1], 1e-4)
            || !close(got.conf_low, r[2], 1e-4)
            || !close(got.conf_high, r[3], 1e-4)
        {
            bad.push(format!("{id}: prediction at {set:?}: {got:?} vs {r:?}"));
        }
    }
    bad
}

#[test]
fn effects_and_predictions_per_variable_match_the_reference_on_simulated_data() {
    let df = sim();
    let cases: Vec<serde_json::Value> =
        reference()["cases"].as_array().unwrap().iter().filter(|c| c["dataset"] == "sim").cloned().collect();
    assert_eq!(cases.len(), 8, "logit, probit, poisson, OLS; additive; OLS, Poisson, logit with fixed effects");
    let bad: Vec<String> = cases.iter().flat_map(|c| check_case(&df, c)).collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The newcomer report's command on the real dyad-year panel 1970-2000:
/// marginaleffects gives AME(dyadigos) 0.000119 and AME(peace_years) -0.000329.
#[test]
fn the_newcomers_interaction_and_cubic_on_the_dyad_year_panel() {
    let r = reference();
    let case = r["cases"].as_array().unwrap().iter().find(|c| c["dataset"] == "dyad_year_1970_2000").unwrap();
    let ames = &case["ames"];
    assert_eq!(format!("{:.6}", ames["dyadigos"][0].as_f64().unwrap()), "0.000119");
    assert_eq!(format!("{:.6}", ames["peace_years"][0].as_f64().unwrap()), "-0.000329");
    let bad = check_case(&dyad_year_1970_2000(), case);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn orthogonal_and_raw_polynomials_leave_the_other_coefficients_unchanged() {
    let df = sim();
    let opts = FitOptions::default();
    let orth = fit(&df, "ybin ~ x1*d + poly(x2, 3)", Family::Logit, &opts).unwrap();
    let raw = fit(&df, "ybin ~ x1*d + poly(x2, 3, raw = TRUE)", Family::Logit, &opts).unwrap();
    for t in ["x1", "d", "x1:d"] {
        let (a, b) = (orth.coef(t).unwrap(), raw.coef(t).unwrap());
        assert!(close(a.estimate, b.estimate, 1e-8) && close(a.std_error, b.std_error, 1e-6), "{t}: {a:?} vs {b:?}");
    }
    assert!(close(orth.loglik.unwrap(), raw.loglik.unwrap(), 1e-12));
    let c1 = orth.coef("poly(x2,3)1").unwrap().estimate;
    let r1 = raw.coef("poly(x2,3,raw=TRUE)1").unwrap().estimate;
    assert!((c1 - r1).abs() > 1.0, "different bases, different numbers: {c1} vs {r1}");
}

#[test]
fn binary_variables_get_discrete_differences_and_lags_are_their_own_variables() {
    let df = sim();
    let opts = FitOptions {
        panel: Some(concord::formula::design::PanelSpec { unit: vec!["unit".into()], time: "time".into() }),
        ..Default::default()
    };
    let (f, d) = fit_with_design(&df, "ybin ~ d + x1 + l(x1, 1)", Family::Logit, &opts).unwrap();
    let m = f.margins(&df, &d, opts.panel.as_ref()).unwrap();
    let vars: Vec<String> = m.variables().into_iter().map(|v| v.0).collect();
    assert_eq!(vars, ["d", "x1", "l(x1,1)"]);
    assert!(m.is_binary("d") && !m.is_binary("x1"));
    let ame = m.slopes().unwrap();
    // d: the average of Pr(d = 1) - Pr(d = 0), equal to the two predictions' difference.
    let (p1, p0) = (m.predict(&[("d", 1.0)]).unwrap(), m.predict(&[("d", 0.0)]).unwrap());
    assert!((ame[0].estimate - (p1.estimate - p0.estimate)).abs() < 1e-12);
    // Setting x1 leaves its lag as observed: a lag is its own variable.
    let all = m.predict(&[("x1", 0.5), ("l(x1,1)", 0.5)]).unwrap();
    let one = m.predict(&[("x1", 0.5)]).unwrap();
    assert!((all.estimate - one.estimate).abs() > 1e-4);
    let e = m.predict(&[("x3", 1.0)]).unwrap_err().to_string();
    assert!(e.contains("no column `x3`") && e.contains("did you mean"), "{e}");
}

#[test]
fn fixed_effects_without_estimated_effects_are_refused() {
    // Negbin and probit have no fixed-effect estimator with recovered effects.
    let df = sim();
    let (f, d) = fit_with_design(&df, "ycnt ~ x1 + x2 | unit", Family::Poisson, &FitOptions::default()).unwrap();
    let mut d2 = d.clone();
    d2.fe_eta = None;
    let e = f.margins(&df, &d2, None).err().unwrap().to_string();
    assert!(e.contains("with fixed effects") && e.contains("not available yet"), "{e}");
    assert!(f.margins(&df, &d, None).is_ok());
}

#[test]
fn effects_move_every_expression_built_from_a_variable() {
    // tests/reference/formula_ext_margins.py: log(), I(), exp() and i(f, x)
    // terms, with margins.py's method (finite differences through patsy).
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/formula_ext.json")).unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = refs["margins"]["cases"].as_array().unwrap();
    assert_eq!(
        cases.len(),
        3,
        "logit with I() and log(abs()), Poisson with I(x1*x2) and exp(), OLS with i(region, x2)"
    );
    let df = sim();
    let bad: Vec<String> = cases.iter().flat_map(|c| check_case(&df, c)).collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
