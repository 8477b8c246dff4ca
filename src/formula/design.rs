//! From a formula and a data frame to the numbers an estimator needs: the
//! outcome, the regressor matrix with named columns, fixed-effect and cluster
//! group ids, and an account of the rows dropped (missing values, singletons).

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector};
use polars::prelude::*;

use super::{Factor, Formula, FormulaError, Term};
use crate::data::read::nearest_name;
use crate::panel::{PanelError, PanelIndex};

/// Errors when a formula meets the data.
#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    #[error(transparent)]
    Formula(#[from] FormulaError),
    #[error("no column `{column}` in the data{}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    NoColumn { column: String, suggestion: Option<String> },
    #[error("column `{column}` is {dtype}, not numeric (row {row}: `{value}`); use i({column}) for a categorical")]
    NotNumeric { column: String, dtype: String, row: usize, value: String },
    #[error("column `{column}` has a {what} value in row {row}; recode it as missing or fix the input")]
    NotFinite { column: String, what: &'static str, row: usize },
    #[error("column `{column}` has {value:e} in row {row}: values beyond 1e100 overflow the cross-products of the design; rescale it")]
    TooLarge { column: String, value: f64, row: usize },
    #[error("`{term}` needs the panel structure: give --panel UNIT,TIME")]
    NeedsPanel { term: String },
    #[error(transparent)]
    Panel(#[from] PanelError),
    #[error("no rows left: {0}")]
    NoRows(String),
    #[error("{0}")]
    Polars(#[from] PolarsError),
}

/// Panel structure: unit columns and the time column.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelSpec {
    pub unit: Vec<String>,
    pub time: String,
}

/// Group ids of a fixed effect or cluster variable, 0..levels.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    pub name: String,
    pub ids: Vec<u32>,
    pub levels: usize,
}

impl Groups {
    /// Levels numbered in order of first appearance.
    fn from_keys<K: std::hash::Hash + Eq>(name: &str, keys: impl IntoIterator<Item = K>) -> Groups {
        let mut map: HashMap<K, u32, foldhash::fast::RandomState> = HashMap::default();
        let ids = keys
            .into_iter()
            .map(|k| {
                let next = map.len() as u32;
                *map.entry(k).or_insert(next)
            })
            .collect();
        Groups { name: name.into(), ids, levels: map.len() }
    }

    /// Groups from integer keys, levels numbered in order of appearance.
    ///
    /// ```
    /// use concord::formula::design::Groups;
    /// let g = Groups::from_u64("unit", &[7, 3, 7]);
    /// assert_eq!((g.ids, g.levels), (vec![0, 1, 0], 2));
    /// ```
    pub fn from_u64(name: &str, keys: &[u64]) -> Groups {
        Groups::from_keys(name, keys.iter().copied())
    }

    /// Keep the rows where `keep` is true and renumber the levels.
    pub fn subset(&self, keep: &[bool]) -> Groups {
        let rows: Vec<usize> = (0..self.ids.len()).filter(|&r| keep[r]).collect();
        Groups::renumbered(&self.name, &self.ids, self.levels, &rows)
    }

    /// The groups of `rows` of `ids` (codes `0..levels`), levels renumbered
    /// in order of first appearance among them.
    fn renumbered(name: &str, ids: &[u32], levels: usize, rows: &[usize]) -> Groups {
        let mut map = vec![Codes::MISSING; levels];
        let mut next = 0u32;
        let ids = rows
            .iter()
            .map(|&r| {
                let slot = &mut map[ids[r] as usize];
                if *slot == Codes::MISSING {
                    *slot = next;
                    next += 1;
                }
                *slot
            })
            .collect();
        Groups { name: name.into(), ids, levels: next as usize }
    }

    /// Number of observations per level.
    pub fn counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.levels];
        for &i in &self.ids {
            c[i as usize] += 1;
        }
        c
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Int(i64),
    Str(String),
}

