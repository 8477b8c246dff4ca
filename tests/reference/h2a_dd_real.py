#!/usr/bin/env python3
"""An independent reference for hypothesis H2a-dd of the flagship study
(studies/socialization.toml) on the real directed dyad-year panel: the logit
of MID initiation on lagged UNGA vote affinity and the dyadic controls, year
fixed effects, a cubic in peace years, dyadic-robust errors
(`vcov = "dyadic:ccode1,ccode2"`). concord's fit of it is
reports/socialization/fits/H2a-dd__main.json; this script rebuilds the
estimation frame in pandas and refits it without concord's code.

Input: the directed dyad-year panel built by concord's CLI with the study's
years and the study's `add` measures that have dyad-year variables (the CLI
refuses state- or system-only ones; the study leaves them out of this level
too, src/study/run.rs::load_panels):
    target/release/concord data build --unit dyad-year --directed --from 1946 --to 2014 \
        --data-dir ../shared/data --add ideal_points,atop,trade,unga,sanctions \
        --out /tmp/directed.parquet
Output: tests/reference/h2a_dd_real.json.

The estimation frame, as docs/study-file.md and src/study/run.rs define it:
- formula  mid_init ~ l(unga_affinity,1) + l(dyadigos,1) + l(land_contiguity,1)
  + l(log1p_mindist,1) + l(log1p_cinc_ratio,1) + l(atop_defense,1)
  + l(dem_low,1) + l(any_major,1) + poly(peace_years,3) | year;
- `log1p_x = log(1 + x)` for the study's `log1p` columns (mindist,
  cinc_ratio), computed on the panel before lagging;
- `l(x,1)`: x in the row of the same directed dyad (ccode1, ccode2) in year
  t - 1, missing when that row is not in the panel;
- `poly(peace_years,3)`: R's orthogonal polynomials (the three-term
  recurrence of stats::poly / predict.poly), fitted on every panel row with
  peace_years present (concord, like R's model frame and fixest, fits the
  basis on the sample before dropping rows missing other columns; the study
  has no period or subset here, so the sample is the whole panel) and
  evaluated on the estimation rows;
- complete cases in the outcome, the terms, year and the member columns;
  then, as concord's fixed-effects logit does, year groups in which mid_init
  never varies would be dropped (none is here) and fixed-effect singletons
  (none).

Fit: statsmodels Logit (Newton, tol 1e-14) with the 68 year dummies and no
intercept, followed by Newton steps until the gradient norm is ~0. Standard
errors from the scores and the inverse Hessian of the full model (the
coefficient block of the full sandwich, i.e. the concentrated one):
- dyadic-robust, Aronow, Samii & Assenova (2015, Political Analysis 23(4)),
  meat = sum_i V_C,i - V_D - (N - 2) V_0 (the paper's multiway decomposition,
  as in tests/reference/dyadic.py): V_C,i clusters the rows with state i as
  a member and leaves every other row alone, V_D clusters by undirected dyad
  (both directions and every year of a pair together), V_0 is the
  heteroskedasticity-robust meat; times the small-sample factor documented
  for concord's dyadic vcov, G / (G - 1) x (n - 1) / (n - K), G the distinct
  states, K = the 11 coefficients + 1 + (year levels - 1) (year is nested in
  neither member column). `raw_se_dyadic` keeps the unscaled values (those
  of the paper and of R's dyadRobust).
- as a second check, CR1 clustered by undirected dyad (pair),
  G_p / (G_p - 1) x (n - 1) / (n - K) (concord reports no such fit for the
  directed level: its `dyad_cluster` check is only for dyad-year).

Re-run (from the repository root; about 75 s and 3.2 GB peak on 2 cores):
    target/release/concord data build --unit dyad-year --directed --from 1946 --to 2014 \
        --data-dir ../shared/data --add ideal_points,atop,trade,unga,sanctions \
        --out /tmp/directed.parquet
    python3 tests/reference/h2a_dd_real.py /tmp/directed.parquet
It prints the comparison with reports/socialization/fits/H2a-dd__main.json.
"""
import json
import pathlib
import sys
import time

