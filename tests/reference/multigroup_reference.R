# Regenerate the lavaan reference numbers that tests/test_multigroup.py holds
# sem_kit.estimators.multigroup and sem_kit.postestimation.invariance to.
#
# Run from the repository root:
#
#     Rscript tests/reference/multigroup_reference.R
#
# Inputs: tests/reference/data/hs1939.csv (Holzinger & Swineford 1939, with the
# `school` column; groups in order of first appearance, Pasteur then Grant-White,
# as lavaan orders them), tests/reference/data/hs_cfa.lav (three-factor CFA) and
# tests/reference/data/multigroup_hs_paths.lav (the same with structural paths).
# Outputs:
#   multigroup_hs_invariance.json
#     steps: configural, metric, scalar, strict and a partial scalar model, each
#       cfa(model, data, group = "school", group.equal = ..., group.partial = ...)
#       with fitMeasures(fit), parameterEstimates(fit, standardized = TRUE)
#       (+ partable free) and lavInspect(fit, "nobs");
#     lrt: lavTestLRT(configural, metric, scalar, strict) (= anova()) and
#       lavTestLRT(metric, partial scalar).
#   multigroup_hs_paths.json
#     baseline: sem(paths, data, group = "school", group.equal = "loadings");
#     per structural path: the same with that path given one label in both
#       groups, fitMeasures and lavTestLRT(baseline, constrained).
# Checked with lavaan 0.6-14, jsonlite; numbers written with 15 significant digits.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
ref_dir <- if (length(script) == 1L) dirname(normalizePath(script)) else "tests/reference"
data_dir <- file.path(ref_dir, "data")
read_model <- function(file) paste(readLines(file.path(data_dir, file), encoding = "UTF-8"),
                                   collapse = "\n")
data <- read.csv(file.path(data_dir, "hs1939.csv"), check.names = FALSE)

dump <- function(fit, call) {
  pt <- parTable(fit)
  pe <- parameterEstimates(fit, standardized = TRUE, ci = FALSE)
  key <- function(x) paste(x$lhs, x$op, x$rhs, x$group)
  pe$free <- pt$free[match(key(pe), key(pt))]
  pe$group_label <- lavInspect(fit, "group.label")[pe$group]
  fm <- as.list(unclass(fitMeasures(fit)))
  list(call = call, nobs = lavInspect(fit, "nobs"), group_label = lavInspect(fit, "group.label"),
       converged = lavInspect(fit, "converged"), fit = fm, estimates = as.data.frame(pe))
}

lrt_rows <- function(tab) {
  tab <- as.data.frame(tab)
  list(model = rownames(tab), df = tab$Df, chisq = tab$Chisq, delta_chisq = tab[["Chisq diff"]],
       delta_df = tab[["Df diff"]], delta_pvalue = tab[["Pr(>Chisq)"]])
}

hs <- read_model("hs_cfa.lav")
equal <- list(configural = "", metric = "loadings",
              scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
fits <- list()
steps <- list()
for (step in names(equal)) {
  fits[[step]] <- cfa(hs, data = data, group = "school", group.equal = equal[[step]])
  steps[[step]] <- dump(fits[[step]], sprintf(
    "cfa(model, data, group = 'school', group.equal = c(%s))",
    paste(sprintf("'%s'", setdiff(equal[[step]], "")), collapse = ", ")))
  steps[[step]]$group_equal <- I(setdiff(equal[[step]], ""))
  steps[[step]]$group_partial <- I(character(0))
}
partial <- c("x3~1", "x7~1")
fits$partial_scalar <- cfa(hs, data = data, group = "school",
                           group.equal = c("loadings", "intercepts"), group.partial = partial)
steps$partial_scalar <- dump(fits$partial_scalar, paste(
  "cfa(model, data, group = 'school', group.equal = c('loadings', 'intercepts'),",
  "group.partial = c('x3~1', 'x7~1'))"))
steps$partial_scalar$group_equal <- I(c("loadings", "intercepts"))
steps$partial_scalar$group_partial <- I(partial)

out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  model_file = "hs_cfa.lav", data_file = "hs1939.csv", group = "school",
  steps = steps,
  lrt = lrt_rows(lavTestLRT(fits$configural, fits$metric, fits$scalar, fits$strict)),
  lrt_partial = lrt_rows(lavTestLRT(fits$metric, fits$partial_scalar))
)
path <- file.path(ref_dir, "multigroup_hs_invariance.json")
write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
for (step in names(steps))
  cat(sprintf("%-15s chisq = %.3f df = %d cfi = %.4f rmsea = %.4f srmr = %.4f\n", step,
              steps[[step]]$fit$chisq, as.integer(steps[[step]]$fit$df), steps[[step]]$fit$cfi,
              steps[[step]]$fit$rmsea, steps[[step]]$fit$srmr))

paths_model <- read_model("multigroup_hs_paths.lav")
base <- sem(paths_model, data = data, group = "school", group.equal = "loadings")
pe <- parameterEstimates(base)
reg <- unique(pe[pe$op == "~", c("lhs", "rhs")])
tests <- list()
for (i in seq_len(nrow(reg))) {
  # the one regression formula of reg$lhs[i], with reg$rhs[i] given the label b in both groups
  lines <- strsplit(paths_model, "\n")[[1]]
  at <- grep(sprintf("^\\s*%s\\s*~[^~]", reg$lhs[i]), lines)
  lines[at] <- sub(sprintf("([~+])\\s*%s\\b", reg$rhs[i]),
                   sprintf("\\1 c(b, b) * %s", reg$rhs[i]), lines[at])
  constrained <- paste(lines, collapse = "\n")
  fit <- sem(constrained, data = data, group = "school", group.equal = "loadings")
  lrt <- lrt_rows(lavTestLRT(base, fit))
  tests[[i]] <- list(lhs = reg$lhs[i], op = "~", rhs = reg$rhs[i],
                     chisq = fitMeasures(fit, "chisq")[[1]], df = fitMeasures(fit, "df")[[1]],
                     delta_chisq = lrt$delta_chisq[2], delta_df = lrt$delta_df[2],
                     delta_pvalue = lrt$delta_pvalue[2])
}
out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  model_file = "multigroup_hs_paths.lav", data_file = "hs1939.csv", group = "school",
  baseline = dump(base, "sem(model, data, group = 'school', group.equal = 'loadings')"),
  path_tests = tests
)
path <- file.path(ref_dir, "multigroup_hs_paths.json")
write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat(sprintf("paths baseline chisq = %.3f -> %s\n", fitMeasures(base, "chisq"), path))
