"""Fit indices of a maximum-likelihood SEM, each as lavaan's ``fitMeasures()`` defines it.

Every index is computed here from the sample covariance matrix S (N divisor),
the model-implied Σ, N, the degrees of freedom and the number of free
parameters -- never from ``semopy.calc_stats``, whose GFI is the NFI formula,
whose AIC/BIC are not likelihood-based and whose RMSEA uses N − 1.

The formulas are those of lavaan 0.6-14 (``R/lav_fit_*.R``: ``lav_fit_cfi``,
``lav_fit_tli``, ``lav_fit_nfi``, ``lav_fit_ifi``, ``lav_fit_rmsea``,
``lav_fit_rmsea_ci``, ``lav_fit_rmsea_closefit``, ``lav_fit_srmr_lavobject``,
``lav_fit_gfi``, ``lav_fit_agfi``, ``lav_fit_aic``, ``lav_fit_bic``) for the
default ML estimator (``likelihood = "normal"``, no mean structure, one group).

Examples
--------
>>> from sem_kit.estimators.ml import fit_model         # doctest: +SKIP
>>> from sem_kit.engine.fit_indices import fit_measures      # doctest: +SKIP
>>> fit_measures(fit_model(model, data))["cfi"]       # doctest: +SKIP

In R: ``fitMeasures(cfa(model, data), "cfi")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import chi2, ncx2

from sem_kit.engine.tolerances import RMSEA_CI_RTOL, RMSEA_CI_XTOL

__all__ = [
    "FIT_KEYS",
    "ROBUST_KEYS",
    "SCALED_KEYS",
    "FitStatistics",
    "MLStatistics",
    "ScaledTest",
    "agfi",
    "aic",
    "assemble_fit",
    "baseline_chisq",
    "bic",
    "cfi",
    "chisq",
    "chisq_df",
    "chisq_pvalue",
    "fit_measures",
    "gfi",
    "ifi",
    "loglik",
    "ml_discrepancy",
    "ml_statistics",
    "nfi",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue",
    "srmr",
    "tli",
    "unrestricted_loglik",
]

#: The FIT block of results.json (DESIGN.md), in order.
FIT_KEYS = ("n", "chisq", "df", "pvalue", "chisq_df", "cfi", "tli", "nfi", "ifi", "rmsea",
            "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr", "gfi", "agfi",
            "aic", "bic")
#: Keys added to FIT under a scaled test (DESIGN.md), in order.
SCALED_KEYS = ("chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor", "cfi_scaled",
               "tli_scaled", "rmsea_scaled")
#: Keys added to FIT under MLM and MLR (DESIGN.md), in order.
ROBUST_KEYS = ("cfi_robust", "tli_robust", "rmsea_robust")


def _is_zero(x: float) -> bool:
    """R's ``isTRUE(all.equal(x, 0))`` (absolute tolerance 1.5e-8 around 0)."""
    return abs(x) < 1.5e-8


def _arr(m) -> np.ndarray:
    return m.to_numpy(dtype=float) if isinstance(m, pd.DataFrame) else np.asarray(m, dtype=float)


def _x_index(x_idx: Sequence[int] | None) -> np.ndarray:
    return np.asarray(x_idx if x_idx is not None else [], dtype=int)


# --------------------------------------------------------------------------- likelihood


def ml_discrepancy(s, sigma) -> float:
    """ML discrepancy ``F = log|Σ| + tr(SΣ⁻¹) − log|S| − p`` (twice lavaan's ``fmin``).

    Parameters
    ----------
    s, sigma:
        Sample (N divisor) and model-implied covariance matrices, ``(p, p)``.

    Returns
    -------
    float
        F ≥ 0; ``inf`` if Σ is not positive definite.

    Notes
    -----
    Jöreskog (1967). In R: ``2 * fitMeasures(fit, "fmin")``.
    """
    s, sigma = _arr(s), _arr(sigma)
    sign, logdet_sigma = np.linalg.slogdet(sigma)
    if sign <= 0:
        return math.inf
    logdet_s = np.linalg.slogdet(s)[1]
    return float(logdet_sigma + np.trace(np.linalg.solve(sigma, s)) - logdet_s - s.shape[0])


