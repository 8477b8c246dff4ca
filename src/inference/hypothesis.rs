//! Hypothesis tests on fitted models: Wald tests of linear restrictions
//! `R b = r`, likelihood-ratio tests between nested fits, and one-sided tests
//! of directional hypotheses (`H1: b > 0`).

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};

use super::{Dist, InferenceError};

/// Result of a test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestResult {
    pub test: String,
    pub statistic: f64,
    /// Degrees of freedom: (numerator, denominator) for F, (q, none) for chi-square.
    pub df: (f64, Option<f64>),
    pub distribution: &'static str,
    pub p_value: f64,
}

fn err(m: impl Into<String>) -> InferenceError {
    InferenceError::Unsupported(m.into())
}

/// Split on commas outside parentheses (term names such as `l(x,1)` hold commas).
///
/// ```
/// assert_eq!(concord::inference::hypothesis::split_top_level("l(x,1)=2, y=3"), vec!["l(x,1)=2", "y=3"]);
/// ```
pub fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

/// Parse restrictions like `"x1 = 0, x2 - 2*x3 = 1"` into `R` and `r` over `names`.
///
/// ```
/// use concord::inference::hypothesis::parse_restrictions;
/// let names = vec!["(Intercept)".to_string(), "x1".into(), "x2".into()];
/// let (r, q) = parse_restrictions("x1 = 0, x1 - 2*x2 = 1", &names).unwrap();
/// assert_eq!(r.row(1).iter().copied().collect::<Vec<_>>(), vec![0.0, 1.0, -2.0]);
/// assert_eq!(q[1], 1.0);
/// ```
pub fn parse_restrictions(text: &str, names: &[String]) -> Result<(DMatrix<f64>, DVector<f64>), InferenceError> {
    let mut rows = split_top_level(text);
    rows.retain(|r| !r.is_empty());
    if rows.is_empty() {
        return Err(err("no restriction given"));
    }
    let mut r = DMatrix::zeros(rows.len(), names.len());
    let mut q = DVector::zeros(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let (lhs, rhs) = row.split_once('=').unwrap_or((row, "0"));
        q[i] = rhs.trim().parse().map_err(|_| err(format!("`{row}`: the right-hand side must be a number")))?;
        // Split the left side into signed terms.
        let mut terms = Vec::new();
        let mut cur = String::new();
        for ch in lhs.chars() {
            if (ch == '+' || ch == '-') && !cur.trim().is_empty() && !cur.trim_end().ends_with('*') {
                terms.push(cur.clone());
                cur.clear();
            }
            cur.push(ch);
        }
        terms.push(cur);
        for t in terms {
            let t = t.replace(' ', "");
            if t.is_empty() {
                continue;
            }
            let (sign, body) = match t.strip_prefix('-') {
                Some(b) => (-1.0, b.to_string()),
                None => (1.0, t.trim_start_matches('+').to_string()),
            };
            let (coef, name) = match body.split_once('*') {
                Some((c, n)) => (c.parse::<f64>().map_err(|_| err(format!("`{row}`: bad coefficient `{c}`")))?, n),
                None => (1.0, body.as_str()),
            };
            let j = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| err(format!("`{row}`: no term `{name}` in the model (terms: {})", names.join(", "))))?;
            r[(i, j)] += sign * coef;
        }
    }
    Ok((r, q))
}

/// Wald test of `R b = r`: F(q, df) for t-based models, chi-square(q) otherwise.
pub fn wald(
    beta: &DVector<f64>,
    cov: &DMatrix<f64>,
    r: &DMatrix<f64>,
    q: &DVector<f64>,
    dist: Dist,
) -> Result<TestResult, InferenceError> {
    let d = r * beta - q;
    let m = r * cov * r.transpose();
    let inv = m.cholesky().ok_or_else(|| err("the restrictions are linearly dependent (R V R' is singular)"))?;
    let w = d.dot(&inv.solve(&d));
    let k = r.nrows() as f64;
    Ok(match dist {
        Dist::T(df) => {
            let f = FisherSnedecor::new(k, df).map_err(|e| err(e.to_string()))?;
            TestResult {
                test: "wald".into(),
                statistic: w / k,
                df: (k, Some(df)),
                distribution: "F",
                p_value: f.sf(w / k),
            }
        }
        Dist::Normal => {
            let c = ChiSquared::new(k).map_err(|e| err(e.to_string()))?;
            TestResult { test: "wald".into(), statistic: w, df: (k, None), distribution: "chi2", p_value: c.sf(w) }
        }
    })
}

