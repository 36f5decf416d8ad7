"""sem_kit.estimators.ml against lavaan 0.6-14 (tests/reference/lavaan_*.json).

Every expected number comes from ``tests/reference/lavaan_reference.R``:
``parameterEstimates(fit, standardized = TRUE)``, ``lavInspect(fit, "r2")``,
``lavInspect(fit, "sampstat"/"implied")`` and ``fitMeasures(fit)``.
Tolerances: estimates, std.lv, std.all, R², S and Σ ±0.001 absolute; standard
errors ±1% relative; χ² and log-likelihoods ±0.01% relative.
"""

from __future__ import annotations

import logging
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from references import reference as stored_reference
from references import reference_table, reference_text

from sem_kit.engine.fit import Fit
from sem_kit.engine.optimizer import Optimum
from sem_kit.engine.syntax import specify
from sem_kit.errors import InputError
from sem_kit.estimators.ml import fit_model, refit

MODELS = ["hs_cfa", "hs_saturated", "hs_mimic", "hs_paths", "hs_second_order", "heywood",
          "pd_sem", "ninefactor_cfa", "ninefactor_sem"]
ABS = 1e-3
SE_REL = 0.01
BIG_REL = 1e-4


def reference(name: str) -> dict:
    return stored_reference(f"lavaan_{name}")


@cache
def data_of(name: str) -> pd.DataFrame:
    return reference_table(reference(name)["data_file"])


def syntax_of(name: str) -> str:
    return reference_text(reference(name)["model_file"])


@cache
def fitted(name: str) -> Fit:
    return fit_model(syntax_of(name), data_of(name))


def key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    return (*sorted((lhs, rhs)), op) if op == "~~" else (lhs, rhs, op)


def merged(name: str) -> pd.DataFrame:
    """Our parameter table next to lavaan's (suffixes _py and _r)."""
    ref = pd.DataFrame(reference(name)["estimates"])
    ref = ref[ref.op.isin(["=~", "~", "~~"])].copy()
    ours = fitted(name).params.copy()
    for frame in (ref, ours):
        frame["key"] = [key(a, o, b) for a, o, b in zip(frame.lhs, frame.op, frame.rhs,
                                                        strict=True)]
    out = ref.merge(ours, on="key", suffixes=("_r", "_py"), how="outer", indicator=True)
    return out


def close(ours, theirs, tol=ABS) -> None:
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    worst = np.nanmax(np.abs(ours - theirs)) if ours.size else 0.0
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert worst <= tol, f"max deviation {worst:.2e} > {tol}"


def rel_close(ours: float, theirs: float, rel: float = BIG_REL, floor: float = 1e-6) -> None:
    assert abs(ours - theirs) <= max(rel * abs(theirs), floor), (ours, theirs)


# --------------------------------------------------------------------------- reference data


def test_reference_data_are_lavaans_size():
    assert reference("hs_cfa")["n"] == len(data_of("hs_cfa"))
    assert reference("pd_sem")["n"] == len(data_of("pd_sem"))
    assert all(reference(m)["lavaan_version"].startswith("0.6") for m in MODELS)


# --------------------------------------------------------------------------- parameter table


@pytest.mark.parametrize("name", MODELS)
def test_same_parameters_as_lavaan(name):
    m = merged(name)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", "key"].tolist()
    assert ((m.free_r > 0) == (m.free_py > 0)).all()
    assert (m.exo_r == m.exo_py).all()


@pytest.mark.parametrize("name", MODELS)
def test_counts_match_lavaan(name):
    fit, ref = fitted(name), reference(name)
    assert fit.n == ref["n"]
    assert fit.npar == ref["fit"]["npar"]
    assert fit.df == ref["fit"]["df"]


# --------------------------------------------------------------------------- estimates


@pytest.mark.parametrize("name", MODELS)
def test_estimates(name):
    m = merged(name)
    close(m.est_py, m.est_r)


@pytest.mark.parametrize("name", MODELS)
def test_standard_errors(name):
    m = merged(name)
    m = m[m.free_r > 0]
    rel = np.abs(m.se_py / m.se_r - 1.0)
    assert rel.max() <= SE_REL, m.loc[rel.idxmax(), ["key", "se_py", "se_r"]].tolist()


@pytest.mark.parametrize("name", MODELS)
def test_z_and_pvalues(name):
    m = merged(name)
    m = m[m.free_r > 0]
    assert (np.abs(m.z_py / m.z_r - 1.0) <= SE_REL).all()
    close(m.pvalue_py, m.pvalue_r)


@pytest.mark.parametrize("name", MODELS)
def test_standardized_solution(name):
    m = merged(name)
    close(m.std_all, m["std.all"])
    close(m.std_lv, m["std.lv"])