def chisq(s, sigma, n: int) -> float:
    """Likelihood-ratio test statistic ``χ² = N · F`` (lavaan: ``2 N fmin``, N not N − 1).

    Parameters
    ----------
    s, sigma:
        Sample (N divisor) and model-implied covariance matrices.
    n:
        Sample size.

    Returns
    -------
    float
        The model χ².

    Notes
    -----
    lavaan's default ``likelihood = "normal"`` multiplies by N (``"wishart"``
    would use N − 1). In R: ``fitMeasures(fit, "chisq")``.
    """
    return float(n * ml_discrepancy(s, sigma))


def chisq_pvalue(x2: float, df: int) -> float:
    """Upper-tail probability of the χ² statistic on ``df`` degrees of freedom.

    Returns
    -------
    float
        ``P(χ²_df > x2)``; NaN when ``df`` is 0 (lavaan reports NA).

    Notes
    -----
    In R: ``fitMeasures(fit, "pvalue")`` = ``1 - pchisq(chisq, df)``.
    """
    if df <= 0 or not math.isfinite(x2):
        return math.nan
    return float(chi2.sf(x2, df))


def chisq_df(x2: float, df: int) -> float:
    """Normed χ², ``χ² / df`` (NaN when df = 0).

    Notes
    -----
    Wheaton et al. (1977). Not a lavaan measure; in R:
    ``fitMeasures(fit, "chisq") / fitMeasures(fit, "df")``.
    """
    return float(x2 / df) if df > 0 else math.nan


def loglik(s, sigma, n: int, x_idx: Sequence[int] | None = None) -> float:
    """Normal log-likelihood of the model, ``−N/2 (p log 2π + log|Σ| + tr(SΣ⁻¹))``.

    Parameters
    ----------
    s, sigma:
        Sample (N divisor) and model-implied covariance matrices.
    n:
        Sample size.
    x_idx:
        Positions of fixed.x covariates; their saturated log-likelihood is
        subtracted (lavaan conditions on fixed covariates).

    Returns
    -------
    float
        The log-likelihood (means are saturated, so they drop out).

    Notes
    -----
    In R: ``fitMeasures(fit, "logl")``.
    """
    s, sigma = _arr(s), _arr(sigma)
    p = s.shape[0]
    sign, logdet = np.linalg.slogdet(sigma)
    if sign <= 0:
        return -math.inf
    value = -0.5 * n * (p * math.log(2 * math.pi) + logdet + np.trace(np.linalg.solve(sigma, s)))
    return float(value - _covariate_loglik(s, n, _x_index(x_idx)))


def unrestricted_loglik(s, n: int, x_idx: Sequence[int] | None = None) -> float:
    """Log-likelihood of the saturated model, ``−N/2 (p log 2π + log|S| + p)``.

    Notes
    -----
    With fixed.x covariates, minus their own saturated log-likelihood. In R:
    ``fitMeasures(fit, "unrestricted.logl")``.
    """
    s = _arr(s)
    p = s.shape[0]
    sign, logdet = np.linalg.slogdet(s)
    if sign <= 0:
        return math.inf
    value = -0.5 * n * (p * math.log(2 * math.pi) + logdet + p)
    return float(value - _covariate_loglik(s, n, _x_index(x_idx)))


def _covariate_loglik(s: np.ndarray, n: int, x_idx: np.ndarray) -> float:
    if x_idx.size == 0:
        return 0.0
    logdet = np.linalg.slogdet(s[np.ix_(x_idx, x_idx)])[1]
    return -0.5 * n * (x_idx.size * math.log(2 * math.pi) + logdet + x_idx.size)


