"""In-memory sources: digits, the Keras-hosted image sets, scikit-learn's tables, ``.npz``.

Every source yields raw arrays (``Raw``); ``assemble`` checks them, resolves the task, splits
and measures the preprocessing on the training split. Only ``load_keras`` imports Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evolve.data.preprocessing import Column, ImagePreprocessing, TablePreprocessing
from evolve.data.spec import DatasetError, DataSpec
from evolve.data.splits import ArraySplits
from evolve.data.targets import plan, resolve


@dataclass
class Raw:
    """Raw arrays of a source; the validation and test pairs are None when absent."""

    x_train: Any
    y_train: Any
    x_val: Any = None
    y_val: Any = None
    x_test: Any = None
    y_test: Any = None
    regression: bool = False
    """``auto`` means regression for this source (``diabetes``)."""
    columns: tuple[str, ...] | None = None
    """Feature names of a table (default ``x0``, ``x1``, ...)."""
    image: bool | None = None
    """Force images (True) or a table (False); None: a table when ``x_train`` is 2-D."""


def load_digits() -> Raw:
    """scikit-learn's digits: (1797, 8, 8) raw values 0..16 (the model rescales), 10 classes."""
    from sklearn.datasets import load_digits as digits

    data = digits()
    return Raw(data.images.astype("float32"), data.target, image=True)


def load_sklearn(name: str) -> Raw:
    """One of scikit-learn's bundled tables (offline). Class labels are the set's target
    names (``malignant``/``benign``, ``setosa``, ...); ``diabetes`` is a regression."""
    import sklearn.datasets as sets

    data = getattr(sets, f"load_{name}")()
    names = tuple(str(n) for n in data.feature_names)
    if name == "diabetes":
        return Raw(data.data, data.target, regression=True, columns=names, image=False)
    labels = np.asarray(data.target_names)[data.target]
    return Raw(data.data, labels, columns=names, image=False)


def load_keras(name: str) -> Raw:
    """``keras.datasets.<name>.load_data()`` (downloads once into ``KERAS_HOME``); a one-line
    ``DatasetError`` when that fails (offline, say). Imports Keras."""
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            f"cannot load '{name}' through keras.datasets ({reason}); offline machines can pass "
            "a local .npz file with x_train, y_train, x_test, y_test instead"
        ) from None
    return Raw(x_train, y_train, x_test=x_test, y_test=y_test, image=True)


def load_npz(path: Path) -> Raw:
    """``x_train``, ``y_train``; optional ``x_val`` + ``y_val`` and ``x_test`` + ``y_test``
    (each pair both or neither). Raises ``DatasetError`` for a missing or unreadable file, a
    ``.npy``, pickled object arrays, missing arrays or half a pair."""
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception:
        raise DatasetError(f"{path} is not a readable .npz file (a zip of named arrays)") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path} holds one array (.npy), not the named arrays of an .npz")
    arrays = {}
    with data:
        for key in data.files:
            try:
                arrays[key] = data[key]
            except ValueError:
                raise DatasetError(
                    f"{path} holds '{key}' as pickled Python objects, which are not loaded "
                    "(unsafe); store numbers, or fixed-width strings for labels"
                ) from None
            except Exception as exc:
                raise DatasetError(f"{path}: cannot read '{key}' ({exc})") from None
    for key in ("x_train", "y_train"):
        if key not in arrays:
            found = ", ".join(sorted(arrays)) or "no arrays"
            raise DatasetError(f"{path} has no '{key}' array (found: {found})")
    for part in ("test", "val"):
        if (f"x_{part}" in arrays) != (f"y_{part}" in arrays):
            raise DatasetError(f"{path} must hold both x_{part} and y_{part}, or neither")
    return Raw(
        arrays["x_train"],
        arrays["y_train"],
        arrays.get("x_val"),
        arrays.get("y_val"),
        arrays.get("x_test"),
        arrays.get("y_test"),
    )


