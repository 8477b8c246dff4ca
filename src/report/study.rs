//! The report of a study: figures (SVG + PNG), regression and descriptive
//! tables (Markdown, LaTeX, HTML) and an `index.html` that shows them in
//! order with captions, with no external assets.

use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nalgebra::DVector;
use polars::prelude::DataFrame;

use super::labels::Labels;
use super::predict::{prediction_plot, PredictRequest};
use super::tables::{descriptive_table_with, regression_table_with, FitSummary, Format, TableOptions, TABLE_CSS};
use crate::estimate::{demean::demean, design_for, fit_with_design, Family, FitOptions};
use crate::formula::design::PanelSpec;
use crate::formula::Formula;
use crate::inference::table;
use crate::plot::figures::tidy;
use crate::plot::{
    save, BandPlot, BinnedScatter, Choice, CoefPlot, CoefRow, Event, MediationDiagram, MediatorPath, PlotError,
    PredictPlot, SensitivityPlot, Significance, SpecCurve, SpecPoint, SurvivalPlot, ONE_COLUMN, TWO_COLUMN,
};
use crate::study::curve::CurveRow;
use crate::study::mediation::Sensitivity;
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
    /// Physical width of a figure, inches (index.html shows it at that width).
    width: f64,
}

/// The physical width (inches) an SVG declares (`width="3.5in"`).
fn svg_width(path: &Path) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            let rest = s.split("width=\"").nth(1)?;
            rest.split("in\"").next()?.parse().ok()
        })
        .unwrap_or(crate::plot::TWO_COLUMN)
}

/// Sample standard deviation of every numeric column.
fn standard_deviations(df: &DataFrame) -> Vec<(String, f64)> {
    df.get_column_names()
        .iter()
        .filter_map(|n| {
            let v: Vec<f64> = column(df, n)?.into_iter().flatten().filter(|x| x.is_finite()).collect();
            if v.len() < 2 {
                return None;
            }
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
            Some((n.to_string(), var.sqrt()))
        })
        .collect()
}

fn correction_name(r: &StudyResult) -> &'static str {
    match r.correction {
        crate::study::spec::Correction::None => "not",
        c => c.name(),
    }
}

fn scale_sentence(f: Family) -> &'static str {
    match f {
        Family::Logit | Family::Firth => "coefficients are log-odds",
        Family::Probit => "coefficients are on the probit index",
        Family::Poisson | Family::Negbin => "coefficients are on the log of the expected count",
        Family::Gaussian => "coefficients are in units of the outcome per unit of the regressor",
        Family::Cox => "coefficients are log hazard ratios",
        Family::Clogit => "coefficients are conditional log-odds (within group)",
    }
}

fn column(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    crate::formula::design::numeric(df, name).ok()
}

fn same_scale(a: Family, b: Family) -> bool {
    let class = |f: Family| match f {
        Family::Logit | Family::Firth | Family::Clogit => 0,
        Family::Probit => 1,
        Family::Gaussian => 2,
        Family::Poisson | Family::Negbin => 3,
        Family::Cox => 4,
    };
    class(a) == class(b)
}

/// A coefficient-plot row from one estimate's 90% and 95% intervals, all
/// multiplied by `times` (a change of units), on `n` observations.
fn interval_row(
    label: String,
    (c90, c95): (&crate::inference::Coefficient, &crate::inference::Coefficient),
    times: f64,
    estimand: String,
    highlight: bool,
    n: usize,
) -> CoefRow {
    CoefRow {
        label,
        estimate: times * c95.estimate,
        lo90: times * c90.conf_low,
        hi90: times * c90.conf_high,
        lo95: times * c95.conf_low,
        hi95: times * c95.conf_high,
        highlight,
        estimand,
        n: Some(super::tables::thousands(&n.to_string())),
    }
}

fn coef_row(s: &SpecResult, highlight: bool, labels: &Labels) -> Option<CoefRow> {
    let fit = s.fit.as_ref()?;
    let names: Vec<String> = fit.coefficients.iter().map(|c| c.term.clone()).collect();
    let j = names.iter().position(|n| n == &s.spec.term)?;
    let ninety = table(&names, &fit.beta, &fit.cov, fit.distribution, 0.90).ok()?;
    let ci95 = table(&names, &fit.beta, &fit.cov, fit.distribution, 0.95).ok()?;
    let estimand = spec_estimand(s, labels);
    Some(interval_row(s.spec.label.clone(), (&ninety[j], &ci95[j]), 1.0, estimand, highlight, fit.nobs))
}

/// The verdict of a hypothesis in one line for its figures.
fn verdict_note(h: &crate::study::HypothesisResult, r: &StudyResult) -> String {
    let p = match r.correction {
        crate::study::spec::Correction::Holm => h.p_holm,
        crate::study::spec::Correction::Bh => h.p_bh,
        crate::study::spec::Correction::None => h.main.p_one_sided,
    };
    format!(
        "Verdict: {} (one-sided, {}-adjusted p {})",
        h.verdict.label(),
        correction_name(r),
        p.map_or("not computed".to_string(), |p| if p < 1e-4 { "< 0.0001".into() } else { format!("= {p:.4}") })
    )
}

fn scale_label(f: Family) -> &'static str {
    match f {
        Family::Logit | Family::Firth | Family::Clogit => "log-odds",
        Family::Probit => "probit index",
        Family::Poisson | Family::Negbin => "log of the expected count",
        Family::Gaussian => "units of the outcome",
        Family::Cox => "log hazard ratio",
    }
}

/// The scale of an effect on `outcome` in words: "log-odds of MID onset",
/// "Agreement with the UNGA majority (share of votes)".
fn effect_scale(f: Family, outcome: &str, labels: &Labels) -> String {
    let v = labels.var(outcome);
    match f {
        Family::Gaussian if !v.unit.is_empty() => format!("{} ({})", v.label, v.unit),
        Family::Gaussian => v.label,
        other => format!("{} of {}", scale_label(other), lower(&v.label)),
    }
}

fn lower(s: &str) -> String {
    let mut c = s.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(std::iter::once(b)).chain(c).collect()
        }
        _ => s.to_string(),
    }
}

fn outcome_of(formula: &str) -> &str {
    formula.split('~').next().unwrap_or("").trim()
}

fn panel(level: Level) -> PanelSpec {
    PanelSpec { unit: vec![level.unit_column().into()], time: "year".into() }
}

