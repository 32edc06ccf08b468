"""What a fitness returns reaches the journal as plain JSON (``evolve.execution.plain``):
numpy scalars and arrays, booleans, tuples and nested dicts become JSON values, non-finite
numbers become null, and a metric with no JSON value fails its evaluation, named."""

from __future__ import annotations

import json

import numpy as np
import pytest

import evolve
from evolve.engine.records import Status
from support import SPACE, history


def test_numpy_metrics_are_written_as_plain_numbers(tmp_path):
    def fitness(genes):
        return {"fitness": np.float32(0.9), "val_loss": np.float32(0.3)}

    out = tmp_path / "run"
    outcome = evolve.optimize(SPACE, fitness, out=out, population=4, generations=1)
    lines = history(out)
    assert len(lines) == 4 and all(r["status"] == "ok" for r in lines)
    assert lines[0]["metrics"] == {"fitness": pytest.approx(0.9), "val_loss": pytest.approx(0.3)}
    assert type(lines[0]["fitness"]) is float
    again = evolve.resume(out, fitness, generations=1)
    assert len(again.records) == 4 + 3 and outcome.best is not None


@pytest.mark.unit
def test_arrays_booleans_and_nested_values_become_json():
    def fitness(genes):
        return {"fitness": np.array(1.5), "good": np.bool_(True), "shape": (np.int64(3), 4),
                "more": {"n": np.int32(2)}}  # fmt: skip

    record = evolve.optimize(SPACE, fitness, strategy="random", budget=1).records[0]
    assert record.status == Status.OK
    assert record.metrics == {"fitness": 1.5, "good": True, "shape": [3, 4], "more": {"n": 2}}
    json.dumps(record.to_json())


@pytest.mark.unit
def test_a_metric_without_a_json_value_fails_that_evaluation_by_name(tmp_path):
    def fitness(genes):
        return {"fitness": 1.0, "model": object()}

    out = tmp_path / "run"
    outcome = evolve.optimize(SPACE, fitness, out=out, strategy="random", budget=2)
    assert [r["status"] for r in history(out)] == ["failed", "failed"]
    assert "metric 'model' is of type object" in outcome.records[0].reason


@pytest.mark.unit
def test_non_finite_and_array_metrics_are_strict_json(tmp_path):
    def fitness(genes):
        return {"fitness": 1.0, "loss": float("nan"), "curve": np.arange(3), "grid": np.eye(2)}

    out = tmp_path / "run"
    record = evolve.optimize(SPACE, fitness, out=out, strategy="random", budget=1).records[0]
    assert record.metrics == {"fitness": 1.0, "loss": None, "curve": [0, 1, 2],
                              "grid": [[1.0, 0.0], [0.0, 1.0]]}  # fmt: skip
    line = (out / "history.jsonl").read_text()
    assert "NaN" not in line and json.loads(line, parse_constant=lambda c: 1 / 0)
