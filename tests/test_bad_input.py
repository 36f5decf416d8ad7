"""Bad input through the real command line: exit 2, a message that says where and what, no
traceback, and the input file's bytes unchanged.

Every test runs ``sem_kit.cli.main`` (a few run the installed ``sem-kit`` script in a
subprocess, to prove there is no traceback) on a file it writes into ``tmp_path``.
Reading faults use ``sem-kit validate`` (no estimation); faults that only the analysis
finds use ``sem-kit analyze --bootstrap 0`` with a small questionnaire without
hypotheses. The messages asserted here are the ones docs/faults.md lists.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from references import write_xlsx

from sem_kit.cli import main
from sem_kit.io.simulate import simulate_responses
from sem_kit.pipeline import analyze, free_parameters
from sem_kit.questionnaire import parse_questionnaire

SMALL_YAML = """\
format: 1
name: small
scale: {min: 1, max: 7}
constructs:
  A:
    name: Alpha
    items: {A1: first, A2: second, A3: third}
  B:
    name: Beta
    items: {B1: fourth, B2: fifth, B3: sixth}
value_labels: {Agree: 6, Disagree: 2}
"""

ZH_YAML = """\
format: 1
name: zh
scale:
  min: 1
  max: 5
  labels: {1: {en: Strongly disagree, zh: 非常不同意}, 5: {en: Strongly agree, zh: 非常同意}}
constructs:
  WIL:
    name: {en: Willingness, zh: 意愿}
    items: {WIL1: 我愿意分享, WIL2: 我乐于讨论, WIL3: 我常常分享}
  ABL:
    name: {en: Ability, zh: 能力}
    items: {ABL1: 我能说清楚, ABL2: 我懂产品, ABL3: 我会表达}
columns:
  WIL1: "1、我愿意分享"
  WIL2: "2、我乐于讨论"
  WIL3: "3、我常常分享"
  ABL1: "4、我能说清楚"
  ABL2: "5、我懂产品"
  ABL3: "6、我会表达"
value_labels: {不同意: 2, 一般: 3, 同意: 4}
"""

HEADER = "A1,A2,A3,B1,B2,B3"
ROWS = ["1,2,3,4,5,6", "2,3,4,5,6,7", "3,3,4,4,5,5"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def qfile(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_YAML, encoding="utf-8")
    return path


def csv_file(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``sem-kit`` in-process; returns (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def fails(capsys: pytest.CaptureFixture[str], data: Path, *args: str | Path,
          command: str = "validate") -> str:
    """Run a command on ``data`` that must fail as bad input; returns the message.

    Asserts exit code 2, one ``sem-kit: error: <data>: ...`` line without a
    traceback, and that ``data`` (if it exists) has the same bytes as before.
    """
    before = sha(data) if data.is_file() else None
    extra = ("--bootstrap", "0", "--seed", "1") if command == "analyze" else ()
    code, out, err = cli(capsys, command, data, *args, *extra)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "internal error" not in err
    assert err.startswith(f"sem-kit: error: {data}: "), err
    assert err.count("\n") == 1
    if before is not None:
        assert sha(data) == before
    return err.removeprefix("sem-kit: error: ").strip()


def works(capsys: pytest.CaptureFixture[str], data: Path, *args: str | Path) -> str:
    """``sem-kit validate`` on ``data`` must succeed; returns stdout (file unchanged)."""
    before = sha(data)
    code, out, err = cli(capsys, "validate", data, *args)
    assert code == 0, err
    assert sha(data) == before
    return out


def script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``sem-kit`` console script as a user would."""
    exe = Path(sys.executable).with_name("sem-kit")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                          check=False)




def simulated(tmp_path: Path, n: int, seed: int = 1, name: str = "sim.csv",
              yaml_text: str = SMALL_YAML) -> Path:
    """Items-only responses to a questionnaire, written as CSV."""
    q = parse_questionnaire(yaml_text, "sim.yaml")
    path = tmp_path / name
    simulate_responses(q, n, seed, demographics=False).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- the file itself


