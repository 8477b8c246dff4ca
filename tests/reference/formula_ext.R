#!/usr/bin/env Rscript
# Reference estimates for concord's extended formula syntax, from R fixest
# 0.12.2 (feols / feglm binomial("logit") / fepois), on the simulated panel
# tests/fixtures/sim_panel.csv (1800 rows, 3 NA in x2). Constructs covered:
# inline transforms (x1^2 read by fixest as I(x1^2), I(), log/exp/sqrt/abs),
# i(factor, ref =), i(factor, var[, ref =]), combined fixed effects a^b,
# varying slopes unit[x1] (FE + slope) and unit[[x1]] (slope only), panel lags
# l(x, 0:2) (panel.id = ~unit + time), weights, subset, split, and multiple
# estimation (csw, csw0, sw, c(y1, y2) ~, sw0 in the fixed-effect part).
#
# Run from the repository root (writes tests/reference/formula_ext.json), then
# the two Python companions, in this order (the R script rewrites the file and
# drops the keys they add):
#   R_LIBS=~/.local/share/R/fixest-lib Rscript tests/reference/formula_ext.R
#   python3 tests/reference/formula_ext_check.py     # pyfixest cross-check
#   python3 tests/reference/formula_ext_margins.py   # "margins" (AMEs)
#
# Case format (as fixest_glm.json / estimators.json): id, data ("sim"),
# formula (concord's formula string; fixest's own where the syntax is the
# same), family ("gaussian" | "logit" | "poisson"), vcov ("iid" | "hc1" |
# "cluster:unit"), nobs, coefficients {name: [estimate, se]} with fixest's
# coefficient names exactly as it prints them, tool. Optional fields:
# weights (column), subset (the expression as concord gets it), split (column)
# with split_level, panel ("unit,time") for lag cases, multi (the original
# multiple-estimation formula) with multi_index (0-based, fixest's order; the
# case formula is then formula(fit) of that fit, deparsed), note.
# jsonlite is not installed next to fixest: numbers are written with
# sprintf("%.17g") (full precision), as fixest_glm.R does.
#
# Conventions:
# - vcov "iid" -> vcov = "iid"; "hc1" -> vcov = "hetero"; "cluster:unit" ->
#   cluster = ~unit. fixest's default small-sample correction ssc(adj = TRUE,
#   fixef.K = "nested", cluster.adj = TRUE): iid  sigma^2 (X'WX)^-1 (OLS) or
#   the inverse information times (n - 1) / (n - K) (GLM); hetero is HC1,
#   n / (n - K); clustered G / (G - 1) (n - 1) / (n - K), fixed effects nested
#   in the cluster left out of K. K counts varying-slope coefficients too.
# - GLMs with fixed effects: fixef.rm = "both" (as fixest_glm.R); all GLMs
#   glm.tol = 1e-12, all fixed-effect fits fixef.tol = 1e-11. fixest's GLM
#   coefficients are exact (1e-13); its s.e. of the FE logit are ~1e-7
#   (relative) off the information at the optimum (statsmodels with dummies and
#   pyfixest agree with each other to 1e-10): tolerances below 1e-6 fail there.
# - Rows with an NA in any model variable are dropped (x2: 3 rows; lags: the
#   first lagged periods of each unit).
# - Weights (weights = ~region, values 1..4): analytic/precision weights.
#   nobs is the number of rows used (1797), NOT the sum of the weights (4494).
#   OLS: beta = (X'WX)^-1 X'Wy; iid sigma^2 = sum(w e^2) / (n - K) with n the
#   row count (= fixest's $sigma2 = lm(weights =)'s sigma^2; the s.e. equal
#   lm's to 1e-15); hetero = (X'WX)^-1 sum(w_i^2 e_i^2 x_i x_i') (X'WX)^-1
#   n / (n - K) (= sandwich::vcovHC(lm, "HC1")); clustered: the same with
#   cluster sums of w_i e_i x_i, times G / (G - 1) (n - 1) / (n - K). GLM: the
#   weights multiply the log-likelihood terms (score w_i (y_i - mu_i) x_i,
#   information X' diag(w_i var_i) X); the small-sample factors again use the
#   row count n. All of this is re-derived by hand at the end of this script
#   (check_weights), which stops if fixest disagrees.
# - Subset: fixest's subset = ~ <expr>; the estimation then runs on those rows
#   only (n, K and G from the subset).
# - Split: split = ~region, one fit per level, each a separate estimation.
suppressMessages(library(fixest))
library(splines)
setFixest_nthreads(1)
here <- function(...) file.path("tests", ...)

