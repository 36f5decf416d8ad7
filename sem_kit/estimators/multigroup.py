"""Multi-group maximum likelihood with a mean structure, as lavaan's ``group = ...``.

One model is fitted jointly to ``G`` groups (the levels of a grouping column,
in order of first appearance, as lavaan orders them). Each group ``g`` has its
own copy of the parameter table of :func:`sem_kit.engine.syntax.specify` plus a
mean structure, as lavaan adds one whenever ``group`` is given:

- every observed variable gets a free intercept (``x ~ 1``);
- every latent variable gets a mean (intercept, if it is endogenous) fixed at
  0; in groups 2..G it is free once the observed intercepts are held equal
  (``group.equal`` has ``"intercepts"`` but not ``"means"``), as lavaan's
  ``lav_partable_flat`` frees it. One documented exception: a second-order
  factor (measured only by latent variables) keeps its mean at 0, because
  its indicators' intercepts are then free already and lavaan's extra free
  mean would leave the model unidentified; the fit is the same.

In RAM form (McArdle & McDonald 1984) with ``B = (I − A)⁻¹`` and the vector
``m`` of intercepts and latent means:

    Σ_g = F B_g P_g B_gᵀ Fᵀ,     μ_g = F B_g m_g.

Objective (lavaan ``estimator = "ML"``, ``likelihood = "normal"``), with
``S_g`` the N-divisor covariance matrix and ``ȳ_g`` the mean vector of group g,
``n_g`` its size and ``N = Σ n_g``:

    F = Σ_g (n_g / N) F_g,
    F_g = ½ [log|Σ_g| + tr(S_g Σ_g⁻¹) − log|S_g| − p + (ȳ_g − μ_g)ᵀ Σ_g⁻¹ (ȳ_g − μ_g)],

and ``χ² = 2 N F = Σ_g 2 n_g F_g`` (lavaan ``lav_model_objective``, which
weights the groups by ``n_g / N``). Equality constraints
(``group.equal``) are shared free parameters, exactly as lavaan's labels
(``lav_partable_labels``): ``"loadings"`` (``=~``), ``"intercepts"``
(observed ``~1``), ``"residuals"`` (observed residual variances),
``"residual.covariances"``, ``"lv.variances"``, ``"lv.covariances"``,
``"regressions"`` (``~``) and ``"means"`` (latent ``~1``); ``group.partial``
names parameters (``"x3~1"``, ``"visual=~x2"``) left free in every group.
A user label (``a*x``) is shared by all groups, as in lavaan.

Estimation is Fisher scoring on F with the expected information
``I = Σ_g (n_g/N) [½ Δ_gᵀ (Σ_g⁻¹ ⊗ Σ_g⁻¹) Δ_g + J_gᵀ Σ_g⁻¹ J_g]`` (``Δ = ∂vech Σ/∂θ``,
``J = ∂μ/∂θ``) from the pooled single-group ML estimates, until every
component of ∂F/∂θ is below 1e-9; standard errors are ``sqrt(diag((N I)⁻¹))``
(lavaan's ``information = "expected"``).

Fit measures (``fitMeasures()`` of a multi-group fit):
``df = G (p(p+1)/2 + p) − q``; baseline: independence model with free means
and variances in every group, ``χ²₀ = Σ_g n_g (Σ log s_ii − log|S_g|)``,
``df₀ = G p(p−1)/2``; CFI, TLI, NFI, IFI from those; RMSEA
``sqrt(max(χ²/(N df) − 1/N, 0)) · sqrt(G)`` and its interval times ``sqrt(G)``,
close-fit test with ``ncp = N df 0.05² / G`` (``lav_fit_rmsea``,
``lav_fit_rmsea_ci``, ``lav_fit_rmsea_closefit``); SRMR the ``n_g/N``-weighted
mean of the groups' Bentler SRMR over covariances and means,
``sqrt((Σ_{i≤j} r_ij² + Σ_i r_i²) / (p(p+1)/2 + p))``, residuals divided by
the sample standard deviations (``lav_fit_srmr_lavobject``,
``srmr_bentler``); ``logl = Σ_g −½ n_g (p log 2π + log|Σ_g| + tr(S_g Σ_g⁻¹) +
(ȳ_g − μ_g)ᵀ Σ_g⁻¹ (ȳ_g − μ_g))``, ``aic = −2 logl + 2q``, ``bic = −2 logl + q log N``.

Observed exogenous covariates (``fixed.x``) are not supported in groups.

Examples
--------
>>> from sem_kit.estimators.multigroup import fit_multigroup     # doctest: +SKIP
>>> fit = fit_multigroup(hs_model, data, "school", group_equal=("loadings",))  # doctest: +SKIP
>>> fit.measures["chisq"], fit.params                                    # doctest: +SKIP

In R: ``cfa(model, data, group = "school", group.equal = "loadings")``;
``parameterEstimates(fit, standardized = TRUE)``; ``fitMeasures(fit)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sem_kit.engine.fit_indices import FitStatistics, assemble_fit
from sem_kit.engine.optimizer import Optimum, fisher_scoring
from sem_kit.engine.ram import CompiledModel, compile_model, moments, row_factors
from sem_kit.engine.standardize import standardize
from sem_kit.engine.syntax import ModelSpec, specify
from sem_kit.engine.tolerances import MULTIGROUP_SCORING, SINGULAR_EIGENVALUE_RATIO
from sem_kit.errors import InputError
from sem_kit.estimators.ml import fit_model, sample_cov_trouble

__all__ = [
    "GROUP_EQUAL",
    "GroupSpec",
    "MultiGroupFit",
    "fit_multigroup",
    "group_frames",
    "minimum_group_size",
    "specify_groups",
]

#: lavaan's ``group.equal`` keywords that sem_kit supports.
GROUP_EQUAL = ("loadings", "intercepts", "means", "regressions", "residuals",
               "residual.covariances", "lv.variances", "lv.covariances")

_LOG2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- specification


def _plain(name: str) -> str:
    """A parameter name without spaces: ``"visual =~ x2"`` -> ``"visual=~x2"``."""
    return "".join(str(name).split())


@dataclass(frozen=True, eq=False)
class GroupSpec:
    """The joint parameter table of a multi-group model.

    Attributes
    ----------
    base:
        The single-group covariance structure (:class:`ModelSpec`).
    groups:
        Group labels, in order (group 1 first).
    partable:
        One row per parameter and group, lavaan's order within each group
        (the base table, then the intercepts ``~1`` of the observed and the
        latent variables): ``group`` (1-based), ``lhs, op, rhs, user``,
        ``free`` (1-based joint index, 0 fixed; equal parameters share one),
        ``label`` (the equality label when shared across groups, else the
        user label), ``ustart`` (fixed value), ``base_row`` (row of
        ``base.partable`` or −1 for a mean row).
    group_equal, group_partial:
        The constraints it was built with.
    npar:
        Number of distinct free parameters.
    df:
        ``G (p(p+1)/2 + p) − npar``.
    """

    base: ModelSpec
    groups: tuple[str, ...]
    partable: pd.DataFrame
    group_equal: tuple[str, ...]
    group_partial: tuple[str, ...]
    npar: int
    df: int

    @property
    def ngroups(self) -> int:
        """Number of groups G."""
        return len(self.groups)


def specify_groups(model: str | ModelSpec, groups: Sequence[str], *,
                   group_equal: Sequence[str] = (), group_partial: Sequence[str] = (),
                   equal: Sequence[str] = ()) -> GroupSpec:
    """Build the joint parameter table of a multi-group model, as ``lavaanify()`` does.

    Parameters
    ----------
    model:
        lavaan model syntax or a :class:`ModelSpec`.
    groups:
        Group labels (at least two).
    group_equal:
        lavaan ``group.equal`` keywords (:data:`GROUP_EQUAL`).
    group_partial:
        Parameters freed from those constraints, lavaan style: ``"x3~1"``,
        ``"visual=~x2"`` (spaces are ignored).
    equal:
        Further parameters held equal across all groups (e.g. one structural
        path ``"speed~visual"`` for a path comparison).

    Returns
    -------
    GroupSpec

    Raises
    ------
    InputError
        Fewer than two groups, an unknown keyword, a ``group_partial`` or
        ``equal`` name that is not a parameter of the model, observed
        covariates (fixed.x), or negative degrees of freedom.

    Notes
    -----
    In R: ``lavaanify(model, ngroups = G, meanstructure = TRUE,
    group.equal = ..., group.partial = ...)`` (as ``cfa(..., group = ...)`` calls it).
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    groups = tuple(str(g) for g in groups)
    _check_groups(spec, groups, group_equal, group_partial, equal)
    constrained = _Constraints(spec, set(group_equal), {_plain(x) for x in group_partial},
                               {_plain(x) for x in equal})
    rows = _group_rows(spec, len(groups), constrained.free_lv_means)
    k = _number_free_across_groups(rows, constrained)
    table = pd.DataFrame({c: [r[c] for r in rows] for c in
                          ("group", "lhs", "op", "rhs", "user", "free", "label", "ustart",
                           "base_row")})
    p = len(spec.observed)
    ndat = len(groups) * (p * (p + 1) // 2 + p)
    df = ndat - k
    if df < 0:
        raise InputError(
            f"the multi-group model is not identified: {k} free parameters but only {ndat} "
            f"sample means and (co)variances in {len(groups)} groups (df = {df})")
    return GroupSpec(spec, groups, table, tuple(group_equal), tuple(group_partial), k, df)


def _check_groups(spec: ModelSpec, groups: tuple[str, ...], group_equal: Sequence[str],
                  group_partial: Sequence[str], equal: Sequence[str]) -> None:
    """Raise :class:`InputError` for what :func:`specify_groups` cannot build."""
    if len(groups) < 2:
        raise InputError(f"a multi-group model needs at least two groups, got {len(groups)}: "
                         + ", ".join(groups))
    if spec.x_vars:
        raise InputError(
            "multi-group models with observed exogenous covariates (fixed.x) are not "
            "supported: " + ", ".join(spec.x_vars) + "; make them indicators of a latent "
            "variable or leave them out")
    unknown = [k for k in group_equal if k not in GROUP_EQUAL]
    if unknown:
        raise InputError("unknown group_equal keyword(s) " + ", ".join(map(repr, unknown))
                         + "; expected some of " + ", ".join(GROUP_EQUAL))
    names = {_plain(f"{r.lhs}{r.op}{r.rhs}") for r in spec.partable.itertuples()}
    names |= {f"{v}~1" for v in spec.variables}
    for kind, given in (("group_partial", group_partial), ("equal", equal)):
        bad = [x for x in given if _plain(x) not in names]
        if bad:
            raise InputError(
                f"{kind}: " + ", ".join(map(repr, bad)) + " is not a parameter of the model; "
                "expected lavaan names such as 'x3~1' (intercept), 'visual=~x2' (loading), "
                "'x1~~x1' (residual variance) or 'speed~visual' (regression)")


class _Constraints:
    """Which parameters ``group.equal``, ``group.partial`` and ``equal`` hold equal."""

    def __init__(self, spec: ModelSpec, geq: set[str], partial: set[str],
                 extra_equal: set[str]) -> None:
        self.latent = set(spec.latent)
        self.geq = geq
        self.partial = partial
        self.extra_equal = extra_equal
        #: lavaan frees the latent means of groups 2.. when intercepts are equal, means not
        self.free_lv_means = "intercepts" in geq and "means" not in geq

    def __call__(self, lhs: str, op: str, rhs: str) -> bool:
        name = _plain(f"{lhs}{op}{rhs}")
        if name in self.partial:
            return False
        if name in self.extra_equal:
            return True
        geq, latent = self.geq, self.latent
        if op == "=~":
            return "loadings" in geq
        if op == "~":
            return "regressions" in geq
        if op == "~1":
            return ("intercepts" in geq) if lhs not in latent else ("means" in geq)
        if op == "~~":
            if lhs in latent:
                return ("lv.variances" if lhs == rhs else "lv.covariances") in geq
            return ("residuals" if lhs == rhs else "residual.covariances") in geq
        return False


def _group_rows(spec: ModelSpec, ngroups: int, free_lv_means: bool) -> list[dict]:
    """Every group's copy of the parameter table, with the observed intercepts and latent means."""
    base = spec.partable
    latent = set(spec.latent)
    measured_by_lv_only = {
        f for f in spec.latent
        if (ind := list(base.rhs[(base.op == "=~") & (base.lhs == f)])) and set(ind) <= latent
    }
    rows: list[dict] = []
    for g in range(1, ngroups + 1):
        for i, r in enumerate(base.itertuples()):
            rows.append(dict(group=g, lhs=r.lhs, op=r.op, rhs=r.rhs, user=int(r.user),
                             is_free=r.free > 0, label=r.label,
                             ustart=np.nan if r.free > 0 else float(r.ustart), base_row=i))
        for v in spec.observed:
            rows.append(dict(group=g, lhs=v, op="~1", rhs="", user=0, is_free=True, label="",
                             ustart=np.nan, base_row=-1))
        for f in spec.latent:
            free_mean = g > 1 and free_lv_means and f not in measured_by_lv_only
            rows.append(dict(group=g, lhs=f, op="~1", rhs="", user=0, is_free=free_mean,
                             label="", ustart=np.nan if free_mean else 0.0, base_row=-1))
    return rows


def _number_free_across_groups(rows: list[dict], constrained: _Constraints) -> int:
    """Number the free rows; rows held equal share a number and get its key as label.

    Returns
    -------
    int
        The number of free parameters.
    """
    index: dict[str, int] = {}
    shared: set[str] = set()
    k = 0
    for r in rows:
        if not r["is_free"]:
            r["free"] = 0
            continue
        if r["label"]:
            key = "user:" + r["label"]
        else:
            name = _plain(f"{r['lhs']}{r['op']}{r['rhs']}")
            same = r["group"] == 1 or constrained(r["lhs"], r["op"], r["rhs"])
            key = name if same else f"{name}.g{r['group']}"
        if key in index:
            r["free"] = index[key]
            shared.add(key)
        else:
            k += 1
            index[key] = k
            r["free"] = k
        r["key"] = key
    for r in rows:
        if r["free"] and r["key"] in shared and not r["label"]:
            r["label"] = r["key"]
    return k


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, eq=False)
class _Group:
    """Where group g's free parameters sit in θ."""

    cov_index: np.ndarray  # 0-based joint index per free base row
    mean_pos: np.ndarray  # RAM position of each mean row (observed, then latent)
    mean_index: np.ndarray  # 0-based joint index per mean row, −1 if fixed
    mean_fixed: np.ndarray  # fixed value per mean row


