"""The Keras side of a session: the problem that workers train, and the data it describes.

Imported in the parent, which never imports TensorFlow: only small specs are built here; a
dataset hosted by Keras is described by a worker, and a user's build function is tried once
in a worker (``probe``) before anything trains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evolve.data import KERAS_DATASETS, DatasetError, DataSpec, prepare
from evolve.execution.trial import one_line
from evolve.rundir.store import RunDir
from evolve.settings.config import Config, max_epochs, resolve_objective
from evolve.settings.fitness import SessionError
from evolve.training.problem import KerasProblem
from evolve.training.tensorboard_log import write_experiment
from genomes.families.training import TRAINING, logged
from genomes.space import SearchSpace

InWorker = Callable[..., Any]
"""``in_worker(what, fn, *args)``: ``fn(*args)`` in a worker within the run's start-up bound."""


def wire(
    cfg: Config,
    run: RunDir | None,
    space: SearchSpace,
    build: Callable[..., Any] | None,
    in_worker: InWorker,
) -> tuple[KerasProblem, dict[str, Any]]:
    """The Keras problem of a session and its data described (task, sizes, classes); the
    family checked against the data, the objective resolved and checked against what training
    logs, a user's build function tried in a worker, the label map written to ``best/``.
    ``in_worker(what, fn, *args)`` runs ``fn`` in a worker of the run, within its start-up
    bound (``Session.in_worker``). Raises ``SessionError``, ``ConfigError`` or
    ``DatasetError`` (one line) before anything trains."""
    family = cfg.family(build)
    keras_problem = problem(cfg, run, space, build)
    _check_applicable(cfg, keras_problem.data)
    data = describe(keras_problem.data, in_worker)
    if family.needs == "image" and data["kind"] != "image":
        raise SessionError(
            f"the {family.name} family needs images; {cfg.data.dataset} is a table of "
            f"{data['feature_shape'][0]} features: use [model] family = \"mlp\""
        )
    names: tuple[str, ...] | None = logged(data["task"])
    if family.name == "user":
        rng = np.random.default_rng(cfg.run.seed)
        tries = [dict(space.sample(rng).genes) for _ in range(PROBES)]
        try:
            names = tuple(probe(keras_problem, tries, in_worker))
        except ProbeError as exc:
            raise SessionError(
                f"model.family = {cfg.model.family}: building {PROBES} genomes of the space "
                f"failed, the first {tries[0]}: {exc}"
            ) from None
    resolve_objective(cfg, data["task"], names)
    if run is not None and cfg.run.tensorboard:
        write_experiment(run.tensorboard, space, names or (), cfg.search.objective)
    if run is not None and data.get("classes") is not None:
        run.write_labels(data["classes"])
    return keras_problem, data


def _check_applicable(cfg: Config, spec: DataSpec) -> None:
    """``ConfigError`` for a ``[data]`` setting that the dataset would silently ignore."""
    from pathlib import Path

    from evolve.settings.config import ConfigError
    from evolve.settings.sections import DataSection

    table = Path(spec.name).suffix.lower() in (".csv", ".parquet")
    folder = Path(spec.name).is_dir()
    d, default = cfg.data, DataSection()
    if d.target and not table:
        raise ConfigError(
            f"data.target = {d.target!r} applies to CSV and Parquet files; {d.dataset} is not one"
        )
    for key in ("image_size", "color_mode"):
        if getattr(d, key) != getattr(default, key) and not folder:
            raise ConfigError(
                f"data.{key} applies to a folder of images; {d.dataset} is not one"
            )


def problem(
    cfg: Config, run: RunDir | None, space: SearchSpace, build: Callable[..., Any] | None = None
) -> KerasProblem:
    """The picklable fitness of a Keras run: data spec, family, training settings."""
    t = cfg.training
    settings = {k: getattr(t, k) for k in TRAINING}
    return KerasProblem(
        cfg.data_spec(run.path if run is not None else None),
        epochs=max_epochs(cfg) if cfg.search.fidelity else t.epochs,
        patience=t.patience,
        training=tuple(settings.items()),
        family=cfg.model.family,
        build=build,
        per_layer=tuple(space.per_layer.items()),
        model_dir=str(run.models.resolve()) if run is not None else None,
        tensorboard_dir=(
            str(run.tensorboard.resolve())
            if run is not None and cfg.run.tensorboard else None
        ),
        timeout=cfg.run.timeout,
        threads=cfg.run.threads,
    )


def describe(spec: DataSpec, in_worker: InWorker) -> dict[str, Any]:
    """Sizes, task and classes of the prepared splits; raises ``DatasetError`` (one line) for
    unusable data.

    Files, folders and the bundled datasets are read here without TensorFlow; a Keras-hosted
    dataset needs the backend, so a worker loads it (and keeps it for the genomes it trains).
    """
    from evolve.training.report import describe_data

    if spec.name not in KERAS_DATASETS:
        return prepare(spec).describe()
    return _in_worker(in_worker, f"loading {spec.name}", describe_data, spec)


PROBES = 5
"""Genomes of the space a user's build function is tried on before the run starts."""


def probe(
    keras_problem: KerasProblem, candidates: list[dict[str, Any]], in_worker: InWorker
) -> list[str]:
    """Build, compile and evaluate on one batch the network of the first of ``candidates``
    that builds, in a worker: the metric names its training logs. ``ProbeError`` (one line)
    when none builds: the function cannot work, so it is refused before anything trains."""
    from evolve.training.report import logged_metrics

    what = f"trying the build function {keras_problem.family} on {len(candidates)} genomes"
    return _in_worker(
        in_worker, what, logged_metrics, keras_problem, candidates, error=ProbeError
    )


class ProbeError(ValueError):
    """A user's build function fails on a genome of the space; the message is one line."""


def _in_worker(
    in_worker: InWorker,
    what: str,
    fn: Callable[..., Any],
    *args: Any,
    error: Callable[[str], Exception] = lambda why: DatasetError(f"cannot load the dataset: {why}"),
) -> Any:
    """``fn(*args)`` in a worker; any failure there becomes one line: a ``DatasetError`` or
    ``SessionError`` (a worker that overran or died) as it is, anything else through
    ``error``."""
    try:
        return in_worker(what, fn, *args)
    except (DatasetError, SessionError) as exc:
        raise type(exc)(str(exc)) from None
    except Exception as exc:
        raise error(one_line(exc)) from None
