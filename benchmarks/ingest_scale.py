"""How reading, screening and the whole analysis grow with the number of rows (issue 14).

Three commands, each run in a fresh process started from a fresh helper
process, so that the helper's ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``
is the peak resident memory of that one command:

a. ``python -c "import pandas; pandas.read_csv(F)"``: the floor, at 200,000 rows;
b. ``sem-kit validate F`` (ingest + screening), at 200,000 rows;
c. ``sem-kit analyze F --bootstrap 0 -o DIR`` at N = 100,000 and 1,000,000.

The data are the built-in questionnaire's (48 items, 5 demographics, id and
response time) simulated by ``simulate_responses(q, N, seed, flawed=True,
missing=0)``, then roughened so that every path of ingest and screening
runs: 1% of the answers written as their scale label (zh or en text), 1% of
the rows with one answer left empty and 0.2% with a missing code (``NA``,
``(跳过)``), 1% of the response times as text (``6分40秒``), and 0.05% of the
rows each made straight-lining, too fast, too incomplete, a repeated id or a
copy of an earlier row's answers. Wall-clock seconds and peak memory (MiB)
are the median of ``--reps`` runs (``--reps-large`` for analyze at the
largest N); the load average before each run is kept in the JSON.

Usage (from the repository root)::

    .venv/bin/python benchmarks/ingest_scale.py [--reps 3] [--reps-large 1]
        [--out benchmarks/results/issue14/ingest_scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VALIDATE_N = 200_000
ANALYZE_N = (100_000, 1_000_000)
SHARE_LABELS = 0.01
SHARE_EMPTY_ROWS = 0.01
SHARE_CODE_ROWS = 0.002
SHARE_TEXT_TIMES = 0.01
SHARE_EACH_FLAW = 0.0005


def make_data(n: int, seed: int, path: Path) -> dict:
    """Write N simulated, roughened respondents to ``path`` (CSV); return what was put in."""
    import pandas as pd

    import sem_kit
    from sem_kit.io.simulate import simulate_responses

    q = sem_kit.load_questionnaire()
    rng = np.random.default_rng(seed)
    df = simulate_responses(q, n, seed, flawed=True, missing=0)
    columns = [q.column_for(i) for i in q.items]
    values = df[columns].to_numpy(dtype=float)
    rows, width = values.shape
    text = np.where(np.isnan(values), "", np.nan_to_num(values).astype(int).astype(str))
    text = text.astype(object)

    scale = q.model.scale
    labels = {float(code): (t.zh, t.en) for code, t in scale.labels.items()}
    cells = np.flatnonzero((rng.random(values.shape) < SHARE_LABELS) & ~np.isnan(values))
    for cell in cells:
        zh, en = labels[values.flat[cell]]
        text.flat[cell] = zh if cell % 2 else en

    def some_rows(share: float) -> np.ndarray:
        return rng.choice(np.arange(1, rows), size=max(1, round(share * rows)), replace=False)

    empty = some_rows(SHARE_EMPTY_ROWS)
    text[empty, rng.integers(0, width, len(empty))] = ""
    coded = some_rows(SHARE_CODE_ROWS)
    text[coded, rng.integers(0, width, len(coded))] = rng.choice(["NA", "(跳过)"], len(coded))
    straight, incomplete, copies = (some_rows(SHARE_EACH_FLAW) for _ in range(3))
    text[straight] = "4"
    text[incomplete, :15] = ""
    text[copies] = text[copies - 1]

    out = df.drop(columns=columns).astype(object)
    s = q.model.screening
    seconds = out[s.duration_column].to_numpy(dtype=object, copy=True)
    timed = some_rows(SHARE_TEXT_TIMES)
    seconds[timed] = [f"{int(v) // 60}分{int(v) % 60}秒" if v == v else "" for v in
                      df[s.duration_column].to_numpy(dtype=float)[timed]]
    fast = some_rows(SHARE_EACH_FLAW)
    seconds[fast] = "10"
    out[s.duration_column] = seconds
    ids = out[s.id_column].to_numpy(dtype=object, copy=True)
    repeated = some_rows(SHARE_EACH_FLAW)
    ids[repeated] = ids[repeated - 1]
    out[s.id_column] = ids
    items = pd.DataFrame(text, columns=columns, index=out.index)
    pd.concat([out, items], axis=1).to_csv(path, index=False, encoding="utf-8")
    return {"rows": rows, "bytes": path.stat().st_size, "label_cells": len(cells),
            "rows_with_an_empty_answer": len(empty), "rows_with_a_missing_code": len(coded),
            "flaws_each": len(straight)}


def measure(command: list[str]) -> dict:
    """Run ``command`` once (output discarded); its wall-clock seconds and peak memory."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"seconds": seconds, "peak_mb": peak}


