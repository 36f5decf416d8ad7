"""Self-checks of the platform layouts of tests/platform_files.py (issue #14).

Each layout is written in English and in Chinese, reopened with pandas, openpyxl or
pyreadstat, and checked against what :data:`platform_files.LAYOUTS` says about it: its
header rows, its rows (analysed + excluded = data rows) and its answers, decoded here
back to the sample's -- without sem_kit's ingest, which these files are meant to test.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from platform_files import (
    FLAWS,
    LANGS,
    LAYOUTS,
    MATRIX_TITLE,
    SM_DATE,
    TYPED_MISSING,
    WJX_NOT_SHOWN,
    WJX_SKIPPED,
    WJX_SKIPPED_TEXT,
    Layout,
    clean_rows,
    items,
    questions,
    sample,
    wording,
)

CASES = [(name, lang) for name in LAYOUTS for lang in LANGS]
Reader = Callable[[str, str], list[list[Any]]]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every layout written once per language."""
    root = tmp_path_factory.mktemp("platform_files")
    return {(name, lang): LAYOUTS[name].write(root / f"{lang}_{LAYOUTS[name].file_name()}", lang)
            for name, lang in CASES}


@pytest.fixture(scope="module")
def read(written: dict[tuple[str, str], Path]) -> Reader:
    """``read(name, lang)``: :func:`grid` of that written file, read once."""
    return cache(lambda name, lang: grid(LAYOUTS[name], written[name, lang]))


def grid(layout: Layout, path: Path) -> list[list[Any]]:
    """The file's cells, row 1 first (a .sav: the variable names, then one row per case)."""
    if layout.extension == ".csv":
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                            encoding=layout.encoding)
        return frame.to_numpy().tolist()
    if layout.extension == ".xlsx":
        sheet = openpyxl.load_workbook(path)[layout.sheet]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    frame, _meta = pyreadstat.read_sav(path, user_missing=True)
    return [list(frame.columns)] + frame.to_numpy().tolist()


def cell_row(cells: list[list[Any]], file_row: int) -> list[Any]:
    return cells[file_row - 1]


def decode(cell: Any, layout: Layout, lang: str) -> float:
    """An item cell as the sample's number (NaN where unanswered)."""
    if cell is None or cell == "" or (isinstance(cell, float) and math.isnan(cell)):
        return math.nan
    if cell in layout.missing_cells or str(cell) in map(str, layout.missing_cells):
        return math.nan
    if layout.answer_labels is not None:
        return float({text: code for code, text in layout.answer_labels(lang).items()}[cell])
    return float(cell)


def item_columns(layout: Layout, cells: list[list[Any]], lang: str) -> dict[str, int]:
    headers = cell_row(cells, layout.item_row)
    return {item: headers.index(h) for item, h in layout.item_headers(lang).items()}


def seconds(cell: Any) -> float:
    """A completion time cell in seconds (Wenjuanxing writes ``346秒``); NaN if empty."""
    return math.nan if cell is None or cell == "" else float(str(cell).removesuffix("秒"))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# --------------------------------------------------------------------------- every layout


def test_the_table_names_each_writer_and_its_file() -> None:
    for name, layout in LAYOUTS.items():
        assert layout.name == name
        assert layout.write.__name__ == f"write_{name}"
        assert layout.extension in (".csv", ".xlsx", ".sav")
        assert layout.name_row in layout.header_rows and layout.item_row in layout.header_rows
        assert layout.wording_in_headers == (layout.wording_row is not None)


