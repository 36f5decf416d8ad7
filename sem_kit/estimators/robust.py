"""Robust maximum likelihood: lavaan's MLM and MLR on complete data.

Both keep the ML estimates (:func:`sem_kit.estimators.ml.fit_model`) and replace
what assumes multivariate normality: the standard errors and the test
statistic, and with it the fit indices built on the test statistic.

Notation (one group, no mean structure, as lavaan's default for these
estimators on complete data): ``s = vech(S)`` (N divisor), ``σ(θ) = vech(Σ(θ))``,
``Δ = ∂σ/∂θᵀ`` (``p* × q``), ``W = ½ Dᵀ(Σ̂⁻¹ ⊗ Σ̂⁻¹)D`` the expected
information of the saturated model at Σ̂ (lavaan's ``h1.information =
"structured"``), ``Γ`` the asymptotic covariance matrix of ``√N s`` estimated
from the fourth-order moments of the data (Browne 1984; lavaan's ``NACOV``,
``lav_samplestats_Gamma``: ``Γ = 1/N Σᵢ (dᵢ − d̄)(dᵢ − d̄)ᵀ``,
``dᵢ = vech((yᵢ − ȳ)(yᵢ − ȳ)ᵀ)``), N the sample size and ``df`` the model's
degrees of freedom.

MLM (``estimator = "MLM"``: ``se = "robust.sem"``, ``test = "satorra.bentler"``,
expected information)
    ``E = Δᵀ W Δ`` (unit expected information),
    ``vcov = E⁻¹ (Δᵀ W Γ W Δ) E⁻¹ / N`` (Satorra & Bentler 1994; lavaan
    ``lav_model_nvcov_robust_sem``);
    ``U = W − W Δ E⁻¹ Δᵀ W``, scaling factor ``c = tr(UΓ) / df``,
    ``T_SB = T_ML / c`` (Satorra & Bentler 1994; lavaan
    ``lav_test_satorra_bentler``, ``method = "original"``).

MLR (``estimator = "MLR"``: ``se = "robust.huber.white"``,
``test = "yuan.bentler.mplus"``, observed information)
    ``H`` the Hessian of lavaan's ``fmin = ½(log|Σ| + tr(SΣ⁻¹) − log|S| − p)``
    at θ̂ (observed information, by lavaan's five-point central differences
    of the analytic gradient with ``h = 10⁻⁶``, ``lav_model_hessian``);
    ``B₁ = 1/N Σᵢ gᵢ gᵢᵀ`` with ``gᵢ = ∂ log f(yᵢ; ȳ, Σ̂)/∂σ`` the casewise
    scores (``lav_mvnorm_scores_vech_sigma``: ``(Σ̂⁻¹yᵢᶜ)ₖ(Σ̂⁻¹yᵢᶜ)ₗ − (Σ̂⁻¹)ₖₗ``,
    halved on the diagonal), ``B₀ = Δᵀ B₁ Δ``;
    ``vcov = H⁻¹ B₀ H⁻¹ / N`` (Huber 1967, White 1982; lavaan
    ``lav_model_nvcov_robust_sandwich``);
    scaling factor ``c = (tr(A₁Γ) − tr(B₀H⁻¹)) / df`` with ``A₁ = ½ Dᵀ(S⁻¹ ⊗ S⁻¹)D``
    (Yuan & Bentler 2000; Mplus's variant, lavaan ``lav_test_yuan_bentler``
    with ``lav_test_yuan_bentler_mplus_trace``), ``T_YB = T_ML / c``.

Both tests are also computed for lavaan's baseline (independence) model,
``Σ₀ = diag(S)`` (``c₀``, ``T₀``), and the fit indices follow lavaan
0.6-14's ``fitMeasures()``:

- ``cfi_scaled``, ``tli_scaled``: CFI and TLI of ``T/c`` and ``T₀/c₀``;
- ``cfi_robust``, ``tli_robust``: Brosseau-Liard & Savalei (2014),
  ``1 − max(T − c·df, 0) / max(T − c·df, T₀ − c₀·df₀, 0)`` and
  ``1 − ((T − c·df) df₀) / ((T₀ − c₀·df₀) df)`` (``lav_fit_cfi``, ``lav_fit_tli``
  with ``c.hat``);
- ``rmsea_scaled = sqrt(max(T / (N tr(UΓ)) − 1/N, 0))`` (``lav_fit_rmsea`` with
  ``df = trace.UGamma``), ``rmsea_robust = sqrt(max(T / (N df) − c/N, 0))``
  (Brosseau-Liard, Savalei & Li 2012; ``c.hat``).

Observed exogenous covariates (``fixed.x = TRUE``) get zero weight in W, A₁
and the scores, and Γ is taken from the residuals of the other variables'
regressions on them, as ``lav_samplestats_Gamma(fixed.x = TRUE)``.

Examples
--------
>>> from sem_kit.estimators.robust import fit_robust                        # doctest: +SKIP
>>> mlr = fit_robust(model, data, estimator="MLR")              # doctest: +SKIP
>>> mlr.measures["chisq_scaled"], mlr.params.se                 # doctest: +SKIP

In R: ``sem(model, data, estimator = "MLR")`` then ``parameterEstimates(fit)``
and ``fitMeasures(fit, c("chisq.scaled", "cfi.robust", "rmsea.robust"))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sem_kit.engine.algebra import normal_weight, sd_of, vech_index, with_standard_errors
from sem_kit.engine.fit import EstimatorFit, Fit, vcov_frame
from sem_kit.engine.fit_indices import (
    ScaledTest,
    assemble_fit,
    baseline_chisq,
    ml_statistics,
    rmsea_ci,
)
from sem_kit.engine.ram import compile_model, moments, param_jacobian, row_values
from sem_kit.engine.syntax import ModelSpec
from sem_kit.engine.threads import single_blas_thread
from sem_kit.engine.tolerances import HESSIAN_STEP
from sem_kit.errors import InputError
from sem_kit.estimators.ml import fit_model, information_and_gradient

__all__ = [
    "RobustTest",
    "cfi_robust",
    "fit_robust",
    "gamma_adf",
    "rmsea_robust",
    "robust_test",
    "tli_robust",
]



# --------------------------------------------------------------------------- moments


def gamma_adf(y: np.ndarray, x_idx: np.ndarray | None = None) -> np.ndarray:
    """Asymptotic covariance matrix of ``√N vech(S)`` from the data (Browne 1984).

    ``Γ = 1/N Σᵢ (dᵢ − d̄)(dᵢ − d̄)ᵀ`` with ``dᵢ = vech(yᵢᶜ yᵢᶜᵀ)`` and
    ``yᵢᶜ = yᵢ − ȳ``; with fixed.x covariates, ``yᵢᶜ`` of the other variables
    is replaced by ``yᵢᶜ − ŷᵢᶜ`` products as in lavaan: ``dᵢ = vech(yᵢᶜyᵢᶜᵀ) −
    vech(ŷᵢᶜŷᵢᶜᵀ)`` where ``ŷᵢ`` holds the fitted values of each non-x variable's
    least-squares regression on the covariates (the covariates themselves
    unchanged).

    Parameters
    ----------
    y:
        ``(N, p)`` complete data.
    x_idx:
        Columns of fixed.x covariates.

    Returns
    -------
    numpy.ndarray
        ``(p*, p*)`` in lavaan's ``vech`` order (N divisor).

    Notes
    -----
    lavaan ``lav_samplestats_Gamma(Y, x.idx, fixed.x = TRUE, meanstructure =
    FALSE)``. In R: ``lavInspect(sem(model, data, estimator = "MLM"), "gamma")``.
    """
    y = np.asarray(y, dtype=float)
    n, p = y.shape
    rows, cols = vech_index(p)
    yc = y - y.mean(axis=0)
    z = yc[:, rows] * yc[:, cols]
    if x_idx is not None and len(x_idx):
        x_idx = np.asarray(x_idx, dtype=int)
        design = np.column_stack([np.ones(n), y[:, x_idx]])
        not_x = np.setdiff1d(np.arange(p), x_idx)
        coef, *_ = np.linalg.lstsq(design, y[:, not_x], rcond=None)
        yhat = y.copy()
        yhat[:, not_x] = design @ coef
        yhc = yhat - yhat.mean(axis=0)
        z = z - yhc[:, rows] * yhc[:, cols]
    zc = z - z.mean(axis=0)
    return zc.T @ zc / n


def _casewise_scores(y: np.ndarray, sigma: np.ndarray, rows: np.ndarray,
                     cols: np.ndarray, x_cells: np.ndarray) -> np.ndarray:
    """Scores of the normal log-likelihood for ``vech(Σ)`` at ``(ȳ, Σ)``, ``(N, p*)``."""
    sigma_inv = np.linalg.inv(sigma)
    yc = (y - y.mean(axis=0)) @ sigma_inv
    sc = yc[:, rows] * yc[:, cols] - sigma_inv[rows, cols]
    sc[:, rows == cols] /= 2.0
    sc[:, x_cells] = 0.0
    return sc


def _x_cells(rows: np.ndarray, cols: np.ndarray, x_idx: np.ndarray) -> np.ndarray:
    """Which ``vech`` elements are (co)variances among fixed.x covariates."""
    return np.isin(rows, x_idx) & np.isin(cols, x_idx)


# --------------------------------------------------------------------------- the tests


@dataclass(frozen=True)
class RobustTest:
    """A scaled test statistic as lavaan's ``lavInspect(fit, "test")`` entry.

    Attributes
    ----------
    test:
        ``"satorra.bentler"`` (MLM) or ``"yuan.bentler.mplus"`` (MLR).
    stat:
        Scaled statistic ``T / c``.
    df:
        Degrees of freedom (those of the unscaled test).
    pvalue:
        Upper-tail χ² probability of ``stat``.
    scaling_factor:
        ``c = tr(UΓ) / df``.
    trace_ugamma:
        ``tr(UΓ)``.
    """

    test: str
    stat: float
    df: int
    pvalue: float
    scaling_factor: float
    trace_ugamma: float


def robust_test(test: str, t_ml: float, df: int, trace_ugamma: float) -> RobustTest:
    """Scale a χ² statistic by ``c = tr(UΓ) / df``.

    Parameters
    ----------
    test:
        lavaan's name of the test.
    t_ml:
        The normal-theory statistic.
    df:
        Its degrees of freedom.
    trace_ugamma:
        ``tr(UΓ)`` (Satorra-Bentler) or ``tr(A₁Γ) − tr(B₀H⁻¹)`` (Yuan-Bentler).

    Returns
    -------
    RobustTest
        With ``df = 0`` lavaan keeps the unscaled statistic and an NA scaling
        factor; so does this. A negative ``c`` is NA too.

    Notes
    -----
    lavaan ``lav_test_satorra_bentler`` / ``lav_test_yuan_bentler``.
    """
    if df <= 0:
        return RobustTest(test, t_ml, df, math.nan, math.nan, math.nan)
    c = trace_ugamma / df
    if c < 0:
        c = math.nan
    stat = t_ml / c
    pvalue = float(chi2.sf(stat, df)) if math.isfinite(stat) else math.nan
    return RobustTest(test, float(stat), int(df), pvalue, float(c), float(trace_ugamma))


def _numeric_hessian(grad, theta: np.ndarray, h: float = HESSIAN_STEP) -> np.ndarray:
    """lavaan's ``lav_model_hessian``: five-point central differences of the gradient.

    ``H[:, j] = (g(θ − 2h eⱼ) − 8 g(θ − h eⱼ) + 8 g(θ + h eⱼ) − g(θ + 2h eⱼ)) / (12 h)``,
    then symmetrised.
    """
    q = theta.size
    hess = np.zeros((q, q))
    for j in range(q):
        step = np.zeros(q)
        step[j] = h
        hess[:, j] = (grad(theta - 2 * step) - 8 * grad(theta - step)
                      + 8 * grad(theta + step) - grad(theta + 2 * step)) / (12 * h)
    return (hess + hess.T) / 2.0


def _model_gradient(spec: ModelSpec, s: np.ndarray):
    comp = compile_model(spec)
    p = comp.ram.p

    def grad(theta: np.ndarray) -> np.ndarray:
        c, b = moments(comp.ram, row_values(comp, theta, s))
        sigma_inv = np.linalg.inv(c[:p, :p])
        return information_and_gradient(comp, b, c, sigma_inv, s)[1]

    return grad


def _delta(fit: Fit, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``Δ = ∂vech(Σ)/∂θᵀ`` at the estimates, ``(p*, q)``."""
    spec = fit.spec
    comp = compile_model(spec)
    s = fit.sample_cov.to_numpy(dtype=float)
    c, b = moments(comp.ram, row_values(comp, fit.theta, s))
    jac = param_jacobian(comp, b, c)
    return jac[:, rows, cols].T


