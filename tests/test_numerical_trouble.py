"""Numerical trouble: detected, reported in results.json ``meta.warnings``, never passed off
as a good fit; or, where no estimate can exist, exit 2 with a message naming the cause.

Each fixture is built here: continuous item scores drawn with numpy so that their sample
covariance matrix is exactly the one wanted (no sampling luck involved), or Likert answers
from :func:`sem_kit.io.simulate.simulate_responses`. Runs use ``bootstrap=0`` and questionnaires
without hypotheses (the measurement stage).
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

import sem_kit.estimators.ml as est
from sem_kit.cli import main
from sem_kit.engine.optimizer import Optimum
from sem_kit.engine.syntax import specify
from sem_kit.io.simulate import simulate_responses
from sem_kit.measurement.stage import measurement_model
from sem_kit.pipeline import AnalysisResult, analyze
from sem_kit.questionnaire import Questionnaire, parse_questionnaire

IMPROPER = "the solution is improper (see the warnings above), so its fit measures"
AB = {"A": ["A1", "A2", "A3"], "B": ["B1", "B2", "B3"]}
ABC = {**AB, "C": ["C1", "C2"]}


def questionnaire(constructs: dict[str, list[str]], origin: str = "trouble.yaml",
                  extra: str = "") -> Questionnaire:
    """A questionnaire without scale (continuous items) and without hypotheses."""
    lines = ["format: 1", "name: trouble", "constructs:"]
    for cid, items in constructs.items():
        lines += [f"  {cid}:", f"    name: {cid}",
                  "    items: {" + ", ".join(f"{i}: {i}" for i in items) + "}"]
    return parse_questionnaire("\n".join(lines) + "\n" + extra, origin)


def exact_data(cov: np.ndarray, n: int = 300, seed: int = 0) -> np.ndarray:
    """``n`` rows whose sample covariance matrix (N divisor) is exactly ``cov``."""
    z = np.random.default_rng(seed).standard_normal((n, cov.shape[0]))
    z -= z.mean(axis=0)
    whiten = np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    return z @ whiten @ np.linalg.cholesky(cov).T


def factor_cov(loadings: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Item correlation matrix of a standardised factor model."""
    cov = loadings @ phi @ loadings.T
    np.fill_diagonal(cov, 1.0)
    return cov


def write(tmp_path: Path, name: str, data: np.ndarray, columns: list[str]) -> Path:
    path = tmp_path / f"{name}.csv"
    pd.DataFrame(data, columns=columns).to_csv(path, index=False, float_format="%.10g")
    return path


def run(path: Path, q: Questionnaire) -> AnalysisResult:
    """Analyse; check the counts add up and results.json holds plain numbers only."""
    result = analyze(path, q, bootstrap=0, seed=1, screen="none")
    rows = len(pd.read_csv(path))
    assert result.screening.n_input == rows
    assert result.n_analyzed + len(result.excluded) == rows
    assert all(2 <= e.row <= rows + 1 for e in result.excluded)
    doc = result.to_dict()
    json.dumps(doc, allow_nan=False)  # NaN or infinity would break results.json
    assert doc["meta"]["warnings"] == list(result.warnings)
    return result


def heywood_data() -> np.ndarray:
    """A1 correlates .8 with A2 and A3, which correlate .5: A1's loading is sqrt(1.28) > 1."""
    cov = np.full((6, 6), 0.2)
    cov[:3, :3] = [[1, .8, .8], [.8, 1, .5], [.8, .5, 1]]
    cov[3:, 3:] = 0.6
    np.fill_diagonal(cov, 1.0)
    return exact_data(cov)


def stalled(comp, s, theta0, **kwargs) -> Optimum:
    """An optimiser that stops where it starts."""
    return Optimum(np.asarray(theta0, dtype=float), math.nan, 1.0, 0, False,
                   "no convergence in 0 iterations")


# --------------------------------------------------------------------------- reported


