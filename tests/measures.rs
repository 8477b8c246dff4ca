//! The measures `concord data build --add` adds (src/data/measures/), checked
//! against an independent pandas recomputation from the raw files
//! (tests/reference/measures.py -> measures.json): named state-years,
//! dyad-years and system-years, yearly totals, and every variable's coverage.

mod common;

use std::sync::OnceLock;

use common::{concord, data_dir, value};
use concord::data::measures::{resolve, MEASURES};
use concord::data::panels::{build_with, Unit};
use polars::prelude::*;

const FROM: i64 = 1946;
const TO: i64 = 2014;

fn refs() -> &'static serde_json::Value {
    static C: OnceLock<serde_json::Value> = OnceLock::new();
    C.get_or_init(|| {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/measures.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

fn names_at(unit: Unit) -> Vec<String> {
    MEASURES.iter().filter(|m| m.at(unit).next().is_some()).map(|m| m.name.to_string()).collect()
}

/// The panel of `unit` with every measure that has variables at it.
fn panel(unit: Unit, cell: &'static OnceLock<DataFrame>) -> &'static DataFrame {
    cell.get_or_init(|| {
        let add = resolve(&names_at(unit)).unwrap();
        build_with(unit, &data_dir(), FROM, TO, &add).expect("panel with measures builds").0
    })
}

fn sy() -> &'static DataFrame {
    static C: OnceLock<DataFrame> = OnceLock::new();
    panel(Unit::StateYear, &C)
}

fn dy() -> &'static DataFrame {
    static C: OnceLock<DataFrame> = OnceLock::new();
    panel(Unit::DyadYear, &C)
}

fn sys() -> &'static DataFrame {
    static C: OnceLock<DataFrame> = OnceLock::new();
    panel(Unit::SystemYear, &C)
}

fn close(got: Option<f64>, want: Option<f64>, what: &str) {
    match (got, want) {
        (Some(g), Some(w)) => {
            assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{what}: concord {g}, reference {w}")
        }
        (g, w) => assert_eq!(g, w, "{what}"),
    }
}

fn key(k: &str) -> Vec<i64> {
    k.split('-').map(|x| x.parse().unwrap()).collect()
}

/// Compare every named unit of `section` (an object "key" -> {column: value}).
fn named(df: &DataFrame, section: &serde_json::Value, keys: &[&str]) -> usize {
    let mut n = 0;
    for (k, cols) in section.as_object().unwrap() {
        let kv = key(k);
        let key: Vec<(&str, i64)> = keys.iter().copied().zip(kv.iter().copied()).collect();
        for (c, want) in cols.as_object().unwrap() {
            if c == "joint" {
                continue;
            }
            close(value(df, &key, c), want.as_f64(), &format!("{c} at {k}"));
            n += 1;
        }
    }
    n
}

/// Yearly sums of `column` in the panel.
fn yearly_sum(df: &DataFrame, column: &str) -> std::collections::BTreeMap<i64, f64> {
    let out =
        df.clone().lazy().group_by([col("year")]).agg([col(column).cast(DataType::Float64).sum()]).collect().unwrap();
    let y = out.column("year").unwrap().i64().unwrap();
    let s = out.column(column).unwrap().f64().unwrap();
    y.iter().zip(s.iter()).map(|(y, s)| (y.unwrap(), s.unwrap_or(0.0))).collect()
}

fn totals(df: &DataFrame, section: &serde_json::Value) -> usize {
    let mut n = 0;
    for (column, by_year) in section.as_object().unwrap() {
        let got = yearly_sum(df, column);
        for (y, want) in by_year.as_object().unwrap() {
            let y: i64 = y.parse().unwrap();
            close(got.get(&y).copied(), want.as_f64(), &format!("yearly total of {column} in {y}"));
            n += 1;
        }
    }
    n
}

#[test]
fn peacekeeping_matches_the_reference() {
    let r = &refs()["peacekeeping"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 40);
    assert!(totals(sy(), &r["totals"]) >= 40);
    let mut n = 0;
    for (y, cols) in r["system"].as_object().unwrap() {
        let y: i64 = y.parse().unwrap();
        if y > TO {
            continue;
        }
        for (c, want) in cols.as_object().unwrap() {
            close(value(sys(), &[("year", y)], c), want.as_f64(), &format!("{c} in {y}"));
            n += 1;
        }
    }
    assert_eq!(n, 3 * 25);
}

