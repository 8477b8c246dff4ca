//! The measurement-validity table of a study (`[validity]` in the study
//! file): does each measure of a pillar measure what the pillar names? For
//! every measure of the pillars that is a panel column, at each level that
//! has it: its coverage, its value and percentile for named cases chosen on
//! face validity before the values were seen (the USA far from the median
//! state in UN votes, Pakistan a top peacekeeping contributor, Chapter VII
//! resolutions in 1993 against 1975), and the correlations among the
//! measures of one pillar at one level. It changes no model and no verdict:
//! it tells a reader what each verdict is about.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::spec::{Level, Study};
use super::StudyError;
use crate::report::tables::{plain_table, Format};

/// `[validity]`: the pillars whose measures are assessed and the named
/// cases, written before any value is seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValiditySpec {
    /// Concepts of `[measures]` whose measures are assessed (all when empty).
    #[serde(default)]
    pub pillars: Vec<String>,
    /// Named cases: a measure, a unit, a year or range of years and what a
    /// valid measure shows for it.
    #[serde(default)]
    pub cases: Vec<Case>,
}

/// One named case. The unit says the level: `ccode` a state (state-year),
/// `ccode1` and `ccode2` a dyad (dyad-year, either order), neither the
/// system (system-year).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub measure: String,
    pub ccode: Option<i64>,
    pub ccode1: Option<i64>,
    pub ccode2: Option<i64>,
    /// One year ...
    pub year: Option<i64>,
    /// ... or a range `[from, to]` (the value is the mean over its years with data).
    pub years: Option<[i64; 2]>,
    /// The expectation, in words, stated before the value was seen.
    pub expect: String,
}

impl Case {
    fn level(&self) -> Level {
        match (self.ccode, self.ccode1) {
            (Some(_), _) => Level::StateYear,
            (None, Some(_)) => Level::DyadYear,
            (None, None) => Level::SystemYear,
        }
    }

    fn span(&self) -> (i64, i64) {
        match (self.year, self.years) {
            (Some(y), _) => (y, y),
            (None, Some([a, b])) => (a, b),
            (None, None) => (i64::MIN, i64::MIN),
        }
    }

    /// `ideal_dist_median, ccode 2, 1990-2014`: how errors name the case.
    fn name(&self, k: usize) -> String {
        let unit = match (self.ccode, self.ccode1, self.ccode2) {
            (Some(c), _, _) => format!("ccode {c}"),
            (None, Some(a), Some(b)) => format!("ccode1 {a}, ccode2 {b}"),
            _ => "the system".into(),
        };
        let (a, b) = self.span();
        let years = if a == b { a.to_string() } else { format!("{a}-{b}") };
        format!("validity case {} ({}, {unit}, {years})", k + 1, self.measure)
    }
}

