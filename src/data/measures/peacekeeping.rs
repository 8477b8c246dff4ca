//! UN peacekeeping personnel (IPI Peacekeeping Database, Nov 1990 - Mar 2014 per
//! contributing country, to Mar 2017 per mission and in total).
//!
//! A yearly mean is over the months the database reports in that year (1990:
//! November and December; 2014: January-March), a month without a row for a
//! state counting as 0 (the README: a missing month means no contribution
//! reported), and a blank category within a row as 0 (not reported).

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{floats, frame, ints, strings, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::sources::Sources;

/// Contributions per country and month.
pub const COUNTRY_MONTH: &str = "peacekeeping/ipi_tcc_country_month.csv";
/// Personnel per mission and month.
pub const MISSION_MONTH: &str = "peacekeeping/ipi_mission_month.csv";
/// Global monthly totals.
pub const GLOBAL_MONTH: &str = "peacekeeping/ipi_global_month.csv";

const SY: Unit = Unit::StateYear;
const SYS: Unit = Unit::SystemYear;
const MEAN: (i64, i64) = (1990, 2014);
const DEC: (i64, i64) = (1990, 2013);

/// The peacekeeping measure.
pub const MEASURE: Measure = Measure {
    name: "peacekeeping",
    datasets: &["peacekeeping"],
    files: &[COUNTRY_MONTH, MISSION_MONTH, GLOBAL_MONTH],
    variables: &[
        Variable::new("pko_troops", "UN PKO troops contributed", SY, "persons", MEAN, true,
            "Troops the state contributed to UN peacekeeping: mean over the months IPI reports in the year (a month without a report for the state = 0)."),
        Variable::new("pko_police", "UN PKO police contributed", SY, "persons", MEAN, true,
            "Police personnel contributed to UN peacekeeping: mean over the months IPI reports in the year."),
        Variable::new("pko_experts", "UN PKO experts contributed", SY, "persons", MEAN, true,
            "Experts on mission and military observers contributed: mean over the months IPI reports in the year."),
        Variable::new("pko_total", "UN PKO personnel contributed", SY, "persons", MEAN, true,
            "Troops + police + experts contributed to UN peacekeeping: mean over the months IPI reports in the year."),
        Variable::new("pko_troops_dec", "UN PKO troops (December)", SY, "persons", DEC, true,
            "Troops contributed in the December report of the year (0 if the state is not listed)."),
        Variable::new("pko_police_dec", "UN PKO police (December)", SY, "persons", DEC, true,
            "Police contributed in the December report of the year."),
        Variable::new("pko_experts_dec", "UN PKO experts (December)", SY, "persons", DEC, true,
            "Experts on mission contributed in the December report of the year."),
        Variable::new("pko_total_dec", "UN PKO personnel (December)", SY, "persons", DEC, true,
            "Troops + police + experts contributed in the December report of the year."),
        Variable::new("pko_personnel", "UN PKO personnel deployed", SYS, "persons", (1990, 2017), false,
            "Total UN peacekeeping personnel (troops, police, experts) deployed: mean of the global monthly totals reported in the year."),
        Variable::new("pko_personnel_dec", "UN PKO personnel (December)", SYS, "persons", (1990, 2016), false,
            "Total UN peacekeeping personnel in the December report of the year."),
        Variable::new("pko_missions", "Active UN PKO missions", SYS, "count", (1990, 2017), false,
            "UN peacekeeping missions with personnel in at least one monthly report of the year (distinct mission acronyms)."),
    ],
    frame,
    directed: None,
};

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    match unit {
        Unit::SystemYear => system_year(src),
        _ => state_year(src),
    }
}

