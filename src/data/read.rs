//! Typed reading of CSV (optionally gzip-compressed) and Parquet tables.
//!
//! Sources are read with the columns a panel needs and the types it expects.
//! When a value does not parse, the file is read again as text to find the first
//! offending row, so the error says exactly where the input is wrong.

use std::io::{Cursor, Read};
use std::path::Path;

use polars::prelude::*;

use super::error::{DataError, Result};

/// The type a source column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Whole numbers (codes, years, counts).
    Int,
    /// Real numbers.
    Float,
    /// Text.
    Str,
}

impl Kind {
    fn dtype(self) -> DataType {
        match self {
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Str => DataType::String,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Int => "a whole number",
            Kind::Float => "a number",
            Kind::Str => "text",
        }
    }

    fn parses(self, s: &str) -> bool {
        let s = s.trim();
        match self {
            Kind::Int => s.parse::<i64>().is_ok(),
            Kind::Float => s.parse::<f64>().is_ok(),
            Kind::Str => true,
        }
    }
}

/// Values read as missing in every source: empty cells and R's `NA`.
const NULLS: [&str; 2] = ["", "NA"];
/// Values read as missing in a user's table: also Stata's `.`.
const USER_NULLS: [&str; 3] = ["", "NA", "."];

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 6);
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| DataError::Unreadable {
            path: path.to_path_buf(),
            format: "gzip",
            reason: e.to_string(),
        })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Split a CSV header line into column names (quotes removed).
fn header_names(bytes: &[u8]) -> Vec<String> {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    let line = String::from_utf8_lossy(&bytes[..end]);
    line.trim_end_matches('\r').split(',').map(|s| s.trim().trim_matches('"').to_string()).collect()
}

/// The closest existing name to a missing one, when it is close enough to be a typo.
pub fn nearest_name<'a>(wanted: &str, available: impl IntoIterator<Item = &'a str>) -> Option<String> {
    available
        .into_iter()
        .map(|a| (strsim::levenshtein(&wanted.to_lowercase(), &a.to_lowercase()), a))
        .filter(|(d, a)| *d <= 2.max(wanted.len().min(a.len()) / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a.to_string())
}

/// Check that every wanted column exists, naming the first that does not.
pub fn require_columns(path: &Path, available: &[String], wanted: &[&str]) -> Result<()> {
    for w in wanted {
        if !available.iter().any(|a| a == w) {
            return Err(DataError::MissingColumn {
                path: path.to_path_buf(),
                column: w.to_string(),
                available: available.to_vec(),
                suggestion: nearest_name(w, available.iter().map(String::as_str)),
            });
        }
    }
    Ok(())
}

/// The separator of a delimited text file: tab for `.tsv` / `.tab`, else
/// whichever of `,`, `;` and tab is most frequent in the header line (outside
/// quotes); a comma when none is there (a one-column file).
///
/// ```
/// use concord::data::read::separator;
/// assert_eq!(separator("x.csv".as_ref(), b"a;b;\"c,d\"\n1;2;3"), b';');
/// assert_eq!(separator("x.tsv".as_ref(), b"a,b\n"), b'\t');
/// assert_eq!(separator("x.csv".as_ref(), b"a\tb\n1\t2"), b'\t');
/// assert_eq!(separator("x.csv".as_ref(), b"a\n1"), b',');
/// ```
pub fn separator(path: &Path, bytes: &[u8]) -> u8 {
    let name = path.to_string_lossy().to_lowercase();
    if [".tsv", ".tab", ".tsv.gz", ".tab.gz"].iter().any(|e| name.ends_with(e)) {
        return b'\t';
    }
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in &bytes[..end] {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], usize::from(i == 0))).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t'][best]
    }
}

/// Whether a semicolon-separated file writes numbers with a decimal comma
/// (`0,18`), as European spreadsheets save CSV: a comma between digits in the
/// lines after the header.
fn decimal_comma(sep: u8, bytes: &[u8]) -> bool {
    if sep != b';' {
        return false;
    }
    let start = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| p + 1);
    let body = &bytes[start..bytes.len().min(start + 64 * 1024)];
    body.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == b',' && w[2].is_ascii_digit())
}

