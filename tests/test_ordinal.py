"""sem_kit.estimators.wlsmv (WLSMV)
against lavaan 0.6-14 (tests/reference/estimators_ordinal_wlsmv.json).

Every expected number comes from tests/reference/estimators_reference.R:
``sem(model, data, ordered = TRUE, estimator = "WLSMV")`` on 600 simulated 5-point
answers (tests/reference/data/estimators_ordinal.csv, written by
estimators_make_inputs.py) and on the built-in nine-factor model's 500 simulated 7-point
answers, with ``lavInspect(fit, "sampstat")`` (thresholds,
polychoric correlations), ``lavInspect(fit, "gamma")``, ``parameterEstimates()``,
``vcov()`` and ``fitMeasures()``; and ``pbivnorm::pbivnorm`` on a grid
(estimators_bivnorm.json). Tolerances: estimates ±0.001; SEs, scaled statistics and
scaling factors ±1% relative; fit indices and p-values ±0.001.
"""

from __future__ import annotations

import math
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
)

from sem_kit.engine.bivariate_normal import bivariate_normal_cdf
from sem_kit.engine.fit import EstimatorFit, model_matrices
from sem_kit.engine.fit_indices import FIT_KEYS, SCALED_KEYS
from sem_kit.engine.syntax import specify
from sem_kit.errors import InputError
from sem_kit.estimators.dispatch import fit_estimator
from sem_kit.estimators.wlsmv import fit_wlsmv, ordinal_statistics

NAME = "ordinal_wlsmv"
MODELS = [NAME, "ninefactor_wlsmv"]


@cache
def stats(name: str = NAME):
    """The items' statistics, in the model's order (computed once per data set)."""
    items = specify(syntax_of(name)).observed
    return ordinal_statistics(data_of(name), items)


@cache
def fitted(name: str = NAME) -> EstimatorFit:
    return fit_wlsmv(syntax_of(name), None, stats=stats(name))


@pytest.mark.parametrize("name", MODELS)
def test_lavaan_ran_wlsmv(name):
    opts = reference(name)["options"]
    assert opts["estimator"] == "DWLS" and opts["se"] == "robust.sem"
    assert opts["test"] == "scaled.shifted" and opts["parameterization"] == "delta"


def test_reference_data_are_five_point_answers():
    data = data_of(NAME)
    assert len(data) == reference(NAME)["n"]
    for col in data:
        assert sorted(data[col].unique()) == [1, 2, 3, 4, 5]