num <- function(x) sprintf("%.17g", x)
jstr <- function(s) paste0('"', gsub('"', '\\\\"', gsub("\\\\", "\\\\\\\\", s)), '"')
deparse1l <- function(f) paste(trimws(deparse(f, width.cutoff = 500L)), collapse = " ")

cases <- character(0)
summary_rows <- list()
TOOL <- sprintf("R %s, fixest %s", getRversion(), packageVersion("fixest"))

vcov_arg <- function(v) {
  if (v == "iid") list(vcov = "iid")
  else if (v == "hc1") list(vcov = "hetero")
  else list(cluster = as.formula(paste0("~", sub("cluster:", "", v))))
}

add_case <- function(formula, family, vcov, fit, extra = list(), id_extra = character(0)) {
  b <- coef(fit)
  se <- do.call(se, c(list(fit), vcov_arg(vcov)))
  stopifnot(identical(names(b), names(se)), all(is.finite(se)))
  coefs <- paste0(sprintf("%s: [%s, %s]", vapply(names(b), jstr, ""), num(b), num(se)), collapse = ", ")
  id <- paste(c("sim", family, formula, vcov, id_extra), collapse = "|")
  ex <- ""
  for (k in names(extra)) {
    v <- extra[[k]]
    ex <- paste0(ex, sprintf(", %s: %s", jstr(k), if (is.character(v)) jstr(v) else num(v)))
  }
  cases <<- c(cases, sprintf(
    '{"id": %s, "data": "sim", "formula": %s, "family": "%s", "vcov": "%s", "nobs": %d%s, "coefficients": {%s}, "tool": %s}',
    jstr(id), jstr(formula), family, vcov, nobs(fit), ex, coefs, jstr(TOOL)))
  summary_rows[[length(summary_rows) + 1]] <<- data.frame(id = id, nobs = nobs(fit),
    first = names(b)[1], estimate = unname(b[1]), se = unname(se[1]))
}

fit_one <- function(df, formula, family, ...) {
  f <- as.formula(formula)
  switch(family,
    gaussian = feols(f, df, fixef.tol = 1e-11, ...),
    logit = feglm(f, df, family = binomial("logit"), fixef.rm = "both", glm.tol = 1e-12, fixef.tol = 1e-11, ...),
    poisson = fepois(f, df, fixef.rm = "both", glm.tol = 1e-12, fixef.tol = 1e-11, ...))
}

check_fit <- function(fit, family) {
  if (family != "gaussian") stopifnot(isTRUE(fit$convStatus))
  stopifnot(length(fit$collin.var) == 0)
}

# One estimation, several vcovs. opts: extra case fields + arguments to fixest.
run <- function(df, formula, family, vcovs, extra = list(), id_extra = character(0), ...) {
  fit <- fit_one(df, formula, family, ...)
  check_fit(fit, family)
  for (v in vcovs) add_case(formula, family, v, fit, extra, id_extra)
  invisible(fit)
}

sim <- read.csv(here("fixtures", "sim_panel.csv"))
stopifnot(nrow(sim) == 1800, sum(is.na(sim$x2)) == 3)

