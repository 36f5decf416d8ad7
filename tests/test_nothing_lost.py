"""Nothing lost: every data row of the file is analysed or listed as excluded with a reason.

For every fixture (the bundled sample data, simulated files with flawed rows, blank rows,
missing answers, other delimiters, encodings and Excel) the data rows are counted here
independently of sem_kit (``csv`` / ``openpyxl``), and the run must account for each:
``n_analyzed + len(excluded) == rows``, every excluded row is a real data row, excluded
and analysed rows are disjoint, and each deliberately flawed row has the right reason.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from references import SAMPLE

from sem_kit.cli import main
from sem_kit.io.ingest import read_responses
from sem_kit.io.screening import REASONS, screen
from sem_kit.io.simulate import simulate_responses
from sem_kit.pipeline import LISTWISE, AnalysisResult, analyze, listwise_deletion
from sem_kit.questionnaire import parse_questionnaire

YAML = """\
format: 1
name: lost
scale: {min: 1, max: 5}
constructs:
  A: {name: A, items: {A1: a, A2: b, A3: c}}
  B: {name: B, items: {B1: d, B2: e, B3: f}}
  C: {name: C, items: {C1: g, C2: h, C3: i, C4: j}}
demographics:
  gender: {name: Gender, values: {1: Male, 2: Female}}
screening: {id_column: id, duration_column: seconds, min_duration: 60}
"""

#: Flaw kind of ``simulate_responses(..., flawed=True)`` -> the screening reason it gets.
FLAW_REASON = {"duplicate_id": "duplicate_id", "duplicate_answers": "duplicate_answers",
               "straight_line_top": "straight_lining", "straight_line_middle": "straight_lining",
               "too_fast": "too_fast", "too_many_missing": "too_many_missing",
               "no_answers": "no_answers", "blank": "blank"}


def data_rows(path: Path, encoding: str = "utf-8", sheet: str | None = None) -> int:
    """Data rows of a file, counted without sem_kit: records after the header, up to the
    last one with any content (trailing empty lines and formatted-but-empty Excel rows are
    not rows)."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        ws = book[sheet] if sheet else book.worksheets[0]
        records = [["" if v is None else str(v) for v in row]
                   for row in ws.iter_rows(values_only=True)]
        book.close()
    else:
        text = path.read_bytes().decode(encoding).lstrip("\ufeff")
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
        records = list(csv.reader(io.StringIO(text, newline=""), dialect))
    while records and not any(v.strip() for v in records[-1]):
        records.pop()
    return len(records) - 1


def accounted(result: AnalysisResult, rows: int) -> dict[int, str]:
    """Assert that every data row is analysed or excluded exactly once; returns row -> reason."""
    excluded = {e.row: e.reason for e in result.excluded}
    assert len(excluded) == len(result.excluded), "a row is excluded twice"
    analysed = {int(r) for r in result.data.index}
    assert result.n_analyzed + len(result.excluded) == rows
    assert analysed.isdisjoint(excluded)
    assert analysed | set(excluded) == set(range(2, rows + 2))
    assert set(excluded.values()) <= set(REASONS) | {LISTWISE}
    assert all(e.detail for e in result.excluded)
    meta = result.meta()
    assert meta["input"]["rows"] == rows
    assert meta["n_analyzed"] + len(meta["excluded"]) == rows
    return excluded


def flawed_frame(n: int = 150, seed: int = 7, missing: float = 0.01) -> pd.DataFrame:
    q = parse_questionnaire(YAML, "lost.yaml")
    return simulate_responses(q, n, seed, missing=missing, flawed=True)


def check_flaws(excluded: dict[int, str], frame: pd.DataFrame, row_of: dict[int, int]) -> None:
    """Every deliberately flawed row is excluded for its own reason."""
    for flaw in frame.attrs["flawed_rows"]:
        assert excluded[row_of[flaw["row"]]] == FLAW_REASON[flaw["kind"]], flaw


# --------------------------------------------------------------------------- the sample data


def test_bundled_sample_data_every_row_accounted_for(sample_run):
    rows = data_rows(SAMPLE)
    assert rows == 409
    result = sample_run(bootstrap=0, seed=1)
    assert SAMPLE.read_bytes() == sample_run.original
    excluded = accounted(result, rows)
    reasons = pd.Series(excluded).value_counts().to_dict()
    assert reasons[LISTWISE] == 37 and sum(reasons.values()) - 37 == 9
    assert result.screening.n_kept + len(result.screening.excluded) == rows


def test_bundled_sample_data_without_screening(builtin_questionnaire):
    """``--screen none``: only blank and unanswered rows go before listwise deletion."""
    q = builtin_questionnaire
    screened = screen(read_responses(SAMPLE, q), q, rules="none")
    complete, dropped = listwise_deletion(screened.items, q.construct_items)
    rows = data_rows(SAMPLE)
    assert len(complete) + len(screened.excluded) + len(dropped) == rows
    assert {e.reason for e in screened.excluded} <= {"blank", "no_answers"}
    gone = [e.row for e in screened.excluded] + [e.row for e in dropped]
    assert len(set(gone)) == len(gone) and set(gone).isdisjoint(complete.index)
    assert set(gone) | set(complete.index) == set(range(2, rows + 2))


