//! Regressors absorbed by the fixed effects are dropped and named, as fixest
//! drops them, for every family that takes fixed effects; the remaining
//! estimates equal pyfixest's (tests/reference/fe_collinear.py wrote
//! tests/reference/fe_collinear.json). Tolerances: coefficients 1e-6
//! relative, standard errors 1e-4.

mod common;

use concord::data::read::read_table;
use concord::estimate::{fit, Family, FitOptions};
use polars::prelude::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-9 / rel)
}

/// The simulated panel with the derived columns of fe_collinear.py.
fn sim() -> DataFrame {
    read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref())
        .unwrap()
        .lazy()
        .with_columns([
            col("time").gt_eq(lit(2007)).cast(DataType::Int64).alias("post"),
            (col("x1")
                + lit(0.5) * col("region").cast(DataType::Float64)
                + lit(0.01) * (col("time") - lit(2000)).cast(DataType::Float64))
            .alias("combo"),
        ])
        .collect()
        .unwrap()
}

fn state_year() -> DataFrame {
    common::state_year()
        .clone()
        .lazy()
        .with_columns([col("year").gt_eq(lit(1990)).cast(DataType::Int64).alias("post_cold_war")])
        .collect()
        .unwrap()
}

#[test]
fn regressors_absorbed_by_fixed_effects_are_dropped_as_pyfixest_drops_them() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/fe_collinear.json")).unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = refs["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    let (sim, sy) = (sim(), state_year());
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let df = if case["data"] == "sim" { &sim } else { &sy };
        let family: Family = case["family"].as_str().unwrap().parse().unwrap();
        let opts = FitOptions { vcov: case["vcov"].as_str().unwrap().parse().unwrap(), ..Default::default() };
        let f = match fit(df, case["formula"].as_str().unwrap(), family, &opts) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        let dropped: Vec<&str> = case["dropped"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        if f.dropped.collinear != dropped {
            failures.push(format!("{id}: dropped {:?} vs {dropped:?}", f.dropped.collinear));
        }
        let note = format!("dropped as collinear: {}", dropped.join(", "));
        if !f.notes.contains(&note) {
            failures.push(format!("{id}: no note `{note}` in {:?}", f.notes));
        }
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
                        failures.push(format!("{id}: {term} se {} vs {se}", c.std_error));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// The defect of the published table: a period dummy with year fixed
/// effects was kept with an estimate of 7e9 and a standard error of 7e11.
/// Rescaling the dummy (the rule is free of units) or adding a genuine
/// regressor with little within variation changes nothing.
#[test]
fn a_period_dummy_with_year_effects_is_dropped_whatever_its_scale() {
    let sy = state_year()
        .lazy()
        .with_columns([
            (col("post_cold_war").cast(DataType::Float64) * lit(1e-6)).alias("post_small"),
            (col("post_cold_war").cast(DataType::Float64) * lit(1e6)).alias("post_large"),
        ])
        .collect()
        .unwrap();
    for term in ["post_cold_war", "post_small", "post_large"] {
        let formula = format!("unga_agree_majority ~ igo_full + {term} | ccode + year");
        for family in [Family::Gaussian, Family::Logit, Family::Poisson] {
            let formula = match family {
                Family::Gaussian => formula.clone(),
                Family::Logit => formula.replace("unga_agree_majority", "mid_onset"),
                _ => formula.replace("unga_agree_majority", "mid_count"),
            };
            let f = fit(&sy, &formula, family, &FitOptions::default()).unwrap();
            assert_eq!(f.dropped.collinear, [term], "{formula} ({family})");
            assert!(f.coef(term).is_none());
            assert!(f.coef("igo_full").is_some_and(|c| c.std_error < 1.0), "{formula} ({family})");
        }
    }
}
