//! Checking a study against its panels before anything is fitted: every
//! column, control term, fixed effect, covariance, period and generated
//! formula. Without it a typo surfaced as a "not estimable" verdict deep in
//! the report of a run that exited 0; here every problem is listed at once,
//! each with its place (hypothesis id, check, key) and the nearest column.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::oos::{self, OosSpec};
use super::run::{
    mediation_specs, period_specs, placebo_spec, placeholder, robustness_specs, specify, vcov_for, Origin, Panels, Spec,
};
use super::spec::{Check, Hypothesis, Kind, Level, Study};
use super::StudyError;
use crate::data::read::nearest_name;
use crate::formula::Formula;
use crate::inference::VcovSpec;

/// One problem of a study: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A hypothesis id, `robustness `name``, `out_of_sample `name``, or a key.
    pub place: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// The problems as an indented list, one a line (for [`StudyError::Invalid`]).
pub(crate) fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
}

/// What a sound study holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub hypotheses: usize,
    /// Robustness checks (`[[robustness]]`).
    pub checks: usize,
    /// Model formulas generated and parsed (main, period, robustness,
    /// placebo, mediation paths, out of sample).
    pub specifications: usize,
}

/// Load the study's panels and [`validate`] it, fitting nothing (`concord
/// study check`).
pub fn check(study: &Study, opts: &super::RunOptions) -> Result<Checked, StudyError> {
    validate(study, &super::run::load_panels(study, opts)?)
}

/// Check `study` against `panels` (from [`super::run::load_panels`]) and
/// return every problem together, or what was checked.
///
/// ```
/// use concord::data::simulate::SimParams;
/// use concord::study::{run::load_panels, validate, RunOptions, Study};
/// let toml = r#"
/// name = "demo"
/// title = "Demo"
/// [data]
/// from = 1990
/// to = 2000
/// [[hypotheses]]
/// id = "H1"
/// claim = "IGOs lower conflict"
/// level = "state-year"
/// outcome = "mid_onset"
/// cause = "igo_fll"
/// controls = ["cinc", "poly(polity2, 2)"]
/// direction = "negative"
/// family = "logit"
/// "#;
/// let study = Study::from_toml(toml).unwrap();
/// let opts = RunOptions { simulate: Some(SimParams { n_states: 20, ..Default::default() }), ..Default::default() };
/// let panels = load_panels(&study, &opts).unwrap();
/// let e = validate(&study, &panels).unwrap_err().to_string();
/// assert!(e.contains("H1: cause `igo_fll` is not a column of the state-year panel; did you mean `igo_full`?"), "{e}");
/// let fixed = Study::from_toml(&toml.replace("igo_fll", "igo_full")).unwrap();
/// assert_eq!(validate(&fixed, &panels).unwrap().hypotheses, 1);
/// ```
pub fn validate(study: &Study, panels: &Panels) -> Result<Checked, StudyError> {
    let mut v = Validator {
        study,
        columns: panels
            .frames
            .iter()
            .map(|(l, df)| (*l, df.get_column_names().iter().map(|s| s.to_string()).collect()))
            .collect(),
        origin: &panels.origin,
        problems: Vec::new(),
        flagged: BTreeSet::new(),
        specifications: 0,
    };
    v.periods();
    v.log1p();
    for h in &study.hypotheses {
        v.hypothesis(h);
    }
    for c in &study.robustness {
        v.check(c);
    }
    for o in &study.out_of_sample {
        v.out_of_sample(o);
    }
    for e in &study.event_study {
        v.event_study(e);
    }
    // The formulas the study generates, from parts found sound above (a
    // broken part would only repeat its problem in every formula).
    for h in &study.hypotheses {
        if !v.flagged.contains(&h.id) {
            v.generated(h);
        }
    }
    if v.problems.is_empty() {
        Ok(Checked {
            hypotheses: study.hypotheses.len(),
            checks: study.robustness.len(),
            specifications: v.specifications,
        })
    } else {
        Err(StudyError::Invalid(v.problems))
    }
}

struct Validator<'a> {
    study: &'a Study,
    columns: BTreeMap<Level, Vec<String>>,
    origin: &'a Origin,
    problems: Vec<Problem>,
    /// Places (hypothesis ids, check names) with a problem.
    flagged: BTreeSet<String>,
    specifications: usize,
}

