//! concord's simulator: state-year, dyad-year and system-year panels with the
//! column names of the real panels, where the effects of socialization on each
//! pillar of collective security and of each pillar on conflict are parameters.
//!
//! The study layer runs on a simulated world exactly as on the real one, so a
//! study can be checked against a world whose truth is known: effects present,
//! absent or reversed, stronger after the Cold War or not.
//!
//! The structural model (regressors act with a one-year lag, as the study
//! assumes):
//! - socialization `igo_full` is a random walk with drift around a state level;
//! - pillar `k` (`unga_agree_majority`, `treaties_hr_cum`, `treaties_disarm_cum`)
//!   is `intercept + a_k * igo_full[t-1] + state effect + noise`;
//! - `mid_onset ~ Bernoulli(logistic(b0 + sum_k b_k * pillar_k[t-1]
//!   + direct * igo_full[t-1] + peace * peace_years))`, with every `b_k` and
//!   `direct` multiplied by `post_multiplier` from `cold_war_end` on.
//!
//! The indirect effect of socialization through pillar `k` on the log-odds of
//! onset is `a_k * b_k` (Cold War years), which the mediation analysis of the
//! study estimates.
//!
//! Every unit draws from its own generator seeded by `(seed, unit)`, so the
//! panels are identical whatever the number of threads.

use polars::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal, Poisson};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{DataError, Result};
use crate::panel::PanelIndex;

