"""Which column holds which item: by id, by ``columns:``, by code, or by the item's wording.

:func:`match_columns` maps every item of a questionnaire to one column of a
table, trying in turn:

1. ``id`` / ``columns``: the header equals the item's ``columns:`` alias or
   its id (aliases first, so an alias naming another item's id wins);
2. ``code``: a platform's code for "item *k* of question *Q*", with *Q* the
   construct's id: LimeSurvey's ``WIL[SQ001]`` (also ``WIL[1]``, or the item
   id in the brackets, ``WIL[WIL1]``) and ``WIL_1`` / ``WIL.1`` / ``WIL-1``;
   the *k*-th such column is the construct's *k*-th item;
3. ``wording``: the item's own text (en or zh) stands in the header, in the
   question text of a second or third header row (Qualtrics, SurveyMonkey)
   or in an SPSS variable label. Texts are compared after folding
   full-width forms (NFKC) and case, and dropping whitespace, punctuation
   and symbols, so question numbers (``6、``), brackets and a matrix
   question's title around the statement do not matter. When an item's text
   lies inside another item's (``I trust the company`` and ``I trust the
   company's staff``), a column is the longer one's.

An item whose wording stands in two columns, or that only resembles a
column's text (a truncated or edited statement), is an error that lists
the candidates: a wrong guess would go unnoticed in the results.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sem_kit.questionnaire import Questionnaire

MIN_WORDING = 4
"""Shortest folded wording (characters) searched for in headers; shorter texts
(``Age``) would be found inside unrelated headers."""

PARTIAL_RATIO = 0.8
"""A column whose text resembles an item's wording this closely (difflib ratio),
without holding it, is listed as a candidate in the error."""

_CODE = re.compile(r"^(?P<q>[A-Za-z][A-Za-z0-9]*?)(?:\[(?P<sq>[^\]]+)\]|[_.\-](?P<k>\d+))$")
TIMING_PREFIXES: tuple[str, ...] = ("question time:", "group time:")
"""LimeSurvey's timing columns (``Question time: gender``), never a demographic's."""

_QUESTION_NUMBER = re.compile(r"^(?:q)?\d+")
_SQ_NUMBER = re.compile(r"^(?:SQ)?0*(\d+)$", re.IGNORECASE)


def fold_wording(text: str) -> str:
    """Text as compared with headers: NFKC, case-folded, only letters and digits kept."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")


@dataclass(frozen=True)
class ColumnMatch:
    """The column chosen for one item and how.

    Attributes
    ----------
    item:
        The item id.
    column:
        The table's column name.
    how:
        ``id``, ``columns``, ``code`` or ``wording``.
    text:
        The header or label text in which the wording (or code) was found.
    """

    item: str
    column: str
    how: str
    text: str = ""


@dataclass(frozen=True)
class Unmatched:
    """Why an item has no column: nothing like it, or the candidates that stopped a guess."""

    item: str
    problem: str  # "missing" | "ambiguous" | "partial" | "code"
    candidates: tuple[str, ...] = ()
    detail: str = ""


def match_columns(
    headers: Sequence[str],
    labels: Mapping[str, str],
    q: Questionnaire,
) -> tuple[dict[str, ColumnMatch], list[Unmatched]]:
    """Map the questionnaire's items to the table's columns.

    Parameters
    ----------
    headers:
        The table's column names, in file order.
    labels:
        Column name -> question text (extra header rows, SPSS variable labels).
    q:
        The questionnaire: item ids, ``columns:`` aliases, wording.

    Returns
    -------
    (matches, unmatched)
        ``matches``: item id -> :class:`ColumnMatch`, for the items found;
        ``unmatched``: one :class:`Unmatched` per item left, in questionnaire order.
    """
    found: dict[str, ColumnMatch] = {}
    taken: set[str] = set()
    _by_name(headers, q, found, taken)
    problems: dict[str, Unmatched] = {}
    if len(found) < len(q.items):
        _by_code(headers, q, found, taken, problems)
    if len(found) < len(q.items):
        _by_wording(headers, labels, q, found, taken, problems)
    unmatched = [problems.get(i, Unmatched(i, "missing")) for i in q.items if i not in found]
    return {i: found[i] for i in q.items if i in found}, unmatched


