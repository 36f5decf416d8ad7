"""Shared access to the stored psych / semTools references (tests/reference/psych_*.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REF = Path(__file__).parent / "reference"
DATASETS = sorted(p.stem.removeprefix("psych_") for p in REF.glob("psych_*.json"))
TIGHT = 1e-9  # closed-form statistics agree to rounding error


def load(name: str) -> tuple[dict, pd.DataFrame, dict[str, list[str]]]:
    """The stored reference, its data (items only) and its construct -> items map."""
    ref = json.loads((REF / f"psych_{name}.json").read_text())
    data = pd.read_csv(REF / "data" / f"psych_{name}.csv")[ref["items"]]
    return ref, data, ref["constructs"]


def matrix(m: dict) -> pd.DataFrame:
    """A nested ``{row: {col: value}}`` JSON object as a float DataFrame."""
    return pd.DataFrame.from_dict(m, orient="index").astype(float)
