//! Tables for papers: regression tables with models side by side (as
//! modelsummary / fixest::etable / esttab print them) and descriptive
//! statistics, in Markdown (cells escaped for GitHub), LaTeX (a standalone
//! document that compiles with booktabs, or a fragment) and HTML.
//!
//! Conventions: terms and variables are printed as labels ([`Labels`]);
//! numbers use one fixed format per column (no e-notation), a true minus
//! sign and thousands separators; a column per model with a dependent
//! variable row and a model-number row; fixed-effect indicator rows,
//! observations, clusters per clustering variable, fit statistics and the
//! vcov; significance stars only when asked (two-sided, unadjusted, and
//! said so in the note); terms a fit dropped are never printed.

use serde::Deserialize;

use super::labels::{is_peace_years_term, Labels, KEY_COLUMNS};
use crate::data::describe::Description;
use crate::estimate::{Fit, FixedEffectInfo};
use crate::inference::Coefficient;

/// Terms a fit dropped (collinear with earlier ones or the fixed effects).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DroppedTerms {
    #[serde(default)]
    pub collinear: Vec<String>,
}

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
    /// Clustering variables and their number of clusters.
    #[serde(default)]
    pub clusters: Vec<FixedEffectInfo>,
    #[serde(default)]
    pub dropped: DroppedTerms,
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

    /// The coefficients a table may print: not dropped, finite estimate and
    /// standard error.
    fn printable(&self) -> impl Iterator<Item = &Coefficient> {
        self.coefficients
            .iter()
            .filter(|c| !self.dropped.collinear.contains(&c.term) && c.estimate.is_finite() && c.std_error.is_finite())
    }

    /// Terms of the fit that a table must not print.
    fn unprintable(&self) -> Vec<String> {
        let mut out = self.dropped.collinear.clone();
        for c in &self.coefficients {
            if (!c.estimate.is_finite() || !c.std_error.is_finite()) && !out.contains(&c.term) {
                out.push(c.term.clone());
            }
        }
        out
    }

    /// The outcome column of the formula.
    pub fn outcome(&self) -> &str {
        self.formula.split('~').next().unwrap_or("").trim()
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
            clusters: f.clusters.clone(),
            dropped: DroppedTerms { collinear: f.dropped.collinear.clone() },
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

impl Format {
    /// The format asked for, or the one the output file's extension names
    /// (`.md`, `.tex`, `.html`), Markdown when neither; an error when the two
    /// disagree (LaTeX written to `table.md` would surprise).
    ///
    /// ```
    /// use concord::report::tables::Format;
    /// assert_eq!(Format::choose(None, Some("t.tex".as_ref())), Ok(Format::Latex));
    /// assert_eq!(Format::choose(Some("html"), None), Ok(Format::Html));
    /// assert!(Format::choose(Some("md"), Some("t.tex".as_ref())).is_err());
    /// assert!(Format::choose(None, Some("t.docx".as_ref())).unwrap_err().contains("no table format for `.docx`"));
    /// ```
    pub fn choose(asked: Option<&str>, out: Option<&std::path::Path>) -> Result<Format, String> {
        let by_ext = match out.and_then(|p| p.extension()) {
            None => None,
            Some(e) => match e.to_string_lossy().to_lowercase().as_str() {
                "md" | "markdown" | "txt" => Some(Format::Markdown),
                "tex" => Some(Format::Latex),
                "html" | "htm" => Some(Format::Html),
                other => {
                    return Err(format!(
                        "--out: no table format for `.{other}`; use .md, .tex or .html (Word opens the .html, and pastes its table)"
                    ))
                }
            },
        };
        match (asked.map(str::parse::<Format>).transpose()?, by_ext) {
            (Some(a), Some(e)) if a != e => Err(format!(
                "--format {} but --out {} names another format: drop one",
                asked.unwrap_or_default(),
                out.map(|p| p.display().to_string()).unwrap_or_default()
            )),
            (Some(a), _) => Ok(a),
            (None, e) => Ok(e.unwrap_or(Format::Markdown)),
        }
    }
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

/// The controls of a regression table (modelsummary's, by and large).
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// A title per model, printed above the dependent variable (none: no row).
    pub titles: Vec<String>,
    /// Labels of terms and variables (built-in dictionary plus overrides).
    pub labels: Labels,
    /// Significance stars (two-sided, unadjusted): * 0.05, ** 0.01, *** 0.001.
    pub stars: bool,
    /// Decimals of estimates and standard errors; `None`: per column, enough
    /// for two significant digits of its smallest standard error (3 to 6).
    pub digits: Option<usize>,
    /// Only terms matching one of these (raw name or label; `*` is a wildcard).
    pub keep: Vec<String>,
    /// Leave out terms matching one of these.
    pub drop: Vec<String>,
    /// Terms matching these come first, in this order (the constant is last by default).
    pub order: Vec<String>,
    /// Rows added after the fixed-effect rows: label and one cell per model.
    pub add_rows: Vec<(String, Vec<String>)>,
    /// Notes printed under the table (after the standard-error note).
    pub notes: Vec<String>,
    /// Caption (LaTeX `\caption`, HTML `<caption>`, a Markdown line).
    pub caption: Option<String>,
    /// LaTeX `\label`.
    pub label: Option<String>,
    /// LaTeX: the tabular only (with a comment naming the packages it needs),
    /// not a standalone document.
    pub fragment: bool,
    /// Summarise peace-years polynomial / spline terms in one yes/no row.
    pub peace_years_row: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            titles: Vec::new(),
            labels: Labels::default(),
            stars: false,
            digits: None,
            keep: Vec::new(),
            drop: Vec::new(),
            order: Vec::new(),
            add_rows: Vec::new(),
            notes: Vec::new(),
            caption: None,
            label: None,
            fragment: false,
            peace_years_row: true,
        }
    }
}

