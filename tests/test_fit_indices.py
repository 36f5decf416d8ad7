"""sem_kit.engine.fit_indices
against lavaan 0.6-14 ``fitMeasures()`` (tests/reference/lavaan_*.json).

Two layers: every FIT key of a sem_kit fit against lavaan's (±0.001 absolute;
χ², AIC, BIC ±0.01% relative), and every formula fed with lavaan's own inputs
(its χ², baseline χ², log-likelihood, S and Σ) against lavaan's output (to
1e-8), so a formula slip cannot hide behind estimation error. Every expected
number comes from ``tests/reference/lavaan_reference.R``.
"""

from __future__ import annotations

import logging
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from references import reference as stored_reference
from references import reference_table, reference_text

from sem_kit.engine import fit_indices as fi
from sem_kit.engine.fit import Fit
from sem_kit.estimators.ml import fit_model

MODELS = ["hs_cfa", "hs_saturated", "hs_mimic", "hs_paths", "hs_second_order", "heywood",
          "pd_sem", "ninefactor_cfa", "ninefactor_sem"]
#: sem_kit FIT key -> lavaan fitMeasures name
LAVAAN_NAME = {
    "n": "ntotal", "rmsea_ci_lower": "rmsea.ci.lower", "rmsea_ci_upper": "rmsea.ci.upper",
    "rmsea_pvalue": "rmsea.pvalue", "baseline_chisq": "baseline.chisq",
    "baseline_df": "baseline.df", "unrestricted_logl": "unrestricted.logl",
}
RELATIVE = {"chisq", "aic", "bic", "logl", "unrestricted_logl", "baseline_chisq"}
EXACT = 1e-8


def reference(name: str) -> dict:
    return stored_reference(f"lavaan_{name}")


@cache
def data_of(name: str) -> pd.DataFrame:
    return reference_table(reference(name)["data_file"])


@cache
def fitted(name: str) -> Fit:
    syntax = reference_text(reference(name)["model_file"])
    return fit_model(syntax, data_of(name))


def lavaan(name: str, key: str) -> float:
    value = reference(name)["fit"][LAVAAN_NAME.get(key, key)]
    return math.nan if value is None else float(value)


def matrix(name: str, which: str) -> np.ndarray:
    return np.array(reference(name)[which]["values"], dtype=float)


def x_index(name: str) -> list[int]:
    names = reference(name)["sample_cov"]["names"]
    return [names.index(v) for v in fitted(name).x_vars]


def agree(ours: float, theirs: float, key: str) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    if key in RELATIVE:
        return abs(ours - theirs) <= max(1e-4 * abs(theirs), 1e-6)
    return abs(ours - theirs) <= 1e-3


# --------------------------------------------------------------------------- whole FIT block


@pytest.mark.parametrize("name", MODELS)
def test_every_fit_key_matches_lavaan(name):
    ours = fi.fit_measures(fitted(name))
    assert list(ours) == list(fi.FIT_KEYS)
    ml = fi.ml_statistics(fitted(name))
    ours.update(npar=ml.fit.npar, logl=ml.fit.logl, unrestricted_logl=ml.unrestricted_logl,
                baseline_chisq=ml.fit.baseline_chisq, baseline_df=ml.fit.baseline_df)
    bad = {k: (v, lavaan(name, k)) for k, v in ours.items() if not agree(v, lavaan(name, k), k)}
    assert not bad


@pytest.mark.parametrize("name", MODELS)
def test_counts_are_integers(name):
    ours = fi.fit_measures(fitted(name))
    assert ours["n"] == lavaan(name, "n") and isinstance(ours["n"], int)
    assert ours["df"] == lavaan(name, "df") and isinstance(ours["df"], int)


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize("name", MODELS)
def test_incremental_indices_from_lavaans_chisq(name):
    x2, df = lavaan(name, "chisq"), int(lavaan(name, "df"))
    x0, df0 = lavaan(name, "baseline_chisq"), int(lavaan(name, "baseline_df"))
    for key, fun in [("cfi", fi.cfi), ("tli", fi.tli), ("nfi", fi.nfi), ("ifi", fi.ifi)]:
        assert fun(x2, df, x0, df0) == pytest.approx(lavaan(name, key), abs=EXACT), key


