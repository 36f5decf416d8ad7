"""Where the header is, and what the rows above and below it are: survey platforms' layouts.

A survey platform's download is not always one header row over one row per
respondent. :func:`locate_header` finds, in the records of a file (its rows
as lists of cells, before anything is coerced):

- the header row: row 1, the row given by ``--header-row N``, or, when the
  first rows hold a title (one filled cell, or a few, over a wider row), the
  first row as wide as the table;
- Qualtrics' extra header rows: row 2 holds each question's text and row 3
  ``{"ImportId":"QID6_1"}`` (the "legacy" two-row export has only the text
  row, recognised by ``Start Date`` under ``StartDate``);
- SurveyMonkey's second header row: row 1 names each question once, over
  the first of its columns (``Respondent ID``, ``Collector ID``, ..., a
  matrix title), and row 2 each column's statement or ``Response``.

The result says which rows are header rows, each column's name and, when
the layout has one, its question text (``labels``) and the title of the
matrix question it belongs to (``titles``); the column matcher
(:mod:`sem_kit.io.columns`) looks for an item's wording there.

Sources of the layouts: tests/data/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sem_kit.errors import DataError

HEADER_SCAN_ROWS = 20
"""How many leading rows are searched for a header row below a title."""

TITLE_CELLS = 2
"""Most filled cells a title row above the header has."""

QUALTRICS_COLUMNS: frozenset[str] = frozenset(
    {"startdate", "enddate", "responseid", "recordeddate", "duration (in seconds)",
     "distributionchannel", "userlanguage", "ipaddress", "finished"}
)
SURVEYMONKEY_COLUMNS: frozenset[str] = frozenset(
    {"respondent id", "collector id", "start date", "end date", "ip address"}
)
SURVEYMONKEY_SUBHEADERS: frozenset[str] = frozenset({"response", "open-ended response"})
"""What SurveyMonkey's second header row says under a single-answer question."""


@dataclass(frozen=True)
class Header:
    """Where the header is and what it says.

    Attributes
    ----------
    row:
        The header row (1-based, as the file numbers rows).
    first_data_row:
        The first row below the header rows (1-based).
    names:
        One raw header cell per column (empty where the header cell is empty).
    labels:
        Column position -> question text from an extra header row.
    titles:
        Column position -> the matrix question's title the column belongs to.
    questions:
        Column position -> the position of the first column of its question, where a
        layout marks it (SurveyMonkey's title stands over a question's first column
        only, so matrices with the same title stay apart).
    layout:
        ``plain``, ``qualtrics``, ``qualtrics-legacy`` or ``surveymonkey``.
    notes:
        What was recognised, for the report's warnings (the title row, the
        extra header rows).
    """

    row: int
    first_data_row: int
    names: list[Any]
    labels: dict[int, str] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)
    layout: str = "plain"
    notes: tuple[str, ...] = ()
    questions: dict[int, int] = field(default_factory=dict)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any) -> str:
    if _empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\ufeff", "").strip()


def _filled(record: Sequence[Any]) -> int:
    return sum(not _empty(v) for v in record)


def _shown(record: Sequence[Any], limit: int = 4) -> str:
    cells = [_text(v) for v in record if not _empty(v)]
    if not cells:
        return "nothing (an empty row)"
    listed = ", ".join(repr(c if len(c) <= 40 else c[:37] + "...") for c in cells[:limit])
    return listed + (f", ... ({len(cells)} filled cells)" if len(cells) > limit else "")


def locate_header(
    records: Sequence[Sequence[Any]], header_row: int | None = None, *, where: str = "",
    file: Any = None,
) -> Header:
    """Find the header row and the extra header rows of a platform's download.

    Parameters
    ----------
    records:
        The file's rows, as lists of raw cells, row 1 first.
    header_row:
        The header row as the user gave it (``--header-row N``, 1-based);
        ``None`` finds it.
    where:
        ``"sheet 'Data': "`` or ``""``, to prefix messages.
    file:
        The file, for :class:`~sem_kit.errors.DataError`.

    Returns
    -------
    Header

    Raises
    ------
    DataError
        ``header_row`` is beyond the file or names an empty row; no row has
        column names.
    """
    notes: list[str] = []
    if header_row is not None:
        if header_row < 1:
            raise DataError(f"--header-row {header_row}: expected a row number from 1", file=file)
        if header_row > len(records):
            raise DataError(f"{where}--header-row {header_row}: the file has only "
                            f"{len(records)} rows", file=file)
        if _filled(records[header_row - 1]) == 0:
            raise DataError(f"{where}--header-row {header_row}: row {header_row} is empty; "
                            "expected the row of column names", file=file)
        start = header_row - 1
        if header_row > 1:
            notes.append(f"{where}header read from row {header_row} (--header-row); rows "
                         f"1-{header_row - 1} are not data")
    else:
        start = _guess_header(records)
        if start > 0:
            notes.append(f"{where}header found in row {start + 1}; row(s) above it "
                         f"({_shown(records[0], 2)}) are a title, not data")
    names = list(records[start])
    below = records[start + 1:start + 3]
    header = _qualtrics(names, below, start, notes, where) or _surveymonkey(
        names, below, start, notes, where)
    if header is not None:
        return header
    return Header(row=start + 1, first_data_row=start + 2, names=names, notes=tuple(notes))


