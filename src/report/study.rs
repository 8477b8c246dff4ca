//! The report of a study: figures (SVG + PNG), regression and descriptive
//! tables (Markdown, LaTeX, HTML) and an `index.html` that shows them in
//! order with captions, with no external assets.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nalgebra::DVector;
use polars::prelude::DataFrame;

use super::tables::{descriptive_table, regression_table, FitSummary, Format};
use crate::estimate::{demean::demean, design_for, fit_with_design, Family, FitOptions};
use crate::formula::design::{quantile_sorted, PanelSpec};
use crate::formula::Formula;
use crate::inference::table;
use crate::plot::{
    save, BandPlot, BinnedScatter, CoefPlot, CoefRow, MediationDiagram, MediatorPath, PlotError, Trends, TrendsPanel,
    ONE_COLUMN, TWO_COLUMN,
};
use crate::study::spec::{Kind, Level, Study};
use crate::study::{SpecResult, StudyResult};

/// One entry of the report: a figure or a table, with its caption.
struct Item {
    /// File stem relative to the report dir (figures: without extension).
    file: String,
    caption: String,
    figure: bool,
    /// HTML of a table (inlined in index.html).
    html: Option<String>,
}

fn column(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    crate::formula::design::numeric(df, name).ok()
}

/// Trends of a system-year panel (the columns present among the usual ones),
/// with an optional marker `(year, label)`.
pub fn trends_figure(df: &DataFrame, mark: Option<(f64, String)>) -> Option<Trends> {
    let years: Vec<f64> = column(df, "year")?.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    let pick = |specs: &[(&str, &str, &str)]| -> Vec<TrendsPanel> {
        specs
            .iter()
            .filter_map(|(c, t, y)| {
                column(df, c).map(|values| TrendsPanel { title: t.to_string(), y_label: y.to_string(), values })
            })
            .collect()
    };
    let left = pick(&[
        ("mean_igo_full", "Mean full IGO memberships", "IGOs per state"),
        ("mean_treaties_cum", "Mean UN treaties ratified", "treaties per state"),
        ("mean_unga_affinity", "Mean UNGA vote affinity", "share of votes alike"),
        ("mean_unga_agree_majority", "Mean agreement with UNGA majority", "share of votes"),
    ]);
    let right = pick(&[
        ("mid_onsets", "MID onsets (COW)", "disputes per year"),
        ("wars", "Inter-state war onsets (COW)", "wars per year"),
        ("ucdp_onsets", "Armed conflict onsets (UCDP)", "onsets per year"),
        ("unsc_vetoes", "UN Security Council vetoes", "vetoes per year"),
    ]);
    if left.is_empty() && right.is_empty() {
        return None;
    }
    Some(Trends { years, left, right, mark })
}

fn same_scale(a: Family, b: Family) -> bool {
    let class = |f: Family| match f {
        Family::Logit | Family::Firth => 0,
        Family::Probit => 1,
        Family::Gaussian => 2,
        Family::Poisson | Family::Negbin => 3,
    };
    class(a) == class(b)
}

fn coef_row(s: &SpecResult, highlight: bool) -> Option<CoefRow> {
    let fit = s.fit.as_ref()?;
    let names: Vec<String> = fit.coefficients.iter().map(|c| c.term.clone()).collect();
    let j = names.iter().position(|n| n == &s.spec.term)?;
    let ninety = table(&names, &fit.beta, &fit.cov, fit.distribution, 0.90).ok()?;
    let ci95 = table(&names, &fit.beta, &fit.cov, fit.distribution, 0.95).ok()?;
    Some(CoefRow {
        label: s.spec.label.clone(),
        estimate: fit.beta[j],
        lo90: ninety[j].conf_low,
        hi90: ninety[j].conf_high,
        lo95: ci95[j].conf_low,
        hi95: ci95[j].conf_high,
        highlight,
    })
}

fn scale_label(f: Family) -> &'static str {
    match f {
        Family::Logit | Family::Firth => "log-odds",
        Family::Probit => "probit index",
        Family::Poisson | Family::Negbin => "log of the expected count",
        Family::Gaussian => "units of the outcome",
    }
}

fn panel(level: Level) -> PanelSpec {
    PanelSpec { unit: vec![level.unit_column().into()], time: "year".into() }
}

