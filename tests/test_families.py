"""Model families and per-layer genes: declarations, canonical ids, checks, and real builds."""

from __future__ import annotations

import itertools
from importlib import resources

import numpy as np
import pytest

from evolve import optimize
from evolve.search.registry import make_strategy
from evolve.settings import config
from genomes.families import FAMILIES, TRAINING, InputSpec, OutputSpec, get_family
from genomes.families.training import compile_model, training_values
from genomes.genes import GeneError
from genomes.space import SearchSpace, resolve_layers

PER_LAYER = {
    "layers": {"type": "int", "min": 1, "max": 3},
    "filters": {"type": "choice", "values": [8, 16], "per_layer": True},
    "dropout": {"type": "float", "min": 0.0, "max": 0.2, "step": 0.2},
}


def cnn_space(table=PER_LAYER) -> SearchSpace:
    space = SearchSpace.from_config(table, canonical=FAMILIES["cnn"].canonical)
    FAMILIES["cnn"].check(space, TRAINING)
    return space


def test_a_per_layer_gene_holds_one_allele_per_possible_layer():
    space = cnn_space()
    assert space.names == ("layers", "filters_1", "filters_2", "filters_3", "dropout")
    assert space.per_layer == {"filters": ("filters_1", "filters_2", "filters_3")}
    assert space.to_config() == {
        "layers": {"type": "int", "min": 1, "max": 3, "step": 1},
        "filters": {"type": "choice", "values": [8, 16], "per_layer": True},
        "dropout": {"type": "float", "min": 0.0, "max": 0.2, "step": 0.2},
    }
    again = SearchSpace.from_config(space.to_config())
    assert again.names == space.names and again.to_config() == space.to_config()
    genes = {"layers": 2, "filters_1": 16, "filters_2": 8, "filters_3": 16, "dropout": 0.2}
    assert space.resolved(genes) == {"layers": 2, "filters": [16, 8], "dropout": 0.2}
    assert resolve_layers(genes, space.per_layer) == space.resolved(genes)


def test_genomes_differing_only_in_inert_layers_share_an_id():
    space = cnn_space()
    one = space.genome({"layers": 1, "filters_1": 16, "filters_2": 8, "filters_3": 8, "dropout": 0.0})
    same = space.genome({"layers": 1, "filters_1": 16, "filters_2": 16, "filters_3": 16, "dropout": 0.0})
    other = space.genome({"layers": 1, "filters_1": 8, "filters_2": 16, "filters_3": 16, "dropout": 0.0})
    two_a = space.genome({"layers": 2, "filters_1": 16, "filters_2": 8, "filters_3": 8, "dropout": 0.0})
    two_b = space.genome({"layers": 2, "filters_1": 16, "filters_2": 16, "filters_3": 8, "dropout": 0.0})
    assert one.id == same.id != other.id
    assert two_a.id != two_b.id
    # the grid merges them too: 2 + 4 + 8 networks of filters, x 2 dropouts
    assert len({g.id for g in space.grid()}) == (2 + 4 + 8) * 2


def test_crossover_and_mutation_work_on_per_layer_genes():
    space = cnn_space()
    seen = []

    def fitness(genes):
        seen.append(genes)
        return sum(genes[f"filters_{i}"] for i in range(1, genes["layers"] + 1)) - genes["dropout"]

    outcome = optimize(space, fitness, generations=4, population=6, seed=2)
    assert outcome.best is not None and len(seen) >= 12
    origins = {r.origin for r in outcome.records}
    assert any("crossover" in o for o in origins) and any("mutation" in o for o in origins)
    assert all(set(g) == set(space.names) for g in seen)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"filters": {"type": "choice", "values": [8], "per_layer": True}},
         "gene 'filters' is per_layer but the space has no 'layers' gene"),
        ({"layers": {"type": "int", "min": 1, "max": 2, "per_layer": True}},
         "gene 'layers' cannot be per_layer"),
        ({"layers": [1, 2], "filters": {"type": "choice", "values": [8], "per_layer": "yes"}},
         "gene 'filters': per_layer must be true or false"),
        ({"layers": [0, 2], "filters": {"type": "choice", "values": [8], "per_layer": True}},
         "gene 'layers': per-layer genes need whole numbers of at least 1"),
        ({"layers": [1, 2], "dropout": {"type": "choice", "values": [0.1], "per_layer": True}},
         "gene 'dropout' cannot be per_layer in the cnn model .per-layer genes: filters, kernel_size, activation, batch_norm, pooling"),
        ({"layers": [1, 2], "depth": [3]},
         "unknown gene 'depth' for the cnn model .its genes: layers, filters, kernel_size, activation, batch_norm, pooling, dropout, residual, optimizer, learning_rate, batch_size, weight_decay"),
        ({"layers": [1, 2], "activation": ["relu", "sine"]},
         "gene 'activation': 'sine' is not allowed for the cnn model .one of relu"),
        ({"optimizer": ["adam", "adamm"]}, "gene 'optimizer': 'adamm' is not allowed"),
        ({"batch_size": [0, 32]}, "gene 'batch_size': 0 is not allowed .* at least 1"),
        ({"learning_rate": [0.0, 0.1]}, "gene 'learning_rate': 0.0 is not allowed .*above 0"),
        ({"layers": [1, 2], "filters": {"type": "choice", "values": [8, 0], "per_layer": True}},
         "gene 'filters': 0 is not allowed"),
    ],
)
def test_bad_gene_declarations_are_one_line_errors(table, message):
    with pytest.raises(GeneError, match=message):
        cnn_space(table)