def aic(logl: float, npar: int) -> float:
    """Akaike information criterion, ``AIC = −2 logL + 2 q``.

    Parameters
    ----------
    logl:
        Model log-likelihood (:func:`loglik`).
    npar:
        Number of free parameters q.

    Notes
    -----
    Akaike (1974); lavaan ``lav_fit_aic``. In R: ``fitMeasures(fit, "aic")``.
    """
    return float(-2.0 * logl + 2.0 * npar)


def bic(logl: float, npar: int, n: int) -> float:
    """Bayesian information criterion, ``BIC = −2 logL + q log N``.

    Notes
    -----
    Schwarz (1978); lavaan ``lav_fit_bic``. In R: ``fitMeasures(fit, "bic")``.
    """
    return float(-2.0 * logl + npar * math.log(n))


# --------------------------------------------------------------------------- baseline


def baseline_chisq(s, n: int, x_idx: Sequence[int] | None = None) -> tuple[float, int]:
    """χ² and df of lavaan's baseline (independence) model.

    The baseline model has free variances only (its ML estimates are the sample
    variances); fixed.x covariates keep their sample covariance block. So
    ``Σ₀ = diag(S)`` (with the covariates' block of S) and
    ``χ²₀ = N (log|Σ₀| − log|S|)``, ``df₀ = p(p+1)/2 − pₓ(pₓ+1)/2 − (p − pₓ)``.

    Parameters
    ----------
    s:
        Sample covariance matrix (N divisor).
    n:
        Sample size.
    x_idx:
        Positions of fixed.x covariates.

    Returns
    -------
    tuple
        ``(chisq, df)``.

    Notes
    -----
    lavaan ``lav_partable_independence``. In R:
    ``fitMeasures(fit, c("baseline.chisq", "baseline.df"))``.
    """
    s = _arr(s)
    p = s.shape[0]
    x = _x_index(x_idx)
    px = x.size
    sigma0 = np.diag(np.diag(s))
    if px:
        sigma0[np.ix_(x, x)] = s[np.ix_(x, x)]
    df0 = p * (p + 1) // 2 - px * (px + 1) // 2 - (p - px)
    return chisq(s, sigma0, n), int(df0)


# --------------------------------------------------------------------------- incremental


def cfi(x2: float, df: int, x2_null: float, df_null: int) -> float:
    """Comparative fit index, ``1 − max(χ² − df, 0) / max(χ² − df, χ²₀ − df₀, 0)``.

    Parameters
    ----------
    x2, df:
        Model χ² and degrees of freedom.
    x2_null, df_null:
        Baseline χ² and degrees of freedom (:func:`baseline_chisq`).

    Returns
    -------
    float
        CFI in [0, 1]; 1 when both numerator and denominator are 0.

    Notes
    -----
    Bentler (1990); lavaan ``lav_fit_cfi``. In R: ``fitMeasures(fit, "cfi")``.
    """
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2_null - df_null, 0.0)
    if _is_zero(t1) and _is_zero(t2):
        return 1.0
    return float(1.0 - t1 / t2)


def tli(x2: float, df: int, x2_null: float, df_null: int) -> float:
    """Tucker-Lewis index (NNFI), ``1 − ((χ² − df) df₀) / ((χ²₀ − df₀) df)``.

    Returns
    -------
    float
        TLI (not truncated to [0, 1]); 1 when df = 0.

    Notes
    -----
    Tucker & Lewis (1973), Bentler & Bonett (1980); lavaan ``lav_fit_tli``.
    In R: ``fitMeasures(fit, "tli")``.
    """
    t1 = (x2 - df) * df_null
    t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return math.nan
    return 1.0


def nfi(x2: float, df: int, x2_null: float, df_null: int) -> float:
    """Normed fit index, ``(χ²₀ − χ²) / χ²₀``.

    Returns
    -------
    float
        NFI; NaN when df > df₀ or χ²₀ = 0; 1 when df = 0.

    Notes
    -----
    Bentler & Bonett (1980); lavaan ``lav_fit_nfi``. In R:
    ``fitMeasures(fit, "nfi")``.
    """
    if df > df_null or _is_zero(x2_null):
        return math.nan
    if df > 0:
        return float((x2_null - x2) / x2_null)
    return 1.0