def test_bivariate_normal_cdf_is_pbivnorm():
    grid = pd.DataFrame(reference("bivnorm")["grid"])
    ours = [bivariate_normal_cdf(np.array([h]), np.array([k]), r)[0]
            for h, k, r in zip(grid.h, grid.k, grid.r, strict=True)]
    close(ours, grid.p, tol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_thresholds_and_polychoric_correlations(name):
    ref = reference(name)["sampstat"]
    th = pd.Series(ref["th"]["values"], index=ref["th"]["names"])
    close(np.concatenate(stats(name).thresholds), th[list(stats(name).threshold_names)], tol=1e-9)
    cor = matrix(ref["cov"])
    obs = list(fitted(name).observed)
    close(stats(name).cor, cor.loc[obs, obs].to_numpy(), tol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_gamma_is_lavaans_nacov(name):
    ref = matrix(reference(name)["nacov"])
    assert list(ref.index[: stats(name).nth]) == list(stats(name).threshold_names)
    assert np.abs(stats(name).nacov - ref.to_numpy()).max() <= 1e-6 * np.abs(ref.to_numpy()).max()


@pytest.mark.parametrize("name", MODELS)
def test_same_parameters(name):
    m = merged(name, fitted(name).params)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", "key"].tolist()
    assert ((m.free_r > 0) == (m.free_py > 0)).all()
    assert set(m.op_r) == {"=~", "~", "~~", "|", "~*~", "~1"}


@pytest.mark.parametrize("name", MODELS)
def test_estimates_thresholds_and_standardized(name):
    check_estimates(merged(name, fitted(name).params))


@pytest.mark.parametrize("name", MODELS)
def test_robust_standard_errors(name):
    check_standard_errors(merged(name, fitted(name).params))


@pytest.mark.parametrize("name", MODELS)
def test_vcov(name):
    ref = matrix(reference(name)["vcov"])
    p = fitted(name).params
    free = p[p.free > 0].drop_duplicates("free").sort_values("free")
    names = [f"{a}{o}{b}" for a, o, b in zip(free.lhs, free.op, free.rhs, strict=True)]
    ours = pd.DataFrame(fitted(name).vcov.to_numpy(), index=names, columns=names)
    ref = ref.loc[names, names].to_numpy()
    rel_close(np.diag(ours.to_numpy()), np.diag(ref), rel=0.02)
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.abs(ours.to_numpy() - ref).max() <= 0.01 * scale.max()


@pytest.mark.parametrize("name", MODELS)
def test_r2_of_the_latent_responses(name):
    ref = reference(name)["r2"]
    ours = fitted(name).r2
    assert set(ours.index) == set(ref)
    close(ours[sorted(ref)], [ref[k] for k in sorted(ref)])


@pytest.mark.parametrize("name", MODELS)
def test_fit_measures(name):
    fit = fitted(name)
    assert list(fit.measures)[: len(FIT_KEYS)] == list(FIT_KEYS)
    for key in FIT_KEYS:
        if key in ("aic", "bic"):
            assert math.isnan(fit.measures[key])
            assert key not in reference(name)["fit"]  # no likelihood, lavaan has none
        elif key == "n":
            assert fit.measures[key] == reference(name)["n"]
        elif key == "chisq":
            rel_close(fit.measures[key], lavaan_fit(name, key), rel=1e-4)
        else:
            close(fit.measures[key], lavaan_fit(name, key))


@pytest.mark.parametrize("name", MODELS)
def test_scaled_shifted_statistics(name):
    fit = fitted(name)
    assert list(fit.measures)[len(FIT_KEYS):] == list(SCALED_KEYS)
    for key in ("chisq_scaled", "df_scaled", "scaling_factor"):
        rel_close(fit.measures[key], lavaan_fit(name, key))
    for key in ("pvalue_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled"):
        close(fit.measures[key], lavaan_fit(name, key))
    ref_test = reference(name)["test"]["scaled.shifted"]
    rel_close(fit.extra["shift_parameter"], ref_test["shift.parameter"])
    rel_close(fit.test["scaled.shifted"]["trace_ugamma"], ref_test["trace.UGamma"])
    rel_close(fit.test["scaled.shifted"]["trace_ugamma2"], ref_test["trace.UGamma2"])


@pytest.mark.parametrize("name", MODELS)
def test_baseline(name):
    fit = fitted(name)
    rel_close(fit.extra["baseline_chisq"], lavaan_fit(name, "baseline_chisq"), rel=1e-4)
    rel_close(fit.extra["baseline_chisq_scaled"], lavaan_fit(name, "baseline_chisq_scaled"))
    assert fit.extra["baseline_df"] == lavaan_fit(name, "baseline_df")
    rel_close(fit.extra["fmin"], lavaan_fit(name, "fmin"), rel=1e-4)


def test_statistics_of_fewer_items_are_a_subset():
    """A model on some of the items, fitted from all items' statistics, is the model
    fitted to those items' own statistics."""
    model = "f1 =~ y3 + y1 + y2 + y4"
    data = data_of(NAME)
    own = fit_wlsmv(model, data)
    shared = fit_wlsmv(model, None, stats=stats())
    close(shared.params.est, own.params.est, tol=1e-10)
    close(shared.params.se, own.params.se, tol=1e-10)
    close(shared.measures["chisq_scaled"], own.measures["chisq_scaled"], tol=1e-8)
    sub = stats().subset(["y3", "y1"])
    ref = ordinal_statistics(data, ["y3", "y1"])
    close(sub.nacov, ref.nacov, tol=1e-10)
    close(sub.wls_obs, ref.wls_obs, tol=1e-12)


def test_dispatch_and_errors():
    data = data_of(NAME)
    model = syntax_of(NAME)
    via = fit_estimator(model, data, estimator="WLSMV")
    close(via.params.se, fitted().params.se, tol=1e-9)
    with pytest.raises(InputError, match="no item y99"):
        stats().subset(["y1", "y99"])
    holes = data.astype(float)
    holes.loc[5, "y3"] = np.nan
    with pytest.raises(InputError, match="missing values in column y3"):
        fit_wlsmv(model, holes)
    constant = data.copy()
    constant["y2"] = 3
    with pytest.raises(InputError, match="only one answer value"):
        fit_wlsmv(model, constant)
    with pytest.raises(InputError, match="leaves out"):
        fit_wlsmv(model, data, ordered=["y1", "y2"])
    with pytest.raises(InputError, match="covariates"):
        fit_wlsmv("f =~ y1 + y2 + y3\nf ~ y4", data)


def test_model_matrices_read_the_result():
    """The measurement stage's LISREL matrices come out of this result as out of a Fit."""
    fit = fitted()
    mats = model_matrices(fit)
    load = fit.params[fit.params.op == "=~"]
    for r in load.itertuples():
        assert mats.lambda_.loc[r.rhs, r.lhs] == r.est
