"""One run: read -> screen -> listwise deletion -> measurement -> structural.

:func:`analyze` is what ``sem-kit analyze`` and ``sem_kit.analyze`` call. It
does no printing and writes no file (``AnalysisResult.save`` and the CLI do).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from threadpoolctl import threadpool_limits

from sem_kit.errors import InputError
from sem_kit.io.ingest import Responses, read_responses
from sem_kit.io.screening import Exclusion, ScreeningResult, screen
from sem_kit.literals import ESTIMATORS, LANGS, MISSING
from sem_kit.measurement.stage import MeasurementResult, measurement_model
from sem_kit.questionnaire import Questionnaire, load_questionnaire

if TYPE_CHECKING:  # pragma: no cover
    from sem_kit.postestimation.invariance import GroupComparison
    from sem_kit.structural.stage import StructuralResult

LISTWISE = "listwise"
"""Reason code of a row dropped by listwise deletion (some item unanswered)."""



@dataclass(frozen=True)
class Options:
    """Settings of a run (the ``sem-kit analyze`` options of DESIGN.md)."""

    bootstrap: int = 5000
    seed: int | None = None
    jobs: int = 1
    lang: str = "en"
    missing: str = "listwise"
    estimator: str = "ML"
    group: str | None = None
    group_partial: tuple[str, ...] = ()
    screen: str = "default"
    sheet: str | None = None
    header_row: int | None = None

    def check(self) -> None:
        """Raise :class:`InputError` for a value outside its range or not built yet."""
        if self.bootstrap < 0:
            raise InputError(f"--bootstrap: expected 0 or more resamples, found {self.bootstrap}")
        if self.jobs == 0 or self.jobs < -1:
            raise InputError(f"--jobs: expected a positive number or -1 (all cores), found "
                             f"{self.jobs}")
        if self.lang not in LANGS:
            raise InputError(f"--lang: expected en or zh, found {self.lang!r}")
        if self.estimator not in ESTIMATORS:
            raise InputError(f"--estimator: expected one of {', '.join(ESTIMATORS)}, found "
                             f"{self.estimator!r}")
        if self.missing not in MISSING:
            raise InputError(f"--missing: expected listwise or fiml, found {self.missing!r}")
        if self.missing == "fiml" and self.estimator != "ML":
            raise InputError(f"--missing fiml with --estimator {self.estimator}: full-information "
                             "ML is available with the ML estimator only in sem-kit (lavaan "
                             "refuses MLM and WLSMV with missing = \"ml\"; its MLR with FIML is "
                             "not built here); use --estimator ML --missing fiml, or "
                             f"--estimator {self.estimator} with --missing listwise")
        if self.group is not None and not str(self.group).strip():
            raise InputError("--group: expected the name of a demographic column, found an "
                             "empty name")
        if self.group is not None and (self.estimator, self.missing) != ("ML", "listwise"):
            raise InputError(f"--group with --estimator {self.estimator} --missing "
                             f"{self.missing}: group comparisons are available with ML and "
                             "listwise deletion only")
        if self.group_partial and self.group is None:
            raise InputError("--group-partial needs --group COLUMN (it frees parameters across "
                             "the groups of the invariance steps)")


@dataclass(frozen=True, eq=False, repr=False)
class AnalysisResult:
    """Everything one run produced; ``to_dict()`` is results.json.

    Attributes
    ----------
    questionnaire, options:
        What was run, with the seed actually used in ``options.seed``.
    screening:
        The screening result (kept rows, exclusion log, provenance).
    listwise:
        Rows dropped by listwise deletion (some item unanswered); empty under
        ``--missing fiml``, which keeps them.
    data:
        The analysed item data: reverse-coded, indexed by file row; complete
        rows, or under ``--missing fiml`` every screened row (NaN where unanswered).
    measurement:
        :class:`~sem_kit.measurement.stage.MeasurementResult`.
    structural:
        :class:`~sem_kit.structural.stage.StructuralResult`, or ``None`` when the
        questionnaire has no hypotheses.
    input_label:
        The data file as given (``<DataFrame>`` for in-memory data).
    warnings:
        Every warning of every stage, in order.
    groups:
        :class:`~sem_kit.postestimation.invariance.GroupComparison` with ``--group``
        (measurement invariance and structural paths across groups), else ``None``.
    """

    questionnaire: Questionnaire
    options: Options
    screening: ScreeningResult
    listwise: tuple[Exclusion, ...]
    data: pd.DataFrame
    measurement: MeasurementResult
    structural: StructuralResult | None
    input_label: str
    warnings: tuple[str, ...] = field(default=())
    groups: GroupComparison | None = None

    @property
    def excluded(self) -> tuple[Exclusion, ...]:
        """Every row not analysed, with its reason, sorted by row."""
        return tuple(sorted(self.screening.excluded + self.listwise, key=lambda e: e.row))

    @property
    def n_analyzed(self) -> int:
        return int(len(self.data))

    # Tables as DataFrames, for notebooks.
    @property
    def items(self) -> pd.DataFrame:
        return self.measurement.items.table

    @property
    def reliability(self) -> pd.DataFrame:
        return self.measurement.reliability

    @property
    def loadings(self) -> pd.DataFrame:
        return self.measurement.loadings

    @property
    def paths(self) -> pd.DataFrame | None:
        return None if self.structural is None else self.structural.paths

    @property
    def indirect(self) -> pd.DataFrame | None:
        return None if self.structural is None else self.structural.indirect

    def meta(self) -> dict[str, Any]:
        """The ``meta`` block of results.json."""
        from sem_kit.version import __version__

        responses = self.screening.responses
        return {
            "tool_version": __version__,
            "questionnaire": self.questionnaire.name,
            "input": {"path": self.input_label, "sha256": responses.sha256,
                      "rows": int(responses.n_rows), "header_row": responses.header_row,
                      "layout": responses.layout, "sheet": responses.sheet},
            "column_map": dict(responses.item_columns),
            "column_match": dict(responses.column_matches),
            "n_analyzed": self.n_analyzed,
            "excluded": [e.as_dict() for e in self.excluded],
            "estimator": self.options.estimator,
            "missing": self.options.missing,
            "bootstrap": (int(self.structural.bootstrap.requested)
                          if self.structural is not None else 0),
            "seed": self.options.seed,
            "warnings": list(self.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        """results.json as DESIGN.md fixes it (plain numbers, ``None`` where undefined)."""
        out: dict[str, Any] = {"meta": self.meta()}
        out.update(self.measurement.to_dict())
        if self.structural is not None:
            out["sem"] = self.structural.to_dict()
        if self.groups is not None:
            out["groups"] = self.groups.to_dict()
        return out

    def __repr__(self) -> str:
        """A few lines for a terminal: what was run, N, fit and verdicts (not every table)."""
        fit = self.measurement.cfa_fit
        # WLSMV: the scaled test and indices (the unscaled T is not χ²-distributed)
        sfx = "_scaled" if self.options.estimator == "WLSMV" else ""
        how = f" ({self.options.estimator}" + (", FIML)" if self.options.missing == "fiml"
                                                else ")")
        lines = [
            f"<AnalysisResult {self.questionnaire.name}: {self.n_analyzed} of "
            f"{self.screening.n_input} rows analysed, {len(self.excluded)} excluded>",
            f"  CFA{how}: chisq{sfx}={fit['chisq' + sfx]:.2f} df={fit['df']:.0f} "
            f"CFI{sfx}={fit['cfi' + sfx]:.3f} TLI{sfx}={fit['tli' + sfx]:.3f} "
            f"RMSEA{sfx}={fit['rmsea' + sfx]:.3f} SRMR={fit['srmr']:.3f}",
        ]
        if self.structural is not None:
            paths = self.structural.paths
            lines.append(f"  SEM: {int(paths['supported'].sum())} of {len(paths)} hypotheses "
                         "supported (see .paths, .indirect)")
        if self.warnings:
            lines.append(f"  {len(self.warnings)} warning(s) (see .warnings)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A compact HTML summary for Jupyter (sem_kit.report.notebook_html)."""
        from sem_kit.report import notebook_html

        return notebook_html(self)

    def save(self, outdir: str | Path) -> Path:
        """Write report.html, results.json, tables.xlsx, tables.docx, tables/*.csv, figures/."""
        from sem_kit.report import write_outputs

        return write_outputs(self, Path(outdir))