@pytest.mark.parametrize("name", LAYOUTS)
def test_analysed_plus_excluded_is_every_data_row(name: str) -> None:
    layout = LAYOUTS[name]
    rows = layout.rows()
    assert len(rows.respondent_rows) == 400
    assert sorted(rows.respondent_rows + tuple(rows.excluded)) == list(rows.data_rows)
    assert [rows.sample_row[r] for r in rows.respondent_rows] == clean_rows()
    expected = Counter(reason for reason in FLAWS.values() if reason in layout.flaws)
    assert Counter(rows.excluded.values()) == expected
    assert rows.data_rows[0] == max(layout.header_rows) + 1


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_header_rows_then_one_row_per_data_row(name: str, lang: str, read: Reader) -> None:
    layout = LAYOUTS[name]
    found = read(name, lang)
    leading = layout.leading(lang)
    assert tuple(cell_row(found, layout.name_row)[:len(leading)]) == leading
    assert len(found) == max(layout.header_rows) + len(layout.rows().data_rows)


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_item_headers_and_their_wording(
        name: str, lang: str, read: Reader, written: dict[tuple[str, str], Path]) -> None:
    layout = LAYOUTS[name]
    columns = item_columns(layout, read(name, lang), lang)
    assert len(set(columns.values())) == len(items())
    if layout.wording_row is not None:
        texts = cell_row(read(name, lang), layout.wording_row)
        assert all(wording(item, lang) in texts[j] for item, j in columns.items())
    if layout.wording_in_labels:
        _frame, meta = pyreadstat.read_sav(written[name, lang], metadataonly=True)
        labels = meta.column_names_to_labels
        headers = layout.item_headers(lang)
        assert all(wording(item, lang) in labels[h] for item, h in headers.items())


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_answers_decode_to_the_sample(name: str, lang: str, read: Reader) -> None:
    layout = LAYOUTS[name]
    found_cells = read(name, lang)
    columns = item_columns(layout, found_cells, lang)
    data = sample()
    rows = layout.rows()
    for file_row in rows.data_rows:
        expected = data.iloc[rows.sample_row[file_row]]
        found = cell_row(found_cells, file_row)
        decoded = {item: decode(found[j], layout, lang) for item, j in columns.items()}
        assert all(same(decoded[item], expected[item]) for item in items()), f"file row {file_row}"


@pytest.mark.parametrize("name", [n for n, layout in LAYOUTS.items() if layout.duration_header])
def test_completion_times_keep_the_speeders(name: str, read: Reader) -> None:
    layout = LAYOUTS[name]
    cells = read(name, layout.lang)
    column = cell_row(cells, layout.name_row).index(layout.duration_header)
    data = sample()
    rows = layout.rows()
    for file_row in rows.data_rows:
        expected = data.iloc[rows.sample_row[file_row]]["duration_sec"]
        assert same(seconds(cell_row(cells, file_row)[column]), expected)
    fast = [r for r, reason in rows.excluded.items() if reason == "too_fast"]
    assert len(fast) == 2
    assert all(seconds(cell_row(cells, r)[column]) < 60 for r in fast)


# --------------------------------------------------------------------------- Wenjuanxing


def test_wjx_headers_number_questions_and_matrix_rows() -> None:
    layout = LAYOUTS["wjx_number"]
    headers = layout.item_headers("zh")
    assert headers["WIL1"] == "6、(我愿意把使用产品的经验分享给企业。)"
    assert headers["KSB4"].startswith(f"{len(questions())}、(")


def test_wjx_skip_codes(read: Reader) -> None:
    for name, skipped in (("wjx_number", WJX_SKIPPED), ("wjx_number_gbk", str(WJX_SKIPPED))):
        layout = LAYOUTS[name]
        cells = read(name, "zh")
        columns = item_columns(layout, cells, "zh")
        rows = layout.rows()
        no_answers = next(r for r, reason in rows.excluded.items() if reason == "no_answers")
        not_shown = {r for r in rows.data_rows
                     if any(str(cell_row(cells, r)[j]) == str(WJX_NOT_SHOWN)
                            for j in columns.values())}
        assert not_shown == {no_answers}
        assert any(cell_row(cells, r)[j] == skipped
                   for r in rows.respondent_rows for j in columns.values())
    carried = list(LAYOUTS["wjx_text"].rows().sample_row.values())
    unanswered = int(sample().iloc[carried][items()].isna().sum().sum())
    text = read("wjx_text", "zh")
    assert sum(row.count(WJX_SKIPPED_TEXT) for row in text) == unanswered


def test_wjx_csv_is_gbk(written: dict[tuple[str, str], Path]) -> None:
    data = written["wjx_number_gbk", "zh"].read_bytes()
    assert data.decode("gbk").startswith("序号,提交答卷时间,所用时间")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


# --------------------------------------------------------------------------- Qualtrics


