//! `concord data build --join FILE`: a researcher's own measures joined onto
//! a panel on the unit's keys, refused (with the file, row and key named)
//! when the keys are missing, not integers, duplicated or outside the panel,
//! or when a column would overwrite one of the panel's.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use polars::prelude::*;

use super::error::{DataError, Result};
use super::read::read_table;
use super::sources::collect;

/// How a join went: the columns added and how many panel rows found a match.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JoinReport {
    pub columns: Vec<String>,
    pub matched: usize,
    pub rows: usize,
}

/// Integer keys of `df`, one vector per key column; a key that is missing,
/// fractional or not a number is an error naming the file, row and column.
fn int_keys(df: &DataFrame, keys: &[&str], path: &Path) -> Result<Vec<Vec<i64>>> {
    let available: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
    keys.iter()
        .map(|k| {
            let c = df.column(k).map_err(|_| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: (*k).into(),
                available: available.clone(),
                suggestion: None,
            })?;
            let bad = |row: usize, value: String| DataError::BadValue {
                path: path.to_path_buf(),
                column: (*k).into(),
                row: row + 1,
                value,
                expected: "an integer key (a join key must be a whole number on every row)",
            };
            // Values as numbers; text that is not a number, and missing
            // values, are the error.
            let values: Vec<std::result::Result<f64, String>> = if c.dtype().is_primitive_numeric() {
                let f = c.cast(&DataType::Float64).map_err(DataError::polars(format!("{}: `{k}`", path.display())))?;
                let f = f.f64().map_err(DataError::polars(format!("{}: `{k}`", path.display())))?.clone();
                f.iter().map(|v| v.ok_or_else(|| "missing".to_string())).collect()
            } else {
                let t = c.cast(&DataType::String).map_err(DataError::polars(format!("{}: `{k}`", path.display())))?;
                let t = t.str().map_err(DataError::polars(format!("{}: `{k}`", path.display())))?.clone();
                t.iter()
                    .map(|v| match v {
                        None => Err("missing".to_string()),
                        Some(v) => v.trim().parse::<f64>().map_err(|_| v.to_string()),
                    })
                    .collect()
            };
            values
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Ok(v) if v.fract() == 0.0 && v.abs() < 1e15 => Ok(v as i64),
                    Ok(v) => Err(bad(i, v.to_string())),
                    Err(text) => Err(bad(i, text)),
                })
                .collect()
        })
        .collect()
}