/// Parameters of a simulated world (all have defaults; a study file may set any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimParams {
    pub seed: u64,
    pub from: i64,
    pub to: i64,
    /// First year of the post-Cold War period.
    pub cold_war_end: i64,
    /// States in the state-year and system-year panels.
    pub n_states: usize,
    /// States whose pairs form the dyad-year panel (`n (n - 1) / 2` dyads).
    pub n_dyad_states: usize,
    /// Directed dyads: each pair appears as (a, b) and (b, a), `n (n - 1)`
    /// dyads, carrying the pair's dyadic values in both rows (as directed
    /// dyad-years in peacesciencer do).
    pub directed: bool,
    /// Effect of one IGO membership on the share of votes with the majority.
    pub a_consensus: f64,
    /// Effect of one IGO membership on human-rights treaties ratified.
    pub a_institutions: f64,
    /// Effect of one IGO membership on disarmament treaties ratified.
    pub a_enforcement: f64,
    /// Log-odds of MID onset: intercept.
    pub b0: f64,
    /// Log-odds effect of the share of votes with the majority.
    pub b_consensus: f64,
    /// Log-odds effect of one human-rights treaty.
    pub b_institutions: f64,
    /// Log-odds effect of one disarmament treaty.
    pub b_enforcement: f64,
    /// Direct log-odds effect of one IGO membership.
    pub direct: f64,
    /// Log-odds effect of one peace year.
    pub peace: f64,
    /// Multiplier of the conflict effects from `cold_war_end` on (1 = no change).
    pub post_multiplier: f64,
    /// Dyads: effect of one joint IGO on vote affinity.
    pub a_affinity: f64,
    /// Dyads: log-odds effect of vote affinity on MID onset.
    pub b_affinity: f64,
    /// Dyads: direct log-odds effect of one joint IGO.
    pub direct_dyad: f64,
    /// Dyads: intercept of the log-odds of MID onset.
    pub b0_dyad: f64,
    /// System: log effect of ten more mean IGO memberships on UNSC vetoes.
    pub vetoes_per_10_igos: f64,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            seed: 20261129,
            from: 1946,
            to: 2014,
            cold_war_end: 1990,
            n_states: 150,
            n_dyad_states: 60,
            directed: false,
            a_consensus: 0.004,
            a_institutions: 0.08,
            a_enforcement: 0.05,
            b0: -0.5,
            b_consensus: -2.0,
            b_institutions: -0.08,
            b_enforcement: -0.1,
            direct: 0.0,
            peace: -0.05,
            post_multiplier: 1.0,
            a_affinity: 0.006,
            b_affinity: -2.0,
            direct_dyad: 0.0,
            b0_dyad: -2.5,
            vetoes_per_10_igos: -0.4,
        }
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn rng_for(seed: u64, stream: u64, unit: u64) -> StdRng {
    // SplitMix-style mixing keeps the streams of neighbouring units apart.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ unit.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

fn normal(sd: f64) -> Result<Normal<f64>> {
    Normal::new(0.0, sd).map_err(|e| DataError::Simulation(format!("normal({sd}): {e}")))
}

impl SimParams {
    fn check(&self) -> Result<()> {
        if self.to < self.from {
            return Err(DataError::Simulation(format!("to ({}) is before from ({})", self.to, self.from)));
        }
        if self.n_states < 2 || self.n_dyad_states < 2 {
            return Err(DataError::Simulation("n_states and n_dyad_states must be at least 2".into()));
        }
        Ok(())
    }

    fn years(&self) -> usize {
        (self.to - self.from + 1) as usize
    }

    /// Socialization path of state `i` (IGO memberships by year).
    fn igo_path(&self, i: usize) -> Result<Vec<f64>> {
        let mut rng = rng_for(self.seed, 1, i as u64);
        let level = 18.0 + 8.0 * normal(1.0)?.sample(&mut rng);
        let step = normal(1.5)?;
        let mut s = level.max(0.0);
        let mut out = Vec::with_capacity(self.years());
        for _ in 0..self.years() {
            s = (s + 0.5 + step.sample(&mut rng)).max(0.0);
            out.push(s.round());
        }
        Ok(out)
    }

    fn post(&self, year: i64) -> f64 {
        if year >= self.cold_war_end {
            self.post_multiplier
        } else {
            1.0
        }
    }
}

/// Simulated state-year panel (columns as the real one: `ccode, year,
/// igo_full, igo_any, treaties_cum, treaties_hr_cum, treaties_disarm_cum,
/// unga_agree_majority, mid_onset, fatal_mid_onset, war_onset, gml_mid_onset,
/// ucdp_onset, peace_years, polity2, cinc, major_power, icc_member`).
///
/// ```
/// use concord::data::simulate::{state_year, SimParams};
/// let p = SimParams { n_states: 5, from: 2000, to: 2009, ..Default::default() };
/// let df = state_year(&p).unwrap();
/// assert_eq!(df.height(), 50);
/// assert_eq!(df, state_year(&p).unwrap(), "same seed, same panel");
/// ```
pub fn state_year(p: &SimParams) -> Result<DataFrame> {
    p.check()?;
    let t = p.years();
    let rows: Vec<Vec<[f64; 18]>> = (0..p.n_states)
        .into_par_iter()
        .map(|i| -> Result<Vec<[f64; 18]>> {
            let s = p.igo_path(i)?;
            let mut rng = rng_for(p.seed, 2, i as u64);
            let (n1, n5) = (normal(1.0)?, normal(0.05)?);
            let e_cons = n5.sample(&mut rng);
            let e_inst = 2.0 * n1.sample(&mut rng);
            let e_enf = n1.sample(&mut rng);
            let regime = 4.0 * n1.sample(&mut rng);
            let cinc_level = -6.0 + 1.5 * n1.sample(&mut rng);
            let major = f64::from(u8::from(i % 30 == 0));
            let extra = Poisson::new(3.0).map_err(|e| DataError::Simulation(format!("{e}")))?;
            let mut out = Vec::with_capacity(t);
            let (mut prev_cons, mut prev_inst, mut prev_enf) = (f64::NAN, f64::NAN, f64::NAN);
            let mut peace = 0.0;
            for (k, &igo) in s.iter().enumerate() {
                let year = p.from + k as i64;
                let lag_igo = if k == 0 { igo } else { s[k - 1] };
                let cons = 0.55 + p.a_consensus * lag_igo + e_cons + n5.sample(&mut rng);
                let inst = 2.0 + p.a_institutions * lag_igo + e_inst + n1.sample(&mut rng);
                let enf = 1.0 + p.a_enforcement * lag_igo + e_enf + n1.sample(&mut rng);
                let onset = if k == 0 {
                    0.0
                } else {
                    let m = p.post(year);
                    let eta = p.b0
                        + m * (p.b_consensus * prev_cons
                            + p.b_institutions * prev_inst
                            + p.b_enforcement * prev_enf
                            + p.direct * lag_igo)
                        + p.peace * peace;
                    f64::from(u8::from(rng.random::<f64>() < logistic(eta)))
                };
                let fatal = onset * f64::from(u8::from(rng.random::<f64>() < 0.3));
                let war = fatal * f64::from(u8::from(rng.random::<f64>() < 0.1));
                let gml = if onset == 1.0 {
                    f64::from(u8::from(rng.random::<f64>() < 0.95))
                } else {
                    f64::from(u8::from(rng.random::<f64>() < 0.005))
                };
                let ucdp_eta = p.b0 - 1.5 + p.post(year) * p.b_consensus * prev_cons.max(0.0);
                let ucdp = f64::from(u8::from(k > 0 && rng.random::<f64>() < logistic(ucdp_eta)));
                let polity = (regime + 2.0 * n1.sample(&mut rng)).round().clamp(-10.0, 10.0);
                let cinc = (cinc_level + 0.1 * n1.sample(&mut rng)).exp();
                out.push([
                    (2 + 5 * i) as f64,
                    year as f64,
                    igo,
                    igo + extra.sample(&mut rng),
                    (inst + enf + 3.0 + 0.2 * lag_igo).round().max(0.0),
                    inst,
                    enf,
                    cons,
                    onset,
                    fatal,
                    war,
                    gml,
                    ucdp,
                    peace,
                    polity,
                    cinc,
                    major,
                    // ICC membership from 2002 for two states in three
                    // (derived, no draw: the other columns keep their values).
                    f64::from(u8::from(year >= 2002 && i % 3 != 0)),
                ]);
                peace = if onset == 1.0 { 0.0 } else { peace + 1.0 };
                (prev_cons, prev_inst, prev_enf) = (cons, inst, enf);
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let names = [
        "ccode",
        "year",
        "igo_full",
        "igo_any",
        "treaties_cum",
        "treaties_hr_cum",
        "treaties_disarm_cum",
        "unga_agree_majority",
        "mid_onset",
        "fatal_mid_onset",
        "war_onset",
        "gml_mid_onset",
        "ucdp_onset",
        "peace_years",
        "polity2",
        "cinc",
        "major_power",
        "icc_member",
    ];
    frame(&names, rows.into_iter().flatten(), &[0, 1], "simulated state-year")
}

/// Assemble rows into a frame; `int_cols` are written as Int64 (keys).
fn frame<const K: usize>(
    names: &[&str; K],
    rows: impl Iterator<Item = [f64; K]>,
    int_cols: &[usize],
    what: &str,
) -> Result<DataFrame> {
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); K];
    for r in rows {
        for (c, v) in cols.iter_mut().zip(r) {
            c.push(v);
        }
    }
    let height = cols[0].len();
    let columns = names
        .iter()
        .zip(cols)
        .enumerate()
        .map(|(j, (n, v))| {
            if int_cols.contains(&j) {
                Column::new((*n).into(), v.iter().map(|x| *x as i64).collect::<Vec<i64>>())
            } else {
                Column::new((*n).into(), v)
            }
        })
        .collect();
    DataFrame::new(height, columns).map_err(DataError::polars(what))
}

/// Simulated dyad-year panel, non-directed unless `p.directed` (`ccode1, ccode2, dyad, year,
/// dyadigos, unga_affinity, mid_onset, fatal_mid_onset, gml_mid_onset,
/// peace_years, land_contiguity, atop_defense, cinc_ratio, dem_low, any_major, mindist, unga_s_score`).
///
/// Vote affinity is `0.45 + a_affinity * dyadigos[t-1] + dyad effect + noise`;
/// onset log-odds `b0_dyad + m * (b_affinity * affinity[t-1] + direct_dyad *
/// dyadigos[t-1]) + 1.5 contiguity + peace * peace_years`.
pub fn dyad_year(p: &SimParams) -> Result<DataFrame> {
    p.check()?;
    let n = p.n_dyad_states;
    let paths: Vec<Vec<f64>> = (0..n).map(|i| p.igo_path(i)).collect::<Result<_>>()?;
    let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).collect();
    let rows: Vec<Vec<[f64; 17]>> = pairs
        .par_iter()
        .map(|&(i, j)| -> Result<Vec<[f64; 17]>> {
            let (c1, c2) = ((2 + 5 * i) as f64, (2 + 5 * j) as f64);
            let mut rng = rng_for(p.seed, 3, (i * n + j) as u64);
            let (n1, n10) = (normal(1.0)?, normal(0.10)?);
            let e_aff = 0.5 * n10.sample(&mut rng);
            let contig = f64::from(u8::from(rng.random::<f64>() < 0.1));
            let defense = f64::from(u8::from(rng.random::<f64>() < 0.15));
            let ratio = (1.0 + 2.0 * n1.sample(&mut rng)).abs().exp();
            let dem = (4.0 * n1.sample(&mut rng)).round().clamp(-10.0, 10.0);
            let any_major = f64::from(u8::from(i % 30 == 0 || j % 30 == 0));
            let mut out = Vec::with_capacity(p.years());
            let mut peace = 0.0;
            let mut prev_aff = f64::NAN;
            let mut prev_joint = f64::NAN;
            for (k, (si, sj)) in paths[i].iter().zip(&paths[j]).enumerate() {
                let year = p.from + k as i64;
                let joint = (0.6 * si.min(*sj) + 2.0 * n1.sample(&mut rng)).round().max(0.0);
                let lag_joint = if k == 0 { joint } else { prev_joint };
                let aff = 0.45 + p.a_affinity * lag_joint + e_aff + n10.sample(&mut rng);
                let onset = if k == 0 {
                    0.0
                } else {
                    let eta = p.b0_dyad
                        + p.post(year) * (p.b_affinity * prev_aff + p.direct_dyad * lag_joint)
                        + 1.5 * contig
                        + p.peace * peace;
                    f64::from(u8::from(rng.random::<f64>() < logistic(eta)))
                };
                let fatal = onset * f64::from(u8::from(rng.random::<f64>() < 0.3));
                let gml = onset * f64::from(u8::from(rng.random::<f64>() < 0.95));
                out.push([
                    c1,
                    c2,
                    1000.0 * c1 + c2,
                    year as f64,
                    joint,
                    aff,
                    onset,
                    fatal,
                    gml,
                    peace,
                    contig,
                    defense,
                    ratio,
                    dem,
                    any_major,
                    // Derived, no draw (the other columns keep their values):
                    // distance in km (0 when contiguous) and an S score.
                    if contig == 1.0 { 0.0 } else { 150.0 * (j - i) as f64 },
                    (2.0 * aff - 1.0).clamp(-1.0, 1.0),
                ]);
                peace = if onset == 1.0 { 0.0 } else { peace + 1.0 };
                prev_aff = aff;
                prev_joint = joint;
            }
            if p.directed {
                // The same pair-years seen from the other side.
                let mirrored: Vec<[f64; 17]> = out
                    .iter()
                    .map(|r| {
                        let mut m = *r;
                        (m[0], m[1], m[2]) = (c2, c1, 1000.0 * c2 + c1);
                        m
                    })
                    .collect();
                out.extend(mirrored);
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let names = [
        "ccode1",
        "ccode2",
        "dyad",
        "year",
        "dyadigos",
        "unga_affinity",
        "mid_onset",
        "fatal_mid_onset",
        "gml_mid_onset",
        "peace_years",
        "land_contiguity",
        "atop_defense",
        "cinc_ratio",
        "dem_low",
        "any_major",
        "mindist",
        "unga_s_score",
    ];
    frame(&names, rows.into_iter().flatten(), &[0, 1, 2, 3], "simulated dyad-year")
}

/// Simulated system-year panel, aggregated from the simulated state-year panel
/// (`year, n_states, mid_onsets, wars, ucdp_onsets, unsc_vetoes, mean_igo_full,
/// mean_unga_agree_majority, mean_treaties_cum`); vetoes are Poisson with log
/// mean `1 + vetoes_per_10_igos * (mean_igo_full - 30) / 10`.
pub fn system_year(p: &SimParams, states: &DataFrame) -> Result<DataFrame> {
    let col = |name: &str| -> Result<Vec<f64>> {
        let c = states.column(name).map_err(DataError::polars("simulated system-year"))?;
        let c = c.cast(&DataType::Float64).map_err(DataError::polars("simulated system-year"))?;
        Ok(c.f64().map_err(DataError::polars("simulated system-year"))?.into_no_null_iter().collect())
    };
    let (year, igo, cons, tre) = (col("year")?, col("igo_full")?, col("unga_agree_majority")?, col("treaties_cum")?);
    let (mid, war, ucdp) = (col("mid_onset")?, col("war_onset")?, col("ucdp_onset")?);
    let t = p.years();
    let mut acc = vec![[0.0f64; 7]; t];
    for r in 0..year.len() {
        let k = (year[r] as i64 - p.from) as usize;
        for (a, v) in acc[k].iter_mut().zip([1.0, mid[r], war[r], ucdp[r], igo[r], cons[r], tre[r]]) {
            *a += v;
        }
    }
    let mut rng = rng_for(p.seed, 4, 0);
    let mut rows = Vec::with_capacity(t);
    for (k, a) in acc.iter().enumerate() {
        let mean_igo = a[4] / a[0];
        let lambda = (1.0 + p.vetoes_per_10_igos * (mean_igo - 30.0) / 10.0).exp();
        let vetoes = Poisson::new(lambda).map_err(|e| DataError::Simulation(format!("{e}")))?.sample(&mut rng);
        rows.push([(p.from + k as i64) as f64, a[0], a[1], a[2], a[3], vetoes, mean_igo, a[5] / a[0], a[6] / a[0]]);
    }
    let names = [
        "year",
        "n_states",
        "mid_onsets",
        "wars",
        "ucdp_onsets",
        "unsc_vetoes",
        "mean_igo_full",
        "mean_unga_agree_majority",
        "mean_treaties_cum",
    ];
    frame(&names, rows.into_iter(), &[0], "simulated system-year")
}

/// Peace years of a simulated panel recomputed from its onsets with the panel
/// layer (a check that the simulator counts as the real panels do).
pub fn recount_peace_years(df: &DataFrame, unit: &[&str]) -> Result<Vec<i64>> {
    let idx = PanelIndex::from_frame(df, unit, "year").map_err(|e| DataError::Simulation(e.to_string()))?;
    let onset = df.column("mid_onset").map_err(DataError::polars("peace years"))?;
    let onset = onset.f64().map_err(DataError::polars("peace years"))?;
    let on: Vec<Option<bool>> = onset.iter().map(|v| v.map(|v| v == 1.0)).collect();
    Ok(idx.peace_years(&on))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peace_years_match_the_panel_layer_and_effects_have_their_sign() {
        let p = SimParams { n_states: 40, n_dyad_states: 20, ..Default::default() };
        let s = state_year(&p).unwrap();
        assert_eq!(s.height(), 40 * 69);
        let py: Vec<i64> =
            s.column("peace_years").unwrap().f64().unwrap().into_no_null_iter().map(|v| v as i64).collect();
        assert_eq!(py, recount_peace_years(&s, &["ccode"]).unwrap());
        let d = dyad_year(&p).unwrap();
        assert_eq!(d.height(), 190 * 69);
        let py: Vec<i64> =
            d.column("peace_years").unwrap().f64().unwrap().into_no_null_iter().map(|v| v as i64).collect();
        assert_eq!(py, recount_peace_years(&d, &["dyad"]).unwrap());
        let sys = system_year(&p, &s).unwrap();
        assert_eq!(sys.height(), 69);
        assert_eq!(sys.column("n_states").unwrap().f64().unwrap().get(0), Some(40.0));
    }

    #[test]
    fn directed_dyads_are_both_orders_of_the_same_pairs() {
        let p = SimParams { n_dyad_states: 6, from: 1990, to: 1999, ..Default::default() };
        let und = dyad_year(&p).unwrap();
        let dir = dyad_year(&SimParams { directed: true, ..p }).unwrap();
        assert_eq!((und.height(), dir.height()), (15 * 10, 30 * 10));
        // Each row (a, b) has its twin (b, a) with the same values, and the
        // (a < b) rows are the non-directed panel.
        let key = |df: &DataFrame, r: usize, c: &str| {
            df.column(c).unwrap().cast(&polars::prelude::DataType::Float64).unwrap().f64().unwrap().get(r).unwrap()
        };
        let cols = ["dyadigos", "unga_affinity", "mid_onset", "peace_years", "land_contiguity"];
        let mut seen = std::collections::HashMap::new();
        for r in 0..dir.height() {
            let (a, b, y) = (key(&dir, r, "ccode1"), key(&dir, r, "ccode2"), key(&dir, r, "year"));
            let vals: Vec<u64> = cols.iter().map(|c| key(&dir, r, c).to_bits()).collect();
            seen.insert((a as i64, b as i64, y as i64), vals);
        }
        assert_eq!(seen.len(), 300, "directed keys are unique");
        for r in 0..und.height() {
            let (a, b, y) = (key(&und, r, "ccode1") as i64, key(&und, r, "ccode2") as i64, key(&und, r, "year") as i64);
            let vals: Vec<u64> = cols.iter().map(|c| key(&und, r, c).to_bits()).collect();
            assert_eq!(seen[&(a, b, y)], vals);
            assert_eq!(seen[&(b, a, y)], vals);
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        let p = SimParams { from: 2000, to: 1990, ..Default::default() };
        assert_eq!(state_year(&p).unwrap_err().to_string(), "simulator: to (1990) is before from (2000)");
    }
}
