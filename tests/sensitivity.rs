//! Sensitivity to omitted confounding (Cinelli & Hazlett 2020) against
//! PySensemakr (tests/reference/sensitivity.py wrote
//! tests/reference/sensitivity.json and tests/fixtures/sensitivity.csv):
//! least squares, with absorbed fixed effects, and the linear-probability
//! re-fit of a logit with fixed effects (the logit's rows). Partial R², RV_1,
//! RV_{1,0.05}, the benchmarks' partial R² and the bounds at 1x, 2x and 3x
//! agree to 1e-8. Also: a study run writes sensitivity.json, the tables and
//! the section of verdicts.md.

use concord::data::read::read_table;
use concord::estimate::Family;
use concord::study::run::Spec;
use concord::study::spec::Level;
use concord::study::{sensitivity, RunOptions, Study};
use serde_json::Value;

const TOL: f64 = 1e-8;

fn close(what: &str, got: f64, want: &Value, failures: &mut Vec<String>) {
    let want = want.as_f64().unwrap_or_else(|| panic!("{what}: {want} is not a number"));
    if (got - want).abs() > TOL * want.abs().max(1.0) {
        failures.push(format!("{what}: concord {got:.12e}, sensemakr {want:.12e}"));
    }
}

fn study() -> Study {
    Study::from_toml(
        r#"
name = "s"
title = "s"
[data]
from = 2000
to = 2009
[[hypotheses]]
id = "H"
claim = "c"
level = "state-year"
outcome = "y"
cause = "d"
direction = "positive"
family = "gaussian"
"#,
    )
    .unwrap()
}

