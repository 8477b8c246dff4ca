//! The report of a replication: published and concord's estimates side by
//! side (Markdown, a standalone HTML page and JSON), a figure of the two, the
//! fit, and a manifest of inputs and outputs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::registry::sha256_file;
use crate::data::write::write_text;
use crate::plot::figures::{CoefPlot, CoefRow};
use crate::plot::{save, TWO_COLUMN};
use crate::study::replication::{ReplicationResult, Row};
use crate::study::StudyError;

/// A number with `d` decimals and a true minus sign; a dash when missing.
fn num(x: Option<f64>, d: usize) -> String {
    match x {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.d$}");
            let zero = s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.');
            if zero {
                s.trim_start_matches('-').to_string()
            } else {
                s.replace('-', "\u{2212}")
            }
        }
        _ => "\u{2013}".into(),
    }
}

fn yes_no(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "yes",
        Some(false) => "no",
        None => "\u{2013}",
    }
}

/// The comparison table's cells, row by row (shared by Markdown and HTML).
fn cells(r: &ReplicationResult) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let head = vec![
        "Term",
        "Published",
        "(s.e.)",
        "concord",
        "(s.e.)",
        "Difference",
        "In published s.e.",
        "Same sign",
        "Within",
    ];
    let body = r
        .rows
        .iter()
        .map(|row: &Row| {
            let published = match (row.published, row.published_sign) {
                (Some(b), _) => num(Some(b), 3),
                (None, Some(s)) if s > 0.0 => "+ (sign)".into(),
                (None, Some(_)) => "\u{2212} (sign)".into(),
                _ => "\u{2013}".into(),
            };
            vec![
                row.label.clone(),
                published,
                row.published_se.map(|s| format!("({})", num(Some(s), 3))).unwrap_or_default(),
                num(row.concord, 3),
                row.concord_se.map(|s| format!("({})", num(Some(s), 3))).unwrap_or_default(),
                num(row.difference, 3),
                num(row.difference_se, 1),
                yes_no(row.same_sign).into(),
                yes_no(row.within).into(),
            ]
        })
        .collect();
    (head, body)
}

fn summary_line(r: &ReplicationResult) -> String {
    let mut s = format!("Signs agree on {} of {} terms", r.signs_agree, r.signs_compared);
    if r.within_compared > 0 {
        s.push_str(&format!(
            "; {} of {} estimates are within {} published standard errors of the published value",
            r.within, r.within_compared, r.spec.replication.within_se
        ));
    }
    s.push('.');
    s
}

fn sample_line(r: &ReplicationResult) -> String {
    let d = &r.spec.data;
    let level = serde_json::to_value(d.level).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let published_n =
        r.spec.replication.published_n.map(|n| format!(" (published: {})", thousands(n))).unwrap_or_default();
    format!(
        "{}{level} panel {}-{}: {} rows; {} used after listwise deletion{published_n}. Model: `{}`, {}, {} standard errors. The fit converged in {} iterations (gradient norm {:.1e}).",
        if d.relevant { "Politically relevant " } else { "" },
        d.from,
        d.to,
        thousands(r.panel_rows),
        thousands(r.fit.nobs),
        r.spec.model.formula,
        r.spec.model.family,
        r.spec.model.vcov,
        r.fit.iterations,
        r.fit.gradient_norm
    )
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The comparison as Markdown.
pub fn markdown(r: &ReplicationResult) -> String {
    let a = &r.spec.replication;
    let mut md = format!("# Replication: {}\n\nPublished: {}.\n\n{}\n\n", a.title, a.source, sample_line(r));
    let (head, body) = cells(r);
    md.push_str(&format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len())));
    for row in body {
        md.push_str(&format!("| {} |\n", row.iter().map(|c| c.replace('|', "\\|")).collect::<Vec<_>>().join(" | ")));
    }
    md.push_str(&format!(
        "\n{} Difference = concord minus published; \"in published s.e.\" divides it by the published standard error; \"within\" is |difference| <= {} published s.e.\n",
        summary_line(r),
        a.within_se
    ));
    if !r.scaling.is_empty() {
        md.push_str("\n## Scaled by two standard deviations (over every row of the panel)\n\n| Column | Mean | S.d. | Rows |\n|---|---|---|---|\n");
        for s in &r.scaling {
            md.push_str(&format!("| {} | {:.6} | {:.6} | {} |\n", s.column, s.mean, s.sd, thousands(s.n)));
        }
    }
    if !r.spec.derive.is_empty() {
        md.push_str("\n## Derived variables\n\n");
        for d in &r.spec.derive {
            md.push_str(&format!("- `{} = {}`\n", d.name, d.expr));
        }
    }
    if !a.differences.is_empty() {
        md.push_str("\n## Known differences from the published data (stated before the run)\n\n");
        for d in &a.differences {
            md.push_str(&format!("- {d}\n"));
        }
    }
    md.push_str("\n## Inputs (SHA-256)\n\n");
    for (f, h) in &r.inputs {
        md.push_str(&format!("- `{f}` {h}\n"));
    }
    md
}

