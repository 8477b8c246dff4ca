#!/usr/bin/env python3
"""Independent recomputation of the measures `concord data build --add` adds
(src/data/measures/), with pandas straight from the raw files in ../shared/data.
tests/measures.rs compares concord's panels with these values.

Run: python3 tests/reference/measures.py ../shared/data > tests/reference/measures.json

Every value is keyed by its unit: state-years "ccode-year", dyad-years
"ccode1-ccode2-year", system-years "year". Yearly totals are sums over the
state-years (dyad-years) of the COW system, the rows of concord's panels.
"""
import gzip, json, sys
import numpy as np
import pandas as pd

D = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
FROM, TO = 1946, 2014
out = {"from": FROM, "to": TO}

def f(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)

# ---- the frame: COW system members by year, and dyads with ccode1 < ccode2
st = pd.read_csv(f"{D}/cow_states/cow_states.csv")
members = {(int(r.ccode), y) for r in st.itertuples() for y in range(int(r.styear), int(r.endyear) + 1)}
ddy = pd.read_csv(f"{D}/cow_dyads/cow_ddy.csv.gz", usecols=["ccode1", "ccode2", "year"])
ddy = ddy[(ddy.ccode1 < ddy.ccode2) & (ddy.year >= FROM) & (ddy.year <= TO)]
dyads = set(zip(ddy.ccode1, ddy.ccode2, ddy.year))

def sy_totals(values, first, last):
    """Sum over system state-years per year of a {(ccode, year): value} map (absent = 0)."""
    tot = {}
    for y in range(max(first, FROM), min(last, TO) + 1):
        tot[str(y)] = float(sum(v for (c, yy), v in values.items() if yy == y and (c, y) in members))
    return tot

# ---- peacekeeping (IPI)
pk = pd.read_csv(f"{D}/peacekeeping/ipi_tcc_country_month.csv")
for c in ["troops", "police", "experts"]:
    pk[c] = pk[c].fillna(0)
pk["tot"] = pk.troops + pk.police + pk.experts
nmonths = pk.groupby("year").month.nunique()
g = pk.groupby(["ccode", "year"])[["troops", "police", "experts", "tot"]].sum()
means = g.div(nmonths, axis=0, level="year")
dec = pk[pk.month == 12].groupby(["ccode", "year"])[["troops", "police", "experts", "tot"]].sum()
pko = {"named": {}, "totals": {}}
for c, y in [(750, 2005), (2, 1995), (771, 2010), (770, 2008), (220, 1993), (20, 1991), (750, 1990), (750, 2014)]:
    k = f"{c}-{y}"
    pko["named"][k] = {
        "pko_troops": f(means.loc[(c, y), "troops"]) if (c, y) in means.index else 0.0,
        "pko_police": f(means.loc[(c, y), "police"]) if (c, y) in means.index else 0.0,
        "pko_experts": f(means.loc[(c, y), "experts"]) if (c, y) in means.index else 0.0,
        "pko_total": f(means.loc[(c, y), "tot"]) if (c, y) in means.index else 0.0,
        "pko_total_dec": (f(dec.loc[(c, y), "tot"]) if (c, y) in dec.index else 0.0) if y <= 2013 else None,
        "pko_troops_dec": (f(dec.loc[(c, y), "troops"]) if (c, y) in dec.index else 0.0) if y <= 2013 else None,
    }
pko["totals"]["pko_total"] = sy_totals({k: v for k, v in means.tot.items()}, 1990, 2014)
pko["totals"]["pko_troops_dec"] = sy_totals({k: v for k, v in dec.troops.items()}, 1990, 2013)
gm = pd.read_csv(f"{D}/peacekeeping/ipi_global_month.csv")
gm["year"] = gm.date.str[:4].astype(int)
gm["month"] = gm.date.str[5:7].astype(int)
mm = pd.read_csv(f"{D}/peacekeeping/ipi_mission_month.csv")
mm["year"] = mm.date.str[:4].astype(int)
pko["system"] = {
    str(y): {
        "pko_personnel": f(gm[gm.year == y].total_contributions.mean()),
        "pko_personnel_dec": f(gm[(gm.year == y) & (gm.month == 12)].total_contributions.sum()) if y <= 2016 else None,
        "pko_missions": float(mm[mm.year == y].mission.nunique()),
    }
    for y in range(1990, 2017)
}
out["peacekeeping"] = pko

