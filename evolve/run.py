"""The ask/tell loop: keep every worker busy, tell each result as it arrives, record it."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evolve import faults
from evolve.executors import is_worker_death
from evolve.strategies.base import DONE, WAIT, Signal, Strategy, score
from evolve.worker import one_line, run_trial
from genomes.genome import Genome

Record = dict[str, Any]
"""One line of ``history.jsonl``: a finished evaluation (trained, failed or from the cache)."""

SUCCESS = ("ok", "cached")
"""Statuses with a fitness; the others (failed, timeout, died) score worst."""


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
    aborted: bool = False
    """True when the run stopped because too many evaluations failed."""
    trained: int = 0
    cached: int = 0
    failed: int = 0
    best: Record | None = field(default=None)


def best_record(records: list[Record], direction: str) -> Record | None:
    """The record of best fitness (earliest on ties); ``None`` if every evaluation failed."""
    ok = [r for r in records if r["status"] in SUCCESS and r["fitness"] is not None]
    if not ok:
        return None
    return max(ok, key=lambda r: (score(r["fitness"], direction), -r["index"]))


class Runner:
    """Runs a strategy against a fitness on an executor.

    ``target`` stops the run once a fitness at least that good is found.

    Failures never stop the run by themselves. An evaluation that raises is recorded as
    ``failed`` (retried ``retries_on_failure`` times); one past ``timeout`` seconds as
    ``timeout``. When a worker process dies, every evaluation in flight on that pool fails
    with it; each is run again ``retries_on_death`` times, *alone*, so that the genome that
    kills its worker is told apart from the others (recorded as ``died``), on a fresh pool
    from ``renew``. More than ``max_failure_share`` of failures (after at least 10
    evaluations) stops the run with a clear reason instead of burning GPU hours.

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
        timeout: float = 0.0,
        retries_on_death: int = 1,
        retries_on_failure: int = 0,
        max_failure_share: float = 0.5,
        renew: Callable[[], Executor] | None = None,
        checkpoint_every: float = 0.0,
        on_record: Callable[[Record], None] | None = None,
        on_replay: Callable[[Record], None] | None = None,
        on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
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
        self.timeout = timeout
        self.retries_on_death = retries_on_death
        self.retries_on_failure = retries_on_failure
        self.max_failure_share = max_failure_share
        self.renew = renew
        self.attempts: dict[int, int] = {}
        self.submitted_at: dict[Future, float] = {}
        self.suspects: list[Trial] = []
        """Trials whose worker died: each runs again alone."""
        self.failures = 0
        self.aborted = False
        self.on_record = on_record or (lambda record: None)
        self.on_replay = on_replay or (lambda record: None)
        self.on_checkpoint = on_checkpoint
        self.records: list[Record] = []
        self.cache: dict[str, Record] = {}
        self.in_flight: dict[Future, Trial] = {}
        self.duplicates: dict[str, list[Trial]] = {}
        self.buffer: dict[int, tuple[Trial, Record]] = {}
        self.next_index = 0
        self.next_tell = 0
        self.trained = 0
        self.stop_reason = ""
        self.replay: dict[int, Record] = {}
        """Journal records of a resumed run, by index, not yet matched to a trial."""
        self.pending: list[Trial] = []
        """Trials in flight when the run was interrupted: submitted again on resume."""
        self.journal_lines = 0
        self.checkpoint_every = checkpoint_every
        self._saved: tuple[int, int] | None = None
        self._saved_at = -float("inf")

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        done = False
        self._resubmit_pending()
        while True:
            if self.suspects and not self.in_flight:
                self._submit(self.suspects.pop(0))
            elif not done and not self.suspects:
                done = self._fill()
            self._checkpoint()
            if not self.in_flight:
                if self.suspects:
                    continue
                if done:
                    break
                if self.buffer:
                    self._tell_ready(force=True)
                    continue
                raise RuntimeError(f"strategy '{self.strategy.name}' waits with nothing in flight")
            self._collect()
            self._tell_ready(force=done)
        self._tell_ready(force=True)
        self._checkpoint(force=True)
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
            if self.aborted:
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
            faults.point("ask")
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
        known = self.replay.pop(trial.index, None)
        if known is not None and known["id"] == genome.id:
            self.trained += known.get("cached_from") is None
            self._finish(trial, known, replayed=True)
        elif genome.id in self.cache:
            self._finish(trial, self._cached(trial, self.cache[genome.id]))
        elif genome.id in self.duplicates:
            self.duplicates[genome.id].append(trial)
        else:
            self.duplicates[genome.id] = []
            self._submit(trial)
            self.trained += 1

    def _submit(self, trial: Trial) -> None:
        self.attempts[trial.index] = self.attempts.get(trial.index, 0) + 1
        hard = self.timeout * 1.25 + 2 if self.timeout else 0.0
        g = trial.genome
        future = self.executor.submit(
            run_trial, self.fitness, dict(g.genes), trial.seed, g.id, self.objective, hard
        )
        self.in_flight[future] = trial
        self.submitted_at[future] = time.monotonic()

    def _collect(self) -> None:
        """Wait for at least one evaluation to finish and record what finished."""
        finished, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
        broken = False
        for future in sorted(finished, key=lambda f: self.in_flight[f].index):
            trial = self.in_flight.pop(future)
            elapsed = time.monotonic() - self.submitted_at.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                result = self._lost(trial, exc, elapsed)
                broken |= is_worker_death(exc)
                if result is None:
                    continue
            if (
                result["status"] == "failed"
                and self.attempts[trial.index] <= self.retries_on_failure
            ):
                self._submit(trial)
                continue
            record = self._record(trial, result)
            self.cache[trial.genome.id] = record
            self._finish(trial, record)
            for twin in self.duplicates.pop(trial.genome.id, []):
                self._finish(twin, self._cached(twin, record))
        if broken and self.renew is not None:
            self.executor = self.renew()

    def _lost(self, trial: Trial, exc: BaseException, elapsed: float) -> dict[str, Any] | None:
        """The result of an evaluation whose worker failed; None when it will run again."""
        if not is_worker_death(exc):
            return _failure("failed", f"worker failed: {one_line(exc)}")
        if self.timeout and elapsed >= self.timeout:
            return _failure("timeout", f"ran past the {self.timeout:g} s timeout; worker replaced")
        if self.attempts[trial.index] <= self.retries_on_death:
            self.suspects.append(trial)
            return None
        tries = self.attempts[trial.index]
        return _failure(
            "died", f"its worker process died ({tries} of {tries} tries): {one_line(exc)}"
        )

    def _finish(self, trial: Trial, record: Record, replayed: bool = False) -> None:
        self.records.append(record)
        self._count_failure(record)
        self._check_target(record)
        if replayed:
            self.on_replay(record)
        else:
            self.journal_lines += 1
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
        fitness = record["fitness"] if record["status"] in SUCCESS else None
        self.strategy.tell(trial.genome, fitness)

    def _check_target(self, record: Record) -> None:
        if self.target is not None and record["status"] in SUCCESS:
            goal = score(self.target, self.strategy.direction)
            self.reached |= score(record["fitness"], self.strategy.direction) >= goal

    def _count_failure(self, record: Record) -> None:
        if record["status"] in SUCCESS:
            return
        self.failures += 1
        done = len(self.records)
        if done >= 10 and self.failures / done > self.max_failure_share and not self.aborted:
            self.aborted = True
            self.stop_reason = (
                f"stopped early: {self.failures} of {done} evaluations failed (more than "
                f"{self.max_failure_share:.0%}); their reasons are in the history"
            )

    # -- checkpoint and resume -------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The loop's state and the strategy's, as plain data (see ``restore``)."""
        twins = [t for waiting in self.duplicates.values() for t in waiting]
        open_trials = sorted(
            [*self.in_flight.values(), *self.suspects, *self.pending, *twins],
            key=lambda t: t.index,
        )
        return {
            "runner": {
                "next_index": self.next_index,
                "trained": self.trained,
                "failures": self.failures,
                "aborted": self.aborted,
                "stop_reason": self.stop_reason,
                "journal_lines": self.journal_lines,
                "next_tell": self.next_tell,
                "buffered": sorted(self.buffer),
                "in_flight": [_trial_dict(t) for t in open_trials],
                "attempts": {str(t.index): self.attempts.get(t.index, 0) for t in open_trials},
            },
            "strategy": self.strategy.state_dict(),
        }

    def restore(self, state: dict[str, Any] | None, journal: list[Record]) -> None:
        """Continue from a checkpoint (or from the start, when None) and the journal.

        Records the checkpoint already accounts for are taken as they are; later ones are
        matched, by index and genome id, to the evaluations the resumed loop asks for, so no
        finished evaluation is trained again; evaluations in flight at the checkpoint and not
        in the journal run again. Every genome in the journal is also in the cache.
        """
        seen = 0
        if state is not None:
            r = state["runner"]
            self.strategy.load_state_dict(state["strategy"])
            self.next_index, self.trained = r["next_index"], r["trained"]
            self.failures, self.aborted = r["failures"], r["aborted"]
            self.stop_reason, self.next_tell = r["stop_reason"], r["next_tell"]
            seen = min(r["journal_lines"], len(journal))
            self.pending = [_trial_from(t) for t in r["in_flight"]]
            self.attempts = {int(k): v for k, v in r["attempts"].items()}
        head, tail = journal[:seen], journal[seen:]
        by_index = {record["index"]: record for record in head}
        self.records = list(by_index.values())
        for record in journal:
            if record.get("cached_from") is None:
                self.cache.setdefault(record["id"], record)
        self.replay = {record["index"]: record for record in tail}
        self.journal_lines = len(journal)
        for index in state["runner"]["buffered"] if state else ():
            self.buffer[index] = (_trial_from(by_index[index]), by_index[index])
        for record in self.records:
            self.on_replay(record)
            self._check_target(record)

    def _resubmit_pending(self) -> None:
        pending, self.pending = self.pending, []
        for trial in pending:
            known = self.replay.pop(trial.index, None)
            if known is not None and known["id"] == trial.genome.id:
                self._finish(trial, known, replayed=True)
            elif trial.genome.id in self.cache:
                self._finish(trial, self._cached(trial, self.cache[trial.genome.id]))
            elif trial.genome.id in self.duplicates:
                self.duplicates[trial.genome.id].append(trial)
            else:
                self.duplicates[trial.genome.id] = []
                self.attempts[trial.index] = self.attempts.get(trial.index, 1) - 1
                self._submit(trial)

    def _checkpoint(self, force: bool = False) -> None:
        """Hand the state to ``on_checkpoint`` when something changed since the last time, at
        most every ``checkpoint_every`` seconds (a stale checkpoint is safe: resume replays the
        journal written after it)."""
        version = (self.next_index, len(self.records))
        if self.on_checkpoint is None or version == self._saved:
            return
        if not force and time.monotonic() - self._saved_at < self.checkpoint_every:
            return
        self.on_checkpoint(self.state_dict())
        self._saved, self._saved_at = version, time.monotonic()

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
            "rss_mb": result.get("rss_mb"),
            "started": result.get("started"),
            "time": time.time(),
            "attempts": self.attempts.get(trial.index, 0),
        }

    def _cached(self, trial: Trial, original: Record) -> Record:
        record = self._record(trial, {**original, "seconds": 0.0})
        record["status"] = "cached" if original["status"] == "ok" else original["status"]
        record["cached_from"] = original["index"]
        return record

    def _outcome(self) -> Outcome:
        direction = self.strategy.direction
        return Outcome(
            records=self.records,
            stop_reason=self.stop_reason,
            direction=direction,
            aborted=self.aborted,
            trained=self.trained,
            cached=sum(r.get("cached_from") is not None for r in self.records),
            failed=sum(r["status"] not in SUCCESS for r in self.records),
            best=best_record(self.records, direction),
        )


def _failure(status: str, reason: str) -> dict[str, Any]:
    return {"status": status, "fitness": None, "metrics": {}, "reason": reason}


def _trial_dict(trial: Trial) -> dict[str, Any]:
    return {
        "index": trial.index,
        "genome": trial.genome.to_dict(),
        "generation": trial.generation,
        "seed": trial.seed,
    }


def _trial_from(data: dict[str, Any]) -> Trial:
    """A trial from its checkpoint entry or from its history record."""
    genome = data.get("genome") or {
        "id": data["id"],
        "genes": data["genes"],
        "parents": data.get("parents", []),
        "origin": data.get("origin", "random"),
    }
    return Trial(data["index"], Genome.from_dict(genome), data["generation"], data["seed"])
