#!/usr/bin/env python3
"""Cox proportional hazards (Efron ties, lifelines' only method) from
lifelines, on the simulated counting-process panel tests/fixtures/sim_surv.csv:
a second reference beside R's survival::coxph (survival.R). tests/survival.rs
(cox_matches_lifelines) reads tests/reference/lifelines_cox.json, in the case
format of survival.json.

- CoxTimeVaryingFitter on the (start, stop] rows, with and without strata;
  model-based covariance.
- Not the cluster-robust covariance: lifelines' CoxTimeVaryingFitter has none
  (robust = True raises NotImplementedError), and CoxPHFitter's robust
  variance does not reproduce R's coxph(robust = TRUE): on the last row of
  each of the 150 subjects (no delayed entry) its variances are R's times
  0.9866 (148/150), and with entry_col its clustered errors differ by 13%.
  The Lin-Wei covariance is pinned against R's coxph in survival.json.

    pip install lifelines pandas
    python3 tests/reference/lifelines_cox.py
"""
import json, pathlib, warnings

import lifelines
import pandas as pd
from lifelines import CoxTimeVaryingFitter

warnings.filterwarnings("ignore")
HERE = pathlib.Path(__file__).resolve().parent
df = pd.read_csv(HERE.parent / "fixtures" / "sim_surv.csv")
OPTS = {"precision": 1e-12, "max_steps": 500, "step_size": 1.0}
cases = []


def add(formula, vcov, model, n):
    coefs = {k: [float(model.params_[k]), float(model.standard_errors_[k])] for k in model.params_.index}
    cases.append({
        "id": f"sim_surv|{formula}|efron|{vcov}", "data": "sim_surv", "formula": formula, "ties": "efron",
        "vcov": vcov, "nobs": int(n), "events": int(df["event"].sum()),
        "loglik": float(model.log_likelihood_), "coefficients": coefs,
        "tool": f"lifelines {lifelines.__version__}",
    })


for strata, suffix in [(None, ""), (["s"], " + strata(s)")]:
    formula = f"Surv(start, stop, event) ~ x1 + x2{suffix}"
    cols = ["id", "start", "stop", "event", "x1", "x2"] + (strata or [])
    ctv = CoxTimeVaryingFitter()
    ctv.fit(df[cols], event_col="event", start_col="start", stop_col="stop", id_col="id", strata=strata,
            fit_options=OPTS)
    add(formula, "iid", ctv, len(df))

(HERE / "lifelines_cox.json").write_text(json.dumps({"generator": "tests/reference/lifelines_cox.py", "cox": cases}, indent=1) + "\n")
print(len(cases), "cases written")
for c in cases:
    print(c["id"], c["coefficients"], c["loglik"])
