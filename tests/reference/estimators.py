#!/usr/bin/env python3
"""Reference estimates for concord's estimator tests (tests/estimators.rs).

Independent tools on the same data: statsmodels (OLS, Logit, Poisson; iid,
HC0-HC3, cluster) and pyfixest (feols with fixed effects; iid, hetero, CR1
one- and two-way). Writes tests/reference/estimators.json.

Data: tests/fixtures/sim_panel.csv (simulated here with a fixed seed, and
committed) and the real panels built by concord:
    cargo run --release -- data build --unit state-year --data-dir ../shared/data --out /tmp/state_year.parquet
    cargo run --release -- data build --unit dyad-year  --data-dir ../shared/data --out /tmp/dyad_year.parquet
    python3 tests/reference/estimators.py /tmp/state_year.parquet /tmp/dyad_year.parquet
Versions used are recorded in the JSON.
"""
import json, pathlib, sys

import numpy as np
import scipy.stats
import pandas as pd
import pyfixest as pf
import statsmodels
import statsmodels.api as sm
import statsmodels.formula.api as smf

HERE = pathlib.Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "sim_panel.csv"


def simulate():
    rng = np.random.default_rng(20261129)
    units, periods = 120, 15
    unit = np.repeat(np.arange(units), periods)
    time = np.tile(np.arange(periods), units)
    a = rng.normal(0, 1, units)[unit]
    g = rng.normal(0, 0.5, periods)[time]
    x1 = rng.normal(0, 1, unit.size) + 0.5 * a
    x2 = rng.normal(0, 1, unit.size)
    d = (rng.uniform(size=unit.size) < 0.3).astype(int)
    y = 1 + 0.5 * x1 - 0.3 * x2 + 0.4 * d + a + g + rng.normal(0, 1, unit.size) * (1 + 0.5 * np.abs(x2))
    ybin = (rng.uniform(size=unit.size) < 1 / (1 + np.exp(-(-1 + 0.8 * x1 - 0.5 * x2 + 0.3 * d)))).astype(int)
    ycnt = rng.poisson(np.exp(0.3 + 0.4 * x1 - 0.2 * x2 + 0.2 * d))
    # Overdispersed counts, NB2 with alpha = 0.5 (gamma-Poisson mixture); drawn
    # last so the columns above stay as they were.
    mu_nb = np.exp(0.5 + 0.4 * x1 - 0.2 * x2 + 0.2 * d)
    ynb = rng.poisson(mu_nb * rng.gamma(shape=2.0, scale=0.5, size=unit.size))
    df = pd.DataFrame(dict(unit=unit + 1, time=time + 2000, x1=x1.round(6), x2=x2.round(6), d=d,
                           y=y.round(6), ybin=ybin, ycnt=ycnt, region=(unit % 4) + 1, ynb=ynb))
    # A few missing values, to exercise dropping.
    df.loc[[5, 77, 400], "x2"] = np.nan
    df.to_csv(FIX, index=False)
    return pd.read_csv(FIX)


def name(t):
    return "(Intercept)" if t == "Intercept" else t  # statsmodels' NB2 `alpha` keeps its name


def from_sm(res):
    return {name(t): [float(res.params[t]), float(res.bse[t])] for t in res.params.index}


def from_pf(fit):
    t = fit.tidy()
    return {name(i): [float(r["Estimate"]), float(r["Std. Error"])] for i, r in t.iterrows()}


cases = []


def add(id, data, formula, family, vcov, nobs, coefs, tool, **extra):
    cases.append(dict(id=id, data=data, formula=formula, family=family, vcov=vcov, nobs=int(nobs),
                      coefficients=coefs, tool=tool, **extra))


def sm_cov(vcov, df):
    if vcov == "iid":
        return dict()
    if vcov.startswith("hc"):
        return dict(cov_type=vcov.upper())
    if vcov == "dk:time":
        # Driscoll-Kraay of a likelihood model: statsmodels' hac-groupsum
        # (Bartlett, its default small-sample factor), on 0-based periods;
        # 2 lags = concord's default floor(4 (T/100)^(2/9)) for T = 15.
        periods = (df["time"].rank(method="dense") - 1).astype(int).to_numpy()
        return dict(cov_type="hac-groupsum", cov_kwds={"time": periods, "maxlags": 2})
    col = vcov.split(":")[1]
    return dict(cov_type="cluster", cov_kwds={"groups": df[col]})


