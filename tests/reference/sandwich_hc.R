#!/usr/bin/env Rscript
# Reference HC2/HC3 standard errors of logit and Poisson fits for concord's
# estimator tests (tests/estimators.rs reads tests/reference/sandwich_hc.json
# with the same case format as estimators.json).
#
# Why R: statsmodels accepts cov_type "HC2"/"HC3" for Logit, Poisson and GLM
# but returns HC0 for them, so the reference is R's sandwich::vcovHC (leverage
# from the IRLS weights, h_i = w_i x_i' (X'WX)^-1 x_i).
#
#   apt-get install r-cran-sandwich
#   target/release/concord data build --unit state-year --from 1946 --to 2014 \
#       --data-dir ../shared/data --out /tmp/state_year.csv
#   Rscript tests/reference/sandwich_hc.R /tmp/state_year.csv
suppressMessages(library(sandwich))
args <- commandArgs(trailingOnly = TRUE)
here <- function(...) file.path("tests", ...)

cases <- character(0)
num <- function(x) sprintf("%.17g", x)
add_case <- function(data, formula, family, vcov, fit) {
  V <- vcovHC(fit, type = toupper(vcov))
  b <- coef(fit)
  se <- sqrt(diag(V))
  terms <- names(b)
  coefs <- paste0(sprintf('"%s": [%s, %s]', terms, num(b), num(se)), collapse = ", ")
  id <- paste(data, family, formula, vcov, sep = "|")
  cases <<- c(cases, sprintf(
    '{"id": "%s", "data": "%s", "formula": "%s", "family": "%s", "vcov": "%s", "nobs": %d, "coefficients": {%s}, "tool": "R %s, sandwich %s (vcovHC)"}',
    id, data, formula, family, vcov, nobs(fit), coefs, getRversion(), packageVersion("sandwich")))
}
fam <- list(logit = binomial(link = "logit"), poisson = poisson(link = "log"))
run <- function(data, df, formula, family) {
  fit <- glm(as.formula(formula), data = df, family = fam[[family]],
             control = glm.control(epsilon = 1e-14, maxit = 100))
  for (v in c("hc2", "hc3")) add_case(data, formula, family, v, fit)
}

sim <- read.csv(here("fixtures", "sim_panel.csv"))
run("sim", sim, "ybin ~ x1 + x2 + d", "logit")
run("sim", sim, "ycnt ~ x1 + x2 + d", "poisson")
if (length(args) > 0) {
  sy <- read.csv(args[1])
  run("state_year", sy, "mid_onset ~ igo_full + polity2 + cinc", "logit")
  run("state_year", sy, "mid_count ~ igo_full + polity2 + cinc", "poisson")
}
out <- sprintf('{"generator": "tests/reference/sandwich_hc.R", "cases": [\n%s\n]}\n',
               paste(cases, collapse = ",\n"))
writeLines(out, here("reference", "sandwich_hc.json"), sep = "")
cat(length(cases), "reference cases written\n")
