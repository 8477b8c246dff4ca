#!/usr/bin/env python3
"""Side-by-side timing of concord and its peers (R fixest, pyfixest,
statsmodels, linearmodels) on the same data file, same models.

For every model, every tool's coefficients are first checked against
concord's (`concord fit --json`): the largest relative difference is printed,
and a difference above 1e-4 stops the run (timing tools that disagree would
compare different things).

The fit alone, data in memory, for every side: concord's median comes from
criterion (`cargo bench --bench estimators`, which this script runs first,
so all are measured in one run on the same machine); each peer runs in its own
process, warm (one untimed fit first), `REPS` timed repetitions, median.
fixest runs twice, with 1 and 2 threads (`setFixest_nthreads`; its OpenMP
threads busy-wait on a loaded 2-core machine), and its best is the one compared.
Peak memory: each peer's whole process (its data read included), and the
`concord fit` command on the Parquet file (reading included); the wall time of
that whole command is shown too ("CLI s": median of REPS runs after an untimed
one; the peak is the largest), to set against the peers' fit alone.

    cargo build --release
    target/release/concord data build --unit dyad-year --data-dir ../shared/data --out /tmp/dyad_year.parquet
    bash ../shared/peers/install-r-fixest.sh          # R + fixest, once
    python3 benches/peers/peers.py /tmp/dyad_year.parquet [--no-bench]

Environment: REPS (default 5), FIXEST_LIB (default ~/.local/share/R/fixest-lib).
"""
import json, os, pathlib, statistics, subprocess, sys, tempfile, time

DATA = next((a for a in sys.argv[1:] if not a.startswith("--")), "/tmp/dyad_year.parquet")
REPS = int(os.environ.get("REPS", "5"))
ROOT = pathlib.Path(__file__).resolve().parents[2]
CONCORD = str(ROOT / "target" / "release" / "concord")
FIXEST_LIB = os.environ.get("FIXEST_LIB", str(pathlib.Path.home() / ".local/share/R/fixest-lib"))
AGREE = 1e-4

FE2 = "mid_onset ~ dyadigos + unga_affinity + peace_years | dyad + year"
X5 = "dyadigos + land_contiguity + peace_years + unga_affinity + dem_low"
# (label, formula, concord family, criterion name in benches/estimators.rs, peers)
MODELS = [
    ("two-way FE OLS, cluster dyad", FE2, "gaussian", "feols_twoway_fe", ["fixest", "pyfixest", "linearmodels"]),
    ("FE Poisson, dyad + year, cluster dyad", FE2, "poisson", "fepois_twoway_fe", ["fixest", "pyfixest"]),
    ("pooled logit, 5 regressors, cluster dyad", f"mid_onset ~ {X5}", "logit", "logit_pooled",
     ["fixest", "statsmodels"]),
    ("logit, year FE, 5 regressors, cluster dyad", f"mid_onset ~ {X5} | year", "logit", "felogit_year_fe",
     ["fixest"]),
    ("logit, dyad + year FE, cluster dyad", FE2, "logit", "felogit_twoway_fe", ["fixest"]),
]

PY_PEER = r'''
import sys, time, json, warnings
warnings.filterwarnings("ignore")
import pandas as pd
formula, family, tool, reps, path = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
df = pd.read_parquet(path)
if tool == "pyfixest":
    import pyfixest as pf
    f = pf.feols if family == "gaussian" else pf.fepois
    run = lambda: f(formula, data=df, vcov={"CRV1": "dyad"}, fixef_rm="singleton")
    coef = lambda m: m.coef().to_dict()
elif tool == "linearmodels":
    from linearmodels.panel import PanelOLS
    lhs, rhs = formula.split("|")[0].split("~")
    cols = [lhs.strip()] + [c.strip() for c in rhs.split("+")]
    d = df.dropna(subset=cols).set_index(["dyad", "year"])
    f = f"{lhs.strip()} ~ {rhs.strip()} + EntityEffects + TimeEffects"
    run = lambda: PanelOLS.from_formula(f, d).fit(cov_type="clustered", cluster_entity=True)
    coef = lambda m: m.params.to_dict()
else:
    import statsmodels.formula.api as smf
    cols = [c.strip() for c in formula.replace("~", "+").split("+")]
    d = df.dropna(subset=cols)
    run = lambda: smf.logit(formula, d).fit(disp=0, cov_type="cluster", cov_kwds={"groups": d["dyad"]})
    coef = lambda m: m.params.to_dict()
m = run()
ts = []
for _ in range(reps):
    t = time.perf_counter(); run(); ts.append(time.perf_counter() - t)
print(json.dumps({"times": ts, "coef": coef(m)}))
'''

R_PEER = r'''
suppressMessages({library(fixest); library(data.table)})
a <- commandArgs(TRUE)
fml <- as.formula(a[1]); family <- a[2]; reps <- as.integer(a[3]); threads <- as.integer(a[5])
df <- fread(a[4])
setFixest_nthreads(threads)
run <- switch(family,
  gaussian = function() feols(fml, df, cluster = ~dyad),
  poisson  = function() fepois(fml, df, cluster = ~dyad),
  logit    = function() feglm(fml, df, family = binomial("logit"), cluster = ~dyad))
m <- run()
ts <- numeric(reps)
for (i in seq_len(reps)) { t <- proc.time()[["elapsed"]]; invisible(run()); ts[i] <- proc.time()[["elapsed"]] - t }
b <- coef(m)
cat(sprintf('{"times": [%s], "coef": {%s}}\n', paste(sprintf("%.6f", ts), collapse = ", "),
    paste(sprintf('"%s": %.17g', names(b), b), collapse = ", ")))
'''


