"""``Session``: one run being wired (workers, GPUs, the Keras problem, the strategy, the
observers) and run."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from evolve.engine.failures import FailurePolicy
from evolve.engine.loop import Loop
from evolve.engine.observers import Callback, Observers
from evolve.engine.records import Outcome
from evolve.execution import (
    backend,
    check_sendable,
)
from evolve.execution.trial import accepts
from evolve.rundir.journal import Journal
from evolve.rundir.keeper import ModelKeeper
from evolve.rundir.mending import set_aside
from evolve.rundir.store import RunDir
from evolve.search.base import Strategy
from evolve.search.registry import make_strategy
from evolve.search.schedulers import FinalPick
from evolve.session.checks import (
    check_tensorboard,
    limit_notes,
    schedule,
    schedule_notes,
)
from evolve.session.workers import Workers
from evolve.settings import config as configuration
from evolve.settings.config import KERAS_FITNESS, PYTHON_BUILD, Config
from evolve.settings.fitness import SessionError, fitness_path
from evolve.settings.resuming import Saved, fingerprint, restore_run
from evolve.view.monitor import Monitor
from evolve.view.progress import Console
from evolve.view.summary import write_outcome
from genomes.families import FAMILIES
from genomes.families.user import code_digest
from genomes.space import SearchSpace

if TYPE_CHECKING:
    from evolve.session.launch import Launch


class Session:
    """One run being wired and run; see ``start`` and ``resume``."""

    def __init__(self, cfg: Config, run: RunDir | None, launch: Launch) -> None:
        self.cfg, self.rundir, self.launch = cfg, run, launch
        if launch.fitness is not None and cfg.run.fitness == KERAS_FITNESS:
            cfg.run.fitness = fitness_path(launch.fitness)
        if launch.build is not None and cfg.model.family in FAMILIES:  # a new run
            cfg.model.family = fitness_path(launch.build)
            if cfg.model.family == PYTHON_BUILD:
                cfg.model.build_code = code_digest(launch.build)
        self.data: dict[str, Any] | None = None
        self.problem: Any = None
        self.workers = Workers(cfg, run, launch.executor)
        self.executor: Executor | None = None
        self._space: SearchSpace | None = None
        self.saved: Saved | None = None
        self.strategy: Strategy | None = None
        """A resumed run's checkpoint and journal (``resume`` reads them before anything)."""

    def prepare(self) -> None:
        """The one resolve step: workers and GPUs placed, the Keras problem built and its
        data described (the objective and its direction resolved from the task), then the
        config frozen (``Config.freeze``) and the strategy built; raises ``SessionError`` (or a
        config, dataset or run-directory error) before anything trains."""
        cfg, run = self.cfg, self.rundir
        if cfg.run.tensorboard:
            check_tensorboard(cfg, run)
        if self.launch.executor is None:
            self.workers.place()
        if cfg.run.keras and run is not None:
            self._check_data(run)
        if self.launch.executor is None:
            self.workers.check()
        if cfg.run.keras:
            self._prepare_keras()
        self.launch.fitness = self.launch.fitness or self.problem
        if cfg.search.fidelity and not accepts(self.launch.fitness, "epochs"):
            name = getattr(self.launch.fitness, "__name__", cfg.run.fitness)
            raise configuration.ConfigError(
                f"search.fidelity = {cfg.search.fidelity!r}: the fitness {name}() takes no "
                "epochs= keyword, so it cannot train a genome to a rung (add epochs=0 and "
                "initial_epoch=0 keywords; see the README)"
            )
        try:
            check_sendable(self.launch.fitness, cfg.run.backend, self.launch.executor)
        except ValueError as exc:
            raise SessionError(str(exc)) from None
        cfg.freeze()  # resolved: workers, threads, GPUs, the objective and its direction
        self.strategy = self.make_strategy()
        self.executor = self.workers.fresh()  # a backend that cannot start fails here

    def _check_data(self, run: RunDir) -> None:
        """Record a fingerprint of the data files a run trains on; on resume, refuse data that
        changed since (``DatasetError`` naming what changed)."""
        from evolve.data import DatasetError
        from evolve.data.fingerprint import changes, fingerprint

        saved = run.read_json(run.data_fingerprint)
        current = fingerprint(self.cfg.data_spec(run.path).name, saved)
        if self.saved is not None and saved is not None:
            changed = changes(saved, current)
            if changed:
                raise DatasetError(
                    f"{changed} since the run started; put the data back as it was, or start "
                    "a new run on the new data"
                )
        if current is not None:
            run.write_json(run.data_fingerprint, current)

    def space(self) -> SearchSpace:
        """The run's search space: given in Python, or the config's (with the family's rule)."""
        if self._space is None:
            self._space = self.launch.space or self.cfg.space(self.launch.build)
        return self._space

    def _prepare_keras(self) -> None:
        """The Keras problem, and its data described (see ``keras_run.wire``)."""
        from evolve.training.keras_run import wire

        self.problem, self.data = wire(self.cfg, self.rundir, self.space(), self.launch.build,
                                       self.workers.call)  # fmt: skip

    def make_strategy(self) -> Strategy:
        """The run's strategy with its schedulers (``schedule``), from the saved state when it
        resumes; ``SettingError`` (one line) when it cannot be built."""
        s = self.cfg.search
        strategy = make_strategy(
            s.strategy, self.space(), s.direction, self.cfg.run.seed, **s.strategy_params()
        )
        return schedule(strategy, self.cfg, self.saved.state if self.saved is not None else None)

    def run(self, resuming: bool = False, more: int = 0) -> Outcome:
        """Run (or continue) the search; returns its ``Outcome`` with the final report."""
        cfg, run, s = self.cfg, self.rundir, self.cfg.search
        space = self.space()
        strategy = self.strategy if self.strategy is not None else self.make_strategy()
        console = Console(
            s.budget or strategy.expected(), s.direction, quiet=self.launch.quiet,
            verbose=self.launch.verbose, log=run.log if run else None,
            deferred=self.saved is not None and run is not None,
        )  # fmt: skip
        keeper = None
        if run is not None and cfg.run.keras:
            reserve = strategy.top if isinstance(strategy, FinalPick) else 0
            keeper = ModelKeeper(
                run, cfg.run.keep_models, s.direction, hold=bool(s.fidelity), reserve=reserve
            )
        limited = cfg.run.backend == "loky" and self.launch.executor is None
        monitor = Monitor(console, s.direction, s.objective, run, keeper is not None,
                          s.elites(), space if cfg.run.keras else None,
                          cfg.run.max_worker_rss_mb if limited else 0)  # fmt: skip
        observers = self.observers(keeper, monitor)
        assert self.launch.fitness is not None and self.executor is not None  # prepare() set them
        loop = Loop(
            strategy, self.launch.fitness, self.executor,
            workers=cfg.run.workers, seed=cfg.run.seed, objective=s.objective, budget=s.budget,
            ordered=s.ordered, target=s.target,
            policy=FailurePolicy(cfg.run.timeout, cfg.run.retries_on_death,
                                 cfg.run.retries_on_failure, cfg.run.max_failure_share),
            renew=self.workers.fresh if self.launch.executor is None else None,
            stop=self.workers.stop if self.launch.executor is None else None,
            checkpoint_every=cfg.run.checkpoint_every,
            on_record=observers.on_record,
            on_replay=observers.on_replay, on_checkpoint=self._checkpointer(space),
        )  # fmt: skip
        try:
            self._announce(console, resuming)
            for note in space.notes:
                console.warn(f"warning: {note}")
            for note in [*schedule_notes(strategy, cfg), *limit_notes(cfg)]:
                console.warn(f"warning: {note}")
            if self.saved is not None and run is not None:
                restore_run(loop, run, self.saved, more, console)
                console.progress.set_total(s.budget or strategy.expected())
                console.progress.show()
                if keeper is not None:
                    keeper.export()
            outcome = loop.run()
            full = strategy.full_fidelity
            if full and outcome.best is not None and outcome.best.fidelity < full:
                outcome.stop_reason += (
                    f"; no genome reached the top rung ({full} epochs): the best was trained "
                    f"{outcome.best.fidelity} epochs"
                )
            if run is not None:
                set_aside(run, loop.ledger.stale)
            observers.on_finish(outcome)
            console.close()
            if run is not None:
                final_epochs = cfg.training.final_epochs
                write_outcome(run, outcome, self.problem, final_epochs, self.workers.fresh,
                              self.workers.stop)  # fmt: skip
        except KeyboardInterrupt:
            console.log(f"interrupted: finished evaluations are kept; resume {run.path} to "
                        "continue" if run else "interrupted")  # fmt: skip
            raise
        finally:
            console.close()
            if loop.in_flight and self.launch.executor is None:  # interrupted, or stopped:
                self.workers.stop(loop.executor)  # what runs is trained again on resume; never wait
            if run is not None:
                run.close()
            if self.launch.executor is None:
                release = getattr(backend(cfg.run.backend), "release", None)
                if release is not None:
                    release()
        outcome.run_dir = run.path if run is not None else None
        return outcome

    def _checkpointer(self, space: SearchSpace) -> Callable[[dict[str, Any]], None] | None:
        """Saves the loop's state with what it depends on in the config (checked on resume)."""
        run = self.rundir
        if run is None:
            return None
        saved = fingerprint(self.cfg, space)
        return lambda state: run.write_checkpoint({**state, "config": saved})

    def observers(self, keeper: ModelKeeper | None, monitor: Monitor) -> Observers:
        """Who is told of each record, in order: the journal (a record is on disk first),
        TensorBoard's failed sessions, the model keeper, the console, then the user's
        callback and observers."""
        found = Observers()
        if self.rundir is not None:
            found.add(Journal(self.rundir))
            if self.cfg.run.tensorboard:
                from evolve.training.tensorboard_log import FailedSessions

                found.add(FailedSessions(self.rundir))
        found.add(keeper)
        found.add(monitor)
        if self.launch.on_record is not None:
            found.add(Callback(self.launch.on_record))
        for observer in self.launch.observers:
            found.add(observer)
        return found

    def _announce(self, console: Console, resuming: bool) -> None:
        cfg, run = self.cfg, self.rundir
        if run is None:
            return
        where = f" on GPUs {','.join(sorted(set(self.workers.gpus)))}" if self.workers.gpus else ""
        what = cfg.data.dataset if cfg.run.keras else cfg.run.fitness
        d = self.data
        task = (f"{d['num_classes']} classes" if d.get("num_classes") else d["task"]) if d else ""
        sizes = (
            f" ({d['train']} train / {d['validation']} validation / {d['test']} test, "
            f"{task})" if d else ""
        )  # fmt: skip
        console.say(
            f"{'resuming' if resuming else 'run'} {run.path}: {cfg.search.strategy} on {what}"
            f"{sizes}, {cfg.run.workers} worker(s){where}"
        )
        soft = self.launch.executor is None and not backend(cfg.run.backend).HARD_TIMEOUT
        if cfg.run.timeout and soft:
            console.warn(
                f"note: on the {cfg.run.backend} backend the {cfg.run.timeout:g} s timeout "
                "is soft: training stops at the next batch, other code runs on"
            )