impl ValiditySpec {
    /// Checks that need no data: pillars named in `[measures]`, one unit
    /// kind and one year choice per case, years inside the study's.
    pub(crate) fn check(&self, measures: &BTreeMap<String, Vec<String>>, from: i64, to: i64) -> Result<(), String> {
        for p in &self.pillars {
            if !measures.contains_key(p) {
                return Err(format!(
                    "validity: pillar `{p}` is not a concept of [measures] (have: {})",
                    measures.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        for (k, c) in self.cases.iter().enumerate() {
            let name = c.name(k);
            match (c.ccode, c.ccode1, c.ccode2) {
                (Some(_), None, None) | (None, None, None) => {}
                (None, Some(a), Some(b)) if a != b => {}
                (None, Some(a), Some(_)) => {
                    return Err(format!("{name}: a dyad needs two states (ccode1 = ccode2 = {a})"))
                }
                _ => {
                    return Err(format!(
                    "{name}: name a state (`ccode`), a dyad (`ccode1` and `ccode2`) or neither (the system), not a mix"
                ))
                }
            }
            match (c.year, c.years) {
                (Some(_), None) => {}
                (None, Some([a, b])) if a <= b => {}
                (None, Some([a, b])) => return Err(format!("{name}: years = [{a}, {b}] runs backwards")),
                _ => return Err(format!("{name}: give `year` or `years = [from, to]` (one of them)")),
            }
            let (a, b) = c.span();
            if a < from || b > to {
                return Err(format!("{name}: the years are outside the study's {from}-{to}"));
            }
            if c.expect.trim().is_empty() {
                return Err(format!("{name}: `expect` is empty; say what a valid measure shows for this case"));
            }
        }
        Ok(())
    }
}

/// The measurement-validity results (written as `validity.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Validity {
    /// The study's years: coverage counts unit-years inside them.
    pub years: (i64, i64),
    pub measures: Vec<MeasureCoverage>,
    pub cases: Vec<CaseValue>,
    pub correlations: Vec<Correlation>,
    /// Measures named in the pillars that no panel has (texts of `[measures]`
    /// that are not columns, e.g. a `mean_` column of a level not built).
    pub not_in_panels: Vec<String>,
}

/// Where a measure has data.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureCoverage {
    pub pillar: String,
    pub measure: String,
    pub level: Level,
    /// First and last year with a non-missing value.
    pub first_year: Option<i64>,
    pub last_year: Option<i64>,
    /// Non-missing unit-years.
    pub n: usize,
    /// All unit-years of the panel in the study's years.
    pub unit_years: usize,
    /// `n / unit_years`.
    pub share: f64,
    /// Units with at least one non-missing value.
    pub units: usize,
}

/// A named case's value and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct CaseValue {
    /// The pillar that lists the measure (none if no pillar does).
    pub pillar: Option<String>,
    pub measure: String,
    pub level: Level,
    pub ccode: Option<i64>,
    pub ccode1: Option<i64>,
    pub ccode2: Option<i64>,
    /// `USA`, `USA-UKG`, `system`.
    pub unit: String,
    pub years: (i64, i64),
    /// Mean over the case's years with data (none: no data, see `note`).
    pub value: Option<f64>,
    pub years_with_data: usize,
    /// Mid-rank percentile (0-100) of `value` among all units' means over
    /// the same years (at the system level: among the yearly values of the
    /// study's years), the case included.
    pub percentile: Option<f64>,
    /// How many units (system: years) the percentile compares.
    pub compared: usize,
    pub expect: String,
    pub note: Option<String>,
}

/// Pearson correlation of two measures of one pillar at one level, on the
/// unit-years where both are observed.
#[derive(Debug, Clone, Serialize)]
pub struct Correlation {
    pub pillar: String,
    pub level: Level,
    pub a: String,
    pub b: String,
    /// None when fewer than three complete unit-years or a constant measure.
    pub r: Option<f64>,
    pub n: usize,
}

/// The column a `[measures]` text names: its first word (`"igo_full (full IGO memberships)"` -> `igo_full`).
fn column_of(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("").trim_end_matches([',', ';'])
}

/// Mid-rank percentile (0-100) of `x` among `among` (which should include
/// `x` itself): the share below plus half the share equal, as
/// `scipy.stats.percentileofscore(among, x, kind="mean")`. None when `among` is empty.
///
/// ```
/// use concord::study::validity::percentile_rank;
/// assert_eq!(percentile_rank(3.0, &[1.0, 2.0, 3.0, 4.0]), Some(62.5));
/// assert_eq!(percentile_rank(1.0, &[1.0, 1.0]), Some(50.0));
/// assert_eq!(percentile_rank(1.0, &[]), None);
/// ```
pub fn percentile_rank(x: f64, among: &[f64]) -> Option<f64> {
    if among.is_empty() {
        return None;
    }
    let below = among.iter().filter(|v| **v < x).count() as f64;
    let equal = among.iter().filter(|v| **v == x).count() as f64;
    Some(100.0 * (below + 0.5 * equal) / among.len() as f64)
}

/// Pearson correlation on complete cases (both values present) and their
/// number; the correlation is None with fewer than three complete cases or
/// when either variable is constant on them.
///
/// ```
/// use concord::study::validity::pearson_complete;
/// let x = [Some(1.0), Some(2.0), None, Some(3.0), Some(4.0)];
/// let y = [Some(2.0), Some(4.0), Some(9.0), None, Some(8.0)];
/// let (r, n) = pearson_complete(&x, &y);
/// assert_eq!(n, 3);
/// assert!((r.unwrap() - 1.0).abs() < 1e-12);
/// ```
pub fn pearson_complete(x: &[Option<f64>], y: &[Option<f64>]) -> (Option<f64>, usize) {
    let pairs: Vec<(f64, f64)> = x.iter().zip(y).filter_map(|(a, b)| Some(((*a)?, (*b)?))).collect();
    let n = pairs.len();
    if n < 3 {
        return (None, n);
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        let (dx, dy) = (a - mx, b - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return (None, n);
    }
    (Some(sxy / (sxx * syy).sqrt()), n)
}

/// A level's panel as the computations need it: years, unit keys and
/// (cached) measure columns.
struct LevelData<'a> {
    df: &'a DataFrame,
    level: Level,
    years: Vec<i64>,
    /// (ccode, 0) for states, (ccode1, ccode2) for dyads, (0, 0) for the system.
    keys: Vec<(i64, i64)>,
}

impl<'a> LevelData<'a> {
    fn new(level: Level, df: &'a DataFrame) -> Result<Self, StudyError> {
        let err = |e: crate::panel::PanelError| StudyError::Output(format!("{level} panel: {e}"));
        let years = crate::panel::int_column(df, "year").map_err(err)?;
        let keys = match level {
            Level::StateYear => {
                crate::panel::int_column(df, "ccode").map_err(err)?.into_iter().map(|c| (c, 0)).collect()
            }
            Level::DyadYear | Level::DirectedDyadYear => {
                let a = crate::panel::int_column(df, "ccode1").map_err(err)?;
                let b = crate::panel::int_column(df, "ccode2").map_err(err)?;
                a.into_iter().zip(b).collect()
            }
            Level::SystemYear => vec![(0, 0); df.height()],
        };
        Ok(LevelData { df, level, years, keys })
    }

