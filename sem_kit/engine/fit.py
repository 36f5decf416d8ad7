"""What a fitted model is: the result types every estimator returns.

:class:`Fit` is lavaan's ML on complete data (:func:`sem_kit.estimators.ml.fit_model`);
:class:`EstimatorFit` is MLM, MLR, FIML or WLSMV, with its fit measures,
scaled test and the ML fit underneath. Both derive from :class:`FittedModel`,
so post-estimation (:func:`model_matrices`, standardisation, modification
indices) reads either the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sem_kit.engine.fit_indices import fit_measures
from sem_kit.engine.syntax import ModelSpec

__all__ = [
    "EstimatorFit",
    "Fit",
    "FittedModel",
    "ModelMatrices",
    "loadings_above_one",
    "model_matrices",
    "moments_frame",
    "negative_variances",
    "vcov_frame",
]


class FittedModel:
    """The base of every fitted-model result (:class:`Fit`, :class:`EstimatorFit`).

    Subclasses hold ``spec`` (:class:`~sem_kit.engine.syntax.ModelSpec`),
    ``params`` (the parameter table with lavaan's columns), ``sample_cov``,
    ``implied_cov``, ``n``, ``npar``, ``df``, ``theta``, ``vcov``, ``r2``,
    ``measures`` (the FIT block), ``converged``, ``warnings`` and
    ``admissible``; what they say of the model is here.
    """

    @property
    def observed(self) -> tuple[str, ...]:
        """Observed variables, in the order of :attr:`sample_cov`."""
        return self.spec.observed

    @property
    def latent(self) -> tuple[str, ...]:
        """Latent variables."""
        return self.spec.latent

    @property
    def x_vars(self) -> tuple[str, ...]:
        """Observed exogenous covariates fixed at their sample (co)variances."""
        return self.spec.x_vars

    def estimates(self, op: str | None = None) -> pd.DataFrame:
        """Rows of :attr:`params`, optionally of one operator (``"=~"``, ``"~"``, ``"~~"``)."""
        if op is None:
            return self.params
        return self.params[self.params.op == op].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Fit(FittedModel):
    """A fitted model: lavaan's numbers, computed from the ML solution.

    Attributes
    ----------
    spec:
        The model (:class:`ModelSpec`).
    params:
        lavaan's ``parameterEstimates(fit, standardized = TRUE)`` without the
        intervals: ``lhs, op, rhs, label, free, exo, est, se, z, pvalue,
        std_lv, std_all`` (``se``, ``z``, ``pvalue`` NaN for fixed rows).
        Operators as lavaan prints them: ``f =~ x`` (loading), ``y ~ x``
        (regression), ``a ~~ b`` ((residual) (co)variance).
    sample_cov:
        S with the N divisor over :attr:`observed` (lavaan's
        ``lavInspect(fit, "sampstat")$cov``).
    implied_cov:
        Σ(θ̂) (``lavInspect(fit, "implied")$cov``).
    n:
        Sample size N.
    npar:
        Number of free parameters.
    df:
        Degrees of freedom.
    fmin:
        lavaan's minimum of F = ½(log|Σ| + tr(SΣ⁻¹) − log|S| − p).
    chisq:
        Likelihood-ratio statistic 2·N·fmin.
    logl, unrestricted_logl:
        Log-likelihood of the model and of the saturated model
        (``fitMeasures(fit, c("logl", "unrestricted.logl"))``), normal
        likelihood with the N divisor; with fixed.x covariates, conditional on
        them (the covariates' own log-likelihood is subtracted, as lavaan does).
    theta:
        Free parameter values, in the order of ``params.free``.
    vcov:
        Covariance matrix of θ̂, ``(N I)⁻¹`` (``vcov(fit)``), indexed 1..npar.
    information:
        Unit expected information at θ̂ (``lavTech(fit, "information.expected")``).
    r2:
        R² of every indicator and dependent variable (``lavInspect(fit, "r2")``).
    converged:
        True when the gradient vanished (max |∂F/∂θ| < 1e-5).
    message:
        What the optimisers said.
    iterations:
        semopy's iterations plus Fisher-scoring steps.
    warnings:
        Numerical trouble: non-convergence, negative variances (Heywood
        cases), standardised loadings above 1, a non-positive-definite Σ or
        latent covariance matrix, empirical under-identification (a nearly
        singular information matrix); when any of these makes the solution
        improper, a last warning says that its fit measures do not show good fit.
    admissible:
        True when the solution is a proper maximum-likelihood solution: it
        converged, every variance is non-negative, no standardised loading
        exceeds 1, Σ and the latent covariance matrix are positive definite and
        the information matrix is not nearly singular. Fit measures of an
        inadmissible solution must not be reported as good fit.
    """

    spec: ModelSpec
    params: pd.DataFrame
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    n: int
    npar: int
    df: int
    fmin: float
    chisq: float
    logl: float
    unrestricted_logl: float
    theta: np.ndarray
    vcov: pd.DataFrame
    information: np.ndarray
    r2: pd.Series
    converged: bool
    message: str
    iterations: int
    warnings: tuple[str, ...] = field(default=())
    admissible: bool = True

    @cached_property
    def measures(self) -> dict[str, float]:
        """The FIT block of results.json (:func:`~sem_kit.engine.fit_indices.fit_measures`)."""
        return fit_measures(self)


@dataclass(frozen=True, eq=False)
class EstimatorFit(FittedModel):
    """A model fitted by MLM, MLR, FIML or WLSMV, as lavaan reports it.

    Attributes
    ----------
    estimator:
        ``"MLM"``, ``"MLR"``, ``"ML"`` (FIML) or ``"WLSMV"``.
    missing:
        ``"listwise"`` (complete rows only) or ``"ml"`` (FIML), lavaan's names.
    spec:
        The model (:class:`~sem_kit.engine.syntax.ModelSpec`).
    params:
        ``parameterEstimates(fit, standardized = TRUE)`` without intervals:
        ``lhs, op, rhs, label, free, exo, est, se, z, pvalue, std_lv,
        std_all``. Besides ``=~``, ``~`` and ``~~`` rows, FIML adds intercepts
        (``op == "~1"``, ``rhs == ""``) and WLSMV thresholds (``op == "|"``,
        ``rhs`` ``t1``, ``t2``, ...) as lavaan lists them.
    measures:
        DESIGN.md's FIT keys (``n, chisq, df, pvalue, chisq_df, cfi, tli,
        nfi, ifi, rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, srmr,
        gfi, agfi, aic, bic``; NaN where lavaan reports NA) plus, under a
        scaled test, ``chisq_scaled, df_scaled, pvalue_scaled,
        scaling_factor, cfi_scaled, tli_scaled, rmsea_scaled`` and, under MLM
        and MLR, ``cfi_robust, tli_robust, rmsea_robust``.
    vcov:
        Covariance matrix of the free parameters (``vcov(fit)``), indexed
        1..npar in the order of ``params.free``.
    theta:
        Free parameter values, in the same order.
    n:
        Rows analysed.
    npar, df:
        Free parameters and degrees of freedom (FIML and WLSMV count the
        intercepts / thresholds and the means / thresholds among the data).
    r2:
        ``lavInspect(fit, "r2")``.
    sample_cov, implied_cov:
        The sample moments the model is fitted to and the model-implied ones
        (ML: S and Σ; FIML: the EM estimate of the saturated covariance matrix
        and Σ; WLSMV: polychoric and implied correlations of the latent
        responses).
    converged:
        The optimiser converged.
    warnings:
        What the user should know (non-convergence, improper solutions, rows
        left out, ...).
    admissible:
        False when the solution is improper (see ``warnings``).
    test:
        lavaan's ``lavInspect(fit, "test")`` entries as dicts: ``standard``
        and the scaled test (``satorra.bentler``, ``yuan.bentler.mplus`` or
        ``scaled.shifted``) with ``stat, df, pvalue, scaling_factor,
        trace_ugamma`` (and ``shift_parameter``).
    ml_fit:
        The plain ML fit underneath (MLM/MLR), else None.
    extra:
        Further numbers (baseline statistics, intervals of the scaled and
        robust RMSEA, log-likelihoods, thresholds, ...), lavaan's names with
        ``_`` for ``.``.
    """

    estimator: str
    missing: str
    spec: ModelSpec
    params: pd.DataFrame
    measures: dict[str, float]
    vcov: pd.DataFrame
    theta: np.ndarray
    n: int
    npar: int
    df: int
    r2: pd.Series
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    converged: bool
    warnings: tuple[str, ...] = field(default=())
    admissible: bool = True
    test: dict[str, dict[str, float]] = field(default_factory=dict)
    ml_fit: Fit | None = None
    extra: dict[str, float] = field(default_factory=dict)


def vcov_frame(vcov: np.ndarray) -> pd.DataFrame:
    """The covariance matrix of the free parameters, indexed 1..npar (``params.free``)."""
    idx = pd.RangeIndex(1, vcov.shape[0] + 1, name="free")
    return pd.DataFrame(vcov, index=idx, columns=idx)


def moments_frame(matrix: np.ndarray, observed: Sequence[str]) -> pd.DataFrame:
    """A covariance (or correlation) matrix over the observed variables, labelled."""
    names = list(observed)
    return pd.DataFrame(matrix, index=names, columns=names)


def negative_variances(params: pd.DataFrame, latent: Sequence[str]) -> list[str]:
    """A warning for every negative (residual) variance estimate (a Heywood case).

    Returns
    -------
    list of str
        ``"negative residual variance (Heywood case): x ~~ x = -0.1"`` (or
        ``latent variable``), in table order; fixed.x rows are left out.
    """
    rows = params[(params.op == "~~") & (params.lhs == params.rhs)]
    if "exo" in rows:
        rows = rows[rows.exo == 0]
    return [f"negative {'latent variable' if r.lhs in latent else 'residual'} variance "
            f"(Heywood case): {r.lhs} ~~ {r.lhs} = {r.est:.4g}"
            for r in rows[rows.est < 0].itertuples()]


def loadings_above_one(params: pd.DataFrame) -> list[str]:
    """A warning for every standardised loading (std.all) above 1 in absolute value."""
    load = params[params.op == "=~"]
    return [f"standardised loading above 1: {r.lhs} =~ {r.rhs} = {r.std_all:.4g}"
            for r in load[np.abs(load.std_all) > 1].itertuples()]


@dataclass(frozen=True, eq=False)
class ModelMatrices:
    """lavaan's LISREL matrices of a fitted latent-variable model (``lavInspect(fit, "est")``).

    Attributes
    ----------
    lambda_:
        Observed x latent loadings (``=~`` rows whose indicator is observed).
    beta:
        Latent x latent effects: ``beta[i, j]`` is the effect of ``j`` on ``i``,
        from regressions (``i ~ j``) and higher-order loadings (``j =~ i``).
    psi:
        Latent (residual) variances and covariances.
    theta:
        Observed residual variances and covariances.
    cov_lv:
        Model-implied latent covariance matrix (``lavInspect(fit, "cov.lv")``).
    cor_lv:
        Model-implied latent correlations (``lavInspect(fit, "cor.lv")``).
    """

    lambda_: pd.DataFrame
    beta: pd.DataFrame
    psi: pd.DataFrame
    theta: pd.DataFrame
    cov_lv: pd.DataFrame
    cor_lv: pd.DataFrame


def model_matrices(fit: FittedModel) -> ModelMatrices:
    """The unstandardised LISREL matrices and the implied latent (co)variances of ``fit``.

    In R: ``lavInspect(fit, "est")`` and ``lavInspect(fit, "cov.lv")``.
    """
    obs, lat = list(fit.observed), list(fit.latent)
    lam = pd.DataFrame(0.0, index=obs, columns=lat)
    beta = pd.DataFrame(0.0, index=lat, columns=lat)
    psi = pd.DataFrame(0.0, index=lat, columns=lat)
    theta = pd.DataFrame(0.0, index=obs, columns=obs)
    for r in fit.params.itertuples():
        if r.op == "=~":
            if r.rhs in lam.index:
                lam.loc[r.rhs, r.lhs] = r.est
            else:
                beta.loc[r.rhs, r.lhs] = r.est
        elif r.op == "~" and r.lhs in beta.index and r.rhs in beta.columns:
            beta.loc[r.lhs, r.rhs] = r.est
        elif r.op == "~~":
            target = psi if r.lhs in psi.index else theta
            if r.lhs in target.index and r.rhs in target.columns:
                target.loc[r.lhs, r.rhs] = r.est
                target.loc[r.rhs, r.lhs] = r.est
    inv = np.linalg.inv(np.eye(len(lat)) - beta.to_numpy())
    cov = inv @ psi.to_numpy() @ inv.T
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        cor = cov / np.outer(sd, sd)
    return ModelMatrices(
        lambda_=lam, beta=beta, psi=psi, theta=theta,
        cov_lv=pd.DataFrame(cov, index=lat, columns=lat),
        cor_lv=pd.DataFrame(cor, index=lat, columns=lat),
    )
