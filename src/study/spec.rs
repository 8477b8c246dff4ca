//! The study file: what a study measures, which hypotheses it tests, how, and
//! with which robustness battery. Read from TOML with serde; unknown keys and
//! wrong types are errors that name the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StudyError;
use crate::data::simulate::SimParams;
use crate::data::Unit;
use crate::estimate::Family;
use crate::inference::hypothesis::Direction;
use crate::inference::multiple::{benjamini_hochberg, holm};

/// A study: data, hypotheses, robustness battery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    pub name: String,
    pub title: String,
    /// Seed of every random draw (bootstrap, simulation).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Significance level of the verdicts (one-sided).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Confidence level of reported intervals.
    #[serde(default = "default_level")]
    pub level: f64,
    /// Multiple-testing correction the verdicts use (both are reported).
    #[serde(default)]
    pub correction: Correction,
    pub data: DataSpec,
    #[serde(default)]
    pub btscs: Btscs,
    #[serde(default)]
    pub bootstrap: BootstrapSpec,
    #[serde(default)]
    pub periods: Vec<Period>,
    /// Named measures for each concept (documentation; also printed in the report).
    #[serde(default)]
    pub measures: BTreeMap<String, Vec<String>>,
    pub hypotheses: Vec<Hypothesis>,
    #[serde(default)]
    pub robustness: Vec<Check>,
    /// Labels of columns or terms in the report's figures and tables
    /// (`igo_full = "IGO memberships"`, `"l(cinc,1)" = "Power"`), over the
    /// built-in dictionary (`concord::report::labels`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Placebo test: add the lead `f(cause, k)` of the cause to the main
    /// specification of every effect and total-effect hypothesis and report
    /// its estimate (a cause cannot act before it happens; a lead that
    /// "predicts" the outcome points to reverse causation or confounding).
    pub placebo_lead: Option<i64>,
    /// Columns to add as `log1p_<name>` = ln(1 + value) to every panel that
    /// has them (distances, capability ratios: skewed, with zeros).
    #[serde(default)]
    pub log1p: Vec<String>,
    /// Out-of-sample checks: train on one period, predict another, with and
    /// without the chain's variables.
    #[serde(default)]
    pub out_of_sample: Vec<super::oos::OosSpec>,
    /// The measurement-validity table: coverage, named cases and
    /// correlations of the measures of each pillar (`[validity]`).
    pub validity: Option<super::validity::ValiditySpec>,
    /// Pre-specified event studies around the first year a 0/1 treatment
    /// switches on (`[[event_study]]`): leads and lags of the outcome,
    /// fixest's `i(rel_year, ref = -1)`.
    #[serde(default)]
    pub event_study: Vec<super::event_study::EventStudySpec>,
    /// Sensitivity of the main links to omitted confounding: the controls to
    /// benchmark against (`[sensitivity]`).
    pub sensitivity: Option<super::sensitivity::SensitivitySpec>,
    /// The period contrast of every link as one family (`[contrast]`): the
    /// change in each cause's average marginal effect between two periods.
    pub contrast: Option<super::contrast::ContrastSpec>,
}

fn default_seed() -> u64 {
    20261129
}
fn default_alpha() -> f64 {
    0.05
}
fn default_level() -> f64 {
    0.95
}
fn default_vcov() -> String {
    "iid".into()
}
fn default_lag() -> i64 {
    1
}
fn default_replicates() -> usize {
    200
}

/// Multiple-testing correction across the hypothesis family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    #[default]
    Holm,
    /// Benjamini-Hochberg.
    Bh,
    None,
}

impl Correction {
    /// The correction's name in a sentence ("Holm", "Benjamini-Hochberg",
    /// or "no adjustment").
    pub fn name(self) -> &'static str {
        match self {
            Correction::Holm => "Holm",
            Correction::Bh => "Benjamini-Hochberg",
            Correction::None => "no adjustment",
        }
    }

    /// The p-values of a family, adjusted.
    ///
    /// ```
    /// use concord::study::spec::Correction;
    /// assert_eq!(Correction::Holm.adjust(&[0.01, 0.04]), vec![0.02, 0.04]);
    /// assert_eq!(Correction::None.adjust(&[0.01, 0.04]), vec![0.01, 0.04]);
    /// ```
    pub fn adjust(self, p: &[f64]) -> Vec<f64> {
        match self {
            Correction::Holm => holm(p),
            Correction::Bh => benjamini_hochberg(p),
            Correction::None => p.to_vec(),
        }
    }
}

