"""``prepare``: from a ``DataSpec`` to checked, split ``Splits``, whatever the source."""

from __future__ import annotations

from pathlib import Path

from evolve.data.spec import (
    EMBEDDED_DATASETS,
    FILE_SUFFIXES,
    KERAS_DATASETS,
    SKLEARN_DATASETS,
    DatasetError,
    DataSpec,
)
from evolve.data.splits import Splits

KNOWN = (*EMBEDDED_DATASETS, *KERAS_DATASETS, *SKLEARN_DATASETS)


def _looks_like_path(name: str) -> bool:
    return (
        name.lower().endswith(FILE_SUFFIXES)
        or "/" in name
        or "\\" in name
        or name.startswith(("~", "."))
    )


def prepare(spec: DataSpec) -> Splits:
    """Load, check and split the dataset ``spec`` names; resolve the task; describe the
    preprocessing (measured on the training split).

    Sources: ``digits``; ``KERAS_DATASETS`` (the only ones that import Keras); the
    ``SKLEARN_DATASETS`` tables; a path to an ``.npz``, ``.csv`` or ``.parquet`` file, or to a
    folder of images with one sub-folder per class (listed and split only: no image is read and
    TensorFlow is not imported). Returns an ``ArraySplits`` (in memory) or a ``FolderSplits``
    (streamed). Raises ``DatasetError`` (one line) for a bad spec, an unknown name, a missing
    or unreadable file, and anything that makes the data unusable.
    """
    spec.check()
    name = spec.name
    if name in EMBEDDED_DATASETS or name in KERAS_DATASETS or name in SKLEARN_DATASETS:
        from evolve.data import arrays

        if name == "digits":
            raw = arrays.load_digits()
        elif name in KERAS_DATASETS:
            raw = arrays.load_keras(name)
        else:
            raw = arrays.load_sklearn(name)
        return arrays.assemble(raw, spec)
    path = Path(name).expanduser()
    suffix = next((s for s in (".npz", ".csv", ".parquet") if path.name.lower().endswith(s)), "")
    if path.exists() and not path.is_dir() and not path.is_file():
        raise DatasetError(f"cannot read {path}: not a file or a folder (a device or a pipe)")
    if path.is_dir():
        from evolve.data.folders import prepare_folder

        return prepare_folder(path, spec)
    if suffix == ".npz":
        from evolve.data import arrays

        return arrays.assemble(arrays.load_npz(path), spec)
    if suffix in (".csv", ".parquet"):
        from evolve.data.tables import prepare_table

        return prepare_table(path, spec)
    if path.is_file():
        raise DatasetError(
            f"cannot read {path}: a dataset file must end in .npz, .csv or .parquet "
            "(or be a folder of images)"
        )
    if _looks_like_path(name):
        raise DatasetError(f"dataset file not found: {path}")
    raise DatasetError(
        f"unknown dataset '{name}' (known: {', '.join(KNOWN)}); a path may be an .npz, .csv or "
        ".parquet file or a folder of images"
    )
