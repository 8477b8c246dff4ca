//! Distance between the two states' capitals, the distance term of the
//! canonical dyadic models (Oneal and Russett; peacesciencer's
//! `add_capital_distance()`), from peacesciencer's table of COW capitals with
//! their dates and coordinates.
//!
//! The capital of a year is the one in place at its end (in a year the
//! capital moved, the new one: Brasilia from 1960). The distance is the
//! great-circle (haversine) distance on a sphere of the Earth's mean radius,
//! 6,371.0088 km; it is never 0 for two states, unlike the minimum distance
//! between their territories (`mindist`), so its log is defined for
//! neighbours too.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{floats, frame, ints, strings, Measure, Variable};
use crate::data::error::{DataError, Result};
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// The capitals file.
pub const FILE: &str = "cow_states/cow_capitals.csv";

const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1816, 2024);
/// The Earth's mean radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The capitals measure.
pub const MEASURE: Measure = Measure {
    name: "capitals",
    datasets: &["cow_capitals"],
    files: &[FILE],
    variables: &[Variable::new("capdist", "Distance between capitals", DY, "km", YEARS, false,
        "Great-circle (haversine, mean Earth radius 6,371.0088 km) distance between the two states' capitals in place at the end of the year (peacesciencer cow_capitals); missing when either state has no capital listed for the year.")],
    frame,
    directed: None,
};

/// Great-circle distance in km between two points given in degrees.
///
/// ```
/// use concord::data::measures::capitals::haversine_km;
/// // Washington to Ottawa, about 735 km.
/// let d = haversine_km((38.8950368, -77.0365427), (45.4208777, -75.6901106));
/// assert!((d - 735.0).abs() < 5.0);
/// ```
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// A capital: the date it became the capital, and its (latitude, longitude).
type Capital = (String, (f64, f64));

/// The year of an ISO date `YYYY-MM-DD`.
fn year_of(date: &str) -> Option<i64> {
    date.get(..4)?.parse().ok()
}

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let df = src.read(
        FILE,
        &[
            ("ccode", Kind::Int),
            ("stdate", Kind::Str),
            ("enddate", Kind::Str),
            ("lat", Kind::Float),
            ("lng", Kind::Float),
        ],
    )?;
    let (c, st, en) = (ints(&df, "ccode", FILE)?, strings(&df, "stdate", FILE)?, strings(&df, "enddate", FILE)?);
    let (lat, lng) = (floats(&df, "lat", FILE)?, floats(&df, "lng", FILE)?);
    // year -> ccode -> (start date, coordinates): the capital with the
    // latest start among those in place during the year is the one at its end.
    let mut by_year: BTreeMap<i64, BTreeMap<i64, Capital>> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(c), Some(s), Some(e), Some(la), Some(lo)) = (c[i], &st[i], &en[i], lat[i], lng[i]) else {
            return Err(DataError::Invalid {
                path: FILE.into(),
                message: format!("row {}: a capital needs ccode, stdate, enddate, lat and lng", i + 2),
            });
        };
        let (Some(y0), Some(y1)) = (year_of(s), year_of(e)) else {
            return Err(DataError::Invalid {
                path: FILE.into(),
                message: format!("row {}: dates must be YYYY-MM-DD, found `{s}` and `{e}`", i + 2),
            });
        };
        for y in y0.max(YEARS.0)..=y1.min(YEARS.1) {
            let slot = by_year.entry(y).or_default().entry(c).or_insert_with(|| (s.clone(), (la, lo)));
            if *s > slot.0 {
                *slot = (s.clone(), (la, lo));
            }
        }
    }
    let mut out: BTreeMap<(i64, i64, i64), [Option<f64>; 1]> = BTreeMap::new();
    for (y, caps) in &by_year {
        let caps: Vec<(i64, (f64, f64))> = caps.iter().map(|(c, (_, p))| (*c, *p)).collect();
        for (i, (a, pa)) in caps.iter().enumerate() {
            for (b, pb) in &caps[i + 1..] {
                out.insert((*a, *b, *y), [Some(haversine_km(*pa, *pb))]);
            }
        }
    }
    frame::dyad_year(["capdist"], &out, FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn antipodes_and_the_same_point() {
        assert!(haversine_km((10.0, 20.0), (10.0, 20.0)).abs() < 1e-9);
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((haversine_km((0.0, 0.0), (0.0, 180.0)) - half).abs() < 1e-6);
        assert_eq!(year_of("1960-04-21"), Some(1960));
        assert_eq!(year_of("19"), None);
    }
}
