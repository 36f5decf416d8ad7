"""One run: read -> screen -> listwise deletion -> measurement -> structural.

:func:`analyze` is what ``sem-kit analyze`` and ``sem_kit.analyze`` call. It
does no printing and writes no file (``AnalysisResult.save`` and the CLI do).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sem_kit.errors import InputError
from sem_kit.ingest import read_responses
from sem_kit.measurement import MeasurementResult, measurement_model
from sem_kit.questionnaire import Questionnaire, load_questionnaire
from sem_kit.screening import Exclusion, ScreeningResult, screen

if TYPE_CHECKING:  # pragma: no cover
    from sem_kit.structural import StructuralResult

LISTWISE = "listwise"
"""Reason code of a row dropped by listwise deletion (some item unanswered)."""

ESTIMATORS = ("ML", "MLR", "MLM", "WLSMV")
MISSING = ("listwise", "fiml")
SUPPORTED_ESTIMATORS = ("ML",)
SUPPORTED_MISSING = ("listwise",)


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
    screen: str = "default"
    sheet: str | None = None

    def check(self) -> None:
        """Raise :class:`InputError` for a value outside its range or not built yet."""
        if self.bootstrap < 0:
            raise InputError(f"--bootstrap: expected 0 or more resamples, found {self.bootstrap}")
        if self.jobs == 0 or self.jobs < -1:
            raise InputError(f"--jobs: expected a positive number or -1 (all cores), found "
                             f"{self.jobs}")
        if self.lang not in ("en", "zh"):
            raise InputError(f"--lang: expected en or zh, found {self.lang!r}")
        if self.estimator not in ESTIMATORS:
            raise InputError(f"--estimator: expected one of {', '.join(ESTIMATORS)}, found "
                             f"{self.estimator!r}")
        if self.missing not in MISSING:
            raise InputError(f"--missing: expected listwise or fiml, found {self.missing!r}")
        if self.estimator not in SUPPORTED_ESTIMATORS:
            raise InputError(f"--estimator {self.estimator}: not available in this version of "
                             "sem-kit yet; ML is")
        if self.missing not in SUPPORTED_MISSING:
            raise InputError(f"--missing {self.missing}: not available in this version of "
                             "sem-kit yet; listwise is")
        if self.group is not None:
            raise InputError("--group: multi-group analysis is not available in this version of "
                             "sem-kit yet")


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Everything one run produced; ``to_dict()`` is results.json.

    Attributes
    ----------
    questionnaire, options:
        What was run, with the seed actually used in ``options.seed``.
    screening:
        The screening result (kept rows, exclusion log, provenance).
    listwise:
        Rows dropped by listwise deletion (some item unanswered).
    data:
        The analysed item data: complete, reverse-coded, indexed by file row.
    measurement:
        :class:`~sem_kit.measurement.MeasurementResult`.
    structural:
        :class:`~sem_kit.structural.StructuralResult`, or ``None`` when the
        questionnaire has no hypotheses.
    input_label:
        The data file as given (``<DataFrame>`` for in-memory data).
    warnings:
        Every warning of every stage, in order.
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
        from sem_kit import __version__

        responses = self.screening.responses
        return {
            "tool_version": __version__,
            "questionnaire": self.questionnaire.name,
            "input": {"path": self.input_label, "sha256": responses.sha256,
                      "rows": int(responses.n_rows)},
            "n_analyzed": self.n_analyzed,
            "excluded": [e.as_dict() for e in self.excluded],
            "estimator": self.options.estimator,
            "missing": self.options.missing,
            "bootstrap": int(self.options.bootstrap) if self.structural is not None else 0,
            "seed": self.options.seed,
            "warnings": list(self.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        """results.json as DESIGN.md fixes it (plain numbers, ``None`` where undefined)."""
        out: dict[str, Any] = {"meta": self.meta()}
        out.update(self.measurement.to_dict())
        if self.structural is not None:
            out["sem"] = self.structural.to_dict()
        return out

    def save(self, outdir: str | Path) -> Path:
        """Write report.html, results.json, tables.xlsx, tables.docx, tables/*.csv, figures/."""
        from sem_kit.report import write_outputs

        return write_outputs(self, Path(outdir))


def listwise_deletion(items: pd.DataFrame) -> tuple[pd.DataFrame, tuple[Exclusion, ...]]:
    """Drop rows with any unanswered item; log each with the items it missed."""
    missing = items.isna()
    dropped = []
    for row in items.index[missing.any(axis=1)]:
        cols = list(items.columns[missing.loc[row]])
        shown = ", ".join(cols[:6]) + (f" and {len(cols) - 6} more" if len(cols) > 6 else "")
        dropped.append(Exclusion(int(row), LISTWISE,
                                 f"{len(cols)} unanswered item(s): {shown} (listwise deletion)"))
    return items.loc[~missing.any(axis=1)], tuple(dropped)


def _responses_from_frame(frame: pd.DataFrame, q: Questionnaire):
    """Read an in-memory table through the same checks as a file (via a temporary CSV)."""
    with tempfile.TemporaryDirectory(prefix="sem_kit_") as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False, encoding="utf-8")
        return read_responses(path, q)


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
        (``bootstrap=2000, seed=1``).
    progress:
        Called as ``progress(done, total)`` during the bootstrap.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    InputError
        Bad data, questionnaire or options; the message names file, column,
        row and value.
    """
    options = options or Options(**kwargs)
    if options.seed is None:
        options = Options(**{**options.__dict__, "seed": secrets.randbelow(2**31 - 1) + 1})
    options.check()
    q = questionnaire if isinstance(questionnaire, Questionnaire) else load_questionnaire(
        questionnaire)
    if isinstance(data, pd.DataFrame):
        responses = _responses_from_frame(data, q)
        label = "<DataFrame>"
    else:
        responses = read_responses(data, q, sheet=options.sheet)
        label = str(data)
    screened = screen(responses, q, rules=options.screen)
    complete, dropped = listwise_deletion(screened.items)
    n_items = complete.shape[1]
    if len(complete) <= n_items:
        raise InputError(
            f"{len(complete)} complete respondent rows remain after screening and listwise "
            f"deletion ({len(screened.excluded)} excluded by screening, {len(dropped)} with "
            f"unanswered items), but the model has {n_items} items: at least {n_items + 1} "
            "complete rows are needed, and several hundred for stable estimates",
            file=label,
        )
    warnings = list(q.warnings) + list(responses.warnings) + list(screened.warnings)
    if dropped:
        warnings.append(f"listwise deletion dropped {len(dropped)} of {screened.n_kept} "
                        "screened rows with unanswered items (each is listed with the "
                        "excluded rows)")
    measurement = measurement_model(q, complete, missing=screened.items, seed=options.seed)
    warnings += measurement.warnings
    structural = None
    if q.hypotheses:
        from sem_kit.structural import structural_model

        bar = (lambda done: progress(done, options.bootstrap)) if progress else None
        structural = structural_model(q, complete, bootstrap=options.bootstrap,
                                      seed=options.seed, jobs=options.jobs, progress=bar)
        warnings += structural.warnings
    return AnalysisResult(
        questionnaire=q, options=options, screening=screened, listwise=dropped, data=complete,
        measurement=measurement, structural=structural, input_label=label,
        warnings=tuple(dict.fromkeys(warnings)),
    )