/// What was dropped and why.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Dropped {
    /// Rows with a missing value in a used column (including lags at gaps).
    pub missing: usize,
    /// Rows in a fixed-effect group of size one (removed repeatedly until none).
    pub singletons: usize,
    /// Rows in fixed-effect groups whose outcome never varies (all zero for
    /// Poisson and negbin, all 0 or all 1 for binary models): separation
    /// found by the fixed-effects rule.
    pub no_variation: usize,
    /// Poisson rows separated by a combination of regressors, found by the
    /// simplex rule (a linear program on the regressors among `y > 0` rows).
    pub separated_simplex: usize,
    /// Poisson rows separated by regressors and fixed effects together, found
    /// by the iterative rectifier.
    pub separated_relu: usize,
    /// Iterations the iterative rectifier took (0 when it did not run).
    pub relu_iterations: usize,
    /// Regressors dropped as collinear with earlier ones or the fixed effects.
    pub collinear: Vec<String>,
}

/// The numbers an estimator works on.
#[derive(Debug, Clone)]
pub struct Design {
    pub y: DVector<f64>,
    pub x: DMatrix<f64>,
    pub names: Vec<String>,
    pub fixed_effects: Vec<Groups>,
    pub clusters: Vec<Groups>,
    /// Row numbers (0-based) of the input kept in the estimation sample.
    pub rows: Vec<usize>,
    pub n_input: usize,
    pub dropped: Dropped,
    pub outcome: String,
    /// Time period (0-based, in time order) of each row, for Driscoll-Kraay.
    pub periods: Option<Vec<u32>>,
}

fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column, DesignError> {
    df.column(name).map_err(|_| DesignError::NoColumn {
        column: name.into(),
        suggestion: nearest_name(name, df.get_column_names().iter().map(|s| s.as_str())),
    })
}

/// A numeric column as f64 options (null = missing); NaN and infinities are errors.
pub fn numeric(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, DesignError> {
    Ok(values(df, name)?.into_iter().map(|x| (!x.is_nan()).then_some(x)).collect())
}

/// A numeric column with missing values as NaN. NaN and infinities in the
/// input are errors, so NaN is free to mean missing: half the memory of
/// `Option<f64>`, and missingness propagates through products by itself.
fn values(df: &DataFrame, name: &str) -> Result<Vec<f64>, DesignError> {
    let c = column(df, name)?;
    let dt = c.dtype();
    if !(dt.is_primitive_numeric() || *dt == DataType::Boolean) {
        let row = (0..c.len()).find(|&i| c.get(i).map(|v| !v.is_null()).unwrap_or(false)).unwrap_or(0);
        let value = c.get(row).map(|v| v.to_string()).unwrap_or_default();
        return Err(DesignError::NotNumeric { column: name.into(), dtype: dt.to_string(), row: row + 1, value });
    }
    let f = c.cast(&DataType::Float64)?;
    // Chunk by chunk from the value buffers and validity bitmaps (several
    // times faster than polars' per-element iterator).
    let ca = f.f64()?;
    let mut v: Vec<f64> = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let start = v.len();
        v.extend_from_slice(arr.values());
        let valid = arr.validity();
        for (i, x) in v[start..].iter_mut().enumerate() {
            if valid.is_some_and(|b| !b.get_bit(i)) {
                *x = f64::NAN;
            } else if !x.is_finite() {
                let what = if x.is_nan() { "NaN" } else { "infinite" };
                return Err(DesignError::NotFinite { column: name.into(), what, row: start + i + 1 });
            }
        }
    }
    Ok(v)
}

fn to_options(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect()
}

fn from_options(v: Vec<Option<f64>>) -> Vec<f64> {
    v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()
}

/// A key column (fixed effect, cluster) as codes `0..levels` in order of first
/// appearance, [`Codes::MISSING`] for nulls.
struct Codes {
    ids: Vec<u32>,
    levels: usize,
}

impl Codes {
    const MISSING: u32 = u32::MAX;

