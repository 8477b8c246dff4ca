//! UN General Assembly roll calls: each state's agreement with the plurality and
//! dyadic vote affinity (share agreeing, and the Signorino-Ritter S score).

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::error::{DataError, Result};
use super::read::Kind;
use super::sources::{files, ints, Sources};

/// One vote cast: yes (1), abstain (2) or no (3). Absences (8) and non-members (9)
/// are not votes and are dropped when reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vote {
    pub rcid: i64,
    pub year: i64,
    pub ccode: i64,
    pub vote: u8,
}

/// Read the votes cast (1-3) from the Voeten roll-call file.
pub fn read_votes(src: &Sources) -> Result<Vec<Vote>> {
    let df =
        src.read(files::UNGA, &[("rcid", Kind::Int), ("vote", Kind::Int), ("ccode", Kind::Int), ("year", Kind::Int)])?;
    let (r, v, c, y) = (
        ints(&df, "rcid", files::UNGA)?,
        ints(&df, "vote", files::UNGA)?,
        ints(&df, "ccode", files::UNGA)?,
        ints(&df, "year", files::UNGA)?,
    );
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        if let (Some(rcid), Some(vote @ 1..=3), Some(ccode), Some(year)) = (r[i], v[i], c[i], y[i]) {
            out.push(Vote { rcid, year, ccode, vote: vote as u8 });
        }
    }
    Ok(out)
}

/// State-year agreement with the plurality: `unga_agree_majority` is the share of
/// the state's votes on roll calls with a unique plurality outcome (yes, abstain or
/// no) that match it; roll calls tied for the plurality are left out of the share.
/// `unga_n_votes` counts all votes the state cast in the year.
///
/// ```
/// use concord::data::unga::{agreement_with_majority, Vote};
/// let v = |ccode, vote| Vote { rcid: 1, year: 1990, ccode, vote };
/// let df = agreement_with_majority(&[v(2, 1), v(20, 1), v(200, 3)]).unwrap();
/// assert_eq!(df.height(), 3);
/// ```
pub fn agreement_with_majority(votes: &[Vote]) -> Result<DataFrame> {
    let mut tally: HashMap<i64, [u32; 3]> = HashMap::new();
    for v in votes {
        tally.entry(v.rcid).or_default()[(v.vote - 1) as usize] += 1;
    }
    let plurality: HashMap<i64, u8> = tally
        .into_iter()
        .filter_map(|(rcid, t)| {
            let max = *t.iter().max()?;
            let winners: Vec<usize> = (0..3).filter(|&k| t[k] == max).collect();
            (winners.len() == 1).then(|| (rcid, winners[0] as u8 + 1))
        })
        .collect();
    let mut acc: HashMap<(i64, i64), (i64, i64, i64)> = HashMap::new();
    for v in votes {
        let e = acc.entry((v.ccode, v.year)).or_default();
        e.0 += 1;
        if let Some(&p) = plurality.get(&v.rcid) {
            e.1 += 1;
            e.2 += (p == v.vote) as i64;
        }
    }
    let mut rows: Vec<_> = acc.into_iter().collect();
    rows.sort_unstable_by_key(|(k, _)| *k);
    let ccode: Vec<i64> = rows.iter().map(|((c, _), _)| *c).collect();
    let year: Vec<i64> = rows.iter().map(|((_, y), _)| *y).collect();
    let n: Vec<i64> = rows.iter().map(|(_, (n, _, _))| *n).collect();
    let share: Vec<Option<f64>> = rows.iter().map(|(_, (_, d, a))| (*d > 0).then(|| *a as f64 / *d as f64)).collect();
    df!("ccode" => ccode, "year" => year, "unga_agree_majority" => share, "unga_n_votes" => n)
        .map_err(DataError::polars("UNGA agreement with the majority"))
}

/// (ccode1, ccode2, year, joint votes, identical votes, sum of |v1 - v2|).
type PairCounts = (i64, i64, i64, i64, i64, i64);

