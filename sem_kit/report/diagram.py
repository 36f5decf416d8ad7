"""The structural model as an SVG path diagram, laid out left to right.

Constructs are ellipses (latent variables, as in AMOS and lavaan's
semPlot); each hypothesis is an arrow labelled with its id, standardised
coefficient and significance stars, solid when supported and dashed when
not; endogenous constructs show their R².

Layout (a small Sugiyama layout): each construct's layer is the length of
the longest hypothesis chain that reaches it from an exogenous construct;
arrows that skip layers pass through pass-through slots in the layers between,
so they never cut through an ellipse; the order within each layer comes from
barycentre sweeps that keep the ordering with the fewest crossings; and
vertical positions pull each construct towards its neighbours (isotonic
regression keeps the order and the spacing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from typing import Any

import numpy as np

from sem_kit.report import fmt
from sem_kit.report.i18n import Lang

FONT = ("system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', "
        "'Source Han Sans SC', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', "
        "'WenQuanYi Micro Hei', Arial, sans-serif")
RX, RY = 88.0, 40.0  # ellipse semi-axes
LAYER_GAP = 300.0  # horizontal distance between layer centres
NODE_SLOT = 2 * RY + 26.0  # vertical room of a construct
DUMMY_SLOT = 34.0  # vertical room of an arrow passing through a layer
MARGIN = 24.0


@dataclass(frozen=True)
class Edge:
    """One hypothesised path to draw."""

    source: str
    target: str
    label: str
    supported: bool
    opposite: bool = False


@dataclass
class Layout:
    """Positions of constructs and the polyline of every edge."""

    pos: dict[str, tuple[float, float]]
    routes: list[list[tuple[float, float]]]
    width: float
    height: float
    layer: dict[str, int] = field(default_factory=dict)


def layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering from the exogenous constructs (layer 0).

    Raises ``ValueError`` if the graph has a cycle (the questionnaire loader
    refuses those already).
    """
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
    layer: dict[str, int] = {}

    def visit(n: str, stack: tuple[str, ...]) -> int:
        if n in layer:
            return layer[n]
        if n in stack:
            raise ValueError(f"the hypotheses form a cycle through {n}")
        layer[n] = 0 if not preds[n] else 1 + max(visit(p, stack + (n,)) for p in preds[n])
        return layer[n]

    for n in nodes:
        visit(n, ())
    return layer


def _crossings(order: list[list[str]], links: list[tuple[str, str]]) -> int:
    pos = {n: i for lay in order for i, n in enumerate(lay)}
    by_layer: dict[int, list[tuple[int, int]]] = {}
    where = {n: k for k, lay in enumerate(order) for n in lay}
    for a, b in links:
        by_layer.setdefault(where[a], []).append((pos[a], pos[b]))
    total = 0
    for segs in by_layer.values():
        for i, (a1, b1) in enumerate(segs):
            for a2, b2 in segs[i + 1:]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def _isotonic(values: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing sequence closest to ``values``."""
    blocks: list[list[float]] = []  # [sum, count]
    for v in values:
        blocks.append([float(v), 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    out: list[float] = []
    for s, c in blocks:
        out += [s / c] * int(c)
    return np.array(out)


def _target(n: str, y: dict[str, float], nbrs: dict[str, list[str]],
            preds: dict[str, list[str]], succs: dict[str, list[str]], is_dummy: bool) -> float:
    """Where ``n`` would like to sit: between its two ends for a pass-through slot (so long
    arrows run straight), else level with the mean of its neighbours towards the anchor."""
    if is_dummy:
        ends = [y[p] for p in preds.get(n, []) + succs.get(n, [])]
        return float(np.mean(ends))
    near = nbrs.get(n, [])
    return float(np.mean([y[p] for p in near])) if near else y[n]


@dataclass
class _Graph:
    """The layered graph: constructs plus one pass-through slot per layer an edge spans."""

    order: list[list[str]]
    chains: list[list[str]]
    links: list[tuple[str, str]]
    dummy: set[str]
    preds: dict[str, list[str]]
    succs: dict[str, list[str]]

    def slot(self, n: str) -> float:
        return DUMMY_SLOT if n in self.dummy else NODE_SLOT

    def offsets(self, lay: list[str]) -> np.ndarray:
        """Each entry's distance from the first of its layer, slots stacked."""
        out, acc = [], 0.0
        for i, n in enumerate(lay):
            if i:
                acc += (self.slot(lay[i - 1]) + self.slot(n)) / 2
            out.append(acc)
        return np.array(out)


def _layered(nodes: Sequence[str], edges: Sequence[tuple[str, str]],
             layer: dict[str, int]) -> _Graph:
    """Every edge as a chain through one pass-through slot per layer it spans."""
    depth = max(layer.values(), default=0)
    order: list[list[str]] = [[n for n in nodes if layer[n] == k] for k in range(depth + 1)]
    chains: list[list[str]] = []
    links: list[tuple[str, str]] = []
    dummy: set[str] = set()
    for idx, (a, b) in enumerate(edges):
        chain = [a]
        for k in range(layer[a] + 1, layer[b]):
            d = f"\x00{idx}:{k}"
            dummy.add(d)
            order[k].append(d)
            chain.append(d)
        chain.append(b)
        chains.append(chain)
        links += list(pairwise(chain))
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in links:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)
    return _Graph(order, chains, links, dummy, preds, succs)


