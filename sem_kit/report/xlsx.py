"""tables.xlsx: a contents sheet, then one formatted sheet per table.

Each sheet: the column headers in bold on row 1 (frozen), the raw numbers
with a three-decimal number format (p values as the HTML prints them, ``<.001``
or ``.245``, the exact number kept in the cell; whole numbers without
decimals), verdicts as words, column widths fitted to the content, the
table's note two rows under the data and any header lines under the note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from sem_kit.io.atomic import write_with
from sem_kit.report import fmt
from sem_kit.report.diagram import text_width
from sem_kit.report.i18n import Lang
from sem_kit.report.tables import TEXT_KINDS, UNDEFINED, Column, Table, Tables

#: p values as the report prints them: ``<.001`` below .001, else three decimals without the
#: leading zero (``.245``); the cell keeps the exact number.
P_FORMAT = '[<0.001]"<.001";.000'
_FILL = {"good": "E2F2E6", "acceptable": "FBEFD2", "poor": "FBE1E1", "improper": "FBE1E1"}
_THIN = Side(style="thin", color="1D2530")
_THICK = Side(style="medium", color="1D2530")


def _width(text: str) -> float:
    return text_width(text, 1.0) / 0.56 + 2


def _value(col: Column, raw: object, lang: Lang, kind: str) -> object:
    value = fmt.to_python(raw)
    if kind == "verdict":
        if value is None:
            return None
        return lang.verdict(value)
    if kind == "item" and value is not None:
        item = lang.questionnaire.items.get(str(value))
        return f"{value} {lang.t('misc.reverse')}" if item is not None and item.reverse else value
    return value


def _write_cell(c: Any, col: Column, row: pd.Series, lang: Lang,
                flag: object) -> tuple[Any, str]:
    """Write one value to the cell ``c`` with its number format, wrap and flag; returns the
    cell and the value's kind (a ``mixed`` column's row format). An :data:`UNDEFINED`
    flagged empty value is written as ``—``."""
    kind = col.kind
    if kind == "mixed":
        kind = str(row.get("format", "num"))
    value = _value(col, row.get(col.key), lang, kind)
    if flag == UNDEFINED and value is None:
        value = fmt.DASH
    c.value = value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        c.number_format = "0" if kind == "int" else (P_FORMAT if kind == "p" else "0.000")
    if kind in ("longtext", "wrap"):
        c.alignment = Alignment(wrap_text=True, vertical="top")
    if isinstance(flag, str) and flag in _FILL:
        c.fill = PatternFill("solid", fgColor=_FILL[flag])
    if flag in ("diag", "bold"):
        c.font = Font(bold=True)
    return c, kind


def _flag(table: Table, pos: int, key: str) -> object:
    """The flag of the cell in row ``pos`` and column ``key`` (``""`` when none)."""
    if table.flags is None or key not in table.flags.columns:
        return ""
    return table.flags.iloc[pos][key]


def _expand(cols: list[Column], lang: Lang) -> list[Column]:
    """The printed columns with each interval split into its lower and upper bound."""
    out = []
    for col in cols:
        if col.kind == "ci" and col.pair is not None:
            for key in col.keys:
                label = lang.t(f"col.{key}") if lang.has(f"col.{key}") else key
                out.append(Column(key, label, "num", decimals=col.decimals, group=col.group))
        else:
            out.append(col)
    return out


def write_xlsx(tables: Tables, path: Path, lang: Lang) -> None:
    """Write ``tables`` (the exported ones) to ``path`` atomically."""
    wb = Workbook()
    contents = wb.active
    contents.title = "contents"
    bold = Font(bold=True)
    contents.append([lang.t("doc.title")])
    contents["A1"].font = Font(bold=True, size=13)
    contents.append(["sheet", lang.t("col.name"), lang.t("doc.note")])
    for cell in contents[2]:
        cell.font = bold
    for table in tables.exported():
        contents.append([table.id, table.title, table.note])
        ws = wb.create_sheet(table.id[:31])
        cols = _expand(table.shown, lang)
        widths = []
        for j, col in enumerate(cols, start=1):
            label = (f"{col.group}: " if col.group else "") + col.label + (
                f" ({col.threshold})" if col.threshold else "")
            c = ws.cell(row=1, column=j, value=label)
            c.font = bold
            c.alignment = Alignment(horizontal="left" if col.kind in (*TEXT_KINDS, "verdict")
                                    else "right", vertical="bottom", wrap_text=True)
            c.border = Border(top=_THICK, bottom=_THIN)
            widths.append(min(_width(label), 28))
        data = table.data
        for i, (_, row) in enumerate(data.iterrows(), start=2):
            for j, col in enumerate(cols, start=1):
                c, kind = _write_cell(ws.cell(row=i, column=j), col, row, lang,
                                      _flag(table, i - 2, col.key))
                value = c.value
                shown = value if isinstance(value, str) else (
                    f"{value:.3f}" if isinstance(value, float) else str(value or ""))
                widths[j - 1] = max(widths[j - 1], min(_width(shown), 60 if kind == "longtext"
                                                       else 40))
        last = len(data) + 1
        for j in range(1, len(cols) + 1):
            ws.cell(row=last, column=j).border = Border(bottom=_THICK)
            ws.column_dimensions[get_column_letter(j)].width = max(6.0, widths[j - 1])
        below = last + 2
        if table.note:
            note = ws.cell(row=below, column=1, value=f"{lang.t('doc.note')} {table.note}")
            note.font = Font(italic=True, size=9)
            below += 1
        for label, value in table.header:
            ws.cell(row=below, column=1, value=label).font = Font(size=9)
            ws.cell(row=below, column=2, value=value).font = Font(size=9)
            below += 1
        ws.freeze_panes = "A2"
    contents.column_dimensions["A"].width = 20
    contents.column_dimensions["B"].width = 60
    contents.column_dimensions["C"].width = 100
    write_with(path, wb.save)
