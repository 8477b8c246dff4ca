#!/usr/bin/env python3
"""Reference estimates for the replications in studies/replications/.

Written from the replication files' definitions with pandas and statsmodels,
not from the Rust code. Only the base politically relevant dyad-year panel
comes from concord (its columns are pinned by tests/panels.rs); every column a
replication adds is merged here from the raw files:

* bremer: NMC 7.0 cinc, milper, tpop; peacesciencer ccode_democracy
  xm_qudsest; cow_sdp_gdp wbgdppc2011est (each joined to ccode1 and to
  ccode2 by year); COW alliance cow_defense (the file lists allied dyad-years
  in both orders: a pair is allied when either order says so; unlisted = 0
  in 1816-2012). Derived: cinc_prop = min/max of cinc, dem_weak = min of
  xm_qudsest, gdppc_weak = min of wbgdppc2011est, milit_min = min of
  milper/tpop (missing if either side is missing); each centred and divided
  by 2 sample s.d. over every non-missing row of the panel (stevemisc r2sd).
  Logit (statsmodels, iid s.e.) on complete cases.
* kantian_peace: the COW alliance flags as above, alliance = any of them;
  trade_share_low = min over the two states of (flow1 + flow2) / (imports +
  exports) (COW Trade 4.0; see tests/reference/trade.py); capdist = the
  haversine distance (radius 6371.0088 km) between the capitals in place at
  the end of the year (cow_capitals: the one with the latest start among
  those whose years cover it). Logit with s.e.
  clustered by dyad (statsmodels' small-sample factor G/(G-1) (N-1)/(N-K),
  as concord and fixest).

Output tests/reference/replications.json: per replication, nobs, params and
bse by concord's term names, and the scaling (mean, sd, n).

Run from /work/main after `cargo build --release`:
    python3 tests/reference/replications.py ../shared/data
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import statsmodels.api as sm

DATA = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "target/release/concord"


def base_panel(frm, to):
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d) / "p.parquet"
        subprocess.run([str(BIN), "data", "build", "--unit", "dyad-year", "--from", str(frm), "--to", str(to),
                        "--data-dir", str(DATA), "--relevant", "--out", str(out)], check=True, capture_output=True)
        return pd.read_parquet(out)


def sides(d, frame, cols):
    for s in "12":
        ren = {"ccode": "ccode" + s, **{c: c + s for c in cols}}
        d = d.merge(frame[["ccode", "year", *cols]].rename(columns=ren), how="left", on=["ccode" + s, "year"])
    return d


def cow_alliance(d):
    al = pd.read_csv(DATA / "cow_alliance/cow_alliance_ddy.csv")
    al["a"], al["b"] = np.minimum(al.ccode1, al.ccode2), np.maximum(al.ccode1, al.ccode2)
    flags = ["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"]
    al = al.groupby(["a", "b", "year"])[flags].max().reset_index().rename(columns={"a": "ccode1", "b": "ccode2"})
    d = d.merge(al, how="left", on=["ccode1", "ccode2", "year"])
    inside = (d.year >= 1816) & (d.year <= 2012)
    for f in flags:
        d[f] = d[f].fillna(0).where(inside)
    return d


def r2sd(d, cols):
    out = {}
    for c in cols:
        m, s = d[c].mean(), d[c].std(ddof=1)
        d[c] = (d[c] - m) / (2 * s)
        out[c] = {"mean": m, "sd": s, "n": int(d[c].notna().sum())}
    return out


def logit(d, y, xs, names, cluster=None):
    cols = [y, *xs] + ([cluster] if cluster else [])
    cc = d[cols].dropna()
    X = sm.add_constant(cc[xs].astype(float))
    m = sm.Logit(cc[y].astype(float), X)
    r = m.fit(disp=0, tol=1e-12, maxiter=100) if cluster is None else \
        m.fit(disp=0, tol=1e-12, maxiter=100, cov_type="cluster", cov_kwds={"groups": cc[cluster]})
    ren = {"const": "(Intercept)", **dict(zip(xs, names))}
    return {"nobs": int(r.nobs),
            "params": {ren[k]: float(v) for k, v in r.params.items()},
            "bse": {ren[k]: float(v) for k, v in r.bse.items()}}


def peace(d, v):
    d[v + "2"], d[v + "3"] = d[v] ** 2, d[v] ** 3
    return [v, v + "2", v + "3"], [v, f"I({v}^2)", f"I({v}^3)"]


def bremer():
    d = base_panel(1816, 2010)
    nmc = pd.read_csv(DATA / "cow_nmc/cow_nmc.csv")
    dem = pd.read_csv(DATA / "democracy/ccode_democracy.csv")
    sdp = pd.read_csv(DATA / "gdp_pop/cow_sdp_gdp.csv")
    d = sides(d, nmc, ["cinc", "milper", "tpop"])
    d = sides(d, dem, ["xm_qudsest"])
    d = sides(d, sdp, ["wbgdppc2011est"])
    d = cow_alliance(d)
    d["cinc_prop"] = np.minimum(d.cinc1, d.cinc2) / np.maximum(d.cinc1, d.cinc2)
    d["dem_weak"] = np.minimum(d.xm_qudsest1, d.xm_qudsest2)
    d["gdppc_weak"] = np.minimum(d.wbgdppc2011est1, d.wbgdppc2011est2)
    d["milit_min"] = np.minimum(d.milper1 / d.tpop1, d.milper2 / d.tpop2)
    scaling = r2sd(d, ["cinc_prop", "dem_weak", "gdppc_weak", "milit_min"])
    xs = ["land_contiguity", "cinc_prop", "any_major", "cow_defense", "dem_weak", "gdppc_weak", "milit_min"]
    pv, pn = peace(d, "peace_years_gml")
    out = logit(d, "gml_mid_onset", xs + pv, xs + pn)
    out["scaling"] = scaling
    out["panel_rows"] = len(d)
    return out


def kantian_peace():
    d = base_panel(1950, 1992)
    d = cow_alliance(d)
    d["alliance"] = d[["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"]].max(axis=1, skipna=False)
    ndy = pd.read_csv(DATA / "cow_trade/cow_trade_ndy.csv")
    sy = pd.read_csv(DATA / "cow_trade/cow_trade_sy.csv")
    sy["total"] = sy.imports + sy.exports
    ndy["flow"] = ndy.flow1 + ndy.flow2
    for s in "12":
        ndy = ndy.merge(sy[["ccode", "year", "total"]].rename(columns={"ccode": "ccode" + s, "total": "total" + s}),
                        how="left", on=["ccode" + s, "year"])
        ndy["share" + s] = ndy.flow / ndy["total" + s].where(ndy["total" + s] != 0)
    ndy["trade_share_low"] = np.minimum(ndy.share1, ndy.share2).where(ndy.share1.notna() & ndy.share2.notna())
    d = d.merge(ndy[["ccode1", "ccode2", "year", "trade_share_low"]], how="left", on=["ccode1", "ccode2", "year"])
    d["lcap"] = np.log(d.cinc_ratio)
    cap = pd.read_csv(DATA / "cow_states/cow_capitals.csv")
    rows = []
    for r in cap.itertuples():
        for y in range(int(r.stdate[:4]), int(r.enddate[:4]) + 1):
            rows.append((r.ccode, y, r.stdate, r.lat, r.lng))
    cy = pd.DataFrame(rows, columns=["ccode", "year", "st", "lat", "lng"])
    cy = cy.sort_values("st").groupby(["ccode", "year"]).last().reset_index()
    d = sides(d, cy, ["lat", "lng"])
    la1, lo1, la2, lo2 = (np.radians(d[c]) for c in ["lat1", "lng1", "lat2", "lng2"])
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    d["ldist"] = np.log(2 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(h, 1.0))))
    xs = ["dem_low", "trade_share_low", "dyadigos", "alliance", "lcap", "ldist", "land_contiguity", "any_major"]
    names = [*xs[:4], "log(cinc_ratio)", "log(capdist)", *xs[6:]]
    pv, pn = peace(d, "peace_years_mid")
    out = logit(d, "mid_onset", xs + pv, names + pn, cluster="dyad")
    out["panel_rows"] = len(d)
    return out


if __name__ == "__main__":
    ref = {"bremer": bremer(), "kantian_peace": kantian_peace()}
    path = ROOT / "tests/reference/replications.json"
    path.write_text(json.dumps(ref, indent=1) + "\n")
    print(json.dumps({k: {"nobs": v["nobs"]} for k, v in ref.items()}))
