#!/usr/bin/env python3
"""Reference values for concord's dyadic-robust vcov (tests/dyadic.rs).

Written from the published formula of Aronow, Samii and Assenova (2015,
Political Analysis 23(4)), not from concord's code:

    V = B^{-1} (sum over pairs (k, l) of rows whose dyads share a member of
        s_k s_l') B^{-1}

with s_k the score of row k and B the Hessian of the objective (X'X for
least squares). On the small simulated panel the meat is S' C S with C the
n x n indicator matrix of "dyads k and l have a state in common" (the pair
k = l included); on the real dyad-year panel (too large for C) it is the
paper's multiway decomposition sum_i V_C,i - V_D - (N - 2) V_0: V_C,i clusters
the rows involving state i together and leaves every other row alone, V_D
clusters by undirected dyad, V_0 is the heteroskedasticity-robust meat (the
script checks that the two forms agree on the simulated panel).

Small-sample factor (concord's documented choice, the CR1 factor of its
cluster:A,B vcov): G / (G - 1) x (n - 1) / (n - K), G the number of distinct
states, K the parameters (plus, with fixed effects, one intercept and
levels - 1 of each fixed effect not nested in either member column). `raw_se`
keeps the unscaled values (those of the paper and of R's dyadRobust).

Coefficients and scores come from independent fits: numpy least squares with
explicit fixed-effect dummies, statsmodels (Logit, Probit, Poisson,
NegativeBinomial; fixed-effect GLMs with explicit dummies), and pyfixest's
feols for the real panel's two-way fixed effects.

Re-run (writes tests/fixtures/sim_dyadic.csv and tests/reference/dyadic.json):
    target/release/concord data build --unit dyad-year --data-dir ../shared/data --out /tmp/dyad_year.parquet
    python3 tests/reference/dyadic.py /tmp/dyad_year.parquet
"""
import json, pathlib, sys

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm

HERE = pathlib.Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "sim_dyadic.csv"


def simulate():
    """24 states, every undirected dyad, 3 years; errors, x1 and x2 carry
    state-level shocks of both members, so dyads sharing a state correlate.
    About a third of the rows list the pair in the other order, so the same
    dyad appears as (A, B) and (B, A)."""
    rng = np.random.default_rng(20261130)
    states = np.sort(rng.choice(np.arange(2, 990), size=24, replace=False))
    pairs = [(a, b) for i, a in enumerate(states) for b in states[i + 1:]]
    rows = []
    for year in (2001, 2002, 2003):
        for a, b in pairs:
            rows.append((b, a, year) if rng.uniform() < 0.3 else (a, b, year))
    df = pd.DataFrame(rows, columns=["ccode1", "ccode2", "year"])
    u = dict(zip(states, rng.normal(0, 1, states.size)))
    v = dict(zip(states, rng.normal(0, 1, states.size)))
    ua, ub = df.ccode1.map(u).to_numpy(), df.ccode2.map(u).to_numpy()
    va, vb = df.ccode1.map(v).to_numpy(), df.ccode2.map(v).to_numpy()
    n = len(df)
    x1 = rng.normal(0, 1, n) + 0.7 * (va + vb)
    w = dict(zip(states, rng.normal(0, 1, states.size)))
    x2 = rng.normal(0, 1, n) + 0.7 * (df.ccode1.map(w).to_numpy() + df.ccode2.map(w).to_numpy())
    y = 1 + 0.5 * x1 - 0.3 * x2 + ua + ub + rng.normal(0, 1, n)
    eta = -0.5 + 0.6 * x1 - 0.4 * x2 + 0.5 * (ua + ub)
    ybin = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    ycnt = rng.poisson(np.exp(0.2 + 0.3 * x1 - 0.2 * x2 + 0.3 * (ua + ub)))
    ynb = rng.poisson(np.exp(0.4 + 0.3 * x1 - 0.2 * x2 + 0.3 * (ua + ub)) * rng.gamma(2.0, 0.5, n))
    df["dyad"] = np.minimum(df.ccode1, df.ccode2) * 1000 + np.maximum(df.ccode1, df.ccode2)
    df = df.assign(x1=x1.round(6), x2=x2.round(6), y=y.round(6), ybin=ybin, ycnt=ycnt, ynb=ynb)
    df.to_csv(FIX, index=False)
    return pd.read_csv(FIX)


