//! High-dimensional fixed effects: demeaning by alternating projections with
//! Irons-Tuck acceleration (the method of fixest's `demean`), weighted for IRLS.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use crate::formula::design::{Groups, Slope};

/// How a demeaning went.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DemeanInfo {
    /// Largest number of sweeps any column needed.
    pub iterations: usize,
    pub converged: bool,
}

/// One projection of a sweep: a fixed effect's (weighted) group means, or
/// a varying slope's group-wise regression on `[1, z]` (`fe[z]`, absorbing
/// the fixed effect too) or on `z` alone (`fe[[z]]`).
enum Proj<'a> {
    Mean { ids: &'a [u32], inv_w: Vec<f64> },
    Slope { ids: &'a [u32], z: std::borrow::Cow<'a, [f64]>, with_fe: bool, sums: Vec<[f64; 3]> },
}

fn prepare<'a>(fes: &'a [Groups], slopes: &'a [Slope], w: Option<&[f64]>) -> Vec<Proj<'a>> {
    let wt = |i: usize| w.map_or(1.0, |w| w[i]);
    // A fixed effect that a slope absorbs with it (`fe[z]`) is not swept alone.
    let absorbed: Vec<usize> = slopes.iter().filter_map(|s| s.fe).collect();
    let mut out: Vec<Proj> = fes
        .iter()
        .enumerate()
        .filter(|(j, _)| !absorbed.contains(j))
        .map(|(_, g)| {
            let mut s = vec![0.0; g.levels];
            for (i, &id) in g.ids.iter().enumerate() {
                s[id as usize] += wt(i);
            }
            Proj::Mean { ids: &g.ids, inv_w: s.iter().map(|v| if *v > 0.0 { 1.0 / v } else { 0.0 }).collect() }
        })
        .collect();
    for s in slopes {
        // With the group's intercept, z centred on its group mean spans the
        // same lines and keeps the 2x2 systems well conditioned (years as z).
        let z: std::borrow::Cow<[f64]> = if s.fe.is_some() {
            let (mut sw, mut swz) = (vec![0.0; s.groups.levels], vec![0.0; s.groups.levels]);
            for (i, (&id, &z)) in s.groups.ids.iter().zip(&s.z).enumerate() {
                sw[id as usize] += wt(i);
                swz[id as usize] += wt(i) * z;
            }
            let mean: Vec<f64> = sw.iter().zip(&swz).map(|(a, b)| if *a > 0.0 { b / a } else { 0.0 }).collect();
            s.groups.ids.iter().zip(&s.z).map(|(&id, &z)| z - mean[id as usize]).collect::<Vec<f64>>().into()
        } else {
            std::borrow::Cow::Borrowed(&s.z)
        };
        // Per group: sum of w, of w z and of w z^2.
        let mut sums = vec![[0.0; 3]; s.groups.levels];
        for (i, (&id, &z)) in s.groups.ids.iter().zip(z.iter()).enumerate() {
            let a = &mut sums[id as usize];
            a[0] += wt(i);
            a[1] += wt(i) * z;
            a[2] += wt(i) * z * z;
        }
        out.push(Proj::Slope { ids: &s.groups.ids, z, with_fe: s.fe.is_some(), sums });
    }
    out
}

