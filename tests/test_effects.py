"""Effects decomposition and verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from sem_kit.structural.effects import (
    NOT_SUPPORTED,
    OPPOSITE,
    SUPPORTED,
    chain_product,
    effects_table,
    total_effects,
    verdict,
)


def test_verdicts() -> None:
    assert verdict(0.3, 0.001, "+") == SUPPORTED
    assert verdict(-0.3, 0.001, "-") == SUPPORTED
    assert verdict(-0.3, 0.001, "+") == OPPOSITE
    assert verdict(0.3, 0.05, "+") == NOT_SUPPORTED  # p < .05 strictly
    assert verdict(0.3, float("nan"), "+") == NOT_SUPPORTED


def test_builtin_model_effects_add_up(builtin_questionnaire) -> None:
    q = builtin_questionnaire
    rng = np.random.default_rng(3)
    coef = {(h.source, h.target): float(rng.normal()) for h in q.hypotheses.values()}
    constructs = q.structural_constructs
    table = effects_table(constructs, coef, q.indirect_paths())
    row = table[(table["from"] == "CST") & (table["to"] == "KSB")].iloc[0]
    a, b, c = coef[("CST", "WIL")], coef[("WIL", "KSB")], coef[("CST", "KSB")]
    assert row["direct"] == pytest.approx(c)
    assert row["indirect"] == pytest.approx(a * b)
    assert row["total"] == pytest.approx(c + a * b)
    assert chain_product(("LOY", "ABL", "KSB"), coef) == pytest.approx(
        coef[("LOY", "ABL")] * coef[("ABL", "KSB")]
    )
    total = total_effects(constructs, coef)
    assert total.loc["WIL", "KSB"] == 0  # no feedback


def test_serial_mediation_chain() -> None:
    coef = {("X", "M1"): 0.5, ("M1", "M2"): 0.4, ("M2", "Y"): 0.3, ("X", "Y"): 0.1}
    chains = [("X", "M1", "M2"), ("X", "M1", "M2", "Y"), ("M1", "M2", "Y")]
    table = effects_table(["X", "M1", "M2", "Y"], coef, chains).set_index(["from", "to"])
    assert table.loc[("X", "Y"), "indirect"] == pytest.approx(0.5 * 0.4 * 0.3)
    with pytest.raises(ValueError, match="chains give"):
        effects_table(["X", "M1", "M2", "Y"], coef, chains[:1])