def peak_rss(args, env=None):
    """Wall time, peak RSS (MB) and stdout of one command.

    The peak comes from /usr/bin/time's %M, which measures a process it forks
    itself: a child forked from this script starts with this script's RSS
    (the panel it read) as its high-water mark, which execve keeps, so
    wait4's ru_maxrss of a direct child is never below this script's own.
    """
    t = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as out:
        p = subprocess.Popen(["/usr/bin/time", "-f", "PEAK_KB %M", *args], stdout=out, stderr=subprocess.PIPE,
                             env=env)
        _, status, _ = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        err = p.stderr.read().decode(errors="replace")
        if status != 0:
            raise SystemExit(f"failed: {' '.join(args[:5])} ...\n{err[-2000:]}")
        kb = [line.split()[1] for line in err.splitlines() if line.startswith("PEAK_KB ")]
        out.seek(0)
        return out.read(), wall, int(kb[-1]) / 1024


def concord_coef(formula, family):
    """concord's coefficients, and the whole command's median wall time and
    largest peak over REPS runs (the first run reads the file into the page
    cache as the peers' untimed reads do; this VM's page zeroing makes single
    runs vary by 2-3x)."""
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "fit.json")
        runs = [peak_rss([CONCORD, "fit", DATA, "--formula", formula, "--family", family, "--vcov",
                          "cluster:dyad", "--json", js]) for _ in range(REPS + 1)][1:]
        fit = json.loads(pathlib.Path(js).read_text())
    wall = statistics.median(r[1] for r in runs)
    return {c["term"]: c["estimate"] for c in fit["coefficients"]}, wall, max(r[2] for r in runs)


def max_rel_diff(ours, theirs):
    """Largest relative difference over the slope terms both tools report."""
    alias = {"Intercept": "(Intercept)"}
    worst = 0.0
    for k, v in theirs.items():
        k = alias.get(k, k)
        if k in ours:
            worst = max(worst, abs(v - ours[k]) / max(abs(ours[k]), 1e-12))
    missing = [k for k in ours if k != "(Intercept)" and k not in {alias.get(t, t) for t in theirs}]
    if missing:
        raise SystemExit(f"peer lacks terms {missing}")
    return worst


def criterion_median(name):
    f = ROOT / "target" / "criterion" / "dyad_year_1946_2014" / name / "new" / "estimates.json"
    return json.loads(f.read_text())["median"]["point_estimate"] / 1e9


def peer_runs(tool, formula, family, csv):
    """[(label, json, peak MB)] for one peer: fixest once per thread setting."""
    if tool == "fixest":
        env = dict(os.environ, R_LIBS=FIXEST_LIB, OMP_NUM_THREADS="2")
        runs = []
        for th in (1, 2):
            out, _, rss = peak_rss(["Rscript", "-e", R_PEER, formula, family, str(REPS), csv, str(th)], env)
            runs.append((f"fixest {th}t", json.loads(out.strip().splitlines()[-1]), rss))
        return runs
    out, _, rss = peak_rss([sys.executable, "-c", PY_PEER, formula, family, tool, str(REPS), DATA])
    return [(tool, json.loads(out.strip().splitlines()[-1]), rss)]


def main():
    import pandas as pd
    if "--no-bench" not in sys.argv:
        subprocess.run(["cargo", "bench", "--bench", "estimators", "--", "dyad_year"], cwd=ROOT, check=True,
                       capture_output=True)
    df = pd.read_parquet(DATA)
    rows = len(df)
    tmp = tempfile.mkdtemp()
    csv = os.path.join(tmp, "data.csv")
    df.to_csv(csv, index=False)  # fixest reads it with data.table::fread (not timed)
    del df
    print(f"data: {DATA} ({rows} rows); fit alone, medians in seconds; peers {REPS} warm repetitions; "
          f"coefficients checked against concord first (max relative difference)")
    head = (f"{'model':44} {'concord':>8} {'CLI s':>6} {'MB':>5} | {'peer':>12} {'peer s':>7} {'ratio':>6} "
            f"{'MB':>5} {'max rel diff':>12}")
    print(head)
    print("-" * len(head))
    for label, formula, family, bench, peers in MODELS:
        c = criterion_median(bench)
        ours, wall, crss = concord_coef(formula, family)
        first = True
        for tool in peers:
            runs = peer_runs(tool, formula, family, csv)
            for name, res, rss in runs:
                res["diff"] = max_rel_diff(ours, res["coef"])
                if res["diff"] > AGREE:
                    raise SystemExit(f"{label}: {name} disagrees with concord (max rel diff {res['diff']:.2e})")
            if tool == "fixest":  # the best thread setting is the one compared; both shown
                best = min(runs, key=lambda r: statistics.median(r[1]["times"]))
                shown = [(f"{n}{'*' if n == best[0] else ''}", r, m) for n, r, m in runs]
            else:
                shown = runs
            for name, res, rss in shown:
                p, diff = statistics.median(res["times"]), res["diff"]
                left = f"{label:44} {c:>8.3f} {wall:>6.2f} {crss:>5.0f}" if first else " " * 67
                first = False
                print(f"{left} | {name:>12} {p:>7.3f} {p / c:>5.1f}x {rss:>5.0f} {diff:>12.1e}")
    print("* fixest's best thread setting; ratio = peer seconds / concord seconds (fit alone)")


if __name__ == "__main__":
    main()
