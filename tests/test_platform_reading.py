"""The sample's answers as each survey platform downloads them (tests/platform_files.py) are
read with the built-in questionnaire -- no questionnaire file, no `columns:` -- and give the
same analysis as the native file.

For every layout and language: the analysed item matrix equals the native one cell for
cell, the rows screening excludes are the layout's flawed rows with their reasons, and
analysed + excluded = data rows. For one file per platform the whole analysis runs and its
chi-squares equal the native run's. The input file is never modified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import platform_files as pf
import pytest
from references import SAMPLE

from sem_kit import analyze
from sem_kit.cli import main
from sem_kit.io.ingest import read_responses
from sem_kit.io.screening import screen
from sem_kit.report.tables import build_tables

WORDING_LAYOUTS = [n for n, lay in pf.LAYOUTS.items()
                   if lay.wording_in_headers or lay.wording_in_labels or n == "limesurvey_codes"]
"""Layouts the built-in questionnaire reads as they are (wording or LimeSurvey codes)."""


@pytest.fixture(scope="module")
def native(builtin_questionnaire):
    responses = read_responses(SAMPLE, builtin_questionnaire)
    return screen(responses, builtin_questionnaire)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _complete(screened):
    items = screened.items
    return items[items.notna().all(axis=1)]


@pytest.mark.parametrize("lang", pf.LANGS)
@pytest.mark.parametrize("name", sorted(set(pf.LAYOUTS) - {"spss_missing_undeclared"}))
def test_layout_reads_as_the_native_file(tmp_path, name, lang, builtin_questionnaire, native):
    layout = pf.LAYOUTS[name]
    path = layout.write(tmp_path / layout.file_name(), lang)
    before = _sha(path)
    responses = read_responses(path, builtin_questionnaire)
    screened = screen(responses, builtin_questionnaire)
    rows = layout.rows()
    assert _sha(path) == before
    assert responses.n_rows == len(rows.data_rows)
    assert tuple(responses.items.index) == rows.data_rows
    assert {e.row: e.reason for e in screened.excluded} == rows.excluded
    assert screened.n_kept + len(screened.excluded) == responses.n_rows
    assert tuple(screened.items.index) == rows.respondent_rows
    # the answers: cell for cell those of the native file's kept rows
    np.testing.assert_array_equal(screened.items.to_numpy(), native.items.to_numpy())
    assert len(_complete(screened)) == len(_complete(native)) == 363
    assert set(responses.column_matches.values()) <= {"id", "code", "wording"}
    # the demographics too, found by their name in the question and decoded from the
    # platform's answer texts or codes
    kept = native.demographics
    assert list(screened.demographics.columns) == list(kept.columns)
    np.testing.assert_array_equal(screened.demographics.to_numpy(dtype=float),
                                  kept.to_numpy(dtype=float))
    if layout.wording_in_headers or layout.wording_in_labels:
        assert responses.header_row == layout.name_row


def test_spss_99_undeclared_needs_missing_codes_and_extends_gives_them(tmp_path, capsys):
    layout = pf.LAYOUTS["spss_missing_undeclared"]
    path = layout.write(tmp_path / layout.file_name(), "zh")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "value '99' is off the scale" in err and "`missing_codes: [99]`" in err
    local = tmp_path / "ours.yaml"
    local.write_text("extends: customer-knowledge-sharing\nmissing_codes: [99]\n",
                     encoding="utf-8")
    assert main(["validate", str(path), "-q", str(local)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Rows kept:     400" in out


ANALYSED = ["wjx_text", "qualtrics", "limesurvey_codes", "surveymonkey", "google_forms_xlsx",
            "qualtrics_sav"]
"""One download per platform analysed whole."""


@pytest.fixture(scope="module")
def native_run():
    return analyze(SAMPLE, bootstrap=0)


@pytest.mark.parametrize("name", ANALYSED)
def test_platform_download_analysed_with_no_questionnaire_file(tmp_path, name, native_run):
    layout = pf.LAYOUTS[name]
    path = layout.write(tmp_path / layout.file_name(), layout.lang)
    result = analyze(path, bootstrap=0)
    assert result.n_analyzed == native_run.n_analyzed == 363
    fit, base = result.measurement.cfa_fit, native_run.measurement.cfa_fit
    assert fit["chisq"] == pytest.approx(base["chisq"], rel=1e-10)
    assert fit["df"] == base["df"]
    assert result.structural.fit_measures["chisq"] == pytest.approx(
        native_run.structural.fit_measures["chisq"], rel=1e-10)
    meta = result.to_dict()["meta"]
    assert set(meta["column_map"]) == set(result.questionnaire.items)
    # the report's table of where each item was read from (none for the native file)
    column_map = build_tables(result)["column_map"].data
    assert column_map["column"].tolist() == [meta["column_map"][i] for i in column_map["item"]]
    expected = {"code"} if name == "limesurvey_codes" else {"wording"}
    assert set(column_map["found_by"]) == expected
    assert "column_map" not in build_tables(native_run)
    assert meta["n_analyzed"] + len(meta["excluded"]) == meta["input"]["rows"]
