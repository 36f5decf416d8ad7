"""Draft a questionnaire from a responses file: what ``sem-kit init DATA`` writes.

The draft is YAML text in the questionnaire format (DESIGN.md), made so that
``sem-kit analyze DATA -q draft.yaml`` runs unedited and ends with the
measurement model (no hypotheses). Every guess is written beside what it was
made from, for the researcher to check:

- **item blocks** (constructs): columns that share an id prefix and number
  (``WIL1``, ``WIL_2``, ``Q6_1``, LimeSurvey ``WIL[SQ001]``), a matrix question
  (Wenjuanxing ``6、(statement)``, SurveyMonkey / Google Forms
  ``Grid title [row]``, Qualtrics ``Question - statement`` labels), or else a
  run of adjacent questions answered on the same rating scale (a survey
  block); a lone rating on the scale of the other items is a single-item
  construct;
- **the scale** from the answers: numbers give their observed range rounded
  to a usual scale (1-5, 1-7, 1-10, 0-10), codes that lie apart from it (99,
  -9, ...) as ``missing_codes:`` (a Wenjuanxing download's -2 and -3 are
  unanswered, as :func:`~sem_kit.io.ingest.read_responses` reads them); text
  answers are put on the usual answer series of :mod:`sem_kit.io.labels`
  (the fewest points that hold them, each answer its own point) and written
  as ``value_labels:``;
- **screening**: the respondent id and response time columns of the survey
  platforms (:data:`~sem_kit.io.ingest.ID_COLUMNS`,
  :data:`~sem_kit.io.ingest.DURATION_COLUMNS`, else a start and an end time:
  :data:`~sem_kit.io.ingest.START_END_COLUMNS`), with a ``min_duration`` of
  :data:`SECONDS_PER_ITEM` s per item;
- **demographics**: the other columns with few distinct answers.

Item ids are valid questionnaire ids and ``columns:`` maps each to its exact
header, so the reading is unambiguous. Question text comes from
``table.attrs["labels"]`` (question text of extra header rows, or SPSS
variable labels, when the reader found them), else from the header. A
workbook of several sheets is drafted from the sheet with the most rating
items (:func:`read_for_draft`).
"""

from __future__ import annotations

import math
import re
import shlex
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sem_kit.errors import DataError
from sem_kit.io.ingest import (
    DURATION_COLUMNS,
    ID_COLUMNS,
    MISSING_CODES,
    WJX_SKIP_CODES,
    detect_platform,
    known_column,
    parse_duration,
    read_table,
    start_end_seconds,
)
from sem_kit.io.labels import SERIES, answer_code, fold, series_labels
from sem_kit.questionnaire.schema import ID_PATTERN

USUAL_SCALES: tuple[tuple[int, int], ...] = ((1, 5), (1, 7), (1, 10), (0, 10))
"""Numeric scales, tried in order: observed answers are put on the first that
holds their range (answers 2-6 -> 1-7)."""

SECONDS_PER_ITEM = 2
"""``min_duration`` drafted as this many seconds per item: answering faster than
about 2 s per item marks careless responding (Huang, Curran, Keeney, Poposki &
DeShon 2012, J. Business and Psychology 27(1))."""

PLATFORM_COLUMNS: frozenset[str] = frozenset({
    # Wenjuanxing / Credamo
    "提交答卷时间", "开始答题时间", "结束答题时间", "来源", "来源详情", "来自ip", "ip", "总分",
    "答题序号", "微信昵称", "时间戳",
    # Qualtrics
    "startdate", "enddate", "status", "ipaddress", "progress", "finished", "recordeddate",
    "recipientlastname", "recipientfirstname", "recipientemail", "externalreference",
    "locationlatitude", "locationlongitude", "distributionchannel", "userlanguage",
    "q_recaptchascore", "q_relevantidduplicate",
    # LimeSurvey
    "submitdate", "lastpage", "startlanguage", "seed", "datestamp", "ipaddr",
    "refurl", "token", "date submitted", "last page", "start language", "date started",
    "date last action", "referrer url",
    # SurveyMonkey / Google Forms
    "collector id", "start date", "end date", "ip address", "email address", "first name",
    "last name", "custom data 1", "timestamp",
})
"""Headers (case-folded) of a survey platform's own bookkeeping: never items or
demographics."""

DEMOGRAPHIC_WORDS: tuple[tuple[str, str], ...] = (
    ("性别", "gender"), ("gender", "gender"), ("sex", "gender"),
    ("年龄", "age"), ("age", "age"),
    ("学历", "education"), ("教育", "education"), ("education", "education"),
    ("收入", "income"), ("income", "income"),
    ("职业", "occupation"), ("occupation", "occupation"),
    ("婚姻", "marital"), ("marital", "marital"),
    ("地区", "region"), ("region", "region"),
    ("年级", "grade"), ("专业", "major"), ("工作年限", "tenure"), ("tenure", "tenure"),
)
"""Words of a background question (in its header or text) -> the id it is given;
such a column stays a demographic whatever its answers."""

MAX_CATEGORIES = 12
"""A column with at most this many distinct answers is drafted as a demographic."""

