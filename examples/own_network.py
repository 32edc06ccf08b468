"""Your own Keras network, evolved from a notebook-style script with ``evolve.search_keras``.

The build function below is an ordinary Keras model of a kind the built-in families do not
offer (a separable-convolution stack with a global-pooling head). Every gene of the space
reaches it; per-layer genes arrive as lists, one allele per layer. It returns an uncompiled
model, so the engine compiles it with the task's loss and the training genes (``optimizer``,
``learning_rate``). Two loky workers train genomes in parallel; ``--backend dask`` runs the same
search on a dask LocalCluster on 127.0.0.1 instead.

    python examples/own_network.py [--backend loky|dask] [--generations 3] [--out DIR]

About 2 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import evolve  # noqa: E402


def build(genes, input_shape, num_outputs):
    """A separable-conv network: ``genes["layers"]`` blocks, ``genes["filters"][i]`` each."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for i in range(genes["layers"]):
        x = layers.SeparableConv2D(genes["filters"][i], 3, padding="same", activation="relu")(x)
        if genes["batch_norm"]:
            x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling2D()(x) if genes["head"] == "global" else layers.Flatten()(x)
    x = layers.Dropout(genes["dropout"])(x)
    outputs = layers.Dense(num_outputs, activation="softmax")(x)
    return keras.Model(inputs, outputs)


SPACE = {
    "layers": {"type": "int", "min": 1, "max": 3},
    "filters": {"type": "choice", "values": [16, 32, 64], "per_layer": True},
    "batch_norm": {"type": "flag"},
    "head": {"type": "choice", "values": ["global", "flatten"]},
    "dropout": {"type": "choice", "values": [0.0, 0.25]},
    "learning_rate": {"type": "log", "min": 1e-3, "max": 1e-2, "factor": 10},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("loky", "dask"), default="loky")
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--out", default=None, help="run directory (default: under results/)")
    args = parser.parse_args()

    digits = load_digits()
    x = digits.images[..., None]  # raw pixels 0..16: the exported model rescales them itself
    y = np.array([f"digit {d}" for d in digits.target])  # string labels: mapped and saved
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    test, rest = order[:360], order[360:]

    options = {}
    cluster = None
    if args.backend == "dask":
        from dask.distributed import LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None, processes=True)
        options = {"backend": "dask", "address": cluster.scheduler_address}
    try:
        outcome = evolve.search_keras(
            build, SPACE, x[rest], y[rest], test_data=(x[test], y[test]),
            epochs=8, workers=2, population=6, generations=args.generations,
            out=args.out, progress=True, **options,
        )
    finally:
        if cluster is not None:
            cluster.close()
    best = outcome.best
    print(f"best genome {best.id}: {best.genes}")
    accuracy = outcome.test.get("test_accuracy", float("nan"))
    print(f"validation accuracy {best.fitness:.4f}, test accuracy {accuracy:.4f}")
    model = outcome.best_model()
    labels = (outcome.run_dir / "best" / "labels.json").read_text()
    print(f"run directory {outcome.run_dir}; label map {labels[:60]}...")
    predicted = model.predict(x[test][:5], verbose=0).argmax(axis=1)
    print("predictions for 5 raw test images:", predicted.tolist(), "truth:", y[test][:5].tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
