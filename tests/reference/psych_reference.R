# Regenerates every number stored in tests/reference/psych_*.json: item
# statistics, Cronbach's alpha with Feldt's interval, CR / AVE from lavaan's
# standardised loadings, semTools omega (compRelSEM) and reliabilityL2, HTMT
# and HTMT2, the Fornell-Larcker table, KMO, Bartlett's test, the minres EFA
# with oblimin rotation, parallel analysis and Harman's single-factor share.
#
# Run from the repository root:
#     Rscript tests/reference/psych_reference.R
# Data are read only from CSV files under tests/reference/data/:
#   psych_holzinger.csv  Holzinger & Swineford (1939), x1..x9, N = 301
#                        (identical to lavaan::HolzingerSwineford1939)
#   psych_ninefactor.csv the built-in customer knowledge-sharing questionnaire,
#                        N = 500, items only, complete, reverse-worded items
#                        (WIL4, TRU4) recoded as 8 - x; written once from
#                        sem_kit.io.simulate.simulate_responses(q, 500, seed=20240601,
#                        demographics=False, missing=0) and frozen here
#   psych_ninefactor_constructs.csv  construct, member, kind (item | dimension):
#                        13 first-order constructs, KCH second order over
#                        ECO, SCA, TIM, CPX
# Checked with R 4.x, lavaan 0.6.14, semTools 0.5.6, psych 2.2.9, GPArotation.

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(psych)
  library(jsonlite)
})

script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
here <- if (length(script_arg)) dirname(normalizePath(sub("^--file=", "", script_arg[1]))) else
  file.path("tests", "reference")
data_dir <- file.path(here, "data")

# -- helpers ---------------------------------------------------------------
named_vector <- function(v, nm = names(v)) as.list(setNames(as.numeric(v), nm))

named_matrix <- function(m) {
  m <- as.matrix(m)
  out <- lapply(seq_len(nrow(m)), function(i) named_vector(m[i, ], colnames(m)))
  setNames(out, rownames(m))
}

feldt_ci <- function(alpha, n, k, level = 0.95) {
  # Feldt, Woodruff & Salih (1987): (1 - alpha) scaled by F quantiles with
  # df1 = n - 1, df2 = (n - 1)(k - 1).
  p <- (1 - level) / 2
  c(lower = 1 - (1 - alpha) * qf(1 - p, n - 1, (n - 1) * (k - 1)),
    upper = 1 - (1 - alpha) * qf(p, n - 1, (n - 1) * (k - 1)))
}

first_order_syntax <- function(constructs) {
  paste(sprintf("%s =~ %s", names(constructs),
                vapply(constructs, paste, "", collapse = " + ")), collapse = "\n")
}

# A second-order CFA: its lavaan matrices, semTools' reliabilityL2 for each
# second-order factor and compRelSEM for the first-order ones.
hierarchical_reference <- function(data, constructs, second_order) {
  model <- paste(first_order_syntax(constructs), first_order_syntax(second_order), sep = "\n")
  fit <- lavaan::cfa(model, data = data)
  stopifnot(lavInspect(fit, "converged"))
  est <- lavInspect(fit, "est")
  list(model = model, second_order = second_order,
       lambda = named_matrix(est$lambda), beta = named_matrix(est$beta),
       psi = named_matrix(est$psi), theta = named_matrix(est$theta),
       cov_lv = named_matrix(lavInspect(fit, "cov.lv")),
       omega = as.list(unclass(semTools::compRelSEM(fit))),
       reliability_l2 = lapply(setNames(names(second_order), names(second_order)),
                               function(f) as.list(semTools::reliabilityL2(fit, f))))
}