def test_missing_file(capsys, tmp_path, qfile):
    message = fails(capsys, tmp_path / "nope.csv", "-q", qfile)
    assert message == (f"{tmp_path / 'nope.csv'}: no such file; expected a responses file "
                       "(.csv, .xlsx or .sav) at this path")


def test_empty_file(capsys, tmp_path, qfile):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert fails(capsys, path, "-q", qfile).endswith(
        "is empty; expected a header row and one row per respondent")


def test_header_only(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "header.csv", [HEADER])
    assert "has a header row but no data rows; expected one row per respondent" in fails(
        capsys, path, "-q", qfile)


@pytest.mark.parametrize("delimiter, name", [(";", "semi.csv"), ("\t", "tab.csv"),
                                             ("\t", "tab.tsv"), (",", "comma.csv")])
def test_other_delimiters_work(capsys, tmp_path, qfile, delimiter, name):
    lines = [line.replace(",", delimiter) for line in [HEADER, *ROWS]]
    out = works(capsys, csv_file(tmp_path, name, lines), "-q", qfile)
    assert "Rows read:     3" in out and "Rows kept:     3" in out


def test_semicolon_file_with_decimal_commas_in_other_columns(capsys, tmp_path, qfile):
    lines = ["note;" + HEADER.replace(",", ";")] + [f'"1,5";{r.replace(",", ";")}' for r in ROWS]
    assert "Rows kept:     3" in works(capsys, csv_file(tmp_path, "eu.csv", lines), "-q", qfile)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_encodings_work(capsys, tmp_path, encoding):
    q = tmp_path / "zh.yaml"
    q.write_text(ZH_YAML, encoding="utf-8")
    header = "序号,1、我愿意分享,2、我乐于讨论,3、我常常分享,4、我能说清楚,5、我懂产品,6、我会表达"
    lines = [header, "一,非常同意,同意,4,3,2,1", "二,一般,不同意,2,5,4,3", "三,3,3,3,4,4,5"]
    out = works(capsys, csv_file(tmp_path, f"{encoding}.csv", lines, encoding), "-q", q)
    assert "Rows read:     3" in out and "Rows kept:     3" in out


def test_gbk_bad_answer_is_named_in_chinese(capsys, tmp_path):
    q = tmp_path / "zh.yaml"
    q.write_text(ZH_YAML, encoding="utf-8")
    header = "1、我愿意分享,2、我乐于讨论,3、我常常分享,4、我能说清楚,5、我懂产品,6、我会表达"
    path = csv_file(tmp_path, "gbk.csv", [header, "1,2,3,4,5,1", "1,还行,3,4,5,1"], "gbk")
    message = fails(capsys, path, "-q", q)
    assert "column '2、我乐于讨论' (item WIL2), row 3: answer '还行'" in message
    assert "expected a whole number from 1 to 5" in message and "同意" in message


def test_excel_several_sheets(capsys, tmp_path, qfile):
    rows = [HEADER.split(","), *[[int(v) for v in r.split(",")] for r in ROWS]]
    path = write_xlsx(tmp_path / "book.xlsx", {"说明": [["这是说明"], ["无数据"]], "Data": rows})
    out = works(capsys, path, "-q", qfile, "--sheet", "Data")
    assert "Rows read:     3" in out
    # Without --sheet the sheet holding the items is read, and named.
    out = works(capsys, path, "-q", qfile)
    assert "Rows read:     3" in out
    assert ("read sheet 'Data', which holds 6 of the 6 items; the workbook's other sheets "
            "('说明') were ignored; choose one with --sheet") in out
    # A workbook none of whose sheets holds an item column: the first sheet is named, and
    # the message points at the others.
    notes = write_xlsx(tmp_path / "notes.xlsx", {"说明": [["这是说明"], ["无数据"]],
                                           "Other": [["x", "y"], [1, 2]]})
    message = fails(capsys, notes, "-q", qfile)
    assert "none of the 6 item columns of questionnaire small" in message
    assert "the file's columns are '这是说明' (sheet '说明')" in message
    assert "other sheets ('Other'): choose the one with the responses with --sheet" in message
    message = fails(capsys, path, "-q", qfile, "--sheet", "Daten")
    assert message == f"{path}: has no sheet named 'Daten'; its sheets: '说明', 'Data'"