def test_clean_data_have_no_trouble(tmp_path):
    lam = np.zeros((6, 2))
    lam[:3, 0] = lam[3:, 1] = 0.75
    path = write(tmp_path, "clean", exact_data(factor_cov(lam, np.array([[1, .3], [.3, 1]]))),
                 AB["A"] + AB["B"])
    result = run(path, questionnaire(AB))
    assert result.warnings == ()
    assert result.measurement.cfa.admissible and result.measurement.cfa.converged


def test_heywood_negative_residual_variance_and_loading_above_one(tmp_path):
    path = write(tmp_path, "heywood", heywood_data(), AB["A"] + AB["B"])
    result = run(path, questionnaire(AB))
    warnings = result.to_dict()["meta"]["warnings"]
    assert any(w.startswith("CFA: negative residual variance (Heywood case): A1 ~~ A1 = -")
               for w in warnings)
    assert any(w.startswith("CFA: standardised loading above 1: A =~ A1 = 1.1") for w in warnings)
    assert f"CFA: {IMPROPER} (chi-square, CFI, TLI, RMSEA, SRMR) do not show good fit however " \
           "good they look; fix the model or the data first" in warnings
    # The fit indices look excellent -- which is exactly why the flag matters.
    assert result.measurement.cfa_fit["cfi"] > 0.95
    assert not result.measurement.cfa.admissible


def test_negative_latent_variance(tmp_path):
    """Second-order K over E, S, T whose correlations are .8, .8 and .5: K's loading on E
    is sqrt(1.28) > 1, so E's disturbance variance is negative."""
    lam = np.zeros((9, 3))
    for j in range(3):
        lam[3 * j:3 * j + 3, j] = 0.8
    phi = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    columns = [f"{c}{i}" for c in "EST" for i in (1, 2, 3)]
    q = questionnaire({c: [f"{c}{i}" for i in (1, 2, 3)] for c in "EST"},
                      extra="  K: {name: K, dimensions: [E, S, T]}\n")
    result = run(write(tmp_path, "second", exact_data(factor_cov(lam, phi)), columns), q)
    assert any(w.startswith("CFA: negative latent variable variance (Heywood case): E ~~ E = -")
               for w in result.warnings)
    assert any(w.startswith("CFA: standardised loading above 1: K =~ E = 1.1")
               for w in result.warnings)
    assert any(w.startswith("CFA: the covariance matrix of the latent variables is not positive "
                            "definite") for w in result.warnings)
    assert f"CFA: {IMPROPER}" in " ".join(result.warnings)
    assert not result.measurement.cfa.admissible


def test_undefined_latent_correlation():
    """Ten Likert rows for 13 parameters: A's latent variance comes out negative, so its
    correlation with B is undefined -- a warning and null in results.json, not -inf.

    ``analyze`` refuses so few rows; the measurement stage itself must still cope.
    """
    yaml = ("format: 1\nname: ten\nscale: {min: 1, max: 7}\nconstructs:\n"
            "  A: {name: A, items: {A1: a, A2: b, A3: c}}\n"
            "  B: {name: B, items: {B1: d, B2: e, B3: f}}\n")
    q = parse_questionnaire(yaml, "ten.yaml")
    data = simulate_responses(q, 10, 2, demographics=False).astype(float)
    result = measurement_model(q, data)
    assert any(w.startswith("CFA: negative latent variable variance (Heywood case): A ~~ A = -")
               for w in result.warnings)
    assert "latent correlation of A and B is undefined: a latent variance is not positive (see " \
           "the Heywood warnings)" in result.warnings
    assert result.to_dict()["discriminant"]["latent_correlations"]["A"]["B"] is None
    json.dumps(result.to_dict(), allow_nan=False)


