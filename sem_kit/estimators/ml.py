"""Maximum-likelihood estimation of a structural equation model, as lavaan does it.

semopy (``semopy.Model``, objective ``"MLW"``) runs the first optimisation;
everything that is reported is computed here from the parameter table of
:func:`sem_kit.engine.syntax.specify`, so that estimates, standard errors and
standardised solutions agree with ``lavaan::cfa()`` / ``lavaan::sem()``
(lavaan 0.6, ``estimator = "ML"``, complete data):

- **Objective.** lavaan's ML discrepancy with the N divisor (``likelihood =
  "normal"``), ``F = log|Σ| + tr(SΣ⁻¹) − log|S| − p``; semopy's "MLW" is the
  same function. semopy bounds variances at 0; lavaan does not, so the semopy
  solution is polished here by Fisher scoring without bounds
  (:func:`sem_kit.engine.optimizer.fisher_scoring`), which also makes the
  convergence tight (max |∂F/∂θ| below 1e-8 in regular cases).
- **Standard errors** from the expected information with N (lavaan's
  ``information = "expected"``, ``se = "standard"``):
  ``I = ½ Δᵀ (Σ⁻¹ ⊗ Σ⁻¹) Δ`` with ``Δ = ∂vech(Σ)/∂θ``, ``vcov = (N I)⁻¹``.
- **Standardised solution** exactly as ``standardizedSolution(fit, type =
  "std.all")`` (:func:`sem_kit.engine.standardize.standardize`).

:func:`refit` fits the same model to new data by Fisher scoring from earlier
estimates (semopy only if that fails), recomputing the fixed.x covariances
from the new data as lavaan does.

Examples
--------
>>> from sem_kit.estimators.ml import fit_model            # doctest: +SKIP
>>> fit = fit_model("visual =~ x1 + x2 + x3\\n...", data)  # doctest: +SKIP
>>> fit.params                                             # doctest: +SKIP

In R: ``parameterEstimates(cfa(model, data), standardized = TRUE)``.
"""

from __future__ import annotations

import logging
import math
import warnings as _pywarnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from sem_kit.engine.fit import (
    Fit,
    loadings_above_one,
    moments_frame,
    negative_variances,
    vcov_frame,
)
from sem_kit.engine.optimizer import Optimum, RefitFailed, fisher_scoring
from sem_kit.engine.ram import CompiledModel, compile_model, moments, row_factors, row_values
from sem_kit.engine.refit import RefitPolicy, Refitter
from sem_kit.engine.standardize import r_squared, standardize
from sem_kit.engine.syntax import ModelSpec, specify
from sem_kit.engine.tolerances import (
    LATENT_COV_EIGENVALUE,
    ML_REFIT,
    ML_SCORING,
    SAMPLE_COV_EIGENVALUE,
    SINGULAR_EIGENVALUE_RATIO,
    UNDER_IDENTIFIED_EIGENVALUE,
)
from sem_kit.errors import InputError

__all__ = [
    "FisherScoringRefit",
    "bootstrap_refitter",
    "fit_model",
    "fit_to_moments",
    "information_and_gradient",
    "refit",
    "sample_cov_trouble",
    "simple_start",
]


def information_and_gradient(comp: CompiledModel, b: np.ndarray, c: np.ndarray,
                              sigma_inv: np.ndarray,
                              s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit expected information and ∂F/∂θ from the rank-2 form of ∂Σ/∂θ.

    With ``∂Σ/∂x_r = w_r (u_r v_rᵀ + v_r u_rᵀ)``:
    ``½ tr(Σ⁻¹ ∂Σ_r Σ⁻¹ ∂Σ_t) = w_r w_t ((u_rᵀΣ⁻¹u_t)(v_rᵀΣ⁻¹v_t) + (u_rᵀΣ⁻¹v_t)(u_tᵀΣ⁻¹v_r))``
    and ``½ tr(Ω ∂Σ_r) = w_r u_rᵀ Ω v_r`` with ``Ω = Σ⁻¹(Σ − S)Σ⁻¹``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(I, g)``: the unit expected information ``(npar, npar)`` (rows
        sharing a label summed) and the gradient of lavaan's F at S (zeros
        when ``s`` is None).
    """
    p = comp.ram.p
    u, v, w = row_factors(comp.free_ram, b, c)
    su = u @ sigma_inv
    sv = v @ sigma_inv
    uu, vv, uv = su @ u.T, sv @ v.T, su @ v.T
    rows = np.outer(w, w) * (uu * vv + uv * uv.T)
    info = comp.aggregate @ rows @ comp.aggregate.T
    info = (info + info.T) / 2.0
    if s is None:
        return info, np.zeros(info.shape[0])
    omega = sigma_inv @ (c[:p, :p] - s) @ sigma_inv
    grad = comp.aggregate @ (w * np.einsum("ri,ri->r", u @ omega, v))
    return info, grad


def _discrepancy(sigma: np.ndarray, s: np.ndarray) -> float:
    """log|Σ| + tr(SΣ⁻¹) without the constant; +inf if Σ is not positive definite."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return math.inf
    inv_chol = np.linalg.inv(chol)
    return float(2.0 * np.log(np.diag(chol)).sum() + np.einsum("ij,ij->", s,
                                                                  inv_chol.T @ inv_chol))


