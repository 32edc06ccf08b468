"""The command line: ``run_evolution.py`` (or ``keras-evolve``) ``[run|resume|inspect|export]``.

Argument parsing and printing only; ``evolve.session`` wires the run. Bad input (config, genes,
dataset, run directory) ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from evolve import session
from evolve.app import naming
from evolve.app.flags import overrides
from evolve.app.run_report import report
from evolve.data import DatasetError
from evolve.engine.failures import EnvironmentFault, StrategyError
from evolve.rundir.store import RunDir, RunDirError
from evolve.search.registry import SettingError
from evolve.settings import config as configuration
from evolve.settings.config import ConfigError
from evolve.training.saved_models import ModelLoadError
from genomes.genes import GeneError

PROG = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "run_evolution.py"
DEFAULT_CONFIG = resources.files("evolve.app") / "default.toml"
USER_ERRORS = (
    session.SessionError, ConfigError, GeneError, DatasetError, RunDirError, SettingError,
    ModelLoadError,
)  # fmt: skip


class Parser(argparse.ArgumentParser):
    """argparse, with its mistakes said in one line like every other error (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Evolve Keras network architectures and hyper-parameters. "
        "With no command, runs the default evolution on the digits dataset.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="start a new run",
        description="Start a new run. Flags override the config file's values.",
    )  # fmt: skip
    run.add_argument("--config", type=Path, help="TOML config (default: the packaged default.toml)")
    run.add_argument("--out", type=Path, help="run directory (default: results/<run name>)")
    for flag, (_, kind, text) in overrides().items():
        run.add_argument(f"--{flag.replace('_', '-')}", dest=flag, type=kind, help=text)
    run.add_argument(
        "--tensorboard", action="store_true",
        help="log each genome's curves and genes for TensorBoard under RUN_DIR/tensorboard "
        "(pip install tensorboard)",
    )  # fmt: skip
    resume = commands.add_parser(
        "resume",
        help="continue a run after a crash, a kill or Ctrl-C, or extend a finished one",
        description="Continue RUN_DIR where it stopped: finished evaluations are read back from "
        "its history and never trained again; those in flight when it stopped run again.",
    )
    resume.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    resume.add_argument("--generations", type=int, default=0, help="add N more generations")
    resume.add_argument(
        "--retry-failed",
        action="store_true",
        help="train again the genomes recorded as died or timeout (the environment's doing?)",
    )
    for command in (run, resume):
        command.add_argument("--quiet", action="store_true", help="no progress bar, no lines")
        command.add_argument("--verbose", action="store_true", help="a line per evaluation")
    inspect = commands.add_parser(
        "inspect",
        help="show a run: best genome, leaderboard, generations, lineage, failures",
        description="Show what a run found. Reads the run directory only.",
    )
    inspect.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    inspect.add_argument("--top", type=_positive, default=10, help="leaderboard size (default 10)")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.add_argument(
        "--evaluate", action="store_true", help="score the exported model on the test split"
    )
    inspect.add_argument("--no-summary", action="store_true", help="skip the Keras summary")
    inspect.add_argument(
        "--plots", action="store_true",
        help="draw every plot into RUN_DIR/plots (importance, slices, parallel, curves, ...)",
    )  # fmt: skip
    export = commands.add_parser(
        "export",
        help="export the best model for serving",
        description="Export RUN_DIR/best/model.keras as a .keras file or a TensorFlow SavedModel.",
    )
    export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    export.add_argument("--format", choices=("keras", "savedmodel"), default="keras")
    export.add_argument("--out", type=Path, help="target (default: RUN_DIR/export/...)")
    report = commands.add_parser(
        "report",
        help="write RUN_DIR/report.html: one self-contained page of the run, plots included",
        description="Write RUN_DIR/report.html: summary, best genome and its test score, "
        "leaderboard, gene importance, generations, failures, config and every plot, in one "
        "HTML file (no other file, no network). Reads the run directory only.",
    )
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    with contextlib.suppress(ValueError):  # (only the main thread may set a handler)
        signal.signal(signal.SIGTERM, _interrupt)  # a `kill` ends a run as Ctrl-C does
        signal.signal(signal.SIGINT, _interrupt)
    try:
        if args.command in ("inspect", "export", "report"):
            from evolve.app import commands

            return getattr(commands, f"{args.command}_command")(args)
        return resume_command(args) if args.command == "resume" else run_command(args)
    except USER_ERRORS as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except StrategyError as exc:  # a strategy's bug: the run stops, what finished is kept
        where = _run_dir(args)
        line = f"error: {exc}" + (f"; finished evaluations are kept: fix it, then "
                                  f"{PROG} resume {where}" if where is not None else "")
        print(line, file=sys.stderr)
        _log_stop(where, line)
        return 1
    except BrokenPipeError:  # the reader went away (inspect | head): say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the machine's fault: the disk, a permission, a mount
        where = _run_dir(args)
        begun = where is None or (where / "config.toml").exists()
        line = f"error: {_machine_fault(exc, args.command, begun)}"
        print(line, file=sys.stderr)
        _log_stop(where, line)
        return 1
    except KeyboardInterrupt:
        where = _run_dir(args)
        if args.command == "run" and where is not None and not (where / "config.toml").exists():
            print("interrupted before the run began: nothing to resume; run it again",
                  file=sys.stderr)  # fmt: skip
            return 130
        print(
            f"interrupted: finished evaluations are kept; continue with "
            f"{PROG} resume {where or 'RUN_DIR'}",
            file=sys.stderr,
        )
        return 130


