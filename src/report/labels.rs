//! Variable labels: one dictionary of every column the panel builders write
//! (a label in words and its unit), and the rendering of model terms,
//! fixed effects, vcov names and model families as words for tables and
//! figures (`l(igo_full,1)` -> "Full IGO memberships (t-1)").
//!
//! Users override labels with a TOML table of `name = "label"` pairs (a
//! `--labels FILE.toml` of `concord table` / `concord plot`, or `[labels]` in
//! a study file). A key is a column (`igo_full`), which relabels every term
//! built from it, or a whole term (`"l(igo_full,1)"`), which relabels that
//! term only.

use std::collections::BTreeMap;
use std::path::Path;

/// (column, label, unit) of every column the panel builders write
/// (README, "The panels"), and the indicators a study adds.
const DICTIONARY: &[(&str, &str, &str)] = &[
    // Keys.
    ("ccode", "State", "COW code"),
    ("ccode1", "State 1", "COW code"),
    ("ccode2", "State 2", "COW code"),
    ("stateabb", "State abbreviation", ""),
    ("dyad", "Dyad", "1000 ccode1 + ccode2"),
    ("pair", "Non-directed dyad", "1000 min + max of the two codes"),
    ("year", "Year", ""),
    ("system", "International system", ""),
    // State-year.
    ("igo_full", "Full IGO memberships", "count"),
    ("igo_any", "IGO memberships (any)", "count"),
    ("treaties_cum", "UN treaties ratified", "cumulative count"),
    ("treaties_hr_cum", "Human-rights treaties ratified", "cumulative count"),
    ("treaties_disarm_cum", "Disarmament treaties ratified", "cumulative count"),
    ("icj_optional_clause", "ICJ optional clause declared", "0/1"),
    ("icj_declared_by_2015", "ICJ optional clause declared by 2015", "0/1"),
    ("icc_member", "ICC member", "0/1"),
    ("unga_agree_majority", "Agreement with the UNGA majority", "share of votes"),
    ("unga_n_votes", "UNGA votes cast", "count"),
    ("mid_onset", "MID onset", "0/1"),
    ("mid_count", "MIDs entered", "count"),
    ("fatal_mid_onset", "Fatal MID onset", "0/1"),
    ("gml_mid_onset", "MID onset (GML)", "0/1"),
    ("war_onset", "War onset", "0/1"),
    ("ucdp_onset", "Armed conflict onset (UCDP)", "0/1"),
    ("ucdp_onsets", "Armed conflict onsets (UCDP)", "count"),
    ("peace_years", "Peace years", "years"),
    ("peace_years_mid", "Peace years since a MID onset", "years"),
    ("peace_years_gml", "Peace years since a MID onset (GML)", "years"),
    ("peace_years_fatal", "Peace years since a fatal MID onset", "years"),
    ("peace_years_war", "Peace years since a war onset", "years"),
    ("peace_years_ucdp_interstate", "Peace years since an interstate conflict onset (UCDP)", "years"),
    ("ucdp_onset_interstate", "Interstate armed conflict onset (UCDP)", "0/1"),
    ("ucdp_onset_intrastate", "Intrastate armed conflict onset (UCDP)", "0/1"),
    ("mid_ongoing_prior", "MID already ongoing at the start of the year", "0/1"),
    ("cinc", "Capabilities (CINC)", "share of the system"),
    ("milex", "Military expenditure", "thousand USD"),
    ("tpop", "Total population", "thousands"),
    ("major_power", "Major power", "0/1"),
    ("trade_total", "Trade (imports + exports)", "million current USD"),
    ("polity2", "Polity2", "-10 to 10"),
    ("democracy", "Democracy (BMR)", "0/1"),
    // Dyad-year.
    ("dyadigos", "Joint full IGO memberships", "count"),
    ("unga_affinity", "UNGA vote affinity", "share of votes alike"),
    ("unga_s_score", "UNGA S score", "-1 to 1"),
    ("unga_joint_votes", "Joint UNGA votes", "count"),
    ("atop_defense", "Defense pact (ATOP)", "0/1"),
    ("atop_offense", "Offense pact (ATOP)", "0/1"),
    ("atop_neutral", "Neutrality pact (ATOP)", "0/1"),
    ("atop_nonagg", "Non-aggression pact (ATOP)", "0/1"),
    ("atop_consul", "Consultation pact (ATOP)", "0/1"),
    ("atop_any", "Any alliance (ATOP)", "0/1"),
    ("land_contiguity", "Land contiguity", "0/1"),
    ("conttype", "Closest contiguity", "type 1-5, 0 none"),
    ("relevant", "Politically relevant dyad", "0/1"),
    ("mid_init", "MID initiation by the first state", "0/1"),
    ("mid_sidea", "MID onset with the first state on Side A", "0/1"),
    ("mid_target", "MID onset with the first state on Side B", "0/1"),
    ("mid_revisionist", "MID onset with the first state revisionist", "0/1"),
    ("mid_revisionist_terr", "MID onset with the first state seeking territory", "0/1"),
    ("atop_defense_dir", "Defence pledge of the first state", "0/1"),
    ("atop_offense_dir", "Offence pledge of the first state", "0/1"),
    ("atop_neutral_dir", "Neutrality pledge of the first state", "0/1"),
    ("atop_nonagg_dir", "Non-aggression pledge of the first state", "0/1"),
    ("atop_consul_dir", "Consultation pledge of the first state", "0/1"),
    ("mindist", "Minimum distance", "km"),
    ("mid_ongoing", "MID ongoing", "0/1"),
    ("cinc_ratio", "Capability ratio (stronger/weaker)", "ratio"),
    ("both_major", "Both major powers", "0/1"),
    ("any_major", "Any major power", "0/1"),
    ("dem_low", "Lower Polity2 of the dyad", "-10 to 10"),
    ("dem_high", "Higher Polity2 of the dyad", "-10 to 10"),
    // System-year (`mean_*`, `median_*`, `q25_*`, `q75_*` of state-year columns are derived).
    ("n_states", "States in the system", "count"),
    ("mid_onsets", "MID onsets", "disputes per year"),
    ("wars", "Inter-state war onsets", "wars per year"),
    ("unsc_vetoes", "UN Security Council vetoes", "vetoes per year"),
    ("mean_unga_affinity", "Mean UNGA vote affinity", "share of votes alike"),
    // Period indicators of the flagship study.
    ("in_cold_war", "Cold War (1946-1989)", "0/1"),
    ("in_post_cold_war", "Post-Cold War (1990-)", "0/1"),
];

