//! Stata `.dta` files, read and written with the `dta` crate (every release,
//! 102-119), because co-authors who use Stata exchange data in it.
//!
//! Reading: `byte`/`int`/`long` become 64-bit integer columns, `float` and
//! `double` 64-bit floats (a `float` keeps the value Stata stored: 0.1 stored as
//! a float reads as 0.10000000149), strings (fixed and `strL`) text; every
//! missing value (`.` and `.a`-`.z`) becomes missing. Writing: release 118
//! (Stata 14 and later), integers as `long` when they fit and `double`
//! otherwise, floats as `double`, booleans as `byte`, text as `str#`;
//! missing cells as Stata's `.`.

use std::io::{BufWriter, Seek, Write};
use std::path::Path;

use dta::stata::dta::byte_order::ByteOrder;
use dta::stata::dta::dta_reader::DtaReader;
use dta::stata::dta::dta_writer::DtaWriter;
use dta::stata::dta::header::Header;
use dta::stata::dta::long_string_table::LongStringTable;
use dta::stata::dta::release::Release;
use dta::stata::dta::schema::Schema;
use dta::stata::dta::value::Value;
use dta::stata::dta::variable::Variable;
use dta::stata::dta::variable_type::VariableType;
use dta::stata::missing_value::MissingValue;
use dta::stata::stata_byte::StataByte;
use dta::stata::stata_double::StataDouble;
use dta::stata::stata_long::StataLong;
use polars::prelude::*;

use super::error::{DataError, Result};

/// Stata's `long` holds -2,147,483,647 to 2,147,483,620 (larger values are
/// missing codes).
const LONG_MIN: i64 = -2_147_483_647;
const LONG_MAX: i64 = 2_147_483_620;
/// Integers beyond this are not exact as a `double`.
const EXACT_IN_DOUBLE: i64 = 1 << 53;
/// The longest `str#` Stata stores.
const MAX_STR: usize = 2045;

fn unreadable(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Unreadable { path: path.to_path_buf(), format: "Stata .dta", reason: e.to_string() }
}

/// One column while reading.
enum Col {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    /// Text, with `strL` references to resolve after the data section.
    Str(Vec<Option<String>>, Vec<(usize, dta::stata::dta::long_string_ref::LongStringRef)>),
}

/// Read a `.dta` file into a data frame (all columns).
///
/// ```no_run
/// let df = concord::data::stata::read_dta(std::path::Path::new("panel.dta")).unwrap();
/// println!("{:?}", df.shape());
/// ```
pub fn read_dta(path: &Path) -> Result<DataFrame> {
    let mut characteristics = DtaReader::new()
        .from_path(path)
        .and_then(|r| r.read_header())
        .and_then(|r| r.read_schema())
        .map_err(|e| unreadable(path, e))?;
    characteristics.skip_to_end().map_err(|e| unreadable(path, e))?;
    let mut records = characteristics.into_record_reader().map_err(|e| unreadable(path, e))?;
    let schema = records.schema().clone();
    let encoding = records.encoding();
    let mut cols: Vec<Col> = schema
        .variables()
        .iter()
        .map(|v| match v.variable_type() {
            VariableType::Byte | VariableType::Int | VariableType::Long => Col::Int(Vec::new()),
            VariableType::Float | VariableType::Double => Col::Float(Vec::new()),
            VariableType::FixedString(_) | VariableType::LongString => Col::Str(Vec::new(), Vec::new()),
        })
        .collect();
    let mut row = 0usize;
    while let Some(record) = records.read_record().map_err(|e| unreadable(path, e))? {
        for (col, value) in cols.iter_mut().zip(record.values()) {
            match (col, value) {
                (Col::Int(v), Value::Byte(x)) => v.push(x.present().map(i64::from)),
                (Col::Int(v), Value::Int(x)) => v.push(x.present().map(i64::from)),
                (Col::Int(v), Value::Long(x)) => v.push(x.present().map(i64::from)),
                (Col::Float(v), Value::Float(x)) => v.push(x.present().map(f64::from)),
                (Col::Float(v), Value::Double(x)) => v.push(x.present()),
                (Col::Str(v, _), Value::String(s)) => v.push(Some(s.to_string())),
                (Col::Str(v, refs), Value::LongStringRef(r)) => {
                    refs.push((row, *r));
                    v.push(None);
                }
                (_, other) => {
                    return Err(unreadable(
                        path,
                        format!("row {}: a value {other:?} does not match its column type", row + 1),
                    ))
                }
            }
        }
        row += 1;
    }
    if cols.iter().any(|c| matches!(c, Col::Str(_, refs) if !refs.is_empty())) {
        let mut table = LongStringTable::for_reading();
        let mut strls = records.into_long_string_reader().map_err(|e| unreadable(path, e))?;
        strls.read_remaining_into(&mut table).map_err(|e| unreadable(path, e))?;
        for col in &mut cols {
            if let Col::Str(v, refs) = col {
                for (r, reference) in refs.iter() {
                    // An unresolved reference (observation 0) is an empty strL.
                    v[*r] = Some(
                        table
                            .get(reference)
                            .and_then(|s| s.data_str(encoding).map(|c| c.into_owned()))
                            .unwrap_or_default(),
                    );
                }
            }
        }
    }
    let columns = schema
        .variables()
        .iter()
        .zip(cols)
        .map(|(var, col)| {
            let name = PlSmallStr::from(var.name());
            match col {
                Col::Int(v) => Column::new(name, v),
                Col::Float(v) => Column::new(name, v),
                Col::Str(v, _) => Column::new(name, v),
            }
        })
        .collect::<Vec<_>>();
    DataFrame::new(row, columns).map_err(DataError::polars(format!("reading {}", path.display())))
}

