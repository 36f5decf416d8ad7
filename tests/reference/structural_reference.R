# Regenerate the lavaan reference numbers that tests/test_structural.py holds
# sem_kit.structural.stage and sem_kit.postestimation.comparison to.
#
# Run from the repository root:
#
#     Rscript tests/reference/structural_reference.R
#
# Inputs (tests/reference/data/): political_democracy.csv with pd_sem.lav (Bollen's
# political democracy SEM, also written as the questionnaire structural_pd.yaml),
# sim_ninefactor.csv with ninefactor_sem.lav (the built-in nine-factor
# questionnaire's model, KCH second order, on 500 simulated answers), and the copies with
# answers deleted at random that estimators_make_inputs.py writes:
# estimators_pd_missing.csv (8%) and estimators_ninefactor_missing.csv (5%).
#
# Fits (every sem() call of one dump -- main fit, alternatives, bootstrap fit -- gets the
# same extra lavaan arguments; bootstrapLavaan reuses the fit's options):
#   pd                  sem(pd_model, political_democracy.csv)             + bootstrap R = 2000
#   ninefactor          sem(nf_model, sim_ninefactor.csv)
#   ninefactor_fiml     sem(nf_model, estimators_ninefactor_missing.csv, missing = "ml")
#                       (the alternatives are FIML fits too: lavTestLRT is the plain LRT)
#   ninefactor_wlsmv    sem(nf_model, sim_ninefactor.csv, ordered = TRUE, estimator = "WLSMV")
#                       (no alternatives: comparison is [])
#   pd_fiml             sem(pd_model, estimators_pd_missing.csv, missing = "ml")
#                                                                          + bootstrap R = 1000
# pd_model / nf_model are the models with labelled paths and := indirect / total effects.
#
# Outputs:
#   tests/reference/structural_<name>.json for the five fits above
#     call         the sem() call including the extra lavaan arguments
#     options      lavInspect(fit, "options"): estimator, missing, se, test,
#                  parameterization (WLSMV shows up as DWLS / robust.sem / scaled.shifted)
#     model (the labelled syntax actually fitted), data_file, data_sha256, n, converged,
#     lavaan_warnings
#     partable     lhs, op, rhs, free of parTable(fit)
#     estimates    parameterEstimates(fit, standardized = TRUE): est, se, z, pvalue,
#                  ci.lower, ci.upper (delta method for := rows), std.lv, std.all, std.nox
#     std          standardizedSolution(fit): est.std, se, z, pvalue, ci.lower, ci.upper
#                  (delta method), including the := rows
#     defined      label -> "X -> M -> Y" (indirect) or "X => Y" (total effect)
#     fit          fitMeasures(fit)
#     r2           lavInspect(fit, "r2")
#     comparison   for each nested alternative: its syntax, fitMeasures and
#                  lavTestLRT(fit, alternative) (= anova(fit, alternative)); [] if none
#   structural_pd.json and structural_pd_fiml.json also have
#     bootstrap    lavaan's own bootstrap (pd: R = 2000, seed 20231123; pd_fiml: R = 1000,
#                  seed 20231124, every resample refitted by FIML):
#                  parameterEstimates(sem(..., se = "bootstrap"), boot.ci.type = "perc" /
#                  "bca.simple") rows; replicates of ind (unstandardised and std.all) from
#                  bootstrapLavaan(fit, R, keep.idx = TRUE) with the same seed (checked
#                  here to give the same percentile interval); their SD; the first 300
#                  resamples' statistic vectors, whose row indices go to
#   tests/reference/data/structural_pd_boot_idx.csv,
#   tests/reference/data/structural_pd_fiml_boot_idx.csv  (1-based, one resample per row)
#
# lavaan keeps non-admissible bootstrap solutions (negative variances) and drops
# only the resamples that do not converge; their count is stored.
# Run time (lavaan 0.6-14, 2 cores): pd ~1.5 min, ninefactor ~2 s, ninefactor_fiml ~14 min
# (fitMeasures of a 48-item FIML fit takes ~4 min, three fits), ninefactor_wlsmv ~20 s,
# pd_fiml ~6 min.
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
sha256 <- function(file) {
  out <- system2("sha256sum", file.path(data_dir, file), stdout = TRUE)
  strsplit(out, " ")[[1]][1]
}