# ---- Security Council
m = pd.read_csv(f"{D}/unsc/unsc_membership_1946_2024.csv").dropna(subset=["ccode"])
m["ccode"] = m.ccode.astype(int)
elected = {(r.ccode, r.year): 1 for r in m.itertuples() if r.permanent != 1}
permanent = {(r.ccode, r.year): 1 for r in m.itertuples() if r.permanent == 1}
unsc = {"named": {}, "totals": {}}
for c, y in [(2, 1990), (713, 1960), (710, 1960), (710, 1972), (713, 1972), (740, 2005), (750, 1991), (255, 1995), (365, 1950)]:
    unsc["named"][f"{c}-{y}"] = {"unsc_elected": float(elected.get((c, y), 0)), "unsc_permanent": float(permanent.get((c, y), 0))}
unsc["totals"]["unsc_elected"] = sy_totals(elected, 1946, 2024)
unsc["totals"]["unsc_permanent"] = sy_totals(permanent, 1946, 2024)
r = pd.read_csv(f"{D}/unsc/unsc_resolutions_1946_2015.csv")
unsc["system"] = {
    str(y): {
        "unsc_resolutions": float((r.year == y).sum()),
        "unsc_res_chapter7": float(r[r.year == y].acting_under_chapter_vii.sum()),
        "unsc_res_art41": float(r[r.year == y].cites_article_41.sum()),
        "unsc_res_art42": float(r[r.year == y].cites_article_42.sum()),
        "unsc_res_sanctions": float(r[r.year == y].mentions_sanctions.sum()),
    }
    for y in range(FROM, TO + 1)
}
out["unsc"] = unsc

# ---- TIES sanctions
t = pd.read_csv(f"{D}/sanctions/ties_v4_1_cases.csv", dtype=str)
def yr(s):
    return None if pd.isna(s) or not str(s).strip() else int(str(s).strip()[:4])
cases = []
for r in t.itertuples():
    senders = {int(getattr(r, c)) for c in ["sender1", "sender2", "sender3", "sender4", "sender5", "primarysender"] if not pd.isna(getattr(r, c))}
    start = yr(r.startyear)
    imposed = (yr(r.sancimpositionstartyear) or start) if r.imposition == "1" else None
    end = yr(r.endyear) if yr(r.endyear) is not None else yr(r.ongoingasofyear)
    inst = r.institution == "1"
    un = inst and not pd.isna(r.institutionid) and "4400" in str(r.institutionid).split()
    cases.append(dict(senders=senders, target=int(r.targetstate), start=start, threat=r.threat == "1",
                      imposed=imposed, end=end, inst=inst, un=un))
from collections import Counter
sc = {k: Counter() for k in ["sanc_threat_sender", "sanc_imposed_sender", "sanc_threat_target", "sanc_imposed_target",
                             "sanc_threat_sender_inst", "sanc_imposed_sender_inst", "sanc_threat_target_inst",
                             "sanc_imposed_target_inst", "sanc_threat_target_un", "sanc_imposed_target_un", "sanc_ongoing_target"]}
ongoing, onset = Counter(), Counter()
ongoing_dir, onset_dir = Counter(), Counter()  # (sender, target, year)
for c in cases:
    sfx = "_inst" if c["inst"] else ""
    for s in c["senders"]:
        if c["threat"]:
            sc["sanc_threat_sender" + sfx][(s, c["start"])] += 1
        if c["imposed"] is not None:
            sc["sanc_imposed_sender" + sfx][(s, c["imposed"])] += 1
    if c["threat"]:
        sc["sanc_threat_target" + sfx][(c["target"], c["start"])] += 1
        if c["un"]:
            sc["sanc_threat_target_un"][(c["target"], c["start"])] += 1
    years = []
    if c["imposed"] is not None:
        sc["sanc_imposed_target" + sfx][(c["target"], c["imposed"])] += 1
        if c["un"]:
            sc["sanc_imposed_target_un"][(c["target"], c["imposed"])] += 1
        last = c["end"] if c["end"] is not None and c["end"] >= c["imposed"] else c["imposed"]
        years = range(c["imposed"], last + 1)
        for y in years:
            sc["sanc_ongoing_target"][(c["target"], y)] += 1
    for s in c["senders"]:
        if s == c["target"]:
            continue
        a, b = min(s, c["target"]), max(s, c["target"])
        onset[(a, b, c["start"])] += 1
        onset_dir[(s, c["target"], c["start"])] += 1
        for y in years:
            ongoing[(a, b, y)] += 1
            ongoing_dir[(s, c["target"], y)] += 1
