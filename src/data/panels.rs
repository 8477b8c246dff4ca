//! The analysis panels of the flagship study: state-year, dyad-year and
//! system-year, built from the registered sources with polars joins.
//!
//! Peace years are counted over each unit's whole history (from its entry into
//! the system, or the first year its event's source covers), then the panel is
//! cut to the requested years, so the counter in the first year of the panel is
//! not reset artificially. Counts are zero-filled only inside the years a
//! source covers (see [`Sources::coverage`]); after that they are missing.

use std::time::Instant;

use polars::prelude::*;
use serde::Serialize;

use super::error::{DataError, Result};
use super::sources::{collect, files, Sources, DY_KEYS, SYSTEM_YEARS, SY_KEYS};
use super::treaties::treaty_counts;
use super::unga::{agreement_with_majority, dyadic_affinity, read_votes, Vote};
use crate::panel::PanelIndex;

/// The unit of a panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    StateYear,
    DyadYear,
    SystemYear,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unit::StateYear => "state-year",
            Unit::DyadYear => "dyad-year",
            Unit::SystemYear => "system-year",
        })
    }
}

impl Unit {
    /// The source files a panel of this unit reads.
    pub fn needed_files(self) -> Vec<&'static str> {
        use files::*;
        let state = vec![
            STATES,
            MAJORS,
            COW_GW,
            IGO_SY,
            TREATIES,
            CODELIST,
            UNGA,
            MIDA,
            MIDB,
            GML_PART,
            WAR_INTER,
            UCDP_ONSETS,
            UCDP_ACD,
            NMC,
            TRADE_SY,
            POLITY,
            BMR,
        ];
        match self {
            Unit::StateYear => state,
            Unit::DyadYear => {
                vec![
                    STATES,
                    MAJORS,
                    IGO_NDY,
                    UNGA,
                    ATOP,
                    DDY,
                    CONTDIR,
                    MINDIST,
                    MID_DDY,
                    MID_DIRDISPS,
                    GML_DDY,
                    NMC,
                    POLITY,
                ]
            }
            Unit::SystemYear => {
                let mut v = state;
                v.push(VETOES);
                v
            }
        }
    }

    /// Key columns of the unit.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Unit::StateYear => &SY_KEYS,
            Unit::DyadYear => &DY_KEYS,
            Unit::SystemYear => &["year"],
        }
    }
}

/// What a build did, for the user and for manifests.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub unit: Unit,
    pub from: i64,
    pub to: i64,
    pub rows: usize,
    pub columns: usize,
    pub seconds: f64,
    /// Resolved duplicates, unmatched names and other notes on the sources.
    pub notes: Vec<String>,
}

/// Build a panel of `unit` for years `from..=to` from the data in `dir`.
///
/// ```no_run
/// use concord::data::panels::{build, Unit};
/// let (df, report) = build(Unit::StateYear, "../shared/data".as_ref(), 1946, 2014).unwrap();
/// assert_eq!(df.height(), report.rows);
/// ```
pub fn build(unit: Unit, dir: &std::path::Path, from: i64, to: i64) -> Result<(DataFrame, BuildReport)> {
    let t0 = Instant::now();
    check_years(from, to)?;
    let mut src = Sources::open(dir, &unit.needed_files())?;
    let df = match unit {
        Unit::StateYear => {
            let votes = read_votes(&src)?;
            state_year(&mut src, from, to, &votes)?
        }
        Unit::DyadYear => dyad_year(&mut src, from, to)?,
        Unit::SystemYear => system_year(&mut src, from, to)?,
    };
    let report = BuildReport {
        unit,
        from,
        to,
        rows: df.height(),
        columns: df.width(),
        seconds: t0.elapsed().as_secs_f64(),
        notes: std::mem::take(&mut src.notes),
    };
    Ok((df, report))
}

