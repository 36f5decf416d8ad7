# Regenerate the semTools reference numbers that tests/test_reliability_ordinal.py holds
# sem_kit.measurement.reliability.categorical_omega_by_construct to: reliability of ordinal items fitted
# by WLSMV, as semTools::compRelSEM reports it.
#
# Run from the repository root:
#
#     Rscript tests/reference/ordinal_reliability_reference.R
#
# Inputs (tests/reference/data/):
#   ninefactor_cfa.lav + sim_ninefactor.csv          the built-in nine-factor CFA (13
#       first-order factors, second-order KCH over ECO, SCA, TIM, CPX; 48 items, 500
#       simulated 7-point answers), cfa(..., ordered = TRUE, estimator = "WLSMV")
#   estimators_ordinal.lav + estimators_ordinal.csv  three factors, f3 ~ f1 + f2 (12 items,
#       600 simulated 5-point answers), sem(..., ordered = TRUE, estimator = "WLSMV")
#
# Output: tests/reference/ordinal_reliability.json, one entry per model with
#   call, model_file, data_file, options        the lavaan call and its parameterization
#   comp_rel_sem        compRelSEM(fit): Green & Yang's (2009) categorical omega of the
#                       observed sum score (ord.scale = TRUE, obs.var = TRUE, the defaults)
#   comp_rel_sem_latent compRelSEM(fit, ord.scale = FALSE): omega on the latent-response scale
#   comp_rel_sem_implied, comp_rel_sem_latent_implied
#                       the same two with obs.var = FALSE (denominator: model-implied
#                       instead of sample polychoric correlations)
#   matrices            what compRelSEM reads: lavInspect(fit, "est")$lambda,
#                       lavInspect(fit, "cov.lv"), lavInspect(fit, "sampstat")$cov (the
#                       polychoric correlations), lavInspect(fit, "fitted")$cov, the
#                       thresholds (semTools:::getThreshold) and scale factors
#                       (semTools:::getScales)
# compRelSEM returns only the first-order factors: a second-order factor has no item
# loadings in lambda and dropSingle = TRUE drops it; compRelSEM(fit, higher = "KCH") and
# return.total = TRUE stop with "non-conformable arguments" under ord.scale = TRUE in
# semTools 0.5.6 (omegaCat receives the summed common variance instead of a matrix), which
# is recorded under higher_order_error.
# Checked with lavaan 0.6-14, semTools 0.5.6, mnormt 2.1.1, jsonlite; numbers written with
# 15 significant digits (digits = NA).

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
ref_dir <- if (length(script) == 1L) dirname(normalizePath(script)) else "tests/reference"
data_dir <- file.path(ref_dir, "data")

read_data <- function(file) read.csv(file.path(data_dir, file), check.names = FALSE)
read_model <- function(file) paste(readLines(file.path(data_dir, file), encoding = "UTF-8"),
                                   collapse = "\n")

matrix_json <- function(m) {
  m <- as.matrix(m)
  list(rownames = rownames(m), colnames = colnames(m), values = unname(unclass(m)))
}

named <- function(x) as.list(setNames(as.numeric(x), names(x)))

dump_model <- function(fun_name, model_file, data_file) {
  fun <- get(fun_name, envir = asNamespace("lavaan"))
  fit <- fun(read_model(model_file), data = read_data(data_file), ordered = TRUE,
             estimator = "WLSMV")
  est <- lavInspect(fit, "est")
  thresholds <- semTools:::getThreshold(fit)[[1]]
  # second-order factors: no item loads on them
  higher <- colnames(est$lambda)[colSums(est$lambda != 0) == 0L]
  higher_error <- if (length(higher)) {
    tryCatch({
      compRelSEM(fit, higher = higher)
      NA_character_
    }, error = function(e) conditionMessage(e))
  } else NA_character_
  list(
    call = sprintf(paste0("%s(model, data = read.csv('%s'), ordered = TRUE, ",
                          "estimator = \"WLSMV\")"), fun_name, data_file),
    model_file = model_file,
    data_file = data_file,
    options = lavInspect(fit, "options")[c("estimator", "parameterization")],
    converged = lavInspect(fit, "converged"),
    comp_rel_sem_call = "compRelSEM(fit)",
    comp_rel_sem = named(compRelSEM(fit)),
    comp_rel_sem_latent_call = "compRelSEM(fit, ord.scale = FALSE)",
    comp_rel_sem_latent = named(compRelSEM(fit, ord.scale = FALSE)),
    comp_rel_sem_implied_call = "compRelSEM(fit, obs.var = FALSE)",
    comp_rel_sem_implied = named(compRelSEM(fit, obs.var = FALSE)),
    comp_rel_sem_latent_implied_call = "compRelSEM(fit, obs.var = FALSE, ord.scale = FALSE)",
    comp_rel_sem_latent_implied = named(compRelSEM(fit, obs.var = FALSE, ord.scale = FALSE)),
    higher_order = I(higher),
    higher_order_error = higher_error,
    matrices = list(
      lambda = matrix_json(est$lambda),
      cov_lv = matrix_json(lavInspect(fit, "cov.lv")),
      sampstat_cov = matrix_json(lavInspect(fit, "sampstat")$cov),
      fitted_cov = matrix_json(lavInspect(fit, "fitted")$cov),
      thresholds = lapply(thresholds, function(t) unname(as.numeric(t))),
      scales = named(semTools:::getScales(fit)[[1]])
    )
  )
}

out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  semtools_version = as.character(packageVersion("semTools")),
  mnormt_version = as.character(packageVersion("mnormt")),
  models = list(
    ninefactor_cfa = dump_model("cfa", "ninefactor_cfa.lav", "sim_ninefactor.csv"),
    ordinal_sem = dump_model("sem", "estimators_ordinal.lav", "estimators_ordinal.csv")
  )
)
path <- file.path(ref_dir, "ordinal_reliability.json")
write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
for (nm in names(out$models)) {
  m <- out$models[[nm]]
  cat(sprintf("%-15s %d factors, categorical omega %.4f..%.4f -> %s\n", nm,
              length(m$comp_rel_sem), min(unlist(m$comp_rel_sem)),
              max(unlist(m$comp_rel_sem)), path))
}
