//! State-year controls: GDP, population and GDP per capita (Fariss et al.
//! 2022 simulations via {isard}), latent territorial threat (Miller), extended
//! UDS democracy and V-Dem polyarchy (via {isard}), and land neighbours (COW
//! Direct Contiguity type 1, as the default panel's `land_contiguity`); and
//! the inputs of peacesciencer's manuscript models (Miller 2022): UDS
//! (`xm_qudsest`) and Anders, Fariss & Markowitz's (2020) ln GDP per capita.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{floats, frame, ints, Measure, Variable};
use crate::data::error::Result;
use crate::data::panels::Unit;
use crate::data::read::Kind;
use crate::data::sources::{files, Sources};

/// GDP and population, levels (isard cw_gdppop).
pub const GDPPOP: &str = "gdp_pop/isard_cw_gdppop.csv";
/// Latent territorial threat.
pub const TERRTHREAT: &str = "controls/terrthreat.csv";
/// Democracy scores 1816-2025 (isard cw_democracy).
pub const DEMOCRACY: &str = "democracy/isard_cw_democracy.csv";
/// peacesciencer's `ccode_democracy` (V-Dem, Polity, UDS), 1816-2017.
pub const QUDS: &str = "democracy/ccode_democracy.csv";
/// Anders, Fariss & Markowitz (2020) simulated GDP and SDP, logged.
pub const SDP: &str = "gdp_pop/cow_sdp_gdp.csv";

const SY: Unit = Unit::StateYear;

/// The controls measure.
pub const MEASURE: Measure = Measure {
    name: "controls",
    datasets: &["gdp_pop", "terrthreat", "isard_democracy", "cow_dyads", "ccode_democracy", "sdp_gdp"],
    files: &[GDPPOP, TERRTHREAT, DEMOCRACY, files::CONTDIR, QUDS, SDP],
    variables: &[
        Variable::new(
            "gdp",
            "GDP",
            SY,
            "million 2017 USD PPP",
            (1816, 2019),
            false,
            "Real GDP, expenditure side, PWT-anchored simulation mean (Fariss et al. 2022, isard `pwtrgdp`).",
        ),
        Variable::new(
            "pop",
            "Population",
            SY,
            "million persons",
            (1816, 2019),
            false,
            "Population, PWT-anchored simulation mean (isard `pwtpop`).",
        ),
        Variable::new(
            "gdppc",
            "GDP per capita",
            SY,
            "2011 USD PPP",
            (1816, 2019),
            false,
            "Real GDP per capita, Maddison-anchored simulation mean (isard `mrgdppc`).",
        ),
        Variable::new(
            "terrthreat",
            "Latent territorial threat",
            SY,
            "latent scale",
            (1816, 2010),
            false,
            "Latent territorial threat estimate of the state in the year (Miller, `lterrthreat`).",
        ),
        Variable::new(
            "euds",
            "Extended UDS democracy",
            SY,
            "latent scale",
            (1816, 2025),
            false,
            "Extended Unified Democracy Score (Marquez 2016; isard cw_democracy `euds`).",
        ),
        Variable::new(
            "aeuds",
            "Adjusted extended UDS",
            SY,
            "latent scale",
            (1816, 2025),
            false,
            "Extended UDS shifted so 0 is the average cut-point of the dichotomous democracy indicators (`aeuds`).",
        ),
        Variable::new(
            "polyarchy",
            "V-Dem polyarchy",
            SY,
            "0-1",
            (1816, 2025),
            false,
            "V-Dem electoral democracy index (`v2x_polyarchy`, via isard cw_democracy).",
        ),
        Variable::new(
            "land_neighbours",
            "Land neighbours",
            SY,
            "count",
            (1816, 2016),
            true,
            "States contiguous to the state by land or river border (COW Direct Contiguity 3.2 type 1) in the year.",
        ),
        Variable::new(
            "quds",
            "UDS democracy",
            SY,
            "latent scale",
            (1816, 2017),
            false,
            "Unified Democracy Score posterior mean (Pemstein, Meserve & Melton 2010; `xm_qudsest` of peacesciencer's ccode_democracy), the democracy input of Miller's (2022) manuscript models.",
        ),
        Variable::new(
            "sdp_gdppc",
            "GDP per capita (log, AFM)",
            SY,
            "ln(2011 USD + 1)",
            (1816, 2015),
            false,
            "ln(GDP per capita + 1), simulated (Anders, Fariss & Markowitz 2020; `wbgdppc2011est` of peacesciencer's cow_sdp_gdp), the GDP input of Miller's (2022) manuscript models.",
        ),
    ],
    frame,
    directed: None,
};

/// `(ccode, year) -> value` of numeric columns of a state-year file.
fn read_sy<const N: usize>(
    src: &Sources,
    file: &str,
    columns: [&str; N],
    out: &mut BTreeMap<(i64, i64), [Option<f64>; 10]>,
    offset: usize,
) -> Result<()> {
    let mut cols = vec![("ccode", Kind::Int), ("year", Kind::Int)];
    cols.extend(columns.iter().map(|c| (*c, Kind::Float)));
    let df = src.read(file, &cols)?;
    crate::data::sources::check_unique(&df, &["ccode", "year"], file)?;
    let (c, y) = (ints(&df, "ccode", file)?, ints(&df, "year", file)?);
    let v: Vec<Vec<Option<f64>>> = columns.iter().map(|n| floats(&df, n, file)).collect::<Result<_>>()?;
    for i in 0..df.height() {
        let (Some(c), Some(y)) = (c[i], y[i]) else { continue };
        let e = out.entry((c, y)).or_insert([None; 10]);
        for k in 0..N {
            e[offset + k] = v[k][i];
        }
    }
    Ok(())
}

fn frame(src: &Sources, _unit: Unit) -> Result<DataFrame> {
    let mut out: BTreeMap<(i64, i64), [Option<f64>; 10]> = BTreeMap::new();
    read_sy(src, GDPPOP, ["pwtrgdp", "pwtpop", "mrgdppc"], &mut out, 0)?;
    read_sy(src, TERRTHREAT, ["lterrthreat"], &mut out, 3)?;
    read_sy(src, DEMOCRACY, ["euds", "aeuds", "v2x_polyarchy"], &mut out, 4)?;
    read_sy(src, QUDS, ["xm_qudsest"], &mut out, 8)?;
    read_sy(src, SDP, ["wbgdppc2011est"], &mut out, 9)?;
    let land = src.contiguity()?;
    let (a, b, y, l) = (
        ints(&land, "ccode1", "contiguity")?,
        ints(&land, "ccode2", "contiguity")?,
        ints(&land, "year", "contiguity")?,
        ints(&land, "land_contiguity", "contiguity")?,
    );
    for i in 0..land.height() {
        let (Some(a), Some(b), Some(y), Some(1)) = (a[i], b[i], y[i], l[i]) else { continue };
        for c in [a, b] {
            let e = out.entry((c, y)).or_insert([None; 10]);
            e[7] = Some(e[7].unwrap_or(0.0) + 1.0);
        }
    }
    frame::state_year(
        ["gdp", "pop", "gdppc", "terrthreat", "euds", "aeuds", "polyarchy", "land_neighbours", "quds", "sdp_gdppc"],
        &out,
        GDPPOP,
    )
}
