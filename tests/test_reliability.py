"""Reliability held to psych::alpha, lavaan + Fornell-Larcker CR/AVE and semTools omegas.

Reference numbers come from tests/reference/psych_reference.R; the CFA
estimates fed in here are lavaan's, stored by that script.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pingouin
import pytest
from psych_ref import DATASETS, TIGHT, load, matrix

from sem_kit.measurement.moments import covariance_matrix
from sem_kit.measurement.reliability import (
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
    feldt_interval,
    omega,
    omega_by_construct,
    raw_alpha,
    reliability_l2,
    reliability_table,
)
from sem_kit.thresholds import DEFAULT_THRESHOLDS, Cutoff, verdict

TOL = 1e-3  # the contract: lavaan/psych/semTools to the third decimal


@pytest.fixture(params=DATASETS)
def dataset(request):
    return load(request.param)


def test_alpha_and_feldt_ci_match_psych(dataset):
    ref, data, constructs = dataset
    for construct, items in constructs.items():
        a = cronbach_alpha(covariance_matrix(data[items]), len(data))
        r = ref["alpha"][construct]
        assert abs(a.alpha - r["raw_alpha"]) < TIGHT, construct
        assert abs(a.ci_lower - r["ci_lower"]) < TIGHT, construct
        assert abs(a.ci_upper - r["ci_upper"]) < TIGHT, construct
        assert (a.n, a.k) == (ref["n"], len(items))


def test_alpha_of_the_covariance_matrix_is_pingouins_of_the_data(dataset):
    # pingouin rounds its interval to three decimals; ours is the same formula unrounded.
    _, data, constructs = dataset
    for items in constructs.values():
        alpha, ci = pingouin.cronbach_alpha(data[items])
        ours = cronbach_alpha(covariance_matrix(data[items]), len(data))
        assert ours.alpha == pytest.approx(alpha, rel=1e-12)
        lower, upper = feldt_interval(alpha, len(data), len(items))
        assert np.allclose([lower, upper], ci, atol=5e-4)
        assert (ours.ci_lower, ours.ci_upper) == pytest.approx((lower, upper), rel=1e-12)


def test_alpha_does_not_depend_on_the_covariance_divisor(dataset):
    # lavaan's sample covariance (divisor n) and cov() (divisor n - 1) give the same alpha
    _, data, constructs = dataset
    for items in constructs.values():
        assert raw_alpha(data[items].cov(ddof=0)) == pytest.approx(
            raw_alpha(covariance_matrix(data[items])), rel=1e-12)


def test_cr_ave_from_lavaan_std_loadings(dataset):
    ref, _, constructs = dataset
    std = ref["cfa"]["std_loadings"]
    for construct, items in constructs.items():
        lam = [std[i] for i in items]
        assert abs(composite_reliability(lam) - ref["cfa"]["cr"][construct]) < TIGHT
        assert abs(average_variance_extracted(lam) - ref["cfa"]["ave"][construct]) < TIGHT


def test_reliability_table(dataset):
    ref, data, constructs = dataset
    table = reliability_table(covariance_matrix(data), len(data), constructs,
                              ref["cfa"]["std_loadings"]).table
    assert list(table.columns) == ["alpha", "alpha_ci_lower", "alpha_ci_upper", "cr", "ave",
                                   "note"]
    assert table["note"].isna().all()  # no single-item construct
    table = table.drop(columns="note")
    assert list(table.index) == list(constructs)
    expected = pd.DataFrame({
        "alpha": {c: a["raw_alpha"] for c, a in ref["alpha"].items()},
        "alpha_ci_lower": {c: a["ci_lower"] for c, a in ref["alpha"].items()},
        "alpha_ci_upper": {c: a["ci_upper"] for c, a in ref["alpha"].items()},
        "cr": ref["cfa"]["cr"],
        "ave": ref["cfa"]["ave"],
    }).loc[list(constructs)]
    assert np.abs(table.to_numpy() - expected.to_numpy()).max() < TOL
    no_cfa = reliability_table(covariance_matrix(data), len(data), constructs).table
    assert no_cfa[["cr", "ave"]].isna().all().all()


def test_lavaan_sample_cov_is_the_n_divisor_covariance(dataset):
    ref, data, _ = dataset
    s = matrix(ref["cfa"]["sample_cov"])
    ours = data.cov(ddof=0).loc[s.index, s.columns]
    assert np.abs(ours.to_numpy() - s.to_numpy()).max() < TIGHT


def test_omega_matches_comprelsem(dataset):
    ref, data, constructs = dataset
    lam = matrix(ref["cfa"]["lambda"])
    cov_lv = matrix(ref["cfa"]["cov_lv"])
    cov = data.cov(ddof=0)
    for construct, items in constructs.items():
        value = omega(lam.loc[items, construct], cov_lv.loc[construct, construct],
                      cov.loc[items, items])
        assert abs(value - ref["cfa"]["omega"][construct]) < TOL, construct
    by = omega_by_construct(lam, cov_lv, cov)
    expected = pd.Series(ref["cfa"]["omega"])
    assert list(by.index) == list(expected.index)
    assert np.abs(by.to_numpy() - expected.to_numpy()).max() < TOL


def test_omega_model_implied_denominator(dataset):
    # obs_var=False: the denominator is lambda phi lambda' + theta, which lavaan reproduces.
    ref, _, constructs = dataset
    lam = matrix(ref["cfa"]["lambda"])
    cov_lv = matrix(ref["cfa"]["cov_lv"])
    theta = matrix(ref["cfa"]["theta"])
    construct, items = next(iter(constructs.items()))
    lam_f = lam.loc[items, construct].to_numpy()
    phi = cov_lv.loc[construct, construct]
    implied = np.outer(lam_f, lam_f) * phi + theta.loc[items, items].to_numpy()
    value = omega(lam_f, phi, None, theta=theta.loc[items, items], obs_var=False)
    assert abs(value - lam_f.sum() ** 2 * phi / implied.sum()) < TIGHT
    with pytest.raises(ValueError, match="theta"):
        omega(lam_f, phi, None, obs_var=False)


def test_reliability_l2_matches_semtools(dataset):
    ref, _, _ = dataset
    h = ref["hierarchical"]
    for factor, expected in h["reliability_l2"].items():
        got = reliability_l2(matrix(h["lambda"]), matrix(h["beta"]), matrix(h["psi"]),
                             matrix(h["theta"]), factor, cov_lv=matrix(h["cov_lv"]))
        assert abs(got.omega_l1 - expected["omegaL1"]) < TOL, factor
        assert abs(got.omega_l2 - expected["omegaL2"]) < TOL, factor
        assert abs(got.partial_omega_l1 - expected["partialOmegaL1"]) < TOL, factor
        # psi of an exogenous second-order factor is its variance: the default
        same = reliability_l2(matrix(h["lambda"]), matrix(h["beta"]), matrix(h["psi"]),
                              matrix(h["theta"]), factor)
        assert same == got


def test_omega_in_a_second_order_model_uses_implied_latent_variance(dataset):
    # compRelSEM on the hierarchical CFA: a dimension's variance includes the
    # part explained by the second-order factor (cov.lv, not psi).
    ref, data, _ = dataset
    h = ref["hierarchical"]
    by = omega_by_construct(matrix(h["lambda"]), matrix(h["cov_lv"]), data.cov(ddof=0))
    expected = pd.Series(h["omega"])
    assert list(by.index) == list(expected.index)
    assert np.abs(by.to_numpy() - expected.to_numpy()).max() < TOL


def test_reliability_l2_on_a_hand_built_hierarchy():
    # A second-order factor G over the three Holzinger factors, built from the
    # first-order lavaan estimates: with equal second-order loadings and no
    # disturbance, omegaL2 is 1 and omegaL1 equals partialOmegaL1.
    ref, _, constructs = load("holzinger")
    lam = matrix(ref["cfa"]["lambda"])
    theta = matrix(ref["cfa"]["theta"])
    names = list(constructs) + ["G"]
    lam_g = lam.reindex(columns=names, fill_value=0.0)
    beta = pd.DataFrame(0.0, index=names, columns=names)
    beta.loc[list(constructs), "G"] = 1.0
    psi = pd.DataFrame(0.0, index=names, columns=names)
    psi.loc["G", "G"] = 1.0
    got = reliability_l2(lam_g, beta, psi, theta, "G")
    assert abs(got.omega_l2 - 1.0) < TIGHT
    assert abs(got.omega_l1 - got.partial_omega_l1) < TIGHT
    total = lam.to_numpy().sum() ** 2
    assert abs(got.omega_l1 - total / (total + theta.to_numpy().sum())) < TIGHT


def test_alpha_needs_complete_cases_and_two_items():
    _, data, constructs = load("holzinger")
    items = constructs["visual"]
    holed = data[items].copy()
    holed.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        covariance_matrix(holed)
    with pytest.raises(ValueError, match="two items"):
        cronbach_alpha(covariance_matrix(data[items[:1]]), len(data))
    with pytest.raises(KeyError, match="x99"):
        reliability_table(covariance_matrix(data), len(data), {"visual": items + ["x99"]})


def test_reliability_verdicts_use_thresholds(dataset):
    ref, data, constructs = dataset
    table = reliability_table(covariance_matrix(data), len(data), constructs,
                              ref["cfa"]["std_loadings"]).table
    for stat in ("alpha", "cr", "ave"):
        cut = DEFAULT_THRESHOLDS.get(stat).good
        for value in table[stat]:
            assert verdict(stat, value) == ("good" if value >= cut else "poor")
    stricter = dataclasses.replace(DEFAULT_THRESHOLDS,
                                   alpha=Cutoff(float(table["alpha"].max()) + 0.01))
    assert all(verdict("alpha", v, stricter) == "poor" for v in table["alpha"])
    assert verdict("alpha", float("nan")) is None
