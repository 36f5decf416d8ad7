"""Write the data sets of ``tests/reference/estimators_reference.R``.

Run from the repository root::

    .venv/bin/python tests/reference/data/estimators_make_inputs.py

It writes, next to this file,

- ``estimators_hs_missing.csv``: Holzinger & Swineford (``hs1939.csv``: ``id``,
  ``x1``..``x9``) with every answer of ``x1``..``x9`` deleted independently with
  probability 0.10 (missing completely at random; NumPy ``default_rng(20240801)``);
  no row loses all nine.
- ``estimators_pd_missing.csv``: Bollen's political democracy data
  (``political_democracy.csv``) with every value deleted with probability 0.08
  (``default_rng(20240802)``); no row loses all eleven.
- ``estimators_ninefactor_missing.csv``: the simulated answers to the built-in
  nine-factor questionnaire (``sim_ninefactor.csv``, 500 rows, 7-point items)
  with every answer deleted with probability 0.05 (``default_rng(20240804)``);
  no row loses all of them.
- ``estimators_ordinal.csv``: 600 simulated answers on a 1..5 scale to twelve
  items, four per factor, from the model of ``estimators_ordinal.lav``
  (``default_rng(20240803)``): latent responses ``x* = λ η + ε`` with unit
  variance, factors ``f1``, ``f2`` correlated 0.3, ``f3 = 0.4 f1 + 0.3 f2 + ζ``
  (unit variance), loadings 0.55..0.85, plus a cross-loading of ``y4`` on ``f2``
  and a nuisance factor shared by ``y9`` and ``y10`` that the model leaves out;
  answer ``1 + #{k: x* > τ_k}`` with item-specific thresholds.
- ``estimators_ordinal.lav``: that model in lavaan syntax.

CSV files are written without an index and with round-trip float formatting, so
R's ``read.csv`` and pandas read the same doubles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

ORDINAL_MODEL = """f1 =~ y1 + y2 + y3 + y4
f2 =~ y5 + y6 + y7 + y8
f3 =~ y9 + y10 + y11 + y12
f3 ~ f1 + f2
"""

LOADINGS = np.array([0.80, 0.70, 0.60, 0.75, 0.85, 0.65, 0.55, 0.70, 0.75, 0.80, 0.60, 0.70])
BASE_THRESHOLDS = np.array([-1.6, -0.7, 0.2, 1.2])


def delete_at_random(frame: pd.DataFrame, columns: list[str], rate: float,
                     seed: int) -> pd.DataFrame:
    """Cells of ``columns`` set to NaN independently with probability ``rate`` (MCAR)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    values = out[columns].to_numpy(dtype=float, copy=True)
    while True:
        holes = rng.random(values.shape) < rate
        if not holes.all(axis=1).any():
            break
    values[holes] = np.nan
    out[columns] = values
    return out


def simulate_ordinal(n: int = 600, seed: int = 20240803) -> pd.DataFrame:
    """Five-point answers from a population close to, but not exactly, ``ORDINAL_MODEL``.

    Besides the model's structure the population has two things the model leaves
    out, so that the fit measures are not at their bounds: ``y4`` also loads 0.35 on
    ``f2`` and ``y9``, ``y10`` share a nuisance factor (loadings 0.4).
    """
    rng = np.random.default_rng(seed)
    f12 = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], size=n)
    explained = 0.4**2 + 0.3**2 + 2 * 0.4 * 0.3 * 0.3
    f3 = 0.4 * f12[:, 0] + 0.3 * f12[:, 1] + rng.normal(0.0, np.sqrt(1 - explained), n)
    nuisance = rng.normal(0.0, 1.0, n)
    eta = np.column_stack([f12, f3])
    factor_of = np.repeat([0, 1, 2], 4)
    shift = rng.uniform(-0.4, 0.4, size=LOADINGS.size)
    answers = {}
    for j, lam in enumerate(LOADINGS):
        systematic = lam * eta[:, factor_of[j]]
        if j == 3:
            systematic = systematic + 0.35 * eta[:, 1]
        if j in (8, 9):
            systematic = systematic + 0.4 * nuisance
        latent = systematic + rng.normal(0.0, np.sqrt(max(1 - systematic.var(), 0.2)), n)
        tau = BASE_THRESHOLDS + shift[j]
        answers[f"y{j + 1}"] = 1 + (latent[:, None] > tau[None, :]).sum(axis=1)
    return pd.DataFrame(answers)


def main() -> None:
    hs = pd.read_csv(HERE / "hs1939.csv")
    items = [f"x{i}" for i in range(1, 10)]
    hs_missing = delete_at_random(hs[["id", *items]], items, 0.10, 20240801)
    hs_missing.to_csv(HERE / "estimators_hs_missing.csv", index=False)
    pd_data = pd.read_csv(HERE / "political_democracy.csv")
    pd_missing = delete_at_random(pd_data, list(pd_data.columns), 0.08, 20240802)
    pd_missing.to_csv(HERE / "estimators_pd_missing.csv", index=False)
    nine = pd.read_csv(HERE / "sim_ninefactor.csv")
    nine_missing = delete_at_random(nine, list(nine.columns), 0.05, 20240804)
    nine_missing.to_csv(HERE / "estimators_ninefactor_missing.csv", index=False)
    simulate_ordinal().to_csv(HERE / "estimators_ordinal.csv", index=False)
    (HERE / "estimators_ordinal.lav").write_text(ORDINAL_MODEL, encoding="utf-8")


if __name__ == "__main__":
    main()