sanc = {"named": {}, "totals": {}, "dyad_named": {}, "dyad_totals": {}}
for c, y in [(2, 1980), (2, 1998), (365, 1990), (700, 1999), (645, 1990), (560, 1985), (345, 1992), (710, 1989)]:
    sanc["named"][f"{c}-{y}"] = {k: float(v.get((c, y), 0)) for k, v in sc.items()}
for k, v in sc.items():
    sanc["totals"][k] = sy_totals(dict(v), 1945, 2005)
for a, b, y in [(2, 365, 1980), (2, 40, 1990), (2, 645, 1991), (2, 710, 1989), (200, 560, 1986), (2, 700, 1999)]:
    sanc["dyad_named"][f"{a}-{b}-{y}"] = {"sanc_ongoing": float(ongoing.get((a, b, y), 0)), "sanc_onset": float(onset.get((a, b, y), 0))}
for name, cnt in [("sanc_ongoing", ongoing), ("sanc_onset", onset)]:
    sanc["dyad_totals"][name] = {str(y): float(sum(v for (a, b, yy), v in cnt.items() if yy == y and (a, b, y) in dyads))
                                 for y in range(FROM, 2006)}
# Directed dyad-years (--directed --add sanctions): sender -> target, both
# orders of every COW dyad.
sanc["directed_named"] = {
    f"{a}-{b}-{y}": {"sanc_ongoing_dir": float(ongoing_dir.get((a, b, y), 0)), "sanc_onset_dir": float(onset_dir.get((a, b, y), 0))}
    for a, b, y in [(2, 365, 1980), (365, 2, 1980), (2, 700, 1999), (700, 2, 1999), (2, 645, 1991), (645, 2, 1991)]
}
ddyads = dyads | {(b, a, y) for a, b, y in dyads}
for name, cnt in [("sanc_ongoing_dir", ongoing_dir), ("sanc_onset_dir", onset_dir)]:
    sanc["directed_totals"] = sanc.get("directed_totals", {})
    sanc["directed_totals"][name] = {str(y): float(sum(v for (a, b, yy), v in cnt.items() if yy == y and (a, b, y) in ddyads))
                                     for y in range(FROM, 2006)}
out["sanctions"] = sanc

# ---- ATOP
at = pd.read_csv(f"{D}/atop/atop_alliance.csv")
flags = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
defn = at[at.atop_defense > 0]
partners = defn.groupby(["ccode1", "year"]).ccode2.nunique().to_dict()
defended = defn.groupby(["ccode2", "year"]).ccode1.nunique().to_dict()
anyp = at[(at[flags] > 0).any(axis=1)].groupby(["ccode1", "year"]).ccode2.nunique().to_dict()
atop = {"named": {}, "totals": {}}
for c, y in [(2, 1960), (2, 2000), (365, 1980), (200, 1990), (220, 1955), (710, 1960), (140, 1950), (390, 1975)]:
    atop["named"][f"{c}-{y}"] = {"atop_defense_partners": float(partners.get((c, y), 0)),
                                 "atop_defended_by": float(defended.get((c, y), 0)),
                                 "atop_any_partners": float(anyp.get((c, y), 0)),
                                 "atop_defense_pact": float(partners.get((c, y), 0) > 0)}
atop["totals"]["atop_defense_partners"] = sy_totals(partners, 1815, 2018)
atop["totals"]["atop_any_partners"] = sy_totals(anyp, 1815, 2018)
out["atop"] = atop

# ---- ideal points
ip = pd.read_csv(f"{D}/unga_votes/unga_ideal_points.csv")
ipm = {(int(r.ccode), int(r.year)): float(r.IdealPointAll) for r in ip.itertuples()}
med = ip.groupby("year").IdealPointAll.median().to_dict()
def p5mean(y):
    china = 713 if y <= 1971 else 710
    xs = [ipm[(c, y)] for c in [2, 200, 220, 365, china] if (c, y) in ipm]
    return sum(xs) / len(xs)