# Replace one line of model syntax exactly; stop if it is not there.
replace_line <- function(model, old, new) {
  lines <- strsplit(model, "\n", fixed = TRUE)[[1]]
  hit <- which(trimws(lines) == old)
  if (length(hit) != 1L) stop(sprintf("line '%s' not found exactly once", old))
  lines[hit] <- new
  paste(lines, collapse = "\n")
}

quiet <- function(expr) {
  msgs <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = msgs)
}

fit_keys <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic",
              "logl")

# sem(model, data, <lavaan_args>, ...): every fit of one dump goes through here, so the
# main fit, the alternatives and the bootstrap fit share the estimator / missing-data
# options. `data` is passed as a symbol, so fit@call stays short.
fit_sem <- function(model, data, lavaan_args = list(), ...) {
  do.call("sem", c(list(model = model, data = quote(data)), lavaan_args, list(...)))
}

# ", missing = \"ml\"" etc.: the lavaan arguments as R code, for the recorded calls.
args_text <- function(lavaan_args) {
  if (!length(lavaan_args)) return("")
  paste0(", ", paste(sprintf("%s = %s", names(lavaan_args),
                             vapply(lavaan_args, function(v) deparse(v, width.cutoff = 500L),
                                    "")), collapse = ", "))
}

comparison <- function(fit, alternatives, data, lavaan_args = list()) {
  if (!length(alternatives)) return(list())
  lapply(names(alternatives), function(name) {
    alt <- quiet(fit_sem(alternatives[[name]], data, lavaan_args))$value
    lrt <- as.data.frame(lavTestLRT(fit, alt))
    lrt$model <- rownames(lrt)
    list(
      name = name,
      model = alternatives[[name]],
      fit = as.list(unclass(fitMeasures(alt, fit_keys))),
      lrt = lrt
    )
  })
}

