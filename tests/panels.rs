//! The panels built from the real datasets, checked against values computed
//! independently from the source files (tests/reference/panel_pins.py).

mod common;

use common::*;
use concord::data::describe::describe;
use concord::panel::PanelIndex;
use polars::prelude::*;

#[test]
fn state_year_has_one_row_per_system_member_and_year() {
    let df = state_year();
    let p = pins();
    assert_eq!(df.height() as u64, p["state_year_rows"].as_u64().unwrap());
    // Unique keys: building the panel index fails on any duplicate.
    let idx = PanelIndex::from_frame(df, &["ccode"], "year").unwrap();
    assert_eq!(idx.n_units() as u64, p["state_year_units"].as_u64().unwrap());
    let n1990 = df.clone().lazy().filter(col("year").eq(lit(1990))).collect().unwrap().height();
    assert_eq!(n1990 as u64, p["states_in_1990"].as_u64().unwrap());
}

#[test]
fn dyad_year_has_one_row_per_pair_of_members_and_year() {
    let df = dyad_year();
    assert_eq!(df.height() as u64, pins()["dyad_year_rows"].as_u64().unwrap());
    PanelIndex::from_frame(df, &["ccode1", "ccode2"], "year").unwrap();
    let bad = df.clone().lazy().filter(col("ccode1").gt_eq(col("ccode2"))).collect().unwrap().height();
    assert_eq!(bad, 0, "non-directed: ccode1 < ccode2 in every row");
}

#[test]
fn known_values_from_the_sources() {
    let p = pins();
    let sy = state_year();
    let pin = |k: &str| p[k].as_f64().unwrap();
    assert_eq!(value(sy, &[("ccode", 2), ("year", 1990)], "igo_full"), Some(pin("igo_full_usa_1990")));
    assert_eq!(value(sy, &[("ccode", 220), ("year", 1960)], "igo_full"), Some(pin("igo_full_fra_1960")));
    let dy = dyad_year();
    assert_eq!(
        value(dy, &[("ccode1", 2), ("ccode2", 20), ("year", 2000)], "dyadigos"),
        Some(pin("dyadigos_usa_can_2000"))
    );
    // Rome Statute: states bound by 2005.
    let icc = sy.clone().lazy().filter(col("year").eq(lit(2005)).and(col("icc_member").eq(lit(1)))).collect().unwrap();
    assert_eq!(icc.height() as f64, pin("icc_members_2005"));
    // MID participant onsets: the USA entered 31 disputes in the 1990s.
    let usa90s: f64 = (1990..2000).map(|y| value(sy, &[("ccode", 2), ("year", y)], "mid_count").unwrap()).sum();
    assert_eq!(usa90s, pin("mid_count_usa_1990s"));
    assert_eq!(col_sum(sy, "mid_count"), pin("mid_state_onsets_total"));
    assert_eq!(col_sum(dy, "mid_onset"), pin("dyad_mid_onsets_total"));
}

