"""Plain JSON values for results.json: numbers as int or float, undefined ones as null."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["json_number"]


def json_number(x: object) -> object:
    """A plain JSON value of a number.

    Returns
    -------
    int, float, bool or None
        None for None, NaN and infinities (an improper solution leaves some
        values undefined; results.json holds them as null, never as NaN), a
        bool for a boolean, an int for an integer, a float otherwise.
    """
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    value = float(x)  # type: ignore[arg-type]
    return value if math.isfinite(value) else None