impl TableOptions {
    /// Parse `--add-row "Label: a, b"` (one cell per model).
    pub fn parse_row(s: &str) -> Result<(String, Vec<String>), String> {
        let (label, cells) =
            s.split_once(':').ok_or_else(|| format!("--add-row `{s}`: write it as \"Label: cell1, cell2, ...\""))?;
        Ok((label.trim().to_string(), cells.split(',').map(|c| c.trim().to_string()).collect()))
    }
}

/// A cell: text, or a number (ASCII `-`) with optional stars.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Num(String, &'static str),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    fn plain(&self) -> &str {
        match self {
            Cell::Text(s) | Cell::Num(s, _) => s,
        }
    }
}

/// A grid of cells: header rows, a body in sections (a rule between them),
/// notes, and optionally a caption and label.
struct Grid {
    header: Vec<Vec<Cell>>,
    /// Sections of the body; a rule separates them.
    sections: Vec<Vec<Vec<Cell>>>,
    notes: Vec<String>,
    caption: Option<String>,
    label: Option<String>,
    fragment: bool,
}

/// Escape LaTeX's special characters in text.
pub fn esc_latex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '_' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '^' => out.push_str("\\^{}"),
            '~' => out.push_str("\\~{}"),
            '×' => out.push_str("$\\times$"),
            '−' => out.push_str("$-$"),
            '²' => out.push_str("$^2$"),
            '<' => out.push_str("$<$"),
            '>' => out.push_str("$>$"),
            _ => out.push(c),
        }
    }
    out
}

/// Escape HTML's special characters.
pub fn esc_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Escape a Markdown table cell: `|` (which GitHub reads as a cell break
/// even inside code spans) becomes `\|`, line breaks become spaces.
///
/// ```
/// assert_eq!(concord::report::tables::md_cell("`y ~ x | id`"), "`y ~ x \\| id`");
/// ```
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_backslash = false;
    for c in s.chars() {
        match c {
            '|' if !prev_backslash => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
        prev_backslash = c == '\\' && !prev_backslash;
    }
    out
}

/// A Markdown table row of escaped cells.
pub fn md_row<S: AsRef<str>>(cells: &[S]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| md_cell(c.as_ref())).collect();
    format!("| {} |", cells.join(" | "))
}

