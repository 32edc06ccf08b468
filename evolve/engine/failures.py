"""Failures and retries: what a lost evaluation becomes, when to run one again, when to stop.

A genome's own failure (it raised, gave a NaN, ran past the timeout) is a result. A worker
process that dies takes every evaluation in flight on its pool with it; each of those runs again
*alone*, so that the genome that kills its worker is told apart from the bystanders.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from evolve.engine.records import Record, Status, Trial
from evolve.execution import is_worker_death
from evolve.execution.evaluation import Evaluation
from evolve.execution.trial import one_line

ABORT_AFTER = 10
"""Evaluations before the failure share may stop a run."""
ABANDON_MARGIN = 5.0
"""Seconds past the hard timeout before the loop stops waiting: time for a loky worker's
watchdog to end the process and for the pool to report it."""


@dataclass(frozen=True)
class FailurePolicy:
    """How a run treats failures.

    ``timeout`` (seconds, 0: none) is enforced inside training (the Keras problem stops at the
    next batch), by a watchdog that ends a hung loky worker at ``hard_timeout``, and by the loop,
    which gives up waiting for any backend's evaluation at ``abandon_after``.
    """

    timeout: float = 0.0
    retries_on_death: int = 1
    """Runs again, alone, of an evaluation whose worker process died."""
    retries_on_failure: int = 0
    """Runs again of an evaluation that raised (failures are usually deterministic)."""
    max_failure_share: float = 0.5
    """Stop the run when more than this share of evaluations failed (after ``ABORT_AFTER``)."""

    @property
    def hard_timeout(self) -> float:
        """Seconds after which a loky worker's watchdog ends the process (0: never)."""
        return self.timeout * 1.25 + 2 if self.timeout else 0.0

    @property
    def abandon_after(self) -> float:
        """Seconds after which the loop records a timeout without waiting any longer (0: never)."""
        return self.hard_timeout + ABANDON_MARGIN if self.timeout else 0.0


class EnvironmentFault(OSError):
    """The environment failed an evaluation (a full disk, a read-only run directory): the run
    stops with this one-line error; the evaluation is not recorded and runs again on resume."""


class StrategyError(RuntimeError):
    """The strategy raised in ``ask``, ``tell`` or ``observe`` (a bug in a strategy of yours,
    most likely): the run stops with this one line; the finished evaluations are kept, so the
    run resumes once the strategy is fixed. The original exception is its ``__cause__``."""


def strategy_call(name: str, what: str, call: Callable[[], Any]) -> Any:
    """``call()``, a method ``what`` of the strategy ``name``; ``StrategyError`` (one line,
    the original as its cause) when it raises anything but ``KeyboardInterrupt``."""
    try:
        return call()
    except Exception as exc:
        text = " ".join(str(exc).split())[:300]
        reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        raise StrategyError(f"the strategy {name} failed in {what}(): {reason}") from exc


@dataclass
class Failures:
    """Attempts per evaluation, the trials waiting to run again alone, and the abort rule."""

    policy: FailurePolicy = field(default_factory=FailurePolicy)
    attempts: dict[int, int] = field(default_factory=dict)
    """Submissions so far, by trial index."""
    suspects: list[Trial] = field(default_factory=list)
    """Trials whose worker died: each runs again, alone."""
    count: int = 0
    aborted: bool = False
    reason: str = ""

    def submitted(self, trial: Trial) -> None:
        self.attempts[trial.index] = self.attempts.get(trial.index, 0) + 1

    def check_environment(self, trial: Trial, result: Evaluation) -> None:
        """Raise ``EnvironmentFault`` for a result that the environment spoiled."""
        if result.environment:
            raise EnvironmentFault(
                f"the run stopped: {result.reason} (genome {trial.genome.id}, not its fault); "
                "fix that (free the space, mend the run directory, or put the data back), then "
                "resume: finished evaluations are kept and this one runs again"
            )

    def retry_failure(self, trial: Trial, result: Evaluation) -> bool:
        """Whether a failed result earns another run (``retries_on_failure``)."""
        return (
            result.status == Status.FAILED
            and self.attempts[trial.index] <= self.policy.retries_on_failure
        )

    def lost(self, trial: Trial, exc: BaseException, elapsed: float) -> Evaluation | None:
        """The result of an evaluation whose future raised; ``None`` when it will run again."""
        if not is_worker_death(exc):
            return Evaluation.failure(Status.FAILED, f"worker failed: {one_line(exc)}")
        timeout = self.policy.timeout
        if timeout and elapsed >= timeout:
            why = f"ran past the {timeout:g} s timeout; worker replaced"
            return Evaluation.failure(Status.TIMEOUT, why)
        if self.attempts[trial.index] <= self.policy.retries_on_death:
            self.suspects.append(trial)
            return None
        tries = self.attempts[trial.index]
        return Evaluation.failure(
            Status.DIED, f"its worker process died ({tries} of {tries} tries): {one_line(exc)}"
        )

    def result_of(
        self, trial: Trial, future: Future, finished: bool, elapsed: float
    ) -> tuple[Evaluation | None, bool]:
        """The result of a ``finished`` future, or of one the loop stops waiting for; ``None``
        when the trial will run again. Also whether the worker process died."""
        if not finished:
            future.cancel()
            return self.abandoned(), False
        try:
            return future.result(), False
        except Exception as exc:
            return self.lost(trial, exc, elapsed), is_worker_death(exc)

    def abandoned(self) -> Evaluation:
        """The result of an evaluation the loop stopped waiting for."""
        seconds = self.policy.abandon_after
        return Evaluation.failure(
            Status.TIMEOUT, f"no result {seconds:g} s after submission: abandoned (timeout)"
        )

    def tally(self, record: Record, finished: int) -> None:
        """Count a finished record; past the share, mark the run aborted with a reason."""
        if record.succeeded:
            return
        self.count += 1
        share = self.policy.max_failure_share
        if finished >= ABORT_AFTER and self.count / finished > share and not self.aborted:
            self.aborted = True
            self.reason = self.describe(self.count, finished)

    def describe(self, failed: int, finished: int) -> str:
        """The stop reason of an aborted run, with its counts (the loop gives the final ones:
        results that finished together with the one that tipped the share count too)."""
        return (
            f"stopped early: {failed} of {finished} evaluations failed (more than "
            f"{self.policy.max_failure_share:.0%}); their reasons are in the history"
        )
