"""Discriminant validity: HTMT, HTMT2 and the Fornell-Larcker criterion.

- :func:`htmt` - Henseler, Ringle & Sarstedt's (2015) heterotrait-monotrait
  ratio of the item correlations, as ``semTools::htmt(model, sample.cov = S,
  htmt2 = FALSE)``, or its geometric-mean variant HTMT2 (Roemer, Schuberth &
  Henseler 2021) with ``htmt2=True``.
- :func:`fornell_larcker` - sqrt(AVE) on the diagonal against the latent
  correlations (both computed elsewhere and passed in).
- :func:`discriminant_validity` - all three with verdicts, the
  ``discriminant`` block of results.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sem_kit.measurement.moments import ItemMap, correlation_matrix, item_block
from sem_kit.thresholds import DEFAULT_THRESHOLDS, Thresholds


def _geometric_mean(x: np.ndarray) -> float:
    return float(np.exp(np.mean(np.log(x))))


def htmt(cov: pd.DataFrame, constructs: ItemMap, *, htmt2: bool = False) -> pd.DataFrame:
    r"""Heterotrait-monotrait ratio of correlations (HTMT, or HTMT2) for every pair of constructs.

    .. math::

        HTMT_{ij} = \frac{\bar r_{ij}}{\sqrt{\bar r_{ii}\,\bar r_{jj}}}

    where :math:`\bar r_{ij}` is the arithmetic mean of the heterotrait
    correlations (every item of :math:`i` with every item of :math:`j`) and
    :math:`\bar r_{ii}` the mean of the monotrait correlations among the
    items of :math:`i` (off-diagonal). With ``htmt2=True`` the means are
    geometric, :math:`\tilde r = \exp(\frac{1}{m}\sum \ln |r|)`, which makes the
    ratio consistent under congeneric (unequal) loadings. As in semTools, the item
    correlations (``cov`` rescaled, never the covariances) enter as absolute values
    (``absolute = TRUE``).

    Parameters
    ----------
    cov:
        Items x items covariance or correlation matrix: of the complete cases
        (:func:`sem_kit.measurement.moments.covariance_matrix`) or FIML's EM estimate.
    constructs:
        First-order construct id -> its item ids (at least two constructs, at least
        one item each).
    htmt2:
        Geometric (``True``) instead of arithmetic means.

    Returns
    -------
    pandas.DataFrame
        Symmetric constructs x constructs matrix, 1 on the diagonal. A
        single-item construct has no monotrait correlation, so its row and column
        (diagonal included) are NaN, as semTools gives them.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for
    assessing discriminant validity in variance-based structural equation
    modeling. Journal of the Academy of Marketing Science, 43(1), 115-135.

    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved
    criterion for assessing discriminant validity in structural equation
    modeling. Industrial Management & Data Systems, 121(12), 2637-2650.

    Examples
    --------
    >>> # In R: semTools::htmt(model, sample.cov = S, htmt2 = FALSE)   # htmt2=False
    >>> #       semTools::htmt(model, sample.cov = S, htmt2 = TRUE)    # htmt2=True
    """
    if len(constructs) < 2:
        raise ValueError("HTMT needs at least two constructs")
    empty = [c for c, its in constructs.items() if not its]
    if empty:
        raise ValueError(f"HTMT needs the items of every construct; none for {', '.join(empty)}")
    items = [i for its in constructs.values() for i in its]
    r = correlation_matrix(item_block(cov, items)).abs()
    mean = _geometric_mean if htmt2 else np.mean
    names = list(constructs)
    mono = {}
    for c, its in constructs.items():
        block = r.loc[list(its), list(its)].to_numpy()
        # a single item has no monotrait correlation: semTools' mean of none is NaN
        mono[c] = mean(block[~np.eye(len(its), dtype=bool)]) if len(its) > 1 else np.nan

    def ratio(a: str, b: str) -> float:
        if a == b:
            return 1.0 if len(constructs[a]) > 1 else np.nan
        hetero = mean(r.loc[list(constructs[a]), list(constructs[b])].to_numpy().ravel())
        return float(hetero / np.sqrt(mono[a] * mono[b]))

    return pd.DataFrame([[ratio(a, b) for b in names] for a in names],
                        index=names, columns=names)


@dataclass(frozen=True)
class FornellLarcker:
    """The Fornell-Larcker table and criterion.

    Attributes
    ----------
    table:
        Constructs x constructs: sqrt(AVE) on the diagonal, latent
        correlations off it.
    passes:
        By construct: ``True`` when its sqrt(AVE) exceeds the absolute value
        of each of its correlations with the other constructs; ``None`` when its
        sqrt(AVE) is undefined (a single-item construct).
    """

    table: pd.DataFrame
    passes: pd.Series


def fornell_larcker(sqrt_ave: Mapping[str, float] | pd.Series,
                    latent_correlations: pd.DataFrame) -> FornellLarcker:
    r"""Fornell & Larcker's (1981) criterion: :math:`\sqrt{AVE_i} > |\phi_{ij}|` for all j.

    Parameters
    ----------
    sqrt_ave:
        Construct -> square root of its AVE (see
        :func:`sem_kit.measurement.reliability.average_variance_extracted`).
    latent_correlations:
        Model-implied latent correlations of the CFA (lavaan's
        ``lavInspect(fit, "cor.lv")``); rows and columns for at least the
        constructs of ``sqrt_ave``.

    Returns
    -------
    FornellLarcker

    References
    ----------
    Fornell & Larcker (1981), see
    :func:`sem_kit.measurement.reliability.composite_reliability`.

    Examples
    --------
    >>> # In R: fl <- lavInspect(fit, "cor.lv"); diag(fl) <- sqrt(ave)
    """
    s = pd.Series(sqrt_ave, dtype=float)
    names = list(s.index)
    absent = [c for c in names if c not in latent_correlations.index
              or c not in latent_correlations.columns]
    if absent:
        raise KeyError(f"constructs missing from the latent correlations: {', '.join(absent)}")
    table = latent_correlations.loc[names, names].astype(float).copy()
    for c in names:
        table.loc[c, c] = s[c]
    off = table.abs().to_numpy().copy()
    np.fill_diagonal(off, -np.inf)
    root = s.to_numpy()
    passes = pd.Series([None if np.isnan(r) else bool(r > m)
                        for r, m in zip(root, off.max(axis=1), strict=True)],
                       index=names, name="passes", dtype=object)
    return FornellLarcker(table=table, passes=passes)


@dataclass(frozen=True)
class DiscriminantValidity:
    """HTMT, HTMT2 and Fornell-Larcker with verdicts.

    Attributes
    ----------
    htmt:
        :func:`htmt` matrix.
    htmt2:
        :func:`htmt` matrix with ``htmt2=True``.
    htmt_verdicts:
        Same shape as ``htmt``: ``"good"`` (< .85), ``"acceptable"``
        (< .90), ``"poor"`` under the thresholds given; ``None`` on the
        diagonal.
    fornell_larcker:
        :class:`FornellLarcker`, or ``None`` when no latent correlations
        were given.
    """

    htmt: pd.DataFrame
    htmt2: pd.DataFrame
    htmt_verdicts: pd.DataFrame
    fornell_larcker: FornellLarcker | None

    def to_dict(self) -> dict[str, dict]:
        """``htmt``, ``latent_correlations``, ``sqrt_ave`` as results.json lays them out."""
        def nested(df: pd.DataFrame) -> dict[str, dict[str, float]]:
            return {str(a): {str(b): float(df.loc[a, b]) for b in df.columns if b != a}
                    for a in df.index}

        out: dict[str, dict] = {"htmt": nested(self.htmt)}
        if self.fornell_larcker is not None:
            t = self.fornell_larcker.table
            out["latent_correlations"] = nested(t)
            out["sqrt_ave"] = {str(c): float(t.loc[c, c]) for c in t.index}
        return out


def discriminant_validity(cov: pd.DataFrame, constructs: ItemMap,
                          sqrt_ave: Mapping[str, float] | pd.Series | None = None,
                          latent_correlations: pd.DataFrame | None = None,
                          thresholds: Thresholds = DEFAULT_THRESHOLDS) -> DiscriminantValidity:
    """HTMT (with .85/.90 verdicts), HTMT2 and, given the CFA's numbers, Fornell-Larcker.

    Parameters
    ----------
    cov, constructs:
        As for :func:`htmt`.
    sqrt_ave, latent_correlations:
        As for :func:`fornell_larcker`; both or neither.
    thresholds:
        Cut-offs; ``thresholds.htmt`` judges each HTMT value.

    Returns
    -------
    DiscriminantValidity
    """
    h = htmt(cov, constructs)
    verdicts = pd.DataFrame(
        [[None if a == b else thresholds.htmt.verdict(float(h.loc[a, b])) for b in h.columns]
         for a in h.index], index=h.index, columns=h.columns, dtype=object)
    fl = None
    if (sqrt_ave is None) != (latent_correlations is None):
        raise ValueError("pass both sqrt_ave and latent_correlations, or neither")
    if sqrt_ave is not None and latent_correlations is not None:
        fl = fornell_larcker(sqrt_ave, latent_correlations)
    return DiscriminantValidity(htmt=h, htmt2=htmt(cov, constructs, htmt2=True),
                                htmt_verdicts=verdicts, fornell_larcker=fl)
