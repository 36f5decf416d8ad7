"""Measurement invariance across groups and per-path group comparisons.

Measurement invariance (Vandenberg & Lance 2000; Meredith 1993) is tested as a
sequence of nested multi-group models (:func:`sem_kit.estimators.multigroup.fit_multigroup`),
each adding equality constraints to the previous one:

============  =====================================  ==================================
step          lavaan ``group.equal``                 meaning
============  =====================================  ==================================
configural    (none)                                 same pattern of loadings
metric        ``"loadings"``                         equal loadings (weak invariance)
scalar        ``+ "intercepts"``                     equal item intercepts (strong)
strict        ``+ "residuals"``                      equal residual variances
============  =====================================  ==================================

Partial invariance frees named parameters in every step (``group.partial``,
e.g. ``["x3~1"]``). Each step is compared with the one before by

- the likelihood-ratio (χ² difference) test, ``Δχ² = χ²_restricted − χ²_free``
  on ``Δdf`` degrees of freedom, ``p = P(χ²_Δdf > Δχ²)`` (lavaan
  ``lavTestLRT()`` / ``anova()`` for the standard ML test);
- the change in CFI and RMSEA, ``ΔCFI = CFI_step − CFI_previous`` and
  ``ΔRMSEA = RMSEA_step − RMSEA_previous``, judged by Chen's (2007, Table 7
  and p. 501) cut-offs. The exact rule applied: a metric, scalar or strict
  step **holds** when ``ΔCFI ≥ −0.010`` and ``ΔRMSEA ≤ 0.015`` if the total
  sample exceeds 300, and when ``ΔCFI ≥ −0.005`` and ``ΔRMSEA ≤ 0.010`` if
  ``N ≤ 300`` (Chen's stricter cut-offs for small, unequal samples); the
  unrounded differences are compared. The configural step has no
  comparison and its ``holds`` is null: its own fit is judged by the usual
  fit-index cut-offs. The χ² test is reported beside the verdict, not used
  in it, since with large samples it rejects trivial differences (Chen 2007).

Every structural path (``~``) is compared across groups in a baseline model
with equal loadings (metric invariance, which makes the paths' scales
comparable; with the same ``group.partial``): its per-group estimates side by
side, and a χ² difference test of the baseline against the same model with
that one path held equal in all groups.

Examples
--------
>>> from sem_kit.postestimation.invariance import (measurement_invariance,  # doctest: +SKIP
...     compare_paths)  # doctest: +SKIP
>>> inv = measurement_invariance(hs_model, data, "school")              # doctest: +SKIP
>>> inv.table[["step", "chisq", "df", "delta_cfi", "holds"]]             # doctest: +SKIP

In R::

    configural <- cfa(model, data, group = "school")
    metric <- cfa(model, data, group = "school", group.equal = "loadings")
    scalar <- cfa(model, data, group = "school", group.equal = c("loadings", "intercepts"))
    strict <- cfa(model, data, group = "school",
                  group.equal = c("loadings", "intercepts", "residuals"))
    lavTestLRT(configural, metric, scalar, strict)
    # a path held equal: sem(<model with y ~ c(b, b) * x>, data, group = "school",
    #                        group.equal = "loadings"), then lavTestLRT(baseline, constrained)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from scipy.stats import chi2

from sem_kit.engine.syntax import ModelSpec, specify
from sem_kit.estimators.multigroup import MultiGroupFit, fit_multigroup
from sem_kit.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "INVARIANCE_FIT",
    "STEPS",
    "GroupComparison",
    "InvarianceResult",
    "PathComparison",
    "chen_cutoffs",
    "compare_paths",
    "group_comparison",
    "invariance_holds",
    "lr_test",
    "measurement_invariance",
]

#: The invariance steps and their lavaan ``group.equal``, in order.
STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

#: Total sample size above which Chen's (2007) cut-offs for large samples apply.
CHEN_LARGE_N = 300

#: The fit measures of each invariance step judged by the usual cut-offs
#: (:attr:`InvarianceResult.fit_verdicts`).
INVARIANCE_FIT: tuple[str, ...] = ("cfi", "tli", "rmsea", "srmr")


def chen_cutoffs(n_total: int) -> tuple[float, float]:
    """Chen's (2007) cut-offs ``(ΔCFI lower bound, ΔRMSEA upper bound)`` for N.

    Returns
    -------
    tuple of float
        ``(-0.010, 0.015)`` when ``n_total > 300``, else ``(-0.005, 0.010)``.

    Notes
    -----
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of
    measurement invariance. *Structural Equation Modeling*, 14(3), 464-504
    (recommendations, p. 501).
    """
    if n_total > CHEN_LARGE_N:
        return -0.010, 0.015
    return -0.005, 0.010


def invariance_holds(delta_cfi: float, delta_rmsea: float, n_total: int) -> bool:
    """Chen's verdict: ``ΔCFI ≥ cut_CFI and ΔRMSEA ≤ cut_RMSEA`` (:func:`chen_cutoffs`)."""
    cut_cfi, cut_rmsea = chen_cutoffs(n_total)
    return bool(delta_cfi >= cut_cfi and delta_rmsea <= cut_rmsea)


