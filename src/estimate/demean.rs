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
    /// `runs`: where each run of equal ids starts (and `n` last), when the
    /// rows come in runs (a panel sorted by unit: its unit effect).
    Mean {
        ids: &'a [u32],
        inv_w: Vec<f64>,
        runs: Option<Vec<usize>>,
    },
    Slope {
        ids: &'a [u32],
        z: std::borrow::Cow<'a, [f64]>,
        with_fe: bool,
        sums: Vec<[f64; 3]>,
    },
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
            Proj::Mean {
                ids: &g.ids,
                inv_w: s.iter().map(|v| if *v > 0.0 { 1.0 / v } else { 0.0 }).collect(),
                // Only the iteration on the effects (two or more fixed
                // effects, no slopes) reads the runs.
                runs: if fes.len() > 1 && slopes.is_empty() { runs(&g.ids) } else { None },
            }
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

/// Where the runs of equal ids start, with `ids.len()` last, when there are
/// at most half as many runs as rows (else `None`).
fn runs(ids: &[u32]) -> Option<Vec<usize>> {
    let mut starts = Vec::new();
    for (i, &g) in ids.iter().enumerate() {
        if i == 0 || ids[i - 1] != g {
            if starts.len() > ids.len() / 2 {
                return None;
            }
            starts.push(i);
        }
    }
    starts.push(ids.len());
    Some(starts)
}

/// A fixed effect as [`demean_coefficients`] reads it.
struct Mean<'a> {
    ids: &'a [u32],
    inv_w: &'a [f64],
    runs: Option<&'a [usize]>,
}

/// The fixed effects among `projs`, as [`demean_coefficients`] reads them.
fn means_of<'a>(projs: &'a [Proj]) -> Vec<Mean<'a>> {
    projs
        .iter()
        .filter_map(|p| match p {
            Proj::Mean { ids, inv_w, runs } => Some(Mean { ids, inv_w, runs: runs.as_deref() }),
            Proj::Slope { .. } => None,
        })
        .collect()
}

/// `acc[ids[i]] += w[i] * other[other_ids[i]]` over the rows (`w` 1 when
/// `None`), lane by lane (`L` columns demeaned together: one read of the
/// ids and one cache line of the effects serve them all); with `runs`, a
/// run's sum is taken in four independent partial sums before it is added,
/// so consecutive rows of one group do not wait on each other's addition.
fn gather_sums<const L: usize>(
    acc: &mut [[f64; L]],
    ids: &[u32],
    runs: Option<&[usize]>,
    other_ids: &[u32],
    other: &[[f64; L]],
    w: Option<&[f64]>,
) {
    let term = |i: usize| {
        let o = other[other_ids[i] as usize];
        match w {
            Some(w) => o.map(|v| w[i] * v),
            None => o,
        }
    };
    let add = |a: &mut [f64; L], b: [f64; L]| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    match runs {
        Some(runs) => {
            for r in runs.windows(2) {
                let (start, end) = (r[0], r[1]);
                let mut part = [[0.0; L]; 4];
                let mut i = start;
                while i + 4 <= end {
                    for (j, p) in part.iter_mut().enumerate() {
                        add(p, term(i + j));
                    }
                    i += 4;
                }
                let mut sum = [0.0; L];
                for (l, s) in sum.iter_mut().enumerate() {
                    *s = (part[0][l] + part[1][l]) + (part[2][l] + part[3][l]);
                }
                for j in i..end {
                    add(&mut sum, term(j));
                }
                add(&mut acc[ids[start] as usize], sum);
            }
        }
        None => {
            for (i, &g) in ids.iter().enumerate() {
                add(&mut acc[g as usize], term(i));
            }
        }
    }
}