def _by_name(headers: Sequence[str], q: Questionnaire, found: dict[str, ColumnMatch],
             taken: set[str]) -> None:
    present = set(headers)
    for iid in q.items:  # aliases first: an alias naming another item's id wins that column
        alias = q.column_for(iid).replace("\ufeff", "").strip()
        if alias != iid and alias in present:
            found[iid] = ColumnMatch(iid, alias, "columns", alias)
            taken.add(alias)
    for iid in q.items:
        if iid not in found and iid in present and iid not in taken:
            found[iid] = ColumnMatch(iid, iid, "id", iid)
            taken.add(iid)


def _by_code(headers: Sequence[str], q: Questionnaire, found: dict[str, ColumnMatch],
             taken: set[str], problems: dict[str, Unmatched]) -> None:
    """LimeSurvey's ``WIL[SQ001]``; ``WIL_1`` only for a construct none of whose items
    was found by name (``A_3`` beside columns ``A1`` and ``A2`` is a typo, not a code)."""
    groups: dict[str, list[tuple[str, str | None, int | None]]] = {}
    for header in headers:
        match = _CODE.match(header)
        if match and header not in taken:
            k = match.group("k")
            groups.setdefault(match.group("q").casefold(), []).append(
                (header, match.group("sq"), int(k) if k else None))
    for cid in q.first_order:
        order = list(q.constructs[cid].items)
        columns = groups.get(cid.casefold())
        if not columns or all(i in found for i in order):
            continue
        bracketed = all(sq is not None for _, sq, _ in columns)
        if not bracketed and any(i in found for i in order):
            continue
        placed = _place_codes(columns, order)
        if placed is None:
            listed = tuple(c for c, _, _ in columns)
            for iid in order:
                if iid not in found:
                    problems[iid] = Unmatched(
                        iid, "code", listed,
                        f"{len(columns)} column(s) code question {cid}, which has "
                        f"{len(order)} items")
            continue
        for iid, header in placed.items():
            if iid not in found:
                found[iid] = ColumnMatch(iid, header, "code", header)
                taken.add(header)


def _place_codes(columns: list[tuple[str, str | None, int | None]],
                 order: list[str]) -> dict[str, str] | None:
    """Item id -> column for one construct's coded columns, or ``None`` if they do not fit:
    by the item id in the brackets, else by the code's number, else (as many columns as
    items) by position in the file."""
    by_id = {sq: header for header, sq, _ in columns if sq in order}
    if len(by_id) == len(columns):
        return {iid: by_id[iid] for iid in order if iid in by_id}
    numbers = [k if k is not None else _sq_number(sq) for _, sq, k in columns]
    if None not in numbers and len(set(numbers)) == len(numbers) \
            and all(1 <= n <= len(order) for n in numbers):  # type: ignore[operator]
        return {order[n - 1]: header  # type: ignore[index]
                for n, (header, _, _) in zip(numbers, columns, strict=True)}
    if len(columns) != len(order):
        return None
    return dict(zip(order, (h for h, _, _ in columns), strict=True))


def _sq_number(sq: str | None) -> int | None:
    match = _SQ_NUMBER.match(sq or "")
    return int(match.group(1)) if match else None


def _wordings(q: Questionnaire, iid: str) -> list[str]:
    item = q.items[iid]
    texts = [fold_wording(t) for t in (item.en, item.zh) if t]
    return [t for t in dict.fromkeys(texts) if len(t) >= MIN_WORDING]