import numpy as np
import pandas as pd
import pyarrow
import scipy
import statsmodels
import statsmodels.api as sm

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONCORD = ROOT / "reports" / "socialization" / "fits" / "H2a-dd__main.json"
BUILD = ("target/release/concord data build --unit dyad-year --directed --from 1946 --to 2014 "
         "--data-dir ../shared/data --add ideal_points,atop,trade,unga,sanctions --out /tmp/directed.parquet")

OUTCOME = "mid_init"
CAUSE = "unga_affinity"
CONTROLS = ["dyadigos", "land_contiguity", "log1p_mindist", "log1p_cinc_ratio", "atop_defense", "dem_low",
            "any_major"]
LOG1P = ["mindist", "cinc_ratio"]
LAGGED = [CAUSE] + CONTROLS
POLY = [f"poly(peace_years,3){j}" for j in (1, 2, 3)]
TERMS = [f"l({v},1)" for v in LAGGED] + POLY


def poly_fit(x, p):
    """R's poly(x, p) coefficients (alpha, norm2) by the three-term recurrence."""
    x = np.asarray(x, float)
    xbar = x.mean()
    # R centres first; alpha[0] = mean(x). Written as the Stieltjes recurrence.
    alpha, norm2 = [], [1.0, float(len(x))]
    prev, cur = np.zeros_like(x), np.ones_like(x)
    for d in range(p):
        a = float(np.sum(x * cur * cur) / norm2[d + 1])
        alpha.append(a)
        b = 0.0 if d == 0 else norm2[d + 1] / norm2[d]
        nxt = (x - a) * cur - b * prev
        norm2.append(float(np.sum(nxt * nxt)))
        prev, cur = cur, nxt
    assert abs(alpha[0] - xbar) < 1e-9 * max(1.0, abs(xbar))
    return alpha, norm2


def poly_eval(x, alpha, norm2):
    """R's predict.poly: the orthonormal basis at x."""
    x = np.asarray(x, float)
    p = len(alpha)
    z = [np.ones_like(x), x - alpha[0]]
    for i in range(1, p):
        z.append((x - alpha[i]) * z[i] - norm2[i + 1] / norm2[i] * z[i - 1])
    return np.column_stack([z[j] / np.sqrt(norm2[j + 1]) for j in range(1, p + 1)])


def frame(path):
    cols = ["ccode1", "ccode2", "year", "pair", OUTCOME, "peace_years", CAUSE, "dyadigos", "land_contiguity",
            "mindist", "cinc_ratio", "atop_defense", "dem_low", "any_major"]
    df = pd.read_parquet(path, columns=cols)
    n_input = len(df)
    for c in ["ccode1", "ccode2", "year"]:
        assert df[c].notna().all()
    for c in LOG1P:
        v = df[c].astype(float)
        assert not (v <= -1).any(), c
        df[f"log1p_{c}"] = np.log1p(v)
    # Lags within the directed dyad: the row of (ccode1, ccode2, year - 1).
    key = (df.ccode1.astype(np.int64) * 1000 + df.ccode2.astype(np.int64)) * 10000 + df.year.astype(np.int64)
    assert key.is_unique
    idx = pd.Index(key.to_numpy())
    pos = idx.get_indexer((key - 1).to_numpy())
    has = pos >= 0
    for v in LAGGED:
        src = df[v].astype(float).to_numpy()
        lag = np.full(len(df), np.nan)
        lag[has] = src[pos[has]]
        df[f"l({v},1)"] = lag
    # poly(peace_years, 3): basis fitted on every panel row with peace_years.
    py = df["peace_years"].astype(float).to_numpy()
    alpha, norm2 = poly_fit(py[~np.isnan(py)], 3)
    B = np.full((len(df), 3), np.nan)
    ok = ~np.isnan(py)
    B[ok] = poly_eval(py[ok], alpha, norm2)
    for j, t in enumerate(POLY):
        df[t] = B[:, j]
    df[OUTCOME] = df[OUTCOME].astype(float)
    used = df.dropna(subset=[OUTCOME] + TERMS).copy()
    missing = n_input - len(used)
    # Fixed-effect groups where the outcome never varies (a logit's FE
    # separation) and singletons, repeatedly.
    no_var = singletons = 0
    while True:
        g = used.groupby("year")[OUTCOME]
        s, c = g.transform("sum"), g.transform("size")
        bad_var = (s == 0) | (s == c)
        bad_one = c == 1
        if not (bad_var | bad_one).any():
            break
        no_var += int((bad_var & ~bad_one).sum())
        singletons += int(bad_one.sum())
        used = used[~(bad_var | bad_one)]
    used = used.reset_index(drop=True)
    info = dict(n_input=int(n_input), dropped_missing=int(missing), dropped_no_variation=no_var,
                dropped_singletons=singletons, poly_alpha=alpha, poly_norm2=norm2[2:],
                poly_rows=int(ok.sum()))
    return used, info


