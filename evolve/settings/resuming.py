"""Resuming a run from its directory: the checkpoint and journal loaded into the loop, after
checking that the config still fits them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evolve.engine.loop import Loop
from evolve.engine.records import Record
from evolve.engine.resume import differences
from evolve.rundir.store import RunDir, RunDirError
from evolve.search.registry import strategy_settings
from evolve.settings.bounds import SETTINGS
from evolve.settings.config import Config, ConfigError
from genomes.space import SearchSpace

if TYPE_CHECKING:
    from evolve.view.progress import Console


def fingerprint(cfg: Config, space: SearchSpace) -> dict[str, Any]:
    """The settings a checkpoint cannot outlive, read from each setting's declaration
    (``Setting.resume``): the genes and their order, every ``fixed`` setting, every
    ``fixed_if_set`` one that differs from its default (so that runs saved before it existed
    still resume; the rungs' settings whenever a run has rungs, so a change reads "changed
    from 2 to 3"), and the strategies' own settings. The ``[data]``, ``[training]`` and
    ``[model]`` settings count for a Keras run only: they say what its fitness means."""
    saved: dict[str, Any] = {
        "genes": space.to_config(), "search": dict(cfg.search.options),
        "run": {"gene_order": list(space.names)},
    }  # fmt: skip
    fresh = Config()
    for key, setting in SETTINGS.items():
        section, name = key.split(".")
        if setting.resume == "free" or (section in KERAS_ONLY and not cfg.run.keras):
            continue
        value = getattr(getattr(cfg, section), name)
        if (
            setting.resume == "fixed"
            or value != getattr(getattr(fresh, section), name)
            or (cfg.search.fidelity and key in RUNG_KEYS)
        ):
            saved.setdefault(section, {})[name] = value
    return saved


KERAS_ONLY = ("data", "training", "model")
"""Sections that say what a Keras run's fitness means (a fitness of yours has none)."""
RUNG_KEYS = ("search.min_epochs", "search.max_epochs", "search.eta")
"""Recorded whenever a run has rungs, so a change reads "changed from 2 to 3"."""


@dataclass
class Saved:
    """What a run directory holds for a resume: its checkpoint (or None) and its journal, with
    notes on what could not be used."""

    state: dict[str, Any] | None
    journal: list[Record]
    notes: list[str]


def load_saved(run: RunDir, current: dict[str, Any]) -> Saved:
    """Read the checkpoint and the journal, and check that the config's ``current``
    fingerprint still fits them: ``ConfigError`` naming each change otherwise (``RunDirError``
    for a checkpoint or journal of a format this engine cannot read). Only then is the journal
    mended (damaged lines set aside); a journal shorter than the checkpoint counted sets the
    checkpoint aside, so the run is rebuilt from the journal."""
    state, notes = run.read_checkpoint()
    journal, dropped = run.read_history()
    if state is not None and "config" in state:
        changes = differences(*_with_defaults(state["config"], current))
    else:
        known = set(current["genes"])
        changes = [f"genes {sorted(r.genes)} in the history, {sorted(known)} in config.toml"
                   for r in journal[:1] if set(r.genes) != known]  # fmt: skip
    if changes:
        raise ConfigError(
            f"{run.config} no longer fits the run's checkpoint: {'; '.join(changes)}; put it "
            "back as it was, or start a new run (resume --generations N extends a run)"
        )
    if dropped:  # mend the file only now that the config is known to fit
        journal, dropped = run.read_history(repair=True)
    counted = state["runner"]["journal_lines"] if state is not None else 0
    if counted > len(journal):
        notes.append(
            f"history.jsonl holds {len(journal)} records but the checkpoint counted {counted}: "
            "the checkpoint is set aside and the run rebuilt from the journal; the evaluations "
            "missing from it train again"
        )
        state = None
    elif state is None and run.checkpoint.exists():
        notes.append("no usable checkpoint: rebuilding the run from history.jsonl")
    return Saved(state, journal, notes + dropped)


def _with_defaults(
    saved: dict[str, Any], current: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copies of two fingerprints in which a ``fixed_if_set`` setting recorded on one side only
    (it was left at its default on the other) is its default there, so a change reads
    "model.family changed from 'cnn' to 'mlp'", not "model was added"; the same for a
    strategy's own setting (``tournament_size = 5`` written out at its default changes
    nothing)."""
    saved = {k: dict(v) if isinstance(v, dict) else v for k, v in saved.items()}
    current = {k: dict(v) if isinstance(v, dict) else v for k, v in current.items()}
    own = strategy_settings()  # a strategy's setting written at its default is the default
    pairs = [(f"search.{n}", own[n]) for n in {*saved.get("search", {}), *current.get("search", {})}
             if n in own]  # fmt: skip
    for key, setting in [*SETTINGS.items(), *pairs]:
        section, name = key.split(".")
        if setting.resume != "fixed_if_set" and key not in dict(pairs):
            continue
        one, other = saved.get(section), current.get(section)
        for mine, theirs, holder in ((one, other, saved), (other, one, current)):
            if isinstance(theirs, dict) and name in theirs and not (mine and name in mine):
                holder.setdefault(section, {})[name] = setting.default
    return saved, current


def in_saved_order(run: RunDir, genes: dict[str, Any]) -> dict[str, Any]:
    """The config's ``genes`` in the order the run's checkpoint recorded, when they are the
    same genes in the order an earlier version wrote them: its ``config.toml`` put the genes
    declared as tables after the plain ones, and the order of the genes is that of a genome's
    alleles. Anything else (no checkpoint, other genes, genes reordered by hand) is left for
    ``load_saved`` to judge."""
    try:
        state, _ = run.read_checkpoint()
    except (RunDirError, OSError, ValueError):
        return genes
    order = ((state or {}).get("config") or {}).get("run", {}).get("gene_order")
    if not isinstance(genes, dict) or not isinstance(order, list) or set(order) != set(genes):
        return genes
    written = [n for n in order if not isinstance(genes[n], dict)]
    written += [n for n in order if isinstance(genes[n], dict)]  # tomli_w: sub-tables last
    if order == list(genes) or written != list(genes):
        return genes
    return {name: genes[name] for name in order}


def restore_run(loop: Loop, run: RunDir, saved: Saved, more: int, console: Console) -> None:
    """Load what ``load_saved`` read into ``loop``, saying what was dropped, and extend the
    strategy by ``more`` generations."""
    for note in saved.notes:
        console.warn(f"resume: {note}")
    try:
        loop.restore(saved.state, saved.journal)
        if more:
            loop.strategy.extend(more)
    except (KeyError, IndexError, TypeError) as exc:
        raise ConfigError(
            f"{run.checkpoint.name} does not fit the run's config ({type(exc).__name__}: {exc}); "
            "was config.toml edited?"
        ) from None
    console.say(
        f"resume: {len(saved.journal)} finished evaluations kept, "
        f"{len(loop.pending)} in flight at the interruption to run again"
    )
