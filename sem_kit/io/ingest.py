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
import itertools
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


# ---------------------------------------------------------------------------
# reading a table
# ---------------------------------------------------------------------------
def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        Columns named by the header row (whitespace and a byte-order mark
        stripped), ``dtype=object``, indexed by ``row`` (header = row 1, first
        data row = 2; SPSS case *k* = row *k* + 1). Values are raw: strings
        from a text file, the cell values (``str``, ``int``, ``float``,
        ``datetime``, ``None``) from Excel, numbers and strings from SPSS
        (user-missing values already NaN). ``DataFrame.attrs`` holds
        ``format``, ``sheet``, ``encoding``, ``delimiter`` and ``warnings``
        (a list of strings).

    Raises
    ------
    DataError
        The file is missing, a directory, empty, has a header but no data
        rows, has a column name twice, is not a table (binary or malformed),
        has an unknown extension, or names a sheet the workbook lacks.

    Notes
    -----
    Text encodings are detected: UTF-16 with a byte-order mark, then UTF-8
    (with or without a BOM), then GB18030 (a superset of GBK and GB2312, the
    encoding of Chinese Excel's "CSV" export).
    """
    path = Path(path)
    data = _read_bytes(path)
    ext = path.suffix.lower()
    warnings: list[str] = []
    if ext in TEXT_EXTENSIONS:
        if sheet is not None:
            warnings.append(f"{path}: sheet {sheet!r} ignored: a text file has no sheets")
        header, rows, attrs = _parse_text(data, path, ext)
    elif ext in EXCEL_EXTENSIONS:
        header, rows, attrs = _parse_xlsx(data, path, sheet, warnings)
    elif ext in SPSS_EXTENSIONS:
        if sheet is not None:
            warnings.append(f"{path}: sheet {sheet!r} ignored: an SPSS file has no sheets")
        header, rows, attrs = _parse_sav(path)
    else:
        raise DataError(_unknown_extension(ext, data), file=path)
    return _build_table(path, header, rows, attrs, warnings)


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
    header: list[Any],
    rows: list[list[Any]],
    attrs: dict[str, Any],
    warnings: list[str],
) -> pd.DataFrame:
    names = [_clean_header(h) for h in header]
    cells = _cell_matrix(rows, len(names))
    # Columns with no header and no value (trailing delimiters) are not columns.
    keep = [
        j for j, name in enumerate(names)
        if name or not _empty_cells(cells[:, j]).all()
    ]
    if not any(names[j] for j in keep):
        raise DataError(
            "row 1 (the header row) is empty; expected column names in the first row", file=path
        )
    names = [names[j] or f"(unnamed column {_column_label(j)})" for j in keep]
    if len(keep) < cells.shape[1]:
        cells = cells[:, keep]
    positions: dict[str, list[int]] = {}
    for j, name in zip(keep, names, strict=True):
        positions.setdefault(name, []).append(j)
    for name, where in positions.items():
        if len(where) > 1:
            listed = " and ".join(_column_label(j) for j in where)
            raise DataError(
                f"column {name!r} appears {len(where)} times in the header: columns {listed}; "
                "rename or delete all but one", file=path,
            )
    cells = cells[:_filled_rows(cells)]
    if not len(cells):
        raise DataError(
            "has a header row but no data rows; expected one row per respondent below it",
            file=path,
        )
    index = pd.Index(range(2, len(cells) + 2), name=_ROW)
    table = pd.DataFrame(cells, columns=names, index=index, dtype=object, copy=False)
    table.attrs.update(attrs)
    table.attrs["warnings"] = list(warnings)
    return table


_BACKWARD_SCAN = 64
"""Trailing rows checked one by one before :func:`_filled_rows` looks column by column."""


def _cell_matrix(rows: Sequence[Sequence[Any]], width: int) -> np.ndarray:
    """The rows as an ``n x width`` object array: short rows padded with None, long ones cut."""
    n = len(rows)
    uneven = [i for i, r in enumerate(rows) if len(r) != width]
    if uneven:
        rows = list(rows)
        for i in uneven:
            r = list(rows[i])
            rows[i] = r[:width] if len(r) > width else r + [None] * (width - len(r))
    cells = np.fromiter(itertools.chain.from_iterable(rows), dtype=object, count=n * width)
    return cells.reshape(n, width)


def _filled_rows(cells: np.ndarray) -> int:
    """Rows up to and including the last row with a non-empty cell."""
    end = len(cells)
    stop = max(0, end - _BACKWARD_SCAN)
    while end > stop and all(_is_empty(v) for v in cells[end - 1]):
        end -= 1
    if end > stop or end == 0:
        return end
    filled = np.zeros(end, dtype=bool)
    for j in range(cells.shape[1]):
        filled |= ~_empty_cells(cells[:end, j])
    found = np.flatnonzero(filled)
    return int(found[-1]) + 1 if len(found) else 0


def _empty_cells(values: np.ndarray) -> np.ndarray:
    """``_is_empty`` of every cell of a 1-D object array, as a boolean array."""
    codes, firsts = _cell_codes(values)
    empty = np.fromiter((_is_empty(v) for v in firsts), dtype=bool, count=len(firsts))
    return empty[codes]


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


def _parse_text(data: bytes, path: Path, ext: str) -> tuple[list[Any], list[list[Any]], dict]:
    text, encoding = _decode(data, path)
    bad = sorted({c for c in text if ord(c) < 32 and c not in "\t\n\r\f\v"})
    if bad:
        raise DataError(
            f"is not a table: it holds control character {bad[0]!r}, which text tables do not",
            file=path,
        )
    text = text.lstrip("\ufeff")
    delimiter = _sniff_delimiter(text, ext)
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
    if not records or not any(v.strip() for v in records[0]):
        raise DataError(
            "row 1 (the header row) is empty; expected column names in the first row", file=path
        )
    header, rows = records[0], records[1:]
    width = len(header)
    for i, rec in enumerate(rows):
        extra = rec[width:]
        if any(v.strip() for v in extra):
            shown = {",": "','", ";": "';'", "\t": "tab"}[delimiter]
            raise DataError(
                f"row {i + 2} has {len(rec)} values but the header (row 1) has {width} columns; "
                f"check the delimiter ({shown} detected) and quotes", file=path,
            )
        if extra:
            rows[i] = rec[:width]
    attrs = {"format": "csv", "sheet": None, "encoding": encoding, "delimiter": delimiter}
    return header, rows, attrs


# -- Excel ------------------------------------------------------------------
def _parse_xlsx(
    data: bytes, path: Path, sheet: str | None, warnings: list[str]
) -> tuple[list[Any], list[list[Any]], dict]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=True)
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
        if sheet is None:
            chosen = names[0]
            if len(names) > 1:
                others = ", ".join(repr(n) for n in names[1:])
                warnings.append(
                    f"{path}: read the first sheet {chosen!r}; the workbook's other sheets "
                    f"({others}) were ignored; choose one with --sheet"
                )
        elif sheet in names:
            chosen = sheet
        else:
            listed = ", ".join(repr(n) for n in names)
            raise DataError(f"has no sheet named {sheet!r}; its sheets: {listed}", file=path)
        ws = book[chosen]
        records = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    finally:
        book.close()
    if not records or all(_is_empty(v) for r in records for v in r):
        raise DataError(
            f"sheet {chosen!r} is empty; expected a header row and one row per respondent",
            file=path,
        )
    if all(_is_empty(v) for v in records[0]):
        raise DataError(
            f"sheet {chosen!r}: row 1 (the header row) is empty; expected column names in the "
            "first row", file=path,
        )
    attrs = {"format": "xlsx", "sheet": chosen, "sheets": names, "encoding": None,
             "delimiter": None}
    return records[0], records[1:], attrs


# -- SPSS -------------------------------------------------------------------
def _parse_sav(path: Path) -> tuple[list[Any], list[list[Any]], dict]:
    import pyreadstat

    try:
        frame, _meta = pyreadstat.read_sav(str(path), user_missing=False, apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and others
        hint = _looks_like(path.read_bytes()[:8])
        raise DataError(
            f"is not a readable SPSS .sav file ({exc})" + (f"; {hint}" if hint else ""),
            file=path,
        ) from None
    header = [str(c) for c in frame.columns]
    rows = frame.astype(object).to_numpy().tolist()
    attrs = {"format": "sav", "sheet": None, "encoding": None, "delimiter": None}
    return header, rows, attrs


# ---------------------------------------------------------------------------
# responses
# ---------------------------------------------------------------------------
def read_responses(
    path: str | Path, questionnaire: Questionnaire, sheet: str | None = None
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
        The worksheet of an Excel file; ``None`` reads the first.

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
    a byte-order mark, equals the item's ``columns`` alias or, failing that,
    the item id. A text answer is converted by ``value_labels`` (exact, then
    case-insensitive), then by the item scale's labels (en or zh), then as a
    number (``"5"``, ``"5.0"``).
    """
    path = Path(path)
    data = _read_bytes(path)
    sha256 = hashlib.sha256(data).hexdigest()
    table = read_table(path, sheet)
    warnings = list(table.attrs.get("warnings", []))
    item_columns = _match_items(table, questionnaire, path, warnings)

    codes = [float(c) for c in questionnaire.model.missing_codes]
    unreadable: list[tuple[str, str, dict[str, list[int]]]] = []
    converted: dict[str, np.ndarray] = {}
    for iid, header in item_columns.items():
        scale = questionnaire.item_scale(iid)
        values, bad = _convert_column(table[header], questionnaire, scale)
        if codes:  # declared missing-answer codes (e.g. 99, -9 of an SPSS export)
            values[np.isin(values, codes)] = np.nan
        converted[iid] = values
        if bad:
            unreadable.append((iid, header, bad))
    raw = pd.DataFrame(converted, index=table.index, columns=list(item_columns), dtype=float)
    if unreadable:
        raise DataError(_unreadable_message(unreadable, questionnaire), file=path)
    _check_scales(raw, item_columns, questionnaire, path, table)

    items = raw.copy()
    for iid in questionnaire.reverse_items:
        scale = questionnaire.item_scale(iid)
        if scale is not None:
            items[iid] = scale.min + scale.max - raw[iid]

    demographics = _read_demographics(table, questionnaire, path, warnings)
    meta = _read_meta(table, questionnaire, path, warnings)
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


def _find_column(headers: Sequence[str], key: str, q: Questionnaire, taken: set[str]) -> str | None:
    alias = q.column_for(key).replace("\ufeff", "").strip()
    for candidate in dict.fromkeys((alias, key)):
        if candidate in headers and candidate not in taken:
            return candidate
    return None


def _match_items(
    table: pd.DataFrame, q: Questionnaire, path: Path, warnings: list[str]
) -> dict[str, str]:
    headers = [str(c) for c in table.columns]
    found: dict[str, str] = {}
    taken: set[str] = set()
    # Aliases first, so an alias naming another item's id wins that column.
    for iid in q.items:
        alias = q.column_for(iid).replace("\ufeff", "").strip()
        if alias != iid and alias in headers:
            found[iid] = alias
            taken.add(alias)
    missing: list[str] = []
    for iid in q.items:
        if iid in found:
            continue
        column = _find_column(headers, iid, q, taken)
        if column is None:
            missing.append(iid)
        else:
            found[iid] = column
            taken.add(column)
    if missing and len(missing) == len(q.items):
        raise DataError(_nothing_matches(table, q), file=path)
    if missing:
        free = [h for h in headers if h not in taken]
        parts = []
        for iid in missing:
            expected = q.column_for(iid).strip()
            label = iid if expected == iid else f"{iid} (header {expected!r})"
            close = [h for h in free if h.casefold() == expected.casefold()]
            close += [c for c in difflib.get_close_matches(expected, free, n=2, cutoff=0.6)
                      if c not in close][: 2 - len(close)]
            if expected != iid:
                close += [c for c in difflib.get_close_matches(iid, free, n=1, cutoff=0.6)
                          if c not in close]
            if close:
                label += " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
            parts.append(label)
        shown = "; ".join(parts[:15])
        if len(parts) > 15:
            shown += f"; and {len(parts) - 15} more"
        raise DataError(
            f"{len(missing)} of {len(q.items)} item columns not found: {shown}. "
            "Name each item's column by its id or give its header under `columns:` in the "
            f"questionnaire ({q.origin})", file=path,
        )
    return {iid: found[iid] for iid in q.items}


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
                  "column by its id or give its header under `columns:` in the questionnaire")


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
    """9, 99, 999, -9, -99, -1: codes survey tools write for an unanswered item."""
    return re.fullmatch(r"-?9{1,4}|-1", value.strip()) is not None