@pytest.mark.parametrize("name", MODELS)
def test_rmsea_family_from_lavaans_chisq(name):
    x2, df, n = lavaan(name, "chisq"), int(lavaan(name, "df")), int(lavaan(name, "n"))
    assert fi.rmsea(x2, df, n) == pytest.approx(lavaan(name, "rmsea"), abs=EXACT)
    lower, upper = fi.rmsea_ci(x2, df, n)
    assert lower == pytest.approx(lavaan(name, "rmsea_ci_lower"), abs=1e-6)
    assert upper == pytest.approx(lavaan(name, "rmsea_ci_upper"), abs=1e-6)
    expected = lavaan(name, "rmsea_pvalue")
    got = fi.rmsea_pvalue(x2, df, n)
    assert math.isnan(got) if math.isnan(expected) else got == pytest.approx(expected, abs=EXACT)
    expected = lavaan(name, "pvalue")
    got = fi.chisq_pvalue(x2, df)
    assert math.isnan(got) if math.isnan(expected) else got == pytest.approx(expected, abs=EXACT)
    expected = lavaan(name, "chisq_df")
    got = fi.chisq_df(x2, df)
    assert math.isnan(got) if math.isnan(expected) else got == pytest.approx(expected, rel=EXACT)


@pytest.mark.parametrize("name", MODELS)
def test_information_criteria_from_lavaans_loglik(name):
    logl, npar, n = lavaan(name, "logl"), int(lavaan(name, "npar")), int(lavaan(name, "n"))
    assert fi.aic(logl, npar) == pytest.approx(lavaan(name, "aic"), rel=1e-12)
    assert fi.bic(logl, npar, n) == pytest.approx(lavaan(name, "bic"), rel=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_matrix_based_indices_from_lavaans_s_and_sigma(name):
    s, sigma = matrix(name, "sample_cov"), matrix(name, "implied_cov")
    n, x_idx = int(lavaan(name, "n")), x_index(name)
    assert fi.srmr(s, sigma) == pytest.approx(lavaan(name, "srmr"), abs=EXACT)
    g = fi.gfi(s, sigma, x_idx)
    assert g == pytest.approx(lavaan(name, "gfi"), abs=EXACT)
    p = s.shape[0]
    assert fi.agfi(g, p * (p + 1) // 2, int(lavaan(name, "df"))) == pytest.approx(
        lavaan(name, "agfi"), abs=EXACT)
    assert fi.chisq(s, sigma, n) == pytest.approx(lavaan(name, "chisq"), abs=1e-7)
    x0, df0 = fi.baseline_chisq(s, n, x_idx)
    assert x0 == pytest.approx(lavaan(name, "baseline_chisq"), rel=1e-10)
    assert df0 == lavaan(name, "baseline_df")
    assert fi.loglik(s, sigma, n, x_idx) == pytest.approx(lavaan(name, "logl"), rel=1e-10)
    assert fi.unrestricted_loglik(s, n, x_idx) == pytest.approx(
        lavaan(name, "unrestricted_logl"), rel=1e-10)


def test_saturated_model_edge_values():
    """df = 0: lavaan's conventions (p-values NA, RMSEA and its interval 0, TLI/NFI/AGFI 1)."""
    ours = fi.fit_measures(fitted("hs_saturated"))
    assert ours["df"] == 0
    for key in ("pvalue", "rmsea_pvalue", "chisq_df"):
        assert math.isnan(ours[key]) and math.isnan(lavaan("hs_saturated", key))
    for key in ("rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "tli", "nfi", "agfi", "cfi"):
        assert ours[key] == pytest.approx(lavaan("hs_saturated", key), abs=EXACT)


# --------------------------------------------------------------------------- not semopy's


def test_fit_indices_are_not_semopys():
    """semopy.calc_stats gets GFI (NFI formula), AIC/BIC (not likelihood-based) and RMSEA
    (N − 1) wrong; ours equal lavaan's and would fail if taken from semopy."""
    import semopy

    logging.getLogger("semopy").setLevel(logging.ERROR)
    name = "hs_cfa"
    syntax = reference_text(reference(name)["model_file"])
    model = semopy.Model(syntax)
    model.fit(data_of(name))
    stats = semopy.calc_stats(model).T["Value"]
    ours = fi.fit_measures(fitted(name))
    for ours_key, semopy_key, gap in [("gfi", "GFI", 0.01), ("agfi", "AGFI", 0.01),
                                      ("aic", "AIC", 100.0), ("bic", "BIC", 100.0),
                                      ("rmsea", "RMSEA", 1e-4)]:
        truth = lavaan(name, ours_key)
        assert abs(ours[ours_key] - truth) <= 1e-6 * max(1.0, abs(truth)), ours_key
        assert abs(stats[semopy_key] - truth) > gap, semopy_key