/// One sweep: apply each projection in turn (subtract the fitted group means
/// or group-wise lines).
fn sweep(x: &mut [f64], projs: &[Proj], w: Option<&[f64]>, buf: &mut Vec<f64>) {
    for p in projs {
        match p {
            Proj::Mean { ids, inv_w, .. } => {
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

/// [`demean_one`] for fixed effects alone, iterating on the effects instead
/// of the rows (fixest's method): the residual is `x - sum_q c_q[id_q]`, and
/// one sweep sets each effect in turn to the weighted group mean of `x` less
/// the other effects, `c_q = (S_q - sum_g w sum_{r != q} c_r) / W_q`, the
/// same Gauss-Seidel step as sweeping the rows. A sweep reads the group ids
/// (and weights) but neither writes nor reads `x`, and the Irons-Tuck
/// extrapolation runs on the effects (thousands) rather than the rows
/// (hundreds of thousands). A column stops when no row's residual can move
/// by more than `tol` times the column's scale: the sum over the effects of
/// their largest change.
///
/// Up to `L` columns go together, each in a lane of `[f64; L]`: a sweep
/// reads the ids once for all of them, and a group's effects for every
/// column share a cache line. Each lane's arithmetic is the one-column
/// iteration's, operation for operation, and a lane keeps the effects of the
/// sweep where it converged, so every column gets the bits it would alone.
fn demean_coefficients<const L: usize>(
    xs: &mut [&mut [f64]],
    means: &[Mean],
    w: Option<&[f64]>,
    tol: f64,
    max_iter: usize,
) -> (usize, bool) {
    debug_assert!(!xs.is_empty() && xs.len() <= L);
    let lanes = xs.len();
    let mut scale = [0.0f64; L];
    for (s, x) in scale.iter_mut().zip(xs.iter()) {
        *s = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    }
    let offsets: Vec<usize> = std::iter::once(0)
        .chain(means.iter().scan(0, |acc, m| {
            *acc += m.inv_w.len();
            Some(*acc)
        }))
        .collect();
    let total = offsets[means.len()];
    // S_q: the weighted sums of x by group of each fixed effect.
    let mut sums = vec![[0.0; L]; total];
    // (Column by column: a copy of the columns side by side would cost
    // `L` more values a row in memory, for little time.)
    for (q, Mean { ids, .. }) in means.iter().enumerate() {
        let s = &mut sums[offsets[q]..offsets[q + 1]];
        for (l, x) in xs.iter().enumerate() {
            match w {
                Some(w) => ids.iter().zip(x.iter()).zip(w).for_each(|((&g, xi), wi)| s[g as usize][l] += wi * xi),
                None => ids.iter().zip(x.iter()).for_each(|(&g, xi)| s[g as usize][l] += xi),
            }
        }
    }
    // One Gauss-Seidel sweep from `c` into `out` (effect by effect).
    let mut acc = Vec::new();
    let sweep = |c: &[[f64; L]], out: &mut [[f64; L]], acc: &mut Vec<[f64; L]>| {
        out.copy_from_slice(c);
        for (q, Mean { ids, inv_w, runs }) in means.iter().enumerate() {
            acc.clear();
            acc.resize(inv_w.len(), [0.0; L]);
            if let [a, b] = means {
                // Two fixed effects (the common case): the other one's effect.
                let (other_ids, other) = if q == 0 { (b.ids, &out[offsets[1]..]) } else { (a.ids, &out[..offsets[1]]) };
                gather_sums(acc, ids, *runs, other_ids, other, w);
            } else {
                for i in 0..ids.len() {
                    let mut other = [0.0; L];
                    for (r, m) in means.iter().enumerate() {
                        if r != q {
                            let o = out[offsets[r] + m.ids[i] as usize];
                            other.iter_mut().zip(o).for_each(|(a, b)| *a += b);
                        }
                    }
                    let a = &mut acc[ids[i] as usize];
                    for l in 0..L {
                        a[l] += w.map_or(other[l], |w| w[i] * other[l]);
                    }
                }
            }
            let s = &sums[offsets[q]..offsets[q + 1]];
            for (g, c) in out[offsets[q]..offsets[q + 1]].iter_mut().enumerate() {
                for l in 0..L {
                    c[l] = (s[g][l] - acc[g][l]) * inv_w[g];
                }
            }
        }
    };
    // The largest change any row's residual can see between `a` and `b`, by lane.
    let moved = |a: &[[f64; L]], b: &[[f64; L]]| -> [f64; L] {
        let mut out = [0.0; L];
        for q in 0..means.len() {
            let r = offsets[q]..offsets[q + 1];
            let mut m = [0.0f64; L];
            for (u, v) in a[r.clone()].iter().zip(&b[r]) {
                for l in 0..L {
                    m[l] = m[l].max((u[l] - v[l]).abs());
                }
            }
            out.iter_mut().zip(m).for_each(|(o, m)| *o += m);
        }
        out
    };
    let mut c = vec![[0.0; L]; total];
    let mut c1 = vec![[0.0; L]; total];
    let mut c2 = vec![[0.0; L]; total];
    // Each lane's effects where it converged, and the sweep count then.
    let mut done: [Option<usize>; L] = [None; L];
    let mut fin = vec![[0.0; L]; total];
    for it in 1..=max_iter {
        sweep(&c, &mut c1, &mut acc);
        let m = moved(&c, &c1);
        for l in 0..lanes {
            if done[l].is_none() && m[l] <= tol * scale[l] {
                done[l] = Some(it);
                fin.iter_mut().zip(&c1).for_each(|(f, v)| f[l] = v[l]);
            }
        }
        if done[..lanes].iter().all(Option::is_some) {
            break;
        }
        sweep(&c1, &mut c2, &mut acc);
        // Irons-Tuck: extrapolate along the last two differences.
        let (mut num, mut den) = ([0.0; L], [0.0; L]);
        for ((a, b), c0) in c2.iter().zip(&c1).zip(&c) {
            for l in 0..L {
                let d1 = a[l] - b[l];
                let d2 = a[l] - 2.0 * b[l] + c0[l];
                num[l] += d1 * d2;
                den[l] += d2 * d2;
            }
        }
        let k: [f64; L] = std::array::from_fn(|l| if den[l] > 0.0 { num[l] / den[l] } else { 0.0 });
        for ((c0, a), b) in c.iter_mut().zip(&c2).zip(&c1) {
            for l in 0..L {
                c0[l] = a[l] - k[l] * (a[l] - b[l]);
            }
        }
    }
    if done[..lanes].iter().any(Option::is_none) {
        return (max_iter, false);
    }
    for (l, x) in xs.iter_mut().enumerate() {
        for (i, xi) in x.iter_mut().enumerate() {
            for (q, m) in means.iter().enumerate() {
                *xi -= fin[offsets[q] + m.ids[i] as usize][l];
            }
        }
    }
    (done[..lanes].iter().flatten().copied().max().unwrap_or(0), true)
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
    // Two or more fixed effects and no slopes: the iteration on the effects,
    // the columns in batches (as many batches as threads, up to 4 columns each).
    let means = means_of(&fe);
    let results: Vec<(usize, bool)> = if fe.len() > 1 && means.len() == fe.len() {
        let per_thread = cols.len().div_ceil(rayon::current_num_threads().max(1));
        match per_thread {
            0 | 1 => cols.par_chunks_mut(1).map(|c| demean_coefficients::<1>(c, &means, w, tol, max_iter)).collect(),
            2 => cols.par_chunks_mut(2).map(|c| demean_coefficients::<2>(c, &means, w, tol, max_iter)).collect(),
            _ => cols.par_chunks_mut(4).map(|c| demean_coefficients::<4>(c, &means, w, tol, max_iter)).collect(),
        }
    } else {
        cols.par_iter_mut().map(|c| demean_one(c, &fe, w, tol, max_iter)).collect()
    };
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

    /// The residual of the weighted least-squares fit on every fixed
    /// effect's dummies by plain alternating projections on the rows (the
    /// row sweeps, no extrapolation), run until nothing moves: the slow
    /// definition the fast iteration on the effects must meet.
    fn dummy_residual(x: &[f64], fes: &[Groups], w: &[f64]) -> Vec<f64> {
        let projs = prepare(fes, &[], Some(w));
        let (mut v, mut buf) = (x.to_vec(), Vec::new());
        for _ in 0..1_000_000 {
            let before = v.clone();
            sweep(&mut v, &projs, Some(w), &mut buf);
            if v.iter().zip(&before).all(|(a, b)| (a - b).abs() <= 1e-15 * a.abs().max(1.0)) {
                return v;
            }
        }
        panic!("the row sweeps did not settle");
    }

    /// Uniform draws from a deterministic LCG (the same data every run).
    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn demeaning_on_the_effects_gives_the_dummy_regressions_residual() {
        // Two and three crossed fixed effects, unweighted and weighted, on
        // an unbalanced panel (a deterministic LCG draws the data).
        let mut draw = lcg(12345);
        let n = 300;
        let a: Vec<u32> = (0..n).map(|_| (draw() * 25.0) as u32).collect();
        let b: Vec<u32> = (0..n).map(|_| (draw() * 12.0) as u32).collect();
        let c: Vec<u32> = (0..n).map(|_| (draw() * 5.0) as u32).collect();
        let x: Vec<f64> = (0..n).map(|i| 10.0 * draw() + f64::from(a[i]) - 0.5 * f64::from(b[i])).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.2 + draw()).collect();
        let ones = vec![1.0; n];
        // The first fixed effect in runs too (rows sorted by it, as a panel
        // sorted by unit): the run-wise sums.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| a[i]);
        let sorted = |v: &[u32]| -> Vec<u32> { order.iter().map(|&i| v[i]).collect() };
        assert!(runs(&sorted(&a)).is_some() && runs(&b).is_none());
        let (a_s, b_s) = (sorted(&a), sorted(&b));
        let x_s: Vec<f64> = order.iter().map(|&i| x[i]).collect();
        let w_s: Vec<f64> = order.iter().map(|&i| w[i]).collect();
        for weights in [None, Some(w_s.as_slice())] {
            let fes = [groups(&a_s), groups(&b_s)];
            let mut y = DVector::from_vec(x_s.clone());
            let info = demean(&mut y, &mut DMatrix::zeros(n, 0), &fes, weights, 1e-13, 100_000);
            assert!(info.converged);
            let want = dummy_residual(&x_s, &fes, weights.unwrap_or(&ones));
            let worst = y.iter().zip(&want).fold(0.0f64, |m, (u, v)| m.max((u - v).abs()));
            assert!(worst < 1e-9, "runs, weighted {}: {worst}", weights.is_some());
        }
        for fes in [vec![groups(&a), groups(&b)], vec![groups(&a), groups(&b), groups(&c)]] {
            for weights in [None, Some(w.as_slice())] {
                let mut y = DVector::from_vec(x.clone());
                let mut none = DMatrix::zeros(n, 0);
                let info = demean(&mut y, &mut none, &fes, weights, 1e-13, 100_000);
                assert!(info.converged && info.iterations > 1, "{info:?}");
                let want = dummy_residual(&x, &fes, weights.unwrap_or(&ones));
                let worst = y.iter().zip(&want).fold(0.0f64, |m, (u, v)| m.max((u - v).abs()));
                assert!(worst < 1e-9, "{} fixed effects, weighted {}: {worst}", fes.len(), weights.is_some());
            }
        }
    }

    #[test]
    fn columns_demeaned_together_get_the_bits_they_get_alone() {
        let mut draw = lcg(777);
        let n = 400;
        let mut a: Vec<u32> = (0..n).map(|_| (draw() * 40.0) as u32).collect();
        a.sort_unstable();
        let b: Vec<u32> = (0..n).map(|_| (draw() * 15.0) as u32).collect();
        let c: Vec<u32> = (0..n).map(|_| (draw() * 4.0) as u32).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.1 + draw()).collect();
        // Columns that converge after different numbers of sweeps: zeros
        // (one sweep), one in the span of the effects, one scaled by 1e6.
        let cols: Vec<Vec<f64>> = vec![
            vec![0.0; n],
            (0..n).map(|i| f64::from(a[i]) - 2.0 * f64::from(b[i])).collect(),
            (0..n).map(|_| 1e6 * draw()).collect(),
            (0..n).map(|i| draw() + 0.1 * f64::from(b[i] * c[i])).collect(),
        ];
        for fes in [vec![groups(&a), groups(&b)], vec![groups(&a), groups(&b), groups(&c)]] {
            for weights in [None, Some(w.as_slice())] {
                let projs = prepare(&fes, &[], weights);
                let means = means_of(&projs);
                let mut alone = cols.clone();
                let its: Vec<usize> = alone
                    .iter_mut()
                    .map(|x| {
                        let r = demean_coefficients::<1>(&mut [x.as_mut_slice()], &means, weights, 1e-13, 10_000);
                        assert!(r.1);
                        r.0
                    })
                    .collect();
                assert!(its.iter().min() < its.iter().max(), "{its:?}");
                let mut together = cols.clone();
                let mut slices: Vec<&mut [f64]> = together.iter_mut().map(|v| v.as_mut_slice()).collect();
                let r = demean_coefficients::<4>(&mut slices, &means, weights, 1e-13, 10_000);
                assert_eq!(r, (*its.iter().max().unwrap(), true));
                assert_eq!(together, alone, "{} fixed effects, weighted {}", fes.len(), weights.is_some());
                let mut pair = cols[2..].to_vec();
                let mut slices: Vec<&mut [f64]> = pair.iter_mut().map(|v| v.as_mut_slice()).collect();
                demean_coefficients::<2>(&mut slices, &means, weights, 1e-13, 10_000);
                assert_eq!(pair, alone[2..]);
            }
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
