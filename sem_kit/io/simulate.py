"""Simulated survey responses drawn from a questionnaire's population model.

``sem-kit simulate`` and the bundled ``data/sample_responses.csv`` come from
here. The population model lives on the standardised metric: every latent
construct and every latent item response has variance 1, so loadings, paths
and correlations are the values a standardised solution (lavaan's
``std.all``) recovers.

The data-generating model
-------------------------
Latent constructs (all of the questionnaire's constructs, dimensions and
second-order constructs included):

- exogenous constructs (no hypothesised cause and not a dimension) are
  multivariate normal with unit variances and correlations
  ``population.correlations["A ~~ B"]``, else ``population.correlation``;
- an endogenous construct is ``eta_t = sum_s beta_st * eta_s + zeta_t``, with
  ``beta_st = population.paths["s -> t"]`` (signed), else
  ``population.path`` with the hypothesis' sign, and
  ``Var(zeta_t) = 1 - R2_t``, ``R2_t = beta' Sigma_SS beta``, so that
  ``Var(eta_t) = 1``;
- a dimension ``d`` of a second-order construct ``K`` is
  ``eta_d = gamma_d * eta_K + delta_d`` with ``gamma_d =
  population.loadings[d]``, else ``population.dimension_loading``, and
  ``Var(delta_d) = 1 - gamma_d**2``.

Latent item responses: ``x*_j = lambda_j * eta_c(j) + eps_j`` with
``lambda_j = population.loadings[j]``, else ``population.loading`` -- else 1
(:data:`SINGLE_ITEM_LOADING`) for the item of a single-item construct, which the
``cb`` model takes as free of measurement error (lavaan's ``auto.fix.single``), so
that its paths are the values a standardised solution recovers -- and
``Var(eps_j) = 1 - lambda_j**2``; errors are independent (the questionnaire's
``covariances:`` are not part of the population).

Answers
-------
- An item on an integer scale ``min..max`` with ``K = max - min + 1``
  categories is answered ``min + #{k: x* > tau_k}`` with the thresholds of
  :func:`likert_thresholds`: ``tau_k = w_K (k - K/2) - 0.5``,
  ``k = 1..K-1``. On the 7-point scale they are -2.30, -1.58, -0.86, -0.14,
  0.58, 1.30 (``w_7 = 0.721``): answers 1..7 with probabilities
  .011 .046 .138 .250 .275 .184 .096, mean 4.67, SD 1.36, skewness -0.18.
- An item on a non-integer scale is answered
  ``min + (max - min) * Phi(x* + 0.5)`` (continuous, mean at 64 % of the range).
- An item without a scale is answered ``x*`` itself (continuous, standard normal).
- A reverse-worded item is written as the respondent would answer its
  wording: ``min + max - y`` of the agreement-keyed answer ``y``.

Discretising a normal variable to equally spaced categories attenuates
Pearson correlations: two 7-point answers with these thresholds correlate
0.943-0.948 times their latent responses' correlation (0.533 for 0.5625 =
0.75**2, the largest item correlation of the built-in questionnaire: 0.029
less). :meth:`PopulationModel.implied_item_correlation` gives the latent
responses' correlations, :meth:`PopulationModel.expected_response_correlation`
the exact expected correlations of the answers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from sem_kit.errors import InputError
from sem_kit.io.atomic import write_with
from sem_kit.questionnaire import Questionnaire, Scale
from sem_kit.questionnaire.schema import ARROW, Population

__all__ = [
    "FLAW_REASONS",
    "LIKERT_SHIFT",
    "SINGLE_ITEM_LOADING",
    "PopulationModel",
    "likert_thresholds",
    "population_model",
    "simulate_responses",
    "write_responses",
]

SINGLE_ITEM_LOADING = 1.0
"""Default population loading of a single-item construct's item: the item is the construct
(no measurement error), as ``cb`` models it; ``population.loadings`` may give a smaller one."""

LIKERT_SHIFT = 0.5
"""How far (in latent SDs) the answer thresholds sit below the centre of the latent response:
respondents lean towards agreement, so answers are slightly left-skewed."""

_DURATION_MEDIAN = 420.0  # seconds: a 53-item questionnaire takes about 7 minutes
_DURATION_SIGMA = 0.35  # log-scale SD: 90 % of durations between 4 and 12 minutes
_HERMITE_TERMS = 300  # terms of the Mehler series in expected_response_correlation
_COVARIANCE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.]*)\s*~~\s*([A-Za-z][A-Za-z0-9_.]*)\s*$")


# -- thresholds ----------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _threshold_step(n_categories: int) -> float:
    def neg_corr(step: float) -> float:
        return -_answer_latent_correlation(_thresholds(n_categories, step))

    found = minimize_scalar(neg_corr, bounds=(1e-3, 4.0), method="bounded",
                            options={"xatol": 1e-7})
    return float(found.x)


def _thresholds(n_categories: int, step: float) -> np.ndarray:
    k = np.arange(1, n_categories)
    return step * (k - n_categories / 2) - LIKERT_SHIFT


def _answer_latent_correlation(tau: np.ndarray) -> float:
    """corr(Y, Z) for ``Y = #{k: Z > tau_k}``, Z standard normal: sum phi(tau_k) / sd(Y)."""
    return float(_phi(tau).sum() / math.sqrt(_count_variance(tau)))


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _count_variance(tau: np.ndarray) -> float:
    p = np.diff(np.concatenate([[0.0], ndtr(tau), [1.0]]))
    k = np.arange(p.size)
    mean = float((p * k).sum())
    return float((p * k * k).sum() - mean * mean)