/// Join the table at `path` onto `panel` on `keys` (a left join: the panel's
/// rows and columns are kept; rows without a match get missing values).
///
/// ```
/// use polars::prelude::*;
/// let dir = tempfile::tempdir().unwrap();
/// let file = dir.path().join("mine.csv");
/// std::fs::write(&file, "ccode,year,score\n2,1990,0.5\n").unwrap();
/// let panel = df!("ccode" => [2i64, 20], "year" => [1990i64, 1990]).unwrap();
/// let (out, report) = concord::data::join::join_file(panel, &file, &["ccode", "year"]).unwrap();
/// assert_eq!((report.matched, report.rows), (1, 2));
/// assert_eq!(out.column("score").unwrap().f64().unwrap().get(0), Some(0.5));
/// ```
pub fn join_file(panel: DataFrame, path: &Path, keys: &[&str]) -> Result<(DataFrame, JoinReport)> {
    let user = read_table(path)?;
    let theirs = int_keys(&user, keys, path)?;
    let ours = int_keys(&panel, keys, Path::new("the panel"))?;
    let key_of = |cols: &[Vec<i64>], i: usize| -> Vec<i64> { cols.iter().map(|c| c[i]).collect() };
    let show = |k: &[i64]| keys.iter().zip(k).map(|(n, v)| format!("{n} = {v}")).collect::<Vec<_>>().join(", ");
    // Duplicated keys: how many rows repeat a key, and the first of them.
    let mut seen: HashMap<Vec<i64>, usize> = HashMap::with_capacity(user.height());
    let (mut repeats, mut first) = (0, None);
    for i in 0..user.height() {
        let k = key_of(&theirs, i);
        if let Some(earlier) = seen.insert(k.clone(), i) {
            repeats += 1;
            first.get_or_insert(format!("row {} repeats row {} ({})", i + 1, earlier + 1, show(&k)));
        }
    }
    if let Some(first) = first {
        return Err(DataError::DuplicateKeys {
            context: path.display().to_string(),
            keys: keys.join(", "),
            count: repeats,
            first,
        });
    }
    // Keys the panel does not have.
    let panel_keys: HashSet<Vec<i64>> = (0..panel.height()).map(|i| key_of(&ours, i)).collect();
    let outside: Vec<usize> = (0..user.height()).filter(|&i| !panel_keys.contains(&key_of(&theirs, i))).collect();
    if let Some(&i) = outside.first() {
        let hint = if keys.contains(&"ccode2") {
            " (a non-directed dyad-year panel has ccode1 < ccode2; build with --directed for both orders)"
        } else {
            ""
        };
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "{} row(s) have keys outside the panel, first row {} ({}){hint}",
                outside.len(),
                i + 1,
                show(&key_of(&theirs, i))
            ),
        });
    }
    let columns: Vec<String> =
        user.get_column_names().iter().map(|c| c.to_string()).filter(|c| !keys.contains(&c.as_str())).collect();
    if let Some(c) = columns.iter().find(|c| panel.column(c.as_str()).is_ok()) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: format!("column `{c}` is already in the panel: rename it in the file"),
        });
    }
    if columns.is_empty() {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: format!("no columns besides the keys ({}) to join", keys.join(", ")),
        });
    }
    let matched = user.height();
    let rows = panel.height();
    // Join on the keys as integers on both sides (the user's may be floats).
    let cast: Vec<Expr> = keys.iter().map(|k| col(*k).cast(DataType::Int64)).collect();
    let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let out = collect(
        panel.lazy().with_columns(cast.clone()).join(
            user.lazy().with_columns(cast),
            on.clone(),
            on,
            JoinArgs::new(JoinType::Left),
        ),
        "--join",
    )?;
    if out.height() != rows {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: format!("the join changed the panel's rows from {rows} to {}", out.height()),
        });
    }
    Ok((out, JoinReport { columns, matched, rows }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel() -> DataFrame {
        df!("ccode" => [2i64, 2, 20, 20], "year" => [1990i64, 1991, 1990, 1991], "polity2" => [10i64, 10, 10, 10])
            .unwrap()
    }

    fn join(text: &str) -> Result<(DataFrame, JoinReport)> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.csv");
        std::fs::write(&file, text).unwrap();
        join_file(panel(), &file, &["ccode", "year"])
    }

    #[test]
    fn joins_on_the_keys_and_counts_matches() {
        let (out, r) = join("year,ccode,score\n1991,20,0.25\n1990,2,0.5\n").unwrap();
        assert_eq!((r.matched, r.rows, r.columns.clone()), (2, 4, vec!["score".to_string()]));
        let s: Vec<Option<f64>> = out.column("score").unwrap().f64().unwrap().iter().collect();
        assert_eq!(s, [Some(0.5), None, None, Some(0.25)]);
        assert_eq!(out.width(), 4);
        // Integral float keys are accepted.
        assert_eq!(join("ccode,year,score\n2.0,1990,1\n").unwrap().1.matched, 1);
    }

    #[test]
    fn bad_files_name_the_row_and_key() {
        let err = |t: &str| join(t).unwrap_err().to_string();
        let e = err("ccode,year,s\n2,1990,1\n20,1991,2\n2,1990,3\n");
        assert!(
            e.contains("1 duplicated key(s) (ccode, year), first: row 3 repeats row 1 (ccode = 2, year = 1990)"),
            "{e}"
        );
        let e = err("ccode,year,s\n2,1990,1\n700,1990,2\n");
        assert!(e.contains("1 row(s) have keys outside the panel, first row 2 (ccode = 700, year = 1990)"), "{e}");
        let e = err("ccode,yr,s\n2,1990,1\n");
        assert!(e.contains("no column `year`; the file has: ccode, yr, s"), "{e}");
        let e = err("ccode,year,s\nUSA,1990,1\n");
        assert!(e.contains("row 1 (line 2), column `ccode`") && e.contains("is not an integer key"), "{e}");
        let e = err("ccode,year,s\n2,,1\n");
        assert!(e.contains("row 1 (line 2), column `year`: `missing` is not an integer key"), "{e}");
        let e = err("ccode,year,s\n2,1990.5,1\n");
        assert!(e.contains("column `year`: `1990.5` is not an integer key"), "{e}");
        let e = err("ccode,year,polity2\n2,1990,1\n");
        assert!(e.contains("column `polity2` is already in the panel"), "{e}");
        let e = err("ccode,year\n2,1990\n");
        assert!(e.contains("no columns besides the keys (ccode, year) to join"), "{e}");
    }
}
