"""Ordinal items: polychoric correlations, DWLS with robust SEs and the WLSMV test.

lavaan's ``sem(model, data, ordered = TRUE, estimator = "WLSMV")`` in three steps
(Muthén 1984; Muthén, du Toit & Spisic 1997):

1. **Thresholds** of item j with categories 1..K: ``τ_jk = Φ⁻¹(P(y_j ≤ k))``,
   k = 1..K−1 (``lav_uvord_th``).
2. **Polychoric correlation** of items i, j: the ρ maximising
   ``Σ_ab n_ab log π_ab(ρ)`` with the thresholds fixed, where
   ``π_ab = Φ₂(τ_ia, τ_jb; ρ) − Φ₂(τ_i,a−1, τ_jb; ρ) − Φ₂(τ_ia, τ_j,b−1; ρ)
   + Φ₂(τ_i,a−1, τ_j,b−1; ρ)``
   (Olsson 1979, two-step; ``lav_bvord_cor_twostep_fit``; cells below
   ``√ε`` floored there as lavaan does); Φ₂ by Genz's (2004) algorithm, as
   the ``pbivnorm`` lavaan calls.
3. **Asymptotic covariance** Γ of ``√N s``, ``s = (τ, vech*(R))``
   (thresholds, then the correlations below the diagonal column by column):
   with the casewise scores ``g_i`` of the univariate (thresholds) and
   bivariate (correlations) log-likelihoods, ``A₁₁`` the per-item blocks of
   ``Σᵢ gᵢgᵢᵀ`` for the thresholds, ``A₂₂`` the diagonal of it for the
   correlations, ``A₂₁`` the cross-products of the correlation scores with the
   bivariate threshold scores and
   ``B⁻¹ = [[A₁₁⁻¹, 0], [−A₂₂⁻¹A₂₁A₁₁⁻¹, A₂₂⁻¹]]``,
   ``Γ = N B⁻¹ (Σᵢ gᵢgᵢᵀ) B⁻ᵀ`` (``muthen1984``).

The model is fitted in the delta parameterisation: the latent responses y*
have unit variances, so the residual variances of the items are not free
(``θ_jj = 1 − [ΛΨΛᵀ]_jj``), thresholds are free, intercepts 0; the
model-implied ``σ(θ) = (τ, vech*(Σ*(θ)))``. With ``W = diag(Γ)⁻¹``:

- estimates minimise ``F = (s − σ(θ))ᵀ W (s − σ(θ))`` (DWLS; Gauss-Newton),
- ``vcov = E⁻¹ (Δᵀ W Γ W Δ) E⁻¹ / (N − 1)`` with ``Δ = ∂σ/∂θᵀ``,
  ``E = ΔᵀWΔ`` (``se = "robust.sem"``, ``lav_model_nvcov_robust_sem``;
  lavaan divides by ``N − 1`` for estimators without a likelihood),
- ``T = (N − 1) F`` (lavaan's ``fmin = ½ (N − 1)/N · F`` for least-squares
  estimators, ``T = 2 N fmin``); with ``U = W − WΔE⁻¹ΔᵀW``, ``a = sqrt(df / tr((UΓ)²))``,
  ``b = df − a tr(UΓ)``: the scaled-and-shifted statistic ``T* = a T + b`` on
  ``df`` degrees of freedom, scaling factor ``1/a`` (Asparouhov & Muthén
  2010; lavaan ``test = "scaled.shifted"``, the WLSMV default).

Fit measures as ``fitMeasures()`` reports them for WLSMV: CFI/TLI/NFI/IFI
from T and the baseline ``T₀ = (N − 1) Σ w r²`` (thresholds free,
correlations 0), the scaled ones from ``T*`` and the baseline's own ``T₀*``;
RMSEA (interval, close-fit test) with ``N − 1`` in place of N (lavaan's
``lav_utils_get_ntotal`` for estimators without a likelihood),
``rmsea_scaled`` from ``T*``;
``srmr = sqrt(Σ_{i<j} (r_ij − ρ̂_ij)² / (p(p−1)/2 + p))``
(``srmr_bentler_nomean``); ``gfi = 1 − eᵀWe / sᵀWs`` over thresholds and
correlations, ``agfi`` with ``nth + p(p−1)/2`` moments; no AIC/BIC (no
likelihood: NaN, lavaan's NA). The robust CFI/TLI/RMSEA lavaan also prints
for WLSMV (its ``catML`` approach) are not computed.

Scope: every observed variable of the model is an ordered item, none is an
observed exogenous covariate or a predictor of another variable, complete
rows (listwise deletion first).

Examples
--------
>>> from sem_kit.estimators.wlsmv import fit_wlsmv               # doctest: +SKIP
>>> res = fit_wlsmv(model, likert_answers)             # doctest: +SKIP
>>> res.measures["chisq_scaled"], res.params           # doctest: +SKIP

In R: ``sem(model, data, ordered = TRUE, estimator = "WLSMV")``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize_scalar
from scipy.special import ndtr, ndtri
from scipy.stats import chi2

from sem_kit.engine.algebra import sd_of, with_standard_errors
from sem_kit.engine.bivariate_normal import bivariate_normal_cdf, bivariate_normal_density
from sem_kit.engine.fit import EstimatorFit, moments_frame, negative_variances, vcov_frame
from sem_kit.engine.fit_indices import FitStatistics, ScaledTest, assemble_fit, rmsea
from sem_kit.engine.optimizer import Optimum, fisher_scoring
from sem_kit.engine.ram import compile_model, moments, param_jacobian, row_values
from sem_kit.engine.standardize import r_squared, standardize
from sem_kit.engine.syntax import ModelSpec, specify
from sem_kit.engine.threads import single_blas_thread
from sem_kit.engine.tolerances import (
    POLYCHORIC_RTOL,
    POLYCHORIC_XATOL,
    POLYCHORIC_XTOL,
    WLSMV_SCORING,
)
from sem_kit.errors import InputError
from sem_kit.estimators.ml import fit_to_moments, simple_start

__all__ = [
    "OrdinalStats",
    "fit_wlsmv",
    "ordinal_statistics",
    "polychoric",
    "scaled_shifted",
]

#: lavaan's stand-in for an infinite threshold (``lav_uvord_update_fit``).
_BIG = 100.0
_SQRT_EPS = math.sqrt(np.finfo(float).eps)

# --------------------------------------------------------------------------- step 1 and 2


def _thresholds(codes: np.ndarray, ncat: int) -> np.ndarray:
    """``Φ⁻¹`` of the cumulative proportions of categories 0..ncat−2."""
    freq = np.bincount(codes, minlength=ncat)
    return ndtri(np.cumsum(freq)[:-1] / freq.sum())


def _cell_probabilities(t1: np.ndarray, t2: np.ndarray, rho: float) -> np.ndarray:
    """``π_ab(ρ)``, ``(K₁, K₂)``, floored at √ε (``lav_bvord_noexo_pi``)."""
    if rho == 0.0:
        return np.outer(np.diff(np.concatenate([[0.0], ndtr(t1), [1.0]])),
                        np.diff(np.concatenate([[0.0], ndtr(t2), [1.0]])))
    grid = bivariate_normal_cdf(t1[:, None] * np.ones((1, t2.size)),
                                np.ones((t1.size, 1)) * t2[None, :], rho)
    cum = np.zeros((t1.size + 2, t2.size + 2))
    cum[1:-1, 1:-1] = grid
    cum[-1, 1:-1] = ndtr(t2)
    cum[1:-1, -1] = ndtr(t1)
    cum[-1, -1] = 1.0
    pi = cum[1:, 1:] - cum[1:, :-1] - cum[:-1, 1:] + cum[:-1, :-1]
    return np.maximum(pi, _SQRT_EPS)


def _cell_rho_derivatives(t1: np.ndarray, t2: np.ndarray, rho: float) -> np.ndarray:
    """``∂π_ab/∂ρ``: φ₂ at the four corners (``lav_bvord_noexo_phi_cache``)."""
    dens = bivariate_normal_density(t1[:, None], t2[None, :], rho)
    corner = np.zeros((t1.size + 2, t2.size + 2))
    corner[1:-1, 1:-1] = dens
    return corner[1:, 1:] - corner[1:, :-1] - corner[:-1, 1:] + corner[:-1, :-1]


def polychoric(table: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> float:
    """Two-step ML polychoric correlation of a contingency table.

    Parameters
    ----------
    table:
        ``(K₁, K₂)`` counts.
    t1, t2:
        The items' thresholds (held fixed).

    Returns
    -------
    float
        ρ in [−0.999, 0.999] maximising ``Σ n_ab log π_ab(ρ)``.

    Notes
    -----
    Olsson (1979). lavaan ``lav_bvord_cor_twostep_fit`` (``nlminb`` within
    ±0.999); here the root of the score ``Σ n_ab (∂π_ab/∂ρ)/π_ab`` by Brent's
    method, or the bounded maximum when the score does not change sign. In R:
    ``lavCor(data, ordered = names(data))``.
    """
    table = np.asarray(table, dtype=float)

    def score(rho: float) -> float:
        return float(np.sum(table * _cell_rho_derivatives(t1, t2, rho)
                            / _cell_probabilities(t1, t2, rho)))

    lo, hi = -0.999, 0.999
    s_lo, s_hi = score(lo), score(hi)
    if s_lo > 0 > s_hi:
        return float(brentq(score, lo, hi, xtol=POLYCHORIC_XTOL,
                             rtol=POLYCHORIC_RTOL, maxiter=200))

    def negloglik(rho: float) -> float:
        return -float(np.sum(table * np.log(_cell_probabilities(t1, t2, rho))))

    res = minimize_scalar(negloglik, bounds=(lo, hi), method="bounded",
                          options={"xatol": POLYCHORIC_XATOL})
    return float(res.x)


# --------------------------------------------------------------------------- step 3


@dataclass(frozen=True)
class OrdinalStats:
    """Sample statistics of ordered items for WLS estimation (lavaan's ``lavSampleStats``).

    Attributes
    ----------
    names:
        Items, in model order.
    levels:
        Per item, the answer values in order (category k is ``levels[k]``).
    thresholds:
        Per item, its K−1 thresholds.
    threshold_names:
        ``item|t1``, ``item|t2``, ... (lavaan's names).
    cor:
        Polychoric correlation matrix, ``(p, p)``.
    wls_obs:
        ``s = (τ, vech*(R))``: thresholds item by item, then the correlations
        below the diagonal column by column.
    nacov:
        Γ, N times the asymptotic covariance matrix of ``s``
        (``lavInspect(fit, "gamma")``).
    n:
        Rows.
    """

    names: tuple[str, ...]
    levels: tuple[tuple[float, ...], ...]
    thresholds: tuple[np.ndarray, ...]
    threshold_names: tuple[str, ...]
    cor: np.ndarray
    wls_obs: np.ndarray
    nacov: np.ndarray
    n: int

    @property
    def nth(self) -> int:
        """Number of thresholds."""
        return int(sum(t.size for t in self.thresholds))

    def subset(self, names: list[str] | tuple[str, ...]) -> OrdinalStats:
        """The statistics of some of the items, in the order of ``names``.

        Thresholds, polychoric correlations and their asymptotic covariances
        do not depend on the other items (each comes from a univariate or
        bivariate likelihood), so the statistics of a model with fewer items
        are the matching rows and columns of these.

        Raises
        ------
        InputError
            A name that is not among the items.
        """
        names = list(names)
        unknown = [v for v in names if v not in self.names]
        if unknown:
            raise InputError("the ordinal sample statistics have no item " + ", ".join(unknown))
        pos = [self.names.index(v) for v in names]
        start = np.cumsum([0] + [t.size for t in self.thresholds])
        th_idx = [k for i in pos for k in range(start[i], start[i + 1])]
        p_all = len(self.names)
        all_pairs = [(a, b) for b in range(p_all) for a in range(b + 1, p_all)]
        pair_index = {}
        for idx, (a, b) in enumerate(all_pairs):
            pair_index[(a, b)] = pair_index[(b, a)] = idx
        pairs = [pair_index[(pos[i], pos[j])] for j in range(len(pos))
                 for i in range(j + 1, len(pos))]
        keep = np.array(th_idx + [start[-1] + k for k in pairs], dtype=int)
        return OrdinalStats(
            names=tuple(names),
            levels=tuple(self.levels[i] for i in pos),
            thresholds=tuple(self.thresholds[i] for i in pos),
            threshold_names=tuple(self.threshold_names[k] for k in th_idx),
            cor=self.cor[np.ix_(pos, pos)],
            wls_obs=self.wls_obs[keep],
            nacov=self.nacov[np.ix_(keep, keep)],
            n=self.n,
        )


def _codes(data: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    codes = np.empty((len(data), len(names)), dtype=int)
    levels: list[tuple[float, ...]] = []
    for j, name in enumerate(names):
        col = data[name]
        if not pd.api.types.is_numeric_dtype(col):
            raise InputError(f"non-numeric data in column {name}; expected answer codes")
        values = col.to_numpy(dtype=float)
        if np.isnan(values).any():
            raise InputError(f"missing values in column {name}; WLSMV needs complete rows "
                             "(listwise deletion comes first)")
        lev, inv = np.unique(values, return_inverse=True)
        if lev.size < 2:
            raise InputError(f"column {name} has only one answer value ({lev[0]:g}); an "
                             "ordered item needs at least two categories")
        codes[:, j] = inv
        levels.append(tuple(float(v) for v in lev))
    return codes, levels


def _threshold_part(z: np.ndarray, b_up: np.ndarray, b_low: np.ndarray,
                    rho: float) -> np.ndarray:
    """``∂Φ₂(z, ·)/∂z`` between the other item's thresholds: ``φ(z) (Φ((b_up − ρz)/R) −
    Φ((b_low − ρz)/R))``, ``R = sqrt(1 − ρ²)`` (``lav_bvord_cor_scores_cache``)."""
    r = math.sqrt(1.0 - rho * rho)
    return (np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
            * (ndtr((b_up - rho * z) / r) - ndtr((b_low - rho * z) / r)))


def ordinal_statistics(data: pd.DataFrame, names: list[str] | tuple[str, ...]) -> OrdinalStats:
    """Thresholds, polychoric correlations and their asymptotic covariance matrix.

    Parameters
    ----------
    data:
        Complete rows; the items' answers (numbers; their distinct values,
        sorted, are the categories, as R's ``ordered()`` makes them).
    names:
        The items, in the order of the statistics.

    Returns
    -------
    OrdinalStats
        Steps 1-3 of the module docstring.

    Raises
    ------
    InputError
        Missing, non-numeric or constant columns.

    Notes
    -----
    lavaan ``lav_samplestats_step1``, ``lav_samplestats_step2``,
    ``muthen1984``. In R: ``lavInspect(fit, "sampstat")`` and
    ``lavInspect(fit, "gamma")`` of ``sem(..., ordered = TRUE, estimator =
    "WLSMV")``.
    """
    names = list(names)
    codes, levels = _codes(data, names)
    n, p = codes.shape
    ncat = [len(lev) for lev in levels]
    taus = [_thresholds(codes[:, j], ncat[j]) for j in range(p)]
    th_names = [f"{names[j]}|t{k + 1}" for j in range(p) for k in range(taus[j].size)]
    start = np.cumsum([0] + [t.size for t in taus])
    nth = int(start[-1])

    # univariate threshold scores (lav_uvord_scores)
    sc_th = np.zeros((n, nth))
    for j in range(p):
        ext = np.concatenate([[-_BIG], taus[j], [_BIG]])
        probs = ndtr(ext[1:]) - ndtr(ext[:-1])
        pi_i = probs[codes[:, j]]
        dens = np.exp(-0.5 * taus[j] ** 2) / math.sqrt(2 * math.pi)
        for k in range(taus[j].size):
            sc_th[:, start[j] + k] = ((codes[:, j] == k) * dens[k]
                                      - (codes[:, j] == k + 1) * dens[k]) / pi_i

    cor = np.eye(p)
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
    sc_cor = np.zeros((n, len(pairs)))
    a21 = np.zeros((len(pairs), nth))
    for idx, (i, j) in enumerate(pairs):
        table = np.zeros((ncat[i], ncat[j]))
        np.add.at(table, (codes[:, i], codes[:, j]), 1.0)
        rho = polychoric(table, taus[i], taus[j])
        cor[i, j] = cor[j, i] = rho
        pi = _cell_probabilities(taus[i], taus[j], rho)
        dpi = _cell_rho_derivatives(taus[i], taus[j], rho)
        lik = pi[codes[:, i], codes[:, j]]
        sc_cor[:, idx] = dpi[codes[:, i], codes[:, j]] / lik
        # bivariate threshold scores of item i (y1) and item j (y2)
        for first, second in ((i, j), (j, i)):
            t_a = np.concatenate([[-_BIG], taus[first], [_BIG]])
            t_b = np.concatenate([[-_BIG], taus[second], [_BIG]])
            ca, cb = codes[:, first], codes[:, second]
            up, low = t_a[ca + 1], t_a[ca]
            b_up, b_low = t_b[cb + 1], t_b[cb]
            z_up = _threshold_part(up, b_up, b_low, rho)
            z_low = _threshold_part(low, b_up, b_low, rho)
            for k in range(taus[first].size):
                dx = ((ca == k) * z_up - (ca == k + 1) * z_low) / lik
                a21[idx, start[first] + k] = np.sum(sc_cor[:, idx] * dx)

    sc = np.column_stack([sc_th, sc_cor])
    inner = sc.T @ sc
    a11 = np.zeros((nth, nth))
    for j in range(p):
        block = slice(start[j], start[j + 1])
        a11[block, block] = inner[block, block]
    a11_inv = np.linalg.inv(a11)
    a22_inv = np.diag(1.0 / np.sum(sc_cor * sc_cor, axis=0))
    b_inv = np.zeros((nth + len(pairs), nth + len(pairs)))
    b_inv[:nth, :nth] = a11_inv
    b_inv[nth:, :nth] = -a22_inv @ a21 @ a11_inv
    b_inv[nth:, nth:] = a22_inv
    nacov = n * (b_inv @ inner @ b_inv.T)
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    wls_obs = np.concatenate([np.concatenate(taus), cor[list(rows), list(cols)]])
    return OrdinalStats(tuple(names), tuple(levels), tuple(taus), tuple(th_names), cor,
                        wls_obs, nacov, n)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class _DeltaModel:
    """The covariance structure with the items' residual variances fixed (delta
    parameterisation) and one free threshold per sample threshold."""

    spec: ModelSpec  # the user's model
    structure: ModelSpec  # the same with ordered items' residual variances not free
    residual_rows: np.ndarray  # rows of structure.partable that are those variances
    rows: np.ndarray  # vech* row indices
    cols: np.ndarray
    nth: int

    @property
    def q_struct(self) -> int:
        return self.structure.npar

    @property
    def q(self) -> int:
        return self.structure.npar + self.nth

    def implied(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(σ(θ), Σ*, C, values)``: the moments vector, the implied correlations of y*,
        the covariances of all variables and the parameter-table values (residual
        variances set to ``1 − [ΛΨΛᵀ]_jj``)."""
        comp = compile_model(self.structure)
        p = len(self.spec.observed)
        values = row_values(comp, theta[: self.q_struct], np.zeros((p, p)))
        c, _ = moments(comp.ram, values)
        pt = self.structure.partable
        pos = {v: i for i, v in enumerate(self.spec.observed)}
        for r in self.residual_rows:
            values[r] = 1.0 - c[pos[pt.lhs.iat[r]], pos[pt.lhs.iat[r]]]
        c, _ = moments(comp.ram, values)
        sigma = c[:p, :p]
        sigma_star = sigma.copy()
        np.fill_diagonal(sigma_star, 1.0)
        sig = np.concatenate([theta[self.q_struct:], sigma[self.rows, self.cols]])
        return sig, sigma_star, c, values

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``Δ = ∂σ/∂θᵀ``: the correlations' derivatives, identity for the thresholds."""
        comp = compile_model(self.structure)
        _, _, _, values = self.implied(theta)
        c, b = moments(comp.ram, values)
        jac = param_jacobian(comp, b, c)[:, self.rows, self.cols].T
        out = np.zeros((self.nth + self.rows.size, self.q))
        out[: self.nth, self.q_struct:] = np.eye(self.nth)
        out[self.nth:, : self.q_struct] = jac
        return out