def run(data, df, formula, family, vcovs):
    for v in vcovs:
        id = f"{data}|{family}|{formula}|{v}"
        if "|" in formula.split("~")[1]:
            pv = {"iid": "iid", "hc1": "hetero"}.get(v) or {"CRV1": v.split(":")[1].replace(",", "+")}
            if family == "gaussian":
                fit = pf.feols(formula, data=df, vcov=pv, fixef_rm="singleton")
            elif family == "poisson":
                fit = pf.fepois(formula, data=df, vcov=pv, fixef_rm="singleton", iwls_tol=1e-12, iwls_maxiter=100)
            else:
                fit = pf.feglm(formula, data=df, family="logit", vcov=pv, fixef_rm="singleton", iwls_tol=1e-12)
            extra = {}
            if family == "logit" and v == "iid":
                # Documented exception: pyfixest's feglm counts one parameter more
                # in (n - 1) / (n - K) than its fepois and fixest's rule, which
                # concord follows; the standard errors differ by sqrt((n-K)/(n-K-1)).
                extra = dict(se_rel_tol=1e-3, note="pyfixest feglm iid counts K + 1")
            add(id, data, formula, family, v, fit._N, from_pf(fit), f"pyfixest {pf.__version__}", **extra)
            continue
        if "," in v and family == "logit":
            # Two-way clustering of a likelihood model: pyfixest's feglm.
            fit = pf.feglm(formula, data=df, family=family, vcov={"CRV1": v.split(":")[1].replace(",", "+")},
                           iwls_tol=1e-12)
            add(id, data, formula, family, v, fit._N, from_pf(fit), f"pyfixest {pf.__version__}")
            continue
        used = df.dropna(subset=[c.strip() for c in formula.replace("~", "+").split("+")])
        model = {"gaussian": smf.ols, "logit": smf.logit, "probit": smf.probit, "poisson": smf.poisson,
                 "negbin": smf.negativebinomial}[family](formula, data=used)
        # statsmodels applies no small-sample factor to HC1 of discrete models;
        # concord (like fixest and pyfixest) scales HC0 by n / (n - k).
        glm_hc1 = family != "gaussian" and v == "hc1"
        kw = sm_cov("hc0" if glm_hc1 else v, used)
        if family == "gaussian":
            res = model.fit(**kw)
        elif family == "negbin":
            # statsmodels' default (bfgs, 35 iterations) stops short; Newton to 1e-12.
            res = model.fit(disp=0, method="newton", tol=1e-12, maxiter=200, **kw)
        else:
            res = model.fit(disp=0, tol=1e-12, maxiter=200, **kw)
        coefs = from_sm(res)
        tool = f"statsmodels {statsmodels.__version__}"
        if glm_hc1:
            f = np.sqrt(res.nobs / (res.nobs - len(res.params)))
            coefs = {t: [b, se * f] for t, (b, se) in coefs.items()}
            tool += " (HC0 x sqrt(n / (n - k)))"
        stats = dict(loglik=float(res.llf), aic=float(res.aic), bic=float(res.bic))
        if family == "gaussian":
            stats.update(r2=float(res.rsquared), adj_r2=float(res.rsquared_adj))
        elif family != "negbin":  # concord reports no pseudo R2 for negbin
            stats.update(pseudo_r2=float(res.prsquared))
        add(id, data, formula, family, v, res.nobs, coefs, tool, stats=stats)


def firth(id, data, df, formula, names=None, concord_formula=None, **extra):
    """Firth logit with firthmodels (Wald SEs from the inverse information)."""
    from importlib.metadata import version
    from firthmodels import FirthLogisticRegression
    lhs, rhs = [t.strip() for t in formula.split("~")]
    xs = [t.strip() for t in rhs.split("+")]
    used = df.dropna(subset=[lhs] + xs)
    m = FirthLogisticRegression(max_iter=500, gtol=1e-10, xtol=1e-12, backend="numpy")
    X = used[xs].to_numpy(float)
    m.fit(X, used[lhs].to_numpy(int))
    # Standard errors as logistf defines them: the inverse Fisher information
    # X'WX at the estimate (firthmodels' own bse_ differ by up to ~0.6% here;
    # they are kept in the case as `firthmodels_bse`).
    Xc = np.column_stack([np.ones(len(X)), X])
    b = np.concatenate([[m.intercept_], m.coef_])
    p = 1 / (1 + np.exp(-Xc @ b))
    se = np.sqrt(np.diag(np.linalg.inv(Xc.T @ (Xc * (p * (1 - p))[:, None]))))
    coefs = {"(Intercept)": [float(b[0]), float(se[0])]}
    coefs.update({(names or {}).get(x, x): [float(bb), float(s)] for x, bb, s in zip(xs, b[1:], se[1:])})
    add(id, data, concord_formula or formula, "firth", "iid", len(used), coefs,
        f"firthmodels {version('firthmodels')} (estimates); numpy inverse information (SEs)",
        firthmodels_bse=[float(v) for v in m.bse_], **extra)