/// Style of the tables concord writes as HTML (class `regression`): the rules
/// of a booktabs table (heavy above and below, light under the header and
/// above the statistics), numbers that never wrap, and a box that scrolls
/// sideways when the table is wider than the page. The study's index.html
/// and standalone table pages share it.
pub const TABLE_CSS: &str = ".table-wrap{overflow-x:auto;max-width:100%;margin:1rem 0}
table.regression{border-collapse:collapse;border-top:1.5pt solid #000;border-bottom:1.5pt solid #000}
table.regression td,table.regression th{padding:0.15rem 0.6rem;border:none;vertical-align:top;font-weight:normal}
table.regression thead tr:last-child th{border-bottom:0.75pt solid #000}
table.regression td:not(:first-child),table.regression th:not(:first-child){text-align:center}
table.regression td:first-child,table.regression th:first-child{text-align:left}
table.regression td.num{white-space:nowrap}
table.regression tr.footer td{border-top:0.75pt solid #000}
table.regression caption{text-align:left;padding:0.3rem 0}
table.regression.text-last td:last-child,table.regression.text-last th:last-child{text-align:left}
table.regression.text-last td:not(:last-child){white-space:nowrap}
";

/// A table (the HTML of a [`regression_table_with`]) as a page of its own:
/// Word opens it (File > Open) or takes it pasted from a browser with its
/// rules, alignment and minus signs; serif type at 11 pt as in a manuscript.
///
/// ```
/// let page = concord::report::tables::html_document("<table class=\"regression\"></table>", "Table 1");
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<title>Table 1</title>"));
/// ```
pub fn html_document(table: &str, title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\nbody{{font-family:'Times New Roman',Times,serif;font-size:11pt;margin:2rem auto;max-width:60rem;padding:0 1rem}}\n{TABLE_CSS}p.note{{font-size:10pt}}\n</style>\n</head>\n<body>\n{table}</body>\n</html>\n",
        esc_html(title)
    )
}

/// A number in a format: a true minus sign, stars as superscripts.
fn render_num(s: &str, stars: &str, format: Format) -> String {
    match format {
        Format::Markdown => format!("{}{}", s.replace('-', "−"), stars.replace('*', "\\*")),
        Format::Html => format!(
            "{}{}",
            s.replace('-', "−"),
            if stars.is_empty() { String::new() } else { format!("<sup>{stars}</sup>") }
        ),
        Format::Latex => format!(
            "{}{}",
            esc_latex(s).replace('-', "$-$"),
            if stars.is_empty() { String::new() } else { format!("$^{{{stars}}}$") }
        ),
    }
}

/// Split `s` into lines of at most about `width` characters at spaces.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in s.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// LaTeX text width of the standalone document (US letter, 1 in margins), pt.
const TEXT_WIDTH_PT: f64 = 468.0;

impl Grid {
    fn ncols(&self) -> usize {
        self.header.iter().chain(self.sections.iter().flatten()).map(Vec::len).max().unwrap_or(1)
    }

    fn render(&self, format: Format) -> String {
        match format {
            Format::Markdown => self.markdown(),
            Format::Latex => self.latex(),
            Format::Html => self.html(),
        }
    }

    fn md_cells(row: &[Cell]) -> String {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => md_cell(s).replace('*', "\\*"),
                Cell::Num(s, st) => render_num(s, st, Format::Markdown),
            })
            .collect();
        format!("| {} |\n", cells.join(" | "))
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        if let Some(c) = &self.caption {
            out.push_str(&format!("Table: {}\n\n", c.replace('\n', " ")));
        }
        let n = self.ncols();
        let mut rows = self.header.iter();
        match rows.next() {
            Some(h) => out.push_str(&Self::md_cells(h)),
            None => out.push_str(&Self::md_cells(&vec![Cell::text(""); n])),
        }
        out.push_str(&format!("|{}\n", " --- |".repeat(n)));
        for r in rows.chain(self.sections.iter().flatten()) {
            out.push_str(&Self::md_cells(r));
        }
        if !self.notes.is_empty() {
            out.push_str(&format!("\nNotes: {}\n", self.notes.join(" ").replace('\n', " ")));
        }
        out
    }

    fn html(&self) -> String {
        let mut out = String::from("<div class=\"table-wrap\">\n<table class=\"regression\">\n");
        if let Some(c) = &self.caption {
            out.push_str(&format!("<caption>{}</caption>\n", esc_html(c)));
        }
        let cell = |c: &Cell, tag: &str| match c {
            Cell::Text(s) => format!("<{tag}>{}</{tag}>", esc_html(s)),
            Cell::Num(s, st) => format!("<{tag} class=\"num\">{}</{tag}>", render_num(s, st, Format::Html)),
        };
        out.push_str("<thead>\n");
        for r in &self.header {
            out.push_str("<tr>");
            for c in r {
                out.push_str(&cell(c, "th"));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</thead>\n<tbody>\n");
        for (k, section) in self.sections.iter().enumerate() {
            for (i, r) in section.iter().enumerate() {
                out.push_str(if i == 0 && k > 0 { "<tr class=\"footer\">" } else { "<tr>" });
                for c in r {
                    out.push_str(&cell(c, "td"));
                }
                out.push_str("</tr>\n");
            }
        }
        out.push_str("</tbody>\n</table>\n</div>\n");
        if !self.notes.is_empty() {
            out.push_str(&format!("<p class=\"note\">Notes: {}</p>\n", esc_html(&self.notes.join(" "))));
        }
        out
    }

    /// Estimated natural width (pt at \small) of the tabular, with header
    /// text wrapped at `wrap_at` characters.
    fn latex_width(&self, wrap_at: usize) -> f64 {
        let n = self.ncols();
        let mut widths = vec![0usize; n];
        for (i, r) in self.header.iter().enumerate() {
            for (j, c) in r.iter().enumerate() {
                let w = if j == 0 || i + 1 == self.header.len() {
                    c.plain().chars().count()
                } else {
                    wrap(c.plain(), wrap_at).iter().map(|l| l.chars().count()).max().unwrap_or(0)
                };
                widths[j] = widths[j].max(w);
            }
        }
        for r in self.sections.iter().flatten() {
            for (j, c) in r.iter().enumerate() {
                let extra = if let Cell::Num(_, st) = c { st.len() } else { 0 };
                widths[j] = widths[j].max(c.plain().chars().count() + extra);
            }
        }
        // About 5 pt a character at \small, 12 pt of column separation.
        widths.iter().map(|w| *w as f64 * 5.0 + 12.0).sum()
    }

    fn latex(&self) -> String {
        let n = self.ncols();
        const WRAP: usize = 14;
        // Past the text width: a tabularx at the text width whose columns
        // wrap, in a smaller font (the last resort before resizing).
        let wide = self.latex_width(WRAP) > TEXT_WIDTH_PT;
        let mut out = String::new();
        if self.fragment {
            out.push_str(if wide {
                "% A tabular fragment: needs \\usepackage{booktabs} and \\usepackage{tabularx} in the preamble.\n"
            } else {
                "% A tabular fragment: needs \\usepackage{booktabs} in the preamble.\n"
            });
        } else {
            out.push_str(
                "\\documentclass[11pt]{article}\n\\usepackage[letterpaper,margin=1in]{geometry}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage{tabularx}\n\\usepackage{caption}\n\\begin{document}\n\\begin{table}[htbp]\n\\centering\n",
            );
            if let Some(c) = &self.caption {
                out.push_str(&format!("\\caption{{{}}}\n", esc_latex(c)));
            }
            if let Some(l) = &self.label {
                out.push_str(&format!("\\label{{{}}}\n", l.replace(['{', '}', '\\'], "")));
            }
        }
        out.push_str(if wide { "\\footnotesize\n" } else { "\\small\n" });
        let cell = |c: &Cell, head: bool, j: usize| -> String {
            match c {
                Cell::Num(s, st) => render_num(s, st, Format::Latex),
                Cell::Text(s) if head && j > 0 && !wide && s.chars().count() > WRAP => {
                    let lines: Vec<String> = wrap(s, WRAP).iter().map(|l| esc_latex(l)).collect();
                    format!("\\begin{{tabular}}[b]{{@{{}}c@{{}}}}{}\\end{{tabular}}", lines.join("\\\\"))
                }
                Cell::Text(s) => esc_latex(s),
            }
        };
        let row = |r: &[Cell], head: bool| -> String {
            let mut cells: Vec<String> = r.iter().enumerate().map(|(j, c)| cell(c, head, j)).collect();
            cells.resize(n, String::new());
            format!("{} \\\\\n", cells.join(" & "))
        };
        let (open, close) = if wide {
            (
                format!(
                    "\\begin{{tabularx}}{{\\linewidth}}{{@{{}}>{{\\raggedright\\arraybackslash}}p{{0.24\\linewidth}}*{{{}}}{{>{{\\centering\\arraybackslash\\hspace{{0pt}}}}X}}@{{}}}}\n",
                    n.saturating_sub(1)
                ),
                "\\end{tabularx}\n",
            )
        } else {
            (format!("\\begin{{tabular}}{{@{{}}l*{{{}}}{{c}}@{{}}}}\n", n.saturating_sub(1)), "\\end{tabular}\n")
        };
        out.push_str(&open);
        out.push_str("\\toprule\n");
        for r in &self.header {
            out.push_str(&row(r, true));
        }
        for section in &self.sections {
            out.push_str("\\midrule\n");
            for r in section {
                out.push_str(&row(r, false));
            }
        }
        out.push_str("\\bottomrule\n");
        out.push_str(close);
        if !self.notes.is_empty() {
            out.push_str(&format!(
                "\\par\\smallskip\n\\parbox{{\\linewidth}}{{\\footnotesize\\textit{{Notes:}} {}}}\n",
                esc_latex(&self.notes.join(" "))
            ));
        }
        if !self.fragment {
            out.push_str("\\end{table}\n\\end{document}\n");
        }
        out
    }
}

/// `x` with `d` decimals and thousands separators; never "-0.000".
fn fixed(x: f64, d: usize) -> String {
    let s = format!("{:.*}", d, x);
    let s = if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    };
    let (sign, rest) = if let Some(r) = s.strip_prefix('-') { ("-", r) } else { ("", s.as_str()) };
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(a, b)| (a, Some(b)));
    format!("{sign}{}{}", thousands(int), frac.map(|f| format!(".{f}")).unwrap_or_default())
}

