//! Every estimator x vcov against statsmodels / pyfixest on the same data
//! (tests/reference/estimators.py wrote tests/reference/estimators.json;
//! tests/reference/sandwich_hc.R wrote sandwich_hc.json, R's HC2/HC3).
//! Tolerances: coefficients 1e-6 relative, standard errors 1e-4 relative
//! (absolute 1e-9 for values near zero), except where a case states its own
//! `se_rel_tol` with a `note` (the reference tool's documented difference).

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
        "sim_separated" => {
            read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_separated.csv").as_ref()).unwrap()
        }
        "state_year" => common::state_year().clone(),
        "dyad_year" => common::dyad_year().clone(),
        other => panic!("unknown data {other}"),
    }
}

#[test]
fn estimates_match_the_reference_tools() {
    // statsmodels / pyfixest / linearmodels, and R's sandwich for HC2/HC3 of
    // likelihood models (statsmodels returns HC0 for those).
    let read = |f: &str| -> Vec<serde_json::Value> {
        let path = format!("{}/tests/reference/{f}", env!("CARGO_MANIFEST_DIR"));
        let refs: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        refs["cases"].as_array().unwrap().clone()
    };
    let (main, hc) = (read("estimators.json"), read("sandwich_hc.json"));
    assert!(main.len() >= 61 && hc.len() == 8);
    let cases: Vec<serde_json::Value> = main.into_iter().chain(hc).collect();
    let mut failures = Vec::new();
    let mut frames = std::collections::HashMap::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let df = frames.entry(case["data"].as_str().unwrap().to_string()).or_insert_with_key(|k| data(k));
        let family: Family = case["family"].as_str().unwrap().parse().unwrap();
        // Lagged terms name the panel: "unit,time".
        let panel = case["panel"].as_str().map(|p| {
            let (unit, time) = p.split_once(',').unwrap();
            concord::formula::design::PanelSpec { unit: vec![unit.into()], time: time.into() }
        });
        let opts = FitOptions { vcov: case["vcov"].as_str().unwrap().parse().unwrap(), panel, ..Default::default() };
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
        // Fit statistics (statsmodels cases): log-likelihood, AIC, BIC, R2s.
        if let Some(stats) = case["stats"].as_object() {
            for (name, v) in stats {
                let got = match name.as_str() {
                    "loglik" => f.loglik,
                    "aic" => f.aic,
                    "bic" => f.bic,
                    "r2" => f.r2,
                    "adj_r2" => f.adj_r2,
                    "pseudo_r2" => f.pseudo_r2,
                    other => panic!("unknown statistic {other}"),
                };
                let want = v.as_f64().unwrap();
                if !got.is_some_and(|g| close(g, want, 1e-6)) {
                    failures.push(format!("{id}: {name} {got:?} vs {want}"));
                }
            }
        }
        let coefs = case["coefficients"].as_object().unwrap();
        // Documented exceptions carry their own tolerance and a note.
        let se_tol = case["se_rel_tol"].as_f64().unwrap_or(1e-4);
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
                    if !close(c.std_error, se, se_tol) {
                        failures.push(format!("{id}: {term} se {} vs {se} (ratio {})", c.std_error, c.std_error / se));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// The simulated panel was drawn with known parameters (tests/reference/estimators.py):
/// each estimator recovers them within three standard errors.
#[test]
fn simulation_recovers_known_parameters() {
    let df = data("sim");
    let cases: [(&str, Family, [f64; 3]); 8] = [
        ("y ~ x1 + x2 + d | unit + time", Family::Gaussian, [0.5, -0.3, 0.4]),
        ("ybin ~ x1 + x2 + d", Family::Logit, [0.8, -0.5, 0.3]),
        ("ycnt ~ x1 + x2 + d", Family::Poisson, [0.4, -0.2, 0.2]),
        ("ycnt ~ x1 + x2 + d | unit + time", Family::Poisson, [0.4, -0.2, 0.2]),
        ("ybin ~ x1 + x2 + d", Family::Probit, [0.8 / 1.6, -0.5 / 1.6, 0.3 / 1.6]),
        ("ynb ~ x1 + x2 + d", Family::Negbin, [0.4, -0.2, 0.2]),
        ("ybin ~ x1 + x2 + d", Family::Firth, [0.8, -0.5, 0.3]),
        ("ybin ~ x1 + x2 + d | time", Family::Logit, [0.8, -0.5, 0.3]),
    ];
    for (formula, family, truth) in cases {
        // Firth reports inverse-information (iid) standard errors only.
        let vcov = if family == Family::Firth { "iid" } else { "cluster:unit" };
        let opts = FitOptions { vcov: vcov.parse().unwrap(), ..Default::default() };
        let f = fit(&df, formula, family, &opts).unwrap();
        assert!(f.converged);
        for (term, t) in ["x1", "x2", "d"].iter().zip(truth) {
            let c = f.coef(term).unwrap();
            // Probit is a misspecified approximation of the logit draws (scale 1.6):
            // allow a wider band there.
            let band = if family == Family::Probit { 4.0 } else { 3.0 };
            assert!((c.estimate - t).abs() < band * c.std_error, "{formula}: {term} {} vs {t}", c.estimate);
        }
        if family == Family::Negbin {
            let a = f.coef("alpha").unwrap();
            assert!((a.estimate - 0.5).abs() < 3.0 * a.std_error, "alpha {}", a.estimate);
        }
    }
}

#[test]
fn separation_is_detected_and_named() {
    use polars::prelude::*;
    let n = 200;
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 / 11.0).collect();
    let dummy: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 10 == 0))).collect();
    // y = 1 whenever dummy = 1: quasi-complete separation by `dummy`.
    let y: Vec<f64> = (0..n).map(|i| if i % 10 == 0 { 1.0 } else { f64::from(u8::from(i % 3 == 0)) }).collect();
    let df = df!("y" => y, "x" => x, "dummy" => dummy).unwrap();
    let e = fit(&df, "y ~ x + dummy", Family::Logit, &FitOptions::default()).unwrap_err().to_string();
    assert!(e.starts_with("quasi-complete separation in logit: dummy = 1 predicts y = 1 perfectly (20 rows)"), "{e}");
    assert!(e.contains("Firth"), "{e}");
}

