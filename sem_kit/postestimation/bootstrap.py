"""Nonparametric bootstrap: resampling, parallel refits and confidence intervals.

Resample ``b`` draws its rows from its own random stream, the ``b``-th child of
``numpy.random.SeedSequence(seed)``, so the same seed gives the same resamples
(and intervals) whatever the number of jobs or the chunking. Refits that fail
are kept as rows of NaN and counted, never dropped silently.

The intervals follow lavaan's ``parameterEstimates(fit, boot.ci.type = ...)``:
``"perc"`` and ``"bca.simple"`` (bias-corrected, no acceleration), both reading
quantiles with ``boot:::norm.inter``'s interpolation on the normal scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from sem_kit.engine.optimizer import RefitFailed

StatFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap replicates of a statistic vector.

    Attributes
    ----------
    estimates:
        ``(B, k)`` array; row ``b`` is the statistic on resample ``b``, NaN if it failed.
    failed:
        Indices of resamples whose refit failed (did not converge or raised).
    reasons:
        One short text per failed resample, in the order of ``failed``.
    seed:
        The seed the resamples were drawn from.
    """

    estimates: np.ndarray
    failed: tuple[int, ...]
    reasons: tuple[str, ...]
    seed: int

    @property
    def n_requested(self) -> int:
        return int(self.estimates.shape[0])

    @property
    def n_failed(self) -> int:
        return len(self.failed)

    @property
    def n_ok(self) -> int:
        return self.n_requested - self.n_failed

    def ok(self) -> np.ndarray:
        """The replicates of the resamples that succeeded, ``(B - n_failed, k)``."""
        keep = np.ones(self.n_requested, dtype=bool)
        keep[list(self.failed)] = False
        return self.estimates[keep]


def resample_rows(n: int, b: int, seed: int) -> np.ndarray:
    """Row indices (length ``n``, drawn with replacement) of resample ``b`` under ``seed``."""
    child = np.random.SeedSequence(seed, spawn_key=(b,))
    return np.random.default_rng(child).integers(0, n, size=n)


def _chunks(n_items: int, n_chunks: int) -> Iterator[range]:
    bounds = np.linspace(0, n_items, n_chunks + 1).astype(int)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if hi > lo:
            yield range(int(lo), int(hi))


def _run_chunk(stat: StatFunction, data: np.ndarray, seed: int, which: range, k: int):
    out = np.full((len(which), k), np.nan)
    failures: list[tuple[int, str]] = []
    n = data.shape[0]
    for row, b in enumerate(which):
        sample = data[resample_rows(n, b, seed)]
        try:
            value = np.asarray(stat(sample), dtype=float)
        except RefitFailed as exc:
            failures.append((b, str(exc) or "refit failed"))
            continue
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            failures.append((b, f"{type(exc).__name__}: {exc}"))
            continue
        if value.shape != (k,) or not np.all(np.isfinite(value)):
            failures.append((b, "non-finite estimates"))
            continue
        out[row] = value
    return which, out, failures


