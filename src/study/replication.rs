//! Replications of published tables from concord's own panels: the check a
//! reader applies first (does this pipeline reproduce known findings?).
//!
//! A replication file (`studies/replications/NAME.toml`, run by `concord
//! study run`) states the panel as the published study built it (years,
//! sample, sources, each state's columns on both sides of a dyad), the
//! variables derived from it in the formula language (`pmin(aeuds1,
//! aeuds2)`), the inputs scaled by two standard deviations (Gelman 2008, as
//! stevemisc's `r2sd()`: over every row of the panel, before listwise
//! deletion), one model, and the published estimates. [`run`] fits the model
//! and sets concord's estimates beside the published ones; the report layer
//! writes the comparison.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::panel_file;
use super::spec::Level;
use super::StudyError;
use crate::data;
use crate::estimate::{fit, Family, Fit, FitOptions};
use crate::formula::{Factor, Formula};
use crate::inference::VcovSpec;

/// A replication file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Replication {
    pub replication: About,
    pub data: RepData,
    /// Variables made from the panel's columns, in order (a later one may use
    /// an earlier one).
    #[serde(default)]
    pub derive: Vec<Derived>,
    pub model: RepModel,
    /// The published estimates, one per term of the model that the
    /// published table reports.
    pub published: Vec<Published>,
}

/// What is replicated, from where, and what is known to differ.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    pub name: String,
    pub title: String,
    /// The published table (citation and table).
    pub source: String,
    /// The published number of observations, when the table gives it.
    #[serde(default)]
    pub published_n: Option<usize>,
    /// Known reasons why concord's estimates may differ (data versions,
    /// codings), stated before the run.
    #[serde(default)]
    pub differences: Vec<String>,
    /// How close counts as reproduced: within this many published standard
    /// errors (2 by default).
    #[serde(default = "default_within")]
    pub within_se: f64,
    /// A short title for the figure (the name when absent).
    #[serde(default)]
    pub figure_title: Option<String>,
}

impl About {
    /// The short title of figures: `figure_title`, else the name.
    pub fn name_for_figure(&self) -> String {
        self.figure_title.clone().unwrap_or_else(|| self.name.clone())
    }
}

fn default_within() -> f64 {
    2.0
}

/// The panel: built by concord (`level`, years, sample, sources), or the
/// user's own file (`panel`, beside the replication file).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RepData {
    pub level: Level,
    pub from: i64,
    pub to: i64,
    /// Only politically relevant dyad-years.
    #[serde(default)]
    pub relevant: bool,
    /// Measures added to the panel (`concord data vars`).
    #[serde(default)]
    pub add: Vec<String>,
    /// State-year columns on each side of a dyad (`name1`, `name2`).
    #[serde(default)]
    pub sides: Vec<String>,
    #[serde(default)]
    pub panel: Option<PathBuf>,
}

/// A derived variable: `name = expression` in the formula language.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Derived {
    pub name: String,
    pub expr: String,
}

/// The model.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RepModel {
    pub formula: String,
    pub family: String,
    #[serde(default = "default_vcov")]
    pub vcov: String,
    /// Columns divided by two standard deviations after centring (over every
    /// row of the panel, as stevemisc's `r2sd_at()`).
    #[serde(default)]
    pub scale_2sd: Vec<String>,
}

fn default_vcov() -> String {
    "iid".into()
}

/// One published estimate (or, where the literature gives only a sign, the
/// sign).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    pub term: String,
    pub label: String,
    #[serde(default)]
    pub estimate: Option<f64>,
    #[serde(default)]
    pub se: Option<f64>,
    /// "positive" or "negative": the published sign when no estimate is given.
    #[serde(default)]
    pub sign: Option<String>,
}

/// One row of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub term: String,
    pub label: String,
    pub published: Option<f64>,
    pub published_se: Option<f64>,
    pub published_sign: Option<f64>,
    pub concord: Option<f64>,
    pub concord_se: Option<f64>,
    /// concord minus published.
    pub difference: Option<f64>,
    /// The difference in published standard errors.
    pub difference_se: Option<f64>,
    pub same_sign: Option<bool>,
    /// |difference| within `within_se` published standard errors.
    pub within: Option<bool>,
}

