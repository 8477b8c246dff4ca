//! UN Security Council: seats by state-year (UN DPPA membership list) and
//! resolutions by year with text-derived flags (resolutions 1-2259, 1946-2015).
//!
//! China's permanent seat is the seat holder's: the Republic of China (COW 713)
//! 1950-1971, as the data's `ccode_note` records, the PRC (710) otherwise.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// Membership by year.
pub const MEMBERSHIP: &str = "unsc/unsc_membership_1946_2024.csv";
/// Resolutions with flags.
pub const RESOLUTIONS: &str = "unsc/unsc_resolutions_1946_2015.csv";

const SY: Unit = Unit::StateYear;
const SYS: Unit = Unit::SystemYear;
const SEATS: (i64, i64) = (1946, 2024);
const RES: (i64, i64) = (1946, 2015);

/// The Security Council measure.
pub const MEASURE: Measure = Measure {
    name: "unsc",
    datasets: &["unsc"],
    files: &[MEMBERSHIP, RESOLUTIONS],
    variables: &[
        Variable::new("unsc_elected", "Elected UNSC member", SY, "0/1", SEATS, true,
            "1 if the state held an elected (non-permanent) Security Council seat in the year."),
        Variable::new("unsc_permanent", "Permanent UNSC member", SY, "0/1", SEATS, true,
            "1 if the state held a permanent Security Council seat in the year (China's seat: COW 713 in 1950-1971, 710 otherwise)."),
        Variable::new("unsc_resolutions", "UNSC resolutions", SYS, "count", RES, true,
            "Security Council resolutions adopted in the year."),
        Variable::new("unsc_res_chapter7", "UNSC resolutions under Chapter VII", SYS, "count", RES, true,
            "Resolutions adopted in the year whose text acts under Chapter VII ('acting ... under Chapter VII')."),
        Variable::new("unsc_res_art41", "UNSC resolutions citing Art. 41", SYS, "count", RES, true,
            "Resolutions adopted in the year whose text cites Article 41 (measures not involving armed force)."),
        Variable::new("unsc_res_art42", "UNSC resolutions citing Art. 42", SYS, "count", RES, true,
            "Resolutions adopted in the year whose text cites Article 42 (action by armed force)."),
        Variable::new("unsc_res_sanctions", "UNSC resolutions on sanctions", SYS, "count", RES, true,
            "Resolutions adopted in the year whose text mentions sanctions or an embargo."),
    ],
    frame,
    directed: None,
};

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    match unit {
        Unit::SystemYear => {
            let flags = ["acting_under_chapter_vii", "cites_article_41", "cites_article_42", "mentions_sanctions"];
            let mut cols = vec![("resolution", Kind::Int), ("year", Kind::Int)];
            cols.extend(flags.iter().map(|f| (*f, Kind::Int)));
            let df = src.read(RESOLUTIONS, &cols)?;
            let year = ints(&df, "year", RESOLUTIONS)?;
            let fl: Vec<Vec<Option<i64>>> = flags.iter().map(|f| ints(&df, f, RESOLUTIONS)).collect::<Result<_>>()?;
            let mut by: BTreeMap<i64, [Option<f64>; 5]> = BTreeMap::new();
            for (i, y) in year.iter().enumerate() {
                let Some(y) = y else { continue };
                let e = by.entry(*y).or_insert([Some(0.0); 5]);
                e[0] = e[0].map(|x| x + 1.0);
                for k in 0..4 {
                    if fl[k][i] == Some(1) {
                        e[k + 1] = e[k + 1].map(|x| x + 1.0);
                    }
                }
            }
            frame::system_year(
                ["unsc_resolutions", "unsc_res_chapter7", "unsc_res_art41", "unsc_res_art42", "unsc_res_sanctions"],
                &by,
                RESOLUTIONS,
            )
        }
        _ => {
            let df = src.read(MEMBERSHIP, &[("year", Kind::Int), ("ccode", Kind::Int), ("permanent", Kind::Int)])?;
            let (y, c, p) =
                (ints(&df, "year", MEMBERSHIP)?, ints(&df, "ccode", MEMBERSHIP)?, ints(&df, "permanent", MEMBERSHIP)?);
            let mut by: BTreeMap<(i64, i64), [Option<f64>; 2]> = BTreeMap::new();
            for i in 0..df.height() {
                // Seats of members without a COW code (the Ukrainian SSR) are not state-years.
                let (Some(y), Some(c)) = (y[i], c[i]) else { continue };
                let e = by.entry((c, y)).or_insert([Some(0.0); 2]);
                let k = if p[i] == Some(1) { 1 } else { 0 };
                e[k] = Some(1.0);
            }
            frame::state_year(["unsc_elected", "unsc_permanent"], &by, MEMBERSHIP)
        }
    }
}