def meat_indicator(S, a, b):
    """S' C S with C[k, l] = 1 when the dyads of rows k and l share a state."""
    C = ((a[:, None] == a[None, :]) | (a[:, None] == b[None, :]) |
         (b[:, None] == a[None, :]) | (b[:, None] == b[None, :])).astype(float)
    return S.T @ C @ S


def meat_decomposition(S, a, b):
    """sum_i V_C,i - V_D - (N - 2) V_0, each as a meat."""
    V0 = S.T @ S
    states = np.unique(np.concatenate([a, b]))
    total = np.zeros_like(V0)
    for i in states:
        m = (a == i) | (b == i)
        t = S[m].sum(axis=0)
        total += np.outer(t, t) + V0 - S[m].T @ S[m]
    key = pd.Series(np.minimum(a, b) * 10**6 + np.maximum(a, b))
    D = pd.DataFrame(S).groupby(key.to_numpy()).sum().to_numpy()
    return total - D.T @ D - (len(states) - 2) * V0


def nested(fe, cl):
    return bool((pd.Series(cl).groupby(pd.Series(fe)).nunique() == 1).all())


def big_k(k, df, fes):
    """concord's K of cluster:ccode1,ccode2: with fixed effects, one intercept
    and levels - 1 of each fixed effect nested in neither member column."""
    if not fes:
        return k
    free = sum(df[f].nunique() - 1 for f in fes
               if not (nested(df[f], df["ccode1"]) or nested(df[f], df["ccode2"])))
    return k + 1 + free


cases = []


def add(id, data, formula, family, df, names, beta, bread, S, k, fes, meat_fn):
    a, b = df["ccode1"].to_numpy(), df["ccode2"].to_numpy()
    meat = meat_fn(S, a, b)
    raw = bread @ meat @ bread
    n, G, K = len(df), len(np.unique(np.concatenate([a, b]))), big_k(k, df, fes)
    factor = G / (G - 1) * (n - 1) / (n - K)
    V = raw * factor
    kk = len(names)
    cases.append(dict(
        id=id, data=data, formula=formula, family=family, vcov="dyadic:ccode1,ccode2", nobs=int(n),
        states=int(G), big_k=int(K), factor=factor,
        coefficients={t: [float(beta[j]), float(np.sqrt(V[j, j]))] for j, t in enumerate(names)},
        raw_se={t: float(np.sqrt(raw[j, j])) for j, t in enumerate(names)},
        vcov_matrix=[[float(V[i, j]) for j in range(kk)] for i in range(kk)]))


def dummies(df, fes):
    return np.column_stack([pd.get_dummies(df[f], drop_first=(i > 0)).to_numpy(float) for i, f in enumerate(fes)])


def ols(data, df, y, xs, fes, meat_fn=meat_indicator):
    """Least squares; fixed effects by explicit dummies (Frisch-Waugh-Lovell)."""
    X = df[xs].to_numpy(float)
    yv = df[y].to_numpy(float)
    names = list(xs)
    if fes:
        D = dummies(df, fes)
        resid = lambda M: M - D @ np.linalg.lstsq(D, M, rcond=None)[0]
        X, yv = resid(X), resid(yv)
    else:
        X = np.column_stack([np.ones(len(df)), X])
        names = ["(Intercept)"] + names
    beta = np.linalg.lstsq(X, yv, rcond=None)[0]
    e = yv - X @ beta
    fml = f"{y} ~ {' + '.join(xs)}" + (f" | {' + '.join(fes)}" if fes else "")
    add(f"{data}|gaussian|{fml}", data, fml, "gaussian", df, names, beta, np.linalg.inv(X.T @ X),
        X * e[:, None], len(names), fes, meat_fn)