@dataclass(frozen=True, eq=False)
class _Joint:
    spec: GroupSpec
    comp: CompiledModel
    groups: tuple[_Group, ...]

    def moments(self, theta: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray,
                                                           np.ndarray, np.ndarray]:
        """``(C, B, μ_all, row values)`` of group g (0-based)."""
        grp = self.groups[g]
        comp = self.comp
        vals = comp.fixed_values.copy()
        sel = comp.free > 0
        vals[sel] = theta[grp.cov_index]
        c, b = moments(comp.ram, vals)
        m = np.zeros(comp.ram.m)
        m[grp.mean_pos] = np.where(grp.mean_index >= 0, theta[np.maximum(grp.mean_index, 0)],
                                   grp.mean_fixed)
        return c, b, b @ m, vals


def _joint(spec: GroupSpec) -> _Joint:
    base = spec.base
    comp = compile_model(base)
    pt = spec.partable
    pos = {v: i for i, v in enumerate(base.variables)}
    sel = comp.free > 0
    groups = []
    for g in range(1, spec.ngroups + 1):
        rows = pt[pt.group == g]
        cov = rows[rows.base_row >= 0].sort_values("base_row")
        cov_index = cov["free"].to_numpy()[sel] - 1
        mean = rows[rows.base_row < 0]
        groups.append(_Group(
            cov_index=cov_index.astype(int),
            mean_pos=np.array([pos[v] for v in mean.lhs], dtype=int),
            mean_index=mean["free"].to_numpy().astype(int) - 1,
            mean_fixed=np.nan_to_num(mean["ustart"].to_numpy(dtype=float)),
        ))
    return _Joint(spec, comp, tuple(groups))


