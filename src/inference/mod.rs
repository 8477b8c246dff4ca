//! Inference: variance-covariance estimators and the coefficient table.
//!
//! Small-sample rules follow the reference tool named for each family:
//! gaussian models follow fixest / pyfixest (t distribution; `K` is the number
//! of regressors plus the fixed-effect levels less the redundant ones; `iid`
//! divides the residual sum of squares by `n - K`; `hc1` scales HC0 by
//! `n / (n - K)`; clusters (CR1) scale by `G / (G - 1) * (n - 1) / (n - K)` with
//! `K` counting one intercept and `levels - 1` of each fixed effect not nested
//! in a cluster variable, and use `t(G - 1)`; two-way clusters take the smaller
//! `G`; Driscoll-Kraay scales by `n / (n - K)` as linearmodels' kernel
//! covariance does, with `t(T - 1)`). Likelihood models with fixed effects follow pyfixest's `fepois` /
//! `feglm` (`iid` scales the inverse information by `(n - 1) / (n - K)`, `hc1`
//! by `n / (n - K)`, clusters as for gaussian models; normal distribution);
//! without fixed effects they follow statsmodels (normal
//! distribution; clusters scale by `G / (G - 1) * (n - 1) / (n - k)`), and `hc1`
//! scales HC0 by `n / (n - k)` as fixest and pyfixest do (statsmodels applies no
//! factor to HC1 of discrete models). The dyadic-robust vcov (`dyadic:A,B`,
//! [`dyadic`]) scales by `G / (G - 1) * (n - 1) / (n - K)` with `G` the number
//! of distinct states and `K` as for `cluster:A,B`, and uses `t(G - 1)` for
//! gaussian models.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

pub mod conditional;
pub mod dyadic;
pub mod hypothesis;
pub mod margins;
pub mod multiple;
pub mod sensitivity;
pub mod simulate;

use crate::formula::design::Groups;

/// Errors of the inference layer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InferenceError {
    #[error(
        "unknown vcov `{0}`: use iid, hc0, hc1, hc2, hc3, cluster:COL, cluster:COL1,COL2, dk, dk:TIME, dk:TIME:LAGS or dyadic:COL1,COL2"
    )]
    UnknownVcov(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("confidence level must be between 0 and 1 (got {0})")]
    Level(f64),
    #[error("the {what} of `{term}` is {value}: {why}")]
    Degenerate { term: String, what: &'static str, value: f64, why: &'static str },
    #[error(transparent)]
    Sensitivity(#[from] sensitivity::SensitivityError),
}

/// Which variance-covariance estimator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VcovSpec {
    Iid,
    /// Heteroskedasticity-consistent HC0..HC3.
    Hc(u8),
    /// Clustered by one or two columns.
    Cluster(Vec<String>),
    /// Driscoll-Kraay: scores summed by period, Bartlett-weighted
    /// autocovariances up to `lags` (default `floor(4 (T / 100)^(2/9))`); the
    /// period column defaults to the panel's time column.
    DriscollKraay {
        time: Option<String>,
        lags: Option<usize>,
    },
    /// Dyadic-robust (Aronow, Samii and Assenova 2015): the columns of the
    /// dyad's two members; rows whose dyads share a member may be correlated
    /// (see [`dyadic`]).
    Dyadic(String, String),
}