def main():
    sim = simulate()
    run("sim", sim, "y ~ x1 + x2 + d", "gaussian", ["iid", "hc0", "hc1", "hc2", "hc3", "cluster:unit"])
    run("sim", sim, "y ~ x1 + x2 + d | unit + time", "gaussian", ["iid", "hc1", "cluster:unit", "cluster:unit,time"])
    run("sim", sim, "y ~ x1 + x2 | unit", "gaussian", ["iid", "cluster:unit", "cluster:region"])
    run("sim", sim, "ybin ~ x1 + x2 + d", "logit", ["iid", "hc0", "hc1", "cluster:unit", "cluster:unit,time", "dk:time"])
    run("sim", sim, "ycnt ~ x1 + x2 + d", "poisson", ["iid", "hc0", "hc1", "cluster:unit", "dk:time"])
    # Probit two-way clustering is not compared: pyfixest's feglm uses the expected
    # information for probit, statsmodels (and concord) the observed Hessian.
    run("sim", sim, "ybin ~ x1 + x2 + d", "probit", ["iid", "hc0", "hc1", "cluster:unit", "dk:time"])
    run("sim", sim, "ynb ~ x1 + x2 + d", "negbin", ["iid", "hc0", "cluster:unit", "dk:time"])
    firth("sim|firth|ybin ~ x1 + x2 + d|iid", "sim", sim, "ybin ~ x1 + x2 + d")
    # Quasi-complete separation: every row with d == 1 and x1 > 1 has ybin == 1.
    sep = sim.copy()
    sep["sep"] = ((sep["d"] == 1) & (sep["x1"] > 1)).astype(int)
    sep.loc[sep["sep"] == 1, "ybin"] = 1
    sep.to_csv(FIX.with_name("sim_separated.csv"), index=False)
    firth("sim_separated|firth|ybin ~ x1 + sep|iid", "sim_separated", sep, "ybin ~ x1 + sep")
    run("sim", sim, "ycnt ~ x1 + x2 + d | unit + time", "poisson", ["iid", "hc1", "cluster:unit", "cluster:unit,time"])
    run("sim", sim, "ybin ~ x1 + x2 + d | unit", "logit", ["iid", "cluster:unit"])
    if len(sys.argv) > 2:
        sy = pd.read_parquet(sys.argv[1])
        dy = pd.read_parquet(sys.argv[2])
        run("state_year", sy, "mid_onset ~ igo_full + polity2 + cinc", "logit", ["iid", "cluster:ccode"])
        run("state_year", sy, "mid_count ~ igo_full + polity2 + cinc", "poisson", ["iid", "cluster:ccode"])
        run("state_year", sy, "mid_onset ~ igo_full + polity2 + cinc", "probit", ["iid", "cluster:ccode"])
        run("state_year", sy, "mid_count ~ igo_full + polity2 + cinc", "negbin", ["iid", "cluster:ccode"])
        run("state_year", sy, "unga_agree_majority ~ igo_full + treaties_cum + polity2 | ccode + year", "gaussian",
            ["iid", "cluster:ccode"])
        run("state_year", sy, "unga_agree_majority ~ igo_full + treaties_cum + polity2", "gaussian",
            ["hc1", "cluster:ccode"])
        run("dyad_year", dy, "mid_onset ~ dyadigos + land_contiguity + peace_years + unga_affinity + dem_low",
            "logit", ["iid", "cluster:dyad"])
        run("dyad_year", dy, "mid_onset ~ dyadigos + unga_affinity | dyad + year", "gaussian", ["cluster:dyad"])
        run("dyad_year", dy, "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", "poisson",
            ["cluster:dyad"])
        firth("dyad_year|firth|rare events|iid", "dyad_year", dy,
              "mid_onset ~ dyadigos + land_contiguity + peace_years + unga_affinity + dem_low")
        # Lags and a cubic in peace years (the study's Firth check): Newton with
        # the Fisher information alone converges only linearly here, so concord
        # uses the exact Hessian. firthmodels warns that it reached max_iter,
        # but its estimate solves the penalised score (concord agrees to 1e-9).
        s = sy.sort_values(["ccode", "year"]).copy()
        g = s.groupby("ccode")
        names = {}
        for v in ["unga_agree_majority", "igo_full", "polity2", "cinc"]:
            prev, prev_year = g[v].shift(1), g["year"].shift(1)
            s[f"l_{v}"] = np.where(prev_year == s["year"] - 1, prev, np.nan)
            names[f"l_{v}"] = f"l({v},1)"
        for d in (1, 2, 3):
            s[f"py{d}"] = s["peace_years"].astype(float) ** d
            names[f"py{d}"] = f"poly(peace_years,3,raw=TRUE){d}"
        firth("state_year|firth|lags and cubic peace years|iid", "state_year", s, "mid_onset ~ " + " + ".join(names),
              names=names, panel="ccode,year",
              concord_formula="mid_onset ~ l(unga_agree_majority,1) + l(igo_full,1) + l(polity2,1) + l(cinc,1) "
                              "+ poly(peace_years, 3, raw = TRUE)")
    # Driscoll-Kraay (linearmodels kernel covariance, Bartlett, bandwidth 2 =
    # concord's default floor(4 (T/100)^(2/9)) for T = 15 periods).
    from linearmodels.panel import PooledOLS, PanelOLS
    import linearmodels
    p = sim.dropna().set_index(["unit", "time"])
    for formula, fe in [("y ~ x1 + x2 + d", False), ("y ~ x1 + x2 + d | unit + time", True)]:
        if fe:
            r = PanelOLS(p.y, p[["x1", "x2", "d"]], entity_effects=True, time_effects=True).fit(
                cov_type="kernel", kernel="bartlett", bandwidth=2)
        else:
            r = PooledOLS(p.y, sm.add_constant(p[["x1", "x2", "d"]])).fit(cov_type="kernel", kernel="bartlett",
                                                                           bandwidth=2)
        coefs = {("(Intercept)" if t == "const" else t): [float(r.params[t]), float(r.std_errors[t])]
                 for t in r.params.index}
        add(f"sim|gaussian|{formula}|dk:time", "sim", formula, "gaussian", "dk:time", r.nobs, coefs,
            f"linearmodels {linearmodels.__version__}")
    # Hypothesis tests and marginal effects (statsmodels) on the simulated panel.
    used = sim.dropna()
    ols = smf.ols("y ~ x1 + x2 + d", used).fit(cov_type="cluster", cov_kwds={"groups": used["unit"]})
    w1 = ols.wald_test("x1 = 0, x2 = 0", use_f=True, scalar=True)
    full = smf.logit("ybin ~ x1 + x2 + d", used).fit(disp=0, tol=1e-12)
    restr = smf.logit("ybin ~ x1", used).fit(disp=0, tol=1e-12)
    w2 = full.wald_test("x1 = 0, x2 - d = 0", use_f=False, scalar=True)
    tests = [
        dict(id="ols cluster F", formula="y ~ x1 + x2 + d", family="gaussian", vcov="cluster:unit",
             restrictions="x1 = 0, x2 = 0", statistic=float(w1.statistic), p_value=float(w1.pvalue),
             df_denom=float(w1.df_denom)),
        dict(id="logit chi2", formula="ybin ~ x1 + x2 + d", family="logit", vcov="iid",
             restrictions="x1 = 0, x2 - d = 0", statistic=float(w2.statistic), p_value=float(w2.pvalue)),
        dict(id="logit LR", formula="ybin ~ x1 + x2 + d", restricted="ybin ~ x1", family="logit", vcov="iid",
             statistic=float(2 * (full.llf - restr.llf)),
             p_value=float(scipy.stats.chi2.sf(2 * (full.llf - restr.llf), full.df_model - restr.df_model))),
    ]
    margins = []
    for formula, family, fn in [("ybin ~ x1 + x2 + d", "logit", smf.logit), ("ybin ~ x1 + x2 + d", "probit", smf.probit),
                                ("ycnt ~ x1 + x2 + d", "poisson", smf.poisson)]:
        res = fn(formula, used).fit(disp=0, tol=1e-12)
        m = res.get_margeff(at="overall", method="dydx").summary_frame()
        margins.append(dict(formula=formula, family=family, vcov="iid",
                            effects={t: [float(r["dy/dx"]), float(r["Std. Err."])] for t, r in m.iterrows()}))
    predictions = []
    for formula, family, fn in [("ybin ~ x1 + x2 + d", "logit", smf.logit), ("ybin ~ x1 + x2 + d", "probit", smf.probit),
                                ("ycnt ~ x1 + x2 + d", "poisson", smf.poisson)]:
        res = fn(formula, used).fit(disp=0, tol=1e-12)
        x0 = pd.DataFrame({"x1": [1.5], "x2": [used.x2.mean()], "d": [used.d.mean()]})
        f = res.get_prediction(x0).summary_frame().iloc[0]
        predictions.append(dict(formula=formula, family=family, set={"x1": 1.5},
                                prediction=[float(f["predicted"]), float(f["se"]), float(f["ci_lower"]),
                                            float(f["ci_upper"])]))
    out = dict(versions=dict(statsmodels=statsmodels.__version__, pyfixest=pf.__version__, numpy=np.__version__,
                             pandas=pd.__version__), cases=cases, tests=tests, margins=margins,
               predictions=predictions)
    (HERE / "estimators.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(cases)} reference cases written")


if __name__ == "__main__":
    main()