# --- inline transforms -------------------------------------------------------
run(sim, "y ~ x1 + x1^2", "gaussian", c("iid", "hc1"))
run(sim, "y ~ x1 + I(x1^2) + I(x1*x2) + I(x2/10)", "gaussian", "iid")
run(sim, "y ~ log(abs(x1)) + exp(x2) + sqrt(abs(x2))", "gaussian", "iid")
run(sim, "y ~ I(log(abs(x1) + 1)) + x2", "gaussian", "iid")

# --- bases on rows missing another variable ------------------------------------
# poly() and ns() are evaluated on every row where x1 is present (1800), not
# only on the 1797 estimation rows (x2 is missing in 3): R's model frame and
# fixest alike.
run(sim, "y ~ poly(x1, 3) + x2", "gaussian", "iid")
run(sim, "y ~ ns(x1, 3) + x2", "gaussian", "iid")
stopifnot(abs(coef(lm(y ~ ns(x1, 3) + x2, sim))[["x2"]] - coef(feols(y ~ ns(x1, 3) + x2, sim))[["x2"]]) < 1e-10)

# --- i() ---------------------------------------------------------------------
# In a subset without the first level overall, the reference is the subset's
# first level (fixest restricts the rows first).
run(sim, "y ~ x1 + i(region)", "gaussian", "iid", list(subset = "region != 1"), "subset=region != 1",
    subset = ~ region != 1)
run(sim, "y ~ x1 + i(region, ref = 2)", "gaussian", c("iid", "cluster:unit"))
run(sim, "y ~ x1 + i(region, x2)", "gaussian", "iid")
run(sim, "y ~ x1 + i(region, x2, ref = 1)", "gaussian", "iid")

# --- combined fixed effects ----------------------------------------------------
run(sim, "y ~ x1 + x2 | region^time", "gaussian", c("iid", "cluster:unit"))
run(sim, "y ~ x1 + x2 | unit + region^time", "gaussian", "cluster:unit")

# --- varying slopes --------------------------------------------------------------
run(sim, "y ~ x2 | unit[x1]", "gaussian", c("iid", "cluster:unit"))
run(sim, "y ~ x2 | unit[[x1]]", "gaussian", c("iid", "cluster:unit"))
run(sim, "y ~ x2 + d | unit + time[x1]", "gaussian", c("iid", "cluster:unit"))
# Unit-specific trends in calendar years (z around 2000: the 2x2 systems of a
# naive demeaning lose their digits).
run(sim, "y ~ x1 + x2 | unit[time]", "gaussian", "iid")

# --- panel lags ----------------------------------------------------------------------
run(sim, "y ~ l(x1, 0:2) + x2", "gaussian", "iid", list(panel = "unit,time"), "panel=unit,time",
    panel.id = ~unit + time)
run(sim, "y ~ l(x1, 1:2)", "gaussian", "iid", list(panel = "unit,time"), "panel=unit,time",
    panel.id = ~unit + time)

# --- GLMs with the new constructs --------------------------------------------------------
# fixest accepts the bare log(abs(x2) + 1) (same fit, coefficient named
# "log(abs(x2) + 1)"; with I() it is "I(log(abs(x2) + 1))").
run(sim, "ybin ~ x1 + x1^2 + log(abs(x2) + 1) | region^time", "logit", c("iid", "cluster:unit"))
run(sim, "ycnt ~ x1 + i(region, x2) | unit", "poisson", "cluster:unit")

# --- weights -------------------------------------------------------------------------------
W <- list(weights = "region"); Wid <- "weights=region"
# The log-likelihood of weighted least squares: R's lm (the normal
# likelihood with variance sigma^2 / w_i; fixest's logLik uses the unweighted
# residuals instead, -3581.93 here against lm's -3685.65).
ll_lm <- as.numeric(logLik(lm(y ~ x1 + x2 + d, sim, weights = region)))
run(sim, "y ~ x1 + x2 + d", "gaussian", c("iid", "hc1", "cluster:unit"), c(W, list(lm_loglik = ll_lm)), Wid,
    weights = ~region)
