"""Fast maximum-likelihood refits of one fitted model, for the bootstrap.

A bootstrap refits the same model to thousands of resamples. Everything that
does not depend on the resample is built once, in :class:`Refitter`, from the
full-sample :class:`~sem_kit.estimation.Fit`; a resample then costs its
covariance matrix and a short quasi-Newton run, with no semopy, no pandas and
no standard errors.

Model (RAM form, McArdle & McDonald 1984, as in :mod:`sem_kit.estimation`):
all variables ``v = (observed, latent)``, ``m`` of them, ``p`` observed;
``A[i, j]`` the effect of ``j`` on ``i`` (``=~`` and ``~`` rows), ``P`` the
(residual) covariances (``~~`` rows), ``B = (I − A)⁻¹``, ``G = F B`` (the
first ``p`` rows of ``B``) and

    Σ(θ) = G P Gᵀ.

Objective: lavaan's ML discrepancy with the N divisor in S,

    F(θ) = ½ (log|Σ| + tr(S Σ⁻¹) − log|S| − p),

whose gradient is analytic. With ``Ω = Σ⁻¹ (Σ − S) Σ⁻¹`` and ``K = Gᵀ Ω G``
(``m × m``):

    ∂F/∂A[i, j] = Σ_l K[i, l] (B P)[j, l],
    ∂F/∂P[i, j] = K[i, j]  (i ≠ j, both symmetric cells),   ½ K[i, i] (i = j),

summed over the rows that share a free parameter (equality labels).

Optimiser: BFGS started at the full-sample estimates θ̂ with the inverse unit
expected information at θ̂, ``I(θ̂)⁻¹`` (``I = ½ Δᵀ (Σ⁻¹ ⊗ Σ⁻¹) Δ``, the
expected Hessian of F) as first inverse Hessian, and Armijo backtracking.
A resample's optimum lies about one standard error from θ̂, where ``I(θ̂)``
is already a good Hessian, so a refit of the nine-factor model takes a
couple of dozen gradient evaluations. It stops when every component of
``∂F/∂θ`` is below ``gtol`` in absolute value.

Observed exogenous covariates (``fixed.x = TRUE``) keep their (co)variances
at the resample's values, as ``lavaan::bootstrapLavaan`` does.

In R: ``sem(model, data, se = "bootstrap")`` refits each resample the same
way (from the full-sample estimates, without standard errors).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from scipy.linalg import lapack

from sem_kit.bootstrap import RefitFailed
from sem_kit.estimation import Fit

__all__ = ["Refitter"]

_EPS = float(np.finfo(float).eps)
_CONTROLLER: list = []


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread for a refit.

    The matrices here are about 50 × 50: waking a second OpenBLAS thread for
    each product costs more than it saves (a refit of the nine-factor model
    takes about five times longer with two threads on two cores). Parallelism
    comes from the bootstrap's worker processes instead.
    """
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    if _CONTROLLER[0] is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