def test_latent_covariance_matrix_not_positive_definite(tmp_path):
    """Items correlate more across constructs (.55) than within (.5): r(A, B) = 1.1."""
    cov = np.full((6, 6), 0.5)
    cov[:3, 3:] = cov[3:, :3] = 0.55
    np.fill_diagonal(cov, 1.0)
    result = run(write(tmp_path, "lvpd", exact_data(cov), AB["A"] + AB["B"]), questionnaire(AB))
    assert any(w.startswith("CFA: the covariance matrix of the latent variables is not positive "
                            "definite (smallest eigenvalue -0.0") for w in result.warnings)
    assert "latent correlation of A and B is 1.100 (|r| >= .95): the two constructs are nearly " \
           "collinear and may not be distinct" in result.warnings
    assert f"CFA: {IMPROPER}" in " ".join(result.warnings)
    assert result.measurement.cfa_fit["cfi"] > 0.99 and not result.measurement.cfa.admissible


def test_near_collinear_constructs(tmp_path):
    """Likert answers with a population correlation of .99 between A and B."""
    yaml = """\
format: 1
name: collinear
scale: {min: 1, max: 7}
constructs:
  A: {name: A, items: {A1: a, A2: b, A3: c}}
  B: {name: B, items: {B1: d, B2: e, B3: f}}
population: {loading: 0.8, correlations: {'A ~~ B': 0.99}}
"""
    q = parse_questionnaire(yaml, "collinear.yaml")
    path = tmp_path / "collinear.csv"
    simulate_responses(q, 400, 1, demographics=False).to_csv(path, index=False)
    result = run(path, q)
    r = result.measurement.latent_correlations.loc["A", "B"]
    assert r >= 0.95
    assert (f"latent correlation of A and B is {r:.3f} (|r| >= .95): the two constructs are "
            "nearly collinear and may not be distinct") in result.to_dict()["meta"]["warnings"]


def test_empirical_under_identification(tmp_path):
    """A two-item construct C that correlates .01 with A and 0 with B."""
    lam = np.zeros((8, 3))
    lam[:3, 0] = lam[3:6, 1] = 0.8
    lam[6:, 2] = 0.7
    phi = np.eye(3)
    phi[0, 1] = phi[1, 0] = 0.4
    phi[0, 2] = phi[2, 0] = 0.01
    columns = [i for items in ABC.values() for i in items]
    result = run(write(tmp_path, "weak", exact_data(factor_cov(lam, phi), seed=3), columns),
                 questionnaire(ABC))
    message = next(w for w in result.warnings if "empirically under-identified" in w)
    assert message.startswith("CFA: the model is empirically under-identified: the information "
                              "matrix is nearly singular (smallest eigenvalue ")
    assert "C =~ C2" in message
    assert message.endswith("C has only two indicators and (nearly) zero covariance with the "
                            "other latent variables, so the data cannot identify it: add a "
                            "third item, or check its items and answers")
    assert f"CFA: {IMPROPER}" in " ".join(result.warnings)
    assert not result.measurement.cfa.admissible


def test_non_convergence(tmp_path):
    """A3 correlates -.3 with A1 but +.4 with A2 (a reverse-coding slip): the estimates run
    off to infinity instead of converging."""
    cov = np.full((6, 6), 0.1)
    cov[:3, :3] = [[1, .5, -.3], [.5, 1, .4], [-.3, .4, 1]]
    cov[3:, 3:] = 0.6
    np.fill_diagonal(cov, 1.0)
    result = run(write(tmp_path, "slip", exact_data(cov), AB["A"] + AB["B"]), questionnaire(AB))
    assert any(w.startswith("CFA: the optimiser did not converge (") for w in result.warnings)
    assert ("CFA: the information matrix is singular at the last iterate, so there are no "
            "standard errors") in result.warnings
    assert "CFA: the estimation did not converge; its numbers are not trustworthy" \
        in result.warnings
    assert f"CFA: {IMPROPER}" in " ".join(result.warnings)
    assert not result.measurement.cfa.converged and not result.measurement.cfa.admissible
    loadings = result.to_dict()["cfa"]["loadings"]
    assert all(row["se"] is None for row in loadings)


def test_non_convergence_when_the_optimiser_stalls(tmp_path, monkeypatch):
    monkeypatch.setattr(est, "fit_to_moments", stalled)
    path = write(tmp_path, "stall", heywood_data(), AB["A"] + AB["B"])
    result = run(path, questionnaire(AB))
    assert ("CFA: the optimiser did not converge (no convergence in 0 iterations); estimates "
            "are not a maximum-likelihood solution") in result.warnings
    assert "CFA: the estimation did not converge; its numbers are not trustworthy" \
        in result.warnings
    assert not result.measurement.cfa.converged and not result.measurement.cfa.admissible


