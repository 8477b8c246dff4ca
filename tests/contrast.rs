//! The period contrast of a link (`[contrast]`): the second difference of
//! the cause's average marginal effects against statsmodels with a
//! finite-difference delta method (tests/reference/contrast.py wrote
//! tests/reference/contrast.json and tests/fixtures/contrast.csv) for logit,
//! probit and least squares with year effects; and a study run with the
//! section writes contrast.json, the tables and the section, adjusts the
//! family, and lists a cause observed in one period as not estimable.

use concord::data::read::read_table;
use concord::estimate::Family;
use concord::study::contrast;
use concord::study::run::Spec;
use concord::study::spec::Level;
use concord::study::{RunOptions, Study};
use serde_json::Value;

/// Estimates: the reference's finite differences are good to about 1e-8;
/// standard errors go through a numerical Jacobian (about 1e-6).
const TOL_EST: f64 = 1e-6;
const TOL_SE: f64 = 1e-5;

fn close(what: &str, got: f64, want: &Value, tol: f64, failures: &mut Vec<String>) {
    let want = want.as_f64().unwrap_or_else(|| panic!("{what}: {want} is not a number"));
    if (got - want).abs() > tol * want.abs().max(1e-2) {
        failures.push(format!("{what}: concord {got:.10e}, reference {want:.10e}"));
    }
}

const STUDY: &str = r#"
name = "c"
title = "c"
[data]
from = 1970
to = 1989
[[periods]]
name = "early"
from = 1970
to = 1979
[[periods]]
name = "late"
from = 1980
to = 1989
[[hypotheses]]
id = "H"
claim = "c"
level = "state-year"
outcome = "y"
cause = "x"
direction = "negative"
family = "logit"
"#;

