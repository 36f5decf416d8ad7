"""Direct, indirect and total effects along the hypothesis graph, and hypothesis verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

Coefficients = Mapping[tuple[str, str], float]

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
OPPOSITE = "significant, opposite sign"


def verdict(est: float, pvalue: float, sign: str, alpha: float = 0.05) -> str:
    """The verdict on a directional hypothesis.

    ``supported`` when ``pvalue < alpha`` and the estimate has the hypothesised
    sign (``"+"`` or ``"-"``); ``significant, opposite sign`` when significant
    the other way; else ``not supported``. A missing p-value is not supported.
    """
    if pvalue is None or not np.isfinite(pvalue) or pvalue >= alpha:
        return NOT_SUPPORTED
    return SUPPORTED if (est > 0) == (sign == "+") else OPPOSITE


def chain_product(chain: Sequence[str], coef: Coefficients) -> float:
    """The indirect effect along ``chain`` (X, M1, ..., Y): the product of its path coefficients."""
    return float(np.prod([coef[(a, b)] for a, b in zip(chain[:-1], chain[1:], strict=True)]))


def total_effects(constructs: Sequence[str], coef: Coefficients) -> pd.DataFrame:
    """Total effects of every construct (columns) on every construct (rows).

    With ``B[i, j]`` the coefficient of ``j -> i``, the total effects of a
    recursive model are ``(I - B)^-1 - I`` (Bollen 1989, ch. 8), which equals the
    sum of the direct effect and every indirect chain.
    """
    idx = {c: i for i, c in enumerate(constructs)}
    b = np.zeros((len(constructs), len(constructs)))
    for (src, tgt), value in coef.items():
        b[idx[tgt], idx[src]] = value
    total = np.linalg.inv(np.eye(len(constructs)) - b) - np.eye(len(constructs))
    return pd.DataFrame(total, index=list(constructs), columns=list(constructs))


def effects_table(
    constructs: Sequence[str], coef: Coefficients, chains: Sequence[Sequence[str]]
) -> pd.DataFrame:
    """Direct, indirect and total effect for every (from, to) pair with a nonzero total.

    Columns: ``from, to, direct, indirect, total``; ``indirect`` is ``total - direct``,
    the sum over every chain from ``from`` to ``to`` (``chains`` lists them for
    checking: their products must add up to it).
    """
    total = total_effects(constructs, coef)
    rows = []
    for src in constructs:
        for tgt in constructs:
            value = total.loc[tgt, src]
            if src == tgt or value == 0:
                continue
            direct = float(coef.get((src, tgt), 0.0))
            rows.append({"from": src, "to": tgt, "direct": direct,
                         "indirect": float(value) - direct, "total": float(value)})
    table = pd.DataFrame(rows, columns=["from", "to", "direct", "indirect", "total"])
    by_pair: dict[tuple[str, str], float] = {}
    for chain in chains:
        key = (chain[0], chain[-1])
        by_pair[key] = by_pair.get(key, 0.0) + chain_product(chain, coef)
    for row in table.to_dict("records"):
        expected = by_pair.get((row["from"], row["to"]), 0.0)
        if not np.isclose(expected, row["indirect"], atol=1e-10):
            raise ValueError(
                f"indirect effect {row['from']} -> {row['to']}: chains give {expected}, "
                f"total minus direct gives {row['indirect']}"
            )
    return table
