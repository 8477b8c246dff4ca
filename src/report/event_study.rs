//! The event studies of a study report (`[[event_study]]`): the figure's
//! caption and the section of index.html, kept apart from `study.rs` so the
//! report of the hypotheses reads on its own.

use std::fmt::Write as _;

use super::labels::Labels;
use super::study::{caption_html, esc, html_num, html_p};
use crate::study::event_study::{period_label, EventStudyResult};

/// The caption of an event study's figure.
pub(super) fn caption(e: &EventStudyResult, labels: &Labels) -> String {
    let w = e.window;
    let pre = e.pre_trend.as_ref().map_or("no pre-trend test (no lead estimated)".into(), |t| {
        let stat = match t.df2 {
            Some(d) => format!("F({}, {d})", t.df1),
            None => format!("chi-square({})", t.df1),
        };
        format!(
            "pre-trend test of the leads jointly zero: {stat} = {:.2}, p = {:.4}{}",
            t.statistic,
            t.p_value,
            if t.failed { ": the test fails" } else { "" }
        )
    });
    format!(
        "Figure: Event study `{}`. {} in the years around the first year with {} = 1 ({}, {}-{}): coefficients of `i(rel_year, ref = -1)` in `{}` ({}, vcov {}), with 90% (thick) and 95% (thin) intervals; the hollow point is the reference year −1; the end bins {} and {} hold every year beyond them; never-treated units carry year −1 throughout. N = {}, {} units switching on, {} never treated; {}. Associations, not effects (see the event-study section).",
        e.name,
        labels.var(&e.outcome).label,
        labels.var(&e.treatment).label,
        e.level,
        e.years.0,
        e.years.1,
        e.formula,
        e.family,
        e.vcov,
        period_label(-w, w),
        period_label(w, w),
        super::tables::thousands(&e.nobs.to_string()),
        e.units_treated,
        e.units_never_treated,
        pre
    )
}

/// The event studies' section of index.html: the design, the pre-trend
/// test and the post-period mean in words, and the coefficients.
pub(super) fn html(results: &[EventStudyResult]) -> String {
    let mut h = String::new();
    if results.is_empty() {
        return h;
    }
    h.push_str("<h2 id=\"event-studies\">Event studies</h2>\n");
    for e in results {
        let lvl = (e.conf_level * 100.0).round();
        let _ = writeln!(
            h,
            "<h3 id=\"event-{0}\">{0}: <code>{1}</code> around <code>{2}</code> = 1</h3>",
            esc(&e.name),
            esc(&e.outcome),
            esc(&e.treatment)
        );
        for p in crate::study::event_study::sentences(e) {
            // **bold** -> <b>, `code` -> <code>.
            let html: String = p
                .split("**")
                .enumerate()
                .map(|(i, part)| if i % 2 == 1 { format!("<b>{}</b>", caption_html(part)) } else { caption_html(part) })
                .collect();
            let _ = writeln!(h, "<p>{html}</p>");
        }
        let _ = write!(
            h,
            "<div class=\"table-wrap\">\n<table>\n<thead><tr><th>year relative to treatment</th><th class=\"num\">estimate</th><th class=\"num\">s.e.</th><th class=\"num\">{lvl}% CI</th><th class=\"num\">p (two-sided)</th><th class=\"num\">treated rows</th></tr></thead>\n<tbody>\n"
        );
        for p in &e.periods {
            let (est, ci) = match (p.reference, p.estimate) {
                (true, _) => ("0 (reference)".to_string(), "–".to_string()),
                (false, None) => ("not estimated".to_string(), "–".to_string()),
                (false, Some(v)) => {
                    (html_num(Some(v)), format!("[{}, {}]", html_num(p.conf_low), html_num(p.conf_high)))
                }
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\">{est}</td><td class=\"num\">{}</td><td class=\"num\">{ci}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&p.label.replace('-', "−")),
                html_num(p.std_error),
                html_p(p.p_value),
                p.treated_rows
            );
        }
        let _ = writeln!(
            h,
            "</tbody>\n</table>\n</div>\n<p class=\"note\">Figure: <a href=\"#figures-event_{0}\">event_{0}</a>; all numbers in <a href=\"event_study.json\">event_study.json</a>.</p>",
            esc(&e.name)
        );
    }
    h
}
