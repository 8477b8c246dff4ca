//! Solvers for the iterative estimators, as argmin `Solver`s (one file each).

pub mod newton;

pub use newton::DampedNewton;