dump_structural <- function(name, model, defined, data_file, alternatives, boot = NULL,
                            lavaan_args = list()) {
  data <- read_data(data_file)
  res <- quiet(fit_sem(model, data, lavaan_args))
  fit <- res$value
  pt <- parTable(fit)
  pe <- parameterEstimates(fit, standardized = TRUE)
  ss <- standardizedSolution(fit)
  fm <- as.list(unclass(fitMeasures(fit)))
  opts <- lavInspect(fit, "options")
  out <- list(
    name = name,
    lavaan_version = as.character(packageVersion("lavaan")),
    call = sprintf("sem(model, data = read.csv('%s')%s)", data_file, args_text(lavaan_args)),
    options = opts[c("estimator", "missing", "se", "test", "parameterization")],
    model = model,
    data_file = data_file,
    data_sha256 = sha256(data_file),
    n = lavInspect(fit, "nobs"),
    converged = lavInspect(fit, "converged"),
    lavaan_warnings = I(res$warnings),
    partable = pt[pt$op != ":=", c("lhs", "op", "rhs", "free")],
    estimates = as.data.frame(pe),
    std = as.data.frame(ss),
    defined = as.list(defined),
    fit = fm,
    r2 = as.list(lavInspect(fit, "r2")),
    comparison = comparison(fit, alternatives, data, lavaan_args)
  )
  if (!is.null(boot)) {
    set.seed(boot$seed)
    fb <- quiet(fit_sem(model, data, lavaan_args, se = "bootstrap", bootstrap = boot$R))
    perc <- parameterEstimates(fb$value, boot.ci.type = "perc", level = 0.95)
    bca <- parameterEstimates(fb$value, boot.ci.type = "bca.simple", level = 0.95)
    keep <- perc$op %in% c("~", ":=")
    lab <- boot$labels
    stat <- function(f) {
      std <- standardizedSolution(f, se = FALSE, zstat = FALSE, pvalue = FALSE, ci = FALSE,
                                  remove.eq = FALSE, remove.ineq = FALSE, remove.def = FALSE)
      pe_f <- parameterEstimates(f, se = FALSE, zstat = FALSE, pvalue = FALSE, ci = FALSE)
      c(setNames(pe_f$est[match(lab, pe_f$label)], lab),
        setNames(std$est.std[match(lab, std$label)], paste0(lab, ".std")))
    }
    # bootstrapLavaan refits with the options of `fit` (estimator, missing = "ml", ...)
    set.seed(boot$seed)
    bl <- quiet(bootstrapLavaan(fit, R = boot$R, FUN = stat, keep.idx = TRUE))
    reps <- bl$value
    colnames(reps) <- c(lab, paste0(lab, ".std"))
    ok <- stats::complete.cases(reps)
    alpha <- c(0.025, 0.975)
    ind_perc <- boot:::norm.inter(reps[ok, "ind"], alpha)[, 2]
    lav_ind <- perc[perc$label == "ind", c("ci.lower", "ci.upper")]
    # the same seed gives the same resamples: lavaan's own interval is this one
    stopifnot(isTRUE(all.equal(unname(unlist(lav_ind)), ind_perc, tolerance = 1e-10)))
    idx <- attr(reps, "boot.idx")[[1]]
    n_keep <- boot$n_idx
    write.table(idx[seq_len(n_keep), ], file.path(data_dir, sprintf("structural_%s_boot_idx.csv",
                                                                    name)),
                sep = ",", row.names = FALSE, col.names = FALSE)
    out$bootstrap <- list(
      R = boot$R,
      seed = boot$seed,
      call = sprintf(paste0("set.seed(%d); sem(model, data%s, se = 'bootstrap', ",
                            "bootstrap = %d); parameterEstimates(fit, boot.ci.type = 'perc')"),
                     boot$seed, args_text(lavaan_args), boot$R),
      failed = sum(!ok),
      nonadmissible = length(attr(reps, "nonadmissible")),
      perc = as.data.frame(perc[keep, c("lhs", "op", "rhs", "label", "est", "se", "ci.lower",
                                        "ci.upper")]),
      bca_simple = as.data.frame(bca[keep, c("lhs", "op", "rhs", "label", "ci.lower",
                                             "ci.upper")]),
      ind = unname(reps[ok, "ind"]),
      ind_std = unname(reps[ok, "ind.std"]),
      ind_sd = sd(reps[ok, "ind"]),
      ind_std_perc = boot:::norm.inter(reps[ok, "ind.std"], alpha)[, 2],
      idx_file = sprintf("data/structural_%s_boot_idx.csv", name),
      idx_rows = n_keep,
      idx_stats = as.data.frame(reps[seq_len(n_keep), , drop = FALSE])
    )
  }
  path <- file.path(ref_dir, sprintf("structural_%s.json", name))
  write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
  cat(sprintf("%-18s chisq = %.3f  df = %d  -> %s\n", name, fm$chisq, as.integer(fm$df), path))
}

# Run one dump and print how long it took.
timed <- function(expr) {
  t <- system.time(expr)[["elapsed"]]
  cat(sprintf("%18s %.1f s\n", "elapsed", t))
  invisible(t)
}

