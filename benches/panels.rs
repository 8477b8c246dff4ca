//! Panel builds from the real CSV sources (set CONCORD_DATA, default ../shared/data):
//! the default panels 1946-2014 and the directed dyad-years 1816-2014 with
//! every dyad-year source added.
//! Run: `cargo bench --bench panels`.

use std::path::PathBuf;

use concord::data::{build, Unit};
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

fn panels(c: &mut Criterion) {
    concord::alloc::keep_freed_memory();
    let dir = data_dir();
    let mut g = c.benchmark_group("panel_build_1946_2014");
    g.sample_size(10);
    for unit in [Unit::StateYear, Unit::DyadYear, Unit::SystemYear] {
        g.bench_function(unit.to_string(), |b| {
            b.iter(|| build(unit, &dir, 1946, 2014).expect("panel builds"));
        });
    }
    g.finish();
    // The largest build the data layer promises: directed dyad-years
    // 1816-2014 with every source that has dyad-year variables (issue 16:
    // under 10 s on 2 cores, peak memory under 3 GB, measured with
    // /usr/bin/time on the CLI).
    let names: Vec<String> = concord::data::measures::MEASURES
        .iter()
        .filter(|m| m.at(concord::data::panels::Unit::DyadYear).next().is_some())
        .map(|m| m.name.to_string())
        .collect();
    let add = concord::data::measures::resolve(&names).expect("measures");
    let mut g = c.benchmark_group("panel_build_directed_1816_2014");
    g.sample_size(10);
    g.bench_function("dyad_year_every_source", |b| {
        b.iter(|| concord::data::panels::build_directed(&dir, 1816, 2014, &add).expect("directed panel builds"));
    });
    g.finish();
}

criterion_group!(benches, panels);
criterion_main!(benches);
