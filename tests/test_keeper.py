"""The model keeper: the exported model is always the named best's, through final picks,
extended runs and a small ``keep_models``."""

from __future__ import annotations

import pytest

from evolve.engine.records import Record, Status
from evolve.rundir.keeper import ModelKeeper
from evolve.rundir.store import RunDir

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes

INDEX = iter(range(10_000))


def trained(run: RunDir, genome_id: str, fitness: float) -> Record:
    path = run.models / f"{genome_id}.keras"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"model of {genome_id}")
    return Record(index=next(INDEX), id=genome_id, generation=0, genes={}, seed=0,
                  status=Status.OK, fitness=fitness, metrics={"model_path": str(path)})  # fmt: skip


def repeat(genome_id: str, n: int, fitness: float) -> Record:
    return Record(index=next(INDEX), id=genome_id, generation=0, genes={}, seed=n,
                  status=Status.OK, fitness=fitness, repeat=n)  # fmt: skip


def models(run: RunDir) -> set[str]:
    return {p.stem for p in run.models.glob("*.keras")}


def exported(run: RunDir) -> str:
    return (run.best / "model.keras").read_text()


def make_run(tmp_path) -> RunDir:
    run = RunDir(tmp_path / "run")
    run.create()
    return run


def test_a_pick_winner_out_of_the_top_models_keeps_its_model_and_is_exported(tmp_path):
    run = make_run(tmp_path)
    keeper = ModelKeeper(run, 1, "maximize", reserve=3)  # keep_models = 1, a pick of 3
    records = {g: trained(run, g, f) for g, f in [("a", 0.99), ("b", 0.98), ("c", 0.97),
                                                  ("d", 0.90)]}  # fmt: skip
    for record in records.values():
        keeper.offer(record)
    assert models(run) == {"a", "b", "c"}  # the pick's candidates, while the run goes on
    for g in "abc":
        keeper.offer(repeat(g, 1, 0.95 if g != "b" else 0.985))
    keeper.finish(records["b"])  # b has the best mean over seeds
    assert exported(run) == "model of b"
    assert models(run) == {"a", "b"}  # keep_models = 1, and the named best


def test_an_extended_run_keeps_the_earlier_picks_winner_while_it_may_stay_the_best(tmp_path):
    run = make_run(tmp_path)
    keeper = ModelKeeper(run, 3, "maximize", reserve=3)
    first = {g: trained(run, g, f) for g, f in [("a", 0.98), ("b", 0.97), ("c", 0.96)]}
    for record in first.values():
        keeper.offer(record)
    for g in "abc":
        keeper.offer(repeat(g, 1, 0.975))
    keeper.finish(first["a"])
    # resume --generations: better single results arrive and push a, b, c out of the top 3
    for g in "def":
        keeper.offer(trained(run, g, 0.99))
    assert exported(run) == "model of d"  # the best so far, as the run goes
    assert {"a", "b", "c"} <= models(run)  # re-evaluated earlier: kept
    for g in "def":
        keeper.offer(repeat(g, 1, 0.95))  # noisier than they looked
    keeper.finish(first["a"])  # a keeps the best mean
    assert exported(run) == "model of a"
    assert models(run) == {"a", "d", "e", "f"}


def test_a_resumed_keeper_reading_the_history_back_spares_what_was_picked(tmp_path):
    run = make_run(tmp_path)
    history = [trained(run, "a", 0.98), repeat("a", 1, 0.98), trained(run, "b", 0.99),
               trained(run, "c", 0.99)]  # fmt: skip
    keeper = ModelKeeper(run, 1, "maximize")
    for record in history:
        keeper.offer(record, export=False)
    assert models(run) == {"a", "b"}  # c ranks below b; a was re-evaluated
    keeper.finish(history[0])
    assert exported(run) == "model of a" and models(run) == {"a", "b"}


def test_a_best_whose_model_is_gone_leaves_no_other_genomes_model_in_best(tmp_path):
    run = make_run(tmp_path)
    keeper = ModelKeeper(run, 3, "maximize")
    b = trained(run, "b", 0.99)
    a = trained(run, "a", 0.98)
    keeper.offer(b)
    keeper.offer(a)
    (run.models / "a.keras").unlink()  # deleted by hand
    keeper.finish(a)
    assert not (run.best / "model.keras").exists()
    assert '"id": "a"' in (run.best / "genome.json").read_text()


# -- ties --------------------------------------------------------------------------------------


@pytest.mark.unit
def test_the_exported_model_is_the_named_best_on_ties(tmp_path):
    from evolve.rundir.keeper import ModelKeeper

    run = RunDir(tmp_path / "run")
    run.create()
    keeper = ModelKeeper(run, 2, "maximize")
    later = Record(index=5, id="late", generation=0, genes={}, seed=0, status=Status.OK,
                   fitness=0.98)  # fmt: skip
    earlier = Record(index=2, id="early", generation=0, genes={}, seed=0, status=Status.OK,
                     fitness=0.98)  # fmt: skip
    keeper.offer(later)  # finished first, with the same fitness as an earlier genome
    keeper.offer(earlier)
    from evolve.engine.ranking import Ranking

    assert keeper.best.id == Ranking("maximize").best([later, earlier]).id == "early"
