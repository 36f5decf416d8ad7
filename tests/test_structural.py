"""The structural stage against lavaan 0.6-14 and against known population values.

References come from ``tests/reference/structural_reference.R`` (run it from the
repository root to regenerate ``tests/reference/structural_*.json`` and
``tests/reference/data/structural_pd_boot_idx.csv``):

- Political Democracy (Bollen 1989; ``data/structural_pd.yaml`` is the model as a
  questionnaire): estimates, SEs, std.all, R², fit measures, the indirect effect
  ind60 -> dem60 -> dem65 (``ind := a*b``) with its delta-method and bootstrap
  intervals, lavaan's ``anova()`` against two nested alternatives, and lavaan's
  first 300 bootstrap resamples (row indices) refitted one by one.
- The built-in nine-factor questionnaire (KCH second order) on 500 simulated
  answers (``data/sim_ninefactor.csv``).

Tolerances: estimates and std.all ±0.001, SEs ±1 % relative, fit measures ±0.001
(χ², AIC, BIC ±0.01 % relative). Bootstrap intervals from our own resamples are
compared with lavaan's (2000 resamples each) within Monte Carlo error; see
:func:`quantile_mc_se`.
"""

from __future__ import annotations

import hashlib
import json
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from estimators_ref import check_pd_replicates
from references import REFERENCE, REFERENCE_DATA, SAMPLE, reference, reference_table, reference_text
from scipy.stats import chi2, norm

from sem_kit.engine.fit_indices import FIT_KEYS
from sem_kit.engine.optimizer import RefitFailed
from sem_kit.engine.refit import RefitPolicy, Refitter
from sem_kit.engine.syntax import specify
from sem_kit.engine.tolerances import RefitSettings
from sem_kit.errors import InputError
from sem_kit.estimators.ml import FisherScoringRefit, bootstrap_refitter
from sem_kit.io.simulate import simulate_responses
from sem_kit.postestimation.bootstrap import percentile_ci
from sem_kit.postestimation.comparison import constrained_syntax, nested_alternatives
from sem_kit.postestimation.modification import modification_indices
from sem_kit.questionnaire import load_questionnaire, parse_questionnaire
from sem_kit.structural import stage as structural
from sem_kit.structural.bootstrap import Statistic, effect_layout
from sem_kit.structural.effects import SUPPORTED, verdict
from sem_kit.structural.stage import structural_model

#: lavaan fitMeasures() names of the DESIGN.md FIT keys.
LAVAAN_FIT = {"rmsea_ci_lower": "rmsea.ci.lower", "rmsea_ci_upper": "rmsea.ci.upper",
              "rmsea_pvalue": "rmsea.pvalue", "n": "ntotal"}
RELATIVE_FIT = {"chisq", "aic", "bic"}

PD_SEED = 20240917
PD_BOOT = 2000


def load_ref(name: str) -> dict:
    return reference(f"structural_{name}")


def quantile_mc_se(t: np.ndarray, p: float) -> float:
    """Monte Carlo SE of the ``p`` quantile of ``B`` bootstrap replicates ``t``.

    The count of replicates below the true quantile is Binomial(B, p), so the
    quantile estimate moves by about one binomial SD, ``sqrt(B p (1 − p))``
    order statistics: ``SE ≈ (t_(Bp + s) − t_(Bp − s)) / 2`` with ``s`` that SD
    (the order-statistic form of ``sqrt(p(1 − p)/B) / f(q_p)``, Maritz & Jarrett
    1978, without a density estimate).
    """
    t = np.sort(np.asarray(t, dtype=float))
    b = t.size
    s = math.sqrt(b * p * (1 - p))
    lo = int(math.floor(b * p - s)) - 1
    hi = int(math.ceil(b * p + s)) - 1
    return float((t[hi] - t[lo]) / 2)


def by_key(rows: list[dict], *keys: str) -> dict:
    return {tuple(r[k] for k in keys): r for r in rows}


