//! IGO memberships by kind, from the organisation-level COW IGO v3 files: full
//! memberships (status 1) of each state in each year, classified by COW's
//! political / economic / social dummies (exactly one is 1 per IGO) and by the
//! project's security classification (`security_igos.csv`, not COW's: tier A
//! collective defence, B collective security, C regional IGOs with a security
//! organ, D arms control; A+B is "security IGOs", A-D the wide variant).
//!
//! Political + economic + social full memberships reproduce `cow_igo_sy`'s
//! `sum_igo_full` (the data README checks it in every state-year; the tests
//! check the panel).

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use rayon::prelude::*;

use super::{frame, ints, strings, Measure, Variable};
use crate::data::error::{DataError, Result};
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// Full memberships, long form (ionum, ccode, year, status = 1).
pub const LONG: &str = "cow_igo/igo_state_year_long.csv.gz";
/// One row per IGO with the COW type dummies.
pub const LIST: &str = "cow_igo/igo_list.csv";
/// The project's security-IGO classification.
pub const SECURITY: &str = "cow_igo/security_igos.csv";

const SY: Unit = Unit::StateYear;
const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1816, 2014);
/// Kinds counted: political, economic, social, security (A+B), security (A-D).
const KINDS: usize = 5;

/// The IGO-by-kind measure.
pub const MEASURE: Measure = Measure {
    name: "igo",
    datasets: &["cow_igo"],
    files: &[LONG, LIST, SECURITY],
    variables: &[
        Variable::new("igo_political", "Political IGOs", SY, "count", YEARS, true,
            "IGOs of COW type political in which the state is a full member in the year (COW IGO v3)."),
        Variable::new("igo_economic", "Economic IGOs", SY, "count", YEARS, true,
            "IGOs of COW type economic in which the state is a full member in the year."),
        Variable::new("igo_social", "Social IGOs", SY, "count", YEARS, true,
            "IGOs of COW type social in which the state is a full member in the year."),
        Variable::new("igo_security", "Security IGOs", SY, "count", YEARS, true,
            "Security IGOs (project classification security_igos.csv, tiers A collective defence and B collective security) in which the state is a full member."),
        Variable::new("igo_security_wide", "Security IGOs (tiers A-D)", SY, "count", YEARS, true,
            "Security IGOs of tiers A-D (adding C, regional IGOs with a security organ, and D, arms control) in which the state is a full member."),
        Variable::new("joint_igo_political", "Joint political IGOs", DY, "count", YEARS, true,
            "Political IGOs (COW type) in which both states are full members in the year."),
        Variable::new("joint_igo_economic", "Joint economic IGOs", DY, "count", YEARS, true,
            "Economic IGOs (COW type) in which both states are full members in the year."),
        Variable::new("joint_igo_social", "Joint social IGOs", DY, "count", YEARS, true,
            "Social IGOs (COW type) in which both states are full members in the year."),
        Variable::new("joint_igo_security", "Joint security IGOs", DY, "count", YEARS, true,
            "Security IGOs (tiers A+B of security_igos.csv) in which both states are full members in the year."),
        Variable::new("joint_igo_security_wide", "Joint security IGOs (tiers A-D)", DY, "count", YEARS, true,
            "Security IGOs of tiers A-D in which both states are full members in the year."),
    ],
    frame,
    directed: None,
};

/// The kinds an IGO counts toward, as flags in the order of [`KINDS`].
fn kinds(src: &Sources) -> Result<HashMap<i64, [bool; KINDS]>> {
    let list = src.read(
        LIST,
        &[("ionum", Kind::Int), ("political", Kind::Int), ("economic", Kind::Int), ("social", Kind::Int)],
    )?;
    let id = ints(&list, "ionum", LIST)?;
    let t: Vec<Vec<Option<i64>>> =
        ["political", "economic", "social"].iter().map(|c| ints(&list, c, LIST)).collect::<Result<_>>()?;
    let mut out: HashMap<i64, [bool; KINDS]> = HashMap::new();
    for i in 0..list.height() {
        let Some(id) = id[i] else { continue };
        let e = out.entry(id).or_default();
        for k in 0..3 {
            e[k] = t[k][i] == Some(1);
        }
    }
    let sec = src.read(SECURITY, &[("ionum", Kind::Int), ("tier", Kind::Str)])?;
    let sid = ints(&sec, "ionum", SECURITY)?;
    let tier = strings(&sec, "tier", SECURITY)?;
    for i in 0..sec.height() {
        let (Some(id), Some(t)) = (sid[i], tier[i].as_deref()) else { continue };
        let e = out.get_mut(&id).ok_or_else(|| DataError::Invalid {
            path: SECURITY.into(),
            message: format!("row {}: IGO {id} is not in {LIST}", i + 1),
        })?;
        match t.trim() {
            "A" | "B" => {
                e[3] = true;
                e[4] = true;
            }
            "C" | "D" => e[4] = true,
            other => {
                return Err(DataError::BadValue {
                    path: SECURITY.into(),
                    column: "tier".into(),
                    row: i + 1,
                    value: other.into(),
                    expected: "a tier A, B, C or D",
                })
            }
        }
    }
    Ok(out)
}

