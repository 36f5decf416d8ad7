"""The structural stage under FIML and WLSMV, held to lavaan 0.6-14.

References (``tests/reference/structural_reference.R``):

- ``structural_ninefactor_fiml.json``: the built-in nine-factor model with its indirect and
  total effects as ``:=`` parameters, ``sem(model, data, missing = "ml")`` on 500 simulated
  answers with 5 % deleted at random (``data/estimators_ninefactor_missing.csv``), and
  ``lavTestLRT`` against two nested alternatives fitted by FIML too;
- ``structural_ninefactor_wlsmv.json``: the same model, ``sem(model, data, ordered = TRUE,
  estimator = "WLSMV")`` on the complete answers (``data/sim_ninefactor.csv``);
- ``structural_pd_fiml.json`` (when present): Political Democracy with missing values,
  ``missing = "ml"`` and lavaan's own bootstrap (FIML refits), for the intervals.

What is checked: every hypothesised path (est, std.all, SE, its std SE, Wald interval), R²,
the fit measures (WLSMV: the scaled ones too), the indirect and total effects (est, std,
delta-method SEs of both, lavaan's ``:=`` intervals) and, under FIML, the model comparison.
Tolerances as issue #8 sets them: estimates ±0.001, SEs and scaled statistics ±1 %.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from estimators_ref import check_pd_replicates
from references import REFERENCE, REFERENCE_DATA, reference, reference_table

from sem_kit.questionnaire import load_questionnaire
from sem_kit.structural.stage import structural_model

FIT = {"chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
       "srmr": "srmr"}
SCALED = {"chisq_scaled": "chisq.scaled", "df_scaled": "df.scaled",
          "pvalue_scaled": "pvalue.scaled", "cfi_scaled": "cfi.scaled",
          "tli_scaled": "tli.scaled", "rmsea_scaled": "rmsea.scaled"}


def load(name: str) -> dict:
    return reference(f"structural_{name}")


def close(ours: float, theirs: float, *, abs_tol: float = 1e-3, rel: float | None = None,
          what: str = "") -> None:
    tol = abs(theirs) * rel if rel is not None else abs_tol
    assert abs(ours - theirs) <= tol, f"{what}: sem_kit {ours!r}, lavaan {theirs!r}"


def run(name: str, **kwargs):
    ref = load(name)
    path = REFERENCE_DATA / ref["data_file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ref["data_sha256"], (
        f"{path.name} changed since structural_{name}.json was written: rerun "
        "tests/reference/structural_reference.R")
    q = load_questionnaire()
    return structural_model(q, reference_table(ref["data_file"]), bootstrap=0, **kwargs), ref


@pytest.fixture(scope="module")
def fiml():
    return run("ninefactor_fiml", missing="fiml")


@pytest.fixture(scope="module")
def wlsmv():
    return run("ninefactor_wlsmv", estimator="WLSMV")


def check_paths(result, ref: dict) -> None:
    est = {(r["lhs"], r["rhs"]): r for r in ref["estimates"] if r["op"] == "~"}
    std = {(r["lhs"], r["rhs"]): r for r in ref["std"] if r["op"] == "~"}
    assert len(result.paths) == 12
    for row in result.paths.to_dict("records"):
        key, what = (row["to"], row["from"]), f"{row['to']} ~ {row['from']}"
        lav, s = est[key], std[key]
        close(row["est"], lav["est"], what=what + " est")
        close(row["std"], s["est.std"], what=what + " std")
        close(row["se"], lav["se"], rel=0.01, what=what + " se")
        close(row["std_se"], s["se"], rel=0.01, what=what + " std se")
        close(row["ci_lower"], lav["ci.lower"], what=what + " ci.lower")
        close(row["ci_upper"], lav["ci.upper"], what=what + " ci.upper")
        close(row["std_ci_lower"], s["ci.lower"], what=what + " std ci.lower")
        close(row["pvalue"], lav["pvalue"], abs_tol=1e-3, what=what + " p")
    for name, value in result.r2.items():
        close(value, ref["r2"][name], what=f"R² {name}")


def check_effects(result, ref: dict) -> None:
    lav = {r["label"]: r for r in ref["estimates"] if r["op"] == ":="}
    std = {r["label"]: r for r in ref["std"] if r["op"] == ":="}
    label = {v: k for k, v in ref["defined"].items()}
    ind = result.indirect
    assert list(ind.path) == ["CST -> WIL -> KSB", "EXB -> WIL -> KSB", "LOY -> ABL -> KSB"]
    for r in ind.to_dict("records"):
        key = label[r["path"]]
        close(r["est"], lav[key]["est"], what=f"{key} est")
        close(r["std"], std[key]["est.std"], what=f"{key} std")
        close(r["se"], lav[key]["se"], rel=0.01, what=f"{key} se")
        close(r["std_se"], std[key]["se"], rel=0.01, what=f"{key} std se")
        close(r["ci_lower"], lav[key]["ci.lower"], what=f"{key} ci.lower")
        close(r["ci_upper"], lav[key]["ci.upper"], what=f"{key} ci.upper")
        assert r["method"] == "delta method"
    eff = result.effects.set_index(["from", "to"])
    for src in ("CST", "EXB", "LOY"):
        key = label[f"{src} => KSB"]
        close(eff.loc[(src, "KSB"), "total"], lav[key]["est"], what=f"{key} est")
        close(eff.loc[(src, "KSB"), "total_std"], std[key]["est.std"], what=f"{key} std")
        close(eff.loc[(src, "KSB"), "total_ci_lower"], lav[key]["ci.lower"],
              what=f"{key} ci.lower")
        close(eff.loc[(src, "KSB"), "total_ci_upper"], lav[key]["ci.upper"],
              what=f"{key} ci.upper")


# --------------------------------------------------------------------------- FIML


def test_fiml_paths_and_r2(fiml) -> None:
    result, ref = fiml
    assert ref["options"]["missing"] == "ml"
    check_paths(result, ref)


def test_fiml_fit_measures(fiml) -> None:
    result, ref = fiml
    fm = result.fit_measures
    assert fm["n"] == ref["n"]
    for ours, theirs in {**FIT, "aic": "aic", "bic": "bic"}.items():
        rel = 1e-4 if ours in ("chisq", "aic", "bic") else None
        close(fm[ours], ref["fit"][theirs], rel=rel, what=ours)


def test_fiml_indirect_and_total_effects(fiml) -> None:
    result, ref = fiml
    check_effects(result, ref)


def test_fiml_model_comparison_is_lavaans_lrt(fiml) -> None:
    result, ref = fiml
    comp = result.comparison.set_index("model")
    assert len(ref["comparison"]) == 2
    for alt in ref["comparison"]:
        row, lrt = comp.loc[alt["name"]], alt["lrt"]
        lrt = pd.DataFrame(lrt).iloc[-1] if not isinstance(lrt, dict) else pd.Series(
            {k: v[-1] if isinstance(v, list) else v for k, v in lrt.items()})
        close(row["chisq"], alt["fit"]["chisq"], rel=1e-4, what=alt["name"])
        close(row["bic"], alt["fit"]["bic"], rel=1e-4, what=f"{alt['name']} bic")
        close(row["delta_chisq"], lrt["Chisq diff"], rel=1e-3, what=f"{alt['name']} Δχ²")
        assert row["delta_df"] == lrt["Df diff"]
        close(row["delta_pvalue"], lrt["Pr(>Chisq)"], abs_tol=1e-5, what="p")


def test_fiml_bootstrap_interval_against_lavaans() -> None:
    """lavaan's own FIML bootstrap of Political Democracy with missing values: the same
    statistic on lavaan's resample indices, and our percentile interval within Monte Carlo
    error of lavaan's."""
    if not (REFERENCE / "structural_pd_fiml.json").exists():
        pytest.skip("structural_pd_fiml.json not generated")
    ref = reference("structural_pd_fiml")
    boot = ref.get("bootstrap")
    assert boot is not None
    q = load_questionnaire(REFERENCE_DATA / "structural_pd.yaml")
    data = reference_table(ref["data_file"])
    ours_b = boot["R"] // 2  # half lavaan's resamples: its Monte Carlo error is sqrt(2) larger
    result = structural_model(q, data, bootstrap=ours_b, seed=7, missing="fiml")
    ind = result.indirect.iloc[0]
    lav = {r["label"]: r for r in boot["perc"] if r["op"] == ":="}["ind"]
    reps = np.asarray(boot["ind"], dtype=float)
    # Monte Carlo SE of a 2.5 % quantile of R replicates, by the order-statistic rule
    s = np.sqrt(len(reps) * 0.025 * 0.975)
    srt = np.sort(reps)
    k = int(round(0.025 * len(reps)))
    mc = (srt[min(k + int(np.ceil(s)), len(srt) - 1)] - srt[max(k - int(np.ceil(s)), 0)]) / 2
    # 4 Monte Carlo SEs of the difference: lavaan's (mc) and ours (about sqrt(2) mc)
    assert abs(ind["ci_lower"] - lav["ci.lower"]) <= 4 * np.sqrt(3) * mc
    assert result.bootstrap.succeeded >= ours_b - 5
    close(ind["boot_se"], boot["ind_sd"], rel=0.15, what="bootstrap SD of ind")


