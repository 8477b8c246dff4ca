//! Peace spells from a panel, in counting-process form for Cox models (like
//! peacesciencer's `add_spells`): one row per unit-spell-year, with the risk
//! interval `(start, stop]` measured in years since the spell began.
//!
//! The rules:
//! - A unit's first spell begins in its first observed year; every later spell
//!   begins in the calendar year after an onset (if the unit is next observed
//!   later, its first row there has `start` > 0, as `peace_years` counts).
//! - An onset year is the last year of its spell: that row has `event = 1`
//!   (the spell ends in failure during the year), and the next year starts a
//!   new spell at 0. Onsets in consecutive years are one-year spells each.
//! - Within a spell, `start = year - first year of the spell`, `stop = start + 1`.
//!   Years the unit is not observed (a gap) and years with a missing event
//!   (left out, and counted) keep the clock running: the spell goes on, the
//!   unit is simply not at risk in them.
//! - A spell still running in the unit's last observed year is right-censored
//!   (`event = 0` in every row).
//! - `left_censored = 1` marks a unit's first spell when it begins in the
//!   panel's first year: peace may have begun before the data, so its
//!   clock starts at 0 in that year (as `peace_years` does). Units that enter
//!   later (new states, new dyads) start their first spell uncensored.
//! - `duration` is the spell's length in years (its last row's `stop`), the
//!   same on every row of the spell; `spell` numbers spells 1, 2, ... over the
//!   whole panel in unit and year order.

use polars::prelude::*;

use super::{PanelError, PanelIndex};

/// The columns `spells` adds.
pub const SPELL_COLUMNS: [&str; 6] = ["spell", "start", "stop", "event", "duration", "left_censored"];

/// What `spells` did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpellReport {
    pub rows: usize,
    pub units: usize,
    pub spells: usize,
    pub events: usize,
    pub left_censored: usize,
    /// Rows left out because the event is missing.
    pub missing_event: usize,
}

/// The spell columns of a panel: per row (in input order) the spell number,
/// start, stop, event and duration, or `None` for rows with a missing event.
///
/// ```
/// use concord::panel::{PanelIndex, spells::spell_rows};
/// // One unit, 2000-2005, onsets in 2002 and 2003.
/// let idx = PanelIndex::new(vec![1; 6], (2000..2006).collect()).unwrap();
/// let ev = [Some(false), Some(false), Some(true), Some(true), Some(false), Some(false)];
/// let rows = spell_rows(&idx, &(2000..2006).collect::<Vec<i64>>(), &ev, 2000);
/// let starts: Vec<i64> = rows.iter().map(|r| r.unwrap().start).collect();
/// assert_eq!(starts, [0, 1, 2, 0, 0, 1]);
/// let spells: Vec<i64> = rows.iter().map(|r| r.unwrap().spell).collect();
/// assert_eq!(spells, [1, 1, 1, 2, 3, 3]);
/// ```
pub fn spell_rows(idx: &PanelIndex, time: &[i64], event: &[Option<bool>], first_year: i64) -> Vec<Option<SpellRow>> {
    let mut out: Vec<Option<SpellRow>> = vec![None; time.len()];
    let mut spell = 0i64;
    for rows in idx.units() {
        // The origin of the next spell: the unit's first observed year, then
        // the year after each onset (calendar years, like `peace_years`).
        let mut origin: Option<i64> = None;
        let mut open = false;
        let mut first_spell = true;
        let mut members: Vec<usize> = Vec::new();
        let close = |members: &mut Vec<usize>, out: &mut Vec<Option<SpellRow>>| {
            if let Some(&last) = members.last() {
                let duration = out[last].map_or(0, |r| r.stop);
                for &r in members.iter() {
                    if let Some(row) = out[r].as_mut() {
                        row.duration = duration;
                    }
                }
            }
            members.clear();
        };
        for &r in rows {
            let Some(ev) = event[r] else { continue };
            if !open {
                spell += 1;
                open = true;
            }
            let t0 = *origin.get_or_insert(time[r]);
            let start = time[r] - t0;
            let left_censored = first_spell && t0 == first_year;
            out[r] = Some(SpellRow { spell, start, stop: start + 1, event: ev, duration: 0, left_censored });
            members.push(r);
            if ev {
                close(&mut members, &mut out);
                open = false;
                origin = Some(time[r] + 1);
                first_spell = false;
            }
        }
        close(&mut members, &mut out);
    }
    out
}

