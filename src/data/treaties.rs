//! UN multilateral treaties: participant names mapped to COW codes, and the
//! state-year cumulative counts of treaties a state has consented to be bound by.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fancy_regex::Regex;
use polars::prelude::*;
use serde::Deserialize;

use super::error::{DataError, Result};
use super::read::Kind;
use super::sources::{files, Sources};

const PARTICIPANTS_TOML: &str = include_str!("../../data/un_participants.toml");

/// How a participant the regexes do not map is treated.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    State,
    Igo,
    Territory,
    NonMember,
}

/// A listed exception from `data/un_participants.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub name: String,
    pub kind: ParticipantKind,
    #[serde(default)]
    pub ccode: Option<i64>,
    pub note: String,
}

/// A COW code whose treaty record is another code's (in the years `from..=to`,
/// every year when they are not given).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub ccode: i64,
    pub reads: i64,
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
    pub note: String,
}

/// State-years of a COW code that have no UN treaty record: counts are missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoRecord {
    pub ccode: i64,
    pub from: i64,
    pub to: i64,
    pub note: String,
}

/// The exceptions table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exceptions {
    pub participant: Vec<Participant>,
    #[serde(default)]
    pub alias: Vec<Alias>,
    #[serde(default)]
    pub no_record: Vec<NoRecord>,
}

impl Exceptions {
    /// The code whose record `ccode` reads in `year`, or `None` when the state-year
    /// has no record.
    pub fn record_of(&self, ccode: i64, year: i64) -> Option<i64> {
        if self.no_record.iter().any(|n| n.ccode == ccode && (n.from..=n.to).contains(&year)) {
            return None;
        }
        let alias = self
            .alias
            .iter()
            .find(|a| a.ccode == ccode && a.from.is_none_or(|f| year >= f) && a.to.is_none_or(|t| year <= t));
        Some(alias.map_or(ccode, |a| a.reads))
    }
}

/// Consent types (UNTC `consent_type`) that count as consent to be bound:
/// ratification `r`, accession `a`, succession `d`, acceptance `A`, approval
/// `AA`, definitive signature `s`, consent to be bound `P`, formal confirmation
/// `c` and confirmation of a signature ad referendum `C`. A blank type with a
/// date is a ratification (the scrape's convention). Provisional application `n`
/// is not consent to be bound and does not count, except in the treaties of
/// [`N_IS_RATIFICATION`].
pub const CONSENT_TYPES: [&str; 9] = ["r", "a", "d", "A", "AA", "s", "P", "c", "C"];

/// Provisional application (`n`), which does not count as consent.
pub const PROVISIONAL: &str = "n";

/// Treaties whose scraped `n` dates are the ratification dates, mislabelled
/// because the scraper read the header of the last column: the Convention on
/// Cluster Munitions (26-6; Norway 2008-12-03, Lithuania 2011-03-24,
/// Switzerland 2012-07-17) and the Arms Trade Treaty (26-8; Iceland 2013-07-02,
/// Mexico 2013-09-25, Germany 2014-04-02), as the UN's own pages show.
pub const N_IS_RATIFICATION: [&str; 2] = ["26-6", "26-8"];

/// Whether a dated row of `consent_type` (on treaty `treaty`) counts as consent
/// to be bound; `None` for a type the rule does not know.
///
/// ```
/// use concord::data::treaties::counts_as_consent;
/// assert_eq!(counts_as_consent("r", "4-4"), Some(true));
/// assert_eq!(counts_as_consent("n", "19-37"), Some(false));
/// assert_eq!(counts_as_consent("n", "26-8"), Some(true));
/// assert_eq!(counts_as_consent("x", "4-4"), None);
/// ```
pub fn counts_as_consent(consent_type: &str, treaty: &str) -> Option<bool> {
    if consent_type.is_empty() || CONSENT_TYPES.contains(&consent_type) {
        Some(true)
    } else if consent_type == PROVISIONAL {
        Some(N_IS_RATIFICATION.contains(&treaty))
    } else {
        None
    }
}