/// A dyad-year's key `(ccode1, ccode2, year)` and its joint memberships of each kind.
type DyadKinds = ((i64, i64, i64), [Option<f64>; KINDS]);

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    let kinds = kinds(src)?;
    let long =
        src.read(LONG, &[("ionum", Kind::Int), ("ccode", Kind::Int), ("year", Kind::Int), ("status", Kind::Int)])?;
    let (io, cc, yr, st) = (
        ints(&long, "ionum", LONG)?,
        ints(&long, "ccode", LONG)?,
        ints(&long, "year", LONG)?,
        ints(&long, "status", LONG)?,
    );
    // year -> IGO -> full members.
    let mut members: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
    for i in 0..long.height() {
        let (Some(io), Some(c), Some(y), Some(1)) = (io[i], cc[i], yr[i], st[i]) else { continue };
        if !kinds.contains_key(&io) {
            return Err(DataError::Invalid {
                path: LONG.into(),
                message: format!("row {}: IGO {io} is not in {LIST}", i + 1),
            });
        }
        members.entry(y).or_default().entry(io).or_default().push(c);
    }
    if unit == Unit::DyadYear {
        let parts: Vec<Vec<DyadKinds>> = members
            .into_par_iter()
            .map(|(y, igos)| {
                let mut states: Vec<i64> = igos.values().flatten().copied().collect();
                states.sort_unstable();
                states.dedup();
                let k = states.len();
                let idx: HashMap<i64, usize> = states.iter().enumerate().map(|(i, c)| (*c, i)).collect();
                let mut joint = vec![[0u32; KINDS]; k * k];
                for (io, m) in &igos {
                    let f = kinds[io];
                    let mut m: Vec<usize> = m.iter().map(|c| idx[c]).collect();
                    m.sort_unstable();
                    m.dedup();
                    for a in 0..m.len() {
                        for b in a + 1..m.len() {
                            let cell = &mut joint[m[a] * k + m[b]];
                            for q in 0..KINDS {
                                cell[q] += f[q] as u32;
                            }
                        }
                    }
                }
                let mut out = Vec::new();
                for i in 0..k {
                    for j in i + 1..k {
                        let c = joint[i * k + j];
                        if c.iter().any(|x| *x > 0) {
                            out.push(((states[i], states[j], y), c.map(|x| Some(f64::from(x)))));
                        }
                    }
                }
                out
            })
            .collect();
        let map: BTreeMap<(i64, i64, i64), [Option<f64>; KINDS]> = parts.into_iter().flatten().collect();
        return frame::dyad_year(
            [
                "joint_igo_political",
                "joint_igo_economic",
                "joint_igo_social",
                "joint_igo_security",
                "joint_igo_security_wide",
            ],
            &map,
            LONG,
        );
    }
    let mut map: BTreeMap<(i64, i64), [Option<f64>; KINDS]> = BTreeMap::new();
    for (y, igos) in &members {
        for (io, m) in igos {
            let f = kinds[io];
            let mut m = m.clone();
            m.sort_unstable();
            m.dedup();
            for c in m {
                let e = map.entry((c, *y)).or_insert([Some(0.0); KINDS]);
                for q in 0..KINDS {
                    if f[q] {
                        e[q] = e[q].map(|x| x + 1.0);
                    }
                }
            }
        }
    }
    frame::state_year(["igo_political", "igo_economic", "igo_social", "igo_security", "igo_security_wide"], &map, LONG)
}