def run_fresh(command: list[str]) -> dict:
    """:func:`measure` in a fresh helper process, so the peak memory is this command's only."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, __file__, "--measure", json.dumps(command)],
                         capture_output=True, text=True, check=True, env=env)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "load": load}


def sem_kit_command() -> list[str]:
    script = Path(sys.executable).parent / "sem-kit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sem_kit.cli"]


def repeated(command: list[str], reps: int, label: str) -> dict:
    runs = [run_fresh(command) for _ in range(reps)]
    summary = {"command": label, "runs": runs,
               "seconds": statistics.median(r["seconds"] for r in runs),
               "peak_mb": statistics.median(r["peak_mb"] for r in runs)}
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"  {label}: {summary['seconds']:.2f} s, {summary['peak_mb']:.0f} MiB (runs: {each})",
          flush=True)
    return summary


def data_file(folder: Path, n: int, seed: int) -> tuple[Path, dict]:
    path = folder / f"responses_{n}.csv"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--make", str(n), str(seed), str(path)],
                         capture_output=True, text=True, check=True, env=env)
    return path, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--reps-large", type=int, default=1,
                        help="runs of analyze at the largest N (default 1: it takes minutes)")
    parser.add_argument("--validate-n", type=int, default=VALIDATE_N)
    parser.add_argument("--analyze-n", type=int, nargs="*", default=list(ANALYZE_N))
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "results" / "issue14" / "ingest_scale.json")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return
    if args.make:
        print(json.dumps(make_data(int(args.make[0]), int(args.make[1]), Path(args.make[2]))))
        return

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    results: dict = {"machine": {"nproc": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version(), "commit": commit},
                     "data": {}, "pandas_read_csv": {}, "validate": {}, "analyze": {}}
    sem_kit = sem_kit_command()
    with tempfile.TemporaryDirectory(prefix="ingest_scale_") as tmp:
        folder = Path(tmp)
        path, info = data_file(folder, args.validate_n, args.seed)
        results["data"][args.validate_n] = info
        print(f"N = {args.validate_n:,}: {info['bytes'] / 1e6:.1f} MB", flush=True)
        pandas_cmd = [sys.executable, "-c", f"import pandas; pandas.read_csv({str(path)!r})"]
        results["pandas_read_csv"][args.validate_n] = repeated(
            pandas_cmd, args.reps, "python -c 'import pandas; pandas.read_csv(F)'")
        results["validate"][args.validate_n] = repeated(
            [*sem_kit, "validate", str(path)], args.reps, "sem-kit validate F")
        path.unlink()
        for n in args.analyze_n:
            path, info = data_file(folder, n, args.seed)
            results["data"][n] = info
            print(f"N = {n:,}: {info['bytes'] / 1e6:.1f} MB", flush=True)
            outdir = folder / "out"
            reps = args.reps_large if n == max(args.analyze_n) and n > min(args.analyze_n) \
                else args.reps
            results["analyze"][n] = repeated(
                [*sem_kit, "analyze", str(path), "--bootstrap", "0", "-o", str(outdir)],
                reps, f"sem-kit analyze F --bootstrap 0 (N = {n:,})")
            shutil.rmtree(outdir, ignore_errors=True)
            path.unlink()

    floor = results["pandas_read_csv"][args.validate_n]
    check = results["validate"][args.validate_n]
    print()
    print("| command | N | seconds | peak MiB | / pandas.read_csv |")
    print("|---|---|---|---|---|")
    print(f"| pandas.read_csv | {args.validate_n:,} | {floor['seconds']:.2f} | "
          f"{floor['peak_mb']:.0f} | 1.0x |")
    print(f"| sem-kit validate | {args.validate_n:,} | {check['seconds']:.2f} | "
          f"{check['peak_mb']:.0f} | {check['seconds'] / floor['seconds']:.1f}x |")
    for n, r in results["analyze"].items():
        print(f"| sem-kit analyze --bootstrap 0 | {n:,} | {r['seconds']:.2f} | "
              f"{r['peak_mb']:.0f} | |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
