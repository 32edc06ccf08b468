"""The dense family: DeepEvolve's genes (layers, units per layer, activation, dropout) plus
batch normalisation, each of them per layer if declared so.

Each hidden layer: Dense(``units``), optional batch normalisation, ``activation``, then
``dropout`` when above 0. Image inputs are flattened first. DeepEvolve (Liphardt, 2017) and
harvitronix' neural-network-genetic-algorithm evolve these genes on dense networks.
"""

from __future__ import annotations

from typing import Any

from genomes.families.base import Family, InputSpec, OutputSpec, Param, output_layer, seeded
from genomes.families.cnn import ACTIVATIONS

PARAMS: dict[str, Param] = {
    "layers": Param(2, "count", most=1000),
    "units": Param(64, "count", per_layer=True, most=1_000_000),
    "activation": Param("relu", "choice", ACTIVATIONS, per_layer=True),
    "dropout": Param(0.0, "share", per_layer=True),
    "batch_norm": Param(False, "flag", per_layer=True),
}


def build(g: dict[str, Any], spec: InputSpec, out: OutputSpec, seed: int) -> Any:
    """An uncompiled multi-layer perceptron; every initializer and dropout seeded."""
    import keras
    from keras import layers

    seed_of = seeded(seed)

    def init() -> Any:
        return keras.initializers.GlorotUniform(seed=seed_of())

    inputs, x = spec.tensors()
    if len(x.shape) > 2:
        x = layers.Flatten(name="flatten")(x)
    for i in range(int(g["layers"])):
        norm = bool(g["batch_norm"][i])
        activation = str(g["activation"][i])
        x = layers.Dense(
            int(g["units"][i]), activation=None if norm else activation,
            kernel_initializer=init(), name=f"dense{i}",
        )(x)  # fmt: skip
        if norm:
            x = layers.BatchNormalization(name=f"norm{i}")(x)
            x = layers.Activation(activation, name=f"act{i}")(x)
        if float(g["dropout"][i]) > 0:
            x = layers.Dropout(float(g["dropout"][i]), seed=seed_of(), name=f"dropout{i}")(x)
    outputs = output_layer(x, out, init())
    return keras.Model(inputs, outputs, name="genome")


FAMILY = Family(
    "mlp", PARAMS, build,
    summary="dense layers (DeepEvolve's genes: units, activation, dropout) + batch norm",
)  # fmt: skip
