# Regenerate the lavaan / semTools / psych reference numbers that tests/test_single_item.py
# holds sem_kit's single-item constructs to (a construct measured by one item: its loading
# fixed at 1 as the marker, its residual variance fixed at 0, lavaan's auto.fix.single).
#
# Run from the repository root (after
# .venv/bin/python tests/reference/data/single_item_make_inputs.py, which writes the model
# files and simulates the questionnaire's data):
#
#     Rscript tests/reference/single_item_reference.R
#
# Inputs (tests/reference/data/):
#   hs1939.csv + single_item_hs_cfa.lav / single_item_hs_sem.lav   Holzinger & Swineford with
#       speed =~ x7 alone (visual, textual: three items each; the SEM: speed ~ visual + textual)
#   estimators_hs_missing.csv   the same data with 10% of the answers missing (FIML)
#   single_item.yaml -> single_item_cfa.lav / single_item_sem.lav, single_item.csv,
#       single_item_missing.csv   a questionnaire whose single item SAT1 measures SAT, a
#       mediator of two hypotheses (PQ -> SAT -> LOY, PV -> SAT -> LOY), on 500 answers
#       simulated by sem_kit (population values in single_item_make_inputs.py)
#   estimators_ordinal.csv + single_item_ordinal.lav   f3 =~ y9 alone, ordered items
#
# Output: tests/reference/single_item.json
#   hs$fits            cfa_ml, sem_ml, cfa_mlr, sem_mlr (estimator = "MLR"), cfa_fiml, sem_fiml
#                      (missing = "ml" on estimators_hs_missing.csv), each with
#                      parameterEstimates(fit, standardized = TRUE) (+ partable free),
#                      fitMeasures(fit), lavInspect(fit, "r2"), nobs, converged, warnings
#   hs$htmt            semTools::htmt(cfa model, data, htmt2 = FALSE) (NaN -> null: a single
#                      item has no monotrait correlation)
#   hs$omega           semTools::compRelSEM(cfa_ml) (dropSingle = TRUE leaves speed out)
#   hs$multigroup      cfa(model, group = "school", group.equal = ...) configural, metric,
#                      scalar, strict: fitMeasures and lavTestLRT; the SEM with equal loadings
#                      and, per structural path, the same with that path equal across schools
#                      (lavTestLRT(baseline, constrained)), as multigroup_reference.R
#   questionnaire      the same fits (cfa_ml, sem_ml, cfa_mlr, sem_mlr, cfa_fiml, sem_fiml) of
#                      single_item.yaml's models on single_item.csv / single_item_missing.csv,
#                      htmt, omega and psych::alpha of the multi-item constructs
#   wlsmv              sem(single_item_ordinal.lav, ordered = TRUE, estimator = "WLSMV"): the
#                      warnings lavaan gives (the information matrix cannot be inverted: a
#                      single ordinal indicator does not identify its factor), its SEs (NA)
# Checked with lavaan 0.6-14, semTools 0.5-6, psych, jsonlite; numbers with 15 significant
# digits.

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

read_data <- function(file) read.csv(file.path(data_dir, file), check.names = FALSE)
read_model <- function(file) paste(readLines(file.path(data_dir, file), encoding = "UTF-8"),
                                   collapse = "\n")
matrix_json <- function(m) {
  m <- as.matrix(m)
  list(rownames = rownames(m), colnames = colnames(m), values = unname(unclass(m)))
}

