# Bootstrap interval references: boot:::norm.inter (lavaan's percentile interval)
# and lavaan's bca.simple rule on a fixed vector of replicates.
# Run from tests/reference/: Rscript bootstrap_reference.R
library(jsonlite)
t <- read.csv("data/boot_replicates.csv")$t
t0 <- 1.8
level <- 0.95
alpha <- (1 + c(-level, level)) / 2
perc <- boot:::norm.inter(t, alpha)[, 2]
w <- qnorm(sum(t < t0) / length(t))
bc <- boot:::norm.inter(t, pnorm(w + (w + qnorm(alpha))))[, 2]
odd <- boot:::norm.inter(t[1:250], c(0.001, 0.3, 0.5, 0.999))[, 2]
out <- list(t0 = t0, level = level, perc = perc, bca_simple = bc,
            odd_alpha = c(0.001, 0.3, 0.5, 0.999), odd_n = 250, odd = odd,
            r_version = R.version.string, boot_version = as.character(packageVersion("boot")))
write_json(out, "bootstrap_reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
