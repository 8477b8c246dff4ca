//! Measures a researcher adds to a panel with `concord data build --add NAMES`.
//!
//! One module per source family. A [`Measure`] knows the files it reads (all in
//! `data/sources.toml`), and every [`Variable`] it contributes at each unit with
//! a label, a unit of measurement, a definition and the years the source
//! covers. The panel builder composes the base panel (system members by year,
//! today's columns) with the requested measures by left joins on the unit's
//! keys ([`attach`]). Outside a variable's years the value is missing, never 0;
//! inside them a unit without a record is 0 for counts (`zero_inside`) and
//! missing for quantities that only exist when observed (ideal points).
//!
//! Adding a dataset touches one file here, its tests and the registry.

pub mod atop;
pub mod capitals;
pub mod controls;
pub mod cow_alliance;
pub mod ideal_points;
pub mod igo;
pub mod peacekeeping;
pub mod rivalry;
pub mod sanctions;
pub mod trade;
pub mod treaty_parties;
pub mod unga;
pub mod unsc;

use polars::prelude::*;

use super::error::{DataError, Result};
use super::panels::Unit;
use super::read::nearest_name;
pub(crate) use super::sources::ints;
use super::sources::{collect, Sources};

/// One column a measure adds to a panel.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Variable {
    /// Column name in the panel.
    pub name: &'static str,
    /// Short label for tables and figures.
    pub label: &'static str,
    /// The panel unit the column belongs to.
    #[serde(skip)]
    pub unit: Unit,
    /// Unit of measurement ("persons", "count", "0/1", ...).
    pub measure: &'static str,
    /// First and last year with data; outside them the value is missing.
    pub years: (i64, i64),
    /// Whether a unit with no record inside the years is 0 (counts, flags).
    pub zero_inside: bool,
    /// What the column is, and how it is computed from the source.
    pub definition: &'static str,
}

impl Variable {
    /// A variable (for the tables of the measure modules).
    pub const fn new(
        name: &'static str,
        label: &'static str,
        unit: Unit,
        measure: &'static str,
        years: (i64, i64),
        zero_inside: bool,
        definition: &'static str,
    ) -> Variable {
        Variable { name, label, unit, measure, years, zero_inside, definition }
    }

    /// Counts and flags are whole numbers in the panel.
    pub fn is_integer(&self) -> bool {
        matches!(self.measure, "count" | "0/1")
    }
}

/// A family of variables from one source.
pub struct Measure {
    /// The name given to `--add`.
    pub name: &'static str,
    /// Registry ids (`data/sources.toml`) of the datasets it reads.
    pub datasets: &'static [&'static str],
    /// Files it reads, relative to the data dir.
    pub files: &'static [&'static str],
    /// Every variable it contributes, at every unit.
    pub variables: &'static [Variable],
    /// The frame of its variables at a unit, keyed by the unit's keys.
    pub frame: fn(&Sources, Unit) -> Result<DataFrame>,
    /// Directional variables of directed dyad-years (`--directed`: for the
    /// row's first state toward the second), with their frame keyed by
    /// `ccode1, ccode2, year` in the direction the source records; none for
    /// measures without a direction.
    pub directed: Option<(&'static [Variable], DirectedFrame)>,
}

/// The frame of a measure's directional variables (see [`Measure::directed`]).
pub type DirectedFrame = fn(&Sources) -> Result<DataFrame>;

impl std::fmt::Debug for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Measure").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Measure {
    /// The variables of this measure at `unit`.
    pub fn at(&self, unit: Unit) -> impl Iterator<Item = &'static Variable> {
        self.variables.iter().filter(move |v| v.unit == unit)
    }
}

/// Every measure concord can add, in the order `data vars` lists them.
pub const MEASURES: [&Measure; 13] = [
    &peacekeeping::MEASURE,
    &unsc::MEASURE,
    &sanctions::MEASURE,
    &atop::MEASURE,
    &ideal_points::MEASURE,
    &unga::MEASURE,
    &igo::MEASURE,
    &rivalry::MEASURE,
    &trade::MEASURE,
    &treaty_parties::MEASURE,
    &controls::MEASURE,
    &cow_alliance::MEASURE,
    &capitals::MEASURE,
];

