"""Reference values for the study layer, from statsmodels (PyPI).

1. Holm and Benjamini-Hochberg adjusted p-values of a fixed p vector
   (statsmodels.stats.multitest.multipletests, methods "holm", "fdr_bh").
2. A logit with a natural cubic spline of x2 with 3 degrees of freedom on
   tests/fixtures/sim_panel.csv: knots at min, quantiles 1/3 and 2/3 (numpy's
   default linear interpolation = R type 7) and max, fitted with patsy's cr()
   basis (mgcv-style natural cubic regression spline, centred). concord builds
   Harrell's truncated-power basis on the same knots: the two span the same
   functions, so the log-likelihood, the fitted values and the coefficient of
   x1 must agree.
3. The effect of x1 at chosen values of x2 in a clustered logit with x1 x x2
   (the report's "effect by year"): t_test of b_x1 + z b_x1:x2.
4. The condition number concord reports: the model-based covariance scaled
   to unit diagonal (numpy eigenvalues), for a logit and an OLS fit.

Run: python3 tests/reference/study_refs.py  (writes study_refs.json beside it)
"""
import json
import pathlib

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
from patsy import dmatrix
from statsmodels.stats.multitest import multipletests

here = pathlib.Path(__file__).parent
p = [0.001, 0.2, 0.012, 0.04, 0.03, 0.5, 0.0001, 0.049, 0.9, 0.011]
out = {
    "statsmodels": statsmodels.__version__,
    "p": p,
    "holm": list(multipletests(p, method="holm")[1]),
    "bh": list(multipletests(p, method="fdr_bh")[1]),
}

df = pd.read_csv(here.parent / "fixtures" / "sim_panel.csv")
# Knots over the non-missing values of x2 (concord's rule), the fit on the
# complete rows.
x = df["x2"].dropna().to_numpy()
inner = [float(v) for v in np.quantile(x, [1 / 3, 2 / 3])]
df = df.dropna(subset=["ybin", "x1", "x2"]).reset_index(drop=True)
spec = (
    f"cr(x2, knots=[{inner[0]!r}, {inner[1]!r}], lower_bound={float(x.min())!r}, "
    f"upper_bound={float(x.max())!r}, constraints='center') - 1"
)
basis = dmatrix(spec, {"x2": df["x2"].to_numpy()}, return_type="dataframe")
X = pd.concat([pd.Series(1.0, index=df.index, name="const"), df["x1"], basis], axis=1)
res = sm.Logit(df["ybin"], X).fit(disp=0, tol=1e-12, maxiter=200)
out["spline_logit"] = {
    "formula": "ybin ~ x1 + ns(x2, 3)",
    "knots": [float(x.min())] + inner + [float(x.max())],
    "loglik": float(res.llf),
    "x1": float(res.params["x1"]),
    "x1_se": float(res.bse["x1"]),
    "fitted_first5": [float(v) for v in res.predict()[:5]],
}
import statsmodels.formula.api as smf
inter = smf.logit("ybin ~ x1 + x2 + x1:x2", df).fit(
    disp=0, tol=1e-12, maxiter=200, cov_type="cluster", cov_kwds={"groups": df["unit"]})
out["effect_at"] = {
    "formula": "ybin ~ x1 + x2 + x1:x2",
    "vcov": "cluster:unit",
    "at": [[z, float(inter.t_test(f"x1 + {z} * x1:x2 = 0").effect[0]),
            float(inter.t_test(f"x1 + {z} * x1:x2 = 0").sd[0, 0])] for z in (-1.5, 0.0, 0.7, 2.0)],
}
def scaled_condition(cov):
    d = np.sqrt(np.diag(cov))
    ev = np.linalg.eigvalsh(cov / np.outer(d, d))
    return float(ev.max() / ev.min())


lg = smf.logit("ybin ~ x1 + x2 + d", df).fit(disp=0, tol=1e-12, maxiter=200)
ols = smf.ols("y ~ x1 + x2 + d", pd.read_csv(here.parent / "fixtures" / "sim_panel.csv").dropna(
    subset=["y", "x1", "x2", "d"])).fit()
out["condition"] = {
    "logit ybin ~ x1 + x2 + d": scaled_condition(lg.cov_params().to_numpy()),
    "gaussian y ~ x1 + x2 + d": scaled_condition(ols.cov_params().to_numpy()),
}
(here / "study_refs.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