# `second_order` is part of the measurement model (CFA); `hierarchical` only
# adds a second-order CFA for reliabilityL2.
reference <- function(name, data, constructs, second_order = list(), n_factors,
                      hierarchical = second_order, efa = TRUE, seed = 1939) {
  items <- unlist(constructs, use.names = FALSE)
  data <- data[, items]
  n <- nrow(data)
  p <- ncol(data)
  out <- list(dataset = name, n = n, items = items, constructs = constructs,
              second_order = second_order)

  # -- item statistics: psych::describe (type = 3 skew and kurtosis) --------
  d <- psych::describe(data)
  out$describe <- list(mean = named_vector(d$mean, items), sd = named_vector(d$sd, items),
                       skew = named_vector(d$skew, items),
                       kurtosis = named_vector(d$kurtosis, items))

  # -- Cronbach's alpha per construct: psych::alpha ------------------------
  out$alpha <- lapply(constructs, function(its) {
    a <- psych::alpha(data[, its], warnings = FALSE)
    raw <- a$total$raw_alpha
    ci_psych <- psych::alpha.ci(raw, n.obs = n, n.var = length(its), p.val = 0.05)
    ci <- feldt_ci(raw, n, length(its))
    stopifnot(abs(ci[["lower"]] - ci_psych$lower.ci) < 1e-12,
              abs(ci[["upper"]] - ci_psych$upper.ci) < 1e-12)
    list(raw_alpha = raw, ci_lower = ci[["lower"]], ci_upper = ci[["upper"]],
         r_drop = named_vector(a$item.stats$r.drop, its),
         alpha_drop = if (length(its) > 2) named_vector(a$alpha.drop$raw_alpha, its) else NULL)
  })

  # -- CFA (lavaan defaults: ML, first loading fixed to 1) -----------------
  model <- first_order_syntax(constructs)
  if (length(second_order)) model <- paste(model, first_order_syntax(second_order), sep = "\n")
  fit <- lavaan::cfa(model, data = data)
  stopifnot(lavInspect(fit, "converged"))
  ss <- standardizedSolution(fit)
  ld <- ss[ss$op == "=~" & ss$rhs %in% items, ]
  std <- setNames(ld$est.std, ld$rhs)[items]
  cr_ave <- lapply(constructs, function(its) {
    l <- std[its]
    list(cr = sum(l)^2 / (sum(l)^2 + sum(1 - l^2)), ave = mean(l^2))
  })
  est <- lavInspect(fit, "est")
  cov_lv <- lavInspect(fit, "cov.lv")
  cor_lv <- lavInspect(fit, "cor.lv")
  first <- names(constructs)
  sqrt_ave <- sapply(cr_ave, function(x) sqrt(x$ave))
  fl <- cor_lv[first, first]
  diag(fl) <- sqrt_ave[first]
  fl_pass <- sapply(first, function(f) all(sqrt_ave[[f]] > abs(cor_lv[f, setdiff(first, f)])))
  out$cfa <- list(
    model = model,
    std_loadings = named_vector(std, items),
    cr = lapply(cr_ave, `[[`, "cr"), ave = lapply(cr_ave, `[[`, "ave"),
    lambda = named_matrix(est$lambda), theta = named_matrix(est$theta),
    psi = named_matrix(est$psi),
    beta = if (is.null(est$beta)) NULL else named_matrix(est$beta),
    cov_lv = named_matrix(cov_lv), cor_lv = named_matrix(cor_lv),
    sample_cov = named_matrix(lavInspect(fit, "sampstat")$cov),
    omega = as.list(unclass(semTools::compRelSEM(fit))),
    fornell_larcker = list(table = named_matrix(fl), sqrt_ave = as.list(sqrt_ave),
                           passes = as.list(fl_pass))
  )

  if (length(hierarchical)) out$hierarchical <- hierarchical_reference(data, constructs,
                                                                      hierarchical)

  # -- HTMT: semTools::htmt on the first-order model -----------------------
  out$htmt <- named_matrix(unclass(semTools::htmt(first_order_syntax(constructs), data,
                                                  htmt2 = FALSE)))
  out$htmt2 <- named_matrix(unclass(semTools::htmt(first_order_syntax(constructs), data,
                                                   htmt2 = TRUE)))

  # -- KMO and Bartlett ----------------------------------------------------
  k <- psych::KMO(data)
  out$kmo <- list(overall = k$MSA, per_item = named_vector(k$MSAi, items))
  b <- psych::cortest.bartlett(cor(data), n = n)
  out$bartlett <- list(chi2 = b$chisq, df = b$df, pvalue = b$p.value)

  # -- Harman's single factor: first eigenvalue of R / p (unrotated PCA) ---
  pc <- psych::principal(data, nfactors = 1, rotate = "none")
  out$harman <- list(first_eigenvalue = pc$values[1], share = pc$values[1] / p,
                     eigenvalues = as.numeric(eigen(cor(data))$values))

  # -- Parallel analysis (components) -------------------------------------
  set.seed(seed)
  pa <- psych::fa.parallel(data, fa = "pc", n.iter = 100, quant = 0.95, plot = FALSE)
  out$parallel <- list(ncomp = pa$ncomp, n_iter = 100, quantile = 0.95)

  # -- EFA: minres, oblimin (GPArotation) ----------------------------------
  if (efa) {
    f <- psych::fa(data, nfactors = n_factors, rotate = "oblimin", fm = "minres")
    f0 <- psych::fa(data, nfactors = n_factors, rotate = "none", fm = "minres")
    v <- f$Vaccounted
    out$efa <- list(
      n_factors = n_factors,
      loadings = named_matrix(unclass(f$loadings)),
      phi = named_matrix(f$Phi),
      communality = named_vector(f$communality, items),
      uniquenesses = named_vector(f$uniquenesses, items),
      ss_loadings = named_vector(v["SS loadings", ]),
      proportion_var = named_vector(v["Proportion Var", ]),
      cumulative_var = named_vector(v["Cumulative Var", ]),
      proportion_explained = named_vector(v["Proportion Explained", ]),
      unrotated_loadings = named_matrix(unclass(f0$loadings)),
      values = as.numeric(f$values), e_values = as.numeric(f$e.values)
    )
  }
  out
}

