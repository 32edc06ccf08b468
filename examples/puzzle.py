"""The lesson's puzzle: evolve the last piece of a jigsaw so that it fits its hole.

A piece is a chromosome of 4 genes, one per side: the size of its tip, positive for a tab that
sticks out, negative for a hole cut into the piece. The hole in the puzzle has its own sides;
a piece fits where each of its tips fills the hole's side exactly (tip = -side). Fitness is how
well it fits: 0 is a perfect fit, each unit of mismatch costs 1.

    python examples/puzzle.py [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import evolve

HOLE = {"north": 3, "east": -2, "south": 4, "west": -1}
SIDES = {side: {"type": "int", "min": -5, "max": 5} for side in HOLE}  # 11^4 = 14,641 pieces


def fit(piece: dict[str, int]) -> float:
    """0 for a perfect fit; minus the total mismatch otherwise."""
    mismatch = sum(abs(piece[side] + HOLE[side]) for side in HOLE)
    return float(-mismatch) if mismatch else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    outcome = evolve.optimize(
        SIDES,
        fit,
        population=10,  # the lesson's 10 pieces of cardboard
        generations=200,
        selection="sus",
        crossover="single_point",
        mutation="uniform",
        elitism=1,
        seed=args.seed,
        target=0.0,  # until a piece fits exactly
    )
    best = outcome.best
    print(f"hole:       {HOLE}")
    print(f"best piece: {best['genes']}  (fitness {best['fitness']:g})")
    print(
        f"{outcome.trained} pieces tried of 14,641 possible, generation {best['generation']}, "
        f"{time.perf_counter() - started:.2f} s; stopped: {outcome.stop_reason}"
    )
    return 0 if best["fitness"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
