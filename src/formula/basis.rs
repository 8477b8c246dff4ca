//! Data-dependent bases of a formula, as R computes them: `poly(x, p)`
//! (orthogonal polynomials, R's `stats::poly`), `poly(x, p, raw = TRUE)` (raw
//! powers) and `ns(x, df)` (natural cubic B-splines, R's `splines::ns`).
//!
//! The state of a basis (the recurrence coefficients of `poly`, the knots of
//! `ns`) is fitted once on the sample's rows where its variable is present
//! (rows missing another variable included, as R's model frame and fixest
//! evaluate it) and then reused when the design is rebuilt on changed values
//! (marginal effects, counterfactual predictions), as R's `makepredictcall` does: the same string gives R's
//! numbers, and a prediction at `x = 60` evaluates the fitted basis at 60.

use super::design::quantile_sorted;

/// The fitted state of one basis.
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    /// `x, x^2, ..., x^p`.
    Raw(u32),
    /// R's `poly(x, p)`: `alpha` and `norm2` exactly as `attr(, "coefs")`
    /// (`norm2` has `p + 2` entries, the first two 1 and n).
    Orthogonal { alpha: Vec<f64>, norm2: Vec<f64> },
    /// R's `ns(x, df)` (no intercept column).
    Natural(NaturalSpline),
}

/// R's `splines::ns` basis: B-splines of order 4 on the boundary knots
/// (repeated 4 times) and the interior knots, the first dropped, projected on
/// the null space of the second derivatives at the boundary knots (the QR of
/// R's LINPACK `dqrdc2`), linear beyond the boundary knots.
#[derive(Debug, Clone, PartialEq)]
pub struct NaturalSpline {
    /// Interior knots (quantiles of x, R's type 7).
    pub interior: Vec<f64>,
    /// `range(x)`.
    pub boundary: (f64, f64),
    /// All knots: the boundary ones four times.
    knots: Vec<f64>,
    /// Householder vectors of the QR of `t(const)` (LINPACK convention).
    householder: Vec<(usize, Vec<f64>)>,
}

/// Why a basis cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BasisError(pub String);

impl Basis {
    /// Orthogonal polynomials of degree `p` fitted on `x` (R's `poly`).
    ///
    /// ```
    /// use concord::formula::basis::Basis;
    /// // R: attr(poly(c(0, 1, 2, 5, 10), 2), "coefs")
    /// let b = Basis::orthogonal(&[0.0, 1.0, 2.0, 5.0, 10.0], 2).unwrap();
    /// let Basis::Orthogonal { alpha, norm2 } = &b else { unreachable!() };
    /// assert!((alpha[1] - 6.614724).abs() < 1e-6 && (norm2[3] - 458.9939).abs() < 1e-4);
    /// // R: poly(c(0, 1, 2, 5, 10), 2)[1, ]
    /// let row = b.eval(0.0);
    /// assert!((row[0] + 0.4458397).abs() < 1e-7 && (row[1] - 0.50284423).abs() < 1e-8);
    /// ```
    pub fn orthogonal(x: &[f64], p: u32) -> Result<Basis, BasisError> {
        let mut distinct: Vec<f64> = x.to_vec();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if distinct.len() <= p as usize {
            return Err(BasisError(format!(
                "the degree ({p}) must be less than the number of distinct values ({})",
                distinct.len()
            )));
        }
        // Stieltjes: the monic orthogonal polynomials on the points, by the
        // three-term recurrence R's predict.poly uses.
        let n = x.len() as f64;
        let mut norm2 = vec![1.0, n];
        let mut alpha = Vec::with_capacity(p as usize);
        let mut prev = vec![0.0; x.len()];
        let mut cur = vec![1.0; x.len()];
        for d in 0..p as usize {
            let nc = norm2[d + 1];
            let a = x.iter().zip(&cur).map(|(x, c)| x * c * c).sum::<f64>() / nc;
            alpha.push(a);
            let b = if d == 0 { 0.0 } else { nc / norm2[d] };
            let next: Vec<f64> = x.iter().zip(&cur).zip(&prev).map(|((x, c), q)| (x - a) * c - b * q).collect();
            norm2.push(next.iter().map(|v| v * v).sum());
            prev = cur;
            cur = next;
        }
        Ok(Basis::Orthogonal { alpha, norm2 })
    }

