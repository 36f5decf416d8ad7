"""Every table of the report, built once and written by each writer (HTML, XLSX, DOCX, CSV).

:func:`build_tables` lays the numbers of an
:class:`~sem_kit.pipeline.AnalysisResult` out as :class:`Table` objects, in
the order a paper reports them. A table holds the raw numbers (``data``,
written as they are to CSV and XLSX) and, per column, how to print them
(:class:`Column`). Nothing here computes a statistic or decides a verdict: the
builders pick rows and columns, translate labels, print the cut-offs and
verdicts the results hold (``thresholds`` and the verdicts of
:class:`~sem_kit.measurement.stage.MeasurementResult`,
:class:`~sem_kit.structural.stage.StructuralResult` and
:class:`~sem_kit.postestimation.invariance.InvarianceResult`), and count the
demographic categories of the analysed rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sem_kit.engine.fit import Fit
from sem_kit.postestimation.invariance import INVARIANCE_FIT
from sem_kit.report import fmt
from sem_kit.report.i18n import Lang
from sem_kit.thresholds import Cutoff, FitJudgement, fit_base

if TYPE_CHECKING:  # pragma: no cover
    from sem_kit.engine.fit import EstimatorFit
    from sem_kit.pipeline import AnalysisResult
    from sem_kit.structural.stage import StructuralResult

#: Fit measures in the order lavaan's ``fitMeasures`` and a paper report them.
FIT_ROWS: tuple[str, ...] = (
    "chisq", "df", "pvalue", "chisq_df", "cfi", "tli", "nfi", "ifi", "gfi", "agfi", "rmsea",
    "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr", "aic", "bic",
)
#: The headline indices of the summary and the common-method comparison.
HEADLINE_FIT: tuple[str, ...] = ("chisq", "df", "pvalue", "chisq_df", "cfi", "tli", "rmsea",
                                 "srmr")
#: The headline indices under WLSMV: its scaled test and indices (the unscaled T is not χ²).
WLSMV_HEADLINE: tuple[str, ...] = ("chisq_scaled", "df_scaled", "pvalue_scaled",
                                   "chisq_df_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled",
                                   "srmr")
#: EFA loadings below this absolute value are left blank in printed tables.
EFA_BLANK = 0.30
#: How many modification indices a table shows.
MI_ROWS = 15
#: How many parallel-analysis components the printed table shows.
PARALLEL_ROWS = 15

#: The flag of a cell that is undefined by construction (a single-item construct's α, CR,
#: AVE, √AVE, HTMT; its item's CITC): printed, and written to XLSX, as ``—``.
UNDEFINED = "undefined"

#: Column kinds printed left-aligned (the others are numbers or verdicts).
TEXT_KINDS = ("text", "longtext", "wrap", "item", "sign")
_INT_FIT = {"df", "df_scaled", "n"}
_P_FIT = {"pvalue", "rmsea_pvalue"}
_BADGE = {"hypothesised preferred": "good", "alternative not worse": "info",
          "good": "good", "acceptable": "acceptable", "poor": "poor", "improper": "poor",
          "supported": "good",
          "not supported": "neutral", "significant, opposite sign": "poor", "yes": "good",
          "no": "neutral", "holds": "good", "does not hold": "poor", "baseline": "",
          "differs": "info", "does not differ": "neutral"}


@dataclass(frozen=True)
class Column:
    """How one column of a :class:`Table` is labelled and printed.

    Attributes
    ----------
    key:
        Its name in ``Table.data`` and in the CSV header.
    label:
        Its header in the report's language.
    kind:
        ``num`` (``decimals`` decimals), ``int``, ``p`` (p-value), ``pct``,
        ``text``, ``longtext`` (wrapping prose), ``wrap`` (short wrapping text),
        ``ci`` (an interval, see ``pair``), ``sign`` (``+``/``-``),
        ``item`` (an item id, marked
        ``(R)`` when reverse-coded), ``verdict`` (a verdict code printed as a
        word and a badge) or ``mixed`` (each row says its format in the
        ``format`` column: ``num``, ``int``, ``p`` or ``text``).
    decimals:
        Decimals of a ``num`` column.
    threshold:
        A short cut-off printed under the header (``≥ 0.70``).
    stars:
        Key of the p-value column whose significance stars follow the number.
    hide_below:
        Printed tables leave ``|value| <`` this blank (EFA loadings).
    show:
        ``False`` for columns that only CSV and XLSX carry.
    missing:
        What an undefined value prints as (``—``; empty in matrices).
    pair:
        For ``kind="ci"``: the key of the upper bound (``key`` is the lower);
        printed as ``[lower, upper]``, written to CSV and XLSX as two columns.
    group:
        A spanner: neighbouring columns with the same ``group`` share a header
        printed above their own (a group's name over its estimates); XLSX
        writes ``group: label``.
    """

    key: str
    label: str
    kind: str = "num"
    decimals: int = 3
    threshold: str = ""
    stars: str | None = None
    hide_below: float | None = None
    show: bool = True
    missing: str = fmt.DASH
    pair: str | None = None
    group: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """The data columns this column prints (two for an interval)."""
        return (self.key,) if self.pair is None else (self.key, self.pair)


@dataclass(frozen=True)
class Cell:
    """One printed cell: its text, its alignment class and an optional badge or flag."""

    text: str
    cls: str = "num"
    badge: str | None = None
    flag: str | None = None


@dataclass(frozen=True, eq=False)
class Table:
    """One table of the report.

    Attributes
    ----------
    id:
        File stem of its CSV and name of its XLSX sheet (ASCII, at most 31 characters).
    section:
        Key of the report section it belongs to.
    title:
        Its caption in the report's language.
    columns:
        Every column of ``data``, in order.
    data:
        The raw values (numbers as numbers, verdicts as codes).
    note:
        The note printed under it.
    flags:
        Optional, same shape as ``data``: a per-cell mark (``diag``, ``bold``,
        ``good``, ``acceptable``, ``poor``) for matrices; ``undefined``
        (:data:`UNDEFINED`) prints ``—`` in HTML, DOCX and XLSX.
    display_rows:
        Printed tables (HTML, DOCX) show only the first rows; CSV and XLSX hold all.
    export:
        ``False`` for a table that only the HTML prints (not written to CSV, XLSX or DOCX);
        every table of :func:`build_tables` is exported, so the tables of tables.docx carry
        the numbers of report.html.
    header:
        ``(label, value)`` lines printed between the caption and the table, like the
        lines lavaan prints above its estimates (estimator, convergence, N).
    """

    id: str
    section: str
    title: str
    columns: tuple[Column, ...]
    data: pd.DataFrame
    note: str = ""
    flags: pd.DataFrame | None = None
    display_rows: int | None = None
    export: bool = True
    header: tuple[tuple[str, str], ...] = ()

    @property
    def shown(self) -> list[Column]:
        """The columns printed in HTML, DOCX and XLSX."""
        return [c for c in self.columns if c.show]

    def spans(self) -> list[tuple[str, int]]:
        """The spanner headers over the shown columns: ``(group, number of columns)`` for each
        run of neighbouring columns with the same ``group`` (``""`` where there is none);
        empty when no column has a group."""
        shown = self.shown
        if not any(c.group for c in shown):
            return []
        out: list[tuple[str, int]] = []
        for c in shown:
            if out and out[-1][0] == c.group and c.group:
                out[-1] = (c.group, out[-1][1] + 1)
            else:
                out.append((c.group, 1))
        return out

    def printed_data(self) -> pd.DataFrame:
        """The rows printed in HTML and DOCX."""
        return self.data if self.display_rows is None else self.data.head(self.display_rows)

    def csv_frame(self) -> pd.DataFrame:
        """``data`` with every column, keys as headers, missing values empty."""
        keys = [k for c in self.columns for k in c.keys]
        return self.data[keys]


@dataclass
class Tables:
    """The tables of one report, in report order, and a lookup by id."""

    items: list[Table] = field(default_factory=list)

    def add(self, table: Table | None) -> None:
        if table is not None:
            self.items.append(table)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, table_id: str) -> Table:
        for t in self.items:
            if t.id == table_id:
                return t
        raise KeyError(f"no table {table_id!r}; tables: {', '.join(t.id for t in self.items)}")

    def __contains__(self, table_id: object) -> bool:
        return any(t.id == table_id for t in self.items)

    def in_section(self, section: str) -> list[Table]:
        return [t for t in self.items if t.section == section]

    def exported(self) -> list[Table]:
        return [t for t in self.items if t.export]


# --------------------------------------------------------------------------- printing cells


def cells(table: Table, lang: Lang) -> list[list[Cell]]:
    """The printed cells of ``table`` (shown columns, ``display_rows`` rows)."""
    data = table.printed_data()
    out: list[list[Cell]] = []
    for pos, (_, row) in enumerate(data.iterrows()):
        line = []
        for col in table.shown:
            cell = format_cell(col, row, lang)
            if table.flags is not None and col.key in table.flags.columns:
                flag = table.flags.iloc[pos][col.key]
                if flag == UNDEFINED:
                    cell = Cell(fmt.DASH, cell.cls, None, flag)
                elif isinstance(flag, str) and flag:
                    cell = Cell(cell.text, cell.cls, cell.badge, flag)
            line.append(cell)
        out.append(line)
    return out


def format_cell(col: Column, row: pd.Series, lang: Lang) -> Cell:
    """One value printed as its column says (a ``mixed`` column as its row's ``format``)."""
    value = row.get(col.key)
    kind = col.kind
    if kind == "mixed":
        kind = str(row.get("format", "num"))
    if kind in ("text", "longtext", "wrap"):
        text = "" if fmt.is_missing(value) and not isinstance(value, str) else str(value)
        if kind == "wrap":
            text = text.replace(" → ", "\u00a0→\u00a0")
        return Cell(text, "num" if col.kind == "mixed" else kind)
    if kind == "item":
        return _item_cell(str(value), lang)
    if kind == "ci":
        return _interval_cell(col, value, row.get(col.pair))
    if kind == "sign":
        return Cell(str(value).replace("-", "−"), "text")
    if kind == "verdict":
        return _verdict_cell(value, lang)
    return _number_cell(col, kind, value, row)


def _item_cell(item_id: str, lang: Lang) -> Cell:
    """An item id, marked ``(R)`` when the item is reverse-coded."""
    item = lang.questionnaire.items.get(item_id)
    if item is not None and item.reverse:
        return Cell(item_id + " " + lang.t("misc.reverse"), "text")
    return Cell(item_id, "text")


def _interval_cell(col: Column, lower: object, upper: object) -> Cell:
    """``[lower, upper]``; the column's ``missing`` when both bounds are undefined."""
    if fmt.is_missing(lower) and fmt.is_missing(upper):
        return Cell(col.missing)
    return Cell(f"[{fmt.number(lower, col.decimals)}, {fmt.number(upper, col.decimals)}]")


def _verdict_cell(value: object, lang: Lang) -> Cell:
    """A verdict code (or a boolean: yes / no) as a word with its badge; empty when
    undefined."""
    if fmt.is_missing(value) and not isinstance(value, (str, bool)):
        return Cell("", "verdict")
    code = ("yes" if value else "no") if isinstance(value, (bool, np.bool_)) else str(value)
    return Cell(lang.verdict(code), "verdict", badge(code))


def badge(code: str) -> str:
    """The badge class of a verdict code (``good``, ``poor``, ``neutral`` ...)."""
    return _BADGE.get(code, "neutral")


def _number_cell(col: Column, kind: str, value: object, row: pd.Series) -> Cell:
    """A number of kind ``int``, ``p``, ``pct`` or ``num`` (with the column's stars);
    blank below the column's ``hide_below``, the column's ``missing`` when undefined."""
    if fmt.is_missing(value):
        return Cell(col.missing)
    if col.hide_below is not None and abs(float(value)) < col.hide_below:  # type: ignore[arg-type]
        return Cell("", "num")
    if kind == "int":
        return Cell(fmt.integer(value))
    if kind == "p":
        return Cell(fmt.pvalue(value))
    if kind == "pct":
        return Cell(fmt.percent(value))
    text = fmt.number(value, col.decimals)
    if col.stars and text != fmt.DASH:
        text += fmt.stars(row.get(col.stars))
    return Cell(text)


# --------------------------------------------------------------------------- helpers


def _c(lang: Lang, key: str, label_key: str | None = None, kind: str = "num", **kw: Any) -> Column:
    return Column(key, lang.t(label_key or f"col.{key}"), kind, **kw)


def _ci(lang: Lang, prefix: str, **kw: Any) -> Column:
    """The interval ``<prefix>_lower``/``<prefix>_upper`` as one printed column."""
    return Column(f"{prefix}_lower", lang.t(f"col.{prefix}"), "ci", pair=f"{prefix}_upper", **kw)


def _fit_label(lang: Lang, key: str) -> str:
    return lang.t(f"fit.{key}") if lang.has(f"fit.{key}") else key


def _fit_format(key: str) -> str:
    if key in _INT_FIT:
        return "int"
    return "p" if key in _P_FIT or key.startswith("pvalue") else "num"


def _fit_threshold(lang: Lang, judgement: FitJudgement, key: str) -> str:
    """The cut-off ``judgement`` judged ``key`` by, in words; empty when it was not judged."""
    cut = judgement.cutoffs.get(key)
    return "" if cut is None else lang.cutoff(cut)


def _cut_sources(cuts: list[tuple[str, Cutoff]], lang: Lang) -> str:
    """``CFI ≥ 0.95 good, ≥ 0.90 acceptable (Hu & Bentler 1999); ...`` for each
    ``(statistic, cut-off)``."""
    parts = []
    for key, cut in cuts:
        label = _fit_label(lang, key) if lang.has(f"fit.{key}") else lang.t(f"col.{key}")
        parts.append(f"{label} {lang.cutoff(cut)} ({cut.source})")
    return ("；" if lang.zh else "; ").join(parts)


def _ordered(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Rows of ``frame`` (indexed by id) in questionnaire ``order``, others after."""
    first = [i for i in order if i in frame.index]
    rest = [i for i in frame.index if i not in set(first)]
    return frame.loc[first + rest]


def arrow(path: str) -> str:
    """``A -> B -> C`` printed with arrows: ``A → B → C``."""
    return " → ".join(p.strip() for p in str(path).split("->"))


def interval_method(structural: StructuralResult) -> str | None:
    """The method of the structural paths' 95% intervals (``percentile``, ``wald``);
    ``None`` without paths."""
    return _first_defined(structural.paths["ci_method"])


def _first_defined(values: pd.Series) -> Any:
    defined = values.dropna()
    return defined.iloc[0] if len(defined) else None


def ci_method_label(lang: Lang, method: object) -> str:
    """A CI method code (``percentile``, ``bc`` ...) in words."""
    if method is None or (isinstance(method, float) and method != method):
        return lang.t("misc.none")
    key = f"ci.{method}"
    return lang.t(key) if lang.has(key) else str(method)


def ci_note(lang: Lang, structural: StructuralResult, methods: pd.Series) -> str:
    """How the 95% intervals of a structural table were made, e.g. ``percentile bootstrap,
    100 of 100 resamples`` or ``Wald (normal theory)``; ``methods`` is the table's column
    of interval methods (the paths' method when it has none)."""
    method = _first_defined(methods)
    text = ci_method_label(lang, method if method is not None else interval_method(structural))
    boot = structural.bootstrap
    if boot.requested:
        text += ("，" if lang.zh else ", ") + lang.t("note.bootstrap", ok=boot.succeeded,
                                                     requested=boot.requested)
    return text


# --------------------------------------------------------------------------- builders


def build_tables(result: AnalysisResult, lang: Lang | None = None) -> Tables:
    """Every table of the report for ``result``, in report order.

    Parameters
    ----------
    result:
        The analysis.
    lang:
        Language of labels and notes (default: ``result.options.lang``).

    Returns
    -------
    Tables
    """
    lang = lang or Lang(result.options.lang, result.questionnaire)
    out = Tables()
    for measurement_table in (summary_fit, sample_flow, column_map, demographics, items,
                              reliability,
                              reliability_l2, efa_adequacy, efa_loadings, efa_variance, parallel,
                              cmv_harman, cmv_single_factor):
        out.add(measurement_table(result, lang))
    fiml = result.options.missing == "fiml"
    est = _estimator_label(result)
    out.add(fit_table("cfa_fit", "cfa", lang.t("title.cfa_fit"),
                      result.measurement.cfa_judgement, lang, est, fiml))
    out.add(parameter_table("cfa_params", "cfa", result.measurement.cfa, est, lang))
    for validity_table in (cfa_loadings, fornell_larcker, htmt):
        out.add(validity_table(result, lang))
    s = result.structural
    if s is not None:
        out.add(fit_table("sem_fit", "sem_fit", lang.t("title.sem_fit"), s.fit_judgement, lang,
                          est, fiml))
        out.add(parameter_table("sem_params", "sem_fit", s.fit, est, lang))
        for structural_table in (hypotheses, r2, indirect, effects, comparison):
            out.add(structural_table(result, lang))
    for table in group_tables(result, lang):
        out.add(table)
    out.add(modification(result.measurement.modification_indices, "mi_cfa", lang))
    if s is not None:
        out.add(modification(s.modification_indices, "mi_sem", lang))
    out.add(warnings_table(result, lang))
    out.add(excluded(result, lang))
    return out


def _estimator_label(result: AnalysisResult) -> str:
    """The run's estimator as the notes name it: ``MLR``, ``ML (FIML)``."""
    return result.options.estimator + (" (FIML)" if result.options.missing == "fiml" else "")


def summary_fit(result: AnalysisResult, lang: Lang) -> Table:
    """Headline fit of the CFA (and the structural model): χ², df and its p, χ²/df, CFI, TLI,
    RMSEA with its 90% interval (one row printed ``[lower, upper]``), SRMR, each with its
    cut-off (before the models' values, as in every fit table) and a verdict per model."""
    cfa = result.measurement.cfa_judgement
    fits = [("cfa", lang.t("col.measurement"), cfa)]
    if result.structural is not None:
        fits.append(("sem", lang.t("col.structural"), result.structural.fit_judgement))
    rows = []
    if result.options.estimator == "WLSMV":
        # the scaled test and indices are WLSMV's headline (the unscaled T is not χ²)
        keys = list(WLSMV_HEADLINE)
        robust: list[str] = []
    else:
        robust = [k for k in ("chisq_scaled", "cfi_robust", "tli_robust", "rmsea_robust")
                  if any(k in fit.measures for _, _, fit in fits)]
        keys = list(HEADLINE_FIT)
        keys.insert(keys.index("rmsea") + 1, "rmsea_ci")
    for key in (*keys, *robust):
        row: dict[str, Any] = {"index": key, "label": _fit_label(lang, key),
                               "format": "text" if key == "rmsea_ci" else _fit_format(key),
                               "threshold": _fit_threshold(lang, cfa, key)}
        for model, _, fit in fits:
            if key == "rmsea_ci":
                lo, hi = fit.measures.get("rmsea_ci_lower"), fit.measures.get("rmsea_ci_upper")
                row[model] = None if fmt.is_missing(lo) and fmt.is_missing(hi) else \
                    f"[{fmt.number(lo, 3)}, {fmt.number(hi, 3)}]"
                row[f"{model}_verdict"] = None
                continue
            row[model] = fit.measures.get(key)
            row[f"{model}_verdict"] = fit.verdicts.get(key)
        rows.append(row)
    cols = [Column("index", lang.t("col.index"), "text", show=False),
            _c(lang, "label", "col.index", "text"), _c(lang, "threshold", kind="text")]
    for model, label, _ in fits:
        cols += [Column(model, label, "mixed", missing=fmt.DASH),
                 Column(f"{model}_verdict", lang.t("col.verdict"), "verdict")]
    cols += [Column("format", "format", "text", show=False)]
    note = lang.t("note.summary_estimator", estimator=_estimator_label(result)) + " " + \
        _cut_sources(cfa.sources(keys), lang)
    if result.options.estimator == "WLSMV":
        note += ("。" if lang.zh else ". ") + lang.t("note.summary_wlsmv")
    return Table("summary_fit", "summary", lang.t("title.summary_fit"), tuple(cols),
                 pd.DataFrame(rows), note=note)


def sample_flow(result: AnalysisResult, lang: Lang) -> Table:
    """Rows in the file, excluded per screening reason, dropped listwise, analysed."""
    summary = result.screening.summary()
    rows = [{"step": "rows_in_file", "label": lang.t("stat.rows_in_file"),
             "rows": result.screening.n_input}]
    for code, count in summary.items():
        if count:
            label = lang.t(f"reason.{code}") if lang.has(f"reason.{code}") else code
            rows.append({"step": code, "label": f"− {label}", "rows": count})
    if result.listwise:
        rows.append({"step": "listwise", "label": f"− {lang.t('stat.listwise')}",
                     "rows": len(result.listwise)})
    rows.append({"step": "analysed", "label": lang.t("stat.analysed"), "rows": result.n_analyzed})
    cols = (Column("step", "step", "text", show=False), _c(lang, "label", "col.stage", "text"),
            _c(lang, "rows", "col.count", "int"))
    key = "note.sample_flow_fiml" if result.options.missing == "fiml" else "note.sample_flow"
    return Table("sample_flow", "sample", lang.t("title.sample_flow"), cols, pd.DataFrame(rows),
                 note=lang.t(key))


def column_map(result: AnalysisResult, lang: Lang) -> Table | None:
    """Which column each item was read from and how it was found; only when some item's
    column is not simply its id."""
    responses = result.screening.responses
    matches = responses.column_matches
    if not matches or all(how == "id" for how in matches.values()):
        return None
    labels = responses.column_labels
    rows = [{"item": iid, "column": column, "found_by": matches.get(iid, "id"),
             "found_by_label": lang.t(f"how.{matches.get(iid, 'id')}"),
             "column_text": labels.get(column, "")}
            for iid, column in responses.item_columns.items()]
    t = pd.DataFrame(rows)
    cols = (_c(lang, "item", kind="item"), _c(lang, "column", kind="wrap"),
            Column("found_by", "found_by", "text", show=False),
            _c(lang, "found_by_label", "col.found_by", "text"))
    if (t["column_text"] != "").any():  # the header is the text (Wenjuanxing): no column
        cols += (_c(lang, "column_text", kind="longtext"),)
    else:
        t = t.drop(columns="column_text")
    layout = lang.t(f"layout.{responses.layout}") if lang.has(f"layout.{responses.layout}") \
        else ""
    return Table("column_map", "sample", lang.t("title.column_map"), cols, t,
                 note=lang.t("note.column_map", layout=layout, row=responses.header_row))


def demographics(result: AnalysisResult, lang: Lang) -> Table | None:
    """Frequencies of each demographic among the analysed rows, labelled from the questionnaire."""
    spec = result.questionnaire.model.demographics
    demo = result.screening.demographics
    if not spec or demo is None or demo.empty:
        return None
    demo = demo.reindex(result.data.index)
    n = len(demo)
    rows = []
    for var, d in spec.items():
        if var not in demo.columns:
            continue
        values = demo[var]
        counts = values.value_counts(dropna=True)
        known = set()
        for code, text in d.values.items():
            k = int(counts[[c for c in counts.index if _same_code(c, code)]].sum()) \
                if len(counts) else 0
            known.update(c for c in counts.index if _same_code(c, code))
            rows.append({"variable": var, "variable_name": d.name.get(lang.code), "code": str(code),
                         "category": text.get(lang.code), "n": k, "percent": 100 * k / n})
        for code in counts.index:
            if code not in known:
                k = int(counts[code])
                label = fmt.integer(code) if _is_whole(code) else str(code)
                rows.append({"variable": var, "variable_name": d.name.get(lang.code),
                             "code": label, "category": label, "n": k, "percent": 100 * k / n})
        k_missing = int(values.isna().sum())
        if k_missing:
            rows.append({"variable": var, "variable_name": d.name.get(lang.code), "code": "",
                         "category": lang.verdict("missing"), "n": k_missing,
                         "percent": 100 * k_missing / n})
    if not rows:
        return None
    cols = (Column("variable", "variable", "text", show=False),
            _c(lang, "variable_name", "col.variable", "text"),
            Column("code", "code", "text", show=False),
            _c(lang, "category", kind="text"), _c(lang, "n", kind="int"),
            _c(lang, "percent", kind="pct"))
    table = pd.DataFrame(rows)
    flags = pd.DataFrame("", index=table.index, columns=["variable_name"])
    first = ~table["variable"].duplicated()
    flags.loc[~first, "variable_name"] = "repeat"
    return Table("demographics", "sample", lang.t("title.demographics"), cols, table,
                 note=lang.t("note.demographics", n=n), flags=flags)


def _same_code(value: object, code: int | str) -> bool:
    try:
        return float(value) == float(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value) == str(code)


def _is_whole(value: object) -> bool:
    try:
        return float(value) == int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def items(result: AnalysisResult, lang: Lang) -> Table:
    """Item statistics in questionnaire order, with the standardised loading and its verdict."""
    q = result.questionnaire
    order = [i for c in q.first_order for i in q.construct_items[c]]
    t = _ordered(result.measurement.items.table, order).copy()
    t.insert(0, "item", t.index.astype(str))
    t["text"] = [lang.item_text(i) for i in t["item"]]
    t = t.reset_index(drop=True)
    cut = result.measurement.thresholds.loading
    cols = (_c(lang, "item", kind="item"), _c(lang, "construct", kind="text"),
            _c(lang, "text", kind="longtext"), _c(lang, "mean"), _c(lang, "sd"),
            _c(lang, "skew"), _c(lang, "kurtosis"),
            _c(lang, "n_missing", "col.n_missing_fiml" if result.options.missing == "fiml"
               else "col.n_missing", kind="int"),
            _c(lang, "citc"), _c(lang, "alpha_if_deleted"),
            _c(lang, "loading_std", threshold=lang.cutoff(cut, short=True)),
            _c(lang, "loading_verdict", "col.verdict", "verdict"))
    key = "note.items_fiml" if result.options.missing == "fiml" else "note.items"
    note = lang.t(key, n=result.n_analyzed,
                  screened=result.screening.n_kept,
                  cut=f"{lang.cutoff(cut)} ({cut.source})")
    lone = _lone_items(result)
    flags = _undefined_flags(t, t["item"].isin(lone), ("citc", "alpha_if_deleted"))
    if lone:
        note += " " + lang.t("note.single_item_items", items=_listed(lang, lone))
    return Table("items", "items", lang.t("title.items"), cols, t, note=note, flags=flags)


def _lone_items(result: AnalysisResult) -> list[str]:
    """The items of the single-item constructs, in questionnaire order."""
    q = result.questionnaire
    return [q.construct_items[c][0] for c in result.measurement.single_item_constructs]


def _listed(lang: Lang, names: list[str]) -> str:
    return ("、" if lang.zh else ", ").join(names)


def _undefined_flags(frame: pd.DataFrame, rows: pd.Series,
                     columns: tuple[str, ...]) -> pd.DataFrame | None:
    """Flags marking ``columns`` of the ``rows`` (a boolean mask) :data:`UNDEFINED`;
    ``None`` when no row is."""
    if not rows.any():
        return None
    flags = pd.DataFrame("", index=frame.index, columns=list(columns))
    flags.loc[rows.to_numpy(), list(columns)] = UNDEFINED
    return flags


def reliability(result: AnalysisResult, lang: Lang) -> Table:
    """α with its interval, CR, AVE and ω per first-order construct, each with its verdict."""
    q = result.questionnaire
    t = _ordered(result.measurement.reliability, q.first_order).copy()
    t.insert(0, "construct", t.index.astype(str))
    t.insert(1, "name", [lang.construct(c) for c in t["construct"]])
    t.insert(2, "n_items", [len(q.construct_items.get(c, [])) for c in t["construct"]])
    t = t.reset_index(drop=True)
    th = result.measurement.thresholds
    cols = (_c(lang, "construct", kind="text"), _c(lang, "name", kind="text"),
            _c(lang, "n_items", kind="int"),
            _c(lang, "alpha", threshold=lang.cutoff(th.alpha, short=True)),
            _c(lang, "alpha_ci_lower"), _c(lang, "alpha_ci_upper"),
            _c(lang, "alpha_verdict", "col.verdict", "verdict"),
            _c(lang, "cr", threshold=lang.cutoff(th.cr, short=True)),
            _c(lang, "cr_verdict", "col.verdict", "verdict"),
            _c(lang, "ave", threshold=lang.cutoff(th.ave, short=True)),
            _c(lang, "ave_verdict", "col.verdict", "verdict"),
            _c(lang, "omega"), Column("sqrt_ave", "√AVE", show=False))
    note = lang.t("note.reliability",
                  cuts=_cut_sources([(k, th.get(k)) for k in ("alpha", "cr", "ave")], lang))
    if result.options.estimator == "WLSMV":
        note += " " + lang.t("note.reliability_wlsmv")
    if result.options.missing == "fiml":
        note += " " + lang.t("note.reliability_fiml", n=result.measurement.items.n,
                             n_all=result.measurement.n)
    single = result.measurement.single_item_constructs
    flags = _undefined_flags(t, t["construct"].isin(single),
                             ("alpha", "alpha_ci_lower", "alpha_ci_upper", "cr", "ave", "omega"))
    if single:
        note += " " + lang.t("note.single_item_reliability", constructs=_listed(lang, single))
    return Table("reliability", "reliability", lang.t("title.reliability"), cols, t, note=note,
                 flags=flags)


def reliability_l2(result: AnalysisResult, lang: Lang) -> Table | None:
    """semTools' reliabilityL2 for each second-order construct."""
    t = result.measurement.reliability_l2
    if t is None or t.empty:
        return None
    t = t.copy()
    t.insert(0, "construct", t.index.astype(str))
    t.insert(1, "name", [lang.construct(c) for c in t["construct"]])
    t = t.reset_index(drop=True)
    cols = (_c(lang, "construct", kind="text"), _c(lang, "name", kind="text"),
            _c(lang, "omega_l1"), _c(lang, "omega_l2"), _c(lang, "partial_omega_l1"))
    return Table("reliability_l2", "reliability", lang.t("title.reliability_l2"), cols, t,
                 note=lang.t("note.reliability_l2"))


def efa_adequacy(result: AnalysisResult, lang: Lang) -> Table:
    """KMO, Bartlett's test and parallel analysis' count, with cut-offs and verdicts."""
    s = result.measurement.efa_summary
    cut = result.measurement.thresholds.kmo
    verdicts = result.measurement.adequacy_verdicts
    rows = [
        {"statistic": "kmo", "label": lang.t("stat.kmo"), "value": s.kmo.overall, "format": "num",
         "threshold": f"{lang.cutoff(cut)} ({lang.t('kaiser.' + verdicts['kmo_label'])})",
         "verdict": verdicts["kmo"]},
        {"statistic": "bartlett_chi2", "label": lang.t("stat.bartlett_chi2"),
         "value": s.bartlett.chi2, "format": "num", "threshold": "", "verdict": None},
        {"statistic": "bartlett_df", "label": lang.t("stat.bartlett_df"), "value": s.bartlett.df,
         "format": "int", "threshold": "", "verdict": None},
        {"statistic": "bartlett_pvalue", "label": lang.t("stat.bartlett_p"),
         "value": s.bartlett.pvalue, "format": "p", "threshold": lang.t("threshold.bartlett"),
         "verdict": verdicts["bartlett_pvalue"]},
        {"statistic": "parallel_n_components", "label": lang.t("stat.n_factors_parallel"),
         "value": result.measurement.parallel.n_components, "format": "int", "threshold": "",
         "verdict": None},
    ]
    cols = (Column("statistic", "statistic", "text", show=False),
            _c(lang, "label", "col.statistic", "text"), _c(lang, "value", kind="mixed"),
            Column("format", "format", "text", show=False),
            _c(lang, "threshold", kind="text"), _c(lang, "verdict", kind="verdict"))
    note = lang.t("note.efa_adequacy", kmo=f"{lang.cutoff(cut)} ({cut.source})")
    return Table("efa_adequacy", "efa", lang.t("title.efa_adequacy"), cols, pd.DataFrame(rows),
                 note=note)


def efa_loadings(result: AnalysisResult, lang: Lang) -> Table:
    """Rotated pattern loadings, items in questionnaire order, with communalities."""
    e = result.measurement.efa
    q = result.questionnaire
    order = [i for c in q.first_order for i in q.construct_items[c]]
    load = _ordered(e.loadings, order)
    t = load.copy()
    t.insert(0, "item", t.index.astype(str))
    t.insert(1, "construct", [q.item_construct.get(i, "") for i in t["item"]])
    t["communality"] = e.communalities.reindex(load.index).to_numpy()
    t = t.reset_index(drop=True)
    factors = [str(f) for f in load.columns]
    flags = pd.DataFrame("", index=t.index, columns=factors)
    absval = load.abs().to_numpy()
    for r, j in enumerate(np.argmax(absval, axis=1)):
        flags.iloc[r, j] = "bold"
    cols = (_c(lang, "item", kind="item"), _c(lang, "construct", kind="text"),
            *(Column(f, f, "num", hide_below=EFA_BLANK) for f in factors),
            _c(lang, "communality"))
    rotation = e.rotation or "none"
    rot_key = f"misc.rotation.{rotation}"
    note = lang.t("note.efa_loadings", rotation=lang.t(rot_key) if lang.has(rot_key) else rotation,
                  k=e.n_factors, blank=f"{EFA_BLANK:.2f}")
    return Table("efa_loadings", "efa", lang.t("title.efa_loadings"), cols, t, note=note,
                 flags=flags)


def efa_variance(result: AnalysisResult, lang: Lang) -> Table:
    """Variance accounted for by each rotated factor."""
    v = result.measurement.efa.variance.copy()
    v.insert(0, "factor", v.index.astype(str))
    v = v.reset_index(drop=True)
    cols = (_c(lang, "factor", kind="text"), _c(lang, "ss_loadings"), _c(lang, "proportion_var"),
            _c(lang, "cumulative_var"))
    extra = tuple(Column(k, k, show=False) for k in v.columns
                  if k not in {"factor", "ss_loadings", "proportion_var", "cumulative_var"})
    return Table("efa_variance", "efa", lang.t("title.efa_variance"), cols + extra, v,
                 note=lang.t("note.efa_variance", p=result.measurement.efa.loadings.shape[0]))


def parallel(result: AnalysisResult, lang: Lang) -> Table:
    """Observed eigenvalues against the random-data percentile, and whether each is retained."""
    pa = result.measurement.parallel
    t = pd.DataFrame({"component": pa.observed.index.astype(int),
                      "observed": pa.observed.to_numpy(),
                      "random": pa.threshold.to_numpy()})
    t["retain"] = ["yes" if i < pa.n_components else "no" for i in range(len(t))]
    q = pa.quantile * 100
    cols = (_c(lang, "component", kind="int"), _c(lang, "observed"),
            Column("random", lang.t("col.random", q=q)),
            _c(lang, "retain", kind="verdict", threshold=lang.t("threshold.retain")))
    note = lang.t("note.parallel", iter=pa.n_iter, k=pa.n_components, q=q)
    shown = min(len(t), max(PARALLEL_ROWS, pa.n_components + 3))
    if shown < len(t):
        note += " " + lang.t("doc.full_table", shown=shown, total=len(t), file="parallel")
    return Table("parallel", "efa", lang.t("title.parallel"), cols, t, note=note,
                 display_rows=shown if shown < len(t) else None)


def cmv_harman(result: AnalysisResult, lang: Lang) -> Table:
    """Harman's first-factor share with its cut-off and verdict."""
    share = result.measurement.efa_summary.harman_first_factor_share
    cut = result.measurement.thresholds.harman
    rows = [{"statistic": "harman_first_factor_share", "label": lang.t("stat.harman"),
             "value": share, "threshold": lang.cutoff(cut),
             "verdict": result.measurement.adequacy_verdicts["harman_first_factor_share"]}]
    cols = (Column("statistic", "statistic", "text", show=False),
            _c(lang, "label", "col.statistic", "text"), _c(lang, "value"),
            _c(lang, "threshold", kind="text"), _c(lang, "verdict", kind="verdict"))
    return Table("cmv_harman", "cmv", lang.t("title.cmv_harman"), cols, pd.DataFrame(rows),
                 note=lang.t("note.cmv_harman", cut=f"{lang.cutoff(cut)} ({cut.source})"))


def cmv_single_factor(result: AnalysisResult, lang: Lang) -> Table | None:
    """Fit of the one-factor CFA beside that of the measurement model."""
    single = result.measurement.single_factor_judgement
    if single is None:
        return None
    cfa = result.measurement.cfa_judgement
    keys: tuple[str, ...] = (*HEADLINE_FIT, "aic", "bic")
    if result.options.estimator == "WLSMV":  # the scaled test and indices, as the summary
        keys = WLSMV_HEADLINE
    rows = [{"index": key, "label": _fit_label(lang, key), "format": _fit_format(key),
             "single_factor": single.measures.get(key),
             "single_factor_verdict": single.verdicts.get(key),
             "measurement": cfa.measures.get(key), "measurement_verdict": cfa.verdicts.get(key),
             "threshold": _fit_threshold(lang, cfa, key)} for key in keys]
    cols = (Column("index", "index", "text", show=False), _c(lang, "label", "col.index", "text"),
            _c(lang, "threshold", kind="text"), _c(lang, "single_factor", kind="mixed"),
            _c(lang, "single_factor_verdict", "col.verdict", "verdict"),
            _c(lang, "measurement", kind="mixed"),
            _c(lang, "measurement_verdict", "col.verdict", "verdict"),
            Column("format", "format", "text", show=False))
    return Table("cmv_single_factor", "cmv", lang.t("title.cmv_single_factor"), cols,
                 pd.DataFrame(rows), note=lang.t("note.cmv_single_factor"))


def fit_table(table_id: str, section: str, title: str, judgement: FitJudgement,
              lang: Lang, estimator: str = "ML", fiml: bool = False) -> Table:
    """Every fit measure of one model (lavaan's order) with the cut-off and verdict of each
    judged one.

    Parameters
    ----------
    table_id, section, title:
        The table's id, report section and caption.
    judgement:
        The model's judged fit measures (an inadmissible solution's verdicts read
        "improper solution": the numbers are shown, but not judged against their cut-offs).
    lang:
        Language of labels and notes.
    estimator:
        The estimator as the note names it (``MLR``, ``ML (FIML)``).
    fiml:
        Whether the note says the model was fitted by FIML.

    Returns
    -------
    Table
    """
    fit = judgement.measures
    keys = [k for k in FIT_ROWS if k in fit] + [k for k in fit if k not in FIT_ROWS and k != "n"]
    rows = [{"index": k, "label": _fit_label(lang, k), "value": fit.get(k),
             "format": _fit_format(k), "threshold": _fit_threshold(lang, judgement, k),
             "verdict": judgement.verdicts.get(k)} for k in keys]
    cols = (Column("index", "index", "text", show=False), _c(lang, "label", "col.index", "text"),
            _c(lang, "value", kind="mixed"), Column("format", "format", "text", show=False),
            _c(lang, "threshold", kind="text"), _c(lang, "verdict", kind="verdict"))
    note = lang.t("note.fit", estimator=estimator, n=fmt.integer(fit.get("n")),
                  cuts=_cut_sources(judgement.sources(keys), lang))
    if estimator == "WLSMV":
        note += " " + lang.t("note.fit_wlsmv")
    elif any(fit_base(k) != k for k in keys):
        note += " " + lang.t("note.fit_robust")
    if fiml:
        note += " " + lang.t("note.fit_fiml")
    note += " " + lang.t("note.fit_rest")
    return Table(table_id, section, title, cols, pd.DataFrame(rows), note=note)


#: lavaan's groups of ``summary(fit)``'s parameter estimates, in its order (:func:`param_group`).
PARAM_GROUPS: tuple[str, ...] = ("latent", "regression", "covariance", "intercept",
                                 "threshold", "variance", "scale", "defined")


def param_group(op: str, lhs: str, rhs: str) -> str | None:
    """The lavaan group of one parameter row: ``=~`` latent variables, ``~`` regressions,
    ``~~`` covariances (two variables) or variances (one), ``~1`` intercepts, ``|``
    thresholds and ``~*~`` scales (WLSMV), ``:=`` defined parameters; ``None`` for other
    operators (constraints), which lavaan does not list."""
    if op == "=~":
        return "latent"
    if op == "~":
        return "regression"
    if op == "~~":
        return "variance" if lhs == rhs else "covariance"
    if op == "~1":
        return "intercept"
    if op == "|":
        return "threshold"
    if op == "~*~":
        return "scale"
    if op == ":=":
        return "defined"
    return None


def parameter_table(table_id: str, section: str, fit: Fit | EstimatorFit, estimator: str,
                    lang: Lang) -> Table | None:
    """lavaan's ``summary(fit, standardized = TRUE)`` parameter estimates of one model.

    Rows of ``fit.params`` grouped as lavaan prints them (latent variables, regressions,
    covariances, intercepts, variances, defined parameters), each group in the order of
    ``params``; columns Estimate, Std.Err, z-value, P(>|z|), Std.lv, Std.all as they are in
    ``params`` (fixed parameters have no SE, z or p). The header lines give the
    estimator, convergence and iterations, the number of free parameters and N.
    """
    if not len(fit.params):
        return None
    p = fit.params.copy().reset_index(drop=True)
    p["group"] = [param_group(str(o), str(a), str(b))
                  for o, a, b in zip(p["op"], p["lhs"], p["rhs"], strict=True)]
    p = p[p["group"].notna()]
    rank = {g: i for i, g in enumerate(PARAM_GROUPS)}
    p["_rank"] = p["group"].map(rank)
    p = p.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)
    p["group_label"] = [lang.t(f"param.{g}") for g in p["group"]]
    for key in ("std_lv", "std_all"):
        if key not in p.columns:
            p[key] = np.nan
    flags = pd.DataFrame("", index=p.index, columns=["group_label", "lhs", "op"])
    same_group = p["group"].eq(p["group"].shift())
    flags.loc[same_group, "group_label"] = "repeat"
    same_lhs = same_group & p["lhs"].eq(p["lhs"].shift()) & p["op"].eq(p["op"].shift())
    flags.loc[same_lhs, "lhs"] = "repeat"
    flags.loc[same_lhs, "op"] = "repeat"
    cols = (Column("group", "group", "text", show=False),
            _c(lang, "group_label", "col.param_group", "text"),
            _c(lang, "lhs", kind="text"), _c(lang, "op", kind="text"),
            _c(lang, "rhs", kind="text"),
            _c(lang, "est"), _c(lang, "se", "col.param_se", missing=""),
            _c(lang, "z", "col.param_z", decimals=3, missing=""),
            _c(lang, "pvalue", "col.param_p", kind="p", missing=""),
            _c(lang, "std_lv", missing=""), _c(lang, "std_all", missing=""))
    yes_no = lang.t("misc.yes") if fit.converged else lang.t("misc.no")
    # Only the ML fit counts its optimiser's iterations (MLM/MLR/FIML/WLSMV report none).
    iterations = fit.iterations if isinstance(fit, Fit) else None
    header = (
        (lang.t("param.estimator"), str(estimator)),
        (lang.t("param.converged"), yes_no + ("" if iterations is None else
                                              lang.t("param.iterations", n=int(iterations)))),
        (lang.t("param.npar"), fmt.integer(fit.npar)),
        (lang.t("param.n"), fmt.integer(fit.n)),
    )
    return Table(table_id, section, lang.t(f"title.{table_id}"), cols, p, note=lang.t(
        "note.params"), flags=flags, header=header)


def cfa_loadings(result: AnalysisResult, lang: Lang) -> Table:
    """lavaan's loadings: estimate, SE, z, p, std.all side by side, with the loading verdict."""
    m = result.measurement
    t = m.loadings.copy()
    t["verdict"] = m.loading_verdicts
    t = t.reset_index(drop=True)
    cut = m.thresholds.loading
    second = bool((t["level"] == 2).any())
    cols = (_c(lang, "construct", kind="text"), _c(lang, "item", "col.indicator", "item"),
            _c(lang, "level", kind="int", show=second), _c(lang, "est"), _c(lang, "se"),
            _c(lang, "z", decimals=2), _c(lang, "pvalue", kind="p"),
            _c(lang, "std", threshold=lang.cutoff(cut, short=True)),
            _c(lang, "verdict", kind="verdict"))
    note = lang.t("note.cfa_loadings", cut=f"{lang.cutoff(cut)} ({cut.source})")
    if second:
        note += " " + lang.t("note.second_order")
    lone = _lone_items(result)
    if lone:
        note += " " + lang.t("note.single_item_loadings", items=_listed(lang, lone))
    return Table("cfa_loadings", "cfa", lang.t("title.cfa_loadings"), cols, t, note=note)


def fornell_larcker(result: AnalysisResult, lang: Lang) -> Table | None:
    """√AVE on the diagonal, latent correlations below it, and whether the criterion holds."""
    fl = result.measurement.discriminant.fornell_larcker
    if fl is None:
        return None
    names = list(fl.table.index)
    fails = result.measurement.fornell_larcker_violations
    t = pd.DataFrame(np.nan, index=range(len(names)), columns=names, dtype=float)
    flags = pd.DataFrame("", index=t.index, columns=names)
    single = set(result.measurement.single_item_constructs)
    for i, a in enumerate(names):
        for j, b in enumerate(names[: i + 1]):
            t.iloc[i, j] = float(fl.table.loc[a, b])
            if i == j:
                flags.iloc[i, j] = UNDEFINED if a in single else "diag"
            elif fails.loc[a, b]:  # type: ignore[union-attr]
                flags.iloc[i, j] = "poor"
    t.insert(0, "construct", names)
    t["passes"] = [None if fmt.is_missing(fl.passes.get(c)) else bool(fl.passes[c])
                   for c in names]
    cols = (_c(lang, "construct", kind="text"), *(Column(c, c, missing="") for c in names),
            _c(lang, "passes", kind="verdict"))
    note = lang.t("note.fornell_larcker")
    if single:
        note += " " + lang.t("note.single_item_fornell_larcker",
                             constructs=_listed(lang, [c for c in names if c in single]))
    return Table("fornell_larcker", "discriminant", lang.t("title.fornell_larcker"), cols, t,
                 note=note, flags=flags)


def htmt(result: AnalysisResult, lang: Lang) -> Table:
    """HTMT below the diagonal, values that are not good flagged with their verdict."""
    d = result.measurement.discriminant
    names = list(d.htmt.index)
    t = pd.DataFrame(np.nan, index=range(len(names)), columns=names, dtype=float)
    flags = pd.DataFrame("", index=t.index, columns=names)
    single = set(result.measurement.single_item_constructs)
    for i, a in enumerate(names):
        for j, b in enumerate(names[:i]):
            t.iloc[i, j] = float(d.htmt.loc[a, b])
            v = d.htmt_verdicts.loc[a, b]
            if a in single or b in single:
                flags.iloc[i, j] = UNDEFINED
            elif isinstance(v, str) and v != "good":
                flags.iloc[i, j] = v
    t.insert(0, "construct", names)
    cut = result.measurement.thresholds.htmt
    cols = (_c(lang, "construct", kind="text"), *(Column(c, c, missing="") for c in names))
    note = lang.t("note.htmt", cut=f"{lang.cutoff(cut)} ({cut.source})")
    if single:
        note += " " + lang.t("note.single_item_htmt",
                             constructs=_listed(lang, [c for c in names if c in single]))
    return Table("htmt", "discriminant", lang.t("title.htmt"), cols, t, note=note, flags=flags)


def _with_hidden(shown: list[Column], frame: pd.DataFrame, lang: Lang) -> tuple[Column, ...]:
    """``shown`` (those present in ``frame``) then every other column of ``frame``, hidden."""
    cols = [c for c in shown if all(k in frame.columns for k in c.keys)]
    keys = {k for c in cols for k in c.keys}
    cols += [_generic_column(lang, k, frame[k], show=False) for k in frame.columns
             if k not in keys]
    return tuple(cols)


def hypotheses(result: AnalysisResult, lang: Lang) -> Table:
    """One row per hypothesis: path, estimates side by side, CI, verdict (lavaan's columns)."""
    s = result.structural
    t = s.paths.copy().reset_index(drop=True)
    t.insert(1, "path", [f"{a} → {b}" for a, b in zip(t["from"], t["to"], strict=True)])
    shown = [_c(lang, "hypothesis", kind="text"), _c(lang, "path", kind="text"),
             _c(lang, "sign", kind="sign"), _c(lang, "est"), _c(lang, "se"),
             _c(lang, "z", decimals=2), _c(lang, "pvalue", kind="p"),
             _c(lang, "std", stars="pvalue"), _ci(lang, "ci"),
             _c(lang, "verdict", kind="verdict")]
    se_key = "FIML" if result.options.missing == "fiml" else result.options.estimator
    note = lang.t("note.hypotheses", ci=ci_note(lang, s, s.paths["ci_method"]),
                  se=lang.t(f"se.{se_key}")) + " " + \
        lang.t("note.stars")
    return Table("hypotheses", "hypotheses", lang.t("title.hypotheses"),
                 _with_hidden(shown, t, lang), t, note=note)


def r2(result: AnalysisResult, lang: Lang) -> Table | None:
    """R² of each endogenous construct."""
    values = result.structural.r2  # type: ignore[union-attr]
    if not len(values):
        return None
    order = [c for c in result.questionnaire.endogenous if c in values.index]
    order += [c for c in values.index if c not in order]
    t = pd.DataFrame({"construct": order, "name": [lang.construct(c) for c in order],
                      "r2": [values[c] for c in order]})
    cols = (_c(lang, "construct", kind="text"), _c(lang, "name", kind="text"), _c(lang, "r2"))
    return Table("r2", "r2", lang.t("title.r2"), cols, t, note=lang.t("note.r2"))


def indirect(result: AnalysisResult, lang: Lang) -> Table | None:
    """Indirect effects with their intervals and whether the interval excludes 0."""
    s = result.structural
    if s is None or len(s.indirect) == 0:
        return None
    t = s.indirect.copy()
    t.insert(0, "chain", [arrow(p) for p in t["path"]])
    t["ci_excludes_zero"] = s.indirect_excludes_zero
    t = t.reset_index(drop=True)
    shown = [_c(lang, "chain", "col.path", "text"), _c(lang, "est"), _c(lang, "std"),
             _ci(lang, "ci"), _ci(lang, "bc"), _c(lang, "ci_excludes_zero", kind="verdict")]
    note = lang.t("note.indirect", ci=ci_note(lang, s, s.indirect["method"]))
    if not s.bootstrap.requested:  # no bootstrap: no bias-corrected interval either
        shown = [c for c in shown if c.key != "bc_lower"]
        note = note.replace(lang.t("note.bc_phrase"), "")
    return Table("indirect", "mediation", lang.t("title.indirect"),
                 _with_hidden(shown, t, lang), t, note=note)


def effects(result: AnalysisResult, lang: Lang) -> Table | None:
    """Direct, indirect and total effects of each pair, unstandardised and standardised."""
    s = result.structural
    if s is None or len(s.effects) == 0:
        return None
    t = s.effects.copy().reset_index(drop=True)
    shown = [_c(lang, "from", kind="text"), _c(lang, "to", kind="text"), _c(lang, "direct"),
             _c(lang, "indirect"), _ci(lang, "indirect_ci", missing=""), _c(lang, "total"),
             _ci(lang, "total_ci", missing=""), _c(lang, "direct_std"),
             _c(lang, "indirect_std"), _c(lang, "total_std")]
    note = lang.t("note.effects", ci=ci_note(lang, s, s.effects["ci_method"]))
    return Table("effects", "mediation", lang.t("title.effects"), _with_hidden(shown, t, lang),
                 t, note=note)


def comparison(result: AnalysisResult, lang: Lang) -> Table | None:
    """The hypothesised model against its nested alternatives (χ² difference tests), each
    alternative with its verdict (``StructuralResult.comparison_verdicts``); ``None``
    without alternatives (the report says so in a sentence)."""
    s = result.structural
    if s is None or len(s.comparison) < 2:
        return None
    t = s.comparison.copy().reset_index(drop=True)
    t.insert(1, "model_label", [_model_label(lang, str(m)) for m in t["model"]])
    t.insert(2, "dropped_paths", [arrow(d) if isinstance(d, str) and d else ""
                                  for d in t["dropped"]])
    shown = [_c(lang, "model_label", "col.model", "wrap"),
             _c(lang, "dropped_paths", "col.dropped", "wrap"),
             Column("chisq", lang.t("fit.chisq")), Column("df", lang.t("fit.df"), "int"),
             Column("cfi", lang.t("fit.cfi")), Column("rmsea", lang.t("fit.rmsea")),
             Column("aic", lang.t("fit.aic"), decimals=1),
             Column("bic", lang.t("fit.bic"), decimals=1),
             _c(lang, "delta_chisq", missing=""), _c(lang, "delta_df", kind="int", missing=""),
             _c(lang, "delta_pvalue", kind="p", missing=""),
             _c(lang, "delta_cfi", missing=""),
             _c(lang, "comparison_verdict", "col.verdict", "verdict")]
    t["comparison_verdict"] = s.comparison_verdicts
    return Table("comparison", "comparison", lang.t("title.comparison"),
                 _with_hidden(shown, t, lang), t, note=lang.t("note.comparison") + (
                     " " + lang.t("note.comparison_ml", estimator=result.options.estimator)
                     if result.options.estimator in ("MLM", "MLR") else ""))


# --------------------------------------------------------------------------- group comparison

def group_tables(result: AnalysisResult, lang: Lang) -> list[Table]:
    """The tables of the group comparison (``--group``): group sizes, measurement
    invariance and, with hypotheses, the structural paths by group.

    Parameters
    ----------
    result:
        The analysis; ``result.groups`` is a
        :class:`~sem_kit.postestimation.invariance.GroupComparison` or ``None``.
    lang:
        Language of labels and notes.

    Returns
    -------
    list of Table
        Empty without a group comparison.
    """
    if result.groups is None:
        return []
    out = [group_sizes(result, lang), invariance(result, lang)]
    paths = group_paths(result, lang)
    if paths is not None:
        out.append(paths)
    return out


def group_sizes(result: AnalysisResult, lang: Lang) -> Table:
    """Each group of the grouping column with its size and share of the compared sample."""
    inv = result.groups.invariance  # type: ignore[union-attr]
    total = sum(int(n) for _, n in inv.groups)
    t = pd.DataFrame({"group": [str(label) for label, _ in inv.groups],
                      "label": [lang.group_label(inv.group, str(label)) for label, _ in inv.groups],
                      "n": [int(n) for _, n in inv.groups],
                      "percent": [100 * int(n) / total for _, n in inv.groups]})
    cols = (Column("group", "group", "text", show=False), _c(lang, "label", "col.group", "text"),
            _c(lang, "n", kind="int"), _c(lang, "percent", kind="pct"))
    note = lang.t("note.groups", column=inv.group, name=lang.demographic(inv.group), n=total)
    left_out = result.n_analyzed - total
    if left_out > 0:
        note += " " + lang.t("note.groups_left_out", k=left_out)
    return Table("groups", "groups", lang.t("title.groups"), cols, t, note=note)


def _step_verdict(holds: object) -> str:
    """``holds`` / ``does not hold``; ``baseline`` for the first step, which has no comparison."""
    if holds is None or (isinstance(holds, float) and holds != holds):
        return "baseline"
    return "holds" if bool(holds) else "does not hold"


def _signed_cut(op: str, value: float) -> str:
    return f"{op} {value:.3f}".replace("-", "−")


def invariance(result: AnalysisResult, lang: Lang) -> Table:
    """The measurement-invariance steps: each step's fit, its change against the previous
    step (χ² difference test, ΔCFI, ΔRMSEA) and Chen's (2007) verdict, as results.json's
    ``groups.invariance`` holds them."""
    inv = result.groups.invariance  # type: ignore[union-attr]
    t = inv.table.copy().reset_index(drop=True)
    t.insert(1, "step_label", [lang.t(f"step.{s}") if lang.has(f"step.{s}") else str(s)
                               for s in t["step"]])
    t["delta_df"] = pd.Series([None if fmt.is_missing(v) else int(v) for v in t["delta_df"]],
                              index=t.index, dtype=object)
    t["verdict"] = [_step_verdict(h) for h in t["holds"]]
    # every verdict that is not good marks its cell
    verdicts = inv.fit_verdicts.reset_index(drop=True)
    flags = verdicts.map(lambda v: v if isinstance(v, str) and v != "good" else "")
    cut_cfi, cut_rmsea = (_signed_cut(op, c) for op, c in zip(("≥", "≤"), inv.delta_cutoffs,
                                                              strict=True))
    previous = lang.t("span.previous")
    th = inv.thresholds
    shown = [Column("step", "step", "text", show=False),
             _c(lang, "step_label", "col.step", "wrap"),
             Column("chisq", lang.t("fit.chisq")), Column("df", lang.t("fit.df"), "int"),
             Column("pvalue", lang.t("fit.pvalue"), "p"),
             *(Column(k, lang.t(f"fit.{k}"), threshold=lang.cutoff(th.get(k), short=True))
               for k in INVARIANCE_FIT),
             _c(lang, "delta_chisq", group=previous),
             _c(lang, "delta_df", kind="int", group=previous),
             _c(lang, "delta_pvalue", kind="p", group=previous),
             _c(lang, "delta_cfi", threshold=cut_cfi, group=previous),
             _c(lang, "delta_rmsea", threshold=cut_rmsea, group=previous),
             _c(lang, "verdict", kind="verdict", group=previous)]
    if inv.group_partial:
        partial = lang.t("note.partial", params=", ".join(inv.group_partial))
    else:
        partial = lang.t("note.no_partial")
    note = lang.t("note.invariance", name=lang.demographic(inv.group, in_sentence=True),
                  rule=lang.rule(inv.rule),
                  cuts=_cut_sources([(k, th.get(k)) for k in INVARIANCE_FIT], lang),
                  partial=partial)
    return Table("invariance", "groups", lang.t("title.invariance"),
                 _with_hidden(shown, t, lang), t, note=note, flags=flags)


def group_paths(result: AnalysisResult, lang: Lang) -> Table | None:
    """Every structural path's estimates in each group side by side, and its equality test
    across groups (χ² difference with the path held equal; ``differs`` when p < .05)."""
    g = result.groups
    if g is None or g.paths is None or len(g.paths.tests) == 0:
        return None
    inv = g.invariance
    est = g.paths.estimates
    tests = g.paths.tests.copy().reset_index(drop=True)
    order: list[str] = []
    if result.structural is not None:
        order = [str(h) for h in result.structural.paths["hypothesis"]]
    rank = {h: i for i, h in enumerate(order)}
    tests["_rank"] = [rank.get(str(h), len(rank) + i) for i, h in enumerate(tests["hypothesis"])]
    tests = tests.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)
    rows = []
    for _, r in tests.iterrows():
        row: dict[str, Any] = {"hypothesis": r["hypothesis"], "from": r["from"], "to": r["to"],
                               "path": f"{r['from']} → {r['to']}"}
        sel = est[(est["from"] == r["from"]) & (est["to"] == r["to"])]
        for label, _ in inv.groups:
            one = sel[sel["group"].astype(str) == str(label)]
            first = one.iloc[0] if len(one) else None
            for stat in ("est", "std", "se", "pvalue"):
                row[f"{stat}_{label}"] = first[stat] if first is not None else np.nan
        row.update({"chisq": r["chisq"], "df": r["df"], "delta_chisq": r["delta_chisq"],
                    "delta_df": r["delta_df"], "delta_pvalue": r["delta_pvalue"],
                    "differs": r["differs"],
                    "verdict": "differs" if bool(r["differs"]) else "does not differ"})
        rows.append(row)
    t = pd.DataFrame(rows)
    cols = [_c(lang, "hypothesis", kind="text"), _c(lang, "path", kind="text"),
            Column("from", "from", "text", show=False), Column("to", "to", "text", show=False)]
    for label, n in inv.groups:
        span = lang.t("span.group", group=lang.group_label(inv.group, str(label)), n=int(n))
        cols += [_c(lang, f"est_{label}", "col.est", group=span),
                 _c(lang, f"std_{label}", "col.std", stars=f"pvalue_{label}", group=span),
                 _c(lang, f"se_{label}", "col.se", show=False, group=span),
                 _c(lang, f"pvalue_{label}", "col.pvalue", "p", group=span)]
    equality = lang.t("span.equality")
    cols += [Column("chisq", lang.t("fit.chisq"), show=False),
             Column("df", lang.t("fit.df"), "int", show=False),
             _c(lang, "delta_chisq", group=equality),
             _c(lang, "delta_df", kind="int", group=equality),
             _c(lang, "delta_pvalue", kind="p", group=equality),
             Column("differs", "differs", "verdict", show=False),
             _c(lang, "verdict", kind="verdict", group=equality)]
    note = lang.t("note.group_paths", stars=lang.t("note.stars"))
    return Table("group_paths", "groups", lang.t("title.group_paths"), tuple(cols), t, note=note)


def _model_label(lang: Lang, name: str) -> str:
    """A compared model's name: built-in ones translated, declared ones by their description."""
    if lang.has(f"model.{name}"):
        return lang.t(f"model.{name}")
    declared = lang.questionnaire.model.alternatives.get(name)
    description = declared.description if declared is not None else None
    if description is not None:
        text = description.get(lang.code)
        return text[:1].upper() + text[1:] if not lang.zh else text
    return name


def _generic_column(lang: Lang, key: str, values: pd.Series, show: bool = True) -> Column:
    key = str(key)
    if lang.has(f"fit.{key}"):
        label = lang.t(f"fit.{key}")
    elif lang.has(f"col.{key}"):
        label = lang.t(f"col.{key}")
    else:
        label = key
    if key in _P_FIT or key.endswith("pvalue"):
        kind = "p"
    elif key in _INT_FIT or key.endswith("_df") or pd.api.types.is_integer_dtype(values):
        kind = "int"
    elif pd.api.types.is_bool_dtype(values) or key in ("supported", "holds"):
        kind = "verdict"
    elif pd.api.types.is_numeric_dtype(values):
        kind = "num"
    else:
        kind = "text"
    return Column(key, label, kind, show=show)


def modification(mi: pd.DataFrame | None, table_id: str, lang: Lang) -> Table | None:
    """The largest modification indices (as many as :data:`MI_ROWS`)."""
    if mi is None or len(mi) == 0:
        return None
    t = mi.head(MI_ROWS).copy().reset_index(drop=True)
    known = ["lhs", "op", "rhs", "mi", "epc", "sepc_all"]
    cols = [_c(lang, "lhs", kind="text"), _c(lang, "op", kind="text"), _c(lang, "rhs", kind="text"),
            _c(lang, "mi", decimals=2), _c(lang, "epc"), _c(lang, "sepc_all")]
    cols = [c for c in cols if c.key in t.columns]
    cols += [_generic_column(lang, k, t[k], show=False) for k in t.columns if k not in known]
    return Table(table_id, "mi", lang.t(f"title.{table_id}"), tuple(cols), t,
                 note=lang.t("note.mi", k=len(t)))


def excluded(result: AnalysisResult, lang: Lang) -> Table:
    """Every row not analysed, with its reason: the exclusion log in full."""
    rows = []
    for e in result.excluded:
        key = f"reason.{e.reason}"
        rows.append({"row": e.row, "reason": e.reason,
                     "reason_label": lang.t(key) if lang.has(key) else e.reason,
                     "detail": lang.detail(e.detail)})
    t = pd.DataFrame(rows, columns=["row", "reason", "reason_label", "detail"])
    cols = (_c(lang, "row", kind="int"), Column("reason", "reason", "text", show=False),
            _c(lang, "reason_label", "col.reason", "text"), _c(lang, "detail", kind="longtext"))
    row = result.screening.responses.header_row
    note = lang.t("note.excluded", row=row) if rows else lang.t("note.excluded_none")
    return Table("excluded", "warnings", lang.t("title.excluded"), cols, t, note=note)


def warnings_table(result: AnalysisResult, lang: Lang) -> Table:
    """Every warning of the run, in order."""
    t = pd.DataFrame({"warning": list(result.warnings)}, columns=["warning"])
    note = lang.t("note.warnings_none") if not len(t) else lang.t("note.warnings_lang")
    return Table("warnings", "warnings", lang.t("title.warnings"),
                 (_c(lang, "warning", kind="longtext"),), t, note=note)