impl Validator<'_> {
    fn push(&mut self, place: &str, message: String) {
        self.flagged.insert(place.to_string());
        if !self.problems.iter().any(|p| p.place == place && p.message == message) {
            self.problems.push(Problem { place: place.to_string(), message });
        }
    }

    /// Why `level` has no panel (only a study on its own panel file lacks one).
    fn no_panel(&self, level: Level) -> String {
        match self.origin {
            Origin::File { path, level: have } => {
                format!("the study's panel {} is {have}, not {level}", path.display())
            }
            _ => format!("there is no {level} panel"),
        }
    }

    /// `None` when `name` is a column of the `level` panel, else why not.
    fn missing(&self, level: Level, name: &str) -> Option<String> {
        let Some(cols) = self.columns.get(&level) else {
            return Some(self.no_panel(level));
        };
        if cols.iter().any(|c| c == name) {
            return None;
        }
        let mut m = format!("`{name}` is not a column of the {level} panel");
        if let Some(near) = nearest_name(name, cols.iter().map(String::as_str)) {
            m.push_str(&format!("; did you mean `{near}`?"));
        } else if let Some(source) = self.source_of(level, name) {
            m.push_str(&source);
        } else if let Some(base) = name.strip_prefix("log1p_").filter(|b| self.study.log1p.iter().any(|l| l == b)) {
            m.push_str(&format!(" (`log1p` finds no `{base}` in it"));
            m.push_str(&self.source_of(level, base).map_or(")".into(), |s| format!(";{}", s.replacen(" (", " ", 1))));
        }
        Some(m)
    }

    /// Where a column concord does not build by default comes from.
    fn source_of(&self, level: Level, name: &str) -> Option<String> {
        let m = crate::data::measures::MEASURES.iter().find(|m| m.at(level.unit()).any(|v| v.name == name))?;
        Some(match self.origin {
            Origin::Built => format!(" (it comes with `[data] add = [\"{}\"]`)", m.name),
            Origin::Simulated => {
                format!(" (a `[data] add = [\"{}\"]` variable; the simulator does not draw it)", m.name)
            }
            Origin::File { .. } => return None,
        })
    }

    /// A key that must name a column (outcome, cause, mediator, ...).
    fn column(&mut self, place: &str, level: Level, what: &str, name: &str) {
        if let Some(m) = self.missing(level, name) {
            self.push(place, format!("{what} {m}"));
        }
    }

    /// A control (or out-of-sample regressor): any formula term whose
    /// columns exist.
    fn term(&mut self, place: &str, level: Level, what: &str, text: &str) {
        match term_columns(text) {
            Err(e) => self.push(place, format!("{what} `{text}` is not a formula term: {e}")),
            Ok(cols) => {
                for c in cols {
                    if let Some(m) = self.missing(level, &c) {
                        let shown = if c == text.trim() { m } else { format!("{m} (in `{text}`)") };
                        self.push(place, format!("{what} {shown}"));
                    }
                }
            }
        }
    }

    /// A fixed effect (placeholders already replaced).
    fn fixed_effect(&mut self, place: &str, level: Level, fe: &str) {
        match Formula::parse(&format!("y ~ 1 | {fe}")) {
            Err(e) => self.push(place, format!("fixed effect `{fe}`: {}", e.message)),
            Ok(f) => {
                for c in f.columns().iter().skip(1) {
                    if let Some(m) = self.missing(level, c) {
                        self.push(place, format!("fixed effect {m}"));
                    }
                }
            }
        }
    }

    /// A covariance (placeholders already replaced) and its columns.
    fn vcov(&mut self, place: &str, level: Level, text: &str) {
        match text.parse::<VcovSpec>() {
            Err(e) => self.push(place, format!("vcov `{text}`: {e}")),
            Ok(v) => {
                let cols = match v {
                    VcovSpec::Cluster(c) => c,
                    VcovSpec::Dyadic(a, b) => vec![a, b],
                    VcovSpec::DriscollKraay { time: Some(t), .. } => vec![t],
                    _ => Vec::new(),
                };
                for c in cols {
                    if let Some(m) = self.missing(level, &c) {
                        self.push(place, format!("vcov column {m}"));
                    }
                }
            }
        }
    }

    fn periods(&mut self) {
        let (from, to) = (self.study.data.from, self.study.data.to);
        let mut seen = BTreeSet::new();
        for p in &self.study.periods {
            let place = format!("period `{}`", p.name);
            if !seen.insert(p.name.as_str()) {
                self.push(&place, "is defined twice".into());
            }
            if p.to < p.from {
                self.push(&place, format!("to ({}) is before from ({})", p.to, p.from));
            } else if p.to < from || p.from > to {
                self.push(&place, format!("{}-{} has no year in the study's years {from}-{to}", p.from, p.to));
            }
        }
    }

    fn log1p(&mut self) {
        for c in &self.study.log1p {
            if !self.columns.values().any(|cols| cols.contains(c)) {
                let all: BTreeSet<&str> = self.columns.values().flatten().map(String::as_str).collect();
                let mut m = format!("`{c}` is not a column of any of the study's panels");
                if let Some(near) = nearest_name(c, all) {
                    m.push_str(&format!("; did you mean `{near}`?"));
                } else if let Some(s) = self.columns.keys().find_map(|l| self.source_of(*l, c)) {
                    m.push_str(&s);
                }
                self.push("log1p", m);
            }
        }
    }

    fn hypothesis(&mut self, h: &Hypothesis) {
        let (place, level) = (h.id.as_str(), h.level);
        if !self.columns.contains_key(&level) {
            let m = self.no_panel(level);
            self.push(place, format!("level = \"{level}\": {m}"));
            return;
        }
        self.column(place, level, "outcome", &h.outcome);
        self.column(place, level, "cause", &h.cause);
        if let Some(m) = &h.mediator {
            self.column(place, level, "mediator", m);
        }
        for c in &h.controls {
            self.term(place, level, "control", c);
        }
        for f in &h.fixed_effects {
            self.fixed_effect(place, level, &placeholder(f, level));
        }
        self.vcov(place, level, &vcov_for(&h.vcov, level));
        let btscs = std::iter::once(self.study.btscs).chain(self.study.robustness.iter().filter_map(|c| c.btscs));
        if h.peace_years && btscs.into_iter().any(|b| b.terms().is_some()) {
            self.column(place, level, "peace_years = true, but", "peace_years");
        }
        if let [a, b] = h.compare.as_ref().map(|c| c.as_slice()).unwrap_or_default() {
            if a == b {
                self.push(place, format!("compare names the period `{a}` twice"));
            }
        }
        if h.kind == Kind::Mediation {
            if let Err(e) = mediation_specs(self.study, h) {
                self.push(place, e);
            }
        }
        if h.mediator_family.is_some_and(|f| f != crate::estimate::Family::Gaussian) {
            self.push(
                place,
                "mediator_family: the mediator model (path a) is linear; only \"gaussian\" is supported".into(),
            );
        }
    }

    fn check(&mut self, c: &Check) {
        let place = format!("robustness `{}`", c.name);
        let study = self.study;
        let applied: Vec<&Hypothesis> = study.hypotheses.iter().filter(|h| specify(study, h, c).is_some()).collect();
        for (key, value) in &c.replace {
            let uses = |h: &Hypothesis| h.outcome == *key || h.cause == *key || h.controls.contains(key);
            let known = study.hypotheses.iter().any(uses) || self.columns.values().any(|cols| cols.contains(key));
            if !known {
                let names: BTreeSet<&str> = self
                    .columns
                    .values()
                    .flatten()
                    .map(String::as_str)
                    .chain(study.hypotheses.iter().flat_map(|h| h.controls.iter().map(String::as_str)))
                    .collect();
                let mut m = format!("replace key `{key}` is neither a column of the study's panels nor one of its controls, so the check applies to nothing");
                if let Some(near) = nearest_name(key, names) {
                    m.push_str(&format!("; did you mean `{near}`?"));
                }
                self.push(&place, m);
                continue;
            }
            for h in applied.iter().filter(|h| uses(h)) {
                let what = format!("replace `{key}` =");
                if h.outcome != *key && h.cause != *key {
                    self.term(&place, h.level, &what, value);
                } else {
                    self.column(&place, h.level, &what, value);
                }
            }
        }
        let subset_columns = c
            .subset
            .as_deref()
            .and_then(|s| crate::formula::subset::Cond::parse(s).ok())
            .map(|s| s.columns())
            .unwrap_or_default();
        for h in &applied {
            for v in &subset_columns {
                self.column(&place, h.level, "subset uses", v);
            }
            for f in c.fixed_effects.iter().flatten() {
                self.fixed_effect(&place, h.level, &placeholder(f, h.level));
            }
            if let Some(v) = &c.vcov {
                self.vcov(&place, h.level, &vcov_for(v, h.level));
            }
        }
    }

    fn out_of_sample(&mut self, o: &OosSpec) {
        let place = format!("out_of_sample `{}`", o.name);
        let level = o.level;
        if !self.columns.contains_key(&level) {
            let m = self.no_panel(level);
            self.push(&place, format!("level = \"{level}\": {m}"));
            return;
        }
        self.column(&place, level, "outcome", &o.outcome);
        for t in o.base.iter().chain(&o.chain) {
            self.term(&place, level, "regressor", t);
        }
        if o.peace_years && self.study.btscs.terms().is_some() {
            self.column(&place, level, "peace_years = true, but", "peace_years");
        }
        if !self.flagged.contains(&place) {
            let (fb, fc) = oos::formulas(self.study, o);
            for f in [fb, fc] {
                self.formula(&place, level, &f);
            }
        }
    }

    /// An event study's columns: treatment, outcome, fixed effects and the
    /// covariance's (its `rel_year` is built by the run, so its formula is not
    /// checked against the panel).
    fn event_study(&mut self, e: &super::event_study::EventStudySpec) {
        let place = format!("event_study `{}`", e.name);
        let level = e.level;
        if !self.columns.contains_key(&level) {
            let m = self.no_panel(level);
            self.push(&place, format!("level = \"{level}\": {m}"));
            return;
        }
        self.column(&place, level, "treatment", &e.treatment);
        self.column(&place, level, "outcome", &e.outcome);
        for f in &e.fixed_effects {
            self.fixed_effect(&place, level, &placeholder(f, level));
        }
        self.vcov(&place, level, &e.vcov_spec());
    }

    /// Every formula of a hypothesis: main (or the mediation paths), the
    /// period fits, the robustness battery and the placebo.
    fn generated(&mut self, h: &Hypothesis) {
        let study = self.study;
        let mut specs: Vec<Spec> = Vec::new();
        if h.kind == Kind::Mediation {
            let Ok(m) = mediation_specs(study, h) else { return };
            specs.extend([m.a, m.b, m.c]);
        } else {
            let Some(main) = specify(study, h, &Check::default()) else {
                self.push(
                    &h.id,
                    "the main specification is not defined (fixed effects by `system` at the system level?)".into(),
                );
                return;
            };
            let checks = robustness_specs(study, h, &main);
            specs.push(main);
            specs.extend(period_specs(study, h));
            specs.extend(checks.into_iter().filter(|s| !self.flagged.contains(&format!("robustness `{}`", s.name))));
            specs.extend(placebo_spec(study, h));
        }
        for s in specs {
            let place = if s.name == "main" { h.id.clone() } else { format!("{} ({})", h.id, s.name) };
            self.formula(&place, h.level, &s.formula);
            self.vcov(&place, h.level, &s.vcov);
            // The family with this vcov (and fixed effects or not) must be one
            // concord estimates.
            if let (Ok(v), Ok(f)) = (s.vcov.parse::<crate::inference::VcovSpec>(), Formula::parse(&s.formula)) {
                if !matches!(s.family, crate::estimate::Family::Cox | crate::estimate::Family::Clogit) {
                    // Fixed effects proper: not a slope alone (`g[[x]]`).
                    let fe = f
                        .fixed_effects
                        .iter()
                        .any(|x| crate::formula::design::fe_parts(x).1.is_none_or(|(_, with_fe)| with_fe));
                    if let Err(e) = crate::estimate::supported(s.family, &v, fe) {
                        self.push(&place, format!("{e} (family {}, vcov {})", s.family, s.vcov));
                    }
                }
            }
        }
    }

    /// A generated formula parses and reads only columns of its panel.
    fn formula(&mut self, place: &str, level: Level, text: &str) {
        self.specifications += 1;
        match Formula::parse(text) {
            Err(e) => self.push(place, format!("the formula `{text}` does not parse: {}", e.message)),
            Ok(f) => {
                for c in f.columns() {
                    if let Some(m) = self.missing(level, &c) {
                        self.push(place, format!("{m} (in `{text}`)"));
                    }
                }
            }
        }
    }
}

/// The columns a formula term reads, from `y ~ term` (and `z ~ term`, so
/// that a term reading `y` is still seen). Only [`Formula::parse`] decides
/// what a term is, so new formula functions are accepted as they come.
fn term_columns(text: &str) -> Result<Vec<String>, String> {
    let mut cols: Vec<String> = Vec::new();
    for lhs in ["y", "z"] {
        let f = Formula::parse(&format!("{lhs} ~ {text}")).map_err(|e| e.message)?;
        if !f.fixed_effects.is_empty() {
            return Err("`|` starts fixed effects; list them in `fixed_effects`".into());
        }
        for c in f.columns().into_iter().skip(1) {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_columns_come_from_the_parser() {
        assert_eq!(term_columns("poly(peace_years, 3)").unwrap(), ["peace_years"]);
        assert_eq!(term_columns("a:b + y").unwrap(), ["a", "b", "y"]);
        assert!(term_columns("x + + z").is_err());
        assert!(term_columns("x | fe").unwrap_err().contains("fixed_effects"));
    }
}