#[test]
fn separation_by_a_continuous_variable_is_detected_but_steep_fits_are_not() {
    use polars::prelude::*;
    let n = 300;
    let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
    let z: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 997) as f64 / 997.0 - 0.5).collect();
    let y: Vec<f64> = x.iter().map(|&x| f64::from(u8::from(x > 0.5))).collect();
    let df = df!("y" => y, "x" => x.clone(), "z" => z.clone()).unwrap();
    let e = fit(&df, "y ~ x + z", Family::Logit, &FitOptions::default()).unwrap_err().to_string();
    assert!(e.starts_with("quasi-complete separation in logit:"), "{e}");
    assert!(e.contains("x ("), "the separating variable is named: {e}");
    // Outcomes that overlap in x: the fit exists and is reported.
    let y: Vec<f64> = x.iter().zip(&z).map(|(&x, &z)| f64::from(u8::from(x + 0.8 * z > 0.5))).collect();
    let df = df!("y" => y, "x" => x, "z" => z.iter().map(|v| v * 0.1).collect::<Vec<f64>>()).unwrap();
    assert!(fit(&df, "y ~ x", Family::Logit, &FitOptions::default()).is_ok());
}

#[test]
fn non_convergence_is_an_error_unless_asked_for() {
    let df = data("sim");
    let opts = FitOptions { max_iter: 1, ..Default::default() };
    let e = fit(&df, "ybin ~ x1 + x2 + d", Family::Logit, &opts).unwrap_err().to_string();
    assert!(e.starts_with("logit did not converge in 1 iterations (gradient norm"), "{e}");
    assert!(e.contains("no estimates are reported"), "{e}");
    let opts = FitOptions { max_iter: 1, allow_nonconverged: true, ..Default::default() };
    let f = fit(&df, "ybin ~ x1 + x2 + d", Family::Logit, &opts).unwrap();
    assert!(!f.converged && f.notes.iter().any(|n| n.starts_with("NOT CONVERGED")));
    let e = fit(
        &df,
        "ycnt ~ x1 + x2 + d | unit + time",
        Family::Poisson,
        &FitOptions { max_iter: 1, ..Default::default() },
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("poisson did not converge in 1 iterations"), "{e}");
}