/// One sweep: apply each projection in turn (subtract the fitted group means
/// or group-wise lines).
fn sweep(x: &mut [f64], projs: &[Proj], w: Option<&[f64]>, buf: &mut Vec<f64>) {
    for p in projs {
        match p {
            Proj::Mean { ids, inv_w } => {
                buf.clear();
                buf.resize(inv_w.len(), 0.0);
                match w {
                    Some(w) => {
                        for ((&id, xi), wi) in ids.iter().zip(x.iter()).zip(w) {
                            buf[id as usize] += wi * xi;
                        }
                    }
                    None => {
                        for (&id, xi) in ids.iter().zip(x.iter()) {
                            buf[id as usize] += xi;
                        }
                    }
                }
                for (b, iw) in buf.iter_mut().zip(inv_w) {
                    *b *= iw;
                }
                for (&id, xi) in ids.iter().zip(x.iter_mut()) {
                    *xi -= buf[id as usize];
                }
            }
            Proj::Slope { ids, z, with_fe, sums } => {
                // buf holds (sum w v, sum w z v) per group, then (a, b).
                buf.clear();
                buf.resize(2 * sums.len(), 0.0);
                for (i, ((&id, xi), zi)) in ids.iter().zip(x.iter()).zip(z.iter()).enumerate() {
                    let wi = w.map_or(1.0, |w| w[i]);
                    buf[2 * id as usize] += wi * xi;
                    buf[2 * id as usize + 1] += wi * zi * xi;
                }
                for (g, s) in sums.iter().enumerate() {
                    let (sv, szv) = (buf[2 * g], buf[2 * g + 1]);
                    let (a, b) = if *with_fe {
                        let det = s[0] * s[2] - s[1] * s[1];
                        // z constant within the group (or one row): the mean alone.
                        if det > 1e-12 * s[0] * s[2].max(f64::MIN_POSITIVE) && det > 0.0 {
                            ((s[2] * sv - s[1] * szv) / det, (s[0] * szv - s[1] * sv) / det)
                        } else if s[0] > 0.0 {
                            (sv / s[0], 0.0)
                        } else {
                            (0.0, 0.0)
                        }
                    } else if s[2] > 0.0 {
                        (0.0, szv / s[2])
                    } else {
                        (0.0, 0.0)
                    };
                    buf[2 * g] = a;
                    buf[2 * g + 1] = b;
                }
                for ((&id, xi), zi) in ids.iter().zip(x.iter_mut()).zip(z.iter()) {
                    *xi -= buf[2 * id as usize] + buf[2 * id as usize + 1] * zi;
                }
            }
        }
    }
}

fn demean_one(x: &mut [f64], fes: &[Proj], w: Option<&[f64]>, tol: f64, max_iter: usize) -> (usize, bool) {
    let mut buf = Vec::new();
    if fes.len() == 1 {
        sweep(x, fes, w, &mut buf);
        return (1, true);
    }
    let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    let n = x.len();
    let mut x1 = vec![0.0; n];
    let mut x2 = vec![0.0; n];
    for it in 1..=max_iter {
        x1.copy_from_slice(x);
        sweep(&mut x1, fes, w, &mut buf);
        let change = x.iter().zip(&x1).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        if change <= tol * scale {
            x.copy_from_slice(&x1);
            return (it, true);
        }
        x2.copy_from_slice(&x1);
        sweep(&mut x2, fes, w, &mut buf);
        // Irons-Tuck: extrapolate along the last two differences.
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..n {
            let d1 = x2[i] - x1[i];
            let d2 = x2[i] - 2.0 * x1[i] + x[i];
            num += d1 * d2;
            den += d2 * d2;
        }
        let c = if den > 0.0 { num / den } else { 0.0 };
        for i in 0..n {
            x[i] = x2[i] - c * (x2[i] - x1[i]);
        }
    }
    (max_iter, false)
}

/// Demean `y` and every column of `x` in place (in parallel over columns).
pub fn demean(
    y: &mut DVector<f64>,
    x: &mut DMatrix<f64>,
    fes: &[Groups],
    w: Option<&[f64]>,
    tol: f64,
    max_iter: usize,
) -> DemeanInfo {
    demean_with_slopes(y, x, fes, &[], w, tol, max_iter)
}

/// [`demean`] with varying slopes (`fe[z]`, `fe[[z]]`) projected out too.
pub fn demean_with_slopes(
    y: &mut DVector<f64>,
    x: &mut DMatrix<f64>,
    fes: &[Groups],
    slopes: &[Slope],
    w: Option<&[f64]>,
    tol: f64,
    max_iter: usize,
) -> DemeanInfo {
    if fes.is_empty() && slopes.is_empty() {
        return DemeanInfo { iterations: 0, converged: true };
    }
    let fe = prepare(fes, slopes, w);
    let n = y.len();
    let mut cols: Vec<&mut [f64]> = std::iter::once(y.as_mut_slice()).chain(x.as_mut_slice().chunks_mut(n)).collect();
    let results: Vec<(usize, bool)> = cols.par_iter_mut().map(|c| demean_one(c, &fe, w, tol, max_iter)).collect();
    DemeanInfo { iterations: results.iter().map(|r| r.0).max().unwrap_or(0), converged: results.iter().all(|r| r.1) }
}

