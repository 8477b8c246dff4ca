//! From a formula and a data frame to the numbers an estimator needs: the
//! outcome, the regressor matrix with named columns, fixed-effect and cluster
//! group ids, and an account of the rows dropped (missing values, singletons).

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector};
use polars::prelude::*;
use rayon::prelude::*;

use super::basis::Basis;
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
    #[error("column `{column}` holds numbers but row {row} has the text `{value}`, so it was read as text; recode it as a number, or as missing (empty, NA or .)")]
    TextInNumbers { column: String, row: usize, value: String },
    #[error("column `{column}` has a {what} value in row {row}; recode it as missing or fix the input")]
    NotFinite { column: String, what: &'static str, row: usize },
    #[error("column `{column}` has {value:e} in row {row}: values beyond 1e100 overflow the cross-products of the design; rescale it")]
    TooLarge { column: String, value: f64, row: usize },
    #[error("`{term}` needs the panel structure: give --panel UNIT,TIME")]
    NeedsPanel { term: String },
    #[error(transparent)]
    Panel(#[from] PanelError),
    #[error("the dyad member columns `{a}` ({ta}) and `{b}` ({tb}) must both be integer codes or both not")]
    MemberTypes { a: String, ta: String, b: String, tb: String },
    #[error("`{term}`: no level `{level}` (levels: {levels})")]
    NoLevel { term: String, level: String, levels: String },
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

/// A varying slope (`fe[z]`, `fe[[z]]`): a slope of `z` for each group,
/// absorbed like a fixed effect; `fe` is the position in the design's fixed
/// effects of the group's own intercepts when they come with it (`fe[z]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Slope {
    pub groups: Groups,
    /// The name of `z`.
    pub variable: String,
    pub z: Vec<f64>,
    pub fe: Option<usize>,
}

/// A fixed-effect entry of a formula: its grouping column(s) (`unit`,
/// `region^year`) and, for a varying slope, the slope variable and whether
/// the group's intercepts come with it (`unit[x]`) or not (`unit[[x]]`).
///
/// ```
/// use concord::formula::design::fe_parts;
/// assert_eq!(fe_parts("unit"), ("unit", None));
/// assert_eq!(fe_parts("unit[x1]"), ("unit", Some(("x1", true))));
/// assert_eq!(fe_parts("a^b[[x]]"), ("a^b", Some(("x", false))));
/// ```
pub fn fe_parts(fe: &str) -> (&str, Option<(&str, bool)>) {
    match fe.split_once('[') {
        None => (fe, None),
        Some((g, rest)) => match rest.strip_prefix('[') {
            Some(inner) => (g, Some((inner.trim_end_matches(']'), false))),
            None => (g, Some((rest.trim_end_matches(']'), true))),
        },
    }
}

/// The two members of each row's dyad (the columns of `dyadic:A,B`), coded
/// in one space: a state has the same code in either column.
#[derive(Debug, Clone, PartialEq)]
pub struct Members {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    /// Codes run over `0..levels` (some may be absent after subsetting).
    pub levels: usize,
}

impl Members {
    /// The members of rows `idx` (in that order).
    pub fn select(&self, idx: &[usize]) -> Members {
        Members {
            a: idx.iter().map(|&i| self.a[i]).collect(),
            b: idx.iter().map(|&i| self.b[i]).collect(),
            levels: self.levels,
        }
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
    /// Of the rows with missing values, those where every column the model
    /// reads is present but an expression of them (outcome included) is not a
    /// finite number (`log(0)`).
    pub undefined: usize,
    /// Rows of the sample with a zero weight (`--weights`), left out.
    pub zero_weight: usize,
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
    /// The dyad members of each row, for the dyadic-robust vcov.
    pub members: Option<Members>,
    /// How the columns are made from the variables (for rebuilds).
    pub recipe: Recipe,
    /// With fixed effects, their sum on each row at the estimate (set by
    /// the estimators that recover them), for predictions.
    pub fe_eta: Option<DVector<f64>>,
    /// Observation weights (`--weights`), positive, one per kept row.
    pub weights: Option<Vec<f64>>,
    /// Varying slopes absorbed with the fixed effects (least squares).
    pub slopes: Vec<Slope>,
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
pub(crate) fn values(df: &DataFrame, name: &str) -> Result<Vec<f64>, DesignError> {
    let c = column(df, name)?;
    let dt = c.dtype();
    if *dt == DataType::String {
        // Numbers with a stray text token (a Stata `.`-like code, a typo): name it.
        let ca = c.str()?;
        let numeric = |v: &str| v.trim().parse::<f64>().is_ok();
        if ca.iter().flatten().any(numeric) {
            if let Some((row, v)) = ca.iter().enumerate().find_map(|(i, v)| v.filter(|v| !numeric(v)).map(|v| (i, v))) {
                return Err(DesignError::TextInNumbers { column: name.into(), row: row + 1, value: v.to_string() });
            }
        }
    }
    if !(dt.is_primitive_numeric() || *dt == DataType::Boolean) {
        let row = (0..c.len()).find(|&i| c.get(i).map(|v| !v.is_null()).unwrap_or(false)).unwrap_or(0);
        let value = c.get(row).map(|v| v.to_string()).unwrap_or_default();
        return Err(DesignError::NotNumeric { column: name.into(), dtype: dt.to_string(), row: row + 1, value });
    }
    // Chunk by chunk from the value buffers and validity bitmaps (several
    // times faster than polars' per-element iterator), converting integers
    // as they are read (a cast would copy the column once more).
    let mut v: Vec<f64> = Vec::with_capacity(c.len());
    macro_rules! widen {
        ($ca:expr) => {
            for arr in $ca.downcast_iter() {
                let vals = arr.values().iter().map(|&x| x as f64);
                match arr.validity().filter(|b| b.unset_bits() > 0) {
                    None => v.extend(vals),
                    Some(b) => v.extend(vals.zip(b.iter()).map(|(x, ok)| if ok { x } else { f64::NAN })),
                }
            }
        };
    }
    match dt {
        DataType::Int64 => widen!(c.i64()?),
        DataType::Int32 => widen!(c.i32()?),
        DataType::UInt32 => widen!(c.u32()?),
        DataType::UInt64 => widen!(c.u64()?),
        DataType::Int16 => widen!(c.i16()?),
        DataType::Int8 => widen!(c.i8()?),
        DataType::UInt16 => widen!(c.u16()?),
        DataType::UInt8 => widen!(c.u8()?),
        _ => {
            let f = c.cast(&DataType::Float64)?;
            for arr in f.f64()?.downcast_iter() {
                let start = v.len();
                v.extend_from_slice(arr.values());
                let not_finite = |i: usize, x: f64| {
                    let what = if x.is_nan() { "NaN" } else { "infinite" };
                    DesignError::NotFinite { column: name.into(), what, row: start + i + 1 }
                };
                match arr.validity().filter(|b| b.unset_bits() > 0) {
                    None => {
                        if let Some(i) = v[start..].iter().position(|x| !x.is_finite()) {
                            return Err(not_finite(i, v[start + i]));
                        }
                    }
                    Some(b) => {
                        for (i, (x, ok)) in v[start..].iter_mut().zip(b.iter()).enumerate() {
                            if !ok {
                                *x = f64::NAN;
                            } else if !x.is_finite() {
                                return Err(not_finite(i, *x));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(v)
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
        // fixest's `fe1^fe2`: one level per combination present.
        if df.column(name).is_err() && name.contains('^') {
            let mut parts = name.split('^').map(|p| Codes::of(df, p));
            let first = parts.next().unwrap_or_else(|| Ok(Codes { ids: Vec::new(), levels: 0 }))?;
            return parts.try_fold(first, |acc, next| {
                let next = next?;
                let keys = acc.ids.iter().zip(&next.ids).map(|(&a, &b)| {
                    (a != Codes::MISSING && b != Codes::MISSING).then_some((u64::from(a) << 32) | u64::from(b))
                });
                Ok(Codes::hashed(keys))
            });
        }
        let c = column(df, name)?;
        if c.dtype().is_integer() {
            let c = c.cast(&DataType::Int64)?;
            let ca = c.i64()?;
            // The range of the present keys, from the value buffers (polars'
            // min and max kernels took three times as long).
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for arr in ca.downcast_iter() {
                match arr.validity().filter(|b| b.unset_bits() > 0) {
                    None => arr.values().iter().for_each(|&v| (lo, hi) = (lo.min(v), hi.max(v))),
                    Some(b) => arr.values().iter().zip(b.iter()).filter(|(_, ok)| *ok).for_each(|(&v, _)| {
                        (lo, hi) = (lo.min(v), hi.max(v));
                    }),
                }
            }
            let span =
                (lo <= hi).then(|| hi.checked_sub(lo).and_then(|s| usize::try_from(s).ok()).map(|s| (lo, s))).flatten();
            match span {
                // A dense table when the keys span a small range (years, COW
                // codes, dyad numbers); hashing otherwise.
                Some((lo, s)) if s < 4 * ca.len() + 1024 => {
                    let mut table = vec![Codes::MISSING; s + 1];
                    let mut next = 0u32;
                    let mut code = |v: i64| {
                        let slot = &mut table[(v - lo) as usize];
                        if *slot == Codes::MISSING {
                            *slot = next;
                            next += 1;
                        }
                        *slot
                    };
                    let mut ids = Vec::with_capacity(ca.len());
                    for arr in ca.downcast_iter() {
                        match arr.validity() {
                            None => ids.extend(arr.values().iter().map(|&v| code(v))),
                            Some(valid) => ids.extend(arr.values().iter().zip(valid.iter()).map(|(&v, ok)| {
                                if ok {
                                    code(v)
                                } else {
                                    Codes::MISSING
                                }
                            })),
                        }
                    }
                    Ok(Codes { ids, levels: next as usize })
                }
                _ => Ok(Codes::hashed(ca.iter())),
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

/// Drops the rows of fixed-effect levels seen once among the kept rows, until
/// none is left (dropping one can leave another level of another fixed effect
/// alone), and returns how many. The counts are kept up to date as rows go,
/// so a pass over the rows is repeated only when a drop left some level with
/// a single row; the rows left are the same in any order of dropping.
fn drop_singletons(fe_codes: &[Codes], keep: &mut [bool]) -> usize {
    let mut counts: Vec<Vec<u32>> = fe_codes
        .iter()
        .map(|c| {
            let mut count = vec![0u32; c.levels];
            for (id, k) in c.ids.iter().zip(keep.iter()) {
                // A dropped row's id may be MISSING (counted nowhere).
                if let Some(n) = count.get_mut(*id as usize) {
                    *n += u32::from(*k);
                }
            }
            count
        })
        .collect();
    let mut removed = 0;
    loop {
        let mut new_single = false;
        for (q, c) in fe_codes.iter().enumerate() {
            for (i, id) in c.ids.iter().enumerate() {
                if keep[i] && counts[q][*id as usize] == 1 {
                    keep[i] = false;
                    removed += 1;
                    for (count, other) in counts.iter_mut().zip(fe_codes) {
                        let n = &mut count[other.ids[i] as usize];
                        *n -= 1;
                        new_single |= *n == 1;
                    }
                }
            }
        }
        if !new_single {
            return removed;
        }
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

/// The values of variable `var` of factor `f` (see [`variables_of`]) on every
/// row: a column, or a lag, lead or difference computed in the panel.
fn variable_values(df: &DataFrame, f: &Factor, var: &str, panel: Option<&PanelIndex>) -> Result<Vec<f64>, DesignError> {
    let need = || panel.ok_or_else(|| DesignError::NeedsPanel { term: f.to_string() });
    Ok(match f {
        Factor::Lag(v, k) => from_options(need()?.lag(&numeric(df, v)?, *k)),
        Factor::Lead(v, k) => from_options(need()?.lead(&numeric(df, v)?, *k)),
        Factor::Diff(v) => from_options(need()?.diff(&numeric(df, v)?)),
        _ => values(df, var)?,
    })
}

/// The dummy columns of `i(v)` / `i(v, ref = r)` / `i(f, x)` on every row:
/// one per level of the sample (sorted, numbers before text), less the reference level:
/// `r` when named, else the first level when `drop_first` (an intercept or
/// fixed effects would make a full set collinear) and the factor is `i(v)`.
fn dummy_columns(df: &DataFrame, f: &Factor, drop_first: bool, sample: Option<&[bool]>) -> Result<Cols, DesignError> {
    let (v, reference, drop_first) = match f {
        Factor::Dummies(v, r) => (v, r, drop_first),
        Factor::Slopes(v, _, r) => (v, r, false),
        _ => return Ok(Vec::new()),
    };
    let keys = group_keys(df, v)?;
    // The levels seen in the sample (fixest restricts the rows first), so the
    // reference is the sample's first level.
    let mut levels: Vec<&GroupKey> =
        keys.iter().enumerate().filter(|(i, _)| sample.is_none_or(|s| s[*i])).filter_map(|(_, k)| k.as_ref()).collect();
    levels.sort_by(|a, b| match (a, b) {
        (GroupKey::Int(a), GroupKey::Int(b)) => a.cmp(b),
        (GroupKey::Str(a), GroupKey::Str(b)) => a.cmp(b),
        (GroupKey::Int(_), _) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Greater,
    });
    levels.dedup();
    let label = |l: &GroupKey| match l {
        GroupKey::Int(i) => i.to_string(),
        GroupKey::Str(s) => s.clone(),
    };
    let skip: Option<usize> = match reference {
        Some(r) => {
            let at = levels.iter().position(|l| {
                label(l) == *r || r.parse::<f64>().is_ok_and(|x| matches!(l, GroupKey::Int(i) if *i as f64 == x))
            });
            match at {
                Some(at) => Some(at),
                None => {
                    let shown: Vec<String> = levels.iter().take(12).map(|l| label(l)).collect();
                    return Err(DesignError::NoLevel {
                        term: f.to_string(),
                        level: r.clone(),
                        levels: format!("{}{}", shown.join(", "), if levels.len() > 12 { ", ..." } else { "" }),
                    });
                }
            }
        }
        None => drop_first.then_some(0),
    };
    Ok(levels
        .iter()
        .enumerate()
        .filter(|(j, _)| Some(*j) != skip)
        .map(|(_, l)| {
            let vals = keys.iter().map(|k| k.as_ref().map_or(f64::NAN, |k| f64::from(u8::from(k == *l)))).collect();
            (format!("{v}::{}", label(l)), vals)
        })
        .collect())
}

/// Read the variables and dummies of the factors of `terms` on every row
/// into `vars` and `dummies` (each once).
fn load_factors<'t>(
    df: &DataFrame,
    factors: impl IntoIterator<Item = &'t Factor>,
    panel: Option<&PanelIndex>,
    drop_first: bool,
    sample: Option<&[bool]>,
    vars: &mut HashMap<String, Vec<f64>>,
    dummies: &mut HashMap<String, Cols>,
) -> Result<(), DesignError> {
    for f in factors {
        for v in variables_of(f) {
            if let std::collections::hash_map::Entry::Vacant(slot) = vars.entry(v) {
                let x = variable_values(df, f, slot.key(), panel)?;
                slot.insert(x);
            }
        }
        if matches!(f, Factor::Dummies(..) | Factor::Slopes(..)) && !dummies.contains_key(&f.to_string()) {
            dummies.insert(f.to_string(), dummy_columns(df, f, drop_first, sample)?);
        }
    }
    Ok(())
}

/// Knots of `ns(x, df)`: minimum, the quantiles `j / df` (linear interpolation,
/// R's type 7) and maximum of the non-missing values (as R, repeats kept).
pub fn spline_knots(x: &[Option<f64>], df: u32) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = x.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((0..=df).map(|j| quantile_sorted(&v, f64::from(j) / f64::from(df))).collect())
}

/// Re-exported from the data layer, where yearly summaries need it too.
pub use crate::data::describe::quantile_sorted;

/// The variables a factor moves with in marginal effects and counterfactual
/// predictions: the column for `x`, `poly(x, p)`, `ns(x, df)` and the slope
/// of `i(f, x)`; every column of an expression (`I(x * z)`); the factor
/// itself for lags, leads and differences (`l(x,1)` is its own variable);
/// none for `i(x)`.
pub fn variables_of(f: &Factor) -> Vec<String> {
    match f {
        Factor::Var(v) | Factor::Poly(v, _) | Factor::RawPoly(v, _) | Factor::Spline(v, _) => vec![v.clone()],
        Factor::Slopes(_, x, _) => vec![x.clone()],
        Factor::Lag(..) | Factor::Lead(..) | Factor::Diff(_) => vec![f.to_string()],
        Factor::Dummies(..) => Vec::new(),
        Factor::Expr(e) => e.variables(),
    }
}

/// How the regressor columns are made from the variables: the terms, and the
/// bases fitted on the sample (kept, so that a design rebuilt on
/// changed values evaluates the same basis, as R's `makepredictcall`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recipe {
    pub terms: Vec<Term>,
    pub intercept: bool,
    /// Fitted `poly()` / `ns()` bases, by factor (`poly(x,3)`).
    pub bases: Vec<(String, Basis)>,
}

impl Recipe {
    /// Every variable the terms move with, in order of appearance.
    pub fn variables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.terms.iter().flat_map(|t| &t.0) {
            for v in variables_of(f) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The regressor columns (with the intercept) from the values of the
    /// variables and of the `i()` dummies on the same rows: the one path by
    /// which a design is built, for the fit and for every rebuild.
    pub fn columns(&self, n: usize, vars: &HashMap<String, Vec<f64>>, dummies: &HashMap<String, Cols>) -> Cols {
        let mut buf = Vec::new();
        let names = self.write_columns(n, vars, dummies, &mut buf);
        if n == 0 {
            return names.into_iter().map(|nm| (nm, Vec::new())).collect();
        }
        names.into_iter().zip(buf.chunks_exact(n)).map(|(nm, c)| (nm, c.to_vec())).collect()
    }

    /// [`Recipe::columns`] appended to `out` one after another (a
    /// column-major matrix of `n` rows), returning their names: a plain
    /// variable is copied once, straight from `vars`.
    pub fn write_columns(
        &self,
        n: usize,
        vars: &HashMap<String, Vec<f64>>,
        dummies: &HashMap<String, Cols>,
        out: &mut Vec<f64>,
    ) -> Vec<String> {
        let mut names = Vec::new();
        if self.intercept {
            names.push("(Intercept)".into());
            out.resize(out.len() + n, 1.0);
        }
        for t in &self.terms {
            if let [f] = t.0.as_slice() {
                let key = f.to_string();
                match (f, vars.get(&key)) {
                    (Factor::Var(_), Some(x)) if !self.bases.iter().any(|(k, _)| *k == key) => {
                        out.extend_from_slice(x);
                        names.push(key);
                    }
                    _ => {
                        for (nm, c) in self.factor(f, n, vars, dummies) {
                            out.extend_from_slice(&c);
                            names.push(nm);
                        }
                    }
                }
                continue;
            }
            let mut acc: Cols = vec![(String::new(), vec![1.0; n])];
            for f in &t.0 {
                let cols = self.factor(f, n, vars, dummies);
                let mut next = Vec::with_capacity(acc.len() * cols.len());
                for (an, av) in &acc {
                    for (bn, bv) in &cols {
                        let name = if an.is_empty() { bn.clone() } else { format!("{an}:{bn}") };
                        // NaN (missing) in either factor stays NaN.
                        next.push((name, av.iter().zip(bv).map(|(a, b)| a * b).collect()));
                    }
                }
                acc = next;
            }
            for (nm, c) in acc {
                out.extend_from_slice(&c);
                names.push(nm);
            }
        }
        names
    }

    fn factor(&self, f: &Factor, n: usize, vars: &HashMap<String, Vec<f64>>, dummies: &HashMap<String, Cols>) -> Cols {
        let key = f.to_string();
        // A variable not loaded is missing on every row.
        let nan = || vec![f64::NAN; n];
        match f {
            Factor::Dummies(..) => return dummies.get(&key).cloned().unwrap_or_default(),
            Factor::Slopes(_, x, _) => {
                let missing;
                let x = match vars.get(x) {
                    Some(x) => x,
                    None => {
                        missing = nan();
                        &missing
                    }
                };
                let d = dummies.get(&key).map(Vec::as_slice).unwrap_or_default();
                return d
                    .iter()
                    .map(|(name, dv)| (format!("{name}:{}", x_name(f)), dv.iter().zip(x).map(|(a, b)| a * b).collect()))
                    .collect();
            }
            Factor::Expr(e) => return vec![(key, e.eval_rows(vars, n))],
            _ => {}
        }
        let missing;
        let x = match variables_of(f).first().and_then(|v| vars.get(v)) {
            Some(x) => x,
            None => {
                missing = nan();
                &missing
            }
        };
        match self.bases.iter().find(|(k, _)| *k == key) {
            None => vec![(key, x.clone())],
            Some((_, basis)) => {
                let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); basis.ncols()];
                for &v in x {
                    if v.is_nan() {
                        cols.iter_mut().for_each(|c| c.push(f64::NAN));
                    } else {
                        for (c, b) in cols.iter_mut().zip(basis.eval(v)) {
                            c.push(b);
                        }
                    }
                }
                cols.into_iter().enumerate().map(|(j, c)| (format!("{key}{}", j + 1), c)).collect()
            }
        }
    }
}

/// The slope variable's name in the columns of `i(f, x)` (`f::level:x`).
fn x_name(f: &Factor) -> &str {
    match f {
        Factor::Slopes(_, x, _) => x,
        _ => "",
    }
}

/// The values of a design's variables and dummies at its rows, read again
/// from the data, to rebuild its regressors with some variables changed
/// (marginal effects, counterfactual predictions).
#[derive(Debug, Clone)]
pub struct Rebuild {
    recipe: Recipe,
    n: usize,
    vars: HashMap<String, Vec<f64>>,
    dummies: HashMap<String, Cols>,
    /// Positions in the rebuilt columns of the design's (kept) columns.
    keep: Vec<usize>,
}

impl Rebuild {
    /// Read the variables of `design` (built from `df`) at its rows.
    pub fn new(df: &DataFrame, design: &Design, panel: Option<&PanelSpec>) -> Result<Rebuild, DesignError> {
        let lags = design.recipe.terms.iter().any(|t| t.0.iter().any(Factor::needs_panel));
        let index = if lags { panel_index(df, panel)? } else { None };
        let recipe = design.recipe.clone();
        let reference = design.recipe.intercept || !design.fixed_effects.is_empty();
        let gather = |v: &[f64]| -> Vec<f64> { design.rows.iter().map(|&r| v[r]).collect() };
        let (mut vars, mut dummies) = (HashMap::new(), HashMap::new());
        // Dummies of every level: the design's (those of its sample, less the
        // sample's first) are among them, its reference level included when
        // the sample did not start with the first level overall.
        load_factors(
            df,
            recipe.terms.iter().flat_map(|t| &t.0),
            index.as_ref(),
            reference,
            None,
            &mut vars,
            &mut dummies,
        )?;
        let vars: HashMap<String, Vec<f64>> = vars.into_iter().map(|(k, v)| (k, gather(&v))).collect();
        let dummies: HashMap<String, Cols> =
            dummies.into_iter().map(|(k, c)| (k, c.iter().map(|(n, v)| (n.clone(), gather(v))).collect())).collect();
        let n = design.rows.len();
        let names: Vec<String> = recipe.columns(n, &HashMap::new(), &dummies).into_iter().map(|c| c.0).collect();
        let keep = design
            .names
            .iter()
            .map(|d| {
                names.iter().position(|n| n == d).ok_or_else(|| {
                    DesignError::NoRows(format!("the design's column `{d}` is not made by its formula's terms"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Rebuild { recipe, n, vars, dummies, keep })
    }

    /// Number of rows (the design's).
    pub fn nrows(&self) -> usize {
        self.n
    }

    /// The variables (in formula order) and their values at the design's rows.
    pub fn variables(&self) -> Vec<(String, &[f64])> {
        self.recipe.variables().into_iter().filter_map(|v| self.vars.get(&v).map(|x| (v, x.as_slice()))).collect()
    }

    /// The design's regressor matrix with the variables in `set` replaced by
    /// the values given (one per row); every term built from them follows.
    pub fn x_with(&self, set: &[(&str, &[f64])]) -> Result<DMatrix<f64>, DesignError> {
        let mut vars = self.vars.clone();
        for (v, vals) in set {
            let slot = vars.get_mut(*v).ok_or_else(|| DesignError::NoColumn {
                column: (*v).to_string(),
                suggestion: nearest_name(v, self.vars.keys().map(String::as_str)),
            })?;
            if vals.len() != self.n {
                return Err(DesignError::NoRows(format!(
                    "{} values for `{v}`, the design has {} rows",
                    vals.len(),
                    self.n
                )));
            }
            *slot = vals.to_vec();
        }
        let cols = self.recipe.columns(self.n, &vars, &self.dummies);
        let mut x = DMatrix::zeros(self.n, self.keep.len());
        for (j, &c) in self.keep.iter().enumerate() {
            x.column_mut(j).copy_from_slice(&cols[c].1);
        }
        Ok(x)
    }
}

fn panel_index(df: &DataFrame, panel: Option<&PanelSpec>) -> Result<Option<PanelIndex>, DesignError> {
    match panel {
        Some(p) => {
            let units: Vec<&str> = p.unit.iter().map(String::as_str).collect();
            for c in units.iter().chain(std::iter::once(&p.time.as_str())) {
                column(df, c)?;
            }
            Ok(Some(PanelIndex::from_frame(df, &units, &p.time)?))
        }
        None => Ok(None),
    }
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
    for c in formula.columns().iter().chain(clusters).flat_map(|c| c.split('^')) {
        column(df, c)?;
    }
    // The panel index serves lags, leads and differences only.
    let index = if formula.needs_panel() { panel_index(df, panel)? } else { None };
    // Fixed effects proper (`unit`, and the intercepts of `unit[x]`), and
    // varying slopes (group, variable, with the intercepts).
    let mut fe_names: Vec<&str> = Vec::new();
    let mut slope_specs: Vec<(&str, &str, bool)> = Vec::new();
    for fe in &formula.fixed_effects {
        let (g, slope) = fe_parts(fe);
        if let Some((z, with_fe)) = slope {
            slope_specs.push((g, z, with_fe));
        }
        if slope.is_none_or(|(_, with_fe)| with_fe) && !fe_names.contains(&g) {
            fe_names.push(g);
        }
    }
    let reference = formula.intercept || !fe_names.is_empty();
    let outcome = match &formula.lhs {
        Factor::Var(v) => v.clone(),
        other => other.to_string(),
    };
    let intercept = formula.intercept && fe_names.is_empty();
    // A cluster that is also a fixed effect (`| dyad`, clustered by dyad): its codes once.
    enum Cluster {
        FixedEffect(usize),
        Own(Codes),
    }
    // The values (outcome, variables, dummies) beside the keys (fixed
    // effects, slopes' groups, clusters): two independent reads of the data,
    // on two threads; an error of the values is reported first.
    let (read_values, read_keys) = rayon::join(
        || -> Result<_, DesignError> {
            // An expression outcome (`log(y)`): its columns' presence, and its values.
            let mut y_raw_ok: Option<Vec<bool>> = None;
            let y = match &formula.lhs {
                Factor::Expr(e) => {
                    let mut raw = HashMap::new();
                    for v in e.variables() {
                        raw.insert(v.clone(), values(df, &v)?);
                    }
                    y_raw_ok = Some((0..df.height()).map(|i| raw.values().all(|c| !c[i].is_nan())).collect());
                    e.eval_rows(&raw, df.height())
                }
                lhs => variable_values(df, lhs, lhs.column(), index.as_ref())?,
            };
            // The variables and dummies on every row; the columns come later, on the
            // estimation rows, from the bases fitted there.
            let mut vars: HashMap<String, Vec<f64>> = HashMap::new();
            let mut dummies: HashMap<String, Cols> = HashMap::new();
            load_factors(
                df,
                formula.terms.iter().flat_map(|t| &t.0),
                index.as_ref(),
                reference,
                sample,
                &mut vars,
                &mut dummies,
            )?;
            Ok((y, y_raw_ok, vars, dummies))
        },
        || -> Result<_, DesignError> {
            let fe_codes: Vec<Codes> = fe_names.iter().map(|f| Codes::of(df, f)).collect::<Result<_, _>>()?;
            let slope_codes: Vec<Codes> =
                slope_specs.iter().map(|(g, _, _)| Codes::of(df, g)).collect::<Result<_, _>>()?;
            let slope_z: Vec<Vec<f64>> = slope_specs.iter().map(|(_, z, _)| values(df, z)).collect::<Result<_, _>>()?;
            let cl_codes: Vec<Cluster> = clusters
                .iter()
                .map(|c| match fe_names.iter().position(|f| f == c) {
                    Some(j) => Ok(Cluster::FixedEffect(j)),
                    None => Codes::of(df, c).map(Cluster::Own),
                })
                .collect::<Result<_, _>>()?;
            Ok((fe_codes, slope_codes, slope_z, cl_codes))
        },
    );
    let (y, y_raw_ok, vars, dummies) = read_values?;
    let (fe_codes, slope_codes, slope_z, cl_codes) = read_keys?;
    let own_cl_codes = cl_codes.iter().filter_map(|c| match c {
        Cluster::Own(c) => Some(c),
        Cluster::FixedEffect(_) => None,
    });

    let n = df.height();
    // Column by column (contiguous reads): in the sample, nothing missing.
    let mut keep: Vec<bool> = match sample {
        Some(s) => s.to_vec(),
        None => vec![true; n],
    };
    let n_sample = keep.iter().filter(|k| **k).count();
    let in_sample = keep.clone();
    // First every column present (the outcome's columns, the variables,
    // dummies, fixed effects, clusters, slopes) ... in chunks of rows on
    // every thread.
    {
        const CHUNK: usize = 1 << 15;
        let mut floats: Vec<&[f64]> = Vec::new();
        if y_raw_ok.is_none() {
            floats.push(&y);
        }
        floats.extend(vars.values().chain(dummies.values().flatten().map(|(_, v)| v)).map(Vec::as_slice));
        floats.extend(slope_z.iter().map(Vec::as_slice));
        let codes: Vec<&[u32]> =
            fe_codes.iter().chain(own_cl_codes).chain(&slope_codes).map(|c| c.ids.as_slice()).collect();
        keep.par_chunks_mut(CHUNK).enumerate().for_each(|(c, k)| {
            let r = c * CHUNK..c * CHUNK + k.len();
            if let Some(ok) = &y_raw_ok {
                k.iter_mut().zip(&ok[r.clone()]).for_each(|(k, o)| *k &= *o);
            }
            for v in &floats {
                k.iter_mut().zip(&v[r.clone()]).for_each(|(k, x)| *k &= !x.is_nan());
            }
            for ids in &codes {
                k.iter_mut().zip(&ids[r.clone()]).for_each(|(k, id)| *k &= *id != Codes::MISSING);
            }
        });
    }
    // ... then an expression that is not a finite number there (`log(0)`),
    // outcome included, is missing too: counted apart.
    let complete = keep.iter().filter(|k| **k).count();
    if y_raw_ok.is_some() {
        keep.iter_mut().zip(&y).for_each(|(k, x)| *k &= !x.is_nan());
    }
    let mut seen = Vec::new();
    for f in formula.terms.iter().flat_map(|t| &t.0) {
        if let Factor::Expr(e) = f {
            if !seen.contains(&e) {
                seen.push(e);
                keep.iter_mut().zip(e.eval_rows(&vars, n)).for_each(|(k, x)| *k &= !x.is_nan());
            }
        }
    }
    let mut dropped = Dropped { missing: n_sample - keep.iter().filter(|k| **k).count(), ..Default::default() };
    dropped.undefined = complete - keep.iter().filter(|k| **k).count();
    // poly() and ns() are fitted on every row of the sample where their
    // variable is present, whatever is missing in the other columns, as R's
    // model frame and fixest evaluate them (fixest's `subset` and `split`
    // restrict the rows first, and so does the sample here).
    let mut bases: Vec<(String, Basis)> = Vec::new();
    for f in formula.terms.iter().flat_map(|t| &t.0) {
        let key = f.to_string();
        if bases.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let x = || -> Vec<f64> {
            let v = variables_of(f).first().and_then(|v| vars.get(v)).map(Vec::as_slice).unwrap_or_default();
            v.iter().zip(&in_sample).filter(|(x, k)| **k && !x.is_nan()).map(|(x, _)| *x).collect()
        };
        let basis = match f {
            Factor::Poly(_, p) => Basis::orthogonal(&x(), *p),
            Factor::RawPoly(_, p) => Ok(Basis::Raw(*p)),
            Factor::Spline(_, d) => Basis::natural(&x(), *d),
            _ => continue,
        }
        .map_err(|e| DesignError::NoRows(format!("`{key}`: {e}")))?;
        bases.push((key, basis));
    }
    let recipe = Recipe { terms: formula.terms.clone(), intercept, bases };

    // Singletons: a fixed-effect level seen once fits its observation perfectly.
    dropped.singletons = drop_singletons(&fe_codes, &mut keep);
    let rows: Vec<usize> = (0..n).filter(|&r| keep[r]).collect();
    if rows.is_empty() {
        return Err(DesignError::NoRows(format!(
            "{} of {n_sample} rows have a missing value in a used column, {} are fixed-effect singletons",
            dropped.missing, dropped.singletons
        )));
    }
    let m = rows.len();
    let gather = |v: &[f64]| -> Vec<f64> {
        if m == n {
            v.to_vec()
        } else {
            rows.iter().map(|&r| v[r]).collect()
        }
    };
    // The values on the estimation rows (moved, not copied, when every row is kept).
    let take = |v: Vec<f64>| -> Vec<f64> {
        if m == n {
            v
        } else {
            rows.iter().map(|&r| v[r]).collect()
        }
    };
    // The outcome and the variables on the estimation rows, one column per task.
    let (yv, vars_at) = rayon::join(
        || gather(&y),
        || vars.into_par_iter().map(|(k, v)| (k, take(v))).collect::<HashMap<String, Vec<f64>>>(),
    );
    let dummies_at: HashMap<String, Cols> =
        dummies.into_iter().map(|(k, c)| (k, c.into_iter().map(|(nm, v)| (nm, take(v))).collect())).collect();
    let mut xv = Vec::with_capacity(m * (formula.terms.len() + 1));
    let col_names = recipe.write_columns(m, &vars_at, &dummies_at, &mut xv);
    let k = col_names.len();
    // Squares and cross-products of values beyond 1e100 overflow or lose
    // everything else in the sums: refuse them with the row.
    // (A branch-free scan first: the rows are searched only when it finds one.)
    let too_large = |v: &[f64]| v.iter().fold(false, |any, x| any | (x.abs() > 1e100));
    if too_large(&yv) {
        if let Some(&r) = rows.iter().find(|&&r| y[r].abs() > 1e100) {
            return Err(DesignError::TooLarge { column: outcome.clone(), value: y[r], row: r + 1 });
        }
    }
    for (j, name) in col_names.iter().enumerate() {
        let v = &xv[j * m..(j + 1) * m];
        if !too_large(v) {
            continue;
        }
        if let Some(i) = v.iter().position(|x| x.abs() > 1e100) {
            return Err(DesignError::TooLarge { column: name.clone(), value: v[i], row: rows[i] + 1 });
        }
    }
    let names = col_names.into_iter();
    let groups = |names: &[String], codes: &[Codes]| -> Vec<Groups> {
        names.par_iter().zip(codes).map(|(nm, c)| c.groups(nm, &rows)).collect()
    };
    let slopes: Vec<Slope> = slope_specs
        .iter()
        .zip(slope_codes.iter().zip(&slope_z))
        .map(|((g, z, with_fe), (codes, zv))| Slope {
            groups: codes.groups(g, &rows),
            variable: z.to_string(),
            z: gather(zv),
            fe: with_fe.then(|| fe_names.iter().position(|n| n == g)).flatten(),
        })
        .collect();
    let fe_names: Vec<String> = fe_names.iter().map(|s| s.to_string()).collect();
    let fixed_effects = groups(&fe_names, &fe_codes);
    let clusters: Vec<Groups> = clusters
        .iter()
        .zip(&cl_codes)
        .map(|(nm, c)| match c {
            Cluster::Own(c) => c.groups(nm, &rows),
            Cluster::FixedEffect(j) => fixed_effects[*j].clone(),
        })
        .collect();
    Ok(Design {
        y: DVector::from_vec(yv),
        x: DMatrix::from_vec(m, k, xv),
        recipe,
        fe_eta: None,
        names: names.collect(),
        fixed_effects,
        clusters,
        rows,
        n_input: n_sample,
        dropped,
        outcome,
        periods: None,
        members: None,
        weights: None,
        slopes,
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

    /// Set the dyad members of each kept row from columns `a` and `b` of
    /// `df`, one code per state across both columns. The columns must both be
    /// integer or both not (a state `2` and `2.0` would not match).
    pub fn set_members(&mut self, df: &DataFrame, a: &str, b: &str) -> Result<(), DesignError> {
        let (ta, tb) = (column(df, a)?.dtype().clone(), column(df, b)?.dtype().clone());
        if ta.is_integer() != tb.is_integer() {
            return Err(DesignError::MemberTypes { a: a.into(), ta: ta.to_string(), b: b.into(), tb: tb.to_string() });
        }
        let (ka, kb) = (group_keys(df, a)?, group_keys(df, b)?);
        let mut map: HashMap<GroupKey, u32> = HashMap::new();
        let mut code = |k: &Option<GroupKey>, col: &str, row: usize| -> Result<u32, DesignError> {
            let k = k.as_ref().ok_or_else(|| DesignError::NoRows(format!("`{col}` is missing in row {}", row + 1)))?;
            let next = map.len() as u32;
            Ok(*map.entry(k.clone()).or_insert(next))
        };
        let mut ma = Vec::with_capacity(self.rows.len());
        let mut mb = Vec::with_capacity(self.rows.len());
        for &r in &self.rows {
            ma.push(code(&ka[r], a, r)?);
            mb.push(code(&kb[r], b, r)?);
        }
        let levels = map.len();
        self.members = Some(Members { a: ma, b: mb, levels });
        Ok(())
    }
}

impl Design {
    /// Keep only the rows where `keep` is true (for example after dropping
    /// fixed-effect groups with no variation in the outcome).
    pub fn subset(&mut self, keep: &[bool]) {
        if keep.iter().all(|k| *k) {
            return;
        }
        let idx: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
        self.y = DVector::from_iterator(idx.len(), idx.iter().map(|&i| self.y[i]));
        self.x = self.x.select_rows(idx.iter());
        self.rows = idx.iter().map(|&i| self.rows[i]).collect();
        if let Some(p) = &self.periods {
            self.periods = Some(idx.iter().map(|&i| p[i]).collect());
        }
        if let Some(e) = &self.fe_eta {
            self.fe_eta = Some(DVector::from_iterator(idx.len(), idx.iter().map(|&i| e[i])));
        }
        if let Some(w) = &self.weights {
            self.weights = Some(idx.iter().map(|&i| w[i]).collect());
        }
        for sl in &mut self.slopes {
            sl.groups = sl.groups.subset(keep);
            sl.z = idx.iter().map(|&i| sl.z[i]).collect();
        }
        self.fixed_effects = self.fixed_effects.iter().map(|g| g.subset(keep)).collect();
        self.clusters = self.clusters.iter().map(|g| g.subset(keep)).collect();
        if let Some(m) = &self.members {
            self.members = Some(m.select(&idx));
        }
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
        let d = build_design(&df, &f("y ~ x:z + i(g) + poly(x, 2, raw = TRUE)"), None, &[]).unwrap();
        assert_eq!(d.names, ["(Intercept)", "x:z", "g::b", "g::c", "poly(x,2,raw=TRUE)1", "poly(x,2,raw=TRUE)2"]);
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
    fn singletons_are_dropped_in_chains() {
        // Dropping rows 0 and 3 (b levels seen once) leaves a levels 0 and 1
        // with one row each, then nothing of them: four dropped, in two passes.
        let a = Codes { ids: vec![0, 0, 1, 1, 2, 2, Codes::MISSING], levels: 3 };
        let b = Codes { ids: vec![0, 1, 1, 2, 3, 3, 3], levels: 4 };
        let mut keep = vec![true, true, true, true, true, true, false];
        assert_eq!(drop_singletons(&[a, b], &mut keep), 4);
        assert_eq!(keep, [false, false, false, false, true, true, false]);
        let c = Codes { ids: vec![0, 0, 1], levels: 2 };
        let mut keep = vec![true; 3];
        assert_eq!(drop_singletons(&[c], &mut keep), 1);
        assert_eq!(keep, [true, true, false]);
    }

    #[test]
    fn natural_splines_are_linear_beyond_the_boundary_knots() {
        let x: Vec<Option<f64>> = (0..=10).map(|v| Some(f64::from(v))).chain([None]).collect();
        let knots = spline_knots(&x, 3).unwrap();
        for (k, want) in knots.iter().zip([0.0, 10.0 / 3.0, 20.0 / 3.0, 10.0]) {
            assert!((k - want).abs() < 1e-12, "{knots:?}");
        }
        let basis = Basis::natural(&x.iter().flatten().copied().collect::<Vec<_>>(), 3).unwrap();
        assert_eq!(basis.ncols(), 3);
        for j in 0..3 {
            let b = |v: f64| basis.eval(v)[j];
            // Second differences vanish past the last knot and before the first.
            for x0 in [10.0, 12.0, -5.0] {
                let d2 = b(x0 + 2.0) - 2.0 * b(x0 + 1.0) + b(x0);
                assert!(d2.abs() < 1e-9, "curvature {d2} at {x0}");
            }
        }
    }

    #[test]
    fn bases_are_fitted_on_the_estimation_rows_and_rebuilt_from_the_variables() {
        // Row 3 is dropped (missing z), but poly() and ns() are fitted on
        // every row with x present, as R's model frame and fixest do.
        let df = df!(
            "y" => [1.0, 2.0, 4.0, 3.0, 5.0, 4.5],
            "x" => [0.0, 1.0, 2.0, 5.0, 10.0, 7.0],
            "z" => [Some(1.0), Some(0.0), Some(1.0), None, Some(0.0), Some(1.0)]
        )
        .unwrap();
        let d = build_design(&df, &f("y ~ x*z + poly(x, 2) + ns(x, 2)"), None, &[]).unwrap();
        assert_eq!(d.rows, [0, 1, 2, 4, 5]);
        let used = [0.0, 1.0, 2.0, 5.0, 10.0, 7.0];
        let p = Basis::orthogonal(&used, 2).unwrap();
        let j = d.names.iter().position(|n| n == "poly(x,2)2").unwrap();
        for (i, x) in [0.0, 1.0, 2.0, 10.0, 7.0].iter().enumerate() {
            assert!((d.x[(i, j)] - p.eval(*x)[1]).abs() < 1e-14);
        }
        // The rebuild at the observed values is the design; x = 3 moves x, x:z and both bases.
        let r = Rebuild::new(&df, &d, None).unwrap();
        assert_eq!(r.variables().iter().map(|v| v.0.as_str()).collect::<Vec<_>>(), ["x", "z"]);
        assert_eq!(r.x_with(&[]).unwrap(), d.x);
        let x3 = r.x_with(&[("x", &[3.0; 5])]).unwrap();
        let z = [1.0, 0.0, 1.0, 0.0, 1.0];
        let ns = Basis::natural(&used, 2).unwrap();
        for (i, zi) in z.iter().enumerate() {
            let want = [[1.0, 3.0, *zi, 3.0 * zi].as_slice(), &p.eval(3.0), &ns.eval(3.0)].concat();
            let got: Vec<f64> = x3.row(i).iter().copied().collect();
            assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-14), "{got:?} vs {want:?}");
        }
        let e = r.x_with(&[("xx", &[3.0; 5])]).unwrap_err().to_string();
        assert_eq!(e, "no column `xx` in the data (did you mean `x`?)");
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
        let df = df!("y" => [1.0, 2.0, 3.0], "n" => ["56.0", " 3", "n/a"]).unwrap();
        let e = build_design(&df, &f("y ~ n"), None, &[]).unwrap_err().to_string();
        assert!(e.starts_with("column `n` holds numbers but row 3 has the text `n/a`"), "{e}");
    }

    #[test]
    fn values_read_every_numeric_type_with_its_nulls() {
        let nan_eq = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || x.is_nan() && y.is_nan())
        };
        let want = [1.0, f64::NAN, -3.0];
        let df = df!(
            "i64" => [Some(1i64), None, Some(-3)],
            "i32" => [Some(1i32), None, Some(-3)],
            "i16" => [Some(1i16), None, Some(-3)],
            "i8" => [Some(1i8), None, Some(-3)],
            "f64" => [Some(1.0f64), None, Some(-3.0)],
            "f32" => [Some(1.0f32), None, Some(-3.0)],
            "u32" => [Some(1u32), None, Some(3)],
            "u64" => [Some(1u64), None, Some(3)],
            "b" => [Some(true), None, Some(false)]
        )
        .unwrap();
        for c in ["i64", "i32", "i16", "i8", "f64", "f32"] {
            assert!(nan_eq(&values(&df, c).unwrap(), &want), "{c}: {:?}", values(&df, c));
        }
        for c in ["u32", "u64"] {
            assert!(nan_eq(&values(&df, c).unwrap(), &[1.0, f64::NAN, 3.0]), "{c}");
        }
        assert!(nan_eq(&values(&df, "b").unwrap(), &[1.0, f64::NAN, 0.0]));
        // Two chunks: a NaN or an infinity in the second is named by its row
        // in the whole column, and a null beside it stays missing.
        let mut two = df!("x" => [Some(1.0), None]).unwrap();
        two.vstack_mut(&df!("x" => [None, Some(f64::INFINITY)]).unwrap()).unwrap();
        let e = values(&two, "x").unwrap_err().to_string();
        assert_eq!(e, "column `x` has a infinite value in row 4; recode it as missing or fix the input");
        let mut two = df!("x" => [Some(1.0), None]).unwrap();
        two.vstack_mut(&df!("x" => [Some(f64::NAN), Some(2.0)]).unwrap()).unwrap();
        let e = values(&two, "x").unwrap_err().to_string();
        assert_eq!(e, "column `x` has a NaN value in row 3; recode it as missing or fix the input");
        let mut two = df!("x" => [Some(1i64), None]).unwrap();
        two.vstack_mut(&df!("x" => [None, Some(7i64)]).unwrap()).unwrap();
        assert!(nan_eq(&values(&two, "x").unwrap(), &[1.0, f64::NAN, f64::NAN, 7.0]));
    }
}
