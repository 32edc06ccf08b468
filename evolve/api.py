"""The Python API: evolve anything for which you can write a fitness function."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from evolve.executors import make_executor
from evolve.progress import Progress
from evolve.run import Outcome, Record, Runner
from evolve.store import RunDir, RunDirError, write_atomic
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
    executor: Executor | None = None,
    budget: int = 0,
    ordered: bool = False,
    target: float | None = None,
    out: str | Path | None = None,
    checkpoint_every: float = 1.0,
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
    found. ``out`` makes the run resumable: that folder keeps ``settings.json``,
    ``history.jsonl`` (every evaluation, as it finishes) and ``checkpoint.json`` (at most every
    ``checkpoint_every`` seconds, and at the end; see ``resume``). ``executor`` runs the
    evaluations on any ``concurrent.futures`` executor of yours instead of ``backend``'s (for
    instance a ``ThreadPoolExecutor`` for a fitness that waits on a remote service); ``workers``
    still says how many evaluations are in flight at once.
    """
    if not isinstance(space, SearchSpace):
        space = SearchSpace.from_config(space)
    settings = {
        "strategy": strategy,
        "direction": direction,
        "objective": objective,
        "seed": seed,
        "budget": budget,
        "ordered": ordered,
        "target": target,
        "search": search,
        "genes": space.to_config(),
    }
    run = RunDir(out) if out is not None else None
    if run is not None:
        run.create()
        run.lock()
        write_atomic(run.path / "settings.json", json.dumps(settings, indent=2))
    return _execute(
        space, fitness, settings, run, workers, backend, address, progress, on_record,
        checkpoint_every=checkpoint_every, executor=executor,
    )  # fmt: skip


def resume(
    out: str | Path,
    fitness: Callable[..., Any],
    *,
    generations: int = 0,
    space: SearchSpace | None = None,
    workers: int = 1,
    backend: str | None = None,
    address: str = "",
    executor: Executor | None = None,
    checkpoint_every: float = 1.0,
    progress: bool = False,
    on_record: Callable[[Record], None] | None = None,
) -> Outcome:
    """Continue a run that ``optimize(out=...)`` started, after a crash, a kill or its end.

    Finished evaluations are read back from the journal and never trained again; those in
    flight when the run stopped are run again. ``generations`` extends the run by that many
    generations. Pass ``space`` when it has a canonical rule (the settings keep its genes only).
    """
    run = RunDir(out)
    settings_file = run.path / "settings.json"
    if not settings_file.exists():
        raise RunDirError(f"{run.path} holds no run started by evolve.optimize (no settings.json)")
    run.lock()
    settings = json.loads(settings_file.read_text())
    space = space or SearchSpace.from_config(settings["genes"])
    return _execute(
        space, fitness, settings, run, workers, backend, address, progress, on_record,
        resuming=True, generations=generations, checkpoint_every=checkpoint_every,
        executor=executor,
    )  # fmt: skip


def _execute(
    space: SearchSpace,
    fitness: Callable[..., Any],
    settings: dict[str, Any],
    run: RunDir | None,
    workers: int,
    backend: str | None,
    address: str,
    progress: bool,
    on_record: Callable[[Record], None] | None,
    resuming: bool = False,
    generations: int = 0,
    checkpoint_every: float = 1.0,
    executor: Executor | None = None,
) -> Outcome:
    direction = settings["direction"]
    proposer = make_strategy(
        settings["strategy"], space, direction, settings["seed"], budget=settings["budget"],
        **settings["search"],
    )  # fmt: skip
    worker_settings = WorkerSettings(
        log_path=str(run.workers_log) if run is not None else None,
        preload_keras=isinstance(fitness, KerasProblem),
    )
    kind = backend or ("inline" if workers <= 1 else "loky")

    def fresh() -> Executor:
        return make_executor(kind, workers, address, worker_settings)

    own = executor is None  # a user's executor is theirs to mend: no renewal after a death
    executor = fresh() if own else executor

    bar = Progress(settings["budget"] or proposer.expected(), enabled=progress, direction=direction)

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
        seed=settings["seed"],
        objective=settings["objective"],
        budget=settings["budget"],
        ordered=settings["ordered"],
        target=settings["target"],
        renew=fresh if own else None,
        checkpoint_every=checkpoint_every,
        on_record=record,
        on_replay=bar.update,
        on_checkpoint=run.write_checkpoint if run is not None else None,
    )
    try:
        if resuming and run is not None:
            restore(runner, run, generations, bar.write)
        return runner.run()
    finally:
        bar.close()
        if run is not None:
            run.close()


def restore(runner: Runner, run: RunDir, generations: int, say: Callable[[str], None]) -> None:
    """Load a run's checkpoint and journal into ``runner``, saying what was dropped."""
    state, notes = run.read_checkpoint()
    journal, dropped = run.read_history()
    if state is None and run.checkpoint.exists():
        notes.append("no usable checkpoint: rebuilding the run from history.jsonl")
    for note in notes + dropped:
        say(f"resume: {note}")
    runner.restore(state, journal)
    if generations:
        runner.strategy.extend(generations)
    say(
        f"resume: {len(journal)} finished evaluations kept, "
        f"{len(runner.pending)} in flight at the interruption to run again"
    )
