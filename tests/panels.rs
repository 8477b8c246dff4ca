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