def test_excel_first_sheet_read_with_warning(capsys, tmp_path, qfile):
    rows = [HEADER.split(","), *[[int(v) for v in r.split(",")] for r in ROWS]]
    path = write_xlsx(tmp_path / "book.xlsx", {"Data": rows, "Notes": [["x"], [1]]})
    out = works(capsys, path, "-q", qfile)
    assert "Rows kept:     3" in out
    assert "read the first sheet 'Data'; the workbook's other sheets ('Notes') were ignored" in out


def test_duplicated_column_names(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "dup.csv", ["A1,A2,A3,B1,B2,B3,A2", "1,2,3,4,5,6,7"])
    message = fails(capsys, path, "-q", qfile)
    assert message == (f"{path}: column 'A2' appears 2 times in the header: columns 2 (B) and "
                       "7 (G); rename or delete all but one")


def test_item_column_missing(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "miss.csv", ["A1,A2,A3,B1,B_2", "1,2,3,4,5"])
    message = fails(capsys, path, "-q", qfile)
    assert message.startswith(f"{path}: 2 of 6 item columns not found: B2 (did you mean 'B_2'?)")
    assert "B3" in message and "`columns:`" in message


def test_questionnaire_that_does_not_fit_the_data(capsys, tmp_path):
    path = simulated(tmp_path, 30)
    message = fails(capsys, path)  # the built-in questionnaire
    assert message.startswith(
        f"{path}: none of the 48 item columns of questionnaire customer-knowledge-sharing "
        "(<built-in customer-knowledge-sharing>) is in the file: expected columns 'WIL1', ")
    assert "the file's columns are 'A1', 'A2', 'A3', 'B1', 'B2', 'B3'" in message
    assert "Is this the questionnaire of this file (-q)?" in message


# --------------------------------------------------------------------------- the answers


def test_non_numeric_answer_not_in_value_labels(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "text.csv", [HEADER, "1,2,3,4,5,6", "Agree,2,3,4,maybe,6",
                                           "1,2,3,4,maybe,6"])
    message = fails(capsys, path, "-q", qfile)
    assert message == (
        f"{path}: column 'B2', rows 3, 4 (2 rows): answer 'maybe' is not a number or a known "
        "answer label; expected a whole number from 1 to 7, or one of the value labels "
        "(Agree, Disagree). Add text answers to `value_labels:` in the questionnaire, or "
        "recode them")


@pytest.mark.parametrize("value, what", [
    ("8", "is off the scale"), ("0", "is off the scale"), ("-4", "is off the scale"),
    ("3.5", "is not a whole number"), ("6.0001", "is not a whole number"),
])
def test_value_off_the_scale(capsys, tmp_path, qfile, value, what):
    path = csv_file(tmp_path, "off.csv", [HEADER, "1,2,3,4,5,6", f"1,2,3,4,{value},6"])
    message = fails(capsys, path, "-q", qfile)
    assert message == (f"{path}: column 'B2', row 3: value '{value}' {what}; expected a whole "
                       "number from 1 to 7")


def test_several_off_scale_values_are_listed(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "off.csv", [HEADER, "8,2,3,4,5,6", "8,2,3,4,5,6", "9,2,3,0,5,6"])
    message = fails(capsys, path, "-q", qfile)
    assert "column 'A1', rows 2, 3 (2 rows): value '8' is off the scale" in message
    assert "the column also holds '9' (row 4)" in message
    assert "1 more such problem(s), e.g. column 'B1', row 4: value '0'" in message


