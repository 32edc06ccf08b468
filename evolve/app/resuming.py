"""Resuming a run from its directory: the checkpoint and journal loaded into the loop, after
checking that the config still fits them."""

from __future__ import annotations

from typing import Any

from evolve.app.config import Config, ConfigError
from evolve.app.progress import Console
from evolve.engine.loop import Loop
from evolve.engine.resume import differences
from evolve.rundir.store import RunDir
from genomes.space import SearchSpace


def fingerprint(cfg: Config, space: SearchSpace) -> dict[str, Any]:
    """The settings a checkpoint cannot outlive: the genes, the strategy and its settings."""
    s = cfg.search
    search = {"strategy": s.strategy, "direction": s.direction, "objective": s.objective,
              "population": s.population, **s.options}  # fmt: skip
    return {"genes": space.to_config(), "search": search, "run": {"seed": cfg.run.seed}}


def restore_run(
    loop: Loop, run: RunDir, more: int, console: Console, fingerprint: dict[str, Any]
) -> None:
    """Load a run's checkpoint and journal into ``loop``, saying what was dropped; a config
    that no longer fits them is a ``ConfigError`` naming each change."""
    state, notes = run.read_checkpoint()
    journal, dropped = run.read_history()
    if state is not None and "config" in state:
        changes = differences(state["config"], fingerprint)
    else:
        known = set(fingerprint["genes"])
        changes = [f"genes {sorted(r.genes)} in the history, {sorted(known)} in config.toml"
                   for r in journal[:1] if set(r.genes) != known]  # fmt: skip
    if changes:
        raise ConfigError(
            f"{run.config} no longer fits the run's checkpoint: {'; '.join(changes)}; put it "
            "back as it was, or start a new run (resume --generations N extends a run)"
        )
    if state is None and run.checkpoint.exists():
        notes.append("no usable checkpoint: rebuilding the run from history.jsonl")
    for note in notes + dropped:
        console.warn(f"resume: {note}")
    try:
        loop.restore(state, journal)
        if more:
            loop.strategy.extend(more)
    except (KeyError, IndexError, TypeError) as exc:
        raise ConfigError(
            f"{run.checkpoint.name} does not fit the run's config ({type(exc).__name__}: {exc}); "
            "was config.toml edited?"
        ) from None
    console.say(
        f"resume: {len(journal)} finished evaluations kept, "
        f"{len(loop.pending)} in flight at the interruption to run again"
    )
