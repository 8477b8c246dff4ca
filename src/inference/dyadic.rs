//! Dyadic-robust covariance (Aronow, Samii and Assenova 2015, "Cluster-robust
//! variance estimation for dyadic data", Political Analysis 23(4)): any two
//! observations whose dyads share a member (a state in common, or the same
//! dyad in another year or direction) may be correlated.
//!
//! The meat is `sum over pairs (k, l) sharing a member of s_k s_l'` (the pair
//! `k = l` included). Let `T_i` sum the scores of the rows with state `i` as a
//! member and `D_d` those of undirected dyad `d` (`{A, B}` whatever the
//! order). `sum_i T_i T_i'` counts each pair once per state the two dyads
//! share: once if they share one, twice if they are the same undirected dyad
//! (same pair of states, any year or direction). So
//!
//! `meat = sum_i T_i T_i' - sum_d D_d D_d'`
//!
//! which is the paper's multiway decomposition
//! `sum_i V_C,i - V_D - (N - 2) V_0` (`V_C,i` clustering the dyads of state
//! `i` together and every other row alone, `V_D` clustering by dyad, `V_0`
//! heteroskedasticity-robust) in one pass over the data: `O(n k)` time,
//! `O((N + dyads) k)` memory. Rows whose two members are the same state count
//! that state once.
//!
//! Small-sample factor: `G / (G - 1) x (n - 1) / (n - K)` with `G` the
//! number of distinct states, the CR1 factor concord applies to
//! `cluster:A,B`, so the two are comparable; `K` follows each family's
//! cluster rule. The paper's estimator and its R implementation `dyadRobust`
//! (Bisbee, from the replication code) apply none: divide by the factor to
//! get theirs.

use nalgebra::DMatrix;

use super::InferenceError;
use crate::formula::design::Members;

/// The dyadic meat `sum_i T_i T_i' - sum_d D_d D_d'` of `scores` (one row
/// per observation) and the number of distinct states among the members.
///
/// ```
/// use nalgebra::DMatrix;
/// use concord::formula::design::Members;
/// use concord::inference::dyadic::dyadic_meat;
/// // Dyads {0,1}, {1,2}, {2,3}: rows 0-1 and 1-2 share a state, 0 and 2 do not.
/// let m = Members { a: vec![0, 1, 2], b: vec![1, 2, 3], levels: 4 };
/// let s = DMatrix::from_column_slice(3, 1, &[1.0, 2.0, 4.0]);
/// let (meat, g) = dyadic_meat(&s, &m);
/// // 1 + 4 + 16 (each row with itself), 2 x 1 x 2 (rows 0, 1), 2 x 2 x 4 (rows 1, 2).
/// assert_eq!((meat[(0, 0)], g), (21.0 + 4.0 + 16.0, 4));
/// ```
pub fn dyadic_meat(scores: &DMatrix<f64>, m: &Members) -> (DMatrix<f64>, usize) {
    let (n, k) = scores.shape();
    // Undirected dyads of two distinct states, numbered in order of appearance.
    let mut dyads: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
    let dyad: Vec<Option<u32>> =
        m.a.iter()
            .zip(&m.b)
            .map(|(&a, &b)| {
                (a != b).then(|| {
                    let next = dyads.len() as u32;
                    *dyads.entry((a.min(b), a.max(b))).or_insert(next)
                })
            })
            .collect();
    let mut present = vec![false; m.levels];
    for (&a, &b) in m.a.iter().zip(&m.b) {
        present[a as usize] = true;
        present[b as usize] = true;
    }
    let g = present.iter().filter(|p| **p).count();
    // Column by column: both matrices are column-major.
    let mut t = DMatrix::zeros(m.levels, k);
    let mut d = DMatrix::zeros(dyads.len(), k);
    for j in 0..k {
        let src = scores.column(j);
        for i in 0..n {
            let v = src[i];
            let (a, b) = (m.a[i] as usize, m.b[i] as usize);
            t[(a, j)] += v;
            if b != a {
                t[(b, j)] += v;
            }
            if let Some(di) = dyad[i] {
                d[(di as usize, j)] += v;
            }
        }
    }
    (t.tr_mul(&t) - d.tr_mul(&d), g)
}