    fn of(df: &DataFrame, name: &str) -> Result<Codes, DesignError> {
        let c = column(df, name)?;
        if c.dtype().is_integer() {
            let c = c.cast(&DataType::Int64)?;
            let ca = c.i64()?;
            let mut keys: Vec<Option<i64>> = Vec::with_capacity(ca.len());
            for arr in ca.downcast_iter() {
                match arr.validity() {
                    None => keys.extend(arr.values().iter().map(|v| Some(*v))),
                    Some(valid) => keys.extend(arr.values().iter().zip(valid.iter()).map(|(v, ok)| ok.then_some(*v))),
                }
            }
            let (lo, hi) = keys.iter().flatten().fold((i64::MAX, i64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
            let span = hi.checked_sub(lo).and_then(|s| usize::try_from(s).ok());
            match span {
                // A dense table when the keys span a small range (years, COW
                // codes, dyad numbers); hashing otherwise.
                Some(s) if s < 4 * keys.len() + 1024 => {
                    let mut table = vec![Codes::MISSING; s + 1];
                    let mut next = 0u32;
                    let ids = keys
                        .iter()
                        .map(|k| match k {
                            Some(v) => {
                                let slot = &mut table[(v - lo) as usize];
                                if *slot == Codes::MISSING {
                                    *slot = next;
                                    next += 1;
                                }
                                *slot
                            }
                            None => Codes::MISSING,
                        })
                        .collect();
                    Ok(Codes { ids, levels: next as usize })
                }
                _ => Ok(Codes::hashed(keys)),
            }
        } else {
            let c = c.cast(&DataType::String)?;
            Ok(Codes::hashed(c.str()?.iter()))
        }
    }

    fn hashed<K: std::hash::Hash + Eq>(keys: impl IntoIterator<Item = Option<K>>) -> Codes {
        let mut map: HashMap<K, u32, foldhash::fast::RandomState> = HashMap::default();
        let ids = keys
            .into_iter()
            .map(|k| match k {
                Some(k) => {
                    let next = map.len() as u32;
                    *map.entry(k).or_insert(next)
                }
                None => Codes::MISSING,
            })
            .collect();
        Codes { ids, levels: map.len() }
    }

    /// The groups of `rows` (none missing).
    fn groups(&self, name: &str, rows: &[usize]) -> Groups {
        Groups::renumbered(name, &self.ids, self.levels, rows)
    }
}

fn group_keys(df: &DataFrame, name: &str) -> Result<Vec<Option<GroupKey>>, DesignError> {
    let c = column(df, name)?;
    if c.dtype().is_integer() {
        let c = c.cast(&DataType::Int64)?;
        Ok(c.i64()?.iter().map(|v| v.map(GroupKey::Int)).collect())
    } else {
        let c = c.cast(&DataType::String)?;
        Ok(c.str()?.iter().map(|v| v.map(|s| GroupKey::Str(s.to_string()))).collect())
    }
}

/// Columns of one factor: (name, values with NaN for missing).
type Cols = Vec<(String, Vec<f64>)>;

fn factor_columns<'a>(
    df: &DataFrame,
    f: &Factor,
    panel: Option<&'a PanelIndex>,
    reference: bool,
) -> Result<Cols, DesignError> {
    let need = |p: Option<&'a PanelIndex>| p.ok_or_else(|| DesignError::NeedsPanel { term: f.to_string() });
    Ok(match f {
        Factor::Var(v) => vec![(v.clone(), values(df, v)?)],
        Factor::Lag(v, k) => vec![(f.to_string(), from_options(need(panel)?.lag(&numeric(df, v)?, *k)))],
        Factor::Lead(v, k) => vec![(f.to_string(), from_options(need(panel)?.lead(&numeric(df, v)?, *k)))],
        Factor::Diff(v) => vec![(f.to_string(), from_options(need(panel)?.diff(&numeric(df, v)?)))],
        Factor::Poly(v, p) => {
            let x = values(df, v)?;
            (1..=*p).map(|d| (format!("{f}{d}"), x.iter().map(|x| x.powi(d as i32)).collect())).collect()
        }
        Factor::Spline(v, df_) => {
            let x = values(df, v)?;
            let knots = spline_knots(&to_options(&x), *df_)
                .ok_or_else(|| DesignError::NoRows(format!("`{f}`: `{v}` has no values")))?;
            spline_basis(&knots)
                .into_iter()
                .enumerate()
                .map(|(j, b)| {
                    (format!("{f}{}", j + 1), x.iter().map(|x| if x.is_nan() { *x } else { b(*x) }).collect())
                })
                .collect()
        }
        Factor::Dummies(v) => {
            let keys = group_keys(df, v)?;
            let mut levels: Vec<&GroupKey> = keys.iter().flatten().collect();
            levels.sort_by(|a, b| match (a, b) {
                (GroupKey::Int(a), GroupKey::Int(b)) => a.cmp(b),
                (GroupKey::Str(a), GroupKey::Str(b)) => a.cmp(b),
                (GroupKey::Int(_), _) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            });
            levels.dedup();
            let skip = usize::from(reference);
            levels
                .iter()
                .skip(skip)
                .map(|l| {
                    let label = match l {
                        GroupKey::Int(i) => i.to_string(),
                        GroupKey::Str(s) => s.clone(),
                    };
                    let vals =
                        keys.iter().map(|k| k.as_ref().map_or(f64::NAN, |k| f64::from(u8::from(k == *l)))).collect();
                    (format!("{v}::{label}"), vals)
                })
                .collect()
        }
    })
}

/// Knots of `ns(x, df)`: minimum, the quantiles `j / df` (linear interpolation,
/// R's type 7) and maximum of the non-missing values, without repeats.
pub fn spline_knots(x: &[Option<f64>], df: u32) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = x.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mut k: Vec<f64> = (0..=df).map(|j| quantile_sorted(&v, f64::from(j) / f64::from(df))).collect();
    k.dedup();
    Some(k)
}

