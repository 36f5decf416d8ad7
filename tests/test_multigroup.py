"""Multi-group ML, measurement invariance and path comparisons against lavaan.

References: tests/reference/multigroup_reference.R (lavaan 0.6-14) wrote
tests/reference/multigroup_hs_invariance.json (Holzinger & Swineford 1939 by
school: configural, metric, scalar, strict and a partial scalar model, with
lavTestLRT) and tests/reference/multigroup_hs_paths.json (structural paths
compared across schools with equal loadings).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from references import REFERENCE_DATA, reference, reference_table, reference_text

from sem_kit.errors import InputError
from sem_kit.estimators.multigroup import fit_multigroup, minimum_group_size, specify_groups
from sem_kit.postestimation.invariance import (
    CHEN_LARGE_N,
    STEPS,
    chen_cutoffs,
    compare_paths,
    invariance_holds,
    lr_test,
    measurement_invariance,
)

#: lavaan fitMeasures name -> sem_kit measures key, held to ±0.001 (chisq: ±0.01 %).
MEASURES = {"cfi": "cfi", "tli": "tli", "nfi": "nfi", "ifi": "ifi", "rmsea": "rmsea",
            "rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper",
            "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr", "pvalue": "pvalue"}
LIKELIHOOD = {"logl": "logl", "unrestricted.logl": "unrestricted_logl", "aic": "aic",
              "bic": "bic", "baseline.chisq": "baseline_chisq"}


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return reference_table("hs1939.csv")


@pytest.fixture(scope="module")
def hs_model() -> str:
    return reference_text("hs_cfa.lav")


@pytest.fixture(scope="module")
def ref() -> dict:
    return reference("multigroup_hs_invariance")


@pytest.fixture(scope="module")
def ref_paths() -> dict:
    return reference("multigroup_hs_paths")


@pytest.fixture(scope="module")
def fits(hs, hs_model, ref) -> dict:
    return {step: fit_multigroup(hs_model, hs, ref["group"], group_equal=r["group_equal"],
                                 group_partial=r["group_partial"])
            for step, r in ref["steps"].items()}


def _merge(params: pd.DataFrame, estimates: list[dict]) -> pd.DataFrame:
    r = pd.DataFrame(estimates)
    r["rhs"] = r["rhs"].fillna("")
    merged = params.merge(r, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"),
                          validate="one_to_one")
    assert len(merged) == len(params) == len(r)
    return merged


STEP_NAMES = ["configural", "metric", "scalar", "strict", "partial_scalar"]


@pytest.mark.parametrize("step", STEP_NAMES)
def test_fit_measures_match_lavaan(fits, ref, step):
    fit, r = fits[step], ref["steps"][step]["fit"]
    assert fit.converged
    assert fit.df == r["df"]
    assert fit.spec.npar == r["npar"]
    assert fit.measures["chisq"] == pytest.approx(r["chisq"], rel=1e-4)
    assert fit.measures["baseline_df"] == r["baseline.df"]
    assert fit.fmin == pytest.approx(r["fmin"], rel=1e-4)
    for lav, ours in MEASURES.items():
        assert fit.measures[ours] == pytest.approx(r[lav], abs=1e-3), lav
    for lav, ours in LIKELIHOOD.items():
        assert fit.measures[ours] == pytest.approx(r[lav], rel=1e-6), lav


@pytest.mark.parametrize("step", STEP_NAMES)
def test_estimates_match_lavaan(fits, ref, step):
    fit, r = fits[step], ref["steps"][step]
    assert fit.groups == tuple(r["group_label"])
    assert list(fit.n) == r["nobs"]
    m = _merge(fit.params, r["estimates"])
    assert np.allclose(m["est"], m["est_r"], atol=1e-3)
    assert np.allclose(m["std_all"], m["std.all"], atol=1e-3, equal_nan=True)
    assert np.allclose(m["std_lv"], m["std.lv"], atol=1e-3, equal_nan=True)
    free = m[m["free"] > 0]
    assert ((m["free"] > 0) == (m["free_r"] > 0)).all()
    assert np.allclose(free["se"] / free["se_r"], 1.0, atol=0.01)
    assert np.allclose(free["pvalue"], free["pvalue_r"], atol=1e-3)


def test_equal_parameters_are_equal_across_groups(fits):
    p = fits["strict"].params
    for op, sel in (("=~", p.op == "=~"), ("~1", (p.op == "~1") & p.lhs.str.startswith("x")),
                    ("~~", (p.op == "~~") & (p.lhs == p.rhs) & p.lhs.str.startswith("x"))):
        wide = p[sel].pivot_table(index=["lhs", "rhs"], columns="group", values="est")
        assert np.allclose(wide[1], wide[2]), op
    means = fits["scalar"].params
    lv_means = means[(means.op == "~1") & ~means.lhs.str.startswith("x")]
    assert (lv_means[lv_means.group == 1].free == 0).all()
    assert (lv_means[lv_means.group == 2].free > 0).all()


def test_lrt_sequence_matches_lavtestlrt(fits, ref):
    lrt = ref["lrt"]
    steps = list(STEPS)
    for k in range(1, len(steps)):
        dx2, ddf, p = lr_test(fits[steps[k]], fits[steps[k - 1]])
        assert dx2 == pytest.approx(lrt["delta_chisq"][k], rel=1e-4)
        assert ddf == lrt["delta_df"][k]
        assert p == pytest.approx(lrt["delta_pvalue"][k], abs=1e-4)
    dx2, ddf, p = lr_test(fits["partial_scalar"], fits["metric"])
    assert dx2 == pytest.approx(ref["lrt_partial"]["delta_chisq"][1], rel=1e-4)
    assert ddf == ref["lrt_partial"]["delta_df"][1]
    assert p == pytest.approx(ref["lrt_partial"]["delta_pvalue"][1], abs=1e-4)


def test_measurement_invariance_table(hs, hs_model, ref):
    inv = measurement_invariance(hs_model, hs, ref["group"])
    table = inv.table.set_index("step")
    assert list(table.index) == list(STEPS)
    for k, step in enumerate(STEPS):
        r = ref["steps"][step]["fit"]
        assert table.loc[step, "chisq"] == pytest.approx(r["chisq"], rel=1e-4)
        for key in ("cfi", "tli", "rmsea", "srmr"):
            assert table.loc[step, key] == pytest.approx(r[key], abs=1e-3)
        if k == 0:
            assert table.loc[step, "holds"] is None
            assert math.isnan(table.loc[step, "delta_chisq"])
            continue
        prev = ref["steps"][list(STEPS)[k - 1]]["fit"]
        d_cfi, d_rmsea = r["cfi"] - prev["cfi"], r["rmsea"] - prev["rmsea"]
        assert table.loc[step, "delta_cfi"] == pytest.approx(d_cfi, abs=1e-3)
        assert table.loc[step, "delta_rmsea"] == pytest.approx(d_rmsea, abs=1e-3)
        assert table.loc[step, "delta_chisq"] == pytest.approx(ref["lrt"]["delta_chisq"][k],
                                                               rel=1e-4)
        assert table.loc[step, "holds"] == invariance_holds(d_cfi, d_rmsea, sum(
            ref["steps"][step]["nobs"]))
    records = inv.records()
    assert records[0]["holds"] is None and records[0]["delta_chisq"] is None
    assert set(records[1]) >= {"step", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr",
                               "delta_chisq", "delta_df", "delta_pvalue", "delta_cfi",
                               "delta_rmsea", "holds"}
    json.dumps(records)


def test_chen_rule_boundaries():
    for n in (CHEN_LARGE_N, CHEN_LARGE_N + 1):
        cut_cfi, cut_rmsea = chen_cutoffs(n)
        assert invariance_holds(cut_cfi, cut_rmsea, n)
        assert not invariance_holds(np.nextafter(cut_cfi, -1.0), cut_rmsea, n)
        assert not invariance_holds(cut_cfi, np.nextafter(cut_rmsea, 1.0), n)
    assert chen_cutoffs(CHEN_LARGE_N)[0] > chen_cutoffs(CHEN_LARGE_N + 1)[0]
    assert chen_cutoffs(CHEN_LARGE_N)[1] < chen_cutoffs(CHEN_LARGE_N + 1)[1]


def test_path_comparison_matches_lavaan(hs, ref_paths):
    model = reference_text(ref_paths["model_file"])
    pc = compare_paths(model, hs, ref_paths["group"])
    base = ref_paths["baseline"]
    assert pc.baseline.measures["chisq"] == pytest.approx(base["fit"]["chisq"], rel=1e-4)
    m = _merge(pc.baseline.params, base["estimates"])
    assert np.allclose(m["est"], m["est_r"], atol=1e-3)
    free = m[m["free"] > 0]
    assert np.allclose(free["se"] / free["se_r"], 1.0, atol=0.01)
    reg = m[m.op == "~"]
    est = pc.estimates.merge(reg, left_on=["to", "from", "group"],
                             right_on=["lhs", "rhs", "group_label"], suffixes=("", "_m"))
    assert len(est) == len(reg) == len(pc.estimates)
    assert np.allclose(est["std"], est["std.all"], atol=1e-3)
    assert np.allclose(est["se"], est["se_r"], rtol=0.01)
    tests = pc.tests.set_index(["to", "from"])
    assert len(tests) == len(ref_paths["path_tests"])
    for t in ref_paths["path_tests"]:
        row = tests.loc[(t["lhs"], t["rhs"])]
        assert row["chisq"] == pytest.approx(t["chisq"], rel=1e-4)
        assert row["df"] == t["df"]
        assert row["delta_chisq"] == pytest.approx(t["delta_chisq"], abs=1e-3)
        assert row["delta_df"] == t["delta_df"]
        assert row["delta_pvalue"] == pytest.approx(t["delta_pvalue"], abs=1e-3)
        assert row["differs"] == (t["delta_pvalue"] < 0.05)
    json.dumps(pc.path_records() + pc.test_records())


def test_named_hypotheses(hs, ref_paths):
    model = reference_text(ref_paths["model_file"])
    pc = compare_paths(model, hs, ref_paths["group"], hypotheses={("visual", "speed"): "H2"})
    named = pc.tests[pc.tests.hypothesis == "H2"]
    assert list(zip(named["from"], named["to"], strict=True)) == [("visual", "speed")]


def test_group_too_small_is_named(hs, hs_model):
    minimum = minimum_group_size(hs_model)
    data = hs.copy()
    small = data.index[: minimum - 1]
    data.loc[small, "school"] = "Tiny"
    with pytest.raises(InputError) as err:
        fit_multigroup(hs_model, data, "school")
    message = str(err.value)
    assert "'Tiny'" in message and f"n = {minimum - 1}" in message
    assert f"at least {minimum}" in message


def test_bad_group_arguments(hs, hs_model):
    with pytest.raises(InputError, match="no grouping column 'campus'"):
        fit_multigroup(hs_model, hs, "campus")
    one = hs[hs.school == hs.school.iloc[0]]
    with pytest.raises(InputError, match="at least two"):
        fit_multigroup(hs_model, one, "school")
    with pytest.raises(InputError, match="'x10~1' is not a parameter"):
        specify_groups(hs_model, ["a", "b"], group_partial=["x10~1"])
    with pytest.raises(InputError, match="unknown group_equal"):
        specify_groups(hs_model, ["a", "b"], group_equal=["slopes"])


def test_rows_without_group_are_dropped(hs, hs_model, fits):
    data = hs.copy()
    data["school"] = data["school"].astype(object)
    data.loc[data.index[:3], "school"] = None
    fit = fit_multigroup(hs_model, data, "school")
    assert fit.dropped == 3
    assert fit.ntotal == fits["configural"].ntotal - 3


def test_second_order_scalar_is_identified(hs):
    model = reference_text("hs_second_order.lav")
    fit = fit_multigroup(model, hs, "school", group_equal=("loadings", "intercepts"))
    assert fit.converged
    p = fit.params
    second = set(p.lhs[(p.op == "=~") & p.rhs.isin(p.lhs[p.op == "=~"])])
    means = p[(p.op == "~1") & (p.group == 2)]
    assert (means[means.lhs.isin(second)].free == 0).all()


# --------------------------------------------------------------------------- the pipeline

SAMPLE = Path(__file__).parents[1] / "data" / "sample_responses.csv"


@pytest.fixture(scope="module")
def by_gender(sample_run):
    return sample_run(bootstrap=0, seed=1, group="gender")


def test_sample_data_runs_by_gender(by_gender):
    from sem_kit.report.schema_check import validate_results

    doc = by_gender.to_dict()
    validate_results(doc)
    groups = doc["groups"]
    labels = {g["label"] for g in groups["groups"]}
    demo = by_gender.questionnaire.model.demographics["gender"]
    assert labels == {t.en for t in demo.values.values()}
    assert sum(g["n"] for g in groups["groups"]) == doc["meta"]["n_analyzed"]
    assert [r["step"] for r in groups["invariance"]] == list(STEPS)
    assert all(isinstance(r["holds"], bool) for r in groups["invariance"][1:])
    hyps = set(by_gender.questionnaire.hypotheses)
    assert {r["hypothesis"] for r in groups["paths"]} == hyps
    assert len(groups["paths"]) == len(hyps) * len(labels)
    assert {r["hypothesis"] for r in groups["path_tests"]} == hyps
    inv = by_gender.groups.invariance
    for step, fit in inv.fits.items():
        assert fit.converged, step
    json.dumps(groups)


def test_too_small_group_in_the_pipeline():
    from sem_kit.pipeline import analyze

    frame = pd.read_csv(SAMPLE)
    small = frame.index[: len(frame) // 20]
    frame["gender"] = frame["gender"].astype(object)
    frame.loc[small, "gender"] = "Other"
    with pytest.raises(InputError) as err:
        analyze(frame, bootstrap=0, seed=1, group="gender")
    message = str(err.value)
    assert "'Other'" in message and "too small" in message and "at least" in message


def test_unknown_group_column():
    from sem_kit.pipeline import analyze

    with pytest.raises(InputError, match="--group campus: no such demographic column"):
        analyze(SAMPLE, bootstrap=0, seed=1, group="campus")


TEXT_CODED = """
format: 1
name: hs-by-school
constructs:
  visual: {name: Visual, items: {x1: a, x2: b, x3: c}}
  textual: {name: Textual, items: {x4: d, x5: e, x6: f}}
  speed: {name: Speed, items: {x7: g, x8: h, x9: i}}
