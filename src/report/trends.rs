//! Time-series figures of a system-year table: the report's Figure 1 and
//! `concord plot trends`. A unit-year table (states, dyads) is either
//! summarised by year first (`--aggregate`: means with their interquartile
//! range) or refused: drawn as it is, its rows zig-zag across units.

use polars::prelude::DataFrame;

use super::labels::Labels;
use crate::plot::{Event, Trends, TrendsPanel};

fn column(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    crate::formula::design::numeric(df, name).ok()
}

/// The interquartile band of `mean_x` when the table has `q25_x` and `q75_x`.
fn band(df: &DataFrame, mean: &str) -> Option<Vec<Option<(f64, f64)>>> {
    let base = mean.strip_prefix("mean_")?;
    let (a, b) = (column(df, &format!("q25_{base}"))?, column(df, &format!("q75_{base}"))?);
    Some(a.into_iter().zip(b).map(|(a, b)| a.zip(b)).collect())
}

/// A panel of column `name`; a title's " (mean, IQR)" is kept only when the
/// table has the quartiles that draw the band.
fn panel(df: &DataFrame, name: &str, title: &str, unit: &str) -> Option<TrendsPanel> {
    let values = column(df, name)?;
    let band = band(df, name);
    let title = if band.is_some() { title.to_string() } else { title.replace(" (mean, IQR)", " (mean)") };
    let mut p = TrendsPanel::new(&title, unit, values);
    p.band = band;
    Some(p)
}

fn years(df: &DataFrame) -> Result<Vec<f64>, String> {
    let years = column(df, "year").ok_or("no numeric `year` column")?;
    let years: Vec<f64> = years.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    if let Some(row) = years.iter().position(|y| !y.is_finite()) {
        return Err(format!("`year` is missing in row {}", row + 1));
    }
    if years.windows(2).any(|w| w[1] <= w[0]) {
        let mut sorted = years.clone();
        sorted.sort_by(f64::total_cmp);
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            let n = years.iter().filter(|y| **y == w[0]).count();
            return Err(format!(
                "{n} rows have year {} (a unit-year panel, not a system-year series): drawn as it is, its lines would zig-zag across units. Pass --aggregate for yearly means with their interquartile range across units, or build a system-year panel (concord data build --unit system-year)",
                w[0]
            ));
        }
        return Err("`year` is not in increasing order".into());
    }
    Ok(years)
}

/// The report's trends of a system-year panel: the columns present among
/// the usual ones (means with their interquartile band when the panel has
/// the quartiles; counts as bars), a dashed break line `mark` and `events`.
pub fn trends_figure(df: &DataFrame, mark: Option<(f64, String)>, events: Vec<Event>) -> Option<Trends> {
    let years = years(df).ok()?;
    let pick = |specs: &[(&str, &str, &str)]| -> Vec<TrendsPanel> {
        specs.iter().filter_map(|(c, t, y)| panel(df, c, t, y)).collect()
    };
    let left = pick(&[
        ("mean_igo_full", "Full IGO memberships (mean, IQR)", "IGOs per state"),
        ("mean_treaties_cum", "UN treaties ratified, cumulative (mean, IQR)", "treaties per state"),
        ("mean_unga_affinity", "UNGA vote affinity of dyads (mean, IQR)", "share of votes alike"),
        ("mean_unga_agree_majority", "Agreement with UNGA majority (mean, IQR)", "share of votes"),
        ("n_states", "States in the system", "states"),
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
    Some(Trends { years, left, right, mark, events, one_colour: false })
}

/// `concord plot trends`: the panels of `vars` (default: the report's) of a
/// system-year table, or of a unit-year table summarised by year when
/// `aggregate` (each variable's yearly mean with its interquartile range,
/// and a panel of the units per year). Panels fill the two columns in order.
///
/// ```
/// use concord::report::{labels::Labels, trends::trends_of};
/// use polars::prelude::*;
/// let sy = df!("year" => [2000i64, 2000, 2001, 2001], "igo_full" => [10.0, 30.0, 12.0, 40.0]).unwrap();
/// let err = trends_of(&sy, &["igo_full".into()], false, None, vec![], &Labels::default()).unwrap_err();
/// assert!(err.contains("--aggregate"));
/// let t = trends_of(&sy, &["igo_full".into()], true, None, vec![], &Labels::default()).unwrap();
/// assert_eq!(t.left[0].values, vec![Some(20.0), Some(26.0)]);
/// ```
pub fn trends_of(
    df: &DataFrame,
    vars: &[String],
    aggregate: bool,
    mark: Option<(f64, String)>,
    events: Vec<Event>,
    labels: &Labels,
) -> Result<Trends, String> {
    let names: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
    for v in vars {
        if !names.contains(v) {
            let near = crate::data::read::nearest_name(v, names.iter().map(String::as_str))
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!("no column `{v}`{near}"));
        }
        if v == "year" {
            return Err("`year` is the time axis, not a variable to draw".into());
        }
    }
    if !aggregate {
        years(df)?;
    }
    let summary;
    let (table, vars): (&DataFrame, Vec<String>) = if aggregate {
        if vars.is_empty() {
            return Err("--aggregate needs --vars (the unit-year columns to summarise by year)".into());
        }
        let cols: Vec<&str> = vars.iter().map(String::as_str).collect();
        summary = crate::data::panels::yearly_summary(df, &cols).map_err(|e| e.to_string())?;
        let mut drawn: Vec<String> = vars.iter().map(|v| format!("mean_{v}")).collect();
        drawn.push(format!("n_{}", vars[0]));
        (&summary, drawn)
    } else if vars.is_empty() {
        return trends_figure(df, mark, events).ok_or_else(|| {
            "none of the usual system-year columns (mean_igo_full, mid_onsets, ...): name the columns with --vars"
                .into()
        });
    } else {
        (df, vars.to_vec())
    };
    let years = years(table)?;
    let mut left = Vec::new();
    let mut right = Vec::new();
    for (i, v) in vars.iter().enumerate() {
        let l = labels.var(v);
        let title = match v.strip_prefix("n_") {
            Some(var) if aggregate => format!("Units per year with {}", labels.var(var).label.to_lowercase()),
            _ if aggregate => format!("{} (IQR across units)", l.label),
            _ => l.label,
        };
        let unit = if aggregate && v.starts_with("n_") { "units with a value".to_string() } else { l.unit };
        let p = panel(table, v, &title, &unit).ok_or_else(|| format!("column `{v}` is not numeric"))?;
        if p.values.iter().all(Option::is_none) {
            return Err(format!("column `{v}` has no values"));
        }
        if i % 2 == 0 {
            left.push(p)
        } else {
            right.push(p)
        }
    }
    Ok(Trends { years, left, right, mark, events, one_colour: true })
}
