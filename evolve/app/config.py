"""The run configuration: a TOML file -> validated dataclasses, and back to TOML."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from evolve.execution import BACKENDS
from evolve.search.registry import (
    SettingError,
    coerce,
    strategies,
    strategy_class,
    strategy_settings,
    suggest,
)
from evolve.training.datasets import DataSpec
from genomes.genes import GeneError
from genomes.space import SearchSpace

DIRECTIONS = ("maximize", "minimize")
KERAS_FITNESS = "keras"
"""``run.fitness`` of a run that trains the config's Keras networks (the command line's)."""
PYTHON_FITNESS = "python"
"""``run.fitness`` of a run whose fitness was given in Python and cannot be imported."""


class ConfigError(ValueError):
    """The configuration is invalid; the message is one line that names the problem."""


@dataclass
class RunSection:
    name: str = ""
    """Folder under results/ (default: <strategy>-<dataset>-<timestamp>)."""
    seed: int = 0
    workers: int = 0
    """Parallel evaluations; 0 = automatic (one per GPU, else one per core, at most 8)."""
    backend: str = "loky"
    """loky (processes on this machine), dask, ray, or inline (in this process: custom fitness)."""
    address: str = ""
    """Scheduler address for dask or ray."""
    keep_models: int = 3
    """Trained models kept on disk: the top-k by fitness."""
    gpus: str = "auto"
    """auto (every visible GPU), none (CPU only), or GPU ids like "0,1"."""
    workers_per_gpu: int = 1
    timeout: float = 0.0
    """Seconds one evaluation may run before it is stopped and recorded as a timeout (0: none)."""
    retries_on_death: int = 1
    """Runs again, alone, of an evaluation whose worker process died."""
    retries_on_failure: int = 0
    """Runs again of an evaluation that raised (failures are usually deterministic)."""
    max_failure_share: float = 0.5
    """Stop the run when more than this share of evaluations failed (after 10)."""
    max_evals_per_worker: int = 0
    """loky: replace a worker after this many evaluations (0: never)."""
    max_worker_rss_mb: int = 3072
    """loky: replace a worker once its resident memory passes this (0: never)."""
    checkpoint_every: float = 1.0
    """Seconds between checkpoints at most (0: after every step); the journal is always current."""
    fitness: str = KERAS_FITNESS
    """keras (train the networks of [genes], [data] and [training]), "module:function" (a
    fitness given to evolve.optimize, imported again on resume), or python (given in Python
    and not importable: resume from Python)."""

    @property
    def keras(self) -> bool:
        return self.fitness == KERAS_FITNESS


@dataclass
class DataSection:
    dataset: str = "digits"
    """digits, mnist, fashion_mnist, cifar10, or a path to an .npz with x_train and y_train."""
    validation_split: float = 0.2
    test_split: float = 0.2
    """Share held out for the final report when the dataset has no test split (digits, .npz)."""
    split_seed: int = 0


@dataclass
class TrainingSection:
    epochs: int = 10
    batch_size: int = 32
    patience: int = 3
    """Early stopping on validation loss after this many epochs without improvement."""
    optimizer: str = "adam"
    final_epochs: int = 0
    """After the search, retrain the best genome on train + validation for this many epochs
    and report its test accuracy beside the validation winner's (0: off)."""


@dataclass
class SearchSection:
    strategy: str = "ga"
    """A registered strategy: ga, grid, random, tpe, ... (evolve.search)."""
    objective: str = "val_accuracy"
    direction: str = "maximize"
    population: int = 10
    generations: int = 5
    budget: int = 0
    """Most trainings in the run; 0 = the strategy's own end (GA generations, the whole grid,
    population x generations for the others)."""
    ordered: bool = False
    """Apply results in the order they were asked (exact reproducibility with several workers)."""
    target: float | None = None
    """Stop once a fitness at least this good is found (unset: never)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The strategies' own settings (selection, tournament_size, startup_trials, ...): written
    flat in the [search] table, checked against the registry of strategies."""

    def strategy_params(self) -> dict[str, Any]:
        """What ``make_strategy`` takes: the effort settings and the strategies' own."""
        effort = {"population": self.population, "generations": self.generations}
        return {**effort, "budget": self.budget, **self.options}


@dataclass
class Config:
    run: RunSection = field(default_factory=RunSection)
    data: DataSection = field(default_factory=DataSection)
    training: TrainingSection = field(default_factory=TrainingSection)
    search: SearchSection = field(default_factory=SearchSection)
    genes: dict[str, Any] = field(default_factory=dict)

    def space(self) -> SearchSpace:
        """The search space of the ``[genes]`` table; for a Keras run, checked against the CNN
        builder and with its canonical rule."""
        from genomes import cnn

        try:
            if not self.run.keras:
                return SearchSpace.from_config(self.genes)
            space = SearchSpace.from_config(self.genes, canonical=cnn.canonical)
            cnn.check_gene_names(space.names)
            cnn.check_alleles(space.genes)
        except GeneError as exc:
            raise ConfigError(str(exc)) from None
        return space

    def data_spec(self) -> DataSpec:
        """The ``[data]`` table as the small, picklable spec that workers receive."""
        d = self.data
        return DataSpec(d.dataset, d.validation_split, d.test_split, d.split_seed)

    def to_dict(self) -> dict[str, Any]:
        """The config as TOML tables: unset values left out, strategy settings flat in
        [search], and no [data] or [training] for a run with a fitness of its own."""
        data = dataclasses.asdict(self)
        search = data["search"]
        search.update(search.pop("options"))
        if search["target"] is None:
            del search["target"]
        if not self.run.keras:
            del data["data"], data["training"]
        return data

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


