"""The objective a run optimises: its default for a task, and its direction."""

from __future__ import annotations

from evolve.search.registry import suggest
from evolve.settings.sections import Config, ConfigError

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
