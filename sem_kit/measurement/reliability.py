"""Reliability: Cronbach's alpha (Feldt CI), CR, AVE, omega, second-order omegas.

- :func:`raw_alpha`, :func:`cronbach_alpha` - from the items' covariance matrix
  (and N for Feldt's interval), as ``psych::alpha``.
- :func:`composite_reliability`, :func:`average_variance_extracted` - from the
  standardised loadings of the CFA (lavaan's ``std.all``), Fornell & Larcker
  (1981).
- :func:`omega` / :func:`omega_by_construct` - from the unstandardised CFA
  estimates and the observed item covariances, as ``semTools::compRelSEM``.
- :func:`categorical_omega` / :func:`categorical_omega_by_construct` - omega of
  ordinal items under WLSMV (Green & Yang's categorical omega or the latent-response
  scale), as ``semTools::compRelSEM``.
- :func:`reliability_l2` - omegaL1, omegaL2 and partialOmegaL1 of a
  second-order construct, as ``semTools::reliabilityL2``.
- :func:`reliability_table` - the ``reliability`` block of results.json.

The CFA itself is estimated elsewhere; these functions take its estimates as
arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr

from sem_kit.engine.bivariate_normal import bivariate_normal_cdf
from sem_kit.measurement.moments import ItemMap, item_block

Loadings = Mapping[str, float] | pd.Series | Sequence[float] | np.ndarray

SINGLE_ITEM_NOTE = "single-item construct: alpha, CR and AVE are undefined"
"""Why a single-item construct has no alpha, CR and AVE (the ``note`` of its reliability row)."""


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of one scale with its Feldt confidence interval.

    Attributes
    ----------
    alpha:
        Raw (covariance-based) coefficient alpha, unitless, at most 1.
    ci_lower, ci_upper:
        Feldt's interval at ``level``.
    n:
        Respondents.
    k:
        Items.
    level:
        Confidence level of the interval (0.95 for 95 %).
    """

    alpha: float
    ci_lower: float
    ci_upper: float
    n: int
    k: int
    level: float