/// The mean and standard deviation a scaled column was centred and divided by.
#[derive(Debug, Clone, Serialize)]
pub struct Scaling {
    pub column: String,
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

/// The result of a replication.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicationResult {
    pub spec: Replication,
    pub panel_rows: usize,
    pub scaling: Vec<Scaling>,
    pub fit: Fit,
    pub rows: Vec<Row>,
    /// Terms with a published sign whose sign concord reproduces.
    pub signs_agree: usize,
    pub signs_compared: usize,
    /// Terms with a published estimate and s.e. within `within_se` of it.
    pub within: usize,
    pub within_compared: usize,
    /// Input files with their SHA-256 (relative to the data dir or absolute).
    pub inputs: Vec<(String, String)>,
    pub seconds: f64,
}

/// Whether a TOML file is a replication (it has a `[replication]` table).
pub fn is_replication(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("replication"))
}

impl Replication {
    /// Read and check a replication file.
    pub fn from_file(path: &Path) -> Result<Replication, StudyError> {
        let bad = |message: String| StudyError::Spec { path: path.into(), message };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let mut r = Replication::from_toml(&text).map_err(bad)?;
        if let Some(p) = r.data.panel.as_mut() {
            if p.is_relative() {
                *p = path.parent().unwrap_or(Path::new("")).join(&*p);
            }
        }
        Ok(r)
    }

    /// Parse and check replication TOML.
    ///
    /// ```
    /// use concord::study::replication::Replication;
    /// let r = Replication::from_toml(r#"
    /// published = [{ term = "x", label = "X", estimate = 0.5, se = 0.1 }]
    /// [replication]
    /// name = "demo"
    /// title = "Demo"
    /// source = "Someone (2000), Table 1"
    /// [data]
    /// level = "dyad-year"
    /// from = 1990
    /// to = 2000
    /// [model]
    /// formula = "y ~ x"
    /// family = "logit"
    /// "#).unwrap();
    /// assert_eq!(r.model.vcov, "iid");
    /// assert!(Replication::from_toml("[replication]\nname = 1").is_err());
    /// ```
    pub fn from_toml(text: &str) -> Result<Replication, String> {
        let r: Replication = toml::from_str(text).map_err(|e| e.to_string())?;
        r.check()?;
        Ok(r)
    }

    fn check(&self) -> Result<(), String> {
        let f = Formula::parse(&self.model.formula).map_err(|e| format!("[model] formula: {e}"))?;
        self.model.family.parse::<Family>().map_err(|e| format!("[model] family: {e}"))?;
        self.model.vcov.parse::<VcovSpec>().map_err(|e| format!("[model] vcov: {e}"))?;
        if self.data.from > self.data.to {
            return Err(format!("[data] from {} is after to {}", self.data.from, self.data.to));
        }
        if self.data.level != Level::DyadYear && (self.data.relevant || !self.data.sides.is_empty()) {
            return Err("[data] relevant and sides are for dyad-year panels".into());
        }
        let mut terms: Vec<String> = f.terms.iter().map(|t| t.to_string()).collect();
        if f.intercept && f.fixed_effects.is_empty() {
            terms.push("(Intercept)".into());
        }
        for p in &self.published {
            if !terms.contains(&p.term) {
                return Err(format!(
                    "published term `{}` is not a term of the model (its terms: {})",
                    p.term,
                    terms.join(", ")
                ));
            }
            match (&p.estimate, &p.sign) {
                (None, None) => return Err(format!("published term `{}` has neither an estimate nor a sign", p.term)),
                (_, Some(s)) if s != "positive" && s != "negative" => {
                    return Err(format!(
                        "published term `{}`: sign must be \"positive\" or \"negative\", not `{s}`",
                        p.term
                    ))
                }
                _ => {}
            }
        }
        for (i, d) in self.derive.iter().enumerate() {
            if self.derive[..i].iter().any(|o| o.name == d.name) {
                return Err(format!("[[derive]] `{}` is derived twice", d.name));
            }
            derived_expr(d)?;
        }
        Ok(())
    }
}

