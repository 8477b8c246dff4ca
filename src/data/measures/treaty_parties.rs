//! Agreements in force for each state-year from the manytreaties memberships:
//! IEADB environmental agreements (Mitchell et al. 2020) and GGO agreements by
//! domain (Hollway et al. 2025), the institutions pillar beyond the treaties
//! deposited with the UN Secretary-General.
//!
//! Dates are messy (ranges, `?`): a date's year is its leading four digits;
//! 2899 and 9999 are the sources' sentinels ("not in force", "still in
//! force") and count as no year. A membership counts for a state from the
//! year it is bound and the agreement is in force until the year it ends:
//! - IEADB: from the ratification year (the agreement's entry into force when
//!   no ratification is recorded; never before it), to `End`;
//! - GGO: from the state's own entry into force, else the later of its
//!   ratification and the agreement's entry into force (a signature alone
//!   does not count), to the state's end, else the agreement's termination.
//!
//! A state counts an agreement once a year however many rows list it. GGO
//! agreements absent from the agreement file count in `ggo_in_force` only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use super::{frame, ints, strings, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::Sources;

/// IEADB memberships.
pub const IEADB: &str = "treaty_parties/ieadb_parties.csv";
/// GGO memberships.
pub const GGO: &str = "treaty_parties/ggo_parties.csv";
/// GGO agreements (their domains).
pub const GGO_AGREEMENTS: &str = "treaty_parties/ggo_agreements.csv";

const SY: Unit = Unit::StateYear;
const YEARS: (i64, i64) = (1816, 2020);
/// GGO domains counted apart: (variable, `TypeDomain` value).
const DOMAINS: [(&str, &str); 6] = [
    ("ggo_environment", "Environment"),
    ("ggo_trade", "Trade"),
    ("ggo_health", "Health"),
    ("ggo_human_rights", "Human Rights"),
    ("ggo_security", "Security"),
    ("ggo_labour", "Labour"),
];

/// The treaty-parties measure.
pub const MEASURE: Measure = Measure {
    name: "treaty_parties",
    datasets: &["treaty_parties"],
    files: &[IEADB, GGO, GGO_AGREEMENTS],
    variables: &[
        Variable::new("ieadb_in_force", "Environmental agreements in force (IEADB)", SY, "count", YEARS, true,
            "IEADB agreements binding the state in the year: from its ratification year (the agreement's entry into force if later, or if no ratification is recorded) to End."),
        Variable::new("ggo_in_force", "Agreements in force (GGO)", SY, "count", YEARS, true,
            "GGO agreements binding the state in the year, every domain: from the state's entry into force (else the later of its ratification and the agreement's entry into force; signatures alone do not count) to the state's end, else the agreement's termination."),
        Variable::new("ggo_environment", "Environmental agreements in force (GGO)", SY, "count", YEARS, true,
            "ggo_in_force counting agreements whose GGO TypeDomain includes Environment."),
        Variable::new("ggo_trade", "Trade agreements in force (GGO)", SY, "count", YEARS, true,
            "ggo_in_force counting agreements whose GGO TypeDomain includes Trade."),
        Variable::new("ggo_health", "Health agreements in force (GGO)", SY, "count", YEARS, true,
            "ggo_in_force counting agreements whose GGO TypeDomain includes Health."),
        Variable::new("ggo_human_rights", "Human-rights agreements in force (GGO)", SY, "count", YEARS, true,
            "ggo_in_force counting agreements whose GGO TypeDomain includes Human Rights."),
        Variable::new("ggo_security", "Security agreements in force (GGO)", SY, "count", YEARS, true,
            "ggo_in_force counting agreements whose GGO TypeDomain includes Security (7 agreements in GGO 1.0: at most 1 per state-year)."),
        Variable::new("ggo_labour", "Labour agreements in force (GGO)", SY, "count", YEARS, true,
            "ggo_in_force counting agreements whose GGO TypeDomain includes Labour."),
    ],
    frame,
    directed: None,
};

/// The year of a messy date: its leading four digits, none for the sentinels.
///
/// ```
/// use concord::data::measures::treaty_parties::year_of;
/// assert_eq!(year_of("1999-01-01..2000-02-02"), Some(1999));
/// assert_eq!(year_of("1987-?"), Some(1987));
/// assert_eq!(year_of("9999-12-31"), None);
/// assert_eq!(year_of("?"), None);
/// ```
pub fn year_of(date: &str) -> Option<i64> {
    let head = date.get(..4).filter(|h| h.bytes().all(|b| b.is_ascii_digit()))?;
    let y: i64 = head.parse().ok()?;
    (y != 2899 && y != 9999).then_some(y)
}

/// Column `name` of `df` as years ([`year_of`]).
fn years(df: &DataFrame, name: &str, source: &str) -> Result<Vec<Option<i64>>> {
    Ok(strings(df, name, source)?.iter().map(|s| s.as_deref().and_then(year_of)).collect())
}