/// Quantile `p` of sorted values by linear interpolation (R's type 7, numpy's
/// default); NaN when there are none.
///
/// ```
/// use concord::formula::design::quantile_sorted;
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

/// Harrell's restricted cubic spline basis on `knots`: `x` and `K - 2` cubic
/// columns, linear beyond the boundary knots (a natural cubic spline).
pub fn spline_basis(knots: &[f64]) -> Vec<Box<dyn Fn(f64) -> f64 + '_>> {
    let mut b: Vec<Box<dyn Fn(f64) -> f64>> = vec![Box::new(|x| x)];
    let kk = knots.len();
    if kk < 3 {
        return b;
    }
    let (t0, tl, tk) = (knots[0], knots[kk - 2], knots[kk - 1]);
    let scale = (tk - t0).powi(2);
    for &tj in &knots[..kk - 2] {
        b.push(Box::new(move |x| {
            let p = |t: f64| (x - t).max(0.0).powi(3);
            (p(tj) - p(tl) * (tk - tj) / (tk - tl) + p(tk) * (tl - tj) / (tk - tl)) / scale
        }));
    }
    b
}

fn term_columns(df: &DataFrame, t: &Term, panel: Option<&PanelIndex>, reference: bool) -> Result<Cols, DesignError> {
    if let [f] = t.0.as_slice() {
        return factor_columns(df, f, panel, reference);
    }
    let mut acc: Cols = vec![(String::new(), vec![1.0; df.height()])];
    for f in &t.0 {
        let cols = factor_columns(df, f, panel, reference)?;
        let mut next = Vec::with_capacity(acc.len() * cols.len());
        for (an, av) in &acc {
            for (bn, bv) in &cols {
                let name = if an.is_empty() { bn.clone() } else { format!("{an}:{bn}") };
                // NaN (missing) in either factor stays NaN.
                let vals = av.iter().zip(bv).map(|(a, b)| a * b).collect();
                next.push((name, vals));
            }
        }
        acc = next;
    }
    Ok(acc)
}

/// Build the design of `formula` on `df`; `clusters` are extra grouping columns
/// whose missing values also drop rows. FE singletons are dropped (repeatedly).
///
/// ```
/// use polars::prelude::*;
/// use concord::formula::{Formula, design::build_design};
/// let df = df!("y" => [1.0, 2.0, 4.0, 3.0], "x" => [Some(0.0), Some(1.0), None, Some(3.0)]).unwrap();
/// let d = build_design(&df, &Formula::parse("y ~ x").unwrap(), None, &[]).unwrap();
/// assert_eq!((d.y.len(), d.dropped.missing), (3, 1));
/// assert_eq!(d.names, ["(Intercept)", "x"]);
/// ```
pub fn build_design(
    df: &DataFrame,
    formula: &Formula,
    panel: Option<&PanelSpec>,
    clusters: &[String],
) -> Result<Design, DesignError> {
    build_design_in(df, formula, panel, clusters, None)
}

