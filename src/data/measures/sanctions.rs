//! Economic sanctions (TIES 4.1, cases begun 1945-2005).
//!
//! Coding rules (one place, stated in each variable's definition):
//! - a case is *threatened* in its start year when `threat` = 1, and *imposed*
//!   in the year its imposition began (`sancimpositionstartyear`, else the
//!   start year) when `imposition` = 1;
//! - senders are `sender1`-`sender5` and `primarysender`; the target is
//!   `targetstate`;
//! - cases with `institution` = 1 (an international institution among the
//!   senders: the UN is IGO 4400) are counted apart from state-led cases; a
//!   blank `institution` (12 cases) counts as state-led;
//! - an imposed case is ongoing from its imposition year to `endyear`, else to
//!   `ongoingasofyear`; with neither (218 cases) only its imposition year counts.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{frame, strings, Measure, Variable};
use crate::data::error::{DataError, Result};
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// TIES 4.1 case file.
pub const CASES: &str = "sanctions/ties_v4_1_cases.csv";

const SY: Unit = Unit::StateYear;
const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1945, 2005);
/// COW IGO code of the United Nations.
pub const UN_IGO: &str = "4400";

const SY_NAMES: [&str; 11] = [
    "sanc_threat_sender",
    "sanc_imposed_sender",
    "sanc_threat_target",
    "sanc_imposed_target",
    "sanc_threat_sender_inst",
    "sanc_imposed_sender_inst",
    "sanc_threat_target_inst",
    "sanc_imposed_target_inst",
    "sanc_threat_target_un",
    "sanc_imposed_target_un",
    "sanc_ongoing_target",
];

/// The sanctions measure.
pub const MEASURE: Measure = Measure {
    name: "sanctions",
    datasets: &["sanctions"],
    files: &[CASES],
    variables: &[
        Variable::new("sanc_threat_sender", "Sanctions threatened (sender)", SY, "count", YEARS, true,
            "State-led TIES cases (institution != 1) begun in the year with a threat, the state among the senders."),
        Variable::new("sanc_imposed_sender", "Sanctions imposed (sender)", SY, "count", YEARS, true,
            "State-led TIES cases whose imposition began in the year, the state among the senders."),
        Variable::new("sanc_threat_target", "Sanctions threatened (target)", SY, "count", YEARS, true,
            "State-led TIES cases begun in the year with a threat against the state."),
        Variable::new("sanc_imposed_target", "Sanctions imposed (target)", SY, "count", YEARS, true,
            "State-led TIES cases whose imposition on the state began in the year."),
        Variable::new("sanc_threat_sender_inst", "Sanctions threatened (sender, institution-led)", SY, "count", YEARS, true,
            "Institution-led TIES cases (institution = 1) begun in the year with a threat, the state among the listed senders."),
        Variable::new("sanc_imposed_sender_inst", "Sanctions imposed (sender, institution-led)", SY, "count", YEARS, true,
            "Institution-led TIES cases whose imposition began in the year, the state among the listed senders."),
        Variable::new("sanc_threat_target_inst", "Sanctions threatened (target, institution-led)", SY, "count", YEARS, true,
            "Institution-led TIES cases begun in the year with a threat against the state (UN included)."),
        Variable::new("sanc_imposed_target_inst", "Sanctions imposed (target, institution-led)", SY, "count", YEARS, true,
            "Institution-led TIES cases whose imposition on the state began in the year (UN included)."),
        Variable::new("sanc_threat_target_un", "UN sanctions threatened (target)", SY, "count", YEARS, true,
            "TIES cases with the UN (IGO 4400) among the sender institutions begun in the year with a threat against the state."),
        Variable::new("sanc_imposed_target_un", "UN sanctions imposed (target)", SY, "count", YEARS, true,
            "TIES cases with the UN (IGO 4400) among the sender institutions whose imposition on the state began in the year."),
        Variable::new("sanc_ongoing_target", "Sanctions in force (target)", SY, "count", YEARS, true,
            "Imposed TIES cases (any sender) in force against the state in the year: imposition year to end year, else to the ongoing-as-of year, else the imposition year only."),
        Variable::new("sanc_ongoing", "Sanctions in force in the dyad", DY, "count", YEARS, true,
            "Imposed TIES cases in force in the year in which one state of the pair is a sender and the other the target (either direction; period as for sanc_ongoing_target)."),
        Variable::new("sanc_onset", "Sanctions cases begun in the dyad", DY, "count", YEARS, true,
            "TIES cases (threat or imposition) begun in the year in which one state of the pair is a sender and the other the target."),
    ],
    frame,
    directed: Some((&DIRECTED, directed_frame)),
};

/// One TIES case as the measure uses it.
#[derive(Debug, Clone)]
struct Case {
    senders: BTreeSet<i64>,
    target: i64,
    start: i64,
    threat: bool,
    imposed: Option<i64>,
    end: Option<i64>,
    institution: bool,
    un: bool,
}

impl Case {
    /// Years the imposed sanctions were in force.
    fn in_force(&self) -> Option<std::ops::RangeInclusive<i64>> {
        self.imposed.map(|s| s..=self.end.unwrap_or(s).max(s))
    }
}

fn year_of(s: &Option<String>, row: usize, column: &str) -> Result<Option<i64>> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        // A few year cells hold a year and a comment ("1949, sometime before this date."):
        // the leading digits are the value.
        Some(v) => {
            let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().map(Some).map_err(|_| DataError::BadValue {
                path: CASES.into(),
                column: column.into(),
                row,
                value: v.into(),
                expected: "a whole number",
            })
        }
    }
}

