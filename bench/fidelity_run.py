"""Benchmark: the default run with and without multi-fidelity, for real, in one script run.

Runs ``configs/default.toml`` twice through the command line (the same seed, workers and
machine, one after the other): as it is (every genome trains up to 10 epochs with early
stopping), then with ``--fidelity epochs`` (rungs of 1, 2, 4 and 10 epochs by default). Reports
the wall time of each, the epochs trained, the best genome, its validation accuracy (mean over
its seeds after the final pick) and its test accuracy.

    python bench/fidelity_run.py [--workers 2] [--eta 3]

Writes ``bench/data/fidelity_run.md``; the runs stay under ``bench/runs/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "bench" / "runs"


def run(name: str, extra: list[str], workers: int) -> dict[str, object]:
    out = RUNS / name
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, str(ROOT / "run_evolution.py"), "run", "--config",
               str(ROOT / "configs" / "default.toml"), "--out", str(out), "--quiet",
               "--workers", str(workers), *extra]  # fmt: skip
    began = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    seconds = time.perf_counter() - began
    records = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    best = json.loads((out / "best" / "genome.json").read_text())
    trained = [r for r in records if r["status"] == "ok"]
    epochs = sum(r["metrics"]["epochs"] - r["metrics"].get("initial_epoch", 0) for r in trained)
    return {
        "seconds": seconds,
        "trainings": len(trained),
        "epochs": epochs,
        "best": best["id"],
        "validation": best["fitness"],
        "mean": best.get("seeds", {}).get("mean"),
        "test": best.get("test_accuracy"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--eta", type=int, default=2)
    args = parser.parse_args()
    full = run("default-full", [], args.workers)
    print("full fidelity:", full, flush=True)
    multi = run("default-multi", ["--fidelity", "epochs", "--eta", str(args.eta)], args.workers)
    print("multi-fidelity:", multi, flush=True)
    lines = [
        "# The default run with and without multi-fidelity (measured in one script run)",
        "",
        f"`python bench/fidelity_run.py --workers {args.workers} --eta {args.eta}` on "
        f"{os.cpu_count()} CPU cores ({platform.machine()}), {time.strftime('%Y-%m-%d')}.",
        "",
        "| run | wall time (s) | trainings | epochs trained | best | validation (mean over "
        "seeds) | test accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, row in (("configs/default.toml", full), ("... with --fidelity epochs", multi)):
        mean = f" ({row['mean']:.4f})" if row["mean"] is not None else ""
        lines.append(
            f"| {label} | {row['seconds']:.0f} | {row['trainings']} | {row['epochs']} | "
            f"{row['best']} | {row['validation']:.4f}{mean} | {row['test']:.4f} |"
        )
    ratio = multi["seconds"] / full["seconds"]
    gap = 100 * (multi["test"] - full["test"])
    lines += ["", f"Wall time ratio {ratio:.2f}; test accuracy difference {gap:+.2f} points."]
    (ROOT / "bench" / "data" / "fidelity_run.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
