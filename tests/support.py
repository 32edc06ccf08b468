"""Helpers shared by several test files (imported as ``from support import ...``: pytest puts
``tests/`` on ``sys.path``): a four-gene toy space and its fitness, the command line run from
the repository root, its one-line errors, and a run's journal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import evolve

SPACE = {f"x{i}": {"type": "int", "min": 0, "max": 7} for i in range(4)}


def toy(genes):
    return -float(sum((v - t) ** 2 for v, t in zip(genes.values(), (7, 2, 5, 1), strict=True)))


def cli(root, *args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, str(root / "run_evolution.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=root, env=env,
    )  # fmt: skip


def one_line_exit_2(out):
    lines = out.stderr.strip().splitlines()
    return out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ")


def history(run):
    return [json.loads(line) for line in (Path(run) / "history.jsonl").read_text().splitlines()]


def python_run(tmp_path, **settings):
    out = tmp_path / "run"
    evolve.optimize(SPACE, toy, out=out, population=6, generations=2, seed=1, **settings)
    return out
