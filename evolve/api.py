"""The Python API: evolve anything for which you can write a fitness function.

``optimize`` and ``resume`` check every keyword as strictly as the config file is checked (they
build the same ``Config``), then go through the same session as the command line, so a run
started here can be inspected, exported and resumed from the command line, and the other way
round.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from evolve import session
from evolve.engine.observers import check_observers
from evolve.engine.records import Outcome, Record
from evolve.search.registry import strategy_settings, suggest
from evolve.settings import config as configuration
from evolve.settings.bounds import SETTINGS
from evolve.settings.config import ConfigError
from genomes.genes import GeneError
from genomes.space import SearchSpace

RUN_KEYS = tuple(
    key.split(".")[1] for key, s in SETTINGS.items() if key.startswith("run.") and s.keyword
)
"""``[run]`` settings that ``optimize`` also takes as keywords (``Setting.keyword``)."""


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
    observers: Sequence[Any] = (),
    **settings: Any,
) -> Outcome:
    """Search ``space`` for the genes that maximise (or minimise) ``fitness``.

    ``fitness(genes)`` takes a dict of alleles and returns a number, or a dict of metrics of
    which ``objective`` is the fitness; it may also accept ``seed`` and ``genome_id`` keywords.
    ``space`` is a ``SearchSpace`` or a ``[genes]``-style dict. ``settings`` holds the
    strategy's settings (``population``, ``generations``, ``selection``, ... as in the config's
    ``[search]`` table) and the run's (``timeout``, ``retries_on_failure``, ``gpus``, ... as in
    ``[run]``). With ``workers > 1`` the fitness must be picklable (a module-level function)
    and runs in worker processes (``backend`` loky by default, or dask, ray). ``target`` stops
    once a fitness that good is found. ``out`` makes the run resumable: that folder gets the
    run directory of the command line (``config.toml``, ``history.jsonl``, checkpoints every
    ``checkpoint_every`` seconds at most, ``summary.json``, plots). ``executor`` runs the
    evaluations on a ``concurrent.futures`` executor of yours (for instance threads for a
    fitness that waits on a remote service); ``workers`` still says how many are in flight.
    ``on_record`` is called with each finished ``Record``; ``observers`` are objects with any of
    ``on_record``, ``on_replay`` and ``on_finish`` (``evolve.engine.observers.Observer``).

    Raises ``ConfigError`` (one line, with a suggestion for a misspelt name) for any invalid
    keyword before anything is evaluated.
    """
    if not isinstance(space, SearchSpace):
        space = _space(space)
    _check_callables(fitness, executor, on_record)
    run = {
        "seed": seed,
        "workers": workers,
        "address": address,
        "checkpoint_every": checkpoint_every,
        "fitness": session.fitness_path(fitness),
    }
    search: dict[str, Any] = {
        "strategy": strategy,
        "direction": direction,
        "objective": objective,
        "budget": budget,
        "ordered": ordered,
    }
    if backend is not None:
        run["backend"] = backend
    if target is not None:
        search["target"] = target
    route_settings(settings, run, search, optimize)
    cfg = configuration.from_dict({"run": run, "search": search, "genes": space.to_config()})
    if backend is None and cfg.run.workers <= 1 and executor is None:
        cfg.run.backend = "inline"
    launch = session.Launch(
        fitness, space, executor=executor, quiet=not progress, on_record=on_record,
        observers=_observers(observers),
    )  # fmt: skip
    return session.start(cfg, run_path(out), launch)


def resume(
    out: str | Path,
    fitness: Callable[..., Any] | None = None,
    *,
    build: Callable[..., Any] | None = None,
    generations: int = 0,
    space: SearchSpace | None = None,
    workers: int | None = None,
    backend: str | None = None,
    address: str | None = None,
    executor: Executor | None = None,
    checkpoint_every: float | None = None,
    retry_failed: bool = False,
    progress: bool = False,
    on_record: Callable[[Record], None] | None = None,
    observers: Sequence[Any] = (),
) -> Outcome:
    """Continue a run after a crash, a kill or its end, whatever started it.

    Finished evaluations are read back from the journal and never trained again; those in
    flight when the run stopped are run again. ``generations`` extends the run by that many
    generations. ``fitness`` may be left out when the run's can be imported again (a command-line
    run, or a module-level function); pass ``space`` when it has a canonical rule (the config
    keeps its genes only). ``workers``, ``backend``, ``address`` and ``checkpoint_every`` default
    to the run's own (its ``config.toml``). ``retry_failed`` trains again the genomes recorded
    as died or timeout (their lines move to ``history.superseded.jsonl``). ``build`` is the
    build function of a run started by ``search_keras`` with a function that cannot be
    imported (defined in a script or notebook).
    """
    if space is not None and not isinstance(space, SearchSpace):
        space = _space(space)
    _check_callables(fitness, executor, on_record, optional=True)
    if isinstance(generations, bool) or not isinstance(generations, int):
        raise ConfigError(f"generations must be an integer, got {generations!r}")
    given = {"workers": workers, "backend": backend, "address": address,
             "checkpoint_every": checkpoint_every}  # fmt: skip
    overrides = {k: v for k, v in given.items() if v is not None}
    if build is not None and not callable(build):
        raise ConfigError(
            f"build must be a function (genes, input_shape, num_outputs), got {build!r}"
        )
    launch = session.Launch(
        fitness, space, executor=executor, quiet=not progress, on_record=on_record, build=build,
        observers=_observers(observers),
    )  # fmt: skip
    where = run_path(out, required=True)
    assert where is not None
    return session.resume(where, launch, generations, overrides, retry_failed)


def route_settings(
    settings: Mapping[str, Any],
    run: dict[str, Any],
    search: dict[str, Any],
    caller: Callable[..., Any],
) -> None:
    """Put each keyword of ``settings`` in the ``[run]`` or ``[search]`` table it belongs to;
    ``ConfigError`` for an unknown one, with a suggestion among ``caller``'s own keywords and
    the settings."""
    known = {k.split(".")[1] for k, s in SETTINGS.items() if k.startswith("search.") and s.keyword}
    known |= set(strategy_settings())
    for key, value in settings.items():
        if value is None and key in ("fidelity", "pruning"):
            value = ""  # unset, as in the config file
        if key in RUN_KEYS:
            run[key] = value
        elif key in known:
            search[key] = value
        else:
            code = caller.__code__
            own = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
            names = list(dict.fromkeys([*own, *sorted(known), *RUN_KEYS]))
            raise ConfigError(
                f"{caller.__name__}() got an unknown setting '{key}'" + suggest(key, names)
            )


def run_path(out: Any, required: bool = False) -> Path | None:
    """``out`` as a path (``None`` stays ``None``); ``ConfigError`` for anything that is not a
    ``str`` or ``os.PathLike`` (``out=123`` was a raw ``TypeError``)."""
    if out is None and not required:
        return None
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
        raise ConfigError(f"out must be a folder path (str or pathlib.Path), got {out!r}")
    return Path(out)


def _check_callables(
    fitness: Any, executor: Any, on_record: Any, optional: bool = False
) -> None:
    """``ConfigError`` for a fitness or callback that cannot be called, or an executor that is
    not a ``concurrent.futures.Executor``: found before anything starts."""
    if not (callable(fitness) or (optional and fitness is None)):
        raise ConfigError(f"the fitness must be a function of the genes, got {fitness!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise ConfigError(f"executor must be a concurrent.futures.Executor, got {executor!r}")
    if on_record is not None and not callable(on_record):
        raise ConfigError(f"on_record must be a function of a record, got {on_record!r}")


def _observers(observers: Any) -> list[Any]:
    """``check_observers``, its error a ``ConfigError``."""
    try:
        return check_observers(observers)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def _space(table: Mapping[str, Any]) -> SearchSpace:
    try:
        return SearchSpace.from_config(table)
    except GeneError as exc:
        raise ConfigError(str(exc)) from None
