"""`sem-kit analyze --missing fiml` and `--estimator WLSMV` from the data file to the report.

What is held to lavaan here is the wiring: the numbers analyze reports are those of
sem_kit.estimators.fiml / sem_kit.estimators.wlsmv (themselves held to lavaan in test_fiml.py,
test_ordinal.py and, through the structural stage, test_structural_estimators.py), every
row the run keeps
or drops is accounted for, what is not computed under an estimator says so, and the
outputs (results.json against its schema, the report) carry the estimator's numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from references import reference, reference_table

from sem_kit import load_questionnaire
from sem_kit.estimators.fiml import fit_fiml
from sem_kit.estimators.wlsmv import fit_wlsmv
from sem_kit.pipeline import analyze

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample_responses.csv"


def _saved_run(factory: pytest.TempPathFactory, name: str, **options):
    result = analyze(SAMPLE, seed=5, **options)
    out = factory.mktemp(name) / "out"
    result.save(out)
    return result, out


@pytest.fixture(scope="module")
def fiml_run(tmp_path_factory: pytest.TempPathFactory):
    return _saved_run(tmp_path_factory, "fiml", missing="fiml", bootstrap=0)


@pytest.fixture(scope="module")
def wlsmv_run(tmp_path_factory: pytest.TempPathFactory, sample_run):
    """The session's WLSMV run (tests/test_regression_results.py has the same), saved."""
    result = sample_run(estimator="WLSMV", bootstrap=200, seed=5)
    out = tmp_path_factory.mktemp("wlsmv") / "out"
    result.save(out)
    return result, out


def test_fiml_keeps_every_screened_row(fiml_run, sample_run) -> None:
    result, _ = fiml_run
    listwise = sample_run(bootstrap=0, seed=1)
    assert result.listwise == ()
    assert result.n_analyzed == result.screening.n_kept == 400
    assert listwise.n_analyzed == 363  # the same file with listwise deletion
    incomplete = int(result.data.isna().any(axis=1).sum())
    assert incomplete == 400 - 363
    # every row not analysed is a screening exclusion, none is a listwise one
    assert {e.reason for e in result.excluded} <= set(result.screening.summary())
    assert any("37 of them with unanswered items" in w for w in result.warnings)
    assert any("from the EM estimate of the item covariance matrix over all 400 rows" in w
               for w in result.warnings)
    assert result.measurement.n == 400 and result.measurement.items.n == 400


def test_fiml_descriptives_use_the_em_covariance_matrix(fiml_run) -> None:
    """alpha, CITC, KMO/Bartlett, HTMT are those of FIML's EM estimate, with N = every row."""
    from sem_kit.measurement.discriminant import htmt
    from sem_kit.measurement.efa import efa_summary
    from sem_kit.measurement.item_stats import corrected_item_total
    from sem_kit.measurement.reliability import cronbach_alpha

    result, _ = fiml_run
    sigma = result.measurement.cfa.sample_cov
    q = load_questionnaire()
    for cid in ("WIL", "KSB"):
        items = q.construct_items[cid]
        s = sigma.loc[items, items].to_numpy()
        k = len(items)
        alpha = k / (k - 1) * (1 - np.trace(s) / s.sum())
        assert result.reliability.loc[cid, "alpha"] == pytest.approx(alpha, abs=1e-9)
        ours = cronbach_alpha(sigma.loc[items, items], 400)
        assert result.reliability.loc[cid, "alpha_ci_lower"] == pytest.approx(ours.ci_lower,
                                                                              rel=1e-12)
    first = {c: q.construct_items[c] for c in q.first_order}
    citc = corrected_item_total(sigma, first)
    np.testing.assert_allclose(result.items["citc"].to_numpy(),
                               citc.reindex(result.items.index).to_numpy(), rtol=1e-12)
    summary = efa_summary(sigma, 400)
    assert result.measurement.efa_summary.bartlett.n == 400
    assert result.measurement.efa_summary.to_dict() == pytest.approx(summary.to_dict(),
                                                                     rel=1e-12)
    np.testing.assert_allclose(result.measurement.discriminant.htmt.to_numpy(),
                               htmt(sigma, first).to_numpy(), rtol=1e-12)
    # M and SD are each item's own answers (available cases), not the EM means
    answers = result.data["WIL1"].dropna()
    assert result.items.loc["WIL1", "mean"] == pytest.approx(answers.mean(), abs=1e-12)


