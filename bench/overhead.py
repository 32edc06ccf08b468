"""Benchmark: one fixed search on digits with 1 and 2 workers.

Reports the wall time of each, the speed-up of 2 workers over 1 (target: at least 1.8x on 2
cores), and the engine's overhead: the share of time outside the workers' fit and evaluate
(target: at most 1%). Overhead is given twice: over the whole command (process start, workers
importing TensorFlow, the final test evaluation included) and over the search itself (from the
first evaluation's start to the last one's end), which is what grows with a run's length.
Random search with a fixed budget, so both runs train exactly the same genomes.

    python bench/overhead.py [--budget 24] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(workers: int, budget: int, epochs: int, out: Path) -> dict[str, float]:
    command = [
        sys.executable,
        str(ROOT / "run_evolution.py"),
        "run",
        "--strategy",
        "random",
        "--budget",
        str(budget),
        "--epochs",
        str(epochs),
        "--seed",
        "0",
        "--workers",
        str(workers),
        "--quiet",
        "--out",
        str(out),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    fit = sum(r["metrics"]["fit_seconds"] for r in records)
    first = min(r["started"] for r in records)
    last = max(r["started"] + r["seconds"] for r in records)
    search = last - first
    return {
        "workers": workers,
        "evaluations": len(records),
        "wall": wall,
        "search": search,
        "fit": fit,
        "overhead_wall": 1 - fit / (workers * wall),
        "overhead_search": 1 - fit / (workers * search),
        "in_worker_outside_fit": sum(r["seconds"] - r["metrics"]["fit_seconds"] for r in records),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(w, args.budget, args.epochs, Path(tmp) / f"w{w}") for w in (1, 2)]
    print(f"{args.budget} evaluations of {args.epochs} epochs on digits, random search, seed 0")
    columns = (
        "workers",
        "wall s",
        "search s",
        "fit+evaluate s",
        "overhead (command)",
        "overhead (search)",
    )
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['wall']:.1f} | {r['search']:.1f} | {r['fit']:.1f} | "
            f"{r['overhead_wall']:.1%} | {r['overhead_search']:.1%} |"
        )
    one, two = rows
    print(
        f"speed-up of 2 workers over 1: {one['wall'] / two['wall']:.2f}x (whole command), "
        f"{one['search'] / two['search']:.2f}x (search)"
    )
    print(
        f"time inside workers but outside fit (model build and save), 2 workers: "
        f"{two['in_worker_outside_fit']:.1f} s of {two['fit']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