/// The comparison as an HTML table (a fragment).
pub fn html_table(r: &ReplicationResult) -> String {
    use crate::report::tables::esc_html;
    let (head, body) = cells(r);
    let mut h = String::from("<div class=\"table-wrap\"><table class=\"regression\">\n");
    h.push_str(&format!("<caption>{}</caption>\n<thead><tr>", esc_html(&r.spec.replication.title)));
    for c in &head {
        h.push_str(&format!("<th>{}</th>", esc_html(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in body {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let tag = if i == 0 { "th scope=\"row\"" } else { "td" };
            h.push_str(&format!("<{tag}>{}</{}>", esc_html(c), &tag[..2]));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    h.push_str(&format!("<p class=\"note\">{} {}</p>\n", esc_html(&summary_line(r)), esc_html(&sample_line(r))));
    h.push_str(&format!("<p class=\"note\">Published: {}.</p>\n", esc_html(&r.spec.replication.source)));
    h
}

/// Published (blue) and concord's (black) estimates with their 95% (and
/// 90%) intervals, term by term, without the intercept (on its own scale
/// it would squeeze the rest); terms with only a published sign show
/// concord's estimate alone.
pub fn figure(r: &ReplicationResult) -> CoefPlot {
    let z95 = 1.959_963_984_540_054;
    let z90 = 1.644_853_626_951_472_2;
    let mut rows = Vec::new();
    for row in r.rows.iter().filter(|row| row.term != "(Intercept)") {
        let mut push = |who: &str, b: f64, s: f64, highlight: bool, n: Option<usize>| {
            rows.push(CoefRow {
                label: format!("{}, {who}", row.label),
                estimate: b,
                lo90: b - z90 * s,
                hi90: b + z90 * s,
                lo95: b - z95 * s,
                hi95: b + z95 * s,
                highlight,
                estimand: "log-odds coefficient".into(),
                n: n.map(thousands),
            });
        };
        if let (Some(b), Some(s)) = (row.published, row.published_se) {
            push("published", b, s, false, r.spec.replication.published_n);
        }
        if let (Some(b), Some(s)) = (row.concord, row.concord_se) {
            push("concord", b, s, true, Some(r.fit.nobs));
        }
    }
    CoefPlot {
        title: format!("{}: published (blue) and concord (black)", r.spec.replication.name_for_figure()),
        x_label: "Coefficient (log-odds)".into(),
        rows,
        width: TWO_COLUMN,
        label_estimands: false,
        note: Some(summary_line(r)),
    }
}

/// The index of several replications (`reports/replications/README.md`):
/// one line each with the rows used, the signs and the distances, linking
/// to each one's folder.
pub fn index(results: &[(String, ReplicationResult)]) -> String {
    let mut md = String::from(
        "# Replications of published results from concord's panels\n\nWritten by `concord run`; each folder has the comparison (replication.md, .html, .json), the figure, the fit and a manifest. Run one with `concord study run studies/replications/NAME.toml --out DIR`.\n\n| Replication | Published | N (published) | Signs agree | Within 2 published s.e. |\n|---|---|---|---|---|\n",
    );
    for (name, r) in results {
        let a = &r.spec.replication;
        md.push_str(&format!(
            "| [{}]({name}/replication.md) | {} | {} ({}) | {} of {} | {} |\n",
            a.title.replace('|', "\\|"),
            a.source.replace('|', "\\|"),
            thousands(r.fit.nobs),
            a.published_n.map_or("not given".into(), thousands),
            r.signs_agree,
            r.signs_compared,
            if r.within_compared > 0 {
                format!("{} of {}", r.within, r.within_compared)
            } else {
                "no published magnitudes".into()
            }
        ));
    }
    md
}

#[derive(Serialize)]
struct Manifest<'a> {
    concord_version: &'static str,
    command: String,
    replication: &'a str,
    replication_file: String,
    replication_sha256: String,
    inputs: &'a [(String, String)],
    outputs: Vec<(String, String)>,
    seconds: f64,
}

/// Write the replication's report into `out`: `replication.md`,
/// `replication.html`, `replication.json`, `fit.json`, the figure
/// `comparison.svg/.png`, and `manifest.json` (last). Returns the files.
pub fn write(r: &ReplicationResult, file: &Path, out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    let output = |e: String| StudyError::Output(e);
    let mut written = Vec::new();
    let md = out.join("replication.md");
    write_text(&md, &markdown(r))?;
    written.push(md);
    let html = out.join("replication.html");
    let page = crate::report::tables::html_document(&html_table(r), &r.spec.replication.title);
    write_text(&html, &page)?;
    written.push(html);
    let json = out.join("replication.json");
    write_text(&json, &serde_json::to_string_pretty(r).map_err(|e| output(e.to_string()))?)?;
    written.push(json);
    let fit = out.join("fit.json");
    write_text(&fit, &r.fit.to_json())?;
    written.push(fit);
    let plot = figure(r);
    let [svg, png] = save(&plot, &out.join("comparison")).map_err(|e| output(e.to_string()))?;
    written.extend([svg, png]);
    let outputs = written
        .iter()
        .map(|p| Ok((p.strip_prefix(out).unwrap_or(p).display().to_string(), sha256_file(p)?)))
        .collect::<Result<Vec<_>, crate::data::DataError>>()?;
    let manifest = Manifest {
        concord_version: env!("CARGO_PKG_VERSION"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        replication: &r.spec.replication.name,
        replication_file: file.display().to_string(),
        replication_sha256: sha256_file(file)?,
        inputs: &r.inputs,
        outputs,
        seconds: r.seconds,
    };
    let mp = out.join("manifest.json");
    write_text(&mp, &serde_json::to_string_pretty(&manifest).map_err(|e| output(e.to_string()))?)?;
    written.push(mp);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_true_minus_and_no_negative_zero() {
        assert_eq!(num(Some(-0.1234), 3), "\u{2212}0.123");
        assert_eq!(num(Some(-0.0001), 3), "0.000");
        assert_eq!(num(None, 3), "\u{2013}");
        assert_eq!(thousands(103919), "103,919");
        assert_eq!(thousands(999), "999");
    }
}