fn csv_options(columns: Option<&[(&str, Kind)]>, all_text: bool, sep: u8, comma: bool) -> CsvReadOptions {
    // A user's table (all columns) also reads Stata's `.` as missing.
    let nulls: &[&str] = if columns.is_none() { &USER_NULLS } else { &NULLS };
    let mut opts =
        CsvReadOptions::default().with_has_header(true).with_infer_schema_length(Some(10_000)).map_parse_options(|p| {
            p.with_null_values(Some(NullValues::AllColumns(nulls.iter().map(|s| (*s).into()).collect())))
                .with_separator(sep)
        });
    if sep == b';' {
        opts = opts.map_parse_options(|p| p.with_decimal_comma(comma));
    }
    if let Some(cols) = columns {
        let names: Arc<[PlSmallStr]> = cols.iter().map(|(n, _)| PlSmallStr::from(*n)).collect();
        let schema: Schema = cols
            .iter()
            .map(|(n, k)| Field::new((*n).into(), if all_text { DataType::String } else { k.dtype() }))
            .collect();
        opts = opts.with_columns(Some(names)).with_schema_overwrite(Some(Arc::new(schema)));
    }
    opts
}

/// Read the named columns of a CSV (or `.csv.gz`) file with the given types.
///
/// Errors name the file and the missing column, or the first row whose value
/// does not parse as the expected type.
///
/// ```no_run
/// use concord::data::read::{read_csv, Kind};
/// let states = read_csv("../shared/data/cow_states/cow_states.csv".as_ref(),
///     &[("ccode", Kind::Int), ("styear", Kind::Int), ("endyear", Kind::Int)]).unwrap();
/// assert_eq!(states.width(), 3);
/// ```
pub fn read_csv(path: &Path, columns: &[(&str, Kind)]) -> Result<DataFrame> {
    let bytes = read_bytes(path)?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let header = header_names(&bytes);
    let wanted: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    require_columns(path, &header, &wanted)?;
    let df = parse_csv(path, &bytes, Some(columns), false, b',')?;
    if df.height() == 0 {
        return Err(DataError::HeaderOnly { path: path.to_path_buf() });
    }
    Ok(df)
}

/// Read every column of a CSV file, types inferred (for tables the user
/// brings); the separator is detected ([`separator`]).
pub fn read_csv_all(path: &Path) -> Result<DataFrame> {
    let bytes = read_bytes(path)?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let df = parse_csv(path, &bytes, None, false, separator(path, &bytes))?;
    if df.height() == 0 {
        return Err(DataError::HeaderOnly { path: path.to_path_buf() });
    }
    Ok(df)
}

/// Readers running under [`guarded`] now: a panic then is reported as an
/// error by the guard, so the panic hook of [`quiet_guarded_panics`] stays silent.
static GUARDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Install a panic hook that prints nothing for panics caught by a guarded
/// reader (they become a one-line error), and what the default hook prints
/// otherwise. The command line calls this once at start.
pub fn quiet_guarded_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if GUARDED.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            default(info);
        }
    }));
}

/// Run a polars reader, turning a panic inside it into an error: fuzzing
/// found CSV text (runs of quotes across lines) on which polars-io 0.55's CSV
/// parser panics (`slice index starts at 1 but ends at 0`).
fn guarded<T>(
    path: &Path,
    format: &'static str,
    read: impl FnOnce() -> PolarsResult<T> + std::panic::UnwindSafe,
) -> Result<PolarsResult<T>> {
    GUARDED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let out = std::panic::catch_unwind(read);
    GUARDED.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    out.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        DataError::Unreadable {
            path: path.to_path_buf(),
            format,
            reason: format!("the parser failed on it ({what}); check quoting and row lengths"),
        }
    })
}

fn parse_csv(
    path: &Path,
    bytes: &[u8],
    columns: Option<&[(&str, Kind)]>,
    all_text: bool,
    sep: u8,
) -> Result<DataFrame> {
    let result = guarded(path, "CSV", || {
        csv_options(columns, all_text, sep, decimal_comma(sep, bytes))
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
    })?;
    match result {
        Ok(df) => Ok(df),
        Err(e) if !all_text && columns.is_some() => {
            // Find the first value that does not parse, for a precise message.
            let cols = columns.unwrap_or_default();
            let text = parse_csv(path, bytes, columns, true, sep)?;
            for (name, kind) in cols {
                let s = text
                    .column(name)
                    .and_then(|c| c.str().cloned())
                    .map_err(DataError::polars(format!("{}: column `{name}`", path.display())))?;
                for (row, v) in s.iter().enumerate() {
                    if let Some(v) = v {
                        if !NULLS.contains(&v) && !kind.parses(v) {
                            return Err(DataError::BadValue {
                                path: path.to_path_buf(),
                                column: name.to_string(),
                                row: row + 1,
                                value: v.to_string(),
                                expected: kind.describe(),
                            });
                        }
                    }
                }
            }
            Err(DataError::Unreadable { path: path.to_path_buf(), format: "CSV", reason: e.to_string() })
        }
        Err(e) => Err(DataError::Unreadable { path: path.to_path_buf(), format: "CSV", reason: e.to_string() }),
    }
}

