"""Matrix algebra the estimators share: vech order, the normal weight matrix, z tests.

lavaan keeps these in ``lav_matrix.R`` and ``lav_mvnorm.R``; sem_kit's ML,
robust, FIML and WLSMV estimators all read them from here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["normal_weight", "sd_of", "vech_index", "with_standard_errors"]


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
