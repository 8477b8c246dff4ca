#!/usr/bin/env python3
"""An independent pyfixest reference for the ICC event study of the flagship
study on the real state-year panel: concord's `[[event_study]]` "icc" of
studies/socialization.toml (mid_onset around the first year icc_member = 1,
window 4, state and year fixed effects, errors clustered by state), whose
result concord writes to reports/socialization/event_study.json.

Input: reports/panels/state_year.parquet (columns ccode, year, icc_member,
mid_onset), years 1946-2014 (the study's [data] from/to).
Output: tests/reference/event_study_icc_real.json.

The event-study rule is that of docs/study-file.md ("[[event_study]]") and
src/study/event_study.rs, as re-implemented on simulated data by
tests/reference/event_study_icc.py, adapted to the real panel:
- roles are decided per state from the rows in 1946-2014 where icc_member is
  recorded (rows with it missing are left out; the outcome plays no part);
  the first recorded year with 1 is the joining year;
- never members (0 in every recorded year) keep every recorded row with
  rel_year = -1, the reference, so they only inform the fixed effects;
- states that are members in their first recorded year are left out (listed);
- a state with a 1 followed later by a 0 (a withdrawal) stops the script, as
  concord's default `switching_off = "error"` stops the run (the study does
  not set `switching_off`); none does in this panel;
- joiners get rel_year = year - joining year, clamped to [-4, 4];
- rows with a missing outcome (none here) drop out in the fit, and pyfixest
  drops fixed-effect singletons (repeatedly), as concord does.

Fit: pyfixest feols("mid_onset ~ i(rel_year, ref=-1) | ccode + year",
vcov = {"CRV1": "ccode"}, fixef_tol = 1e-12), pyfixest's default
small-sample correction (G/(G-1) * (N-1)/(N-K), K counting the year effects
but not the state effects, nested in the clusters; fixest's default). The
demeaning tolerance is tightened from pyfixest's 1e-6 so that the standard
errors are converged (at the default they move by ~1e-8 relative; the JSON
records by how much, under default_fixef_tol_fit).
Pre-trend: the Wald test of the leads (-4 binned, -3, -2) jointly zero,
F = W / 3 with W from pyfixest's wald_test (chi2 form), on F(3, G - 1) as
fixest does for clustered errors (G = states). Post-period mean: the
average of the coefficients of 0..4 with its standard error from the
clustered vcov (normal 95% interval and two-sided p on t(G - 1) are given
too, as concord reports them).

Re-run (from the repository root; rewrites the JSON only, reads the parquet):
    python3 tests/reference/event_study_icc_real.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import stats

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PANEL = ROOT / "reports" / "panels" / "state_year.parquet"
OUT = HERE / "event_study_icc_real.json"
WINDOW = 4
FROM, TO = 1946, 2014

raw = pd.read_parquet(PANEL, columns=["ccode", "year", "icc_member", "mid_onset"])
df = raw[(raw.year >= FROM) & (raw.year <= TO)].copy()
assert not df.duplicated(["ccode", "year"]).any()

# Roles from the recorded treatment.
obs = df[df.icc_member.notna()].copy()
assert set(obs.icc_member.unique()) <= {0.0, 1.0}
units = {}
for c, g in obs.sort_values("year").groupby("ccode"):
    yrs = g.year.to_numpy()
    v = g.icc_member.to_numpy()
    on = yrs[v == 1]
    if len(on) == 0:
        units[int(c)] = ("never", None)
        continue
    first = int(on[0])
    off = yrs[(yrs > first) & (v == 0)]
    if len(off):
        raise SystemExit(f"ccode {c}: icc_member is 1 in {first}, 0 in {int(off[0])} (switches off)")
    units[int(c)] = ("always", None) if v[0] == 1 else ("join", first)

keep = obs[obs.ccode.map(lambda c: units[int(c)][0] != "always")].copy()
keep["rel_year"] = [
    -1 if units[int(c)][0] == "never" else int(np.clip(y - units[int(c)][1], -WINDOW, WINDOW))
    for c, y in zip(keep.ccode, keep.year)
]
keep["ccode"] = keep.ccode.astype(int)
keep["year"] = keep.year.astype(int)
keep["mid_onset"] = keep.mid_onset.astype(float)
keep = keep.reset_index(drop=True)

formula = "mid_onset ~ i(rel_year, ref=-1) | ccode + year"
# The fit, with the demeaning converged to 1e-12: pyfixest's default
# tolerance (1e-6) leaves the standard errors off by ~1e-8 relative (the
# coefficients by ~1e-11); the default fit is kept for the record.
FIXEF_TOL = 1e-12
fit = pf.feols(formula, data=keep, vcov={"CRV1": "ccode"}, fixef_tol=FIXEF_TOL)
fit_default = pf.feols(formula, data=keep, vcov={"CRV1": "ccode"})
tidy = fit.tidy()
names = list(tidy.index)
beta = tidy["Estimate"].to_numpy()
V = np.asarray(fit._vcov)
G = int(np.min(fit._G))
coefs = {
    t.split("::")[1]: {
        "term": t,
        "estimate": float(r["Estimate"]),
        "std_error": float(r["Std. Error"]),
        "p_value": float(r["Pr(>|t|)"]),
    }
    for t, r in tidy.iterrows()
}

td = fit_default.tidy()
default_tol = {
    "max_rel_diff_estimate": float(np.max(np.abs(td["Estimate"] / tidy["Estimate"] - 1))),
    "max_rel_diff_std_error": float(np.max(np.abs(td["Std. Error"] / tidy["Std. Error"] - 1))),
}

# Pre-trend: leads jointly zero.
leads = [f"rel_year::{k}" for k in range(-WINDOW, -1)]
R = np.zeros((len(leads), len(names)))
for j, t in enumerate(leads):
    R[j, names.index(t)] = 1.0
w = float(fit.wald_test(R=R, distribution="chi2")["statistic"])
d = R @ beta
assert abs(float(d @ np.linalg.solve(R @ V @ R.T, d)) - w) < 1e-8 * max(1.0, w)
f_stat = w / len(leads)
p_pre = float(stats.f.sf(f_stat, len(leads), G - 1))

# Post-period mean.
post = [f"rel_year::{k}" for k in range(0, WINDOW + 1)]
wts = np.array([1.0 / len(post) if t in post else 0.0 for t in names])
post_mean = float(wts @ beta)
post_se = float(np.sqrt(wts @ V @ wts))
tq = float(stats.t.ppf(0.975, G - 1))
post_p = float(2 * stats.t.sf(abs(post_mean / post_se), G - 1))

# Who is in the estimation sample (after missing outcomes and singletons).
# (pyfixest keeps the input's row labels on the rows it fits.)
used = keep.loc[fit._data.index]
assert len(used) == int(fit._N) and (used.mid_onset.to_numpy() == fit._data.mid_onset.to_numpy()).all()
kinds = pd.Series({c: units[int(c)][0] for c in used.ccode.unique()})
assert G == used.ccode.nunique()
cohorts = pd.Series({c: units[int(c)][1] for c in used.ccode.unique() if units[int(c)][0] == "join"})
treated_rows = used[used.ccode.map(lambda c: units[int(c)][0] == "join")].rel_year.value_counts().sort_index()

out = {
    "source": "reports/panels/state_year.parquet",
    "pyfixest_version": pf.__version__,
    "formula": "mid_onset ~ i(rel_year, ref = -1) | ccode + year",
    "vcov": "CRV1:ccode",
    "window": WINDOW,
    "years": [FROM, TO],
    "rows_in_years": int(len(df)),
    "rows_missing_treatment": int(df.icc_member.isna().sum()),
    "rows_missing_outcome": int(keep.mid_onset.isna().sum()),
    "nobs": int(fit._N),
    "clusters": G,
    "units_treated": int((kinds == "join").sum()),
    "units_never_treated": int((kinds == "never").sum()),
    "units_always_treated": sorted(c for c, (k, _) in units.items() if k == "always"),
    "units_switching_off": [],
    "cohorts": {str(int(k)): int(v) for k, v in cohorts.value_counts().sort_index().items()},
    "treated_rows": {str(int(k)): int(v) for k, v in treated_rows.items()},
    "fixef_tol": FIXEF_TOL,
    "default_fixef_tol_fit": default_tol,
    "coefficients": coefs,
    "pre_trend": {
        "leads": leads,
        "wald_chi2": w,
        "f": f_stat,
        "df1": len(leads),
        "df2": G - 1,
        "p_value": p_pre,
    },
    "post_mean": {
        "periods": post,
        "estimate": post_mean,
        "std_error": post_se,
        "conf_low": post_mean - tq * post_se,
        "conf_high": post_mean + tq * post_se,
        "p_value": post_p,
    },
}
OUT.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps({k: v for k, v in out.items() if k != "coefficients"}, indent=1))