SECTIONS = {f.name: f for f in dataclasses.fields(Config) if f.name != "genes"}

def choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of the config's choice keys, from the registries that define them."""
    from genomes.cnn import OPTIMIZERS

    return {
        "run.backend": tuple(BACKENDS),
        "search.strategy": tuple(strategies()),
        "search.direction": DIRECTIONS,
        "training.optimizer": OPTIMIZERS,
    }


def _coerce(key: str, value: Any, like: Any) -> Any:
    try:
        return coerce(key, value, like)
    except SettingError as exc:
        raise ConfigError(str(exc)) from None


def _check(cfg: Config) -> None:
    for key, options in choices().items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value not in options:
            raise ConfigError(
                f"{key} = {value!r} is not one of: {', '.join(options)}"
                + suggest(str(value), options, listed=True)
            )
    if not cfg.run.keras and ":" not in cfg.run.fitness and cfg.run.fitness != PYTHON_FITNESS:
        raise ConfigError(
            f"run.fitness = {cfg.run.fitness!r}: use keras, module:function, or python"
        )
    try:
        strategy_class(cfg.search.strategy).validate(cfg.search.strategy_params())
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    s, d, t = cfg.search, cfg.data, cfg.training
    rules = [
        (s.population >= 2, f"search.population must be at least 2, got {s.population}"),
        (s.generations >= 1, f"search.generations must be at least 1, got {s.generations}"),
        (s.budget >= 0, f"search.budget must be 0 or more, got {s.budget}"),
        (0 < d.validation_split < 1, "data.validation_split must be between 0 and 1"),
        (0 < d.test_split < 1, "data.test_split must be between 0 and 1"),
        (t.epochs >= 1, f"training.epochs must be at least 1, got {t.epochs}"),
        (t.batch_size >= 1, "training.batch_size must be at least 1"),
        (t.patience >= 0, "training.patience must be 0 or more"),
        (t.final_epochs >= 0, "training.final_epochs must be 0 or more"),
        (cfg.run.workers >= 0, "run.workers must be 0 (automatic) or more"),
        (cfg.run.keep_models >= 1, "run.keep_models must be at least 1"),
        (cfg.run.workers_per_gpu >= 1, "run.workers_per_gpu must be at least 1"),
        (cfg.run.timeout >= 0, "run.timeout must be 0 (none) or more seconds"),
        (cfg.run.retries_on_death >= 0, "run.retries_on_death must be 0 or more"),
        (cfg.run.retries_on_failure >= 0, "run.retries_on_failure must be 0 or more"),
        (0 < cfg.run.max_failure_share <= 1, "run.max_failure_share must be in (0, 1]"),
        (cfg.run.max_evals_per_worker >= 0, "run.max_evals_per_worker must be 0 or more"),
        (cfg.run.max_worker_rss_mb >= 0, "run.max_worker_rss_mb must be 0 or more"),
        (cfg.run.checkpoint_every >= 0, "run.checkpoint_every must be 0 or more seconds"),
    ]
    for ok, message in rules:
        if not ok:
            raise ConfigError(message)


def from_dict(data: dict[str, Any]) -> Config:
    """A validated config from parsed TOML; every unknown key is an error."""
    cfg = Config()
    for section, table in data.items():
        if section == "genes":
            if not isinstance(table, dict):
                raise ConfigError("[genes] must be a table of gene declarations")
            cfg.genes = table
            continue
        if section not in SECTIONS:
            raise ConfigError(
                f"unknown section [{section}]" + suggest(section, [*SECTIONS, "genes"])
            )
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table")
        target = getattr(cfg, section)
        names = [f.name for f in dataclasses.fields(target) if f.name != "options"]
        extra = strategy_settings() if section == "search" else {}
        for key, value in table.items():
            where = f"{section}.{key}"
            if key in extra:
                try:
                    target.options[key] = extra[key].parse(value, section)
                except SettingError as exc:
                    raise ConfigError(str(exc)) from None
            elif key not in names:
                raise ConfigError(f"unknown key {where}" + suggest(key, [*names, *extra]))
            else:
                setattr(target, key, _coerce(where, value, getattr(target, key)))
    _check(cfg)
    return cfg


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read a TOML config, apply ``{"section.key": value}`` overrides, and validate."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    for key, value in (overrides or {}).items():
        section, name = key.split(".")
        data.setdefault(section, {})[name] = value
    cfg = from_dict(data)
    if not cfg.genes:
        raise ConfigError(f"{path} declares no genes: add a [genes] table")
    cfg.space()
    return cfg
