# Regenerate the lavaan reference numbers that tests/test_robust.py, tests/test_fiml.py and
# tests/test_ordinal.py hold sem_kit.estimators.robust, sem_kit.estimators.fiml and sem_kit.estimators.wlsmv to.
#
# Run from the repository root (after
# .venv/bin/python tests/reference/data/estimators_make_inputs.py, which writes the data
# sets with missing answers and ordinal answers):
#
#     Rscript tests/reference/estimators_reference.R
#
# Inputs (tests/reference/data/): political_democracy.csv + pd_sem.lav, hs1939.csv +
# hs_cfa.lav / hs_mimic.lav, estimators_hs_missing.csv (Holzinger-Swineford with about 10%
# of the answers deleted completely at random), estimators_ordinal.csv +
# estimators_ordinal.lav (simulated 5-point answers).
#
# Outputs: tests/reference/estimators_<name>.json, one per fit, with
#   call, options      the lavaan call and lavInspect(fit, "options") that matter
#   estimates          parameterEstimates(fit, standardized = TRUE) + partable free/exo
#   fit                fitMeasures(fit) (every measure) plus chisq_df = chisq / df
#   test               lavInspect(fit, "test"): stat, df, pvalue, scaling.factor,
#                      trace.UGamma, shift.parameter of every test lavaan ran
#   baseline_test      the same for the baseline (independence) model
#   r2                 lavInspect(fit, "r2")
#   vcov               vcov(fit) with its parameter names
#   h1                 lavInspect(fit, "sampstat.h1") (FIML: the EM saturated moments)
#   sampstat           lavInspect(fit, "sampstat") (WLSMV: thresholds and polychorics)
#   nacov              lavInspect(fit, "gamma") (WLSMV: N x asymptotic covariance of
#                      the thresholds and polychoric correlations)
# Checked with lavaan 0.6-14, jsonlite; numbers written with 15 significant digits.

