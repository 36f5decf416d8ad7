"""Modification indices and expected parameter changes, as lavaan's ``modindices()``.

For every parameter that is fixed or absent -- cross-loadings, residual
covariances, regressions among the variables of the structural part,
covariances among latent variables -- the modification index is the score
(Lagrange multiplier) test of freeing it, computed at the current estimates:

    MI  = N g² / V,     EPC = −g / V,     V = I₁₁ − I₁₂ I₂₂⁻¹ I₂₁

where ``g`` is the derivative of lavaan's F = ½(log|Σ| + tr(SΣ⁻¹) − log|S| − p)
with respect to the candidate parameter, ``I`` the unit expected information
(``½ Δᵀ(Σ⁻¹ ⊗ Σ⁻¹)Δ``) of the model extended by all candidates (block 1: the
candidate, block 2: the free parameters of the model). Candidates whose ``V``
is below ``ε^(1/3)`` are not identified given the model (e.g. a marker loading,
a regression equivalent to a free covariance) and are dropped, as lavaan does.
``sepc.all`` standardises ``EPC`` with lavaan's std.all rules (residual
variances for covariances).

Source: lavaan 0.6-14 ``modindices``, ``lav_partable_full``,
``lav_object_extended``.

Examples
--------
>>> from sem_kit.postestimation.modification import modification_indices   # doctest: +SKIP
>>> modification_indices(fit).head()                          # doctest: +SKIP

In R: ``modindices(fit, sort. = TRUE)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sem_kit.engine.fit import Fit
from sem_kit.engine.ram import (
    compile_model,
    implied_moments,
    param_jacobian,
    ram_layout,
    row_jacobians,
    zero_x_block,
)
from sem_kit.engine.standardize import standardize
from sem_kit.engine.syntax import unique

__all__ = ["candidate_parameters", "modification_indices"]

#: lavaan's threshold on V: ``.Machine$double.eps^(1/3)``.
_V_TOLERANCE = np.finfo(float).eps ** (1.0 / 3.0)


def candidate_parameters(fit: Fit) -> pd.DataFrame:
    """Every parameter lavaan's ``modindices()`` considers adding, in its order.

    Parameters
    ----------
    fit:
        The fitted model.

    Returns
    -------
    pandas.DataFrame
        ``lhs, op, rhs`` of ``lav_partable_full``: loadings of every latent on
        every non-exogenous observed variable not in a regression; (residual)
        covariances among indicators; covariances among the fixed.x
        covariates; (co)variances among latent variables; regressions among
        all variables in regressions. Rows already in the model are included
        here; :func:`modification_indices` drops them.
    """
    spec = fit.spec
    pt = spec.partable
    lv = list(spec.latent)
    ov = list(spec.observed)
    ov_x = list(spec.x_vars)
    ov_nox = [v for v in ov if v not in ov_x]
    ov_ind = [v for v in unique(pt.rhs[pt.op == "=~"]) if v not in lv]
    eqs = unique(list(pt.lhs[pt.op == "~"]) + list(pt.rhs[pt.op == "~"]))
    rows: list[tuple[str, str, str]] = []
    rows += [(f, "=~", v) for f in lv for v in ov_nox if v not in eqs]
    other = {v for v in ov if v not in ov_ind}
    rows += [(ov_nox[j], "~~", ov_nox[i]) for j in range(len(ov_nox))
             for i in range(j, len(ov_nox)) if ov_nox[j] not in other and ov_nox[i] not in other]
    rows += [(ov_x[j], "~~", ov_x[i]) for j in range(len(ov_x)) for i in range(j, len(ov_x))]
    rows += [(lv[j], "~~", lv[i]) for j in range(len(lv)) for i in range(j, len(lv))]
    rows += [(y, "~", x) for y in eqs for x in eqs
             if y != x and not (y in ov_ind and x in lv)]
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs"])


def modification_indices(fit: Fit, *, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
    """Modification indices with expected parameter changes, as ``lavaan::modindices()``.

    Parameters
    ----------
    fit:
        The fitted model (ML).
    sort:
        Largest modification index first (lavaan's ``sort. = TRUE``).
    minimum:
        Keep only rows with ``mi`` above this value (lavaan's ``minimum.value``).

    Returns
    -------
    pandas.DataFrame
        ``lhs, op, rhs, mi, epc, sepc_lv, sepc_all``: the χ² drop expected from
        freeing the parameter (1 df), its expected value once freed, and that
        value standardised (``sepc.lv``, ``sepc.all``).

    Notes
    -----
    Sörbom (1989); Saris, Satorra & Sörbom (1987) for the EPC. In R:
    ``modindices(fit, sort. = TRUE)`` (``information = "expected"``).
    """
    spec = fit.spec
    pt = fit.params
    s = fit.sample_cov.to_numpy(dtype=float)
    est = pt["est"].to_numpy(dtype=float)
    c, b = implied_moments(spec, est)
    p = len(spec.observed)
    sigma = c[:p, :p]
    sigma_inv = np.linalg.inv(sigma)
    x_idx = np.array([spec.observed.index(v) for v in spec.x_vars], dtype=int)

    # the extended table: the model's rows, then candidates not already there
    existing = {(a, o, r) for a, o, r in zip(pt.lhs, pt.op, pt.rhs, strict=True)}
    cand = candidate_parameters(fit)
    keep = [(a, o, r) not in existing for a, o, r in zip(cand.lhs, cand.op, cand.rhs,
                                                            strict=True)]
    cand = cand[keep].reset_index(drop=True)
    fixed = pt[pt.free == 0]
    extra = pd.concat([fixed[["lhs", "op", "rhs"]], cand], ignore_index=True)
    extra_est = np.concatenate([fixed["est"].to_numpy(dtype=float), np.zeros(len(cand))])
    extra_exo = np.concatenate([fixed["exo"].to_numpy(dtype=int), np.zeros(len(cand), int)])

    jac_model = param_jacobian(compile_model(spec), b, c)
    ram_extra = ram_layout(spec, extra.lhs, extra.op, extra.rhs)
    jac_extra = row_jacobians(ram_extra, b, c)
    # blocks of the unit expected information of the extended model (x block zero-weighted)
    je = zero_x_block(jac_extra, x_idx)
    jm = zero_x_block(jac_model, x_idx)
    ge = sigma_inv @ je @ sigma_inv
    k = je.shape[0]
    i11_diag = 0.5 * np.einsum("kij,kij->k", ge, je)
    i12 = 0.5 * (ge.reshape(k, -1) @ jm.reshape(jm.shape[0], -1).T)
    i22_inv = np.linalg.inv(fit.information) if spec.npar else np.zeros((0, 0))
    v = i11_diag - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    v = np.where(v < _V_TOLERANCE, np.nan, v)

    omega = sigma_inv @ (sigma - s) @ sigma_inv
    g = 0.5 * np.einsum("ij,kij->k", omega, jac_extra)
    n = fit.n
    with np.errstate(invalid="ignore", divide="ignore"):
        mi = n * g * g / v
        d = -n * g
        d = np.where(np.abs(d) < 1e-15, 1.0, d)
        epc = mi / d

    sepc_lv, sepc_all = _standardized_epc(fit, pt, extra, extra_est, extra_exo, epc, c)
    out = pd.DataFrame({
        "lhs": extra.lhs, "op": extra.op, "rhs": extra.rhs, "mi": mi, "epc": epc,
        "sepc_lv": sepc_lv, "sepc_all": sepc_all,
    })
    out = out[out.mi.notna()]
    if minimum > 0:
        out = out[out.mi > minimum]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _standardized_epc(fit: Fit, pt: pd.DataFrame, extra: pd.DataFrame, extra_est: np.ndarray,
                      extra_exo: np.ndarray, epc: np.ndarray,
                      c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's ``sepc.lv`` / ``sepc.all`` of the extra rows.

    The EPCs are standardised with ``lav_standardize_lv/all`` on the extended
    table, where variances (not fixed.x) carry their estimates, so covariances
    are scaled by the model's residual standard deviations.
    """
    spec = fit.spec
    model_free = pt[pt.free > 0]
    lhs = np.concatenate([model_free.lhs.to_numpy(object), extra.lhs.to_numpy(object)])
    op = np.concatenate([model_free.op.to_numpy(object), extra.op.to_numpy(object)])
    rhs = np.concatenate([model_free.rhs.to_numpy(object), extra.rhs.to_numpy(object)])
    est = np.concatenate([model_free.est.to_numpy(float), extra_est])
    exo = np.concatenate([model_free.exo.to_numpy(int), extra_exo])
    epc_all = np.concatenate([np.zeros(len(model_free)), epc])
    is_var = (op == "~~") & (lhs == rhs)
    value = np.where(is_var & (exo == 0), est, epc_all)
    small = is_var & (np.abs(value) < np.sqrt(np.finfo(float).eps))
    value = np.where(small, np.nan, value)
    p = len(spec.observed)
    total = np.diag(c)
    std_lv, std_all = standardize(lhs, op, rhs, np.abs(value), spec.latent, spec.observed,
                                  total[p:], total[:p])
    sign = np.sign(epc_all)
    sepc_lv = np.where(small, 0.0, sign * std_lv)
    sepc_all = np.where(small, 0.0, sign * std_all)
    k = len(model_free)
    return sepc_lv[k:], sepc_all[k:]

