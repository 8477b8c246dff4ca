//! The measurement-validity table of the flagship study on the real panels,
//! against pandas/scipy (tests/reference/validity.py -> validity.json) at
//! 1e-10: coverage, every named case's value and percentile, and the
//! correlations within each pillar. Also: the [validity] keys are documented,
//! and the table is written beside the verdicts.

mod common;

use concord::study::{self, spec::Level, RunOptions, Study};
use serde_json::Value;

const TOL: f64 = 1e-10;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/validity.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(a: Option<f64>, b: &Value, what: &str) {
    match (a, b.as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!((a - b).abs() <= TOL * b.abs().max(1.0), "{what}: concord {a}, reference {b}"),
        (a, _) => panic!("{what}: concord {a:?}, reference {b}"),
    }
}

fn level(s: &str) -> Level {
    serde_json::from_value(Value::String(s.into())).unwrap()
}

#[test]
fn the_flagship_validity_table_matches_pandas() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/socialization.toml");
    let s = Study::from_file(&path).unwrap();
    let opts = RunOptions { data_dir: common::data_dir(), ..Default::default() };
    let panels = study::run::load_panels(&s, &opts).unwrap();
    let v = study::validity::compute(&s, &panels.frames).unwrap().expect("the study has [validity]");
    let r = reference();

    let cov = r["coverage"].as_array().unwrap();
    assert_eq!(v.measures.len(), cov.len());
    assert!(cov.len() >= 15, "every pillar measure at its level");
    for (m, c) in v.measures.iter().zip(cov) {
        let what = format!("{} {} {}", m.pillar, m.measure, m.level);
        assert_eq!(
            (m.pillar.as_str(), m.measure.as_str()),
            (c["pillar"].as_str().unwrap(), c["measure"].as_str().unwrap())
        );
        assert_eq!(m.level, level(c["level"].as_str().unwrap()), "{what}");
        assert_eq!(m.first_year, c["first_year"].as_i64(), "{what}");
        assert_eq!(m.last_year, c["last_year"].as_i64(), "{what}");
        assert_eq!(m.n as u64, c["n"].as_u64().unwrap(), "{what}");
        assert_eq!(m.unit_years as u64, c["unit_years"].as_u64().unwrap(), "{what}");
        assert_eq!(m.units as u64, c["units"].as_u64().unwrap(), "{what}");
        close(Some(m.share), &c["share"], &what);
    }

    let cases = r["cases"].as_array().unwrap();
    assert_eq!(v.cases.len(), cases.len());
    for (k, (c, p)) in v.cases.iter().zip(cases).enumerate() {
        let what = format!("case {} ({} {} {:?})", k + 1, c.measure, c.unit, c.years);
        assert_eq!(c.measure, p["measure"].as_str().unwrap(), "{what}");
        assert_eq!(c.level, level(p["level"].as_str().unwrap()), "{what}");
        let key: Vec<i64> = p["key"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        let ours: Vec<i64> = c.ccode.into_iter().chain(c.ccode1).chain(c.ccode2).collect();
        assert_eq!(ours, key, "{what}");
        assert_eq!(c.years_with_data as u64, p["years_with_data"].as_u64().unwrap(), "{what}");
        assert_eq!(c.compared as u64, p["compared"].as_u64().unwrap(), "{what}");
        close(c.value, &p["value"], &format!("{what} value"));
        close(c.percentile, &p["percentile"], &format!("{what} percentile"));
        assert!(c.value.is_some() == c.note.is_none(), "{what}: a note exactly when there is no value");
    }

    let cors = r["correlations"].as_array().unwrap();
    assert_eq!(v.correlations.len(), cors.len());
    for (c, p) in v.correlations.iter().zip(cors) {
        let what = format!("{} {} {} x {}", c.pillar, c.level, c.a, c.b);
        assert_eq!((c.a.as_str(), c.b.as_str()), (p["a"].as_str().unwrap(), p["b"].as_str().unwrap()));
        assert_eq!(c.level, level(p["level"].as_str().unwrap()), "{what}");
        assert_eq!(c.n as u64, p["n"].as_u64().unwrap(), "{what}");
        close(c.r, &p["r"], &what);
    }

    // The referee's face-validity point, as the table shows it: agreement
    // with the UNGA plurality puts Iran far above the USA (.89 against .20),
    // while the ideal-point distance puts the USA far from the median state.
    let case = |m: &str, unit: &str| v.cases.iter().find(|c| c.measure == m && c.unit == unit).unwrap();
    let (iran, usa) = (case("unga_agree_majority", "IRN"), case("unga_agree_majority", "USA"));
    assert!((iran.value.unwrap() - 0.885).abs() < 0.005 && (usa.value.unwrap() - 0.199).abs() < 0.005);
    assert!(case("ideal_dist_median", "USA").percentile.unwrap() > 95.0);
    assert_eq!(case("treaties_hr_cum", "SYR").value, Some(16.0));
    assert_eq!(case("treaties_hr_cum", "USA").value, Some(6.0));

    // Written: validity.json and the table in three formats.
    let out = tempfile::tempdir().unwrap();
    let files = study::validity::write(&v, out.path()).unwrap();
    assert_eq!(files.len(), 4);
    let md = std::fs::read_to_string(out.path().join("tables/validity.md")).unwrap();
    assert!(md.contains("**B. Named cases**") && md.contains("| unga_agree_majority | IRN | 1990–2014 |"), "{md}");
    let tex = std::fs::read_to_string(out.path().join("tables/validity.tex")).unwrap();
    assert!(tex.contains("$-$0.") && !tex.contains("−"), "LaTeX minus signs");
    let html = std::fs::read_to_string(out.path().join("tables/validity.html")).unwrap();
    assert!(html.contains("−0.") && html.contains("<table class=\"regression\">"));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("validity.json")).unwrap()).unwrap();
    assert_eq!(json["cases"].as_array().unwrap().len(), cases.len());
}

#[test]
fn the_validity_keys_are_documented() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/study-file.md")).unwrap();
    for k in ["validity", "pillars", "cases", "measure", "ccode", "ccode1", "ccode2", "year", "years", "expect"] {
        assert!(doc.contains(&format!("`{k}`")), "docs/study-file.md does not document `{k}`");
    }
}
