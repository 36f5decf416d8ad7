"""Tests of sem_kit.io.ingest: every format, encoding and delimiter, and every error.

Each test writes its own small file into ``tmp_path`` and checks that reading
it leaves the file's bytes unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from references import write_xlsx

from sem_kit.errors import DataError, InputError
from sem_kit.io.ingest import MISSING_CODES, Responses, parse_duration, read_responses, read_table
from sem_kit.questionnaire import parse_questionnaire

SMALL_YAML = """
format: 1
name: small
scale: {min: 1, max: 7}
constructs:
  A:
    name: Alpha
    items: {A1: first, A2: second, A3: {en: third, reverse: true}}
  B:
    name: Beta
    items: {B1: fourth, B2: fifth, B3: sixth}
value_labels: {Agree: 6, Disagree: 2}
demographics:
  gender: {name: Gender, values: {1: {en: Male, zh: 男}, 2: {en: Female, zh: 女}}}
screening: {id_column: id, duration_column: seconds, min_duration: 30}
"""

ZH_YAML = """
format: 1
name: zh
scale:
  min: 1
  max: 5
  labels: {1: {en: Strongly disagree, zh: 非常不同意}, 5: {en: Strongly agree, zh: 非常同意}}
constructs:
  WIL:
    name: {en: Willingness, zh: 意愿}
    items:
      WIL1: {en: w1, zh: 我愿意分享}
      WIL2: {en: w2, zh: 我乐于讨论}
      WIL3: {en: w3, zh: 我宁愿保留想法, reverse: true}
columns:
  WIL1: "1、我愿意分享"
  WIL2: "2、我乐于讨论"
  WIL3: "3、我宁愿保留想法"
  gender: 性别
value_labels: {不同意: 2, 一般: 3, 同意: 4}
demographics:
  gender: {name: {en: Gender, zh: 性别}, values: {1: {en: Male, zh: 男}, 2: {en: Female, zh: 女}}}
screening: {id_column: 序号, duration_column: 所用时间}
"""

SMALL_CSV = (
    "id,seconds,A1,A2,A3,B1,B2,B3,gender\n"
    "r1,120,1,2,3,4,5,6,1\n"
    "r2,95,7,6,5,4,3,2,2\n"
    "r3,80,Agree,Disagree,,5.0,4,NA,Female\n"
)


@pytest.fixture()
def small():
    return parse_questionnaire(SMALL_YAML, "small.yaml")


@pytest.fixture()
def zh():
    return parse_questionnaire(ZH_YAML, "zh.yaml")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read_unchanged(path: Path, questionnaire, **kwargs) -> Responses:
    """read_responses, asserting that the file's bytes are untouched."""
    before = path.read_bytes()
    responses = read_responses(path, questionnaire, **kwargs)
    assert path.read_bytes() == before
    assert responses.sha256 == hashlib.sha256(before).hexdigest()
    return responses


def data_error(path: Path, questionnaire=None, **kwargs) -> str:
    """The message of the DataError that reading ``path`` raises (file bytes untouched)."""
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(DataError) as info:
        if questionnaire is None:
            read_table(path, **kwargs)
        else:
            read_responses(path, questionnaire, **kwargs)
    if before is not None:
        assert path.read_bytes() == before
    message = str(info.value)
    assert message.startswith(str(path))
    return message


# ---------------------------------------------------------------------------
# formats, encodings, delimiters
# ---------------------------------------------------------------------------
def test_utf8_csv_values_rows_and_reverse_coding(tmp_path, small):
    path = write(tmp_path, "data.csv", SMALL_CSV)
    r = read_unchanged(path, small)
    assert r.path == str(path)
    assert r.n_rows == 3
    assert list(r.items.index) == [2, 3, 4]
    assert r.items.index.name == "row"
    assert list(r.items.columns) == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert r.items.dtypes.eq(float).all()
    assert r.raw_items.loc[2].tolist() == [1, 2, 3, 4, 5, 6]
    # A3 is reverse-keyed on 1..7: 8 - x
    assert r.items.loc[2].tolist() == [1, 2, 5, 4, 5, 6]
    assert r.items.loc[3, "A3"] == 3
    # value labels, "5.0", empty and NA
    assert r.raw_items.loc[4, "A1"] == 6
    assert r.raw_items.loc[4, "A2"] == 2
    assert np.isnan(r.raw_items.loc[4, "A3"]) and np.isnan(r.items.loc[4, "A3"])
    assert r.raw_items.loc[4, "B1"] == 5
    assert np.isnan(r.raw_items.loc[4, "B3"])
    assert r.demographics["gender"].tolist() == [1.0, 2.0, 2.0]
    assert r.meta["id"].tolist() == ["r1", "r2", "r3"]
    assert r.meta["duration"].tolist() == [120.0, 95.0, 80.0]
    assert r.blank_rows == ()
    assert r.format == "csv" and r.encoding == "utf-8" and r.delimiter == ","
    assert r.warnings == ()


