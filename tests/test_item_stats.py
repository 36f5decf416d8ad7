"""Item statistics held to psych::describe and psych::alpha (tests/reference/psych_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from psych_ref import DATASETS, TIGHT, load

from sem_kit.measurement.item_stats import (
    ITEM_COLUMNS,
    alpha_if_deleted,
    corrected_item_total,
    item_statistics,
    kurtosis,
    n_missing,
    skewness,
)
from sem_kit.measurement.moments import covariance_matrix


def max_dev(ours: pd.Series, theirs: dict) -> float:
    r = pd.Series(theirs, dtype=float)
    return float(np.max(np.abs(ours.reindex(r.index).to_numpy() - r.to_numpy())))


@pytest.fixture(params=DATASETS)
def dataset(request):
    return load(request.param)


def test_reference_files_present():
    assert "holzinger" in DATASETS


def test_mean_sd_match_describe(dataset):
    ref, data, constructs = dataset
    stats = item_statistics(data, constructs).table
    assert max_dev(stats["mean"], ref["describe"]["mean"]) < TIGHT
    assert max_dev(stats["sd"], ref["describe"]["sd"]) < TIGHT


def test_skew_kurtosis_match_describe_type3(dataset):
    ref, data, _ = dataset
    assert max_dev(skewness(data), ref["describe"]["skew"]) < TIGHT
    assert max_dev(kurtosis(data), ref["describe"]["kurtosis"]) < TIGHT


def test_citc_matches_r_drop(dataset):
    ref, data, constructs = dataset
    citc = corrected_item_total(covariance_matrix(data), constructs)
    for construct, a in ref["alpha"].items():
        assert max_dev(citc[constructs[construct]], a["r_drop"]) < TIGHT, construct


def test_alpha_if_deleted_matches_alpha_drop(dataset):
    ref, data, constructs = dataset
    aid = alpha_if_deleted(covariance_matrix(data), constructs)
    for construct, a in ref["alpha"].items():
        if a["alpha_drop"] is None:
            assert aid[constructs[construct]].isna().all()
        else:
            assert max_dev(aid[constructs[construct]], a["alpha_drop"]) < TIGHT, construct


def test_item_statistics_table_layout(dataset):
    ref, data, constructs = dataset
    result = item_statistics(data, constructs)
    assert list(result.table.columns) == list(ITEM_COLUMNS)
    assert list(result.table.index) == ref["items"]
    assert result.n == ref["n"]
    assert (result.table["n_missing"] == 0).all()
    as_json = result.to_dict()
    first = ref["items"][0]
    assert set(as_json[first]) == set(ITEM_COLUMNS)
    assert isinstance(as_json[first]["n_missing"], int)
    assert abs(as_json[first]["citc"] - result.table.loc[first, "citc"]) < TIGHT


def test_n_missing_counts_frame_before_deletion():
    ref, data, constructs = load("holzinger")
    raw = data.copy()
    rng = np.random.default_rng(7)
    holes = {item: rng.choice(len(raw), size=k, replace=False)
             for k, item in enumerate(ref["items"])}
    for item, rows in holes.items():
        raw.loc[rows, item] = np.nan
    counts = n_missing(raw)
    assert counts.to_dict() == {item: len(rows) for item, rows in holes.items()}
    complete = raw.dropna()
    table = item_statistics(complete, constructs, missing=raw).table
    assert table["n_missing"].to_dict() == counts.to_dict()
    table2 = item_statistics(complete, constructs, missing=counts).table
    assert table2["n_missing"].to_dict() == counts.to_dict()


def test_two_item_construct_has_undefined_alpha_if_deleted():
    _, data, _ = load("holzinger")
    aid = alpha_if_deleted(covariance_matrix(data), {"pair": ["x1", "x2"]})
    assert aid.isna().all()
    citc = corrected_item_total(covariance_matrix(data), {"pair": ["x1", "x2"]})
    r = data["x1"].corr(data["x2"])
    assert np.allclose(citc.to_numpy(), r)


def test_unknown_item_is_named():
    _, data, _ = load("holzinger")
    with pytest.raises(KeyError, match="x99"):
        item_statistics(data, {"visual": ["x1", "x99"]})
    with pytest.raises(KeyError, match="x99"):
        corrected_item_total(covariance_matrix(data), {"visual": ["x1", "x99"]})
    with pytest.raises(TypeError, match="x1"):
        item_statistics(data.astype({"x1": str}), {"visual": ["x1", "x2"]})


def test_citc_and_alpha_if_deleted_come_from_the_covariance_given():
    # under FIML the stage passes the EM covariance matrix: the moments stay each item's
    # own answers (available cases), CITC and alpha if deleted follow the matrix given
    ref, data, constructs = load("holzinger")
    holed = data.copy()
    holed.iloc[:10, 0] = np.nan
    cov = covariance_matrix(data)
    result = item_statistics(holed, constructs, cov=cov)
    assert result.n == len(holed)
    assert result.table.loc[ref["items"][0], "mean"] == pytest.approx(
        holed[ref["items"][0]].iloc[10:].mean(), rel=1e-12)
    assert result.table.loc[ref["items"][0], "n_missing"] == 10
    complete = item_statistics(data, constructs).table
    for stat in ("citc", "alpha_if_deleted"):
        np.testing.assert_allclose(result.table[stat].to_numpy(), complete[stat].to_numpy(),
                                   rtol=1e-12)
    with pytest.raises(ValueError, match="missing"):
        item_statistics(holed, constructs)
