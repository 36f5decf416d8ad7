"""Header layouts, columns found by code or wording, platform metadata and answer labels,
on small files written here (the full platform downloads are in test_platform_reading.py).

Every reading test goes through the real command line (``sem-kit validate``) or
``read_responses``, and checks the row numbers, since they are the file's."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from references import write_xlsx

from sem_kit.cli import main
from sem_kit.errors import DataError
from sem_kit.io.columns import fold_wording, match_columns
from sem_kit.io.ingest import read_responses, read_table
from sem_kit.io.labels import SERIES, fold, series_labels
from sem_kit.io.layouts import locate_header
from sem_kit.io.screening import screen
from sem_kit.questionnaire import parse_questionnaire

WORDED_YAML = """\
format: 1
name: worded
scale: {min: 1, max: 5}
constructs:
  SAT:
    name: Satisfaction
    items:
      SAT1: {en: "I am satisfied with the service.", zh: "我对这项服务感到满意。"}
      SAT2: {en: "The service meets my needs.", zh: "这项服务满足了我的需要。"}
      SAT3: {en: "I would use the service again.", zh: "我愿意再次使用这项服务。"}
  TRU:
    name: Trust
    items:
      TRU1: {en: "I trust the company.", zh: "我信任这家公司。"}
      TRU2: {en: "I trust the company's staff.", zh: "我信任这家公司的员工。"}
      TRU3: {en: "The company keeps its promises.", zh: "这家公司信守承诺。"}