class _Objective:
    """lavaan's F for one compiled model and S: values for the line search, scores for a step.

    The moments of the last point evaluated are kept, so that scoring the step
    the line search accepted does not compute them again.
    """

    def __init__(self, comp: CompiledModel, s: np.ndarray) -> None:
        self.comp = comp
        self.s = s
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None

    def _at(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        if self._last is None or self._last[0] is not theta:
            c, b = moments(self.comp.ram, row_values(self.comp, theta, self.s))
            p = self.comp.ram.p
            self._last = (theta, c, b, _discrepancy(c[:p, :p], self.s))
        return self._last[1:]

    def value(self, theta: np.ndarray) -> float:
        return self._at(theta)[2]

    def score(self, theta: np.ndarray) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        c, b, f = self._at(theta)
        if not math.isfinite(f):
            return f, None, None
        p = self.comp.ram.p
        info, grad = information_and_gradient(self.comp, b, c, np.linalg.inv(c[:p, :p]), self.s)
        return f, grad, info


def fit_to_moments(comp: CompiledModel, s: np.ndarray, theta0: np.ndarray) -> Optimum:
    """Fisher scoring on lavaan's F for the sample covariance matrix ``s``; no bounds on variances.

    Returns
    -------
    Optimum
        From :func:`sem_kit.engine.optimizer.fisher_scoring` with
        :data:`~sem_kit.engine.tolerances.ML_SCORING`.
    """
    objective = _Objective(comp, s)
    return fisher_scoring(objective.score, theta0, ML_SCORING, value=objective.value,
                          undefined_start="start values give a non-positive-definite Σ")


def simple_start(spec: ModelSpec, s: np.ndarray) -> np.ndarray:
    """lavaan's ``start = "simple"`` start values for the free parameters.

    Returns
    -------
    numpy.ndarray
        θ in the order of ``params.free``: loadings 1, regressions and
        covariances 0, residual variances half the observed variance in
        ``s``, latent variances 0.05 -- except an exogenous latent variable
        with a single indicator, whose variance starts at the indicator's
        observed variance less its fixed residual variance (at least 0.05), as
        lavaan's ``lav_start`` sets it; a user's ``start()`` kept.
    """
    pt = spec.partable
    var = dict(zip(spec.observed, np.diag(s), strict=True))
    single = _single_indicator_variances(spec, var)
    theta = np.zeros(spec.npar)
    for r in pt[pt.free > 0].itertuples():
        if not math.isnan(r.ustart):
            value = r.ustart
        elif r.op == "=~":
            value = 1.0
        elif r.op == "~~" and r.lhs == r.rhs:
            value = var[r.lhs] / 2.0 if r.lhs in var else single.get(r.lhs, 0.05)
        else:
            value = 0.0
        theta[r.free - 1] = value
    return theta


def _single_indicator_variances(spec: ModelSpec, var: dict[str, float]) -> dict[str, float]:
    """Start variance of each exogenous latent measured by one observed indicator:
    ``max(var(x) − θ_x, 0.05)`` with ``θ_x`` the indicator's fixed residual variance (1 if
    free), lavaan's ``lav_start``."""
    pt = spec.partable
    loads = pt[pt.op == "=~"]
    dependent = set(pt.lhs[pt.op == "~"]) | set(loads.rhs)
    out = {}
    for lv, rows in loads.groupby("lhs", sort=False):
        item = rows.rhs.iloc[0]
        if len(rows) != 1 or lv in dependent or item not in var:
            continue
        res = pt[(pt.op == "~~") & (pt.lhs == item) & (pt.rhs == item)]
        fixed = res.ustart.iloc[0] if len(res) and not res.free.iloc[0] else math.nan
        resid = 1.0 if math.isnan(fixed) else float(fixed)
        out[lv] = max(var[item] - resid, 0.05)
    return out


def _semopy_start(spec: ModelSpec, data: pd.DataFrame,
                  s: np.ndarray) -> tuple[np.ndarray, str, int]:
    """First optimisation with semopy (SLSQP on "MLW"); returns θ in spec order.

    semopy's own start values regress each indicator on its latent variable's
    fixed-loading indicator (following second-order markers down to an item);
    where that chain ends without an item (``NA*`` with a fixed variance)
    semopy would loop forever, so those loadings start at 1 and the
    regressions on such a latent at 0.
    """
    import semopy

    pt = spec.partable
    marker: dict[str, str] = {}
    for r in pt.itertuples():
        if r.op == "=~" and not r.free:
            marker.setdefault(r.lhs, r.rhs)

    def resolves(var: str) -> bool:
        seen = set()
        while var in spec.latent:
            if var in seen or var not in marker:
                return False
            seen.add(var)
            var = marker[var]
        return True

    no_marker = {v for v in spec.latent if not resolves(v)}
    cov = pd.DataFrame(s, index=list(spec.observed), columns=list(spec.observed))
    loggers = [logging.getLogger(), logging.getLogger("semopy")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with _pywarnings.catch_warnings():
            _pywarnings.simplefilter("ignore")
            model = semopy.Model(spec.semopy_syntax, cov_diag=True)
            active = [name for name, par in model.parameters.items() if par.active]
            expected = {f"_sk{k}" for k in range(1, spec.npar + 1)}
            if set(active) != expected:
                raise RuntimeError(
                    "semopy built a different set of free parameters than the lavaan table: "
                    f"{sorted(set(active) ^ expected)}"
                )
            for r in pt.itertuples():
                if not r.free:
                    continue
                par = model.parameters[f"_sk{r.free}"]
                if not math.isnan(r.ustart):
                    par.start = float(r.ustart)
                elif r.op == "=~" and r.lhs in no_marker:
                    par.start = 1.0
                elif r.op == "~" and r.rhs in no_marker:
                    par.start = 0.0
            res = model.fit(data=data[list(spec.observed)], cov=cov, obj="MLW", solver="SLSQP")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    values = dict(zip(active, np.asarray(res.x, dtype=float), strict=True))
    theta = np.array([values[f"_sk{k}"] for k in range(1, spec.npar + 1)])
    n_it = int(res.n_it) if res.n_it == res.n_it else 0
    return theta, str(res.message), n_it


def _sample_cov(spec: ModelSpec, data: pd.DataFrame) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [v for v in spec.observed if v not in data.columns]
    if missing:
        raise InputError(
            "the data have no column for observed variable(s) " + ", ".join(missing)
            + "; columns are " + ", ".join(map(str, data.columns[:30]))
            + (" ..." if len(data.columns) > 30 else "")
        )
    frame = data[list(spec.observed)]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InputError("non-numeric data in column(s) " + ", ".join(bad)
                         + "; expected numbers")
    x = frame.to_numpy(dtype=float)
    if np.isnan(x).any():
        cols = [c for c, has in zip(frame.columns, np.isnan(x).any(axis=0), strict=True) if has]
        raise InputError("missing values in column(s) " + ", ".join(cols)
                         + "; estimation needs complete data (listwise deletion comes first)")
    if x.shape[0] < 2:
        raise InputError(f"{x.shape[0]} complete rows: at least 2 are needed")
    xc = x - x.mean(axis=0)
    return xc.T @ xc / x.shape[0]


def fit_model(model: str | ModelSpec, data: pd.DataFrame, *,
              start: np.ndarray | None = None) -> Fit:
    """Fit a model by maximum likelihood, as ``lavaan::sem(model, data)``.

    Parameters
    ----------
    model:
        lavaan model syntax or a :class:`ModelSpec` from :func:`specify`.
    data:
        Complete observations, one column per observed variable (others are
        ignored).
    start:
        Free-parameter values to start from (e.g. the full-sample estimates
        when refitting a resample); semopy is then skipped unless Fisher
        scoring from there fails.

    Returns
    -------
    Fit
        Estimates, standard errors, standardised solution, S, Σ, likelihoods,
        χ², R² and diagnostics.

    Raises
    ------
    InputError
        Bad syntax, missing or non-numeric columns, missing values, a sample
        covariance matrix that is not positive definite (a constant column,
        linearly dependent columns or too few rows: lavaan stops there too),
        negative degrees of freedom, or a singular information matrix (the
        model is not identified).

    Notes
    -----
    ``cfa()`` and ``sem()`` differ in lavaan only in defaults sem_kit does not
    use (both free exogenous latent covariances), so one function serves both.
    In R: ``sem(model, data, estimator = "ML")``.
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    s = _sample_cov(spec, data)
    n = int(len(data))
    s_trouble = sample_cov_trouble(s, spec.observed, n)
    if s_trouble:
        raise InputError(f"{s_trouble}; maximum likelihood cannot be computed")
    comp = compile_model(spec)
    messages = []
    iterations = 0
    opt = None
    if start is not None:
        opt = fit_to_moments(comp, s, np.asarray(start, dtype=float))
        messages.append(f"Fisher scoring from given start: {opt.message}")
        iterations += opt.iterations
        if not opt.converged:
            opt = None
    if opt is None:
        try:
            theta0, msg, n_it = _semopy_start(spec, data, s)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
            theta0, msg, n_it = None, f"failed ({exc})", 0
        messages.append(f"semopy SLSQP: {msg}")
        iterations += n_it
        if theta0 is not None:
            opt = fit_to_moments(comp, s, theta0)
            messages.append(f"Fisher scoring: {opt.message} after {opt.iterations} steps "
                            f"(max |gradient| {opt.gradient:.1e})")
            iterations += opt.iterations
        if opt is None or not opt.converged:
            simple = fit_to_moments(comp, s, simple_start(spec, s))
            messages.append(f"Fisher scoring from simple start values: {simple.message} "
                            f"after {simple.iterations} steps")
            iterations += simple.iterations
            if opt is None or simple.converged or simple.gradient < opt.gradient:
                opt = simple
    return _assemble(spec, comp, s, n, opt, iterations, "; ".join(messages))


def refit(fit: Fit, data: pd.DataFrame) -> Fit:
    """Fit the same model to new data (e.g. a bootstrap resample), starting from ``fit``.

    Parameters
    ----------
    fit:
        A previous fit of the model.
    data:
        The new observations.

    Returns
    -------
    Fit
        As :func:`fit_model`; Fisher scoring starts from ``fit.theta`` and
        semopy runs only if that fails.

    Raises
    ------
    InputError
        As :func:`fit_model`, e.g. when a resample makes the model empirically
        unidentified or S singular.
    """
    return fit_model(fit.spec, data, start=fit.theta)


class FisherScoringRefit:
    """The ML bootstrap's second try at a resample: :func:`refit` (Fisher scoring from the
    full-sample estimates), for :class:`sem_kit.engine.refit.RefitPolicy`. Picklable.

    Parameters
    ----------
    fit:
        The full-sample fit.
    """

    def __init__(self, fit: Fit) -> None:
        self.fit = fit
        self.observed: tuple[str, ...] = tuple(fit.spec.observed)

    def __call__(self, sample: np.ndarray) -> np.ndarray:
        """θ of the resample (rows × the model's observed variables).

        Raises
        ------
        RefitFailed
            The resample makes the model unidentified or S singular (the
            :class:`~sem_kit.errors.InputError`'s message), or Fisher scoring did
            not converge.
        """
        try:
            again = refit(self.fit, pd.DataFrame(sample, columns=list(self.observed)))
        except InputError as exc:
            raise RefitFailed(str(exc)) from exc
        if not again.converged:
            raise RefitFailed("did not converge either")
        return np.asarray(again.theta, dtype=float)


def bootstrap_refitter(fit: Fit) -> Refitter:
    """The ML bootstrap's refitter: BFGS from the full-sample estimates, then Fisher scoring.

    :class:`~sem_kit.engine.refit.Refitter` with the policy
    :data:`~sem_kit.engine.tolerances.ML_REFIT` and :class:`FisherScoringRefit`
    as its fallback.
    """
    return Refitter(fit, RefitPolicy(ML_REFIT, FisherScoringRefit(fit)))


def sample_cov_trouble(s: np.ndarray, names: tuple[str, ...], n: int) -> str:
    """Why S is not positive definite, naming the linearly dependent columns.

    Returns
    -------
    str
        The message, or ``""`` when S is positive definite.
    """
    sd = np.sqrt(np.diag(s))
    if (sd <= 0).any():
        const = [v for v, x in zip(names, sd, strict=True) if x <= 0]
        return ("the sample covariance matrix is not positive definite: column(s) "
                + ", ".join(const) + " have no variance")
    eig, vec = np.linalg.eigh(s / np.outer(sd, sd))
    if eig[0] > SAMPLE_COV_EIGENVALUE:
        return ""
    weights = np.abs(vec[:, 0])
    dependent = [names[i] for i in np.argsort(-weights) if weights[i] > 0.1][:8]
    reason = (f"only {n} rows for {len(names)} variables" if n <= len(names)
              else "columns " + ", ".join(dependent) + " are linearly dependent (one is a "
              "copy, a multiple or a sum of the others)")
    return ("the sample covariance matrix is not positive definite "
            f"(smallest eigenvalue of the correlation matrix {eig[0]:.3g}): {reason}")


def _assemble(spec: ModelSpec, comp: CompiledModel, s: np.ndarray, n: int, opt: Optimum,
              iterations: int, message: str) -> Fit:
    pt = spec.partable
    free = comp.free
    theta = opt.theta
    values = row_values(comp, theta, s)
    c, b = moments(comp.ram, values)
    p = comp.ram.p
    sigma = c[:p, :p]
    notes: list[str] = list(spec.notes)
    improper: list[str] = []
    if not opt.converged:
        improper.append(f"the optimiser did not converge ({opt.message}); "
                        "estimates are not a maximum-likelihood solution")
    sig_eig = np.linalg.eigvalsh(sigma)
    sigma_pd = sig_eig.min() > 0
    if not sigma_pd:
        improper.append("the model-implied covariance matrix is not positive definite "
                        f"(smallest eigenvalue {sig_eig.min():.3g})")
    lv = list(spec.latent)
    if lv:
        lv_eig = np.linalg.eigvalsh(c[p:, p:])
        if lv_eig.min() < LATENT_COV_EIGENVALUE:
            improper.append("the covariance matrix of the latent variables is not positive "
                            f"definite (smallest eigenvalue {lv_eig.min():.3g})")

    sigma_inv = np.linalg.inv(sigma) if sigma_pd else np.linalg.pinv(sigma)
    x_idx = np.array([spec.observed.index(v) for v in spec.x_vars], dtype=int)
    info, _ = information_and_gradient(comp, b, c, sigma_inv)
    eig = np.linalg.eigvalsh(info) if spec.npar and sigma_pd else np.zeros(0)
    singular = bool(eig.size) and eig.min() <= eig.max() * SINGULAR_EIGENVALUE_RATIO
    if spec.npar and (not sigma_pd or (singular and not opt.converged)):
        # Without a positive-definite Σ the information matrix means nothing; and a
        # diverging optimiser (estimates running off to infinity) ends where it is
        # singular, which is non-convergence (reported above), not a model that cannot
        # be identified. Either way there are no standard errors, as in lavaan.
        if sigma_pd:
            improper.append("the information matrix is singular at the last iterate, so "
                            "there are no standard errors")
        vcov = np.full((spec.npar, spec.npar), np.nan)
        se_theta = np.full(spec.npar, np.nan)
    elif spec.npar:
        if singular:
            names, hint = _weak_parameters(spec, info)
            raise InputError(
                "the model is not identified: the information matrix is singular "
                f"(smallest eigenvalue {eig.min():.3g}); parameters involved: "
                + "; ".join(names)
                + (f". {hint}" if hint else ". Check that every latent variable has a fixed "
                   "loading or variance and at least two (better three) indicators")
            )
        scale = 1.0 / np.sqrt(np.clip(np.diag(info), 1e-300, None))
        scaled_min = float(np.linalg.eigvalsh(info * np.outer(scale, scale)).min())
        if scaled_min < UNDER_IDENTIFIED_EIGENVALUE:
            names, hint = _weak_parameters(spec, info * np.outer(scale, scale))
            improper.append(
                "the model is empirically under-identified: the information matrix is nearly "
                f"singular (smallest eigenvalue {scaled_min:.3g} after scaling), so these "
                "parameters are not determined by the data and their estimates and standard "
                "errors are unreliable: " + "; ".join(names) + (f". {hint}" if hint else "")
            )
        vcov = np.linalg.inv(n * info)
        se_theta = np.sqrt(np.clip(np.diag(vcov), 0, None))
    else:
        vcov = np.zeros((0, 0))
        se_theta = np.zeros(0)

    se = np.full(len(pt), np.nan)
    se[free > 0] = se_theta[free[free > 0] - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = values / se
    pvalue = 2.0 * norm.sf(np.abs(z))
    total_var = np.diag(c)
    std_lv, std_all = standardize(pt.lhs, pt.op, pt.rhs, values, spec.latent, spec.observed,
                                  total_var[p:], total_var[:p])
    params = pd.DataFrame({
        "lhs": pt.lhs, "op": pt.op, "rhs": pt.rhs, "label": pt.label, "free": pt["free"],
        "exo": pt["exo"], "est": values, "se": se, "z": z, "pvalue": pvalue,
        "std_lv": std_lv, "std_all": std_all,
    })
    params.loc[params.free == 0, ["se", "z", "pvalue"]] = np.nan
    if spec.x_vars:
        # lavaan reports fixed.x (co)variances with est, no SE
        params.loc[params.exo == 1, ["se", "z", "pvalue"]] = np.nan

    improper += negative_variances(params, spec.latent) + loadings_above_one(params)
    notes += improper
    if improper:
        notes.append("the solution is improper (see the warnings above), so its fit measures "
                     "(chi-square, CFI, TLI, RMSEA, SRMR) do not show good fit however good "
                     "they look; fix the model or the data first")

    f_sigma = _discrepancy(sigma, s) if sigma_pd else math.inf
    sign_s, logdet_s = np.linalg.slogdet(s)
    logdet_s = logdet_s if sign_s > 0 else -math.inf
    fmin = max(0.5 * (f_sigma - logdet_s - p), 0.0)  # F >= 0; rounding gives -1e-13
    logl = -0.5 * n * (p * math.log(2 * math.pi) + f_sigma)
    unrestricted = -0.5 * n * (p * math.log(2 * math.pi) + logdet_s + p)
    if x_idx.size:
        # fixed.x: lavaan's likelihoods are conditional on the covariates, i.e. the joint
        # likelihood minus that of the covariates' own (saturated) distribution
        px = x_idx.size
        logdet_x = np.linalg.slogdet(s[np.ix_(x_idx, x_idx)])[1]
        logl_x = -0.5 * n * (px * math.log(2 * math.pi) + logdet_x + px)
        logl -= logl_x
        unrestricted -= logl_x
    obs = list(spec.observed)
    return Fit(
        spec=spec,
        params=params,
        sample_cov=moments_frame(s, obs),
        implied_cov=moments_frame(sigma, obs),
        n=n,
        npar=spec.npar,
        df=spec.df,
        fmin=float(fmin),
        chisq=float(2 * n * fmin),
        logl=float(logl),
        unrestricted_logl=float(unrestricted),
        theta=theta.copy(),
        vcov=vcov_frame(vcov),
        information=info,
        r2=r_squared(params),
        converged=bool(opt.converged),
        message=message,
        iterations=int(iterations),
        warnings=tuple(notes),
        admissible=not improper,
    )


def _weak_parameters(spec: ModelSpec, info: np.ndarray) -> tuple[list[str], str]:
    """The free parameters along the information matrix's weakest direction, and a hint.

    Returns
    -------
    tuple of (list of str, str)
        Up to four parameters as ``lhs op rhs``, largest weight first, and a
        sentence naming the latent variables involved that have only two
        indicators (empty when there are none): a two-indicator construct is
        identified only through its covariances with other constructs, so it
        is not when those are (nearly) zero.
    """
    pt = spec.partable
    vec = np.linalg.eigh(info)[1][:, 0]
    worst = np.argsort(-np.abs(vec))[:4]
    names: list[str] = []
    involved: set[str] = set()
    for k in worst:
        r = pt[pt["free"] == k + 1].iloc[0]
        names.append(f"{r.lhs} {r.op} {r.rhs}")
        involved.update((r.lhs, r.rhs))
    indicators = pt[pt.op == "=~"].groupby("lhs")["rhs"].count()
    two = [v for v in spec.latent if v in involved and indicators.get(v, 0) == 2]
    hint = ""
    if two:
        hint = (", ".join(two) + (" has" if len(two) == 1 else " have") + " only two "
                "indicators and (nearly) zero covariance with the other latent variables, so "
                "the data cannot identify " + ("it" if len(two) == 1 else "them")
                + ": add a third item, or check its items and answers")
    return names, hint

