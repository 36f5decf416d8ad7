"""``sem-kit init`` on every platform download (tests/platform_files.py), then the draft
used unedited (issue 14: "``analyze DATA -q drafted.yaml`` runs without edits on each
layout").

For every layout (en, and zh for Wenjuanxing's): the draft written by the command line
keeps exactly the layout's 400 respondents, excludes exactly its flawed rows for their
reasons, and its item matrix (in the draft's item order, the file's) is the native
file's, cell for cell. For two layouts the whole CFA runs and its chi-square is the
built-in questionnaire's measurement model's."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platform_files as pf
import pytest
import yaml
from references import SAMPLE

from sem_kit import Questionnaire, analyze, load_questionnaire
from sem_kit.cli import main
from sem_kit.io.ingest import read_responses
from sem_kit.io.screening import screen
from sem_kit.questionnaire import builtin_text, parse_questionnaire

WJX = ("wjx_text", "wjx_number", "wjx_number_gbk")
CASES = [(name, "en") for name in pf.LAYOUTS] + [(name, "zh") for name in WJX]


@pytest.fixture(scope="module")
def native(builtin_questionnaire):
    """The bundled sample's kept rows as the built-in questionnaire reads them: the
    answers as given (not reverse-coded, as a draft reverses nothing)."""
    screened = screen(read_responses(SAMPLE, builtin_questionnaire), builtin_questionnaire)
    return screened.raw_items


@dataclass(frozen=True)
class Drafted:
    path: Path  # the layout's file
    questionnaire: Questionnaire  # its draft, as `sem-kit init` wrote it
    text: str  # the draft's text
    err: str  # what init said on stderr


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    """``drafted(name, lang)``: the layout written and drafted by ``sem-kit init`` (each
    once per module)."""
    done: dict[tuple[str, str], Drafted] = {}

    def draft(name: str, lang: str) -> Drafted:
        if (name, lang) not in done:
            layout = pf.LAYOUTS[name]
            folder = tmp_path_factory.mktemp(f"{name}-{lang}")
            path = layout.write(folder / layout.file_name(), lang)
            target = folder / f"{name}.yaml"
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = main(["init", str(path), "-o", str(target)])
            assert code == 0, err.getvalue()
            done[name, lang] = Drafted(path, load_questionnaire(target),
                                       target.read_text(encoding="utf-8"), err.getvalue())
        return done[name, lang]

    return draft


def flat(text: str) -> str:
    """The draft's text with comment marks and line breaks gone (comments are wrapped)."""
    return " ".join(text.replace("#", " ").split())


@pytest.mark.parametrize("name, lang", CASES)
def test_draft_reads_the_layout_as_the_native_file(drafted, name, lang, native):
    layout = pf.LAYOUTS[name]
    d = drafted(name, lang)
    q = d.questionnaire
    rows = layout.rows()
    responses = read_responses(d.path, q)
    screened = screen(responses, q)
    assert tuple(responses.items.index) == rows.data_rows
    assert tuple(screened.items.index) == rows.respondent_rows
    assert {e.row: e.reason for e in screened.excluded} == rows.excluded
    assert len(q.items) == native.shape[1] == 48
    np.testing.assert_array_equal(screened.raw_items.to_numpy(), native.to_numpy())
    # speeders are screened wherever the platform records a time, column or start/end
    timed = "too_fast" in layout.flaws
    assert (q.model.screening.min_duration is not None) == timed
    if name == "spss_missing_undeclared":
        assert q.model.missing_codes == [99]
    else:
        assert q.model.missing_codes == []
    if name == "excel_codebook":
        assert "read sheet 'Data', which holds 48 rating items" in d.err
        assert "('Codebook') were ignored" in d.err


def test_start_and_end_time_give_min_duration_alone(drafted):
    """SurveyMonkey writes no time column: the draft screens on end minus start and says so."""
    d = drafted("surveymonkey", "en")
    screening = d.questionnaire.model.screening
    assert screening.duration_column is None
    assert screening.min_duration == 110  # 2 s x (48 items + 5 demographics)
    assert "no response-time column: the time is column 4 (D) (End Date) minus column 3 (C) " \
           "(Start Date)" in flat(d.text)
    assert "(Start Date): start time: the response time is end minus start" in flat(d.text)


def test_wenjuanxing_numbers_skip_codes_are_unanswered(drafted):
    """-2 / -3 of a 按选项序号 download are read as no answer, as analyze reads them."""
    d = drafted("wjx_number", "zh")
    q = d.questionnaire
    assert "a Wenjuanxing download: its 115 answers coded -2 or -3 (skipped, not shown) are " \
           "read as 'not answered'" in flat(d.text)
    assert q.model.missing_codes == []
    assert (q.model.scale.min, q.model.scale.max) == (1, 7)
    assert q.model.value_labels == {}


@pytest.fixture(scope="module")
def builtin_measurement():
    """The built-in questionnaire's measurement model as a file can show it: no hypotheses,
    KCH's dimensions first-order (as in test_init.py)."""
    data = yaml.safe_load(builtin_text("customer-knowledge-sharing"))
    for key in ("hypotheses", "alternatives", "population"):
        del data[key]
    del data["constructs"]["KCH"]
    reference = parse_questionnaire(yaml.safe_dump(data, allow_unicode=True), "<reference>")
    return analyze(SAMPLE, questionnaire=reference, bootstrap=0, seed=1).measurement.cfa_fit


@pytest.mark.parametrize("name, lang", [("wjx_number", "zh"), ("qualtrics", "en")])
def test_drafted_cfa_is_the_builtin_measurement_model(drafted, name, lang,
                                                      builtin_measurement):
    d = drafted(name, lang)
    q = d.questionnaire
    builtin = load_questionnaire()
    assert [len(v) for v in q.construct_items.values()] == [
        len(v) for v in builtin.construct_items.values() if v]
    result = analyze(d.path, questionnaire=q, bootstrap=0, seed=1)
    assert result.structural is None and result.n_analyzed == 363
    fit = result.measurement.cfa_fit
    assert fit["df"] == builtin_measurement["df"] == 1002
    assert fit["chisq"] == pytest.approx(builtin_measurement["chisq"], rel=1e-8)