#[test]
fn collinear_and_no_variation_are_reported() {
    use polars::prelude::*;
    let df = data("sim").lazy().with_columns([(col("x1") * lit(2.0)).alias("x3")]).collect().unwrap();
    let f = fit(&df, "y ~ x1 + x2 + x3", Family::Gaussian, &FitOptions::default()).unwrap();
    assert_eq!(f.dropped.collinear, ["x3"]);
    assert!(f.notes.iter().any(|n| n == "dropped as collinear: x3"));
    // Units whose count outcome is always zero carry no information in FE Poisson.
    let f = fit(&df, "ycnt ~ x1 + x2 | unit", Family::Poisson, &FitOptions::default()).unwrap();
    let expected = common_zero_units(&df);
    assert_eq!(f.dropped.no_variation, expected);
}

fn common_zero_units(df: &DataFrame) -> usize {
    use polars::prelude::*;
    let g = df
        .clone()
        .lazy()
        .filter(col("x2").is_not_null())
        .group_by([col("unit")])
        .agg([col("ycnt").max().alias("m"), len().alias("n")])
        .filter(col("m").eq(lit(0)))
        .collect()
        .unwrap();
    g.column("n").unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().sum().unwrap_or(0.0) as usize
}

fn reference() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/estimators.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn wald_and_likelihood_ratio_tests_match_statsmodels() {
    use polars::prelude::*;
    let df = data("sim");
    for t in reference()["tests"].as_array().unwrap() {
        let family: Family = t["family"].as_str().unwrap().parse().unwrap();
        let opts = FitOptions { vcov: t["vcov"].as_str().unwrap().parse().unwrap(), ..Default::default() };
        let full = fit(&df, t["formula"].as_str().unwrap(), family, &opts).unwrap();
        let res = match t["restricted"].as_str() {
            Some(r) => {
                // Fitted on other rows (x2 is missing in three), the test is refused.
                let other = fit(&df, r, family, &opts).unwrap();
                let e = full.lr_test(&other).unwrap_err().to_string();
                assert!(e.starts_with("the fits use different samples (1800 and 1797"), "{e}");
                let same = df.clone().lazy().filter(col("x2").is_not_null()).collect().unwrap();
                full.lr_test(&fit(&same, r, family, &opts).unwrap()).unwrap()
            }
            None => full.wald(t["restrictions"].as_str().unwrap()).unwrap(),
        };
        let id = t["id"].as_str().unwrap();
        assert!(
            close(res.statistic, t["statistic"].as_f64().unwrap(), 1e-6),
            "{id}: {} vs {}",
            res.statistic,
            t["statistic"]
        );
        assert!(
            close(res.p_value, t["p_value"].as_f64().unwrap(), 1e-4),
            "{id}: p {} vs {}",
            res.p_value,
            t["p_value"]
        );
        if let Some(d) = t["df_denom"].as_f64() {
            assert_eq!(res.df.1, Some(d), "{id}");
        }
    }
}

#[test]
fn one_sided_p_values_halve_the_two_sided_in_the_right_direction() {
    use concord::inference::hypothesis::Direction;
    let f = fit(&data("sim"), "y ~ x1 + x2 + d", Family::Gaussian, &FitOptions::default()).unwrap();
    let x1 = f.coef("x1").unwrap();
    assert!(x1.estimate > 0.0);
    let pos = f.one_sided_p("x1", Direction::Positive).unwrap();
    let neg = f.one_sided_p("x1", Direction::Negative).unwrap();
    assert!((pos - x1.p_value / 2.0).abs() < 1e-12);
    assert!((pos + neg - 1.0).abs() < 1e-12);
}

