#!/usr/bin/env python3
"""Stata .dta fixtures written by pandas (an independent writer), for
concord's .dta reader (tests/formats.rs), and the values they hold.

Writes tests/fixtures/stata/v{114,117,118,119}.dta (one small state-year
table: byte/int/long/float/double columns, missing values, a str# column,
and from release 117 on a strL column) and tests/reference/stata.json.
Re-run: python3 tests/reference/stata.py
"""
import json, pathlib
import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "stata"
FIX.mkdir(parents=True, exist_ok=True)

df = pd.DataFrame({
    "ccode": np.array([2, 20, 200, 365, 710], dtype=np.int16),            # int
    "year": np.array([1990, 1990, 1991, 1991, 1992], dtype=np.int32),     # long
    "major": np.array([1, 0, 1, 1, 1], dtype=np.int8),                    # byte
    "igo_full": [60.0, 55.0, np.nan, 58.0, 40.0],                         # double, one missing
    "cinc": np.array([0.14, 0.009, 0.03, np.nan, 0.11], dtype=np.float32),  # float, one missing
    "stateabb": ["USA", "CAN", "UKG", "RUS", "CHN"],                      # str#
})
versions = [114, 117, 118, 119]
expected = {}
for v in versions:
    d = df.copy()
    kw = {}
    if v >= 117:
        d["note"] = ["a long note " * 30, "", "short", "x" * 300, "é unicode" if v >= 118 else "plain"]
        kw["convert_strl"] = ["note"]
    path = FIX / f"v{v}.dta"
    d.to_stata(path, write_index=False, version=v, **kw)
    back = pd.read_stata(path, convert_missing=False)
    cols = {}
    for c in back.columns:
        s = back[c]
        if s.dtype == object:
            cols[c] = {"type": "str", "values": [None if x is None else str(x) for x in s]}
        elif np.issubdtype(s.dtype, np.floating):
            cols[c] = {"type": "float", "values": [None if np.isnan(x) else float(x) for x in s]}
        else:
            cols[c] = {"type": "int", "values": [int(x) for x in s]}
    expected[f"v{v}"] = {"rows": len(back), "columns": cols}

(HERE / "stata.json").write_text(json.dumps({"pandas": pd.__version__, "files": expected}, indent=1))
print("wrote", ", ".join(f"v{v}.dta" for v in versions))
