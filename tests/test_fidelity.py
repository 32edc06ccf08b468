"""Spending training time where it pays: multi-fidelity (ASHA) around the GA, TPE and random
search, training continued from saved weights and optimizer state, median pruning, and the
noise-aware final pick. Engine tests use cheap fitness functions (no TensorFlow); the Keras
tests train real networks on digits."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import evolve
from evolve.engine.ranking import Ranking, seed_spread
from evolve.search import DONE, WAIT, make_strategy
from evolve.search.base import Proposal
from evolve.search.schedulers import (
    FinalPick,
    MedianRule,
    SuccessiveHalving,
    final_plan,
    rung_epochs,
)
from evolve.settings.config import ConfigError
from genomes import SearchSpace

ROOT = Path(__file__).resolve().parent.parent
SPACE = {f"x{i}": {"type": "int", "min": 0, "max": 9} for i in range(3)}
TARGET = (7, 2, 5)


def quality(genes: dict) -> float:
    return -float(sum((genes[f"x{i}"] - t) ** 2 for i, t in enumerate(TARGET)))


class Curves:
    """A fitness whose value rises with epochs towards the genome's quality; it logs every
    call as (genome id, initial_epoch, epochs, repeat)."""

    def __init__(self, noise: float = 0.0) -> None:
        self.calls: list[tuple[str, int, int, int]] = []
        self.noise = noise

    def __call__(
        self, genes: dict, genome_id: str, seed: int, epochs: int = 0, initial_epoch: int = 0,
        repeat: int = 0,
    ) -> float:  # fmt: skip
        self.calls.append((genome_id, initial_epoch, epochs, repeat))
        wobble = self.noise * ((seed % 101) / 50 - 1)
        return quality(genes) - 50.0 / max(epochs, 1) + wobble

    @property
    def epochs(self) -> int:
        return sum(e - i for _, i, e, _ in self.calls)


MULTI = {"fidelity": "epochs", "min_epochs": 1, "max_epochs": 9, "eta": 3}


# -- rungs ----------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("low", "high", "eta", "rungs"),
    [(1, 8, 2, (1, 2, 4, 8)), (1, 10, 3, (1, 3, 10)), (1, 9, 3, (1, 3, 9)), (2, 50, 3, (2, 6, 18, 50)),
     (1, 2, 3, (1, 2)), (1, 8, 3, (1, 3, 8))],
)  # fmt: skip
def test_rungs_grow_by_eta_up_to_the_full_training(low, high, eta, rungs):
    assert rung_epochs(low, high, eta) == rungs


@pytest.mark.unit
@pytest.mark.parametrize(("low", "high", "eta"), [(0, 8, 2), (9, 8, 2), (1, 8, 1)])
def test_impossible_rungs_are_refused(low, high, eta):
    with pytest.raises(ValueError):
        rung_epochs(low, high, eta)


# -- asynchronous successive halving ---------------------------------------------------------------


def drive(strategy, fitness):
    """Ask and tell one proposal at a time until done; returns the proposals in order."""
    asked = []
    for _ in range(10_000):
        proposal = strategy.ask()
        if proposal is DONE:
            return asked
        assert proposal is not WAIT
        if not isinstance(proposal, Proposal):
            proposal = Proposal(proposal)
        asked.append(proposal)
        genes = dict(proposal.genome.genes)
        strategy.tell_proposal(proposal, fitness(genes, epochs=proposal.request.epochs))
    raise AssertionError("never finished")


@pytest.mark.unit
def test_asha_promotes_the_top_third_of_each_rung_and_continues_them():
    space = SearchSpace.from_config(SPACE)
    base = make_strategy("random", space, "maximize", 0, population=27, generations=1)
    asha = SuccessiveHalving(base, (1, 3, 9), eta=3)
    results: dict[tuple[str, int], float] = {}
    order = []

    def fitness(genes, epochs):
        return quality(genes) - 50.0 / epochs

    for proposal in drive(asha, fitness):
        gid = proposal.genome.id
        order.append((gid, proposal.request.rung))
        results[gid, proposal.request.rung] = fitness(dict(proposal.genome.genes), proposal.request.epochs)
        if proposal.request.rung:  # continues from the rung below, which came first and was in its top
            assert proposal.request.initial_epoch == (1, 3, 9)[proposal.request.rung - 1]
            assert proposal.request.epochs == (1, 3, 9)[proposal.request.rung]
            earlier = order[: order.index((gid, proposal.request.rung))]
            below = [results[g, r] for g, r in earlier if r == proposal.request.rung - 1]
            mine = results[gid, proposal.request.rung - 1]
            assert sum(v > mine for v in below) < len(below) / 3
    per_rung = [sum(r == k for _, r in order) for k in range(3)]
    # 27 genomes; at least the final top third of each rung promoted, and few more (an
    # asynchronous promotion is made on the results in so far, as ASHA does)
    assert per_rung[0] == 27 and 9 <= per_rung[1] <= 12 and 3 <= per_rung[2] <= per_rung[1] / 2
    assert len(set(order)) == len(order)  # no genome twice at one rung


@pytest.mark.unit
@pytest.mark.parametrize(
    ("strategy", "extra"),
    [("ga", {}), ("ga", {"replacement": "oldest"}), ("ga", {"replacement": "worst"}),
     ("random", {}), ("tpe", {"startup_trials": 5})],
)  # fmt: skip
def test_each_strategy_runs_under_rungs_and_pays_only_the_extra_epochs(strategy, extra):
    fitness = Curves()
    outcome = evolve.optimize(
        SPACE, fitness, strategy=strategy, population=8, generations=4, seed=1, **MULTI, **extra
    )
    proposals = len(fitness.calls)
    assert len(outcome.records) == proposals
    assert {r.rung for r in outcome.records} == {0, 1, 2}
    assert outcome.best.rung == 2 and outcome.best.fidelity == 9
    for record in outcome.records:  # a promotion continues from the rung below
        assert record.initial_epoch == {0: 0, 1: 1, 2: 3}[record.rung]
    full = sum(r.rung == 0 for r in outcome.records) * 9  # the same genomes at full training
    paid = sum(r.fidelity - r.initial_epoch for r in outcome.records if r.cached_from is None)
    assert fitness.epochs == paid < full / 2
    keys = [(r.id, r.fidelity) for r in outcome.records if r.cached_from is None]
    assert len(keys) == len(set(keys))  # never trained twice to one fidelity


@pytest.mark.unit
def test_a_strategy_that_cannot_use_rungs_is_refused_in_one_line():
    for strategy in ("grid", "gp", "smac"):
        with pytest.raises(ConfigError, match="works with the strategies ga, random, tpe"):
            evolve.optimize(SPACE, Curves(), strategy=strategy, **MULTI)


@pytest.mark.unit
def test_a_fitness_without_an_epochs_keyword_is_refused_before_anything_runs(tmp_path):
    calls = []

    def fitness(genes):
        calls.append(genes)
        return quality(genes)

    with pytest.raises(ConfigError, match=r"the fitness fitness\(\) takes no epochs= keyword"):
        evolve.optimize(SPACE, fitness, out=tmp_path / "run", **MULTI)
    assert not calls and not (tmp_path / "run").exists()


@pytest.mark.unit
def test_the_ga_compares_members_at_the_highest_rung_both_reached():
    space = SearchSpace.from_config(SPACE)
    ga = make_strategy("ga", space, "maximize", 0, population=4, generations=2)
    genomes = [ga.ask() for _ in range(4)]
    for genome, fitness in zip(genomes, (0.9, 0.8, 0.7, 0.5), strict=True):
        ga.tell(genome, fitness)
    ga.promoted(genomes[0], 1, 0.6)  # the rung-0 winner falls behind at rung 1 ...
    ga.promoted(genomes[1], 1, 0.95)  # ... where the runner-up is the best
    scores = ga._scores(ga.population)
    ranked = [g.id for _, g in sorted(zip(scores, genomes, strict=True), key=lambda p: -p[0])]
    assert ranked == [genomes[i].id for i in (1, 0, 2, 3)]  # 1 and 0 compared at rung 1
    ga.promoted(genomes[3], 1, 0.99)  # a cycle: 3 beats 1 at rung 1, 1 beats 2 and 2 beats 3
    scores = ga._scores(ga.population)  # at rung 0: the ranks stay a total order
    assert sorted(scores) == [1, 2, 3, 4]


@pytest.mark.unit
def test_a_failed_training_at_a_rung_is_never_promoted():
    def fitness(genes, epochs=0, initial_epoch=0):
        if genes["x0"] == 7 and epochs == 3:
            raise RuntimeError("out of memory at rung 1")
        return quality(genes) - 50.0 / epochs

    outcome = evolve.optimize(SPACE, fitness, strategy="random", population=27, generations=1,
                              seed=2, **MULTI)  # fmt: skip
    failed = [r for r in outcome.records if r.status == "failed"]
    for record in failed:
        later = [r for r in outcome.records if r.id == record.id and r.rung > record.rung]
        assert not later
    assert outcome.best is not None and outcome.best.rung == 2


# -- the final pick ------------------------------------------------------------------------------


@pytest.mark.unit
def test_final_plan_takes_a_quarter_of_the_trainings_at_most():
    assert final_plan(-1, 3, 29) == (3, 2)
    assert final_plan(-1, 3, 10) == (1, 2)
    assert final_plan(-1, 3, 7) == (0, 0)
    assert final_plan(0, 3, 1000) == (0, 0)
    assert final_plan(4, 2, 5) == (2, 4)


@pytest.mark.unit
def test_the_final_pick_names_the_best_mean_over_new_seeds():
    """A lucky genome tops the search; retrained with new seeds, a steadier one has the best
    mean and is named best; without re-evaluations the lucky one is."""
    records = [
        {"index": 0, "id": "lucky", "status": "ok", "fitness": 10.0},
        {"index": 1, "id": "steady", "status": "ok", "fitness": 9.0},
        {"index": 2, "id": "lucky", "status": "ok", "fitness": 1.0, "repeat": 1},
        {"index": 3, "id": "steady", "status": "ok", "fitness": 8.5, "repeat": 1},
        {"index": 4, "id": "lucky", "status": "ok", "fitness": 2.0, "repeat": 2},
        {"index": 5, "id": "steady", "status": "ok", "fitness": 9.5, "repeat": 2},
    ]
    assert Ranking("maximize").best(records)["id"] == "steady"
    assert Ranking("maximize").best(records[:2])["id"] == "lucky"  # best observed
    assert Ranking("minimize").best(records)["id"] == "lucky"
    spread = seed_spread(records, "steady")
    assert spread["seeds"] == 3 and spread["mean"] == pytest.approx(9.0)
    assert spread["std"] == pytest.approx(0.5)


def test_a_run_with_a_final_pick_retrains_the_top_and_records_mean_and_spread(tmp_path):
    calls = []

    def fitness(genes, seed, repeat=0):
        calls.append(repeat)
        return quality(genes) + (seed % 7) / 2  # seed noise up to 3

    out = tmp_path / "run"
    outcome = evolve.optimize(
        SPACE, fitness, strategy="ga", population=8, generations=4, seed=0,
        final_reevaluations=2, final_top=3, out=out,
    )  # fmt: skip
    repeats = [r for r in outcome.records if r.repeat]
    assert sorted(r.repeat for r in repeats) == [1, 1, 1, 2, 2, 2]
    assert calls[-6:] == [1, 1, 1, 2, 2, 2] and sum(map(bool, calls)) == 6
    ids = {r.id for r in repeats}
    assert len(ids) == 3 and outcome.best.id in ids and not outcome.best.repeat
    firsts = {r.id: r.fitness for r in outcome.records if not r.repeat and r.id in ids}
    others = [r.fitness for r in outcome.records if not r.repeat and r.id not in ids]
    assert min(firsts.values()) >= max(others)  # the top 3 of the search were retrained
    means = {i: np.mean([r.fitness for r in outcome.records if r.id == i]) for i in ids}
    assert outcome.best.id == max(means, key=means.get)
    saved = json.loads((out / "best" / "genome.json").read_text())
    assert saved["id"] == outcome.best.id
    assert saved["seeds"]["seeds"] == 3
    assert saved["seeds"]["mean"] == pytest.approx(means[outcome.best.id])
    assert "top 3 retrained 2x" in outcome.stop_reason


@pytest.mark.unit
def test_a_budget_leaves_room_for_the_final_pick():
    fitness = Curves()
    outcome = evolve.optimize(
        SPACE, lambda genes, repeat=0: quality(genes), strategy="ga", population=8,
        generations=100, budget=20, final_reevaluations=2, final_top=2,
    )  # fmt: skip
    del fitness
    assert len(outcome.records) == 20
    assert sum(1 for r in outcome.records if r.repeat) == 4


@pytest.mark.unit
def test_the_final_pick_is_off_by_default_for_a_function_and_for_a_small_keras_run():
    outcome = evolve.optimize(SPACE, quality, population=8, generations=4)
    assert not any(r.repeat for r in outcome.records)


@pytest.mark.unit
def test_final_pick_state_round_trips():
    space = SearchSpace.from_config(SPACE)
    base = make_strategy("random", space, "maximize", 0, population=5, generations=1)
    pick = FinalPick(base, 2, 2)
    for _ in range(3):
        proposal = pick.ask()
        pick.tell(proposal, quality(dict(proposal.genes)))
    state = json.loads(json.dumps(pick.state_dict()))
    twin = FinalPick(make_strategy("random", space, "maximize", 0, population=5, generations=1),
                     2, 2)  # fmt: skip
    twin.load_state_dict(state)
    assert twin.state_dict() == pick.state_dict()


# -- median pruning ------------------------------------------------------------------------------


@pytest.mark.unit
def test_the_median_rule_waits_for_five_curves_then_gives_per_epoch_medians():
    rule = MedianRule("val_accuracy", "maximize")
    for i in range(4):
        rule.see({"status": "ok", "metrics": {"curve": {"val_accuracy": [0.1 * i, 0.2 * i]}}})
    assert rule.limits() is None
    rule.see({"status": "cached", "metrics": {"curve": {"val_accuracy": [1.0, 1.0]}}})
    rule.see({"status": "ok", "repeat": 1, "metrics": {"curve": {"val_accuracy": [1.0, 1.0]}}})
    assert rule.limits() is None  # cache answers and re-evaluations are not new curves
    rule.see({"status": "ok", "metrics": {"curve": {"val_accuracy": [0.4, 0.8, 0.9]}}})
    limits = rule.limits()
    assert limits["medians"] == pytest.approx([0.2, 0.4])  # epoch 3 has one curve only
    assert limits["objective"] == "val_accuracy" and limits["direction"] == "maximize"


# -- bad input through the command line ----------------------------------------------------------


def cli(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "run_evolution.py"), *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fidelity", "epochs", "--min-epochs", "5", "--max-epochs", "3"],
         "search.min_epochs = 5 must be below search.max_epochs = 3"),
        (["--fidelity", "epochs", "--eta", "1"], "search.eta must be at least 2, got 1"),
        (["--fidelity", "epochs", "--strategy", "grid"], "works with the strategies ga, random, "
                                                         "tpe; grid compares"),
        (["--pruning", "median", "--epochs", "1"], "one epoch leaves nothing to stop early"),
        (["--pruning", "median", "--fidelity", "epochs"], "choose one"),
        (["--fidelity", "epoch"], "did you mean 'epochs'?"),
        (["--pruning", "mean"], "search.pruning = 'mean' is not one of: median"),
        (["--fidelity", "epochs", "--min-epochs", "0"], "search.min_epochs must be at least 1"),
        (["--fidelity", "epochs", "--epochs", "1"], "must be below search.max_epochs = 1"),
        (["--final-reevaluations", "-3"], "search.final_reevaluations must be -1"),
        (["--final-reevaluations", "1000000000000000000000"],
         "search.final_reevaluations must be -1 (automatic), 0 (off) or more, at most 100"),
        (["--fidelity", "epochs", "--epochs", "8", "--eta", "9"],
         "search.eta = 9 is above max_epochs / min_epochs = 8 / 1: no rung"),
        (["--min-epochs", "50", "--epochs", "3"], "search.min_epochs applies only with "
                                                  "search.fidelity"),
        (["--eta", "3"], "search.eta applies only with search.fidelity"),
        (["--budget", "5", "--final-reevaluations", "3"],
         "search.budget = 5 leaves no room for the search before the final pick's 9 trainings"),
    ],
)  # fmt: skip
def test_bad_fidelity_settings_are_one_line_errors(tmp_path, args, message):
    out = tmp_path / "run"
    result = cli("run", "--out", str(out), "--quiet", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


def test_bad_fidelity_settings_in_a_config_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[search]\nfidelity = "epochs"\neta = 0\n[genes]\nlayers = '
                      '{ type = "int", min = 1, max = 2 }\n')  # fmt: skip
    result = cli("run", "--config", str(config), "--out", str(tmp_path / "r"), "--quiet")
    assert result.returncode == 2 and "search.eta must be at least 2, got 0" in result.stderr


# -- Keras: continued training, pruning, a whole run ------------------------------------------------


def test_a_promoted_network_continues_from_its_saved_weights_and_optimizer_state(tmp_path):
    import keras

    from evolve.data import DataSpec
    from evolve.training.problem import KerasProblem

    problem = KerasProblem(DataSpec("digits"), epochs=9, model_dir=str(tmp_path))
    genes = {"layers": 1, "filters": 8, "kernel_size": 3}
    first = problem(genes, seed=1, genome_id="g", epochs=1)
    assert first["epochs"] == 1 and (tmp_path / "g.e1.keras").is_file()
    steps = keras.saving.load_model(tmp_path / "g.e1.keras").optimizer.iterations.numpy()
    second = problem(genes, seed=2, genome_id="g", epochs=3, initial_epoch=1)
    assert second["initial_epoch"] == 1 and second["epochs"] == 3 and "restarted" not in second
    assert len(second["curve"]["val_accuracy"]) == 2  # epochs 2 and 3 only
    continued = keras.saving.load_model(tmp_path / "g.e3.keras")
    assert continued.optimizer.iterations.numpy() == 3 * steps  # Adam's state went on
    # the first epoch's state was kept: continuing it again matches the first continuation's
    # starting point, not a fresh network (whose first epoch is far worse)
    assert second["curve"]["val_accuracy"][0] >= first["val_accuracy"] - 0.05
    (tmp_path / "g.e1.keras").unlink()
    again = problem(genes, seed=2, genome_id="g", epochs=3, initial_epoch=1)
    assert again["restarted"] == "g.e1.keras is gone: trained from epoch 0"
    assert len(again["curve"]["val_accuracy"]) == 3
    repeat = problem(genes, seed=5, genome_id="h", epochs=3, repeat=1)
    assert "model_path" not in repeat and not (tmp_path / "h.e3.keras").exists()


def test_a_multi_fidelity_keras_run_end_to_end(tmp_path):
    """The command line's default run, small, under rungs of 1 and 3 epochs: promoted genomes
    continue, the best is a full-fidelity genome, only the kept models stay on disk, and
    inspect shows the rungs."""
    out = tmp_path / "run"
    result = cli("run", "--out", str(out), "--quiet", "--population", "6", "--generations", "2",
                 "--epochs", "3", "--fidelity", "epochs", "--eta", "3", "--workers", "2")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert {r.get("rung", 0) for r in records} == {0, 1}
    promoted = [r for r in records if r.get("rung") == 1 and not r.get("repeat")]
    assert promoted and all(r["initial_epoch"] == 1 and r["metrics"]["epochs"] == 3
                            for r in promoted)  # fmt: skip
    assert not any("restarted" in r["metrics"] for r in records)
    best = json.loads((out / "best" / "genome.json").read_text())
    assert best["fidelity"] == 3 if "fidelity" in best else best["metrics"]["epochs"] == 3
    assert "seeds" in best and best["seeds"]["seeds"] == 3  # 17 trainings: the top 1 x 2
    models = sorted(p.name for p in (out / "models").iterdir())
    assert len(models) == 3 and all(m.endswith(".e3.keras") for m in models)
    assert (out / "best" / "model.keras").is_file()
    assert (out / "plots" / "rungs.png").is_file()  # the promotions, drawn
    shown = cli("inspect", str(out), "--no-summary")
    assert shown.returncode == 0, shown.stderr
    assert "mean" in result.stdout and "over 3 seeds" in result.stdout


def test_median_pruning_stops_hopeless_trainings(tmp_path):
    out = tmp_path / "run"
    result = cli("run", "--out", str(out), "--quiet", "--strategy", "random", "--population",
                 "12", "--generations", "1", "--epochs", "4", "--pruning", "median",
                 "--workers", "1", "--final-reevaluations", "0")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    pruned = [r for r in records if "pruned_at" in r["metrics"]]
    assert pruned, "no training was pruned"
    for record in pruned:
        curve = record["metrics"]["curve"]["val_accuracy"]
        assert len(curve) == record["metrics"]["pruned_at"] < 4
    assert all(math.isfinite(r["fitness"]) for r in records if r["status"] == "ok")


def test_a_run_extended_after_its_final_pick_picks_again_with_new_seeds(tmp_path):
    out = tmp_path / "run"

    def fitness(genes, seed, repeat=0):
        return quality(genes) + (seed % 7) / 2

    first = evolve.optimize(SPACE, fitness, population=8, generations=3, seed=0,
                            final_reevaluations=2, final_top=2, out=out)  # fmt: skip
    assert sum(1 for r in first.records if r.repeat) == 4
    more = evolve.resume(out, fitness, generations=2)
    repeats = [(r.id, r.repeat) for r in more.records if r.repeat]
    assert len(repeats) == 8 and len(set(repeats)) == 8  # none answered from the cache
    assert not any(r.status == "cached" and r.repeat for r in more.records)


@pytest.mark.unit
def test_a_changed_fidelity_setting_is_refused_on_resume(tmp_path):
    out = tmp_path / "run"
    evolve.optimize(SPACE, Curves(), population=4, generations=2, out=out, **MULTI)
    config = out / "config.toml"
    config.write_text(config.read_text().replace("eta = 3", "eta = 4"))
    with pytest.raises(ConfigError, match=r"search\.eta changed from 3 to 4"):
        evolve.resume(out, Curves())


@pytest.mark.unit
def test_a_positional_only_epochs_is_refused_and_none_means_unset():
    def positional(genes, epochs, /):
        return quality(genes)

    with pytest.raises(ConfigError, match="takes no epochs= keyword"):
        evolve.optimize(SPACE, positional, **MULTI)
    outcome = evolve.optimize(SPACE, quality, population=4, generations=1, fidelity=None,
                              pruning=None)  # fmt: skip
    assert len(outcome.records) == 4


@pytest.mark.unit
def test_a_promotion_that_restarted_is_recorded_from_epoch_zero():
    from evolve.engine.records import Trial
    from evolve.search.request import TrainingRequest

    space = SearchSpace.from_config(SPACE)
    request = TrainingRequest(epochs=9, initial_epoch=3, rung=2)
    trial = Trial(3, space.sample(np.random.default_rng(0)), 0, 7, request)
    from evolve.execution.evaluation import Evaluation, Status

    result = Evaluation(Status.OK, 1.0, {"restarted": "gone"})
    assert trial.record(result, 1).initial_epoch == 0
    assert trial.record(Evaluation(Status.OK, 1.0), 1).initial_epoch == 3


@pytest.mark.unit
def test_the_leaderboard_counts_a_cache_answer_whose_original_was_set_aside():

    records = [
        {"index": 0, "id": "a", "status": "ok", "fitness": 0.5, "rung": 0, "fidelity": 1,
         "metrics": {}},
        {"index": 5, "id": "a", "status": "cached", "fitness": 0.9, "rung": 2, "fidelity": 9,
         "cached_from": 3, "metrics": {}},  # its original (index 3) is in superseded now
        {"index": 1, "id": "b", "status": "ok", "fitness": 0.8, "rung": 2, "fidelity": 9,
         "metrics": {}},
    ]  # fmt: skip
    board = Ranking("maximize").leaderboard(records)
    assert [(r["id"], r["fidelity"], r["fitness"]) for r in board] == [("a", 9, 0.9), ("b", 9, 0.8)]


@pytest.mark.unit
def test_too_few_genomes_for_eta_is_warned_and_the_summary_says_so(tmp_path):
    from evolve.session import schedule, schedule_notes
    from evolve.settings import config as configuration

    cfg = configuration.from_dict({"search": {"fidelity": "epochs", "eta": 4, "population": 4,
                                              "generations": 1}, "training": {"epochs": 16}})  # fmt: skip
    space = SearchSpace.from_config(SPACE)
    strategy = schedule(make_strategy("ga", space, "maximize", 0, population=4, generations=1),
                        cfg)  # fmt: skip
    (note,) = schedule_notes(strategy, cfg)
    assert "takes 16 first-rung genomes before one reaches 16 epochs" in note
    cfg.search.eta = 2
    cfg.search.population = 10
    strategy = schedule(make_strategy("ga", space, "maximize", 0, population=10, generations=2),
                        cfg)  # fmt: skip
    assert schedule_notes(strategy, cfg) == []


@pytest.mark.unit
def test_a_budget_spent_under_rungs_says_what_it_kept_for_the_final_pick():
    outcome = evolve.optimize(
        SPACE, Curves(), population=8, generations=100, budget=12, final_reevaluations=1,
        final_top=2, **MULTI,
    )  # fmt: skip
    assert "kept for the final pick" in outcome.stop_reason
    assert len(outcome.records) <= 12


@pytest.mark.unit
def test_a_target_counts_only_at_full_training():
    def fitness(genes, epochs=0, initial_epoch=0):
        return genes["x0"] * 10 + genes["x1"] - epochs  # a 1-epoch result looks best

    outcome = evolve.optimize(SPACE, fitness, population=6, generations=10, seed=0, target=85,
                              **MULTI)  # fmt: skip
    assert outcome.stop_reason == "target fitness 85.0 reached"
    assert outcome.best.fidelity == 9 and outcome.best.fitness >= 85


@pytest.mark.unit
def test_a_run_whose_best_never_reached_the_top_rung_says_so():
    outcome = evolve.optimize(SPACE, Curves(), population=6, generations=10, budget=5, **MULTI)
    assert outcome.best.fidelity < 9
    assert "no genome reached the top rung (9 epochs): the best was trained" in (
        outcome.stop_reason
    )


@pytest.mark.unit
def test_the_leaderboard_puts_the_final_picks_best_first_and_outcome_has_its_spread():

    def fitness(genes, seed, repeat=0):
        return -quality(genes) + (seed % 7) / 2  # minimised, noisy

    outcome = evolve.optimize(SPACE, fitness, population=8, generations=3, seed=1,
                              direction="minimize", final_reevaluations=2, final_top=1)  # fmt: skip
    board = Ranking("minimize").leaderboard([r.to_json() for r in outcome.records])
    assert board[0]["id"] == outcome.best.id and board[0]["seeds"] == 3
    assert outcome.seeds["seeds"] == 3
    assert outcome.seeds["mean"] == pytest.approx(board[0]["mean"])
