//! The study layer on simulated worlds whose truth is set by parameters, and
//! on the real panels (complete, consistent outputs; no assertion on which way
//! the real results go).

mod common;

use concord::data::simulate::SimParams;
use concord::study::{self, RunOptions, Study, Verdict};

/// A small study over the simulator's state-year and dyad-year panels.
const STUDY: &str = r#"
name = "sim"
title = "simulated world"
seed = 11
alpha = 0.05
[data]
from = 1946
to = 2014
[bootstrap]
replicates = 100
[[periods]]
name = "cold_war"
from = 1946
to = 1989
[[periods]]
name = "post_cold_war"
from = 1990
to = 2014
[[hypotheses]]
id = "H1a"
claim = "socialization raises consensus"
level = "state-year"
outcome = "unga_agree_majority"
cause = "igo_full"
direction = "positive"
family = "gaussian"
fixed_effects = ["unit", "time"]
vcov = "cluster:unit"
[[hypotheses]]
id = "H2a"
claim = "consensus lowers onset"
level = "state-year"
outcome = "mid_onset"
cause = "unga_agree_majority"
controls = ["igo_full", "treaties_hr_cum", "treaties_disarm_cum"]
direction = "negative"
family = "logit"
vcov = "cluster:unit"
peace_years = true
[[hypotheses]]
id = "H3a"
kind = "mediation"
claim = "socialization lowers onset through consensus"
level = "state-year"
outcome = "mid_onset"
cause = "igo_full"
mediator = "unga_agree_majority"
controls = ["treaties_hr_cum", "treaties_disarm_cum"]
direction = "negative"
family = "logit"
vcov = "cluster:unit"
peace_years = true
[[hypotheses]]
id = "H4"
kind = "moderation"
claim = "affinity lowers dyadic onset more after the Cold War"
level = "dyad-year"
outcome = "mid_onset"
cause = "unga_affinity"
controls = ["dyadigos", "land_contiguity"]
direction = "negative"
family = "logit"
vcov = "cluster:unit"
peace_years = true
compare = ["cold_war", "post_cold_war"]
[[hypotheses]]
id = "H2d"
claim = "affinity lowers dyadic onset"
level = "dyad-year"
outcome = "mid_onset"
cause = "unga_affinity"
controls = ["dyadigos", "land_contiguity"]
direction = "negative"
family = "logit"
vcov = "cluster:unit"
peace_years = true
[[robustness]]
name = "lpm"
label = "linear probability"
only_family = "logit"
family = "gaussian"
"#;

fn world(a: f64, b: f64, post: f64) -> SimParams {
    SimParams {
        seed: 5,
        n_states: 200,
        n_dyad_states: 50,
        a_consensus: a,
        b_consensus: b,
        a_affinity: a * 1.5,
        b_affinity: b,
        post_multiplier: post,
        b0: 1.5,
        b0_dyad: 1.0,
        peace: -0.02,
        ..Default::default()
    }
}

fn verdicts(p: SimParams) -> (Vec<(String, Verdict)>, study::StudyResult) {
    let s = Study::from_toml(STUDY).unwrap();
    let r = study::run(&s, &RunOptions { simulate: Some(p), ..Default::default() }).unwrap();
    (r.hypotheses.iter().map(|h| (h.id.clone(), h.verdict)).collect(), r)
}

fn v(list: &[(String, Verdict)], id: &str) -> Verdict {
    list.iter().find(|(i, _)| i == id).unwrap().1
}

