"""Per-resample CPU time of the ML bootstrap refit (estimates + est_all + std_all), one BLAS
thread, best of 5 passes over the same 40 resamples; run from a checkout's root."""
import time
import numpy as np
from threadpoolctl import threadpool_limits
try:
    from sem_kit.estimators.ml import fit_model
    from sem_kit.engine.refit import Refitter
    from sem_kit.io.simulate import simulate_responses
    where = "after"
except ImportError:
    from sem_kit.estimation import fit_model
    from sem_kit.fastfit import Refitter
    from sem_kit.simulate import simulate_responses
    where = "before"
from sem_kit import load_questionnaire

q = load_questionnaire()
data = simulate_responses(q, 500, seed=20261123, demographics=False, missing=0)
fit = fit_model(q.model_syntax(), data)
r = Refitter(fit)
x = data[list(r.observed)].to_numpy(float)
rng = np.random.default_rng(1)
samples = [x[rng.integers(0, len(x), len(x))] for _ in range(40)]
with threadpool_limits(1, "blas"):
    best = {}
    for _ in range(5):
        t0 = time.process_time()
        th = [r.estimates(s) for s in samples]
        t1 = time.process_time()
        for s, t in zip(samples, th):
            r.est_all(t, r.sample_cov(s)); r.std_all(t, r.sample_cov(s))
        t2 = time.process_time()
        best["estimates"] = min(best.get("estimates", 9), (t1 - t0) / 40)
        best["std_all"] = min(best.get("std_all", 9), (t2 - t1) / 40)
print(where, {k: f"{v*1000:.3f} ms" for k, v in best.items()}, "theta[0:3]", th[0][:3])
