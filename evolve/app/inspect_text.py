"""What ``inspect`` prints: the best genome, the leaderboard, the generations, the best's
lineage and the failures, from the report ``evolve.view.inspection`` makes (``--json`` prints
that report as it is)."""

from __future__ import annotations

from typing import Any

from evolve.settings import config as configuration
from evolve.view import inspection
from evolve.view.progress import genes_line, test_scores


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def human(key: str, value: Any) -> str:
    """A metric rounded for people: seconds to 0.1 s, parameter counts with separators, other
    numbers to 4 decimals (4 significant digits past 100); ``--json`` keeps full precision."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if key.endswith("seconds"):
        return f"{value:.1f} s"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"


def mark_unused(report: dict[str, Any], cfg: configuration.Config) -> None:
    """Mark the genes each shown genome does not use (``report["unused"]``: id -> names)."""
    space = inspection.space_of(cfg)
    found: dict[str, list[str]] = {}
    if space is not None:
        shown = [report["best"], *report["leaderboard"], *report["lineage"]]
        for r in shown:
            if r is not None and r["id"] not in found:
                found[r["id"]] = inspection.unused_genes(space, r["genes"])
    report["unused"] = found


def _genes(report: dict[str, Any], record: dict[str, Any]) -> str:
    return genes_line(record["genes"], report.get("unused", {}).get(record["id"], ()))


def print_inspection(report: dict[str, Any], cfg: configuration.Config) -> None:
    best = report["best"]
    counts = f"{report['trained']} trained, {report['cached']} cached"
    print(f"{report['evaluations']} evaluations ({counts})")
    if report.get("running"):
        print(f"running now ({report['running']}): what has finished so far")
    if best is None:
        print("no evaluation has finished yet" if not report["evaluations"]
              else "no genome trained successfully")  # fmt: skip
    else:
        print(f"\nbest genome {best['id']} (generation {best['generation']}, #{best['index']})")
        print(f"  genes:   {_genes(report, best)}")
        if report.get("unused", {}).get(best["id"]):
            print("           (in brackets: genes this network does not use)")
        spread = (report.get("exported") or {}).get("seeds")
        if spread:
            print(f"  {cfg.search.objective} mean {spread['mean']:.4f} ± {spread['std']:.4f} "
                  f"over {spread['seeds']} seeds (the final pick)")  # fmt: skip
        metrics = {k: v for k, v in best["metrics"].items() if k not in ("model_path", "curve")}
        print("  metrics: " + ", ".join(f"{k}={human(k, v)}" for k, v in metrics.items()))
        exported = report.get("exported") or {}
        if test_scores(exported):
            print(f"  {test_scores(exported)} (exported model)")
        if report.get("test"):
            print(f"  {test_scores(report['test'])} (evaluated now)")
    if report.get("model_summary"):
        print()
        print("\n".join(report["model_summary"]))
    print(f"\ntop {len(report['leaderboard'])} ({cfg.search.objective}, {cfg.search.direction}):")
    board = report["leaderboard"]
    rungs = any(r.get("rung", 0) for r in board)
    seeds = any(r["seeds"] > 1 for r in board)
    extra = (f" {'epochs':>6}" if rungs else "") + (f" {'mean':>8} {'seeds':>5}" if seeds else "")
    print(f"  {'rank':>4} {'id':<12} {'fitness':>8}{extra} {'params':>9} {'seconds':>8}  genes")
    for rank, r in enumerate(board, start=1):
        params, seconds = r["metrics"].get("params", ""), r["seconds"] or 0
        shown = f" {r['metrics'].get('epochs', ''):>6}" if rungs else ""
        if seeds:
            shown += f" {r['mean']:>8.4f} {r['seeds']:>5}"
        row = f"{rank:>4} {r['id']:<12} {r['fitness']:>8.4f}{shown} {params:>9} {seconds:>8.1f}"
        print(f"  {row}  {_genes(report, r)}")
    graded = any(g.get("rung", 0) for g in report["generations"])  # multi-fidelity
    print("\ngenerations:" + ("  (best and mean at the highest rung reached)" if graded else ""))
    print(
        f"  {'gen':>4} {'evaluated':>9} {'elites':>6}{' rung' if graded else ''} {'best':>8} "
        f"{'mean':>8} {'diversity':>9} {'failed':>6}"
    )
    for g in report["generations"]:
        best, mean = _fmt(g["best"]), _fmt(g["mean"])
        rung = f" {g.get('rung', 0):>4}" if graded else ""
        print(
            f"  {g['generation']:>4} {g['evaluations']:>9} {g.get('carried', 0):>6}{rung} "
            f"{best:>8} {mean:>8} {g['diversity']:>9.2f} {g['failed']:>6}"
        )
    print("\nlineage of the best genome (back to generation 0):")
    for r in report["lineage"]:
        parents = ", ".join(r.get("parents", [])) or "-"
        fitness = _fmt(r["fitness"])
        print(
            f"  gen {r['generation']:>3} {r['id']} {fitness} {r['origin']:<20} parents: {parents}"
        )
    print(f"\nfailures: {len(report['failures'])}")
    for r in report["failures"]:
        print(f"  #{r['index']} {r['id']} {r['status']}: {r['reason']}")