impl Exceptions {
    /// The table compiled into concord (`data/un_participants.toml`).
    pub fn builtin() -> Result<Exceptions> {
        toml::from_str(PARTICIPANTS_TOML).map_err(|e| DataError::Registry(format!("data/un_participants.toml: {e}")))
    }
}

/// The outcome of mapping UN participant names to COW codes.
#[derive(Debug, Clone, Default)]
pub struct NameMap {
    /// Participant name -> COW code.
    pub ccode: BTreeMap<String, i64>,
    /// Names listed as IGOs, territories or non-members (not counted).
    pub not_states: BTreeSet<String>,
    /// Names neither matched nor listed, with the reason.
    pub unmatched: BTreeMap<String, String>,
}

/// Map participant names with the countrycode regexes (case-insensitive), then the
/// exceptions table. A name must match exactly one COW code.
pub fn map_names(src: &Sources, names: &BTreeSet<String>, exc: &Exceptions) -> Result<NameMap> {
    let codes = src.read(files::CODELIST, &[("country.name.en.regex", Kind::Str), ("cown", Kind::Int)])?;
    let rx = codes
        .column("country.name.en.regex")
        .and_then(|c| c.str().cloned())
        .map_err(DataError::polars(files::CODELIST))?;
    let cown = super::sources::ints(&codes, "cown", files::CODELIST)?;
    let mut patterns = Vec::new();
    for (i, (r, c)) in rx.iter().zip(cown).enumerate() {
        let (Some(r), Some(c)) = (r, c) else { continue };
        let re = Regex::new(&format!("(?i){r}")).map_err(|e| DataError::BadValue {
            path: src.path(files::CODELIST),
            column: "country.name.en.regex".into(),
            row: i + 1,
            value: format!("{r} ({e})"),
            expected: "a valid regular expression",
        })?;
        patterns.push((re, c));
    }
    let listed: HashMap<&str, &Participant> = exc.participant.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut out = NameMap::default();
    for name in names {
        if let Some(p) = listed.get(name.as_str()) {
            match (&p.kind, p.ccode) {
                (ParticipantKind::State, Some(c)) => {
                    out.ccode.insert(name.clone(), c);
                }
                (ParticipantKind::State, None) => {
                    return Err(DataError::Registry(format!(
                        "data/un_participants.toml: participant `{name}` is a state but has no ccode"
                    )))
                }
                _ => {
                    out.not_states.insert(name.clone());
                }
            }
            continue;
        }
        let hits: BTreeSet<i64> =
            patterns.iter().filter(|(re, _)| re.is_match(name).unwrap_or(false)).map(|(_, c)| *c).collect();
        match hits.len() {
            1 => {
                out.ccode.insert(name.clone(), *hits.iter().next().unwrap_or(&0));
            }
            0 => {
                out.unmatched.insert(name.clone(), "no countrycode regex matches".into());
            }
            _ => {
                out.unmatched.insert(name.clone(), format!("matches several COW codes {hits:?}"));
            }
        }
    }
    Ok(out)
}

