//! Inference: variance-covariance estimators and the coefficient table.
//!
//! Small-sample rules follow the reference tool named for each family:
//! gaussian models follow fixest / pyfixest (t distribution; `K` is the number
//! of regressors plus the fixed-effect levels less the redundant ones; `iid`
//! divides the residual sum of squares by `n - K`; `hc1` scales HC0 by
//! `n / (n - K)`; clusters (CR1) scale by `G / (G - 1) * (n - 1) / (n - K)` with
//! `K` counting one intercept and `levels - 1` of each fixed effect not nested
//! in a cluster variable, and use `t(G - 1)`; two-way clusters take the smaller
//! `G`). Likelihood models with fixed effects follow pyfixest's `fepois` /
//! `feglm` (`iid` scales the inverse information by `(n - 1) / (n - K)`, `hc1`
//! by `n / (n - K)`, clusters as for gaussian models; normal distribution);
//! without fixed effects they follow statsmodels (normal
//! distribution; clusters scale by `G / (G - 1) * (n - 1) / (n - k)`), and `hc1`
//! scales HC0 by `n / (n - k)` as fixest and pyfixest do (statsmodels applies no
//! factor to HC1 of discrete models).

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

pub mod hypothesis;
pub mod margins;

use crate::formula::design::Groups;

/// Errors of the inference layer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InferenceError {
    #[error("unknown vcov `{0}`: use iid, hc0, hc1, hc2, hc3, cluster:COL or cluster:COL1,COL2")]
    UnknownVcov(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("confidence level must be between 0 and 1 (got {0})")]
    Level(f64),
}

/// Which variance-covariance estimator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VcovSpec {
    Iid,
    /// Heteroskedasticity-consistent HC0..HC3.
    Hc(u8),
    /// Clustered by one or two columns.
    Cluster(Vec<String>),
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
            _ => match s.trim().split_once(':') {
                Some((k, cols)) if k.eq_ignore_ascii_case("cluster") => {
                    let cols: Vec<String> =
                        cols.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                    if cols.is_empty() || cols.len() > 2 {
                        Err(InferenceError::UnknownVcov(s.into()))
                    } else {
                        Ok(VcovSpec::Cluster(cols))
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
        }
    }
}

impl VcovSpec {
    /// The columns that define clusters.
    pub fn cluster_columns(&self) -> Vec<String> {
        match self {
            VcovSpec::Cluster(c) => c.clone(),
            _ => Vec::new(),
        }
    }
}

/// Reference distribution of the test statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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
    let (cdf, q): (Box<dyn Fn(f64) -> f64>, f64) = match dist {
        Dist::T(df) => {
            let t = StudentsT::new(0.0, 1.0, df).map_err(|e| InferenceError::Unsupported(format!("t({df}): {e}")))?;
            let q = t.inverse_cdf(0.5 + level / 2.0);
            (Box::new(move |x| t.cdf(x)), q)
        }
        Dist::Normal => {
            let n = Normal::standard();
            let q = n.inverse_cdf(0.5 + level / 2.0);
            (Box::new(move |x| n.cdf(x)), q)
        }
    };
    Ok(names
        .iter()
        .enumerate()
        .map(|(j, term)| {
            let se = vcov[(j, j)].max(0.0).sqrt();
            let stat = beta[j] / se;
            Coefficient {
                term: term.clone(),
                estimate: beta[j],
                std_error: se,
                statistic: stat,
                p_value: 2.0 * (1.0 - cdf(stat.abs())),
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
            let mut sums = DMatrix::zeros(g.levels, k);
            for (i, &id) in g.ids.iter().enumerate() {
                for j in 0..k {
                    sums[(id as usize, j)] += scores[(i, j)];
                }
            }
            sums.tr_mul(&sums)
        }
    };
    bread * meat * bread
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
        let e = "hc9".parse::<VcovSpec>().unwrap_err().to_string();
        assert!(e.starts_with("unknown vcov `hc9`"), "{e}");
        assert!("cluster:".parse::<VcovSpec>().is_err());
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
