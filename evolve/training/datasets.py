"""Image datasets: load, normalise, and split into train / validation / test.

``digits`` (scikit-learn, shipped offline) and ``.npz`` files need only numpy; the Keras
datasets import ``keras.datasets`` and are therefore loaded inside workers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")


class DatasetError(ValueError):
    """The dataset cannot be used; the message is one line that names the problem."""


@dataclass(frozen=True)
class DataSpec:
    """Which dataset and how to split it; small and picklable, sent to every worker."""

    name: str = "digits"
    validation_split: float = 0.2
    test_split: float = 0.2
    split_seed: int = 0


@dataclass
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    def describe(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "train": len(self.x_train),
            "validation": len(self.x_val),
            "test": len(self.x_test),
        }


def _load_digits() -> tuple[np.ndarray, np.ndarray, None, None]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images.astype("float32") / 16.0, digits.target, None, None


def _load_keras(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            f"cannot load '{name}' through keras.datasets ({reason}); offline machines can pass "
            "a local .npz file with x_train, y_train, x_test, y_test instead"
        ) from None
    return x_train, y_train, x_test, y_test


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception:
        raise DatasetError(f"{path} is not a readable .npz file (a zip of named arrays)") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path} holds one array (.npy), not the named arrays of an .npz")
    with data:
        arrays = {k: data[k] for k in data.files}
    for key in ("x_train", "y_train"):
        if key not in arrays:
            found = ", ".join(sorted(arrays)) or "no arrays"
            raise DatasetError(f"{path} has no '{key}' array (found: {found})")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DatasetError(f"{path} must hold both x_test and y_test, or neither")
    return arrays["x_train"], arrays["y_train"], arrays.get("x_test"), arrays.get("y_test")


def load_arrays(name: str) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    """Raw (x_train, y_train, x_test, y_test); the test pair is None when there is none."""
    if name == "digits":
        return _load_digits()
    if name in KERAS_DATASETS:
        return _load_keras(name)
    if name.endswith(".npz") or "/" in name or Path(name).exists():
        return _load_npz(Path(name).expanduser())
    known = ", ".join(("digits", *KERAS_DATASETS))
    raise DatasetError(f"unknown dataset '{name}' (known: {known}, or a path to an .npz file)")


def _images(x: Any, label: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise DatasetError(f"{label} must have shape (N, H, W) or (N, H, W, C), got {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise DatasetError(f"{label} must hold real numbers, got {x.dtype}")
    if len(x) == 0:
        raise DatasetError(f"{label} holds no images")
    x = x.astype("float32")
    bad = ~np.isfinite(x)
    if bad.any():
        rows = int(bad.reshape(len(x), -1).any(axis=1).sum())
        raise DatasetError(
            f"{label} holds {int(bad.sum())} non-finite values (NaN or infinity) in {rows} of "
            f"{len(x)} images; remove or fill them before evolving"
        )
    return x


def _labels(y: Any, count: int, label: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise DatasetError(f"{label} must be a vector of class labels, got shape {y.shape}")
    if len(y) != count:
        raise DatasetError(f"{label} has {len(y)} labels but there are {count} images")
    if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
        raise DatasetError(f"{label} holds {int((~np.isfinite(y)).sum())} NaN or infinite labels")
    return y


def _split(
    x: np.ndarray, y: np.ndarray, share: float, seed: int, what: str
) -> tuple[np.ndarray, ...]:
    """A stratified, seeded split; ``DatasetError`` when a class cannot be spread over both
    parts (fewer than 2 samples, or a part too small to hold every class)."""
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        rare = classes[counts.argmin()]
        raise DatasetError(
            f"class {rare} has {counts.min()} sample(s): a stratified {what} split needs at "
            "least 2 of each class"
        )
    try:
        return tuple(train_test_split(x, y, test_size=share, random_state=seed, stratify=y))
    except ValueError:
        raise DatasetError(
            f"a {what} split of {share:g} x {len(y)} samples cannot hold each of the "
            f"{len(classes)} classes; raise data.{what}_split or add data"
        ) from None


def prepare(spec: DataSpec) -> Splits:
    """Load, check, normalise to [0, 1] and split (stratified, seeded)."""
    x_train, y_train, x_test, y_test = load_arrays(spec.name)
    x_train = _images(x_train, "x_train")
    y_train = _labels(y_train, len(x_train), "y_train")
    if x_test is None:
        x_train, x_test, y_train, y_test = _split(
            x_train, y_train, spec.test_split, spec.split_seed, "test"
        )
    else:
        x_test = _images(x_test, "x_test")
        y_test = _labels(y_test, len(x_test), "y_test")
        if x_test.shape[1:] != x_train.shape[1:]:
            raise DatasetError(f"x_test images are {x_test.shape[1:]}, x_train {x_train.shape[1:]}")
    if len(x_train) < 4:
        raise DatasetError(f"too few training images ({len(x_train)})")
    unseen = np.setdiff1d(np.unique(y_test), np.unique(y_train))
    if len(unseen):
        raise DatasetError(
            f"y_test has {len(unseen)} class(es) the training data never shows "
            f"({', '.join(map(str, unseen[:5]))})"
        )
    classes, encoded = np.unique(np.concatenate([y_train, y_test]), return_inverse=True)
    if len(classes) < 2:
        raise DatasetError("the labels hold a single class; at least two are needed")
    y_train, y_test = encoded[: len(y_train)], encoded[len(y_train) :]
    scale = float(x_train.max())
    if scale > 1.0:
        x_train, x_test = x_train / scale, x_test / scale
    x_train, x_val, y_train, y_val = _split(
        x_train, y_train, spec.validation_split, spec.split_seed, "validation"
    )
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, len(classes))
