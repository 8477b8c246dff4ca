#!/usr/bin/env python3
"""Reference values for COW Trade 4.0 dyadic trade measures per non-directed dyad-year.

Written from the definitions below with pandas, not from the Rust code.

Inputs (data directory argv[1]):
  cow_trade/cow_trade_ndy.csv  ccode1 < ccode2, year, flow1, flow2, smoothflow1,
                               smoothflow2 (millions of current USD; missing = empty)
  cow_trade/cow_trade_sy.csv   ccode, year, imports, exports

Per row of cow_trade_ndy (1870-2014), i in {1, 2}:
* trade_flow        = flow1 + flow2              (missing if either is missing)
* trade_flow_smooth = smoothflow1 + smoothflow2  (missing if either is missing)
* total_i = imports + exports of ccode_i in that year from cow_trade_sy
            (missing if either is missing or the state-year is absent)
* share_i = trade_flow / total_i  (missing if trade_flow or total_i is missing, or total_i == 0)
* trade_share_low  = min(share_1, share_2)
  trade_share_high = max(share_1, share_2)  (both missing if either share is missing)

Output tests/reference/trade.json:
* "years": for each of YEARS, {rows: dyad rows, sum_flow / n_flow: sum / count of
  non-missing trade_flow, sum_flow_smooth / n_flow_smooth: same for trade_flow_smooth,
  mean_share_low / mean_share_high: mean of non-missing values, n_share: count non-missing}.
* "named": the measures for the dyad-years in NAMED.
Floats at full precision (Python repr); missing -> null.

Run from /work/main:
    python3 tests/reference/trade.py ../shared/data
(the data directory is argv[1], default ../shared/data).
"""
import json, math, pathlib, sys, time

import numpy as np
import pandas as pd

DATA = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = pathlib.Path(__file__).with_name("trade.json")
YEARS = [1880, 1913, 1938, 1950, 1970, 1990, 2000, 2014]
NAMED = [(2, 20, 2000), (2, 200, 1950), (2, 365, 1980), (200, 220, 1913), (2, 710, 2010),
         (255, 365, 1938),
         (2, 20, 1930),   # flow1 missing (flow2 present)
         (2, 20, 1926),   # smoothflow1 (474) differs from flow1 (975)
         (2, 255, 1945),  # Germany 1945: imports and exports both missing in cow_trade_sy
         (2, 58, 1988),   # Antigua 1988: imports missing, exports present in cow_trade_sy
         (2, 347, 2010),  # Kosovo 2010: state-year absent from cow_trade_sy
         (2, 40, 1970)]   # US-Cuba 1970: zero trade, shares 0

t0 = time.time()
ndy = pd.read_csv(DATA / "cow_trade/cow_trade_ndy.csv")
sy = pd.read_csv(DATA / "cow_trade/cow_trade_sy.csv")

# pandas '+' leaves NaN if either operand is NaN, which is the "missing if either" rule
ndy["trade_flow"] = ndy.flow1 + ndy.flow2
ndy["trade_flow_smooth"] = ndy.smoothflow1 + ndy.smoothflow2

sy["total"] = sy.imports + sy.exports
total = sy.set_index(["ccode", "year"])["total"]
assert total.index.is_unique
for i in (1, 2):
    key = pd.MultiIndex.from_arrays([ndy[f"ccode{i}"], ndy.year])
    tot = total.reindex(key).to_numpy()          # absent state-year -> NaN
    tot = np.where(tot == 0, np.nan, tot)        # total_i == 0 -> share missing
    ndy[f"share{i}"] = ndy.trade_flow.to_numpy() / tot

both = ndy.share1.notna() & ndy.share2.notna()
ndy["trade_share_low"] = np.minimum(ndy.share1, ndy.share2).where(both)
ndy["trade_share_high"] = np.maximum(ndy.share1, ndy.share2).where(both)


def num(x):
    """float -> float, NaN -> None."""
    x = float(x)
    return None if math.isnan(x) else x


years = {}
for y in YEARS:
    d = ndy[ndy.year == y]
    years[str(y)] = {
        "rows": int(len(d)),
        "sum_flow": num(d.trade_flow.sum()), "n_flow": int(d.trade_flow.notna().sum()),
        "sum_flow_smooth": num(d.trade_flow_smooth.sum()),
        "n_flow_smooth": int(d.trade_flow_smooth.notna().sum()),
        "mean_share_low": num(d.trade_share_low.mean()),
        "mean_share_high": num(d.trade_share_high.mean()),
        "n_share": int(d.trade_share_low.notna().sum()),
    }

idx = ndy.set_index(["ccode1", "ccode2", "year"])
named = []
for k in NAMED:
    r = idx.loc[k]  # KeyError if the dyad-year is absent
    named.append({"ccode1": k[0], "ccode2": k[1], "year": k[2],
                  **{c: num(r[c]) for c in ["trade_flow", "trade_flow_smooth",
                                            "trade_share_low", "trade_share_high"]}})

OUT.write_text(json.dumps({"years": years, "named": named}, indent=1) + "\n")
print(f"wrote {OUT} in {time.time() - t0:.2f}s")
