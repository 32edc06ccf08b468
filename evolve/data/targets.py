"""Targets: check them, work out the task, encode class labels; and the seeded splits.

Classification labels (integers, strings, booleans, or one-hot rows) become 0..k-1 in the
order of the sorted unique labels of the training data, and ``classes`` keeps the map back.
Regression targets become float32 of shape (N,) or (N, k).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evolve.data.spec import DatasetError, DataSpec

MIN_TRAINING = 4
"""Fewest samples left for training + validation once the test part is held out."""


@dataclass
class Targets:
    """Resolved targets: the task, the class map, and each part encoded (same keys as given)."""

    task: str
    """``multiclass``, ``binary`` or ``regression``."""
    classes: list[Any] | None
    """Original labels in encoded order (plain Python values); None for regression."""
    parts: dict[str, np.ndarray]
    """Encoded targets: int32 (N,) for classification, float32 (N,) or (N, k) otherwise."""
    hint: str = ""
    """Appended to split errors: a numeric target taken as class labels by ``auto``."""

    @property
    def num_outputs(self) -> int:
        """Classes (multiclass), 1 (binary), target columns (regression)."""
        if self.task == "regression":
            first = next(iter(self.parts.values()))
            return 1 if first.ndim == 1 else int(first.shape[1])
        assert self.classes is not None
        return 1 if self.task == "binary" else len(self.classes)

    def stratify(self, part: str) -> np.ndarray | None:
        """Encoded labels of ``part`` for a stratified split; None for regression."""
        return None if self.task == "regression" else self.parts[part]


def _plain(value: Any) -> Any:
    """A JSON-serialisable Python value for a numpy label."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _shaped(y: Any, count: int, label: str, noun: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise DatasetError(
            f"{label} must be a vector of labels (N,) or an array of targets (N, k), "
            f"got shape {y.shape}"
        )
    if len(y) != count:
        raise DatasetError(f"{label} has {len(y)} labels but there are {count} {noun}s")
    kind = y.dtype.kind
    if kind == "c":
        raise DatasetError(f"{label} must hold real numbers or labels, got {y.dtype}")
    if kind in "OSmM":
        y = y.astype(str)
    elif kind not in "biufU":
        raise DatasetError(f"{label} holds {y.dtype} values, not numbers or labels")
    if y.dtype.kind == "U" and y.ndim != 1:
        raise DatasetError(f"{label} holds text labels of shape {y.shape}; expected (N,)")
    if kind == "f" and not np.isfinite(y).all():
        bad = int((~np.isfinite(y)).sum())
        raise DatasetError(f"{label} holds {bad} NaN or infinite values")
    return y


def _integral(y: np.ndarray) -> bool:
    return y.dtype.kind != "f" or bool(np.all(np.mod(y, 1) == 0))


def resolve(
    ys: dict[str, Any],
    counts: dict[str, int],
    task: str,
    *,
    noun: str = "sample",
    regression: bool = False,
) -> Targets:
    """Check the targets of each part, resolve ``task`` and encode them.

    ``ys`` maps a label used in messages (``y_train``, ``target column 'price'``) to the raw
    targets of that part, the training data first; ``counts`` gives the samples each part must
    have. ``regression`` makes ``auto`` choose regression (``diabetes``: integer targets that
    are quantities). Raises ``DatasetError`` for a wrong shape or count, complex, NaN or
    infinite values, text asked to be a regression, non-integer numbers asked to be classes,
    classes in a later part that the training data never shows, or a single class.
    """
    shaped = {label: _shaped(y, counts[label], label, noun) for label, y in ys.items()}
    first_label, first = next(iter(shaped.items()))
    text = first.dtype.kind == "U"
    for label, y in shaped.items():
        if (y.dtype.kind == "U") != text:
            raise DatasetError(
                f"{label} holds {'text' if not text else 'numbers'} but {first_label} "
                f"{'text' if text else 'numbers'}"
            )
        if y.shape[1:] != first.shape[1:]:
            raise DatasetError(
                f"{label} has per-sample shape {y.shape[1:]}, {first_label} {first.shape[1:]}"
            )
    everything = np.concatenate(list(shaped.values()))
    if text:
        if task == "regression":
            raise DatasetError(
                f"task 'regression' needs numeric targets, but {first_label} holds text labels "
                f"(e.g. {str(first[0])!r}); use task 'classification' or 'auto'"
            )
        classify = True
    elif first.ndim == 2:
        onehot = bool(np.isin(everything, (0, 1)).all() and (everything.sum(axis=1) == 1).all())
        classify = task == "classification" or (task == "auto" and onehot)
        if classify:
            shaped = {label: y.argmax(axis=1) for label, y in shaped.items()}
    elif first.dtype.kind == "b":
        classify = task != "regression"
    else:
        integral = _integral(everything)
        if task == "classification" and not integral:
            example = everything[np.mod(everything, 1) != 0][0]
            raise DatasetError(
                f"task 'classification' needs class labels, but {first_label} holds "
                f"non-integer values (e.g. {example:g}); use task 'regression' or 'auto'"
            )
        classify = task == "classification" or (task == "auto" and integral and not regression)
    if not classify:
        parts = {label: y.astype("float32") for label, y in shaped.items()}
        for label, y in parts.items():
            if not np.isfinite(y).all():
                raise DatasetError(f"{label} holds values too large for float32")
        return Targets("regression", None, parts)
    hint = ""
    if task == "auto" and not text and first.ndim == 1 and first.dtype.kind != "b":
        hint = "; if the target is a quantity, not a class, set data.task = 'regression'"
    if first.dtype.kind == "f":
        shaped = {label: y.astype("int64") for label, y in shaped.items()}
    classes = np.unique(shaped[first_label])
    for label, y in list(shaped.items())[1:]:
        unseen = np.setdiff1d(np.unique(y), classes)
        if len(unseen):
            raise DatasetError(
                f"{label} has {len(unseen)} class(es) the training data never shows "
                f"({', '.join(map(str, unseen[:5]))})"
            )
    if len(classes) < 2:
        raise DatasetError(
            f"the labels hold a single class ({_plain(classes[0])}); at least two are needed"
        )
    parts = {label: np.searchsorted(classes, y).astype("int32") for label, y in shaped.items()}
    task_name = "binary" if len(classes) == 2 else "multiclass"
    return Targets(task_name, [_plain(c) for c in classes], parts, hint)