def ifi(x2: float, df: int, x2_null: float, df_null: int) -> float:
    """Incremental fit index, ``(χ²₀ − χ²) / (χ²₀ − df)``.

    Returns
    -------
    float
        IFI; 1 when the denominator is negative, NaN when it is 0.

    Notes
    -----
    Bollen (1989); lavaan ``lav_fit_ifi``. In R: ``fitMeasures(fit, "ifi")``.
    """
    t1 = x2_null - x2
    t2 = x2_null - df
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return math.nan
    if t2 < 0:
        return 1.0
    if _is_zero(t2):
        return math.nan
    return float(t1 / t2)


# --------------------------------------------------------------------------- RMSEA


def rmsea(x2: float, df: int, n: int) -> float:
    """Root mean square error of approximation, ``sqrt(max((χ² − df) / (N df), 0))``.

    Parameters
    ----------
    x2, df:
        Model χ² and degrees of freedom.
    n:
        Sample size N (lavaan 0.6 divides by N, not N − 1, under the normal
        likelihood).

    Returns
    -------
    float
        RMSEA; 0 when df = 0.

    Notes
    -----
    Steiger & Lind (1980); lavaan ``lav_fit_rmsea``:
    ``sqrt(max(X2/N/df - 1/N, 0))``. In R: ``fitMeasures(fit, "rmsea")``.
    """
    if df <= 0:
        return 0.0
    return float(math.sqrt(max(x2 / n / df - 1.0 / n, 0.0)))


def _pchisq(x2: float, df: int, ncp: float) -> float:
    return float(chi2.cdf(x2, df)) if ncp == 0 else float(ncx2.cdf(x2, df, ncp))