def test_the_mlp_family_reads_deepevolves_genes():
    space = SearchSpace.from_config(
        {"layers": [1, 3], "units": {"type": "choice", "values": [4, 8], "per_layer": True},
         "dropout": {"type": "choice", "values": [0.0, 0.5], "per_layer": True},
         "activation": ["relu", "tanh"], "batch_norm": {"type": "flag"}}
    )
    FAMILIES["mlp"].check(space, TRAINING)
    with pytest.raises(GeneError, match="unknown gene 'filters' for the mlp model"):
        FAMILIES["mlp"].check(SearchSpace.from_config({"filters": [8]}), TRAINING)
    with pytest.raises(GeneError, match=r"gene 'dropout': 1.0 is not allowed for the mlp model"):
        FAMILIES["mlp"].check(SearchSpace.from_config({"dropout": [0.5, 1.0]}), TRAINING)


def test_config_family_errors_are_config_errors(tmp_path):
    def load(model, genes):
        return config.from_dict({"model": model, "genes": genes}).space()

    with pytest.raises(config.ConfigError, match=r"model.family = 'resnet' is not one of: cnn, mlp"):
        load({"family": "resnet"}, {"layers": [1]})
    with pytest.raises(config.ConfigError, match="cannot import no_such_module"):
        load({"family": "no_such_module:build"}, {"layers": [1]})
    with pytest.raises(config.ConfigError, match="has no 'nothing'"):
        load({"family": "json:nothing"}, {"layers": [1]})
    with pytest.raises(config.ConfigError, match=r"must be build\(genes, input_shape, num_outputs\); it takes \(x\)"):
        load({"family": "copy:copy"}, {"layers": [1]})
    with pytest.raises(config.ConfigError, match="given in Python and cannot be imported; pass it again from Python"):
        load({"family": "python"}, {"layers": [1]})


def test_the_default_space_proposes_the_same_first_generation_as_before():
    """Genome ids of today's default run, recorded before model families existed."""
    cfg = config.load(str(resources.files("evolve.app") / "default.toml"))
    space = cfg.space()
    strategy = make_strategy("ga", space, "maximize", 0, **cfg.search.strategy_params())
    first = [strategy.ask().id for _ in range(8)]
    assert first == ['a696725a0144', 'f5ac26c59e12', '7b8f9e555703', '3f1f57fa52f9',
                     '944c394aa805', '8d20b0bb240c', '05f4a293ef4e', '0a556b33a3db']


# -- real builds ---------------------------------------------------------------------------



def clear_session() -> None:
    """Free the models of the test before (Keras imported here: the module's import stays
    free of TensorFlow, for the unit lane's collection)."""
    import keras

    keras.backend.clear_session()


def corners(space):
    """Every combination of each gene's smallest and largest allele."""
    ends = [sorted({g.alleles[0], g.alleles[-1]}, key=g.alleles.index) for g in space.genes]
    for alleles in itertools.product(*ends):
        yield space.from_alleles(alleles)


def train_one_batch(family, space, genome, shape, task, units, seed=3):
    rng = np.random.default_rng(1)
    x = rng.random((8, *shape), dtype=np.float32)
    y = {"multiclass": rng.integers(0, units, 8), "binary": rng.integers(0, 2, 8),
         "regression": rng.random((8, units), dtype=np.float32)}[task]
    genes = resolve_layers(genome.genes, space.per_layer)
    model = family.build(genes, InputSpec(shape), OutputSpec(task, units), seed)
    compile_model(model, task, training_values(genome.genes, {}))
    model.run_eagerly = True  # one step: tracing a graph per model would cost ~1.5 s each
    loss = model.train_on_batch(x, y, return_dict=True)["loss"]
    clear_session()
    return model, loss


def sampled_corners(space, count, seed=0):
    """``count`` distinct networks drawn from the grid's corners (each gene, each layer's
    allele too, at its smallest or largest): 2^k corners are too many to build them all."""
    rng = np.random.default_rng(seed)
    found = {}
    while len(found) < count:
        alleles = [g.alleles[0] if rng.random() < 0.5 else g.alleles[-1] for g in space.genes]
        genome = space.from_alleles(alleles)
        found.setdefault(genome.id, genome)
    return list(found.values())


