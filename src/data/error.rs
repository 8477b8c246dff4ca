//! Errors of the data layer: every message names the file, the column and, where
//! it applies, the row, so a researcher can fix the input without reading code.

use std::fmt;
use std::path::PathBuf;

/// A file a panel needs that is not in the data dir, with where to get it.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingFile {
    /// Path relative to the data dir, as in `data/sources.toml`.
    pub path: String,
    /// Registry id of the dataset the file belongs to.
    pub dataset: String,
    /// Official download page of the dataset.
    pub url: String,
}

impl fmt::Display for MissingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (dataset {}; get it from {})", self.path, self.dataset, self.url)
    }
}

/// Everything that can go wrong while reading sources and building panels.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{} file(s) missing from the data dir {}:\n{}\nPoint concord at the data with --data-dir DIR or CONCORD_DATA=DIR.",
        .missing.len(), .dir.display(),
        .missing.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n"))]
    MissingFiles { dir: PathBuf, missing: Vec<MissingFile> },

    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{}: not a readable {format} file: {reason}", .path.display())]
    Unreadable { path: PathBuf, format: &'static str, reason: String },

    #[error("{}: the file is empty (no header row)", .path.display())]
    Empty { path: PathBuf },

    #[error("{}: the file has a header but no data rows", .path.display())]
    HeaderOnly { path: PathBuf },

    #[error("{}: no column `{column}`{}; the file has: {}", .path.display(),
        .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(),
        .available.join(", "))]
    MissingColumn { path: PathBuf, column: String, available: Vec<String>, suggestion: Option<String> },

    #[error("{}: row {row} (line {}), column `{column}`: `{value}` is not {expected}", .path.display(), .row + 1)]
    BadValue { path: PathBuf, column: String, row: usize, value: String, expected: &'static str },

    #[error("{context}: {count} duplicated key(s) ({keys}), first: {first}")]
    DuplicateKeys { context: String, keys: String, count: usize, first: String },

    #[error("years {from}-{to} are outside the data: {what} covers {min}-{max}")]
    YearRange { from: i64, to: i64, what: String, min: i64, max: i64 },

    #[error("--from {from} is after --to {to}: give the first year first")]
    ReversedYears { from: i64, to: i64 },

    #[error("{}: unsupported file type; use .csv, .tsv, .parquet, .arrow/.feather or .dta", .path.display())]
    UnsupportedFormat { path: PathBuf },

    #[error("{}: unsupported file type; use .csv, .parquet or .dta", .path.display())]
    UnsupportedOutput { path: PathBuf },

    #[error("refusing to write {}: it is an input file ({why})", .path.display())]
    WouldOverwriteInput { path: PathBuf, why: String },

    #[error("data/sources.toml: {0}")]
    Registry(String),

    #[error("{}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },

    #[error("simulator: {0}")]
    Simulation(String),

    #[error("{context}: {source}")]
    Polars { context: String, source: polars::error::PolarsError },
}

impl DataError {
    /// Wrap a polars error with what concord was doing when it happened.
    pub fn polars(context: impl Into<String>) -> impl FnOnce(polars::error::PolarsError) -> DataError {
        let context = context.into();
        move |source| DataError::Polars { context, source }
    }
}

/// Result of the data layer.
pub type Result<T> = std::result::Result<T, DataError>;
