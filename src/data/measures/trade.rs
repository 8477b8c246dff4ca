//! Dyadic trade from COW Trade 4.0 (Barbieri, Keshk & Pollins 2009): the
//! pair's flows and each state's dependence on the pair measured as a share
//! of its total trade (Barbieri 1996), all in millions of current US dollars.
//!
//! A dyad-year absent from the dyadic file is missing, not 0: COW leaves a
//! pair out when no flow was recorded, which is not a recorded zero.
//!
//! Russett and Oneal's dependence (dyadic trade over GDP) is not offered:
//! the GDP series in ../shared/data are in constant PPP dollars (Fariss et al.),
//! and dividing current-dollar trade by them would give a number that drifts
//! with US inflation and exchange rates rather than with dependence.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::{floats, frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::{files, Sources};

/// The non-directed dyadic trade file.
pub const NDY: &str = "cow_trade/cow_trade_ndy.csv";

const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1870, 2014);

/// The trade measure.
pub const MEASURE: Measure = Measure {
    name: "trade",
    datasets: &["cow_trade"],
    files: &[NDY, files::TRADE_SY],
    variables: &[
        Variable::new("trade_flow", "Dyadic trade", DY, "million current USD", YEARS, false,
            "flow1 + flow2 of COW Trade 4.0 (imports of each state from the other); missing when either flow is missing or the pair has no record."),
        Variable::new("trade_flow_smooth", "Dyadic trade (smoothed)", DY, "million current USD", YEARS, false,
            "smoothflow1 + smoothflow2: the flows as smoothed by COW (implausible drops filled); missing when either is missing."),
        Variable::new("trade_share_low", "Trade share, lower", DY, "share", YEARS, false,
            "Barbieri (1996) trade share: trade_flow / (imports + exports) of each state (COW national totals); the lower of the two. Missing when a flow or a total is missing or a total is 0."),
        Variable::new("trade_share_high", "Trade share, higher", DY, "share", YEARS, false,
            "The higher of the two states' trade shares (see trade_share_low)."),
    ],
    frame,
    directed: None,
};

/// The sum of two optional flows: missing unless both are there.
fn both(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? + b?)
}

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let tsy = src.read(
        files::TRADE_SY,
        &[("ccode", Kind::Int), ("year", Kind::Int), ("imports", Kind::Float), ("exports", Kind::Float)],
    )?;
    let (c, y) = (ints(&tsy, "ccode", files::TRADE_SY)?, ints(&tsy, "year", files::TRADE_SY)?);
    let (im, ex) = (floats(&tsy, "imports", files::TRADE_SY)?, floats(&tsy, "exports", files::TRADE_SY)?);
    let mut total: HashMap<(i64, i64), f64> = HashMap::new();
    for i in 0..tsy.height() {
        if let (Some(c), Some(y), Some(t)) = (c[i], y[i], both(im[i], ex[i])) {
            total.insert((c, y), t);
        }
    }
    let mut cols = vec![("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)];
    cols.extend(["flow1", "flow2", "smoothflow1", "smoothflow2"].map(|n| (n, Kind::Float)));
    let df = src.read(NDY, &cols)?;
    let (a, b, yr) = (ints(&df, "ccode1", NDY)?, ints(&df, "ccode2", NDY)?, ints(&df, "year", NDY)?);
    let f: Vec<Vec<Option<f64>>> =
        ["flow1", "flow2", "smoothflow1", "smoothflow2"].iter().map(|n| floats(&df, n, NDY)).collect::<Result<_>>()?;
    let mut out: BTreeMap<(i64, i64, i64), [Option<f64>; 4]> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(y)) = (a[i], b[i], yr[i]) else { continue };
        let flow = both(f[0][i], f[1][i]);
        let share = |c: i64| {
            let t = total.get(&(c, y)).copied().filter(|t| *t > 0.0)?;
            Some(flow? / t)
        };
        let (sa, sb) = (share(a), share(b));
        let (lo, hi) = match (sa, sb) {
            (Some(x), Some(z)) => (Some(x.min(z)), Some(x.max(z))),
            _ => (None, None),
        };
        out.insert((a.min(b), a.max(b), y), [flow, both(f[2][i], f[3][i]), lo, hi]);
    }
    frame::dyad_year(["trade_flow", "trade_flow_smooth", "trade_share_low", "trade_share_high"], &out, NDY)
}