def test_off_scale_in_excel(capsys, tmp_path, qfile):
    rows = [HEADER.split(","), [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7.5]]
    path = write_xlsx(tmp_path / "off.xlsx", {"Data": rows})
    message = fails(capsys, path, "-q", qfile)
    assert message == f"{path}: column 'B3', row 3: value '7.5' is off the scale; expected a " \
                      "whole number from 1 to 7"


# --------------------------------------------------------------------------- not a table


def test_binary_junk(capsys, tmp_path, qfile):
    path = tmp_path / "junk.csv"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert fails(capsys, path, "-q", qfile) == (
        f"{path}: is not a table: it holds binary data, not delimited text")


def test_png_renamed_csv(capsys, tmp_path, qfile):
    path = tmp_path / "chart.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert fails(capsys, path, "-q", qfile) == (
        f"{path}: is not a table: it holds binary data, not delimited text (its content looks "
        "like a PNG image, not a table)")


def test_docx_renamed_xlsx(capsys, tmp_path, qfile):
    import docx

    document = docx.Document()
    document.add_paragraph("问卷说明")
    path = tmp_path / "report.xlsx"
    document.save(path)
    message = fails(capsys, path, "-q", qfile)
    assert message.startswith(f"{path}: is not a readable .xlsx workbook")
    assert message.endswith("its content looks like a Word .docx document, not a table")


def test_xlsx_renamed_csv(capsys, tmp_path, qfile):
    real = write_xlsx(tmp_path / "real.xlsx", {"Data": [HEADER.split(","), [1, 2, 3, 4, 5, 6]]})
    path = tmp_path / "fake.csv"
    shutil.copy(real, path)
    assert fails(capsys, path, "-q", qfile) == (
        f"{path}: is not a table: it holds binary data, not delimited text (its content looks "
        "like an Excel .xlsx workbook; give it the matching extension)")


def test_pdf_renamed_csv(capsys, tmp_path, qfile):
    path = tmp_path / "paper.csv"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n")
    assert "looks like a PDF document, not a table" in fails(capsys, path, "-q", qfile)


# --------------------------------------------------------------------------- the analysis


def test_item_constant_across_respondents(capsys, tmp_path, qfile):
    q = parse_questionnaire(SMALL_YAML, "small.yaml")
    frame = simulate_responses(q, 60, 3, demographics=False)
    frame["A2"] = 4
    path = tmp_path / "constant.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    message = fails(capsys, path, "-q", qfile, "-o", out, "--screen", "none",
                    command="analyze")
    assert message == (
        f"{path}: column 'A2' is 4 in every one of the 60 analysed rows (rows 2 to 61). A "
        "constant item has no variance and cannot measure a construct: expected answers that "
        "vary between respondents; check the column or drop the item from the questionnaire")
    assert not out.exists()


def test_fewer_rows_than_items(capsys, tmp_path, qfile):
    path = simulated(tmp_path, 5)
    message = fails(capsys, path, "-q", qfile, "-o", tmp_path / "out", "--screen", "none",
                    command="analyze")
    assert message == (
        f"{path}: 5 complete respondent rows remain of the file's 5 (0 excluded by screening, "
        "0 with unanswered items), but the measurement model (CFA) has 13 free parameters for "
        "6 items: expected at least 13 complete rows, and 5 to 10 per free parameter (65 or "
        "more) for stable estimates; `sem-kit validate` lists every excluded row")


@pytest.mark.parametrize("n", [7, 10, 12])
def test_more_free_parameters_than_rows(capsys, tmp_path, qfile, n):
    """Between the item count (6) and the free-parameter count (13) the estimation used to
    fail as an unidentified model; now the row count is checked first."""
    path = simulated(tmp_path, n, seed=2)
    message = fails(capsys, path, "-q", qfile, "-o", tmp_path / "out", "--screen", "none",
                    command="analyze")
    assert f"{n} complete respondent rows remain of the file's {n}" in message
    assert "has 13 free parameters for 6 items: expected at least 13 complete rows" in message


def test_as_many_rows_as_free_parameters_is_analysed(tmp_path):
    path = simulated(tmp_path, 13, seed=2)
    result = analyze(path, parse_questionnaire(SMALL_YAML, "small.yaml"), bootstrap=0, seed=1,
                     screen="none")
    assert result.n_analyzed == 13


