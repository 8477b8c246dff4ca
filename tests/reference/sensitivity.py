#!/usr/bin/env python3
"""Reference values for concord's sensitivity to omitted confounding
(Cinelli & Hazlett 2020; src/inference/sensitivity.rs, src/study/sensitivity.rs;
checked by tests/sensitivity.rs).

PySensemakr (version in the JSON) on a small seeded
panel that this script simulates and writes to tests/fixtures/sensitivity.csv
(40 states x 10 years; values rounded to 6 decimals and read back, so both
sides fit the same numbers). Cases, each a statsmodels OLS:

- `ols`:     y ~ d + x1 + x2
- `fe`:      y ~ d + x1 + x2 + C(region): concord absorbs `| region`
- `lpm_fe`:  yb ~ d + x1 + x2 + C(region) on the rows a logit with region
             fixed effects keeps (region 0 has no event, so its rows go),
             concord's linear-probability re-fit of a logit main link

For each: sensemakr's sensitivity_stats (partial R2 of d with the outcome,
RV_1, RV_{1,0.05}), the benchmarks' partial R2 with the treatment and the
outcome (x1, x2), and ovb_partial_r2_bound with kd = ky = 1, 2, 3 with
adjusted_estimate / adjusted_se / adjusted_t (r2dz_x, r2yz_dx, adjusted
estimate, s.e., t and interval, as ovb_bounds computes them; see case() for
why the treatment regression is fitted here).

Re-run (PySensemakr 0.0.8 indexes pandas Series by position, which pandas 3
refuses, so in a virtual environment with pandas 2):
    python3 -m venv /tmp/sensvenv && /tmp/sensvenv/bin/pip install PySensemakr "pandas<3"
    /tmp/sensvenv/bin/python tests/reference/sensitivity.py
"""
import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
import sensemakr
from sensemakr import sensitivity_statistics as ss
from sensemakr import sensitivity_bounds as sb
from sensemakr import bias_functions as bf
from scipy.stats import t as t_dist

ROOT = pathlib.Path(__file__).resolve().parents[2]
CSV = ROOT / "tests" / "fixtures" / "sensitivity.csv"
OUT = ROOT / "tests" / "reference" / "sensitivity.json"


def simulate():
    rng = np.random.default_rng(20261129)
    units, years = 40, 10
    ccode = np.repeat(np.arange(1, units + 1), years)
    year = np.tile(np.arange(2000, 2000 + years), units)
    region = ccode % 8
    fe_d = rng.normal(0, 0.7, 8)[region]
    fe_y = rng.normal(0, 1.0, 8)[region]
    n = units * years
    x1 = rng.normal(0, 1, n)
    x2 = rng.normal(0, 1, n)
    d = 0.35 * x1 + 0.25 * x2 + fe_d + rng.normal(0, 1, n)
    y = 0.25 * d + 0.4 * x1 - 0.6 * x2 + fe_y + rng.normal(0, 1.5, n)
    latent = 0.4 * d + 0.3 * x1 - 0.2 * x2 + rng.logistic(0, 1, n)
    yb = ((latent > 1.0) & (region != 0)).astype(int)
    df = pd.DataFrame(
        {"ccode": ccode, "year": year, "region": region, "y": y, "yb": yb, "d": d, "x1": x1, "x2": x2}
    )
    for c in ["y", "d", "x1", "x2"]:
        df[c] = df[c].round(6)
    df.to_csv(CSV, index=False, float_format="%.6f")
    return pd.read_csv(CSV)


