"""Load a questionnaire YAML file, check it whole, and find the built-in ones.

Every problem is a :class:`~sem_kit.errors.QuestionnaireError` whose message
names the file and the key path, e.g.
``constructs.WIL.items: expected at least 1 item, found 0``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sem_kit.errors import QuestionnaireError
from sem_kit.questionnaire.model import Questionnaire
from sem_kit.questionnaire.schema import ID_PATTERN, QuestionnaireModel

BUILTIN_PACKAGE = "sem_kit.builtin_questionnaires"
DEFAULT_QUESTIONNAIRE = "customer-knowledge-sharing"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, yaml.Mark] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {seen[key].line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def builtin_names() -> list[str]:
    """Names of the questionnaires shipped with sem_kit, sorted."""
    root = resources.files(BUILTIN_PACKAGE)
    return sorted(
        p.name[: -len(".yaml")].replace("_", "-")
        for p in root.iterdir()
        if p.name.endswith(".yaml")
    )


def builtin_text(name: str) -> str:
    """The YAML source of the built-in questionnaire ``name``."""
    if name not in builtin_names():
        raise QuestionnaireError(
            f"no built-in questionnaire named {name!r}; built-in: {', '.join(builtin_names())}"
        )
    return (
        resources.files(BUILTIN_PACKAGE)
        .joinpath(name.replace("-", "_") + ".yaml")
        .read_text(encoding="utf-8")
    )


def load_questionnaire(source: str | Path | None = None) -> Questionnaire:
    """Load and check a questionnaire.

    Parameters
    ----------
    source:
        A path to a YAML file, or the name of a built-in questionnaire
        (``sem-kit questionnaire list``). ``None`` gives the default,
        ``customer-knowledge-sharing``.

    Returns
    -------
    Questionnaire
        The checked questionnaire; ``warnings`` lists what is allowed but weak
        (a construct with fewer than 3 items; a single item is taken as free of
        measurement error). A file with ``extends: BASE``
        is merged with its base first (see :func:`parse_questionnaire`); its
        ``origin`` is the extending file.

    Raises
    ------
    QuestionnaireError
        The file is missing, not YAML, or breaks the format; the message names
        the file and key path (and, for a key taken from a base, that base).
    """
    if source is None:
        source = DEFAULT_QUESTIONNAIRE
    text, src = _locate(source, None, str(Path(source)))
    return _parse(text, src)


def parse_questionnaire(text: str, origin: str = "<string>") -> Questionnaire:
    """Parse and check questionnaire YAML given as text; ``origin`` names it in errors.

    ``extends: NAME-or-PATH`` takes every top-level key of another questionnaire
    (a built-in name, or a path relative to the folder of ``origin`` when it is
    a file, else to the working folder), then this text's own keys replace
    the base's whole (``screening:`` given here replaces the base's
    ``screening:``; it is not merged key by key). Bases may extend others; a
    cycle or a missing base is an error, and the merged result is checked
    whole. ``name:`` may be left out: it is then the base's.
    """
    path = Path(origin)
    if path.is_file():
        return _parse(text, _Source(origin, f"file:{path.resolve()}", path.parent))
    return _parse(text, _Source(origin, f"text:{origin}", Path.cwd()))


@dataclass(frozen=True)
class _Source:
    """One file of an ``extends`` chain."""

    label: str  # as shown in messages: the path as given, or <built-in NAME>
    key: str  # identity, to find a cycle: the resolved path, or builtin:NAME
    directory: Path | None  # where a relative ``extends`` path starts; None for a built-in


def _builtin_source(name: str) -> _Source:
    return _Source(f"<built-in {name}>", f"builtin:{name}", None)


def _locate(ref: str | Path, directory: Path | None, label: str) -> tuple[str, _Source]:
    """The text of the questionnaire ``ref`` names: a path (from ``directory``), else a
    built-in name. Raises a :class:`QuestionnaireError` naming ``label`` when neither."""
    path = Path(ref)
    if directory is not None and not path.is_absolute():
        path = directory / path
    if isinstance(ref, str) and not path.exists() and ref in builtin_names():
        return builtin_text(ref), _builtin_source(ref)
    if not path.exists():
        hint = f"; built-in questionnaires: {', '.join(builtin_names())}"
        raise QuestionnaireError(f"no such file or built-in questionnaire{hint}", file=label)
    if path.is_dir():
        raise QuestionnaireError("is a directory, expected a questionnaire YAML file", file=label)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(
            f"is not UTF-8 text (byte {exc.start}); save the questionnaire as UTF-8", file=label
        ) from None
    return text, _Source(label, f"file:{path.resolve()}", path.parent)


def _parse(text: str, src: _Source) -> Questionnaire:
    data = _load_mapping(text, src.label)
    data, came_from = _resolve_extends(data, [src])
    notes = {key: _taken_from(chain) for key, chain in came_from.items() if len(chain) > 1}
    return _validate(data, src.label, notes)


def _load_mapping(text: str, label: str) -> dict[str, Any]:
    """The YAML text as a mapping; errors name ``label``."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or str(exc)
        raise QuestionnaireError(f"YAML syntax error at {where}{what}", file=label) from None
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"YAML syntax error: {exc}", file=label) from None
    if not isinstance(data, dict):
        raise QuestionnaireError(
            "expected a mapping with keys format, name, constructs, ...; "
            f"found {type(data).__name__}",
            file=label,
        )
    return data


