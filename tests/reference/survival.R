#!/usr/bin/env Rscript
# Reference values for concord's survival estimators (tests/survival.rs reads
# tests/reference/survival.json): R survival's coxph (Efron and Breslow ties,
# strata, Lin-Wei cluster-robust covariance), survfit (Kaplan-Meier with
# Greenwood standard errors, log and log-log bands) and clogit (exact
# conditional likelihood).
#
# Data:
#  - tests/fixtures/sim_surv.csv: simulated recurrent-event counting-process
#    data (written by this script with a fixed seed when it is absent);
#  - tests/fixtures/sim_panel.csv (the estimator fixture) for clogit;
#  - the real state-year panel and its peace spells, built by concord:
#      target/release/concord data build --unit state-year --data-dir /work/shared/data --out /tmp/sy.csv
#      target/release/concord data spells /tmp/sy.csv --event mid_onset --out /tmp/sy_spells.csv
#
# Re-run (from the repository root):
#   Rscript tests/reference/survival.R /tmp/sy.csv /tmp/sy_spells.csv
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
here <- function(...) file.path("tests", ...)
num <- function(x) ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", x))
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
tool <- sprintf("R %s, survival %s", getRversion(), packageVersion("survival"))

fixture <- here("fixtures", "sim_surv.csv")
if (!file.exists(fixture)) {
  set.seed(20261130)
  rows <- list()
  for (id in 1:150) {
    s <- sample(1:2, 1)
    g <- sample(c("a", "b", "c"), 1)
    x2 <- rbinom(1, 1, 0.4)
    t <- sample(0:2, 1)
    last <- sample(6:12, 1)
    while (t < last) {
      x1 <- round(rnorm(1), 4)
      h <- exp(-2.2 + 0.5 * x1 + 0.7 * x2 + 0.4 * (s == 2))
      ev <- rbinom(1, 1, 1 - exp(-h))
      rows[[length(rows) + 1]] <- data.frame(id = id, start = t, stop = t + 1, event = ev,
                                             x1 = x1, x2 = x2, s = s, g = g)
      t <- t + 1
      if (ev == 1 && runif(1) < 0.4) break
    }
  }
  sim <- do.call(rbind, rows)
  write.csv(sim, fixture, row.names = FALSE, quote = FALSE)
}
sim <- read.csv(fixture)

cox_cases <- character(0)
add_cox <- function(data, formula, ties, vcov, fit) {
  b <- coef(fit)
  se <- sqrt(diag(vcov(fit)))
  coefs <- paste0(sprintf('"%s": [%s, %s]', names(b), num(b), num(se)), collapse = ", ")
  id <- paste(data, formula, ties, vcov, sep = "|")
  cox_cases <<- c(cox_cases, sprintf(
    '{"id": "%s", "data": "%s", "formula": "%s", "ties": "%s", "vcov": "%s", "nobs": %d, "events": %d, "loglik": %s, "coefficients": {%s}, "tool": "%s (coxph)"}',
    id, data, formula, ties, vcov, fit$n, fit$nevent, num(fit$loglik[2]), coefs, tool))
}
ctl <- coxph.control(eps = 1e-14, iter.max = 100, toler.chol = 1e-15)
run_cox <- function(data, df, formula, cluster = NULL) {
  for (ties in c("efron", "breslow")) {
    f <- as.formula(formula)
    fit <- coxph(f, data = df, ties = ties, control = ctl)
    add_cox(data, formula, ties, "iid", fit)
    if (!is.null(cluster)) {
      fit <- coxph(f, data = df, ties = ties, control = ctl, cluster = df[[cluster]])
      add_cox(data, formula, ties, paste0("cluster:", cluster), fit)
    }
  }
}

