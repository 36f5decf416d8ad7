"""Omega of ordinal items under WLSMV held to semTools::compRelSEM (semTools 0.5.6).

Reference numbers come from tests/reference/ordinal_reliability_reference.R
(tests/reference/ordinal_reliability.json): the nine-factor CFA (13 first-order factors and
the second-order KCH, 48 seven-point items) and the three-factor model of
estimators_ordinal.lav (12 five-point items), both fitted with ``ordered = TRUE, estimator =
"WLSMV"``, and ``compRelSEM(fit)`` (Green & Yang's categorical omega, ``ord.scale = TRUE``),
``compRelSEM(fit, ord.scale = FALSE)`` and both with ``obs.var = FALSE``.

Two checks per variant: the formula fed lavaan's own matrices (agrees to about 5e-15), and
the whole chain from our :func:`~sem_kit.estimators.wlsmv.fit_wlsmv` (agrees to below 1e-6; the
tolerance is 1e-5). Then properties: binary items split at 0 have a closed form, many
categories approach the latent-response omega, values lie in (0, 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from references import reference as stored_reference
from references import reference_table, reference_text
from scipy.special import ndtri

from sem_kit.engine.fit import model_matrices
from sem_kit.engine.syntax import specify
from sem_kit.estimators.wlsmv import fit_wlsmv
from sem_kit.measurement.reliability import categorical_omega, categorical_omega_by_construct, omega

MODELS = ["ninefactor_cfa", "ordinal_sem"]
FORMULA_TOL = 1e-10  # the formula on lavaan's matrices
FIT_TOL = 1e-5  # through our own WLSMV estimates (observed: below 1e-6)

#: stored key -> (ord_scale, denominator: sample polychorics or model-implied correlations)
VARIANTS = {
    "comp_rel_sem": (True, "sample"),
    "comp_rel_sem_latent": (False, "sample"),
    "comp_rel_sem_implied": (True, "implied"),
    "comp_rel_sem_latent_implied": (False, "implied"),
}


def _matrix(m: dict) -> pd.DataFrame:
    return pd.DataFrame(np.array(m["values"], dtype=float), index=m["rownames"],
                        columns=m["colnames"])


@pytest.fixture(scope="module")
def reference() -> dict:
    return stored_reference("ordinal_reliability")


@pytest.fixture(scope="module", params=MODELS)
def fitted(request, reference):
    """(name, stored entry, our WLSMV fit, its model matrices), fitted once per model."""
    ref = reference["models"][request.param]
    model = reference_text(ref["model_file"])
    data = reference_table(ref["data_file"])
    fit = fit_wlsmv(model, data)
    return request.param, ref, fit, model_matrices(fit)


def test_reference_was_made_as_documented(reference):
    assert reference["semtools_version"] == "0.5.6"
    assert reference["lavaan_version"].startswith("0.6")
    for name in MODELS:
        ref = reference["models"][name]
        assert ref["converged"]
        assert ref["options"] == {"estimator": "DWLS", "parameterization": "delta"}
        assert set(ref["matrices"]["scales"].values()) == {1.0}
    nine = reference["models"]["ninefactor_cfa"]
    # compRelSEM leaves out the second-order factor, and cannot compute it for ordinal items
    assert nine["higher_order"] == ["KCH"]
    assert "KCH" not in nine["comp_rel_sem"]
    assert nine["higher_order_error"] == "non-conformable arguments"


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("key", VARIANTS)
def test_formula_on_lavaan_matrices(reference, name, key):
    ref = reference["models"][name]
    mats = ref["matrices"]
    ord_scale, denominator = VARIANTS[key]
    cov = _matrix(mats["sampstat_cov" if denominator == "sample" else "fitted_cov"])
    ours = categorical_omega_by_construct(_matrix(mats["lambda"]), _matrix(mats["cov_lv"]), cov,
                                          mats["thresholds"], ord_scale=ord_scale)
    expected = pd.Series(ref[key], dtype=float)
    assert list(ours.index) == list(expected.index)
    assert np.abs(ours - expected).max() < FORMULA_TOL


@pytest.mark.parametrize("key", VARIANTS)
def test_our_wlsmv_fit_matches_semtools(fitted, key):
    name, ref, fit, mats = fitted
    ord_scale, denominator = VARIANTS[key]
    cov = fit.sample_cov if denominator == "sample" else fit.implied_cov
    ours = categorical_omega_by_construct(mats.lambda_, mats.cov_lv, cov, fit.params,
                                          ord_scale=ord_scale)
    expected = pd.Series(ref[key], dtype=float)
    assert list(ours.index) == list(expected.index), name
    assert np.abs(ours - expected).max() < FIT_TOL, name


def test_construct_map_as_the_questionnaire_gives_it(fitted):
    """A construct -> items dict of the first-order constructs gives the same numbers."""
    name, ref, fit, mats = fitted
    spec = specify(reference_text(ref["model_file"]))
    items = {f: [i for i in spec.observed if mats.lambda_.loc[i, f] != 0]
             for f in spec.latent if (mats.lambda_[f] != 0).any()}
    default = categorical_omega_by_construct(mats.lambda_, mats.cov_lv, fit.sample_cov,
                                             fit.params)
    mapped = categorical_omega_by_construct(mats.lambda_, mats.cov_lv, fit.sample_cov,
                                            fit.params, dict(reversed(items.items())))
    assert list(mapped.index) == list(reversed(items))
    pd.testing.assert_series_equal(mapped.loc[default.index], default, rtol=0, atol=1e-15)
    # the latent-scale variant is the continuous omega with the polychorics as covariances
    latent = categorical_omega_by_construct(mats.lambda_, mats.cov_lv, fit.sample_cov,
                                            fit.params, items, ord_scale=False)
    for f, its in items.items():
        lam = mats.lambda_.loc[its, f].to_numpy()
        expected = omega(lam, mats.cov_lv.loc[f, f], fit.sample_cov.loc[its, its])
        assert latent[f] == pytest.approx(expected, abs=1e-15)
    if name == "ninefactor_cfa":
        with pytest.raises(ValueError, match="first-order"):
            categorical_omega_by_construct(mats.lambda_, mats.cov_lv, fit.sample_cov,
                                           fit.params, {"KCH": ["ECO1", "SCA1", "TIM1"]})


def test_categorical_below_latent_scale_on_the_reference_data(reference):
    # Coarsening into 5 or 7 categories costs reliability in both data sets.
    for name in MODELS:
        ref = reference["models"][name]
        for f, value in ref["comp_rel_sem"].items():
            assert 0 < value < ref["comp_rel_sem_latent"][f] < 1, (name, f)


# --------------------------------------------------------------------------- properties


def _implied(lam: np.ndarray) -> np.ndarray:
    """Model-implied latent-response correlations of a one-factor model (phi = 1)."""
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    return r


def test_binary_items_split_at_zero_have_a_closed_form():
    # Phi2(0, 0; r) = 1/4 + asin(r) / (2 pi), so omega_cat = sum asin(r*) / sum asin(r),
    # with r* = lambda_j lambda_j' phi (communality on the diagonal) and r_jj = 1.
    lam = np.array([0.9, 0.7, 0.55, 0.4])
    phi = 1.1
    rng = np.random.default_rng(7)
    r = _implied(lam * math.sqrt(phi))
    r += np.triu(rng.uniform(-0.05, 0.05, (4, 4)), 1)
    r = np.triu(r) + np.triu(r, 1).T
    value = categorical_omega(lam, phi, [[0.0]] * 4, r)
    expected = np.arcsin(np.outer(lam, lam) * phi).sum() / np.arcsin(r).sum()
    assert value == pytest.approx(expected, abs=1e-14)


def test_heywood_communality_is_taken_as_one():
    # A loading above 1 (communality 1.21 on the diagonal) is handled as a correlation of 1,
    # Phi2(a, b; 1) = Phi(min(a, b)), as mnormt::pmnorm in semTools does.
    lam = np.array([1.1, 0.5, 0.4])
    r = _implied(np.array([0.95, 0.5, 0.4]))
    common = np.clip(np.outer(lam, lam), -1, 1)
    value = categorical_omega(lam, 1.0, [[0.0]] * 3, r)
    assert value == pytest.approx(np.arcsin(common).sum() / np.arcsin(r).sum(), abs=1e-14)


def test_many_categories_approach_the_latent_scale_omega():
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.75])
    r = _implied(lam)
    latent = lam.sum() ** 2 / r.sum()
    # Category ranks are a step function of y*; with thresholds equally spaced (width w)
    # over the whole range the sum score tends to a linear function of the sum of the y*.
    # (Equally likely categories would tend to sum Phi(y*) instead, a different limit.)
    gaps = []
    for width in (2.0, 1.0, 0.5, 0.25, 0.1):
        tau = np.arange(-6.0, 6.0 + width / 2, width)
        gaps.append(latent - categorical_omega(lam, 1.0, [tau] * lam.size, r))
    assert all(g > 0 for g in gaps)
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < 5e-4
    # the loss shrinks like w^2, the grouping error of Sheppard's correction
    assert gaps[-2] / gaps[-1] == pytest.approx((0.25 / 0.1) ** 2, rel=0.05)
    # and with few equally likely categories the loss is clear
    tau3 = ndtri(np.arange(1, 3) / 3)
    assert latent - categorical_omega(lam, 1.0, [tau3] * lam.size, r) > 0.02
    names = [f"y{i}" for i in range(lam.size)]
    latent_series = categorical_omega_by_construct(
        pd.DataFrame({"F": lam}, index=names), pd.DataFrame([[1.0]], index=["F"], columns=["F"]),
        pd.DataFrame(r, index=names, columns=names), {}, ord_scale=False)
    assert latent_series["F"] == pytest.approx(latent, abs=1e-15)


def test_values_lie_between_zero_and_one():
    rng = np.random.default_rng(2009)
    for _ in range(40):
        k = int(rng.integers(2, 7))
        lam = rng.uniform(0.2, 0.95, k)
        phi = float(rng.uniform(0.5, 2.0))
        taus = [np.sort(rng.normal(0, 1, int(rng.integers(1, 7)))) for _ in range(k)]
        value = categorical_omega(lam, phi, taus, _implied(lam * math.sqrt(phi)))
        assert 0 < value < 1


def test_thresholds_from_a_parameter_table_in_any_row_order():
    # t10 and t11 sort after t9; a shuffled table gives the same thresholds.
    items = ["a", "b", "c"]
    lam = pd.DataFrame({"F": [0.8, 0.6, 0.7]}, index=items)
    cov_lv = pd.DataFrame([[1.0]], index=["F"], columns=["F"])
    r = pd.DataFrame(_implied(lam["F"].to_numpy()), index=items, columns=items)
    taus = {i: ndtri(np.arange(1, 12) / 12) + 0.1 * n for n, i in enumerate(items)}
    rows = [{"lhs": i, "op": "|", "rhs": f"t{c + 1}", "est": t}
            for i in items for c, t in enumerate(taus[i])]
    rows += [{"lhs": i, "op": "~*~", "rhs": i, "est": 1.0} for i in items]
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=3)
    from_map = categorical_omega_by_construct(lam, cov_lv, r, taus)
    from_table = categorical_omega_by_construct(lam, cov_lv, r, table)
    assert from_table["F"] == from_map["F"]
    table.loc[table.op == "~*~", "est"] = 0.8
    with pytest.raises(ValueError, match="delta"):
        categorical_omega_by_construct(lam, cov_lv, r, table)


def test_bad_input_is_refused():
    lam = pd.DataFrame({"F": [0.8, 0.6]}, index=["a", "b"])
    cov_lv = pd.DataFrame([[1.0]], index=["F"], columns=["F"])
    r = pd.DataFrame(_implied(lam["F"].to_numpy()), index=["a", "b"], columns=["a", "b"])
    with pytest.raises(ValueError, match="no thresholds"):
        categorical_omega_by_construct(lam, cov_lv, r, {"a": [0.0]})
    with pytest.raises(ValueError, match="not a factor"):
        categorical_omega_by_construct(lam, cov_lv, r, {"a": [0.0], "b": [0.0]}, {"G": ["a"]})
    with pytest.raises(ValueError, match="threshold sets"):
        categorical_omega([0.8, 0.6], 1.0, [[0.0]], r.to_numpy())
    with pytest.raises(ValueError, match="finite threshold"):
        categorical_omega([0.8, 0.6], 1.0, [[0.0], []], r.to_numpy())
