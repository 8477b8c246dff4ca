//! concord: quantitative international relations in Rust.
//!
//! Real panels of states (`data`), panel structure (`panel`), and a command line
//! (`cli`) that maps commands onto the library. The pipeline flows one way:
//! `data` -> `panel` -> formula -> estimate -> inference -> study -> plot/report.

pub mod alloc;
pub mod cli;
pub mod data;
pub mod estimate;
pub mod formula;
pub mod inference;
pub mod panel;
pub mod plot;
pub mod report;
pub mod study;