#[test]
fn firth_gives_finite_estimates_where_logit_separates() {
    let df = data("sim_separated");
    let e = fit(&df, "ybin ~ x1 + sep", Family::Logit, &FitOptions::default()).unwrap_err().to_string();
    assert!(e.contains("sep = 1 predicts ybin = 1 perfectly"), "{e}");
    let f = fit(&df, "ybin ~ x1 + sep", Family::Firth, &FitOptions::default()).unwrap();
    let sep = f.coef("sep").unwrap();
    assert!(f.converged && sep.estimate.is_finite() && sep.estimate > 1.0 && sep.std_error.is_finite());
}

#[test]
fn unavailable_combinations_say_so() {
    let df = data("sim");
    let dk = FitOptions { vcov: "dk".parse().unwrap(), ..Default::default() };
    let e = fit(&df, "y ~ x1", Family::Gaussian, &dk).unwrap_err().to_string();
    assert_eq!(e, "Driscoll-Kraay needs the time column: dk:TIME, or --panel UNIT,TIME");
    let hc3 = FitOptions { vcov: "hc3".parse().unwrap(), ..Default::default() };
    let e = fit(&df, "ybin ~ x1", Family::Probit, &hc3).unwrap_err().to_string();
    assert_eq!(e, "hc2/hc3 for probit is not available yet");
    let e = fit(&df, "ycnt ~ x1 | unit", Family::Poisson, &hc3).unwrap_err().to_string();
    assert_eq!(e, "hc2/hc3 for likelihood models with fixed effects is not available yet");
    let dk = FitOptions { vcov: "dk:time".parse().unwrap(), ..Default::default() };
    let e = fit(&df, "ycnt ~ x1 | unit", Family::Poisson, &dk).unwrap_err().to_string();
    assert_eq!(e, "Driscoll-Kraay for likelihood models with fixed effects is not available yet");
}

fn study_refs() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/study_refs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn natural_spline_logit_matches_statsmodels_with_patsy_cr() {
    // Same knots, another basis of the same natural cubic splines: the
    // likelihood, the other coefficients and the fitted values agree.
    let r = &study_refs()["spline_logit"];
    let df = data("sim");
    let x2 = concord::formula::design::numeric(&df, "x2").unwrap();
    let knots = concord::formula::design::spline_knots(&x2, 3).unwrap();
    for (k, want) in knots.iter().zip(r["knots"].as_array().unwrap()) {
        assert!(close(*k, want.as_f64().unwrap(), 1e-12), "knot {k} vs {want}");
    }
    let (f, d) =
        concord::estimate::fit_with_design(&df, "ybin ~ x1 + ns(x2, 3)", Family::Logit, &FitOptions::default())
            .unwrap();
    assert!(close(f.loglik.unwrap(), r["loglik"].as_f64().unwrap(), 1e-9), "loglik {:?}", f.loglik);
    let x1 = f.coef("x1").unwrap();
    assert!(close(x1.estimate, r["x1"].as_f64().unwrap(), 1e-6), "x1 {}", x1.estimate);
    assert!(close(x1.std_error, r["x1_se"].as_f64().unwrap(), 1e-4), "x1 se {}", x1.std_error);
    let eta = &d.x * &f.beta;
    for (i, want) in r["fitted_first5"].as_array().unwrap().iter().enumerate() {
        let p = 1.0 / (1.0 + (-eta[i]).exp());
        assert!(close(p, want.as_f64().unwrap(), 1e-6), "fitted {i}: {p} vs {want}");
    }
}

