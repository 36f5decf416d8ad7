"""What every estimator beyond plain ML returns, and one entry point to all of them.

sem_kit's default is lavaan's ML on complete data (:func:`sem_kit.engine.model.fit_model`).
Survey data often call for another estimator (DESIGN.md, ``--estimator``,
``--missing``):

============  ====================  ===========================================
option        module                lavaan call
============  ====================  ===========================================
``MLM``       :mod:`sem_kit.estimators.robust`  ``sem(model, data, estimator = "MLM")``
``MLR``       :mod:`sem_kit.estimators.robust`  ``sem(model, data, estimator = "MLR")``
``fiml``      :mod:`sem_kit.estimators.fiml`    ``sem(model, data, missing = "ml")``
``WLSMV``     :mod:`sem_kit.estimators.wlsmv` ``sem(model, data, ordered = TRUE,
                                     estimator = "WLSMV")``
============  ====================  ===========================================

Each returns an :class:`EstimatorFit`: the parameter table with lavaan's
columns, the fit measures (DESIGN.md's FIT keys plus the scaled and robust
ones lavaan reports for that estimator), the covariance matrix of the
estimates and the warnings. It has the attributes of
:class:`sem_kit.engine.model.Fit` that the measurement and structural stages
read (``params``, ``r2``, ``observed``, ``latent``, ``x_vars``,
``sample_cov``, ``implied_cov``, ``n``, ``npar``, ``df``, ``theta``,
``vcov``, ``converged``, ``warnings``, ``admissible``), so
:func:`sem_kit.engine.model.model_matrices` works on it; but its fit measures
are in :attr:`EstimatorFit.measures` -- :func:`sem_kit.engine.fit_indices.fit_measures`
computes ML measures from S and Σ and does not apply.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from sem_kit.engine.model import Fit, ModelSpec, SpecViews
from sem_kit.errors import InputError
from sem_kit.literals import ESTIMATORS, MISSING

__all__ = ["ESTIMATORS", "MISSING", "EstimatorFit", "fit_estimator"]


#: Keys added to FIT under a scaled test (DESIGN.md), in order.
SCALED_KEYS = ("chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor", "cfi_scaled",
               "tli_scaled", "rmsea_scaled")
#: Keys added to FIT under MLM and MLR (DESIGN.md), in order.
ROBUST_KEYS = ("cfi_robust", "tli_robust", "rmsea_robust")


@dataclass(frozen=True, eq=False)
class EstimatorFit(SpecViews):
    """A model fitted by MLM, MLR, FIML or WLSMV, as lavaan reports it.

    Attributes
    ----------
    estimator:
        ``"MLM"``, ``"MLR"``, ``"ML"`` (FIML) or ``"WLSMV"``.
    missing:
        ``"listwise"`` (complete rows only) or ``"ml"`` (FIML), lavaan's names.
    spec:
        The model (:class:`sem_kit.engine.model.ModelSpec`).
    params:
        ``parameterEstimates(fit, standardized = TRUE)`` without intervals:
        ``lhs, op, rhs, label, free, exo, est, se, z, pvalue, std_lv,
        std_all``. Besides ``=~``, ``~`` and ``~~`` rows, FIML adds intercepts
        (``op == "~1"``, ``rhs == ""``) and WLSMV thresholds (``op == "|"``,
        ``rhs`` ``t1``, ``t2``, ...) as lavaan lists them.
    measures:
        DESIGN.md's FIT keys (``n, chisq, df, pvalue, chisq_df, cfi, tli,
        nfi, ifi, rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, srmr,
        gfi, agfi, aic, bic``; NaN where lavaan reports NA) plus, under a
        scaled test, ``chisq_scaled, df_scaled, pvalue_scaled,
        scaling_factor, cfi_scaled, tli_scaled, rmsea_scaled`` and, under MLM
        and MLR, ``cfi_robust, tli_robust, rmsea_robust``.
    vcov:
        Covariance matrix of the free parameters (``vcov(fit)``), indexed
        1..npar in the order of ``params.free``.
    theta:
        Free parameter values, in the same order.
    n:
        Rows analysed.
    npar, df:
        Free parameters and degrees of freedom (FIML and WLSMV count the
        intercepts / thresholds and the means / thresholds among the data).
    r2:
        ``lavInspect(fit, "r2")``.
    sample_cov, implied_cov:
        The sample moments the model is fitted to and the model-implied ones
        (ML: S and Σ; FIML: the EM estimate of the saturated covariance matrix
        and Σ; WLSMV: polychoric and implied correlations of the latent
        responses).
    converged:
        The optimiser converged.
    warnings:
        What the user should know (non-convergence, improper solutions, rows
        left out, ...).
    admissible:
        False when the solution is improper (see ``warnings``).
    test:
        lavaan's ``lavInspect(fit, "test")`` entries as dicts: ``standard``
        and the scaled test (``satorra.bentler``, ``yuan.bentler.mplus`` or
        ``scaled.shifted``) with ``stat, df, pvalue, scaling_factor,
        trace_ugamma`` (and ``shift_parameter``).
    ml_fit:
        The plain ML fit underneath (MLM/MLR), else None.
    extra:
        Further numbers (baseline statistics, intervals of the scaled and
        robust RMSEA, log-likelihoods, thresholds, ...), lavaan's names with
        ``_`` for ``.``.
    iterations:
        Iterations of the optimiser, ``None`` where the estimator does not count them.
    """

    estimator: str
    missing: str
    spec: ModelSpec
    params: pd.DataFrame
    measures: dict[str, float]
    vcov: pd.DataFrame
    theta: np.ndarray
    n: int
    npar: int
    df: int
    r2: pd.Series
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    converged: bool
    warnings: tuple[str, ...] = field(default=())
    admissible: bool = True
    test: dict[str, dict[str, float]] = field(default_factory=dict)
    ml_fit: Fit | None = None
    extra: dict[str, float] = field(default_factory=dict)
    iterations: int | None = None



def fit_estimator(model: str | ModelSpec, data: pd.DataFrame, *, estimator: str = "ML",
                  missing: str = "listwise",
                  ordered: list[str] | tuple[str, ...] | None = None) -> EstimatorFit | Fit:
    """Fit ``model`` with the estimator and missing-data treatment a run asks for.

    Parameters
    ----------
    model:
        lavaan model syntax or a :class:`~sem_kit.engine.model.ModelSpec`.
    data:
        One column per observed variable. Under ``missing="listwise"`` rows
        with a missing answer must already be removed (the pipeline does
        that and logs it); under ``"fiml"`` they stay.
    estimator:
        ``"ML"``, ``"MLM"``, ``"MLR"`` or ``"WLSMV"`` (DESIGN.md ``--estimator``).
    missing:
        ``"listwise"`` or ``"fiml"`` (DESIGN.md ``--missing``).
    ordered:
        WLSMV only: the items to treat as ordered categories (default: every
        observed variable, lavaan's ``ordered = TRUE``).

    Returns
    -------
    EstimatorFit or Fit
        A plain :class:`~sem_kit.engine.model.Fit` for ML with listwise
        deletion, else an :class:`EstimatorFit`.

    Raises
    ------
    InputError
        An unknown estimator or missing option, or a combination lavaan does
        not allow either (MLM or WLSMV with FIML: lavaan stops with
        ``missing="ml" is not allowed for estimator MLM``).

    Notes
    -----
    In R: ``sem(model, data, estimator = ..., missing = ..., ordered = ...)``.
    """
    from sem_kit.engine.model import fit_model

    estimator = estimator.upper()
    if estimator not in ESTIMATORS:
        raise InputError(f"--estimator {estimator}: expected one of {', '.join(ESTIMATORS)}")
    if missing not in MISSING:
        raise InputError(f"--missing {missing}: expected one of {', '.join(MISSING)}")
    if missing == "fiml":
        if estimator != "ML":
            raise InputError(
                f"--missing fiml with --estimator {estimator}: full-information ML is available "
                "with the ML estimator only (lavaan: missing = \"ml\" is not allowed for "
                f"estimator {estimator}); use --missing listwise or --estimator ML")
        from sem_kit.estimators.fiml import fit_fiml

        return fit_fiml(model, data)
    if estimator == "ML":
        return fit_model(model, data)
    if estimator in ("MLM", "MLR"):
        from sem_kit.estimators.robust import fit_robust

        return fit_robust(model, data, estimator=estimator)
    from sem_kit.estimators.wlsmv import fit_wlsmv

    return fit_wlsmv(model, data, ordered=ordered)


# --------------------------------------------------------------------------- shared algebra

_F = TypeVar("_F", bound=Callable)


def one_blas_thread(func: _F) -> _F:
    """Run ``func`` with BLAS limited to one thread.

    The matrices here are small (tens to a few hundred rows) and the work is
    many small products: a second BLAS thread costs more than it saves, and
    under load far more (a FIML fit of the nine-factor model took 3.7 s with
    one thread and 75 s with two on a busy two-core machine). The pipeline
    runs with one thread anyway; this keeps direct calls as fast.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]