def _fewest_crossings(g: _Graph) -> list[list[str]]:
    """The layer orders of 8 alternating barycentre sweeps with the fewest crossings."""
    def sweep(current: list[list[str]], down: bool) -> list[list[str]]:
        new = [list(lay) for lay in current]
        rng = range(1, len(new)) if down else range(len(new) - 2, -1, -1)
        for k in rng:
            ref = {n: i for i, n in enumerate(new[k - 1 if down else k + 1])}
            nbrs = g.preds if down else g.succs

            def key(n: str, i: int, ref=ref, nbrs=nbrs) -> tuple[float, int]:
                ps = [ref[p] for p in nbrs.get(n, []) if p in ref]
                return (float(np.mean(ps)) if ps else float(i), i)

            new[k] = [n for _, n in sorted((key(n, i), n) for i, n in enumerate(new[k]))]
        return new

    best, best_cross = g.order, _crossings(g.order, g.links)
    current = g.order
    for it in range(8):
        current = sweep(current, down=it % 2 == 0)
        cross = _crossings(current, g.links)
        if cross < best_cross:
            best, best_cross = current, cross
    return best


def _heights(g: _Graph) -> dict[str, float]:
    """Vertical centres: layers centred on the tallest, then each entry pulled towards its
    neighbours in the layer nearer the tallest (6 rounds, order kept)."""
    order = g.order
    heights = [float(g.offsets(lay)[-1]) if lay else 0.0 for lay in order]
    tallest = max(heights, default=0.0)
    y: dict[str, float] = {}
    for lay, h in zip(order, heights, strict=True):
        for n, o in zip(lay, g.offsets(lay), strict=True):
            y[n] = o + (tallest - h) / 2
    anchor = int(np.argmax(heights)) if heights else 0
    for _ in range(6):
        for k in list(range(anchor + 1, len(order))) + list(range(anchor - 1, -1, -1)):
            lay = order[k]
            nbrs = g.preds if k > anchor else g.succs
            off = g.offsets(lay)
            want = np.array([_target(n, y, nbrs, g.preds, g.succs, n in g.dummy) for n in lay])
            placed = _isotonic(want - off) + off
            for n, v in zip(lay, placed, strict=True):
                y[n] = float(v)
    return y