def likert_thresholds(n_categories: int) -> np.ndarray:
    """Cut points on the standard-normal latent response for a ``K``-point scale.

    ``tau_k = w_K * (k - K/2) - 0.5`` for ``k = 1 .. K-1``: equally spaced,
    shifted half a standard deviation down so that answers lean towards
    agreement (slightly left-skewed). The step ``w_K`` maximises the
    correlation of the answer with its latent response,
    ``sum_k phi(tau_k) / sd(Y)`` (for ``K = 7``: ``w = 0.721``, correlation
    0.971), so discretisation attenuates correlations as little as an
    equally spaced scale with this skew allows.

    Parameters
    ----------
    n_categories:
        Number of answer categories ``K`` (at least 2).

    Returns
    -------
    numpy.ndarray
        The ``K - 1`` thresholds, increasing, in latent standard deviations.
        A latent response ``x*`` is answered ``min + #{k: x* > tau_k}``.

    Examples
    --------
    >>> likert_thresholds(7).round(2)
    array([-2.3 , -1.58, -0.86, -0.14,  0.58,  1.3 ])
    """
    if n_categories < 2:
        raise InputError(f"a scale needs at least 2 answer categories, found {n_categories}")
    return _thresholds(n_categories, _threshold_step(n_categories))


def _categories(scale: Scale) -> int:
    return int(math.floor(scale.max - scale.min + 1e-9)) + 1


