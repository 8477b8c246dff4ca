#!/usr/bin/env python3
"""Reference for the system-year quartiles (tests/panels.rs,
`system_year_quartiles_equal_pandas_on_the_state_year_panel`): pandas'
groupby-quantile (linear interpolation, R type 7) and mean of the state-year
panel concord builds, by year.

Run: target/release/concord data build --unit state-year --data-dir ../shared/data --out /tmp/sy.parquet
     python3 tests/reference/yearly_summary.py /tmp/sy.parquet > tests/reference/yearly_summary.json
"""
import json, sys
import pandas as pd

df = pd.read_parquet(sys.argv[1])
out = {}
for var in ["igo_full", "treaties_cum", "unga_agree_majority"]:
    g = df.dropna(subset=[var]).groupby("year")[var]
    for year in [1946, 1970, 1990, 2014]:
        x = g.get_group(year).astype(float)
        out[f"{var}/{year}"] = {
            "mean": float(x.mean()),
            "q25": float(x.quantile(0.25)),
            "q75": float(x.quantile(0.75)),
            "n": int(x.size),
        }
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
