"""Bootstrap intervals against boot/lavaan (stored), and seed invariance across jobs."""

from __future__ import annotations

import numpy as np
import pytest
from references import reference, reference_table

from sem_kit.engine.optimizer import RefitFailed
from sem_kit.postestimation.bootstrap import (
    bias_corrected_ci,
    norm_inter,
    percentile_ci,
    resample_rows,
    run_bootstrap,
)

BOOT = reference("bootstrap_reference")
T = reference_table("boot_replicates.csv")["t"].to_numpy()


def test_percentile_matches_boot_norm_inter() -> None:
    ci = percentile_ci(T[:, None], level=BOOT["level"])[0]
    np.testing.assert_allclose(ci, BOOT["perc"], rtol=0, atol=1e-12)


def test_bias_corrected_matches_lavaan_bca_simple() -> None:
    ci = bias_corrected_ci(T[:, None], np.array([BOOT["t0"]]), level=BOOT["level"])[0]
    np.testing.assert_allclose(ci, BOOT["bca_simple"], rtol=0, atol=1e-12)


def test_norm_inter_at_odd_and_extreme_alphas() -> None:
    got = norm_inter(T[: BOOT["odd_n"]], np.array(BOOT["odd_alpha"]))
    np.testing.assert_allclose(got, BOOT["odd"], rtol=0, atol=1e-12)


def _mean_stat(sample: np.ndarray) -> np.ndarray:
    return sample.mean(axis=0)


def _failing_stat(sample: np.ndarray) -> np.ndarray:
    if sample[0, 0] > 1.5:
        raise RefitFailed("did not converge")
    return sample.mean(axis=0)


def test_same_seed_same_replicates_whatever_the_jobs() -> None:
    data = np.random.default_rng(1).normal(size=(60, 3))
    one = run_bootstrap(_mean_stat, data, 40, seed=11, k=3, jobs=1)
    two = run_bootstrap(_mean_stat, data, 40, seed=11, k=3, jobs=2)
    np.testing.assert_array_equal(one.estimates, two.estimates)
    other = run_bootstrap(_mean_stat, data, 40, seed=12, k=3, jobs=1)
    assert not np.array_equal(one.estimates, other.estimates)
    np.testing.assert_array_equal(
        one.estimates[7], data[resample_rows(60, 7, 11)].mean(axis=0)
    )


def test_failed_refits_are_counted_not_dropped() -> None:
    data = np.random.default_rng(2).normal(size=(30, 2))
    res = run_bootstrap(_failing_stat, data, 50, seed=3, k=2, jobs=1)
    assert res.n_failed > 0
    assert res.n_ok + res.n_failed == 50
    assert np.isnan(res.estimates[list(res.failed)]).all()
    assert set(res.reasons) == {"did not converge"}
    assert res.ok().shape == (50 - res.n_failed, 2)


def test_percentile_interval_of_a_mean_covers_it() -> None:
    data = np.random.default_rng(5).normal(loc=2.0, size=(200, 1))
    res = run_bootstrap(_mean_stat, data, 500, seed=9, k=1)
    lo, hi = percentile_ci(res.ok())[0]
    se = data.std(ddof=1) / np.sqrt(200)
    assert lo < data.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.15)