/// Build a panel with the measures named in `add` (`concord data build --add`)
/// joined onto today's columns on the unit's keys; with none it is [`build`].
/// Every file the panel and the measures read is checked before anything is
/// built, so one error lists all that are missing.
///
/// ```no_run
/// use concord::data::{measures, panels::{build_with, Unit}};
/// let add = measures::resolve(&["peacekeeping".into(), "unsc".into()]).unwrap();
/// let (df, _) = build_with(Unit::StateYear, "../shared/data".as_ref(), 1990, 2014, &add).unwrap();
/// assert!(df.column("pko_total").is_ok());
/// ```
pub fn build_with(
    unit: Unit,
    dir: &std::path::Path,
    from: i64,
    to: i64,
    add: &[&super::measures::Measure],
) -> Result<(DataFrame, BuildReport)> {
    if add.is_empty() {
        return build(unit, dir, from, to);
    }
    let t0 = Instant::now();
    super::measures::check_units(add, unit)?;
    let mut needed = unit.needed_files();
    needed.extend(super::measures::files(add));
    let src = Sources::open(dir, &needed)?;
    let (df, mut report) = build(unit, dir, from, to)?;
    let df = super::measures::attach(df, unit, &src, add)?;
    report.columns = df.width();
    report.seconds = t0.elapsed().as_secs_f64();
    Ok((df, report))
}

/// State-year columns joined onto each side of a dyad-year panel (`concord
/// data build --sides`): NMC columns or the measures' state-year variables
/// (see [`super::measures::attach_sides`]), read from `dir`.
///
/// ```no_run
/// let (df, _) = concord::data::panels::build(concord::data::panels::Unit::DyadYear, "../shared/data".as_ref(), 2000, 2001).unwrap();
/// let df = concord::data::panels::add_sides(df, "../shared/data".as_ref(), &["milper".into(), "aeuds".into()]).unwrap();
/// assert!(df.column("aeuds2").is_ok());
/// ```
pub fn add_sides(df: DataFrame, dir: &std::path::Path, names: &[String]) -> Result<DataFrame> {
    if names.is_empty() {
        return Ok(df);
    }
    if df.column("ccode1").is_err() || df.column("ccode2").is_err() {
        return Err(DataError::Invalid {
            path: "--sides".into(),
            message: "--sides is for dyad-year panels (it adds each state's column for ccode1 and for ccode2)".into(),
        });
    }
    // Only the files of the named columns' sources must be there.
    let needed = super::measures::side_files(names);
    let src = Sources::open(dir, &needed)?;
    super::measures::attach_sides(df, &src, names)
}

/// [`build_with`] for directed dyad-years (`concord data build --unit
/// dyad-year --directed`): the non-directed panel with its measures, in both
/// orders, with the directional columns (see [`directed`]).
///
/// ```no_run
/// let (df, _) = concord::data::panels::build_directed("../shared/data".as_ref(), 1990, 2000, &[]).unwrap();
/// assert!(df.column("mid_init").is_ok());
/// ```
pub fn build_directed(
    dir: &std::path::Path,
    from: i64,
    to: i64,
    add: &[&super::measures::Measure],
) -> Result<(DataFrame, BuildReport)> {
    let t0 = Instant::now();
    let (nd, mut report) = build_with(Unit::DyadYear, dir, from, to, add)?;
    let df = directed_from(nd, dir, add)?;
    report.rows = df.height();
    report.columns = df.width();
    report.seconds = t0.elapsed().as_secs_f64();
    Ok((df, report))
}

/// The directed dyad-years of a non-directed panel built by [`build_with`]
/// with the same `add` (a study that needs both builds the panel once).
pub fn directed_from(nd: DataFrame, dir: &std::path::Path, add: &[&super::measures::Measure]) -> Result<DataFrame> {
    let mut needed = Unit::DyadYear.needed_files();
    needed.extend(super::measures::files(add));
    let src = Sources::open(dir, &needed)?;
    super::measures::attach_directed(directed(nd, &src)?, &src, add)
}

/// The year range must lie within the COW state system data.
pub fn check_years(from: i64, to: i64) -> Result<()> {
    let (min, max) = SYSTEM_YEARS;
    if from > to {
        return Err(DataError::ReversedYears { from, to });
    }
    if from < min || to > max {
        return Err(DataError::YearRange { from, to, what: "the COW state system (states2016)".into(), min, max });
    }
    Ok(())
}

