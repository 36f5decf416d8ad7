"""Every tolerance of the estimators, named once.

Each Fisher-scoring loop (:func:`sem_kit.engine.optimizer.fisher_scoring`)
runs with the settings of its estimator; they differ because each was
matched to lavaan on its own reference fits, and no number may move.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BFGS_ARMIJO",
    "BFGS_MIN_CURVATURE",
    "BFGS_MIN_STEP",
    "EM_MAX_ITER",
    "EM_RIDGE",
    "EM_RIDGE_BELOW",
    "EM_TOLERANCE",
    "FIML_REFIT",
    "FIML_SCORING",
    "HESSIAN_STEP",
    "LATENT_COV_EIGENVALUE",
    "ML_REFIT",
    "ML_SCORING",
    "MULTIGROUP_SCORING",
    "POLYCHORIC_RTOL",
    "POLYCHORIC_XATOL",
    "POLYCHORIC_XTOL",
    "RMSEA_CI_RTOL",
    "RMSEA_CI_XTOL",
    "SAMPLE_COV_EIGENVALUE",
    "SINGULAR_EIGENVALUE_RATIO",
    "UNDER_IDENTIFIED_EIGENVALUE",
    "WLSMV_SCORING",
    "RefitSettings",
    "ScoringSettings",
]


@dataclass(frozen=True)
class ScoringSettings:
    """How one estimator runs Fisher scoring.

    Attributes
    ----------
    stop:
        Largest |∂F/∂θ| at which scoring stops, converged.
    accept:
        Largest |∂F/∂θ| at which a fit whose line search failed, or that ran
        out of iterations, still counts as converged.
    slack:
        Relative rise of F a line-search step may show and still be taken
        (``F_new <= F + slack · |F|``: rounding near the minimum).
    max_iter:
        Most scoring steps.
    rescore_in_line_search:
        True when the objective's value comes with its gradient and
        information at no extra cost (FIML's pattern sums), so the line
        search computes them at the candidate and the accepted step reuses
        them; else the line search computes values only.
    min_step:
        The line search halves its step down to this fraction of the full step.
    """

    stop: float
    accept: float
    slack: float
    max_iter: int
    rescore_in_line_search: bool = False
    min_step: float = 1e-10


#: ML on complete data (lavaan's F = ½ · discrepancy); ``accept`` is what
#: :attr:`sem_kit.engine.fit.Fit.converged` means.
ML_SCORING = ScoringSettings(stop=1e-9, accept=1e-5, slack=1e-12, max_iter=200)
#: FIML (F = −log L / N over the missing-data patterns).
FIML_SCORING = ScoringSettings(stop=1e-9, accept=1e-6, slack=1e-13, max_iter=500,
                               rescore_in_line_search=True)
#: Multi-group ML (F summed over the groups, weighted by their sizes).
MULTIGROUP_SCORING = ScoringSettings(stop=1e-9, accept=1e-6, slack=1e-13, max_iter=500)
#: WLSMV's diagonally weighted least squares (Gauss-Newton).
WLSMV_SCORING = ScoringSettings(stop=1e-10, accept=1e-6, slack=1e-14, max_iter=500)



@dataclass(frozen=True)
class RefitSettings:
    """How the bootstrap's BFGS refits a resample (:class:`sem_kit.engine.refit.RefitPolicy`).

    Attributes
    ----------
    gtol:
        Convergence: every component of the gradient below this.
    max_iter:
        BFGS iterations before the estimator's fallback takes over.
    """

    gtol: float
    max_iter: int


#: ML resamples: θ within about 1e-7 of the optimum.
ML_REFIT = RefitSettings(gtol=1e-7, max_iter=200)
#: FIML resamples: estimates within ~5e-6 of the full fit's scoring tolerance of 1e-9.
FIML_REFIT = RefitSettings(gtol=1e-6, max_iter=300)

#: lavaan's step for the numerical Hessian (``lav_model_hessian(h = 1e-06)``).
HESSIAN_STEP = 1e-6

#: The EM algorithm for the saturated FIML moments stops when no mean or
#: covariance changes by more than this (lavaan's ``lav_mvnorm_missing_h1_estimate_moments``).
EM_TOLERANCE = 1e-5
#: Most EM iterations.
EM_MAX_ITER = 500
#: An EM step whose covariance matrix has an eigenvalue below this gets a ridge
#: of ``EM_RIDGE`` times its largest variance on the diagonal.
EM_RIDGE_BELOW = 1e-6
#: The ridge, relative to the largest variance.
EM_RIDGE = 1e-8

#: Smallest eigenvalue of the information matrix, relative to its largest, at
#: or below which the matrix counts as singular (the model is not identified).
SINGULAR_EIGENVALUE_RATIO = 1e-12

#: Smallest eigenvalue of the information matrix scaled to unit diagonal
#: (``D^-1/2 I D^-1/2``) below which the model counts as empirically
#: under-identified: some parameters are (nearly) linear combinations of others
#: in this sample, so their estimates are arbitrary and their standard errors
#: huge. Regular models (every lavaan reference fit of the tests, the built-in
#: model on its sample data) stay above 0.03; a two-item construct whose
#: latent correlations are all below about .05 falls under it.
UNDER_IDENTIFIED_EIGENVALUE = 1e-3

#: Smallest eigenvalue of the sample correlation matrix at or below which S
#: counts as not positive definite (ML cannot be computed).
SAMPLE_COV_EIGENVALUE = 1e-10

#: A latent covariance matrix with an eigenvalue below this counts as not
#: positive definite (an improper solution); rounding leaves ~-1e-16 at 0.
LATENT_COV_EIGENVALUE = -1e-12

#: BFGS (:func:`sem_kit.engine.optimizer.bfgs`): the Armijo constant of the
#: backtracking line search, the smallest step it tries, and the smallest
#: curvature ``sᵀy`` at which the inverse Hessian is updated.
BFGS_ARMIJO = 1e-4
BFGS_MIN_STEP = 1e-10
BFGS_MIN_CURVATURE = 1e-16

#: Root finding for the RMSEA interval's noncentrality (``brentq``).
RMSEA_CI_XTOL = 1e-12
RMSEA_CI_RTOL = 1e-14
#: Root finding for a polychoric correlation's score (``brentq``), and the
#: bracket tolerance of the fallback maximisation of its likelihood.
POLYCHORIC_XTOL = 1e-13
POLYCHORIC_RTOL = 1e-14
POLYCHORIC_XATOL = 1e-12