def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every element of ``vech`` of a ``p × p`` matrix, lavaan's order.

    Returns
    -------
    tuple of numpy.ndarray
        ``(rows, cols)``, ``p(p+1)/2`` each: the lower triangle column by
        column, ``(0,0), (1,0), ..., (p-1,0), (1,1), ...`` (lavaan's
        ``lav_matrix_vech``).
    """
    cols, rows = np.triu_indices(p)
    return rows, cols


def normal_weight(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``½ Dᵀ (A ⊗ A) D`` for symmetric ``A``, on the ``vech`` elements ``(rows, cols)``.

    With ``A = Σ⁻¹`` this is the expected information of the saturated normal
    model for ``vech(Σ)`` (lavaan's ``lav_mvnorm_h1_information_expected``
    without means); element ``((i,j), (k,l))`` is
    ``½ f (A_ik A_jl + A_il A_jk)`` with ``f = 2 · (½ if i = j) · (½ if k = l)``,
    D the duplication matrix (Magnus & Neudecker 1999).

    Returns
    -------
    numpy.ndarray
        ``(len(rows), len(rows))``.
    """
    m = (a[np.ix_(rows, rows)] * a[np.ix_(cols, cols)]
         + a[np.ix_(rows, cols)] * a[np.ix_(cols, rows)])
    f = np.where(rows == cols, 0.5, 1.0)
    return m * np.outer(f, f)


