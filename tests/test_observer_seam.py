"""The observer seam (``evolve.engine.observers``): an observer of yours is told of every record,
every replayed one and the end, without editing the session; persisting a record never
changes it. Pure-Python fitness, no TensorFlow."""

from __future__ import annotations

import json

import pytest

import evolve
from evolve.engine.observers import Observer, Observers
from evolve.engine.records import Record, Status
from evolve.rundir.store import RunDir
from evolve.settings.config import ConfigError

SPACE = {"x": {"type": "int", "min": 0, "max": 20}, "y": {"type": "choice", "values": [1, 2, 3]}}


def fitness(genes):
    if genes["x"] == 13:
        raise ValueError("unlucky")
    return -abs(genes["x"] - 7) + genes["y"]


class Recorder(Observer):
    """Notes every call, and what the journal held when each record was told."""

    def __init__(self, history=None):
        self.calls: list[tuple[str, object]] = []
        self.history = history

    def on_record(self, record):
        on_disk = self.history.read_text().count("\n") if self.history else None
        self.calls.append(("record", (record.index, on_disk)))

    def on_replay(self, record):
        self.calls.append(("replay", record.index))

    def on_finish(self, outcome):
        self.calls.append(("finish", outcome.stop_reason))


@pytest.mark.unit
def test_an_observer_of_yours_sees_every_record_after_the_journal_and_then_the_end(tmp_path):
    out = tmp_path / "run"
    seen = Recorder(out / "history.jsonl")
    outcome = evolve.optimize(SPACE, fitness, population=6, generations=2, out=out,
                              observers=[seen])  # fmt: skip
    records = [what for kind, what in seen.calls if kind == "record"]
    assert [index for index, _ in records] == [r.index for r in outcome.records]
    assert all(on_disk >= n + 1 for n, (_, on_disk) in enumerate(records))  # journal first
    assert seen.calls[-1] == ("finish", outcome.stop_reason)


def test_a_resumed_run_replays_its_history_to_the_observers(tmp_path):
    out = tmp_path / "run"
    first = evolve.optimize(SPACE, fitness, population=4, generations=1, out=out)
    seen = Recorder()
    more = evolve.resume(out, fitness, generations=1, observers=[seen])
    replayed = [what for kind, what in seen.calls if kind == "replay"]
    told = [index for kind, (index, _) in
            ((k, w) for k, w in seen.calls if k == "record")]  # fmt: skip
    assert replayed == [r.index for r in first.records]
    assert told == [r.index for r in more.records[len(first.records):]] and told
    assert seen.calls[-1][0] == "finish"


@pytest.mark.unit
def test_an_observer_needs_only_the_hooks_it_uses():
    class Ends:
        def __init__(self):
            self.outcome = None

        def on_finish(self, outcome):
            self.outcome = outcome

    ends = Ends()
    outcome = evolve.optimize(SPACE, fitness, population=4, generations=1, observers=[ends])
    assert ends.outcome is outcome


@pytest.mark.unit
@pytest.mark.parametrize("bad", [object(), "journal", [print], 3])
def test_something_that_is_not_an_observer_is_one_line_before_anything_runs(bad):
    observers = bad if isinstance(bad, (str, int, list)) else [bad]
    with pytest.raises(ConfigError, match="observer") as caught:
        evolve.optimize(SPACE, fitness, population=4, generations=1, observers=observers)
    assert "\n" not in str(caught.value)


@pytest.mark.unit
def test_observers_are_told_in_the_order_they_were_registered():
    calls = []

    class Named(Observer):
        def __init__(self, name):
            self.name = name

        def on_record(self, record):
            calls.append(self.name)

    fan = Observers([Named("a")])
    fan.add(None)
    fan.add(Named("b"))
    fan.on_record(Record(index=0, id="g", generation=0, genes={}, seed=0, status=Status.OK,
                         fitness=1.0))  # fmt: skip
    assert calls == ["a", "b"]


@pytest.mark.unit
def test_writing_a_record_to_the_journal_leaves_the_record_as_it_was(tmp_path):
    run = RunDir(tmp_path / "run")
    run.create()
    model = str(run.models.resolve() / "abc.keras")
    record = Record(index=0, id="abc", generation=0, genes={"x": 1}, seed=0, status=Status.OK,
                    fitness=1.0, metrics={"model_path": model, "val_loss": 0.5})  # fmt: skip
    before = json.dumps(record.to_json())
    run.append(record)
    run.close()
    assert json.dumps(record.to_json()) == before
    line = json.loads(run.history.read_text())
    assert line["metrics"] == {"model_path": "models/abc.keras", "val_loss": 0.5}
