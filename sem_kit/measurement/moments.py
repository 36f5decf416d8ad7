"""The item covariance matrix that alpha, CITC, KMO, Bartlett, the EFA and HTMT are functions of.

Those statistics need only the items' covariance (or correlation) matrix and the
number of respondents N, as their R functions accept them (``psych::alpha(S)``,
``psych::KMO(R)``, ``psych::cortest.bartlett(R, n)``, ``psych::fa(R, n.obs = n)``,
``semTools::htmt(model, sample.cov = S)``). The measurement stage passes the
sample covariance of the complete cases (:func:`covariance_matrix`) or, under
``--missing fiml``, the EM estimate of FIML's saturated model with N = every row.

- :func:`numeric_items` - the item columns as floats, or a ``TypeError`` naming
  the columns that are not numeric.
- :func:`covariance_matrix` - the sample covariance matrix of complete item data.
- :func:`correlation_matrix` - a covariance matrix rescaled to correlations.
- :func:`item_block` - the rows and columns of some items, or a ``KeyError``
  naming those that are absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: Construct id -> its item ids (``Questionnaire.construct_items``).
ItemMap = Mapping[str, Sequence[str]]


def numeric_items(data: pd.DataFrame) -> pd.DataFrame:
    """The item columns as ``float``.

    Returns
    -------
    pandas.DataFrame
        ``data`` with every column cast to ``float`` (missing cells stay NaN).

    Raises
    ------
    TypeError
        A column is not numeric; the message names it.
    """
    bad = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise TypeError(f"item columns must be numeric; not numeric: {', '.join(map(str, bad))}")
    return data.astype(float)


def covariance_matrix(data: pd.DataFrame) -> pd.DataFrame:
    r"""Sample covariance matrix of complete item data.

    .. math::

        S = \frac{1}{n - 1} \sum_{r=1}^{n} (x_r - \bar x)(x_r - \bar x)'

    over the :math:`n` rows of ``data``. Every statistic of this package that
    takes a covariance matrix is invariant to its divisor (a ratio of
    covariances, or a function of the correlations), so ``n - 1`` here and lavaan's
    ``n`` give the same numbers.

    Parameters
    ----------
    data:
        Respondents x items, complete cases, numeric, reverse-coded items recoded.

    Returns
    -------
    pandas.DataFrame
        Items x items, labelled by the columns of ``data``, in scale points squared.

    Raises
    ------
    ValueError
        ``data`` has missing values.
    TypeError
        A column is not numeric.

    Examples
    --------
    >>> # In R: cov(data)
    """
    if data.isna().any().any():
        raise ValueError("expected complete cases; the item data have missing values")
    return numeric_items(data).cov()


def correlation_matrix(cov: pd.DataFrame) -> pd.DataFrame:
    r"""A covariance matrix rescaled to correlations, :math:`R = D^{-1/2} S D^{-1/2}`.

    With :math:`D` the diagonal of :math:`S`; a correlation matrix is returned
    unchanged (to rounding).

    Parameters
    ----------
    cov:
        Items x items covariance (or correlation) matrix, the same labels on both axes.

    Returns
    -------
    pandas.DataFrame
        Items x items correlations, unitless, 1 on the diagonal.

    Raises
    ------
    ValueError
        ``cov`` is not square with the same labels on both axes, has fewer than two
        items, a non-finite entry or a variance that is not positive.

    Examples
    --------
    >>> # In R: cov2cor(S)
    """
    if list(cov.index) != list(cov.columns):
        raise ValueError("the covariance matrix must be square with the same item labels on "
                         "its rows and columns")
    if cov.shape[0] < 2:
        raise ValueError(f"need at least two items, got {cov.shape[0]}")
    s = cov.to_numpy(dtype=float)
    if not np.all(np.isfinite(s)):
        raise ValueError("the covariance matrix has non-finite entries")
    variances = np.diag(s)
    if not np.all(variances > 0):
        flat = [str(i) for i, v in zip(cov.index, variances, strict=True) if not v > 0]
        raise ValueError(f"items without positive variance: {', '.join(flat)}")
    sd = np.sqrt(variances)
    r = s / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return pd.DataFrame(r, index=cov.index, columns=cov.columns)


def item_block(matrix: pd.DataFrame, items: Iterable[str]) -> pd.DataFrame:
    """The rows and columns of ``items``, in that order.

    Returns
    -------
    pandas.DataFrame
        ``len(items)`` x ``len(items)``.

    Raises
    ------
    KeyError
        Some items are not labels of ``matrix``; the message names them.
    """
    items = list(items)
    absent = [i for i in items if i not in matrix.index or i not in matrix.columns]
    if absent:
        raise KeyError(f"items not in the covariance matrix: {', '.join(absent)}")
    return matrix.loc[items, items]
