"""Which result is best: the one rule every reader of a run applies.

A run's records are ranked in three steps, the same for the run's summary, ``inspect``'s
leaderboard, the model keeper, the progress bar, the plots and the report:

1. only successful evaluations count (status ``ok`` or ``cached``, with a fitness);
2. genomes are compared at the highest rung any reached (a multi-fidelity run's full
   fidelity: a 1-epoch result is not beside a full one);
3. where the final pick re-trained genomes with new seeds, those genomes rank first, by their
   mean over seeds; otherwise by fitness, the earlier genome first on ties.

``Ranking`` is the seam where a different order (a Pareto ranking of several objectives)
plugs in: readers call it and never compare fitness themselves. It takes typed ``Record``
objects and journal dicts alike (both are mappings of the journal's keys).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evolve.search.base import score

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Standing:
    """One genome's place: the ``record`` of its first training at the highest rung it
    reached, and ``mean`` and ``seeds`` over that training and its re-evaluations."""

    record: Row
    mean: float
    seeds: int

    def as_row(self) -> dict[str, Any]:
        """The record's fields with ``mean`` and ``seeds`` added (a leaderboard row)."""
        return {**self.record, "mean": self.mean, "seeds": self.seeds}


@dataclass(frozen=True)
class Ranking:
    """The order of a run's results for one objective ``direction`` ("maximize" or
    "minimize"). ``ValueError`` for another direction."""

    direction: str

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', not {self.direction!r}")

    # -- one record ------------------------------------------------------------------------------

    def score(self, fitness: float | None) -> float:
        """Fitness as a number where higher is better; no fitness (or not finite): ``-inf``."""
        return score(fitness, self.direction)

    def better(self, a: float | None, b: float | None) -> bool:
        """True when fitness ``a`` is strictly better than ``b``."""
        return self.score(a) > self.score(b)

    def key(self, record: Row) -> tuple[int, float, int]:
        """A sort key, larger is better: the higher rung, then the better fitness, then the
        earlier genome (a record read alone, before any final pick's mean is known)."""
        return (rung(record), self.score(record["fitness"]), -int(record["index"]))

    # -- a run's records -------------------------------------------------------------------------

    @staticmethod
    def succeeded(records: Sequence[Row]) -> list[Row]:
        """The records that carry a fitness (status ok or cached)."""
        return [r for r in records if succeeded(r)]

    @staticmethod
    def top_rung(records: Sequence[Row]) -> int:
        """The highest rung a successful record reached (0 when none, or no rungs)."""
        return max((rung(r) for r in records if succeeded(r)), default=0)

    def at_top_rung(self, records: Sequence[Row]) -> list[Row]:
        """The successful records at the highest rung: the ones compared."""
        top = self.top_rung(records)
        return [r for r in self.succeeded(records) if rung(r) == top]

    def standings(self, records: Sequence[Row]) -> list[Standing]:
        """Every genome that succeeded, best first (the module's rule). A cache answer counts
        only where its original is not among ``records`` (set aside by a rebuilt run); each
        genome at each fidelity and repeat once."""
        ok, keys = [], set()
        for r in sorted(records, key=lambda r: (r.get("cached_from") is not None, r["index"])):
            key = (r["id"], r.get("fidelity", 0), r.get("repeat", 0))
            if succeeded(r) and key not in keys:
                keys.add(key)
                ok.append(r)
        firsts: dict[str, Row] = {}
        values: dict[str, list[float]] = {}
        for r in sorted(ok, key=lambda r: (rung(r), -r.get("repeat", 0)), reverse=True):
            first = firsts.get(r["id"])
            if first is not None and rung(r) < rung(first):
                continue  # the genome's results at a lower rung than its highest
            if first is None or not r.get("repeat", 0):
                firsts[r["id"]] = r
            values.setdefault(r["id"], []).append(float(r["fitness"]))
        found = [
            Standing(first, statistics.fmean(values[gid]), len(values[gid]))
            for gid, first in firsts.items()
        ]
        picked = any(s.seeds > 1 for s in found)  # a final pick: its genomes rank first
        return sorted(
            found,
            key=lambda s: (
                -rung(s.record), -(picked and s.seeds > 1), -self.score(s.mean),
                s.record["index"],
            ),
        )  # fmt: skip

    def best(self, records: Sequence[Row]) -> Any:
        """The best genome's record (its first training at the top rung); ``None`` when every
        evaluation failed."""
        found = self.standings(records)
        return found[0].record if found else None

    def leaderboard(self, records: Sequence[Row], top: int = 10) -> list[dict[str, Any]]:
        """The ``top`` genomes, best first, as rows (``Standing.as_row``)."""
        return [s.as_row() for s in self.standings(records)[:top]]


def rung(record: Row) -> int:
    """The record's rung (0 for a run without rungs)."""
    return int(record.get("rung", 0))


def succeeded(record: Row) -> bool:
    """True for a record with a fitness (status ok or cached)."""
    return record["status"] in ("ok", "cached") and record["fitness"] is not None


def seed_spread(records: Sequence[Row], genome_id: str) -> dict[str, Any]:
    """Mean, standard deviation and count (``seeds``) of ``genome_id``'s successful trainings
    at the top rung of ``records`` (its first training and its re-evaluations), and how many
    of its re-evaluations ``failed`` (when any did); ``{}`` when it has none."""
    top = max((rung(r) for r in records), default=0)
    mine = [r for r in records if r["id"] == genome_id and rung(r) == top]
    values = [float(r["fitness"]) for r in mine if succeeded(r) and r.get("cached_from") is None]
    failed = sum(1 for r in mine if r.get("repeat", 0) and r["status"] not in ("ok", "cached"))
    if not values:
        return {}
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    found = {"mean": statistics.fmean(values), "std": spread, "seeds": len(values)}
    return {**found, "failed": failed} if failed else found
