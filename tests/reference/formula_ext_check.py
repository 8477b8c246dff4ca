#!/usr/bin/env python3
"""Cross-check of tests/reference/formula_ext.json (R fixest) with pyfixest.

Reads the JSON written by formula_ext.R, re-estimates every case pyfixest can
express and writes back into each case either "pyfixest_max_rel_diff" (the
largest |fixest - pyfixest| / |fixest| over the coefficients and their
standard errors), with "pyfixest_formula" (the formula given to pyfixest) and
"pyfixest_note" where the model had to be re-expressed, or
"pyfixest": "unsupported: <reason>". Everything else in the file is kept.

Translations: R's x^2 / I(x^2) -> I(x**2) (pyfixest/formulaic reads x1^2 as
the interaction power, i.e. plain x1, and ^ inside I() as Python xor);
log/exp/sqrt/abs -> np.*; c(y1, y2) ~ -> y1 + y2 ~; subset -> the rows
selected with pandas.query before the fit; lags l(x1, k) -> lag columns built
here (the panel is balanced, unit x time 2000-2014); varying slopes
unit[x1] -> i(unit, x1) | unit, unit[[x1]] -> i(unit, x1) (the slope
coefficients become ordinary coefficients, compared on the common ones).
vcov: iid -> "iid", hc1 -> "hetero", cluster:unit -> {"CRV1": "unit"};
pyfixest's default ssc mirrors fixest's; tolerances tightened (fixef_tol 1e-11,
GLM iwls_tol 1e-14: pyfixest's s.e. come from the weights of the previous
IRLS step, 1e-12 leaves them 1e-7 off). Run after formula_ext.R:
    python3 tests/reference/formula_ext_check.py
"""
import json, pathlib, re, warnings

import numpy as np
import pandas as pd
import pyfixest as pf

warnings.filterwarnings("ignore")
HERE = pathlib.Path(__file__).resolve().parent
JSON = HERE / "formula_ext.json"
FIX = HERE.parent / "fixtures" / "sim_panel.csv"


def vcov_of(v):
    return {"iid": "iid", "hc1": "hetero"}.get(v) or {"CRV1": v.split(":", 1)[1]}


def translate(f):
    """fixest formula -> (pyfixest formula, note or None)."""
    note = []
    g = f
    g = re.sub(r"I\((\w+)\^(\d+)\)", r"I(\1**\2)", g)
    g = re.sub(r"(?<![\w(])(\w+)\^(\d+)(?=\s*(\+|\||$))", r"I(\1**\2)", g)  # bare x1^2 in the RHS
    g = re.sub(r"\b(log|exp|sqrt|abs)\(", r"np.\1(", g)
    m = re.match(r"c\(([^)]*)\)\s*~", g)
    if m:
        g = " + ".join(s.strip() for s in m.group(1).split(",")) + " ~" + g[m.end():]
    # lags
    def lag(mm):
        var, a, b = mm.group(1), int(mm.group(2)), int(mm.group(3) or mm.group(2))
        return " + ".join(var if k == 0 else f"{var}_lag{k}" for k in range(a, b + 1))
    if "l(" in g:
        g = re.sub(r"\bl\((\w+),\s*(\d+)(?::(\d+))?\)", lag, g)
        note.append("lags as precomputed columns x1_lagk (balanced panel, shift within unit)")
    # varying slopes
    if "[" in g:
        lhs_rhs, fe = g.split("|", 1)
        extra, fes = [], []
        for t in (s.strip() for s in fe.split("+")):
            mm = re.match(r"(\w+)\[\[(\w+)\]\]$", t) or re.match(r"(\w+)\[(\w+)\]$", t)
            if mm:
                extra.append(f"i({mm.group(1)}, {mm.group(2)})")
                if "[[" not in t:
                    fes.append(mm.group(1))
            else:
                fes.append(t)
        g = lhs_rhs.rstrip() + " + " + " + ".join(extra) + (" | " + " + ".join(fes) if fes else "")
        note.append("varying slopes as explicit i(fe, x) coefficients")
    return g, ("; ".join(note) or None)


