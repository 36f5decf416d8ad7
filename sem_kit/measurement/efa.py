"""Sampling adequacy, sphericity, exploratory factor analysis and Harman's test.

- :func:`kmo` - Kaiser-Meyer-Olkin measure, overall and per item (``psych::KMO``).
- :func:`bartlett_sphericity` - Bartlett's test that the correlation matrix
  is an identity (``psych::cortest.bartlett``).
- :func:`parallel_analysis` - Horn's parallel analysis on principal-component
  eigenvalues (compare ``psych::fa.parallel(fa = "pc")``).
- :func:`efa` - minres EFA with oblimin rotation, ordered, signed and named as
  ``psych::fa(rotate = "oblimin", fm = "minres")`` (factor_analyzer does the
  extraction and the rotation).
- :func:`harman_single_factor` - first unrotated component's share of the
  total variance.
- :func:`efa_summary` - the ``efa`` block of results.json.

All are functions of the items' covariance (or correlation) matrix, a labelled
items x items :class:`pandas.DataFrame` (:mod:`~sem_kit.measurement.moments`), and,
where the statistic needs it, the number of respondents N: the sample covariance of
the complete cases (Pearson correlations) or, under FIML, the EM estimate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from factor_analyzer import FactorAnalyzer
from factor_analyzer.rotator import Rotator
from scipy import stats

from sem_kit.measurement.moments import correlation_matrix

Rotation = Literal["oblimin", "promax", "varimax"] | None


@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall:
        Overall MSA, unitless, 0 to 1.
    per_item:
        MSA of each item (index: item id).
    """

    overall: float
    per_item: pd.Series


