#!/usr/bin/env python3
"""Reference values for MID revisionist-state indicators per directed dyad-year.

Written from the definitions below with pandas, not from the Rust code.

Inputs: cow_mid/cow_mid_ddydisps.csv (directed dispute-dyad-years, both orders
of each dyad-year) and cow_mid/midb_5_0.csv (MIDB participants; a state may have
several rows, i.e. participation spells, in one dispute).

For each row of cow_mid_ddydisps (ccode1 -> ccode2, year, dispnum):
* only rows with cowmidonset == 1 count; all other rows get 0 for both variables;
* mid_revisionist      = 1 if ccode1 has any MIDB row in that dispnum with
                         revstate == 1;
* mid_revisionist_terr = 1 if ccode1 has any MIDB row in that dispnum with
                         revstate == 1 and (revtype1 == 1 or revtype2 == 1);
* several rows for one (ccode1, ccode2, year) would be combined by the maximum
  (the file has at most one such row; checked and recorded in the output).
"Any row in the dispute" means every spell of ccode1 in the dispute counts,
whatever its years.

Output tests/reference/mid_revisionist.json:
* "totals": for 1816-2014 and 1946-2014, sums of both variables over directed
  dyad-years and the number of onset rows (cowmidonset == 1);
* "by_year": sums of both variables for selected years;
* "named": both directions of selected dyad-years with onsets.

Run from /work/main:
    python3 tests/reference/mid_revisionist.py ../shared/data
(the data directory is argv[1], default ../shared/data).
"""
import json, pathlib, sys

import pandas as pd

DATA = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = pathlib.Path(__file__).with_name("mid_revisionist.json")
YEARS = [1914, 1939, 1950, 1962, 1973, 1990, 2001, 2010]
# (a, b, year): both a -> b and b -> a are reported
PAIRS = [(160, 200, 1982),  # Falklands, MID 3630: Argentina / UK
         (710, 713, 1954),  # Taiwan Strait, MID 2987: China / Taiwan
         (731, 732, 1950),  # Korean War, MID 51: North / South Korea
         (2, 710, 1950),    # Korean War, MID 51: USA / China (neither revisionist)
         (2, 365, 1962),    # MID 2219: USA / USSR
         (651, 666, 1973)]  # October War, MID 3380: Egypt / Israel

ddy = pd.read_csv(DATA / "cow_mid/cow_mid_ddydisps.csv")
midb = pd.read_csv(DATA / "cow_mid/midb_5_0.csv")

# per (dispnum, state): any revisionist row / any territorial revisionist row
rev = midb.revstate == 1
terr = rev & ((midb.revtype1 == 1) | (midb.revtype2 == 1))
flags = (midb.assign(mid_revisionist=rev.astype(int), mid_revisionist_terr=terr.astype(int))
         .groupby(["dispnum", "ccode"], as_index=False)[["mid_revisionist", "mid_revisionist_terr"]].max()
         .rename(columns={"ccode": "ccode1"}))

d = ddy.merge(flags, on=["dispnum", "ccode1"], how="left")
VARS = ["mid_revisionist", "mid_revisionist_terr"]
d[VARS] = d[VARS].fillna(0).astype(int)
d.loc[d.cowmidonset != 1, VARS] = 0

key = ["ccode1", "ccode2", "year"]
n_dup = int(d.duplicated(key).sum())
dy = d.groupby(key, as_index=False).agg(
    mid_revisionist=("mid_revisionist", "max"),
    mid_revisionist_terr=("mid_revisionist_terr", "max"),
    cowmidonset=("cowmidonset", "max"))


def sums(frame):
    return {v: int(frame[v].sum()) for v in VARS}


totals = {}
for lo, hi in [(1816, 2014), (1946, 2014)]:
    part = dy[dy.year.between(lo, hi)]
    totals[f"{lo}-{hi}"] = {**sums(part), "onset_rows": int((part.cowmidonset == 1).sum()),
                            "dyad_years": len(part)}

named = []
for a, b, y in PAIRS:
    for c1, c2 in [(a, b), (b, a)]:
        row = dy[(dy.ccode1 == c1) & (dy.ccode2 == c2) & (dy.year == y)]
        assert len(row) == 1 and row.cowmidonset.iloc[0] == 1, (c1, c2, y)
        named.append({"ccode1": c1, "ccode2": c2, "year": y,
                      **{v: int(row[v].iloc[0]) for v in VARS}})

out = {"source": "cow_mid/cow_mid_ddydisps.csv + cow_mid/midb_5_0.csv (COW MID 5.0)",
       "rows_in": len(ddy), "duplicate_directed_dyad_years": n_dup,
       "totals": totals,
       "by_year": {str(y): sums(dy[dy.year == y]) for y in YEARS},
       "named": named}
OUT.write_text(json.dumps(out, indent=1) + "\n")
print(json.dumps(out, indent=1))