@pytest.mark.slow
def test_corners_of_the_per_layer_cnn_grid_build_and_train():
    space = cnn_space({
        "layers": {"type": "int", "min": 1, "max": 2},
        "filters": {"type": "choice", "values": [4, 8], "per_layer": True},
        "kernel_size": {"type": "choice", "values": [1, 3], "per_layer": True},
        "activation": {"type": "choice", "values": ["relu", "tanh"], "per_layer": True},
        "batch_norm": {"type": "flag", "per_layer": True},
        "pooling": {"type": "choice", "values": ["max", "none"], "per_layer": True},
        "residual": {"type": "flag"},
        "optimizer": ["adam", "sgd"],
    })
    genomes = sampled_corners(space, 40)
    for gene in space.genes:  # every extreme of every gene, at every layer, is built
        assert {g.genes[gene.name] for g in genomes} == {gene.alleles[0], gene.alleles[-1]}
    names = set()
    for genome in genomes:
        model, loss = train_one_batch(FAMILIES["cnn"], space, genome, (8, 8, 1), "multiclass", 10)
        assert model.output_shape == (None, 10) and np.isfinite(loss)
        names |= {layer.name for layer in model.layers}
    assert {"norm0", "act1", "pool0", "skip1", "conv1"} <= names


@pytest.mark.slow
@pytest.mark.parametrize(("task", "units", "out"), [("multiclass", 3, 3), ("binary", 1, 1), ("regression", 2, 2)])
def test_every_corner_of_the_mlp_grid_builds_and_trains_for_each_task(task, units, out):
    space = SearchSpace.from_config({
        "layers": {"type": "int", "min": 1, "max": 2},
        "units": {"type": "choice", "values": [2, 16], "per_layer": True},
        "dropout": {"type": "choice", "values": [0.0, 0.5], "per_layer": True},
        "batch_norm": {"type": "flag"},
        "activation": ["relu", "selu"],
        "weight_decay": [0.0, 0.01],
    })
    FAMILIES["mlp"].check(space, TRAINING)
    for genome in sampled_corners(space, 12, seed=len(task)):
        model, loss = train_one_batch(FAMILIES["mlp"], space, genome, (5,), task, units)
        assert model.output_shape == (None, out) and np.isfinite(loss)


@pytest.mark.slow
def test_the_default_cnn_keeps_its_layers_and_seeds():
    """Default genes build today's network: same layer names, same initial weights."""
    genes = {"layers": 2, "filters": 8, "kernel_size": 3, "dropout": 0.2, "residual": True}
    a = FAMILIES["cnn"].build(genes, InputSpec((8, 8, 1)), OutputSpec("multiclass", 10), 5)
    b = FAMILIES["cnn"].build(genes, InputSpec((8, 8, 1)), OutputSpec("multiclass", 10), 5)
    names = [layer.name for layer in a.layers]
    assert names[1:4] == ["conv0", "pool0", "conv1"] and "skip1" in names
    assert all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))
    clear_session()


def test_a_user_family_from_a_module_path_finds_canonical_beside_it(tmp_path, monkeypatch):
    (tmp_path / "mynet.py").write_text(
        "def build(genes, input_shape, num_outputs):\n    return None\n"
        "def canonical(genes):\n    genes['width'] = genes['width'] if genes['deep'] else 0\n"
        "    return genes\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    family = get_family("mynet:build")
    space = SearchSpace.from_config({"deep": {"type": "flag"}, "width": [0, 4, 8]},
                                    canonical=family.canonical)
    family.check(space, TRAINING)  # every gene reaches the function: none is unknown
    assert space.genome({"deep": False, "width": 4}).id == space.genome({"deep": False, "width": 8}).id
    with pytest.raises(GeneError, match="gene 'optimizer': 'fast' is not allowed"):
        family.check(SearchSpace.from_config({"optimizer": ["fast"]}), TRAINING)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("genes", "family"),
    [
        ({"layers": {"type": "int", "min": 1, "max": 100_000}}, "cnn"),
        ({"layers": [1, 2, 5000]}, "mlp"),
        ({"filters": [8, 10**9]}, "cnn"),
        ({"units": {"type": "int", "min": 8, "max": 10**8, "step": 10**7}}, "mlp"),
    ],
)
def test_a_gene_past_what_a_network_can_be_built_with_is_refused_before_anything_trains(
    genes, family
):
    """Found by a newcomer: layers up to 100,000 trained ten genomes for 20 s each, each
    recorded 'failed StopIteration' with no reason (the initializers' seeds ran out)."""
    with pytest.raises(config.ConfigError, match="at most 1,000") as caught:
        config.from_dict({"model": {"family": family}, "genes": genes}).space()
    assert "\n" not in str(caught.value) and "reasonable time" in str(caught.value)


@pytest.mark.unit
def test_the_seeds_of_a_network_never_run_out():
    from genomes.families.base import seeded

    draw = seeded(3)
    seeds = [draw() for _ in range(5000)]
    assert seeds[:3] == [3001, 3002, 3003] and len(set(seeds)) == 5000
