"""The data layer: load any source, check it, split it, work out the task, and describe the
preprocessing that the model's first layers do, so that an exported model takes raw inputs.

``prepare(DataSpec(...))`` returns ``Splits``: the train / validation / test parts (seeded;
stratified for classification), the task (``multiclass``, ``binary``, ``regression``), the class
map, raw and preprocessed shapes, and ``preprocessing``, a picklable description that
``model_inputs`` turns into Keras layers. Importing this package and preparing any source but
the Keras-hosted image sets never imports TensorFlow or Keras.
"""

from evolve.data.preprocessing import (
    Column,
    ImagePreprocessing,
    Preprocessing,
    TablePreprocessing,
    model_inputs,
)
from evolve.data.sources import prepare
from evolve.data.spec import (
    KERAS_DATASETS,
    SKLEARN_DATASETS,
    TASKS,
    DatasetError,
    DataSpec,
)
from evolve.data.splits import ArraySplits, FolderSplits, Splits

__all__ = [
    "KERAS_DATASETS",
    "SKLEARN_DATASETS",
    "TASKS",
    "ArraySplits",
    "Column",
    "DataSpec",
    "DatasetError",
    "FolderSplits",
    "ImagePreprocessing",
    "Preprocessing",
    "Splits",
    "TablePreprocessing",
    "model_inputs",
    "prepare",
]
