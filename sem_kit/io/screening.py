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
    rows = raw.index.to_numpy()
    answers = raw.to_numpy(dtype=float)
    excluded: list[Exclusion] = []
    kept = np.ones(len(rows), dtype=bool)
    for code, hits, detail in _row_rules(responses, settings, rules, answers):
        hit = np.flatnonzero(kept & hits)
        excluded += [Exclusion(int(rows[i]), code, detail(i)) for i in hit]
        kept[hit] = False
    warnings: list[str] = []
    if rules == "default" and "id" in meta:
        ids = meta["id"].reindex(raw.index).to_numpy(dtype=object)
        _drop_duplicate_ids(ids, rows, kept, excluded)
    if rules == "default" and settings.duplicate_answers:
        _drop_duplicate_answers(answers, rows, kept, excluded, warnings)

    index = pd.Index(rows[kept], name=raw.index.name)
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


RowRule = tuple[str, np.ndarray, Callable[[int], str]]
"""A per-row rule: (reason code, which rows it hits, row position -> detail)."""


def _row_rules(responses: Responses, settings: Screening, rules: str,
               answers: np.ndarray) -> list[RowRule]:
    """The per-row rules in order, each evaluated on every row (``answers``: raw items)."""
    raw = responses.raw_items
    n_items = answers.shape[1]
    answered = np.count_nonzero(~np.isnan(answers), axis=1)
    checks: list[RowRule] = [
        ("blank", raw.index.isin(list(responses.blank_rows)), lambda i: "every cell is empty"),
        ("no_answers", answered == 0, lambda i: f"no item answered (0 of {n_items})"),
    ]
    if rules != "default":
        return checks
    meta = responses.meta
    if settings.min_duration is not None and "duration" in meta:
        limit = float(settings.min_duration)
        seconds = meta["duration"].reindex(raw.index).to_numpy(dtype=float)
        checks.append(("too_fast", ~np.isnan(seconds) & (seconds < limit), lambda i: (
            f"duration {_num(seconds[i])} s < min {_num(limit)} s")))

    missing = n_items - answered
    if n_items:
        too_many = missing / n_items > settings.max_missing
    else:
        too_many = np.zeros(len(answers), dtype=bool)

    def too_many_missing(i: int) -> str:
        count = int(missing[i])
        return (f"{count} of {n_items} answers missing ({_pct(count / n_items)}) "
                f"> max share {_pct(settings.max_missing)}")

    checks.append(("too_many_missing", too_many, too_many_missing))
    if settings.straightlining:
        checks.append(("straight_lining", _same_answer(answers, answered), lambda i: (
            f"same answer {_num(answers[i][~np.isnan(answers[i])][0])} "
            f"to all {int(answered[i])} answered items")))
    return checks


def _same_answer(answers: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """Rows with at least :data:`MIN_STRAIGHTLINE_ITEMS` answers, all of them equal."""
    if not answers.shape[1]:
        return np.zeros(len(answers), dtype=bool)
    lowest = np.fmin.reduce(answers, axis=1)  # fmin and fmax skip NaN
    highest = np.fmax.reduce(answers, axis=1)
    return (answered >= MIN_STRAIGHTLINE_ITEMS) & (lowest == highest)


def _first_equal(keys: np.ndarray) -> np.ndarray:
    """For each integer key, the position of its first occurrence."""
    return np.unique(keys, return_index=True)[1][keys]


def _drop_duplicate_ids(ids: np.ndarray, rows: np.ndarray, kept: np.ndarray,
                        excluded: list[Exclusion]) -> None:
    """Keep the first kept row of each respondent id (rows without an id are kept)."""
    where = np.flatnonzero(kept)
    values = ids[where]
    null = pd.isna(values)
    odd = [i for i in np.flatnonzero(null)
           if not (values[i] is None or (isinstance(values[i], float) and np.isnan(values[i])))]
    if odd:  # pd.NA, NaT and the like are ids here, each equal to itself only
        null[odd] = False
    with_id = np.flatnonzero(~null)
    if odd:
        seen: dict[Any, int] = {}
        codes = np.array([seen.setdefault(v, len(seen)) for v in values[with_id]], dtype=np.intp)
    else:
        codes = pd.factorize(values[with_id])[0]
    first = with_id[_first_equal(codes)]
    repeated = first != with_id
    for i, j in zip(with_id[repeated], first[repeated], strict=True):
        excluded.append(Exclusion(
            int(rows[where[i]]), "duplicate_id",
            f"same respondent id {values[i]!r} as row {rows[where[j]]}"))
    kept[where[with_id[repeated]]] = False


def _drop_duplicate_answers(answers: np.ndarray, rows: np.ndarray, kept: np.ndarray,
                            excluded: list[Exclusion], warnings: list[str]) -> None:
    """Keep the first kept row of rows with identical answers to every item (unanswered
    ones included); warn when there are few items."""
    n_items = answers.shape[1]
    where = np.flatnonzero(kept)
    first = _first_identical_row(answers, where)
    hits = 0
    for i in np.flatnonzero(first != np.arange(len(where))):
        excluded.append(Exclusion(
            int(rows[where[i]]), "duplicate_answers",
            f"answers to all {n_items} items identical to row {rows[where[first[i]]]}"))
        kept[where[i]] = False
        hits += 1
    if hits and n_items < FEW_ITEMS_FOR_DUPLICATES:
        warnings.append(
            f"duplicate_answers excluded {hits} row(s), but with only {n_items} items "
            "identical answers can happen by chance; set `screening: {duplicate_answers: "
            "false}` in the questionnaire to keep them"
        )


def _first_identical_row(answers: np.ndarray, where: np.ndarray) -> np.ndarray:
    """For each of the rows ``where``, the position (in ``where``) of the first of them
    with the same answers, NaN equal to NaN.

    Rows are compared by the bits of their answers (``-0.0`` as ``0.0``, every
    NaN as one NaN): first through a hash of each row, then byte by byte among
    the rows whose hash is shared.
    """
    position = np.arange(len(where))
    if not len(where) or not answers.shape[1]:
        return np.zeros(len(where), dtype=np.intp)
    bits = answers[where]  # a copy
    bits += 0.0
    bits[np.isnan(bits)] = np.nan
    bits = bits.view(np.uint64)
    hashes = pd.util.hash_pandas_object(pd.DataFrame(bits, copy=False), index=False).to_numpy()
    codes = pd.factorize(hashes)[0]
    first = _first_equal(codes)
    shared = np.flatnonzero(np.isin(codes, codes[first != position]))
    if len(shared):
        keys = np.array([row.tobytes() for row in bits[shared]], dtype=object)
        first[shared] = shared[_first_equal(pd.factorize(keys)[0])]
    return first


def _num(value: float) -> str:
    """A number without a needless ``.0``."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _pct(share: float) -> str:
    """A share as a percentage, ``0.2`` -> ``20%``, ``1/3`` -> ``33.3%``."""
    return f"{round(share * 100, 1):g}%"