@dataclass(frozen=True)
class _Moments:
    """Sample statistics of one group (N divisor)."""

    n: int
    mean: np.ndarray
    cov: np.ndarray


def _objective(joint: _Joint, stats: Sequence[_Moments], theta: np.ndarray,
               with_derivatives: bool) -> tuple[float, np.ndarray, np.ndarray]:
    """F = Σ (n_g/N) F_g, its gradient and the unit expected information."""
    q = joint.spec.npar
    p = joint.comp.ram.p
    total = sum(s.n for s in stats)
    f = 0.0
    grad = np.zeros(q)
    info = np.zeros((q, q))
    for g, st in enumerate(stats):
        c, b, mu_all, _ = joint.moments(theta, g)
        sigma = c[:p, :p]
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return math.inf, grad, info
        inv_chol = np.linalg.inv(chol)
        sigma_inv = inv_chol.T @ inv_chol
        d = st.mean - mu_all[:p]
        logdet_s = np.linalg.slogdet(st.cov)[1]
        f_g = 0.5 * (2.0 * np.log(np.diag(chol)).sum() + np.einsum("ij,ij->", st.cov, sigma_inv)
                     - logdet_s - p + d @ sigma_inv @ d)
        w_g = st.n / total
        f += w_g * f_g
        if not with_derivatives:
            continue
        grp = joint.groups[g]
        ram = joint.comp.free_ram
        u, v, w = row_factors(ram, b, c)
        omega = sigma_inv @ (sigma - st.cov - np.outer(d, d)) @ sigma_inv
        g_cov = w * np.einsum("ri,ri->r", u @ omega, v)
        su, sv = u @ sigma_inv, v @ sigma_inv
        uu, vv, uv = su @ u.T, sv @ v.T, su @ v.T
        i_cov = np.outer(w, w) * (uu * vv + uv * uv.T)
        is_a = ram.kind == 0
        j_cov = np.where(is_a[None, :], b[:p, ram.row] * mu_all[ram.col][None, :], 0.0)
        free_mean = grp.mean_index >= 0
        j_mean = b[:p, grp.mean_pos[free_mean]]
        jac = np.hstack([j_cov, j_mean])
        idx = np.concatenate([grp.cov_index, grp.mean_index[free_mean]])
        rc = g_cov.size
        row_grad = -jac.T @ (sigma_inv @ d)
        row_grad[:rc] += g_cov
        row_info = jac.T @ sigma_inv @ jac
        row_info[:rc, :rc] += i_cov
        agg = np.zeros((q, idx.size))
        agg[idx, np.arange(idx.size)] = 1.0
        grad += w_g * (agg @ row_grad)
        info += w_g * (agg @ row_info @ agg.T)
    return float(f), grad, (info + info.T) / 2.0