#[test]
fn the_study_recovers_the_true_verdicts_of_simulated_worlds() {
    use Verdict::*;
    // Effects present (and twice as strong after the Cold War).
    let (present, r) = verdicts(world(0.004, -4.0, 2.0));
    for id in ["H1a", "H2a", "H3a", "H4", "H2d"] {
        let h = r.hypotheses.iter().find(|h| h.id == id).unwrap();
        let (e, p) = (h.main.estimate, h.main.p_one_sided);
        assert_eq!(v(&present, id), Supported, "{id} in a world where it holds ({e:?}, p {p:?}): {present:?}");
    }
    // The bootstrap CI of the indirect effect reaches the truth: a x b in the
    // Cold War years, 2 a x b after, so the pooled truth lies between them.
    let m = r.hypotheses[2].mediation.as_ref().unwrap();
    let (lo, hi) = (m.bootstrap.conf_low, m.bootstrap.conf_high);
    assert!(lo < 0.004 * -4.0 && hi > 0.004 * -4.0 * 2.0, "CI [{lo}, {hi}] misses [2ab, ab]");
    assert_eq!(m.bootstrap.replicates, 100);
    assert!(m.bootstrap.failed <= 5);
    // No effects at all.
    let (zero, _) = verdicts(world(0.0, 0.0, 1.0));
    for id in ["H1a", "H2a", "H3a", "H4", "H2d"] {
        assert_eq!(v(&zero, id), NotSupported, "{id} in a world without effects: {zero:?}");
    }
    // Effects of the wrong sign; the same effect in both periods.
    let (reversed, _) = verdicts(world(-0.004, 4.0, 1.0));
    for id in ["H1a", "H2a", "H2d"] {
        assert_eq!(v(&reversed, id), Contradicted, "{id} in a world where the opposite holds: {reversed:?}");
    }
    assert_eq!(v(&reversed, "H3a"), Supported, "(-a) x (+b) is negative: the indirect effect is as stated");
    assert_eq!(v(&reversed, "H4"), NotSupported, "no change after the Cold War");
}

#[test]
fn mediation_bootstrap_covers_the_true_indirect_effect() {
    // Constant effects: the truth is exactly a x b.
    let (a, b) = (0.004, -4.0);
    let s = Study::from_toml(STUDY).unwrap();
    let r = study::run(&s, &RunOptions { simulate: Some(world(a, b, 1.0)), ..Default::default() }).unwrap();
    let m = r.hypotheses[2].mediation.as_ref().unwrap();
    let truth = a * b;
    assert!(
        m.bootstrap.conf_low < truth && truth < m.bootstrap.conf_high,
        "95% CI [{}, {}] misses {truth}",
        m.bootstrap.conf_low,
        m.bootstrap.conf_high
    );
    assert!((m.a - a).abs() < 4.0 * m.path_a.std_error.unwrap(), "a = {} vs {a}", m.a);
    assert!((m.b - b).abs() < 4.0 * m.path_b.std_error.unwrap(), "b = {} vs {b}", m.b);
}

#[test]
fn same_seed_same_bytes_and_a_manifest() {
    let s = Study::from_toml(STUDY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sim.toml");
    std::fs::write(&file, STUDY).unwrap();
    let opts = RunOptions { simulate: Some(world(0.004, -4.0, 1.0)), replicates: Some(30), ..Default::default() };
    let mut outs = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("out{k}"));
        let mut r = study::run(&s, &opts).unwrap();
        let files = study::output::write(&mut r, &file, &out).unwrap();
        assert!(files.iter().all(|f| f.exists()));
        let report = concord::report::study::write(&s, &r, &out).unwrap();
        assert!(report.iter().all(|f| f.exists()));
        outs.push(out);
    }
    // index.html shows every figure it names, and each is a PNG.
    let index = std::fs::read_to_string(outs[0].join("index.html")).unwrap();
    let srcs: Vec<&str> = index.split("<img src=\"").skip(1).filter_map(|t| t.split('"').next()).collect();
    assert!(srcs.len() >= 6, "{} figures in index.html", srcs.len());
    for src in &srcs {
        let bytes = std::fs::read(outs[0].join(src)).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(image::load_from_memory(&bytes).is_ok(), "{src} is not a PNG");
        let svg = outs[0].join(src.replace(".png", ".svg"));
        assert!(svg.is_file(), "{} missing", svg.display());
    }
    for stem in ["coef_H4", "predicted_H2a", "effect_by_year_H4", "mediation_ccode_igo_full", "binned_ccode_igo_full"] {
        assert!(srcs.contains(&format!("figures/{stem}.png").as_str()), "{stem} not in index.html");
    }
    assert!(index.contains("<table class=\"regression\">"), "regression tables inlined");
    assert!(!index.contains("http://") && !index.contains("https://"), "no external assets");
    for name in [
        "verdicts.json",
        "verdicts.md",
        "fits/H2a__main.json",
        "fits/H3a__path_b.json",
        "tables/main_ccode.tex",
        "figures/coef_H4.svg",
        "index.html",
    ] {
        let a = std::fs::read(outs[0].join(name)).unwrap();
        let b = std::fs::read(outs[1].join(name)).unwrap();
        assert!(a == b, "{name} differs between two runs with the same seed");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outs[0].join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 11);
    assert_eq!(m["study_sha256"].as_str().unwrap().len(), 64);
    assert!(m["outputs"].as_array().unwrap().len() >= 8);
}

