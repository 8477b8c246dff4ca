//! The post-Cold War contrast as a pre-specified family over every link
//! (`[contrast]`): each effect and total-effect hypothesis re-fitted in its
//! main specification with the cause interacted with the second period's
//! indicator, on the rows of the two compared periods. Reported on the
//! scale of the outcome's mean, as the change in the cause's average
//! marginal effect from the first period to the second (the second
//! difference; Ai & Norton 2003: in a logit the log-odds interaction does
//! not give its sign or size), with the log-odds (or linear) interaction
//! beside it. The family's p-values are adjusted together (the study's
//! correction); verdicts say whether the association is stronger, in the
//! hypothesis's direction, in the second period.

use super::output::{num, pval};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::run::{spec_sample, specify, Spec, Verdict};
use super::spec::{Check, Correction, Hypothesis, Kind, Level, Study};
use super::StudyError;
use crate::estimate::{design_for, fit_design, Family, FitOptions};
use crate::formula::Formula;
use crate::inference::hypothesis::{one_sided_p, Direction};
use crate::inference::margins::{second_difference, SecondDifference};
use crate::inference::{Coefficient, Dist};
use crate::report::tables::{plain_table, Format};

/// The `[contrast]` section of a study file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContrastSpec {
    /// The two periods compared (names from `[[periods]]`): the second
    /// minus the first.
    pub compare: [String; 2],
    /// The hypotheses (effect or total) whose links are contrasted; every
    /// effect and total hypothesis when absent.
    #[serde(default)]
    pub links: Vec<String>,
    /// The prefix of each contrast's name (`H4-` gives `H4-H2a-d`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

fn default_prefix() -> String {
    "H4-".into()
}