impl std::str::FromStr for VcovSpec {
    type Err = InferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = s.trim().to_ascii_lowercase();
        match l.as_str() {
            "iid" | "classical" | "nonrobust" => Ok(VcovSpec::Iid),
            "hc0" => Ok(VcovSpec::Hc(0)),
            "hc1" | "hetero" | "robust" => Ok(VcovSpec::Hc(1)),
            "hc2" => Ok(VcovSpec::Hc(2)),
            "hc3" => Ok(VcovSpec::Hc(3)),
            "dk" => Ok(VcovSpec::DriscollKraay { time: None, lags: None }),
            _ if l.starts_with("dk:") => {
                let mut parts = s.trim()[3..].split(':');
                let time = parts.next().map(str::trim).filter(|t| !t.is_empty()).map(String::from);
                let lags = match parts.next() {
                    Some(n) => Some(n.trim().parse().map_err(|_| InferenceError::UnknownVcov(s.into()))?),
                    None => None,
                };
                if parts.next().is_some() {
                    return Err(InferenceError::UnknownVcov(s.into()));
                }
                Ok(VcovSpec::DriscollKraay { time, lags })
            }
            // fixest's `cluster = ~a + b`.
            _ if l.starts_with('~') => format!("cluster:{}", &s.trim()[1..]).parse(),
            _ => match s.trim().split_once(':') {
                Some((k, cols)) if k.eq_ignore_ascii_case("cluster") => {
                    // `a,b` or fixest's `a+b`.
                    let cols: Vec<String> =
                        cols.split([',', '+']).map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                    if cols.is_empty() || cols.len() > 2 {
                        Err(InferenceError::UnknownVcov(s.into()))
                    } else {
                        Ok(VcovSpec::Cluster(cols))
                    }
                }
                Some((k, cols)) if k.trim().eq_ignore_ascii_case("dyadic") => {
                    let cols: Vec<String> =
                        cols.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                    match <[String; 2]>::try_from(cols) {
                        Ok([a, b]) => Ok(VcovSpec::Dyadic(a, b)),
                        Err(cols) => Err(InferenceError::Unsupported(format!(
                            "the dyadic vcov needs the two member columns, dyadic:COL1,COL2 (got {} in `{}`)",
                            cols.len(),
                            s.trim()
                        ))),
                    }
                }
                _ => Err(InferenceError::UnknownVcov(s.into())),
            },
        }
    }
}

impl std::fmt::Display for VcovSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VcovSpec::Iid => write!(f, "iid"),
            VcovSpec::Hc(k) => write!(f, "hc{k}"),
            VcovSpec::Cluster(c) => write!(f, "cluster:{}", c.join(",")),
            VcovSpec::Dyadic(a, b) => write!(f, "dyadic:{a},{b}"),
            VcovSpec::DriscollKraay { time, lags } => {
                write!(f, "dk")?;
                if let Some(t) = time {
                    write!(f, ":{t}")?;
                }
                if let Some(l) = lags {
                    write!(f, ":{l}")?;
                }
                Ok(())
            }
        }
    }
}

impl VcovSpec {
    /// The columns that define clusters.
    pub fn cluster_columns(&self) -> Vec<String> {
        match self {
            VcovSpec::Cluster(c) => c.clone(),
            VcovSpec::Dyadic(a, b) => vec![a.clone(), b.clone()],
            VcovSpec::DriscollKraay { time: Some(t), .. } => vec![t.clone()],
            _ => Vec::new(),
        }
    }
}

/// Reference distribution of the test statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Dist {
    T(f64),
    Normal,
}

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    pub term: String,
    pub estimate: f64,
    pub std_error: f64,
    pub statistic: f64,
    pub p_value: f64,
    pub conf_low: f64,
    pub conf_high: f64,
}

