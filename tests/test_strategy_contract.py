"""The contract every registered strategy keeps (issue 21, point 7): a strategy is tested by
being registered. Each one, built-in or not, is driven through the same checks: it asks valid
genomes and stops, the same seed repeats it, failures are told and the run goes on, and its state
survives a JSON round trip mid-run. Pure-Python fitness, no TensorFlow."""

from __future__ import annotations

import json

import numpy as np
import pytest

import evolve
from evolve.search import DONE, WAIT, make_strategy
from evolve.search.base import Proposal
from evolve.search.registry import strategies
from genomes import SearchSpace

SPACE = {"x": {"type": "int", "min": 0, "max": 9}, "y": ["a", "b", "c"], "z": [0.1, 0.2]}
BUDGET = 10


def fitness(genes):
    if genes["x"] == 3:
        raise ValueError("three is unlucky")
    return float(genes["x"]) + {"a": 0.0, "b": 0.5, "c": 1.0}[genes["y"]] - genes["z"]


def settings(name):
    """Small settings every strategy accepts, a few random starts for the model-based ones."""
    found = {"population": 4, "generations": 3, "budget": 6 if name in MODEL_BASED else BUDGET}
    if any(s.name == "startup_trials" for s in strategies()[name].settings):
        found["startup_trials"] = 3
    return found


MODEL_BASED = {"gp", "smac"}
"""Strategies that fit a model at every ask (SMAC3): seconds per run, so the integration lane."""
NAMES = [
    pytest.param(name, marks=pytest.mark.integration if name in MODEL_BASED else pytest.mark.unit)
    for name in strategies()
]


@pytest.mark.parametrize("name", NAMES)
def test_a_strategy_asks_valid_distinct_genomes_and_stops(name):
    outcome = evolve.optimize(SPACE, fitness, strategy=name, seed=1,
                              **settings(name))  # fmt: skip
    space = SearchSpace.from_config(SPACE)
    assert 0 < len(outcome.records) <= BUDGET + 1 and outcome.stop_reason
    for record in outcome.records:
        assert space.genome(record.genes).id == record.id  # every genome lies in the space
    trained = [r.id for r in outcome.records if r.cached_from is None and not r.repeat]
    assert len(trained) == len(set(trained))  # none trained twice


@pytest.mark.parametrize("name", NAMES)
def test_the_same_seed_repeats_a_strategy(name):
    runs = [
        [r.id for r in evolve.optimize(SPACE, fitness, strategy=name, seed=7,
                                       **settings(name)).records]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", NAMES)
def test_failures_are_told_and_the_run_goes_on(name):
    outcome = evolve.optimize(SPACE, fitness, strategy=name, seed=2,
                              max_failure_share=1.0, **settings(name))  # fmt: skip
    assert outcome.best is not None and outcome.best.genes["x"] != 3
    failed = [r for r in outcome.records if r.status == "failed"]
    assert all(r.genes["x"] == 3 and "unlucky" in r.reason for r in failed)


def drive(strategy, told, steps):
    """Ask and tell ``steps`` genomes in order; return the ids asked."""
    asked = []
    for _ in range(steps):
        found = strategy.ask()
        if found in (DONE, WAIT):
            break
        proposal = found if isinstance(found, Proposal) else Proposal(found)
        asked.append(proposal.genome.id)
        try:
            value = fitness(proposal.genome.genes)
        except ValueError:
            value = None
        told.append(proposal.genome.id)
        strategy.tell_proposal(proposal, value)
    return asked


@pytest.mark.parametrize("name", NAMES)
def test_a_strategys_state_survives_a_json_round_trip_mid_run(name):
    space = SearchSpace.from_config(SPACE)
    params = settings(name)
    first = make_strategy(name, space, "maximize", 3, **params)
    drive(first, [], 3)
    saved = json.loads(json.dumps(first.state_dict()))
    second = make_strategy(name, space, "maximize", 3, **params)
    second.load_state_dict(saved)
    assert drive(first, [], 3) == drive(second, [], 3)
    assert np.isfinite(len(first.seen))