ideal = {"named": {}, "totals": {}, "dyad_named": {}}
for c, y in [(2, 1990), (365, 1970), (710, 1980), (713, 1960), (750, 2000), (200, 2014), (651, 1975), (20, 1964)]:
    if (c, y) not in ipm:
        ideal["named"][f"{c}-{y}"] = {"ideal_point": None, "ideal_dist_us": None, "ideal_dist_median": None, "ideal_dist_p5": None}
        continue
    x = ipm[(c, y)]
    ideal["named"][f"{c}-{y}"] = {"ideal_point": x, "ideal_dist_us": abs(x - ipm[(2, y)]),
                                  "ideal_dist_median": abs(x - med[y]), "ideal_dist_p5": abs(x - p5mean(y))}
ideal["totals"]["ideal_dist_us"] = {str(y): float(sum(abs(x - ipm[(2, y)]) for (c, yy), x in ipm.items() if yy == y and (c, y) in members))
                                    for y in range(FROM, TO + 1) if (2, y) in ipm}
ideal["totals"]["ideal_dist_p5"] = {str(y): float(sum(abs(x - p5mean(y)) for (c, yy), x in ipm.items() if yy == y and (c, y) in members))
                                    for y in range(FROM, TO + 1) if (2, y) in ipm}
for a, b, y in [(2, 20, 1980), (2, 365, 1985), (200, 220, 2000), (710, 750, 2010), (2, 710, 1965)]:
    ideal["dyad_named"][f"{a}-{b}-{y}"] = {"ideal_dist": abs(ipm[(a, y)] - ipm[(b, y)]) if (a, y) in ipm and (b, y) in ipm else None}
out["ideal_points"] = ideal

# ---- UNGA kappa and issue affinity (selected dyad-years)
v = pd.read_csv(f"{D}/unga_votes/unga_votes_1946_2015.csv.gz", dtype=str)
v = v[v.vote.isin(["1", "2", "3"])].copy()
for c in ["rcid", "ccode", "year", "vote"]:
    v[c] = v[c].astype(int)
for c in ["me", "nu", "di", "hr", "co", "ec"]:
    v[c] = v[c].fillna("0").str.strip().str[:1].eq("1")
issues = v.groupby("rcid")[["me", "nu", "di", "hr", "co", "ec"]].any()
unga = {"dyad_named": {}}
for a, b, y in [(2, 20, 1980), (2, 365, 1985), (200, 220, 2000), (710, 750, 2010), (2, 666, 1990), (365, 710, 1975)]:
    va = v[(v.ccode == a) & (v.year == y)].set_index("rcid").vote
    vb = v[(v.ccode == b) & (v.year == y)].set_index("rcid").vote
    j = pd.concat([va.rename("a"), vb.rename("b")], axis=1, join="inner")
    n = len(j)
    po = (j.a == j.b).mean()
    pa = j.a.value_counts(normalize=True).reindex([1, 2, 3], fill_value=0)
    pb = j.b.value_counts(normalize=True).reindex([1, 2, 3], fill_value=0)
    pe = float((pa * pb).sum())
    dexp = sum(pa[k] * pb[l] * abs(k - l) for k in [1, 2, 3] for l in [1, 2, 3])
    rec = {"joint": n, "unga_kappa": (po - pe) / (1 - pe) if pe < 1 else None,
           "unga_kappa_abs": 1 - (j.a - j.b).abs().mean() / dexp if dexp > 0 else None}
    for c in ["me", "nu", "di", "hr", "co", "ec"]:
        sel = j[issues.loc[j.index, c].values]
        rec[f"unga_affinity_{c}"] = float((sel.a == sel.b).mean()) if len(sel) else None
    sel = j[(issues.loc[j.index, "nu"] | issues.loc[j.index, "di"]).values]
    rec["unga_affinity_security"] = float((sel.a == sel.b).mean()) if len(sel) else None
    unga["dyad_named"][f"{a}-{b}-{y}"] = rec
out["unga"] = unga