def test_qualtrics_three_header_rows(read: Reader) -> None:
    layout = LAYOUTS["qualtrics"]
    cells = read("qualtrics", "en")
    names, texts, imports = cells[0], cells[1], [json.loads(c) for c in cells[2]]
    assert all("ImportId" in c for c in imports)
    for item, name in layout.item_headers("en").items():
        j = names.index(name)
        assert texts[j] == f"{MATRIX_TITLE['en']} - {wording(item, 'en')}"
        assert imports[j]["ImportId"] == "QID" + name.removeprefix("Q")
    unfinished = next(r for r, why in layout.rows().excluded.items() if why == "no_answers")
    row = dict(zip(names, cell_row(cells, unfinished), strict=True))
    assert row["Finished"] == "0" and int(row["Progress"]) < 100


def test_qualtrics_sav_labels(written: dict[tuple[str, str], Path]) -> None:
    _frame, meta = pyreadstat.read_sav(written["qualtrics_sav", "en"], metadataonly=True)
    assert meta.column_names_to_labels["Duration__in_seconds_"] == "Duration (in seconds)"
    assert meta.variable_value_labels["Q6_1"][4] == "Neither agree nor disagree"


# --------------------------------------------------------------------------- LimeSurvey


def test_limesurvey_incomplete_response(read: Reader) -> None:
    layout = LAYOUTS["limesurvey_codes"]
    cells = read("limesurvey_codes", "en")
    names = cells[0]
    assert names[-len(questions()) - 3:][:2] == ["interviewtime", "groupTime101"]
    unfinished = next(r for r, why in layout.rows().excluded.items() if why == "no_answers")
    row = dict(zip(names, cell_row(cells, unfinished), strict=True))
    assert row["submitdate"] == "" and row["lastpage"] == "1"
    assert all(dict(zip(names, cell_row(cells, r), strict=True))["submitdate"]
               for r in layout.rows().respondent_rows)


# --------------------------------------------------------------------------- SurveyMonkey


def test_surveymonkey_matrix_title_over_its_first_column(read: Reader) -> None:
    layout = LAYOUTS["surveymonkey_xlsx"]
    cells = read("surveymonkey_xlsx", "en")
    columns = item_columns(layout, cells, "en")
    for q in (q for q in questions() if q.items):
        first, *others = [columns[item] for item in q.items]
        assert cells[0][first] == MATRIX_TITLE["en"]
        assert all(cells[0][j] is None for j in others)


def test_surveymonkey_start_and_end_give_the_durations(read: Reader) -> None:
    layout = LAYOUTS["surveymonkey"]
    cells = read("surveymonkey", "en")
    start, end = cells[0].index("Start Date"), cells[0].index("End Date")
    rows = layout.rows()
    for file_row in rows.data_rows:
        row = cell_row(cells, file_row)
        took = datetime.strptime(row[end], SM_DATE) - datetime.strptime(row[start], SM_DATE)
        assert took.total_seconds() == sample().iloc[rows.sample_row[file_row]]["duration_sec"]


# --------------------------------------------------------------------------- Google Forms


def test_google_forms_has_no_completion_time() -> None:
    for name in ("google_forms", "google_forms_xlsx"):
        layout = LAYOUTS[name]
        assert layout.duration_header is None
        assert "too_fast" not in layout.rows().excluded.values()


# --------------------------------------------------------------------------- typed by hand


def test_spss_user_missing_declared_or_not(written: dict[tuple[str, str], Path]) -> None:
    unanswered = int(sample().loc[sample().notna().any(axis=1), items()].isna().sum().sum())
    for name, declared in (("spss_missing_declared", True), ("spss_missing_undeclared", False)):
        frame, meta = pyreadstat.read_sav(written[name, "zh"], user_missing=True)
        assert int((frame[items()] == TYPED_MISSING).sum().sum()) == unanswered
        ranges = meta.missing_ranges
        if declared:
            assert all(ranges[item] == [{"lo": 99.0, "hi": 99.0}] for item in items())
        else:
            assert not ranges


def test_excel_title_and_codebook(written: dict[tuple[str, str], Path]) -> None:
    title = openpyxl.load_workbook(written["excel_title_row", "en"])["Sheet1"]
    assert title["A1"].value == "Customer survey 2026, wave 1"
    assert all(cell.value is None for cell in title[2])
    assert [c.value for c in title[3]] == list(sample().columns)
    book = openpyxl.load_workbook(written["excel_codebook", "en"])
    assert book.sheetnames == ["Codebook", "Data"]
    variables = [row[0] for row in book["Codebook"].iter_rows(min_row=2, values_only=True)]
    assert variables == list(sample().columns)
