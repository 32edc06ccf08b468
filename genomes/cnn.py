"""The convolutional network family: which genes it reads, and genome -> compiled Keras model.

Keras is imported inside ``build_model`` only, so this module stays importable (and the
canonical rule usable) in a process that never loads TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from genomes.genes import Allele, GeneError

DEFAULTS: dict[str, Allele] = {
    "layers": 2,
    "filters": 32,
    "kernel_size": 3,
    "dropout": 0.0,
    "learning_rate": 1e-3,
    "residual": False,
}
"""The genes this family understands, and the value used when the space omits one."""

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam")


def check_gene_names(names: Iterable[str]) -> None:
    """Raise a clear error for a gene this family does not understand."""
    for name in names:
        if name not in DEFAULTS:
            raise GeneError(
                f"unknown gene '{name}' for the cnn model (known: {', '.join(DEFAULTS)})"
            )


RANGES: dict[str, tuple[float, float, str]] = {
    "layers": (1, float("inf"), "at least 1"),
    "filters": (1, float("inf"), "at least 1"),
    "kernel_size": (1, float("inf"), "at least 1"),
    "dropout": (0.0, 1.0 - 1e-9, "in [0, 1): a dropout of 1 drops every unit"),
    "learning_rate": (1e-12, float("inf"), "above 0: a learning rate of 0 never learns"),
}
"""Allowed alleles of the numeric genes: (low, high, the rule in words)."""
INTEGERS = ("layers", "filters", "kernel_size")


def check_alleles(genes: Iterable[Any]) -> None:
    """Raise ``GeneError`` for an allele no network of this family can use (a dropout of 1, a
    learning rate of 0, zero filters...), naming the gene and the rule."""
    for gene in genes:
        if gene.name == "residual":
            bad = [a for a in gene.alleles if not isinstance(a, bool)]
            rule = "true or false"
        elif gene.name in RANGES:
            low, high, rule = RANGES[gene.name]
            whole = gene.name in INTEGERS
            bad = [a for a in gene.alleles if isinstance(a, bool) or not isinstance(a, (int, float))
                   or not (low <= a <= high and math.isfinite(a))
                   or (whole and not float(a).is_integer())]  # fmt: skip
            rule += ", a whole number" if whole else ""
        else:
            continue
        if bad:
            raise GeneError(
                f"gene '{gene.name}': {bad[0]!r} is not allowed for the cnn model ({rule})"
            )


def canonical(genes: dict[str, Allele]) -> dict[str, Allele]:
    """Equivalent networks get the same alleles: skips need at least two conv blocks."""
    if "residual" in genes and int(genes.get("layers", DEFAULTS["layers"])) < 2:
        genes["residual"] = False
    return genes


def resolved(genes: Mapping[str, Any]) -> dict[str, Any]:
    """The genome's alleles with defaults filled in for genes the space does not evolve."""
    return {**DEFAULTS, **genes}


def build_model(
    genes: Mapping[str, Any],
    input_shape: tuple[int, ...],
    num_classes: int,
    seed: int,
    optimizer: str = "adam",
) -> Any:
    """A compiled Keras model for images of ``input_shape`` (H, W, C) and ``num_classes``.

    ``layers`` conv blocks of ``filters`` x ``kernel_size`` (same padding, ReLU); with
    ``residual`` every block after the first adds its input back (through a 1x1 projection when
    the channel counts differ). Blocks halve the image with max-pooling while it is at least 8
    pixels wide. A dropout of ``dropout`` precedes the softmax classifier. Every initializer and
    dropout layer gets an explicit seed derived from ``seed``, so runs repeat on any backend.
    """
    import keras
    from keras import layers

    g = resolved(genes)
    seeds = iter(range(seed * 1000 + 1, seed * 1000 + 1000))

    def init() -> Any:
        return keras.initializers.GlorotUniform(seed=next(seeds))

    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for block in range(int(g["layers"])):
        y = layers.Conv2D(
            int(g["filters"]),
            int(g["kernel_size"]),
            padding="same",
            activation="relu",
            kernel_initializer=init(),
            name=f"conv{block}",
        )(x)
        if g["residual"] and block > 0:
            if x.shape[-1] != y.shape[-1]:
                x = layers.Conv2D(y.shape[-1], 1, kernel_initializer=init(), name=f"proj{block}")(x)
            y = layers.Add(name=f"skip{block}")([x, y])
        x = y
        if min(x.shape[1], x.shape[2]) >= 8:
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.Flatten()(x)
    if float(g["dropout"]) > 0:
        x = layers.Dropout(float(g["dropout"]), seed=next(seeds))(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=init())(x)
    model = keras.Model(inputs, outputs, name="genome")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{optimizer}' (known: {', '.join(OPTIMIZERS)})")
    opt = keras.optimizers.get(
        {"class_name": optimizer, "config": {"learning_rate": float(g["learning_rate"])}}
    )
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