suppressPackageStartupMessages({
  library(lavaan)
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
  if (is.null(m)) return(NULL)
  m <- as.matrix(m)
  list(rownames = rownames(m), colnames = colnames(m), values = unname(unclass(m)))
}

test_json <- function(tests) {
  lapply(tests, function(t) {
    keep <- intersect(names(t), c("test", "stat", "df", "pvalue", "scaling.factor",
                                  "trace.UGamma", "trace.UGamma2", "shift.parameter",
                                  "scaling.factor.h1", "scaling.factor.h0"))
    lapply(t[keep], function(x) if (is.numeric(x)) as.numeric(x) else x)
  })
}

dump_fit <- function(name, fun, model_file, data_file, ...) {
  model <- read_model(model_file)
  data <- read_data(data_file)
  extra <- list(...)
  lavaan_warnings <- character(0)
  fit <- withCallingHandlers(
    fun(model, data = data, ...),
    warning = function(w) {
      lavaan_warnings <<- c(lavaan_warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  pt <- parTable(fit)
  pe <- parameterEstimates(fit, standardized = TRUE, ci = FALSE)
  key <- function(x) paste(x$lhs, x$op, x$rhs)
  pe$free <- pt$free[match(key(pe), key(pt))]
  pe$exo <- pt$exo[match(key(pe), key(pt))]
  fm <- as.list(unclass(fitMeasures(fit)))
  fm$chisq_df <- fm$chisq / fm$df
  opts <- lavInspect(fit, "options")
  base <- fit@baseline
  vc <- vcov(fit)
  h1 <- tryCatch(lavInspect(fit, "sampstat.h1"), error = function(e) NULL)
  ss <- lavInspect(fit, "sampstat")
  gamma <- tryCatch(lavInspect(fit, "gamma"), error = function(e) NULL)
  arg_text <- if (length(extra)) {
    paste0(", ", paste(sprintf("%s = %s", names(extra),
                               vapply(extra, function(v) deparse(v, width.cutoff = 500L),
                                      "")), collapse = ", "))
  } else ""
  out <- list(
    name = name,
    lavaan_version = as.character(packageVersion("lavaan")),
    call = sprintf("%s(model, data = read.csv('%s')%s)", deparse(substitute(fun)), data_file,
                   arg_text),
    model_file = model_file,
    data_file = data_file,
    options = opts[c("estimator", "missing", "meanstructure", "information",
                     "observed.information", "h1.information", "se", "test",
                     "parameterization")],
    n = lavInspect(fit, "nobs"),
    ntotal = lavInspect(fit, "ntotal"),
    converged = lavInspect(fit, "converged"),
    lavaan_warnings = I(lavaan_warnings),
    estimates = as.data.frame(pe),
    fit = fm,
    test = test_json(lavInspect(fit, "test")),
    baseline_test = if (!is.null(base$test)) test_json(base$test) else NULL,
    r2 = as.list(lavInspect(fit, "r2")),
    vcov = matrix_json(vc),
    h1 = if (!is.null(h1)) lapply(h1, matrix_json) else NULL,
    sampstat = lapply(ss, function(x) if (is.matrix(x)) matrix_json(x) else
      list(names = names(x), values = unname(as.numeric(x)))),
    nacov = matrix_json(gamma)
  )
  path <- file.path(ref_dir, sprintf("estimators_%s.json", name))
  write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
  cat(sprintf("%-22s chisq = %.3f  df = %s  -> %s\n", name, fm$chisq, fm$df, path))
}

# 1. Robust maximum likelihood on complete data.
#    MLM: robust.sem SEs (expected information), Satorra-Bentler scaled test.
#    MLR: Huber-White sandwich SEs (observed information), Yuan-Bentler (Mplus) test.
dump_fit("pd_mlm", sem, "pd_sem.lav", "political_democracy.csv", estimator = "MLM")
dump_fit("pd_mlr", sem, "pd_sem.lav", "political_democracy.csv", estimator = "MLR")
dump_fit("hs_cfa_mlm", cfa, "hs_cfa.lav", "hs1939.csv", estimator = "MLM")
dump_fit("hs_cfa_mlr", cfa, "hs_cfa.lav", "hs1939.csv", estimator = "MLR")
dump_fit("hs_mimic_mlm", sem, "hs_mimic.lav", "hs1939.csv", estimator = "MLM")
dump_fit("hs_mimic_mlr", sem, "hs_mimic.lav", "hs1939.csv", estimator = "MLR")

# 2. Full-information ML with answers missing completely at random (meanstructure, observed
#    information, chi-square against the EM saturated model).
dump_fit("hs_cfa_fiml", cfa, "hs_cfa.lav", "estimators_hs_missing.csv", missing = "ml")
dump_fit("pd_fiml", sem, "pd_sem.lav", "estimators_pd_missing.csv", missing = "ml")
# Observed outcomes and an observed mediator: intercepts of dependent observed variables.
dump_fit("hs_paths_fiml", sem, "hs_paths.lav", "estimators_hs_missing.csv", missing = "ml")

# 3. Ordered items: polychoric correlations, DWLS, robust SEs, scaled-and-shifted test.
dump_fit("ordinal_wlsmv", sem, "estimators_ordinal.lav", "estimators_ordinal.csv",
         ordered = TRUE, estimator = "WLSMV")

# The bivariate normal distribution function lavaan uses for polychoric correlations
# (pbivnorm, Genz's algorithm), on a grid that reaches every branch (|r| < 0.3, < 0.75,
# < 0.925, above; negative r; limits beyond +-5).
grid <- expand.grid(h = c(-6, -2.1, -0.7, 0, 0.4, 1.3, 2.8),
                    k = c(-3.5, -1.2, -0.25, 0.6, 1.9, 5.5),
                    r = c(-0.97, -0.8, -0.45, -0.1, 0, 0.2, 0.6, 0.85, 0.93, 0.995))
grid$p <- pbivnorm::pbivnorm(grid$h, grid$k, rho = grid$r)
write_json(list(call = "pbivnorm::pbivnorm(h, k, rho = r)",
                pbivnorm_version = as.character(packageVersion("pbivnorm")),
                grid = grid),
           file.path(ref_dir, "estimators_bivnorm.json"), digits = NA, pretty = TRUE)
cat("estimators_bivnorm.json: ", nrow(grid), "points\n")

# 4. The built-in nine-factor questionnaire's model (KCH second order, 48 items) on its 500
#    simulated 7-point answers: MLR and WLSMV on the complete data, FIML with 5% of the
#    answers deleted at random.
dump_fit("ninefactor_mlr", sem, "ninefactor_sem.lav", "sim_ninefactor.csv", estimator = "MLR")
dump_fit("ninefactor_wlsmv", sem, "ninefactor_sem.lav", "sim_ninefactor.csv",
         ordered = TRUE, estimator = "WLSMV")
dump_fit("ninefactor_fiml", sem, "ninefactor_sem.lav", "estimators_ninefactor_missing.csv",
         missing = "ml")
