"""The checks of a whole config: allowed values, bounds, sizes the engine can hold, and the
settings that only make sense together (multi-fidelity, pruning, the final pick)."""

from __future__ import annotations

import math
from typing import Any

from evolve.execution import BACKENDS, gpus
from evolve.search.registry import SettingError, strategies, strategy_class, suggest
from evolve.settings.bounds import SETTINGS
from evolve.settings.objective import default_direction
from evolve.settings.sections import FIDELITIES, PRUNERS, PYTHON_FITNESS, Config, ConfigError

DIRECTIONS = ("maximize", "minimize")

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


def check(cfg: Config) -> None:
    """Every check of a whole config (each value alone, then together): ``ConfigError``, one
    line, at the first that fails."""
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
    numbers = {k: v for k, v in _values(cfg, "float").items() if v is not None}
    for key, value in numbers.items():
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}")
    d = cfg.data
    for key, value in _values(cfg).items():
        problem = SETTINGS[key].problem(key, value)
        if problem:
            raise ConfigError(problem)
        if key == "data.test_split" and d.validation_split + d.test_split >= 1:
            raise ConfigError(
                "data.validation_split + data.test_split must leave some data to train on"
            )
    if any(side > MOST_PIXELS for side in cfg.data.image_size):
        raise ConfigError(f"data.image_size = {cfg.data.image_size} is more than this engine "
                          f"can hold: at most {MOST_PIXELS:,} pixels a side")  # fmt: skip
    _check_fidelity(cfg)


MOST_PIXELS = 16384
"""The longest image side (pixels) ``data.image_size`` may ask for."""




def _values(cfg: Config, kind: str = "") -> dict[str, Any]:
    """Every declared setting's value in ``cfg``, by key; with ``kind`` "float", the
    floating-point ones only (``target`` included: unset is ``None``)."""
    found = {}
    for key, setting in SETTINGS.items():
        if kind == "float" and not (setting.default is None or type(setting.default) is float):
            continue
        section, name = key.split(".")
        found[key] = getattr(getattr(cfg, section), name)
    return found


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
