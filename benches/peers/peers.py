#!/usr/bin/env python3
"""Side-by-side timing of concord and its Python peers on the same data file.

The fit alone, data in memory, for both sides: concord's median comes from
criterion (`cargo bench --bench estimators`, which this script runs first,
so both are measured in one run on the same machine); each peer runs in its
own process, warm (one untimed fit first), `REPS` timed repetitions, median.
Peak memory: the peer's process, and the `concord fit` command on the Parquet
file (reading included); its wall time is shown too.

    cargo build --release
    target/release/concord data build --unit dyad-year --data-dir ../shared/data --out /tmp/dyad_year.parquet
    python3 benches/peers/peers.py /tmp/dyad_year.parquet [--no-bench]
"""
import json, os, pathlib, statistics, subprocess, sys, time

DATA = sys.argv[1] if len(sys.argv) > 1 else "/tmp/dyad_year.parquet"
REPS = int(os.environ.get("REPS", "5"))
ROOT = pathlib.Path(__file__).resolve().parents[2]
CONCORD = str(ROOT / "target" / "release" / "concord")

MODELS = [  # (label, formula, family, vcov, peer, criterion name in benches/estimators.rs)
    ("two-way FE OLS, cluster dyad", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", "gaussian",
     "cluster:dyad", "feols", "feols_twoway_fe"),
    ("pooled logit, 5 regressors, cluster dyad",
     "mid_onset ~ dyadigos + land_contiguity + peace_years + unga_affinity + dem_low", "logit", "cluster:dyad",
     "Logit", "logit_pooled"),
    ("FE Poisson, dyad + year", "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", "poisson",
     "cluster:dyad", "fepois", "fepois_twoway_fe"),
    ("two-way FE OLS, cluster dyad (linearmodels)",
     "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year", "gaussian", "cluster:dyad", "PanelOLS",
     "feols_twoway_fe"),
]

PEER = r'''
import sys, time, json, resource, warnings
warnings.filterwarnings("ignore")
import pandas as pd
formula, tool, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_parquet(sys.argv[4])
if tool in ("feols", "fepois"):
    import pyfixest as pf
    f = getattr(pf, tool)
    run = lambda: f(formula, data=df, vcov={"CRV1": "dyad"}, fixef_rm="singleton")
elif tool == "PanelOLS":
    from linearmodels.panel import PanelOLS
    lhs, rhs = formula.split("|")[0].split("~")
    cols = [lhs.strip()] + [c.strip() for c in rhs.split("+")]
    d = df.dropna(subset=cols).set_index(["dyad", "year"])
    f = f"{lhs.strip()} ~ {rhs.strip()} + EntityEffects + TimeEffects"
    run = lambda: PanelOLS.from_formula(f, d).fit(cov_type="clustered", cluster_entity=True)
else:
    import statsmodels.formula.api as smf
    cols = [c.strip() for c in formula.replace("~", "+").split("+")]
    d = df.dropna(subset=cols)
    run = lambda: smf.logit(formula, d).fit(disp=0, cov_type="cluster", cov_kwds={"groups": d["dyad"]})
run()
ts = []
for _ in range(reps):
    t = time.perf_counter(); run(); ts.append(time.perf_counter() - t)
print(json.dumps({"times": ts, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def concord_cli(formula, family, vcov):
    """Wall time and peak RSS (MB) of one `concord fit` command."""
    args = [CONCORD, "fit", DATA, "--formula", formula, "--family", family, "--vcov", vcov]
    t = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit(f"concord fit failed: {' '.join(args)}")
    return time.perf_counter() - t, ru.ru_maxrss / 1024


def criterion_median(name):
    f = ROOT / "target" / "criterion" / "dyad_year_1946_2014" / name / "new" / "estimates.json"
    return json.loads(f.read_text())["median"]["point_estimate"] / 1e9


def main():
    import pandas as pd
    if "--no-bench" not in sys.argv:
        subprocess.run(["cargo", "bench", "--bench", "estimators"], cwd=ROOT, check=True, capture_output=True)
    rows = len(pd.read_parquet(DATA, columns=["year"]))
    print(f"data: {DATA} ({rows} rows); fit alone, medians in seconds; peers {REPS} warm repetitions")
    print(f"{'model':44} {'rows':>7} {'concord':>8} {'peer':>7} {'peer s':>7} {'ratio':>6} "
          f"{'CLI s':>6} {'concord MB':>10} {'peer MB':>8}")
    for label, formula, family, vcov, tool, bench in MODELS:
        c = criterion_median(bench)
        wall, crss = concord_cli(formula, family, vcov)
        out = subprocess.run([sys.executable, "-c", PEER, formula, tool, str(REPS), DATA], check=True,
                             capture_output=True, text=True)
        peer = json.loads(out.stdout.strip().splitlines()[-1])
        p = statistics.median(peer["times"])
        print(f"{label:44} {rows:>7} {c:>8.3f} {tool:>8} {p:>7.3f} {p / c:>5.1f}x {wall:>6.2f} {crss:>10.0f} "
              f"{peer['rss_mb']:>8.0f}")


if __name__ == "__main__":
    main()
