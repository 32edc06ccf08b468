"""Loading and exporting a run's models (issue 20, kinds 7 and 8): a model of a build function
with custom objects is loaded wherever a model is loaded, with the run's module imported (or one
line naming it); the SavedModel export takes the inputs the .keras file takes, and a wrong shape
is a Python error naming the expected one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evolve.data import DataSpec

ROOT = Path(__file__).resolve().parent.parent

CUSTOM = """
import keras


@keras.saving.register_keras_serializable(package="mynets")
class Scale(keras.layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="mynets")
def smooth_loss(y_true, y_pred):
    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


def build(genes, input_shape, num_outputs):
    inputs = keras.Input(shape=input_shape)
    x = Scale(0.5)(keras.layers.Flatten()(inputs))
    x = keras.layers.Dense(genes["units"], activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(num_outputs, activation="softmax")(x))
    model.compile(optimizer="adam", loss=smooth_loss, metrics=["accuracy"])
    return model
"""


def cli(*args, cwd, timeout=600):
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)  # fmt: skip


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory):
    """A digits run of a build function with a registered custom layer and loss."""
    work = tmp_path_factory.mktemp("custom")
    (work / "mynets.py").write_text(textwrap.dedent(CUSTOM))
    (work / "c.toml").write_text(textwrap.dedent("""
        [model]
        family = "mynets:build"
        [training]
        epochs = 2
        [search]
        population = 2
        generations = 1
        [genes]
        units = [16, 32]
    """))
    done = cli("run", "--config", "c.toml", "--out", "run", "--quiet", cwd=work)
    assert done.returncode == 0, done.stderr[-3000:]
    return work


@pytest.mark.slow
def test_a_run_with_custom_objects_is_evaluated_and_exported_from_its_folder(custom_run):
    """The issue's example: inspect --evaluate and export --format savedmodel ended in a
    20-frame traceback ("Could not locate class 'Scale'"), the module importable."""
    done = cli("inspect", "run", "--evaluate", "--json", cwd=custom_run)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert 0 <= report["test"]["test_accuracy"] <= 1
    assert report["model"]["params"] > 0  # the user network sits behind the preprocessing
    exported = json.loads((custom_run / "run" / "best" / "genome.json").read_text())
    assert "test_accuracy" in exported  # the final report loaded it in a worker too
    done = cli("export", "run", "--format", "savedmodel", "--out", "served", cwd=custom_run)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (custom_run / "served" / "saved_model.pb").exists()
    assert_the_savedmodel_takes_what_the_keras_file_takes(custom_run, done.stdout)


@pytest.mark.slow
def test_without_the_build_module_loading_is_one_line_naming_it(custom_run, tmp_path):
    run = str(custom_run / "run")
    for args in (["inspect", run, "--evaluate"], ["export", run, "--format", "savedmodel",
                                                  "--out", str(tmp_path / "served")]):
        done = cli(*args, cwd=tmp_path)  # a folder without mynets.py
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr[-3000:]
        assert "Could not locate" in lines[0] and "mynets, the run's build module" in lines[0]
        assert "PYTHONPATH" in lines[0]


FEED = """
import sys
sys.path.insert(0, ".")
import mynets  # registers the run's custom layer, as a user loading the .keras file does
import numpy as np
import keras
import tensorflow as tf
from sklearn.datasets import load_digits

raw = load_digits().images[:5].astype("float32")  # (5, 8, 8), as scikit-learn gives them
want = keras.saving.load_model(sys.argv[1]).predict(raw, verbose=0)
served = tf.saved_model.load(sys.argv[2])
signature = served.signatures["serving_default"]
for name, call in (("serve", served.serve),
                   ("signature", lambda x: next(iter(signature(inputs=tf.constant(x)).values())))):
    for x in (raw, raw[..., None]):
        print(name, x.shape, bool(np.allclose(np.asarray(call(x)), want, atol=1e-5)))
    try:
        call(raw.reshape(5, 64))
        print(name, "wrong shape accepted")
    except tf.errors.InvalidArgumentError as exc:
        print(name, "refused:", "takes inputs of shape (N, 8, 8, 1) or (N, 8, 8)" in str(exc))
"""


def assert_the_savedmodel_takes_what_the_keras_file_takes(work: Path, said: str) -> None:
    """The issue's example (kind 8): the SavedModel of a digits run, fed raw (N, 8, 8) arrays
    (what the .keras export accepts), killed the Python process in TensorFlow's shape check.
    Both now take (N, 8, 8) and (N, 8, 8, 1); another shape is a Python error naming the
    expected one; labels.json is {"labels": [...]}, output i being labels[i]."""
    assert "takes float32 inputs of shape (N, 8, 8, 1) or (N, 8, 8)" in said
    labels = json.loads((work / "served" / "labels.json").read_text())
    assert labels == {"labels": list(range(10))}
    (work / "feed.py").write_text(FEED)
    fed = subprocess.run([sys.executable, "feed.py", "run/best/model.keras", "served"],
                         capture_output=True, text=True, cwd=work, timeout=300)  # fmt: skip
    assert fed.returncode == 0, fed.stderr[-3000:]  # no crash in TensorFlow's C++
    assert fed.stdout.strip().splitlines() == [
        "serve (5, 8, 8) True", "serve (5, 8, 8, 1) True", "serve refused: True",
        "signature (5, 8, 8) True", "signature (5, 8, 8, 1) True", "signature refused: True",
    ]  # fmt: skip


# -- a model that cannot be saved --------------------------------------------------------------


@pytest.mark.slow
def test_a_model_that_cannot_be_saved_leaves_no_partial_file(tmp_path):
    from evolve.execution.trial import run_trial
    from evolve.training.problem import KerasProblem

    blocked = tmp_path / "models"
    blocked.write_text("a file where the models folder should be")
    problem = KerasProblem(DataSpec("digits"), epochs=1, model_dir=str(blocked))
    result = run_trial(problem, {"layers": 1, "filters": 8}, 0, "abc", "val_accuracy")
    assert result.environment and "cannot save abc.keras" in result.reason
    assert list(tmp_path.iterdir()) == [blocked]