# ---------------------------------------------------------------- political democracy
pd <- read_model("pd_sem.lav")
pd <- replace_line(pd, "dem60 ~ ind60", "dem60 ~ a*ind60")
pd <- replace_line(pd, "dem65 ~ ind60 + dem60", "dem65 ~ c*ind60 + b*dem60")
pd_model <- paste(pd, "ind := a*b", "total := c + a*b", sep = "\n")
pd_plain <- read_model("pd_sem.lav")
pd_defined <- c(ind = "ind60 -> dem60 -> dem65", total = "ind60 => dem65")
pd_alternatives <- list(
  # the path into the mediator fixed to 0
  no_mediator_paths = replace_line(pd_plain, "dem60 ~ ind60", "dem60 ~ 0*ind60"),
  # full mediation: the direct path of the mediated pair fixed to 0
  full_mediation = replace_line(pd_plain, "dem65 ~ ind60 + dem60", "dem65 ~ 0*ind60 + dem60")
)
timed(dump_structural(
  "pd", pd_model, defined = pd_defined, data_file = "political_democracy.csv",
  alternatives = pd_alternatives,
  boot = list(R = 2000L, seed = 20231123L, labels = c("a", "b", "c", "ind"), n_idx = 300L)
))

# ---------------------------------------------------------------- nine-factor model
nf_plain <- read_model("ninefactor_sem.lav")
nf <- replace_line(nf_plain, "WIL ~ CST + EXB", "WIL ~ a1*CST + a2*EXB")
nf <- replace_line(nf, "ABL ~ LOY", "ABL ~ a3*LOY")
nf <- replace_line(nf, "KSB ~ WIL + ABL + CST + EXB + LOY + TRU + KCH + TEC + INC",
                   "KSB ~ b1*WIL + b2*ABL + c1*CST + c2*EXB + c3*LOY + TRU + KCH + TEC + INC")
nf_model <- paste(nf,
                  "ind1 := a1*b1", "ind2 := a2*b1", "ind3 := a3*b2",
                  "tot1 := c1 + a1*b1", "tot2 := c2 + a2*b1", "tot3 := c3 + a3*b2",
                  sep = "\n")
nf_defined <- c(ind1 = "CST -> WIL -> KSB", ind2 = "EXB -> WIL -> KSB",
                ind3 = "LOY -> ABL -> KSB", tot1 = "CST => KSB", tot2 = "EXB => KSB",
                tot3 = "LOY => KSB")
nf_alternatives <- list(
  no_mediator_paths = replace_line(replace_line(nf_plain, "WIL ~ CST + EXB",
                                                "WIL ~ 0*CST + 0*EXB"),
                                   "ABL ~ LOY", "ABL ~ 0*LOY"),
  full_mediation = replace_line(
    nf_plain, "KSB ~ WIL + ABL + CST + EXB + LOY + TRU + KCH + TEC + INC",
    "KSB ~ WIL + ABL + 0*CST + 0*EXB + 0*LOY + TRU + KCH + TEC + INC")
)
timed(dump_structural(
  "ninefactor", nf_model, defined = nf_defined, data_file = "sim_ninefactor.csv",
  alternatives = nf_alternatives
))

# ---------------------------------------------------------------- FIML and WLSMV
# Full-information ML on the nine-factor answers with 5% deleted at random; the
# alternatives are FIML fits too, so lavTestLRT is the plain likelihood-ratio test.
timed(dump_structural(
  "ninefactor_fiml", nf_model, defined = nf_defined,
  data_file = "estimators_ninefactor_missing.csv", alternatives = nf_alternatives,
  lavaan_args = list(missing = "ml")
))
# The 7-point items as ordered: polychorics, DWLS, robust SEs, scaled-and-shifted test.
timed(dump_structural(
  "ninefactor_wlsmv", nf_model, defined = nf_defined, data_file = "sim_ninefactor.csv",
  alternatives = list(), lavaan_args = list(ordered = TRUE, estimator = "WLSMV")
))
# Political democracy with about 10% of the answers missing; se = "bootstrap" and
# bootstrapLavaan refit FIML on every resample.
timed(dump_structural(
  "pd_fiml", pd_model, defined = pd_defined, data_file = "estimators_pd_missing.csv",
  alternatives = pd_alternatives,
  boot = list(R = 1000L, seed = 20231124L, labels = c("a", "b", "c", "ind"), n_idx = 300L),
  lavaan_args = list(missing = "ml")
))