/// Each column of a unit-year table summarised by year: `mean_{c}`, the
/// quartiles `q25_{c}` and `q75_{c}` (R's type 7) and `n_{c}`, the units
/// with a value, so a time series can show the dispersion and the number of
/// units behind each mean. One row per year present, in order.
///
/// The bytes never depend on row order or thread count: each year's values
/// are sorted and summed in order. (A parallel group-by hands rows to a group
/// in varying order and chunking, and float sums depend on both.)
///
/// ```
/// use concord::data::panels::yearly_summary;
/// use polars::prelude::*;
/// let df = df!("year" => [2000i64, 2000, 2000, 2001], "x" => [1.0, 2.0, 4.0, 5.0]).unwrap();
/// let s = yearly_summary(&df, &["x"]).unwrap();
/// let mean = s.column("mean_x").unwrap().f64().unwrap().get(0);
/// let q75 = s.column("q75_x").unwrap().f64().unwrap().get(0);
/// assert_eq!((mean, q75), (Some(7.0 / 3.0), Some(3.0)));
/// ```
pub fn yearly_summary(df: &DataFrame, columns: &[&str]) -> Result<DataFrame> {
    use super::describe::quantile_sorted;
    use std::collections::BTreeMap;
    let years = super::sources::ints(df, "year", "yearly means")?;
    let mut out: Vec<Column> = Vec::new();
    let mut keys: Vec<i64> = years.iter().flatten().copied().collect();
    keys.sort_unstable();
    keys.dedup();
    out.push(Column::new("year".into(), keys.clone()));
    for c in columns {
        let v = df
            .column(c)
            .and_then(|s| s.cast(&DataType::Float64))
            .map_err(DataError::polars(format!("yearly means: `{c}`")))?;
        let v = v.f64().map_err(DataError::polars(format!("yearly means: `{c}`")))?;
        let mut by: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for (y, x) in years.iter().zip(v.iter()) {
            if let (Some(y), Some(x)) = (y, x) {
                if x.is_finite() {
                    by.entry(*y).or_default().push(x);
                }
            }
        }
        for xs in by.values_mut() {
            xs.sort_by(f64::total_cmp);
        }
        let stat = |f: &dyn Fn(&[f64]) -> f64| -> Vec<Option<f64>> {
            keys.iter().map(|k| by.get(k).filter(|xs| !xs.is_empty()).map(|xs| f(xs))).collect()
        };
        out.push(Column::new(format!("mean_{c}").into(), stat(&|xs| xs.iter().sum::<f64>() / xs.len() as f64)));
        out.push(Column::new(format!("q25_{c}").into(), stat(&|xs| quantile_sorted(xs, 0.25))));
        out.push(Column::new(format!("q75_{c}").into(), stat(&|xs| quantile_sorted(xs, 0.75))));
        let n: Vec<i64> = keys.iter().map(|k| by.get(k).map_or(0, |xs| xs.len() as i64)).collect();
        out.push(Column::new(format!("n_{c}").into(), n));
    }
    DataFrame::new(keys.len(), out).map_err(DataError::polars("yearly means"))
}

/// `x` with missing values set to 0 in the years a source covers.
fn zero_within(name: &str, first: i64, last: i64) -> Expr {
    let inside = col("year").gt_eq(lit(first)).and(col("year").lt_eq(lit(last)));
    when(inside).then(col(name).fill_null(lit(0i64))).otherwise(col(name)).alias(name)
}

/// Which of two values [`pair_extreme`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extreme {
    Min,
    Max,
}

/// The lower or higher of two float columns, missing when either side is missing.
///
/// A bare `when(a <= b).then(a).otherwise(b)` sends a missing comparison to
/// `otherwise`, so one side's value would stand in for the pair when the other is
/// missing (the `dem_low` defect of issue 16): the nulls are checked first.
///
/// ```
/// use concord::data::panels::{pair_extreme, Extreme};
/// use polars::prelude::*;
/// let df = df!("a" => [Some(1.0), None, Some(3.0)], "b" => [Some(2.0), Some(5.0), None]).unwrap();
/// let out = df.lazy().select([pair_extreme("a", "b", Extreme::Min).alias("lo")]).collect().unwrap();
/// let lo: Vec<Option<f64>> = out.column("lo").unwrap().f64().unwrap().iter().collect();
/// assert_eq!(lo, vec![Some(1.0), None, None]);
/// ```
pub fn pair_extreme(a: &str, b: &str, which: Extreme) -> Expr {
    let (a, b) = (col(a).cast(DataType::Float64), col(b).cast(DataType::Float64));
    let first = match which {
        Extreme::Min => a.clone().lt_eq(b.clone()),
        Extreme::Max => a.clone().gt_eq(b.clone()),
    };
    when(a.clone().is_null().or(b.clone().is_null()))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(when(first).then(a).otherwise(b))
}