# -- the population model ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PopulationModel:
    """The standardised population model of a questionnaire (see the module docstring).

    Attributes
    ----------
    constructs:
        Every latent construct (dimensions and second-order ones included), in file order.
    items:
        Every item id, in questionnaire order.
    loadings:
        ``item -> {construct: lambda}``: each item's standardised loading on its construct.
    dimension_loadings:
        ``dimension -> {second-order construct: gamma}``.
    paths:
        ``(source, target) -> beta``: standardised path coefficients, signed.
    exogenous_correlation:
        Correlation matrix of the exogenous constructs (file order).
    disturbance_variance:
        ``construct -> 1 - R2`` for endogenous constructs and dimensions.
    causal_order:
        The constructs with every cause before its effects (exogenous ones first).
    scales:
        ``item -> Scale | None``: the scale each item is answered on.
    """

    constructs: tuple[str, ...]
    items: tuple[str, ...]
    loadings: dict[str, dict[str, float]]
    dimension_loadings: dict[str, dict[str, float]]
    paths: dict[tuple[str, str], float]
    exogenous_correlation: pd.DataFrame
    disturbance_variance: dict[str, float]
    causal_order: tuple[str, ...]
    scales: dict[str, Scale | None]

    @property
    def r_squared(self) -> dict[str, float]:
        """``construct -> R2`` of every endogenous construct and dimension."""
        return {c: 1.0 - v for c, v in self.disturbance_variance.items()}

    def _regressions(self) -> dict[str, dict[str, float]]:
        """``target -> {cause: coefficient}`` over paths and dimension loadings."""
        out: dict[str, dict[str, float]] = {}
        for (source, target), beta in self.paths.items():
            out.setdefault(target, {})[source] = beta
        for dim, owner in self.dimension_loadings.items():
            out.setdefault(dim, {}).update(owner)
        return out

    def latent_covariance(self) -> pd.DataFrame:
        """Covariance (= correlation) matrix of all latent constructs, in file order.

        ``Sigma = (I - B)^-1 Psi (I - B)^-T`` where ``B`` holds the paths and
        dimension loadings and ``Psi`` the exogenous correlations and the
        disturbance variances; every diagonal element is 1.
        """
        names = list(self.constructs)
        pos = {c: i for i, c in enumerate(names)}
        b = np.zeros((len(names), len(names)))
        for target, causes in self._regressions().items():
            for source, coef in causes.items():
                b[pos[target], pos[source]] = coef
        psi = np.zeros_like(b)
        exo = [pos[c] for c in self.exogenous_correlation.index]
        psi[np.ix_(exo, exo)] = self.exogenous_correlation.to_numpy()
        for c, v in self.disturbance_variance.items():
            psi[pos[c], pos[c]] = v
        inv = np.linalg.inv(np.eye(len(names)) - b)
        sigma = inv @ psi @ inv.T
        return pd.DataFrame(sigma, index=names, columns=names)

    def _loading_matrix(self) -> np.ndarray:
        pos = {c: i for i, c in enumerate(self.constructs)}
        lam = np.zeros((len(self.items), len(self.constructs)))
        for j, item in enumerate(self.items):
            for construct, value in self.loadings[item].items():
                lam[j, pos[construct]] = value
        return lam

    def implied_item_correlation(self) -> pd.DataFrame:
        """Correlations of the latent item responses ``x*`` (items in questionnaire order).

        ``Lambda Sigma Lambda' + Theta`` with ``Theta = diag(1 - lambda**2)``:
        continuous, before discretisation, and agreement-keyed (reverse-worded
        items are *not* reversed). Unit diagonal.
        """
        lam = self._loading_matrix()
        r = lam @ self.latent_covariance().to_numpy() @ lam.T
        np.fill_diagonal(r, 1.0)
        return pd.DataFrame(r, index=list(self.items), columns=list(self.items))

    def expected_response_correlation(self) -> pd.DataFrame:
        """Expected Pearson correlations of the agreement-keyed answers (after discretisation).

        For answers ``Y_i = g_i(X_i)`` of standard bivariate normal latent
        responses with correlation ``rho`` (Mehler's expansion in the
        orthonormal Hermite polynomials ``h_n = He_n / sqrt(n!)``):

        ``Cov(Y_i, Y_j) = sum_{n>=1} b_in b_jn rho**n``, ``b_in = E[g_i(Z) h_n(Z)]``;

        for a ``K``-point answer ``b_n = sum_k phi(tau_k) h_{n-1}(tau_k) / sqrt(n)``
        (exact), for a non-integer scale ``b_n`` is computed by Gauss-Hermite
        quadrature, and for an unscaled item ``b = (1, 0, 0, ...)``. The series
        is summed to 300 terms. This is what the sample correlations of
        :func:`simulate_responses` (reverse items re-reversed) converge to.
        """
        rho = self.implied_item_correlation().to_numpy()
        coef = np.zeros((len(self.items), _HERMITE_TERMS))
        var = np.zeros(len(self.items))
        for j, item in enumerate(self.items):
            coef[j], var[j] = _hermite_coefficients(self.scales[item])
        cov = np.zeros_like(rho)
        power = np.ones_like(rho)
        for n in range(_HERMITE_TERMS):
            power = power * rho
            cov += np.outer(coef[:, n], coef[:, n]) * power
        sd = np.sqrt(var)
        r = cov / np.outer(sd, sd)
        np.fill_diagonal(r, 1.0)
        return pd.DataFrame(r, index=list(self.items), columns=list(self.items))


def _hermite_coefficients(scale: Scale | None) -> tuple[np.ndarray, float]:
    """``(b_1 .. b_N, Var g(Z))`` of an item's answer function ``g`` (see above)."""
    b = np.zeros(_HERMITE_TERMS)
    if scale is None:
        b[0] = 1.0
        return b, 1.0
    if scale.integer:
        tau = likert_thresholds(_categories(scale))
        h_prev, h = np.zeros_like(tau), np.ones_like(tau)  # h_{-1}, h_0 at tau
        weight = _phi(tau)
        for n in range(1, _HERMITE_TERMS + 1):
            b[n - 1] = float((weight * h).sum()) / math.sqrt(n)
            h_prev, h = h, (tau * h - math.sqrt(n - 1) * h_prev) / math.sqrt(n)
        return b, _count_variance(tau)
    z, w = hermegauss(200)
    w = w / math.sqrt(2 * math.pi)
    g = ndtr(z + LIKERT_SHIFT)  # the (max - min) factor cancels in correlations
    h_prev, h = np.zeros_like(z), np.ones_like(z)
    for n in range(1, _HERMITE_TERMS + 1):
        h_prev, h = h, (z * h - math.sqrt(n - 1) * h_prev) / math.sqrt(n)
        b[n - 1] = float((w * g * h).sum())
    mean = float((w * g).sum())
    return b, float((w * g * g).sum()) - mean * mean


