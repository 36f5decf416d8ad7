"""sem_kit.postestimation.modification against lavaan 0.6-14 ``modindices(fit, sort. = TRUE)``.

Every expected number comes from ``tests/reference/lavaan_reference.R``
(``tests/reference/lavaan_*.json``, key ``modindices``); mi, epc, sepc.lv and
sepc.all are held to ±0.001.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from references import reference as stored_reference
from references import reference_table, reference_text

from sem_kit.engine.fit import Fit
from sem_kit.estimators.ml import fit_model
from sem_kit.postestimation.modification import modification_indices

MODELS = ["hs_cfa", "hs_saturated", "hs_mimic", "hs_paths", "hs_second_order", "heywood",
          "pd_sem", "ninefactor_cfa", "ninefactor_sem"]
COLUMNS = {"mi": "mi", "epc": "epc", "sepc.lv": "sepc_lv", "sepc.all": "sepc_all"}


def reference(name: str) -> dict:
    return stored_reference(f"lavaan_{name}")


@cache
def fitted(name: str) -> Fit:
    ref = reference(name)
    data = reference_table(ref["data_file"])
    return fit_model(reference_text(ref["model_file"]), data)


@cache
def ours(name: str) -> pd.DataFrame:
    return modification_indices(fitted(name))


def theirs(name: str) -> pd.DataFrame:
    return pd.DataFrame(reference(name)["modindices"],
                        columns=["lhs", "op", "rhs", *COLUMNS])


@pytest.mark.parametrize("name", MODELS)
def test_same_candidates_as_lavaan(name):
    a = set(zip(ours(name).lhs, ours(name).op, ours(name).rhs, strict=True))
    b = set(zip(theirs(name).lhs, theirs(name).op, theirs(name).rhs, strict=True))
    assert a == b, (sorted(a - b)[:5], sorted(b - a)[:5])


@pytest.mark.parametrize("name", MODELS)
def test_values_match_lavaan(name):
    m = theirs(name).merge(ours(name), on=["lhs", "op", "rhs"], suffixes=("_r", "_py"))
    assert len(m) == len(theirs(name))
    for r_col, py_col in COLUMNS.items():
        r = m[r_col if r_col != py_col else f"{r_col}_r"].to_numpy(dtype=float)
        py = m[py_col if r_col != py_col else f"{py_col}_py"].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(r), np.isnan(py)), r_col
        worst = np.nanmax(np.abs(r - py), initial=0.0)
        assert worst <= 1e-3, (r_col, worst)


@pytest.mark.parametrize("name", MODELS)
def test_sorted_largest_first(name):
    mi = ours(name).mi.to_numpy()
    assert np.all(np.diff(mi) <= 0)
    if len(mi):
        # our largest is lavaan's largest (up to ties within the tolerance)
        ref = theirs(name).set_index(["lhs", "op", "rhs"]).mi
        top = tuple(ours(name).iloc[0][["lhs", "op", "rhs"]])
        assert ref[top] >= ref.max() - 1e-3


def test_minimum_filters():
    full = ours("hs_cfa")
    cut = float(full.mi.median())
    kept = modification_indices(fitted("hs_cfa"), minimum=cut)
    assert len(kept) == int((full.mi > cut).sum())
    assert (kept.mi > cut).all()