/// The measures named in `--add` (comma list already split), in the order
/// given, duplicates dropped. An unknown name is an error naming the nearest.
///
/// ```
/// use concord::data::measures::resolve;
/// assert_eq!(resolve(&["unsc".into()]).unwrap()[0].name, "unsc");
/// let err = resolve(&["peacekeepin".into()]).unwrap_err().to_string();
/// assert!(err.contains("did you mean `peacekeeping`?"), "{err}");
/// ```
pub fn resolve(names: &[String]) -> Result<Vec<&'static Measure>> {
    let mut out: Vec<&'static Measure> = Vec::new();
    for raw in names {
        let name = raw.trim();
        if name.is_empty() {
            continue;
        }
        match MEASURES.iter().find(|m| m.name.eq_ignore_ascii_case(name)) {
            Some(m) if !out.iter().any(|o| o.name == m.name) => out.push(m),
            Some(_) => {}
            None => {
                let all: Vec<&str> = MEASURES.iter().map(|m| m.name).collect();
                let near = nearest_name(name, all.iter().copied())
                    .or_else(|| {
                        all.iter().min_by_key(|a| strsim::levenshtein(&name.to_lowercase(), a)).map(|s| s.to_string())
                    })
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(DataError::Invalid {
                    path: "--add".into(),
                    message: format!("unknown source `{name}`{near} Sources concord can add: {}", all.join(", ")),
                });
            }
        }
    }
    Ok(out)
}

/// Fail when a measure has no variables at `unit`, naming the units it has.
pub fn check_units(measures: &[&Measure], unit: Unit) -> Result<()> {
    for m in measures {
        if m.at(unit).next().is_none() {
            let mut has: Vec<String> = m.variables.iter().map(|v| v.unit.to_string()).collect();
            has.dedup();
            return Err(DataError::Invalid {
                path: "--add".into(),
                message: format!("`{}` has no {unit} variables (it has {})", m.name, has.join(", ")),
            });
        }
    }
    Ok(())
}

/// Files the measures read (for the missing-file check before a build).
pub fn files(measures: &[&Measure]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = measures.iter().flat_map(|m| m.files.iter().copied()).collect();
    out.dedup();
    out
}

/// Left-join each measure's variables at `unit` onto the panel `df` on the
/// unit's keys, then apply each variable's coverage: missing outside its
/// years, 0 for an unrecorded unit inside them when `zero_inside`.
pub fn attach(df: DataFrame, unit: Unit, src: &Sources, measures: &[&Measure]) -> Result<DataFrame> {
    use rayon::prelude::*;
    // The sources' frames are independent: made in parallel, joined in order.
    let parts = measures
        .par_iter()
        .map(|m| Ok((m.name, m.at(unit).collect(), (m.frame)(src, unit)?)))
        .collect::<Result<Vec<_>>>()?;
    join_variables(df, unit.keys(), src, parts, "adding measures")
}

/// NMC 7.0 columns a dyad-year panel can carry for each side (see
/// [`attach_sides`]), besides every state-year variable of the measures.
pub const SIDE_NMC: [&str; 4] = ["cinc", "milex", "milper", "tpop"];

/// The files [`attach_sides`] reads for `names`: NMC, and the files of the
/// measures that own any of the names (only those must be there).
pub fn side_files(names: &[String]) -> Vec<&'static str> {
    let owners: Vec<&Measure> = MEASURES
        .iter()
        .copied()
        .filter(|m| m.at(Unit::StateYear).any(|v| names.iter().any(|n| n.trim() == v.name)))
        .collect();
    let mut out = vec![super::sources::files::NMC];
    out.extend(files(&owners));
    out
}

