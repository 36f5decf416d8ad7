"""Full-information maximum likelihood for missing answers, as lavaan's ``missing = "ml"``.

Every row with at least one answer contributes the likelihood of the answers it
has (Arbuckle 1996; Finkbeiner 1979). The rows are grouped by missing-data
pattern: pattern ``k`` has ``n_k`` rows observing the variables ``o_k``, with
mean ``ȳ_k`` and covariance ``S_k`` (``n_k`` divisor) over those variables, and

    log L(μ, Σ) = −½ Σ_k n_k (|o_k| log 2π + log|Σ_oo| + tr(Σ_oo⁻¹ (S_k + (ȳ_k − μ_o)(ȳ_k − μ_o)ᵀ)))

(lavaan ``lav_mvnorm_missing_loglik_samplestats``). Missing data need a mean
structure: as lavaan does with ``missing = "ml"``, every observed variable gets a
free intercept (``x ~1``) and every latent variable a mean fixed at 0, so
``μ = F (I − A)⁻¹ m`` with ``m`` the intercepts, next to ``Σ = F (I − A)⁻¹ P
(I − A)⁻ᵀ Fᵀ`` (RAM form, :mod:`sem_kit.engine.ram`).

Estimation
    Start from the ML fit to the EM estimate of the saturated moments, then
    Fisher scoring on ``F = −log L / N`` with the expected information of the
    incomplete data, ``(1/N) Σ_k n_k [½ tr(Σ_oo⁻¹ ∂Σ_oo Σ_oo⁻¹ ∂Σ_oo) + ∂μ_oᵀ Σ_oo⁻¹ ∂μ_o]``
    (lavaan ``lav_mvnorm_missing_information_expected``), until every
    component of ∂F/∂θ is below 1e-9.
Standard errors
    lavaan's default for ``missing = "ml"``: ``information = "observed"``, the
    Hessian H of F (lavaan differentiates its analytic gradient numerically,
    ``lav_model_hessian``; here the pattern sums are analytic and only the
    second derivatives of μ(θ) and Σ(θ) are differenced, which involves no
    data); ``vcov = H⁻¹ / N``.
Saturated model (h1)
    The EM algorithm of ``lav_mvnorm_missing_h1_estimate_moments`` (Dempster,
    Laird & Rubin 1977): same start (available-case means and variances, no
    covariances), same stopping rule (largest change of a mean or covariance
    below 1e-5, at most 500 steps).
Fit measures (``fitMeasures()`` under ``missing = "ml"``)
    ``chisq = 2 (log L_h1 − log L)``, ``df = p + p(p+1)/2 − q`` (means count);
    baseline = independence model with free means and variances fitted by
    FIML, whose estimates are each variable's available-case mean and ML
    variance; CFI, TLI, NFI, IFI, RMSEA (and its interval and close-fit test)
    with N the rows analysed; ``srmr`` as lavaan's ``srmr_bentler`` with the mean
    structure: ``sqrt((Σᵢ rᵢ² + Σ_{i≤j} r_ij²) / (p + p(p+1)/2))``, residuals of
    the model-implied means and covariances from the EM moments divided by the
    EM standard deviations; ``gfi = 1 − eᵀWe / sᵀWs`` with ``s`` sample moments
    ``(μ, vech Σ)``, ``e = s − (μ̂, vech Σ̂)`` and ``W`` the expected
    information above at the estimates (``lav_fit_gfi``), ``agfi`` with
    ``p + p(p+1)/2`` moments; ``aic = −2 log L + 2q``, ``bic = −2 log L + q log N``.

Rows without any answer are left out (lavaan drops them too, with a warning).
Observed exogenous covariates (``fixed.x``) are not supported here.

Examples
--------
>>> from sem_kit.estimators.fiml import fit_fiml                # doctest: +SKIP
>>> res = fit_fiml(model, data_with_nans)           # doctest: +SKIP
>>> res.measures["chisq"], res.params               # doctest: +SKIP

In R: ``sem(model, data, missing = "ml")``; ``parameterEstimates(fit,
standardized = TRUE)``; ``fitMeasures(fit)``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sem_kit.engine.algebra import sd_of, vech_index, with_standard_errors
from sem_kit.engine.fit import (
    EstimatorFit,
    loadings_above_one,
    moments_frame,
    negative_variances,
    vcov_frame,
)
from sem_kit.engine.fit_indices import FitStatistics, assemble_fit
from sem_kit.engine.optimizer import Optimum, RefitFailed, fisher_scoring
from sem_kit.engine.ram import CompiledModel, compile_model, moments, row_factors, row_values
from sem_kit.engine.refit import RefitPolicy
from sem_kit.engine.standardize import r_squared, standardize
from sem_kit.engine.syntax import ModelSpec, specify
from sem_kit.engine.threads import single_blas_thread
from sem_kit.engine.tolerances import (
    EM_MAX_ITER,
    EM_RIDGE,
    EM_RIDGE_BELOW,
    EM_TOLERANCE,
    FIML_REFIT,
    FIML_SCORING,
    HESSIAN_STEP,
)
from sem_kit.errors import InputError
from sem_kit.estimators.ml import fit_to_moments, simple_start

__all__ = [
    "FimlRefitter",
    "Patterns",
    "em_saturated",
    "fit_fiml",
    "missing_loglik",
    "missing_patterns",
    "pairwise_moments",
]

_LOG2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class Patterns:
    """Rows grouped by which variables they observe (lavaan's ``Mp`` / ``Yp``).

    Attributes
    ----------
    observed:
        Per pattern, the indices of the observed variables.
    rows:
        Per pattern, the data rows (0-based, among the rows analysed).
    n:
        Rows per pattern.
    mean, cov:
        Per pattern, mean and covariance (``n_k`` divisor) of the observed
        variables.
    y:
        ``(N, p)`` data of the rows analysed, NaN where missing.
    empty:
        Rows of the input with no answer at all (left out).
    """

    observed: tuple[np.ndarray, ...]
    rows: tuple[np.ndarray, ...]
    n: np.ndarray
    mean: tuple[np.ndarray, ...]
    cov: tuple[np.ndarray, ...]
    y: np.ndarray
    empty: np.ndarray

    @property
    def total(self) -> int:
        """N, the rows analysed."""
        return int(self.n.sum())


def missing_patterns(y: np.ndarray) -> Patterns:
    """Group the rows of ``y`` (NaN = missing) by missing-data pattern.

    Returns
    -------
    Patterns
        Patterns in order of first appearance; rows without any answer in
        ``empty``.

    Notes
    -----
    lavaan ``lav_data_missing_patterns`` and ``lav_samplestats_missing_patterns``.
    """
    y = np.asarray(y, dtype=float)
    seen = ~np.isnan(y)
    empty = np.flatnonzero(~seen.any(axis=1))
    keep = seen.any(axis=1)
    y = y[keep]
    seen = seen[keep]
    keys, inverse = np.unique(seen, axis=0, return_inverse=True)
    order = np.argsort([np.flatnonzero(inverse == k)[0] for k in range(len(keys))])
    observed, rows, n, mean, cov = [], [], [], [], []
    for k in order:
        r = np.flatnonzero(inverse == k)
        o = np.flatnonzero(keys[k])
        block = y[np.ix_(r, o)]
        m = block.mean(axis=0)
        dev = block - m
        observed.append(o)
        rows.append(r)
        n.append(r.size)
        mean.append(m)
        cov.append(dev.T @ dev / r.size)
    return Patterns(tuple(observed), tuple(rows), np.array(n, dtype=float), tuple(mean),
                    tuple(cov), y, empty)


def missing_loglik(pat: Patterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """The observed-data normal log-likelihood (with the 2π term).

    Returns
    -------
    float
        ``log L(μ, Σ)`` of the module docstring; ``-inf`` if some ``Σ_oo`` is
        not positive definite.

    Notes
    -----
    lavaan ``lav_mvnorm_missing_loglik_samplestats``. In R:
    ``fitMeasures(fit, "logl")``.
    """
    total = 0.0
    for o, n, m, s in zip(pat.observed, pat.n, pat.mean, pat.cov, strict=True):
        try:
            chol = np.linalg.cholesky(sigma[np.ix_(o, o)])
        except np.linalg.LinAlgError:
            return -math.inf
        inv_chol = np.linalg.inv(chol)
        d = m - mu[o]
        t = s + np.outer(d, d)
        dist = np.einsum("ij,ij->", inv_chol.T @ inv_chol, t)
        total += -0.5 * n * (o.size * _LOG2PI + 2.0 * np.log(np.diag(chol)).sum() + dist)
    return float(total)


def em_saturated(pat: Patterns, max_iter: int = EM_MAX_ITER,
                 tol: float = EM_TOLERANCE) -> tuple[np.ndarray, np.ndarray, int]:
    """ML estimates of the unrestricted mean and covariance matrix by EM.

    E-step: for each row, the conditional expectation of its missing values
    ``μ_m + Σ_mo Σ_oo⁻¹ (y_o − μ_o)`` and the conditional covariance
    ``Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om`` give ``T₁ = Σᵢ E[yᵢ]`` and ``T₂ = Σᵢ E[yᵢyᵢᵀ]``;
    M-step: ``μ = T₁/N``, ``Σ = T₂/N − μμᵀ`` (Dempster, Laird & Rubin 1977).

    Parameters
    ----------
    pat:
        The data by pattern.
    max_iter, tol:
        lavaan's defaults: stop when no mean or covariance changes by more
        than ``tol``, or after ``max_iter`` steps.

    Returns
    -------
    tuple
        ``(μ, Σ, iterations)``.

    Notes
    -----
    lavaan ``lav_mvnorm_missing_h1_estimate_moments`` with
    ``lav_mvnorm_missing_estep``, started from the available-case means and
    variances. In R: ``lavInspect(fit, "sampstat.h1")``.
    """
    y = pat.y
    n_total, p = y.shape
    mu = np.nanmean(y, axis=0)
    var = np.nanmean((y - mu) ** 2, axis=0)
    var[~np.isfinite(var) | (var == 0)] = 1.0
    sigma = np.diag(var)
    rows, cols = vech_index(p)
    steps = 0
    while steps < max_iter:
        steps += 1
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for o, r in zip(pat.observed, pat.rows, strict=True):
            obs = y[np.ix_(r, o)]
            if o.size == p:
                t1 += obs.sum(axis=0)
                t2 += obs.T @ obs
                continue
            mis = np.setdiff1d(np.arange(p), o)
            s_oo_inv = np.linalg.inv(sigma[np.ix_(o, o)])
            reg = sigma[np.ix_(mis, o)] @ s_oo_inv
            full = np.empty((r.size, p))
            full[:, o] = obs
            full[:, mis] = (obs - mu[o]) @ reg.T + mu[mis]
            t1 += full.sum(axis=0)
            t2 += full.T @ full
            t2[np.ix_(mis, mis)] += r.size * (sigma[np.ix_(mis, mis)]
                                              - reg @ sigma[np.ix_(o, mis)])
        mu_new = t1 / n_total
        sigma_new = t2 / n_total - np.outer(mu_new, mu_new)
        if np.linalg.eigvalsh(sigma_new).min() < EM_RIDGE_BELOW:
            sigma_new[np.diag_indices(p)] += np.diag(sigma_new).max() * EM_RIDGE
        change = max(np.abs(mu_new - mu).max(), np.abs((sigma_new - sigma)[rows, cols]).max())
        mu, sigma = mu_new, sigma_new
        if change < tol:
            break
    return mu, sigma, steps


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, eq=False)
class _MeanModel:
    """The covariance structure of a spec plus free observed intercepts, latent means 0."""

    spec: ModelSpec
    comp: CompiledModel
    p: int
    q_cov: int

    @property
    def q(self) -> int:
        return self.q_cov + self.p

    def moments(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(C, B, μ_all, values)``: C = BPBᵀ over all variables, B = (I − A)⁻¹,
        μ_all = B m (observed then latent), values per parameter-table row."""
        values = row_values(self.comp, theta[: self.q_cov], np.zeros((self.p, self.p)))
        c, b = moments(self.comp.ram, values)
        m = np.zeros(self.comp.ram.m)
        m[: self.p] = theta[self.q_cov:]
        return c, b, b @ m, values

    def mean_jacobian(self, b: np.ndarray, mu_all: np.ndarray) -> np.ndarray:
        """``∂μ/∂θᵀ`` (``p × q``): A rows give ``B[:p, i] (Bm)_j``, intercepts ``B[:p, i]``."""
        ram = self.comp.free_ram
        p = self.p
        is_a = ram.kind == 0
        rows = np.where(is_a[None, :], b[:p, ram.row] * mu_all[ram.col][None, :], 0.0)
        jac = np.zeros((p, self.q))
        jac[:, : self.q_cov] = rows @ self.comp.aggregate.T
        jac[:, self.q_cov:] = b[:p, :p]
        return jac


def _mean_model(spec: ModelSpec) -> _MeanModel:
    if spec.x_vars:
        raise InputError(
            "full-information ML (--missing fiml) is not available for models with observed "
            "exogenous covariates (" + ", ".join(spec.x_vars) + "); use --missing listwise, "
            "or make them indicators of a latent variable")
    return _MeanModel(spec, compile_model(spec), len(spec.observed), spec.npar)


@dataclass(frozen=True)
class _Terms:
    """F = −log L / N at θ and what the optimiser and the standard errors need."""

    f: float
    grad: np.ndarray  # ∂F/∂θ
    g_sigma: np.ndarray  # ∂ log L / ∂Σ (symmetric-matrix derivative)
    g_mu: np.ndarray  # ∂ log L / ∂μ
    info: np.ndarray | None  # unit expected information of F
    hessian: np.ndarray | None  # ∂²F/∂θ∂θᵀ without the second derivatives of μ(θ), Σ(θ)


def _pattern_terms(model: _MeanModel, pat: Patterns, theta: np.ndarray,
                   level: int = 0) -> _Terms:
    """``F = −log L / N`` and ∂F/∂θ; with ``level ≥ 1`` the expected information, with
    ``level = 2`` also the observed information's first-derivative part.

    Per pattern, with ``A = Σ_oo⁻¹``, ``T = S_k + ddᵀ``, ``d = ȳ_k − μ_o``,
    ``e = A d``, ``Σ_k = ∂Σ_oo/∂θ_k``, ``μ_k = ∂μ_o/∂θ_k``:

    - ``∂ log L/∂θ_k = ½ n tr((ATA − A) Σ_k) + n eᵀ μ_k``;
    - expected information ``n (½ tr(A Σ_k A Σ_l) + μ_kᵀ A μ_l)``;
    - ``∂² log L/∂θ_k∂θ_l = ½ n tr(AΣ_kAΣ_l) − ½ n (tr(AΣ_kBΣ_l) + tr(AΣ_lBΣ_k))
      − n (eᵀΣ_kAμ_l + eᵀΣ_lAμ_k) − n μ_kᵀAμ_l`` (``B = ATA``) plus the terms of the
      second derivatives of μ(θ) and Σ(θ), added by :func:`_observed_information`.

    ``∂Σ/∂x_r = w_r (u_r v_rᵀ + v_r u_rᵀ)`` for each free parameter-table row r
    (:func:`sem_kit.engine.ram.row_factors`) turns every trace into products of
    ``u_rᵀ A u_t``-type terms.
    """
    c, b, mu_all, _ = model.moments(theta)
    p = model.p
    q, qc = model.q, model.q_cov
    sigma = c[:p, :p]
    mu = mu_all[:p]
    n_total = pat.total
    u, v, w = row_factors(model.comp.free_ram, b, c)
    jac_mu = model.mean_jacobian(b, mu_all)
    nrows = w.size
    g_sigma = np.zeros((p, p))
    g_mu = np.zeros(p)
    exp_rows = np.zeros((nrows, nrows))
    exp_mean = np.zeros((q, q))
    obs_rows = np.zeros((nrows, nrows))
    cross = np.zeros((nrows, q))
    logl = 0.0
    for o, n, m, s in zip(pat.observed, pat.n, pat.mean, pat.cov, strict=True):
        try:
            chol = np.linalg.cholesky(sigma[np.ix_(o, o)])
        except np.linalg.LinAlgError:
            nan = np.full(q, np.nan)
            return _Terms(math.inf, nan, g_sigma, g_mu, None, None)
        inv_chol = np.linalg.inv(chol)
        a = inv_chol.T @ inv_chol
        d = m - mu[o]
        t = s + np.outer(d, d)
        e = a @ d
        bmat = a @ t @ a
        logl += -0.5 * n * (o.size * _LOG2PI + 2.0 * np.log(np.diag(chol)).sum()
                            + np.einsum("ij,ij->", a, t))
        g_sigma[np.ix_(o, o)] += 0.5 * n * (bmat - a)
        g_mu[o] += n * e
        if level >= 1:
            uo, vo, jo = u[:, o], v[:, o], jac_mu[o]
            ua, va = uo @ a, vo @ a
            uau, vav, uav = ua @ uo.T, va @ vo.T, ua @ vo.T
            exp_rows += n * (uau * vav + uav * uav.T)
            exp_mean += n * (jo.T @ (a @ jo))
            if level >= 2:
                ub, vb = uo @ bmat, vo @ bmat
                ubu, vbv, ubv = ub @ uo.T, vb @ vo.T, ub @ vo.T
                mm = uav * ubv.T + uau * vbv + vav * ubu + uav.T * ubv
                obs_rows += 0.5 * n * (mm + mm.T)
                cross += n * ((uo @ e)[:, None] * (va @ jo) + (vo @ e)[:, None] * (ua @ jo))
    d_cov = 2.0 * w * np.einsum("ri,ij,rj->r", u, g_sigma, v)
    grad = jac_mu.T @ g_mu
    grad[:qc] += model.comp.aggregate @ d_cov
    info = hess = None
    if level >= 1:
        agg = model.comp.aggregate
        ww = np.outer(w, w)
        info = exp_mean.copy()
        info[:qc, :qc] += agg @ (ww * exp_rows) @ agg.T
        info = (info + info.T) / 2.0 / n_total
        if level >= 2:
            h = -exp_mean.copy()
            h[:qc, :qc] += agg @ (ww * (exp_rows - obs_rows)) @ agg.T
            cp = np.zeros((q, q))
            cp[:qc, :] = agg @ (w[:, None] * cross)
            h -= cp + cp.T
            hess = -(h + h.T) / 2.0 / n_total
    return _Terms(-logl / n_total, -grad / n_total, g_sigma, g_mu, info, hess)


def _structure_gradient(model: _MeanModel, theta: np.ndarray, g_sigma: np.ndarray,
                        g_mu: np.ndarray) -> np.ndarray:
    """``Δ(θ)ᵀ g`` for a fixed ``g = (∂ log L/∂Σ, ∂ log L/∂μ)``: the chain rule's outer part."""
    c, b, mu_all, _ = model.moments(theta)
    u, v, w = row_factors(model.comp.free_ram, b, c)
    out = model.mean_jacobian(b, mu_all).T @ g_mu
    out[: model.q_cov] += model.comp.aggregate @ (2.0 * w * np.einsum("ri,ij,rj->r", u,
                                                                      g_sigma, v))
    return out


def _observed_information(model: _MeanModel, pat: Patterns, theta: np.ndarray) -> np.ndarray:
    """Hessian of ``F = −log L / N`` at θ (lavaan's ``information = "observed"``).

    The first-derivative part comes from :func:`_pattern_terms`; the part of the
    second derivatives of μ(θ) and Σ(θ), ``∂(Δ(θ)ᵀ g)/∂θᵀ`` with g held at its
    value at θ, by central differences of :func:`_structure_gradient`
    (h = 1e-6; it involves no data, so it is cheap). lavaan differentiates the
    whole gradient numerically (``lav_model_hessian``); the two agree to about
    1e-8 relative.
    """
    terms = _pattern_terms(model, pat, theta, level=2)
    q = model.q
    second = np.zeros((q, q))
    for j in range(q):
        step = np.zeros(q)
        step[j] = HESSIAN_STEP
        second[:, j] = (_structure_gradient(model, theta + step, terms.g_sigma, terms.g_mu)
                        - _structure_gradient(model, theta - step, terms.g_sigma,
                                              terms.g_mu)) / (2.0 * HESSIAN_STEP)
    second = -(second + second.T) / 2.0 / pat.total
    return terms.hessian + second


def _start(model: _MeanModel, mu_em: np.ndarray, sigma_em: np.ndarray) -> np.ndarray:
    """ML estimates for the EM covariance matrix; intercepts reproducing the EM means."""
    cov_start = simple_start(model.spec, sigma_em)
    opt = fit_to_moments(model.comp, sigma_em, cov_start)
    theta_cov = opt.theta if np.all(np.isfinite(opt.theta)) else cov_start
    theta = np.concatenate([theta_cov, np.zeros(model.p)])
    _, b, _, _ = model.moments(theta)
    theta[model.q_cov:] = np.linalg.solve(b[: model.p, : model.p], mu_em)
    return theta


def _fisher_fiml(model: _MeanModel, pat: Patterns, theta0: np.ndarray,
                 tol: float = FIML_SCORING.stop) -> Optimum:
    """Fisher scoring on F = −log L / N, stopping at max |∂F/∂θ| below ``tol``."""

    def score(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        terms = _pattern_terms(model, pat, theta, level=1)
        return terms.f, terms.grad, terms.info

    return fisher_scoring(score, theta0, dataclasses.replace(FIML_SCORING, stop=tol),
                          undefined_start="start values give a non-positive-definite "
                          "covariance matrix for some pattern")


# --------------------------------------------------------------------------- fit measures


def _independence_loglik(pat: Patterns) -> float:
    """FIML log-likelihood of the independence model: each variable's available-case
    mean and ML variance (its maximum)."""
    y = pat.y
    total = 0.0
    for j in range(y.shape[1]):
        col = y[:, j][~np.isnan(y[:, j])]
        var = col.var()
        total += -0.5 * col.size * (_LOG2PI + math.log(var) + 1.0)
    return float(total)


def _srmr_with_means(mu_h1: np.ndarray, sigma_h1: np.ndarray, mu: np.ndarray,
                     sigma: np.ndarray) -> float:
    """lavaan's ``srmr_bentler`` with a mean structure (``lav_residuals(type = "cor.bentler")``)."""
    sd = np.sqrt(np.diag(sigma_h1))
    rows, cols = vech_index(sigma.shape[0])
    cov_res = ((sigma_h1 - sigma) / np.outer(sd, sd))[rows, cols]
    mean_res = (mu_h1 - mu) / sd
    return float(math.sqrt((np.sum(cov_res**2) + np.sum(mean_res**2))
                           / (cov_res.size + mean_res.size)))


def pairwise_moments(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available-case means and pairwise covariances rescaled by ``(N − 1)/N``.

    Each covariance is R's ``cov(y, use = "pairwise")`` (the rows answering
    both variables, their own means, divisor ``n_ij − 1``), multiplied by
    ``(N − 1)/N`` with N the rows analysed; each mean is the mean of the
    answers given.

    Returns
    -------
    tuple of numpy.ndarray
        ``(mean, cov)``.

    Notes
    -----
    What lavaan stores as the "sample" statistics of a FIML fit
    (``lav_samplestats_from_data`` with ``missing = "ml"``,
    ``lavInspect(fit, "wls.obs")``); its GFI is computed from them.
    """
    y = np.asarray(y, dtype=float)
    n, p = y.shape
    mean = np.nanmean(y, axis=0)
    cov = np.empty((p, p))
    for i in range(p):
        for j in range(i, p):
            both = ~np.isnan(y[:, i]) & ~np.isnan(y[:, j])
            a, b = y[both, i], y[both, j]
            cov[i, j] = cov[j, i] = np.sum((a - a.mean()) * (b - b.mean())) / (both.sum() - 1)
    return mean, cov * (n - 1) / n


def _gfi_with_means(pat: Patterns, mu_obs: np.ndarray, sigma_obs: np.ndarray, mu: np.ndarray,
                    sigma: np.ndarray) -> float:
    """``1 − eᵀWe / sᵀWs`` with W the incomplete-data expected information at (μ̂, Σ̂).

    With ``A_k`` the inverse of ``Σ̂_oo`` of pattern k padded with zeros,
    ``xᵀWx = (1/N) Σ_k n_k (x_μᵀ A_k x_μ + ½ tr(A_k X A_k X))`` for the moments
    ``x = (x_μ, vech X)`` (``vech(X)ᵀ ½Dᵀ(A⊗A)D vech(X) = ½ tr(AXAX)``).
    """
    p = sigma.shape[0]
    e_mean, e_cov = mu_obs - mu, sigma_obs - sigma
    t1 = t2 = 0.0
    for o, n in zip(pat.observed, pat.n, strict=True):
        a = np.zeros((p, p))
        a[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
        ae, aso = a @ e_cov, a @ sigma_obs
        t1 += n * (e_mean @ a @ e_mean + 0.5 * np.einsum("ij,ji->", ae, ae))
        t2 += n * (mu_obs @ a @ mu_obs + 0.5 * np.einsum("ij,ji->", aso, aso))
    return float(1.0 - t1 / t2)


# --------------------------------------------------------------------------- entry point


def _data_matrix(spec: ModelSpec, data: pd.DataFrame) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    absent = [v for v in spec.observed if v not in data.columns]
    if absent:
        raise InputError("the data have no column for observed variable(s) "
                         + ", ".join(absent))
    frame = data[list(spec.observed)]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InputError("non-numeric data in column(s) " + ", ".join(bad)
                         + "; expected numbers")
    return frame.to_numpy(dtype=float)


def _params_table(model: _MeanModel, theta: np.ndarray, values: np.ndarray, c: np.ndarray,
                  se_theta: np.ndarray) -> pd.DataFrame:
    """Fit.params' columns for the covariance rows, then the intercepts and latent means."""
    spec = model.spec
    pt = spec.partable
    p = model.p
    lat = list(spec.latent)
    total_var = np.diag(c)
    std_lv, std_all = standardize(pt.lhs, pt.op, pt.rhs, values, spec.latent, spec.observed,
                                  total_var[p:], total_var[:p])
    intercepts = theta[model.q_cov:]
    with np.errstate(divide="ignore", invalid="ignore"):
        std_int = intercepts / np.sqrt(total_var[:p])
    nan = np.full(len(pt) + p + len(lat), np.nan)
    params = pd.DataFrame({
        "lhs": list(pt.lhs) + list(spec.observed) + lat,
        "op": list(pt.op) + ["~1"] * (p + len(lat)),
        "rhs": list(pt.rhs) + [""] * (p + len(lat)),
        "label": list(pt.label) + [""] * (p + len(lat)),
        "free": list(pt["free"]) + list(range(model.q_cov + 1, model.q + 1)) + [0] * len(lat),
        "exo": list(pt["exo"]) + [0] * (p + len(lat)),
        "est": np.concatenate([values, intercepts, np.zeros(len(lat))]),
        "se": nan, "z": nan, "pvalue": nan,
        "std_lv": np.concatenate([std_lv, intercepts, np.zeros(len(lat))]),
        "std_all": np.concatenate([std_all, std_int, np.zeros(len(lat))]),
    })
    params["free"] = params["free"].astype(int)
    return with_standard_errors(params, se_theta)


@single_blas_thread
def fit_fiml(model: str | ModelSpec, data: pd.DataFrame) -> EstimatorFit:
    """Fit a model by full-information ML on every row with at least one answer.

    Parameters
    ----------
    model:
        lavaan syntax or a :class:`~sem_kit.engine.syntax.ModelSpec` (no
        observed exogenous covariates).
    data:
        One column per observed variable, NaN for a missing answer.

    Returns
    -------
    EstimatorFit
        ``estimator = "ML"``, ``missing = "ml"``; ``params`` with the
        intercepts (``op == "~1"``: observed free, latent fixed at 0);
        ``measures`` with DESIGN.md's FIT keys as lavaan reports them under
        FIML; ``sample_cov`` the EM estimate of the saturated covariance
        matrix; ``extra`` with ``logl``, ``unrestricted_logl``,
        ``baseline_chisq``, ``baseline_df``, ``npar``, ``em_iterations`` and
        the EM means (``h1_mean``, a list); warnings for rows left out.

    Raises
    ------
    InputError
        Missing or non-numeric columns, observed exogenous covariates, fewer
        than two rows, a variable that no row answers, or a model that is not
        identified (singular information).

    Notes
    -----
    Formulas in the module docstring. In R: ``sem(model, data, missing = "ml")``.
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    mm = _mean_model(spec)
    y_all = _data_matrix(spec, data)
    pat = missing_patterns(y_all)
    obs = list(spec.observed)
    warnings: list[str] = list(spec.notes)
    if pat.empty.size:
        warnings.append(f"{pat.empty.size} row(s) without any answer to the model's items are "
                        "left out of the FIML fit (rows "
                        + ", ".join(str(int(i) + 1) for i in pat.empty[:20])
                        + (" ..." if pat.empty.size > 20 else "") + ")")
    n = pat.total
    never = [v for v, k in zip(obs, (~np.isnan(pat.y)).sum(axis=0), strict=True) if k < 2]
    if never:
        raise InputError("column(s) " + ", ".join(never) + " have fewer than two answers; "
                         "FIML cannot estimate their variance")
    if n < 2:
        raise InputError(f"{n} rows with answers: at least 2 are needed")
    mu_h1, sigma_h1, em_it = em_saturated(pat)
    logl_h1 = missing_loglik(pat, mu_h1, sigma_h1)

    sol = _fisher_fiml(mm, pat, _start(mm, mu_h1, sigma_h1))
    if not sol.converged:
        warnings.append(f"the FIML optimiser did not converge ({sol.message}); estimates are "
                        "not a maximum-likelihood solution")
    theta = sol.theta
    c, b, mu_all, values = mm.moments(theta)
    p = mm.p
    sigma, mu = c[:p, :p], mu_all[:p]
    hess = _observed_information(mm, pat, theta)
    try:
        vcov = np.linalg.inv(hess) / n
    except np.linalg.LinAlgError as exc:
        raise InputError("the model is not identified with these data: the observed "
                         f"information matrix is singular ({exc})") from exc
    params = _params_table(mm, theta, values, c, sd_of(vcov))
    improper = negative_variances(params, spec.latent) + loadings_above_one(params)
    if np.linalg.eigvalsh(sigma).min() <= 0:
        improper.append("the model-implied covariance matrix is not positive definite")
    warnings += improper

    q = mm.q
    logl = missing_loglik(pat, mu, sigma)
    x2 = max(2.0 * (logl_h1 - logl), 0.0)
    df = p + p * (p + 1) // 2 - q
    logl_0 = _independence_loglik(pat)
    x2_0 = 2.0 * (logl_h1 - logl_0)
    df_0 = p * (p + 1) // 2 - p
    measures = assemble_fit(FitStatistics(
        n=n, chisq=x2, df=df, baseline_chisq=x2_0, baseline_df=df_0,
        srmr=_srmr_with_means(mu_h1, sigma_h1, mu, sigma),
        gfi=_gfi_with_means(pat, *pairwise_moments(pat.y), mu, sigma),
        nel=p + p * (p + 1) // 2, logl=logl, npar=q))
    test = {"standard": {"test": "standard", "stat": x2, "df": df,
                         "pvalue": float(chi2.sf(x2, df)) if df > 0 else math.nan}}
    return EstimatorFit(
        estimator="ML",
        missing="ml",
        spec=spec,
        params=params,
        measures=measures,
        vcov=vcov_frame(vcov),
        theta=theta.copy(),
        n=n,
        npar=q,
        df=df,
        r2=r_squared(params[params.op != "~1"]),
        sample_cov=moments_frame(sigma_h1, obs),
        implied_cov=moments_frame(sigma, obs),
        converged=sol.converged,
        warnings=tuple(warnings),
        admissible=sol.converged and not improper,
        test=test,
        ml_fit=None,
        extra={"logl": logl, "unrestricted_logl": logl_h1, "baseline_chisq": x2_0,
               "baseline_df": df_0, "npar": q, "em_iterations": em_it,
               "h1_mean": mu_h1.tolist(), "implied_mean": mu.tolist(),
               "iterations": sol.iterations},
    )


class FimlRefitter:
    """Refit a model by FIML on resamples of the rows, starting from the full-sample estimates.

    What a nonparametric bootstrap under ``--missing fiml`` refits (lavaan's
    ``sem(model, data, missing = "ml", se = "bootstrap")`` refits FIML on every
    resample, from the full-sample estimates), by the bootstrap's one refit
    policy (:class:`sem_kit.engine.refit.RefitPolicy` with
    :data:`~sem_kit.engine.tolerances.FIML_REFIT`): BFGS on the resample's
    missing-data patterns, with the full sample's inverse observed information
    as the first inverse Hessian, so that every step costs one evaluation of the
    likelihood and its gradient (no information matrix, no EM step, no standard
    errors), to a largest gradient element of 1e-6 (estimates then within ~5e-6
    of the full fit's 1e-9); if BFGS stalls, Fisher scoring from the full-sample
    estimates gets a second try. Picklable, for the bootstrap's worker processes.

    Parameters
    ----------
    fit:
        The full-sample :func:`fit_fiml` result.
    """

    def __init__(self, fit: EstimatorFit) -> None:
        self.spec: ModelSpec = fit.spec
        self.observed: tuple[str, ...] = tuple(fit.spec.observed)
        self.theta0 = np.asarray(fit.theta, dtype=float).copy()
        self._model = _mean_model(fit.spec)
        # vcov = (N · unit observed information)⁻¹, the inverse Hessian of F = −log L / N
        h_inv = np.asarray(fit.vcov, dtype=float) * fit.n
        self.h_inv0 = np.asfortranarray((h_inv + h_inv.T) / 2.0)
        self.policy = RefitPolicy(FIML_REFIT, self._fisher_scoring)

    def _fisher_scoring(self, pat: Patterns) -> np.ndarray:
        """The policy's second try: Fisher scoring from the full-sample estimates."""
        sol = _fisher_fiml(self._model, pat, self.theta0, tol=FIML_REFIT.gtol)
        if not sol.converged:
            raise RefitFailed(sol.message)
        return sol.theta

    def estimates(self, sample: np.ndarray) -> np.ndarray:
        """θ of one resample (rows × :attr:`observed`, NaN for a missing answer).

        Returns
        -------
        numpy.ndarray
            The free parameters in the order of ``fit.theta`` (covariance part,
            then the intercepts).

        Raises
        ------
        sem_kit.engine.optimizer.RefitFailed
            An item with fewer than two answers in the resample, or no convergence.
        """
        pat = missing_patterns(np.asarray(sample, dtype=float))
        answered = (~np.isnan(pat.y)).sum(axis=0)
        if answered.min() < 2:
            raise RefitFailed("an item has fewer than two answers in the resample")

        def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray | None]:
            terms = _pattern_terms(self._model, pat, theta)
            return (terms.f, terms.grad) if math.isfinite(terms.f) else (math.inf, None)

        return self.policy.run(value_and_gradient, self.theta0, self.h_inv0, pat)
