"""The fast bootstrap refit (sem_kit.engine.refit) gives the same numbers as a plain fit.

Untimed: the benchmarks in benchmarks/ measure speed. Here every check is on
the same resample:

- ``Refitter.estimates`` against ``fit_model`` (semopy start + Fisher scoring
  to max |∂F/∂θ| < 1e-9) to 1e-5 absolute; both stop at a vanishing
  gradient, so they agree to about 1e-7.
- ``Refitter.estimates`` against a plain semopy fit (``semopy.Model`` with
  objective "MLW", SLSQP). semopy stops when its objective (N·F is χ²-scaled)
  changes by less than SLSQP's ``ftol`` = 1e-6, which leaves each estimate
  off by up to about √(N·ftol) ≈ 0.02 standard errors for N = 500 (measured:
  at most 0.012 SE, 1e-3 to 9e-3 absolute). The test allows 0.05 SE and
  checks that our optimum has the lower discrepancy.
- ``std_all`` / ``est_all`` against ``engine.standardize.standardize`` at the same θ
  to 1e-12, and against the plain fit's table.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from references import reference, reference_table, reference_text

from sem_kit.engine.fit import Fit
from sem_kit.engine.optimizer import RefitFailed
from sem_kit.engine.ram import implied_moments
from sem_kit.engine.refit import RefitPolicy, Refitter, causal_order
from sem_kit.engine.standardize import standardize
from sem_kit.engine.tolerances import RefitSettings
from sem_kit.estimators.ml import FisherScoringRefit, fit_model
from sem_kit.postestimation.bootstrap import resample_rows, run_bootstrap

#: hs_cfa: CFA; pd_sem: SEM with residual covariances; ninefactor_sem: the built-in model
#: (second-order KCH); hs_mimic: fixed.x covariates and an equality label; hs_paths:
#: observed outcomes, a free first loading and a fixed covariance; hs_second_order: a
#: second-order factor without a marker; heywood: a negative variance at the optimum;
#: hs_saturated: df = 0.
MODELS = ["hs_cfa", "pd_sem", "ninefactor_sem", "hs_mimic", "hs_paths", "hs_second_order",
          "heywood", "hs_saturated"]
SEMOPY_SE = 0.05


@cache
def case(name: str) -> tuple[Fit, Refitter, np.ndarray]:
    ref = reference(f"lavaan_{name}")
    data = reference_table(ref["data_file"])
    syntax = reference_text(ref["model_file"])
    fit = fit_model(syntax, data)
    refitter = Refitter(fit)
    return fit, refitter, data[list(refitter.observed)].to_numpy(dtype=float)


@cache
def resample(name: str, b: int) -> tuple[np.ndarray, Fit]:
    """Resample ``b`` (seed 7) and the plain fit of the model to it."""
    fit, refitter, x = case(name)
    xb = x[resample_rows(len(x), b, 7)]
    return xb, fit_model(fit.spec, pd.DataFrame(xb, columns=refitter.observed))


def discrepancy(refitter: Refitter, theta: np.ndarray, s: np.ndarray) -> float:
    f, _ = refitter.objective(theta, s)
    return f


@pytest.mark.parametrize("name", MODELS)
def test_full_sample_gives_the_full_sample_estimates(name):
    fit, refitter, x = case(name)
    np.testing.assert_allclose(refitter.estimates(x), fit.theta, rtol=0, atol=1e-6)
    np.testing.assert_allclose(refitter.std_all(fit.theta), fit.params.std_all, rtol=0,
                               atol=1e-12)
    np.testing.assert_array_equal(refitter.est_all(fit.theta), fit.params.est)


@pytest.mark.parametrize(("name", "b"), [(name, 0) for name in MODELS]
                         + [("hs_cfa", 1), ("pd_sem", 1), ("hs_mimic", 1)])
def test_same_estimates_as_a_plain_fit_of_the_resample(name, b):
    _, refitter, _ = case(name)
    xb, plain = resample(name, b)
    assert plain.converged
    theta = refitter.estimates(xb)
    np.testing.assert_allclose(theta, plain.theta, rtol=0, atol=1e-5)
    np.testing.assert_allclose(refitter.est_all(theta), plain.params.est, rtol=0, atol=1e-5)
    np.testing.assert_allclose(refitter.std_all(theta), plain.params.std_all, rtol=0,
                               atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_std_all_is_the_fits_standardisation(name):
    """The refitter's std.all (total variances from its causally ordered B P Bᵀ) is the
    table a fit standardises from the implied moments."""
    fit, refitter, _ = case(name)
    xb, _ = resample(name, 0)
    theta = refitter.estimates(xb)
    values = refitter.est_all(theta)
    c, _ = implied_moments(fit.spec, values)
    total = np.diag(c)
    p = len(fit.observed)
    pt = fit.spec.partable
    _, expected = standardize(pt.lhs, pt.op, pt.rhs, values, fit.latent, fit.observed,
                              total[p:], total[:p])
    np.testing.assert_allclose(refitter.std_all(theta), expected, rtol=1e-12, atol=1e-14)


def test_fixed_x_rows_take_the_resample_values():
    fit, refitter, _ = case("hs_mimic")
    xb, plain = resample("hs_mimic", 1)
    est = refitter.est_all(refitter.estimates(xb))
    exo = fit.params.exo.to_numpy() == 1
    assert exo.sum() == 3
    s = Refitter.sample_cov(xb)
    pos = {v: i for i, v in enumerate(refitter.observed)}
    rows = fit.params[exo]
    np.testing.assert_allclose(est[exo], [s[pos[a], pos[b]] for a, b in zip(rows.lhs, rows.rhs,
                                                                           strict=True)])
    np.testing.assert_array_equal(est[exo], plain.params.est[exo])
    # an explicit S overrides the last resample's
    full_s = fit.sample_cov.to_numpy()
    np.testing.assert_array_equal(refitter.est_all(fit.theta, full_s), fit.params.est)
    np.testing.assert_allclose(refitter.std_all(fit.theta, full_s), fit.params.std_all,
                               rtol=0, atol=1e-12)


def semopy_theta(fit: Fit, data: pd.DataFrame) -> np.ndarray:
    """A plain semopy fit ("MLW", SLSQP) of the fully spelled-out model, θ in spec order."""
    import semopy

    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = semopy.Model(fit.spec.semopy_syntax, cov_diag=True)
            res = model.fit(data, obj="MLW", solver="SLSQP")
    finally:
        logging.disable(logging.NOTSET)
    active = [k for k, par in model.parameters.items() if par.active]
    values = dict(zip(active, np.asarray(res.x, dtype=float), strict=True))
    return np.array([values[f"_sk{k}"] for k in range(1, fit.npar + 1)])


@pytest.mark.parametrize("name", ["hs_cfa", "pd_sem", "ninefactor_sem"])
def test_same_estimates_as_a_plain_semopy_fit_within_its_precision(name):
    fit, refitter, _ = case(name)
    xb, plain = resample(name, 0)
    theta = refitter.estimates(xb)
    theirs = semopy_theta(fit, pd.DataFrame(xb, columns=refitter.observed))
    free = plain.params[plain.params.free > 0].drop_duplicates("free").sort_values("free")
    in_se = np.abs(theta - theirs) / free.se.to_numpy()
    assert in_se.max() < SEMOPY_SE, in_se.max()
    s = Refitter.sample_cov(xb)
    assert discrepancy(refitter, theta, s) <= discrepancy(refitter, theirs, s) + 1e-12


def test_picklable_and_bootstrap_rows_are_refits():
    fit, refitter, x = case("hs_cfa")
    clone = pickle.loads(pickle.dumps(refitter))
    res = run_bootstrap(clone.estimates, x, 4, seed=7, k=fit.npar)
    assert res.n_failed == 0
    for b in range(4):
        np.testing.assert_array_equal(res.estimates[b],
                                      refitter.estimates(x[resample_rows(len(x), b, 7)]))
    np.testing.assert_allclose(res.estimates[0], resample("hs_cfa", 0)[1].theta, rtol=0,
                               atol=1e-5)


def test_singular_resample_raises_refit_failed():
    _, refitter, x = case("hs_cfa")
    bad = np.repeat(x[:5], 3, axis=0)  # 5 distinct rows for 9 variables: S is singular
    with pytest.raises(RefitFailed, match="not positive definite"):
        refitter.estimates(bad)


def test_no_convergence_raises_refit_failed():
    fit, _, x = case("hs_cfa")
    with pytest.raises(RefitFailed, match="no convergence"):
        policy = RefitPolicy(RefitSettings(gtol=1e-7, max_iter=1))
        Refitter(fit, policy).estimates(x[resample_rows(len(x), 0, 7)])


def test_fisher_scoring_takes_over_when_bfgs_stops_short():
    """BFGS allowed one iteration stops short on every resample; the ML fallback (Fisher
    scoring from θ̂) then gives the estimates of an unhurried refit."""
    fit, refitter, x = case("hs_cfa")
    policy = RefitPolicy(RefitSettings(gtol=1e-7, max_iter=1), FisherScoringRefit(fit))
    rescued = Refitter(fit, policy)
    for b in range(3):
        xb = x[resample_rows(len(x), b, 7)]
        np.testing.assert_allclose(rescued.estimates(xb), refitter.estimates(xb), rtol=0,
                                   atol=1e-6)
    copy = pickle.loads(pickle.dumps(rescued))  # what a bootstrap worker process receives
    np.testing.assert_array_equal(copy.estimates(xb), rescued.estimates(xb))


def test_a_failed_fallback_gives_both_reasons():
    fit, _, x = case("hs_cfa")

    def fails(sample: np.ndarray) -> np.ndarray:
        raise RefitFailed(f"{len(sample)} rows, no luck")

    policy = RefitPolicy(RefitSettings(gtol=1e-7, max_iter=1), fails)
    xb = x[resample_rows(len(x), 0, 7)]
    with pytest.raises(RefitFailed) as err:
        Refitter(fit, policy).estimates(xb)
    assert str(err.value).startswith("no convergence after 1 BFGS iterations (max |gradient| ")
    assert str(err.value).endswith(f"; Fisher scoring: {len(xb)} rows, no luck")


def test_wrong_shape_is_a_clear_error():
    _, refitter, x = case("hs_cfa")
    with pytest.raises(ValueError, match="x1"):
        refitter.estimates(x[:, :3])


def test_causal_order_and_the_general_inverse_agree():
    """Variables in causal order make I − A triangular; a feedback loop has no such order
    and falls back to a general inverse, which gives the same refit."""
    assert causal_order(("x", "y", "f"), [("x", "f"), ("y", "f")]) == ["f", "x", "y"]
    assert causal_order(("a", "b"), [("a", "b"), ("b", "a")]) is None
    fit, refitter, _ = case("pd_sem")
    xb, _ = resample("pd_sem", 0)
    general = pickle.loads(pickle.dumps(refitter))
    general.triangular = False
    np.testing.assert_allclose(general.estimates(xb), refitter.estimates(xb), rtol=0,
                               atol=1e-12)
    theta = fit.theta
    np.testing.assert_allclose(general.std_all(theta), refitter.std_all(theta), rtol=0,
                               atol=1e-13)
