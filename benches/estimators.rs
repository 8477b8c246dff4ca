//! Estimators on the real non-directed dyad-year panel 1946-2014 (built once
//! from the CSV sources in CONCORD_DATA, default ../shared/data), fit alone
//! (the data already in memory), as the peers are timed in benches/peers/.
//! Run: `cargo bench --bench estimators`.

use std::path::PathBuf;

use concord::data::{build, Unit};
use concord::estimate::{fit, Family, FitOptions};
// The allocator the concord binary uses (src/main.rs), so timings match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};

fn data_dir() -> PathBuf {
    std::env::var_os("CONCORD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// The models of benches/peers/peers.py, by the same names.
pub const MODELS: [(&str, &str, Family); 3] = [
    ("feols_twoway_fe", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", Family::Gaussian),
    ("logit_pooled", "mid_onset ~ dyadigos + land_contiguity + peace_years + unga_affinity + dem_low", Family::Logit),
    ("fepois_twoway_fe", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", Family::Poisson),
];

fn estimators(c: &mut Criterion) {
    let (df, _) = build(Unit::DyadYear, &data_dir(), 1946, 2014).expect("dyad-year panel builds");
    let opts = FitOptions { vcov: "cluster:dyad".parse().expect("vcov"), ..Default::default() };
    let mut g = c.benchmark_group("dyad_year_1946_2014");
    g.sample_size(10);
    for (name, formula, family) in MODELS {
        g.bench_function(name, |b| b.iter(|| fit(&df, formula, family, &opts).expect("fit")));
    }
    g.finish();
}

criterion_group!(benches, estimators);
criterion_main!(benches);