def lr_test(restricted: MultiGroupFit, free: MultiGroupFit) -> tuple[float, int, float]:
    """χ² difference test of nested ML models.

    Parameters
    ----------
    restricted:
        The model with more constraints (more df).
    free:
        The model it is nested in.

    Returns
    -------
    tuple
        ``(Δχ², Δdf, p)`` with ``Δχ² = χ²_restricted − χ²_free``,
        ``Δdf = df_restricted − df_free`` and ``p = P(χ²_Δdf > Δχ²)``
        (NaN when ``Δdf = 0``).

    Notes
    -----
    In R: ``lavTestLRT(free, restricted)`` (``anova()``), standard ML test.
    """
    dx2 = restricted.chisq - free.chisq
    ddf = int(restricted.df - free.df)
    p = float(chi2.sf(max(dx2, 0.0), ddf)) if ddf > 0 else math.nan
    return float(dx2), ddf, p


@dataclass(frozen=True, eq=False)
class InvarianceResult:
    """The invariance sequence: fits, table and the rule applied.

    Attributes
    ----------
    group:
        The grouping column.
    groups:
        Group labels and sizes, ``((label, n), ...)``.
    fits:
        The multi-group fit of every step, by step name.
    table:
        One row per step: ``step, chisq, df, pvalue, cfi, tli, rmsea, srmr,
        delta_chisq, delta_df, delta_pvalue, delta_cfi, delta_rmsea,
        delta_srmr, holds`` (deltas against the previous step, NaN / None
        for the configural step).
    group_partial:
        Parameters freed in every step.
    rule:
        The verdict rule in words.
    delta_cutoffs:
        The rule's cut-offs ``(ΔCFI lower bound, ΔRMSEA upper bound)``
        (:func:`chen_cutoffs` of the total sample).
    warnings:
        Every step's estimation warnings, prefixed with the step.
    thresholds:
        The cut-offs each step's own fit is judged by (:attr:`fit_verdicts`).
    """

    group: str
    groups: tuple[tuple[str, int], ...]
    fits: dict[str, MultiGroupFit]
    table: pd.DataFrame
    group_partial: tuple[str, ...]
    rule: str
    delta_cutoffs: tuple[float, float]
    warnings: tuple[str, ...] = field(default=())
    thresholds: Thresholds = DEFAULT_THRESHOLDS

    def records(self) -> list[dict]:
        """The table as results.json's ``groups.invariance`` list (NaN → None)."""
        return _records(self.table)

    @property
    def fit_verdicts(self) -> pd.DataFrame:
        """One row per step (the index of ``table``): the verdicts of its ``cfi, tli, rmsea,
        srmr`` by ``thresholds``, and of its ``delta_cfi`` and ``delta_rmsea`` by
        ``delta_cutoffs`` (``good`` when the change is within the cut-off, else ``poor``);
        ``None`` where the value is undefined (the configural step's changes)."""
        out = pd.DataFrame(None, index=self.table.index, columns=[*INVARIANCE_FIT,
                                                                   "delta_cfi", "delta_rmsea"],
                           dtype=object)
        for key in INVARIANCE_FIT:
            cut = self.thresholds.get(key)
            out[key] = [cut.verdict(float(v)) if _defined(v) else None for v in self.table[key]]
        cut_cfi, cut_rmsea = self.delta_cutoffs
        out["delta_cfi"] = [None if not _defined(v) else "good" if v >= cut_cfi else "poor"
                            for v in self.table["delta_cfi"]]
        out["delta_rmsea"] = [None if not _defined(v) else "good" if v <= cut_rmsea else "poor"
                              for v in self.table["delta_rmsea"]]
        return out


    @property
    def highest_step(self) -> tuple[str, str | None]:
        """The highest step that holds with every step before it, and the first step that
        does not hold (``None`` when every step holds); the step is the first
        (configural) one when the next one already fails."""
        steps = list(self.table["step"])
        top, failed = steps[0], None
        for step, holds in zip(steps[1:], list(self.table["holds"])[1:], strict=True):
            if _defined(holds) and bool(holds):
                top = step
            else:
                failed = step
                break
        return top, failed


