//! `concord data describe`: what is in a table (columns, types, N, missing,
//! min/mean/max, years and units).

use polars::prelude::*;
use serde::Serialize;

use super::error::{DataError, Result};

/// Summary of one column.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ColumnSummary {
    pub name: String,
    pub dtype: String,
    pub n: usize,
    pub missing: usize,
    pub min: Option<f64>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
}

/// Summary of a table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Description {
    pub rows: usize,
    pub years: Option<(i64, i64)>,
    /// Distinct units: states (`ccode`) or dyads (`ccode1`, `ccode2`).
    pub units: Option<usize>,
    pub columns: Vec<ColumnSummary>,
}

/// Describe a data frame.
///
/// ```
/// use polars::prelude::*;
/// let df = df!("ccode" => [2i64, 2, 20], "year" => [1950i64, 1951, 1950]).unwrap();
/// let d = concord::data::describe::describe(&df).unwrap();
/// assert_eq!((d.rows, d.years, d.units), (3, Some((1950, 1951)), Some(2)));
/// ```
pub fn describe(df: &DataFrame) -> Result<Description> {
    let mut columns = Vec::with_capacity(df.width());
    for c in df.columns() {
        let dtype = c.dtype().clone();
        let (min, mean, max) = if dtype.is_primitive_numeric() || dtype == DataType::Boolean {
            let f = c.cast(&DataType::Float64).map_err(DataError::polars(format!("column `{}`", c.name())))?;
            let f = f.f64().map_err(DataError::polars(format!("column `{}`", c.name())))?;
            (f.min(), f.mean(), f.max())
        } else {
            (None, None, None)
        };
        columns.push(ColumnSummary {
            name: c.name().to_string(),
            dtype: dtype.to_string(),
            n: c.len() - c.null_count(),
            missing: c.null_count(),
            min,
            mean,
            max,
        });
    }
    let find = |n: &str| columns.iter().find(|c| c.name == n);
    let years = find("year").and_then(|c| Some((c.min? as i64, c.max? as i64)));
    let unit_cols: Vec<&str> = if df.column("ccode1").is_ok() && df.column("ccode2").is_ok() {
        vec!["ccode1", "ccode2"]
    } else if df.column("ccode").is_ok() {
        vec!["ccode"]
    } else {
        vec![]
    };
    let units = if unit_cols.is_empty() {
        None
    } else {
        let u = df
            .select(unit_cols.iter().copied())
            .and_then(|d| d.unique::<String, String>(None, UniqueKeepStrategy::Any, None))
            .map_err(DataError::polars("counting units"))?;
        Some(u.height())
    };
    Ok(Description { rows: df.height(), years, units, columns })
}

fn num(x: Option<f64>) -> String {
    match x {
        None => "".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e12 => format!("{v:.0}"),
        Some(v) if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-3) => format!("{v:.4e}"),
        Some(v) => format!("{v:.4}"),
    }
}

impl std::fmt::Display for Description {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rows: {}", self.rows)?;
        if let Some((a, b)) = self.years {
            write!(f, "; years: {a}-{b}")?;
        }
        if let Some(u) = self.units {
            write!(f, "; units: {u}")?;
        }
        writeln!(f, "; columns: {}", self.columns.len())?;
        let w = self.columns.iter().map(|c| c.name.len()).max().unwrap_or(6).max(6);
        writeln!(
            f,
            "{:<w$}  {:<7} {:>9} {:>9} {:>12} {:>12} {:>12}",
            "column", "type", "n", "missing", "min", "mean", "max"
        )?;
        for c in &self.columns {
            writeln!(
                f,
                "{:<w$}  {:<7} {:>9} {:>9} {:>12} {:>12} {:>12}",
                c.name,
                c.dtype,
                c.n,
                c.missing,
                num(c.min),
                num(c.mean),
                num(c.max)
            )?;
        }
        Ok(())
    }
}

/// Quantile `p` of sorted values by linear interpolation (R's type 7, numpy's
/// default); NaN when there are none.
///
/// ```
/// use concord::data::describe::quantile_sorted;
/// assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
/// assert!(quantile_sorted(&[], 0.5).is_nan());
/// ```
pub fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}