#[test]
fn study_files_with_mistakes_get_errors_with_the_line() {
    let e = Study::from_toml(&STUDY.replace("direction = \"positive\"", "direction = \"up\"")).unwrap_err();
    assert!(e.to_string().contains("line 25"), "{e}");
    assert!(e.to_string().contains("unknown variant `up`"), "{e}");
    let e = Study::from_toml(&STUDY.replace("vcov = \"cluster:unit\"\n[[hypotheses]]", "vcv = 1\n[[hypotheses]]"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `vcv`"), "{e}");
    let e = Study::from_toml(
        &STUDY.replace("compare = [\"cold_war\", \"post_cold_war\"]", "compare = [\"cold\", \"post_cold_war\"]"),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(e, "<study>: no period `cold` in [[periods]] (have: cold_war, post_cold_war)");
}

#[test]
fn the_flagship_study_runs_on_the_real_panels() {
    let dir = common::data_dir();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/socialization.toml");
    let s = Study::from_file(&path).unwrap();
    let opts = RunOptions { data_dir: dir, replicates: Some(20), ..Default::default() };
    let mut r = study::run(&s, &opts).unwrap();
    let out = tempfile::tempdir().unwrap();
    study::output::write(&mut r, &path, out.path()).unwrap();
    assert_eq!(r.hypotheses.len(), s.hypotheses.len());
    for h in &r.hypotheses {
        // Every main specification is estimated, with a consistent interval.
        let m = &h.main;
        assert!(m.error.is_none(), "{}: {:?}", h.id, m.error);
        let (e, lo, hi) = (m.estimate.unwrap(), m.conf_low.unwrap(), m.conf_high.unwrap());
        assert!(lo <= e && e <= hi, "{}: {e} outside [{lo}, {hi}]", h.id);
        let (p, q) = (m.p_one_sided.unwrap(), m.p_opposite.unwrap());
        assert!((0.0..=1.0).contains(&p) && (p + q - 1.0).abs() < 1e-6 || h.mediation.is_some(), "{}", h.id);
        // Adjusted p-values are at least the raw ones; the verdict follows them.
        let holm = h.p_holm.unwrap();
        assert!(holm >= p - 1e-15 && h.p_bh.unwrap() >= p - 1e-15 && h.p_bh.unwrap() <= holm + 1e-15);
        let expect = if holm < s.alpha {
            Verdict::Supported
        } else if h.verdict == Verdict::Contradicted {
            Verdict::Contradicted
        } else {
            Verdict::NotSupported
        };
        assert_eq!(h.verdict, expect, "{}", h.id);
        if let Some(med) = &h.mediation {
            assert!((med.indirect - med.a * med.b).abs() < 1e-12);
            assert!(med.bootstrap.failed <= 2, "{}: {} failed", h.id, med.bootstrap.failed);
        } else {
            assert!(!h.robustness.is_empty(), "{} has a robustness battery", h.id);
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("verdicts.json")).unwrap()).unwrap();
    let fit_file = json["hypotheses"][0]["main"]["fit_file"].as_str().unwrap();
    assert!(out.path().join(fit_file).exists());
    let md = std::fs::read_to_string(out.path().join("verdicts.md")).unwrap();
    assert!(md.contains("| H4b |") && md.contains("## H3a-d:"));
}

#[test]
fn a_study_never_overwrites_its_own_study_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("verdicts.md");
    std::fs::write(&file, STUDY).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["study", "run", file.to_str().unwrap(), "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to write") && err.contains("this command reads it"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), STUDY, "the study file is intact");
}
