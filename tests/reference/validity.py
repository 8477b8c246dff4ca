"""Reference values of the measurement-validity table (src/study/validity.rs)
of the flagship study, computed with pandas and scipy from the panels concord
writes, for tests/validity.rs (compared at 1e-10).

For every measure of the pillars in studies/socialization.toml ([validity]
pillars, the columns named first in [measures]) at each level whose panel has
it: coverage (first and last year with data, non-missing unit-years out of all
unit-years, units with data); every named case of [validity] (the mean over its
years with data, its mid-rank percentile among all units' means over the same
years -- for the system, among the yearly values -- via
scipy.stats.percentileofscore(kind="mean")); and the Pearson correlation
(scipy.stats.pearsonr) of every pair of measures of one pillar at one level on
complete cases.

Re-run (from the repository root, about 20 s; pandas needs pyarrow for Parquet):

    target/release/concord data build --unit state-year --from 1946 --to 2014 \
        --data-dir ../shared/data --add peacekeeping,unsc,ideal_points,atop,treaty_parties,sanctions --out /tmp/val_sy.parquet
    target/release/concord data build --unit dyad-year --from 1946 --to 2014 \
        --data-dir ../shared/data --add ideal_points,atop,unga --out /tmp/val_dy.parquet
    target/release/concord data build --unit system-year --from 1946 --to 2014 \
        --data-dir ../shared/data --add peacekeeping,unsc --out /tmp/val_sys.parquet
    python3 tests/reference/validity.py /tmp/val_sy.parquet /tmp/val_dy.parquet /tmp/val_sys.parquet

(--add as the study's `add`, less the sources without variables at a level,
which concord refuses.) The study adds log1p_<x> = ln(1 + x) for its `log1p`
columns; so does this script.
"""

import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
STUDY = tomllib.loads((ROOT / "studies/socialization.toml").read_text())
FROM, TO = STUDY["data"]["from"], STUDY["data"]["to"]
KEYS = {"state-year": ["ccode"], "dyad-year": ["ccode1", "ccode2"], "system-year": []}


def load(path):
    df = pd.read_parquet(path)
    df = df[(df.year >= FROM) & (df.year <= TO)].copy()
    for c in STUDY.get("log1p", []):
        if c in df.columns:
            df[f"log1p_{c}"] = np.log1p(df[c].astype(float))
    return df


def main(sy, dy, sys_):
    panels = {"state-year": load(sy), "dyad-year": load(dy), "system-year": load(sys_)}
    v = STUDY["validity"]
    pillars = v.get("pillars") or list(STUDY["measures"])
    coverage, correlations = [], []
    for p in pillars:
        names = [t.split()[0] for t in STUDY["measures"][p]]
        for level in ["state-year", "dyad-year", "system-year"]:
            df = panels[level]
            here = [n for n in names if n in df.columns]
            for n in here:
                x = df[n].astype(float)
                ok = df[x.notna()]
                units = len(ok) if level == "system-year" else len(ok.drop_duplicates(KEYS[level]))
                coverage.append(
                    dict(pillar=p, measure=n, level=level,
                         first_year=int(ok.year.min()) if len(ok) else None,
                         last_year=int(ok.year.max()) if len(ok) else None,
                         n=int(len(ok)), unit_years=int(len(df)), share=len(ok) / len(df), units=int(units))
                )
            for i in range(len(here)):
                for j in range(i + 1, len(here)):
                    both = df[[here[i], here[j]]].astype(float).dropna()
                    r = stats.pearsonr(both[here[i]], both[here[j]]).statistic if len(both) >= 3 else None
                    correlations.append(dict(pillar=p, level=level, a=here[i], b=here[j],
                                             r=None if r is None else float(r), n=int(len(both))))
    cases = []
    for c in v["cases"]:
        lo, hi = (c["year"], c["year"]) if "year" in c else tuple(c["years"])
        m = c["measure"]
        if "ccode" in c:
            level, key = "state-year", (c["ccode"],)
        elif "ccode1" in c:
            level, key = "dyad-year", (min(c["ccode1"], c["ccode2"]), max(c["ccode1"], c["ccode2"]))
        else:
            level, key = "system-year", ()
        df = panels[level]
        inside = df[(df.year >= lo) & (df.year <= hi)]
        if level == "system-year":
            vals = inside[m].astype(float).dropna()
            value = float(vals.mean()) if len(vals) else None
            among = df[m].astype(float).dropna().to_numpy()
            nyears = len(vals)
        else:
            means = inside.groupby(KEYS[level])[m].mean().dropna()
            counts = inside.groupby(KEYS[level])[m].count()
            k = key[0] if level == "state-year" else key
            value = float(means[k]) if k in means.index else None
            nyears = int(counts.get(k, 0))
            among = means.to_numpy()
        pct = float(stats.percentileofscore(among, value, kind="mean")) if value is not None else None
        cases.append(dict(measure=m, level=level, key=list(key), years=[lo, hi], value=value,
                          years_with_data=nyears, percentile=pct, compared=int(len(among))))
    out = dict(coverage=coverage, cases=cases, correlations=correlations)
    path = ROOT / "tests/reference/validity.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}: {len(coverage)} measures, {len(cases)} cases, {len(correlations)} correlations")


if __name__ == "__main__":
    main(*sys.argv[1:4])
