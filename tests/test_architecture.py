"""The layout DESIGN.md "Architecture" asks for, checked on the source.

- no two sem_kit modules import each other, directly or through others, counting
  imports made inside functions (imports under ``if TYPE_CHECKING:`` run never and
  do not count; the result object's lazy ``save()``/``_repr_html_`` into report/
  is the one allowed edge back);
- no module imports another module's underscore name;
- the stages reach the estimators through the one dispatcher.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "sem_kit"
#: edges allowed to close a cycle: (importer, imported)
LAZY_EDGES = {("sem_kit.pipeline", "sem_kit.report")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def imports(name: str) -> list[tuple[str, tuple[str, ...], int]]:
    """(imported module, names taken from it, line) of every runtime import in ``name``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    out = []
    for node in ast.walk(tree):
        if node.lineno in skip if hasattr(node, "lineno") else False:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, (), node.lineno) for a in node.names if a.name.startswith("sem_kit")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("sem_kit"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if sub in MODULES:
                    out.append((sub, (), node.lineno))
                else:
                    out.append((node.module, (a.name,), node.lineno))
    return [(m, names, line) for m, names, line in out if m in MODULES]


def graph() -> dict[str, set[str]]:
    return {name: {m for m, _, _ in imports(name) if m != name
                   and (name, m) not in LAZY_EDGES} for name in MODULES}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_sem_kit_modules() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_another_modules_underscore_name() -> None:
    private = [f"{name}:{line} imports {', '.join(n)} from {mod}"
               for name in MODULES for mod, n, line in imports(name)
               if any(x.startswith("_") and not x.startswith("__") for x in n)]
    assert private == []


def test_the_stages_fit_through_the_one_dispatcher() -> None:
    fitters = {"fit_model", "fit_robust", "fit_fiml", "fit_wlsmv"}
    stages = [n for n in MODULES if n.startswith(("sem_kit.measurement", "sem_kit.structural"))]
    direct = [f"{name}:{line} imports {', '.join(sorted(fitters & set(n)))}"
              for name in stages for _, n, line in imports(name) if fitters & set(n)]
    assert direct == []
