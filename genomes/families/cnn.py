"""The convolutional family: conv blocks with DEvol's per-layer genes, then a dense head.

Each block: ``filters`` x ``kernel_size`` convolution (same padding), optional batch
normalisation, ``activation``, an optional residual skip (``residual``, from the second block),
and ``pooling`` (max or average, halving the image while it is at least 8 pixels wide; none).
``filters``, ``kernel_size``, ``activation``, ``batch_norm`` and ``pooling`` may be per-layer
genes (DEvol, Davison 2017: every conv layer encoded separately). A ``dropout`` precedes the
output layer. With the default genes this is the network the engine always built, with the same
seeds, so the default run's genome ids and results are unchanged.
"""

from __future__ import annotations

from typing import Any

from genomes.families.base import Family, InputSpec, OutputSpec, Param, output_layer, seeded
from genomes.genes import Allele

ACTIVATIONS = ("relu", "elu", "gelu", "selu", "swish", "tanh", "sigmoid", "leaky_relu")
POOLING = ("max", "avg", "none")

PARAMS: dict[str, Param] = {
    "layers": Param(2, "count", most=1000),
    "filters": Param(32, "count", per_layer=True, most=1_000_000),
    "kernel_size": Param(3, "count", per_layer=True, most=1000),
    "activation": Param("relu", "choice", ACTIVATIONS, per_layer=True),
    "batch_norm": Param(False, "flag", per_layer=True),
    "pooling": Param("max", "choice", POOLING, per_layer=True),
    "dropout": Param(0.0, "share"),
    "residual": Param(False, "flag"),
}


def canonical(genes: dict[str, Allele]) -> dict[str, Allele]:
    """Equivalent networks get the same alleles: skips need at least two conv blocks."""
    if "residual" in genes and int(genes.get("layers", PARAMS["layers"].default)) < 2:
        genes["residual"] = False
    return genes


def build(g: dict[str, Any], spec: InputSpec, out: OutputSpec, seed: int) -> Any:
    """An uncompiled model for images (H, W, C); every initializer and dropout seeded."""
    import keras
    from keras import layers

    if len(spec.shape) != 3:
        raise ValueError(f"the cnn family needs images (H, W, C), got inputs of shape {spec.shape}")
    seed_of = seeded(seed)

    def init() -> Any:
        return keras.initializers.GlorotUniform(seed=seed_of())

    inputs, x = spec.tensors()
    for block in range(int(g["layers"])):
        norm = bool(g["batch_norm"][block])
        activation = str(g["activation"][block])
        y = layers.Conv2D(
            int(g["filters"][block]),
            int(g["kernel_size"][block]),
            padding="same",
            activation=None if norm else activation,
            kernel_initializer=init(),
            name=f"conv{block}",
        )(x)
        if norm:
            y = layers.BatchNormalization(name=f"norm{block}")(y)
            y = layers.Activation(activation, name=f"act{block}")(y)
        if g["residual"] and block > 0:
            if x.shape[-1] != y.shape[-1]:
                x = layers.Conv2D(y.shape[-1], 1, kernel_initializer=init(), name=f"proj{block}")(x)
            y = layers.Add(name=f"skip{block}")([x, y])
        x = y
        pooling = g["pooling"][block]
        if pooling != "none" and min(x.shape[1], x.shape[2]) >= 8:
            pool = layers.MaxPooling2D if pooling == "max" else layers.AveragePooling2D
            x = pool(2, name=f"pool{block}")(x)
    x = layers.Flatten()(x)
    if float(g["dropout"]) > 0:
        x = layers.Dropout(float(g["dropout"]), seed=seed_of())(x)
    outputs = output_layer(x, out, init())
    return keras.Model(inputs, outputs, name="genome")


FAMILY = Family(
    "cnn", PARAMS, build, canonical, needs="image",
    summary="conv blocks (DEvol's per-layer genes), residual skips, dropout, dense head",
)  # fmt: skip
