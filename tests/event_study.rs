//! Event studies of the study layer (`[[event_study]]`): concord equals
//! pyfixest on a seeded ICC-like panel (tests/reference/event_study_icc.py),
//! study files with mistakes get errors naming the event study, the rule for
//! units whose treatment switches off, and the files a run writes; and the
//! flagship's ICC event study on the real state-year panel equals pyfixest
//! (tests/reference/event_study_icc_real.py) to 1e-8.

mod common;

use std::path::{Path, PathBuf};

use concord::data::read::read_table;
use concord::study::event_study::{estimate, EventStudyResult, EventStudySpec, SwitchingOff};
use concord::study::{self, RunOptions, Study};
use polars::prelude::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/event_study_icc.csv")
}

fn reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("tests/reference/event_study_icc.json")).unwrap())
        .unwrap()
}

fn spec(extra: &str) -> EventStudySpec {
    toml::from_str(&format!(
        "name = \"icc\"\nlevel = \"state-year\"\ntreatment = \"icc_member\"\noutcome = \"mid_onset\"\nwindow = 4\n{extra}"
    ))
    .unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// The formula, rows, clusters and roles of the units equal the reference's.
fn assert_same_sample(r: &EventStudyResult, want: &serde_json::Value) {
    assert_eq!(r.formula, want["formula"].as_str().unwrap());
    assert_eq!(r.nobs as u64, want["nobs"].as_u64().unwrap());
    assert_eq!(r.clusters.map(|g| g as u64), want["clusters"].as_u64());
    assert_eq!(r.units_treated as u64, want["units_treated"].as_u64().unwrap());
    assert_eq!(r.units_never_treated as u64, want["units_never_treated"].as_u64().unwrap());
    let always: Vec<i64> =
        want["units_always_treated"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(r.units_always_treated, always, "the units treated from their first year");
}

#[test]
fn coefficients_pre_trend_and_post_mean_equal_pyfixest() {
    let want = reference();
    let df = read_table(&fixture()).unwrap();
    let r = estimate(&spec(""), &df, (1990, 2014), 0.95, 0.05).unwrap();
    assert_eq!(r.vcov, want["vcov"].as_str().unwrap());
    assert_same_sample(&r, &want);
    assert!(r.units_switching_off.is_empty());
    assert_eq!(r.cohorts.values().sum::<usize>(), r.units_treated);

    // Every period's coefficient and clustered s.e., to 1e-6.
    let coefs = want["coefficients"].as_object().unwrap();
    let fit = r.fit.as_ref().unwrap();
    assert_eq!(fit.coefficients.len(), coefs.len());
    let labels: Vec<&str> = r.periods.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["≤-4", "-3", "-2", "-1", "0", "1", "2", "3", "≥4"]);
    for p in &r.periods {
        if p.reference {
            assert_eq!((p.period, p.estimate), (-1, None));
            assert!(!coefs.contains_key(&p.term));
            continue;
        }
        let w = &coefs[&p.term];
        let (e, se) = (w["estimate"].as_f64().unwrap(), w["std_error"].as_f64().unwrap());
        let (got, got_se) = (p.estimate.unwrap(), p.std_error.unwrap());
        assert!((got - e).abs() < 1e-6, "{}: {got} vs pyfixest {e}", p.term);
        assert!((got_se - se).abs() < 1e-6, "{}: s.e. {got_se} vs pyfixest {se}", p.term);
        assert!(p.conf_low.unwrap() < got && got < p.conf_high.unwrap());
        assert!(p.treated_rows > 0, "{}", p.term);
    }

    // The pre-trend test: pyfixest's Wald statistic of the three leads / 3, on F(3, G - 1).
    let pt = &want["pre_trend"];
    let t = r.pre_trend.as_ref().unwrap();
    let leads: Vec<&str> = pt["leads"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(t.leads, leads);
    assert!(close(t.statistic, pt["f"].as_f64().unwrap(), 1e-6), "F {} vs {}", t.statistic, pt["f"]);
    assert!(close(t.statistic * t.df1, pt["wald_chi2"].as_f64().unwrap(), 1e-6));
    assert_eq!((t.df1, t.df2), (pt["df1"].as_f64().unwrap(), pt["df2"].as_f64()));
    assert_eq!(t.distribution, "F");
    assert!((t.p_value - pt["p_value"].as_f64().unwrap()).abs() < 1e-6, "p {} vs {}", t.p_value, pt["p_value"]);
    assert_eq!(t.failed, t.p_value < 0.05);

    // The post-period mean of 0..4 and its s.e. from the clustered vcov.
    let pm = &want["post_mean"];
    let m = r.post_mean.as_ref().unwrap();
    assert_eq!(m.periods.len(), 5);
    assert!((m.estimate - pm["estimate"].as_f64().unwrap()).abs() < 1e-6, "{} vs {}", m.estimate, pm["estimate"]);
    assert!((m.std_error - pm["std_error"].as_f64().unwrap()).abs() < 1e-6, "{} vs {}", m.std_error, pm["std_error"]);
}

/// A study on the fixture panel with one hypothesis and the event study.
fn study_text(panel: &Path, event_study: &str) -> String {
    format!(
        r#"
name = "es"
title = "event study"
[data]
from = 1990
to = 2014
panel = "{}"
[[hypotheses]]
id = "H1"
claim = "ICC membership is associated with fewer MID onsets"
level = "state-year"
outcome = "mid_onset"
cause = "icc_member"
direction = "negative"
family = "gaussian"
fixed_effects = ["unit", "time"]
vcov = "cluster:unit"
{event_study}"#,
        panel.display()
    )
}

const ICC: &str = r#"
[[event_study]]
name = "icc"
level = "state-year"
treatment = "icc_member"
outcome = "mid_onset"
window = 4
"#;

#[test]
fn a_study_run_writes_the_json_the_figure_and_both_sections() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("es.toml");
    std::fs::write(&file, study_text(&fixture(), ICC)).unwrap();
    let s = Study::from_file(&file).unwrap();
    let mut r = study::run(&s, &RunOptions::default()).unwrap();
    assert_eq!(r.event_studies.len(), 1);
    let out = dir.path().join("out");
    let files = study::output::write(&mut r, &file, &out).unwrap();
    let report = concord::report::study::write(&s, &r, &out).unwrap();
    assert!(files.iter().chain(&report).all(|f| f.exists()));

    // event_study.json: the numbers of the direct fit, and the fit file.
    let direct = estimate(&spec(""), &read_table(&fixture()).unwrap(), (1990, 2014), 0.95, 0.05).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("event_study.json")).unwrap()).unwrap();
    let e = &json["event_studies"][0];
    assert_eq!(e["name"], "icc");
    assert_eq!(e["nobs"].as_u64().unwrap() as usize, direct.nobs);
    assert_eq!(e["pre_trend"]["statistic"].as_f64().unwrap(), direct.pre_trend.as_ref().unwrap().statistic);
    assert_eq!(e["post_mean"]["std_error"].as_f64().unwrap(), direct.post_mean.as_ref().unwrap().std_error);
    assert_eq!(e["periods"][0]["label"], "≤-4");
    assert_eq!(e["periods"][3]["reference"], true);
    assert_eq!(e["units_always_treated"].as_array().unwrap().len(), 6);
    assert!(out.join(e["fit_file"].as_str().unwrap()).is_file());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"event_study.json\""), "listed in the manifest");

    // The figure: reference marked, end bins labelled.
    let svg = std::fs::read_to_string(out.join("figures/event_icc.svg")).unwrap();
    for text in ["≤−4", "≥4", "reference", "Years relative to the first year with ICC member = 1"] {
        assert!(svg.contains(text), "the figure lacks {text}");
    }
    assert!(image::open(out.join("figures/event_icc.png")).is_ok());

    // verdicts.md and index.html say what the tests found, in words.
    let md = std::fs::read_to_string(out.join("verdicts.md")).unwrap();
    let t = direct.pre_trend.as_ref().unwrap();
    assert!(md.contains("## Event studies") && md.contains("### icc: `mid_onset` around `icc_member` = 1"), "{md}");
    assert!(md.contains(&format!("F(3, {}) = {:.2}", t.df2.unwrap(), t.statistic)), "{md}");
    assert!(md.contains("| ≤-4 |") && md.contains("| -1 (reference) | 0 |") && md.contains("| ≥4 |"), "{md}");
    assert!(md.contains("is associated with") || md.contains("is not significantly associated with"), "{md}");
    assert!(md.contains("6 units treated in their first recorded year"), "{md}");
    assert!(!md.contains("causes") && !md.contains("effect of joining"), "association language: {md}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("<h2 id=\"event-studies\">Event studies</h2>") && html.contains("href=\"#event-studies\""));
    assert!(html.contains("<img src=\"figures/event_icc.png\""), "the figure is shown");
    assert!(html.contains("Pre-trend test") && html.contains("≥4"));
}

