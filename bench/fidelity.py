"""Benchmark: epochs each search spends to train a top network, on a learning-curve table.

The table (``bench/make_curves.py``) holds, for each of the 288 configurations of
``bench/curves.toml``, the validation accuracy after every one of 8 epochs, for 2 seeds, all
trained for real by the engine. A look-up fitness that trains a configuration to epoch ``e``
returns one seed's value at ``e`` (the seed drawn once per genome and kept while it is
continued; a re-evaluation draws again). Costs, in epochs: a training from scratch to ``e``
costs ``e``; continuing from ``e`` to ``e'`` costs ``e' - e`` where the search keeps the
weights (ours under multi-fidelity, KerasTuner's Hyperband), ``e'`` where it retrains (DEHB).
Optuna's pruned trials cost the epochs they ran.

A configuration's true quality is its mean final-epoch accuracy over the seeds; the top 1% are
the 3 best. Each strategy runs ``--reps`` times (seeds 0, 1, ...) until it has consumed
``--budget`` epochs. Reported per strategy: the median epochs consumed until a top-1%
configuration is trained to the full 8 epochs (``>budget`` when fewer than half get there),
the share of repetitions that get there within the budget, and the median regret (best true
mean minus the true mean of the pick) after 1/4, 1/2 and all of the budget. The pick is the
best observed result at the highest fidelity reached (what every one of these tools reports).
A second table compares our noise-aware final pick with the best-observed pick, both from
``outcome.best`` of a full-fidelity GA with the same training budget.

    pip install -e ".[bench]" && pip install --no-deps dehb
    python bench/fidelity.py [--reps 50] [--budget 800]

(``dehb`` 0.1.2 pins ``numpy<2`` while pyarrow, which it also requires, needs numpy 2: pip
would downgrade numpy and break pandas' Parquet reader, so it is installed without its pins;
it runs on numpy 2.)

Writes ``bench/data/fidelity.md`` and ``bench/data/fidelity.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import math
import os
import statistics
import tempfile
import time
import tomllib
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import evolve

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "bench" / "data" / "curves_digits_e8.csv"
OUT = ROOT / "bench" / "data"
EPOCHS = 8
ETA = 2
with open(ROOT / "bench" / "curves.toml", "rb") as _handle:
    SPACE: dict[str, dict[str, Any]] = tomllib.load(_handle)["genes"]
GENES = tuple(SPACE)
Key = tuple[Any, ...]


def key_of(genes: dict[str, Any]) -> Key:
    return tuple(float(f"{float(genes[g]):.6g}") if g != "activation" else genes[g]
                 for g in GENES)  # fmt: skip


class Table:
    """Each configuration's curves: ``curves[key][seed][epoch - 1]``."""

    def __init__(self, path: Path = TABLE) -> None:
        curves: dict[Key, list[list[float]]] = defaultdict(list)
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                ok = row["status"] == "ok"
                curve = [float(row[f"acc_{e}"]) if ok else 0.0 for e in range(1, EPOCHS + 1)]
                curves[key_of(row)].append(curve)
        self.curves = dict(curves)
        self.means = {k: float(np.mean([c[-1] for c in v])) for k, v in self.curves.items()}
        self.best_mean = max(self.means.values())
        count = max(1, math.ceil(0.01 * len(self.curves)))
        line = sorted(self.means.values(), reverse=True)[count - 1]
        self.top = {k for k, v in self.means.items() if v >= line}  # ties at the line count

    def regret(self, key: Key) -> float:
        return self.best_mean - self.means[key]


class Enough(Exception):
    """The trace consumed its budget: the search stops."""


