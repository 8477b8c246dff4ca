#!/usr/bin/env Rscript
# Reference estimates of likelihood models with absorbed fixed effects from R
# fixest 0.12.2: FE logit and probit (feglm, binomial("logit"/"probit")), FE
# Poisson (fepois) and FE negative binomial (fenegbin), with iid and
# clustered standard errors, on the simulated panel and the real state-year
# panel. tests/estimators.rs (fe_glms_match_fixest) reads
# tests/reference/fixest_glm.json, in the case format of estimators.json.
#
# Conventions, so that both tools estimate the same thing on the same rows:
# - fixef.rm = "both": fixed-effect groups without outcome variation (all 0
#   for counts, all 0 or all 1 for binary outcomes) and singletons are removed,
#   as concord does (fixest keeps y > 0 singletons of count models by
#   default; they change neither estimates nor the fit, only n and K).
# - Standard errors: fixest's default small-sample correction ssc(adj = TRUE,
#   fixef.K = "nested", cluster.adj = TRUE): iid is the inverse information
#   times (n - 1) / (n - K), K = coefficients + fixed-effect levels less the
#   redundant ones; clustered is the CR sandwich times G / (G - 1) (n - 1) /
#   (n - K), fixed effects nested in the cluster variable left out of K.
# - Negbin: fixest reports theta (variance mu + mu^2 / theta) as `.theta`;
#   concord reports alpha = 1 / theta. The case stores alpha and its standard
#   error se(theta) / theta^2 (the delta method, exact for the inverse
#   information at the maximum). fixest's clustered K counts theta (iid K
#   does not); concord follows. With fixed effects not nested in the clusters
#   fixest's clustered theta s.e. uses the raw theta score: the case stores the
#   s.e. from the efficient score instead (efficient_alpha_se) and fixest's
#   printed value in its note.
#
#   target/release/concord data build --unit state-year --from 1946 --to 2014 \
#       --data-dir ../shared/data --out /tmp/state_year.csv
#   R_LIBS=~/.local/share/R/fixest-lib Rscript tests/reference/fixest_glm.R /tmp/state_year.csv
suppressMessages(library(fixest))
setFixest_nthreads(1)
args <- commandArgs(trailingOnly = TRUE)
here <- function(...) file.path("tests", ...)

cases <- character(0)
num <- function(x) sprintf("%.17g", x)
add_case <- function(data, formula, family, vcov, fit) {
  v <- if (vcov == "iid") "iid" else as.formula(paste0("~", sub("cluster:", "", vcov)))
  b <- fit$coefficients
  se <- se(fit, vcov = v)
  note <- ""
  if (family == "negbin") {
    th <- b[".theta"]
    b[".theta"] <- 1 / th
    se[".theta"] <- se[".theta"] / th^2
    names(b)[names(b) == ".theta"] <- "alpha"
    names(se)[names(se) == ".theta"] <- "alpha"
    note <- sprintf(', "theta": %s', num(th))
    if (vcov != "iid") {
      eff <- efficient_alpha_se(fit, data_of[[data]], sub("cluster:", "", vcov), se["alpha"] * th^2) / th^2
      if (abs(eff / se["alpha"] - 1) > 1e-6) {
        note <- paste0(note, sprintf(', "note": "alpha s.e.: fixest gives %s; its clustered meat takes the raw theta score while the coefficient scores have the fixed effects partialled out; this reference (and concord) partials them out of the theta score too (the efficient score, equal to the raw one when the fixed effects are nested in the clusters)"', num(se["alpha"])))
        se["alpha"] <- eff
      }
    }
  }
  coefs <- paste0(sprintf('"%s": [%s, %s]', names(b), num(b), num(se[names(b)])), collapse = ", ")
  id <- paste(data, family, formula, vcov, sep = "|")
  cases <<- c(cases, sprintf(
    '{"id": "%s", "data": "%s", "formula": "%s", "family": "%s", "vcov": "%s", "nobs": %d, "coefficients": {%s}, "loglik": %s, "iterations": %d%s, "tool": "R %s, fixest %s"}',
    id, data, formula, family, vcov, nobs(fit), coefs, num(logLik(fit)), fit$iterations, note,
    getRversion(), packageVersion("fixest")))
}

