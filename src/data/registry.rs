//! The registry of sources (`data/sources.toml`, compiled into the binary): what
//! each dataset is, where to get it, how to cite it, and the checksum of the exact
//! file concord was validated on.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{DataError, MissingFile, Result};

const SOURCES_TOML: &str = include_str!("../../data/sources.toml");

/// Environment variable naming the data dir when `--data-dir` is not given.
pub const DATA_ENV: &str = "CONCORD_DATA";
/// Data dir used when neither `--data-dir` nor `CONCORD_DATA` is set.
pub const DEFAULT_DATA_DIR: &str = "data/raw";

/// One file of a dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Path relative to the data dir.
    pub path: String,
    /// SHA-256 of the file concord was validated on.
    pub sha256: String,
}

/// One dataset of the registry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub id: String,
    pub name: String,
    pub version: String,
    pub url: String,
    pub via: String,
    pub citation: String,
    pub licence: String,
    pub files: Vec<SourceFile>,
}

/// All datasets concord knows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    #[serde(rename = "dataset")]
    pub datasets: Vec<Dataset>,
}

/// State of one registered file in a data dir.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// Present with the registered checksum.
    Ok,
    /// Present, but its bytes differ from the registered version.
    ChecksumMismatch { found: String },
    /// Not in the data dir.
    Missing,
}

/// Where to read data from: `--data-dir`, else `CONCORD_DATA`, else `data/raw`.
///
/// ```
/// let dir = concord::data::registry::resolve_data_dir(Some("../shared/data".into()));
/// assert_eq!(dir, std::path::PathBuf::from("../shared/data"));
/// ```
pub fn resolve_data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os(DATA_ENV).map(PathBuf::from)).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

/// SHA-256 of a file, hex encoded.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

impl Registry {
    /// The registry compiled into this build of concord.
    pub fn builtin() -> Result<Registry> {
        Registry::parse(SOURCES_TOML)
    }

    /// Parse a registry from TOML text.
    pub fn parse(text: &str) -> Result<Registry> {
        toml::from_str(text).map_err(|e| DataError::Registry(e.to_string()))
    }

    /// The dataset a registered file belongs to.
    pub fn dataset_of(&self, path: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.files.iter().any(|f| f.path == path))
    }

    /// A dataset by id.
    pub fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.id == id)
    }

    /// Fail with one error listing every one of `paths` absent from `dir`.
    pub fn require(&self, dir: &Path, paths: &[&str]) -> Result<()> {
        let missing: Vec<MissingFile> = paths
            .iter()
            .filter(|p| !dir.join(p).is_file())
            .map(|p| {
                let d = self.dataset_of(p);
                MissingFile {
                    path: p.to_string(),
                    dataset: d.map_or("unregistered".into(), |d| d.id.clone()),
                    url: d.map_or("(not in data/sources.toml)".into(), |d| d.url.clone()),
                }
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DataError::MissingFiles { dir: dir.to_path_buf(), missing })
        }
    }

    /// The state of every registered file in `dir` (checksums computed in parallel).
    pub fn check(&self, dir: &Path) -> Vec<(&Dataset, &SourceFile, FileState)> {
        use rayon::prelude::*;
        let files: Vec<(&Dataset, &SourceFile)> =
            self.datasets.iter().flat_map(|d| d.files.iter().map(move |f| (d, f))).collect();
        files
            .into_par_iter()
            .map(|(d, f)| {
                let path = dir.join(&f.path);
                let state = match sha256_file(&path) {
                    Err(_) => FileState::Missing,
                    Ok(h) if h == f.sha256 => FileState::Ok,
                    Ok(h) => FileState::ChecksumMismatch { found: h },
                };
                (d, f, state)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_parses_and_paths_are_unique() {
        let r = Registry::builtin().unwrap();
        assert!(r.datasets.len() >= 15);
        let mut paths: Vec<&str> = r.datasets.iter().flat_map(|d| d.files.iter().map(|f| f.path.as_str())).collect();
        let n = paths.len();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), n);
        for d in &r.datasets {
            assert!(d.url.starts_with("http"), "{} has no official URL", d.id);
            assert!(!d.citation.is_empty() && !d.licence.is_empty());
            for f in &d.files {
                assert_eq!(f.sha256.len(), 64, "{}", f.path);
            }
        }
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let err = Registry::parse("[[dataset]]\nid = \"x\"\nnmae = \"typo\"\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `nmae`"), "{err}");
    }

    #[test]
    fn missing_files_are_listed_with_urls() {
        let r = Registry::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err =
            r.require(dir.path(), &["cow_states/cow_states.csv", "cow_igo/cow_igo_sy.csv"]).unwrap_err().to_string();
        assert!(err.starts_with("2 file(s) missing from the data dir"), "{err}");
        assert!(err.contains("cow_states/cow_states.csv (dataset cow_states; get it from https://correlatesofwar.org/data-sets/state-system-membership/)"), "{err}");
        assert!(err.contains("cow_igo/cow_igo_sy.csv (dataset cow_igo"), "{err}");
    }

    #[test]
    fn data_dir_precedence() {
        assert_eq!(resolve_data_dir(Some("x".into())), PathBuf::from("x"));
    }
}
