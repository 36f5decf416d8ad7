"""The model in RAM form: compiled matrices, implied moments and their Jacobians.

All variables ``v = (observed, latent)``, ``A[i, j]`` the effect of ``j`` on
``i`` (``=~`` and ``~``), ``P`` the (residual) covariances (``~~``),
``B = (I − A)⁻¹``, ``Σ = F B P Bᵀ Fᵀ`` with ``F`` selecting the observed
variables (McArdle & McDonald 1984). A :class:`~sem_kit.engine.syntax.ModelSpec`
is compiled once (:func:`compile_model`); every estimator evaluates it
through :func:`row_values`, :func:`moments` and the derivatives
:func:`row_factors` / :func:`param_jacobian`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sem_kit.engine.syntax import ModelSpec

__all__ = [
    "CompiledModel",
    "RamLayout",
    "compile_model",
    "implied_moments",
    "moments",
    "param_jacobian",
    "ram_layout",
    "ram_matrices",
    "row_factors",
    "row_jacobians",
    "row_values",
    "zero_x_block",
]


@dataclass(frozen=True, eq=False)
class RamLayout:
    """Where each parameter-table row sits in the RAM matrices."""

    m: int
    p: int
    kind: np.ndarray  # 0: A (asymmetric path), 1: P (symmetric)
    row: np.ndarray  # matrix row index
    col: np.ndarray  # matrix column index

    def subset(self, mask: np.ndarray) -> RamLayout:
        """The layout of the rows selected by ``mask``."""
        return RamLayout(self.m, self.p, self.kind[mask], self.row[mask], self.col[mask])


def ram_layout(spec: ModelSpec, lhs: Sequence[str] | None = None,
               op: Sequence[str] | None = None,
               rhs: Sequence[str] | None = None) -> RamLayout:
    """The RAM cell of every parameter-table row (or of the rows ``lhs, op, rhs`` given).

    Returns
    -------
    RamLayout
        ``f =~ x`` is the path ``A[x, f]``, ``y ~ x`` the path ``A[y, x]``,
        ``a ~~ b`` the covariance ``P[a, b]``.
    """
    pt = spec.partable
    lhs = pt.lhs if lhs is None else lhs
    op = pt.op if op is None else op
    rhs = pt.rhs if rhs is None else rhs
    pos = {v: i for i, v in enumerate(spec.variables)}
    kind, row, col = [], [], []
    for a, o, b in zip(lhs, op, rhs, strict=True):
        if o == "=~":  # a measured by b: path a -> b
            kind.append(0), row.append(pos[b]), col.append(pos[a])
        elif o == "~":  # a regressed on b: path b -> a
            kind.append(0), row.append(pos[a]), col.append(pos[b])
        else:
            kind.append(1), row.append(pos[a]), col.append(pos[b])
    return RamLayout(len(spec.variables), len(spec.observed), np.array(kind, dtype=int),
                     np.array(row, dtype=int), np.array(col, dtype=int))


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """Arrays for repeated evaluation of one model (built once per :class:`ModelSpec`)."""

    ram: RamLayout
    free: np.ndarray  # free index per row (0 fixed)
    fixed_values: np.ndarray  # ustart per row (0 where free or fixed.x)
    exo_rows: np.ndarray  # rows of fixed.x (co)variances
    exo_cells: tuple[np.ndarray, np.ndarray]  # their cells in S
    free_ram: RamLayout  # the free rows
    aggregate: np.ndarray  # (npar, free rows) 0/1: rows sharing a label add up


def compile_model(spec: ModelSpec) -> CompiledModel:
    """The arrays for evaluating ``spec`` (built once and cached on the spec).

    Returns
    -------
    CompiledModel
        RAM layout of every row and of the free rows, free indices, fixed
        values and the fixed.x cells.
    """
    cached = spec.__dict__.get("_compiled")
    if cached is not None:
        return cached
    pt = spec.partable
    ram = ram_layout(spec)
    free = pt["free"].to_numpy().astype(int)
    fixed = np.nan_to_num(np.where(free > 0, 0.0, pt["ustart"].to_numpy(dtype=float)))
    exo_rows = np.flatnonzero(pt["exo"].to_numpy() == 1)
    pos = {v: i for i, v in enumerate(spec.observed)}
    cells = (np.array([pos[v] for v in pt.lhs.iloc[exo_rows]], dtype=int),
             np.array([pos[v] for v in pt.rhs.iloc[exo_rows]], dtype=int))
    sel = free > 0
    agg = np.zeros((spec.npar, int(sel.sum())))
    agg[free[sel] - 1, np.arange(int(sel.sum()))] = 1.0
    compiled = CompiledModel(ram, free, fixed, exo_rows, cells, ram.subset(sel), agg)
    object.__setattr__(spec, "_compiled", compiled)
    return compiled


def ram_matrices(ram: RamLayout, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The RAM matrices ``(A, P)``, ``(m, m)`` each, from one value per row."""
    a = np.zeros((ram.m, ram.m))
    pm = np.zeros((ram.m, ram.m))
    is_a = ram.kind == 0
    a[ram.row[is_a], ram.col[is_a]] = values[is_a]
    pm[ram.row[~is_a], ram.col[~is_a]] = values[~is_a]
    pm[ram.col[~is_a], ram.row[~is_a]] = values[~is_a]
    return a, pm


