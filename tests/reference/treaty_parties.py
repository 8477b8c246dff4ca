#!/usr/bin/env python3
"""Reference counts of treaties in force per state-year from IEADB and GGO (manytreaties).

Written from the definitions below with pandas, not from the Rust code.

Date rule (every date column): a value's year is the run of 4 digits at the start
of the string ('1999-01-01' -> 1999, '1999-01-01..2000-02-02' -> 1999,
'1999-?' -> 1999). Empty/missing or no 4 leading digits -> missing. Years 2899
and 9999 are sentinels ("not in force" / "still in force") and count as missing.

IEADB (treaty_parties/ieadb_parties.csv, one row per state membership): rows with
missing ccode are dropped. start = year(Rat) if present, else year(Force); if
start is missing the row is not counted. If year(Force) is present and larger
than start, start = year(Force) (the agreement must be in force). end = year(End)
(missing = still in force). The row counts for the state in every year y with
start <= y and (end missing or y <= end).
  ieadb_in_force(ccode, y) = number of distinct treatyID counted for the state in y.

GGO (treaty_parties/ggo_parties.csv + ggo_agreements.csv): rows with missing ccode
dropped. start = year(StateForce) if present; else max(year(StateRatification),
year(Force)) if both present; else not counted (signature only).
end = year(StateEnd) if present, else year(Term) if present, else missing.
Counts for y with start <= y and (end missing or y <= end). Domain of an
agreement: TypeDomain split on ',' and stripped ('Trade,Environment' counts in
both); missing domain -> 'none'. Choices where the definitions are silent: a
treatyID listed more than once in ggo_agreements.csv gets the union of its rows'
domains; a party treatyID absent from ggo_agreements.csv has domain 'none'.
  ggo_in_force     distinct treatyID, all domains
  ggo_environment, ggo_trade, ggo_health, ggo_human_rights ('Human Rights'),
  ggo_security, ggo_labour: distinct treatyID of that domain

Outputs are restricted to years 1816-2020 (a treaty starting earlier still
counts from 1816 on while in force). Variables are 0 when nothing is counted.

Output tests/reference/treaty_parties.json: "named" (15 state-years), "totals"
(sum over states of each variable for selected years), "rows_dropped" (rows
dropped for missing ccode / not counted for missing start), "notes".

Run from /work/main:
    python3 tests/reference/treaty_parties.py ../shared/data
(the data directory is argv[1], default ../shared/data).
"""
import json, pathlib, sys, time

import pandas as pd

DATA = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data") / "treaty_parties"
OUT = pathlib.Path(__file__).with_name("treaty_parties.json")
Y0, Y1 = 1816, 2020
DOMAINS = {"ggo_environment": "Environment", "ggo_trade": "Trade", "ggo_health": "Health",
           "ggo_human_rights": "Human Rights", "ggo_security": "Security", "ggo_labour": "Labour"}
VARS = ["ieadb_in_force", "ggo_in_force", *DOMAINS]
NAMED = [(2, 1950), (2, 2000), (200, 1913), (220, 1990), (365, 1980), (710, 2010), (255, 1938),
         (20, 1975), (900, 2015), (560, 2005), (101, 2000),
         (365, 2020), (750, 1995)]  # own choice: Russia latest year, India
TOTAL_YEARS = [1900, 1950, 1975, 2000, 2010, 2020]

t0 = time.time()


def year(col):
    """Leading 4-digit year as float (NaN if missing/unparseable/sentinel)."""
    y = pd.to_numeric(col.str.extract(r"^(\d{4})", expand=False), errors="coerce")
    return y.mask(y.isin([2899, 9999]))


def expand(rows):
    """rows with ccode, treatyID, start, end (NaN = open) -> one row per in-force year."""
    lo = rows.start.clip(lower=Y0)
    hi = rows.end.fillna(Y1).clip(upper=Y1)
    rows = rows.assign(lo=lo, hi=hi)[lo <= hi]
    rows = rows.loc[rows.index.repeat((rows.hi - rows.lo + 1).astype(int))]
    rows["year"] = (rows.lo + rows.groupby(level=0).cumcount()).astype(int)
    return rows[["ccode", "treatyID", "year"]].drop_duplicates()


dropped = {}