def feldt_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    r"""Feldt's confidence interval for coefficient alpha.

    .. math::

        \alpha_L = 1 - (1 - \hat\alpha)\, F_{1-\gamma/2}(n-1, (n-1)(k-1)), \qquad
        \alpha_U = 1 - (1 - \hat\alpha)\, F_{\gamma/2}(n-1, (n-1)(k-1)),

    with :math:`\gamma = 1 - \text{level}` and :math:`F_q` the
    :math:`q`-quantile of the F distribution. This is the formula pingouin's
    ``cronbach_alpha`` uses (which rounds the bounds to three decimals; this
    function does not).

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    References
    ----------
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical
    inference for coefficient alpha. Applied Psychological Measurement,
    11(1), 93-103.

    Examples
    --------
    >>> # In R: psych::alpha.ci(alpha, n.obs = n, n.var = k, p.val = .05)
    """
    if n < 2 or k < 2:
        raise ValueError(f"Feldt interval needs n >= 2 respondents and k >= 2 items (n={n}, k={k})")
    gamma = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1 - (1 - alpha) * stats.f.ppf(1 - gamma / 2, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.ppf(gamma / 2, df1, df2)
    return float(lower), float(upper)


def raw_alpha(cov: pd.DataFrame | np.ndarray) -> float:
    r"""Cronbach's coefficient alpha of the items of a covariance matrix.

    .. math::

        \alpha = \frac{k}{k-1}\left(1 - \frac{\operatorname{tr} C}{\mathbf 1' C \mathbf 1}\right)

    where :math:`C` is the :math:`k \times k` covariance matrix of the items, so
    that :math:`\operatorname{tr} C` is the sum of the item variances and
    :math:`\mathbf 1' C \mathbf 1` the variance of the total score. The ratio does
    not depend on the divisor of :math:`C`; pingouin's ``cronbach_alpha`` computes
    the same expression from ``data.cov()``.

    Parameters
    ----------
    cov:
        Covariance matrix of one scale's items (at least two), reverse-coded items
        recoded.

    Returns
    -------
    float
        Raw (covariance-based) alpha, unitless, at most 1.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. Psychometrika, 16(3), 297-334.

    Examples
    --------
    >>> # In R: psych::alpha(S)$total$raw_alpha      # S = cov(data[, items])
    """
    c = np.asarray(cov, dtype=float)
    k = c.shape[0]
    if c.shape != (k, k) or k < 2:
        raise ValueError(f"alpha needs the square covariance matrix of at least two items, "
                         f"got shape {c.shape}")
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


def cronbach_alpha(cov: pd.DataFrame | np.ndarray, n: int, level: float = 0.95) -> AlphaResult:
    r"""Cronbach's alpha of one scale with Feldt's confidence interval.

    The point estimate is :func:`raw_alpha` of ``cov``, the interval
    :func:`feldt_interval` with ``n`` respondents and :math:`k` items, unrounded.
    From the complete cases' sample covariance matrix this is pingouin's
    ``cronbach_alpha(data)`` (whose interval is rounded to three decimals).

    Parameters
    ----------
    cov:
        Covariance matrix of the scale's items: of the complete cases
        (:func:`sem_kit.measurement.moments.covariance_matrix`) or FIML's EM estimate.
    n:
        Respondents the matrix is estimated from.
    level:
        Confidence level of the interval.

    Returns
    -------
    AlphaResult

    References
    ----------
    Cronbach (1951), see :func:`raw_alpha`; Feldt et al. (1987), see
    :func:`feldt_interval`.

    Examples
    --------
    >>> # In R: psych::alpha(S)$total$raw_alpha     # S = cov(data[, items])
    >>> #       psych::alpha.ci(alpha, n.obs = n, n.var = ncol(S))
    """
    alpha = raw_alpha(cov)
    k = np.shape(cov)[0]
    lower, upper = feldt_interval(alpha, n, k, level)
    return AlphaResult(alpha=alpha, ci_lower=lower, ci_upper=upper, n=int(n), k=k, level=level)


def _as_array(loadings: Loadings) -> np.ndarray:
    if isinstance(loadings, Mapping):
        loadings = list(loadings.values())
    arr = np.asarray(loadings, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError("no loadings given")
    return arr


def composite_reliability(std_loadings: Loadings) -> float:
    r"""Composite reliability (CR) from standardised loadings.

    .. math::

        CR = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i (1 - \lambda_i^2)}

    with :math:`\lambda_i` the completely standardised loadings (lavaan's
    ``std.all``) of one construct's items and :math:`1 - \lambda_i^2` their
    standardised error variances.

    Returns
    -------
    float
        Unitless, between 0 and 1 for loadings within [-1, 1].

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation
    models with unobservable variables and measurement error. Journal of
    Marketing Research, 18(1), 39-50.

    Examples
    --------
    >>> # In R: l <- subset(lavaan::standardizedSolution(fit), op == "=~" & lhs == "F")$est.std
    >>> #       sum(l)^2 / (sum(l)^2 + sum(1 - l^2))
    """
    lam = _as_array(std_loadings)
    num = lam.sum() ** 2
    return float(num / (num + (1 - lam**2).sum()))


def average_variance_extracted(std_loadings: Loadings) -> float:
    r"""Average variance extracted (AVE) from standardised loadings.

    .. math::

        AVE = \frac{1}{k}\sum_{i=1}^{k} \lambda_i^2

    with :math:`\lambda_i` the completely standardised loadings (``std.all``).

    Returns
    -------
    float
        Proportion of item variance explained by the construct, 0 to 1.

    References
    ----------
    Fornell & Larcker (1981), see :func:`composite_reliability`.

    Examples
    --------
    >>> # In R: mean(l^2)   # l as in composite_reliability
    """
    lam = _as_array(std_loadings)
    return float(np.mean(lam**2))


def omega(loadings: Loadings, latent_variance: float, cov: pd.DataFrame | np.ndarray | None, *,
          theta: pd.DataFrame | np.ndarray | None = None, obs_var: bool = True) -> float:
    r"""Coefficient omega of one construct, as ``semTools::compRelSEM(fit)``.

    .. math::

        \omega = \frac{(\sum_i \lambda_i)^2 \, \phi}{\mathbf 1' \Sigma \mathbf 1}

    where :math:`\lambda_i` are the *unstandardised* loadings of the
    construct's items, :math:`\phi` the model-implied variance of the
    construct (``lavInspect(fit, "cov.lv")``; for a first-order dimension of
    a second-order construct this includes the part explained by the
    higher-order factor) and :math:`\mathbf 1'\Sigma\mathbf 1` the variance
    of the unit-weighted total score. With ``obs_var=True`` (semTools'
    default) :math:`\Sigma` is the *observed* covariance matrix of the items,
    as lavaan stores it (divisor :math:`n`, ``lavInspect(fit, "sampstat")``);
    with ``obs_var=False`` it is the model-implied
    :math:`\lambda\phi\lambda' + \Theta`, for which ``theta`` (the items'
    residual covariance matrix, including any residual covariances) is
    required. Residual covariances enter only through :math:`\Sigma`, never
    the numerator, as in semTools.

    Parameters
    ----------
    loadings:
        Unstandardised loadings of the construct's items (``lambda``).
    latent_variance:
        Model-implied variance of the construct.
    cov:
        Observed covariance matrix of the same items, same order (divisor
        n, e.g. ``data.cov(ddof=0)``); unused, may be ``None``, when
        ``obs_var=False``.
    theta:
        Residual covariance matrix of the items (only for ``obs_var=False``).
    obs_var:
        Use the observed (``True``) or model-implied (``False``) total variance.

    Returns
    -------
    float
        Proportion of total-score variance due to the construct.

    References
    ----------
    Bentler, P. M. (2009). Alpha, dimension-free, and model-based internal
    consistency reliability. Psychometrika, 74(1), 137-143.

    McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.

    Examples
    --------
    >>> # In R: semTools::compRelSEM(fit)            # obs.var = TRUE
    >>> #       semTools::compRelSEM(fit, obs.var = FALSE)
    """
    lam = _as_array(loadings)
    common = lam.sum() ** 2 * float(latent_variance)
    if obs_var:
        if cov is None:
            raise ValueError("omega(obs_var=True) needs cov, the items' observed covariances")
        sigma = np.asarray(cov, dtype=float)
    else:
        if theta is None:
            raise ValueError("omega(obs_var=False) needs theta, the items' residual covariances")
        sigma = np.outer(lam, lam) * float(latent_variance) + np.asarray(theta, dtype=float)
    if sigma.shape != (lam.size, lam.size):
        raise ValueError(
            f"covariance matrix is {sigma.shape}, expected ({lam.size}, {lam.size}) "
            "for the construct's items"
        )
    return float(common / sigma.sum())


def omega_by_construct(lambda_: pd.DataFrame, cov_lv: pd.DataFrame,
                       cov: pd.DataFrame) -> pd.Series:
    """Omega of every factor measured by at least two items, as ``compRelSEM(fit)``.

    Applies :func:`omega` (``obs_var=True``) to each column of the loading
    matrix; factors with fewer than two non-zero loadings (a second-order
    factor, whose loadings sit in ``beta``) are skipped, as semTools'
    ``dropSingle = TRUE`` does.

    Parameters
    ----------
    lambda_:
        Items x factors unstandardised loadings (``lavInspect(fit, "est")$lambda``).
    cov_lv:
        Factors x factors model-implied latent covariances (``lavInspect(fit, "cov.lv")``).
    cov:
        Items x items observed covariances with divisor n (``lavInspect(fit, "sampstat")$cov``).

    Returns
    -------
    pandas.Series
        Omega by factor.

    Examples
    --------
    >>> # In R: semTools::compRelSEM(fit)
    """
    out = {}
    for factor in lambda_.columns:
        col = lambda_[factor]
        items = list(col.index[col != 0])
        if len(items) < 2:
            continue
        out[factor] = omega(col[items].to_numpy(), float(cov_lv.loc[factor, factor]),
                            cov.loc[items, items].to_numpy())
    return pd.Series(out, dtype=float, name="omega")


def _phi2_grid(t1: np.ndarray, t2: np.ndarray, rho: float) -> np.ndarray:
    """``Φ₂(t1[c], t2[c']; ρ)`` for every pair of thresholds, shape ``(len(t1), len(t2))``.

    At ``ρ ≥ 1`` the two latent responses coincide, ``Φ₂(a, b; 1) = Φ(min(a, b))``; at
    ``ρ ≤ −1``, ``Φ₂(a, b; −1) = max(Φ(a) + Φ(b) − 1, 0)``. A correlation beyond ±1 (a
    communality above 1 in a Heywood case) is treated as ±1, as Genz's algorithm in
    ``mnormt::pmnorm`` does.
    """
    h, k = np.broadcast_arrays(t1[:, None], t2[None, :])
    if rho >= 1.0:
        return ndtr(np.minimum(h, k))
    if rho <= -1.0:
        return np.maximum(ndtr(h) + ndtr(k) - 1.0, 0.0)
    return bivariate_normal_cdf(h.ravel(), k.ravel(), rho).reshape(h.shape)


def categorical_omega(loadings: Loadings, latent_variance: float,
                      thresholds: Sequence[Sequence[float] | np.ndarray],
                      cov: pd.DataFrame | np.ndarray) -> float:
    r"""Green & Yang's categorical omega of one construct, as ``compRelSEM(fit)`` for ordinal items.

    The reliability of the *observed* sum score :math:`X = \sum_j X_j` of ordinal items
    :math:`X_j = \sum_c 1\{y^*_j > \tau_{jc}\}` (category ranks 0, 1, ..., whose
    latent responses :math:`y^*_j` are standard normal, the delta parameterisation):

    .. math::

        \omega_{cat} = \frac{\sum_{j, j'} \sum_{c, c'}
            \left[\Phi_2(\tau_{jc}, \tau_{j'c'}; \lambda_j\lambda_{j'}\phi)
            - \Phi(\tau_{jc})\Phi(\tau_{j'c'})\right]}
          {\sum_{j, j'} \sum_{c, c'}
            \left[\Phi_2(\tau_{jc}, \tau_{j'c'}; \rho_{jj'})
            - \Phi(\tau_{jc})\Phi(\tau_{j'c'})\right]}

    over all ordered pairs of items *including* :math:`j = j'`, where :math:`\lambda_j` are
    the loadings, :math:`\phi` the model-implied variance of the construct,
    :math:`\tau_{jc}` the thresholds and :math:`\rho_{jj'}` the entries of ``cov`` rescaled
    to a correlation matrix. The numerator is the variance of the true part of
    :math:`X` (the common-factor part of the latent responses, whose correlation
    :math:`\lambda_j\lambda_{j'}\phi` on the diagonal is the item's communality), the
    denominator the variance of :math:`X` implied by the thresholds and ``cov`` (on the
    diagonal :math:`\rho_{jj} = 1` and :math:`\Phi_2(a, b; 1) = \Phi(\min(a, b))`).
    Correlations at or beyond ±1 (a Heywood communality) are taken as ±1.

    Parameters
    ----------
    loadings:
        Unstandardised loadings of the construct's items (``lavInspect(fit, "est")$lambda``,
        delta parameterisation, scale factors 1).
    latent_variance:
        Model-implied variance of the construct (``lavInspect(fit, "cov.lv")``).
    thresholds:
        One sequence of thresholds per item, same order as ``loadings``
        (``lavInspect(fit, "est")$tau``; under WLSMV with free thresholds these equal the
        sample thresholds).
    cov:
        Items x items correlations of the latent responses for the denominator, same
        order: the sample polychoric correlations (``lavInspect(fit, "sampstat")$cov``,
        semTools' ``obs.var = TRUE``) or the model-implied ones
        (``lavInspect(fit, "fitted")$cov``, ``obs.var = FALSE``). A covariance matrix is
        rescaled to correlations, as semTools' ``cov2cor``.

    Returns
    -------
    float
        Proportion of the sum score's variance due to the construct.

    References
    ----------
    Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using structural
    equation modeling: An alternative to coefficient alpha. Psychometrika, 74(1), 155-167.

    Examples
    --------
    >>> # In R: fit <- cfa(model, data, ordered = TRUE, estimator = "WLSMV")
    >>> #       semTools::compRelSEM(fit)     # ord.scale = TRUE: semTools:::omegaCat
    """
    lam = _as_array(loadings)
    taus = [np.asarray(t, dtype=float).ravel() for t in thresholds]
    if len(taus) != lam.size:
        raise ValueError(f"{len(taus)} threshold sets for {lam.size} items")
    if any(t.size == 0 or not np.all(np.isfinite(t)) for t in taus):
        raise ValueError("every item needs at least one finite threshold")
    total = np.asarray(cov, dtype=float)
    if total.shape != (lam.size, lam.size):
        raise ValueError(f"correlation matrix is {total.shape}, expected "
                         f"({lam.size}, {lam.size}) for the construct's items")
    sd = np.sqrt(np.diag(total))
    if not np.all(sd > 0):
        raise ValueError("the items' latent-response variances must be positive")
    total = total / np.outer(sd, sd)
    common = np.outer(lam, lam) * float(latent_variance)
    marginal = [float(ndtr(t).sum()) for t in taus]
    num = den = 0.0
    for j in range(lam.size):
        for jp in range(j, lam.size):
            weight = 1.0 if j == jp else 2.0  # (j, j') and (j', j)
            independent = marginal[j] * marginal[jp]
            num += weight * (_phi2_grid(taus[j], taus[jp], common[j, jp]).sum() - independent)
            den += weight * (_phi2_grid(taus[j], taus[jp], total[j, jp]).sum() - independent)
    return float(num / den)


def _threshold_map(thresholds: Mapping[str, Sequence[float]] | pd.DataFrame,
                   ) -> Mapping[str, Sequence[float]]:
    """Item -> thresholds, from a mapping or a lavaan-style parameter table."""
    if not isinstance(thresholds, pd.DataFrame):
        return thresholds
    params = thresholds
    scales = params[params.op == "~*~"]
    if not np.allclose(scales.est.to_numpy(dtype=float), 1.0):
        raise ValueError("scale factors (~*~) other than 1: only the delta parameterisation "
                         "with unit scales is supported")
    rows = params[params.op == "|"].copy()
    rows["_order"] = rows.rhs.str.lstrip("t").astype(int)
    return {item: group.sort_values("_order").est.to_numpy(dtype=float)
            for item, group in rows.groupby("lhs", sort=False)}


def categorical_omega_by_construct(
    lambda_: pd.DataFrame, cov_lv: pd.DataFrame, cov: pd.DataFrame,
    thresholds: Mapping[str, Sequence[float]] | pd.DataFrame,
    constructs: ItemMap | None = None, *, ord_scale: bool = True,
) -> pd.Series:
    r"""Omega of every first-order construct of ordinal items, as ``compRelSEM(fit)``.

    For a model fitted to ordered items (``ordered = TRUE, estimator = "WLSMV"``, delta
    parameterisation): with ``ord_scale=True`` (semTools' default) Green & Yang's
    categorical omega, the reliability of the observed sum score
    (:func:`categorical_omega`, semTools' internal ``omegaCat``); with
    ``ord_scale=False`` omega of the sum of the latent responses,
    :math:`(\sum_j \lambda_j)^2 \phi / \mathbf 1' R \mathbf 1` (:func:`omega` with
    ``cov`` as :math:`R`). Loadings, latent variances and thresholds are the model's; the
    denominator's correlations are ``cov``.

    Only first-order constructs: a second-order factor (no item loadings in ``lambda_``)
    is skipped, as compRelSEM does by default (its ``higher =`` option stops with an error
    under ``ord.scale = TRUE`` in semTools 0.5.6).

    Parameters
    ----------
    lambda_:
        Items x factors unstandardised loadings (``lavInspect(fit, "est")$lambda``;
        :func:`sem_kit.engine.fit.model_matrices`).
    cov_lv:
        Factors x factors model-implied latent covariances (``lavInspect(fit, "cov.lv")``).
    cov:
        Items x items correlations of the latent responses for the denominator: the
        fit's ``sample_cov`` (polychoric correlations, semTools' ``obs.var = TRUE``) or
        its ``implied_cov`` (``obs.var = FALSE``).
    thresholds:
        Item -> its thresholds in ascending order, or the fit's parameter table
        (``params``; the ``op == "|"`` rows, ``rhs`` ``t1``, ``t2``, ..., are used, and its
        ``~*~`` scale factors must be 1).
    constructs:
        First-order construct -> its items (``Questionnaire.construct_items``); every item
        must load on its construct. Default: every factor with at least two non-zero
        loadings, with those items. Constructs with fewer than two items are skipped
        (semTools' ``dropSingle = TRUE``).
    ord_scale:
        Reliability of the observed sum score (``True``) or of the latent-response sum
        (``False``).

    Returns
    -------
    pandas.Series
        Omega by construct, named ``"omega"``.

    Raises
    ------
    ValueError
        A construct that is not a column of ``lambda_`` or has an item that does not load
        on it (e.g. a second-order construct), or an item without thresholds.

    Examples
    --------
    >>> # In R: fit <- cfa(model, data, ordered = TRUE, estimator = "WLSMV")
    >>> #       semTools::compRelSEM(fit)                      # ord_scale=True
    >>> #       semTools::compRelSEM(fit, ord.scale = FALSE)   # ord_scale=False
    >>> #       semTools::compRelSEM(fit, obs.var = FALSE)     # cov = fit.implied_cov
    """
    if constructs is None:
        constructs = {f: list(lambda_.index[lambda_[f] != 0]) for f in lambda_.columns}
    taus = _threshold_map(thresholds) if ord_scale else {}
    out = {}
    for construct, items in constructs.items():
        items = list(items)
        if construct not in lambda_.columns:
            raise ValueError(f"construct {construct!r} is not a factor of the model")
        absent = [i for i in items if i not in lambda_.index]
        if absent:
            raise ValueError(f"construct {construct}: items not in the model: "
                             + ", ".join(absent))
        loads = lambda_.loc[items, construct]
        if (loads == 0).any():
            raise ValueError(f"construct {construct}: items that do not load on it: "
                             + ", ".join(loads.index[loads == 0])
                             + " (only first-order constructs and their items)")
        if len(items) < 2:
            continue
        phi = float(cov_lv.loc[construct, construct])
        total = cov.loc[items, items].to_numpy()
        if ord_scale:
            missing = [i for i in items if i not in taus]
            if missing:
                raise ValueError(f"construct {construct}: no thresholds for "
                                 + ", ".join(missing))
            out[construct] = categorical_omega(loads.to_numpy(), phi,
                                               [taus[i] for i in items], total)
        else:
            out[construct] = omega(loads.to_numpy(), phi, total)
    return pd.Series(out, dtype=float, name="omega")


@dataclass(frozen=True)
class ReliabilityL2:
    """Reliability of a second-order construct (semTools ``reliabilityL2``).

    Attributes
    ----------
    omega_l1:
        Share of the total-score variance of all the construct's items due to
        the second-order factor (``omegaL1``).
    omega_l2:
        Share of the variance of the sum of the first-order factors due to the
        second-order factor (``omegaL2``).
    partial_omega_l1:
        ``omega_l1`` with the first-order factors' unique variance removed
        from the denominator (``partialOmegaL1``).
    """

    omega_l1: float
    omega_l2: float
    partial_omega_l1: float


def reliability_l2(lambda_: pd.DataFrame, beta: pd.DataFrame, psi: pd.DataFrame,
                   theta: pd.DataFrame, second_factor: str,
                   cov_lv: pd.DataFrame | None = None) -> ReliabilityL2:
    r"""omegaL1, omegaL2 and partialOmegaL1 of a second-order construct.

    With :math:`\gamma_j` the second-order loadings of the first-order
    factors :math:`j` (column ``second_factor`` of ``beta``),
    :math:`\phi_2` the variance of the second-order factor, :math:`\psi_j`
    the first-order disturbance (co)variances, :math:`\lambda_{ij}` the
    item loadings and :math:`\Theta` the items' residual covariances
    (all unstandardised, as ``lavInspect(fit, "est")`` gives them):

    .. math::

        C_1 = \Big(\sum_j \gamma_j \sum_i \lambda_{ij}\Big)^2 \phi_2, \qquad
        U_1 = \sum_j \Big(\sum_i \lambda_{ij}\Big)^2 \psi_{jj}, \qquad
        E_1 = \mathbf 1'\Theta_{(1)}\mathbf 1,

        C_2 = \Big(\sum_j \gamma_j\Big)^2 \phi_2, \qquad
        E_2 = \mathbf 1'\Psi_{(2)}\mathbf 1,

        \omega_{L1} = \frac{C_1}{C_1 + U_1 + E_1}, \quad
        \omega_{L2} = \frac{C_2}{C_2 + E_2}, \quad
        \omega_{\text{partial }L1} = \frac{C_1}{C_1 + E_1},

    where :math:`\Theta_{(1)}` is the residual covariance block of the items
    of the first-order factors and :math:`\Psi_{(2)}` the disturbance block
    of those factors. semTools 0.5.6 uses model parameters only (no sample
    covariance). Items loading directly on the second-order factor enter the
    sums as in semTools.

    Parameters
    ----------
    lambda_:
        Items x latents loadings (``est$lambda``); the second-order factor's
        column is zero unless items load on it directly.
    beta:
        Latents x latents regressions (``est$beta``): ``beta.loc[j, F]`` is
        the loading of first-order factor ``j`` on second-order factor ``F``.
    psi:
        Latents x latents (residual) covariances (``est$psi``).
    theta:
        Items x items residual covariances (``est$theta``).
    second_factor:
        Name of the second-order factor.
    cov_lv:
        Model-implied latent covariances (``lavInspect(fit, "cov.lv")``),
        whose diagonal gives :math:`\phi_2`; defaults to ``psi`` (equal when
        the second-order factor is exogenous, as in a CFA).

    Returns
    -------
    ReliabilityL2

    References
    ----------
    Raykov, T., & Marcoulides, G. A. (2012). Evaluation of validity and
    reliability for hierarchical scales using latent variable modeling.
    Structural Equation Modeling, 19(3), 495-508.

    Examples
    --------
    >>> # In R: semTools::reliabilityL2(fit, "KCH")
    """
    if second_factor not in beta.columns:
        raise KeyError(f"second-order factor {second_factor!r} is not a column of beta")
    phi2 = float((psi if cov_lv is None else cov_lv).loc[second_factor, second_factor])
    gamma = beta[second_factor]
    dims = list(gamma.index[gamma != 0])
    if not dims:
        raise ValueError(f"no first-order factor loads on {second_factor!r} in beta")
    lam = lambda_[dims]
    ind_l1 = list(lam.index[(lam != 0).any(axis=1)])
    common_l2 = gamma[dims].sum() ** 2 * phi2
    error_l2 = float(psi.loc[dims, dims].to_numpy().sum())
    l1load = lam.to_numpy() @ gamma[dims].to_numpy()
    common_l1 = l1load.sum() ** 2 * phi2
    error_l1 = float(theta.loc[ind_l1, ind_l1].to_numpy().sum())
    unique_l1 = sum(lam[d].sum() ** 2 * float(psi.loc[d, d]) for d in dims)
    direct = lambda_[second_factor] if second_factor in lambda_.columns else None
    if direct is not None and (direct != 0).any():
        ind_direct = list(direct.index[direct != 0])
        if set(ind_direct) & set(ind_l1):
            raise ValueError("items load on the second-order factor both directly and "
                             "through its first-order factors")
        common_l2 = (direct.sum() + gamma[dims].sum()) ** 2 * phi2
        common_l1 = (direct.sum() + l1load.sum()) ** 2 * phi2
        extra = float(theta.loc[ind_direct, ind_direct].to_numpy().sum())
        error_l2 += extra
        error_l1 += extra
    return ReliabilityL2(
        omega_l1=float(common_l1 / (common_l1 + unique_l1 + error_l1)),
        omega_l2=float(common_l2 / (common_l2 + error_l2)),
        partial_omega_l1=float(common_l1 / (common_l1 + error_l1)),
    )


@dataclass(frozen=True)
class Reliability:
    """The reliability table, one row per first-order construct.

    Attributes
    ----------
    table:
        Indexed by construct, columns ``alpha, alpha_ci_lower,
        alpha_ci_upper, cr, ave`` (the ``reliability`` keys of results.json),
        all unitless proportions, and ``note``: :data:`SINGLE_ITEM_NOTE` for a
        single-item construct (its five numbers NaN), else ``None``. ``cr``/``ave``
        are NaN for a construct without standardised loadings.
    level:
        Confidence level of the alpha interval.
    """

    table: pd.DataFrame
    level: float


def reliability_table(cov: pd.DataFrame, n: int, constructs: ItemMap,
                      std_loadings: Mapping[str, float] | pd.Series | None = None,
                      level: float = 0.95) -> Reliability:
    """Alpha (with Feldt CI), CR and AVE of every first-order construct.

    A construct of a single item has none of the three: alpha needs two items
    (``psych::alpha`` stops), and under ``cb`` the item's loading is fixed at 1
    with no residual variance (lavaan's ``auto.fix.single``), so its CR and AVE
    would be 1 by construction, not estimates; they are NaN (null in results.json)
    with :data:`SINGLE_ITEM_NOTE` in ``note``.

    Parameters
    ----------
    cov:
        Items x items covariance matrix (see :func:`cronbach_alpha`).
    n:
        Respondents the matrix is estimated from.
    constructs:
        First-order construct id -> its item ids.
    std_loadings:
        Item id -> standardised CFA loading (lavaan's ``std.all``). Without
        it (or for a construct whose items are absent from it) ``cr`` and
        ``ave`` are NaN.
    level:
        Confidence level of the alpha interval.

    Returns
    -------
    Reliability

    Examples
    --------
    >>> # In R: psych::alpha(S[items, items]); CR and AVE from standardizedSolution(fit)
    """
    rows = {}
    nan = float("nan")
    for construct, items in constructs.items():
        if len(items) < 2:
            rows[construct] = {"alpha": nan, "alpha_ci_lower": nan, "alpha_ci_upper": nan,
                               "cr": nan, "ave": nan, "note": SINGLE_ITEM_NOTE}
            continue
        a = cronbach_alpha(item_block(cov, items), n, level)
        cr = ave = nan
        if std_loadings is not None and all(i in std_loadings for i in items):
            lam = [float(std_loadings[i]) for i in items]
            cr = composite_reliability(lam)
            ave = average_variance_extracted(lam)
        rows[construct] = {"alpha": a.alpha, "alpha_ci_lower": a.ci_lower,
                           "alpha_ci_upper": a.ci_upper, "cr": cr, "ave": ave, "note": None}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "construct"
    return Reliability(table=table, level=level)
