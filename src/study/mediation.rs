//! Mediation by the product of coefficients with a cluster (unit) bootstrap.
//!
//! Path a regresses the mediator on the cause, path b the outcome on the
//! mediator and the cause; the indirect effect is `a * b`. Each replicate draws
//! units with replacement (a unit drawn twice enters twice, its fixed effect
//! duplicated as a separate level) and refits both paths on the designs built
//! once from the data, so lags are those of the original panel. Replicates run
//! in parallel, each from its own generator seeded by `(seed, replicate)`: the
//! draws are the same whatever the number of threads.

use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::estimate::{fit_design, Family, FitOptions};
use crate::formula::design::{quantile_sorted, Design, Groups};
use crate::inference::hypothesis::Direction;
use crate::inference::VcovSpec;

/// One path of a mediation model: its design, family and the term whose
/// coefficient enters the product.
pub struct Path<'a> {
    pub design: &'a Design,
    pub family: Family,
    pub term: &'a str,
    /// The unit (cluster) of each row of the design.
    pub unit_of_row: Vec<u64>,
    /// Name of the unit column: fixed effects and clusters of that name are
    /// duplicated per draw.
    pub unit_column: &'a str,
}

/// The bootstrap distribution of a product of coefficients.
#[derive(Debug, Clone, Serialize)]
pub struct Bootstrap {
    pub replicates: usize,
    /// Replicates whose fits failed (separation, non-convergence); left out.
    pub failed: usize,
    /// Why the first failed replicate failed.
    pub first_failure: Option<String>,
    pub conf_low: f64,
    pub conf_high: f64,
    pub std_error: f64,
    /// Share of replicates not in `direction` (with the +1 correction); it
    /// cannot fall below `1 / (B + 1)`.
    pub p_share: f64,
    /// Share of replicates not in the opposite direction.
    pub p_share_opposite: f64,
    #[serde(skip)]
    pub draws: Vec<f64>,
}

/// The rows of each unit, in order.
fn rows_by_unit(unit_of_row: &[u64]) -> BTreeMap<u64, Vec<usize>> {
    let mut by_unit: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, &u) in unit_of_row.iter().enumerate() {
        by_unit.entry(u).or_default().push(i);
    }
    by_unit
}

/// Resample `d` by units: `draws` lists the drawn units (with repeats).
pub fn resample(d: &Design, unit_of_row: &[u64], draws: &[u64], unit_column: &str) -> Design {
    resample_rows(d, &rows_by_unit(unit_of_row), draws, unit_column)
}

/// [`resample`] with the rows of each unit indexed once (per path, not per
/// replicate).
fn resample_rows(d: &Design, by_unit: &BTreeMap<u64, Vec<usize>>, draws: &[u64], unit_column: &str) -> Design {
    let mut idx = Vec::with_capacity(d.y.len());
    let mut copy = Vec::with_capacity(d.y.len());
    for (c, u) in draws.iter().enumerate() {
        if let Some(rows) = by_unit.get(u) {
            idx.extend_from_slice(rows);
            copy.extend(std::iter::repeat_n(c as u64, rows.len()));
        }
    }
    let regroup = |g: &Groups| -> Groups {
        let keys: Vec<u64> = if g.name == unit_column {
            idx.iter().zip(&copy).map(|(&i, &c)| (c << 32) | u64::from(g.ids[i])).collect()
        } else {
            idx.iter().map(|&i| u64::from(g.ids[i])).collect()
        };
        Groups::from_u64(&g.name, &keys)
    };
    Design {
        y: nalgebra::DVector::from_iterator(idx.len(), idx.iter().map(|&i| d.y[i])),
        x: d.x.select_rows(idx.iter()),
        names: d.names.clone(),
        fixed_effects: d.fixed_effects.iter().map(regroup).collect(),
        clusters: d.clusters.iter().map(regroup).collect(),
        rows: idx.iter().map(|&i| d.rows[i]).collect(),
        n_input: idx.len(),
        dropped: d.dropped.clone(),
        outcome: d.outcome.clone(),
        periods: d.periods.as_ref().map(|p| idx.iter().map(|&i| p[i]).collect()),
        members: d.members.as_ref().map(|m| m.select(&idx)),
        recipe: d.recipe.clone(),
        fe_eta: None,
    }
}

