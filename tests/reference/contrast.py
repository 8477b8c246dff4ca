#!/usr/bin/env python3
"""Reference values for concord's period contrast of a link (the second
difference of average marginal effects; src/inference/margins.rs
`second_difference`, src/study/contrast.rs; checked by tests/contrast.rs).

A seeded panel (60 states x 20 years, 1970-1989; written to
tests/fixtures/contrast.csv with values rounded to 8 decimals and read back,
so both sides fit the same numbers): periods `early` (1970-1979) and `late`
(1980-1989), `in_late` its indicator, a 0/1 outcome `y` whose logit slope in
`x` is -0.4 early and -1.0 late, a control `z`, year effects.

Cases, each a statsmodels fit with the year effects as dummies:
- `logit`:    Logit  y ~ x + x:in_late + z + C(year)
- `probit`:   GLM binomial(probit) y ~ x + x:in_late + z + C(year) (IRLS)
- `gaussian`: OLS    y ~ x + x:in_late + z + C(year)

For each: the average marginal effect of x in each period and their
difference, by a centred finite difference of the predicted mean in x (x
moves in both of its columns), averaged over the period's rows, with the
year effects held at their estimates; standard errors by the delta method
with a numerical Jacobian in the non-year coefficients and that block of
the model's (iid) covariance (inverse Hessian times fixest's small-sample
factor (n - 1) / (n - K); OLS: s^2 (X'X)^-1). This
shares no code or formula with concord's analytic gradient.

Re-run: python3 tests/reference/contrast.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
from scipy.stats import norm

ROOT = pathlib.Path(__file__).resolve().parents[2]
CSV = ROOT / "tests" / "fixtures" / "contrast.csv"
OUT = ROOT / "tests" / "reference" / "contrast.json"


def simulate():
    rng = np.random.default_rng(20261202)
    units, years = 60, np.arange(1970, 1990)
    ccode = np.repeat(np.arange(1, units + 1), len(years))
    year = np.tile(years, units)
    in_late = (year >= 1980).astype(float)
    u = np.repeat(rng.normal(0, 0.5, units), len(years))
    x = np.round(u + rng.normal(0, 1, len(year)), 8)
    z = np.round(rng.normal(0, 1, len(year)), 8)
    ye = 0.3 * np.sin(year - 1970)
    eta = -1.0 + ye + (-0.4 - 0.6 * in_late) * x + 0.5 * z
    y = (rng.uniform(size=len(year)) < 1 / (1 + np.exp(-eta))).astype(float)
    df = pd.DataFrame({"ccode": ccode, "year": year, "y": y, "x": x, "z": z, "in_late": in_late})
    df.to_csv(CSV, index=False)
    return pd.read_csv(CSV)


def design(df, x):
    dummies = pd.get_dummies(df["year"], prefix="year", drop_first=True, dtype=float)
    core = pd.DataFrame({"const": 1.0, "x": x, "x:in_late": x * df["in_late"], "z": df["z"]})
    return pd.concat([core, dummies], axis=1)


def case(df, name):
    X = design(df, df["x"])
    y = df["y"]
    if name == "logit":
        fit = sm.Logit(y, X).fit(disp=0, tol=1e-12, maxiter=200)
        mean = lambda e: 1 / (1 + np.exp(-e))
    elif name == "probit":
        # GLM by IRLS: the expected information, as R's glm, fixest and
        # concord (sm.Probit's covariance is the observed one).
        fit = sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.Probit())).fit(tol=1e-13, maxiter=200)
        mean = norm.cdf
    else:
        fit = sm.OLS(y, X).fit()
        mean = lambda e: e
    beta = fit.params.to_numpy()
    cov = fit.cov_params().to_numpy()
    if name != "gaussian":
        # fixest's (and concord's) small-sample factor for a likelihood
        # model's iid covariance: (n - 1) / (n - K), K counting every
        # coefficient with the year effects (OLS's s^2 already divides by n - K).
        n, k = X.shape
        cov = cov * (n - 1) / (n - k)
    core = [0, 1, 2, 3]  # const, x, x:in_late, z (the intercept is absorbed by the year effects in concord)
    fe_part = X.iloc[:, 4:].to_numpy() @ beta[4:] + beta[0]
    late = df["in_late"].to_numpy() == 1.0
    xs = df["x"].to_numpy()
    h = 1e-5

    def ames(b):
        # b: the coefficients of x, x:in_late, z; the year effects (and
        # the intercept) held at their estimates.
        def eta(xv):
            return fe_part + b[0] * xv + b[1] * xv * df["in_late"].to_numpy() + b[2] * df["z"].to_numpy()

        slope = (mean(eta(xs + h)) - mean(eta(xs - h))) / (2 * h)
        first, second = slope[~late].mean(), slope[late].mean()
        return np.array([first, second, second - first])

    b0 = beta[1:4]
    est = ames(b0)
    jac = np.zeros((3, 3))
    for k in range(3):
        step = 1e-6 * max(1.0, abs(b0[k]))
        up, dn = b0.copy(), b0.copy()
        up[k] += step
        dn[k] -= step
        jac[:, k] = (ames(up) - ames(dn)) / (2 * step)
    v = jac @ cov[1:4, 1:4] @ jac.T
    se = np.sqrt(np.diag(v))
    return {
        "case": name,
        "nobs": int(fit.nobs),
        "interaction": float(beta[2]),
        "interaction_se": float(np.sqrt(cov[2, 2])),
        "ame_first": float(est[0]),
        "ame_second": float(est[1]),
        "difference": float(est[2]),
        "se_first": float(se[0]),
        "se_second": float(se[1]),
        "se_difference": float(se[2]),
        "n_first": int((~late).sum()),
        "n_second": int(late.sum()),
    }


def main():
    df = simulate()
    out = {
        "generator": "tests/reference/contrast.py",
        "statsmodels": statsmodels.__version__,
        "tolerance_note": "finite differences: estimates to ~1e-8, standard errors to ~1e-6 (relative)",
        "cases": [case(df, c) for c in ["logit", "probit", "gaussian"]],
    }
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    for c in out["cases"]:
        print(c)


if __name__ == "__main__":
    main()