#[test]
fn sensitivity_matches_pysensemakr() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/sensitivity.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    let df = read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sensitivity.csv").as_ref()).unwrap();
    let s = study();
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let outcome = case["outcome"].as_str().unwrap();
        let (formula, family) = match id {
            "ols" => (format!("{outcome} ~ d + x1 + x2"), Family::Gaussian),
            "fe" => (format!("{outcome} ~ d + x1 + x2 | region"), Family::Gaussian),
            // The logit main link: its linear-probability re-fit on the rows
            // the logit keeps (region 0 has no event).
            "lpm_fe" => (format!("{outcome} ~ d + x1 + x2 | region"), Family::Logit),
            other => panic!("unknown case {other}"),
        };
        let spec = Spec {
            name: "main".into(),
            label: "main".into(),
            level: Level::StateYear,
            formula,
            family,
            vcov: "cluster:ccode".into(),
            term: "d".into(),
            periods: Vec::new(),
            direction: None,
            subset: None,
        };
        let bench = [("x1".to_string(), "x1".to_string()), ("x2".to_string(), "x2".to_string())];
        let l = sensitivity::link(&s, &df, &spec, &bench, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(l.nobs as u64, case["nobs"].as_u64().unwrap(), "{id}");
        let st = &l.stats;
        for (what, got) in [
            ("dof", st.dof),
            ("estimate", st.estimate),
            ("std_error", st.std_error),
            ("t_statistic", st.t_statistic),
            ("partial_r2", st.partial_r2),
            ("rv_q", st.rv_q),
            ("rv_qa", st.rv_qa),
        ] {
            close(&format!("{id} {what}"), got, &case[what], &mut failures);
        }
        let want_b = case["benchmarks"].as_array().unwrap();
        assert_eq!(l.benchmarks.len(), want_b.len(), "{id}");
        for (b, w) in l.benchmarks.iter().zip(want_b) {
            assert_eq!(b.covariate, w["covariate"].as_str().unwrap());
            close(&format!("{id} {} r2dxj_x", b.covariate), b.r2dxj_x, &w["r2dxj_x"], &mut failures);
            close(&format!("{id} {} r2yxj_dx", b.covariate), b.r2yxj_dx, &w["r2yxj_dx"], &mut failures);
        }
        let want = case["bounds"].as_array().unwrap();
        assert_eq!(l.bounds.len(), want.len(), "{id}: {:?}", l.notes);
        for (b, w) in l.bounds.iter().zip(want) {
            assert_eq!(b.label, w["label"].as_str().unwrap(), "{id}");
            for (what, got) in [
                ("r2dz_x", b.r2dz_x),
                ("r2yz_dx", b.r2yz_dx),
                ("adjusted_estimate", b.adjusted_estimate),
                ("adjusted_se", b.adjusted_se),
                ("adjusted_t", b.adjusted_t),
                ("adjusted_lower", b.adjusted_lower),
                ("adjusted_upper", b.adjusted_upper),
            ] {
                close(&format!("{id} {} {what}", b.label), got, &w[what], &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_study_reports_the_sensitivity_of_its_main_links() {
    let toml = r#"
name = "sens"
title = "sens"
seed = 5
[data]
from = 1960
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
claim = "counts"
level = "state-year"
outcome = "mid_onset"
cause = "igo_full"
direction = "negative"
family = "poisson"
[sensitivity]
benchmarks = ["cinc"]
multiples = [1, 2]
"#;
    let s = Study::from_toml(toml).unwrap();
    let params = concord::data::simulate::SimParams { seed: 5, n_states: 40, n_dyad_states: 10, ..Default::default() };
    let opts = RunOptions { simulate: Some(params), ..Default::default() };
    let mut r = concord::study::run(&s, &opts).unwrap();
    let sens = &r.sensitivity;
    let ids: Vec<&str> = sens.links.iter().map(|l| l.hypothesis.as_str()).collect();
    assert_eq!(ids, ["H1", "H2"]);
    assert_eq!(sens.skipped.len(), 1);
    assert!(sens.skipped[0].reason.contains("poisson"), "{:?}", sens.skipped);
    let (h1, h2) = (&sens.links[0], &sens.links[1]);
    assert_eq!((h1.model.as_str(), h2.model.as_str()), ("least squares", "linear probability"));
    // The least-squares estimate is the main model's; only the standard error differs (iid).
    assert!((h1.stats.estimate - r.hypotheses[0].main.estimate.unwrap()).abs() < 1e-10);
    assert_eq!(Some(h1.nobs), r.hypotheses[0].main.nobs);
    assert_eq!(Some(h2.nobs), r.hypotheses[1].main.nobs, "the logit's rows: {:?}", h2.notes);
    for l in [h1, h2] {
        assert!(l.stats.rv_qa <= l.stats.rv_q && l.stats.rv_q < 1.0);
        assert_eq!(l.bounds.len(), 2, "cinc at 1x and 2x: {:?}", l.notes);
        assert_eq!(l.bounds[1].label, "2x cinc");
        assert_eq!(l.benchmarks[0].covariate, "cinc");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sens.toml");
    std::fs::write(&file, toml).unwrap();
    concord::study::output::write(&mut r, &file, dir.path()).unwrap();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sensitivity.json")).unwrap()).unwrap();
    assert_eq!(json["links"][0]["hypothesis"], "H1");
    assert!(json["links"][0]["rv_q"].as_f64().is_some() && json["links"][1]["bounds"][0]["adjusted_t"].is_number());
    for ext in ["md", "html", "tex"] {
        let t = std::fs::read_to_string(dir.path().join(format!("tables/sensitivity.{ext}"))).unwrap();
        assert!(t.contains("RV") && t.contains("2x cinc"), "{ext}: {t}");
    }
    let md = std::fs::read_to_string(dir.path().join("verdicts.md")).unwrap();
    assert!(md.contains("## Sensitivity to omitted confounding"), "{md}");
    assert!(md.contains("H1 (`l(igo_full,1)`): a confounder explaining"), "{md}");
    assert!(md.contains("would bring the estimate to zero"), "{md}");
    assert!(md.contains("Not analysed: H3 (the main model is poisson"), "{md}");
    concord::report::study::write(&s, &r, dir.path()).unwrap();
    let index = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(index.contains("<h2 id=\"sensitivity\">") && index.contains("href=\"sensitivity.json\""), "index.html");
    // A bad multiple is refused when the file is read.
    let e = Study::from_toml(&toml.replace("multiples = [1, 2]", "multiples = [0]")).unwrap_err().to_string();
    assert!(e.contains("sensitivity.multiples: 0 is not a positive number"), "{e}");
    let e = Study::from_toml(&toml.replace("[\"cinc\"]\nmultiples", "[\"cinc\", \"gdp\"]\nmultiples"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`gdp` is not among the controls of any hypothesis"), "{e}");
}