#[test]
fn unsc_matches_the_reference() {
    let r = &refs()["unsc"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 18);
    assert!(totals(sy(), &r["totals"]) >= 2 * 69);
    let mut n = 0;
    for (y, cols) in r["system"].as_object().unwrap() {
        for (c, want) in cols.as_object().unwrap() {
            close(value(sys(), &[("year", y.parse().unwrap())], c), want.as_f64(), &format!("{c} in {y}"));
            n += 1;
        }
    }
    assert_eq!(n, 5 * 69);
    // China's seat: the Republic of China (713) holds it 1950-1971.
    assert_eq!(value(sy(), &[("ccode", 713), ("year", 1960)], "unsc_permanent"), Some(1.0));
    assert_eq!(value(sy(), &[("ccode", 710), ("year", 1960)], "unsc_permanent"), Some(0.0));
    assert_eq!(value(sy(), &[("ccode", 710), ("year", 1972)], "unsc_permanent"), Some(1.0));
}

#[test]
fn sanctions_match_the_reference() {
    let r = &refs()["sanctions"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 80);
    assert!(totals(sy(), &r["totals"]) >= 11 * 60);
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 12);
    assert!(totals(dy(), &r["dyad_totals"]) >= 2 * 60);
}

#[test]
fn atop_matches_the_reference() {
    let r = &refs()["atop"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 28);
    assert!(totals(sy(), &r["totals"]) >= 2 * 69);
}

#[test]
fn ideal_points_match_the_reference() {
    let r = &refs()["ideal_points"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 30);
    assert!(totals(sy(), &r["totals"]) >= 2 * 68);
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 5);
}

#[test]
fn unga_kappa_and_issue_affinity_match_the_reference() {
    let r = &refs()["unga"];
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 6 * 9);
}

/// Every variable: missing outside its years, present inside them (and never
/// missing inside them when an unrecorded unit is 0).
#[test]
fn every_variable_is_missing_outside_its_years_and_present_inside() {
    for (unit, df) in [(Unit::StateYear, sy()), (Unit::DyadYear, dy()), (Unit::SystemYear, sys())] {
        for m in MEASURES {
            for v in m.at(unit) {
                let c = df.column(v.name).unwrap_or_else(|_| panic!("{unit} panel has no {}", v.name));
                let year = df.column("year").unwrap().i64().unwrap();
                let (mut outside, mut inside, mut inside_missing) = (0, 0, 0);
                for (y, x) in year.iter().zip(c.as_materialized_series().iter()) {
                    let y = y.unwrap();
                    let present = !matches!(x, AnyValue::Null);
                    if y < v.years.0 || y > v.years.1 {
                        outside += present as usize;
                    } else {
                        inside += present as usize;
                        inside_missing += !present as usize;
                    }
                }
                assert_eq!(outside, 0, "{unit} {}: {outside} values outside {:?}", v.name, v.years);
                if v.years.0 <= TO && v.years.1 >= FROM {
                    assert!(inside > 0, "{unit} {}: no values inside {:?}", v.name, v.years);
                }
                if v.zero_inside {
                    assert_eq!(inside_missing, 0, "{unit} {}: missing inside {:?}", v.name, v.years);
                }
            }
        }
    }
}

#[test]
fn adding_measures_leaves_todays_columns_and_rows_unchanged() {
    for (unit, base, added) in [
        (Unit::StateYear, common::state_year(), sy()),
        (Unit::DyadYear, common::dyad_year(), dy()),
        (Unit::SystemYear, common::system_year(), sys()),
    ] {
        assert_eq!(base.height(), added.height(), "{unit}");
        let names: Vec<PlSmallStr> = base.get_column_names().into_iter().cloned().collect();
        let same = added.select(names).unwrap();
        assert!(same.equals_missing(base), "{unit}: today's columns changed");
        assert!(added.width() > base.width(), "{unit}");
    }
}

