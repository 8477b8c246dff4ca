//! Writing tables: the format follows the extension, files are written to a
//! temporary file and renamed into place, and an input is never overwritten.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::error::{DataError, Result};

/// Output formats, chosen by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    /// Stata `.dta` (release 118), for co-authors who use Stata.
    Dta,
}

impl Format {
    /// The format of a path (`.csv`, `.parquet` or `.dta`).
    pub fn of(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet") => Ok(Format::Parquet),
            Some("dta") => Ok(Format::Dta),
            _ => Err(DataError::UnsupportedOutput { path: path.to_path_buf() }),
        }
    }
}

/// Fail if `out` is one of `inputs` (the same file after resolving links).
pub fn refuse_inputs(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let out_parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let resolved_out = canon(out).or_else(|| canon(out_parent).map(|p| p.join(out.file_name().unwrap_or_default())));
    let Some(resolved_out) = resolved_out else { return Ok(()) };
    for i in inputs {
        if canon(i).as_deref() == Some(resolved_out.as_path()) {
            return Err(DataError::WouldOverwriteInput {
                path: out.to_path_buf(),
                why: "this command reads it".into(),
            });
        }
    }
    Ok(())
}

/// Write `df` to `path` (CSV, Parquet or Stata `.dta` by extension), atomically.
pub fn write_table(df: &mut DataFrame, path: &Path) -> Result<()> {
    let format = Format::of(path)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?;
    let mut tmp = temp_in(dir, path)?;
    let res = match format {
        Format::Csv => CsvWriter::new(tmp.as_file_mut()).include_header(true).finish(df),
        Format::Parquet => ParquetWriter::new(tmp.as_file_mut()).finish(df).map(|_| ()),
        Format::Dta => {
            super::stata::write_dta(df, tmp.as_file_mut(), path)?;
            Ok(())
        }
    };
    res.map_err(DataError::polars(format!("writing {}", path.display())))?;
    finish(tmp, path)
}

/// A temporary file beside `path`; the error names `path` and its directory,
/// not the temporary file's random name.
fn temp_in(dir: &Path, path: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::NamedTempFile::new_in(dir).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            e.kind(),
            format!("cannot create files in {} ({})", dir.display(), std::io::Error::from(e.kind())),
        ),
    })
}

/// Give the temporary file ordinary permissions (it is created private) and move
/// it into place.
fn finish(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    }
    tmp.persist(path).map_err(|e| DataError::Io { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

/// Write text (JSON, Markdown) atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

/// Write bytes (figures) atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?;
    let mut tmp = temp_in(dir, path)?;
    tmp.write_all(bytes).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    finish(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read::read_table;

    #[test]
    fn round_trip_csv_and_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let mut df = df!("ccode" => [2i64, 20], "year" => [1950i64, 1950], "x" => [Some(1.5), None]).unwrap();
        for name in ["t.csv", "t.parquet"] {
            let p = dir.path().join(name);
            write_table(&mut df, &p).unwrap();
            let back = read_table(&p).unwrap();
            assert_eq!(back.shape(), (2, 3));
            assert_eq!(back.column("x").unwrap().null_count(), 1);
        }
        // Only the two outputs remain: no temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn unknown_extension_is_refused() {
        let mut df = df!("a" => [1i64]).unwrap();
        let err = write_table(&mut df, Path::new("out.xlsx")).unwrap_err().to_string();
        assert_eq!(err, "out.xlsx: unsupported file type; use .csv, .parquet or .dta");
    }

    #[test]
    fn inputs_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "a\n1\n").unwrap();
        let err = refuse_inputs(&input, std::slice::from_ref(&input)).unwrap_err().to_string();
        assert!(err.contains("it is an input file (this command reads it)"), "{err}");
        // Through another spelling of the same path.
        let other = dir.path().join(".").join("in.csv");
        assert!(refuse_inputs(&other, std::slice::from_ref(&input)).is_err());
        refuse_inputs(&dir.path().join("new.csv"), std::slice::from_ref(&input)).unwrap();
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "a\n1\n");
    }
}
