//! Shared helpers of the integration tests: where the real data is, and panels
//! built once per test binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use concord::data::{build, Unit};
use polars::prelude::*;

/// The real datasets: $CONCORD_DATA, else ../shared/data beside the repository.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("CONCORD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("cow_states/cow_states.csv").is_file(),
        "the real datasets are not at {}: set CONCORD_DATA",
        dir.display()
    );
    dir
}

fn built(unit: Unit, cell: &'static OnceLock<DataFrame>) -> &'static DataFrame {
    cell.get_or_init(|| build(unit, &data_dir(), 1946, 2014).expect("panel builds").0)
}

pub fn state_year() -> &'static DataFrame {
    static C: OnceLock<DataFrame> = OnceLock::new();
    built(Unit::StateYear, &C)
}

pub fn dyad_year() -> &'static DataFrame {
    static C: OnceLock<DataFrame> = OnceLock::new();
    built(Unit::DyadYear, &C)
}

pub fn system_year() -> &'static DataFrame {
    static C: OnceLock<DataFrame> = OnceLock::new();
    built(Unit::SystemYear, &C)
}

/// Run the concord binary without $CONCORD_DATA: exit code, stdout, stderr.
pub fn concord(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .env_remove("CONCORD_DATA")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A directed dyad-year frame joined with its mirror: every row with the
/// values of `columns` in the reverse order `(ccode2, ccode1, year)` as
/// `{column}_m`.
pub fn with_mirror(df: &DataFrame, columns: &[&str]) -> DataFrame {
    let mut sel = vec![col("ccode2").alias("ccode1"), col("ccode1").alias("ccode2"), col("year")];
    sel.extend(columns.iter().map(|c| col(*c).alias(format!("{c}_m"))));
    let mirror = df.clone().lazy().select(sel);
    let keys = [col("ccode1"), col("ccode2"), col("year")];
    df.clone().lazy().join(mirror, keys.clone(), keys, JoinArgs::new(JoinType::Inner)).collect().unwrap()
}

/// The pins computed independently by tests/reference/panel_pins.py.
pub fn pins() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/panel_pins.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The value of `column` in the row where the key columns equal `key`.
pub fn value(df: &DataFrame, key: &[(&str, i64)], column: &str) -> Option<f64> {
    let mut mask = lit(true);
    for (k, v) in key {
        mask = mask.and(col(*k).eq(lit(*v)));
    }
    let row = df.clone().lazy().filter(mask).select([col(column).cast(DataType::Float64)]).collect().unwrap();
    assert_eq!(row.height(), 1, "exactly one row for {key:?}");
    row.column(column).unwrap().f64().unwrap().get(0)
}

/// Sum of a column (nulls skipped).
pub fn col_sum(df: &DataFrame, column: &str) -> f64 {
    df.column(column).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().sum().unwrap_or(0.0)
}