/// Dyad-year vote affinity over the roll calls of a year on which both states
/// voted yes, abstain or no: `unga_joint_votes` (how many), `unga_affinity`
/// (share identical) and `unga_s_score`, the S score with votes coded 1, 2, 3 and
/// absolute distance: `1 - 2 * mean|v1 - v2| / 2` (Signorino & Ritter 1999; the
/// `s3un` of Bailey, Strezhnev & Voeten's agreement data).
pub fn dyadic_affinity(votes: &[Vote]) -> Result<DataFrame> {
    let mut by_year: HashMap<i64, HashMap<i64, Vec<(i64, u8)>>> = HashMap::new();
    for v in votes {
        by_year.entry(v.year).or_default().entry(v.rcid).or_default().push((v.ccode, v.vote));
    }
    let mut years: Vec<_> = by_year.into_iter().collect();
    years.sort_unstable_by_key(|(y, _)| *y);
    let parts: Vec<Vec<PairCounts>> = years
        .into_par_iter()
        .map(|(year, calls)| {
            let mut states: Vec<i64> = calls.values().flatten().map(|(c, _)| *c).collect();
            states.sort_unstable();
            states.dedup();
            let k = states.len();
            let idx: HashMap<i64, usize> = states.iter().enumerate().map(|(i, c)| (*c, i)).collect();
            // joint, agree, sum |d| for i < j, in a flat upper-triangular layout.
            let mut joint = vec![0i64; k * k];
            let mut agree = vec![0i64; k * k];
            let mut dist = vec![0i64; k * k];
            for call in calls.values() {
                let mut cv: Vec<(usize, u8)> = call.iter().map(|(c, v)| (idx[c], *v)).collect();
                cv.sort_unstable();
                for a in 0..cv.len() {
                    for b in a + 1..cv.len() {
                        let (i, vi) = cv[a];
                        let (j, vj) = cv[b];
                        if i == j {
                            continue;
                        }
                        let cell = i * k + j;
                        joint[cell] += 1;
                        agree[cell] += (vi == vj) as i64;
                        dist[cell] += (vi as i64 - vj as i64).abs();
                    }
                }
            }
            let mut out = Vec::new();
            for i in 0..k {
                for j in i + 1..k {
                    let cell = i * k + j;
                    if joint[cell] > 0 {
                        out.push((states[i], states[j], year, joint[cell], agree[cell], dist[cell]));
                    }
                }
            }
            out
        })
        .collect();
    let rows: Vec<_> = parts.into_iter().flatten().collect();
    let ccode1: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let ccode2: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let year: Vec<i64> = rows.iter().map(|r| r.2).collect();
    let joint: Vec<i64> = rows.iter().map(|r| r.3).collect();
    let aff: Vec<f64> = rows.iter().map(|r| r.4 as f64 / r.3 as f64).collect();
    let s: Vec<f64> = rows.iter().map(|r| 1.0 - r.5 as f64 / r.3 as f64).collect();
    df!(
        "ccode1" => ccode1, "ccode2" => ccode2, "year" => year,
        "unga_joint_votes" => joint, "unga_affinity" => aff, "unga_s_score" => s
    )
    .map_err(DataError::polars("UNGA dyadic affinity"))
}

/// The issue flags of the Voeten roll-call data, in the order of the bits of
/// [`read_issues`]: Middle East, nuclear weapons, arms control and
/// disarmament, human rights, colonialism, economic development.
pub const ISSUES: [&str; 6] = ["me", "nu", "di", "hr", "co", "ec"];

/// The bits of the security roll calls: nuclear weapons (`nu`) or arms
/// control and disarmament (`di`), the issues on which a shared
/// understanding of threats is voted.
pub const SECURITY_BITS: u8 = (1 << 1) | (1 << 2);

/// The issue flags of each roll call as bits (bit k = [`ISSUES`]`[k]`). A flag
/// cell is read by its first character, so the 197 cells of roll call 1429
/// written `0\"` in the file read as 0; blank flags (31 roll calls) as 0.
pub fn read_issues(src: &Sources) -> Result<HashMap<i64, u8>> {
    let mut cols = vec![("rcid", Kind::Int)];
    cols.extend(ISSUES.iter().map(|c| (*c, Kind::Str)));
    let df = src.read(files::UNGA, &cols)?;
    let rcid = ints(&df, "rcid", files::UNGA)?;
    let flags: Vec<StringChunked> = ISSUES
        .iter()
        .map(|c| {
            df.column(c).and_then(|s| s.str().cloned()).map_err(DataError::polars(format!("{}: `{c}`", files::UNGA)))
        })
        .collect::<Result<_>>()?;
    let mut out: HashMap<i64, u8> = HashMap::new();
    for (i, r) in rcid.iter().enumerate() {
        let Some(r) = r else { continue };
        let mut bits = 0u8;
        for (k, f) in flags.iter().enumerate() {
            if f.get(i).is_some_and(|v| v.trim_start().starts_with('1')) {
                bits |= 1 << k;
            }
        }
        *out.entry(*r).or_default() |= bits;
    }
    Ok(out)
}

