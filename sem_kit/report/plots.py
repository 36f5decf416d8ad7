"""Plots as hand-written SVG (no plotting library): the scree plot with parallel analysis."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from sem_kit.report.diagram import FONT
from sem_kit.report.i18n import Lang

#: Components shown in the scree plot (at most).
SCREE_COMPONENTS = 20


def _ticks(top: float) -> list[float]:
    step = 10 ** math.floor(math.log10(top / 4)) if top > 0 else 1
    for mult in (1, 2, 2.5, 5, 10):
        if top / (step * mult) <= 6:
            step *= mult
            break
    return [i * step for i in range(int(top / step) + 2) if i * step <= top * 1.0001 + step]


def scree_svg(result: Any, lang: Lang, id_prefix: str = "scree") -> str:
    """Observed eigenvalues against parallel analysis' random-data percentile, as SVG.

    Parameters
    ----------
    result:
        An :class:`~sem_kit.pipeline.AnalysisResult`.
    lang:
        Language of the axis titles and legend.
    id_prefix:
        Prefix of element ids (unused ids are harmless; kept for symmetry with the diagram).
    """
    pa = result.measurement.parallel
    k = min(len(pa.observed), SCREE_COMPONENTS)
    obs = [float(v) for v in pa.observed.iloc[:k]]
    rnd = [float(v) for v in pa.threshold.iloc[:k]]
    w, h = 640.0, 330.0
    left, right, top, bottom = 56.0, 16.0, 16.0, 72.0
    pw, ph = w - left - right, h - top - bottom
    ymax = max(obs + rnd) * 1.08
    ticks = _ticks(ymax)
    ymax = max(ymax, ticks[-1])

    def sx(i: int) -> float:
        return left + (i + 0.5) * pw / k

    def sy(v: float) -> float:
        return top + ph - v / ymax * ph

    q = pa.quantile * 100
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
           f'width="{w:.0f}" height="{h:.0f}" role="img" font-family="{escape(FONT)}" '
           f'aria-label="{escape(lang.t("title.scree"))}" id="{id_prefix}">',
           f'<rect width="{w:.0f}" height="{h:.0f}" fill="#ffffff"/>']
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#e3e7ec" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                   f'fill="#444">{t:g}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#333"/>')
    out.append(f'<line x1="{left}" x2="{w - right}" y1="{top + ph}" y2="{top + ph}" '
               'stroke="#333"/>')
    for i in range(k):
        out.append(f'<text x="{sx(i):.1f}" y="{top + ph + 16:.1f}" font-size="11" '
                   f'text-anchor="middle" fill="#444">{i + 1}</text>')
    if 0 < pa.n_components <= k:
        xm = (sx(pa.n_components - 1) + sx(pa.n_components)) / 2 if pa.n_components < k \
            else sx(k - 1)
        out.append(f'<line x1="{xm:.1f}" x2="{xm:.1f}" y1="{top}" y2="{top + ph}" '
                   'stroke="#b8860b" stroke-dasharray="2 3"/>')
        out.append(f'<text x="{xm + 4:.1f}" y="{top + 12:.1f}" font-size="11" fill="#8a6206">'
                   f'{escape(lang.t("plot.retained", k=pa.n_components))}</text>')

    def line(values: list[float], colour: str, dash: str, marker: str) -> None:
        pts = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(values))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"'
                   f'{dash}/>')
        for i, v in enumerate(values):
            if marker == "circle":
                out.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="3.2" fill="{colour}"/>')
            else:
                out.append(f'<rect x="{sx(i) - 2.8:.1f}" y="{sy(v) - 2.8:.1f}" width="5.6" '
                           f'height="5.6" fill="#ffffff" stroke="{colour}" stroke-width="1.4"/>')

    line(rnd, "#8a94a3", ' stroke-dasharray="6 4"', "square")
    line(obs, "#1f5f99", "", "circle")
    out.append(f'<text x="{left + pw / 2:.1f}" y="{h - 40:.1f}" font-size="12" '
               f'text-anchor="middle" fill="#222">{escape(lang.t("plot.component"))}</text>')
    out.append(f'<text x="14" y="{top + ph / 2:.1f}" font-size="12" text-anchor="middle" '
               f'fill="#222" transform="rotate(-90 14 {top + ph / 2:.1f})">'
               f'{escape(lang.t("plot.eigenvalue"))}</text>')
    ly = h - 16
    lx = left
    out.append(f'<line x1="{lx}" x2="{lx + 26}" y1="{ly - 4}" y2="{ly - 4}" stroke="#1f5f99" '
               'stroke-width="2"/>')
    out.append(f'<text x="{lx + 32}" y="{ly}" font-size="11.5" fill="#222">'
               f'{escape(lang.t("plot.observed"))}</text>')
    lx += 150
    out.append(f'<line x1="{lx}" x2="{lx + 26}" y1="{ly - 4}" y2="{ly - 4}" stroke="#8a94a3" '
               'stroke-width="2" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{lx + 32}" y="{ly}" font-size="11.5" fill="#222">'
               f'{escape(lang.t("plot.random", q=q))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