# ---- IGO memberships by kind (organisation-level COW IGO v3)
lst = pd.read_csv(f"{D}/cow_igo/igo_list.csv")
sec = pd.read_csv(f"{D}/cow_igo/security_igos.csv")
lg = pd.read_csv(f"{D}/cow_igo/igo_state_year_long.csv.gz")
lg = lg[lg.status == 1].merge(lst[["ionum", "political", "economic", "social"]], on="ionum", how="left")
lg["security"] = lg.ionum.isin(sec[sec.tier.isin(["A", "B"])].ionum).astype(int)
lg["security_wide"] = lg.ionum.isin(sec.ionum).astype(int)
kinds = ["political", "economic", "social", "security", "security_wide"]
syk = lg.groupby(["ccode", "year"])[kinds].sum()
igo = {"named": {}, "totals": {}, "dyad_named": {}}
for c, y in [(2, 1990), (220, 1960), (365, 1980), (710, 2000), (475, 1975), (2, 1950), (732, 2010)]:
    igo["named"][f"{c}-{y}"] = {f"igo_{k}": float(syk.loc[(c, y), k]) if (c, y) in syk.index else 0.0 for k in kinds}
for k in kinds:
    igo["totals"][f"igo_{k}"] = sy_totals(syk[k].to_dict(), 1816, 2014)
byy = {}
for a, b, y in [(2, 20, 2000), (2, 365, 1985), (200, 220, 1995), (710, 750, 2010), (2, 200, 1950), (475, 481, 1980)]:
    sub = lg[lg.year == y]
    ja = sub[sub.ccode == a].set_index("ionum")
    jb = sub[sub.ccode == b].set_index("ionum")
    common = ja.index.intersection(jb.index)
    igo["dyad_named"][f"{a}-{b}-{y}"] = {f"joint_igo_{k}": float(ja.loc[common, k].sum()) for k in kinds}
out["igo"] = igo

# ---- strategic rivalries
tss = pd.read_csv(f"{D}/rivalries/tss_rivalries.csv")
td = pd.read_csv(f"{D}/rivalries/td_rivalries.csv")
def pairs(df, s, e, types=()):
    out = {}
    for r in df.itertuples():
        a, b = min(r.ccode1, r.ccode2), max(r.ccode1, r.ccode2)
        for y in range(max(int(getattr(r, s)), 1816), int(getattr(r, e)) + 1):
            d = out.setdefault((a, b, y), {t: 0 for t in types})
            for t in types:
                d[t] = max(d[t], 1 if getattr(r, t) == 1 else 0)
    return out
types = ("positional", "spatial", "ideological", "interventionary")
ptss = pairs(tss, "start", "end", types)
ptd = pairs(td, "styear", "endyear")
riv = {"named": {}, "totals": {}, "dyad_named": {}, "dyad_totals": {}}
for a, b, y in [(2, 365, 1960), (2, 365, 1995), (2, 710, 2000), (750, 770, 1971), (640, 651, 1950), (651, 666, 1990)]:
    rec = {"rivalry_tss": float((a, b, y) in ptss), "rivalry_td": float((a, b, y) in ptd)}
    for t in types:
        rec[f"rivalry_tss_{t}"] = float(ptss.get((a, b, y), {}).get(t, 0))
    riv["dyad_named"][f"{a}-{b}-{y}"] = rec
rtss, rtd = Counter(), Counter()
for (a, b, y) in ptss:
    rtss[(a, y)] += 1; rtss[(b, y)] += 1
for (a, b, y) in ptd:
    rtd[(a, y)] += 1; rtd[(b, y)] += 1
for c, y in [(2, 1960), (365, 1980), (710, 2000), (651, 1970), (750, 1990)]:
    riv["named"][f"{c}-{y}"] = {"rivals_tss": float(rtss.get((c, y), 0)), "rivals_td": float(rtd.get((c, y), 0))}
riv["totals"]["rivals_tss"] = sy_totals(dict(rtss), 1816, 2020)
riv["totals"]["rivals_td"] = sy_totals(dict(rtd), 1816, 2010)
riv["dyad_totals"]["rivalry_tss"] = {str(y): float(sum(1 for (a, b, yy) in ptss if yy == y and (a, b, y) in dyads)) for y in range(FROM, TO + 1)}
riv["dyad_totals"]["rivalry_td"] = {str(y): float(sum(1 for (a, b, yy) in ptd if yy == y and (a, b, y) in dyads)) for y in range(FROM, 2011)}
out["rivalry"] = riv