/// The expression of a derived variable, parsed by the formula parser.
fn derived_expr(d: &Derived) -> Result<crate::formula::expr::Expr, String> {
    let f = Formula::parse(&format!("{} ~ I({})", d.name, d.expr))
        .map_err(|e| format!("[[derive]] `{}` = `{}`: {e}", d.name, d.expr))?;
    match f.terms.first().and_then(|t| t.0.first()) {
        Some(Factor::Expr(e)) => Ok(e.clone()),
        _ => Err(format!("[[derive]] `{}` = `{}` is not an expression", d.name, d.expr)),
    }
}

/// Add the derived columns to `df`, in order. A name that is already a
/// column is an error (nothing the panel has is overwritten).
///
/// ```
/// use polars::prelude::*;
/// use concord::study::replication::{derive, Derived};
/// let df = df!("a1" => [1.0, 4.0], "a2" => [2.0, 3.0]).unwrap();
/// let d = Derived { name: "weak".into(), expr: "pmin(a1, a2)".into() };
/// let df = derive(df, &[d]).unwrap();
/// let w: Vec<f64> = df.column("weak").unwrap().f64().unwrap().into_no_null_iter().collect();
/// assert_eq!(w, [1.0, 3.0]);
/// ```
pub fn derive(mut df: DataFrame, derived: &[Derived]) -> Result<DataFrame, String> {
    for d in derived {
        if df.column(&d.name).is_ok() {
            return Err(format!("[[derive]] `{}`: the panel already has a column of that name", d.name));
        }
        let e = derived_expr(d)?;
        let mut vars = HashMap::new();
        for v in e.variables() {
            let x = crate::formula::design::numeric(&df, &v)
                .map_err(|err| format!("[[derive]] `{}` = `{}`: {err}", d.name, d.expr))?;
            vars.insert(v, x.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect::<Vec<f64>>());
        }
        let values: Vec<Option<f64>> =
            e.eval_rows(&vars, df.height()).into_iter().map(|x| x.is_finite().then_some(x)).collect();
        df.with_column(Column::new(d.name.as_str().into(), values)).map_err(|e| e.to_string())?;
    }
    Ok(df)
}