/// Cumulative treaty consents per state-year, for the rows `(ccode, year)` given.
///
/// A treaty counts from the year of the participant's consent to be bound (the
/// types of [`CONSENT_TYPES`]; signatures subject to ratification and provisional
/// applications do not count, see [`counts_as_consent`]). Withdrawals are not in
/// the source and are not subtracted. State-years listed as `no_record` in
/// `data/un_participants.toml` (entities the UN record does not cover, such as
/// Yugoslavia before 2000 or the GDR) are missing in every column but
/// `icj_declared_by_2015`; aliases read another code's record.
/// Columns: `treaties_cum` (all), `treaties_hr_cum` (chapter 4, human rights),
/// `treaties_disarm_cum` (chapter 26, disarmament), `icj_optional_clause`
/// (treaty 1-4, ICJ compulsory jurisdiction declaration) and `icc_member`
/// (18-10, Rome Statute).
///
/// The UNTC scrape lists the states with an ICJ optional-clause declaration
/// (treaty 1-4) but gives no dates, so `icj_optional_clause` cannot be coded by
/// year: it is left missing, and `icj_declared_by_2015` (time-invariant: listed in
/// the 2015 record) is given instead. Dated consents to 1-4, should a later
/// scrape have them, are used for `icj_optional_clause`.
pub fn treaty_counts(src: &mut Sources, ccode: &[i64], year: &[i64]) -> Result<(DataFrame, NameMap)> {
    let p = src.read(
        files::TREATIES,
        &[
            ("treaty_id", Kind::Str),
            ("chapter", Kind::Int),
            ("participant", Kind::Str),
            ("consent_date", Kind::Str),
            ("consent_type", Kind::Str),
        ],
    )?;
    let path = src.path(files::TREATIES);
    let tid = p.column("treaty_id").and_then(|c| c.str().cloned()).map_err(DataError::polars(files::TREATIES))?;
    let part = p.column("participant").and_then(|c| c.str().cloned()).map_err(DataError::polars(files::TREATIES))?;
    let date = p.column("consent_date").and_then(|c| c.str().cloned()).map_err(DataError::polars(files::TREATIES))?;
    let ctype = p.column("consent_type").and_then(|c| c.str().cloned()).map_err(DataError::polars(files::TREATIES))?;
    let chap = super::sources::ints(&p, "chapter", files::TREATIES)?;

    let names: BTreeSet<String> = part.iter().flatten().map(str::to_string).collect();
    let exc = Exceptions::builtin()?;
    let map = map_names(src, &names, &exc)?;
    if !map.unmatched.is_empty() {
        src.notes.push(format!(
            "{}: {} participant name(s) not mapped to a COW state: {}",
            files::TREATIES,
            map.unmatched.len(),
            map.unmatched.iter().map(|(n, why)| format!("{n} ({why})")).collect::<Vec<_>>().join("; ")
        ));
    }

    // Earliest consent year per (state record, treaty).
    let mut first: HashMap<(i64, String), (i64, Option<i64>)> = HashMap::new();
    let mut icj_listed = BTreeSet::new();
    for (i, &chapter) in chap.iter().enumerate() {
        let (Some(name), Some(t)) = (part.get(i), tid.get(i)) else { continue };
        let Some(&c) = map.ccode.get(name) else { continue };
        if t == "1-4" {
            icj_listed.insert(c);
        }
        let Some(d) = date.get(i).filter(|d| !d.is_empty()) else { continue };
        let ty = ctype.get(i).unwrap_or("");
        match counts_as_consent(ty, t) {
            Some(true) => {}
            Some(false) => continue,
            None => {
                return Err(DataError::BadValue {
                    path: path.clone(),
                    column: "consent_type".into(),
                    row: i + 1,
                    value: ty.into(),
                    expected: "a UNTC consent type (r, a, d, A, AA, s, P, c, C or n)",
                })
            }
        }
        let y: i64 = d.get(..4).and_then(|y| y.parse().ok()).ok_or_else(|| DataError::BadValue {
            path: path.clone(),
            column: "consent_date".into(),
            row: i + 1,
            value: d.into(),
            expected: "a date YYYY-MM-DD",
        })?;
        let e = first.entry((c, t.to_string())).or_insert((y, chapter));
        e.0 = e.0.min(y);
    }
    #[derive(Default)]
    struct Record {
        all: Vec<i64>,
        hr: Vec<i64>,
        disarm: Vec<i64>,
        icj: Option<i64>,
        icj_listed: bool,
        icc: Option<i64>,
    }
    let mut rec: HashMap<i64, Record> = HashMap::new();
    for ((c, t), (y, ch)) in first {
        let r = rec.entry(c).or_default();
        r.all.push(y);
        match ch {
            Some(4) => r.hr.push(y),
            Some(26) => r.disarm.push(y),
            _ => {}
        }
        if t == "1-4" {
            r.icj = Some(y);
        }
        if t == "18-10" {
            r.icc = Some(y);
        }
    }
    for &c in &icj_listed {
        rec.entry(c).or_default().icj_listed = true;
    }
    let any_icj_dates = rec.values().any(|r| r.icj.is_some());
    if !any_icj_dates {
        src.notes.push(format!(
            "{}: treaty 1-4 (ICJ optional clause) has no consent dates; icj_optional_clause is missing and \
             icj_declared_by_2015 marks the {} listed states",
            files::TREATIES,
            icj_listed.len()
        ));
    }
    for r in rec.values_mut() {
        r.all.sort_unstable();
        r.hr.sort_unstable();
        r.disarm.sort_unstable();
    }
    let empty = Record::default();
    let n = ccode.len();
    let (mut all, mut hr, mut dis, mut icj, mut icc, mut listed) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (&c, &y) in ccode.iter().zip(year) {
        let reads = exc.record_of(c, y);
        listed.push(rec.get(&reads.unwrap_or(c)).unwrap_or(&empty).icj_listed as i64);
        let Some(reads) = reads else {
            all.push(None);
            hr.push(None);
            dis.push(None);
            icj.push(None);
            icc.push(None);
            continue;
        };
        let r = rec.get(&reads).unwrap_or(&empty);
        let upto = |v: &Vec<i64>| Some(v.partition_point(|&t| t <= y) as i64);
        all.push(upto(&r.all));
        hr.push(upto(&r.hr));
        dis.push(upto(&r.disarm));
        icj.push(any_icj_dates.then(|| r.icj.is_some_and(|t| t <= y) as i64));
        icc.push(Some(r.icc.is_some_and(|t| t <= y) as i64));
    }
    let df = df!(
        "ccode" => ccode,
        "year" => year,
        "treaties_cum" => all,
        "treaties_hr_cum" => hr,
        "treaties_disarm_cum" => dis,
        "icj_optional_clause" => icj,
        "icc_member" => icc,
        "icj_declared_by_2015" => listed,
    )
    .map_err(DataError::polars("treaty counts"))?;
    Ok((df, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_table_parses_and_states_have_codes() {
        let e = Exceptions::builtin().unwrap();
        assert!(e.participant.iter().any(|p| p.name == "Serbia" && p.ccode == Some(345)));
        for p in &e.participant {
            assert_eq!(p.kind == ParticipantKind::State, p.ccode.is_some(), "{}", p.name);
        }
        assert!(e.alias.iter().any(|a| a.ccode == 260 && a.reads == 255));
    }

    #[test]
    fn records_by_state_year() {
        let e = Exceptions::builtin().unwrap();
        assert_eq!(e.record_of(2, 1990), Some(2));
        assert_eq!(e.record_of(260, 1985), Some(255));
        // Yugoslavia has no record before 2000; Czechoslovakia and the GDR none.
        assert_eq!(e.record_of(345, 1999), None);
        assert_eq!(e.record_of(345, 2000), Some(345));
        assert_eq!(e.record_of(315, 1980), None);
        assert_eq!(e.record_of(265, 1980), None);
        // The China record: the PRC's from 1971, the ROC's (Taiwan) before.
        assert_eq!(e.record_of(710, 1948), Some(710));
        assert_eq!(e.record_of(710, 1960), None);
        assert_eq!(e.record_of(713, 1960), Some(710));
        assert_eq!(e.record_of(710, 1971), Some(710));
        assert_eq!(e.record_of(713, 1971), None);
    }

    #[test]
    fn provisional_application_is_not_consent() {
        for t in CONSENT_TYPES {
            assert_eq!(counts_as_consent(t, "19-37"), Some(true), "{t}");
        }
        assert_eq!(counts_as_consent("", "1-1"), Some(true));
        assert_eq!(counts_as_consent("n", "19-37"), Some(false));
        assert_eq!(counts_as_consent("n", "26-6"), Some(true));
        assert_eq!(counts_as_consent("R", "1-1"), None);
    }
}
