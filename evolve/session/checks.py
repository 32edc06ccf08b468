"""The session's helpers that read only the config: the schedulers around a strategy, the
warnings and checks before a run, where files of a run without a run directory go."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from evolve.rundir.store import RunDir
from evolve.search.base import Strategy
from evolve.search.schedulers import (
    FinalPick,
    MedianStopping,
    SuccessiveHalving,
    final_plan,
    rung_epochs,
)
from evolve.settings import config as configuration
from evolve.settings.config import Config


def schedule(strategy: Strategy, cfg: Config, saved: dict[str, Any] | None = None) -> Strategy:
    """``strategy`` under the run's schedulers, as ``[search]`` sets them: the multi-fidelity
    schedule (``SuccessiveHalving``) or the median rule (``MedianStopping``), then the final
    pick (``FinalPick``); ``saved``, a resumed run's checkpoint, keeps the final pick it was
    started with."""
    s = cfg.search
    top_epochs, top_rung = 0, 0
    if s.fidelity:
        rungs = rung_epochs(s.min_epochs, configuration.max_epochs(cfg), s.eta)
        strategy = SuccessiveHalving(strategy, rungs, s.eta)
        top_epochs, top_rung = rungs[-1], len(rungs) - 1
    if s.pruning:
        strategy = MedianStopping(strategy, s.objective)
    kept = (saved or {}).get("strategy", {})
    if kept.get("name") == "final_pick":
        top, repeats = kept["top"], kept["repeats"]
    else:
        requested = s.final_reevaluations
        if requested < 0 and not cfg.run.keras:
            requested = 0  # automatic: for the training noise of Keras runs only
        top, repeats = final_plan(requested, s.final_top, s.budget or strategy.expected())
        if saved is not None and requested < 0:
            top = repeats = 0  # a run started without a final pick resumes without one
    if top and repeats:
        strategy = FinalPick(
            strategy, top, repeats, epochs=top_epochs, rung=top_rung, budget=s.budget
        )
    return strategy


def schedule_notes(strategy: Strategy, cfg: Config) -> list[str]:
    """Warnings about a multi-fidelity schedule the run cannot fill: too few genomes for any
    to reach the top rung (each promotion takes ``eta`` results at the rung below)."""
    s = cfg.search
    asha: Any = strategy
    while not isinstance(asha, SuccessiveHalving):  # under the final pick, if any
        asha = getattr(asha, "base", None)
        if asha is None:
            return []
    rungs = asha.epochs
    genomes = s.budget or asha.base.expected()
    needed = s.eta ** (len(rungs) - 1)
    if genomes is None or genomes >= needed:
        return []
    return [
        f"search.eta = {s.eta} with rungs of {', '.join(map(str, rungs))} epochs takes {needed} "
        f"first-rung genomes before one reaches {rungs[-1]} epochs; this run proposes about "
        f"{genomes}: raise population or generations, or lower eta"
    ]


def limit_notes(cfg: Config) -> list[str]:
    """Warnings about worker limits the run's backend does not apply (they are loky's: a
    cluster applies its own, as dask's ``--memory-limit``)."""
    r, fresh = cfg.run, type(cfg.run)()
    if r.backend == "loky":
        return []
    return [
        f"run.{key} = {getattr(r, key)} applies to loky workers only; the {r.backend} "
        "backend does not apply it (a dask cluster has its own --memory-limit)"
        for key in ("max_evals_per_worker", "max_worker_rss_mb")
        if getattr(r, key) != getattr(fresh, key)
    ]


def check_tensorboard(cfg: Config, run: RunDir | None) -> None:
    """``ConfigError`` (one line) when ``run.tensorboard`` cannot work: the package missing, a
    fitness function of yours (it trains its own way), or no run directory to log into."""
    from evolve.training.tensorboard_log import TensorBoardMissing, check

    if not cfg.run.keras:
        raise configuration.ConfigError(
            "run.tensorboard = true logs the Keras trainings of a model family; the fitness "
            f"{cfg.run.fitness} trains its own way, so log from it (or drop run.tensorboard)"
        )
    if run is None:
        raise configuration.ConfigError(
            "run.tensorboard = true needs a run directory to log into: give out= (or --out)"
        )
    try:
        check()
    except TensorBoardMissing as exc:
        raise configuration.ConfigError(str(exc)) from None


def slot_folder(slots: tuple[str, ...]) -> str | None:
    """Where the workers of a run without a run directory lock their GPU slots: a temporary
    folder, removed when this process exits (the pool lives until then); none without GPUs."""
    if not slots:
        return None
    folder = tempfile.mkdtemp(prefix="evolve-gpus-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def absolute_dataset(dataset: str) -> str:
    """A dataset path that exists relative to this folder, made absolute so the run resumes
    and is inspected from anywhere; a name (digits, breast_cancer...) as it is."""
    from evolve.data import KERAS_DATASETS, SKLEARN_DATASETS

    if not dataset.strip() or dataset in ("digits", *KERAS_DATASETS, *SKLEARN_DATASETS):
        return dataset  # an empty name is refused by the data's check, never taken as "."
    path = Path(dataset).expanduser()
    return str(path.resolve()) if not path.is_absolute() and path.exists() else dataset
