"""Item statistics: mean, SD, skewness, kurtosis, missing count, CITC, alpha if deleted.

Mean, SD, skewness and kurtosis are functions of a respondents x items
:class:`pandas.DataFrame` whose reverse-coded items are already recoded; CITC and
alpha if deleted of the item covariance matrix
(:mod:`~sem_kit.measurement.moments`) and a mapping ``construct -> [item ids]``.
The numbers are those of R's psych package:

- ``psych::describe(data)`` for mean, SD, skew and kurtosis (its default
  ``type = 3``);
- ``psych::alpha(data[, items])`` for ``r.drop`` (the corrected item-total
  correlation) and ``alpha.drop$raw_alpha`` (alpha if the item is deleted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sem_kit.measurement.moments import ItemMap, covariance_matrix, item_block, numeric_items
from sem_kit.measurement.reliability import raw_alpha

LONE_ITEM_NOTE = "single-item construct: CITC and alpha if deleted are undefined"
"""Why the item of a single-item construct has no CITC and alpha if deleted."""

ITEM_COLUMNS = ("construct", "mean", "sd", "skew", "kurtosis", "n_missing", "citc",
                "alpha_if_deleted")


def _standardised_moment(data: pd.DataFrame, power: int) -> pd.Series:
    """``m_k / s^k`` of each column (``s`` with divisor n - 1; NaN for n < 2 or s = 0)."""
    data = numeric_items(data)
    out = {}
    for col in data.columns:
        x = data[col].dropna().to_numpy()
        n = x.size
        dev = x - x.mean()
        sd = np.sqrt((dev**2).sum() / (n - 1)) if n > 1 else np.nan
        out[col] = (dev**power).sum() / (n * sd**power) if n > 1 and sd > 0 else np.nan
    return pd.Series(out, dtype=float)


def skewness(data: pd.DataFrame) -> pd.Series:
    r"""Skewness of each column, psych's type 3 (the b1 form).

    .. math::

        b_1 = \frac{m_3}{s^3} = g_1 \left(\frac{n-1}{n}\right)^{3/2},
        \qquad m_r = \frac{1}{n}\sum_i (x_i - \bar x)^r,

    with :math:`s` the sample SD (divisor :math:`n - 1`) and :math:`g_1 =
    m_3 / m_2^{3/2}`. This is psych's default and the form Joanes & Gill
    (1998) call :math:`b_1`; it is slightly smaller in magnitude than SPSS's
    :math:`G_1`.

    Missing values are dropped column by column.

    Returns
    -------
    pandas.Series
        One unitless value per column.

    References
    ----------
    Joanes, D. N., & Gill, C. A. (1998). Comparing measures of sample
    skewness and kurtosis. The Statistician, 47(1), 183-189.

    Examples
    --------
    >>> # In R: psych::describe(data)$skew   (psych::skew(x, type = 3))
    """
    return _standardised_moment(data, 3).rename("skew")


def kurtosis(data: pd.DataFrame) -> pd.Series:
    r"""Excess kurtosis of each column, psych's type 3 (the b2 form).

    .. math::

        b_2 = \frac{m_4}{s^4} - 3
            = \frac{m_4}{m_2^2}\left(\frac{n-1}{n}\right)^2 - 3,

    with :math:`s` the sample SD (divisor :math:`n - 1`); a normal
    distribution has 0. psych's default, :math:`b_2` in Joanes & Gill (1998).

    Missing values are dropped column by column.

    Returns
    -------
    pandas.Series
        One unitless value per column (excess over the normal's 3).

    Examples
    --------
    >>> # In R: psych::describe(data)$kurtosis   (psych::kurtosi(x, type = 3))
    """
    return (_standardised_moment(data, 4) - 3).rename("kurtosis")


def n_missing(raw: pd.DataFrame) -> pd.Series:
    """Number of missing answers per item, counted in the frame *before* listwise deletion.

    Returns
    -------
    pandas.Series
        Integer counts (respondents), one per column.

    Examples
    --------
    >>> # In R: colSums(is.na(raw))
    """
    return raw.isna().sum().astype(int).rename("n_missing")


def _per_item(cov: pd.DataFrame, constructs: ItemMap,
              statistic: Callable[[np.ndarray, int], float], name: str) -> pd.Series:
    """``statistic(C, i)`` of each item ``i`` of each construct, ``C`` the construct's block."""
    out: dict[str, float] = {}
    for items in constructs.values():
        c = item_block(cov, items).to_numpy(dtype=float)
        for i, item in enumerate(items):
            out[item] = statistic(c, i)
    return pd.Series(out, dtype=float, name=name)


def _drop_correlation(c: np.ndarray, i: int) -> float:
    if c.shape[0] < 2:  # a lone item: there is no rest to correlate with
        return np.nan
    rest = c.sum() - 2 * c[i].sum() + c[i, i]
    return float((c[i].sum() - c[i, i]) / np.sqrt(c[i, i] * rest))


def _alpha_without(c: np.ndarray, i: int) -> float:
    keep = [j for j in range(c.shape[0]) if j != i]
    return raw_alpha(c[np.ix_(keep, keep)]) if len(keep) > 1 else np.nan


def corrected_item_total(cov: pd.DataFrame, constructs: ItemMap) -> pd.Series:
    r"""Corrected item-total correlation (CITC) of each item within its construct.

    The correlation of item :math:`i` with the sum of the *other* items of
    its construct, from the construct's block :math:`C` of the item covariance
    matrix:

    .. math::

        r_{i,\mathrm{drop}} = \frac{\sum_{j \ne i} C_{ij}}
                                  {\sqrt{C_{ii}\, \sum_{j,k \ne i} C_{jk}}}

    This is psych's ``r.drop`` (the "corrected item-total correlation" of
    SPSS's reliability procedure); the divisor of :math:`C` cancels.

    Undefined (NaN) for the item of a single-item construct, which has no other items.

    Parameters
    ----------
    cov:
        Items x items covariance matrix: of the complete cases
        (:func:`sem_kit.measurement.moments.covariance_matrix`) or FIML's EM estimate.
    constructs:
        First-order construct id -> its item ids.

    Returns
    -------
    pandas.Series
        One correlation per item, in the order of ``constructs``.

    Examples
    --------
    >>> # In R: psych::alpha(data[, items])$item.stats$r.drop
    """
    return _per_item(cov, constructs, _drop_correlation, "citc")


def alpha_if_deleted(cov: pd.DataFrame, constructs: ItemMap) -> pd.Series:
    r"""Cronbach's alpha of each construct with the item left out.

    .. math::

        \alpha_{-i} = \frac{k-1}{k-2}\left(1 - \frac{\operatorname{tr} C_{-i}}
                                                    {\mathbf 1' C_{-i} \mathbf 1}\right)

    where :math:`C_{-i}` is the covariance matrix of the construct's other
    :math:`k - 1` items (:func:`sem_kit.measurement.reliability.raw_alpha`).
    Undefined (NaN) for a construct of two items, whose remainder is a single
    item (psych prints a covariance ratio there instead), and for a single-item
    construct.

    Parameters
    ----------
    cov, constructs:
        As for :func:`corrected_item_total`.

    Returns
    -------
    pandas.Series
        One alpha per item, in the order of ``constructs``; NaN in a two-item construct.

    Examples
    --------
    >>> # In R: psych::alpha(data[, items])$alpha.drop$raw_alpha
    """
    return _per_item(cov, constructs, _alpha_without, "alpha_if_deleted")


@dataclass(frozen=True)
class ItemStatistics:
    """Per-item statistics, one row per item.

    Attributes
    ----------
    table:
        Indexed by item id, columns ``construct, mean, sd, skew, kurtosis,
        n_missing, citc, alpha_if_deleted`` (the ``items`` keys of
        results.json other than ``loading_std``). ``mean`` is in scale
        points, ``sd`` in scale points with divisor ``n - 1``, ``skew`` and
        ``kurtosis`` psych's type 3 (unitless, kurtosis in excess of 3),
        ``n_missing`` a count of respondents.
    n:
        Number of respondents the statistics are computed on.
    """

    table: pd.DataFrame
    n: int

    def to_dict(self) -> dict[str, dict[str, float | int | str | None]]:
        """``{item: {statistic: value}}`` with NaN as ``None``, for results.json."""
        out: dict[str, dict[str, float | int | str | None]] = {}
        for item, row in self.table.iterrows():
            rec: dict[str, float | int | str | None] = {}
            for key, value in row.items():
                if isinstance(value, str):
                    rec[str(key)] = value
                elif pd.isna(value):
                    rec[str(key)] = None
                elif key == "n_missing":
                    rec[str(key)] = int(value)
                else:
                    rec[str(key)] = float(value)
            out[str(item)] = rec
        return out


def _columns(frame: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    absent = [i for i in items if i not in frame.columns]
    if absent:
        raise KeyError(f"items not among the data columns: {', '.join(absent)}")
    return frame[items]


def item_statistics(data: pd.DataFrame, constructs: ItemMap,
                    missing: pd.DataFrame | pd.Series | None = None,
                    cov: pd.DataFrame | None = None) -> ItemStatistics:
    """Mean, SD, skewness, kurtosis, missing count, CITC and alpha-if-deleted of every item.

    Parameters
    ----------
    data:
        Respondents x items, reverse-coded items recoded: complete cases, or with
        NaN for unanswered items when ``cov`` is given (mean, SD, skewness and
        kurtosis are then each item's own answers).
    constructs:
        First-order construct id -> its item ids; only these items are
        reported, in this order.
    missing:
        Either the item frame *before* listwise deletion (its missing cells
        are counted) or a Series of counts by item id. ``None`` counts the
        missing cells of ``data`` itself (0 for complete cases).
    cov:
        Items x items covariance matrix for CITC and alpha if deleted (FIML's EM
        estimate); ``None``: the sample covariance of ``data``
        (:func:`sem_kit.measurement.moments.covariance_matrix`).

    Returns
    -------
    ItemStatistics
        See :class:`ItemStatistics` for columns and units; ``n`` is the number of
        rows of ``data``.

    Examples
    --------
    >>> # In R: psych::describe(data); psych::alpha(data[, items])
    """
    items = [i for its in constructs.values() for i in its]
    x = numeric_items(_columns(data, items))
    if cov is None:
        cov = covariance_matrix(x)
    if missing is None:
        miss = n_missing(x)
    elif isinstance(missing, pd.DataFrame):
        miss = n_missing(_columns(missing, items))
    else:
        miss = missing.reindex(items).fillna(0).astype(int)
    table = pd.DataFrame({
        "construct": pd.Series({i: c for c, its in constructs.items() for i in its}),
        "mean": x.mean(),
        "sd": x.std(ddof=1),
        "skew": skewness(x),
        "kurtosis": kurtosis(x),
        "n_missing": miss,
        "citc": corrected_item_total(cov, constructs),
        "alpha_if_deleted": alpha_if_deleted(cov, constructs),
    }).reindex(items)
    table.index.name = "item"
    return ItemStatistics(table=table[list(ITEM_COLUMNS)], n=len(x))