def lagged(df):
    df = df.sort_values(["unit", "time"]).copy()
    for k in (1, 2):
        df[f"x1_lag{k}"] = df.groupby("unit")["x1"].shift(k)
    return df


def coefs_se(fit):
    return list(zip(fit.coef().index, fit.coef().to_numpy(), fit.se().to_numpy()))


def compare(case, py):
    """py: [(name, coef, se)] from pyfixest; fixest names matched in order,
    after dropping the emulated slope coefficients."""
    ref = case["coefficients"]
    py = [t for t in py if not re.match(r"^(unit|time)::.*:(x1|time)$", str(t[0]))]
    if len(py) != len(ref):
        raise AssertionError(f"{case['id']}: {len(ref)} fixest vs {len(py)} pyfixest coefficients: {[t[0] for t in py]}")
    d = 0.0
    pairs = []
    for (name, (b, s)), (pn, pb, ps) in zip(ref.items(), py):
        pairs.append((name, str(pn)))
        d = max(d, abs(pb - b) / abs(b), abs(ps - s) / abs(s))
    return d, pairs


def fit_case(case, sim):
    fam, f = case["family"], case["formula"]
    if fam == "logit" and "weights" in case:
        return "unsupported: pyfixest 0.60 feglm() has no weights argument"
    if "split" in case:
        pf_f, note = translate(f)
        m = pf.feols(pf_f, sim, split=case["split"], vcov=vcov_of(case["vcov"]))
        key = f"{pf_f} (Sample: {case['split']} = {case['split_level']:g})"
        fit = m.all_fitted_models[key]
        return fit, pf_f, note
    if "multi" in case:
        mf = case["multi"]
        pf_f, note = translate(mf)
        m = pf.feols(pf_f, sim, vcov=vcov_of(case["vcov"]))
        fits = list(m.all_fitted_models.items())
        key, fit = fits[case["multi_index"]]
        return fit, pf_f, (note + "; " if note else "") + f"pyfixest fit '{key}'"
    df = sim
    if "subset" in case:
        df = sim.query(case["subset"]).copy()
    if "panel" in case:
        df = lagged(df)
    pf_f, note = translate(f)
    kw = dict(vcov=vcov_of(case["vcov"]), fixef_tol=1e-11)
    if fam != "gaussian":
        kw.update(iwls_tol=1e-14, iwls_maxiter=200)
    if "weights" in case:
        kw["weights"] = case["weights"]
    if fam == "gaussian":
        fit = pf.feols(pf_f, df, **kw)
    elif fam == "poisson":
        fit = pf.fepois(pf_f, df, **kw)
    else:
        fit = pf.feglm(pf_f, df, family="logit", **kw)
    return fit, pf_f, note


def main():
    j = json.loads(JSON.read_text())
    sim = pd.read_csv(FIX)
    rows = []
    for case in j["cases"]:
        for k in ("pyfixest", "pyfixest_max_rel_diff", "pyfixest_formula", "pyfixest_note", "pyfixest_nobs"):
            case.pop(k, None)
        try:
            r = fit_case(case, sim)
        except Exception as e:  # noqa: BLE001
            r = f"unsupported: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
        if isinstance(r, str):
            case["pyfixest"] = r
            rows.append((case["id"], r))
            continue
        fit, pf_f, note = r
        d, pairs = compare(case, coefs_se(fit))
        case["pyfixest_max_rel_diff"] = d
        case["pyfixest_formula"] = pf_f
        if note:
            case["pyfixest_note"] = note
        if int(fit._N) != case["nobs"]:
            case["pyfixest_nobs"] = int(fit._N)
        rows.append((case["id"], f"{d:.3g}" + ("" if int(fit._N) == case["nobs"] else f"  (pyfixest nobs {fit._N})")))
    JSON.write_text(json.dumps(j, indent=1) + "\n")
    w = max(len(r[0]) for r in rows)
    for i, v in rows:
        print(f"{i:<{w}}  {v}")


if __name__ == "__main__":
    main()
