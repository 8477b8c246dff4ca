#!/usr/bin/env python3
"""Reference marginal effects and predictions for tests/margins.rs.

What concord's `--margins` / `--predict` / `plot predict` compute, per
*variable* and through the formula (R marginaleffects `avg_slopes` and
counterfactual `avg_predictions`, Stata `margins, dydx()` / `margins, at()`),
computed here independently:

* the model is fitted with statsmodels' formula API (patsy); `poly(x, p)` and
  `ns(x, df)` are patsy stateful transforms written here after R's source
  (stats::poly: QR of the centred powers, predict.poly's recurrence;
  splines::ns: B-splines by scipy, the QR of the boundary constraints by
  numpy), checked against R itself (Rscript) when it is installed;
* predictions on modified data frames go through patsy's own design
  (`build_design_matrices` with the fitted transform states: knots and
  polynomial coefficients kept), averaged over the estimation rows;
* the AME of a continuous variable is a Richardson-extrapolated centred
  difference (step 1e-4 sd) of the average prediction; a 0/1 variable gets
  the average difference between all-1 and all-0; the delta-method standard
  error uses a numerical Jacobian in the coefficients (centred differences),
  as marginaleffects does;
* for a model without interactions, statsmodels' own `get_margeff(at="overall",
  method="dydx", dummy=True)` is a second check (asserted here to 1e-6 / 1e-4);
* with fixed effects (unit dummies in statsmodels: the same MLE as the
  demeaned fit), the effects are held at their estimates in the delta method
  (marginaleffects with fixest does the same), the covariance is the slope
  block (for GLMs times fixest's (n - 1) / (n - K)).

Data: tests/fixtures/sim_panel.csv and the real dyad-year panel 1970-2000
(the newcomer report's): build it, then run
    target/release/concord data build --unit dyad-year --from 1970 --to 2000 \
        --data-dir ../shared/data --out /tmp/dy7000.parquet
    python3 tests/reference/margins.py /tmp/dy7000.parquet
Writes tests/reference/margins.json (versions recorded in it).
"""
import json, pathlib, re, shutil, subprocess, sys

import numpy as np
import pandas as pd
import patsy
import scipy
import scipy.interpolate
import scipy.stats
import statsmodels
import statsmodels.api as sm
import statsmodels.formula.api as smf
from patsy import stateful_transform

HERE = pathlib.Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "sim_panel.csv"


class RPoly:
    """R's poly(x, degree) (orthogonal; raw=True for raw powers)."""

    def __init__(self):
        self.xs = []

    def memorize_chunk(self, x, degree, raw=False):
        self.xs.append(np.asarray(x, float))

    def memorize_finish(self):
        x = np.concatenate(self.xs)
        self.xs = None
        # R's model frame (and fixest) evaluate poly() on every row where x is
        # present, before rows missing another variable are dropped: FIT_ON
        # holds those values when the estimation rows are fewer.
        self.x = x if RPoly.FIT_ON is None else RPoly.FIT_ON

    FIT_ON = None

    def transform(self, x, degree, raw=False):
        x = np.asarray(x, float)
        if raw:
            return np.column_stack([x ** d for d in range(1, degree + 1)])
        if not hasattr(self, "alpha"):
            xf = self.x
            xbar = xf.mean()
            xc = xf - xbar
            X = np.column_stack([xc ** d for d in range(degree + 1)])
            q, r = np.linalg.qr(X)
            Z = q * np.diag(r)
            norm2 = (Z ** 2).sum(axis=0)
            self.alpha = ((xc[:, None] * Z ** 2).sum(axis=0) / norm2 + xbar)[:degree]
            self.norm2 = np.concatenate([[1.0], norm2])
        # predict.poly
        Z = np.ones((x.size, degree + 1))
        Z[:, 1] = x - self.alpha[0]
        for i in range(1, degree):
            Z[:, i + 1] = (x - self.alpha[i]) * Z[:, i] - (self.norm2[i + 1] / self.norm2[i]) * Z[:, i - 1]
        return (Z / np.sqrt(self.norm2[1:]))[:, 1:]