def _chain_label(chain: list[_Source]) -> str:
    """``c.yaml (extended by b.yaml, extended by a.yaml)`` for the last file of a chain."""
    if len(chain) == 1:
        return chain[0].label
    return f"{chain[-1].label} (extended by " + ", extended by ".join(
        s.label for s in reversed(chain[:-1])) + ")"


def _taken_from(chain: list[_Source]) -> str:
    """``from c.yaml, which b.yaml extends, which a.yaml extends``."""
    return f"from {chain[-1].label}" + "".join(
        f", which {s.label} extends" for s in reversed(chain[:-1]))


def _resolve_extends(
    data: dict[str, Any], chain: list[_Source]
) -> tuple[dict[str, Any], dict[str, list[_Source]]]:
    """Merge ``data`` (the last file of ``chain``) over its bases.

    Returns the merged mapping and, for each top-level key, the chain of files
    down to the one that gave it.
    """
    own = {k: v for k, v in data.items() if k != "extends"}
    came_from = {str(k): chain for k in own}
    if "extends" not in data:
        return own, came_from
    here, ref = chain[-1], data["extends"]
    label = _chain_label(chain)
    if not isinstance(ref, str) or not ref.strip():
        raise QuestionnaireError(
            "extends: expected the name of a built-in questionnaire or the path of a YAML "
            f"file (relative to this file's folder), found {ref!r}", file=label)
    ref = ref.strip()
    text, base = _locate_base(ref, here.directory, label)
    seen = [s.key for s in chain]
    if base.key in seen:
        cycle = " -> ".join(s.label for s in chain[seen.index(base.key):]) + f" -> {base.label}"
        raise QuestionnaireError(f"extends: the files extend each other in a cycle: {cycle}",
                                 file=label)
    longer = [*chain, base]
    base_data, base_from = _resolve_extends(_load_mapping(text, _chain_label(longer)), longer)
    return {**base_data, **own}, {**base_from, **came_from}


def _locate_base(ref: str, directory: Path | None, label: str) -> tuple[str, _Source]:
    """The base that ``extends: ref`` names, from a file in ``directory`` (``None``: a
    built-in, which extends built-ins only); errors name ``label``, the extending file."""
    builtin = ref in builtin_names()
    if directory is None or (builtin and not (directory / ref).exists()):
        if not builtin:
            raise QuestionnaireError(f"extends: no built-in questionnaire named {ref!r}; "
                                     f"built-in: {', '.join(builtin_names())}", file=label)
        return builtin_text(ref), _builtin_source(ref)
    target = directory / ref
    if not target.exists():
        raise QuestionnaireError(
            f"extends: {ref!r} is neither a file (looked for {target}) nor a built-in "
            f"questionnaire ({', '.join(builtin_names())})", file=label)
    try:
        return _locate(target, None, str(target))
    except QuestionnaireError as exc:
        raise QuestionnaireError(f"extends: {ref!r}: {exc.message}", file=label) from None


