"""The one place that turns ``--estimator`` and ``--missing`` into a fitted model.

============  =================================  ===========================================
option        module                             lavaan call
============  =================================  ===========================================
``ML``        :mod:`sem_kit.estimators.ml`       ``sem(model, data)``
``MLM``       :mod:`sem_kit.estimators.robust`   ``sem(model, data, estimator = "MLM")``
``MLR``       :mod:`sem_kit.estimators.robust`   ``sem(model, data, estimator = "MLR")``
``fiml``      :mod:`sem_kit.estimators.fiml`     ``sem(model, data, missing = "ml")``
``WLSMV``     :mod:`sem_kit.estimators.wlsmv`    ``sem(model, data, ordered = TRUE,
                                                 estimator = "WLSMV")``
============  =================================  ===========================================

The measurement and structural stages call :func:`estimate`; its
:class:`Estimated` carries the reported fit (whose ``measures`` are the FIT
block) and, under ML, MLM and MLR, the plain ML fit that the bootstrap, the
model comparison and the modification indices use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sem_kit.engine.fit import EstimatorFit, Fit
from sem_kit.engine.syntax import ModelSpec
from sem_kit.errors import InputError
from sem_kit.estimators.fiml import fit_fiml
from sem_kit.estimators.ml import fit_model
from sem_kit.estimators.robust import fit_robust
from sem_kit.estimators.wlsmv import fit_wlsmv
from sem_kit.literals import ESTIMATORS, MISSING, ROBUST_ESTIMATORS

__all__ = ["Estimated", "estimate", "fit_estimator"]


@dataclass(frozen=True, eq=False)
class Estimated:
    """A model fitted with a run's estimator.

    Attributes
    ----------
    fit:
        The reported fit: a :class:`~sem_kit.engine.fit.Fit` under ML, else an
        :class:`~sem_kit.engine.fit.EstimatorFit`.
    ml_fit:
        The plain ML fit on the same complete data (ML, MLM, MLR; the same
        object as ``fit`` under ML), None under FIML and WLSMV.
    """

    fit: Fit | EstimatorFit
    ml_fit: Fit | None


def _checked(estimator: str, missing: str) -> str:
    estimator = estimator.upper()
    if estimator not in ESTIMATORS:
        raise InputError(f"--estimator {estimator}: expected one of {', '.join(ESTIMATORS)}")
    if missing not in MISSING:
        raise InputError(f"--missing {missing}: expected one of {', '.join(MISSING)}")
    if missing == "fiml" and estimator != "ML":
        lavaan = ("lavaan has MLR with missing = \"ml\"; sem_kit does not build it"
                  if estimator == "MLR"
                  else f"lavaan: missing = \"ml\" is not allowed for estimator {estimator}")
        raise InputError(
            f"--missing fiml with --estimator {estimator}: full-information ML is available "
            f"with the ML estimator only ({lavaan}); use --missing listwise or --estimator ML")
    return estimator


def estimate(model: str | ModelSpec, data: pd.DataFrame, *, estimator: str = "ML",
             missing: str = "listwise",
             ordered: list[str] | tuple[str, ...] | None = None) -> Estimated:
    """Fit ``model`` with the estimator and missing-data treatment a run asks for.

    Parameters
    ----------
    model:
        lavaan model syntax or a :class:`~sem_kit.engine.syntax.ModelSpec`.
    data:
        One column per observed variable. Under ``missing="listwise"`` rows
        with a missing answer must already be removed (the pipeline does
        that and logs it); under ``"fiml"`` they stay.
    estimator:
        ``"ML"``, ``"MLM"``, ``"MLR"`` or ``"WLSMV"`` (``--estimator``, any case).
    missing:
        ``"listwise"`` or ``"fiml"`` (``--missing``).
    ordered:
        WLSMV only: the items to treat as ordered categories (default: every
        observed variable, lavaan's ``ordered = TRUE``).

    Returns
    -------
    Estimated
        The reported fit and the ML fit under it (ML, MLM, MLR).

    Raises
    ------
    InputError
        An unknown estimator or missing option, or FIML with another
        estimator than ML; and whatever the estimator raises.
    """
    estimator = _checked(estimator, missing)
    if missing == "fiml":
        return Estimated(fit_fiml(model, data), None)
    if estimator == "WLSMV":
        return Estimated(fit_wlsmv(model, data, ordered=ordered), None)
    ml_fit = fit_model(model, data)
    if estimator in ROBUST_ESTIMATORS:
        return Estimated(fit_robust(ml_fit, data, estimator=estimator), ml_fit)
    return Estimated(ml_fit, ml_fit)


def fit_estimator(model: str | ModelSpec, data: pd.DataFrame, *, estimator: str = "ML",
                  missing: str = "listwise",
                  ordered: list[str] | tuple[str, ...] | None = None) -> Fit | EstimatorFit:
    """The reported fit of :func:`estimate` alone.

    Returns
    -------
    Fit or EstimatorFit
        A plain :class:`~sem_kit.engine.fit.Fit` for ML with listwise
        deletion, else an :class:`~sem_kit.engine.fit.EstimatorFit`.

    Notes
    -----
    In R: ``sem(model, data, estimator = ..., missing = ..., ordered = ...)``.
    """
    return estimate(model, data, estimator=estimator, missing=missing, ordered=ordered).fit
