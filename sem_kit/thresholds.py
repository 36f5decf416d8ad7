"""Every cut-off a measurement report judges a number by, with its source.

One place holds them all: :class:`Thresholds` is a frozen dataclass of
:class:`Cutoff` values whose defaults are the conventions of the literature
below; a study that follows other conventions passes a replaced copy
(``dataclasses.replace(DEFAULT_THRESHOLDS, kmo=Cutoff(...))``).

A verdict is one short word beside the number:

- ``"good"``: the value meets the stricter cut-off (or the only one, when a
  statistic has a single cut-off);
- ``"acceptable"``: it meets only the laxer of two cut-offs;
- ``"poor"``: it meets none;
- ``None``: the value is undefined (``None`` or NaN).

The stages judge their numbers here and keep the verdicts and the cut-offs
in their results, which the report only prints: :func:`verdict` for one
number, :func:`judge_fit` for a model's fit measures (with the scaled χ²/df
of :func:`with_scaled_ratio`, and ``"improper"`` for every measure of an
inadmissible solution), :func:`bartlett_verdict`, :func:`comparison_verdict`
and :func:`kaiser_label`.

Defaults and sources
--------------------
=============  ==========  ==========  ==========================================
statistic      good        acceptable  source
=============  ==========  ==========  ==========================================
alpha          >= .70      --          Nunnally (1978)
cr             >= .70      --          Hair et al. (2019)
ave            >= .50      --          Fornell & Larcker (1981)
loading        >= .70      >= .50      Hair et al. (2019)
cfi, tli       >= .95      >= .90      Hu & Bentler (1999)
rmsea          <= .06      <= .08      Hu & Bentler (1999); Browne & Cudeck (1993)
srmr           <= .08      --          Hu & Bentler (1999)
htmt           < .85       < .90       Henseler, Ringle & Sarstedt (2015)
kmo            >= .70      --          Kaiser (1974)
harman         < .50       --          Podsakoff et al. (2003)
chisq_df       < 3         --          Kline (2016)
=============  ==========  ==========  ==========================================

Older fit indices that reports of covariance-structure models still print
(lavaan's ``fitMeasures`` gives them) are fields of :class:`Thresholds` too:

=============  ==========  ==========  ==========================================
statistic      good        acceptable  source
=============  ==========  ==========  ==========================================
gfi            >= .90      --          Jöreskog & Sörbom (1984)
agfi           >= .90      >= .80      Jöreskog & Sörbom (1984); Etezadi-Amoli &
                                       Farhoomand (1996)
nfi            >= .90      --          Bentler & Bonett (1980)
ifi            >= .90      --          Bollen (1989)
=============  ==========  ==========  ==========================================

Kaiser (1974) labels the KMO index rather than fixing one cut-off: .90s
marvelous, .80s meritorious, .70s middling, .60s mediocre, .50s miserable,
below .50 unacceptable. The .70 default is the usual reading in management
research ("middling" or better); :func:`kaiser_label` gives Kaiser's word.

References
----------
Bentler, P. M., & Bonett, D. G. (1980). Significance tests and goodness of
fit in the analysis of covariance structures. Psychological Bulletin, 88(3),
588-606.

Bollen, K. A. (1989). A new incremental fit index for general structural
equation models. Sociological Methods & Research, 17(3), 303-316.

Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model
fit. In K. A. Bollen & J. S. Long (Eds.), Testing structural equation
models (pp. 136-162). Sage.

Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models
with unobservable variables and measurement error. Journal of Marketing
Research, 18(1), 39-50.

Hair, J. F., Black, W. C., Babin, B. J., & Anderson, R. E. (2019).
Multivariate data analysis (8th ed.). Cengage.

Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for
assessing discriminant validity in variance-based structural equation
modeling. Journal of the Academy of Marketing Science, 43(1), 115-135.

Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in
covariance structure analysis. Structural Equation Modeling, 6(1), 1-55.

Jöreskog, K. G., & Sörbom, D. (1984). LISREL VI user's guide. Scientific
Software.

Kaiser, H. F. (1974). An index of factorial simplicity. Psychometrika,
39(1), 31-36.

Kline, R. B. (2016). Principles and practice of structural equation
modeling (4th ed.). Guilford.

Nunnally, J. C. (1978). Psychometric theory (2nd ed.). McGraw-Hill.

Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003).
Common method biases in behavioral research. Journal of Applied Psychology,
88(5), 879-903.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

Verdict = Literal["good", "acceptable", "poor"]


@dataclass(frozen=True)
class Cutoff:
    """One statistic's cut-offs and where they come from.

    Attributes
    ----------
    good:
        The stricter cut-off; meeting it gives ``"good"``.
    acceptable:
        The laxer cut-off, or ``None`` when the statistic has a single one.
    higher_is_better:
        ``True`` for statistics that must reach the cut-off (alpha, CFI),
        ``False`` for those that must stay under it (RMSEA, HTMT).
    strict:
        ``True`` when the value must lie strictly beyond the cut-off
        (``HTMT < .85``), ``False`` when equality passes (``alpha >= .70``).
    source:
        The reference for the cut-off.
    """

    good: float
    acceptable: float | None = None
    higher_is_better: bool = True
    strict: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        if self.acceptable is not None:
            lax_ok = (self.acceptable <= self.good if self.higher_is_better
                      else self.acceptable >= self.good)
            if not lax_ok:
                side = "below" if self.higher_is_better else "above"
                raise ValueError(
                    f"Cutoff: acceptable={self.acceptable} must lie {side} good={self.good}"
                )

    def _meets(self, value: float, cut: float) -> bool:
        if self.higher_is_better:
            return value > cut if self.strict else value >= cut
        return value < cut if self.strict else value <= cut

    def verdict(self, value: float | None) -> Verdict | None:
        """``"good"``, ``"acceptable"`` or ``"poor"`` for ``value``; ``None`` if undefined."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if self._meets(value, self.good):
            return "good"
        if self.acceptable is not None and self._meets(value, self.acceptable):
            return "acceptable"
        return "poor"

    def describe(self) -> str:
        """The rule in words, e.g. ``">= .95 good, >= .90 acceptable (Hu & Bentler 1999)"``."""
        op = (">" if self.strict else ">=") if self.higher_is_better else (
            "<" if self.strict else "<=")
        text = f"{op} {self.good:g} good"
        if self.acceptable is not None:
            text += f", {op} {self.acceptable:g} acceptable"
        return f"{text} ({self.source})" if self.source else text