/// Kaplan-Meier curves of the states' peace spells (MID onsets) by their
/// IGO memberships in each spell's first year, split at the median over
/// spells; returns the figure and the cut.
fn peace_spells_figure(df: &DataFrame) -> Result<(SurvivalPlot, f64), String> {
    use crate::estimate::km::{km_frame, ConfType};
    let (sp, _) = crate::panel::spells::spells(df, &["ccode"], "year", "mid_onset").map_err(|e| e.to_string())?;
    let spell = column(&sp, "spell").ok_or("no spell column")?;
    let igo = column(&sp, "igo_full").ok_or("no igo_full column")?;
    // Rows come sorted by unit and year: a spell's rows are contiguous.
    let mut at_start: Vec<Option<f64>> = Vec::with_capacity(igo.len());
    let mut current: (Option<f64>, Option<f64>) = (None, None);
    for (s, x) in spell.iter().zip(&igo) {
        if *s != current.0 {
            current = (*s, *x);
        }
        at_start.push(current.1);
    }
    let mut firsts: Vec<f64> = spell
        .iter()
        .zip(&at_start)
        .enumerate()
        .filter(|(i, (s, _))| *i == 0 || spell[i - 1] != **s)
        .filter_map(|(_, (_, x))| *x)
        .collect();
    if firsts.is_empty() {
        return Err("no spell has IGO memberships in its first year".into());
    }
    firsts.sort_by(f64::total_cmp);
    let cut = crate::data::describe::quantile_sorted(&firsts, 0.5);
    let group: Vec<Option<String>> = at_start
        .iter()
        .map(|x| x.map(|x| if x >= cut { format!("≥ {}", tidy(cut)) } else { format!("< {}", tidy(cut)) }))
        .collect();
    let name = "IGOs at start";
    let mut sp = sp;
    sp.with_column(polars::prelude::Column::new(name.into(), group)).map_err(|e| e.to_string())?;
    let curves = km_frame(&sp, Some("start"), "stop", "event", &[name.to_string()], 0.95, ConfType::Log)
        .map_err(|e| e.to_string())?;
    let mut fig = SurvivalPlot::new(curves, "Years since the spell began", 0.95);
    fig.y_label = "Share of spells still at peace".into();
    fig.title = "State peace spells by IGO memberships at their start".into();
    Ok((fig, cut))
}

/// Predicted probability over the cause of a logit hypothesis (the other
/// regressors as observed).
fn predicted(
    h: &crate::study::HypothesisResult,
    df: &DataFrame,
    labels: &Labels,
) -> Result<Option<PredictPlot>, String> {
    let s = &h.main.spec;
    if s.family != Family::Logit || h.main.fit.is_none() {
        return Ok(None);
    }
    let vcov = s.vcov.parse().map_err(|e: crate::inference::InferenceError| e.to_string())?;
    let opts = FitOptions { vcov, panel: Some(panel(s.level)), ..Default::default() };
    let (fit, design) = fit_with_design(df, &s.formula, s.family, &opts).map_err(|e| e.to_string())?;
    let m = fit.margins(df, &design, opts.panel.as_ref()).map_err(|e| e.to_string())?;
    let req = PredictRequest { vary: &s.term, by: None, outcome: &design.outcome, title: &h.id };
    prediction_plot(&m, &req, labels).map(Some)
}

/// Marginal effect of the cause over the year (cause x year interaction),
/// for a moderation hypothesis: how the effect changes over time.
fn effect_over_time(
    h: &crate::study::HypothesisResult,
    df: &DataFrame,
    labels: &Labels,
) -> Result<Option<BandPlot>, String> {
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
        title: format!("{}: effect of {} by year", h.id, lower(&labels.term(cause))),
        x_label: "Year".into(),
        y_label: format!("Effect on {}", effect_scale(s.family, &design.outcome, labels)),
        points,
        observed,
        zero_line: true,
        width: ONE_COLUMN,
    }))
}

/// The effect of the cause in each period and the difference (the tested
/// interaction) from the main fit of a moderation hypothesis
/// (`y ~ x + x:in_b + in_b + ...`): `b_x`, `b_x + b_x:in_b`, `b_x:in_b`.
fn period_effects(h: &crate::study::HypothesisResult, study: &Study, labels: &Labels) -> Option<CoefPlot> {
    let fit = h.main.fit.as_ref()?;
    let (cause, ind) = h.main.spec.term.split_once(':')?;
    let period = |i: &str| study.period_title(i.trim_start_matches("in_"));
    let later = period(ind);
    let earlier = study
        .hypotheses
        .iter()
        .find(|x| x.id == h.id)
        .and_then(|x| x.compare.as_ref())
        .map_or_else(|| "Before".to_string(), |[a, _]| period(a));
    let row = |label: String, weights: &[(&str, f64)], estimand: &str, highlight: bool| -> Option<CoefRow> {
        let at = |level: f64| {
            let mut f = fit.clone();
            f.level = level;
            f.linear_combination(&label, weights).ok()
        };
        let (c90, c95) = (at(0.90)?, at(0.95)?);
        Some(interval_row(label, (&c90, &c95), 1.0, estimand.into(), highlight, fit.nobs))
    };
    let rows = vec![
        row(earlier.clone(), &[(cause, 1.0)], "slope", false)?,
        row(later.clone(), &[(cause, 1.0), (&h.main.spec.term, 1.0)], "slope", false)?,
        row(format!("{later} minus {earlier}"), &[(&h.main.spec.term, 1.0)], "difference (tested)", true)?,
    ];
    Some(CoefPlot {
        title: format!("{}: {} by period", h.id, labels.term(cause)),
        x_label: format!("Coefficient: {}", effect_scale(h.main.spec.family, outcome_of(&h.main.spec.formula), labels)),
        rows,
        width: TWO_COLUMN,
        label_estimands: true,
        note: None,
    })
}

