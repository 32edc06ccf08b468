"""What one evaluation left behind: a typed record with a status, and how a run ended.

A ``Record`` is one line of ``history.jsonl``. It serialises to the same JSON keys as the
journals written before records were typed (``to_json``/``from_json``), and it can also be read
as a mapping of those keys (``record["fitness"]``), so a user's ``on_record`` callback and the
readers of a run (inspection, plots) see one shape whether the record comes from the loop or
from the file.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evolve.engine.ranking import Ranking, seed_spread
from evolve.execution.evaluation import Evaluation, Status
from evolve.search.request import FULL, TrainingRequest
from genomes.genome import Genome


class RecordFormatError(ValueError):
    """A history line that this version of the engine cannot read (too old or foreign)."""


REQUIRED = ("index", "id", "generation", "genes", "seed", "status", "fitness")
"""Keys every journal line has carried since the first version of the engine."""
OPTIONAL = ("rung", "fidelity", "initial_epoch", "repeat")
"""Keys written only when set (multi-fidelity and re-evaluation), so other lines stay as
they were."""


@dataclass
class Record(Mapping[str, Any]):
    """One finished evaluation (trained, failed, or answered from the cache)."""

    index: int
    """Position in ask order (0, 1, 2, ...): the run's n-th proposal."""
    id: str
    generation: int
    genes: dict[str, Any]
    seed: int
    """The training seed (see ``trial_seed``)."""
    status: Status
    fitness: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    origin: str = "random"
    reason: str = ""
    seconds: float | None = None
    pid: int | None = None
    host: str | None = None
    cuda_visible_devices: str | None = None
    rss_mb: float | None = None
    started: float | None = None
    time: float = field(default_factory=time.time)
    attempts: int = 0
    cached_from: int | None = None
    """Index of the record this one repeats (status ``cached``, or a cached failure)."""
    rung: int = 0
    """Multi-fidelity runs: the rung (0: the lowest, or a run without rungs)."""
    fidelity: int = 0
    """The epochs the genome was trained to (0: the problem's own, full fidelity)."""
    initial_epoch: int = 0
    """Epochs an earlier rung had trained, continued here from its saved state."""
    repeat: int = 0
    """0: the genome's first evaluation at this fidelity; n: its n-th re-evaluation with a new
    seed (the final pick)."""

    @property
    def succeeded(self) -> bool:
        return Status(self.status).succeeded

    @property
    def key(self) -> str:
        """The genome at its fidelity (see ``Trial.key``)."""
        return fidelity_key(self.id, self.fidelity, self.repeat)

    def evaluation(self, **changes: Any) -> Evaluation:
        """The evaluation this record holds (with ``changes``): a cache answer repeats it."""
        given = {f: getattr(self, f) for f in EVALUATION_FIELDS}
        return Evaluation(**{**given, **changes})

    def to_json(self) -> dict[str, Any]:
        """The journal line's fields (``cached_from`` only on cache hits, as always; the
        fidelity fields only when set)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = str(self.status)
        if self.cached_from is None:
            del data["cached_from"]
        for key in OPTIONAL:
            if not data[key]:
                del data[key]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        """A record from a journal line; ``RecordFormatError`` if a required key is missing or
        the status is unknown (a journal too old, or not ours). Unknown keys are ignored."""
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise RecordFormatError(f"a history line lacks {', '.join(missing)}")
        try:
            status = Status(data["status"])
        except ValueError:
            raise RecordFormatError(f"unknown status {data['status']!r} in history") from None
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in names}, "status": status})

    # -- read-only mapping of the JSON fields ----------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key in _FIELDS:
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


_FIELDS = frozenset(f.name for f in dataclasses.fields(Record))
EVALUATION_FIELDS = tuple(f.name for f in dataclasses.fields(Evaluation) if f.name in _FIELDS)


@dataclass
class Outcome:
    """How a run ended: every record in finishing order, the best, and why it stopped."""

    records: list[Record]
    stop_reason: str
    direction: str
    aborted: bool = False
    """True when the run stopped because too many evaluations failed."""
    trained: int = 0
    cached: int = 0
    failed: int = 0
    best: Record | None = None
    test: dict[str, Any] = field(default_factory=dict)
    """The final report of a Keras run: the best model's test metrics (``test_accuracy``, ...)."""
    run_dir: Path | None = None
    """The run directory, when the run has one."""
    seeds: dict[str, Any] = field(default_factory=dict)
    """The best genome's ``mean``, ``std`` and count (``seeds``) over its trainings when the
    final pick re-evaluated it (``seed_spread``); empty otherwise."""

    def best_model(self) -> Any:
        """The best genome's trained network, ``keras.saving.load_model`` of the run's
        ``best/model.keras``; ``FileNotFoundError`` when the run saved none (no run directory,
        or no Keras model)."""
        path = self.run_dir / "best" / "model.keras" if self.run_dir is not None else None
        if path is None or not path.is_file():
            raise FileNotFoundError("this run saved no best model (it needs a run directory)")
        import keras

        return keras.saving.load_model(path)

    @classmethod
    def of(
        cls, records: list[Record], stop_reason: str, direction: str, aborted: bool, trained: int
    ) -> Outcome:
        """The outcome of a run that finished with ``records``."""
        found = cls(
            records=records,
            stop_reason=stop_reason,
            direction=direction,
            aborted=aborted,
            trained=trained,
            cached=sum(r.cached_from is not None for r in records),
            failed=sum(not r.succeeded for r in records),
            best=Ranking(direction).best(records),
        )
        if found.best is not None and any(r.repeat for r in records):
            found.seeds = seed_spread(records, found.best.id)
        return found


