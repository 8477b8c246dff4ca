//! Separation in Poisson and logit (Correia, Guimarães and Zylkin 2019): the
//! 18 data sets of ppmlhdfe's test suite, each with the rows that must be
//! dropped flagged in `separated`. Every fit must drop exactly those rows (and
//! the fixed-effect singletons the data has or their removal leaves), then
//! converge.
//!
//! The fixtures are found in $CONCORD_FIXTURES/ppml_separation, else in
//! ../shared/fixtures/ppml_separation beside the repository.

use std::path::PathBuf;

use concord::estimate::{fit, fit_with_design, Family, FitOptions};
use polars::prelude::*;

fn fixtures() -> PathBuf {
    let dir = std::env::var_os("CONCORD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"))
        .join("ppml_separation");
    assert!(dir.join("01.csv").is_file(), "the separation fixtures are not at {}: set CONCORD_FIXTURES", dir.display());
    dir
}

/// The rows a fit on `ids` must keep: those not flagged, less the singletons
/// of the fixed effects (removed until none is left).
fn expected_kept(df: &DataFrame, ids: &[String]) -> Vec<usize> {
    let sep: Vec<i64> =
        df.column("separated").unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().into_no_null_iter().collect();
    let cols: Vec<Vec<i64>> = ids
        .iter()
        .map(|c| df.column(c).unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().into_no_null_iter().collect())
        .collect();
    let mut keep: Vec<bool> = sep.iter().map(|s| *s == 0).collect();
    loop {
        let mut removed = 0;
        for c in &cols {
            let mut count = std::collections::HashMap::new();
            for (v, k) in c.iter().zip(&keep) {
                if *k {
                    *count.entry(*v).or_insert(0) += 1;
                }
            }
            for (v, k) in c.iter().zip(keep.iter_mut()) {
                if *k && count[v] == 1 {
                    *k = false;
                    removed += 1;
                }
            }
        }
        if removed == 0 {
            break;
        }
    }
    (0..keep.len()).filter(|&i| keep[i]).collect()
}

#[test]
fn the_ppmlhdfe_separation_examples_drop_exactly_the_flagged_rows_and_converge() {
    let dir = fixtures();
    let mut table = Vec::new();
    for i in 1..=18 {
        let name = format!("{i:02}.csv");
        let df = concord::data::read::read_table(&dir.join(&name)).unwrap();
        let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        let xs: Vec<String> = names.iter().filter(|c| c.starts_with('x')).cloned().collect();
        let ids: Vec<String> = names.iter().filter(|c| c.starts_with("id")).cloned().collect();
        let rhs = if xs.is_empty() { "1".to_string() } else { xs.join(" + ") };
        let formula = if ids.is_empty() { format!("y ~ {rhs}") } else { format!("y ~ {rhs} | {}", ids.join(" + ")) };
        let (f, design) = fit_with_design(&df, &formula, Family::Poisson, &FitOptions::default())
            .unwrap_or_else(|e| panic!("{name} `{formula}`: {e}"));
        assert!(f.converged, "{name}: not converged");
        let want = expected_kept(&df, &ids);
        assert_eq!(design.rows, want, "{name} `{formula}`: kept rows differ from the unflagged ones");
        let d = &f.dropped;
        let flagged = df.height() - want.len() - d.singletons;
        assert_eq!(d.no_variation + d.separated_simplex + d.separated_relu, flagged, "{name}: {d:?}");
        assert_eq!(d.missing, 0);
        let mut rules = Vec::new();
        for (n, rule) in
            [(d.no_variation, "fixed effects"), (d.separated_simplex, "simplex"), (d.separated_relu, "ReLU")]
        {
            if n > 0 {
                rules.push(format!("{rule} {n}"));
            }
        }
        table.push(format!(
            "| {name} | {} | {} | {} | {} | {} |",
            df.height(),
            if rules.is_empty() { "none".into() } else { rules.join(", ") },
            d.singletons,
            d.relu_iterations,
            f.iterations
        ));
        // The reported JSON carries the counts by rule.
        let json: serde_json::Value = serde_json::from_str(&f.to_json()).unwrap();
        assert_eq!(json["dropped"]["separated_relu"].as_u64(), Some(d.separated_relu as u64));
    }
    println!("| data set | rows | separated (rule: rows) | singletons | ReLU iterations | IRLS/Newton iterations |");
    println!("|---|---|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
}

/// A fixed-effects logit in which every group's outcome is constant has no
/// observation left: the error names the fixed effect.
#[test]
fn fe_logit_without_outcome_variation_names_the_fixed_effect() {
    let df = df!(
        "y" => [0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
        "x" => [0.5, 1.0, -0.2, 0.3, 2.0, 1.1],
        "ccode" => [2i64, 2, 20, 20, 31, 31]
    )
    .unwrap();
    let e = fit(&df, "y ~ x | ccode", Family::Logit, &FitOptions::default()).unwrap_err().to_string();
    assert!(e.contains("all 6 rows are separated") && e.contains("`ccode`") && e.contains("`y` never varies"), "{e}");
}

/// Separation by a regressor within fixed effects: the rectifier finds it
/// where the fixed-effects rule cannot, and the estimate then equals the fit
/// on the rows left.
#[test]
fn the_rectifier_drops_rows_separated_by_regressors_and_fixed_effects() {
    // Within each group, d = 1 only on y = 0 rows: d's coefficient runs off.
    let df = df!(
        "y" => [0.0, 1.0, 2.0, 0.0, 3.0, 1.0, 0.0, 2.0, 4.0, 1.0],
        "d" => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        "x" => [0.3, 1.2, -0.5, 0.8, 0.1, 0.9, -1.0, 0.4, 1.5, -0.3],
        "g" => [1i64, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    )
    .unwrap();
    let (f, design) = fit_with_design(&df, "y ~ x + d | g", Family::Poisson, &FitOptions::default()).unwrap();
    assert_eq!(f.dropped.separated_simplex + f.dropped.separated_relu, 2, "{:?}", f.dropped);
    assert!(!design.rows.contains(&0) && !design.rows.contains(&3));
    assert_eq!(f.dropped.collinear, ["d"]);
    let rest = df.slice(0, 10).filter(&df.column("d").unwrap().f64().unwrap().equal(0.0)).unwrap();
    let g = fit(&rest, "y ~ x | g", Family::Poisson, &FitOptions::default()).unwrap();
    let (a, b) = (f.coef("x").unwrap(), g.coef("x").unwrap());
    assert!((a.estimate - b.estimate).abs() < 1e-10 && (a.std_error - b.std_error).abs() < 1e-10);
}

/// The same on the command line: exit 1, the fixed effect named; and a
/// Poisson fit reports its separated rows by rule in the printed summary.
#[test]
fn the_command_line_reports_separation() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("flat.csv");
    std::fs::write(&csv, "y,x,ccode\n0,0.5,2\n0,1.0,2\n1,-0.2,20\n1,0.3,20\n0,2.0,31\n0,1.1,31\n").unwrap();
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_concord")).args(args).output().unwrap();
    let out = run(&["fit", csv.to_str().unwrap(), "--formula", "y ~ x | ccode", "--family", "logit"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`ccode`") && err.contains("never varies"), "{err}");
    let sep = fixtures().join("16.csv");
    let out = run(&["fit", sep.to_str().unwrap(), "--formula", "y ~ x1 + x2 + x3", "--family", "poisson"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("separation: 0 rows by the fixed-effects rule, "), "{text}");
    assert!(text.contains("observations: 71 of 100"), "{text}");
}
