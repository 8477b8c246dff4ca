//! Named scenarios with simulation intervals (`concord plot scenarios`) and
//! conditional marginal effects (`concord plot cme`), against
//! tests/reference/scenarios.py and tests/reference/cme.py (statsmodels on
//! tests/fixtures/study_dyads.csv). Tolerances: predictions at the
//! estimated coefficients 1e-8 absolute; conditional effects and their
//! standard errors 1e-6 relative; simulation against the delta method as
//! stated in each test.

mod common;

use common::concord;
use concord::data::read::read_table;
use concord::estimate::{fit_with_design, Family, FitOptions};
use concord::formula::design::PanelSpec;
use concord::inference::conditional::conditional_effect;
use concord::inference::simulate::{simulate_scenarios, Scenario, SimOptions};
use polars::prelude::DataFrame;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/study_dyads.csv");

fn dyads() -> DataFrame {
    read_table(FIXTURE.as_ref()).unwrap()
}

fn reference(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn dyad_panel() -> PanelSpec {
    PanelSpec { unit: vec!["ccode1".into(), "ccode2".into()], time: "year".into() }
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn scenario_predictions_at_the_estimates_match_statsmodels_and_lie_in_the_simulated_intervals() {
    let df = dyads();
    let opts = FitOptions { panel: Some(dyad_panel()), ..Default::default() };
    let cases = reference("scenarios.json")["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2, "an interaction with a square, a lag");
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let (fit, design) = fit_with_design(&df, case["formula"].as_str().unwrap(), Family::Logit, &opts).unwrap();
        assert_eq!(fit.nobs as u64, case["nobs"].as_u64().unwrap(), "{id}: rows");
        let m = fit.margins(&df, &design, opts.panel.as_ref()).unwrap();
        let scenarios: Vec<Scenario> = case["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["text"].as_str().unwrap().parse().unwrap())
            .collect();
        let sim = simulate_scenarios(&m, &design.recipe, &scenarios, SimOptions::default()).unwrap();
        for (got, want) in sim.scenarios.iter().zip(case["scenarios"].as_array().unwrap()) {
            let want = f(&want["prediction"]);
            assert!((got.at_estimate - want).abs() < 1e-8, "{id} {}: {} vs {want}", got.label, got.at_estimate);
            assert!(got.conf_low < want && want < got.conf_high, "{id} {}: {want} outside {got:?}", got.label);
        }
        for (got, want) in sim.differences.iter().zip(case["differences"].as_array().unwrap()) {
            let want = f(want);
            assert!((got.at_estimate - want).abs() < 1e-8, "{id} {}: {} vs {want}", got.label, got.at_estimate);
            assert!(got.conf_low < want && want < got.conf_high, "{id} {}: {want} outside {got:?}", got.label);
        }
        assert_eq!(sim.differences.len(), scenarios.len() - 1);
    }
    // The lag case: setting dyadigos set its lag, the only term built from it.
    let (fit, design) = fit_with_design(&df, cases[1]["formula"].as_str().unwrap(), Family::Logit, &opts).unwrap();
    let m = fit.margins(&df, &design, opts.panel.as_ref()).unwrap();
    let s: Scenario = "Low: dyadigos=5".parse().unwrap();
    let sim = simulate_scenarios(&m, &design.recipe, &[s], SimOptions { draws: 10, ..Default::default() }).unwrap();
    assert_eq!(sim.settings[0], vec![("l(dyadigos,1)".to_string(), 5.0)]);
}

/// With many draws the simulation agrees with the delta method of
/// `Margins::predict`. For least squares the average prediction is linear in
/// the coefficients, so the draws are exactly normal around it: with 5000
/// draws the mean lies within 0.05 standard errors of the prediction
/// (Monte Carlo sd 0.014), the draws' sd within 3% of the delta-method
/// standard error (Monte Carlo sd 1%), the percentile interval's ends
/// within 0.12 standard errors of the delta method's (Monte Carlo sd of a
/// 2.5% quantile 0.04). For the logit (3% events, where the logistic curves)
/// the two differ by more than Monte Carlo error -- the mean of the
/// simulated probabilities exceeds the probability at the estimates and the
/// percentile interval leans right -- so the bounds are the brief's: mean
/// within 0.002 (and 0.35 standard errors: 0.27 and 0.32 here), sd within
/// 10%, ends within 0.75 standard errors (the largest gap here is 0.65).
#[test]
fn many_draws_approach_the_delta_method() {
    let df = dyads();
    let cases = [
        (
            Family::Gaussian,
            "unga_affinity ~ dyadigos*land_contiguity + peace_years + I(peace_years^2)",
            0.05,
            0.03,
            0.12,
        ),
        (
            Family::Logit,
            "mid_onset ~ dyadigos*land_contiguity + peace_years + I(peace_years^2) + unga_affinity",
            0.35,
            0.1,
            0.75,
        ),
    ];
    for (family, formula, mean_se, sd_rel, ends_se) in cases {
        let (fit, design) = fit_with_design(&df, formula, family, &FitOptions::default()).unwrap();
        let m = fit.margins(&df, &design, None).unwrap();
        let scenarios: Vec<Scenario> =
            ["Low: dyadigos=5", "Mid: dyadigos=14"].iter().map(|s| s.parse().unwrap()).collect();
        let sim = simulate_scenarios(&m, &design.recipe, &scenarios, SimOptions { draws: 5000, ..Default::default() })
            .unwrap();
        for (s, got) in scenarios.iter().zip(&sim.scenarios) {
            let set: Vec<(&str, f64)> = s.set.iter().map(|(v, x)| (v.as_str(), *x)).collect();
            let want = m.predict(&set).unwrap();
            let what = format!("{family} {}: {got:?} vs {want:?}", s.name);
            assert!((got.at_estimate - want.estimate).abs() < 1e-12, "{what}");
            assert!((got.mean - want.estimate).abs() < 0.002, "{what}");
            assert!((got.mean - want.estimate).abs() < mean_se * want.std_error, "{what}");
            assert!((got.std_dev / want.std_error - 1.0).abs() < sd_rel, "{what}");
            for (a, b) in [(got.conf_low, want.conf_low), (got.conf_high, want.conf_high)] {
                assert!((a - b).abs() < ends_se * want.std_error, "{what}");
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_numbers_and_another_seed_others() {
    let df = dyads();
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, stem: &str| {
        let out = dir.path().join(stem);
        let csv = dir.path().join(format!("{stem}.csv"));
        let (code, stdout, err) = concord(&[
            "plot",
            "scenarios",
            FIXTURE,
            "--formula",
            "mid_onset ~ dyadigos*land_contiguity + peace_years + unga_affinity",
            "--family",
            "logit",
            "--scenario",
            "Low IGO: dyadigos=5",
            "--scenario",
            "High IGO: dyadigos=25, peace_years=5",
            "--draws",
            "300",
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(stdout.contains("High IGO - Low IGO"), "{stdout}");
        (
            std::fs::read_to_string(&csv).unwrap(),
            std::fs::read_to_string(out.with_extension("svg")).unwrap(),
            std::fs::read(out.with_extension("png")).unwrap(),
        )
    };
    let a = run("7", "a");
    let b = run("7", "b");
    assert_eq!(a, b, "same seed, same CSV, SVG and PNG");
    let c = run("8", "c");
    assert_ne!(a.0, c.0);
    assert_eq!(a.0.lines().count(), 4, "header, two scenarios, one difference:\n{}", a.0);
    drop(df);
}

#[test]
fn unknown_variables_and_malformed_scenarios_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let base = |scenario: &str| {
        concord(&[
            "plot",
            "scenarios",
            FIXTURE,
            "--formula",
            "mid_onset ~ dyadigos + peace_years",
            "--scenario",
            scenario,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (code, _, err) = base("High: igo_full=60");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no variable `igo_full`"), "{err}");
    assert!(err.contains("its variables: dyadigos, peace_years"), "{err}");
    for bad in ["igo_full=60", "High: igo_full", "High: dyadigos=many"] {
        let (code, _, err) = base(bad);
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(err.contains("NAME: VARIABLE=VALUE"), "{bad}: {err}");
    }
    assert!(!out.with_extension("svg").exists());
}

#[test]
fn conditional_effects_match_statsmodels_t_test() {
    let df = dyads();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1e-3);
    let cases = reference("cme.json")["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let family: Family = case["family"].as_str().unwrap().parse().unwrap();
        let opts = FitOptions { vcov: case["vcov"].as_str().unwrap().parse().unwrap(), ..Default::default() };
        let (fit, design) = fit_with_design(&df, case["formula"].as_str().unwrap(), family, &opts).unwrap();
        let (x, z) = (case["x"].as_str().unwrap(), case["z"].as_str().unwrap());
        let want = case["effects"].as_array().unwrap();
        let at: Vec<f64> = want.iter().map(|e| f(&e["z"])).collect();
        let ce = conditional_effect(&fit, &design, &df, None, x, z, Some(&at)).unwrap();
        assert_eq!(ce.interaction, case["interaction"].as_str().unwrap());
        for ((zv, got), w) in ce.effects.iter().zip(want) {
            for (a, b, what) in [
                (got.estimate, f(&w["estimate"]), "effect"),
                (got.std_error, f(&w["std_error"]), "se"),
                (got.conf_low, f(&w["conf_low"]), "low"),
                (got.conf_high, f(&w["conf_high"]), "high"),
            ] {
                assert!(close(a, b), "{id} at {z} = {zv}: {what} {a} vs {b}");
            }
        }
        if let Some(d) = case.get("difference") {
            assert!(ce.binary, "{id}: a 0/1 moderator");
            let got = ce.difference.as_ref().unwrap();
            assert!(
                close(got.estimate, f(&d["estimate"])) && close(got.std_error, f(&d["std_error"])),
                "{id}: {got:?}"
            );
            // Without `at`, a 0/1 moderator gives the effects at 0 and 1.
            let grid = conditional_effect(&fit, &design, &df, None, x, z, None).unwrap();
            assert_eq!(grid.effects.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0.0, 1.0]);
        } else {
            assert!(!ce.binary && ce.difference.is_none());
        }
    }
}

#[test]
fn cme_refuses_formulas_without_the_interaction_and_draws_both_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cme");
    let run = |formula: &str, by: &str| {
        concord(&[
            "plot",
            "cme",
            FIXTURE,
            "--formula",
            formula,
            "--family",
            "logit",
            "--x",
            "dyadigos",
            "--by",
            by,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (code, _, err) = run("mid_onset ~ dyadigos + unga_affinity", "unga_affinity");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no `dyadigos:unga_affinity` term (its terms: dyadigos, unga_affinity)"), "{err}");
    let (code, _, err) = run("mid_onset ~ dyadigos*unga_affinity + I(dyadigos^2)", "unga_affinity");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("also enters"), "{err}");
    let (code, stdout, err) = run("mid_onset ~ dyadigos*unga_affinity + peace_years", "unga_affinity");
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("effect of dyadigos"), "{stdout}");
    let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
    // "Effect of dyadigos on the log-odds of mid_onset" would run off the axis.
    assert!(svg.contains("Effect on the log-odds of mid_onset"), "axis title on the linear scale");
    assert!(svg.contains("Effect of dyadigos by unga_affinity"), "the title names x");
    let (code, _, err) = run("mid_onset ~ land_contiguity*dyadigos + peace_years", "land_contiguity");
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
    assert!(
        svg.contains("At land_contiguity = 1") && svg.contains("Difference (1 minus 0)"),
        "binary: points and difference"
    );
    assert!(
        svg.contains("Effect on the log-odds of mid_onset"),
        "a shorter axis title where the long one would not fit"
    );
}

#[test]
fn fixed_effects_are_held_at_their_estimates_and_said_so() {
    let df = dyads();
    let (fit, design) =
        fit_with_design(&df, "mid_onset ~ dyadigos + peace_years | ccode1", Family::Logit, &FitOptions::default())
            .unwrap();
    let m = fit.margins(&df, &design, None).unwrap();
    let s: Scenario = "High: dyadigos=25".parse().unwrap();
    let sim = simulate_scenarios(&m, &design.recipe, std::slice::from_ref(&s), SimOptions::default()).unwrap();
    let want = m.predict(&[("dyadigos", 25.0)]).unwrap();
    assert!((sim.scenarios[0].at_estimate - want.estimate).abs() < 1e-12);
    assert!(sim.notes.iter().any(|n| n.contains("fixed effects are held at their estimates")), "{:?}", sim.notes);
    assert!(sim.table().contains("fixed effects are held"));
}
