"""report.html and the notebook summary, rendered from Jinja2 templates in this package.

The report is one self-contained file: the stylesheet is inlined, the
figures are inline SVG, and nothing refers to another file or address, so it
opens offline, prints, and can be mailed as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import platform
import re
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from sem_kit.report import fmt
from sem_kit.report.diagram import path_diagram_svg
from sem_kit.report.i18n import Lang
from sem_kit.report.plots import scree_svg
from sem_kit.report.tables import (
    HEADLINE_FIT,
    TEXT_KINDS,
    Table,
    Tables,
    badge,
    build_tables,
    cells,
    ci_method_label,
    interval_method,
)

if TYPE_CHECKING:  # pragma: no cover
    from sem_kit.pipeline import AnalysisResult

#: Packages whose versions the methods paragraph names.
SOFTWARE = ("sem_kit", "semopy", "numpy", "pandas", "scipy", "factor_analyzer", "pingouin")

#: The sections of a run without ``--group``, in order (a section with nothing to show,
#: such as ``hypotheses`` without hypotheses, is left out).
SECTIONS = ("summary", "sample", "items", "reliability", "efa", "cmv", "cfa", "discriminant",
            "sem_fit", "hypotheses", "r2", "mediation", "comparison", "mi", "warnings", "methods")
#: Every section in order, as :func:`sections` walks them: with ``--group`` the group
#: comparison (``groups``) follows model comparison; without it that section is empty and
#: left out, which leaves :data:`SECTIONS`.
GROUP_SECTIONS = (*SECTIONS[:SECTIONS.index("comparison") + 1], "groups",
                  *SECTIONS[SECTIONS.index("comparison") + 1:])


#: Tables with more printed columns than this print in a smaller font with wrapping headers,
#: so that they fit the page (1280 px window) without scrolling.
WIDE_COLUMNS = 9


@dataclass
class Block:
    """One piece of a section: a paragraph, a table, a figure, a list or raw markup."""

    kind: str
    payload: Any


@dataclass
class Section:
    """A numbered section of the report."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