# ---- controls: GDP/population (isard), territorial threat, democracy (isard), land neighbours
gp = pd.read_csv(f"{D}/gdp_pop/isard_cw_gdppop.csv").set_index(["ccode", "year"])
tt = pd.read_csv(f"{D}/controls/terrthreat.csv").set_index(["ccode", "year"])
dm = pd.read_csv(f"{D}/democracy/isard_cw_democracy.csv").set_index(["ccode", "year"])
qd = pd.read_csv(f"{D}/democracy/ccode_democracy.csv").set_index(["ccode", "year"])
sd = pd.read_csv(f"{D}/gdp_pop/cow_sdp_gdp.csv").set_index(["ccode", "year"])
cd = pd.read_csv(f"{D}/cow_dyads/cow_contdir.csv")
cd = cd[cd.conttype == 1]
land = set()
for r in cd.itertuples():
    for y in range(int(str(r.stdate)[:4]), int(str(r.enddate)[:4]) + 1):
        land.add((min(r.ccode1, r.ccode2), max(r.ccode1, r.ccode2), y))
nb = Counter()
for a, b, y in land:
    nb[(a, y)] += 1; nb[(b, y)] += 1
def get(df, k, c):
    return f(df.loc[k, c]) if k in df.index else None
ctl = {"named": {}, "totals": {}}
for c, y in [(2, 1990), (710, 1960), (750, 2010), (365, 1950), (475, 1975), (200, 1946), (713, 2000)]:
    k = (c, y)
    ctl["named"][f"{c}-{y}"] = {"gdp": get(gp, k, "pwtrgdp"), "pop": get(gp, k, "pwtpop"), "gdppc": get(gp, k, "mrgdppc"),
                                "terrthreat": get(tt, k, "lterrthreat"), "euds": get(dm, k, "euds"),
                                "aeuds": get(dm, k, "aeuds"), "polyarchy": get(dm, k, "v2x_polyarchy"),
                                "land_neighbours": float(nb.get(k, 0)),
                                "quds": get(qd, k, "xm_qudsest"), "sdp_gdppc": get(sd, k, "wbgdppc2011est")}
ctl["totals"]["land_neighbours"] = sy_totals(dict(nb), 1816, 2016)
out["controls"] = ctl

# ---- COW alliances 4.1: allied dyad-years listed in both orders; a pair is
# allied when either order says so; 0 for an unlisted pair in 1816-2012.
al = pd.read_csv(f"{D}/cow_alliance/cow_alliance_ddy.csv")
al["a"], al["b"] = np.minimum(al.ccode1, al.ccode2), np.maximum(al.ccode1, al.ccode2)
flags = ["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"]
al = al.groupby(["a", "b", "year"])[flags].max()
cal = {"dyad_named": {}, "dyad_totals": {}}
for a, b, y in [(2, 20, 1960), (2, 200, 1990), (2, 365, 1950), (200, 220, 1946), (365, 2, 1980), (652, 663, 1970)]:
    a, b = min(a, b), max(a, b)
    cal["dyad_named"][f"{a}-{b}-{y}"] = {fl: float(al.loc[(a, b, y), fl]) if (a, b, y) in al.index else 0.0 for fl in flags}
inpanel = al[[k in dyads for k in al.index]]
for fl in flags:
    by = inpanel[fl].groupby(level="year").sum()
    cal["dyad_totals"][fl] = {str(y): float(by.get(y, 0)) for y in range(FROM, 2013)}
out["cow_alliance"] = cal

# ---- capitals: haversine km (radius 6371.0088) between the capitals in place
# at the end of the year (the one with the latest start among those covering it)
cap = pd.read_csv(f"{D}/cow_states/cow_capitals.csv")
def capital(c, y):
    rows = cap[(cap.ccode == c) & (cap.stdate.str[:4].astype(int) <= y) & (cap.enddate.str[:4].astype(int) >= y)]
    if rows.empty:
        return None
    r = rows.sort_values("stdate").iloc[-1]
    return np.radians(r.lat), np.radians(r.lng)
def capdist(a, b, y):
    p, q = capital(a, y), capital(b, y)
    if p is None or q is None:
        return None
    h = np.sin((q[0] - p[0]) / 2) ** 2 + np.cos(p[0]) * np.cos(q[0]) * np.sin((q[1] - p[1]) / 2) ** 2
    return float(2 * 6371.0088 * np.arcsin(min(np.sqrt(h), 1.0)))
capn = {}
for a, b, y in [(2, 20, 1990), (2, 140, 1959), (2, 140, 1960), (2, 140, 1961), (220, 260, 1960), (2, 365, 1950), (710, 713, 2000)]:
    capn[f"{a}-{b}-{y}"] = {"capdist": capdist(a, b, y)}
out["capitals"] = {"dyad_named": capn}

json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
