"""The run configuration: a TOML file -> validated dataclasses, and back to TOML."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

from evolve.execution import BACKENDS, gpus
from evolve.search.registry import (
    SettingError,
    coerce,
    load_strategy,
    strategies,
    strategy_class,
    strategy_settings,
    suggest,
)
from evolve.settings.bounds import BOUNDS, MOST
from evolve.settings.sections import (
    KERAS_FITNESS,
    PYTHON_BUILD,
    PYTHON_FITNESS,
    Config,
    ConfigError,
    DataSection,
    ModelSection,
    RunSection,
    SearchSection,
    TrainingSection,
)
from genomes.genes import GeneError
from genomes.space import SearchSpace

__all__ = [
    "DIRECTIONS",
    "KERAS_FITNESS",
    "PYTHON_FITNESS",
    "Config",
    "ConfigError",
    "DataSection",
    "ModelSection",
    "RunSection",
    "SearchSection",
    "TrainingSection",
    "choices",
    "default_direction",
    "from_dict",
    "load",
    "resolve_objective",
]

DIRECTIONS = ("maximize", "minimize")
SECTIONS = {f.name: f for f in dataclasses.fields(Config) if f.name != "genes"}

def choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of the config's choice keys, from the registries that define them."""
    from evolve.data import TASKS
    from genomes.families.training import OPTIMIZERS

    return {
        "run.backend": tuple(BACKENDS),
        "search.strategy": tuple(strategies()),
        "search.direction": DIRECTIONS,
        "training.optimizer": OPTIMIZERS,
        "data.task": TASKS,
        "data.color_mode": ("rgb", "grayscale"),
    }


MINIMIZED = ("loss", "error", "mae", "mse", "mape", "rmse", "msle", "hinge", "crossentropy")
"""A metric whose name holds one of these is minimised unless the config says otherwise."""


def default_direction(objective: str) -> str:
    """``minimize`` for a loss or an error (val_loss, val_mae...), else ``maximize``."""
    return "minimize" if any(w in objective.lower() for w in MINIMIZED) else "maximize"


def resolve_objective(cfg: Config, task: str, logged: tuple[str, ...] | None) -> None:
    """Fill in the task's objective (val_accuracy; val_loss for regression) and its direction;
    ``ConfigError`` when training will never log the objective (``logged``: the names it
    logs, None when unknown)."""
    s = cfg.search
    if not s.objective:
        s.objective = "val_loss" if task == "regression" else "val_accuracy"
    if logged is not None and s.objective not in logged:
        shown = ", ".join(n for n in logged if n.startswith("val_"))
        raise ConfigError(
            f"search.objective = {s.objective!r} is never logged by training a {task} model "
            f"(it logs {shown})" + suggest(s.objective, logged, listed=True)
        )
    if not s.direction:
        s.direction = default_direction(s.objective)


def _coerce(key: str, value: Any, like: Any) -> Any:
    if isinstance(like, list):
        if not isinstance(value, list) or len(value) != len(like) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
        ):
            raise ConfigError(f"{key} must be [height, width] in pixels, got {value!r}")
        return value
    try:
        return coerce(key, value, like)
    except SettingError as exc:
        raise ConfigError(str(exc)) from None


def _check(cfg: Config) -> None:
    for key, options in choices().items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value not in options and not (key == "search.direction" and value == ""):
            raise ConfigError(
                f"{key} = {value!r} is not one of: {', '.join(options)}"
                + suggest(str(value), options, listed=True)
            )
    if not cfg.run.keras and ":" not in cfg.run.fitness and cfg.run.fitness != PYTHON_FITNESS:
        raise ConfigError(
            f"run.fitness = {cfg.run.fitness!r}: use keras, module:function, or python"
        )
    if not cfg.run.keras:
        cfg.search.objective = cfg.search.objective or "fitness"
    if cfg.search.objective and not cfg.search.direction:
        cfg.search.direction = default_direction(cfg.search.objective)
    try:
        strategy_class(cfg.search.strategy).validate(cfg.search.strategy_params())
        gpus.check_spec(cfg.run.gpus)
    except (SettingError, gpus.GpuError) as exc:
        raise ConfigError(str(exc)) from None
    numbers = {"run.timeout": cfg.run.timeout, "run.checkpoint_every": cfg.run.checkpoint_every,
               "run.startup_timeout": cfg.run.startup_timeout,
               "run.max_failure_share": cfg.run.max_failure_share,
               "training.learning_rate": cfg.training.learning_rate,
               "training.weight_decay": cfg.training.weight_decay}  # fmt: skip
    if cfg.search.target is not None:
        numbers["search.target"] = cfg.search.target
    for key, value in numbers.items():
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}")
    for key, bound in BOUNDS.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if not bound.holds(value):
            raise ConfigError(f"{key} must be {bound.rule}, got {value!r}")
    d = cfg.data
    if d.validation_split + d.test_split >= 1:
        raise ConfigError(
            "data.validation_split + data.test_split must leave some data to train on"
        )
    for key, most in MOST.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value > most:
            shown = (f"{v:,}" if isinstance(v, int) else f"{v:g}" for v in (value, most))
            raise ConfigError(
                "{} = {} is more than this engine can hold: at most {}".format(key, *shown)
            )
    if any(side > MOST_PIXELS for side in cfg.data.image_size):
        raise ConfigError(f"data.image_size = {cfg.data.image_size} is more than this engine "
                          f"can hold: at most {MOST_PIXELS:,} pixels a side")  # fmt: skip
    _check_fidelity(cfg)

MOST_PIXELS = 16384


