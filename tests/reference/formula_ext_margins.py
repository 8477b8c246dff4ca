#!/usr/bin/env python3
"""Average marginal effects through extended formula terms, for concord's
`--margins` on models written with the syntax of formula_ext.json.

Same method, field names and conventions as tests/reference/margins.py (its
Margins class is imported from there, unchanged): statsmodels/patsy fit on the
rows without NA (1797); the AME of a continuous variable is the
Richardson-extrapolated centred difference (step 1e-4 sd) of the average
prediction over the estimation rows, every term built from the variable
moving with it (patsy rebuilds the design from the modified data); a 0/1
variable gets the average difference between all-1 and all-0; delta-method
s.e. from a numerical Jacobian and statsmodels' (model-based) covariance;
counterfactual average predictions with 95% intervals.

Formulas (concord / fixest syntax -> patsy):
  ybin ~ x1 + I(x1^2) + log(abs(x2) + 1) + d  ->  ybin ~ x1 + I(x1**2) + np.log(np.abs(x2) + 1) + d
  ycnt ~ x1 + I(x1*x2) + exp(x2/4)            ->  ycnt ~ x1 + I(x1*x2) + np.exp(x2/4)
  y ~ x1 + i(region, x2)                      ->  y ~ x1 + C(region):x2   (one x2 slope per region)
Coefficients are stored under fixest's names; when Rscript and fixest (in
~/.local/share/R/fixest-lib) are available the same models are fitted by
fixest and names and estimates asserted equal ("fixest_check").

Writes the "margins" key of tests/reference/formula_ext.json, leaving the rest
of the file as it is. Run after formula_ext.R (which rewrites the file):
    python3 tests/reference/formula_ext_margins.py
"""
import json, os, pathlib, re, shutil, subprocess, sys, tempfile

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from margins import Margins  # noqa: E402  (the method of margins.py, unchanged)

import patsy, scipy, statsmodels  # noqa: E402

JSON = HERE / "formula_ext.json"
FIX = HERE.parent / "fixtures" / "sim_panel.csv"
FIXEST_LIB = pathlib.Path.home() / ".local/share/R/fixest-lib"

# patsy column name -> fixest / concord coefficient name
NAMES = {
    "Intercept": "(Intercept)",
    "I(x1**2)": "I(x1^2)",
    "np.log(np.abs(x2) + 1)": "log(abs(x2) + 1)",
    "I(x1*x2)": "I(x1 * x2)",
    "np.exp(x2/4)": "exp(x2/4)",
}


def concord_name(t):
    key = t.replace(" ", "")  # patsy re-spaces Python code: I(x1**2) -> I(x1 ** 2)
    for k, v in NAMES.items():
        if k.replace(" ", "") == key:
            return v
    m = re.match(r"^C\((\w+)\)\[(\w+)\]:(\w+)$", t)
    if m:
        return f"{m.group(1)}::{m.group(2)}:{m.group(3)}"
    return t


CASES = [
    dict(id="logit transforms (square, log abs)", family="logit",
         patsy="ybin ~ x1 + I(x1**2) + np.log(np.abs(x2) + 1) + d",
         formula="ybin ~ x1 + I(x1^2) + log(abs(x2) + 1) + d",
         variables=["x1", "x2", "d"], predictions=[{"x1": 1.0}, {"x2": -2.0, "d": 1.0}]),
    dict(id="poisson product and exp", family="poisson",
         patsy="ycnt ~ x1 + I(x1*x2) + np.exp(x2/4)",
         formula="ycnt ~ x1 + I(x1*x2) + exp(x2/4)",
         variables=["x1", "x2"], predictions=[{"x2": 1.0}]),
    dict(id="ols i(region, x2) slopes", family="gaussian",
         patsy="y ~ x1 + C(region):x2",
         formula="y ~ x1 + i(region, x2)",
         variables=["x1", "x2"], predictions=[{"x2": 0.5}]),
]

R_FIT = {"gaussian": "feols({f}, d)", "logit": "feglm({f}, d, family = binomial('logit'), glm.tol = 1e-12)",
         "poisson": "fepois({f}, d, glm.tol = 1e-12)"}


def fixest_coefs():
    """{case id: {name: estimate}} from R fixest, or None when unavailable."""
    if shutil.which("Rscript") is None or not FIXEST_LIB.exists():
        return None
    out = pathlib.Path(tempfile.mkdtemp()) / "coefs.csv"
    fits = "\n".join(
        f"b <- coef({R_FIT[c['family']].format(f=c['formula'])}); "
        f"r <- rbind(r, data.frame(case = {i}, name = names(b), est = sprintf('%.17g', b)))"
        for i, c in enumerate(CASES))
    code = (f".libPaths(c('{FIXEST_LIB}', .libPaths())); suppressMessages(library(fixest)); "
            f"d <- read.csv('{FIX}'); r <- NULL\n{fits}\nwrite.csv(r, '{out}', row.names = FALSE)")
    subprocess.run(["Rscript", "-e", code], check=True, capture_output=True)
    t = pd.read_csv(out)
    res = {CASES[i]["id"]: dict(zip(g["name"], g["est"].astype(float))) for i, g in t.groupby("case")}
    ver = subprocess.run(["Rscript", "-e", f".libPaths(c('{FIXEST_LIB}', .libPaths())); "
                          "cat(as.character(packageVersion('fixest')))"], capture_output=True, text=True).stdout
    return res, ver


