"""Check results.json against sem_kit/schemas/results.schema.json before it is written.

A small validator for the JSON Schema keywords that schema uses (``type``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``enum``,
``pattern``, ``minimum``, ``$ref`` to ``#/$defs/...``), so that writing a
report needs no extra dependency; the tests hold it to ``jsonschema``'s
verdicts on the same documents.
"""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


class SchemaError(ValueError):
    """results.json does not match its schema; the message names the key path."""


def results_schema() -> dict[str, Any]:
    """The JSON Schema of results.json (package data of :mod:`sem_kit.schemas`)."""
    text = resources.files("sem_kit.schemas").joinpath("results.schema.json").read_text(
        encoding="utf-8")
    return json.loads(text)


def errors(doc: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
           path: str = "$") -> list[str]:
    """Every way ``doc`` breaks ``schema``, as ``key.path: what is wrong`` lines."""
    root = root if root is not None else schema
    out: list[str] = []
    if "$ref" in schema:
        out += errors(doc, _resolve(schema["$ref"], root), root, path)
    if isinstance(doc, float) and not math.isfinite(doc):
        out.append(f"{path}: {doc} is not a JSON number")
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_TYPES[k](doc) for k in kinds):
            out.append(f"{path}: expected {' or '.join(kinds)}, found {type(doc).__name__} "
                       f"{json.dumps(doc, default=str)[:60]}")
            return out
    out += _value_errors(doc, schema, path)
    if isinstance(doc, dict):
        out += _object_errors(doc, schema, root, path)
    if isinstance(doc, list) and isinstance(schema.get("items"), dict):
        for i, value in enumerate(doc):
            out += errors(value, schema["items"], root, f"{path}[{i}]")
    return out


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    """The schema a local ``$ref`` (``#/definitions/...``) points at."""
    if not ref.startswith("#/"):
        raise SchemaError(f"unsupported $ref {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return target


def _value_errors(doc: Any, schema: dict[str, Any], path: str) -> list[str]:
    """``enum``, ``pattern`` and ``minimum``."""
    out: list[str] = []
    if "enum" in schema and doc not in schema["enum"]:
        out.append(f"{path}: expected one of {schema['enum']}, found {doc!r}")
    if "pattern" in schema and isinstance(doc, str) and not re.search(schema["pattern"], doc):
        out.append(f"{path}: {doc!r} does not match {schema['pattern']}")
    if "minimum" in schema and isinstance(doc, (int, float)) and not isinstance(doc, bool) \
            and doc < schema["minimum"]:
        out.append(f"{path}: {doc} is below the minimum {schema['minimum']}")
    return out


def _object_errors(doc: dict[str, Any], schema: dict[str, Any], root: dict[str, Any],
                   path: str) -> list[str]:
    """``required``, ``properties`` and ``additionalProperties`` of an object."""
    out = [f"{path}: missing required key {key!r}"
           for key in schema.get("required", []) if key not in doc]
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in doc.items():
        if key in props:
            out += errors(value, props[key], root, f"{path}.{key}")
        elif extra is False:
            out.append(f"{path}: unexpected key {key!r}")
        elif isinstance(extra, dict):
            out += errors(value, extra, root, f"{path}.{key}")
    return out


def validate_results(doc: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` naming every problem if ``doc`` is not valid results.json."""
    problems = errors(doc, results_schema())
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise SchemaError(f"results.json does not match results.schema.json: {shown}{more}")
