//! Data layer: the source registry, typed readers, the panel builders, and
//! writing and describing tables.

pub mod describe;
pub mod error;
pub mod join;
pub mod measures;
pub mod panels;
pub mod read;
pub mod registry;
pub mod simulate;
pub mod sources;
pub mod stata;
pub mod treaties;
pub mod unga;
pub mod write;

pub use error::{DataError, Result};
pub use panels::{build, BuildReport, Unit};