/// Cluster bootstrap of the product of the `term` coefficients of `paths`.
pub fn bootstrap_product(
    paths: &[Path<'_>],
    replicates: usize,
    seed: u64,
    level: f64,
    direction: Direction,
    progress: bool,
) -> Bootstrap {
    let mut units: Vec<u64> = paths.iter().flat_map(|p| p.unit_of_row.iter().copied()).collect();
    units.sort_unstable();
    units.dedup();
    let by_unit: Vec<BTreeMap<u64, Vec<usize>>> = paths.iter().map(|p| rows_by_unit(&p.unit_of_row)).collect();
    let opts = FitOptions { vcov: VcovSpec::Iid, ..Default::default() };
    let bar = if progress { ProgressBar::new(replicates as u64) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("  bootstrap {bar:30} {pos}/{len} replicates ({eta} left)") {
        bar.set_style(style);
    }
    let results: Vec<Result<f64, String>> = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (r as u64 + 1));
            let draws: Vec<u64> = (0..units.len()).map(|_| units[rng.random_range(0..units.len())]).collect();
            let mut product = 1.0;
            for (p, rows) in paths.iter().zip(&by_unit) {
                let d = resample_rows(p.design, rows, &draws, p.unit_column);
                let (fit, _) = fit_design(d, "", p.family, &opts).map_err(|e| format!("replicate {r}: {e}"))?;
                product *= fit.coef(p.term).ok_or_else(|| format!("replicate {r}: `{}` was dropped", p.term))?.estimate;
            }
            bar.inc(1);
            Ok(product)
        })
        .collect();
    bar.finish_and_clear();
    let first_failure = results.iter().find_map(|r| r.as_ref().err().cloned());
    let mut draws: Vec<f64> = results.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    let failed = replicates - draws.len();
    draws.sort_by(f64::total_cmp);
    let n = draws.len();
    let q = |p: f64| quantile_sorted(&draws, p);
    let tail = (1.0 - level) / 2.0;
    let mean = draws.iter().sum::<f64>() / n.max(1) as f64;
    let var = draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
    let (pos, neg) = (draws.iter().filter(|v| **v > 0.0).count(), draws.iter().filter(|v| **v < 0.0).count());
    let p_of = |agree: usize| (1 + n - agree) as f64 / (n + 1) as f64;
    let (p_share, p_share_opposite) = match direction {
        Direction::Positive => (p_of(pos), p_of(neg)),
        Direction::Negative => (p_of(neg), p_of(pos)),
    };
    Bootstrap {
        replicates,
        failed,
        first_failure,
        conf_low: q(tail),
        conf_high: q(1.0 - tail),
        std_error: var.sqrt(),
        p_share,
        p_share_opposite,
        draws,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::design_for;
    use crate::formula::Formula;

    #[test]
    fn resampling_duplicates_unit_fixed_effects() {
        let df = polars::df!(
            "u" => [1i64, 1, 2, 2, 3, 3],
            "t" => [1i64, 2, 1, 2, 1, 2],
            "y" => [1.0, 2.0, 3.0, 5.0, 4.0, 4.5],
            "x" => [0.0, 1.0, 0.5, 2.0, 1.0, 1.5]
        )
        .unwrap();
        let f = Formula::parse("y ~ x | u + t").unwrap();
        let d = design_for(&df, &f, &FitOptions::default()).unwrap();
        let units = vec![1, 1, 2, 2, 3, 3];
        let r = resample(&d, &units, &[2, 2, 3], "u");
        assert_eq!(r.rows, [2, 3, 2, 3, 4, 5]);
        assert_eq!(r.fixed_effects[0].levels, 3, "unit 2 drawn twice is two levels");
        assert_eq!(r.fixed_effects[1].levels, 2, "time is shared");
    }
}