def fit(used):
    X = used[TERMS].to_numpy(float)
    years = np.sort(used.year.unique())
    D = (used.year.to_numpy()[:, None] == years[None, :]).astype(float)
    Z = np.column_stack([X, D])
    del D
    y = used[OUTCOME].to_numpy(float)
    model = sm.Logit(y, Z)
    res = model.fit(disp=0, method="newton", tol=1e-14, maxiter=100)
    beta = np.asarray(res.params, float)
    # A few more Newton steps in closed form (the gradient to ~0).
    for _ in range(5):
        g = model.score(beta)
        H = model.hessian(beta)
        step = np.linalg.solve(H, g)
        beta = beta - step
        if np.max(np.abs(step)) < 1e-13:
            break
    grad = model.score(beta)
    loglik = float(model.loglike(beta))
    S = model.score_obs(beta)
    bread = np.linalg.inv(-model.hessian(beta))
    return dict(beta=beta, loglik=loglik, grad_norm=float(np.linalg.norm(grad)), S=S, bread=bread,
                k=X.shape[1], years=years, iterations=int(res.mle_retvals.get("iterations", -1)),
                converged=bool(res.mle_retvals.get("converged", False)), Z_cols=Z.shape[1])


def meat_dyadic(S, a, b, pair):
    """The paper's decomposition sum_i V_C,i - V_D - (N - 2) V_0 (meats)."""
    V0 = S.T @ S
    states = np.unique(np.concatenate([a, b]))
    total = np.zeros_like(V0)
    for i in states:
        m = (a == i) | (b == i)
        Si = S[m]
        t = Si.sum(axis=0)
        total += np.outer(t, t) + V0 - Si.T @ Si
    Dd = pd.DataFrame(S).groupby(pair).sum().to_numpy()
    return total - Dd.T @ Dd - (len(states) - 2) * V0, len(states), Dd


