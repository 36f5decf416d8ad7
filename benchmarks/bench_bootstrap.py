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

``--missing fiml`` benchmarks the bootstrap under full-information ML instead:
the same simulated data with ``--missing-share`` (default 5%) of the answers
deleted completely at random (``simulate_responses(..., missing=0.05)``; rows
without any answer removed; NA in the CSV), sem_kit's ``fit_fiml`` +
``FimlRefitter`` + ``run_bootstrap`` (statistic θ, intercepts included, on one
BLAS thread) against ``sem(model, data, missing = "ml", se = "bootstrap", ...)``;
the intervals of every free parameter, intercepts (``~1``) included, are compared.
The default, ``--missing listwise``, is the complete-data ML benchmark above.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_bootstrap.py --boot 1000 5000 --reps 3
    .venv/bin/python benchmarks/bench_bootstrap.py --missing fiml --boot 200 500 --reps 3

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


class FimlEstimates:
    """Bootstrap statistic under FIML: θ of the resample (intercepts last), one BLAS thread.

    ``FimlRefitter.estimates`` itself does not limit BLAS threads (unlike
    ``engine.refit.Refitter``), so this does, with one threadpoolctl controller per
    process (made on first use; not pickled to the workers).
    """

    def __init__(self, refitter) -> None:
        self.refitter = refitter
        self._controller = None

    def __getstate__(self) -> dict:
        return {"refitter": self.refitter, "_controller": None}

    def __call__(self, sample: np.ndarray) -> np.ndarray:
        if self._controller is None:
            from threadpoolctl import ThreadpoolController
            self._controller = ThreadpoolController()
        with self._controller.limit(limits=1, user_api="blas"):
            return self.refitter.estimates(sample)


def make_inputs(directory: Path, n: int, seed: int,
                missing: float = 0.0) -> tuple[Path, Path, dict]:
    """Simulate the built-in questionnaire and write ``data.csv`` and ``model.lav``.

    ``missing``: share of answers deleted completely at random; rows left
    without any answer are dropped. Missing answers are written as ``NA``.
    """
    import sem_kit
    from sem_kit.io.simulate import simulate_responses

    q = sem_kit.load_questionnaire()
    df = simulate_responses(q, n, seed, demographics=False, missing=missing)
    for item in q.reverse_items:
        scale = q.item_scale(item)
        df[item] = scale.min + scale.max - df[item]
    empty = int(df.isna().all(axis=1).sum())
    df = df[~df.isna().all(axis=1)]
    data, model = directory / "data.csv", directory / "model.lav"
    df.to_csv(data, index=False, na_rep="NA")
    model.write_text(q.model_syntax(), encoding="utf-8")
    info = {"rows": int(len(df)), "rows_without_answer_removed": empty,
            "missing_cells": int(df.isna().sum().sum()),
            "missing_share": float(df.isna().to_numpy().mean()),
            "complete_rows": int((~df.isna().any(axis=1)).sum())}
    return data, model, info


def failure_reasons(res) -> dict:
    return {r: res.reasons.count(r) for r in sorted(set(res.reasons))}


def run_semkit_fiml(data: Path, model: Path, n_boot: int, jobs: int, seed: int,
                    ci_out: Path) -> dict:
    """One timed FIML bootstrap (fit_fiml + B FimlRefitter refits + intervals)."""
    from threadpoolctl import threadpool_limits

    from sem_kit.estimators.fiml import FimlRefitter, fit_fiml
    from sem_kit.postestimation.bootstrap import percentile_ci, run_bootstrap

    df = pd.read_csv(data)
    syntax = model.read_text(encoding="utf-8")
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        fit = fit_fiml(syntax, df)
    fitted = time.perf_counter()
    refitter = FimlRefitter(fit)
    x = df[list(fit.spec.observed)].to_numpy(dtype=float)
    k = len(fit.theta)
    with threadpool_limits(limits=1, user_api="blas"):
        res = run_bootstrap(FimlEstimates(refitter), x, n_boot, seed, k=k, jobs=jobs)
    ci = percentile_ci(res.ok())
    end = time.perf_counter()
    rows = fit.params[fit.params.free > 0].drop_duplicates("free").sort_values("free")
    sd = np.nanstd(res.ok(), axis=0, ddof=1)
    pd.DataFrame({"lhs": rows.lhs.to_numpy(), "op": rows.op.to_numpy(),
                  "rhs": rows.rhs.to_numpy(), "est": fit.theta, "se": sd,
                  "ci.lower": ci[:, 0], "ci.upper": ci[:, 1]}).to_csv(ci_out, index=False)
    return {"elapsed": end - start, "fit": fitted - start, "failed": res.n_failed,
            "failure_reasons": failure_reasons(res), "n": int(fit.n), "npar": k,
            "converged": bool(fit.converged), "fit_warnings": list(fit.warnings)}