def _guess_header(records: Sequence[Sequence[Any]]) -> int:
    """The first of the leading rows as wide as the table: row 1 unless titles sit above it
    (a title row has one or two filled cells, over a table at least four times as wide)."""
    scan = records[:HEADER_SCAN_ROWS]
    widths = [_filled(r) for r in scan]
    if not widths or widths[0] > TITLE_CELLS or widths[0] * 4 > max(widths):
        return 0
    widest = max(widths)
    for i, width in enumerate(widths):
        if width >= 2 and width * 2 >= widest and _mostly_text(scan[i]):
            return i
    return 0


def _mostly_text(record: Sequence[Any]) -> bool:
    cells = [v for v in record if not _empty(v)]
    text = sum(isinstance(v, str) and not _is_number(v) for v in cells)
    return text * 2 >= len(cells)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _folded(names: Sequence[Any]) -> set[str]:
    return {_text(n).casefold() for n in names}


def _qualtrics(names: list[Any], below: Sequence[Sequence[Any]], start: int,
               notes: list[str], where: str) -> Header | None:
    import_ids = len(below) > 1 and any(_import_id(v) for v in below[1])
    known = len(_folded(names) & QUALTRICS_COLUMNS)
    legacy = not import_ids and known >= 2 and len(below) > 0 \
        and _legacy_text_row(names, below[0])
    if not import_ids and not legacy:
        return None
    text_row = below[0]
    labels = {j: _text(v) for j, v in enumerate(text_row) if j < len(names) and not _empty(v)}
    extra = 2 if import_ids else 1
    rows = f"rows {start + 2}-{start + 3}" if import_ids else f"row {start + 2}"
    notes.append(f"{where}Qualtrics download: {rows} under the header hold the question text"
                 + (" and the import ids" if import_ids else "") + ", not answers")
    return Header(row=start + 1, first_data_row=start + 2 + extra, names=names, labels=labels,
                  layout="qualtrics" if import_ids else "qualtrics-legacy", notes=tuple(notes))


def _import_id(value: Any) -> bool:
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return False
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "ImportId" in parsed


def _legacy_text_row(names: Sequence[Any], row: Sequence[Any]) -> bool:
    for j, name in enumerate(names):
        if _text(name).casefold() == "startdate" and j < len(row):
            return _text(row[j]).casefold() == "start date"
    return False


def _surveymonkey(names: list[Any], below: Sequence[Sequence[Any]], start: int,
                  notes: list[str], where: str) -> Header | None:
    if len(_folded(names) & SURVEYMONKEY_COLUMNS) < 2 or not len(below):
        return None
    sub = list(below[0]) + [None] * max(0, len(names) - len(below[0]))
    first = next(j for j, n in enumerate(names) if _text(n).casefold() in SURVEYMONKEY_COLUMNS)
    if not _empty(sub[first]):
        return None  # row 2 already holds a respondent: a one-row export
    merged: list[Any] = []
    labels: dict[int, str] = {}
    titles: dict[int, str] = {}
    questions: dict[int, int] = {}
    title, opening = "", 0
    for j, name in enumerate(names):
        top, under = _text(name), _text(sub[j])
        if top:
            title, opening = top, j
        questions[j] = opening
        if under and under.casefold() not in SURVEYMONKEY_SUBHEADERS:
            merged.append(under)
            if title:
                titles[j] = title
                labels[j] = f"{title} {under}"
        else:
            merged.append(top or title)
    notes.append(f"{where}SurveyMonkey download: row {start + 2} under the header holds each "
                 "column's statement (the question's title stands once, over its first column)")
    return Header(row=start + 1, first_data_row=start + 3, names=merged, labels=labels,
                  titles=titles, layout="surveymonkey", notes=tuple(notes), questions=questions)
