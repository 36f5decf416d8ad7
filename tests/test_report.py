"""The report layer: OUTDIR's files, their formats, both languages, and the page in a browser.

One analysis of the bundled sample (small bootstrap) is shared by the module;
the Chinese report re-renders the same result with ``lang="zh"``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import select
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

import sem_kit.report as report
from sem_kit.errors import InputError
from sem_kit.pipeline import analyze
from sem_kit.questionnaire import builtin_text, parse_questionnaire
from sem_kit.report import fmt
from sem_kit.report.diagram import layers, layout
from sem_kit.report.html import SECTIONS
from sem_kit.report.i18n import STRINGS, Lang
from sem_kit.report.tables import build_tables

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "sample_responses.csv"
CHROMIUM = Path("/usr/bin/chromium")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def result(sample_run):
    return sample_run(bootstrap=100, seed=1)


@pytest.fixture(scope="module")
def result_zh(result):
    return dataclasses.replace(result, options=dataclasses.replace(result.options, lang="zh"))


@pytest.fixture(scope="module")
def outdir(result, tmp_path_factory):
    return result.save(tmp_path_factory.mktemp("en") / "report")


@pytest.fixture(scope="module")
def outdir_zh(result_zh, tmp_path_factory):
    return result_zh.save(tmp_path_factory.mktemp("zh") / "report")


@pytest.fixture(scope="module")
def html(outdir):
    return (outdir / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def html_zh(outdir_zh):
    return (outdir_zh / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tables(result):
    return build_tables(result)


def _section(html: str, sid: str) -> str:
    start = html.index(f'<section id="{sid}">')
    return html[start:html.index("</section>", start)]


# --------------------------------------------------------------------------- OUTDIR


def test_outdir_holds_every_output(outdir, tables):
    names = {p.name for p in outdir.iterdir()}
    assert names == {"report.html", "results.json", "tables.xlsx", "tables.docx", "tables",
                     "figures"}
    csvs = {p.stem for p in (outdir / "tables").glob("*.csv")}
    assert csvs == {t.id for t in tables.exported()}
    for required in ("sample_flow", "demographics", "items", "reliability", "efa_adequacy",
                     "efa_loadings", "cmv_harman", "cmv_single_factor", "cfa_fit",
                     "cfa_loadings", "fornell_larcker", "htmt", "sem_fit", "hypotheses", "r2",
                     "indirect", "effects", "comparison", "mi_cfa", "excluded", "warnings"):
        assert required in csvs
    assert {p.name for p in (outdir / "figures").iterdir()} == {"path_diagram.svg",
                                                               "scree_parallel.svg"}
    assert not [p for p in outdir.parent.iterdir() if p.name.startswith(".")], \
        "a temporary folder was left beside OUTDIR"


def test_csv_files_are_utf8_with_bom(outdir, tables):
    for t in tables.exported():
        raw = (outdir / "tables" / f"{t.id}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), t.id
        frame = pd.read_csv(outdir / "tables" / f"{t.id}.csv", encoding="utf-8-sig")
        assert list(frame.columns) == [k for c in t.columns for k in c.keys]
        assert len(frame) == len(t.data)


def test_chinese_csv_keeps_chinese_text(outdir_zh):
    text = (outdir_zh / "tables" / "items.csv").read_text(encoding="utf-8-sig")
    assert "我愿意把使用产品的经验分享给企业。" in text


def test_xlsx_one_formatted_sheet_per_table(outdir, tables):
    wb = load_workbook(outdir / "tables.xlsx")
    exported = tables.exported()
    assert wb.sheetnames == ["contents"] + [t.id for t in exported]
    ws = wb["reliability"]
    header = [c.value for c in ws[1]]
    assert header[0] == "Construct" and any(h and h.startswith("Cronbach") for h in header)
    assert all(c.font.bold for c in ws[1] if c.value)
    alpha_col = next(i for i, h in enumerate(header, start=1) if h.startswith("Cronbach"))
    cell = ws.cell(row=2, column=alpha_col)
    assert isinstance(cell.value, float) and cell.number_format == "0.000"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width > ws.column_dimensions["A"].width
    rel = tables["reliability"].data
    assert cell.value == pytest.approx(rel["alpha"].iloc[0])
    hyp = [c.value for c in wb["hypotheses"][1]]
    assert "95% CI lower" in hyp and "95% CI upper" in hyp  # intervals split into numbers


def _borders(element, tag: str) -> dict[str, str]:
    node = element.find(qn(tag))
    return {} if node is None else {
        child.tag.split("}")[1]: child.get(qn("w:val")) for child in node}


def test_docx_three_line_tables_with_notes(outdir, tables):
    doc = Document(outdir / "tables.docx")
    exported = tables.exported()
    assert len(doc.tables) == len(exported)
    for table in doc.tables:
        b = _borders(table._tbl.tblPr, "w:tblBorders")
        assert b["top"] == "single" and b["bottom"] == "single"
        assert b["insideV"] == "nil" and b["left"] == "nil" and b["right"] == "nil"
        assert b["insideH"] == "nil"
        head = table.rows[0].cells[0]._tc.get_or_add_tcPr()
        assert _borders(head, "w:tcBorders")["bottom"] == "single"
    text = [p.text for p in doc.paragraphs]
    assert sum(t.startswith("Note.") for t in text) == sum(bool(t.note) for t in exported)
    assert "Table 1" in text
    rel_index = [t.id for t in exported].index("reliability")
    rel = doc.tables[rel_index]
    assert rel.rows[0].cells[0].text == "Construct"
    first = tables["reliability"].data.iloc[0]
    assert rel.rows[1].cells[0].text == first["construct"]
    assert fmt.number(first["alpha"]) in [c.text for c in rel.rows[1].cells]


def test_docx_in_chinese(outdir_zh):
    doc = Document(outdir_zh / "tables.docx")
    captions = [p.text for p in doc.paragraphs if p.text.startswith("表 ")]
    assert captions and "信度与收敛效度" in " ".join(captions)


# --------------------------------------------------------------------------- report.html


def test_html_is_self_contained(html):
    for attr in re.findall(r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']([^"']*)""",
                           html, flags=re.I):
        assert attr.startswith("#"), f"reference to another resource: {attr}"
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", html, flags=re.I)
    assert "@import" not in html
    for ref in re.findall(r"""url\(\s*["']?([^)"']*)""", html):
        assert ref.startswith("#"), f"url() to another resource: {ref}"
    assert not re.search(r"@font-face", html)
    assert re.search(r"<style>", html)


