"""HTMT, HTMT2 and Fornell-Larcker held to semTools / lavaan; the threshold verdicts.

Reference numbers come from tests/reference/psych_reference.R.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from psych_ref import DATASETS, TIGHT, load, matrix

from sem_kit.measurement.discriminant import discriminant_validity, fornell_larcker, htmt
from sem_kit.measurement.moments import correlation_matrix, covariance_matrix
from sem_kit.thresholds import (
    DEFAULT_THRESHOLDS,
    IMPROPER,
    Cutoff,
    bartlett_verdict,
    judge_fit,
    kaiser_label,
    verdict,
    with_scaled_ratio,
)


@pytest.fixture(params=DATASETS)
def dataset(request):
    return load(request.param)


def test_htmt_matches_semtools(dataset):
    ref, data, constructs = dataset
    ours = htmt(covariance_matrix(data), constructs)
    theirs = matrix(ref["htmt"]).loc[list(constructs), list(constructs)]
    assert np.abs(ours.to_numpy() - theirs.to_numpy()).max() < TIGHT


def test_htmt2_matches_semtools(dataset):
    ref, data, constructs = dataset
    ours = htmt(covariance_matrix(data), constructs, htmt2=True)
    theirs = matrix(ref["htmt2"]).loc[list(constructs), list(constructs)]
    assert np.abs(ours.to_numpy() - theirs.to_numpy()).max() < TIGHT


def test_htmt_ignores_item_signs(dataset):
    # semTools takes absolute correlations, so a reflected item changes nothing.
    _, data, constructs = dataset
    item = next(iter(constructs.values()))[0]
    flipped = data.copy()
    flipped[item] = -flipped[item]
    assert np.allclose(htmt(covariance_matrix(flipped), constructs),
                       htmt(covariance_matrix(data), constructs))


def test_htmt_is_a_function_of_the_correlations(dataset):
    # semTools' sample.cov: a covariance matrix, its correlations or a rescaled copy agree
    _, data, constructs = dataset
    cov = covariance_matrix(data)
    for scaled in (correlation_matrix(cov), cov * 7.5):
        for geometric in (False, True):
            np.testing.assert_allclose(htmt(scaled, constructs, htmt2=geometric),
                                       htmt(cov, constructs, htmt2=geometric), rtol=1e-12)


def test_fornell_larcker_matches_lavaan_table(dataset):
    ref, _, constructs = dataset
    fl_ref = ref["cfa"]["fornell_larcker"]
    sqrt_ave = {c: float(np.sqrt(ref["cfa"]["ave"][c])) for c in constructs}
    result = fornell_larcker(sqrt_ave, matrix(ref["cfa"]["cor_lv"]))
    expected = matrix(fl_ref["table"]).loc[list(constructs), list(constructs)]
    assert np.abs(result.table.to_numpy() - expected.to_numpy()).max() < TIGHT
    assert result.passes.to_dict() == fl_ref["passes"]


def test_discriminant_validity_bundle(dataset):
    ref, data, constructs = dataset
    sqrt_ave = pd.Series(ref["cfa"]["fornell_larcker"]["sqrt_ave"])
    result = discriminant_validity(covariance_matrix(data), constructs, sqrt_ave,
                                   matrix(ref["cfa"]["cor_lv"]))
    h = result.htmt
    good, acceptable = DEFAULT_THRESHOLDS.htmt.good, DEFAULT_THRESHOLDS.htmt.acceptable
    for a in constructs:
        assert result.htmt_verdicts.loc[a, a] is None
        for b in constructs:
            if a != b:
                v = h.loc[a, b]
                want = "good" if v < good else ("acceptable" if v < acceptable else "poor")
                assert result.htmt_verdicts.loc[a, b] == want
    d = result.to_dict()
    assert set(d) == {"htmt", "latent_correlations", "sqrt_ave"}
    a, b = list(constructs)[:2]
    assert d["htmt"][a][b] == pytest.approx(ref["htmt"][a][b], abs=TIGHT)
    assert d["sqrt_ave"][a] == pytest.approx(sqrt_ave[a], abs=TIGHT)
    with pytest.raises(ValueError, match="both"):
        discriminant_validity(covariance_matrix(data), constructs, sqrt_ave=sqrt_ave)


def test_htmt_input_errors():
    _, data, constructs = load("holzinger")
    cov = covariance_matrix(data)
    with pytest.raises(ValueError, match="two constructs"):
        htmt(cov, {"visual": constructs["visual"]})
    with pytest.raises(ValueError, match="none for empty"):
        htmt(cov, {"visual": constructs["visual"], "empty": []})
    with pytest.raises(KeyError, match="nope"):
        htmt(cov, {"visual": constructs["visual"], "other": ["x4", "nope"]})


# -- thresholds ----------------------------------------------------------------

def test_every_cutoff_has_a_source_and_ordered_levels():
    for name in DEFAULT_THRESHOLDS.names():
        cut = DEFAULT_THRESHOLDS.get(name)
        assert cut.source, name
        assert cut.describe().endswith(f"({cut.source})")


@pytest.mark.parametrize("name", DEFAULT_THRESHOLDS.names())
def test_verdict_words_at_and_around_each_cutoff(name):
    cut = DEFAULT_THRESHOLDS.get(name)
    step = 1e-6 if cut.higher_is_better else -1e-6
    assert verdict(name, cut.good + step) == "good"
    at_good = verdict(name, cut.good)
    assert at_good == ("good" if not cut.strict else
                       ("acceptable" if cut.acceptable is not None else "poor"))
    if cut.acceptable is not None:
        assert verdict(name, (cut.good + cut.acceptable) / 2) == "acceptable"
        assert verdict(name, cut.acceptable - step) == "poor"
    else:
        assert verdict(name, cut.good - step) == "poor"
    assert verdict(name, None) is None
    assert verdict(name, float("nan")) is None


def test_thresholds_are_replaceable_and_frozen():
    custom = dataclasses.replace(DEFAULT_THRESHOLDS,
                                 htmt=Cutoff(0.80, 0.85, higher_is_better=False, strict=True,
                                             source="stricter study convention"))
    value = (DEFAULT_THRESHOLDS.htmt.good + custom.htmt.good) / 2
    assert verdict("htmt", value) == "good"
    assert verdict("htmt", value, custom) == "acceptable"
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_THRESHOLDS.htmt = custom.htmt  # type: ignore[misc]
    with pytest.raises(KeyError, match="known statistics"):
        verdict("pnfi", 0.5)
    with pytest.raises(ValueError, match="acceptable"):
        Cutoff(0.5, 0.7)


def test_discriminant_validity_judges_htmt_by_the_thresholds_given():
    ref, data, constructs = load("holzinger")
    a, b = list(constructs)[:2]
    value = ref["htmt"][a][b]
    stricter = dataclasses.replace(DEFAULT_THRESHOLDS, htmt=Cutoff(
        value - 0.02, value - 0.01, higher_is_better=False, strict=True, source="test"))
    looser = dataclasses.replace(DEFAULT_THRESHOLDS, htmt=Cutoff(
        value + 0.01, value + 0.02, higher_is_better=False, strict=True, source="test"))
    cov = covariance_matrix(data)
    assert discriminant_validity(cov, constructs, thresholds=stricter).htmt_verdicts.loc[
        a, b] == "poor"
    assert discriminant_validity(cov, constructs, thresholds=looser).htmt_verdicts.loc[
        a, b] == "good"


def test_kaiser_labels_follow_kaiser_1974():
    labels = ["unacceptable", "miserable", "mediocre", "middling", "meritorious", "marvelous"]
    edges = [0.5, 0.6, 0.7, 0.8, 0.9]
    got = [kaiser_label(edges[0] - 0.01)] + [kaiser_label(e) for e in edges]
    assert got == labels
    assert kaiser_label(DEFAULT_THRESHOLDS.kmo.good) == "middling"


FIT = {"chisq": 30.0, "df": 10, "chisq_df": 3.0, "cfi": 0.93, "chisq_scaled": 20.0,
       "df_scaled": 8, "cfi_scaled": 0.96, "rmsea_robust": 0.07, "srmr": 0.05, "aic": 100.0}


def test_judge_fit_verdicts_cutoffs_and_sources():
    judged = judge_fit(FIT)
    keys = list(judged.measures)
    assert keys[keys.index("chisq_scaled") + 1] == "chisq_df_scaled"
    assert judged.measures["chisq_df_scaled"] == 2.5
    assert judged.verdicts == {"chisq_df": "poor", "cfi": "acceptable", "chisq_df_scaled": "good",
                               "cfi_scaled": "good", "rmsea_robust": "acceptable",
                               "srmr": "good"}
    assert judged.cutoffs["cfi_scaled"] is DEFAULT_THRESHOLDS.cfi
    assert judged.cutoffs["chisq_df_scaled"] is DEFAULT_THRESHOLDS.chisq_df
    assert [b for b, _ in judged.sources(list(FIT))] == ["chisq_df", "cfi", "rmsea", "srmr"]
    assert [b for b, _ in judged.sources(["aic", "chisq"])] == []


def test_judge_fit_scaled_only_improper_and_undefined():
    scaled = judge_fit(FIT, scaled_only=True)
    assert set(scaled.verdicts) == {"chisq_df_scaled", "cfi_scaled", "rmsea_robust", "srmr"}
    improper = judge_fit(dict(FIT, cfi=float("nan")), admissible=False)
    assert improper.verdicts["cfi"] is None and not improper.admissible
    assert {v for k, v in improper.verdicts.items() if k != "cfi"} == {IMPROPER}
    strict = dataclasses.replace(DEFAULT_THRESHOLDS, srmr=Cutoff(0.01, higher_is_better=False))
    assert judge_fit(FIT, thresholds=strict).verdicts["srmr"] == "poor"


def test_scaled_ratio_only_under_a_scaled_test():
    assert with_scaled_ratio({"chisq": 3.0, "df": 1}) == {"chisq": 3.0, "df": 1}
    assert np.isnan(with_scaled_ratio({"chisq_scaled": 3.0, "df_scaled": 0})["chisq_df_scaled"])
    assert with_scaled_ratio({"chisq_scaled": 3.0, "df": 2})["chisq_df_scaled"] == 1.5
    given = {"chisq_scaled": 3.0, "df_scaled": 2, "chisq_df_scaled": 9.0}
    assert with_scaled_ratio(given) == given


def test_bartlett_verdict_at_and_around_05():
    assert [bartlett_verdict(p) for p in (0.001, 0.0499, 0.05, 0.2, float("nan"), None)] == [
        "good", "good", "poor", "poor", None, None]
