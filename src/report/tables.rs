//! Tables for papers: regression tables with models side by side (as
//! modelsummary / etable print them) and descriptive statistics, in
//! Markdown, LaTeX (booktabs) and HTML.

use serde::Deserialize;

use crate::data::describe::Description;
use crate::estimate::{Fit, FixedEffectInfo};
use crate::inference::Coefficient;

/// What a regression table needs of a fit; read from a fit's tidy JSON
/// (`concord fit --json`, `fits/*.json` of a study) or taken from a [`Fit`].
#[derive(Debug, Clone, Deserialize)]
pub struct FitSummary {
    pub family: String,
    pub formula: String,
    pub nobs: usize,
    pub loglik: Option<f64>,
    pub aic: Option<f64>,
    pub r2: Option<f64>,
    pub within_r2: Option<f64>,
    pub pseudo_r2: Option<f64>,
    pub vcov: String,
    #[serde(default)]
    pub fixed_effects: Vec<FixedEffectInfo>,
    pub coefficients: Vec<Coefficient>,
    /// Reference distribution of the statistics (intervals at other levels).
    pub distribution: Option<crate::inference::Dist>,
}

impl FitSummary {
    /// Read a fit's tidy JSON, naming the file in errors.
    pub fn from_file(path: &std::path::Path) -> Result<FitSummary, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!("{}: not a concord fit (line {}, column {}): {e}", path.display(), e.line(), e.column())
        })
    }

    /// Interval of `term` at `level` from its estimate and standard error.
    pub fn interval(&self, term: &str, level: f64) -> Option<(f64, f64, f64)> {
        let c = self.coefficients.iter().find(|c| c.term == term)?;
        let dist = self.distribution.unwrap_or(crate::inference::Dist::Normal);
        let t = crate::inference::table(
            &[term.to_string()],
            &nalgebra::DVector::from_element(1, c.estimate),
            &nalgebra::DMatrix::from_element(1, 1, c.std_error * c.std_error),
            dist,
            level,
        )
        .ok()?;
        Some((c.estimate, t[0].conf_low, t[0].conf_high))
    }
}

impl From<&Fit> for FitSummary {
    fn from(f: &Fit) -> Self {
        FitSummary {
            family: f.family.to_string(),
            formula: f.formula.clone(),
            nobs: f.nobs,
            loglik: f.loglik,
            aic: f.aic,
            r2: f.r2,
            within_r2: f.within_r2,
            pseudo_r2: f.pseudo_r2,
            vcov: f.vcov.clone(),
            fixed_effects: f.fixed_effects.clone(),
            coefficients: f.coefficients.clone(),
            distribution: Some(f.distribution),
        }
    }
}

/// Output format of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Latex,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "latex" | "tex" => Ok(Format::Latex),
            "html" => Ok(Format::Html),
            other => Err(format!("unknown table format `{other}`: use md, latex or html")),
        }
    }
}

/// A grid of cells with a header row, a body and a footer, rendered in any format.
struct Grid {
    header: Vec<String>,
    body: Vec<Vec<String>>,
    /// Index in `body` where the footer (fit statistics) starts.
    footer_at: usize,
    note: String,
}

fn esc_latex(s: &str) -> String {
    s.replace('\\', "\\textbackslash{}")
        .replace('&', "\\&")
        .replace('%', "\\%")
        .replace('_', "\\_")
        .replace('#', "\\#")
        .replace('$', "\\$")
        .replace('^', "\\^{}")
        .replace('~', "\\~{}")
}

