"""The preprocessing the model's first layers do, described without Keras, and built with it.

``prepare`` measures what the layers need on the TRAINING split only (the image scale, the mean
and variance of each numeric feature, the vocabulary of each categorical column) and stores it
in a small frozen dataclass. ``model_inputs`` turns that description into Keras inputs and
preprocessing layers, so that a saved model takes raw data: raw pixels, raw numbers, raw
category strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImagePreprocessing:
    """Images of ``input_shape`` (height, width, channels), multiplied by ``scale``.

    ``scale`` is ``1 / m`` for ``m``, the training split's largest pixel value, when ``m > 1``
    (16 for digits, 255 for 8-bit images) and 1.0 (no Rescaling layer) otherwise.
    """

    input_shape: tuple[int, ...]
    scale: float = 1.0

    kind = "image"

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Per-sample shape after preprocessing: the raw shape (rescaling keeps it)."""
        return self.input_shape


@dataclass(frozen=True)
class Column:
    """One feature column of a table.

    ``numeric``: standardised with ``mean`` and ``variance`` (of the training split; a column
    that is constant there gets variance 1.0, so that it maps to 0 instead of blowing up).
    ``categorical``: one-hot over ``vocabulary`` (sorted values of the training split) plus
    one out-of-vocabulary slot (index 0) for values never seen in training.
    """

    name: str
    kind: str = "numeric"
    mean: float = 0.0
    variance: float = 1.0
    vocabulary: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """Features this column gives the network: 1, or the vocabulary size + 1 (OOV)."""
        return 1 if self.kind == "numeric" else len(self.vocabulary) + 1


@dataclass(frozen=True)
class TablePreprocessing:
    """A table of ``columns`` (in file order).

    Without categorical columns the raw input is one float32 array of shape (N, F) and the
    features are that array standardised per column: shape (F,). With categorical columns the
    raw input is a dict {column name: array of shape (N, 1)} (float32 for numeric columns,
    str for categorical ones) and the features are the standardised numeric columns followed by
    the one-hot encoding of each categorical column: shape (numeric + sum(len(vocabulary) + 1),).
    """

    columns: tuple[Column, ...]

    kind = "tabular"

    @property
    def dict_input(self) -> bool:
        """True when the raw input is a dict of columns (some column is categorical)."""
        return any(c.kind == "categorical" for c in self.columns)

    @property
    def numeric(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "numeric")

    @property
    def categorical(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "categorical")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Raw per-sample shape: (number of feature columns,), one value per column."""
        return (len(self.columns),)

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Per-sample shape after preprocessing: (numeric columns + one-hot widths,)."""
        return (sum(c.width for c in self.columns),)


Preprocessing = ImagePreprocessing | TablePreprocessing


def _layer_name(name: str) -> str:
    """A Keras-legal name: Keras refuses '/' in layer names."""
    return name.replace("/", "_") or "_"


def model_inputs(source: Any) -> tuple[Any, Any]:
    """Keras inputs for raw data and the preprocessed features built on them.

    ``source`` is a ``Splits`` or its ``preprocessing``. Returns ``(inputs, features)``:
    ``inputs`` is one ``keras.Input`` (images; tables without categorical columns) or a dict
    of them keyed by column name (tables with categorical columns; each of shape (1,), dtype
    float32 or string); ``features`` is a tensor of shape (batch, *feature_shape) made with
    Rescaling, Normalization(mean, variance), StringLookup(vocabulary, output_mode="one_hot")
    and Concatenate. ``keras.Model(inputs, body(features))`` then takes raw data and saves and
    loads as a ``.keras`` file. Imports Keras; raises ``TypeError`` for any other argument.

    String inputs need the TensorFlow backend; Keras 3 also refuses numpy string arrays in
    ``fit``/``predict``: feed such a model a ``tf.data.Dataset`` or ``tf.constant`` strings
    (``Splits.fit_inputs`` does).
    """
    prep = getattr(source, "preprocessing", source)
    if not isinstance(prep, ImagePreprocessing | TablePreprocessing):
        raise TypeError(f"model_inputs needs a Splits or its preprocessing, got {type(source)}")
    import keras

    if isinstance(prep, ImagePreprocessing):
        image = keras.Input(shape=prep.input_shape, name="image")
        if prep.scale == 1.0:
            return image, image
        return image, keras.layers.Rescaling(prep.scale, name="preprocess_rescale")(image)
    numeric = prep.numeric
    mean = [c.mean for c in numeric]
    variance = [c.variance for c in numeric]
    if not prep.dict_input:
        table = keras.Input(shape=(len(numeric),), name="features")
        norm = keras.layers.Normalization(mean=mean, variance=variance, name="preprocess_normalize")
        return table, norm(table)
    inputs = {
        c.name: keras.Input(
            shape=(1,),
            name=_layer_name(c.name),
            dtype="float32" if c.kind == "numeric" else "string",
        )
        for c in prep.columns
    }
    parts = []
    if numeric:
        values = [inputs[c.name] for c in numeric]
        if len(values) > 1:
            joined = keras.layers.Concatenate(name="preprocess_numeric")(values)
        else:
            joined = values[0]
        norm = keras.layers.Normalization(mean=mean, variance=variance, name="preprocess_normalize")
        parts.append(norm(joined))
    for i, c in enumerate(prep.categorical):
        oov = "[UNK]"
        while oov in c.vocabulary:
            oov = f"[{oov}]"
        lookup = keras.layers.StringLookup(
            vocabulary=list(c.vocabulary),
            oov_token=oov,
            output_mode="one_hot",
            name=f"preprocess_onehot_{i}",
        )
        parts.append(lookup(inputs[c.name]))
    if len(parts) == 1:
        return inputs, parts[0]
    return inputs, keras.layers.Concatenate(name="preprocess_features")(parts)