/// The dyadic-robust covariance `bread meat bread` with the small-sample
/// factor `G / (G - 1) x (n - 1) / (n - K)` (`G` distinct states): the
/// matrix and `G`. Errors when fewer than two states are left.
pub fn dyadic(
    bread: &DMatrix<f64>,
    scores: &DMatrix<f64>,
    m: &Members,
    big_k: f64,
) -> Result<(DMatrix<f64>, f64), InferenceError> {
    let (meat, g) = dyadic_meat(scores, m);
    if g < 2 {
        return Err(InferenceError::Unsupported(format!(
            "the dyadic vcov needs at least two distinct states among the members (found {g})"
        )));
    }
    let (n, g) = (scores.nrows() as f64, g as f64);
    Ok((bread * meat * bread * (g / (g - 1.0) * (n - 1.0) / (n - big_k)), g))
}

/// The members a dyadic vcov needs, or an error saying they are missing.
pub fn members_of(m: Option<&Members>) -> Result<&Members, InferenceError> {
    m.ok_or_else(|| {
        InferenceError::Unsupported("the dyadic vcov needs the member columns of the design (dyadic:A,B)".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The meat straight from the definition: every pair of rows whose
    /// member sets intersect, `O(n^2)`.
    fn brute(scores: &DMatrix<f64>, m: &Members) -> DMatrix<f64> {
        let (n, k) = scores.shape();
        let mut meat = DMatrix::zeros(k, k);
        for p in 0..n {
            for q in 0..n {
                let share = m.a[p] == m.a[q] || m.a[p] == m.b[q] || m.b[p] == m.a[q] || m.b[p] == m.b[q];
                if share {
                    meat += scores.row(p).transpose() * scores.row(q);
                }
            }
        }
        meat
    }

    #[test]
    fn the_one_pass_meat_equals_the_sum_over_pairs_sharing_a_member() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        // Directed and undirected dyads, repeated years, a self-dyad, states
        // coded sparsely: 8 states, 150 rows, 3 score columns.
        let (states, n, k) = (8u32, 150, 3);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for i in 0..n {
            let x = rng.random_range(0..states);
            let mut y = rng.random_range(0..states);
            if i != 7 {
                while y == x {
                    y = rng.random_range(0..states);
                }
            } else {
                y = x;
            }
            a.push(x);
            b.push(y);
        }
        let m = Members { a, b, levels: states as usize + 2 };
        let s = DMatrix::from_fn(n, k, |_, _| rng.random::<f64>() * 2.0 - 1.0);
        let (fast, g) = dyadic_meat(&s, &m);
        let slow = brute(&s, &m);
        assert_eq!(g, states as usize);
        for (x, y) in fast.iter().zip(slow.iter()) {
            assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{x} vs {y}");
        }
        // More than the heteroskedasticity-robust meat, less than all pairs.
        assert!(fast[(0, 0)] != s.tr_mul(&s)[(0, 0)]);
    }

    #[test]
    fn the_paper_decomposition_gives_the_same_meat() {
        // sum_i V_C,i - V_D - (N - 2) V_0, each a meat (bread = identity).
        let m = Members { a: vec![0, 1, 0, 2, 1, 0], b: vec![1, 2, 2, 3, 0, 3], levels: 4 };
        let s = DMatrix::from_column_slice(6, 2, &[0.5, -1.0, 2.0, 0.3, 1.1, -0.7, 1.0, 0.2, -0.4, 0.9, 0.0, 1.5]);
        let v0 = s.tr_mul(&s);
        let mut sum_c = DMatrix::zeros(2, 2);
        for st in 0..4u32 {
            let mut t = nalgebra::DVector::zeros(2);
            let mut rest = DMatrix::zeros(2, 2);
            for r in 0..6 {
                let row = s.row(r).transpose();
                if m.a[r] == st || m.b[r] == st {
                    t += &row;
                } else {
                    rest += &row * row.transpose();
                }
            }
            sum_c += &t * t.transpose() + rest;
        }
        // Undirected dyad {0,1} appears twice (rows 0 and 4).
        let d01 = (s.row(0) + s.row(4)).transpose();
        let mut vd = &d01 * d01.transpose();
        for r in [1, 2, 3, 5] {
            vd += s.row(r).transpose() * s.row(r);
        }
        let paper = sum_c - vd - v0 * 2.0;
        let (fast, _) = dyadic_meat(&s, &m);
        assert!((fast - paper).abs().max() < 1e-12);
    }

    #[test]
    fn one_state_is_refused() {
        let m = Members { a: vec![0, 0], b: vec![0, 0], levels: 1 };
        let s = DMatrix::from_column_slice(2, 1, &[1.0, 2.0]);
        let e = dyadic(&DMatrix::identity(1, 1), &s, &m, 1.0).unwrap_err().to_string();
        assert!(e.contains("at least two distinct states"), "{e}");
    }
}
