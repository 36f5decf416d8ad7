"""sem_kit's bootstrap against lavaan's, on the same data, model and number of resamples.

The built-in model (``sem_kit.load_questionnaire().model_syntax()``: 48 items,
13 first-order factors, KCH second order over four of them, 12 structural
paths; 133 free parameters) is fitted to N = 500 simulated respondents
(``simulate_responses(q, 500, seed, demographics=False, missing=0)``, reverse
items recoded ``min + max − x``), written to one CSV that both sides read.

Each repetition runs, in this order and each in a fresh process (so sem_kit's
worker processes start cold every time, as in a command-line run):

- sem_kit, ``jobs = 1`` and ``jobs = 2``: ``fit_model`` + ``Refitter`` +
  ``run_bootstrap`` with a statistic that returns θ and ``std_all`` of every
  parameter row + percentile intervals;
- lavaan (when ``Rscript`` and lavaan are installed): ``sem(model, data, se =
  "bootstrap", bootstrap = B, parallel = "multicore", ncpus = 2)`` + its
  percentile intervals (``bench_bootstrap.R``).

Printed: the median wall-clock seconds of each, the ratio lavaan / sem_kit
(jobs = 2: both then use the two cores) and how far the percentile intervals
of the two tools are apart, in units of their Monte Carlo error.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_bootstrap.py --boot 1000 5000 --reps 3

``--out FILE`` also writes every timing as JSON. Nothing here is a test: the
machine is shared and noisy, so compare medians and look at the load average
printed with them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "bench_bootstrap.R"


class EstimatesAndStd:
    """Bootstrap statistic: θ followed by std.all of every parameter row."""

    def __init__(self, refitter) -> None:
        self.refitter = refitter

    def __call__(self, sample: np.ndarray) -> np.ndarray:
        theta = self.refitter.estimates(sample)
        return np.concatenate([theta, self.refitter.std_all(theta)])


def make_inputs(directory: Path, n: int, seed: int) -> tuple[Path, Path]:
    """Simulate the built-in questionnaire and write ``data.csv`` and ``model.lav``."""
    import sem_kit
    from sem_kit.simulate import simulate_responses

    q = sem_kit.load_questionnaire()
    df = simulate_responses(q, n, seed, demographics=False, missing=0)
    for item in q.reverse_items:
        scale = q.item_scale(item)
        df[item] = scale.min + scale.max - df[item]
    data, model = directory / "data.csv", directory / "model.lav"
    df.to_csv(data, index=False)
    model.write_text(q.model_syntax(), encoding="utf-8")
    return data, model


def run_semkit(data: Path, model: Path, n_boot: int, jobs: int, seed: int,
               ci_out: Path) -> dict:
    """One timed sem_kit bootstrap (fit + B refits + intervals); intervals to ``ci_out``."""
    from sem_kit.bootstrap import percentile_ci, run_bootstrap
    from sem_kit.estimation import fit_model
    from sem_kit.fastfit import Refitter

    df = pd.read_csv(data)
    syntax = model.read_text(encoding="utf-8")
    start = time.perf_counter()
    fit = fit_model(syntax, df)
    fitted = time.perf_counter()
    refitter = Refitter(fit)
    x = df[list(refitter.observed)].to_numpy(dtype=float)
    k = fit.npar + len(fit.params)
    res = run_bootstrap(EstimatesAndStd(refitter), x, n_boot, seed, k, jobs=jobs)
    ci = percentile_ci(res.ok()[:, : fit.npar])
    end = time.perf_counter()
    rows = fit.params[fit.params.free > 0].drop_duplicates("free").sort_values("free")
    sd = np.nanstd(res.ok()[:, : fit.npar], axis=0, ddof=1)
    pd.DataFrame({"lhs": rows.lhs.to_numpy(), "op": rows.op.to_numpy(),
                  "rhs": rows.rhs.to_numpy(), "est": fit.theta, "se": sd,
                  "ci.lower": ci[:, 0], "ci.upper": ci[:, 1]}).to_csv(ci_out, index=False)
    return {"elapsed": end - start, "fit": fitted - start, "failed": res.n_failed}


def run_lavaan(data: Path, model: Path, n_boot: int, seed: int, ci_out: Path) -> dict:
    out = subprocess.run(["Rscript", str(R_SCRIPT), str(data), str(model), str(n_boot), "2",
                          str(seed), str(ci_out)], capture_output=True, text=True, check=True)
    words = out.stdout.split()
    return {"elapsed": float(words[words.index("elapsed") + 1]),
            "failed": int(words[words.index("failed") + 1]),
            "lavaan": words[words.index("lavaan") + 1]}


def lavaan_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "cat(requireNamespace('lavaan', quietly=TRUE))"],
                           capture_output=True, text=True)
    return probe.stdout.strip().endswith("TRUE")


def child(args: argparse.Namespace) -> None:
    """``--child``: one timed run in this fresh process, JSON on stdout."""
    result = run_semkit(Path(args.data), Path(args.model), args.boot[0], args.jobs, args.seed,
                        Path(args.ci_out))
    print(json.dumps(result))


def timed_child(data: Path, model: Path, n_boot: int, jobs: int, seed: int,
                ci_out: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "--data", str(data),
                          "--model", str(model), "--boot", str(n_boot), "--jobs", str(jobs),
                          "--seed", str(seed), "--ci-out", str(ci_out)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    return (*sorted((lhs, rhs)), op) if op == "~~" else (lhs, op, rhs)


def compare_intervals(ours: Path, theirs: Path, n_boot: int) -> dict:
    """Distance between the two tools' 95% percentile intervals of every free parameter.

    A percentile-interval endpoint (the 2.5% or 97.5% quantile of B
    replicates) has Monte Carlo standard error ``√(α(1−α)/B) / φ(z_α) · σ``,
    σ the bootstrap standard deviation (≈ 0.085σ for B = 1000, 0.038σ for
    5000); two independent runs differ by √2 times that. Reported: the
    differences relative to the interval width, and as z-scores in those
    units (independent runs give |z| < 2 for about 95% of endpoints).
    """
    a = pd.read_csv(ours)
    b = pd.read_csv(theirs)
    b = b[b.op.isin(["=~", "~", "~~"])]
    b = b[b.se > 0]
    a["key"] = [key(*r) for r in zip(a.lhs, a.op, a.rhs, strict=True)]
    b["key"] = [key(*r) for r in zip(b.lhs, b.op, b.rhs, strict=True)]
    m = a.merge(b, on="key", suffixes=("_sk", "_lav"))
    mc_se = math.sqrt(0.025 * 0.975 / n_boot) / norm.pdf(norm.ppf(0.025)) * m.se_sk
    diffs, zs = [], []
    for end in ("ci.lower", "ci.upper"):
        d = m[f"{end}_sk"] - m[f"{end}_lav"]
        diffs.append(np.abs(d) / (m["ci.upper_lav"] - m["ci.lower_lav"]))
        zs.append(d / (math.sqrt(2.0) * mc_se))
    rel = np.concatenate(diffs)
    z = np.concatenate(zs)
    paths = m[m.op_sk == "~"]
    return {
        "parameters": int(len(m)),
        "median_rel_width": float(np.median(rel)),
        "max_rel_width": float(rel.max()),
        "share_abs_z_below_2": float(np.mean(np.abs(z) < 2)),
        "max_abs_z": float(np.abs(z).max()),
        "se_ratio_median": float(np.median(m.se_sk / m.se_lav)),
        "paths": [
            {"path": f"{r.lhs_sk} ~ {r.rhs_sk}", "semkit": [r["ci.lower_sk"], r["ci.upper_sk"]],
             "lavaan": [r["ci.lower_lav"], r["ci.upper_lav"]]}
            for _, r in paths.iterrows()
        ],
    }


def environment() -> dict:
    try:
        from threadpoolctl import threadpool_info
        blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        blas = []
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"python": platform.python_version(), "numpy": np.__version__,
            "cpu": cpu, "cores": os.cpu_count(), "blas": blas,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boot", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--jobs", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--no-lavaan", action="store_true", help="time sem_kit only")
    parser.add_argument("--out", type=Path, help="write every timing to this JSON file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--ci-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    with_r = not args.no_lavaan and lavaan_available()
    if not with_r and not args.no_lavaan:
        print("Rscript with lavaan not found: timing sem_kit only")
    env = environment()
    print(f"# {env['cpu']}, {env['cores']} cores; numpy {env['numpy']}, BLAS {env['blas']}, "
          f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE'] or '(unset)'}")
    results: dict = {"environment": env, "n": args.n, "seed": args.seed, "runs": [],
                     "intervals": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, model = make_inputs(tmp, args.n, args.seed)
        for n_boot in args.boot:
            for rep in range(args.reps):
                seed = args.seed + rep
                load = os.getloadavg()[0]
                row = {"B": n_boot, "rep": rep, "load_before": load}
                for jobs in (1, 2):
                    r = timed_child(data, model, n_boot, jobs, seed, tmp / f"sk{jobs}.csv")
                    row[f"semkit_jobs{jobs}"] = r["elapsed"]
                    row[f"semkit_jobs{jobs}_failed"] = r["failed"]
                    row[f"semkit_jobs{jobs}_fit"] = r["fit"]
                if with_r:
                    r = run_lavaan(data, model, n_boot, seed, tmp / "lav.csv")
                    row["lavaan"] = r["elapsed"]
                    row["lavaan_failed"] = r["failed"]
                    results["lavaan_version"] = r["lavaan"]
                    if rep == 0:
                        results["intervals"][str(n_boot)] = compare_intervals(
                            tmp / "sk2.csv", tmp / "lav.csv", n_boot)
                results["runs"].append(row)
                print(json.dumps(row), flush=True)

    print()
    print("| B | sem_kit jobs=1 (s) | sem_kit jobs=2 (s) | lavaan ncpus=2 (s) "
          "| lavaan / sem_kit jobs=2 | per resample, sem_kit jobs=2 / lavaan (ms) |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for n_boot in args.boot:
        rows = [r for r in results["runs"] if r["B"] == n_boot]
        med = {k: statistics.median(r[k] for r in rows)
               for k in ("semkit_jobs1", "semkit_jobs2", "lavaan") if k in rows[0]}
        summary[str(n_boot)] = med
        lav = med.get("lavaan", math.nan)
        ratio = lav / med["semkit_jobs2"]
        print(f"| {n_boot} | {med['semkit_jobs1']:.2f} | {med['semkit_jobs2']:.2f} | "
              f"{lav:.2f} | {ratio:.1f}x | {1e3 * med['semkit_jobs2'] / n_boot:.2f} / "
              f"{1e3 * lav / n_boot:.2f} |")
    results["median"] = summary
    print(f"\nmedians of {args.reps} repetitions; load average before each run: "
          + ", ".join(f"{r['load_before']:.1f}" for r in results["runs"]))
    for n_boot, c in results["intervals"].items():
        print(f"\nB = {n_boot}: percentile intervals of {c['parameters']} free parameters, "
              f"sem_kit vs lavaan: endpoint difference median {c['median_rel_width']:.3f}, "
              f"max {c['max_rel_width']:.3f} of the interval width; "
              f"{100 * c['share_abs_z_below_2']:.0f}% of endpoints within 2 Monte Carlo "
              f"SE (max |z| {c['max_abs_z']:.1f}); bootstrap SE ratio median "
              f"{c['se_ratio_median']:.3f}")
        for p in c["paths"]:
            print(f"  {p['path']:<10s} sem_kit [{p['semkit'][0]:.3f}, {p['semkit'][1]:.3f}]  "
                  f"lavaan [{p['lavaan'][0]:.3f}, {p['lavaan'][1]:.3f}]")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
