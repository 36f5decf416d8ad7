"""Single-item constructs against lavaan 0.6-14, semTools 0.5-6 and psych.

Every expected number comes from tests/reference/single_item.json, written by
tests/reference/single_item_reference.R:

- ``hs``: lavaan's HolzingerSwineford1939 with ``speed =~ x7`` alone (its loading the
  marker 1, its residual variance fixed at 0: ``auto.fix.single``), as a CFA and with
  ``speed ~ visual + textual``, each by ML, MLR and FIML (on estimators_hs_missing.csv), and
  by school (configural to strict, and the structural paths compared across schools);
- ``questionnaire``: tests/reference/data/single_item.yaml, whose single item SAT1
  measures the mediator SAT, on 500 answers simulated by sem_kit (single_item.csv, and
  single_item_missing.csv with 5% of the answers deleted), run through ``sem_kit.analyze``;
- ``wlsmv``: lavaan's WLSMV with a single ordinal indicator, which it cannot identify.

Tolerances: estimates, SEs, std.all, R², fit measures, HTMT, alpha and omega ±0.001
absolute (χ², AIC and BIC too: they agree to about 1e-5).
"""

from __future__ import annotations

import json
import math
import textwrap
from functools import cache
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from docx import Document
from references import REFERENCE_DATA, reference, reference_table, reference_text

from sem_kit import AnalysisResult, InputError, analyze
from sem_kit.cli import main
from sem_kit.engine.syntax import specify
from sem_kit.estimators.dispatch import fit_estimator
from sem_kit.estimators.wlsmv import fit_wlsmv
from sem_kit.measurement.item_stats import LONE_ITEM_NOTE
from sem_kit.measurement.reliability import SINGLE_ITEM_NOTE
from sem_kit.report.schema_check import validate_results

ABS = 1e-3
FITS = ["cfa_ml", "sem_ml", "cfa_mlr", "sem_mlr", "cfa_fiml", "sem_fiml"]
#: lavaan fitMeasures name -> sem_kit FIT key.
FIT_KEYS = {
    "chisq": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli", "nfi": "nfi",
    "ifi": "ifi", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_lower",
    "rmsea.ci.upper": "rmsea_ci_upper", "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr",
    "gfi": "gfi", "agfi": "agfi", "aic": "aic", "bic": "bic",
}
ROBUST_KEYS = {
    "chisq.scaled": "chisq_scaled", "df.scaled": "df_scaled", "pvalue.scaled": "pvalue_scaled",
    "chisq.scaling.factor": "scaling_factor", "cfi.scaled": "cfi_scaled",
    "tli.scaled": "tli_scaled", "rmsea.scaled": "rmsea_scaled", "cfi.robust": "cfi_robust",
    "tli.robust": "tli_robust", "rmsea.robust": "rmsea_robust",
}
OPTIONS = {"ML": {}, "MLR": {"estimator": "MLR"}, "FIML": {"missing": "fiml"}}
SUFFIX = {"ML": "ml", "MLR": "mlr", "FIML": "fiml"}

HS_SINGLE = """
format: 1
name: hs-single-item
constructs:
  visual: {name: Visual, items: {x1: a, x2: b, x3: c}}
  textual: {name: Textual, items: {x4: d, x5: e, x6: f}}
  speed: {name: {en: Speed, zh: 速度}, items: {x7: g}}
hypotheses:
  H1: {path: visual -> speed, sign: "+"}
  H2: {path: textual -> speed, sign: "+"}
demographics:
  school: {name: School, values: {Pasteur: Pasteur, Grant-White: Grant-White}}
"""


def ref_fit(block: str, name: str) -> dict:
    return reference("single_item")[block]["fits"][name]


def key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    return (*sorted((lhs, rhs)), op) if op == "~~" else (lhs, rhs, op)


def merged(params: pd.DataFrame, ref: dict) -> pd.DataFrame:
    """Our parameter rows next to lavaan's (suffixes _py and _r), one to one."""
    theirs = pd.DataFrame(ref["estimates"])
    theirs["rhs"] = theirs["rhs"].fillna("")
    ours = params.copy()
    ours["rhs"] = ours["rhs"].fillna("")
    for frame in (theirs, ours):
        frame["key"] = [key(a, o, b) for a, o, b in zip(frame.lhs, frame.op, frame.rhs,
                                                        strict=True)]
    out = theirs.merge(ours, on="key", suffixes=("_r", "_py"), validate="one_to_one")
    assert len(out) == len(theirs) == len(ours)
    return out


def worst(ours, theirs) -> float:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    return float(np.nanmax(np.abs(ours - theirs))) if ours.size else 0.0