impl ContrastSpec {
    /// Checks of the section against the study, as a message for its error.
    pub fn check(&self, study: &Study) -> Result<(), String> {
        for p in &self.compare {
            study.period(p).map_err(|e| format!("contrast.compare: {e}"))?;
        }
        if self.compare[0] == self.compare[1] {
            return Err(format!("contrast.compare names the period `{}` twice", self.compare[0]));
        }
        let (a, b) = (study.period(&self.compare[0]), study.period(&self.compare[1]));
        if let (Ok(a), Ok(b)) = (a, b) {
            if a.from <= b.to && b.from <= a.to {
                return Err(format!(
                    "contrast.compare: the periods `{}` ({}-{}) and `{}` ({}-{}) overlap; a contrast needs two separate periods",
                    a.name, a.from, a.to, b.name, b.from, b.to
                ));
            }
        }
        for id in &self.links {
            match study.hypothesis(id) {
                None => return Err(format!("contrast.links: `{id}` is not a hypothesis of the study")),
                Some(h) if !matches!(h.kind, Kind::Effect | Kind::Total) => {
                    return Err(format!("contrast.links: `{id}` is not an effect or total hypothesis"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The hypotheses contrasted, in the study's order.
    pub fn hypotheses<'a>(&self, study: &'a Study) -> Vec<&'a Hypothesis> {
        study
            .hypotheses
            .iter()
            .filter(|h| matches!(h.kind, Kind::Effect | Kind::Total))
            .filter(|h| self.links.is_empty() || self.links.contains(&h.id))
            .collect()
    }
}

/// One link's contrast.
#[derive(Debug, Clone, Serialize)]
pub struct LinkContrast {
    /// The contrast's name (`H4-` and the link's).
    pub name: String,
    pub hypothesis: String,
    pub level: Level,
    pub family: Family,
    pub direction: Direction,
    pub formula: String,
    /// The interaction term (the cause times the second period's indicator).
    pub term: String,
    pub nobs: Option<usize>,
    /// The interaction coefficient (log-odds for a logit).
    pub interaction: Option<Coefficient>,
    /// The cause's average marginal effect in each period and their
    /// difference, on the scale of the outcome's mean.
    pub second_difference: Option<SecondDifference>,
    /// One-sided p of the second difference in the hypothesis's direction
    /// (a stronger association in the second period), and of the opposite.
    pub p_one_sided: Option<f64>,
    pub p_opposite: Option<f64>,
    /// Adjusted over the family (the study's correction).
    pub p_adjusted: Option<f64>,
    pub verdict: Verdict,
    /// The reference distribution of the statistics (t with the clusters'
    /// or the residual degrees of freedom, or normal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Dist>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The family (`contrast.json`).
#[derive(Debug, Clone, Serialize)]
pub struct ContrastResult {
    /// The level of the intervals.
    pub level: f64,
    pub first: String,
    pub second: String,
    pub correction: Correction,
    pub links: Vec<LinkContrast>,
}

/// What the section says before the table.
pub fn intro(r: &ContrastResult) -> String {
    format!(
        "Is each link's association stronger after the Cold War? Each effect and total hypothesis contrasted is re-fitted in its main specification on the years of `{a}` and `{b}`, with the cause interacted with the indicator of `{b}`. The estimate is the second difference: the cause's average marginal effect on the outcome's scale (a probability for a 0/1 outcome) in `{b}` minus that in `{a}`, fixed effects held as fitted, delta-method standard errors from the model's own vcov; the interaction coefficient (log-odds for a logit) is beside it. A contrast is supported when the second difference is in the hypothesis's direction (a stronger association in `{b}`), with p adjusted over the {n} contrasts of the family ({c}). Causes observed in one period only are not estimable. Associations, not effects.",
        a = r.first,
        b = r.second,
        n = r.links.iter().filter(|l| l.p_one_sided.is_some()).count(),
        c = r.correction.name()
    )
}

/// The moderation specification of `h`'s main model over the two periods.
pub fn contrast_spec(study: &Study, h: &Hypothesis, compare: &[String; 2]) -> Option<Spec> {
    let m = Hypothesis { kind: Kind::Moderation, compare: Some(compare.clone()), ..h.clone() };
    specify(study, &m, &Check::default())
}

/// Fit one link's contrast.
fn one(study: &Study, df: &DataFrame, h: &Hypothesis, c: &ContrastSpec) -> LinkContrast {
    let spec = contrast_spec(study, h, &c.compare);
    let mut out = LinkContrast {
        formula: spec.as_ref().map(|s| s.formula.clone()).unwrap_or_default(),
        term: spec.as_ref().map(|s| s.term.clone()).unwrap_or_default(),
        ..one_missing(h, c)
    };
    let Some(spec) = spec else {
        out.error = Some("the specification is not defined".into());
        return out;
    };
    match fit_link(study, df, &spec, &c.compare[1]) {
        Ok((nobs, inter, sd, dist)) => {
            out.nobs = Some(nobs);
            out.p_one_sided = Some(one_sided_p(sd.difference.statistic, h.direction, dist));
            out.p_opposite = Some(one_sided_p(sd.difference.statistic, opposite(h.direction), dist));
            out.interaction = Some(inter);
            out.second_difference = Some(sd);
            out.distribution = Some(dist);
        }
        Err(e) => out.error = Some(e),
    }
    out
}

fn opposite(d: Direction) -> Direction {
    match d {
        Direction::Positive => Direction::Negative,
        Direction::Negative => Direction::Positive,
    }
}

/// The interaction model of `spec` (a moderation's, see [`contrast_spec`]),
/// `second` the name of the period its interaction's indicator marks: its
/// observations, the interaction coefficient, the second difference and the
/// reference distribution.
pub fn fit_link(
    study: &Study,
    df: &DataFrame,
    spec: &Spec,
    second: &str,
) -> Result<(usize, Coefficient, SecondDifference, Dist), String> {
    let mean = spec.family.mean_function().map_err(|e| e.to_string())?;
    let vcov = spec.vcov.parse().map_err(|e: crate::inference::InferenceError| e.to_string())?;
    let opts = FitOptions {
        vcov,
        level: study.level,
        panel: Some(super::run::panel_spec(spec.level)),
        sample: spec_sample(study, df, spec)?,
        ..Default::default()
    };
    let formula = Formula::parse(&spec.formula).map_err(|e| e.to_string())?;
    let design = design_for(df, &formula, &opts).map_err(|e| e.to_string())?;
    let (fit, design) = fit_design(design, &formula.to_string(), spec.family, &opts).map_err(|e| e.to_string())?;
    let cause = spec.term.split_once(':').map(|(a, _)| a.to_string()).ok_or("the key term is not an interaction")?;
    let p = study.period(second).map_err(|e| e.to_string())?;
    let years = crate::panel::int_column(df, "year").map_err(|e| e.to_string())?;
    let in_second: Vec<bool> = design.rows.iter().map(|&r| p.from <= years[r] && years[r] <= p.to).collect();
    let n2 = in_second.iter().filter(|s| **s).count();
    if n2 == 0 || n2 == in_second.len() {
        return Err(format!(
            "the model's rows are all in one period ({} of {} in `{second}`): its outcome or cause is observed in one period only",
            n2,
            in_second.len()
        ));
    }
    let pos = |t: &str| design.names.iter().position(|n| n == t);
    let (Some(j), Some(ji)) = (pos(&cause), pos(&spec.term)) else {
        return Err(format!("`{}` or `{cause}` was dropped from the model (collinear)", spec.term));
    };
    let inter = fit.coef(&spec.term).cloned().ok_or("the interaction has no estimate")?;
    // The coefficients of the design's columns (a negative binomial appends
    // its dispersion to beta and the covariance).
    let k = design.x.ncols();
    if fit.beta.len() < k || fit.cov.nrows() < k {
        return Err("the fit has fewer coefficients than the design has columns".into());
    }
    let beta = fit.beta.rows(0, k).into_owned();
    let cov = fit.cov.view((0, 0), (k, k)).into_owned();
    let mut eta: Vec<f64> = (&design.x * &beta).iter().copied().collect();
    if let Some(fe) = &design.fe_eta {
        for (e, a) in eta.iter_mut().zip(fe.iter()) {
            *e += a;
        }
    } else if !design.fixed_effects.is_empty() {
        return Err("the fixed effects were not recovered for predictions".into());
    }
    let sd = second_difference(mean, &design.x, &eta, &beta, &cov, j, ji, &in_second, fit.distribution, study.level)
        .map_err(|e| e.to_string())?;
    Ok((fit.nobs, inter, sd, fit.distribution))
}

/// Every link's contrast, adjusted over the family.
pub fn compute(study: &Study, frames: &BTreeMap<Level, DataFrame>) -> Option<ContrastResult> {
    let c = study.contrast.as_ref()?;
    let hs = c.hypotheses(study);
    let mut links: Vec<LinkContrast> = hs
        .par_iter()
        .map(|h| match frames.get(&h.level) {
            Some(df) => one(study, df, h, c),
            None => {
                let mut l = one_missing(h, c);
                l.error = Some(format!("no {} panel", h.level));
                l
            }
        })
        .collect();
    let est: Vec<usize> = (0..links.len()).filter(|&i| links[i].p_one_sided.is_some()).collect();
    let p: Vec<f64> = est.iter().map(|&i| links[i].p_one_sided.unwrap_or(1.0)).collect();
    let q: Vec<f64> = est.iter().map(|&i| links[i].p_opposite.unwrap_or(1.0)).collect();
    for (&i, (pa, verdict)) in est.iter().zip(Verdict::over_family(study.correction, study.alpha, &p, &q)) {
        links[i].p_adjusted = Some(pa);
        links[i].verdict = verdict;
    }
    Some(ContrastResult {
        level: study.level,
        first: c.compare[0].clone(),
        second: c.compare[1].clone(),
        correction: study.correction,
        links,
    })
}

fn one_missing(h: &Hypothesis, c: &ContrastSpec) -> LinkContrast {
    LinkContrast {
        name: format!("{}{}", c.prefix, h.id),
        hypothesis: h.id.clone(),
        level: h.level,
        family: h.family,
        direction: h.direction,
        formula: String::new(),
        term: String::new(),
        nobs: None,
        interaction: None,
        second_difference: None,
        p_one_sided: None,
        p_opposite: None,
        p_adjusted: None,
        verdict: Verdict::NotEstimable,
        distribution: None,
        error: None,
    }
}

/// The table in one format: a row per link.
pub fn table(r: &ContrastResult, format: Format) -> String {
    let sd = |l: &LinkContrast, f: &dyn Fn(&SecondDifference) -> &Coefficient| {
        l.second_difference.as_ref().map(|s| f(s).estimate)
    };
    let rows: Vec<Vec<String>> = r
        .links
        .iter()
        .map(|l| {
            let d = l.second_difference.as_ref().map(|s| &s.difference);
            vec![
                l.name.clone(),
                l.level.to_string(),
                format!("{} ({})", l.term, l.family),
                l.nobs.map_or("–".into(), |n| crate::report::tables::thousands(&n.to_string())),
                num(sd(l, &|s| &s.first)),
                num(sd(l, &|s| &s.second)),
                num(d.map(|c| c.estimate)),
                d.map_or("–".into(), |c| format!("[{}, {}]", num(Some(c.conf_low)), num(Some(c.conf_high)))),
                num(l.interaction.as_ref().map(|c| c.estimate)),
                pval(d.map(|c| c.p_value)),
                pval(l.p_adjusted),
                match &l.error {
                    Some(e) => format!("not estimable: {e}"),
                    None => l.verdict.label().to_string(),
                },
            ]
        })
        .collect();
    let lvl = format!("{}", 100.0 * r.level);
    plain_table(
        &[
            "contrast",
            "level",
            "interaction (model)",
            "N",
            &format!("AME {}", r.first),
            &format!("AME {}", r.second),
            "second difference",
            &format!("{lvl}% CI"),
            "interaction coefficient",
            "p (two-sided)",
            "p adjusted (one-sided)",
            "verdict",
        ],
        &rows,
        &[false, false, false, true, true, true, true, false, true, true, true, false],
        &[format!(
            "AME: the cause's average marginal effect on the outcome's scale (probability for logit and probit, count for Poisson, units for linear) in each period; second difference: {} minus {}, delta-method interval. Interaction coefficient: log-odds for logit. Verdicts on the adjusted one-sided p of the second difference in the hypothesis's direction ({}).",
            r.second,
            r.first,
            r.correction.name()
        )],
        format,
    )
}

/// `contrast.json` and `tables/contrast.{md,html,tex}` in `out`.
pub fn write(r: &ContrastResult, out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    super::output::write_json_and_tables(out, "contrast", r, |f| table(r, f))
}

/// One sentence per verdict class: which contrasts are supported,
/// contradicted, not supported, not estimable.
pub fn sentences(r: &ContrastResult) -> Vec<String> {
    let mut out = Vec::new();
    for (v, words) in [
        (Verdict::Supported, "stronger after the change, in the hypothesis's direction (adjusted)"),
        (Verdict::Contradicted, "weaker, or reversed, after the change (adjusted)"),
        (Verdict::NotSupported, "no adjusted evidence of a change"),
    ] {
        let names: Vec<String> = r
            .links
            .iter()
            .filter(|l| l.error.is_none() && l.verdict == v)
            .map(|l| {
                let d = l.second_difference.as_ref().map(|s| s.difference.estimate);
                format!("{} ({})", l.name, num(d))
            })
            .collect();
        if !names.is_empty() {
            out.push(format!("{}: {}.", upper_first(words), names.join(", ")));
        }
    }
    let failed: Vec<String> =
        r.links.iter().filter_map(|l| l.error.as_ref().map(|e| format!("{} ({e})", l.name))).collect();
    if !failed.is_empty() {
        out.push(format!("Not estimable: {}.", failed.join("; ")));
    }
    out
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// The section of verdicts.md.
pub fn markdown(r: &ContrastResult) -> String {
    let mut md = format!("\n## The post-Cold War contrast, link by link\n\n{}\n\n", intro(r));
    let _ = writeln!(md, "{}", table(r, Format::Markdown));
    for s in sentences(r) {
        let _ = writeln!(md, "- {s}");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_parses_and_checks_its_periods_and_links() {
        let study = Study::from_toml(
            r#"
name = "t"
title = "t"
[data]
from = 1950
to = 2000
[[periods]]
name = "early"
from = 1950
to = 1975
[[periods]]
name = "late"
from = 1976
to = 2000
[[hypotheses]]
id = "H"
claim = "c"
level = "state-year"
outcome = "y"
cause = "x"
direction = "negative"
family = "logit"
fixed_effects = ["time"]
[contrast]
compare = ["early", "late"]
"#,
        )
        .unwrap();
        let c = study.contrast.as_ref().unwrap();
        assert_eq!(c.prefix, "H4-");
        assert_eq!(c.hypotheses(&study).len(), 1);
        let s = contrast_spec(&study, &study.hypotheses[0], &c.compare).unwrap();
        assert_eq!(s.term, "l(x,1):in_late");
        assert_eq!(s.periods, ["early", "late"]);
        let bad = ContrastSpec { compare: ["early".into(), "later".into()], links: vec![], prefix: "H4-".into() };
        assert!(bad.check(&study).unwrap_err().contains("later"));
        let bad =
            ContrastSpec { compare: ["early".into(), "late".into()], links: vec!["G".into()], prefix: "H4-".into() };
        assert!(bad.check(&study).unwrap_err().contains("`G` is not a hypothesis"));
        assert!(
            toml::from_str::<ContrastSpec>("compare = [\"a\", \"b\"]\nlink = []").is_err(),
            "unknown keys are errors"
        );
    }
}