/// Add one peace-years counter per event column `(onset, name, first, last)` by
/// unit, over the years `first..=last` the event's source covers (missing
/// outside them); each unit's clock starts at its first year in the system inside
/// that window. `peace_years` (the study's name) equals `peace_years_mid`.
fn add_all_peace_years(mut df: DataFrame, units: &[&str], events: &[(&str, &str, i64, i64)]) -> Result<DataFrame> {
    let idx = PanelIndex::from_frame(&df, units, "year")
        .map_err(|e| DataError::Invalid { path: "panel".into(), message: e.to_string() })?;
    for &(onset, name, first, last) in events {
        let events: Vec<Option<bool>> = df
            .column(onset)
            .and_then(|c| c.cast(&DataType::Int64))
            .and_then(|c| c.i64().cloned())
            .map_err(DataError::polars(onset.to_string()))?
            .iter()
            .map(|v| v.map(|v| v > 0))
            .collect();
        let py = idx.peace_years_within(&events, first, last);
        df.with_column(Column::new(name.into(), py)).map_err(DataError::polars(name.to_string()))?;
    }
    collect(df.lazy().with_columns([col("peace_years_mid").alias("peace_years")]), "peace_years")
}

/// State-year panel: one row per COW system member and year.
pub fn state_year(src: &mut Sources, from: i64, to: i64, votes: &[Vote]) -> Result<DataFrame> {
    let cov = Sources::coverage();
    let frame = src.state_years(SYSTEM_YEARS.0, to)?;
    let mut lf = frame.lazy();
    lf = src.join_unique(lf, src.igo_sy()?, &SY_KEYS, files::IGO_SY)?;
    lf = src.join_unique(lf, agreement_with_majority(votes)?, &SY_KEYS, files::UNGA)?;
    lf = src.join_unique(lf, src.mid_state_onsets()?, &SY_KEYS, files::MIDB)?;
    lf = src.join_unique(lf, src.gml_state_onsets()?, &SY_KEYS, files::GML_PART)?;
    lf = src.join_unique(lf, src.war_state_onsets()?, &SY_KEYS, files::WAR_INTER)?;
    lf = src.join_unique(lf, src.ucdp_state_onsets()?, &SY_KEYS, files::UCDP_ONSETS)?;
    lf = src.join_unique(lf, src.ucdp_type_onsets()?, &SY_KEYS, files::UCDP_ACD)?;
    lf = src.join_unique(lf, src.nmc()?, &SY_KEYS, files::NMC)?;
    lf = src.join_unique(lf, src.majors()?, &SY_KEYS, files::MAJORS)?;
    lf = src.join_unique(lf, src.trade_sy()?, &SY_KEYS, files::TRADE_SY)?;
    let polity = src.polity()?;
    lf = src.join_unique(lf, polity, &SY_KEYS, files::POLITY)?;
    let bmr = src.bmr()?;
    lf = src.join_unique(lf, bmr, &SY_KEYS, files::BMR)?;
    let df = collect(
        lf.with_columns([
            zero_within("mid_onset", SYSTEM_YEARS.0, cov["mid"]),
            zero_within("mid_count", SYSTEM_YEARS.0, cov["mid"]),
            zero_within("fatal_mid_onset", SYSTEM_YEARS.0, cov["mid"]),
            zero_within("gml_mid_onset", SYSTEM_YEARS.0, cov["gml"]),
            zero_within("war_onset", SYSTEM_YEARS.0, cov["war"]),
            zero_within("unga_n_votes", 1946, cov["unga"]),
            col("major_power").fill_null(lit(0i64)),
        ])
        .sort(["ccode", "year"], Default::default()),
        "state-year panel",
    )?;
    let (s0, ucdp) = (SYSTEM_YEARS.0, Sources::ucdp_acd_years());
    let df = add_all_peace_years(
        df,
        &["ccode"],
        &[
            ("mid_onset", "peace_years_mid", s0, cov["mid"]),
            ("gml_mid_onset", "peace_years_gml", s0, cov["gml"]),
            ("fatal_mid_onset", "peace_years_fatal", s0, cov["mid"]),
            ("war_onset", "peace_years_war", s0, cov["war"]),
            ("ucdp_onset_interstate", "peace_years_ucdp_interstate", ucdp.0, ucdp.1),
        ],
    )?;
    let df = collect(df.lazy().filter(col("year").gt_eq(lit(from))), "state-year panel")?;
    let ccode = super::sources::ints(&df, "ccode", "state-year panel")?.into_iter().flatten().collect::<Vec<_>>();
    let year = super::sources::ints(&df, "year", "state-year panel")?.into_iter().flatten().collect::<Vec<_>>();
    let (treaties, _) = treaty_counts(src, &ccode, &year)?;
    let lf = src.join_unique(df.lazy(), treaties, &SY_KEYS, files::TREATIES)?;
    let out = collect(
        lf.select(
            [
                "ccode",
                "year",
                "stateabb",
                "igo_full",
                "igo_any",
                "treaties_cum",
                "treaties_hr_cum",
                "treaties_disarm_cum",
                "icj_optional_clause",
                "icj_declared_by_2015",
                "icc_member",
                "unga_agree_majority",
                "unga_n_votes",
                "mid_onset",
                "mid_count",
                "fatal_mid_onset",
                "gml_mid_onset",
                "war_onset",
                "ucdp_onset",
                "ucdp_onsets",
                "ucdp_onset_interstate",
                "ucdp_onset_intrastate",
                "peace_years",
                "peace_years_mid",
                "peace_years_gml",
                "peace_years_fatal",
                "peace_years_war",
                "peace_years_ucdp_interstate",
                "cinc",
                "milex",
                "tpop",
                "major_power",
                "trade_total",
                "polity2",
                "democracy",
            ]
            .map(col),
        ),
        "state-year panel",
    )?;
    expect_rows(&out, frame_rows(src, from, to)?, "state-year panel")?;
    Ok(out)
}

