"""The report read as lavaan's summary(fit, standardized = TRUE): parameter tables whose numbers
are ``Fit.params``, grouped in lavaan's order, after each model's fit table, with lavaan's
header lines; and the report's other reader-facing details (item missingness, headline fit,
fit cut-offs, table numbers in DOCX and HTML, model-comparison verdicts, XLSX p values)."""

from __future__ import annotations

import dataclasses
import html as html_lib
import re

import numpy as np
import pytest
from docx import Document

from sem_kit.report import fmt, render_report
from sem_kit.report.i18n import Lang
from sem_kit.report.tables import PARAM_GROUPS, build_tables, cells, param_group
from sem_kit.thresholds import DEFAULT_THRESHOLDS, Cutoff


@pytest.fixture(scope="module")
def result(sample_run):
    return sample_run(bootstrap=0, seed=1)


@pytest.fixture(scope="module")
def tables(result):
    return build_tables(result)


def _fits(result):
    return {"cfa_params": result.measurement.cfa, "sem_params": result.structural.fit}


@pytest.mark.parametrize("table_id", ["cfa_params", "sem_params"])
def test_parameter_table_numbers_are_params(result, tables, table_id):
    fit = _fits(result)[table_id]
    table = tables[table_id].data.set_index(["lhs", "op", "rhs"])
    params = fit.params.set_index(["lhs", "op", "rhs"])
    listed = [k for k in params.index if param_group(k[1], k[0], k[2]) is not None]
    assert sorted(table.index) == sorted(listed)
    for key in ("est", "se", "z", "pvalue", "std_lv", "std_all"):
        ours = table.loc[listed, key].to_numpy(float)
        theirs = params.loc[listed, key].to_numpy(float)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), key
        assert np.allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)], rtol=0, atol=0), key


@pytest.mark.parametrize("table_id", ["cfa_params", "sem_params"])
def test_parameter_groups_in_lavaan_order(tables, table_id):
    groups = list(dict.fromkeys(tables[table_id].data["group"]))
    assert groups == [g for g in PARAM_GROUPS if g in groups]
    assert groups[0] == "latent" and groups[-1] == "variance"
    data = tables[table_id].data
    assert (data.loc[data["group"] == "variance", "lhs"]
            == data.loc[data["group"] == "variance", "rhs"]).all()
    assert (data.loc[data["group"] == "covariance", "lhs"]
            != data.loc[data["group"] == "covariance", "rhs"]).all()
    if table_id == "sem_params":
        assert "regression" in groups and "covariance" in groups


def test_parameter_tables_follow_their_fit_tables(tables):
    ids = [t.id for t in tables]
    assert ids.index("cfa_params") == ids.index("cfa_fit") + 1
    assert ids.index("sem_params") == ids.index("sem_fit") + 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_parameter_table_header_and_printing(result, lang):
    tb = build_tables(result, Lang(lang, result.questionnaire))["cfa_params"]
    fit = result.measurement.cfa
    header = dict(tb.header)
    values = list(header.values())
    assert values[0] == result.options.estimator
    assert str(fit.iterations) in values[1]
    assert values[2] == str(fit.npar) and values[3] == str(fit.n)
    printed = cells(tb, Lang(lang, result.questionnaire))
    fixed = tb.data.index[tb.data["se"].isna()][0]
    se_col = [c.key for c in tb.shown].index("se")
    assert printed[fixed][se_col].text == ""
    labels = [c.label for c in tb.shown]
    assert {"Std.lv", "P(>|z|)"} <= set(labels)


def test_parameter_table_in_every_output(result, tmp_path):
    out = result.save(tmp_path / "r")
    html = (out / "report.html").read_text(encoding="utf-8")
    cfa = html.index('id="tbl-cfa_fit"')
    assert cfa < html.index('id="tbl-cfa_params"') < html.index('id="tbl-cfa_loadings"')
    assert html.index('id="tbl-sem_fit"') < html.index('id="tbl-sem_params"')
    assert "Number of model parameters" in html
    assert (out / "tables" / "cfa_params.csv").exists()
    assert (out / "tables" / "sem_params.csv").exists()