def with_standard_errors(params: pd.DataFrame, se_theta: np.ndarray) -> pd.DataFrame:
    """``params`` with ``se``, ``z`` and ``pvalue`` from new standard errors of θ.

    Parameters
    ----------
    params:
        A parameter table with ``free`` (1-based index into ``se_theta``, 0
        for fixed rows), ``exo`` and ``est``.
    se_theta:
        Standard errors of the free parameters.

    Returns
    -------
    pandas.DataFrame
        A copy; fixed rows and fixed.x rows get NaN, z = est / se and the
        two-sided normal p-value, as ``parameterEstimates()``.
    """
    out = params.copy()
    free = out["free"].to_numpy().astype(int)
    se = np.full(len(out), np.nan)
    se[free > 0] = np.asarray(se_theta, dtype=float)[free[free > 0] - 1]
    if "exo" in out:
        se[out["exo"].to_numpy() == 1] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        z = out["est"].to_numpy(dtype=float) / se
    out["se"] = se
    out["z"] = z
    out["pvalue"] = 2.0 * norm.sf(np.abs(z))
    return out


def sd_of(vcov: np.ndarray) -> np.ndarray:
    """Square roots of the diagonal of a covariance matrix (NaN where negative)."""
    d = np.diag(np.asarray(vcov, dtype=float))
    return np.where(d >= 0, np.sqrt(np.abs(d)), math.nan)
