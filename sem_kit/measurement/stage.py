"""The measurement stage: item statistics, reliability, EFA, common-method check, CFA, validity.

One function, :func:`measurement_model`, from the item data and the
questionnaire to a :class:`MeasurementResult`. The numbers come from the
modules named for them (:mod:`~sem_kit.measurement.item_stats`,
:mod:`~sem_kit.measurement.reliability`, :mod:`~sem_kit.measurement.efa`,
:mod:`~sem_kit.estimators.dispatch`, :mod:`~sem_kit.engine.fit_indices`,
:mod:`~sem_kit.measurement.discriminant`, :mod:`~sem_kit.postestimation.modification`);
this module only chooses the inputs (the complete cases' covariance matrix, or
FIML's EM estimate of it, :mod:`~sem_kit.measurement.moments`) and lays the
results out as lavaan and a paper report them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sem_kit.engine.fit import EstimatorFit, Fit, model_matrices
from sem_kit.engine.threads import one_blas_thread
from sem_kit.errors import InputError
from sem_kit.estimators.dispatch import estimate, fit_estimator
from sem_kit.io.json_values import json_number
from sem_kit.measurement.discriminant import (
    DiscriminantValidity,
    discriminant_validity,
    fornell_larcker,
)
from sem_kit.measurement.efa import (
    EFAResult,
    EFASummary,
    ParallelAnalysis,
    efa,
    efa_summary,
    parallel_analysis,
)
from sem_kit.measurement.item_stats import LONE_ITEM_NOTE, ItemStatistics, item_statistics
from sem_kit.measurement.moments import covariance_matrix, item_block
from sem_kit.measurement.reliability import (
    categorical_omega_by_construct,
    omega_by_construct,
    reliability_l2,
    reliability_table,
)
from sem_kit.postestimation.modification import modification_indices
from sem_kit.questionnaire import Questionnaire
from sem_kit.thresholds import (
    DEFAULT_THRESHOLDS,
    FitJudgement,
    Thresholds,
    bartlett_verdict,
    judge_fit,
    kaiser_label,
    verdict,
)

#: Seed of the random data in parallel analysis when the run has none.
PARALLEL_SEED = 20260101


@dataclass(frozen=True, eq=False)
class MeasurementResult:
    """Everything the measurement section of a paper reports.

    Attributes
    ----------
    n:
        Respondents analysed (complete cases; under FIML every row, incomplete
        ones too).
    items:
        :class:`~sem_kit.measurement.item_stats.ItemStatistics`; its table also carries
        ``loading_std`` (the CFA's std.all loading) and its verdict.
    reliability:
        One row per first-order construct: ``alpha, alpha_ci_lower,
        alpha_ci_upper, cr, ave, omega, sqrt_ave`` and a verdict beside each of
        alpha, CR and AVE.
    reliability_l2:
        One row per second-order construct: ``omega_l1, omega_l2,
        partial_omega_l1`` (semTools ``reliabilityL2``).
    efa_summary, efa, parallel:
        KMO/Bartlett/Harman, the EFA with as many factors as first-order
        constructs (oblimin), and Horn's parallel analysis.
    cfa:
        The CFA :class:`~sem_kit.engine.fit.Fit`.
    cfa_fit:
        The CFA's fit measures (DESIGN.md FIT keys).
    loadings:
        ``construct, item, est, std, se, z, pvalue`` for every item, then
        the second-order loadings (``item`` is then a dimension).
    latent_correlations:
        Implied correlations of the first-order constructs (``cor.lv``).
    single_factor_fit:
        Fit of the one-factor CFA over every item (Harman's test as a CFA).
    discriminant:
        HTMT, HTMT2 and Fornell-Larcker.
    modification_indices:
        The CFA's modification indices, largest first (ML's under MLM and
        MLR); ``None`` under FIML and WLSMV.
    warnings:
        Numerical trouble and weak spots, in words.
    estimator:
        The run's estimator (``ML``, ``MLM``, ``MLR``, ``WLSMV``; ``ML`` under FIML).
    thresholds:
        The cut-offs of every verdict (:data:`~sem_kit.thresholds.DEFAULT_THRESHOLDS`
        unless the stage was given others).
    """

    n: int
    items: ItemStatistics
    reliability: pd.DataFrame
    reliability_l2: pd.DataFrame
    efa_summary: EFASummary
    efa: EFAResult
    parallel: ParallelAnalysis
    cfa: Fit
    cfa_fit: dict[str, float]
    loadings: pd.DataFrame
    latent_correlations: pd.DataFrame
    single_factor_fit: dict[str, float] | None
    discriminant: DiscriminantValidity
    modification_indices: pd.DataFrame | None
    warnings: tuple[str, ...] = field(default=())
    estimator: str = "ML"
    thresholds: Thresholds = DEFAULT_THRESHOLDS

    @property
    def cfa_judgement(self) -> FitJudgement:
        """The CFA's fit measures judged by ``thresholds`` (every one ``improper`` when the
        solution did not converge or is inadmissible; only the scaled ones under WLSMV)."""
        return judge_fit(self.cfa_fit, admissible=self.cfa.admissible and self.cfa.converged,
                         scaled_only=self.estimator == "WLSMV", thresholds=self.thresholds)

    @property
    def single_factor_judgement(self) -> FitJudgement | None:
        """The one-factor CFA's fit measures judged by ``thresholds`` as they stand (the
        stage keeps its measures, not its solution); ``None`` when it was not fitted."""
        if self.single_factor_fit is None:
            return None
        return judge_fit(self.single_factor_fit, scaled_only=self.estimator == "WLSMV",
                         thresholds=self.thresholds)

    @property
    def loading_verdicts(self) -> pd.Series:
        """The verdict of every standardised loading of ``loadings`` (its index), first- and
        second-order, by ``thresholds.loading``; ``None`` for a single-item construct's
        loading (fixed at 1, not estimated)."""
        lone = set(self.single_item_constructs)
        return pd.Series([self.thresholds.loading.verdict(v)
                          if math.isfinite(v) and not (level == 1 and c in lone) else None
                          for c, level, v in zip(self.loadings["construct"],
                                                 self.loadings["level"], self.loadings["std"],
                                                 strict=True)],
                         index=self.loadings.index, dtype=object)

    @property
    def adequacy_verdicts(self) -> dict[str, str | None]:
        """Verdicts of the EFA's adequacy and the common-method check: ``kmo`` (overall KMO
        by ``thresholds.kmo``), ``kmo_label`` (Kaiser's word for it), ``bartlett_pvalue``
        (:func:`~sem_kit.thresholds.bartlett_verdict`) and ``harman_first_factor_share``
        (by ``thresholds.harman``)."""
        s = self.efa_summary
        return {"kmo": self.thresholds.kmo.verdict(s.kmo.overall),
                "kmo_label": kaiser_label(s.kmo.overall),
                "bartlett_pvalue": bartlett_verdict(s.bartlett.pvalue),
                "harman_first_factor_share": self.thresholds.harman.verdict(
                    s.harman_first_factor_share)}

    @property
    def fornell_larcker_violations(self) -> pd.DataFrame | None:
        """Constructs x constructs: ``True`` where the latent correlation is at least the
        smaller of the two constructs' √AVE (the pair fails Fornell & Larcker's criterion),
        ``False`` elsewhere and on the diagonal; ``None`` without the Fornell-Larcker table."""
        fl = self.discriminant.fornell_larcker
        if fl is None:
            return None
        root = np.diag(fl.table.to_numpy(dtype=float))
        fails = fl.table.abs().to_numpy(dtype=float) >= np.minimum.outer(root, root)
        np.fill_diagonal(fails, False)
        return pd.DataFrame(fails, index=fl.table.index, columns=fl.table.columns)

    @property
    def single_item_constructs(self) -> list[str]:
        """First-order constructs measured by one item, in questionnaire order (their alpha,
        CR, AVE, omega, √AVE, HTMT and their item's CITC and alpha if deleted are undefined)."""
        counts = self.items.table["construct"].value_counts()
        return [c for c in self.reliability.index if counts.get(c, 0) == 1]

    def to_dict(self) -> dict:
        """The ``items``, ``reliability``, ``efa``, ``cfa`` and ``discriminant`` blocks.

        A single-item construct's reliability entry and its item's entry carry a
        ``note`` saying why their numbers are null
        (:data:`~sem_kit.measurement.reliability.SINGLE_ITEM_NOTE`,
        :data:`~sem_kit.measurement.item_stats.LONE_ITEM_NOTE`)."""
        items = self.items.to_dict()
        lone = set(self.single_item_constructs)
        for item, rec in items.items():
            rec["loading_std"] = json_number(self.items.table.loc[item, "loading_std"])
            rec.pop("loading_verdict", None)
            if rec.get("construct") in lone:
                rec["note"] = LONE_ITEM_NOTE
        rel = {}
        for c, row in self.reliability.iterrows():
            rel[c] = {k: json_number(row[k]) for k in ("alpha", "alpha_ci_lower",
                                                       "alpha_ci_upper", "cr", "ave", "omega")}
            if isinstance(row.get("note"), str):
                rel[c]["note"] = row["note"]
        first = self.loadings[self.loadings["level"] == 1]
        loadings = [
            {"construct": r["construct"], "item": r["item"],
             **{k: json_number(r[k]) for k in ("est", "std", "se", "z", "pvalue")}}
            for _, r in first.iterrows()
        ]
        disc = self.discriminant.to_dict()
        return {
            "items": items,
            "reliability": rel,
            "efa": {k: json_number(v) for k, v in self.efa_summary.to_dict().items()},
            "cfa": {"fit": {k: json_number(v) for k, v in self.cfa_fit.items()},
                    "loadings": loadings},
            "discriminant": {
                "htmt": _nums(disc["htmt"]),
                "latent_correlations": _nums(disc.get("latent_correlations", {})),
                "sqrt_ave": _nums(disc.get("sqrt_ave", {})),
            },
        }


def _nums(block: dict) -> dict:
    """A one- or two-level mapping of numbers with NaN and infinities as ``None``.

    An improper solution (a negative AVE or latent variance) leaves some
    values undefined; results.json holds them as null, never as NaN.
    """
    return {k: _nums(v) if isinstance(v, dict) else json_number(v) for k, v in block.items()}


def loadings_table(fit: Fit, q: Questionnaire) -> pd.DataFrame:
    """Loadings in questionnaire order: first-order items, then second-order dimensions.

    Columns ``construct, item, level, est, std, se, z, pvalue`` where ``std`` is
    lavaan's std.all and ``level`` is 1 for items, 2 for dimensions.
    In R: ``standardizedSolution(fit)[op == "=~", ]``.
    """
    rows = fit.params[fit.params.op == "=~"].set_index(["lhs", "rhs"])
    out = []
    for cid in q.first_order:
        for item in q.construct_items[cid]:
            out.append(_loading_row(rows, cid, item, 1))
    for cid in q.second_order:
        for dim in q.constructs[cid].dimensions:
            out.append(_loading_row(rows, cid, dim, 2))
    return pd.DataFrame(out, columns=["construct", "item", "level", "est", "std", "se", "z",
                                      "pvalue"])


def _loading_row(rows: pd.DataFrame, construct: str, indicator: str, level: int) -> dict:
    r = rows.loc[(construct, indicator)]
    return {"construct": construct, "item": indicator, "level": level, "est": r["est"],
            "std": r["std_all"], "se": r["se"], "z": r["z"], "pvalue": r["pvalue"]}


def single_factor_syntax(items: list[str]) -> str:
    """lavaan syntax of Harman's one-factor CFA: every item on one factor ``CMV``."""
    return "CMV =~ " + " + ".join(items) + "\n"


def measurement_model(
    q: Questionnaire,
    data: pd.DataFrame,
    *,
    missing: pd.DataFrame | None = None,
    seed: int | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    estimator: str = "ML",
    missing_method: str = "listwise",
) -> MeasurementResult:
    """Run the whole measurement stage on reverse-coded item data.

    Parameters
    ----------
    q:
        The questionnaire (constructs, items, second-order structure, covariances).
    data:
        Respondents x items, reverse-coded items recoded; complete cases
        unless ``missing_method="fiml"`` (then NaN for an unanswered item).
    missing:
        The item frame before listwise deletion, for the per-item missing counts.
    seed:
        Seed of parallel analysis' random data (``PARALLEL_SEED`` if ``None``).
    thresholds:
        Cut-offs for the verdicts.
    estimator:
        ``ML``; ``MLM`` / ``MLR``: the same estimates with robust SEs and
        scaled fit measures (:func:`sem_kit.estimators.robust.fit_robust`), modification
        indices ML's; ``WLSMV``: every item an ordered category
        (:func:`sem_kit.estimators.wlsmv.fit_wlsmv`), omega as semTools' categorical
        omega, no modification indices.
    missing_method:
        ``listwise`` or ``fiml``: the CFAs by full-information ML on every row
        (:func:`sem_kit.estimators.fiml.fit_fiml`), omega from the EM covariance matrix,
        no modification indices; alpha, CITC, alpha if deleted, KMO, Bartlett,
        EFA, parallel analysis, Harman's test and HTMT from the EM covariance
        matrix with N = every row; M, SD, skewness and kurtosis from each item's
        answers.

    Returns
    -------
    MeasurementResult
    """
    with one_blas_thread():
        return _measurement_model(q, data, missing, seed, thresholds, estimator, missing_method)


def _measurement_model(
    q: Questionnaire,
    data: pd.DataFrame,
    missing: pd.DataFrame | None,
    seed: int | None,
    thresholds: Thresholds,
    estimator: str = "ML",
    missing_method: str = "listwise",
) -> MeasurementResult:
    constructs = q.construct_items
    items = [i for c in q.first_order for i in constructs[c]]
    everyone = data[items]
    data = everyone.dropna()
    warnings: list[str] = []
    _check_variation(everyone)
    fiml = missing_method == "fiml"
    estimated = estimate(q.measurement_syntax(), everyone if fiml else data,
                         estimator=estimator, missing=missing_method)
    cfa = estimated.fit
    warnings += [f"CFA: {w}" for w in cfa.warnings]
    if not cfa.converged:
        warnings.append("CFA: the estimation did not converge; its numbers are not trustworthy")
    cfa_fit = dict(cfa.measures)
    loadings = loadings_table(cfa, q)
    std_loading = loadings[loadings.level == 1].set_index("item")["std"]

    rows, cov, notes = _item_moments(everyone, data, cfa, fiml)
    warnings += notes
    stats = _item_statistics(rows, cov, constructs, missing, std_loading, thresholds)
    mats = model_matrices(cfa)
    rel, rel_l2, notes = _reliability(q, cfa, mats, cov, len(rows), std_loading, thresholds,
                                      estimator)
    warnings += notes
    summary = efa_summary(cov, len(rows))
    parallel = parallel_analysis(cov, len(rows), seed=PARALLEL_SEED if seed is None else seed)
    efa_result = efa(cov, n_factors=len(q.first_order))

    single = None
    try:
        single_fit = _single_factor_fit(items, everyone, everyone.dropna(), estimator, fiml)
        single = dict(single_fit.measures)
        if not single_fit.converged:
            warnings.append("single-factor CFA did not converge")
    except InputError as exc:
        warnings.append(f"single-factor CFA could not be fitted: {exc}")

    latent_cor = mats.cor_lv.loc[q.first_order, q.first_order]
    disc, notes = _validity(q, cov, rel["sqrt_ave"], latent_cor, thresholds)
    warnings += notes
    mi = None
    if estimated.ml_fit is not None:
        mi = modification_indices(estimated.ml_fit)
    else:
        warnings.append(f"modification indices: not computed under "
                        f"{'FIML' if fiml else estimator} (sem-kit computes them for ML, MLM "
                        "and MLR)")
    return MeasurementResult(
        n=int(len(everyone)), items=stats, reliability=rel, reliability_l2=rel_l2,
        efa_summary=summary, efa=efa_result, parallel=parallel, cfa=cfa, cfa_fit=cfa_fit,
        loadings=loadings, latent_correlations=latent_cor, single_factor_fit=single,
        discriminant=disc, modification_indices=mi, warnings=tuple(warnings),
        estimator=estimator, thresholds=thresholds,
    )


def _item_moments(everyone: pd.DataFrame, complete: pd.DataFrame, cfa: Any,
                  fiml: bool) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The rows M, SD, skewness and kurtosis describe, and the item covariance matrix.

    Listwise: the complete cases and their sample covariance matrix. FIML: every
    row (M, SD, skewness and kurtosis from each item's answers) and the EM
    estimate of the item covariance matrix, FIML's saturated model
    (``lavInspect(fit, "sampstat.h1")``). Alpha, CITC, alpha if deleted, KMO,
    Bartlett, the EFA, parallel analysis, Harman's test and HTMT are functions of
    that matrix and N, the number of rows.

    Returns
    -------
    tuple
        ``(rows, cov, notes)``: respondents x items, items x items, and the
        warning that says where the numbers come from under FIML.
    """
    if not fiml:
        return complete, covariance_matrix(complete), []
    note = (f"--missing fiml: alpha, CITC, alpha if deleted, KMO, Bartlett, EFA, parallel "
            f"analysis, Harman's test and HTMT are computed from the EM estimate of the item "
            f"covariance matrix over all {len(everyone)} rows; M, SD, skewness and kurtosis "
            "from each item's answers")
    return everyone, item_block(cfa.sample_cov, everyone.columns), [note]


def _item_statistics(rows: pd.DataFrame, cov: pd.DataFrame, constructs: dict[str, list[str]],
                     missing: pd.DataFrame | None, std_loading: pd.Series,
                     thresholds: Thresholds) -> ItemStatistics:
    """:func:`item_statistics` with the CFA's std.all loading of each item and its verdict
    (none for a single-item construct's item, whose loading is fixed)."""
    table = item_statistics(rows, constructs, missing=missing, cov=cov).table.copy()
    table["loading_std"] = std_loading.reindex(table.index)
    lone = {its[0] for its in constructs.values() if len(its) == 1}
    table["loading_verdict"] = [None if item in lone else verdict("loading", v, thresholds)
                                for item, v in table["loading_std"].items()]
    return ItemStatistics(table=table, n=len(rows))


def _reliability(q: Questionnaire, cfa: Any, mats: Any, cov: pd.DataFrame, n: int,
                 std_loading: pd.Series, thresholds: Thresholds,
                 estimator: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The ``reliability`` and ``reliability_l2`` tables, and what to say about them.

    Alpha (Feldt CI) from ``cov`` and ``n``; CR and AVE from the std.all loadings;
    omega as semTools' ``compRelSEM`` (Green & Yang's categorical omega under
    WLSMV); omegaL1, omegaL2 and partialOmegaL1 of each second-order construct as
    ``reliabilityL2``; a verdict beside alpha, CR and AVE.
    """
    constructs = q.construct_items
    rel = reliability_table(cov, n, constructs, std_loading).table.copy()
    if estimator == "WLSMV":
        # semTools compRelSEM() of an ordered-item fit: Green & Yang's (2009) categorical
        # omega, the reliability of the item sum on its observed categories
        omegas = categorical_omega_by_construct(mats.lambda_, mats.cov_lv, cfa.sample_cov,
                                                cfa.params, constructs)
    else:
        omegas = omega_by_construct(mats.lambda_, mats.cov_lv, cfa.sample_cov)
    rel["omega"] = omegas.reindex(rel.index)
    rel["sqrt_ave"] = np.sqrt(rel["ave"])
    for stat in ("alpha", "cr", "ave"):
        rel[f"{stat}_verdict"] = [verdict(stat, v, thresholds) for v in rel[stat]]
    l2_rows = []
    for cid in q.second_order:
        r = reliability_l2(mats.lambda_, mats.beta, mats.psi, mats.theta, cid, mats.cov_lv)
        l2_rows.append({"construct": cid, "omega_l1": r.omega_l1, "omega_l2": r.omega_l2,
                        "partial_omega_l1": r.partial_omega_l1})
    rel_l2 = pd.DataFrame(l2_rows, columns=["construct", "omega_l1", "omega_l2",
                                            "partial_omega_l1"]).set_index("construct")
    notes = []
    if estimator == "WLSMV" and q.second_order:
        notes.append("reliability of the second-order construct(s) "
                     + ", ".join(q.second_order) + " (omega L1, L2, partial L1) is on the "
                     "scale of the latent responses under WLSMV (semTools has no categorical "
                     "version for second-order constructs); the first-order omegas are "
                     "categorical (Green & Yang 2009)")
    return rel, rel_l2, notes


def _validity(q: Questionnaire, cov: pd.DataFrame, sqrt_ave: pd.Series,
              latent_cor: pd.DataFrame,
              thresholds: Thresholds) -> tuple[DiscriminantValidity, list[str]]:
    """HTMT, HTMT2 and Fornell-Larcker, and the weak spots of the constructs' validity.

    Warned: a single construct (no discriminant validity to assess), latent
    correlations that are undefined or at least .95 in absolute value, constructs
    of two items, single-item constructs (undefined HTMT and √AVE).
    """
    first = list(q.first_order)
    constructs = q.construct_items
    notes = []
    if len(first) >= 2:
        disc = discriminant_validity(cov, constructs, sqrt_ave=sqrt_ave,
                                     latent_correlations=latent_cor, thresholds=thresholds)
    else:
        disc = _one_construct_validity(first, sqrt_ave, latent_cor)
        notes.append(f"only one construct ({first[0]}): discriminant validity (HTMT, "
                     "Fornell-Larcker) needs two or more and is not assessed")
    pairs = [(a, b, latent_cor.loc[a, b]) for i, a in enumerate(first) for b in first[i + 1:]]
    for a, b, r in pairs:
        if not math.isfinite(r):
            notes.append(f"latent correlation of {a} and {b} is undefined: a latent variance "
                         "is not positive (see the Heywood warnings)")
        elif abs(r) >= 0.95:
            notes.append(f"latent correlation of {a} and {b} is {r:.3f} (|r| >= .95): the "
                         "two constructs are nearly collinear and may not be distinct")
    for c in first:
        if len(constructs[c]) == 2:
            notes.append(f"construct {c} has 2 items; CR and AVE of two-item constructs "
                         "are fragile")
    single = [c for c in first if len(constructs[c]) == 1]
    if single and len(first) >= 2:
        notes.append(f"single-item construct(s) {', '.join(single)}: HTMT and √AVE "
                     "(Fornell-Larcker) are undefined (no monotrait correlation, no AVE); "
                     "their latent correlations take the item as free of measurement error")
    return disc, notes


def _single_factor_fit(items: list[str], everyone: pd.DataFrame, complete: pd.DataFrame,
                       estimator: str, fiml: bool) -> Fit | EstimatorFit:
    """Harman's one-factor CFA with the run's estimator."""
    return fit_estimator(single_factor_syntax(items), everyone if fiml else complete,
                         estimator=estimator, missing="fiml" if fiml else "listwise")


def _one_construct_validity(first: list[str], sqrt_ave: pd.Series,
                            latent_cor: pd.DataFrame) -> DiscriminantValidity:
    """Discriminant validity of a single construct: nothing to compare, so 1 x 1 tables
    with an undefined HTMT (results.json then holds empty ``htmt`` and correlation maps)."""
    undefined = pd.DataFrame(np.nan, index=first, columns=first)
    verdicts = pd.DataFrame(None, index=first, columns=first, dtype=object)
    return DiscriminantValidity(htmt=undefined, htmt2=undefined.copy(), htmt_verdicts=verdicts,
                                fornell_larcker=fornell_larcker(sqrt_ave, latent_cor))


def _check_variation(data: pd.DataFrame) -> None:
    constant = [c for c in data.columns if data[c].nunique(dropna=True) <= 1]
    if constant:
        values = ", ".join(f"{c} (always {data[c].iloc[0]:g})" for c in constant)
        raise InputError(
            f"item(s) with the same answer from every analysed respondent: {values}; a "
            "constant item has no variance and cannot measure a construct -- drop it from "
            "the questionnaire or check the data"
        )
