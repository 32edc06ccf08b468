"""Genome -> trained Keras model -> metrics. Runs inside worker processes only.

Each worker process loads its dataset once (``_splits``) and keeps it for its life.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evolve.execution.trial import EvaluationTimeout, RunDirWriteError
from evolve.training.datasets import DataSpec, Splits, prepare
from genomes import cnn

_CACHE: dict[DataSpec, Splits] = {}
_TRAINED = 0
FULL_GC_EVERY = 10
"""A full garbage collection costs ~0.2 s; Keras' state is cleared after every genome, the
collector runs on every tenth (worker recycling bounds memory in any case)."""


def _clear(keras: Any) -> None:
    global _TRAINED
    _TRAINED += 1
    keras.backend.clear_session(free_memory=_TRAINED % FULL_GC_EVERY == 0)


class TrainingFailed(RuntimeError):
    """The genome trained but produced no usable model (a NaN loss, say)."""


def splits(spec: DataSpec) -> Splits:
    """The prepared dataset, loaded once per process."""
    if spec not in _CACHE:
        _CACHE.clear()
        _CACHE[spec] = prepare(spec)
    return _CACHE[spec]


@dataclass(frozen=True)
class KerasProblem:
    """The fitness of a CNN genome: validation accuracy after training with early stopping.

    Picklable and small: workers receive it with each genome and keep the data they load.
    ``model_dir``, when set, receives each trained model as ``<genome id>.keras``.
    """

    data: DataSpec
    epochs: int = 10
    batch_size: int = 32
    patience: int = 3
    optimizer: str = "adam"
    model_dir: str | None = None
    timeout: float = 0.0
    """Stop training after this many seconds and report a timeout (0: no limit)."""

    def __call__(self, genes: dict[str, Any], seed: int, genome_id: str = "") -> dict[str, Any]:
        import keras

        data = splits(self.data)
        started = time.perf_counter()
        try:
            metrics = self._train(keras, data, genes, seed, genome_id, started)
        finally:
            _clear(keras)
        metrics["train_seconds"] = round(time.perf_counter() - started, 4)
        return metrics

    def _train(
        self,
        keras: Any,
        data: Splits,
        genes: dict[str, Any],
        seed: int,
        genome_id: str,
        started: float,
    ) -> dict[str, Any]:
        keras.utils.set_random_seed(seed)
        model = cnn.build_model(genes, data.input_shape, data.num_classes, seed, self.optimizer)
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.patience, restore_best_weights=True
        )
        callbacks = [stop, keras.callbacks.TerminateOnNaN()]
        if self.timeout:
            limit = _time_limit(keras, self.timeout - (time.perf_counter() - started))
            callbacks.append(limit)
        fit_started = time.perf_counter()
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            epochs=self.epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            verbose=0,
        )
        if self.timeout and limit.expired:
            raise EvaluationTimeout(f"training ran past the {self.timeout:g} s timeout")
        val_loss, val_accuracy = model.evaluate(data.x_val, data.y_val, batch_size=256, verbose=0)
        fit_seconds = time.perf_counter() - fit_started
        losses = history.history.get("loss", [])
        if not math.isfinite(val_loss) or any(not math.isfinite(v) for v in losses):
            raise TrainingFailed(f"NaN or infinite loss by epoch {len(losses)}")
        metrics: dict[str, Any] = {
            "val_accuracy": float(val_accuracy),
            "val_loss": float(val_loss),
            "params": int(model.count_params()),
            "epochs": len(losses),
            "fit_seconds": round(fit_seconds, 4),
        }
        if self.model_dir and genome_id:
            path = Path(self.model_dir) / f"{genome_id}.keras"
            save_model(model, path)
            metrics["model_path"] = str(path)
        return metrics


def save_model(model: Any, path: Path) -> None:
    """Save ``model`` to ``path`` whole or not at all (a temporary file, then rename); a
    failure is the run directory's (``RunDirWriteError``), never the genome's."""
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        reason = f"cannot save {path.name}: {exc.strerror or exc}"
        raise RunDirWriteError(exc.errno, reason) from exc


def _time_limit(keras: Any, seconds: float) -> Any:
    """A callback that stops training once ``seconds`` have passed."""

    class TimeLimit(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.deadline = time.monotonic() + seconds
            self.expired = False

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if time.monotonic() > self.deadline:
                self.expired = True
                self.model.stop_training = True

    return TimeLimit()


def retrain_and_test(
    problem: KerasProblem, genes: dict[str, Any], seed: int, epochs: int, path: str
) -> dict[str, Any]:
    """Train a genome afresh on train + validation for ``epochs``, save it to ``path``, and
    score it on the test split (the final report; fitness never sees the test split)."""
    import keras
    import numpy as np

    data = splits(problem.data)
    keras.utils.set_random_seed(seed)
    model = cnn.build_model(genes, data.input_shape, data.num_classes, seed, problem.optimizer)
    try:
        model.fit(
            np.concatenate([data.x_train, data.x_val]),
            np.concatenate([data.y_train, data.y_val]),
            epochs=epochs,
            batch_size=problem.batch_size,
            verbose=0,
        )
        loss, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
        model.save(path)
    finally:
        _clear(keras)
    return {"epochs": epochs, "test_accuracy": float(accuracy), "test_loss": float(loss)}
