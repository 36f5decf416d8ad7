"""sem_kit.estimators.fiml against lavaan 0.6-14 (tests/reference/estimators_*_fiml.json).

Every expected number comes from tests/reference/estimators_reference.R:
``cfa(model, data, missing = "ml")`` on Holzinger-Swineford with about 10% of the answers
deleted completely at random (the three-factor CFA, and a path model with observed
outcomes and an observed mediator), and ``sem(model, data, missing = "ml")`` on Political
Democracy with about 8% deleted, and the built-in nine-factor model on its simulated
answers with 5% deleted (tests/reference/data/estimators_make_inputs.py, seeded).
Tolerances: estimates ±0.001, SEs ±1% relative, fit measures ±0.001, χ² ±0.01% relative.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from estimators_ref import (
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
from references import reference_table, reference_text

from sem_kit.engine.fit import EstimatorFit, model_matrices
from sem_kit.engine.fit_indices import FIT_KEYS, fit_measures
from sem_kit.errors import InputError
from sem_kit.estimators.dispatch import fit_estimator
from sem_kit.estimators.fiml import em_saturated, fit_fiml, missing_patterns
from sem_kit.estimators.ml import fit_model

MODELS = ["hs_cfa_fiml", "pd_fiml", "hs_paths_fiml", "ninefactor_fiml"]
RELATIVE = {"chisq", "aic", "bic"}


@cache
def fitted(name: str) -> EstimatorFit:
    return fit_fiml(syntax_of(name), data_of(name))


def test_lavaan_ran_fiml_with_observed_information():
    for name in MODELS:
        opts = reference(name)["options"]
        assert opts["missing"] == "ml" and opts["meanstructure"] is True
        assert opts["information"][0] == "observed" and opts["se"] == "standard"


def test_reference_data_have_missing_answers():
    for name in MODELS:
        share = data_of(name)[list(fitted(name).observed)].isna().to_numpy().mean()
        assert 0.03 < share < 0.15
        assert fitted(name).n == reference(name)["ntotal"] == len(data_of(name))


@pytest.mark.parametrize("name", MODELS)
def test_same_parameters_with_intercepts(name):
    m = merged(name, fitted(name).params)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", "key"].tolist()
    assert ((m.free_r > 0) == (m.free_py > 0)).all()
    assert (m.op_r == "~1").sum() == len(fitted(name).observed) + len(fitted(name).latent)


@pytest.mark.parametrize("name", MODELS)
def test_estimates_and_standardized(name):
    check_estimates(merged(name, fitted(name).params))


@pytest.mark.parametrize("name", MODELS)
def test_standard_errors_from_observed_information(name):
    check_standard_errors(merged(name, fitted(name).params))


@pytest.mark.parametrize("name", MODELS)
def test_vcov(name):
    ref = vcov_of(name)
    ours = fitted(name).vcov.to_numpy()
    rel_close(np.diag(ours), np.diag(ref), rel=0.02)
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.abs(ours - ref).max() <= 0.01 * scale.max()


@pytest.mark.parametrize("name", MODELS)
def test_fit_measures(name):
    fit = fitted(name)
    assert list(fit.measures) == list(FIT_KEYS)
    for key in FIT_KEYS:
        if key in RELATIVE:
            rel_close(fit.measures[key], lavaan_fit(name, key), rel=1e-4)
        else:
            close(fit.measures[key], lavaan_fit(name, key))
    assert fit.measures["df"] == lavaan_fit(name, "df")
    assert fit.npar == lavaan_fit(name, "npar")


@pytest.mark.parametrize("name", MODELS)
def test_likelihoods_and_baseline(name):
    fit = fitted(name)
    for key in ("logl", "unrestricted_logl", "baseline_chisq"):
        rel_close(fit.extra[key], lavaan_fit(name, key), rel=1e-6)
    assert fit.extra["baseline_df"] == lavaan_fit(name, "baseline_df")


@pytest.mark.parametrize("name", MODELS)
def test_em_saturated_moments(name):
    h1 = reference(name)["h1"]
    fit = fitted(name)
    cov = matrix(h1["cov"]).loc[list(fit.observed), list(fit.observed)]
    close(fit.sample_cov.to_numpy(), cov.to_numpy(), tol=1e-8)
    mean = matrix(h1["mean"]).iloc[:, 0]
    close(np.array(fit.extra["h1_mean"]), mean[list(fit.observed)], tol=1e-8)


def test_r2_and_standardized_intercepts():
    fit = fitted("pd_fiml")
    ref = reference("pd_fiml")["r2"]
    assert set(fit.r2.index) == set(ref)
    close(fit.r2[sorted(ref)], [ref[k] for k in sorted(ref)])


def test_complete_data_give_the_ml_solution():
    """Without missing answers FIML is ML with a saturated mean structure: same
    estimates, same χ² and CFI as the covariance-structure fit."""
    data = reference_table("hs1939.csv")
    model = syntax_of("hs_cfa_fiml")
    ml = fit_model(model, data)
    full = fit_fiml(model, data)
    m = full.params[full.params.op != "~1"].reset_index(drop=True)
    close(m.est, ml.params.est, tol=1e-6)
    ml_measures = fit_measures(ml)
    for key in ("chisq", "cfi", "tli", "rmsea"):
        close(full.measures[key], ml_measures[key], tol=1e-6)
    intercepts = full.params[full.params.op == "~1"].set_index("lhs").est
    close(intercepts[list(ml.observed)], data[list(ml.observed)].mean(), tol=1e-6)


def test_rows_without_answers_are_left_out_with_a_warning():
    name = "hs_cfa_fiml"
    data = data_of(name).copy()
    blank = data.iloc[:2].copy()
    blank[list(fitted(name).observed)] = np.nan
    padded = pd.concat([data, blank], ignore_index=True)
    again = fit_fiml(syntax_of(name), padded)
    assert again.n == fitted(name).n
    assert any("without any answer" in w for w in again.warnings)
    close(again.params.est, fitted(name).params.est, tol=1e-8)


def test_em_on_complete_data_is_the_sample_moments():
    data = data_of("hs_cfa_fiml")[list(fitted("hs_cfa_fiml").observed)].dropna()
    pat = missing_patterns(data.to_numpy())
    mu, sigma, steps = em_saturated(pat)
    y = data.to_numpy()
    close(mu, y.mean(axis=0), tol=1e-10)
    close(sigma, np.cov(y.T, bias=True), tol=1e-10)
    assert steps <= 2


def test_dispatch_and_errors():
    name = "hs_cfa_fiml"
    via = fit_estimator(syntax_of(name), data_of(name), missing="fiml")
    assert via.missing == "ml" and via.estimator == "ML"
    close(via.params.se, fitted(name).params.se, tol=1e-9)
    with pytest.raises(InputError, match="covariates"):
        fit_fiml("f =~ x1 + x2 + x3\nf ~ x4", data_of(name))
    with pytest.raises(InputError, match="no column"):
        fit_fiml(syntax_of(name), data_of(name).drop(columns="x9"))


def test_model_matrices_read_the_result():
    """The measurement stage's LISREL matrices come out of this result as out of a Fit."""
    fit = fitted("hs_cfa_fiml")
    mats = model_matrices(fit)
    load = fit.params[fit.params.op == "=~"]
    for r in load.itertuples():
        assert mats.lambda_.loc[r.rhs, r.lhs] == r.est


def test_bootstrap_refit_equals_a_full_fiml_fit_of_the_resample() -> None:
    """FimlRefitter (BFGS from the full-sample estimates, no EM, no SEs) lands where a full
    fit_fiml of the same resample does; an item left with one answer fails as a RefitFailed."""
    from sem_kit.engine.optimizer import RefitFailed
    from sem_kit.estimators.fiml import FimlRefitter

    data = reference_table("estimators_pd_missing.csv")
    model = reference_text("pd_sem.lav")
    fit = fit_fiml(model, data)
    refitter = FimlRefitter(fit)
    x = data[list(fit.spec.observed)].to_numpy(dtype=float)
    rng = np.random.default_rng(3)
    for _ in range(5):
        rows = rng.integers(0, len(x), len(x))
        full = fit_fiml(model, pd.DataFrame(x[rows], columns=list(fit.spec.observed)))
        np.testing.assert_allclose(refitter.estimates(x[rows]), full.theta, atol=1e-4)
    lonely = x.copy()
    lonely[1:, 0] = np.nan
    with pytest.raises(RefitFailed, match="fewer than two answers"):
        refitter.estimates(lonely)
