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

from evolve.app.inspect_text import mark_unused, print_inspection
from evolve.engine.ranking import Ranking, seed_spread
from evolve.execution.environment import quiet_process
from evolve.rundir.layout import BEST_MODEL
from evolve.rundir.store import RunDir, RunDirError
from evolve.settings import config as configuration
from evolve.view import inspection


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
    mark_unused(report, cfg)
    print_inspection(report, cfg)
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