fn frame_rows(src: &Sources, from: i64, to: i64) -> Result<usize> {
    Ok(src.state_years(from, to)?.height())
}

/// A join must not change the number of rows of the frame.
fn expect_rows(df: &DataFrame, rows: usize, what: &str) -> Result<()> {
    if df.height() != rows {
        return Err(DataError::DuplicateKeys {
            context: what.into(),
            keys: "unit, year".into(),
            count: df.height().abs_diff(rows),
            first: format!("{} rows after joins, {} expected", df.height(), rows),
        });
    }
    Ok(())
}

/// Non-directed dyad-year panel: one row per pair of system members (`ccode1 <
/// ccode2`) and year, with `dyad = 1000 * ccode1 + ccode2` as a dyad identifier.
pub fn dyad_year(src: &mut Sources, from: i64, to: i64) -> Result<DataFrame> {
    let cov = Sources::coverage();
    let frame = src.dyad_years(SYSTEM_YEARS.0, to)?;
    let expected = frame
        .column("year")
        .map_err(DataError::polars("dyad-years"))?
        .as_materialized_series()
        .i64()
        .map_err(DataError::polars("dyad-years"))?
        .iter()
        .filter(|y| y.is_some_and(|y| y >= from))
        .count();
    let votes = read_votes(src)?;
    let mut lf = frame.lazy();
    lf = src.join_unique(lf, src.igo_ndy()?, &DY_KEYS, files::IGO_NDY)?;
    lf = src.join_unique(lf, dyadic_affinity(&votes)?, &DY_KEYS, files::UNGA)?;
    lf = src.join_unique(lf, src.atop_ndy()?, &DY_KEYS, files::ATOP)?;
    lf = src.join_unique(lf, src.contiguity()?, &DY_KEYS, files::CONTDIR)?;
    lf = src.join_unique(lf, src.mindist()?, &DY_KEYS, files::MINDIST)?;
    lf = src.join_unique(lf, src.mid_ndy()?, &DY_KEYS, files::MID_DDY)?;
    lf = src.join_unique(lf, src.gml_ndy()?, &DY_KEYS, files::GML_DDY)?;
    lf = src.join_unique(lf, src.mid_ongoing_prior_ndy()?, &DY_KEYS, files::MID_DIRDISPS)?;
    // Monadic attributes of each side.
    let nmc = src.nmc()?;
    let majors = src.majors()?;
    let polity = src.polity()?;
    for side in ["1", "2"] {
        let c = format!("ccode{side}");
        let rename = |df: &DataFrame, cols: &[&str]| -> Result<DataFrame> {
            collect(
                df.clone().lazy().select(
                    std::iter::once(col("ccode").alias(c.as_str()))
                        .chain(std::iter::once(col("year")))
                        .chain(cols.iter().map(|n| col(*n).alias(format!("{n}{side}"))))
                        .collect::<Vec<_>>(),
                ),
                "dyad sides",
            )
        };
        let keys = [c.as_str(), "year"];
        lf = src.join_unique(lf, rename(&nmc, &["cinc"])?, &keys, files::NMC)?;
        lf = src.join_unique(lf, rename(&majors, &["major_power"])?, &keys, files::MAJORS)?;
        lf = src.join_unique(lf, rename(&polity, &["polity2"])?, &keys, files::POLITY)?;
    }
    let atop = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul", "atop_any"];
    let mut fills: Vec<Expr> = atop.iter().map(|n| zero_within(n, SYSTEM_YEARS.0, cov["atop"])).collect();
    fills.extend([
        zero_within("land_contiguity", SYSTEM_YEARS.0, cov["contiguity"]),
        zero_within("conttype", SYSTEM_YEARS.0, cov["contiguity"]),
        zero_within("mid_onset", SYSTEM_YEARS.0, cov["mid"]),
        zero_within("mid_ongoing", SYSTEM_YEARS.0, cov["mid"]),
        zero_within("mid_ongoing_prior", SYSTEM_YEARS.0, cov["mid"]),
        zero_within("fatal_mid_onset", SYSTEM_YEARS.0, cov["mid"]),
        zero_within("gml_mid_onset", SYSTEM_YEARS.0, cov["gml"]),
        col("major_power1").fill_null(lit(0i64)),
        col("major_power2").fill_null(lit(0i64)),
    ]);
    let df = collect(lf.with_columns(fills).sort(["ccode1", "ccode2", "year"], Default::default()), "dyad-year panel")?;
    let s0 = SYSTEM_YEARS.0;
    let df = add_all_peace_years(
        df,
        &["ccode1", "ccode2"],
        &[
            ("mid_onset", "peace_years_mid", s0, cov["mid"]),
            ("gml_mid_onset", "peace_years_gml", s0, cov["gml"]),
            ("fatal_mid_onset", "peace_years_fatal", s0, cov["mid"]),
        ],
    )?;
    let hi = pair_extreme("cinc1", "cinc2", Extreme::Max);
    let lo = pair_extreme("cinc1", "cinc2", Extreme::Min);
    let dem_lo = pair_extreme("polity21", "polity22", Extreme::Min);
    let dem_hi = pair_extreme("polity21", "polity22", Extreme::Max);
    let out = collect(
        df.lazy()
            .filter(col("year").gt_eq(lit(from)))
            .with_columns([
                (col("ccode1") * lit(1000i64) + col("ccode2")).alias("dyad"),
                // The ratio is undefined when the weaker side's CINC is 0.
                when(lo.clone().gt(lit(0.0)))
                    .then(hi / lo)
                    .otherwise(lit(NULL).cast(DataType::Float64))
                    .alias("cinc_ratio"),
                (col("major_power1") * col("major_power2")).alias("both_major"),
                (col("major_power1") + col("major_power2")).gt(lit(0)).cast(DataType::Int64).alias("any_major"),
                dem_lo.alias("dem_low"),
                dem_hi.alias("dem_high"),
                // Politically relevant (Maoz and Russett 1993): contiguous by
                // land or up to 400 miles of water, or with a major power;
                // outside the contiguity data only the major-power rule decides.
                when((col("major_power1") + col("major_power2")).gt(lit(0)))
                    .then(lit(1i64))
                    .otherwise(col("conttype").gt(lit(0)).cast(DataType::Int64))
                    .alias("relevant"),
            ])
            .select(
                [
                    "ccode1",
                    "ccode2",
                    "year",
                    "dyad",
                    "dyadigos",
                    "unga_affinity",
                    "unga_s_score",
                    "unga_joint_votes",
                    "atop_defense",
                    "atop_offense",
                    "atop_neutral",
                    "atop_nonagg",
                    "atop_consul",
                    "atop_any",
                    "land_contiguity",
                    "conttype",
                    "mindist",
                    "mid_onset",
                    "mid_ongoing",
                    "mid_ongoing_prior",
                    "fatal_mid_onset",
                    "gml_mid_onset",
                    "peace_years",
                    "peace_years_mid",
                    "peace_years_gml",
                    "peace_years_fatal",
                    "cinc_ratio",
                    "both_major",
                    "any_major",
                    "dem_low",
                    "dem_high",
                    "relevant",
                ]
                .map(col),
            ),
        "dyad-year panel",
    )?;
    expect_rows(&out, expected, "dyad-year panel")?;
    Ok(out)
}

