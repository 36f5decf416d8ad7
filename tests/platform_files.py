"""The bundled sample's answers laid out exactly as survey platforms download them (issue #14).

Each ``write_<layout>(path, lang)`` writes the sample data (data/sample_responses.csv) the
way one platform's download lays it out -- its metadata columns, header rows, question
numbering, answer coding and file format -- and returns ``path``. :data:`LAYOUTS` lists every
layout with what a test needs to know about it: the writer, the file extension, the header
rows, which row names the columns and which carries the item wording, how answers are coded
and which file rows hold respondents (:meth:`Layout.rows`). The sources of each layout's
details are in tests/data/README.md.

Every layout holds the 400 respondents that screening keeps from the sample, with the same
item answers in the same order, so an analysis of any of these files gives the native
chi-square. Of the sample's nine flawed rows (data/README.md), each layout carries the ones
its platform can produce -- a platform never writes a blank row or repeats its own response
id, and a Google Form records no completion time, so its speeders could not be screened out.
:meth:`Layout.rows` gives, for each layout, every data row, the 400 respondents' rows and the
excluded rows with sem_kit's screening reason code, so that analysed + excluded = data rows.

Run ``python tests/platform_files.py OUTDIR`` to write every layout into OUTDIR.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
from openpyxl import Workbook
from references import SAMPLE

from sem_kit import Questionnaire, load_questionnaire

LANGS = ("en", "zh")
DEMOGRAPHICS = ("gender", "age", "education", "tenure", "platform")
"""The sample's demographic columns, asked in this order as questions 1-5."""

FLAWS: dict[int, str] = {
    72: "too_many_missing",
    75: "duplicate_answers",
    79: "straight_lining",
    80: "too_fast",
    96: "duplicate_id",
    158: "blank",
    201: "too_fast",
    202: "straight_lining",
    270: "no_answers",
}
"""The sample's flawed data rows (0-based; file row - 2 in data/README.md) and the reason
code (sem_kit.io.screening.REASONS) under which screening excludes each."""

HAND_TYPED = frozenset(FLAWS.values())
"""Flaws a file typed by hand carries: all of them, as the native sample does."""
PLATFORM = HAND_TYPED - {"blank", "duplicate_id"}
"""Flaws a platform download carries: no blank row, no repeated response id."""
UNTIMED = PLATFORM - {"too_fast"}
"""Flaws a download without completion times carries: its speeders cannot be screened out,
so they are left out of the file."""

MATRIX_TITLE = {
    "en": "How much do you agree or disagree with the following statements?",
    "zh": "请选择您对以下说法的同意程度。",
}
"""The text of every matrix (grid) question; its statements are the items."""

PLATFORM_AGREE = {
    1: "Strongly disagree", 2: "Disagree", 3: "Somewhat disagree",
    4: "Neither agree nor disagree", 5: "Somewhat agree", 6: "Agree", 7: "Strongly agree",
}
"""The 7-point agreement choices Qualtrics and SurveyMonkey offer (their wording, which
differs from the questionnaire's own labels at 4)."""

START = datetime(2026, 11, 2, 9, 0, 0)
"""When the first respondent of a file started; the next one started 1789 s later, etc."""


# --------------------------------------------------------------------------- the sample


@cache
def _sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype={"respondent_id": object})


def sample() -> pd.DataFrame:
    """The bundled sample data as read by :func:`pandas.read_csv` (a new frame each call)."""
    return _sample().copy()


def items() -> list[str]:
    """The item ids in the sample's column order (WIL1 ... KSB4)."""
    return list(_sample().columns[2 + len(DEMOGRAPHICS):])


def clean_rows() -> list[int]:
    """Sample data rows (0-based) that screening keeps: the 400 respondents, in order."""
    return [i for i in range(len(_sample())) if i not in FLAWS]


def _carried(flaws: frozenset[str]) -> list[int]:
    return [i for i in range(len(_sample())) if FLAWS.get(i, "") in flaws | {""}]


def _records(flaws: frozenset[str]) -> Iterator[tuple[int, int, pd.Series]]:
    """(position in the file's body, sample row, the row) for every carried row."""
    data = _sample()
    for p, i in enumerate(_carried(flaws)):
        yield p, i, data.iloc[i]


