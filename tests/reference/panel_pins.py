#!/usr/bin/env python3
"""Independent pins for the panel tests (tests/panels.rs), computed with the
Python standard library straight from the source files in ../shared/data, and
(`fixes`, key "fixes") with pandas for the defects of issue 16.

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


def fixes():
    """Pins of the issue-16 defect fixes, recomputed with pandas from the raw
    files and the rules stated in README ("The panels"), not from concord's code.
    The audit (../shared/reviews/state-year-audit.md) and the referee report
    (section 7) give the counts checked by the asserts below."""
    import numpy as np
    import pandas as pd

    def csv(path, **kw):
        return pd.read_csv(f"{D}/{path}", **kw)

    res = {}
    # ---- the frames: COW state-years 1816-2016, first system year per state
    st = csv("cow_states/cow_states.csv")
    sy = pd.DataFrame(
        [(r.ccode, y) for r in st.itertuples() for y in range(r.styear, r.endyear + 1)], columns=["ccode", "year"]
    ).drop_duplicates().sort_values(["ccode", "year"]).reset_index(drop=True)
    ddy = csv("cow_dyads/cow_ddy.csv.gz")
    dy = ddy[(ddy.ccode1 < ddy.ccode2) & (ddy.year <= 2014)].sort_values(["ccode1", "ccode2", "year"]).reset_index(drop=True)

    def peace(frame, units, event, first, last):
        """Years since the unit's last event before the row's year; clock from the
        unit's first row in [first, last]; missing outside it or where the event is."""
        w = frame[(frame.year >= first) & (frame.year <= last)][units + ["year", event]].copy()
        g = w.groupby(units, sort=False)
        w["oy"] = w.year.where(w[event] == 1)
        w["prev"] = g["oy"].shift(1)
        w["prev"] = w.groupby(units, sort=False)["prev"].ffill()
        w["start"] = g["year"].transform("min") - 1
        w["py"] = w.year - w.prev.fillna(w.start) - 1
        w.loc[w[event].isna(), "py"] = np.nan
        return frame.merge(w[units + ["year", "py"]], on=units + ["year"], how="left")["py"]

    def stats(v):
        v = pd.Series(v, dtype="float64")
        return {"n": int(v.notna().sum()), "missing": int(v.isna().sum()),
                "sum": float(v.sum()), "sumsq": float((v ** 2).sum())}

    # ---- state-year onsets
    midb = csv("cow_mid/midb_5_0.csv")
    mida = csv("cow_mid/mida_5_0.csv")
    fm = midb.groupby(["dispnum", "ccode"]).styear.min().reset_index().rename(columns={"styear": "year"})
    fm = fm.merge(mida[["dispnum", "fatality"]], on="dispnum")
    mid = fm.groupby(["ccode", "year"]).size().rename("mid").reset_index()
    fat = fm[fm.fatality >= 1].groupby(["ccode", "year"]).size().rename("fatal").reset_index()
    gp = csv("gml_mid/gml_part.csv")
    gml = gp.groupby(["dispnum", "ccode"]).styear.min().reset_index().rename(columns={"styear": "year"})
    gml = gml.groupby(["ccode", "year"]).size().rename("gml").reset_index()
    war = csv("cow_war/cow_war_inter.csv")
    entry = war.groupby(["warnum", "ccode1"]).year.min().reset_index().rename(columns={"ccode1": "ccode"})
    wr = entry.groupby(["ccode", "year"]).size().rename("war").reset_index()
    old = war[war.cowinteronset == 1].groupby(["ccode1", "year"]).size().rename("old").reset_index()
    old = old.rename(columns={"ccode1": "ccode"})
    # UCDP ACD onsets by type: primary parties (gwno_a; gwno_b of interstate
    # conflicts), a conflict-party year whose party was not in it the year before.
    acd = csv("ucdp/ucdp_acd.csv")
    acd = acd[acd.type_of_conflict != "extrasystemic"]
    inter = acd.type_of_conflict == "interstate"
    parts = pd.concat([
        acd[["conflict_id", "year", "gwno_a", "type_of_conflict"]].rename(columns={"gwno_a": "gw"}),
        acd[inter][["conflict_id", "year", "gwno_b", "type_of_conflict"]].rename(columns={"gwno_b": "gw"}),
    ]).dropna(subset=["gw"]).drop_duplicates(["conflict_id", "year", "gw"])
    prev = parts[["conflict_id", "year", "gw"]].assign(year=lambda x: x.year + 1, was=1)
    parts = parts.merge(prev, on=["conflict_id", "year", "gw"], how="left")
    on = parts[parts.was.isna()]
    on = on.assign(inter=(on.type_of_conflict == "interstate").astype(int),
                   intra=(on.type_of_conflict != "interstate").astype(int))
    on = on.groupby(["gw", "year"])[["inter", "intra"]].max().reset_index()
    cw = csv("cow_states/cow_gw_years.csv").dropna(subset=["ccode", "gwcode"])
    cw = cw[(cw.year >= 1946) & (cw.year <= 2024)][["ccode", "gwcode", "year"]]
    cw = cw.merge(on.rename(columns={"gw": "gwcode"}), on=["gwcode", "year"], how="left").fillna({"inter": 0, "intra": 0})
    cw = cw.drop_duplicates(["ccode", "year"])

    s = sy.copy()
    for df_, c in [(mid, "mid"), (fat, "fatal"), (gml, "gml"), (wr, "war"), (old, "old")]:
        s = s.merge(df_, on=["ccode", "year"], how="left")
        s[c] = (s[c].fillna(0) > 0).astype(float)
    s.loc[s.year > 2014, ["mid", "fatal"]] = np.nan
    s.loc[s.year > 2010, "gml"] = np.nan
    s.loc[s.year > 2007, ["war", "old"]] = np.nan
    s = s.merge(cw[["ccode", "year", "inter", "intra"]], on=["ccode", "year"], how="left")
    s["py_mid"] = peace(s, ["ccode"], "mid", 1816, 2014)
    s["py_gml"] = peace(s, ["ccode"], "gml", 1816, 2010)
    s["py_fatal"] = peace(s, ["ccode"], "fatal", 1816, 2014)
    s["py_war"] = peace(s, ["ccode"], "war", 1816, 2007)
    s["py_ucdp"] = peace(s, ["ccode"], "inter", 1946, 2024)
    w = s[(s.year >= FROM) & (s.year <= TO)]
    # The audit: 141 onsets 1946-2014 (concord had 148), 61 extra in 1816-2016.
    assert int(w.war.sum()) == 141 and int(w.old.sum()) == 148, (w.war.sum(), w.old.sum())
    assert int(s.old.sum() - s.war.sum()) == 61
    res["war_onsets_1946_2014"] = int(w.war.sum())
    res["war_onsets_1816_2016"] = int(s.war.sum())
    res["war_onset_rows"] = {f"{c}-{y}": int(w[(w.ccode == c) & (w.year == y)].war.iloc[0])
                             for c, y in [(710, 1950), (710, 1951), (731, 1951), (816, 1965), (816, 1966),
                                          (816, 1967), (645, 1990), (645, 1991), (600, 1958), (510, 1979)]}
    res["ucdp_onset_interstate_sy"] = stats(w.inter)
    res["ucdp_onset_intrastate_sy"] = stats(w.intra)
    for c in ["py_mid", "py_gml", "py_fatal", "py_war", "py_ucdp"]:
        res[f"sy_{c}"] = stats(w[c])
    full = s[s.year <= 2016]
    res["sy_full_py_war"] = stats(full.py_war)
    res["sy_full_py_mid"] = stats(full.py_mid)
    res["sy_rows_full"] = len(full)

    # ---- Polity5: of a duplicated (ccode, year), the entity that continues into
    # the next year (else the later row).
    pol = csv("democracy/polity5.csv").dropna(subset=["ccode"])
    pol["row"] = range(len(pol))
    nxt = pol[["ccode", "year", "country"]].assign(year=lambda x: x.year - 1, cont=1).drop_duplicates()
    pol = pol.merge(nxt, on=["ccode", "year", "country"], how="left").fillna({"cont": 0})
    dups = pol[pol.duplicated(["ccode", "year"], keep=False)]
    res["polity_duplicate_keys"] = int(dups[["ccode", "year"]].drop_duplicates().shape[0])
    pol = pol.sort_values(["ccode", "year", "cont", "row"]).drop_duplicates(["ccode", "year"], keep="last")
    pval = lambda c, y: float(pol[(pol.ccode == c) & (pol.year == y)].polity2.iloc[0])
    res["polity2_rows"] = {"625-2011": pval(625, 2011), "345-2006": pval(345, 2006),
                           "816-1976": pval(816, 1976), "530-1993": pval(530, 1993)}

    # ---- dyad-year: dem_low/dem_high/cinc_ratio, missing when either side is
    p2 = pol[["ccode", "year", "polity2"]]
    nmc = csv("cow_nmc/cow_nmc.csv")[["ccode", "year", "cinc"]]
    d = dy[dy.year >= FROM].copy()
    for side in "12":
        d = d.merge(p2.rename(columns={"ccode": f"ccode{side}", "polity2": f"p{side}"}), on=[f"ccode{side}", "year"], how="left")
        d = d.merge(nmc.rename(columns={"ccode": f"ccode{side}", "cinc": f"c{side}"}), on=[f"ccode{side}", "year"], how="left")
    both = d.p1.notna() & d.p2.notna()
    d["dem_low"] = np.where(both, np.minimum(d.p1, d.p2), np.nan)
    d["dem_high"] = np.where(both, np.maximum(d.p1, d.p2), np.nan)
    lo, hi = np.minimum(d.c1, d.c2), np.maximum(d.c1, d.c2)
    d["cinc_ratio"] = np.where(d.c1.notna() & d.c2.notna() & (lo > 0), hi / lo, np.nan)
    # The referee: 85,049 / 73,737 dyad-years were wrong, 170,615 missing when coded right.
    assert int((d.p1.isna() & d.p2.notna()).sum()) == 85049
    assert int((d.p2.isna() & d.p1.notna()).sum()) == 73737
    assert int(d.dem_low.isna().sum()) == 170615
    res["dem_low"] = stats(d.dem_low)
    res["dem_high"] = stats(d.dem_high)
    res["cinc_ratio_n"] = int(d.cinc_ratio.notna().sum())
    res["cinc_ratio_log_sum"] = float(np.log(d.cinc_ratio).sum())
    one_missing = d[d.p1.isna() & d.p2.notna()].iloc[0]
    res["dem_one_side_missing"] = {"ccode1": int(one_missing.ccode1), "ccode2": int(one_missing.ccode2),
                                   "year": int(one_missing.year)}

    # ---- dyad-year peace years and the ongoing-dispute flag
    mdd = csv("cow_mid/cow_mid_ddydisps.csv")
    mdd = mdd[mdd.ccode1 < mdd.ccode2]
    gdd = csv("gml_mid/gml_mid_ddydisps.csv")
    gdd = gdd[gdd.ccode1 < gdd.ccode2]
    k = ["ccode1", "ccode2", "year"]
    e = dy.merge(mdd[k + ["cowmidonset", "fatality"]], on=k, how="left").merge(gdd[k + ["gmlmidonset"]], on=k, how="left")
    e["mid"] = e.cowmidonset.fillna(0)
    e["fatal"] = ((e.cowmidonset == 1) & (e.fatality >= 1)).astype(float)
    e["gml"] = e.gmlmidonset.fillna(0)
    e.loc[e.year > 2010, "gml"] = np.nan
    dd = csv("cow_mid/cow_mid_dirdisps.csv")
    dd = dd.assign(a=dd[["ccode1", "ccode2"]].min(axis=1), b=dd[["ccode1", "ccode2"]].max(axis=1))
    dd = dd[["dispnum", "a", "b", "year"]].drop_duplicates()
    pr = dd.merge(dd.assign(year=dd.year + 1, prior=1), on=["dispnum", "a", "b", "year"])
    pr = pr[["a", "b", "year"]].drop_duplicates().rename(columns={"a": "ccode1", "b": "ccode2"}).assign(prior=1)
    e = e.merge(pr, on=k, how="left").fillna({"prior": 0})
    for ev, name, last in [("mid", "py_mid", 2014), ("gml", "py_gml", 2010), ("fatal", "py_fatal", 2014)]:
        e[name] = peace(e, ["ccode1", "ccode2"], ev, 1816, last)
    we = e[e.year >= FROM]
    for c in ["py_mid", "py_gml", "py_fatal"]:
        res[f"dy_{c}"] = stats(we[c])
    res["mid_ongoing_prior_1946_2014"] = int(we.prior.sum())
    res["mid_onsets_while_ongoing_1946_2014"] = int(((we.prior == 1) & (we.mid == 1)).sum())

    # ---- UN treaties: consent to be bound = types r a d A AA s P c C (blank = r);
    # provisional application n does not count, except 26-6 and 26-8, whose n
    # dates are ratifications. First year per (state, treaty).
    t = csv("un_treaties/treaty_participation.csv", dtype=str)
    t = t[t.consent_date.notna()]
    ok = t.consent_type.fillna("r").isin(["r", "a", "d", "A", "AA", "s", "P", "c", "C"])
    ok |= (t.consent_type == "n") & t.treaty_id.isin(["26-6", "26-8"])
    res["provisional_rows_dropped"] = int((~ok).sum())
    t = t[ok].copy()
    t["ccode"] = t.participant.map({n: cow(n) for n in t.participant.unique()})
    t = t.dropna(subset=["ccode"])
    t["ccode"] = t.ccode.astype(int)
    t["y"] = t.consent_date.str[:4].astype(int)
    t["chapter"] = t.chapter.astype(int)
    f = t.groupby(["ccode", "treaty_id"]).agg(y=("y", "min"), chapter=("chapter", "first")).reset_index()
    # Whose record a state-year reads (None: no record -> missing).
    def reads(c, y):
        if (c == 345 and 1945 <= y <= 1999) or (c == 315 and y >= 1945) or (c in (265, 680) and y >= 1945) \
                or (c == 817 and y >= 1945) or (c == 710 and 1949 <= y <= 1970) or (c == 713 and y >= 1971):
            return None
        return {260: 255, 678: 679}.get(c, 710 if (c == 713 and 1949 <= y <= 1970) else c)
    sel = {"all": f, "hr": f[f.chapter == 4], "disarm": f[f.chapter == 26]}
    yrs = {k2: {c: np.sort(g.y.values) for c, g in v.groupby("ccode")} for k2, v in sel.items()}
    ws = sy[(sy.year >= FROM) & (sy.year <= TO)].copy()
    for k2 in sel:
        vals = []
        for c, y in zip(ws.ccode, ws.year):
            r = reads(c, y)
            vals.append(np.nan if r is None else int(np.searchsorted(yrs[k2].get(r, np.array([])), y, side="right")))
        ws[k2] = vals
    res["treaties"] = {
        k2: {"missing": int(ws[k2].isna().sum()),
             "by_year": {str(y): float(v) for y, v in ws.groupby("year")[k2].sum().items()}}
        for k2 in sel
    }
    tv = lambda c, y, k2="all": (lambda v: None if np.isnan(v) else float(v))(ws[(ws.ccode == c) & (ws.year == y)][k2].iloc[0])
    res["treaty_rows"] = {f"{c}-{y}": tv(c, y) for c, y in
                          [(200, 2014), (710, 2014), (710, 1948), (710, 1960), (713, 1960), (713, 1980),
                           (345, 1990), (345, 2001), (315, 1980), (265, 1980), (680, 1980), (817, 1970),
                           (260, 1985), (385, 2014), (395, 2014)]}
    res["treaty_disarm_rows"] = {f"{c}-{y}": tv(c, y, "disarm") for c, y in [(385, 2014), (395, 2014), (94, 2014)]}
    return res


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


