"""How estimation time and memory grow with the number of respondents and of items.

Two series, each configuration in a fresh process (so its peak resident memory,
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, is its own), several
repetitions, medians printed:

1. Respondents: the built-in questionnaire (48 items, the full SEM with KCH
   second order) simulated for N = 1,000 / 10,000 / 100,000
   (``simulate_responses(q, N, seed, demographics=False, missing=0)``), then
   ``fit_model`` with the full model, no bootstrap. Reported: simulation and
   fit seconds (wall-clock and CPU: the CPU time is less disturbed by other
   processes on a shared machine) and the peak memory of the whole process.
2. Items: the same constructs, paths and population with 3, 4, 5, 6 items per
   first-order construct (39 to 78 items; questionnaires built with
   ``sem_kit.questionnaire.parse_questionnaire``), N = 500: fit seconds and the
   milliseconds of one bootstrap refit (``Refitter.estimates`` + ``std_all``,
   median over 50 resamples).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_scale.py [--reps 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (1_000, 10_000, 100_000)
ITEMS = (3, 4, 5, 6)


def questionnaire(items_per_construct: int | None):
    """The built-in questionnaire, or a copy with ``items_per_construct`` items per construct."""
    import yaml

    import sem_kit
    from sem_kit.questionnaire.loader import builtin_text, parse_questionnaire

    if items_per_construct is None:
        return sem_kit.load_questionnaire()
    doc = yaml.safe_load(builtin_text("customer-knowledge-sharing"))
    for cid, construct in doc["constructs"].items():
        if "items" not in construct:
            continue
        construct["items"] = {
            f"{cid}{i}": {"en": f"{cid} item {i}", "zh": f"{cid} 题项 {i}"}
            for i in range(1, items_per_construct + 1)
        }
    doc.pop("columns", None)
    return parse_questionnaire(yaml.safe_dump(doc, allow_unicode=True),
                               f"<built-in with {items_per_construct} items per construct>")


def peak_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_respondents(n: int, seed: int) -> dict:
    from sem_kit.estimators.ml import fit_model
    from sem_kit.io.simulate import simulate_responses

    q = questionnaire(None)
    t0 = time.perf_counter()
    df = simulate_responses(q, n, seed, demographics=False, missing=0)
    t1, c1 = time.perf_counter(), time.process_time()
    fit = fit_model(q.model_syntax(), df)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"simulate": t1 - t0, "fit": t2 - t1, "fit_cpu": c2 - c1, "peak_mb": peak_mb(),
            "converged": bool(fit.converged), "items": len(fit.observed), "npar": fit.npar}


def child_items(k: int, seed: int) -> dict:
    from sem_kit.engine.refit import Refitter
    from sem_kit.estimators.ml import fit_model
    from sem_kit.io.simulate import simulate_responses
    from sem_kit.postestimation.bootstrap import resample_rows

    q = questionnaire(k)
    df = simulate_responses(q, 500, seed, demographics=False, missing=0)
    t0, c0 = time.perf_counter(), time.process_time()
    fit = fit_model(q.model_syntax(), df)
    t1, c1 = time.perf_counter(), time.process_time()
    refitter = Refitter(fit)
    x = df[list(refitter.observed)].to_numpy(dtype=float)
    times = []
    for b in range(50):
        sample = x[resample_rows(len(x), b, seed)]
        start = time.perf_counter()
        refitter.std_all(refitter.estimates(sample))
        times.append(time.perf_counter() - start)
    return {"fit": t1 - t0, "fit_cpu": c1 - c0, "refit_ms": 1e3 * float(np.median(times)),
            "items": len(fit.observed), "npar": fit.npar, "peak_mb": peak_mb(),
            "converged": bool(fit.converged)}


def run_child(kind: str, value: int, seed: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(value), str(seed)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", type=Path, help="write every measurement to this JSON file")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, value, seed = args.child[0], int(args.child[1]), int(args.child[2])
        fn = child_respondents if kind == "n" else child_items
        print(json.dumps(fn(value, seed)))
        return

    results: dict = {"respondents": {}, "items": {}, "load": []}
    print(f"# OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print("| N | simulate (s) | fit_model wall (s) | fit_model CPU (s) "
          "| peak memory (MiB) |")
    print("|---|---|---|---|---|")
    for n in SIZES:
        runs = []
        for rep in range(args.reps):
            results["load"].append(os.getloadavg()[0])
            runs.append(run_child("n", n, args.seed + rep))
        results["respondents"][n] = runs
        sim = statistics.median(r["simulate"] for r in runs)
        fit = statistics.median(r["fit"] for r in runs)
        cpu = statistics.median(r["fit_cpu"] for r in runs)
        mem = max(r["peak_mb"] for r in runs)
        print(f"| {n:,} | {sim:.2f} | {fit:.2f} | {cpu:.2f} | {mem:.0f} |", flush=True)

    print()
    print("| items per construct | items | free parameters | fit_model wall (s) "
          "| fit_model CPU (s) | one bootstrap refit + std_all (ms) |")
    print("|---|---|---|---|---|---|")
    for k in ITEMS:
        runs = []
        for rep in range(args.reps):
            results["load"].append(os.getloadavg()[0])
            runs.append(run_child("k", k, args.seed + rep))
        results["items"][k] = runs
        fit = statistics.median(r["fit"] for r in runs)
        cpu = statistics.median(r["fit_cpu"] for r in runs)
        refit = statistics.median(r["refit_ms"] for r in runs)
        print(f"| {k} | {runs[0]['items']} | {runs[0]['npar']} | {fit:.2f} | {cpu:.2f} "
              f"| {refit:.2f} |", flush=True)
    print("\nload average before each run: " + ", ".join(f"{x:.1f}" for x in results["load"]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
