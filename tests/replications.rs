//! The replications in studies/replications/ against an independent pandas
//! and statsmodels pipeline (tests/reference/replications.py ->
//! replications.json): the columns each replication adds (both sides of a
//! dyad, COW alliances, trade shares), the derived variables, the scaling by
//! two standard deviations and the logit, from the same base panel.

mod common;

use common::data_dir;
use concord::study::replication::{run, Replication};

fn reference(name: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/replications.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v[name].clone()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-8)
}

fn check(name: &str) -> concord::study::replication::ReplicationResult {
    let file = format!("{}/studies/replications/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let spec = Replication::from_file(file.as_ref()).unwrap();
    let r = run(&spec, &data_dir()).unwrap();
    let want = reference(name);
    assert_eq!(r.fit.nobs as u64, want["nobs"].as_u64().unwrap(), "{name}: rows used");
    assert_eq!(r.panel_rows as u64, want["panel_rows"].as_u64().unwrap(), "{name}: panel rows");
    let params = want["params"].as_object().unwrap();
    assert_eq!(r.fit.coefficients.len(), params.len(), "{name}: number of terms");
    for (term, b) in params {
        let c = r.fit.coef(term).unwrap_or_else(|| panic!("{name}: no term {term}"));
        let (b, s) = (b.as_f64().unwrap(), want["bse"][term].as_f64().unwrap());
        assert!(close(c.estimate, b, 1e-6), "{name} {term}: estimate {} vs statsmodels {b}", c.estimate);
        assert!(close(c.std_error, s, 1e-5), "{name} {term}: s.e. {} vs statsmodels {s}", c.std_error);
    }
    r
}

#[test]
fn bremer_dangerous_dyads_equal_the_pandas_statsmodels_pipeline() {
    let r = check("bremer");
    let want = reference("bremer");
    for s in &r.scaling {
        let w = &want["scaling"][&s.column];
        assert!(close(s.mean, w["mean"].as_f64().unwrap(), 1e-10), "{}: mean", s.column);
        assert!(close(s.sd, w["sd"].as_f64().unwrap(), 1e-10), "{}: sd", s.column);
        assert_eq!(s.n as u64, w["n"].as_u64().unwrap(), "{}: rows", s.column);
    }
    // The published comparison: every sign agrees, every estimate is within
    // two published standard errors (the report's summary line).
    assert_eq!((r.signs_agree, r.signs_compared), (9, 9));
    assert_eq!((r.within, r.within_compared), (9, 9));
}

#[test]
fn kantian_peace_equals_the_pandas_statsmodels_pipeline() {
    let r = check("kantian_peace");
    assert_eq!((r.signs_agree, r.signs_compared), (7, 8), "joint IGOs come out positive (see the report)");
    assert_eq!(r.within_compared, 0, "signs only: no published magnitudes");
}

#[test]
fn study_run_writes_the_comparison_and_refuses_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir();
    let file = format!("{}/studies/replications/bremer.toml", env!("CARGO_MANIFEST_DIR"));
    let out = dir.path().join("bremer");
    let (code, stdout, stderr) =
        common::concord(&["study", "run", &file, "--data-dir", data.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("N = 103968 (published 103919); signs agree on 9 of 9 terms; 9 of 9 within 2"), "{stdout}");
    for f in ["replication.md", "replication.html", "replication.json", "fit.json", "comparison.svg", "comparison.png"]
    {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let md = std::fs::read_to_string(out.join("replication.md")).unwrap();
    assert!(md.contains("| Land contiguity | 1.062 | (0.057) | 1.033 | (0.056) | \u{2212}0.029 |"), "{md}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let inputs: Vec<&str> = manifest["inputs"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap()).collect();
    for f in ["cow_alliance/cow_alliance_ddy.csv", "democracy/ccode_democracy.csv", "gdp_pop/cow_sdp_gdp.csv"] {
        assert!(inputs.contains(&f), "{f} in the manifest's inputs: {inputs:?}");
    }
    // A side column concord does not have, named with the nearest.
    let text = std::fs::read_to_string(&file).unwrap().replace("\"quds\"", "\"qudz\"");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    let (code, _, stderr) = common::concord(&[
        "study",
        "run",
        bad.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        dir.path().join("bad").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("`qudz` is not a state-year column") && stderr.contains("did you mean `quds`?"),
        "{stderr}"
    );
}

#[test]
fn sides_are_for_dyad_years_and_name_the_unknown_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir();
    let out = dir.path().join("p.parquet");
    let args = |unit: &'static str, sides: &'static str| {
        vec![
            "data".to_string(),
            "build".into(),
            "--unit".into(),
            unit.into(),
            "--from".into(),
            "2000".into(),
            "--to".into(),
            "2001".into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--sides".into(),
            sides.into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let run = |a: Vec<String>| common::concord(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let (code, _, stderr) = run(args("state-year", "cinc"));
    assert_eq!(code, 1);
    assert!(stderr.contains("--sides is for dyad-year panels"), "{stderr}");
    let (code, _, stderr) = run(args("dyad-year", "cinc,milpr"));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("`milpr` is not a state-year column") && stderr.contains("did you mean `milper`?"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written on an error");
    let (code, stdout, stderr) = run(args("dyad-year", "cinc,aeuds"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("dyad-year panel 2000-2001"), "{stdout}");
    let df = concord::data::read::read_table(&out).unwrap();
    // The US (2) and Canada (20) in 2000: each side gets its own state's value.
    let v = |c: &str| common::value(&df, &[("ccode1", 2), ("ccode2", 20), ("year", 2000)], c).unwrap();
    let nmc = |c: i64| {
        common::value(
            &concord::data::read::read_table(&data.join("cow_nmc/cow_nmc.csv")).unwrap(),
            &[("ccode", c), ("year", 2000)],
            "cinc",
        )
        .unwrap()
    };
    assert_eq!((v("cinc1"), v("cinc2")), (nmc(2), nmc(20)));
    assert!(v("aeuds1") > 0.0 && v("aeuds2") > 0.0);
}