def listwise_deletion(
    items: pd.DataFrame, constructs: dict[str, list[str]] | None = None
) -> tuple[pd.DataFrame, tuple[Exclusion, ...]]:
    """Drop rows with any unanswered item; log each with the items it missed.

    Parameters
    ----------
    items:
        Respondents x items, NaN where unanswered, indexed by file row.
    constructs:
        Construct id -> its item ids; a construct whose every item a row left
        unanswered is then named in that row's detail.

    Returns
    -------
    tuple of (pandas.DataFrame, tuple of Exclusion)
        The complete rows, and one ``listwise`` exclusion per dropped row.
    """
    missing = items.isna()
    dropped = []
    for row in items.index[missing.any(axis=1)]:
        cols = list(items.columns[missing.loc[row]])
        shown = ", ".join(cols[:6]) + (f" and {len(cols) - 6} more" if len(cols) > 6 else "")
        empty = [c for c, ids in (constructs or {}).items()
                 if ids and all(i in cols for i in ids)]
        whole = (f"; no item of construct {', '.join(empty)} answered" if empty else "")
        dropped.append(Exclusion(int(row), LISTWISE, f"{len(cols)} unanswered item(s): "
                                 f"{shown}{whole} (listwise deletion)"))
    return items.loc[~missing.any(axis=1)], tuple(dropped)


