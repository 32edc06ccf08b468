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
import csv
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from make_table import trained

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
    out = RUNS / f"curves-e8-s{seed}"
    if len(trained(out)) >= size:
        print(f"seed {seed}: {out} already holds the whole grid")
        return out
    if (out / "history.jsonl").exists():
        command = ["resume", str(out), "--quiet"]
    else:
        command = [
            "run", "--config", str(CONFIG), "--seed", str(seed), "--workers", str(workers),
            "--out", str(out), "--quiet",
        ]  # fmt: skip
    print(f"seed {seed}: run_evolution.py {' '.join(command)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *command], check=True)
    return out


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
        ends = [r["started"] + r["seconds"] for r in records]
        hours += (max(ends) - min(r["started"] for r in records)) / 3600
    DATA.mkdir(parents=True, exist_ok=True)
    with open(DATA / f"{NAME}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    about = {
        "made": time.strftime("%Y-%m-%d"),
        "command": f"python bench/make_curves.py --seeds {' '.join(map(str, args.seeds))} "
        f"--workers {args.workers}",
        "config": "bench/curves.toml (grid strategy, 8 epochs, no early stopping)",
        "dataset": "digits (scikit-learn); validation accuracy after every epoch",
        "epochs": 8,
        "seeds": args.seeds,
        "configurations": size,
        "rows": len(table),
        "failed": sum(row["status"] != "ok" for row in table),
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{args.workers} workers, Python {platform.python_version()}",
        "search_hours": round(hours, 2),
    }
    (DATA / f"{NAME}.json").write_text(json.dumps(about, indent=2) + "\n")
    print(f"wrote {DATA / NAME}.csv: {len(table)} rows, {size} configurations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
