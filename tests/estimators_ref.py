"""Shared access to the stored lavaan references of the estimators (estimators_*.json).

Written by tests/reference/estimators_reference.R. Tolerances (issue 8): estimates and
standardised estimates ±0.001 absolute; standard errors, scaled statistics, scaling
factors and degrees of freedom ±1% relative; p-values and fit indices ±0.001 absolute.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from references import reference as stored_reference
from references import reference_table, reference_text

ABS = 1e-3
REL = 0.01

#: Our FIT / scaled keys whose lavaan name is not the key with "." for "_".
LAVAAN_NAME = {"scaling_factor": "chisq.scaling.factor", "n": "ntotal"}


def reference(name: str) -> dict:
    """The lavaan reference tests/reference/estimators_NAME.json."""
    return stored_reference(f"estimators_{name}")


@cache
def data_of(name: str) -> pd.DataFrame:
    """The data set the reference ``name`` was computed on."""
    return reference_table(reference(name)["data_file"])


def syntax_of(name: str) -> str:
    """The lavaan model syntax of the reference ``name``."""
    return reference_text(reference(name)["model_file"])


def lavaan_fit(name: str, key: str) -> float:
    """``fitMeasures(fit)[key]`` under our key (NaN for NA)."""
    if key == "chisq_df":
        fm = reference(name)["fit"]
        return fm["chisq"] / fm["df"]
    value = reference(name)["fit"][LAVAAN_NAME.get(key, key.replace("_", "."))]
    return np.nan if value is None else float(value)


def row_key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    return (*sorted((lhs, rhs)), op) if op == "~~" else (lhs, rhs, op)


def merged(name: str, params: pd.DataFrame) -> pd.DataFrame:
    """Our parameter table next to lavaan's parameterEstimates (suffixes _py and _r)."""
    ref = pd.DataFrame(reference(name)["estimates"])
    ref = ref[ref.op != ":="].copy()
    ref["rhs"] = ref["rhs"].fillna("")
    ours = params.copy()
    for frame in (ref, ours):
        frame["key"] = [row_key(a, o, b) for a, o, b in zip(frame.lhs, frame.op, frame.rhs,
                                                            strict=True)]
    return ref.merge(ours, on="key", suffixes=("_r", "_py"), how="outer", indicator=True)


def worst_abs(ours, theirs) -> float:
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), (ours, theirs)
    return float(np.nanmax(np.abs(ours - theirs))) if ours.size else 0.0


def worst_rel(ours, theirs) -> float:
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), (ours, theirs)
    return float(np.nanmax(np.abs(ours / theirs - 1.0))) if ours.size else 0.0


def close(ours, theirs, tol: float = ABS) -> None:
    worst = worst_abs(ours, theirs)
    assert worst <= tol, f"max deviation {worst:.2e} > {tol}"


def rel_close(ours, theirs, rel: float = REL) -> None:
    worst = worst_rel(ours, theirs)
    assert worst <= rel, f"max relative deviation {worst:.2e} > {rel}"


def matrix(m: dict) -> pd.DataFrame:
    """A stored ``{rownames, colnames, values}`` matrix as a DataFrame."""
    values = np.array(m["values"], dtype=float)
    names = [m.get(k) if isinstance(m.get(k), list) else None for k in ("rownames", "colnames")]
    return pd.DataFrame(values, index=names[0], columns=names[1])


def vcov_of(name: str) -> np.ndarray:
    """``vcov(fit)`` with one row per free parameter (a shared label appears once)."""
    m = matrix(reference(name)["vcov"])
    keep = ~pd.Index(m.index).duplicated()
    return m.to_numpy()[np.ix_(keep, keep)]


def check_estimates(m: pd.DataFrame, std_lv: bool = True) -> None:
    """Estimates and standardised solution of a :func:`merged` table equal lavaan's."""
    close(m.est_py, m.est_r)
    close(m.std_all, m["std.all"])
    if std_lv:
        close(m.std_lv, m["std.lv"])


def check_standard_errors(m: pd.DataFrame) -> None:
    """SE, z and p of the free rows of a :func:`merged` table equal lavaan's."""
    m = m[m.free_r > 0]
    rel_close(m.se_py, m.se_r)
    rel_close(m.z_py, m.z_r)
    close(m.pvalue_py, m.pvalue_r)


def check_pd_replicates(ours: np.ndarray, layout, lav: pd.DataFrame, atol: float = 1e-4) -> None:
    """Our bootstrap statistic vectors of Political Democracy (hypotheses H1 = a, H2 = c,
    H3 = b and the chain ind60 -> dem60 -> dem65 = ind) against lavaan's ``idx_stats`` of
    the same resamples (columns ``a, b, c, ind`` and their ``.std``)."""
    sl = layout.slices()
    cols = {"a": (sl["path"], sl["path_std"], 0), "c": (sl["path"], sl["path_std"], 1),
            "b": (sl["path"], sl["path_std"], 2), "ind": (sl["chain"], sl["chain_std"], 0)}
    for name, (part, std_part, j) in cols.items():
        np.testing.assert_allclose(ours[:, part][:, j], lav[name], atol=atol, err_msg=name)
        np.testing.assert_allclose(ours[:, std_part][:, j], lav[f"{name}.std"], atol=atol,
                                   err_msg=f"{name}.std")