def test_html_sections_in_the_order_a_paper_reports_them(html):
    found = re.findall(r'<section id="([a-z_0-9]+)">', html)
    assert found == list(SECTIONS)
    assert found[0] == "summary"


def test_summary_first(html, result):
    summary = _section(html, "summary")
    assert str(result.n_analyzed) in summary
    assert str(len(result.excluded)) in summary
    for _, r in result.paths.iterrows():
        assert f">{r['hypothesis']}<" in summary
    assert summary.count("badge b-") >= len(result.paths) + 5
    for index in ("CFI", "TLI", "RMSEA", "SRMR", "χ²/df"):
        assert f">{index}<" in summary


def test_numbers_beside_thresholds_and_verdicts(html, result):
    rel = _section(html, "reliability")
    assert rel.count("≥ 0.70") >= 2 and "≥ 0.50" in rel
    assert rel.count("badge b-good") >= 3 * len(result.reliability)
    fit = _section(html, "cfa")
    assert "≥ 0.95 good, ≥ 0.90 acceptable" in fit and "≤ 0.08 good" in fit
    assert "Hu &amp; Bentler 1999" in fit
    efa = _section(html, "efa")
    assert "Kaiser" in efa and "meritorious" in efa or "marvelous" in efa or "middling" in efa
    disc = _section(html, "discriminant")
    assert "&lt; 0.85 good" in disc


def test_hypotheses_and_mediation(html, result):
    hyp = _section(html, "hypotheses")
    assert "<svg" in hyp and "R² =" in hyp
    for _, r in result.paths.iterrows():
        assert fmt.number(r["std"]) + fmt.stars(r["pvalue"]) in hyp
    assert hyp.count("badge b-") >= len(result.paths)
    med = _section(html, "mediation")
    for _, r in result.indirect.iterrows():
        assert " → ".join(r["path"].split(" -> ")) in med
        assert f"[{fmt.number(r['ci_lower'])}, {fmt.number(r['ci_upper'])}]" in med
    assert "<td" in _section(html, "comparison")
    assert "R²" in _section(html, "r2")


