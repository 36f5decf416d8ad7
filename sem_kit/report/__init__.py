"""The report layer: OUTDIR with report.html, results.json, tables.xlsx, tables.docx, CSVs, figures.

:func:`write_outputs` is what ``AnalysisResult.save`` and ``sem-kit analyze``
call. It formats; it computes nothing statistical: every number comes from the
:class:`~sem_kit.pipeline.AnalysisResult` it is given.

OUTDIR (DESIGN.md)::

    report.html      one self-contained file (inline CSS and SVG, no network)
    results.json     result.to_dict(), checked against results.schema.json
    tables.xlsx      a contents sheet, then one formatted sheet per table
    tables.docx      three-line (APA) tables with notes
    tables/*.csv     every table, UTF-8 with BOM
    figures/         path_diagram.svg (with hypotheses), scree_parallel.svg

Everything is written into a hidden temporary folder beside OUTDIR (each
file itself atomically), which then replaces OUTDIR in two renames, so an
interrupted run never leaves a half-written report under OUTDIR's name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sem_kit.errors import InputError
from sem_kit.io.atomic import write_text
from sem_kit.report.csvs import write_csvs
from sem_kit.report.docx import write_docx
from sem_kit.report.html import figures_of, notebook_html, render_report
from sem_kit.report.i18n import Lang
from sem_kit.report.schema_check import SchemaError, validate_results
from sem_kit.report.tables import Table, Tables, build_tables
from sem_kit.report.xlsx import write_xlsx

if TYPE_CHECKING:  # pragma: no cover
    from sem_kit.pipeline import AnalysisResult

#: What a sem_kit OUTDIR holds; a folder holding anything else is not replaced.
OUTPUT_NAMES = frozenset({"report.html", "results.json", "tables.xlsx", "tables.docx", "tables",
                          "figures"})
#: File names of the figures.
FIGURE_FILES = {"path_diagram": "path_diagram.svg", "scree": "scree_parallel.svg"}


def results_json(result: AnalysisResult) -> str:
    """results.json's text: ``result.to_dict()`` validated against the schema.

    Raises
    ------
    SchemaError
        When the document does not match ``results.schema.json`` (naming each key path).
    """
    doc = result.to_dict()
    validate_results(doc)
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _check_outdir(outdir: Path) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"-o {outdir}: exists and is not a folder; give a new or empty folder "
                         "for the report")
    if outdir.is_dir():
        foreign = sorted(p.name for p in outdir.iterdir() if p.name not in OUTPUT_NAMES)
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise InputError(f"-o {outdir}: the folder holds files sem_kit did not write "
                             f"({shown}); the report replaces its folder as a whole, so give a "
                             "new or empty folder, or one holding only an earlier report")
        if outdir.resolve() in (Path.cwd().resolve(), Path.home().resolve()):
            raise InputError(f"-o {outdir}: give a folder of its own for the report, not the "
                             "current or home folder")


def write_outputs(result: AnalysisResult, outdir: Path) -> Path:
    """Write the whole report for ``result`` to ``outdir`` and return ``outdir``.

    Parameters
    ----------
    result:
        The analysis (:func:`sem_kit.analyze`).
    outdir:
        The report folder: created, or replaced if it holds an earlier report
        (a folder holding other files is refused rather than deleted).

    Returns
    -------
    pathlib.Path
        ``outdir``.

    Raises
    ------
    InputError
        ``outdir`` is a file, or a folder with files sem_kit did not write.
    SchemaError
        results.json would not match its schema (nothing is written then).
    """
    outdir = Path(outdir)
    _check_outdir(outdir)
    payload = results_json(result)
    lang = Lang(result.options.lang, result.questionnaire)
    tables = build_tables(result, lang)
    figures = figures_of(result, lang)
    html = render_report(result, tables, figures, lang)
    title = result.questionnaire.model.title
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".part", dir=outdir.parent))
    try:
        write_csvs(tables, tmp / "tables")
        for key, svg in figures.items():
            write_text(tmp / "figures" / FIGURE_FILES[key], svg)
        write_xlsx(tables, tmp / "tables.xlsx", lang)
        write_docx(tables, tmp / "tables.docx", lang,
                   title=title.get(lang.code) if title is not None else "")
        write_text(tmp / "results.json", payload)
        write_text(tmp / "report.html", html)
        _readable(tmp)
        _swap_in(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir


def _readable(folder: Path) -> None:
    """Give the report the usual permissions (files 666, folders 777, less the umask).

    Temporary files and folders are created private; a report is meant to be shared.
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)
    for path in folder.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def _swap_in(new: Path, outdir: Path) -> None:
    """Replace ``outdir`` by the finished folder ``new``: two renames, then drop the old one."""
    old = None
    if outdir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".old", dir=outdir.parent))
        os.rmdir(old)
        os.replace(outdir, old)
    try:
        os.replace(new, outdir)
    except BaseException:
        if old is not None and not outdir.exists():
            os.replace(old, outdir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = [
    "SchemaError",
    "Table",
    "Tables",
    "build_tables",
    "notebook_html",
    "render_report",
    "results_json",
    "write_outputs",
]
