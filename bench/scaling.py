"""Benchmark: the engine with many workers, its own cost per evaluation, and resume time.

1. **A simulated cluster.** Each evaluation sleeps for a time drawn from a lognormal
   distribution (by default fitted to the training times of the tabular benchmark,
   ``bench/data/*.csv``, scaled to a median of ``--median`` seconds), in a thread pool of 8, 32
   and 128 workers, through ``evolve.optimize`` with a run directory (journal and checkpoints
   included). Reports wall time and worker utilisation (time spent sleeping over workers x
   wall time) for the generational GA (population = workers) and the steady-state GA (aging).
2. **Bookkeeping per evaluation**: a toy fitness run inline (no workers, no training), a GA
   of population 100 over 1,000 and 10,000 evaluations, with journal and checkpoints: the
   whole loop's time per evaluation minus the fitness, and its parts (ask, tell, journal,
   checkpoint) in microseconds.
3. **Resume**: the time ``evolve.resume`` takes to load those runs (checkpoint + journal).

    python bench/scaling.py [--workers 8 32 128] [--rounds 8] [--median 0.5]
"""

from __future__ import annotations

import argparse
import csv
import math
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

import evolve
from evolve.rundir.store import RunDir
from evolve.search.ga import GeneticAlgorithm

DATA = Path(__file__).resolve().parent / "data"
SPACE = {f"g{i}": {"type": "int", "min": 0, "max": 9} for i in range(6)}
"""A million configurations: large enough that no run here exhausts it."""
PARTS = ("ask", "tell", "journal", "checkpoint")


def toy(genes: dict[str, int]) -> float:
    return -float(sum((v - 7) ** 2 for v in genes.values()))


def training_time_sigma(default: float = 0.6) -> float:
    """The spread (std of log seconds) of real training times in the tabular benchmark."""
    seconds = []
    for table in DATA.glob("*.csv"):
        with open(table, newline="") as handle:
            seconds += [float(r["fit_seconds"]) for r in csv.DictReader(handle) if r["fit_seconds"]]
    positive = [s for s in seconds if s > 0]
    return float(np.std(np.log(positive))) if len(positive) > 10 else default


def sleeper(median: float, sigma: float) -> Callable[..., dict[str, float]]:
    def fitness(genes: dict[str, int], seed: int) -> dict[str, float]:
        slept = float(np.random.default_rng(seed).lognormal(math.log(median), sigma))
        time.sleep(slept)
        return {"fitness": toy(genes), "slept": slept}

    return fitness


def simulate(workers: int, rounds: int, replacement: str, median: float, sigma: float) -> dict:
    """One run of ``workers x rounds`` evaluations on ``workers`` threads."""
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        began = time.time()
        started = time.perf_counter()
        outcome = evolve.optimize(
            SPACE, sleeper(median, sigma), workers=workers, executor=pool, seed=1,
            population=workers, generations=10**6, replacement=replacement,
            budget=workers * rounds, out=Path(tmp) / "run",
        )  # fmt: skip
        wall = time.perf_counter() - started
    spans = [(r["started"], r["metrics"]["slept"]) for r in outcome.records if r["status"] == "ok"]
    busy = sum(slept for _, slept in spans)
    last = max(start for start, _ in spans)
    before_last = sum(
        max(0.0, min(start + slept, last) - max(start, began)) for start, slept in spans
    )
    return {
        "evaluations": len(outcome.records),
        "wall": wall,
        "ideal": busy / workers,
        "utilisation": busy / (workers * wall),
        "steady": before_last / (workers * (last - began)),
    }


class Stopwatch:
    """Wraps methods to add up the time spent in them, by label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._undo: list[tuple[type, str, Any]] = []

    def wrap(self, owner: type, name: str, label: str) -> None:
        original = getattr(owner, name)
        seconds = self.seconds

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - start

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


def bookkeeping(evaluations: int, folder: Path) -> dict[str, float]:
    """Microseconds per evaluation of a GA run of ``evaluations`` toy evaluations, and the time
    to resume it."""
    watch = Stopwatch()
    watch.wrap(GeneticAlgorithm, "ask", "ask")
    watch.wrap(GeneticAlgorithm, "tell", "tell")
    watch.wrap(RunDir, "append", "journal")
    watch.wrap(RunDir, "write_checkpoint", "checkpoint")
    spent = [0.0]

    def fitness(genes: dict[str, int]) -> float:
        start = time.perf_counter()
        value = toy(genes)
        spent[0] += time.perf_counter() - start
        return value

    out = folder / f"run{evaluations}"
    try:
        started = time.perf_counter()
        outcome = evolve.optimize(
            SPACE, fitness, seed=3, population=100, generations=10**6, budget=evaluations,
            out=out,
        )  # fmt: skip
        wall = time.perf_counter() - started
    finally:
        watch.restore()
    count = len(outcome.records)
    per = {k: v / count * 1e6 for k, v in watch.seconds.items()}
    per["total"] = (wall - spent[0]) / count * 1e6
    started = time.perf_counter()
    evolve.resume(out, fitness)
    per["resume_s"] = time.perf_counter() - started
    per["evaluations"] = count
    per["checkpoint_kb"] = (out / "checkpoint.json").stat().st_size / 1024
    return per


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--rounds", type=int, default=16, help="evaluations per worker")
    parser.add_argument("--median", type=float, default=0.5, help="median seconds per training")
    parser.add_argument("--sigma", type=float, default=0.0, help="0: fit to the table")
    parser.add_argument("--evaluations", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    sigma = args.sigma or training_time_sigma()
    print(
        f"simulated trainings: lognormal, median {args.median} s, sigma {sigma:.2f} "
        f"(max/median of 128 draws ~ {math.exp(2.4 * sigma):.1f}x); {args.rounds} evaluations "
        "per worker; threads; journal and checkpoints on"
    )
    print(
        "| workers | GA | evaluations | wall s | ideal s | utilisation, whole run | "
        "utilisation until the last hand-out |"
    )
    print("|---|---|---|---|---|---|---|")
    for workers in args.workers:
        for replacement, label in (("generational", "generational"), ("oldest", "steady-state")):
            r = simulate(workers, args.rounds, replacement, args.median, sigma)
            print(
                f"| {workers} | {label} | {r['evaluations']} | {r['wall']:.1f} | "
                f"{r['ideal']:.1f} | {r['utilisation']:.1%} | {r['steady']:.1%} |",
                flush=True,
            )
    print()
    print("bookkeeping, toy fitness inline, GA population 100, journal + checkpoints (1 s)")
    print("| evaluations | µs/eval | ask | tell | journal | checkpoint | resume s | ckpt KB |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for evaluations in args.evaluations:
            b = bookkeeping(evaluations, Path(tmp))
            parts = " | ".join(f"{b.get(k, 0.0):.0f}" for k in PARTS)
            print(
                f"| {b['evaluations']} | {b['total']:.0f} | {parts} | {b['resume_s']:.2f} | "
                f"{b['checkpoint_kb']:.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