#[test]
fn unga_affinity_matches_an_independent_count() {
    let p = &pins()["unga_usa_can_1980"];
    let dy = dyad_year();
    let key = [("ccode1", 2), ("ccode2", 20), ("year", 1980)];
    assert_eq!(value(dy, &key, "unga_joint_votes"), p["joint"].as_f64());
    let aff = value(dy, &key, "unga_affinity").unwrap();
    let s = value(dy, &key, "unga_s_score").unwrap();
    assert!((aff - p["affinity"].as_f64().unwrap()).abs() < 1e-12);
    assert!((s - p["s_score"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn system_year_counts_equal_the_dispute_war_and_veto_data() {
    let sys = system_year();
    let p = pins();
    assert_eq!(sys.height(), 69);
    for (year, n) in p["mid_onsets_by_year"].as_object().unwrap() {
        let y: i64 = year.parse().unwrap();
        assert_eq!(value(sys, &[("year", y)], "mid_onsets"), n.as_f64(), "MID onsets in {y}");
    }
    assert_eq!(value(sys, &[("year", 1986)], "unsc_vetoes"), p["vetoes_1986"].as_f64());
    assert_eq!(value(sys, &[("year", 1950)], "wars"), p["wars_1950"].as_f64());
    assert_eq!(value(sys, &[("year", 1990)], "n_states"), p["states_in_1990"].as_f64());
    // Wars are coded to 2007: later years are missing, not zero.
    assert_eq!(value(sys, &[("year", 2010)], "wars"), None);
}

#[test]
fn peace_years_reset_after_each_onset_in_the_real_panel() {
    let sy = state_year();
    let idx = PanelIndex::from_frame(sy, &["ccode"], "year").unwrap();
    let onset: Vec<i64> = sy.column("mid_onset").unwrap().i64().unwrap().iter().map(|v| v.unwrap()).collect();
    let py: Vec<i64> = sy.column("peace_years").unwrap().i64().unwrap().iter().map(|v| v.unwrap()).collect();
    let mut checked = 0;
    for r in 0..sy.height() {
        if let Some(next) = idx.shifted_row(r, 1) {
            let expect = if onset[r] == 1 { 0 } else { py[r] + 1 };
            assert_eq!(py[next], expect, "row {r}");
            checked += 1;
        }
    }
    assert!(checked > 9000);
}

#[test]
fn treaty_participants_are_all_mapped_or_listed() {
    use concord::data::sources::{files, Sources};
    use concord::data::treaties::treaty_counts;
    let mut src = Sources::open(&data_dir(), &[files::TREATIES, files::CODELIST]).unwrap();
    let (_, map) = treaty_counts(&mut src, &[2], &[2000]).unwrap();
    assert!(map.unmatched.is_empty(), "unmatched UN participants: {:?}", map.unmatched);
    assert_eq!(map.not_states.len(), 35, "IGOs, territories and non-members listed in data/un_participants.toml");
    assert_eq!(map.ccode.get("Serbia"), Some(&345));
    assert_eq!(map.ccode.get("Germany"), Some(&255));
    assert_eq!(map.ccode.get("Niger"), Some(&436));
    assert_eq!(map.ccode.get("Nigeria"), Some(&475));
    assert_eq!(map.ccode.get("Dominica"), Some(&54));
    assert_eq!(map.ccode.get("Dominican Republic"), Some(&42));
    // West Germany reads the record the UN keeps under Germany.
    let (df, _) = treaty_counts(&mut src, &[260, 255], &[1985, 1985]).unwrap();
    let cum = df.column("treaties_cum").unwrap().i64().unwrap();
    assert_eq!(cum.get(0), cum.get(1));
    assert!(cum.get(0).unwrap() > 0);
}

#[test]
fn coverage_ends_are_missing_not_zero() {
    let sy = state_year();
    // GML runs to 2010; war data to 2007.
    assert_eq!(value(sy, &[("ccode", 2), ("year", 2012)], "gml_mid_onset"), None);
    assert_eq!(value(sy, &[("ccode", 2), ("year", 2009)], "war_onset"), None);
    assert_eq!(value(sy, &[("ccode", 2), ("year", 2005)], "war_onset"), Some(0.0));
}

#[test]
fn describe_reports_years_units_and_missing() {
    let d = describe(state_year()).unwrap();
    assert_eq!(d.years, Some((1946, 2014)));
    assert_eq!(d.units, Some(pins()["state_year_units"].as_u64().unwrap() as usize));
    let gml = d.columns.iter().find(|c| c.name == "gml_mid_onset").unwrap();
    assert!(gml.missing > 0 && gml.max == Some(1.0));
    let dd = describe(dyad_year()).unwrap();
    assert!(dd.units.unwrap() > 15_000);
}

// ---------------------------------------------------------------------------
// Issue 16, defects fixed: each checked against tests/reference/panel_pins.py
// (`fixes`), a pandas recomputation from the raw files with the README rules.

fn fixes() -> serde_json::Value {
    pins()["fixes"].clone()
}

/// The state-year panel over the whole system, 1816-2016, with its build report.
fn state_year_full() -> &'static (DataFrame, concord::data::panels::BuildReport) {
    static C: std::sync::OnceLock<(DataFrame, concord::data::panels::BuildReport)> = std::sync::OnceLock::new();
    C.get_or_init(|| concord::data::build(concord::data::Unit::StateYear, &data_dir(), 1816, 2016).unwrap())
}

/// Non-missing count, missing count, sum and sum of squares of a column, as the
/// reference script states them.
fn assert_stats(df: &DataFrame, column: &str, want: &serde_json::Value) {
    let v = df.column(column).unwrap().cast(&DataType::Float64).unwrap();
    let v = v.f64().unwrap();
    let n = v.iter().flatten().count() as u64;
    let sum: f64 = v.iter().flatten().sum();
    let sumsq: f64 = v.iter().flatten().map(|x| x * x).sum();
    assert_eq!(n, want["n"].as_u64().unwrap(), "{column}: non-missing");
    assert_eq!(v.null_count() as u64, want["missing"].as_u64().unwrap(), "{column}: missing");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!(close(sum, want["sum"].as_f64().unwrap()), "{column}: sum {sum} vs {}", want["sum"]);
    assert!(close(sumsq, want["sumsq"].as_f64().unwrap()), "{column}: sum of squares {sumsq} vs {}", want["sumsq"]);
}

#[test]
fn dem_low_and_dem_high_are_missing_when_either_side_is() {
    let (dy, f) = (dyad_year(), fixes());
    // 170,615 dyad-years 1946-2014 have a missing polity2 on at least one side
    // (the referee's count); before the fix 85,049 / 73,737 took the other side's value.
    assert_stats(dy, "dem_low", &f["dem_low"]);
    assert_stats(dy, "dem_high", &f["dem_high"]);
    let k = &f["dem_one_side_missing"];
    let key = [
        ("ccode1", k["ccode1"].as_i64().unwrap()),
        ("ccode2", k["ccode2"].as_i64().unwrap()),
        ("year", k["year"].as_i64().unwrap()),
    ];
    assert_eq!(value(dy, &key, "dem_low"), None);
    assert_eq!(value(dy, &key, "dem_high"), None);
    // cinc_ratio: stronger over weaker, same null rule (no CINC is missing in 1946-2014).
    let r = dy.column("cinc_ratio").unwrap().f64().unwrap();
    assert_eq!(r.iter().flatten().count() as u64, f["cinc_ratio_n"].as_u64().unwrap());
    let log_sum: f64 = r.iter().flatten().map(f64::ln).sum();
    let want = f["cinc_ratio_log_sum"].as_f64().unwrap();
    assert!((log_sum - want).abs() <= 1e-9 * want.abs(), "{log_sum} vs {want}");
}

#[test]
fn war_onset_is_entry_into_a_war_once() {
    let (sy, f) = (state_year(), fixes());
    // The audit: 141 onsets 1946-2014 (148 before the fix), 325 in 1816-2016.
    assert_eq!(col_sum(sy, "war_onset"), f["war_onsets_1946_2014"].as_f64().unwrap());
    assert_eq!(col_sum(sy, "war_onset"), 141.0);
    assert_eq!(col_sum(&state_year_full().0, "war_onset"), f["war_onsets_1816_2016"].as_f64().unwrap());
    for (k, v) in f["war_onset_rows"].as_object().unwrap() {
        let (c, y) = k.split_once('-').unwrap();
        let key = [("ccode", c.parse().unwrap()), ("year", y.parse().unwrap())];
        assert_eq!(value(sy, &key, "war_onset"), v.as_f64(), "war_onset {k}");
    }
    // China and North Korea entered the Korean War in 1950, not again in 1951.
    assert_eq!(value(sy, &[("ccode", 710), ("year", 1951)], "war_onset"), Some(0.0));
}

#[test]
fn one_peace_years_counter_per_event() {
    let (sy, dy, f) = (state_year(), dyad_year(), fixes());
    for (column, pin) in [
        ("peace_years_mid", "sy_py_mid"),
        ("peace_years", "sy_py_mid"),
        ("peace_years_gml", "sy_py_gml"),
        ("peace_years_fatal", "sy_py_fatal"),
        ("peace_years_war", "sy_py_war"),
        ("peace_years_ucdp_interstate", "sy_py_ucdp"),
    ] {
        assert_stats(sy, column, &f[pin]);
    }
    let full = &state_year_full().0;
    assert_eq!(full.height() as u64, f["sy_rows_full"].as_u64().unwrap());
    assert_stats(full, "peace_years_mid", &f["sy_full_py_mid"]);
    assert_stats(full, "peace_years_war", &f["sy_full_py_war"]);
    for (column, pin) in [
        ("peace_years_mid", "dy_py_mid"),
        ("peace_years", "dy_py_mid"),
        ("peace_years_gml", "dy_py_gml"),
        ("peace_years_fatal", "dy_py_fatal"),
    ] {
        assert_stats(dy, column, &f[pin]);
    }
    // Coverage: GML to 2010, war to 2007, UCDP from 1946; the clock of a state
    // that entered before 1946 starts in 1946 for UCDP (0 in 1946).
    assert_eq!(value(sy, &[("ccode", 2), ("year", 2011)], "peace_years_gml"), None);
    assert_eq!(value(sy, &[("ccode", 2), ("year", 2008)], "peace_years_war"), None);
    assert_eq!(value(full, &[("ccode", 2), ("year", 1945)], "peace_years_ucdp_interstate"), None);
    assert_eq!(value(full, &[("ccode", 200), ("year", 1946)], "peace_years_ucdp_interstate"), Some(0.0));
}

#[test]
fn ucdp_onsets_split_by_type() {
    let (sy, f) = (state_year(), fixes());
    assert_stats(sy, "ucdp_onset_interstate", &f["ucdp_onset_interstate_sy"]);
    assert_stats(sy, "ucdp_onset_intrastate", &f["ucdp_onset_intrastate_sy"]);
    // Missing exactly where the all-types column is (COW states with no GW code).
    let nulls =
        |c: &str| -> Vec<Option<bool>> { sy.column(c).unwrap().as_materialized_series().is_null().iter().collect() };
    assert_eq!(nulls("ucdp_onset"), nulls("ucdp_onset_interstate"));
    assert_eq!(nulls("ucdp_onset"), nulls("ucdp_onset_intrastate"));
}

#[test]
fn dyad_years_already_in_a_dispute_are_flagged() {
    let (dy, f) = (dyad_year(), fixes());
    assert_eq!(col_sum(dy, "mid_ongoing_prior"), f["mid_ongoing_prior_1946_2014"].as_f64().unwrap());
    let both = dy
        .clone()
        .lazy()
        .filter(col("mid_ongoing_prior").eq(lit(1)).and(col("mid_onset").eq(lit(1))))
        .collect()
        .unwrap()
        .height();
    assert_eq!(both as u64, f["mid_onsets_while_ongoing_1946_2014"].as_u64().unwrap());
    // A flagged year is a year with a dispute ongoing.
    let bad = dy
        .clone()
        .lazy()
        .filter(col("mid_ongoing_prior").eq(lit(1)).and(col("mid_ongoing").neq(lit(1))))
        .collect()
        .unwrap()
        .height();
    assert_eq!(bad, 0);
}

#[test]
fn polity_duplicates_keep_the_post_transition_entity() {
    let (sy, f) = (state_year(), fixes());
    for (k, v) in f["polity2_rows"].as_object().unwrap() {
        let (c, y) = k.split_once('-').unwrap();
        let (c, y): (i64, i64) = (c.parse().unwrap(), y.parse().unwrap());
        if (1946..=2014).contains(&y) {
            assert_eq!(value(sy, &[("ccode", c), ("year", y)], "polity2"), v.as_f64(), "polity2 {k}");
        }
    }
    // Sudan-North (-4) in 2011, Serbia (8) in 2006.
    assert_eq!(value(sy, &[("ccode", 625), ("year", 2011)], "polity2"), Some(-4.0));
    assert_eq!(value(sy, &[("ccode", 345), ("year", 2006)], "polity2"), Some(8.0));
    let notes = &state_year_full().1.notes;
    let polity = notes.iter().filter(|n| n.starts_with("democracy/polity5.csv")).count();
    assert_eq!(polity as u64, f["polity_duplicate_keys"].as_u64().unwrap(), "{notes:?}");
}

#[test]
fn treaty_counts_follow_the_consent_rule_and_no_record_is_missing() {
    let (sy, f) = (state_year(), fixes());
    for (column, key) in [("treaties_cum", "all"), ("treaties_hr_cum", "hr"), ("treaties_disarm_cum", "disarm")] {
        let t = &f["treaties"][key];
        let c = sy.column(column).unwrap();
        assert_eq!(c.null_count() as u64, t["missing"].as_u64().unwrap(), "{column}: missing");
        let by_year = sy
            .clone()
            .lazy()
            .group_by([col("year")])
            .agg([col(column).sum().cast(DataType::Float64)])
            .collect()
            .unwrap();
        for (y, want) in t["by_year"].as_object().unwrap() {
            let got = value(&by_year, &[("year", y.parse().unwrap())], column);
            assert_eq!(got, want.as_f64(), "{column} summed over states in {y}");
        }
    }
    for (k, v) in f["treaty_rows"].as_object().unwrap() {
        let (c, y) = k.split_once('-').unwrap();
        let key = [("ccode", c.parse().unwrap()), ("year", y.parse().unwrap())];
        assert_eq!(value(sy, &key, "treaties_cum"), v.as_f64(), "treaties_cum {k}");
    }
    for (k, v) in f["treaty_disarm_rows"].as_object().unwrap() {
        let (c, y) = k.split_once('-').unwrap();
        let key = [("ccode", c.parse().unwrap()), ("year", y.parse().unwrap())];
        assert_eq!(value(sy, &key, "treaties_disarm_cum"), v.as_f64(), "treaties_disarm_cum {k}");
    }
    // No record is missing in every count, not 0: Yugoslavia 1990, the GDR.
    for col_ in ["treaties_cum", "treaties_hr_cum", "treaties_disarm_cum", "icc_member"] {
        assert_eq!(value(sy, &[("ccode", 345), ("year", 1990)], col_), None, "{col_}");
        assert_eq!(value(sy, &[("ccode", 265), ("year", 1980)], col_), None, "{col_}");
    }
    // The dated rows the rule leaves out: 77 provisional applications (commodity
    // agreements), counted here with concord's rule on the raw file.
    use concord::data::read::Kind;
    use concord::data::sources::{files, Sources};
    let src = Sources::open(&data_dir(), &[files::TREATIES]).unwrap();
    let t = src
        .read(files::TREATIES, &[("treaty_id", Kind::Str), ("consent_date", Kind::Str), ("consent_type", Kind::Str)])
        .unwrap();
    let (id, date, ty) = (
        t.column("treaty_id").unwrap().str().unwrap(),
        t.column("consent_date").unwrap().str().unwrap(),
        t.column("consent_type").unwrap().str().unwrap(),
    );
    let dropped = (0..t.height())
        .filter(|&i| date.get(i).is_some_and(|d| !d.is_empty()))
        .filter(|&i| {
            concord::data::treaties::counts_as_consent(ty.get(i).unwrap_or(""), id.get(i).unwrap()) == Some(false)
        })
        .count();
    assert_eq!(dropped as u64, f["provisional_rows_dropped"].as_u64().unwrap());
    assert_eq!(dropped, 77);
}

/// `--directed`: both orders of every pair, the pair's columns identical in
/// both, the directional ones from the row's first state (pins from the raw
/// files: COW's directed dyad-years, MID Side A in onset years, ATOP's
/// directed obligations).
#[test]
fn directed_dyad_years_mirror_every_pair_and_keep_direction() {
    let nd = dyad_year();
    let src =
        concord::data::sources::Sources::open(&data_dir(), &concord::data::Unit::DyadYear.needed_files()).unwrap();
    let df = concord::data::panels::directed(nd.clone(), &src).unwrap();
    let p = &pins()["directed"];
    assert_eq!(df.height() as u64, p["rows"].as_u64().unwrap());
    assert_eq!(df.height(), 2 * nd.height());
    PanelIndex::from_frame(&df, &["ccode1", "ccode2"], "year").unwrap();
    let sum = |c: &str| {
        df.column(c).unwrap().as_materialized_series().cast(&DataType::Float64).unwrap().sum::<f64>().unwrap()
    };
    for c in ["mid_init", "mid_sidea", "mid_target", "atop_defense_dir"] {
        assert_eq!(sum(c) as u64, p[c].as_u64().unwrap(), "{c}");
    }
    // Every row's mirror: the pair's columns equal, the directions swapped.
    let j = with_mirror(&df, &["pair", "dyadigos", "cinc_ratio", "mid_onset", "mid_target", "atop_defense_dir"]);
    assert_eq!(j.height(), df.height());
    let differ = |a: &str, b: &str| j.clone().lazy().filter(col(a).neq_missing(col(b))).collect().unwrap().height();
    for c in ["pair", "dyadigos", "cinc_ratio", "mid_onset"] {
        assert_eq!(differ(c, &format!("{c}_m")), 0, "{c} differs between the two orders of a pair");
    }
    // Side A's row is Side B's mirror; onsets split into the two; initiators
    // are originators on Side A.
    assert_eq!(differ("mid_sidea", "mid_target_m"), 0);
    let split =
        j.clone().lazy().filter((col("mid_sidea") + col("mid_target")).neq(col("mid_onset"))).collect().unwrap();
    assert_eq!(split.height(), 0);
    let init_not_a = j.clone().lazy().filter(col("mid_init").gt(col("mid_sidea"))).collect().unwrap();
    assert_eq!(init_not_a.height(), 0);
    // One-sided defence pledges stay one-sided.
    let one_sided = j
        .clone()
        .lazy()
        .filter(col("atop_defense_dir").eq(lit(1)).and(col("atop_defense_dir_m").eq(lit(0))))
        .collect()
        .unwrap()
        .height();
    assert_eq!(one_sided as u64, p["one_sided_defense"].as_u64().unwrap());
    // Canada (20) against the United States (2), 1979: Canada on Side A.
    assert_eq!(value(&df, &[("ccode1", 20), ("ccode2", 2), ("year", 1979)], "mid_sidea"), Some(1.0));
    assert_eq!(value(&df, &[("ccode1", 2), ("ccode2", 20), ("year", 1979)], "mid_target"), Some(1.0));
    assert_eq!(value(&df, &[("ccode1", 2), ("ccode2", 20), ("year", 1979)], "dyad"), Some(2020.0));
    assert_eq!(value(&df, &[("ccode1", 20), ("ccode2", 2), ("year", 1979)], "dyad"), Some(20002.0));
    assert_eq!(value(&df, &[("ccode1", 20), ("ccode2", 2), ("year", 1979)], "pair"), Some(2020.0));
}

/// `conttype` (closest contiguity in force) and `relevant` (contiguous up to
/// 400 miles of water or with a major power), against pandas counts from COW
/// Direct Contiguity 3.2 and the COW major powers; `--relevant` keeps exactly
/// the flagged rows.
#[test]
fn contiguity_types_and_politically_relevant_dyads() {
    let df = dyad_year();
    let p = &pins()["relevant"];
    let counts =
        df.column("conttype").unwrap().as_materialized_series().value_counts(true, false, "n".into(), false).unwrap();
    let types = counts.column("conttype").unwrap().i64().unwrap().clone();
    let n = counts.column("n").unwrap().as_materialized_series().cast(&DataType::Int64).unwrap();
    let n = n.i64().unwrap();
    let got: std::collections::BTreeMap<String, i64> =
        types.iter().zip(n.iter()).map(|(t, n)| (t.unwrap().to_string(), n.unwrap())).collect();
    let want: std::collections::BTreeMap<String, i64> =
        p["conttype_counts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap())).collect();
    assert_eq!(got, want);
    let kept = concord::data::panels::only_relevant(df.clone()).unwrap();
    assert_eq!(kept.height() as u64, p["relevant"].as_u64().unwrap());
    // The United States and Canada (land border) and any pair with a major
    // power are relevant; Bolivia (145) and Zambia (551) are not.
    assert_eq!(value(df, &[("ccode1", 2), ("ccode2", 20), ("year", 1990)], "relevant"), Some(1.0));
    assert_eq!(value(df, &[("ccode1", 145), ("ccode2", 551), ("year", 1990)], "relevant"), Some(0.0));
    assert!(concord::data::panels::only_relevant(state_year().clone()).is_err());
}

/// Revisionist states in the directed panel (`mid_revisionist`,
/// `mid_revisionist_terr`: `ccode1` a revisionist of the dispute, MIDB
/// `revstate`, territorial `revtype`), against tests/reference/mid_revisionist.py:
/// totals 1816-2014 and 1946-2014, eight yearly sums, twelve named
/// directed dyad-years (one-sided, both-sided and neither); in the panel,
/// a revisionist row is an onset row.
#[test]
fn revisionist_states_match_the_reference() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/mid_revisionist.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let src =
        concord::data::sources::Sources::open(&data_dir(), &concord::data::Unit::DyadYear.needed_files()).unwrap();
    let m = src.mid_ddy_directional().unwrap();
    let sum_in = |df: &DataFrame, c: &str, from: i64, to: i64| {
        let f = df.clone().lazy().filter(col("year").gt_eq(lit(from)).and(col("year").lt_eq(lit(to))));
        f.select([col(c).sum()]).collect().unwrap().column(c).unwrap().i64().unwrap().get(0).unwrap() as u64
    };
    for (range, (from, to)) in [("1816-2014", (1816, 2014)), ("1946-2014", (1946, 2014))] {
        for c in ["mid_revisionist", "mid_revisionist_terr"] {
            assert_eq!(sum_in(&m, c, from, to), r["totals"][range][c].as_u64().unwrap(), "{c} {range}");
        }
    }
    for (y, want) in r["by_year"].as_object().unwrap() {
        let y: i64 = y.parse().unwrap();
        for c in ["mid_revisionist", "mid_revisionist_terr"] {
            assert_eq!(sum_in(&m, c, y, y), want[c].as_u64().unwrap(), "{c} {y}");
        }
    }
    let named = r["named"].as_array().unwrap();
    assert!(named.len() >= 12);
    for n in named {
        let key = |k: &str| n[k].as_i64().unwrap();
        let at = [("ccode1", key("ccode1")), ("ccode2", key("ccode2")), ("year", key("year"))];
        for c in ["mid_revisionist", "mid_revisionist_terr"] {
            assert_eq!(value(&m, &at, c), Some(key(c) as f64), "{c} {at:?}");
        }
    }
    // In the directed panel (1946-2014): the same totals, only in onset years.
    let df = concord::data::panels::directed(dyad_year().clone(), &src).unwrap();
    for c in ["mid_revisionist", "mid_revisionist_terr"] {
        assert_eq!(sum_in(&df, c, 1946, 2014), r["totals"]["1946-2014"][c].as_u64().unwrap(), "panel {c}");
        let stray = df.clone().lazy().filter(col(c).gt(col("mid_onset"))).collect().unwrap().height();
        assert_eq!(stray, 0, "{c} = 1 in a dyad-year without an onset");
    }
}

/// The system-year panel's means and quartiles of state-year indicators equal
/// pandas' on the state-year panel (tests/reference/yearly_summary.py).
#[test]
fn system_year_quartiles_equal_pandas_on_the_state_year_panel() {
    let sys = system_year();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/yearly_summary.json")).unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let refs = refs.as_object().unwrap();
    assert_eq!(refs.len(), 12);
    for (key, r) in refs {
        let (var, year) = key.split_once('/').unwrap();
        let year: i64 = year.parse().unwrap();
        for stat in ["mean", "q25", "q75"] {
            let got = value(sys, &[("year", year)], &format!("{stat}_{var}")).unwrap();
            let want = r[stat].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{stat}_{var} in {year}: {got} vs pandas {want}"
            );
        }
    }
    // The summary also counts the units behind each mean.
    let s = concord::data::panels::yearly_summary(state_year(), &["igo_full"]).unwrap();
    let n = value(&s, &[("year", 1990)], "n_igo_full").unwrap();
    assert_eq!(n, refs["igo_full/1990"]["n"].as_f64().unwrap());
}
