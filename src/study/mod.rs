//! The study layer: a declarative study file (`spec`), the specifications it
//! implies, the fits, the mediation bootstrap (`mediation`), multiple-testing
//! adjustment and a verdict per hypothesis (`run`), written as JSON, Markdown
//! and a manifest (`output`). Before any fit, `validate` checks every column
//! and formula; `template` is the commented study file `concord study init`
//! writes, and `panel_file` reads a user's own panel (`[data] panel`).
//! `event_study` runs the pre-specified event studies (`[[event_study]]`).
//!
//! Nothing here knows which way a hypothesis should come out: a verdict is a
//! function of the estimates, the stated direction and alpha only.

pub mod contrast;
pub mod coverage;
pub mod curve;
pub mod event_study;
pub mod mediation;
pub mod oos;
pub mod output;
pub mod panel_file;
pub mod replication;
pub mod run;
pub mod sensitivity;
pub mod spec;
pub mod template;
pub mod validate;
pub mod validity;

use std::path::PathBuf;

pub use run::{run, HypothesisResult, RunOptions, SpecResult, StudyResult, Verdict};
pub use spec::Study;
pub use validate::{validate, Checked, Problem};

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
    /// An event study (`[[event_study]]`) that cannot be built or fitted.
    #[error("event_study `{name}`: {message}")]
    EventStudy { name: String, message: String },
    /// Everything wrong with a study before it is fitted, all at once.
    #[error(
        "the study has {} problem{}; nothing was fitted:\n{}",
        .0.len(),
        if .0.len() == 1 { "" } else { "s" },
        validate::list(.0)
    )]
    Invalid(Vec<Problem>),
}
