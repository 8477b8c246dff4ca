//! Every estimator x vcov against statsmodels / pyfixest on the same data
//! (tests/reference/estimators.py wrote tests/reference/estimators.json).
//! Tolerances: coefficients 1e-6 relative, standard errors 1e-4 relative
//! (absolute 1e-9 for values near zero).

mod common;

use concord::data::read::read_table;
use concord::estimate::{fit, Family, FitOptions};
use polars::prelude::DataFrame;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-9 / rel)
}

fn data(name: &str) -> DataFrame {
    match name {
        "sim" => read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref()).unwrap(),
        "state_year" => common::state_year().clone(),
        "dyad_year" => common::dyad_year().clone(),
        other => panic!("unknown data {other}"),
    }
}

#[test]
fn estimates_match_the_reference_tools() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/estimators.json")).unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = refs["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    let mut frames = std::collections::HashMap::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let df = frames.entry(case["data"].as_str().unwrap().to_string()).or_insert_with_key(|k| data(k));
        let family: Family = case["family"].as_str().unwrap().parse().unwrap();
        let opts = FitOptions { vcov: case["vcov"].as_str().unwrap().parse().unwrap(), ..Default::default() };
        let f = match fit(df, case["formula"].as_str().unwrap(), family, &opts) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        if f.nobs as u64 != case["nobs"].as_u64().unwrap() {
            failures.push(format!("{id}: nobs {} vs {}", f.nobs, case["nobs"]));
        }
        let coefs = case["coefficients"].as_object().unwrap();
        if coefs.len() != f.coefficients.len() {
            failures.push(format!("{id}: {} terms vs {}", f.coefficients.len(), coefs.len()));
        }
        for (term, v) in coefs {
            let (b, se) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
            match f.coef(term) {
                None => failures.push(format!("{id}: no term {term}")),
                Some(c) => {
                    if !close(c.estimate, b, 1e-6) {
                        failures.push(format!("{id}: {term} estimate {} vs {b}", c.estimate));
                    }
                    if !close(c.std_error, se, 1e-4) {
                        failures.push(format!("{id}: {term} se {} vs {se} (ratio {})", c.std_error, c.std_error / se));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