fn esc_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Grid {
    fn render(&self, format: Format) -> String {
        let mut out = String::new();
        match format {
            Format::Markdown => {
                out.push_str(&format!("| {} |\n", self.header.join(" | ")));
                out.push_str(&format!("|{}\n", " --- |".repeat(self.header.len())));
                for row in &self.body {
                    out.push_str(&format!("| {} |\n", row.join(" | ").replace('\n', " ")));
                }
                if !self.note.is_empty() {
                    out.push_str(&format!("\n{}\n", self.note));
                }
            }
            Format::Latex => {
                let cols = format!("l{}", "c".repeat(self.header.len().saturating_sub(1)));
                out.push_str(&format!("\\begin{{tabular}}{{{cols}}}\n\\toprule\n"));
                let h: Vec<String> = self.header.iter().map(|c| esc_latex(c)).collect();
                out.push_str(&format!("{} \\\\\n\\midrule\n", h.join(" & ")));
                for (i, row) in self.body.iter().enumerate() {
                    if i == self.footer_at && i > 0 {
                        out.push_str("\\midrule\n");
                    }
                    let r: Vec<String> = row.iter().map(|c| esc_latex(c)).collect();
                    out.push_str(&format!("{} \\\\\n", r.join(" & ")));
                }
                out.push_str("\\bottomrule\n\\end{tabular}\n");
                if !self.note.is_empty() {
                    out.push_str(&format!("% {}\n", self.note));
                }
            }
            Format::Html => {
                out.push_str("<table class=\"regression\">\n<thead><tr>");
                for c in &self.header {
                    out.push_str(&format!("<th>{}</th>", esc_html(c)));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for (i, row) in self.body.iter().enumerate() {
                    let class = if i == self.footer_at { " class=\"footer\"" } else { "" };
                    out.push_str(&format!("<tr{class}>"));
                    for c in row {
                        out.push_str(&format!("<td>{}</td>", esc_html(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
                if !self.note.is_empty() {
                    out.push_str(&format!("<p class=\"note\">{}</p>\n", esc_html(&self.note)));
                }
            }
        }
        out
    }
}

fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.2e}")
    } else if x.abs() >= 1e5 {
        format!("{x:.4e}")
    } else {
        format!("{x:.3}")
    }
}

fn stars(p: f64) -> &'static str {
    if p < 0.001 {
        "***"
    } else if p < 0.01 {
        "**"
    } else if p < 0.05 {
        "*"
    } else {
        ""
    }
}

/// Models side by side: estimate (with stars if asked) and standard error in
/// parentheses beneath; then N, log-likelihood, AIC, R2 / within R2 / pseudo
/// R2, one yes/no row per fixed effect, the vcov and the family.
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit, Family, FitOptions};
/// use concord::report::tables::{regression_table, FitSummary, Format};
/// let df = df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0], "x" => [0.0, 2.0, 1.0, 4.0, 3.0]).unwrap();
/// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
/// let t = regression_table(&["(1)".into()], &[FitSummary::from(&f)], true, Format::Markdown);
/// assert!(t.contains("| x | 1.000*"), "{t}");
/// ```
pub fn regression_table(titles: &[String], fits: &[FitSummary], with_stars: bool, format: Format) -> String {
    let mut terms: Vec<String> = Vec::new();
    for f in fits {
        for c in &f.coefficients {
            if !terms.contains(&c.term) {
                terms.push(c.term.clone());
            }
        }
    }
    let mut header = vec![String::new()];
    header.extend(titles.iter().cloned());
    let mut body = Vec::new();
    for t in &terms {
        let mut est = vec![t.clone()];
        let mut se = vec![String::new()];
        for f in fits {
            match f.coefficients.iter().find(|c| &c.term == t) {
                Some(c) => {
                    est.push(format!("{}{}", num(c.estimate), if with_stars { stars(c.p_value) } else { "" }));
                    se.push(format!("({})", num(c.std_error)));
                }
                None => {
                    est.push(String::new());
                    se.push(String::new());
                }
            }
        }
        body.push(est);
        body.push(se);
    }
    let footer_at = body.len();
    let stat = |label: &str, get: &dyn Fn(&FitSummary) -> Option<String>| -> Vec<String> {
        std::iter::once(label.to_string()).chain(fits.iter().map(|f| get(f).unwrap_or_default())).collect()
    };
    body.push(stat("N", &|f| Some(f.nobs.to_string())));
    body.push(stat("Log-likelihood", &|f| f.loglik.map(|v| format!("{v:.1}"))));
    body.push(stat("AIC", &|f| f.aic.map(|v| format!("{v:.1}"))));
    if fits.iter().any(|f| f.r2.is_some()) {
        body.push(stat("R2", &|f| f.r2.map(|v| format!("{v:.3}"))));
    }
    if fits.iter().any(|f| f.within_r2.is_some()) {
        body.push(stat("Within R2", &|f| f.within_r2.map(|v| format!("{v:.3}"))));
    }
    if fits.iter().any(|f| f.pseudo_r2.is_some()) {
        body.push(stat("Pseudo R2", &|f| f.pseudo_r2.map(|v| format!("{v:.3}"))));
    }
    let mut fes: Vec<String> = Vec::new();
    for f in fits {
        for fe in &f.fixed_effects {
            if !fes.contains(&fe.name) {
                fes.push(fe.name.clone());
            }
        }
    }
    for fe in &fes {
        let label = format!("{fe} fixed effects");
        body.push(stat(&label, &|f| {
            Some(if f.fixed_effects.iter().any(|x| &x.name == fe) { "yes" } else { "no" }.into())
        }));
    }
    body.push(stat("Std. errors", &|f| Some(f.vcov.clone())));
    body.push(stat("Model", &|f| Some(f.family.clone())));
    let note = if with_stars {
        "Standard errors in parentheses. * p < 0.05, ** p < 0.01, *** p < 0.001 (two-sided).".into()
    } else {
        "Standard errors in parentheses.".into()
    };
    Grid { header, body, footer_at, note }.render(format)
}

/// Descriptive statistics of a panel: N, missing, mean, min, max per column.
pub fn descriptive_table(d: &Description, format: Format) -> String {
    let header = ["variable", "N", "missing", "mean", "min", "max"].map(String::from).to_vec();
    let f = |v: Option<f64>| v.map(num).unwrap_or_default();
    let body: Vec<Vec<String>> = d
        .columns
        .iter()
        .filter(|c| c.mean.is_some())
        .map(|c| vec![c.name.clone(), c.n.to_string(), c.missing.to_string(), f(c.mean), f(c.min), f(c.max)])
        .collect();
    let footer_at = body.len();
    let note = format!(
        "{} rows{}{}.",
        d.rows,
        d.years.map(|(a, b)| format!(", years {a}-{b}")).unwrap_or_default(),
        d.units.map(|u| format!(", {u} units")).unwrap_or_default()
    );
    Grid { header, body, footer_at, note }.render(format)
}
