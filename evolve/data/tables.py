"""CSV and Parquet tables (pandas; Parquet through pyarrow), imported lazily.

The target is ``spec.target`` (default: the last column). Feature columns: numbers and
booleans are numeric (standardised by the model); text, categories and dates with at most
``MAX_CATEGORIES`` distinct values in the training split are categorical (one-hot by the
model); anything else is an error, as are missing values anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evolve.data.arrays import table_preprocessing
from evolve.data.preprocessing import Column, TablePreprocessing
from evolve.data.spec import DatasetError, DataSpec
from evolve.data.splits import ArraySplits
from evolve.data.targets import plan, resolve

MAX_CATEGORIES = 50
"""Most distinct values (in the training split) of a text column taken as categorical."""


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_table(path: Path) -> Any:
    """The ``pandas.DataFrame`` in ``path`` (.csv or .parquet). Raises ``DatasetError`` when
    the file is missing or unreadable, or pyarrow is missing for Parquet."""
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    import pandas as pd

    if path.name.lower().endswith(".parquet"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise DatasetError(
                f"reading {path} needs pyarrow, which is not installed: pip install pyarrow"
            ) from None
        try:
            return pd.read_parquet(path, engine="pyarrow")
        except Exception as exc:
            raise DatasetError(f"{path} is not a readable Parquet file ({_reason(exc)})") from None
    try:
        return pd.read_csv(path, low_memory=False)
    except Exception as exc:
        raise DatasetError(f"{path} is not a readable CSV file ({_reason(exc)})") from None


def _is_numeric(series: Any) -> bool:
    from pandas.api import types

    return bool(
        types.is_bool_dtype(series.dtype)
        or (types.is_numeric_dtype(series.dtype) and not types.is_complex_dtype(series.dtype))
    )


def _text(series: Any) -> np.ndarray:
    """A column's values as a numpy str array (categories, dates, mixed objects)."""
    return np.asarray(series.astype(str).to_numpy(), dtype=str)


def _check_missing(frame: Any, path: Path) -> None:
    counts = frame.isna().sum()
    for name in frame.columns:
        if not _is_numeric(frame[name]):
            blank = frame[name].dropna().astype(str).str.strip() == ""
            counts[name] += int(blank.sum())
    bad = [(name, int(n)) for name, n in counts.items() if n]
    if bad:
        listed = ", ".join(f"{name} ({n})" for name, n in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise DatasetError(
            f"{path} has missing values (NaN or empty) in {len(bad)} column(s): "
            f"{listed}{more}; fill or drop them"
        )


def prepare_table(path: Path, spec: DataSpec) -> ArraySplits:
    """Read, check and split a table. Raises ``DatasetError`` for an unreadable file, fewer
    than 2 columns, no rows, duplicate column names, a target that does not exist, missing
    values, infinite numbers, a text column with more than ``MAX_CATEGORIES`` distinct values,
    complex numbers, and every target and split problem (see ``targets``)."""
    from pandas.api import types

    frame = read_table(path)
    frame.columns = [str(c) for c in frame.columns]
    names = list(frame.columns)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DatasetError(f"{path} has duplicate column names: {', '.join(dup)}")
    if len(names) < 2:
        raise DatasetError(
            f"{path} has {len(names)} column(s); a table needs feature columns and a target"
        )
    if len(frame) == 0:
        raise DatasetError(f"{path} has no rows")
    target = spec.target or names[-1]
    if target not in names:
        shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
        raise DatasetError(f"target column '{target}' is not in {path} (columns: {shown})")
    _check_missing(frame, path)
    features = [n for n in names if n != target]
    for name in names:
        if types.is_complex_dtype(frame[name].dtype):
            raise DatasetError(f"{path}: column '{name}' holds complex numbers")
    column = frame[target]
    if types.is_bool_dtype(column.dtype):
        y = column.to_numpy(dtype=bool)
    elif _is_numeric(column):
        y = column.to_numpy()
        y = y.astype("int64" if y.dtype.kind in "iu" else "float64")
    else:
        y = _text(column)
    label = f"target column '{target}'"
    targets = resolve({label: y}, {label: len(frame)}, spec.task, noun="row")
    train, val, test = plan(
        len(frame), targets, spec, train=label, test_given=False, val_given=False, noun="row"
    )
    assert val is not None and test is not None
    columns: dict[str, np.ndarray] = {}
    described: list[Column] = []
    for name in features:
        series = frame[name]
        if _is_numeric(series):
            values = series.to_numpy(dtype="float64").astype("float32")
            if not np.isfinite(values).all():
                count = int((~np.isfinite(values)).sum())
                raise DatasetError(
                    f"{path}: column '{name}' holds {count} infinite values (or numbers too "
                    "large for float32)"
                )
            columns[name] = values
            described.append(Column(name, "numeric"))
            continue
        values = _text(series)
        vocabulary = np.unique(values[train])
        if len(vocabulary) > MAX_CATEGORIES:
            raise DatasetError(
                f"{path}: column '{name}' is text with {len(vocabulary)} distinct values, not "
                f"categorical (at most {MAX_CATEGORIES}): drop it or encode it"
            )
        columns[name] = values
        described.append(Column(name, "categorical", vocabulary=tuple(str(v) for v in vocabulary)))
    numeric = [c.name for c in described if c.kind == "numeric"]
    stats = {}
    if numeric:
        matrix = np.stack([columns[n][train] for n in numeric], axis=1)
        stats = {c.name: c for c in table_preprocessing(matrix, tuple(numeric)).columns}
    prep = TablePreprocessing(
        tuple(stats.get(c.name, c) if c.kind == "numeric" else c for c in described)
    )

    def rows(idx: np.ndarray) -> Any:
        if prep.dict_input:
            return {n: columns[n][idx][:, None] for n in features}
        return np.stack([columns[n][idx] for n in features], axis=1)

    y_all = targets.parts[label]
    return ArraySplits(
        task=targets.task,
        num_outputs=targets.num_outputs,
        classes=targets.classes,
        preprocessing=prep,
        x_train=rows(train),
        y_train=y_all[train],
        x_val=rows(val),
        y_val=y_all[val],
        x_test=rows(test),
        y_test=y_all[test],
    )
