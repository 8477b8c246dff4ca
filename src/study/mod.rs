//! The study layer: a declarative study file (`spec`), the specifications it
//! implies, the fits, the mediation bootstrap (`mediation`), multiple-testing
//! adjustment and a verdict per hypothesis (`run`), written as JSON, Markdown
//! and a manifest (`output`).
//!
//! Nothing here knows which way a hypothesis should come out: a verdict is a
//! function of the estimates, the stated direction and alpha only.

pub mod coverage;
pub mod curve;
pub mod mediation;
pub mod oos;
pub mod output;
pub mod run;
pub mod spec;

use std::path::PathBuf;

pub use run::{run, HypothesisResult, RunOptions, SpecResult, StudyResult, Verdict};
pub use spec::Study;

/// Errors of the study layer.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("{}: {message}", .path.display())]
    File { path: PathBuf, message: String },
    #[error("{}: {message}", .path.display())]
    Spec { path: PathBuf, message: String },
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("{hypothesis}: {message}")]
    Hypothesis { hypothesis: String, message: String },
    #[error("{0}")]
    Output(String),
}