/// How one column is stored in Stata.
enum Out {
    Long(Vec<Option<i64>>),
    Double(Vec<Option<f64>>),
    Byte(Vec<Option<bool>>),
    Str(Vec<Option<String>>, u16),
}

fn is_stata_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 32
}

fn invalid(path: &Path, message: String) -> DataError {
    DataError::Invalid { path: path.to_path_buf(), message }
}

fn stored(df: &DataFrame, path: &Path) -> Result<Vec<(String, Out)>> {
    let mut out = Vec::with_capacity(df.width());
    for col in df.columns() {
        let name = col.name().to_string();
        if !is_stata_name(&name) {
            return Err(invalid(
                path,
                format!("column `{name}` is not a valid Stata variable name (letters, digits and _, at most 32 characters, not starting with a digit); rename it first"),
            ));
        }
        let polars_err = DataError::polars(format!("writing column `{name}` to {}", path.display()));
        let s = col.as_materialized_series();
        let o = match s.dtype() {
            DataType::Boolean => Out::Byte(s.bool().map_err(polars_err)?.iter().collect()),
            dt if dt.is_integer() => {
                let v: Vec<Option<i64>> = s
                    .cast(&DataType::Int64)
                    .map_err(polars_err)?
                    .i64()
                    .map_err(DataError::polars("int64"))?
                    .iter()
                    .collect();
                if v.iter().flatten().all(|x| (LONG_MIN..=LONG_MAX).contains(x)) {
                    Out::Long(v)
                } else if let Some((row, x)) =
                    v.iter().enumerate().find_map(|(i, x)| x.filter(|x| x.abs() > EXACT_IN_DOUBLE).map(|x| (i, x)))
                {
                    return Err(invalid(
                        path,
                        format!("column `{name}`, row {}: {x} is too large for Stata to store exactly", row + 1),
                    ));
                } else {
                    Out::Double(v.into_iter().map(|x| x.map(|x| x as f64)).collect())
                }
            }
            dt if dt.is_float() => {
                let v: Vec<Option<f64>> = s
                    .cast(&DataType::Float64)
                    .map_err(polars_err)?
                    .f64()
                    .map_err(DataError::polars("float64"))?
                    .iter()
                    .map(|x| x.filter(|x| x.is_finite()))
                    .collect();
                Out::Double(v)
            }
            DataType::String => {
                let v: Vec<Option<String>> =
                    s.str().map_err(polars_err)?.iter().map(|x| x.map(str::to_string)).collect();
                let width = v.iter().flatten().map(String::len).max().unwrap_or(1).max(1);
                if let Some(row) = v.iter().position(|x| x.as_ref().is_some_and(|x| x.len() > MAX_STR)) {
                    return Err(invalid(
                        path,
                        format!(
                            "column `{name}`, row {}: text longer than {MAX_STR} bytes does not fit a Stata str#",
                            row + 1
                        ),
                    ));
                }
                Out::Str(v, width as u16)
            }
            other => return Err(invalid(path, format!("column `{name}` has type {other}, which Stata cannot store"))),
        };
        out.push((name, o));
    }
    Ok(out)
}

