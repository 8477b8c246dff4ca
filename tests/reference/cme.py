#!/usr/bin/env python3
"""Reference conditional marginal effects for tests/scenarios.rs (`concord plot cme`).

Brambor, Clark and Golder (2006): in a model with x, z and x:z, the effect of
x on the linear scale at z is b_x + b_xz z; its standard error is that of the
linear combination. Here statsmodels fits the same models on
tests/fixtures/study_dyads.csv and `t_test` evaluates the combinations (its
own delta method, i.e. r' V r) at three values of the moderator, for:

* a logit with errors clustered by ccode1 (statsmodels' default correction
  G/(G-1) (n-1)/(n-k), normal distribution),
* OLS with iid errors (t distribution),
* a logit with a 0/1 moderator (iid): the effects at 0 and 1 and their
  difference, b_xz.

Run from the repository:  python3 tests/reference/cme.py
Writes tests/reference/cme.json (versions recorded in it).
"""
import json, pathlib

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.formula.api as smf

HERE = pathlib.Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "study_dyads.csv"


def effects(res, x, inter, zs):
    names = list(res.params.index)
    out = []
    for z in zs:
        r = np.zeros(len(names))
        r[names.index(x)] = 1.0
        r[names.index(inter)] = z
        t = res.t_test(r)
        lo, hi = np.asarray(t.conf_int(alpha=0.05)).ravel()
        out.append({"z": z, "estimate": float(np.squeeze(t.effect)), "std_error": float(np.squeeze(t.sd)),
                    "conf_low": float(lo), "conf_high": float(hi)})
    return out


def main():
    df = pd.read_csv(FIX)
    cases = []
    # Logit, clustered by ccode1.
    f = "mid_onset ~ dyadigos*unga_affinity + peace_years"
    res = smf.logit(f, df).fit(method="newton", tol=1e-14, maxiter=200, disp=False,
                               cov_type="cluster", cov_kwds={"groups": df["ccode1"]})
    cases.append({"id": "logit_cluster", "family": "logit", "formula": f, "vcov": "cluster:ccode1",
                  "x": "dyadigos", "z": "unga_affinity", "interaction": "dyadigos:unga_affinity",
                  "effects": effects(res, "dyadigos", "dyadigos:unga_affinity", [0.3, 0.5, 0.8])})
    # OLS, iid.
    f = "unga_affinity ~ dyadigos*peace_years + land_contiguity"
    res = smf.ols(f, df).fit()
    cases.append({"id": "ols_iid", "family": "ols", "formula": f, "vcov": "iid",
                  "x": "dyadigos", "z": "peace_years", "interaction": "dyadigos:peace_years",
                  "effects": effects(res, "dyadigos", "dyadigos:peace_years", [0.0, 10.0, 20.0])})
    # Logit with a 0/1 moderator, iid: effects at 0 and 1, and their difference.
    f = "mid_onset ~ dyadigos*land_contiguity + peace_years"
    res = smf.logit(f, df).fit(method="newton", tol=1e-14, maxiter=200, disp=False)
    inter = "dyadigos:land_contiguity"
    diff = res.t_test(np.eye(len(res.params))[list(res.params.index).index(inter)])
    lo, hi = np.asarray(diff.conf_int(alpha=0.05)).ravel()
    cases.append({"id": "logit_binary", "family": "logit", "formula": f, "vcov": "iid",
                  "x": "dyadigos", "z": "land_contiguity", "interaction": inter,
                  "effects": effects(res, "dyadigos", inter, [0.0, 1.0]),
                  "difference": {"estimate": float(np.squeeze(diff.effect)), "std_error": float(np.squeeze(diff.sd)),
                                 "conf_low": float(lo), "conf_high": float(hi)}})
    out = {
        "fixture": "tests/fixtures/study_dyads.csv",
        "versions": {"statsmodels": statsmodels.__version__, "pandas": pd.__version__, "numpy": np.__version__},
        "cases": cases,
    }
    (HERE / "cme.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {HERE / 'cme.json'}")


if __name__ == "__main__":
    main()
