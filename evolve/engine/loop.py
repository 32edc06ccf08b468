"""The ask/tell loop: keep every worker busy, tell each result as it arrives, record it.

Scheduling only: failures and retries live in ``failures``, records in ``records``, the state
that checkpoints and resume carry in ``resume``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

from evolve.engine import faults
from evolve.engine.failures import FailurePolicy, Failures, strategy_call
from evolve.engine.records import Outcome, Record, Trial, trial_seed
from evolve.engine.resume import Checkpoints, Ledger, restore, snapshot
from evolve.engine.stopping import StopRules
from evolve.engine.telling import Teller
from evolve.execution.trial import run_trial
from evolve.search.base import DONE, WAIT, Proposal, Strategy
from genomes.genome import Genome

RecordHook = Callable[[Record], None]


class Loop:
    """Runs a strategy against a fitness on an executor, ``workers`` evaluations in flight.

    ``budget`` and ``target``: see ``StopRules``. Failures follow ``policy`` (``FailurePolicy``);
    after a worker death, ``renew`` (when given) returns a fresh executor. ``stop`` (when given)
    ends the task of a future the loop gave up waiting for (a worker that hangs past every
    timeout; see ``execution.stop``), and says whether the executor must be renewed.

    ``ordered=True`` tells results in the order they were asked, each ask seeing exactly the
    results of the genomes asked ``workers`` places before it: the run then repeats exactly
    for a fixed worker count even with a steady-state strategy, at the cost of idle workers
    whenever a later genome finishes before an earlier one.

    ``on_record`` sees each new record (to write the journal), ``on_replay`` each record read
    back on resume, ``on_checkpoint`` the state to save, at most every ``checkpoint_every`` s.
    The strategy ``observe``s every record (a scheduler such as the median rule reads the
    curves); each trial trains under its proposal's ``TrainingRequest``.
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
        policy: FailurePolicy | None = None,
        renew: Callable[[], Executor] | None = None,
        stop: Callable[[Executor, Future | None], bool] | None = None,
        checkpoint_every: float = 0.0,
        on_record: RecordHook | None = None,
        on_replay: RecordHook | None = None,
        on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.strategy = strategy
        self.fitness = fitness
        self.executor = executor
        self.workers = max(1, workers)
        self.seed = seed
        self.objective = objective
        self.ordered = ordered
        self.stops = StopRules(budget, target, strategy.direction, full=strategy.full_fidelity)
        self.failures = Failures(policy or FailurePolicy())
        self.renew = renew
        self.stop = stop
        self.on_record = on_record or (lambda record: None)
        self.on_replay = on_replay or (lambda record: None)
        self.ledger = Ledger()
        self.teller = Teller(strategy, self.ledger, self.workers, ordered)
        self.checkpoints = Checkpoints(on_checkpoint, checkpoint_every)
        self.in_flight: dict[Future, Trial] = {}
        self.submitted_at: dict[Future, float] = {}

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Ask, evaluate and tell until the strategy is done, a stop rule fires or the run
        aborts; returns the ``Outcome``. A strategy that waits with nothing in flight is a bug
        in it: ``RuntimeError``."""
        done = False
        pending, self.ledger.pending = self.ledger.pending, []
        for trial in pending:
            self._start(trial, resubmitted=True)
        suspects = self.failures.suspects
        while True:
            if suspects and not self.in_flight:
                self._submit(suspects.pop(0))
            elif not done and not suspects:
                done = self._fill()
            self._checkpoint()
            if not self.in_flight:
                if suspects:
                    continue
                if done:
                    break
                if self.ledger.buffer:
                    self.teller.ready(force=True)
                    continue
                raise RuntimeError(f"strategy '{self.strategy.name}' waits with nothing in flight")
            self._collect()
            self.teller.ready(force=done)
        self.teller.ready(force=True)
        self._checkpoint(force=True)
        self.ledger.stale += self.ledger.replay.values()  # journal lines nobody asked for again
        self.ledger.replay = {}
        return self._outcome()

    def _fill(self) -> bool:
        """Ask and submit until every worker is busy; True once nothing more will be asked."""
        ledger = self.ledger
        while len(self.in_flight) < self.workers:
            reason = self.stops.reason(ledger.trainings, self.failures)
            if reason is not None:
                ledger.stop_reason = reason
                return True
            if self.ordered:
                self.teller.through(ledger.next_index - self.workers, self._collect_or_fail)
            proposal = strategy_call(self.strategy.name, "ask", self.strategy.ask)
            if proposal is DONE:
                ledger.stop_reason = self.strategy.stop_reason or "the strategy finished"
                return True
            if proposal is WAIT:
                if self.ordered and ledger.next_tell < ledger.next_index:
                    self.teller.through(ledger.next_tell, self._collect_or_fail)
                    continue
                return False
            faults.point("ask")
            if isinstance(proposal, Genome):
                proposal = Proposal(proposal)
            assert isinstance(proposal, Proposal)
            trial = Trial(
                ledger.next_index,
                proposal.genome,
                self.strategy.generation,
                trial_seed(self.seed, ledger.next_index),
                proposal.request,
            )
            ledger.next_index += 1
            self._start(trial)
        return False

    def _start(self, trial: Trial, resubmitted: bool = False) -> None:
        """Answer a trial from the journal being replayed or the cache, wait for its twin in
        flight, or submit it."""
        ledger, gid = self.ledger, trial.key
        known = ledger.replay.pop(trial.index, None)
        if known is not None and known.key != gid:  # the resumed run asked something else
            ledger.stale.append(known)
        if known is not None and known.key == gid:
            ledger.trainings += known.cached_from is None and not resubmitted
            self._finish(trial, known, replayed=True)
        elif gid in ledger.cache:
            self._finish(trial, trial.cached(ledger.cache[gid]))
        elif gid in ledger.twins:
            ledger.twins[gid].append(trial)
        else:
            ledger.twins[gid] = []
            if resubmitted:  # counted when it was first submitted, before the interruption
                attempts = self.failures.attempts
                attempts[trial.index] = attempts.get(trial.index, 1) - 1
            else:
                ledger.trainings += 1
            self._submit(trial)

    def _submit(self, trial: Trial) -> None:
        self.failures.submitted(trial)
        g = trial.genome
        future = self.executor.submit(
            run_trial, self.fitness, dict(g.genes), trial.seed, g.id, self.objective,
            self.failures.policy.hard_timeout, trial.request.keywords(),
        )  # fmt: skip
        self.in_flight[future] = trial
        self.submitted_at[future] = time.monotonic()

    def _collect(self) -> None:
        """Wait for at least one evaluation to finish (or to be abandoned) and record it."""
        limit = self.failures.policy.abandon_after
        finished, _ = wait(
            list(self.in_flight), timeout=self._next_deadline(), return_when=FIRST_COMPLETED
        )
        now = time.monotonic()
        overdue = [f for f in self.in_flight if limit and now - self.submitted_at[f] >= limit]
        broken, fault = False, None
        for future in sorted({*finished, *overdue}, key=lambda f: self.in_flight[f].index):
            trial = self.in_flight.pop(future)
            elapsed = now - self.submitted_at.pop(future)
            result, died = self.failures.result_of(trial, future, future in finished, elapsed)
            broken |= died
            if future not in finished and self.stop is not None:  # it hangs: end it there
                broken |= self.stop(self.executor, future)
            if result is None:
                continue
            if result.environment:  # raised once the others of the batch are in
                fault = fault or (trial, result)
                continue
            if self.failures.retry_failure(trial, result):
                self._submit(trial)
                continue
            record = trial.record(result, self.failures.attempts.get(trial.index, 0))
            self.ledger.cache[trial.key] = record
            self._finish(trial, record)
            for twin in self.ledger.twins.pop(trial.key, []):
                self._finish(twin, twin.cached(record))
        if fault is not None:
            self.failures.check_environment(*fault)
        if broken and self.renew is not None:
            self.executor = self.renew()

    def _collect_or_fail(self) -> None:
        if not self.in_flight:
            raise RuntimeError(f"result {self.ledger.next_tell} is neither in flight nor finished")
        self._collect()

    def _next_deadline(self) -> float | None:
        limit = self.failures.policy.abandon_after
        if not limit:
            return None
        oldest = min(self.submitted_at.values())
        return max(0.0, oldest + limit - time.monotonic())

    def _finish(self, trial: Trial, record: Record, replayed: bool = False) -> None:
        ledger = self.ledger
        ledger.records.append(record)
        self.failures.tally(record, len(ledger.records))
        self.stops.see(record)
        self._observe(record)
        if replayed:
            self.on_replay(record)
        else:
            ledger.journal_lines += 1
            self.on_record(record)
        ledger.buffer[trial.index] = (trial, record)
        if not self.ordered:
            self.teller.ready(force=True)

    # -- checkpoint and resume -------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The loop's state and the strategy's, as plain data (see ``restore``)."""
        return snapshot(self.ledger, self.failures, self.strategy, list(self.in_flight.values()))

    def restore(self, state: dict[str, Any] | None, journal: list[Record]) -> None:
        """Continue from a checkpoint (``None``: from the start) and the journal's records."""
        restore(self.ledger, self.failures, self.strategy, state, journal)
        for record in self.ledger.records:
            self.on_replay(record)
            self.stops.see(record)
            self._observe(record)

    def _observe(self, record: Record) -> None:
        """The strategy sees ``record`` (its schedulers may read it); ``StrategyError`` if it
        raises, as for ``ask`` and ``tell``, on resume too."""
        strategy_call(self.strategy.name, "observe", lambda: self.strategy.observe(record))

    @property
    def pending(self) -> list[Trial]:
        """Trials that were in flight when the restored run stopped: they run again."""
        return self.ledger.pending

    def _checkpoint(self, force: bool = False) -> None:
        version = (self.ledger.next_index, len(self.ledger.records))
        self.checkpoints.offer(version, self.state_dict, force)

    def _outcome(self) -> Outcome:
        f, records = self.failures, self.ledger.records
        failed = sum(not r.succeeded for r in records)
        reason = f.describe(failed, len(records)) if f.aborted else self.ledger.stop_reason
        direction = self.strategy.direction
        return Outcome.of(records, reason, direction, f.aborted, self.ledger.trainings)
