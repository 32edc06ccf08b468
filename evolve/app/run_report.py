"""What the command line prints when a run ends: the best genome, its scores, how the run
stopped, and where its results are."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from evolve.engine.ranking import seed_spread
from evolve.engine.records import Outcome
from evolve.rundir.store import RunDir
from evolve.settings import config as configuration
from evolve.view.inspection import space_of, unused_genes
from evolve.view.progress import genes_line, test_scores


def report(outcome: Outcome, run_dir: Path, cfg: configuration.Config) -> int:
    """Print the summary of a finished run; exit code 1 when nothing trained or it aborted."""
    run = RunDir(run_dir)
    objective = cfg.search.objective
    best = outcome.best
    if best is None:
        if not outcome.records:
            print(f"error: nothing was trained ({outcome.stop_reason})", file=sys.stderr)
            return 1
        print(
            f"no genome trained successfully ({outcome.failed} failed); see {run.history}",
            file=sys.stderr,
        )
        return 1
    test: dict[str, Any] = outcome.test
    metrics = best.metrics
    unused = unused_genes(space_of(cfg), best.genes)
    print(f"best genome {best.id} (generation {best.generation}): "
          f"{genes_line(best.genes, unused)}")  # fmt: skip
    label = "validation accuracy" if objective == "val_accuracy" else objective
    line = f"  {label} {best.fitness:.4f}"
    spread = seed_spread(outcome.records, best.id)
    if spread.get("seeds", 0) > 1:
        line += f" (mean {spread['mean']:.4f} ± {spread['std']:.4f} over {spread['seeds']} seeds)"
    if spread.get("failed"):
        line += f" ({spread['failed']} re-evaluation(s) failed)"
    if test_scores(test):
        line += f"   {test_scores(test)}"
    if "params" in metrics:
        line += f"   parameters {metrics['params']:,}"
    print(line)

    if "final" in test:
        print(
            f"  retrained on train + validation for {test['final']['epochs']} epochs: "
            f"{test_scores(test['final'])} (best/model.final.keras)"
        )
    counts = f"{outcome.trained} trained, {outcome.cached} cached, {outcome.failed} failed"
    why = outcome.stop_reason
    print(f"  {len(outcome.records)} evaluations ({counts}); "
          + (why if why.startswith("stopped") else f"stopped: {why}"))  # fmt: skip
    print(f"  results: {run.path}")
    if run.tensorboard.is_dir():
        print(f"  tensorboard --logdir {run.tensorboard}")
    if outcome.aborted:
        print(f"error: {outcome.stop_reason}", file=sys.stderr)
        return 1
    return 0