def implied_moments(spec: ModelSpec, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model-implied covariance of all variables (RAM order) and the total-effect matrix.

    Parameters
    ----------
    spec:
        The model.
    values:
        One value per parameter-table row.

    Returns
    -------
    tuple of numpy.ndarray
        ``C = B P Bᵀ`` (``(m, m)``, observed then latent; its observed block is
        Σ) and ``B = (I − A)⁻¹``.
    """
    return moments(compile_model(spec).ram, np.asarray(values, dtype=float))


def moments(ram: RamLayout, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(C, B)``: ``C = B P Bᵀ`` of all variables and ``B = (I − A)⁻¹``, from row values."""
    a, pm = ram_matrices(ram, values)
    b = np.linalg.inv(np.eye(ram.m) - a)
    return b @ pm @ b.T, b


def row_factors(ram: RamLayout, b: np.ndarray,
                c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """∂Σ/∂(row value) = w (u vᵀ + v uᵀ): returns ``U, V`` (rows × p) and ``w``.

    For a path ``A[i, j]``: ``u = F B eᵢ``, ``v = F C eⱼ``; for a covariance
    ``P[i, j]``: ``u = F B eᵢ``, ``v = F B eⱼ``, with ``w = ½`` on the diagonal.
    """
    p = ram.p
    is_a = ram.kind == 0
    u = b[:p, ram.row].T
    v = np.where(is_a[:, None], c[:p, ram.col].T, b[:p, ram.col].T)
    w = np.where((~is_a) & (ram.row == ram.col), 0.5, 1.0)
    return u, v, w


def row_jacobians(ram: RamLayout, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """∂Σ/∂(value of each row), ``(rows, p, p)``."""
    u, v, w = row_factors(ram, b, c)
    d = np.einsum("ri,rj->rij", u, v)
    return (d + d.transpose(0, 2, 1)) * w[:, None, None]


def param_jacobian(comp: CompiledModel, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """∂Σ/∂θ for the free parameters, ``(npar, p, p)`` (rows sharing a label are summed)."""
    d = row_jacobians(comp.free_ram, b, c)
    return np.tensordot(comp.aggregate, d, axes=1)


def zero_x_block(jac: np.ndarray, x_idx: np.ndarray) -> np.ndarray:
    """``jac`` (``(k, p, p)``) with the fixed.x block ``x_idx × x_idx`` set to 0 (a copy)."""
    if x_idx.size == 0:
        return jac
    jac = jac.copy()
    jac[:, x_idx[:, None], x_idx[None, :]] = 0.0
    return jac


def row_values(comp: CompiledModel, theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    """One value per parameter-table row: free from θ, fixed from ustart, fixed.x from S."""
    vals = comp.fixed_values.copy()
    sel = comp.free > 0
    vals[sel] = theta[comp.free[sel] - 1]
    if comp.exo_rows.size:
        vals[comp.exo_rows] = s[comp.exo_cells]
    return vals