def test_every_excluded_row_is_listed_with_its_reason(html, result):
    section = _section(html, "warnings")
    excluded = section[section.index('id="tbl-excluded"'):]
    rows = re.findall(r'<tr><td class="num">(\d+)</td>', excluded)
    assert [int(r) for r in rows] == [e.row for e in result.excluded]
    assert "listwise" in excluded and "response time below the minimum" in excluded
    for w in result.warnings:
        assert w.split("(")[0].strip().replace("&", "&amp;")[:40] in section


def test_methods_paragraph(html, result):
    from importlib.metadata import version

    methods = _section(html, "methods")
    for package in ("semopy", "numpy", "pandas"):
        assert f"{package} {version(package)}" in methods
    assert f"sem_kit {version('sem_kit')}" in methods
    assert f"Random seed: {result.options.seed}" in methods
    assert "100 nonparametric bootstrap resamples" in methods
    assert "listwise deletion" in methods and "ML" in methods


def test_chinese_report(html_zh, result):
    assert '<html lang="zh-CN">' in html_zh
    q = result.questionnaire
    for cid in q.first_order:
        assert q.constructs[cid].name.zh in html_zh
    assert q.items["WIL1"].zh in html_zh
    for key in ("sec.summary", "sec.items", "sec.reliability", "sec.hypotheses", "sec.methods"):
        assert STRINGS[key][1] in html_zh
        assert f"> {STRINGS[key][0]}</h2>" not in html_zh
    assert "支持" in _section(html_zh, "summary")
    assert "随机种子" in _section(html_zh, "methods")
    assert "列删除" in _section(html_zh, "warnings")
    assert "Noto Sans CJK SC" in html_zh and "Microsoft YaHei" in html_zh
    assert "PingFang SC" in html_zh


def test_every_string_has_both_languages():
    for key, (en, zh) in STRINGS.items():
        assert isinstance(en, str) and isinstance(zh, str), key
        assert set(re.findall(r"{(\w+)", en)) == set(re.findall(r"{(\w+)", zh)), key


def test_notebook_summary(result):
    html = result._repr_html_()
    assert html.startswith('<div class="semkit-nb">')
    assert "Cronbach" in html and "supported" in html and "res.save" in html
    assert "<script" not in html


# --------------------------------------------------------------------------- figures


def test_path_diagram(outdir, result):
    root = ET.parse(outdir / "figures" / "path_diagram.svg").getroot()
    centres = {}
    for ellipse in root.iter(f"{SVG}ellipse"):
        centres[len(centres)] = (float(ellipse.get("cx")), float(ellipse.get("cy")))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    q = result.questionnaire
    in_model = {h.source for h in q.hypotheses.values()} | {h.target for h in q.hypotheses.values()}
    assert len(centres) == len(in_model)
    x_of = {}
    for t in root.iter(f"{SVG}text"):
        if t.text in in_model and t.get("font-weight") == "700":
            x_of[t.text] = float(t.get("x"))
    assert x_of["CST"] < x_of["WIL"] < x_of["KSB"]
    assert x_of["LOY"] < x_of["ABL"] < x_of["KSB"]
    assert x_of["TRU"] == x_of["CST"]  # exogenous constructs share the first layer
    paths = [p for p in root.iter(f"{SVG}path") if p.get("marker-end")]
    assert len(paths) == len(result.paths)
    dashed = sum(1 for p in paths if p.get("stroke-dasharray"))
    assert dashed == int((~result.paths["supported"].astype(bool)).sum())
    for _, r in result.paths.iterrows():
        label = f"{r['hypothesis']}  {fmt.number(r['std'], 2)}{fmt.stars(r['pvalue'])}"
        assert label in texts
    for cid in q.endogenous:
        assert f"R² = {fmt.number(result.structural.r2[cid], 2)}" in texts