def mle(data, df, family, y, xs, fes=(), meat_fn=meat_indicator):
    """statsmodels maximum likelihood; fixed effects as explicit dummies (the
    coefficient block of the full sandwich is the concentrated one)."""
    X = df[xs].to_numpy(float)
    if fes:
        Z = np.column_stack([X, dummies(df, fes)])
    else:
        Z = np.column_stack([np.ones(len(df)), X])
    cls = {"logit": sm.Logit, "probit": sm.Probit, "poisson": sm.Poisson, "negbin": sm.NegativeBinomial}[family]
    model = cls(df[y].to_numpy(float), Z)
    res = model.fit(disp=0, method="newton", tol=1e-14, maxiter=300)
    params = res.params
    S = model.score_obs(params)
    bread_full = np.linalg.inv(-model.hessian(params))
    k = len(xs) if fes else len(xs) + 1
    sel = list(range(k)) + ([len(params) - 1] if family == "negbin" else [])
    names = ([] if fes else ["(Intercept)"]) + list(xs) + (["alpha"] if family == "negbin" else [])
    # The coefficient block of the full sandwich: rows of bread_full for the
    # coefficients, all scores (the fixed-effect dummies' scores included).
    a, b = df["ccode1"].to_numpy(), df["ccode2"].to_numpy()
    meat = meat_fn(S, a, b)
    raw_full = bread_full @ meat @ bread_full
    n, G = len(df), len(np.unique(np.concatenate([a, b])))
    K = big_k(len(sel), df, list(fes))
    factor = G / (G - 1) * (n - 1) / (n - K)
    V = raw_full[np.ix_(sel, sel)] * factor
    fml = f"{y} ~ {' + '.join(xs)}" + (f" | {' + '.join(fes)}" if fes else "")
    kk = len(sel)
    cases.append(dict(
        id=f"{data}|{family}|{fml}", data=data, formula=fml, family=family, vcov="dyadic:ccode1,ccode2",
        nobs=int(n), states=int(G), big_k=int(K), factor=factor,
        coefficients={t: [float(params[j]), float(np.sqrt(V[i, i]))] for i, (t, j) in enumerate(zip(names, sel))},
        raw_se={t: float(np.sqrt(raw_full[j, j])) for t, j in zip(names, sel)},
        vcov_matrix=[[float(V[i, j]) for j in range(kk)] for i in range(kk)]))


def main():
    sim = simulate()
    S = np.random.default_rng(1).normal(size=(len(sim), 3))
    a, b = sim["ccode1"].to_numpy(), sim["ccode2"].to_numpy()
    assert np.allclose(meat_indicator(S, a, b), meat_decomposition(S, a, b), rtol=1e-12, atol=1e-9)
    ols("sim_dyadic", sim, "y", ["x1", "x2"], [])
    ols("sim_dyadic", sim, "y", ["x1", "x2"], ["year"])
    ols("sim_dyadic", sim, "y", ["x1", "x2"], ["dyad", "year"])
    for fam, y in [("logit", "ybin"), ("probit", "ybin"), ("poisson", "ycnt"), ("negbin", "ynb")]:
        mle("sim_dyadic", sim, fam, y, ["x1", "x2"])
    mle("sim_dyadic", sim, "logit", "ybin", ["x1", "x2"], ["year"])
    mle("sim_dyadic", sim, "poisson", "ycnt", ["x1", "x2"], ["year"])
    if len(sys.argv) > 1:
        import pyfixest as pf
        dy = pd.read_parquet(sys.argv[1])
        # Two-way fixed effects: pyfixest's demeaned design and residuals.
        fit = pf.feols("unga_affinity ~ dyadigos | dyad + year", data=dy, fixef_rm="singleton", fixef_tol=1e-13)
        X, e = np.asarray(fit._X, float), np.asarray(fit._u_hat, float).ravel()
        used = fit._data  # the rows pyfixest estimated on, in its order
        assert len(used) == len(e) == X.shape[0]
        add("dyad_year|gaussian|unga_affinity ~ dyadigos | dyad + year", "dyad_year",
            "unga_affinity ~ dyadigos | dyad + year", "gaussian", used.reset_index(drop=True), ["dyadigos"],
            np.asarray(fit.coef(), float), np.linalg.inv(X.T @ X), X * e[:, None], 1, ["dyad", "year"],
            meat_decomposition)
        xs = ["unga_affinity", "dyadigos", "land_contiguity"]
        used = dy.dropna(subset=["mid_onset"] + xs).reset_index(drop=True)
        mle("dyad_year", used, "logit", "mid_onset", xs, meat_fn=meat_decomposition)
    out = dict(
        source="tests/reference/dyadic.py",
        versions=dict(numpy=np.__version__, pandas=pd.__version__, statsmodels=statsmodels.__version__),
        cases=cases)
    (HERE / "dyadic.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
