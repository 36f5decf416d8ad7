"""results.json on the sample data stays what it was before the engine redesign (issue #13).

tests/regression/*.json were written by tests/regression/make_before.py before the
redesign; every run here must give the same keys, the same strings and the same
numbers to 1e-6 relative (1e-12 absolute near zero).
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
from references import REGRESSION

_spec = importlib.util.spec_from_file_location("make_before", REGRESSION / "make_before.py")
make_before = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_before)

REL, ABS = 1e-6, 1e-12


ADDED_SINCE = {".meta": {"column_map", "column_match"},
               ".meta.input": {"header_row", "layout", "sheet"}}
"""Keys results.json gained after the stored runs were made (issue 14: where the columns
came from); every other key must be on both sides."""


def differences(before, after, where: str = "") -> list[str]:
    """Every place where ``after`` differs from ``before`` (keys, lengths, strings, numbers)."""
    if isinstance(before, dict) and isinstance(after, dict):
        one_side = (set(before) ^ set(after)) - ADDED_SINCE.get(where, set())
        out = [f"{where}: keys {sorted(one_side)} on one side only"] if one_side else []
        for key in before.keys() & after.keys():
            out += differences(before[key], after[key], f"{where}.{key}")
        return out
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{where}: {len(before)} entries before, {len(after)} after"]
        return [d for i, (b, a) in enumerate(zip(before, after, strict=True))
                for d in differences(b, a, f"{where}[{i}]")]
    numbers = (int, float)
    if (isinstance(before, numbers) and isinstance(after, numbers)
            and not isinstance(before, bool) and not isinstance(after, bool)):
        if math.isnan(before) and math.isnan(after):
            return []
        if math.isclose(before, after, rel_tol=REL, abs_tol=ABS):
            return []
        return [f"{where}: {before!r} before, {after!r} after"]
    return [] if before == after and type(before) is type(after) else \
        [f"{where}: {before!r} before, {after!r} after"]


@pytest.mark.parametrize("name", sorted(make_before.RUNS))
def test_results_json_equals_the_stored_run(name: str, sample_run) -> None:
    """The stored runs were made with ``jobs = 1``; the bootstraps here use both cores, which
    must not change a number (resample b comes from the b-th child of the seed)."""
    before = json.loads((REGRESSION / f"{name}.json").read_text(encoding="utf-8"))
    options = dict(make_before.RUNS[name])
    if options.get("bootstrap") and options.get("estimator") != "WLSMV":
        options["jobs"] = 2
    after = make_before.stored(sample_run(**options))
    found = differences(before, after)
    assert not found, f"{len(found)} difference(s) in {name}:\n" + "\n".join(found[:20])


def test_the_comparison_sees_a_changed_number() -> None:
    before = {"sem": {"paths": [{"est": 0.276, "supported": True}]}}
    assert differences(before, {"sem": {"paths": [{"est": 0.276 * (1 + 2e-6),
                                                   "supported": True}]}})
    assert differences(before, {"sem": {"paths": [{"est": 0.276, "supported": False}]}})
    assert differences(before, {"sem": {"paths": []}})
    assert not differences(before, {"sem": {"paths": [{"est": 0.276 * (1 + 1e-7),
                                                       "supported": True}]}})