def test_scree_plot(outdir, result):
    root = ET.parse(outdir / "figures" / "scree_parallel.svg").getroot()
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert any(t.text == "Eigenvalue" for t in root.iter(f"{SVG}text"))


def test_layers_by_longest_path_from_exogenous():
    nodes = ["A", "B", "C", "D", "E"]
    edges = [("A", "B"), ("B", "C"), ("A", "C"), ("D", "C"), ("E", "D")]
    assert layers(nodes, edges) == {"A": 0, "B": 1, "C": 2, "D": 1, "E": 0}
    lay = layout(nodes, edges)
    assert lay.pos["A"][0] < lay.pos["B"][0] < lay.pos["C"][0]
    assert len(lay.routes[2]) == 3  # A -> C passes a slot in layer 1
    ys = sorted(lay.pos[n][1] for n in ("B", "D"))
    assert ys[1] - ys[0] >= 80  # constructs of one layer do not overlap
    with pytest.raises(ValueError, match="cycle"):
        layers(["A", "B"], [("A", "B"), ("B", "A")])


# --------------------------------------------------------------------------- formatting


def test_number_formats():
    assert fmt.number(0.84289) == "0.843"
    assert fmt.number(-0.0001) == "0.000"
    assert fmt.number(-0.25) == "−0.250"
    assert fmt.number(float("nan")) == "—" and fmt.number(None) == "—"
    assert fmt.pvalue(0.00001) == "< .001" and fmt.pvalue(0.0284) == ".028"
    assert fmt.pvalue(1.0) == "1.000"
    assert [fmt.stars(p) for p in (0.0005, 0.005, 0.03, 0.2, None)] == ["***", "**", "*", "",
                                                                        ""]


def test_chinese_details_of_excluded_rows(result):
    lang = Lang("zh", result.questionnaire)
    assert lang.detail("1 unanswered item(s): LOY1 (listwise deletion)") == \
        "1 个题项未作答：LOY1（列删除）"
    assert lang.detail("duration 19 s < min 60 s") == "答题时间 19 秒 < 下限 60 秒"
    assert lang.detail("something new") == "something new"


# --------------------------------------------------------------------------- the folder as a whole


def test_measurement_only_report(tmp_path):
    import yaml

    doc = yaml.safe_load(builtin_text("customer-knowledge-sharing"))
    for key in ("hypotheses", "population", "indirect", "alternatives"):
        doc.pop(key, None)
    q = parse_questionnaire(yaml.safe_dump(doc, allow_unicode=True))
    res = analyze(DATA, q, bootstrap=0, seed=1)
    out = res.save(tmp_path / "m")
    assert not (out / "figures" / "path_diagram.svg").exists()
    assert (out / "figures" / "scree_parallel.svg").exists()
    assert not (out / "tables" / "hypotheses.csv").exists()
    assert "sem" not in json.loads((out / "results.json").read_text(encoding="utf-8"))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="hypotheses"' not in page and "no hypotheses" in page
    assert 'id="cfa"' in page and 'id="methods"' in page


