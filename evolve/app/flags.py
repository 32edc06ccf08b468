"""The command line's setting flags: ``--flag`` -> the config key it sets, its type and help."""

from __future__ import annotations

from evolve.data import KERAS_DATASETS, SKLEARN_DATASETS
from evolve.execution import BACKENDS
from evolve.search.registry import strategies


def overrides() -> dict[str, tuple[str, type, str]]:
    """``--flag``: (config key, type, help); the lists of names come from the registries."""
    return {
        "generations": ("search.generations", int, "generations of the GA"),
        "population": (
            "search.population", int,
            "population size (also sets how many genomes random, tpe, gp and smac try)",
        ),
        "seed": ("run.seed", int, "run seed: the same seed and config repeat the run"),
        "dataset": (
            "data.dataset", str,
            f"digits, {', '.join((*SKLEARN_DATASETS, *KERAS_DATASETS))}, or a path: .npz, .csv, "
            ".parquet, or a folder of images (one sub-folder per class)",
        ),
        "family": ("model.family", str, "cnn, mlp, or package.module:function (your build)"),
        "epochs": (
            "training.epochs", int, "most epochs per genome (early stopping may end sooner)"
        ),
        "strategy": ("search.strategy", str, ", ".join(strategies())),
        "budget": ("search.budget", int, "most trainings in the run (0: the strategy decides)"),
        "workers": ("run.workers", int, "parallel evaluations (0: automatic)"),
        "backend": ("run.backend", str, f"{', '.join(BACKENDS)} (loky: this machine)"),
        "address": ("run.address", str, "scheduler address for --backend dask or ray"),
        "scheduler": ("run.address", str, "dask scheduler address, HOST:PORT (same as --address)"),
        "gpus": (
            "run.gpus", str, "auto (every visible GPU), none, or ids like 0,1: one worker each"
        ),
        "workers_per_gpu": ("run.workers_per_gpu", int, "workers sharing each GPU (default 1)"),
        "timeout": ("run.timeout", float, "seconds one evaluation may run (0: no limit)"),
        "final_epochs": (
            "training.final_epochs", int,
            "retrain the best on train + validation for N epochs and report its test accuracy",
        ),
        "name": ("run.name", str, "run name: the folder under results/"),
        "fidelity": (
            "search.fidelity", str,
            "epochs: multi-fidelity (ASHA): train briefly, continue the best (ga, random, tpe)",
        ),
        "min_epochs": ("search.min_epochs", int, "--fidelity: epochs of the first rung (1)"),
        "max_epochs": ("search.max_epochs", int, "--fidelity: epochs of the last rung (--epochs)"),
        "eta": ("search.eta", int, "--fidelity: 1/eta of a rung is promoted, eta x the epochs (2)"),
        "pruning": ("search.pruning", str, "median: stop trainings below the median curve"),
        "final_reevaluations": (
            "search.final_reevaluations", int,
            "retrain the top genomes N more times with new seeds, pick the best mean (-1: auto)",
        ),
    }  # fmt: skip
