"""Fast maximum-likelihood refits of one fitted model, for the bootstrap.

A bootstrap refits the same model to thousands of resamples. Everything that
does not depend on the resample is built once, in :class:`Refitter`, from the
full-sample :class:`~sem_kit.engine.fit.Fit`; a resample then costs its
covariance matrix and a short quasi-Newton run, with no semopy, no pandas and
no standard errors.

Model (RAM form, McArdle & McDonald 1984, as in :mod:`sem_kit.engine.ram`):
all variables ``v = (observed, latent)``, ``m`` of them, ``p`` observed;
``A[i, j]`` the effect of ``j`` on ``i`` (``=~`` and ``~`` rows), ``P`` the
(residual) covariances (``~~`` rows), ``B = (I − A)⁻¹``, ``G = F B`` (the
rows of ``B`` of the observed variables) and

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
is already a good Hessian, so a refit of the built-in nine-factor model (133
parameters) takes about a dozen iterations of one function-and-gradient
evaluation each. It stops when every component of ``∂F/∂θ`` is below
``gtol`` in absolute value, which leaves θ within about 1e-7 of the optimum.
:class:`RefitPolicy` is that refit for ML and FIML alike, with the estimator's
Fisher scoring from θ̂ as a second try when BFGS stops short.

Variables are ordered so that causes precede effects, which makes ``I − A``
unit lower triangular (a triangular inverse; models with feedback loops fall
back to a general inverse). A refit runs BLAS on one thread: its matrices are
too small to gain from a second one, and the bootstrap's worker processes use
the cores instead.

Observed exogenous covariates (``fixed.x = TRUE``) keep their (co)variances
at the resample's values, as ``lavaan::bootstrapLavaan`` does.

In R: ``sem(model, data, se = "bootstrap")`` refits each resample the same
way (from the full-sample estimates, without standard errors).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import blas, lapack

from sem_kit.engine.fit import Fit
from sem_kit.engine.optimizer import RefitFailed, bfgs
from sem_kit.engine.standardize import Standardizer
from sem_kit.engine.threads import one_blas_thread
from sem_kit.engine.tolerances import ML_REFIT, RefitSettings

__all__ = ["Fallback", "RefitPolicy", "Refitter", "causal_order"]

_symm = blas.dsymm  # C = α A B from one triangle of the symmetric A

#: A second try at a resample: its estimates θ, or :class:`RefitFailed` with the reason.
#: It gets what the refitter passed to :meth:`RefitPolicy.run` (the resample's data, or
#: under FIML its missing-data patterns).
Fallback = Callable[[Any], np.ndarray]


@dataclass(frozen=True)
class RefitPolicy:
    """How the bootstrap refits one resample, under ML and FIML alike.

    BFGS (:func:`~sem_kit.engine.optimizer.bfgs`) from the full-sample
    estimates θ̂, with the inverse information at θ̂ as first inverse Hessian,
    until every component of the gradient is below ``settings.gtol``; when it
    stops short within ``settings.max_iter`` iterations (it can stall at
    rounding level), ``fallback`` -- the estimator's Fisher scoring from θ̂ --
    gets a second try at the resample. Only a resample both fail on counts as
    failed, with both reasons. Picklable when ``fallback`` is.

    Attributes
    ----------
    settings:
        :data:`~sem_kit.engine.tolerances.ML_REFIT` or
        :data:`~sem_kit.engine.tolerances.FIML_REFIT`.
    fallback:
        ``fallback(sample) -> θ``, raising :class:`RefitFailed` with its reason;
        None: no second try.
    """

    settings: RefitSettings
    fallback: Fallback | None = None

    def run(self, value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray | None]],
            theta0: np.ndarray, h_inv0: np.ndarray, sample: Any) -> np.ndarray:
        """θ of one resample: BFGS on ``value_and_gradient``, else ``fallback(sample)``.

        Raises
        ------
        RefitFailed
            BFGS did not converge and there is no fallback, or the fallback
            failed too (the message gives both reasons).
        """
        if theta0.size == 0:
            return theta0.copy()
        gtol = self.settings.gtol
        theta, iterations, gmax = bfgs(value_and_gradient, theta0, h_inv0, gtol,
                                       self.settings.max_iter)
        if gmax < gtol:
            return theta
        first = (f"no convergence after {iterations} BFGS iterations "
                 f"(max |gradient| {gmax:.1e})")
        if self.fallback is None:
            raise RefitFailed(first)
        try:
            return self.fallback(sample)
        except RefitFailed as exc:
            raise RefitFailed(f"{first}; Fisher scoring: {exc}") from exc


def causal_order(names: tuple[str, ...],
                  paths: list[tuple[str, str]]) -> list[str] | None:
    """Variables ordered so that every cause comes before its effects (None if cyclic).

    In that order ``A`` is strictly lower triangular, so ``I − A`` is unit lower
    triangular and ``B = (I − A)⁻¹`` a cheap triangular inverse. Ties keep the
    RAM order (observed first), so a model without paths keeps it.
    """
    causes: dict[str, set[str]] = {v: set() for v in names}
    for effect, cause in paths:
        causes[effect].add(cause)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(names):
        ready = [v for v in names if v not in placed and causes[v] <= placed]
        if not ready:
            return None
        order += ready
        placed.update(ready)
    return order


class Refitter:
    """Refits one model to resamples: built once from a full-sample fit, picklable.

    Parameters
    ----------
    fit:
        The full-sample fit (:func:`sem_kit.estimators.ml.fit_model`); its
        estimates are the start values and its expected information the first
        inverse Hessian of every refit.
    policy:
        The refit policy (:class:`RefitPolicy`; default BFGS with
        :data:`~sem_kit.engine.tolerances.ML_REFIT` and no fallback; the
        bootstrap adds :class:`sem_kit.estimators.ml.FisherScoringRefit`), on F
        lavaan's ML function ½ (log|Σ| + tr(SΣ⁻¹) − log|S| − p).

    Attributes
    ----------
    observed:
        Column order of the data :meth:`estimates` expects.
    npar:
        Number of free parameters (the length of θ).
    policy:
        The :class:`RefitPolicy`.
    triangular:
        True when the variables have a causal order (no feedback loop), so that
        ``B = (I − A)⁻¹`` is a triangular inverse; False: a general inverse.

    Notes
    -----
    :meth:`estimates` remembers the resample's fixed.x (co)variances for the
    following :meth:`est_all` / :meth:`std_all` calls, so one instance must
    not be shared between threads; bootstrap workers are processes, each with
    its own copy.

    Examples
    --------
    >>> from sem_kit.postestimation.bootstrap import run_bootstrap          # doctest: +SKIP
    >>> r = Refitter(fit)                                   # doctest: +SKIP
    >>> x = data[list(r.observed)].to_numpy(float)          # doctest: +SKIP
    >>> res = run_bootstrap(r.estimates, x, 1000, seed=1, k=r.npar, jobs=2)  # doctest: +SKIP
    >>> r.std_all(res.estimates[0])                         # doctest: +SKIP

    In R: ``bootstrapLavaan(fit, R = 1000, FUN = coef)``.
    """

    def __init__(self, fit: Fit, policy: RefitPolicy | None = None) -> None:
        spec = fit.spec
        pt = spec.partable
        self.observed: tuple[str, ...] = tuple(spec.observed)
        self.npar: int = int(spec.npar)
        self.policy = RefitPolicy(ML_REFIT) if policy is None else policy
        self.theta0 = np.asarray(fit.theta, dtype=float).copy()
        names = spec.variables
        m, p = len(names), len(self.observed)
        self.m, self.p = m, p

        lhs, op, rhs = pt.lhs.to_numpy(), pt.op.to_numpy(), pt.rhs.to_numpy()
        free = pt["free"].to_numpy().astype(int)
        exo = pt["exo"].to_numpy().astype(int) == 1
        ustart = np.nan_to_num(pt["ustart"].to_numpy(dtype=float))
        n_rows = len(pt)
        is_a = op != "~~"
        # (effect, cause) of every path: =~ is lhs -> rhs, ~ is rhs -> lhs
        paths = [(rhs[r], lhs[r]) if op[r] == "=~" else (lhs[r], rhs[r])
                 for r in range(n_rows) if is_a[r]]
        order = causal_order(names, paths)
        self.triangular = order is not None
        pos = {v: k for k, v in enumerate(order if order is not None else names)}
        self._obs_idx = np.array([pos[v] for v in self.observed], dtype=int)
        row = np.empty(n_rows, dtype=int)
        col = np.empty(n_rows, dtype=int)
        for r in range(n_rows):
            if op[r] == "=~":  # lhs measured by rhs: path lhs -> rhs
                row[r], col[r] = pos[rhs[r]], pos[lhs[r]]
            elif op[r] == "~":  # lhs regressed on rhs: path rhs -> lhs
                row[r], col[r] = pos[lhs[r]], pos[rhs[r]]
            else:
                row[r], col[r] = pos[lhs[r]], pos[rhs[r]]
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
        self._a_row = row[fa]
        # the gradient needs the rows of B P at the causes of the free paths only
        self._a_cols, self._a_col_at = np.unique(col[fa], return_inverse=True)
        fp = (free > 0) & ~is_a
        self._p_row, self._p_col, p_par = row[fp], col[fp], free[fp] - 1
        self._p_flat = np.concatenate([self._p_row * m + self._p_col,
                                       self._p_col * m + self._p_row])
        self._p_par2 = np.concatenate([p_par, p_par])
        self._p_weight = np.where(self._p_row == self._p_col, 0.5, 1.0)
        self._grad_par = np.concatenate([self._a_par, p_par])

        # fixed.x: (co)variances of observed covariates taken from the resample's S
        x_row, x_col = row[exo], col[exo]
        self._x_flat = np.concatenate([x_row * m + x_col, x_col * m + x_row])
        obs_pos = {v: i for i, v in enumerate(self.observed)}
        self._x_s_row = np.array([obs_pos[v] for v in lhs[exo]], dtype=int)
        self._x_s_col = np.array([obs_pos[v] for v in rhs[exo]], dtype=int)
        s_full = np.asarray(fit.sample_cov.to_numpy(), dtype=float)
        self._x_vals = s_full[self._x_s_row, self._x_s_col].copy()

        info = np.asarray(fit.information, dtype=float)
        try:
            h_inv0 = np.linalg.inv(info) if self.npar else np.zeros((0, 0))
        except np.linalg.LinAlgError:  # a singular information: refits then mostly fail
            h_inv0 = np.linalg.pinv(info)
        self.h_inv0 = np.asfortranarray((h_inv0 + h_inv0.T) / 2.0)
        ordered = sorted(names, key=pos.__getitem__)
        self._standardizer = Standardizer(lhs, op, rhs, spec.latent, ordered)

    # ------------------------------------------------------------------ model algebra

    def _set_x(self, s: np.ndarray) -> None:
        """Remember the fixed.x (co)variances of the current sample covariance ``s``."""
        if self._x_s_row.size:
            self._x_vals = s[self._x_s_row, self._x_s_col]

    def _matrices(self, theta: np.ndarray,
                  x_vals: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(I − A, P)`` at ``theta``; fixed.x cells from ``x_vals`` (default: current)."""
        ima = self._ima0.copy()
        ima.flat[self._a_flat] -= theta[self._a_par]
        pm = self._p0.copy()
        pm.flat[self._p_flat] = theta[self._p_par2]
        if self._x_s_row.size:
            xv = self._x_vals if x_vals is None else x_vals
            pm.flat[self._x_flat] = np.concatenate([xv, xv])
        return ima, pm

    def _total_effects(self, ima: np.ndarray) -> np.ndarray:
        """``B = (I − A)⁻¹``; a triangular inverse when the variables are in causal order."""
        if self.triangular:
            # I − A is unit lower triangular; its transpose, a Fortran-ordered view,
            # reaches LAPACK as an upper-triangular matrix without a transposing copy
            bt, info = lapack.dtrtri(ima.T, lower=0, unitdiag=1)
            if info == 0:
                return bt.T
        return np.linalg.inv(ima)

    def objective(self, theta: np.ndarray, s: np.ndarray,
                  s2: np.ndarray | None = None) -> tuple[float, np.ndarray | None]:
        """``½ (log|Σ| + tr(SΣ⁻¹))`` (lavaan's F less its constant) and its gradient at θ
        for the sample covariance ``s``; ``(inf, None)`` if Σ is not PD.

        With ``W = Σ⁻¹ G``, ``K = Gᵀ Ω G = Gᵀ W − Wᵀ S W``. Only the lower
        triangle of Σ⁻¹ is formed (LAPACK ``dpotri``), so
        ``tr(SΣ⁻¹) = Σ_{i≥j} (S2 ∘ Σ⁻¹)_ij`` with ``S2 = 2S − diag(S)`` (``s2``,
        computed here if not given) and ``W`` comes from BLAS ``dsymm``.
        """
        if s2 is None:
            s2 = 2.0 * s - np.diag(np.diag(s))
        ima, pm = self._matrices(theta)
        b = self._total_effects(ima)
        g = b[self._obs_idx]
        sigma = (g @ pm) @ g.T
        chol, info = lapack.dpotrf(sigma, lower=1)
        if info != 0:
            return math.inf, None
        sigma_inv, info = lapack.dpotri(chol, lower=1)  # lower triangle; upper stays 0
        if info != 0:
            return math.inf, None
        logdet = 2.0 * np.log(np.diagonal(chol)).sum()
        f = 0.5 * (logdet + float(np.vdot(s2, sigma_inv)))
        w = _symm(1.0, sigma_inv, g, lower=1)
        k = g.T @ w
        k -= w.T @ (s @ w)
        bp = b[self._a_cols] @ pm
        grad_a = np.einsum("ij,ij->i", k[self._a_row], bp[self._a_col_at])
        grad_p = k[self._p_row, self._p_col] * self._p_weight
        grad = np.bincount(self._grad_par, weights=np.concatenate([grad_a, grad_p]),
                           minlength=self.npar)
        return f, grad

    # ------------------------------------------------------------------ refits

    @staticmethod
    def sample_cov(data: np.ndarray) -> np.ndarray:
        """Sample covariance with the N divisor, ``S = (X − x̄)ᵀ (X − x̄) / N``, ``(p, p)``."""
        x = np.asarray(data, dtype=float)
        xc = x - x.mean(axis=0)
        return xc.T @ xc / x.shape[0]

    def estimates(self, data: np.ndarray) -> np.ndarray:
        """Maximum-likelihood estimates θ for one resample (:attr:`policy`).

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
            S is not positive definite, or neither BFGS nor the policy's
            fallback converged.
        """
        x = np.asarray(data, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.p:
            raise ValueError(f"data must be (n, {self.p}) in the order {self.observed}, "
                             f"got shape {x.shape}")
        with one_blas_thread():
            s = self.sample_cov(x)
            if lapack.dpotrf(s, lower=1)[1] != 0:
                raise RefitFailed("the resample's covariance matrix is not positive definite")
            self._set_x(s)
            s2 = 2.0 * s - np.diag(np.diag(s))
            return self.policy.run(lambda th: self.objective(th, s, s2),
                                   self.theta0, self.h_inv0, x)

    # ------------------------------------------------------------------ parameter-table rows

    def est_all(self, theta: np.ndarray, sample_cov: np.ndarray | None = None) -> np.ndarray:
        """``est`` for every row of ``fit.params`` at θ.

        Free rows from θ, fixed rows their fixed values, fixed.x rows (observed
        covariates' (co)variances) from ``sample_cov`` if given, else from the
        last resample passed to :meth:`estimates` in this process (the full
        sample's before any), as lavaan's bootstrap does.
        """
        theta = np.asarray(theta, dtype=float)
        vals = self._fixed_vals.copy()
        sel = self._free > 0
        vals[sel] = theta[self._free[sel] - 1]
        if self._exo_rows.size:
            vals[self._exo_rows] = self._x_values(sample_cov)
        return vals

    def _x_values(self, sample_cov: np.ndarray | None) -> np.ndarray:
        if sample_cov is None:
            return self._x_vals
        s = np.asarray(sample_cov, dtype=float)
        return s[self._x_s_row, self._x_s_col]

    def std_all(self, theta: np.ndarray, sample_cov: np.ndarray | None = None) -> np.ndarray:
        """lavaan's ``std.all`` for every row of ``fit.params`` at θ.

        With total variances ``diag(B P Bᵀ)``, ``sd`` their square roots and
        ``r_v = √|ψ_v|`` from a variable's own (residual) variance estimate:
        ``f =~ x``: λ·sd_f/sd_x; ``y ~ x``: β·sd_x/sd_y; ``v ~~ v``: ψ/total
        variance; ``a ~~ b``: ψ/(r_a r_b) (:class:`~sem_kit.engine.standardize.Standardizer`,
        as every fit); fixed.x rows as in :meth:`est_all`.

        In R: ``standardizedSolution(fit, type = "std.all")$est.std``.
        """
        theta = np.asarray(theta, dtype=float)
        vals = self.est_all(theta, sample_cov)
        ima, pm = self._matrices(theta, self._x_values(sample_cov))
        with one_blas_thread():
            b = self._total_effects(ima)
            total = np.einsum("ij,ij->i", b @ pm, b)
        return self._standardizer.std_all(vals, total)