def _fisher(joint: _Joint, stats: Sequence[_Moments], theta0: np.ndarray) -> Optimum:
    """Fisher scoring on the size-weighted sum of the groups' F."""
    return fisher_scoring(lambda theta: _objective(joint, stats, theta, True), theta0,
                          MULTIGROUP_SCORING,
                          value=lambda theta: _objective(joint, stats, theta, False)[0],
                          undefined_start="start values give a non-positive-definite "
                          "covariance matrix in some group")


# --------------------------------------------------------------------------- data


def minimum_group_size(model: str | ModelSpec) -> int:
    """The smallest group a multi-group fit of ``model`` accepts: ``p + 1``.

    A group's N-divisor covariance matrix of ``p`` observed variables is
    singular with ``p`` rows or fewer, so the likelihood does not exist
    (lavaan stops with "sample covariance matrix is not positive-definite").

    Returns
    -------
    int
        ``p + 1`` with ``p`` the number of observed variables of the model.
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    return len(spec.observed) + 1


def group_frames(data: pd.DataFrame, group: str,
                 observed: Sequence[str]) -> tuple[tuple[str, ...], list[pd.DataFrame], int]:
    """Split complete data by the grouping column, groups in order of first appearance.

    Parameters
    ----------
    data:
        Observations with the grouping column and the observed variables.
    group:
        Name of the grouping column.
    observed:
        The model's observed variables.

    Returns
    -------
    tuple
        ``(labels, frames, dropped)``: group labels as strings, one frame per
        group, and the number of rows left out because the grouping column is
        empty there (lavaan drops them too).

    Raises
    ------
    InputError
        The grouping column is missing or has fewer than two levels, or a
        group has too few rows for the model (naming the group, its n and
        the minimum).
    """
    if group not in data.columns:
        raise InputError(f"the data have no grouping column {group!r}; columns are "
                         + ", ".join(map(str, data.columns[:30])))
    keep = data[group].notna()
    dropped = int((~keep).sum())
    frame = data[keep]
    labels_raw = list(pd.unique(frame[group]))
    if len(labels_raw) < 2:
        raise InputError(f"grouping column {group!r} has {len(labels_raw)} distinct value(s) "
                         "among the rows analysed; a group comparison needs at least two")
    minimum = len(observed) + 1
    frames = [frame[frame[group] == lab] for lab in labels_raw]
    labels = tuple(_label(x) for x in labels_raw)
    small = [(lab, len(f)) for lab, f in zip(labels, frames, strict=True) if len(f) < minimum]
    if small:
        raise InputError(
            f"grouping column {group!r}: group(s) "
            + ", ".join(f"{lab!r} (n = {n})" for lab, n in small)
            + f" are too small for the model: each group needs at least {minimum} rows "
            f"(one more than the {len(observed)} observed variables) for its covariance "
            "matrix to be positive definite; merge small groups or drop them")
    return labels, frames, dropped


def _label(x: object) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _group_stats(spec: ModelSpec, labels: Sequence[str], frames: Sequence[pd.DataFrame],
                 group: str) -> list[_Moments]:
    out = []
    for lab, frame in zip(labels, frames, strict=True):
        missing = [v for v in spec.observed if v not in frame.columns]
        if missing:
            raise InputError("the data have no column for observed variable(s) "
                             + ", ".join(missing))
        x = frame[list(spec.observed)].to_numpy(dtype=float)
        if np.isnan(x).any():
            raise InputError(f"group {lab!r} of {group!r}: missing values in the observed "
                             "variables; multi-group estimation needs complete data")
        mean = x.mean(axis=0)
        xc = x - mean
        cov = xc.T @ xc / x.shape[0]
        trouble = sample_cov_trouble(cov, spec.observed, x.shape[0])
        if trouble:
            raise InputError(f"group {lab!r} of {group!r}: {trouble}; maximum likelihood "
                             "cannot be computed in this group")
        out.append(_Moments(int(x.shape[0]), mean, cov))
    return out


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class MultiGroupFit:
    """A multi-group ML fit: lavaan's numbers for ``cfa/sem(..., group = ...)``.

    Attributes
    ----------
    spec:
        The joint model (:class:`GroupSpec`).
    group:
        Name of the grouping column.
    groups:
        Group labels, group 1 first.
    n:
        Rows per group.
    params:
        ``parameterEstimates(fit, standardized = TRUE)`` without intervals:
        ``lhs, op, rhs, group`` (1-based), ``group_label, label, free, est,
        se, z, pvalue, std_lv, std_all`` (``se``, ``z``, ``pvalue`` NaN
        for fixed rows). Intercepts and latent means have ``op = "~1"``.
    theta:
        Free parameter values (joint index order).
    vcov:
        ``(N I)⁻¹`` (``vcov(fit)``).
    fmin:
        lavaan's ``fmin``, F at the estimates.
    measures:
        Fit measures under lavaan's names with ``.`` as ``_``: ``npar, fmin,
        chisq, df, pvalue, baseline_chisq, baseline_df, cfi, tli, nfi, ifi,
        rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, srmr, logl,
        unrestricted_logl, aic, bic, ntotal``.
    chisq_groups:
        Each group's contribution ``2 n_g F_g`` (lavaan's ``test$standard$stat.group``).
    sample_means, sample_covs, implied_means, implied_covs:
        Per group, over the observed variables.
    converged:
        Whether max |∂F/∂θ| fell below 1e-6.
    message:
        What the optimiser said.
    warnings:
        Non-convergence, negative variances and standardised loadings above 1, by group.
    dropped:
        Rows left out because the grouping column was empty.
    """

    spec: GroupSpec
    group: str
    groups: tuple[str, ...]
    n: tuple[int, ...]
    params: pd.DataFrame
    theta: np.ndarray
    vcov: np.ndarray
    fmin: float
    measures: dict[str, float]
    chisq_groups: tuple[float, ...]
    sample_means: tuple[np.ndarray, ...]
    sample_covs: tuple[np.ndarray, ...]
    implied_means: tuple[np.ndarray, ...]
    implied_covs: tuple[np.ndarray, ...]
    converged: bool
    message: str
    warnings: tuple[str, ...] = field(default=())
    dropped: int = 0

    @property
    def chisq(self) -> float:
        """Likelihood-ratio χ², ``2 N fmin``."""
        return self.measures["chisq"]

    @property
    def df(self) -> int:
        """Degrees of freedom."""
        return self.spec.df

    @property
    def ntotal(self) -> int:
        """Total sample size N."""
        return int(sum(self.n))

    def row_values(self) -> np.ndarray:
        """One value per row of ``spec.partable`` (a start for a related model)."""
        return self.params["est"].to_numpy(dtype=float)


def _start_theta(spec: GroupSpec, row_values: np.ndarray) -> np.ndarray:
    """θ from per-row values: the mean over the rows that share a free parameter."""
    free = spec.partable["free"].to_numpy()
    sel = free > 0
    sums = np.bincount(free[sel] - 1, weights=row_values[sel], minlength=spec.npar)
    counts = np.bincount(free[sel] - 1, minlength=spec.npar)
    return sums / np.maximum(counts, 1)


def _pooled_start(spec: GroupSpec, joint: _Joint, stats: Sequence[_Moments],
                  frames: Sequence[pd.DataFrame]) -> np.ndarray:
    """Pooled single-group ML estimates in every group; intercepts = group means."""
    base = spec.base
    pooled = fit_model(base, pd.concat([f[list(base.observed)] for f in frames]))
    comp = joint.comp
    base_vals = pooled.params["est"].to_numpy(dtype=float)
    p = comp.ram.p
    b = moments(comp.ram, np.where(comp.free > 0, base_vals, comp.fixed_values))[1]
    values = [np.concatenate([base_vals, np.linalg.solve(b[:p, :p], st.mean),
                              np.zeros(len(base.latent))]) for st in stats]
    return _start_theta(spec, np.concatenate(values))


def fit_multigroup(model: str | ModelSpec | GroupSpec, data: pd.DataFrame, group: str, *,
                   group_equal: Sequence[str] = (), group_partial: Sequence[str] = (),
                   equal: Sequence[str] = (),
                   start: np.ndarray | None = None) -> MultiGroupFit:
    """Fit a model jointly to the groups of ``data[group]`` by ML with a mean structure.

    Parameters
    ----------
    model:
        lavaan model syntax, a :class:`ModelSpec`, or a :class:`GroupSpec`
        (then its groups must be those of the data and the constraint
        arguments are ignored).
    data:
        Complete observations with the grouping column.
    group:
        The grouping column; groups in order of first appearance.
    group_equal, group_partial, equal:
        Constraints, see :func:`specify_groups`.
    start:
        Values per row of the joint parameter table (e.g.
        ``other_fit.row_values()`` of a nested model) to start from.

    Returns
    -------
    MultiGroupFit

    Raises
    ------
    InputError
        A missing grouping column, fewer than two groups, a group too small
        for the model, missing values, a singular sample covariance matrix in
        a group, or an unidentified model (singular information matrix).

    Notes
    -----
    In R: ``cfa(model, data, group = group, group.equal = group_equal,
    group.partial = group_partial)`` (``sem()`` alike); the estimates are
    ``parameterEstimates(fit, standardized = TRUE)`` and the measures
    ``fitMeasures(fit)``.
    """
    base = model.base if isinstance(model, GroupSpec) else (
        model if isinstance(model, ModelSpec) else specify(model))
    labels, frames, dropped = group_frames(data, group, base.observed)
    if isinstance(model, GroupSpec):
        if model.groups != labels:
            raise InputError(f"the model was built for groups {model.groups}, the data have "
                             f"{labels}")
        spec = model
    else:
        spec = specify_groups(base, labels, group_equal=group_equal,
                              group_partial=group_partial, equal=equal)
    stats = _group_stats(base, labels, frames, group)
    joint = _joint(spec)
    messages = []
    opt = None
    if start is not None:
        opt = _fisher(joint, stats, _start_theta(spec, np.asarray(start, dtype=float)))
        messages.append(f"Fisher scoring from the given start: {opt.message}")
        if not opt.converged:
            opt = None
    if opt is None:
        opt = _fisher(joint, stats, _pooled_start(spec, joint, stats, frames))
        messages.append(f"Fisher scoring from the pooled estimates: {opt.message} after "
                        f"{opt.iterations} steps (max |gradient| {opt.gradient:.1e})")
    return _assemble(spec, joint, stats, opt, group, "; ".join(messages), dropped)


def _srmr_group(st: _Moments, mu: np.ndarray, sigma: np.ndarray) -> float:
    sd = np.sqrt(np.diag(st.cov))
    low = np.tril_indices(sigma.shape[0])
    cov_res = ((st.cov - sigma) / np.outer(sd, sd))[low]
    mean_res = (st.mean - mu) / sd
    return float(math.sqrt((np.sum(cov_res ** 2) + np.sum(mean_res ** 2))
                           / (cov_res.size + mean_res.size)))


def _measures(spec: GroupSpec, stats: Sequence[_Moments], fmin: float,
              mus: Sequence[np.ndarray], sigmas: Sequence[np.ndarray]) -> dict[str, float]:
    n_total = sum(st.n for st in stats)
    n_groups = len(stats)
    p = len(spec.base.observed)
    x2 = 2.0 * n_total * fmin
    df = spec.df
    x2_null = float(sum(st.n * (np.log(np.diag(st.cov)).sum() - np.linalg.slogdet(st.cov)[1])
                        for st in stats))
    df_null = n_groups * p * (p - 1) // 2
    logl = 0.0
    unrestricted = 0.0
    for st, mu, sigma in zip(stats, mus, sigmas, strict=True):
        d = st.mean - mu
        inv = np.linalg.inv(sigma)
        logl += -0.5 * st.n * (p * _LOG2PI + np.linalg.slogdet(sigma)[1]
                               + np.einsum("ij,ij->", st.cov, inv) + d @ inv @ d)
        unrestricted += -0.5 * st.n * (p * _LOG2PI + np.linalg.slogdet(st.cov)[1] + p)
    srmr = sum(st.n / n_total * _srmr_group(st, mu, sigma)
               for st, mu, sigma in zip(stats, mus, sigmas, strict=True))
    fit = assemble_fit(FitStatistics(
        n=n_total, chisq=x2, df=df, baseline_chisq=x2_null, baseline_df=df_null,
        srmr=float(srmr), gfi=math.nan, nel=0, logl=float(logl), npar=spec.npar,
        groups=n_groups))
    return {
        "npar": float(spec.npar), "fmin": fmin, "chisq": x2, "df": float(df),
        "pvalue": fit["pvalue"], "baseline_chisq": x2_null, "baseline_df": float(df_null),
        **{k: fit[k] for k in ("cfi", "tli", "nfi", "ifi", "rmsea", "rmsea_ci_lower",
                               "rmsea_ci_upper", "rmsea_pvalue", "srmr")},
        "logl": float(logl), "unrestricted_logl": float(unrestricted),
        "aic": fit["aic"], "bic": fit["bic"], "ntotal": float(n_total),
    }


def _assemble(spec: GroupSpec, joint: _Joint, stats: Sequence[_Moments], opt: Optimum,
              group: str, message: str, dropped: int) -> MultiGroupFit:
    from scipy.stats import norm

    base = spec.base
    pt = spec.partable
    theta = opt.theta
    p = joint.comp.ram.p
    n_total = sum(st.n for st in stats)
    notes: list[str] = []
    if not opt.converged:
        notes.append(f"the optimiser did not converge ({opt.message}); estimates are not a "
                     "maximum-likelihood solution")
    _, _, info = _objective(joint, stats, theta, True)
    eig = np.linalg.eigvalsh(info) if spec.npar else np.zeros(0)
    if eig.size and eig.min() <= eig.max() * SINGULAR_EIGENVALUE_RATIO:
        vec = np.linalg.eigh(info)[1][:, 0]
        worst = np.argsort(-np.abs(vec))[:4]
        names = []
        for k in worst:
            r = pt[pt["free"] == k + 1].iloc[0]
            names.append(f"{r.lhs} {r.op} {r.rhs} (group {spec.groups[r.group - 1]})")
        raise InputError("the multi-group model is not identified: the information matrix "
                         f"is singular (smallest eigenvalue {eig.min():.3g}); parameters "
                         "involved: " + "; ".join(names))
    vcov = np.linalg.inv(n_total * info) if spec.npar else np.zeros((0, 0))
    se_theta = np.sqrt(np.clip(np.diag(vcov), 0, None))
    frames = []
    mus, sigmas, chisq_groups = [], [], []
    for g, st in enumerate(stats):
        c, b, mu_all, vals = joint.moments(theta, g)
        sigma = c[:p, :p]
        mus.append(mu_all[:p])
        sigmas.append(sigma)
        rows = pt[pt.group == g + 1]
        cov_part = rows[rows.base_row >= 0].sort_values("base_row")
        mean_part = rows[rows.base_row < 0]
        grp = joint.groups[g]
        mean_vals = np.where(grp.mean_index >= 0, theta[np.maximum(grp.mean_index, 0)],
                             grp.mean_fixed)
        est = np.concatenate([vals, mean_vals])
        part = pd.concat([cov_part, mean_part])
        total_var = np.diag(c)
        std_lv, std_all = standardize(part.lhs.iloc[: len(vals)], part.op.iloc[: len(vals)],
                                      part.rhs.iloc[: len(vals)], vals, base.latent,
                                      base.observed, total_var[p:], total_var[:p])
        sd = dict(zip(base.variables, np.sqrt(np.clip(total_var, 0, None)), strict=True))
        mean_sd = np.array([sd[v] for v in mean_part.lhs])
        is_lv = mean_part.lhs.isin(base.latent).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_std_lv = np.where(is_lv, mean_vals / mean_sd, mean_vals)
            mean_std_all = mean_vals / mean_sd
        free = part["free"].to_numpy()
        se = np.where(free > 0, se_theta[np.maximum(free - 1, 0)], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
        frames.append(pd.DataFrame({
            "lhs": part.lhs.to_numpy(), "op": part.op.to_numpy(), "rhs": part.rhs.to_numpy(),
            "group": g + 1, "group_label": spec.groups[g], "label": part.label.to_numpy(),
            "free": free, "est": est, "se": se, "z": z,
            "pvalue": 2.0 * norm.sf(np.abs(z)),
            "std_lv": np.concatenate([std_lv, mean_std_lv]),
            "std_all": np.concatenate([std_all, mean_std_all]),
        }))
        d = st.mean - mu_all[:p]
        inv = np.linalg.inv(sigma)
        f_g = 0.5 * (np.linalg.slogdet(sigma)[1] + np.einsum("ij,ij->", st.cov, inv)
                     - np.linalg.slogdet(st.cov)[1] - p + d @ inv @ d)
        chisq_groups.append(float(2.0 * st.n * f_g))
    params = pd.concat(frames, ignore_index=True)
    params.loc[params.free == 0, ["se", "z", "pvalue"]] = np.nan
    for r in params[(params.op == "~~") & (params.lhs == params.rhs) & (params.est < 0)
                    ].itertuples():
        notes.append(f"group {r.group_label}: negative variance (Heywood case) "
                     f"{r.lhs} ~~ {r.lhs} = {r.est:.4g}")
    load = params[params.op == "=~"]
    for r in load[np.abs(load.std_all) > 1].itertuples():
        notes.append(f"group {r.group_label}: standardised loading above 1: "
                     f"{r.lhs} =~ {r.rhs} = {r.std_all:.4g}")
    fmin = max(float(opt.f), 0.0)
    measures = _measures(spec, stats, fmin, mus, sigmas)
    return MultiGroupFit(
        spec=spec, group=group, groups=spec.groups, n=tuple(st.n for st in stats),
        params=params, theta=theta.copy(), vcov=vcov, fmin=fmin, measures=measures,
        chisq_groups=tuple(chisq_groups), sample_means=tuple(st.mean for st in stats),
        sample_covs=tuple(st.cov for st in stats), implied_means=tuple(mus),
        implied_covs=tuple(sigmas), converged=opt.converged, message=message,
        warnings=tuple(notes), dropped=dropped,
    )
