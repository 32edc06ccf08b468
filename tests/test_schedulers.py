"""The scheduler seam: a ``TrainingRequest`` carried whole from a proposal to the record, and
schedulers that compose with any strategy."""

from __future__ import annotations

import numpy as np
import pytest

from evolve.engine.records import Trial
from evolve.execution.evaluation import Evaluation, Status
from evolve.search import DONE, WAIT, make_strategy
from evolve.search.base import Proposal
from evolve.search.request import FULL, TrainingRequest
from evolve.search.schedulers import FinalPick, MedianStopping, Scheduler, SuccessiveHalving
from genomes.space import SearchSpace

pytestmark = pytest.mark.unit

SPACE = {"x": {"type": "int", "min": 0, "max": 99}, "y": {"type": "int", "min": 0, "max": 9}}


def curve_record(index: int, values: list[float], repeat: int = 0) -> dict:
    return {"index": index, "status": "ok", "repeat": repeat,
            "metrics": {"curve": {"val_accuracy": values}}}  # fmt: skip


def test_a_request_gives_the_fitness_only_the_keywords_it_sets():
    assert FULL.keywords() == {}
    request = TrainingRequest(epochs=4, initial_epoch=2, rung=1)
    assert request.keywords() == {"epochs": 4, "initial_epoch": 2}
    limits = {"objective": "val_accuracy", "direction": "maximize", "medians": [0.5]}
    assert request.pruned_by(limits).keywords()["prune"] == limits
    assert TrainingRequest(repeat=2).pruned_by(limits).prune is None  # a repeat trains in full
    assert request.pruned_by(None) is request


def test_a_trial_checkpoints_its_whole_request_and_its_record_keeps_it():
    space = SearchSpace.from_config(SPACE)
    limits = {"objective": "val_accuracy", "direction": "maximize", "medians": [0.1, 0.2]}
    request = TrainingRequest(epochs=9, initial_epoch=3, rung=2, prune=limits)
    trial = Trial(5, space.sample(np.random.default_rng(0)), 1, 11, request)
    again = Trial.from_json(trial.to_json())  # a trial in flight at a kill, read back
    assert again.request == request and again.request.prune == limits
    assert again.key == trial.key == f"{trial.genome.id}@9"
    record = trial.record(Evaluation(Status.OK, 0.5), attempts=1)
    assert (record.rung, record.fidelity, record.initial_epoch, record.repeat) == (2, 9, 3, 0)
    assert Trial.from_json(record).request == TrainingRequest(epochs=9, initial_epoch=3, rung=2)


@pytest.mark.parametrize("name", ["ga", "random", "grid", "tpe"])
def test_the_median_rule_composes_with_any_strategy_and_waits_for_five_curves(name):
    space = SearchSpace.from_config(SPACE)
    base = make_strategy(name, space, "maximize", 0, population=4, generations=3)
    median = MedianStopping(base, "val_accuracy")
    assert isinstance(median, Scheduler) and median.name == base.name
    seen, index = [], 0
    while True:
        proposal = median.ask()
        if proposal is DONE:
            break
        if proposal is WAIT:
            raise AssertionError("nothing is in flight")
        assert isinstance(proposal, Proposal)
        seen.append(proposal.request.prune)
        median.observe(curve_record(index, [0.1 * (index % 7), 0.2]))
        median.tell_proposal(proposal, float(proposal.genome.genes["x"]))
        index += 1
    assert seen[:5] == [None] * 5  # Optuna's n_startup_trials: five curves first
    assert all(p is not None and p["objective"] == "val_accuracy" for p in seen[5:])
    assert median.state_dict() == base.state_dict()  # its curves come back from the journal


def test_the_final_pick_around_the_median_rule_retrains_in_full():
    space = SearchSpace.from_config(SPACE)
    base = make_strategy("random", space, "maximize", 0, population=8, generations=1)
    pick = FinalPick(MedianStopping(base, "val_accuracy", startup=1), top=2, repeats=1)
    repeats, index = [], 0
    while (proposal := pick.ask()) is not DONE:
        assert proposal is not WAIT
        if isinstance(proposal, Proposal) and proposal.request.repeat:
            repeats.append(proposal.request)
        pick.observe(curve_record(index, [0.5, 0.6]))
        pick.tell_proposal(proposal if isinstance(proposal, Proposal) else Proposal(proposal),
                           float(index))  # fmt: skip
        index += 1
    assert len(repeats) == 2 and all(r.prune is None for r in repeats)


def test_asha_proposes_each_rung_as_one_request():
    space = SearchSpace.from_config(SPACE)
    asha = SuccessiveHalving(make_strategy("random", space, "maximize", 0, population=9,
                                           generations=1), (1, 3, 9), eta=3)  # fmt: skip
    requests = []
    while (proposal := asha.ask()) is not DONE:
        assert isinstance(proposal, Proposal)
        requests.append(proposal.request)
        asha.tell_proposal(proposal, float(proposal.genome.genes["x"]))
    assert {(r.rung, r.epochs, r.initial_epoch) for r in requests} == {
        (0, 1, 0), (1, 3, 1), (2, 9, 3)
    }  # fmt: skip
