//! UNGA roll calls beyond the default affinity and S score: chance-corrected
//! agreement (Hage 2011) and affinity on the roll calls of each issue flag.
//! The computation lives in [`crate::data::unga`].

use polars::prelude::*;

use super::{Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::sources::{files, Sources};
use crate::data::unga::{dyadic_agreement, read_issues, read_votes};

const DY: Unit = Unit::DyadYear;
const YEARS: (i64, i64) = (1946, 2015);

/// The UNGA measure.
pub const MEASURE: Measure = Measure {
    name: "unga",
    datasets: &["unga_votes"],
    files: &[files::UNGA],
    variables: &[
        Variable::new("unga_kappa", "UNGA vote kappa", DY, "-1..1", YEARS, false,
            "Cohen's kappa of the pair's votes (yes/abstain/no) on the roll calls of the year both cast a vote: (observed - chance agreement) / (1 - chance), chance from each state's own vote shares (Hage 2011). Missing when chance agreement is 1."),
        Variable::new("unga_kappa_abs", "UNGA vote kappa (distance)", DY, "-1..1", YEARS, false,
            "Hage's (2011) kappa with the S score's absolute distance (votes 1, 2, 3): 1 - mean |v1 - v2| / its expectation under independent votes with each state's shares."),
        Variable::new("unga_affinity_me", "UNGA affinity: Middle East", DY, "share", YEARS, false,
            "Share of identical votes on the year's roll calls flagged Middle East / Palestinian conflict (me); missing if the pair shared none."),
        Variable::new("unga_affinity_nu", "UNGA affinity: nuclear weapons", DY, "share", YEARS, false,
            "Share of identical votes on the year's roll calls flagged nuclear weapons (nu); missing if the pair shared none."),
        Variable::new("unga_affinity_di", "UNGA affinity: disarmament", DY, "share", YEARS, false,
            "Share of identical votes on the year's roll calls flagged arms control and disarmament (di); missing if the pair shared none."),
        Variable::new("unga_affinity_security", "UNGA affinity: security", DY, "share", YEARS, false,
            "Share of identical votes on the year's security roll calls, those flagged nuclear weapons (nu) or arms control and disarmament (di): consensus on threats; missing if the pair shared none."),
        Variable::new("unga_affinity_hr", "UNGA affinity: human rights", DY, "share", YEARS, false,
            "Share of identical votes on the year's roll calls flagged human rights (hr); missing if the pair shared none."),
        Variable::new("unga_affinity_co", "UNGA affinity: colonialism", DY, "share", YEARS, false,
            "Share of identical votes on the year's roll calls flagged colonialism (co); missing if the pair shared none."),
        Variable::new("unga_affinity_ec", "UNGA affinity: economic development", DY, "share", YEARS, false,
            "Share of identical votes on the year's roll calls flagged economic development (ec); missing if the pair shared none."),
    ],
    frame,
    directed: None,
};

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let votes = read_votes(src)?;
    let issues = read_issues(src)?;
    dyadic_agreement(&votes, &issues)
}