/// [`build_design`] on the rows where `sample` is true (a period, a subgroup).
/// Lags and leads still read the rows outside the sample, so the first year of
/// a period keeps its lagged regressors; `n_input` counts the sample's rows.
pub fn build_design_in(
    df: &DataFrame,
    formula: &Formula,
    panel: Option<&PanelSpec>,
    clusters: &[String],
    sample: Option<&[bool]>,
) -> Result<Design, DesignError> {
    if let Some(s) = sample {
        if s.len() != df.height() {
            return Err(DesignError::NoRows(format!("the sample mask has {} rows, the data {}", s.len(), df.height())));
        }
    }
    for c in formula.columns().iter().chain(clusters) {
        column(df, c)?;
    }
    let index = match panel {
        Some(p) => {
            let units: Vec<&str> = p.unit.iter().map(String::as_str).collect();
            for c in units.iter().chain(std::iter::once(&p.time.as_str())) {
                column(df, c)?;
            }
            Some(PanelIndex::from_frame(df, &units, &p.time)?)
        }
        None => None,
    };
    let reference = formula.intercept || !formula.fixed_effects.is_empty();
    let (outcome, y) = factor_columns(df, &formula.lhs, index.as_ref(), false)?.remove(0);
    let intercept = formula.intercept && formula.fixed_effects.is_empty();
    let mut cols: Cols = Vec::new();
    for t in &formula.terms {
        cols.extend(term_columns(df, t, index.as_ref(), reference)?);
    }
    let fe_codes: Vec<Codes> = formula.fixed_effects.iter().map(|f| Codes::of(df, f)).collect::<Result<_, _>>()?;
    let cl_codes: Vec<Codes> = clusters.iter().map(|c| Codes::of(df, c)).collect::<Result<_, _>>()?;

    let n = df.height();
    // Column by column (contiguous reads): in the sample, nothing missing.
    let mut keep: Vec<bool> = match sample {
        Some(s) => s.to_vec(),
        None => vec![true; n],
    };
    let n_sample = keep.iter().filter(|k| **k).count();
    for v in std::iter::once(&y).chain(cols.iter().map(|(_, v)| v)) {
        keep.iter_mut().zip(v).for_each(|(k, x)| *k &= !x.is_nan());
    }
    for c in fe_codes.iter().chain(&cl_codes) {
        keep.iter_mut().zip(&c.ids).for_each(|(k, id)| *k &= *id != Codes::MISSING);
    }
    let mut dropped = Dropped { missing: n_sample - keep.iter().filter(|k| **k).count(), ..Default::default() };

    // Singletons: a fixed-effect level seen once fits its observation perfectly.
    if !fe_codes.is_empty() {
        loop {
            let mut removed = 0;
            for c in &fe_codes {
                let mut count = vec![0u32; c.levels];
                for (id, _) in c.ids.iter().zip(&keep).filter(|(_, k)| **k) {
                    count[*id as usize] += 1;
                }
                for (k, id) in keep.iter_mut().zip(&c.ids) {
                    if *k && count[*id as usize] == 1 {
                        *k = false;
                        removed += 1;
                    }
                }
            }
            dropped.singletons += removed;
            if removed == 0 {
                break;
            }
        }
    }
    let rows: Vec<usize> = (0..n).filter(|&r| keep[r]).collect();
    if rows.is_empty() {
        return Err(DesignError::NoRows(format!(
            "{} of {n_sample} rows have a missing value in a used column, {} are fixed-effect singletons",
            dropped.missing, dropped.singletons
        )));
    }
    let m = rows.len();
    let gather = |v: &[f64], out: &mut Vec<f64>| {
        if m == n {
            out.extend_from_slice(v);
        } else {
            out.extend(rows.iter().map(|&r| v[r]));
        }
    };
    let mut yv = Vec::with_capacity(m);
    gather(&y, &mut yv);
    let k = cols.len() + usize::from(intercept);
    let mut xv = Vec::with_capacity(m * k);
    if intercept {
        xv.resize(m, 1.0);
    }
    for (_, v) in &cols {
        gather(v, &mut xv);
    }
    // Squares and cross-products of values beyond 1e100 overflow or lose
    // everything else in the sums: refuse them with the row.
    for (name, v) in std::iter::once((&outcome, &y)).chain(cols.iter().map(|(n, v)| (n, v))) {
        if let Some(&r) = rows.iter().find(|&&r| v[r].abs() > 1e100) {
            return Err(DesignError::TooLarge { column: name.clone(), value: v[r], row: r + 1 });
        }
    }
    let names = intercept.then(|| "(Intercept)".to_string()).into_iter().chain(cols.into_iter().map(|(n, _)| n));
    let groups = |names: &[String], codes: &[Codes]| -> Vec<Groups> {
        names.iter().zip(codes).map(|(nm, c)| c.groups(nm, &rows)).collect()
    };
    Ok(Design {
        y: DVector::from_vec(yv),
        x: DMatrix::from_vec(m, k, xv),
        names: names.collect(),
        fixed_effects: groups(&formula.fixed_effects, &fe_codes),
        clusters: groups(clusters, &cl_codes),
        rows,
        n_input: n_sample,
        dropped,
        outcome,
        periods: None,
    })
}

