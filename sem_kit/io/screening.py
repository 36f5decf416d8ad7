"""Screen survey responses: drop blank, empty, careless and duplicate rows, and log why.

:func:`screen` applies the rules below in this fixed order. Each rule looks
only at the rows that passed the rules before it, and a row is excluded for
the first rule that hits it, so every input row is either kept or excluded
exactly once: ``n_kept + len(excluded) == responses.n_rows``.

1. ``blank`` - every cell of the row is empty.
2. ``no_answers`` - no item is answered (other columns may be filled).
3. ``too_fast`` - the response time (``screening.duration_column``, seconds)
   is below ``screening.min_duration``. Rows without a time are kept.
4. ``too_many_missing`` - the share of unanswered items exceeds
   ``screening.max_missing`` (default 0.2).
5. ``straight_lining`` - (``screening.straightlining``, default on) every
   answered item has the same raw answer and at least
   :data:`MIN_STRAIGHTLINE_ITEMS` items are answered. Raw answers (before
   reverse-coding) are compared, since a straight-liner ticks the same box
   everywhere.
6. ``duplicate_id`` - the respondent id (``screening.id_column``) equals that
   of an earlier kept row; the first one is kept. Rows without an id are kept.
7. ``duplicate_answers`` - (``screening.duplicate_answers``, default on) the
   raw answers to every item, unanswered ones included, equal those of an
   earlier kept row; the first one is kept.

Per-respondent rules (3-5) come before the duplicate rules (6-7) so that,
when someone submitted twice, a careless first attempt does not cost the
valid second one. ``rules="none"`` keeps only rules 1 and 2; missing answers
are then left to the analysis (``--missing``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sem_kit.errors import InputError
from sem_kit.io.ingest import Responses
from sem_kit.questionnaire import Questionnaire
from sem_kit.questionnaire.schema import Screening

REASONS: dict[str, str] = {
    "blank": "blank row",
    "no_answers": "no item answered",
    "too_fast": "response time below the minimum",
    "too_many_missing": "too many unanswered items",
    "straight_lining": "same answer to every item",
    "duplicate_id": "respondent id seen in an earlier row",
    "duplicate_answers": "answers identical to an earlier row",
}
"""Reason codes in the order the rules are applied, with a short description."""

RULE_SETS: tuple[str, ...] = ("default", "none")
"""Values of ``rules``: ``default`` applies the questionnaire's screening
settings; ``none`` keeps only the ``blank`` and ``no_answers`` rules."""

MIN_STRAIGHTLINE_ITEMS = 5
"""Fewest answered items for identical answers to count as straight-lining:
with fewer, the same answer everywhere is too likely to be genuine."""

FEW_ITEMS_FOR_DUPLICATES = 10
"""With fewer items than this, identical answer patterns can arise by chance;
:func:`screen` warns when ``duplicate_answers`` then excludes rows."""


@dataclass(frozen=True)
class Exclusion:
    """One excluded row and why.

    Attributes
    ----------
    row:
        Row number in the file (header = row 1).
    reason:
        Machine-friendly code, one of :data:`REASONS`.
    detail:
        A sentence for people, e.g. ``duration 35 s < min 60 s``.
    """

    row: int
    reason: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """``{"row": int, "reason": str, "detail": str}`` for results.json and tables."""
        return {"row": self.row, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """The rows kept for analysis and the log of rows excluded.

    Attributes
    ----------
    items:
        Kept rows' item scores (reverse-coded, float, NaN where unanswered;
        listwise deletion or FIML happens later), indexed by file row.
    raw_items:
        The same before reverse-coding.
    demographics:
        Kept rows' demographics.
    meta:
        Kept rows' ``id`` / ``duration`` columns (those present).
    excluded:
        One :class:`Exclusion` per dropped row, sorted by row.
    responses:
        The responses screened (path, sha256 and row count for provenance).
    rules:
        ``default`` or ``none``.
    warnings:
        Notes about the screening itself (e.g. chance duplicates).
    """

    items: pd.DataFrame
    raw_items: pd.DataFrame
    demographics: pd.DataFrame
    meta: pd.DataFrame
    excluded: tuple[Exclusion, ...]
    responses: Responses
    rules: str = "default"
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_input(self) -> int:
        """Data rows in the file, blank rows included."""
        return self.responses.n_rows

    @property
    def n_kept(self) -> int:
        """Rows kept for analysis."""
        return len(self.items)

    @property
    def kept_rows(self) -> tuple[int, ...]:
        """File row numbers of the kept rows."""
        return tuple(int(r) for r in self.items.index)

    def summary(self) -> dict[str, int]:
        """Rows excluded per reason code: each code of :data:`REASONS` in rule order, 0 if none."""
        counts = Counter(e.reason for e in self.excluded)
        return {code: counts.get(code, 0) for code in REASONS}


def screen(
    responses: Responses, questionnaire: Questionnaire, rules: str = "default"
) -> ScreeningResult:
    """Apply the screening rules and return the kept rows with the exclusion log.

    Parameters
    ----------
    responses:
        From :func:`sem_kit.io.ingest.read_responses`.
    questionnaire:
        Its ``screening`` settings (``id_column``, ``duration_column``,
        ``min_duration``, ``straightlining``, ``max_missing``,
        ``duplicate_answers``) configure the rules.
    rules:
        ``"default"`` applies them in the order of the module docstring;
        ``"none"`` keeps only the ``blank`` and ``no_answers`` rules.

    Returns
    -------
    ScreeningResult
        ``n_kept + len(excluded) == responses.n_rows``; ``summary()`` counts
        exclusions per reason.

    Raises
    ------
    InputError
        ``rules`` is neither ``default`` nor ``none``.
    """
    if rules not in RULE_SETS:
        raise InputError(f"--screen: expected one of {', '.join(RULE_SETS)}, found {rules!r}")
    settings = questionnaire.model.screening
    raw = responses.raw_items
    meta = responses.meta
    excluded: list[Exclusion] = []
    candidates = _apply_row_checks(_row_checks(responses, settings, rules),
                                   [int(r) for r in raw.index], excluded)
    warnings: list[str] = []
    if rules == "default" and "id" in meta:
        candidates = _drop_duplicate_ids(meta, candidates, excluded)
    if rules == "default" and settings.duplicate_answers:
        candidates = _drop_duplicate_answers(raw, candidates, excluded, warnings)

    index = pd.Index(candidates, name=raw.index.name)
    return ScreeningResult(
        items=responses.items.loc[index],
        raw_items=raw.loc[index],
        demographics=responses.demographics.loc[index],
        meta=meta.loc[index],
        excluded=tuple(sorted(excluded, key=lambda e: e.row)),
        responses=responses,
        rules=rules,
        warnings=tuple(warnings),
    )


RowCheck = Callable[[int], str | None]


def _row_checks(responses: Responses, settings: Screening,
                rules: str) -> list[tuple[str, RowCheck]]:
    """The per-row rules in order, each as (reason code, row -> detail or None)."""
    raw = responses.raw_items
    meta = responses.meta
    n_items = raw.shape[1]
    answered = raw.notna().sum(axis=1)
    blank = set(responses.blank_rows)

    checks: list[tuple[str, RowCheck]] = [
        ("blank", lambda row: "every cell is empty" if row in blank else None),
        ("no_answers", lambda row: (
            f"no item answered (0 of {n_items})" if answered[row] == 0 else None)),
    ]
    if rules != "default":
        return checks
    if settings.min_duration is not None and "duration" in meta:
        limit = float(settings.min_duration)

        def too_fast(row: int) -> str | None:
            seconds = meta.at[row, "duration"]
            if pd.notna(seconds) and seconds < limit:
                return f"duration {_num(seconds)} s < min {_num(limit)} s"
            return None

        checks.append(("too_fast", too_fast))

    def too_many_missing(row: int) -> str | None:
        missing = n_items - int(answered[row])
        if n_items and missing / n_items > settings.max_missing:
            return (f"{missing} of {n_items} answers missing ({_pct(missing / n_items)}) "
                    f"> max share {_pct(settings.max_missing)}")
        return None

    checks.append(("too_many_missing", too_many_missing))
    if settings.straightlining:

        def straight_lining(row: int) -> str | None:
            values = raw.loc[row].dropna().unique()
            count = int(answered[row])
            if count >= MIN_STRAIGHTLINE_ITEMS and len(values) == 1:
                return f"same answer {_num(values[0])} to all {count} answered items"
            return None

        checks.append(("straight_lining", straight_lining))
    return checks


def _apply_row_checks(checks: list[tuple[str, RowCheck]], candidates: list[int],
                      excluded: list[Exclusion]) -> list[int]:
    """Apply each rule to the rows the earlier rules kept; log the rows it drops."""
    for code, check in checks:
        survivors = []
        for row in candidates:
            detail = check(row)
            if detail is None:
                survivors.append(row)
            else:
                excluded.append(Exclusion(row, code, detail))
        candidates = survivors
    return candidates


def _drop_duplicate_ids(meta: pd.DataFrame, candidates: list[int],
                        excluded: list[Exclusion]) -> list[int]:
    """Keep the first row of each respondent id (rows without an id are kept)."""
    seen_id: dict[str, int] = {}
    survivors = []
    for row in candidates:
        rid = meta.at[row, "id"]
        if rid is None or (isinstance(rid, float) and np.isnan(rid)):
            survivors.append(row)
        elif rid in seen_id:
            excluded.append(Exclusion(
                row, "duplicate_id", f"same respondent id {rid!r} as row {seen_id[rid]}"))
        else:
            seen_id[rid] = row
            survivors.append(row)
    return survivors


def _drop_duplicate_answers(raw: pd.DataFrame, candidates: list[int],
                            excluded: list[Exclusion], warnings: list[str]) -> list[int]:
    """Keep the first of rows with identical answers to every item; warn with few items."""
    n_items = raw.shape[1]
    seen_answers: dict[tuple, int] = {}
    survivors = []
    hits = 0
    for row in candidates:
        key = tuple(None if pd.isna(v) else float(v) for v in raw.loc[row])
        if key in seen_answers:
            excluded.append(Exclusion(
                row, "duplicate_answers",
                f"answers to all {n_items} items identical to row {seen_answers[key]}"))
            hits += 1
        else:
            seen_answers[key] = row
            survivors.append(row)
    if hits and n_items < FEW_ITEMS_FOR_DUPLICATES:
        warnings.append(
            f"duplicate_answers excluded {hits} row(s), but with only {n_items} items "
            "identical answers can happen by chance; set `screening: {duplicate_answers: "
            "false}` in the questionnaire to keep them"
        )
    return survivors


def _num(value: float) -> str:
    """A number without a needless ``.0``."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _pct(share: float) -> str:
    """A share as a percentage, ``0.2`` -> ``20%``, ``1/3`` -> ``33.3%``."""
    return f"{round(share * 100, 1):g}%"