def run_bootstrap(
    stat: StatFunction,
    data: np.ndarray,
    n_boot: int,
    seed: int,
    k: int,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> BootstrapResult:
    """Refit ``stat`` on ``n_boot`` resamples of the rows of ``data``.

    Parameters
    ----------
    stat:
        Takes a resampled ``(n, p)`` array, returns the ``k`` statistics; raises
        :class:`RefitFailed` when the refit does not converge. It must be picklable
        (a module-level function or an instance of a module-level class) when
        ``jobs > 1``.
    data:
        ``(n, p)`` complete data.
    n_boot, seed:
        Number of resamples and the seed they are drawn from.
    k:
        Length of the statistic vector.
    jobs:
        Worker processes (joblib's loky backend; ``-1`` for all cores). Under
        ``joblib.parallel_config(backend="dask")`` or ``"ray"`` the same chunks run
        on a cluster.
    progress:
        Called with the number of resamples finished after each chunk.

    Returns
    -------
    BootstrapResult
        Replicates in resample order; identical for any ``jobs``.
    """
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    estimates = np.full((n_boot, k), np.nan)
    failures: list[tuple[int, str]] = []
    if jobs == 1:
        chunk_size = max(1, min(50, n_boot // 20 or 1))
        done = 0
        for which in _chunks(n_boot, -(-n_boot // chunk_size)):
            rows, out, fails = _run_chunk(stat, data, seed, which, k)
            estimates[rows.start : rows.stop] = out
            failures += fails
            done += len(rows)
            if progress:
                progress(done)
    else:
        from joblib import Parallel, cpu_count, delayed

        workers = cpu_count() if jobs < 0 else jobs
        n_chunks = min(n_boot, workers * 8)
        tasks = (delayed(_run_chunk)(stat, data, seed, w, k) for w in _chunks(n_boot, n_chunks))
        done = 0
        for rows, out, fails in Parallel(n_jobs=workers, return_as="generator")(tasks):
            estimates[rows.start : rows.stop] = out
            failures += fails
            done += len(rows)
            if progress:
                progress(done)
    failures.sort()
    return BootstrapResult(
        estimates=estimates,
        failed=tuple(b for b, _ in failures),
        reasons=tuple(r for _, r in failures),
        seed=seed,
    )


def norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Quantiles of ``t`` at ``alpha`` interpolated on the normal scale.

    The order statistic ``k = floor((R + 1) * alpha)`` and its neighbour are
    interpolated linearly in ``qnorm(alpha)`` between ``qnorm(k / (R + 1))`` and
    ``qnorm((k + 1) / (R + 1))``; the extreme order statistics are used at the
    ends. This is ``boot:::norm.inter`` (Davison & Hinkley 1997, eq. 5.8), which
    lavaan uses for its percentile and bias-corrected intervals.

    Examples
    --------
    >>> float(norm_inter(np.arange(1.0, 100.0), np.array([0.5]))[0])
    50.0
    """
    t = np.sort(np.asarray(t, dtype=float)[np.isfinite(t)])
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    r = t.size
    if r == 0:
        return np.full(alpha.shape, np.nan)
    rk = (r + 1) * alpha
    k = np.trunc(rk).astype(int)
    out = np.empty(alpha.shape)
    for i, (ki, rki, a) in enumerate(zip(k, rk, alpha, strict=True)):
        if ki == rki and 1 <= ki <= r:
            out[i] = t[ki - 1]
        elif ki <= 0:
            out[i] = t[0]
        elif ki >= r:
            out[i] = t[-1]
        else:
            z, z_lo, z_hi = norm.ppf(a), norm.ppf(ki / (r + 1)), norm.ppf((ki + 1) / (r + 1))
            out[i] = t[ki - 1] + (z - z_lo) / (z_hi - z_lo) * (t[ki] - t[ki - 1])
    return out


def percentile_ci(boot: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Percentile intervals, ``(k, 2)``: lavaan's ``boot.ci.type = "perc"``.

    ``boot`` is ``(B, k)``; NaN rows (failed resamples) are ignored.
    """
    boot = np.atleast_2d(boot)
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    return np.array([norm_inter(boot[:, j], alpha) for j in range(boot.shape[1])])


def bias_corrected_ci(boot: np.ndarray, estimate: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Bias-corrected intervals, ``(k, 2)``: lavaan's ``boot.ci.type = "bca.simple"``.

    With ``w = qnorm(mean(t* < t0))`` the bounds are the ``pnorm(2w + z_a)``
    quantiles of the replicates, ``z_a = qnorm(0.025), qnorm(0.975)`` for 95%
    (Efron 1981; no acceleration). A statistic without bootstrap variability
    keeps its point estimate as both bounds, as lavaan does.
    """
    boot = np.atleast_2d(boot)
    estimate = np.atleast_1d(np.asarray(estimate, dtype=float))
    z_alpha = norm.ppf([(1 - level) / 2, (1 + level) / 2])
    out = np.column_stack([estimate, estimate]).astype(float)
    for j in range(boot.shape[1]):
        t = boot[:, j][np.isfinite(boot[:, j])]
        if t.size < 2 or np.var(t) == 0:
            continue
        w = norm.ppf(np.sum(t < estimate[j]) / t.size)
        out[j] = norm_inter(t, norm.cdf(2 * w + z_alpha))
    return out
