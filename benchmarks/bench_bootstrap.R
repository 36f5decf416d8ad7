# lavaan's bootstrap, timed for benchmarks/bench_bootstrap.py.
#
# Usage: Rscript bench_bootstrap.R DATA.csv MODEL.lav B NCPUS SEED CI_OUT.csv [MISSING]
#
# Times sem(model, data, se = "bootstrap", bootstrap = B, parallel = "multicore",
# ncpus = NCPUS) wall-clock (the full-sample fit, the B refits and the standard
# errors; reading the data is not timed), writes the percentile intervals of
# every parameter (parameterEstimates(fit, boot.ci.type = "perc")) with the
# bootstrap standard errors to CI_OUT.csv and prints
# "elapsed <seconds> failed <count> warnings <count> lavaan <version>".
# MISSING is passed to sem() as `missing` ("ml" for full-information ML; NA in
# DATA.csv marks a missing answer); without it sem() keeps its default
# (listwise under ML). Warnings of sem() and parameterEstimates() are counted and
# their distinct messages written to stderr.
args <- commandArgs(trailingOnly = TRUE)
if (!(length(args) %in% c(6, 7)))
  stop("usage: Rscript bench_bootstrap.R DATA.csv MODEL.lav B NCPUS SEED CI_OUT.csv [MISSING]")
suppressPackageStartupMessages(library(lavaan))
d <- read.csv(args[1])
model <- paste(readLines(args[2]), collapse = "\n")
B <- as.integer(args[3])
ncpus <- as.integer(args[4])
seed <- as.integer(args[5])
missing <- if (length(args) == 7) args[7] else "default"
caught <- character(0)
catch <- function(w) {
  caught <<- c(caught, conditionMessage(w))
  invokeRestart("muffleWarning")
}
t0 <- proc.time()[["elapsed"]]
fit <- withCallingHandlers(
  sem(model, data = d, missing = missing, se = "bootstrap", bootstrap = B,
      parallel = "multicore", ncpus = ncpus, iseed = seed),
  warning = catch)
elapsed <- proc.time()[["elapsed"]] - t0
pe <- withCallingHandlers(parameterEstimates(fit, boot.ci.type = "perc", level = 0.95),
                          warning = catch)
boot <- lavInspect(fit, "boot")
failed <- length(attr(boot, "error.idx"))
write.csv(pe[, c("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")], args[6],
          row.names = FALSE)
for (m in unique(caught)) message("lavaan warning: ", gsub("\n", " ", m))
cat(sprintf("elapsed %.6f failed %d warnings %d lavaan %s\n", elapsed, failed,
            length(caught), as.character(packageVersion("lavaan"))))