def assert_close(ours: float, theirs: float, *, abs_tol: float = 1e-3, rel: float | None = None,
                 what: str = "") -> None:
    if theirs is None:
        assert ours is None or not np.isfinite(ours), what
        return
    tol = abs(theirs) * rel if rel is not None else abs_tol
    assert abs(ours - theirs) <= tol, f"{what}: sem_kit {ours!r}, lavaan {theirs!r}"


def check_fit(fm: dict, lav: dict) -> None:
    for key in FIT_KEYS:
        theirs = lav["chisq"] / lav["df"] if key == "chisq_df" else lav[LAVAAN_FIT.get(key, key)]
        rel = 1e-4 if key in RELATIVE_FIT else None
        assert_close(fm[key], theirs, rel=rel, what=key)


def check_params(fit, ref: dict) -> None:
    """Every parameter-table row: est, se, std.all; the same free parameters as lavaan."""
    ours = fit.params
    lav = [r for r in ref["estimates"] if r["op"] != ":="]
    assert {(r["lhs"], r["op"], r["rhs"], r["free"] > 0) for r in ref["partable"]} == {
        (r.lhs, r.op, r.rhs, r.free > 0) for r in ours.itertuples()}
    table = {(r.lhs, r.op, r.rhs): r for r in ours.itertuples()}
    for r in lav:
        mine = table[(r["lhs"], r["op"], r["rhs"])]
        what = f"{r['lhs']} {r['op']} {r['rhs']}"
        assert_close(mine.est, r["est"], what=what + " est")
        assert_close(mine.std_all, r["std.all"], what=what + " std.all")
        if r["se"]:
            assert_close(mine.se, r["se"], rel=0.01, what=what + " se")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pd_q():
    return load_questionnaire(REFERENCE_DATA / "structural_pd.yaml")


@pytest.fixture(scope="module")
def pd_data():
    return reference_table("political_democracy.csv")


@pytest.fixture(scope="module")
def pd_ref():
    return load_ref("pd")


@pytest.fixture(scope="module")
def pd_wald(pd_q, pd_data):
    return structural_model(pd_q, pd_data, bootstrap=0)


@pytest.fixture(scope="module")
def pd_boot(pd_q, pd_data):
    return structural_model(pd_q, pd_data, bootstrap=PD_BOOT, seed=PD_SEED)


@pytest.fixture(scope="module")
def nf_q():
    return load_questionnaire()


@pytest.fixture(scope="module")
def nf_ref():
    return load_ref("ninefactor")


@pytest.fixture(scope="module")
def nf_result(nf_q, nf_ref):
    path = REFERENCE_DATA / nf_ref["data_file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == nf_ref["data_sha256"], (
        f"{path.name} changed since structural_ninefactor.json was written: "
        "rerun tests/reference/structural_reference.R")
    return structural_model(nf_q, reference_table(nf_ref["data_file"]), bootstrap=0)


# --------------------------------------------------------------------------- political democracy


def test_pd_questionnaire_is_lavaans_model(pd_q):
    plain = reference_text("pd_sem.lav")
    ours, theirs = specify(pd_q.model_syntax()).partable, specify(plain).partable
    key = ["lhs", "op", "rhs", "free"]
    assert sorted(map(tuple, ours[key].to_numpy())) == sorted(map(tuple, theirs[key].to_numpy()))


def test_pd_estimates_se_std_r2_fit(pd_wald, pd_ref):
    check_params(pd_wald.fit, pd_ref)
    check_fit(pd_wald.fit_measures, pd_ref["fit"])
    assert list(pd_wald.r2.index) == ["dem60", "dem65"]
    for name, value in pd_wald.r2.items():
        assert_close(value, pd_ref["r2"][name], what=f"R² {name}")


