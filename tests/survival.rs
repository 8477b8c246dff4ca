//! Survival estimators against R's survival package on the same data
//! (tests/reference/survival.R wrote tests/reference/survival.json), and the
//! model-based Cox fit against lifelines too (lifelines_cox.py): Cox
//! (Efron and Breslow ties, strata, Lin-Wei cluster-robust covariance),
//! Kaplan-Meier curves with log and log-log bands, the exact conditional
//! logit; peace spells built from the real panels; bad input through the CLI.
//! Tolerances: coefficients 1e-6 relative, standard errors 1e-4 relative,
//! log-likelihoods 1e-8 relative, Kaplan-Meier values 1e-9.

mod common;

use concord::data::read::read_table;
use concord::estimate::km::{km_frame, ConfType};
use concord::estimate::{cox::Ties, fit, Family, FitOptions};
use concord::panel::spells::spells;
use polars::prelude::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-9 / rel)
}

fn reference(file: &str) -> serde_json::Value {
    let path = format!("{}/tests/reference/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn refs() -> serde_json::Value {
    reference("survival.json")
}

fn fixture(name: &str) -> DataFrame {
    read_table(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR")).as_ref()).unwrap()
}

/// Peace spells of the real state-year panel (as `concord data spells`).
fn state_spells() -> DataFrame {
    spells(common::state_year(), &["ccode"], "year", "mid_onset").unwrap().0
}

fn data(name: &str) -> DataFrame {
    match name {
        "sim_surv" => fixture("sim_surv.csv"),
        "sim" => fixture("sim_panel.csv"),
        "state_year" => common::state_year().clone(),
        "state_spells" => state_spells(),
        other => panic!("unknown data {other}"),
    }
}

/// Compare a fit with a reference case; failures are collected.
fn compare(id: &str, f: &concord::estimate::Fit, case: &serde_json::Value, failures: &mut Vec<String>) {
    if f.nobs as u64 != case["nobs"].as_u64().unwrap() {
        failures.push(format!("{id}: nobs {} vs {}", f.nobs, case["nobs"]));
    }
    let ll = case["loglik"].as_f64().unwrap();
    if !close(f.loglik.unwrap(), ll, 1e-8) {
        failures.push(format!("{id}: loglik {} vs {ll}", f.loglik.unwrap()));
    }
    let coefs = case["coefficients"].as_object().unwrap();
    assert_eq!(coefs.len(), f.coefficients.len(), "{id}: terms");
    for (term, v) in coefs {
        let (b, se) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
        let Some(c) = f.coef(term) else {
            failures.push(format!("{id}: no term {term}"));
            continue;
        };
        if !close(c.estimate, b, 1e-6) {
            failures.push(format!("{id} {term}: estimate {} vs {b}", c.estimate));
        }
        if !close(c.std_error, se, 1e-4) {
            failures.push(format!("{id} {term}: s.e. {} vs {se}", c.std_error));
        }
    }
}

/// Fit every Cox case of a reference file; the failures, and how many cases
/// were on the real spells.
fn cox_cases(cases: &[serde_json::Value]) -> (Vec<String>, usize) {
    let mut frames = std::collections::HashMap::new();
    let mut failures = Vec::new();
    let mut real = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let name = case["data"].as_str().unwrap();
        real += usize::from(name == "state_spells");
        let df = frames.entry(name.to_string()).or_insert_with(|| data(name));
        let opts = FitOptions {
            vcov: case["vcov"].as_str().unwrap().parse().unwrap(),
            ties: case["ties"].as_str().unwrap().parse().unwrap(),
            ..Default::default()
        };
        match fit(df, case["formula"].as_str().unwrap(), Family::Cox, &opts) {
            Ok(f) => {
                assert!(f.converged && f.gradient_norm < 1e-6, "{id}: {} {}", f.converged, f.gradient_norm);
                let events = case["events"].as_u64().unwrap();
                assert!(f.notes[0].starts_with(&format!("{events} events in ")), "{id}: {}", f.notes[0]);
                compare(id, &f, case, &mut failures);
            }
            Err(e) => failures.push(format!("{id}: {e}")),
        }
    }
    (failures, real)
}

#[test]
fn cox_matches_r_coxph() {
    let refs = refs();
    let cases = refs["cox"].as_array().unwrap();
    assert!(cases.len() >= 10, "{} cases", cases.len());
    let (failures, real) = cox_cases(cases);
    assert!(real >= 4, "the real-panel cases are in the reference ({real})");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A second reference for the model-based Cox fit: lifelines'
/// CoxTimeVaryingFitter (tests/reference/lifelines_cox.py says why its
/// robust covariance is not used).
#[test]
fn cox_matches_lifelines() {
    let refs = reference("lifelines_cox.json");
    let cases = refs["cox"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    let (failures, _) = cox_cases(cases);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn clogit_matches_r_exact_clogit() {
    let refs = refs();
    let cases = refs["clogit"].as_array().unwrap();
    assert!(cases.len() >= 2);
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let df = data(case["data"].as_str().unwrap());
        let f = fit(&df, case["formula"].as_str().unwrap(), Family::Clogit, &FitOptions::default()).unwrap();
        assert!(f.converged, "{id}");
        // R keeps the groups without variation in n; concord drops and counts them.
        let n = case["nobs"].as_u64().unwrap() as usize;
        if f.nobs + f.dropped.no_variation + f.dropped.singletons != n {
            failures.push(format!("{id}: {} rows + {:?} dropped vs R's {n}", f.nobs, f.dropped));
        }
        let mut case = case.clone();
        case["nobs"] = serde_json::json!(f.nobs);
        compare(id, &f, &case, &mut failures);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn kaplan_meier_matches_r_survfit() {
    let refs = refs();
    let cases = refs["km"].as_array().unwrap();
    assert!(cases.len() >= 6);
    let mut checked = 0;
    for case in cases {
        let df = data(case["data"].as_str().unwrap());
        let by: Vec<String> = case["by"].as_str().map(|b| vec![b.to_string()]).unwrap_or_default();
        let conf: ConfType = case["conf_type"].as_str().unwrap().parse().unwrap();
        let curves = km_frame(
            &df,
            case["start"].as_str(),
            case["time"].as_str().unwrap(),
            case["event"].as_str().unwrap(),
            &by,
            0.95,
            conf,
        )
        .unwrap();
        let label = format!("{} by {by:?} ({:?})", case["data"], conf);
        let groups: Vec<&str> = case["group"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        let get = |k: &str| -> Vec<Option<f64>> { case[k].as_array().unwrap().iter().map(|v| v.as_f64()).collect() };
        let (t, nr, ne, nc) = (get("t"), get("n_risk"), get("n_event"), get("n_censor"));
        let (s, se, lo, hi) = (get("surv"), get("std_err"), get("lower"), get("upper"));
        let medians = get("median");
        // R lists the groups sorted; concord in order of appearance: match by label.
        let mut distinct: Vec<&str> = groups.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), curves.len(), "{label}: groups");
        for (gi, g) in distinct.iter().enumerate() {
            let c = curves.iter().find(|c| c.group == *g).unwrap_or_else(|| panic!("{label}: no group {g}"));
            let idx: Vec<usize> = (0..groups.len()).filter(|&i| groups[i] == *g).collect();
            assert_eq!(idx.len(), c.rows.len(), "{label} {g}: times");
            for (r, &i) in c.rows.iter().zip(&idx) {
                let at = format!("{label} {g} t={}", r.time);
                assert_eq!(Some(r.time), t[i], "{at}");
                assert_eq!(
                    (Some(r.n_risk as f64), Some(r.n_event as f64), Some(r.n_censor as f64)),
                    (nr[i], ne[i], nc[i]),
                    "{at}"
                );
                for (name, ours, theirs) in [
                    ("surv", r.surv, s[i]),
                    ("std_err", r.std_err, se[i]),
                    ("lower", r.lower, lo[i]),
                    ("upper", r.upper, hi[i]),
                ] {
                    match theirs {
                        Some(v) => assert!((ours - v).abs() <= 1e-9 * v.abs().max(1.0), "{at} {name}: {ours} vs {v}"),
                        None => assert!(ours.is_nan(), "{at} {name}: {ours} vs NA"),
                    }
                    checked += 1;
                }
            }
            assert_eq!(c.median, medians[gi], "{label} {g}: median");
        }
    }
    assert!(checked > 1000, "{checked} values");
}

#[test]
fn peace_spells_of_the_real_dyad_panel() {
    let dy = common::dyad_year();
    let (sp, rep) = spells(dy, &["ccode1", "ccode2"], "year", "mid_onset").unwrap();
    let onsets = common::col_sum(dy, "mid_onset");
    assert_eq!(rep.events as f64, onsets, "every onset ends a spell");
    assert_eq!(rep.rows + rep.missing_event, dy.height());
    let i = |c: &str| -> Vec<i64> {
        sp.column(c).unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().into_no_null_iter().collect()
    };
    let (spell, start, stop, event, duration, lc) =
        (i("spell"), i("start"), i("stop"), i("event"), i("duration"), i("left_censored"));
    let (c1, c2) = (i("ccode1"), i("ccode2"));
    let py: Vec<Option<i64>> =
        sp.column("peace_years").unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().iter().collect();
    let mut after_onset = 0;
    for r in 0..sp.height() {
        assert_eq!(stop[r], start[r] + 1);
        let last = r + 1 == sp.height() || spell[r + 1] != spell[r];
        // Events only in a spell's last row; the duration is its last stop.
        assert!(event[r] == 0 || last, "row {r}: an event inside a spell");
        if last {
            assert_eq!(duration[r], stop[r], "row {r}");
        } else {
            assert!(spell[r + 1] == spell[r] && duration[r + 1] == duration[r] && start[r + 1] > start[r]);
        }
        // A spell that began after an observed onset counts the same years as
        // the panel's peace-years counter.
        if lc[r] == 0 && r > 0 && spell[r] != 1 {
            let first_row = (0..=r).rev().take_while(|&q| spell[q] == spell[r]).last().unwrap();
            let same_unit = |q: usize| c1[q] == c1[r] && c2[q] == c2[r];
            if first_row > 0 && same_unit(first_row - 1) && event[first_row - 1] == 1 {
                assert_eq!(Some(start[r]), py[r], "row {r}");
                after_onset += 1;
            }
        }
    }
    assert!(after_onset > 10_000, "{after_onset} rows checked against peace_years");
    assert!(rep.left_censored > 1000 && rep.spells > rep.events, "{rep:?}");
}

#[test]
fn cox_on_the_dyad_spells_converges_and_ties_matter() {
    let dy = common::dyad_year();
    let (sp, _) = spells(dy, &["ccode1", "ccode2"], "year", "mid_onset").unwrap();
    let formula = "Surv(start, stop, event) ~ land_contiguity + dem_low + strata(left_censored)";
    let efron = fit(&sp, formula, Family::Cox, &FitOptions::default()).unwrap();
    let breslow = fit(&sp, formula, Family::Cox, &FitOptions { ties: Ties::Breslow, ..Default::default() }).unwrap();
    assert!(efron.converged && breslow.converged);
    let (a, b) = (efron.beta[0], breslow.beta[0]);
    assert!(a != b && (a - b).abs() < 0.1 * a.abs(), "{a} vs {b}");
    let cl = FitOptions { vcov: "cluster:ccode1".parse().unwrap(), ..Default::default() };
    let robust = fit(&sp, formula, Family::Cox, &cl).unwrap();
    assert_eq!(robust.beta, efron.beta);
    assert!(robust.coefficients[0].std_error != efron.coefficients[0].std_error);
}

fn concord(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_concord")).args(args).output().unwrap()
}

#[test]
fn bad_survival_input_exits_1_naming_the_row_or_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "t0,t1,d,e,x,s\n0,1,1,1,0.5,1\n1,3,0,0,0.1,1\n2,2,1,1,0.3,2\n0,4,3,0,0.2,2\n").unwrap();
    let f = file.to_str().unwrap();
    let cases = [
        ("Surv(t0, t1, e) ~ x", "row 3: the risk interval ends before it starts: `t1` = 2 is not after `t0` = 2"),
        ("Surv(t1, d) ~ x", "the outcome `d` must be 0 or 1 (censored or event) for cox; row 4 has 3"),
        ("Surv(t0, tt, d) ~ x", "no column `tt` in the data"),
        ("Surv(t0, t1, e) ~ x + strata(region)", "no column `region` in the data"),
        ("Surv(t1, e) ~ x + strata(s, s2)", "no column `s2` in the data"),
        ("d ~ x", "a survival outcome is Surv(start, stop, event) or Surv(time, event)"),
    ];
    for (formula, msg) in cases {
        let out = concord(&["fit", f, "--formula", formula, "--family", "cox"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{formula}: {err}");
        assert!(err.contains(msg), "{formula}: {err}");
    }
    let out = concord(&["fit", f, "--formula", "Surv(t1, d) ~ x", "--family", "cox", "--ties", "exact"]);
    assert_eq!(out.status.code(), Some(1));
    let out = concord(&[
        "surv",
        "km",
        f,
        "--time",
        "t1",
        "--event",
        "d",
        "--out",
        dir.path().join("km.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 4: the event `d` must be 0 or 1, not 3"));
    let out = concord(&[
        "data",
        "spells",
        f,
        "--event",
        "d",
        "--unit",
        "s",
        "--time",
        "t0",
        "--out",
        dir.path().join("sp.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 4 has 3"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cli_spells_km_and_cox_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel.csv");
    std::fs::write(
        &panel,
        "ccode,year,mid_onset,x\n2,2000,0,0.1\n2,2001,1,0.4\n2,2002,0,0.2\n2,2003,0,0.3\n20,2000,0,1.0\n20,2001,0,0.7\n20,2002,1,0.9\n20,2003,1,0.8\n",
    )
    .unwrap();
    let sp = dir.path().join("spells.csv");
    let out =
        concord(&["data", "spells", panel.to_str().unwrap(), "--event", "mid_onset", "--out", sp.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&sp).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "ccode,year,mid_onset,x,spell,start,stop,event,duration,left_censored");
    assert_eq!(lines[8], "20,2003,1,0.8,4,0,1,1,1,0");
    let km = dir.path().join("km.json");
    let out = concord(&[
        "surv",
        "km",
        sp.to_str().unwrap(),
        "--time",
        "stop",
        "--start",
        "start",
        "--event",
        "event",
        "--out",
        km.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let curves: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&km).unwrap()).unwrap();
    // Spells of 2 (onset), 2 (censored), 3 (onset) and 1 (onset) years: one of 4 fails at t = 1.
    assert_eq!(curves[0]["rows"][0]["n_risk"], 4);
    assert_eq!(curves[0]["rows"][0]["surv"], 0.75);
    let out = concord(&["fit", sp.to_str().unwrap(), "--formula", "Surv(start, stop, event) ~ x", "--family", "cox"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 events in 8 rows"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
