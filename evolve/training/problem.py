"""Genome -> trained Keras model -> metrics. Runs inside worker processes only.

Each worker process loads its dataset once (``_splits``) and keeps it for its life.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evolve.data import DataSpec, Splits, model_inputs, prepare
from evolve.data.fingerprint import verify
from evolve.execution.environment import pin_numerics
from evolve.execution.trial import EvaluationTimeout, one_line
from evolve.rundir.layout import model_path
from evolve.search.request import TrainingRequest
from evolve.training.callbacks import median_pruner, time_limit
from evolve.training.saved_models import load_model, save_model
from evolve.training.tensorboard_log import SessionLog
from genomes.families import InputSpec, OutputSpec, get_family
from genomes.families.training import compile_model, training_values
from genomes.space import resolve_layers

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


@functools.lru_cache(maxsize=8)
def _family(spec: str, build: Callable[..., Any] | None) -> Any:
    """The family, looked up (a user's module imported, its signature checked) once per worker
    rather than once per genome."""
    return get_family(spec, build)


def splits(spec: DataSpec) -> Splits:
    """The prepared dataset, loaded once per process, after checking that it is still the
    data the run recorded (``fingerprint.verify``: ``DataChanged`` stops the run)."""
    if spec not in _CACHE:
        _CACHE.clear()
        verify(spec)
        _CACHE[spec] = prepare(spec)
    return _CACHE[spec]


@dataclass(frozen=True)
class KerasProblem:
    """The fitness of a genome of a model family: the validation metrics of its network after
    training with early stopping.

    Picklable and small: workers receive it with each genome and keep the data they load.
    ``family`` is ``cnn``, ``mlp`` or ``module:function``; ``build``, when set, is a user's
    build function given in Python (sent to workers by value). ``per_layer`` maps each per-layer
    gene to its genes (``SearchSpace.per_layer``). ``training`` holds the ``[training]``
    settings of the training genes (optimizer, learning_rate, batch_size, weight_decay).
    ``model_dir``, when set, receives each trained model as ``<genome id>.keras``.
    """

    data: DataSpec
    epochs: int = 10
    patience: int = 3
    training: tuple[tuple[str, Any], ...] = ()
    family: str = "cnn"
    build: Callable[..., Any] | None = None
    per_layer: tuple[tuple[str, tuple[str, ...]], ...] = ()
    model_dir: str | None = None
    timeout: float = 0.0
    """Stop training after this many seconds and report a timeout (0: no limit)."""
    threads: int = 0
    """TensorFlow's threads for this training (``environment.pin_numerics``; 0: as the process
    was started), the same on every backend."""
    tensorboard_dir: str | None = None
    """When set, each training is a TensorBoard session in ``<dir>/<genome id>/``: its curves
    (Keras' ``TensorBoard`` callback), its genes as hparams and its results (``SessionLog``)."""

    def __call__(
        self,
        genes: dict[str, Any],
        seed: int,
        genome_id: str = "",
        epochs: int = 0,
        initial_epoch: int = 0,
        repeat: int = 0,
        prune: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Train ``genes``' network and return its validation metrics (``val_*``), its size,
        timings and learning curve (``curve``: each ``val_*`` metric after every epoch).

        The keywords are those of a ``TrainingRequest``. Full fidelity (``epochs`` 0):
        ``self.epochs`` with early stopping on validation loss, the model saved as
        ``<genome_id>.keras``. A rung of a multi-fidelity run (``epochs`` > 0): ``epochs``
        epochs (early stopping only at the top rung, ``epochs >= self.epochs``; a lower rung
        trains them all), continuing from the state that the rung of ``initial_epoch`` saved
        (``<genome_id>.e<initial_epoch>.keras``, weights and optimizer; trained afresh, noted
        in ``restarted``, when that file is gone), saved as ``<genome_id>.e<epochs>.keras``.
        ``repeat`` > 0 (a re-evaluation) saves nothing.
        ``prune`` (``MedianRule.limits``) stops training at the first epoch whose objective
        is worse than the median there (``pruned_at``). Raises ``TrainingFailed`` for a NaN
        loss, ``EvaluationTimeout`` past the timeout, ``RunDirWriteError`` when saving fails.
        """
        pin_numerics(self.threads)
        import keras

        data = splits(self.data)
        started = time.perf_counter()
        fidelity = TrainingRequest(epochs, initial_epoch, repeat=repeat, prune=prune)
        try:
            metrics = self._train(keras, data, genes, seed, genome_id, started, fidelity)
        finally:
            _clear(keras)
        metrics["train_seconds"] = round(time.perf_counter() - started, 4)
        return metrics

    def model(self, data: Splits, genes: dict[str, Any], seed: int) -> tuple[Any, dict[str, Any]]:
        """The compiled network of ``genes`` for ``data``, and its training values."""
        family = _family(self.family, self.build)
        values = training_values(genes, dict(self.training))
        arch = resolve_layers(genes, dict(self.per_layer))
        inputs = InputSpec(data.feature_shape, data.kind, make=lambda: model_inputs(data))
        model = family.build(arch, inputs, OutputSpec(data.task, data.num_outputs), seed)
        if not getattr(model, "compiled", False):
            compile_model(model, data.task, values)
        return model, values

    def _train(
        self,
        keras: Any,
        data: Splits,
        genes: dict[str, Any],
        seed: int,
        genome_id: str,
        started: float,
        fidelity: TrainingRequest,
    ) -> dict[str, Any]:
        keras.utils.set_random_seed(seed)
        start = self._start(keras, data, genes, seed, genome_id, fidelity)
        model, values, initial, restarted = start
        callbacks = [keras.callbacks.TerminateOnNaN()]
        if not fidelity.epochs or fidelity.epochs >= self.epochs:  # full training: stop early
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=self.patience, restore_best_weights=True
                )
            )
        board = None
        if self.tensorboard_dir and genome_id:
            board = SessionLog(self.tensorboard_dir, genome_id, fidelity.repeat, initial)
            callbacks.append(board.callback(keras))  # writes nothing until fit starts
            board.start(genes)
        pruner = median_pruner(keras, fidelity.prune) if fidelity.prune else None
        if pruner is not None:
            callbacks.append(pruner)
        if self.timeout:
            limit = time_limit(keras, self.timeout - (time.perf_counter() - started))
            callbacks.append(limit)
        fit_started = time.perf_counter()
        try:
            history = model.fit(
                **data.fit_inputs(int(values["batch_size"]), seed),
                validation_data=data.validation_data(),
                epochs=fidelity.epochs or self.epochs,
                initial_epoch=initial,
                callbacks=callbacks,
                verbose=0,
            )
            if self.timeout and limit.expired:
                raise EvaluationTimeout(f"training ran past the {self.timeout:g} s timeout")
            scores = model.evaluate(**data.eval_inputs("validation"), verbose=0, return_dict=True)
            losses = history.history.get("loss", [])
            if not math.isfinite(scores.get("loss", 0.0)) or any(
                not math.isfinite(v) for v in losses
            ):
                raise TrainingFailed(f"NaN or infinite loss by epoch {len(losses)}")
        except Exception as exc:
            if board is not None and board.caused(exc):  # the disk's fault, not the genome's
                raise board.write_error(exc) from exc
            if board is not None:
                board.close()  # its failed end is the parent's (``write_failed``)
            raise
        fit_seconds = time.perf_counter() - fit_started
        metrics: dict[str, Any] = {f"val_{k}": float(v) for k, v in scores.items()}
        params, epochs = int(model.count_params()), initial + len(losses)
        if board is not None:
            board.finish(metrics, params, epochs)
        metrics.update(
            params=params,
            epochs=epochs,
            fit_seconds=round(fit_seconds, 4),
        )
        metrics["curve"] = {  # the learning curve: each validation metric after every epoch
            name: [float(v) for v in values]
            for name, values in history.history.items() if name.startswith("val_")
        }  # fmt: skip
        if initial:
            metrics["initial_epoch"] = initial  # the curve starts after it
        if restarted:
            metrics["restarted"] = restarted
        if pruner is not None and pruner.pruned_at:
            metrics["pruned_at"] = pruner.pruned_at
        if self.model_dir and genome_id and not fidelity.repeat:
            path = model_path(self.model_dir, genome_id, fidelity.epochs)
            save_model(model, path)
            metrics["model_path"] = str(path)
        return metrics

    def _start(
        self,
        keras: Any,
        data: Splits,
        genes: dict[str, Any],
        seed: int,
        genome_id: str,
        fidelity: TrainingRequest,
    ) -> tuple[Any, dict[str, Any], int, str]:
        """The model to train, its training values, the epoch it starts from and, when an
        earlier rung's state could not be used, why (it then trains afresh)."""
        values = training_values(genes, dict(self.training))
        if fidelity.initial_epoch and self.model_dir and genome_id:
            path = model_path(self.model_dir, genome_id, fidelity.initial_epoch)
            if not path.is_file():
                why = f"{path.name} is gone: trained from epoch 0"
            else:
                try:  # weights and optimizer state; a build function's objects imported
                    model = load_model(path, self.family)
                    return model, values, fidelity.initial_epoch, ""
                except Exception as exc:  # a model Keras cannot load back: train afresh
                    why = f"{path.name} cannot be loaded ({one_line(exc)}): trained afresh"
        else:
            why = "no saved state to continue from" if fidelity.initial_epoch else ""
        model, values = self.model(data, genes, seed)
        return model, values, 0, why


def retrain_and_test(
    problem: KerasProblem, genes: dict[str, Any], seed: int, epochs: int, path: str
) -> dict[str, Any]:
    """Train a genome afresh on train + validation for ``epochs``, save it to ``path``, and
    score it on the test split (the final report; fitness never sees the test split)."""
    pin_numerics(problem.threads)
    import keras

    data = splits(problem.data)
    keras.utils.set_random_seed(seed)
    model, values = problem.model(data, genes, seed)
    try:
        model.fit(
            **data.fit_inputs(int(values["batch_size"]), seed, include_validation=True),
            epochs=epochs,
            verbose=0,
        )
        scores = model.evaluate(**data.eval_inputs("test"), verbose=0, return_dict=True)
        model.save(path)
    finally:
        _clear(keras)
    return {"epochs": epochs, **{f"test_{k}": float(v) for k, v in scores.items()}}
