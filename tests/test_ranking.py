"""The one rule of which result is best (``evolve.engine.ranking``): unit tests, no TensorFlow."""

from __future__ import annotations

import random

import pytest

from evolve.engine.ranking import Ranking, seed_spread
from evolve.engine.records import Outcome, Record, Status

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes


def rec(index, gid, fitness, status="ok", rung=0, repeat=0, cached_from=None, fidelity=0):
    return Record(
        index=index, id=gid, generation=0, genes={}, seed=index, status=Status(status),
        fitness=fitness, rung=rung, repeat=repeat, cached_from=cached_from,
        fidelity=fidelity or (rung + 1 if rung else 0),
    )  # fmt: skip


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="maximize"):
        Ranking("max")


def test_failures_never_rank_and_a_run_of_failures_has_no_best():
    records = [rec(0, "a", None, "failed"), rec(1, "b", None, "died"), rec(2, "c", None, "timeout")]
    assert Ranking("maximize").best(records) is None
    assert Ranking("maximize").leaderboard(records) == []
    records.append(rec(3, "d", 0.1))
    assert Ranking("maximize").best(records).id == "d"


@pytest.mark.parametrize(("direction", "winner"), [("maximize", "high"), ("minimize", "low")])
def test_the_direction_decides_and_ties_go_to_the_earlier_genome(direction, winner):
    records = [rec(0, "low", 0.2), rec(1, "high", 0.9), rec(2, "high-later", 0.9),
               rec(3, "low-later", 0.2)]  # fmt: skip
    ranking = Ranking(direction)
    assert ranking.best(records).id == winner
    assert ranking.leaderboard(records)[0]["id"] == winner


def test_a_higher_rung_beats_a_better_fitness_at_a_lower_one():
    records = [rec(0, "lucky", 0.99), rec(1, "full", 0.80, rung=2), rec(2, "mid", 0.95, rung=1)]
    ranking = Ranking("maximize")
    assert ranking.best(records).id == "full"
    assert ranking.top_rung(records) == 2
    assert [r["id"] for r in ranking.at_top_rung(records)] == ["full"]
    assert [row["id"] for row in ranking.leaderboard(records)] == ["full", "mid", "lucky"]


def test_a_failed_promotion_does_not_raise_the_top_rung():
    records = [rec(0, "a", 0.9), rec(1, "a", None, "failed", rung=1)]
    assert Ranking("maximize").top_rung(records) == 0
    assert Ranking("maximize").best(records).id == "a"


def test_the_final_pick_ranks_its_genomes_first_by_mean_and_returns_the_first_training():
    records = [
        rec(0, "lucky", 0.99), rec(1, "steady", 0.95),
        rec(2, "lucky", 0.80, repeat=1), rec(3, "steady", 0.94, repeat=1),
        rec(4, "never-picked", 0.999),
    ]  # fmt: skip
    ranking = Ranking("maximize")
    best = ranking.best(records)
    assert (best.id, best.repeat, best.index) == ("steady", 0, 1)
    board = ranking.leaderboard(records)
    assert [row["id"] for row in board] == ["steady", "lucky", "never-picked"]
    assert board[0]["mean"] == pytest.approx(0.945) and board[0]["seeds"] == 2
    assert seed_spread(records, "steady")["seeds"] == 2


def test_a_cache_answer_counts_only_where_its_original_is_gone():
    original, answer = rec(0, "a", 0.9), rec(5, "a", 0.9, "cached", cached_from=0)
    ranking = Ranking("maximize")
    assert ranking.best([answer, original]).index == 0
    assert ranking.best([answer]).index == 5  # the original was set aside by a rebuilt run
    assert len(ranking.leaderboard([original, answer])) == 1


def test_record_key_orders_rung_then_fitness_then_earlier():
    ranking = Ranking("minimize")
    keys = sorted([rec(0, "a", 0.5), rec(1, "b", 0.1), rec(2, "c", 0.1), rec(3, "d", 0.9, rung=1)],
                  key=ranking.key, reverse=True)  # fmt: skip
    assert [r.id for r in keys] == ["d", "b", "c", "a"]
    assert ranking.better(0.1, 0.5) and not ranking.better(0.5, 0.5)
    assert ranking.score(None) == ranking.score(float("nan")) == float("-inf")


def test_journal_dicts_and_typed_records_rank_alike():
    records = [rec(i, f"g{i % 7}", random.Random(i).random(), rung=i % 3) for i in range(40)]
    ranking = Ranking("maximize")
    typed = ranking.leaderboard(records, top=100)
    plain = ranking.leaderboard([r.to_json() for r in records], top=100)
    assert [(r["id"], r["mean"]) for r in typed] == [(r["id"], r["mean"]) for r in plain]


@pytest.mark.parametrize("seed", range(20))
def test_every_reader_names_the_same_best_on_random_histories(seed):
    """The summary (``Outcome``), the leaderboard's first row, the model keeper's order and the
    progress bar agree, whatever the mix of rungs, repeats, failures and cache answers."""
    from evolve.view.progress import Progress

    rng = random.Random(seed)
    direction = rng.choice(["maximize", "minimize"])
    records, first = [], {}  # a genome at a rung trains once; later asks are cache answers
    for i in range(rng.randint(1, 30)):
        gid, rung = f"g{rng.randrange(8)}", rng.choice([0, 0, 1])
        if (gid, rung) in first:
            original = records[first[gid, rung]]
            status = "cached" if original.status == "ok" else original.status
            records.append(rec(i, gid, original.fitness, status, rung, cached_from=original.index))
            continue
        first[gid, rung] = i
        ok = rng.random() < 0.8
        records.append(rec(i, gid, round(rng.random(), 2) if ok else None,
                           "ok" if ok else "failed", rung))  # fmt: skip
    ranking = Ranking(direction)
    best = ranking.best(records)
    outcome = Outcome.of(records, "done", direction, False, len(records))
    board = ranking.leaderboard(records)
    progress = Progress(None, enabled=False, direction=direction)
    for r in records:
        progress.update(r)
    if best is None:
        assert outcome.best is None and board == [] and progress.best is None
        return
    assert outcome.best is best and board[0]["index"] == best.index
    assert progress.best == best.fitness
    ordered = sorted(ranking.succeeded(records), key=ranking.key, reverse=True)
    assert ordered[0].fitness == best.fitness and ordered[0].rung == best.rung