km_cases <- character(0)
add_km <- function(data, time, event, start, by, conf, df) {
  lhs <- if (is.null(start)) sprintf("Surv(%s, %s)", time, event) else sprintf("Surv(%s, %s, %s)", start, time, event)
  rhs <- if (is.null(by)) "1" else by
  fit <- survfit(as.formula(paste(lhs, "~", rhs)), data = df, conf.type = conf)
  strata <- if (is.null(fit$strata)) rep("", length(fit$time)) else rep(names(fit$strata), fit$strata)
  km_cases <<- c(km_cases, sprintf(
    '{"data": "%s", "time": "%s", "event": "%s", "start": %s, "by": %s, "conf_type": "%s", "group": [%s], "t": %s, "n_risk": %s, "n_event": %s, "n_censor": %s, "surv": %s, "std_err": %s, "lower": %s, "upper": %s, "median": %s, "tool": "%s (survfit)"}',
    data, time, event, if (is.null(start)) "null" else sprintf('"%s"', start),
    if (is.null(by)) "null" else sprintf('"%s"', by), conf,
    paste0('"', strata, '"', collapse = ", "), vec(fit$time), vec(fit$n.risk), vec(fit$n.event),
    vec(fit$n.censor), vec(fit$surv), vec(fit$std.err), vec(fit$lower), vec(fit$upper),
    vec(if (is.null(fit$strata)) summary(fit)$table["median"] else summary(fit)$table[, "median"]), tool))
}

cl_cases <- character(0)
add_clogit <- function(data, y, x, group, df) {
  f <- as.formula(sprintf("%s ~ %s + strata(%s)", y, paste(x, collapse = " + "), group))
  fit <- clogit(f, data = df, method = "exact", control = ctl)
  b <- coef(fit)
  se <- sqrt(diag(vcov(fit)))
  coefs <- paste0(sprintf('"%s": [%s, %s]', names(b), num(b), num(se)), collapse = ", ")
  formula <- sprintf("%s ~ %s | %s", y, paste(x, collapse = " + "), group)
  cl_cases <<- c(cl_cases, sprintf(
    '{"id": "%s|%s", "data": "%s", "formula": "%s", "nobs": %d, "loglik": %s, "coefficients": {%s}, "tool": "%s (clogit, method = exact)"}',
    data, formula, data, formula, fit$n, num(fit$loglik[2]), coefs, tool))
}

run_cox("sim_surv", sim, "Surv(start, stop, event) ~ x1 + x2", "id")
run_cox("sim_surv", sim, "Surv(start, stop, event) ~ x1 + x2 + strata(s)", "id")
run_cox("sim_surv", sim, "Surv(stop, event) ~ x1 + x2 + strata(s, g)")
for (conf in c("log", "log-log")) {
  add_km("sim_surv", "stop", "event", NULL, NULL, conf, sim)
  add_km("sim_surv", "stop", "event", NULL, "g", conf, sim)
  add_km("sim_surv", "stop", "event", "start", "s", conf, sim)
}
panel <- read.csv(here("fixtures", "sim_panel.csv"))
add_clogit("sim", "ybin", c("x1", "x2"), "unit", panel)

if (length(args) >= 2) {
  sy <- read.csv(args[1])
  sy <- sy[!is.na(sy$mid_onset) & !is.na(sy$polity2) & !is.na(sy$cinc), ]
  add_clogit("state_year", "mid_onset", c("polity2", "cinc"), "ccode", sy)
  sp <- read.csv(args[2])
  run_cox("state_spells", sp, "Surv(start, stop, event) ~ polity2 + cinc", "ccode")
  run_cox("state_spells", sp, "Surv(start, stop, event) ~ polity2 + cinc + strata(left_censored)", "ccode")
  for (conf in c("log", "log-log")) add_km("state_spells", "stop", "event", "start", "left_censored", conf, sp)
}

out <- sprintf('{"generator": "tests/reference/survival.R", "cox": [\n%s\n], "km": [\n%s\n], "clogit": [\n%s\n]}\n',
               paste(cox_cases, collapse = ",\n"), paste(km_cases, collapse = ",\n"),
               paste(cl_cases, collapse = ",\n"))
writeLines(out, here("reference", "survival.json"), sep = "")
cat(length(cox_cases), "cox,", length(km_cases), "km,", length(cl_cases), "clogit reference cases written\n")