/// Only the politically relevant dyad-years (`relevant` = 1: contiguous by
/// land or up to 400 miles of water, or with a major power), for `concord
/// data build --relevant`.
pub fn only_relevant(df: DataFrame) -> Result<DataFrame> {
    if df.column("relevant").is_err() {
        return Err(DataError::Invalid {
            path: "--relevant".into(),
            message: "the panel has no `relevant` column: --relevant is for dyad-year panels".into(),
        });
    }
    collect(df.lazy().filter(col("relevant").eq(lit(1i64))), "politically relevant dyad-years")
}

/// Directional columns of the directed dyad-year panel, with the coverage
/// key of their source (zero inside it, missing outside).
pub const DIRECTIONAL: [(&str, &str); 10] = [
    ("mid_init", "mid"),
    ("mid_sidea", "mid"),
    ("mid_target", "mid"),
    ("mid_revisionist", "mid"),
    ("mid_revisionist_terr", "mid"),
    ("atop_defense_dir", "atop"),
    ("atop_offense_dir", "atop"),
    ("atop_neutral_dir", "atop"),
    ("atop_nonagg_dir", "atop"),
    ("atop_consul_dir", "atop"),
];

/// Directed dyad-years from a non-directed dyad-year panel (`ccode1 <
/// ccode2`, as [`dyad_year`] and `--add` build it): both orders of every pair,
/// every column of the pair identical in both (a value recorded in one
/// direction only cannot reach one order only), `dyad = 1000 * ccode1 +
/// ccode2` now directed and `pair` the non-directed id (to cluster on), and
/// the directional columns of [`DIRECTIONAL`] for the row's first state.
pub fn directed(nd: DataFrame, src: &Sources) -> Result<DataFrame> {
    let rows = nd.height();
    let names: Vec<String> = nd.get_column_names().iter().map(|n| n.to_string()).collect();
    let swapped = collect(
        nd.clone().lazy().with_columns([col("ccode2").alias("ccode1"), col("ccode1").alias("ccode2")]),
        "directed",
    )?;
    let mut both = nd;
    both.vstack_mut(&swapped).map_err(DataError::polars("directed dyad-years"))?;
    let lo = when(col("ccode1").lt(col("ccode2"))).then(col("ccode1")).otherwise(col("ccode2"));
    let hi = when(col("ccode1").lt(col("ccode2"))).then(col("ccode2")).otherwise(col("ccode1"));
    let both = collect(
        both.lazy().with_columns([
            (col("ccode1") * lit(1000i64) + col("ccode2")).alias("dyad"),
            (lo * lit(1000i64) + hi).alias("pair"),
        ]),
        "directed dyad-years",
    )?;
    let both = src.attach_unique(both, src.mid_ddy_directional()?, &DY_KEYS, files::MID_DDY)?;
    let lf = src.attach_unique(both, src.atop_ddy_directional()?, &DY_KEYS, files::ATOP)?.lazy();
    let cov = Sources::coverage();
    let fills: Vec<Expr> =
        DIRECTIONAL.iter().map(|(n, key)| zero_within(n, SYSTEM_YEARS.0, cov.get(key).copied().unwrap_or(0))).collect();
    let mut order: Vec<Expr> = Vec::new();
    for n in &names {
        order.push(col(n.as_str()));
        if n == "dyad" {
            order.push(col("pair"));
        }
    }
    order.extend(DIRECTIONAL.iter().map(|(n, _)| col(*n)));
    let out = sorted_by_dyad_year(collect(lf.with_columns(fills).select(order), "directed dyad-year panel")?)?;
    expect_rows(&out, 2 * rows, "directed dyad-year panel")?;
    super::sources::check_unique(&out, &DY_KEYS, "directed dyad-year panel")?;
    Ok(out)
}

