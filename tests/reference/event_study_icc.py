#!/usr/bin/env python3
"""A small state-year panel shaped like the ICC event study of the flagship
study, and its pyfixest event-study fit (tests/event_study.rs: concord's
`[[event_study]]` must give the same coefficients, standard errors, pre-trend
F test and post-period mean).

Writes tests/fixtures/event_study_icc.csv (seeded) and
tests/reference/event_study_icc.json.

The panel: 80 states (ccode 10, 20, ..., 800) over 1990-2014, a few entering
late (unbalanced). 48 states join (`icc_member` switches from 0 to 1 and
stays on) in a year drawn from 1994-2012, 26 never join, and 6 are members
from their first year in the panel (always treated). One joiner has no
record of `icc_member` in its first five years (missing, as the UN treaty
record leaves Yugoslavia before 2000), and about 2% of `mid_onset` values are
missing. The outcome is a 0/1 onset with a unit effect, a year effect and a
drop of 0.06 in its probability from the year of joining (one seeded
draw: the test is that concord equals pyfixest on it, not that either
recovers the drop, and this draw happens to give a positive post mean):
    Pr(mid_onset = 1) = clip(0.15 + a_unit + b_year - 0.06 * post, 0.01, 0.9).

The event-study rule (concord's, re-implemented here from its description,
not from its code): per state, the first year with `icc_member` = 1 among the
years where it is recorded; rows without a record are left out; states
member in their first recorded year are left out (no year before joining);
states never member keep every row with rel_year = -1 (the reference), so
they identify the year effects; joiners get rel_year = year - first year,
binned at -4 (4 or more years before) and 4 (4 or more after).

Reference: pyfixest feols("mid_onset ~ i(rel_year, ref=-1) | ccode + year",
vcov = CRV1 by ccode). The pre-trend test is the Wald test of the leads
(-4, -3, -2) jointly zero: F = W / 3 with W from pyfixest's own wald_test
(chi2 form, which it uses for a non-identity R), on F(3, G - 1) as fixest
does for clustered errors; the post-period mean is the average of the
coefficients of 0..4 with its standard error from the clustered vcov.

Re-run (from the repository root; rewrites both files):
    python3 tests/reference/event_study_icc.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import stats

HERE = pathlib.Path(__file__).resolve().parent
FIXTURE = HERE.parent / "fixtures" / "event_study_icc.csv"
OUT = HERE / "event_study_icc.json"
WINDOW = 4

rng = np.random.default_rng(20261202)
years = np.arange(1990, 2015)
n = 80
ccodes = [10 * (i + 1) for i in range(n)]
kind = ["join"] * 48 + ["never"] * 26 + ["always"] * 6
rng.shuffle(kind)
a = rng.normal(0.0, 0.05, n)
b = dict(zip(years, rng.normal(0.0, 0.03, len(years))))
rows = []
for i, c in enumerate(ccodes):
    start = int(rng.integers(1991, 2001)) if rng.random() < 0.15 else 1990
    first = {"join": int(rng.integers(1994, 2013)), "never": None, "always": start}[kind[i]]
    if first is not None and first <= start and kind[i] == "join":
        first = start + 2
    for t in years[years >= start]:
        post = first is not None and t >= first
        p = float(np.clip(0.15 + a[i] + b[t] - 0.06 * post, 0.01, 0.9))
        y = float(rng.random() < p)
        rows.append([c, int(t), int(post), y])
df = pd.DataFrame(rows, columns=["ccode", "year", "icc_member", "mid_onset"])
# One joiner without a record of its membership in its first five years.
joiner = next(c for c, k in zip(ccodes, kind) if k == "join")
df["icc_member"] = df["icc_member"].astype("Int64")
first_year = df.loc[df.ccode == joiner, "year"].min()
df.loc[(df.ccode == joiner) & (df.year < first_year + 5), "icc_member"] = pd.NA
# About 2% of outcomes missing.
df.loc[rng.random(len(df)) < 0.02, "mid_onset"] = np.nan
df["mid_onset"] = df["mid_onset"].astype("Int64")
df.to_csv(FIXTURE, index=False)

# The event-study panel, from what the CSV holds.
df = pd.read_csv(FIXTURE)
obs = df[df.icc_member.notna()].copy()
units = {}
for c, g in obs.sort_values("year").groupby("ccode"):
    v = g.icc_member.to_numpy()
    assert not np.any((v[:-1] == 1) & (v[1:] == 0)), f"{c} switches off"
    if v.max() == 0:
        units[c] = ("never", None)
    elif v[0] == 1:
        units[c] = ("always", None)
    else:
        units[c] = ("join", int(g.year[g.icc_member == 1].min()))
keep = obs[obs.ccode.map(lambda c: units[c][0] != "always")].copy()
keep["rel_year"] = [
    -1 if units[c][0] == "never" else int(np.clip(y - units[c][1], -WINDOW, WINDOW))
    for c, y in zip(keep.ccode, keep.year)
]
formula = "mid_onset ~ i(rel_year, ref=-1) | ccode + year"
fit = pf.feols(formula, data=keep, vcov={"CRV1": "ccode"})
tidy = fit.tidy()
names = list(tidy.index)
beta = tidy["Estimate"].to_numpy()
V = np.asarray(fit._vcov)
coefs = {str(t): {"estimate": float(r["Estimate"]), "std_error": float(r["Std. Error"])} for t, r in tidy.iterrows()}

leads = [f"rel_year::{k}" for k in range(-WINDOW, -1)]
R = np.zeros((len(leads), len(names)))
for j, t in enumerate(leads):
    R[j, names.index(t)] = 1.0
w = float(fit.wald_test(R=R, distribution="chi2")["statistic"])
G = int(np.min(fit._G))
assert G == keep.dropna(subset=["mid_onset"]).ccode.nunique()
f_stat = w / len(leads)
p = float(stats.f.sf(f_stat, len(leads), G - 1))
# The same from the vcov by hand.
d = R @ beta
assert abs(float(d @ np.linalg.solve(R @ V @ R.T, d)) - w) < 1e-8 * max(1.0, w)

post = [f"rel_year::{k}" for k in range(0, WINDOW + 1)]
wts = np.array([1.0 / len(post) if t in post else 0.0 for t in names])
post_mean = float(wts @ beta)
post_se = float(np.sqrt(wts @ V @ wts))

used = keep.dropna(subset=["mid_onset"])
kinds = pd.Series({c: units[c][0] for c in used.ccode.unique()})
out = {
    "formula": "mid_onset ~ i(rel_year, ref = -1) | ccode + year",
    "vcov": "cluster:ccode",
    "window": WINDOW,
    "nobs": int(fit._N),
    "clusters": G,
    "units_treated": int((kinds == "join").sum()),
    "units_never_treated": int((kinds == "never").sum()),
    "units_always_treated": sorted(int(c) for c, (k, _) in units.items() if k == "always"),
    "coefficients": coefs,
    "pre_trend": {"leads": leads, "wald_chi2": w, "f": f_stat, "df1": len(leads), "df2": G - 1, "p_value": p},
    "post_mean": {"periods": post, "estimate": post_mean, "std_error": post_se},
}
OUT.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps({k: v for k, v in out.items() if k != "coefficients"}, indent=1))