def test_implied_covariance_matrix_not_positive_definite(tmp_path, monkeypatch):
    """An optimiser stopping at negative residual variances of -2 leaves Σ indefinite.

    No data make a converged ML solution indefinite (the likelihood is infinite there),
    so the optimiser is replaced; the point is that the run reports it and goes on.
    """
    q = questionnaire(AB)
    spec = specify(q.measurement_syntax())
    pt = spec.partable
    residuals = [int(f) - 1 for f, lhs, op, rhs in zip(pt["free"], pt.lhs, pt.op, pt.rhs,
                                                        strict=True)
                 if op == "~~" and lhs == rhs and lhs in spec.observed]
    original = est.fit_to_moments

    def broken(comp, s, theta0, **kwargs):
        if len(theta0) != spec.npar:  # the single-factor CFA
            return original(comp, s, theta0, **kwargs)
        theta = np.asarray(theta0, dtype=float).copy()
        theta[residuals] = -2.0
        return Optimum(theta, math.nan, 1.0, 0, False, "stopped by the test")

    monkeypatch.setattr(est, "fit_to_moments", broken)
    lam = np.zeros((6, 2))
    lam[:3, 0] = lam[3:, 1] = 0.75
    path = write(tmp_path, "sigma", exact_data(factor_cov(lam, np.array([[1, .3], [.3, 1]]))),
                 AB["A"] + AB["B"])
    result = run(path, q)
    assert any(w.startswith("CFA: the model-implied covariance matrix is not positive definite "
                            "(smallest eigenvalue -") for w in result.warnings)
    assert result.measurement.cfa.params.se.isna().all()
    fit = result.to_dict()["cfa"]["fit"]
    assert fit["chisq"] is None and fit["cfi"] is None  # never a number that looks fine


# --------------------------------------------------------------------------- no estimate at all