class RNs:
    """R's splines::ns(x, df) without intercept."""

    def __init__(self):
        self.xs = []

    def memorize_chunk(self, x, df):
        self.xs.append(np.asarray(x, float))

    def memorize_finish(self):
        x = np.concatenate(self.xs)
        self.xs = None
        self.x = x

    def _setup(self, df):
        x = self.x
        nik = df - 1
        self.interior = np.quantile(x, np.linspace(0, 1, nik + 2)[1:-1]) if nik else np.array([])
        self.bk = (x.min(), x.max())
        self.t = np.concatenate([[self.bk[0]] * 4, self.interior, [self.bk[1]] * 4])
        const = self._design(np.array(self.bk), 2)[:, 1:]
        q, _ = np.linalg.qr(const.T, mode="complete")
        self.q = q[:, 2:]

    def _design(self, x, deriv=0):
        nb = len(self.t) - 4
        out = np.empty((x.size, nb))
        for j in range(nb):
            c = np.zeros(nb)
            c[j] = 1.0
            s = scipy.interpolate.BSpline(self.t, c, 3, extrapolate=True)
            out[:, j] = (s.derivative(deriv) if deriv else s)(x)
        return out

    def transform(self, x, df):
        if not hasattr(self, "q"):
            self._setup(df)
        x = np.asarray(x, float)
        lo, hi = self.bk
        basis = self._design(np.clip(x, lo, hi))
        for k, side in ((lo, x < lo), (hi, x > hi)):
            if side.any():
                v, d = self._design(np.array([k])), self._design(np.array([k]), 1)
                basis[side] = v + (x[side] - k)[:, None] * d
        return basis[:, 1:] @ self.q


poly = stateful_transform(RPoly)
ns = stateful_transform(RNs)


