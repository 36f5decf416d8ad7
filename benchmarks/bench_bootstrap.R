# lavaan's bootstrap, timed for benchmarks/bench_bootstrap.py.
#
# Usage: Rscript bench_bootstrap.R DATA.csv MODEL.lav B NCPUS SEED CI_OUT.csv
#
# Times sem(model, data, se = "bootstrap", bootstrap = B, parallel = "multicore",
# ncpus = NCPUS) wall-clock (the full-sample fit, the B refits and the standard
# errors; reading the data is not timed), writes the percentile intervals of
# every parameter (parameterEstimates(fit, boot.ci.type = "perc")) with the
# bootstrap standard errors to CI_OUT.csv and prints
# "elapsed <seconds> failed <count> lavaan <version>".
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 6) stop("usage: Rscript bench_bootstrap.R DATA.csv MODEL.lav B NCPUS SEED CI_OUT.csv")
suppressPackageStartupMessages(library(lavaan))
d <- read.csv(args[1])
model <- paste(readLines(args[2]), collapse = "\n")
B <- as.integer(args[3])
ncpus <- as.integer(args[4])
seed <- as.integer(args[5])
t0 <- proc.time()[["elapsed"]]
fit <- sem(model, data = d, se = "bootstrap", bootstrap = B,
           parallel = "multicore", ncpus = ncpus, iseed = seed)
elapsed <- proc.time()[["elapsed"]] - t0
pe <- parameterEstimates(fit, boot.ci.type = "perc", level = 0.95)
boot <- lavInspect(fit, "boot")
failed <- length(attr(boot, "error.idx"))
write.csv(pe[, c("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")], args[6],
          row.names = FALSE)
cat(sprintf("elapsed %.6f failed %d lavaan %s\n", elapsed, failed,
            as.character(packageVersion("lavaan"))))
