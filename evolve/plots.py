"""Pictures of a run (matplotlib, headless): fitness, diversity and the best genome's lineage."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from evolve import inspection
from evolve.run import SUCCESS
from evolve.strategies.base import score

Record = dict[str, Any]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)


def draw(records: list[Record], direction: str, folder: Path, objective: str = "fitness") -> None:
    """Write ``fitness.png``, ``diversity.png`` and ``lineage.png`` into ``folder``."""
    if not records:
        return
    plt = _pyplot()
    rows = inspection.generations(records, direction)
    done = inspection.trained(records)
    ok = [r for r in done if r["status"] in SUCCESS]

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(
        [r["generation"] for r in ok], [r["fitness"] for r in ok], s=12, alpha=0.4,
        color="grey", label="each evaluation",
    )  # fmt: skip
    scored = [row for row in rows if row["best"] is not None]
    gens = [row["generation"] for row in scored]

    def better(a: float, b: float) -> float:
        return b if score(b, direction) > score(a, direction) else a

    so_far = list(itertools.accumulate((row["best"] for row in scored), better))
    ax.plot(gens, so_far, "-", linewidth=3, alpha=0.5, label="best so far")
    ax.plot(gens, [row["best"] for row in scored], "o-", label="best of the generation")
    ax.plot(gens, [row["mean"] for row in scored], "s--", label="mean of the generation")
    ax.set(xlabel="generation", ylabel=objective, title=f"{objective} per generation")
    ax.legend()
    _save(fig, folder / "fitness.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([row["generation"] for row in rows], [row["diversity"] for row in rows], "o-")
    ax.set(xlabel="generation", ylabel="mean share of differing genes", ylim=(0, 1.05),
           title="diversity per generation")  # fmt: skip
    _save(fig, folder / "diversity.png")
    plt.close(fig)

    best = (
        inspection.lineage(records, inspection.leaderboard(records, direction, 1)[0]["id"])
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
    _save(fig, folder / "lineage.png")
    plt.close(fig)
