"""A large simulated dyad-year panel for the scale checks of issue 17, written
to Parquet in row groups (never whole in memory here).

    python3 benches/scale/panel.py /tmp/panel50m.parquet --dyads 725000 --years 69
    /usr/bin/time -v target/release/concord fit /tmp/panel50m.parquet \
        --formula "y ~ x1 + x2 | dyad + year" --vcov cluster:dyad --panel none

Rows come sorted by dyad, then year (as concord's panels). Known effects:
y = 0.3 x1 - 0.2 x2 + a_dyad + b_year + e, with x1 correlated with the dyad
effect and x2 with the year effect, so a fit without the effects is biased
and the two-way fit recovers 0.3 and -0.2. Seeded: the same file every time.
"""
import argparse

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--dyads", type=int, default=725_000)
ap.add_argument("--years", type=int, default=69)
ap.add_argument("--seed", type=int, default=20261202)
ap.add_argument("--chunk", type=int, default=50_000, help="dyads per row group")
a = ap.parse_args()

rng = np.random.default_rng(a.seed)
b_year = rng.normal(0, 0.5, a.years)
years = np.arange(1946, 1946 + a.years, dtype=np.int64)
schema = pa.schema([("dyad", pa.int64()), ("year", pa.int64()), ("y", pa.float64()), ("x1", pa.float64()),
                    ("x2", pa.float64())])
with pq.ParquetWriter(a.out, schema) as w:
    for start in range(0, a.dyads, a.chunk):
        d = np.arange(start, min(start + a.chunk, a.dyads), dtype=np.int64)
        a_dyad = rng.normal(0, 1, d.size)
        dyad = np.repeat(d, a.years)
        year = np.tile(years, d.size)
        ad = np.repeat(a_dyad, a.years)
        by = np.tile(b_year, d.size)
        x1 = 0.5 * ad + rng.normal(0, 1, dyad.size)
        x2 = 0.2 * by + rng.normal(0, 1, dyad.size)
        y = 0.3 * x1 - 0.2 * x2 + ad + by + rng.normal(0, 1, dyad.size)
        w.write_table(pa.table({"dyad": dyad, "year": year, "y": y, "x1": x1, "x2": x2}, schema=schema))
print(f"wrote {a.out}: {a.dyads * a.years} rows ({a.dyads} dyads x {a.years} years)")