def _by_wording(headers: Sequence[str], labels: Mapping[str, str], q: Questionnaire,
                found: dict[str, ColumnMatch], taken: set[str],
                problems: dict[str, Unmatched]) -> None:
    free = [h for h in headers if h not in taken]
    texts = {h: [t for t in dict.fromkeys((h, labels.get(h) or "")) if t] for h in free}
    folded = {h: [fold_wording(t) for t in ts] for h, ts in texts.items()}
    wanted = {i: _wordings(q, i) for i in q.items if i not in found}
    # Which items' wording each column holds; keep the longest (most specific) ones.
    holders: dict[str, dict[str, str]] = {}
    for iid, words in wanted.items():
        for header in free:
            hit = next((w for w in words for f in folded[header] if w in f), None)
            if hit is not None:
                holders.setdefault(header, {})[iid] = hit
    for header, items in holders.items():
        kept = {i: w for i, w in items.items()
                if not any(w != o and w in o for o in items.values())}
        holders[header] = kept
    for iid, words in wanted.items():
        columns = [h for h in free if iid in holders.get(h, {})]
        if len(columns) == 1 and len(holders[columns[0]]) == 1:
            header = columns[0]
            text = next(t for t, f in zip(texts[header], folded[header], strict=True)
                        if holders[header][iid] in f)
            found[iid] = ColumnMatch(iid, header, "wording", text)
        elif columns:
            problems[iid] = Unmatched(iid, "ambiguous", tuple(columns))
        elif words:
            close = _resembling(words, free, folded, holders)
            if close:
                problems[iid] = Unmatched(iid, "partial", tuple(close))
    for match in found.values():
        taken.add(match.column)


def _resembling(words: list[str], free: list[str], folded: Mapping[str, list[str]],
                holders: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Free columns whose text resembles the wording (or is a long piece of it)."""
    scored = []
    for header in free:
        if holders.get(header):
            continue
        best = 0.0
        for w in words:
            for f in folded[header]:
                if len(f) >= 10 and f in w and len(f) >= 0.5 * len(w):
                    best = max(best, 1.0)
                matcher = difflib.SequenceMatcher(None, w, f[-len(w) - 5:], autojunk=False)
                if matcher.real_quick_ratio() >= PARTIAL_RATIO \
                        and matcher.quick_ratio() >= PARTIAL_RATIO:
                    best = max(best, matcher.ratio())
        if best >= PARTIAL_RATIO:
            scored.append((best, header))
    return [h for _, h in sorted(scored, key=lambda s: -s[0])[:3]]


def demographic_column(
    headers: Sequence[str], labels: Mapping[str, str], q: Questionnaire, did: str,
    taken: set[str],
) -> tuple[str | None, tuple[str, ...]]:
    """The column of demographic ``did``: its ``columns:`` alias or id, else the one column
    whose header (or question text) holds the demographic's name (en as a whole word, or
    zh), e.g. ``1、您的性别：`` for ``性别``.

    Returns
    -------
    (column, candidates)
        ``column`` is ``None`` when no single column fits; ``candidates`` then lists the
        columns that hold the name (several), for the warning.
    """
    alias = q.column_for(did).replace("\ufeff", "").strip()
    for name in dict.fromkeys((alias, did)):
        if name in headers and name not in taken:
            return name, ()
    demo = q.model.demographics[did]
    names = [n for n in (demo.name.en, demo.name.zh) if n]
    hits = []
    for header in headers:
        if header in taken or header.casefold().startswith(TIMING_PREFIXES):
            continue
        texts = [header, labels.get(header) or ""]
        if any(_holds_name(t, n) for t in texts if t for n in names):
            hits.append(header)
    if len(hits) > 1:  # e.g. "Gender:" and LimeSurvey's timing "Question time: gender"
        leading = [h for h in hits
                   if any(_QUESTION_NUMBER.sub("", fold_wording(h)).startswith(fold_wording(n))
                          for n in names)]
        hits = leading if len(leading) == 1 else hits
    if len(hits) == 1:
        return hits[0], ()
    return None, tuple(hits)


def _holds_name(text: str, name: str) -> bool:
    text = unicodedata.normalize("NFKC", text).casefold()
    name = unicodedata.normalize("NFKC", name).casefold().strip()
    if not name:
        return False
    if re.search(r"[\u4e00-\u9fff]", name):
        return fold_wording(name) in fold_wording(text)
    return re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text) is not None