# Clustered s.e. of theta with the fixed effects partialled out of the theta
# score, from fixest's own bread, scores and small-sample factor: the score
# s_theta + dl/deta * (the FE projection of -(d2l/deta dtheta) / (d2l/deta2)).
efficient_alpha_se <- function(fit, df, cl_var, se_theta_pub) {
  d <- df[obs(fit), ]
  th <- fit$theta; m <- fit$fitted.values; y <- model.matrix(fit, type = "lhs")
  d1 <- th * (y - m) / (th + m)
  lee <- th * m * (y + th) / (th + m)^2
  q <- (m * (y - m) / (th + m)^2) / lee
  absorbed <- q - as.vector(demean(q, d[, fit$fixef_vars, drop = FALSE], weights = lee, tol = 1e-13))
  S <- fit$scores; B <- fit$cov.unscaled; cl <- d[[cl_var]]
  S2 <- S; S2[, "score.theta"] <- S[, "score.theta"] + d1 * absorbed
  raw <- (B %*% crossprod(rowsum(S, cl)) %*% B)[".theta", ".theta"]
  eff <- (B %*% crossprod(rowsum(S2, cl)) %*% B)[".theta", ".theta"]
  se_theta_pub * sqrt(eff / raw)
}

fit_one <- function(df, formula, family) {
  f <- as.formula(formula)
  switch(family,
    logit = feglm(f, df, family = binomial("logit"), fixef.rm = "both", glm.tol = 1e-12, fixef.tol = 1e-11),
    probit = feglm(f, df, family = binomial("probit"), fixef.rm = "both", glm.tol = 1e-12, fixef.tol = 1e-11),
    poisson = fepois(f, df, fixef.rm = "both", glm.tol = 1e-12, fixef.tol = 1e-11),
    negbin = fenegbin(f, df, fixef.rm = "both", fixef.tol = 1e-11,
                      opt.control = list(rel.tol = 1e-10)))
}

run <- function(data, df, formula, family, vcovs) {
  fit <- fit_one(df, formula, family)
  stopifnot(fit$convStatus)
  for (v in vcovs) add_case(data, formula, family, v, fit)
}

sim <- read.csv(here("fixtures", "sim_panel.csv"))
data_of <- list(sim = sim)
for (fam in c("logit", "probit")) {
  run("sim", sim, "ybin ~ x1 + x2 + d | unit", fam, c("iid", "cluster:unit", "cluster:region"))
  run("sim", sim, "ybin ~ x1 + x2 + d | unit + time", fam, c("iid", "cluster:unit"))
}
run("sim", sim, "ycnt ~ x1 + x2 + d | unit", "poisson", c("iid", "cluster:unit", "cluster:region"))
run("sim", sim, "ycnt ~ x1 + x2 + d | unit + time", "poisson", c("iid", "cluster:unit"))
run("sim", sim, "ynb ~ x1 + x2 + d | unit", "negbin", c("iid", "cluster:unit", "cluster:region"))
run("sim", sim, "ynb ~ x1 + x2 + d | unit + time", "negbin", c("iid", "cluster:unit"))

if (length(args) >= 1) {
  sy <- read.csv(args[1])
  data_of$state_year <- sy
  for (fam in c("logit", "probit")) {
    run("state_year", sy, "mid_onset ~ igo_full + polity2 + cinc | ccode", fam, c("iid", "cluster:ccode"))
    run("state_year", sy, "mid_onset ~ igo_full + polity2 + cinc | ccode + year", fam, c("iid", "cluster:ccode"))
  }
  run("state_year", sy, "mid_count ~ igo_full + polity2 + cinc | ccode + year", "poisson", c("iid", "cluster:ccode"))
  run("state_year", sy, "mid_count ~ igo_full + polity2 + cinc | ccode", "negbin", c("iid", "cluster:ccode"))
}

writeLines(c('{"cases": [', paste(cases, collapse = ",\n"), "]}"), here("reference", "fixest_glm.json"))
cat(length(cases), "cases written\n")