def _env() -> Environment:
    return Environment(loader=PackageLoader("sem_kit.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                       lstrip_blocks=True)


def stylesheet() -> str:
    """The report's CSS (package data ``templates/report.css``)."""
    return resources.files("sem_kit.report").joinpath("templates/report.css").read_text(
        encoding="utf-8")


def software_versions() -> dict[str, str]:
    """Installed versions of :data:`SOFTWARE` and of Python."""
    out = {}
    for name in SOFTWARE:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "?"
    out["Python"] = platform.python_version()
    return out


_CODE = re.compile(r"`([^`]+)`")


def code_markup(text: str) -> Markup | str:
    """``text`` with each ```code``` span (a flag, a file, a column in a warning) printed as
    ``<code>``, everything else escaped; ``text`` itself when it has no backticks."""
    if "`" not in text:
        return text
    out = Markup("")
    last = 0
    for m in _CODE.finditer(text):
        out += escape(text[last:m.start()]) + Markup("<code>") + escape(m.group(1)) + \
            Markup("</code>")
        last = m.end()
    return out + escape(text[last:])


def table_view(table: Table, lang: Lang, number: int | None = None) -> dict[str, Any]:
    """What the templates need to print one table."""
    cols = []
    for c in table.shown:
        cls = c.kind if c.kind in ("verdict", "wrap") else (
            "text" if c.kind in TEXT_KINDS else "num")
        cols.append({"label": c.label, "threshold": c.threshold, "cls": cls})
    spans = [{"label": label, "colspan": n} for label, n in table.spans()]
    rows = [[dataclasses.replace(c, text=code_markup(c.text)) if "`" in c.text else c
             for c in row] for row in cells(table, lang)]
    return {"id": table.id, "title": table.title, "columns": cols, "rows": rows,
            "note": code_markup(table.note), "spans": spans, "header": list(table.header),
            "wide": len(table.shown) > WIDE_COLUMNS,
            "number": lang.t("doc.table", n=number) if number is not None else ""}


def _p(text: str) -> Block:
    return Block("p", text)


def summary_blocks(result: AnalysisResult, tables: Tables, lang: Lang) -> list[Block]:
    """The summary: sample counts, each hypothesis' verdict, the headline fit."""
    n_screen = len(result.screening.excluded)
    n_list = len(result.listwise)
    sample = [
        (fmt.integer(result.screening.n_input), lang.t("sum.rows")),
        (fmt.integer(n_screen + n_list),
         lang.t("sum.excluded_fiml") if result.options.missing == "fiml" else
         lang.t("sum.excluded", screen=n_screen, listwise=n_list)),
        (fmt.integer(result.n_analyzed), lang.t("sum.analysed")),
    ]
    hyps: list[dict[str, Any]] = []
    headline = ""
    s = result.structural
    if s is not None:
        paths = s.paths
        for _, r in paths.iterrows():
            hyps.append({
                "id": r["hypothesis"], "path": f"{r['from']} → {r['to']}",
                "sign": str(r["sign"]).replace("-", "−"),
                "beta": fmt.number(r["std"], 3) + fmt.stars(r["pvalue"]),
                "p": fmt.pvalue(r["pvalue"]), "verdict": lang.verdict(r["verdict"]),
                "badge": badge(r["verdict"])})
        k = int(paths["supported"].sum())
        headline = lang.t("sum.supported_count", k=k, n=len(paths))
    blocks = [Block("summary", {"sample": sample, "hypotheses": hyps, "headline": headline,
                                "no_hypotheses": lang.t("sum.no_hypotheses") if s is None
                                else ""})]
    blocks.append(Block("table", tables["summary_fit"]))
    if result.groups is not None:
        blocks.append(_p(group_summary(result, tables, lang)))
    if result.warnings:
        blocks.append(_p(lang.t("sum.warnings", n=len(result.warnings))))
    return blocks


def _groups_n(result: AnalysisResult, lang: Lang) -> str:
    """The compared groups and their sizes: ``Female n = 162, Male n = 201``."""
    inv = result.groups.invariance  # type: ignore[union-attr]
    sep = "，" if lang.zh else ", "
    return sep.join(lang.t("sum.group_n", group=lang.group_label(inv.group, str(label)),
                           n=int(n)) for label, n in inv.groups)


def group_summary(result: AnalysisResult, tables: Tables, lang: Lang) -> str:
    """The summary's group-comparison line: how far measurement invariance holds across
    the groups, and how many structural paths differ across them (in the order of the
    ``group_paths`` table)."""
    inv = result.groups.invariance  # type: ignore[union-attr]
    name = lang.demographic(inv.group, in_sentence=True)
    top, failed = inv.highest_step
    groups = _groups_n(result, lang)
    if top == inv.table["step"].iloc[0] and failed is not None:
        text = lang.t("sum.invariance_none", name=name, groups=groups,
                      step=lang.t(f"stepname.{failed}"))
    else:
        text = lang.t("sum.invariance", name=name, groups=groups, step=lang.t(f"stepname.{top}"))
    tests = tables["group_paths"].data if "group_paths" in tables else None
    if tests is not None and len(tests):
        differ = [str(h) for h, d in zip(tests["hypothesis"], tests["differs"], strict=True)
                  if bool(d)]
        sep = "，" if lang.zh else ", "
        which = ("：" if lang.zh else ": ") + sep.join(differ) if differ else ""
        text += ("" if lang.zh else " ") + lang.t("sum.paths_differ", k=len(differ),
                                                  n=len(tests), which=which)
    return text


def methods_groups(result: AnalysisResult, lang: Lang) -> str:
    """The methods paragraph's sentence on the group comparison (empty without one)."""
    if result.groups is None:
        return ""
    inv = result.groups.invariance
    return lang.t("methods.groups", name=lang.demographic(inv.group, in_sentence=True),
                  groups=_groups_n(result, lang), n=sum(int(n) for _, n in inv.groups),
                  rule=lang.rule(inv.rule))


def methods_text(result: AnalysisResult, lang: Lang) -> str:
    """The methods paragraph: data, screening, estimator, bootstrap, seed, software versions."""
    summary = result.screening.summary()
    sep = "，" if lang.zh else ", "
    reasons = sep.join(
        lang.t("methods.reason", reason=lang.t("reason." + code) if lang.has("reason." + code)
               else code, n=count)
        for code, count in summary.items() if count) or lang.t("methods.none")
    s = result.structural
    if s is None:
        boot = lang.t("methods.no_sem")
    else:
        b = s.bootstrap
        if b.requested:
            boot = lang.t("methods.boot", requested=b.requested, ok=b.succeeded, failed=b.failed,
                          method=ci_method_label(lang, interval_method(s)))
        elif result.options.estimator == "WLSMV":
            boot = lang.t("methods.no_boot_wlsmv")
        else:
            boot = lang.t("methods.no_boot")
    software = sep.join(f"{k} {v}" for k, v in software_versions().items())
    if result.options.missing == "fiml":
        missing = lang.t("methods.fiml", n=result.n_analyzed)
    else:
        missing = lang.t("methods.listwise", listwise=len(result.listwise), n=result.n_analyzed)
    est = result.options.estimator
    estimator = lang.t(f"estimator.{est}") if lang.has(f"estimator.{est}") else est
    settings = lang.t("methods.settings_wlsmv" if est == "WLSMV" else "methods.settings_fiml"
                      if result.options.missing == "fiml" else "methods.settings")
    return lang.t("methods.text", path=result.input_label, rows=result.screening.n_input,
                  screen=len(result.screening.excluded), reasons=reasons, missing=missing,
                  estimator=estimator, settings=settings, boot=boot,
                  groups=methods_groups(result, lang),
                  seed=result.options.seed if result.options.seed is not None else "—",
                  software=software)


def sections(result: AnalysisResult, tables: Tables, lang: Lang,
             figures: dict[str, str]) -> list[Section]:
    """The report's sections in order, each with its blocks."""
    out: list[Section] = []
    for key in GROUP_SECTIONS:
        sec = Section(key, lang.t(f"sec.{key}"))
        if key == "summary":
            sec.blocks = summary_blocks(result, tables, lang)
        elif key == "methods":
            sec.blocks = [_p(methods_text(result, lang))]
        else:
            if key == "hypotheses" and "path_diagram" in figures:
                sec.blocks.append(Block("figure", {"svg": figures["path_diagram"],
                                                   "title": lang.t("title.path_diagram"),
                                                   "note": _diagram_note(lang)}))
            if key == "comparison" and result.structural is not None and \
                    "comparison" not in tables:
                sec.blocks.append(_p(lang.t("note.no_comparison_wlsmv")
                                     if result.options.estimator == "WLSMV"
                                     else lang.t("note.no_alternatives")))
            for t in tables.in_section(key):
                sec.blocks.append(Block("table", t))
                if t.id == "parallel" and "scree" in figures:
                    pa = result.measurement.parallel
                    sec.blocks.append(Block("figure", {
                        "svg": figures["scree"], "title": lang.t("title.scree"),
                        "note": lang.t("note.scree", q=pa.quantile * 100, k=pa.n_components)}))
        if sec.blocks:
            out.append(sec)
    return out


def _diagram_note(lang: Lang) -> str:
    return lang.t("note.path_diagram", stars=lang.t("note.stars"))


def figures_of(result: AnalysisResult, lang: Lang) -> dict[str, str]:
    """Every figure as SVG text: ``scree`` always, ``path_diagram`` with hypotheses."""
    figs = {"scree": scree_svg(result, lang)}
    diagram = path_diagram_svg(result, lang)
    if diagram is not None:
        figs["path_diagram"] = diagram
    return figs


def _inline(svg: str) -> Markup:
    """An SVG document as inline markup (the XML declaration dropped)."""
    return Markup(svg.split("?>", 1)[-1] if svg.startswith("<?xml") else svg)


def render_report(result: AnalysisResult, tables: Tables | None = None,
                  figures: dict[str, str] | None = None, lang: Lang | None = None) -> str:
    """report.html as one string.

    Parameters
    ----------
    result:
        The analysis.
    tables, figures, lang:
        Built from ``result`` when not given (pass them to share them with other writers).

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    lang = lang or Lang(result.options.lang, result.questionnaire)
    tables = tables or build_tables(result, lang)
    figures = figures if figures is not None else figures_of(result, lang)
    secs = sections(result, tables, lang, figures)
    n_table = n_fig = 0
    views = []
    for sec in secs:
        blocks = []
        for b in sec.blocks:
            if b.kind == "table":
                n_table += 1
                blocks.append({"kind": "table", "table": table_view(b.payload, lang, n_table)})
            elif b.kind == "figure":
                n_fig += 1
                blocks.append({"kind": "figure", "svg": _inline(b.payload["svg"]),
                               "number": lang.t("doc.figure", n=n_fig),
                               "title": b.payload["title"], "note": b.payload["note"]})
            else:
                blocks.append({"kind": b.kind, "payload": b.payload})
        views.append({"id": sec.id, "title": sec.title, "blocks": blocks})
    responses = result.screening.responses
    title = result.questionnaire.model.title
    from sem_kit.version import __version__

    context = {
        "lang": "zh-CN" if lang.zh else "en",
        "doc_title": lang.t("doc.title"),
        "study_title": title.get(lang.code) if title is not None else result.questionnaire.name,
        "generated": lang.t("doc.generated", version=__version__,
                            date=_dt.date.today().isoformat()),
        "data_line": lang.t("doc.data", path=result.input_label, rows=responses.n_rows,
                            sha=(responses.sha256 or "")[:12]),
        "questionnaire_line": lang.t("doc.questionnaire", name=result.questionnaire.name),
        "contents": lang.t("doc.contents"),
        "note_label": lang.t("doc.note"),
        "sections": views,
        "css": Markup(stylesheet()),
    }
    return _env().get_template("report.html.j2").render(**context)


def notebook_html(result: AnalysisResult) -> str:
    """A compact HTML summary of ``result`` for Jupyter (``AnalysisResult._repr_html_``).

    Shows the sample, the headline fit, reliability and, with hypotheses,
    each hypothesis' verdict; the full report is ``result.save(outdir)``.
    """
    lang = Lang(result.options.lang, result.questionnaire)
    from sem_kit.report import tables as tb

    fit = table_view(tb.summary_fit(result, lang), lang)
    rel_table = tb.reliability(result, lang)
    keep = {"construct", "alpha", "alpha_verdict", "cr", "cr_verdict", "ave", "ave_verdict"}
    rel_table = Table(rel_table.id, rel_table.section, rel_table.title,
                      tuple(c for c in rel_table.columns if c.key in keep), rel_table.data)
    views = [fit, table_view(rel_table, lang)]
    if result.structural is not None:
        hyp = tb.hypotheses(result, lang)
        keep_h = {"hypothesis", "path", "sign", "std", "pvalue", "verdict"}
        views.append(table_view(Table(hyp.id, hyp.section, hyp.title,
                                      tuple(c for c in hyp.columns if c.key in keep_h),
                                      hyp.data), lang))
    excluded = (lang.t("sum.excluded_fiml") if result.options.missing == "fiml" else
                lang.t("sum.excluded", screen=len(result.screening.excluded),
                       listwise=len(result.listwise)))
    context = {
        "title": lang.t("nb.title"),
        "line": (f"N = {result.n_analyzed} {lang.t('sum.analysed')} · "
                 f"{len(result.excluded)} {excluded}"),
        "tables": views,
        "hint": lang.t("nb.tables"),
        "warnings": lang.t("sum.warnings", n=len(result.warnings)) if result.warnings else "",
    }
    return _env().get_template("notebook.html.j2").render(**context)


__all__ = ["HEADLINE_FIT", "notebook_html", "render_report", "figures_of", "stylesheet"]
