"""Genes, search spaces and genomes: no TensorFlow needed."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

import evolve
from genomes import (
    Choice,
    Flag,
    FloatRange,
    GeneError,
    Genome,
    IntRange,
    LogRange,
    SearchSpace,
)
from genomes.families import cnn
from genomes.genes import gene_from_config


@pytest.mark.unit
def test_gene_types_enumerate_their_alleles():
    assert IntRange("k", 3, 7, 2).alleles == (3, 5, 7)
    assert FloatRange("d", 0.0, 0.5, 0.1).alleles == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    assert LogRange("lr", 1e-4, 0.1, 10).alleles == (1e-4, 1e-3, 1e-2, 0.1)
    assert Flag("r").alleles == (False, True)
    assert Choice("f", ("a", "b")).alleles == ("a", "b")


@pytest.mark.unit
def test_float_alleles_are_matched_despite_rounding():
    gene = FloatRange("d", 0.0, 0.5, 0.1)
    assert gene.normalise(0.1 * 3) == 0.3
    with pytest.raises(GeneError, match=r"gene 'd'.*not one of its alleles"):
        gene.index(0.25)


@pytest.mark.unit
def test_a_bool_is_not_taken_for_an_integer_allele():
    with pytest.raises(GeneError):
        IntRange("layers", 0, 2).index(True)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("decl", "message"),
    [
        ({"type": "gaussian"}, "gene 'g': unknown gene type 'gaussian'"),
        ({"values": [1, 2]}, r"gene 'g': its table needs a type \(one of: choice, int"),
        ({"type": "choice", "values": []}, "gene 'g': a choice needs a non-empty list"),
        ({"type": "int", "min": 5, "max": 1}, r"gene 'g': min \(5\) is greater than max \(1\)"),
        ({"type": "float", "min": 0, "max": 1, "step": 0}, "gene 'g': step must be > 0"),
        ({"type": "int", "min": 1, "max": 3, "step": -1}, "gene 'g': step must be > 0"),
        ({"type": "int", "min": "one", "max": 3}, "gene 'g': min must be an integer, got 'one'"),
        ({"type": "float", "min": 0, "max": "x", "step": 0.1}, "gene 'g': max must be a number"),
        ({"type": "log", "min": 0, "max": 1}, "gene 'g': a log range needs min > 0"),
        ({"type": "int", "min": 1}, "gene 'g': type 'int' needs max"),
        ({"type": "int", "min": 1, "max": 2, "stp": 1}, "gene 'g': unknown key"),
        ({"type": "choice", "values": [[1], 2]}, "gene 'g': choice values must be scalars"),
        ("nonsense", "gene 'g': expected a table"),
    ],
)
def test_bad_declarations_name_the_gene(decl, message):
    with pytest.raises(GeneError, match=message):
        gene_from_config("g", decl)


def lesson_space() -> SearchSpace:
    return SearchSpace.from_config(
        {
            "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
            "learning_rate": {"type": "log", "min": 1e-4, "max": 0.1, "factor": 10},
            "filters": {"type": "int", "min": 64, "max": 256, "step": 64},
            "kernel_size": {"type": "int", "min": 3, "max": 7, "step": 2},
        },
        canonical=cnn.canonical,
    )


@pytest.mark.unit
def test_lesson_grid_has_288_distinct_points_in_a_fixed_order():
    space = lesson_space()
    grid = list(space.grid())
    assert space.size == 288 == len(grid) == len({g.id for g in grid})
    assert grid[0].genes == {"dropout": 0.0, "learning_rate": 1e-4, "filters": 64, "kernel_size": 3}
    assert grid[1].genes["kernel_size"] == 5  # the last gene varies fastest
    assert [space.point(i) for i in (0, 17, 287)] == [grid[0], grid[17], grid[287]]
    assert [g.id for g in lesson_space().grid()] == [g.id for g in grid]


@pytest.mark.unit
def test_sampling_uses_only_the_given_generator():
    space = lesson_space()
    a = [space.sample(np.random.default_rng(7)).id for _ in range(3)]
    np.random.seed(0)
    b = [space.sample(np.random.default_rng(7)).id for _ in range(3)]
    assert a == b
    draws = {space.sample(np.random.default_rng(i)).id for i in range(200)}
    assert 120 < len(draws) < 170  # 288 * (1 - exp(-200 / 288)) ≈ 144 expected


@pytest.mark.unit
def test_genome_round_trips_through_json_and_records_parents():
    space = lesson_space()
    g = space.genome(
        space.sample(np.random.default_rng(1)).genes, parents=("a1", "b2"), origin="crossover"
    )
    back = Genome.from_json(g.to_json())
    assert back.to_dict() == g.to_dict()
    assert back.parents == ("a1", "b2") and back.origin == "crossover"
    assert json.loads(g.to_json())["id"] == g.id


@pytest.mark.unit
def test_genome_is_immutable():
    g = lesson_space().point(0)
    with pytest.raises(TypeError):
        g.genes["dropout"] = 0.5  # type: ignore[index]
    with pytest.raises(AttributeError):
        g.id = "x"  # type: ignore[misc]


@pytest.mark.unit
def test_id_is_stable_and_ignores_gene_order_in_the_input():
    space = lesson_space()
    genes = {"dropout": 0.2, "learning_rate": 0.01, "filters": 128, "kernel_size": 5}
    assert space.genome(genes).id == space.genome(dict(reversed(genes.items()))).id
    # stable across processes and releases: the id is a hash of the canonical JSON
    assert space.genome(genes).id == "07088cdafcee"


@pytest.mark.unit
def test_equivalent_networks_share_an_id():
    space = SearchSpace.from_config(
        {"layers": {"type": "int", "min": 1, "max": 3}, "residual": {"type": "flag"}},
        canonical=cnn.canonical,
    )
    one_a = space.genome({"layers": 1, "residual": True})
    one_b = space.genome({"layers": 1, "residual": False})
    two_a = space.genome({"layers": 2, "residual": True})
    two_b = space.genome({"layers": 2, "residual": False})
    assert one_a.id == one_b.id
    assert two_a.id != two_b.id
    assert one_a.genes["residual"] is True  # the allele itself is inherited unchanged


@pytest.mark.unit
def test_genome_validation_names_the_gene():
    space = lesson_space()
    with pytest.raises(GeneError, match="unknown gene 'depth'"):
        space.genome({"depth": 3})
    with pytest.raises(GeneError, match="gene 'kernel_size' is missing"):
        space.genome({"dropout": 0.0, "learning_rate": 0.1, "filters": 64})
    with pytest.raises(GeneError, match="gene 'filters'"):
        space.genome({"dropout": 0.0, "learning_rate": 0.1, "filters": 65, "kernel_size": 3})


@pytest.mark.unit
def test_cnn_family_rejects_unknown_gene_names():
    from genomes.families import FAMILIES, TRAINING

    space = SearchSpace.from_config({"layers": [1, 2], "depth": [3]})
    with pytest.raises(GeneError, match=r"unknown gene 'depth' for the cnn model .its genes: layers, filters"):
        FAMILIES["cnn"].check(space, TRAINING)


def test_importing_the_packages_loads_no_deep_learning_framework():
    code = (
        "import sys, genomes, evolve, evolve.app.cli, evolve.search, evolve.engine.loop, evolve.session;"
        "evolve.search.strategies();"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- huge genes are refused with their count; huge spaces still work ---------------------------


@pytest.mark.unit
def test_a_gene_with_too_many_alleles_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(GeneError, match=r"gene 'dropout' would have 500,000,001 alleles"):
        gene_from_config("dropout", {"type": "float", "min": 0, "max": 0.5, "step": 1e-9})
    with pytest.raises(GeneError, match=r"at most 1,000,000"):
        gene_from_config("units", {"type": "int", "min": 1, "max": 10**9})
    assert time.monotonic() - started < 1


@pytest.mark.unit
def test_a_space_of_10_to_the_30_points_samples_mutates_and_dedupes():
    space = {f"g{i}": {"type": "int", "min": 0, "max": 9} for i in range(30)}
    assert SearchSpace.from_config(space).size == 10**30
    for strategy in ("ga", "random", "tpe"):
        outcome = evolve.optimize(space, lambda g: float(sum(g.values())), strategy=strategy,
                                  population=10, generations=3, seed=1)  # fmt: skip
        ids = [r.id for r in outcome.records if r.cached_from is None]
        assert len(ids) == len(set(ids)) >= 28


# -- a bound that the step cannot reach is said ------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("decl", "note"),
    [
        ({"type": "float", "min": 0, "max": 0.5, "step": 0.2}, "max 0.5 is not reachable with "
                                                              "step 0.2; the largest allele is 0.4"),
        ({"type": "int", "min": 1, "max": 6, "step": 2}, "the largest allele is 5"),
        ({"type": "log", "min": 1e-4, "max": 5e-2, "factor": 10}, "the largest allele is 0.01"),
        ({"type": "float", "min": 0, "max": 0.5, "step": 0.1}, ""),
    ],
)  # fmt: skip
def test_unreachable_bounds_are_noted(decl, note):
    assert note in gene_from_config("x", decl).note
    assert bool(note) == bool(gene_from_config("x", decl).note)


@pytest.mark.unit
def test_the_note_reaches_stderr_and_the_run_log(tmp_path, capfd):
    space = {"dropout": {"type": "float", "min": 0, "max": 0.5, "step": 0.2}}
    evolve.optimize(space, lambda g: g["dropout"], out=tmp_path / "run", population=2,
                    generations=1)  # fmt: skip
    said = "warning: gene 'dropout': max 0.5 is not reachable with step 0.2"
    assert said in capfd.readouterr().err and said in (tmp_path / "run" / "run.log").read_text()
