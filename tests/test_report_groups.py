"""The report's group comparison (``--group``): the section, its tables in every format, both
languages, and its absence without ``--group``.

One analysis of the bundled sample by gender (no bootstrap) is shared by the module; the
Chinese report re-renders the same result with ``lang="zh"``.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from sem_kit.pipeline import AnalysisResult
from sem_kit.report import render_report
from sem_kit.report.html import GROUP_SECTIONS, SECTIONS, group_summary
from sem_kit.report.i18n import STRINGS, Lang
from sem_kit.report.tables import build_tables, cells

GROUP_TABLES = ["groups", "invariance", "group_paths"]
INVARIANCE_NUMBERS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "delta_chisq",
                      "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "delta_srmr"]


@pytest.fixture(scope="module")
def result(sample_run) -> AnalysisResult:
    return sample_run(bootstrap=0, seed=1, group="gender")


@pytest.fixture(scope="module")
def result_zh(result: AnalysisResult) -> AnalysisResult:
    return dataclasses.replace(result, options=dataclasses.replace(result.options, lang="zh"))


@pytest.fixture(scope="module")
def outdir(result: AnalysisResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return result.save(tmp_path_factory.mktemp("groups_en") / "report")


@pytest.fixture(scope="module")
def outdir_zh(result_zh: AnalysisResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return result_zh.save(tmp_path_factory.mktemp("groups_zh") / "report")


@pytest.fixture(scope="module")
def html(outdir: Path) -> str:
    return (outdir / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def html_zh(outdir_zh: Path) -> str:
    return (outdir_zh / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(outdir: Path) -> dict:
    return json.loads((outdir / "results.json").read_text(encoding="utf-8"))


def _section(html: str, sid: str) -> str:
    start = html.index(f'<section id="{sid}">')
    return html[start:html.index("</section>", start)]


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def _same(a: object, b: object) -> bool:
    """CSV value ``a`` equals results.json value ``b`` (empty / NaN for null)."""
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    return float(a) == pytest.approx(float(b), rel=1e-12, abs=1e-12)  # type: ignore[arg-type]


def _altered(result: AnalysisResult) -> AnalysisResult:
    """``result`` with metric invariance failing (ΔCFI −0.02), one freed intercept, and H3
    differing across groups: the verdicts the sample data does not produce."""
    g = result.groups
    assert g is not None and g.paths is not None
    table = g.invariance.table.copy()
    table["holds"] = table["holds"].astype(object)
    table.loc[1, ["delta_cfi", "holds"]] = [-0.02, False]
    inv = dataclasses.replace(g.invariance, table=table, group_partial=("WIL1~1",))
    tests = g.paths.tests.copy()
    tests.loc[tests["hypothesis"] == "H3", ["delta_pvalue", "differs"]] = [0.01, True]
    paths = dataclasses.replace(g.paths, tests=tests)
    return dataclasses.replace(result, groups=dataclasses.replace(g, invariance=inv,
                                                                  paths=paths))


# --------------------------------------------------------------------------- report.html


def test_section_in_order_and_in_contents(html: str) -> None:
    found = re.findall(r'<section id="([a-z_0-9]+)">', html)
    assert found == list(GROUP_SECTIONS)
    assert found.index("groups") == found.index("comparison") + 1
    assert found.index("groups") + 1 == found.index("mi")
    toc = html[html.index('<nav class="toc"'):html.index("</nav>")]
    assert '<a href="#groups">Group comparison</a>' in toc
    section = _section(html, "groups")
    assert "Group comparison</h2>" in section
    positions = [section.index(f'id="tbl-{t}"') for t in GROUP_TABLES]
    assert positions == sorted(positions)


def test_groups_table(html: str, doc: dict) -> None:
    section = _text(_section(html, "groups"))
    for g in doc["groups"]["groups"]:
        assert f"{g['label']} {g['n']}" in section
    assert "Grouping column: gender (Gender)" in section


def test_invariance_table_in_html(html: str, doc: dict) -> None:
    start = _section(html, "groups").index('id="tbl-invariance"')
    table = _section(html, "groups")[start:]
    table = table[:table.index("</figure>")]
    text = _text(table)
    for label in ("Configural", "Metric (equal loadings)", "Scalar (+ equal intercepts)",
                  "Strict (+ equal residual variances)", "Against the previous step", "ΔCFI",
                  "ΔRMSEA", "Δχ²", "Δdf", "≥ −0.010", "≤ 0.015"):
        assert label in text, label
    holds = sum(1 for r in doc["groups"]["invariance"] if r["holds"])
    assert table.count('<span class="badge b-good">holds</span>') == holds
    assert "baseline" in text and "does not hold" not in text
    assert "Chen (2007), N = 363 > 300: a step holds when ΔCFI ≥ −0.010 and ΔRMSEA ≤ 0.015" \
        in text
    assert "not used in the verdict" in text
    assert "No parameter was freed" in text
    assert 'colspan="6"' in table  # the spanner over the comparison with the previous step


def test_paths_by_group_in_html(html: str, doc: dict) -> None:
    start = _section(html, "groups").index('id="tbl-group_paths"')
    table = _section(html, "groups")[start:]
    table = table[:table.index("</figure>")]
    text = _text(table)
    for g in doc["groups"]["groups"]:
        assert f"{g['label']} (n = {g['n']})" in text
    assert "Equality across groups" in text
    rows = re.findall(r"<tr><td class=\"text\">(H\d+)</td>", table)
    assert rows == [f"H{i}" for i in range(1, 13)]  # the hypotheses' order
    differ = sum(1 for t in doc["groups"]["path_tests"] if t["differs"])
    assert table.count(">differs</span>") == differ
    assert table.count(">does not differ</span>") == len(doc["groups"]["path_tests"]) - differ


def test_summary_and_methods(html: str, doc: dict) -> None:
    summary = _text(_section(html, "summary"))
    assert ("Measurement invariance across gender (Female n = 162, Male n = 201): holds up to "
            "strict invariance.") in summary
    assert "0 of 12 structural paths differ across groups (p < .05)." in summary
    methods = _text(_section(html, "methods"))
    assert "Groups were compared across gender (Female n = 162, Male n = 201; N = 363)" in methods
    assert "ML on the complete data" in methods and "Chen (2007)" in methods
    assert "configural; metric, equal loadings; scalar" in methods
    assert methods.index("Groups were compared") < methods.index("Random seed")


# --------------------------------------------------------------------------- CSV, XLSX, DOCX


def test_invariance_csv_equals_json(outdir: Path, doc: dict) -> None:
    csv = pd.read_csv(outdir / "tables" / "invariance.csv", encoding="utf-8-sig")
    rows = doc["groups"]["invariance"]
    assert list(csv["step"]) == [r["step"] for r in rows] == ["configural", "metric", "scalar",
                                                              "strict"]
    for (_, line), row in zip(csv.iterrows(), rows, strict=True):
        for key in INVARIANCE_NUMBERS:
            assert _same(line[key], row[key]), (row["step"], key)
        assert (None if pd.isna(line["holds"]) else bool(line["holds"])) == row["holds"]
        assert line["verdict"] == {None: "baseline", True: "holds",
                                   False: "does not hold"}[row["holds"]]


def test_group_csvs_equal_json(outdir: Path, doc: dict) -> None:
    sizes = pd.read_csv(outdir / "tables" / "groups.csv", encoding="utf-8-sig")
    assert list(zip(sizes["group"], sizes["n"], strict=True)) == [
        (g["label"], g["n"]) for g in doc["groups"]["groups"]]
    paths = pd.read_csv(outdir / "tables" / "group_paths.csv", encoding="utf-8-sig")
    by_path = paths.set_index("hypothesis")
    for p in doc["groups"]["paths"]:
        line = by_path.loc[p["hypothesis"]]
        assert (line["from"], line["to"]) == (p["from"], p["to"])
        for stat in ("est", "std", "se", "pvalue"):
            assert _same(line[f"{stat}_{p['group']}"], p[stat]), (p["hypothesis"], stat)
    for t in doc["groups"]["path_tests"]:
        line = by_path.loc[t["hypothesis"]]
        for key in ("chisq", "df", "delta_chisq", "delta_df", "delta_pvalue"):
            assert _same(line[key], t[key]), (t["hypothesis"], key)
        assert bool(line["differs"]) == t["differs"]
    assert len(paths) == len(doc["groups"]["path_tests"])


def test_xlsx_has_the_sheets(outdir: Path, doc: dict) -> None:
    wb = load_workbook(outdir / "tables.xlsx")
    names = wb.sheetnames
    assert names[names.index("comparison") + 1:names.index("mi_cfa")] == GROUP_TABLES
    ws = wb["invariance"]
    header = [c.value for c in ws[1]]
    assert header[0] == "Invariance step"
    assert "Against the previous step: ΔCFI (≥ −0.010)" in header
    cfi = header.index("CFI (≥ 0.95)") + 1
    for i, row in enumerate(doc["groups"]["invariance"], start=2):
        assert ws.cell(row=i, column=cfi).value == pytest.approx(row["cfi"])
    assert ws.cell(row=3, column=len(header)).value == "holds"
    paths = [c.value for c in wb["group_paths"][1]]
    assert "Female (n = 162): Std. (β)" in paths and "Equality across groups: Verdict" in paths
    assert [c.value for c in wb["groups"]["A"][1:3]] == ["Female", "Male"]


def test_docx_holds_the_tables(outdir: Path, result: AnalysisResult) -> None:
    document = Document(outdir / "tables.docx")
    exported = [t.id for t in build_tables(result).exported()]
    assert len(document.tables) == len(exported)
    tables = {tid: document.tables[exported.index(tid)] for tid in GROUP_TABLES}
    assert [c.text for c in tables["groups"].rows[0].cells] == ["Group", "n", "%"]
    inv = tables["invariance"]
    assert inv.rows[0].cells[-1].text == "Against the previous step"  # the spanner row
    assert inv.rows[1].cells[0].text == "Invariance step"
    assert [r.cells[0].text for r in inv.rows[2:]] == [
        "Configural", "Metric (equal loadings)", "Scalar (+ equal intercepts)",
        "Strict (+ equal residual variances)"]
    paths = tables["group_paths"]
    assert paths.rows[0].cells[2].text == "Female (n = 162)"
    assert paths.rows[1].cells[:3][2].text == "Estimate"
    assert len(paths.rows) == 2 + 12
    for table in tables.values():
        borders = {c.tag.split("}")[1]: c.get(qn("w:val"))
                   for c in table._tbl.tblPr.find(qn("w:tblBorders"))}
        assert borders["top"] == borders["bottom"] == "single"
        assert borders["insideH"] == borders["insideV"] == "nil"
    notes = [p.text for p in document.paragraphs if p.text.startswith("Note.")]
    assert any("Grouping column: gender" in n for n in notes)
    assert any("Chen (2007)" in n and "not used in the verdict" in n for n in notes)
    assert any("held equal across groups" in n for n in notes)


# --------------------------------------------------------------------------- Chinese


def test_chinese_section(html_zh: str, outdir_zh: Path) -> None:
    toc = html_zh[html_zh.index('<nav class="toc"'):html_zh.index("</nav>")]
    assert '<a href="#groups">多组比较</a>' in toc
    section = _text(_section(html_zh, "groups"))
    assert "多组比较" in section and "Group comparison" not in section
    for text in ("跨组测量等值性检验", "形态等值", "度量等值（载荷相等）", "与前一步比较",
                 "跨组等同性检验", "女（n = 162）", "男（n = 201）", "成立", "基线",
                 "与前一步相比 ΔCFI ≥ −0.010 且 ΔRMSEA ≤ 0.015 时该步成立"):
        assert text in section, text
    summary = _text(_section(html_zh, "summary"))
    assert "不同性别组间的测量等值性（女 n = 162，男 n = 201）：成立至严格等值。" in summary
    assert "按性别进行多组比较" in _text(_section(html_zh, "methods"))
    document = Document(outdir_zh / "tables.docx")
    captions = " ".join(p.text for p in document.paragraphs if p.text.startswith("表 "))
    assert "跨组测量等值性检验" in captions and "各组结构路径及其跨组等同性检验" in captions


def test_every_group_string_has_both_languages() -> None:
    prefixes = ("sec.groups", "title.group", "title.invariance", "span.", "step.", "stepname.",
                "note.group", "note.invariance", "note.partial", "note.no_partial", "rule.",
                "sum.invariance", "sum.paths_differ", "sum.group_n", "methods.groups",
                "verdict.holds", "verdict.does not", "verdict.baseline", "verdict.differs")
    keys = [k for k in STRINGS if k.startswith(prefixes)]
    assert len(keys) >= 30
    for key in keys:
        en, zh = STRINGS[key]
        assert en and zh, key
        assert set(re.findall(r"{(\w+)", en)) == set(re.findall(r"{(\w+)", zh)), key


def test_rule_wording(result: AnalysisResult) -> None:
    inv = result.groups.invariance  # type: ignore[union-attr]
    assert inv.delta_cutoffs == (-0.010, 0.015)
    zh = Lang("zh", result.questionnaire)
    assert zh.rule(inv.rule) == ("Chen (2007)，N = 363 > 300：与前一步相比 ΔCFI ≥ −0.010 且 "
                                 "ΔRMSEA ≤ 0.015 时该步成立")
    assert Lang("en", result.questionnaire).rule(inv.rule) == inv.rule.replace("-", "−")
    assert zh.rule("some other rule") == "some other rule"


# --------------------------------------------------------------------------- other verdicts


def test_failing_step_partial_invariance_and_a_differing_path(result: AnalysisResult) -> None:
    altered = _altered(result)
    assert altered.groups.invariance.highest_step == ("configural", "metric")  # type: ignore[union-attr]
    lang = Lang("en", altered.questionnaire)
    tables = build_tables(altered, lang)
    summary = group_summary(altered, tables, lang)
    assert "configural only; metric invariance does not hold." in summary
    assert "1 of 12 structural paths differ across groups (p < .05): H3." in summary
    inv = tables["invariance"]
    printed = cells(inv, lang)
    verdicts = [row[-1] for row in printed]
    assert [(c.text, c.badge) for c in verdicts[:2]] == [("baseline", ""),
                                                         ("does not hold", "poor")]
    delta_cfi = [c.key for c in inv.shown].index("delta_cfi")
    assert printed[1][delta_cfi].flag == "poor" and printed[2][delta_cfi].flag is None
    assert "Partial invariance: freed from the constraints in every step: WIL1~1." in inv.note
    paths = tables["group_paths"]
    row = paths.data.index[paths.data["hypothesis"] == "H3"][0]
    assert cells(paths, lang)[row][-1].text == "differs"
    page = render_report(altered, tables, {}, lang)
    assert '<span class="badge b-poor">does not hold</span>' in page
    assert '<span class="badge b-info">differs</span>' in page


# --------------------------------------------------------------------------- without --group


def test_no_section_without_group(tmp_path: Path, sample_run) -> None:
    plain = sample_run(bootstrap=0, seed=1)
    assert plain.groups is None
    out = plain.save(tmp_path / "report")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.findall(r'<section id="([a-z_0-9]+)">', page) == list(SECTIONS)
    assert 'href="#groups"' not in page and "Group comparison" not in page
    assert "Measurement invariance across" not in page
    assert "Groups were compared" not in page
    assert "groups" not in json.loads((out / "results.json").read_text(encoding="utf-8"))
    csvs = {p.stem for p in (out / "tables").glob("*.csv")}
    assert not csvs & set(GROUP_TABLES)
    assert not set(load_workbook(out / "tables.xlsx").sheetnames) & set(GROUP_TABLES)


def test_measurement_only_comparison(result: AnalysisResult) -> None:
    g = result.groups
    assert g is not None
    alone = dataclasses.replace(result, groups=dataclasses.replace(g, paths=None))
    lang = Lang("en", alone.questionnaire)
    tables = build_tables(alone, lang)
    assert [t.id for t in tables.in_section("groups")] == ["groups", "invariance"]
    summary = group_summary(alone, tables, lang)
    assert summary.endswith("holds up to strict invariance.")
    assert 'id="tbl-invariance"' in render_report(alone, tables, {}, lang)