def test_builtin_model_with_too_few_rows(capsys, tmp_path, builtin_questionnaire):
    q = builtin_questionnaire
    npar, model = free_parameters(q)
    assert model == "the measurement model (CFA)" and npar == 145
    path = tmp_path / "short.csv"
    simulate_responses(q, 120, 5).to_csv(path, index=False)
    message = fails(capsys, path, "-o", tmp_path / "out", command="analyze")
    assert "but the measurement model (CFA) has 145 free parameters for 48 items: expected " \
           "at least 145 complete rows, and 5 to 10 per free parameter (725 or more)" in message


def test_every_row_screened_out(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "blank.csv", [HEADER, ",,,,,", "NA,NA,,,,", "1,,,,,2"])
    message = fails(capsys, path, "-q", qfile, "-o", tmp_path / "out", command="analyze")
    assert "0 complete respondent rows remain of the file's 3 (3 excluded by screening, 0 " \
           "with unanswered items)" in message
    message = fails(capsys, path, "-q", qfile, "-o", tmp_path / "out", "--screen", "none",
                    command="analyze")
    assert "0 complete respondent rows remain of the file's 3 (2 excluded by screening, 1 " \
           "with unanswered items)" in message


def test_rows_with_one_construct_unanswered_are_dropped_and_logged(capsys, tmp_path, qfile):
    """Not an error: such rows are excluded (screening or listwise deletion) and listed."""
    q = parse_questionnaire(SMALL_YAML, "small.yaml")
    frame = simulate_responses(q, 80, 4, demographics=False).astype("Int64")
    frame.loc[[5, 20, 41], ["B1", "B2", "B3"]] = pd.NA
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    out = works(capsys, path, "-q", qfile)
    assert "too_many_missing     3" in out  # 3 of 6 answers missing > 20 %
    for screen_rules in ("default", "none"):
        result = analyze(path, q, bootstrap=0, seed=1, screen=screen_rules)
        dropped = {e.row: e for e in result.excluded if e.row in (7, 22, 43)}
        assert set(dropped) == {7, 22, 43}
        if screen_rules == "none":
            assert {e.reason for e in dropped.values()} == {"listwise"}
            assert all("no item of construct B answered" in e.detail for e in dropped.values())
        assert result.n_analyzed + len(result.excluded) == 80
        assert not set(dropped) & set(result.data.index)
    # The same through the command line: the rows are in results.json's exclusion log.
    report = tmp_path / "out"
    code, _, err = cli(capsys, "analyze", path, "-q", qfile, "-o", report, "--bootstrap", "0",
                       "--seed", "1", "--screen", "none")
    assert code == 0, err
    meta = json.loads((report / "results.json").read_text(encoding="utf-8"))["meta"]
    logged = {e["row"]: e for e in meta["excluded"]}
    assert {7, 22, 43} <= set(logged) and meta["n_analyzed"] + len(meta["excluded"]) == 80
    assert all(logged[r]["reason"] == "listwise" for r in (7, 22, 43))


# --------------------------------------------------------------------------- as a user runs it


