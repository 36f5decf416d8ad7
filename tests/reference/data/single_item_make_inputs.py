"""Write the inputs of ``tests/reference/single_item_reference.R``.

Run from the repository root::

    .venv/bin/python tests/reference/data/single_item_make_inputs.py

It writes, next to this file,

- ``single_item_hs_cfa.lav`` / ``single_item_hs_sem.lav``: Holzinger & Swineford
  (``hs1939.csv``) with a single-item factor, ``speed =~ x7``, beside ``visual`` and
  ``textual`` (three items each); the SEM adds ``speed ~ visual + textual``.
- ``single_item_ordinal.lav``: the model of ``estimators_ordinal.lav`` with the third
  factor measured by ``y9`` alone (lavaan's WLSMV on ``estimators_ordinal.csv``).
- ``single_item_cfa.lav`` / ``single_item_sem.lav``: the measurement and full model of
  the questionnaire ``single_item.yaml`` (``measurement_syntax()``, ``model_syntax()``).
- ``single_item.csv``: ``SIM_N`` respondents drawn from ``single_item.yaml``'s
  ``population:`` by ``sem_kit.io.simulate.simulate_responses`` (seed ``SIM_SEED``; id,
  gender (codes 1, 2), region (text codes North, South) and the ten 7-point answers, as a
  survey platform exports them). Population values (standardised): loadings 0.75, the
  single item SAT1 loading 1 (no measurement error), PQ ~~ PV 0.35, PQ -> SAT 0.35,
  PV -> SAT 0.30, SAT -> LOY 0.50.
- ``single_item_missing.csv``: the same answers with 5% of the item answers deleted
  completely at random (``missing=0.05``: the answers are the same draws).

No row of either file is excluded by sem_kit's default screening (checked here), so
lavaan and ``sem_kit.analyze`` fit the same rows. CSV files are written without an
index, so R's ``read.csv`` and pandas read the same values.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SIM_N = 500
SIM_SEED = 20260314

HS_CFA = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7
"""
HS_SEM = HS_CFA + "speed ~ visual + textual\n"
ORDINAL = """f1 =~ y1 + y2 + y3 + y4
f2 =~ y5 + y6 + y7 + y8
f3 =~ y9
f3 ~ f1 + f2
"""


def main() -> None:
    from sem_kit import load_questionnaire
    from sem_kit.io.ingest import read_responses
    from sem_kit.io.screening import screen
    from sem_kit.io.simulate import simulate_responses

    for name, text in (("single_item_hs_cfa.lav", HS_CFA), ("single_item_hs_sem.lav", HS_SEM),
                       ("single_item_ordinal.lav", ORDINAL)):
        (HERE / name).write_text(text, encoding="utf-8")
    q = load_questionnaire(HERE / "single_item.yaml")
    (HERE / "single_item_cfa.lav").write_text(q.measurement_syntax(), encoding="utf-8")
    (HERE / "single_item_sem.lav").write_text(q.model_syntax(), encoding="utf-8")
    for name, missing in (("single_item.csv", 0.0), ("single_item_missing.csv", 0.05)):
        data = simulate_responses(q, n=SIM_N, seed=SIM_SEED, missing=missing, flawed=False)
        path = HERE / name
        data.to_csv(path, index=False)
        screened = screen(read_responses(path, q), q)
        assert not screened.excluded, f"{name}: screening excludes {screened.excluded}"
        print(f"{path}: {len(data)} rows, {int(data[list(q.items)].isna().sum().sum())} "
              "unanswered items")


if __name__ == "__main__":
    main()
