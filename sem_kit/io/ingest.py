"""Read survey responses (CSV, XLSX, SPSS .sav) and turn them into item scores.

Two steps, each a plain function:

- :func:`read_table` reads a file into a table of raw values, nothing coerced;
- :func:`read_responses` maps its columns onto a questionnaire's items,
  converts answers to numbers, checks them against each item's scale and
  reverse-codes the reverse-keyed items.

Row numbers
-----------
Every frame is indexed by ``row``: the row number as the user finds it in
their file, counting the header as row 1, so the first respondent is row 2.
This is the spreadsheet row in Excel or WPS, and the record number (header
included) in a CSV file; a quoted answer that spans several lines still
counts as one row. In an SPSS ``.sav`` file, which has no header row, case
*k* (as numbered in SPSS's Data View) is row *k* + 1, so row numbers mean
the same thing whatever the format. Every error message and every exclusion
uses this number.

Blank rows between respondents are kept (and counted: screening logs them);
blank rows after the last non-blank row are not rows of the table (Excel
files often carry formatted but empty rows at the end, and CSV files end
with empty lines).

Every problem is a :class:`~sem_kit.errors.DataError` whose message names the
file, and where it applies the column, the rows, the value found and what
was expected.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sem_kit.errors import DataError
from sem_kit.io.columns import (
    ColumnMatch,
    Unmatched,
    demographic_column,
    fold_wording,
    match_columns,
)
from sem_kit.io.labels import answer_code, series_labels
from sem_kit.io.layouts import Header, locate_header
from sem_kit.questionnaire import Questionnaire, Scale

MISSING_CODES: frozenset[str] = frozenset(
    {
        "",
        "na",
        "n/a",
        "nan",
        "null",
        "none",
        "#n/a",
        "-",
        "--",
        ".",
        "(跳过)",
        "（跳过）",
        "跳过",
        "(空)",
        "（空）",
    }
)
"""Text answers that mean "no answer", compared after stripping whitespace and
case-folding: an empty cell, ``NA``, ``N/A``, ``NaN``, ``null``, ``None``,
``#N/A`` (Excel), ``-`` and ``--``, ``.`` (SPSS's system-missing in text
exports), and Wenjuanxing's ``(跳过)`` (skipped by the survey logic) and
``(空)`` (left empty), in half- and full-width brackets. They become NaN."""

TEXT_EXTENSIONS: tuple[str, ...] = (".csv", ".tsv")
EXCEL_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xlsm")
SPSS_EXTENSIONS: tuple[str, ...] = (".sav", ".zsav")
DELIMITERS: tuple[str, ...] = (",", ";", "\t")
"""Delimiters tried in a text file; the one that splits the header into the
most columns, consistently with the rows below it, wins."""

_ROW = "row"
_SNIFF_RECORDS = 50
_MAX_LISTED = 5
_DURATION_UNITS = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*(?:小时|时|h)\s*)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:分钟|分|min|m)\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:秒钟|秒|seconds|second|secs|sec|s)?\s*)?$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)\s*$")

ID_COLUMNS: tuple[str, ...] = ("序号", "ResponseId", "Respondent ID", "Response ID", "id",
                               "respondent_id", "编号", "答卷编号", "答卷序号", "Record ID",
                               "Participant ID")
"""Respondent-id columns of the platforms, tried in this order (the first found wins;
names compared by their letters and digits, case-folded:
:func:`sem_kit.io.columns.fold_wording`) when the questionnaire's
``screening.id_column`` is not in the file: Wenjuanxing ``序号``, Qualtrics
``ResponseId``, SurveyMonkey ``Respondent ID``, LimeSurvey ``id`` (``Response
ID`` in its full-text download), sem_kit's own ``respondent_id``, and the
编号 / 答卷编号 / 答卷序号, ``Record ID`` and ``Participant ID`` of other
exports. ``sem-kit init`` drafts ``screening.id_column`` from the same list."""

DURATION_COLUMNS: tuple[str, ...] = ("所用时间", "Duration (in seconds)", "interviewtime",
                                     "Total time", "duration_sec", "答题时长", "作答时长",
                                     "填写时长", "Duration", "duration_seconds", "Time taken")
"""Response-time columns of the platforms, tried in this order (the first found
wins; names compared as :data:`ID_COLUMNS` are) when the questionnaire's
``screening.duration_column`` is not in the file: Wenjuanxing ``所用时间``
(``"135秒"``), Qualtrics ``Duration (in seconds)``, LimeSurvey ``interviewtime``
(``Total time`` in its full-text download), sem_kit's own ``duration_sec``, and
the 答题时长 / 作答时长 / 填写时长, ``Duration`` and ``Time taken`` of other
exports. Without any, the time is end minus start (:data:`START_END_COLUMNS`).
Google Forms records no response time. ``sem-kit init`` drafts the screening
from the same lists."""

WJX_SKIP_CODES: tuple[float, ...] = (-2.0, -3.0)
"""Wenjuanxing's codes in a numbers (按选项序号) download for a question with no answer:
skipped by the survey's logic (跳过 in its text download) or not shown. Which of the two
stands for which is not documented publicly (tests/data/README.md); both are read as
unanswered."""

_PLATFORM_MARKS: tuple[tuple[str, frozenset[str]], ...] = (
    ("wenjuanxing", frozenset({"提交答卷时间", "所用时间", "来源详情", "来自ip"})),
    ("qualtrics", frozenset({"responseid", "duration (in seconds)", "recordeddate",
                             "distributionchannel"})),
    ("surveymonkey", frozenset({"respondent id", "collector id"})),
    ("limesurvey", frozenset({"submitdate", "lastpage", "startlanguage", "interviewtime",
                              "date submitted", "last page", "start language"})),
    ("google-forms", frozenset({"timestamp", "时间戳记", "时间戳"})),
)


@dataclass(frozen=True, eq=False)
class Responses:
    """Survey responses read from one file and mapped onto a questionnaire.

    Every frame is indexed by ``row``, the row number in the file with the
    header as row 1 (see the module docstring), and holds every row of the
    file, blank rows included; screening decides what to drop.

    Attributes
    ----------
    path:
        The file, as given.
    sha256:
        SHA-256 of the file's bytes (hex), for the report's provenance.
    n_rows:
        Data rows in the file (header excluded, blank rows included).
    items:
        One float column per item id, in questionnaire order; NaN where there
        is no answer; reverse-keyed items already recoded as ``min + max - x``.
    raw_items:
        The same answers before reverse-coding.
    demographics:
        One column per demographic id found in the file: numeric codes where
        the answer is a number or one of the demographic's value labels, the
        text otherwise, NaN where missing.
    meta:
        ``id`` (respondent id as text) and ``duration`` (seconds, float) when
        the questionnaire's ``screening.id_column`` / ``duration_column`` are
        in the file.
    blank_rows:
        Rows whose every cell is empty.
    warnings:
        What was read but deserves a look (ignored sheets, screening columns
        not found, unknown demographic codes).
    format:
        ``csv``, ``xlsx`` or ``sav``.
    sheet:
        The worksheet read (XLSX only).
    encoding:
        The text encoding detected (text files only).
    delimiter:
        The delimiter detected (text files only).
    item_columns:
        Item id -> the header of the column it was read from.
    column_matches:
        Item id -> how its column was found: ``id``, ``columns``, ``code`` or
        ``wording`` (:func:`sem_kit.io.columns.match_columns`).
    column_labels:
        Column -> the question text in which an item's wording was found
        (columns found by code or wording).
    header_row:
        The row of the file that holds the column names (1-based).
    layout:
        The platform recognised: ``wenjuanxing``, ``qualtrics``,
        ``surveymonkey``, ``limesurvey``, ``google-forms`` or ``plain``.
    notices:
        What was found and chosen without being told (the sheet, the header
        row, columns matched by wording or code, the platform's time and id
        columns), for the console; the report holds the same facts.
    """

    path: str
    sha256: str
    n_rows: int
    items: pd.DataFrame
    raw_items: pd.DataFrame
    demographics: pd.DataFrame
    meta: pd.DataFrame
    blank_rows: tuple[int, ...]
    warnings: tuple[str, ...] = ()
    format: str = "csv"
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    item_columns: dict[str, str] = field(default_factory=dict)
    column_matches: dict[str, str] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    header_row: int = 1
    layout: str = "plain"
    notices: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# reading a table
# ---------------------------------------------------------------------------
def read_table(
    path: str | Path, sheet: str | None = None, header_row: int | None = None
) -> pd.DataFrame:
    """Read a CSV, XLSX or SPSS ``.sav`` file into a table of raw values.

    Parameters
    ----------
    path:
        The file. The extension picks the reader: ``.csv`` / ``.tsv``
        (delimited text), ``.xlsx`` / ``.xlsm`` (Excel), ``.sav`` / ``.zsav``
        (SPSS). The file is only read, never changed.
    sheet:
        The worksheet of an Excel file. ``None`` reads the first one (and, if
        there are others, records a warning naming them). Ignored, with a
        warning, for other formats.
    header_row:
        The row holding the column names (1-based). ``None`` finds it: row
        1, or the first row as wide as the table below a title; Qualtrics'
        and SurveyMonkey's extra header rows are recognised either way
        (:mod:`sem_kit.io.layouts`).

    Returns
    -------
    pandas.DataFrame
        Columns named by the header row (whitespace and a byte-order mark
        stripped), ``dtype=object``, indexed by ``row`` (the file's row
        number: with the header in row 1 the first data row is 2; SPSS case
        *k* = row *k* + 1). Values are raw: strings from a text file, the
        cell values (``str``, ``int``, ``float``, ``datetime``, ``None``)
        from Excel, numbers and strings from SPSS (user-missing values
        already NaN). ``DataFrame.attrs`` holds ``format``, ``sheet``,
        ``encoding``, ``delimiter``, ``header_row``, ``layout``, ``labels``
        (column -> question text from an extra header row or an SPSS
        variable label), ``titles`` (column -> matrix title), ``duplicates``
        (a header given to several columns -> their internal names) and
        ``warnings`` (a list of strings).

    Raises
    ------
    DataError
        The file is missing, a directory, empty, has a header but no data
        rows, is not a table (binary or malformed), has an unknown
        extension, or names a sheet the workbook lacks.

    Notes
    -----
    Text encodings are detected: UTF-16 with a byte-order mark, then UTF-8
    (with or without a BOM), then GB18030 (a superset of GBK and GB2312, the
    encoding of Chinese Excel's "CSV" export). A header given to several
    columns is kept under distinct internal names and refused only when an
    item is read from it (:func:`read_responses`).
    """
    path = Path(path)
    return next(iter(_read_sheets(path, _read_bytes(path), sheet, header_row, all_sheets=False)))


def _read_sheets(
    path: Path, data: bytes, sheet: str | None, header_row: int | None, *, all_sheets: bool
) -> Iterable[pd.DataFrame]:
    """The table of each sheet to consider: the one asked for, the first, or (``all_sheets``)
    every sheet of a workbook with several; one table for other formats. ``data`` is the
    file's bytes, read once by the caller."""
    ext = path.suffix.lower()
    warnings: list[str] = []
    if ext in TEXT_EXTENSIONS:
        if sheet is not None:
            warnings.append(f"{path}: sheet {sheet!r} ignored: a text file has no sheets")
        records, attrs = _parse_text(data, path, ext)
        yield _build_table(path, records, attrs, warnings, header_row)
    elif ext in EXCEL_EXTENSIONS:
        for records, attrs, notes in _parse_xlsx(data, path, sheet, all_sheets):
            yield _build_table(path, records, attrs, warnings + notes, header_row)
    elif ext in SPSS_EXTENSIONS:
        if sheet is not None:
            warnings.append(f"{path}: sheet {sheet!r} ignored: an SPSS file has no sheets")
        if header_row is not None:
            warnings.append(f"{path}: --header-row ignored: an SPSS file has no header row")
        records, attrs = _parse_sav(path)
        yield _build_table(path, records, attrs, warnings, None)
    else:
        raise DataError(_unknown_extension(ext, data), file=path)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError("no such file; expected a responses file (.csv, .xlsx or .sav) at this "
                        "path", file=path)
    if path.is_dir():
        raise DataError("is a directory, expected a data file (.csv, .xlsx or .sav)", file=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror or exc}", file=path) from None
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise DataError("is empty; expected a header row and one row per respondent", file=path)
    return data


def _unknown_extension(ext: str, data: bytes) -> str:
    known = ", ".join(TEXT_EXTENSIONS + EXCEL_EXTENSIONS + SPSS_EXTENSIONS)
    shown = repr(ext) if ext else "no extension"
    if ext == ".xls":
        return (f"unknown extension '.xls' (the old Excel format is not read); save it as .xlsx "
                f"or CSV in Excel; expected one of {known}")
    hint = _looks_like(data)
    return f"unknown extension {shown}; expected one of {known}" + (f" ({hint})" if hint else "")


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
"""Leading bytes of common files that are not tables, with what they are."""

_ZIP_KINDS: tuple[tuple[str, str], ...] = (
    ("xl/", "an Excel .xlsx workbook"),
    ("word/", "a Word .docx document, not a table"),
    ("ppt/", "a PowerPoint .pptx presentation, not a table"),
)


def _looks_like(data: bytes) -> str:
    """A hint about what a file really is, from its first bytes (and a zip's contents)."""
    if data.startswith(b"PK\x03\x04"):
        kind = "a zip archive, not a table"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            names = []
        for prefix, what in _ZIP_KINDS:
            if any(name.startswith(prefix) for name in names):
                kind = what
                break
        else:
            if not names:
                kind = "an Excel .xlsx workbook or another zip archive"
        return f"its content looks like {kind}"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return ("its content looks like an old Excel .xls workbook (or another old Office "
                "file); save it as .xlsx or CSV")
    if data.startswith(b"$FL2") or data.startswith(b"$FL3"):
        return "its content looks like an SPSS .sav file"
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return f"its content looks like {what}, not a table"
    return ""


def _build_table(
    path: Path,
    grid: np.ndarray,
    attrs: dict[str, Any],
    warnings: list[str],
    header_row: int | None,
) -> pd.DataFrame:
    """The table below the header of ``grid`` (the file's cells, one row per record)."""
    where = f"sheet {attrs['sheet']!r}: " if attrs.get("sheet") else ""
    if attrs.get("format") == "sav":
        header = Header(row=1, first_data_row=2, names=list(grid[0]),
                        labels=attrs.pop("sav_labels", {}))
    else:
        header = locate_header(grid, header_row, where=where, file=path)
    names = [_clean_header(h) for h in header.names]
    widths = attrs.pop("record_widths", None)
    if widths is not None and header.layout == "plain":  # a text header as long as it is
        names = names[:widths[header.row - 1]]
    width = len(names)
    body = grid[header.first_data_row - 1:]
    if body.shape[1] > width:
        _check_overflow(body[:, width:], width, header, attrs, path)
        body = body[:, :width]
    # Columns with no header and no value (trailing delimiters) are not columns.
    keep = [j for j, name in enumerate(names) if name or not _empty_cells(body[:, j]).all()]
    if not any(names[j] for j in keep):
        raise DataError(
            f"{where}row {header.row} (the header row) is empty; expected column names in "
            "the first row", file=path,
        )
    unique, duplicates = _unique_names(names, keep)
    body = body[:, keep]
    end = len(body)
    while end and _empty_cells(body[end - 1]).all():
        end -= 1
    if not end:
        raise DataError(
            f"{where}has a header row" + (f" (row {header.row})" if header.row > 1 else "")
            + " but no data rows; expected one row per respondent below it", file=path,
        )
    first = header.first_data_row
    index = pd.Index(range(first, end + first), name=_ROW)
    table = pd.DataFrame(body[:end], columns=unique, index=index, dtype=object)
    table.attrs.update(attrs)
    table.attrs.update(
        header_row=header.row,
        layout=header.layout,
        labels={unique[k]: header.labels[j] for k, j in enumerate(keep) if j in header.labels},
        titles={unique[k]: header.titles[j] for k, j in enumerate(keep) if j in header.titles},
        questions={unique[k]: header.questions[j] + 1 for k, j in enumerate(keep)
                   if j in header.questions},
        duplicates=duplicates,
        warnings=list(warnings) + [f"{path}: {note}" for note in header.notes],
    )
    return table



def _check_overflow(extra: np.ndarray, width: int, header: Header, attrs: dict[str, Any],
                    path: Path) -> None:
    """A text row with more values than the header has the wrong delimiter or quotes."""
    filled = ~_empty_cells(extra)
    rows = np.flatnonzero(filled.any(axis=1))
    if attrs.get("format") != "csv" or not len(rows):
        return
    i = int(rows[0])
    count = width + int(np.flatnonzero(filled[i])[-1]) + 1
    shown = {",": "','", ";": "';'", "\t": "tab"}[attrs["delimiter"]]
    raise DataError(
        f"row {header.first_data_row + i} has {count} values but the header (row "
        f"{header.row}) has {width} columns; check the delimiter ({shown} detected) and "
        "quotes", file=path,
    )


def _grid(records: Sequence[Sequence[Any]]) -> np.ndarray:
    """Records of unequal length as one 2-D object array, short rows padded with ``None``."""
    width = max((len(r) for r in records), default=0)
    grid = np.full((len(records), width), None, dtype=object)
    for i, rec in enumerate(records):
        if rec:
            grid[i, :len(rec)] = rec
    return grid


def _unique_names(names: list[str], keep: list[int]) -> tuple[list[str], dict[str, list[str]]]:
    """Column names made unique: a header given to several columns keeps its name on the
    first and gets its column's position on the others; the repeated ones are returned."""
    positions: dict[str, list[int]] = {}
    for j in keep:
        positions.setdefault(names[j] or f"(unnamed column {_column_label(j)})", []).append(j)
    unique: list[str] = []
    duplicates: dict[str, list[str]] = {}
    for j in keep:
        name = names[j] or f"(unnamed column {_column_label(j)})"
        where = positions[name]
        if len(where) == 1:
            unique.append(name)
            continue
        internal = f"{name} (column {_column_label(j)})"
        duplicates.setdefault(name, []).append(internal)
        unique.append(internal)
    return unique, duplicates


def _empty_cells(values: np.ndarray) -> np.ndarray:
    """``_is_empty`` of every cell of an object array (any shape), as a boolean array."""
    cells = np.asarray(values, dtype=object)
    codes, firsts = _cell_codes(cells.ravel())
    empty = np.fromiter((_is_empty(v) for v in firsts), dtype=bool, count=len(firsts))
    return empty[codes].reshape(cells.shape)


_SAME_WHEN_EQUAL: tuple[type, ...] = (str, int, bool, np.integer, np.bool_)
"""Cell types whose equal values behave the same in every conversion (and print the same)."""


def _cell_codes(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Number the distinct cells of a 1-D object array, for converting each value once.

    Returns ``(codes, firsts)``: cells share a code when they have the same type
    and value (floats: the same bits), and ``firsts[code]`` is the first cell
    with that code. ``pandas.factorize`` alone would merge ``1``, ``1.0`` and
    ``True`` (equal in Python) and every kind of NaN, so it is trusted as is
    only when every cell is a string, and otherwise applied type by type.
    """
    try:
        codes, uniques = pd.factorize(values)
    except TypeError:  # an unhashable cell
        codes, uniques = None, None
    if codes is not None and not (codes < 0).any() and all(type(u) is str for u in uniques):
        return codes, list(uniques)
    kinds, types = pd.factorize(np.fromiter(map(type, values), dtype=object, count=len(values)))
    codes = np.empty(len(values), dtype=np.intp)
    firsts: list[Any] = []
    for k, kind in enumerate(types):
        where = np.flatnonzero(kinds == k)
        sub = values[where]
        if issubclass(kind, float | np.floating):
            sub_codes = pd.factorize(sub.astype(np.float64).view(np.int64))[0]
        elif kind is type(None):
            sub_codes = np.zeros(len(sub), dtype=np.intp)
        elif issubclass(kind, _SAME_WHEN_EQUAL):
            sub_codes = pd.factorize(sub)[0]
        else:  # dates, times and anything else: one code per cell
            sub_codes = np.arange(len(sub))
        first = np.unique(sub_codes, return_index=True)[1]
        codes[where] = sub_codes + len(firsts)
        firsts.extend(sub[first].tolist())
    return codes, firsts


def _cell_texts(values: np.ndarray) -> np.ndarray:
    """:func:`_show` of every cell of a 1-D object array (each distinct cell shown once)."""
    codes, firsts = _cell_codes(values)
    return _shown(firsts)[codes]


def _shown(values: Sequence[Any]) -> np.ndarray:
    """:func:`_show` of each value, as an object array."""
    return np.fromiter((_show(v) for v in values), dtype=object, count=len(values))


def _cells_by_text(rows: np.ndarray, texts: np.ndarray) -> dict[str, list[int]]:
    """Rows grouped by the text of their cell: the texts in the order first seen in
    ``rows`` (ascending), each with its rows in that order."""
    if not len(texts):
        return {}
    codes, uniques = pd.factorize(texts)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(uniques)))[:-1]
    groups = np.split(np.asarray(rows)[order], bounds)
    return {str(text): [int(r) for r in group]
            for text, group in zip(uniques, groups, strict=True)}


def _column_label(j: int) -> str:
    """1-based column number with its spreadsheet letter: ``3 (C)``."""
    letters, k = "", j + 1
    while k:
        k, rem = divmod(k - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{j + 1} ({letters})"


def _clean_header(value: Any) -> str:
    if _is_empty(value):
        return ""
    return _as_text(value).replace("\ufeff", "").strip()


def _as_text(value: Any) -> str:
    """A cell as text; whole floats lose their ``.0`` (Excel shows ``1001``, not ``1001.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return value is pd.NA or value is pd.NaT


# -- delimited text ---------------------------------------------------------
def _decode(data: bytes, path: Path) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise DataError("is not a table: invalid UTF-16 text", file=path) from None
    hint = _looks_like(data)
    if b"\x00" in data or hint:
        if hint and "not a table" not in hint:
            hint += "; give it the matching extension"
        raise DataError(
            "is not a table: it holds binary data, not delimited text"
            + (f" ({hint})" if hint else ""), file=path,
        )
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise DataError(
            f"is not a table: byte {exc.start} is neither UTF-8 nor GBK/GB18030 text; "
            "save the file as CSV (UTF-8)", file=path,
        ) from None


def _sniff_delimiter(text: str, ext: str) -> str:
    best: tuple[float, int, int] | None = None
    chosen = "\t" if ext == ".tsv" else ","
    for rank, delim in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(text), delimiter=delim)
        records = []
        try:
            for rec in reader:
                records.append(rec)
                if len(records) > _SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = [r for r in records[1:] if any(v.strip() for v in r)]
        consistent = (sum(len(r) == width for r in body) / len(body)) if body else 1.0
        score = (consistent, width, -rank)
        if best is None or score > best:
            best, chosen = score, delim
    return chosen


def _parse_text(data: bytes, path: Path, ext: str) -> tuple[np.ndarray, dict]:
    text, encoding = _decode(data, path)
    bad = _CONTROL.search(text)
    if bad:
        raise DataError(
            f"is not a table: it holds control character {bad.group()!r}, which text tables "
            "do not", file=path,
        )
    text = text.lstrip("\ufeff")
    delimiter = _sniff_delimiter(text, ext)
    attrs = {"format": "csv", "sheet": None, "encoding": encoding, "delimiter": delimiter}
    grid = _fast_grid(text, delimiter)
    if grid is None:
        records = _csv_records(text, delimiter, path)
        grid = _grid(records)
        attrs["record_widths"] = [len(r) for r in records]
    if not any(not _is_empty(v) for row in grid for v in row):  # stops at the first cell
        raise DataError(
            "row 1 (the header row) is empty; expected column names in the first row", file=path
        )
    return grid, attrs


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
"""Control characters that text tables do not hold (tab, newlines, \\f and \\v they do)."""


def _fast_grid(text: str, delimiter: str) -> np.ndarray | None:
    """The cells by pandas' C parser, for text without quotes and with rows no longer than the
    first; ``None`` otherwise (the csv module then reads it, with its exact messages)."""
    if '"' in text:
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=object,
                            na_filter=False, skip_blank_lines=False, quoting=csv.QUOTE_NONE,
                            engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    return frame.to_numpy(dtype=object)


def _csv_records(text: str, delimiter: str, path: Path) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    try:
        for rec in reader:
            records.append(rec)
    except csv.Error as exc:
        raise DataError(
            f"is not a readable table: row {len(records) + 1} (line {reader.line_num}): {exc}; "
            "check its quotes (\")", file=path,
        ) from None
    return records


# -- Excel ------------------------------------------------------------------
def _parse_xlsx(
    data: bytes, path: Path, sheet: str | None, all_sheets: bool
) -> Iterable[tuple[np.ndarray, dict, list[str]]]:
    """Cells, attributes and notes of the sheet asked for, the first sheet, or every sheet."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        hint = _looks_like(data)
        if not hint and not data.startswith(b"PK"):
            hint = ("it is not a zip archive, as .xlsx files are; "
                    "is it a CSV file with the wrong name?")
        raise DataError(
            f"is not a readable .xlsx workbook ({type(exc).__name__})"
            + (f"; {hint}" if hint else ""), file=path,
        ) from None
    try:
        names = [ws.title for ws in book.worksheets]
        if not names:
            raise DataError("has no worksheets", file=path)
        if sheet is not None and sheet not in names:
            listed = ", ".join(repr(n) for n in names)
            raise DataError(f"has no sheet named {sheet!r}; its sheets: {listed}", file=path)
        if sheet is not None:
            chosen = [sheet]
        elif all_sheets:
            chosen = names
        else:
            chosen = names[:1]
        for name in chosen:
            notes = []
            if sheet is None and not all_sheets and len(names) > 1:
                others = ", ".join(repr(n) for n in names[1:])
                notes.append(
                    f"{path}: read the first sheet {name!r}; the workbook's other sheets "
                    f"({others}) were ignored; choose one with --sheet"
                )
            rows = book[name].iter_rows(min_row=1, min_col=1, values_only=True)
            records = _grid([list(r) for r in rows])
            if not any(not _is_empty(v) for row in records for v in row):
                if all_sheets and len(chosen) > 1:
                    continue
                raise DataError(
                    f"sheet {name!r} is empty; expected a header row and one row per "
                    "respondent", file=path,
                )
            attrs = {"format": "xlsx", "sheet": name, "sheets": names, "encoding": None,
                     "delimiter": None}
            yield records, attrs, notes
    finally:
        book.close()


# -- SPSS -------------------------------------------------------------------
def _parse_sav(path: Path) -> tuple[np.ndarray, dict]:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=False,
                                          apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and others
        hint = _looks_like(path.read_bytes()[:8])
        raise DataError(
            f"is not a readable SPSS .sav file ({exc})" + (f"; {hint}" if hint else ""),
            file=path,
        ) from None
    header = [str(c) for c in frame.columns]
    labels = {j: str(label).strip() for j, label in enumerate(meta.column_labels or [])
              if label and str(label).strip()}
    records = np.empty((len(frame) + 1, len(header)), dtype=object)
    records[0] = header
    records[1:] = frame.astype(object).to_numpy()
    attrs = {"format": "sav", "sheet": None, "encoding": None, "delimiter": None,
             "sav_labels": labels}
    return records, attrs


# ---------------------------------------------------------------------------
# responses
# ---------------------------------------------------------------------------
def read_responses(
    path: str | Path,
    questionnaire: Questionnaire,
    sheet: str | None = None,
    header_row: int | None = None,
) -> Responses:
    """Read a responses file and map it onto a questionnaire's items.

    Parameters
    ----------
    path:
        A ``.csv``, ``.xlsx`` or ``.sav`` file with a header row and one row
        per respondent (see :func:`read_table`). Never modified.
    questionnaire:
        Its items (and their ``columns`` aliases), scales, ``value_labels``,
        ``demographics`` and ``screening`` columns say what to read.
    sheet:
        The worksheet of an Excel file; ``None`` reads the sheet that holds
        the items (the first, when it is the only one), named in
        ``notices``.
    header_row:
        The header row (1-based); ``None`` finds it (see :func:`read_table`).

    Returns
    -------
    Responses
        Items as floats (NaN missing), raw and reverse-coded, demographics,
        meta (``id``, ``duration`` in seconds), blank rows and warnings; all
        indexed by the file's row number (header = row 1).

    Raises
    ------
    DataError
        For any problem of :func:`read_table`; when item columns are missing
        (close header matches are suggested); when an answer is neither a
        number, a missing code (:data:`MISSING_CODES`) nor a value label;
        when a number is off its item's scale, or not whole on an integer
        scale; when a duration is not a number of seconds.

    Notes
    -----
    A column belongs to an item when its header, stripped of whitespace and
    a byte-order mark, equals the item's ``columns`` alias or the item id;
    failing that, when it codes the item (LimeSurvey's ``WIL[SQ001]``) or
    holds the item's wording (:func:`sem_kit.io.columns.match_columns`). A
    text answer is converted by ``value_labels`` (exact, then
    case-insensitive), then by the item scale's labels (en or zh), then by
    the usual label series of a scale of its size and LimeSurvey's answer
    codes (:mod:`sem_kit.io.labels`), then as a number (``"5"``, ``"5.0"``).
    A Wenjuanxing download's ``-2`` and ``-3`` (skipped or not shown) are
    unanswered. Response time and respondent id are read from the
    questionnaire's ``screening`` columns or, when it names none in the
    file, from a platform's own (:data:`DURATION_COLUMNS`,
    :data:`ID_COLUMNS`).
    """
    path = Path(path)
    data = _read_bytes(path)
    sha256 = hashlib.sha256(data).hexdigest()
    table, notices = _choose_table(path, data, questionnaire, sheet, header_row)
    warnings = list(table.attrs.get("warnings", []))
    matches = _match_items(table, questionnaire, path)
    item_columns = {iid: m.column for iid, m in matches.items()}
    notices += _mapping_notice(matches, table)

    codes = [float(c) for c in questionnaire.model.missing_codes]
    platform = detect_platform(table)
    skipped = 0
    unreadable: list[tuple[str, str, dict[str, list[int]]]] = []
    converted: dict[str, np.ndarray] = {}
    for iid, header in item_columns.items():
        scale = questionnaire.item_scale(iid)
        values, bad = _convert_column(table[header], questionnaire, scale)
        if codes:  # declared missing-answer codes (e.g. 99, -9 of an SPSS export)
            values[np.isin(values, codes)] = np.nan
        if platform == "wenjuanxing":
            skip = np.isin(values, WJX_SKIP_CODES)
            skipped += int(skip.sum())
            values[skip] = np.nan
        converted[iid] = values
        if bad:
            unreadable.append((iid, header, bad))
    raw = pd.DataFrame(converted, index=table.index, columns=list(item_columns), dtype=float)
    if unreadable:
        raise DataError(_unreadable_message(unreadable, questionnaire), file=path)
    _check_scales(raw, item_columns, questionnaire, path, table)
    if skipped:
        warnings.append(f"{path}: Wenjuanxing download: {skipped} answer(s) coded -2 or -3 "
                        "(skipped by the survey logic or not shown) read as unanswered")

    items = raw.copy()
    for iid in questionnaire.reverse_items:
        scale = questionnaire.item_scale(iid)
        if scale is not None:
            items[iid] = scale.min + scale.max - raw[iid]

    demographics = _read_demographics(table, questionnaire, path, warnings,
                                      set(item_columns.values()), notices)
    meta = _read_meta(table, questionnaire, path, warnings, notices)
    blank = _blank_rows(table, np.flatnonzero(raw.isna().to_numpy().all(axis=1)))
    return Responses(
        path=str(path),
        sha256=sha256,
        n_rows=len(table),
        items=items,
        raw_items=raw,
        demographics=demographics,
        meta=meta,
        blank_rows=blank,
        warnings=tuple(warnings),
        format=table.attrs.get("format", "csv"),
        sheet=table.attrs.get("sheet"),
        encoding=table.attrs.get("encoding"),
        delimiter=table.attrs.get("delimiter"),
        item_columns=dict(item_columns),
        column_matches={iid: m.how for iid, m in matches.items()},
        column_labels={m.column: text for m in matches.values()
                       if m.how in ("code", "wording")
                       and (text := table.attrs.get("labels", {}).get(m.column, m.text))
                       != m.column},
        header_row=int(table.attrs.get("header_row", 1)),
        layout=platform,
        notices=tuple(notices),
    )


def _blank_rows(table: pd.DataFrame, candidates: np.ndarray) -> tuple[int, ...]:
    """The rows whose every cell is empty among ``candidates`` (positions in ``table``, e.g.
    the rows without an item answer), checked column by column on the rows still blank."""
    cells = table.to_numpy(dtype=object)
    for j in range(cells.shape[1]):
        if not len(candidates):
            break
        candidates = candidates[_empty_cells(cells[candidates, j])]
    return tuple(int(r) for r in table.index[candidates])


def _choose_table(
    path: Path, data: bytes, q: Questionnaire, sheet: str | None, header_row: int | None
) -> tuple[pd.DataFrame, list[str]]:
    """The table to read and what was chosen: the sheet holding most items, when no
    ``--sheet`` names one in a workbook of several."""
    tables = list(_read_sheets(path, data, sheet, header_row, all_sheets=sheet is None))
    notices = [n for n in tables[0].attrs.get("warnings", []) if "header" in n]
    if len(tables) == 1:
        return tables[0], notices
    scored = []
    for table in tables:
        matches, _ = match_columns([str(c) for c in table.columns],
                                   table.attrs.get("labels", {}), q)
        scored.append((len(matches), table))
    best = max(scored, key=lambda st: st[0])
    count, table = best
    if count == 0:
        table = tables[0]
    others = ", ".join(repr(str(t.attrs["sheet"])) for t in tables if t is not table)
    notices = [n for n in table.attrs.get("warnings", []) if "header" in n]
    if table is tables[0]:
        chosen = (f"{path}: read the first sheet {table.attrs['sheet']!r}; the workbook's "
                  f"other sheets ({others}) were ignored; choose one with --sheet")
    else:
        chosen = (f"{path}: read sheet {table.attrs['sheet']!r}, which holds {count} of the "
                  f"{len(q.items)} items; the workbook's other sheets ({others}) were ignored; "
                  "choose one with --sheet")
    table.attrs["warnings"] = [chosen] + list(table.attrs.get("warnings", []))
    return table, [chosen] + notices


def _match_items(table: pd.DataFrame, q: Questionnaire, path: Path) -> dict[str, ColumnMatch]:
    headers = [str(c) for c in table.columns]
    matches, unmatched = match_columns(headers, table.attrs.get("labels", {}), q)
    duplicates: dict[str, list[str]] = table.attrs.get("duplicates", {})
    used = {m.column for m in matches.values()}
    for name, internal in duplicates.items():
        alias_of = [i for i in q.items if q.column_for(i).strip() in (name,) or i == name]
        if alias_of or used & set(internal):
            listed = " and ".join(c[len(name) + len(" (column "):-1] for c in internal)
            raise DataError(
                f"column {name!r} appears {len(internal)} times in the header: columns "
                f"{listed}; rename or delete all but one", file=path,
            )
    if not unmatched:
        return matches
    if not matches:
        raise DataError(_nothing_matches(table, q), file=path)
    raise DataError(_unmatched_message(unmatched, table, q, set(used)), file=path)


def _unmatched_message(unmatched: list[Unmatched], table: pd.DataFrame, q: Questionnaire,
                       taken: set[str]) -> str:
    headers = [str(c) for c in table.columns]
    free = [h for h in headers if h not in taken]
    labels = table.attrs.get("labels", {})
    parts = []
    coded: dict[str, list[str]] = {}  # one part for the items of one mis-coded question
    for miss in unmatched:
        if miss.problem == "code":
            key = f" ({miss.detail}: {', '.join(repr(c) for c in miss.candidates)})"
            if key not in coded:
                coded[key] = []
                parts.append(key)
            coded[key].append(miss.item)
            continue
        iid = miss.item
        expected = q.column_for(iid).strip()
        label = iid if expected == iid else f"{iid} (header {expected!r})"
        if miss.problem == "ambiguous":
            label += (" (its wording stands in " + " and ".join(
                _header_text(c, labels) for c in miss.candidates) + ")")
        elif miss.problem == "partial":
            label += (" (no column holds its wording; similar: " + " or ".join(
                _header_text(c, labels) for c in miss.candidates) + ")")
        else:
            close = _close_headers(expected, iid, free)
            if close:
                label += " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
        parts.append(label)
    parts = [", ".join(coded[p]) + p if p in coded else p for p in parts]
    shown = "; ".join(parts[:15])
    if len(parts) > 15:
        shown += f"; and {len(parts) - 15} more"
    return (f"{len(unmatched)} of {len(q.items)} item columns not found: {shown}. "
            "Name each item's column by its id or give its header under `columns:` in the "
            f"questionnaire ({q.origin})") + _header_row_hint(table)


def _header_text(column: str, labels: dict[str, str]) -> str:
    label = labels.get(column)
    return repr(column) + (f" ({label!r})" if label and label != column else "")


def _close_headers(expected: str, iid: str, free: list[str]) -> list[str]:
    close = [h for h in free if h.casefold() == expected.casefold()]
    close += [c for c in difflib.get_close_matches(expected, free, n=2, cutoff=0.6)
              if c not in close][: 2 - len(close)]
    if expected != iid:
        close += [c for c in difflib.get_close_matches(iid, free, n=1, cutoff=0.6)
                  if c not in close]
    return close


def _header_row_hint(table: pd.DataFrame) -> str:
    """Which row was read as the header, when it was not row 1 or a layout was assumed."""
    row, layout = table.attrs.get("header_row", 1), table.attrs.get("layout", "plain")
    if row == 1 and layout == "plain":
        return ""
    what = {"qualtrics": " (a Qualtrics download)", "qualtrics-legacy": " (a Qualtrics download)",
            "surveymonkey": " (a SurveyMonkey download)"}.get(layout, "")
    names = [str(c) for c in table.columns]
    found = ", ".join(repr(n) for n in names[:4]) + (", ..." if len(names) > 4 else "")
    return (f". The header was read from row {row}{what}, which holds {found}; if the column "
            "names are in another row, give it with --header-row N")


def _mapping_notice(matches: dict[str, ColumnMatch], table: pd.DataFrame) -> list[str]:
    """One line per item whose column was found by code or wording, for the console."""
    lines = [f"  {m.item:<8} <- {m.column!r}" + (f"  ({m.text})" if m.text != m.column else "")
             for m in matches.values() if m.how in ("code", "wording")]
    if not lines:
        return []
    how = sorted({m.how for m in matches.values() if m.how in ("code", "wording")})
    return [f"{len(lines)} item column(s) found by {' and '.join(how)}:"] + lines


def _nothing_matches(table: pd.DataFrame, q: Questionnaire) -> str:
    """The message when no item of the questionnaire has a column in the file."""
    expected = [q.column_for(i).strip() for i in q.items]
    shown = ", ".join(repr(e) for e in expected[:8]) + (", ..." if len(expected) > 8 else "")
    headers = [str(c) for c in table.columns]
    found = ", ".join(repr(h) for h in headers[:12]) + (
        f", ... ({len(headers)} columns)" if len(headers) > 12 else "")
    msg = (f"none of the {len(expected)} item columns of questionnaire {q.name} ({q.origin}) "
           f"is in the file: expected columns {shown}; the file's columns are {found}")
    sheet, sheets = table.attrs.get("sheet"), table.attrs.get("sheets") or []
    others = [s for s in sheets if s != sheet]
    if sheet is not None:
        msg += f" (sheet {sheet!r})"
    if others:
        msg += (f". The workbook has other sheets ({', '.join(repr(s) for s in others)}): "
                "choose the one with the responses with --sheet")
    return msg + (". Is this the questionnaire of this file (-q)? Otherwise name each item's "
                  "column by its id or give its header under `columns:` in the "
                  "questionnaire") + _header_row_hint(table)


def _label_maps(q: Questionnaire, scale: Scale | None) -> tuple[dict[str, float], dict[str, float]]:
    exact = {str(k).strip(): float(v) for k, v in q.model.value_labels.items()}
    if scale is not None:
        for code, text in scale.labels.items():
            for label in (text.en, text.zh):
                if label:
                    exact.setdefault(label.strip(), float(code))
    folded: dict[str, float] = {}
    clash: set[str] = set()
    for label, value in exact.items():
        key = label.casefold()
        if key in folded and folded[key] != value:
            clash.add(key)
        folded[key] = value
    for key in clash:
        del folded[key]
    if scale is not None and scale.integer and float(scale.min).is_integer():
        points = int(scale.max - scale.min) + 1
        for label, position in series_labels(points).items():
            folded.setdefault(label, float(scale.min + position - 1))
        for position in range(1, points + 1):  # LimeSurvey's answer codes A1, AO01, A01
            for code in (f"a{position}", f"ao{position:02d}", f"a{position:02d}"):
                folded.setdefault(code, float(scale.min + position - 1))
    return exact, folded


def _to_number(value: Any, exact: dict[str, float], folded: dict[str, float]) -> float | None:
    """A cell as a float, NaN when missing, ``None`` when unreadable."""
    if isinstance(value, str):
        text = value.strip()
        key = text.casefold()
        if key in MISSING_CODES:  # the empty text included
            return np.nan
        if text in exact:
            return exact[text]
        if key in folded:
            return folded[key]
        try:
            number = float(text.replace("\u2212", "-"))
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if _is_empty(value):
        return np.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return number if math.isfinite(number) else np.nan
    return None


_NUMERIC_KINDS = frozenset({"floating", "integer", "integer-na", "mixed-integer-float"})
"""``pandas.api.types.infer_dtype`` of a column that holds numbers (and NaN) only."""


def _convert_column(
    column: pd.Series, q: Questionnaire, scale: Scale | None
) -> tuple[np.ndarray, dict[str, list[int]]]:
    """A column's answers as floats (NaN where missing) and its unreadable answers.

    Returns the values in row order and ``{answer as shown: [rows]}`` for the
    answers :func:`_to_number` cannot read (first seen first, rows ascending).
    Each distinct cell is converted once; a column of numbers is converted at once.
    """
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) in _NUMERIC_KINDS:
        numbers = values.astype(np.float64)
        numbers[~np.isfinite(numbers)] = np.nan
        return numbers, {}
    exact, folded = _label_maps(q, scale)
    codes, firsts = _cell_codes(values)
    converted = [_to_number(v, exact, folded) for v in firsts]
    unreadable = np.fromiter((c is None for c in converted), dtype=bool, count=len(converted))
    numbers = np.fromiter((np.nan if c is None else c for c in converted), dtype=np.float64,
                          count=len(converted))[codes]
    if not unreadable.any():
        return numbers, {}
    bad = np.flatnonzero(unreadable[codes])
    rows = column.index.to_numpy()[bad]
    return numbers, _cells_by_text(rows, _shown(firsts)[codes[bad]])


def _show(value: Any) -> str:
    return str(value).strip() if isinstance(value, str) else _as_text(value)


def _rows_text(rows: Sequence[int]) -> str:
    listed = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    if len(rows) == 1:
        return f"row {listed}"
    more = f", ... ({len(rows)} rows)" if len(rows) > _MAX_LISTED else f" ({len(rows)} rows)"
    return f"rows {listed}{more}"


def _scale_text(scale: Scale | None) -> str:
    if scale is None:
        return "a number"
    kind = "a whole number" if scale.integer else "a number"
    return f"{kind} from {_as_text(scale.min)} to {_as_text(scale.max)}"


def _column_text(header: str, iid: str) -> str:
    return f"column {header!r}" + ("" if header == iid else f" (item {iid})")


def _unreadable_message(
    problems: list[tuple[str, str, dict[str, list[int]]]], q: Questionnaire
) -> str:
    iid, header, bad = problems[0]
    scale = q.item_scale(iid)
    values = list(bad.items())
    value, rows = values[0]
    labels = list(_label_maps(q, scale)[0])
    expected = _scale_text(scale)
    if labels:
        shown = ", ".join(labels[:10]) + (", ..." if len(labels) > 10 else "")
        expected += f", or one of the value labels ({shown})"
    msg = (f"{_column_text(header, iid)}, {_rows_text(rows)}: answer {value!r} is not a number "
           f"or a known answer label; expected {expected}")
    if len(values) > 1:
        others = "; ".join(f"{v!r} ({_rows_text(r)})" for v, r in values[1:4])
        msg += f"; the column also holds {others}" + ("; ..." if len(values) > 4 else "")
    if len(problems) > 1:
        msg += (f". {len(problems) - 1} more column(s) hold unreadable answers: "
                + ", ".join(repr(h) for _, h, _ in problems[1:6]))
        if len(problems) > 6:
            msg += ", ..."
    msg += ". Add text answers to `value_labels:` in the questionnaire, or recode them"
    return msg


def _check_scales(
    raw: pd.DataFrame,
    item_columns: dict[str, str],
    q: Questionnaire,
    path: Path,
    table: pd.DataFrame,
) -> None:
    problems: list[str] = []
    for iid, header in item_columns.items():
        scale = q.item_scale(iid)
        if scale is None:
            continue
        col = raw[iid]
        off = col.notna() & ((col < scale.min) | (col > scale.max))
        frac = col.notna() & ~off & ((col - col.round()).abs() > 1e-9) if scale.integer \
            else pd.Series(False, index=col.index)
        for mask, what in ((off, "is off the scale"), (frac, "is not a whole number")):
            if not mask.any():
                continue
            cells = table[header].to_numpy(dtype=object)[mask.to_numpy()]
            by_value = _cells_by_text(col.index.to_numpy()[mask.to_numpy()], _cell_texts(cells))
            value, rows = next(iter(by_value.items()))
            text = (f"{_column_text(header, iid)}, {_rows_text(rows)}: value {value!r} {what}; "
                    f"expected {_scale_text(scale)}")
            if what == "is off the scale" and _looks_like_missing_code(value):
                text += (f" (if {value} marks an unanswered item, declare it in the "
                         f"questionnaire: `missing_codes: [{value}]`)")
            if len(by_value) > 1:
                text += "; the column also holds " + "; ".join(
                    f"{v!r} ({_rows_text(r)})" for v, r in list(by_value.items())[1:4]
                )
            problems.append(text)
    if problems:
        msg = problems[0]
        if len(problems) > 1:
            msg += f". {len(problems) - 1} more such problem(s), e.g. " + problems[1]
        raise DataError(msg, file=path)


def _looks_like_missing_code(value: str) -> bool:
    """9, 99, 999, -9, -99, -1, -2, -3: codes survey tools write for an unanswered item
    (-2 and -3 are Wenjuanxing's codes for a skipped or hidden question)."""
    return re.fullmatch(r"-?9{1,4}|-[1-3]", value.strip()) is not None


def _read_demographics(
    table: pd.DataFrame, q: Questionnaire, path: Path, warnings: list[str],
    taken: set[str] | None = None, notices: list[str] | None = None,
) -> pd.DataFrame:
    """One column per demographic found: its declared code for each answer, else the answer.

    A text answer is matched to a declared text code or a code's label
    (:meth:`~sem_kit.questionnaire.schema.Demographic.match`: case-insensitive, either
    language), else read as a number (``2``, ``"2.0"``); missing codes
    (:data:`MISSING_CODES`) and empty cells are NaN. Each distinct answer is looked up
    once and the column mapped from the results, so the cost grows with the number of
    distinct answers, not of rows. A column is float when every answer is a number
    (numeric codes as floats), else object (text codes in their declared spelling).
    Answers that match no declared code (when codes are declared) are kept as read and
    warned about. The column is the demographic's ``columns:`` alias or id, else the
    one column (not an item's) whose header holds its name (``1、您的性别：``);
    LimeSurvey's answer codes ``A1``, ``A2`` ... are the first, second ... declared
    code, and a Wenjuanxing download's -2/-3 are unanswered.
    """
    headers = [str(c) for c in table.columns]
    labels = table.attrs.get("labels", {})
    wjx = detect_platform(table) == "wenjuanxing"
    out = pd.DataFrame(index=table.index)
    for did, demo in q.model.demographics.items():
        column, several = demographic_column(headers, labels, q, did, set(taken or ()))
        if column is not None and column not in (did, q.column_for(did).strip()):
            (notices if notices is not None else []).append(
                f"demographic {did} read from column {column!r}")
        if column is None:
            expected = q.column_for(did).strip()
            close = difflib.get_close_matches(expected, headers, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if several:
                hint = (" (its name stands in " + " and ".join(repr(c) for c in several[:4])
                        + ")")
            warnings.append(
                f"{path}: no column {expected!r} for demographic {did}{hint}; it is left out of "
                f"the sample description. Give its header as `columns: {{{did}: HEADER}}` in the "
                "questionnaire"
            )
            continue
        positions, distinct = pd.factorize(table[column].to_numpy(dtype=object),
                                           use_na_sentinel=True)
        numbers = {float(c) for c in demo.values if not isinstance(c, str)}
        codes: list[Any] = [np.nan]  # position -1: an empty cell
        unknown: dict[str, list[int]] = {}
        for j, value in enumerate(distinct):
            text = value.strip().casefold() if isinstance(value, str) else None
            named = demo.match(value) if text is not None else None
            if named is None and text is not None and answer_code(text) is not None \
                    and answer_code(text) <= len(demo.values):  # LimeSurvey's A1, A2, ...
                named = list(demo.values)[answer_code(text) - 1]  # type: ignore[operator]
            if text is not None and (not text or text in MISSING_CODES):
                code: Any = np.nan
            elif wjx and _to_number(value, {}, {}) in WJX_SKIP_CODES:
                code = np.nan
            elif named is not None:
                code = named if isinstance(named, str) else float(named)
            else:
                number = _to_number(value, {}, {})
                code = _show(value) if number is None else number
                if demo.values and not (isinstance(code, float) and
                                        (np.isnan(code) or code in numbers)):
                    unknown.setdefault(_show(value), []).extend(
                        int(r) for r in table.index[positions == j])
            codes.append(code)
        values = pd.Series(np.array(codes, dtype=object)[positions + 1], index=table.index,
                           dtype=object)
        out[did] = values if any(isinstance(c, str) for c in codes) else values.astype(float)
        if unknown:
            shown = "; ".join(f"{v!r} ({_rows_text(sorted(r))})"
                              for v, r in sorted(unknown.items(), key=lambda kv: min(kv[1]))[:3])
            warnings.append(
                f"{path}: {_column_text(column, did)}: values not among the codes of demographic "
                f"{did}: {shown}"
            )
    return out


def detect_platform(table: pd.DataFrame) -> str:
    """The survey platform whose download this is, from its metadata columns and layout.

    Returns
    -------
    str
        ``wenjuanxing``, ``qualtrics``, ``surveymonkey``, ``limesurvey``,
        ``google-forms`` or ``plain``.
    """
    layout = str(table.attrs.get("layout", "plain"))
    if layout.startswith("qualtrics"):
        return "qualtrics"
    if layout != "plain":
        return layout
    names = {str(c).strip().casefold() for c in table.columns}
    for platform, marks in _PLATFORM_MARKS:
        if len(names & marks) >= (1 if platform == "google-forms" else 2):
            if platform != "google-forms" or str(table.columns[0]).strip().casefold() in marks:
                return platform
    return "plain"


def _meta_column(table: pd.DataFrame, named: str | None, known: tuple[str, ...],
                 ) -> tuple[str | None, bool]:
    """The column named by the questionnaire, else a platform's own; (column, guessed)."""
    headers = {str(c).strip(): c for c in table.columns}
    if named and named.strip() in headers:
        return str(headers[named.strip()]), False
    column = known_column(table, known)
    return column, column is not None


def known_column(table: pd.DataFrame, known: Sequence[str]) -> str | None:
    """The table's column that the first of ``known`` names, or ``None``.

    Parameters
    ----------
    table:
        As :func:`read_table` gives it.
    known:
        Column names in order of preference (:data:`ID_COLUMNS`,
        :data:`DURATION_COLUMNS`), compared with each header, then with each
        column's question text (an SPSS variable label), by their letters and
        digits, case-folded (:func:`sem_kit.io.columns.fold_wording`).

    Returns
    -------
    str or None
        The column's name in ``table``.
    """
    labels = table.attrs.get("labels", {})
    folded: dict[str, str] = {}
    for column in table.columns:  # by name, then by SPSS variable label
        folded.setdefault(fold_wording(str(column).strip()), str(column))
    for column in table.columns:
        if labels.get(column):
            folded.setdefault(fold_wording(labels[column]), str(column))
    for name in known:
        if fold_wording(name) in folded:
            return folded[fold_wording(name)]
    return None


START_END_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Start Date", "End Date"), ("StartDate", "EndDate"), ("startdate", "submitdate"),
    ("Date started", "Date submitted"))
"""Start and end time columns (SurveyMonkey, Qualtrics, LimeSurvey's codes and full text),
tried in this order: with no response-time column (:data:`DURATION_COLUMNS`), the time
taken is their difference."""


def start_end_seconds(table: pd.DataFrame) -> tuple[tuple[str, str], pd.Series] | None:
    """Seconds from a platform's start to its end time, when both columns are readable.

    Returns
    -------
    tuple or None
        ((start column, end column), seconds per row as floats, NaN where a cell
        is empty), for the first pair of :data:`START_END_COLUMNS` whose two
        columns are in ``table`` (headers compared by their letters and digits,
        case-folded) and hold dates and times; ``None`` when there is no such pair.
    """
    folded = {fold_wording(str(c)): str(c) for c in table.columns}
    for start, end in START_END_COLUMNS:
        a, b = folded.get(fold_wording(start)), folded.get(fold_wording(end))
        if a is None or b is None:
            continue
        begun = _timestamps(table[a])
        ended = _timestamps(table[b])
        if begun is None or ended is None:
            continue
        return (a, b), (ended - begun).dt.total_seconds().astype(float)
    return None


def _timestamps(column: pd.Series) -> pd.Series | None:
    """A column of dates and times, or ``None`` when some filled cell is not one."""
    import warnings as python_warnings

    filled = ~_empty_cells(column.to_numpy())
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")
        stamps = pd.to_datetime(column.where(filled), errors="coerce")
    if stamps[filled].isna().any() or not filled.any():
        return None
    return stamps


def _read_meta(
    table: pd.DataFrame, q: Questionnaire, path: Path, warnings: list[str],
    notices: list[str] | None = None,
) -> pd.DataFrame:
    rules = q.model.screening
    out = pd.DataFrame(index=table.index)
    notices = notices if notices is not None else []
    column, guessed = _meta_column(table, rules.id_column, ID_COLUMNS)
    if column is not None:
        out["id"] = pd.Series(
            [None if _is_empty(v) else _as_text(v).strip() for v in table[column]],
            index=table.index, dtype=object,
        )
        if guessed:
            notices.append(f"respondent ids read from column {column!r}")
    elif rules.id_column:
        warnings.append(
            f"{path}: no column {rules.id_column.strip()!r} (screening.id_column): duplicate "
            "respondent ids are not checked"
        )
    column, guessed = _meta_column(table, rules.duration_column, DURATION_COLUMNS)
    span = start_end_seconds(table) if column is None else None
    if column is not None:
        out["duration"] = _durations(table[column], column, path,
                                     "a response-time column" if guessed
                                     else "screening.duration_column")
        if guessed:
            notices.append(f"response times read from column {column!r}")
    elif span is not None:
        (start, end), seconds = span
        out["duration"] = seconds
        notes = (f"response times taken as {end!r} minus {start!r}"
                 + (f" (no column {rules.duration_column.strip()!r})"
                    if rules.duration_column else ""))
        notices.append(notes)
        warnings.append(f"{path}: {notes}")
    elif rules.duration_column or rules.min_duration is not None:
        named = f"no column {rules.duration_column.strip()!r} (screening.duration_column)" \
            if rules.duration_column else "no response-time column"
        platform = detect_platform(table)
        why = " (Google Forms records none)" if platform == "google-forms" else ""
        pairs = ", ".join(f"{start!r} and {end!r}" for start, end in START_END_COLUMNS)
        warnings.append(
            f"{path}: {named}{why}: response times are not checked, so speeders could not be "
            f"screened; looked {'also ' if rules.duration_column else ''}for "
            f"{', '.join(repr(c) for c in DURATION_COLUMNS)}, and for start and end times "
            f"({pairs})"
        )
    return out


def parse_duration(value: Any) -> float | None:
    """A response time in seconds, from a number or a text such as ``"95秒"``.

    Parameters
    ----------
    value:
        A number (seconds), or text: ``"95"``, ``"95 s"``, ``"95秒"``,
        ``"1分35秒"``, ``"2 min"``, ``"1:35"`` (m:ss) or ``"0:01:35"``
        (h:mm:ss). Wenjuanxing's "所用时间" column is ``"95秒"``.

    Returns
    -------
    float or None
        Seconds; NaN when empty or a missing code; ``None`` when unreadable.
    """
    if _is_empty(value):
        return np.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    if text.casefold() in MISSING_CODES:
        return np.nan
    clock = _CLOCK.match(text)
    if clock:
        h, m, s = clock.groups()
        return float(h or 0) * 3600 + float(m) * 60 + float(s)
    match = _DURATION_UNITS.match(text)
    if match and any(match.group(g) for g in ("h", "m", "s")):
        h, m, s = (float(match.group(g) or 0) for g in ("h", "m", "s"))
        return h * 3600 + m * 60 + s
    return None


def _durations(column: Iterable[Any] | pd.Series, name: str, path: Path,
               source: str = "screening.duration_column") -> pd.Series:
    series = pd.Series(column)
    values = series.to_numpy(dtype=object)
    codes, firsts = _cell_codes(values)
    converted = [parse_duration(v) for v in firsts]
    unreadable = np.fromiter((c is None for c in converted), dtype=bool, count=len(converted))
    if unreadable.any():
        bad = np.flatnonzero(unreadable[codes])
        rows = series.index.to_numpy()[bad]
        value, rows = next(iter(_cells_by_text(rows, _shown(firsts)[codes[bad]]).items()))
        raise DataError(
            f"column {name!r} ({source}), {_rows_text(rows)}: {value!r} is "
            "not a duration; expected seconds such as 95, '95秒', '1分35秒' or '1:35'",
            file=path,
        )
    seconds = np.fromiter((np.nan if c is None else c for c in converted), dtype=np.float64,
                          count=len(converted))
    return pd.Series(seconds[codes], index=series.index, dtype=float)
