"""The response simulator: population model, answers, flawed rows, writer, bundled sample.

The correlation tests compare the *discretised* answers as written (reverse
items re-reversed) with the population model, at three levels:

- exact: the expected correlation of two 7-point answers, from Mehler's
  series, equals the bivariate-normal integral, and stays within 0.03 of the
  latent responses' correlation for every pair (the discretisation loss);
- N = 5000 (the issue's sample size): every pair agrees with the expected
  answer correlation to sampling error (|z| < 5; the sampling SD of r is
  about 0.013 there, so the largest of 1128 deviations is typically 0.045 and
  no simulator can hold *every* pair within 0.03), at least 93 % of pairs lie
  within 0.03, and the deviations average out (no bias);
- N = 100 000: every pair within 0.015 of the expected answer correlation.

A continuous questionnaire checks the latent structure without discretisation.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from references import SAMPLE
from scipy.stats import multivariate_normal, norm

from sem_kit import InputError
from sem_kit.io.simulate import (
    FLAW_REASONS,
    likert_thresholds,
    population_model,
    simulate_responses,
    write_responses,
)
from sem_kit.questionnaire import parse_questionnaire
from sem_kit.questionnaire.schema import Population

CONTINUOUS = """
format: 1
name: continuous
constructs:
  A: {name: A, items: {a1: x, a2: y, a3: z}}
  B: {name: B, items: {b1: x, b2: y, b3: z}}
  D1: {name: D1, items: {d11: x, d12: y}}
  D2: {name: D2, items: {d21: x, d22: y}}
  K: {name: K, dimensions: [D1, D2]}
  Y: {name: Y, items: {y1: x, y2: y, y3: z}}
hypotheses:
  H1: {path: A -> B, sign: "+"}
  H2: {path: B -> Y, sign: "+"}
  H3: {path: K -> Y, sign: "-"}
  H4: {path: A -> Y, sign: "+"}
population:
  loading: 0.7
  loadings: {a1: 0.85, y3: -0.5, D2: 0.6}
  correlations: {"A ~~ K": -0.4}
  paths: {"A -> B": 0.5}
  path: 0.3
