"""tables.docx: publication tables in three-line (APA) style, ready to paste into a paper.

Each table has a caption above it (``Table 1`` and an italic title in
English; ``表1 标题`` centred in Chinese, as Chinese journals print it), a
rule above the header, a rule under it and a rule under the last row, no
vertical lines, and its note underneath (``Note.`` in italics). Wide tables
sit in landscape sections.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from sem_kit.io.atomic import write_with
from sem_kit.report.diagram import text_width
from sem_kit.report.i18n import Lang
from sem_kit.report.tables import TEXT_KINDS, Table, Tables, cells

#: Tables with more printed columns than this go on landscape pages.
LANDSCAPE_COLUMNS = 9
_MARK = {"poor": "†", "acceptable": "†", "improper": "†"}


def _border(element, edges: dict[str, tuple[str, int]]) -> None:
    """Set ``w:tblBorders`` / ``w:tcBorders`` edges: name -> (style, size in 1/8 pt)."""
    tag = "w:tblBorders" if element.tag == qn("w:tblPr") else "w:tcBorders"
    borders = element.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        element.append(borders)
    for edge, (style, size) in edges.items():
        node = borders.find(qn(f"w:{edge}"))
        if node is None:
            node = OxmlElement(f"w:{edge}")
            borders.append(node)
        node.set(qn("w:val"), style)
        node.set(qn("w:sz"), str(size))
        node.set(qn("w:space"), "0")
        node.set(qn("w:color"), "000000")


def _fonts(doc, zh: bool) -> None:
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(10)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "SimSun" if zh else "Times New Roman")
    fonts.set(qn("w:ascii"), "Times New Roman")
    fonts.set(qn("w:hAnsi"), "Times New Roman")


def _orient(section, landscape: bool) -> None:
    w, h = section.page_width, section.page_height
    if landscape != (w > h):
        section.page_width, section.page_height = h, w
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin = section.bottom_margin = Cm(2.2)


def _caption(doc, table: Table, number: int, lang: Lang) -> None:
    if lang.zh:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(f"{lang.t('doc.table', n=number)}  {table.title}")
        run.bold = True
    else:
        p = doc.add_paragraph()
        p.add_run(lang.t("doc.table", n=number)).bold = True
        p.paragraph_format.space_after = Pt(0)
        doc.add_paragraph().add_run(table.title).italic = True
    p.paragraph_format.keep_with_next = True


def _widths(cols: list, header: list[str], rows: list[list], available: float) -> list[float]:
    """Column widths in cm: each column's widest text at 9 pt, prose capped, fitted to the page."""
    cm_per_pt = 0.03528
    natural = []
    for j, col in enumerate(cols):
        texts = header[j].split("\n") + [r[j].text for r in rows]
        width = max(text_width(s, 9.0) for s in texts) * cm_per_pt + 0.5
        if col.kind == "longtext":
            width = min(width, 8.0)
        elif col.kind == "wrap":
            width = min(width, 4.5)
        natural.append(max(width, 1.1))
    total = sum(natural)
    if total <= available:
        return natural
    flexible = [j for j, c in enumerate(cols) if c.kind in ("longtext", "wrap")]
    excess = total - available
    room = sum(max(natural[j] - 3.0, 0) for j in flexible)
    if room > 0:
        cut = min(excess, room)
        for j in flexible:
            natural[j] -= cut * max(natural[j] - 3.0, 0) / room
    total = sum(natural)
    return [w * min(1.0, available / total) for w in natural]