/// `df` sorted by `ccode1, ccode2, year`: the order from the joins' fused
/// integer key ([`super::sources::fused_key`], exact for codes < 1000 and
/// years < 10000), then each column gathered in turn and its unsorted
/// original dropped, so the panel is never held twice.
fn sorted_by_dyad_year(df: DataFrame) -> Result<DataFrame> {
    if !super::sources::fusable(&df, &DY_KEYS, "directed dyad-year panel")? {
        return collect(df.lazy().sort(DY_KEYS, Default::default()), "directed dyad-year panel");
    }
    let err = DataError::polars("sorting the directed dyad-years");
    let key = collect(df.clone().lazy().select([super::sources::fused_key(&DY_KEYS)]), "directed dyad-year keys")?;
    let idx = key
        .columns()
        .first()
        .ok_or_else(|| DataError::Invalid { path: "directed dyad-year keys".into(), message: "no key column".into() })?
        .i64()
        .map(|k| k.arg_sort(Default::default()))
        .map_err(err)?;
    let height = df.height();
    let mut out = Vec::with_capacity(df.width());
    for c in df.into_columns() {
        out.push(c.take(&idx).map_err(DataError::polars("sorting the directed dyad-years"))?);
    }
    DataFrame::new(height, out).map_err(DataError::polars("sorting the directed dyad-years"))
}