def _read_demographics(
    table: pd.DataFrame, q: Questionnaire, path: Path, warnings: list[str]
) -> pd.DataFrame:
    headers = [str(c) for c in table.columns]
    out = pd.DataFrame(index=table.index)
    for did, demo in q.model.demographics.items():
        column = _find_column(headers, did, q, set())
        if column is None:
            expected = q.column_for(did).strip()
            close = difflib.get_close_matches(expected, headers, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(
                f"{path}: no column {expected!r} for demographic {did}{hint}; it is left out of "
                f"the sample description. Give its header as `columns: {{{did}: HEADER}}` in the "
                "questionnaire"
            )
            continue
        labels: dict[str, float] = {}
        for code, text in demo.values.items():
            for label in (text.en, text.zh):
                if label:
                    labels.setdefault(label.strip().casefold(), float(code))
        values: list[Any] = []
        unknown: dict[str, list[int]] = {}
        for row, value in table[column].items():
            number = _to_number(value, {}, labels)
            if number is None:
                values.append(_show(value))
                number_known = False
            else:
                values.append(number)
                number_known = bool(np.isnan(number)) or not demo.values or number in demo.values
            if not number_known:
                unknown.setdefault(_show(value), []).append(int(row))
        out[did] = pd.Series(values, index=table.index, dtype=object)
        if not any(isinstance(v, str) for v in values):
            out[did] = out[did].astype(float)
        if unknown:
            shown = "; ".join(f"{v!r} ({_rows_text(r)})" for v, r in list(unknown.items())[:3])
            warnings.append(
                f"{path}: {_column_text(column, did)}: values not among the codes of demographic "
                f"{did}: {shown}"
            )
    return out


def _read_meta(
    table: pd.DataFrame, q: Questionnaire, path: Path, warnings: list[str]
) -> pd.DataFrame:
    rules = q.model.screening
    headers = {str(c): c for c in table.columns}
    out = pd.DataFrame(index=table.index)
    if rules.id_column:
        name = rules.id_column.strip()
        if name in headers:
            out["id"] = pd.Series(
                [None if _is_empty(v) else _as_text(v).strip() for v in table[headers[name]]],
                index=table.index, dtype=object,
            )
        else:
            warnings.append(
                f"{path}: no column {name!r} (screening.id_column): duplicate respondent ids "
                "are not checked"
            )
    if rules.duration_column:
        name = rules.duration_column.strip()
        if name in headers:
            out["duration"] = _durations(table[headers[name]], name, path)
        else:
            warnings.append(
                f"{path}: no column {name!r} (screening.duration_column): response times "
                "are not checked"
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


def _durations(column: Iterable[Any] | pd.Series, name: str, path: Path) -> pd.Series:
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
            f"column {name!r} (screening.duration_column), {_rows_text(rows)}: {value!r} is "
            "not a duration; expected seconds such as 95, '95秒', '1分35秒' or '1:35'",
            file=path,
        )
    seconds = np.fromiter((np.nan if c is None else c for c in converted), dtype=np.float64,
                          count=len(converted))
    return pd.Series(seconds[codes], index=series.index, dtype=float)