def _paragraph(cell, text: str, align, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.space_before = Pt(1)
    p.paragraph_format.space_after = Pt(1)
    p.paragraph_format.line_spacing = 1.0
    p.alignment = align
    run = p.add_run(text)
    run.font.size = Pt(9)
    run.bold = bold


def _spanners(cells_: list, spans: list[tuple[str, int]], widths: list[float]) -> None:
    """The spanner header row: each named run of columns merged into one centred cell with a
    rule under it (APA's short rule over the columns it names); unnamed runs left empty."""
    j = 0
    for label, n in spans:
        for k in range(j, j + n):
            cells_[k].width = Cm(widths[k])
        if label:
            cell = cells_[j].merge(cells_[j + n - 1]) if n > 1 else cells_[j]
            _paragraph(cell, label, WD_ALIGN_PARAGRAPH.CENTER)
            _border(cell._tc.get_or_add_tcPr(), {"bottom": ("single", 6)})
        j += n


def _table(doc, table: Table, lang: Lang, available: float) -> None:
    cols = table.shown
    rows = cells(table, lang)
    header = [col.label + (f"\n({col.threshold})" if col.threshold else "") for col in cols]
    widths = _widths(cols, header, rows, available)
    spans = table.spans()
    top = 1 if spans else 0
    t = doc.add_table(rows=len(rows) + 1 + top, cols=len(cols))
    t.alignment = WD_TABLE_ALIGNMENT.CENTER if lang.zh else WD_TABLE_ALIGNMENT.LEFT
    t.autofit = False
    _border(t._tbl.tblPr, {"top": ("single", 12), "bottom": ("single", 12),
                           "left": ("nil", 0), "right": ("nil", 0),
                           "insideH": ("nil", 0), "insideV": ("nil", 0)})
    for j, width in enumerate(widths):
        t.columns[j].width = Cm(width)
    grid = [row.cells for row in t.rows]
    if spans:
        _spanners(grid[0], spans, widths)
    for j, col in enumerate(cols):
        cell = grid[top][j]
        cell.width = Cm(widths[j])
        _paragraph(cell, header[j], WD_ALIGN_PARAGRAPH.LEFT if col.kind in TEXT_KINDS
                   else WD_ALIGN_PARAGRAPH.CENTER)
        _border(cell._tc.get_or_add_tcPr(), {"bottom": ("single", 6)})
    for header_row in t.rows[: top + 1]:
        trpr = header_row._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        trpr.append(repeat)
    for i, row in enumerate(rows, start=1 + top):
        for j, (col, c) in enumerate(zip(cols, row, strict=True)):
            cell = grid[i][j]
            cell.width = Cm(widths[j])
            text = "" if c.flag == "repeat" else c.text.replace("`", "") + _MARK.get(
                c.flag or "", "")
            _paragraph(cell, text, WD_ALIGN_PARAGRAPH.LEFT if col.kind in TEXT_KINDS
                       else WD_ALIGN_PARAGRAPH.CENTER, bold=c.flag in ("diag", "bold"))
    if table.note:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(3)
        run = p.add_run(lang.t("doc.note") + " ")
        run.italic = not lang.zh
        run.font.size = Pt(9)
        note = p.add_run(table.note.replace("`", ""))
        note.font.size = Pt(9)


def write_docx(tables: Tables, path: Path, lang: Lang, title: str = "") -> None:
    """Write every exported table of ``tables`` to ``path`` atomically, numbered from 1."""
    doc = Document()
    _fonts(doc, lang.zh)
    _orient(doc.sections[0], landscape=False)
    heading = doc.add_paragraph()
    run = heading.add_run(title or lang.t("doc.title"))
    run.bold = True
    run.font.size = Pt(14)
    landscape = False
    for number, table in enumerate(tables.exported(), start=1):
        wide = len(table.shown) > LANDSCAPE_COLUMNS or any(c.kind == "longtext" and
                                                           len(table.shown) > 4
                                                           for c in table.shown)
        if wide != landscape:
            section = doc.add_section(WD_SECTION.NEW_PAGE)
            _orient(section, wide)
            landscape = wide
        _caption(doc, table, number, lang)
        section = doc.sections[-1]
        available = (section.page_width - section.left_margin - section.right_margin) / 360000
        for label, value in table.header:
            line = doc.add_paragraph()
            line.paragraph_format.space_after = Pt(0)
            line.paragraph_format.keep_with_next = True
            head = line.add_run(f"{label}: " if not lang.zh else f"{label}：")
            head.font.size = Pt(9)
            line.add_run(value).font.size = Pt(9)
        _table(doc, table, lang, available)
        doc.add_paragraph()
    write_with(path, doc.save)