def test_pd_paths_and_wald_intervals(pd_wald, pd_ref):
    lav = by_key(pd_ref["estimates"], "lhs", "op", "rhs")
    std = by_key(pd_ref["std"], "lhs", "op", "rhs")
    paths = pd_wald.paths
    assert list(paths.hypothesis) == ["H1", "H2", "H3"]
    assert (paths.ci_method == structural.WALD).all()
    assert paths[["bc_lower", "bc_upper", "boot_se"]].isna().all().all()
    for r in paths.to_dict("records"):
        ref, sref = lav[(r["to"], "~", r["from"])], std[(r["to"], "~", r["from"])]
        what = f"{r['hypothesis']} {r['from']} -> {r['to']}"
        for ours, theirs in [("est", "est"), ("std", "std.all"), ("z", "z"),
                             ("ci_lower", "ci.lower"), ("ci_upper", "ci.upper")]:
            assert_close(r[ours], ref[theirs], what=f"{what} {ours}")
        assert_close(r["se"], ref["se"], rel=0.01, what=f"{what} se")
        assert_close(r["pvalue"], ref["pvalue"], abs_tol=1e-4, what=f"{what} p")
        # standardizedSolution(): delta-method SE and interval of std.all
        assert_close(r["std_se"], sref["se"], rel=0.01, what=f"{what} std se")
        assert_close(r["std_ci_lower"], sref["ci.lower"], what=f"{what} std ci.lower")
        assert_close(r["std_ci_upper"], sref["ci.upper"], what=f"{what} std ci.upper")
        assert r["verdict"] == verdict(r["est"], r["pvalue"], r["sign"])
        assert r["supported"] == (r["verdict"] == SUPPORTED)


def test_pd_indirect_and_total_effects_delta(pd_wald, pd_ref):
    """``ind := a*b`` and ``total := c + a*b``: point estimates exactly, delta-method SEs."""
    lav = {r["label"]: r for r in pd_ref["estimates"] if r["op"] == ":="}
    std = {r["label"]: r for r in pd_ref["std"] if r["op"] == ":="}
    paths = {v: k for k, v in pd_ref["defined"].items()}
    (row,) = pd_wald.indirect.to_dict("records")
    assert row["path"] == "ind60 -> dem60 -> dem65" == pd_ref["defined"]["ind"]
    assert row["method"] == structural.DELTA
    ind, ind_std = lav[paths[row["path"]]], std[paths[row["path"]]]
    # exactly lavaan's definition: the product of the two paths' est (std.all) values ...
    est = {(r.lhs, r.rhs): (r.est, r.std_all) for r in pd_wald.fit.params.itertuples()
           if r.op == "~"}
    lav_est = {(r["lhs"], r["rhs"]): (r["est"], r["std.all"]) for r in pd_ref["estimates"]
               if r["op"] == "~"}
    a, b = ("dem60", "ind60"), ("dem65", "dem60")
    for k, ours, theirs in [(0, row["est"], ind["est"]), (1, row["std"], ind_std["est.std"])]:
        assert ours == est[a][k] * est[b][k]
        assert theirs == pytest.approx(lav_est[a][k] * lav_est[b][k], abs=1e-12)
        # ... so the two differ only by what the path estimates differ (lavaan's optimiser
        # stops ~1e-6 short of the optimum sem_kit reaches: its F is higher by ~1e-12)
        da, db = est[a][k] - lav_est[a][k], est[b][k] - lav_est[b][k]
        bound = abs(da * lav_est[b][k]) + abs(db * lav_est[a][k]) + abs(da * db) + 1e-12
        assert abs(ours - theirs) <= bound
        assert abs(ours - theirs) < 1e-5
    assert_close(row["se"], ind["se"], rel=0.01, what="ind se")
    assert_close(row["std_se"], ind_std["se"], rel=0.01, what="ind std se")
    for ours, theirs in [("ci_lower", "ci.lower"), ("ci_upper", "ci.upper")]:
        assert_close(row[ours], ind[theirs], what=f"ind {ours}")
        assert_close(row[f"std_{ours}"], ind_std[theirs], what=f"ind std {ours}")
    eff = pd_wald.effects.set_index(["from", "to"])
    total = eff.loc[("ind60", "dem65")]
    assert total["indirect"] == row["est"]
    assert total["total"] == pytest.approx(est[("dem65", "ind60")][0] + row["est"], abs=1e-14)
    assert total["total_std"] == pytest.approx(est[("dem65", "ind60")][1] + row["std"],
                                               abs=1e-14)
    assert total["total"] == pytest.approx(lav["total"]["est"], abs=1e-5)
    assert total["total_std"] == pytest.approx(std["total"]["est.std"], abs=1e-5)
    assert_close(total["total_ci_lower"], lav["total"]["ci.lower"], what="total ci.lower")
    assert_close(total["total_ci_upper"], lav["total"]["ci.upper"], what="total ci.upper")
    # pairs without a chain have no indirect effect at all
    alone = eff.drop(index=("ind60", "dem65"))
    assert (alone["indirect"] == 0).all() and alone["indirect_ci_lower"].isna().all()
    assert (alone["total"] == alone["direct"]).all()


