//! Estimators on the real non-directed dyad-year panel 1946-2014 (built once
//! from the CSV sources in CONCORD_DATA, default ../shared/data), fit alone
//! (the data already in memory), as the peers are timed in benches/peers/.
//! Also: Cox on the directed dyads' peace spells, HDFE demeaning alone, pooled OLS,
//! and a cluster bootstrap of a logit
//! (B = 200) on the state-year panel.
//! Run: `cargo bench --bench estimators`.

use std::path::PathBuf;

use concord::data::{build, Unit};
use concord::estimate::{demean::demean, design_for, fit, Family, FitOptions};
use concord::formula::design::PanelSpec;
use concord::formula::Formula;
use concord::inference::hypothesis::Direction;
use concord::study::mediation::{bootstrap_product, Path};
// The allocator the concord binary uses, with its setting (src/main.rs,
// `concord::alloc::keep_freed_memory`, called first in each benchmark group), so
// timings match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};

fn data_dir() -> PathBuf {
    std::env::var_os("CONCORD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// The models of benches/peers/peers.py, by the same names.
pub const MODELS: [(&str, &str, Family); 5] = [
    ("feols_twoway_fe", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", Family::Gaussian),
    ("logit_pooled", "mid_onset ~ dyadigos + land_contiguity + peace_years + unga_affinity + dem_low", Family::Logit),
    ("fepois_twoway_fe", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", Family::Poisson),
    (
        "felogit_year_fe",
        "mid_onset ~ dyadigos + land_contiguity + peace_years + unga_affinity + dem_low | year",
        Family::Logit,
    ),
    ("felogit_twoway_fe", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", Family::Logit),
];

fn estimators(c: &mut Criterion) {
    concord::alloc::keep_freed_memory();
    let (df, _) = build(Unit::DyadYear, &data_dir(), 1946, 2014).expect("dyad-year panel builds");
    let opts = FitOptions { vcov: "cluster:dyad".parse().expect("vcov"), ..Default::default() };
    let mut g = c.benchmark_group("dyad_year_1946_2014");
    g.sample_size(10);
    for (name, formula, family) in MODELS {
        g.bench_function(name, |b| b.iter(|| fit(&df, formula, family, &opts).expect("fit")));
    }
    g.bench_function("ols_pooled", |b| {
        b.iter(|| fit(&df, "mid_onset ~ dyadigos + unga_affinity + peace_years", Family::Gaussian, &opts).expect("fit"))
    });
    let f = Formula::parse(MODELS[0].1).expect("formula");
    let design = design_for(&df, &f, &FitOptions::default()).expect("design");
    // The design alone (columns, estimation rows, fixed-effect codes): the
    // part of `feols_twoway_fe` that is not the fit.
    g.bench_function("design_dyad_year_twoway", |b| {
        b.iter(|| design_for(&df, &f, &FitOptions::default()).expect("design"))
    });
    g.bench_function("demean_dyad_year_twoway", |b| {
        b.iter(|| {
            let (mut y, mut x) = (design.y.clone(), design.x.clone());
            demean(&mut y, &mut x, &design.fixed_effects, None, 1e-8, 10_000)
        })
    });
    // Cox on the directed dyads' peace spells (as `concord data build
    // --directed` then `concord data spells`), the model of
    // benches/peers/coxph.R: model-based and Lin-Wei clustered by pair.
    let src = concord::data::sources::Sources::open(&data_dir(), &Unit::DyadYear.needed_files()).expect("sources");
    let ddy = concord::data::panels::directed(df.clone(), &src).expect("directed");
    let (spells, _) = concord::panel::spells::spells(&ddy, &["ccode1", "ccode2"], "year", "mid_onset").expect("spells");
    let cox = "Surv(start, stop, event) ~ dyadigos + unga_affinity + land_contiguity";
    let by_pair = FitOptions { vcov: "cluster:pair".parse().expect("vcov"), ..Default::default() };
    g.bench_function("cox_directed_spells", |b| {
        b.iter(|| fit(&spells, cox, Family::Cox, &FitOptions::default()).expect("cox"))
    });
    g.bench_function("cox_directed_spells_cluster", |b| {
        b.iter(|| fit(&spells, cox, Family::Cox, &by_pair).expect("cox"))
    });
    g.finish();

    let (states, _) = build(Unit::StateYear, &data_dir(), 1946, 2014).expect("state-year panel builds");
    let f = Formula::parse("mid_onset ~ l(igo_full,1) + l(polity2,1) + l(cinc,1) + poly(peace_years,3)").expect("f");
    let o =
        FitOptions { panel: Some(PanelSpec { unit: vec!["ccode".into()], time: "year".into() }), ..Default::default() };
    let d = design_for(&states, &f, &o).expect("design");
    let ccode = concord::panel::int_column(&states, "ccode").expect("ccode");
    let units: Vec<u64> = d.rows.iter().map(|&r| ccode[r] as u64).collect();
    let mut g = c.benchmark_group("state_year_1946_2014");
    g.sample_size(10);
    g.bench_function("logit_cluster_bootstrap_b200", |b| {
        b.iter(|| {
            let path = Path {
                design: &d,
                family: Family::Logit,
                term: "l(igo_full,1)",
                unit_of_row: units.clone(),
                unit_column: "ccode",
            };
            bootstrap_product(&[path], 200, 7, 0.95, Direction::Negative, false)
        })
    });
    g.finish();
}

criterion_group!(benches, estimators);
criterion_main!(benches);