def test_fiml_refits_of_lavaans_own_resamples() -> None:
    """lavaan's first FIML bootstrap resamples (its row indices, rows with missing answers
    included) refitted by our FIML bootstrap statistic: the same a, b, c, ind and their
    std.all values."""
    from sem_kit.engine.refit import Refitter
    from sem_kit.engine.syntax import specify
    from sem_kit.estimators.fiml import FimlRefitter, fit_fiml
    from sem_kit.structural.bootstrap import SpecPoint, Statistic, ThetaMap, effect_layout

    if not (REFERENCE / "structural_pd_fiml.json").exists():
        pytest.skip("structural_pd_fiml.json not generated")
    ref = reference("structural_pd_fiml")
    boot = ref["bootstrap"]
    q = load_questionnaire(REFERENCE_DATA / "structural_pd.yaml")
    data = reference_table(ref["data_file"])
    spec = specify(q.model_syntax())
    fit = fit_fiml(spec, data)
    idx = np.loadtxt(REFERENCE / boot["idx_file"], delimiter=",", dtype=int) - 1
    assert idx.shape == (boot["idx_rows"], len(data))
    mapped = ThetaMap(spec, fit)
    point = SpecPoint(spec, mapped.base, fit.sample_cov, np.eye(spec.npar))
    layout = effect_layout(q, point, [("ind60", "dem60", "dem65")], [])
    stat = Statistic(FimlRefitter(fit), Refitter(point), layout, mapped)
    x = data[list(spec.observed)].to_numpy(dtype=float)
    ours = np.array([stat(x[rows]) for rows in idx[:100]])
    lav = pd.DataFrame(boot["idx_stats"]).iloc[:100]
    check_pd_replicates(ours, layout, lav)


# --------------------------------------------------------------------------- WLSMV


def test_wlsmv_paths_and_r2(wlsmv) -> None:
    result, ref = wlsmv
    assert ref["options"]["estimator"] == "DWLS"
    check_paths(result, ref)


def test_wlsmv_fit_measures(wlsmv) -> None:
    result, ref = wlsmv
    fm = result.fit_measures
    for ours, theirs in {**FIT, **SCALED}.items():
        rel = 0.01 if ours in ("chisq", "chisq_scaled") else None
        close(fm[ours], ref["fit"][theirs], rel=rel, what=ours)
    assert fm["aic"] != fm["aic"] and ref["fit"].get("aic") is None  # no likelihood: NA


def test_wlsmv_indirect_and_total_effects(wlsmv) -> None:
    result, ref = wlsmv
    check_effects(result, ref)
    assert result.bootstrap.requested == 0 and len(result.comparison) == 0
    assert result.modification_indices is None
