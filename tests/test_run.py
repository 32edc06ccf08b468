"""The ask/tell loop with custom fitness functions: order, dedupe, failures, reproducibility."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import evolve
from evolve.engine.loop import Loop
from evolve.execution.inline import InlineExecutor
from evolve.search import DONE, WAIT, Strategy, make_strategy
from genomes import SearchSpace

SPACE = {f"x{i}": {"type": "int", "min": 0, "max": 7} for i in range(4)}


def toy(genes: dict) -> float:
    target = (7, 2, 5, 1)
    return -float(sum((v - t) ** 2 for v, t in zip(genes.values(), target, strict=True)))


def jittery(salt: str):
    """The toy fitness with a delay that depends on the genome and ``salt``: results arrive
    in an order that differs from the order they were asked in."""

    def fitness(genes: dict) -> float:
        digest = hashlib.sha256((json.dumps(genes) + salt).encode()).digest()
        time.sleep(digest[0] / 255 * 0.01)
        return toy(genes)

    return fitness


def patient(genes: dict) -> float:
    """The toy fitness, slow enough (0.2 s) that both pooled workers are up before the run ends."""
    time.sleep(0.2)
    return toy(genes)


def run(strategy_name: str, workers: int, salt: str, ordered: bool = False, **params):
    space = SearchSpace.from_config(SPACE)
    strategy = make_strategy(strategy_name, space, "maximize", 42, **params)
    executor = InlineExecutor() if workers == 1 else ThreadPoolExecutor(workers)
    outcome = Loop(
        strategy,
        jittery(salt),
        executor,
        workers=workers,
        seed=42,
        ordered=ordered,
        budget=params.get("budget", 0),
    ).run()
    arrival = [r["index"] for r in outcome.records]
    history = sorted(
        (r["index"], r["id"], r["seed"], r["status"], r["fitness"]) for r in outcome.records
    )
    return history, arrival


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ga", {"population": 8, "generations": 5}),
        ("ga", {"population": 8, "generations": 5, "selection": "tournament", "elitism": 2}),
        ("grid", {"budget": 40}),
        ("random", {"budget": 30}),
    ],
)
def test_generational_strategies_repeat_whatever_the_workers_and_arrival_order(name, params):
    reference, _ = run(name, 1, "a", **params)
    shuffled = False
    for workers, salt in [(2, "a"), (3, "b"), (4, "c")]:
        history, arrival = run(name, workers, salt, **params)
        assert history == reference
        shuffled |= arrival != sorted(arrival)
    assert shuffled, "results never arrived out of order: the test proves nothing"


@pytest.mark.unit
def test_steady_state_in_ordered_mode_repeats_at_a_fixed_worker_count():
    params = {"population": 6, "generations": 6, "replacement": "oldest", "selection": "tournament"}
    first, arrival_a = run("ga", 3, "a", ordered=True, **params)
    second, arrival_b = run("ga", 3, "b", ordered=True, **params)
    assert first == second
    assert arrival_a != arrival_b
    assert len(first) == 36


class Scripted(Strategy):
    """Proposes a fixed list of genomes (repeats included), then stops."""

    name = "scripted"

    def __init__(self, space, genes):
        super().__init__(space)
        self.todo = [space.genome(g) for g in genes]
        self.told = []

    def ask(self):
        return self.todo.pop(0) if self.todo else DONE

    def tell(self, genome, fitness):
        self.told.append((genome.id, fitness))


@pytest.mark.unit
def test_a_genome_evaluated_before_is_never_trained_again():
    space = SearchSpace.from_config({"a": [1, 2, 3]})
    calls = []

    def fitness(genes):
        calls.append(genes["a"])
        time.sleep(0.02)
        return float(genes["a"])

    strategy = Scripted(space, [{"a": 1}, {"a": 1}, {"a": 2}, {"a": 1}, {"a": 3}, {"a": 2}])
    outcome = Loop(strategy, fitness, ThreadPoolExecutor(2), workers=2).run()
    assert sorted(calls) == [1, 2, 3]
    assert outcome.trained == 3 and outcome.cached == 3
    by_index = sorted(outcome.records, key=lambda r: r["index"])
    assert [r["status"] for r in by_index] == ["ok", "cached", "ok", "cached", "ok", "cached"]
    assert by_index[1]["cached_from"] == 0 and by_index[5]["cached_from"] == 2  # a twin in flight
    assert sorted(strategy.told) == sorted((r["id"], r["fitness"]) for r in by_index)


@pytest.mark.unit
def test_failures_are_recorded_with_a_reason_and_score_worst():
    space = SearchSpace.from_config(SPACE)

    def fragile(genes):
        if genes["x0"] == 0:
            raise MemoryError("out of memory\nwith a second line")
        if genes["x0"] == 1:
            return float("nan")
        return toy(genes)

    strategy = make_strategy("ga", space, "maximize", 0, population=10, generations=4)
    outcome = Loop(strategy, fragile, InlineExecutor()).run()
    failed = [r for r in outcome.records if r["status"] == "failed"]
    assert failed and outcome.failed == len(failed)
    reasons = {r["reason"] for r in failed}
    assert (
        "MemoryError: out of memory with a second line" in reasons
        or "ValueError: fitness is nan" in reasons
    )
    assert all("\n" not in r for r in reasons)
    assert outcome.best is not None and outcome.best["genes"]["x0"] not in (0, 1)


@pytest.mark.unit
def test_a_dict_of_metrics_and_an_objective_to_minimise():
    outcome = evolve.optimize(
        SPACE,
        lambda g: {"loss": -toy(g), "size": sum(g.values())},
        objective="loss",
        direction="minimize",
        population=10,
        generations=6,
        seed=3,
    )
    losses = [r["fitness"] for r in outcome.records]
    assert outcome.best["fitness"] == min(losses)
    assert outcome.best["metrics"]["size"] == sum(outcome.best["genes"].values())


@pytest.mark.unit
def test_budget_caps_the_number_of_trainings():
    outcome = evolve.optimize(SPACE, toy, strategy="random", budget=7, seed=1)
    assert outcome.trained == 7 and "budget" in outcome.stop_reason


@pytest.mark.unit
def test_a_strategy_that_waits_with_nothing_in_flight_is_an_error():
    class Stuck(Scripted):
        def ask(self):
            return WAIT

    with pytest.raises(RuntimeError, match="waits with nothing in flight"):
        Loop(Stuck(SearchSpace.from_config({"a": [1]}), []), toy, InlineExecutor()).run()


def test_optimize_writes_the_history_as_json_lines(tmp_path):
    outcome = evolve.optimize(SPACE, toy, population=6, generations=3, out=tmp_path / "run")
    lines = (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == json.loads(
        json.dumps([r.to_json() for r in outcome.records])
    )


def test_real_worker_processes_give_the_same_history_as_one_process():
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    common = {"population": 6, "generations": 3, "seed": 5}
    inline = evolve.optimize(SPACE, jittery("a"), workers=1, **common)
    pooled = evolve.optimize(SPACE, patient, workers=2, backend="loky", **common)
    key = lambda o: sorted((r["index"], r["id"], r["fitness"]) for r in o.records)  # noqa: E731
    assert key(inline) == key(pooled)
    pids = {r["pid"] for r in pooled.records}
    assert len(pids) == 2 and os.getpid() not in pids


@pytest.mark.unit
def test_a_users_own_executor_runs_the_evaluations_concurrently():
    from concurrent.futures import ThreadPoolExecutor

    threads, busy, most = set(), [0], [0]
    lock = threading.Lock()

    def waiting(genes: dict) -> float:
        with lock:
            threads.add(threading.get_ident())
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.02)
        with lock:
            busy[0] -= 1
        return toy(genes)

    common = {"population": 8, "generations": 3, "seed": 2}
    with ThreadPoolExecutor(4) as pool:
        threaded = evolve.optimize(SPACE, waiting, workers=4, executor=pool, **common)
    inline = evolve.optimize(SPACE, toy, **common)
    key = lambda o: sorted((r["index"], r["id"], r["fitness"]) for r in o.records)  # noqa: E731
    assert key(threaded) == key(inline)
    assert most[0] == 4 and len(threads) == 4
