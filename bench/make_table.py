"""Build the tabular benchmark: every configuration of the lesson's grid, trained for real.

Runs the engine's own grid strategy (``configs/lesson_grid.toml``: 288 configurations, two
conv layers, no skip connections) on digits once per seed, through the command line and its
worker pool, then writes one CSV row per (configuration, seed) to ``bench/data/``, with a
JSON file saying how the table was made. Each seed is a separate, resumable run under
``bench/runs/`` (not committed): rerunning this script after an interruption resumes it
instead of training again.

    python bench/make_table.py [--seeds 0 1] [--epochs 1] [--workers 2]

``bench/search_efficiency.py`` reads the table: its fitness returns one seed's validation
accuracy at random, so the noise of real training stays in the benchmark.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RUNS = ROOT / "bench" / "runs"
CONFIG = ROOT / "configs" / "lesson_grid.toml"
GENES = ("dropout", "learning_rate", "filters", "kernel_size")
GRID_SIZE = 288


def run_grid(seed: int, epochs: int, workers: int) -> Path:
    """Train the whole grid with ``seed`` (resuming an interrupted run); return its folder."""
    out = RUNS / f"lesson-grid-e{epochs}-s{seed}"
    start = ["--config", str(CONFIG), "--strategy", "grid", "--epochs", str(epochs)]
    return train_grid(out, GRID_SIZE, seed, workers, start)


def train_grid(out: Path, size: int, seed: int, workers: int, start: list[str]) -> Path:
    """Run ``run_evolution.py run START...`` into ``out`` until its history holds ``size``
    trainings, resuming a run that was interrupted; return ``out``."""
    if len(trained(out)) >= size:
        print(f"seed {seed}: {out} already holds the whole grid")
        return out
    if (out / "history.jsonl").exists():
        command = ["resume", str(out), "--quiet"]
    else:
        command = ["run", *start, "--seed", str(seed), "--workers", str(workers),
                   "--out", str(out), "--quiet"]  # fmt: skip
    print(f"seed {seed}: run_evolution.py {' '.join(command)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *command], check=True)
    return out


def search_hours(records: list[dict[str, object]]) -> float:
    """Wall hours from a run's first training started to its last one finished."""
    ends = [r["started"] + r["seconds"] for r in records]  # type: ignore[operator]
    return (max(ends) - min(r["started"] for r in records)) / 3600  # type: ignore[type-var]


def write_table(
    name: str, table: list[dict[str, object]], workers: int, hours: float, about: dict
) -> None:
    """``bench/data/<name>.csv`` (one row per training) and ``<name>.json``: how it was made
    (``about``, then the rows, failures, machine and search hours)."""
    DATA.mkdir(parents=True, exist_ok=True)
    with open(DATA / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    made = {
        "made": time.strftime("%Y-%m-%d"),
        **about,
        "rows": len(table),
        "failed": sum(row["status"] != "ok" for row in table),
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{workers} workers, Python {platform.python_version()}",
        "search_hours": round(hours, 2),
    }
    (DATA / f"{name}.json").write_text(json.dumps(made, indent=2) + "\n")
    print(f"wrote {DATA / name}.csv: {len(table)} rows, {about['configurations']} configurations")


def trained(run: Path) -> list[dict[str, object]]:
    """The records of ``run``'s trainings (cached answers left out)."""
    if not (run / "history.jsonl").exists():
        return []
    records = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    return [r for r in records if r["status"] != "cached"]


def rows(records: list[dict[str, object]], seed: int) -> list[dict[str, object]]:
    """One table row per training record."""
    found = []
    for record in records:
        metrics = record["metrics"]
        found.append(
            {
                **{gene: record["genes"][gene] for gene in GENES},
                "seed": seed,
                "status": record["status"],
                "val_accuracy": record["fitness"],
                "fit_seconds": round(metrics.get("fit_seconds", float("nan")), 3),
                "epochs_run": metrics.get("epochs", ""),
            }
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table, hours = [], 0.0
    for seed in args.seeds:
        records = trained(run_grid(seed, args.epochs, args.workers))
        table += rows(records, seed)
        hours += search_hours(records)
    configurations = {tuple(row[g] for g in GENES) for row in table}
    about = {
        "command": f"python bench/make_table.py --seeds {' '.join(map(str, args.seeds))} "
        f"--epochs {args.epochs} --workers {args.workers}",
        "config": "configs/lesson_grid.toml (grid strategy; 2 conv layers, no residual)",
        "dataset": "digits (scikit-learn); the table holds validation accuracy only",
        "epochs": args.epochs,
        "seeds": args.seeds,
        "configurations": len(configurations),
    }
    write_table(f"lesson_grid_digits_e{args.epochs}", table, args.workers, hours, about)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
