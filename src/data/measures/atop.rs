//! Alliance commitments per state-year from ATOP 5.1 (directed dyad-years: the
//! obligation flags of a row are `ccode1`'s commitment toward `ccode2`).
//!
//! The dyad-year file has no alliance identifiers, so a state's defence pacts
//! are counted as the partners it has pledged to defend, not as treaties.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// The ATOP directed dyad-year file (also read by the default dyad-year panel).
pub const FILE: &str = crate::data::sources::files::ATOP;

const SY: Unit = Unit::StateYear;
const YEARS: (i64, i64) = (1815, 2018);

/// The ATOP measure.
pub const MEASURE: Measure = Measure {
    name: "atop",
    datasets: &["atop"],
    files: &[FILE],
    variables: &[
        Variable::new("atop_defense_partners", "Defence pact partners", SY, "count", YEARS, true,
            "States toward which the state has an ATOP defence obligation in the year (rows with ccode1 = the state and atop_defense = 1)."),
        Variable::new("atop_defended_by", "States pledged to defend it", SY, "count", YEARS, true,
            "States with an ATOP defence obligation toward the state in the year (rows with ccode2 = the state and atop_defense = 1)."),
        Variable::new("atop_any_partners", "Alliance partners", SY, "count", YEARS, true,
            "States toward which the state has any ATOP obligation (defence, offence, neutrality, non-aggression or consultation) in the year."),
        Variable::new("atop_defense_pact", "Any defence pact", SY, "0/1", YEARS, true,
            "1 if the state has a defence obligation toward at least one state in the year."),
    ],
    frame,
    directed: None,
};

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let names = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"];
    let mut cols = vec![("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)];
    cols.extend(names.iter().map(|n| (*n, Kind::Int)));
    let df = src.read(FILE, &cols)?;
    let (a, b, y) = (ints(&df, "ccode1", FILE)?, ints(&df, "ccode2", FILE)?, ints(&df, "year", FILE)?);
    let flags: Vec<Vec<Option<i64>>> = names.iter().map(|n| ints(&df, n, FILE)).collect::<Result<_>>()?;
    // (ccode, year) -> partners defended, defenders, partners with any obligation.
    let mut sets: BTreeMap<(i64, i64), [BTreeSet<i64>; 3]> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(y)) = (a[i], b[i], y[i]) else { continue };
        let def = flags[0][i].is_some_and(|v| v > 0);
        let any = flags.iter().any(|f| f[i].is_some_and(|v| v > 0));
        if def {
            sets.entry((a, y)).or_default()[0].insert(b);
            sets.entry((b, y)).or_default()[1].insert(a);
        }
        if any {
            sets.entry((a, y)).or_default()[2].insert(b);
        }
    }
    let out: BTreeMap<(i64, i64), [Option<f64>; 4]> = sets
        .into_iter()
        .map(|(k, s)| {
            let n = s[0].len() as f64;
            (k, [Some(n), Some(s[1].len() as f64), Some(s[2].len() as f64), Some(f64::from(n > 0.0))])
        })
        .collect();
    frame::state_year(
        ["atop_defense_partners", "atop_defended_by", "atop_any_partners", "atop_defense_pact"],
        &out,
        FILE,
    )
}