def assert_params(params: pd.DataFrame, ref: dict) -> None:
    m = merged(params, ref)
    assert worst(m.est_py, m.est_r) <= ABS
    free = m.free_r > 0
    assert worst(m.se_py[free], m.se_r[free]) <= ABS
    assert worst(m.std_all, m["std.all"]) <= ABS


def assert_measures(measures: dict, ref: dict, robust: bool) -> None:
    keys = {**FIT_KEYS, **(ROBUST_KEYS if robust else {})}
    compared = 0
    for theirs, ours in keys.items():
        value = ref["fit"].get(theirs)
        if value is None or ours not in measures:
            continue
        assert measures[ours] == pytest.approx(value, abs=ABS), ours
        compared += 1
    assert compared >= len(keys) - 2  # FIML: lavaan has no GFI/AGFI with missing data


# --------------------------------------------------------------------------- the engine


@cache
def engine_fit(block: str, name: str):
    ref = ref_fit(block, name)
    syntax = reference_text(ref["model_file"])
    data = reference_table(ref["data_file"])[list(specify(syntax).observed)]
    if name.endswith("fiml"):
        return fit_estimator(syntax, data, missing="fiml")
    return fit_estimator(syntax, data.dropna(), estimator="MLR" if "mlr" in name else "ML")


@pytest.mark.parametrize("block", ["hs", "questionnaire"])
@pytest.mark.parametrize("name", FITS)
def test_engine_matches_lavaan(block: str, name: str) -> None:
    fit, ref = engine_fit(block, name), ref_fit(block, name)
    assert fit.converged and ref["converged"]
    assert fit.n == ref["n"]
    assert_params(fit.params, ref)
    assert_measures(fit.measures, ref, robust="mlr" in name)
    assert ref["r2"]
    for var, value in ref["r2"].items():
        assert fit.r2[var] == pytest.approx(value, abs=ABS), var


def test_the_single_item_is_the_marker_without_residual_variance() -> None:
    spec = specify(reference_text("single_item_hs_sem.lav"))
    pt = spec.partable.set_index(["lhs", "op", "rhs"])
    assert pt.loc[("speed", "=~", "x7"), "free"] == 0
    assert pt.loc[("speed", "=~", "x7"), "ustart"] == 1.0
    assert pt.loc[("x7", "~~", "x7"), "free"] == 0
    assert pt.loc[("x7", "~~", "x7"), "ustart"] == 0.0
    lavaan = pd.DataFrame(ref_fit("hs", "sem_ml")["estimates"]).set_index(["lhs", "op", "rhs"])
    assert lavaan.loc[("x7", "~~", "x7"), "free"] == 0
    assert spec.npar == int(lavaan["free"].max())
    assert spec.df == ref_fit("hs", "sem_ml")["fit"]["df"]


# --------------------------------------------------------------------------- the pipeline


@cache
def run(estimator: str, bootstrap: int = 0, lang: str = "en") -> AnalysisResult:
    data = "single_item_missing.csv" if estimator == "FIML" else "single_item.csv"
    return analyze(REFERENCE_DATA / data, REFERENCE_DATA / "single_item.yaml",
                   bootstrap=bootstrap, seed=20260314, lang=lang, **OPTIONS[estimator])


@pytest.mark.parametrize("estimator", list(OPTIONS))
def test_analyze_matches_lavaan(estimator: str) -> None:
    res = run(estimator)
    cfa = ref_fit("questionnaire", f"cfa_{SUFFIX[estimator]}")
    sem = ref_fit("questionnaire", f"sem_{SUFFIX[estimator]}")
    assert res.n_analyzed == cfa["n"] == sem["n"]
    assert_params(res.measurement.cfa.params, cfa)
    assert_params(res.structural.fit.params, sem)
    doc = res.to_dict()
    validate_results(doc)
    robust = estimator == "MLR"
    assert_measures(doc["cfa"]["fit"], cfa, robust)
    assert_measures(doc["sem"]["fit"], sem, robust)
    lavaan = pd.DataFrame(sem["estimates"]).set_index(["lhs", "op", "rhs"])
    for path in doc["sem"]["paths"]:
        r = lavaan.loc[(path["to"], "~", path["from"])]
        for ours, theirs in (("est", "est"), ("se", "se"), ("std", "std.all")):
            assert path[ours] == pytest.approx(r[theirs], abs=ABS)
    for construct, value in sem["r2"].items():
        if construct in doc["sem"]["r2"]:
            assert doc["sem"]["r2"][construct] == pytest.approx(value, abs=ABS)
    loadings = pd.DataFrame(cfa["estimates"]).set_index(["lhs", "op", "rhs"])
    for row in doc["cfa"]["loadings"]:
        r = loadings.loc[(row["construct"], "=~", row["item"])]
        assert row["est"] == pytest.approx(r["est"], abs=ABS)
        assert row["std"] == pytest.approx(r["std.all"], abs=ABS)
    sat = next(row for row in doc["cfa"]["loadings"] if row["construct"] == "SAT")
    assert sat["est"] == 1.0 and sat["se"] is None and sat["std"] == pytest.approx(1.0)


