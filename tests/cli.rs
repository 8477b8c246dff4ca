//! The command line on bad input: clear messages and exit codes (0 ok, 1 user
//! error, 2 internal error), and inputs never overwritten.

mod common;

use common::concord;
use std::process::Command;

#[test]
fn missing_data_dir_lists_files_and_where_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sy.parquet");
    let (code, _, err) = concord(&[
        "data",
        "build",
        "--unit",
        "state-year",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("17 file(s) missing from the data dir"), "{err}");
    assert!(
        err.contains(
            "cow_igo/cow_igo_sy.csv (dataset cow_igo; get it from https://correlatesofwar.org/data-sets/igos/)"
        ),
        "{err}"
    );
    assert!(err.contains("--data-dir DIR or CONCORD_DATA=DIR"), "{err}");
    assert!(!out.exists());
}

#[test]
fn year_range_outside_the_data() {
    let d = common::data_dir();
    let (code, _, err) = concord(&[
        "data",
        "build",
        "--unit",
        "dyad-year",
        "--from",
        "1700",
        "--data-dir",
        d.to_str().unwrap(),
        "--out",
        "/tmp/x.parquet",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("years 1700-2014 are outside the data"), "{err}");
}

#[test]
fn output_type_and_inputs_are_checked_before_building() {
    let d = common::data_dir();
    let (code, _, err) =
        concord(&["data", "build", "--unit", "state-year", "--data-dir", d.to_str().unwrap(), "--out", "panel.xlsx"]);
    assert_eq!(code, 1);
    assert!(err.contains("panel.xlsx: unsupported file type; use .csv, .parquet or .dta"), "{err}");
    let input = d.join("cow_nmc/cow_nmc.csv");
    let before = std::fs::read(&input).unwrap();
    let (code, _, err) = concord(&[
        "data",
        "build",
        "--unit",
        "state-year",
        "--data-dir",
        d.to_str().unwrap(),
        "--out",
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("refusing to write"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn builds_csv_and_describes_it() {
    let d = common::data_dir();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("system_year.csv");
    let (code, stdout, err) = concord(&[
        "data",
        "build",
        "--unit",
        "system-year",
        "--data-dir",
        d.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("system-year panel 1946-2014: 69 rows"), "{stdout}");
    let (code, stdout, _) = concord(&["data", "describe", out.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("rows: 69; years: 1946-2014"), "{stdout}");
    assert!(stdout.contains("mean_unga_affinity"), "{stdout}");
}

#[test]
fn describe_errors() {
    let (code, _, err) = concord(&["data", "describe", "/nonexistent/panel.parquet"]);
    assert_eq!(code, 1);
    assert_eq!(err.trim(), "error: /nonexistent/panel.parquet: no such file");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, "this is not parquet").unwrap();
    let (code, _, err) = concord(&["data", "describe", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.parquet: not a readable Parquet file"), "{err}");
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b\n1,2\n3,4,5,6\n").unwrap();
    let (code, _, err) = concord(&["data", "describe", ragged.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ragged.csv: not a readable CSV file"), "{err}");
    // Text on which polars' CSV parser panics (found by tests/no_panic.rs):
    // one line of error, no panic message, exit 1.
    let quotes = dir.path().join("quotes.csv");
    std::fs::write(&quotes, ",\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\na\"\"\",0\n\"\"\"\n0\"\"\"\n-,\"").unwrap();
    let (code, _, err) = concord(&["data", "describe", quotes.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "error: {}: not a readable CSV file: the parser failed on it (slice index starts at 1 but ends at 0); \
             check quoting and row lengths",
            quotes.display()
        )
    );
}

#[test]
fn sources_lists_every_dataset_with_its_state() {
    let d = common::data_dir();
    let (code, stdout, _) = concord(&["data", "sources", "--data-dir", d.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("cow_mid — COW Militarized Interstate Disputes (version 5.0)"), "{stdout}");
    // Every file the registry pins (one sha256 each) is found with its checksum.
    let registry = std::fs::read_to_string("data/sources.toml").unwrap();
    let files = registry.matches("sha256 = \"").count();
    assert!(files >= 50, "the registry pins {files} files");
    let summary = format!("{files} file(s) found, 0 differ from the registered version, 0 missing");
    assert!(stdout.contains(&summary), "{summary}\n{stdout}");
    assert_eq!(stdout.matches("found, checksum ok").count(), files, "{stdout}");
    let empty = tempfile::tempdir().unwrap();
    let (code, stdout, _) = concord(&["data", "sources", "--data-dir", empty.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    let summary = format!("0 file(s) found, 0 differ from the registered version, {files} missing");
    assert!(stdout.contains(&summary), "{summary}\n{stdout}");
}

#[test]
fn usage_errors_exit_1() {
    let (code, _, err) = concord(&["data", "build", "--unit", "galaxy-year", "--out", "x.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid value 'galaxy-year'"), "{err}");
    let (code, _, err) = concord(&["data", "build", "--unit", "state-year", "--directed", "--out", "x.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("--directed is for dyad-year panels, not state-year"), "{err}");
    let (code, _, err) = concord(&["data", "build", "--unit", "system-year", "--relevant", "--out", "x.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("--relevant is for dyad-year panels, not system-year"), "{err}");
}

#[test]
fn fit_prints_a_table_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fit.json");
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let (code, stdout, err) = concord(&[
        "fit",
        sim,
        "--formula",
        "ybin ~ x1 + x2 + d",
        "--family",
        "logit",
        "--vcov",
        "cluster:unit",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("observations: 1797 of 1800 (dropped: 3 with missing values"), "{stdout}");
    assert!(stdout.contains("(Intercept)") && stdout.contains("converged in"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["family"], "logit");
    assert_eq!(v["nobs"], 1797);
    assert_eq!(v["converged"], true);
    assert_eq!(v["coefficients"][1]["term"], "x1");
    for key in ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"] {
        assert!(v["coefficients"][1][key].is_f64(), "{key}");
    }
}

#[test]
fn fit_errors_are_clear() {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1 + + x2"]);
    assert_eq!(code, 1);
    assert!(err.contains("formula error at character 10: expected a term, found `+`"), "{err}");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x_1"]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `x_1` in the data (did you mean `x1`?)"), "{err}");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1", "--family", "logit"]);
    assert_eq!(code, 1);
    assert!(err.contains("the outcome `y` must be 0 or 1 for logit; row 1 has"), "{err}");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ l(x1)"]);
    assert_eq!(code, 1);
    assert!(err.contains("needs the panel structure: give --panel UNIT,TIME"), "{err}");
    let (code, stdout, err) = concord(&["fit", sim, "--formula", "y ~ l(x1) + d(x2)", "--panel", "unit,time"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("l(x1,1)") && stdout.contains("d(x2)"), "{stdout}");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1", "--vcov", "bootstrap"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown vcov `bootstrap`"), "{err}");
}

#[test]
fn fit_tests_margins_and_predictions_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("fit.json");
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let (code, stdout, err) = concord(&[
        "fit",
        sim,
        "--formula",
        "ybin ~ x1 + x2 + d",
        "--family",
        "logit",
        "--wald",
        "x1 = 0, x2 - d = 0",
        "--one-sided",
        "x1:positive",
        "--margins",
        "--predict",
        "x1=0",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("Wald test of x1 = 0, x2 - d = 0: chi2 = 220.6364 on (2) df"), "{stdout}");
    assert!(stdout.contains("one-sided test of H1: x1 > 0: p = 3.6589e-46"), "{stdout}");
    // Per variable (tests/reference/margins.json, "logit additive"); d is 0/1.
    assert!(stdout.contains("average marginal effects per variable (through every term of the formula"), "{stdout}");
    assert!(stdout.contains("  d (1 vs 0)                   0.053743 (0.022519)"), "{stdout}");
    assert!(stdout.contains("average prediction with x1=0 in every row (others as observed): 0.287637"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["wald"]["distribution"], "chi2");
    assert_eq!(v["margins"].as_array().unwrap().len(), 3);
    assert_eq!(v["one_sided"][0]["direction"], "positive");
    let (code, _, err) = concord(&["fit", sim, "--formula", "ybin ~ x1", "--family", "logit", "--one-sided", "x1:up"]);
    assert_eq!(code, 1);
    assert!(err.contains("direction `up` is not positive or negative"), "{err}");
}

#[test]
fn panels_are_byte_identical_whatever_the_number_of_threads() {
    let d = common::data_dir();
    let dir = tempfile::tempdir().unwrap();
    for unit in ["system-year", "state-year"] {
        let mut outputs = Vec::new();
        for threads in ["1", "2", "2"] {
            let out = dir.path().join(format!("{unit}-{threads}.csv"));
            let status = Command::new(env!("CARGO_BIN_EXE_concord"))
                .args([
                    "data",
                    "build",
                    "--unit",
                    unit,
                    "--data-dir",
                    d.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ])
                .env("POLARS_MAX_THREADS", threads)
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(status.status.success());
            outputs.push(std::fs::read(&out).unwrap());
        }
        assert!(outputs.iter().all(|o| *o == outputs[0]), "{unit}: outputs differ between runs with 1 and 2 threads");
    }
}

#[test]
fn fits_are_byte_identical_whatever_the_number_of_threads() {
    // 96k dyad-years: the likelihood pass runs in 6 chunks, summed in order.
    let dir = tempfile::tempdir().unwrap();
    let p = concord::data::simulate::SimParams { n_dyad_states: 50, from: 1975, to: 2014, ..Default::default() };
    let mut df = concord::data::simulate::dyad_year(&p).unwrap();
    let data = dir.path().join("dyads.parquet");
    concord::data::write::write_table(&mut df, &data).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "2"] {
        let out = dir.path().join(format!("fit-{threads}-{}.json", outputs.len()));
        let status = Command::new(env!("CARGO_BIN_EXE_concord"))
            .args([
                "fit",
                data.to_str().unwrap(),
                "--formula",
                "mid_onset ~ l(unga_affinity,1) + l(dyadigos,1) + land_contiguity + poly(peace_years,3)",
                "--family",
                "logit",
                "--panel",
                "dyad,year",
                "--vcov",
                "cluster:dyad",
                "--json",
                out.to_str().unwrap(),
            ])
            .env("POLARS_MAX_THREADS", threads)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert!(outputs[0] == outputs[1] && outputs[1] == outputs[2], "fit JSON differs between thread counts");
}

#[test]
fn shell_completions_name_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, text, _) = concord(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        for sub in ["fit", "table", "study", "data"] {
            assert!(text.contains(sub), "{shell} completions lack `{sub}`");
        }
    }
}

#[test]
fn dyadic_vcov_errors_name_the_column() {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_dyadic.csv");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1", "--vcov", "dyadic:ccode1,ccode3"]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `ccode3` in the data"), "{err}");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1", "--vcov", "dyadic:ccode1"]);
    assert_eq!(code, 1);
    assert!(err.contains("the dyadic vcov needs the two member columns, dyadic:COL1,COL2"), "{err}");
    let (code, out, err) = concord(&["fit", sim, "--formula", "y ~ x1 | year", "--vcov", "dyadic:ccode1,ccode2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dyadic:ccode1,ccode2"), "{out}");
}

#[test]
fn margins_and_predictions_follow_interactions_and_polynomials() {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let (code, stdout, err) = concord(&[
        "fit",
        sim,
        "--formula",
        "ybin ~ x1*d + poly(x2, 2)",
        "--family",
        "logit",
        "--margins",
        "--predict",
        "x2=0.5,d=1",
    ]);
    assert_eq!(code, 0, "{err}");
    // One AME per variable (tests/reference/margins.json), none per column.
    assert!(stdout.contains("  x1                           0.143836 (0.007978)"), "{stdout}");
    assert!(stdout.contains("  x2                          -0.090649 (0.009351)"), "{stdout}");
    assert!(!stdout.contains("  x1:d ") && !stdout.contains("  poly(x2,2)1 "), "{stdout}");
    assert!(
        stdout.contains("average prediction with x2=0.5,d=1 in every row (others as observed): 0.294006"),
        "{stdout}"
    );
}

#[test]
fn fixed_effects_cluster_by_the_first_by_default_and_say_so() {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let (code, stdout, err) = concord(&["fit", sim, "--formula", "y ~ x1 + x2 | unit + time"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("cluster:unit"), "{stdout}");
    assert!(
        stdout.contains("standard errors clustered by `unit`, the first fixed effect (fixest's default)"),
        "{stdout}"
    );
    let (code, stdout, err) = concord(&["fit", sim, "--formula", "y ~ x1 + x2 | unit", "--vcov", "iid"]);
    assert_eq!(code, 0, "{err}");
    assert!(!stdout.contains("cluster:unit") && !stdout.contains("first fixed effect"), "{stdout}");
    let (code, stdout, err) = concord(&["fit", sim, "--formula", "y ~ x1 + x2"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("iid") && !stdout.contains("first fixed effect"), "{stdout}");
}

#[test]
fn stata_and_r_missing_codes_and_text_tokens_in_csv() {
    let dir = tempfile::tempdir().unwrap();
    let stata = dir.path().join("stata.csv");
    std::fs::write(&stata, "y,x\n1,56.0\n0,.\n1,NA\n0,3\n1,4.5\n0,1\n").unwrap();
    let (code, stdout, err) = concord(&["fit", stata.to_str().unwrap(), "--formula", "y ~ x"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("observations: 4 of 6 (dropped: 2 with missing values"), "{stdout}");
    let text = dir.path().join("text.csv");
    std::fs::write(&text, "y,x\n1,56.0\n0,3\n1,n/a\n0,2\n").unwrap();
    let (code, _, err) = concord(&["fit", text.to_str().unwrap(), "--formula", "y ~ x"]);
    assert_eq!(code, 1);
    assert!(err.contains("column `x` holds numbers but row 3 has the text `n/a`"), "{err}");
}

#[test]
fn reversed_years_unwritable_outputs_and_closed_pipes_end_cleanly() {
    let d = common::data_dir();
    let args = ["data", "build", "--unit", "state-year", "--from", "2000", "--to", "1970", "--data-dir"];
    let (code, _, err) = concord(&[&args[..], &[d.to_str().unwrap(), "--out", "/tmp/never.parquet"]].concat());
    assert_eq!(code, 1);
    assert!(err.contains("--from 2000 is after --to 1970: give the first year first"), "{err}");

    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1", "--json", "/proc/forbidden.json"]);
    assert_eq!(code, 1);
    assert!(err.contains("/proc/forbidden.json: cannot create files in /proc"), "{err}");
    assert!(!err.contains(".tmp"), "no temporary file name: {err}");

    // The reader goes away before anything is printed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["fit", sim, "--formula", "ybin ~ x1 + i(time)", "--family", "logit", "--margins"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `data build --join`: the user's file joined on the unit's keys, the match
/// count reported; a bad file is exit 1 with the row named and nothing written.
#[test]
fn data_build_joins_the_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::data_dir();
    let mine = dir.path().join("mine.csv");
    std::fs::write(&mine, "ccode,year,my_score\n2,1990,0.5\n20,1991,1.5\n").unwrap();
    let out = dir.path().join("sy.csv");
    let args = |file: &std::path::Path, out: &std::path::Path| {
        [
            "data",
            "build",
            "--unit",
            "state-year",
            "--from",
            "1990",
            "--to",
            "1991",
            "--data-dir",
            data.to_str().unwrap(),
            "--join",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
    };
    let a = args(&mine, &out);
    let (code, stdout, err) = concord(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("--join") && stdout.contains("1 column(s) (my_score); 2 of 342 panel rows found a match"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",my_score"), "{}", text.lines().next().unwrap());
    std::fs::write(&mine, "ccode,year,my_score\n2,1990,0.5\n2,1990,1.5\n").unwrap();
    let bad_out = dir.path().join("bad.csv");
    let a = args(&mine, &bad_out);
    let (code, _, err) = concord(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1);
    assert!(err.contains("row 2 repeats row 1 (ccode = 2, year = 1990)"), "{err}");
    assert!(!bad_out.exists(), "nothing is written");
}

/// `--relevant --join`: the file is joined on the whole panel, then the rows
/// are filtered, so a file of every dyad-year is not refused.
#[test]
fn data_build_joins_before_keeping_relevant_dyads() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::data_dir();
    let mine = dir.path().join("dyads.csv");
    // USA-Canada (relevant) and Bolivia-Zambia (not).
    std::fs::write(&mine, "ccode1,ccode2,year,my_x\n2,20,1990,1\n145,551,1990,2\n").unwrap();
    let out = dir.path().join("prd.csv");
    let (code, stdout, err) = concord(&[
        "data",
        "build",
        "--unit",
        "dyad-year",
        "--from",
        "1990",
        "--to",
        "1990",
        "--relevant",
        "--join",
        mine.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("2 of 13522 panel rows found a match"), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap();
    let with_x = text.lines().skip(1).filter(|l| !l.ends_with(',')).count();
    assert_eq!(with_x, 1, "only the relevant dyad keeps its value");
    assert!(stdout.contains("politically relevant dyad-year panel 1990-1990: 1229 rows"), "{stdout}");
}

#[test]
fn fit_runs_several_models_in_one_command() {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    // csw(): two fits, each printed, then one table; one JSON per fit.
    let (code, out, err) = concord(&[
        "fit",
        sim,
        "--formula",
        "y ~ x1 + csw(x2, d)",
        "--subset",
        "time >= 2003 & region != 4",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("--subset time >= 2003 & region != 4: 1080 of 1800 rows"), "{out}");
    assert!(
        out.contains("== fit 1 of 2: y ~ x1 + x2 ==") && out.contains("== fit 2 of 2: y ~ x1 + x2 + d =="),
        "{out}"
    );
    assert!(out.contains("| Observations | 1,078 | 1,078 |"), "{out}");
    assert!(dir.path().join("m-1.json").exists() && dir.path().join("m-2.json").exists());
    // --split: one column per level, titled by it; weights noted.
    let (code, out, err) =
        concord(&["fit", sim, "--formula", "y ~ x1", "--split", "region", "--weights", "ycnt", "--vcov", "hc1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("| region = 1 | region = 2 | region = 3 | region = 4 |"), "{out}");
    assert!(out.contains("note: weighted by `ycnt`"), "{out}");
    // Errors name the problem and exit 1.
    for (args, msg) in [
        (
            vec!["--formula", "ybin ~ x1", "--family", "probit", "--weights", "region"],
            "probit does not take weights yet",
        ),
        (vec!["--formula", "y ~ x1", "--weights", "x1"], "`x1` has the negative weight"),
        (vec!["--formula", "y ~ x1", "--split", "regon"], "--split regon: no such column (did you mean `region`?)"),
        (vec!["--formula", "y ~ x1", "--subset", "tme > 3"], "no column `tme` in the data (did you mean `time`?)"),
        (vec!["--formula", "y ~ csw(x1) + sw(x2)"], "one multiple-estimation operator per part"),
        (vec!["--formula", "y ~ i(region, ref = 9)"], "`i(region,ref=9)`: no level `9` (levels: 1, 2, 3, 4)"),
    ] {
        let mut a = vec!["fit", sim];
        a.extend(args);
        let (code, _, err) = concord(&a);
        assert_eq!(code, 1, "{a:?}: {err}");
        assert!(err.contains(msg), "{a:?}: {err}");
    }
}

#[test]
fn table_format_follows_the_output_extension() {
    let sim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    let (code, _, err) = concord(&["fit", sim, "--formula", "y ~ x1", "--json", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // A .html file is a page of its own (Word opens it); --fragment the table alone.
    for (ext, start) in [("tex", "\\documentclass"), ("html", "<!DOCTYPE html>"), ("md", "|  | (1) |")] {
        let out = dir.path().join(format!("t.{ext}"));
        let (code, _, err) = concord(&["table", json.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.trim_start().starts_with(start), "{ext}: {}", &text[..text.len().min(80)]);
    }
    let page = std::fs::read_to_string(dir.path().join("t.html")).unwrap();
    assert!(page.contains("border-top:1.5pt solid") && page.contains("<table class=\"regression\">"));
    let out = dir.path().join("f.html");
    let (code, _, err) = concord(&["table", json.to_str().unwrap(), "--fragment", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("<div class=\"table-wrap\">"));
    let out = dir.path().join("t.docx");
    let (code, _, err) = concord(&["table", json.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("Word opens the .html") && !out.exists(), "{err}");
    let out = dir.path().join("t2.tex");
    let (code, _, err) = concord(&["table", json.to_str().unwrap(), "--format", "md", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("--format md but --out") && !out.exists(), "{err}");
}

/// A study on the simulator with a typo in a control and in an outcome.
const TYPO_STUDY: &str = r#"
name = "typos"
title = "typos"
[data]
from = 1960
to = 2000
simulate = { seed = 3, n_states = 30, n_dyad_states = 10 }
[[hypotheses]]
id = "H1"
claim = "c"
level = "state-year"
outcome = "mid_onset"
cause = "igo_full"
controls = ["polity2", "cinc_"]
direction = "negative"
family = "logit"
peace_years = true
[[hypotheses]]
id = "H2"
claim = "c"
level = "dyad-year"
outcome = "mid_onsett"
cause = "dyadigos"
direction = "negative"
family = "logit"
[[robustness]]
name = "lpm"
label = "linear probability"
family = "gaussian"
"#;

#[test]
fn study_check_and_run_refuse_a_study_with_typos() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typos.toml");
    std::fs::write(&file, TYPO_STUDY).unwrap();
    let out = dir.path().join("out");
    for args in [
        vec!["study", "check", file.to_str().unwrap()],
        vec!["study", "run", file.to_str().unwrap(), "--out", out.to_str().unwrap()],
    ] {
        let (code, _, err) = concord(&args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("error: the study has 2 problems; nothing was fitted:"), "{err}");
        assert!(
            err.contains("  - H1: control `cinc_` is not a column of the state-year panel; did you mean `cinc`?"),
            "{err}"
        );
        assert!(
            err.contains(
                "  - H2: outcome `mid_onsett` is not a column of the dyad-year panel; did you mean `mid_onset`?"
            ),
            "{err}"
        );
    }
    assert!(!out.join("verdicts.json").exists(), "nothing written");
    std::fs::write(&file, TYPO_STUDY.replace("cinc_", "cinc").replace("mid_onsett", "mid_onset")).unwrap();
    let (code, stdout, err) = concord(&["study", "check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.starts_with("ok: 2 hypotheses, 1 check ("), "{stdout}");
}

#[test]
fn study_init_writes_a_template_that_checks_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("study.toml");
    let (code, stdout, err) = concord(&["study", "init", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("wrote") && stdout.contains("concord study check"), "{stdout}");
    let world = dir.path().join("world.toml");
    std::fs::write(&world, "n_states = 30\nn_dyad_states = 10\n").unwrap();
    let (code, stdout, err) =
        concord(&["study", "check", file.to_str().unwrap(), "--simulate", world.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.starts_with("ok: 2 hypotheses, 4 checks"), "{stdout}");
    let before = std::fs::read(&file).unwrap();
    std::fs::write(&file, "mine").unwrap();
    let (code, _, err) = concord(&["study", "init", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists") && err.contains("never overwrites"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert!(before.starts_with(b"# A concord study file"));
}

#[test]
fn panel_keys_are_inferred_and_duplicates_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("sy.csv");
    let mut text = String::from("ccode,year,y,x\n");
    for (c, t, y, x) in [(2, 1990, 1.0, 0.5), (2, 1991, 2.0, 1.5), (2, 1992, 2.5, 1.0), (20, 1990, 0.5, 2.0)] {
        text.push_str(&format!("{c},{t},{y},{x}\n"));
    }
    for t in 1991..1999 {
        text.push_str(&format!("20,{t},{},{}\n", (t % 7) as f64 * 0.3, (t % 5) as f64 * 0.7));
    }
    std::fs::write(&ok, &text).unwrap();
    // l() without --panel: the keys serve.
    let (code, out, err) = concord(&["fit", ok.to_str().unwrap(), "--formula", "y ~ l(x, 1)"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("panel: ccode, year (the key columns; --panel to name others)"), "{out}");
    assert!(out.contains("observations: 10 of 12"), "{out}");
    // A duplicated key is refused, with its rows, even without --panel.
    let dup = dir.path().join("dup.csv");
    std::fs::write(&dup, format!("{text}2,1991,3.0,0.1\n")).unwrap();
    let (code, _, err) = concord(&["fit", dup.to_str().unwrap(), "--formula", "y ~ x"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("1 duplicated (ccode , year) key(s); first: ccode=2, year=1991 appears in rows [2, 13]"),
        "{err}"
    );
    // fixest's spelling of two-way clustering.
    let (code, out, err) =
        concord(&["fit", ok.to_str().unwrap(), "--formula", "y ~ x", "--vcov", "cluster:ccode+year"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("vcov: cluster:ccode,year"), "{out}");
}

#[test]
fn dropped_rows_are_accounted_for_and_options_refuse_what_they_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    // x = 0 in two rows (log undefined), w = 0 in one row, z missing in one.
    std::fs::write(&p, "y,x,w,z\n1,0,1,1\n2,1,1,2\n3,2,0,1\n4,3,2,\n5,0,1,3\n6,4,1,1\n7,5,2,2\n8,6,1,4\n").unwrap();
    let (code, out, err) = concord(&["fit", p.to_str().unwrap(), "--formula", "y ~ log(x) + z", "--weights", "w"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("observations: 4 of 8 (dropped: 3 with missing values, 0 fixed-effect singletons, 0 in groups without outcome variation, 1 with zero weight)"), "{out}");
    assert!(out.contains("note: 2 of the rows with missing values have every column present, but an expression of them is not a finite number"), "{out}");
    assert!(out.contains("solved in closed form"), "{out}");
    // A table file type concord does not write is refused, not written as Markdown.
    let json = dir.path().join("m.json");
    let (code, _, err) = concord(&["fit", p.to_str().unwrap(), "--formula", "y ~ x", "--json", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let docx = dir.path().join("t.docx");
    let (code, _, err) = concord(&["table", json.to_str().unwrap(), "--out", docx.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("no table format for `.docx`") && !docx.exists(), "{err}");
    // --panel none: keys that repeat legitimately are not checked.
    let rep = dir.path().join("rep.csv");
    std::fs::write(&rep, "ccode,year,y,x\n2,1990,1,0.5\n2,1990,2,1.5\n20,1990,0.5,2\n20,1991,3,1\n").unwrap();
    let (code, _, _) = concord(&["fit", rep.to_str().unwrap(), "--formula", "y ~ x"]);
    assert_eq!(code, 1);
    let (code, out, err) = concord(&["fit", rep.to_str().unwrap(), "--formula", "y ~ x", "--panel", "none"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("panel:"), "{out}");
}