# --------------------------------------------------------------------------- simulated fixtures


@pytest.mark.parametrize("rules", ["default", "none"])
def test_flawed_rows_and_missing_answers(tmp_path, rules):
    frame = flawed_frame()
    path = tmp_path / "flawed.csv"
    frame.to_csv(path, index=False)
    result = analyze(path, parse_questionnaire(YAML, "lost.yaml"), bootstrap=0, seed=1,
                     screen=rules)
    excluded = accounted(result, data_rows(path))
    if rules == "default":
        check_flaws(excluded, frame, {p: p + 2 for p in range(len(frame))})
    else:
        assert set(excluded.values()) <= {"blank", "no_answers", LISTWISE}
    assert LISTWISE in excluded.values()


def test_blank_rows_between_respondents_and_at_the_end(tmp_path):
    """Blank lines inside the table are rows (and excluded as blank); those after it are not."""
    frame = flawed_frame(seed=8)
    text = frame.to_csv(index=False).splitlines()
    blank_after = {10, 11, 60}  # data positions after which an empty line goes
    lines = [text[0]]
    row_of: dict[int, int] = {}
    for p, line in enumerate(text[1:]):
        lines.append(line)
        row_of[p] = len(lines)
        if p in blank_after:
            lines.append(",,,,,,,,,,,,")
    path = tmp_path / "blanks.csv"
    path.write_text("\n".join(lines) + "\n\n,,,,\n\n", encoding="utf-8")
    result = analyze(path, parse_questionnaire(YAML, "lost.yaml"), bootstrap=0, seed=1)
    rows = data_rows(path)
    assert rows == len(frame) + len(blank_after)
    excluded = accounted(result, rows)
    check_flaws(excluded, frame, row_of)
    assert all(excluded[row_of[p] + 1] == "blank" for p in blank_after)


@pytest.mark.parametrize("variant", ["semicolon-gbk", "tab-utf16", "xlsx-second-sheet"])
def test_other_formats(tmp_path, variant):
    frame = flawed_frame(seed=9)
    q = parse_questionnaire(YAML, "lost.yaml")
    encoding, sheet = "utf-8", None
    if variant == "semicolon-gbk":
        path, encoding = tmp_path / "data.csv", "gbk"
        path.write_bytes(frame.to_csv(index=False, sep=";").encode(encoding))
    elif variant == "tab-utf16":
        path, encoding = tmp_path / "data.tsv", "utf-16"
        path.write_bytes(frame.to_csv(index=False, sep="\t").encode(encoding))
    else:
        path, sheet = tmp_path / "data.xlsx", "Responses"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            notes = pd.DataFrame({"note": ["exported 2026-01-05"]})
            notes.to_excel(writer, sheet_name="Notes", index=False)
            frame.to_excel(writer, sheet_name=sheet, index=False)
    result = analyze(path, q, bootstrap=0, seed=1, sheet=sheet)
    excluded = accounted(result, data_rows(path, encoding, sheet))
    check_flaws(excluded, frame, {p: p + 2 for p in range(len(frame))})


@pytest.mark.parametrize("rules", ["default", "none"])
def test_rows_missing_a_whole_construct(tmp_path, rules):
    q = parse_questionnaire(YAML, "lost.yaml")
    frame = simulate_responses(q, 120, 10, demographics=False).astype("Int64")
    holes = [3, 40, 41, 99]
    frame.loc[holes, ["A1", "A2", "A3"]] = pd.NA  # 3 of 10 items: over max_missing (20 %)
    frame.loc[[50], ["C1", "C2", "C3", "C4"]] = pd.NA
    path = tmp_path / "construct.csv"
    frame.to_csv(path, index=False)
    q_plain = parse_questionnaire(YAML.replace(
        "screening: {id_column: id, duration_column: seconds, min_duration: 60}\n", ""), "q")
    result = analyze(path, q_plain, bootstrap=0, seed=1, screen=rules)
    excluded = accounted(result, data_rows(path))
    for p in holes:
        assert excluded[p + 2] == ("too_many_missing" if rules == "default" else LISTWISE)
    assert excluded[52] == ("too_many_missing" if rules == "default" else LISTWISE)
    if rules == "none":
        details = {e.row: e.detail for e in result.excluded}
        assert "no item of construct A answered" in details[5]
        assert "no item of construct C answered" in details[52]


def test_validate_counts_add_up(capsys, tmp_path):
    frame = flawed_frame(seed=11)
    path = tmp_path / "v.csv"
    frame.to_csv(path, index=False)
    qfile = tmp_path / "lost.yaml"
    qfile.write_text(YAML, encoding="utf-8")
    assert main(["validate", str(path), "-q", str(qfile)]) == 0
    out = capsys.readouterr().out
    counts = {line.split(":")[0]: int(line.split(":")[1]) for line in out.splitlines()
              if line.startswith(("Rows read:", "Rows kept:", "Rows excluded:"))}
    assert counts["Rows read"] == data_rows(path)
    assert counts["Rows kept"] + counts["Rows excluded"] == counts["Rows read"]
    listed = [line for line in out.splitlines() if line.startswith("  row ")]
    assert len(listed) == counts["Rows excluded"]