#[test]
fn holm_and_benjamini_hochberg_match_statsmodels_multipletests() {
    let r = study_refs();
    let p: Vec<f64> = r["p"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let (holm, bh) = (concord::inference::multiple::holm(&p), concord::inference::multiple::benjamini_hochberg(&p));
    for (name, got) in [("holm", holm), ("bh", bh)] {
        for (g, w) in got.iter().zip(r[name].as_array().unwrap()) {
            assert!(close(*g, w.as_f64().unwrap(), 1e-12), "{name}: {g} vs {w}");
        }
    }
}

/// Deterministic uniforms on (0, 1) from a fixed LCG and normals from them
/// (Box-Muller), so the numerical-edge fixtures below need no files.
fn uniforms(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        })
        .collect()
}

fn normals(n: usize, seed: u64) -> Vec<f64> {
    let u = uniforms(2 * n, seed);
    (0..n).map(|i| (-2.0 * u[2 * i].ln()).sqrt() * (2.0 * std::f64::consts::PI * u[2 * i + 1]).cos()).collect()
}

#[test]
fn rare_events_huge_counts_and_near_collinearity() {
    use polars::prelude::*;
    // 0.3% onsets in 200,000 rows: logit converges, recovers the slope within
    // 3 standard errors, and Firth agrees with it to a fraction of a standard error.
    let n = 200_000;
    let x = normals(n, 1);
    let u = uniforms(n, 2);
    let y: Vec<f64> =
        x.iter().zip(&u).map(|(x, u)| f64::from(u8::from(*u < 1.0 / (1.0 + (-(-6.0 + 0.4 * x)).exp())))).collect();
    let rate = y.iter().sum::<f64>() / n as f64;
    assert!((0.001..0.006).contains(&rate), "onset rate {rate}");
    let df = df!("y" => y, "x" => x.clone()).unwrap();
    let l = fit(&df, "y ~ x", Family::Logit, &FitOptions::default()).unwrap();
    let f = fit(&df, "y ~ x", Family::Firth, &FitOptions::default()).unwrap();
    let (bl, bf) = (l.coef("x").unwrap(), f.coef("x").unwrap());
    assert!(l.converged && f.converged);
    assert!((bl.estimate - 0.4).abs() < 3.0 * bl.std_error, "slope {} (se {})", bl.estimate, bl.std_error);
    assert!(bl.estimate.is_finite() && bl.std_error.is_finite() && bl.std_error > 0.0);
    assert!((bl.estimate - bf.estimate).abs() < 0.1 * bl.std_error, "logit {} vs Firth {}", bl.estimate, bf.estimate);

    // Counts around e^10: no overflow, the slope recovered.
    let z = normals(2000, 3);
    let c: Vec<f64> = z.iter().map(|z| (10.0 + 0.5 * z).exp().round()).collect();
    let df = df!("c" => c, "z" => z).unwrap();
    let p = fit(&df, "c ~ z", Family::Poisson, &FitOptions::default()).unwrap();
    assert!((p.coef("z").unwrap().estimate - 0.5).abs() < 1e-4, "{:?}", p.coef("z"));
    assert!(p.loglik.unwrap().is_finite());

    // A regressor equal to another up to 1e-7: dropped and named, not inverted.
    let w: Vec<f64> = x.iter().zip(normals(n, 4)).map(|(x, e)| x + 1e-7 * e).collect();
    let ys = normals(n, 5);
    let df = df!("y" => ys, "x" => x, "w" => w).unwrap();
    let g = fit(&df, "y ~ x + w", Family::Gaussian, &FitOptions::default()).unwrap();
    assert_eq!(g.dropped.collinear, ["w"]);
    assert!(g.notes.iter().any(|n| n == "dropped as collinear: w"), "{:?}", g.notes);
}