def run_semkit(data: Path, model: Path, n_boot: int, jobs: int, seed: int,
               ci_out: Path) -> dict:
    """One timed sem_kit bootstrap (fit + B refits + intervals); intervals to ``ci_out``."""
    from sem_kit.estimators.ml import bootstrap_refitter, fit_model
    from sem_kit.postestimation.bootstrap import percentile_ci, run_bootstrap

    df = pd.read_csv(data)
    syntax = model.read_text(encoding="utf-8")
    start = time.perf_counter()
    fit = fit_model(syntax, df)
    fitted = time.perf_counter()
    refitter = bootstrap_refitter(fit)  # what sem-kit analyze refits with
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


def run_lavaan(data: Path, model: Path, n_boot: int, seed: int, ci_out: Path,
               missing: str = "listwise") -> dict:
    command = ["Rscript", str(R_SCRIPT), str(data), str(model), str(n_boot), "2", str(seed),
               str(ci_out)]
    if missing == "fiml":
        command.append("ml")
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    words = out.stdout.split()
    warnings = [line.removeprefix("lavaan warning: ") for line in out.stderr.splitlines()
                if line.startswith("lavaan warning: ")]
    return {"elapsed": float(words[words.index("elapsed") + 1]),
            "failed": int(words[words.index("failed") + 1]),
            "warnings": int(words[words.index("warnings") + 1]),
            "warning_messages": warnings,
            "lavaan": words[words.index("lavaan") + 1]}


def lavaan_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "cat(requireNamespace('lavaan', quietly=TRUE))"],
                           capture_output=True, text=True)
    return probe.stdout.strip().endswith("TRUE")


def child(args: argparse.Namespace) -> None:
    """``--child``: one timed run in this fresh process, JSON on stdout."""
    run = run_semkit_fiml if args.missing == "fiml" else run_semkit
    result = run(Path(args.data), Path(args.model), args.boot[0], args.jobs, args.seed,
                 Path(args.ci_out))
    print(json.dumps(result))


def timed_child(data: Path, model: Path, n_boot: int, jobs: int, seed: int,
                ci_out: Path, missing: str = "listwise") -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "--data", str(data),
                          "--model", str(model), "--boot", str(n_boot), "--jobs", str(jobs),
                          "--seed", str(seed), "--ci-out", str(ci_out), "--missing", missing],
                         capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        out.check_returncode()
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
    for frame in (a, b):  # an intercept's rhs is empty
        frame[["lhs", "op", "rhs"]] = frame[["lhs", "op", "rhs"]].fillna("")
    b = b[b.op.isin(["=~", "~", "~~", "~1"])]
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
    est_diff = np.abs(m.est_sk - m.est_lav)
    return {
        "parameters": int(len(m)),
        "semkit_only": int(len(a) - len(m)),
        "lavaan_only": int(len(b) - len(m)),
        "by_op": {op: int((m.op_sk == op).sum()) for op in ("=~", "~", "~~", "~1")},
        "max_abs_est_diff": float(est_diff.max()),
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
    git = {}
    try:
        run = {"cwd": HERE.parent, "capture_output": True, "text": True, "check": True}
        git = {"commit": subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.strip(),
               "modified_sem_kit": subprocess.run(
                   ["git", "status", "--porcelain", "--", "sem_kit"], **run).stdout.split("\n")}
        git["modified_sem_kit"] = [f.strip() for f in git["modified_sem_kit"] if f.strip()]
    except (OSError, subprocess.CalledProcessError):
        pass
    return {"python": platform.python_version(), "numpy": np.__version__, "git": git,
            "cpu": cpu, "cores": os.cpu_count(), "blas": blas,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "")}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boot", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--missing", choices=("listwise", "fiml"), default="listwise",
                        help="listwise: complete data, ML (default); fiml: answers missing "
                             "completely at random, full-information ML on both sides")
    parser.add_argument("--missing-share", type=float, default=0.05,
                        help="with --missing fiml: share of answers deleted (default 0.05)")
    parser.add_argument("--jobs", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--no-lavaan", action="store_true", help="time sem_kit only")
    parser.add_argument("--out", type=Path, help="write every timing to this JSON file")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in --out (same --n, --seed, --missing) "
                             "and do only the others")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--ci-out", help=argparse.SUPPRESS)
    return parser.parse_args()


def _resume(results: dict, args: argparse.Namespace, env: dict) -> dict:
    """The runs already in ``--out`` (same settings), with ``results``' keys added."""
    if not (args.resume and args.out and args.out.exists()):
        return results
    old = json.loads(args.out.read_text(encoding="utf-8"))
    same = {k: results.get(k) for k in ("n", "seed", "missing", "missing_share")}
    if {k: old.get(k, results.get(k)) for k in same} != same:
        sys.exit(f"--resume: {args.out} was written with other settings than {same}")
    results = {**old, **{k: v for k, v in results.items() if k not in old}}
    results.setdefault("resumed", []).append(env)
    print(f"# resuming {args.out}: {len(results['runs'])} run(s) already there")
    return results


