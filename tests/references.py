"""The paths of the test data and the one loader of the stored references.

Test modules need these at import time (parameter lists, module constants), where
fixtures cannot serve; the fixtures themselves are in tests/conftest.py.

- ``ROOT``: the repository; ``SAMPLE``: the bundled sample data (data/sample_responses.csv).
- ``REFERENCE``: tests/reference, the numbers of lavaan, semTools, psych and boot written
  by its R scripts; ``REFERENCE_DATA``: tests/reference/data, the data sets and model
  files they were computed on.
- ``REGRESSION``: tests/regression, results.json of the fixed-seed runs before issue #13.
- :func:`write_xlsx`: a workbook of named sheets, for the tests that read Excel files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_responses.csv"
REFERENCE = ROOT / "tests" / "reference"
REFERENCE_DATA = REFERENCE / "data"
REGRESSION = ROOT / "tests" / "regression"


@cache
def reference(name: str) -> dict:
    """The parsed JSON of tests/reference/NAME.json (read once; do not modify it).

    Parameters
    ----------
    name:
        The file name without ``.json``, e.g. ``"lavaan_hs_cfa"`` or ``"psych_holzinger"``.

    Returns
    -------
    dict
        The stored reference, shared by every caller.
    """
    return json.loads((REFERENCE / f"{name}.json").read_text(encoding="utf-8"))


def reference_table(file: str) -> pd.DataFrame:
    """A data file of tests/reference/data, e.g. ``"hs1939.csv"``.

    Returns
    -------
    pandas.DataFrame
        The file as read by :func:`pandas.read_csv` (a new frame on each call).
    """
    return pd.read_csv(REFERENCE_DATA / file)


def reference_text(file: str) -> str:
    """A text file of tests/reference/data, e.g. the lavaan model ``"pd_sem.lav"``.

    Returns
    -------
    str
        The file's text.
    """
    return (REFERENCE_DATA / file).read_text(encoding="utf-8")


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write a workbook with one sheet per ``name: rows`` (rows appended as given)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path
