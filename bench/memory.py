"""Benchmark: a long run's worker memory stays bounded.

Runs N evaluations (default 200) of 1 epoch on digits with 2 workers and a resident-memory
limit per worker, then reports the largest RSS any evaluation saw, how many worker processes
the run used (each replacement is a recycle), and that every evaluation was recorded.

    python bench/memory.py [--evaluations 200] [--limit-mb 1000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=200)
    parser.add_argument("--limit-mb", type=int, default=1000)
    args = parser.parse_args()
    config = tomllib.loads((ROOT / "configs" / "default.toml").read_text())
    config["run"].update(max_worker_rss_mb=args.limit_mb, workers=2)
    config["search"].update(strategy="random", budget=args.evaluations)
    config["training"].update(epochs=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.toml"
        path.write_text(tomli_w.dumps(config))
        out = Path(tmp) / "run"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "run_evolution.py"),
                "run",
                "--config",
                str(path),
                "--quiet",
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - started
        records = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    pids: dict[int, list[float]] = {}
    for r in sorted(records, key=lambda r: r["time"]):
        pids.setdefault(r["pid"], []).append(r["rss_mb"])
    print(
        f"{len(records)} evaluations recorded of {args.evaluations}, 2 workers, "
        f"limit {args.limit_mb} MB, {wall:.0f} s"
    )
    print(f"largest RSS seen after an evaluation: {max(r['rss_mb'] for r in records):.0f} MB")
    print(f"worker processes used: {len(pids)} ({len(pids) - 2} recycles)")
    for pid, rss in pids.items():
        print(f"  pid {pid}: {len(rss)} evaluations, RSS {rss[0]:.0f} -> {rss[-1]:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
