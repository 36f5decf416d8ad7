"""Post-estimation on a fitted model: modification indices, comparison, invariance, bootstrap."""
