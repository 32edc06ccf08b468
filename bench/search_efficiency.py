"""Benchmark: how many trainings each search needs on the tabular benchmark of the lesson's grid.

Every strategy runs ``--reps`` times (seeds 0, 1, ...) for at most ``--cap`` trainings on the
table that ``bench/make_table.py`` built (288 configurations of the lesson's grid, each trained
for real with several seeds); each training returns one seed's result at random. Ours run
through ``evolve.optimize``, as a user's would; the peers (hyperopt, Optuna, a DeepEvolve-style
truncation GA) are called directly (``bench/peers.py``). ``gp`` and ``smac`` refit a model at
every training (0.1 to 1 s each), so ``--only gp,smac --reps 20`` is how their rows were made.
Reported per strategy:

- the median number of trainings until a true top-1% configuration (by mean over seeds) is
  first trained (``>cap`` when fewer than half the repetitions find one);
- the share of repetitions that train one within 100 trainings;
- the median regret (best mean accuracy minus the mean accuracy of the configuration the search
  would pick: its best *observed* result) after 30, 60 and 100 trainings;
- the share of trainings spent on a configuration already trained (in the first 100).

Writes ``bench/data/search_efficiency.md`` and ``.png``. ``--tune`` instead compares settings
of our GA (population, selection pressure, mutation, crossover) to choose its defaults.

    pip install -e ".[bench]"
    python bench/search_efficiency.py [--reps 50] [--cap 288] [--tune broad|focus]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from peers import PEERS
from tabular import DEFAULT_TABLE, Enough, Key, Table, Trace, key_of, lesson_genes

import evolve

OUT = Path(__file__).resolve().parent / "data"
SPACE = lesson_genes()
CHECKPOINTS = (30, 60, 100)
Search = Callable[[Table, int, Trace], None]


def ours(strategy: str, **search: Any) -> Search:
    """One of our strategies, run through ``evolve.optimize`` with a look-up fitness."""

    def run(table: Table, seed: int, trace: Trace) -> None:
        draws = np.random.default_rng([seed, 1])

        def fitness(genes: dict[str, Any]) -> float:
            return trace.train(key_of(genes), draws)

        def stop_when_enough(record: dict[str, Any]) -> None:
            if trace.enough():
                raise Enough

        settings = {"generations": 10_000, **search} if strategy == "ga" else search
        with contextlib.suppress(Enough):
            evolve.optimize(
                SPACE, fitness, strategy=strategy, seed=seed, budget=trace.cap,
                on_record=stop_when_enough, **settings,
            )  # fmt: skip

    return run


OURS: dict[str, Search] = {
    "grid (ours)": ours("grid"),
    "random (ours)": ours("random"),
    "TPE (ours, Optuna's sampler)": ours("tpe"),
    "GP Bayesian optimisation (ours, SMAC3's BlackBoxFacade)": ours("gp"),
    "random-forest BO, SMAC (ours, SMAC3's HPO facade)": ours("smac"),
    "GA generational, SUS (ours, the lesson's)": ours("ga", selection="sus"),
    "GA generational, tournament of 5 (ours, default)": ours("ga"),
    "GA steady-state, aging, tournament of 5 (ours)": ours("ga", replacement="oldest"),
}


def first_hit(trace: Trace, top: set[Key]) -> float:
    """1-based index of the first training of a top configuration (``inf``: none)."""
    return next((i + 1 for i, (key, _) in enumerate(trace) if key in top), math.inf)


def pick(trace: Trace, n: int) -> Key:
    """The configuration a search would report after ``n`` trainings: its best observed."""
    return max(trace[:n], key=lambda t: t[1])[0]


def summarize(table: Table, traces: list[Trace]) -> dict[str, float]:
    top = table.top(0.01)
    cap = max(t.cap for t in traces)
    hits = [first_hit(t, top) for t in traces]
    row = {
        "median": statistics.median(hits),
        "mean": float(np.mean([min(h, cap) for h in hits])),
        "within_100": float(np.mean([h <= 100 for h in hits])),
    }
    for n in CHECKPOINTS:
        row[f"regret_{n}"] = statistics.median(table.regret(pick(t, n)) for t in traces)
    repeats = [1 - len({k for k, _ in t[:100]}) / len(t[:100]) for t in traces]
    row["repeats"] = float(np.mean(repeats))
    return row


def evaluate(table: Table, search: Search, reps: int, cap: int) -> tuple[dict, list[Trace]]:
    started = time.perf_counter()
    traces = []
    for seed in range(reps):
        traces.append(Trace(table, table.top(0.01), cap, horizon=max(CHECKPOINTS)))
        search(table, seed, traces[-1])
    row = summarize(table, traces)
    row["seconds"] = time.perf_counter() - started
    return row, traces


def markdown(rows: dict[str, dict[str, float]], cap: int) -> str:
    def trainings(value: float) -> str:
        return f">{cap}" if math.isinf(value) else f"{value:g}"

    header = (
        "| strategy | median trainings to a top-1% config | mean (never: cap) | within 100 | "
        + " | ".join(f"regret @{n}" for n in CHECKPOINTS)
        + " | repeated trainings (first 100) |"
    )
    lines = [header, "|" + "---|" * (5 + len(CHECKPOINTS))]
    for name, r in rows.items():
        regrets = " | ".join(f"{r[f'regret_{n}']:.4f}" for n in CHECKPOINTS)
        lines.append(
            f"| {name} | {trainings(r['median'])} | {r['mean']:.1f} | {r['within_100']:.0%} | "
            f"{regrets} | "
            f"{r['repeats']:.0%} |"
        )
    return "\n".join(lines)


def plot(table: Table, traces: dict[str, list[Trace]], cap: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = table.top(0.01)
    steps = np.arange(1, cap + 1)
    early = steps[steps <= max(CHECKPOINTS)]
    fig, (found, regret) = plt.subplots(1, 2, figsize=(13, 5))
    for name, runs in traces.items():
        hits = np.array([first_hit(t, top) for t in runs])
        style = "--" if "peer" in name else "-"
        found.plot(steps, [(hits <= s).mean() for s in steps], style, label=name)
        curve = [statistics.median(table.regret(pick(t, s)) for t in runs) for s in early]
        regret.plot(early, curve, style, label=name)
    found.set(
        xlabel="trainings", ylabel="share of repetitions", title="a top-1% configuration found"
    )
    regret.set(xlabel="trainings", ylabel="median regret (mean validation accuracy)")
    regret.set_title("regret of the configuration each would pick")
    regret.set_yscale("symlog", linthresh=1e-3)
    found.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


TUNING = {
    "broad": {
        "replacement": ("generational", "oldest"),
        "population": (6, 8, 10, 16),
        "selection": ("sus", "tournament:2", "tournament:3", "tournament:5"),
        "mutation": ("uniform:0.5", "uniform:1.0", "per_gene:0.25"),
    },
    "focus": {
        "replacement": ("generational", "oldest"),
        "population": (8, 10, 12),
        "selection": ("tournament:3", "tournament:5", "tournament:7"),
        "crossover": ("single_point", "uniform"),
    },
}
"""GA settings compared by ``--tune``: every combination of each stage's values."""


