"""Who watches a run: observers registered on it, each told of every record and of the end.

The journal, the model keeper, the console (progress bar, lines, plots), TensorBoard's failed
sessions and a user's ``on_record`` callback are all observers: the session only registers
them, in order, and the loop tells them. An observer of your own is any object with these
methods (subclass ``Observer`` to get the ones you do not need as no-ops), given as
``observers=[...]`` to ``evolve.optimize``, ``evolve.resume`` or ``evolve.search_keras``.

An observer must not change the records it is given: others read the same objects after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evolve.engine.records import Outcome, Record


class Observer:
    """Hooks a run calls; each does nothing here."""

    def on_record(self, record: Record) -> None:
        """A new evaluation finished (trained, failed or answered from the cache)."""

    def on_replay(self, record: Record) -> None:
        """A record of the history read back when a run resumes (not new: nothing to write)."""

    def on_finish(self, outcome: Outcome) -> None:
        """The search is over (``outcome.stop_reason`` says why); before the final report."""


class Observers(Observer):
    """Several observers, told in the order they were registered."""

    def __init__(self, observers: Iterable[object] = ()) -> None:
        self.observers: list[object] = list(observers)

    def add(self, observer: object | None) -> None:
        """Register ``observer`` after those already registered (``None``: nothing)."""
        if observer is not None:
            self.observers.append(observer)

    def on_record(self, record: Record) -> None:
        self._tell("on_record", record)

    def on_replay(self, record: Record) -> None:
        self._tell("on_replay", record)

    def on_finish(self, outcome: Outcome) -> None:
        self._tell("on_finish", outcome)

    def _tell(self, hook: str, what: object) -> None:
        """Call ``hook`` on each observer that has it (one of yours may define only some)."""
        for observer in self.observers:
            method = getattr(observer, hook, None)
            if method is not None:
                method(what)


class Callback(Observer):
    """A plain function called with each new record (the API's ``on_record``)."""

    def __init__(self, function: Callable[[Record], None]) -> None:
        self.function = function

    def on_record(self, record: Record) -> None:
        self.function(record)


def check_observers(observers: Iterable[object]) -> list[object]:
    """The observers as a list; ``TypeError`` (one line) when ``observers`` is not a list of
    objects that each have at least one of an observer's methods."""
    if isinstance(observers, (str, bytes)) or not isinstance(observers, Iterable):
        raise TypeError(f"observers must be a list of observers, got {observers!r}")
    found = list(observers)
    hooks = ("on_record", "on_replay", "on_finish")
    for observer in found:
        if not any(callable(getattr(observer, hook, None)) for hook in hooks):
            raise TypeError(
                f"an observer needs on_record, on_replay or on_finish; got {observer!r}"
            )
    return found
