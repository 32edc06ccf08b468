"""The command line: ``python run_evolution.py [run] [options]``.

Bad input (config, genes, dataset, run directory) ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from evolve import config as configuration
from evolve import gpus
from evolve.api import restore
from evolve.config import ConfigError
from evolve.datasets import KERAS_DATASETS, DatasetError, DataSpec, prepare
from evolve.executors import auto_workers, cluster_workers, is_worker_death, make_executor
from evolve.inspection import generations
from evolve.inspection import lineage as inspection_lineage
from evolve.plots import draw
from evolve.run import Outcome
from evolve.store import ModelKeeper, RunDir, RunDirError
from evolve.worker import WorkerSettings, one_line
from genomes.genes import GeneError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "configs" / "default.toml"

OVERRIDES = {
    "generations": ("search.generations", int, "generations of the GA"),
    "population": (
        "search.population",
        int,
        "population size (also sets how many genomes random and tpe try)",
    ),
    "seed": ("run.seed", int, "run seed: the same seed and config repeat the run"),
    "dataset": ("data.dataset", str, "digits, mnist, fashion_mnist, cifar10, or a path to an .npz"),
    "epochs": ("training.epochs", int, "most epochs per genome (early stopping may end sooner)"),
    "strategy": ("search.strategy", str, "ga, grid, random or tpe"),
    "budget": ("search.budget", int, "most trainings in the run (0: the strategy decides)"),
    "workers": ("run.workers", int, "parallel evaluations (0: automatic)"),
    "backend": ("run.backend", str, "loky (this machine), dask or ray (a cluster)"),
    "address": ("run.address", str, "scheduler address for --backend dask or ray"),
    "scheduler": ("run.address", str, "dask scheduler address, HOST:PORT (same as --address)"),
    "gpus": ("run.gpus", str, "auto (every visible GPU), none, or ids like 0,1: one worker each"),
    "workers_per_gpu": ("run.workers_per_gpu", int, "workers sharing each GPU (default 1)"),
    "timeout": ("run.timeout", float, "seconds one evaluation may run (0: no limit)"),
    "final_epochs": (
        "training.final_epochs",
        int,
        "retrain the best on train + validation for N epochs and report its test accuracy",
    ),
    "name": ("run.name", str, "run name: the folder under results/"),
}


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_evolution.py",
        description="Evolve Keras network architectures and hyper-parameters. "
        "With no command, runs the default evolution on the digits dataset.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="start a new run",
        description="Start a new run. Flags override the config file's values.",
    )
    run.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="TOML config (default: configs/default.toml)",
    )
    run.add_argument("--out", type=Path, help="run directory (default: results/<run name>)")
    for flag, (_, kind, text) in OVERRIDES.items():
        run.add_argument(f"--{flag.replace('_', '-')}", dest=flag, type=kind, help=text)
    run.add_argument("--quiet", action="store_true", help="no progress bar, no lines")
    run.add_argument("--verbose", action="store_true", help="a line per evaluation")
    resume = commands.add_parser(
        "resume",
        help="continue a run after a crash, a kill or Ctrl-C, or extend a finished one",
        description="Continue RUN_DIR where it stopped: finished evaluations are read back from "
        "its history and never trained again; those in flight when it stopped run again.",
    )
    resume.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    resume.add_argument("--generations", type=int, default=0, help="add N more generations")
    resume.add_argument("--quiet", action="store_true", help="no progress bar, no lines")
    resume.add_argument("--verbose", action="store_true", help="a line per evaluation")
    inspect = commands.add_parser(
        "inspect",
        help="show a run: best genome, leaderboard, generations, lineage, failures",
        description="Show what a run found. Reads the run directory only.",
    )
    inspect.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    inspect.add_argument("--top", type=int, default=10, help="leaderboard size (default 10)")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.add_argument(
        "--evaluate", action="store_true", help="score the exported model on the test split"
    )
    inspect.add_argument("--no-summary", action="store_true", help="skip the Keras summary")
    export = commands.add_parser(
        "export",
        help="export the best model for serving",
        description="Export RUN_DIR/best/model.keras as a .keras file or a TensorFlow SavedModel.",
    )
    export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    export.add_argument("--format", choices=("keras", "savedmodel"), default="keras")
    export.add_argument("--out", type=Path, help="target (default: RUN_DIR/export/...)")
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "inspect":
            from evolve.inspect_cli import inspect_command

            return inspect_command(args)
        if args.command == "export":
            from evolve.inspect_cli import export_command

            return export_command(args)
        return resume_command(args) if args.command == "resume" else run_command(args)
    except (UsageError, ConfigError, GeneError, DatasetError, RunDirError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}; the history and the last checkpoint are intact", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: finished evaluations are kept; continue with "
            "python run_evolution.py resume RUN_DIR",
            file=sys.stderr,
        )
        return 130


def load_config(args: argparse.Namespace) -> configuration.Config:
    overrides = {
        key: getattr(args, flag)
        for flag, (key, _, _) in OVERRIDES.items()
        if getattr(args, flag) is not None
    }
    return configuration.load(args.config, overrides)


def run_command(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if not cfg.run.name:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dataset = (
            Path(cfg.data.dataset).stem if cfg.data.dataset.endswith(".npz") else cfg.data.dataset
        )
        cfg.run.name = f"{cfg.search.strategy}-{dataset}-{stamp}"
    run = RunDir(args.out or ROOT / "results" / cfg.run.name)
    if run.history.exists() or run.config.exists():
        raise UsageError(f"{run.path} already holds a run; choose another --out or --name")
    spec = cfg.data_spec()
    data = None if spec.name in KERAS_DATASETS else prepare(spec).describe()
    settings, placement = _settings(cfg, run)  # resolves workers and GPUs, or a one-line error
    run.create()
    try:
        run.lock()
        data = data or _probe(cfg, spec, settings)
    except BaseException:
        run.close()
        run.discard_if_unused()
        raise
    run.write_config(cfg.to_toml())
    return launch(cfg, spec, run, data, settings, placement, quiet=args.quiet, verbose=args.verbose)


def resume_command(args: argparse.Namespace) -> int:
    run = RunDir(args.run_dir)
    if not run.config.exists():
        raise UsageError(f"{run.path} holds no run (no config.toml)")
    if args.generations < 0:
        raise UsageError("--generations must be 0 or more")
    cfg = configuration.load(run.config)
    spec = cfg.data_spec()
    run.lock()
    data = None if spec.name in KERAS_DATASETS else prepare(spec).describe()
    settings, placement = _settings(cfg, run)
    data = data or _probe(cfg, spec, settings)
    return launch(
        cfg, spec, run, data, settings, placement, quiet=args.quiet, verbose=args.verbose,
        resuming=True, more=args.generations,
    )  # fmt: skip


def _settings(cfg: configuration.Config, run: RunDir) -> tuple[WorkerSettings, gpus.Placement]:
    placement = _placement(cfg)
    settings = WorkerSettings(
        log_path=str(run.workers_log),
        preload_keras=True,
        lock_dir=str(run.path / ".gpu-slots"),
        slots=placement.slots,
        hide_gpus=placement.hide_gpus,
        max_evals=cfg.run.max_evals_per_worker,
        max_rss_mb=cfg.run.max_worker_rss_mb,
    )
    return settings, placement


def _probe(cfg: configuration.Config, spec: DataSpec, settings: WorkerSettings) -> dict[str, Any]:
    """Load a Keras-hosted dataset in a worker: it needs the backend the parent never imports."""
    try:
        executor = make_executor(cfg.run.backend, cfg.run.workers or 1, cfg.run.address, settings)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    return _describe(executor, spec)


def launch(
    cfg: configuration.Config,
    spec: DataSpec,
    run: RunDir,
    data: dict[str, Any],
    settings: WorkerSettings,
    placement: gpus.Placement,
    *,
    quiet: bool,
    verbose: bool = False,
    resuming: bool = False,
    more: int = 0,
) -> int:
    """Start or continue the configured search, then report it."""
    try:
        executor = make_executor(cfg.run.backend, cfg.run.workers, cfg.run.address, settings)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None

    def renew() -> Any:
        return make_executor(cfg.run.backend, cfg.run.workers, cfg.run.address, settings)

    devices = f" on GPUs {','.join(sorted(set(placement.slots)))}" if placement.slots else ""
    line = (
        f"{'resuming' if resuming else 'run'} {run.path}: {cfg.search.strategy} on "
        f"{cfg.data.dataset} ({data['train']} train / {data['validation']} validation / "
        f"{data['test']} test, {data['num_classes']} classes), {cfg.run.workers} worker(s){devices}"
    )
    run.log(line)
    if not quiet:
        print(line, file=sys.stderr)
    try:
        outcome = evolve_cnn(cfg, spec, run, executor, renew, quiet, verbose, resuming, more)
    except KeyboardInterrupt:
        print(
            f"interrupted: finished evaluations are kept; continue with "
            f"python run_evolution.py resume {run.path}",
            file=sys.stderr,
        )
        return 130
    return report(outcome, cfg, spec, run, renew)


def _placement(cfg: configuration.Config) -> gpus.Placement:
    """Resolve the worker count and GPU slots; the config records the resolved workers."""
    if cfg.run.backend == "inline":
        cfg.run.workers = 1
        return gpus.Placement(1, ())
    if cfg.run.backend != "loky":  # a cluster places work on its own resources
        try:
            cfg.run.workers = cfg.run.workers or cluster_workers(cfg.run.backend, cfg.run.address)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot reach the {cfg.run.backend} cluster: {exc}") from None
        return gpus.Placement(cfg.run.workers, (), hide_gpus=cfg.run.gpus.strip() == "none")
    try:
        found = gpus.parse(cfg.run.gpus)
        placement = gpus.plan(found, cfg.run.workers_per_gpu, cfg.run.workers, auto_workers())
    except gpus.GpuError as exc:
        raise UsageError(str(exc)) from None
    cfg.run.workers = placement.workers
    return placement


def _describe(executor: Any, spec: DataSpec) -> dict[str, Any]:
    from evolve.training import describe_data

    try:
        return executor.submit(describe_data, spec).result()
    except (DatasetError, ValueError) as exc:
        raise DatasetError(str(exc)) from None
    except Exception as exc:
        raise UsageError(f"cannot load dataset '{spec.name}': {exc}") from None


def evolve_cnn(
    cfg: configuration.Config,
    spec: DataSpec,
    run: RunDir,
    executor: Any,
    renew: Any,
    quiet: bool = False,
    verbose: bool = False,
    resuming: bool = False,
    more: int = 0,
) -> Outcome:
    """Run the configured search with Keras training as the fitness."""
    from evolve.executors import InlineExecutor
    from evolve.progress import Progress
    from evolve.run import Runner
    from evolve.strategies import make_strategy

    s = cfg.search
    space = cfg.space()
    params = {
        k: v
        for k, v in vars(s).items()
        if k not in ("strategy", "objective", "direction", "ordered")
    }
    strategy = make_strategy(s.strategy, space, s.direction, cfg.run.seed, **params)
    problem = _problem(cfg, spec, run)
    keeper = ModelKeeper(run, cfg.run.keep_models, s.direction)
    bar = Progress(s.budget or strategy.expected(), enabled=not quiet, direction=s.direction)
    seen: list[dict[str, Any]] = []

    def say(line: str, always: bool = True) -> None:
        run.log(line)
        if not quiet and (always or verbose):
            bar.write(line)

    def close_generations(record: dict[str, Any] | None) -> None:
        """A line and fresh plots for each generation that ``record`` shows to be complete."""
        done = [r["generation"] for r in seen]
        last = max(done) if done else None
        if last is None or (record is not None and record["generation"] <= last):
            return
        row = next(g for g in generations(seen, s.direction) if g["generation"] == last)
        best = "-" if row["best"] is None else f"{row['best']:.4f}"
        mean = "-" if row["mean"] is None else f"{row['mean']:.4f}"
        say(
            f"generation {last}: best {best}, mean {mean}, diversity {row['diversity']:.2f}, "
            f"{row['evaluations']} evaluated, {row['failed']} failed"
        )
        draw(seen, s.direction, run.plots, s.objective)

    def on_record(record: dict[str, Any]) -> None:
        run.append(record)
        close_generations(record)
        seen.append(record)
        if keeper.offer(record):
            say(f"new best {record['fitness']:.4f}: {_genes(record['genes'])}")
        if record["status"] not in ("ok", "cached"):
            say(f"genome {record['id']} {record['status']}: {record['reason']}")
        say(_evaluation_line(record), always=False)
        bar.update(record)

    def on_replay(record: dict[str, Any]) -> None:
        keeper.offer(record, export=False)
        seen.append(record)
        bar.update(record)

    runner = Runner(
        strategy,
        problem,
        executor,
        workers=1 if isinstance(executor, InlineExecutor) else cfg.run.workers,
        seed=cfg.run.seed,
        objective=s.objective,
        budget=s.budget,
        ordered=s.ordered,
        timeout=cfg.run.timeout,
        retries_on_death=cfg.run.retries_on_death,
        retries_on_failure=cfg.run.retries_on_failure,
        max_failure_share=cfg.run.max_failure_share,
        renew=renew,
        checkpoint_every=cfg.run.checkpoint_every,
        on_record=on_record,
        on_replay=on_replay,
        on_checkpoint=run.write_checkpoint,
    )
    try:
        if resuming:
            restore(runner, run, more, say)
            keeper.export()
        outcome = runner.run()
        if seen:
            generation_end = {"generation": max(r["generation"] for r in seen) + 1}
            close_generations(generation_end)
        say(f"stopped: {outcome.stop_reason}")
        return outcome
    finally:
        bar.close()
        run.close()


def _problem(cfg: configuration.Config, spec: DataSpec, run: RunDir) -> Any:
    from evolve.training import KerasProblem

    return KerasProblem(
        spec,
        epochs=cfg.training.epochs,
        batch_size=cfg.training.batch_size,
        patience=cfg.training.patience,
        optimizer=cfg.training.optimizer,
        model_dir=str(run.models.resolve()),
        timeout=cfg.run.timeout,
    )


def _evaluation_line(record: dict[str, Any]) -> str:
    fitness = "-" if record["fitness"] is None else f"{record['fitness']:.4f}"
    seconds = record.get("seconds") or 0.0
    return (
        f"#{record['index']} gen {record['generation']} {record['id']} {record['status']} "
        f"{fitness} in {seconds:.1f} s: {_genes(record['genes'])}"
    )


def _in_worker(renew: Any, fn: Any, *args: Any) -> Any:
    """Run ``fn`` in a worker; once more on a fresh pool if the worker dies; None if it dies
    again (the run's results are already safe on disk)."""
    for attempt in range(2):
        try:
            return renew().submit(fn, *args).result()
        except Exception as exc:
            if not is_worker_death(exc) or attempt:
                print(f"warning: {fn.__name__} failed: {one_line(exc)}", file=sys.stderr)
                return None
    return None


def report(
    outcome: Outcome, cfg: configuration.Config, spec: DataSpec, run: RunDir, renew: Any
) -> int:
    """Score the best model on the test split, write summary.json and print the summary."""
    from evolve.training import retrain_and_test, test_metrics

    best = outcome.best
    summary: dict[str, Any] = {
        "stop_reason": outcome.stop_reason,
        "evaluations": len(outcome.records),
        "trained": outcome.trained,
        "cached": outcome.cached,
        "failed": outcome.failed,
        "best": None,
    }
    if best is None:
        run.write_summary(summary)
        print(
            f"no genome trained successfully ({outcome.failed} failed); see {run.history}",
            file=sys.stderr,
        )
        return 1
    test: dict[str, Any] = {}
    model = run.best / "model.keras"
    lineage = [
        {k: r.get(k) for k in ("id", "generation", "fitness", "origin", "parents")}
        for r in inspection_lineage(outcome.records, best["id"])
    ]
    if model.exists():
        test = _in_worker(renew, test_metrics, spec, str(model)) or {}
    if cfg.training.final_epochs:
        final = _in_worker(
            renew, retrain_and_test, _problem(cfg, spec, run), best["genes"], best["seed"],
            cfg.training.final_epochs, str((run.best / "model.final.keras").resolve()),
        )  # fmt: skip
        if final is not None:
            test["final"] = final
    run.write_best(best, {**test, "lineage": lineage})
    summary["best"] = {"id": best["id"], "genes": best["genes"], "fitness": best["fitness"], **test}
    run.write_summary(summary)
    metrics = best["metrics"]
    print(f"best genome {best['id']} (generation {best['generation']}): {_genes(best['genes'])}")
    line = f"  validation accuracy {metrics.get('val_accuracy', best['fitness']):.4f}"
    if "test_accuracy" in test:
        line += f"   test accuracy {test['test_accuracy']:.4f}"
    if "params" in metrics:
        line += f"   parameters {metrics['params']:,}"
    print(line)
    if "final" in test:
        final = test["final"]
        print(
            f"  retrained on train + validation for {final['epochs']} epochs: "
            f"test accuracy {final['test_accuracy']:.4f} (best/model.final.keras)"
        )
    counts = f"{outcome.trained} trained, {outcome.cached} cached, {outcome.failed} failed"
    print(f"  {len(outcome.records)} evaluations ({counts}); stopped: {outcome.stop_reason}")
    print(f"  results: {run.path}")
    if outcome.aborted:
        print(f"error: {outcome.stop_reason}", file=sys.stderr)
        return 1
    return 0


def _genes(genes: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in genes.items())