def test_outdir_is_replaced_whole(result, tmp_path, monkeypatch):
    out = tmp_path / "r"
    result.save(out)
    first = (out / "results.json").read_text(encoding="utf-8")
    (out / "tables" / "stale.csv").write_text("old", encoding="utf-8")
    result.save(out)  # an earlier report is replaced, stale files and all
    assert not (out / "tables" / "stale.csv").exists()
    assert (out / "results.json").read_text(encoding="utf-8") == first

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "write_docx", broken)
    (out / "marker.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="did not write"):
        result.save(out)  # a folder with other files is refused, not deleted
    assert (out / "marker.txt").exists()
    (out / "marker.txt").unlink()
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(RuntimeError, match="disk full"):
        result.save(out)  # an interrupted run leaves the earlier report as it was
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
    with pytest.raises(RuntimeError, match="disk full"):
        result.save(tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_files_are_readable_by_others(outdir):
    assert (outdir / "report.html").stat().st_mode & 0o044 == 0o044
    assert (outdir / "tables" / "items.csv").stat().st_mode & 0o044 == 0o044


# --------------------------------------------------------------------------- in a browser


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (no port, no network).

    Host names resolve to nothing, so even Chromium's own background requests
    cannot leave the machine; the page's requests are read from the Network domain.
    """

    def __init__(self, profile: Path) -> None:
        r_cmd, w_cmd = os.pipe()
        r_out, w_out = os.pipe()

        def child() -> None:
            a, b = os.dup(r_cmd), os.dup(w_out)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
                "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
                "--window-size=1366,900", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=child, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_out)
        self.w, self.r = w_cmd, r_out
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        self.next_id += 1
        msg: dict = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        for e in self.events:
            if e.get("method") == method:
                return e
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            self.events.append(m)
            if m.get("method") == method:
                return m

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"})
        session = self.send("Target.attachToTarget",
                            {"targetId": target["targetId"], "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired")
        self.send("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => 1)",
                                       "awaitPromise": True}, session=session)
        return session

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                   "warning",
                                                                                   "assert"):
                out.append(json.dumps(params["args"])[:300])
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                out.append(params["entry"]["text"])
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")


@pytest.fixture
def browser(tmp_path):
    b = Chromium(tmp_path / "profile")
    yield b
    b.close()


def _shot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SEM_KIT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@needs_chromium
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_chromium(lang, outdir, outdir_zh, browser, tmp_path):
    page = (outdir if lang == "en" else outdir_zh) / "report.html"
    url = page.as_uri()
    session = browser.open(url)
    heights = browser.send("Runtime.evaluate", {
        "expression": "[document.querySelectorAll('section').length,"
                      " document.querySelectorAll('table.t').length,"
                      " document.querySelectorAll('svg').length,"
                      " document.body.scrollHeight]", "returnByValue": True},
        session=session)["result"]["value"]
    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
    png = _shot_dir(tmp_path) / f"report_{lang}.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    pdf = browser.send("Page.printToPDF", {"printBackground": False}, session=session)
    assert browser.requests() == [url], "the page requested something besides itself"
    assert browser.errors() == []
    sections, n_tables, n_svg, height = heights
    assert sections == len(SECTIONS) and n_tables > 20 and n_svg == 2 and height > 5000
    assert png.stat().st_size > 20_000
    assert base64.b64decode(pdf["data"]).count(b"/Type /Page") > 10  # it prints, on many pages
    print(f"screenshot of the {lang} report: {png}")


@needs_chromium
def test_browser_check_catches_requests_and_errors(browser, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<html><head><link rel="stylesheet" href="https://cdn.invalid/x.css">'
                   '</head><body><script>console.error("boom")</script></body></html>',
                   encoding="utf-8")
    browser.open(bad.as_uri())
    assert "https://cdn.invalid/x.css" in browser.requests()
    assert any("boom" in e for e in browser.errors())


SMALL = """
format: 1
name: small
scale: {min: 1, max: 5}
constructs:
  A:
    name: {en: Antecedent, zh: 前因}
    items: {A1: a one, A2: a two, A3: a three}
  B:
    name: {en: Outcome, zh: 结果}
    items: {B1: b one, B2: b two, B3: b three}
hypotheses:
  H1: {path: A -> B, sign: "+"}
population:
  paths: {A -> B: 0.4}
"""

ONE = """
format: 1
name: one
scale: {min: 1, max: 7}
constructs:
  S:
    name: {en: Satisfaction, zh: 满意度}
    items: {S1: one, S2: two, S3: three, S4: four}
"""


@pytest.mark.parametrize("text,lang", [(SMALL, "en"), (SMALL, "zh"), (ONE, "en")])
def test_small_questionnaires_report(text, lang, tmp_path):
    from sem_kit.io.simulate import simulate_responses

    q = parse_questionnaire(text)
    data = simulate_responses(q, 150, seed=3, demographics=False)
    res = analyze(data, q, bootstrap=20 if q.hypotheses else 0, seed=3, lang=lang)
    out = res.save(tmp_path / "r")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="summary"' in page and 'id="methods"' in page
    assert 'id="tbl-demographics"' not in page
    assert ("path_diagram.svg" in {p.name for p in (out / "figures").iterdir()}) == \
        bool(q.hypotheses)
    if q.hypotheses:
        assert "H1" in _section(page, "hypotheses")
    load_workbook(out / "tables.xlsx")
    Document(out / "tables.docx")
