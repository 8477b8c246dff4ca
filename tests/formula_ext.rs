//! The formula language fixest users write, against R fixest on the same data
//! (tests/reference/formula_ext.R wrote tests/reference/formula_ext.json;
//! formula_ext_check.py re-ran every case pyfixest supports: largest
//! difference 1.4e-7, on fixest's FE logit s.e.). Transformations
//! (`log()`, `I()`, `x^2`), `i(x, ref =)`, `i(f, x)`, `fe1^fe2`, lag ranges,
//! weights, `--subset`, `--split` and multiple estimation (`sw()`, `csw()`,
//! `sw0()`, `csw0()`, `c()`).
//! Tolerances: coefficients 1e-6 relative, standard errors 1e-4 relative.

use concord::data::read::read_table;
use concord::estimate::{fit, Family, FitOptions};
use concord::formula::design::PanelSpec;
use concord::formula::multi::expand;
use concord::formula::subset::Cond;
use polars::prelude::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-9 / rel)
}

fn strip(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn reference() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/formula_ext.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sim() -> DataFrame {
    read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref()).unwrap()
}

#[test]
fn formulas_weights_subsets_and_splits_match_fixest() {
    let refs = reference();
    let cases = refs["cases"].as_array().unwrap();
    assert!(cases.len() >= 53);
    let df = sim();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let formula = match case["multi"].as_str() {
            // The fits of one multiple-estimation formula, in fixest's order.
            Some(m) => {
                let all = expand(m).unwrap();
                all[case["multi_index"].as_u64().unwrap() as usize].clone()
            }
            None => case["formula"].as_str().unwrap().to_string(),
        };
        let family: Family = case["family"].as_str().unwrap().parse().unwrap();
        let mut opts = FitOptions { vcov: case["vcov"].as_str().unwrap().parse().unwrap(), ..Default::default() };
        if let Some(p) = case["panel"].as_str() {
            let (unit, time) = p.split_once(',').unwrap();
            opts.panel = Some(PanelSpec { unit: vec![unit.into()], time: time.into() });
        }
        if let Some(s) = case["subset"].as_str() {
            opts.sample = Some(Cond::parse(s).unwrap().rows(&df).unwrap());
        }
        if let Some(col) = case["split"].as_str() {
            let level = case["split_level"].as_f64().unwrap();
            let c = df.column(col).unwrap().cast(&DataType::Float64).unwrap();
            opts.sample = Some(c.f64().unwrap().iter().map(|v| v == Some(level)).collect());
        }
        opts.weights = case["weights"].as_str().map(String::from);
        let f = match fit(&df, &formula, family, &opts) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        checked += 1;
        if let Some(ll) = case["lm_loglik"].as_f64() {
            if !f.loglik.is_some_and(|g| close(g, ll, 1e-9)) {
                failures.push(format!("{id}: log-likelihood {:?} vs R's lm {ll}", f.loglik));
            }
        }
        // fixest scales the iid s.e. of a likelihood model without fixed
        // effects by sqrt((n - 1) / (n - K)); concord, as statsmodels, does not.
        let pooled_glm = family != Family::Gaussian && f.fixed_effects.is_empty() && case["vcov"] == "iid";
        let ssc = if pooled_glm {
            let (n, k) = (f.nobs as f64, f.coefficients.len() as f64);
            ((n - 1.0) / (n - k)).sqrt()
        } else {
            1.0
        };
        // fixest keeps FE singletons of a linear model; concord drops them as
        // pyfixest does (same estimates and iid s.e.).
        let nobs = case.get("pyfixest_nobs").unwrap_or(&case["nobs"]).as_u64().unwrap();
        if f.nobs as u64 != nobs {
            failures.push(format!("{id}: nobs {} vs {nobs}", f.nobs));
        }
        let coefs = case["coefficients"].as_object().unwrap();
        if coefs.len() != f.coefficients.len() {
            let got: Vec<&str> = f.coefficients.iter().map(|c| c.term.as_str()).collect();
            failures.push(format!("{id}: terms {got:?} vs {:?}", coefs.keys().collect::<Vec<_>>()));
        }
        for (name, v) in coefs {
            let (b, se) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
            match f.coefficients.iter().find(|c| strip(&c.term) == strip(name)) {
                None => failures.push(format!("{id}: no term {name}")),
                Some(c) => {
                    if !close(c.estimate, b, 1e-6) {
                        failures.push(format!("{id}: {name} estimate {} vs {b}", c.estimate));
                    }
                    if !close(c.std_error * ssc, se, 1e-4) {
                        failures.push(format!("{id}: {name} se {} vs {se}", c.std_error));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} cases fail:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 53, "{checked}");
}

#[test]
fn multiple_estimation_expands_in_fixests_order() {
    let refs = reference();
    let mut seen = 0;
    for case in refs["cases"].as_array().unwrap() {
        let Some(m) = case["multi"].as_str() else { continue };
        let all = expand(m).unwrap();
        let want = case["formula"].as_str().unwrap().replace(" | 1", "");
        assert_eq!(strip(&all[case["multi_index"].as_u64().unwrap() as usize]), strip(&want), "{m}");
        seen += 1;
    }
    assert_eq!(seen, 12);
}
