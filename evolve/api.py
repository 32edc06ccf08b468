"""The Python API: evolve anything for which you can write a fitness function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from evolve.executors import make_executor
from evolve.progress import Progress
from evolve.run import Outcome, Record, Runner
from evolve.store import RunDir
from evolve.strategies import make_strategy
from evolve.training import KerasProblem
from evolve.worker import WorkerSettings
from genomes.space import SearchSpace


def optimize(
    space: SearchSpace | Mapping[str, Any],
    fitness: Callable[..., Any],
    *,
    strategy: str = "ga",
    direction: str = "maximize",
    objective: str = "fitness",
    seed: int = 0,
    workers: int = 1,
    backend: str | None = None,
    address: str = "",
    budget: int = 0,
    ordered: bool = False,
    target: float | None = None,
    out: str | Path | None = None,
    progress: bool = False,
    on_record: Callable[[Record], None] | None = None,
    **search: Any,
) -> Outcome:
    """Search ``space`` for the genes that maximise (or minimise) ``fitness``.

    ``fitness(genes)`` takes a dict of alleles and returns a number, or a dict of metrics of
    which ``objective`` is the fitness; it may also accept ``seed`` and ``genome_id`` keywords.
    ``space`` is a ``SearchSpace`` or a ``[genes]``-style dict. ``search`` holds the strategy's
    settings (``population``, ``generations``, ``selection``, ... as in the config's
    ``[search]`` table). With ``workers > 1`` the fitness must be picklable (a module-level
    function) and runs in worker processes. ``target`` stops once a fitness that good is
    found. ``out`` keeps ``history.jsonl`` in that folder.
    """
    if not isinstance(space, SearchSpace):
        space = SearchSpace.from_config(space)
    proposer = make_strategy(strategy, space, direction, seed, budget=budget, **search)
    run = RunDir(out) if out is not None else None
    if run is not None:
        run.create()
    settings = WorkerSettings(
        log_path=str(run.workers_log) if run is not None else None,
        preload_keras=isinstance(fitness, KerasProblem),
    )
    kind = backend or ("inline" if workers <= 1 else "loky")
    executor = make_executor(kind, workers, address, settings)
    total = budget or proposer.expected()
    bar = Progress(total, enabled=progress, direction=direction)

    def record(entry: Record) -> None:
        if run is not None:
            run.append(entry)
        bar.update(entry)
        if on_record is not None:
            on_record(entry)

    runner = Runner(
        proposer,
        fitness,
        executor,
        workers=workers,
        seed=seed,
        objective=objective,
        budget=budget,
        ordered=ordered,
        target=target,
        on_record=record,
    )
    try:
        return runner.run()
    finally:
        bar.close()
        if run is not None:
            run.close()
