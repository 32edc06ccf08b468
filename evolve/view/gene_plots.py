"""Pictures of what the search learnt about genes (matplotlib, headless): importance, fitness
against each gene's alleles (slices), parallel coordinates of the top genomes, and the
training curves of the top genomes. Drawn at the end of a run, by ``inspect --plots`` and by
``report``: the importance fit costs up to a second, too much for every redraw."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from evolve.engine.ranking import Ranking
from evolve.engine.records import Status
from evolve.view.importance import comparable, encode, gene_importance

Record = Mapping[str, Any]
SaveFigure = Callable[[str, Any], None]
TOP = 10
FEW = 12
"""A gene with at most this many alleles in the history is plotted on evenly spaced ticks."""


COMPUTE: Any = object()
"""``draw``'s ``importance`` when the caller has not fitted it already."""


def draw(
    records: Sequence[Record],
    direction: str,
    save: SaveFigure,
    objective: str,
    importance: Any = COMPUTE,
) -> None:
    """``importance``, ``slices``, ``parallel`` and ``curves``, each when the history has what
    it needs (importance: 8 successful trainings), handed to ``save(name, figure)``.
    ``importance``: ``gene_importance(records)`` when the caller has it already (a forest
    fit)."""
    from evolve.view.plots import _pyplot

    plt = _pyplot()
    ok = [
        r for r in records
        if Status(r["status"]).succeeded and r["fitness"] is not None and not r.get("repeat")
    ]  # fmt: skip
    if not ok:
        return
    for name, figure in (
        ("importance", _importance(
            plt, gene_importance(records) if importance is COMPUTE else importance, objective
        )),
        ("slices", _slices(plt, comparable(records), objective)),
        ("parallel", _parallel(plt, records, direction, objective)),
        ("curves", _curves(plt, records, direction, objective)),
    ):
        if figure is not None:
            save(name, figure)
            plt.close(figure)


def _importance(plt: Any, found: dict[str, dict[str, float]] | None, objective: str) -> Any:
    if not found:
        return None
    names = list(found)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(names) + 1.5))
    ax.barh(names, [found[n]["mean"] for n in names], xerr=[found[n]["std"] for n in names],
            color="tab:blue", alpha=0.8)  # fmt: skip
    ax.set(xlabel=f"drop in a random forest's fit of {objective} when the gene is shuffled",
           title="gene importance (permutation importance, scikit-learn)")  # fmt: skip
    fig.tight_layout()
    return fig


def _slices(plt: Any, ok: Sequence[Record], objective: str) -> Any:
    """The objective against each gene's alleles, at one fidelity (``comparable``): a gene of
    few alleles on evenly spaced ticks labelled with them, a finer numeric one on its scale
    (a rate spread over decades on a log axis)."""
    if not ok:
        return None
    names = [g for g in ok[0]["genes"] if len({str(r["genes"].get(g)) for r in ok}) > 1]
    if not names:
        return None
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    fitness = [r["fitness"] for r in ok]
    for ax, gene in zip(axes.flat, names, strict=False):
        values = [r["genes"].get(gene) for r in ok]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        distinct = sorted(set(values), key=lambda v: (not numeric, v if numeric else str(v)))
        if numeric and len(distinct) > FEW:
            ax.scatter(values, fitness, s=14, alpha=0.5)
            if min(values) > 0 and max(values) >= 100 * min(values):
                ax.set_xscale("log")
        else:
            spot = {str(v): i for i, v in enumerate(distinct)}
            ax.scatter([spot[str(v)] for v in values], fitness, s=14, alpha=0.5)
            ax.set_xticks(range(len(distinct)), [_allele(v) for v in distinct])
        ax.set(xlabel=gene, ylabel=objective)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    epochs = {r.get("fidelity", 0) for r in ok}
    at = f", results at {epochs.pop()} epochs" if any(r.get("rung", 0) for r in ok) else ""
    fig.suptitle(f"{objective} against each gene's alleles (slices{at})")
    fig.tight_layout()
    return fig