    fn column(&self, name: &str) -> Result<Vec<Option<f64>>, String> {
        crate::formula::design::numeric(self.df, name).map_err(|e| e.to_string())
    }
}

/// Means by unit over rows with `lo <= year <= hi` and a value: (sum, count).
fn unit_means(d: &LevelData, v: &[Option<f64>], lo: i64, hi: i64) -> HashMap<(i64, i64), (f64, usize)> {
    let mut m: HashMap<(i64, i64), (f64, usize)> = HashMap::new();
    for ((k, y), x) in d.keys.iter().zip(&d.years).zip(v) {
        if let (true, Some(x)) = (lo <= *y && *y <= hi, x) {
            let e = m.entry(*k).or_insert((0.0, 0));
            e.0 += x;
            e.1 += 1;
        }
    }
    m
}

/// State abbreviations by ccode, from the state-year panel when it has them.
fn abbreviations(frames: &BTreeMap<Level, DataFrame>) -> HashMap<i64, String> {
    let mut out = HashMap::new();
    let Some(df) = frames.get(&Level::StateYear) else { return out };
    let (Ok(codes), Ok(abb)) = (crate::panel::int_column(df, "ccode"), df.column("stateabb")) else { return out };
    let Ok(abb) = abb.str() else { return out };
    for (c, a) in codes.into_iter().zip(abb.iter()) {
        if let Some(a) = a {
            out.entry(c).or_insert_with(|| a.to_string());
        }
    }
    out
}

/// The measurement-validity table of `study` on its panels (`frames`, as
/// [`super::run::load_panels`] builds them); `None` when the study has no
/// `[validity]`. A case naming a column that is not in its level's panel,
/// a level the study has no panel of, or a state or dyad that is not in the
/// panel is an error naming the case; a case whose unit has no data in its
/// years gets a note, not a value.
///
/// ```
/// use std::collections::BTreeMap;
/// use polars::prelude::*;
/// use concord::study::{spec::Level, validity::compute, Study};
/// let study = Study::from_toml(r#"
/// name = "demo"
/// title = "Demo"
/// [data]
/// from = 2000
/// to = 2001
/// [measures]
/// consensus = ["agree (share of votes with the plurality)"]
/// [validity]
/// cases = [{ measure = "agree", ccode = 2, years = [2000, 2001], expect = "low" }]
/// [[hypotheses]]
/// id = "H1"
/// claim = "c"
/// level = "state-year"
/// outcome = "agree"
/// cause = "agree"
/// direction = "negative"
/// family = "gaussian"
/// "#).unwrap();
/// let df = df!("ccode" => [2i64, 2, 20, 20], "year" => [2000i64, 2001, 2000, 2001],
///              "agree" => [Some(0.2), Some(0.4), Some(0.8), None]).unwrap();
/// let v = compute(&study, &BTreeMap::from([(Level::StateYear, df)])).unwrap().unwrap();
/// assert!((v.cases[0].value.unwrap() - 0.3).abs() < 1e-12);
/// assert_eq!(v.cases[0].percentile, Some(25.0));
/// assert_eq!((v.measures[0].n, v.measures[0].unit_years), (3, 4));
/// ```
pub fn compute(study: &Study, frames: &BTreeMap<Level, DataFrame>) -> Result<Option<Validity>, StudyError> {
    let Some(spec) = &study.validity else { return Ok(None) };
    let (from, to) = (study.data.from, study.data.to);
    // Directed dyad-years repeat the non-directed measures in both orders:
    // the table describes each measure once, at the levels it is built at.
    let data: BTreeMap<Level, LevelData> = frames
        .iter()
        .filter(|(l, _)| **l != Level::DirectedDyadYear)
        .map(|(l, df)| Ok((*l, LevelData::new(*l, df)?)))
        .collect::<Result<_, StudyError>>()?;
    let output = |m: String| StudyError::Output(format!("validity: {m}"));
    let pillars: Vec<&String> =
        if spec.pillars.is_empty() { study.measures.keys().collect() } else { spec.pillars.iter().collect() };
    // Columns by (level, name), read once.
    let mut cache: BTreeMap<(Level, String), Vec<Option<f64>>> = BTreeMap::new();
    let mut get = |d: &LevelData, name: &str| -> Result<Vec<Option<f64>>, StudyError> {
        let key = (d.level, name.to_string());
        if let Some(v) = cache.get(&key) {
            return Ok(v.clone());
        }
        let v = d.column(name).map_err(|e| output(format!("{} panel: {e}", d.level)))?;
        cache.insert(key, v.clone());
        Ok(v)
    };

    let mut measures = Vec::new();
    let mut correlations = Vec::new();
    let mut not_in_panels = Vec::new();
    for pillar in &pillars {
        let names: Vec<&str> = study.measures.get(*pillar).into_iter().flatten().map(|t| column_of(t)).collect();
        for name in &names {
            if !data.values().any(|d| d.df.column(name).is_ok()) {
                not_in_panels.push(name.to_string());
            }
        }
        for (level, d) in &data {
            let here: Vec<&str> = names.iter().copied().filter(|n| d.df.column(n).is_ok()).collect();
            let mut cols = Vec::new();
            for name in &here {
                let v = get(d, name)?;
                let inside: Vec<usize> = (0..v.len()).filter(|&i| from <= d.years[i] && d.years[i] <= to).collect();
                let with: Vec<usize> = inside.iter().copied().filter(|&i| v[i].is_some()).collect();
                let units: std::collections::HashSet<(i64, i64)> = with.iter().map(|&i| d.keys[i]).collect();
                let units = if *level == Level::SystemYear { with.len() } else { units.len() };
                measures.push(MeasureCoverage {
                    pillar: pillar.to_string(),
                    measure: name.to_string(),
                    level: *level,
                    first_year: with.iter().map(|&i| d.years[i]).min(),
                    last_year: with.iter().map(|&i| d.years[i]).max(),
                    n: with.len(),
                    unit_years: inside.len(),
                    share: if inside.is_empty() { 0.0 } else { with.len() as f64 / inside.len() as f64 },
                    units,
                });
                // Rows outside the study's years do not enter the correlations.
                let v: Vec<Option<f64>> =
                    v.iter().zip(&d.years).map(|(x, y)| x.filter(|_| from <= *y && *y <= to)).collect();
                cols.push((name, v));
            }
            for i in 0..cols.len() {
                for j in i + 1..cols.len() {
                    let (r, n) = pearson_complete(&cols[i].1, &cols[j].1);
                    correlations.push(Correlation {
                        pillar: pillar.to_string(),
                        level: *level,
                        a: cols[i].0.to_string(),
                        b: cols[j].0.to_string(),
                        r,
                        n,
                    });
                }
            }
        }
    }
    not_in_panels.sort();
    not_in_panels.dedup();

    let abb = abbreviations(frames);
    let state = |c: i64| abb.get(&c).cloned().unwrap_or_else(|| c.to_string());
    let mut cases = Vec::new();
    for (k, c) in spec.cases.iter().enumerate() {
        let name = c.name(k);
        let bad = |m: String| StudyError::Spec { path: PathBuf::from("<study>"), message: format!("{name}: {m}") };
        let level = c.level();
        let d = data.get(&level).ok_or_else(|| bad(format!("the study has no {level} panel for this case")))?;
        if d.df.column(&c.measure).is_err() {
            return Err(bad(format!(
                "`{}` is not a column of the {level} panel{}",
                c.measure,
                crate::data::read::nearest_name(&c.measure, d.df.get_column_names().iter().map(|s| s.as_str()))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default()
            )));
        }
        let (key, unit) = match level {
            Level::StateYear => {
                let s = c.ccode.unwrap_or_default();
                ((s, 0), state(s))
            }
            Level::DyadYear | Level::DirectedDyadYear => {
                let (a, b) = (c.ccode1.unwrap_or_default(), c.ccode2.unwrap_or_default());
                let (a, b) = if !d.keys.contains(&(a, b)) && d.keys.contains(&(b, a)) { (b, a) } else { (a, b) };
                ((a, b), format!("{}-{}", state(a), state(b)))
            }
            Level::SystemYear => ((0, 0), "system".to_string()),
        };
        if level != Level::SystemYear && !d.keys.contains(&key) {
            return Err(bad(format!("the {level} panel has no rows for {unit} in {from}-{to}")));
        }
        let v = get(d, &c.measure)?;
        let (lo, hi) = c.span();
        let m = unit_means(d, &v, lo, hi);
        let (sum, years_with_data) = m.get(&key).copied().unwrap_or((0.0, 0));
        let value = (years_with_data > 0).then(|| sum / years_with_data as f64);
        let among: Vec<f64> = if level == Level::SystemYear {
            // One unit: the case's years stand among the study's years.
            v.iter().zip(&d.years).filter(|(_, y)| from <= **y && **y <= to).filter_map(|(x, _)| *x).collect()
        } else {
            m.values().map(|(s, n)| s / *n as f64).collect()
        };
        let note = value.is_none().then(|| format!("no data for {unit} in {}", span((lo, hi))));
        cases.push(CaseValue {
            pillar: pillars
                .iter()
                .find(|p| study.measures.get(**p).into_iter().flatten().any(|t| column_of(t) == c.measure))
                .map(|p| p.to_string()),
            measure: c.measure.clone(),
            level,
            ccode: c.ccode,
            ccode1: level.is_dyadic().then_some(key.0),
            ccode2: level.is_dyadic().then_some(key.1),
            unit,
            years: (lo, hi),
            value,
            years_with_data,
            percentile: value.and_then(|x| percentile_rank(x, &among)),
            compared: among.len(),
            expect: c.expect.clone(),
            note,
        });
    }
    Ok(Some(Validity { years: (from, to), measures, cases, correlations, not_in_panels }))
}

/// A value with three decimals (one from 100 on, none for a whole number), "–" when missing.
fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e9 => format!("{v:.0}"),
        Some(v) => {
            let s = if v.abs() >= 100.0 { format!("{v:.1}") } else { format!("{v:.3}") };
            if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
                s.trim_start_matches('-').to_string()
            } else {
                s
            }
        }
    }
}