def _split(
    pool: np.ndarray,
    labels: np.ndarray | None,
    share: float,
    seed: int,
    what: str,
    targets: Targets,
    noun: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of the indices ``pool`` into (kept, held out ``share``); stratified by
    ``labels`` (encoded, aligned with ``pool``) when given."""
    from sklearn.model_selection import train_test_split

    if labels is not None:
        codes, counts = np.unique(labels, return_counts=True)
        if counts.min() < 2:
            assert targets.classes is not None
            rare = targets.classes[int(codes[counts.argmin()])]
            raise DatasetError(
                f"class {rare} has {counts.min()} {noun}(s): a stratified {what} split needs at "
                f"least 2 of each class{targets.hint}"
            )
    try:
        kept, held = train_test_split(pool, test_size=share, random_state=seed, stratify=labels)
    except ValueError:
        if labels is None:
            raise DatasetError(
                f"a {what} split of {share:g} x {len(pool)} {noun}s leaves a part empty; "
                f"add data or change data.{what}_split"
            ) from None
        raise DatasetError(
            f"a {what} split of {share:g} x {len(pool)} {noun}s cannot hold each of the "
            f"{len(np.unique(labels))} classes; raise data.{what}_split or add data"
        ) from None
    return np.asarray(kept), np.asarray(held)


def plan(
    count: int,
    targets: Targets,
    spec: DataSpec,
    *,
    train: str,
    test_given: bool,
    val_given: bool,
    noun: str = "sample",
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Indices (train, validation, test) into the training data's ``count`` samples.

    The test part (``spec.test_split`` of all; empty when 0) is held out first unless the source
    has one (then None), the validation part (``spec.validation_split`` of the rest) next unless
    the source has one (then None). Stratified for classification; seeded by
    ``spec.split_seed``; the order is scikit-learn's ``train_test_split`` order, the same as
    splitting the arrays themselves. Raises ``DatasetError`` when a class has fewer than 2
    samples, a part cannot hold every class, too few samples remain, or a class is left without
    training data.
    """
    labels = targets.stratify(train)
    pool = np.arange(count)
    test: np.ndarray | None = None
    if not test_given:
        if spec.test_split > 0:
            pool, test = _split(pool, labels, spec.test_split, spec.split_seed, "test", targets,
                                noun)  # fmt: skip
        else:
            test = np.arange(0)
    if len(pool) < MIN_TRAINING:
        raise DatasetError(f"too few training {noun}s ({len(pool)}); at least {MIN_TRAINING}")
    val: np.ndarray | None = None
    if not val_given:
        if spec.validation_split <= 0:
            raise DatasetError(
                "data.validation_split is 0 but the source has no validation part; fitness is "
                "measured on validation data, so give a share in (0, 1)"
            )
        sub = None if labels is None else labels[pool]
        pool, val = _split(pool, sub, spec.validation_split, spec.split_seed, "validation",
                           targets, noun)  # fmt: skip
    if labels is not None:
        assert targets.classes is not None
        missing = np.setdiff1d(np.arange(len(targets.classes)), labels[pool])
        if len(missing):
            name = targets.classes[int(missing[0])]
            raise DatasetError(
                f"class {name} has no training {noun}s left after the test and validation "
                "splits; lower data.test_split or data.validation_split, or add data"
            )
    return pool, val, test
