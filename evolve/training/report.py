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
from evolve.execution import WaitTimeout, is_worker_death, wait_for
from evolve.execution.environment import pin_numerics
from evolve.execution.trial import one_line
from evolve.training.problem import KerasProblem, splits


def describe_data(spec: DataSpec) -> dict[str, Any]:
    """Shapes and sizes of the prepared dataset (loads it into this worker's cache)."""
    return splits(spec).describe()


def test_metrics(
    spec: DataSpec, model_path: str, family: str = "", threads: int = 0
) -> dict[str, float]:
    """The compiled metrics of a saved model on the test split (``test_accuracy``,
    ``test_loss``; ``test_mae`` for regression): for the final report only. Empty when the
    data has no test split. ``family``: the run's ``model.family``, whose module defines a
    user's custom objects (``saved_models.load_model``); ``threads``: the run's."""
    pin_numerics(threads)
    import keras

    from evolve.training.saved_models import load_model

    data = splits(spec)
    if not data.describe()["test"]:
        return {}
    model = load_model(model_path, family)
    scores = model.evaluate(**data.eval_inputs("test"), verbose=0, return_dict=True)
    keras.backend.clear_session()
    return {f"test_{k}": float(v) for k, v in scores.items()}


def in_worker(
    renew: Callable[[], Executor],
    fn: Callable[..., Any],
    *args: Any,
    what: str = "",
    within: float = 0.0,
    stop: Callable[[Executor], Any] | None = None,
) -> Any:
    """Run ``fn`` in a worker, waiting at most ``within`` seconds (0: no bound); once more on a
    fresh pool if the worker dies; ``None`` (and a warning on stderr naming ``what``) if it
    fails or overruns (the run's results are already safe on disk). An overrun worker is
    ended with ``stop``."""
    what = what or fn.__name__
    failure: BaseException | None = None
    for attempt in (1, 2):
        executor = renew()
        try:
            return wait_for(executor.submit(fn, *args), within, what)
        except WaitTimeout as exc:
            if stop is not None:
                stop(executor)
            failure = exc
            break
        except Exception as exc:
            failure = exc
            if not is_worker_death(exc) or attempt == 2:
                break
    assert failure is not None
    timed_out = isinstance(failure, WaitTimeout)
    why = str(failure) if timed_out else f"{what} failed: {one_line(failure)}"
    print(f"warning: {why}", file=sys.stderr)
    return None


def final_report(
    best: Any,
    problem: KerasProblem,
    model: Path,
    final_epochs: int,
    renew: Callable[[], Executor],
    within: float = 0.0,
    stop: Callable[[Executor], Any] | None = None,
) -> dict[str, Any]:
    """Test metrics of the exported best model and, with ``final_epochs``, of the best genome
    retrained on train + validation (saved beside it as ``model.final.keras``). Each waits at
    most ``within`` seconds (0: no bound; the retraining in proportion to its epochs)."""
    from evolve.training.problem import retrain_and_test

    test: dict[str, Any] = {}
    if model.exists():
        test = in_worker(
            renew, test_metrics, problem.data, str(model), problem.family, problem.threads,
            what="the final test evaluation", within=within, stop=stop,
        ) or {}  # fmt: skip
    if final_epochs:
        longer = within * max(1.0, final_epochs / max(1, problem.epochs))
        final = in_worker(
            renew, retrain_and_test, problem, best["genes"], best["seed"], final_epochs,
            str((model.parent / "model.final.keras").resolve()),
            what="retraining the best on train + validation", within=longer, stop=stop,
        )  # fmt: skip
        if final is not None:
            test["final"] = final
    return test


def logged_metrics(problem: KerasProblem, candidates: list[dict[str, Any]]) -> list[str]:
    """Build the network of each of ``candidates`` in turn until one builds, and evaluate it on
    one validation batch: the names of the metrics its training logs (``loss``,
    ``accuracy``... and their ``val_`` forms). Raises the first genome's error when none
    builds (a build that fails for some genomes only fails them alone, in the run)."""
    pin_numerics(problem.threads)
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
