//! The user's own panel (`[data] panel = "my_panel.csv"`): read as
//! `concord fit` reads a table, its level stated or told from its key
//! columns, its keys checked, and cut to the study's years.

use std::path::Path;

use polars::prelude::*;

use super::spec::Level;
use super::StudyError;
use crate::data::read::{read_table, require_columns};
use crate::panel::{int_column, PanelIndex};

/// The level a panel's key columns imply: `ccode1, ccode2, year` dyad-year,
/// `ccode, year` state-year (a system-year panel has only `year`, which
/// many files share, so it must be stated).
///
/// ```
/// use concord::study::panel_file::infer_level;
/// use concord::study::spec::Level;
/// assert_eq!(infer_level(&["ccode1", "ccode2", "year", "x"]), Some(Level::DyadYear));
/// assert_eq!(infer_level(&["ccode", "year"]), Some(Level::StateYear));
/// assert_eq!(infer_level(&["year", "wars"]), None);
/// ```
pub fn infer_level(columns: &[&str]) -> Option<Level> {
    let has = |c: &str| columns.contains(&c);
    if has("ccode1") && has("ccode2") && has("year") {
        Some(Level::DyadYear)
    } else if has("ccode") && has("year") {
        Some(Level::StateYear)
    } else {
        None
    }
}

/// The key columns of a level besides `year`.
fn unit_keys(level: Level) -> &'static [&'static str] {
    match level {
        Level::StateYear => &["ccode"],
        Level::DyadYear | Level::DirectedDyadYear => &["ccode1", "ccode2"],
        Level::SystemYear => &[],
    }
}

/// Read the panel at `path`: its level (`level`, else from its keys), the
/// rows of `from..=to`, and for dyads a `dyad` column (1000 ccode1 +
/// ccode2, as concord's panels) when the file has none. Duplicated keys are
/// refused with the rows that share them: every lag would be ambiguous.
pub fn read(path: &Path, level: Option<Level>, from: i64, to: i64) -> Result<(Level, DataFrame), StudyError> {
    let bad = |message: String| StudyError::File { path: path.to_path_buf(), message };
    let df = read_table(path)?;
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let level = match level.or_else(|| infer_level(&refs)) {
        Some(l) => l,
        None => {
            return Err(bad(
                "cannot tell the panel's level from its columns: a dyad-year panel has `ccode1, ccode2, year`, \
                 a state-year panel `ccode, year`; set `panel_level` in [data] (a system-year panel must say so)"
                    .into(),
            ))
        }
    };
    let keys = unit_keys(level);
    let wanted: Vec<&str> = keys.iter().copied().chain(["year"]).collect();
    require_columns(path, &names, &wanted)?;
    PanelIndex::from_frame(&df, keys, "year")
        .map_err(|e| bad(format!("{e} (rows counted from the first data row)")))?;
    let years = int_column(&df, "year").map_err(|e| bad(e.to_string()))?;
    let (lo, hi) = (years.iter().min().copied(), years.iter().max().copied());
    let keep: BooleanChunked = years.iter().map(|y| from <= *y && *y <= to).collect();
    let mut df = df.filter(&keep).map_err(|e| bad(e.to_string()))?;
    if df.height() == 0 {
        return Err(bad(format!(
            "no rows in the study's years {from}-{to} (the file's years are {}-{})",
            lo.unwrap_or_default(),
            hi.unwrap_or_default()
        )));
    }
    if level.is_dyadic() && df.column("dyad").is_err() {
        let a = int_column(&df, "ccode1").map_err(|e| bad(e.to_string()))?;
        let b = int_column(&df, "ccode2").map_err(|e| bad(e.to_string()))?;
        let dyad: Vec<i64> = a.iter().zip(&b).map(|(a, b)| 1000 * a + b).collect();
        df.with_column(Column::new("dyad".into(), dyad)).map_err(|e| bad(e.to_string()))?;
    }
    Ok((level, df))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn csv(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn levels_keys_years_and_the_dyad_column() {
        let f = csv("ccode1,ccode2,year,x\n2,20,1990,1\n2,20,1991,2\n2,200,1991,3\n2,20,2005,4\n");
        let (level, df) = read(f.path(), None, 1946, 2000).unwrap();
        assert_eq!(level, Level::DyadYear);
        assert_eq!(df.height(), 3, "2005 is outside the study's years");
        assert_eq!(int_column(&df, "dyad").unwrap(), [2020, 2020, 2200]);
        let dup = csv("ccode,year,x\n2,1990,1\n20,1990,2\n2,1990,3\n");
        let e = read(dup.path(), None, 1946, 2000).unwrap_err().to_string();
        assert!(e.contains("ccode=2, year=1990 appears in rows [1, 3]"), "{e}");
        let sys = csv("year,wars\n1990,1\n1991,0\n");
        let e = read(sys.path(), None, 1946, 2000).unwrap_err().to_string();
        assert!(e.contains("set `panel_level`"), "{e}");
        assert_eq!(read(sys.path(), Some(Level::SystemYear), 1946, 2000).unwrap().1.height(), 2);
        let e = read(sys.path(), Some(Level::StateYear), 1946, 2000).unwrap_err().to_string();
        assert!(e.contains("ccode"), "{e}");
        let e = read(f.path(), None, 1800, 1900).unwrap_err().to_string();
        assert!(e.contains("no rows in the study's years 1800-1900 (the file's years are 1990-2005)"), "{e}");
    }
}
