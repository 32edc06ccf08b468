"""The one error a run directory raises."""

from __future__ import annotations


class RunDirError(ValueError):
    """The run directory cannot be used; one line that says why."""