#[test]
fn a_failed_pre_trend_test_is_stated_as_failed() {
    let df = read_table(&fixture()).unwrap();
    let mut r = estimate(&spec(""), &df, (1990, 2014), 0.95, 0.05).unwrap();
    // The same fit judged at a level where its pre-trend p is below alpha.
    let p = r.pre_trend.as_ref().unwrap().p_value;
    for (alpha, failed) in [(p * 1.01, true), (p * 0.99, false)] {
        let t = r.pre_trend.as_mut().unwrap();
        t.failed = p < alpha;
        r.alpha = alpha;
        assert_eq!(r.pre_trend.as_ref().unwrap().failed, failed);
        let text = concord::study::event_study::sentences(&r).join("\n");
        assert_eq!(text.contains("**The pre-trend test fails**"), failed, "{text}");
        assert_eq!(text.contains("no evidence of an effect"), failed, "{text}");
        assert_eq!(text.contains("does not reject parallel pre-trends"), !failed, "{text}");
        assert!(text.contains("associations, not effects"), "{text}");
    }
}

#[test]
fn study_files_with_mistakes_name_the_event_study() {
    let panel = fixture();
    // An unknown key: serde names it and the line.
    let e = Study::from_toml(&study_text(&panel, &ICC.replace("window = 4", "window = 4\nfe = [\"unit\"]")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `fe`") && e.contains("line 25"), "{e}");
    // A missing key.
    let e = Study::from_toml(&study_text(&panel, &ICC.replace("treatment = \"icc_member\"\n", "")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing field `treatment`"), "{e}");
    // Checks without data name the section.
    let e = Study::from_toml(&study_text(&panel, &ICC.replace("window = 4", "window = 1"))).unwrap_err().to_string();
    assert!(e.contains("event_study `icc`: window = 1 must be at least 2"), "{e}");
    let e = Study::from_toml(&study_text(&panel, &format!("{ICC}{ICC}"))).unwrap_err().to_string();
    assert!(e.contains("event_study `icc`: the name is used twice"), "{e}");
    let e = Study::from_toml(&study_text(&panel, &ICC.replace("window = 4", "window = 4\nyears = [1980, 2000]")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("event_study `icc`: years = [1980, 2000] are outside the study's 1990-2014"), "{e}");
    // A treatment that is not a column: the check before fitting names it
    // and the nearest column, and nothing is fitted.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("es.toml");
    std::fs::write(&file, study_text(&panel, &ICC.replace("\"icc_member\"", "\"icc_membr\""))).unwrap();
    let s = Study::from_file(&file).unwrap();
    let e = study::run(&s, &RunOptions::default()).unwrap_err().to_string();
    assert!(e.contains("nothing was fitted"), "{e}");
    assert!(
        e.contains("event_study `icc`: treatment `icc_membr` is not a column of the state-year panel; did you mean `icc_member`?"),
        "{e}"
    );
    // The same from the fit itself, for a caller without the check.
    let df = read_table(&panel).unwrap();
    let bad = EventStudySpec { treatment: "icc_membr".into(), ..spec("") };
    let e = estimate(&bad, &df, (1990, 2014), 0.95, 0.05).unwrap_err().to_string();
    assert!(e.starts_with("event_study `icc`: treatment `icc_membr` is not a column"), "{e}");
    // A treatment that is not 0/1.
    let bad = EventStudySpec { treatment: "year".into(), ..spec("") };
    let e = estimate(&bad, &df, (1990, 2014), 0.95, 0.05).unwrap_err().to_string();
    assert!(e.contains("the treatment `year` is 1990 for unit 10 in 1990: it must be 0 or 1"), "{e}");
}

/// Eight states over 2000-2011: 1-3 join in 2003, 2005 and 2006, 4 is a
/// member from its first year, 5 joins in 2003 and leaves in 2008, 6-8 never
/// join; the outcome varies without a pattern.
fn switching_panel() -> DataFrame {
    let (mut c, mut y, mut t, mut o) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for unit in 1..=8i64 {
        for year in 2000..=2011i64 {
            let on = match unit {
                1 => year >= 2003,
                2 => year >= 2005,
                3 => year >= 2006,
                4 => true,
                5 => (2003..2008).contains(&year),
                _ => false,
            };
            c.push(unit);
            y.push(year);
            t.push(i64::from(on));
            o.push(((unit * 7 + year * 3 + unit * year) % 5) as f64 / 4.0);
        }
    }
    df!("ccode" => c, "year" => y, "icc_member" => t, "mid_onset" => o).unwrap()
}

#[test]
fn units_that_switch_off_stop_the_run_or_are_dropped_and_listed() {
    let df = switching_panel();
    // By default: an error naming the unit and its years.
    let e = estimate(&spec(""), &df, (2000, 2011), 0.95, 0.05).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "event_study `icc`: the treatment `icc_member` switches off in 1 unit: ccode 5 (1 in 2003, 0 in 2008)"
        ),
        "{e}"
    );
    assert!(e.contains("switching_off = \"drop\""), "{e}");
    // With "drop": left out and listed, the same fit as without its rows;
    // the member from its first year is left out too.
    let dropped = spec("switching_off = \"drop\"");
    assert_eq!(dropped.switching_off, SwitchingOff::Drop);
    let r = estimate(&dropped, &df, (2000, 2011), 0.95, 0.05).unwrap();
    assert_eq!((r.units_switching_off.clone(), r.units_always_treated.clone()), (vec![5], vec![4]));
    assert_eq!((r.units_treated, r.units_never_treated, r.nobs), (3, 3, 72));
    assert_eq!(r.cohorts.iter().map(|(y, n)| (*y, *n)).collect::<Vec<_>>(), [(2003, 1), (2005, 1), (2006, 1)]);
    let without = df.filter(&df.column("ccode").unwrap().as_materialized_series().not_equal(5).unwrap()).unwrap();
    let r2 = estimate(&spec(""), &without, (2000, 2011), 0.95, 0.05).unwrap();
    for (a, b) in r.periods.iter().zip(&r2.periods) {
        assert_eq!((a.estimate, a.std_error, a.treated_rows), (b.estimate, b.std_error, b.treated_rows));
    }
    // Event time: joiner 1 (2003) has 2000 at -3, 2007-2011 in the >=4 bin.
    let rows: Vec<(i64, usize)> = r.periods.iter().map(|p| (p.period, p.treated_rows)).collect();
    // -4 bin: unit 2 in 2000-2001, unit 3 in 2000-2002; +4 bin: 1 (5 years), 2 (3), 3 (2).
    assert_eq!(rows[0], (-4, 5));
    assert_eq!(rows[8], (4, 10));
    assert_eq!(rows.iter().map(|(_, n)| n).sum::<usize>(), 36, "every joiner row in one period");
    // Years restrict the rows before the event time: in 2004-2011, joiner 1
    // (2003) is a member from its first year and is left out.
    let later =
        estimate(&spec("switching_off = \"drop\"\nyears = [2004, 2011]"), &df, (2000, 2011), 0.95, 0.05).unwrap();
    assert_eq!(later.units_always_treated, [1, 4]);
    assert_eq!((later.years, later.units_treated), ((2004, 2011), 2));
}

#[test]
fn the_flagship_icc_event_study_equals_pyfixest_on_the_real_panel() {
    // tests/reference/event_study_icc_real.py: pyfixest 0.60 on the real
    // state-year panel (as `concord run` writes it), 1946-2014.
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/reference/event_study_icc_real.json")).unwrap(),
    )
    .unwrap();
    let r = estimate(&spec(""), common::state_year(), (1946, 2014), 0.95, 0.05).unwrap();
    // Always treated: Montenegro and East Timor, members from their first year.
    assert_same_sample(&r, &want);
    let coefs = want["coefficients"].as_object().unwrap();
    for p in r.periods.iter().filter(|p| !p.reference) {
        let w = &coefs[&p.period.to_string()];
        assert_eq!(w["term"].as_str().unwrap(), p.term);
        let (e, se) = (w["estimate"].as_f64().unwrap(), w["std_error"].as_f64().unwrap());
        assert!(close(p.estimate.unwrap(), e, 1e-8), "{}: {:?} vs pyfixest {e}", p.term, p.estimate);
        assert!(close(p.std_error.unwrap(), se, 1e-8), "{}: s.e. {:?} vs pyfixest {se}", p.term, p.std_error);
    }
    let (t, pt) = (r.pre_trend.as_ref().unwrap(), &want["pre_trend"]);
    assert!(close(t.statistic, pt["f"].as_f64().unwrap(), 1e-8), "F {} vs {}", t.statistic, pt["f"]);
    assert_eq!((t.df1, t.df2), (pt["df1"].as_f64().unwrap(), pt["df2"].as_f64()));
    assert!((t.p_value - pt["p_value"].as_f64().unwrap()).abs() < 1e-8 && t.failed);
    let (m, pm) = (r.post_mean.as_ref().unwrap(), &want["post_mean"]);
    assert!(close(m.estimate, pm["estimate"].as_f64().unwrap(), 1e-8), "{} vs {}", m.estimate, pm["estimate"]);
    assert!(close(m.std_error, pm["std_error"].as_f64().unwrap(), 1e-8), "{} vs {}", m.std_error, pm["std_error"]);
}