write_reference <- function(x, file) {
  jsonlite::write_json(x, file.path(here, file), auto_unbox = TRUE, digits = NA,
                       pretty = TRUE, null = "null", na = "null")
  message("wrote ", file.path(here, file))
}

# -- Holzinger & Swineford (1939) -------------------------------------------
hs <- read.csv(file.path(data_dir, "psych_holzinger.csv"))
# the CSV (written from semopy.examples.holzinger39) is lavaan's data set
stopifnot(max(abs(as.matrix(hs) -
                  as.matrix(lavaan::HolzingerSwineford1939[, paste0("x", 1:9)]))) < 1e-7)
hs_constructs <- list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"),
                      speed = c("x7", "x8", "x9"))
write_reference(reference("holzinger", hs, hs_constructs, n_factors = 3,
                          hierarchical = list(g = names(hs_constructs))),
                "psych_holzinger.json")

# -- Nine-factor simulated set (built-in questionnaire, KCH second order) ----
nf_file <- file.path(data_dir, "psych_ninefactor.csv")
if (file.exists(nf_file)) {
  nf <- read.csv(nf_file)
  map <- read.csv(file.path(data_dir, "psych_ninefactor_constructs.csv"),
                  stringsAsFactors = FALSE)
  first <- unique(map$construct[map$kind == "item"])
  nf_constructs <- setNames(lapply(first, function(f) map$member[map$construct == f &
                                                                    map$kind == "item"]), first)
  higher <- unique(map$construct[map$kind == "dimension"])
  nf_second <- setNames(lapply(higher, function(f) map$member[map$construct == f &
                                                                 map$kind == "dimension"]), higher)
  write_reference(reference("ninefactor", nf, nf_constructs, nf_second,
                            n_factors = length(nf_constructs)),
                  "psych_ninefactor.json")
}
