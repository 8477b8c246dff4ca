//! Strategic rivalries: Thompson & Dreyer (2012, to 2010) and Thompson, Sakuwa
//! & Suhas (2022, to 2020). A rivalry is in force in every year from its start
//! to its end year; a pair with several rivalry spells counts once a year.
//! A TSS rivalry ending in 2020 is ongoing at the end of the data.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// Thompson-Dreyer rivalries.
pub const TD: &str = "rivalries/td_rivalries.csv";
/// Thompson-Sakuwa-Suhas rivalries.
pub const TSS: &str = "rivalries/tss_rivalries.csv";

const SY: Unit = Unit::StateYear;
const DY: Unit = Unit::DyadYear;
const TD_YEARS: (i64, i64) = (1816, 2010);
const TSS_YEARS: (i64, i64) = (1816, 2020);
const TYPES: [&str; 4] = ["positional", "spatial", "ideological", "interventionary"];

/// The rivalry measure.
pub const MEASURE: Measure = Measure {
    name: "rivalry",
    datasets: &["rivalries"],
    files: &[TD, TSS],
    variables: &[
        Variable::new(
            "rivalry_tss",
            "Strategic rivalry (TSS)",
            DY,
            "0/1",
            TSS_YEARS,
            true,
            "1 if the pair is in a strategic rivalry in the year (Thompson, Sakuwa & Suhas 2022: start to end year).",
        ),
        Variable::new(
            "rivalry_tss_positional",
            "Positional rivalry (TSS)",
            DY,
            "0/1",
            TSS_YEARS,
            true,
            "1 if the pair is in a TSS rivalry coded positional in the year.",
        ),
        Variable::new(
            "rivalry_tss_spatial",
            "Spatial rivalry (TSS)",
            DY,
            "0/1",
            TSS_YEARS,
            true,
            "1 if the pair is in a TSS rivalry coded spatial (territorial) in the year.",
        ),
        Variable::new(
            "rivalry_tss_ideological",
            "Ideological rivalry (TSS)",
            DY,
            "0/1",
            TSS_YEARS,
            true,
            "1 if the pair is in a TSS rivalry coded ideological in the year.",
        ),
        Variable::new(
            "rivalry_tss_interventionary",
            "Interventionary rivalry (TSS)",
            DY,
            "0/1",
            TSS_YEARS,
            true,
            "1 if the pair is in a TSS rivalry coded interventionary in the year.",
        ),
        Variable::new(
            "rivalry_td",
            "Strategic rivalry (Thompson-Dreyer)",
            DY,
            "0/1",
            TD_YEARS,
            true,
            "1 if the pair is in a strategic rivalry in the year (Thompson & Dreyer 2012: start to end year).",
        ),
        Variable::new(
            "rivals_tss",
            "Strategic rivals (TSS)",
            SY,
            "count",
            TSS_YEARS,
            true,
            "States with which the state is in a TSS strategic rivalry in the year.",
        ),
        Variable::new(
            "rivals_td",
            "Strategic rivals (Thompson-Dreyer)",
            SY,
            "count",
            TD_YEARS,
            true,
            "States with which the state is in a Thompson-Dreyer strategic rivalry in the year.",
        ),
    ],
    frame,
    directed: None,
};

/// `(lower code, higher code, year) -> flags [in force, positional, spatial, ideological, interventionary]`.
type Spells = BTreeMap<(i64, i64, i64), [bool; 5]>;

fn tss(src: &Sources) -> Result<Spells> {
    let mut cols = vec![("ccode1", Kind::Int), ("ccode2", Kind::Int), ("start", Kind::Int), ("end", Kind::Int)];
    cols.extend(TYPES.iter().map(|t| (*t, Kind::Int)));
    let df = src.read(TSS, &cols)?;
    let (a, b, s, e) =
        (ints(&df, "ccode1", TSS)?, ints(&df, "ccode2", TSS)?, ints(&df, "start", TSS)?, ints(&df, "end", TSS)?);
    let ty: Vec<Vec<Option<i64>>> = TYPES.iter().map(|t| ints(&df, t, TSS)).collect::<Result<_>>()?;
    let mut out = Spells::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(s), Some(e)) = (a[i], b[i], s[i], e[i]) else { continue };
        for y in s.max(TSS_YEARS.0)..=e {
            let f = out.entry((a.min(b), a.max(b), y)).or_default();
            f[0] = true;
            for k in 0..4 {
                f[k + 1] |= ty[k][i] == Some(1);
            }
        }
    }
    Ok(out)
}

fn td(src: &Sources) -> Result<BTreeSet<(i64, i64, i64)>> {
    let df =
        src.read(TD, &[("ccode1", Kind::Int), ("ccode2", Kind::Int), ("styear", Kind::Int), ("endyear", Kind::Int)])?;
    let (a, b, s, e) =
        (ints(&df, "ccode1", TD)?, ints(&df, "ccode2", TD)?, ints(&df, "styear", TD)?, ints(&df, "endyear", TD)?);
    let mut out = BTreeSet::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(s), Some(e)) = (a[i], b[i], s[i], e[i]) else { continue };
        out.extend((s.max(TD_YEARS.0)..=e).map(|y| (a.min(b), a.max(b), y)));
    }
    Ok(out)
}

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    let tss = tss(src)?;
    let td = td(src)?;
    if unit == Unit::DyadYear {
        let mut map: BTreeMap<(i64, i64, i64), [Option<f64>; 6]> = BTreeMap::new();
        for (k, f) in &tss {
            let e = map.entry(*k).or_insert([Some(0.0); 6]);
            for q in 0..5 {
                e[q] = Some(f64::from(u8::from(f[q])));
            }
        }
        for k in &td {
            map.entry(*k).or_insert([Some(0.0); 6])[5] = Some(1.0);
        }
        return frame::dyad_year(
            [
                "rivalry_tss",
                "rivalry_tss_positional",
                "rivalry_tss_spatial",
                "rivalry_tss_ideological",
                "rivalry_tss_interventionary",
                "rivalry_td",
            ],
            &map,
            TSS,
        );
    }
    let mut map: BTreeMap<(i64, i64), [Option<f64>; 2]> = BTreeMap::new();
    for &(a, b, y) in tss.keys() {
        for c in [a, b] {
            let e = map.entry((c, y)).or_insert([Some(0.0); 2]);
            e[0] = e[0].map(|x| x + 1.0);
        }
    }
    for &(a, b, y) in &td {
        for c in [a, b] {
            let e = map.entry((c, y)).or_insert([Some(0.0); 2]);
            e[1] = e[1].map(|x| x + 1.0);
        }
    }
    frame::state_year(["rivals_tss", "rivals_td"], &map, TSS)
}