def free_parameters(q: Questionnaire) -> tuple[int, str]:
    """The number of free parameters of the larger of the questionnaire's two models.

    Returns
    -------
    tuple of (int, str)
        The count and which model has it (``"the measurement model (CFA)"`` or
        ``"the structural model"``).

    Raises
    ------
    InputError
        A model has negative degrees of freedom (more free parameters than
        sample moments); the message names the questionnaire file.
    """
    from sem_kit.engine.syntax import specify

    models = [("the measurement model (CFA)", q.measurement_syntax())]
    if q.hypotheses:
        models.append(("the structural model", q.model_syntax()))
    counts = []
    for what, syntax in models:
        try:
            counts.append((specify(syntax).npar, what))
        except InputError as exc:
            raise InputError(
                f"{what} of this questionnaire: {exc.message}. A construct needs 3 items to be "
                "identified on its own (a 2-item construct is identified only through its "
                "correlations with other constructs; a single item is taken as the construct, "
                "without measurement error)", file=q.origin,
            ) from None
    return max(counts)


def _check_constant_items(complete: pd.DataFrame, responses: Responses, label: str) -> None:
    """Raise when an item has the same answer in every analysed row, naming its column."""
    constant = [c for c in complete.columns if complete[c].nunique() <= 1]
    if not constant:
        return
    shown = []
    for iid in constant:
        header = responses.item_columns.get(iid, iid)
        column = f"column {header!r}" + ("" if header == iid else f" (item {iid})")
        raw = responses.raw_items.loc[complete.index, iid].dropna()
        answered = complete[iid].notna()
        if raw.empty:
            shown.append(f"{column} is unanswered in every one of the {len(complete)} "
                         f"analysed rows ({_span(complete.index)})")
        elif answered.all():
            shown.append(f"{column} is {raw.iloc[0]:g} in every one of the {len(complete)} "
                         f"analysed rows ({_span(complete.index)})")
        else:
            shown.append(f"{column} is {raw.iloc[0]:g} in every one of the {int(answered.sum())}"
                         f" analysed rows that answer it ({_span(complete.index[answered])})")
    raise InputError(
        "; ".join(shown) + ". A constant item has no variance and cannot measure a "
        "construct: expected answers that vary between respondents; check the column or "
        "drop the item from the questionnaire", file=label,
    )


def _span(index: pd.Index) -> str:
    rows = [int(r) for r in index]
    return f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]} to {rows[-1]}"


def _responses_from_frame(frame: pd.DataFrame, q: Questionnaire):
    """Read an in-memory table through the same checks as a file (via a temporary CSV)."""
    with tempfile.TemporaryDirectory(prefix="sem_kit_") as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False, encoding="utf-8")
        return read_responses(path, q)


@contextmanager
def _naming(label: str) -> Iterator[None]:
    """Put the data file before the message of an :class:`InputError` that names no file.

    The estimation stages know nothing of files; their errors (a singular
    covariance matrix, an unidentified model) are about the data analysed.
    """
    try:
        yield
    except InputError as exc:
        if exc.file is not None:
            raise
        raise type(exc)(exc.message, file=label) from None


