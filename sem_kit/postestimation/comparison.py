"""Nested model comparison: chi-square difference tests, ΔCFI, AIC and BIC.

The hypothesised structural model is compared with nested alternatives built
from the questionnaire's hypothesis graph. A path is *dropped* by fixing its
coefficient to 0 (``Y ~ 0*X``), never by deleting it: a construct that loses
every cause stays endogenous, so lavaan's defaults do not free new
covariances and the alternative is nested, with Δdf the number of dropped
paths.

The rule (:func:`nested_alternatives`):

- **mediators** are the constructs that are both the target and the source of
  a hypothesis, i.e. the inner links of the chains that
  :meth:`~sem_kit.questionnaire.Questionnaire.indirect_paths` enumerates;
- ``no_mediator_paths``: every hypothesised path *into* a mediator is fixed to
  0 (in the built-in model CST -> WIL, EXB -> WIL, LOY -> ABL), so no effect
  can be mediated;
- ``full_mediation``: the direct path X -> Y of every mediated pair (a chain
  X -> M ... -> Y) is fixed to 0 where it is hypothesised (CST -> KSB,
  EXB -> KSB, LOY -> KSB), so X acts on Y only through its mediators.

A questionnaire without chains has no alternative; one whose chains have no
direct path has no ``full_mediation`` alternative.

The test is lavaan's ``anova(fit, alternative)`` (``lavTestLRT``) for ML:
``Δχ² = χ²_alt − χ²_hyp`` on ``Δdf = df_alt − df_hyp`` degrees of freedom, with
``p = P(χ²_Δdf > Δχ²)`` and ``RMSEA_D = sqrt(max(Δχ²/(N Δdf) − 1/N, 0))``
(lavaan's ``RMSEA`` column, Savalei et al. 2023).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sem_kit.engine.fit import Fit, FittedModel
from sem_kit.engine.fit_indices import rmsea
from sem_kit.engine.syntax import specify
from sem_kit.errors import InputError
from sem_kit.estimators.ml import fit_model
from sem_kit.questionnaire import Questionnaire

__all__ = [
    "Alternative",
    "compare_alternatives",
    "compare_models",
    "constrained_syntax",
    "fit_alternative",
    "lr_test",
    "mediators",
    "nested_alternatives",
]

#: Columns of :func:`compare_models`.
COMPARISON_COLUMNS = [
    "model", "description", "dropped", "npar", "df", "chisq", "pvalue", "cfi", "tli",
    "rmsea", "srmr", "aic", "bic", "delta_chisq", "delta_df", "delta_pvalue", "rmsea_d",
    "delta_cfi", "delta_rmsea", "delta_aic", "delta_bic",
]

_REGRESSION = re.compile(r"^\s*([\w.]+)\s*~\s*([^~=].*)$")


@dataclass(frozen=True)
class Alternative:
    """A nested alternative to the hypothesised model.

    Attributes
    ----------
    name:
        Short id (``no_mediator_paths``, ``full_mediation``).
    description:
        What it says, in words.
    dropped:
        The hypothesised paths ``(source, target)`` fixed to 0.
    """

    name: str
    description: str
    dropped: tuple[tuple[str, str], ...]


def mediators(q: Questionnaire) -> list[str]:
    """Constructs that are both caused and causing in the hypothesis graph, in file order."""
    sources = {h.source for h in q.hypotheses.values()}
    targets = {h.target for h in q.hypotheses.values()}
    return [c for c in q.constructs if c in sources and c in targets]


def nested_alternatives(q: Questionnaire) -> list[Alternative]:
    """The alternatives the rule of this module derives from the hypotheses.

    Returns
    -------
    list of Alternative
        ``no_mediator_paths`` (paths into mediators fixed to 0) when there is a
        mediator; ``full_mediation`` (direct paths of mediated pairs fixed to
        0) when some chain's end points are also joined directly; then every
        alternative the questionnaire declares under ``alternatives:``.
    """
    paths = [(h.source, h.target) for h in q.hypotheses.values()]
    meds = set(mediators(q))
    out: list[Alternative] = []
    into = tuple(p for p in paths if p[1] in meds)
    if into:
        out.append(Alternative(
            "no_mediator_paths",
            "paths into the mediators (" + ", ".join(m for m in q.constructs if m in meds)
            + ") fixed to 0: " + ", ".join(f"{a} -> {b}" for a, b in into),
            into,
        ))
    pairs = {(c[0], c[-1]) for c in q.indirect_paths()}
    direct = tuple(p for p in paths if p in pairs)
    if direct:
        out.append(Alternative(
            "full_mediation",
            "direct paths of the mediated pairs fixed to 0: "
            + ", ".join(f"{a} -> {b}" for a, b in direct),
            direct,
        ))
    for name, declared in q.model.alternatives.items():
        dropped = tuple(tuple(p.strip() for p in path.split("->")) for path in declared.drop)
        text = declared.description.get("en") if declared.description else ""
        out.append(Alternative(
            name,
            (text + ": " if text else "declared in the questionnaire: ")
            + ", ".join(f"{a} -> {b}" for a, b in dropped) + " fixed to 0",
            dropped,  # type: ignore[arg-type]
        ))
    return out


def constrained_syntax(syntax: str, dropped: Sequence[tuple[str, str]]) -> str:
    """lavaan syntax with the regressions ``target ~ source`` of ``dropped`` fixed to 0.

    Each ``Y ~ A + B`` line keeps its terms; a dropped ``A`` becomes ``0*A``.

    Raises
    ------
    ValueError
        A dropped path is not a plain regression term of the syntax.
    """
    todo = {(s, t) for s, t in dropped}
    lines = []
    for line in syntax.splitlines():
        m = _REGRESSION.match(line)
        if m:
            target = m.group(1)
            terms = [t.strip() for t in m.group(2).split("+")]
            new = []
            for term in terms:
                if (term, target) in todo:
                    todo.discard((term, target))
                    term = f"0*{term}"
                new.append(term)
            line = f"{target} ~ " + " + ".join(new)
        lines.append(line)
    if todo:
        raise ValueError("paths not found as regression terms of the model: "
                         + ", ".join(f"{s} -> {t}" for s, t in sorted(todo)))
    return "\n".join(lines) + "\n"


def fit_alternative(base: Fit, syntax: str, data: pd.DataFrame) -> Fit:
    """Fit a nested alternative, starting from the hypothesised model's estimates.

    Every free parameter of the alternative that is free in ``base`` starts at
    its ``base`` estimate (others at 0), so semopy runs only if Fisher scoring
    from there fails. In R: ``sem(alternative, data)``.
    """
    spec = specify(syntax)
    est = {(r.lhs, r.op, r.rhs): r.est for r in base.params.itertuples()}
    start = np.zeros(spec.npar)
    pt = spec.partable
    for r in pt[pt["free"] > 0].itertuples():
        start[r.free - 1] = est.get((r.lhs, r.op, r.rhs), 0.0)
    return fit_model(spec, data, start=start)


def lr_test(hypothesised: Fit, alternative: Fit) -> dict[str, float]:
    """Likelihood-ratio (χ² difference) test of a nested alternative against the model.

    Returns
    -------
    dict
        ``delta_chisq`` (χ²_alt − χ²_hyp), ``delta_df`` (df_alt − df_hyp),
        ``delta_pvalue`` (upper tail of χ²(Δdf); NaN when Δdf ≤ 0) and
        ``rmsea_d`` (RMSEA of the difference test).

    Notes
    -----
    In R: ``lavTestLRT(fit, alternative)`` (``anova()``), ML without scaling:
    columns ``Chisq diff``, ``Df diff``, ``Pr(>Chisq)`` and ``RMSEA``.
    """
    hyp, alt = _measures(hypothesised), _measures(alternative)
    d_chisq = float(alt["chisq"] - hyp["chisq"])
    d_df = int(alt["df"] - hyp["df"])
    if d_df <= 0:
        return {"delta_chisq": d_chisq, "delta_df": d_df, "delta_pvalue": float("nan"),
                "rmsea_d": float("nan")}
    return {
        "delta_chisq": d_chisq,
        "delta_df": d_df,
        "delta_pvalue": float(chi2.sf(max(d_chisq, 0.0), d_df)),
        "rmsea_d": rmsea(d_chisq, d_df, hypothesised.n),
    }


def _measures(fit: FittedModel) -> dict[str, float]:
    """The FIT block of any fitted model."""
    return dict(fit.measures)


def _row(name: str, description: str, dropped: str, fit: Fit) -> dict[str, object]:
    fm = _measures(fit)
    return {"model": name, "description": description, "dropped": dropped,
            "npar": fit.npar, **{k: fm[k] for k in ("df", "chisq", "pvalue", "cfi", "tli",
                                                     "rmsea", "srmr", "aic", "bic")}}


def compare_models(hypothesised: Fit, alternatives: Mapping[str, tuple[Alternative, Fit]],
                   ) -> pd.DataFrame:
    """One row per model: fit measures and the difference test against the hypothesised one.

    Parameters
    ----------
    hypothesised:
        The fitted hypothesised model.
    alternatives:
        ``name -> (Alternative, its Fit)``.

    Returns
    -------
    pandas.DataFrame
        :data:`COMPARISON_COLUMNS`: ``model, description, dropped`` (the paths
        fixed to 0), ``npar, df, chisq, pvalue, cfi, tli, rmsea, srmr, aic,
        bic`` of each model, and for the alternatives ``delta_chisq, delta_df,
        delta_pvalue, rmsea_d`` (:func:`lr_test`) and ``delta_cfi,
        delta_rmsea, delta_aic, delta_bic`` (alternative minus hypothesised:
        a CFI drop beyond .01 (Cheung & Rensvold 2002) or higher AIC/BIC
        favour the hypothesised model). NaN on the hypothesised row.

    Notes
    -----
    In R: ``anova(fit, alternative)`` and ``fitMeasures()`` of each model.
    """
    base = _row("hypothesised", "the model as hypothesised", "", hypothesised)
    rows = [base]
    for name, (alt, fit) in alternatives.items():
        row = _row(name, alt.description, ", ".join(f"{a} -> {b}" for a, b in alt.dropped), fit)
        row.update(lr_test(hypothesised, fit))
        for key in ("cfi", "rmsea", "aic", "bic"):
            row[f"delta_{key}"] = float(row[key]) - float(base[key])
        rows.append(row)
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def compare_alternatives(q: Questionnaire, hypothesised: Fit, data: pd.DataFrame,
                         fitter: Callable[[str, pd.DataFrame, Any], Any] | None = None,
                         ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Fit the :func:`nested_alternatives` of ``q`` and compare them with ``hypothesised``.

    ``fitter(syntax, data, hypothesised)`` fits one alternative (default
    :func:`fit_alternative`, ML); under ``--missing fiml`` it is a FIML fit, whose
    χ² difference is the likelihood-ratio test too (lavaan's ``lavTestLRT`` of two
    FIML fits).

    Returns
    -------
    tuple
        The :func:`compare_models` table and warnings (an alternative that did
        not converge, or could not be estimated, is named there; one that could
        not be estimated has no row).
    """
    syntax = q.model_syntax()
    fitted: dict[str, tuple[Alternative, Fit]] = {}
    notes: list[str] = []
    for alt in nested_alternatives(q):
        try:
            alt_syntax = constrained_syntax(syntax, alt.dropped)
            fit = (fit_alternative(hypothesised, alt_syntax, data) if fitter is None
                   else fitter(alt_syntax, data, hypothesised))
        except InputError as exc:
            notes.append(f"model comparison: the {alt.name} alternative could not be "
                         f"estimated ({exc})")
            continue
        if not fit.converged:
            notes.append(f"model comparison: the {alt.name} alternative did not converge; "
                         "its χ² difference test is unreliable")
        fitted[alt.name] = (alt, fit)
    return compare_models(hypothesised, fitted), tuple(notes)