def main():
    t0 = time.time()
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/directed.parquet"
    used, info = frame(path)
    n = len(used)
    f = fit(used)
    S, bread, k = f["S"], f["bread"], f["k"]
    a, b = used.ccode1.to_numpy(np.int64), used.ccode2.to_numpy(np.int64)
    pair = (np.minimum(a, b) * 1000 + np.maximum(a, b))
    assert (pair == used.pair.to_numpy(np.int64)).all()
    meat, G, Dd = meat_dyadic(S, a, b, pair)
    # Year nested in neither member column: K = k + 1 + (levels - 1).
    big_k = k + 1 + (len(f["years"]) - 1)
    factor = G / (G - 1) * (n - 1) / (n - big_k)
    raw = (bread @ meat @ bread)[:k, :k]
    V = raw * factor
    Gp = Dd.shape[0]
    fac_p = Gp / (Gp - 1) * (n - 1) / (n - big_k)
    Vp = (bread @ (Dd.T @ Dd) @ bread)[:k, :k] * fac_p
    beta = f["beta"][:k]
    events = int(used[OUTCOME].sum())
    out = dict(
        source="tests/reference/h2a_dd_real.py",
        hypothesis="H2a-dd",
        formula=("mid_init ~ l(unga_affinity,1) + l(dyadigos,1) + l(land_contiguity,1) + l(log1p_mindist,1) + "
                 "l(log1p_cinc_ratio,1) + l(atop_defense,1) + l(dem_low,1) + l(any_major,1) + "
                 "poly(peace_years,3) | year"),
        vcov="dyadic:ccode1,ccode2",
        panel_command=BUILD,
        nobs=int(n), n_input=info["n_input"], dropped_missing=info["dropped_missing"],
        dropped_no_variation=info["dropped_no_variation"], dropped_singletons=info["dropped_singletons"],
        events=events, year_levels=int(len(f["years"])), states=int(G), pairs=int(Gp), big_k=int(big_k),
        factor_dyadic=factor, factor_dyad_cluster=fac_p,
        poly_basis=dict(rows=info["poly_rows"], alpha=info["poly_alpha"], norm2=info["poly_norm2"]),
        loglik=f["loglik"], gradient_norm=f["grad_norm"],
        coef={t: float(beta[j]) for j, t in enumerate(TERMS)},
        se_dyadic={t: float(np.sqrt(V[j, j])) for j, t in enumerate(TERMS)},
        raw_se_dyadic={t: float(np.sqrt(raw[j, j])) for j, t in enumerate(TERMS)},
        se_dyad_cluster={t: float(np.sqrt(Vp[j, j])) for j, t in enumerate(TERMS)},
        vcov_dyadic=[[float(V[i, j]) for j in range(k)] for i in range(k)],
        versions=dict(python=sys.version.split()[0], numpy=np.__version__, pandas=pd.__version__,
                      statsmodels=statsmodels.__version__, scipy=scipy.__version__, pyarrow=pyarrow.__version__),
    )
    wall = time.time() - t0
    (HERE / "h2a_dd_real.json").write_text(json.dumps(out, indent=1) + "\n")

    # Comparison with concord's fit.
    c = json.loads(CONCORD.read_text())
    cc = {r["term"]: r for r in c["coefficients"]}
    print(f"nobs: reference {n}, concord {c['nobs']}; n_input {info['n_input']} vs {c['n_input']}; "
          f"missing {info['dropped_missing']} vs {c['dropped']['missing']}; events {events}")
    print(f"loglik: reference {f['loglik']:.10f}, concord {c['loglik']:.10f}, "
          f"rel diff {abs(f['loglik'] - c['loglik']) / abs(c['loglik']):.2e}")
    print(f"states {G}, pairs {Gp}, K {big_k}, factor {factor:.8f}, gradient norm {f['grad_norm']:.2e}")
    print(f"{'term':24s} {'coef concord':>16s} {'coef ref':>16s} {'rel':>9s} {'se concord':>12s} "
          f"{'se ref':>12s} {'rel':>9s} {'se pair CR1':>12s}")
    worst = (0.0, 0.0)
    for j, t in enumerate(TERMS):
        ce, cs = cc[t]["estimate"], cc[t]["std_error"]
        re = abs(beta[j] - ce) / abs(ce)
        rs = abs(np.sqrt(V[j, j]) - cs) / cs
        worst = (max(worst[0], re), max(worst[1], rs))
        print(f"{t:24s} {ce:16.10g} {beta[j]:16.10g} {re:9.2e} {cs:12.6g} {np.sqrt(V[j, j]):12.6g} {rs:9.2e} "
              f"{np.sqrt(Vp[j, j]):12.6g}")
    cv = np.array(c["vcov_matrix"])
    print(f"largest relative difference: coef {worst[0]:.2e}, se {worst[1]:.2e}; "
          f"vcov max |diff| / max|V| {np.max(np.abs(cv - V)) / np.max(np.abs(cv)):.2e}")
    print(f"wall time {wall:.1f} s")


if __name__ == "__main__":
    main()
