"""The Keras callbacks a training in a worker may carry: a time limit, and the median rule's
stop (``search.pruning``). Each is made with the worker's ``keras`` module, so this module
imports nothing of TensorFlow itself."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any


def time_limit(keras: Any, seconds: float) -> Any:
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


def median_pruner(keras: Any, limits: Mapping[str, Any]) -> Any:
    """A callback that stops training at the first epoch whose objective is worse than the
    median of earlier trainings at that epoch (``MedianRule.limits``)."""
    from evolve.search.schedulers.median import worse

    objective, direction = limits["objective"], limits["direction"]
    medians = limits["medians"]

    class MedianPruner(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.pruned_at = 0

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            value = (logs or {}).get(objective)
            last = (self.params or {}).get("epochs")
            if value is None or epoch >= len(medians) or (last and epoch + 1 >= last):
                return  # at the last epoch, stopping saves nothing: not marked as pruned
            if worse(float(value), medians[epoch], direction):
                self.pruned_at = epoch + 1
                self.model.stop_training = True

    return MedianPruner()