screening: {id_column: respondent_id, duration_column: duration_sec, min_duration: 60}
"""
ITEMS = ["SAT1", "SAT2", "SAT3", "TRU1", "TRU2", "TRU3"]
ANSWERS = [[1, 2, 3, 4, 5, 1], [2, 3, 4, 5, 1, 2], [3, 4, 5, 1, 2, 3], [4, 4, 5, 2, 2, 3]]


@pytest.fixture()
def worded():
    return parse_questionnaire(WORDED_YAML, "worded.yaml")


@pytest.fixture()
def qfile(tmp_path):
    path = tmp_path / "worded.yaml"
    path.write_text(WORDED_YAML, encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path




def wording(q, lang: str) -> list[str]:
    return [q.items[i].zh if lang == "zh" else q.items[i].en for i in ITEMS]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- header rows
def test_title_row_above_the_header_is_found_and_said(tmp_path, qfile, capsys):
    rows = [["Customer survey 2026, wave 1"], [], ITEMS, *ANSWERS]
    path = write_xlsx(tmp_path / "titled.xlsx", {"Data": rows})
    code, out, err = run(capsys, "validate", path, "-q", qfile)
    assert code == 0, err
    assert "header found in row 3" in err and "'Customer survey 2026, wave 1'" in err
    assert "Rows read:     4" in out
    responses = read_responses(path, parse_questionnaire(WORDED_YAML, "w.yaml"))
    assert list(responses.items.index) == [4, 5, 6, 7]
    assert responses.header_row == 3


def test_header_row_option_and_a_wrong_guess_named(tmp_path, qfile, capsys):
    # Two "title" rows as wide as the header: only --header-row can say which is the header.
    rows = [["wave", "1", "", "", "", ""], ITEMS, *ANSWERS]
    path = write_csv(tmp_path / "two.csv", rows)
    code, out, err = run(capsys, "validate", path, "-q", qfile, "--header-row", "2")
    assert code == 0, err
    assert "Rows read:     4" in out and "header = row 2" not in out  # nothing excluded
    code, _, err = run(capsys, "validate", path, "-q", qfile, "--header-row", "1")
    assert code == 2
    assert "none of the 6 item columns" in err
    assert "The header was read from row 1" not in err  # row 1 as told: no guess to report
    code, _, err = run(capsys, "validate", path, "-q", qfile, "--header-row", "9")
    assert code == 2 and "--header-row 9: the file has only 6 rows" in err
    with pytest.raises(SystemExit) as info:  # argparse: usage and exit 2
        run(capsys, "validate", path, "-q", qfile, "--header-row", "0")
    assert info.value.code == 2
    assert "expected a row number from 1, found 0" in capsys.readouterr().err


def test_header_guess_that_leaves_items_unmatched_names_the_row(tmp_path, qfile, capsys):
    rows = [["Survey"], ["SAT1", "SAT2", "SAT3", "TRU1", "TRU2", "x"], *ANSWERS]
    path = write_csv(tmp_path / "guess.csv", rows)
    code, _, err = run(capsys, "validate", path, "-q", qfile)
    assert code == 2
    assert "1 of 6 item columns not found: TRU3" in err
    assert "The header was read from row 2, which holds 'SAT1', 'SAT2', 'SAT3', 'TRU1', ..." \
        in err and "--header-row N" in err


def test_qualtrics_three_header_rows(tmp_path, worded):
    text = [f"How much do you agree? - {w}" for w in wording(worded, "en")]
    rows = [["StartDate", "Duration (in seconds)", "ResponseId"] + [f"Q1_{k}" for k in range(1, 7)],
            ["Start Date", "Duration (in seconds)", "Response ID"] + text,
            [json.dumps({"ImportId": x}) for x in ("startDate", "duration", "_recordId")]
            + [json.dumps({"ImportId": f"QID1_{k}"}) for k in range(1, 7)]]
    rows += [["2026-01-01", 200 + i, f"R_{i}", *a] for i, a in enumerate(ANSWERS)]
    rows.append(["2026-01-01", 20, "R_9", 1, 2, 3, 4, 5, 4])
    path = write_csv(tmp_path / "qualtrics.csv", rows)
    responses = read_responses(path, worded)
    assert responses.layout == "qualtrics"
    assert responses.item_columns == {i: f"Q1_{k}" for k, i in enumerate(ITEMS, start=1)}
    assert set(responses.column_matches.values()) == {"wording"}
    assert list(responses.items.index) == [4, 5, 6, 7, 8]  # rows 2-3 are not answers
    assert responses.meta["duration"].tolist() == [200, 201, 202, 203, 20]
    assert responses.meta["id"].tolist()[0] == "R_0"
    assert any("respondent ids read from column 'ResponseId'" in n for n in responses.notices)


def test_qualtrics_legacy_two_header_rows(tmp_path, worded):
    rows = [["ResponseID", "StartDate", "EndDate"] + ITEMS,
            ["ResponseID", "Start Date", "End Date"] + wording(worded, "en")]
    rows += [[f"R{i}", "2026-01-01", "2026-01-01", *a] for i, a in enumerate(ANSWERS)]
    table = read_table(write_csv(tmp_path / "legacy.csv", rows))
    assert table.attrs["layout"] == "qualtrics-legacy"
    assert list(table.index) == [3, 4, 5, 6]


def test_surveymonkey_second_header_row(tmp_path, worded):
    words = wording(worded, "en")
    top = ["Respondent ID", "Collector ID", "Start Date", "How satisfied are you?", "", "",
           "Trust", "", "", "Comments"]
    sub = ["", "", "", *words[:3], *words[3:], "Open-Ended Response"]
    rows = [top, sub] + [[100 + i, 7, "2026-01-01", *a, "ok"] for i, a in enumerate(ANSWERS)]
    path = write_csv(tmp_path / "monkey.csv", rows)
    responses = read_responses(path, worded)
    assert responses.layout == "surveymonkey"
    assert responses.item_columns["SAT2"] == words[1]
    assert list(responses.items.index) == [3, 4, 5, 6]
    assert responses.items.loc[3].tolist() == [float(v) for v in ANSWERS[0]]
    assert responses.meta["id"].tolist() == ["100", "101", "102", "103"]
    header = locate_header(rows)
    assert header.titles[4] == "How satisfied are you?" and header.names[9] == "Comments"


# ---------------------------------------------------------------- matching
def test_wording_in_zh_header_with_question_numbers_and_full_width_brackets(tmp_path, worded):
    headers = [f"{n}、（{w}）" for n, w in enumerate(wording(worded, "zh"), start=6)]
    path = write_csv(tmp_path / "wjx.csv", [["序号", *headers], *[[i, *a] for i, a in
                                                                  enumerate(ANSWERS)]])
    responses = read_responses(path, worded)
    assert responses.item_columns["TRU2"] == headers[4]
    assert responses.item_columns["TRU1"] == headers[3]  # not the longer TRU2 text


def test_ambiguous_and_partial_wording_are_errors_listing_candidates(tmp_path, worded):
    words = wording(worded, "en")
    headers = [*words, f"Again: {words[0]}"]
    path = write_csv(tmp_path / "twice.csv", [headers, *[[*a, 1] for a in ANSWERS]])
    with pytest.raises(DataError) as info:
        read_responses(path, worded)
    message = str(info.value)
    assert "1 of 6 item columns not found: SAT1 (its wording stands in" in message
    assert repr(words[0]) in message and repr(f"Again: {words[0]}") in message
    # A truncated statement is a candidate, not a match.
    headers = [*words[:5], "The company keeps its prom"]
    path = write_csv(tmp_path / "cut.csv", [headers, *ANSWERS])
    with pytest.raises(DataError) as info:
        read_responses(path, worded)
    assert ("TRU3 (no column holds its wording; similar: 'The company keeps its prom')"
            in str(info.value))


def test_limesurvey_codes_by_construct_and_position(tmp_path, worded):
    headers = ["id", "submitdate", "lastpage", "startlanguage", "interviewtime",
               "SAT[SQ001]", "SAT[SQ002]", "SAT[SQ003]", "TRU[SQ001]", "TRU[SQ002]",
               "TRU[SQ003]"]
    rows = [[i + 1, "2026-01-01", 3, "en", 300.5, *[f"A{v}" for v in a]]
            for i, a in enumerate(ANSWERS)]
    responses = read_responses(write_csv(tmp_path / "lime.csv", [headers, *rows]), worded)
    assert responses.layout == "limesurvey"
    assert responses.item_columns["TRU2"] == "TRU[SQ002]"
    assert responses.column_matches["TRU2"] == "code"
    assert responses.raw_items.loc[2].tolist() == [float(v) for v in ANSWERS[0]]
    assert responses.meta["duration"].tolist() == [300.5] * 4


def test_limesurvey_codes_that_do_not_fit_the_construct(tmp_path, worded):
    headers = ["SAT[SQ001]", "SAT[SQ002]", "SAT[SQ003]", "TRU[X1]", "TRU[X2]"]
    rows = [a[:5] for a in ANSWERS]
    with pytest.raises(DataError) as info:
        read_responses(write_csv(tmp_path / "lime.csv", [headers, *rows]), worded)
    assert "2 column(s) code question TRU, which has 3 items: 'TRU[X1]', 'TRU[X2]'" \
        in str(info.value)


def test_a_typo_beside_item_ids_is_not_a_code(tmp_path, worded):
    headers = ["SAT1", "SAT2", "SAT_3", "TRU1", "TRU2", "TRU3"]
    with pytest.raises(DataError) as info:
        read_responses(write_csv(tmp_path / "typo.csv", [headers, *ANSWERS]), worded)
    assert "SAT3 (did you mean 'SAT_3'?)" in str(info.value)


def test_match_columns_records_how(worded):
    headers = ["SAT1", "x", "y", "TRU[1]", "TRU[2]", "TRU[3]"]
    labels = {"x": "Q2 " + worded.items["SAT2"].en, "y": worded.items["SAT3"].zh}
    matches, unmatched = match_columns(headers, labels, worded)
    assert not unmatched
    assert {i: m.how for i, m in matches.items()} == {
        "SAT1": "id", "SAT2": "wording", "SAT3": "wording", "TRU1": "code", "TRU2": "code",
        "TRU3": "code"}
    assert fold_wording("６、（我信任这家公司。）") == "6我信任这家公司"


def test_spss_variable_labels_carry_the_wording(tmp_path, worded):
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame(ANSWERS, columns=[f"Q{k}" for k in range(1, 7)], dtype=float)
    path = tmp_path / "labelled.sav"
    pyreadstat.write_sav(frame, str(path), column_labels=wording(worded, "zh"))
    responses = read_responses(path, worded)
    assert responses.item_columns == {i: f"Q{k}" for k, i in enumerate(ITEMS, start=1)}
    assert list(responses.items.index) == [2, 3, 4, 5]


# ---------------------------------------------------------------- sheets and duplicates
def test_the_sheet_holding_the_items_is_chosen_and_named(tmp_path, qfile, capsys):
    codebook = [["variable", "label"], *[[i, "..."] for i in ITEMS]]
    path = write_xlsx(tmp_path / "book.xlsx", {"Codebook": codebook, "Data": [ITEMS, *ANSWERS]})
    code, out, err = run(capsys, "validate", path, "-q", qfile)
    assert code == 0, err
    assert "read sheet 'Data', which holds 6 of the 6 items" in err
    assert "other sheets ('Codebook') were ignored" in err and "Rows read:     4" in out


def test_a_duplicate_matrix_title_no_item_uses_is_kept(tmp_path, worded):
    headers = [*ITEMS, "Other", "Other"]
    path = write_csv(tmp_path / "dup.csv", [headers, *[[*a, "", ""] for a in ANSWERS]])
    assert list(read_responses(path, worded).items.columns) == ITEMS


# ---------------------------------------------------------------- labels and metadata
@pytest.mark.parametrize("points, labels", [
    (5, ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
         "Strongly agree"]),
    (5, ["非常不符合", "比较不符合", "一般", "比较符合", "非常符合"]),
    (7, ["非常不符合", "不符合", "比较不符合", "一般", "比较符合", "符合", "非常符合"]),
    (7, ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
         "Somewhat agree", "Agree", "Strongly agree"]),
])
def test_known_label_series_by_scale_size(tmp_path, points, labels):
    yaml_text = WORDED_YAML.replace("max: 5", f"max: {points}")
    q = parse_questionnaire(yaml_text, "w.yaml")
    rows = [[labels[(i + k) % points] for k in range(6)] for i in range(points)]
    responses = read_responses(write_csv(tmp_path / "text.csv", [ITEMS, *rows]), q)
    assert responses.raw_items["SAT1"].tolist() == [float(i + 1) for i in range(points)]


def test_series_give_each_label_one_position_per_size():
    for points, series in SERIES.items():
        seen: dict[str, int] = {}
        for labels in series:
            assert len(labels) == points
            for position, label in enumerate(labels, start=1):
                assert seen.setdefault(fold(label), position) == position, label
        assert series_labels(points)["strongly agree" if points else ""] == points


def test_wenjuanxing_skip_codes_are_unanswered(tmp_path, worded):
    header = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", *ITEMS]
    rows = [[i + 1, "2026/1/1 10:00:00", f"{100 + i}秒", "手机提交", "直接访问", "1.1.1.1", *a]
            for i, a in enumerate(ANSWERS)]
    rows[1][7] = -2
    rows[2][8] = -3
    responses = read_responses(write_csv(tmp_path / "wjx.csv", [header, *rows]), worded)
    assert responses.layout == "wenjuanxing"
    assert responses.raw_items.isna().sum().sum() == 2
    assert any("2 answer(s) coded -2" in w for w in responses.warnings)
    assert responses.meta["duration"].tolist() == [100.0, 101.0, 102.0, 103.0]


def test_skip_codes_elsewhere_get_the_missing_codes_hint(tmp_path, qfile, capsys):
    rows = [ITEMS, *ANSWERS, [1, 2, -2, 4, 5, 1]]
    code, _, err = run(capsys, "validate", write_csv(tmp_path / "neg.csv", rows), "-q", qfile)
    assert code == 2
    assert "value '-2' is off the scale" in err and "`missing_codes: [-2]`" in err


def test_no_time_column_says_speeders_could_not_be_screened(tmp_path, worded):
    rows = [["Timestamp", *wording(worded, "en")]]
    rows += [[f"2026/01/0{i + 1} 10:00:00", *a] for i, a in enumerate(ANSWERS)]
    responses = read_responses(write_csv(tmp_path / "forms.csv", rows), worded)
    assert responses.layout == "google-forms"
    assert any("(Google Forms records none)" in w and "speeders could not be screened" in w
               for w in responses.warnings)



@pytest.mark.parametrize("time, expected", [
    ("所用时间", [70.0, 30.0, 90.0, 61.0]),
    ("Start Date", [70.0, 30.0, 90.0, 61.0]),
    (None, None),
])
def test_min_duration_alone_takes_the_platforms_time(tmp_path, time, expected):
    """``min_duration`` without ``duration_column``: the platform's own time column, else end
    minus start; with neither, the warning says what was looked for."""
    q = parse_questionnaire(WORDED_YAML.replace(
        "{id_column: respondent_id, duration_column: duration_sec, min_duration: 60}",
        "{min_duration: 60}"), "alone.yaml")
    assert q.model.screening.duration_column is None
    seconds = [70, 30, 90, 61]
    if time == "所用时间":
        header, meta = ["所用时间"], [[f"{x}秒"] for x in seconds]
    elif time == "Start Date":
        header = ["Start Date", "End Date"]
        meta = [["2026-01-05 10:00:00", f"2026-01-05 10:0{x // 60}:{x % 60:02d}"]
                for x in seconds]
    else:
        header, meta = ["note"], [["a"], ["b"], ["c"], ["d"]]
    rows = [header + ITEMS] + [m + a for m, a in zip(meta, ANSWERS, strict=True)]
    responses = read_responses(write_csv(tmp_path / "times.csv", rows), q)
    screened = screen(responses, q)
    if expected is None:
        assert "duration" not in responses.meta
        warning = next(w for w in responses.warnings if "speeders could not be screened" in w)
        assert "no response-time column:" in warning and "looked for '所用时间'" in warning
        assert "'Start Date' and 'End Date'" in warning
        assert screened.excluded == ()
    else:
        assert responses.meta["duration"].tolist() == expected
        assert [(e.row, e.reason) for e in screened.excluded] == [(3, "too_fast")]


DEMO_YAML = WORDED_YAML + """\
demographics:
  gender:
    name: {en: Gender, zh: 性别}
    values: {1: {en: Male, zh: 男}, 2: {en: Female, zh: 女}}
    value_labels: {M: 1, F: 2}
  school: {name: School, values: {Pasteur: Pasteur, Grant-White: Grant-White}}
"""


def test_demographics_by_name_codes_and_value_labels(tmp_path):
    q = parse_questionnaire(DEMO_YAML, "demo.yaml")
    header = [*ITEMS, "1. What is your gender?", "Question time: gender", "Which school?"]
    rows = [[*ANSWERS[0], "A2", 12, "pasteur"], [*ANSWERS[1], "M", 9, "Grant-White"],
            [*ANSWERS[2], "female", 3, ""], [*ANSWERS[3], "A1", 4, "Pasteur"]]
    responses = read_responses(write_csv(tmp_path / "demo.csv", [header, *rows]), q)
    assert responses.demographics["gender"].tolist() == [2.0, 1.0, 2.0, 1.0]
    assert responses.demographics["school"].tolist()[:2] == ["Pasteur", "Grant-White"]
    assert "demographic gender read from column '1. What is your gender?'" in responses.notices


def test_demographic_value_labels_must_name_codes():
    bad = DEMO_YAML.replace("value_labels: {M: 1, F: 2}", "value_labels: {M: 1, X: 3}")
    with pytest.raises(Exception) as info:
        parse_questionnaire(bad, "demo.yaml")
    assert "demographics.gender" in str(info.value) and "'X': 3" in str(info.value)
