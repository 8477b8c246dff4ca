//! COW Formal Alliances 4.1 (Gibler 2009) as non-directed dyad-year flags.
//!
//! peacesciencer withdrew this table at its maintainer's request and
//! recommends ATOP (`atop`): it is here for replications of published
//! tables that used it (Bremer's dangerous dyads as re-run in Miller 2022).
//! The file lists only allied dyad-years, each in both orders; a pair is
//! allied in a year when either order says so, and a pair not listed in the
//! covered years is 0.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// The COW alliance dyad-year file.
pub const FILE: &str = "cow_alliance/cow_alliance_ddy.csv";

const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1816, 2012);
const FLAGS: [&str; 4] = ["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"];

/// The COW alliance measure.
pub const MEASURE: Measure = Measure {
    name: "cow_alliance",
    datasets: &["cow_alliance"],
    files: &[FILE],
    variables: &[
        Variable::new("cow_defense", "Defence pact (COW)", DY, "0/1", YEARS, true,
            "1 if the two states share a COW defence pact in the year (either order of the pair in the COW dyad-year file)."),
        Variable::new("cow_neutral", "Neutrality pact (COW)", DY, "0/1", YEARS, true,
            "1 if the two states share a COW neutrality pact in the year."),
        Variable::new("cow_nonagg", "Non-aggression pact (COW)", DY, "0/1", YEARS, true,
            "1 if the two states share a COW non-aggression pact in the year."),
        Variable::new("cow_entente", "Entente (COW)", DY, "0/1", YEARS, true,
            "1 if the two states share a COW entente in the year."),
    ],
    frame,
    directed: None,
};

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let mut cols = vec![("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)];
    cols.extend(FLAGS.iter().map(|n| (*n, Kind::Int)));
    let df = src.read(FILE, &cols)?;
    let (a, b, y) = (ints(&df, "ccode1", FILE)?, ints(&df, "ccode2", FILE)?, ints(&df, "year", FILE)?);
    let flags: Vec<Vec<Option<i64>>> = FLAGS.iter().map(|n| ints(&df, n, FILE)).collect::<Result<_>>()?;
    let mut out: BTreeMap<(i64, i64, i64), [Option<f64>; 4]> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(y)) = (a[i], b[i], y[i]) else { continue };
        let e = out.entry((a.min(b), a.max(b), y)).or_insert([Some(0.0); 4]);
        for (k, f) in flags.iter().enumerate() {
            if f[i].is_some_and(|v| v > 0) {
                e[k] = Some(1.0);
            }
        }
    }
    frame::dyad_year(FLAGS, &out, FILE)
}
