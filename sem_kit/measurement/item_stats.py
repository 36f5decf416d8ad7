"""Item statistics: mean, SD, skewness, kurtosis, missing count, CITC, alpha if deleted.

Every function takes a respondents x items :class:`pandas.DataFrame` of
complete cases whose reverse-coded items are already recoded, and (where the
statistic is within a construct) a mapping ``construct -> [item ids]``.
The numbers are those of R's psych package:

- ``psych::describe(data)`` for mean, SD, skew and kurtosis (its default
  ``type = 3``);
- ``psych::alpha(data[, items])`` for ``r.drop`` (the corrected item-total
  correlation) and ``alpha.drop$raw_alpha`` (alpha if the item is deleted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ItemMap = Mapping[str, Sequence[str]]

ITEM_COLUMNS = ("construct", "mean", "sd", "skew", "kurtosis", "n_missing", "citc",
                "alpha_if_deleted")


def _numeric(data: pd.DataFrame) -> pd.DataFrame:
    bad = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise TypeError(f"item columns must be numeric; not numeric: {', '.join(map(str, bad))}")
    return data.astype(float)


def _check_items(data: pd.DataFrame, constructs: ItemMap) -> None:
    missing = [i for items in constructs.values() for i in items if i not in data.columns]
    if missing:
        raise KeyError(f"items not among the data columns: {', '.join(missing)}")


def _standardised_moment(data: pd.DataFrame, power: int) -> pd.Series:
    """``m_k / s^k`` of each column (``s`` with divisor n - 1; NaN for n < 2 or s = 0)."""
    data = _numeric(data)
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


def corrected_item_total(data: pd.DataFrame, constructs: ItemMap) -> pd.Series:
    r"""Corrected item-total correlation (CITC) of each item within its construct.

    The correlation of item :math:`i` with the sum of the *other* items of
    its construct, from the item covariance matrix :math:`C`:

    .. math::

        r_{i,\mathrm{drop}} = \frac{\sum_{j \ne i} C_{ij}}
                                  {\sqrt{C_{ii}\, \sum_{j,k \ne i} C_{jk}}}

    This is psych's ``r.drop`` (the "corrected item-total correlation" of
    SPSS's reliability procedure).

    Returns
    -------
    pandas.Series
        One correlation per item, in the order of ``constructs``.

    Examples
    --------
    >>> # In R: psych::alpha(data[, items])$item.stats$r.drop
    """
    _check_items(data, constructs)
    out: dict[str, float] = {}
    for items in constructs.values():
        c = _numeric(data[list(items)]).cov().to_numpy()
        total = c.sum()
        for i, item in enumerate(items):
            rest = total - 2 * c[i].sum() + c[i, i]
            out[item] = (c[i].sum() - c[i, i]) / np.sqrt(c[i, i] * rest)
    return pd.Series(out, dtype=float, name="citc")


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def alpha_if_deleted(data: pd.DataFrame, constructs: ItemMap) -> pd.Series:
    r"""Cronbach's alpha of each construct with the item left out.

    .. math::

        \alpha_{-i} = \frac{k-1}{k-2}\left(1 - \frac{\operatorname{tr} C_{-i}}
                                                    {\mathbf 1' C_{-i} \mathbf 1}\right)

    where :math:`C_{-i}` is the covariance matrix of the construct's other
    :math:`k - 1` items. Undefined (NaN) for a construct of two items, whose
    remainder is a single item; psych prints a covariance ratio there instead.

    Returns
    -------
    pandas.Series
        One alpha per item, in the order of ``constructs``.

    Examples
    --------
    >>> # In R: psych::alpha(data[, items])$alpha.drop$raw_alpha
    """
    _check_items(data, constructs)
    out: dict[str, float] = {}
    for items in constructs.values():
        c = _numeric(data[list(items)]).cov().to_numpy()
        for i, item in enumerate(items):
            keep = [j for j in range(len(items)) if j != i]
            out[item] = _alpha_from_cov(c[np.ix_(keep, keep)]) if len(keep) > 1 else np.nan
    return pd.Series(out, dtype=float, name="alpha_if_deleted")


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


def item_statistics(data: pd.DataFrame, constructs: ItemMap,
                    missing: pd.DataFrame | pd.Series | None = None) -> ItemStatistics:
    """Mean, SD, skewness, kurtosis, missing count, CITC and alpha-if-deleted of every item.

    Parameters
    ----------
    data:
        Respondents x items, complete cases, reverse-coded items recoded.
    constructs:
        First-order construct id -> its item ids; only these items are
        reported, in this order.
    missing:
        Either the item frame *before* listwise deletion (its missing cells
        are counted) or a Series of counts by item id. ``None`` counts the
        missing cells of ``data`` itself (0 for complete cases).

    Returns
    -------
    ItemStatistics
        See :class:`ItemStatistics` for columns and units.

    Examples
    --------
    >>> # In R: psych::describe(data); psych::alpha(data[, items])
    """
    _check_items(data, constructs)
    items = [i for its in constructs.values() for i in its]
    x = _numeric(data[items])
    if missing is None:
        miss = n_missing(data[items])
    elif isinstance(missing, pd.DataFrame):
        _check_items(missing, constructs)
        miss = n_missing(missing[items])
    else:
        miss = missing.reindex(items).fillna(0).astype(int)
    table = pd.DataFrame({
        "construct": pd.Series({i: c for c, its in constructs.items() for i in its}),
        "mean": x.mean(),
        "sd": x.std(ddof=1),
        "skew": skewness(x),
        "kurtosis": kurtosis(x),
        "n_missing": miss,
        "citc": corrected_item_total(x, constructs),
        "alpha_if_deleted": alpha_if_deleted(x, constructs),
    }).reindex(items)
    table.index.name = "item"
    return ItemStatistics(table=table[list(ITEM_COLUMNS)], n=int(x.dropna().shape[0]))