def _validate(data: dict[str, Any], origin: str, notes: dict[str, str]) -> Questionnaire:
    """Check the whole (merged) mapping; ``notes`` says which base gave a top-level key."""
    try:
        model = QuestionnaireModel.model_validate(data)
    except ValidationError as exc:
        raise QuestionnaireError(_describe(exc, notes), file=origin) from None
    try:
        warnings = _check(model, origin)
    except QuestionnaireError as exc:
        if not notes:
            raise
        raise QuestionnaireError(_noted(exc.message, notes), file=origin) from None
    return Questionnaire(model=model, origin=origin, warnings=tuple(warnings))


def _noted(line: str, notes: dict[str, str]) -> str:
    """``constructs.A.items: ...`` plus where ``constructs`` came from, when from a base."""
    top = re.split(r"[.\[:]", line, maxsplit=1)[0].strip()
    return f"{line} (`{top}` is taken {notes[top]})" if top in notes else line


def _describe(exc: ValidationError, notes: dict[str, str] | None = None) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling against the questionnaire format)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(_noted(f"{loc or '(top level)'}: {msg}", notes or {}))
    return "; ".join(dict.fromkeys(lines))


def _fail(origin: str, key: str, message: str) -> QuestionnaireError:
    return QuestionnaireError(f"{key}: {message}", file=origin)


def _check(m: QuestionnaireModel, origin: str) -> list[str]:
    """Checks that span several fields; returns warnings, raises on errors."""
    warnings: list[str] = []
    if not m.constructs:
        raise _fail(origin, "constructs", "expected at least one construct")
    item_owner = _check_constructs(m, origin, warnings)
    dimension_owner = _check_dimensions(m, origin)
    for did in m.demographics:
        if did in item_owner or did in m.constructs:
            raise _fail(origin, f"demographics.{did}", f"id {did} is also an item or construct id")

    seen_paths = _check_hypotheses(m, origin, dimension_owner)
    _check_chains(m, origin, seen_paths)
    _check_covariances(m, origin, item_owner)
    _check_columns(m, origin, item_owner)
    _check_population(m, origin, item_owner, dimension_owner, seen_paths)
    return warnings


def _check_constructs(m: QuestionnaireModel, origin: str, warnings: list[str]) -> dict[str, str]:
    """Construct and item ids, items xor dimensions, item counts; returns item -> construct."""
    item_owner: dict[str, str] = {}
    for cid, c in m.constructs.items():
        key = f"constructs.{cid}"
        if not ID_PATTERN.match(cid):
            raise _fail(
                origin, key, "expected an id of letters, digits, _ or ., starting with a letter"
            )
        if c.items and c.dimensions:
            raise _fail(origin, key, "has both items and dimensions; give one or the other")
        if not c.items and not c.dimensions:
            if "items" in c.model_fields_set:
                raise _fail(
                    origin,
                    f"{key}.items",
                    "expected at least 1 item, found 0; a construct is measured by its items "
                    "(one item is allowed: a single-item construct, taken as free of "
                    "measurement error) or is second-order over a list of dimensions",
                )
            raise _fail(
                origin,
                key,
                "has neither items nor dimensions; expected at least 1 item"
                " or a list of dimensions (a second-order construct)",
            )
        if len(c.items) == 1:
            warnings.append(
                f"construct {cid} has a single item ({next(iter(c.items))}): under cb its "
                "loading is fixed at 1 and its residual variance at 0 (lavaan's "
                "auto.fix.single, no measurement error); its alpha, CR and AVE are undefined"
            )
        elif len(c.items) == 2:
            warnings.append(
                f"construct {cid} has only 2 items; 3 or more identify it on its own"
            )
        for iid, item in c.items.items():
            ikey = f"{key}.items.{iid}"
            if not ID_PATTERN.match(str(iid)):
                raise _fail(
                    origin,
                    ikey,
                    "expected an id of letters, digits, _ or ., starting with a letter",
                )
            if iid in item_owner:
                raise _fail(
                    origin, ikey, f"item {iid} is already an item of construct {item_owner[iid]}"
                )
            if iid in m.constructs:
                raise _fail(origin, ikey, f"id {iid} is also a construct id; ids must be unique")
            item_owner[iid] = cid
            if item.scale is None and m.scale is None and item.reverse:
                raise _fail(
                    origin, ikey, "reverse: true needs a scale (top-level or the item's own)"
                )
    return item_owner