def _pair(key: str, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    found = pattern.match(key)
    return (found.group(1), found.group(2)) if found else None


def population_model(q: Questionnaire, population: Population | None = None) -> PopulationModel:
    """The standardised population model of ``q`` from its ``population:`` block.

    Parameters
    ----------
    q:
        The questionnaire: constructs, dimensions and hypotheses fix the model's shape.
    population:
        Population values; ``None`` takes ``q.model.population``.

    Returns
    -------
    PopulationModel
        Loadings, paths, exogenous correlations and disturbance variances,
        all on the standardised metric (every latent variance is 1).

    Raises
    ------
    InputError
        A ``population`` key that names no item, dimension, hypothesised path
        or pair of exogenous constructs; a loading or correlation outside
        (-1, 1); exogenous correlations that are not positive definite; or
        paths into a construct that imply ``R2 >= 1``.
    """
    pop = population if population is not None else q.model.population
    dims = q.dimension_of
    _check_loadings(pop, q)

    single = {its[0] for its in q.construct_items.values() if len(its) == 1}
    loadings = {
        item: {q.item_construct[item]: float(pop.loadings.get(
            item, SINGLE_ITEM_LOADING if item in single else pop.loading))}
        for item in q.items
    }
    dimension_loadings = {
        d: {owner: float(pop.loadings.get(d, pop.dimension_loading))} for d, owner in dims.items()
    }

    paths = _population_paths(pop, q)
    targets = {t for _, t in paths}
    exogenous = [c for c in q.structural_constructs if c not in targets]
    corr = _exogenous_correlations(pop, exogenous, dims, targets)

    causes: dict[str, dict[str, float]] = {}
    for (source, target), beta in paths.items():
        causes.setdefault(target, {})[source] = beta
    for d, owner in dimension_loadings.items():
        causes[d] = dict(owner)
    order = list(exogenous)
    pending = [c for c in q.constructs if c not in exogenous]
    while pending:
        ready = next(c for c in pending if all(s in order for s in causes[c]))
        order.append(ready)
        pending.remove(ready)

    # Covariances of the constructs placed so far, built up in causal order.
    cov: dict[tuple[str, str], float] = {
        (a, b): float(corr.loc[a, b]) for a in exogenous for b in exogenous
    }
    disturbance: dict[str, float] = {}
    for placed, target in enumerate(order[len(exogenous):], start=len(exogenous)):
        before = order[:placed]
        coefs = causes[target]
        explained = sum(ba * bb * cov[a, b] for a, ba in coefs.items() for b, bb in coefs.items())
        if explained >= 1 - 1e-9:
            listed = ", ".join(f"{s} -> {target} = {v:g}" for s, v in coefs.items())
            kind = "loading" if target in dims else "paths"
            raise InputError(
                f"population: the {kind} into {target} ({listed}) imply R2 = {explained:.3f} >= 1, "
                f"so {target} cannot have unit variance; choose smaller values in "
                f"population.{'loadings' if target in dims else 'paths'}"
            )
        disturbance[target] = 1.0 - explained
        for other in before:
            value = sum(v * cov[s, other] for s, v in coefs.items())
            cov[target, other] = cov[other, target] = value
        cov[target, target] = 1.0

    return PopulationModel(
        constructs=tuple(q.constructs),
        items=tuple(q.items),
        loadings=loadings,
        dimension_loadings=dimension_loadings,
        paths=paths,
        exogenous_correlation=corr,
        disturbance_variance={c: disturbance[c] for c in q.constructs if c in disturbance},
        causal_order=tuple(order),
        scales={item: q.item_scale(item) for item in q.items},
    )


def _check_loadings(pop: Population, q: Questionnaire) -> None:
    """Raise for a ``population.loadings`` key that names no item or dimension, or |λ| >= 1."""
    dims = q.dimension_of
    for key, value in pop.loadings.items():
        if key not in q.items and key not in dims:
            raise InputError(
                f"population.loadings.{key}: expected an item id or a dimension of a "
                f"second-order construct ({', '.join(dims) or 'none'}), found {key!r}"
            )
        if not -1 < value < 1:
            raise InputError(
                f"population.loadings.{key}: expected a standardised loading between -1 and 1 "
                f"(exclusive), found {value}"
            )


def _population_paths(pop: Population, q: Questionnaire) -> dict[tuple[str, str], float]:
    """Every hypothesised path's population value: given, else ±``population.path`` by sign."""
    hypothesised = {(h.source, h.target): h for h in q.hypotheses.values()}
    given_paths: dict[tuple[str, str], float] = {}
    for key, value in pop.paths.items():
        pair = _pair(key, ARROW)
        if pair is None or pair not in hypothesised:
            raise InputError(f"population.paths.{key}: expected a hypothesised path 'A -> B'")
        given_paths[pair] = float(value)
    return {
        pair: given_paths.get(pair, pop.path if h.sign == "+" else -pop.path)
        for pair, h in hypothesised.items()
    }


def _exogenous_correlations(pop: Population, exogenous: list[str], dims: dict[str, str],
                            targets: set[str]) -> pd.DataFrame:
    """The correlation matrix of the exogenous constructs (checked positive definite)."""
    pos = {c: i for i, c in enumerate(exogenous)}
    r = np.full((len(exogenous), len(exogenous)), float(pop.correlation))
    seen: dict[frozenset[str], float] = {}
    for key, value in pop.correlations.items():
        pair = _pair(key, _COVARIANCE)
        where = f"population.correlations.{key}"
        if pair is None or pair[0] == pair[1]:
            raise InputError(f"{where}: expected 'A ~~ B' with two different construct ids")
        for c in pair:
            if c not in pos:
                why = (f"a dimension of {dims[c]}" if c in dims
                       else "endogenous (it has a hypothesised cause)" if c in targets
                       else "not a construct")
                raise InputError(
                    f"{where}: {c} is {why}; correlations are set between exogenous "
                    f"constructs only ({', '.join(exogenous)})"
                )
        if not -1 < value < 1:
            raise InputError(f"{where}: expected a correlation between -1 and 1, found {value}")
        pair_set = frozenset(pair)
        if pair_set in seen and seen[pair_set] != value:
            raise InputError(f"{where}: the pair is given twice, as {seen[pair_set]} and {value}")
        seen[pair_set] = value
        r[pos[pair[0]], pos[pair[1]]] = r[pos[pair[1]], pos[pair[0]]] = float(value)
    np.fill_diagonal(r, 1.0)
    corr = pd.DataFrame(r, index=exogenous, columns=exogenous)
    if np.linalg.eigvalsh(corr.to_numpy()).min() <= 1e-10:
        raise InputError(
            "population.correlations: the correlations of the exogenous constructs "
            f"({', '.join(exogenous)}) are not positive definite; lower population.correlation "
            "or make the given pairs consistent"
        )
    return corr


# -- drawing answers -----------------------------------------------------------------------

def _latent_responses(pm: PopulationModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n x items`` latent item responses ``x*`` (standard normal, agreement-keyed)."""
    names = list(pm.constructs)
    pos = {c: i for i, c in enumerate(names)}
    shocks = rng.standard_normal((n, len(names)))
    errors = rng.standard_normal((n, len(pm.items)))
    eta = np.zeros((n, len(names)))
    exo = list(pm.exogenous_correlation.index)
    chol = np.linalg.cholesky(pm.exogenous_correlation.to_numpy())
    eta[:, [pos[c] for c in exo]] = shocks[:, [pos[c] for c in exo]] @ chol.T
    regressions = pm._regressions()
    for target in pm.causal_order[len(exo):]:
        value = math.sqrt(pm.disturbance_variance[target]) * shocks[:, pos[target]]
        for source, coef in regressions[target].items():
            value = value + coef * eta[:, pos[source]]
        eta[:, pos[target]] = value
    lam = pm._loading_matrix()
    loading = lam.sum(axis=1)
    return eta @ lam.T + errors * np.sqrt(1.0 - loading**2)


def _answer(x: np.ndarray, scale: Scale | None, reverse: bool) -> np.ndarray:
    """The written answers to one item from its latent responses ``x``."""
    if scale is None:
        return x.copy()
    if scale.integer:
        tau = likert_thresholds(_categories(scale))
        y = scale.min + np.searchsorted(tau, x).astype(float)
    else:
        y = scale.min + (scale.max - scale.min) * ndtr(x + LIKERT_SHIFT)
    return scale.min + scale.max - y if reverse else y


def _answers(q: Questionnaire, pm: PopulationModel, n: int, rng: np.random.Generator) -> np.ndarray:
    x = _latent_responses(pm, n, rng)
    out = np.empty_like(x)
    for j, item in enumerate(pm.items):
        out[:, j] = _answer(x[:, j], pm.scales[item], q.items[item].reverse)
    return out


def _demographic_probabilities(k: int) -> np.ndarray:
    """``0.75 * Binomial(k - 1, 0.45) + 0.25 / k``: unequal, humped, no empty category."""
    binom = np.array([math.comb(k - 1, i) * 0.45**i * 0.55 ** (k - 1 - i) for i in range(k)])
    return 0.75 * binom + 0.25 / k


def _durations(n: int, floor: float, rng: np.random.Generator) -> np.ndarray:
    """Seconds, log-normal with median max(420, 3 * floor) and log-SD 0.35; all above ``floor``."""
    median = max(_DURATION_MEDIAN, 3.0 * floor)
    out = np.round(median * np.exp(_DURATION_SIGMA * rng.standard_normal(n)))
    low = out <= floor
    while low.any():
        out[low] = np.round(median * np.exp(_DURATION_SIGMA * rng.standard_normal(int(low.sum()))))
        low = out <= floor
    return out


@dataclass
class _Rows:
    """Rows under construction: float arrays with NaN for an empty cell, ids as strings."""

    ids: list[str | None]
    duration: np.ndarray
    demographics: np.ndarray
    items: np.ndarray
    kind: list[str]
    copies: list[int | None]


def _clean_rows(q: Questionnaire, pm: PopulationModel, n: int,
                streams: tuple[np.random.Generator, ...], with_background: bool,
                min_duration: float) -> _Rows:
    answer_rng, demo_rng, duration_rng = streams
    items = _answers(q, pm, n, answer_rng)
    demo = _draw_demographics(q, n, demo_rng) if with_background else np.empty((n, 0))
    duration = _durations(n, min_duration, duration_rng)
    return _Rows([None] * n, duration, demo, items, ["clean"] * n, [None] * n)


def _draw_demographics(q: Questionnaire, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n x demographics``: the position of each drawn code among its ``values`` (NaN when
    none are declared); :func:`_demographic_column` turns them into the codes."""
    out = np.full((n, len(q.model.demographics)), np.nan)
    for j, d in enumerate(q.model.demographics.values()):
        k = len(d.values)
        if k:
            out[:, j] = rng.choice(k, size=n, p=_demographic_probabilities(k))
    return out


def _demographic_column(codes: list[int | str], positions: np.ndarray) -> pd.Series:
    """The drawn codes: whole numbers as an integer column, text codes as text (empty cells
    where ``positions`` is NaN)."""
    if all(isinstance(c, int) for c in codes):
        values = np.full(positions.shape, np.nan)
        ok = ~np.isnan(positions)
        values[ok] = np.array(codes, dtype=float)[positions[ok].astype(int)]
        return _integer_column(values)
    return pd.Series([None if np.isnan(p) else codes[int(p)] for p in positions], dtype=object)


def _straight_values(pm: PopulationModel, top: bool) -> np.ndarray:
    """One answer repeated over every item: each scale's maximum, or its middle category."""
    values = []
    for item in pm.items:
        s = pm.scales[item]
        if s is None:
            values.append(1.0 if top else 0.0)
        elif top:
            values.append(s.min + _categories(s) - 1 if s.integer else s.max)
        else:
            values.append(s.min + (_categories(s) - 1) // 2 if s.integer else (s.min + s.max) / 2)
    return np.array(values)


FLAW_REASONS: dict[str, str] = {
    "duplicate_id": "repeats the respondent id of an earlier row (new answers)",
    "duplicate_answers": "repeats an earlier row's answers and demographics exactly (new id)",
    "straight_line_top": "gives every item the same answer (the scale maximum)",
    "straight_line_middle": "gives every item the same answer (the middle category)",
    "too_fast": "took less than screening.min_duration seconds",
    "too_many_missing": "leaves more than screening.max_missing of the items unanswered",
    "no_answers": "answers no item (id, duration and demographics only)",
    "blank": "is completely empty",
}
"""The deliberately flawed rows of ``simulate_responses(..., flawed=True)`` and why each is
excluded; the CSV writer does not mark them (screening has to find them)."""


def _flaw_kinds(q: Questionnaire, with_background: bool) -> list[str]:
    s = q.model.screening
    kinds = []
    if with_background and s.id_column:
        kinds.append("duplicate_id")
    if s.duplicate_answers:
        kinds.append("duplicate_answers")
    if s.straightlining and len(q.items) > 1:
        kinds += ["straight_line_top", "straight_line_middle"]
    if with_background and s.duration_column and s.min_duration:
        kinds += ["too_fast", "too_fast"]
    if s.max_missing < 1 and math.floor(s.max_missing * len(q.items)) + 1 < len(q.items):
        kinds.append("too_many_missing")
    kinds += ["no_answers", "blank"]
    return kinds


def _insert_flaws(q: Questionnaire, pm: PopulationModel, clean: _Rows, rng: np.random.Generator,
                  with_background: bool, min_duration: float) -> _Rows:
    """Insert the flawed rows at random positions; duplicates follow the row they copy."""
    kinds = _flaw_kinds(q, with_background)
    n_total = len(clean.kind) + len(kinds)
    fresh = _answers(q, pm, len(kinds), rng)
    fresh_demo = (_draw_demographics(q, len(kinds), rng) if with_background
                  else np.empty((len(kinds), 0)))
    fresh_duration = _durations(len(kinds), min_duration, rng)
    flaw_pos = np.sort(rng.choice(np.arange(1, n_total), size=len(kinds), replace=False))
    order = rng.permutation(len(kinds))  # which flaw goes to which position
    is_flaw = np.zeros(n_total, dtype=bool)
    is_flaw[flaw_pos] = True
    clean_index = np.cumsum(~is_flaw) - 1  # clean row at each position (or the one before)

    ids: list[str | None] = []
    duration = np.full(n_total, np.nan)
    demo = np.full((n_total, clean.demographics.shape[1]), np.nan)
    items = np.full((n_total, clean.items.shape[1]), np.nan)
    kind_at: list[str] = []
    copies: list[int | None] = [None] * n_total
    width = max(4, len(str(n_total)))
    flaw_at = dict(zip(flaw_pos.tolist(), order.tolist(), strict=True))
    for p in range(n_total):
        ids.append(f"R{p + 1:0{width}d}")
        if p not in flaw_at:
            c = clean_index[p]
            duration[p], demo[p] = clean.duration[c], clean.demographics[c]
            items[p] = clean.items[c]
            kind_at.append("clean")
            continue
        f = flaw_at[p]
        kind = kinds[f]
        kind_at.append(kind)
        duration[p], demo[p], items[p] = fresh_duration[f], fresh_demo[f], fresh[f]
        earlier = [e for e in range(p) if kind_at[e] == "clean"]
        if kind == "duplicate_id":
            copies[p] = int(rng.choice(earlier))
            ids[p] = ids[copies[p]]
        elif kind == "duplicate_answers":
            complete = [e for e in earlier if not np.isnan(items[e]).any()] or earlier
            copies[p] = int(rng.choice(complete))
            demo[p], items[p] = demo[copies[p]], items[copies[p]]
        elif kind.startswith("straight_line"):
            items[p] = _straight_values(pm, top=kind.endswith("top"))
        elif kind == "too_fast":
            duration[p] = math.floor(min_duration * rng.uniform(0.25, 0.75))
        elif kind == "too_many_missing":
            n_items = items.shape[1]
            share = (q.model.screening.max_missing + 1) / 2
            k = min(n_items - 1, max(math.floor(q.model.screening.max_missing * n_items) + 1,
                                     round(share * n_items)))
            items[p, rng.choice(n_items, size=k, replace=False)] = np.nan
        elif kind == "no_answers":
            items[p] = np.nan
        elif kind == "blank":
            ids[p] = None
            duration[p] = np.nan
            demo[p] = np.nan
            items[p] = np.nan
    return _Rows(ids, duration, demo, items, kind_at, copies)


def _integer_column(values: np.ndarray) -> pd.Series:
    if np.isnan(values).any():
        return pd.Series(values).astype("Int64")
    return pd.Series(values.astype(np.int64))


def simulate_responses(
    q: Questionnaire,
    n: int,
    seed: int | None = None,
    *,
    population: Population | None = None,
    missing: float | None = None,
    demographics: bool = True,
    flawed: bool = False,
) -> pd.DataFrame:
    """Draw ``n`` respondents' answers from the questionnaire's population model.

    Parameters
    ----------
    q:
        The questionnaire.
    n:
        Number of (clean) respondents, at least 1.
    seed:
        Seed of ``numpy.random.default_rng``; the same seed gives an identical frame.
        Answers, missingness, demographics, durations and flawed rows each use
        their own child stream, so e.g. ``missing`` does not change the answers.
    population:
        Population values; ``None`` takes ``q.model.population``.
    missing:
        Share of the clean rows' item answers deleted completely at random
        (exactly ``round(missing * n * items)`` cells); ``None`` takes
        ``population.missing``.
    demographics:
        Add the background columns: ``screening.id_column`` (``R0001``, ...),
        ``screening.duration_column`` (seconds; log-normal, median 7 minutes
        (or 3 x ``min_duration`` if larger), log-SD 0.35, all above
        ``min_duration``), and each demographic (codes drawn with
        probabilities ``0.75 * Binomial(k - 1, 0.45) + 0.25 / k`` over its ``k``
        codes in file order; whole-number codes as integers, text codes as text).
    flawed:
        Insert rows that the questionnaire's screening rules exclude (see
        :data:`FLAW_REASONS`): a repeated respondent id, a repeated answer
        pattern, two straight-liners, two too-fast rows, a row missing more
        than ``max_missing`` of its answers, a row without item answers and a
        blank row (9 rows with the built-in questionnaire). Rules that are
        switched off or lack their column are skipped. They go to random
        positions (never the first row); a copy always comes after its original.

    Returns
    -------
    pandas.DataFrame
        Columns: id, duration, demographics, then the items in questionnaire
        order, named by ``q.column_for``. Answers are written as respondents
        give them (reverse-worded items reversed, see the module docstring);
        integer-scale columns are ``int64``, or ``Int64`` when they hold
        missing values; the id column holds strings. With ``flawed=True``,
        ``df.attrs["flawed_rows"]`` lists the inserted rows as
        ``{"row": index, "kind": key of FLAW_REASONS, "copies": index or None}``
        (pandas does not write ``attrs`` to files).

    Raises
    ------
    InputError
        ``n < 1``, ``missing`` outside [0, 1), a bad ``population`` block (see
        :func:`population_model`), or two columns with the same name.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n: expected a positive whole number of respondents, found {n!r}")
    pop = population if population is not None else q.model.population
    share = pop.missing if missing is None else float(missing)
    if not 0 <= share < 1:
        raise InputError(f"missing: expected a share of answers in [0, 1), found {missing}")
    pm = population_model(q, pop)
    screening = q.model.screening
    min_duration = float(screening.min_duration or 0.0)

    answer_rng, missing_rng, demo_rng, duration_rng, flaw_rng = np.random.default_rng(seed).spawn(5)
    rows = _clean_rows(q, pm, int(n), (answer_rng, demo_rng, duration_rng), demographics,
                       min_duration)
    n_cells = rows.items.size
    k = round(share * n_cells)
    if k:
        flat = rows.items.reshape(-1)
        flat[missing_rng.choice(n_cells, size=k, replace=False)] = np.nan
    if flawed:
        rows = _insert_flaws(q, pm, rows, flaw_rng, demographics, min_duration)
    elif demographics:
        width = max(4, len(str(n)))
        rows.ids = [f"R{i + 1:0{width}d}" for i in range(n)]

    columns: list[tuple[str, pd.Series]] = []
    if demographics:
        if screening.id_column:
            columns.append((screening.id_column, pd.Series(rows.ids, dtype="str")))
        if screening.duration_column:
            columns.append((screening.duration_column, _integer_column(rows.duration)))
        for j, (did, d) in enumerate(q.model.demographics.items()):
            columns.append((q.column_for(did),
                            _demographic_column(list(d.values), rows.demographics[:, j])))
    for j, item in enumerate(pm.items):
        scale = pm.scales[item]
        values = rows.items[:, j]
        integral = scale is not None and scale.integer and float(scale.min).is_integer()
        columns.append((q.column_for(item), _integer_column(values) if integral
                        else pd.Series(values)))
    names = [name for name, _ in columns]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(
            f"column name(s) {', '.join(map(repr, twice))} would appear twice in the simulated "
            "data; give the id, duration, demographic and item columns distinct names "
            "(screening:, columns:)", file=q.origin,
        )
    df = pd.DataFrame(dict(columns))
    if flawed:
        df.attrs["flawed_rows"] = [
            {"row": p, "kind": kind, "copies": rows.copies[p]}
            for p, kind in enumerate(rows.kind) if kind != "clean"
        ]
    return df


def write_responses(df: pd.DataFrame, path: str | Path) -> None:
    """Write simulated responses to ``.csv`` (UTF-8, no index) or ``.xlsx``, atomically.

    The file is written to a temporary name in the same folder and renamed,
    so a failed write leaves no half-written file. Missing answers are empty cells.

    Raises
    ------
    InputError
        ``path`` ends in neither ``.csv`` nor ``.xlsx``, or cannot be written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        def writer(tmp: Path) -> None:
            df.to_csv(tmp, index=False, encoding="utf-8")
    elif suffix == ".xlsx":
        def writer(tmp: Path) -> None:
            df.to_excel(tmp, index=False, engine="openpyxl")
    else:
        raise InputError(
            f"cannot write {suffix or 'a file without extension'}: expected .csv or .xlsx",
            file=target,
        )
    try:
        write_with(target, writer)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", file=target) from None
