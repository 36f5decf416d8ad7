"""KMO, Bartlett, EFA, parallel analysis and Harman's share held to psych.

Reference numbers come from tests/reference/psych_reference.R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from psych_ref import DATASETS, TIGHT, load, matrix

from sem_kit.measurement.efa import (
    bartlett_sphericity,
    efa,
    efa_summary,
    harman_single_factor,
    kmo,
    parallel_analysis,
)
from sem_kit.measurement.moments import correlation_matrix, covariance_matrix
from sem_kit.thresholds import DEFAULT_THRESHOLDS, kaiser_label, verdict

TOL = 1e-3  # the contract; iterative EFA (minres + GPA rotation) agrees to ~1e-5


@pytest.fixture(params=DATASETS)
def dataset(request):
    return load(request.param)


@pytest.fixture(scope="module", params=DATASETS)
def fitted_efa(request):
    ref, data, _ = load(request.param)
    return ref, efa(covariance_matrix(data), ref["efa"]["n_factors"])


def test_kmo_matches_psych(dataset):
    ref, data, _ = dataset
    k = kmo(covariance_matrix(data))
    assert abs(k.overall - ref["kmo"]["overall"]) < TIGHT
    expected = pd.Series(ref["kmo"]["per_item"])
    assert np.abs(k.per_item[expected.index].to_numpy() - expected.to_numpy()).max() < TIGHT


def test_bartlett_matches_cortest_bartlett(dataset):
    ref, data, _ = dataset
    b = bartlett_sphericity(covariance_matrix(data), len(data))
    assert abs(b.chi2 - ref["bartlett"]["chi2"]) < 1e-6
    assert b.df == ref["bartlett"]["df"]
    assert np.isclose(b.pvalue, ref["bartlett"]["pvalue"], rtol=1e-6, atol=0)
    assert b.n == ref["n"]


def test_harman_share_is_first_pc_eigenvalue_over_p(dataset):
    ref, data, _ = dataset
    assert abs(harman_single_factor(covariance_matrix(data)) - ref["harman"]["share"]) < TIGHT


def test_efa_summary_keys(dataset):
    ref, data, _ = dataset
    d = efa_summary(covariance_matrix(data), len(data)).to_dict()
    assert list(d) == ["kmo", "bartlett_chi2", "bartlett_df", "bartlett_pvalue",
                       "harman_first_factor_share"]
    assert abs(d["kmo"] - ref["kmo"]["overall"]) < TIGHT
    assert isinstance(d["bartlett_df"], int)


def test_parallel_analysis_agrees_with_fa_parallel(dataset):
    # Different random draws, so the count is compared loosely (within one).
    ref, data, _ = dataset
    pa = parallel_analysis(covariance_matrix(data), len(data), n_iter=ref["parallel"]["n_iter"],
                           quantile=ref["parallel"]["quantile"], seed=0)
    assert abs(pa.n_components - ref["parallel"]["ncomp"]) <= 1
    assert np.allclose(pa.observed.to_numpy(), ref["harman"]["eigenvalues"])
    again = parallel_analysis(covariance_matrix(data), len(data),
                              n_iter=ref["parallel"]["n_iter"],
                              quantile=ref["parallel"]["quantile"], seed=0)
    assert pa.threshold.equals(again.threshold)


def test_parallel_analysis_holzinger_finds_the_three_factors():
    ref, data, constructs = load("holzinger")
    pa = parallel_analysis(covariance_matrix(data), len(data), seed=0)
    assert pa.n_components == ref["parallel"]["ncomp"] == len(constructs)


def test_efa_eigenvalues_and_communalities(fitted_efa):
    ref, result = fitted_efa
    e = ref["efa"]
    assert np.abs(result.eigenvalues.to_numpy() - e["e_values"]).max() < TIGHT
    assert np.abs(result.common_eigenvalues.to_numpy() - e["values"]).max() < TOL
    comm = pd.Series(e["communality"])
    assert np.abs(result.communalities[comm.index].to_numpy() - comm.to_numpy()).max() < TOL
    uniq = pd.Series(e["uniquenesses"])
    assert np.abs(result.uniquenesses[uniq.index].to_numpy() - uniq.to_numpy()).max() < TOL


def test_efa_unrotated_loadings(fitted_efa):
    ref, result = fitted_efa
    expected = matrix(ref["efa"]["unrotated_loadings"])
    got = result.unrotated_loadings.loc[expected.index]
    assert np.abs(got.to_numpy() - expected.to_numpy()).max() < TOL


def test_efa_oblimin_loadings_phi_and_variance(fitted_efa):
    # psych orders, signs and names the factors; efa() applies the same conventions.
    ref, result = fitted_efa
    expected = matrix(ref["efa"]["loadings"])
    assert list(result.loadings.columns) == list(expected.columns)
    got = result.loadings.loc[expected.index, expected.columns]
    assert np.abs(got.to_numpy() - expected.to_numpy()).max() < TOL
    phi = matrix(ref["efa"]["phi"]).loc[expected.columns, expected.columns]
    assert np.abs(result.phi.to_numpy() - phi.to_numpy()).max() < TOL
    for ours, theirs in [("ss_loadings", "ss_loadings"), ("proportion_var", "proportion_var"),
                         ("cumulative_var", "cumulative_var"),
                         ("proportion_explained", "proportion_explained")]:
        exp = pd.Series(ref["efa"][theirs])
        assert np.abs(result.variance[ours][exp.index].to_numpy() - exp.to_numpy()).max() < TOL
    assert np.allclose(result.structure.to_numpy(), got.to_numpy() @ result.phi.to_numpy())


def test_efa_each_construct_loads_on_its_own_factor():
    ref, data, _ = load("holzinger")
    result = efa(covariance_matrix(data), ref["efa"]["n_factors"])
    dominant = result.loadings.abs().idxmax(axis=1)
    for items in ref["constructs"].values():
        assert dominant[items].nunique() == 1
    assert dominant.nunique() == len(ref["constructs"])


def test_efa_orthogonal_and_unrotated_options():
    ref, data, _ = load("holzinger")
    n = ref["efa"]["n_factors"]
    cov = covariance_matrix(data)
    none = efa(cov, n, rotation=None)
    assert np.allclose(none.phi.to_numpy(), np.eye(n))
    vari = efa(cov, n, rotation="varimax")
    assert np.allclose(vari.phi.to_numpy(), np.eye(n))
    # an orthogonal rotation leaves the communalities unchanged
    assert np.allclose((vari.loadings**2).sum(axis=1), none.communalities, atol=1e-8)
    with pytest.raises(ValueError, match="n_factors"):
        efa(cov, data.shape[1])
    with pytest.raises(ValueError, match="rotation"):
        efa(cov, n, rotation="quartimax")  # type: ignore[arg-type]


def test_kmo_and_harman_verdicts(dataset):
    ref, data, _ = dataset
    k = kmo(covariance_matrix(data)).overall
    assert verdict("kmo", k) == ("good" if k >= DEFAULT_THRESHOLDS.kmo.good else "poor")
    share = harman_single_factor(covariance_matrix(data))
    assert verdict("harman", share) == ("good" if share < DEFAULT_THRESHOLDS.harman.good
                                        else "poor")
    assert kaiser_label(k) in {"marvelous", "meritorious", "middling", "mediocre",
                               "miserable", "unacceptable"}


def test_a_correlation_matrix_gives_the_numbers_of_its_covariance_matrix(dataset):
    # every statistic here is a function of the correlations: R and S give the same numbers
    ref, data, _ = dataset
    cov = covariance_matrix(data)
    r = correlation_matrix(cov)
    assert np.allclose(r.to_numpy(), data.corr().to_numpy(), rtol=0, atol=1e-14)
    assert kmo(r).overall == pytest.approx(kmo(cov).overall, rel=1e-12)
    assert bartlett_sphericity(r, len(data)).chi2 == pytest.approx(
        bartlett_sphericity(cov, len(data)).chi2, rel=1e-12)
    assert harman_single_factor(r) == pytest.approx(harman_single_factor(cov), rel=1e-12)
    n = ref["efa"]["n_factors"]
    assert np.allclose(efa(r, n).loadings.to_numpy(), efa(cov, n).loadings.to_numpy(), atol=1e-6)


def test_a_singular_or_incomplete_input_is_refused():
    _, data, _ = load("holzinger")
    same = pd.DataFrame(np.ones((2, 2)), index=["a", "b"], columns=["a", "b"])
    with pytest.raises(ValueError, match="singular"):
        bartlett_sphericity(same, len(data))
    holed = data.copy()
    holed.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        covariance_matrix(holed)
    constant = covariance_matrix(data.assign(flat=1.0))
    with pytest.raises(ValueError, match="flat"):
        kmo(constant)