/// Join state-year columns onto a dyad-year panel once for each side, as
/// `name1` (of `ccode1`) and `name2` (of `ccode2`), as peacesciencer's
/// `add_nmc()` does: the inputs of weak-link and ratio terms
/// (`pmin(aeuds1, aeuds2)`, `I(pmin(cinc1, cinc2)/pmax(cinc1, cinc2))`).
/// `names` are NMC columns ([`SIDE_NMC`]) or state-year variables of the
/// measures (`concord data vars --unit state-year`), each with its
/// coverage rule; an unknown name is an error naming the nearest.
pub fn attach_sides(df: DataFrame, src: &Sources, names: &[String]) -> Result<DataFrame> {
    let bad = |message: String| DataError::Invalid { path: "--sides".into(), message };
    let mut nmc: Vec<&str> = Vec::new();
    let mut by_measure: Vec<(&'static Measure, Vec<&'static Variable>)> = Vec::new();
    let known = variables(Some(Unit::StateYear));
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if let Some(c) = SIDE_NMC.iter().find(|c| **c == name) {
            nmc.push(c);
        } else if let Some((m, v)) = known.iter().find(|(_, v)| v.name == name) {
            match by_measure.iter_mut().find(|(o, _)| o.name == m.name) {
                Some((_, vs)) => vs.push(v),
                None => by_measure.push((m, vec![v])),
            }
        } else {
            let all: Vec<&str> = SIDE_NMC.iter().copied().chain(known.iter().map(|(_, v)| v.name)).collect();
            let near =
                nearest_name(name, all.iter().copied()).map(|s| format!("did you mean `{s}`? ")).unwrap_or_default();
            return Err(bad(format!(
                "`{name}` is not a state-year column concord can add to each side of a dyad; {near}Columns: {}",
                all.join(", ")
            )));
        }
        for side in ["1", "2"] {
            if df.column(&format!("{name}{side}")).is_ok() {
                return Err(bad(format!("the panel already has a column `{name}{side}`")));
            }
        }
    }
    // (source, state-year frame, its variables with coverage rules or none, column names)
    type Part<'a> = (&'a str, DataFrame, Vec<Option<&'a Variable>>, Vec<&'a str>);
    let mut parts: Vec<Part> = Vec::new();
    if !nmc.is_empty() {
        parts.push((super::sources::files::NMC, src.nmc()?, vec![None; nmc.len()], nmc));
    }
    for (m, vars) in by_measure {
        let names = vars.iter().map(|v| v.name).collect();
        parts.push((m.name, (m.frame)(src, Unit::StateYear)?, vars.into_iter().map(Some).collect(), names));
    }
    let rows = df.height();
    let mut df = df;
    for (source, frame, vars, names) in parts {
        for side in ["1", "2"] {
            let c = format!("ccode{side}");
            let mut cols = vec![col("ccode").alias(c.as_str()), col("year")];
            cols.extend(names.iter().map(|n| col(*n).alias(format!("{n}{side}"))));
            let f = collect(frame.clone().lazy().select(cols), source)?;
            df = src.attach_unique(df, f, &[c.as_str(), "year"], source)?;
            let cover: Vec<Expr> =
                vars.iter().zip(&names).filter_map(|(v, n)| v.map(|v| coverage_as(v, &format!("{n}{side}")))).collect();
            if !cover.is_empty() {
                df = collect(df.lazy().with_columns(cover), source)?;
            }
        }
    }
    if df.height() != rows {
        return Err(bad(format!("{} rows after the joins, {rows} before", df.height())));
    }
    Ok(df)
}

/// Join the directional variables of `measures` onto a directed dyad-year
/// panel (see [`Measure::directed`]), with their coverage rules.
pub fn attach_directed(df: DataFrame, src: &Sources, measures: &[&Measure]) -> Result<DataFrame> {
    let parts = measures
        .iter()
        .filter_map(|m| m.directed.map(|(vars, frame)| (m.name, vars, frame)))
        .map(|(name, vars, frame)| Ok((name, vars.iter().collect(), frame(src)?)))
        .collect::<Result<Vec<_>>>()?;
    join_variables(df, Unit::DyadYear.keys(), src, parts, "adding directional measures")
}