impl Design {
    /// Set the time period of each kept row from a numeric column of `df`.
    pub fn set_periods(&mut self, df: &DataFrame, time: &str) -> Result<(), DesignError> {
        let t = numeric(df, time)?;
        let vals: Vec<i64> = self.rows.iter().map(|&r| t[r].unwrap_or(f64::NAN) as i64).collect();
        let mut levels = vals.clone();
        levels.sort_unstable();
        levels.dedup();
        self.periods = Some(vals.iter().map(|v| levels.partition_point(|l| l < v) as u32).collect());
        Ok(())
    }
}

impl Design {
    /// Keep only the rows where `keep` is true (for example after dropping
    /// fixed-effect groups with no variation in the outcome).
    pub fn subset(&mut self, keep: &[bool]) {
        let idx: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
        self.y = DVector::from_iterator(idx.len(), idx.iter().map(|&i| self.y[i]));
        self.x = self.x.select_rows(idx.iter());
        self.rows = idx.iter().map(|&i| self.rows[i]).collect();
        if let Some(p) = &self.periods {
            self.periods = Some(idx.iter().map(|&i| p[i]).collect());
        }
        self.fixed_effects = self.fixed_effects.iter().map(|g| g.subset(keep)).collect();
        self.clusters = self.clusters.iter().map(|g| g.subset(keep)).collect();
    }

