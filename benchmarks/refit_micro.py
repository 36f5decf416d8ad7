"""CPU time of one ML bootstrap refit, before and after a change.

Times ``Refitter.estimates`` and ``est_all`` + ``std_all`` per resample on one BLAS
thread, best of 5 passes over the same 40 resamples of N = 500 simulated answers
to the built-in questionnaire. Run it from a checkout's root with that checkout's
virtualenv; it imports the module layout of before issue #13 (``sem_kit.fastfit``)
or of after it (``sem_kit.engine.refit``), whichever the checkout has:

    .venv/bin/python benchmarks/refit_micro.py
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from sem_kit import load_questionnaire

try:
    from sem_kit.engine.refit import Refitter
    from sem_kit.estimators.ml import fit_model
    from sem_kit.io.simulate import simulate_responses

    LAYOUT = "after #13"
except ImportError:  # the layout before issue #13
    from sem_kit.estimation import fit_model  # type: ignore[no-redef]
    from sem_kit.fastfit import Refitter  # type: ignore[no-redef]
    from sem_kit.simulate import simulate_responses  # type: ignore[no-redef]

    LAYOUT = "before #13"

PASSES, RESAMPLES = 5, 40


def main() -> None:
    """Print the best per-resample CPU times and the first resample's first estimates."""
    q = load_questionnaire()
    data = simulate_responses(q, 500, seed=20261123, demographics=False, missing=0)
    fit = fit_model(q.model_syntax(), data)
    refitter = Refitter(fit)
    x = data[list(refitter.observed)].to_numpy(float)
    rng = np.random.default_rng(1)
    samples = [x[rng.integers(0, len(x), len(x))] for _ in range(RESAMPLES)]
    best = {"estimates": np.inf, "std_all": np.inf}
    with threadpool_limits(1, "blas"):
        for _ in range(PASSES):
            t0 = time.process_time()
            thetas = [refitter.estimates(s) for s in samples]
            t1 = time.process_time()
            for s, theta in zip(samples, thetas, strict=True):
                cov = refitter.sample_cov(s)
                refitter.est_all(theta, cov)
                refitter.std_all(theta, cov)
            t2 = time.process_time()
            best["estimates"] = min(best["estimates"], (t1 - t0) / RESAMPLES)
            best["std_all"] = min(best["std_all"], (t2 - t1) / RESAMPLES)
    shown = {k: f"{v * 1000:.3f} ms" for k, v in best.items()}
    print(LAYOUT, shown, "first estimates", thetas[0][:3])


if __name__ == "__main__":
    main()