fn state_year(src: &Sources) -> Result<DataFrame> {
    let f = COUNTRY_MONTH;
    let df = src.read(
        f,
        &[
            ("ccode", crate::data::read::Kind::Int),
            ("year", crate::data::read::Kind::Int),
            ("month", crate::data::read::Kind::Int),
            ("troops", crate::data::read::Kind::Float),
            ("police", crate::data::read::Kind::Float),
            ("experts", crate::data::read::Kind::Float),
        ],
    )?;
    let (cc, yr, mo) = (ints(&df, "ccode", f)?, ints(&df, "year", f)?, ints(&df, "month", f)?);
    let cats = [floats(&df, "troops", f)?, floats(&df, "police", f)?, floats(&df, "experts", f)?];
    let mut months: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    // (ccode, year) -> sums over months [troops, police, experts, total], December values.
    let mut sum: BTreeMap<(i64, i64), [f64; 8]> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(c), Some(y), Some(m)) = (cc[i], yr[i], mo[i]) else { continue };
        months.entry(y).or_default().insert(m);
        let x: [f64; 3] = [0, 1, 2].map(|k| cats[k][i].unwrap_or(0.0));
        let e = sum.entry((c, y)).or_default();
        for k in 0..3 {
            e[k] += x[k];
            if m == 12 {
                e[4 + k] += x[k];
            }
        }
        e[3] += x.iter().sum::<f64>();
        if m == 12 {
            e[7] += x.iter().sum::<f64>();
        }
    }
    let mut out: BTreeMap<(i64, i64), [Option<f64>; 8]> = BTreeMap::new();
    for ((c, y), s) in sum {
        let n = months.get(&y).map_or(0, |m| m.len()) as f64;
        let dec = months.get(&y).is_some_and(|m| m.contains(&12));
        let v: [Option<f64>; 8] = std::array::from_fn(|k| if k < 4 { Some(s[k] / n) } else { dec.then_some(s[k]) });
        out.insert((c, y), v);
    }
    frame::state_year(
        [
            "pko_troops",
            "pko_police",
            "pko_experts",
            "pko_total",
            "pko_troops_dec",
            "pko_police_dec",
            "pko_experts_dec",
            "pko_total_dec",
        ],
        &out,
        f,
    )
}

fn system_year(src: &Sources) -> Result<DataFrame> {
    use crate::data::read::Kind;
    let g = src.read(GLOBAL_MONTH, &[("date", Kind::Str), ("total_contributions", Kind::Float)])?;
    let dates = strings(&g, "date", GLOBAL_MONTH)?;
    let total = floats(&g, "total_contributions", GLOBAL_MONTH)?;
    let mut by: BTreeMap<i64, (f64, f64, Option<f64>)> = BTreeMap::new();
    for (d, t) in dates.iter().zip(&total) {
        let (Some(d), Some(t)) = (d, t) else { continue };
        let (y, m) = year_month(d, GLOBAL_MONTH)?;
        let e = by.entry(y).or_insert((0.0, 0.0, None));
        e.0 += t;
        e.1 += 1.0;
        if m == 12 {
            e.2 = Some(*t);
        }
    }
    let mm = src.read(MISSION_MONTH, &[("date", Kind::Str), ("mission", Kind::Str)])?;
    let md = strings(&mm, "date", MISSION_MONTH)?;
    let mn = strings(&mm, "mission", MISSION_MONTH)?;
    let mut missions: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (d, m) in md.iter().zip(mn) {
        let (Some(d), Some(m)) = (d, m) else { continue };
        missions.entry(year_month(d, MISSION_MONTH)?.0).or_default().insert(m);
    }
    let years: BTreeSet<i64> = by.keys().chain(missions.keys()).copied().collect();
    let out: BTreeMap<i64, [Option<f64>; 3]> = years
        .into_iter()
        .map(|y| {
            let g = by.get(&y);
            (y, [g.map(|g| g.0 / g.1), g.and_then(|g| g.2), missions.get(&y).map(|m| m.len() as f64)])
        })
        .collect();
    frame::system_year(["pko_personnel", "pko_personnel_dec", "pko_missions"], &out, GLOBAL_MONTH)
}

/// Year and month of a `YYYY-MM-DD` date.
fn year_month(d: &str, file: &str) -> Result<(i64, i64)> {
    let y = d.get(..4).and_then(|s| s.parse().ok());
    let m = d.get(5..7).and_then(|s| s.parse().ok());
    match (y, m) {
        (Some(y), Some(m)) => Ok((y, m)),
        _ => Err(crate::data::error::DataError::Invalid {
            path: file.into(),
            message: format!("`{d}` is not a date YYYY-MM-DD"),
        }),
    }
}