def test_fiml_numbers_are_fit_fiml_on_every_row(fiml_run) -> None:
    result, _ = fiml_run
    q = load_questionnaire()
    items = [i for c in q.first_order for i in q.construct_items[c]]
    cfa = fit_fiml(q.measurement_syntax(), result.data[items])
    for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic"):
        assert result.measurement.cfa_fit[key] == pytest.approx(cfa.measures[key], rel=1e-9)
    assert result.measurement.cfa_fit["n"] == 400
    sem = fit_fiml(q.model_syntax(), result.data)
    assert result.structural.fit_measures["chisq"] == pytest.approx(sem.measures["chisq"],
                                                                    rel=1e-9)
    est = sem.params.set_index(["lhs", "op", "rhs"])
    for row in result.paths.to_dict("records"):
        lav = est.loc[(row["to"], "~", row["from"])]
        assert row["est"] == pytest.approx(lav["est"], abs=1e-9)
        assert row["se"] == pytest.approx(lav["se"], rel=1e-9)
        assert row["ci_method"].startswith("Wald")
    # the intercepts FIML estimates are in the reported parameter table
    assert (result.structural.fit.params.op == "~1").sum() >= len(items)


def test_fiml_comparison_is_a_fiml_likelihood_ratio_test(fiml_run) -> None:
    result, _ = fiml_run
    comp = result.structural.comparison.set_index("model")
    hyp = comp.loc["hypothesised"]
    assert hyp["chisq"] == pytest.approx(result.structural.fit_measures["chisq"], rel=1e-12)
    for name in comp.index[1:]:
        row = comp.loc[name]
        assert row["delta_chisq"] == pytest.approx(row["chisq"] - hyp["chisq"], rel=1e-12)
        assert row["delta_df"] == row["df"] - hyp["df"] > 0