FIDELITIES = ("epochs",)
MOST_REEVALUATIONS = 100
MOST_FINAL_TOP = 1000
PRUNERS = ("median",)


def max_epochs(cfg: Config) -> int:
    """The top rung's epochs of a multi-fidelity run: ``search.max_epochs``, else
    ``training.epochs``."""
    return cfg.search.max_epochs or cfg.training.epochs


def _check_fidelity(cfg: Config) -> None:
    """The multi-fidelity, pruning and final-pick settings, alone and together."""
    s = cfg.search
    for key, value, known in (("fidelity", s.fidelity, FIDELITIES),
                              ("pruning", s.pruning, PRUNERS)):  # fmt: skip
        if value and value not in known:
            raise ConfigError(
                f"search.{key} = {value!r} is not one of: {', '.join(known)} (or unset)"
                + suggest(value, known, listed=True)
            )
    rules = [
        (s.eta >= 2, f"search.eta must be at least 2, got {s.eta}"),
        (s.min_epochs >= 1, f"search.min_epochs must be at least 1, got {s.min_epochs}"),
        (s.max_epochs >= 0, f"search.max_epochs must be 0 (training.epochs) or more, got "
                            f"{s.max_epochs}"),
        (s.final_reevaluations >= -1, "search.final_reevaluations must be -1 (automatic), 0 "
                                      f"(off) or more, got {s.final_reevaluations}"),
        (s.final_top >= 1, f"search.final_top must be at least 1, got {s.final_top}"),
        (s.final_reevaluations <= MOST_REEVALUATIONS, "search.final_reevaluations must be at "
         f"most {MOST_REEVALUATIONS}, got {s.final_reevaluations}"),
        (s.final_top <= MOST_FINAL_TOP, f"search.final_top must be at most {MOST_FINAL_TOP}, "
                                        f"got {s.final_top}"),
    ]  # fmt: skip
    for ok, message in rules:
        if not ok:
            raise ConfigError(message)
    if not s.fidelity:
        fresh = type(s)()
        stray = [
            k for k in ("min_epochs", "max_epochs", "eta") if getattr(s, k) != getattr(fresh, k)
        ]
        if stray:
            raise ConfigError(
                f"search.{stray[0]} applies only with search.fidelity = \"epochs\" "
                "(--fidelity epochs); set it, or leave the setting out"
            )
    if s.budget and s.final_reevaluations > 0:
        need = s.final_top * s.final_reevaluations
        if s.budget <= need + s.final_top:
            raise ConfigError(
                f"search.budget = {s.budget} leaves no room for the search before the final "
                f"pick's {need} trainings (final_top {s.final_top} x final_reevaluations "
                f"{s.final_reevaluations}): raise the budget or lower them"
            )
    if s.fidelity:
        if not cfg.run.keras and not s.max_epochs:
            raise ConfigError(
                "search.fidelity with a fitness of your own needs search.max_epochs (the "
                "full training your fitness is given as epochs=)"
            )
        top = max_epochs(cfg)
        if s.min_epochs >= top:
            raise ConfigError(
                f"search.min_epochs = {s.min_epochs} must be below search.max_epochs = {top} "
                "(the full training; one rung would be no multi-fidelity at all)"
            )
        if s.eta > top // s.min_epochs:
            raise ConfigError(
                f"search.eta = {s.eta} is above max_epochs / min_epochs = {top} / "
                f"{s.min_epochs}: no rung would lie between them"
            )
        strategy = strategy_class(s.strategy)
        if not strategy.multi_fidelity:
            able = ", ".join(n for n, c in strategies().items() if c.multi_fidelity)
            raise ConfigError(
                f"search.fidelity = {s.fidelity!r} works with the strategies {able}; "
                f"{s.strategy} compares every genome at full training (use search.pruning)"
            )
        if s.pruning:
            raise ConfigError(
                "search.pruning and search.fidelity: choose one (rungs already stop the "
                "hopeless genomes early)"
            )
    if s.pruning:
        if not cfg.run.keras:
            raise ConfigError(
                f"search.pruning = {s.pruning!r} needs the learning curves of Keras training "
                "(run.fitness = keras); a fitness of your own can stop early itself"
            )
        if cfg.training.epochs < 2:
            raise ConfigError(
                f"search.pruning = {s.pruning!r} with training.epochs = "
                f"{cfg.training.epochs}: one epoch leaves nothing to stop early"
            )


def from_dict(data: dict[str, Any]) -> Config:
    """A validated config from parsed TOML; every unknown key is an error."""
    cfg = Config()
    named = data.get("search", {}).get("strategy") if isinstance(data.get("search"), dict) else None
    if isinstance(named, str) and ":" in named:  # a strategy of yours: its settings known first
        try:
            load_strategy(named)
        except SettingError as exc:
            raise ConfigError(str(exc)) from None
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


def load(
    path: str | Path, overrides: dict[str, Any] | None = None, family: bool = True
) -> Config:
    """Read a TOML config, apply ``{"section.key": value}`` overrides, and validate; with
    ``family``, the model family too (a user's build function is imported): a run's saved
    config is read without it, so ``inspect`` and ``export`` need no importable module."""
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
        if cfg.run.keras and cfg.model.family != PYTHON_BUILD and family:
            cfg.family()  # a family that cannot be used says so first
        raise ConfigError(f"{path} declares no genes: add a [genes] table")
    if cfg.model.family == PYTHON_BUILD or not family:  # resuming asks for the function
        try:
            SearchSpace.from_config(cfg.genes)
        except GeneError as exc:
            raise ConfigError(str(exc)) from None
    else:
        cfg.space()
    return cfg