def _delta_model(spec: ModelSpec, nth: int) -> _DeltaModel:
    if spec.x_vars:
        raise InputError("WLSMV here needs every observed variable to be an ordered item; "
                         "observed exogenous covariates (" + ", ".join(spec.x_vars)
                         + ") are not supported")
    pt = spec.partable
    predictors = set(pt.rhs[pt.op == "~"]) | set(pt.lhs[pt.op == "=~"])
    bad = [v for v in spec.observed if v in predictors]
    if bad:
        raise InputError("WLSMV here treats observed variables as ordered outcomes only; "
                         + ", ".join(bad) + " predict(s) other variables")
    new = pt.copy()
    residual = ((new.op == "~~") & (new.lhs == new.rhs) & new.lhs.isin(spec.observed))
    new.loc[residual, "free"] = 0
    new.loc[residual, "ustart"] = 0.0
    # renumber the free parameters, rows sharing a label keep sharing an index
    mapping: dict[int, int] = {}
    for old in new["free"]:
        if old and old not in mapping:
            mapping[old] = len(mapping) + 1
    new["free"] = [mapping.get(f, 0) for f in new["free"]]
    npar = len(mapping)
    p = len(spec.observed)
    structure = dataclasses.replace(spec, partable=new, npar=npar,
                                     df=p * (p - 1) // 2 - npar, semopy_syntax="")
    structure.__dict__.pop("_compiled", None)
    cols, rows = np.triu_indices(p, k=1)
    return _DeltaModel(spec, structure, np.flatnonzero(residual.to_numpy()), rows, cols, nth)


def _start(model: _DeltaModel, stats: OrdinalStats) -> np.ndarray:
    """ML estimates for the polychoric matrix as a covariance matrix, minus the residual
    variances; the sample thresholds."""
    spec = model.spec
    comp = compile_model(spec)
    opt = fit_to_moments(comp, stats.cor, simple_start(spec, stats.cor))
    full = opt.theta if np.all(np.isfinite(opt.theta)) else simple_start(spec, stats.cor)
    theta = np.zeros(model.q)
    old = spec.partable["free"].to_numpy()
    new = model.structure.partable["free"].to_numpy()
    for o, nw in zip(old, new, strict=True):
        if o and nw:
            theta[nw - 1] = full[o - 1]
    theta[model.q_struct:] = np.concatenate(stats.thresholds)
    return theta


def _gauss_newton(model: _DeltaModel, s: np.ndarray, w: np.ndarray,
                  theta0: np.ndarray) -> Optimum:
    """Minimise ``(s − σ)ᵀ W (s − σ)`` (W diagonal) by Gauss-Newton with step halving.

    Gauss-Newton is Fisher scoring with information ``2ΔᵀWΔ`` and gradient
    ``−2ΔᵀW(s − σ)``, ``Δ = ∂σ/∂θ``.
    """

    def value(th: np.ndarray) -> float:
        sig = model.implied(th)[0]
        return float(np.sum(w * (s - sig) ** 2))

    def score(th: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        sig = model.implied(th)[0]
        delta = model.jacobian(th)
        wd = delta * w[:, None]
        return float(np.sum(w * (s - sig) ** 2)), -2.0 * wd.T @ (s - sig), 2.0 * (delta.T @ wd)

    return fisher_scoring(score, theta0, WLSMV_SCORING, value=value)


# --------------------------------------------------------------------------- test statistic


def scaled_shifted(t: float, df: int, delta: np.ndarray, w: np.ndarray,
                   gamma: np.ndarray) -> dict[str, float]:
    """Mean-and-variance adjusted (scaled and shifted) test statistic.

    ``U = W − WΔ(ΔᵀWΔ)⁻¹ΔᵀW``, ``a = sqrt(df / tr((UΓ)²))``,
    ``b = df − a tr(UΓ)``, ``T* = a T + b`` on ``df`` degrees of freedom.

    Parameters
    ----------
    t:
        The unscaled statistic (``(N − 1) F``).
    df:
        Degrees of freedom.
    delta:
        ``∂σ/∂θᵀ``.
    w:
        Diagonal of the DWLS weight matrix.
    gamma:
        Γ (NACOV).

    Returns
    -------
    dict
        ``stat, df, pvalue, scaling_factor`` (``1/a``), ``shift_parameter``
        (``b``), ``trace_ugamma``, ``trace_ugamma2``.

    Notes
    -----
    Asparouhov & Muthén (2010), *Simple second order chi-square correction*;
    lavaan ``lav_test_satorra_bentler(test = "scaled.shifted")``. In R:
    ``lavInspect(fit, "test")$scaled.shifted``.
    """
    wd = delta * w[:, None]
    e_inv = np.linalg.inv(delta.T @ wd)
    u = np.diag(w) - wd @ e_inv @ wd.T
    ug = u @ gamma
    tr1 = float(np.trace(ug))
    tr2 = float(np.sum(ug * ug.T))
    if df <= 0:
        return {"stat": t, "df": df, "pvalue": math.nan, "scaling_factor": math.nan,
                "shift_parameter": math.nan, "trace_ugamma": tr1, "trace_ugamma2": tr2}
    a = math.sqrt(df / tr2)
    shift = df - a * tr1
    stat = t * a + shift
    return {"stat": stat, "df": df, "pvalue": float(chi2.sf(stat, df)),
            "scaling_factor": 1.0 / a, "shift_parameter": shift, "trace_ugamma": tr1,
            "trace_ugamma2": tr2}


# --------------------------------------------------------------------------- entry point


def _params_table(model: _DeltaModel, stats: OrdinalStats, theta: np.ndarray,
                  values: np.ndarray, c: np.ndarray, se_theta: np.ndarray) -> pd.DataFrame:
    spec = model.spec
    pt = model.structure.partable
    p = len(spec.observed)
    obs, lat = list(spec.observed), list(spec.latent)
    total = np.diag(c)
    std_lv, std_all = standardize(pt.lhs, pt.op, pt.rhs, values, spec.latent, spec.observed,
                                  total[p:], total[:p])
    th = theta[model.q_struct:]
    th_item = [name.split("|")[0] for name in stats.threshold_names]
    th_label = [name.split("|")[1] for name in stats.threshold_names]
    n_th, n_extra = len(th), 2 * p + len(lat)
    nan = np.full(len(pt) + n_th + n_extra, np.nan)
    params = pd.DataFrame({
        "lhs": list(pt.lhs) + th_item + obs + obs + lat,
        "op": list(pt.op) + ["|"] * n_th + ["~*~"] * p + ["~1"] * (p + len(lat)),
        "rhs": list(pt.rhs) + th_label + obs + [""] * (p + len(lat)),
        "label": list(pt.label) + [""] * (n_th + n_extra),
        "free": list(pt["free"]) + list(range(model.q_struct + 1, model.q + 1))
        + [0] * n_extra,
        "exo": list(pt["exo"]) + [0] * (n_th + n_extra),
        "est": np.concatenate([values, th, np.ones(p), np.zeros(p + len(lat))]),
        "se": nan, "z": nan, "pvalue": nan,
        "std_lv": np.concatenate([std_lv, th, np.ones(p), np.zeros(p + len(lat))]),
        "std_all": np.concatenate([std_all, th, np.ones(p), np.zeros(p + len(lat))]),
    })
    params["free"] = params["free"].astype(int)
    return with_standard_errors(params, se_theta)


@single_blas_thread
def single_ordinal_indicators(spec: ModelSpec) -> dict[str, str]:
    """Latent variable -> its one observed indicator, for every latent measured by one item.

    Under WLSMV such a latent is not identified: the latent response's variance is 1
    (delta parameterization) and its residual variance is ``1 − λ²ψ``, not a parameter,
    so lavaan's ``auto.fix.single`` fixes nothing and the latent's (residual) variance
    and the item's residual trade off. lavaan 0.6-14 fits it and warns that the
    information matrix cannot be inverted (no standard errors, no robust test).
    """
    pt = spec.partable
    loads = pt[(pt.op == "=~") & pt.rhs.isin(spec.observed)]
    counts = pt[pt.op == "=~"].groupby("lhs").size()
    return {lv: str(loads.rhs[loads.lhs == lv].iloc[0]) for lv in counts.index
            if counts[lv] == 1 and (loads.lhs == lv).any()}


def _refuse_single_indicators(spec: ModelSpec) -> None:
    single = single_ordinal_indicators(spec)
    if single:
        listed = ", ".join(f"{lv} (measured by {item} alone)" for lv, item in single.items())
        raise InputError(
            f"WLSMV cannot identify a latent variable with a single ordinal indicator: "
            f"{listed}; the item's latent-response variance is fixed at 1 and cannot be split "
            "into the construct's variance and a residual (lavaan cannot invert the "
            "information matrix either); use ML or MLR, which fix the single item's residual "
            "variance at 0")


def fit_wlsmv(model: str | ModelSpec, data: pd.DataFrame | None, *,
              ordered: list[str] | tuple[str, ...] | None = None,
              stats: OrdinalStats | None = None) -> EstimatorFit:
    """Fit a model to ordered items by DWLS with robust SEs and the WLSMV test.

    Parameters
    ----------
    model:
        lavaan syntax or a :class:`~sem_kit.engine.syntax.ModelSpec`.
    data:
        Complete rows; the items' answer codes.
    ordered:
        Items to treat as ordered (default: all observed variables, lavaan's
        ``ordered = TRUE``); they must be all of them.
    stats:
        Sample statistics computed before (:func:`ordinal_statistics`) for
        these items or more, e.g. once for every item of a questionnaire and
        then used for the CFA and the structural model; ``data`` is then not
        read and may be None.

    Returns
    -------
    EstimatorFit
        ``estimator = "WLSMV"``; ``params`` with the thresholds (``op == "|"``,
        ``rhs`` ``t1``...), the items' residual variances (fixed, ``1 − R²``),
        scale factors (``~*~``, 1) and intercepts (``~1``, 0) as lavaan lists
        them; ``measures`` with DESIGN.md's FIT keys and ``chisq_scaled,
        df_scaled, pvalue_scaled, scaling_factor, cfi_scaled, tli_scaled,
        rmsea_scaled``; ``sample_cov`` the polychoric correlations,
        ``implied_cov`` the implied correlations of the latent responses;
        ``extra`` with the baseline statistics, ``shift_parameter`` and the
        DWLS ``fmin``.

    Raises
    ------
    InputError
        Bad data (missing, non-numeric or constant columns), observed
        covariates, items that predict other variables, an ``ordered`` list
        that is not every observed variable, or a model the data cannot
        identify.

    Notes
    -----
    Formulas in the module docstring. In R: ``sem(model, data, ordered =
    TRUE, estimator = "WLSMV")``.
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    obs = list(spec.observed)
    _refuse_single_indicators(spec)
    if ordered is not None and set(ordered) != set(obs):
        raise InputError("WLSMV here treats every observed variable of the model as ordered; "
                         "ordered = " + ", ".join(ordered) + " leaves out "
                         + ", ".join(sorted(set(obs) - set(ordered))))
    if stats is None:
        if data is None:
            raise InputError("fit_wlsmv needs the data or precomputed sample statistics")
        absent = [v for v in obs if v not in data.columns]
        if absent:
            raise InputError("the data have no column for observed variable(s) "
                             + ", ".join(absent))
        stats = ordinal_statistics(data, obs)
    else:
        stats = stats.subset(obs)
    dm = _delta_model(spec, stats.nth)
    n = stats.n
    s = stats.wls_obs
    gamma = stats.nacov
    w = 1.0 / np.diag(gamma)
    warnings: list[str] = list(spec.notes)
    sol = _gauss_newton(dm, s, w, _start(dm, stats))
    if not sol.converged:
        warnings.append(f"the DWLS optimiser did not converge ({sol.message}); estimates are "
                        "not a minimum of the DWLS function")
    theta = sol.theta
    sig, sigma_star, c, values = dm.implied(theta)
    delta = dm.jacobian(theta)
    wd = delta * w[:, None]
    try:
        e_inv = np.linalg.inv(delta.T @ wd)
    except np.linalg.LinAlgError as exc:
        raise InputError("the model is not identified with these data: the DWLS information "
                         f"matrix is singular ({exc})") from exc
    vcov = e_inv @ (wd.T @ gamma @ wd) @ e_inv / (n - 1)
    params = _params_table(dm, stats, theta, values, c, sd_of(vcov))
    improper = negative_variances(params, spec.latent)
    warnings += improper
    big = [(obs[i], obs[j]) for i, j in zip(dm.rows, dm.cols, strict=True)
           if abs(stats.cor[i, j]) > 0.99]
    for a, b in big:
        warnings.append(f"the polychoric correlation between {a} and {b} is (nearly) 1")

    p = len(obs)
    df = p * (p - 1) // 2 - dm.q_struct
    fx = float(np.sum(w * (s - sig) ** 2))
    t = (n - 1) * fx
    test = scaled_shifted(t, df, delta, w, gamma)
    # baseline: thresholds free, correlations zero
    nth = stats.nth
    r_obs = s[nth:]
    t0 = (n - 1) * float(np.sum(w[nth:] * r_obs**2))
    df0 = p * (p - 1) // 2
    delta0 = np.zeros_like(delta[:, :nth])
    delta0[:nth, :] = np.eye(nth)
    test0 = scaled_shifted(t0, df0, delta0, w, gamma)
    n_fit = n - 1  # lavaan's lav_utils_get_ntotal: N - 1 without a likelihood
    e = s - sig
    cor_res = (stats.cor - sigma_star)[dm.rows, dm.cols]
    measures = assemble_fit(FitStatistics(
        n=n, chisq=t, df=df, baseline_chisq=t0, baseline_df=df0,
        srmr=float(math.sqrt(np.sum(cor_res**2) / (cor_res.size + p))),
        gfi=1.0 - float(np.sum(w * e * e)) / float(np.sum(w * s * s)),
        nel=s.size, logl=math.nan, npar=dm.q, n_rmsea=n_fit,
        scaled=ScaledTest(test["stat"], df, test["pvalue"], test["scaling_factor"],
                          test0["stat"], rmsea(test["stat"], df, n_fit))))
    return EstimatorFit(
        estimator="WLSMV",
        missing="listwise",
        spec=spec,
        params=params,
        measures=measures,
        vcov=vcov_frame(vcov),
        theta=theta.copy(),
        n=n,
        npar=dm.q,
        df=df,
        r2=r_squared(params[params.op.isin(["=~", "~", "~~"])]),
        sample_cov=pd.DataFrame(stats.cor, index=obs, columns=obs),
        implied_cov=moments_frame(sigma_star, obs),
        converged=sol.converged,
        warnings=tuple(warnings),
        admissible=sol.converged and not improper,
        test={"standard": {"test": "standard", "stat": t, "df": df,
                           "pvalue": measures["pvalue"]},
              "scaled.shifted": {"test": "scaled.shifted", **test}},
        ml_fit=None,
        extra={"fmin": t / (2.0 * n), "baseline_chisq": t0, "baseline_df": df0,
               "baseline_chisq_scaled": test0["stat"],
               "shift_parameter": test["shift_parameter"], "iterations": sol.iterations},
    )
