//! `concord plot` on small tables: what each command draws, and what it refuses
//! (exit 1 with the reason, no figure written).

mod common;

use common::concord;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// A state-year-like table: three states over six years.
fn unit_year(dir: &Path) -> String {
    let mut csv = String::from("ccode,year,igo_full,mid_onset\n");
    for y in 1988..=1993 {
        for (c, base) in [(2, 40), (200, 50), (365, 20)] {
            csv.push_str(&format!("{c},{y},{},{}\n", base + (y - 1988) * 2, (c + y) % 2));
        }
    }
    write(dir, "sy.csv", &csv)
}

#[test]
fn trends_refuse_a_unit_year_panel_unless_aggregated() {
    let dir = tempfile::tempdir().unwrap();
    let data = unit_year(dir.path());
    let out = dir.path().join("t");
    let (code, _, err) = concord(&["plot", "trends", &data, "--vars", "igo_full", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("3 rows have year 1988") && err.contains("--aggregate"), "{err}");
    assert!(!out.with_extension("svg").exists());
    // Aggregated: yearly means with their interquartile range, units per year.
    let (code, stdout, err) = concord(&[
        "plot",
        "trends",
        &data,
        "--aggregate",
        "--vars",
        "igo_full,mid_onset",
        "--events",
        "1989-1991=End of Cold War",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("t.svg") && stdout.contains("t.png"), "{stdout}");
    let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
    for text in ["(IQR across units)", "Units per year", "End of Cold War"] {
        assert!(svg.contains(text), "`{text}` missing");
    }
    // --aggregate needs the variables it summarises.
    let (code, _, err) = concord(&["plot", "trends", &data, "--aggregate", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("--aggregate needs --vars"), "{err}");
}

#[test]
fn trends_draw_the_columns_named_and_name_the_ones_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("year,mean_igo_full,q25_igo_full,q75_igo_full,wars\n");
    for y in 1946..=2014 {
        let m = 20.0 + f64::from(y - 1946) * 0.6;
        let wars = if y > 2007 { String::new() } else { ((y % 3) as i64).to_string() };
        csv.push_str(&format!("{y},{m},{},{},{wars}\n", m - 8.0, m + 9.0));
    }
    let data = write(dir.path(), "system.csv", &csv);
    let out = dir.path().join("t");
    let o = out.to_str().unwrap();
    let (code, _, err) = concord(&["plot", "trends", &data, "--vars", "mean_igo_full,wars", "--out", o]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
    // The default events, the label from the dictionary, the data span of wars.
    for text in ["End of Cold War", "CWC", "9/11", "Mean full IGO memberships", "data 1946-2007"] {
        assert!(svg.contains(text), "`{text}` missing");
    }
    let (code, _, err) = concord(&["plot", "trends", &data, "--vars", "warz", "--out", o]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `warz` (did you mean `wars`?)"), "{err}");
    let (code, _, err) = concord(&["plot", "trends", &data, "--events", "1993", "--out", o]);
    assert_eq!(code, 1);
    assert!(err.contains("--events: event `1993`: write YEAR=label"), "{err}");
}

const SIM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");

/// `concord fit SIM --formula F --family logit --json json`, which must succeed.
fn save_logit(formula: &str, json: &Path) {
    let (code, _, err) =
        concord(&["fit", SIM, "--formula", formula, "--family", "logit", "--json", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

/// The first case of tests/reference/margins.json (statsmodels, finite differences).
fn margins_case() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/margins.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = all["cases"][0].clone();
    assert_eq!(case["formula"], "ybin ~ x1*d + poly(x2, 2)");
    case
}

#[test]
fn a_saved_fit_predicts_what_the_fit_predicts() {
    use concord::estimate::saved::SavedFit;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fit.json");
    let case = margins_case();
    let formula = case["formula"].as_str().unwrap();
    save_logit(formula, &json);
    let df = concord::data::read::read_table(SIM.as_ref()).unwrap();
    let m = SavedFit::from_file(&json).unwrap().margins(&df, None).unwrap();
    // The reference's counterfactual predictions, from the saved coefficients and covariance.
    for p in case["predictions"].as_array().unwrap() {
        let set: Vec<(&str, f64)> =
            p["set"].as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_f64().unwrap())).collect();
        let got = m.predict(&set).unwrap();
        let want: Vec<f64> = p["prediction"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!((got.estimate - want[0]).abs() < 1e-6 * want[0], "{set:?}: {} vs {}", got.estimate, want[0]);
        assert!((got.std_error - want[1]).abs() < 1e-4 * want[1], "{set:?}: {} vs {}", got.std_error, want[1]);
    }
    // A 0/1 variable is drawn as two points, each the counterfactual average.
    let req = concord::report::predict::PredictRequest { vary: "d", by: None, outcome: "ybin", title: "" };
    let fig = concord::report::predict::prediction_plot(&m, &req, &Default::default()).unwrap();
    assert!(fig.discrete);
    let pts = &fig.series[0].points;
    assert_eq!(pts.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0.0, 1.0]);
    for p in pts {
        let want = m.predict(&[("d", p.0)]).unwrap();
        assert_eq!(p.1, want.estimate);
        assert!(p.2 > 0.0 && p.2 < p.1 && p.1 < p.3 && p.3 < 1.0, "interval inside (0, 1): {p:?}");
    }
    // --by: one series per value of a 0/1 variable, at the percentiles of a continuous one.
    let req = concord::report::predict::PredictRequest { vary: "x1", by: Some("d"), outcome: "ybin", title: "" };
    let fig = concord::report::predict::prediction_plot(&m, &req, &Default::default()).unwrap();
    assert_eq!(fig.series.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), vec!["d = 0", "d = 1"]);
    assert!(!fig.discrete && fig.series.iter().all(|s| s.points.len() == 41));
    let (x, e) = (fig.series[1].points[7].0, fig.series[1].points[7].1);
    assert_eq!(e, m.predict(&[("x1", x), ("d", 1.0)]).unwrap().estimate);
    let req = concord::report::predict::PredictRequest { vary: "d", by: Some("x1"), outcome: "ybin", title: "" };
    let fig = concord::report::predict::prediction_plot(&m, &req, &Default::default()).unwrap();
    assert_eq!(fig.series.len(), 3);
    assert!(fig.series[0].label.starts_with("x1 = ") && fig.series[0].label.ends_with("(10th pct.)"));
}

#[test]
fn plot_predict_from_a_formula_or_a_saved_fit_draws_the_same_figure() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fit.json");
    let formula = "ybin ~ x1*d + poly(x2, 2)";
    save_logit(formula, &json);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let args = ["plot", "predict", SIM, "--vary", "x1", "--by", "d"];
    let (code, _, err) = concord(&[&args[..], &["--formula", formula, "--out", a.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        concord(&[&args[..], &["--fit", json.to_str().unwrap(), "--out", b.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{err}");
    let (sa, sb) = (
        std::fs::read_to_string(a.with_extension("svg")).unwrap(),
        std::fs::read_to_string(b.with_extension("svg")).unwrap(),
    );
    assert_eq!(sa, sb);
    assert!(sa.contains("d = 0") && sa.contains("d = 1") && sa.contains("Pr(ybin)"));
    // A 0/1 variable: points (circles), not a band.
    let c = dir.path().join("c");
    let (code, _, err) = concord(&[
        "plot",
        "predict",
        SIM,
        "--fit",
        json.to_str().unwrap(),
        "--vary",
        "d",
        "--out",
        c.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(c.with_extension("svg")).unwrap().contains("<circle"));
}

#[test]
fn plot_predict_refuses_what_it_cannot_draw() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("p");
    let o = o.to_str().unwrap();
    let fe = dir.path().join("fe.json");
    save_logit("ybin ~ x1 + d | unit", &fe);
    let (code, _, err) = concord(&["plot", "predict", SIM, "--fit", fe.to_str().unwrap(), "--vary", "x1", "--out", o]);
    assert_eq!(code, 1);
    assert!(err.contains("fixed effects (unit)") && err.contains("pass --formula"), "{err}");
    // The same model from its formula: fixed effects held at their estimates.
    let (code, _, err) = concord(&[
        "plot",
        "predict",
        SIM,
        "--formula",
        "ybin ~ x1 + d | unit",
        "--vary",
        "x1",
        "--by",
        "d",
        "--out",
        o,
    ]);
    assert_eq!(code, 0, "{err}");
    let base = ["plot", "predict", SIM, "--formula", "ybin ~ x1 + d", "--out", o];
    let (code, _, err) = concord(&[&base[..], &["--vary", "x9"]].concat());
    assert_eq!(code, 1);
    assert!(err.contains("no variable `x9` in the model (variables: x1, d)"), "{err}");
    let (code, _, err) = concord(&[&base[..], &["--vary", "x1", "--by", "x1"]].concat());
    assert_eq!(code, 1);
    assert!(err.contains("--by `x1` is the variable varied"), "{err}");
    // A saved fit on other data: the sample does not match.
    let sub = write(
        dir.path(),
        "half.csv",
        &std::fs::read_to_string(SIM).unwrap().lines().take(900).collect::<Vec<_>>().join("\n"),
    );
    let fit = dir.path().join("fit.json");
    save_logit("ybin ~ x1 + d", &fit);
    let (code, _, err) =
        concord(&["plot", "predict", &sub, "--fit", fit.to_str().unwrap(), "--vary", "x1", "--out", o]);
    assert_eq!(code, 1);
    assert!(err.contains("the data give 899 rows for `ybin ~ x1 + d`, the fit has 1800"), "{err}");
}

#[test]
fn a_saved_fit_with_terms_the_data_do_not_give_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fit.json");
    save_logit("ybin ~ x1 + d", &json);
    // A fit of the same rows with one more term (as another coding of a factor would give).
    let mut fit: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut extra = fit["coefficients"][0].clone();
    extra["term"] = "region::2".into();
    fit["coefficients"].as_array_mut().unwrap().push(extra);
    let k = fit["coefficients"].as_array().unwrap().len();
    let rows = fit["vcov_matrix"].as_array_mut().unwrap();
    for r in rows.iter_mut() {
        r.as_array_mut().unwrap().push(0.0.into());
    }
    rows.push(serde_json::Value::Array(vec![0.0.into(); k]));
    std::fs::write(&json, serde_json::to_string(&fit).unwrap()).unwrap();
    let out = dir.path().join("p");
    let (code, _, err) = concord(&[
        "plot",
        "predict",
        SIM,
        "--fit",
        json.to_str().unwrap(),
        "--vary",
        "x1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("the fit has term(s) the data do not give: region::2"), "{err}");
    // --family belongs to --formula.
    let (code, _, err) = concord(&[
        "plot",
        "predict",
        SIM,
        "--fit",
        json.to_str().unwrap(),
        "--family",
        "probit",
        "--vary",
        "x1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "a usage error: {err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn kaplan_meier_curves_that_cannot_be_told_apart_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("t,e,g\n");
    for i in 0..70 {
        csv.push_str(&format!("{},{},{}\n", i % 9 + 1, i % 2, i % 7));
    }
    let data = write(dir.path(), "spells.csv", &csv);
    let out = dir.path().join("km");
    let (code, _, err) =
        concord(&["plot", "km", &data, "--time", "t", "--event", "e", "--by", "g", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("7 groups: at most 6 curves are told apart"), "{err}");
    assert!(!out.with_extension("svg").exists());
}