def directed():
    """Pins of the directed dyad-year panel (`--directed`), from the raw files:
    COW's directed dyad-years (both orders), the MID dyad-year file's Side A
    and originator flags in onset years, ATOP's directed obligations."""
    import pandas as pd

    ddy = pd.read_csv(f"{D}/cow_dyads/cow_ddy.csv.gz")
    ddy = ddy[(ddy.year >= FROM) & (ddy.year <= TO)][["ccode1", "ccode2", "year"]]
    mid = pd.read_csv(f"{D}/cow_mid/cow_mid_ddydisps.csv")
    mid = ddy.merge(mid[(mid.cowmidonset == 1)], on=["ccode1", "ccode2", "year"])
    atop = ddy.merge(pd.read_csv(f"{D}/atop/atop_alliance.csv"), on=["ccode1", "ccode2", "year"])
    # One-sided defence pledges: (a, b) pledged where (b, a) did not.
    rev = atop.rename(columns={"ccode1": "ccode2", "ccode2": "ccode1"})
    both = atop.merge(rev, on=["ccode1", "ccode2", "year"], suffixes=("", "_rev"))
    return {
        "rows": int(len(ddy)),
        "mid_init": int(((mid.sidea1 == 1) & (mid.orig1 == 1)).sum()),
        "mid_sidea": int((mid.sidea1 == 1).sum()),
        "mid_target": int((mid.sidea1 == 0).sum()),
        "atop_defense_dir": int(atop.atop_defense.sum()),
        "one_sided_defense": int(((both.atop_defense == 1) & (both.atop_defense_rev == 0)).sum()),
        "can_usa_1979_mid_sidea": [int(x) for x in mid[(mid.ccode1 == 20) & (mid.ccode2 == 2) & (mid.year == 1979)].sidea1],
    }




