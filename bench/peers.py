"""The peers, called the way their users call them, on the tabular benchmark.

Each function runs one search, recording every training in ``trace`` (configuration and the
accuracy it gave), until ``trace.enough()``. A peer that asks for a configuration it already
trained trains it again (that is what these loops do).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tabular import GENES, Key, Table, Trace, key_of


def optuna_tpe(table: Table, seed: int, trace: Trace) -> None:
    """Optuna's TPE sampler through ``study.optimize`` (default settings, 10 start-up trials).

    It gets the same distributions as our TPE strategy: dropout and the sizes as stepped
    ranges, the learning rate as the exponent of its x10 ladder.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    values = table.values
    draws = np.random.default_rng([seed, 2])

    def suggest(trial: optuna.Trial, name: str) -> float:
        v = values[name]
        if name == "learning_rate":
            return v[trial.suggest_int(name, 0, len(v) - 1)]
        if name == "dropout":
            return trial.suggest_float(name, v[0], v[-1], step=round(v[1] - v[0], 6))
        return trial.suggest_int(name, int(v[0]), int(v[-1]), step=int(v[1] - v[0]))

    def objective(trial: optuna.Trial) -> float:
        return trace.train(key_of([suggest(trial, g) for g in GENES]), draws)

    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def stop_when_enough(study: optuna.Study, _: object) -> None:
        if trace.enough():
            study.stop()

    study.optimize(objective, n_trials=trace.cap, callbacks=[stop_when_enough])


def hyperopt_tpe(table: Table, seed: int, trace: Trace) -> None:
    """hyperopt's ``fmin`` with ``tpe.suggest``, the space written the way the Keras example
    the lesson links to writes one: ``hp.quniform`` for dropout and filters, ``hp.choice`` for
    the learning rate and the kernel size."""
    import logging

    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe

    logging.getLogger("hyperopt").setLevel(logging.ERROR)
    values = table.values
    draws = np.random.default_rng([seed, 3])
    space = {
        "dropout": hp.quniform("dropout", 0.0, 0.5, 0.1),
        "learning_rate": hp.choice("learning_rate", values["learning_rate"]),
        "filters": hp.quniform("filters", 64, 256, 64),
        "kernel_size": hp.choice("kernel_size", values["kernel_size"]),
    }

    def objective(genes: dict[str, float]) -> dict[str, object]:
        accuracy = trace.train(key_of(genes), draws)
        return {"loss": -accuracy, "status": STATUS_OK}

    fmin(
        objective, space, algo=tpe.suggest, max_evals=trace.cap, trials=Trials(),
        rstate=np.random.default_rng(seed), show_progressbar=False,
        early_stop_fn=lambda trials, *args: (trace.enough(), args),
    )  # fmt: skip


def truncation_ga(
    table: Table,
    seed: int,
    trace: Trace,
    *,
    population: int = 20,
    retain: float = 0.4,
    random_select: float = 0.1,
    mutate_chance: float = 0.2,
) -> None:
    """The DeepEvolve / neural-network-genetic-algorithm loop, rewritten from its description.

    Keep the best ``retain`` share, plus each other network with probability
    ``random_select``; fill the population with children of two random kept parents (each
    gene from one parent at random), each mutated with probability ``mutate_chance`` (one gene
    gets a random value). Kept networks are not trained again; children are, even when an
    identical network was trained before.
    """
    rng = np.random.default_rng([seed, 4])
    draws = np.random.default_rng([seed, 5])
    values = [table.values[g] for g in GENES]

    def random_network() -> Key:
        return tuple(v[int(rng.integers(len(v)))] for v in values)

    networks: list[tuple[Key, float | None]] = [(random_network(), None) for _ in range(population)]
    while True:
        for i, (key, accuracy) in enumerate(networks):
            if accuracy is None:
                if trace.enough():
                    return
                networks[i] = (key, trace.train(key, draws))
        ranked = sorted(networks, key=lambda n: n[1], reverse=True)  # type: ignore[arg-type,return-value]
        keep = int(len(ranked) * retain)
        parents = ranked[:keep] + [n for n in ranked[keep:] if rng.random() < random_select]
        children: list[tuple[Key, float | None]] = []
        while len(parents) + len(children) < population:
            a, b = rng.choice(len(parents), size=2, replace=False)
            for _ in range(2):
                pick = rng.random(len(GENES)) < 0.5
                child = [
                    parents[a][0][g] if pick[g] else parents[b][0][g] for g in range(len(GENES))
                ]
                if rng.random() < mutate_chance:
                    g = int(rng.integers(len(GENES)))
                    child[g] = values[g][int(rng.integers(len(values[g])))]
                if len(parents) + len(children) < population:
                    children.append((tuple(child), None))
        networks = parents + children


PEERS: dict[str, Callable[[Table, int, Trace], None]] = {
    "hyperopt TPE (peer)": hyperopt_tpe,
    "Optuna TPE (peer)": optuna_tpe,
    "truncation GA, DeepEvolve-style (peer)": truncation_ga,
}