def _check_dimensions(m: QuestionnaireModel, origin: str) -> dict[str, str]:
    """Second-order constructs: known, first-order, unshared dimensions; dimension -> owner."""
    dimension_owner: dict[str, str] = {}
    for cid, c in m.constructs.items():
        for i, dim in enumerate(c.dimensions):
            dkey = f"constructs.{cid}.dimensions[{i}]"
            if dim not in m.constructs:
                raise _fail(
                    origin,
                    dkey,
                    f"unknown construct {dim!r}; constructs: {', '.join(m.constructs)}",
                )
            if m.constructs[dim].dimensions:
                raise _fail(
                    origin, dkey, f"{dim} is itself second-order; only two levels are supported"
                )
            if dim in dimension_owner:
                raise _fail(origin, dkey, f"{dim} is already a dimension of {dimension_owner[dim]}")
            dimension_owner[dim] = cid
        if c.dimensions and len(c.dimensions) < 2:
            raise _fail(origin, f"constructs.{cid}.dimensions", "expected at least 2 dimensions")
    return dimension_owner


def _check_hypotheses(m: QuestionnaireModel, origin: str,
                      dimension_owner: dict[str, str]) -> dict[tuple[str, str], str]:
    """Hypothesised paths: known ends, no loops, duplicates or cycles; (source, target) -> id."""
    edges: dict[str, list[str]] = {}
    seen_paths: dict[tuple[str, str], str] = {}
    for hid, h in m.hypotheses.items():
        hkey = f"hypotheses.{hid}.path"
        for end in (h.source, h.target):
            if end not in m.constructs:
                raise _fail(
                    origin,
                    hkey,
                    f"unknown construct {end!r}; constructs: {', '.join(m.constructs)}",
                )
        if h.source == h.target:
            raise _fail(origin, hkey, f"a construct cannot cause itself ({h.path})")
        if (h.source, h.target) in seen_paths:
            raise _fail(
                origin,
                hkey,
                f"path {h.path} is already hypothesis {seen_paths[h.source, h.target]}",
            )
        if dimension_owner.get(h.target) or dimension_owner.get(h.source):
            dim = h.source if h.source in dimension_owner else h.target
            raise _fail(
                origin,
                hkey,
                f"{dim} is a dimension of {dimension_owner[dim]}; "
                f"hypothesise paths to or from {dimension_owner[dim]}",
            )
        seen_paths[(h.source, h.target)] = hid
        edges.setdefault(h.source, []).append(h.target)
    cycle = _find_cycle(edges)
    if cycle:
        raise _fail(
            origin,
            "hypotheses",
            "the paths form a cycle " + " -> ".join(cycle) + "; sem_kit fits recursive models only",
        )
    return seen_paths