def kmo(cov: pd.DataFrame) -> KMOResult:
    r"""Kaiser-Meyer-Olkin measure of sampling adequacy (MSA).

    With :math:`r_{ij}` the correlations and :math:`q_{ij}` the partial
    correlations (anti-image, :math:`q_{ij} = -R^{-1}_{ij} /
    \sqrt{R^{-1}_{ii} R^{-1}_{jj}}`),

    .. math::

        MSA = \frac{\sum_{i \ne j} r_{ij}^2}{\sum_{i \ne j} r_{ij}^2 + \sum_{i \ne j} q_{ij}^2},
        \qquad
        MSA_j = \frac{\sum_{i \ne j} r_{ij}^2}{\sum_{i \ne j} r_{ij}^2 + \sum_{i \ne j} q_{ij}^2}.

    Parameters
    ----------
    cov:
        Items x items covariance or correlation matrix.

    Returns
    -------
    KMOResult

    References
    ----------
    Kaiser, H. F. (1970). A second generation little jiffy. Psychometrika,
    35(4), 401-415.

    Kaiser, H. F. (1974). An index of factorial simplicity. Psychometrika,
    39(1), 31-36.

    Examples
    --------
    >>> # In R: psych::KMO(R)$MSA; psych::KMO(R)$MSAi     # R = cor(data)
    """
    r = correlation_matrix(cov).to_numpy()
    inv = np.linalg.inv(r)
    d = 1 / np.sqrt(np.diag(inv))
    q = inv * np.outer(d, d)
    np.fill_diagonal(q, 0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0)
    r2, q2 = r0**2, q**2
    overall = r2.sum() / (r2.sum() + q2.sum())
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(overall=float(overall),
                     per_item=pd.Series(per_item, index=cov.columns, name="kmo"))


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test of sphericity.

    Attributes
    ----------
    chi2:
        Test statistic.
    df:
        Degrees of freedom, :math:`p(p-1)/2`.
    pvalue:
        Upper-tail chi-square probability.
    n:
        Respondents.
    """

    chi2: float
    df: int
    pvalue: float
    n: int


def bartlett_sphericity(cov: pd.DataFrame, n: int) -> BartlettResult:
    r"""Bartlett's (1951) test that the items' correlation matrix is an identity matrix.

    .. math::

        \chi^2 = -\Big(n - 1 - \frac{2p + 5}{6}\Big)\ln|R|, \qquad df = \frac{p(p-1)}{2}

    with :math:`n` respondents, :math:`p` items and :math:`R` the correlation
    matrix.

    Parameters
    ----------
    cov:
        Items x items covariance or correlation matrix.
    n:
        Respondents the matrix is estimated from.

    Returns
    -------
    BartlettResult

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square
    approximation in factor analysis. Biometrika, 38(3/4), 337-344.

    Examples
    --------
    >>> # In R: psych::cortest.bartlett(R, n = n)     # R = cor(data), n = nrow(data)
    """
    r = correlation_matrix(cov).to_numpy()
    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        raise ValueError("the correlation matrix is singular; Bartlett's test is undefined")
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return BartlettResult(chi2=float(chi2), df=int(df), pvalue=float(stats.chi2.sf(chi2, df)),
                          n=int(n))


def harman_single_factor(cov: pd.DataFrame) -> float:
    r"""Harman's single-factor test: the first unrotated factor's share of total variance.

    Computed the conventional (SPSS) way, from an unrotated principal-component
    extraction of all items together:

    .. math::

        \text{share} = \frac{\lambda_1(R)}{p}

    with :math:`\lambda_1(R)` the largest eigenvalue of the items'
    correlation matrix and :math:`p` the number of items (the total variance
    of standardised items). A share of .50 or more is read as a sign of
    common-method bias (Podsakoff et al. 2003).

    Parameters
    ----------
    cov:
        Covariance or correlation matrix of every item (the test takes them together).

    Returns
    -------
    float
        A proportion, 0 to 1 (not a percentage).

    References
    ----------
    Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P.
    (2003). Common method biases in behavioral research. Journal of Applied
    Psychology, 88(5), 879-903.

    Examples
    --------
    >>> # In R: psych::principal(R, nfactors = 1, rotate = "none")$values[1] / ncol(R)
    """
    r = correlation_matrix(cov).to_numpy()
    return float(np.linalg.eigvalsh(r)[-1] / r.shape[0])


@dataclass(frozen=True)
class ParallelAnalysis:
    """Horn's parallel analysis on principal-component eigenvalues.

    Attributes
    ----------
    observed:
        Eigenvalues of the correlation matrix, largest first
        (index 1..p).
    threshold:
        The ``quantile`` of the same-position eigenvalues of ``n_iter``
        random normal data sets of the same size.
    n_components:
        Number of leading observed eigenvalues above their threshold
        (counting stops at the first that is not).
    n_iter, quantile, seed:
        The settings used.
    """

    observed: pd.Series
    threshold: pd.Series
    n_components: int
    n_iter: int
    quantile: float
    seed: int | None


def parallel_analysis(cov: pd.DataFrame, n: int, n_iter: int = 100, quantile: float = 0.95,
                      seed: int | None = 0) -> ParallelAnalysis:
    r"""Horn's (1965) parallel analysis: how many components beat random data.

    For ``n_iter`` data sets of :math:`n` rows of :math:`p` independent standard
    normal variables, :math:`p` the items of ``cov`` (drawn with
    ``numpy.random.default_rng(seed)``), the eigenvalues of each correlation
    matrix are sorted; the ``quantile`` of each position (R's type 7
    quantile) is the threshold. The number of components is the number of
    leading observed eigenvalues strictly above their threshold, the rule
    ``psych::fa.parallel`` uses for ``ncomp``. Only the random draws differ
    from psych, so counts agree except where an eigenvalue lies very close to
    its threshold.

    Parameters
    ----------
    cov:
        Items x items covariance or correlation matrix; the observed eigenvalues
        are those of its correlations.
    n:
        Respondents the matrix is estimated from, the rows of each random data set.
    n_iter:
        Random data sets.
    quantile:
        Quantile of the random eigenvalues that an observed one must exceed.
    seed:
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ParallelAnalysis

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in
    factor analysis. Psychometrika, 30(2), 179-185.

    Glorfeld, L. W. (1995). An improvement on Horn's parallel analysis
    methodology for selecting the correct number of factors to retain.
    Educational and Psychological Measurement, 55(3), 377-393.

    Examples
    --------
    >>> # In R: psych::fa.parallel(R, n.obs = n, fa = "pc", n.iter = 100, quant = .95)$ncomp
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile}")
    r = correlation_matrix(cov).to_numpy()
    p = r.shape[0]
    observed = np.linalg.eigvalsh(r)[::-1]
    rng = np.random.default_rng(seed)
    sims = np.empty((n_iter, p))
    for i in range(n_iter):
        x = rng.standard_normal((n, p))
        sims[i] = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))[::-1]
    threshold = np.quantile(sims, quantile, axis=0)
    above = observed > threshold
    n_comp = int(p if above.all() else np.argmin(above))
    index = pd.RangeIndex(1, p + 1, name="component")
    return ParallelAnalysis(observed=pd.Series(observed, index=index, name="observed"),
                            threshold=pd.Series(threshold, index=index, name="threshold"),
                            n_components=n_comp, n_iter=n_iter, quantile=quantile, seed=seed)