def main():
    sim = pd.read_csv(FIX)
    s = sim.dropna(subset=["x2"]).reset_index(drop=True)
    # abs() has a kink at 0: no row may lie within the difference stencil (2 steps) of it.
    for v in ("x1", "x2"):
        assert (s[v].abs() > 2e-4 * s[v].std()).all(), v
    fx = fixest_coefs()
    out = []
    for c in CASES:
        m = Margins(c["family"], c["patsy"], s, c["variables"])
        coefs = {concord_name(k): float(v) for k, v in m.res.params.items()}
        case = dict(id=c["id"], dataset="sim", family=c["family"], formula=c["formula"], nobs=int(m.res.nobs),
                    coefficients=coefs, ames={v: list(m.slope(v)) for v in c["variables"]},
                    predictions=[dict(set=p, prediction=m.predict(p)) for p in c["predictions"]],
                    patsy_formula=c["patsy"])
        if fx is not None:
            ref, ver = fx
            r = ref[c["id"]]
            assert list(r) == list(coefs), (c["id"], list(r), list(coefs))
            d = max(abs(r[k] - coefs[k]) / max(abs(r[k]), 1e-8) for k in r)
            assert d < 1e-7, (c["id"], d)
            case["fixest_check"] = f"fixest {ver}: same coefficient names, estimates within {d:.1e} (relative)"
        out.append(case)
    # The AME of x2 under i(region, x2) is the row-share-weighted mean of the region slopes.
    ols = out[2]
    share = s["region"].value_counts(normalize=True).sort_index()
    expect = sum(share[r] * ols["coefficients"][f"region::{r}:x2"] for r in share.index)
    assert abs(ols["ames"]["x2"][0] - expect) < 1e-9, (ols["ames"]["x2"], expect)
    # Analytic AMEs and delta-method s.e. of the logit case (closed-form
    # derivatives of the average probability in x and in the coefficients).
    # The AME of x2 is small (0.0003) against its s.e., and the numerical
    # Jacobian of margins.py carries about 2.5e-4 relative error in that s.e.;
    # the analytic values replace the numerical ones, which must agree with
    # them to 1e-6 (estimate) / 5e-4 (s.e.).
    logit = out[0]
    m = Margins(CASES[0]["family"], CASES[0]["patsy"], s, CASES[0]["variables"])
    b, V = m.res.params.to_numpy(), m.res.cov_params().to_numpy()
    X = np.column_stack([np.ones(len(s)), s.x1, s.x1**2, np.log(s.x2.abs() + 1), s.d])
    p_ = 1 / (1 + np.exp(-(X @ b)))
    w, dw = p_ * (1 - p_), p_ * (1 - p_) * (1 - 2 * p_)
    for v, dx, extra in (("x1", b[1] + 2 * b[2] * s.x1.to_numpy(), {1: 1.0, 2: "2x1"}),
                         ("x2", b[3] * np.sign(s.x2.to_numpy()) / (s.x2.abs().to_numpy() + 1), {3: "dl"})):
        ame = np.mean(w * dx)
        J = np.array([np.mean(dw * X[:, j] * dx) for j in range(X.shape[1])])
        for j, e in extra.items():
            term = {1.0: np.ones(len(s)), "2x1": 2 * s.x1.to_numpy(),
                    "dl": np.sign(s.x2.to_numpy()) / (s.x2.abs().to_numpy() + 1)}[e]
            J[j] += np.mean(w * term)
        se = float(np.sqrt(J @ V @ J))
        num = logit["ames"][v]
        assert abs(num[0] - ame) < 1e-6 * abs(ame) and abs(num[1] - se) < 5e-4 * se, (v, num, ame, se)
        logit["ames"][v] = [float(ame), se]
    logit["analytic"] = "AMEs of x1 and x2 (and their s.e.) in closed form; numerical ones agreed to 1e-6 / 5e-4"
    j = json.loads(JSON.read_text())
    j["margins"] = dict(
        method="tests/reference/margins.py's Margins (imported): Richardson centred differences of the average "
               "prediction (step 1e-4 sd), 0/1 variables all-1 minus all-0, delta-method s.e. with statsmodels' "
               "model-based covariance (no small-sample factor without fixed effects)",
        versions=dict(statsmodels=statsmodels.__version__, patsy=patsy.__version__, numpy=np.__version__,
                      scipy=scipy.__version__, pandas=pd.__version__),
        cases=out)
    JSON.write_text(json.dumps(j, indent=1) + "\n")
    for c in out:
        print(c["id"], {k: [f"{v:.6g}" for v in x] for k, x in c["ames"].items()},
              [f"{p['prediction'][0]:.6g}" for p in c["predictions"]], c.get("fixest_check", "fixest not checked"))


if __name__ == "__main__":
    main()