@dataclass(frozen=True)
class Thresholds:
    """Every cut-off of the measurement and fit report; replace fields to change them.

    Each field is a :class:`Cutoff`; see the module docstring for the table
    of defaults and sources. ``harman`` is a proportion (0.50 = 50 % of the
    total variance), as :func:`sem_kit.measurement.efa.harman_single_factor` returns it.
    """

    alpha: Cutoff = Cutoff(0.70, source="Nunnally 1978")
    cr: Cutoff = Cutoff(0.70, source="Hair et al. 2019")
    ave: Cutoff = Cutoff(0.50, source="Fornell & Larcker 1981")
    loading: Cutoff = Cutoff(0.70, 0.50, source="Hair et al. 2019")
    cfi: Cutoff = Cutoff(0.95, 0.90, source="Hu & Bentler 1999")
    tli: Cutoff = Cutoff(0.95, 0.90, source="Hu & Bentler 1999")
    rmsea: Cutoff = Cutoff(0.06, 0.08, higher_is_better=False,
                           source="Hu & Bentler 1999; Browne & Cudeck 1993")
    srmr: Cutoff = Cutoff(0.08, higher_is_better=False, source="Hu & Bentler 1999")
    htmt: Cutoff = Cutoff(0.85, 0.90, higher_is_better=False, strict=True,
                          source="Henseler, Ringle & Sarstedt 2015")
    kmo: Cutoff = Cutoff(0.70, source="Kaiser 1974")
    harman: Cutoff = Cutoff(0.50, higher_is_better=False, strict=True,
                            source="Podsakoff et al. 2003")
    chisq_df: Cutoff = Cutoff(3.0, higher_is_better=False, strict=True, source="Kline 2016")
    gfi: Cutoff = Cutoff(0.90, source="Jöreskog & Sörbom 1984")
    agfi: Cutoff = Cutoff(0.90, 0.80, source="Jöreskog & Sörbom 1984; "
                          "Etezadi-Amoli & Farhoomand 1996")
    nfi: Cutoff = Cutoff(0.90, source="Bentler & Bonett 1980")
    ifi: Cutoff = Cutoff(0.90, source="Bollen 1989")

    def names(self) -> list[str]:
        """The statistics that have a cut-off, in declaration order."""
        return [f.name for f in fields(self)]

    def get(self, statistic: str) -> Cutoff:
        """The :class:`Cutoff` for ``statistic``; a clear error for an unknown name."""
        if statistic not in self.names():
            raise KeyError(
                f"no cut-off for {statistic!r}; known statistics: {', '.join(self.names())}"
            )
        return getattr(self, statistic)