/// Read a table the user gives, all columns: `.csv` / `.csv.gz` (separator
/// detected), `.tsv` / `.tab`, `.parquet`, Arrow IPC (`.arrow`, `.feather`,
/// `.ipc`) or Stata `.dta`. Categorical (dictionary) columns, as pandas, R and
/// arrow write factors, read as text.
pub fn read_table(path: &Path) -> Result<DataFrame> {
    if !path.exists() {
        return Err(DataError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".parquet") {
        read_columnar(path, true, None)
    } else if [".arrow", ".feather", ".ipc"].iter().any(|e| name.ends_with(e)) {
        read_columnar(path, false, None)
    } else if [".csv", ".csv.gz", ".tsv", ".tsv.gz", ".tab", ".tab.gz", ".txt"].iter().any(|e| name.ends_with(e)) {
        read_csv_all(path)
    } else if name.ends_with(".dta") {
        super::stata::read_dta(path)
    } else {
        Err(DataError::UnsupportedFormat { path: path.to_path_buf() })
    }
}

/// [`read_table`] of only the `wanted` columns (and those of `optional`
/// that exist) when the file stores columns apart (Parquet, Arrow IPC) and
/// holds every wanted one: a model reads a few of a panel's dozens of columns
/// (on the dyad-year panel half the memory). Otherwise, and for text files,
/// the whole table, so that a missing column is reported against all the
/// others ("did you mean").
pub fn read_table_columns(path: &Path, wanted: &[String], optional: &[&str]) -> Result<DataFrame> {
    let name = path.to_string_lossy().to_lowercase();
    let parquet = name.ends_with(".parquet");
    let ipc = [".arrow", ".feather", ".ipc"].iter().any(|e| name.ends_with(e));
    if !(parquet || ipc) || !path.exists() {
        return read_table(path);
    }
    let open = || std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source });
    let schema = if parquet { ParquetReader::new(open()?).schema() } else { IpcReader::new(open()?).schema() };
    let Ok(schema) = schema else { return read_table(path) };
    let has = |c: &str| schema.iter_names().any(|n| n.as_str() == c);
    if !wanted.iter().all(|c| has(c)) {
        return read_table(path);
    }
    let mut cols: Vec<String> = Vec::new();
    for c in wanted.iter().map(String::as_str).chain(optional.iter().copied().filter(|c| has(c))) {
        if !cols.iter().any(|x| x == c) {
            cols.push(c.to_string());
        }
    }
    read_columnar(path, parquet, Some(cols))
}

/// A Parquet (else Arrow IPC) file, all columns or the named ones, its
/// categorical columns as text; a panic inside polars becomes an error.
fn read_columnar(path: &Path, parquet: bool, cols: Option<Vec<String>>) -> Result<DataFrame> {
    let format = if parquet { "Parquet" } else { "Arrow IPC" };
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let read = guarded(path, format, || {
        if parquet {
            ParquetReader::new(file).with_columns(cols).finish()
        } else {
            IpcReader::new(file).with_columns(cols).finish()
        }
    })?;
    let unreadable = |e: PolarsError| DataError::Unreadable { path: path.to_path_buf(), format, reason: e.to_string() };
    categoricals_as_text(read.map_err(unreadable)?).map_err(unreadable)
}