/// Counts of one pair in one year for the chance-corrected and issue measures.
#[derive(Debug, Clone, Copy, Default)]
struct PairTable {
    joint: i64,
    agree: i64,
    dist: i64,
    /// Votes of the first (lower-code) and second state by category (yes, abstain, no).
    m1: [i64; 3],
    m2: [i64; 3],
    issue_joint: [i64; 6],
    issue_agree: [i64; 6],
    /// Roll calls on security (nuclear weapons or arms control and disarmament).
    security_joint: i64,
    security_agree: i64,
}

impl PairTable {
    /// Cohen's kappa on identical votes: `(po - pe) / (1 - pe)`, `pe` from each
    /// state's own shares of yes, abstain and no over the pair's joint votes.
    fn kappa(&self) -> Option<f64> {
        let n = self.joint as f64;
        let po = self.agree as f64 / n;
        let pe: f64 = (0..3).map(|k| self.m1[k] as f64 * self.m2[k] as f64).sum::<f64>() / (n * n);
        (pe < 1.0).then(|| (po - pe) / (1.0 - pe))
    }

    /// Kappa with the absolute distance of the S score (votes 1, 2, 3):
    /// `1 - observed mean |v1 - v2| / its expectation under independence`.
    fn kappa_abs(&self) -> Option<f64> {
        let n = self.joint as f64;
        let obs = self.dist as f64 / n;
        let exp = distance_by_chance(&self.m1.map(|v| v as f64), &self.m2.map(|v| v as f64)) / (n * n);
        (exp > 0.0).then(|| 1.0 - obs / exp)
    }
}

/// `sum_k sum_l a[k] b[l] |k - l|`: the total absolute distance between two
/// units' ordered categories (counts `a`, `b` of categories 0, 1, ...) if
/// they were drawn independently, the denominator of Hage's (2011) kappa
/// with the S score's distance (votes here, alliance levels in `atop`).
pub(crate) fn distance_by_chance(a: &[f64], b: &[f64]) -> f64 {
    let mut exp = 0.0;
    for (k, x) in a.iter().enumerate() {
        for (l, y) in b.iter().enumerate() {
            exp += x * y * (k as f64 - l as f64).abs();
        }
    }
    exp
}