@dataclass
class Trace:
    """The trainings of one search: what each cost and gave, and what it reached."""

    table: Table
    budget: int
    rng: np.random.Generator
    spent: int = 0
    reached_top: float = math.inf
    """Epochs consumed when a top-1% configuration was first trained to the full epochs."""
    seen: list[tuple[int, Key, int, float]] = field(default_factory=list)
    """(epochs consumed after it, configuration, epochs trained to, accuracy)."""
    seeds: dict[Any, int] = field(default_factory=dict)

    def train(self, key: Key, epochs: int, cost: int, lineage: Any) -> float:
        """Train ``key`` to ``epochs`` at ``cost`` epochs; ``lineage`` keeps its seed."""
        if self.spent >= self.budget:
            raise Enough
        if lineage not in self.seeds:
            self.seeds[lineage] = int(self.rng.integers(len(self.table.curves[key])))
        value = self.table.curves[key][self.seeds[lineage]][epochs - 1]
        self.spent += cost
        self.seen.append((self.spent, key, epochs, value))
        if epochs == EPOCHS and key in self.table.top:
            self.reached_top = min(self.reached_top, self.spent)
        return value

    def pick(self, spent: float) -> Key | None:
        """The best observed result at the highest fidelity reached within ``spent``."""
        seen = [s for s in self.seen if s[0] <= spent]
        if not seen:
            return None
        top = max(s[2] for s in seen)
        return max((s for s in seen if s[2] == top), key=lambda s: s[3])[1]


Search = Callable[[Trace, int], None]


# -- ours: through evolve.optimize, as a user calls it ------------------------------------------


def ours(strategy: str, fidelity: bool, **search: Any) -> Search:
    def run(trace: Trace, seed: int) -> None:
        def fitness(genes: dict[str, Any], genome_id: str, epochs: int = 0,
                    initial_epoch: int = 0, repeat: int = 0) -> float:  # fmt: skip
            epochs = epochs or EPOCHS
            return trace.train(key_of(genes), epochs, epochs - initial_epoch, (genome_id, repeat))

        settings: dict[str, Any] = {"population": 10, "generations": 10_000}
        if strategy != "ga":
            settings["generations"] = 1_000
        if fidelity:
            settings.update(fidelity="epochs", min_epochs=1, max_epochs=EPOCHS, eta=ETA)
        settings.update(search)
        with contextlib.suppress(Enough):
            evolve.optimize(SPACE, fitness, strategy=strategy, seed=seed, **settings)

    return run


# -- peers, called the way their users call them ------------------------------------------------


