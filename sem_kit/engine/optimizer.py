"""The optimisers of the engine.

:func:`bfgs` refits a model on a bootstrap resample from the full-sample
estimates; :class:`RefitFailed` is what a refit raises when it cannot give
estimates (the bootstrap counts and names those resamples).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import blas

__all__ = ["RefitFailed", "bfgs"]

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
            if g_new is not None and f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
            if step < 1e-10:
                return x, it, gmax
        sx = x_new - x
        y = g_new - g
        sy = float(sx @ y)
        if sy > 1e-16:
            rho = 1.0 / sy
            hy = _symv(1.0, h_inv, y)
            z = (0.5 * (1.0 + rho * float(y @ hy)) * rho) * sx - rho * hy
            _syr2(1.0, sx, z, a=h_inv, overwrite_a=1)
        x, f, g = x_new, f_new, g_new
        gmax = float(np.abs(g).max())
    return x, max_iter, gmax