fn span(y: (i64, i64)) -> String {
    if y.0 == y.1 {
        y.0.to_string()
    } else {
        format!("{}–{}", y.0, y.1)
    }
}

/// The level in a table cell.
fn short(l: Level) -> &'static str {
    match l {
        Level::StateYear => "state",
        Level::DyadYear => "dyad",
        Level::DirectedDyadYear => "directed dyad",
        Level::SystemYear => "system",
    }
}

/// The named cases in LaTeX: a longtable (it runs past a page, so it breaks
/// across pages and repeats its header; not for a table float), booktabs
/// rules, the expectation in a column that wraps, true minus signs.
fn cases_latex(header: &[&str], rows: &[Vec<String>], note: &str) -> String {
    use crate::report::tables::esc_latex;
    let cell = |j: usize, s: &str| if j == 3 || j == 4 { esc_latex(s).replace('-', "$-$") } else { esc_latex(s) };
    let row = |r: &[String]| r.iter().enumerate().map(|(j, s)| cell(j, s)).collect::<Vec<_>>().join(" & ") + " \\\\\n";
    let head = row(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    let mut out = format!(
        "% A longtable fragment (breaks across pages; not inside a table float): needs \\usepackage{{booktabs}}, \\usepackage{{array}} and \\usepackage{{longtable}} in the preamble.\n\\begingroup\\footnotesize\n\\begin{{longtable}}{{@{{}}lllrr>{{\\raggedright\\arraybackslash}}p{{0.30\\linewidth}}@{{}}}}\n\\toprule\n{head}\\midrule\n\\endhead\n\\bottomrule\n\\endfoot\n"
    );
    for r in rows {
        out.push_str(&row(r));
    }
    out.push_str("\\end{longtable}\n\\endgroup\n");
    let _ = writeln!(
        out,
        "\\par\\smallskip\n\\noindent\\parbox{{\\linewidth}}{{\\footnotesize\\textit{{Notes:}} {}}}",
        esc_latex(note)
    );
    out
}

/// The three panels of the table (coverage, named cases, correlations), each
/// as (title, rendered table).
fn panels(v: &Validity, format: Format) -> Vec<(String, String)> {
    let cov_rows: Vec<Vec<String>> = v
        .measures
        .iter()
        .map(|m| {
            vec![
                m.measure.clone(),
                m.pillar.clone(),
                short(m.level).into(),
                match (m.first_year, m.last_year) {
                    (Some(a), Some(b)) => span((a, b)),
                    _ => "–".into(),
                },
                format!("{:.1}", 100.0 * m.share),
                crate::report::tables::thousands(&m.n.to_string()),
                crate::report::tables::thousands(&m.units.to_string()),
            ]
        })
        .collect();
    let coverage = plain_table(
        &["measure", "pillar", "level", "years", "share (%)", "N", "units"],
        &cov_rows,
        &[false, false, false, false, true, true, true],
        &[format!(
            "Years: the first and last year with data. Share: non-missing unit-years (N) out of all unit-years of the panel in {}–{}. Units: states, dyads or (system) years with data.",
            v.years.0, v.years.1
        )],
        format,
    );
    let case_rows: Vec<Vec<String>> = v
        .cases
        .iter()
        .map(|c| {
            vec![
                c.measure.clone(),
                c.unit.clone(),
                span(c.years),
                c.value.map_or_else(|| c.note.clone().unwrap_or_else(|| "–".into()), |x| num(Some(x))),
                c.percentile.map_or("–".into(), |p| format!("{p:.1}")),
                c.expect.clone(),
            ]
        })
        .collect();
    let case_header =
        ["measure", "case", "years", "value", "percentile", "expected (stated before the values were seen)"];
    let case_note = "Value: the mean over the case's years with data. Percentile (mid-rank, 0-100): among all states or dyads with data, each averaged over the same years; for the system, among the years of the study.";
    let cases = match format {
        // The expectations are sentences: a left-aligned column that wraps.
        Format::Latex => cases_latex(&case_header, &case_rows, case_note),
        // In HTML too: the last column left-aligned, the others on one line.
        _ => plain_table(
            &case_header,
            &case_rows,
            &[false, false, false, true, true, false],
            &[case_note.into()],
            format,
        )
        .replacen("<table class=\"regression\">", "<table class=\"regression text-last\">", 1),
    };
    let cor_rows: Vec<Vec<String>> = v
        .correlations
        .iter()
        .map(|c| {
            vec![
                c.pillar.clone(),
                short(c.level).into(),
                format!("{} × {}", c.a, c.b),
                c.r.map_or("–".into(), |r| format!("{r:.3}")),
                crate::report::tables::thousands(&c.n.to_string()),
            ]
        })
        .collect();
    let correlations = plain_table(
        &["pillar", "level", "measures", "r", "N"],
        &cor_rows,
        &[false, false, false, true, true],
        &["Pearson correlation on the unit-years where both measures are observed (N).".to_string()],
        format,
    );
    vec![
        ("A. Coverage of each measure".into(), coverage),
        ("B. Named cases".into(), cases),
        ("C. Correlations among the measures of one pillar at one level".into(), correlations),
    ]
}

/// The table in one format: its three panels, each under its title.
pub fn table(v: &Validity, format: Format) -> String {
    let mut out = String::new();
    for (title, t) in panels(v, format) {
        match format {
            Format::Markdown => {
                let _ = write!(out, "**{title}**\n\n{t}\n");
            }
            Format::Html => {
                let _ = write!(out, "<h3>{}</h3>\n{t}", crate::report::tables::esc_html(&title));
            }
            Format::Latex => {
                let _ = write!(
                    out,
                    "\\par\\medskip\\noindent\\textbf{{{}}}\\par\\smallskip\n{t}",
                    crate::report::tables::esc_latex(&title)
                );
            }
        }
    }
    if !v.not_in_panels.is_empty() {
        let text = format!("Measures named in the pillars that no panel has: {}.", v.not_in_panels.join(", "));
        let _ = match format {
            Format::Markdown => writeln!(out, "{text}"),
            Format::Html => writeln!(out, "<p class=\"note\">{}</p>", crate::report::tables::esc_html(&text)),
            Format::Latex => {
                writeln!(out, "\\par\\noindent{{\\footnotesize {}}}", crate::report::tables::esc_latex(&text))
            }
        };
    }
    out
}

/// What the section says before the table (verdicts.md and index.html).
pub const INTRO: &str = "Does each measure measure what its pillar names? For each measure of the pillars at each level: its coverage, its value for cases named in the study file before any value was seen (with the expectation stated there), and its correlations with the other measures of the pillar. It changes no model and no verdict.";

/// `validity.json` and `tables/validity.{md,html,tex}` in `out`.
pub fn write(v: &Validity, out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    super::output::write_json_and_tables(out, "validity", v, |f| table(v, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study(validity: &str) -> Result<Study, StudyError> {
        Study::from_toml(&format!(
            r#"
name = "t"
title = "t"
[data]
from = 2000
to = 2002
[measures]
consensus = ["a (one)", "b (two)", "ghost (not a column)"]
enforcement = ["s_x"]
[[hypotheses]]
id = "H1"
claim = "c"
level = "state-year"
outcome = "a"
cause = "b"
direction = "positive"
family = "gaussian"
{validity}
"#
        ))
    }

    fn frames() -> BTreeMap<Level, DataFrame> {
        let sy = df!(
            "ccode" => [2i64, 2, 2, 20, 20, 20, 200, 200, 200],
            "year" => [2000i64, 2001, 2002, 2000, 2001, 2002, 2000, 2001, 2002],
            "stateabb" => ["USA", "USA", "USA", "CAN", "CAN", "CAN", "UKG", "UKG", "UKG"],
            "a" => [Some(1.0), Some(2.0), None, Some(4.0), Some(4.0), Some(5.0), None, None, None],
            "b" => [Some(2.0), Some(4.0), Some(7.0), Some(8.0), Some(9.0), None, Some(1.0), None, Some(0.0)]
        )
        .unwrap();
        let dy = df!(
            "ccode1" => [2i64, 2, 20, 2, 2, 20],
            "ccode2" => [20i64, 200, 200, 20, 200, 200],
            "year" => [2000i64, 2000, 2000, 2001, 2001, 2001],
            "a" => [0.9, 0.8, 0.1, 0.7, 0.6, 0.3]
        )
        .unwrap();
        let sys = df!("year" => [2000i64, 2001, 2002], "s_x" => [3.0, 1.0, 2.0]).unwrap();
        BTreeMap::from([(Level::StateYear, sy), (Level::DyadYear, dy), (Level::SystemYear, sys)])
    }

    #[test]
    fn percentiles_are_mid_ranks() {
        assert_eq!(percentile_rank(5.0, &[5.0]), Some(50.0));
        assert_eq!(percentile_rank(4.0, &[1.0, 2.0, 3.0, 4.0]), Some(87.5));
        assert_eq!(percentile_rank(2.0, &[2.0, 2.0, 1.0, 3.0]), Some(50.0));
        // A value outside the set: all below, none equal.
        assert_eq!(percentile_rank(10.0, &[1.0, 2.0]), Some(100.0));
    }

    #[test]
    fn correlations_use_complete_cases_only() {
        let x = [Some(1.0), Some(2.0), Some(3.0), None, Some(100.0)];
        let y = [Some(2.0), Some(1.0), Some(3.0), Some(5.0), None];
        let (r, n) = pearson_complete(&x, &y);
        assert_eq!(n, 3);
        // dx = (-1, 0, 1), dy = (0, -1, 1): sxy = 1, sxx = 2, syy = 2.
        assert!((r.unwrap() - 0.5).abs() < 1e-15);
        assert_eq!(pearson_complete(&[Some(1.0), Some(1.0), Some(1.0)], &[Some(1.0), Some(2.0), Some(3.0)]), (None, 3));
        assert_eq!(pearson_complete(&[Some(1.0), None], &[Some(1.0), Some(2.0)]), (None, 1));
    }

    #[test]
    fn coverage_cases_and_correlations_on_a_small_panel() {
        let s = study(
            r#"[validity]
pillars = ["consensus", "enforcement"]
cases = [
  { measure = "a", ccode = 2, years = [2000, 2002], expect = "low" },
  { measure = "a", ccode = 200, year = 2001, expect = "no data" },
  { measure = "a", ccode1 = 200, ccode2 = 2, year = 2000, expect = "high" },
  { measure = "s_x", years = [2001, 2002], expect = "low" },
]"#,
        )
        .unwrap();
        let v = compute(&s, &frames()).unwrap().unwrap();
        let cov = |m: &str, l: Level| v.measures.iter().find(|c| c.measure == m && c.level == l).unwrap();
        let a = cov("a", Level::StateYear);
        assert_eq!((a.n, a.unit_years, a.units, a.first_year, a.last_year), (5, 9, 2, Some(2000), Some(2002)));
        assert!((a.share - 5.0 / 9.0).abs() < 1e-15);
        let ad = cov("a", Level::DyadYear);
        assert_eq!((ad.n, ad.units), (6, 3));
        assert_eq!(cov("s_x", Level::SystemYear).units, 3);
        assert_eq!(v.not_in_panels, vec!["ghost".to_string()]);
        // USA: mean(1, 2) = 1.5 over its 2 years with data; CAN mean 13/3: 25th percentile of two.
        let c = &v.cases[0];
        assert_eq!((c.value, c.years_with_data, c.percentile, c.compared), (Some(1.5), 2, Some(25.0), 2));
        assert_eq!((c.unit.as_str(), c.pillar.as_deref()), ("USA", Some("consensus")));
        // The UK has rows but no data: a note, not a value, not a zero.
        let c = &v.cases[1];
        assert_eq!((c.value, c.percentile), (None, None));
        assert_eq!(c.note.as_deref(), Some("no data for UKG in 2001"));
        // The dyad given in either order; among 3 dyads in 2000 (0.9, 0.8, 0.1).
        let c = &v.cases[2];
        assert_eq!((c.ccode1, c.ccode2, c.unit.as_str()), (Some(2), Some(200), "USA-UKG"));
        assert_eq!((c.value, c.percentile), (Some(0.8), Some(50.0)));
        // The system: mean of 2001-2002 = 1.5 among the yearly values 3, 1, 2.
        let c = &v.cases[3];
        assert_eq!((c.value, c.percentile, c.compared), (Some(1.5), Some(100.0 / 3.0), 3));
        // One correlation: a with b at the state level, on 4 complete rows.
        assert_eq!(v.correlations.len(), 1);
        let r = &v.correlations[0];
        assert_eq!((r.a.as_str(), r.b.as_str(), r.level, r.n), ("a", "b", Level::StateYear, 4));
        let (want, _) = pearson_complete(
            &[Some(1.0), Some(2.0), Some(4.0), Some(4.0)],
            &[Some(2.0), Some(4.0), Some(8.0), Some(9.0)],
        );
        assert_eq!(r.r, want);
        // The table renders all three panels with true minus signs where needed.
        let md = table(&v, Format::Markdown);
        assert!(md.contains("**B. Named cases**") && md.contains("no data for UKG in 2001"), "{md}");
    }

    #[test]
    fn bad_cases_are_errors_naming_the_case() {
        let err = |cases: &str| {
            let s = study(&format!("[validity]\ncases = [{cases}]"));
            match s {
                Err(e) => e.to_string(),
                Ok(s) => compute(&s, &frames()).unwrap_err().to_string(),
            }
        };
        let e = err(r#"{ measure = "aa", ccode = 2, year = 2000, expect = "x" }"#);
        assert!(
            e.contains("validity case 1 (aa, ccode 2, 2000)") && e.contains("not a column of the state-year panel"),
            "{e}"
        );
        let e = err(r#"{ measure = "a", ccode = 999, year = 2000, expect = "x" }"#);
        assert!(e.contains("ccode 999") && e.contains("no rows for 999"), "{e}");
        let e = err(r#"{ measure = "a", ccode1 = 2, ccode2 = 999, year = 2000, expect = "x" }"#);
        assert!(e.contains("no rows for USA-999"), "{e}");
        let e = err(r#"{ measure = "a", ccode = 2, ccode1 = 20, year = 2000, expect = "x" }"#);
        assert!(e.contains("not a mix"), "{e}");
        let e = err(r#"{ measure = "a", ccode = 2, expect = "x" }"#);
        assert!(e.contains("give `year` or `years"), "{e}");
        let e = err(r#"{ measure = "a", ccode = 2, years = [2002, 2000], expect = "x" }"#);
        assert!(e.contains("runs backwards"), "{e}");
        let e = err(r#"{ measure = "a", ccode = 2, year = 1990, expect = "x" }"#);
        assert!(e.contains("outside the study's 2000-2002"), "{e}");
        let e = err(r#"{ measure = "a", ccode = 2, year = 2000, expect = "x", unit = 3 }"#);
        assert!(e.contains("unknown field `unit`"), "{e}");
        let e = study("[validity]\npillars = [\"security\"]").unwrap_err().to_string();
        assert!(e.contains("pillar `security` is not a concept of [measures]"), "{e}");
        // A level the study has no panel of.
        let mut f = frames();
        f.remove(&Level::SystemYear);
        let s = study("[validity]\ncases = [{ measure = \"s_x\", year = 2000, expect = \"x\" }]").unwrap();
        let e = compute(&s, &f).unwrap_err().to_string();
        assert!(e.contains("no system-year panel"), "{e}");
    }
}