# Fit with warnings collected (not printed); returns list(fit, warnings).
fit_quietly <- function(fun, model, data, ...) {
  lavaan_warnings <- character(0)
  fit <- withCallingHandlers(
    fun(model, data = data, ...),
    warning = function(w) {
      lavaan_warnings <<- c(lavaan_warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(fit = fit, warnings = lavaan_warnings)
}

dump_fit <- function(fun, model_file, data_file, ...) {
  data <- read_data(data_file)
  extra <- list(...)
  got <- fit_quietly(fun, read_model(model_file), data, ...)
  fit <- got$fit
  pt <- parTable(fit)
  pe <- parameterEstimates(fit, standardized = TRUE, ci = FALSE)
  key <- function(x) paste(x$lhs, x$op, x$rhs)
  pe$free <- pt$free[match(key(pe), key(pt))]
  arg_text <- if (length(extra)) {
    paste0(", ", paste(sprintf("%s = %s", names(extra),
                               vapply(extra, function(v) deparse(v), "")), collapse = ", "))
  } else ""
  list(call = sprintf("%s(model, data = read.csv('%s')%s)", deparse(substitute(fun)),
                      data_file, arg_text),
       model_file = model_file, data_file = data_file,
       n = lavInspect(fit, "nobs"), converged = lavInspect(fit, "converged"),
       lavaan_warnings = I(got$warnings), estimates = as.data.frame(pe),
       fit = as.list(unclass(fitMeasures(fit))), r2 = as.list(lavInspect(fit, "r2")))
}

dump_set <- function(cfa_file, sem_file, data_file, missing_file) {
  list(cfa_ml = dump_fit(cfa, cfa_file, data_file),
       sem_ml = dump_fit(sem, sem_file, data_file),
       cfa_mlr = dump_fit(cfa, cfa_file, data_file, estimator = "MLR"),
       sem_mlr = dump_fit(sem, sem_file, data_file, estimator = "MLR"),
       cfa_fiml = dump_fit(cfa, cfa_file, missing_file, missing = "ml"),
       sem_fiml = dump_fit(sem, sem_file, missing_file, missing = "ml"))
}

reliability_refs <- function(cfa_file, data_file, items) {
  data <- read_data(data_file)
  model <- read_model(cfa_file)
  fit <- cfa(model, data = data)
  omega <- compRelSEM(fit)
  constructs <- split(parTable(fit)$rhs[parTable(fit)$op == "=~"],
                      parTable(fit)$lhs[parTable(fit)$op == "=~"])
  multi <- Filter(function(v) length(v) > 1L, constructs)
  list(htmt = matrix_json(htmt(model, data = data[, items], htmt2 = FALSE)),
       omega = as.list(omega),
       alpha = lapply(multi, function(v) suppressMessages(
         psych::alpha(data[, v], warnings = FALSE))$total$raw_alpha))
}

lrt_rows <- function(tab) {
  tab <- as.data.frame(tab)
  list(model = rownames(tab), df = tab$Df, chisq = tab$Chisq, delta_chisq = tab[["Chisq diff"]],
       delta_df = tab[["Df diff"]], delta_pvalue = tab[["Pr(>Chisq)"]])
}

multigroup <- function(cfa_file, sem_file, data_file, group) {
  data <- read_data(data_file)
  model <- read_model(cfa_file)
  equal <- list(configural = "", metric = "loadings",
                scalar = c("loadings", "intercepts"),
                strict = c("loadings", "intercepts", "residuals"))
  fits <- lapply(equal, function(eq) cfa(model, data = data, group = group, group.equal = eq))
  steps <- lapply(names(equal), function(step) {
    f <- fits[[step]]
    list(group_equal = I(setdiff(equal[[step]], "")), converged = lavInspect(f, "converged"),
         group_label = lavInspect(f, "group.label"), nobs = lavInspect(f, "nobs"),
         fit = as.list(unclass(fitMeasures(f))))
  })
  names(steps) <- names(equal)
  paths_model <- read_model(sem_file)
  base <- sem(paths_model, data = data, group = group, group.equal = "loadings")
  pe <- parameterEstimates(base, standardized = TRUE)
  reg <- unique(pe[pe$op == "~", c("lhs", "rhs")])
  tests <- list()
  for (i in seq_len(nrow(reg))) {
    lines <- strsplit(paths_model, "\n")[[1]]
    at <- grep(sprintf("^\\s*%s\\s*~[^~]", reg$lhs[i]), lines)
    lines[at] <- sub(sprintf("([~+])\\s*%s\\b", reg$rhs[i]),
                     sprintf("\\1 c(b, b) * %s", reg$rhs[i]), lines[at])
    fit <- sem(paste(lines, collapse = "\n"), data = data, group = group,
               group.equal = "loadings")
    lrt <- lrt_rows(lavTestLRT(base, fit))
    tests[[i]] <- list(lhs = reg$lhs[i], op = "~", rhs = reg$rhs[i],
                       delta_chisq = lrt$delta_chisq[2], delta_df = lrt$delta_df[2],
                       delta_pvalue = lrt$delta_pvalue[2])
  }
  pe$group_label <- lavInspect(base, "group.label")[pe$group]
  list(group = group, steps = steps,
       lrt = lrt_rows(lavTestLRT(fits$configural, fits$metric, fits$scalar, fits$strict)),
       paths_baseline = list(fit = as.list(unclass(fitMeasures(base))),
                             estimates = as.data.frame(pe[pe$op == "~", ])),
       path_tests = tests)
}

hs_items <- paste0("x", 1:7)
hs <- list(
  fits = dump_set("single_item_hs_cfa.lav", "single_item_hs_sem.lav", "hs1939.csv",
                  "estimators_hs_missing.csv"),
  multigroup = multigroup("single_item_hs_cfa.lav", "single_item_hs_sem.lav", "hs1939.csv",
                          "school")
)
hs <- c(hs, reliability_refs("single_item_hs_cfa.lav", "hs1939.csv", hs_items))

q_items <- c(paste0("PQ", 1:3), paste0("PV", 1:3), "SAT1", paste0("LOY", 1:3))
questionnaire <- list(
  questionnaire_file = "single_item.yaml",
  fits = dump_set("single_item_cfa.lav", "single_item_sem.lav", "single_item.csv",
                  "single_item_missing.csv")
)
questionnaire <- c(questionnaire,
                   reliability_refs("single_item_cfa.lav", "single_item.csv", q_items))

ordinal <- fit_quietly(sem, read_model("single_item_ordinal.lav"),
                       read_data("estimators_ordinal.csv")[, paste0("y", 1:9)],
                       ordered = TRUE, estimator = "WLSMV")
pe <- parameterEstimates(ordinal$fit)
wlsmv <- list(
  call = "sem(model, data = read.csv('estimators_ordinal.csv')[, paste0('y', 1:9)], ordered = TRUE, estimator = 'WLSMV')",
  model_file = "single_item_ordinal.lav", data_file = "estimators_ordinal.csv",
  lavaan_warnings = I(ordinal$warnings),
  se_free = pe$se[parTable(ordinal$fit)$free[match(paste(pe$lhs, pe$op, pe$rhs),
                                                   paste(parTable(ordinal$fit)$lhs,
                                                         parTable(ordinal$fit)$op,
                                                         parTable(ordinal$fit)$rhs))] > 0]
)

out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  semtools_version = as.character(packageVersion("semTools")),
  psych_version = as.character(packageVersion("psych")),
  hs = hs, questionnaire = questionnaire, wlsmv = wlsmv
)
path <- file.path(ref_dir, "single_item.json")
write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
for (set in c("hs", "questionnaire")) {
  for (name in names(out[[set]]$fits)) {
    f <- out[[set]]$fits[[name]]$fit
    cat(sprintf("%-13s %-8s chisq = %.3f df = %d cfi = %.4f rmsea = %.4f srmr = %.4f\n", set,
                name, f$chisq, as.integer(f$df), f$cfi, f$rmsea, f$srmr))
  }
}
for (step in names(hs$multigroup$steps))
  cat(sprintf("hs by school  %-10s chisq = %.3f df = %d\n", step,
              hs$multigroup$steps[[step]]$fit$chisq, as.integer(hs$multigroup$steps[[step]]$fit$df)))
cat(sprintf("wlsmv: %d lavaan warning(s), %d of %d free SEs NA -> %s\n",
            length(wlsmv$lavaan_warnings), sum(is.na(wlsmv$se_free)), length(wlsmv$se_free), path))