    /// R's `ns(x, df)` fitted on `x` (no missing values).
    pub fn natural(x: &[f64], df: u32) -> Result<Basis, BasisError> {
        let mut v = x.to_vec();
        v.sort_by(f64::total_cmp);
        let (lo, hi) = match (v.first(), v.last()) {
            (Some(a), Some(b)) if a < b => (*a, *b),
            _ => return Err(BasisError("ns() needs at least two distinct values".into())),
        };
        let nik = df as usize - 1;
        let interior: Vec<f64> = (1..=nik).map(|j| quantile_sorted(&v, j as f64 / (nik + 1) as f64)).collect();
        Ok(Basis::Natural(NaturalSpline::new(interior, (lo, hi))))
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        match self {
            Basis::Raw(p) => *p as usize,
            Basis::Orthogonal { alpha, .. } => alpha.len(),
            Basis::Natural(s) => s.interior.len() + 1,
        }
    }

    /// The basis at one value.
    pub fn eval(&self, x: f64) -> Vec<f64> {
        match self {
            Basis::Raw(p) => (1..=*p as i32).map(|d| x.powi(d)).collect(),
            Basis::Orthogonal { alpha, norm2 } => {
                let p = alpha.len();
                let mut z = Vec::with_capacity(p + 1);
                z.push(1.0);
                z.push(x - alpha[0]);
                for i in 1..p {
                    let v = (x - alpha[i]) * z[i] - norm2[i + 1] / norm2[i] * z[i - 1];
                    z.push(v);
                }
                (1..=p).map(|j| z[j] / norm2[j + 1].sqrt()).collect()
            }
            Basis::Natural(s) => s.eval(x),
        }
    }
}

impl NaturalSpline {
    /// The basis with these knots (R's `ns(x, knots = interior, Boundary.knots = boundary)`).
    pub fn new(interior: Vec<f64>, boundary: (f64, f64)) -> NaturalSpline {
        let mut knots = vec![boundary.0; 4];
        knots.extend(&interior);
        knots.extend([boundary.1; 4]);
        let nb = knots.len() - 4;
        // t(const): second derivatives at the boundary knots, first basis dropped.
        let c0 = bspline_derivs(&knots, boundary.0, 4, 2);
        let c1 = bspline_derivs(&knots, boundary.1, 4, 2);
        let mut cols = [c0[1..nb].to_vec(), c1[1..nb].to_vec()];
        let m = nb - 1;
        let mut householder = Vec::new();
        // LINPACK dqrdc2 without pivoting (the two columns are never negligible).
        for l in 0..2 {
            let mut nrm = cols[l][l..m].iter().map(|v| v * v).sum::<f64>().sqrt();
            if nrm == 0.0 {
                continue;
            }
            if cols[l][l] != 0.0 {
                nrm = nrm.copysign(cols[l][l]);
            }
            let mut v: Vec<f64> = cols[l][l..m].iter().map(|a| a / nrm).collect();
            v[0] += 1.0;
            if l == 0 {
                let t = -dot(&v, &cols[1][l..m]) / v[0];
                for (c, vi) in cols[1][l..m].iter_mut().zip(&v) {
                    *c += t * vi;
                }
            }
            householder.push((l, v));
        }
        NaturalSpline { interior, boundary, knots, householder }
    }

    fn project(&self, b: &[f64]) -> Vec<f64> {
        let mut y = b[1..].to_vec();
        for (l, v) in &self.householder {
            let t = -dot(v, &y[*l..]) / v[0];
            for (yi, vi) in y[*l..].iter_mut().zip(v) {
                *yi += t * vi;
            }
        }
        y.split_off(2)
    }

