#!/usr/bin/env python3
"""Reference values for ATOP alliance-portfolio similarity per non-directed dyad-year.

Written from the definitions below with pandas/numpy, not from the Rust code.

For a year y, M = every COW ccode with a cow_states spell styear <= y <= endyear
(each ccode once), N = |M|.

* Alliance level a_ik of an unordered pair {i, k} of members, i != k: 3 if
  atop_defense or atop_offense > 0 in either direction (ATOP row i->k or k->i of
  year y); else 2 if atop_neutral or atop_nonagg > 0 in either direction; else 1
  if atop_consul > 0 in either direction; else 0. ATOP rows naming a non-member
  of year y are ignored. a_ii = 3.
* Portfolio of i: a_i = (a_ik for k in M), a_ii included.
* For each member pair i < j:
    atop_s     = 1 - 2 * sum_k |a_ik - a_jk| / (3 N)           (Signorino-Ritter S)
    atop_s_wt  = 1 - 2 * sum_k c_k |a_ik - a_jk| / (3 sum_k c_k),
                 c_k = NMC cinc of k in y (0 if missing); null if sum_k c_k == 0
    atop_kappa = 1 - D_o / D_e,  D_o = sum_k |a_ik - a_jk| / N,
                 D_e = sum_{l,m in 0..3} n_i(l) n_j(m) |l - m| / N^2,
                 n_i(l) = #{k in M : a_ik = l}; null if D_e == 0

Output tests/reference/atop_similarity.json: per-year summaries ("years") for
selected years and the three measures for selected pairs ("pairs"); NaN -> null.

Run from /work/main:
    python3 tests/reference/atop_similarity.py ../shared/data
(the data directory is argv[1], default ../shared/data).
"""
import json, pathlib, sys, time

import numpy as np
import pandas as pd

DATA = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = pathlib.Path(__file__).with_name("atop_similarity.json")
YEARS = [1816, 1870, 1914, 1939, 1950, 1962, 1980, 1995, 2010, 2016]
PAIRS = [(2, 20, 2010), (2, 200, 1950), (2, 365, 1980), (200, 220, 1914), (255, 365, 1914),
         (2, 710, 1995), (200, 255, 1939), (365, 710, 1962), (2, 255, 1870), (100, 101, 2000),
         # few or no alliances: Switzerland, Sweden, Denmark, Bhutan, Fiji
         (225, 380, 1914), (225, 380, 1950), (225, 390, 1870), (760, 950, 1980), (2, 760, 2010)]

t0 = time.time()
states = pd.read_csv(DATA / "cow_states/cow_states.csv")
atop = pd.read_csv(DATA / "atop/atop_alliance.csv")
nmc = pd.read_csv(DATA / "cow_nmc/cow_nmc.csv")

# level of each directed row; the pair's level is the max over both directions
atop["level"] = np.select(
    [(atop.atop_defense > 0) | (atop.atop_offense > 0),
     (atop.atop_neutral > 0) | (atop.atop_nonagg > 0),
     atop.atop_consul > 0], [3, 2, 1], 0)


def year_measures(y):
    """Members (sorted ccodes) and N x N matrices of S, weighted S and kappa for year y."""
    members = np.unique(states.loc[(states.styear <= y) & (states.endyear >= y), "ccode"])
    n = len(members)
    pos = pd.Series(np.arange(n), index=members)
    rows = atop[(atop.year == y) & atop.ccode1.isin(members) & atop.ccode2.isin(members)]
    i, k = pos[rows.ccode1].to_numpy(), pos[rows.ccode2].to_numpy()
    L = np.zeros((n, n), dtype=np.int64)
    np.maximum.at(L, (i, k), rows.level.to_numpy())
    L = np.maximum(L, L.T)
    np.fill_diagonal(L, 3)

    c = nmc[nmc.year == y].set_index("ccode").cinc.reindex(members).fillna(0.0).to_numpy()
    absdiff = np.abs(L[:, None, :] - L[None, :, :])            # [i, j, k] = |a_ik - a_jk|
    d = absdiff.sum(axis=2).astype(float)
    s = 1 - 2 * d / (3 * n)
    s_wt = 1 - 2 * (absdiff @ c) / (3 * c.sum()) if c.sum() > 0 else np.full((n, n), np.nan)
    counts = np.stack([(L == l).sum(axis=1) for l in range(4)], axis=1).astype(float)
    w = np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    d_e = counts @ w @ counts.T / n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(d_e == 0, np.nan, 1 - (d / n) / d_e)
    return members, L, s, s_wt, kappa


def num(x):
    return None if np.isnan(x) else float(x)


out = {"years": {}, "pairs": [], "notes": [], "checks": {}}
cache = {}
for y in sorted(set(YEARS) | {p[2] for p in PAIRS}):
    members, L, s, s_wt, kappa = cache[y] = year_measures(y)
    iu = np.triu_indices(len(members), 1)
    s_u, w_u, k_u = s[iu], s_wt[iu], kappa[iu]
    # sanity checks: bounds, symmetry, identical portfolios give S = 1
    assert np.all((s_u >= -1 - 1e-12) & (s_u <= 1 + 1e-12)) and np.allclose(s, s.T)
    assert np.all(np.isnan(w_u) | ((w_u >= -1 - 1e-12) & (w_u <= 1 + 1e-12)))
    same = np.all(L[iu[0]] == L[iu[1]], axis=1)
    assert np.all(s_u[same] == 1) and np.all(np.isnan(w_u[same]) | (w_u[same] == 1))
    if y in YEARS:
        out["years"][str(y)] = {
            "dyads": int(len(s_u)), "mean_s": float(s_u.mean()),
            "mean_s_wt": num(np.nanmean(w_u)) if (~np.isnan(w_u)).any() else None,
            "mean_kappa": num(np.nanmean(k_u)) if (~np.isnan(k_u)).any() else None,
            "missing_kappa": int(np.isnan(k_u).sum()), "missing_s_wt": int(np.isnan(w_u).sum())}
        out["checks"][str(y)] = {"identical_portfolio_pairs": int(same.sum())}

for a, b, y in PAIRS:
    members, _, s, s_wt, kappa = cache[y]
    rec = {"ccode1": a, "ccode2": b, "year": y, "atop_s": None, "atop_s_wt": None, "atop_kappa": None}
    if a in members and b in members:
        i, j = np.searchsorted(members, [a, b])
        rec.update(atop_s=num(s[i, j]), atop_s_wt=num(s_wt[i, j]), atop_kappa=num(kappa[i, j]))
    else:
        out["notes"].append(f"({a},{b},{y}): not both system members that year; values null")
    out["pairs"].append(rec)

OUT.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {OUT} in {time.time() - t0:.2f}s")