    /// Remove regressors by position (collinear ones), remembering their names.
    pub fn drop_columns(&mut self, cols: &[usize]) {
        if cols.is_empty() {
            return;
        }
        for &j in cols {
            self.dropped.collinear.push(self.names[j].clone());
        }
        self.x = self.x.clone().remove_columns_at(cols);
        self.names = self.names.iter().enumerate().filter(|(j, _)| !cols.contains(j)).map(|(_, n)| n.clone()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Formula {
        Formula::parse(s).unwrap()
    }

    #[test]
    fn interactions_dummies_and_polynomials() {
        let df = df!(
            "y" => [1.0, 2.0, 3.0, 4.0],
            "x" => [1.0, 2.0, 3.0, 4.0],
            "z" => [2.0, 0.0, 1.0, 1.0],
            "g" => ["b", "a", "c", "a"]
        )
        .unwrap();
        let d = build_design(&df, &f("y ~ x:z + i(g) + poly(x, 2)"), None, &[]).unwrap();
        assert_eq!(d.names, ["(Intercept)", "x:z", "g::b", "g::c", "poly(x,2)1", "poly(x,2)2"]);
        assert_eq!(d.x.column(1).as_slice(), &[2.0, 0.0, 3.0, 4.0]);
        assert_eq!(d.x.column(2).as_slice(), &[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(d.x.column(5).as_slice(), &[1.0, 4.0, 9.0, 16.0]);
    }

    #[test]
    fn lags_need_a_panel_and_drop_rows_at_gaps() {
        let df = df!("id" => [1i64, 1, 1, 2, 2], "t" => [1i64, 2, 4, 1, 2], "y" => [1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let err = build_design(&df, &f("y ~ l(y)"), None, &[]).unwrap_err().to_string();
        assert_eq!(err, "`l(y,1)` needs the panel structure: give --panel UNIT,TIME");
        let p = PanelSpec { unit: vec!["id".into()], time: "t".into() };
        let d = build_design(&df, &f("y ~ l(y) + d(y)"), Some(&p), &[]).unwrap();
        // Rows kept: (1,2) and (2,2); (1,4) follows a gap.
        assert_eq!(d.rows, [1, 4]);
        assert_eq!(d.dropped.missing, 3);
        assert_eq!(d.x.column(1).as_slice(), &[1.0, 4.0]);
    }

    #[test]
    fn singletons_are_dropped_repeatedly() {
        // fe a: level 3 is a singleton; after dropping it, b level "q" becomes one.
        let df = df!(
            "y" => [1.0, 2.0, 3.0, 4.0, 5.0],
            "x" => [1.0, 0.0, 1.0, 0.0, 1.0],
            "a" => [1i64, 1, 2, 2, 3],
            "b" => ["p", "p", "p", "p", "q"]
        )
        .unwrap();
        let d = build_design(&df, &f("y ~ x | a + b"), None, &[]).unwrap();
        assert_eq!(d.dropped.singletons, 1);
        assert_eq!(d.rows, [0, 1, 2, 3]);
        assert_eq!(d.names, ["x"], "no intercept with fixed effects");
        assert_eq!(d.fixed_effects[0].levels, 2);
    }

    #[test]
    fn natural_splines_are_linear_beyond_the_boundary_knots() {
        let x: Vec<Option<f64>> = (0..=10).map(|v| Some(f64::from(v))).chain([None]).collect();
        let knots = spline_knots(&x, 3).unwrap();
        for (k, want) in knots.iter().zip([0.0, 10.0 / 3.0, 20.0 / 3.0, 10.0]) {
            assert!((k - want).abs() < 1e-12, "{knots:?}");
        }
        let basis = spline_basis(&knots);
        assert_eq!(basis.len(), 3, "df columns: x and K - 2 cubic ones");
        for b in &basis {
            // Second differences vanish past the last knot and before the first.
            for x0 in [10.0, 12.0, -5.0] {
                let d2 = b(x0 + 2.0) - 2.0 * b(x0 + 1.0) + b(x0);
                assert!(d2.abs() < 1e-9, "curvature {d2} at {x0}");
            }
        }
        // Repeated quantiles (many zeros) give fewer, distinct knots.
        let zeros: Vec<Option<f64>> = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 5.0].iter().map(|v| Some(*v)).collect();
        let k = spline_knots(&zeros, 3).unwrap();
        assert_eq!(k, [0.0, 5.0]);
        assert_eq!(spline_basis(&k).len(), 1, "two knots: linear only");
    }

    #[test]
    fn bad_columns_are_named() {
        let df = df!("y" => [1.0, f64::NAN], "x" => [1.0, 2.0], "s" => ["a", "b"]).unwrap();
        let e = build_design(&df, &f("y ~ xx"), None, &[]).unwrap_err().to_string();
        assert_eq!(e, "no column `xx` in the data (did you mean `x`?)");
        let e = build_design(&df, &f("y ~ x"), None, &[]).unwrap_err().to_string();
        assert_eq!(e, "column `y` has a NaN value in row 2; recode it as missing or fix the input");
        let e = build_design(&df, &f("x ~ s"), None, &[]).unwrap_err().to_string();
        assert_eq!(e, "column `s` is str, not numeric (row 1: `\"a\"`); use i(s) for a categorical");
    }
}
