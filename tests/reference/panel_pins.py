#!/usr/bin/env python3
"""Independent pins for the panel tests (tests/panels.rs), computed with the
Python standard library straight from the source files in ../shared/data.

Run: python3 tests/reference/panel_pins.py ../shared/data > tests/reference/panel_pins.json
"""
import csv, gzip, json, sys, collections, re

D = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
def rows(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(f"{D}/{path}", "rt", encoding="utf-8") as f:
        yield from csv.DictReader(f)

FROM, TO = 1946, 2014
out = {}

# State-years: COW membership spells expanded, unique (ccode, year).
sy = set()
for r in rows("cow_states/cow_states.csv"):
    for y in range(max(int(r["styear"]), FROM), min(int(r["endyear"]), TO) + 1):
        sy.add((int(r["ccode"]), y))
out["state_year_rows"] = len(sy)
out["state_year_units"] = len({c for c, _ in sy})
out["states_in_1990"] = sum(1 for c, y in sy if y == 1990)

# Dyad-years: directed COW dyads with ccode1 < ccode2.
ddy = [(int(r["ccode1"]), int(r["ccode2"]), int(r["year"])) for r in rows("cow_dyads/cow_ddy.csv.gz")]
out["dyad_year_rows"] = sum(1 for a, b, y in ddy if a < b and FROM <= y <= TO)

# IGO memberships.
igo = {(int(r["ccode"]), int(r["year"])): int(r["sum_igo_full"]) for r in rows("cow_igo/cow_igo_sy.csv")}
out["igo_full_usa_1990"] = igo[(2, 1990)]
out["igo_full_fra_1960"] = igo[(220, 1960)]
ndy = {(int(r["ccode1"]), int(r["ccode2"]), int(r["year"])): int(r["dyadigos"]) for r in rows("cow_igo/cow_igo_ndy.csv")}
out["dyadigos_usa_can_2000"] = ndy[(2, 20, 2000)]

# MID onsets per year (disputes starting in the year, MIDA).
mida = collections.Counter(int(r["styear"]) for r in rows("cow_mid/mida_5_0.csv"))
out["mid_onsets_by_year"] = {str(y): mida.get(y, 0) for y in range(FROM, TO + 1)}
# State-year MID participant onsets: first spell per (dispute, state).
first = {}
for r in rows("cow_mid/midb_5_0.csv"):
    k = (int(r["dispnum"]), int(r["ccode"]))
    first[k] = min(first.get(k, 9999), int(r["styear"]))
count = collections.Counter((c, y) for (d, c), y in first.items())
out["mid_count_usa_1990s"] = sum(count.get((2, y), 0) for y in range(1990, 2000))
out["mid_state_onsets_total"] = sum(v for (c, y), v in count.items() if (c, y) in sy)

# Dyadic MID onsets (non-directed, one row per dyad-year).
mids = {(int(r["ccode1"]), int(r["ccode2"]), int(r["year"])): int(r["cowmidonset"])
        for r in rows("cow_mid/cow_mid_ddydisps.csv") if int(r["ccode1"]) < int(r["ccode2"])}
ddy_set = set(ddy)
out["dyad_mid_onsets_total"] = sum(v for (a, b, y), v in mids.items() if FROM <= y <= TO and (a, b, y) in ddy_set)

# Rome Statute (18-10): states with consent by 2005, among mapped UN participants.
codes = list(rows("country_codes/codelist.csv"))
def cow(name):
    if name == "Serbia":
        return 345
    hits = set()
    for r in codes:
        if r["cown"] in ("", "NA"):
            continue
        try:
            if re.search(r["country.name.en.regex"], name, re.I):
                hits.add(int(r["cown"]))
        except re.error:
            pass
    return hits.pop() if len(hits) == 1 else None
icc = set()
for r in rows("un_treaties/treaty_participation.csv"):
    if r["treaty_id"] == "18-10" and r["consent_date"] and int(r["consent_date"][:4]) <= 2005:
        c = cow(r["participant"])
        if c is not None:
            icc.add(c)
out["icc_members_2005"] = len({c for c in icc if (c, 2005) in sy})

# UN vetoes in 1986 and wars beginning in 1950.
out["vetoes_1986"] = sum(1 for r in rows("unsc_vetoes/unsc_vetoes_1946_2022.csv") if r["year"] == "1986")
wstart = {}
for r in rows("cow_war/cow_war_inter.csv"):
    w = int(r["warnum"]); wstart[w] = min(wstart.get(w, 9999), int(r["year"]))
out["wars_1950"] = sum(1 for y in wstart.values() if y == 1950)

# UNGA: USA-Canada affinity in 1980 (votes 1-3 only).
votes = collections.defaultdict(dict)
for r in rows("unga_votes/unga_votes_1946_2015.csv.gz"):
    if r["year"] == "1980" and r["vote"] in ("1", "2", "3") and r["ccode"] in ("2", "20"):
        votes[r["rcid"]][r["ccode"]] = int(r["vote"])
joint = [(v["2"], v["20"]) for v in votes.values() if "2" in v and "20" in v]
out["unga_usa_can_1980"] = {
    "joint": len(joint),
    "affinity": sum(a == b for a, b in joint) / len(joint),
    "s_score": 1 - sum(abs(a - b) for a, b in joint) / len(joint),
}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