def ga_settings(choice: dict[str, Any]) -> dict[str, Any]:
    """Settings of ``optimize`` from a tuning choice: ``"tournament:5"`` is a tournament of 5,
    ``"uniform:0.5"`` uniform mutation at rate 0.5."""
    settings = dict(choice)
    if ":" in str(choice.get("selection", "")):
        settings["selection"], size = choice["selection"].split(":")
        settings["tournament_size"] = int(size)
    if ":" in str(choice.get("mutation", "")):
        settings["mutation"], rate = choice["mutation"].split(":")
        settings["mutation_rate"] = float(rate)
    return settings


def tune(table: Table, stage: str, reps: int, cap: int, only: str) -> None:
    """Compare GA settings; print them best first (median trainings to a top-1% config, then
    the mean, counting a repetition that never found one as ``cap``)."""
    axes = TUNING[stage]
    rows = {}
    for values in itertools.product(*axes.values()):
        choice = dict(zip(axes, values, strict=True))
        name = " ".join(str(v) for v in values)
        if only.lower() not in name.lower():
            continue
        rows[name], _ = evaluate(table, ours("ga", **ga_settings(choice)), reps, cap)
        print(f"{name}: median {rows[name]['median']}, mean {rows[name]['mean']:.1f}", flush=True)
    ranked = dict(sorted(rows.items(), key=lambda kv: (kv[1]["median"], kv[1]["mean"])))
    print(markdown(ranked, cap))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--cap", type=int, default=288)
    parser.add_argument(
        "--only", default="", help="run the strategies whose name contains one of these (a,b)"
    )
    parser.add_argument("--tune", choices=list(TUNING), help="compare settings of our GA")
    args = parser.parse_args()
    table = Table.load(args.table)
    top = table.top(0.01)
    print(
        f"table {args.table.name}: {len(table.keys)} configurations, best mean accuracy "
        f"{table.best_mean:.4f}, top 1% = {len(top)} configurations "
        f"(mean >= {min(table.mean(k) for k in top):.4f}); {args.reps} repetitions, "
        f"at most {args.cap} trainings each"
    )
    if args.tune:
        tune(table, args.tune, args.reps, args.cap, args.only)
        return 0
    rows, traces = {}, {}
    for name, search in {**OURS, **PEERS}.items():
        if any(part.lower() in name.lower() for part in args.only.split(",")):
            rows[name], traces[name] = evaluate(table, search, args.reps, args.cap)
            print(f"  {name}: {rows[name]['seconds']:.1f} s", flush=True)
    text = markdown(rows, args.cap)
    print(text)
    if not args.only:
        OUT.mkdir(exist_ok=True)
        (OUT / "search_efficiency.md").write_text(text + "\n")
        plot(table, traces, args.cap, OUT / "search_efficiency.png")
        print(f"wrote {OUT / 'search_efficiency.md'} and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