demographics:
  school:
    name: {en: School, zh: 学校}
    values: {Pasteur: {en: Pasteur, zh: 巴斯德}, Grant-White: {en: Grant-White, zh: 格兰特}}
"""


@pytest.fixture(scope="module")
def by_school(tmp_path_factory):
    """lavaan's HolzingerSwineford1939 through ``sem_kit.analyze --group school``: the
    school column holds the text codes Pasteur and Grant-White."""
    from sem_kit.pipeline import analyze

    path = tmp_path_factory.mktemp("school") / "hs_school.yaml"
    path.write_text(TEXT_CODED, encoding="utf-8")
    return analyze(REFERENCE_DATA / "hs1939.csv", path, bootstrap=0, seed=1, group="school")


def test_text_coded_group_matches_lavaan(by_school, ref):
    """The configural to strict steps by a text-coded demographic are lavaan's (the numbers
    multigroup_reference.R stored for cfa(..., group = "school"))."""
    from sem_kit.report.schema_check import validate_results

    doc = by_school.to_dict()
    validate_results(doc)
    groups = doc["groups"]
    assert groups["column"] == "school"
    assert groups["groups"] == [{"label": label, "n": n} for label, n in zip(
        ref["steps"]["configural"]["group_label"], ref["steps"]["configural"]["nobs"],
        strict=True)]
    assert not [w for w in by_school.warnings if "school" in w]
    for k, row in enumerate(groups["invariance"]):
        r = ref["steps"][row["step"]]["fit"]
        assert row["df"] == r["df"]
        assert row["chisq"] == pytest.approx(r["chisq"], rel=1e-4)
        for key in ("cfi", "tli", "rmsea", "srmr"):
            assert row[key] == pytest.approx(r[key], abs=1e-3), (row["step"], key)
        if k:
            assert row["delta_chisq"] == pytest.approx(ref["lrt"]["delta_chisq"][k], rel=1e-4)


def test_text_coded_demographic_in_the_sample_table(by_school, ref):
    from sem_kit.report.i18n import Lang
    from sem_kit.report.tables import build_tables

    for lang, labels in (("en", ["Pasteur", "Grant-White"]), ("zh", ["巴斯德", "格兰特"])):
        table = build_tables(by_school, Lang(lang, by_school.questionnaire))["demographics"]
        data = table.data
        assert data["code"].tolist() == ["Pasteur", "Grant-White"]
        assert data["category"].tolist() == labels
        assert data["n"].tolist() == ref["steps"]["configural"]["nobs"]  # lavaan's group sizes
        assert Lang(lang, by_school.questionnaire).group_label("school", "Grant-White") == \
            labels[1]