def layout(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> Layout:
    """Place ``nodes`` (in their given order as a start) and route ``edges`` left to right.

    Returns
    -------
    Layout
        Centre of each construct, and for each edge (in order) the points from
        its source's centre through its pass-through slots to its target's centre.
    """
    layer = layers(nodes, edges)
    depth = max(layer.values(), default=0)
    g = _layered(nodes, edges, layer)
    g.order = _fewest_crossings(g)
    y = _heights(g)
    top = min(y[n] - g.slot(n) / 2 for n in y) if y else 0.0
    bottom = max(y[n] + g.slot(n) / 2 for n in y) if y else 0.0
    x = {n: MARGIN + RX + k * LAYER_GAP for k, lay in enumerate(g.order) for n in lay}
    pos = {n: (x[n], y[n] - top + MARGIN) for n in y}
    routes = [[pos[n] for n in chain] for chain in g.chains]
    width = 2 * MARGIN + 2 * RX + depth * LAYER_GAP
    height = bottom - top + 2 * MARGIN
    return Layout(pos={n: p for n, p in pos.items() if n not in g.dummy}, routes=routes,
                  width=width, height=height, layer=layer)


def _clip(outside: tuple[float, float], aim: tuple[float, float],
          centre: tuple[float, float], pad: float = 0.0) -> tuple[float, float]:
    """Where the segment from ``outside`` to ``aim`` (inside the ellipse) crosses its border."""
    a, b = RX + pad, RY + pad

    def inside(pt: tuple[float, float]) -> bool:
        return ((pt[0] - centre[0]) / a) ** 2 + ((pt[1] - centre[1]) / b) ** 2 <= 1

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        pt = (outside[0] + mid * (aim[0] - outside[0]), outside[1] + mid * (aim[1] - outside[1]))
        lo, hi = (lo, mid) if inside(pt) else (mid, hi)
    return (outside[0] + hi * (aim[0] - outside[0]), outside[1] + hi * (aim[1] - outside[1]))


def _spread(routes: list[list[tuple[float, float]]], index: int,
            neighbour: int) -> dict[int, tuple[float, float]]:
    """Aim points that fan the arrows meeting at one ellipse out over its side.

    ``index`` is 0 (the source end) or -1 (the target end); ``neighbour`` the
    route point next to it. Arrows at the same ellipse get aims spread
    vertically in the order of their neighbouring points, so their ends do not
    pile up on one spot.
    """
    groups: dict[tuple[float, float], list[int]] = {}
    for i, r in enumerate(routes):
        groups.setdefault(r[index], []).append(i)
    aims: dict[int, tuple[float, float]] = {}
    for (cx, cy), members in groups.items():
        members.sort(key=lambda i: routes[i][neighbour][1])
        k = len(members)
        for rank, i in enumerate(members):
            off = 0.0 if k == 1 else (-0.6 + 1.2 * rank / (k - 1)) * RY
            aims[i] = (cx, cy + off)
    return aims


def _smooth(points: list[tuple[float, float]]) -> str:
    """SVG path through ``points``: a line for two, a Catmull-Rom spline (as Béziers) for more."""
    d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    if len(points) == 2:
        return d + f" L{points[1][0]:.1f},{points[1][1]:.1f}"
    pts = [points[0], *points, points[-1]]
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        d += (f" C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} "
              f"{p2[0]:.1f},{p2[1]:.1f}")
    return d


def text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK characters and arrows are one em, others about 0.56 em."""
    return sum(size if ord(ch) > 0x2E80 or 0x2190 <= ord(ch) <= 0x21FF else 0.56 * size
               for ch in text)


def wrap(text: str, size: float, width: float, max_lines: int = 2) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines of at most ``width`` pixels."""
    words = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    lines: list[str] = []
    cur = ""
    for w in words:
        cand = f"{cur}{joiner}{w}" if cur else w
        if text_width(cand, size) <= width or not cur:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def edges_of(result: Any) -> list[Edge]:
    """The hypothesised paths of ``result`` with their diagram labels (``H1  0.29***``)."""
    s = result.structural
    out = []
    for _, r in s.paths.iterrows():
        std = r.get("std")
        text = f"{r['hypothesis']}  {fmt.number(std, 2)}{fmt.stars(r.get('pvalue'))}"
        verdict = r.get("verdict")
        out.append(Edge(str(r["from"]), str(r["to"]), text, bool(r.get("supported")),
                        opposite=verdict == "significant, opposite sign"))
    return out


def path_diagram_svg(result: Any, lang: Lang, id_prefix: str = "pd") -> str | None:
    """The structural model as a standalone SVG document (``None`` without hypotheses).

    Parameters
    ----------
    result:
        An :class:`~sem_kit.pipeline.AnalysisResult` with a structural model.
    lang:
        Language of construct names.
    id_prefix:
        Prefix of the SVG's element ids, so several SVGs can share one HTML page.
    """
    s = result.structural
    if s is None or s.paths is None or len(s.paths) == 0:
        return None
    edges = edges_of(result)
    q = result.questionnaire
    in_model = {e.source for e in edges} | {e.target for e in edges}
    nodes = [c for c in q.constructs if c in in_model]
    nodes += sorted(in_model - set(nodes))
    lay = layout(nodes, [(e.source, e.target) for e in edges])
    r2 = s.r2
    w, h = lay.width, lay.height + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'width="{w:.0f}" height="{h:.0f}" role="img" font-family="{escape(FONT)}" '
        f'aria-label="{escape(lang.t("title.path_diagram"))}">',
        "<defs>",
    ]
    for kind, colour in (("ok", "#1f3b57"), ("no", "#8a94a3"), ("opp", "#b03a2e")):
        parts.append(
            f'<marker id="{id_prefix}-arrow-{kind}" viewBox="0 0 10 10" refX="9.5" refY="5" '
            f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    parts.append("</defs>")
    parts.append(f'<rect width="{w:.0f}" height="{h:.0f}" fill="#ffffff"/>')
    labels = []
    start_aim = _spread(lay.routes, 0, 1)
    end_aim = _spread(lay.routes, -1, -2)
    for i, (e, route) in enumerate(zip(edges, lay.routes, strict=True)):
        pts = list(route)
        pts[0] = start_aim[i]
        pts[-1] = end_aim[i]
        pts[0] = _clip(pts[1], start_aim[i], route[0])
        pts[-1] = _clip(pts[-2], end_aim[i], route[-1], pad=2.0)
        kind = "opp" if e.opposite else "ok" if e.supported else "no"
        colour = {"ok": "#1f3b57", "no": "#8a94a3", "opp": "#b03a2e"}[kind]
        dash = "" if e.supported else ' stroke-dasharray="6 4"'
        parts.append(f'<path d="{_smooth(pts)}" fill="none" stroke="{colour}" '
                     f'stroke-width="{1.8 if e.supported else 1.3}"{dash} '
                     f'marker-end="url(#{id_prefix}-arrow-{kind})"/>')
        if len(route) > 2:
            lx, ly = route[len(route) // 2]
            if len(route) % 2 == 0:
                a, b = route[len(route) // 2 - 1], route[len(route) // 2]
                lx, ly = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        else:
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            lx, ly = x0 + 0.42 * (x1 - x0), y0 + 0.42 * (y1 - y0)
        labels.append((lx, ly, e.label, colour))
    for cid, (cx, cy) in lay.pos.items():
        endo = cid in r2 or lay.layer.get(cid, 0) > 0
        parts.append(f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{RX:.0f}" ry="{RY:.0f}" '
                     f'fill="{"#eef3f9" if endo else "#ffffff"}" stroke="#1f3b57" '
                     'stroke-width="1.4"/>')
        lines = [(cid, 13.0, "700")]
        size = 11.5 if lang.zh else 10.5
        lines += [(t, size, "400") for t in wrap(lang.construct(cid), size, 2 * RX - 30)]
        if cid in r2:
            lines.append((f"R² = {fmt.number(r2[cid], 2)}", 10.5, "600"))
        total = sum(sz * 1.2 for _, sz, _ in lines)
        ty = cy - total / 2
        for text, size, weight in lines:
            ty += size * 1.2
            parts.append(f'<text x="{cx:.1f}" y="{ty - size * 0.25:.1f}" font-size="{size}" '
                         f'font-weight="{weight}" text-anchor="middle" fill="#14202e">'
                         f'{escape(text)}</text>')
    for lx, ly, text, colour in labels:
        tw = text_width(text, 11) + 10
        parts.append(f'<rect x="{lx - tw / 2:.1f}" y="{ly - 9:.1f}" width="{tw:.1f}" height="17" '
                     'rx="3" fill="#ffffff" fill-opacity="0.92"/>')
        parts.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="11" text-anchor="middle" '
                     f'fill="{colour}" font-weight="600">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