/// Where the panels come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub from: i64,
    pub to: i64,
    /// Data dir of the real datasets (else --data-dir, CONCORD_DATA, data/raw).
    pub data_dir: Option<PathBuf>,
    /// Run on concord's simulator with these parameters instead of real data.
    pub simulate: Option<SimParams>,
    /// Sources added to the panels, as `concord data build --add` (each level
    /// gets the ones with variables at its unit). Real data only: simulated
    /// panels lack them, and a hypothesis on one reports the missing column.
    #[serde(default)]
    pub add: Vec<String>,
    /// The user's own panel (any table `concord fit` reads: CSV, TSV, Parquet, Arrow IPC, Stata `.dta`) instead of the
    /// panels concord builds; a relative path is read from the study file's
    /// folder, so a study and its data can move together.
    pub panel: Option<PathBuf>,
    /// The level of `panel`; inferred from its key columns when absent
    /// (`ccode1, ccode2, year`: dyad-year; `ccode, year`: state-year).
    pub panel_level: Option<Level>,
}

/// How binary time-series cross-section models account for time dependence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Btscs {
    /// Peace years, squared and cubed (Carter & Signorino 2010).
    #[default]
    Cubic,
    /// Natural cubic spline of peace years, 3 df (Beck, Katz & Tucker 1998).
    Spline,
    /// No time-dependence terms.
    None,
}

impl Btscs {
    /// The formula terms for peace years (empty for `None`).
    pub fn terms(self) -> Option<&'static str> {
        match self {
            Btscs::Cubic => Some("poly(peace_years, 3)"),
            Btscs::Spline => Some("ns(peace_years, 3)"),
            Btscs::None => None,
        }
    }
}

/// Cluster (unit) bootstrap of indirect effects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSpec {
    #[serde(default = "default_replicates")]
    pub replicates: usize,
    /// How a mediation's replicates re-estimate its paths: `one-step` (one
    /// Newton step from the full-sample estimates, the default) or `refit`.
    #[serde(default)]
    pub method: super::mediation::BootstrapMethod,
    /// One-step: further Newton steps of the outcome model in each
    /// replicate (0 by default).
    #[serde(default)]
    pub extra_steps: usize,
}

impl Default for BootstrapSpec {
    fn default() -> Self {
        BootstrapSpec { replicates: default_replicates(), method: Default::default(), extra_steps: 0 }
    }
}

/// A named range of years (e.g. the Cold War).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub name: String,
    pub from: i64,
    pub to: i64,
    /// How reports name the period ("Cold War"); without it, the name with
    /// spaces for underscores and a capital first letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Period {
    /// The period's name in reports.
    ///
    /// ```
    /// use concord::study::spec::Period;
    /// let p = Period { name: "post_cold_war".into(), from: 1990, to: 2014, label: None };
    /// assert_eq!(p.title(), "Post cold war");
    /// let p = Period { label: Some("Post-Cold War".into()), ..p };
    /// assert_eq!(p.title(), "Post-Cold War");
    /// ```
    pub fn title(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            let words = self.name.replace('_', " ");
            let mut c = words.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
    }
}

/// The level of analysis, as in the study file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    StateYear,
    DyadYear,
    /// Directed dyad-years (both orders of every pair, `ccode1` the
    /// potential initiator): for directional outcomes such as `mid_init`.
    DirectedDyadYear,
    SystemYear,
}

impl Level {
    pub fn unit(self) -> Unit {
        match self {
            Level::StateYear => Unit::StateYear,
            Level::DyadYear | Level::DirectedDyadYear => Unit::DyadYear,
            Level::SystemYear => Unit::SystemYear,
        }
    }