"""


@pytest.fixture(scope="module")
def q(builtin_questionnaire):
    """The built-in questionnaire, under the short name these tests use."""
    return builtin_questionnaire


@pytest.fixture(scope="module")
def pm(q):
    return population_model(q)


def agreement_keyed(q, df: pd.DataFrame) -> np.ndarray:
    """Item answers with reverse-worded items re-reversed (min + max - x)."""
    x = df[list(q.items)].to_numpy(dtype=float, na_value=np.nan).copy()
    for j, item in enumerate(q.items):
        if q.items[item].reverse:
            s = q.item_scale(item)
            x[:, j] = s.min + s.max - x[:, j]
    return x


def upper(m: np.ndarray) -> np.ndarray:
    return m[np.triu_indices(m.shape[0], 1)]


# -- population model ----------------------------------------------------------------------
def test_population_values_come_from_the_questionnaire(q, pm):
    assert pm.paths[("WIL", "KSB")] == 0.25
    assert pm.paths[("CST", "WIL")] == -0.3
    assert pm.loadings["WIL1"] == {"WIL": 0.75}
    assert pm.dimension_loadings["ECO"] == {"KCH": 0.8}
    assert list(pm.exogenous_correlation.index) == ["CST", "EXB", "LOY", "TRU", "KCH", "TEC",
                                                    "INC"]
    # WIL = -0.3 CST + 0.35 EXB + zeta, corr(CST, EXB) = 0.3
    assert pm.r_squared["WIL"] == pytest.approx(0.09 + 0.1225 - 2 * 0.3 * 0.35 * 0.3)
    assert pm.r_squared["ABL"] == pytest.approx(0.16)
    assert pm.r_squared["ECO"] == pytest.approx(0.64)
    sigma = pm.latent_covariance()
    assert list(sigma.index) == list(q.constructs)
    assert np.allclose(np.diag(sigma), 1.0)
    assert np.linalg.eigvalsh(sigma.to_numpy()).min() > 0
    assert sigma.loc["ECO", "SCA"] == pytest.approx(0.64)
    assert sigma.loc["CST", "WIL"] == pytest.approx(-0.3 + 0.35 * 0.3)
    implied = pm.implied_item_correlation()
    assert list(implied.index) == list(q.items)
    assert implied.loc["WIL1", "WIL4"] == pytest.approx(0.5625)  # reverse item not reversed
    assert implied.loc["ECO1", "SCA1"] == pytest.approx(0.75 * 0.64 * 0.75)


def test_default_path_takes_the_hypothesis_sign(q):
    pm = population_model(q, Population(path=0.1))
    assert pm.paths[("CST", "KSB")] == -0.1
    assert pm.paths[("LOY", "ABL")] == 0.1


def test_paths_implying_r2_of_one_are_refused(q):
    pop = Population(paths={"CST -> WIL": -0.9, "EXB -> WIL": 0.9})
    with pytest.raises(InputError, match=r"into WIL .*R2 = 1\.134 >= 1"):
        population_model(q, pop)
    with pytest.raises(InputError, match="R2"):
        simulate_responses(q, 10, 1, population=pop)


@pytest.mark.parametrize(
    ("pop", "message"),
    [
        (Population(loadings={"XYZ1": 0.7}), "population.loadings.XYZ1: expected an item id"),
        (Population(loadings={"WIL": 0.7}), "population.loadings.WIL: expected an item id"),
        (Population(loadings={"WIL1": 1.2}), "between -1 and 1"),
        (Population(paths={"KSB -> WIL": 0.2}), "population.paths.KSB -> WIL: expected a hyp"),
        (Population(correlations={"CST ~~ WIL": 0.2}), "WIL is endogenous"),
        (Population(correlations={"ECO ~~ CST": 0.2}), "ECO is a dimension of KCH"),
        (Population(correlations={"CST ~~ CST": 0.2}), "two different construct ids"),
        (Population(correlation=-0.5), "not positive definite"),
    ],
)
def test_bad_population_values_are_named(q, pop, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        population_model(q, pop)


def test_continuous_items_reproduce_the_latent_structure():
    cq = parse_questionnaire(textwrap.dedent(CONTINUOUS), "continuous.yaml")
    pm = population_model(cq)
    assert pm.r_squared["B"] == pytest.approx(0.25)
    # Y = .3 B - .3 K + .3 A; cov(A,B) = .5, cov(A,K) = -.4, cov(B,K) = -.2
    assert pm.r_squared["Y"] == pytest.approx(0.27 + 2 * (0.09 * 0.2 + 0.09 * 0.5 + 0.09 * 0.4))
    assert pm.r_squared["D2"] == pytest.approx(0.36)
    sigma = pm.latent_covariance()
    assert sigma.loc["B", "K"] == pytest.approx(-0.2)
    df = simulate_responses(cq, 50_000, 3, demographics=False)
    assert list(df.columns) == list(cq.items)
    assert all(df[c].dtype == np.float64 for c in df.columns)
    r = np.corrcoef(df.to_numpy().T)
    assert np.abs(r - pm.implied_item_correlation().to_numpy()).max() < 0.02
    assert np.allclose(pm.expected_response_correlation(), pm.implied_item_correlation())


# -- thresholds and expected correlations ----------------------------------------------------
def test_seven_point_thresholds_give_a_left_skewed_likert_distribution():
    tau = likert_thresholds(7)
    assert tau.round(2).tolist() == [-2.3, -1.58, -0.86, -0.14, 0.58, 1.3]
    p = np.diff(np.concatenate([[0], norm.cdf(tau), [1]]))
    k = np.arange(1, 8)
    mean = (p * k).sum()
    skew = (p * (k - mean) ** 3).sum() / ((p * (k - mean) ** 2).sum()) ** 1.5
    assert 4.5 < mean < 5.0
    assert -0.3 < skew < 0
    assert p.argmax() == 4  # "somewhat agree" is the commonest answer
    with pytest.raises(InputError):
        likert_thresholds(1)


def test_expected_answer_correlation_is_the_bivariate_normal_integral(pm):
    tau = likert_thresholds(7)
    rho = 0.5625
    p = norm.cdf(tau)
    cov = sum(
        multivariate_normal.cdf([a, b], cov=[[1, rho], [rho, 1]]) - pa * pb
        for a, pa in zip(tau, p, strict=True) for b, pb in zip(tau, p, strict=True)
    )
    q = np.diff(np.concatenate([[0], p, [1]]))
    k = np.arange(7)
    var = (q * k * k).sum() - (q * k).sum() ** 2
    assert pm.expected_response_correlation().loc["WIL1", "WIL2"] == pytest.approx(cov / var,
                                                                                   abs=1e-6)


def test_non_integer_scale_expectation_matches_closed_form():
    cq = parse_questionnaire(textwrap.dedent("""
        format: 1
        name: slider
        scale: {min: 0, max: 10, integer: false}
        constructs:
          A: {name: A, items: {a1: x, a2: y, a3: z}}
        population: {loading: 0.8}
    """), "slider.yaml")
    r = population_model(cq).expected_response_correlation().loc["a1", "a2"]
    # corr(Phi(X1 + s), Phi(X2 + s)) = [Phi2(a, a; rho/2) - Phi(a)^2] / [Phi2(a, a; 1/2) - Phi(a)^2]
    a = 0.5 / np.sqrt(2)

    def phi2(c: float) -> float:
        return multivariate_normal.cdf([a, a], cov=[[1, c], [c, 1]]) - norm.cdf(a) ** 2

    assert r == pytest.approx(phi2(0.64 / 2) / phi2(0.5), abs=1e-5)
    df = simulate_responses(cq, 200, 1, demographics=False)
    assert df.to_numpy().min() >= 0 and df.to_numpy().max() <= 10


def test_discretisation_loses_less_than_003_of_any_correlation(pm):
    implied = pm.implied_item_correlation().to_numpy()
    expected = pm.expected_response_correlation().to_numpy()
    loss = upper(np.abs(implied) - np.abs(expected))
    assert loss.max() < 0.03  # 0.029 for two items of one construct (0.5625 -> 0.533)
    assert (loss >= 0).all()  # attenuation towards 0, never inflation
    assert (np.sign(upper(implied)) == np.sign(upper(expected))).all()


def test_item_correlations_at_n_5000(q, pm):
    n = 5000
    x = agreement_keyed(q, simulate_responses(q, n, 5000, demographics=False))
    r = upper(np.corrcoef(x.T))
    expected = upper(pm.expected_response_correlation().to_numpy())
    implied = upper(pm.implied_item_correlation().to_numpy())
    d = r - expected
    se = (1 - expected**2) / np.sqrt(n)
    assert np.abs(d / se).max() < 5
    assert (np.abs(d) <= 0.03).mean() >= 0.93
    assert np.abs(d).mean() < 0.015
    assert abs(d.mean()) < 0.01
    # against the latent responses the mean deviation is the discretisation loss
    assert -0.02 < (r - implied).mean() < 0


def test_item_correlations_at_n_100000(q, pm):
    x = agreement_keyed(q, simulate_responses(q, 100_000, 11, demographics=False))
    r = np.corrcoef(x.T)
    assert np.abs(upper(r - pm.expected_response_correlation().to_numpy())).max() < 0.015


# -- the frame -----------------------------------------------------------------------------
def test_same_seed_same_frame(q):
    a = simulate_responses(q, 60, 42, missing=0.05, flawed=True)
    b = simulate_responses(q, 60, 42, missing=0.05, flawed=True)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs
    c = simulate_responses(q, 60, 43, missing=0.05, flawed=True)
    assert not a.equals(c)


def test_missing_does_not_change_the_answers(q):
    full = simulate_responses(q, 80, 7, demographics=False)
    holed = simulate_responses(q, 80, 7, missing=0.1, demographics=False)
    kept = holed.notna().to_numpy()
    assert (full.to_numpy()[kept] == holed.to_numpy(dtype=float, na_value=np.nan)[kept]).all()


def test_columns_types_and_scale(q):
    df = simulate_responses(q, 300, 1)
    demo = list(q.model.demographics)
    assert list(df.columns) == ["respondent_id", "duration_sec", *demo, *q.items]
    assert df["respondent_id"].tolist()[:2] == ["R0001", "R0002"]
    assert df["respondent_id"].is_unique
    assert all(df[c].dtype == np.int64 for c in df.columns[1:])
    items = df[list(q.items)].to_numpy()
    assert items.min() >= 1 and items.max() <= 7
    for did, d in q.model.demographics.items():
        assert set(df[did]) <= set(d.values)
        shares = df[did].value_counts(normalize=True)
        assert shares.max() - shares.min() > 0.05  # unequal
    dur = df["duration_sec"]
    assert dur.min() > q.model.screening.min_duration
    assert 6 * 60 <= dur.median() <= 8 * 60


def test_reverse_items_are_written_reversed(q):
    df = simulate_responses(q, 2000, 2, demographics=False)
    assert df["WIL1"].corr(df["WIL4"]) < -0.4
    assert df["TRU1"].corr(df["TRU4"]) < -0.4
    assert df["WIL1"].corr(df["WIL2"]) > 0.4
    assert df["WIL1"].mean() > 4.4 > 3.6 > df["WIL4"].mean()


def test_missing_share_is_exact_and_uses_nullable_ints(q):
    n, share = 1000, 0.05
    df = simulate_responses(q, n, 3, missing=share, demographics=False)
    cells = n * len(q.items)
    assert int(df.isna().to_numpy().sum()) == round(share * cells)
    assert all(str(df[c].dtype) == "Int64" for c in df.columns)
    assert df.isna().mean(axis=1).max() < q.model.screening.max_missing


def test_population_missing_is_the_default(q):
    pop = Population(missing=0.02)
    df = simulate_responses(q, 100, 3, population=pop, demographics=False)
    assert int(df.isna().to_numpy().sum()) == round(0.02 * 100 * len(q.items))


def test_flawed_rows_are_present_and_each_breaks_one_rule(q):
    n = 200
    df = simulate_responses(q, n, 9, missing=0.01, flawed=True)
    flaws = df.attrs["flawed_rows"]
    assert sorted(f["kind"] for f in flaws) == sorted(
        ["duplicate_id", "duplicate_answers", "straight_line_top", "straight_line_middle",
         "too_fast", "too_fast", "too_many_missing", "no_answers", "blank"]
    )
    assert {f["kind"] for f in flaws} <= set(FLAW_REASONS)
    assert len(df) == n + len(flaws)
    assert 0 not in [f["row"] for f in flaws]
    s = q.model.screening
    items = df[list(q.items)]
    answered = items.notna().sum(axis=1)
    by_kind: dict[str, list[int]] = {}
    for f in flaws:
        by_kind.setdefault(f["kind"], []).append(f["row"])
        if f["copies"] is not None:
            assert f["copies"] < f["row"]  # the copy comes after its original
    (dup_id,) = by_kind["duplicate_id"]
    ids = df[s.id_column]
    assert set(ids[ids.duplicated(keep=False) & ids.notna()].index) == {
        dup_id, next(f["copies"] for f in flaws if f["kind"] == "duplicate_id")}
    (dup_answers,) = by_kind["duplicate_answers"]
    src = next(f["copies"] for f in flaws if f["kind"] == "duplicate_answers")
    assert set(items[items.duplicated(keep=False) & (answered > 0)].index) == {dup_answers, src}
    assert items.loc[src].notna().all() and ids[dup_answers] not in set(ids.drop(dup_answers))
    straight = items.index[(items.nunique(axis=1) == 1) & (answered == len(q.items))]
    assert set(straight) == set(by_kind["straight_line_top"] + by_kind["straight_line_middle"])
    assert items.loc[by_kind["straight_line_top"][0]].eq(7).all()
    assert items.loc[by_kind["straight_line_middle"][0]].eq(4).all()
    fast = df.index[df[s.duration_column] < s.min_duration]
    assert set(fast) == set(by_kind["too_fast"])
    share = items.isna().mean(axis=1)
    assert set(df.index[(share > s.max_missing) & (share < 1)]) == set(by_kind["too_many_missing"])
    assert set(df.index[answered == 0]) == set(by_kind["no_answers"] + by_kind["blank"])
    assert set(df.index[df.isna().all(axis=1)]) == set(by_kind["blank"])
    (no_answers,) = by_kind["no_answers"]
    assert df.loc[no_answers, [s.id_column, s.duration_column]].notna().all()


def test_flawed_rows_follow_the_screening_settings(q):
    df = simulate_responses(q, 50, 1, flawed=True, demographics=False)
    kinds = sorted(f["kind"] for f in df.attrs["flawed_rows"])
    assert "duplicate_id" not in kinds and "too_fast" not in kinds  # no id / duration columns
    assert len(df) == 50 + len(kinds)


def test_bad_arguments_are_input_errors(q):
    with pytest.raises(InputError, match="n: expected a positive"):
        simulate_responses(q, 0)
    with pytest.raises(InputError, match=r"missing: expected a share"):
        simulate_responses(q, 10, missing=1.0)


# -- writer and the bundled sample -----------------------------------------------------------
def test_write_responses_csv_and_xlsx(q, tmp_path):
    df = simulate_responses(q, 30, 4, missing=0.05, flawed=True)
    write_responses(df, tmp_path / "r.csv")
    back = pd.read_csv(tmp_path / "r.csv")
    assert list(back.columns) == list(df.columns)
    assert len(back) == len(df)
    assert np.array_equal(back[list(q.items)].to_numpy(dtype=float, na_value=np.nan),
                          df[list(q.items)].to_numpy(dtype=float, na_value=np.nan), equal_nan=True)
    write_responses(df, tmp_path / "sub" / "r.xlsx")
    back = pd.read_excel(tmp_path / "sub" / "r.xlsx")
    assert list(back.columns) == list(df.columns)
    assert back["WIL1"].isna().sum() == df["WIL1"].isna().sum()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["r.csv", "r.xlsx"]
    with pytest.raises(InputError, match=r"expected \.csv or \.xlsx"):
        write_responses(df, tmp_path / "r.sav")


def test_bundled_sample_is_reproducible(q, tmp_path):
    df = simulate_responses(q, 400, 20261123, missing=0.002, flawed=True)
    write_responses(df, tmp_path / "sample.csv")
    assert (tmp_path / "sample.csv").read_bytes() == SAMPLE.read_bytes()
    assert len(df) == 409


SINGLE = """
format: 1
name: single
scale: {min: 1, max: 7}
constructs:
  A: {name: A, items: {a1: x, a2: y, a3: z}}
  S: {name: S, items: {s1: overall}}
