# Regenerate the lavaan reference numbers that tests/test_estimation.py,
# tests/test_fit_indices.py and tests/test_modification.py hold sem_kit to.
#
# Run from the repository root (after .venv/bin/python tests/reference/data/make_inputs.py):
#
#     Rscript tests/reference/lavaan_reference.R
#
# Inputs: tests/reference/data/*.csv (data) and tests/reference/data/*.lav (lavaan
# model syntax). Outputs: tests/reference/lavaan_<name>.json, one per model, with
#   estimates   parameterEstimates(fit, standardized = TRUE) + partable free/exo
#   fit         fitMeasures(fit) (every measure) plus chisq_df = chisq / df
#   modindices  modindices(fit, sort. = TRUE)  (ML, expected information)
#   r2          lavInspect(fit, "r2")
#   sample_cov, implied_cov   lavInspect(fit, "sampstat")$cov, lavInspect(fit, "implied")$cov
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

matrix_json <- function(m) list(names = rownames(m), values = unname(unclass(m)))

dump_fit <- function(name, fun, model_file, data_file) {
  model <- read_model(model_file)
  data <- read_data(data_file)
  lavaan_warnings <- character(0)
  fit <- withCallingHandlers(
    fun(model, data = data),
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
  fm <- fitMeasures(fit)
  fm <- as.list(unclass(fm))
  fm$chisq_df <- fm$chisq / fm$df
  mi <- suppressWarnings(modindices(fit, sort. = TRUE))
  out <- list(
    name = name,
    lavaan_version = as.character(packageVersion("lavaan")),
    call = sprintf("%s(model, data = read.csv('%s'))", deparse(substitute(fun)), data_file),
    model_file = model_file,
    data_file = data_file,
    n = lavInspect(fit, "nobs"),
    converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"),
    lavaan_warnings = I(lavaan_warnings),
    estimates = as.data.frame(pe),
    fit = fm,
    modindices = as.data.frame(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")]),
    r2 = as.list(lavInspect(fit, "r2")),
    sample_cov = matrix_json(lavInspect(fit, "sampstat")$cov),
    implied_cov = matrix_json(lavInspect(fit, "implied")$cov)
  )
  path <- file.path(ref_dir, sprintf("lavaan_%s.json", name))
  write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
  cat(sprintf("%-18s chisq = %.3f  df = %d  -> %s\n", name, fm$chisq, as.integer(fm$df), path))
}

# Holzinger & Swineford (1939): the three-factor CFA.
dump_fit("hs_cfa", cfa, "hs_cfa.lav", "hs1939.csv")
# Holzinger & Swineford with covariates: fixed.x, auto.cov.y, an equality label.
dump_fit("hs_mimic", sem, "hs_mimic.lav", "hs1939.csv")
# Observed outcomes and mediator, NA* with a fixed latent variance, a fixed-zero covariance.
dump_fit("hs_paths", sem, "hs_paths.lav", "hs1939.csv")
# Second-order factor over a dimension without a fixed loading, with an observed outcome.
dump_fit("hs_second_order", sem, "hs_second_order.lav", "hs1939.csv")
# The first HS factor alone: saturated (df = 0).
dump_fit("hs_saturated", cfa, "hs_saturated.lav", "hs1939.csv")
# A Heywood case: negative residual variance, standardised loading above 1.
dump_fit("heywood", cfa, "heywood.lav", "heywood.csv")
# Bollen's political democracy SEM: regressions and residual covariances.
dump_fit("pd_sem", sem, "pd_sem.lav", "political_democracy.csv")
# The built-in nine-factor questionnaire on simulated answers (N = 500).
if (file.exists(file.path(data_dir, "sim_ninefactor.csv"))) {
  dump_fit("ninefactor_cfa", cfa, "ninefactor_cfa.lav", "sim_ninefactor.csv")
  dump_fit("ninefactor_sem", sem, "ninefactor_sem.lav", "sim_ninefactor.csv")
}