@pytest.mark.parametrize("name", MODELS)
def test_r2(name):
    ref = reference(name)["r2"]
    ours = fitted(name).r2
    assert set(ours.index) == set(ref)
    names = sorted(ref)
    close(ours[names], [np.nan if ref[k] is None else ref[k] for k in names])


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("which", ["sample_cov", "implied_cov"])
def test_covariance_matrices(name, which):
    ref = reference(name)[which]
    ours = getattr(fitted(name), which)
    assert list(ours.index) == ref["names"]
    close(ours.to_numpy(), np.array(ref["values"]))


@pytest.mark.parametrize("name", MODELS)
def test_likelihoods_and_chisq(name):
    fit, ref = fitted(name), reference(name)["fit"]
    rel_close(fit.logl, ref["logl"])
    rel_close(fit.unrestricted_logl, ref["unrestricted.logl"])
    rel_close(fit.chisq, ref["chisq"])
    rel_close(fit.fmin, ref["fmin"])


@pytest.mark.parametrize("name", MODELS)
def test_converged(name):
    fit = fitted(name)
    assert fit.converged == reference(name)["converged"]
    assert fit.converged


# --------------------------------------------------------------------------- lavaan defaults


def test_pure_dependent_latents_covary_and_covariates_are_fixed():
    """sem(): textual and speed (only dependent) get a free disturbance covariance
    (auto.cov.y); ageyr and sex are fixed.x covariates with sample (co)variances."""
    fit = fitted("hs_mimic")
    p = fit.params.set_index(["lhs", "op", "rhs"])
    assert p.loc[("textual", "~~", "speed"), "free"] > 0
    assert fit.x_vars == ("ageyr", "sex")
    s = fit.sample_cov
    assert p.loc[("ageyr", "~~", "sex"), "est"] == s.loc["ageyr", "sex"]
    assert np.isnan(p.loc[("ageyr", "~~", "sex"), "se"])
    # the equality label a: one free parameter for two loadings
    assert p.loc[("visual", "=~", "x2"), "free"] == p.loc[("visual", "=~", "x3"), "free"]


def test_observed_outcomes_and_free_first_loading():
    """sem(): the residuals of the purely dependent observed x8 and x9 covary; NA* frees the
    first loading when the latent variance is fixed; a user 0* covariance stays fixed."""
    p = fitted("hs_paths").params.set_index(["lhs", "op", "rhs"])
    assert p.loc[("x8", "~~", "x9"), "free"] > 0
    assert p.loc[("visual", "=~", "x1"), "free"] > 0
    assert p.loc[("visual", "~~", "visual"), "free"] == 0
    assert p.loc[("visual", "~~", "textual"), "free"] == 0
    assert p.loc[("visual", "~~", "textual"), "est"] == 0


def test_second_order_factor_covariances():
    """KCH (second order) covaries with the other exogenous latents; its dimensions,
    being indicators, do not."""
    p = fitted("ninefactor_cfa").params
    cov = p[(p.op == "~~") & (p.lhs != p.rhs)]
    pairs = {frozenset((a, b)) for a, b in zip(cov.lhs, cov.rhs, strict=True)}
    assert frozenset(("KCH", "WIL")) in pairs
    assert not any("ECO" in pair for pair in pairs)


def test_heywood_case_is_reported_not_hidden():
    """Negative residual variance as lavaan estimates it (no bound at 0), and flagged."""
    fit = fitted("heywood")
    m = merged("heywood")
    row = m[m.key == ("y1", "y1", "~~")].iloc[0]
    assert row.est_r < 0
    assert abs(row.est_py - row.est_r) <= ABS
    assert reference("heywood")["lavaan_warnings"]
    assert any("negative residual variance" in w and "y1" in w for w in fit.warnings)
    assert any("standardised loading above 1" in w for w in fit.warnings)
    assert not fitted("hs_cfa").warnings


def test_semopy_builds_the_same_sigma():
    """The adapter's semopy model and the RAM algebra agree on Σ at the estimates."""
    import semopy

    fit = fitted("pd_sem")
    model = semopy.Model(fit.spec.semopy_syntax, cov_diag=True)
    logging.getLogger("semopy").setLevel(logging.ERROR)
    model.load(data=data_of("pd_sem"), cov=fit.sample_cov)
    names = [n for n, par in model.parameters.items() if par.active]
    model.update_matrices(np.array([fit.theta[int(n[3:]) - 1] for n in names]))
    sigma = pd.DataFrame(model.calc_sigma()[0], index=model.vars["observed"],
                         columns=model.vars["observed"])
    close(sigma.loc[list(fit.observed), list(fit.observed)].to_numpy(),
          fit.implied_cov.to_numpy(), tol=1e-10)


