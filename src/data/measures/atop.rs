//! Alliance commitments per state-year from ATOP 5.1 (directed dyad-years: the
//! obligation flags of a row are `ccode1`'s commitment toward `ccode2`).
//!
//! The dyad-year file has no alliance identifiers, so a state's defence pacts
//! are counted as the partners it has pledged to defend, not as treaties.
//!
//! Dyad-years get the similarity of the two states' alliance portfolios over
//! every COW system member of the year (so states outside the UN count, unlike
//! vote affinity): Signorino and Ritter's (1999) S, unweighted and weighted by
//! capabilities, and Hage's (2011) chance-corrected kappa.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;
use rayon::prelude::*;

use super::{frame, ints, Measure, Variable};
use crate::data::error::DataError;
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::{files, Sources};

/// The ATOP directed dyad-year file (also read by the default dyad-year panel).
pub const FILE: &str = files::ATOP;

const SY: Unit = Unit::StateYear;
const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1815, 2018);
/// Portfolios need the year's system members: ATOP's years within COW's.
const SIM_YEARS: (i64, i64) = (1816, 2016);
/// The largest difference of two alliance levels (defence 3, none 0).
const D_MAX: f64 = 3.0;

/// The ATOP measure.
pub const MEASURE: Measure = Measure {
    name: "atop",
    datasets: &["atop"],
    files: &[FILE, files::STATES, files::NMC],
    variables: &[
        Variable::new("atop_defense_partners", "Defence pact partners", SY, "count", YEARS, true,
            "States toward which the state has an ATOP defence obligation in the year (rows with ccode1 = the state and atop_defense = 1)."),
        Variable::new("atop_defended_by", "States pledged to defend it", SY, "count", YEARS, true,
            "States with an ATOP defence obligation toward the state in the year (rows with ccode2 = the state and atop_defense = 1)."),
        Variable::new("atop_any_partners", "Alliance partners", SY, "count", YEARS, true,
            "States toward which the state has any ATOP obligation (defence, offence, neutrality, non-aggression or consultation) in the year."),
        Variable::new("atop_defense_pact", "Any defence pact", SY, "0/1", YEARS, true,
            "1 if the state has a defence obligation toward at least one state in the year."),
        Variable::new("atop_s", "Alliance portfolio S", DY, "-1..1", SIM_YEARS, false,
            "Signorino-Ritter S of the two states' ATOP alliance portfolios over all COW system members of the year: 1 - 2 sum_k |a_ik - a_jk| / (3 N). a_ik is the pair's alliance level in either direction (3 defence or offence, 2 neutrality or non-aggression, 1 consultation only, 0 none; 3 with itself)."),
        Variable::new("atop_s_wt", "Alliance portfolio S (CINC-weighted)", DY, "-1..1", SIM_YEARS, false,
            "atop_s with each system member k weighted by its NMC CINC score: 1 - 2 sum_k c_k |a_ik - a_jk| / (3 sum_k c_k); members without a CINC weigh 0."),
        Variable::new("atop_kappa", "Alliance portfolio kappa", DY, "-1..1", SIM_YEARS, false,
            "Hage's (2011) kappa of the two portfolios with the S score's absolute distance: 1 - observed mean |a_ik - a_jk| / its expectation under independence with each state's own shares of levels 0-3. Missing when the expectation is 0."),
    ],
    frame,
    directed: None,
};

fn frame(src: &Sources, unit: Unit) -> Result<DataFrame> {
    if unit == DY {
        return similarity(src);
    }
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

/// The alliance level of every non-directed pair in every year from the
/// pair's obligations in either direction ([`Sources::atop_ndy`]): 3 defence
/// or offence, 2 neutrality or non-aggression, 1 consultation, keyed `(year,
/// lower code, higher code)`.
fn levels(src: &Sources) -> Result<HashMap<(i64, i64, i64), u8>> {
    let df = src.atop_ndy()?;
    let (a, b, y) = (ints(&df, "ccode1", FILE)?, ints(&df, "ccode2", FILE)?, ints(&df, "year", FILE)?);
    let names = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"];
    let f: Vec<Vec<Option<i64>>> = names.iter().map(|n| ints(&df, n, FILE)).collect::<Result<_>>()?;
    let on = |k: usize, i: usize| f[k][i].is_some_and(|v| v > 0);
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let (Some(a), Some(b), Some(y)) = (a[i], b[i], y[i]) else { continue };
        let level = if on(0, i) || on(1, i) {
            3
        } else if on(2, i) || on(3, i) {
            2
        } else if on(4, i) {
            1
        } else {
            continue;
        };
        out.insert((y, a, b), level);
    }
    Ok(out)
}

/// A pair's similarities: `(ccode1, ccode2, [S, weighted S, kappa])`.
type PairRow = (i64, i64, [Option<f64>; 3]);

