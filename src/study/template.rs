//! The commented study file `concord study init` writes: every key of the
//! schema, set or commented out, with what it does and its allowed values,
//! so a study can be started without reading Rust.

use std::io::Write;
use std::path::Path;

use super::StudyError;

/// The template (it parses as a study and runs on concord's dyad-year panel
/// or the simulator; `tests/study.rs` checks both and that every key is in it).
pub const TEMPLATE: &str = include_str!("template.toml");

/// Write [`TEMPLATE`] to `path`; an existing file is never overwritten.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("study.toml");
/// concord::study::template::write_template(&path).unwrap();
/// assert!(concord::study::Study::from_file(&path).is_ok());
/// let again = concord::study::template::write_template(&path).unwrap_err().to_string();
/// assert!(again.contains("already exists"), "{again}");
/// ```
pub fn write_template(path: &Path) -> Result<(), StudyError> {
    let fail = |message: String| StudyError::File { path: path.to_path_buf(), message };
    // create_new: the check and the creation are one step, so nothing is
    // overwritten even if the file appears in between.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            fail("already exists; `concord study init` never overwrites a file (give another path)".into())
        } else {
            fail(e.to_string())
        }
    })?;
    file.write_all(TEMPLATE.as_bytes()).map_err(|e| fail(e.to_string()))
}