/// One link of the period-contrast family as tested: the cause's average
/// marginal effect in each period and their difference (the second
/// difference the family adjusts and judges), on the scale of the outcome's
/// mean, from the link's interaction model.
fn contrast_plot(
    l: &crate::study::contrast::LinkContrast,
    c: &crate::study::contrast::ContrastResult,
    study: &Study,
    labels: &Labels,
) -> Option<CoefPlot> {
    let sd = l.second_difference.as_ref()?;
    let dist = l.distribution?;
    let period = |name: &str| {
        let years = study.periods.iter().find(|p| p.name == name).map(|p| format!(" ({}-{})", p.from, p.to));
        format!("{}{}", study.period_title(name), years.unwrap_or_default())
    };
    let (first, second) = (period(&c.first), period(&c.second));
    // Changes in a probability of a few in ten thousand read better as
    // events per 1,000 unit-years.
    let probability = matches!(l.family, Family::Logit | Family::Probit | Family::Firth);
    let widest = [&sd.first, &sd.second, &sd.difference]
        .iter()
        .map(|k| k.conf_low.abs().max(k.conf_high.abs()))
        .fold(0.0, f64::max);
    let per_1000 = probability && widest < 0.01;
    let times = if per_1000 { 1000.0 } else { 1.0 };
    let row = |label: String, k: &crate::inference::Coefficient, n: usize, estimand: &str, highlight: bool| {
        let at = |level: f64| {
            let cov = nalgebra::DMatrix::from_element(1, 1, k.std_error * k.std_error);
            table(std::slice::from_ref(&k.term), &DVector::from_element(1, k.estimate), &cov, dist, level).ok()?.pop()
        };
        let (c90, c95) = (at(0.90)?, at(0.95)?);
        Some(interval_row(label, (&c90, &c95), times, estimand.into(), highlight, n))
    };
    let short = |p: &str| study.period_title(p);
    let rows = vec![
        row(first.clone(), &sd.first, sd.n_first, "average marginal effect", false)?,
        row(second.clone(), &sd.second, sd.n_second, "average marginal effect", false)?,
        row(
            format!("{} minus {}", short(&c.second), short(&c.first)),
            &sd.difference,
            sd.n_first + sd.n_second,
            "second difference (tested)",
            true,
        )?,
    ];
    let cause = l.term.split(':').next().unwrap_or("");
    let outcome = labels.var(outcome_of(&l.formula));
    let scale = match l.family {
        _ if per_1000 => format!("{} (events per 1,000 {}s)", lower(&outcome.label), l.level),
        Family::Logit | Family::Probit | Family::Firth => format!("the probability of {}", lower(&outcome.label)),
        Family::Poisson | Family::Negbin => format!("the expected {}", lower(&outcome.label)),
        f => lower(&effect_scale(f, outcome_of(&l.formula), labels)),
    };
    Some(CoefPlot {
        title: format!("{}: {} by period", l.name, labels.term(cause)),
        x_label: format!("Change in {scale}"),
        rows,
        width: TWO_COLUMN,
        label_estimands: true,
        note: None,
    })
}

/// Binned scatter of `outcome` against lagged `cause`, both residualised on
/// unit and year fixed effects (means added back), 20 quantile bins.
fn binned(level: Level, outcome: &str, cause: &str, df: &DataFrame, labels: &Labels) -> Result<BinnedScatter, String> {
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
        title: format!(
            "{} against {}, within {} and year",
            labels.var(outcome).label,
            lower(&labels.term(&format!("l({cause},1)"))),
            lower(&labels.fixed_effect(level.unit_column()))
        ),
        x_label: format!("{} (within, plus mean)", labels.term(&format!("l({cause},1)"))),
        y_label: format!("{} (within, plus mean)", labels.var(outcome).label),
        bins,
        line: Some((my - slope * mx, slope)),
        width: ONE_COLUMN,
    })
}

/// What a specification of the curve estimates: its regressor and scale
/// (`"UNGA vote affinity (t-1), log-odds"`). Two specifications are on one
/// curve when these are equal: the coefficient plots' rule ([`same_scale`]
/// and the same term), and for linear models also the same outcome, whose
/// units the coefficient carries.
pub fn curve_estimand(r: &CurveRow, labels: &Labels) -> String {
    estimand(&r.term, &r.family, &r.outcome, labels)
}

/// What the coefficient of `term` estimates, in words: the regressor and
/// the scale, which for least squares is the outcome's units (another
/// outcome is another quantity). The rows of one axis (a coefficient plot,
/// a specification curve) must agree on it.
fn estimand(term: &str, family: &str, outcome: &str, labels: &Labels) -> String {
    let scale = match family.parse::<Family>() {
        Ok(Family::Gaussian) => format!("units of {}", lower(&labels.var_with_unit(outcome))),
        Ok(f) => scale_label(f).to_string(),
        Err(_) => family.to_string(),
    };
    format!("{}, {scale}", labels.term(term))
}

/// [`estimand`] of a fitted specification.
fn spec_estimand(s: &SpecResult, labels: &Labels) -> String {
    estimand(&s.spec.term, &s.spec.family.to_string(), outcome_of(&s.spec.formula), labels)
}

/// A specification curve and the specifications it leaves out.
#[derive(Debug, Clone)]
pub struct CurveFigure {
    pub figure: SpecCurve,
    /// Labels of the specifications of the hypothesis on another scale or of
    /// another regressor (none when every specification is drawn).
    pub left_out: Vec<String>,
}