def case(name, df, formula, outcome, fe):
    model = smf.ols(formula, data=df).fit()
    stats = ss.sensitivity_stats(model=model, treatment="d", q=1, alpha=0.05)
    row = {k: float(np.asarray(v).ravel()[0]) for k, v in stats.items() if k != "treatment"}
    # The benchmarks' partial R2: with the outcome from the model, with the
    # treatment from the regression of d on the other regressors (R
    # sensemakr's `update(model, d ~ . - d)`). PySensemakr 0.0.8's
    # ovb_bounds(model=...) fits that regression with a second constant
    # column, which moves the benchmark's t (x1 here: partial R2 0.1330
    # instead of 0.1381), so its formulas get these partial R2 instead; its
    # model-path values are kept as `pysensemakr_model_path` for the record.
    treat = smf.ols("d ~ " + formula.split("~", 1)[1].replace("d + ", "", 1), data=df).fit()
    names = ["x1", "x2"]
    r2dxj = [float(ss.partial_r2(model=treat, covariates=b)) for b in names]
    r2yxj = [float(ss.partial_r2(model=model, covariates=b)) for b in names]
    bounds = sb.ovb_partial_r2_bound(r2dxj_x=r2dxj, r2yxj_dx=r2yxj, benchmark_covariates=names, kd=[1, 2, 3])
    est, se, dof = row["estimate"], row["se"], int(row["dof"])
    r2dz, r2yz = bounds["r2dz_x"].to_numpy(), bounds["r2yz_dx"].to_numpy()
    adj = bf.adjusted_estimate(r2dz, r2yz, estimate=est, se=se, dof=dof)
    adj_se = bf.adjusted_se(r2dz, r2yz, se=se, dof=dof)
    adj_t = bf.adjusted_t(r2dz, r2yz, estimate=est, se=se, dof=dof)
    crit = abs(t_dist.ppf(0.05 / 2, model.df_resid))
    model_path = sb.ovb_bounds(model=model, treatment="d", benchmark_covariates=names, kd=[1, 2, 3], alpha=0.05)
    return {
        "id": name,
        "formula": formula,
        "outcome": outcome,
        "fixed_effects": fe,
        "nobs": int(model.nobs),
        "estimate": est,
        "std_error": se,
        "t_statistic": row["t_statistic"],
        "dof": row["dof"],
        "partial_r2": row["r2yd_x"],
        "rv_q": row["rv_q"],
        "rv_qa": row["rv_qa"],
        "benchmarks": [
            {"covariate": b, "r2dxj_x": d, "r2yxj_dx": y} for b, d, y in zip(names, r2dxj, r2yxj)
        ],
        "bounds": [
            {
                "label": bounds["bound_label"][i],
                "r2dz_x": float(r2dz[i]),
                "r2yz_dx": float(r2yz[i]),
                "adjusted_estimate": float(adj[i]),
                "adjusted_se": float(adj_se[i]),
                "adjusted_t": float(adj_t[i]),
                "adjusted_lower": float(adj[i] - crit * adj_se[i]),
                "adjusted_upper": float(adj[i] + crit * adj_se[i]),
            }
            for i in range(len(bounds))
        ],
        "pysensemakr_model_path": [
            {"label": r["bound_label"], "r2dz_x": float(r["r2dz_x"]), "adjusted_estimate": float(r["adjusted_estimate"])}
            for _, r in model_path.iterrows()
        ],
    }


def main():
    # PySensemakr 0.0.8 divides by a zero critical f for RV_q (alpha = 1),
    # indexes Series by position and fits its treatment model with a second
    # constant (rank-deficient, solved by pinv): harmless warnings.
    warnings.simplefilter("ignore")
    df = simulate()
    # A logit with region effects drops the regions whose outcome never varies.
    varies = df.groupby("region")["yb"].transform(lambda s: s.nunique() > 1)
    kept = df[varies].reset_index(drop=True)
    assert len(kept) < len(df), "the fixture has a region without events"
    cases = [
        case("ols", df, "y ~ d + x1 + x2", "y", None),
        case("fe", df, "y ~ d + x1 + x2 + C(region)", "y", "region"),
        case("lpm_fe", kept, "yb ~ d + x1 + x2 + C(region)", "yb", "region"),
    ]
    out = {
        "source": "PySensemakr " + getattr(sensemakr, "__version__", "?") + " (sensitivity_stats, ovb_bounds)",
        "fixture": "tests/fixtures/sensitivity.csv",
        "cases": cases,
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} and {CSV}: {len(cases)} cases")


if __name__ == "__main__":
    main()