def _features(x: Any, label: str, image: bool | None) -> np.ndarray:
    """``x`` as float32 images (N, H, W, C) or a table (N, F); ``DatasetError`` for another
    shape, non-numbers, complex, no samples, or NaN / infinite values."""
    x = np.asarray(x)
    if image is None:
        image = x.ndim != 2
    if image and x.ndim == 3:
        x = x[..., None]
    if image and x.ndim != 4:
        raise DatasetError(
            f"{label} must have shape (N, H, W) or (N, H, W, C) for images, or (N, F) for a "
            f"table, got {x.shape}"
        )
    if not image and x.ndim != 2:
        raise DatasetError(f"{label} must have shape (N, F) for a table, got {x.shape}")
    noun = "images" if image else "rows"
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"{label} must hold real numbers, got {x.dtype}")
    if len(x) == 0:
        raise DatasetError(f"{label} holds no {noun}")
    x = x.astype("float32")
    bad = ~np.isfinite(x)
    if bad.any():
        rows = int(bad.reshape(len(x), -1).any(axis=1).sum())
        raise DatasetError(
            f"{label} holds {int(bad.sum())} non-finite values (NaN or infinity) in {rows} of "
            f"{len(x)} {noun}; remove or fill them before evolving"
        )
    return x


def table_preprocessing(x_train: np.ndarray, names: tuple[str, ...]) -> TablePreprocessing:
    """Mean and variance of each column of the TRAINING rows ``x_train`` (N, F); a constant
    column gets variance 1.0."""
    mean = x_train.astype("float64").mean(axis=0)
    var = x_train.astype("float64").var(axis=0)
    return TablePreprocessing(
        tuple(
            Column(name, "numeric", float(m), float(v) if v > 0 else 1.0)
            for name, m, v in zip(names, mean, var, strict=True)
        )
    )


def assemble(raw: Raw, spec: DataSpec) -> ArraySplits:
    """Check ``raw``, resolve the task, split what the source does not split itself, and
    measure the preprocessing on the training split. Raises ``DatasetError``."""
    image = raw.image
    x_train = _features(raw.x_train, "x_train", image)
    image = x_train.ndim == 4
    noun = "image" if image else "row"
    given = {"train": (x_train, raw.y_train)}
    for part in ("val", "test"):
        x = getattr(raw, f"x_{part}")
        if x is None:
            continue
        x = _features(x, f"x_{part}", image)
        if x.shape[1:] != x_train.shape[1:]:
            what = "images are" if image else "rows have shape"
            raise DatasetError(f"x_{part} {what} {x.shape[1:]}, x_train {x_train.shape[1:]}")
        given[part] = (x, getattr(raw, f"y_{part}"))
    targets = resolve(
        {f"y_{p}": y for p, (_, y) in given.items()},
        {f"y_{p}": len(x) for p, (x, _) in given.items()},
        spec.task,
        noun=noun,
        regression=raw.regression,
    )
    y_all = targets.parts["y_train"]
    train, val, test = plan(
        len(x_train),
        targets,
        spec,
        train="y_train",
        test_given="test" in given,
        val_given="val" in given,
        noun=noun,
    )
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {"train": (x_train[train], y_all[train])}
    for part, idx in (("val", val), ("test", test)):
        if idx is None:
            parts[part] = (given[part][0], targets.parts[f"y_{part}"])
        else:
            parts[part] = (x_train[idx], y_all[idx])
    x_fit = parts["train"][0]
    if image:
        top = float(x_fit.max())
        prep: ImagePreprocessing | TablePreprocessing = ImagePreprocessing(
            tuple(int(d) for d in x_fit.shape[1:]), 1.0 / top if top > 1.0 else 1.0
        )
    else:
        names = raw.columns or tuple(f"x{i}" for i in range(x_fit.shape[1]))
        prep = table_preprocessing(x_fit, names)
    return ArraySplits(
        task=targets.task,
        num_outputs=targets.num_outputs,
        classes=targets.classes,
        preprocessing=prep,
        x_train=parts["train"][0],
        y_train=parts["train"][1],
        x_val=parts["val"][0],
        y_val=parts["val"][1],
        x_test=parts["test"][0],
        y_test=parts["test"][1],
    )