def test_refit_same_data_reproduces_and_resample_converges():
    fit = fitted("ninefactor_sem")
    again = refit(fit, data_of("ninefactor_sem"))
    close(again.params.est, fit.params.est, tol=1e-6)
    rows = np.random.default_rng(7).integers(0, fit.n, fit.n)
    boot = refit(fit, data_of("ninefactor_sem").iloc[rows])
    assert boot.converged
    assert not np.allclose(boot.theta, fit.theta)


# --------------------------------------------------------------------------- syntax


def test_modifiers_fixed_free_and_labels():
    spec = specify("f =~ NA*x1 + x2 + 0.5*x3 + b*x4\nf ~~ 1*f\ng =~ x5 + b*x6 + x7")
    p = spec.partable.set_index(["lhs", "op", "rhs"])
    assert p.loc[("f", "=~", "x1"), "free"] > 0
    assert p.loc[("f", "=~", "x3"), "free"] == 0
    assert p.loc[("f", "=~", "x3"), "ustart"] == 0.5
    assert p.loc[("f", "~~", "f"), "free"] == 0
    assert p.loc[("f", "=~", "x4"), "free"] == p.loc[("g", "=~", "x6"), "free"]
    assert p.loc[("g", "=~", "x5"), "free"] == 0


def test_continued_lines_and_comments():
    spec = specify(
        "f =~ x1 + x2 +\n     x3  # three items\n! a comment line\ng =~ x4 + x5; g =~ x6"
    )
    assert spec.observed == ("x1", "x2", "x3", "x4", "x5", "x6")
    assert spec.latent == ("f", "g")


@pytest.mark.parametrize("syntax, fragment", [
    ("f =~ x1 + x2 + x3\nab := a*b", "defined parameters"),
    ("y ~ 1", "intercepts"),
    ("f =~ x1 + x2 + x3\nx1 | t1", "thresholds"),
    ("just words", "no operator"),
    ("f =~ x1 + x2 + x3\nz ~~ x1", "only in a covariance"),
    ("f =~ 2x + x2 + x3", "not a variable name"),
])
def test_bad_syntax_is_an_input_error(syntax, fragment):
    with pytest.raises(InputError, match=fragment):
        specify(syntax)


def test_negative_df_is_an_input_error():
    with pytest.raises(InputError, match="df = -1"):
        specify("f =~ x1 + x2")


def test_empirically_unidentified_model_is_an_input_error():
    data = data_of("hs_cfa")
    with pytest.raises(InputError, match="not identified"):
        fit_model("f =~ x1 + x2\ng =~ x4 + x5\nf ~~ 0*g", data)


def test_data_problems_are_input_errors():
    data = data_of("hs_cfa")
    model = syntax_of("hs_cfa")
    with pytest.raises(InputError, match="no column .* x9"):
        fit_model(model, data.drop(columns="x9"))
    holes = data.copy()
    holes.loc[3, "x4"] = np.nan
    with pytest.raises(InputError, match="missing values in column.*x4"):
        fit_model(model, holes)
    text = data.astype({"x1": str})
    with pytest.raises(InputError, match="non-numeric .* x1"):
        fit_model(model, text)


def test_linearly_dependent_items_are_named():
    data = data_of("hs_cfa").copy()
    data["x10"] = data["x1"] + data["x2"]
    with pytest.raises(InputError, match="not positive definite.*x10"):
        fit_model("visual =~ x1 + x2 + x3 + x10\ntextual =~ x4 + x5 + x6", data)


def test_simple_start_values_when_semopy_fails(monkeypatch):
    """If semopy's optimisation breaks down, lavaan's simple start values + Fisher scoring
    reach the same solution."""
    import sem_kit.estimators.ml as est

    def broken(*args, **kwargs):
        raise ValueError("semopy broke")

    monkeypatch.setattr(est, "_semopy_start", broken)
    fit = fit_model(syntax_of("pd_sem"), data_of("pd_sem"))
    assert fit.converged
    assert "simple start values" in fit.message
    close(fit.params.est, fitted("pd_sem").params.est, tol=1e-6)


def test_non_convergence_is_reported(monkeypatch):
    import sem_kit.estimators.ml as est

    def stalled(comp, s, theta0, **kwargs):
        return Optimum(theta0, math.nan, 1.0, 0, False, "no convergence in 0 iterations")

    monkeypatch.setattr(est, "fit_to_moments", stalled)
    fit = fit_model(syntax_of("hs_cfa"), data_of("hs_cfa"))
    assert not fit.converged
    assert any("did not converge" in w for w in fit.warnings)
