"""TensorBoard: every trained genome's curves and genes, read back with TensorBoard's own
reader (issue 14, work in progress on this branch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")

ROOT = Path(__file__).resolve().parent.parent


def test_every_genome_has_its_hparams_and_validation_curves(tmp_path):
    import json

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_evolution.py"), "run", "--population", "3",
         "--generations", "1", "--epochs", "2", "--workers", "1", "--tensorboard",
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    for record in records:
        folder = out / "tensorboard" / record["id"]
        events = EventAccumulator(str(folder))
        events.Reload()
        content = events.PluginTagToContent("hparams")  # the session's start and end
        start = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_start_info"]
        ).session_start_info
        assert start.hparams["layers"].number_value == record["genes"]["layers"]
        validation = EventAccumulator(str(folder / "validation"))
        validation.Reload()
        assert "epoch_accuracy" in validation.Tags()["tensors"]
        steps = [e.step for e in validation.Tensors("epoch_accuracy")]
        assert len(steps) == record["metrics"]["epochs"]