@dataclass(frozen=True)
class EFAResult:
    """A minres exploratory factor analysis, laid out as ``psych::fa`` prints it.

    Attributes
    ----------
    loadings:
        Items x factors pattern loadings after rotation. Columns are named
        ``MR1..MRk`` by the factor's position before ordering and ordered by
        variance accounted for, each signed so its column sum is positive
        (psych's conventions).
    structure:
        Items x factors structure matrix, ``loadings @ phi``.
    phi:
        Factor correlations (identity for an orthogonal or no rotation).
    communalities:
        :math:`h^2` of each item, from the unrotated loadings (rotation
        leaves them unchanged), unitless.
    uniquenesses:
        :math:`1 - h^2`.
    variance:
        Factors x (``ss_loadings, proportion_var, cumulative_var,
        proportion_explained, cumulative_proportion``), psych's
        ``Vaccounted``: for an oblique solution ``ss_loadings`` is
        :math:`\\operatorname{diag}(\\Phi L'L)`; proportions are of the
        total standardised variance :math:`p`.
    unrotated_loadings:
        Items x factors minres loadings before rotation (signed as psych).
    eigenvalues:
        Eigenvalues of the correlation matrix (psych's ``e.values``).
    common_eigenvalues:
        Eigenvalues of the reduced correlation matrix with the communalities
        on the diagonal (psych's ``values``).
    rotation:
        The rotation applied (``None`` for none).
    n_factors:
        Number of factors extracted.
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    phi: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    unrotated_loadings: pd.DataFrame
    eigenvalues: pd.Series
    common_eigenvalues: pd.Series
    rotation: str | None
    n_factors: int


def _psych_sign(loadings: np.ndarray) -> np.ndarray:
    signs = np.sign(loadings.sum(axis=0))
    signs[signs == 0] = 1
    return signs


def efa(cov: pd.DataFrame, n_factors: int, rotation: Rotation = "oblimin") -> EFAResult:
    r"""Minres exploratory factor analysis with (by default) oblimin rotation.

    Extraction is factor_analyzer's minres on the correlations of ``cov``
    (``FactorAnalyzer(is_corr_matrix=True)``; uniquenesses bounded to
    [.005, 1], SMC starting values, L-BFGS-B), which minimises
    :math:`\sum (R - LL' - \Psi)^2` like ``psych::fa(fm = "minres")``. The
    loadings are then rotated with factor_analyzer's ``Rotator`` (oblimin
    with :math:`\gamma = 0`, i.e. quartimin, the GPArotation default psych
    calls), and psych's presentation is applied: each column signed to a
    positive sum, named ``MR<position>``, and columns ordered by
    :math:`\operatorname{diag}(\Phi L'L)` (largest first). The rotation is
    done here rather than inside ``FactorAnalyzer`` because factor_analyzer
    0.5.1 reorders the loadings but not ``phi_``.

    The number of factors is the caller's: the number of first-order
    constructs of the questionnaire, or :func:`parallel_analysis`'s count.

    Parameters
    ----------
    cov:
        Items x items covariance or correlation matrix.
    n_factors:
        Factors to extract (at least 1, fewer than the number of items).
    rotation:
        ``"oblimin"`` (default, oblique), ``"promax"`` (oblique),
        ``"varimax"`` (orthogonal) or ``None``. Only ``"oblimin"`` is held to
        psych in the tests.

    Returns
    -------
    EFAResult

    References
    ----------
    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing
    residuals (minres). Psychometrika, 31(3), 351-368.

    Jennrich, R. I. (2002). A simple general method for oblique rotation.
    Psychometrika, 67(1), 7-19.

    Examples
    --------
    >>> # In R: psych::fa(R, nfactors = k, rotate = "oblimin", fm = "minres")   # R = cor(data)
    """
    p = cov.shape[1]
    if not 1 <= n_factors < p:
        raise ValueError(f"n_factors must be between 1 and {p - 1} for {p} items, got {n_factors}")
    if rotation not in ("oblimin", "promax", "varimax", None):
        raise ValueError("rotation must be 'oblimin', 'promax', 'varimax' or None, "
                         f"got {rotation!r}")
    r = correlation_matrix(cov).to_numpy()
    items = list(cov.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        fa = FactorAnalyzer(n_factors=n_factors, rotation=None, method="minres",
                            is_corr_matrix=True)
        fa.fit(r)
    unrot = np.asarray(fa.loadings_, dtype=float).reshape(p, n_factors)
    unrot = unrot * _psych_sign(unrot)
    communalities = (unrot**2).sum(axis=1)

    if rotation is None or n_factors == 1:
        loadings, phi = unrot.copy(), np.eye(n_factors)
    else:
        rot = Rotator(method=rotation)
        loadings = np.asarray(rot.fit_transform(unrot), dtype=float)
        phi = np.eye(n_factors) if rot.phi_ is None else np.asarray(rot.phi_, dtype=float)
    signs = _psych_sign(loadings)
    loadings = loadings * signs
    phi = phi * np.outer(signs, signs)
    names = [f"MR{i + 1}" for i in range(n_factors)]
    ss = np.diag(phi @ loadings.T @ loadings)
    order = np.argsort(-ss, kind="stable") if n_factors > 1 else np.arange(1)
    loadings, phi, ss = loadings[:, order], phi[np.ix_(order, order)], ss[order]
    names = [names[i] for i in order]

    reduced = r.copy()
    np.fill_diagonal(reduced, communalities)
    prop = ss / p
    variance = pd.DataFrame({
        "ss_loadings": ss,
        "proportion_var": prop,
        "cumulative_var": np.cumsum(prop),
        "proportion_explained": ss / ss.sum(),
        "cumulative_proportion": np.cumsum(ss / ss.sum()),
    }, index=pd.Index(names, name="factor"))
    pos = pd.RangeIndex(1, p + 1, name="position")
    return EFAResult(
        loadings=pd.DataFrame(loadings, index=items, columns=names),
        structure=pd.DataFrame(loadings @ phi, index=items, columns=names),
        phi=pd.DataFrame(phi, index=names, columns=names),
        communalities=pd.Series(communalities, index=items, name="communality"),
        uniquenesses=pd.Series(1 - communalities, index=items, name="uniqueness"),
        variance=variance,
        unrotated_loadings=pd.DataFrame(unrot, index=items,
                                        columns=[f"MR{i + 1}" for i in range(n_factors)]),
        eigenvalues=pd.Series(np.linalg.eigvalsh(r)[::-1], index=pos, name="eigenvalue"),
        common_eigenvalues=pd.Series(np.linalg.eigvalsh(reduced)[::-1], index=pos,
                                     name="common_eigenvalue"),
        rotation=rotation if n_factors > 1 else None,
        n_factors=n_factors,
    )


@dataclass(frozen=True)
class EFASummary:
    """The ``efa`` block of results.json.

    Attributes
    ----------
    kmo:
        :class:`KMOResult`.
    bartlett:
        :class:`BartlettResult`.
    harman_first_factor_share:
        :func:`harman_single_factor`, a proportion.
    """

    kmo: KMOResult
    bartlett: BartlettResult
    harman_first_factor_share: float

    def to_dict(self) -> dict[str, float | int]:
        """``kmo, bartlett_chi2, bartlett_df, bartlett_pvalue, harman_first_factor_share``."""
        return {
            "kmo": self.kmo.overall,
            "bartlett_chi2": self.bartlett.chi2,
            "bartlett_df": self.bartlett.df,
            "bartlett_pvalue": self.bartlett.pvalue,
            "harman_first_factor_share": self.harman_first_factor_share,
        }


def efa_summary(cov: pd.DataFrame, n: int) -> EFASummary:
    """KMO, Bartlett's test and Harman's share for all items together.

    Parameters
    ----------
    cov:
        Items x items covariance or correlation matrix of every item.
    n:
        Respondents the matrix is estimated from.

    Returns
    -------
    EFASummary

    Examples
    --------
    >>> # In R: psych::KMO(R); psych::cortest.bartlett(R, n = n)
    """
    return EFASummary(kmo=kmo(cov), bartlett=bartlett_sphericity(cov, n),
                      harman_first_factor_share=harman_single_factor(cov))