_GENERIC_PREFIXES = frozenset({"q", "v", "var", "item", "x", "question"})
_LIME = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\[([^\]]+)\]$")
_CODE_SEP = re.compile(r"^([A-Za-z][A-Za-z0-9_]*?)[_.](\d+)$")
_CODE_RUN = re.compile(r"^([A-Za-z]+)(\d+)$")
_NUMBERED = re.compile(r"^(\d+)\s*[、.．]?\s*(.*?)\s*[(（](.+)[)）]\s*$", re.S)
_GRID = re.compile(r"^(.+?)\s*[\[［](.+)[\]］]\s*$", re.S)
_DASH = re.compile(r"^(.+?)\s+[-–—]\s+(.+)$", re.S)
_SEPARATOR = re.compile(r"\s[-–—]\s")
_LEADING_NUMBER = re.compile(r"^\s*(?:[A-Za-z]{0,2}\d+(?:[._]\d+)*|第\d+题)\s*[、.．:：)）]\s*")
_QUESTION_NUMBER = re.compile(r"^\s*(?:[Qq](?:uestion)?\s*)?(\d+)\s*[、.．:：)）]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MISSING_LIKE = frozenset({-1.0, -2.0, -3.0, -9.0, -99.0, -999.0, 99.0, 999.0, 9999.0})
"""Codes that mean "not answered" when they lie apart from a rating column's other
answers (SPSS users' 99, -9, ...; Wenjuanxing's -2 / -3 in a file that is not its
download)."""


# ---------------------------------------------------------------------------
# what the answers of one column look like
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Column:
    position: int  # 1-based, as a spreadsheet counts columns
    header: str
    label: str  # question text from the header rows or SPSS labels ("" when none)
    cells: tuple[float | str | None, ...]  # None: no answer
    question: int | None = None  # the first column of its question, where the layout says

    @property
    def text(self) -> str:
        return self.label or self.header

    @cached_property
    def answers(self) -> list[float | str]:
        return [c for c in self.cells if c is not None]

    @cached_property
    def numeric(self) -> bool:
        return bool(self.answers) and all(isinstance(a, float) for a in self.answers)

    @cached_property
    def distinct(self) -> list[float | str]:
        return list(dict.fromkeys(self.answers))

    @cached_property
    def rating(self) -> _Rating | None:
        """The column's own rating scale, if its answers are ratings."""
        return _rating([self])

    @cached_property
    def ratable(self) -> bool:
        """Answers that a rating block can hold: whole numbers on a usual scale (or none),
        or labels of one answer series."""
        if not self.answers:
            return True
        if self.numeric:
            values = {float(a) for a in self.answers}
            if any(not v.is_integer() for v in values) or values <= {0.0, 1.0}:
                return False
            return _on_scale(values) is not None
        return _text_rating([str(a) for a in self.answers], least=1) is not None

    def where(self) -> str:
        return f"column {_column_name(self.position)} ({_short(self.header)})"


def _cell(value: Any, wjx: bool = False) -> float | str | None:
    """A cell as the draft sees it: a number, a text, or ``None`` (no answer: empty, a
    missing code, or in a Wenjuanxing download its -2 / -3)."""
    number = _plain_cell(value)
    if wjx and isinstance(number, float) and number in WJX_SKIP_CODES:
        return None
    return number


def _plain_cell(value: Any) -> float | str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    text = str(value).strip()
    if not text or text.casefold() in MISSING_CODES:
        return None
    try:
        number = float(text.replace("\u2212", "-"))
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _columns(table: pd.DataFrame) -> tuple[list[_Column], int]:
    """The table's columns, and how many cells held Wenjuanxing's -2 / -3 (read as no
    answer in its download, as :func:`sem_kit.io.ingest.read_responses` reads them)."""
    labels = table.attrs.get("labels") or {}
    questions = table.attrs.get("questions") or {}
    wjx = detect_platform(table) == "wenjuanxing"
    out, skipped = [], 0
    for j, header in enumerate(table.columns):
        label = str(labels.get(header) or "").strip()
        values = table[header].tolist()
        cells = tuple(_cell(v, wjx) for v in values)
        if wjx:
            skipped += sum(1 for v in values if _plain_cell(v) in WJX_SKIP_CODES)
        out.append(_Column(j + 1, str(header), "" if label == str(header) else label, cells,
                           questions.get(header)))
    return out, skipped


def _column_name(position: int) -> str:
    """``8 (H)``: the column's number and its spreadsheet letters."""
    letters, k = "", position
    while k:
        k, rem = divmod(k - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{position} ({letters})"


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# ---------------------------------------------------------------------------
# rating scales
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rating:
    """A rating scale guessed from the answers of some columns."""

    low: int
    high: int
    kind: str | None = None  # words (answer labels) or codes (LimeSurvey A1 ...); None: numbers
    coded: tuple[tuple[str, int], ...] = ()  # each text answer as written -> its point
    missing_codes: tuple[int, ...] = ()
    n_distinct: int = 0
    observed: tuple[int, int] | None = None  # lowest and highest number answered

    @property
    def labels(self) -> dict[str, int]:
        """Text answer (as the file writes it) -> code; empty for numbers."""
        return dict(self.coded)

    @property
    def same_scale(self) -> tuple[int, int, str | None]:
        return self.low, self.high, self.kind

    @property
    def clear(self) -> bool:
        """Clearly a rating on its own: three or more answer labels, or five or more
        distinct numbers or answer codes."""
        if self.kind == "words":
            return self.n_distinct >= 3
        return self.n_distinct >= 5

    def ends(self) -> str:
        """The lowest and highest text answer: ``非常不同意 ... 非常同意``."""
        ranked = sorted(self.coded, key=lambda tc: tc[1])
        return f"{ranked[0][0]} ... {ranked[-1][0]}"

    def seen(self) -> str:
        if self.kind is None:
            if self.observed is None or self.observed == (self.low, self.high):
                return f"answers {self.low}-{self.high}"
            return (f"answers {self.observed[0]}-{self.observed[1]} (scale {self.low}-"
                    f"{self.high} assumed)")
        return f"answers {self.ends()} ({self.low}-{self.high})"


def _rating(columns: Sequence[_Column]) -> _Rating | None:
    """The rating scale every column is answered on, or ``None`` (not ratings)."""
    answers = [a for c in columns for a in c.answers]
    if not answers:
        return None
    if all(c.numeric or not c.answers for c in columns):
        return _numeric_rating(answers)  # type: ignore[arg-type]
    if any(isinstance(a, float) for a in answers):
        return None
    return _text_rating([str(a) for a in answers])


def _numeric_rating(answers: list[float]) -> _Rating | None:
    values = set(answers)
    if any(not v.is_integer() for v in values) or values <= {0.0, 1.0}:
        return None
    found = _on_scale(values)
    if found is None:
        return None
    scale, rest, codes = found
    if len(rest) < 3:
        return None
    return _Rating(*scale, missing_codes=tuple(sorted(int(v) for v in codes)),
                   n_distinct=len(rest), observed=(int(min(rest)), int(max(rest))))


def _on_scale(values: set[float]) -> tuple[tuple[int, int], set[float], set[float]] | None:
    """(scale, answers on it, missing codes) of whole-number answers: the first usual
    scale that holds them all, else the first that holds them without the
    :data:`_MISSING_LIKE` codes, when those lie apart from the other answers (a gap of
    at least one unused value: -3 ... 3 is a bipolar scale, not 0-3 with codes)."""
    scale = _usual_scale(values)
    if scale is not None:
        return scale, values, set()
    codes = values & _MISSING_LIKE
    rest = values - codes
    if not codes or not rest:
        return None
    if any(min(rest) - 1 <= c <= max(rest) + 1 for c in codes):
        return None
    scale = _usual_scale(rest)
    return (scale, rest, codes) if scale is not None else None


def _usual_scale(values: set[float]) -> tuple[int, int] | None:
    if not values:
        return None
    low, high = min(values), max(values)
    for a, b in USUAL_SCALES:
        if a <= low and high <= b:
            return a, b
    return None


def _text_rating(answers: list[str], least: int = 2) -> _Rating | None:
    """Text answers as a rating: all labels of the usual series (:mod:`sem_kit.io.labels`)
    or all LimeSurvey answer codes, on the fewest points that hold them with each
    distinct answer on a point of its own."""
    texts = list(dict.fromkeys(answers))
    n_distinct = len({fold(t) for t in texts})
    if n_distinct < least:
        return None
    for points in sorted(SERIES):
        found = _points(texts, points)
        if found is not None:
            kind, coded = found
            return _Rating(1, points, kind=kind, coded=tuple(coded.items()),
                           n_distinct=n_distinct)
    return None


def _points(texts: Sequence[str], points: int) -> tuple[str, dict[str, int]] | None:
    """(``words`` or ``codes``, each text's point) on a scale of ``points``: all labels of
    its usual series, or all LimeSurvey answer codes; ``None`` when some text is
    neither, or when two answers would share a point (Agree and Somewhat agree are one
    point of 5, two of 7)."""
    words = series_labels(points)
    readings = (("words", {t: words.get(fold(t)) for t in texts}),
                ("codes", {t: answer_code(t, points) for t in texts}))
    for kind, coded in readings:
        if all(k is not None for k in coded.values()):
            shared: dict[int | None, set[str]] = {}
            for text, k in coded.items():
                shared.setdefault(k, set()).add(fold(text))
            if all(len(spellings) == 1 for spellings in shared.values()):
                return kind, coded  # type: ignore[return-value]
    return None


# ---------------------------------------------------------------------------
# grouping columns into item blocks
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Key:
    """What ties a column to others of its block."""

    kind: str  # code | number | title
    value: str  # the id prefix, question number or matrix title
    sub: str = ""  # the column's own part: item number or subquestion code


def _key(col: _Column) -> _Key | None:
    header = col.header.strip()
    lime = _LIME.match(header)
    if lime:
        return _Key("code", lime.group(1), lime.group(2))
    code = _CODE_SEP.match(header) or _CODE_RUN.match(header)
    if code and not (code.re is _CODE_RUN and code.group(1).casefold() in _GENERIC_PREFIXES):
        return _Key("code", code.group(1), code.group(2))
    numbered = _NUMBERED.match(col.text)
    if numbered:
        return _Key("number", numbered.group(1))
    if col.question is not None:  # SurveyMonkey: the question starting in that column
        return _Key("title", f"column {_column_name(col.question)}")
    grid = _GRID.match(col.text)
    if grid:
        return _Key("title", _strip_number(grid.group(1)))
    dash = _DASH.match(col.label) if col.label else None
    if dash:
        return _Key("title", _strip_number(dash.group(1)))
    return None


def _strip_number(text: str) -> str:
    """Text without a leading question number (``6、``, ``Q6.``, ``第6题：``) or end colon."""
    return _LEADING_NUMBER.sub("", " ".join(text.split())).rstrip("：:？? ").strip()


def _wording(col: _Column) -> tuple[str, str]:
    """(matrix title, statement) of one column's text, without question numbers or
    brackets; the title is "" when the text carries none."""
    text = " ".join(col.text.split())
    if not col.label and _LIME.match(col.header):
        return "", col.header  # a LimeSurvey code, not a statement
    for pattern, title, row in ((_NUMBERED, 2, 3), (_GRID, 1, 2)):
        match = pattern.match(text)
        if match:
            return _strip_number(match.group(title)), _strip_number(match.group(row)) or text
    return "", _strip_number(text) or text


def _statements(cols: Sequence[_Column]) -> tuple[str, list[str]]:
    """The title the columns of a block share ("" when none) and each one's statement.

    Qualtrics labels ``Question - statement`` share the longest prefix that ends at
    a `` - `` in every label (a dash inside the question or the statement stays).
    """
    labels = [" ".join(c.label.split()) for c in cols]
    if len(cols) >= 2 and all(labels):
        for cut in reversed([m.start() for m in _SEPARATOR.finditer(labels[0])]):
            title = labels[0][:cut]
            tails = [lab[cut:] for lab in labels if lab[:cut] == title]
            rest = [_SEPARATOR.sub("", t, count=1).strip() for t in tails
                    if _SEPARATOR.match(t)]
            if len(rest) == len(labels) and all(rest):
                return _strip_number(title), rest
    pairs = [_wording(c) for c in cols]
    titles = {t for t, _ in pairs}
    return (titles.pop() if len(titles) == 1 else ""), [w for _, w in pairs]


def _question_number(col: _Column) -> str | None:
    match = _NUMBERED.match(col.text) or _QUESTION_NUMBER.match(col.text)
    return match.group(1) if match else None


@dataclass
class _Block:
    """A drafted construct: its columns, scale and why they were put together."""

    columns: list[_Column]
    rating: _Rating
    how: str  # the grouping rule, for the comment
    key: _Key | None = None
    cid: str = ""
    items: list[str] = field(default_factory=list)


def _keyed_groups(columns: Sequence[_Column]) -> list[tuple[_Key, list[_Column]]]:
    groups: dict[tuple[str, str], list[_Column]] = {}
    keys: dict[tuple[str, str], _Key] = {}
    for col in columns:
        key = _key(col)
        if key is None:
            continue
        groups.setdefault((key.kind, key.value), []).append(col)
        keys.setdefault((key.kind, key.value), key)
    return [(keys[k], cols) for k, cols in groups.items() if len(cols) >= 2]


_HOW = {"code": "id prefix {value}", "number": "question {value}", "title": "matrix question"}


def _matrix_blocks(
    columns: Sequence[_Column], unused: dict[int, str]
) -> tuple[list[_Block], list[_Column]]:
    """Blocks of columns tied by a key; returns them and the columns left over."""
    blocks: list[_Block] = []
    used: set[int] = set()
    for key, cols in _keyed_groups(columns):
        ratable = [c for c in cols if c.ratable]
        rating = _rating(ratable) if len(ratable) >= 2 else None
        if rating is None:
            if all(set(c.answers) <= {0.0, 1.0} for c in cols):
                for c in cols:
                    unused[c.position] = ("0/1 answers: the options of a multiple-choice "
                                          "question, not ratings")
                    used.add(c.position)
            continue
        blocks.append(_Block(ratable, rating, _HOW[key.kind].format(value=key.value), key))
        used.update(c.position for c in ratable)
    return blocks, [c for c in columns if c.position not in used]


def _demographic_word(col: _Column) -> str | None:
    text = f"{col.header} {col.label}".casefold()
    for word, did in DEMOGRAPHIC_WORDS:
        if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text):
            return did
    return None


def _survey_blocks(
    columns: Sequence[_Column], matrix: Sequence[_Block]
) -> tuple[list[_Block], list[_Column]]:
    """Runs of adjacent clear ratings on one scale (a survey block), and lone ratings on
    the scale most items of ``matrix`` and these blocks share (single-item constructs);
    returns them and the columns left over."""
    runs: list[list[tuple[_Column, _Rating]]] = []
    for col in columns:
        rating = col.rating
        if rating is None or not rating.clear or _demographic_word(col):
            continue
        last = runs[-1][-1] if runs else None
        if last and last[0].position == col.position - 1 \
                and last[1].same_scale == rating.same_scale:
            runs[-1].append((col, rating))
        else:
            runs.append([(col, rating)])
    blocks = [_Block([c for c, _ in run], _rating([c for c, _ in run]) or run[0][1],
                     "adjacent questions on one scale (a survey block: split it into its "
                     "constructs)") for run in runs if len(run) >= 2]
    dominant = _dominant([*matrix, *blocks])
    blocks += [_Block([run[0][0]], run[0][1], "a single rating on the scale of the other "
                      "items (a single-item construct)")
               for run in runs if len(run) == 1 and run[0][1].same_scale == dominant]
    taken = {c.position for b in blocks for c in b.columns}
    return blocks, [c for c in columns if c.position not in taken]


def _dominant(blocks: Sequence[_Block]) -> tuple[int, int, str | None] | None:
    counts: Counter[tuple[int, int, str | None]] = Counter()
    for b in blocks:
        counts[b.rating.same_scale] += len(b.columns)
    return counts.most_common(1)[0][0] if counts else None


# ---------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------
class _Ids:
    """Hands out unique valid ids that name no other column's header."""

    def __init__(self, headers: Iterable[str]) -> None:
        self.headers = set(headers)
        self.used: set[str] = set()

    def claim(self, wanted: str, own_header: str | None = None) -> str:
        base = _valid_id(wanted)
        candidate, k = base, 1
        while candidate in self.used or (candidate in self.headers and candidate != own_header):
            k += 1
            candidate = f"{base}_{k}"
        self.used.add(candidate)
        return candidate


def _valid_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_.")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"X{cleaned}" if cleaned else "X"
    return cleaned


def _joined(cid: str, k: int | str) -> str:
    return f"{cid}_{k}" if cid[-1].isdigit() else f"{cid}{k}"


def _name_block(block: _Block, ids: _Ids, k: int) -> None:
    """Give a block its construct id and item ids.

    An id prefix names the construct (``WIL``), a question number ``Q6``; a matrix
    title ``Ck``, a survey block ``Bk``, a single rating its question number or header.
    Items keep a header that is a valid id (``WIL1``); others are numbered (``Q6_1``,
    ``WIL[SQ001]`` -> ``WIL1``).
    """
    key, cols = block.key, block.columns
    kind = key.kind if key else ("single" if len(cols) == 1 else "block")
    number = _question_number(cols[0]) if kind in ("single", "title") else None
    own = cols[0].header if kind == "single" else None
    if key is not None and kind in ("code", "number"):
        wanted = key.value if kind == "code" else f"Q{key.value}"
    elif number:
        wanted = f"Q{number}"
    elif own and ID_PATTERN.match(own):
        wanted = own
    else:
        wanted = {"title": "C", "block": "B", "single": "S"}[kind] + str(k)
    block.cid = ids.claim(wanted, own)
    for j, col in enumerate(cols, 1):
        if kind in ("code", "block") and ID_PATTERN.match(col.header):
            block.items.append(ids.claim(col.header, col.header))
            continue
        col_key = _key(col) if kind == "code" else None
        digits = re.sub(r"\D", "", col_key.sub) if col_key else ""
        block.items.append(ids.claim(_joined(block.cid, int(digits) if digits else j)))


# ---------------------------------------------------------------------------
# screening, demographics
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Time:
    """Where the response time comes from: a time column, or end minus start time."""

    column: _Column | None
    span: tuple[_Column, _Column] | None  # (start, end) when there is no time column
    seconds: tuple[float, ...]

    def where(self) -> str:
        if self.column is not None:
            return f"{self.column.where()}: response time"
        start, end = self.span  # type: ignore[misc]
        return (f"no response-time column: the time is {end.where()} minus {start.where()}, "
                "as `sem-kit analyze` takes it when min_duration has no duration_column")


@dataclass(frozen=True)
class _Screening:
    id_col: _Column | None = None
    id_why: str = ""
    time: _Time | None = None


def _find_time(table: pd.DataFrame, columns: Sequence[_Column]) -> _Time | None:
    """The response time as :func:`sem_kit.io.ingest.read_responses` finds it without a
    ``duration_column``: the first platform time column of
    :data:`~sem_kit.io.ingest.DURATION_COLUMNS` in the file, else end minus start
    (:data:`~sem_kit.io.ingest.START_END_COLUMNS`)."""
    by_header = {c.header: c for c in columns}
    name = known_column(table, DURATION_COLUMNS)
    if name is not None:
        col = by_header[name]
        seconds = [parse_duration(a) for a in col.answers]
        if seconds and all(x is not None for x in seconds):
            return _Time(col, None, tuple(float(x) for x in seconds))  # type: ignore[arg-type]
        return None
    span = start_end_seconds(table)
    if span is None:
        return None
    (start, end), seconds = span
    return _Time(None, (by_header[start], by_header[end]),
                 tuple(float(x) for x in seconds.dropna()))


def _find_id(table: pd.DataFrame, columns: Sequence[_Column],
             anywhere: bool) -> tuple[_Column, str] | None:
    """A respondent-id column by its name (:data:`~sem_kit.io.ingest.ID_COLUMNS`), else
    (``anywhere``: among the first three columns) one with a different answer in every
    row."""
    name = known_column(table, ID_COLUMNS)
    for col in columns:
        if col.header == name:
            return col, "respondent id"
    if not anywhere:
        return None
    for col in columns:
        if col.position <= 3 and col.cells and all(c is not None for c in col.cells) \
                and len(set(col.cells)) == len(col.cells) and len(col.cells) > MAX_CATEGORIES:
            return col, "a different value in every row: respondent id"
    return None


@dataclass(frozen=True)
class _Demographic:
    col: _Column
    did: str
    values: tuple[float | str, ...]


def _categorical(col: _Column) -> bool:
    values = col.distinct
    if not values or len(values) > MAX_CATEGORIES:
        return False
    if col.numeric:
        return all(float(v).is_integer() for v in values)
    return all(isinstance(v, str) and len(v) <= 40 for v in values)


def _natural(value: float | str) -> tuple:
    if isinstance(value, float):
        return (0, value, "")
    parts = re.split(r"(\d+)", value)
    return (1, 0.0, tuple((int(p), "") if p.isdigit() else (math.inf, p) for p in parts))


# ---------------------------------------------------------------------------
# the draft
# ---------------------------------------------------------------------------
@dataclass
class _Draft:
    source: str
    name: str
    n_rows: int
    lang: str
    blocks: list[_Block]
    demographics: list[_Demographic]
    screening: _Screening
    unused: dict[int, str]
    columns: list[_Column]
    scale: _Rating | None = None
    output: str = "THIS_FILE"
    wjx_skipped: int = 0  # cells of a Wenjuanxing download coded -2 / -3


def draft_questionnaire(table: pd.DataFrame, *, source: str = "<table>",
                        name: str | None = None, output: str | None = None) -> str:
    """Draft a questionnaire (YAML text, format 1) from a table of responses.

    Parameters
    ----------
    table:
        Raw responses as :func:`sem_kit.io.ingest.read_table` gives them: one
        column per question, one row per respondent; ``table.attrs["labels"]``
        (column -> question text), when present, gives the wording.
    source:
        The file the table came from: named in the draft's comments and errors.
    name:
        The questionnaire's ``name:``; default: from ``source``'s file name.
    output:
        Where the draft will be saved, for the ``sem-kit analyze`` line of its
        header comment.

    Returns
    -------
    str
        The questionnaire as commented YAML text: constructs (item blocks) with
        ``columns:`` mapping every item id to its header, ``scale:`` and
        ``value_labels:`` from the answers, ``demographics:``, ``screening:``,
        no hypotheses, and a comment for every guess and every column not used.

    Raises
    ------
    DataError
        No column block looks like rating items (the message names ``source``
        and what was looked for).
    """
    draft = _plan(table, source, name)
    draft.output = output or "THIS_FILE"
    return _render(draft)


@dataclass
class _Found:
    """The item blocks of a table, and what was set aside on the way."""

    blocks: list[_Block]
    pool: list[_Column]  # columns neither items nor screening nor platform bookkeeping
    unused: dict[int, str]
    time: _Time | None
    named_id: tuple[_Column, str] | None

    @property
    def n_items(self) -> int:
        return sum(len(b.columns) for b in self.blocks)


def _find_blocks(table: pd.DataFrame, columns: list[_Column]) -> _Found:
    unused: dict[int, str] = {}
    time = _find_time(table, columns)
    taken = set()
    if time is not None and time.column is not None:
        taken.add(time.column.position)
    elif time is not None:
        for col, what in zip(time.span, ("start", "end"), strict=True):  # type: ignore[arg-type]
            unused[col.position] = f"{what} time: the response time is end minus start"
    pool = [c for c in columns if c.position not in taken]
    named_id = _find_id(table, pool, anywhere=False)
    if named_id:
        pool = [c for c in pool if c.position != named_id[0].position]
    for col in pool:
        if col.header.casefold() in PLATFORM_COLUMNS and col.position not in unused:
            unused[col.position] = "survey platform bookkeeping"
    pool = [c for c in pool if c.position not in unused]
    blocks, pool = _matrix_blocks(pool, unused)
    pool = [c for c in pool if c.position not in unused]
    more, pool = _survey_blocks(pool, blocks)
    blocks = sorted(blocks + more, key=lambda b: b.columns[0].position)
    return _Found(blocks, pool, unused, time, named_id)


def rating_items(table: pd.DataFrame) -> int:
    """How many columns of ``table`` :func:`draft_questionnaire` would draft as items."""
    return _find_blocks(table, _columns(table)[0]).n_items


def _plan(table: pd.DataFrame, source: str, name: str | None) -> _Draft:
    columns, skipped = _columns(table)
    found = _find_blocks(table, columns)
    blocks, pool, unused, named_id = found.blocks, found.pool, found.unused, found.named_id
    if not blocks:
        raise DataError(_no_items_message(columns), file=source)
    found_id = named_id or _find_id(table, pool, anywhere=True)
    if found_id and not named_id:
        pool = [c for c in pool if c.position != found_id[0].position]
    screening = _Screening(found_id[0] if found_id else None, found_id[1] if found_id else "",
                           found.time)
    ids = _Ids(c.header for c in columns)
    for k, block in enumerate(blocks, 1):
        _name_block(block, ids, k)
    demographics = _draft_demographics(pool, ids, unused)
    texts = " ".join(c.text for b in blocks for c in b.columns)
    return _Draft(
        source=source, name=name or _file_name(source), n_rows=len(table),
        lang="zh" if _CJK.search(texts) else "en", blocks=blocks, demographics=demographics,
        screening=screening, unused=unused, columns=columns,
        scale=_top_scale(blocks), wjx_skipped=skipped,
    )


def _draft_demographics(pool: Sequence[_Column], ids: _Ids,
                        unused: dict[int, str]) -> list[_Demographic]:
    out = []
    for col in pool:
        if not col.answers:
            unused[col.position] = "no answers"
        elif _categorical(col):
            wanted = _demographic_word(col) or (
                col.header if ID_PATTERN.match(col.header) else
                f"Q{_question_number(col)}" if _question_number(col) else f"D{col.position}")
            values = tuple(sorted(col.distinct, key=_natural))
            out.append(_Demographic(col, ids.claim(wanted, col.header), values))
        elif col.numeric:
            unused[col.position] = f"{len(col.distinct)} distinct numbers: not a category"
        else:
            unused[col.position] = f"{len(col.distinct)} distinct texts: free text, not a category"
    return out


def _top_scale(blocks: Sequence[_Block]) -> _Rating | None:
    dominant = _dominant(blocks)
    for b in blocks:
        if b.rating.same_scale == dominant:
            return b.rating
    return None


def _file_name(source: str) -> str:
    stem = Path(source).stem.casefold()
    name = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")
    return name if name and name[0].isalnum() else "drafted-questionnaire"


def _no_items_message(columns: Sequence[_Column]) -> str:
    shown = ", ".join(repr(_short(c.header, 30)) for c in columns[:8])
    if len(columns) > 8:
        shown += f", ... ({len(columns)} columns)"
    return ("no block of rating items found, so no questionnaire can be drafted: expected "
            "columns that share an id prefix and number (WIL1, WIL2, ... or WIL_1, Q6_1, "
            "WIL[SQ001]), a matrix question (6、(statement) or Grid title [row]) or adjacent "
            "questions answered on one rating scale (1-5, 1-7, 1-10, 0-10, or Strongly "
            "disagree ... Strongly agree, 非常不同意 ... 非常同意); "
            f"the file's columns are {shown}")


# ---------------------------------------------------------------------------
# YAML text
# ---------------------------------------------------------------------------
def _scalar(value: str | int | float) -> str:
    """``value`` as a YAML scalar, plain when it reads back as itself, else quoted."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, str):
        return str(value)
    try:
        if yaml.safe_load(f"{{k: {value}}}") == {"k": value}:
            return value
    except yaml.YAMLError:
        pass
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _text(text: str, extra: str = "") -> str:
    """An ``{en, zh}`` text (Chinese wording stands for both until translated), with
    ``extra`` flow-mapping entries after it."""
    parts = [f"en: {_scalar(text)}"] + ([f"zh: {_scalar(text)}"] if _CJK.search(text) else [])
    if not extra and len(parts) == 1:
        return _scalar(text)
    return "{" + ", ".join(parts + ([extra] if extra else [])) + "}"


def _shell(path: str) -> str:
    """A path as typed in a shell: quoted when it holds a space or a quote."""
    return shlex.quote(path) if re.search(r"[\s'\"$&;|<>()*?]", path) else path


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _comment(text: str, indent: int = 0, width: int = 88) -> list[str]:
    """``text`` as comment lines of at most ``width`` characters."""
    pad = " " * indent
    return [f"{pad}# {line}" for line in textwrap.wrap(
        text, width - indent - 2, subsequent_indent="  ", break_on_hyphens=False)]


def _positions(cols: Sequence[_Column]) -> str:
    nums = [c.position for c in cols]
    if nums == list(range(nums[0], nums[0] + len(nums))) and len(nums) > 1:
        return f"columns {_column_name(nums[0])}-{_column_name(nums[-1])}"
    if len(nums) == 1:
        return f"column {_column_name(nums[0])}"
    return "columns " + ", ".join(_column_name(n) for n in nums)


def _render(d: _Draft) -> str:
    lines = _header_lines(d)
    lines += _scale_lines(d)
    lines += _construct_lines(d)
    lines += _columns_lines(d)
    lines += _value_label_lines(d)
    lines += _demographic_lines(d)
    lines += _screening_lines(d)
    lines += _hypotheses_lines(d)
    lines += _unused_lines(d)
    return "\n".join(lines) + "\n"


def _header_lines(d: _Draft) -> list[str]:
    n_items = sum(len(b.items) for b in d.blocks)
    return [
        *_comment(f"Questionnaire drafted by `sem-kit init` from {d.source} ({d.n_rows} rows, "
                  f"{len(d.columns)} columns): {_count(len(d.blocks), 'construct')} with "
                  f"{_count(n_items, 'item')}, {_count(len(d.demographics), 'demographic')}. "
                  "Every guess says what it was "
                  "made from: check each one, name the constructs, give the items their "
                  "wording (and English text under en:), then run"),
        f"#   sem-kit analyze {_shell(d.source)} -q {_shell(d.output)}",
        "format: 1",
        f"name: {d.name}",
        "",
    ]


def _scale_lines(d: _Draft) -> list[str]:
    if d.scale is None:
        return []
    s = d.scale
    words = f" ({s.ends()})" if s.kind is not None else ""
    others = any(b.rating.same_scale != s.same_scale for b in d.blocks)
    return [*_comment(f"scale of the items: {s.low}-{s.high}{words}"
                      + ("; an item on another scale has its own" if others else "")),
            f"scale: {{min: {s.low}, max: {s.high}}}", ""]


def _item_scale(block: _Block, d: _Draft, conflicts: set[str]) -> str:
    r, top = block.rating, d.scale
    own = {k: v for k, v in r.labels.items() if fold(k) in conflicts}
    if top is not None and (r.low, r.high) == (top.low, top.high) and not own:
        return ""
    labels: dict[int, str] = {}
    for text, code in own.items():  # one spelling per code: the file's first
        labels.setdefault(code, text)
    inner = f"min: {r.low}, max: {r.high}"
    if labels:
        inner += ", labels: {" + ", ".join(f"{k}: {_scalar(v)}" for k, v in sorted(
            labels.items())) + "}"
    return f"scale: {{{inner}}}"


def _construct_lines(d: _Draft) -> list[str]:
    conflicts = _label_conflicts(d.blocks)
    lines = ["constructs:"]
    if any(_wording(c)[1] == c.header and not c.label for b in d.blocks for c in b.columns):
        lines += _comment("An item whose column carries no question text has its header as "
                          "wording: replace it with the statement.", 2)
    for b in d.blocks:
        lines += _comment(f"from {_positions(b.columns)}: {b.how}, "
                          f"{_count(len(b.items), 'item')}, {b.rating.seen()}", 2)
        for hint in _reverse_hints(b):
            lines += _comment(hint, 2)
        lines.append(f"  {b.cid}:")
        lines.append(f"    name: {_block_name(b, d.lang)}")
        lines.append("    items:")
        own_scale = _item_scale(b, d, conflicts)
        for iid, wording in zip(b.items, _statements(b.columns)[1], strict=True):
            lines.append(f"      {iid}: {_text(wording, own_scale)}")
    return lines + [""]


def _block_name(b: _Block, lang: str) -> str:
    """The construct's ``name:`` as YAML: the matrix title, the id prefix, the question."""
    title = _statements(b.columns)[0]
    if title:
        return _text(title)
    if b.key is not None and b.key.kind == "code":
        return _text(b.key.value)
    if b.key is not None and b.key.kind == "number":
        en = f"Question {b.key.value}"
        return f"{{en: {en}, zh: 第{b.key.value}题}}" if lang == "zh" else en
    if len(b.columns) == 1:
        return _text(_wording(b.columns[0])[1])
    return b.cid


def _label_conflicts(blocks: Sequence[_Block]) -> set[str]:
    """Text answers (folded: :func:`sem_kit.io.labels.fold`) that mean different codes on
    the scales of different blocks (Agree: 4 of 5, 6 of 7)."""
    codes: dict[str, set[int]] = {}
    for b in blocks:
        for text, code in b.rating.labels.items():
            codes.setdefault(fold(text), set()).add(code)
    return {t for t, c in codes.items() if len(c) > 1}


def _reverse_hints(b: _Block) -> list[str]:
    """Items that correlate negatively with the rest of their block: reverse-worded?"""
    if len(b.columns) < 3:
        return []
    labels = {fold(k): v for k, v in b.rating.labels.items()}
    frame = pd.DataFrame({
        iid: [labels.get(fold(a)) if isinstance(a, str) else a for a in col.cells]
        for iid, col in zip(b.items, b.columns, strict=True)
    }, dtype=float)
    frame = frame.mask(frame.isin(b.rating.missing_codes))
    hints = []
    for iid in frame.columns:
        rest = frame.drop(columns=iid).mean(axis=1)
        r = frame[iid].corr(rest)
        if not math.isnan(r) and r < 0:
            hints.append(f"{iid} correlates negatively with the other items (r = {r:.2f}): "
                         "if it is reverse-worded, add `reverse: true` to it")
    return hints


def _columns_lines(d: _Draft) -> list[str]:
    lines = ["# the exact header of each item's (and demographic's) column", "columns:"]
    for b in d.blocks:
        lines += [f"  {iid}: {_scalar(col.header)}" for iid, col in zip(b.items, b.columns,
                                                                         strict=True)]
    lines += [f"  {dm.did}: {_scalar(dm.col.header)}" for dm in d.demographics
              if dm.did != dm.col.header]
    return lines + [""]


def _value_label_lines(d: _Draft) -> list[str]:
    conflicts = _label_conflicts(d.blocks)
    labels: dict[str, int] = {}
    kinds: dict[str, set[int]] = {}
    for b in d.blocks:
        if b.rating.kind is not None:
            kinds.setdefault(b.rating.kind, set()).add(b.rating.high)
        labels.update({t: c for t, c in b.rating.labels.items() if fold(t) not in conflicts})
    codes = sorted({c for b in d.blocks for c in b.rating.missing_codes})
    lines: list[str] = []
    if labels:
        what = " and ".join(
            ("the usual answer labels" if kind == "words" else "LimeSurvey's answer codes")
            + f" of a {' or '.join(str(k) for k in sorted(sizes))}-point scale"
            for kind, sizes in kinds.items())
        lines += _comment(f"the file's text answers -> their points: {what}")
        lines.append("value_labels:")
        lines += [f"  {_scalar(t)}: {c}" for t, c in sorted(labels.items(), key=lambda tc: tc[1])]
        lines.append("")
    if d.wjx_skipped:
        lines += _comment(f"a Wenjuanxing download: its {d.wjx_skipped} answers coded -2 or -3 "
                          "(skipped, not shown) are read as 'not answered'; no missing_codes "
                          "needed for them")
        lines.append("")
    if codes:
        lines += ["# codes in the item columns that lie off the scale: read as 'not answered'",
                  f"missing_codes: [{', '.join(str(c) for c in codes)}]", ""]
    return lines


def _demographic_lines(d: _Draft) -> list[str]:
    if not d.demographics:
        return []
    lines = ["demographics:"]
    if any(dm.col.numeric for dm in d.demographics):
        lines += _comment("Codes are labelled as found: write what each means, e.g. "
                          "1: {en: Male, zh: 男}.", 2)
    for dm in d.demographics:
        kind = "codes" if dm.col.numeric else "answers"
        lines += _comment(f"from {dm.col.where()}: {len(dm.values)} distinct {kind}", 2)
        lines.append(f"  {dm.did}:")
        lines.append(f"    name: {_text(_wording(dm.col)[1])}")
        if dm.col.numeric:
            entries = [f'{_scalar(v)}: "{_scalar(v)}"' for v in dm.values]
        else:
            entries = [f"{_scalar(v)}: {_text(str(v))}" for v in dm.values]
        flow = "    values: {" + ", ".join(entries) + "}"
        if len(flow) <= 88:
            lines.append(flow)
        else:
            lines.append("    values:")
            lines += [f"      {e}" for e in entries]
    return lines + [""]


def _screening_lines(d: _Draft) -> list[str]:
    s = d.screening
    lines = ["screening:"]
    if s.id_col is not None:
        lines += _comment(f"{s.id_col.where()}: {s.id_why}", 2)
        lines.append(f"  id_column: {_scalar(s.id_col.header)}")
    else:
        lines += _comment("no respondent id column found: repeated respondents are not "
                          "checked", 2)
    if s.time is not None:
        n_questions = sum(len(b.items) for b in d.blocks) + len(d.demographics)
        minimum = int(math.ceil(SECONDS_PER_ITEM * n_questions / 10.0) * 10)
        seconds = s.time.seconds
        faster = sum(1 for x in seconds if x < minimum)
        lines += _comment(s.time.where(), 2)
        if s.time.column is not None:
            lines.append(f"  duration_column: {_scalar(s.time.column.header)}")
        median = f"{float(np.median(seconds)):.0f} s" if seconds else "unknown"
        lines += _comment(
            f"min_duration: {SECONDS_PER_ITEM} s per question x {n_questions} questions "
            f"(Huang et al. 2012), rounded up to a multiple of 10 s; the median time is "
            f"{median} and {faster} of {len(seconds)} rows are faster", 2)
        lines.append(f"  min_duration: {minimum}")
    else:
        lines += _comment("no response-time column (nor start and end times) found: speeders "
                          "are not checked", 2)
    lines += ["  straightlining: true", "  max_missing: 0.2", ""]
    return lines


def _hypotheses_lines(d: _Draft) -> list[str]:
    ids = [b.cid for b in d.blocks]
    first, last = ids[0], ids[-1]
    second = ids[1] if len(ids) > 2 else first
    lines = [
        "# No hypotheses yet: the run ends with the measurement model (item statistics,",
        "# reliability, EFA, CFA, validity). To test a structural model, replace the",
        "# line below by one path per hypothesis (construct ids from constructs:,",
        '# sign "+" or "-"), for example:',
        "#   hypotheses:",
    ]
    if first != last:
        lines.append(f'#     H1: {{path: {first} -> {last}, sign: "+"}}')
        if second not in (first, last):
            lines.append(f'#     H2: {{path: {second} -> {last}, sign: "-"}}')
    else:
        lines.append('#     H1: {path: A -> B, sign: "+"}')
    return lines + ["hypotheses: {}", ""]


def _unused_lines(d: _Draft) -> list[str]:
    if not d.unused:
        return []
    by_column = {c.position: c for c in d.columns}
    lines = ["# Columns not used:"]
    for pos in sorted(d.unused):
        lines += [f"#  {line[1:]}" for line in _comment(
            f"{by_column[pos].where()}: {d.unused[pos]}")]
    return lines


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def read_for_draft(path: str | Path, sheet: str | None = None,
                   header_row: int | None = None) -> pd.DataFrame:
    """The table :func:`draft_questionnaire` drafts from.

    :func:`read_table` with the header found (or at ``header_row``), platform header
    rows recognised and row numbers the file's. In a workbook of several sheets with
    no ``sheet`` named, the sheet with the most rating items (:func:`rating_items`;
    the first of equals) is read, as ``sem-kit analyze`` reads the sheet that holds
    the questionnaire's items.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_table` gives it; when a sheet was chosen among several,
        ``attrs["notices"]`` says which and why (for the console).
    """
    table = read_table(path, sheet, header_row)
    names = table.attrs.get("sheets") or []
    if sheet is not None or len(names) < 2:
        return table
    tables = []
    for name in names:
        try:
            tables.append(read_table(path, name, header_row))
        except DataError:  # an empty sheet, or one without the header row asked for
            continue
    counts = [rating_items(t) for t in tables]
    if not tables or max(counts) == 0:
        return table
    best = counts.index(max(counts))
    chosen = tables[best]
    others = ", ".join(repr(n) for n in names if n != chosen.attrs["sheet"])
    which = "the first sheet" if chosen.attrs["sheet"] == names[0] else "sheet"
    chosen.attrs["notices"] = [
        f"{path}: read {which} {chosen.attrs['sheet']!r}, which holds {counts[best]} rating "
        f"items; the workbook's other sheets ({others}) were ignored; choose one with --sheet"]
    return chosen