def _run_dir(args: argparse.Namespace) -> Path | None:
    """The run directory the command works on, once it is known."""
    launch = getattr(args, "launch", None)
    where = getattr(args, "run_dir", None) or getattr(launch, "run_dir", None)
    return Path(where) if where is not None else None


def _log_stop(where: Path | None, line: str) -> None:
    """Add the line that ended a run to its ``run.log`` too, when that can be written."""
    if where is None or not (where / "run.log").exists():
        return
    with contextlib.suppress(OSError):
        RunDir(where).log(line)


def _machine_fault(exc: OSError, command: str, begun: bool = True) -> str:
    """One line for an ``OSError``: what failed, on which file, and what is kept (``begun``:
    whether the run got as far as its config, so that there is something to resume)."""
    if isinstance(exc, EnvironmentFault):
        return str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    line = f"{exc.strerror or exc}{where}"
    if command == "run" and not begun:
        line += "; fix it (free space, permissions), then run again: nothing had started"
    elif command in ("run", "resume"):
        line += "; fix it (free space, permissions), then resume: the history is intact"
    return line


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _interrupt(signum: int, frame: Any) -> None:
    """The first Ctrl-C or ``kill``: stop the run as Ctrl-C does. Later ones are ignored while
    it shuts down (within seconds), so a second signal cannot break its clean-up with a
    traceback."""
    for kind in (signal.SIGINT, signal.SIGTERM):
        signal.signal(kind, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_command(args: argparse.Namespace) -> int:
    chosen = {
        key: getattr(args, flag)
        for flag, (key, _, _) in overrides().items()
        if getattr(args, flag) is not None
    }
    if args.tensorboard:
        chosen["run.tensorboard"] = True
    cfg = configuration.load(args.config or str(DEFAULT_CONFIG), chosen)
    if cfg.run.name:
        naming.check_name(cfg.run.name)
    else:
        what = cfg.data.dataset if cfg.run.keras else cfg.run.fitness.rpartition(":")[2]
        cfg.run.name = naming.default_name(cfg.search.strategy, what)
    out = args.out or Path("results") / cfg.run.name
    args.launch = launch = session.Launch(quiet=args.quiet, verbose=args.verbose)
    outcome = session.start(cfg, out, launch, unique=args.out is None)
    return report(outcome, outcome.run_dir or out, cfg)


def resume_command(args: argparse.Namespace) -> int:
    launch = session.Launch(quiet=args.quiet, verbose=args.verbose)
    outcome = session.resume(
        args.run_dir, launch, args.generations, retry_failed=args.retry_failed
    )
    return report(outcome, args.run_dir, session.read_config(RunDir(args.run_dir)))
