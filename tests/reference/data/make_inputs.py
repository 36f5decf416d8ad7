"""Write the inputs of ``tests/reference/lavaan_reference.R``: data sets and model syntax.

Run from the repository root::

    .venv/bin/python tests/reference/data/make_inputs.py

It writes, next to this file,

- ``hs1939.csv``: Holzinger & Swineford (1939), 301 rows, as shipped with semopy
  (``semopy.examples.holzinger39``); identical to lavaan's
  ``HolzingerSwineford1939`` (every value checked equal in R).
- ``political_democracy.csv``: Bollen's industrialisation and political
  democracy data, 75 rows (``semopy.examples.political_democracy``), identical
  to lavaan's ``PoliticalDemocracy``.
- ``sim_ninefactor.csv``: 500 complete simulated answers to the built-in
  customer knowledge-sharing questionnaire (``sem_kit.io.simulate``), items only,
  reverse-coded items recoded as ``min + max - x`` as the pipeline does.
- ``heywood.csv``: 200 rows whose sample correlations are exactly those of a
  one-factor model with a loading above 1 (a Heywood case).
- ``*.lav``: lavaan model syntax of every reference model; the nine-factor ones
  come from ``load_questionnaire().measurement_syntax()`` / ``.model_syntax()``.

CSV files are written without an index and with round-trip float formatting, so
R's ``read.csv`` and pandas read the same doubles.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

HS_CFA = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
"""

# Structural HS model exercising lavaan defaults semopy lacks: observed exogenous
# covariates (fixed.x), a free disturbance covariance between the two purely
# dependent latents (auto.cov.y), an equality label and a residual covariance.
HS_MIMIC = """visual =~ x1 + a*x2 + a*x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
textual ~ visual + ageyr
speed ~ visual + ageyr + sex
x7 ~~ x8
"""

# Observed outcomes and an observed mediator (x7 -> x8), a free first loading with
# the latent variance fixed (NA* / 1*), a fixed-zero latent covariance, and two
# purely dependent observed variables whose residuals covary by default (x8, x9).
HS_PATHS = """visual =~ NA*x1 + x2 + x3
visual ~~ 1*visual
textual =~ x4 + x5 + x6
visual ~~ 0*textual
x7 ~ visual + textual
x8 ~ x7 + visual
x9 ~ textual
"""

# A second-order factor whose first dimension has no fixed loading (NA*, fixed
# residual variance) and an observed outcome of the second-order factor.
HS_SECOND_ORDER = """a =~ NA*x1 + x2 + x3
a ~~ 1*a
b =~ x4 + x5 + x6
c =~ x7 + x8
h =~ a + b + c
x9 ~ h
"""

PD_SEM = """# measurement model
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
# regressions
dem60 ~ ind60
dem65 ~ ind60 + dem60
# residual correlations
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""

# One factor with four indicators whose sample correlations force the first
# loading above 1 (a Heywood case): r(y1, yj) = .8, r(yj, yk) = .6 give
# λ1² = .64 / .6 ≈ 1.07, so the ML residual variance of y1 is negative.
HEYWOOD = """f =~ y1 + y2 + y3 + y4
"""
HEYWOOD_N = 200
HEYWOOD_SEED = 1939

# The first HS factor alone: three indicators, df = 0 (saturated).
HS_SATURATED = """visual =~ x1 + x2 + x3
"""

SIM_N = 500
SIM_SEED = 20240611


def write_classic() -> None:
    import semopy.examples.holzinger39 as hs
    import semopy.examples.political_democracy as pdem

    hs.get_data().to_csv(HERE / "hs1939.csv", index=False)
    pdem.get_data().to_csv(HERE / "political_democracy.csv", index=False)
    (HERE / "hs_cfa.lav").write_text(HS_CFA, encoding="utf-8")
    (HERE / "hs_mimic.lav").write_text(HS_MIMIC, encoding="utf-8")
    (HERE / "pd_sem.lav").write_text(PD_SEM, encoding="utf-8")
    (HERE / "hs_paths.lav").write_text(HS_PATHS, encoding="utf-8")
    (HERE / "hs_second_order.lav").write_text(HS_SECOND_ORDER, encoding="utf-8")
    (HERE / "hs_saturated.lav").write_text(HS_SATURATED, encoding="utf-8")


def write_heywood() -> None:
    """Normal data rescaled to have exactly the Heywood correlation matrix (N divisor)."""
    import numpy as np
    import pandas as pd

    target = np.full((4, 4), 0.6)
    target[0, 1:] = target[1:, 0] = 0.8
    np.fill_diagonal(target, 1.0)
    x = np.random.default_rng(HEYWOOD_SEED).standard_normal((HEYWOOD_N, 4))
    x -= x.mean(axis=0)
    white = np.linalg.cholesky(x.T @ x / HEYWOOD_N)
    x = x @ np.linalg.inv(white).T @ np.linalg.cholesky(target).T
    frame = pd.DataFrame(x, columns=["y1", "y2", "y3", "y4"])
    frame.to_csv(HERE / "heywood.csv", index=False)
    (HERE / "heywood.lav").write_text(HEYWOOD, encoding="utf-8")


def write_ninefactor() -> bool:
    from sem_kit import load_questionnaire

    q = load_questionnaire()
    (HERE / "ninefactor_cfa.lav").write_text(q.measurement_syntax(), encoding="utf-8")
    (HERE / "ninefactor_sem.lav").write_text(q.model_syntax(), encoding="utf-8")
    try:
        from sem_kit.io.simulate import simulate_responses
    except ImportError:
        print("sem_kit.io.simulate is not available yet: sim_ninefactor.csv not written")
        return False
    data = simulate_responses(q, n=SIM_N, seed=SIM_SEED, demographics=False, missing=0,
                              flawed=False)
    items = list(q.items)
    frame = data[[q.column_for(i) for i in items]].copy()
    frame.columns = items
    for item in q.reverse_items:
        scale = q.item_scale(item)
        frame[item] = scale.min + scale.max - frame[item]
    frame = frame.astype(float)
    assert len(frame) == SIM_N and not frame.isna().any().any()
    frame.to_csv(HERE / "sim_ninefactor.csv", index=False)
    return True


if __name__ == "__main__":
    write_classic()
    write_heywood()
    write_ninefactor()