def _parallel(plt: Any, records: Sequence[Record], direction: str, objective: str) -> Any:
    board = Ranking(direction).leaderboard(records, TOP)
    if len(board) < 2:
        return None
    names = [g for g in board[0]["genes"] if len({str(r["genes"].get(g)) for r in board}) > 1]
    if not names:
        return None
    fitness = [r["mean"] for r in board]
    axes = [objective, *names]
    values = [fitness, *([r["genes"].get(gene) for r in board] for gene in names)]
    columns = []
    for column in values:
        coded = encode(column)
        if coded.min() > 0 and coded.max() >= 100 * coded.min():  # a rate: its decades
            coded = np.log10(coded)
        span = coded.max() - coded.min()
        columns.append((coded - coded.min()) / span if span else coded * 0 + 0.5)
    colours = plt.get_cmap("tab10")  # one colour per genome (by rank): ties stay apart
    fig, ax = plt.subplots(figsize=(min(1.5 * len(axes) + 3.5, 14), 4.8))  # fits a page
    for x, (coded, column) in enumerate(zip(columns, values, strict=True)):
        ax.axvline(x, color="0.85", zorder=0)
        labels = {round(float(y), 2): v for y, v in zip(coded, column, strict=True)}
        for y, value in labels.items():  # each axis reads in its own alleles
            text = f"{value:.4f}" if x == 0 else _allele(value)
            ax.text(x + 0.05, y, _short(text), fontsize=7, va="center", color="0.2", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8,
                          "edgecolor": "none"})  # fmt: skip
    for i, r in enumerate(board):
        ax.plot(range(len(axes)), [c[i] for c in columns], "-o", color=colours(i % 10),
                alpha=0.85, linewidth=1.6, zorder=2,
                label=f"#{i + 1} {r['id'][:6]} {r['mean']:.4f}")  # fmt: skip
    ax.set_xticks(range(len(axes)), [_short(a) for a in axes], rotation=15, ha="right")
    ax.set_yticks([])
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlim(-0.2, len(axes) - 1 + 0.75)  # room for the last axis' labels
    ax.set_title(f"the top {len(board)} genomes: {objective} and the genes that differ among them")
    ax.legend(fontsize=7, title=objective, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def _short(text: str, most: int = 18) -> str:
    """A label cut to ``most`` characters (a long allele or gene name would run off the
    figure)."""
    return text if len(text) <= most else text[: most - 1] + "…"


def _allele(value: Any) -> str:
    """An allele as a label: numbers without float noise (1e-03 for a small rate)."""
    if isinstance(value, float) and value and abs(value) < 0.01:
        return f"{value:.0e}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _curves(plt: Any, records: Sequence[Record], direction: str, objective: str) -> Any:
    """Each top genome's learning curve, its rungs joined (a continued rung goes on from the
    epoch its state was saved at)."""
    board = Ranking(direction).leaderboard(records, 5)
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = 0
    for row in board:
        points: dict[int, float] = {}
        mine = [r for r in records if r["id"] == row["id"] and not r.get("repeat")
                and Status(r["status"]) == Status.OK]  # fmt: skip
        for r in sorted(mine, key=lambda r: r.get("fidelity", 0)):
            metrics = r.get("metrics") or {}
            curves = metrics.get("curve")  # a fitness of yours may call anything "curve"
            curve = curves.get(objective) if isinstance(curves, Mapping) else None
            if not isinstance(curve, list):
                continue
            start = metrics.get("initial_epoch", 0)
            start = start if isinstance(start, int) else 0
            for i, v in enumerate(curve):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    points[start + i + 1] = v
        if points:
            xs = sorted(points)
            ax.plot(xs, [points[x] for x in xs], "-o", markersize=3,
                    label=f"{row['id'][:6]} ({row['mean']:.4f})")  # fmt: skip
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set(xlabel="epoch", ylabel=objective, title=f"training curves of the top {drawn} genomes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