def test_responses_is_frozen(tmp_path, small):
    r = read_unchanged(write(tmp_path, "data.csv", SMALL_CSV), small)
    with pytest.raises(AttributeError):
        r.n_rows = 5  # type: ignore[misc]


def test_utf8_bom_csv(tmp_path, small):
    path = write(tmp_path, "bom.csv", SMALL_CSV, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    r = read_unchanged(path, small)
    assert r.encoding == "utf-8-sig"
    assert r.meta["id"].tolist() == ["r1", "r2", "r3"]  # first header is 'id', not '\ufeffid'
    assert r.raw_items.loc[3, "A1"] == 7


def test_gbk_csv_with_chinese_headers_and_labels(tmp_path, zh):
    text = (
        "序号,所用时间,性别,1、我愿意分享,2、我乐于讨论,3、我宁愿保留想法\n"
        "1,95秒,男,非常同意,同意,不同意\n"
        "2,1分5秒,女,一般,(跳过),非常不同意\n"
        "3,2:10,2,5,4,(空)\n"
    )
    path = write(tmp_path, "问卷.csv", text, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    r = read_unchanged(path, zh)
    assert r.encoding == "gb18030"
    assert r.raw_items.loc[2].tolist() == [5, 4, 2]
    assert r.items.loc[2].tolist() == [5, 4, 4]  # WIL3 reversed on 1..5
    assert r.raw_items.loc[3, "WIL1"] == 3
    assert np.isnan(r.raw_items.loc[3, "WIL2"])
    assert r.raw_items.loc[3, "WIL3"] == 1  # scale label 非常不同意
    assert np.isnan(r.raw_items.loc[4, "WIL3"])
    assert r.demographics["gender"].tolist() == [1.0, 2.0, 2.0]
    assert r.meta["duration"].tolist() == [95.0, 65.0, 130.0]
    assert r.item_columns == {"WIL1": "1、我愿意分享", "WIL2": "2、我乐于讨论",
                              "WIL3": "3、我宁愿保留想法"}


def test_utf8_chinese_csv(tmp_path, zh):
    text = "序号,1、我愿意分享,2、我乐于讨论,3、我宁愿保留想法\n1,同意,一般,5\n"
    r = read_unchanged(write(tmp_path, "zh.csv", text), zh)
    assert r.encoding == "utf-8"
    assert r.raw_items.loc[2].tolist() == [4, 3, 5]


def test_utf16_csv(tmp_path, small):
    path = write(tmp_path, "u16.csv", SMALL_CSV.replace(",", "\t"), encoding="utf-16")
    r = read_unchanged(path, small)
    assert r.encoding == "utf-16" and r.delimiter == "\t"
    assert r.raw_items.loc[3, "A1"] == 7


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters(tmp_path, small, delimiter):
    path = write(tmp_path, "d.csv", SMALL_CSV.replace(",", delimiter))
    r = read_unchanged(path, small)
    assert r.delimiter == delimiter
    assert r.raw_items.loc[2].tolist() == [1, 2, 3, 4, 5, 6]
    assert r.meta["id"].tolist() == ["r1", "r2", "r3"]


def test_semicolon_file_with_commas_inside_values(tmp_path, small):
    text = SMALL_CSV.replace(",", ";").replace("r1;", "\"r,1\";")
    r = read_unchanged(write(tmp_path, "d.csv", text), small)
    assert r.delimiter == ";"
    assert r.meta["id"].tolist() == ["r,1", "r2", "r3"]


def test_tsv_extension(tmp_path, small):
    r = read_unchanged(write(tmp_path, "d.tsv", SMALL_CSV.replace(",", "\t")), small)
    assert r.raw_items.loc[4, "A1"] == 6


def test_quoted_multiline_answer_is_one_row(tmp_path, small):
    text = "id,note,A1,A2,A3,B1,B2,B3\nr1,\"two\nlines\",1,2,3,4,5,6\nr2,x,7,7,7,7,7,9\n"
    message = data_error(write(tmp_path, "d.csv", text), small)
    assert "row 3" in message and "'9'" in message  # the second respondent is row 3




XLSX_ROWS = [
    ["id", "seconds", "A1", "A2", "A3", "B1", "B2", "B3", "gender"],
    [1001, 120, 1, 2, 3, 4, 5, 6, "Male"],
    [None] * 9,
    [1002, 61.5, "Agree", 6, 5.0, 4, 3, " 2 ", 2],
]


def test_xlsx_single_sheet(tmp_path, small):
    path = write_xlsx(tmp_path / "data.xlsx", {"Responses": XLSX_ROWS})
    r = read_unchanged(path, small)
    assert r.format == "xlsx" and r.sheet == "Responses"
    assert r.n_rows == 3
    assert r.blank_rows == (3,)
    assert r.raw_items.loc[2].tolist() == [1, 2, 3, 4, 5, 6]
    assert r.raw_items.loc[4].tolist() == [6, 6, 5, 4, 3, 2]
    assert r.meta["id"].tolist()[0] == "1001"
    assert r.meta["duration"].loc[4] == 61.5
    assert r.demographics["gender"].loc[2] == 1
    assert r.warnings == ()


def test_xlsx_trailing_formatted_rows_are_not_rows(tmp_path, small):
    path = write_xlsx(tmp_path / "data.xlsx", {"S": XLSX_ROWS})
    book = openpyxl.load_workbook(path)
    book["S"]["C40"].font = openpyxl.styles.Font(bold=True)
    book.save(path)
    r = read_unchanged(path, small)
    assert r.n_rows == 3


def test_xlsx_several_sheets_reads_first_and_warns(tmp_path, small):
    other = [["x"], [1]]
    path = write_xlsx(tmp_path / "multi.xlsx", {"Data": XLSX_ROWS, "Notes": other, "说明": other})
    r = read_unchanged(path, small)
    assert r.sheet == "Data"
    assert len(r.warnings) == 1
    assert "'Notes'" in r.warnings[0] and "'说明'" in r.warnings[0]
    table = read_table(path)
    assert table.attrs["warnings"] == list(r.warnings)


def test_xlsx_named_sheet(tmp_path, small):
    path = write_xlsx(tmp_path / "multi.xlsx", {"Notes": [["x"], [1]], "Data": XLSX_ROWS})
    r = read_unchanged(path, small, sheet="Data")
    assert r.sheet == "Data" and r.warnings == ()
    assert r.raw_items.loc[2, "B3"] == 6


def test_xlsx_unknown_sheet_lists_sheets(tmp_path, small):
    path = write_xlsx(tmp_path / "multi.xlsx", {"Data": XLSX_ROWS, "Notes": [["x"], [1]]})
    message = data_error(path, small, sheet="Sheet9")
    assert "'Sheet9'" in message and "'Data'" in message and "'Notes'" in message


def test_xlsx_empty_sheet(tmp_path):
    path = write_xlsx(tmp_path / "empty.xlsx", {"Empty": []})
    assert "is empty" in data_error(path)


def test_sav_numeric_user_missing_and_row_numbers(tmp_path, small):
    frame = pd.DataFrame({
        "id": ["a", "b", "c"],
        "A1": [1.0, 9.0, 7.0], "A2": [2.0, 2.0, np.nan], "A3": [3.0, 3.0, 1.0],
        "B1": [4.0, 4.0, 4.0], "B2": [5.0, 5.0, 5.0], "B3": [6.0, 6.0, 6.0],
        "gender": [1.0, 2.0, 2.0],
    })
    path = tmp_path / "data.sav"
    pyreadstat.write_sav(frame, str(path), missing_ranges={"A1": [9]})
    r = read_unchanged(path, small)
    assert r.format == "sav"
    assert list(r.items.index) == [2, 3, 4]  # case k is row k + 1
    assert np.isnan(r.raw_items.loc[3, "A1"])  # user-missing 9 -> NaN, not off-scale
    assert np.isnan(r.raw_items.loc[4, "A2"])
    assert r.items.loc[4, "A3"] == 7
    assert r.meta["id"].tolist() == ["a", "b", "c"]
    assert r.demographics["gender"].tolist() == [1.0, 2.0, 2.0]


def test_sav_off_scale_names_spss_row(tmp_path, small):
    frame = pd.DataFrame({c: [1.0, 2.0, 3.0] for c in ["A1", "A2", "A3", "B1", "B2", "B3"]})
    frame.loc[2, "B2"] = 8.0
    path = tmp_path / "bad.sav"
    pyreadstat.write_sav(frame, str(path))
    message = data_error(path, small)
    assert "column 'B2'" in message and "row 4" in message and "'8'" in message


def test_read_table_raw_strings_and_attrs(tmp_path):
    path = write(tmp_path, "t.csv", " a ,b\n007, x \n")
    table = read_table(path)
    assert list(table.columns) == ["a", "b"]
    assert table.loc[2, "a"] == "007"  # nothing coerced
    assert table.loc[2, "b"] == " x "
    assert table.dtypes.eq(object).all()
    assert table.attrs["format"] == "csv" and table.attrs["delimiter"] == ","


def test_blank_rows_kept_and_trailing_blank_lines_dropped(tmp_path, small):
    text = SMALL_CSV.replace("\nr2", "\n\nr2").replace("\nr3", "\n,,,,,,,,\nr3") + "\n\n,,\n"
    r = read_unchanged(write(tmp_path, "b.csv", text), small)
    assert r.n_rows == 5
    assert r.blank_rows == (3, 5)
    assert r.items.loc[4, "A1"] == 7


def test_sheet_ignored_for_csv_with_warning(tmp_path, small):
    r = read_unchanged(write(tmp_path, "d.csv", SMALL_CSV), small, sheet="Data")
    assert any("ignored" in w for w in r.warnings)


def test_headers_matched_after_stripping(tmp_path, small):
    text = SMALL_CSV.replace("A1,", " A1 ,", 1).replace("B3,", "B3\u3000,", 1)
    r = read_unchanged(write(tmp_path, "d.csv", text), small)
    assert r.item_columns["A1"] == "A1" and r.item_columns["B3"] == "B3"


def test_alias_preferred_over_id(tmp_path):
    q = parse_questionnaire(SMALL_YAML + 'columns: {A1: "Q1"}\n')
    text = "Q1,A1,A2,A3,B1,B2,B3\n3,9,1,1,1,1,2\n"
    r = read_unchanged(write(tmp_path, "d.csv", text), q)
    assert r.raw_items.loc[2, "A1"] == 3


def test_item_without_scale_is_not_range_checked(tmp_path):
    q = parse_questionnaire(
        "format: 1\nname: c\nconstructs:\n  X:\n    name: X\n    items: {x1: a, x2: b}\n"
    )
    r = read_unchanged(write(tmp_path, "c.csv", "x1,x2\n-3.5,1200\n"), q)
    assert r.raw_items.loc[2].tolist() == [-3.5, 1200.0]


def test_item_scale_override(tmp_path):
    q = parse_questionnaire(SMALL_YAML.replace(
        "B3: sixth", "B3: {en: sixth, scale: {min: 0, max: 10}}"))
    text = "A1,A2,A3,B1,B2,B3\n1,1,1,1,1,0\n2,2,2,2,2,10\n"
    r = read_unchanged(write(tmp_path, "d.csv", text), q)
    assert r.raw_items["B3"].tolist() == [0, 10]
    bad = write(tmp_path, "e.csv", "A1,A2,A3,B1,B2,B3\n1,1,1,1,1,11\n")
    assert "from 0 to 10" in data_error(bad, q)


@pytest.mark.parametrize("code", ["", "   ", "NA", "N/A", "-", "(跳过)", "(空)", "nan", "#N/A"])
def test_missing_codes_become_nan(tmp_path, small, code):
    assert code.strip().casefold() in MISSING_CODES
    text = f"A1,A2,A3,B1,B2,B3\n{code},2,3,4,5,6\n"
    r = read_unchanged(write(tmp_path, "m.csv", text), small)
    assert np.isnan(r.raw_items.loc[2, "A1"])


@pytest.mark.parametrize("value,expected", [("5", 5.0), ("5.0", 5.0), (" 6 ", 6.0),
                                            ("agree", 6.0), ("Disagree", 2.0)])
def test_numeric_strings_and_labels(tmp_path, small, value, expected):
    r = read_unchanged(write(tmp_path, "n.csv", f"A1,A2,A3,B1,B2,B3\n{value},1,1,1,1,2\n"), small)
    assert r.raw_items.loc[2, "A1"] == expected


def test_demographics_optional_and_unknown_codes_warned(tmp_path, small):
    r = read_unchanged(write(tmp_path, "d.csv", "A1,A2,A3,B1,B2,B3\n1,1,1,1,1,2\n"), small)
    assert list(r.demographics.columns) == []
    assert any("'id'" in w for w in r.warnings)
    assert any("'seconds'" in w for w in r.warnings)
    text = "A1,A2,A3,B1,B2,B3,gender\n1,1,1,1,1,2,other\n1,1,1,1,2,2,7\n"
    r = read_unchanged(write(tmp_path, "e.csv", text), small)
    assert r.demographics["gender"].tolist() == ["other", 7.0]
    assert any("gender" in w and "'other'" in w and "'7'" in w for w in r.warnings)


TEXT_CODES = SMALL_YAML.replace(
    "  gender: {name: Gender, values: {1: {en: Male, zh: 男}, 2: {en: Female, zh: 女}}}",
    "  gender: {name: Gender, values: {1: {en: Male, zh: 男}, 2: {en: Female, zh: 女}}}\n"
    "  school: {name: School, values: {Pasteur: Pasteur, Grant-White: {en: Grant-White, "
    "zh: 格兰特}}}")


def test_text_coded_demographics_match_codes_and_labels(tmp_path):
    """Text codes are matched case-insensitively, as are the labels of either language; the
    column holds the declared spelling; a numeric code column stays float."""
    q = parse_questionnaire(TEXT_CODES, "t.yaml")
    assert list(q.model.demographics["school"].values) == ["Pasteur", "Grant-White"]
    text = ("A1,A2,A3,B1,B2,B3,gender,school\n"
            "1,1,1,1,1,2,1,Pasteur\n1,1,1,1,2,2,2, pasteur \n1,1,1,2,2,2,女,GRANT-WHITE\n"
            "1,1,2,2,2,2,,格兰特\n1,2,2,2,2,2,Male,NA\n")
    r = read_unchanged(write(tmp_path, "t.csv", text), q)
    assert r.demographics["school"].tolist()[:4] == ["Pasteur", "Pasteur", "Grant-White",
                                                      "Grant-White"]
    assert pd.isna(r.demographics["school"].loc[6])
    assert r.demographics["gender"].dtype == float
    assert r.demographics["gender"].tolist()[:3] == [1.0, 2.0, 2.0]
    assert r.demographics["gender"].loc[6] == 1.0
    assert not any("school" in w for w in r.warnings)


def test_unknown_text_codes_keep_the_warning(tmp_path):
    q = parse_questionnaire(TEXT_CODES, "t.yaml")
    text = "A1,A2,A3,B1,B2,B3,school\n1,1,1,1,1,2,Pasteur\n1,1,1,1,2,2,Harvard\n" \
           "1,1,1,2,2,2,3\n1,1,2,2,2,2,harvard\n"
    r = read_unchanged(write(tmp_path, "u.csv", text), q)
    assert r.demographics["school"].tolist() == ["Pasteur", "Harvard", 3.0, "harvard"]
    (warning,) = [w for w in r.warnings if "school" in w]
    assert "values not among the codes of demographic school" in warning
    assert "'Harvard' (row 3)" in warning and "'3' (row 4)" in warning


def test_demographics_without_codes_keep_their_text_without_warning(tmp_path):
    q = parse_questionnaire(TEXT_CODES.replace(
        "values: {Pasteur: Pasteur, Grant-White: {en: Grant-White, zh: 格兰特}}", "values: {}"),
        "t.yaml")
    text = "A1,A2,A3,B1,B2,B3,school\n1,1,1,1,1,2,Pasteur\n1,1,1,1,2,2,Grant-White\n"
    r = read_unchanged(write(tmp_path, "n.csv", text), q)
    assert r.demographics["school"].tolist() == ["Pasteur", "Grant-White"]
    assert not any("school" in w for w in r.warnings)


def test_demographics_are_looked_up_once_per_distinct_answer(tmp_path, monkeypatch):
    """20,000 rows with three distinct answers: three look-ups, not one per cell (the cost
    of the demographics grows with the distinct answers, so 100,000-row files stay fast)."""
    from sem_kit.questionnaire.schema import Demographic

    q = parse_questionnaire(TEXT_CODES, "t.yaml")
    n = 20_000
    schools = np.array(["Pasteur", "grant-white", "格兰特"])[np.arange(n) % 3]
    frame = pd.DataFrame({c: (np.arange(n) % 7) + 1 for c in ["A1", "A2", "A3", "B1", "B2",
                                                              "B3"]})
    frame["school"] = schools
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    calls = []
    original = Demographic.match

    def counted(self, answer):
        calls.append(answer)
        return original(self, answer)

    monkeypatch.setattr(Demographic, "match", counted)
    r = read_responses(path, q)
    assert len(calls) == 3
    assert r.demographics["school"].value_counts().to_dict() == {"Pasteur": 6667,
                                                                 "Grant-White": 13333}


@pytest.mark.parametrize("text,seconds", [
    ("95", 95.0), ("95秒", 95.0), ("95 s", 95.0), ("1分35秒", 95.0), ("2 min", 120.0),
    ("1:35", 95.0), ("0:01:35", 95.0), ("", None), ("abc", False),
])
def test_parse_duration(text, seconds):
    value = parse_duration(text)
    if seconds is None:
        assert np.isnan(value)
    elif seconds is False:
        assert value is None
    else:
        assert value == seconds


def test_bad_duration_is_an_error(tmp_path, small):
    text = "seconds,A1,A2,A3,B1,B2,B3\nquick,1,1,1,1,1,2\n"
    message = data_error(write(tmp_path, "d.csv", text), small)
    assert "'seconds'" in message and "row 2" in message and "'quick'" in message


# ---------------------------------------------------------------------------
# errors about the file
# ---------------------------------------------------------------------------
def test_missing_file(tmp_path, small):
    path = tmp_path / "nope.csv"
    message = data_error(path, small)
    assert "no such file" in message


def test_directory(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert "is a directory" in data_error(folder)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert "is empty" in data_error(path)


def test_header_only(tmp_path, small):
    path = write(tmp_path, "h.csv", "A1,A2,A3,B1,B2,B3\n\n")
    assert "no data rows" in data_error(path, small)


def test_duplicated_column_names(tmp_path, small):
    # A header given twice is refused when an item is read from it ...
    path = write(tmp_path, "dup.csv", "id,A1,A2,A1 \n1,2,3,4\n")
    message = data_error(path, small)
    assert "column 'A1' appears 2 times" in message and "2 (B)" in message
    assert "4 (D)" in message
    # ... and kept (under distinct names) when no item uses it.
    table = read_table(path)
    assert table.attrs["duplicates"] == {"A1": ["A1 (column 2 (B))", "A1 (column 4 (D))"]}


def test_duplicated_column_names_not_used_by_items(tmp_path, small):
    header = "id,A1,A2,A3,B1,B2,B3,Comment,Comment"
    path = write(tmp_path, "dup.csv", header + "\n1,2,3,4,5,6,7,x,y\n2,3,4,5,6,7,1,,\n")
    responses = read_unchanged(path, small)
    assert list(responses.items.columns) == ["A1", "A2", "A3", "B1", "B2", "B3"]


def test_duplicated_column_names_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "dup.xlsx", {"S": [["x", "y", "x"], [1, 2, 3]]})
    q = parse_questionnaire(SMALL_YAML.replace("A1:", "x:"), "small.yaml")
    message = data_error(path, q)
    assert "'x'" in message and "1 (A)" in message and "3 (C)" in message


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert "is not a table" in data_error(path)


def test_invalid_text_bytes(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"a,b\n\xff\xff\x80,1\n")
    assert "is not a table" in data_error(path)


def test_xlsx_saved_as_csv(tmp_path):
    write_xlsx(tmp_path / "real.xlsx", {"S": [["a"], [1]]})
    path = tmp_path / "fake.csv"
    path.write_bytes((tmp_path / "real.xlsx").read_bytes())
    message = data_error(path)
    assert "is not a table" in message and ".xlsx" in message


def test_csv_saved_as_xlsx(tmp_path):
    path = write(tmp_path, "fake.xlsx", "a,b\n1,2\n")
    assert "not a readable .xlsx" in data_error(path)


def test_corrupt_sav(tmp_path):
    path = write(tmp_path, "fake.sav", "a,b\n1,2\n")
    assert "not a readable SPSS" in data_error(path)


def test_unclosed_quote(tmp_path):
    path = write(tmp_path, "q.csv", 'a,b\n1,"2\n3,4\n')
    assert "not a readable table" in data_error(path)


def test_row_with_too_many_values(tmp_path):
    path = write(tmp_path, "r.csv", "a,b\n1,2\n3,4,5\n")
    message = data_error(path)
    assert "row 3" in message and "3 values" in message and "2 columns" in message


@pytest.mark.parametrize("name", ["data.json", "data.txt", "data"])
def test_unknown_extension(tmp_path, name):
    path = write(tmp_path, name, "a,b\n1,2\n")
    message = data_error(path)
    assert "unknown extension" in message and ".csv" in message


def test_old_xls(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    assert ".xlsx" in data_error(path)


def test_data_error_is_an_input_error():
    assert issubclass(DataError, InputError)


# ---------------------------------------------------------------------------
# errors about the answers
# ---------------------------------------------------------------------------
def test_missing_item_columns_with_suggestions(tmp_path, small):
    path = write(tmp_path, "m.csv", "A1,A2,A_3,B1,B2\n1,1,1,1,1\n")
    message = data_error(path, small)
    assert "m.csv" in message
    assert "A3" in message and "B3" in message and "2 of 6" in message
    assert "did you mean 'A_3'" in message


def test_missing_aliased_column_names_expected_header(tmp_path, zh):
    path = write(tmp_path, "m.csv", "1、我愿意分享,2、我乐于讨论,3、我宁愿保留\n1,1,1\n")
    message = data_error(path, zh)
    assert "WIL3" in message and "'3、我宁愿保留想法'" in message
    assert "did you mean '3、我宁愿保留'" in message


def test_non_numeric_answer(tmp_path, small):
    text = "A1,A2,A3,B1,B2,B3\n1,1,1,1,1,2\n1,maybe,1,1,1,2\n"
    message = data_error(write(tmp_path, "bad.csv", text), small)
    assert str(tmp_path / "bad.csv") in message
    assert "column 'A2'" in message and "row 3" in message and "'maybe'" in message
    assert "from 1 to 7" in message and "Agree" in message


def test_non_numeric_answer_lists_five_rows_and_count(tmp_path, small):
    rows = "".join(f"1,x,1,1,1,{2 + i % 5}\n" for i in range(8))
    message = data_error(write(tmp_path, "bad.csv", "A1,A2,A3,B1,B2,B3\n" + rows), small)
    assert "rows 2, 3, 4, 5, 6, ... (8 rows)" in message and "'x'" in message


def test_non_numeric_answer_in_aliased_column(tmp_path, zh):
    text = "1、我愿意分享,2、我乐于讨论,3、我宁愿保留想法\n非常同意,还行,1\n"
    message = data_error(write(tmp_path, "zh.csv", text, "gbk"), zh)
    assert "column '2、我乐于讨论' (item WIL2)" in message
    assert "row 2" in message and "'还行'" in message and "非常同意" in message


@pytest.mark.parametrize("value,what", [("8", "off the scale"), ("0", "off the scale"),
                                        ("-1", "off the scale"), ("3.5", "not a whole number")])
def test_off_scale_and_fractional_answers(tmp_path, small, value, what):
    text = f"A1,A2,A3,B1,B2,B3\n1,1,1,1,1,2\n1,2,3,4,{value},6\n"
    message = data_error(write(tmp_path, "off.csv", text), small)
    assert "column 'B2'" in message and "row 3" in message
    assert f"'{value}'" in message and what in message
    assert "a whole number from 1 to 7" in message


def test_off_scale_in_xlsx_cell(tmp_path, small):
    rows = [["A1", "A2", "A3", "B1", "B2", "B3"], [1, 1, 1, 1, 1, 2], [1, 1, 1, 1, 1, 8]]
    message = data_error(write_xlsx(tmp_path / "off.xlsx", {"S": rows}), small)
    assert "column 'B3'" in message and "row 3" in message and "'8'" in message


def test_bool_cell_is_not_a_number(tmp_path, small):
    rows = [["A1", "A2", "A3", "B1", "B2", "B3"], [True, 1, 1, 1, 1, 2]]
    message = data_error(write_xlsx(tmp_path / "b.xlsx", {"S": rows}), small)
    assert "column 'A1'" in message and "'True'" in message


def test_mixed_cells_convert_and_report_as_before(tmp_path, small):
    # Numbers (padded), labels in any case, missing codes, and unreadable text that
    # differs only by surrounding spaces: converted once per distinct cell, reported
    # by the text shown, in the order first seen, rows ascending.
    a2 = ["3", " 4 ", "Agree", "agree", "NA", "(跳过)", "", "x", " x", "y", "x ", "AGREE",
          "x", "z", "disagree", "w", "v", "y", "5.0", "\u22121"]
    rows = [f"{i % 7 + 1},{v},{(i * 3) % 7 + 1},{'?' if i in (4, 9) else 5},6,{7 - i % 7},"
            f"{1 + i % 2}" for i, v in enumerate(a2)]
    path = write(tmp_path, "mixed.csv", "A1,A2,A3,B1,B2,B3,gender\n" + "\n".join(rows) + "\n")
    assert data_error(path, small) == (
        f"{path}: column 'A2', rows 9, 10, 12, 14 (4 rows): answer 'x' is not a number or a "
        "known answer label; expected a whole number from 1 to 7, or one of the value labels "
        "(Agree, Disagree); the column also holds 'y' (rows 11, 19 (2 rows)); 'z' (row 15); "
        "'w' (row 17); .... 1 more column(s) hold unreadable answers: 'B1'. Add text answers to "
        "`value_labels:` in the questionnaire, or recode them"
    )

    readable = [v for v in a2 if v.strip() not in ("x", "y", "z", "w", "v", "\u22121")]
    rows = [f"{i % 7 + 1},{v},{(i * 3) % 7 + 1},5,6,{7 - i % 7},{1 + i % 2}"
            for i, v in enumerate(readable)]
    path = write(tmp_path, "ok.csv", "A1,A2,A3,B1,B2,B3,gender\n" + "\n".join(rows) + "\n")
    r = read_unchanged(path, small)
    nan = float("nan")
    assert r.raw_items["A2"].tolist() == pytest.approx(
        [3, 4, 6, 6, nan, nan, nan, 6, 2, 5], nan_ok=True)
    assert r.items["A3"].tolist() == [7, 4, 1, 5, 2, 6, 3, 7, 4, 1]


def test_typed_xlsx_cells_keep_their_types(tmp_path, small):
    # 1, 1.0 and True are equal in Python; only True and False are unreadable.
    cells = [1, 1.0, True, "1", None, "Agree", 7, False, 3.5, True, " 2 ", "NA"]
    rows = [["A1", "A2", "A3", "B1", "B2", "B3"]] + [[v, 2, 3, 4, 5, 6] for v in cells]
    message = data_error(write_xlsx(tmp_path / "typed.xlsx", {"S": rows}), small)
    assert message.split(": ", 1)[1] == (
        "column 'A1', rows 4, 11 (2 rows): answer 'True' is not a number or a known answer "
        "label; expected a whole number from 1 to 7, or one of the value labels (Agree, "
        "Disagree); the column also holds 'False' (row 9). Add text answers to "
        "`value_labels:` in the questionnaire, or recode them"
    )
    rows = [rows[0]] + [[v, 2, 3, 4, 5, 6] for v in cells if not isinstance(v, bool)]
    message = data_error(write_xlsx(tmp_path / "typed2.xlsx", {"S": rows}), small)
    assert message.split(": ", 1)[1] == (
        "column 'A1', row 8: value '3.5' is not a whole number; expected a whole number "
        "from 1 to 7"
    )