    /// The column that identifies the unit (`unit` in fixed effects and vcov):
    /// for directed dyad-years the directed dyad (`1000 * ccode1 + ccode2`).
    pub fn unit_column(self) -> &'static str {
        match self {
            Level::StateYear => "ccode",
            Level::DyadYear | Level::DirectedDyadYear => "dyad",
            Level::SystemYear => "system",
        }
    }

    /// Rows are pairs of states (`ccode1`, `ccode2`), directed or not.
    pub fn is_dyadic(self) -> bool {
        matches!(self, Level::DyadYear | Level::DirectedDyadYear)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Level::DirectedDyadYear => f.write_str("directed-dyad-year"),
            l => l.unit().fmt(f),
        }
    }
}

/// One level or several (`only_level = "dyad-year"` or
/// `only_level = ["dyad-year", "directed-dyad-year"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Levels {
    One(Level),
    Many(Vec<Level>),
}

// By hand, not `untagged`: a wrong level keeps serde's "unknown variant"
// message with the levels there are.
impl<'de> Deserialize<'de> for Levels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IntoDeserializer, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Levels;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a level or a list of levels")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Levels, E> {
                Level::deserialize(v.into_deserializer()).map(Levels::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Levels, A::Error> {
                let mut v = Vec::new();
                while let Some(l) = a.next_element::<Level>()? {
                    v.push(l);
                }
                Ok(Levels::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Levels {
    /// Whether `level` is (among) these.
    pub fn contains(&self, level: Level) -> bool {
        match self {
            Levels::One(l) => *l == level,
            Levels::Many(v) => v.contains(&level),
        }
    }
}

/// What a hypothesis claims about its terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `cause` moves `outcome` in `direction`.
    #[default]
    Effect,
    /// The effect of `cause` on `outcome` runs through `mediator`: the
    /// indirect effect a x b has the sign `direction`.
    Mediation,
    /// The effect of `cause` on `outcome` is stronger (further in
    /// `direction`) in the second of `compare`'s periods than in the first.
    Moderation,
    /// The total effect of `cause` on `outcome` (no mediator held fixed),
    /// estimated like an effect; `spec_of` names the hypothesis whose
    /// specification it shares.
    Total,
}

/// One hypothesis and its main specification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    pub id: String,
    pub claim: String,
    #[serde(default)]
    pub kind: Kind,
    pub level: Level,
    pub outcome: String,
    pub cause: String,
    /// The pillar the effect runs through (mediation).
    pub mediator: Option<String>,
    /// Family of the mediator model (path a); gaussian by default.
    pub mediator_family: Option<Family>,
    pub direction: Direction,
    pub family: Family,
    /// Controls: a plain column name is lagged `lag` years like the cause;
    /// any other formula term (`log(mindist)`, `i(region)`, `poly(x, 2)`) is
    /// used as written, since its author chose its timing.
    #[serde(default)]
    pub controls: Vec<String>,
    /// Moderation: the expected sign of the cause's effect in a period
    /// alone, by period name (`{ cold_war = "negative" }`), for claims such
    /// as "deters less after the Cold War" whose interaction and period
    /// effects point different ways; `direction` where absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub period_direction: BTreeMap<String, Direction>,
    /// Fixed effects; `unit` and `time` stand for the level's unit column and `year`.
    #[serde(default)]
    pub fixed_effects: Vec<String>,
    /// Covariance (`iid`, `hc1`, `cluster:unit`, `dk`, ...).
    #[serde(default = "default_vcov")]
    pub vcov: String,
    /// Years by which the cause, mediator and controls are lagged.
    #[serde(default = "default_lag")]
    pub lag: i64,
    /// Add peace-years terms (binary conflict outcomes).
    #[serde(default)]
    pub peace_years: bool,
    /// Moderation: the two periods compared (names from `[[periods]]`).
    pub compare: Option<[String; 2]>,
    /// Restrict the main specification to one period.
    pub period: Option<String>,
    /// Lag of the cause when it differs from `lag` (e.g. 2 for X at t-2 in
    /// the mediation design X(t-2) -> M(t-1) -> Y(t)).
    pub cause_lag: Option<i64>,
    /// Total effects: take family, controls (less the cause), fixed effects,
    /// vcov, lag and peace years from this hypothesis, so the total effect
    /// is estimated in the same specification as the link it is compared to.
    pub spec_of: Option<String>,
    /// Mediation: the hypothesis whose specification path a (mediator on
    /// cause) uses: its fixed effects, controls and vcov.
    pub path_a: Option<String>,
    /// Mediation: the hypothesis whose specification path b (outcome on
    /// mediator and cause) uses: its family, controls, fixed effects
    /// (at most the time effect, as dummies), vcov and peace years.
    pub path_b: Option<String>,
    /// Mediation: let the effect of the mediator depend on the cause (a
    /// cause x mediator term in path b; Imai, Keele & Tingley 2010).
    #[serde(default)]
    pub interaction: bool,
    /// Mediation: the contrast of the cause, x -> x + shift, in units of the
    /// cause (one standard deviation of the cause in the sample when absent).
    pub shift: Option<f64>,
}

/// One robustness check: a change to the main specification of the
/// hypotheses it applies to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub label: String,
    /// Hypothesis ids (all effect and moderation hypotheses when empty).
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// Only for hypotheses of this family.
    pub only_family: Option<Family>,
    /// Only for hypotheses at this level (or these levels).
    pub only_level: Option<Levels>,
    pub family: Option<Family>,
    pub fixed_effects: Option<Vec<String>>,
    pub vcov: Option<String>,
    /// Variables replaced (outcome, cause or controls); the check applies
    /// only to hypotheses that use one of them.
    #[serde(default)]
    pub replace: BTreeMap<String, String>,
    /// Restrict to one period.
    pub period: Option<String>,
    /// Another way to model time dependence.
    pub btscs: Option<Btscs>,
    /// Controls added to each hypothesis's own (lagged as they are): the
    /// canonical controls a panel lacks in part (trade dependence).
    #[serde(default)]
    pub add_controls: Vec<String>,
    /// Rows kept, in `concord fit --subset` syntax (`relevant == 1`: the
    /// politically relevant dyads as a second sample).
    pub subset: Option<String>,
}

