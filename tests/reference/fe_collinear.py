#!/usr/bin/env python3
"""Reference fits for regressors collinear with absorbed fixed effects
(tests/collinear.rs): pyfixest drops them (fixest's rule: a pivot of the
Cholesky of the demeaned cross-product below collin_tol) and the remaining
coefficients and standard errors are those of the model without them.

Columns derived here and in the Rust test from tests/fixtures/sim_panel.csv
(unit 1..120, time 2000..2014, region = unit % 4 + 1):
    post  = 1 if time >= 2007          (absorbed by time fixed effects)
    region                             (constant within unit: absorbed by unit fixed effects)
    combo = x1 + 0.5 region + 0.01 (time - 2000)
                                       (x1 plus a combination of the unit and time effects)
and on the real state-year panel post_cold_war = 1 if year >= 1990 (the
period dummy of the published table, absorbed by year fixed effects).

Re-run:
    target/release/concord data build --unit state-year --data-dir ../shared/data --out /tmp/state_year.parquet
    python3 tests/reference/fe_collinear.py /tmp/state_year.parquet
"""
import json, pathlib, sys

import pandas as pd
import pyfixest as pf

HERE = pathlib.Path(__file__).resolve().parent
SIM = HERE.parent / "fixtures" / "sim_panel.csv"

cases = []


def run(data, df, formula, family, vcov, dropped):
    cl = {"CRV1": vcov.split(":")[1]}
    if family == "gaussian":
        fit = pf.feols(formula, data=df, vcov=cl, fixef_rm="singleton")
    elif family == "poisson":
        fit = pf.fepois(formula, data=df, vcov=cl, fixef_rm="singleton", iwls_tol=1e-12, iwls_maxiter=100)
    else:
        fit = pf.feglm(formula, data=df, family=family, vcov=cl, fixef_rm="singleton", iwls_tol=1e-12)
    collin = list(fit._collin_vars)
    assert collin == dropped, (formula, collin)
    t = fit.tidy()
    coefs = {i: [float(r["Estimate"]), float(r["Std. Error"])] for i, r in t.iterrows()}
    cases.append(dict(id=f"{data}|{family}|{formula}|{vcov}", data=data, formula=formula, family=family, vcov=vcov,
                      nobs=int(fit._N), dropped=collin, coefficients=coefs, tool=f"pyfixest {pf.__version__}"))


def main():
    sim = pd.read_csv(SIM)
    sim["post"] = (sim["time"] >= 2007).astype(int)
    sim["combo"] = sim["x1"] + 0.5 * sim["region"] + 0.01 * (sim["time"] - 2000)
    run("sim", sim, "y ~ x1 + x2 + post | time", "gaussian", "cluster:unit", ["post"])
    run("sim", sim, "y ~ x1 + region + x2 | unit", "gaussian", "cluster:unit", ["region"])
    run("sim", sim, "y ~ x1 + x2 + combo | unit + time", "gaussian", "cluster:unit", ["combo"])
    run("sim", sim, "ybin ~ x1 + x2 + post | time", "logit", "cluster:unit", ["post"])
    run("sim", sim, "ycnt ~ x1 + x2 + region | unit", "poisson", "cluster:unit", ["region"])
    run("sim", sim, "ycnt ~ x1 + post + x2 + combo | unit + time", "poisson", "cluster:unit", ["post", "combo"])
    if len(sys.argv) > 1:
        sy = pd.read_parquet(sys.argv[1])
        sy["post_cold_war"] = (sy["year"] >= 1990).astype(int)
        run("state_year", sy, "unga_agree_majority ~ igo_full + post_cold_war + polity2 | ccode + year", "gaussian",
            "cluster:ccode", ["post_cold_war"])
    out = dict(source="tests/reference/fe_collinear.py", cases=cases)
    (HERE / "fe_collinear.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