/// Likelihood-ratio test of a restricted fit against a fuller one.
pub fn likelihood_ratio(ll_restricted: f64, ll_full: f64, df: usize) -> Result<TestResult, InferenceError> {
    if df == 0 {
        return Err(err("the models have the same number of parameters: they are not nested"));
    }
    let stat = 2.0 * (ll_full - ll_restricted);
    if stat < -1e-8 {
        return Err(err("the restricted model fits better than the full one: they are not nested"));
    }
    let c = ChiSquared::new(df as f64).map_err(|e| err(e.to_string()))?;
    Ok(TestResult {
        test: "likelihood ratio".into(),
        statistic: stat.max(0.0),
        df: (df as f64, None),
        distribution: "chi2",
        p_value: c.sf(stat.max(0.0)),
    })
}

/// Direction of a one-sided alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// H1: b > 0.
    Positive,
    /// H1: b < 0.
    Negative,
}

/// One-sided p-value of a statistic `t = b / se` under `dist`.
///
/// ```
/// use concord::inference::{Dist, hypothesis::{one_sided_p, Direction}};
/// assert!((one_sided_p(1.6448536, Direction::Positive, Dist::Normal) - 0.05).abs() < 1e-6);
/// ```
pub fn one_sided_p(stat: f64, direction: Direction, dist: Dist) -> f64 {
    // Upper tail through the survival function, so tiny p-values keep their digits.
    let s = match direction {
        Direction::Positive => stat,
        Direction::Negative => -stat,
    };
    match dist {
        Dist::T(df) => StudentsT::new(0.0, 1.0, df).map(|t| t.sf(s)).unwrap_or(f64::NAN),
        Dist::Normal => Normal::standard().sf(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_errors_name_the_problem() {
        let names = vec!["x1".to_string(), "x2".into()];
        let e = parse_restrictions("x3 = 0", &names).unwrap_err().to_string();
        assert_eq!(e, "`x3 = 0`: no term `x3` in the model (terms: x1, x2)");
        let e = parse_restrictions("x1 = a", &names).unwrap_err().to_string();
        assert_eq!(e, "`x1 = a`: the right-hand side must be a number");
        let (r, q) = parse_restrictions("x1 + x2", &names).unwrap();
        assert_eq!((r[(0, 0)], r[(0, 1)], q[0]), (1.0, 1.0, 0.0));
        let names = vec!["l(x,1)".to_string(), "d(z)".into()];
        let (r, _) = parse_restrictions("l(x,1) = 0, d(z) - l(x,1) = 0", &names).unwrap();
        assert_eq!(r.shape(), (2, 2));
        assert_eq!((r[(1, 0)], r[(1, 1)]), (-1.0, 1.0));
    }

    #[test]
    fn single_restriction_wald_equals_squared_z() {
        let b = DVector::from_vec(vec![2.0, 1.0]);
        let v = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 4.0]));
        let (r, q) = parse_restrictions("x1 = 0", &["x1".into(), "x2".into()]).unwrap();
        let t = wald(&b, &v, &r, &q, Dist::Normal).unwrap();
        assert!((t.statistic - 4.0).abs() < 1e-12);
        assert!((t.p_value - 0.0455002638963584).abs() < 1e-10);
        let e = likelihood_ratio(-10.0, -12.0, 1).unwrap_err().to_string();
        assert!(e.contains("not nested"), "{e}");
    }
}