def _number(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


# --------------------------------------------------------------------------- the questionnaire


@cache
def questionnaire() -> Questionnaire:
    """The built-in questionnaire (customer-knowledge-sharing)."""
    return load_questionnaire()


@dataclass(frozen=True)
class Question:
    """One question as a platform numbers it: a demographic or a construct's matrix."""

    number: int
    key: str
    items: tuple[str, ...] = ()


@cache
def questions() -> tuple[Question, ...]:
    """Questions 1-5 ask the demographics, 6-18 are one matrix per construct with items."""
    demographic = [Question(n, key) for n, key in enumerate(DEMOGRAPHICS, 1)]
    matrices = [(c, tuple(its)) for c, its in questionnaire().construct_items.items() if its]
    numbered = [Question(len(demographic) + n, c, its) for n, (c, its) in enumerate(matrices, 1)]
    assert [i for q in numbered for i in q.items] == items(), "questionnaire and sample disagree"
    return tuple(demographic + numbered)


def _matrices() -> Iterator[tuple[Question, int, str]]:
    """(question, 1-based row in its matrix, item id) for every item."""
    for q in questions():
        for k, item in enumerate(q.items, 1):
            yield q, k, item


def wording(item: str, lang: str) -> str:
    """The item's wording in ``lang``."""
    return getattr(questionnaire().items[item], lang)


def demographic_title(key: str, lang: str) -> str:
    """The question text of a demographic, e.g. ``Gender:`` / ``性别：``."""
    name = getattr(questionnaire().model.demographics[key].name, lang)
    return f"{name}:" if lang == "en" else f"{name}："


def demographic_label(key: str, code: int, lang: str) -> str:
    """The answer text of a demographic code, e.g. ``Female`` / ``女``."""
    return getattr(questionnaire().model.demographics[key].values[code], lang)


def scale_labels(lang: str) -> dict[int, str]:
    """The questionnaire's own labels of the scale points 1-7 in ``lang``."""
    return {int(k): getattr(v, lang) for k, v in questionnaire().model.scale.labels.items()}


def platform_agree(lang: str) -> dict[int, str]:
    """Qualtrics' and SurveyMonkey's agreement choices; in Chinese, the questionnaire's."""
    return dict(PLATFORM_AGREE) if lang == "en" else scale_labels(lang)


def _demographics(row: pd.Series, lang: str, as_text: bool) -> list[Any]:
    codes = [_number(row[key]) for key in DEMOGRAPHICS]
    if not as_text:
        return codes
    return [None if c is None else demographic_label(k, c, lang)
            for k, c in zip(DEMOGRAPHICS, codes, strict=True)]


def _answers(row: pd.Series, labels: dict[int, Any] | None, missing: Any = None) -> list[Any]:
    """The row's item answers: the scale point's label (or the number), ``missing`` if none."""
    values = [_number(row[item]) for item in items()]
    return [missing if v is None else (labels[v] if labels else v) for v in values]


# --------------------------------------------------------------------------- shared cells


def _times(p: int, row: pd.Series) -> tuple[datetime, datetime]:
    """When the respondent at body position ``p`` started and submitted."""
    start = START + timedelta(seconds=1789 * p)
    return start, start + timedelta(seconds=int(row["duration_sec"]))


def _ip(p: int) -> str:
    return f"{58 + p % 150}.{(p * 37 + 11) % 256}.{(p * 101 + 23) % 256}.{1 + (p * 53 + 7) % 254}"


def _token(seed: str, length: int) -> str:
    """A stable random-looking string of letters and digits (platform response ids)."""
    alphabet = string.ascii_letters + string.digits
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _item_cells(header: Callable[[Question, int, str, str], str], lang: str) -> list[str]:
    return [header(q, k, item, lang) for q, k, item in _matrices()]


def _demographic_cells(header: Callable[[Question, str], str], lang: str) -> list[str]:
    return [header(q, lang) for q in questions() if not q.items]


@dataclass(frozen=True)
class Table:
    """A sheet as rows of cells: the rows above the data, then one row per data row."""

    header: list[list[Any]]
    body: list[list[Any]]

    @property
    def cells(self) -> list[list[Any]]:
        return self.header + self.body


def _save_csv(table: Table, path: Path, encoding: str = "utf-8",
              quoting: int = csv.QUOTE_MINIMAL) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        out = csv.writer(f, quoting=quoting)
        for row in table.cells:
            out.writerow(["" if v is None else v for v in row])
    return path


def _save_xlsx(sheets: dict[str, Table], path: Path) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(table.cells, 1):
            for c, value in enumerate(row, 1):
                if value is not None:
                    sheet.cell(r, c, value)
    book.save(path)
    return path


# --------------------------------------------------------------------------- Wenjuanxing

WJX_META = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
WJX_SOURCES = ("微信", "手机提交", "直链访问")
WJX_REGIONS = ("浙江-杭州", "广东-深圳", "北京-北京", "上海-上海", "四川-成都", "湖北-武汉")
WJX_SKIPPED = -3
"""按选项序号: the respondent skipped the question (跳过)."""
WJX_NOT_SHOWN = -2
"""按选项序号: the question was not shown; used for the row that answered no item."""
WJX_SKIPPED_TEXT = "(跳过)"
"""按选项文本: an unanswered question."""


def _wjx_item(q: Question, k: int, item: str, lang: str) -> str:
    return f"{q.number}、({wording(item, lang)})"


def _wjx_demographic(q: Question, lang: str) -> str:
    return f"{q.number}、{demographic_title(q.key, lang)}"


def _wjx_table(lang: str, as_text: bool) -> Table:
    header = (list(WJX_META) + _demographic_cells(_wjx_demographic, lang)
              + _item_cells(_wjx_item, lang))
    labels = scale_labels(lang) if as_text else None
    body = []
    for p, i, row in _records(PLATFORM):
        _, submitted = _times(p, row)
        meta = [p + 1, submitted.strftime("%Y/%m/%d %H:%M:%S"), f"{int(row['duration_sec'])}秒",
                WJX_SOURCES[p % len(WJX_SOURCES)], "N/A", f"{_ip(p)}({WJX_REGIONS[p % 6]})"]
        missing = WJX_NOT_SHOWN if FLAWS.get(i) == "no_answers" else WJX_SKIPPED
        answers = _answers(row, labels, WJX_SKIPPED_TEXT if as_text else missing)
        body.append(meta + _demographics(row, lang, as_text) + answers)
    return Table([header], body)


def write_wjx_text(path: Path, lang: str = "zh") -> Path:
    """问卷星「按选项文本下载」(.xlsx): answers as the options' text."""
    return _save_xlsx({"Sheet1": _wjx_table(lang, as_text=True)}, path)


def write_wjx_number(path: Path, lang: str = "zh") -> Path:
    """问卷星「按选项序号下载」(.xlsx): answers as option numbers, -3 / -2 where unanswered."""
    return _save_xlsx({"Sheet1": _wjx_table(lang, as_text=False)}, path)


def write_wjx_number_gbk(path: Path, lang: str = "zh") -> Path:
    """问卷星「按选项序号下载」as a GBK-encoded .csv (what Excel on a Chinese Windows opens)."""
    return _save_csv(_wjx_table(lang, as_text=False), path, encoding="gbk")


# --------------------------------------------------------------------------- Qualtrics

QUALTRICS_TZ = "Asia/Shanghai"
QUALTRICS_META = (
    ("StartDate", "Start Date", {"ImportId": "startDate", "timeZone": QUALTRICS_TZ}),
    ("EndDate", "End Date", {"ImportId": "endDate", "timeZone": QUALTRICS_TZ}),
    ("Status", "Response Type", {"ImportId": "status"}),
    ("IPAddress", "IP Address", {"ImportId": "ipAddress"}),
    ("Progress", "Progress", {"ImportId": "progress"}),
    ("Duration (in seconds)", "Duration (in seconds)", {"ImportId": "duration"}),
    ("Finished", "Finished", {"ImportId": "finished"}),
    ("RecordedDate", "Recorded Date", {"ImportId": "recordedDate", "timeZone": QUALTRICS_TZ}),
    ("ResponseId", "Response ID", {"ImportId": "_recordId"}),
    ("RecipientLastName", "Recipient Last Name", {"ImportId": "recipientLastName"}),
    ("RecipientFirstName", "Recipient First Name", {"ImportId": "recipientFirstName"}),
    ("RecipientEmail", "Recipient Email", {"ImportId": "recipientEmail"}),
    ("ExternalReference", "External Data Reference", {"ImportId": "externalDataReference"}),
    ("LocationLatitude", "Location Latitude", {"ImportId": "locationLatitude"}),
    ("LocationLongitude", "Location Longitude", {"ImportId": "locationLongitude"}),
    ("DistributionChannel", "Distribution Channel", {"ImportId": "distributionChannel"}),
    ("UserLanguage", "User Language", {"ImportId": "userLanguage"}),
)
"""Qualtrics' respondent columns: export name (row 1), label (row 2), import id (row 3)."""
QUALTRICS_DATES = ("StartDate", "EndDate", "RecordedDate")
QUALTRICS_LANGUAGE = {"en": "EN", "zh": "ZH-S"}


def _qualtrics_item(q: Question, k: int, item: str, lang: str) -> str:
    return f"Q{q.number}_{k}"


def _qualtrics_columns(lang: str) -> list[tuple[str, str, dict[str, str]]]:
    """(export name, question text, import id) of every column."""
    columns = list(QUALTRICS_META)
    for q in questions():
        if not q.items:
            columns.append((f"Q{q.number}", demographic_title(q.key, lang),
                            {"ImportId": f"QID{q.number}"}))
    for q, k, item in _matrices():
        columns.append((_qualtrics_item(q, k, item, lang),
                        f"{MATRIX_TITLE[lang]} - {wording(item, lang)}",
                        {"ImportId": f"QID{q.number}_{k}"}))
    return columns


def _qualtrics_meta(p: int, i: int, row: pd.Series, lang: str) -> list[Any]:
    """The respondent columns of one response; the row that answered no item left after
    the demographics page (Finished 0) and was recorded when the survey closed it."""
    start, end = _times(p, row)
    finished = FLAWS.get(i) != "no_answers"
    recorded = end if finished else end + timedelta(days=7)
    progress = 100 if finished else round(100 * len(DEMOGRAPHICS) / len(questions()))
    return [start, end, 0, _ip(p), progress, int(row["duration_sec"]), int(finished), recorded,
            "R_" + _token(f"qualtrics{p}", 15), None, None, None, None,
            round(31.2304 + (p % 50) / 1000, 4), round(121.4737 + (p % 40) / 1000, 4),
            "anonymous", QUALTRICS_LANGUAGE[lang]]


def _qualtrics_records(lang: str) -> list[list[Any]]:
    return [_qualtrics_meta(p, i, row, lang) + _demographics(row, lang, False) + _answers(row, None)
            for p, i, row in _records(PLATFORM)]


def write_qualtrics(path: Path, lang: str = "en") -> Path:
    """Qualtrics "Export data → CSV" with numeric values: three header rows."""
    columns = _qualtrics_columns(lang)
    header = [[c[0] for c in columns], [c[1] for c in columns],
              [json.dumps(c[2], separators=(",", ":")) for c in columns]]
    body = [[v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v for v in record]
            for record in _qualtrics_records(lang)]
    return _save_csv(Table(header, body), path, encoding="utf-8-sig")


def qualtrics_spss_name(name: str) -> str:
    """The SPSS variable name of a Qualtrics export column (``Duration__in_seconds_``)."""
    return re.sub(r"\W", "_", name)


def write_qualtrics_sav(path: Path, lang: str = "en") -> Path:
    """Qualtrics "Export data → SPSS": variable labels hold the question text."""
    columns = _qualtrics_columns(lang)
    names = [qualtrics_spss_name(c[0]) for c in columns]
    frame = pd.DataFrame(_qualtrics_records(lang), columns=names)
    for name in names[len(QUALTRICS_META):]:
        frame[name] = frame[name].astype(float)
    text = ("IPAddress", "ResponseId", "RecipientLastName", "RecipientFirstName",
            "RecipientEmail", "ExternalReference", "DistributionChannel", "UserLanguage")
    for name in text:
        frame[name] = frame[name].fillna("").astype(object)
    value_labels: dict[str, dict[Any, str]] = {
        "Status": {0: "IP Address", 1: "Survey Preview", 2: "Survey Test", 4: "Imported"},
        "Finished": {0: "False", 1: "True"},
    }
    for q in questions():
        if not q.items:
            value_labels[f"Q{q.number}"] = {
                c: demographic_label(q.key, c, lang)
                for c in questionnaire().model.demographics[q.key].values}
    for q, k, item in _matrices():
        value_labels[_qualtrics_item(q, k, item, lang)] = platform_agree(lang)
    pyreadstat.write_sav(frame, path, column_labels=[c[1] for c in columns],
                         variable_value_labels=value_labels)
    return path


# --------------------------------------------------------------------------- LimeSurvey

LIME_META = (("id", "Response ID"), ("submitdate", "Date submitted"), ("lastpage", "Last page"),
             ("startlanguage", "Start language"), ("seed", "Seed"),
             ("startdate", "Date started"), ("datestamp", "Date last action"))
"""LimeSurvey's response columns: code heading and full heading."""
LIME_GROUPS = ((101, {"en": "About you", "zh": "基本信息"}),
               (102, {"en": "Knowledge sharing", "zh": "知识共享"}))
"""Question groups (gid, name): the demographics page, then the matrices page."""
LIME_LANGUAGE = {"en": "en", "zh": "zh-Hans"}
LIME_DEMOGRAPHIC_SHARE = 0.15
"""Share of the interview time spent on the demographics page (timing columns)."""


def _lime_code_item(q: Question, k: int, item: str, lang: str) -> str:
    return f"{q.key}[SQ{k:03d}]"


def _lime_text_item(q: Question, k: int, item: str, lang: str) -> str:
    return f"{MATRIX_TITLE[lang]} [{wording(item, lang)}]"


def _lime_timing_columns(lang: str, full: bool) -> list[str]:
    """interviewtime, then each group's time followed by its questions' times."""
    columns = ["Total time" if full else "interviewtime"]
    for gid, name in LIME_GROUPS:
        in_group = [q for q in questions() if bool(q.items) == (gid == LIME_GROUPS[1][0])]
        columns.append(f"Group time: {name[lang]}" if full else f"groupTime{gid}")
        columns += [f"Question time: {q.key}" if full else f"{q.key}Time" for q in in_group]
    return columns


def _lime_timings(duration: float) -> list[str]:
    first = duration * LIME_DEMOGRAPHIC_SHARE
    n_demographic = len(DEMOGRAPHICS)
    n_matrix = len(questions()) - n_demographic
    times = [duration, first] + [first / n_demographic] * n_demographic
    times += [duration - first] + [(duration - first) / n_matrix] * n_matrix
    return [f"{t:.2f}" for t in times]


def _lime_table(lang: str, full: bool) -> Table:
    demographic = _demographic_cells(lambda q, lg: demographic_title(q.key, lg) if full else q.key,
                                     lang)
    header = ([m[1] if full else m[0] for m in LIME_META] + demographic
              + _item_cells(_lime_text_item if full else _lime_code_item, lang)
              + _lime_timing_columns(lang, full))
    labels = scale_labels(lang) if full else {v: f"A{v}" for v in range(1, 8)}
    body = []
    for p, i, row in _records(PLATFORM):
        start, end = _times(p, row)
        submitted = FLAWS.get(i) != "no_answers"
        meta = [p + 1, end.strftime("%Y-%m-%d %H:%M:%S") if submitted else None,
                2 if submitted else 1, LIME_LANGUAGE[lang],
                str(100000000 + (p * 7919 * 7919) % 900000000),
                start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")]
        codes = _demographics(row, lang, as_text=full)
        if not full:
            codes = [None if c is None else f"A{c}" for c in codes]
        body.append(meta + codes + _answers(row, labels) + _lime_timings(row["duration_sec"]))
    return Table([header], body)


def write_limesurvey_codes(path: Path, lang: str = "en") -> Path:
    """LimeSurvey "Export responses → CSV", headings "Question code", responses "Answer codes"."""
    return _save_csv(_lime_table(lang, full=False), path, quoting=csv.QUOTE_ALL)


def write_limesurvey_text(path: Path, lang: str = "en") -> Path:
    """LimeSurvey "Export responses → CSV", headings "Full question text", full answers."""
    return _save_csv(_lime_table(lang, full=True), path, quoting=csv.QUOTE_ALL)


# --------------------------------------------------------------------------- SurveyMonkey

SM_META = ("Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
           "Email Address", "First Name", "Last Name", "Custom Data 1")
SM_COLLECTOR = 431877205
SM_DATE = "%m/%d/%Y %I:%M:%S %p"


def _sm_item(q: Question, k: int, item: str, lang: str) -> str:
    return wording(item, lang)


def _sm_table(lang: str) -> Table:
    first = list(SM_META) + _demographic_cells(lambda q, lg: demographic_title(q.key, lg), lang)
    second = [None] * len(SM_META) + ["Response"] * len(DEMOGRAPHICS)
    for q in questions():
        if q.items:
            first += [MATRIX_TITLE[lang]] + [None] * (len(q.items) - 1)
    second += _item_cells(_sm_item, lang)
    body = []
    for p, _i, row in _records(PLATFORM):
        start, end = _times(p, row)
        meta = [11420593817 + 7919 * p, SM_COLLECTOR, start.strftime(SM_DATE),
                end.strftime(SM_DATE), _ip(p), None, None, None, None]
        body.append(meta + _demographics(row, lang, True) + _answers(row, platform_agree(lang)))
    return Table([first, second], body)


def write_surveymonkey(path: Path, lang: str = "en") -> Path:
    """SurveyMonkey "All responses data" → CSV (expanded, actual answer text)."""
    return _save_csv(_sm_table(lang), path)


def write_surveymonkey_xlsx(path: Path, lang: str = "en") -> Path:
    """SurveyMonkey "All responses data" → XLS (expanded, actual answer text)."""
    return _save_xlsx({"Sheet": _sm_table(lang)}, path)


# --------------------------------------------------------------------------- Google Forms

GOOGLE_TIMESTAMP = {"en": "Timestamp", "zh": "时间戳记"}
GOOGLE_SHEET = "Form Responses 1"


def _google_item(q: Question, k: int, item: str, lang: str) -> str:
    return f"{MATRIX_TITLE[lang]} [{wording(item, lang)}]"


def _google_stamp(moment: datetime, lang: str) -> str:
    """The linked Sheet's timestamp as its CSV download writes it (M/d/yyyy H:mm:ss)."""
    clock = f"{moment.hour}:{moment.minute:02d}:{moment.second:02d}"
    if lang == "en":
        return f"{moment.month}/{moment.day}/{moment.year} {clock}"
    return f"{moment.year}/{moment.month}/{moment.day} {clock}"


def _google_table(lang: str, stamp: Callable[[datetime, str], Any]) -> Table:
    header = ([GOOGLE_TIMESTAMP[lang]]
              + _demographic_cells(lambda q, lg: demographic_title(q.key, lg), lang)
              + _item_cells(_google_item, lang))
    body = [[stamp(_times(p, row)[1], lang)] + _demographics(row, lang, True)
            + _answers(row, scale_labels(lang)) for p, _i, row in _records(UNTIMED)]
    return Table([header], body)


def write_google_forms(path: Path, lang: str = "en") -> Path:
    """The Form's linked Sheet, File → Download → CSV: no completion time."""
    return _save_csv(_google_table(lang, _google_stamp), path)


def write_google_forms_xlsx(path: Path, lang: str = "en") -> Path:
    """The Form's linked Sheet, File → Download → Microsoft Excel (timestamps as dates)."""
    return _save_xlsx({GOOGLE_SHEET: _google_table(lang, lambda m, _lang: m)}, path)


# --------------------------------------------------------------------------- typed by hand

TYPED_MISSING = 99
"""The code an assistant typed for an unanswered item."""
NO_ANSWER = {"en": "No answer", "zh": "未作答"}
COLUMN_LABELS = {
    "respondent_id": {"en": "Respondent ID", "zh": "答卷编号"},
    "duration_sec": {"en": "Completion time (seconds)", "zh": "作答时长（秒）"},
}
EXCEL_TITLE = {"en": "Customer survey 2026, wave 1", "zh": "2026年顾客调查（第一轮）"}


def _native_table() -> Table:
    """The sample's own layout, every row (the blank one as an empty row)."""
    data = _sample()
    body = [[None if pd.isna(row["respondent_id"]) else row["respondent_id"]]
            + [_number(v) for v in row.iloc[1:]] for _, row in data.iterrows()]
    return Table([list(data.columns)], body)


def column_label(column: str, lang: str) -> str:
    """What a typed file calls a column: its wording, demographic name or description."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column][lang]
    if column in DEMOGRAPHICS:
        return getattr(questionnaire().model.demographics[column].name, lang)
    return wording(column, lang)


def value_labels(column: str, lang: str) -> dict[int, str]:
    """The codes of a demographic or the scale points of an item; {} for other columns."""
    if column in DEMOGRAPHICS:
        codes = questionnaire().model.demographics[column].values
        return {int(c): demographic_label(column, c, lang) for c in codes}
    return scale_labels(lang) if column in items() else {}


def _typed_sav(path: Path, lang: str, declared: bool) -> Path:
    frame = sample()
    answered = frame.notna().any(axis=1)
    frame.loc[answered, items()] = frame.loc[answered, items()].fillna(TYPED_MISSING)
    frame["respondent_id"] = frame["respondent_id"].fillna("").astype(object)
    labels = {c: value_labels(c, lang) for c in frame.columns if value_labels(c, lang)}
    if declared:
        for item in items():
            labels[item] = {**labels[item], TYPED_MISSING: NO_ANSWER[lang]}
    pyreadstat.write_sav(
        frame, path, column_labels=[column_label(c, lang) for c in frame.columns],
        variable_value_labels=labels,
        missing_ranges={item: [TYPED_MISSING] for item in items()} if declared else None)
    return path


def write_spss_missing_declared(path: Path, lang: str = "zh") -> Path:
    """SPSS .sav typed by an assistant: 99 for no answer, declared user-missing."""
    return _typed_sav(path, lang, declared=True)


def write_spss_missing_undeclared(path: Path, lang: str = "zh") -> Path:
    """SPSS .sav typed by an assistant: 99 for no answer, not declared missing."""
    return _typed_sav(path, lang, declared=False)


def write_excel_title_row(path: Path, lang: str = "en") -> Path:
    """An Excel workbook with a title in A1 and an empty row 2 above the header (row 3)."""
    native = _native_table()
    table = Table([[EXCEL_TITLE[lang]], []] + native.header, native.body)
    return _save_xlsx({"Sheet1": table}, path)


def write_excel_codebook(path: Path, lang: str = "en") -> Path:
    """An Excel workbook whose first sheet is a codebook and whose second holds the data."""
    codebook = Table([["variable", "label", "values"]], [
        [c, column_label(c, lang),
         "; ".join(f"{k} = {v}" for k, v in value_labels(c, lang).items()) or None]
        for c in _sample().columns])
    return _save_xlsx({"Codebook": codebook, "Data": _native_table()}, path)


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Rows:
    """Where one layout's data rows are, numbered as sem_kit numbers file rows (header = 1)."""

    data_rows: tuple[int, ...]
    """Every row below the header rows, blank rows included."""
    sample_row: dict[int, int]
    """File row -> the sample's data row (0-based) it holds."""
    respondent_rows: tuple[int, ...]
    """The 400 respondents' rows, in the sample's order."""
    excluded: dict[int, str]
    """The carried flawed rows -> the reason code screening excludes each under."""


@dataclass(frozen=True)
class Layout:
    """One platform download (see tests/data/README.md for its sources).

    Attributes
    ----------
    name:
        Key in :data:`LAYOUTS` (:meth:`file_name` derives the file's name from it).
    write:
        ``write(path, lang) -> path``.
    extension:
        ``.csv``, ``.xlsx`` or ``.sav``.
    lang:
        The writer's default language (``en`` or ``zh``); every writer takes both.
    header_rows:
        The rows above the data (1-based); a .sav file's dictionary counts as row 1.
    name_row:
        The row that names the columns (the respondent columns' names are there).
    wording_row:
        The row whose item cells hold the item wording; None if no header has it.
    item_row:
        The row where :meth:`item_headers` are found.
    item_header:
        ``(question, row in matrix, item, lang) -> header`` of an item's column.
    leading:
        The first headers of ``name_row``: the platform's respondent columns.
    flaws:
        The reason codes of the sample's flawed rows this layout carries.
    answer_labels:
        ``lang -> {scale point: cell text}`` when answers are text; None when numbers.
    missing_cells:
        Cell values that stand for an unanswered item besides an empty cell.
    duration_header:
        The column holding the completion time (seconds; WJX writes ``135秒``), if any.
    sheet:
        The workbook sheet holding the data (.xlsx).
    encoding:
        The text encoding (.csv).
    wording_in_labels:
        Whether a .sav's variable labels hold the item wording.
    """

    name: str
    write: Callable[..., Path]
    extension: str
    lang: str
    header_rows: tuple[int, ...]
    name_row: int
    wording_row: int | None
    item_row: int
    item_header: Callable[[Question, int, str, str], str]
    leading: Callable[[str], tuple[str, ...]]
    flaws: frozenset[str] = PLATFORM
    answer_labels: Callable[[str], dict[int, str]] | None = None
    missing_cells: tuple[Any, ...] = ()
    duration_header: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    wording_in_labels: bool = False

    @property
    def wording_in_headers(self) -> bool:
        """Whether the item wording appears in a header row."""
        return self.wording_row is not None

    @property
    def first_data_row(self) -> int:
        return max(self.header_rows) + 1

    def file_name(self) -> str:
        """``qualtrics.csv``, ``qualtrics.sav``, ``surveymonkey.xlsx``, ...: the name without a
        trailing ``_xlsx`` / ``_sav``, plus the extension."""
        return re.sub(r"_(xlsx|sav)$", "", self.name) + self.extension

    def item_headers(self, lang: str | None = None) -> dict[str, str]:
        """Item id -> its column's header in :attr:`item_row` (a .sav: variable name)."""
        lang = lang or self.lang
        return {item: self.item_header(q, k, item, lang) for q, k, item in _matrices()}

    def rows(self) -> Rows:
        """Which file rows hold what: analysed + excluded = data rows."""
        carried = _carried(self.flaws)
        data_rows = tuple(range(self.first_data_row, self.first_data_row + len(carried)))
        sample_row = dict(zip(data_rows, carried, strict=True))
        return Rows(
            data_rows=data_rows, sample_row=sample_row,
            respondent_rows=tuple(r for r, i in sample_row.items() if i not in FLAWS),
            excluded={r: FLAWS[i] for r, i in sample_row.items() if i in FLAWS})


def _const(headers: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    return lambda _lang: headers


def _id_item(q: Question, k: int, item: str, lang: str) -> str:
    return item


QUALTRICS_NAMES = tuple(m[0] for m in QUALTRICS_META)
NATIVE = ("respondent_id", "duration_sec") + DEMOGRAPHICS
_WJX = dict(lang="zh", header_rows=(1,), name_row=1, wording_row=1, item_row=1,
            item_header=_wjx_item, leading=_const(WJX_META), duration_header="所用时间")
_TYPED_SAV = dict(extension=".sav", lang="zh", header_rows=(1,), name_row=1, wording_row=None,
                  item_row=1, item_header=_id_item, leading=_const(NATIVE), flaws=HAND_TYPED,
                  missing_cells=(TYPED_MISSING,), duration_header="duration_sec",
                  wording_in_labels=True)
_SM = dict(lang="en", header_rows=(1, 2), name_row=1, wording_row=2, item_row=2,
           item_header=_sm_item, leading=_const(SM_META), answer_labels=platform_agree)
_GOOGLE = dict(lang="en", header_rows=(1,), name_row=1, wording_row=1, item_row=1,
               item_header=_google_item, leading=lambda lang: (GOOGLE_TIMESTAMP[lang],),
               flaws=UNTIMED, answer_labels=scale_labels)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    Layout("wjx_text", write_wjx_text, ".xlsx", **_WJX, answer_labels=scale_labels,
           missing_cells=(WJX_SKIPPED_TEXT,), sheet="Sheet1"),
    Layout("wjx_number", write_wjx_number, ".xlsx", **_WJX,
           missing_cells=(WJX_NOT_SHOWN, WJX_SKIPPED), sheet="Sheet1"),
    Layout("wjx_number_gbk", write_wjx_number_gbk, ".csv", **_WJX,
           missing_cells=(WJX_NOT_SHOWN, WJX_SKIPPED), encoding="gbk"),
    Layout("qualtrics", write_qualtrics, ".csv", "en", header_rows=(1, 2, 3), name_row=1,
           wording_row=2, item_row=1, item_header=_qualtrics_item,
           leading=_const(QUALTRICS_NAMES), duration_header="Duration (in seconds)",
           encoding="utf-8-sig"),
    Layout("qualtrics_sav", write_qualtrics_sav, ".sav", "en", header_rows=(1,), name_row=1,
           wording_row=None, item_row=1, item_header=_qualtrics_item,
           leading=_const(tuple(qualtrics_spss_name(n) for n in QUALTRICS_NAMES)),
           duration_header="Duration__in_seconds_", wording_in_labels=True),
    Layout("limesurvey_codes", write_limesurvey_codes, ".csv", "en", header_rows=(1,),
           name_row=1, wording_row=None, item_row=1, item_header=_lime_code_item,
           leading=_const(tuple(m[0] for m in LIME_META)),
           answer_labels=lambda _lang: {v: f"A{v}" for v in range(1, 8)},
           duration_header="interviewtime", encoding="utf-8"),
    Layout("limesurvey_text", write_limesurvey_text, ".csv", "en", header_rows=(1,),
           name_row=1, wording_row=1, item_row=1, item_header=_lime_text_item,
           leading=_const(tuple(m[1] for m in LIME_META)), answer_labels=scale_labels,
           duration_header="Total time", encoding="utf-8"),
    Layout("surveymonkey", write_surveymonkey, ".csv", **_SM, encoding="utf-8"),
    Layout("surveymonkey_xlsx", write_surveymonkey_xlsx, ".xlsx", **_SM, sheet="Sheet"),
    Layout("google_forms", write_google_forms, ".csv", **_GOOGLE, encoding="utf-8"),
    Layout("google_forms_xlsx", write_google_forms_xlsx, ".xlsx", **_GOOGLE, sheet=GOOGLE_SHEET),
    Layout("spss_missing_declared", write_spss_missing_declared, **_TYPED_SAV),
    Layout("spss_missing_undeclared", write_spss_missing_undeclared, **_TYPED_SAV),
    Layout("excel_title_row", write_excel_title_row, ".xlsx", "en", header_rows=(1, 2, 3),
           name_row=3, wording_row=None, item_row=3, item_header=_id_item,
           leading=_const(NATIVE), flaws=HAND_TYPED, duration_header="duration_sec",
           sheet="Sheet1"),
    Layout("excel_codebook", write_excel_codebook, ".xlsx", "en", header_rows=(1,), name_row=1,
           wording_row=None, item_row=1, item_header=_id_item, leading=_const(NATIVE),
           flaws=HAND_TYPED, duration_header="duration_sec", sheet="Data"),
)}
"""Every layout by name."""


def write_all(directory: Path, lang: str | None = None) -> dict[str, Path]:
    """Write every layout into ``directory`` (each in its default language unless ``lang``)."""
    directory.mkdir(parents=True, exist_ok=True)
    return {name: layout.write(directory / layout.file_name(), lang or layout.lang)
            for name, layout in LAYOUTS.items()}


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1])).values():
        print(written)