/// The specification curve of `hypothesis` from the rows of
/// `spec_curve.json`: the specifications comparable with the main one
/// ([`curve_estimand`]), or all of them labelled with their estimands when
/// `all`; the grid has a row for each value of each feature that varies
/// among them (outcome, model, fixed effects, standard errors, years,
/// peace-years terms, number of controls), and a row naming a specification
/// that no feature tells apart from another. `periods` gives the years of
/// named periods; `level` the intervals' confidence level.
pub fn spec_curve_figure(
    rows: &[CurveRow],
    hypothesis: &str,
    labels: &Labels,
    periods: &[crate::study::spec::Period],
    all: bool,
    level: Option<f64>,
) -> Result<CurveFigure, String> {
    let of: Vec<&CurveRow> = rows.iter().filter(|r| r.hypothesis == hypothesis).collect();
    if of.is_empty() {
        let mut ids: Vec<&str> = Vec::new();
        for r in rows {
            if !ids.contains(&r.hypothesis.as_str()) {
                ids.push(&r.hypothesis);
            }
        }
        return Err(format!("no hypothesis `{hypothesis}` in the curve (hypotheses: {})", ids.join(", ")));
    }
    let main = *of.iter().find(|r| r.main).ok_or_else(|| format!("{hypothesis}: no main specification"))?;
    let target = curve_estimand(main, labels);
    let (keep, out): (Vec<&CurveRow>, Vec<&CurveRow>) =
        of.iter().copied().partition(|r| all || curve_estimand(r, labels) == target);
    let period = |p: &str| -> String {
        if p.is_empty() {
            return "all".into();
        }
        p.split('+')
            .map(|name| match periods.iter().find(|x| x.name == name) {
                Some(x) => format!("{}-{}", x.from, x.to),
                None => name.replace('_', " "),
            })
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let fixed = |fe: &str| -> String {
        if fe.trim().is_empty() {
            return "none".into();
        }
        fe.split('+').map(|f| lower(&labels.fixed_effect(f.trim()))).collect::<Vec<_>>().join(" + ")
    };
    let vcov = |v: &str| -> String {
        if v.starts_with("dyadic") {
            "dyadic (both states)".into()
        } else {
            // Keep names ("Driscoll-Kraay") capitalised.
            let w = labels.vcov(v);
            if ["Clustered", "Classical", "Heteroskedasticity"].iter().any(|p| w.starts_with(p)) {
                lower(&w)
            } else {
                w
            }
        }
    };
    let btscs = |b: &str| -> String {
        match b {
            "poly" => "polynomial".into(),
            "ns" => "natural spline".into(),
            "" => "none".into(),
            other => other.into(),
        }
    };
    type Feature<'a> = (&'a str, Box<dyn Fn(&CurveRow) -> String + 'a>);
    let features: Vec<Feature> = vec![
        ("Outcome", Box::new(|r: &CurveRow| labels.var(&r.outcome).label)),
        ("Model", Box::new(|r: &CurveRow| labels.family(&r.family))),
        ("Fixed effects", Box::new(|r: &CurveRow| fixed(&r.fixed_effects))),
        ("Standard errors", Box::new(|r: &CurveRow| vcov(&r.vcov))),
        ("Years", Box::new(|r: &CurveRow| period(&r.period))),
        ("Peace years", Box::new(|r: &CurveRow| btscs(&r.btscs))),
        ("Controls", Box::new(|r: &CurveRow| format!("{} regressors", r.n_controls))),
    ];
    let mut choices: Vec<Choice> = Vec::new();
    let mut uses: Vec<Vec<usize>> = vec![Vec::new(); keep.len()];
    for (group, f) in &features {
        let values: Vec<String> = keep.iter().map(|&r| f(r)).collect();
        let mut distinct: Vec<&String> = Vec::new();
        for v in &values {
            if !distinct.contains(&v) {
                distinct.push(v);
            }
        }
        if distinct.len() < 2 {
            continue;
        }
        // The main specification's value first, then by frequency.
        let main_value = f(main);
        distinct.sort_by_key(|v| (**v != main_value, std::cmp::Reverse(values.iter().filter(|x| x == v).count())));
        let first = choices.len();
        choices.extend(distinct.iter().map(|v| Choice { group: group.to_string(), option: v.to_string() }));
        for (u, v) in uses.iter_mut().zip(&values) {
            if let Some(k) = distinct.iter().position(|d| *d == v) {
                u.push(first + k);
            }
        }
    }
    // Specifications that no recorded feature (nor, when labelled, the
    // estimand) tells apart from another get a row of their own.
    let estimands: Vec<String> = keep.iter().map(|r| curve_estimand(r, labels)).collect();
    let twins: Vec<usize> = (0..keep.len())
        .filter(|&i| {
            !keep[i].main && (0..keep.len()).any(|j| j != i && uses[j] == uses[i] && estimands[j] == estimands[i])
        })
        .collect();
    for i in twins {
        uses[i].push(choices.len());
        choices.push(Choice { group: "Other".into(), option: keep[i].label.clone() });
    }
    let specs: Vec<SpecPoint> = keep
        .iter()
        .zip(uses)
        .map(|(r, u)| SpecPoint {
            label: r.label.clone(),
            estimate: r.estimate,
            conf_low: r.conf_low,
            conf_high: r.conf_high,
            main: r.main,
            significance: match r.verdict.as_str() {
                "supported" => Significance::InDirection,
                "contradicted" => Significance::Opposite,
                _ => Significance::NotSignificant,
            },
            estimand: curve_estimand(r, labels),
            choices: u,
        })
        .collect();
    let family = main.family.parse::<Family>().map_err(|e| e.to_string())?;
    let one_outcome = keep.iter().all(|r| r.outcome == main.outcome);
    let y_label = if all && keep.iter().any(|r| curve_estimand(r, labels) != target) {
        "Coefficient (scale by column: see Estimates)".to_string()
    } else if one_outcome || family == Family::Gaussian {
        format!("Coefficient: {}", effect_scale(family, &main.outcome, labels))
    } else {
        format!("Coefficient: {}", scale_label(family))
    };
    Ok(CurveFigure {
        figure: SpecCurve {
            title: format!("{hypothesis}: {}", labels.term(&main.term)),
            y_label,
            interval: level
                .map_or_else(|| "confidence intervals".into(), |l| format!("{}% intervals", tidy(l * 100.0))),
            specs,
            choices,
            label_estimands: all,
            width: TWO_COLUMN,
        },
        left_out: out.iter().map(|r| r.label.clone()).collect(),
    })
}

/// One mediation path with a rho-sensitivity, as the report and `concord
/// plot sensitivity` name it.
#[derive(Debug, Clone)]
pub struct SensitivityPath {
    /// The hypothesis.
    pub id: String,
    /// `<unit>_<cause>_<mediator>` (the report's figure is `sensitivity_<name>`).
    pub name: String,
    pub level: Level,
    /// Terms of the cause and the mediator, and the outcome column.
    pub cause: String,
    pub mediator: String,
    pub outcome: String,
    /// The shift of the cause whose ACME the curve shows.
    pub shift: f64,
    /// The reported ACME (estimate, low, high) of the main model.
    pub acme: (f64, f64, f64),
    pub sensitivity: Sensitivity,
}

/// The column of a term: `l(igo_full,2)` -> `igo_full`.
fn column_of(term: &str) -> &str {
    term.split_once('(').map_or(term, |(_, rest)| rest.split([',', ')']).next().unwrap_or(rest)).trim()
}

fn sensitivity_path(id: &str, level: Level, m: &crate::study::run::MediationResult) -> Option<SensitivityPath> {
    let s = m.gcomp.sensitivity.clone()?;
    let (cause, mediator) = (m.path_a.spec.term.clone(), m.path_b.spec.term.clone());
    Some(SensitivityPath {
        id: id.into(),
        name: format!("{}_{}_{}", level.unit_column(), column_of(&cause), column_of(&mediator)),
        level,
        outcome: outcome_of(&m.path_b.spec.formula).to_string(),
        cause,
        mediator,
        shift: m.gcomp.shift,
        acme: (m.gcomp.acme.estimate, m.gcomp.acme.conf_low, m.gcomp.acme.conf_high),
        sensitivity: s,
    })
}

/// The mediation paths of a study's `verdicts.json` that carry a
/// rho-sensitivity.
pub fn sensitivity_paths_json(text: &str) -> Result<Vec<SensitivityPath>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let hs =
        v.get("hypotheses").and_then(|h| h.as_array()).ok_or("no `hypotheses` list: not a concord verdicts.json")?;
    let mut out = Vec::new();
    for h in hs {
        let Some(m) = h.get("mediation").filter(|m| !m.is_null()) else { continue };
        let Some(s) = m.pointer("/gcomp/sensitivity").filter(|s| !s.is_null()) else { continue };
        let id = h.get("id").and_then(|x| x.as_str()).unwrap_or("?").to_string();
        let bad = |what: &str| format!("hypothesis {id}: no {what}");
        let level: Level =
            serde_json::from_value(h.get("level").cloned().unwrap_or_default()).map_err(|_| bad("level"))?;
        let str_at = |p: &str| m.pointer(p).and_then(|x| x.as_str()).map(str::to_string).ok_or_else(|| bad(p));
        let num_at = |p: &str| m.pointer(p).and_then(|x| x.as_f64()).ok_or_else(|| bad(p));
        let sensitivity: Sensitivity =
            serde_json::from_value(s.clone()).map_err(|e| format!("hypothesis {id}: the sensitivity: {e}"))?;
        let (cause, mediator) = (str_at("/path_a/term")?, str_at("/path_b/term")?);
        out.push(SensitivityPath {
            name: format!("{}_{}_{}", level.unit_column(), column_of(&cause), column_of(&mediator)),
            level,
            outcome: outcome_of(&str_at("/path_b/formula")?).to_string(),
            cause,
            mediator,
            shift: num_at("/gcomp/shift")?,
            acme: (num_at("/gcomp/acme/estimate")?, num_at("/gcomp/acme/conf_low")?, num_at("/gcomp/acme/conf_high")?),
            sensitivity,
            id,
        });
    }
    Ok(out)
}

