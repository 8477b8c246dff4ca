//! The dyadic-robust vcov (Aronow, Samii and Assenova 2015) against an
//! independent numpy implementation of the published formula
//! (tests/reference/dyadic.py wrote tests/reference/dyadic.json): every
//! family on a small simulated dyadic panel (tests/fixtures/sim_dyadic.csv)
//! and OLS with two-way fixed effects and a logit on the real dyad-year panel.
//! Tolerance: 1e-8 relative for the estimates and for every element of the
//! covariance matrix (relative to `sqrt(V_ii V_jj)`).

mod common;

use concord::data::read::read_table;
use concord::estimate::{fit, Family, FitOptions};
use polars::prelude::DataFrame;

fn sim() -> DataFrame {
    read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_dyadic.csv").as_ref()).unwrap()
}

fn reference() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/dyadic.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

#[test]
fn dyadic_vcov_matches_the_numpy_reference() {
    let cases = reference();
    assert_eq!(cases.len(), 11, "9 simulated and 2 real-panel cases");
    let sim = sim();
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let df = match case["data"].as_str().unwrap() {
            "sim_dyadic" => &sim,
            "dyad_year" => common::dyad_year(),
            other => panic!("unknown data {other}"),
        };
        let family: Family = case["family"].as_str().unwrap().parse().unwrap();
        let opts =
            FitOptions { vcov: case["vcov"].as_str().unwrap().parse().unwrap(), tol: 1e-10, ..Default::default() };
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
        let names: Vec<&String> = coefs.keys().collect();
        let got: Vec<&str> = f.coefficients.iter().map(|c| c.term.as_str()).collect();
        if got.len() != names.len() {
            failures.push(format!("{id}: terms {got:?} vs {names:?}"));
            continue;
        }
        let want = case["vcov_matrix"].as_array().unwrap();
        for (i, (term, v)) in coefs.iter().enumerate() {
            let Some(ci) = f.coefficients.iter().position(|c| &c.term == term) else {
                failures.push(format!("{id}: no term {term}"));
                continue;
            };
            let b = v[0].as_f64().unwrap();
            let est = f.coefficients[ci].estimate;
            if (est - b).abs() > 1e-8 * b.abs().max(1e-3) {
                failures.push(format!("{id}: {term} estimate {est} vs {b}"));
            }
            for (j, other) in coefs.keys().enumerate() {
                let cj = f.coefficients.iter().position(|c| &c.term == other).unwrap();
                let r = want[i][j].as_f64().unwrap();
                let scale = (want[i][i].as_f64().unwrap() * want[j][j].as_f64().unwrap()).sqrt();
                let g = f.cov[(ci, cj)];
                if (g - r).abs() > 1e-8 * scale {
                    failures
                        .push(format!("{id}: V[{term}, {other}] {g:e} vs {r:e} (rel {:.1e})", (g - r).abs() / scale));
                }
            }
        }
        assert_eq!(f.vcov, "dyadic:ccode1,ccode2");
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// On the simulated panel the errors share state-level shocks, so the
/// dyadic-robust standard errors exceed those clustered by dyad alone.
#[test]
fn dyadic_errors_exceed_dyad_clustered_ones_under_state_shocks() {
    let df = sim();
    let se = |vcov: &str| {
        let opts = FitOptions { vcov: vcov.parse().unwrap(), ..Default::default() };
        fit(&df, "y ~ x1 + x2", Family::Gaussian, &opts).unwrap().coef("x1").unwrap().std_error
    };
    let (dy, cl, two) = (se("dyadic:ccode1,ccode2"), se("cluster:dyad"), se("cluster:ccode1,ccode2"));
    assert!(dy > 1.5 * cl, "dyadic {dy} vs dyad-clustered {cl}");
    assert!(dy > two, "dyadic {dy} vs two-way {two}");
}

#[test]
fn bad_dyadic_specs_name_the_column() {
    let df = sim();
    let with = |vcov: &str| FitOptions { vcov: vcov.parse().unwrap(), ..Default::default() };
    let e = fit(&df, "y ~ x1", Family::Gaussian, &with("dyadic:ccode1,ccode3")).unwrap_err().to_string();
    assert_eq!(e, "no column `ccode3` in the data (did you mean `ccode1`?)");
    let e = "dyadic:ccode1".parse::<concord::inference::VcovSpec>().unwrap_err().to_string();
    assert!(e.contains("dyadic:COL1,COL2 (got 1 in `dyadic:ccode1`)"), "{e}");
    // A state coded 2 in one column and 2.0 in the other would not match.
    use polars::prelude::*;
    let df = df.lazy().with_columns([col("ccode2").cast(DataType::Float64)]).collect().unwrap();
    let e = fit(&df, "y ~ x1", Family::Gaussian, &with("dyadic:ccode1,ccode2")).unwrap_err().to_string();
    assert_eq!(e, "the dyad member columns `ccode1` (i64) and `ccode2` (f64) must both be integer codes or both not");
}
