"""A run that the kill-and-resume tests start, kill and resume: python resume_driver.py
start|resume RUN_DIR. A deterministic fitness; each call is logged to $CALLS as
"<segment> <genome id>" so the test can tell which process trained what."""

from __future__ import annotations

import os
import sys
import time

import evolve

SPACE = {f"x{i}": {"type": "int", "min": 0, "max": 9} for i in range(4)}
SETTINGS = {"population": 6, "generations": 5, "seed": 3, "selection": "tournament", "elitism": 1}


def fitness(genes: dict, genome_id: str) -> float:
    with open(os.environ["CALLS"], "a") as log:
        log.write(f"{os.environ.get('SEGMENT', '0')} {genome_id}\n")
    time.sleep(0.005)
    return -float(sum((v - t) ** 2 for v, t in zip(genes.values(), (7, 2, 5, 1), strict=True)))


def fitness_at(
    genes: dict, genome_id: str, seed: int, epochs: int = 0, initial_epoch: int = 0,
    repeat: int = 0,
) -> float:
    """Multi-fidelity: a curve rising with epochs, a little noise from the seed; each call
    logged as "<segment> <id>@<epochs>#<repeat> <initial_epoch>"."""
    with open(os.environ["CALLS"], "a") as log:
        segment = os.environ.get("SEGMENT", "0")
        log.write(f"{segment} {genome_id}@{epochs}#{repeat} {initial_epoch}\n")
    time.sleep(0.005)
    quality = -float(sum((v - t) ** 2 for v, t in zip(genes.values(), (7, 2, 5, 1), strict=True)))
    return quality - 100.0 / epochs + (seed % 5) * 0.5


FIDELITY = {"fidelity": "epochs", "min_epochs": 1, "max_epochs": 9, "eta": 3,
            "final_reevaluations": 2, "final_top": 2, "replacement": "oldest"}  # fmt: skip


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    extra = {"replacement": os.environ["REPLACEMENT"]} if os.environ.get("REPLACEMENT") else {}
    if os.environ.get("STRATEGY"):
        # 18 evaluations: past the 5 random ones, the model's asks (a GP's refit is seconds)
        extra = {"strategy": os.environ["STRATEGY"], "startup_trials": 5, "generations": 3}
    every = float(os.environ.get("CHECKPOINT_EVERY", "0"))  # 0: crash points see every write
    function = fitness
    if os.environ.get("FIDELITY"):
        extra, function = FIDELITY, fitness_at
    if mode == "start":
        outcome = evolve.optimize(
            SPACE, function, out=out, checkpoint_every=every, **{**SETTINGS, **extra}
        )
    else:
        more = int(os.environ.get("MORE", "0"))
        outcome = evolve.resume(out, function, generations=more, checkpoint_every=every)
    print(outcome.best["id"], outcome.stop_reason)