#[test]
fn nearly_collinear_regressors_are_named_in_a_note() {
    let mut df = data("sim");
    let x1: Vec<f64> = df.column("x1").unwrap().f64().unwrap().into_no_null_iter().collect();
    // x1 plus a wiggle of 3e-5: kept by the collinearity check (residual
    // variance 4e-10 of its own, above 1e-10), but barely identified.
    let x3: Vec<f64> = x1.iter().enumerate().map(|(i, v)| v + 3e-5 * (i as f64).sin()).collect();
    df.with_column(polars::prelude::Column::new("x3".into(), x3)).unwrap();
    for family in [Family::Gaussian, Family::Logit] {
        let y = if family == Family::Gaussian { "y" } else { "ybin" };
        let f = fit(&df, &format!("{y} ~ x1 + x2 + x3"), family, &FitOptions::default()).unwrap();
        assert!(f.condition_number > 1e9 && f.condition_number < 1e11, "{family}: {}", f.condition_number);
        assert!(
            f.notes.iter().any(|n| n.starts_with("nearly collinear: x1, x3 (condition number")),
            "{family}: {:?}",
            f.notes
        );
        let plain = fit(&df, &format!("{y} ~ x1 + x2"), family, &FitOptions::default()).unwrap();
        assert!(plain.condition_number < 10.0 && plain.notes.iter().all(|n| !n.starts_with("nearly")));
    }
}

#[test]
fn degenerate_inputs_get_errors_not_numbers() {
    let opts = FitOptions::default();
    let err = |df: &DataFrame, formula: &str, family: Family, opts: &FitOptions| {
        fit(df, formula, family, opts).map(|f| format!("{:?}", f.coefficients)).unwrap_err().to_string()
    };
    // Values whose squares overflow.
    let df = polars::df!("y" => [1.0, 2.0, 3.0, 4.0, 5.0], "x" => [0.5, 1.0, 1e300, 2.0, 1.0]).unwrap();
    assert_eq!(
        err(&df, "y ~ x", Family::Gaussian, &opts),
        "column `x` has 1e300 in row 3: values beyond 1e100 overflow the cross-products of the design; rescale it"
    );
    // As many parameters as observations: no residual degrees of freedom.
    let df = polars::df!("y" => [1.0, 2.5], "x" => [0.0, 1.0], "g" => [1, 1]).unwrap();
    assert_eq!(
        err(&df, "y ~ x", Family::Gaussian, &opts),
        "no residual degrees of freedom are left (t with 0 df): the model needs more observations (or clusters, or \
         periods) than parameters"
    );
    // One cluster: the clustered variance cannot be estimated.
    let df = polars::df!("y" => [0.0, 1.0, 1.0, 0.0, 1.0, 0.0], "x" => [0.1, 0.9, 0.4, 0.2, 0.7, 0.8], "g" => [1; 6])
        .unwrap();
    let cl = FitOptions { vcov: "cluster:g".parse().unwrap(), ..Default::default() };
    assert_eq!(
        err(&df, "y ~ x", Family::Logit, &cl),
        "the variance of `(Intercept)` is inf: the covariance cannot be estimated (too few observations, clusters or \
         periods for this vcov?)"
    );
}

#[test]
fn effects_at_values_of_a_moderator_match_statsmodels_t_test() {
    // The report's "effect by year": b_x + z b_x:z with its delta-method
    // standard error, against statsmodels' t_test on the same clustered logit.
    let r = &study_refs()["effect_at"];
    let opts = FitOptions { vcov: r["vcov"].as_str().unwrap().parse().unwrap(), ..Default::default() };
    let f = fit(&data("sim"), r["formula"].as_str().unwrap(), Family::Logit, &opts).unwrap();
    for at in r["at"].as_array().unwrap() {
        let (z, b, se) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap(), at[2].as_f64().unwrap());
        let e = f.linear_combination("x1 at z", &[("x1", 1.0), ("x1:x2", z)]).unwrap();
        assert!(close(e.estimate, b, 1e-6) && close(e.std_error, se, 1e-4), "z = {z}: {e:?} vs {b}, {se}");
        assert!(close(e.conf_high - e.estimate, 1.959963984540054 * se, 1e-4));
    }
    let e = f.linear_combination("bad", &[("x3", 1.0)]).unwrap_err().to_string();
    assert_eq!(e, "no term `x3` in the fit of `ybin ~ x1 + x2 + x1:x2`");
}

