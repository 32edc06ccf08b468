"""Build the learning-curve table: every configuration of ``bench/curves.toml``, trained for
real, with its validation accuracy after each of 8 epochs, for 2 seeds.

Runs the engine's own grid strategy through the command line and its worker pool (no early
stopping, so every curve is whole) once per seed, then writes one CSV row per (configuration,
seed) to ``bench/data/curves_digits_e8.csv`` (columns: the genes, ``seed``, ``status``,
``acc_1`` .. ``acc_8``) with a JSON file saying how the table was made. Each seed is a
resumable run under ``bench/runs/`` (not committed): rerunning resumes it.

    python bench/make_curves.py [--seeds 0 1] [--workers 2]

``bench/fidelity.py`` reads the table (``bench/curves.py``).
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from make_table import search_hours, train_grid, trained, write_table

from genomes.space import SearchSpace

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RUNS = ROOT / "bench" / "runs"
CONFIG = ROOT / "bench" / "curves.toml"
NAME = "curves_digits_e8"


def space() -> dict[str, dict[str, object]]:
    with open(CONFIG, "rb") as handle:
        return tomllib.load(handle)["genes"]


def run_grid(seed: int, workers: int, size: int) -> Path:
    """Train the whole grid with ``seed`` (resuming an interrupted run); return its folder."""
    return train_grid(RUNS / f"curves-e8-s{seed}", size, seed, workers, ["--config", str(CONFIG)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    genes = list(space())
    size = SearchSpace.from_config(space()).size
    table, hours = [], 0.0
    for seed in args.seeds:
        records = trained(run_grid(seed, args.workers, size))
        for record in records:
            curve = record["metrics"].get("curve", {}).get("val_accuracy", [])
            row = {g: record["genes"][g] for g in genes}
            row.update(seed=seed, status=record["status"])
            row.update({f"acc_{e + 1}": curve[e] if e < len(curve) else "" for e in range(8)})
            table.append(row)
        hours += search_hours(records)
    about = {
        "command": f"python bench/make_curves.py --seeds {' '.join(map(str, args.seeds))} "
        f"--workers {args.workers}",
        "config": "bench/curves.toml (grid strategy, 8 epochs, no early stopping)",
        "dataset": "digits (scikit-learn); validation accuracy after every epoch",
        "epochs": 8,
        "seeds": args.seeds,
        "configurations": size,
    }
    write_table(NAME, table, args.workers, hours, about)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