def check_against_r(x):
    """The two transforms equal R's poly / ns on x (fitted) and at new points."""
    if shutil.which("Rscript") is None:
        return "Rscript not found: not checked"
    pd.DataFrame({"x": x}).to_csv("/tmp/margins_r_x.csv", index=False)
    new = [-3.5, -0.2, 0.0, 1.7, 4.2]
    code = f"""library(splines); x <- read.csv('/tmp/margins_r_x.csv')$x; new <- c({','.join(map(str, new))})
p <- poly(x, 3); n <- ns(x, 3)
write.csv(rbind(p[1:5,], predict(p, new)), '/tmp/margins_r_poly.csv', row.names=FALSE)
write.csv(rbind(n[1:5,], predict(n, new)), '/tmp/margins_r_ns.csv', row.names=FALSE)"""
    subprocess.run(["Rscript", "-e", code], check=True, capture_output=True)
    for name, tr, arg in (("poly", RPoly, 3), ("ns", RNs, 3)):
        t = tr()
        t.memorize_chunk(x, arg)
        t.memorize_finish()
        ours = np.vstack([t.transform(x[:5], arg), t.transform(np.array(new), arg)])
        r = pd.read_csv(f"/tmp/margins_r_{name}.csv").to_numpy()
        assert np.abs(ours - r).max() < 1e-10, (name, np.abs(ours - r).max())
    out = subprocess.run(["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True).stdout
    return f"equal to {out} poly() / splines::ns() within 1e-10 (fitted and predicted)"


MEANS = {
    "gaussian": (lambda e: e, lambda e: np.ones_like(e)),
    "logit": (scipy.special.expit, lambda e: scipy.special.expit(e) * (1 - scipy.special.expit(e))),
    "probit": (scipy.stats.norm.cdf, scipy.stats.norm.pdf),
    "poisson": (np.exp, np.exp),
}


def fit(family, formula, data):
    if family == "gaussian":
        return smf.ols(formula, data).fit()
    cls = {"logit": smf.logit, "probit": smf.probit, "poisson": smf.poisson}[family]
    return cls(formula, data).fit(method="newton", tol=1e-12, maxiter=200, disp=0)


class Margins:
    def __init__(self, family, formula, data, slopes, fe=None):
        self.data = data
        self.res = fit(family, formula, data)
        self.info = self.res.model.data.model_spec  # patsy DesignInfo
        self.mean = MEANS[family]
        names = list(self.res.params.index)
        # With fixed effects the intercept is one of them: both held fixed.
        self.slope_idx = [i for i, n in enumerate(names) if not (fe and (n.startswith(f"C({fe})") or n == "Intercept"))]
        self.beta = self.res.params.to_numpy()
        cov = self.res.cov_params().to_numpy()
        if fe:
            n, k = len(data), len(names)
            scale = 1.0 if family == "gaussian" else (n - 1) / (n - k)
            self.cov = cov[np.ix_(self.slope_idx, self.slope_idx)] * scale
        else:
            self.cov = cov
        self.family = family
        self.dist = scipy.stats.t(self.res.df_resid) if family == "gaussian" else scipy.stats.norm()

    def X(self, **set_):
        d = self.data.copy()
        for k, v in set_.items():
            d[k] = v
        (X,) = patsy.build_design_matrices([self.info], d, return_type="matrix")
        return np.asarray(X)

    def avg(self, X, beta):
        return self.mean[0](X @ beta).mean()

    def with_se(self, g):
        """g(beta) -> estimate, delta-method se (numerical Jacobian in the slope coefficients)."""
        est = g(self.beta)
        jac = []
        for i in self.slope_idx:
            h = 1e-6 * max(abs(self.beta[i]), 1e-2)
            bp, bm = self.beta.copy(), self.beta.copy()
            bp[i] += h
            bm[i] -= h
            jac.append((g(bp) - g(bm)) / (2 * h))
        jac = np.array(jac)
        return float(est), float(np.sqrt(jac @ self.cov @ jac))

    def slope(self, var):
        x = self.data[var].to_numpy(float)
        if set(np.unique(x)) == {0.0, 1.0}:
            X1, X0 = self.X(**{var: 1.0}), self.X(**{var: 0.0})
            return self.with_se(lambda b: self.avg(X1, b) - self.avg(X0, b))
        h = 1e-4 * x.std()
        Xs = {s: self.X(**{var: x + s * h}) for s in (-2, -1, 1, 2)}

        def g(b):
            f = {s: self.avg(X, b) for s, X in Xs.items()}
            return (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * h)

        return self.with_se(g)

    def predict(self, set_):
        X = self.X(**set_)
        est, se = self.with_se(lambda b: self.avg(X, b))
        q = self.dist.ppf(0.975)
        return [est, se, est - q * se, est + q * se]


def concord_name(t):
    """patsy's column name as concord names it."""
    if t == "Intercept":
        return "(Intercept)"
    m = re.match(r"^(poly|ns)\((\w+), (\d+)(, raw=True)?\)\[(\d+)\]$", t)
    if m:
        raw = ",raw=TRUE" if m.group(4) else ""
        return f"{m.group(1)}({m.group(2)},{m.group(3)}{raw}){int(m.group(5)) + 1}"
    return t


def case(id_, family, formula, data, variables, predictions, concord_formula, fe=None, dataset="sim"):
    m = Margins(family, formula, data, variables, fe)
    out = dict(id=id_, dataset=dataset, family=family, formula=concord_formula, nobs=int(m.res.nobs),
               coefficients={concord_name(k): float(v) for k, v in m.res.params.items()
                             if not (fe and (k.startswith(f"C({fe})") or k == "Intercept" or "(x2" in k))},
               ames={v: list(m.slope(v)) for v in variables},
               predictions=[dict(set=s, prediction=m.predict(s)) for s in predictions])
    return out, m


def main():
    sim = pd.read_csv(FIX)
    r_check = check_against_r(sim["x2"].dropna().to_numpy())
    s = sim.dropna(subset=["x2"]).reset_index(drop=True)
    cases = []
    c, _ = case("logit interaction + orthogonal poly", "logit", "ybin ~ x1*d + poly(x2, 2)", s,
                ["x1", "d", "x2"], [{"x1": 1.5}, {"x2": 0.5, "d": 1.0}], "ybin ~ x1*d + poly(x2, 2)")
    cases.append(c)
    c, _ = case("probit continuous interaction", "probit", "ybin ~ x1*x2 + d", s,
                ["x1", "x2", "d"], [{"x1": -1.0}], "ybin ~ x1*x2 + d")
    cases.append(c)
    c, _ = case("poisson natural spline", "poisson", "ycnt ~ x1 + ns(x2, 3) + d + x1:d", s,
                ["x1", "x2", "d"], [{"x2": 2.0}, {"x2": 5.0}], "ycnt ~ x1 + ns(x2, 3) + d + x1:d")
    cases.append(c)
    c, _ = case("ols raw poly with interaction", "gaussian", "y ~ x1*d + poly(x2, 3, raw=True)", s,
                ["x1", "d", "x2"], [{"x1": 1.0, "x2": -1.0}], "y ~ x1*d + poly(x2, 3, raw = TRUE)")
    cases.append(c)
    # No interactions: statsmodels' get_margeff as a second check.
    c, m = case("logit additive (get_margeff check)", "logit", "ybin ~ x1 + x2 + d", s, ["x1", "x2", "d"],
                [{"x1": 0.0}], "ybin ~ x1 + x2 + d")
    mf = m.res.get_margeff(at="overall", method="dydx", dummy=True).summary_frame()
    for v in ["x1", "x2", "d"]:
        est, se = c["ames"][v]
        assert abs(est - mf.loc[v, "dy/dx"]) < 1e-6 * abs(est), (v, est, mf.loc[v, "dy/dx"])
        assert abs(se - mf.loc[v, "Std. Err."]) < 1e-4 * se, (v, se, mf.loc[v, "Std. Err."])
    c["get_margeff"] = {v: [float(mf.loc[v, "dy/dx"]), float(mf.loc[v, "Std. Err."])] for v in ["x1", "x2", "d"]}
    cases.append(c)
    # Fixed effects (unit dummies): OLS, Poisson and logit on units whose outcome varies.
    c, _ = case("ols fixed effects", "gaussian", "y ~ x1*x2 + d + C(unit)", s, ["x1", "x2", "d"],
                [{"x1": 1.0}], "y ~ x1*x2 + d | unit", fe="unit")
    cases.append(c)
    pv = s[s.groupby("unit")["ycnt"].transform("max") > 0].reset_index(drop=True)
    c, _ = case("poisson fixed effects", "poisson", "ycnt ~ x1 + poly(x2, 2) + d + C(unit)", pv, ["x1", "x2", "d"],
                [{"x1": 1.0}], "ycnt ~ x1 + poly(x2, 2) + d | unit", fe="unit")
    cases.append(c)
    lv = s[s.groupby("unit")["ybin"].transform("std") > 0].reset_index(drop=True)
    c, _ = case("logit fixed effects", "logit", "ybin ~ x1*d + x2 + C(unit)", lv, ["x1", "d", "x2"],
                [{"d": 1.0}], "ybin ~ x1*d + x2 | unit", fe="unit")
    cases.append(c)
    # The newcomer's model on the real dyad-year panel 1970-2000.
    if len(sys.argv) > 1:
        dy = pd.read_parquet(sys.argv[1], columns=["mid_onset", "dyadigos", "land_contiguity", "peace_years"])
        RPoly.FIT_ON = dy["peace_years"].dropna().to_numpy(float)
        dy = dy.dropna().reset_index(drop=True)
        for col in dy:
            dy[col] = dy[col].astype(float)
        c, _ = case("newcomer dyad-year logit", "logit", "mid_onset ~ dyadigos*land_contiguity + poly(peace_years, 3)",
                    dy, ["dyadigos", "land_contiguity", "peace_years"],
                    [{"dyadigos": 60.0}, {"dyadigos": 10.0}, {"peace_years": 5.0}],
                    "mid_onset ~ dyadigos*land_contiguity + poly(peace_years,3)", dataset="dyad_year_1970_2000")
        RPoly.FIT_ON = None
        c["poly_fitted_on"] = "every row with peace_years present (R's model frame, fixest), not only the estimation rows"
        cases.append(c)
    out = dict(versions=dict(statsmodels=statsmodels.__version__, patsy=patsy.__version__, numpy=np.__version__,
                             scipy=scipy.__version__, pandas=pd.__version__),
               r_check=r_check, cases=cases)
    (HERE / "margins.json").write_text(json.dumps(out, indent=1) + "\n")
    for c in cases:
        print(c["id"], {k: [f"{v:.6g}" for v in x] for k, x in c["ames"].items()},
              [f"{p['prediction'][0]:.6g}" for p in c["predictions"]])


if __name__ == "__main__":
    main()
