"""lavaan's standardised solution and R² of a fitted model.

**Standardised solution** exactly as ``standardizedSolution(fit, type =
"std.all")`` (lavaan's ``lav_standardize_all``): loadings and regressions
scaled by model-implied standard deviations, variances divided by
model-implied total variances, covariances turned into (residual)
correlations with the variances' own estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sem_kit.engine.syntax import unique as _unique

__all__ = ["standardize"]


def standardize(lhs: Sequence[str], op: Sequence[str], rhs: Sequence[str],
                est: Sequence[float], latent: Sequence[str], observed: Sequence[str],
                lv_var: Sequence[float],
                ov_var: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's ``std.lv`` and ``std.all`` for parameter-table rows.

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
        ``(std_lv, std_all)``. With ``η`` the model-implied SD of a latent,
        ``σ`` of an observed variable and ``r`` the square root of the
        absolute value of a variable's own (residual) variance estimate:
        ``f =~ x``: λ·η_f/σ_x; ``f =~ g``: λ·η_f/η_g; ``y ~ x``: β·sd_x/sd_y;
        ``v ~~ v``: ψ/total variance; ``a ~~ b``: ψ/(r_a r_b).

    Notes
    -----
    Source: lavaan 0.6-14 ``lav_standardize_lv`` and ``lav_standardize_all``
    (``cov.std = TRUE``). In R: ``standardizedSolution(fit, type = "std.all")``.
    """
    lhs = np.asarray(lhs, dtype=object)
    op = np.asarray(op, dtype=object)
    rhs = np.asarray(rhs, dtype=object)
    est = np.asarray(est, dtype=float)
    lv_set, ov_set = set(latent), set(observed)
    with np.errstate(invalid="ignore"):
        eta = {v: (math.sqrt(x) if x >= 0 else math.nan) for v, x in zip(latent, lv_var,
                                                                          strict=True)}
        ov2 = {v: (x if abs(x) >= np.finfo(float).eps else math.nan)
               for v, x in zip(observed, ov_var, strict=True)}
        ov_sd = {v: (math.sqrt(x) if x >= 0 else math.nan) for v, x in ov2.items()}
    nan = math.nan
    is_var = (op == "~~") & (lhs == rhs)
    rv_lv = {lhs[i]: math.sqrt(abs(est[i])) for i in np.flatnonzero(is_var) if rhs[i] in lv_set}
    rv_ov = {lhs[i]: math.sqrt(abs(est[i])) for i in np.flatnonzero(is_var)
             if lhs[i] not in lv_set}
    out = est.copy()
    for i in range(len(est)):
        a, o, b = lhs[i], op[i], rhs[i]
        if o == "=~":
            out[i] *= eta.get(a, nan)
            if b in lv_set:
                out[i] /= eta.get(b, nan)
        elif o == "~":
            if a in lv_set:
                out[i] /= eta.get(a, nan)
            if b in lv_set:
                out[i] *= eta.get(b, nan)
        elif o == "~~":
            if a == b and b in lv_set:
                out[i] /= eta.get(a, nan) * eta.get(b, nan)
            elif a != b:
                if a in lv_set:
                    out[i] /= rv_lv.get(a, nan)
                if b in lv_set:
                    out[i] /= rv_lv.get(b, nan)
    std_lv = out.copy()
    for i in range(len(est)):
        a, o, b = lhs[i], op[i], rhs[i]
        if o == "=~" and b not in lv_set:
            out[i] /= ov_sd.get(b, nan)
        elif o == "~":
            if a in ov_set:
                out[i] /= ov_sd.get(a, nan)
            if b in ov_set:
                out[i] *= ov_sd.get(b, nan)
        elif o == "~~":
            if a == b and a not in lv_set:
                out[i] /= ov2.get(a, nan)
            elif a != b:
                if a not in lv_set:
                    out[i] /= rv_ov.get(a, nan)
                if b not in lv_set:
                    out[i] /= rv_ov.get(b, nan)
    return std_lv, out


def r_squared(params: pd.DataFrame) -> pd.Series:
    """``lavInspect(fit, "r2")``: 1 − std.all of the (residual) variance of every indicator
    and dependent variable; NaN where that exceeds 1."""
    y_names = _unique(list(params.rhs[params.op == "=~"]) + list(params.lhs[params.op == "~"]))
    sel = (params.op == "~~") & (params.lhs == params.rhs) & params.lhs.isin(y_names)
    r2 = 1.0 - params.loc[sel, "std_all"].to_numpy()
    r2 = np.where(r2 > 1, np.nan, r2)
    return pd.Series(r2, index=params.loc[sel, "lhs"].to_list(), name="r2", dtype=float)
