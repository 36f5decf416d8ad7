"""The structural model: hypothesis tests, R², effects, mediation and model comparison.

:func:`structural_model` is the stage. It fits the questionnaire's full model
(measurement part, second-order constructs, hypothesised regressions and
residual covariances: :meth:`~sem_kit.questionnaire.Questionnaire.model_syntax`)
by ML as ``lavaan::sem()`` does (or by MLM, MLR, FIML or WLSMV: see
:func:`structural_model`), and reports

- one row per hypothesis: the regression coefficient (``est``), its std.all
  value (``std``), SE, z, p, a confidence interval and the verdict
  (:func:`sem_kit.structural.effects.verdict`: supported when p < .05 and the estimate
  has the hypothesised sign);
- R² of every endogenous construct (``lavInspect(fit, "r2")``);
- direct, indirect and total effects between constructs, unstandardised and
  standardised (:func:`sem_kit.structural.effects.effects_table`);
- every indirect effect X -> M (-> M2 ...) -> Y of the hypothesis graph
  (:meth:`~sem_kit.questionnaire.Questionnaire.indirect_paths`) as the product
  of its paths' coefficients, and of their std.all values: what lavaan gives
  for ``ind := a*b`` in ``parameterEstimates()`` and ``standardizedSolution()``;
- the nested-model comparison of :mod:`sem_kit.postestimation.comparison`;
- modification indices (:func:`sem_kit.postestimation.modification.modification_indices`).

Intervals
---------
With ``bootstrap = B > 0`` the model is refitted on B nonparametric resamples
of the rows (:func:`sem_kit.postestimation.bootstrap.run_bootstrap`: resample ``b`` comes from
the ``b``-th child of ``SeedSequence(seed)``, so the intervals do not depend on
``jobs``) with :class:`sem_kit.engine.refit.Refitter`, starting from the full-sample
estimates as lavaan does. Each resample gives the statistic vector: the
unstandardised and std.all coefficient of every hypothesised path, every
chain's product of both, and every pair's indirect and total effect. The
intervals are lavaan's ``boot.ci.type = "perc"`` (``ci_lower, ci_upper``) and
``"bca.simple"`` (``bc_lower, bc_upper``): in R, ``sem(model, data, se =
"bootstrap", bootstrap = B)`` then ``parameterEstimates(fit, boot.ci.type =
"perc")``. Like lavaan, non-admissible resample solutions (negative variances)
are kept and counted, and resamples whose refit fails are left out, counted
with their reasons and named in the warnings.

Under ``missing="fiml"`` every resample is refitted by FIML
(:class:`sem_kit.estimators.fiml.FimlRefitter`, rows with unanswered items included, as
lavaan's ``se = "bootstrap"`` with ``missing = "ml"``); under
``estimator="WLSMV"`` no bootstrap is run (lavaan's default there is the robust
vcov) and the intervals are those below. The FIML and WLSMV estimates are
mapped onto the ML parameter table by ``(lhs, op, rhs)`` (``ThetaMap``), so the
same statistic vector and delta method serve every estimator.

With ``bootstrap = 0`` the intervals are normal-theory: Wald intervals
``est ± z SE`` for the paths (``parameterEstimates(fit)``) and delta-method
intervals for the products and the standardised values
(``parameterEstimates()`` / ``standardizedSolution()`` rows of ``:=``
parameters). The delta-method SEs (``std_se``, and ``se`` of the indirect
effects) are reported in both cases.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from sem_kit.engine.fit import Fit
from sem_kit.engine.refit import Refitter
from sem_kit.engine.syntax import specify
from sem_kit.engine.threads import one_blas_thread
from sem_kit.errors import InputError
from sem_kit.estimators.dispatch import Estimated, estimate, fit_estimator
from sem_kit.estimators.ml import bootstrap_refitter
from sem_kit.io.json_values import json_number
from sem_kit.postestimation.bootstrap import (
    bias_corrected_ci,
    percentile_ci,
    run_bootstrap,
)
from sem_kit.postestimation.comparison import COMPARISON_COLUMNS, compare_alternatives
from sem_kit.postestimation.modification import modification_indices
from sem_kit.questionnaire import Questionnaire
from sem_kit.structural.bootstrap import (
    EffectLayout,
    SpecPoint,
    Statistic,
    ThetaMap,
    effect_layout,
)
from sem_kit.structural.effects import SUPPORTED, effects_table, verdict
from sem_kit.thresholds import (
    DEFAULT_THRESHOLDS,
    FitJudgement,
    Thresholds,
    comparison_verdict,
    judge_fit,
)

__all__ = [
    "BootstrapInfo",
    "StructuralResult",
    "delta_method",
    "structural_model",
]

PERCENTILE = "percentile bootstrap"
WALD = "Wald (normal theory)"
DELTA = "delta method"

PATH_COLUMNS = ["hypothesis", "from", "to", "sign", "est", "std", "se", "z", "pvalue",
                "ci_lower", "ci_upper", "ci_method", "bc_lower", "bc_upper", "boot_se",
                "std_se", "std_ci_lower", "std_ci_upper", "verdict", "supported"]
INDIRECT_COLUMNS = ["path", "from", "to", "mediators", "est", "std", "se", "std_se", "boot_se",
                    "ci_lower", "ci_upper", "bc_lower", "bc_upper", "std_ci_lower",
                    "std_ci_upper", "method"]
EFFECT_COLUMNS = ["from", "to", "direct", "indirect", "total", "direct_std", "indirect_std",
                  "total_std", "indirect_ci_lower", "indirect_ci_upper", "total_ci_lower",
                  "total_ci_upper", "ci_method"]


def delta_method(func: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                 vcov: np.ndarray) -> np.ndarray:
    """Standard errors of ``func(θ̂)`` by the delta method, ``sqrt(diag(J V Jᵀ))``.

    ``J`` is the Jacobian of ``func`` at ``θ̂`` by central differences (step
    ``1e-6·max(1, |θ_k|)``), ``V`` the covariance matrix of θ̂.

    Notes
    -----
    lavaan's SEs of ``:=`` parameters (``parameterEstimates()``) and of the
    standardised solution (``standardizedSolution()``) are this quantity, with
    ``V = vcov(fit)``.
    """
    theta = np.asarray(theta, dtype=float)
    base = np.asarray(func(theta), dtype=float)
    jac = np.empty((base.size, theta.size))
    for k in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        jac[:, k] = (np.asarray(func(up)) - np.asarray(func(down))) / (2 * h)
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    return np.sqrt(np.clip(var, 0, None))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class BootstrapInfo:
    """What the bootstrap did.

    Attributes
    ----------
    requested:
        Resamples asked for (0: no bootstrap, normal-theory intervals).
    succeeded, failed:
        Resamples whose refit converged / failed (failed ones are left out of
        the intervals, never replaced).
    reasons:
        ``(reason, count)`` for the failed resamples.
    nonadmissible:
        Succeeded resamples with a negative variance estimate (kept, as lavaan
        keeps them).
    seed:
        The seed the resamples were drawn from (drawn at random and recorded
        here when none was given).
    level:
        Confidence level of every interval.
    """

    requested: int
    succeeded: int
    failed: int
    reasons: tuple[tuple[str, int], ...]
    nonadmissible: int
    seed: int | None
    level: float

    def to_dict(self) -> dict[str, object]:
        return {"requested": self.requested, "succeeded": self.succeeded,
                "failed": self.failed, "reasons": [{"reason": r, "count": c}
                                                   for r, c in self.reasons],
                "nonadmissible": self.nonadmissible, "seed": self.seed, "level": self.level}


@dataclass(frozen=True, eq=False)
class StructuralResult:
    """The structural model's numbers.

    Attributes
    ----------
    fit:
        The full model's :class:`~sem_kit.engine.fit.Fit`.
    fit_measures:
        The DESIGN.md FIT keys (:func:`sem_kit.engine.fit_indices.assemble_fit`).
    paths:
        One row per hypothesis, columns :data:`PATH_COLUMNS`: ``est`` (lavaan
        ``est``), ``std`` (std.all), ``se, z, pvalue`` (ML, expected
        information), ``ci_lower, ci_upper`` (percentile bootstrap of ``est``,
        or Wald when ``bootstrap = 0``; ``ci_method`` says which),
        ``bc_lower, bc_upper`` (bias-corrected bootstrap), ``boot_se``
        (bootstrap SD), ``std_se`` (delta method, ``standardizedSolution()``),
        ``std_ci_lower, std_ci_upper`` (percentile bootstrap of ``std``, or
        delta-method Wald), ``verdict`` and ``supported``.
    r2:
        R² of every endogenous construct.
    effects:
        Direct, indirect and total effects of every pair with a path between
        them, unstandardised and standardised, with intervals of the
        indirect and total effects (:data:`EFFECT_COLUMNS`).
    indirect:
        One row per chain (:data:`INDIRECT_COLUMNS`): ``path`` ("X -> M -> Y"),
        ``est`` (product of the coefficients), ``std`` (product of the std.all
        values), ``se``/``std_se`` (delta method), ``boot_se``, percentile
        (``ci_*``, ``std_ci_*``) and bias-corrected (``bc_*``) intervals;
        ``method`` names the interval.
    bootstrap:
        :class:`BootstrapInfo`.
    comparison:
        :func:`sem_kit.postestimation.comparison.compare_models` table.
    modification_indices:
        :func:`sem_kit.postestimation.modification.modification_indices` of the full model
        (ML's under MLM and MLR); ``None`` under FIML and WLSMV.
    warnings:
        Estimation trouble, failed resamples, alternatives that failed.
    estimator:
        The run's estimator (``ML``, ``MLM``, ``MLR``, ``WLSMV``; ``ML`` under FIML).
    thresholds:
        The cut-offs the fit measures are judged by.
    """

    fit: Fit
    fit_measures: dict[str, float]
    paths: pd.DataFrame
    r2: pd.Series
    effects: pd.DataFrame
    indirect: pd.DataFrame
    bootstrap: BootstrapInfo
    comparison: pd.DataFrame
    modification_indices: pd.DataFrame | None
    warnings: tuple[str, ...] = field(default=())
    estimator: str = "ML"
    thresholds: Thresholds = DEFAULT_THRESHOLDS

    def to_dict(self) -> dict[str, object]:
        """The ``sem`` block of results.json (DESIGN.md), plain JSON values."""
        paths = [
            {"hypothesis": r["hypothesis"], "from": r["from"], "to": r["to"], "sign": r["sign"],
             **{k: json_number(r[k]) for k in ("est", "std", "se", "z", "pvalue",
                                               "ci_lower", "ci_upper")},
             "supported": bool(r["supported"])}
            for r in self.paths.to_dict("records")
        ]
        indirect = [
            {"path": r["path"],
             **{k: json_number(r[k]) for k in ("est", "std", "ci_lower", "ci_upper")},
             "method": r["method"]}
            for r in self.indirect.to_dict("records")
        ]
        return {
            "fit": {k: json_number(v) for k, v in self.fit_measures.items()},
            "paths": paths,
            "r2": {str(k): json_number(v) for k, v in self.r2.items()},
            "indirect": indirect,
        }

    @property
    def fit_judgement(self) -> FitJudgement:
        """``fit_measures`` judged as the CFA's (``MeasurementResult.cfa_judgement``)."""
        ok = self.fit.admissible and self.fit.converged
        return judge_fit(self.fit_measures, admissible=ok, scaled_only=self.estimator == "WLSMV",
                         thresholds=self.thresholds)

    @property
    def comparison_verdicts(self) -> list[str | None]:
        """One verdict per row of ``comparison``: ``baseline`` for the hypothesised model
        (the first row), then :func:`~sem_kit.thresholds.comparison_verdict` of each
        alternative."""
        rows = zip(self.comparison["delta_pvalue"], self.comparison["delta_cfi"], strict=True)
        return [comparison_verdict(p, c) if i else "baseline" for i, (p, c) in enumerate(rows)]

    @property
    def indirect_excludes_zero(self) -> list[bool | None]:
        """For each row of ``indirect``: whether its interval (``ci_lower``, ``ci_upper``)
        excludes 0; ``None`` when either bound is undefined."""
        return [None if not (math.isfinite(a) and math.isfinite(b)) else bool(a > 0 or b < 0)
                for a, b in zip(self.indirect["ci_lower"], self.indirect["ci_upper"],
                                strict=True)]


# --------------------------------------------------------------------------- the stage


def _comparison(q: Questionnaire, reported: Any, fit: Fit | None, data: pd.DataFrame,
                estimator: str, missing: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The nested-model comparison: ML fits (ML, MLM, MLR), FIML fits (FIML), none (WLSMV)."""
    if fit is not None:
        return compare_alternatives(q, fit, data)
    if missing == "fiml":
        return compare_alternatives(q, reported, data, fitter=lambda syntax, d, base: fit_estimator(
            syntax, d, missing="fiml"))
    return (pd.DataFrame(columns=COMPARISON_COLUMNS),
            (f"model comparison: not run under {estimator} (the chi-square difference of "
             "two WLSMV fits needs lavaan's scaled difference test, which sem-kit does not "
             "compute); compare the models' fit measures instead",))


def _intervals(point: np.ndarray, se: np.ndarray, boot: np.ndarray | None,
               level: float) -> dict[str, np.ndarray]:
    """Percentile and bias-corrected intervals from replicates, else Wald from ``se``."""
    if boot is not None:
        ok = boot[np.isfinite(boot).all(axis=1)]
        if ok.shape[0] == 0:
            nan = np.full(point.size, np.nan)
            return {"lower": nan, "upper": nan, "bc_lower": nan, "bc_upper": nan,
                    "boot_se": nan}
        perc = percentile_ci(ok, level)
        bc = bias_corrected_ci(ok, point, level)
        boot_se = ok.std(axis=0, ddof=1) if ok.shape[0] > 1 else np.full(point.size, np.nan)
        return {"lower": perc[:, 0], "upper": perc[:, 1], "bc_lower": bc[:, 0],
                "bc_upper": bc[:, 1], "boot_se": boot_se}
    z = norm.ppf((1 + level) / 2)
    nan = np.full(point.size, np.nan)
    return {"lower": point - z * se, "upper": point + z * se, "bc_lower": nan,
            "bc_upper": nan, "boot_se": nan}


def _bootstrap(statistic: Any, data: np.ndarray, layout: EffectLayout, n_boot: int,
               seed: int | None, jobs: int, progress: Callable[[int], None] | None,
               level: float) -> tuple[np.ndarray | None, BootstrapInfo, list[str]]:
    if n_boot <= 0:
        return None, BootstrapInfo(0, 0, 0, (), 0, seed, level), []
    if seed is None:
        seed = secrets.randbits(32)
    res = run_bootstrap(statistic, data, n_boot, seed, layout.size + 1,
                        jobs=jobs, progress=progress)
    reps = res.estimates
    nonadmissible = int(np.nansum(reps[:, -1]))
    reasons = tuple(sorted(Counter(res.reasons).items(), key=lambda kv: (-kv[1], kv[0])))
    info = BootstrapInfo(n_boot, res.n_ok, res.n_failed, reasons, nonadmissible, seed, level)
    notes = []
    if res.n_failed:
        detail = "; ".join(f"{r} ({c}x)" for r, c in reasons)
        notes.append(f"bootstrap: {res.n_failed} of {n_boot} resamples failed and are left "
                     f"out of the intervals, which use the {res.n_ok} that succeeded: {detail}")
    if nonadmissible:
        notes.append(f"bootstrap: {nonadmissible} of {res.n_ok} resamples have a negative "
                     "variance estimate (non-admissible); they are kept, as lavaan keeps them")
    return reps[:, :-1], info, notes


def structural_model(q: Questionnaire, data: pd.DataFrame, *, bootstrap: int = 5000,
                     seed: int | None = None, jobs: int = 1, level: float = 0.95,
                     progress: Callable[[int], None] | None = None,
                     estimator: str = "ML", missing: str = "listwise") -> StructuralResult:
    """Fit the hypothesised structural model and test its hypotheses and mediations.

    Parameters
    ----------
    q:
        The questionnaire; it must have at least one hypothesis.
    data:
        Item columns named by item id, reverse-keyed items already recoded;
        complete rows unless ``missing="fiml"``.
    bootstrap:
        Number of bootstrap resamples; 0 for normal-theory (Wald / delta
        method) intervals only.
    seed:
        Seed of the resamples; ``None`` draws one (recorded in
        ``result.bootstrap.seed``).
    jobs:
        Worker processes for the bootstrap (``-1``: all cores); the results do
        not depend on it.
    level:
        Confidence level of every interval.
    progress:
        Called with the number of finished resamples.
    estimator:
        ``ML``; ``MLM`` or ``MLR`` (ML estimates, robust SEs and scaled fit;
        the bootstrap, comparison and modification indices are ML's);
        ``WLSMV`` (every item ordered: :func:`sem_kit.estimators.wlsmv.fit_wlsmv`; no
        bootstrap -- Wald and delta-method intervals from its robust SEs --,
        no model comparison, no modification indices).
    missing:
        ``listwise`` (``data`` complete) or ``fiml``
        (:func:`sem_kit.estimators.fiml.fit_fiml` on every row of ``data``, NaN for an
        unanswered item; each bootstrap resample is refitted by FIML; the
        nested alternatives are FIML fits; no modification indices).

    Returns
    -------
    StructuralResult
        Fit, fit measures, hypothesis table, R², effects, indirect effects,
        bootstrap summary, model comparison, modification indices, warnings.

    Raises
    ------
    InputError
        No hypotheses, missing item columns, or a model that cannot be estimated.

    Notes
    -----
    In R (lavaan 0.6)::

        fit <- sem(model, data, se = "bootstrap", bootstrap = B)
        parameterEstimates(fit, boot.ci.type = "perc", standardized = TRUE)
        standardizedSolution(sem(model, data))      # std, std_se, delta intervals
        lavInspect(fit, "r2"); fitMeasures(fit); modindices(fit)
        anova(fit, alternative)

    with ``ind := a*b`` lines for the indirect effects.
    """
    if not q.hypotheses:
        raise InputError(f"{q.origin}: hypotheses: the questionnaire has no hypotheses, so "
                         "there is no structural model to estimate")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be 0 (no bootstrap) or a number of resamples, "
                         f"got {bootstrap}")
    with one_blas_thread():
        return _structural_model(q, data, bootstrap, seed, jobs, level, progress, estimator,
                                 missing)


def _estimator_fit(spec: Any, data: pd.DataFrame, estimator: str, missing: str,
                   notes: list[str]) -> Estimated:
    """The reported fit, its FIT block and, for ML-based estimators, the ML fit under it."""
    estimated = estimate(spec, data, estimator=estimator, missing=missing)
    # MLM / MLR: the ML estimates with robust SEs and scaled tests (lavaan's estimator =
    # "MLM"/"MLR"); the bootstrap, model comparison and modification indices stay ML.
    shown = estimated.fit if estimated.ml_fit is None else estimated.ml_fit
    notes.extend(f"SEM: {w}" for w in shown.warnings)
    if estimated.ml_fit is not None and estimated.fit is not estimated.ml_fit:
        notes.append(f"SEM: {estimator}: robust SEs, z and p and scaled fit measures; the "
                     "bootstrap intervals, the model comparison (plain ML chi-square "
                     "difference tests) and the modification indices are ML's")
    return estimated


def _structural_model(q: Questionnaire, data: pd.DataFrame, bootstrap: int, seed: int | None,
                      jobs: int, level: float,
                      progress: Callable[[int], None] | None,
                      estimator: str = "ML", missing: str = "listwise") -> StructuralResult:
    spec = specify(q.model_syntax())
    notes: list[str] = []
    estimated = _estimator_fit(spec, data, estimator, missing, notes)
    reported, fit = estimated.fit, estimated.ml_fit
    chains = [tuple(c) for c in q.indirect_paths()]
    constructs = list(q.structural_constructs)
    params = reported.params
    keyed = params.set_index(["lhs", "op", "rhs"])
    hyp_rows = [keyed.loc[(h.target, "~", h.source)] for h in q.hypotheses.values()]
    coef = {(h.source, h.target): float(r["est"])
            for h, r in zip(q.hypotheses.values(), hyp_rows, strict=True)}
    coef_std = {(h.source, h.target): float(r["std_all"])
                for h, r in zip(q.hypotheses.values(), hyp_rows, strict=True)}
    eff = effects_table(constructs, coef, chains)
    eff_std = effects_table(constructs, coef_std, chains)
    pairs = list(zip(eff["from"], eff["to"], strict=True))

    if fit is not None:
        # ML, MLM, MLR: the statistics are functions of the ML θ; the bootstrap refits ML
        layout = effect_layout(q, fit, chains, pairs)
        refitter = bootstrap_refitter(fit)
        theta = np.asarray(fit.theta, dtype=float)
        vcov = reported.vcov.to_numpy(dtype=float)
        s_full = fit.sample_cov.loc[list(refitter.observed),
                                    list(refitter.observed)].to_numpy()

        def vector(th: np.ndarray) -> np.ndarray:
            return layout.values(refitter.est_all(th, s_full), refitter.std_all(th, s_full))

        statistic: Statistic | None = Statistic(refitter, refitter, layout)
    else:
        # FIML, WLSMV: the estimator's θ mapped onto the ML parameter table
        mapped = ThetaMap(spec, reported)
        point_fit = SpecPoint(spec, mapped.base, reported.sample_cov, np.eye(spec.npar))
        layout = effect_layout(q, point_fit, chains, pairs)
        refitter = Refitter(point_fit)  # type: ignore[arg-type]
        est_theta = np.asarray(reported.theta, dtype=float)
        theta = est_theta[mapped.est_pos]
        vcov = reported.vcov.to_numpy(dtype=float)[np.ix_(mapped.est_pos, mapped.est_pos)]

        def vector(th: np.ndarray) -> np.ndarray:
            full = mapped.embed(th)
            return layout.values(refitter.est_all(full), refitter.std_all(full))

        statistic = None
        if missing == "fiml":
            from sem_kit.estimators.fiml import FimlRefitter

            statistic = Statistic(FimlRefitter(reported), refitter, layout, mapped)
    # the point values from the reported table itself, in the ML table's row order
    pt_keys = list(zip(spec.partable.lhs, spec.partable.op, spec.partable.rhs, strict=True))
    in_pt = keyed.loc[pt_keys]
    point = layout.values(in_pt["est"].to_numpy(dtype=float),
                          in_pt["std_all"].to_numpy(dtype=float))

    delta_se = delta_method(vector, theta, vcov) if theta.size else np.zeros(layout.size)
    sl = layout.slices()
    # the paths' own SEs are the estimator's (the delta method reproduces them to rounding)
    delta_se[sl["path"]] = [float(r["se"]) for r in hyp_rows]

    if statistic is None and bootstrap > 0:
        notes.append(f"bootstrap: not run under {estimator} (every resample would re-estimate "
                     "the thresholds and polychoric correlations); the paths have Wald "
                     "intervals and the indirect and total effects delta-method intervals, "
                     f"from {estimator}'s robust standard errors (lavaan's default)")
        bootstrap = 0
    elif missing == "fiml" and bootstrap > 0:
        notes.append(f"bootstrap: every one of the {bootstrap} resamples is refitted by FIML "
                     "(rows with unanswered items stay in the resamples), as lavaan's "
                     "se = \"bootstrap\" with missing = \"ml\"")
    observed = list(spec.observed)
    reps, info, boot_notes = _bootstrap(
        statistic, data[observed].to_numpy(dtype=float), layout, bootstrap, seed,
        jobs, progress, level)
    notes += boot_notes
    ci = _intervals(point, delta_se, reps, level)

    def part(name: str, key: str) -> np.ndarray:
        return ci[key][sl[name]]

    method = PERCENTILE if reps is not None else None
    rows = []
    for i, ((hid, h), r) in enumerate(zip(q.hypotheses.items(), hyp_rows, strict=True)):
        v = verdict(float(r["est"]), float(r["pvalue"]), h.sign)
        rows.append({
            "hypothesis": hid, "from": h.source, "to": h.target, "sign": h.sign,
            "est": float(r["est"]), "std": float(r["std_all"]), "se": float(r["se"]),
            "z": float(r["z"]), "pvalue": float(r["pvalue"]),
            "ci_lower": part("path", "lower")[i], "ci_upper": part("path", "upper")[i],
            "ci_method": method or WALD,
            "bc_lower": part("path", "bc_lower")[i], "bc_upper": part("path", "bc_upper")[i],
            "boot_se": part("path", "boot_se")[i],
            "std_se": delta_se[sl["path_std"]][i],
            "std_ci_lower": part("path_std", "lower")[i],
            "std_ci_upper": part("path_std", "upper")[i],
            "verdict": v, "supported": v == SUPPORTED,
        })
    paths = pd.DataFrame(rows, columns=PATH_COLUMNS)

    ind_rows = []
    for j, chain in enumerate(chains):
        ind_rows.append({
            "path": " -> ".join(chain), "from": chain[0], "to": chain[-1],
            "mediators": " -> ".join(chain[1:-1]),
            "est": point[sl["chain"]][j], "std": point[sl["chain_std"]][j],
            "se": delta_se[sl["chain"]][j], "std_se": delta_se[sl["chain_std"]][j],
            "boot_se": part("chain", "boot_se")[j],
            "ci_lower": part("chain", "lower")[j], "ci_upper": part("chain", "upper")[j],
            "bc_lower": part("chain", "bc_lower")[j], "bc_upper": part("chain", "bc_upper")[j],
            "std_ci_lower": part("chain_std", "lower")[j],
            "std_ci_upper": part("chain_std", "upper")[j],
            "method": method or DELTA,
        })
    indirect = pd.DataFrame(ind_rows, columns=INDIRECT_COLUMNS)

    effects = pd.DataFrame({
        "from": eff["from"], "to": eff["to"],
        "direct": eff["direct"], "indirect": point[sl["indirect"]], "total": point[sl["total"]],
        "direct_std": eff_std["direct"], "indirect_std": point[sl["indirect_std"]],
        "total_std": point[sl["total_std"]],
        "indirect_ci_lower": part("indirect", "lower"),
        "indirect_ci_upper": part("indirect", "upper"),
        "total_ci_lower": part("total", "lower"), "total_ci_upper": part("total", "upper"),
        "ci_method": method or DELTA,
    }, columns=EFFECT_COLUMNS)
    no_chain = np.array([idx.size == 0 for idx in layout.pair_chains], dtype=bool)
    effects.loc[no_chain, ["indirect_ci_lower", "indirect_ci_upper"]] = np.nan

    comparison, comp_notes = _comparison(q, reported, fit, data, estimator, missing)
    notes += comp_notes
    r2 = reported.r2.reindex(q.endogenous).rename("r2")
    mi = None
    if fit is not None:
        mi = modification_indices(fit)
    else:
        what = "FIML" if missing == "fiml" else estimator
        notes.append(f"modification indices: not computed under {what} (sem-kit computes "
                     "them for ML, MLM and MLR)")
    return StructuralResult(
        fit=reported,
        fit_measures=dict(reported.measures),
        paths=paths,
        r2=r2,
        effects=effects,
        indirect=indirect,
        bootstrap=info,
        comparison=comparison,
        modification_indices=mi,
        warnings=tuple(notes),
        estimator=estimator,
    )