def _defined(value: object) -> bool:
    return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            if k in ("df", "delta_df") and isinstance(v, float):
                v = int(v)
            clean[k] = v
        out.append(clean)
    return out


def _rule(n_total: int) -> str:
    cut_cfi, cut_rmsea = chen_cutoffs(n_total)
    size = f"N = {n_total} > {CHEN_LARGE_N}" if n_total > CHEN_LARGE_N else (
        f"N = {n_total} ≤ {CHEN_LARGE_N}")
    return (f"Chen (2007), {size}: a step holds when ΔCFI ≥ {cut_cfi:.3f} and "
            f"ΔRMSEA ≤ {cut_rmsea:.3f} against the previous step")


def measurement_invariance(model: str | ModelSpec, data: pd.DataFrame, group: str, *,
                           group_partial: Sequence[str] = (),
                           steps: Sequence[str] = tuple(STEPS)) -> InvarianceResult:
    """Fit configural, metric, scalar and strict models and compare each with the previous.

    Parameters
    ----------
    model:
        The measurement model (lavaan syntax or :class:`ModelSpec`).
    data:
        Complete observations with the grouping column.
    group:
        Grouping column.
    group_partial:
        Parameters freed from the constraints in every step (partial
        invariance), lavaan names such as ``"x3~1"``.
    steps:
        Steps to run, in order (a prefix of :data:`STEPS` or any ordered
        subset of it).

    Returns
    -------
    InvarianceResult

    Raises
    ------
    InputError
        As :func:`sem_kit.estimators.multigroup.fit_multigroup` (e.g. a group too small
        for the model), or an unknown step name.

    Notes
    -----
    In R: ``cfa(model, data, group = group, group.equal = STEPS[step],
    group.partial = group_partial)`` per step; ``lavTestLRT(configural,
    metric, scalar, strict)``; ``fitMeasures(fit, c("chisq", "df", "pvalue",
    "cfi", "tli", "rmsea", "srmr"))``.
    """
    from sem_kit.errors import InputError

    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise InputError("unknown invariance step(s) " + ", ".join(map(repr, unknown))
                         + "; expected " + ", ".join(STEPS))
    spec = model if isinstance(model, ModelSpec) else specify(model)
    fits: dict[str, MultiGroupFit] = {}
    rows = []
    notes: list[str] = []
    previous: MultiGroupFit | None = None
    for step in steps:
        fit = fit_multigroup(spec, data, group, group_equal=STEPS[step],
                             group_partial=group_partial,
                             start=None if previous is None else previous.row_values())
        fits[step] = fit
        notes += [f"{step}: {w}" for w in fit.warnings]
        m = fit.measures
        row = {"step": step, "chisq": m["chisq"], "df": int(fit.df), "pvalue": m["pvalue"],
               "cfi": m["cfi"], "tli": m["tli"], "rmsea": m["rmsea"], "srmr": m["srmr"],
               "delta_chisq": math.nan, "delta_df": None, "delta_pvalue": math.nan,
               "delta_cfi": math.nan, "delta_rmsea": math.nan, "delta_srmr": math.nan,
               "holds": None}
        if previous is not None:
            dx2, ddf, p = lr_test(fit, previous)
            d_cfi = m["cfi"] - previous.measures["cfi"]
            d_rmsea = m["rmsea"] - previous.measures["rmsea"]
            row.update(delta_chisq=dx2, delta_df=ddf, delta_pvalue=p, delta_cfi=d_cfi,
                       delta_rmsea=d_rmsea,
                       delta_srmr=m["srmr"] - previous.measures["srmr"],
                       holds=invariance_holds(d_cfi, d_rmsea, fit.ntotal))
        rows.append(row)
        previous = fit
    first = next(iter(fits.values()))
    table = pd.DataFrame(rows)
    return InvarianceResult(
        group=group, groups=tuple(zip(first.groups, first.n, strict=True)), fits=fits,
        table=table, group_partial=tuple(group_partial), rule=_rule(first.ntotal),
        delta_cutoffs=chen_cutoffs(first.ntotal), warnings=tuple(notes))


