//! A fit saved by `concord fit --json`, read back for predictions and margins
//! on the data it was fitted on, without fitting again. A saved fit keeps its
//! coefficients and their covariance but not its fixed effects, so models
//! with fixed effects are refitted instead (the error says so).

use std::path::{Path, PathBuf};

use nalgebra::{DMatrix, DVector};
use polars::prelude::DataFrame;
use serde::Deserialize;

use super::{design_for, EstimateError, Family, FitOptions};
use crate::formula::design::{PanelSpec, Rebuild};
use crate::formula::Formula;
use crate::inference::margins::Margins;
use crate::inference::{Coefficient, Dist};

/// What predictions need of a saved fit.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedFit {
    pub family: Family,
    pub formula: String,
    pub nobs: usize,
    pub coefficients: Vec<Coefficient>,
    pub vcov_matrix: Vec<Vec<f64>>,
    pub distribution: Dist,
    pub level: f64,
    #[serde(default)]
    pub fixed_effects: Vec<super::FixedEffectInfo>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(skip)]
    path: PathBuf,
}

fn bad(path: &Path, message: String) -> EstimateError {
    EstimateError::File { path: path.to_path_buf(), message }
}

impl SavedFit {
    /// Read a fit's JSON, naming the file (and line) in errors.
    pub fn from_file(path: &Path) -> Result<SavedFit, EstimateError> {
        let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
        let mut fit: SavedFit = serde_json::from_str(&text)
            .map_err(|e| bad(path, format!("not a concord fit (line {}, column {}): {e}", e.line(), e.column())))?;
        fit.path = path.to_path_buf();
        let k = fit.coefficients.len();
        if fit.vcov_matrix.len() != k || fit.vcov_matrix.iter().any(|r| r.len() != k) {
            return Err(bad(path, format!("vcov_matrix is not {k} x {k} (one row and column per coefficient)")));
        }
        Ok(fit)
    }

    /// Margins of the saved fit on `df`: the formula's design is rebuilt on
    /// `df` (with `panel` for lags) and must reproduce the fit's sample size
    /// and terms, so the data are the data it was fitted on.
    pub fn margins(&self, df: &DataFrame, panel: Option<&PanelSpec>) -> Result<Margins, EstimateError> {
        let path = &self.path;
        if !self.fixed_effects.is_empty() {
            let fe: Vec<&str> = self.fixed_effects.iter().map(|f| f.name.as_str()).collect();
            return Err(bad(path, format!(
                "predictions from a saved fit with fixed effects ({}): the file keeps the coefficients, not the fixed effects; pass --formula (and --family, --vcov) to refit on the data",
                fe.join(", ")
            )));
        }
        if self.notes.iter().any(|n| n.starts_with("weighted by")) {
            return Err(bad(
                path,
                "predictions from a saved weighted fit: pass --formula and --weights to refit".into(),
            ));
        }
        let formula = Formula::parse(&self.formula)?;
        let opts = FitOptions { panel: panel.cloned(), ..Default::default() };
        let design = design_for(df, &formula, &opts)?;
        if design.x.nrows() != self.nobs {
            return Err(bad(
                path,
                format!(
                "the data give {} rows for `{}`, the fit has {}: pass the data it was fitted on (and the same --panel)",
                design.x.nrows(),
                self.formula,
                self.nobs
            ),
            ));
        }
        // The design's columns, in its order, among the saved coefficients.
        let at: Vec<usize> = design
            .names
            .iter()
            .map(|n| {
                self.coefficients.iter().position(|c| &c.term == n).ok_or_else(|| {
                    bad(
                        path,
                        format!("the data give a term `{n}` the fit does not have (was it dropped as collinear?)"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        // And every saved coefficient among the design's columns (but the
        // negative binomial's dispersion, which is not a column).
        let extra: Vec<&str> = self
            .coefficients
            .iter()
            .map(|c| c.term.as_str())
            .filter(|t| !design.names.iter().any(|n| n == t))
            .filter(|t| !(self.family == Family::Negbin && *t == "alpha"))
            .collect();
        if !extra.is_empty() {
            return Err(bad(
                path,
                format!(
                    "the fit has term(s) the data do not give: {} (another coding of a factor, or other data?)",
                    extra.join(", ")
                ),
            ));
        }
        let beta = DVector::from_iterator(at.len(), at.iter().map(|&i| self.coefficients[i].estimate));
        let cov = DMatrix::from_fn(at.len(), at.len(), |r, c| self.vcov_matrix[at[r]][at[c]]);
        let rebuild = Rebuild::new(df, &design, panel)?;
        let mean = self.family.mean_function()?;
        Ok(Margins::new(mean, rebuild, beta, cov, None, self.distribution, self.level))
    }
}
