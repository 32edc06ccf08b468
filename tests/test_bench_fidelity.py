"""The learning-curve benchmark measures what it says: costs in epochs, the top set, the pick."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

fidelity = pytest.importorskip("fidelity")


@pytest.fixture(scope="module")
def table():
    return fidelity.Table()


def test_the_table_covers_the_space_with_whole_curves(table):
    assert len(table.curves) == 288
    assert all(len(seeds) == 2 and all(len(c) == 8 for c in seeds)
               for seeds in table.curves.values())  # fmt: skip
    best = max(table.means.values())
    assert best in {table.means[k] for k in table.top}
    line = min(table.means[k] for k in table.top)
    assert len(table.top) >= 3 and all(v < line for k, v in table.means.items()
                                       if k not in table.top)  # fmt: skip


def test_a_trace_charges_epochs_keeps_a_seed_per_lineage_and_sees_the_top(table):
    trace = fidelity.Trace(table, budget=100, rng=np.random.default_rng(0))
    key = next(iter(table.top))
    first = trace.train(key, 2, 2, "a")
    seed = trace.seeds["a"]
    assert first == table.curves[key][seed][1]
    assert trace.train(key, 8, 6, "a") == table.curves[key][seed][7]  # continued: 6 epochs
    assert trace.spent == 8 and trace.reached_top == 8
    assert trace.pick(2) == key and trace.pick(0) is None
    with pytest.raises(fidelity.Enough):
        trace.spent = 100
        trace.train(key, 1, 1, "b")


def test_the_pick_prefers_the_highest_fidelity_reached(table):
    trace = fidelity.Trace(table, budget=1000, rng=np.random.default_rng(1))
    keys = list(table.curves)
    best_at_one = max(keys, key=lambda k: max(c[0] for c in table.curves[k]))
    trace.train(best_at_one, 1, 1, "x")
    other = next(k for k in keys if k != best_at_one)
    trace.train(other, 8, 8, "y")
    assert trace.pick(1000) == other


def test_our_multi_fidelity_search_pays_only_the_extra_epochs(table):
    trace = fidelity.Trace(table, budget=120, rng=np.random.default_rng(2))
    fidelity.ours("ga", True, replacement="oldest")(trace, 0)  # stops at the budget
    assert 120 <= trace.spent < 130
    epochs = [e for _, _, e, _ in trace.seen]
    assert set(epochs) == {1, 2, 4, 8}
    assert trace.spent < sum(epochs)  # promotions were charged the difference only