/// Indicators of the state-year panel summarised by year in the system panel.
pub const SYSTEM_INDICATORS: [&str; 8] = [
    "igo_full",
    "igo_any",
    "treaties_cum",
    "treaties_hr_cum",
    "treaties_disarm_cum",
    "icj_declared_by_2015",
    "icc_member",
    "unga_agree_majority",
];

/// System-year panel: counts of states and conflict onsets, yearly means,
/// medians and quartiles of the state-year socialization and consensus
/// indicators, mean (and quartiles of) dyadic UNGA affinity (over all pairs of states that voted on a common roll call) and
/// Security Council vetoes.
pub fn system_year(src: &mut Sources, from: i64, to: i64) -> Result<DataFrame> {
    let cov = Sources::coverage();
    let votes = read_votes(src)?;
    let sy = state_year(src, from, to, &votes)?;
    let mut aggs = vec![
        len().cast(DataType::Int64).alias("n_states"),
        col("ucdp_onsets").sum().alias("ucdp_onsets"),
        col("ucdp_onsets").is_not_null().any(true).alias("ucdp_any"),
    ];
    for n in SYSTEM_INDICATORS {
        aggs.push(col(n).cast(DataType::Float64).median().alias(format!("median_{n}")));
    }
    let by_year = collect(sy.clone().lazy().group_by([col("year")]).agg(aggs), "system-year aggregates")?;
    let means = yearly_summary(&sy, &SYSTEM_INDICATORS)?;
    let aff = yearly_summary(&dyadic_affinity(&votes)?, &["unga_affinity"])?;
    let years: Vec<i64> = (from..=to).collect();
    let mut lf = df!("year" => years).map_err(DataError::polars("system years"))?.lazy();
    for df in [by_year, means, src.mid_onsets_by_year()?, src.war_onsets_by_year()?, src.vetoes_by_year()?, aff] {
        lf = lf.join(df.lazy(), [col("year")], [col("year")], JoinArgs::new(JoinType::Left));
    }
    let mut front = vec![
        col("year"),
        col("n_states"),
        zero_within("mid_onsets", SYSTEM_YEARS.0, cov["mid"]),
        zero_within("wars", SYSTEM_YEARS.0, cov["war"]),
        when(col("ucdp_any")).then(col("ucdp_onsets")).otherwise(lit(NULL).cast(DataType::Int64)).alias("ucdp_onsets"),
        zero_within("unsc_vetoes", 1946, 2022),
        col("mean_unga_affinity"),
        col("q25_unga_affinity"),
        col("q75_unga_affinity"),
    ];
    for n in SYSTEM_INDICATORS {
        front.push(col(format!("mean_{n}")));
        front.push(col(format!("median_{n}")));
        front.push(col(format!("q25_{n}")));
        front.push(col(format!("q75_{n}")));
    }
    let out = collect(lf.select(front).sort(["year"], Default::default()), "system-year panel")?;
    check_unique_years(&out)?;
    Ok(out)
}

fn check_unique_years(df: &DataFrame) -> Result<()> {
    super::sources::check_unique(df, &["year"], "system-year panel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_range_outside_the_data_is_an_error() {
        let err = check_years(1700, 2014).unwrap_err().to_string();
        assert_eq!(err, "years 1700-2014 are outside the data: the COW state system (states2016) covers 1816-2016");
        assert!(check_years(2000, 1990).is_err());
        assert!(check_years(2010, 2030).is_err());
        assert!(check_years(1946, 2014).is_ok());
    }

    #[test]
    fn zero_fill_only_inside_coverage() {
        let df = df!("year" => [2013i64, 2014, 2015], "x" => [None, Some(1i64), None]).unwrap();
        let out = df.lazy().select([zero_within("x", 1816, 2014)]).collect().unwrap();
        let x: Vec<Option<i64>> = out.column("x").unwrap().i64().unwrap().iter().collect();
        assert_eq!(x, vec![Some(0), Some(1), None]);
    }
}
