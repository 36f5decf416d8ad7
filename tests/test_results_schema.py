"""results.json: valid under sem_kit/schemas/results.schema.json, with the numbers of the tables.

The report checks results.json with its own small validator before writing
(sem_kit.report.schema_check); here ``jsonschema`` judges the written file,
and both validators must agree on broken documents too.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sem_kit.report.schema_check import SchemaError, errors, results_schema, validate_results

jsonschema = pytest.importorskip("jsonschema")



@pytest.fixture(scope="module")
def result(sample_run):
    return sample_run(bootstrap=100, seed=1)


@pytest.fixture(scope="module")
def outdir(result, tmp_path_factory):
    return result.save(tmp_path_factory.mktemp("schema") / "report")


@pytest.fixture(scope="module")
def doc(outdir):
    return json.loads((outdir / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator():
    schema = results_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _csv(outdir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(outdir / "tables" / f"{name}.csv", encoding="utf-8-sig")


def _same(a: object, b: object) -> bool:
    if isinstance(a, str):
        return a == b
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def test_results_json_is_valid(doc, validator):
    problems = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not problems, "\n".join(f"{list(e.path)}: {e.message}" for e in problems[:10])
    assert errors(doc, results_schema()) == []
    assert {"meta", "items", "reliability", "efa", "cfa", "discriminant", "sem"} <= set(doc)


def test_results_json_is_the_result(doc, result):
    assert doc == json.loads(json.dumps(result.to_dict()))
    assert doc["meta"]["n_analyzed"] == result.n_analyzed
    assert [e["row"] for e in doc["meta"]["excluded"]] == [e.row for e in result.excluded]
    assert doc["meta"]["bootstrap"] == 100 and doc["meta"]["seed"] == 1


def _broken(doc: dict) -> list[tuple[str, dict]]:
    cases = []
    d = copy.deepcopy(doc)
    del d["reliability"][next(iter(d["reliability"]))]["cr"]
    cases.append(("missing key", d))
    d = copy.deepcopy(doc)
    d["cfa"]["fit"]["cfi"] = "0.95"
    cases.append(("number as a string", d))
    d = copy.deepcopy(doc)
    d["meta"]["estimator"] = "OLS"
    cases.append(("unknown estimator", d))
    d = copy.deepcopy(doc)
    d["meta"]["input"]["sha256"] = "xyz"
    cases.append(("bad hash", d))
    d = copy.deepcopy(doc)
    d["sem"]["paths"][0]["sign"] = "plus"
    cases.append(("bad sign", d))
    d = copy.deepcopy(doc)
    d["meta"]["n_analyzed"] = -1
    cases.append(("negative count", d))
    d = copy.deepcopy(doc)
    d["discriminant"]["htmt"]["WIL"]["ABL"] = [0.1]
    cases.append(("array in a matrix", d))
    d = copy.deepcopy(doc)
    del d["sem"]["fit"]["srmr"]
    cases.append(("missing fit index", d))
    return cases


@pytest.mark.parametrize("case", range(8))
def test_own_validator_agrees_with_jsonschema(doc, validator, case):
    name, broken = _broken(doc)[case]
    assert not validator.is_valid(broken), name
    assert errors(broken, results_schema()), name
    with pytest.raises(SchemaError, match="results.json does not match"):
        validate_results(broken)


def test_nan_is_refused(doc):
    d = copy.deepcopy(doc)
    d["efa"]["kmo"] = float("nan")
    assert any("not a JSON number" in e for e in errors(d, results_schema()))


def test_reliability_table_equals_json(outdir, doc):
    table = _csv(outdir, "reliability").set_index("construct")
    assert set(table.index) == set(doc["reliability"])
    for construct, rec in doc["reliability"].items():
        for key, value in rec.items():
            assert _same(value, table.loc[construct, key]), (construct, key)


def test_items_table_equals_json(outdir, doc):
    table = _csv(outdir, "items").set_index("item")
    assert set(table.index) == set(doc["items"])
    for item, rec in doc["items"].items():
        for key, value in rec.items():
            assert _same(value, table.loc[item, key]), (item, key)


def test_loadings_table_equals_json(outdir, doc):
    table = _csv(outdir, "cfa_loadings")
    first = table[table["level"] == 1].reset_index(drop=True)
    assert len(first) == len(doc["cfa"]["loadings"])
    for i, rec in enumerate(doc["cfa"]["loadings"]):
        assert first.loc[i, "construct"] == rec["construct"] and first.loc[i, "item"] == rec["item"]
        for key in ("est", "std", "se", "z", "pvalue"):
            assert _same(rec[key], first.loc[i, key]), (rec["item"], key)


@pytest.mark.parametrize("model,table", [("cfa", "cfa_fit"), ("sem", "sem_fit")])
def test_fit_tables_equal_json(outdir, doc, model, table):
    fit = _csv(outdir, table).set_index("index")["value"]
    for key, value in doc[model]["fit"].items():
        if key == "n":
            continue
        assert _same(value, fit.loc[key]), key


def test_paths_table_equals_json(outdir, doc):
    table = _csv(outdir, "hypotheses")
    assert list(table["hypothesis"]) == [p["hypothesis"] for p in doc["sem"]["paths"]]
    for i, rec in enumerate(doc["sem"]["paths"]):
        row = table.loc[i]
        assert (row["from"], row["to"], row["sign"]) == (rec["from"], rec["to"], rec["sign"])
        for key in ("est", "std", "se", "z", "pvalue", "ci_lower", "ci_upper"):
            assert _same(rec[key], row[key]), (rec["hypothesis"], key)
        assert bool(row["supported"]) == rec["supported"]


def test_indirect_and_r2_tables_equal_json(outdir, doc):
    ind = _csv(outdir, "indirect")
    assert list(ind["path"]) == [r["path"] for r in doc["sem"]["indirect"]]
    for i, rec in enumerate(doc["sem"]["indirect"]):
        for key in ("est", "std", "ci_lower", "ci_upper"):
            assert _same(rec[key], ind.loc[i, key]), (rec["path"], key)
        assert ind.loc[i, "method"] == rec["method"]
    r2 = _csv(outdir, "r2").set_index("construct")["r2"]
    for construct, value in doc["sem"]["r2"].items():
        assert _same(value, r2.loc[construct])


def test_discriminant_tables_equal_json(outdir, doc):
    fl = _csv(outdir, "fornell_larcker").set_index("construct")
    for c, value in doc["discriminant"]["sqrt_ave"].items():
        assert _same(value, fl.loc[c, c])
    names = list(fl.index)
    ht = _csv(outdir, "htmt").set_index("construct")
    for i, a in enumerate(names):
        for b in names[:i]:
            assert _same(doc["discriminant"]["latent_correlations"][a][b], fl.loc[a, b])
            assert _same(doc["discriminant"]["htmt"][a][b], ht.loc[a, b])


def test_efa_and_sample_tables_equal_json(outdir, doc):
    efa = _csv(outdir, "efa_adequacy").set_index("statistic")["value"]
    for key in ("kmo", "bartlett_chi2", "bartlett_df", "bartlett_pvalue"):
        assert _same(doc["efa"][key], efa.loc[key])
    harman = _csv(outdir, "cmv_harman").set_index("statistic")["value"]
    assert _same(doc["efa"]["harman_first_factor_share"], harman.loc["harman_first_factor_share"])
    flow = _csv(outdir, "sample_flow").set_index("step")["rows"]
    assert flow.loc["rows_in_file"] == doc["meta"]["input"]["rows"]
    assert flow.loc["analysed"] == doc["meta"]["n_analyzed"]
    excluded = _csv(outdir, "excluded")
    assert list(excluded["row"]) == [e["row"] for e in doc["meta"]["excluded"]]
    assert list(excluded["reason"]) == [e["reason"] for e in doc["meta"]["excluded"]]