/// Estimates, standard errors, statistics, two-sided p-values and intervals.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use concord::inference::{table, Dist};
/// let t = table(&["x".into()], &DVector::from_vec(vec![1.96]), &DMatrix::from_element(1, 1, 1.0), Dist::Normal, 0.95).unwrap();
/// assert!((t[0].p_value - 0.05).abs() < 1e-4);
/// ```
pub fn table(
    names: &[String],
    beta: &DVector<f64>,
    vcov: &DMatrix<f64>,
    dist: Dist,
    level: f64,
) -> Result<Vec<Coefficient>, InferenceError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(InferenceError::Level(level));
    }
    // Upper-tail probabilities come from the survival function (accurate far out).
    let (sf, q): (Box<dyn Fn(f64) -> f64>, f64) = match dist {
        Dist::T(df) => {
            let t = StudentsT::new(0.0, 1.0, df).map_err(|_| {
                InferenceError::Unsupported(format!(
                    "no residual degrees of freedom are left (t with {df} df): the model needs more observations \
                     (or clusters, or periods) than parameters"
                ))
            })?;
            let q = t.inverse_cdf(0.5 + level / 2.0);
            (Box::new(move |x| t.sf(x)), q)
        }
        Dist::Normal => {
            let n = Normal::standard();
            let q = n.inverse_cdf(0.5 + level / 2.0);
            (Box::new(move |x| n.sf(x)), q)
        }
    };
    // A number that cannot be right is an error, not a table entry.
    for (j, term) in names.iter().enumerate() {
        let bad = |what, value, why| InferenceError::Degenerate { term: term.clone(), what, value, why };
        let var = vcov[(j, j)];
        if !beta[j].is_finite() {
            return Err(bad("estimate", beta[j], "the model cannot be estimated on these data"));
        }
        if !var.is_finite() {
            return Err(bad(
                "variance",
                var,
                "the covariance cannot be estimated (too few observations, clusters or periods for this vcov?)",
            ));
        }
        if var < 0.0 {
            return Err(bad(
                "variance",
                var,
                "the vcov is not positive semi-definite here (dyadic-robust and two-way cluster vcovs need not be, \
                 with few states or clusters or a regressor with little dependence between them); use a one-way cluster vcov",
            ));
        }
        if var <= 0.0 {
            return Err(bad(
                "variance",
                var,
                "no sampling variation is left (an exact fit, or a vcov with a single cluster or period)",
            ));
        }
    }
    Ok(names
        .iter()
        .enumerate()
        .map(|(j, term)| {
            let se = vcov[(j, j)].sqrt();
            let stat = beta[j] / se;
            Coefficient {
                term: term.clone(),
                estimate: beta[j],
                std_error: se,
                statistic: stat,
                p_value: 2.0 * sf(stat.abs()),
                conf_low: beta[j] - q * se,
                conf_high: beta[j] + q * se,
            }
        })
        .collect())
}

/// `B (sum_g s_g s_g') B` with `s_g` the summed scores of group `g` (or of each
/// observation when `groups` is `None`).
pub fn sandwich(bread: &DMatrix<f64>, scores: &DMatrix<f64>, groups: Option<&Groups>) -> DMatrix<f64> {
    let k = scores.ncols();
    let meat = match groups {
        None => scores.tr_mul(scores),
        Some(g) => {
            // Column by column: both matrices are column-major.
            let mut sums = DMatrix::zeros(g.levels, k);
            for (mut dst, src) in sums.column_iter_mut().zip(scores.column_iter()) {
                for (&id, v) in g.ids.iter().zip(src.iter()) {
                    dst[id as usize] += v;
                }
            }
            sums.tr_mul(&sums)
        }
    };
    bread * meat * bread
}

/// Condition number of a covariance (or information) matrix scaled to unit
/// diagonal, a correlation matrix: free of the regressors' units, it measures
/// how nearly collinear the estimates are in the model's own metric (the
/// relative accuracy of the inverse is about this times 1e-16). Infinite for
/// a matrix that is not positive definite.
///
/// ```
/// use nalgebra::DMatrix;
/// use concord::inference::scaled_condition;
/// let m = DMatrix::from_row_slice(2, 2, &[4.0, 0.0, 0.0, 1e-6]);
/// assert!((scaled_condition(&m) - 1.0).abs() < 1e-12);
/// let r = DMatrix::from_row_slice(2, 2, &[1.0, 0.999, 0.999, 1.0]);
/// assert!((scaled_condition(&r) - 1999.0).abs() < 1e-6);
/// ```
pub fn scaled_condition(m: &DMatrix<f64>) -> f64 {
    least_identified(m).0
}