def test_fiml_says_what_it_does_not_compute(fiml_run) -> None:
    result, out = fiml_run
    assert result.measurement.modification_indices is None
    assert result.structural.modification_indices is None
    assert any(w.startswith("modification indices: not computed under FIML")
               for w in result.warnings)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["meta"]["missing"] == "fiml" and data["meta"]["estimator"] == "ML"
    assert data["meta"]["n_analyzed"] == 400
    assert not [e for e in data["meta"]["excluded"] if e["reason"] == "listwise"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "full-information maximum likelihood (FIML)" in html
    assert "Intercepts (~1)" in html
    assert "saturated model estimated by EM" in html
    assert "lavaan&#39;s defaults for missing = &#34;ml&#34;" in html
    assert "ML (FIML)" in html and "listwise deletion then dropped" not in html
    assert "α and its interval use the EM estimate of the item covariance matrix" in html
    assert "listwise" not in html.split("Warnings and excluded rows")[0].lower()


def test_fiml_bootstrap_refits_fiml_and_repeats_with_the_seed() -> None:
    one = analyze(SAMPLE, missing="fiml", bootstrap=30, seed=11)
    two = analyze(SAMPLE, missing="fiml", bootstrap=30, seed=11, jobs=2)
    info = one.structural.bootstrap
    assert info.requested == 30 and info.succeeded + info.failed == 30
    assert one.indirect["method"].eq("percentile bootstrap").all()
    cols = ["ci_lower", "ci_upper", "bc_lower", "bc_upper", "boot_se"]
    np.testing.assert_array_equal(one.indirect[cols].to_numpy(), two.indirect[cols].to_numpy())
    # a FIML resample refit is not the listwise ML one: the intervals differ from ML's
    ml = analyze(SAMPLE, bootstrap=30, seed=11)
    assert not np.allclose(one.indirect["ci_lower"], ml.indirect["ci_lower"])
    assert any("refitted by FIML" in w for w in one.warnings)


def test_wlsmv_numbers_are_fit_wlsmv_on_the_complete_rows(wlsmv_run) -> None:
    result, _ = wlsmv_run
    q = load_questionnaire()
    assert result.n_analyzed == 363 and len(result.listwise) == 37
    sem = fit_wlsmv(q.model_syntax(), result.data)
    for key in ("chisq", "chisq_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr"):
        assert result.structural.fit_measures[key] == pytest.approx(sem.measures[key],
                                                                    rel=1e-9), key
    est = sem.params.set_index(["lhs", "op", "rhs"])
    for row in result.paths.to_dict("records"):
        lav = est.loc[(row["to"], "~", row["from"])]
        assert row["est"] == pytest.approx(lav["est"], abs=1e-9)
        assert row["std"] == pytest.approx(lav["std_all"], abs=1e-9)
        assert row["se"] == pytest.approx(lav["se"], rel=1e-9)
    assert (result.structural.fit.params.op == "|").sum() == 48 * 6


def test_wlsmv_runs_no_bootstrap_and_says_so(wlsmv_run) -> None:
    result, out = wlsmv_run
    info = result.structural.bootstrap
    assert info.requested == 0
    assert result.indirect["method"].eq("delta method").all()
    assert result.paths["ci_method"].str.startswith("Wald").all()
    assert any(w.startswith("bootstrap: not run under WLSMV") for w in result.warnings)
    assert any(w.startswith("model comparison: not run under WLSMV") for w in result.warnings)
    assert len(result.structural.comparison) == 0
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["meta"]["estimator"] == "WLSMV" and data["meta"]["bootstrap"] == 0
    assert "chisq_scaled" in data["sem"]["fit"] and data["sem"]["fit"]["aic"] is None


def test_wlsmv_reliability_is_categorical_omega(wlsmv_run) -> None:
    from sem_kit.engine.fit import model_matrices
    from sem_kit.measurement.reliability import categorical_omega_by_construct, omega_by_construct

    result, out = wlsmv_run
    cfa = result.measurement.cfa
    q = load_questionnaire()
    mats = model_matrices(cfa)
    first = {c: q.construct_items[c] for c in q.first_order}
    cat = categorical_omega_by_construct(mats.lambda_, mats.cov_lv, cfa.sample_cov, cfa.params,
                                         first)
    latent = omega_by_construct(mats.lambda_, mats.cov_lv, cfa.sample_cov)
    rel = result.measurement.reliability
    np.testing.assert_allclose(rel["omega"].to_numpy(), cat.reindex(rel.index).to_numpy())
    # the sum of 7 categories is less reliable than the sum of the latent responses
    assert (cat.reindex(rel.index) < latent.reindex(rel.index)).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    for text in ("Thresholds (|)", "categorical omega of Green &amp; Yang (2009)",
                 "Xia &amp; Yang 2019", "χ²/df (scaled)",
                 "with every item declared an ordered category",
                 "No bootstrap was run (sem-kit does not bootstrap WLSMV)"):
        assert text in html, text


def test_cli_fiml_and_refused_combinations(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("sem-kit"))
    out = tmp_path / "out"
    proc = subprocess.run([exe, "analyze", str(SAMPLE), "--missing", "fiml", "--bootstrap", "0",
                           "--seed", "3", "-o", str(out)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["meta"][
        "missing"] == "fiml"
    proc = subprocess.run([exe, "analyze", str(SAMPLE), "--missing", "fiml", "--estimator",
                           "MLR", "-o", str(tmp_path / "no")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    assert "--missing fiml with --estimator MLR" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "no").exists()


def test_fiml_descriptives_match_semtools_and_psych_on_the_em_matrix() -> None:
    """On the nine-factor answers with 5% deleted at random: HTMT equals semTools'
    htmt(missing = "ml"), and KMO, Bartlett and alpha equal psych's on lavaan's EM
    covariance matrix (tests/reference/fiml_descriptives_reference.R)."""
    from sem_kit.measurement.discriminant import htmt
    from sem_kit.measurement.efa import bartlett_sphericity, kmo
    from sem_kit.measurement.moments import correlation_matrix
    from sem_kit.measurement.reliability import cronbach_alpha

    ref = reference("fiml_descriptives")
    data = reference_table(ref["data_file"])
    q = load_questionnaire()
    items = [i for c in q.first_order for i in q.construct_items[c]]
    em_cov = fit_fiml(q.measurement_syntax(), data[items]).sample_cov
    n = len(data)
    first = {c: q.construct_items[c] for c in q.first_order}

    def matrix(block: dict) -> pd.DataFrame:
        return pd.DataFrame(block["values"], index=block["rownames"],
                            columns=block["colnames"])

    em_cor = matrix(ref["em_cor"])
    np.testing.assert_allclose(correlation_matrix(em_cov).loc[items, items].to_numpy(),
                               em_cor.loc[items, items].to_numpy(), atol=1e-4)
    for ours, theirs in ((htmt(em_cov, first), matrix(ref["htmt"])),
                         (htmt(em_cov, first, htmt2=True), matrix(ref["htmt2"]))):
        np.testing.assert_allclose(ours.loc[theirs.index, theirs.columns].to_numpy(),
                                   theirs.to_numpy(), atol=1e-4)
    assert kmo(em_cov).overall == pytest.approx(ref["kmo"], abs=1e-4)
    assert n == ref["n"] == 500  # N = every row, the incomplete ones too
    bart = bartlett_sphericity(em_cov, n)
    assert bart.chi2 == pytest.approx(ref["bartlett"]["chisq"], rel=1e-4)
    for cid, alpha in ref["alpha"].items():
        assert cronbach_alpha(em_cov.loc[first[cid], first[cid]], n).alpha == pytest.approx(
            alpha, abs=1e-4), cid