def test_installed_script_never_shows_a_traceback(tmp_path, qfile):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    off = csv_file(tmp_path, "off.csv", [HEADER, "1,2,3,4,5,6", "1,2,3,4,8,6"])
    few = simulated(tmp_path, 9)
    cases = [
        (("validate", tmp_path / "nope.csv", "-q", qfile), "no such file"),
        (("validate", junk, "-q", qfile), "looks like a PNG image"),
        (("validate", off, "-q", qfile), "value '8' is off the scale"),
        (("analyze", few, "-q", qfile, "-o", tmp_path / "out", "--bootstrap", "0"),
         "has 13 free parameters"),
    ]
    for args, fragment in cases:
        before = sha(args[1]) if Path(args[1]).is_file() else None
        proc = script(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith(f"sem-kit: error: {args[1]}: ")
        assert fragment in proc.stderr and "Traceback" not in proc.stderr
        if before is not None:
            assert sha(Path(args[1])) == before
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- --missing fiml


def _with_holes(tmp_path: Path, n: int, complete: int) -> Path:
    """Simulated answers where all but the first ``complete`` rows miss one item each."""
    path = simulated(tmp_path, n, seed=4)
    frame = pd.read_csv(path)
    for k, row in enumerate(range(complete, n)):
        frame.iloc[row, k % frame.shape[1]] = np.nan
    frame.to_csv(path, index=False)
    return path


def test_fiml_keeps_incomplete_rows_that_listwise_deletion_drops(tmp_path):
    path = _with_holes(tmp_path, 80, 50)
    q = parse_questionnaire(SMALL_YAML, "small.yaml")
    fiml = analyze(path, q, bootstrap=0, seed=1, screen="none", missing="fiml")
    listwise = analyze(path, q, bootstrap=0, seed=1, screen="none")
    assert fiml.n_analyzed == 80 and fiml.excluded == ()
    assert listwise.n_analyzed == 50 and len(listwise.listwise) == 30


def test_fiml_without_one_complete_row(capsys, tmp_path, qfile):
    """Every row misses an answer: listwise deletion leaves nothing (and says FIML would
    not), FIML analyses every row (its descriptives come from the EM covariance matrix)."""
    path = _with_holes(tmp_path, 60, 0)
    message = fails(capsys, path, "-q", qfile, "-o", tmp_path / "out", "--screen", "none",
                    command="analyze")
    assert message.startswith(f"{path}: 0 complete respondent rows remain of the file's 60")
    assert message.endswith("--missing fiml analyses the rows with unanswered items too")
    result = analyze(path, parse_questionnaire(SMALL_YAML, "small.yaml"), bootstrap=0, seed=1,
                     screen="none", missing="FIML")
    assert result.n_analyzed == 60 and result.options.missing == "fiml"
    assert np.isfinite(result.reliability["alpha"]).all()
    assert result.measurement.efa_summary.bartlett.n == 60


def test_fiml_with_another_estimator_is_bad_input(capsys, tmp_path, qfile):
    """An option error names the options, not the data file."""
    path = simulated(tmp_path, 60)
    code, _, err = cli(capsys, "analyze", path, "-q", qfile, "-o", tmp_path / "out",
                       "--missing", "fiml", "--estimator", "WLSMV")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("sem-kit: error: --missing fiml with --estimator WLSMV: "
                          "full-information ML is available with the ML estimator only")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- missing codes


def test_missing_code_99_is_named_with_the_fix(capsys, tmp_path, qfile):
    path = csv_file(tmp_path, "spss.csv", [HEADER, "1,2,3,4,5,6", "1,2,99,4,5,6"])
    message = fails(capsys, path, "-q", qfile)
    assert message == (f"{path}: column 'A3', row 3: value '99' is off the scale; expected a "
                       "whole number from 1 to 7 (if 99 marks an unanswered item, declare it "
                       "in the questionnaire: `missing_codes: [99]`)")


def test_declared_missing_codes_are_unanswered_items(tmp_path):
    q = parse_questionnaire(SMALL_YAML + "missing_codes: [99, -9]\n", "small.yaml")
    path = simulated(tmp_path, 80, seed=6)
    frame = pd.read_csv(path)
    frame.iloc[3, 0], frame.iloc[7, 4] = 99, -9
    frame.to_csv(path, index=False)
    before = sha(path)
    listwise = analyze(path, q, bootstrap=0, seed=1, screen="none")
    assert [e.row for e in listwise.listwise] == [5, 9]  # file rows: header is row 1
    assert "1 unanswered item(s): A1" in listwise.listwise[0].detail
    fiml = analyze(path, q, bootstrap=0, seed=1, screen="none", missing="fiml")
    assert fiml.n_analyzed == 80 and int(fiml.data.isna().sum().sum()) == 2
    assert sha(path) == before