/// Centre each column at its mean and divide by two standard deviations
/// (sample s.d., over every non-missing row), as stevemisc's `r2sd()`.
///
/// ```
/// use polars::prelude::*;
/// let df = df!("x" => [1.0, 2.0, 3.0]).unwrap();
/// let (df, s) = concord::study::replication::scale_2sd(df, &["x".into()]).unwrap();
/// let x: Vec<f64> = df.column("x").unwrap().f64().unwrap().into_no_null_iter().collect();
/// assert_eq!((s[0].mean, s[0].sd), (2.0, 1.0));
/// assert_eq!(x, [-0.5, 0.0, 0.5]);
/// ```
pub fn scale_2sd(mut df: DataFrame, columns: &[String]) -> Result<(DataFrame, Vec<Scaling>), String> {
    let mut out = Vec::new();
    for c in columns {
        let x = crate::formula::design::numeric(&df, c).map_err(|e| format!("[model] scale_2sd `{c}`: {e}"))?;
        let obs: Vec<f64> = x.iter().flatten().copied().collect();
        let n = obs.len();
        if n < 2 {
            return Err(format!("[model] scale_2sd `{c}`: {n} non-missing values, at least 2 needed"));
        }
        let mean = obs.iter().sum::<f64>() / n as f64;
        let sd = (obs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        if sd == 0.0 {
            return Err(format!("[model] scale_2sd `{c}`: the column is constant ({mean})"));
        }
        let scaled: Vec<Option<f64>> = x.iter().map(|v| v.map(|v| (v - mean) / (2.0 * sd))).collect();
        df.with_column(Column::new(c.as_str().into(), scaled)).map_err(|e| e.to_string())?;
        out.push(Scaling { column: c.clone(), mean, sd, n });
    }
    Ok((df, out))
}

/// Build (or read) the panel, derive, scale, fit and compare.
pub fn run(spec: &Replication, data_dir: &Path) -> Result<ReplicationResult, StudyError> {
    let t0 = Instant::now();
    let (df, inputs) = panel(spec, data_dir)?;
    let err = |message: String| StudyError::Hypothesis { hypothesis: spec.replication.name.clone(), message };
    let df = derive(df, &spec.derive).map_err(err)?;
    let (df, scaling) = scale_2sd(df, &spec.model.scale_2sd).map_err(err)?;
    let family: Family = spec.model.family.parse().map_err(|e: crate::estimate::EstimateError| err(e.to_string()))?;
    let vcov: VcovSpec = spec.model.vcov.parse().map_err(|e: crate::inference::InferenceError| err(e.to_string()))?;
    let opts = FitOptions { vcov, ..Default::default() };
    let fit = fit(&df, &spec.model.formula, family, &opts).map_err(|e| err(e.to_string()))?;
    let rows = compare(&spec.published, &fit, spec.replication.within_se);
    let signs: Vec<bool> = rows.iter().filter_map(|r| r.same_sign).collect();
    let within: Vec<bool> = rows.iter().filter_map(|r| r.within).collect();
    Ok(ReplicationResult {
        spec: spec.clone(),
        panel_rows: df.height(),
        scaling,
        signs_agree: signs.iter().filter(|s| **s).count(),
        signs_compared: signs.len(),
        within: within.iter().filter(|s| **s).count(),
        within_compared: within.len(),
        fit,
        rows,
        inputs,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The published estimates beside concord's, term by term.
pub fn compare(published: &[Published], fit: &Fit, within_se: f64) -> Vec<Row> {
    published
        .iter()
        .map(|p| {
            let c = fit.coef(&p.term);
            let concord = c.map(|c| c.estimate);
            let sign = p.estimate.map(f64::signum).or(match p.sign.as_deref() {
                Some("positive") => Some(1.0),
                Some("negative") => Some(-1.0),
                _ => None,
            });
            let difference = concord.zip(p.estimate).map(|(c, p)| c - p);
            let difference_se = difference.zip(p.se).filter(|(_, s)| *s > 0.0).map(|(d, s)| d / s);
            Row {
                term: p.term.clone(),
                label: p.label.clone(),
                published: p.estimate,
                published_se: p.se,
                published_sign: sign,
                concord,
                concord_se: c.map(|c| c.std_error),
                difference,
                difference_se,
                same_sign: concord.zip(sign).map(|(c, s)| c.signum() == s),
                within: difference_se.map(|z| z.abs() <= within_se),
            }
        })
        .collect()
}

/// The panel of the replication and the input files it read, with checksums.
fn panel(spec: &Replication, dir: &Path) -> Result<(DataFrame, Vec<(String, String)>), StudyError> {
    let d = &spec.data;
    if let Some(path) = &d.panel {
        let (_, df) = panel_file::read(path, Some(d.level), d.from, d.to)?;
        let df = if d.relevant { data::panels::only_relevant(df)? } else { df };
        return Ok((df, vec![(path.display().to_string(), data::registry::sha256_file(path)?)]));
    }
    let unit = d.level.unit();
    let measures = data::measures::resolve(&d.add)?;
    let (df, _) = data::panels::build_with(unit, dir, d.from, d.to, &measures)?;
    let df = data::panels::add_sides(df, dir, &d.sides)?;
    let df = if d.relevant { data::panels::only_relevant(df)? } else { df };
    let mut files: Vec<&str> = unit.needed_files();
    files.extend(data::measures::files(&measures));
    if !d.sides.is_empty() {
        files.extend(data::measures::side_files(&d.sides));
    }
    files.sort_unstable();
    files.dedup();
    let inputs = files
        .iter()
        .map(|f| Ok((f.to_string(), data::registry::sha256_file(&dir.join(f))?)))
        .collect::<Result<Vec<_>, data::DataError>>()?;
    Ok((df, inputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit_of(terms: &[(&str, f64, f64)]) -> Fit {
        let df = df!("y" => [0.0, 1.0, 0.0, 1.0, 1.0, 0.0], "x" => [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]).unwrap();
        let mut f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
        f.coefficients.truncate(0);
        let template = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap().coefficients[0].clone();
        for (t, b, s) in terms {
            let mut c = template.clone();
            c.term = t.to_string();
            c.estimate = *b;
            c.std_error = *s;
            f.coefficients.push(c);
        }
        f
    }

    #[test]
    fn compare_signs_and_distance_in_published_standard_errors() {
        let f = fit_of(&[("a", 1.0, 0.1), ("b", -0.2, 0.1), ("c", 0.3, 0.1)]);
        let published = vec![
            Published { term: "a".into(), label: "A".into(), estimate: Some(1.1), se: Some(0.1), sign: None },
            Published { term: "b".into(), label: "B".into(), estimate: Some(0.5), se: Some(0.1), sign: None },
            Published { term: "c".into(), label: "C".into(), estimate: None, se: None, sign: Some("negative".into()) },
            Published { term: "d".into(), label: "D".into(), estimate: Some(0.5), se: Some(0.1), sign: None },
        ];
        let rows = compare(&published, &f, 2.0);
        assert!((rows[0].difference_se.unwrap() + 1.0).abs() < 1e-12);
        assert_eq!((rows[0].same_sign, rows[0].within), (Some(true), Some(true)));
        assert!((rows[1].difference_se.unwrap() + 7.0).abs() < 1e-12);
        assert_eq!((rows[1].same_sign, rows[1].within), (Some(false), Some(false)));
        assert_eq!((rows[2].same_sign, rows[2].within), (Some(false), None), "a published sign only");
        assert_eq!((rows[3].concord, rows[3].same_sign), (None, None), "a term the fit lacks is not compared");
    }

    #[test]
    fn derive_refuses_to_overwrite_and_names_the_variable() {
        let df = df!("a" => [1.0, 2.0]).unwrap();
        let e = derive(df.clone(), &[Derived { name: "a".into(), expr: "a * 2".into() }]).unwrap_err();
        assert!(e.contains("already has a column"), "{e}");
        let e = derive(df.clone(), &[Derived { name: "b".into(), expr: "pmin(a, zz)".into() }]).unwrap_err();
        assert!(e.contains("`b` = `pmin(a, zz)`") && e.contains("zz"), "{e}");
        let e = derive(df, &[Derived { name: "b".into(), expr: "pmin(a)".into() }]).unwrap_err();
        assert!(e.contains("two arguments"), "{e}");
    }

    #[test]
    fn scale_2sd_uses_every_nonmissing_row_and_keeps_missing() {
        let df = df!("x" => [Some(1.0), None, Some(3.0), Some(5.0)]).unwrap();
        let (df, s) = scale_2sd(df, &["x".into()]).unwrap();
        assert_eq!((s[0].mean, s[0].sd, s[0].n), (3.0, 2.0, 3));
        let x: Vec<Option<f64>> = df.column("x").unwrap().f64().unwrap().iter().collect();
        assert_eq!(x, [Some(-0.5), None, Some(0.0), Some(0.5)]);
        let c = df!("x" => [2.0, 2.0]).unwrap();
        assert!(scale_2sd(c, &["x".into()]).unwrap_err().contains("constant"));
    }

    #[test]
    fn a_published_term_must_be_in_the_model() {
        let text = r#"
published = [{ term = "z", label = "Z", estimate = 0.5, se = 0.1 }]
[replication]
name = "demo"
title = "Demo"
source = "Someone (2000)"
[data]
level = "dyad-year"
from = 1990
to = 2000
[model]
formula = "y ~ x"
family = "logit"
"#;
        let e = Replication::from_toml(text).unwrap_err();
        assert!(e.contains("published term `z` is not a term of the model (its terms: x, (Intercept))"), "{e}");
    }
}