/// The figure of one path's sensitivity: the ACME on the probability scale
/// over rho (the curve has no band: it is computed at the point estimates).
pub fn sensitivity_figure(p: &SensitivityPath, labels: &Labels) -> SensitivityPlot {
    SensitivityPlot {
        title: format!("{}: ACME by error correlation ρ", p.id),
        x_label: "ρ, correlation of the two models' errors".into(),
        y_label: format!("ACME, change in Pr({})", labels.var(&p.outcome).label),
        curve: p.sensitivity.curve.clone(),
        band: Vec::new(),
        rho_at_zero: p.sensitivity.rho_at_zero,
        width: ONE_COLUMN,
    }
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
    let labels = Labels::for_study(study);
    let mut figure = |items: &mut Vec<Item>,
                      stem: &str,
                      fig: &dyn Fn(&Path) -> Result<[PathBuf; 2], PlotError>,
                      caption: String|
     -> Result<(), crate::study::StudyError> {
        let files = fig(&figdir.join(stem)).map_err(fig_err)?;
        let width = svg_width(&files[0]);
        written.extend(files);
        items.push(Item { file: format!("figures/{stem}"), caption, figure: true, html: None, width });
        Ok(())
    };

    if let Some(df) = r.frames.get(&Level::SystemYear) {
        let second = study.periods.get(1);
        let mark = second.map(|p| (p.from as f64 - 0.5, String::new()));
        if let Some(t) = super::trends::trends_figure(df, mark, Event::defaults()) {
            figure(&mut items, "trends", &|p| save(&t, p), format!(
                "Figure: Socialization (left, blue) and conflict (right, vermillion) in the international system, {}-{}. Left: yearly means over states (over dyads for vote affinity) with the interquartile range across them shaded (treaty counts are cumulative), and the number of states. Right: yearly counts. {}Shaded: the end of the Cold War (1989-91); dotted: the Chemical Weapons Convention (1993) and 11 September 2001. A series that starts or ends inside the axis says where its data start or end; UCDP's 1946 count includes conflicts already active when its data begin.",
                r.years.0, r.years.1,
                second.map(|p| format!("The dashed line marks {}, the start of the {} period. ", p.from, p.title())).unwrap_or_default()
            ))?;
        }
    }
    if let Some(df) = r.frames.get(&Level::StateYear) {
        match peace_spells_figure(df) {
            Ok((fig, cut)) => figure(&mut items, "km_state_spells", &|p| save(&fig, p), format!(
                "Figure: Peace spells of states, {}-{} (years without a MID onset; a spell ends in the year of an onset, a state's first spell begins in its first year in the panel), by the state's full IGO memberships in the spell's first year (\"IGOs at start\"), below or at least {} (the median over spells); Kaplan-Meier curves with 95% pointwise bands (log). Descriptive: the groups differ in much else, and spells already running in 1946 start their clock then.",
                r.years.0, r.years.1, tidy(cut)
            ))?,
            Err(e) => notes.push(format!("peace-spell curves: {e}")),
        }
    }
    let curve_rows = crate::study::curve::rows(r);
    for h in &r.hypotheses {
        if h.kind == Kind::Mediation {
            continue;
        }
        // Rows of the main term (one estimand) in one plot; robustness rows
        // of another term (another measure, a per-period slope) in a second
        // plot that labels every row with its estimand.
        let on_scale: Vec<(&SpecResult, bool)> = std::iter::once((&h.main, true))
            .chain(h.robustness.iter().filter(|s| same_scale(s.spec.family, h.main.spec.family)).map(|s| (s, false)))
            .collect();
        // One axis per estimand: the main one's regressor on its scale (for
        // least squares, in its outcome's units).
        let target = spec_estimand(&h.main, &labels);
        let (same, other): (Vec<_>, Vec<_>) = on_scale.iter().partition(|(s, _)| spec_estimand(s, &labels) == target);
        let rows: Vec<CoefRow> = same.iter().filter_map(|(s, main)| coef_row(s, *main, &labels)).collect();
        let term = labels.term(&h.main.spec.term);
        let scale = effect_scale(h.main.spec.family, outcome_of(&h.main.spec.formula), &labels);
        let main_plot = rows.len() > 1;
        if main_plot {
            let plot = CoefPlot {
                title: format!("{}: {}", h.id, term),
                x_label: format!("Coefficient: {scale}"),
                rows,
                width: TWO_COLUMN,
                label_estimands: false,
                note: Some(verdict_note(h, r)),
            };
            figure(&mut items, &format!("coef_{}", h.id), &|p| save(&plot, p), format!(
                "Figure: {} ({}). Coefficient of {} in the main specification (black) and the robustness specifications that estimate the same coefficient on the same scale (blue); thick bars 90%, thin bars 95% intervals; {}. The verdict uses the one-sided, {}-adjusted test (see the verdict table); specifications on another scale, of another regressor or not estimable are listed in verdicts.md.",
                h.id, h.claim, lower(&term), scale_sentence(h.main.spec.family), correction_name(r)
            ))?;
        }
        if !other.is_empty() {
            let mut rows: Vec<CoefRow> = coef_row(&h.main, true, &labels).into_iter().collect();
            rows.extend(other.iter().filter_map(|(s, _)| coef_row(s, false, &labels)));
            if rows.len() > 1 {
                let plot = CoefPlot {
                    title: format!("{}: other regressors, outcomes and per-period slopes", h.id),
                    // The rows' scales differ (each row states its own).
                    x_label: "Coefficient, in the units each row states".into(),
                    rows,
                    width: TWO_COLUMN,
                    label_estimands: true,
                    note: None,
                };
                // Named coef_ID when it is the hypothesis's only coefficient plot.
                let stem = if main_plot { format!("coef_{}_estimands", h.id) } else { format!("coef_{}", h.id) };
                figure(&mut items, &stem, &|p| save(&plot, p), format!(
                    "Figure: {} ({}). Specifications whose coefficient is a different quantity from the main one, each row labelled with the regressor it estimates and its scale (for least squares, the outcome's units), beside the main specification (black). These coefficients are not on a common scale (for example, per treaty against per IGO membership; a per-period slope against the difference between periods; another outcome) and are not to be compared by length.",
                    h.id, h.claim
                ))?;
            }
        }
        // The specification curve, when at least three specifications
        // estimate the main one's quantity.
        match spec_curve_figure(&curve_rows, &h.id, &labels, &study.periods, false, Some(r.level)) {
            Ok(c) if c.figure.specs.len() >= 3 => {
                let opposite = c.figure.specs.iter().any(|s| s.significance == Significance::Opposite);
                let left_out = match c.left_out.len() {
                    0 => "No specification of the hypothesis is left out.".to_string(),
                    k => format!(
                        "{k} specification{} on another scale or of another regressor {} left out ({}); spec_curve.csv lists every specification.",
                        if k == 1 { "" } else { "s" },
                        if k == 1 { "is" } else { "are" },
                        c.left_out.join("; ")
                    ),
                };
                if let Err(e) = figure(&mut items, &format!("spec_curve_{}", h.id), &|p| save(&c.figure, p), format!(
                    "Figure: {} ({}). Specification curve (Simonsohn, Simmons & Nelson 2020): the coefficient of {} in the {} specifications that estimate it on one scale, sorted by size, with {:.0}% intervals; the main specification is black (shaded column), the others blue; filled markers have a one-sided p below {} in the stated direction (not adjusted), open markers are not significant{}. The grid beneath marks each specification's choices, one column per specification. {left_out}",
                    h.id,
                    h.claim,
                    lower(&term),
                    c.figure.specs.len(),
                    r.level * 100.0,
                    r.alpha,
                    if opposite { ", crosses are significant in the opposite direction" } else { "" },
                )) {
                    notes.push(format!("specification curve for {}: {e}", h.id));
                }
            }
            Ok(_) => {}
            Err(e) => notes.push(format!("specification curve for {}: {e}", h.id)),
        }
    }
    // The predictions refit the main models (on the dyad-year panel a few
    // seconds each): computed in parallel, drawn in order.
    let computed: Vec<_> = r
        .hypotheses
        .par_iter()
        .map(|h| {
            let Some(df) = r.frames.get(&h.level) else { return (None, None) };
            match h.kind {
                Kind::Effect | Kind::Total => (Some(predicted(h, df, &labels)), None),
                Kind::Moderation => (None, Some(effect_over_time(h, df, &labels))),
                Kind::Mediation => (None, None),
            }
        })
        .collect();
    for (h, (pred, over_time)) in r.hypotheses.iter().zip(computed) {
        if !r.frames.contains_key(&h.level) {
            continue;
        }
        match h.kind {
            Kind::Effect | Kind::Total => match pred.unwrap_or(Ok(None)) {
                Ok(Some(b)) => figure(&mut items, &format!("predicted_{}", h.id), &|p| save(&b, p), format!(
                    "Figure: {} ({}). Average predicted probability with `{}` set to {} in every row (every term built from it rebuilt, the other regressors as observed), with 95% {} from the main specification's vcov (delta method on the logit scale, so they stay inside 0 and 1); the histogram shows the observed distribution.",
                    h.id, h.claim, h.main.spec.term,
                    if b.discrete { "each of its values" } else { "each value over its 1st-99th percentile" },
                    if b.discrete { "intervals" } else { "bands" }
                ))?,
                Ok(None) => {}
                Err(e) => notes.push(format!("predicted probability for {}: {e}", h.id)),
            },
            Kind::Moderation => {
                if let Some(plot) = period_effects(h, study, &labels) {
                    figure(&mut items, &format!("periods_{}", h.id), &|p| save(&plot, p), format!(
                        "Figure: {} ({}). The tested model: the effect of {} in each period and their difference (the interaction the verdict tests), all from the main specification, with 90% (thick) and 95% (thin) intervals; {}. Rows estimate different quantities (two slopes and a difference) and are labelled with what they estimate.",
                        h.id, h.claim, lower(&labels.term(h.main.spec.term.split(':').next().unwrap_or(""))), scale_sentence(h.main.spec.family)
                    ))?;
                }
                match over_time.unwrap_or(Ok(None)) {
                Ok(Some(b)) => figure(&mut items, &format!("effect_by_year_{}", h.id), &|p| save(&b, p), format!(
                    "Figure: {} ({}). Marginal effect of the cause by year, from the main specification with the period indicator replaced by the year (cause × year), with a 95% band and the zero line; the histogram shows the years in the sample.",
                    h.id, h.claim
                ))?,
                Ok(None) => {}
                Err(e) => notes.push(format!("effect by year for {}: {e}", h.id)),
                }
            }
            Kind::Mediation => {}
        }
    }
    // The period-contrast family: one figure per estimable link.
    if let Some(c) = &r.contrast {
        for l in &c.links {
            let Some(plot) = contrast_plot(l, c, study, &labels) else { continue };
            let claim = study.hypotheses.iter().find(|h| h.id == l.hypothesis).map_or("", |h| h.claim.as_str());
            figure(&mut items, &format!("contrast_{}", l.name), &|p| save(&plot, p), format!(
                "Figure: {} (the period contrast of {}: {}). The cause's average marginal effect (per unit of the cause) on the scale of the outcome's mean in each period and their difference, the second difference that the contrast family tests ({} over the family: p = {}, {}), from one model of the link's main specification on {}-{} with the cause interacted with the second period's indicator (fixed effects held as fitted; delta-method intervals, 90% thick and 95% thin). Rows estimate different quantities and are labelled with what they estimate; N is the rows of each period and of the model.",
                l.name,
                l.hypothesis,
                claim,
                c.correction.name(),
                crate::study::output::pval(l.p_adjusted),
                l.verdict.label(),
                study.data.from,
                study.data.to,
            ))?;
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
                    label: s.mediator.as_deref().map(|m| labels.term(&format!("l({m},1)"))).unwrap_or_default(),
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
            title: format!(
                "{level}: {} → {} → {}",
                labels.var(cause).label,
                if mediators.len() == 1 { "mediator" } else { "mediators" },
                labels.var(outcome).label
            ),
            cause: labels.term(&format!("l({cause},2)")),
            outcome: format!("{} (t)", labels.var(outcome).label),
            mediators,
            note: "a: linear model of the mediator; b: logit of the outcome (log-odds); 95% intervals; indirect: ACME, bootstrap percentile interval.".into(),
            indirect_name: format!("ACME on Pr({})", labels.var(outcome).label),
        };
        let stem = format!("mediation_{}_{}", level.unit_column(), cause);
        figure(&mut items, &stem, &|p| save(&diagram, p), format!(
            "Figure: Mediation at the {level} level. Arrows carry path estimates with 95% intervals; the indirect effects are listed beneath: the average natural indirect effect (ACME) on the outcome's probability of a rise in the cause by the hypothesis's `shift` (one standard deviation unless set) (g-computation, Imai, Keele & Tingley 2010), with its bootstrap percentile interval (states resampled; for dyads, both states of each dyad)."
        ))?;
        // The rho-sensitivity of each mediator's ACME.
        for (h, s) in r.hypotheses.iter().zip(&study.hypotheses) {
            if h.kind != Kind::Mediation || h.level != *level || &s.cause != cause || &s.outcome != outcome {
                continue;
            }
            let Some(p) = h.mediation.as_ref().and_then(|m| sensitivity_path(&h.id, h.level, m)) else { continue };
            let plot = sensitivity_figure(&p, &labels);
            let at_zero = plot.at_zero().map(crate::plot::sensitivity::short).unwrap_or_else(|| "–".into());
            if let Err(e) = figure(&mut items, &format!("sensitivity_{}", p.name), &|f| save(&plot, f), format!(
                "Figure: {} ({}). Sensitivity of the indirect effect through {} to an unobserved confounder of the mediator and the outcome (Imai, Keele & Yamamoto 2010): the ACME of a shift of {} by {} as a change in the probability of {}, against ρ, the correlation of the errors of the mediator model (linear) and the outcome model (a probit without the cause × mediator term, where the ACME has a closed form), at ρ = -0.9, -0.8, …, 0.9 from the point estimates (no band). The ACME is zero at ρ = {:.2} (γσ / √(1 + γ²σ²), γ = {} the mediator's probit coefficient, σ = {} the mediator model's residual SD); at ρ = 0 this model gives {}, beside the reported ACME {} [{}, {}] of the main (logit) model with its bootstrap interval.",
                h.id,
                h.claim,
                lower(&labels.term(&p.mediator)),
                lower(&labels.term(&p.cause)),
                crate::plot::sensitivity::short(p.shift),
                lower(&labels.var(&p.outcome).label),
                p.sensitivity.rho_at_zero,
                crate::plot::sensitivity::short(p.sensitivity.gamma),
                crate::plot::sensitivity::short(p.sensitivity.sigma),
                at_zero,
                crate::plot::sensitivity::short(p.acme.0),
                crate::plot::sensitivity::short(p.acme.1),
                crate::plot::sensitivity::short(p.acme.2),
            )) {
                notes.push(format!("sensitivity figure for {}: {e}", p.name));
            }
        }
        if let Some(df) = r.frames.get(level) {
            match binned(*level, outcome, cause, df, &labels) {
                Ok(b) => figure(&mut items, &format!("binned_{}_{}", level.unit_column(), cause), &|p| save(&b, p), format!(
                    "Figure: {} against {} within {} and year (both residualised on the two fixed effects, means added back), means in 20 quantile bins; the line is the within slope (a linear probability model when the outcome is binary).",
                    labels.var(outcome).label,
                    lower(&labels.term(&format!("l({cause},1)"))),
                    lower(&labels.fixed_effect(level.unit_column()))
                ))?,
                Err(e) => notes.push(format!("binned scatter {level}: {e}")),
            }
        }
    }

    for e in &r.event_studies {
        match crate::study::event_study::figure(e, &labels) {
            Ok(plot) => figure(
                &mut items,
                &format!("event_{}", e.name),
                &|p| save(&plot, p),
                super::event_study::caption(e, &labels),
            )?,
            Err(err) => notes.push(format!("event study {}: {err}", e.name)),
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
        let mut order: Vec<String> = Vec::new();
        for h in &hs {
            if !order.contains(&h.main.spec.term) {
                order.push(h.main.spec.term.clone());
            }
        }
        let opts = TableOptions {
            titles,
            labels: labels.clone(),
            order,
            caption: Some(format!("Main specifications at the {level} level")),
            label: Some(format!("tab:{stem}")),
            notes: vec![format!(
                "No significance stars: the verdicts (one-sided tests in the stated direction, {}-adjusted across the hypotheses) are in the verdict table.",
                correction_name(r)
            )],
            ..Default::default()
        };
        let table = |fmt| regression_table_with(&fits, &opts, fmt).map_err(crate::study::StudyError::Output);
        for (fmt, ext) in [(Format::Markdown, "md"), (Format::Latex, "tex"), (Format::Html, "html")] {
            let p = tabdir.join(format!("{stem}.{ext}"));
            crate::data::write::write_text(&p, &table(fmt)?)?;
            written.push(p);
        }
        items.push(Item {
            file: format!("tables/{stem}"),
            caption: format!("Table: Main specifications at the {level} level (also as .md and .tex)."),
            figure: false,
            html: Some(table(Format::Html)?),
            width: 0.0,
        });
    }
    for (level, df) in &r.frames {
        let d = crate::data::describe::describe(df)?;
        let sds = standard_deviations(df);
        let stem = format!("describe_{}", level.unit_column());
        for (fmt, ext) in [(Format::Markdown, "md"), (Format::Latex, "tex"), (Format::Html, "html")] {
            let p = tabdir.join(format!("{stem}.{ext}"));
            crate::data::write::write_text(&p, &descriptive_table_with(&d, &sds, &labels, fmt))?;
            written.push(p);
        }
        items.push(Item {
            file: format!("tables/{stem}"),
            caption: format!("Table: Descriptive statistics of the {level} panel."),
            figure: false,
            html: Some(descriptive_table_with(&d, &sds, &labels, Format::Html)),
            width: 0.0,
        });
    }
    let index = out.join("index.html");
    crate::data::write::write_text(&index, &index_html(r, &items, &notes))?;
    written.push(index);
    Ok(written)
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Caption text as HTML: `code` spans become <code>, the rest is escaped.
pub(super) fn caption_html(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{}</code>", esc(part)) } else { esc(part) })
        .collect()
}

/// Caption text as plain text (alt text): backticks dropped.
fn caption_plain(s: &str) -> String {
    s.replace('`', "")
}

/// A number for the verdict table: fixed decimals (two significant digits
/// for small values), a true minus sign, no e-notation.
pub(super) fn html_num(v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else { return "–".into() };
    let a = v.abs();
    let d = if a == 0.0 || a >= 0.1 { 3 } else { ((1.0 - a.log10().floor()) as usize).clamp(3, 8) };
    let s = format!("{v:.d$}");
    s.replace('-', "−")
}

pub(super) fn html_p(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(p) if p < 1e-4 => "&lt; 0.0001".into(),
        Some(p) => format!("{p:.4}"),
    }
}

const CSS: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.4}
table{border-collapse:collapse;font-size:0.85rem}
td,th{padding:0.2rem 0.6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.num,th.num{white-space:nowrap;text-align:right}
caption{text-align:left;font-size:0.85rem;padding:0.3rem 0}
figure{margin:2rem 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption,.note{font-size:0.85rem;color:#333}
code{font-size:0.85em;overflow-wrap:anywhere}
nav ul{columns:2;font-size:0.85rem}
@media (max-width:40rem){body{margin:1rem auto}nav ul{columns:1}}
";

/// The sensitivity section of index.html: the table and a sentence per link.
fn sensitivity_html(h: &mut String, s: &crate::study::sensitivity::SensitivityResult) {
    use crate::study::sensitivity as sens;
    let _ = write!(h, "<h2 id=\"sensitivity\">Sensitivity to omitted confounding</h2>\n<p>{}</p>\n", esc(sens::INTRO));
    if !s.links.is_empty() {
        h.push_str(&sens::table(s, super::tables::Format::Html));
    }
    h.push_str("<ul>\n");
    for line in sens::sentences(s) {
        let _ = writeln!(h, "<li>{}</li>", caption_html(&line));
    }
    h.push_str("</ul>\n<p class=\"note\">Also as <a href=\"tables/sensitivity.md\">.md</a>, <a href=\"tables/sensitivity.tex\">.tex</a>, <a href=\"tables/sensitivity.html\">.html</a>, <a href=\"sensitivity.json\">sensitivity.json</a>.</p>\n");
}

/// The period-contrast section of index.html: the table and its sentences.
fn contrast_html(h: &mut String, c: &crate::study::contrast::ContrastResult) {
    use crate::study::contrast as con;
    let _ = write!(
        h,
        "<h2 id=\"contrast\">The post-Cold War contrast, link by link</h2>\n<p>{}</p>\n",
        caption_html(&con::intro(c))
    );
    h.push_str(&con::table(c, super::tables::Format::Html));
    h.push_str("<ul>\n");
    for line in con::sentences(c) {
        let _ = writeln!(h, "<li>{}</li>", caption_html(&line));
    }
    h.push_str("</ul>\n<p class=\"note\">Also as <a href=\"tables/contrast.md\">.md</a>, <a href=\"tables/contrast.tex\">.tex</a>, <a href=\"tables/contrast.html\">.html</a>, <a href=\"contrast.json\">contrast.json</a>.</p>\n");
}

fn index_html(r: &StudyResult, items: &[Item], notes: &[String]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}{TABLE_CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>Data: {}, {}-{}; seed {}; alpha {} (one-sided); correction: {:?}. Full results: <a href=\"verdicts.md\">verdicts.md</a>, <a href=\"verdicts.json\">verdicts.json</a>, <a href=\"manifest.json\">manifest.json</a>.</p>\n",
        esc(&r.title), esc(&r.title), esc(&r.data), r.years.0, r.years.1, r.seed, r.alpha, r.correction
    );
    let validity_nav =
        if r.validity.is_some() { "<li><a href=\"#validity\">Measurement validity</a></li>" } else { "" };
    let event_nav =
        if r.event_studies.is_empty() { "" } else { "<li><a href=\"#event-studies\">Event studies</a></li>" };
    let contrast_nav = if r.contrast.is_some() {
        "<li><a href=\"#contrast\">The post-Cold War contrast, link by link</a></li>"
    } else {
        ""
    };
    let _ = writeln!(h, "<nav><ul><li><a href=\"#verdicts\">Verdicts</a></li>{validity_nav}{event_nav}<li><a href=\"#sensitivity\">Sensitivity to omitted confounding</a></li>{contrast_nav}<li><a href=\"#figures\">Figures</a></li><li><a href=\"#tables\">Tables</a></li></ul></nav>");
    let lvl = (r.level * 100.0).round();
    let _ = write!(
        h,
        "<h2 id=\"verdicts\">Verdicts</h2>\n<div class=\"table-wrap\">\n<table>\n<thead><tr><th>hypothesis</th><th>claim</th><th>level</th><th>term</th><th class=\"num\">estimate</th><th class=\"num\">{lvl}% CI</th><th class=\"num\">N</th><th class=\"num\">p (one-sided)</th><th class=\"num\">adjusted p</th><th>verdict</th><th class=\"num\">robustness agreeing</th></tr></thead>\n<tbody>\n"
    );
    for x in &r.hypotheses {
        let adj = match r.correction {
            crate::study::spec::Correction::Bh => x.p_bh,
            _ => x.p_holm,
        };
        let agree = x.robustness.iter().filter(|s| s.verdict == x.main.verdict).count();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">[{}, {}]</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><b>{}</b></td><td class=\"num\">{agree}/{}</td></tr>",
            esc(&x.id),
            esc(&x.claim),
            x.level,
            esc(&x.main.spec.term),
            html_num(x.main.estimate),
            html_num(x.main.conf_low),
            html_num(x.main.conf_high),
            x.main.nobs.map_or("–".into(), |n| super::tables::thousands(&n.to_string())),
            html_p(x.main.p_one_sided),
            html_p(adj),
            x.verdict.label(),
            x.robustness.len()
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
    if let Some(v) = &r.validity {
        let t = crate::study::validity::table(v, super::tables::Format::Html);
        let _ = write!(h, "<h2 id=\"validity\">Measurement validity</h2>\n<p>{}</p>\n{t}<p class=\"note\">Also as <a href=\"tables/validity.md\">.md</a>, <a href=\"tables/validity.tex\">.tex</a>, <a href=\"tables/validity.html\">.html</a>, <a href=\"validity.json\">validity.json</a>.</p>\n", esc(crate::study::validity::INTRO));
    }
    h.push_str(&super::event_study::html(&r.event_studies));
    sensitivity_html(&mut h, &r.sensitivity);
    if let Some(c) = &r.contrast {
        contrast_html(&mut h, c);
    }
    let (mut nf, mut nt) = (0, 0);
    let mut heading = |h: &mut String, figure: bool| {
        let (id, title, count) = if figure { ("figures", "Figures", &mut nf) } else { ("tables", "Tables", &mut nt) };
        if *count == 0 {
            let _ = writeln!(h, "<h2 id=\"{id}\">{title}</h2>");
        }
        *count += 1;
        *count
    };
    for it in items.iter().filter(|i| i.figure) {
        let n = heading(&mut h, true);
        let text = it.caption.trim_start_matches("Figure: ");
        let _ = writeln!(
            h,
            "<figure id=\"{0}\">\n<a href=\"{1}.svg\"><img src=\"{1}.png\" style=\"width:{2}in\" alt=\"{3}\"></a>\n<figcaption>Figure {n}. {4}</figcaption>\n</figure>",
            esc(&it.file.replace('/', "-")),
            esc(&it.file),
            it.width,
            esc(&caption_plain(text)),
            caption_html(text),
        );
    }
    for it in items.iter().filter(|i| !i.figure) {
        let n = heading(&mut h, false);
        let _ = writeln!(
            h,
            "<section id=\"{0}\">\n<p class=\"note\">Table {n}. {1} <a href=\"{2}.md\">.md</a>, <a href=\"{2}.tex\">.tex</a>, <a href=\"{2}.html\">.html</a></p>\n{3}</section>",
            esc(&it.file.replace('/', "-")),
            caption_html(it.caption.trim_start_matches("Table: ")),
            esc(&it.file),
            it.html.clone().unwrap_or_default()
        );
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
