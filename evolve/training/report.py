"""The final report: the best model scored on the test split, in a worker.

The test split is touched here only, after the search (fitness never sees it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from evolve.data import DataSpec
from evolve.execution import is_worker_death
from evolve.execution.trial import one_line
from evolve.training.problem import KerasProblem, splits


def describe_data(spec: DataSpec) -> dict[str, Any]:
    """Shapes and sizes of the prepared dataset (loads it into this worker's cache)."""
    return splits(spec).describe()


def test_metrics(spec: DataSpec, model_path: str) -> dict[str, float]:
    """The compiled metrics of a saved model on the test split (``test_accuracy``,
    ``test_loss``; ``test_mae`` for regression): for the final report only. Empty when the
    data has no test split."""
    import keras

    data = splits(spec)
    if not data.describe()["test"]:
        return {}
    model = keras.saving.load_model(model_path, safe_mode=True)
    scores = model.evaluate(**data.eval_inputs("test"), verbose=0, return_dict=True)
    keras.backend.clear_session()
    return {f"test_{k}": float(v) for k, v in scores.items()}


def in_worker(renew: Callable[[], Executor], fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` in a worker; once more on a fresh pool if the worker dies; ``None`` (and a
    warning on stderr) if it fails (the run's results are already safe on disk)."""
    try:
        return renew().submit(fn, *args).result()
    except Exception as exc:
        failure = exc
    if is_worker_death(failure):
        try:
            return renew().submit(fn, *args).result()
        except Exception as exc:
            failure = exc
    print(f"warning: {fn.__name__} failed: {one_line(failure)}", file=sys.stderr)
    return None


def final_report(
    best: Any,
    problem: KerasProblem,
    model: Path,
    final_epochs: int,
    renew: Callable[[], Executor],
) -> dict[str, Any]:
    """Test metrics of the exported best model and, with ``final_epochs``, of the best genome
    retrained on train + validation (saved beside it as ``model.final.keras``)."""
    from evolve.training.problem import retrain_and_test

    test: dict[str, Any] = {}
    if model.exists():
        test = in_worker(renew, test_metrics, problem.data, str(model)) or {}
    if final_epochs:
        final = in_worker(
            renew, retrain_and_test, problem, best["genes"], best["seed"], final_epochs,
            str((model.parent / "model.final.keras").resolve()),
        )  # fmt: skip
        if final is not None:
            test["final"] = final
    return test


def logged_metrics(problem: KerasProblem, candidates: list[dict[str, Any]]) -> list[str]:
    """Build the network of each of ``candidates`` in turn until one builds, and evaluate it on
    one validation batch: the names of the metrics its training logs (``loss``,
    ``accuracy``... and their ``val_`` forms). Raises the first genome's error when none
    builds (a build that fails for some genomes only fails them alone, in the run)."""
    import keras

    data = splits(problem.data)
    first: BaseException | None = None
    for genes in candidates:
        keras.utils.set_random_seed(0)
        try:
            model, _ = problem.model(data, genes, 0)
            scores = model.evaluate(
                **data.eval_inputs("validation"), steps=1, verbose=0, return_dict=True
            )
        except Exception as exc:
            first = first or exc
            continue
        finally:
            keras.backend.clear_session()
        return [*scores, *(f"val_{name}" for name in scores)]
    assert first is not None
    raise first
