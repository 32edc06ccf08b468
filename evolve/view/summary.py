"""How a run ended, written to its directory: ``best/genome.json`` and ``summary.json``."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from evolve.engine.ranking import seed_spread
from evolve.engine.records import Outcome
from evolve.rundir.store import RunDir
from evolve.view.inspection import lineage

FINAL_LEAST = 600.0
"""Seconds the final report's steps may take at least (see ``final_bound``)."""


def final_bound(outcome: Outcome) -> float:
    """How long the final test evaluation may take: 4 times the run's longest training, and
    at least ``FINAL_LEAST`` seconds (it evaluates one model that the run trained)."""
    longest = max((r.seconds or 0.0 for r in outcome.records), default=0.0)
    return max(FINAL_LEAST, 4 * longest)


def write_outcome(
    run: RunDir,
    outcome: Outcome,
    problem: Any,
    final_epochs: int,
    renew: Callable[[], Executor],
    stop: Callable[[Executor], Any] | None = None,
) -> None:
    """The best genome with its lineage (and, for a Keras ``problem``, the final test report,
    stored in ``outcome.test``, each step waited for at most ``final_bound`` seconds) and the
    run's counts and stop reason."""
    best = outcome.best
    summary: dict[str, Any] = {
        "stop_reason": outcome.stop_reason,
        "evaluations": len(outcome.records),
        "trained": outcome.trained,
        "cached": outcome.cached,
        "failed": outcome.failed,
        "best": None,
    }
    if best is not None:
        spread = seed_spread(outcome.records, best.id)
        seeds = {"seeds": spread} if spread.get("seeds", 0) > 1 or spread.get("failed") else {}
        if problem is not None:
            from evolve.training.report import final_report

            model = run.best_model
            outcome.test = final_report(
                best, problem, model, final_epochs, renew, final_bound(outcome), stop
            )
        keys = ("id", "generation", "fitness", "origin", "parents")
        line = [{k: r.get(k) for k in keys} for r in lineage(outcome.records, best.id)]
        run.write_best(best, {**seeds, **outcome.test, "lineage": line})
        summary["best"] = {
            "id": best.id, "genes": best.genes, "fitness": best.fitness, **seeds, **outcome.test
        }  # fmt: skip
    run.write_summary(summary)
