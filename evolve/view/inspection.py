"""What a run's history says: statistics per generation, lineage, failures (the leaderboard
and the best are ``Ranking``'s).

Plain functions over history records (``history.jsonl``); no framework, no disk.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from evolve.engine.ranking import Ranking, rung
from evolve.engine.records import Status

Record = Mapping[str, Any]


def space_of(cfg: Any) -> Any:
    """The search space of a run's config with its family's canonical rule (what tells the
    genes a network does not use), or ``None`` when it cannot be had here (a fitness of yours,
    a build function that cannot be imported)."""
    from evolve.settings.config import ConfigError

    try:
        return cfg.space() if cfg.run.keras else None
    except ConfigError:
        return None


def unused_genes(space: Any, genes: Mapping[str, Any]) -> list[str]:
    """The genes a genome does not use: those whose every other allele gives the same
    network (the family's canonical rule makes them equal), e.g. ``residual`` of a one-layer
    CNN or ``filters_3`` of a two-layer one. Empty without a ``space``."""
    if space is None:
        return []
    genes = dict(genes)
    same = space.canonical(genes)
    unused = []
    for gene in space.genes:
        others = [a for a in gene.alleles if a != genes.get(gene.name)][:3]
        if others and all(space.canonical({**genes, gene.name: a}) == same for a in others):
            unused.append(gene.name)
    return unused


def trained(records: Sequence[Record]) -> list[Record]:
    """One record per evaluated genome (cache hits left out), in ask order."""
    return sorted((r for r in records if r.get("cached_from") is None), key=lambda r: r["index"])


def diversity(genomes: list[dict[str, Any]]) -> float:
    """Mean share of genes that differ between two genomes of a generation (0: all alike)."""
    pairs = list(itertools.combinations(genomes, 2))
    if not pairs:
        return 0.0
    genes = len(genomes[0]) or 1
    return sum(sum(a[k] != b.get(k) for k in a) / genes for a, b in pairs) / len(pairs)


def generations(
    records: Sequence[Record], direction: str, elites: int = 0
) -> list[dict[str, Any]]:
    """Per generation: evaluations, best and mean fitness, diversity, failures.

    ``elites``: how many of a generation's best the next one carries over without training
    them again (a generational GA's ``elitism``); they count in the next generation's best,
    mean and diversity as the members they are (``carried`` says how many).

    A multi-fidelity run compares results at one fidelity: best and mean are those of the
    highest rung the generation's results reached (``rung``), as the run's best is."""
    rows = []
    ranking = Ranking(direction)
    searched = [r for r in records if not r.get("repeat", 0)]  # the final pick aside
    by_generation = itertools.groupby(
        sorted(searched, key=lambda r: (r["generation"], r["index"])), key=lambda r: r["generation"]
    )
    carried: list[Record] = []
    for generation, group in by_generation:
        trained_here = list(group)
        members = [*carried, *trained_here]
        top = ranking.top_rung(members)
        ok = ranking.at_top_rung(members)
        fitness = [r["fitness"] for r in ok]
        best = max(fitness, key=ranking.score) if fitness else None
        rows.append(
            {
                "generation": generation,
                "evaluations": len(trained_here),
                "carried": len(carried),
                "rung": top,
                "best": best,
                "mean": statistics.fmean(fitness) if fitness else None,
                "diversity": round(diversity([r["genes"] for r in members]), 4),
                "failed": sum(not Status(r["status"]).succeeded for r in trained_here),
            }
        )
        carried = sorted(ok, key=ranking.key, reverse=True)[:elites]
    return rows


def lineage(records: Sequence[Record], genome_id: str) -> list[Record]:
    """The genome and its ancestors, back to generation 0, nearest first (first parent's line
    first; each ancestor once)."""
    by_id: dict[str, Record] = {}
    for r in trained(records):  # each genome at the highest rung it reached
        if r.get("repeat", 0):
            continue
        if r["id"] not in by_id or rung(r) > rung(by_id[r["id"]]):
            by_id[r["id"]] = r
    line, queue, seen = [], [genome_id], set()
    while queue:
        current = queue.pop(0)
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        line.append(by_id[current])
        queue.extend(by_id[current].get("parents", []))
    return line


def failures(records: Sequence[Record]) -> list[Record]:
    return [r for r in trained(records) if not Status(r["status"]).succeeded]


def summary(
    records: Sequence[Record], direction: str, top: int = 10, elites: int = 0
) -> dict[str, Any]:
    """Everything ``inspect`` shows, as plain data (``--json``)."""
    standings = Ranking(direction).standings(records)  # ranked once: best and leaderboard
    best = standings[0].record if standings else None
    return {
        "evaluations": len(records),
        "trained": len(trained(records)),
        "cached": sum(r.get("cached_from") is not None for r in records),
        "best": best,
        "leaderboard": [s.as_row() for s in standings[:top]],
        "generations": generations(records, direction, elites),
        "lineage": lineage(records, best["id"]) if best else [],
        "failures": failures(records),
    }