/// Categorical and enum columns as text: formulas read a factor's labels.
fn categoricals_as_text(mut df: DataFrame) -> PolarsResult<DataFrame> {
    let cats: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Categorical(..) | DataType::Enum(..)))
        .map(|c| c.name().clone())
        .collect();
    for name in cats {
        let text = df.column(&name)?.cast(&DataType::String)?;
        df.with_column(text)?;
    }
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(contents: &str, suffix: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
        f.write_all(contents.as_bytes()).unwrap();
        f
    }

    #[test]
    fn a_panic_in_the_csv_parser_is_an_error() {
        // Found by tests/no_panic.rs: polars-io 0.55 panics on this text.
        let f = file(",\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\na\"\"\",0\n\"\"\"\n0\"\"\"\n-,\"", ".csv");
        let e = read_table(f.path()).unwrap_err().to_string();
        assert!(e.contains("not a readable CSV file"), "{e}");
        assert!(e.contains("the parser failed on it (slice index starts at 1 but ends at 0)"), "{e}");
    }

    #[test]
    fn reads_typed_columns_and_nulls() {
        let f = file("a,b,c\n1,2.5,x\n2,NA,\n", ".csv");
        let df = read_csv(f.path(), &[("a", Kind::Int), ("b", Kind::Float)]).unwrap();
        assert_eq!(df.shape(), (2, 2));
        assert_eq!(df.column("b").unwrap().null_count(), 1);
    }

    #[test]
    fn missing_column_names_file_and_suggests() {
        let f = file("ccode,year\n2,1950\n", ".csv");
        let err = read_csv(f.path(), &[("ccode", Kind::Int), ("yeer", Kind::Int)]).unwrap_err().to_string();
        assert!(err.contains("no column `yeer`"), "{err}");
        assert!(err.contains("did you mean `year`?"), "{err}");
        assert!(err.contains(&f.path().display().to_string()), "{err}");
    }

    #[test]
    fn bad_value_names_row_and_column() {
        let mut s = String::from("ccode,year\n");
        for i in 0..50 {
            s.push_str(&format!("{i},1950\n"));
        }
        s.push_str("2,nineteen\n");
        let f = file(&s, ".csv");
        let err = read_csv(f.path(), &[("ccode", Kind::Int), ("year", Kind::Int)]).unwrap_err().to_string();
        assert!(err.contains("row 51 (line 52), column `year`: `nineteen` is not a whole number"), "{err}");
    }

    #[test]
    fn empty_and_header_only_files() {
        let f = file("", ".csv");
        let err = read_csv(f.path(), &[("a", Kind::Int)]).unwrap_err().to_string();
        assert!(err.ends_with("the file is empty (no header row)"), "{err}");
        let f = file("a,b\n", ".csv");
        let err = read_csv(f.path(), &[("a", Kind::Int)]).unwrap_err().to_string();
        assert!(err.ends_with("the file has a header but no data rows"), "{err}");
    }

    #[test]
    fn a_model_reads_only_its_columns_of_a_parquet_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let mut df = df!("ccode" => [2i64, 20], "year" => [1990i64, 1990], "y" => [1.0, 2.0], "x" => [0.5, 0.1], "z" => ["a", "b"]).unwrap();
        ParquetWriter::new(std::fs::File::create(&p).unwrap()).finish(&mut df).unwrap();
        let got = read_table_columns(&p, &["y".into(), "x".into()], &["ccode", "year", "dyad"]).unwrap();
        let names: Vec<&str> = got.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["y", "x", "ccode", "year"]);
        assert_eq!(got.column("x").unwrap().f64().unwrap().get(1), Some(0.1));
        // A wanted column the file lacks: the whole table, for the error's "did you mean".
        let all = read_table_columns(&p, &["y".into(), "xx".into()], &[]).unwrap();
        assert_eq!(all.width(), 5);
    }

    #[test]
    fn missing_file_and_unsupported_type() {
        let err = read_table(Path::new("/nonexistent/panel.csv")).unwrap_err().to_string();
        assert_eq!(err, "/nonexistent/panel.csv: no such file");
        let f = file("x", ".xlsx");
        let err = read_table(f.path()).unwrap_err().to_string();
        assert!(err.ends_with("unsupported file type; use .csv, .tsv, .parquet, .arrow/.feather or .dta"), "{err}");
    }

    #[test]
    fn gzip_is_read() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"a\n1\n2\n").unwrap();
        let mut f = tempfile::Builder::new().suffix(".csv.gz").tempfile().unwrap();
        f.write_all(&enc.finish().unwrap()).unwrap();
        let df = read_csv(f.path(), &[("a", Kind::Int)]).unwrap();
        assert_eq!(df.height(), 2);
    }
}
