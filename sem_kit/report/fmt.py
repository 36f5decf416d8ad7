"""Numbers as a paper prints them: three decimals, p-values, significance stars."""

from __future__ import annotations

import math

import numpy as np

DASH = "—"


def is_missing(value: object) -> bool:
    """``True`` for ``None``, NaN, infinities and pandas' missing markers."""
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def number(value: object, decimals: int = 3) -> str:
    """``value`` with ``decimals`` decimals (``0.842``); ``—`` when undefined."""
    if is_missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    text = f"{v:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", "−")


def integer(value: object) -> str:
    """A whole number (``363``); ``—`` when undefined."""
    if is_missing(value):
        return DASH
    return f"{int(round(float(value))):d}"  # type: ignore[arg-type]


def pvalue(value: object) -> str:
    """A p-value: ``< .001`` below .001, else three decimals without the leading zero."""
    if is_missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    if v < 0.001:
        return "< .001"
    return f"{v:.3f}".lstrip("0") if v < 1 else "1.000"


def stars(p: object) -> str:
    """``***`` for p < .001, ``**`` for p < .01, ``*`` for p < .05, else empty."""
    if is_missing(p):
        return ""
    v = float(p)  # type: ignore[arg-type]
    return "***" if v < 0.001 else "**" if v < 0.01 else "*" if v < 0.05 else ""


def percent(value: object, decimals: int = 1) -> str:
    """A percentage already in percent units (``12.5``)."""
    if is_missing(value):
        return DASH
    return f"{float(value):.{decimals}f}"  # type: ignore[arg-type]


def to_python(value: object) -> object:
    """A cell as a plain Python value for CSV/XLSX: floats, ints, strings; ``None`` if missing."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None:
        return None
    try:
        if value != value:  # pandas NA / NaT
            return None
    except (TypeError, ValueError):
        return None
    return value
