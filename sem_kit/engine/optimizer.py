"""The optimisers of the engine.

:func:`fisher_scoring` is the one estimation loop (lavaan's
``lav_model_estimate``): every estimator -- ML, FIML, multi-group ML,
WLSMV's Gauss-Newton -- hands it its objective's value, gradient and
information. :func:`bfgs` refits a model on a bootstrap resample from the
full-sample estimates; :class:`RefitFailed` is what a refit raises when it
cannot give estimates (the bootstrap counts and names those resamples).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas

from sem_kit.engine.tolerances import (
    BFGS_ARMIJO,
    BFGS_MIN_CURVATURE,
    BFGS_MIN_STEP,
    ScoringSettings,
)

__all__ = ["Optimum", "RefitFailed", "bfgs", "fisher_scoring"]

_symv = blas.dsymv  # y = α H x from the upper triangle of H
_syr2 = blas.dsyr2  # H ← H + α (x yᵀ + y xᵀ) on the upper triangle


class RefitFailed(Exception):
    """Raised by a statistic function when the refit on a resample did not succeed."""


def bfgs(fun: Callable[[np.ndarray], tuple[float, np.ndarray | None]], x0: np.ndarray,
         h_inv0: np.ndarray, gtol: float, max_iter: int) -> tuple[np.ndarray, int, float]:
    """Minimise ``fun`` by BFGS from ``x0``; returns (x, iterations, max |gradient|).

    ``fun(x)`` gives the value and the gradient, or ``(inf, None)`` where the
    objective is undefined (the line search then halves its step). The first
    inverse Hessian is ``h_inv0`` (a refit uses the inverse information at the
    full-sample estimates), restored when the update loses positive definiteness.
    The inverse Hessian ``H`` is kept as the upper triangle of a Fortran array
    and updated in place by the symmetric rank-2 BFGS formula
    ``H ← H + s zᵀ + z sᵀ``, ``z = ½ (1 + ρ yᵀHy) ρ s − ρ H y``, ``ρ = 1 / sᵀy``
    (Nocedal & Wright 2006, eq. 6.17); backtracking with the Armijo condition.

    Raises
    ------
    RefitFailed
        ``fun`` is undefined at ``x0``.
    """
    x = np.asarray(x0, dtype=float).copy()
    h_inv = np.array(h_inv0, order="F")
    f, g = fun(x)
    if g is None:
        raise RefitFailed("the full-sample estimates give a non-positive-definite Σ")
    gmax = float(np.abs(g).max())
    for it in range(1, max_iter + 1):
        if gmax < gtol:
            return x, it - 1, gmax
        d = _symv(-1.0, h_inv, g)
        slope = float(g @ d)
        if slope >= 0.0:  # lost positive definiteness: restart from the first one
            h_inv = np.array(h_inv0, order="F")
            d = _symv(-1.0, h_inv, g)
            slope = float(g @ d)
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if g_new is not None and f_new <= f + BFGS_ARMIJO * step * slope:
                break
            step *= 0.5
            if step < BFGS_MIN_STEP:
                return x, it, gmax
        sx = x_new - x
        y = g_new - g
        sy = float(sx @ y)
        if sy > BFGS_MIN_CURVATURE:
            rho = 1.0 / sy
            hy = _symv(1.0, h_inv, y)
            z = (0.5 * (1.0 + rho * float(y @ hy)) * rho) * sx - rho * hy
            _syr2(1.0, sx, z, a=h_inv, overwrite_a=1)
        x, f, g = x_new, f_new, g_new
        gmax = float(np.abs(g).max())
    return x, max_iter, gmax


#: An objective's value, gradient and information at θ: ``(F, ∂F/∂θ, I)``; the
#: gradient and information may be None where F is not finite.
Score = Callable[[np.ndarray], tuple[float, np.ndarray | None, np.ndarray | None]]


@dataclass(frozen=True)
class Optimum:
    """Where :func:`fisher_scoring` stopped.

    Attributes
    ----------
    theta:
        The last accepted parameter values.
    f:
        The objective there.
    gradient:
        max |∂F/∂θ| there (inf when the start was undefined).
    iterations:
        Scoring steps taken.
    converged:
        The gradient fell below the estimator's ``stop`` tolerance, or below
        its ``accept`` tolerance where the loop ended otherwise.
    message:
        ``"converged"``, ``"line search failed"``, ``"no convergence in N
        iterations"`` or why the start was unusable.
    """

    theta: np.ndarray
    f: float
    gradient: float
    iterations: int
    converged: bool
    message: str


def _largest(grad: np.ndarray) -> float:
    return float(np.abs(grad).max()) if grad.size else 0.0


def _scoring_step(info: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The Fisher-scoring direction ``−I⁻¹ g`` (least squares where I is singular)."""
    try:
        return -np.linalg.solve(info, grad)
    except np.linalg.LinAlgError:
        return -np.linalg.lstsq(info, grad, rcond=None)[0]


def fisher_scoring(score: Score, theta0: np.ndarray, settings: ScoringSettings, *,
                   value: Callable[[np.ndarray], float] | None = None,
                   undefined_start: str = "start values give an undefined objective") -> Optimum:
    """Minimise an objective by Fisher scoring with a halving line search.

    Parameters
    ----------
    score:
        ``θ -> (F, ∂F/∂θ, I)``: the objective, its gradient and its (expected)
        information, which serves as the Hessian.
    theta0:
        Start values.
    settings:
        The estimator's tolerances (:mod:`sem_kit.engine.tolerances`).
    value:
        ``θ -> F`` alone, for the line search; needed unless
        ``settings.rescore_in_line_search``.
    undefined_start:
        The message when F is not finite at ``theta0``.

    Returns
    -------
    Optimum
        The estimates and how the loop ended. A step ``θ + t d`` with
        ``d = −I⁻¹ g`` is taken at the first ``t = 1, ½, ¼, ...`` (down to
        ``settings.min_step``) where F is finite and at most
        ``F + slack · |F|``; the loop stops when max |g| falls below
        ``settings.stop``, when no step is found or after ``max_iter`` steps.
    """
    theta = np.asarray(theta0, dtype=float).copy()
    f, grad, info = score(theta)
    if not math.isfinite(f):
        return Optimum(theta, f, math.inf, 0, False, undefined_start)
    for it in range(1, settings.max_iter + 1):
        gmax = _largest(grad)
        if gmax < settings.stop:
            return Optimum(theta, f, gmax, it - 1, True, "converged")
        step = _scoring_step(info, grad)
        t = 1.0
        while t > settings.min_step:
            cand = theta + t * step
            if settings.rescore_in_line_search:
                f_new, grad_new, info_new = score(cand)
            else:
                f_new = value(cand)
            if math.isfinite(f_new) and f_new <= f + settings.slack * abs(f):
                break
            t *= 0.5
        else:
            converged = gmax < settings.accept
            return Optimum(theta, f, gmax, it, converged,
                           "converged" if converged else "line search failed")
        theta = cand
        if settings.rescore_in_line_search:
            f, grad, info = f_new, grad_new, info_new
        else:
            f, grad, info = score(theta)
    gmax = _largest(grad)
    converged = gmax < settings.accept
    return Optimum(theta, f, gmax, settings.max_iter, converged,
                   "converged" if converged else
                   f"no convergence in {settings.max_iter} iterations")