#[test]
fn condition_numbers_match_numpy() {
    // The scaled condition number of the model-based covariance, against
    // numpy's eigenvalues of statsmodels' cov_params scaled to unit diagonal.
    let refs = &study_refs()["condition"];
    for (key, family) in [("logit ybin ~ x1 + x2 + d", Family::Logit), ("gaussian y ~ x1 + x2 + d", Family::Gaussian)] {
        let formula = key.split_once(' ').unwrap().1;
        let f = fit(&data("sim"), formula, family, &FitOptions::default()).unwrap();
        let want = refs[key].as_f64().unwrap();
        assert!(close(f.condition_number, want, 1e-6), "{key}: {} vs {want}", f.condition_number);
    }
}

/// FE logit, probit, Poisson and negbin (alpha = 1 / theta) with iid and
/// clustered standard errors against R fixest 0.12.2 (feglm, fepois,
/// fenegbin; tests/reference/fixest_glm.R wrote fixest_glm.json, which states
/// the small-sample corrections matched). Coefficients 1e-6 relative,
/// standard errors 1e-4, log-likelihoods 1e-8.
#[test]
fn fe_glms_match_fixest() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/fixest_glm.json");
    let refs: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = refs["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "{} cases", cases.len());
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
        assert!(f.converged, "{id}");
        if f.nobs as u64 != case["nobs"].as_u64().unwrap() {
            failures.push(format!("{id}: nobs {} vs {}", f.nobs, case["nobs"]));
        }
        let ll = case["loglik"].as_f64().unwrap();
        if !f.loglik.is_some_and(|g| close(g, ll, 1e-8)) {
            failures.push(format!("{id}: loglik {:?} vs {ll}", f.loglik));
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
                    if !close(c.std_error, se, case["se_rel_tol"].as_f64().unwrap_or(1e-4)) {
                        failures.push(format!("{id}: {term} se {} vs {se} (ratio {})", c.std_error, c.std_error / se));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// The dyad-years 1980-2010, `mid_onset ~ i(year)`: the warm start's
/// subsample (every 8th row) saw a year without onsets, its fit saturated,
/// and the full fit started there failed with "singular Hessian" (R's glm
/// converges). A logit on year dummies alone has a closed form: the
/// intercept is the logit of 1980's onset rate, each dummy the difference of
/// logits.
#[test]
fn a_year_the_subsample_separates_does_not_break_the_fit() {
    let df = concord::data::build(concord::data::Unit::DyadYear, &common::data_dir(), 1980, 2010).unwrap().0;
    let f = fit(&df, "mid_onset ~ i(year)", Family::Logit, &FitOptions::default()).unwrap();
    let year = df.column("year").unwrap().cast(&polars::prelude::DataType::Int64).unwrap();
    let y = df.column("mid_onset").unwrap().cast(&polars::prelude::DataType::Float64).unwrap();
    let (year, y) = (year.i64().unwrap(), y.f64().unwrap());
    let logit_rate = |t: i64| {
        let (s, c) = year
            .iter()
            .zip(y.iter())
            .filter(|(yr, v)| *yr == Some(t) && v.is_some())
            .fold((0.0, 0.0), |(s, c), (_, v)| (s + v.unwrap_or(0.0), c + 1.0));
        let p: f64 = s / c;
        (p / (1.0 - p)).ln()
    };
    assert!(close(f.coef("(Intercept)").unwrap().estimate, logit_rate(1980), 1e-7));
    for t in 1981..=2010 {
        let b = f.coef(&format!("year::{t}")).unwrap().estimate;
        assert!(
            close(b, logit_rate(t) - logit_rate(1980), 1e-6),
            "year::{t}: {b} vs {}",
            logit_rate(t) - logit_rate(1980)
        );
    }
}
