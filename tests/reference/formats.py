#!/usr/bin/env python3
"""Fixtures for tests/formats.rs: the first 50 rows of tests/fixtures/sim_panel.csv
(with a text factor `regname`, a pandas category) in the formats researchers
exchange, written by pandas / pyarrow:
  sim50.feather            Arrow IPC (Feather v2), lz4-compressed, regname a dictionary column
  sim50.arrow              Arrow IPC, uncompressed
  sim50_cat.parquet        Parquet with regname as a dictionary (category) column
  sim50.tsv                tab-separated
  sim50_semicolon.csv      semicolon-separated
  sim50_decimal_comma.csv  semicolon-separated with decimal commas (as European spreadsheets save CSV)
  sim50_plain.csv          the same rows as comma-separated text: what the test compares against
Run from the repository root: python3 tests/reference/formats.py
"""
import pathlib

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "formats"

df = pd.read_csv(ROOT / "tests" / "fixtures" / "sim_panel.csv").head(50)
df["regname"] = pd.Categorical("r" + df["region"].astype(str))
OUT.mkdir(exist_ok=True)
feather.write_feather(df, OUT / "sim50.feather", compression="lz4")
feather.write_feather(df, OUT / "sim50.arrow", compression="uncompressed")
df.to_parquet(OUT / "sim50_cat.parquet", index=False)
df.to_csv(OUT / "sim50.tsv", sep="\t", index=False)
df.to_csv(OUT / "sim50_semicolon.csv", sep=";", index=False)
df.to_csv(OUT / "sim50_decimal_comma.csv", sep=";", decimal=",", index=False)
df.to_csv(OUT / "sim50_plain.csv", index=False)
print("pandas", pd.__version__, "pyarrow", pa.__version__, sorted(p.name for p in OUT.iterdir()))
