"""sem_kit.estimators.robust (MLM, MLR)
against lavaan 0.6-14 (tests/reference/estimators_*_ml[mr].json).

Every expected number comes from tests/reference/estimators_reference.R:
``sem(model, data, estimator = "MLM" | "MLR")`` on Political Democracy, the
Holzinger-Swineford CFA and a Holzinger-Swineford model with fixed.x covariates and an
equality label, and MLR on the built-in nine-factor model's simulated answers;
``parameterEstimates(fit, standardized = TRUE)``, ``fitMeasures(fit)``,
``vcov(fit)`` and ``lavInspect(fit, "gamma")``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from estimators_ref import (
    REL,
    check_estimates,
    check_standard_errors,
    close,
    data_of,
    lavaan_fit,
    matrix,
    merged,
    reference,
    rel_close,
    syntax_of,
    vcov_of,
)

from sem_kit.engine.algebra import normal_weight, vech_index
from sem_kit.engine.fit import EstimatorFit, model_matrices
from sem_kit.engine.fit_indices import FIT_KEYS, ROBUST_KEYS, SCALED_KEYS
from sem_kit.errors import InputError
from sem_kit.estimators.dispatch import fit_estimator
from sem_kit.estimators.ml import fit_model
from sem_kit.estimators.robust import fit_robust, gamma_adf

MODELS = ["pd_mlm", "pd_mlr", "hs_cfa_mlm", "hs_cfa_mlr", "hs_mimic_mlm", "hs_mimic_mlr",
          "ninefactor_mlr"]


def estimator_of(name: str) -> str:
    return name.rsplit("_", 1)[1].upper()


@cache
def ml_fit(name: str):
    return fit_model(syntax_of(name), data_of(name))


@cache
def fitted(name: str) -> EstimatorFit:
    return fit_robust(ml_fit(name), data_of(name), estimator=estimator_of(name))


def test_lavaan_ran_the_estimator_we_mirror():
    for name in MODELS:
        opts = reference(name)["options"]
        if estimator_of(name) == "MLM":
            assert opts["se"] == "robust.sem" and opts["test"] == "satorra.bentler"
            assert opts["information"][0] == "expected"
        else:
            assert opts["se"] == "robust.huber.white" and opts["test"] == "yuan.bentler.mplus"
            assert opts["information"][0] == "observed"
        assert opts["meanstructure"] is False


@pytest.mark.parametrize("name", MODELS)
def test_same_parameters(name):
    m = merged(name, fitted(name).params)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", "key"].tolist()


@pytest.mark.parametrize("name", MODELS)
def test_estimates_and_standardized(name):
    check_estimates(merged(name, fitted(name).params), std_lv=False)


@pytest.mark.parametrize("name", MODELS)
def test_robust_standard_errors(name):
    check_standard_errors(merged(name, fitted(name).params))


@pytest.mark.parametrize("name", MODELS)
def test_vcov(name):
    ref = vcov_of(name)
    ours = fitted(name).vcov.to_numpy()
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.abs(ours - ref).max() <= REL * scale.max()
    rel_close(np.diag(ours), np.diag(ref), rel=2 * REL)


@pytest.mark.parametrize("name", MODELS)
def test_scaled_statistics(name):
    fit = fitted(name)
    for key in ("chisq_scaled", "df_scaled", "scaling_factor"):
        rel_close(fit.measures[key], lavaan_fit(name, key))
    close(fit.measures["pvalue_scaled"], lavaan_fit(name, "pvalue_scaled"))


@pytest.mark.parametrize("name", MODELS)
def test_scaled_and_robust_indices(name):
    fit = fitted(name)
    for key in ("cfi_scaled", "tli_scaled", "rmsea_scaled") + ROBUST_KEYS:
        close(fit.measures[key], lavaan_fit(name, key))


@pytest.mark.parametrize("name", MODELS)
def test_standard_fit_measures_unchanged(name):
    """The FIT keys are lavaan's "Standard" column, the ML numbers."""
    fit = fitted(name)
    assert list(fit.measures)[: len(FIT_KEYS)] == list(FIT_KEYS)
    assert set(SCALED_KEYS + ROBUST_KEYS) <= set(fit.measures)
    for key in FIT_KEYS:
        if key in ("chisq", "aic", "bic"):
            rel_close(fit.measures[key], lavaan_fit(name, key), rel=1e-4)
        else:
            close(fit.measures[key], lavaan_fit(name, key))