def test_pd_bootstrap_interval_within_monte_carlo_error_of_lavaan(pd_boot, pd_ref):
    """Our percentile interval (own resamples) vs lavaan's (its resamples), 2000 each.

    The two bounds are independent Monte Carlo estimates of the same bootstrap
    quantiles, so their difference has SD ``√2 · SE_q`` (``SE_q`` from lavaan's
    replicates, :func:`quantile_mc_se`); we allow 3 SD (a false alarm has
    probability 0.3 % per bound). The same for the std.all product, the
    bias-corrected interval and the bootstrap SD (relative MC SD of an SD
    estimate ≈ 1/√(2(B − 1))).
    """
    boot = pd_ref["bootstrap"]
    assert boot["R"] == PD_BOOT and boot["failed"] == 0
    info = pd_boot.bootstrap
    assert (info.requested, info.succeeded, info.failed, info.seed) == (PD_BOOT, PD_BOOT, 0,
                                                                        PD_SEED)
    (row,) = pd_boot.indirect.to_dict("records")
    assert row["method"] == structural.PERCENTILE
    perc = {r["label"]: r for r in boot["perc"]}
    bca = {r["label"]: r for r in boot["bca_simple"]}
    t, t_std = np.asarray(boot["ind"]), np.asarray(boot["ind_std"])
    checks = [
        ("ci_lower", perc["ind"]["ci.lower"], t, 0.025),
        ("ci_upper", perc["ind"]["ci.upper"], t, 0.975),
        ("bc_lower", bca["ind"]["ci.lower"], t, None),
        ("bc_upper", bca["ind"]["ci.upper"], t, None),
        ("std_ci_lower", boot["ind_std_perc"][0], t_std, 0.025),
        ("std_ci_upper", boot["ind_std_perc"][1], t_std, 0.975),
    ]
    for key, theirs, reps, p in checks:
        if p is None:  # the bias-corrected bound sits at the quantile lavaan's own bound is
            p = float(np.mean(reps <= theirs))
        tol = 3 * math.sqrt(2) * quantile_mc_se(reps, p)
        assert abs(row[key] - theirs) < tol, f"{key}: ours {row[key]}, lavaan {theirs}, ±{tol}"
    rel = 3 * math.sqrt(2) / math.sqrt(2 * (PD_BOOT - 1))
    assert row["boot_se"] == pytest.approx(boot["ind_sd"], rel=rel)
    # lavaan's interval is boot:::norm.inter on its replicates, as ours is on ours
    assert percentile_ci(t[:, None])[0] == pytest.approx(
        [perc["ind"]["ci.lower"], perc["ind"]["ci.upper"]], abs=1e-12)
    # the direct paths' percentile intervals, likewise; no replicates stored for them, so
    # the MC SE of a 2.5 % quantile is taken for a normal distribution with lavaan's
    # bootstrap SD: sqrt(p (1 − p) / B) / φ(z_p) · SD
    lab = {("ind60", "dem60"): "a", ("dem60", "dem65"): "b", ("ind60", "dem65"): "c"}
    p = 0.025
    unit = math.sqrt(p * (1 - p) / PD_BOOT) / norm.pdf(norm.ppf(p))
    for r in pd_boot.paths.to_dict("records"):
        ref = perc[lab[(r["from"], r["to"])]]
        tol = 3 * math.sqrt(2) * unit * ref["se"]
        assert r["ci_method"] == structural.PERCENTILE
        assert abs(r["ci_lower"] - ref["ci.lower"]) < tol
        assert abs(r["ci_upper"] - ref["ci.upper"]) < tol