class Refitter:
    """Refits one model to resamples: built once from a full-sample fit, picklable.

    Parameters
    ----------
    fit:
        The full-sample fit (:func:`sem_kit.estimation.fit_model`); its
        estimates are the start values and its expected information the first
        inverse Hessian of every refit.
    gtol:
        Convergence: max |∂F/∂θ| below this, with F lavaan's ML function
        ½ (log|Σ| + tr(SΣ⁻¹) − log|S| − p).
    max_iter:
        BFGS iterations before a refit counts as failed.

    Attributes
    ----------
    observed:
        Column order of the data :meth:`estimates` expects.
    npar:
        Number of free parameters (the length of θ).

    Examples
    --------
    >>> from sem_kit.bootstrap import run_bootstrap          # doctest: +SKIP
    >>> r = Refitter(fit)                                   # doctest: +SKIP
    >>> x = data[list(r.observed)].to_numpy(float)          # doctest: +SKIP
    >>> res = run_bootstrap(r.estimates, x, 1000, seed=1, k=r.npar, jobs=2)  # doctest: +SKIP

    In R: ``bootstrapLavaan(fit, R = 1000, FUN = coef)``.
    """

    def __init__(self, fit: Fit, gtol: float = 1e-7, max_iter: int = 200) -> None:
        spec = fit.spec
        pt = spec.partable
        self.observed: tuple[str, ...] = tuple(spec.observed)
        self.npar: int = int(spec.npar)
        self.gtol = float(gtol)
        self.max_iter = int(max_iter)
        self.theta0 = np.asarray(fit.theta, dtype=float).copy()
        names = spec.variables
        pos = {v: i for i, v in enumerate(names)}
        m, p = len(names), len(self.observed)
        self.m, self.p = m, p

        lhs, op, rhs = pt.lhs.to_numpy(), pt.op.to_numpy(), pt.rhs.to_numpy()
        free = pt["free"].to_numpy().astype(int)
        exo = pt["exo"].to_numpy().astype(int) == 1
        ustart = np.nan_to_num(pt["ustart"].to_numpy(dtype=float))
        n_rows = len(pt)
        is_a = op != "~~"
        row = np.empty(n_rows, dtype=int)
        col = np.empty(n_rows, dtype=int)
        for r in range(n_rows):
            if op[r] == "=~":  # lhs measured by rhs: path lhs -> rhs
                row[r], col[r] = pos[rhs[r]], pos[lhs[r]]
            elif op[r] == "~":  # lhs regressed on rhs: path rhs -> lhs
                row[r], col[r] = pos[lhs[r]], pos[rhs[r]]
            else:
                row[r], col[r] = pos[lhs[r]], pos[rhs[r]]
        self._row, self._col, self._is_a = row, col, is_a
        self._free = free
        self._exo_rows = np.flatnonzero(exo)
        fixed_vals = np.where((free > 0) | exo, 0.0, ustart)
        self._fixed_vals = fixed_vals

        # fixed parts of I − A and P
        fixed = (free == 0) & ~exo
        self._ima0 = np.eye(m)
        fa = fixed & is_a
        self._ima0[row[fa], col[fa]] -= fixed_vals[fa]
        self._p0 = np.zeros((m, m))
        fp = fixed & ~is_a
        self._p0[row[fp], col[fp]] = fixed_vals[fp]
        self._p0[col[fp], row[fp]] = fixed_vals[fp]

        # free cells: flat indices into (m, m) and the 0-based parameter each holds
        fa = (free > 0) & is_a
        self._a_flat = row[fa] * m + col[fa]
        self._a_par = free[fa] - 1
        self._a_row, self._a_col = row[fa], col[fa]
        fp = (free > 0) & ~is_a
        self._p_row, self._p_col, p_par = row[fp], col[fp], free[fp] - 1
        self._p_flat = np.concatenate([self._p_row * m + self._p_col,
                                       self._p_col * m + self._p_row])
        self._p_par2 = np.concatenate([p_par, p_par])
        self._p_par = p_par
        self._p_weight = np.where(self._p_row == self._p_col, 0.5, 1.0)
        self._grad_par = np.concatenate([self._a_par, p_par])

        # fixed.x: (co)variances of observed covariates taken from the resample's S
        self._x_row, self._x_col = row[exo], col[exo]
        self._x_flat = np.concatenate([self._x_row * m + self._x_col,
                                       self._x_col * m + self._x_row])
        s_full = np.asarray(fit.sample_cov.to_numpy(), dtype=float)
        self._x_vals = s_full[self._x_row, self._x_col].copy()

        info = np.asarray(fit.information, dtype=float)
        self.h_inv0 = np.linalg.inv(info) if self.npar else np.zeros((0, 0))
        self.h_inv0 = (self.h_inv0 + self.h_inv0.T) / 2.0
        self._std_plan(lhs, op, rhs, pos, spec.latent)

    # ------------------------------------------------------------------ model algebra

    def _set_x(self, s: np.ndarray) -> None:
        """Remember the fixed.x (co)variances of the current sample covariance ``s``."""
        if self._x_row.size:
            self._x_vals = s[self._x_row, self._x_col].copy()

    def _matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(I − A, P)`` at ``theta`` with the current fixed.x values."""
        ima = self._ima0.copy()
        ima.flat[self._a_flat] -= theta[self._a_par]
        pm = self._p0.copy()
        pm.flat[self._p_flat] = theta[self._p_par2]
        if self._x_row.size:
            pm.flat[self._x_flat] = np.concatenate([self._x_vals, self._x_vals])
        return ima, pm

    def _value_and_gradient(self, theta: np.ndarray,
                            s: np.ndarray) -> tuple[float, np.ndarray | None]:
        """``½ (log|Σ| + tr(SΣ⁻¹))`` and its gradient; ``(inf, None)`` if Σ is not PD."""
        ima, pm = self._matrices(theta)
        b = np.linalg.inv(ima)
        g = b[: self.p]
        gp = g @ pm
        sigma = gp @ g.T
        chol, info = lapack.dpotrf(sigma, lower=1)
        if info != 0:
            return math.inf, None
        sigma_inv, info = lapack.dpotri(chol, lower=1)
        if info != 0:
            return math.inf, None
        sigma_inv = np.tril(sigma_inv)
        sigma_inv += np.tril(sigma_inv, -1).T
        logdet = 2.0 * np.log(np.diagonal(chol)).sum()
        ss = sigma_inv @ s
        f = 0.5 * (logdet + np.trace(ss))
        omega = sigma_inv - ss @ sigma_inv
        k = g.T @ (omega @ g)
        bp = b @ pm
        grad_a = np.einsum("ij,ij->i", k[self._a_row], bp[self._a_col])
        grad_p = k[self._p_row, self._p_col] * self._p_weight
        grad = np.bincount(self._grad_par, weights=np.concatenate([grad_a, grad_p]),
                           minlength=self.npar)
        return float(f), grad

    # ------------------------------------------------------------------ refits

    @staticmethod
    def sample_cov(data: np.ndarray) -> np.ndarray:
        """Sample covariance with the N divisor, ``S = (X − x̄)ᵀ (X − x̄) / N``, ``(p, p)``."""
        x = np.asarray(data, dtype=float)
        xc = x - x.mean(axis=0)
        return xc.T @ xc / x.shape[0]

    def estimates(self, data: np.ndarray) -> np.ndarray:
        """Maximum-likelihood estimates θ for one resample.

        Parameters
        ----------
        data:
            ``(n, p)`` complete observations, columns in :attr:`observed` order.

        Returns
        -------
        numpy.ndarray
            θ, ``(npar,)``, in the order of ``fit.theta`` (``params.free``).

        Raises
        ------
        RefitFailed
            S or Σ is not positive definite, or BFGS did not reach max
            |∂F/∂θ| < ``gtol`` within ``max_iter`` iterations.
        """
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.p:
            raise ValueError(f"data must be (n, {self.p}) in the order {self.observed}, "
                             f"got shape {x.shape}")
        return self.estimates_from_cov(self.sample_cov(x))

    def estimates_from_cov(self, s: np.ndarray) -> np.ndarray:
        """As :meth:`estimates`, from a sample covariance matrix (N divisor) instead of data."""
        s = np.asarray(s, dtype=float)
        if lapack.dpotrf(s, lower=1)[1] != 0:
            raise RefitFailed("the resample's covariance matrix is not positive definite")
        self._set_x(s)
        with _one_blas_thread():
            theta, iterations, gmax = self._bfgs(s)
        if gmax >= self.gtol:
            raise RefitFailed(f"no convergence after {iterations} BFGS iterations "
                              f"(max |gradient| {gmax:.1e})")
        return theta

    def _bfgs(self, s: np.ndarray) -> tuple[np.ndarray, int, float]:
        """BFGS from θ̂ with first inverse Hessian I(θ̂)⁻¹; returns (θ, iterations, max |g|)."""
        x = self.theta0.copy()
        if self.npar == 0:
            return x, 0, 0.0
        h_inv = self.h_inv0.copy()
        f, g = self._value_and_gradient(x, s)
        if g is None:
            raise RefitFailed("the full-sample estimates give a non-positive-definite Σ")
        gmax = float(np.abs(g).max())
        for it in range(1, self.max_iter + 1):
            if gmax < self.gtol:
                return x, it - 1, gmax
            d = -(h_inv @ g)
            slope = float(g @ d)
            if slope >= 0.0:  # lost positive definiteness: restart from I(θ̂)⁻¹
                h_inv = self.h_inv0.copy()
                d = -(h_inv @ g)
                slope = float(g @ d)
            step = 1.0
            while True:
                x_new = x + step * d
                f_new, g_new = self._value_and_gradient(x_new, s)
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
                hy = h_inv @ y
                h_inv += (((sy + float(y @ hy)) * rho * rho) * np.outer(sx, sx)
                          - rho * (np.outer(hy, sx) + np.outer(sx, hy)))
            x, f, g = x_new, f_new, g_new
            gmax = float(np.abs(g).max())
        return x, self.max_iter, gmax

    # ------------------------------------------------------------------ parameter-table rows

    def est_all(self, theta: np.ndarray) -> np.ndarray:
        """``est`` for every row of ``fit.params`` at θ.

        Free rows from θ, fixed rows their fixed values, fixed.x rows the
        (co)variances of the last resample given to :meth:`estimates` (the
        full sample's before any), as lavaan's bootstrap does.
        """
        theta = np.asarray(theta, dtype=float)
        vals = self._fixed_vals.copy()
        sel = self._free > 0
        vals[sel] = theta[self._free[sel] - 1]
        if self._exo_rows.size:
            vals[self._exo_rows] = self._x_vals
        return vals

    def _std_plan(self, lhs, op, rhs, pos: dict[str, int], latent) -> None:
        """Index plan for :meth:`std_all`: each row is ``est · V[n] / (V[d1] V[d2])``.

        ``V = (1, sd, tv, rv)`` stacked: ``sd`` model-implied standard deviations
        (NaN for a negative total variance, and for an observed variance below
        machine epsilon), ``tv`` observed total variances (NaN below epsilon),
        ``rv`` square roots of the absolute (residual) variance estimates (NaN
        where a variable has no variance row).
        """
        m = self.m
        lv = set(latent)
        one, sd, tv, rv = 0, 1, 1 + m, 1 + 2 * m
        n_rows = len(lhs)
        num = np.full(n_rows, one)
        den1 = np.full(n_rows, one)
        den2 = np.full(n_rows, one)
        var_row = np.full(m, -1)
        for r in range(n_rows):
            a, o, b = lhs[r], op[r], rhs[r]
            if o == "=~":
                num[r], den1[r] = sd + pos[a], sd + pos[b]
            elif o == "~":
                num[r], den1[r] = sd + pos[b], sd + pos[a]
            elif a == b:
                var_row[pos[a]] = r
                if a in lv:
                    den1[r] = den2[r] = sd + pos[a]
                else:
                    den1[r] = tv + pos[a]
            else:
                den1[r], den2[r] = rv + pos[a], rv + pos[b]
        self._std_num, self._std_den1, self._std_den2 = num, den1, den2
        self._var_row = var_row
        self._is_latent = np.array([i >= self.p for i in range(m)])

    def std_all(self, theta: np.ndarray) -> np.ndarray:
        """lavaan's ``std.all`` for every row of ``fit.params`` at θ.

        With total variances ``diag(B P Bᵀ)``, ``sd`` their square roots and
        ``r_v = √|ψ_v|`` from a variable's own (residual) variance estimate:
        ``f =~ x``: λ·sd_f/sd_x; ``y ~ x``: β·sd_x/sd_y; ``v ~~ v``: ψ/total
        variance; ``a ~~ b``: ψ/(r_a r_b). Identical to
        :func:`sem_kit.estimation.standardize` (fixed.x rows at the last
        resample's values, see :meth:`est_all`).

        In R: ``standardizedSolution(fit, type = "std.all")$est.std``.
        """
        vals = self.est_all(theta)
        ima, pm = self._matrices(np.asarray(theta, dtype=float))
        b = np.linalg.inv(ima)
        total = np.einsum("ij,ij->i", b @ pm, b)
        with np.errstate(invalid="ignore"):
            tv = np.where(np.abs(total) >= _EPS, total, np.nan)
            tv[self._is_latent] = total[self._is_latent]
            sd = np.sqrt(np.where(tv >= 0, tv, np.nan))
            has = self._var_row >= 0
            rv = np.full(self.m, np.nan)
            rv[has] = np.sqrt(np.abs(vals[self._var_row[has]]))
        v = np.concatenate([[1.0], sd, tv, rv])
        with np.errstate(invalid="ignore", divide="ignore"):
            return vals * v[self._std_num] / (v[self._std_den1] * v[self._std_den2])