def random_halving(trace: Trace, seed: int) -> None:
    """Random search with synchronous successive halving (Jamieson and Talwalkar 2016),
    brackets of 16 configurations, keeping weights between rungs: the textbook baseline."""
    rng = np.random.default_rng([seed, 7])
    keys = list(trace.table.curves)
    rungs = [1, 2, 4, 8]
    bracket = 0
    while True:
        chosen = [keys[i] for i in rng.choice(len(keys), 16, replace=False)]
        alive = [(k, (bracket, k)) for k in chosen]
        previous = 0
        for epochs in rungs:
            scored = [(trace.train(k, epochs, epochs - previous, lin), k, lin) for k, lin in alive]
            scored.sort(key=lambda s: -s[0])
            alive = [(k, lin) for _, k, lin in scored[: max(1, len(scored) // ETA)]]
            previous = epochs
        bracket += 1


def dehb_search(trace: Trace, seed: int) -> None:
    """DEHB (Awad, Mallik and Hutter, IJCAI 2021), the ``dehb`` package's ask/tell interface;
    it retrains each configuration from scratch at every fidelity."""
    import ConfigSpace as CS
    from dehb import DEHB

    space = CS.ConfigurationSpace(seed=seed)
    for gene in GENES:
        space.add(CS.CategoricalHyperparameter(gene, ALLELES[gene]))
    logging.getLogger("loguru").setLevel(logging.ERROR)
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        optimizer = DEHB(
            cs=space, dimensions=len(GENES), min_fidelity=1, max_fidelity=EPOCHS, eta=ETA,
            n_workers=1, seed=seed, output_path=f"/tmp/dehb-bench-{os.getpid()}",
            save_freq=None,
        )  # fmt: skip
    count = 0
    while True:
        job = optimizer.ask()
        epochs = round(float(job["fidelity"]))
        count += 1
        value = trace.train(key_of(dict(job["config"])), epochs, epochs, ("dehb", count))
        optimizer.tell(job, {"fitness": -value, "cost": epochs})


def optuna_hyperband(trace: Trace, seed: int) -> None:
    """Optuna's TPE sampler with its ``HyperbandPruner``: each trial reports its accuracy after
    every epoch and stops when pruned."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS,
                                            reduction_factor=ETA)  # fmt: skip
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(  # a fixed name: the pruner assigns brackets by its hash
        direction="maximize", sampler=sampler, pruner=pruner, study_name=f"bench-{seed}"
    )

    def objective(trial: Any) -> float:
        genes = {g: trial.suggest_categorical(g, ALLELES[g]) for g in GENES}
        value = 0.0
        for epoch in range(1, EPOCHS + 1):
            value = trace.train(key_of(genes), epoch, 1, ("optuna", trial.number))
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned
        return value

    with contextlib.suppress(Enough):
        study.optimize(objective, n_trials=100_000, catch=())


def kerastuner_hyperband(trace: Trace, seed: int) -> None:
    """KerasTuner's ``HyperbandOracle`` driven as its ``Tuner`` drives it: a trial continues
    its ``tuner/trial_id`` predecessor's weights from ``tuner/initial_epoch``."""
    import keras_tuner as kt

    hp = kt.HyperParameters()
    for gene in GENES:
        hp.Choice(gene, ALLELES[gene])
    oracle = kt.oracles.HyperbandOracle(
        objective=kt.Objective("val_accuracy", "max"), max_epochs=EPOCHS, factor=ETA,
        hyperband_iterations=10_000, seed=seed, hyperparameters=hp,
    )  # fmt: skip
    oracle._set_project_dir(tempfile.mkdtemp(prefix="kt-bench-"), f"rep{seed}")
    lineage: dict[str, Any] = {}
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # its per-trial display
        _drive(oracle, trace, lineage)


def _drive(oracle: Any, trace: Trace, lineage: dict[str, Any]) -> None:
    while True:
        trial = oracle.create_trial("bench")
        if trial.status == "STOPPED":
            return
        values = trial.hyperparameters.values
        epochs, initial = values["tuner/epochs"], values["tuner/initial_epoch"]
        parent = values.get("tuner/trial_id")
        lineage[trial.trial_id] = lineage.get(parent, trial.trial_id) if parent else trial.trial_id
        genes = {g: values[g] for g in GENES}
        lin = ("kt", lineage[trial.trial_id])
        value = trace.train(key_of(genes), epochs, epochs - initial, lin)
        oracle.update_trial(trial.trial_id, {"val_accuracy": value})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)


def _alleles(declared: dict[str, Any]) -> list[Any]:
    """A gene's alleles, as the engine's search space lists them."""
    from genomes.space import SearchSpace

    (gene,) = SearchSpace.from_config({"g": declared}).genes
    return list(gene.alleles)


ALLELES = {g: list(SPACE[g].get("values") or _alleles(SPACE[g])) for g in GENES}

STRATEGIES: dict[str, Search] = {
    "GA, full fidelity (ours, today's default)": ours("ga", False),
    "GA steady-state, multi-fidelity (ours)": ours("ga", True, replacement="oldest"),
    "GA generational, multi-fidelity (ours)": ours("ga", True),
    "TPE, multi-fidelity (ours, Optuna's sampler)": ours("tpe", True),
    "random, multi-fidelity (ours)": ours("random", True),
    "random + successive halving": random_halving,
    "DEHB (dehb package)": dehb_search,
    "Optuna TPE + HyperbandPruner": optuna_hyperband,
    "KerasTuner Hyperband oracle": kerastuner_hyperband,
}


def evaluate(table: Table, search: Search, reps: int, budget: int) -> list[Trace]:
    traces = []
    for seed in range(reps):
        trace = Trace(table, budget, np.random.default_rng([seed, 1]))
        with contextlib.suppress(Enough):
            search(trace, seed)
        traces.append(trace)
    return traces


def summarize(table: Table, traces: list[Trace], budget: int) -> dict[str, Any]:
    reached = [t.reached_top for t in traces]
    row: dict[str, Any] = {
        "median": statistics.median(reached),
        "within": float(np.mean([r <= budget for r in reached])),
    }
    for share in (0.25, 0.5, 1.0):
        picks = [t.pick(share * budget) for t in traces]
        row[f"regret_{share}"] = statistics.median(
            table.regret(p) if p is not None else table.best_mean for p in picks
        )
    return row


# -- the noise-aware pick -----------------------------------------------------------------------


def final_picks(table: Table, reps: int, trainings: int) -> dict[str, list[float]]:
    """Regret of ``outcome.best`` of a full-fidelity GA with ``trainings`` trainings (the
    budget), without and with the final pick (3 genomes re-evaluated twice, inside it)."""
    found: dict[str, list[float]] = {"best observed": [], "noise-aware (final pick)": []}
    for seed in range(reps):
        for label, repeats in (("best observed", 0), ("noise-aware (final pick)", 2)):
            trace = Trace(table, 10**9, np.random.default_rng([seed, 1]))

            def fitness(genes: dict[str, Any], genome_id: str, repeat: int = 0) -> float:
                return trace.train(key_of(genes), EPOCHS, EPOCHS, (genome_id, repeat))  # noqa: B023

            outcome = evolve.optimize(
                SPACE, fitness, strategy="ga", seed=seed, population=10, generations=10_000,
                budget=trainings, final_reevaluations=repeats, final_top=3,
            )  # fmt: skip
            found[label].append(table.regret(key_of(outcome.best.genes)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--budget", type=int, default=800, help="epochs per repetition")
    parser.add_argument("--only", default="", help="comma-separated name fragments")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    table = Table()
    rows = {}
    curves: dict[str, list[float]] = {}
    for name, search in STRATEGIES.items():
        if args.only and not any(f in name for f in args.only.split(",")):
            continue
        began = time.perf_counter()
        traces = evaluate(table, search, args.reps, args.budget)
        rows[name] = summarize(table, traces, args.budget)
        grid = np.linspace(0, args.budget, 41)
        curves[name] = [
            statistics.median(
                table.regret(p) if (p := t.pick(x)) is not None else table.best_mean
                for t in traces
            )
            for x in grid
        ]
        print(f"{name}: {rows[name]} ({time.perf_counter() - began:.0f} s)", flush=True)
    picks = final_picks(table, args.reps, args.budget // EPOCHS)
    write(table, rows, curves, picks, args)
    return 0


def write(table: Table, rows: dict, curves: dict, picks: dict, args: argparse.Namespace) -> None:
    b = args.budget
    lines = [
        f"# Epochs to a top network on a learning-curve table ({len(table.curves)} "
        f"configurations x {EPOCHS} epochs x 2 seeds, digits)",
        "",
        f"`python bench/fidelity.py --reps {args.reps} --budget {b}`: {args.reps} repetitions "
        f"per strategy, {b} epochs each (= {b // EPOCHS} full trainings); eta = {ETA}, rungs "
        "1, 2, 4, 8 epochs. Top 1% = the "
        f"{len(table.top)} configurations of best mean final accuracy (ties at the 1% line "
        "included).",
        "",
        "| strategy | median epochs to a top-1% network at 8 epochs | share within "
        f"{b} | regret after {b // 4} | after {b // 2} | after {b} |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        median = row["median"]
        shown = f"{median:.0f}" if math.isfinite(median) else f">{b}"
        lines.append(
            f"| {name} | {shown} | {row['within']:.0%} | {row['regret_0.25']:.4f} | "
            f"{row['regret_0.5']:.4f} | {row['regret_1.0']:.4f} |"
        )
    lines += [
        "",
        f"## The final pick ({args.reps} repetitions; full-fidelity GA, {b // EPOCHS} trainings "
        "each, the last 6 of them the final pick's)",
        "",
        "| pick | median regret | mean regret | share with regret 0 |",
        "|---|---|---|---|",
    ]
    for label, regrets in picks.items():
        lines.append(
            f"| {label} | {statistics.median(regrets):.4f} | {np.mean(regrets):.4f} | "
            f"{np.mean([r == 0 for r in regrets]):.0%} |"
        )
    (OUT / "fidelity.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    grid = np.linspace(0, b, 41)
    for name, values in curves.items():
        style = "-" if "ours" in name else "--"
        ax.plot(grid, values, style, label=name)
    ax.set_xlabel("epochs consumed")
    ax.set_ylabel("median regret of the pick (validation accuracy)")
    ax.set_ylim(0, 0.03)  # before its first result a search has no pick (regret off the chart)
    ax.set_xlim(0, b)
    ax.set_title("Regret against training spent (learning-curve table, digits)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "fidelity.png", dpi=110)
    print(f"wrote {OUT / 'fidelity.md'} and {OUT / 'fidelity.png'}")


if __name__ == "__main__":
    raise SystemExit(main())