/// Columns that identify rows (not variables to summarise).
pub const KEY_COLUMNS: &[&str] = &["ccode", "ccode1", "ccode2", "stateabb", "dyad", "pair", "year", "system"];

/// A label and unit.
#[derive(Debug, Clone, PartialEq)]
pub struct VarLabel {
    pub label: String,
    pub unit: String,
}

/// The built-in dictionary plus the user's overrides.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    overrides: BTreeMap<String, String>,
}

/// Errors reading a labels file.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl Labels {
    /// The built-in dictionary with `overrides` (column or term -> label).
    pub fn new(overrides: BTreeMap<String, String>) -> Labels {
        Labels { overrides }
    }

    /// A study's labels: its periods' indicators (`in_cold_war` -> "Period:
    /// Cold War"), then its `[labels]`, which win.
    ///
    /// ```
    /// use concord::study::{template::TEMPLATE, Study};
    /// let l = concord::report::labels::Labels::for_study(&Study::from_toml(TEMPLATE).unwrap());
    /// assert_eq!(l.var("in_cold_war").label, "Period: Cold War");
    /// ```
    pub fn for_study(study: &crate::study::Study) -> Labels {
        let mut labels = Labels::new(study.period_labels());
        labels.extend(&study.labels);
        labels
    }

    /// Add overrides (later ones win).
    pub fn extend(&mut self, more: &BTreeMap<String, String>) {
        self.overrides.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// Read a TOML file of `name = "label"` pairs (top level, or in a
    /// `[labels]` table).
    pub fn from_file(path: &Path) -> Result<Labels, LabelsError> {
        let err = |message: String| LabelsError::File { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::from_toml(&text).map_err(err)
    }

    /// Parse `name = "label"` pairs (top level, or in a `[labels]` table).
    ///
    /// ```
    /// let l = concord::report::labels::Labels::from_toml("igo_full = \"IGOs\"").unwrap();
    /// assert_eq!(l.term("l(igo_full,1)"), "IGOs (t-1)");
    /// ```
    pub fn from_toml(text: &str) -> Result<Labels, String> {
        let value: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let table = match value.get("labels") {
            Some(toml::Value::Table(t)) if value.len() == 1 => t.clone(),
            _ => value,
        };
        let mut overrides = BTreeMap::new();
        for (k, v) in table {
            match v {
                toml::Value::String(s) => {
                    overrides.insert(k, s);
                }
                other => return Err(format!("`{k}`: a label is a string, found {}", other.type_str())),
            }
        }
        Ok(Labels { overrides })
    }

    /// Label and unit of a column (the column name itself when unknown).
    pub fn var(&self, name: &str) -> VarLabel {
        let builtin = lookup(name);
        if let Some(l) = self.overrides.get(name) {
            return VarLabel { label: l.clone(), unit: builtin.map(|b| b.unit).unwrap_or_default() };
        }
        builtin.unwrap_or_else(|| VarLabel { label: name.to_string(), unit: String::new() })
    }

    /// A column's label with its unit: "Full IGO memberships (count)".
    pub fn var_with_unit(&self, name: &str) -> String {
        let v = self.var(name);
        if v.unit.is_empty() {
            v.label
        } else {
            format!("{} ({})", v.label, v.unit)
        }
    }

    /// A model term in words: `l(x,1)` -> "X (t-1)", `poly(x,3)2` -> "X
    /// (cubic, term 2)", `a:b` -> "A × B", `(Intercept)` -> "Constant".
    ///
    /// ```
    /// let l = concord::report::labels::Labels::default();
    /// assert_eq!(l.term("l(igo_full,1)"), "Full IGO memberships (t-1)");
    /// assert_eq!(l.term("poly(peace_years,3)1"), "Peace years (cubic, term 1)");
    /// ```
    pub fn term(&self, term: &str) -> String {
        if let Some(l) = self.overrides.get(term) {
            return l.clone();
        }
        if term == "(Intercept)" {
            return "Constant".into();
        }
        let parts: Vec<String> = split_interaction(term).iter().map(|f| self.factor(f)).collect();
        parts.join(" × ")
    }

    fn factor(&self, f: &str) -> String {
        if let Some(l) = self.overrides.get(f) {
            return l.clone();
        }
        let call = |name: &str| -> Option<(String, String)> {
            let rest = f.strip_prefix(name)?.strip_prefix('(')?;
            let close = rest.rfind(')')?;
            Some((rest[..close].to_string(), rest[close + 1..].to_string()))
        };
        if let Some((args, _)) = call("l") {
            let (v, k) = args.split_once(',').unwrap_or((&args, "1"));
            return format!("{} (t-{})", self.var(v.trim()).label, k.trim());
        }
        if let Some((args, _)) = call("f") {
            let (v, k) = args.split_once(',').unwrap_or((&args, "1"));
            return format!("{} (t+{})", self.var(v.trim()).label, k.trim());
        }
        if let Some((args, _)) = call("d") {
            return format!("Change in {}", lower_first(&self.var(args.trim()).label));
        }
        if let Some((args, j)) = call("poly") {
            let (v, p) = args.split_once(',').unwrap_or((&args, ""));
            let kind = match p.trim() {
                "2" => "quadratic".to_string(),
                "3" => "cubic".to_string(),
                other => format!("degree {other}"),
            };
            return format!("{} ({kind}, term {j})", self.var(v.trim()).label);
        }
        if let Some((args, j)) = call("ns") {
            let (v, _) = args.split_once(',').unwrap_or((&args, ""));
            return format!("{} (spline, term {j})", self.var(v.trim()).label);
        }
        if let Some((v, level)) = f.split_once("::") {
            let v = v.strip_prefix("i(").and_then(|v| v.strip_suffix(')')).unwrap_or(v);
            return format!("{}: {level}", self.var(v).label);
        }
        self.var(f).label
    }

    /// The outcome of a formula (`y ~ ...`) in words.
    pub fn outcome(&self, formula: &str) -> String {
        let lhs = formula.split('~').next().unwrap_or(formula).trim();
        if lhs.contains('(') {
            self.term(lhs)
        } else {
            self.var(lhs).label
        }
    }

    /// A fixed effect (a key column) as a noun: `ccode` -> "State".
    pub fn fixed_effect(&self, name: &str) -> String {
        self.var(name).label
    }

    /// The vcov in words: `cluster:ccode` -> "Clustered by state".
    ///
    /// ```
    /// let l = concord::report::labels::Labels::default();
    /// assert_eq!(l.vcov("cluster:ccode"), "Clustered by state");
    /// ```
    pub fn vcov(&self, vcov: &str) -> String {
        let v = vcov.trim();
        if let Some(cols) = v.strip_prefix("cluster:") {
            let names: Vec<String> = cols.split(',').map(|c| lower_first(&self.var(c.trim()).label)).collect();
            return format!("Clustered by {}", names.join(" and "));
        }
        if v.starts_with("dyadic:") {
            return "Dyadic-robust (Aronow et al.)".into();
        }
        match v {
            "iid" => "Classical (iid)".into(),
            "hc0" | "hc1" | "hc2" | "hc3" => format!("Heteroskedasticity-robust ({})", v.to_uppercase()),
            _ if v == "dk" || v.starts_with("dk:") => "Driscoll-Kraay".into(),
            _ => v.to_string(),
        }
    }

    /// The model family as journals name it.
    pub fn family(&self, family: &str) -> String {
        match family {
            "gaussian" => "OLS".into(),
            "logit" => "Logit".into(),
            "probit" => "Probit".into(),
            "poisson" => "Poisson".into(),
            "negbin" => "Negative binomial".into(),
            "firth" => "Firth logit".into(),
            other => other.to_string(),
        }
    }
}

fn lower_first(s: &str) -> String {
    // Keep acronyms ("UNGA", "MID", "COW") as they are.
    let mut c = s.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(std::iter::once(b)).chain(c).collect()
        }
        _ => s.to_string(),
    }
}