def test_reliability_and_validity_are_null_with_the_reason() -> None:
    ref = reference("single_item")["questionnaire"]
    doc = run("ML").to_dict()
    sat = doc["reliability"]["SAT"]
    assert {k: sat[k] for k in ("alpha", "alpha_ci_lower", "alpha_ci_upper", "cr", "ave",
                                "omega")} == dict.fromkeys(("alpha", "alpha_ci_lower",
                                                            "alpha_ci_upper", "cr", "ave",
                                                            "omega"))
    assert sat["note"] == SINGLE_ITEM_NOTE == ("single-item construct: alpha, CR and AVE are "
                                               "undefined")
    assert "SAT" not in ref["omega"]  # compRelSEM(dropSingle = TRUE) leaves it out
    for construct, alpha in ref["alpha"].items():
        assert doc["reliability"][construct]["alpha"] == pytest.approx(alpha, abs=ABS)
        assert doc["reliability"][construct]["omega"] == pytest.approx(ref["omega"][construct],
                                                                       abs=ABS)
        assert "note" not in doc["reliability"][construct]
    item = doc["items"]["SAT1"]
    assert item["citc"] is None and item["alpha_if_deleted"] is None
    assert item["note"] == LONE_ITEM_NOTE
    assert item["loading_std"] == pytest.approx(1.0)
    assert all("note" not in rec for iid, rec in doc["items"].items() if iid != "SAT1")
    htmt = ref["htmt"]
    names = htmt["rownames"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if a == b:
                continue
            theirs, ours = htmt["values"][i][j], doc["discriminant"]["htmt"][a][b]
            if theirs is None:  # semTools gives NaN for every pair with the single item
                assert ours is None and "SAT" in (a, b)
            else:
                assert ours == pytest.approx(theirs, abs=ABS)
    assert doc["discriminant"]["sqrt_ave"]["SAT"] is None
    assert doc["discriminant"]["latent_correlations"]["SAT"]["PQ"] is not None
    fl = run("ML").measurement.discriminant.fornell_larcker
    assert fl.passes["SAT"] is None and fl.passes["PQ"] in (True, False)


def test_efa_keeps_one_factor_per_construct() -> None:
    res = run("ML")
    assert res.measurement.efa.n_factors == 4
    assert res.measurement.efa.loadings.shape == (10, 4)


def report_text(outdir: Path) -> str:
    return (outdir / "report.html").read_text(encoding="utf-8")


def test_report_en_and_zh_say_why(tmp_path: Path) -> None:
    out = run("ML").save(tmp_path / "en")
    html = report_text(out)
    assert "Single-item construct: alpha, CR and AVE are undefined for SAT (—)" in html
    assert "The item of a single-item construct (SAT1) has no CITC" in html
    assert "HTMT with single-item construct SAT is undefined (—)" in html
    assert "√AVE of single-item construct SAT is undefined (—)" in html
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    validate_results(doc)
    assert doc["reliability"]["SAT"]["alpha"] is None
    rel = pd.read_csv(out / "tables" / "reliability.csv").set_index("construct")
    assert rel.loc["SAT", ["alpha", "cr", "ave", "omega"]].isna().all()
    sheet = openpyxl.load_workbook(out / "tables.xlsx")["reliability"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "SAT")
    alpha_col = next(i for i, h in enumerate(header) if str(h).startswith("α"))
    assert row[alpha_col] == "—"
    words = "\n".join(p.text for p in Document(out / "tables.docx").paragraphs)
    assert "Single-item construct: alpha, CR and AVE are undefined for SAT" in words
    cells = [c.text for t in Document(out / "tables.docx").tables for r in t.rows for c in r.cells]
    assert "—" in cells
    zh = report_text(run("ML", lang="zh").save(tmp_path / "zh"))
    assert "单题项构念 SAT 的 α、CR 与 AVE 无定义（—）" in zh
    assert "涉及单题项构念 SAT 的 HTMT 无定义（—）" in zh


def test_bootstrap_intervals_through_the_single_item() -> None:
    res = run("ML", bootstrap=200)
    doc = res.to_dict()
    assert res.structural.bootstrap.succeeded > 190
    for path in doc["sem"]["paths"]:
        assert path["ci_lower"] < path["est"] < path["ci_upper"]
    through = [r for r in doc["sem"]["indirect"] if "SAT" in r["path"]]
    assert {r["path"] for r in through} == {"PQ -> SAT -> LOY", "PV -> SAT -> LOY"}
    for r in through:
        assert r["ci_lower"] < r["est"] < r["ci_upper"]
        assert math.isfinite(r["std"]) and r["method"] == "percentile bootstrap"


def test_wlsmv_is_refused_naming_the_construct(tmp_path: Path, capsys) -> None:
    lavaan = reference("single_item")["wlsmv"]
    assert any("information matrix could\n    not be inverted" in w
               for w in lavaan["lavaan_warnings"])
    assert all(se is None for se in lavaan["se_free"])  # lavaan: no standard errors at all
    with pytest.raises(InputError) as err:
        fit_wlsmv(reference_text(lavaan["model_file"]),
                  reference_table(lavaan["data_file"])[[f"y{i}" for i in range(1, 10)]])
    assert "f3 (measured by y9 alone)" in str(err.value)
    with pytest.raises(InputError) as err:
        analyze(REFERENCE_DATA / "single_item.csv", REFERENCE_DATA / "single_item.yaml",
                estimator="WLSMV", bootstrap=0, seed=1)
    message = str(err.value)
    assert "SAT (item SAT1)" in message and "--estimator ML" in message
    assert message.startswith(str(REFERENCE_DATA / "single_item.yaml"))
    code = main(["analyze", str(REFERENCE_DATA / "single_item.csv"), "-q",
                 str(REFERENCE_DATA / "single_item.yaml"), "--estimator", "WLSMV",
                 "--bootstrap", "0", "-o", str(tmp_path / "out")])
    stderr = capsys.readouterr().err
    assert code == 2
    assert "SAT (item SAT1)" in stderr and "--estimator ML" in stderr
    assert "Traceback" not in stderr


@pytest.fixture(scope="module")
def hs_by_school(tmp_path_factory) -> AnalysisResult:
    path = tmp_path_factory.mktemp("hs") / "hs_single.yaml"
    path.write_text(textwrap.dedent(HS_SINGLE), encoding="utf-8")
    return analyze(REFERENCE_DATA / "hs1939.csv", path, bootstrap=0, seed=1, group="school")


def test_group_comparison_with_a_single_item_matches_lavaan(hs_by_school) -> None:
    """By a text-coded school: invariance steps and path equality tests as lavaan's."""
    ref = reference("single_item")["hs"]
    assert_params(hs_by_school.measurement.cfa.params, ref["fits"]["cfa_ml"])
    assert_params(hs_by_school.structural.fit.params, ref["fits"]["sem_ml"])
    mg = ref["multigroup"]
    doc = hs_by_school.to_dict()
    validate_results(doc)
    groups = doc["groups"]
    assert [g["label"] for g in groups["groups"]] == mg["steps"]["configural"]["group_label"]
    assert [g["n"] for g in groups["groups"]] == mg["steps"]["configural"]["nobs"]
    for k, row in enumerate(groups["invariance"]):
        fit = mg["steps"][row["step"]]["fit"]
        assert row["df"] == fit["df"]
        for key_ in ("chisq", "cfi", "tli", "rmsea", "srmr"):
            assert row[key_] == pytest.approx(fit[key_], abs=ABS), (row["step"], key_)
        if k:
            assert row["delta_chisq"] == pytest.approx(mg["lrt"]["delta_chisq"][k], abs=ABS)
    tests = {(t["to"], t["from"]): t for t in groups["path_tests"]}
    assert len(tests) == len(mg["path_tests"])
    for t in mg["path_tests"]:
        ours = tests[(t["lhs"], t["rhs"])]
        assert ours["delta_chisq"] == pytest.approx(t["delta_chisq"], abs=ABS)
        assert ours["delta_df"] == t["delta_df"]
        assert ours["delta_pvalue"] == pytest.approx(t["delta_pvalue"], abs=ABS)
    per_group = pd.DataFrame(mg["paths_baseline"]["estimates"])
    for row in groups["paths"]:
        r = per_group[(per_group.lhs == row["to"]) & (per_group.rhs == row["from"])
                      & (per_group.group_label == row["group"])].iloc[0]
        assert row["est"] == pytest.approx(r["est"], abs=ABS)
        assert row["se"] == pytest.approx(r["se"], abs=ABS)


def test_a_questionnaire_of_single_items_only_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "only_single.yaml"
    path.write_text(textwrap.dedent("""
        format: 1
        name: only-single
        constructs:
          A: {name: A, items: {x1: a}}
          B: {name: B, items: {x2: b}}
        hypotheses:
          H1: {path: A -> B, sign: "+"}
        """), encoding="utf-8")
    with pytest.raises(InputError) as err:
        analyze(REFERENCE_DATA / "hs1939.csv", path, bootstrap=0, seed=1)
    message = str(err.value)
    assert message.startswith(f"{path}: constructs: every construct has a single item (A, B)")
    assert "give at least one construct two or more items" in message