def analyze(
    data: str | Path | pd.DataFrame,
    questionnaire: Questionnaire | str | Path | None = None,
    *,
    options: Options | None = None,
    progress: Callable[[int, int], None] | None = None,
    **kwargs: Any,
) -> AnalysisResult:
    """Analyse survey responses with a questionnaire: the whole sem_kit run.

    Parameters
    ----------
    data:
        A responses file (.csv, .xlsx, .sav) or a DataFrame with the same columns.
    questionnaire:
        A :class:`Questionnaire`, a YAML path or a built-in name (default:
        ``customer-knowledge-sharing``).
    options:
        :class:`Options`; or give its fields as keyword arguments
        (``bootstrap=2000, seed=1``, ``estimator="MLR"``, ``missing="fiml"``,
        ``estimator="WLSMV"``, ``group="gender"``, ``jobs=-1``, ``lang="zh"``).
    progress:
        Called as ``progress(done, total)`` during the bootstrap.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    InputError
        Bad data, questionnaire or options; the message names file, column,
        row and value. Among them: fewer complete rows than the model has free
        parameters, an item constant across the analysed rows, a sample
        covariance matrix that is not positive definite, or a model that is
        not identified (from the questionnaire, or empirically from the data).
    """
    options = options or Options(**kwargs)
    # The matrices here are small (tens of variables): one BLAS thread is faster than
    # several, and far faster on a loaded machine (measured 17x on the nine-factor fit).
    with threadpool_limits(limits=1, user_api="blas"):
        return _analyze(data, questionnaire, options, progress)


def _analyze(
    data: str | Path | pd.DataFrame,
    questionnaire: Questionnaire | str | Path | None,
    options: Options,
    progress: Callable[[int, int], None] | None,
) -> AnalysisResult:
    if options.seed is None:
        options = Options(**{**options.__dict__, "seed": secrets.randbelow(2**31 - 1) + 1})
    # estimator names in any case; lavaan's missing = "ml" is FIML
    missing = str(options.missing).lower()
    options = Options(**{**options.__dict__, "estimator": str(options.estimator).upper(),
                         "missing": "fiml" if missing == "ml" else missing})
    options.check()
    q = questionnaire if isinstance(questionnaire, Questionnaire) else load_questionnaire(
        questionnaire)
    _check_single_items(q, options)
    if isinstance(data, pd.DataFrame):
        responses = _responses_from_frame(data, q)
        label = "<DataFrame>"
    else:
        responses = read_responses(data, q, sheet=options.sheet, header_row=options.header_row)
        label = str(data)
    screened = screen(responses, q, rules=options.screen)
    fiml = options.missing == "fiml"
    if fiml:
        # every screened row has at least one answer (the no_answers rule always runs)
        complete, dropped = screened.items, ()
    else:
        complete, dropped = listwise_deletion(screened.items, q.construct_items)
    n_items = complete.shape[1]
    npar, model = free_parameters(q)
    needed = max(npar, n_items + 1)
    if len(complete) < needed:
        rows = ("respondent rows remain" if fiml else "complete respondent rows remain")
        raise InputError(
            f"{len(complete)} {rows} of the file's "
            f"{responses.n_rows} ({len(screened.excluded)} excluded by screening, "
            f"{len(dropped)} with unanswered items), but {model} has {npar} free parameters "
            f"for {n_items} items: expected at least {needed} "
            f"{'' if fiml else 'complete '}rows, and 5 to 10 per "
            f"free parameter ({5 * npar} or more) for stable estimates; `sem-kit validate` "
            "lists every excluded row"
            + ("; --missing fiml analyses the rows with unanswered items too" if dropped
               else ""),
            file=label,
        )
    _check_constant_items(complete, responses, label)
    warnings = list(q.warnings) + list(responses.warnings) + list(screened.warnings)
    if dropped:
        warnings.append(f"listwise deletion dropped {len(dropped)} of {screened.n_kept} "
                        "screened rows with unanswered items (each is listed with the "
                        "excluded rows)")
    if fiml:
        incomplete = int(complete.isna().any(axis=1).sum())
        warnings.append(f"--missing fiml: all {len(complete)} screened rows are analysed, "
                        f"{incomplete} of them with unanswered items (full-information ML "
                        "uses every answer given)")
    with _naming(label):
        measurement = measurement_model(q, complete, missing=screened.items, seed=options.seed,
                                        estimator=options.estimator,
                                        missing_method=options.missing)
    warnings += measurement.warnings
    structural = None
    if q.hypotheses:
        from sem_kit.structural.stage import structural_model

        bar = (lambda done: progress(done, options.bootstrap)) if progress else None
        with _naming(label):
            structural = structural_model(q, complete, bootstrap=options.bootstrap,
                                          seed=options.seed, jobs=options.jobs, progress=bar,
                                          estimator=options.estimator,
                                          missing=options.missing)
        warnings += structural.warnings
    groups = None
    if options.group is not None:
        from sem_kit.postestimation.invariance import group_comparison

        grouped, note = _grouped_data(q, responses, complete, options.group, options.lang,
                                      label)
        warnings += note
        hypotheses = {(h.source, h.target): hid for hid, h in q.hypotheses.items()}
        with _naming(label):
            groups = group_comparison(q.measurement_syntax(),
                                      q.model_syntax() if q.hypotheses else None, grouped,
                                      options.group, group_partial=options.group_partial,
                                      hypotheses=hypotheses)
        warnings += groups.warnings
    return AnalysisResult(
        questionnaire=q, options=options, screening=screened, listwise=dropped, data=complete,
        measurement=measurement, structural=structural, input_label=label,
        warnings=tuple(dict.fromkeys(warnings)), groups=groups,
    )