hypotheses:
  H1: {path: A -> S, sign: "+"}
demographics:
  region: {name: Region, values: {North: North, South: {en: South, zh: 南方}}}
  gender: {name: Gender, values: {1: Male, 2: Female}}
"""


def test_single_item_is_drawn_without_measurement_error():
    sq = parse_questionnaire(textwrap.dedent(SINGLE), "single.yaml")
    pm = population_model(sq)
    assert pm.loadings["s1"] == {"S": 1.0} and pm.loadings["a1"] == {"A": 0.75}
    implied = pm.implied_item_correlation()
    assert implied.loc["a1", "s1"] == pytest.approx(0.75 * 0.2)  # loading x path x 1
    df = simulate_responses(sq, 200, 7)
    assert set(df["s1"].unique()) <= set(range(1, 8))
    lower = population_model(sq, Population(loadings={"s1": 0.6}))
    assert lower.loadings["s1"] == {"S": 0.6}


def test_text_demographic_codes_are_written_as_text():
    sq = parse_questionnaire(textwrap.dedent(SINGLE), "single.yaml")
    df = simulate_responses(sq, 300, 11, flawed=True)
    region = df["region"].dropna()
    assert set(region) == {"North", "South"} and df["region"].dtype == object
    assert df["region"].isna().sum() == 1  # the blank row
    assert set(df["gender"].dropna().astype(int)) == {1, 2}
    assert str(df["gender"].dtype) == "Int64"