/// Degrees of freedom absorbed by the fixed effects: the levels of each, less
/// the redundant ones. With two fixed effects the redundancy is exact (one per
/// connected component of the bipartite graph of levels); with more, one per
/// additional fixed effect is assumed (as fixest does).
pub fn fe_dof(fes: &[Groups]) -> usize {
    let total: usize = fes.iter().map(|g| g.levels).sum();
    match fes {
        [] => 0,
        [_] => total,
        [a, b] => total - components(a, b),
        _ => total - (fes.len() - 1),
    }
}

/// `K` of the CR1 factor with fixed effects (fixest's "nested" rule): the
/// regressors, one intercept, and `levels - 1` of every fixed effect that is
/// not nested in a cluster variable. Without fixed effects, the regressors.
pub fn cluster_k(k: usize, fes: &[Groups], clusters: &[Groups]) -> f64 {
    if fes.is_empty() {
        return k as f64;
    }
    let free: usize = fes.iter().filter(|f| !clusters.iter().any(|c| nested_in(f, c))).map(|f| f.levels - 1).sum();
    (k + 1 + free) as f64
}

fn components(a: &Groups, b: &Groups) -> usize {
    let mut parent: Vec<usize> = (0..a.levels + b.levels).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for (&x, &y) in a.ids.iter().zip(&b.ids) {
        let (rx, ry) = (find(&mut parent, x as usize), find(&mut parent, a.levels + y as usize));
        if rx != ry {
            parent[rx] = ry;
        }
    }
    (0..parent.len()).filter(|&i| find(&mut parent, i) == i).count()
}

/// Whether every level of `fe` lies within one level of `cluster`.
pub fn nested_in(fe: &Groups, cluster: &Groups) -> bool {
    let mut owner = vec![u32::MAX; fe.levels];
    for (&f, &c) in fe.ids.iter().zip(&cluster.ids) {
        let o = &mut owner[f as usize];
        if *o == u32::MAX {
            *o = c;
        } else if *o != c {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(ids: &[u32]) -> Groups {
        Groups { name: "g".into(), ids: ids.to_vec(), levels: *ids.iter().max().unwrap() as usize + 1 }
    }

    #[test]
    fn two_way_demeaning_leaves_zero_group_means() {
        let a = groups(&[0, 0, 1, 1, 2, 2, 0, 1]);
        let b = groups(&[0, 1, 0, 1, 0, 1, 1, 0]);
        let mut y = DVector::from_vec(vec![1.0, 5.0, 2.0, 8.0, 3.0, -1.0, 4.0, 0.5]);
        let mut x = DMatrix::from_column_slice(8, 1, &[0.3, 1.0, 2.0, 0.1, 5.0, 2.2, 1.0, 0.0]);
        let info = demean(&mut y, &mut x, &[a.clone(), b.clone()], None, 1e-14, 10_000);
        assert!(info.converged);
        for g in [&a, &b] {
            let mut s = vec![0.0; g.levels];
            for (i, &id) in g.ids.iter().enumerate() {
                s[id as usize] += y[i];
            }
            assert!(s.iter().all(|v| v.abs() < 1e-12), "{s:?}");
        }
    }

    #[test]
    fn dof_and_nesting() {
        let a = groups(&[0, 0, 1, 1, 2, 2]);
        let b = groups(&[0, 1, 0, 1, 0, 1]);
        assert_eq!(fe_dof(&[a.clone(), b.clone()]), 3 + 2 - 1);
        assert_eq!(fe_dof(std::slice::from_ref(&a)), 3);
        // Two disconnected blocks: one more redundant level.
        let c = groups(&[0, 0, 1, 1]);
        let d = groups(&[0, 0, 1, 1]);
        assert_eq!(fe_dof(&[c, d]), 2 + 2 - 2);
        let cl = groups(&[0, 0, 0, 0, 1, 1]);
        assert!(nested_in(&a, &cl));
        assert!(!nested_in(&b, &cl));
    }
}