/// Left-join each `(measure, variables, frame)` onto `df` on `keys`, apply
/// the variables' coverage rules, and check that no row was added or lost.
fn join_variables(
    df: DataFrame,
    keys: &[&str],
    src: &Sources,
    parts: Vec<(&str, Vec<&Variable>, DataFrame)>,
    what: &str,
) -> Result<DataFrame> {
    let rows = df.height();
    let mut df = df;
    let mut cover = Vec::new();
    for (name, vars, frame) in parts {
        let mut cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
        cols.extend(vars.iter().map(|v| col(v.name)));
        let frame = collect(frame.lazy().select(cols), name)?;
        df = src.attach_unique(df, frame, keys, name)?;
        cover.extend(vars.into_iter().map(coverage));
    }
    let out = collect(df.lazy().with_columns(cover), what)?;
    if out.height() != rows {
        return Err(DataError::Invalid {
            path: what.into(),
            message: format!("{} rows after the joins, {rows} before", out.height()),
        });
    }
    Ok(out)
}

/// The coverage rule of a variable as a polars expression.
fn coverage(v: &Variable) -> Expr {
    coverage_as(v, v.name)
}

/// The coverage rule of `v` applied to the column `name` (a side's copy).
fn coverage_as(v: &Variable, name: &str) -> Expr {
    let inside = col("year").gt_eq(lit(v.years.0)).and(col("year").lt_eq(lit(v.years.1)));
    let dtype = if v.is_integer() { DataType::Int64 } else { DataType::Float64 };
    let value = col(name).cast(dtype.clone());
    let value = if v.zero_inside { value.fill_null(lit(0).cast(dtype.clone())) } else { value };
    when(inside).then(value).otherwise(lit(NULL).cast(dtype)).alias(name)
}

/// Every variable concord can add, with its measure, optionally at one unit.
pub fn variables(unit: Option<Unit>) -> Vec<(&'static Measure, &'static Variable)> {
    MEASURES
        .iter()
        .flat_map(|m| m.variables.iter().map(move |v| (*m, v)))
        .filter(|(_, v)| unit.is_none_or(|u| v.unit == u))
        .collect()
}

/// Every directional variable a measure adds to directed dyad-years
/// (`--directed --add NAME`).
pub fn directed_variables() -> Vec<(&'static Measure, &'static Variable)> {
    MEASURES
        .iter()
        .flat_map(|m| m.directed.iter().flat_map(move |(vars, _)| vars.iter().map(move |v| (*m, v))))
        .collect()
}

/// A numeric column as options (for row-wise loops over small sources).
pub(crate) fn floats(df: &DataFrame, name: &str, source: &str) -> Result<Vec<Option<f64>>> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .map_err(DataError::polars(format!("{source}: column `{name}`")))?;
    let ca = c.f64().map_err(DataError::polars(format!("{source}: column `{name}`")))?;
    Ok(ca.iter().collect())
}

/// A text column as owned options.
pub(crate) fn strings(df: &DataFrame, name: &str, source: &str) -> Result<Vec<Option<String>>> {
    let c = df
        .column(name)
        .and_then(|c| c.str().cloned())
        .map_err(DataError::polars(format!("{source}: column `{name}`")))?;
    Ok(c.iter().map(|s| s.map(str::to_string)).collect())
}

/// A frame from `(key values, variable values)` rows: helpers for the modules.
pub(crate) mod frame {
    use super::*;
    use std::collections::BTreeMap;

    /// State-year frame `ccode, year` + one column per name, from a map.
    pub fn state_year<const N: usize>(
        names: [&str; N],
        map: &BTreeMap<(i64, i64), [Option<f64>; N]>,
        what: &str,
    ) -> Result<DataFrame> {
        let mut cols = vec![
            Column::new("ccode".into(), map.keys().map(|k| k.0).collect::<Vec<_>>()),
            Column::new("year".into(), map.keys().map(|k| k.1).collect::<Vec<_>>()),
        ];
        for (i, n) in names.iter().enumerate() {
            cols.push(Column::new((*n).into(), map.values().map(|v| v[i]).collect::<Vec<_>>()));
        }
        DataFrame::new(map.len(), cols).map_err(DataError::polars(what.to_string()))
    }