DEFAULT_THRESHOLDS = Thresholds()


def verdict(statistic: str, value: float | None,
            thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Verdict | None:
    """Judge one number against its cut-off.

    Parameters
    ----------
    statistic:
        A field name of :class:`Thresholds` (``"alpha"``, ``"cr"``, ``"ave"``,
        ``"loading"``, ``"cfi"``, ``"tli"``, ``"rmsea"``, ``"srmr"``, ``"htmt"``,
        ``"kmo"``, ``"harman"``, ``"chisq_df"``).
    value:
        The statistic, in its own units (proportions, not percentages).
    thresholds:
        The cut-offs to use; :data:`DEFAULT_THRESHOLDS` unless replaced.

    Returns
    -------
    ``"good"``, ``"acceptable"`` or ``"poor"``; ``None`` if ``value`` is
    ``None`` or NaN.

    Examples
    --------
    >>> verdict("cfi", 0.93)
    'acceptable'
    >>> verdict("htmt", 0.85)
    'acceptable'
    """
    return thresholds.get(statistic).verdict(value)


#: The fit measures with a cut-off, in the order a report names their sources.
FIT_CUTOFFS: tuple[str, ...] = ("chisq_df", "cfi", "tli", "nfi", "ifi", "gfi", "agfi", "rmsea",
                                "srmr")

#: The verdict of every fit measure of an inadmissible solution (a Heywood case or
#: non-convergence), whatever its value: its fit measures cannot show good fit.
IMPROPER = "improper"


def fit_base(measure: str) -> str:
    """The statistic whose cut-off judges ``measure``: ``cfi_robust`` and ``cfi_scaled`` are
    judged as ``cfi``, ``chisq_df_scaled`` as ``chisq_df``; other names are their own.

    Examples
    --------
    >>> fit_base("rmsea_robust")
    'rmsea'
    """
    for suffix in ("_scaled", "_robust"):
        if measure.endswith(suffix) and measure[: -len(suffix)] in FIT_CUTOFFS:
            return measure[: -len(suffix)]
    return measure


def _undefined(value: float | None) -> bool:
    """``True`` for ``None``, NaN and infinities (a number nothing can be judged by)."""
    return value is None or not math.isfinite(float(value))


def with_scaled_ratio(measures: Mapping[str, float]) -> dict[str, float]:
    """``measures`` with ``chisq_df_scaled`` (the scaled χ² over its df, judged by the
    ``chisq_df`` cut-off) right after ``chisq_scaled``, when there is a scaled test.

    Returns
    -------
    dict
        A copy of ``measures`` in its order; ``chisq_df_scaled`` is NaN when the scaled
        χ² or its df (``df_scaled``, else ``df``) is undefined or the df is 0. Without
        ``chisq_scaled``, or with ``chisq_df_scaled`` already there, ``measures`` unchanged.
    """
    out = dict(measures)
    if "chisq_scaled" not in out or "chisq_df_scaled" in out:
        return out
    chisq, df = out.get("chisq_scaled"), out.get("df_scaled", out.get("df"))
    ok = not (_undefined(chisq) or _undefined(df)) and float(df) > 0
    ratio = float(chisq) / float(df) if ok else math.nan  # type: ignore[arg-type]
    items = list(out.items())
    at = [k for k, _ in items].index("chisq_scaled") + 1
    items.insert(at, ("chisq_df_scaled", ratio))
    return dict(items)


@dataclass(frozen=True)
class FitJudgement:
    """One model's fit measures as a report prints them, each judged by its cut-off.

    Attributes
    ----------
    measures:
        The model's fit measures (lavaan's names) with ``chisq_df_scaled`` under a scaled
        test (:func:`with_scaled_ratio`).
    cutoffs:
        The cut-off of each judged measure (robust and scaled indices by their base,
        :func:`fit_base`), in the order of ``measures``.
    verdicts:
        ``"good"``, ``"acceptable"``, ``"poor"``, :data:`IMPROPER` (every judged measure
        of an inadmissible solution) or ``None`` (undefined value) for each judged measure.
    admissible:
        Whether the solution is proper (converged, no Heywood case).
    """

    measures: dict[str, float]
    cutoffs: dict[str, Cutoff]
    verdicts: dict[str, str | None]
    admissible: bool = True

    def sources(self, measures: Sequence[str]) -> list[tuple[str, Cutoff]]:
        """``(statistic, cut-off)`` of the judged ones among ``measures`` (robust and scaled
        ones by their base), each statistic once, in the order of :data:`FIT_CUTOFFS`."""
        bases = {fit_base(m): self.cutoffs[m] for m in measures if m in self.cutoffs}
        return [(b, bases[b]) for b in FIT_CUTOFFS if b in bases]


def judge_fit(measures: Mapping[str, float], *, admissible: bool = True,
              scaled_only: bool = False,
              thresholds: Thresholds = DEFAULT_THRESHOLDS) -> FitJudgement:
    """Judge a model's fit measures by their cut-offs.

    Parameters
    ----------
    measures:
        Fit measures by lavaan's names (DESIGN.md FIT keys, with the scaled and robust
        ones of a scaled test).
    admissible:
        ``False`` for an improper or non-converged solution: every judged measure is then
        :data:`IMPROPER`, whatever its value.
    scaled_only:
        Judge only the scaled and robust measures and SRMR (WLSMV, whose unscaled
        statistic is not χ²-distributed).
    thresholds:
        The cut-offs.

    Returns
    -------
    FitJudgement

    Examples
    --------
    >>> judge_fit({"cfi": 0.93, "chisq": 10.0}).verdicts
    {'cfi': 'acceptable'}
    """
    full = with_scaled_ratio(measures)
    cutoffs = {k: thresholds.get(fit_base(k)) for k in full
               if fit_base(k) in FIT_CUTOFFS and (not scaled_only or fit_base(k) != k
                                                  or k == "srmr")}
    verdicts: dict[str, str | None] = {}
    for key, cut in cutoffs.items():
        value = full[key]
        if _undefined(value):
            verdicts[key] = None
        else:
            verdicts[key] = cut.verdict(float(value)) if admissible else IMPROPER
    return FitJudgement(full, cutoffs, verdicts, admissible)


#: A Bartlett test of sphericity with p below this rejects an identity correlation matrix:
#: the items correlate enough for a factor analysis (Bartlett 1950).
BARTLETT_P = 0.05


def bartlett_verdict(pvalue: float | None) -> Verdict | None:
    """``"good"`` when Bartlett's p is below :data:`BARTLETT_P`, else ``"poor"``; ``None``
    when it is undefined.

    Examples
    --------
    >>> bartlett_verdict(0.001)
    'good'
    """
    if _undefined(pvalue):
        return None
    return "good" if pvalue < BARTLETT_P else "poor"  # type: ignore[operator]


#: A nested alternative is worse than the hypothesised model when its χ² difference test has
#: p below this, or when its CFI falls below the hypothesised model's by more than
#: :data:`COMPARISON_DELTA_CFI` (ΔCFI = CFI(alternative) − CFI(hypothesised) < −.01;
#: Cheung & Rensvold 2002).
COMPARISON_P = 0.05
COMPARISON_DELTA_CFI = -0.01


def comparison_verdict(delta_pvalue: float | None, delta_cfi: float | None) -> str | None:
    """``"hypothesised preferred"`` when the alternative fits worse (Δχ² p <
    :data:`COMPARISON_P` or ΔCFI < :data:`COMPARISON_DELTA_CFI`), ``"alternative not worse"``
    when neither holds, ``None`` when both are undefined (the hypothesised model's own row).

    Examples
    --------
    >>> comparison_verdict(0.08, -0.0005)
    'alternative not worse'
    """
    def defined(x: float | None) -> bool:
        return x is not None and not (isinstance(x, float) and math.isnan(x))

    if not defined(delta_pvalue) and not defined(delta_cfi):
        return None
    if (defined(delta_pvalue) and delta_pvalue < COMPARISON_P) or (  # type: ignore[operator]
            defined(delta_cfi) and delta_cfi < COMPARISON_DELTA_CFI):  # type: ignore[operator]
        return "hypothesised preferred"
    return "alternative not worse"


_KAISER_LABELS: tuple[tuple[float, str], ...] = (
    (0.90, "marvelous"),
    (0.80, "meritorious"),
    (0.70, "middling"),
    (0.60, "mediocre"),
    (0.50, "miserable"),
)


def kaiser_label(kmo: float) -> str:
    """Kaiser's (1974, p. 35) word for a KMO value.

    ``>= .90`` marvelous, ``>= .80`` meritorious, ``>= .70`` middling,
    ``>= .60`` mediocre, ``>= .50`` miserable, below ``.50`` unacceptable.
    """
    for cut, label in _KAISER_LABELS:
        if kmo >= cut:
            return label
    return "unacceptable"