@dataclass
class Trial:
    """One proposal on its way: the genome, its place in ask order, its training seed and how
    far it trains (``request``, carried whole from the proposal to the record)."""

    index: int
    genome: Genome
    generation: int
    seed: int
    request: TrainingRequest = FULL

    @property
    def key(self) -> str:
        """What the cache answers by: the genome at its fidelity (a repeat: never answered)."""
        return fidelity_key(self.genome.id, self.request.epochs, self.request.repeat)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "genome": self.genome.to_dict(),
            "generation": self.generation,
            "seed": self.seed,
            **self.request.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trial:
        """A trial from its checkpoint entry, or from the history record it produced."""
        genome = data.get("genome") or {
            "id": data["id"],
            "genes": data["genes"],
            "parents": data.get("parents", []),
            "origin": data.get("origin", "random"),
        }
        return cls(
            data["index"], Genome.from_dict(genome), data["generation"], data["seed"],
            TrainingRequest.from_json(data),
        )  # fmt: skip

    def record(self, result: Evaluation, attempts: int) -> Record:
        """The record of this trial from its evaluation (``run_trial``'s)."""
        g = self.genome
        return Record(
            index=self.index,
            id=g.id,
            generation=self.generation,
            genes=dict(g.genes),
            parents=list(g.parents),
            origin=g.origin,
            seed=self.seed,
            status=Status(result.status),
            fitness=result.fitness,
            metrics=result.metrics,
            reason=result.reason,
            seconds=result.seconds,
            pid=result.pid,
            host=result.host,
            cuda_visible_devices=result.cuda_visible_devices,
            rss_mb=result.rss_mb,
            started=result.started,
            attempts=attempts,
            rung=self.request.rung,
            fidelity=self.request.epochs,
            # a promotion whose saved state was gone trained from epoch 0 (metrics.restarted)
            initial_epoch=0 if (result.metrics or {}).get("restarted")
            else self.request.initial_epoch,
            repeat=self.request.repeat,
        )

    def cached(self, original: Record) -> Record:
        """This trial answered from the record of an earlier trial of the same genome."""
        record = self.record(original.evaluation(seconds=0.0), attempts=0)
        record.status = Status.CACHED if original.status == Status.OK else original.status
        record.cached_from = original.index
        return record


def fidelity_key(genome_id: str, fidelity: int, repeat: int) -> str:
    """A genome's id at a fidelity (``id@epochs``) and repeat (``#n``): one cache entry each."""
    key = f"{genome_id}@{fidelity}" if fidelity else genome_id
    return f"{key}#{repeat}" if repeat else key


def trial_seed(run_seed: int, index: int) -> int:
    """The training seed of the ``index``-th genome of a run: independent of worker count."""
    return int(np.random.SeedSequence([run_seed, index]).generate_state(1)[0] % (2**31 - 1))