/// Write `df` as a Stata 14+ `.dta` file (release 118) to `w`.
///
/// Column names must be valid Stata names; text longer than 2,045 bytes and
/// integers beyond 2^53 are refused with the column and row named, never cut.
///
/// ```
/// use polars::prelude::*;
/// let df = df!("ccode" => [2i64, 20], "igo" => [Some(1.5), None]).unwrap();
/// let mut buf = std::io::Cursor::new(Vec::new());
/// concord::data::stata::write_dta(&df, &mut buf, std::path::Path::new("out.dta")).unwrap();
/// assert!(buf.get_ref().len() > 100);
/// ```
pub fn write_dta<W: Write + Seek>(df: &DataFrame, w: W, path: &Path) -> Result<()> {
    let cols = stored(df, path)?;
    let mut schema = Schema::builder();
    for (name, o) in &cols {
        let (t, fmt) = match o {
            Out::Long(_) => (VariableType::Long, "%12.0g".to_string()),
            Out::Double(_) => (VariableType::Double, "%10.0g".to_string()),
            Out::Byte(_) => (VariableType::Byte, "%8.0g".to_string()),
            Out::Str(_, width) => (VariableType::FixedString(*width), format!("%{width}s")),
        };
        schema = schema.add_variable(Variable::builder(t, name.as_str()).format(fmt));
    }
    let schema = schema.build().map_err(|e| unreadable(path, e))?;
    let header = Header::builder(Release::V118, ByteOrder::LittleEndian).build();
    let err = |e: dta::stata::dta::dta_error::DtaError| invalid(path, format!("writing Stata file: {e}"));
    let mut records = DtaWriter::new()
        .from_writer(BufWriter::new(w))
        .write_header(header)
        .and_then(|w| w.write_schema(schema))
        .and_then(|w| w.into_record_writer())
        .map_err(err)?;
    let missing = MissingValue::System;
    let mut row: Vec<Value<'_>> = Vec::with_capacity(cols.len());
    for i in 0..df.height() {
        row.clear();
        for (_, o) in &cols {
            row.push(match o {
                Out::Long(v) => Value::Long(v[i].map_or(StataLong::Missing(missing), |x| StataLong::Present(x as i32))),
                Out::Double(v) => Value::Double(v[i].map_or(StataDouble::Missing(missing), StataDouble::Present)),
                Out::Byte(v) => Value::Byte(v[i].map_or(StataByte::Missing(missing), |b| StataByte::Present(b as i8))),
                Out::Str(v, _) => Value::string(v[i].as_deref().unwrap_or("")),
            });
        }
        records.write_record(&row).map_err(err)?;
    }
    let inner = records
        .into_long_string_writer()
        .and_then(|w| w.into_value_label_writer())
        .and_then(|w| w.finish())
        .map_err(err)?;
    inner.into_inner().map_err(|e| DataError::Io { path: path.to_path_buf(), source: e.into_error() })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(df: &DataFrame) -> DataFrame {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.dta");
        let f = std::fs::File::create(&path).unwrap();
        write_dta(df, f, &path).unwrap();
        read_dta(&path).unwrap()
    }

    #[test]
    fn writes_and_reads_back_every_type_with_missing_cells() {
        let df = df!(
            "ccode" => [2i64, 20, 200],
            "big" => [Some(3_000_000_000i64), None, Some(-5)],
            "x" => [Some(0.1f64), None, Some(-1e10)],
            "flag" => [Some(true), Some(false), None],
            "name" => [Some("USA"), None, Some("United Kingdom")]
        )
        .unwrap();
        let back = roundtrip(&df);
        assert_eq!(back.shape(), (3, 5));
        assert_eq!(
            back.column("ccode").unwrap().i64().unwrap().iter().collect::<Vec<_>>(),
            [Some(2), Some(20), Some(200)]
        );
        assert_eq!(
            back.column("big").unwrap().f64().unwrap().iter().collect::<Vec<_>>(),
            [Some(3e9), None, Some(-5.0)]
        );
        assert_eq!(back.column("x").unwrap().f64().unwrap().iter().collect::<Vec<_>>(), [Some(0.1), None, Some(-1e10)]);
        assert_eq!(back.column("flag").unwrap().i64().unwrap().iter().collect::<Vec<_>>(), [Some(1), Some(0), None]);
        assert_eq!(
            back.column("name").unwrap().str().unwrap().iter().collect::<Vec<_>>(),
            [Some("USA"), Some(""), Some("United Kingdom")]
        );
    }

    #[test]
    fn refuses_what_stata_cannot_hold_naming_the_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.dta");
        let bad = df!("l(igo,1)" => [1i64]).unwrap();
        let e = write_dta(&bad, std::io::Cursor::new(Vec::new()), &path).unwrap_err().to_string();
        assert!(e.contains("`l(igo,1)` is not a valid Stata variable name"), "{e}");
        let huge = df!("n" => [1i64 << 60]).unwrap();
        let e = write_dta(&huge, std::io::Cursor::new(Vec::new()), &path).unwrap_err().to_string();
        assert!(e.contains("column `n`, row 1"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_stata_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.dta");
        std::fs::write(&path, b"ccode,year\n2,1950\n").unwrap();
        let e = read_dta(&path).unwrap_err().to_string();
        assert!(e.contains("not a readable Stata .dta file"), "{e}");
    }
}