# ---- IEADB
ie = pd.read_csv(DATA / "ieadb_parties.csv", dtype=str)
dropped["ieadb_missing_ccode"] = int(ie.ccode.isna().sum())
ie = ie[ie.ccode.notna()].reset_index(drop=True)
rat, force = year(ie.Rat), year(ie.Force)
start = rat.fillna(force)
start = start.where(force.isna() | (force <= start), force)  # NaN start stays NaN
ie = ie.assign(ccode=ie.ccode.astype(int), start=start, end=year(ie.End))
dropped["ieadb_missing_start"] = int(ie.start.isna().sum())
ie_years = expand(ie[ie.start.notna()])
ieadb = ie_years.groupby(["ccode", "year"]).treatyID.nunique().rename("ieadb_in_force")

# ---- GGO
gp = pd.read_csv(DATA / "ggo_parties.csv", dtype=str)
ga = pd.read_csv(DATA / "ggo_agreements.csv", dtype=str)
dropped["ggo_missing_ccode"] = int(gp.ccode.isna().sum())
gp = gp[gp.ccode.notna()].reset_index(drop=True)
sf, sr, f = year(gp.StateForce), year(gp.StateRatification), year(gp.Force)
start = sf.fillna(pd.concat([sr, f], axis=1).max(axis=1, skipna=False))
end = year(gp.StateEnd).fillna(year(gp.Term))
gp = gp.assign(ccode=gp.ccode.astype(int), start=start, end=end)
dropped["ggo_missing_start"] = int(gp.start.isna().sum())
gg_years = expand(gp[gp.start.notna()])

dom = ga[["treatyID", "TypeDomain"]].assign(
    domain=ga.TypeDomain.fillna("none").str.split(",")).explode("domain")
dom["domain"] = dom.domain.str.strip().replace("", "none")
dom = dom[["treatyID", "domain"]].drop_duplicates()
gd = gg_years.merge(dom, on="treatyID", how="left").fillna({"domain": "none"})

ggo = [gg_years.groupby(["ccode", "year"]).treatyID.nunique().rename("ggo_in_force")]
for var, name in DOMAINS.items():
    sub = gd[gd.domain == name]
    ggo.append(sub.groupby(["ccode", "year"]).treatyID.nunique().rename(var))

panel = pd.concat([ieadb, *ggo], axis=1).fillna(0).astype(int)[VARS].sort_index()
assert panel.index.get_level_values("year").min() >= Y0
assert panel.index.get_level_values("year").max() <= Y1
# a domain count never exceeds the all-domain count
assert all((panel[v] <= panel.ggo_in_force).all() for v in DOMAINS)


def row(c, y):
    vals = panel.loc[(c, y)] if (c, y) in panel.index else pd.Series(0, index=VARS)
    return {"ccode": c, "year": y, **{v: int(vals[v]) for v in VARS}}


def first_max(var):
    """State-year with the largest var (ties: smallest ccode, then year)."""
    m = panel[panel[var] == panel[var].max()].index[0]
    return int(m[0]), int(m[1])


named = list(NAMED)
for var in ["ggo_security", "ggo_labour"]:
    named.insert(11, first_max(var))
out = {
    "named": [row(c, y) for c, y in named],
    "totals": {str(y): {v: int(panel.xs(y, level="year")[v].sum()) if y in panel.index.get_level_values("year")
                        else 0 for v in VARS} for y in TOTAL_YEARS},
    "rows_dropped": dropped,
    "notes": [
        "named rows 12-13: state-years with the largest ggo_labour / ggo_security (ties: smallest ccode, year);"
        " rows 14-15: own choice (365,2020), (750,1995)",
        f"ggo_agreements.csv: {int(ga.treatyID.duplicated().sum())} duplicated treatyID rows (domains unioned)",
        f"ggo_parties rows (with ccode) whose treatyID is not in ggo_agreements (domain 'none'):"
        f" {int((~gp.treatyID.isin(ga.treatyID)).sum())}",
        f"counted rows with end < start (never in force): IEADB {int((ie.end < ie.start).sum())},"
        f" GGO {int((gp.end < gp.start).sum())}",
    ],
}
assert len(out["named"]) == 15
OUT.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {OUT} in {time.time() - t0:.2f}s")