def _check_single_items(q: Questionnaire, options: Options) -> None:
    """Refuse a questionnaire of single items only, and WLSMV with a single-item construct.

    With every construct measured by one item there is no measurement model to assess
    (alpha, CR, AVE, HTMT undefined; an EFA with one factor per item). lavaan does not
    identify a construct with one ordinal indicator under WLSMV
    (:func:`sem_kit.estimators.wlsmv.single_ordinal_indicators`); ML and MLR take the
    item as the construct measured without error (``auto.fix.single``).
    """
    single = [c for c, items in q.construct_items.items() if len(items) == 1]
    if single and len(single) == len(q.construct_items):
        raise InputError(
            f"constructs: every construct has a single item ({', '.join(single)}), so there "
            "is no measurement model to assess (reliability, EFA, CFA and discriminant "
            "validity need constructs of two or more items); give at least one construct "
            "two or more items", file=q.origin)
    if options.estimator != "WLSMV" or not single:
        return
    listed = ", ".join(f"{c} (item {q.construct_items[c][0]})" for c in single)
    raise InputError(
        f"--estimator WLSMV: single-item construct(s) {listed}: with one ordinal item a "
        "construct is not identified under WLSMV (the item's latent-response variance is "
        "fixed at 1 and cannot be split into the construct's variance and a residual; lavaan "
        "cannot compute its standard errors either). Use --estimator ML (or MLR), which fixes "
        "the item's residual variance at 0, or give the construct more items", file=q.origin)


def _grouped_data(q: Questionnaire, responses: Responses, complete: pd.DataFrame, column: str,
                  lang: str, label: str) -> tuple[pd.DataFrame, list[str]]:
    """The analysed items with the ``--group`` column, codes turned into their labels.

    Codes are numbers or texts (``Pasteur``), each labelled once in ``lang`` by the
    questionnaire's ``values`` (a code without a label keeps its own spelling). The
    column is a demographic of the questionnaire (or a meta column) read from
    the file; rows without a value are left out of the group comparison (with a
    warning), as lavaan drops them.
    """
    if column in responses.demographics.columns:
        values = responses.demographics[column]
    elif column in responses.meta.columns:
        values = responses.meta[column]
    else:
        found = list(responses.demographics.columns)
        raise InputError(
            f"--group {column}: no such demographic column was read from the data; "
            + ("expected one of " + ", ".join(found) if found else
               "the questionnaire declares no demographic found in the file")
            + " (demographics are declared under 'demographics:' in the questionnaire)",
            file=label)
    if column in complete.columns:
        raise InputError(f"--group {column}: the name is also an item id; rename the "
                         "demographic", file=label)
    demo = q.model.demographics.get(column)

    def name(value: object) -> object:
        if value is None or (isinstance(value, float) and value != value):
            return None
        label = demo.label(value, lang) if demo is not None else None
        if label:
            return label
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    analysed = values.loc[complete.index]
    distinct = pd.unique(analysed.to_numpy(dtype=object))
    groups = analysed.map({v: name(v) for v in distinct if v is not None and v == v})
    notes = []
    missing = int(groups.isna().sum())
    if missing:
        notes.append(f"--group {column}: {missing} analysed row(s) have no {column} and are "
                     "left out of the group comparison")
    return complete.assign(**{column: groups}), notes
