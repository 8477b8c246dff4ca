#!/usr/bin/env python3
"""A simulated event-study panel with a known step effect, and its pyfixest
fit (tests/figures.rs: `concord plot event` draws these coefficients).

Writes tests/fixtures/event_study.csv (seeded, 40 units x 10 years) and
tests/reference/event_study.json.

The panel: units 1..40 over years 2000..2009; units 1..12 treated from 2004,
13..24 from 2006, 25..40 never treated. `rel_year` = year - first treated
year, binned at -4 (4 or more years before) and 4 (4 or more after); never
treated units carry the reference period -1 in every year (they identify the
year effects, as a never-treated control group does). The outcome is
    y = a_unit + b_year + 1.0 * (rel_year >= 0 for treated units) + e,
    a ~ N(0, 1), b ~ N(0, 0.5^2), e ~ N(0, 0.3^2),
so the event-study coefficients are about 0 before and about 1 from period 0.

Reference: pyfixest feols("y ~ i(rel_year, ref=-1) | unit + year"), with
iid and unit-clustered (CRV1) standard errors.

Re-run (from the repository root; rewrites both files):
    python3 tests/reference/event_study.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = pathlib.Path(__file__).resolve().parent
FIXTURE = HERE.parent / "fixtures" / "event_study.csv"
OUT = HERE / "event_study.json"

rng = np.random.default_rng(20261201)
units = np.arange(1, 41)
years = np.arange(2000, 2010)
first = {u: (2004 if u <= 12 else 2006 if u <= 24 else None) for u in units}
a = dict(zip(units, rng.normal(0.0, 1.0, len(units))))
b = dict(zip(years, rng.normal(0.0, 0.5, len(years))))
rows = []
for u in units:
    for t in years:
        g = first[u]
        rel = -1 if g is None else int(np.clip(t - g, -4, 4))
        treated = g is not None and t >= g
        y = a[u] + b[t] + 1.0 * treated + rng.normal(0.0, 0.3)
        rows.append((int(u), int(t), rel, round(float(y), 6)))
df = pd.DataFrame(rows, columns=["unit", "year", "rel_year", "y"])
df.to_csv(FIXTURE, index=False)

# Fit what the CSV holds (y rounded to 6 decimals), as the Rust test reads it.
df = pd.read_csv(FIXTURE)
out = {"formula": "y ~ i(rel_year, ref = -1) | unit + year", "nobs": int(len(df)), "fits": {}}
for name, vcov in [("iid", "iid"), ("cluster:unit", {"CRV1": "unit"})]:
    fit = pf.feols("y ~ i(rel_year, ref=-1) | unit + year", data=df, vcov=vcov)
    tidy = fit.tidy()
    coefs = {}
    for term, r in tidy.iterrows():
        # pyfixest names the columns `rel_year::-4`, ... (as fixest).
        coefs[str(term)] = {"estimate": float(r["Estimate"]), "std_error": float(r["Std. Error"])}
    out["fits"][name] = coefs
OUT.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out["fits"]["iid"], indent=1))