def rmsea_ci(x2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA from the noncentral χ² distribution.

    The bounds are ``sqrt(λ / (N df))`` where λ solves
    ``pchisq(χ², df, ncp = λ) = 1 − α/2`` (lower) and ``= α/2`` (upper);
    a bound is 0 when no λ ≥ 0 solves its equation.

    Parameters
    ----------
    x2, df:
        Model χ² and degrees of freedom.
    n:
        Sample size N.
    level:
        Confidence level (lavaan's default 0.90).

    Returns
    -------
    tuple
        ``(lower, upper)``.

    Notes
    -----
    Browne & Cudeck (1993); lavaan ``lav_fit_rmsea_ci``, including its search
    range ``[0, max(N, 4 χ²)]`` for the upper λ. In R:
    ``fitMeasures(fit, c("rmsea.ci.lower", "rmsea.ci.upper"))``.
    """
    if not (math.isfinite(x2) and math.isfinite(df) and math.isfinite(n)):
        return math.nan, math.nan
    upper_p = 1.0 - (1.0 - level) / 2.0
    lower_p = (1.0 - level) / 2.0

    def lower_f(lam: float) -> float:
        return _pchisq(x2, df, lam) - upper_p

    def upper_f(lam: float) -> float:
        return _pchisq(x2, df, lam) - lower_p

    if df < 1 or lower_f(0.0) < 0:
        lo = 0.0
    else:
        lam = brentq(lower_f, 0.0, x2, xtol=RMSEA_CI_XTOL, rtol=RMSEA_CI_RTOL)
        lo = math.sqrt(lam / (n * df))
    n_rmsea = max(n, x2 * 4)
    if df < 1 or upper_f(n_rmsea) > 0 or upper_f(0.0) < 0:
        hi = 0.0
    else:
        lam = brentq(upper_f, 0.0, n_rmsea, xtol=RMSEA_CI_XTOL, rtol=RMSEA_CI_RTOL)
        hi = math.sqrt(lam / (n * df))
    return float(lo), float(hi)


def rmsea_pvalue(x2: float, df: int, n: int, h0: float = 0.05, groups: int = 1) -> float:
    """p-value of the test of close fit, H0: RMSEA ≤ ``h0``.

    ``1 − pchisq(χ², df, ncp = N df h0² / G)`` with G groups.

    Returns
    -------
    float
        The p-value; NaN when df = 0.

    Notes
    -----
    Browne & Cudeck (1993); lavaan ``lav_fit_rmsea_closefit``. In R:
    ``fitMeasures(fit, "rmsea.pvalue")``.
    """
    if df <= 0 or not math.isfinite(x2):
        return math.nan
    return float(ncx2.sf(x2, df, n * df * h0 * h0 / groups))


# --------------------------------------------------------------------------- residual-based


def srmr(s, sigma) -> float:
    """Standardised root mean square residual (Bentler's), lavaan's default ``srmr``.

    ``sqrt(mean over i ≤ j of ((s_ij − σ_ij) / sqrt(s_ii s_jj))²)``, the
    residuals scaled by the *sample* standard deviations, diagonal included,
    averaged over the ``p(p+1)/2`` elements.

    Parameters
    ----------
    s, sigma:
        Sample (N divisor) and model-implied covariance matrices.

    Returns
    -------
    float
        SRMR.

    Notes
    -----
    Bentler (1995); lavaan ``lav_fit_srmr_lavobject`` → ``srmr_bentler``
    (``lav_residuals(type = "cor.bentler")``, ``lav_residuals_summary_rms``),
    which is ``srmr`` under ``mimic = "lavaan"`` without a mean structure. In R:
    ``fitMeasures(fit, "srmr")``.
    """
    s, sigma = _arr(s), _arr(sigma)
    sd = np.sqrt(np.diag(s))
    resid = (s - sigma) / np.outer(sd, sd)
    low = resid[np.tril_indices(s.shape[0])]
    return float(math.sqrt(np.mean(low * low)))


def gfi(s, sigma, x_idx: Sequence[int] | None = None) -> float:
    """Goodness-of-fit index for ML, ``1 − tr((Σ⁻¹(S − Σ))²) / tr((Σ⁻¹S)²)``.

    lavaan writes it as ``1 − e'We / s'Ws`` with ``s = vech(S)``,
    ``e = vech(S − Σ)`` and ``W = ½ D'(Σ⁻¹ ⊗ Σ⁻¹)D`` the expected information
    of the saturated model at Σ̂ (``h1.information = "structured"``); the
    elements among fixed.x covariates get zero weight.

    Parameters
    ----------
    s, sigma:
        Sample (N divisor) and model-implied covariance matrices.
    x_idx:
        Positions of fixed.x covariates.

    Returns
    -------
    float
        GFI.

    Notes
    -----
    Jöreskog & Sörbom (1984); lavaan ``lav_fit_gfi`` with
    ``lav_model_h1_information_expected``. semopy's ``calc_stats`` GFI is
    instead the NFI formula. In R: ``fitMeasures(fit, "gfi")``.
    """
    s, sigma = _arr(s), _arr(sigma)
    sigma_inv = np.linalg.inv(sigma)
    x = _x_index(x_idx)
    obs = s.copy()
    if x.size:
        obs[np.ix_(x, x)] = 0.0
    diff = s - sigma
    if x.size:
        diff[np.ix_(x, x)] = 0.0
    a = sigma_inv @ diff
    b = sigma_inv @ obs
    return float(1.0 - np.trace(a @ a) / np.trace(b @ b))


def agfi(gfi_value: float, nel: int, df: int) -> float:
    """Adjusted GFI, ``1 − (nel / df)(1 − GFI)``.

    Parameters
    ----------
    gfi_value:
        :func:`gfi` (or an estimator's own GFI).
    nel:
        Number of sample statistics, lavaan's ``nel``: ``p(p+1)/2`` under ML
        (covariates included), plus ``p`` means under FIML, thresholds plus
        ``p(p−1)/2`` correlations under WLSMV.
    df:
        Model degrees of freedom.

    Returns
    -------
    float
        AGFI; 1 when df = 0.

    Notes
    -----
    Jöreskog & Sörbom (1984); lavaan ``lav_fit_agfi``. In R:
    ``fitMeasures(fit, "agfi")``.
    """
    if not math.isfinite(gfi_value):
        return math.nan
    if df > 0:
        return float(1.0 - (nel / df) * (1.0 - gfi_value))
    return 1.0


# --------------------------------------------------------------------------- the assembler


@dataclass(frozen=True)
class ScaledTest:
    """A scaled test statistic of the model and of the baseline model (MLM, MLR, WLSMV).

    Attributes
    ----------
    stat, df, pvalue, scaling_factor:
        The model's scaled statistic, its degrees of freedom, p-value and
        scaling factor (lavaan's ``chisq.scaled``, ``df.scaled``,
        ``pvalue.scaled``, ``chisq.scaling.factor``).
    baseline_stat:
        The baseline model's scaled statistic (for ``cfi.scaled``, ``tli.scaled``).
    rmsea:
        ``rmsea.scaled``, whose formula depends on the estimator.
    """

    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    baseline_stat: float
    rmsea: float


@dataclass(frozen=True)
class FitStatistics:
    """What an estimator hands :func:`assemble_fit`.

    Attributes
    ----------
    n:
        Sample size (the ``n`` key).
    chisq, df:
        The model's test statistic and degrees of freedom.
    baseline_chisq, baseline_df:
        The same of the baseline (independence) model.
    srmr, gfi:
        The estimator's residual summaries.
    nel:
        Sample statistics for AGFI (:func:`agfi`).
    logl:
        Log-likelihood of the model; NaN without a likelihood (WLSMV: no AIC, BIC).
    npar:
        Free parameters (AIC, BIC).
    n_rmsea:
        N in the RMSEA and its interval and test (WLSMV: N − 1, lavaan's
        ``lav_utils_get_ntotal`` without a likelihood); ``n`` when None.
    groups:
        Number of groups G: the RMSEA is multiplied by √G and the close-fit
        test's noncentrality divided by G (lavaan's ``lav_fit_rmsea``).
    scaled:
        The scaled test, if the estimator has one.
    """

    n: int
    chisq: float
    df: int
    baseline_chisq: float
    baseline_df: int
    srmr: float
    gfi: float
    nel: int
    logl: float
    npar: int
    n_rmsea: int | None = None
    groups: int = 1
    scaled: ScaledTest | None = None


def _test_measures(st: FitStatistics) -> dict[str, float]:
    return {"chisq": st.chisq, "df": st.df, "pvalue": chisq_pvalue(st.chisq, st.df),
            "chisq_df": chisq_df(st.chisq, st.df)}


def _incremental_measures(st: FitStatistics) -> dict[str, float]:
    base = (st.chisq, st.df, st.baseline_chisq, st.baseline_df)
    return {"cfi": cfi(*base), "tli": tli(*base), "nfi": nfi(*base), "ifi": ifi(*base)}


def _rmsea_measures(st: FitStatistics) -> dict[str, float]:
    n = st.n if st.n_rmsea is None else st.n_rmsea
    root_g = math.sqrt(st.groups)
    lower, upper = rmsea_ci(st.chisq, st.df, n)
    return {"rmsea": rmsea(st.chisq, st.df, n) * root_g,
            "rmsea_ci_lower": lower * root_g, "rmsea_ci_upper": upper * root_g,
            "rmsea_pvalue": rmsea_pvalue(st.chisq, st.df, n, groups=st.groups)}


def _residual_measures(st: FitStatistics) -> dict[str, float]:
    return {"srmr": st.srmr, "gfi": st.gfi, "agfi": agfi(st.gfi, st.nel, st.df)}


def _information_criteria(st: FitStatistics) -> dict[str, float]:
    if math.isnan(st.logl):
        return {"aic": math.nan, "bic": math.nan}
    return {"aic": aic(st.logl, st.npar), "bic": bic(st.logl, st.npar, st.n)}


def _scaled_measures(st: FitStatistics) -> dict[str, float]:
    sc = st.scaled
    if sc is None:
        return {}
    return {"chisq_scaled": sc.stat, "df_scaled": sc.df, "pvalue_scaled": sc.pvalue,
            "scaling_factor": sc.scaling_factor,
            "cfi_scaled": cfi(sc.stat, st.df, sc.baseline_stat, st.baseline_df),
            "tli_scaled": tli(sc.stat, st.df, sc.baseline_stat, st.baseline_df),
            "rmsea_scaled": sc.rmsea}


def assemble_fit(st: FitStatistics) -> dict[str, float]:
    """The FIT block of results.json from an estimator's statistics (lavaan's ``lav_fit()``).

    Returns
    -------
    dict
        :data:`FIT_KEYS` in order (NaN where lavaan reports NA), then
        :data:`SCALED_KEYS` when ``st.scaled`` is given. One small function
        per family: the test, the incremental indices, the RMSEA, the
        residual-based indices, the information criteria, the scaled test.
    """
    out: dict[str, float] = {"n": st.n}
    for family in (_test_measures, _incremental_measures, _rmsea_measures,
                   _residual_measures, _information_criteria, _scaled_measures):
        out.update(family(st))
    return out


class _FitLike(Protocol):
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    n: int
    npar: int
    df: int
    x_vars: tuple[str, ...]


@dataclass(frozen=True)
class MLStatistics:
    """:class:`FitStatistics` of an ML fit and the saturated log-likelihood.

    Attributes
    ----------
    fit:
        What :func:`assemble_fit` takes.
    unrestricted_logl:
        Log-likelihood of the saturated model.
    """

    fit: FitStatistics
    unrestricted_logl: float


def ml_statistics(fit: _FitLike, scaled: ScaledTest | None = None) -> MLStatistics:
    """The statistics of an ML fit, computed from S, Σ, N, df and q.

    Parameters
    ----------
    fit:
        A :class:`sem_kit.engine.fit.Fit` (anything with ``sample_cov``,
        ``implied_cov``, ``n``, ``npar``, ``df`` and ``x_vars``).
    scaled:
        A scaled test (MLM, MLR) to report with it.

    Returns
    -------
    MLStatistics
        χ² = 2 N F, the baseline χ² with covariates fixed, SRMR, GFI with
        ``nel = p(p+1)/2``, the log-likelihoods.
    """
    s = fit.sample_cov.to_numpy(dtype=float)
    sigma = fit.implied_cov.to_numpy(dtype=float)
    names = list(fit.sample_cov.index)
    x_idx = [names.index(v) for v in fit.x_vars]
    n, p = int(fit.n), s.shape[0]
    x2_null, df_null = baseline_chisq(s, n, x_idx)
    stats = FitStatistics(
        n=n, chisq=chisq(s, sigma, n), df=int(fit.df), baseline_chisq=x2_null,
        baseline_df=df_null, srmr=srmr(s, sigma), gfi=gfi(s, sigma, x_idx),
        nel=p * (p + 1) // 2, logl=loglik(s, sigma, n, x_idx), npar=int(fit.npar),
        scaled=scaled)
    return MLStatistics(stats, unrestricted_loglik(s, n, x_idx))


def fit_measures(fit: _FitLike) -> dict[str, float]:
    """Every FIT key of results.json for an ML fit.

    Returns
    -------
    dict
        ``n, chisq, df, pvalue, chisq_df, cfi, tli, nfi, ifi, rmsea,
        rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, srmr, gfi, agfi, aic,
        bic`` (NaN where lavaan reports NA), from :func:`ml_statistics`.

    Notes
    -----
    In R: ``fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli", "nfi",
    "ifi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue",
    "srmr", "gfi", "agfi", "aic", "bic"))``.
    """
    return assemble_fit(ml_statistics(fit).fit)
