"""What a worker hands back for one genome: the typed contract between worker and parent.

Every backend (loky, dask, ray, inline) returns an ``Evaluation`` from ``run_trial``; the loop
turns it into a ``Record`` of the history. It pickles as a plain dataclass, and imports neither
TensorFlow nor Keras.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    """How an evaluation ended. A ``StrEnum``: ``Status.OK == "ok"`` and JSON writes ``"ok"``."""

    OK = "ok"
    """Trained; ``fitness`` is set."""
    CACHED = "cached"
    """The same genome (same id) was evaluated earlier in the run: its result, not trained."""
    FAILED = "failed"
    """The evaluation raised (or gave a non-finite fitness); ``reason`` says why."""
    TIMEOUT = "timeout"
    """It ran past the run's timeout."""
    DIED = "died"
    """Its worker process died on every try."""

    @property
    def succeeded(self) -> bool:
        """True for the statuses that carry a fitness (ok, cached)."""
        return self in (Status.OK, Status.CACHED)


@dataclass(frozen=True)
class Evaluation:
    """One genome's evaluation as the worker (or, for a lost one, the parent) saw it.

    ``environment`` marks a fault that is not the genome's (a full disk, a read-only run
    directory, data changed under the run): the loop records nothing, the run stops with
    ``reason``, and the evaluation runs again on resume. Its ``status`` is then ``FAILED``.
    """

    status: Status
    fitness: float | None = None
    """The objective's value (a finite float) when ``status`` is ``OK``; else ``None``."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Everything the fitness returned, as JSON-able values (``plain_metrics``)."""
    reason: str = ""
    """Why it failed, one line; empty on success."""
    environment: bool = False
    seconds: float | None = None
    """Wall time of the evaluation in the worker, in seconds."""
    started: float | None = None
    """When it started, seconds since the epoch."""
    rss_mb: float | None = None
    """The worker's resident memory after it, in MB."""
    pid: int | None = None
    host: str | None = None
    cuda_visible_devices: str | None = None

    @classmethod
    def failure(cls, status: Status, reason: str) -> Evaluation:
        """An evaluation that produced nothing (``status`` failed, timeout or died)."""
        return cls(Status(status), reason=reason)
