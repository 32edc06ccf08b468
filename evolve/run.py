"""The ask/tell loop: keep every worker busy, tell each result as it arrives, record it."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evolve.strategies.base import DONE, WAIT, Signal, Strategy, score
from evolve.worker import one_line, run_trial
from genomes.genome import Genome

Record = dict[str, Any]
"""One line of ``history.jsonl``: a finished evaluation (trained, failed or from the cache)."""


def trial_seed(run_seed: int, index: int) -> int:
    """The training seed of the ``index``-th genome of a run: independent of worker count."""
    return int(np.random.SeedSequence([run_seed, index]).generate_state(1)[0] % (2**31 - 1))


@dataclass
class Trial:
    index: int
    genome: Genome
    generation: int
    seed: int


@dataclass
class Outcome:
    """How a run ended."""

    records: list[Record]
    stop_reason: str
    direction: str
    trained: int = 0
    cached: int = 0
    failed: int = 0
    best: Record | None = field(default=None)


def best_record(records: list[Record], direction: str) -> Record | None:
    """The record of best fitness (earliest on ties); ``None`` if every evaluation failed."""
    ok = [r for r in records if r["status"] in ("ok", "cached") and r["fitness"] is not None]
    if not ok:
        return None
    return max(ok, key=lambda r: (score(r["fitness"], direction), -r["index"]))


class Runner:
    """Runs a strategy against a fitness on an executor.

    ``target`` stops the run once a fitness at least that good is found.

    ``ordered=True`` tells results in the order they were asked, each ask seeing exactly the
    results of the genomes asked ``workers`` places before it: the run then repeats exactly
    for a fixed worker count even with a steady-state strategy, at the cost of idle workers
    whenever a later genome finishes before an earlier one.
    """

    def __init__(
        self,
        strategy: Strategy,
        fitness: Callable[..., Any],
        executor: Executor,
        *,
        workers: int = 1,
        seed: int = 0,
        objective: str = "fitness",
        budget: int = 0,
        ordered: bool = False,
        target: float | None = None,
        on_record: Callable[[Record], None] | None = None,
        on_trial: Callable[[Trial], None] | None = None,
    ) -> None:
        self.strategy = strategy
        self.fitness = fitness
        self.executor = executor
        self.workers = max(1, workers)
        self.seed = seed
        self.objective = objective
        self.budget = budget
        self.ordered = ordered
        self.target = target
        self.reached = False
        self.on_record = on_record or (lambda record: None)
        self.on_trial = on_trial or (lambda trial: None)
        self.records: list[Record] = []
        self.cache: dict[str, Record] = {}
        self.in_flight: dict[Future, Trial] = {}
        self.duplicates: dict[str, list[Trial]] = {}
        self.buffer: dict[int, tuple[Trial, Record]] = {}
        self.next_index = 0
        self.next_tell = 0
        self.trained = 0
        self.stop_reason = ""

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        done = False
        while True:
            if not done:
                done = self._fill()
            if done and not self.in_flight and not self._pending_dupes():
                break
            if not self.in_flight:
                if self.buffer:
                    self._tell_ready(force=True)
                    continue
                raise RuntimeError(f"strategy '{self.strategy.name}' waits with nothing in flight")
            self._collect()
            self._tell_ready(force=done)
        self._tell_ready(force=True)
        return self._outcome()

    def _fill(self) -> bool:
        """Ask and submit until every worker is busy; True once nothing more will be asked."""
        while len(self.in_flight) < self.workers:
            if self.budget and self.trained >= self.budget:
                self.stop_reason = f"budget of {self.budget} trainings reached"
                return True
            if self.reached:
                self.stop_reason = f"target fitness {self.target} reached"
                return True
            if self.ordered:
                self._tell_through(self.next_index - self.workers)
            proposal = self.strategy.ask()
            if proposal is DONE:
                self.stop_reason = self.strategy.stop_reason or "the strategy finished"
                return True
            if proposal is WAIT:
                if self.ordered and self.next_tell < self.next_index:
                    self._tell_through(self.next_tell)
                    continue
                return False
            self._start(proposal)
        return False

    def _start(self, genome: Genome) -> None:
        assert not isinstance(genome, Signal)
        trial = Trial(
            self.next_index,
            genome,
            self.strategy.generation,
            trial_seed(self.seed, self.next_index),
        )
        self.next_index += 1
        self.on_trial(trial)
        if genome.id in self.cache:
            self._finish(trial, self._cached(trial, self.cache[genome.id]))
        elif genome.id in self.duplicates:
            self.duplicates[genome.id].append(trial)
        else:
            self.duplicates[genome.id] = []
            future = self.executor.submit(
                run_trial, self.fitness, dict(genome.genes), trial.seed, genome.id, self.objective
            )
            self.in_flight[future] = trial
            self.trained += 1

    def _collect(self) -> None:
        """Wait for at least one evaluation to finish and record what finished."""
        finished, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=lambda f: self.in_flight[f].index):
            trial = self.in_flight.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                result = {
                    "status": "failed",
                    "fitness": None,
                    "metrics": {},
                    "reason": f"worker failed: {one_line(exc)}",
                }
            record = self._record(trial, result)
            self.cache[trial.genome.id] = record
            self._finish(trial, record)
            for twin in self.duplicates.pop(trial.genome.id, []):
                self._finish(twin, self._cached(twin, record))

    def _finish(self, trial: Trial, record: Record) -> None:
        self.records.append(record)
        if self.target is not None and record["status"] != "failed":
            goal = score(self.target, self.strategy.direction)
            self.reached |= score(record["fitness"], self.strategy.direction) >= goal
        self.on_record(record)
        self.buffer[trial.index] = (trial, record)
        if not self.ordered:
            self._tell_ready(force=True)

    def _tell_ready(self, force: bool) -> None:
        """Tell buffered results: all of them, or (ordered) those next in ask order."""
        if not self.ordered:
            for index in sorted(self.buffer):
                self._tell(*self.buffer.pop(index))
            return
        while self.next_tell in self.buffer and (
            force or self.next_tell <= self.next_index - self.workers
        ):
            self._tell(*self.buffer.pop(self.next_tell))
            self.next_tell += 1

    def _tell_through(self, last: int) -> None:
        """Ordered mode: tell every result up to ask index ``last``, waiting for them."""
        while self.next_tell <= last:
            if self.next_tell in self.buffer:
                self._tell(*self.buffer.pop(self.next_tell))
                self.next_tell += 1
            elif self.in_flight:
                self._collect()
            else:
                raise RuntimeError(f"result {self.next_tell} is neither in flight nor finished")

    def _tell(self, trial: Trial, record: Record) -> None:
        self.strategy.tell(
            trial.genome, record["fitness"] if record["status"] != "failed" else None
        )

    def _pending_dupes(self) -> bool:
        return any(self.duplicates.values())

    # -- records --------------------------------------------------------------------------------

    def _record(self, trial: Trial, result: dict[str, Any]) -> Record:
        g = trial.genome
        return {
            "index": trial.index,
            "id": g.id,
            "generation": trial.generation,
            "genes": dict(g.genes),
            "parents": list(g.parents),
            "origin": g.origin,
            "seed": trial.seed,
            "status": result["status"],
            "fitness": result["fitness"],
            "metrics": result["metrics"],
            "reason": result.get("reason", ""),
            "seconds": result.get("seconds"),
            "pid": result.get("pid"),
            "host": result.get("host"),
            "cuda_visible_devices": result.get("cuda_visible_devices"),
            "time": time.time(),
        }

    def _cached(self, trial: Trial, original: Record) -> Record:
        record = self._record(trial, {**original, "seconds": 0.0})
        record["status"] = "cached" if original["status"] == "ok" else "failed"
        record["cached_from"] = original["index"]
        return record

    def _outcome(self) -> Outcome:
        direction = self.strategy.direction
        return Outcome(
            records=self.records,
            stop_reason=self.stop_reason,
            direction=direction,
            trained=self.trained,
            cached=sum(r.get("cached_from") is not None for r in self.records),
            failed=sum(r["status"] == "failed" for r in self.records),
            best=best_record(self.records, direction),
        )