/// Digits of a whole number grouped by commas: "634393" -> "634,393".
pub fn thousands(int: &str) -> String {
    let digits: Vec<char> = int.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(*c);
    }
    out
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

/// Whether `term` (or its label) matches a pattern with `*` wildcards.
fn matches(pattern: &str, term: &str, label: &str) -> bool {
    glob(pattern, term) || glob(pattern, label)
}

fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i + 1 == parts.len() {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(k) => rest = &rest[k + p.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Decimals for a column of estimates with these standard errors.
fn auto_digits(ses: &[f64]) -> usize {
    let min = ses.iter().copied().filter(|s| *s > 0.0 && s.is_finite()).fold(f64::INFINITY, f64::min);
    if !min.is_finite() {
        return 3;
    }
    let need = 1 - min.log10().floor() as i64;
    need.clamp(3, 6) as usize
}

/// Models side by side (the study report's and `concord table`'s layout).
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit, Family, FitOptions};
/// use concord::report::tables::{regression_table_with, FitSummary, Format, TableOptions};
/// let df = df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0], "x" => [0.0, 2.0, 1.0, 4.0, 3.0]).unwrap();
/// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
/// let o = TableOptions { digits: Some(3), ..Default::default() };
/// let t = regression_table_with(&[FitSummary::from(&f)], &o, Format::Markdown).unwrap();
/// assert!(t.contains("| x | 1.000 |"), "{t}");
/// assert!(t.contains("| Observations | 5 |"), "{t}");
/// ```
pub fn regression_table_with(fits: &[FitSummary], o: &TableOptions, format: Format) -> Result<String, String> {
    let k = fits.len();
    if k == 0 {
        return Err("a regression table needs at least one fit".into());
    }
    if !o.titles.is_empty() && o.titles.len() != k {
        return Err(format!("{} titles for {k} models", o.titles.len()));
    }
    for (label, cells) in &o.add_rows {
        if cells.len() != k {
            return Err(format!("added row `{label}` has {} cells for {k} models", cells.len()));
        }
    }
    let l = &o.labels;
    // Terms in order of appearance; the constant last.
    let mut terms: Vec<String> = Vec::new();
    for f in fits {
        for c in f.printable() {
            if !terms.contains(&c.term) {
                terms.push(c.term.clone());
            }
        }
    }
    if let Some(i) = terms.iter().position(|t| t == "(Intercept)") {
        let t = terms.remove(i);
        terms.push(t);
    }
    let peace: Vec<bool> = fits.iter().map(|f| f.printable().any(|c| is_peace_years_term(&c.term))).collect();
    if o.peace_years_row {
        terms.retain(|t| !is_peace_years_term(t));
    }
    let all = terms.clone();
    let check = |flag: &str, pats: &[String]| -> Result<(), String> {
        for p in pats {
            if !all.iter().any(|t| matches(p, t, &l.term(t))) {
                return Err(format!("{flag} `{p}` matches no term (terms: {})", all.join(", ")));
            }
        }
        Ok(())
    };
    check("--keep", &o.keep)?;
    check("--drop", &o.drop)?;
    check("--order", &o.order)?;
    if !o.keep.is_empty() {
        terms.retain(|t| o.keep.iter().any(|p| matches(p, t, &l.term(t))));
    }
    terms.retain(|t| !o.drop.iter().any(|p| matches(p, t, &l.term(t))));
    let mut ordered: Vec<String> = Vec::new();
    for p in &o.order {
        for t in &terms {
            if matches(p, t, &l.term(t)) && !ordered.contains(t) {
                ordered.push(t.clone());
            }
        }
    }
    for t in &terms {
        if !ordered.contains(t) {
            ordered.push(t.clone());
        }
    }
    let terms = ordered;

    // Header: titles, dependent variable, model numbers.
    let mut header: Vec<Vec<Cell>> = Vec::new();
    if !o.titles.is_empty() {
        header.push(std::iter::once(Cell::text("")).chain(o.titles.iter().map(Cell::text)).collect());
    }
    header.push(
        std::iter::once(Cell::text("Dependent variable"))
            .chain(fits.iter().map(|f| Cell::text(l.outcome(&f.formula))))
            .collect(),
    );
    header.push(std::iter::once(Cell::text("")).chain((1..=k).map(|i| Cell::text(format!("({i})")))).collect());
    if format == Format::Markdown {
        // Markdown has one header row: the model numbers lead.
        let numbers = header.pop().unwrap_or_default();
        header.insert(0, numbers);
    }

    // Coefficients.
    let digits: Vec<usize> = fits
        .iter()
        .map(|f| {
            o.digits.unwrap_or_else(|| {
                let ses: Vec<f64> = f.printable().filter(|c| terms.contains(&c.term)).map(|c| c.std_error).collect();
                auto_digits(&ses)
            })
        })
        .collect();
    let mut coefs = Vec::new();
    for t in &terms {
        let mut est = vec![Cell::text(l.term(t))];
        let mut se = vec![Cell::text("")];
        for (f, d) in fits.iter().zip(&digits) {
            match f.printable().find(|c| &c.term == t) {
                Some(c) => {
                    est.push(Cell::Num(fixed(c.estimate, *d), if o.stars { stars(c.p_value) } else { "" }));
                    se.push(Cell::Num(format!("({})", fixed(c.std_error, *d)), ""));
                }
                None => {
                    est.push(Cell::text(""));
                    se.push(Cell::text(""));
                }
            }
        }
        coefs.push(est);
        coefs.push(se);
    }

    // Indicators: fixed effects, peace years, added rows.
    let yes = |b: bool| Cell::text(if b { "Yes" } else { "No" });
    let mut indicators = Vec::new();
    let mut fes: Vec<String> = Vec::new();
    for f in fits {
        for fe in &f.fixed_effects {
            if !fes.contains(&fe.name) {
                fes.push(fe.name.clone());
            }
        }
    }
    for fe in &fes {
        let name = l.fixed_effect(fe);
        let mut c = name.chars();
        let name: String = c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
        let mut r = vec![Cell::text(format!("{name} fixed effects"))];
        r.extend(fits.iter().map(|f| yes(f.fixed_effects.iter().any(|x| &x.name == fe))));
        indicators.push(r);
    }
    if o.peace_years_row && peace.iter().any(|p| *p) {
        let spline = fits.iter().any(|f| f.coefficients.iter().any(|c| c.term.starts_with("ns(peace_years,")));
        let mut r = vec![Cell::text(if spline { "Peace years (spline)" } else { "Peace years (cubic)" })];
        r.extend(peace.iter().map(|p| yes(*p)));
        indicators.push(r);
    }
    for (label, cells) in &o.add_rows {
        indicators.push(std::iter::once(Cell::text(label)).chain(cells.iter().map(Cell::text)).collect());
    }

    // Statistics.
    let mut stats = Vec::new();
    let stat = |label: &str, get: &dyn Fn(&FitSummary) -> Option<String>| -> Vec<Cell> {
        std::iter::once(Cell::text(label))
            .chain(fits.iter().map(|f| get(f).map_or(Cell::text(""), |s| Cell::Num(s, ""))))
            .collect()
    };
    stats.push(stat("Observations", &|f| Some(thousands(&f.nobs.to_string()))));
    let mut cl: Vec<String> = Vec::new();
    for f in fits {
        for c in &f.clusters {
            if !cl.contains(&c.name) {
                cl.push(c.name.clone());
            }
        }
    }
    for c in &cl {
        let label = format!("Clusters ({})", l.fixed_effect(c).to_lowercase());
        stats.push(stat(&label, &|f| {
            f.clusters.iter().find(|x| &x.name == c).map(|x| thousands(&x.levels.to_string()))
        }));
    }
    if fits.iter().any(|f| f.r2.is_some()) {
        stats.push(stat("R²", &|f| f.r2.map(|v| fixed(v, 3))));
    }
    if fits.iter().any(|f| f.within_r2.is_some()) {
        stats.push(stat("Within R²", &|f| f.within_r2.map(|v| fixed(v, 3))));
    }
    if fits.iter().any(|f| f.pseudo_r2.is_some()) {
        stats.push(stat("Pseudo R²", &|f| f.pseudo_r2.map(|v| fixed(v, 3))));
    }
    stats.push(stat("Log-likelihood", &|f| f.loglik.map(|v| fixed(v, 1))));
    stats.push(stat("AIC", &|f| f.aic.map(|v| fixed(v, 1))));
    // One vcov for all models is said in the note; else a row per model.
    if fits.iter().any(|f| f.vcov != fits[0].vcov) {
        let mut vcov = vec![Cell::text("Std. errors")];
        vcov.extend(fits.iter().map(|f| Cell::text(l.vcov(&f.vcov))));
        stats.push(vcov);
    }
    let mut model = vec![Cell::text("Estimator")];
    model.extend(fits.iter().map(|f| Cell::text(l.family(&f.family))));
    stats.push(model);

    // Notes.
    let mut notes = Vec::new();
    let vcovs: Vec<String> = fits.iter().map(|f| l.vcov(&f.vcov).to_lowercase()).collect();
    if vcovs.iter().all(|v| v == &vcovs[0]) {
        notes.push(format!("Standard errors ({}) in parentheses.", vcovs[0]));
    } else {
        notes.push("Standard errors in parentheses (vcov per model in the row above).".into());
    }
    if o.stars {
        notes.push("* p < 0.05, ** p < 0.01, *** p < 0.001 (two-sided, not adjusted for multiple testing).".into());
    }
    let mut dropped = Vec::new();
    for (i, f) in fits.iter().enumerate() {
        for t in f.unprintable() {
            dropped.push(format!("{} in ({})", l.term(&t), i + 1));
        }
    }
    if !dropped.is_empty() {
        notes.push(format!(
            "Not estimable and not shown (collinear with other regressors or the fixed effects): {}.",
            dropped.join("; ")
        ));
    }
    notes.extend(o.notes.iter().cloned());

    let sections: Vec<Vec<Vec<Cell>>> =
        [coefs, indicators, stats].into_iter().filter(|s: &Vec<Vec<Cell>>| !s.is_empty()).collect();
    Ok(Grid { header, sections, notes, caption: o.caption.clone(), label: o.label.clone(), fragment: o.fragment }
        .render(format))
}

/// Models side by side with default options (labels, no stars unless
/// `with_stars`, titles as a row): see [`regression_table_with`].
///
/// ```
/// use polars::prelude::*;
/// use concord::estimate::{fit, Family, FitOptions};
/// use concord::report::tables::{regression_table, FitSummary, Format};
/// let df = df!("y" => [1.0, 3.0, 2.0, 5.0, 4.0], "x" => [0.0, 2.0, 1.0, 4.0, 3.0]).unwrap();
/// let f = fit(&df, "y ~ x", Family::Gaussian, &FitOptions::default()).unwrap();
/// let t = regression_table(&["OLS".into()], &[FitSummary::from(&f)], true, Format::Markdown);
/// assert!(t.contains("| x | 1.000") && t.contains("\\*\\*\\*"), "{t}");
/// ```
pub fn regression_table(titles: &[String], fits: &[FitSummary], with_stars: bool, format: Format) -> String {
    let o = TableOptions { titles: titles.to_vec(), stars: with_stars, ..Default::default() };
    regression_table_with(fits, &o, format).unwrap_or_else(|e| format!("(no table: {e})\n"))
}

/// Descriptive statistics of a panel: N, mean, SD, min, max of every
/// variable (identifier columns left out), with labels and units.
pub fn descriptive_table(d: &Description, format: Format) -> String {
    descriptive_table_with(d, &[], &Labels::default(), format)
}

/// [`descriptive_table`] with standard deviations (`sds`: column, SD) and labels.
pub fn descriptive_table_with(d: &Description, sds: &[(String, f64)], labels: &Labels, format: Format) -> String {
    let mut header = vec![Cell::text("Variable"), Cell::text("N"), Cell::text("Mean")];
    let with_sd = !sds.is_empty();
    if with_sd {
        header.push(Cell::text("SD"));
    }
    header.extend([Cell::text("Min"), Cell::text("Max")]);
    let body: Vec<Vec<Cell>> = d
        .columns
        .iter()
        // Quartiles by year describe another column's spread, not a variable.
        .filter(|c| c.mean.is_some() && !KEY_COLUMNS.contains(&c.name.as_str()))
        .filter(|c| !(c.name.starts_with("q25_") || c.name.starts_with("q75_")))
        .map(|c| {
            let sd = sds.iter().find(|(n, _)| n == &c.name).map(|(_, s)| *s);
            // Whole-number columns (counts, indicators) print min/max without decimals.
            let whole = [c.min, c.max].iter().flatten().all(|v| v.fract() == 0.0);
            let mag = c.max.unwrap_or(0.0).abs().max(c.min.unwrap_or(0.0).abs());
            let dec = if mag >= 1000.0 {
                1
            } else if mag > 0.0 && mag < 0.1 {
                5
            } else {
                3
            };
            let num = |v: Option<f64>, d: usize| v.map_or(Cell::text(""), |v| Cell::Num(fixed(v, d), ""));
            let mut r = vec![Cell::text(labels.var_with_unit(&c.name)), Cell::Num(thousands(&c.n.to_string()), "")];
            r.push(num(c.mean, dec));
            if with_sd {
                r.push(num(sd, dec));
            }
            r.push(num(c.min, if whole { 0 } else { dec }));
            r.push(num(c.max, if whole { 0 } else { dec }));
            r
        })
        .collect();
    let note = format!(
        "{} rows{}{}; N counts non-missing values; identifier columns are not summarised.",
        thousands(&d.rows.to_string()),
        d.years.map(|(a, b)| format!(", years {a}-{b}")).unwrap_or_default(),
        d.units.map(|u| format!(", {} units", thousands(&u.to_string()))).unwrap_or_default()
    );
    Grid { header: vec![header], sections: vec![body], notes: vec![note], caption: None, label: None, fragment: true }
        .render(format)
}

/// A table of text and number columns (`numeric`, one flag per column; a
/// number takes a true minus sign and stays on one line), with notes, as a
/// fragment: for tables that are neither regressions nor descriptions, such
/// as a study's measurement-validity table.
///
/// ```
/// use concord::report::tables::{plain_table, Format};
/// let rows = vec![vec!["USA".to_string(), "-0.5".to_string()]];
/// let md = plain_table(&["case", "value"], &rows, &[false, true], &[], Format::Markdown);
/// assert!(md.contains("| USA | −0.5 |"), "{md}");
/// ```
pub fn plain_table(
    header: &[&str],
    rows: &[Vec<String>],
    numeric: &[bool],
    notes: &[String],
    format: Format,
) -> String {
    let body = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(j, s)| {
                    if numeric.get(j).copied().unwrap_or(false) {
                        Cell::Num(s.clone(), "")
                    } else {
                        Cell::text(s.clone())
                    }
                })
                .collect()
        })
        .collect();
    Grid {
        header: vec![header.iter().map(|h| Cell::text(*h)).collect()],
        sections: vec![body],
        notes: notes.to_vec(),
        caption: None,
        label: None,
        fragment: true,
    }
    .render(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_fixed_with_separators_and_never_negative_zero() {
        assert_eq!(fixed(634393.0, 0), "634,393");
        assert_eq!(fixed(-17670.64, 1), "-17,670.6");
        assert_eq!(fixed(-0.00001, 3), "0.000");
        assert_eq!(fixed(0.00051, 5), "0.00051");
        assert_eq!(auto_digits(&[0.02, 0.0021]), 4);
        assert_eq!(auto_digits(&[7.89e-4]), 5);
        assert_eq!(auto_digits(&[4e-9]), 6);
        assert_eq!(auto_digits(&[0.5]), 3);
    }

    #[test]
    fn markdown_cells_escape_pipes_once() {
        assert_eq!(md_cell("a | b"), "a \\| b");
        assert_eq!(md_cell("a \\| b"), "a \\| b");
        assert_eq!(md_cell("x\ny"), "x y");
        assert_eq!(md_row(&["`y ~ x | id`", "2"]), "| `y ~ x \\| id` | 2 |");
    }

    #[test]
    fn globs_match_terms_and_labels() {
        assert!(glob("l(*", "l(igo_full,1)"));
        assert!(glob("*igo*", "l(igo_full,1)"));
        assert!(!glob("igo", "l(igo_full,1)"));
        assert!(matches("Full IGO*", "l(igo_full,1)", "Full IGO memberships (t-1)"));
    }
}