@dataclass(frozen=True, eq=False)
class PathComparison:
    """Structural paths across groups.

    Attributes
    ----------
    baseline:
        The multi-group model the paths are compared in (equal loadings).
    estimates:
        One row per path and group: ``hypothesis, from, to, group, est, std,
        se, z, pvalue`` (``std`` is std.all in that group).
    tests:
        One row per path: ``hypothesis, from, to, chisq, df, delta_chisq,
        delta_df, delta_pvalue, differs`` (``differs``: p < .05, the path
        is not equal across groups).
    warnings:
        Estimation warnings of the baseline and the constrained models.
    """

    baseline: MultiGroupFit
    estimates: pd.DataFrame
    tests: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())

    def path_records(self) -> list[dict]:
        """``groups.paths`` of results.json: ``{hypothesis, from, to, group, est, std, se,
        pvalue}``."""
        cols = ["hypothesis", "from", "to", "group", "est", "std", "se", "pvalue"]
        return _records(self.estimates[cols])

    def test_records(self) -> list[dict]:
        """``groups.path_tests`` of results.json, one per path."""
        return _records(self.tests)


def compare_paths(model: str | ModelSpec, data: pd.DataFrame, group: str, *,
                  group_equal: Sequence[str] = ("loadings",),
                  group_partial: Sequence[str] = (),
                  hypotheses: Mapping[tuple[str, str], str] | None = None,
                  alpha: float = 0.05) -> PathComparison:
    """Every structural path's per-group estimates and its equality test across groups.

    Parameters
    ----------
    model:
        The structural model (lavaan syntax or :class:`ModelSpec`).
    data:
        Complete observations with the grouping column.
    group:
        Grouping column.
    group_equal, group_partial:
        Constraints of the baseline model (default: equal loadings, i.e.
        metric invariance, so that the paths are on the same scale).
    hypotheses:
        Optional names of the paths, ``{(from, to): "H1"}``; unnamed paths
        get ``"to ~ from"``.
    alpha:
        Level below which a path ``differs`` across groups.

    Returns
    -------
    PathComparison

    Notes
    -----
    For each free regression ``y ~ x``: ``Δχ²`` of the baseline against the
    baseline plus ``y ~ c(b, b) * x`` (one label in all groups). In R:
    ``lavTestLRT(sem(model, data, group = group, group.equal = "loadings"),
    sem(constrained, data, group = group, group.equal = "loadings"))``.
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    names = dict(hypotheses or {})
    baseline = fit_multigroup(spec, data, group, group_equal=group_equal,
                              group_partial=group_partial)
    notes = [f"path comparison baseline: {w}" for w in baseline.warnings]
    pt = spec.partable
    paths = [(r.lhs, r.rhs) for r in pt[(pt.op == "~") & (pt["free"] > 0)].itertuples()]
    params = baseline.params
    est_rows = []
    test_rows = []
    for lhs, rhs in paths:
        hyp = names.get((rhs, lhs), f"{lhs} ~ {rhs}")
        sel = params[(params.op == "~") & (params.lhs == lhs) & (params.rhs == rhs)]
        for r in sel.itertuples():
            est_rows.append({"hypothesis": hyp, "from": rhs, "to": lhs, "group": r.group_label,
                             "est": r.est, "std": r.std_all, "se": r.se, "z": r.z,
                             "pvalue": r.pvalue})
        constrained = fit_multigroup(spec, data, group, group_equal=group_equal,
                                     group_partial=group_partial, equal=[f"{lhs}~{rhs}"],
                                     start=baseline.row_values())
        notes += [f"{lhs} ~ {rhs} held equal: {w}" for w in constrained.warnings]
        dx2, ddf, p = lr_test(constrained, baseline)
        test_rows.append({"hypothesis": hyp, "from": rhs, "to": lhs,
                          "chisq": constrained.chisq, "df": int(constrained.df),
                          "delta_chisq": dx2, "delta_df": ddf, "delta_pvalue": p,
                          "differs": bool(p < alpha)})
    est_cols = ["hypothesis", "from", "to", "group", "est", "std", "se", "z", "pvalue"]
    test_cols = ["hypothesis", "from", "to", "chisq", "df", "delta_chisq", "delta_df",
                 "delta_pvalue", "differs"]
    return PathComparison(baseline, pd.DataFrame(est_rows, columns=est_cols),
                          pd.DataFrame(test_rows, columns=test_cols), tuple(notes))


@dataclass(frozen=True, eq=False)
class GroupComparison:
    """The ``groups`` block of a run: invariance of the measurement model, paths compared.

    Attributes
    ----------
    invariance:
        :class:`InvarianceResult` of the measurement (CFA) model.
    paths:
        :class:`PathComparison` of the structural model, or ``None`` without
        hypotheses.
    """

    invariance: InvarianceResult
    paths: PathComparison | None

    @property
    def warnings(self) -> tuple[str, ...]:
        """Estimation warnings of every multi-group model, prefixed ``Groups:``."""
        notes = self.invariance.warnings + (self.paths.warnings if self.paths else ())
        return tuple(f"Groups: {w}" for w in notes)

    def to_dict(self) -> dict:
        """results.json's ``groups``: ``column, groups [{label, n}], rule, invariance,
        paths, path_tests`` (DESIGN.md)."""
        inv = self.invariance
        return {
            "column": inv.group,
            "groups": [{"label": lab, "n": int(n)} for lab, n in inv.groups],
            "group_partial": list(inv.group_partial),
            "rule": inv.rule,
            "invariance": inv.records(),
            "paths": self.paths.path_records() if self.paths else [],
            "path_tests": self.paths.test_records() if self.paths else [],
        }


def group_comparison(measurement: str | ModelSpec, structural: str | ModelSpec | None,
                     data: pd.DataFrame, group: str, *, group_partial: Sequence[str] = (),
                     hypotheses: Mapping[tuple[str, str], str] | None = None
                     ) -> GroupComparison:
    """Measurement invariance of ``measurement`` and, if given, the paths of ``structural``.

    Parameters
    ----------
    measurement:
        The CFA model (``Questionnaire.measurement_syntax()``).
    structural:
        The structural model (``Questionnaire.model_syntax()``) or ``None``.
    data:
        Complete item data with the grouping column.
    group:
        Grouping column.
    group_partial:
        Parameters freed in every invariance step and in the path baseline.
    hypotheses:
        Path names, ``{(from, to): "H1"}``.

    Returns
    -------
    GroupComparison

    Notes
    -----
    In R: the calls of :func:`measurement_invariance` and :func:`compare_paths`.
    """
    inv = measurement_invariance(measurement, data, group, group_partial=group_partial)
    paths = None
    if structural is not None:
        paths = compare_paths(structural, data, group, group_partial=group_partial,
                              hypotheses=hypotheses)
    return GroupComparison(inv, paths)