def _inverse(mat: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.linalg.inv(mat)
    except np.linalg.LinAlgError as exc:
        raise InputError(f"the {what} cannot be inverted ({exc}); the model is not identified "
                         "in this sample, so robust standard errors cannot be computed") from exc


@dataclass(frozen=True)
class _Pieces:
    """What both robust estimators need from the data and the ML fit."""

    y: np.ndarray
    s: np.ndarray
    sigma: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    x_idx: np.ndarray
    x_cells: np.ndarray
    gamma: np.ndarray
    n: int


def _pieces(fit: Fit, data: pd.DataFrame) -> _Pieces:
    spec = fit.spec
    obs = list(spec.observed)
    y = data[obs].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise InputError("missing values in the data: MLM and MLR here need complete rows "
                         "(listwise deletion comes first; FIML is --missing fiml)")
    if y.shape[0] != fit.n:
        raise InputError(f"the data have {y.shape[0]} rows but the fit used {fit.n}")
    p = len(obs)
    rows, cols = vech_index(p)
    x_idx = np.array([obs.index(v) for v in spec.x_vars], dtype=int)
    x_cells = _x_cells(rows, cols, x_idx)
    return _Pieces(
        y=y, s=fit.sample_cov.to_numpy(dtype=float), sigma=fit.implied_cov.to_numpy(dtype=float),
        rows=rows, cols=cols, x_idx=x_idx, x_cells=x_cells, gamma=gamma_adf(y, x_idx),
        n=fit.n,
    )


def _weight(sigma: np.ndarray, pc: _Pieces) -> np.ndarray:
    w = normal_weight(np.linalg.inv(sigma), pc.rows, pc.cols)
    w[pc.x_cells, :] = 0.0
    w[:, pc.x_cells] = 0.0
    return w


def _satorra_bentler(delta: np.ndarray, w: np.ndarray, gamma: np.ndarray,
                     e_inv: np.ndarray) -> float:
    """``tr(UΓ)`` with ``U = W − WΔE⁻¹ΔᵀW`` (``lav_test_satorra_bentler_trace_original``)."""
    wd = w @ delta
    u = w - wd @ e_inv @ wd.T
    return float(np.sum(u * gamma))


def _yb_h1_trace(pc: _Pieces) -> float:
    """``tr(A₁Γ)`` over the non-covariate elements, A₁ at S (unstructured)."""
    a1 = _weight(pc.s, pc)
    keep = ~pc.x_cells
    return float(np.sum(a1[np.ix_(keep, keep)] * pc.gamma[np.ix_(keep, keep)]))


def _first_order(pc: _Pieces, sigma: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``B₀ = Δᵀ B₁ Δ``, ``B₁`` the mean cross-product of the casewise scores at Σ."""
    sc = _casewise_scores(pc.y, sigma, pc.rows, pc.cols, pc.x_cells)
    sd = sc @ delta
    return sd.T @ sd / pc.n


def _baseline(pc: _Pieces) -> tuple[np.ndarray, np.ndarray]:
    """Σ₀ of lavaan's independence model and its ``Δ₀`` (one column per free variance)."""
    p = pc.s.shape[0]
    sigma0 = np.diag(np.diag(pc.s))
    if pc.x_idx.size:
        sigma0[np.ix_(pc.x_idx, pc.x_idx)] = pc.s[np.ix_(pc.x_idx, pc.x_idx)]
    free = [i for i in range(p) if i not in set(pc.x_idx.tolist())]
    delta0 = np.zeros((pc.rows.size, len(free)))
    for k, i in enumerate(free):
        delta0[(pc.rows == i) & (pc.cols == i), k] = 1.0
    return sigma0, delta0


def _baseline_hessian(pc: _Pieces, sigma0: np.ndarray, delta0: np.ndarray) -> np.ndarray:
    """Hessian of ``fmin`` of the independence model at Σ₀ (numerically, as lavaan)."""
    diag_free = [int(pc.rows[np.flatnonzero(delta0[:, k])[0]]) for k in range(delta0.shape[1])]

    def grad(theta: np.ndarray) -> np.ndarray:
        sig = sigma0.copy()
        sig[diag_free, diag_free] = theta
        inv = np.linalg.inv(sig)
        omega = inv @ (sig - pc.s) @ inv
        return 0.5 * omega[diag_free, diag_free]

    return _numeric_hessian(grad, sigma0[diag_free, diag_free].copy())


# --------------------------------------------------------------------------- indices


def cfi_robust(t: float, df: int, c: float, t0: float, df0: int, c0: float) -> float:
    """Robust CFI of Brosseau-Liard & Savalei (2014).

    ``1 − max(T − c·df, 0) / max(T − c·df, T₀ − c₀·df₀, 0)`` with T, T₀ the
    unscaled statistics of the model and the baseline model and c, c₀ their
    scaling factors; 1 when both terms are 0.

    Notes
    -----
    lavaan ``lav_fit_cfi(X2, df, X2.null, df.null, c.hat, c.hat.null)``. In R:
    ``fitMeasures(fit, "cfi.robust")``.
    """
    if any(math.isnan(v) for v in (t, c, t0, c0)):
        return math.nan
    if df > 0 and c != 1 and c0 != 1:
        t1 = max(t - c * df, 0.0)
        t2 = max(t - c * df, t0 - c0 * df0, 0.0)
    else:
        t1 = max(t - df, 0.0)
        t2 = max(t - df, t0 - df0, 0.0)
    if abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8:
        return 1.0
    return float(1.0 - t1 / t2)


def tli_robust(t: float, df: int, c: float, t0: float, df0: int, c0: float) -> float:
    """Robust TLI of Brosseau-Liard & Savalei (2014).

    ``1 − ((T − c·df) df₀) / ((T₀ − c₀·df₀) df)``; 1 when df = 0.

    Notes
    -----
    lavaan ``lav_fit_tli(..., c.hat, c.hat.null)``. In R:
    ``fitMeasures(fit, "tli.robust")``.
    """
    if any(math.isnan(v) for v in (t, c, t0, c0)):
        return math.nan
    if df > 0 and c != 1 and c0 != 1:
        t1 = (t - c * df) * df0
        t2 = (t0 - c0 * df0) * df
    else:
        t1 = (t - df) * df0
        t2 = (t0 - df0) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    return 1.0


def rmsea_robust(t: float, df: float, n: int, c: float = 1.0) -> float:
    """RMSEA with a scaling correction, ``sqrt(max(T / (N df) − c / N, 0))``.

    With ``c`` the scaling factor this is the robust RMSEA of Brosseau-Liard,
    Savalei & Li (2012); with ``df = tr(UΓ)`` and ``c = 1`` lavaan's
    ``rmsea.scaled``.

    Notes
    -----
    lavaan ``lav_fit_rmsea(X2, df, N, c.hat)``. In R:
    ``fitMeasures(fit, c("rmsea.robust", "rmsea.scaled"))``.
    """
    if not (math.isfinite(t) and math.isfinite(df) and math.isfinite(c)):
        return math.nan
    if df <= 0:
        return 0.0
    return float(math.sqrt(max(t / n / df - c / n, 0.0)))


def _rmsea_ci_scaled(t: float, df: float, n: int, c: float = 1.0) -> tuple[float, float]:
    """lavaan's ``lav_fit_rmsea_ci(X2, df, N, c.hat)``: bounds ``sqrt(c·λ / (N df))``."""
    if not (math.isfinite(t) and math.isfinite(df) and math.isfinite(c)) or df <= 0:
        return math.nan, math.nan
    lo, hi = rmsea_ci(t, df, n)
    return lo * math.sqrt(c), hi * math.sqrt(c)


# --------------------------------------------------------------------------- entry point


@single_blas_thread
def fit_robust(model: str | ModelSpec | Fit, data: pd.DataFrame, *,
               estimator: str = "MLR") -> EstimatorFit:
    """Fit a model by ML with robust standard errors and a scaled test (MLM or MLR).

    Parameters
    ----------
    model:
        lavaan syntax, a :class:`~sem_kit.engine.syntax.ModelSpec`, or an ML
        :class:`~sem_kit.engine.fit.Fit` of it to the same ``data`` (then no
        refit is done).
    data:
        Complete rows, one column per observed variable.
    estimator:
        ``"MLM"`` (Satorra-Bentler) or ``"MLR"`` (Huber-White, Yuan-Bentler).

    Returns
    -------
    EstimatorFit
        ML estimates and standardised solution; robust ``se``, ``z``,
        ``pvalue``; ``measures`` with the FIT keys (ML, unscaled, as lavaan
        prints them in the "Standard" column) plus ``chisq_scaled, df_scaled,
        pvalue_scaled, scaling_factor, cfi_scaled, tli_scaled, rmsea_scaled,
        cfi_robust, tli_robust, rmsea_robust``; ``extra`` with the baseline's
        scaled statistic and the scaled and robust RMSEA intervals.

    Raises
    ------
    InputError
        As :func:`~sem_kit.estimators.ml.fit_model`; missing values; an
        unknown estimator; a singular information matrix.

    Notes
    -----
    Formulas in the module docstring. In R: ``sem(model, data, estimator =
    "MLM")`` / ``estimator = "MLR"``; ``parameterEstimates(fit, standardized =
    TRUE)``; ``fitMeasures(fit)``.
    """
    estimator = estimator.upper()
    if estimator not in ("MLM", "MLR"):
        raise InputError(f"robust ML estimator {estimator!r}: expected MLM or MLR")
    fit = model if isinstance(model, Fit) else fit_model(model, data)
    pc = _pieces(fit, data)
    spec = fit.spec
    n = pc.n
    delta = _delta(fit, pc.rows, pc.cols)
    delta[pc.x_cells, :] = 0.0
    w = _weight(pc.sigma, pc)
    sigma0, delta0 = _baseline(pc)
    w0 = _weight(sigma0, pc)
    t0, df0 = baseline_chisq(pc.s, n, pc.x_idx)

    if estimator == "MLM":
        e_inv = _inverse(delta.T @ w @ delta, "expected information matrix")
        wd = w @ delta
        vcov = e_inv @ (wd.T @ pc.gamma @ wd) @ e_inv / n
        trace = _satorra_bentler(delta, w, pc.gamma, e_inv)
        e0_inv = _inverse(delta0.T @ w0 @ delta0, "baseline model's information matrix")
        trace0 = _satorra_bentler(delta0, w0, pc.gamma, e0_inv)
        name = "satorra.bentler"
    else:
        hess = _numeric_hessian(_model_gradient(spec, pc.s), fit.theta.copy())
        h_inv = _inverse(hess, "observed information matrix")
        b0 = _first_order(pc, pc.sigma, delta)
        vcov = h_inv @ b0 @ h_inv / n
        h1 = _yb_h1_trace(pc)
        trace = h1 - float(np.sum(b0 * h_inv.T))
        h0_inv = _inverse(_baseline_hessian(pc, sigma0, delta0),
                          "baseline model's information matrix")
        b00 = _first_order(pc, sigma0, delta0)
        trace0 = h1 - float(np.sum(b00 * h0_inv.T))
        name = "yuan.bentler.mplus"

    test = robust_test(name, fit.chisq, fit.df, trace)
    test0 = robust_test(name, t0, df0, trace0)
    c, c0 = test.scaling_factor, test0.scaling_factor
    scaled = ScaledTest(test.stat, test.df, test.pvalue, c, test0.stat,
                        rmsea_robust(fit.chisq, trace if fit.df > 0 else math.nan, n))
    ml = ml_statistics(fit, scaled)
    measures = assemble_fit(ml.fit)
    measures.update(
        cfi_robust=cfi_robust(fit.chisq, fit.df, c, t0, df0, c0),
        tli_robust=tli_robust(fit.chisq, fit.df, c, t0, df0, c0),
        rmsea_robust=rmsea_robust(fit.chisq, fit.df, n, c),
    )
    lo_s, hi_s = _rmsea_ci_scaled(fit.chisq, trace, n) if fit.df > 0 else (math.nan, math.nan)
    lo_r, hi_r = _rmsea_ci_scaled(test.stat, fit.df, n, c)
    extra = {
        "logl": ml.fit.logl, "unrestricted_logl": ml.unrestricted_logl, "npar": fit.npar,
        "baseline_chisq": t0, "baseline_df": df0, "baseline_chisq_scaled": test0.stat,
        "baseline_chisq_scaling_factor": c0,
        "rmsea_ci_lower_scaled": lo_s, "rmsea_ci_upper_scaled": hi_s,
        "rmsea_ci_lower_robust": lo_r, "rmsea_ci_upper_robust": hi_r,
    }
    warnings = list(fit.warnings)
    if fit.df > 0 and math.isnan(c):
        warnings.append(f"the {name} scaling factor is negative, so there is no scaled test "
                        "statistic (lavaan reports NA too)")
    tests = {
        "standard": {"test": "standard", "stat": fit.chisq, "df": fit.df,
                     "pvalue": measures["pvalue"]},
        name: {"test": name, "stat": test.stat, "df": test.df, "pvalue": test.pvalue,
               "scaling_factor": c, "trace_ugamma": trace},
    }
    return EstimatorFit(
        estimator=estimator,
        missing="listwise",
        spec=spec,
        params=with_standard_errors(fit.params, sd_of(vcov)),
        measures=measures,
        vcov=vcov_frame(vcov),
        theta=fit.theta.copy(),
        n=n,
        npar=fit.npar,
        df=fit.df,
        r2=fit.r2,
        sample_cov=fit.sample_cov,
        implied_cov=fit.implied_cov,
        converged=fit.converged,
        warnings=tuple(warnings),
        admissible=fit.admissible,
        test=tests,
        ml_fit=fit,
        extra=extra,
    )
