//! Solvers for the iterative estimators, as argmin `Solver`s (one file each).

pub mod irls;
pub mod irls_one_fe;
pub mod newton;

pub use irls::IrlsHdfe;
pub use newton::DampedNewton;