/// Dyad-year chance-corrected agreement and issue affinity over the roll calls
/// of a year on which both states voted yes, abstain or no (Hage 2011):
/// `unga_kappa` (Cohen's kappa on identical votes), `unga_kappa_abs` (kappa
/// with the S score's absolute distance) and, for each issue flag of
/// [`ISSUES`], `unga_affinity_<flag>`, the share of identical votes on the
/// roll calls with that flag (missing when the pair shared none), and
/// `unga_affinity_security` on those flagged nuclear or disarmament. Kappa is
/// missing when chance agreement is 1 (both states cast one kind of vote).
///
/// ```
/// use concord::data::unga::{dyadic_agreement, Vote};
/// let v = |rcid, ccode, vote| Vote { rcid, year: 1990, ccode, vote };
/// let votes = [v(1, 2, 1), v(1, 20, 1), v(2, 2, 3), v(2, 20, 1)];
/// let df = dyadic_agreement(&votes, &Default::default()).unwrap();
/// assert_eq!(df.height(), 1);
/// ```
pub fn dyadic_agreement(votes: &[Vote], issues: &HashMap<i64, u8>) -> Result<DataFrame> {
    let mut by_year: HashMap<i64, HashMap<i64, Vec<(i64, u8)>>> = HashMap::new();
    for v in votes {
        by_year.entry(v.year).or_default().entry(v.rcid).or_default().push((v.ccode, v.vote));
    }
    let mut years: Vec<_> = by_year.into_iter().collect();
    years.sort_unstable_by_key(|(y, _)| *y);
    let parts: Vec<Vec<(i64, i64, i64, PairTable)>> = years
        .into_par_iter()
        .map(|(year, calls)| {
            let mut states: Vec<i64> = calls.values().flatten().map(|(c, _)| *c).collect();
            states.sort_unstable();
            states.dedup();
            let k = states.len();
            let idx: HashMap<i64, usize> = states.iter().enumerate().map(|(i, c)| (*c, i)).collect();
            let mut table = vec![PairTable::default(); k * k];
            for (rcid, call) in &calls {
                let bits = issues.get(rcid).copied().unwrap_or(0);
                let mut cv: Vec<(usize, u8)> = call.iter().map(|(c, v)| (idx[c], *v)).collect();
                cv.sort_unstable();
                for a in 0..cv.len() {
                    for b in a + 1..cv.len() {
                        let (i, vi) = cv[a];
                        let (j, vj) = cv[b];
                        if i == j {
                            continue;
                        }
                        let t = &mut table[i * k + j];
                        let same = (vi == vj) as i64;
                        t.joint += 1;
                        t.agree += same;
                        t.dist += (vi as i64 - vj as i64).abs();
                        t.m1[(vi - 1) as usize] += 1;
                        t.m2[(vj - 1) as usize] += 1;
                        for q in 0..6 {
                            if bits & (1 << q) != 0 {
                                t.issue_joint[q] += 1;
                                t.issue_agree[q] += same;
                            }
                        }
                        if bits & SECURITY_BITS != 0 {
                            t.security_joint += 1;
                            t.security_agree += same;
                        }
                    }
                }
            }
            let mut out = Vec::new();
            for i in 0..k {
                for j in i + 1..k {
                    let t = table[i * k + j];
                    if t.joint > 0 {
                        out.push((states[i], states[j], year, t));
                    }
                }
            }
            out
        })
        .collect();
    let rows: Vec<_> = parts.into_iter().flatten().collect();
    let mut cols = vec![
        Column::new("ccode1".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("ccode2".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Column::new("year".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("unga_kappa".into(), rows.iter().map(|r| r.3.kappa()).collect::<Vec<_>>()),
        Column::new("unga_kappa_abs".into(), rows.iter().map(|r| r.3.kappa_abs()).collect::<Vec<_>>()),
    ];
    for (q, flag) in ISSUES.iter().enumerate() {
        let aff: Vec<Option<f64>> = rows
            .iter()
            .map(|r| (r.3.issue_joint[q] > 0).then(|| r.3.issue_agree[q] as f64 / r.3.issue_joint[q] as f64))
            .collect();
        cols.push(Column::new(format!("unga_affinity_{flag}").into(), aff));
    }
    let security: Vec<Option<f64>> = rows
        .iter()
        .map(|r| (r.3.security_joint > 0).then(|| r.3.security_agree as f64 / r.3.security_joint as f64))
        .collect();
    cols.push(Column::new("unga_affinity_security".into(), security));
    DataFrame::new(rows.len(), cols).map_err(DataError::polars("UNGA chance-corrected agreement"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(rcid: i64, ccode: i64, vote: u8) -> Vote {
        Vote { rcid, year: 2000, ccode, vote }
    }

    /// Hand-computed fixture: three states, three roll calls.
    /// rc1: 2 yes, 20 yes, 200 no     -> plurality yes
    /// rc2: 2 no, 20 abstain, 200 no  -> plurality no
    /// rc3: 2 yes, 20 no              -> tie, no plurality
    fn fixture() -> Vec<Vote> {
        vec![v(1, 2, 1), v(1, 20, 1), v(1, 200, 3), v(2, 2, 3), v(2, 20, 2), v(2, 200, 3), v(3, 2, 1), v(3, 20, 3)]
    }

    #[test]
    fn majority_agreement_by_hand() {
        let df = agreement_with_majority(&fixture()).unwrap();
        let share: Vec<Option<f64>> = df.column("unga_agree_majority").unwrap().f64().unwrap().iter().collect();
        let n: Vec<Option<i64>> = df.column("unga_n_votes").unwrap().i64().unwrap().iter().collect();
        // state 2: agrees on rc1 and rc2 of 2 decided -> 1.0; 3 votes cast.
        // state 20: agrees on rc1 only -> 0.5; state 200: rc2 only -> 0.5.
        assert_eq!(share, vec![Some(1.0), Some(0.5), Some(0.5)]);
        assert_eq!(n, vec![Some(3), Some(3), Some(2)]);
    }

    #[test]
    fn dyadic_affinity_and_s_score_by_hand() {
        let df = dyadic_affinity(&fixture()).unwrap();
        let get = |c: &str| -> Vec<f64> {
            df.column(c).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().no_null_iter().collect()
        };
        // (2,20): rc1 same, rc2 |3-2|=1, rc3 |1-3|=2 -> joint 3, affinity 1/3, S = 1 - 3/3 = 0
        // (2,200): rc1 |1-3|=2, rc2 same -> joint 2, affinity 1/2, S = 1 - 2/2 = 0
        // (20,200): rc1 2, rc2 1 -> joint 2, affinity 0, S = 1 - 3/2 = -0.5
        assert_eq!(get("ccode1"), vec![2.0, 2.0, 20.0]);
        assert_eq!(get("ccode2"), vec![20.0, 200.0, 200.0]);
        assert_eq!(get("unga_joint_votes"), vec![3.0, 2.0, 2.0]);
        let aff = get("unga_affinity");
        assert!((aff[0] - 1.0 / 3.0).abs() < 1e-15 && aff[1] == 0.5 && aff[2] == 0.0);
        assert_eq!(get("unga_s_score"), vec![0.0, 0.0, -0.5]);
    }

    #[test]
    fn kappa_and_issue_affinity_by_hand() {
        // Fixture pairs with roll call issues: rc1 human rights, rc2 nuclear + disarmament.
        let issues: HashMap<i64, u8> = HashMap::from([(1, 1 << 3), (2, (1 << 1) | (1 << 2))]);
        let df = dyadic_agreement(&fixture(), &issues).unwrap();
        let get = |c: &str| -> Vec<Option<f64>> {
            df.column(c).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().iter().collect()
        };
        // (2,20): votes 2 = (1,3,1), 20 = (1,2,3). po = 1/3.
        //   m1 = yes 2, abs 0, no 1; m2 = yes 1, abs 1, no 1; pe = (2*1 + 0 + 1*1)/9 = 1/3 -> kappa 0.
        //   abs: obs mean = 3/3 = 1; expected = sum m1k m2l |k-l| / 9
        //     = (2*1*1 + 2*1*2 + 1*1*2 + 1*1*1)/9 = 9/9 = 1 -> kappa_abs 0.
        // (2,200): votes (1,3) vs (3,3): po 1/2, m1 = (1,0,1), m2 = (0,0,2), pe = 2/4 -> kappa 0.
        // (20,200): votes (1,2) vs (3,3): po 0, m1 = (1,1,0), m2 = (0,0,2), pe = 0 -> kappa 0.
        //   abs: obs = 3/2; exp = (1*2*2 + 1*2*1)/4 = 6/4 -> kappa_abs 0.
        assert_eq!(get("unga_kappa"), vec![Some(0.0), Some(0.0), Some(0.0)]);
        assert_eq!(get("unga_kappa_abs")[0], Some(0.0));
        assert_eq!(get("unga_kappa_abs")[2], Some(0.0));
        // Human rights (rc1): (2,20) same, (2,200) differ, (20,200) differ.
        assert_eq!(get("unga_affinity_hr"), vec![Some(1.0), Some(0.0), Some(0.0)]);
        // Nuclear (rc2): (2,20) differ, (2,200) same, (20,200) differ; no Middle East call.
        assert_eq!(get("unga_affinity_nu"), vec![Some(0.0), Some(1.0), Some(0.0)]);
        assert_eq!(get("unga_affinity_me"), vec![None, None, None]);
        // Security = nuclear or disarmament: rc2 only.
        assert_eq!(get("unga_affinity_security"), vec![Some(0.0), Some(1.0), Some(0.0)]);
    }

    #[test]
    fn kappa_is_one_for_identical_varied_votes_and_missing_without_variation() {
        let votes = vec![v(1, 2, 1), v(1, 20, 1), v(2, 2, 3), v(2, 20, 3), v(3, 2, 1), v(3, 20, 1)];
        let df = dyadic_agreement(&votes, &HashMap::new()).unwrap();
        let k = df.column("unga_kappa").unwrap().f64().unwrap().get(0);
        assert_eq!(k, Some(1.0));
        let same = vec![v(1, 2, 1), v(1, 20, 1), v(2, 2, 1), v(2, 20, 1)];
        let df = dyadic_agreement(&same, &HashMap::new()).unwrap();
        assert_eq!(df.column("unga_kappa").unwrap().f64().unwrap().get(0), None);
        assert_eq!(df.column("unga_kappa_abs").unwrap().f64().unwrap().get(0), None);
    }
}