def _run_all(results: dict, args: argparse.Namespace, with_r: bool) -> None:
    """Every (B, repetition) not yet in ``results``: sem_kit with 1 and 2 jobs, then lavaan."""
    fiml = args.missing == "fiml"
    done = {(r["B"], r["rep"]) for r in results["runs"]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, model, info = make_inputs(tmp, args.n, args.seed,
                                        args.missing_share if fiml else 0.0)
        results["data"] = info
        if fiml:
            print(f"# FIML: {info['rows']} rows ({info['rows_without_answer_removed']} without "
                  f"answers removed), {info['missing_cells']} missing answers "
                  f"({100 * info['missing_share']:.1f}%), {info['complete_rows']} complete rows")
        for n_boot in args.boot:
            for rep in range(args.reps):
                if (n_boot, rep) in done:
                    continue
                seed = args.seed + rep
                load = os.getloadavg()[0]
                row = {"B": n_boot, "rep": rep, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "load_before": load}
                for jobs in (1, 2):
                    r = timed_child(data, model, n_boot, jobs, seed, tmp / f"sk{jobs}.csv",
                                    args.missing)
                    row[f"semkit_jobs{jobs}"] = r["elapsed"]
                    row[f"semkit_jobs{jobs}_failed"] = r["failed"]
                    row[f"semkit_jobs{jobs}_fit"] = r["fit"]
                    if fiml:
                        row[f"semkit_jobs{jobs}_failure_reasons"] = r["failure_reasons"]
                        results["semkit_fit"] = {k: r[k] for k in
                                                 ("n", "npar", "converged", "fit_warnings")}
                if with_r:
                    r = run_lavaan(data, model, n_boot, seed, tmp / "lav.csv", args.missing)
                    row["lavaan"] = r["elapsed"]
                    row["lavaan_failed"] = r["failed"]
                    row["lavaan_warnings"] = r["warnings"]
                    if r["warning_messages"]:
                        row["lavaan_warning_messages"] = r["warning_messages"]
                    results["lavaan_version"] = r["lavaan"]
                    if rep == 0:
                        results["intervals"][str(n_boot)] = compare_intervals(
                            tmp / "sk2.csv", tmp / "lav.csv", n_boot)
                row["load_after"] = os.getloadavg()[0]
                results["runs"].append(row)
                print(json.dumps(row), flush=True)
                if args.out:  # so far, in case the run is cut short
                    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")



def _print_summary(results: dict, args: argparse.Namespace) -> None:
    """The medians table, the failed resamples and the interval agreement."""
    results["runs"].sort(key=lambda r: (args.boot.index(r["B"]) if r["B"] in args.boot
                                        else len(args.boot), r["B"], r["rep"]))
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
    counts = {str(b): sum(r["B"] == b for r in results["runs"]) for b in args.boot}
    results["median_of"] = counts
    print("\nmedians of " + ", ".join(f"{k} repetition(s) at B = {b}" for b, k in counts.items())
          + "; load average before each run: "
          + ", ".join(f"{r['load_before']:.1f}" for r in results["runs"]))
    failed = {k: sum(r.get(k, 0) for r in results["runs"])
              for k in ("semkit_jobs1_failed", "semkit_jobs2_failed", "lavaan_failed",
                        "lavaan_warnings")}
    print("failed resamples over all runs: sem_kit jobs=1 {semkit_jobs1_failed}, jobs=2 "
          "{semkit_jobs2_failed}, lavaan {lavaan_failed}; lavaan warnings {lavaan_warnings}"
          .format(**failed))
    for n_boot, c in results["intervals"].items():
        print(f"\nB = {n_boot}: full-sample estimates differ by at most "
              f"{c['max_abs_est_diff']:.1e}")
        print(f"B = {n_boot}: percentile intervals of {c['parameters']} free parameters "
              f"({', '.join(f'{n} {op}' for op, n in c['by_op'].items() if n)}), "
              f"sem_kit vs lavaan: endpoint difference median {c['median_rel_width']:.3f}, "
              f"max {c['max_rel_width']:.3f} of the interval width; "
              f"{100 * c['share_abs_z_below_2']:.0f}% of endpoints within 2 Monte Carlo "
              f"SE (max |z| {c['max_abs_z']:.1f}); bootstrap SE ratio median "
              f"{c['se_ratio_median']:.3f}")
        for p in c["paths"]:
            print(f"  {p['path']:<10s} sem_kit [{p['semkit'][0]:.3f}, {p['semkit'][1]:.3f}]  "
                  f"lavaan [{p['lavaan'][0]:.3f}, {p['lavaan'][1]:.3f}]")


def main() -> None:
    args = _arguments()
    if args.child:
        child(args)
        return

    with_r = not args.no_lavaan and lavaan_available()
    if not with_r and not args.no_lavaan:
        print("Rscript with lavaan not found: timing sem_kit only")
    env = environment()
    print(f"# {env['cpu']}, {env['cores']} cores; numpy {env['numpy']}, BLAS {env['blas']}, "
          f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE'] or '(unset)'}")
    results: dict = {"environment": env, "n": args.n, "seed": args.seed,
                     "missing": args.missing, "runs": [], "intervals": {}}
    if args.missing == "fiml":
        results["missing_share"] = args.missing_share
    results = _resume(results, args, env)
    _run_all(results, args, with_r)
    _print_summary(results, args)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