run(sim, "y ~ x1 + x2 | unit", "gaussian", c("iid", "cluster:unit"), W, Wid, weights = ~region)
run(sim, "ybin ~ x1 + x2", "logit", c("iid", "hc1"), W, Wid, weights = ~region)
run(sim, "ycnt ~ x1 + x2 | unit", "poisson", "cluster:unit", W, Wid, weights = ~region)

# --- subset ---------------------------------------------------------------------------------
# 22 of the 117 units left have a single row: feols keeps these singletons
# (nobs 342; pyfixest drops them, 320). Estimates and the iid s.e. are the same
# either way (n and K fall together); a clustered s.e. would not be.
run(sim, "y ~ x1 + x2 | unit", "gaussian", "iid", list(subset = "time >= 2005 & d == 1",
    note = "22 singleton units (one row) kept by fixest: nobs 342 (320 without them; same estimates and iid s.e.)"),
    "subset=time >= 2005 & d == 1", subset = ~ time >= 2005 & d == 1)
run(sim, "ybin ~ x1 + x2", "logit", "iid", list(subset = "region != 3 | time < 2003"),
    "subset=region != 3 | time < 2003", subset = ~ region != 3 | time < 2003)

# --- split ------------------------------------------------------------------------------------
sp <- feols(y ~ x1 + x2, sim, split = ~region)
info <- models(sp)
stopifnot(nrow(info) == 4)
for (i in seq_along(sp)) {
  lev <- as.numeric(info$sample[i])
  fit <- sp[[i]]
  # the split fit equals the fit on the rows of that level
  alone <- feols(y ~ x1 + x2, sim[sim$region == lev, ], vcov = "hetero")
  stopifnot(max(abs(coef(fit) - coef(alone))) < 1e-12,
            max(abs(se(fit, vcov = "hetero") - se(alone))) < 1e-12)
  add_case("y ~ x1 + x2", "gaussian", "hc1", fit, list(split = "region", split_level = lev),
           sprintf("split=region:%g", lev))
}

# --- multiple estimation -------------------------------------------------------------------------
# Each fit is checked against the same formula estimated alone. fixest 0.12.2
# counts one parameter too many in the fixed-effect fits of `| sw0(a, b)`
# (nparams 122 for y ~ x1 | unit, 121 alone: the intercept of the first, FE-free
# fit carried over), which inflates their s.e. by sqrt((n - K) / (n - K - 1)).
# Where the two differ, the case stores the stand-alone fit (= pyfixest's) and
# fixest's multi-estimation s.e. in "note".
multi <- function(formula, fam = "gaussian", vcov = "iid") {
  m <- feols(as.formula(formula), sim, fixef.tol = 1e-11)
  fits <- if (inherits(m, "fixest_multi")) as.list(m) else list(m)
  for (i in seq_along(fits)) {
    fit <- fits[[i]]
    check_fit(fit, fam)
    f_i <- deparse1l(formula(fit))
    alone <- feols(formula(fit), sim, fixef.tol = 1e-11)
    stopifnot(identical(names(coef(fit)), names(coef(alone))),
              max(abs(coef(fit) - coef(alone))) < 1e-10, nobs(fit) == nobs(alone))
    extra <- list(multi = formula, multi_index = i - 1)
    se_m <- se(fit, vcov = "iid"); se_a <- se(alone, vcov = "iid")
    if (max(abs(se_m / se_a - 1)) > 1e-10) {
      extra$note <- sprintf(paste0(
        "fixest's multi-estimation fit counts K = %d (the stand-alone fit %d): its s.e. are %s; ",
        "this case stores the stand-alone fit of the expanded formula"),
        fit$nparams, alone$nparams, paste(sprintf("%s %s", names(se_m), num(se_m)), collapse = ", "))
      fit <- alone
    }
    add_case(f_i, fam, vcov, fit, extra, sprintf("multi=%s#%d", formula, i - 1))
  }
  length(fits)
}
stopifnot(multi("y ~ x1 + csw(x2, d)") == 2)
stopifnot(multi("y ~ x1 + csw0(x2, d)") == 3)
stopifnot(multi("y ~ sw(x2, d) + x1") == 2)
stopifnot(multi("c(y, ycnt) ~ x1 + x2") == 2)
stopifnot(multi("y ~ x1 | sw0(unit, time)") == 3)