@pytest.mark.parametrize("name", MODELS)
def test_baseline_and_rmsea_intervals(name):
    fit = fitted(name)
    rel_close(fit.extra["baseline_chisq_scaled"], lavaan_fit(name, "baseline_chisq_scaled"))
    rel_close(fit.extra["baseline_chisq_scaling_factor"],
              lavaan_fit(name, "baseline_chisq_scaling_factor"))
    for key in ("rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "rmsea_ci_lower_robust",
                "rmsea_ci_upper_robust"):
        close(fit.extra[key], lavaan_fit(name, key))


@pytest.mark.parametrize("name", ["hs_cfa_mlm", "pd_mlm", "hs_mimic_mlm"])
def test_gamma_is_lavaans_nacov(name):
    """Γ from the fourth-order moments (and, with fixed.x, the covariates' residuals)."""
    ref = matrix(reference(name)["nacov"]).to_numpy()
    fit = ml_fit(name)
    obs = list(fit.observed)
    x_idx = [obs.index(v) for v in fit.x_vars]
    ours = gamma_adf(data_of(name)[obs].to_numpy(dtype=float), np.array(x_idx, dtype=int))
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= 1e-9 * np.abs(ref).max()


def test_normal_weight_is_the_duplication_formula():
    """½ Dᵀ(A⊗A)D built from an explicit duplication matrix."""
    a = np.linalg.inv(ml_fit("hs_cfa_mlm").implied_cov.to_numpy())
    p = a.shape[0]
    rows, cols = vech_index(p)
    dup = np.zeros((p * p, rows.size))
    for k, (i, j) in enumerate(zip(rows, cols, strict=True)):
        dup[i * p + j, k] = dup[j * p + i, k] = 1.0
    explicit = 0.5 * dup.T @ np.kron(a, a) @ dup
    assert np.allclose(normal_weight(a, rows, cols), explicit, rtol=1e-12, atol=1e-14)


def test_dispatch_and_errors():
    data = data_of("hs_cfa_mlr")
    model = syntax_of("hs_cfa_mlr")
    via = fit_estimator(model, data, estimator="mlr")
    assert isinstance(via, EstimatorFit) and via.estimator == "MLR"
    close(via.params.se, fitted("hs_cfa_mlr").params.se, tol=1e-9)
    with pytest.raises(InputError, match="MLM or MLR"):
        fit_robust(model, data, estimator="WLS")
    holes = data.copy()
    holes.loc[3, "x4"] = np.nan
    with pytest.raises(InputError, match="missing values"):
        fit_robust(ml_fit("hs_cfa_mlr"), holes, estimator="MLR")
    with pytest.raises(InputError, match="not allowed for estimator MLM"):
        fit_estimator(model, data, estimator="MLM", missing="fiml")
    with pytest.raises(InputError, match="--estimator"):
        fit_estimator(model, data, estimator="GLS")


def test_warnings_and_fields_carry_over():
    fit = fitted("pd_mlr")
    assert fit.ml_fit is ml_fit("pd_mlr")
    assert fit.warnings == ml_fit("pd_mlr").warnings
    assert fit.r2 is ml_fit("pd_mlr").r2
    assert fit.observed == ml_fit("pd_mlr").observed
    assert isinstance(fit.estimates("=~"), pd.DataFrame)
    assert fit.test["yuan.bentler.mplus"]["scaling_factor"] == fit.measures["scaling_factor"]


def test_model_matrices_read_the_result():
    """The measurement stage's LISREL matrices come out of this result as out of a Fit."""
    fit = fitted("pd_mlr")
    mats = model_matrices(fit)
    load = fit.params[fit.params.op == "=~"]
    for r in load.itertuples():
        assert mats.lambda_.loc[r.rhs, r.lhs] == r.est
