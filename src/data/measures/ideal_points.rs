//! UNGA ideal points (Bailey, Strezhnev & Voeten, June 2024 release; one
//! estimate per state and session, session s = year 1945 + s; no votes in 1964).
//!
//! Distances are absolute differences of `IdealPointAll`. The median state and
//! the P5 mean are taken over every state with an estimate in the year. The
//! Chinese P5 member is the seat holder: the data code the Republic of China's
//! votes as 713 up to 1971 (710 has no estimate before 1971), so China is 713
//! in 1946-1971 and 710 from 1972.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{floats, frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// The ideal-point file.
pub const FILE: &str = "unga_votes/unga_ideal_points.csv";

const SY: Unit = Unit::StateYear;
const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1946, 2023);

/// The ideal-point measure.
pub const MEASURE: Measure = Measure {
    name: "ideal_points",
    datasets: &["unga_ideal_points"],
    files: &[FILE],
    variables: &[
        Variable::new("ideal_point", "UNGA ideal point", SY, "latent scale", YEARS, false,
            "Bailey-Strezhnev-Voeten ideal point (IdealPointAll, all votes) of the state in the session of the year; missing when the state has no estimate."),
        Variable::new("ideal_dist_us", "Ideal-point distance to the US", SY, "latent scale", YEARS, false,
            "|ideal point of the state - ideal point of the United States| in the year."),
        Variable::new("ideal_dist_median", "Ideal-point distance to the median state", SY, "latent scale", YEARS, false,
            "|ideal point of the state - median ideal point of all states with an estimate in the year|."),
        Variable::new("ideal_dist_p5", "Ideal-point distance to the P5 mean", SY, "latent scale", YEARS, false,
            "|ideal point of the state - mean ideal point of the five permanent members| (China: 713 in 1946-1971, 710 from 1972)."),
        Variable::new("ideal_dist", "Ideal-point distance", DY, "latent scale", YEARS, false,
            "|ideal point of ccode1 - ideal point of ccode2| in the year; missing unless both have an estimate."),
    ],
    frame,
    directed: None,
};

/// The permanent members whose ideal points make the P5 mean in `year`.
pub fn p5(year: i64) -> [i64; 5] {
    [2, 200, 220, 365, if year <= 1971 { 713 } else { 710 }]
}

/// `(ccode, year) -> ideal point`.
pub fn read(src: &Sources) -> Result<BTreeMap<(i64, i64), f64>> {
    let df = src.read(FILE, &[("ccode", Kind::Int), ("year", Kind::Int), ("IdealPointAll", Kind::Float)])?;
    let (c, y, x) = (ints(&df, "ccode", FILE)?, ints(&df, "year", FILE)?, floats(&df, "IdealPointAll", FILE)?);
    let mut out = BTreeMap::new();
    for i in 0..df.height() {
        if let (Some(c), Some(y), Some(x)) = (c[i], y[i], x[i]) {
            if out.insert((c, y), x).is_some() {
                return Err(crate::data::error::DataError::DuplicateKeys {
                    context: FILE.into(),
                    keys: "ccode, year".into(),
                    count: 1,
                    first: format!("ccode={c}, year={y}"),
                });
            }
        }
    }
    Ok(out)
}

/// Median of a non-empty slice (mean of the middle two for an even count).
fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    let ip = read(src)?;
    let mut by_year: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
    for (&(c, y), &x) in &ip {
        by_year.entry(y).or_default().push((c, x));
    }
    if unit == Unit::DyadYear {
        let mut out: BTreeMap<(i64, i64, i64), [Option<f64>; 1]> = BTreeMap::new();
        for (y, states) in &by_year {
            for (i, (a, xa)) in states.iter().enumerate() {
                for (b, xb) in &states[i + 1..] {
                    // `states` is sorted by ccode (BTreeMap order), so a < b.
                    out.insert((*a, *b, *y), [Some((xa - xb).abs())]);
                }
            }
        }
        return frame::dyad_year(["ideal_dist"], &out, FILE);
    }
    let mut out: BTreeMap<(i64, i64), [Option<f64>; 4]> = BTreeMap::new();
    for (y, states) in &by_year {
        let us = ip.get(&(2, *y)).copied();
        let med = median(&mut states.iter().map(|s| s.1).collect::<Vec<_>>());
        let p5: Vec<f64> = p5(*y).iter().filter_map(|c| ip.get(&(*c, *y)).copied()).collect();
        let p5 = (!p5.is_empty()).then(|| p5.iter().sum::<f64>() / p5.len() as f64);
        for (c, x) in states {
            let d = |r: Option<f64>| r.map(|r| (x - r).abs());
            out.insert((*c, *y), [Some(*x), d(us), d(med), d(p5)]);
        }
    }
    frame::state_year(["ideal_point", "ideal_dist_us", "ideal_dist_median", "ideal_dist_p5"], &out, FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn china_seat_holder() {
        assert_eq!(p5(1971)[4], 713);
        assert_eq!(p5(1972)[4], 710);
    }
}