# --- hand check of fixest's weighted estimators --------------------------------------------------
check_weights <- function() {
  dd <- sim[!is.na(sim$x2), ]
  X <- model.matrix(~ x1 + x2 + d, dd); w <- dd$region; n <- nrow(X); K <- ncol(X)
  fx <- feols(y ~ x1 + x2 + d, sim, weights = ~region)
  l <- lm(y ~ x1 + x2 + d, dd, weights = region)
  B <- solve(crossprod(X, w * X)); b <- B %*% crossprod(X, w * dd$y); e <- as.vector(dd$y - X %*% b)
  s2 <- sum(w * e^2) / (n - K)
  stopifnot(nobs(fx) == n, n == 1797, sum(w) == 4494,
            max(abs(coef(fx) - b)) < 1e-12, max(abs(coef(l) - b)) < 1e-12,
            abs(fx$sigma2 / s2 - 1) < 1e-12, abs(summary(l)$sigma^2 / s2 - 1) < 1e-12,
            max(abs(se(fx, vcov = "iid") / sqrt(diag(s2 * B)) - 1)) < 1e-10,
            max(abs(se(fx, vcov = "iid") / sqrt(diag(vcov(l))) - 1)) < 1e-10)
  S <- X * (w * e)
  hc1 <- B %*% crossprod(S) %*% B * n / (n - K)
  stopifnot(max(abs(se(fx, vcov = "hetero") / sqrt(diag(hc1)) - 1)) < 1e-10)
  G <- length(unique(dd$unit))
  cl <- B %*% crossprod(rowsum(S, dd$unit)) %*% B * G / (G - 1) * (n - 1) / (n - K)
  stopifnot(max(abs(se(fx, cluster = ~unit) / sqrt(diag(cl)) - 1)) < 1e-10)
  # logit
  Xg <- model.matrix(~ x1 + x2, dd); Kg <- ncol(Xg)
  fg <- feglm(ybin ~ x1 + x2, sim, family = binomial("logit"), weights = ~region, glm.tol = 1e-12)
  gl <- suppressWarnings(glm(ybin ~ x1 + x2, binomial, dd, weights = region, control = list(epsilon = 1e-14)))
  p <- plogis(as.vector(Xg %*% coef(fg)))
  Bg <- solve(crossprod(Xg, (w * p * (1 - p)) * Xg)); Sg <- Xg * (w * (dd$ybin - p))
  stopifnot(nobs(fg) == n, max(abs(coef(fg) - coef(gl))) < 1e-9,
            max(abs(se(fg, vcov = "iid") / sqrt(diag(Bg * (n - 1) / (n - Kg))) - 1)) < 1e-8,
            max(abs(se(fg, vcov = "hetero") / sqrt(diag(Bg %*% crossprod(Sg) %*% Bg * n / (n - Kg))) - 1)) < 1e-8)
  cat("weights hand check: fixest = WLS/weighted-ML by hand; n = rows (1797, sum of weights 4494)\n")
}
check_weights()

writeLines(c('{"cases": [', paste(cases, collapse = ",\n"), "]}"), here("reference", "formula_ext.json"))
cat(length(cases), "cases written\n")
tab <- do.call(rbind, summary_rows)
old <- options(width = 250)
print(format(tab, digits = 10), right = FALSE, row.names = FALSE)
options(old)