/// `(ccode, treatyID) -> years the state is bound`, from spells `[start, end]`
/// clipped to the measure's years.
type Bound = HashMap<(i64, String), BTreeSet<i64>>;

fn add_spell(bound: &mut Bound, ccode: i64, treaty: &str, start: i64, end: Option<i64>) {
    let (from, to) = (start.max(YEARS.0), end.unwrap_or(YEARS.1).min(YEARS.1));
    if from <= to {
        bound.entry((ccode, treaty.to_string())).or_default().extend(from..=to);
    }
}

fn ieadb(src: &Sources) -> Result<Bound> {
    let cols =
        [("ccode", Kind::Int), ("treatyID", Kind::Str), ("Rat", Kind::Str), ("Force", Kind::Str), ("End", Kind::Str)];
    let df = src.read(IEADB, &cols)?;
    let (cc, id) = (ints(&df, "ccode", IEADB)?, strings(&df, "treatyID", IEADB)?);
    let (rat, force, end) = (years(&df, "Rat", IEADB)?, years(&df, "Force", IEADB)?, years(&df, "End", IEADB)?);
    let mut out = Bound::new();
    for i in 0..df.height() {
        let (Some(c), Some(t)) = (cc[i], id[i].as_deref()) else { continue };
        let start = match (rat[i], force[i]) {
            (Some(r), Some(f)) => r.max(f),
            (r, f) => match r.or(f) {
                Some(s) => s,
                None => continue,
            },
        };
        add_spell(&mut out, c, t, start, end[i]);
    }
    Ok(out)
}

fn ggo(src: &Sources) -> Result<Bound> {
    let cols = [
        ("ccode", Kind::Int),
        ("treatyID", Kind::Str),
        ("Force", Kind::Str),
        ("StateRatification", Kind::Str),
        ("StateForce", Kind::Str),
        ("StateEnd", Kind::Str),
        ("Term", Kind::Str),
    ];
    let df = src.read(GGO, &cols)?;
    let (cc, id) = (ints(&df, "ccode", GGO)?, strings(&df, "treatyID", GGO)?);
    let [force, rat, state_force, state_end, term] =
        ["Force", "StateRatification", "StateForce", "StateEnd", "Term"].map(|n| years(&df, n, GGO));
    let (force, rat, state_force, state_end, term) = (force?, rat?, state_force?, state_end?, term?);
    let mut out = Bound::new();
    for i in 0..df.height() {
        let (Some(c), Some(t)) = (cc[i], id[i].as_deref()) else { continue };
        let start = match (state_force[i], rat[i], force[i]) {
            (Some(s), _, _) => s,
            (None, Some(r), Some(f)) => r.max(f),
            _ => continue,
        };
        add_spell(&mut out, c, t, start, state_end[i].or(term[i]));
    }
    Ok(out)
}

/// `treatyID -> bit k set for domain DOMAINS[k]` (the union over repeated rows).
fn domains(src: &Sources) -> Result<HashMap<String, u8>> {
    let df = src.read(GGO_AGREEMENTS, &[("treatyID", Kind::Str), ("TypeDomain", Kind::Str)])?;
    let (id, dom) = (strings(&df, "treatyID", GGO_AGREEMENTS)?, strings(&df, "TypeDomain", GGO_AGREEMENTS)?);
    let mut out: HashMap<String, u8> = HashMap::new();
    for (t, d) in id.iter().zip(&dom) {
        let Some(t) = t else { continue };
        let mut bits = 0u8;
        for part in d.as_deref().unwrap_or_default().split(',') {
            if let Some(k) = DOMAINS.iter().position(|(_, name)| *name == part.trim()) {
                bits |= 1 << k;
            }
        }
        *out.entry(t.clone()).or_default() |= bits;
    }
    Ok(out)
}

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let (ie, gg, dom) = (ieadb(src)?, ggo(src)?, domains(src)?);
    let mut map: BTreeMap<(i64, i64), [Option<f64>; 8]> = BTreeMap::new();
    let mut bump = |c: i64, y: i64, k: usize| {
        let e = map.entry((c, y)).or_insert([Some(0.0); 8]);
        e[k] = e[k].map(|v| v + 1.0);
    };
    for ((c, _), ys) in &ie {
        ys.iter().for_each(|y| bump(*c, *y, 0));
    }
    for ((c, t), ys) in &gg {
        let bits = dom.get(t).copied().unwrap_or(0);
        for y in ys {
            bump(*c, *y, 1);
            (0..DOMAINS.len()).filter(|k| bits & (1 << k) != 0).for_each(|k| bump(*c, *y, 2 + k));
        }
    }
    let mut names = ["ieadb_in_force", "ggo_in_force", "", "", "", "", "", ""];
    for (k, (n, _)) in DOMAINS.iter().enumerate() {
        names[2 + k] = n;
    }
    frame::state_year(names, &map, GGO)
}
