//! Panel structure: unit and time keys, lags and leads that respect gaps, first
//! differences and peace-year (spell) counters.
//!
//! Everything here works on plain slices indexed by row, so the panel builders and
//! the formula layer (`l(x, k)`, `f(x, k)`, `d(x)`) share one implementation.

pub mod spells;

use std::collections::HashMap;

use polars::prelude::*;

/// Errors of the panel layer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PanelError {
    #[error("panel keys: {count} duplicated ({unit} , {time}) key(s); first: {first} appears in rows {rows:?}")]
    DuplicateKey { unit: String, time: String, count: usize, first: String, rows: Vec<usize> },
    #[error("panel keys: column `{column}` is missing in row {row}")]
    MissingKey { column: String, row: usize },
    #[error("panel keys: column `{column}` does not exist")]
    NoColumn { column: String },
    #[error("panel keys: column `{column}` must hold whole numbers (found {dtype})")]
    NotInteger { column: String, dtype: String },
    #[error("panel keys: at most 3 unit columns are supported (got {0})")]
    TooManyUnitColumns(usize),
    #[error("spells: {0}")]
    Spells(String),
}

/// Row positions of a panel grouped by unit and sorted by time within unit.
///
/// ```
/// use concord::panel::PanelIndex;
/// // Unit 1 observed in 2000, 2001 and 2003 (a gap in 2002).
/// let idx = PanelIndex::new(vec![1, 1, 1], vec![2000, 2001, 2003]).unwrap();
/// let x = [Some(1.0), Some(2.0), Some(4.0)];
/// assert_eq!(idx.lag(&x, 1), vec![None, Some(1.0), None]);
/// ```
#[derive(Debug, Clone)]
pub struct PanelIndex {
    time: Vec<i64>,
    /// Rows sorted by (unit, time).
    order: Vec<usize>,
    /// `order[starts[u]..starts[u + 1]]` are the rows of the u-th unit.
    starts: Vec<usize>,
    /// Position of each row in `order`, and its unit's number.
    pos: Vec<usize>,
    unit_of: Vec<usize>,
}

impl PanelIndex {
    /// Build from a unit id and a time per row; (unit, time) must be unique.
    pub fn new(unit: Vec<u64>, time: Vec<i64>) -> Result<PanelIndex, PanelError> {
        let n = unit.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by_key(|&r| (unit[r], time[r]));
        let mut dups = Vec::new();
        for w in order.windows(2) {
            if unit[w[0]] == unit[w[1]] && time[w[0]] == time[w[1]] {
                dups.push((w[0], w[1]));
            }
        }
        if let Some(&(a, b)) = dups.first() {
            return Err(PanelError::DuplicateKey {
                unit: "unit".into(),
                time: "time".into(),
                count: dups.len(),
                first: format!("unit {} at time {}", unit[a], time[a]),
                rows: vec![a.min(b) + 1, a.max(b) + 1],
            });
        }
        let mut starts = Vec::new();
        let mut unit_of = vec![0; n];
        let mut pos = vec![0; n];
        for (i, &r) in order.iter().enumerate() {
            if i == 0 || unit[order[i - 1]] != unit[r] {
                starts.push(i);
            }
            unit_of[r] = starts.len() - 1;
            pos[r] = i;
        }
        starts.push(n);
        Ok(PanelIndex { time, order, starts, pos, unit_of })
    }