/// One year's portfolio similarities: a row for every pair of `members`
/// (sorted codes, so `ccode1 < ccode2`), from the pairs' alliance levels and
/// the members' capabilities (`cinc[k]`, 0 if missing).
fn similarity_year(members: &[i64], level: impl Fn(i64, i64) -> u8, cinc: &[f64]) -> Vec<PairRow> {
    let n = members.len();
    // Sparse portfolios (member index, level), the state itself at level 3.
    let portfolio: Vec<Vec<(usize, u8)>> = (0..n)
        .map(|i| {
            (0..n)
                .filter_map(|k| {
                    if k == i {
                        Some((k, 3))
                    } else {
                        Some((k, level(members[i], members[k]))).filter(|p| p.1 > 0)
                    }
                })
                .collect()
        })
        .collect();
    let shares: Vec<[f64; 4]> = portfolio
        .iter()
        .map(|p| {
            let mut c = [0.0; 4];
            c[0] = (n - p.len()) as f64;
            p.iter().for_each(|(_, l)| c[*l as usize] += 1.0);
            c
        })
        .collect();
    let total_cinc: f64 = cinc.iter().sum();
    let nf = n as f64;
    let mut out = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            // Sum |a_ik - a_jk| over the union of the two supports.
            let (p, q) = (&portfolio[i], &portfolio[j]);
            let (mut s, mut t) = (0, 0);
            let (mut d, mut dw) = (0.0, 0.0);
            while s < p.len() || t < q.len() {
                let (k, diff) = match (p.get(s), q.get(t)) {
                    (Some(a), Some(b)) if a.0 == b.0 => {
                        s += 1;
                        t += 1;
                        (a.0, a.1.abs_diff(b.1))
                    }
                    (Some(a), Some(b)) if a.0 < b.0 => {
                        s += 1;
                        (a.0, a.1)
                    }
                    (Some(a), None) => {
                        s += 1;
                        (a.0, a.1)
                    }
                    (_, Some(b)) => {
                        t += 1;
                        (b.0, b.1)
                    }
                    (None, None) => break,
                };
                d += f64::from(diff);
                dw += cinc[k] * f64::from(diff);
            }
            let expected = crate::data::unga::distance_by_chance(&shares[i], &shares[j]) / (nf * nf);
            out.push((
                members[i],
                members[j],
                [
                    Some(1.0 - 2.0 * d / (D_MAX * nf)),
                    (total_cinc > 0.0).then(|| 1.0 - 2.0 * dw / (D_MAX * total_cinc)),
                    (expected > 0.0).then(|| 1.0 - (d / nf) / expected),
                ],
            ));
        }
    }
    out
}

/// Dyad-year alliance-portfolio similarity over each year's system members:
/// `atop_s`, `atop_s_wt`, `atop_kappa` for every pair of members.
fn similarity(src: &Sources) -> Result<DataFrame> {
    let levels = levels(src)?;
    let states = src.state_years(SIM_YEARS.0, SIM_YEARS.1)?;
    let (sc, sy) = (ints(&states, "ccode", files::STATES)?, ints(&states, "year", files::STATES)?);
    let mut members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (c, y) in sc.iter().zip(&sy) {
        if let (Some(c), Some(y)) = (c, y) {
            members.entry(*y).or_default().push(*c);
        }
    }
    let nmc = src.nmc()?;
    let (nc, ny) = (ints(&nmc, "ccode", files::NMC)?, ints(&nmc, "year", files::NMC)?);
    let cinc_col = nmc.column("cinc").and_then(|c| c.f64().cloned()).map_err(DataError::polars(files::NMC))?;
    let mut cinc: HashMap<(i64, i64), f64> = HashMap::new();
    for (i, v) in cinc_col.iter().enumerate() {
        if let (Some(c), Some(y), Some(v)) = (nc[i], ny[i], v) {
            cinc.insert((c, y), v.max(0.0));
        }
    }
    let years: Vec<(i64, Vec<i64>)> = members
        .into_iter()
        .map(|(y, mut m)| {
            m.sort_unstable();
            m.dedup();
            (y, m)
        })
        .collect();
    let rows: Vec<Vec<PairRow>> = years
        .par_iter()
        .map(|(y, m)| {
            let w: Vec<f64> = m.iter().map(|c| cinc.get(&(*c, *y)).copied().unwrap_or(0.0)).collect();
            similarity_year(m, |a, b| levels.get(&(*y, a.min(b), a.max(b))).copied().unwrap_or(0), &w)
        })
        .collect();
    let (mut c1, mut c2, mut yr) = (Vec::new(), Vec::new(), Vec::new());
    let mut vals: [Vec<Option<f64>>; 3] = Default::default();
    for ((y, _), year_rows) in years.iter().zip(rows) {
        for (a, b, v) in year_rows {
            c1.push(a);
            c2.push(b);
            yr.push(*y);
            for k in 0..3 {
                vals[k].push(v[k]);
            }
        }
    }
    let [s, s_wt, kappa] = vals;
    df!("ccode1" => c1, "ccode2" => c2, "year" => yr, "atop_s" => s, "atop_s_wt" => s_wt, "atop_kappa" => kappa)
        .map_err(DataError::polars("ATOP portfolio similarity"))
}