/// [`scaled_condition`] and the unit vector of the direction the estimates
/// pin down worst (the top eigenvector of the scaled covariance): its large
/// entries name the nearly collinear terms.
pub fn least_identified(m: &DMatrix<f64>) -> (f64, Vec<f64>) {
    let k = m.nrows();
    let d: Vec<f64> = (0..k).map(|i| m[(i, i)].sqrt()).collect();
    if k == 0 || d.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return (f64::INFINITY, Vec::new());
    }
    let c = DMatrix::from_fn(k, k, |i, j| m[(i, j)] / (d[i] * d[j]));
    let eig = c.symmetric_eigen();
    let (mut lo, mut hi, mut top) = (f64::INFINITY, 0.0f64, 0);
    for (j, v) in eig.eigenvalues.iter().enumerate() {
        lo = lo.min(*v);
        if *v > hi {
            (hi, top) = (*v, j);
        }
    }
    let cond = if lo > 0.0 && lo.is_finite() { hi / lo } else { f64::INFINITY };
    (cond, eig.eigenvectors.column(top).iter().copied().collect())
}

/// HC2 (`hc` 2) or HC3 (`hc` 3): each row's score divided by `sqrt(1 - h_i)`
/// or `1 - h_i`, with leverage `h_i = w_i x_i' bread x_i` (`w` the working
/// weights of a GLM with canonical link, none for OLS), as R's
/// `sandwich::vcovHC` computes them.
///
/// ```
/// use nalgebra::DMatrix;
/// use concord::inference::{hc_leverage, sandwich};
/// let x = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0]);
/// let bread = x.tr_mul(&x).try_inverse().unwrap();
/// let scores = DMatrix::from_fn(4, 2, |i, j| x[(i, j)] * [0.5, -1.0, 0.2, 0.3][i]);
/// let hc2 = hc_leverage(&bread, &x, &scores, None, 2);
/// assert!(hc2[(1, 1)] > sandwich(&bread, &scores, None)[(1, 1)]);
/// ```
pub fn hc_leverage(
    bread: &DMatrix<f64>,
    x: &DMatrix<f64>,
    scores: &DMatrix<f64>,
    w: Option<&[f64]>,
    hc: u8,
) -> DMatrix<f64> {
    let xb = x * bread;
    let lev: Vec<f64> = (0..x.nrows())
        .map(|i| {
            let h: f64 = xb.row(i).iter().zip(x.row(i).iter()).map(|(a, b)| a * b).sum();
            h * w.map_or(1.0, |w| w[i])
        })
        .collect();
    let pow = if hc == 2 { 0.5 } else { 1.0 };
    let s = DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| scores[(i, j)] / (1.0 - lev[i]).powf(pow));
    sandwich(bread, &s, None)
}

/// One-way CR1 covariance straight from the regressors and the per-row score
/// factors `d` (score_i = x_i d_i), without forming the n x k score matrix:
/// the same numbers as [`cr1`] on `scale_rows(x, d)` with one cluster.
pub fn cr1_from_factors(bread: &DMatrix<f64>, x: &DMatrix<f64>, d: &[f64], g: &Groups, big_k: f64) -> DMatrix<f64> {
    use rayon::prelude::*;
    let (n, k) = x.shape();
    // One column per task: each sum runs over the rows in order.
    let cols: Vec<Vec<f64>> = (0..k)
        .into_par_iter()
        .map(|j| {
            let mut dst = vec![0.0; g.levels];
            for ((&id, v), w) in g.ids.iter().zip(&x.as_slice()[j * n..(j + 1) * n]).zip(d) {
                dst[id as usize] += v * w;
            }
            dst
        })
        .collect();
    let sums = DMatrix::from_fn(g.levels, k, |i, j| cols[j][i]);
    let n = x.nrows() as f64;
    let levels = g.levels as f64;
    bread * sums.tr_mul(&sums) * bread * (levels / (levels - 1.0) * (n - 1.0) / (n - big_k))
}

