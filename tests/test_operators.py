"""Genetic operators: statistical properties, not just types. No TensorFlow."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evolve.search.operators import crossover, mutation, replacement, selection
from genomes import FloatRange, IntRange, SearchSpace

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes


def test_sus_selects_each_individual_within_one_of_its_expected_count():
    rng = np.random.default_rng(0)
    for _ in range(500):
        size = int(rng.integers(2, 12))
        scores = rng.random(size) * 10
        n = int(rng.integers(1, 30))
        counts = np.bincount(selection.sus(scores, n, rng), minlength=size)
        expected = n * scores / scores.sum()
        assert counts.sum() == n
        assert np.all(np.abs(counts - expected) < 1 + 1e-9), (counts, expected)


def test_sus_does_not_sort_the_population():
    # the pie keeps the population's order: pointers fall on individuals in index order
    scores = np.array([1.0, 5.0, 2.0, 4.0])
    picks = selection.sus(scores, 8, np.random.default_rng(3))
    assert list(picks) == sorted(picks)


def test_proportionate_selection_handles_zero_negative_and_failed_fitness():
    assert np.allclose(selection.proportions(np.zeros(4)), 0.25)
    shifted = selection.proportions(np.array([-3.0, -1.0, -2.0]))  # e.g. losses, minimised
    assert shifted[0] == 0 and shifted[1] > shifted[2] > 0
    failed = selection.proportions(np.array([0.5, -math.inf, 0.5]))
    assert failed[1] == 0 and failed[0] == failed[2] == 0.5
    assert np.allclose(selection.proportions(np.array([-math.inf] * 3)), 1 / 3)
    rng = np.random.default_rng(0)
    assert 1 not in selection.sus(np.array([0.5, -math.inf, 0.5]), 50, rng)
    assert 1 not in selection.roulette(np.array([0.5, -math.inf, 0.5]), 50, rng)


def test_roulette_matches_fitness_proportions():
    scores = np.array([1.0, 2.0, 7.0])
    picks = selection.roulette(scores, 20_000, np.random.default_rng(1))
    share = np.bincount(picks, minlength=3) / len(picks)
    assert np.allclose(share, [0.1, 0.2, 0.7], atol=0.015)


def test_tournament_pressure_grows_with_k():
    scores = np.arange(20, dtype=float)
    rng = np.random.default_rng(2)
    means = [scores[selection.tournament(scores, 4000, rng, k=k)].mean() for k in (1, 2, 4, 8)]
    assert means == sorted(means) and means[0] < 11 and means[-1] > 16, means
    assert (selection.tournament(scores, 50, rng, k=20) == 19).all()


def test_truncation_draws_only_from_the_top_fraction():
    scores = np.arange(10, dtype=float)
    picks = selection.truncation(scores, 500, np.random.default_rng(0), fraction=0.3)
    assert set(picks) == {7, 8, 9}


def test_single_point_children_take_a_prefix_and_the_other_suffix():
    a, b = tuple("aaaaa"), tuple("bbbbb")
    rng = np.random.default_rng(4)
    points = set()
    for _ in range(300):
        c1, c2 = crossover.single_point(a, b, rng)
        p = c1.index("b")
        points.add(p)
        assert c1 == a[:p] + b[p:] and c2 == b[:p] + a[p:]
    assert points == {1, 2, 3, 4}  # a cut inside the chromosome, never at its ends


def test_uniform_crossover_children_mirror_each_other():
    a, b = tuple(range(8)), tuple(range(10, 18))
    rng = np.random.default_rng(5)
    mixes = []
    for _ in range(500):
        c1, c2 = crossover.uniform(a, b, rng)
        assert all({x, y} == {p, q} for x, y, p, q in zip(c1, c2, a, b, strict=True))
        mixes.append(sum(x in a for x in c1))
    assert 3.7 < np.mean(mixes) < 4.3


def space() -> SearchSpace:
    return SearchSpace(
        [
            IntRange("a", 0, 9),
            IntRange("b", 0, 1),
            FloatRange("c", 0, 1, 0.25),
            IntRange("fixed", 3, 3),
        ]
    )


def test_uniform_mutation_changes_exactly_one_gene_on_heads():
    genes = space().genes
    rng = np.random.default_rng(6)
    parent = (4, 0, 0.5, 3)
    changed = [
        sum(x != y for x, y in zip(parent, mutation.uniform(parent, genes, rng, 1.0), strict=True))
        for _ in range(500)
    ]
    assert set(changed) == {1}
    flips = [mutation.uniform(parent, genes, rng, 0.5) != parent for _ in range(4000)]
    assert 0.47 < np.mean(flips) < 0.53  # the lesson's coin flip


def test_mutation_never_touches_a_single_allele_gene_and_picks_a_new_allele():
    genes = space().genes
    rng = np.random.default_rng(7)
    for _ in range(300):
        child = mutation.uniform((4, 0, 0.5, 3), genes, rng, 1.0)
        assert child[3] == 3
        for gene, value in zip(genes, child, strict=True):
            gene.index(value)


def test_per_gene_mutation_rate():
    genes = space().genes
    rng = np.random.default_rng(8)
    parent = (4, 0, 0.5, 3)
    changes = [
        sum(
            x != y for x, y in zip(parent, mutation.per_gene(parent, genes, rng, 0.25), strict=True)
        )
        for _ in range(4000)
    ]
    # three mutable genes at 0.25 each (the single-allele gene cannot change)
    assert 0.70 < np.mean(changes) < 0.80


def test_elites_are_the_best_not_the_first():
    scores = [0.1, 0.9, 0.5, 0.95, 0.2]
    assert replacement.elites(scores, 2) == [3, 1]
    assert replacement.elites(scores, 0) == []


@pytest.mark.parametrize(("how", "expected"), [("oldest", 2), ("worst", 0)])
def test_steady_state_eviction(how, expected):
    scores = [0.1, 0.9, 0.5, 0.95]
    born = [5, 3, 1, 2]
    assert replacement.evict(scores, born, how, protect=0) == expected


def test_eviction_protects_elites():
    scores = [0.1, 0.9, 0.5, 0.95]
    born = [5, 3, 1, 0]  # the best is also the oldest
    assert replacement.evict(scores, born, "oldest", protect=1) == 2
    assert replacement.evict(scores, born, "oldest", protect=0) == 3
