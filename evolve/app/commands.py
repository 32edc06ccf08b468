"""``inspect`` and ``export``: read a run directory and show or export what it found."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evolve.engine.ranking import Ranking, seed_spread
from evolve.execution.environment import quiet_process
from evolve.rundir.layout import BEST_MODEL
from evolve.rundir.store import RunDir, RunDirError
from evolve.settings import config as configuration
from evolve.view import inspection
from evolve.view.progress import genes_line, test_scores


def _load(run_dir: Path) -> tuple[RunDir, configuration.Config, list[dict[str, Any]]]:
    from evolve.session import read_config

    run = RunDir(run_dir)
    cfg = read_config(run)  # a started run with nothing finished yet has no history: 0 records
    records, dropped = run.read_history()
    for note in dropped:  # a damaged line is left out of what is shown: say so
        print(f"warning: {note} (resume sets it aside)", file=sys.stderr)
    return run, cfg, [r.to_json() for r in records]


@contextlib.contextmanager
def _quiet_backend() -> Iterator[None]:
    """TensorFlow's start-up lines go to file descriptor 2 from C++: send them nowhere."""
    quiet_process()
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _model_summary(path: Path, family: str) -> tuple[list[str], dict[str, Any]]:
    """A saved model's layers as data (name, class, output shape, parameters) for ``--json``,
    and as a table whose columns are as wide as their longest entry (Keras' own summary draws
    through rich, which clips its columns to the terminal's width when output is piped)."""
    from evolve.training.saved_models import load_model

    with _quiet_backend():
        import keras

        model = load_model(path, family)
        layers = [
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "output_shape": _shape(layer),
                "params": int(layer.count_params()),
            }
            for layer in model.layers
        ]
        trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
        data = {"name": model.name, "layers": layers, "params": int(model.count_params()),
                "trainable": trainable}  # fmt: skip
    return _layer_table(data), data


def _layer_table(data: dict[str, Any]) -> list[str]:
    rows = [("layer (type)", "output shape", "params")] + [
        (f"{x['name']} ({x['class']})", str(tuple(x["output_shape"] or ())), f"{x['params']:,}")
        for x in data["layers"]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f'model "{data["name"]}"']
    for n, (name, shape, params) in enumerate(rows):
        lines.append(f"  {name:<{widths[0]}}  {shape:<{widths[1]}}  {params:>{widths[2]}}")
        if n == 0:
            lines.append("  " + "-" * (sum(widths) + 4))
    lines.append(f"  total params {data['params']:,} (trainable {data['trainable']:,})")
    return lines


def _shape(layer: Any) -> Any:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return None
    return [None if d is None else int(d) for d in shape]


def exported_genome(run: RunDir) -> dict[str, Any] | None:
    """``best/genome.json``, or ``None`` when the run has none; a damaged one is said on stderr
    and left aside (the history still names the best)."""
    path = run.best / "genome.json"
    if not path.exists():
        return None
    found = run.read_json(path)
    if not isinstance(found, dict):
        print(f"warning: {path} is damaged; the best is read from the history", file=sys.stderr)
        return None
    return found


def inspect_command(args: argparse.Namespace) -> int:
    run = RunDir(args.run_dir)
    if not run.config.exists() and run.holder() is not None:
        print(f"{run.path} is a run starting up ({run.holder()}): nothing has finished yet")
        return 0
    run, cfg, records = _load(args.run_dir)
    direction = cfg.search.direction
    if getattr(args, "plots", False):
        return _plots(run, cfg, records)
    report = inspection.summary(records, direction, args.top, cfg.search.elites())
    model = run.best_model
    report["exported"] = exported_genome(run)
    if report["best"] is not None:
        spread = seed_spread(records, report["best"]["id"])
        report["best_seeds"] = spread if spread.get("seeds", 0) > 1 else None
    if args.evaluate:
        if not cfg.run.keras:
            raise RunDirError(f"{run.path} evaluates a Python fitness: it has no model to score")
        if not model.exists():
            raise RunDirError(f"{model} does not exist: nothing to evaluate")
        from evolve.training.report import test_metrics

        spec = cfg.data_spec(run.path)
        with _quiet_backend():
            report["test"] = test_metrics(spec, str(model), cfg.model.family)
    if model.exists() and not args.no_summary:
        lines, report["model"] = _model_summary(model, cfg.model.family)
        if not args.json:  # --json has the layers as data
            report["model_summary"] = lines
    report["running"] = run.holder()
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
        return 0
    _unused(report, cfg)
    _print(report, cfg)
    return 0


def _plots(run: RunDir, cfg: configuration.Config, records: list[dict[str, Any]]) -> int:
    """``inspect --plots``: every plot of the run drawn again into ``plots/``, listed."""
    from evolve.view import gene_plots, plots

    if not Ranking.succeeded(records):
        finished = "no evaluation has finished yet" if not records else "none succeeded"
        raise RunDirError(f"{run.path}: nothing to plot ({finished})")
    s = cfg.search
    plots.draw(records, s.direction, run.save_figure, s.objective, s.elites())
    gene_plots.draw(records, s.direction, run.save_figure, s.objective)
    for path in sorted(run.plots.glob("*.png")):
        print(path)
    return 0


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


def _unused(report: dict[str, Any], cfg: configuration.Config) -> None:
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


def _print(report: dict[str, Any], cfg: configuration.Config) -> None:
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


def export_command(args: argparse.Namespace) -> int:
    run, cfg, _ = _load(args.run_dir)
    if not cfg.run.keras:
        raise RunDirError(f"{run.path} evaluates a Python fitness: it has no model to export")
    model = run.best_model
    if not model.exists():
        raise RunDirError(f"{model} does not exist: the run has no exported best model yet")
    if not zipfile.is_zipfile(model):
        raise RunDirError(f"{model} is not a Keras model file (damaged or cut short): not exported")
    if args.format == "keras":
        target = args.out or run.path / "export" / BEST_MODEL
        if target.suffix != ".keras":
            raise RunDirError(f"--out {target} must end in .keras: Keras loads no other file")
        run.export_model(target)
    else:
        from evolve.training.saved_models import export_saved_model

        target = args.out or run.path / "export" / "savedmodel"
        if target.exists():
            raise RunDirError(f"{target} already exists; choose another --out")
        with _quiet_backend():
            contract = export_saved_model(model, target, cfg.model.family)
        run.export_labels(target / "labels.json")
    print(f"exported {model} -> {target} ({args.format})")
    if args.format == "savedmodel" and "accepted" in contract:
        print(f"  its serve endpoint takes {contract['dtype']} inputs of shape "
              f"{contract['accepted']}")  # fmt: skip
    if (run.best / "labels.json").exists():
        labels = target / "labels.json" if target.is_dir() else target.with_name(
            f"{target.stem}.labels.json"
        )
        print(f"  its outputs' labels (index -> label): {labels}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """``report RUN_DIR``: write ``RUN_DIR/report.html`` (see ``report_html``)."""
    from evolve.app.report_html import write_report

    run = RunDir(args.run_dir)
    if not run.config.exists() and run.holder() is not None:
        raise RunDirError(f"{run.path} is a run starting up ({run.holder()}): nothing to report")
    run, cfg, records = _load(args.run_dir)
    print(write_report(run, cfg, records))
    return 0