// Each row reads several columns at once: a row index is the clear way.
#[allow(clippy::needless_range_loop)]
fn read_cases(src: &Sources) -> Result<Vec<Case>> {
    let text = [
        "sender1",
        "sender2",
        "sender3",
        "sender4",
        "sender5",
        "primarysender",
        "targetstate",
        "startyear",
        "endyear",
        "ongoingasofyear",
        "threat",
        "imposition",
        "sancimpositionstartyear",
        "institution",
        "institutionid",
    ];
    let df = src.read(CASES, &text.map(|c| (c, Kind::Str)))?;
    let cols: Vec<Vec<Option<String>>> = text.iter().map(|c| strings(&df, c, CASES)).collect::<Result<_>>()?;
    let get = |name: &str, i: usize| -> Result<Option<i64>> {
        let k = text.iter().position(|c| *c == name).unwrap_or(0);
        year_of(&cols[k][i], i + 1, name)
    };
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut senders = BTreeSet::new();
        for s in ["sender1", "sender2", "sender3", "sender4", "sender5", "primarysender"] {
            let k = text.iter().position(|c| *c == s).unwrap_or(0);
            if let Some(v) = cols[k][i].as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                senders.insert(v.parse::<i64>().map_err(|_| DataError::BadValue {
                    path: CASES.into(),
                    column: s.into(),
                    row: i + 1,
                    value: v.into(),
                    expected: "a COW code",
                })?);
            }
        }
        let flag = |name: &str| -> Result<bool> { Ok(get(name, i)? == Some(1)) };
        let (Some(target), Some(start)) = (get("targetstate", i)?, get("startyear", i)?) else {
            return Err(DataError::Invalid {
                path: CASES.into(),
                message: format!("row {}: no target state or start year", i + 1),
            });
        };
        let imposed =
            if flag("imposition")? { Some(get("sancimpositionstartyear", i)?.unwrap_or(start)) } else { None };
        let inst_ids = cols[14][i].clone().unwrap_or_default();
        out.push(Case {
            senders,
            target,
            start,
            threat: flag("threat")?,
            imposed,
            end: get("endyear", i)?.or(get("ongoingasofyear", i)?),
            institution: flag("institution")?,
            un: flag("institution")? && inst_ids.split_whitespace().any(|x| x == UN_IGO),
        });
    }
    Ok(out)
}

/// Directional sanctions of directed dyad-years: the row's first state among
/// the senders and the second the target.
pub const DIRECTED: [Variable; 2] = [
    Variable::new(
        "sanc_ongoing_dir",
        "Sanctions in force, first state against second",
        DY,
        "count",
        YEARS,
        true,
        "Imposed TIES cases in force in the year with ccode1 among the senders and ccode2 the target.",
    ),
    Variable::new(
        "sanc_onset_dir",
        "Sanctions cases begun, first state against second",
        DY,
        "count",
        YEARS,
        true,
        "TIES cases begun in the year with ccode1 among the senders and ccode2 the target.",
    ),
];

fn directed_frame(src: &Sources) -> Result<DataFrame> {
    let mut by: BTreeMap<(i64, i64, i64), [Option<f64>; 2]> = BTreeMap::new();
    for c in &read_cases(src)? {
        for s in c.senders.iter().filter(|s| **s != c.target) {
            let e = by.entry((*s, c.target, c.start)).or_insert([Some(0.0); 2]);
            e[1] = e[1].map(|x| x + 1.0);
            for y in c.in_force().into_iter().flatten() {
                let e = by.entry((*s, c.target, y)).or_insert([Some(0.0); 2]);
                e[0] = e[0].map(|x| x + 1.0);
            }
        }
    }
    frame::dyad_year(["sanc_ongoing_dir", "sanc_onset_dir"], &by, CASES)
}

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    let cases = read_cases(src)?;
    if unit == Unit::DyadYear {
        let mut by: BTreeMap<(i64, i64, i64), [Option<f64>; 2]> = BTreeMap::new();
        for c in &cases {
            for s in c.senders.iter().filter(|s| **s != c.target) {
                let (a, b) = ((*s).min(c.target), (*s).max(c.target));
                let e = by.entry((a, b, c.start)).or_insert([Some(0.0); 2]);
                e[1] = e[1].map(|x| x + 1.0);
                for y in c.in_force().into_iter().flatten() {
                    let e = by.entry((a, b, y)).or_insert([Some(0.0); 2]);
                    e[0] = e[0].map(|x| x + 1.0);
                }
            }
        }
        return frame::dyad_year(["sanc_ongoing", "sanc_onset"], &by, CASES);
    }
    let mut by: BTreeMap<(i64, i64), [Option<f64>; 11]> = BTreeMap::new();
    let mut add = |c: i64, y: i64, k: usize| {
        let e = by.entry((c, y)).or_insert([Some(0.0); 11]);
        e[k] = e[k].map(|x| x + 1.0);
    };
    for c in &cases {
        let off = if c.institution { 4 } else { 0 };
        for s in &c.senders {
            if c.threat {
                add(*s, c.start, off);
            }
            if let Some(y) = c.imposed {
                add(*s, y, off + 1);
            }
        }
        if c.threat {
            add(c.target, c.start, off + 2);
            if c.un {
                add(c.target, c.start, 8);
            }
        }
        if let Some(y) = c.imposed {
            add(c.target, y, off + 3);
            if c.un {
                add(c.target, y, 9);
            }
        }
        for y in c.in_force().into_iter().flatten() {
            add(c.target, y, 10);
        }
    }
    frame::state_year(SY_NAMES, &by, CASES)
}