def exit_2(capsys, data: Path, qfile: Path, tmp_path: Path) -> str:
    before = data.read_bytes()
    out = tmp_path / "out"
    code = main(["analyze", str(data), "-q", str(qfile), "-o", str(out), "--bootstrap", "0",
                 "--seed", "1", "--screen", "none"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert data.read_bytes() == before and not out.exists()
    return err.removeprefix("sem-kit: error: ").strip()


def yaml_file(tmp_path: Path, constructs: dict[str, list[str]]) -> Path:
    lines = ["format: 1", "name: trouble", "constructs:"]
    for cid, items in constructs.items():
        lines += [f"  {cid}:", f"    name: {cid}",
                  "    items: {" + ", ".join(f"{i}: {i}" for i in items) + "}"]
    path = tmp_path / "trouble.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_singular_sample_covariance_matrix(capsys, tmp_path):
    """B3 = B1 + B2 exactly: S is singular and ML cannot be computed (lavaan stops too)."""
    data = exact_data(np.eye(6) * 0.5 + 0.5)
    data[:, 5] = data[:, 3] + data[:, 4]
    path = write(tmp_path, "lincomb", data, AB["A"] + AB["B"])
    message = exit_2(capsys, path, yaml_file(tmp_path, AB), tmp_path)
    assert message.startswith(f"{path}: the sample covariance matrix is not positive definite "
                              "(smallest eigenvalue of the correlation matrix ")
    assert message.endswith("columns B3, B1, B2 are linearly dependent (one is a copy, a "
                            "multiple or a sum of the others); maximum likelihood cannot be "
                            "computed")


def test_copied_item_column(capsys, tmp_path):
    data = exact_data(np.eye(6) * 0.5 + 0.5)
    data[:, 2] = data[:, 0]
    path = write(tmp_path, "copy", data, AB["A"] + AB["B"])
    message = exit_2(capsys, path, yaml_file(tmp_path, AB), tmp_path)
    assert "columns A3, A1 are" in message or "columns A1, A3 are" in message


def test_negative_degrees_of_freedom(capsys, tmp_path):
    """One construct with two items: 4 free parameters, 3 moments."""
    qfile = yaml_file(tmp_path, {"C": ["C1", "C2"]})
    path = write(tmp_path, "two", exact_data(np.array([[1, .5], [.5, 1]]), 100), ["C1", "C2"])
    assert exit_2(capsys, path, qfile, tmp_path) == (
        f"{qfile}: the measurement model (CFA) of this questionnaire: the model is not "
        "identified: it has 4 free parameters but only 3 sample (co)variances, so df = -1 < 0; "
        "fix some parameters or add indicators. A construct needs 3 items to be identified on "
        "its own (a 2-item construct is identified only through its correlations with other "
        "constructs; a single item is taken as the construct, without measurement error)")


def test_two_item_construct_correlating_with_nothing(capsys, tmp_path):
    lam = np.zeros((8, 3))
    lam[:3, 0] = lam[3:6, 1] = 0.8
    lam[6:, 2] = 0.7
    phi = np.eye(3)
    phi[0, 1] = phi[1, 0] = 0.4
    columns = [i for items in ABC.values() for i in items]
    path = write(tmp_path, "alone", exact_data(factor_cov(lam, phi), seed=3), columns)
    message = exit_2(capsys, path, yaml_file(tmp_path, ABC), tmp_path)
    assert message.startswith(f"{path}: the model is not identified: the information matrix is "
                              "singular (smallest eigenvalue ")
    assert message.endswith("C has only two indicators and (nearly) zero covariance with the "
                            "other latent variables, so the data cannot identify it: add a "
                            "third item, or check its items and answers")


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_values_are_not_numbers(capsys, tmp_path, value):
    """``inf`` in a continuous item is not an answer; it is rejected where it is read."""
    data = exact_data(np.eye(6) * 0.5 + 0.5, 50).astype(object)
    data[7, 1] = value
    path = write(tmp_path, "inf", data, AB["A"] + AB["B"])
    message = exit_2(capsys, path, yaml_file(tmp_path, AB), tmp_path)
    assert message.startswith(f"{path}: column 'A2', row 9: answer '{value}' is not a number")


# --------------------------------------------------------------------------- results.json


def test_results_json_carries_the_warnings(capsys, tmp_path):
    """The whole CLI run, structural model included: the Heywood case is in
    results.json ``meta.warnings`` for the CFA and for the structural model."""
    qfile = tmp_path / "heywood.yaml"
    qfile.write_text(yaml_file(tmp_path, AB).read_text(encoding="utf-8")
                     + "hypotheses:\n  H1: {path: A -> B, sign: '+'}\n", encoding="utf-8")
    path = write(tmp_path, "heywood", heywood_data(), AB["A"] + AB["B"])
    out = tmp_path / "out"
    code = main(["analyze", str(path), "-q", str(qfile), "-o", str(out), "--bootstrap", "0",
                 "--seed", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "warning(s): see the report's Warnings section" in captured.out
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    schema = json.loads(resources.files("sem_kit.schemas").joinpath("results.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    warnings = doc["meta"]["warnings"]
    assert "CFA: negative residual variance (Heywood case): A1 ~~ A1 = -0.2326" in warnings
    assert any(w.startswith("CFA: " + IMPROPER) for w in warnings)
    assert "SEM: negative residual variance (Heywood case): A1 ~~ A1 = -0.2326" in warnings
    assert any(w.startswith("SEM: " + IMPROPER) for w in warnings)  # the structural model's
    assert doc["meta"]["n_analyzed"] + len(doc["meta"]["excluded"]) == 300
    # the report shows the fit measures but judges none of them "good"
    for table in ("cfa_fit", "sem_fit"):
        verdicts = pd.read_csv(out / "tables" / f"{table}.csv", encoding="utf-8-sig")["verdict"]
        judged = set(verdicts.dropna())
        assert judged == {"improper"}, (table, judged)