impl Study {
    /// Read and check a study file.
    pub fn from_file(path: &Path) -> Result<Study, StudyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StudyError::File { path: path.into(), message: e.to_string() })?;
        let mut study = Study::from_toml(&text).map_err(|e| match e {
            StudyError::Spec { message, .. } => StudyError::Spec { path: path.into(), message },
            other => other,
        })?;
        // The panel file sits beside the study file, wherever it is run from.
        if let Some(p) = study.data.panel.as_mut() {
            if p.is_relative() {
                *p = path.parent().unwrap_or(Path::new("")).join(&*p);
            }
        }
        Ok(study)
    }

    /// Parse and check a study from TOML text.
    ///
    /// ```
    /// use concord::study::spec::Study;
    /// let s = Study::from_toml(r#"
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
    /// cause = "igo_full"
    /// direction = "negative"
    /// family = "logit"
    /// "#).unwrap();
    /// assert_eq!(s.hypotheses[0].lag, 1);
    /// let e = Study::from_toml("name = 1").unwrap_err().to_string();
    /// assert!(e.contains("line 1"), "{e}");
    /// ```
    pub fn from_toml(text: &str) -> Result<Study, StudyError> {
        let study: Study = toml::from_str(text).map_err(|e| {
            // The line of the span's start (an unknown key starts its line, so
            // counting the lines before it would name the line above).
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().to_string();
            StudyError::Spec {
                path: PathBuf::from("<study>"),
                message: match line {
                    Some(l) => format!("line {l}: {msg}"),
                    None => msg,
                },
            }
        })?;
        let mut study = study;
        study.resolve()?;
        study.check()?;
        Ok(study)
    }

    /// Copy the specification of `spec_of` into total-effect hypotheses.
    fn resolve(&mut self) -> Result<(), StudyError> {
        let bad = |m: String| Err(StudyError::Spec { path: PathBuf::from("<study>"), message: m });
        let source = self.hypotheses.clone();
        for h in self.hypotheses.iter_mut() {
            for (key, id) in [("spec_of", &h.spec_of), ("path_a", &h.path_a), ("path_b", &h.path_b)] {
                if let Some(id) = id {
                    let Some(s) = source.iter().find(|s| &s.id == id) else {
                        return bad(format!("{}: {key} = \"{id}\" names no hypothesis", h.id));
                    };
                    if s.level != h.level {
                        return bad(format!("{}: {key} = \"{id}\" is at the {} level, not {}", h.id, s.level, h.level));
                    }
                    if s.kind != Kind::Effect {
                        return bad(format!("{}: {key} = \"{id}\" must be an effect hypothesis", h.id));
                    }
                }
            }
            if h.spec_of.is_some() && h.kind != Kind::Total {
                return bad(format!("{}: spec_of is for kind = \"total\"", h.id));
            }
            if (h.path_a.is_some() || h.path_b.is_some()) && h.kind != Kind::Mediation {
                return bad(format!("{}: path_a / path_b are for kind = \"mediation\"", h.id));
            }
            if let Some(id) = h.spec_of.clone() {
                let s = source.iter().find(|s| s.id == id).cloned();
                if let Some(s) = s {
                    h.family = s.family;
                    h.controls = s.controls.iter().filter(|c| **c != h.cause && **c != s.cause).cloned().collect();
                    h.fixed_effects = s.fixed_effects.clone();
                    h.vcov = s.vcov.clone();
                    h.lag = s.lag;
                    h.peace_years = s.peace_years;
                    if h.outcome != s.outcome {
                        return bad(format!(
                            "{}: the outcome `{}` differs from `{}` of {id} (spec_of)",
                            h.id, h.outcome, s.outcome
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A hypothesis by id.
    pub fn hypothesis(&self, id: &str) -> Option<&Hypothesis> {
        self.hypotheses.iter().find(|h| h.id == id)
    }

    fn check(&self) -> Result<(), StudyError> {
        let bad = |m: String| Err(StudyError::Spec { path: PathBuf::from("<study>"), message: m });
        if !(0.0 < self.alpha && self.alpha < 0.5) {
            return bad(format!("alpha = {} must be in (0, 0.5)", self.alpha));
        }
        if !(0.5 < self.level && self.level < 1.0) {
            return bad(format!("level = {} must be in (0.5, 1)", self.level));
        }
        if self.data.to < self.data.from {
            return bad(format!("data: to ({}) is before from ({})", self.data.to, self.data.from));
        }
        if self.hypotheses.is_empty() {
            return bad("no [[hypotheses]]".into());
        }
        if self.data.panel.is_some() {
            if !self.data.add.is_empty() {
                return bad("data: `panel` and `add` cannot be combined (`add` joins sources onto the panels concord builds). \
                     Build the panel with them and your file instead, e.g. `concord data build --unit dyad-year --add atop --join your_file.csv --out panel.parquet`, \
                     and set `panel = \"panel.parquet\"`"
                    .into());
            }
            if self.data.simulate.is_some() {
                return bad(
                    "data: `panel` and `simulate` cannot be combined: the study runs on your panel or on the simulator"
                        .into(),
                );
            }
        } else if self.data.panel_level.is_some() {
            return bad("data: `panel_level` is the level of `panel`, which is not set".into());
        }
        match crate::data::measures::resolve(&self.data.add) {
            Err(e) => return bad(format!("data.add: {e}")),
            Ok(add) => {
                let levels = self.levels();
                if let Some(m) = add.iter().find(|m| !levels.iter().any(|l| m.at(l.unit()).next().is_some())) {
                    return bad(format!(
                        "data.add: `{}` has no variables at the study's levels ({})",
                        m.name,
                        levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for h in &self.hypotheses {
            if !ids.insert(h.id.as_str()) {
                return bad(format!("hypothesis id `{}` is used twice", h.id));
            }
            if h.kind == Kind::Mediation && h.mediator.is_none() {
                return bad(format!("{}: a mediation hypothesis needs `mediator`", h.id));
            }
            if h.kind == Kind::Moderation && h.compare.is_none() {
                return bad(format!("{}: a moderation hypothesis needs `compare = [\"period1\", \"period2\"]`", h.id));
            }
            if !h.period_direction.is_empty() {
                let compared: Vec<&String> = h.compare.iter().flatten().collect();
                if h.kind != Kind::Moderation {
                    return bad(format!("{}: period_direction is for kind = \"moderation\"", h.id));
                }
                if let Some(p) = h.period_direction.keys().find(|p| !compared.contains(p)) {
                    return bad(format!(
                        "{}: period_direction names `{p}`, which is not one of the compared periods ({})",
                        h.id,
                        compared.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            let periods = h.compare.iter().flatten().chain(&h.period);
            for p in periods {
                self.period(p)?;
            }
            if h.lag < 0 || h.cause_lag.is_some_and(|l| l < 0) {
                return bad(format!("{}: lag and cause_lag must be >= 0", h.id));
            }
            if h.shift.is_some_and(|s| !(s.is_finite() && s != 0.0)) {
                return bad(format!("{}: shift must be a non-zero number", h.id));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.robustness {
            if !names.insert(c.name.as_str()) || c.name == "main" {
                return bad(format!("robustness check name `{}` is used twice (or is `main`)", c.name));
            }
            for id in &c.applies_to {
                if !ids.contains(id.as_str()) {
                    return bad(format!("robustness `{}`: no hypothesis `{id}`", c.name));
                }
            }
            if let Some(p) = &c.period {
                self.period(p)?;
            }
            if let Some(cond) = &c.subset {
                if let Err(e) = crate::formula::subset::Cond::parse(cond) {
                    return bad(format!("robustness `{}`: subset: {e}", c.name));
                }
            }
        }
        for o in &self.out_of_sample {
            self.period(&o.train)?;
            self.period(&o.test)?;
            if o.chain.is_empty() {
                return bad(format!("out_of_sample `{}`: `chain` lists no variables", o.name));
            }
        }
        if let Some(v) = &self.validity {
            v.check(&self.measures, self.data.from, self.data.to)
                .map_err(|m| StudyError::Spec { path: PathBuf::from("<study>"), message: m })?;
        }
        let mut es_names = std::collections::BTreeSet::new();
        for e in &self.event_study {
            if !es_names.insert(e.name.as_str()) {
                return bad(format!("event_study `{}`: the name is used twice", e.name));
            }
            e.check(self.data.from, self.data.to)
                .map_err(|m| StudyError::Spec { path: PathBuf::from("<study>"), message: m })?;
        }
        if let Some(s) = &self.sensitivity {
            s.check(&self.hypotheses).map_err(|m| StudyError::Spec { path: PathBuf::from("<study>"), message: m })?;
        }
        if let Some(c) = &self.contrast {
            c.check(self).map_err(|m| StudyError::Spec { path: PathBuf::from("<study>"), message: m })?;
        }
        if self.placebo_lead.is_some_and(|k| k < 1) {
            return bad("placebo_lead must be at least 1 (the lead f(cause, k))".into());
        }
        if self.bootstrap.replicates < 20 && self.hypotheses.iter().any(|h| h.kind == Kind::Mediation) {
            return bad(format!("bootstrap.replicates = {} is too few (20 at least)", self.bootstrap.replicates));
        }
        Ok(())
    }

    /// The period named `name`.
    pub fn period(&self, name: &str) -> Result<&Period, StudyError> {
        self.periods.iter().find(|p| p.name == name).ok_or_else(|| StudyError::Spec {
            path: PathBuf::from("<study>"),
            message: format!(
                "no period `{name}` in [[periods]] (have: {})",
                self.periods.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// The report name of the period called `name` (its label, or the name
    /// in words when it has none or is not a period of the study).
    pub fn period_title(&self, name: &str) -> String {
        let fallback = Period { name: name.to_string(), from: 0, to: 0, label: None };
        self.periods.iter().find(|p| p.name == name).unwrap_or(&fallback).title()
    }

    /// Labels of the period indicators `in_<period>` ("Period: Cold War"),
    /// for the periods that carry a label.
    pub fn period_labels(&self) -> BTreeMap<String, String> {
        self.periods
            .iter()
            .filter(|p| p.label.is_some())
            .map(|p| (format!("in_{}", p.name), format!("Period: {}", p.title())))
            .collect()
    }

    /// The levels the hypotheses, out-of-sample checks and event studies use, in order.
    pub fn levels(&self) -> Vec<Level> {
        let mut l: Vec<Level> = self
            .hypotheses
            .iter()
            .map(|h| h.level)
            .chain(self.out_of_sample.iter().map(|o| o.level))
            .chain(self.event_study.iter().map(|e| e.level))
            .collect();
        l.sort();
        l.dedup();
        l
    }
}