    /// Build from integer unit columns (one to three, e.g. `ccode` or `ccode1, ccode2`)
    /// and an integer time column of a data frame.
    pub fn from_frame(df: &DataFrame, unit_cols: &[&str], time_col: &str) -> Result<PanelIndex, PanelError> {
        if unit_cols.len() > 3 {
            return Err(PanelError::TooManyUnitColumns(unit_cols.len()));
        }
        let time = int_column(df, time_col)?;
        let keys: Vec<Vec<i64>> = unit_cols.iter().map(|c| int_column(df, c)).collect::<Result<_, _>>()?;
        let mut ids: HashMap<[i64; 3], u64> = HashMap::new();
        let unit: Vec<u64> = (0..df.height())
            .map(|r| {
                let mut k = [0i64; 3];
                for (j, col) in keys.iter().enumerate() {
                    k[j] = col[r];
                }
                let next = ids.len() as u64;
                *ids.entry(k).or_insert(next)
            })
            .collect();
        PanelIndex::new(unit, time).map_err(|e| match e {
            PanelError::DuplicateKey { count, rows, .. } => {
                let r = rows[0] - 1;
                let first = unit_cols
                    .iter()
                    .zip(&keys)
                    .map(|(c, k)| format!("{c}={}", k[r]))
                    .chain(std::iter::once(format!("{time_col}={}", df_time(df, time_col, r))))
                    .collect::<Vec<_>>()
                    .join(", ");
                PanelError::DuplicateKey { unit: unit_cols.join(", "), time: time_col.into(), count, first, rows }
            }
            other => other,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// True when the panel has no rows.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Number of distinct units.
    pub fn n_units(&self) -> usize {
        self.starts.len() - 1
    }

    /// The rows of each unit in time order.
    pub fn units(&self) -> impl Iterator<Item = &[usize]> {
        self.starts.windows(2).map(|w| &self.order[w[0]..w[1]])
    }

    /// Unit number (0-based, in sorted key order) of each row.
    pub fn unit_of_rows(&self) -> &[usize] {
        &self.unit_of
    }

    /// The row of the same unit observed at `time[row] + shift`, if any.
    pub fn shifted_row(&self, row: usize, shift: i64) -> Option<usize> {
        let u = self.unit_of[row];
        let rows = &self.order[self.starts[u]..self.starts[u + 1]];
        let target = self.time[row] + shift;
        // Within a unit times are sorted: search near the row's own position.
        let here = self.pos[row] - self.starts[u];
        // Without gaps (most panels), the row `shift` places away.
        if let Some(&r) = here.checked_add_signed(shift as isize).and_then(|i| rows.get(i)) {
            if self.time[r] == target {
                return Some(r);
            }
        }
        let found = if shift >= 0 {
            rows[here..].binary_search_by_key(&target, |&r| self.time[r]).map(|i| rows[here + i])
        } else {
            rows[..=here].binary_search_by_key(&target, |&r| self.time[r]).map(|i| rows[i])
        };
        found.ok()
    }

    /// `x` at `time - k` within the unit (missing where that year is not observed).
    pub fn lag<T: Copy>(&self, x: &[Option<T>], k: i64) -> Vec<Option<T>> {
        (0..self.len()).map(|r| self.shifted_row(r, -k).and_then(|s| x[s])).collect()
    }

    /// `x` at `time + k` within the unit.
    pub fn lead<T: Copy>(&self, x: &[Option<T>], k: i64) -> Vec<Option<T>> {
        self.lag(x, -k)
    }

    /// `x[t] - x[t - 1]` within the unit (missing across a gap).
    pub fn diff(&self, x: &[Option<f64>]) -> Vec<Option<f64>> {
        let l = self.lag(x, 1);
        x.iter().zip(l).map(|(a, b)| Some((*a)? - b?)).collect()
    }

    /// Peace years: years since the unit's last onset, counted before the current
    /// year (Beck, Katz & Tucker 1998; the `btscs` convention of peacesciencer).
    ///
    /// In an onset year the counter holds the years of peace that preceded it; the
    /// year after an onset it is 0. Before a unit's first onset it counts from the
    /// unit's first observed year (left-censored at entry). Years are calendar
    /// years, so a gap in observation counts as time at peace. A missing event is
    /// treated as no onset.
    ///
    /// ```
    /// use concord::panel::PanelIndex;
    /// let idx = PanelIndex::new(vec![7; 5], vec![1990, 1991, 1992, 1993, 1994]).unwrap();
    /// let onset = [Some(false), Some(false), Some(true), Some(false), Some(false)];
    /// assert_eq!(idx.peace_years(&onset), vec![0, 1, 2, 0, 1]);
    /// ```
    pub fn peace_years(&self, onset: &[Option<bool>]) -> Vec<i64> {
        let mut out = vec![0; self.len()];
        for rows in self.units() {
            let mut last = self.time[rows[0]] - 1;
            for &r in rows {
                out[r] = self.time[r] - last - 1;
                if onset[r] == Some(true) {
                    last = self.time[r];
                }
            }
        }
        out
    }

    /// Peace years of an event observed only in the years `first..=last` (its
    /// source's coverage): the counter of [`PanelIndex::peace_years`], with the
    /// clock of each unit started at its first observed year inside the window
    /// (left-censored there), missing outside the window and missing in a row
    /// whose event is missing (which is not taken as an onset).
    ///
    /// ```
    /// use concord::panel::PanelIndex;
    /// // UCDP starts in 1946: a state in the system since 1816 starts its clock then.
    /// let idx = PanelIndex::new(vec![2; 5], vec![1944, 1945, 1946, 1947, 1948]).unwrap();
    /// let onset = [None, None, Some(false), Some(true), None];
    /// assert_eq!(idx.peace_years_within(&onset, 1946, 2024), vec![None, None, Some(0), Some(1), None]);
    /// ```
    pub fn peace_years_within(&self, onset: &[Option<bool>], first: i64, last: i64) -> Vec<Option<i64>> {
        let mut out = vec![None; self.len()];
        for rows in self.units() {
            let mut clock: Option<i64> = None;
            for &r in rows {
                let t = self.time[r];
                if t < first || t > last {
                    continue;
                }
                let since = *clock.get_or_insert(t - 1);
                let Some(event) = onset[r] else { continue };
                out[r] = Some(t - since - 1);
                if event {
                    clock = Some(t);
                }
            }
        }
        out
    }
}

fn df_time(df: &DataFrame, col: &str, row: usize) -> String {
    df.column(col).ok().and_then(|c| c.get(row).ok()).map_or("?".into(), |v| v.to_string())
}

/// The panel keys of a table by its columns, as concord's panels name them:
/// `ccode1, ccode2, year` (dyad-years, directed or not) or `ccode, year`
/// (state-years), when they hold whole numbers. `None` otherwise.
///
/// ```
/// use polars::prelude::*;
/// use concord::panel::inferred_keys;
/// let df = df!("ccode" => [2, 2], "year" => [1990, 1991], "x" => [0.5, 1.0]).unwrap();
/// assert_eq!(inferred_keys(&df), Some((vec!["ccode".to_string()], "year".to_string())));
/// let df = df!("unit" => [1], "time" => [3]).unwrap();
/// assert_eq!(inferred_keys(&df), None);
/// ```
pub fn inferred_keys(df: &DataFrame) -> Option<(Vec<String>, String)> {
    let int = |c: &str| df.column(c).is_ok_and(|c| c.dtype().is_integer());
    if !int("year") {
        return None;
    }
    let units: &[&str] = if int("ccode1") && int("ccode2") {
        &["ccode1", "ccode2"]
    } else if int("ccode") {
        &["ccode"]
    } else {
        return None;
    };
    Some((units.iter().map(|u| u.to_string()).collect(), "year".into()))
}

/// An integer column as `Vec<i64>`, with no missing values.
pub fn int_column(df: &DataFrame, name: &str) -> Result<Vec<i64>, PanelError> {
    let c = df.column(name).map_err(|_| PanelError::NoColumn { column: name.into() })?;
    if !c.dtype().is_integer() {
        return Err(PanelError::NotInteger { column: name.into(), dtype: c.dtype().to_string() });
    }
    let c = c
        .cast(&DataType::Int64)
        .map_err(|_| PanelError::NotInteger { column: name.into(), dtype: c.dtype().to_string() })?;
    let ca = c.i64().map_err(|_| PanelError::NoColumn { column: name.into() })?;
    ca.iter()
        .enumerate()
        .map(|(row, v)| v.ok_or(PanelError::MissingKey { column: name.into(), row: row + 1 }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_and_leads_respect_gaps() {
        // Rows deliberately out of order; unit 2 has a gap in 2002.
        let unit = vec![2, 1, 2, 1, 2, 2];
        let time = vec![2001, 2001, 2000, 2000, 2003, 2004];
        let idx = PanelIndex::new(unit, time).unwrap();
        let x = [Some(21.0), Some(11.0), Some(20.0), Some(10.0), Some(23.0), Some(24.0)];
        assert_eq!(idx.lag(&x, 1), vec![Some(20.0), Some(10.0), None, None, None, Some(23.0)]);
        assert_eq!(idx.lead(&x, 1), vec![None, None, Some(21.0), Some(11.0), Some(24.0), None]);
        assert_eq!(idx.lag(&x, 2), vec![None, None, None, None, Some(21.0), None]);
        assert_eq!(idx.diff(&x), vec![Some(1.0), Some(1.0), None, None, None, Some(1.0)]);
        assert_eq!(idx.n_units(), 2);
    }

    #[test]
    fn peace_years_reset_after_onsets_and_count_gaps() {
        let idx = PanelIndex::new(vec![1; 6], vec![1950, 1951, 1952, 1955, 1956, 1957]).unwrap();
        let on = [Some(true), Some(false), Some(false), Some(true), Some(true), None];
        // 1950 onset (0 prior years); 1951 -> 0; 1952 -> 1; 1955 -> 4 (gap counted);
        // 1956 onset right after one -> 0; 1957 -> 0.
        assert_eq!(idx.peace_years(&on), vec![0, 0, 1, 4, 0, 0]);
    }

    #[test]
    fn peace_years_within_a_coverage_window() {
        // Rows out of order; unit 1 enters before the window, unit 2 inside it.
        let idx = PanelIndex::new(vec![1, 1, 1, 1, 2, 2, 1], vec![1945, 1946, 1947, 1949, 1950, 1951, 1950]).unwrap();
        let on = [Some(true), Some(false), Some(true), None, Some(false), Some(false), Some(false)];
        // Unit 1: 1945 outside (its onset ignored); clock from 1946: 0, 1947 onset
        // after 1 year -> 1; 1949 event missing -> missing, not an onset; 1950 -> 2
        // (years since 1947, gap counted). Unit 2 enters in 1950: 0, 1.
        assert_eq!(idx.peace_years_within(&on, 1946, 1950), vec![None, Some(0), Some(1), None, Some(0), None, Some(2)]);
        // With the whole history as the window it equals peace_years where defined.
        let all = idx.peace_years_within(&on, 1900, 2000);
        let old = idx.peace_years(&on);
        for (a, b) in all.iter().zip(&old) {
            if let Some(a) = a {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn duplicate_keys_are_reported_with_rows() {
        let df = df!("ccode" => [2i64, 2, 20], "year" => [1950i64, 1950, 1950]).unwrap();
        let err = PanelIndex::from_frame(&df, &["ccode"], "year").unwrap_err();
        assert_eq!(
            err.to_string(),
            "panel keys: 1 duplicated (ccode , year) key(s); first: ccode=2, year=1950 appears in rows [1, 2]"
        );
    }

    #[test]
    fn missing_and_non_integer_keys() {
        let df = df!("ccode" => [Some(2i64), None], "year" => [1950i64, 1951]).unwrap();
        let err = PanelIndex::from_frame(&df, &["ccode"], "year").unwrap_err();
        assert_eq!(err.to_string(), "panel keys: column `ccode` is missing in row 2");
        let df = df!("ccode" => [2.5f64], "year" => [1950i64]).unwrap();
        let err = PanelIndex::from_frame(&df, &["ccode"], "year").unwrap_err();
        assert_eq!(err.to_string(), "panel keys: column `ccode` must hold whole numbers (found f64)");
    }

    #[test]
    fn dyad_units_from_two_columns() {
        let df = df!("ccode1" => [2i64, 2, 2], "ccode2" => [20i64, 20, 200], "year" => [1950i64, 1951, 1950]).unwrap();
        let idx = PanelIndex::from_frame(&df, &["ccode1", "ccode2"], "year").unwrap();
        assert_eq!(idx.n_units(), 2);
        assert_eq!(idx.lag(&[Some(1), Some(2), Some(3)], 1), vec![None, Some(1), None]);
    }
}