def test_pd_refits_of_lavaans_own_resamples(pd_wald, pd_ref):
    """lavaan's first 300 resamples (its row indices) refitted: the same statistics."""
    boot = pd_ref["bootstrap"]
    idx = np.loadtxt(REFERENCE / boot["idx_file"], delimiter=",", dtype=int) - 1
    assert idx.shape == (boot["idx_rows"], pd_wald.fit.n)
    lav = pd.DataFrame(boot["idx_stats"])
    fit = pd_wald.fit
    refitter = bootstrap_refitter(fit)
    x = reference_table("political_democracy.csv")[list(refitter.observed)].to_numpy()
    layout = effect_layout(load_questionnaire(REFERENCE_DATA / "structural_pd.yaml"), fit,
                           [("ind60", "dem60", "dem65")], [])
    stat = Statistic(refitter, refitter, layout)
    ours = np.array([stat(x[rows]) for rows in idx])
    # hypotheses H1 (a), H2 (c), H3 (b); the one chain is ind
    check_pd_replicates(ours, layout, lav)
    # non-admissible solutions are kept and flagged, as lavaan keeps them
    assert 0 < ours[:, -1].sum() < len(idx)


def test_pd_model_comparison_matches_anova(pd_wald, pd_ref):
    comp = pd_wald.comparison.set_index("model")
    assert list(comp.index) == ["hypothesised", "no_mediator_paths", "full_mediation"]
    base = comp.loc["hypothesised"]
    assert_close(base["chisq"], pd_ref["fit"]["chisq"], rel=1e-4, what="chisq")
    assert np.isnan(base["delta_chisq"])
    for alt in pd_ref["comparison"]:
        row = comp.loc[alt["name"]]
        fit, (_, lrt) = alt["fit"], alt["lrt"]
        for key in ("npar", "df", "cfi", "tli", "rmsea", "srmr"):
            assert_close(row[key], fit[key], what=f"{alt['name']} {key}")
        for key in ("chisq", "aic", "bic"):
            assert_close(row[key], fit[key], rel=1e-4, what=f"{alt['name']} {key}")
        assert_close(row["delta_chisq"], lrt["Chisq diff"], what=f"{alt['name']} Δχ²")
        assert row["delta_df"] == lrt["Df diff"]
        assert_close(row["delta_pvalue"], lrt["Pr(>Chisq)"], abs_tol=1e-5, what="p")
        assert_close(row["rmsea_d"], lrt["RMSEA"], what=f"{alt['name']} RMSEA_D")
        assert row["delta_cfi"] == pytest.approx(row["cfi"] - base["cfi"])
        assert row["delta_aic"] == pytest.approx(fit["aic"] - pd_ref["fit"]["aic"], abs=1e-3)
    # the alternatives are the questionnaire's model with the dropped paths fixed to 0
    assert [a.dropped for a in nested_alternatives(load_questionnaire(
        REFERENCE_DATA / "structural_pd.yaml"))] == [(("ind60", "dem60"),), (("ind60", "dem65"),)]