/// The Newey-West (1994) lag rule used by default for Driscoll-Kraay.
pub fn default_dk_lags(periods: usize) -> usize {
    (4.0 * (periods as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

/// Driscoll-Kraay sandwich: `periods[i]` is the 0-based time period of row
/// `i` (in time order); scores are summed by period and Bartlett-weighted
/// cross-period products added up to `lags`. The caller applies the
/// small-sample factor (gaussian models: `n / (n - K)`, as linearmodels).
pub fn driscoll_kraay(bread: &DMatrix<f64>, scores: &DMatrix<f64>, periods: &[u32], lags: usize) -> DMatrix<f64> {
    let k = scores.ncols();
    let t = periods.iter().max().map_or(0, |m| *m as usize + 1);
    let mut h = DMatrix::zeros(t, k);
    for (i, &p) in periods.iter().enumerate() {
        for j in 0..k {
            h[(p as usize, j)] += scores[(i, j)];
        }
    }
    let mut meat = h.tr_mul(&h);
    for l in 1..=lags.min(t.saturating_sub(1)) {
        let w = 1.0 - l as f64 / (lags as f64 + 1.0);
        let a = h.rows(l, t - l);
        let b = h.rows(0, t - l);
        let g = a.tr_mul(&b);
        meat += (&g + g.transpose()) * w;
    }
    bread * meat * bread
}

/// Driscoll-Kraay of a likelihood model as statsmodels' `hac-groupsum` with
/// its default small-sample factor `(n - 1) / (n - K) x T / (T - 1)`; `lags`
/// defaults to [`default_dk_lags`] of the number of periods.
pub fn driscoll_kraay_mle(
    bread: &DMatrix<f64>,
    scores: &DMatrix<f64>,
    periods: &[u32],
    lags: Option<usize>,
    big_k: f64,
) -> DMatrix<f64> {
    let t = periods.iter().max().map_or(0, |m| *m as usize + 1);
    let l = lags.unwrap_or_else(|| default_dk_lags(t));
    let (n, tf) = (scores.nrows() as f64, t as f64);
    driscoll_kraay(bread, scores, periods, l) * ((n - 1.0) / (n - big_k) * tf / (tf - 1.0))
}

/// Groups for the intersection of two cluster variables.
pub fn intersect(a: &Groups, b: &Groups) -> Groups {
    let mut map = std::collections::HashMap::new();
    let ids = a
        .ids
        .iter()
        .zip(&b.ids)
        .map(|(x, y)| {
            let next = map.len() as u32;
            *map.entry((*x, *y)).or_insert(next)
        })
        .collect();
    Groups { name: format!("{}:{}", a.name, b.name), ids, levels: map.len() }
}

/// Clustered sandwich for one or two (Cameron-Gelbach-Miller) cluster variables,
/// without small-sample factors; returns it and the smallest number of clusters.
pub fn cluster_sandwich(bread: &DMatrix<f64>, scores: &DMatrix<f64>, clusters: &[Groups]) -> (DMatrix<f64>, usize) {
    match clusters {
        [a] => (sandwich(bread, scores, Some(a)), a.levels),
        [a, b] => {
            let ab = intersect(a, b);
            let v = sandwich(bread, scores, Some(a)) + sandwich(bread, scores, Some(b))
                - sandwich(bread, scores, Some(&ab));
            (v, a.levels.min(b.levels))
        }
        _ => (sandwich(bread, scores, None), scores.nrows()),
    }
}

/// CR1 clustered covariance: the cluster sandwich scaled by
/// `G / (G - 1) * (n - 1) / (n - K)` (G the smallest number of clusters).
/// Returns the matrix and G.
pub fn cr1(bread: &DMatrix<f64>, scores: &DMatrix<f64>, clusters: &[Groups], big_k: f64) -> (DMatrix<f64>, f64) {
    let n = scores.nrows() as f64;
    let (v, g) = cluster_sandwich(bread, scores, clusters);
    let g = g as f64;
    (v * (g / (g - 1.0) * (n - 1.0) / (n - big_k)), g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcov_specs_parse() {
        assert_eq!("iid".parse::<VcovSpec>().unwrap(), VcovSpec::Iid);
        assert_eq!("HC3".parse::<VcovSpec>().unwrap(), VcovSpec::Hc(3));
        assert_eq!("cluster:dyad".parse::<VcovSpec>().unwrap(), VcovSpec::Cluster(vec!["dyad".into()]));
        assert_eq!(
            "cluster:ccode1, year".parse::<VcovSpec>().unwrap(),
            VcovSpec::Cluster(vec!["ccode1".into(), "year".into()])
        );
        // fixest's spellings of two-way clustering.
        for spec in ["cluster:ccode1+year", "~ccode1 + year", "~ ccode1+year"] {
            assert_eq!(spec.parse::<VcovSpec>().unwrap(), VcovSpec::Cluster(vec!["ccode1".into(), "year".into()]));
        }
        let e = "hc9".parse::<VcovSpec>().unwrap_err().to_string();
        assert!(e.starts_with("unknown vcov `hc9`"), "{e}");
        assert!("cluster:".parse::<VcovSpec>().is_err());
        assert_eq!("dk".parse::<VcovSpec>().unwrap(), VcovSpec::DriscollKraay { time: None, lags: None });
        assert_eq!(
            "dk:year:3".parse::<VcovSpec>().unwrap(),
            VcovSpec::DriscollKraay { time: Some("year".into()), lags: Some(3) }
        );
        assert!("dk:year:x".parse::<VcovSpec>().is_err());
        assert_eq!(default_dk_lags(69), 3);
        assert_eq!(
            "dyadic: ccode1, ccode2".parse::<VcovSpec>().unwrap(),
            VcovSpec::Dyadic("ccode1".into(), "ccode2".into())
        );
        assert_eq!(VcovSpec::Dyadic("a".into(), "b".into()).to_string(), "dyadic:a,b");
        let e = "dyadic:ccode1".parse::<VcovSpec>().unwrap_err().to_string();
        assert_eq!(e, "the dyadic vcov needs the two member columns, dyadic:COL1,COL2 (got 1 in `dyadic:ccode1`)");
        assert!("dyadic:a,b,c".parse::<VcovSpec>().is_err());
    }

    #[test]
    fn t_table_matches_known_quantiles() {
        // t(10): 97.5% quantile 2.228139; p-value of t = 2.228139 is 0.05.
        let t = table(
            &["x".into()],
            &DVector::from_vec(vec![2.228139]),
            &DMatrix::from_element(1, 1, 1.0),
            Dist::T(10.0),
            0.95,
        )
        .unwrap();
        assert!((t[0].p_value - 0.05).abs() < 1e-6);
        assert!((t[0].conf_low - 0.0).abs() < 1e-5);
        assert!(table(&[], &DVector::zeros(0), &DMatrix::zeros(0, 0), Dist::Normal, 1.5).is_err());
    }

    #[test]
    fn cluster_meat_sums_scores_within_groups() {
        let scores = DMatrix::from_column_slice(4, 1, &[1.0, -1.0, 2.0, 2.0]);
        let g = Groups { name: "g".into(), ids: vec![0, 0, 1, 1], levels: 2 };
        let v = sandwich(&DMatrix::identity(1, 1), &scores, Some(&g));
        assert_eq!(v[(0, 0)], 0.0 + 16.0);
        let v = sandwich(&DMatrix::identity(1, 1), &scores, None);
        assert_eq!(v[(0, 0)], 10.0);
    }
}