    /// Dyad-year frame `ccode1 < ccode2, year` + one column per name.
    pub fn dyad_year<const N: usize>(
        names: [&str; N],
        map: &BTreeMap<(i64, i64, i64), [Option<f64>; N]>,
        what: &str,
    ) -> Result<DataFrame> {
        let mut cols = vec![
            Column::new("ccode1".into(), map.keys().map(|k| k.0).collect::<Vec<_>>()),
            Column::new("ccode2".into(), map.keys().map(|k| k.1).collect::<Vec<_>>()),
            Column::new("year".into(), map.keys().map(|k| k.2).collect::<Vec<_>>()),
        ];
        for (i, n) in names.iter().enumerate() {
            cols.push(Column::new((*n).into(), map.values().map(|v| v[i]).collect::<Vec<_>>()));
        }
        DataFrame::new(map.len(), cols).map_err(DataError::polars(what.to_string()))
    }

    /// System-year frame `year` + one column per name.
    pub fn system_year<const N: usize>(
        names: [&str; N],
        map: &BTreeMap<i64, [Option<f64>; N]>,
        what: &str,
    ) -> Result<DataFrame> {
        let mut cols = vec![Column::new("year".into(), map.keys().copied().collect::<Vec<_>>())];
        for (i, n) in names.iter().enumerate() {
            cols.push(Column::new((*n).into(), map.values().map(|v| v[i]).collect::<Vec<_>>()));
        }
        DataFrame::new(map.len(), cols).map_err(DataError::polars(what.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_name_suggests_the_nearest_and_lists_all() {
        let err = resolve(&["sanction".into()]).unwrap_err().to_string();
        assert!(err.starts_with("--add: unknown source `sanction`; did you mean `sanctions`?"), "{err}");
        assert!(err.contains("peacekeeping, unsc, sanctions"), "{err}");
        let err = resolve(&["zzzzzzzzzzzz".into()]).unwrap_err().to_string();
        assert!(err.contains("did you mean"), "{err}");
    }

    #[test]
    fn names_resolve_in_order_without_duplicates() {
        let m = resolve(&["unsc".into(), " peacekeeping".into(), "UNSC".into(), "".into()]).unwrap();
        assert_eq!(m.iter().map(|m| m.name).collect::<Vec<_>>(), vec!["unsc", "peacekeeping"]);
    }

    #[test]
    fn every_variable_is_documented_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        let reg = super::super::registry::Registry::builtin().unwrap();
        for m in MEASURES {
            for d in m.datasets {
                assert!(reg.dataset(d).is_some(), "{}: dataset {d} not in data/sources.toml", m.name);
            }
            for f in m.files {
                assert!(reg.dataset_of(f).is_some(), "{}: file {f} not in data/sources.toml", m.name);
            }
            for v in m.variables {
                assert!(seen.insert((v.unit.to_string(), v.name)), "duplicate variable {}", v.name);
                assert!(!v.label.is_empty() && !v.measure.is_empty() && v.definition.len() > 20, "{}", v.name);
                assert!(v.years.0 <= v.years.1, "{}", v.name);
            }
        }
    }

    #[test]
    fn coverage_is_missing_outside_and_zero_inside_for_counts() {
        let v = Variable {
            name: "x",
            label: "x",
            unit: Unit::StateYear,
            measure: "persons",
            years: (2000, 2001),
            zero_inside: true,
            definition: "",
        };
        let df = df!("year" => [1999i64, 2000, 2001, 2002], "x" => [Some(5.0), None, Some(2.0), Some(3.0)]).unwrap();
        let out = df.clone().lazy().select([coverage(&v)]).collect().unwrap();
        let x: Vec<Option<f64>> = out.column("x").unwrap().f64().unwrap().iter().collect();
        assert_eq!(x, vec![None, Some(0.0), Some(2.0), None]);
        // Counts and flags are whole numbers in the panel.
        let v = Variable { measure: "count", ..v };
        let out = df.lazy().select([coverage(&v)]).collect().unwrap();
        let x: Vec<Option<i64>> = out.column("x").unwrap().i64().unwrap().iter().collect();
        assert_eq!(x, vec![None, Some(0), Some(2), None]);
    }

    #[test]
    fn a_measure_without_variables_at_the_unit_is_an_error() {
        let err = check_units(&[&peacekeeping::MEASURE], Unit::DyadYear).unwrap_err().to_string();
        assert_eq!(err, "--add: `peacekeeping` has no dyad-year variables (it has state-year, system-year)");
    }
}
