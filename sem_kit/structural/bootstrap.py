"""The bootstrap's statistic of the structural model: what one resample gives.

:class:`EffectLayout` says where the hypothesised paths, the chains of the
indirect effects and the effect pairs sit in the ML parameter table and in the
statistic vector (:func:`effect_layout` builds it from the questionnaire);
:class:`Statistic` refits a resample by the bootstrap's one refit policy
(:class:`sem_kit.engine.refit.RefitPolicy`) and returns that vector. Fits by
other estimators (FIML, WLSMV) reach the ML table through :class:`ThetaMap`
(their θ mapped by ``(lhs, op, rhs)``) and :class:`SpecPoint` (what
:class:`~sem_kit.engine.refit.Refitter` reads of a fit).

In R: ``bootstrapLavaan(fit, R = B, FUN = function(f) c(coef(f),
standardizedSolution(f)$est.std))``, with lavaan's ``:=`` products for the chains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sem_kit.engine.fit import Fit
from sem_kit.engine.refit import Refitter
from sem_kit.errors import InputError
from sem_kit.questionnaire import Questionnaire

__all__ = ["EffectLayout", "SpecPoint", "Statistic", "ThetaMap", "effect_layout"]


@dataclass(frozen=True, eq=False)
class EffectLayout:
    """Where the structural statistics sit in ``fit.params`` and in the statistic vector.

    The vector (:meth:`values`) is, in order: the ``est`` of every hypothesised
    path (``H`` entries), their std.all values (``H``), every chain's product of
    ``est`` (``C``) and of std.all (``C``), then for every effect pair the
    indirect effect (``P``), its standardised value (``P``), the total effect
    (``P``) and its standardised value (``P``); length ``2H + 2C + 4P``.

    Attributes
    ----------
    path_rows:
        Row of ``fit.params`` (``target ~ source``) of each hypothesised path.
    chains:
        For each indirect chain, the rows of its links.
    pair_direct:
        For each effect pair (``from``, ``to``), the position of its direct path
        among the hypotheses, -1 if there is none.
    pair_chains:
        For each effect pair, the positions of its chains in ``chains``.
    variance_rows:
        Rows of (residual) variances: a negative one makes a solution non-admissible.
    """

    path_rows: np.ndarray
    chains: tuple[np.ndarray, ...]
    pair_direct: np.ndarray
    pair_chains: tuple[np.ndarray, ...]
    variance_rows: np.ndarray

    @property
    def size(self) -> int:
        """Length of the statistic vector."""
        return 2 * len(self.path_rows) + 2 * len(self.chains) + 4 * len(self.pair_direct)

    def slices(self) -> dict[str, slice]:
        """Named parts of the vector: ``path, path_std, chain, chain_std, indirect,
        indirect_std, total, total_std``."""
        h, c, p = len(self.path_rows), len(self.chains), len(self.pair_direct)
        sizes = [("path", h), ("path_std", h), ("chain", c), ("chain_std", c),
                 ("indirect", p), ("indirect_std", p), ("total", p), ("total_std", p)]
        out, start = {}, 0
        for name, k in sizes:
            out[name] = slice(start, start + k)
            start += k
        return out

    def _pairs(self, direct: np.ndarray, chain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ind = np.array([chain[idx].sum() for idx in self.pair_chains])
        d = np.where(self.pair_direct >= 0, direct[np.maximum(self.pair_direct, 0)], 0.0)
        return ind, d + ind

    def values(self, est: np.ndarray, std: np.ndarray) -> np.ndarray:
        """The statistic vector from ``est`` and ``std_all`` of every row of ``fit.params``.

        A chain's effect is the product of its links; a pair's indirect effect
        the sum over its chains, its total effect direct plus indirect (in a
        recursive model the same as ``(I − B)⁻¹ − I``, Bollen 1989, ch. 8).
        """
        est = np.asarray(est, dtype=float)
        std = np.asarray(std, dtype=float)
        h_est, h_std = est[self.path_rows], std[self.path_rows]
        c_est = np.array([np.prod(est[c]) for c in self.chains])
        c_std = np.array([np.prod(std[c]) for c in self.chains])
        ind, tot = self._pairs(h_est, c_est)
        ind_s, tot_s = self._pairs(h_std, c_std)
        return np.concatenate([h_est, h_std, c_est, c_std, ind, ind_s, tot, tot_s])


class Statistic:
    """Bootstrap statistic: refit a resample, return the layout's vector plus a
    non-admissibility flag (1 when a variance estimate is negative). Picklable.

    ``refitter`` refits by the bootstrap's one refit policy
    (:class:`sem_kit.engine.refit.RefitPolicy`): under ML the table's own
    :class:`~sem_kit.engine.refit.Refitter` (its fallback
    :class:`~sem_kit.estimators.ml.FisherScoringRefit`), under FIML
    :class:`~sem_kit.estimators.fiml.FimlRefitter`, whose θ ``mapped`` takes onto
    the ML parameter table.
    """

    def __init__(self, refitter: Any, table: Refitter, layout: EffectLayout,
                 mapped: ThetaMap | None = None) -> None:
        self.refitter = refitter
        self.table = table
        self.layout = layout
        self.mapped = mapped

    def __call__(self, sample: np.ndarray) -> np.ndarray:
        theta = self.refitter.estimates(sample)
        if self.mapped is not None:
            theta = self.mapped.ml_theta(theta)
        # under ML the table's refit has just taken the fixed.x (co)variances of observed
        # covariates from this resample, as lavaan does; FIML models have none
        est = self.table.est_all(theta)
        std = self.table.std_all(theta)
        flag = float((est[self.layout.variance_rows] < 0).any())
        return np.append(self.layout.values(est, std), flag)


def effect_layout(q: Questionnaire, fit: Fit, chains: Sequence[Sequence[str]],
            pairs: Sequence[tuple[str, str]]) -> EffectLayout:
    params = fit.params
    key = {(r.lhs, r.rhs): i for i, r in enumerate(params.itertuples()) if r.op == "~"}
    hyps = [(h.source, h.target) for h in q.hypotheses.values()]
    missing = [f"{t} ~ {s}" for s, t in hyps if (t, s) not in key]
    if missing:
        raise InputError("the fitted model has no regression row for hypothesis path(s) "
                         + ", ".join(missing))
    path_rows = np.array([key[(t, s)] for s, t in hyps], dtype=int)
    chain_rows = tuple(
        np.array([key[(b, a)] for a, b in zip(c[:-1], c[1:], strict=True)], dtype=int)
        for c in chains
    )
    pair_direct = np.array([hyps.index(p) if p in hyps else -1 for p in pairs], dtype=int)
    pair_chains = tuple(
        np.array([j for j, c in enumerate(chains) if (c[0], c[-1]) == p], dtype=int)
        for p in pairs
    )
    var_rows = np.flatnonzero(((params.op == "~~") & (params.lhs == params.rhs)
                               & (params.exo == 0)).to_numpy())
    return EffectLayout(path_rows, chain_rows, pair_direct, pair_chains, var_rows)


@dataclass(frozen=True, eq=False)
class SpecPoint:
    """What :class:`~sem_kit.engine.refit.Refitter` reads of a fit, for a model fitted by
    another estimator: the spec, ML-ordered θ and a sample covariance matrix (used
    only for fixed.x rows, which FIML and WLSMV models do not have)."""

    spec: Any
    theta: np.ndarray
    sample_cov: pd.DataFrame
    information: np.ndarray

    @property
    def params(self) -> pd.DataFrame:
        return self.spec.partable


class ThetaMap:
    """θ of an estimator's fit (FIML, WLSMV) -> θ of the ML parameter table.

    The structural statistics (paths, their std.all values, products) depend on
    the parameters the two tables share by ``(lhs, op, rhs)``; a parameter free
    in the ML table but fixed or derived in the estimator's (WLSMV's residual
    variances of the items) keeps the estimator's value. Picklable.
    """

    def __init__(self, spec: Any, est_fit: Any) -> None:
        pt = spec.partable
        rows = est_fit.params.set_index(["lhs", "op", "rhs"])
        base = np.zeros(spec.npar)
        ml_pos, est_pos = [], []
        for r in pt[pt["free"] > 0].itertuples():
            row = rows.loc[(r.lhs, r.op, r.rhs)]
            base[r.free - 1] = float(row["est"])
            if int(row["free"]) > 0:
                ml_pos.append(r.free - 1)
                est_pos.append(int(row["free"]) - 1)
        self.base = base
        self.ml_pos = np.array(ml_pos, dtype=int)
        self.est_pos = np.array(est_pos, dtype=int)

    def ml_theta(self, theta_est: np.ndarray) -> np.ndarray:
        """The ML table's θ at the estimator's θ (its full vector)."""
        return self.embed(np.asarray(theta_est, dtype=float)[self.est_pos])

    def embed(self, sub: np.ndarray) -> np.ndarray:
        """The ML table's θ with the shared parameters set to ``sub``."""
        out = self.base.copy()
        out[self.ml_pos] = sub
        return out