#[test]
fn second_differences_match_statsmodels_with_a_numerical_delta_method() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/contrast.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    let df = read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/contrast.csv").as_ref()).unwrap();
    let study = Study::from_toml(STUDY).unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["case"].as_str().unwrap();
        let family = match name {
            "logit" => Family::Logit,
            "probit" => Family::Probit,
            "gaussian" => Family::Gaussian,
            other => panic!("unknown case {other}"),
        };
        let spec = Spec {
            name: "contrast".into(),
            label: "contrast".into(),
            level: Level::StateYear,
            formula: "y ~ x + x:in_late + z | year".into(),
            family,
            vcov: "iid".into(),
            term: "x:in_late".into(),
            periods: vec!["early".into(), "late".into()],
            direction: None,
            subset: None,
        };
        let (nobs, inter, sd, _) = contrast::fit_link(&study, &df, &spec, "late").unwrap();
        assert_eq!(nobs as u64, case["nobs"].as_u64().unwrap(), "{name}");
        assert_eq!(
            (sd.n_first as u64, sd.n_second as u64),
            (case["n_first"].as_u64().unwrap(), case["n_second"].as_u64().unwrap())
        );
        for (what, got, tol) in [
            ("interaction", inter.estimate, TOL_EST),
            ("interaction_se", inter.std_error, TOL_SE),
            ("ame_first", sd.first.estimate, TOL_EST),
            ("ame_second", sd.second.estimate, TOL_EST),
            ("difference", sd.difference.estimate, TOL_EST),
            ("se_first", sd.first.std_error, TOL_SE),
            ("se_second", sd.second.std_error, TOL_SE),
            ("se_difference", sd.difference.std_error, TOL_SE),
        ] {
            close(&format!("{name} {what}"), got, &case[what], tol, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_study_reports_every_links_contrast_as_one_family() {
    let toml = r#"
name = "con"
title = "con"
seed = 7
[data]
from = 1960
to = 2000
[[periods]]
name = "early"
from = 1960
to = 1980
[[periods]]
name = "late"
from = 1981
to = 2000
[[hypotheses]]
id = "H1"
claim = "IGOs and alignment"
level = "state-year"
outcome = "unga_agree_majority"
cause = "igo_full"
controls = ["polity2", "cinc"]
direction = "positive"
family = "gaussian"
fixed_effects = ["unit", "time"]
vcov = "cluster:unit"
[[hypotheses]]
id = "H2"
claim = "alignment and MIDs"
level = "state-year"
outcome = "mid_onset"
cause = "unga_agree_majority"
controls = ["polity2", "cinc"]
direction = "negative"
family = "logit"
fixed_effects = ["time"]
vcov = "cluster:unit"
[[hypotheses]]
id = "H3"
claim = "a cause of the early years only"
level = "state-year"
outcome = "mid_onset"
cause = "early_x"
direction = "negative"
family = "logit"
fixed_effects = ["time"]
vcov = "cluster:unit"
[contrast]
compare = ["early", "late"]
"#;
    let s = Study::from_toml(toml).unwrap();
    let params = concord::data::simulate::SimParams { seed: 7, n_states: 40, n_dyad_states: 10, ..Default::default() };
    // A cause observed before 1980 only (its lag to 1980): no contrast.
    let mut panels =
        concord::study::run::load_panels(&s, &RunOptions { simulate: Some(params.clone()), ..Default::default() })
            .unwrap();
    let df = panels.frames.get_mut(&Level::StateYear).unwrap();
    let years = concord::panel::int_column(df, "year").unwrap();
    let early: Vec<Option<f64>> = years.iter().map(|y| (*y <= 1979).then_some((*y % 7) as f64)).collect();
    df.with_column(polars::prelude::Column::new("early_x".into(), early)).unwrap();
    let r = contrast::compute(&s, &panels.frames).unwrap();
    let names: Vec<&str> = r.links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["H4-H1", "H4-H2", "H4-H3"]);
    let (h1, h2, h3) = (&r.links[0], &r.links[1], &r.links[2]);
    // Least squares: the second difference is the interaction itself.
    let d1 = h1.second_difference.as_ref().unwrap();
    let i1 = h1.interaction.as_ref().unwrap();
    assert!(
        (d1.difference.estimate - i1.estimate).abs() < 1e-10 && (d1.difference.std_error - i1.std_error).abs() < 1e-10
    );
    assert_eq!(h1.term, "l(igo_full,1):in_late");
    // A logit: a probability-scale difference, not the log-odds one.
    let d2 = h2.second_difference.as_ref().unwrap();
    assert!(d2.difference.estimate.is_finite() && d2.difference.std_error > 0.0);
    assert_eq!(d2.n_first + d2.n_second, h2.nobs.unwrap());
    assert!(h3.error.as_ref().is_some_and(|e| e.contains("one period")), "{:?}", h3.error);
    assert_eq!(h3.verdict, concord::study::Verdict::NotEstimable);
    // Holm over the two estimable contrasts.
    let (p1, p2) = (h1.p_one_sided.unwrap(), h2.p_one_sided.unwrap());
    let adj = concord::inference::multiple::holm(&[p1, p2]);
    assert_eq!((h1.p_adjusted, h2.p_adjusted), (Some(adj[0]), Some(adj[1])));

    // Through a whole run: the files and the section.
    let opts = RunOptions { simulate: Some(params), ..Default::default() };
    let s2 = Study::from_toml(&toml.replace("cause = \"early_x\"", "cause = \"igo_full\"")).unwrap();
    let mut run = concord::study::run(&s2, &opts).unwrap();
    let c = run.contrast.as_ref().unwrap();
    assert_eq!(c.links.len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("con.toml");
    std::fs::write(&file, toml.replace("cause = \"early_x\"", "cause = \"igo_full\"")).unwrap();
    concord::study::output::write(&mut run, &file, dir.path()).unwrap();
    concord::report::study::write(&s2, &run, dir.path()).unwrap();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("contrast.json")).unwrap()).unwrap();
    assert_eq!(json["links"][0]["name"], "H4-H1");
    assert!(json["links"][1]["second_difference"]["difference"]["std_error"].as_f64().is_some());
    for ext in ["md", "html", "tex"] {
        let t = std::fs::read_to_string(dir.path().join(format!("tables/contrast.{ext}"))).unwrap();
        assert!(t.contains("H4-H2") && t.contains("second difference"), "{ext}: {t}");
    }
    let md = std::fs::read_to_string(dir.path().join("verdicts.md")).unwrap();
    assert!(md.contains("## The post-Cold War contrast, link by link"), "{md}");
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("id=\"contrast\"") && html.contains("href=\"#contrast\""));
}