def relevant():
    """Pins of `conttype` and `relevant` on the non-directed dyad-years
    1946-2014, from COW Direct Contiguity 3.2 (closest type in force: spell
    years from stdate to enddate) and the COW major powers."""
    import pandas as pd

    ddy = pd.read_csv(f"{D}/cow_dyads/cow_ddy.csv.gz")
    dy = ddy[(ddy.ccode1 < ddy.ccode2) & (ddy.year >= FROM) & (ddy.year <= TO)][["ccode1", "ccode2", "year"]]
    c = pd.read_csv(f"{D}/cow_dyads/cow_contdir.csv")
    c = c[c.conttype.between(1, 5)]
    rows = [
        (min(r.ccode1, r.ccode2), max(r.ccode1, r.ccode2), y, r.conttype)
        for r in c.itertuples()
        for y in range(int(str(r.stdate)[:4]), int(str(r.enddate)[:4]) + 1)
    ]
    ct = pd.DataFrame(rows, columns=["ccode1", "ccode2", "year", "conttype"]).groupby(["ccode1", "ccode2", "year"]).conttype.min()
    dy = dy.merge(ct.reset_index(), on=["ccode1", "ccode2", "year"], how="left")
    dy["conttype"] = dy.conttype.fillna(0).astype(int)
    m = pd.read_csv(f"{D}/cow_states/cow_majors.csv")
    major = {(r.ccode, y) for r in m.itertuples() for y in range(r.styear, r.endyear + 1)}
    mp = [(a, y) in major or (b, y) in major for a, b, y in zip(dy.ccode1, dy.ccode2, dy.year)]
    rel = (dy.conttype > 0) | pd.Series(mp, index=dy.index)
    return {
        "conttype_counts": {str(k): int(v) for k, v in dy.conttype.value_counts().sort_index().items()},
        "relevant": int(rel.sum()),
    }


out["fixes"] = fixes()
out["directed"] = directed()
out["relevant"] = relevant()
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
