"""lavaan's standardised solution and R² of a fitted model: one implementation.

**Standardised solution** exactly as ``standardizedSolution(fit, type =
"std.all")`` (lavaan's ``lav_standardize_lv`` and ``lav_standardize_all``,
``cov.std = TRUE``): loadings and regressions scaled by model-implied standard
deviations, variances divided by model-implied total variances, covariances
turned into (residual) correlations with the variances' own estimates.

Every row of a parameter table is standardised as ``est · V[num] / (V[den1] ·
V[den2])`` over one stacked vector ``V = (1, NaN, sd, tv, rv)`` of the
variables' model-implied standard deviations, total variances and square roots
of the absolute (residual) variance estimates. :class:`Standardizer` builds
the three index vectors once per parameter table, for ``std.lv`` and for
``std.all``; a fit applies them once (:func:`standardize`), the bootstrap once
per resample (:meth:`sem_kit.engine.refit.Refitter.std_all`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sem_kit.engine.syntax import unique

__all__ = ["Standardizer", "r_squared", "standardize"]

_EPS = float(np.finfo(float).eps)


class Standardizer:
    """The index plans of ``std.lv`` and ``std.all`` for the rows of one parameter table.

    Parameters
    ----------
    lhs, op, rhs:
        The rows. ``=~``, ``~`` and ``~~`` rows are standardised; every other
        row (intercepts ``~1``, thresholds ``|``, defined ``:=``) keeps its
        estimate, as sem-kit's tables have always shown them.
    latent:
        Names of the latent variables.
    variables:
        Every variable's name, in the order of the total variances passed to
        :meth:`std_all` and :meth:`both`.

    Notes
    -----
    With ``η`` a latent and ``σ`` an observed variable's model-implied standard
    deviation and ``r`` the square root of the absolute value of a variable's own
    (residual) variance estimate:

    ========================  ==========================  ==========================
    row                       std.lv                      std.all
    ========================  ==========================  ==========================
    ``f =~ x`` (x observed)   λ·η_f                       λ·η_f/σ_x
    ``f =~ g`` (g latent)     λ·η_f/η_g                   λ·η_f/η_g
    ``y ~ x``                 β·η_x/η_y (latent sides)    β·sd_x/sd_y
    ``f ~~ f`` (latent)       ψ/η_f²                      ψ/η_f²
    ``x ~~ x`` (observed)     ψ                           ψ/σ_x²
    ``a ~~ b``                ψ/(r_a r_b) (latent sides)  ψ/(r_a r_b)
    ========================  ==========================  ==========================

    A negative total variance gives a NaN standard deviation, an observed total
    variance below machine epsilon a NaN, a variable without a variance row a
    NaN ``r``. Source: lavaan 0.6-14 ``lav_standardize_lv`` and
    ``lav_standardize_all``.
    """

    def __init__(self, lhs: Sequence[str], op: Sequence[str], rhs: Sequence[str],
                 latent: Sequence[str], variables: Sequence[str]) -> None:
        names = list(variables)
        m = len(names)
        self.m = m
        pos = {v: k for k, v in enumerate(names)}
        lv = set(latent)
        self._is_latent = np.array([v in lv for v in names], dtype=bool)
        one, nan = 0, 1
        sd, tv, rv = 2, 2 + m, 2 + 2 * m

        def at(base: int, name: str) -> int:
            return base + pos[name] if name in pos else nan

        lhs, op, rhs = list(lhs), list(op), list(rhs)
        n_rows = len(lhs)
        plans = {k: np.full((3, n_rows), one) for k in ("lv", "all")}
        var_row = np.full(m, -1)
        for r, (a, o, b) in enumerate(zip(lhs, op, rhs, strict=True)):
            lv_plan, all_plan = plans["lv"][:, r], plans["all"][:, r]
            if o == "=~":
                all_plan[:2] = at(sd, a), at(sd, b)
                lv_plan[:2] = at(sd, a), (at(sd, b) if b in lv else one)
            elif o == "~":
                all_plan[:2] = at(sd, b), at(sd, a)
                lv_plan[:2] = (at(sd, b) if b in lv else one), (at(sd, a) if a in lv else one)
            elif o == "~~" and a == b:
                if a in pos:
                    var_row[pos[a]] = r
                if a in lv:
                    all_plan[1:] = lv_plan[1:] = at(sd, a)
                else:
                    all_plan[1] = at(tv, a)
            elif o == "~~":
                all_plan[1:] = at(rv, a), at(rv, b)
                lv_plan[1:] = (at(rv, a) if a in lv else one), (at(rv, b) if b in lv else one)
        self._plans = plans
        self._var_row = var_row

    def _scales(self, est: np.ndarray, total: np.ndarray) -> np.ndarray:
        """``V = (1, NaN, sd, tv, rv)`` at the estimates ``est`` and total variances."""
        total = np.asarray(total, dtype=float)
        with np.errstate(invalid="ignore"):
            tv = np.where(np.abs(total) >= _EPS, total, np.nan)
            tv[self._is_latent] = total[self._is_latent]
            sd = np.sqrt(np.where(tv >= 0, tv, np.nan))
            has = self._var_row >= 0
            rv = np.full(self.m, np.nan)
            rv[has] = np.sqrt(np.abs(est[self._var_row[has]]))
        return np.concatenate([[1.0, np.nan], sd, tv, rv])

    def _apply(self, plan: str, est: np.ndarray, scales: np.ndarray) -> np.ndarray:
        num, den1, den2 = self._plans[plan]
        with np.errstate(invalid="ignore", divide="ignore"):
            return est * scales[num] / (scales[den1] * scales[den2])

    def std_all(self, est: np.ndarray, total: np.ndarray) -> np.ndarray:
        """lavaan's ``std.all`` of every row at the estimates and total variances."""
        est = np.asarray(est, dtype=float)
        return self._apply("all", est, self._scales(est, total))

    def both(self, est: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(std_lv, std_all)`` of every row."""
        est = np.asarray(est, dtype=float)
        scales = self._scales(est, total)
        return self._apply("lv", est, scales), self._apply("all", est, scales)


def standardize(lhs: Sequence[str], op: Sequence[str], rhs: Sequence[str],
                est: Sequence[float], latent: Sequence[str], observed: Sequence[str],
                lv_var: Sequence[float],
                ov_var: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's ``std.lv`` and ``std.all`` for parameter-table rows (:class:`Standardizer`).

    Parameters
    ----------
    lhs, op, rhs:
        Row definitions.
    est:
        Unstandardised values (the variances among them give the residual
        standard deviations used for covariances).
    latent, observed:
        Variable names.
    lv_var, ov_var:
        Model-implied total variances of the latent and observed variables.

    Returns
    -------
    tuple of numpy.ndarray
        ``(std_lv, std_all)``.

    Notes
    -----
    In R: ``standardizedSolution(fit, type = "std.lv")`` and ``type = "std.all"``.
    """
    plan = Standardizer(lhs, op, rhs, latent, list(latent) + list(observed))
    total = np.concatenate([np.asarray(lv_var, dtype=float), np.asarray(ov_var, dtype=float)])
    return plan.both(np.asarray(est, dtype=float), total)


def r_squared(params: pd.DataFrame) -> pd.Series:
    """``lavInspect(fit, "r2")``: 1 − std.all of the (residual) variance of every indicator
    and dependent variable; NaN where that exceeds 1."""
    y_names = unique(list(params.rhs[params.op == "=~"]) + list(params.lhs[params.op == "~"]))
    sel = (params.op == "~~") & (params.lhs == params.rhs) & params.lhs.isin(y_names)
    r2 = 1.0 - params.loc[sel, "std_all"].to_numpy()
    r2 = np.where(r2 > 1, np.nan, r2)
    return pd.Series(r2, index=params.loc[sel, "lhs"].to_list(), name="r2", dtype=float)