#[test]
fn unknown_add_name_is_exit_1_with_the_nearest_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sy.parquet");
    let data = data_dir();
    let (code, _, err) = concord(&[
        "data",
        "build",
        "--unit",
        "state-year",
        "--data-dir",
        data.to_str().unwrap(),
        "--add",
        "unsc,peacekeepng",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unknown source `peacekeepng`; did you mean `peacekeeping`?"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_missing_source_file_is_exit_1_naming_it_and_where_to_get_it() {
    // A data dir with every file but the peacekeeping ones.
    let data = data_dir();
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "peacekeeping" {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let out = dir.path().join("sy.parquet");
    let (code, _, err) = concord(&[
        "data",
        "build",
        "--unit",
        "state-year",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--add",
        "peacekeeping",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("3 file(s) missing from the data dir"), "{err}");
    assert!(
        err.contains("peacekeeping/ipi_tcc_country_month.csv (dataset peacekeeping; get it from https://www.ipinst.org/providing-for-peacekeeping-database)"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_source_without_variables_at_the_unit_is_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dy.parquet");
    let data = data_dir();
    let (code, _, err) = concord(&[
        "data",
        "build",
        "--unit",
        "dyad-year",
        "--data-dir",
        data.to_str().unwrap(),
        "--add",
        "unsc",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`unsc` has no dyad-year variables (it has state-year, system-year)"), "{err}");
    assert!(!out.exists());
}

#[test]
fn data_vars_lists_every_variable_with_source_years_and_citation() {
    let (code, out, err) = concord(&["data", "vars", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let n: usize = MEASURES.iter().map(|m| m.variables.len() + m.directed.map_or(0, |d| d.0.len())).sum();
    assert_eq!(rows.len(), n);
    let dir = rows.iter().find(|r| r["name"] == "sanc_ongoing_dir").unwrap();
    assert_eq!(dir["unit"], "dyad-year, --directed");
    let pko = rows.iter().find(|r| r["name"] == "pko_total").unwrap();
    assert_eq!(pko["source"], "peacekeeping");
    assert_eq!(pko["unit"], "state-year");
    assert_eq!(pko["years"], serde_json::json!([1990, 2014]));
    assert!(pko["citation"].as_str().unwrap().contains("International Peace Institute"));
    let (code, out, _) = concord(&["data", "vars", "--unit", "dyad-year"]);
    assert_eq!(code, 0);
    assert!(out.contains("sanc_ongoing") && out.contains("ideal_dist") && !out.contains("pko_total"), "{out}");
    assert!(out.contains("sanctions (concord data build --unit dyad-year --directed --add sanctions)"), "{out}");
    let (_, out, _) = concord(&["data", "vars", "--unit", "state-year"]);
    assert!(!out.contains("sanc_ongoing_dir"), "{out}");
}

#[test]
fn igo_by_kind_matches_the_reference_and_sums_to_cow_igo_sy() {
    let r = &refs()["igo"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 35);
    assert!(totals(sy(), &r["totals"]) >= 5 * 69);
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 30);
    // Political + economic + social full memberships = cow_igo_sy's count, in every state-year.
    let diff = sy()
        .clone()
        .lazy()
        .filter(col("igo_full").is_not_null())
        .filter((col("igo_political") + col("igo_economic") + col("igo_social")).neq(col("igo_full")))
        .collect()
        .unwrap();
    assert_eq!(diff.height(), 0, "{diff}");
    let n = sy().clone().lazy().filter(col("igo_full").is_not_null()).collect().unwrap().height();
    assert!(n > 8000, "{n} state-years with igo_full");
}

#[test]
fn rivalries_match_the_reference() {
    let r = &refs()["rivalry"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 10);
    assert!(totals(sy(), &r["totals"]) >= 2 * 60);
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 6 * 6);
    assert!(totals(dy(), &r["dyad_totals"]) >= 2 * 60);
}

#[test]
fn controls_match_the_reference() {
    let r = &refs()["controls"];
    assert!(named(sy(), &r["named"], &["ccode", "year"]) >= 7 * 10);
    assert!(totals(sy(), &r["totals"]) >= 69);
}

#[test]
fn cow_alliances_match_the_reference() {
    let r = &refs()["cow_alliance"];
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 6 * 4);
    assert!(totals(dy(), &r["dyad_totals"]) >= 4 * 67);
}

#[test]
fn capital_distances_match_the_reference() {
    // US-Brazil before, in and after the year Brasilia became the capital;
    // and France-West Germany, USA-USSR, PRC-ROC.
    let r = &refs()["capitals"];
    assert!(named(dy(), &r["dyad_named"], &["ccode1", "ccode2", "year"]) >= 7);
}

/// `--directed --add sanctions`: sender -> target counts per directed
/// dyad-year, against the reference; in every pair the two directions add up
/// to the non-directed count.
#[test]
fn directed_sanctions_go_from_sender_to_target() {
    let add = resolve(&["sanctions".to_string()]).unwrap();
    let (df, _) = concord::data::panels::build_directed(&data_dir(), FROM, TO, &add).unwrap();
    let r = &refs()["sanctions"];
    assert!(named(&df, &r["directed_named"], &["ccode1", "ccode2", "year"]) >= 12);
    assert!(totals(&df, &r["directed_totals"]) >= 2 * 60);
    let bad = common::with_mirror(&df, &["sanc_ongoing_dir"])
        .lazy()
        .filter(
            col("year")
                .lt_eq(lit(2005))
                .and((col("sanc_ongoing_dir") + col("sanc_ongoing_dir_m")).neq(col("sanc_ongoing"))),
        )
        .collect()
        .unwrap();
    assert_eq!(bad.height(), 0);
    assert_eq!(
        value(&df, &[("ccode1", 2), ("ccode2", 365), ("year", 2010)], "sanc_ongoing_dir"),
        None,
        "outside TIES (1945-2005): missing"
    );
}

/// Alliance-portfolio similarity over every system member (S, CINC-weighted
/// S, kappa) against tests/reference/atop_similarity.py: named dyad-years
/// across 1870-2016 and yearly means, counts and missing counts.
#[test]
fn atop_portfolio_similarity_matches_the_reference() {
    use concord::data::measures::atop;
    use concord::data::sources::Sources;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/atop_similarity.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let src = Sources::open(&data_dir(), atop::MEASURE.files).unwrap();
    let df = (atop::MEASURE.frame)(&src, Unit::DyadYear).unwrap();
    let col = |n: &str| df.column(n).unwrap().f64().unwrap().clone();
    let (s, s_wt, kappa) = (col("atop_s"), col("atop_s_wt"), col("atop_kappa"));
    let ints = |n: &str| df.column(n).unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>();
    let (c1, c2, yr) = (ints("ccode1"), ints("ccode2"), ints("year"));
    let mut at = std::collections::HashMap::new();
    for i in 0..df.height() {
        assert!(c1[i] < c2[i], "row {i}: ccode1 {} >= ccode2 {}", c1[i], c2[i]);
        assert!(at.insert((c1[i], c2[i], yr[i]), i).is_none(), "row {i} repeats a dyad-year");
    }
    let pairs = r["pairs"].as_array().unwrap();
    assert!(pairs.len() >= 15);
    for p in pairs {
        let k = (p["ccode1"].as_i64().unwrap(), p["ccode2"].as_i64().unwrap(), p["year"].as_i64().unwrap());
        let i = at[&k];
        close(s.get(i), p["atop_s"].as_f64(), &format!("atop_s {k:?}"));
        close(s_wt.get(i), p["atop_s_wt"].as_f64(), &format!("atop_s_wt {k:?}"));
        close(kappa.get(i), p["atop_kappa"].as_f64(), &format!("atop_kappa {k:?}"));
    }
    let years = r["years"].as_object().unwrap();
    assert!(years.len() >= 10);
    for (y, want) in years {
        let y: i64 = y.parse().unwrap();
        let rows: Vec<usize> = (0..df.height()).filter(|&i| yr[i] == y).collect();
        assert_eq!(rows.len() as u64, want["dyads"].as_u64().unwrap(), "dyads in {y}");
        let mean = |c: &Float64Chunked| {
            let v: Vec<f64> = rows.iter().filter_map(|&i| c.get(i)).collect();
            (v.iter().sum::<f64>() / v.len() as f64, rows.len() - v.len())
        };
        for (c, m, miss) in [
            (&s, "mean_s", None),
            (&s_wt, "mean_s_wt", Some("missing_s_wt")),
            (&kappa, "mean_kappa", Some("missing_kappa")),
        ] {
            let (got, missing) = mean(c);
            close(Some(got), want[m].as_f64(), &format!("{m} {y}"));
            if let Some(miss) = miss {
                assert_eq!(missing as u64, want[miss].as_u64().unwrap(), "{miss} {y}");
            }
        }
    }
}

/// Dyadic trade (flows, smoothed flows, Barbieri trade shares) against
/// tests/reference/trade.py: twelve named dyad-years (missing flows, missing
/// and absent state totals, zero trade) and eight yearly sums, means and counts.
#[test]
fn trade_flows_and_shares_match_the_reference() {
    use concord::data::measures::trade;
    use concord::data::sources::Sources;
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/trade.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let src = Sources::open(&data_dir(), trade::MEASURE.files).unwrap();
    let df = (trade::MEASURE.frame)(&src, Unit::DyadYear).unwrap();
    let vars = ["trade_flow", "trade_flow_smooth", "trade_share_low", "trade_share_high"];
    let named = r["named"].as_array().unwrap();
    assert!(named.len() >= 12);
    for n in named {
        let at: Vec<(&str, i64)> = ["ccode1", "ccode2", "year"].iter().map(|k| (*k, n[*k].as_i64().unwrap())).collect();
        for v in vars {
            close(value(&df, &at, v), n[v].as_f64(), &format!("{v} {at:?}"));
        }
    }
    let year = df.column("year").unwrap().i64().unwrap().clone();
    for (y, want) in r["years"].as_object().unwrap() {
        let y: i64 = y.parse().unwrap();
        let rows: Vec<usize> = (0..df.height()).filter(|&i| year.get(i) == Some(y)).collect();
        assert_eq!(rows.len() as u64, want["rows"].as_u64().unwrap(), "rows {y}");
        let got = |v: &str| -> Vec<f64> {
            let c = df.column(v).unwrap().f64().unwrap();
            rows.iter().filter_map(|&i| c.get(i)).collect()
        };
        let (flow, smooth, low, high) =
            (got("trade_flow"), got("trade_flow_smooth"), got("trade_share_low"), got("trade_share_high"));
        assert_eq!(flow.len() as u64, want["n_flow"].as_u64().unwrap(), "n_flow {y}");
        assert_eq!(smooth.len() as u64, want["n_flow_smooth"].as_u64().unwrap(), "n_flow_smooth {y}");
        assert_eq!(low.len() as u64, want["n_share"].as_u64().unwrap(), "n_share {y}");
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        close(Some(flow.iter().sum()), want["sum_flow"].as_f64(), &format!("sum_flow {y}"));
        close(Some(smooth.iter().sum()), want["sum_flow_smooth"].as_f64(), &format!("sum_flow_smooth {y}"));
        close(Some(mean(&low)), want["mean_share_low"].as_f64(), &format!("mean_share_low {y}"));
        close(Some(mean(&high)), want["mean_share_high"].as_f64(), &format!("mean_share_high {y}"));
    }
}

/// Agreements in force per state-year (IEADB; GGO by domain) against
/// tests/reference/treaty_parties.py: fifteen named state-years and the sums
/// over states of every variable in six years.
#[test]
fn treaty_parties_match_the_reference() {
    use concord::data::measures::treaty_parties;
    use concord::data::sources::Sources;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/treaty_parties.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let src = Sources::open(&data_dir(), treaty_parties::MEASURE.files).unwrap();
    let df = (treaty_parties::MEASURE.frame)(&src, Unit::StateYear).unwrap();
    let vars: Vec<&str> = treaty_parties::MEASURE.variables.iter().map(|v| v.name).collect();
    assert_eq!(vars.len(), 8);
    let named = r["named"].as_array().unwrap();
    assert!(named.len() >= 15);
    for n in named {
        let at = [("ccode", n["ccode"].as_i64().unwrap()), ("year", n["year"].as_i64().unwrap())];
        for v in &vars {
            // A state-year the frame lacks has nothing in force: 0 in the panel.
            close(Some(value(&df, &at, v).unwrap_or(0.0)), n[*v].as_f64(), &format!("{v} {at:?}"));
        }
    }
    let sums = yearly_sum_all(&df, &vars);
    for (y, want) in r["totals"].as_object().unwrap() {
        let y: i64 = y.parse().unwrap();
        for v in &vars {
            let got = sums.get(&(y, v.to_string())).copied().unwrap_or(0.0);
            close(Some(got), want[*v].as_f64(), &format!("total {v} {y}"));
        }
    }
}

fn yearly_sum_all(df: &DataFrame, vars: &[&str]) -> std::collections::HashMap<(i64, String), f64> {
    let year = df.column("year").unwrap().i64().unwrap();
    let mut out = std::collections::HashMap::new();
    for v in vars {
        let c = df.column(v).unwrap().cast(&DataType::Float64).unwrap();
        for (y, x) in year.iter().zip(c.f64().unwrap().iter()) {
            *out.entry((y.unwrap(), v.to_string())).or_insert(0.0) += x.unwrap_or(0.0);
        }
    }
    out
}