/// One row's spell values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpellRow {
    pub spell: i64,
    pub start: i64,
    pub stop: i64,
    pub event: bool,
    pub duration: i64,
    pub left_censored: bool,
}

/// The panel with spell columns added (see the module doc for the rules),
/// sorted by unit and year; rows with a missing event are left out.
///
/// ```
/// use polars::prelude::*;
/// use concord::panel::spells::spells;
/// let df = df!("ccode" => [2i64, 2, 2, 20, 20], "year" => [1990i64, 1991, 1992, 1991, 1992],
///              "mid_onset" => [0i64, 1, 0, 0, 0]).unwrap();
/// let (out, report) = spells(&df, &["ccode"], "year", "mid_onset").unwrap();
/// assert_eq!((report.spells, report.events, report.left_censored), (3, 1, 1));
/// let stop: Vec<i64> = out.column("stop").unwrap().i64().unwrap().into_no_null_iter().collect();
/// assert_eq!(stop, [1, 2, 1, 1, 2]);
/// ```
pub fn spells(df: &DataFrame, units: &[&str], time: &str, event: &str) -> Result<(DataFrame, SpellReport), PanelError> {
    for c in SPELL_COLUMNS {
        if df.column(c).is_ok() {
            return Err(PanelError::Spells(format!(
                "the panel already has a column `{c}`, which spells would add: rename it first"
            )));
        }
    }
    let idx = PanelIndex::from_frame(df, units, time)?;
    let times = super::int_column(df, time)?;
    let ev = event_column(df, event)?;
    let first_year = times.iter().copied().min().unwrap_or(0);
    let rows = spell_rows(&idx, &times, &ev, first_year);
    let order: Vec<IdxSize> = idx.units().flatten().filter(|&&r| rows[r].is_some()).map(|&r| r as IdxSize).collect();
    let picked: Vec<SpellRow> = order.iter().filter_map(|&r| rows[r as usize]).collect();
    let polars = |e: PolarsError| PanelError::Spells(e.to_string());
    let mut out = df.take(&IdxCa::from_vec("idx".into(), order)).map_err(polars)?;
    let col =
        |name: &str, f: &dyn Fn(&SpellRow) -> i64| Column::new(name.into(), picked.iter().map(f).collect::<Vec<i64>>());
    for c in [
        col("spell", &|r| r.spell),
        col("start", &|r| r.start),
        col("stop", &|r| r.stop),
        col("event", &|r| i64::from(r.event)),
        col("duration", &|r| r.duration),
        col("left_censored", &|r| i64::from(r.left_censored)),
    ] {
        out.with_column(c).map_err(polars)?;
    }
    let mut spell_ids: Vec<i64> = picked.iter().map(|r| r.spell).collect();
    spell_ids.dedup();
    let mut lc: Vec<i64> = picked.iter().filter(|r| r.left_censored).map(|r| r.spell).collect();
    lc.dedup();
    let report = SpellReport {
        rows: picked.len(),
        units: idx.n_units(),
        spells: spell_ids.len(),
        events: picked.iter().filter(|r| r.event).count(),
        left_censored: lc.len(),
        missing_event: ev.iter().filter(|e| e.is_none()).count(),
    };
    Ok((out, report))
}

