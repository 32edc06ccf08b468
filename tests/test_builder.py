"""Genome -> Keras model: real builds, real training steps."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from evolve.data import DataSpec
from evolve.settings import config
from evolve.training.problem import KerasProblem
from genomes.families import FAMILIES, InputSpec, OutputSpec
from genomes.families.training import compile_model, training_values


def clear_session() -> None:
    """Free the models of the test before (Keras imported here: the module's import stays
    free of TensorFlow, for the unit lane's collection)."""
    import keras

    keras.backend.clear_session()


def build_model(genes, shape, classes, seed):
    """A compiled cnn of ``genes``, as the engine builds it."""
    model = FAMILIES["cnn"].build(genes, InputSpec(shape), OutputSpec("multiclass", classes), seed)
    return compile_model(model, "multiclass", training_values(genes, {}))


def corners(space):
    """Every combination of each gene's smallest and largest allele."""
    ends = [sorted({g.alleles[0], g.alleles[-1]}, key=g.alleles.index) for g in space.genes]
    for alleles in itertools.product(*ends):
        yield space.from_alleles(alleles)


def genomes_to_check(root, name):
    space = config.load(root / "configs" / name).space()
    rng = np.random.default_rng(0)
    return [*corners(space), *(space.sample(rng) for _ in range(6))]


@pytest.mark.parametrize("config_name", ["default.toml", "lesson_grid.toml"])
def test_every_corner_and_random_genomes_build_and_train_a_batch(root, config_name):
    rng = np.random.default_rng(1)
    x = rng.random((16, 8, 8, 1), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    checked = 0
    for genome in genomes_to_check(root, config_name):
        model = build_model(genome.genes, (8, 8, 1), 10, 3)
        model.run_eagerly = True  # one step: tracing a graph per model would cost ~1.5 s each
        loss = model.train_on_batch(x, y, return_dict=True)["loss"]
        assert model.output_shape == (None, 10)
        assert np.isfinite(loss) or genome.genes.get("learning_rate", 0) >= 0.1, genome
        clear_session()
        checked += 1
    assert checked >= 22


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (5, 7, 2)])
def test_any_image_shape_and_class_count(shape):
    genes = {
        "layers": 3,
        "filters": 8,
        "kernel_size": 3,
        "dropout": 0.2,
        "learning_rate": 1e-3,
        "residual": True,
    }
    model = build_model(genes, shape, 4, 0)
    x = np.zeros((2, *shape), dtype=np.float32)
    assert model.predict(x, verbose=0).shape == (2, 4)
    names = [layer.name for layer in model.layers]
    assert "skip1" in names and "skip2" in names and "skip0" not in names


def test_same_genome_and_seed_give_the_same_fitness(tmp_path):
    problem = KerasProblem(DataSpec("digits"), epochs=2, patience=1, training=(("batch_size", 64),))
    genes = {
        "layers": 2,
        "filters": 16,
        "kernel_size": 3,
        "dropout": 0.3,
        "learning_rate": 1e-3,
        "residual": True,
    }
    a = problem(genes, seed=11)
    b = problem(genes, seed=11)
    c = problem(genes, seed=12)
    assert a["val_accuracy"] == b["val_accuracy"] and a["val_loss"] == b["val_loss"]
    assert a["val_loss"] != c["val_loss"]
    assert a["params"] > 0 and a["epochs"] == 2
    # the learning curve: every validation metric after each epoch, the same for the same seed
    assert set(a["curve"]) == {"val_loss", "val_accuracy"}
    assert len(a["curve"]["val_accuracy"]) == 2 and a["curve"] == b["curve"]
    assert min(a["curve"]["val_loss"]) == pytest.approx(a["val_loss"], rel=1e-4)


def test_a_diverging_genome_is_a_failure_not_a_crash():
    from evolve.execution.trial import run_trial

    problem = KerasProblem(
        DataSpec("digits"), epochs=3, training=(("batch_size", 16), ("optimizer", "sgd"))
    )
    genes = {"layers": 3, "filters": 64, "kernel_size": 5, "learning_rate": 1e6}
    result = run_trial(problem, genes, 0, "x", "val_accuracy")
    assert result.status == "failed" and "loss" in result.reason, result


def test_training_past_its_timeout_stops_and_reports_a_timeout():
    from evolve.execution.trial import run_trial

    problem = KerasProblem(
        DataSpec("digits"), epochs=500, patience=500, timeout=1.0, training=(("batch_size", 8),)
    )
    genes = {"layers": 2, "filters": 32, "kernel_size": 3}
    started = time.perf_counter()
    result = run_trial(problem, genes, 0, "t", "val_accuracy")
    assert result.status == "timeout" and "1 s timeout" in result.reason, result
    assert time.perf_counter() - started < 10
