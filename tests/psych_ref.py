"""Shared access to the stored psych / semTools references (tests/reference/psych_*.json)."""

from __future__ import annotations

import pandas as pd
from references import REFERENCE, reference, reference_table

DATASETS = sorted(p.stem.removeprefix("psych_") for p in REFERENCE.glob("psych_*.json"))
TIGHT = 1e-9  # closed-form statistics agree to rounding error


def load(name: str) -> tuple[dict, pd.DataFrame, dict[str, list[str]]]:
    """The stored reference, its data (items only) and its construct -> items map."""
    ref = reference(f"psych_{name}")
    data = reference_table(f"psych_{name}.csv")[ref["items"]]
    return ref, data, ref["constructs"]


def matrix(m: dict) -> pd.DataFrame:
    """A nested ``{row: {col: value}}`` JSON object as a float DataFrame."""
    return pd.DataFrame.from_dict(m, orient="index").astype(float)
