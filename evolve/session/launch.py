"""Starting and resuming a run: ``start`` and ``resume``, and ``Launch``, what a session takes
besides the config."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evolve.engine.records import Outcome, Record
from evolve.rundir.mending import supersede
from evolve.rundir.store import RunDir
from evolve.search.registry import strategy_class
from evolve.session.checks import absolute_dataset
from evolve.session.wiring import Session
from evolve.settings import config as configuration
from evolve.settings.bounds import SETTINGS
from evolve.settings.config import PYTHON_BUILD, PYTHON_FITNESS, Config
from evolve.settings.fitness import SessionError, fitness_path, load_fitness, read_config
from evolve.settings.resuming import fingerprint, in_saved_order, load_saved
from genomes.families.user import code_digest
from genomes.space import SearchSpace


@dataclass
class Launch:
    """What a session takes besides the config: from the command line, only the view."""

    fitness: Callable[..., Any] | None = None
    """None: train the config's Keras networks (``run.fitness = "keras"``)."""
    space: SearchSpace | None = None
    """None: the config's ``[genes]`` (with the model family's canonical rule for a Keras
    run)."""
    executor: Executor | None = None
    """A user's own executor instead of the config's backend."""
    quiet: bool = True
    verbose: bool = False
    on_record: Callable[[Record], None] | None = None
    observers: Sequence[Any] = ()
    """Observers of yours (``evolve.engine.observers``), told after the built-in ones."""
    run_dir: Path | None = None
    """Set by the session: where the run lives (a default name may have had to change)."""
    build: Callable[..., Any] | None = None
    """A user's build function given in Python (``model.family`` is then its path)."""
    data_arrays: dict[str, Any] | None = None
    """Arrays given in Python: written to the run directory's ``data.npz`` (the dataset)."""


def start(cfg: Config, out: Path | None, launch: Launch, unique: bool = False) -> Outcome:
    """Start a new run of ``cfg``; with ``out``, in that new run directory (refused if it holds
    a run or other files; removed again if the run fails to start). ``unique``: never reuse a
    folder, add ``-2``, ``-3``... to the name instead (for default names)."""
    run = RunDir(out) if out is not None else None
    if launch.fitness is None and not cfg.run.keras:
        launch.fitness = load_fitness(cfg.run.fitness, Path(out or "."))
    session = Session(cfg, run, launch)
    if run is None:
        session.prepare()
        return session.run()
    if cfg.run.keras:
        cfg.data.dataset = absolute_dataset(cfg.data.dataset)
    run.create(unique)
    launch.run_dir = run.path
    try:
        if launch.data_arrays is not None:
            cfg.data.dataset = run.write_data(launch.data_arrays).name
        session.prepare()
        run.write_config(cfg.to_toml())
    except BaseException:
        session.workers.stop_made()  # before their log file goes: none writes into a removed run
        run.discard_if_unused()
        raise
    return session.run()


def resume(
    run_dir: Path,
    launch: Launch,
    generations: int = 0,
    overrides: dict[str, Any] | None = None,
    retry_failed: bool = False,
) -> Outcome:
    """Continue the run in ``run_dir`` (see ``Loop.restore``); ``generations`` more of them.
    ``overrides`` replace ``[run]`` settings for this part of the run (workers, backend, ...).
    ``retry_failed`` trains again the genomes recorded as died or timeout (``supersede``)."""
    run = RunDir(run_dir)
    if generations < 0:
        raise SessionError("--generations must be 0 or more")
    most = SETTINGS["search.generations"].most or 0
    if generations > most:
        raise SessionError(
            f"--generations {generations:,} is more than this engine can hold: at most {most:,}"
        )
    cfg = read_config(run)
    cfg.genes = in_saved_order(run, cfg.genes)
    if generations and not strategy_class(cfg.search.strategy).extendable:
        raise SessionError(
            f"--generations {generations}: {run.path} is a {cfg.search.strategy} search, which "
            "walks its whole space once and has no generations to add; start a new run instead"
        )
    if overrides:
        data = cfg.to_dict()
        data["run"].update(overrides)
        cfg = configuration.from_dict(data)
    given = fitness_path(launch.fitness) if launch.fitness is not None else None  # yours
    if launch.fitness is None and not cfg.run.keras:
        launch.fitness = load_fitness(cfg.run.fitness, run.path)
    if given not in (None, PYTHON_FITNESS) and cfg.run.fitness not in (given, PYTHON_FITNESS):
        raise SessionError(
            f"{run.path} evaluates {cfg.run.fitness}, not {given}: one run, one fitness"
        )
    built = fitness_path(launch.build) if launch.build is not None else None
    if built not in (None, PYTHON_BUILD) and cfg.model.family not in (built, PYTHON_BUILD):
        raise SessionError(
            f"{run.path} builds {cfg.model.family}, not {built}: one run, one build function"
        )
    saved_code = cfg.model.build_code
    if launch.build is not None and saved_code and code_digest(launch.build) != saved_code:
        raise SessionError(
            f"the build function given is not the one {run.path} started with (its code "
            "differs): one run, one build function; start a new run for the new one"
        )
    if run.config.exists():  # a models/ folder removed by hand is made again
        run.models.mkdir(parents=True, exist_ok=True)
    run.lock()
    session = Session(cfg, run, launch)
    try:
        space = session.space()
        session.saved = load_saved(run, fingerprint(cfg, space))
        if retry_failed and supersede(run, RETRIED):
            run.log("resume --retry-failed: the evaluations recorded as died or timeout were set "
                    "aside (history.superseded.jsonl) to train again")  # fmt: skip
            session.saved = load_saved(run, fingerprint(cfg, space))
        session.prepare()
        if generations:  # config.toml describes the run: its generations now
            total = cfg.search.generations + generations
            extended = dataclasses.replace(cfg.search, generations=total)
            run.write_config(dataclasses.replace(cfg, search=extended).to_toml())
    except BaseException:
        session.workers.stop_made()
        run.close()
        raise
    return session.run(resuming=True, more=generations)


RETRIED = ("died", "timeout")
"""What ``resume --retry-failed`` trains again: deaths and timeouts, which the environment may
have caused (a killed worker, a missing GPU, a busy machine); not failures, which repeat."""