/// Predicted probability over the cause of a logit hypothesis (others at means).
fn predicted(h: &crate::study::HypothesisResult, df: &DataFrame) -> Result<Option<BandPlot>, String> {
    let s = &h.main.spec;
    if s.family != Family::Logit || h.main.fit.is_none() {
        return Ok(None);
    }
    let vcov = s.vcov.parse().map_err(|e: crate::inference::InferenceError| e.to_string())?;
    let opts = FitOptions { vcov, panel: Some(panel(s.level)), ..Default::default() };
    predicted_probability(df, &s.formula, s.family, &opts, &s.term, &h.id).map(Some)
}

/// Predicted mean (probability for logit/probit) over the 1st-99th
/// percentile of `term`, other regressors at their means, with a 95%
/// delta-method band and the observed distribution of `term`.
pub fn predicted_probability(
    df: &DataFrame,
    formula: &str,
    family: Family,
    opts: &FitOptions,
    term: &str,
    title: &str,
) -> Result<BandPlot, String> {
    let (fit, design) = fit_with_design(df, formula, family, opts).map_err(|e| e.to_string())?;
    let j = design
        .names
        .iter()
        .position(|n| n == term)
        .ok_or_else(|| format!("no term `{term}` in the model (terms: {})", design.names.join(", ")))?;
    let mut observed: Vec<f64> = design.x.column(j).iter().copied().collect();
    observed.sort_by(f64::total_cmp);
    let (lo, hi) = (quantile_sorted(&observed, 0.01), quantile_sorted(&observed, 0.99));
    let mut points = Vec::new();
    for k in 0..=40 {
        let x = lo + (hi - lo) * f64::from(k) / 40.0;
        let p = fit.predict_at_means(&design, &[(term, x)]).map_err(|e| e.to_string())?;
        points.push((x, p.estimate, p.conf_low, p.conf_high));
    }
    let binary = matches!(family, Family::Logit | Family::Probit | Family::Firth);
    Ok(BandPlot {
        title: format!(
            "{}{} over {term}",
            if title.is_empty() { String::new() } else { format!("{title}: ") },
            if binary { "Probability" } else { "Prediction" }
        ),
        x_label: term.to_string(),
        y_label: if binary { format!("Pr({} = 1)", design.outcome) } else { format!("E[{}]", design.outcome) },
        points,
        observed,
        zero_line: false,
        width: ONE_COLUMN,
    })
}