    /// The basis at `x` (linear extrapolation beyond the boundary knots, as R).
    pub fn eval(&self, x: f64) -> Vec<f64> {
        let (lo, hi) = self.boundary;
        let b = if x < lo || x > hi {
            let k = if x < lo { lo } else { hi };
            let v = bspline_derivs(&self.knots, k, 4, 0);
            let d = bspline_derivs(&self.knots, k, 4, 1);
            v.iter().zip(&d).map(|(v, d)| v + (x - k) * d).collect()
        } else {
            bspline_derivs(&self.knots, x, 4, 0)
        };
        self.project(&b)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// The `deriv`-th derivative at `x` of every B-spline of order `k` on `t`
/// (Cox-de Boor; the last interval is closed on the right, as R's splineDesign).
fn bspline_derivs(t: &[f64], x: f64, k: usize, deriv: usize) -> Vec<f64> {
    let m = t.len();
    if deriv > 0 {
        let lower = bspline_derivs(t, x, k - 1, deriv - 1);
        let w = (k - 1) as f64;
        return (0..m - k)
            .map(|i| {
                let a = if t[i + k - 1] > t[i] { lower[i] / (t[i + k - 1] - t[i]) } else { 0.0 };
                let b = if t[i + k] > t[i + 1] { lower[i + 1] / (t[i + k] - t[i + 1]) } else { 0.0 };
                w * (a - b)
            })
            .collect();
    }
    let mut n: Vec<f64> = (0..m - 1).map(|i| f64::from(u8::from(t[i] <= x && x < t[i + 1]))).collect();
    if n.iter().all(|v| *v == 0.0) && x == t[m - 1] {
        if let Some(i) = (0..m - 1).rev().find(|&i| t[i] < t[i + 1]) {
            n[i] = 1.0;
        }
    }
    for q in 2..=k {
        n = (0..m - q)
            .map(|i| {
                let a = if t[i + q - 1] > t[i] { (x - t[i]) / (t[i + q - 1] - t[i]) * n[i] } else { 0.0 };
                let b = if t[i + q] > t[i + 1] { (t[i + q] - x) / (t[i + q] - t[i + 1]) * n[i + 1] } else { 0.0 };
                a + b
            })
            .collect();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R 4.2: `library(splines); ns(c(0, 1, 2, 5, 10), 3)` and
    /// `predict(ns(...), c(-2, 12))`.
    #[test]
    fn natural_splines_equal_r_splines_ns() {
        let x = [0.0, 1.0, 2.0, 5.0, 10.0];
        let b = Basis::natural(&x, 3).unwrap();
        let Basis::Natural(s) = &b else { unreachable!() };
        assert!((s.interior[0] - 4.0 / 3.0).abs() < 1e-12 && (s.interior[1] - 4.0).abs() < 1e-12);
        let want = [
            [0.0, 0.0, 0.0],
            [-0.1472275, 0.4057227, -0.2397452],
            [-0.1077389, 0.6043873, -0.3562638],
            [0.4502228, 0.4112075, -0.1018149],
            [-0.1594005, 0.3896458, 0.7697548],
        ];
        for (xi, w) in x.iter().zip(want) {
            for (g, w) in b.eval(*xi).iter().zip(w) {
                assert!((g - w).abs() < 1e-7, "x = {xi}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn orthogonal_polynomials_are_orthonormal_and_centred() {
        let x: Vec<f64> = (0..50).map(|i| f64::from(i).powf(1.3)).collect();
        let b = Basis::orthogonal(&x, 3).unwrap();
        let rows: Vec<Vec<f64>> = x.iter().map(|v| b.eval(*v)).collect();
        for a in 0..3 {
            assert!(rows.iter().map(|r| r[a]).sum::<f64>().abs() < 1e-10);
            for c in 0..3 {
                let s: f64 = rows.iter().map(|r| r[a] * r[c]).sum();
                assert!((s - f64::from(u8::from(a == c))).abs() < 1e-10, "{a} {c}: {s}");
            }
        }
        let e = Basis::orthogonal(&[1.0, 2.0, 1.0], 2).unwrap_err();
        assert!(e.0.contains("less than the number of distinct values (2)"), "{e}");
    }
}