def test_pd_sem_block_is_design_json(pd_boot, pd_wald):
    schema = json.loads(resources.files("sem_kit.schemas").joinpath("results.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema = pytest.importorskip("jsonschema")
    sem_schema = {**schema["properties"]["sem"], "$defs": schema["$defs"]}
    for result in (pd_boot, pd_wald):
        block = result.to_dict()
        jsonschema.validate(block, sem_schema)
        assert list(block) == ["fit", "paths", "r2", "indirect"]
        assert list(block["fit"]) == list(FIT_KEYS)
        assert set(block["paths"][0]) == {"hypothesis", "from", "to", "sign", "est", "std", "se",
                                          "z", "pvalue", "ci_lower", "ci_upper", "supported"}
        assert set(block["indirect"][0]) == {"path", "est", "std", "ci_lower", "ci_upper",
                                             "method"}
        json.dumps(block, allow_nan=False)
    block = pd_boot.to_dict()
    assert block["paths"][0]["ci_lower"] == pd_boot.paths.ci_lower[0]
    assert block["indirect"][0]["method"] == "percentile bootstrap"
    assert block["r2"] == {k: float(v) for k, v in pd_boot.r2.items()}


def test_same_seed_same_intervals_whatever_the_jobs(pd_q, pd_data):
    one = structural_model(pd_q, pd_data, bootstrap=120, seed=3, jobs=1)
    two = structural_model(pd_q, pd_data, bootstrap=120, seed=3, jobs=2)
    pd.testing.assert_frame_equal(one.paths, two.paths)
    pd.testing.assert_frame_equal(one.indirect, two.indirect)
    pd.testing.assert_frame_equal(one.effects, two.effects)
    other = structural_model(pd_q, pd_data, bootstrap=120, seed=4, jobs=1)
    assert not np.allclose(one.indirect.ci_lower, other.indirect.ci_lower)


class _FlakyFallback:
    """A refit policy's fallback that fails on resamples whose first column's mean exceeds
    the full sample's by more than half a standard error (about 30 % of them)."""

    def __init__(self, inner, data: pd.DataFrame):
        self.inner = inner
        first = data[inner.observed[0]]
        self.cut = first.mean() + 0.5 * first.std(ddof=0) / math.sqrt(len(first))

    def __call__(self, sample: np.ndarray) -> np.ndarray:
        if sample[:, 0].mean() > self.cut:
            raise RefitFailed("singular (test)")
        return self.inner(sample)


def test_failed_resamples_are_counted_and_reported(pd_q, pd_data, monkeypatch):
    """Resamples on which both BFGS (no iterations allowed) and the fallback fail are left
    out, counted with their reasons and named in the warnings."""
    def flaky(fit):
        policy = RefitPolicy(RefitSettings(gtol=1e-7, max_iter=0),
                             _FlakyFallback(FisherScoringRefit(fit), pd_data))
        return Refitter(fit, policy)

    monkeypatch.setattr(structural, "bootstrap_refitter", flaky)
    result = structural_model(pd_q, pd_data, bootstrap=150, seed=11)
    info = result.bootstrap
    assert 0 < info.failed < info.requested
    assert info.succeeded + info.failed == info.requested == 150
    # one reason per BFGS stopping point: "no convergence after 0 BFGS iterations (max
    # |gradient| g); Fisher scoring: singular (test)", most frequent first
    assert sum(count for _, count in info.reasons) == info.failed
    counts = [count for _, count in info.reasons]
    assert counts == sorted(counts, reverse=True)
    for reason, _ in info.reasons:
        assert reason.startswith("no convergence after 0 BFGS iterations (max |gradient| ")
        assert reason.endswith("; Fisher scoring: singular (test)")
    warning = next(w for w in result.warnings if f"{info.failed} of 150 resamples failed" in w)
    assert info.reasons[0][0] in warning
    assert np.isfinite(result.indirect[["ci_lower", "ci_upper"]].to_numpy()).all()
    assert info.to_dict()["reasons"] == [{"reason": r, "count": c} for r, c in info.reasons]


def test_fisher_scoring_takes_over_when_bfgs_stops_short(pd_q, pd_data, monkeypatch):
    """With BFGS allowed no iteration every resample goes to Fisher scoring: no resample
    fails and the intervals are those of the normal run."""
    normal = structural_model(pd_q, pd_data, bootstrap=40, seed=5)
    monkeypatch.setattr(structural, "bootstrap_refitter", lambda fit: Refitter(
        fit, RefitPolicy(RefitSettings(gtol=1e-7, max_iter=0), FisherScoringRefit(fit))))
    rescued = structural_model(pd_q, pd_data, bootstrap=40, seed=5)
    assert rescued.bootstrap.failed == 0 and rescued.bootstrap.succeeded == 40
    cols = ["ci_lower", "ci_upper", "std_ci_lower", "std_ci_upper", "bc_lower", "bc_upper"]
    np.testing.assert_allclose(rescued.indirect[cols], normal.indirect[cols], atol=1e-5)
    np.testing.assert_allclose(rescued.paths[cols], normal.paths[cols], atol=1e-5)


def test_no_hypotheses_is_an_input_error(pd_data):
    text = reference_text("structural_pd.yaml")
    head = text.split("hypotheses:")[0]
    q = parse_questionnaire(head, origin="pd-without-hypotheses.yaml")
    with pytest.raises(InputError, match="pd-without-hypotheses.yaml: hypotheses"):
        structural_model(q, pd_data, bootstrap=0)


# --------------------------------------------------------------------------- nine-factor model


def test_ninefactor_against_lavaan(nf_result, nf_ref, nf_q):
    """Second-order KCH -> KSB included: estimates, SEs, std.all, R², fit measures."""
    check_params(nf_result.fit, nf_ref)
    check_fit(nf_result.fit_measures, nf_ref["fit"])
    assert list(nf_result.r2.index) == ["WIL", "ABL", "KSB"]
    for name, value in nf_result.r2.items():
        assert_close(value, nf_ref["r2"][name], what=f"R² {name}")
    kch = nf_result.paths.set_index("hypothesis").loc["H7"]
    assert (kch["from"], kch["to"]) == ("KCH", "KSB")
    assert np.isfinite(kch[["est", "std", "se", "ci_lower", "ci_upper", "std_se"]]
                       .to_numpy(dtype=float)).all()
    assert len(nf_result.paths) == len(nf_q.hypotheses) == 12


def test_ninefactor_indirect_total_and_comparison(nf_result, nf_ref):
    lav = {r["label"]: r for r in nf_ref["estimates"] if r["op"] == ":="}
    std = {r["label"]: r for r in nf_ref["std"] if r["op"] == ":="}
    label = {v: k for k, v in nf_ref["defined"].items()}
    ind = nf_result.indirect
    assert list(ind.path) == ["CST -> WIL -> KSB", "EXB -> WIL -> KSB", "LOY -> ABL -> KSB"]
    for r in ind.to_dict("records"):
        ref, sref = lav[label[r["path"]]], std[label[r["path"]]]
        assert r["est"] == pytest.approx(ref["est"], abs=1e-5)
        assert r["std"] == pytest.approx(sref["est.std"], abs=1e-5)
        assert_close(r["se"], ref["se"], rel=0.01, what=f"{r['path']} se")
        assert_close(r["std_se"], sref["se"], rel=0.01, what=f"{r['path']} std se")
    eff = nf_result.effects.set_index(["from", "to"])
    for src in ("CST", "EXB", "LOY"):
        key = label[f"{src} => KSB"]
        assert eff.loc[(src, "KSB"), "total"] == pytest.approx(lav[key]["est"], abs=1e-5)
        assert eff.loc[(src, "KSB"), "total_std"] == pytest.approx(std[key]["est.std"], abs=1e-5)
        assert_close(eff.loc[(src, "KSB"), "total_ci_lower"], lav[key]["ci.lower"],
                     what=f"{key} ci.lower")
    comp = nf_result.comparison.set_index("model")
    for alt in nf_ref["comparison"]:
        row, (_, lrt) = comp.loc[alt["name"]], alt["lrt"]
        assert_close(row["chisq"], alt["fit"]["chisq"], rel=1e-4, what=alt["name"])
        assert_close(row["cfi"], alt["fit"]["cfi"], what=f"{alt['name']} cfi")
        assert_close(row["bic"], alt["fit"]["bic"], rel=1e-4, what=f"{alt['name']} bic")
        assert_close(row["delta_chisq"], lrt["Chisq diff"], what=f"{alt['name']} Δχ²")
        assert row["delta_df"] == lrt["Df diff"] == 3
        assert_close(row["delta_pvalue"], lrt["Pr(>Chisq)"], abs_tol=1e-5, what="p")
        # the syntax lavaan fitted is ours with the same paths fixed to 0
        (ours,) = [a for a in nested_alternatives(load_questionnaire()) if a.name == alt["name"]]
        mine = specify(constrained_syntax(load_questionnaire().model_syntax(), ours.dropped))
        theirs = specify(alt["model"])
        key = ["lhs", "op", "rhs", "free", "ustart"]
        assert (mine.partable[key].fillna(-1).sort_values(key[:3]).to_numpy().tolist()
                == theirs.partable[key].fillna(-1).sort_values(key[:3]).to_numpy().tolist())


def test_ninefactor_modification_indices(nf_result):
    lav = reference("lavaan_ninefactor_sem")
    mi = nf_result.modification_indices
    pd.testing.assert_frame_equal(mi, modification_indices(nf_result.fit))
    top = by_key(lav["modindices"][:10], "lhs", "op", "rhs")
    ours = by_key(mi.to_dict("records"), "lhs", "op", "rhs")
    for key, r in top.items():
        assert_close(ours[key]["mi"], r["mi"], abs_tol=0.01, what=f"MI {key}")


# --------------------------------------------------------------------------- known population


SIM_N = 2000
SIM_SEED = 2000


def test_simulated_population_values_are_recovered(nf_q):
    """N = 2000 from the built-in population model (standardised metric, so std.all
    estimates the population paths).

    Each 95 % interval misses its true value with probability .05, so all twelve
    cover only about 54-68 % of the time (68 % in 40 replications with the delta
    method); likewise four paths of 0.1 have power .85-.95 at N = 2000. The test
    therefore asserts what holds for any seed with high probability rather than
    what one lucky seed shows:

    - at most 2 of the 12 bootstrap percentile intervals miss (P(≥ 3 misses) ≈ 2 %
      under independence);
    - jointly, Σ ((std − true) / std_se)² stays below the 0.999 quantile of χ²₁₂
      (no bias);
    - every path with a true |β| ≥ 0.15 is supported (power > .99), no path is
      significant with the opposite sign, and every verdict is the one its
      estimate and p-value give.
    """
    q = nf_q
    data = simulate_responses(q, SIM_N, SIM_SEED, demographics=False, missing=0)
    for item in q.reverse_items:  # as sem_kit.io.ingest recodes them
        data[item] = q.item_scale(item).reverse(data[item])
    result = structural_model(q, data, bootstrap=300, seed=SIM_SEED)
    paths = result.paths
    pop = q.model.population
    true = np.array([pop.paths.get(f"{a} -> {b}", pop.path) for a, b
                     in zip(paths["from"], paths["to"], strict=True)])
    signs = np.where(paths.sign == "+", 1.0, -1.0)
    assert np.all(np.sign(true) == signs)
    covered = (paths.std_ci_lower <= true) & (true <= paths.std_ci_upper)
    assert (~covered).sum() <= 2, paths.assign(true=true)[~covered]
    z2 = float((((paths["std"] - true) / paths.std_se) ** 2).sum())
    assert z2 < chi2.ppf(0.999, len(paths))
    strong = np.abs(true) >= 0.15
    assert paths.supported[strong].all(), paths[strong & ~paths.supported]
    assert not (paths.verdict == "significant, opposite sign").any()
    for r in paths.to_dict("records"):
        assert r["verdict"] == verdict(r["est"], r["pvalue"], r["sign"])
    assert result.bootstrap.succeeded == 300 and result.bootstrap.failed == 0
    # the indirect effects' population values: products of the standardised paths
    by_path = dict(zip(zip(paths["from"], paths["to"], strict=True), true, strict=True))
    ind = result.indirect
    for r in ind.to_dict("records"):
        chain = r["path"].split(" -> ")
        value = np.prod([by_path[(a, b)] for a, b in zip(chain[:-1], chain[1:], strict=True)])
        assert abs(r["std"] - value) < 4 * r["std_se"], r
    assert (ind.ci_lower < ind.est).all() and (ind.est < ind.ci_upper).all()


def test_end_to_end_on_the_bundled_sample(nf_q):
    """data/sample_responses.csv with the built-in questionnaire, as `sem-kit analyze` runs it."""
    from sem_kit.io.ingest import read_responses
    from sem_kit.io.screening import screen

    responses = read_responses(SAMPLE, nf_q)
    kept = screen(responses, nf_q).items.dropna()
    result = structural_model(nf_q, kept, bootstrap=200, seed=1)
    assert result.fit.converged and result.fit_measures["n"] == len(kept)
    block = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert len(block["paths"]) == 12 and len(block["indirect"]) == 3
    assert set(result.comparison.model) == {"hypothesised", "no_mediator_paths",
                                            "full_mediation", "subject_factors_only"}
    assert result.bootstrap.succeeded + result.bootstrap.failed == 200
