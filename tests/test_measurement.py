"""The measurement stage end to end on the simulated nine-factor data, held to stored R output.

psych_ninefactor.json (psych_reference.R) holds psych / semTools / lavaan numbers for
tests/reference/data/psych_ninefactor.csv; lavaan_ninefactor_cfa.json (lavaan_reference.R)
holds lavaan's CFA of tests/reference/data/sim_ninefactor.csv. Both use the built-in
questionnaire's measurement model (KCH second-order over ECO, SCA, TIM, CPX).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from references import reference, reference_table

from sem_kit import load_questionnaire
from sem_kit.engine.fit_indices import FIT_KEYS
from sem_kit.measurement.stage import measurement_model

PSYCH = reference("psych_ninefactor")
LAVAAN = reference("lavaan_ninefactor_cfa")
TOL = 1e-3


@pytest.fixture(scope="module")
def q():
    return load_questionnaire()


@pytest.fixture(scope="module")
def psych_run(q):
    data = reference_table("psych_ninefactor.csv")
    return measurement_model(q, data, seed=1)


@pytest.fixture(scope="module")
def lavaan_run(q):
    data = reference_table(LAVAAN["data_file"])
    return measurement_model(q, data, seed=1)


def test_reliability_matches_psych_and_semtools(psych_run) -> None:
    rel = psych_run.reliability
    for c, ref in PSYCH["alpha"].items():
        assert rel.loc[c, "alpha"] == pytest.approx(ref["raw_alpha"], abs=TOL)
        assert rel.loc[c, "alpha_ci_lower"] == pytest.approx(ref["ci_lower"], abs=TOL)
        assert rel.loc[c, "alpha_ci_upper"] == pytest.approx(ref["ci_upper"], abs=TOL)
    for c, value in PSYCH["cfa"]["cr"].items():
        assert rel.loc[c, "cr"] == pytest.approx(value, abs=TOL)
        assert rel.loc[c, "ave"] == pytest.approx(PSYCH["cfa"]["ave"][c], abs=TOL)
        assert rel.loc[c, "omega"] == pytest.approx(PSYCH["cfa"]["omega"][c], abs=TOL)
    l2 = PSYCH["hierarchical"]["reliability_l2"]["KCH"]
    assert psych_run.reliability_l2.loc["KCH", "omega_l1"] == pytest.approx(l2["omegaL1"], abs=TOL)
    assert psych_run.reliability_l2.loc["KCH", "omega_l2"] == pytest.approx(l2["omegaL2"], abs=TOL)


def test_efa_block_and_validity_match(psych_run) -> None:
    efa = psych_run.efa_summary.to_dict()
    assert efa["kmo"] == pytest.approx(PSYCH["kmo"]["overall"], abs=TOL)
    assert efa["bartlett_chi2"] == pytest.approx(PSYCH["bartlett"]["chi2"], rel=1e-4)
    assert efa["harman_first_factor_share"] == pytest.approx(PSYCH["harman"]["share"], abs=TOL)
    htmt = psych_run.discriminant.htmt
    for a, row in PSYCH["htmt"].items():
        for b, value in row.items():
            assert htmt.loc[a, b] == pytest.approx(value, abs=TOL)
    fl = PSYCH["cfa"]["fornell_larcker"]["table"]
    ours = psych_run.discriminant.fornell_larcker.table
    for a, row in fl.items():
        for b, value in row.items():
            assert ours.loc[a, b] == pytest.approx(value, abs=TOL), (a, b)


def test_item_statistics_match_psych_describe(psych_run) -> None:
    items = psych_run.items.table
    for stat in ("mean", "sd", "skew", "kurtosis"):
        for item, value in PSYCH["describe"][stat].items():
            assert items.loc[item, stat] == pytest.approx(value, abs=TOL), (stat, item)


def test_cfa_fit_and_loadings_match_lavaan(lavaan_run) -> None:
    fit = lavaan_run.cfa_fit
    ref = LAVAAN["fit"]
    names = {"chisq_df": None, "rmsea_ci_lower": "rmsea.ci.lower",
             "rmsea_ci_upper": "rmsea.ci.upper", "rmsea_pvalue": "rmsea.pvalue", "n": "ntotal"}
    for key in FIT_KEYS:
        rkey = names.get(key, key)
        if rkey is None:
            assert fit[key] == pytest.approx(ref["chisq"] / ref["df"], rel=1e-4)
        elif key in ("chisq", "aic", "bic"):
            assert fit[key] == pytest.approx(ref[rkey], rel=1e-4), key
        else:
            assert fit[key] == pytest.approx(ref[rkey], abs=TOL), key
    est = pd.DataFrame(LAVAAN["estimates"])
    est = est[est.op == "=~"].set_index(["lhs", "rhs"])
    for r in lavaan_run.loadings.itertuples():
        lav = est.loc[(r.construct, r.item)]
        assert r.est == pytest.approx(lav["est"], abs=TOL)
        assert r.std == pytest.approx(lav["std.all"], abs=TOL)
        if lav["se"]:
            assert r.se == pytest.approx(lav["se"], rel=0.01)
    assert set(lavaan_run.to_dict()) == {"items", "reliability", "efa", "cfa", "discriminant"}
    loadings = lavaan_run.to_dict()["cfa"]["loadings"]
    assert len(loadings) == 48 and all(np.isfinite(x["std"]) for x in loadings)
