# R survival::coxph on the directed dyads' peace spells, the model of the
# criterion benchmarks `cox_directed_spells` (benches/estimators.rs): fit alone, data in
# memory, 3 warm repetitions, median; coefficients printed for comparison
# with `concord fit ... --family cox`.
#
#   target/release/concord data build --unit dyad-year --directed --data-dir ../shared/data --out /tmp/ddy.parquet
#   target/release/concord data spells /tmp/ddy.parquet --event mid_onset --out /tmp/ddy_spells.csv
#   Rscript benches/peers/coxph.R /tmp/ddy_spells.csv
suppressMessages({library(survival); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
d <- fread(if (length(args)) args[1] else "/tmp/ddy_spells.csv")
f <- Surv(start, stop, event) ~ dyadigos + unga_affinity + land_contiguity
m <- coxph(f, d, ties = "efron")
print(coef(m), digits = 10); print(sqrt(diag(vcov(m))), digits = 10)
cat("n", m$n, "events", m$nevent, "\n")
med <- function(expr) median(sapply(1:3, function(i) system.time(eval(expr))[["elapsed"]]))
cat("coxph, model-based: median", med(quote(coxph(f, d, ties = "efron"))), "s\n")
cat("coxph, cluster(pair): median", med(quote(coxph(f, d, ties = "efron", cluster = pair))), "s\n")
