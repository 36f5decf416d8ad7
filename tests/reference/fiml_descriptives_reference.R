# Regenerate the reference numbers that tests/test_pipeline_fiml_wlsmv.py holds sem_kit's
# descriptive statistics under --missing fiml to: the statistics that are functions of the
# item covariance matrix, computed from lavaan's EM estimate of it (the saturated model of
# missing = "ml") with N = every row.
#
# Run from the repository root (or anywhere: paths are relative to this script):
#
#     Rscript tests/reference/fiml_descriptives_reference.R
#
# Input: data/estimators_ninefactor_missing.csv (the built-in nine-factor questionnaire's 48
# items, 500 simulated rows, 5% of the answers deleted at random) and data/ninefactor_cfa.lav
# (its CFA; the first-order part for HTMT).
#
# Output: fiml_descriptives.json with
#   em_cor        lavCor(data, missing = "ml", output = "cor"): the EM correlation matrix
#   htmt          semTools::htmt(model, data, missing = "ml", htmt2 = FALSE)
#   htmt2         the same with htmt2 = TRUE (geometric means)
#   kmo           psych::KMO(em_cor)$MSA
#   bartlett      psych::cortest.bartlett(em_cor, n = N): chisq, df, p.value
#   alpha         per construct, psych::alpha(em_cov[items, items])$total$raw_alpha
# Checked with lavaan 0.6-14, semTools 0.5-6, psych 2.2.9.

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(psych)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
ref_dir <- if (length(script) == 1L) dirname(normalizePath(script)) else "tests/reference"
data_dir <- file.path(ref_dir, "data")

d <- read.csv(file.path(data_dir, "estimators_ninefactor_missing.csv"))
lines <- readLines(file.path(data_dir, "ninefactor_cfa.lav"), encoding = "UTF-8")
first_order <- lines[grepl("=~", lines) & !grepl("^\\s*KCH", lines)]
model <- paste(first_order, collapse = "\n")
constructs <- lapply(strsplit(first_order, "=~"), function(x) trimws(x))
names(constructs) <- vapply(constructs, `[`, "", 1)
items <- lapply(constructs, function(x) trimws(strsplit(x[2], "\\+")[[1]]))

em_cov <- lavCor(d, missing = "ml", output = "cov")
em_cor <- cov2cor(em_cov)
n <- nrow(d)
mat <- function(m) list(rownames = rownames(m), colnames = colnames(m),
                        values = unname(unclass(as.matrix(m))))
bart <- cortest.bartlett(em_cor, n = n)
out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  semtools_version = as.character(packageVersion("semTools")),
  psych_version = as.character(packageVersion("psych")),
  data_file = "estimators_ninefactor_missing.csv",
  n = n,
  em_cor = mat(em_cor),
  htmt = mat(htmt(model, data = d, missing = "ml", htmt2 = FALSE)),
  htmt2 = mat(htmt(model, data = d, missing = "ml", htmt2 = TRUE)),
  kmo = KMO(em_cor)$MSA,
  bartlett = list(chisq = bart$chisq, df = bart$df, p_value = bart$p.value),
  alpha = lapply(items, function(i) suppressWarnings(
    psych::alpha(em_cov[i, i], warnings = FALSE)$total$raw_alpha))
)
path <- file.path(ref_dir, "fiml_descriptives.json")
write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("fiml_descriptives.json: KMO", out$kmo, "Bartlett", bart$chisq, "\n")
