"""Pictures of a run (matplotlib, headless): fitness, diversity and the best genome's lineage."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evolve.engine.ranking import Ranking
from evolve.engine.records import Status
from evolve.view import inspection

Record = Mapping[str, Any]
SaveFigure = Callable[[str, Any], None]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw(
    records: Sequence[Record],
    direction: str,
    save: SaveFigure,
    objective: str = "fitness",
    elites: int = 0,
) -> None:
    """Draw ``fitness``, ``diversity`` and ``lineage`` (and ``rungs`` for a multi-fidelity run)
    and hand each figure to ``save(name, figure)`` (``RunDir.save_figure`` writes
    ``plots/<name>.png``)."""
    if not records:
        return
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()

    def _save(fig: Any, name: str) -> None:
        for ax in fig.axes:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        save(name, fig)

    rows = inspection.generations(records, direction, elites)
    done = inspection.trained(records)
    ok = [r for r in done if Status(r["status"]).succeeded]

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(
        [r["generation"] for r in ok], [r["fitness"] for r in ok], s=12, alpha=0.4,
        color="grey", label="each evaluation",
    )  # fmt: skip
    scored = [row for row in rows if row["best"] is not None]
    gens = [row["generation"] for row in scored]

    ranking = Ranking(direction)

    def better(a: tuple[int, float], b: tuple[int, float]) -> tuple[int, float]:
        """The higher rung first, then the better score: the rule of the run's best."""
        return b if (b[0], ranking.score(b[1])) > (a[0], ranking.score(a[1])) else a

    pairs = ((row.get("rung", 0), row["best"]) for row in scored)
    so_far = [best for _, best in itertools.accumulate(pairs, better)]
    ax.plot(gens, so_far, "-", linewidth=3, alpha=0.5, label="best so far")
    label = "best of the generation" + (" (elites included)" if elites else "")
    ax.plot(gens, [row["best"] for row in scored], "o-", label=label)
    ax.plot(gens, [row["mean"] for row in scored], "s--", label="mean of the generation")
    failed = [r for r in done if not Status(r["status"]).succeeded]
    if failed:  # every record is on the plot: the failures on its floor, without a fitness
        floor = ax.get_ylim()[0]
        ax.scatter([r["generation"] for r in failed], [floor] * len(failed), marker="x",
                   color="tab:red", clip_on=False, label=f"failed ({len(failed)})")  # fmt: skip
    ax.set(xlabel="generation", ylabel=objective, title=f"{objective} per generation")
    ax.legend()
    _save(fig, "fitness")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([row["generation"] for row in rows], [row["diversity"] for row in rows], "o-")
    ax.set(xlabel="generation", ylabel="mean share of differing genes", ylim=(0, 1.05),
           title="diversity per generation")  # fmt: skip
    _save(fig, "diversity")
    plt.close(fig)

    best = (
        inspection.lineage(records, Ranking(direction).best(records)["id"])
        if ok
        else []
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    where = {r["id"]: (r["generation"], r["fitness"]) for r in best}
    for r in best:
        for parent in r.get("parents", []):
            if parent in where:
                (x0, y0), (x1, y1) = where[parent], where[r["id"]]
                ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "alpha": 0.6})
    ax.scatter([g for g, _ in where.values()], [f for _, f in where.values()], zorder=3)
    for r in best:
        ax.annotate(
            r["id"][:6], where[r["id"]], fontsize=7, xytext=(4, 4), textcoords="offset points"
        )
    ax.set(xlabel="generation", ylabel=objective, title="lineage of the best genome")
    if where:  # a lineage of one generation (or one genome) still gets a readable frame
        xs = [g for g, _ in where.values()]
        ys = [f for _, f in where.values()]
        ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        pad = max((max(ys) - min(ys)) * 0.15, abs(max(ys)) * 0.01, 1e-3)
        ax.set_ylim(min(ys) - pad, max(ys) + pad)
        if len(where) == 1:
            ax.set_title("lineage of the best genome: found at random, no parents")
    _save(fig, "lineage")
    plt.close(fig)

    if any(r.get("rung", 0) for r in ok):
        fig = _rungs(plt, ok, objective)
        _save(fig, "rungs")
        plt.close(fig)


def _rungs(plt: Any, ok: Sequence[Record], objective: str) -> Any:
    """Each genome's result at every rung it reached, against the epochs it had trained: the
    promotions of a multi-fidelity run (re-evaluations of the final pick as crosses)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    paths: dict[str, list[tuple[int, float]]] = {}
    for r in sorted(ok, key=lambda r: r.get("fidelity", 0)):
        if r.get("repeat", 0):
            continue
        paths.setdefault(r["id"], []).append((r.get("fidelity", 0), r["fitness"]))
    for path in paths.values():
        xs, ys = zip(*path, strict=True)
        promoted = len(path) > 1
        ax.plot(xs, ys, "o-" if promoted else "o", color="tab:blue" if promoted else "grey",
                alpha=0.7 if promoted else 0.3, markersize=4)  # fmt: skip
    again = [r for r in ok if r.get("repeat", 0)]
    if again:
        ax.scatter(
            [r.get("fidelity", 0) for r in again], [r["fitness"] for r in again], marker="x",
            color="tab:red", label="final pick: retrained with new seeds",
        )  # fmt: skip
        ax.legend()
    ax.set(xlabel="epochs trained", ylabel=objective,
           title="promotions: each genome at every rung it reached")  # fmt: skip
    return fig