/// The event column as booleans (null = missing); values other than 0 and 1
/// are an error naming the row.
fn event_column(df: &DataFrame, name: &str) -> Result<Vec<Option<bool>>, PanelError> {
    let c = df.column(name).map_err(|_| PanelError::NoColumn { column: name.into() })?;
    if !(c.dtype().is_primitive_numeric() || *c.dtype() == DataType::Boolean) {
        return Err(PanelError::Spells(format!("the event column `{name}` is {}, not 0/1", c.dtype())));
    }
    let f = c.cast(&DataType::Float64).map_err(|e| PanelError::Spells(e.to_string()))?;
    let ca = f.f64().map_err(|e| PanelError::Spells(e.to_string()))?;
    ca.iter()
        .enumerate()
        .map(|(row, v)| match v {
            None => Ok(None),
            Some(0.0) => Ok(Some(false)),
            Some(1.0) => Ok(Some(true)),
            Some(x) => Err(PanelError::Spells(format!("the event `{name}` must be 0 or 1; row {} has {x}", row + 1))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_missing_events_and_left_censoring() {
        // Unit 1: 1990-1992 observed, gap, 1995-1996; onset in 1991.
        // Unit 2 enters in 1992 (not left-censored), missing event in 1993, onset 1994.
        let df = df!(
            "ccode" => [1i64, 1, 1, 1, 1, 2, 2, 2, 2],
            "year" => [1996i64, 1990, 1991, 1992, 1995, 1992, 1993, 1994, 1995],
            "onset" => [Some(0i64), Some(0), Some(1), Some(0), Some(0), Some(0), None, Some(1), Some(0)],
            "x" => [6.0, 1.0, 2.0, 3.0, 5.0, 7.0, 8.0, 9.0, 10.0]
        )
        .unwrap();
        let (out, rep) = spells(&df, &["ccode"], "year", "onset").unwrap();
        let get = |c: &str| -> Vec<i64> { out.column(c).unwrap().i64().unwrap().into_no_null_iter().collect() };
        assert_eq!(get("year"), [1990, 1991, 1992, 1995, 1996, 1992, 1994, 1995]);
        assert_eq!(get("spell"), [1, 1, 2, 2, 2, 3, 3, 4]);
        assert_eq!(get("start"), [0, 1, 0, 3, 4, 0, 2, 0]);
        assert_eq!(get("stop"), [1, 2, 1, 4, 5, 1, 3, 1]);
        assert_eq!(get("event"), [0, 1, 0, 0, 0, 0, 1, 0]);
        assert_eq!(get("duration"), [2, 2, 5, 5, 5, 3, 3, 1]);
        assert_eq!(get("left_censored"), [1, 1, 0, 0, 0, 0, 0, 0]);
        let x: Vec<f64> = out.column("x").unwrap().f64().unwrap().into_no_null_iter().collect();
        assert_eq!(x, [1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 9.0, 10.0], "covariates travel with their rows");
        assert_eq!(rep, SpellReport { rows: 8, units: 2, spells: 4, events: 2, left_censored: 1, missing_event: 1 });
    }

    #[test]
    fn dyads_and_bad_events() {
        let df = df!(
            "ccode1" => [2i64, 2, 2, 2], "ccode2" => [20i64, 20, 200, 200],
            "year" => [2000i64, 2001, 2000, 2001], "mid" => [1.0, 1.0, 0.0, 2.0]
        )
        .unwrap();
        let e = spells(&df, &["ccode1", "ccode2"], "year", "mid").unwrap_err().to_string();
        assert_eq!(e, "spells: the event `mid` must be 0 or 1; row 4 has 2");
        let df = df!(
            "ccode1" => [2i64, 2, 2, 2], "ccode2" => [20i64, 20, 200, 200],
            "year" => [2000i64, 2001, 2000, 2001], "mid" => [1.0, 1.0, 0.0, 0.0]
        )
        .unwrap();
        let (out, rep) = spells(&df, &["ccode1", "ccode2"], "year", "mid").unwrap();
        // Two one-year spells ending in onsets, then one censored two-year spell.
        assert_eq!((rep.spells, rep.events, rep.left_censored), (3, 2, 2));
        let d: Vec<i64> = out.column("duration").unwrap().i64().unwrap().into_no_null_iter().collect();
        assert_eq!(d, [1, 1, 2, 2]);
        let e = spells(&df, &["ccode1", "ccode2"], "year", "nope").unwrap_err().to_string();
        assert_eq!(e, "panel keys: column `nope` does not exist");
        let df2 = df.clone().lazy().with_column(lit(1i64).alias("stop")).collect().unwrap();
        let e = spells(&df2, &["ccode1", "ccode2"], "year", "mid").unwrap_err().to_string();
        assert!(e.contains("already has a column `stop`"), "{e}");
    }
}
