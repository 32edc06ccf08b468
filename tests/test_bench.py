"""The benchmark harness measures what it says: look-up, top set, first hit, pick and regret."""

from __future__ import annotations

import csv
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from peers import truncation_ga
from search_efficiency import first_hit, ours, pick, summarize
from tabular import Table, Trace, key_of

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes

VALUES = {
    "dropout": [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5],
    "learning_rate": [0.0001, 0.001, 0.01, 0.1],
    "filters": [64, 128, 192, 256],
    "kernel_size": [3, 5, 7],
}


def quality(dropout, learning_rate, filters, kernel_size) -> float:
    """A smooth landscape with one best configuration: dropout 0.2, lr 0.001, 256, 5."""
    return (
        0.95
        - 0.2 * abs(dropout - 0.2)
        - 0.05 * abs(math.log10(learning_rate) + 3)
        - 0.0002 * (256 - filters)
        - 0.01 * abs(kernel_size - 5)
    )


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Table:
    path = tmp_path_factory.mktemp("table") / "table.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dropout", "learning_rate", "filters", "kernel_size", "seed", "status",
                         "val_accuracy", "fit_seconds", "epochs_run"])  # fmt: skip
        for genes in itertools.product(*VALUES.values()):
            for seed, noise in ((0, -0.001), (1, 0.001)):
                writer.writerow([*genes, seed, "ok", quality(*genes) + noise, 1.0, 1])
        writer.writerow([0.5, 0.1, 64, 3, 2, "failed", "", "", ""])
    return Table.load(path)


def test_the_table_keys_match_the_engines_genomes_and_averages_the_seeds(table):
    assert len(table.keys) == 288
    best = key_of({"dropout": 0.2, "learning_rate": 0.001, "filters": 256, "kernel_size": 5})
    assert table.top(0.01) >= {best} and len(table.top(0.01)) == 3
    assert table.mean(best) == pytest.approx(quality(0.2, 0.001, 256, 5))
    assert table.regret(best) == 0
    failed = key_of([0.5, 0.1, 64, 3])
    assert len(table.scores[failed]) == 3 and 0.0 in table.scores[failed]
    rng = np.random.default_rng(0)
    draws = {table.draw(best, rng) for _ in range(50)}
    assert len(draws) == 2, "a training gives one seed's result at random"


def test_first_hit_pick_and_regret_follow_the_trace(table):
    top = table.top(0.01)
    best = max(table.keys, key=table.mean)
    worst = min(table.keys, key=table.mean)
    trace = Trace(table, top, cap=288, horizon=2)
    trace.append((worst, 0.99))  # a lucky draw: the pick follows observations, regret the truth
    trace.append((best, 0.90))
    assert first_hit(trace, top) == 2
    assert pick(trace, 1) == worst and pick(trace, 2) == worst
    assert first_hit(trace[:1], top) == math.inf


def test_a_trace_is_enough_after_a_hit_and_the_horizon_or_at_the_cap(table):
    top = table.top(0.01)
    rng = np.random.default_rng(0)
    trace = Trace(table, top, cap=5, horizon=3)
    trace.train(next(iter(top)), rng)
    assert not trace.enough()
    trace.train(table.keys[0], rng)
    trace.train(table.keys[1], rng)
    assert trace.enough()
    capped = Trace(table, top, cap=2, horizon=100)
    outside = [k for k in table.keys if k not in top]
    capped.train(outside[0], rng)
    capped.train(outside[1], rng)
    assert capped.enough() and not capped.found


def test_our_ga_and_the_truncation_peer_find_the_top_of_an_easy_landscape(table):
    top = table.top(0.01)
    traces = []
    for seed in range(3):
        traces.append(Trace(table, top, cap=288, horizon=100))
        ours("ga", selection="tournament")(table, seed, traces[-1])
        assert len({k for k, _ in traces[-1]}) == len(traces[-1]), "our GA never retrains"
    row = summarize(table, traces)
    assert row["median"] < 150 and row["repeats"] == 0
    peer = Trace(table, top, cap=120, horizon=100)
    truncation_ga(table, 0, peer)
    assert 100 <= len(peer) <= 120