def test_result_estimator_shown(result):
    mlr = dataclasses.replace(result, options=dataclasses.replace(result.options,
                                                                   estimator="MLR"))
    assert dict(build_tables(mlr)["sem_params"].header)["Estimator"] == "MLR"
    assert re.fullmatch(r"yes after \d+ iterations",
                        dict(build_tables(result)["sem_params"].header)[
                            "Optimization method converged"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_item_missing_counted_before_listwise_deletion(result, lang):
    tb = build_tables(result, Lang(lang, result.questionnaire))["items"]
    col = next(c for c in tb.shown if c.key == "n_missing")
    assert ("before listwise deletion" in col.label) if lang == "en" else ("列删除前" in col.label)
    assert str(result.screening.n_kept) in tb.note and str(result.n_analyzed) in tb.note
    assert result.screening.n_kept > result.n_analyzed


def test_headline_fit_has_chisq_p_and_rmsea_interval(result, tables):
    tb = tables["summary_fit"]
    rows = tb.data.set_index("index")
    fit = result.measurement.cfa_fit
    assert rows.loc["pvalue", "cfa"] == fit["pvalue"]
    lo, hi = fit["rmsea_ci_lower"], fit["rmsea_ci_upper"]
    assert rows.loc["rmsea_ci", "cfa"] == f"[{fmt.number(lo, 3)}, {fmt.number(hi, 3)}]"
    assert list(rows.index).index("rmsea_ci") == list(rows.index).index("rmsea") + 1


def test_threshold_before_verdict_in_every_table(tables):
    for tb in tables:
        keys = [c.key for c in tb.shown]
        verdicts = [i for i, c in enumerate(tb.shown) if c.kind == "verdict"]
        if "threshold" in keys and verdicts:
            assert keys.index("threshold") < min(verdicts), tb.id


@pytest.mark.parametrize("key", ["gfi", "agfi", "nfi", "ifi"])
def test_older_fit_indices_judged(result, tables, key):
    rows = tables["cfa_fit"].data.set_index("index")
    cut = DEFAULT_THRESHOLDS.get(key)
    assert cut.good == 0.90 and (cut.acceptable == 0.80) == (key == "agfi")
    assert rows.loc[key, "verdict"] == cut.verdict(result.measurement.cfa_fit[key])
    assert rows.loc[key, "threshold"]
    assert cut.source in tables["cfa_fit"].note


def test_robust_sentence_only_with_robust_indices(result, tables):
    assert "robust" not in tables["cfa_fit"].note
    fit = dict(result.measurement.cfa_fit, cfi_robust=0.97, rmsea_robust=0.05)
    mlr = dataclasses.replace(result.measurement, cfa_fit=fit)
    tb = build_tables(dataclasses.replace(result, measurement=mlr))["cfa_fit"]
    assert "robust indices are judged by the same cut-offs" in tb.note
    assert tb.data.set_index("index").loc["cfi_robust", "verdict"] == "good"


def test_docx_numbers_match_html(result, tmp_path):
    out = result.save(tmp_path / "r")
    html = (out / "report.html").read_text(encoding="utf-8")
    html_caps = re.findall(r'<figcaption><span class="no">(Table \d+)</span> '
                           r'<span class="ttl">([^<]*)</span>', html)
    paras = [p.text for p in Document(out / "tables.docx").paragraphs]
    docx_caps = [(paras[i], paras[i + 1]) for i, p in enumerate(paras)
                 if re.fullmatch(r"Table \d+", p)]
    assert [(n, html_lib.unescape(t)) for n, t in html_caps] == docx_caps
    assert docx_caps[0][1] == build_tables(result)["summary_fit"].title


def test_wide_tables_print_narrow(result):
    from sem_kit.report.html import WIDE_COLUMNS, table_view

    lang = Lang("en", result.questionnaire)
    items = build_tables(result, lang)["items"]
    assert len(items.shown) > WIDE_COLUMNS
    assert table_view(items, lang, 1)["wide"]
    html = render_report(result)
    assert '<table class="t wide">' in html
    assert re.search(r"table\.t\.wide td\.longtext \{[^}]*max-width", html)


def test_model_comparison_verdicts(result, tables):
    data = tables["comparison"].data
    assert data["comparison_verdict"].iloc[0] == "baseline"
    for _, row in data.iloc[1:].iterrows():
        worse = row["delta_pvalue"] < 0.05 or row["delta_cfi"] < -0.01
        assert row["comparison_verdict"] == (
            "hypothesised preferred" if worse else "alternative not worse")
    assert "ΔCFI < −.01" in tables["comparison"].note
    zh = build_tables(result, Lang("zh", result.questionnaire))["comparison"]
    assert "假设模型更优" in [c.text for row in cells(zh, Lang("zh", result.questionnaire))
                          for c in row]


def test_no_alternatives_is_one_sentence(result):
    only = result.structural.comparison.iloc[:1]
    s = dataclasses.replace(result.structural, comparison=only)
    r = dataclasses.replace(result, structural=s)
    assert "comparison" not in build_tables(r)
    html = render_report(r)
    section = html[html.index('<section id="comparison">'):]
    section = section[:section.index("</section>")]
    assert "No alternative model was compared" in section and "<table" not in section


def test_xlsx_p_values_print_as_in_html(result, tmp_path):
    from openpyxl import load_workbook

    out = result.save(tmp_path / "r")
    ws = load_workbook(out / "tables.xlsx")["hypotheses"]
    header = [c.value for c in ws[1]]
    col = next(j for j, h in enumerate(header) if h == "p") + 1
    cell = ws.cell(row=2, column=col)
    assert isinstance(cell.value, float)
    assert cell.number_format == '[<0.001]"<.001";.000'


def test_backticks_print_as_code(result):
    warned = dataclasses.replace(result, warnings=(
        *result.warnings, "bootstrap intervals stay ML under `--estimator MLR` <b>"))
    html = render_report(warned)
    assert "<code>--estimator MLR</code> &lt;b&gt;" in html
    assert "`--estimator" not in html


def test_report_prints_the_thresholds_the_results_hold(result):
    strict = dataclasses.replace(DEFAULT_THRESHOLDS, loading=Cutoff(0.99, source="Strict 2099"),
                                 cfi=Cutoff(0.999, source="Stricter 2099"))
    measurement = dataclasses.replace(result.measurement, thresholds=strict)
    tables = build_tables(dataclasses.replace(result, measurement=measurement))
    loadings = tables["cfa_loadings"]
    assert "Strict 2099" in loadings.note
    assert [c.threshold for c in loadings.columns if c.key == "std"] == ["≥ 0.99"]
    assert list(loadings.data["verdict"]) == [
        None if np.isnan(v) else "good" if v >= 0.99 else "poor" for v in loadings.data["std"]]
    fit = tables["cfa_fit"]
    cfi = result.measurement.cfa_fit["cfi"]
    assert fit.data.set_index("index").loc["cfi", "verdict"] == ("good" if cfi >= 0.999
                                                                 else "poor")
    assert "Stricter 2099" in fit.note and "Hu & Bentler" in fit.note