/// Split an interaction term at the `:` that are outside parentheses and
/// not part of `::` (dummy levels).
fn split_interaction(term: &str) -> Vec<&str> {
    let b = term.as_bytes();
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b':' if b.get(i + 1) == Some(&b':') => {
                i += 2;
                continue;
            }
            b':' if depth == 0 => {
                out.push(&term[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&term[start..]);
    out
}

fn lookup(name: &str) -> Option<VarLabel> {
    if let Some((_, l, u)) = DICTIONARY.iter().find(|(n, _, _)| *n == name) {
        return Some(VarLabel { label: l.to_string(), unit: u.to_string() });
    }
    for (prefix, word) in
        [("mean_", "Mean"), ("median_", "Median"), ("q25_", "Lower quartile of"), ("q75_", "Upper quartile of")]
    {
        if let Some(rest) = name.strip_prefix(prefix) {
            if let Some(inner) = lookup(rest) {
                return Some(VarLabel { label: format!("{word} {}", lower_first(&inner.label)), unit: inner.unit });
            }
        }
    }
    if let Some(inner) = name.strip_prefix("n_").and_then(lookup) {
        return Some(VarLabel { label: format!("Units with {}", lower_first(&inner.label)), unit: "count".into() });
    }
    if let Some(p) = name.strip_prefix("in_") {
        return Some(VarLabel { label: format!("Period: {}", p.replace('_', " ")), unit: "0/1".into() });
    }
    if let Some(rest) = name.strip_prefix("log1p_") {
        if let Some(inner) = lookup(rest) {
            return Some(VarLabel { label: format!("{} (log 1 + x)", inner.label), unit: inner.unit });
        }
    }
    // The variables `--add` brings carry their own labels.
    crate::data::measures::MEASURES
        .iter()
        .flat_map(|m| m.variables.iter())
        .chain(crate::data::measures::MEASURES.iter().filter_map(|m| m.directed).flat_map(|(vars, _)| vars.iter()))
        .find(|v| v.name == name)
        .map(|v| VarLabel { label: v.label.to_string(), unit: v.measure.to_string() })
}

/// Whether a term is a time-dependence term (peace-years polynomial or
/// spline) that tables summarise in one "Peace-years ..." row.
pub fn is_peace_years_term(term: &str) -> bool {
    term.starts_with("poly(peace_years,") || term.starts_with("ns(peace_years,")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column README's panel section lists has a label and a unit.
    #[test]
    fn every_panel_column_has_a_label_and_unit() {
        let readme = include_str!("../../README.md");
        let section = readme.split("## The panels").nth(1).unwrap().split("\nUN treaty participants").next().unwrap();
        let mut names = Vec::new();
        for chunk in section.split('`').skip(1).step_by(2) {
            for n in chunk.split(',') {
                let n = n.trim();
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                    names.push(n.to_string());
                }
            }
        }
        assert!(names.len() > 50, "{names:?}");
        let l = Labels::default();
        for n in &names {
            // Source variable names quoted in the text, not panel columns.
            // (and UN consent-type codes, source files and columns).
            if n.len() == 1 || ["s3un", "sumonset1", "cowinteronset", "cow_mid_dirdisps"].contains(&n.as_str()) {
                continue;
            }
            let v = lookup(n).unwrap_or_else(|| panic!("no label for panel column `{n}`"));
            assert!(!v.label.is_empty() && v.label != *n, "{n}");
            if !KEY_COLUMNS.contains(&n.as_str()) {
                assert!(!v.unit.is_empty(), "no unit for `{n}`");
            }
            assert_ne!(l.var_with_unit(n), *n);
        }
        assert_eq!(l.var("mean_igo_full").label, "Mean full IGO memberships");
    }

    #[test]
    fn terms_render_as_words() {
        let l = Labels::default();
        assert_eq!(l.term("l(igo_full,1)"), "Full IGO memberships (t-1)");
        assert_eq!(l.term("l(igo_full,1):in_post_cold_war"), "Full IGO memberships (t-1) × Post-Cold War (1990-)");
        assert_eq!(l.term("poly(peace_years,3)3"), "Peace years (cubic, term 3)");
        assert_eq!(l.term("(Intercept)"), "Constant");
        assert_eq!(l.term("d(igo_full)"), "Change in full IGO memberships");
        assert_eq!(l.term("i(region)::Asia"), "region: Asia");
        assert_eq!(l.term("unknown_col"), "unknown_col");
        assert_eq!(l.vcov("cluster:ccode"), "Clustered by state");
        assert_eq!(l.vcov("cluster:ccode1,ccode2"), "Clustered by state 1 and state 2");
        assert_eq!(l.vcov("dyadic:ccode1,ccode2"), "Dyadic-robust (Aronow et al.)");
        assert_eq!(l.outcome("unga_agree_majority ~ l(igo_full,1) | ccode + year"), "Agreement with the UNGA majority");
        let mut o = Labels::from_toml("[labels]\nigo_full = \"IGOs\"\n\"l(cinc,1)\" = \"Power\"").unwrap();
        assert_eq!(o.term("l(igo_full,2)"), "IGOs (t-2)");
        assert_eq!(o.term("l(cinc,1)"), "Power");
        assert_eq!(o.var("igo_full").unit, "count");
        o.extend(&BTreeMap::from([("cinc".to_string(), "CINC".to_string())]));
        assert_eq!(o.term("l(cinc,2)"), "CINC (t-2)");
        assert!(Labels::from_toml("x = 1").unwrap_err().contains("`x`: a label is a string"));
    }

    #[test]
    fn added_measures_and_log1p_columns_are_labelled() {
        let l = Labels::default();
        assert_eq!(l.var("ideal_dist").label, "Ideal-point distance");
        assert_eq!(l.var("atop_s").label, "Alliance portfolio S");
        let v = l.var("log1p_pko_total");
        assert!(v.label.ends_with("(log 1 + x)") && v.label.len() > 15, "{}", v.label);
        assert_eq!(l.term("l(log1p_pko_total,1)"), format!("{} (t-1)", v.label));
    }
}