def _check_chains(m: QuestionnaireModel, origin: str,
                  seen_paths: dict[tuple[str, str], str]) -> None:
    """``indirect:`` chains and ``alternatives:`` drops name hypothesised paths."""
    for i, chain in enumerate(m.indirect):
        parts = [p.strip() for p in chain.split("->")]
        if len(parts) < 3:
            raise _fail(origin, f"indirect[{i}]", f"expected 'X -> M -> Y', found {chain!r}")
        for a, b in zip(parts, parts[1:], strict=False):
            if (a, b) not in seen_paths:
                raise _fail(origin, f"indirect[{i}]", f"{a} -> {b} is not a hypothesised path")
    for name, alt in m.alternatives.items():
        if not ID_PATTERN.match(name):
            raise _fail(origin, f"alternatives.{name}",
                        "expected an id of letters, digits, _ or ., starting with a letter")
        for i, path in enumerate(alt.drop):
            ends = tuple(p.strip() for p in path.split("->"))
            if ends not in seen_paths:
                raise _fail(origin, f"alternatives.{name}.drop[{i}]",
                            f"{path!r} is not a hypothesised path 'A -> B'")


def _check_covariances(m: QuestionnaireModel, origin: str, item_owner: dict[str, str]) -> None:
    """``covariances:`` pairs are two different items or two different constructs."""
    known = set(item_owner) | set(m.constructs)
    for i, (a, b) in enumerate(m.covariances):
        for end in (a, b):
            if end not in known:
                raise _fail(origin, f"covariances[{i}]", f"unknown item or construct {end!r}")
        if (a in item_owner) != (b in item_owner):
            raise _fail(origin, f"covariances[{i}]", "expected two items or two constructs")
        if a == b:
            raise _fail(origin, f"covariances[{i}]", "expected two different ids")


def _check_columns(m: QuestionnaireModel, origin: str, item_owner: dict[str, str]) -> None:
    """``columns:`` keys are item or demographic ids, headers unique and no other id."""
    headers: dict[str, str] = {}
    for key, header in m.columns.items():
        if key not in item_owner and key not in m.demographics:
            raise _fail(origin, f"columns.{key}", "unknown item or demographic id")
        if header in headers:
            raise _fail(
                origin, f"columns.{key}", f"header {header!r} is already given to {headers[header]}"
            )
        headers[header] = key
    for key, header in m.columns.items():
        other = item_owner.get(header) and header != key
        if other or (header in m.demographics and header != key):
            raise _fail(
                origin,
                f"columns.{key}",
                f"header {header!r} is the id of another item or "
                "demographic; pick a header that names no other id",
            )


def _check_population(
    m: QuestionnaireModel,
    origin: str,
    item_owner: dict[str, str],
    dimension_owner: dict[str, str],
    seen_paths: dict[tuple[str, str], str],
) -> None:
    pop = m.population
    for key, value in pop.loadings.items():
        if key not in item_owner and key not in dimension_owner:
            raise _fail(
                origin,
                f"population.loadings.{key}",
                "expected an item id or a dimension of a second-order construct",
            )
        if not -1 < value < 1:
            raise _fail(
                origin,
                f"population.loadings.{key}",
                f"expected a standardised loading between -1 and 1, found {value}",
            )
    for key, value in pop.paths.items():
        if tuple(p.strip() for p in key.split("->")) not in seen_paths:
            raise _fail(origin, f"population.paths.{key}", "not a hypothesised path 'A -> B'")
        if not -1 < value < 1:
            raise _fail(
                origin,
                f"population.paths.{key}",
                f"expected a standardised coefficient between -1 and 1, found {value}",
            )
    targets = {target for _, target in seen_paths}
    for key, value in pop.correlations.items():
        parts = [p.strip() for p in key.split("~~")]
        if len(parts) != 2 or any(p not in m.constructs for p in parts):
            raise _fail(
                origin, f"population.correlations.{key}", "expected 'A ~~ B' with construct ids"
            )
        inner = [p for p in parts if p in targets or p in dimension_owner]
        if inner:
            raise _fail(
                origin,
                f"population.correlations.{key}",
                f"{inner[0]} is not exogenous (it has a cause); only exogenous "
                "constructs get correlations",
            )
        if not -1 < value < 1:
            raise _fail(
                origin,
                f"population.correlations.{key}",
                f"expected a correlation between -1 and 1, found {value}",
            )


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in list(edges):
        if state.get(start) is None:
            found = visit(start)
            if found:
                return found
    return None
