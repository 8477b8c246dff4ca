#!/usr/bin/env python3
"""Reference scenario predictions for tests/scenarios.rs (`concord plot scenarios`).

Observed-value predictions (Hanmer and Kalkan 2013; King, Tomz and Wittenberg
2000 without the simulation): the logit is fitted with statsmodels' formula
API on tests/fixtures/study_dyads.csv, then for each scenario the named
variables are set in every row of the estimation sample, the design is rebuilt
by patsy from the formula (so `I(peace_years**2)` and the interaction follow),
and the predicted probability at the estimated coefficients is averaged over
the rows. First differences are taken against the first scenario. The second
case has a lagged regressor: `l(dyadigos,1)` is dyadigos a year earlier in the
same dyad (ccode1, ccode2); a scenario setting dyadigos sets its lag too (a
variable held at a value in every year has that value a year earlier).

Run from the repository:  python3 tests/reference/scenarios.py
Writes tests/reference/scenarios.json (versions recorded in it).
"""
import json, pathlib

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.formula.api as smf

HERE = pathlib.Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "study_dyads.csv"


def fit_logit(formula, df):
    # Newton to a tight tolerance: the reference is the MLE, not an iterate.
    return smf.logit(formula, df).fit(method="newton", tol=1e-14, maxiter=200, disp=False)


def case(cid, concord_formula, sm_formula, df, scenarios):
    res = fit_logit(sm_formula, df)
    rows = df.loc[res.model.data.row_labels]
    preds = []
    for name, _, sets in scenarios:
        d = rows.copy()
        for v, x in sets.items():
            d[v] = x
        preds.append(float(np.mean(res.predict(d))))
    return {
        "id": cid,
        "formula": concord_formula,
        "nobs": int(res.nobs),
        "coefficients": {k: float(v) for k, v in res.params.items()},
        "scenarios": [
            {"text": f"{name}: " + ", ".join(f"{v}={x}" for v, x in sets.items()), "prediction": p}
            for (name, sets, _), p in zip(scenarios, preds)
        ],
        "differences": [p - preds[0] for p in preds[1:]],
    }


def main():
    df = pd.read_csv(FIX)
    cases = [
        case(
            "interaction",
            "mid_onset ~ dyadigos*land_contiguity + peace_years + I(peace_years^2) + unga_affinity",
            "mid_onset ~ dyadigos*land_contiguity + peace_years + I(peace_years**2) + unga_affinity",
            df,
            [
                # (name, as concord's scenario sets it, as the data frame is set)
                ("Low IGO", {"dyadigos": 5}, {"dyadigos": 5}),
                ("High IGO", {"dyadigos": 25, "peace_years": 5}, {"dyadigos": 25, "peace_years": 5}),
                ("Contiguous", {"land_contiguity": 1}, {"land_contiguity": 1}),
            ],
        )
    ]
    # The lag within the dyad, by year (a missing year leaves it missing).
    prev = df[["ccode1", "ccode2", "year", "dyadigos"]].rename(columns={"dyadigos": "lag_dyadigos"})
    prev["year"] = prev["year"] + 1
    dl = df.merge(prev, on=["ccode1", "ccode2", "year"], how="left")
    dl = dl.dropna(subset=["lag_dyadigos"]).reset_index(drop=True)
    cases.append(
        case(
            "lag",
            "mid_onset ~ l(dyadigos,1) + peace_years + unga_affinity",
            "mid_onset ~ lag_dyadigos + peace_years + unga_affinity",
            dl,
            [("Low IGO", {"dyadigos": 5}, {"lag_dyadigos": 5}), ("High IGO", {"dyadigos": 25}, {"lag_dyadigos": 25})],
        )
    )
    out = {
        "fixture": "tests/fixtures/study_dyads.csv",
        "versions": {"statsmodels": statsmodels.__version__, "pandas": pd.__version__, "numpy": np.__version__},
        "cases": cases,
    }
    (HERE / "scenarios.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {HERE / 'scenarios.json'}")


if __name__ == "__main__":
    main()