/// Marginal effect of the cause over the year (cause x year interaction),
/// for a moderation hypothesis: how the effect changes over time.
fn effect_over_time(h: &crate::study::HypothesisResult, df: &DataFrame) -> Result<Option<BandPlot>, String> {
    let s = &h.main.spec;
    let Some((cause, ind)) = s.term.split_once(':') else { return Ok(None) };
    let formula = s.formula.replace(&format!(":{ind}"), ":year").replace(&format!("+ {ind}"), "+ year");
    let vcov = s.vcov.parse().map_err(|e: crate::inference::InferenceError| e.to_string())?;
    let opts = FitOptions { vcov, panel: Some(panel(s.level)), ..Default::default() };
    let (fit, design) = fit_with_design(df, &formula, s.family, &opts).map_err(|e| e.to_string())?;
    let names: Vec<&str> = fit.coefficients.iter().map(|c| c.term.as_str()).collect();
    let inter = format!("{cause}:year");
    if !names.contains(&cause) || !names.contains(&inter.as_str()) {
        return Ok(None);
    }
    let years: Vec<f64> = column(df, "year").unwrap_or_default().into_iter().flatten().collect();
    let observed: Vec<f64> = design.rows.iter().filter_map(|&r| years.get(r).copied()).collect();
    let (y0, y1) = (
        observed.iter().copied().fold(f64::INFINITY, f64::min),
        observed.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let inter = inter.as_str();
    let points = (0..=40)
        .map(|t| {
            let z = y0 + (y1 - y0) * f64::from(t) / 40.0;
            let e = fit.linear_combination(&format!("{cause} in {z}"), &[(cause, 1.0), (inter, z)])?;
            Ok((z, e.estimate, e.conf_low, e.conf_high))
        })
        .collect::<Result<Vec<_>, crate::inference::InferenceError>>()
        .map_err(|e| e.to_string())?;
    Ok(Some(BandPlot {
        title: format!("{}: effect of {cause} by year", h.id),
        x_label: "Year".into(),
        y_label: format!("Effect on {} ({})", design.outcome, scale_label(s.family)),
        points,
        observed,
        zero_line: true,
        width: ONE_COLUMN,
    }))
}

/// Binned scatter of `outcome` against lagged `cause`, both residualised on
/// unit and year fixed effects (means added back), 20 quantile bins.
fn binned(level: Level, outcome: &str, cause: &str, df: &DataFrame) -> Result<BinnedScatter, String> {
    let f = Formula::parse(&format!("{outcome} ~ l({cause},1) | {} + year", level.unit_column()))
        .map_err(|e| e.to_string())?;
    let opts = FitOptions { panel: Some(panel(level)), ..Default::default() };
    let d = design_for(df, &f, &opts).map_err(|e| e.to_string())?;
    let (mut y, mut x) = (d.y.clone(), d.x.clone());
    let (my, mx) = (y.mean(), x.column(0).mean());
    let info = demean(&mut y, &mut x, &d.fixed_effects, None, 1e-10, 10_000);
    if !info.converged {
        return Err("demeaning did not converge".into());
    }
    let xs: DVector<f64> = x.column(0).into_owned();
    let slope = xs.dot(&y) / xs.dot(&xs);
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let nb = 20.min(order.len().max(1));
    let bins: Vec<(f64, f64)> = order
        .chunks(order.len().div_ceil(nb).max(1))
        .map(|c| {
            let n = c.len() as f64;
            (c.iter().map(|&i| xs[i]).sum::<f64>() / n + mx, c.iter().map(|&i| y[i]).sum::<f64>() / n + my)
        })
        .collect();
    Ok(BinnedScatter {
        title: format!("{outcome} against l({cause},1), within {} and year", level.unit_column()),
        x_label: format!("l({cause},1), residualised (+ mean)"),
        y_label: format!("{outcome}, residualised (+ mean)"),
        bins,
        line: Some((my - slope * mx, slope)),
        width: ONE_COLUMN,
    })
}

fn fig_err(e: PlotError) -> crate::study::StudyError {
    crate::study::StudyError::Output(e.to_string())
}

/// Write figures, tables and `index.html` of a study into `out`.
pub fn write(study: &Study, r: &StudyResult, out: &Path) -> Result<Vec<PathBuf>, crate::study::StudyError> {
    let mut items: Vec<Item> = Vec::new();
    let mut written = Vec::new();
    let figdir = out.join("figures");
    let mut notes = Vec::new();
    let mut figure = |items: &mut Vec<Item>,
                      stem: &str,
                      fig: &dyn Fn(&Path) -> Result<[PathBuf; 2], PlotError>,
                      caption: String|
     -> Result<(), crate::study::StudyError> {
        let files = fig(&figdir.join(stem)).map_err(fig_err)?;
        written.extend(files);
        items.push(Item { file: format!("figures/{stem}"), caption, figure: true, html: None });
        Ok(())
    };

    if let Some(df) = r.frames.get(&Level::SystemYear) {
        let mark = study.periods.get(1).map(|p| (p.from as f64 - 0.5, format!("{} ->", p.name.replace('_', " "))));
        if let Some(t) = trends_figure(df, mark) {
            figure(&mut items, "trends", &|p| save(&t, p), format!(
                "Figure: socialization (left, blue) and conflict (right, vermillion) in the international system, {}-{}, yearly. The dashed line marks the start of the second period of the study.",
                r.years.0, r.years.1
            ))?;
        }
    }
    for h in &r.hypotheses {
        if h.kind == Kind::Mediation {
            continue;
        }
        let mut rows: Vec<CoefRow> = coef_row(&h.main, true).into_iter().collect();
        rows.extend(
            h.robustness
                .iter()
                .filter(|s| same_scale(s.spec.family, h.main.spec.family))
                .filter_map(|s| coef_row(s, false)),
        );
        if rows.len() > 1 {
            let plot = CoefPlot {
                title: format!("{}: {}", h.id, h.main.spec.term),
                x_label: format!("Estimate ({})", scale_label(h.main.spec.family)),
                rows,
                width: TWO_COLUMN,
            };
            figure(&mut items, &format!("coef_{}", h.id), &|p| save(&plot, p), format!(
                "Figure: {} ({}). Estimate of `{}` in the main specification (black) and the robustness battery (blue) on the same scale; thick bars 90%, thin bars 95% intervals. Specifications on another scale (linear probability) and those not estimable are in verdicts.md.",
                h.id, h.claim, h.main.spec.term
            ))?;
        }
    }
    for h in &r.hypotheses {
        let Some(df) = r.frames.get(&h.level) else { continue };
        match h.kind {
            Kind::Effect | Kind::Total => match predicted(h, df) {
                Ok(Some(b)) => figure(&mut items, &format!("predicted_{}", h.id), &|p| save(&b, p), format!(
                    "Figure: {} ({}). Predicted probability over the 1st-99th percentile of `{}`, other regressors at their means, with a 95% delta-method band; the histogram shows the observed distribution.",
                    h.id, h.claim, h.main.spec.term
                ))?,
                Ok(None) => {}
                Err(e) => notes.push(format!("predicted probability for {}: {e}", h.id)),
            },
            Kind::Moderation => match effect_over_time(h, df) {
                Ok(Some(b)) => figure(&mut items, &format!("effect_by_year_{}", h.id), &|p| save(&b, p), format!(
                    "Figure: {} ({}). Marginal effect of the cause by year, from the main specification with the period indicator replaced by the year (cause x year), with a 95% band and the zero line; the histogram shows the years in the sample.",
                    h.id, h.claim
                ))?,
                Ok(None) => {}
                Err(e) => notes.push(format!("effect by year for {}: {e}", h.id)),
            },
            Kind::Mediation => {}
        }
    }
    // Mediation diagrams: one per (level, cause, outcome).
    let mut groups: Vec<(Level, String, String)> = Vec::new();
    for (h, spec) in r.hypotheses.iter().zip(&study.hypotheses) {
        if h.kind == Kind::Mediation {
            let key = (h.level, spec.cause.clone(), spec.outcome.clone());
            if !groups.contains(&key) {
                groups.push(key);
            }
        }
    }
    for (level, cause, outcome) in &groups {
        let mediators: Vec<MediatorPath> = r
            .hypotheses
            .iter()
            .zip(&study.hypotheses)
            .filter(|(h, s)| {
                h.kind == Kind::Mediation && h.level == *level && &s.cause == cause && &s.outcome == outcome
            })
            .filter_map(|(h, s)| {
                let m = h.mediation.as_ref()?;
                let t = |x: &SpecResult| Some((x.estimate?, x.conf_low?, x.conf_high?));
                Some(MediatorPath {
                    label: s.mediator.clone().unwrap_or_default(),
                    a: t(&m.path_a)?,
                    b: t(&m.path_b)?,
                    indirect: (m.indirect, m.bootstrap.conf_low, m.bootstrap.conf_high),
                })
            })
            .collect();
        if mediators.is_empty() {
            continue;
        }
        let diagram = MediationDiagram {
            title: format!("{level}: {cause} -> pillars -> {outcome}"),
            cause: format!("{cause} (t-2)"),
            outcome: format!("{outcome} (t)"),
            mediators,
            note: "a: linear model of the pillar; b: logit of the outcome given the cause (log-odds); 95% intervals; indirect: cluster-bootstrap percentile interval.".into(),
        };
        let stem = format!("mediation_{}_{}", level.unit_column(), cause);
        figure(&mut items, &stem, &|p| save(&diagram, p), format!(
            "Figure: mediation at the {level} level. Arrows carry path estimates with 95% intervals; the indirect effects (a x b) are listed beneath with their bootstrap intervals."
        ))?;
        if let Some(df) = r.frames.get(level) {
            match binned(*level, outcome, cause, df) {
                Ok(b) => figure(&mut items, &format!("binned_{}_{}", level.unit_column(), cause), &|p| save(&b, p), format!(
                    "Figure: {outcome} against the lagged {cause} within {} and year (both residualised on the two fixed effects, means added back), means in 20 quantile bins; the line is the within slope.",
                    level.unit_column()
                ))?,
                Err(e) => notes.push(format!("binned scatter {level}: {e}")),
            }
        }
    }

    // Regression tables: the main specifications of the effect hypotheses, by level.
    let tabdir = out.join("tables");
    for level in study.levels() {
        let hs: Vec<&crate::study::HypothesisResult> = r
            .hypotheses
            .iter()
            .filter(|h| h.level == level && h.kind != Kind::Mediation && h.main.fit.is_some())
            .collect();
        if hs.is_empty() {
            continue;
        }
        let titles: Vec<String> = hs.iter().map(|h| h.id.clone()).collect();
        let fits: Vec<FitSummary> = hs.iter().filter_map(|h| h.main.fit.as_ref()).map(FitSummary::from).collect();
        let stem = format!("main_{}", level.unit_column());
        for (fmt, ext) in [(Format::Markdown, "md"), (Format::Latex, "tex"), (Format::Html, "html")] {
            let p = tabdir.join(format!("{stem}.{ext}"));
            crate::data::write::write_text(&p, &regression_table(&titles, &fits, true, fmt))?;
            written.push(p);
        }
        items.push(Item {
            file: format!("tables/{stem}"),
            caption: format!("Table: main specifications at the {level} level (also as .md and .tex)."),
            figure: false,
            html: Some(regression_table(&titles, &fits, true, Format::Html)),
        });
    }
    for (level, df) in &r.frames {
        let d = crate::data::describe::describe(df)?;
        let stem = format!("describe_{}", level.unit_column());
        for (fmt, ext) in [(Format::Markdown, "md"), (Format::Latex, "tex"), (Format::Html, "html")] {
            let p = tabdir.join(format!("{stem}.{ext}"));
            crate::data::write::write_text(&p, &descriptive_table(&d, fmt))?;
            written.push(p);
        }
        items.push(Item {
            file: format!("tables/{stem}"),
            caption: format!("Table: descriptive statistics of the {level} panel."),
            figure: false,
            html: Some(descriptive_table(&d, Format::Html)),
        });
    }
    let index = out.join("index.html");
    crate::data::write::write_text(&index, &index_html(r, &items, &notes))?;
    written.push(index);
    Ok(written)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn index_html(r: &StudyResult, items: &[Item], notes: &[String]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:'DejaVu Sans',Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}}\ntable{{border-collapse:collapse;margin:1rem 0;font-size:0.85rem}}\ntd:nth-child(2){{min-width:14rem}}\ntd,th{{padding:0.2rem 0.6rem;border-bottom:1px solid #ddd;text-align:left}}\ntr.footer td{{border-top:2px solid #555}}\nfigure{{margin:2rem 0}}\nimg{{max-width:100%;border:1px solid #eee}}\nfigcaption,.note{{font-size:0.85rem;color:#333}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>Data: {}, {}-{}; seed {}; alpha {} (one-sided); correction: {:?}. Full results: <a href=\"verdicts.md\">verdicts.md</a>, <a href=\"verdicts.json\">verdicts.json</a>, <a href=\"manifest.json\">manifest.json</a>.</p>\n",
        esc(&r.title), esc(&r.title), esc(&r.data), r.years.0, r.years.1, r.seed, r.alpha, r.correction
    );
    h.push_str("<h2>Verdicts</h2>\n<table>\n<thead><tr><th>hypothesis</th><th>claim</th><th>level</th><th>term</th><th>estimate</th><th>95% CI</th><th>p (one-sided)</th><th>adjusted p</th><th>verdict</th></tr></thead>\n<tbody>\n");
    for x in &r.hypotheses {
        let f = |v: Option<f64>| {
            v.map_or("–".into(), |v| if v != 0.0 && v.abs() < 1e-3 { format!("{v:.2e}") } else { format!("{v:.4}") })
        };
        let adj = match r.correction {
            crate::study::spec::Correction::Bh => x.p_bh,
            _ => x.p_holm,
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>[{}, {}]</td><td>{}</td><td>{}</td><td><b>{}</b></td></tr>",
            esc(&x.id), esc(&x.claim), x.level, esc(&x.main.spec.term), f(x.main.estimate), f(x.main.conf_low), f(x.main.conf_high), f(x.main.p_one_sided), f(adj), x.verdict.label()
        );
    }
    h.push_str("</tbody>\n</table>\n");
    let (mut nf, mut nt) = (0, 0);
    for it in items {
        if it.figure {
            nf += 1;
            let _ = writeln!(
                h,
                "<figure id=\"{0}\">\n<a href=\"{0}.svg\"><img src=\"{0}.png\" alt=\"{1}\"></a>\n<figcaption>{2} {1}</figcaption>\n</figure>",
                esc(&it.file),
                esc(it.caption.trim_start_matches("Figure: ")),
                format_args!("Figure {nf}."),
            );
        } else {
            nt += 1;
            let _ = writeln!(
                h,
                "<section id=\"{}\">\n<p class=\"note\">Table {nt}. {}</p>\n{}</section>",
                esc(&it.file),
                esc(it.caption.trim_start_matches("Table: ")),
                it.html.clone().unwrap_or_default()
            );
        }
    }
    if !notes.is_empty() {
        h.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in notes {
            let _ = writeln!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}
